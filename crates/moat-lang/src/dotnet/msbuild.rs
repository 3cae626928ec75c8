//! The XML files of NuGet: `packages.config` and central package management's
//! `Directory.Packages.props`.
//!
//! * [`parse_packages_config`]: the `packages.config` of classic .NET Framework projects,
//!   one `<package id version targetFramework developmentDependency/>` per installed
//!   package. `developmentDependency="true"` is `dev: true`; `targetFramework` and
//!   `allowedVersions` go to metadata.
//! * [`parse_central_packages`]: `Directory.Packages.props` pins each package's version for
//!   every project below it: `<PackageVersion Include="Name" Version="1.2.3"/>` (the version
//!   may be a child element), and `<GlobalPackageReference>` for packages added to every
//!   project (`metadata["global"] = "true"`). `$(Property)` references resolve through the
//!   file's own `<PropertyGroup>`s; a `Condition` on the item or its `<ItemGroup>` goes to
//!   `metadata["condition"]`. A version that is a literal (NuGet resolves `1.2.3` to the
//!   lowest match, 1.2.3 itself) or `[1.2.3]` is kept; ranges, floating versions and
//!   unresolved properties are left out and counted in one `unsupported` diagnostic.
//!
//! The XML is read by `crate::xml` (bounded depth and element count, no entity expansion);
//! a file that cannot be read is one `parse-error` with its line, an item without a name or
//! version a `parse-error` naming it.

use std::collections::BTreeMap;

use moat_model::Diagnostic;

use crate::read::{self, MAX_PACKAGES};
use crate::xml;
use crate::{Ecosystem, LangPackage, LangParsed};

/// Largest file read.
const MAX_BYTES: usize = 8 << 20;
/// Most `$(...)` substitution rounds for one value.
const MAX_EXPANSIONS: usize = 16;

/// Parses a `packages.config`.
pub fn parse_packages_config(_path: &str, bytes: &[u8]) -> LangParsed {
    let root = match xml::document(bytes, MAX_BYTES) {
        Ok(r) => r,
        Err(d) => return d.into(),
    };
    if root.name != "packages" {
        return Diagnostic::parse(format!("root element is <{}>, not <packages>", root.name))
            .into();
    }
    let mut out = LangParsed::default();
    for (i, el) in root.children("package").enumerate() {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("packages"));
            break;
        }
        let (Some(id), Some(version)) = (el.attr("id"), el.attr("version")) else {
            out.warn(Diagnostic::parse(format!(
                "<package> #{} without id or version",
                i + 1
            )));
            continue;
        };
        let mut p = LangPackage::new(Ecosystem::NuGet, id, version);
        p.dev = el
            .attr("developmentDependency")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        for (attr, key) in [
            ("targetFramework", "target_framework"),
            ("allowedVersions", "allowed_versions"),
        ] {
            if let Some(v) = el.attr(attr) {
                p.metadata.insert(key.into(), v.to_string().into());
            }
        }
        out.packages.push(p);
    }
    out
}

/// Expands `$(Name)` references from `props`; `None` when one cannot be resolved.
fn expand(s: &str, props: &BTreeMap<String, String>) -> Option<String> {
    let mut cur = s.trim().to_string();
    for _ in 0..MAX_EXPANSIONS {
        let Some(start) = cur.find("$(") else {
            return Some(cur);
        };
        let end = start + cur[start..].find(')')?;
        let value = props.get(&cur[start + 2..end].to_ascii_lowercase())?;
        cur = format!("{}{}{}", &cur[..start], value.trim(), &cur[end + 1..]);
    }
    (!cur.contains("$(")).then_some(cur)
}

/// A version that names one version: a literal (no range or wildcard) or `[v]`.
fn single_version(v: &str) -> Option<&str> {
    let v = v.trim();
    let v = match v.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) if !inner.contains(',') => inner.trim(),
        _ => v,
    };
    (!v.is_empty() && !v.contains(['[', ']', '(', ')', ',', '*', ' '])).then_some(v)
}

/// Parses a `Directory.Packages.props`.
pub fn parse_central_packages(_path: &str, bytes: &[u8]) -> LangParsed {
    let root = match xml::document(bytes, MAX_BYTES) {
        Ok(r) => r,
        Err(d) => return d.into(),
    };
    if root.name != "Project" {
        return Diagnostic::parse(format!("root element is <{}>, not <Project>", root.name)).into();
    }
    // MSBuild property names are case-insensitive; the last definition wins.
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    for group in root.children("PropertyGroup") {
        for p in &group.children {
            props.insert(p.name.to_ascii_lowercase(), p.text.trim().to_string());
        }
    }
    let mut out = LangParsed::default();
    let mut skipped: Vec<String> = Vec::new();
    for group in root.children("ItemGroup") {
        for el in &group.children {
            let global = match el.name.as_str() {
                "PackageVersion" => false,
                "GlobalPackageReference" => true,
                _ => continue,
            };
            if out.packages.len() >= MAX_PACKAGES {
                out.warn(read::too_many("packages"));
                return out;
            }
            let Some(name) = el.attr("Include").or_else(|| el.attr("Update")) else {
                out.warn(Diagnostic::parse(format!("<{}> without Include", el.name)));
                continue;
            };
            let raw = el.attr("Version").or_else(|| el.text_of("Version"));
            let Some(raw) = raw else {
                out.warn(Diagnostic::parse(format!(
                    "<{}> {name} without Version",
                    el.name
                )));
                continue;
            };
            let Some(version) = expand(raw, &props)
                .as_deref()
                .and_then(single_version)
                .map(str::to_string)
            else {
                skipped.push(format!("{name} {raw}"));
                continue;
            };
            let mut p = LangPackage::new(Ecosystem::NuGet, name, version);
            if global {
                p.metadata.insert("global".into(), "true".into());
            }
            let condition = [el.attr("Condition"), group.attr("Condition")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" and ");
            if !condition.is_empty() {
                p.metadata.insert("condition".into(), condition.into());
            }
            out.packages.push(p);
        }
    }
    out.warnings.extend(read::left_out(
        "package versions are ranges, floating or unresolved properties and were left out",
        &skipped,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_properties() {
        let props: BTreeMap<String, String> =
            [("xunitversion".to_string(), "2.6.2".to_string())].into();
        assert_eq!(expand("$(XunitVersion)", &props).as_deref(), Some("2.6.2"));
        assert_eq!(expand("$(Missing)", &props), None);
        assert_eq!(single_version("[13.0.3]"), Some("13.0.3"));
        assert_eq!(single_version("13.0.3"), Some("13.0.3"));
        assert_eq!(single_version("[1.0,2.0)"), None);
        assert_eq!(single_version("6.*"), None);
    }
}
