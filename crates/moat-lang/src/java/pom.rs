//! `pom.xml`: the project and its direct dependencies, from this one file only.
//!
//! The XML is read into a small element tree within limits (size, depth, element count:
//! `crate::xml`); what cannot be read becomes one `parse-error` with the line it was met
//! at. Dependencies whose version needs what this file does not hold (a parent pom, a
//! range, the network) are skipped and counted in one `unsupported` diagnostic.
//!
//! The project is `application: true`. A dependency's `scope` (its own, else the one
//! `dependencyManagement` gives) goes to `metadata["scope"]`; `test` and `provided` are not
//! runtime dependencies (the tests need them; the runtime supplies them) and are marked
//! `dev: true`. `<optional>true</optional>` gives `metadata["optional"] = "true"`.

use std::collections::BTreeMap;

use moat_model::{Code, Diagnostic};

use crate::xml::{self, El};
use crate::{Ecosystem, LangPackage, LangParsed, read};

/// Largest pom read.
const MAX_BYTES: usize = 8 << 20;
/// Most `${...}` substitution rounds for one value (properties naming properties).
const MAX_EXPANSIONS: usize = 16;

/// What `${...}` can refer to.
struct Scope<'a> {
    project: &'a El,
    properties: BTreeMap<String, String>,
}

impl Scope<'_> {
    fn builtin(&self, name: &str) -> Option<String> {
        let p = self.project;
        let parent = p.child("parent");
        let key = name
            .strip_prefix("project.")
            .or_else(|| name.strip_prefix("pom."))?;
        let v = match key {
            "version" => p
                .text_of("version")
                .or_else(|| parent.and_then(|x| x.text_of("version"))),
            "groupId" => p
                .text_of("groupId")
                .or_else(|| parent.and_then(|x| x.text_of("groupId"))),
            "artifactId" => p.text_of("artifactId"),
            "parent.version" => parent.and_then(|x| x.text_of("version")),
            "parent.groupId" => parent.and_then(|x| x.text_of("groupId")),
            "parent.artifactId" => parent.and_then(|x| x.text_of("artifactId")),
            _ => None,
        };
        v.map(str::to_string)
    }

    /// Expands every `${name}` in `s`; `None` when one cannot be resolved.
    fn resolve(&self, s: &str) -> Option<String> {
        let mut cur = s.trim().to_string();
        for _ in 0..MAX_EXPANSIONS {
            let Some(start) = cur.find("${") else {
                return Some(cur);
            };
            let end = start + cur[start..].find('}')?;
            let name = &cur[start + 2..end];
            let value = self
                .builtin(name)
                .or_else(|| self.properties.get(name).cloned())?;
            cur = format!("{}{}{}", &cur[..start], value.trim(), &cur[end + 1..]);
        }
        if cur.contains("${") { None } else { Some(cur) }
    }
}

/// A version requirement that names one version: literal, or `[1.2.3]`. Ranges and
/// anything else are `None`.
fn single_version(v: &str) -> Option<String> {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']'))
        && !inner.contains(',')
        && !inner.trim().is_empty()
    {
        return Some(inner.trim().to_string());
    }
    if v.is_empty() || v.contains(['[', ']', '(', ')', ',']) {
        return None;
    }
    Some(v.to_string())
}

/// Parses one `pom.xml`: the project (`application: true`) and its `<dependencies>`.
pub fn parse_pom(_path: &str, bytes: &[u8]) -> LangParsed {
    if let Err(d) = read::check_size(bytes, MAX_BYTES) {
        return d.into();
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let project = match xml::parse(text) {
        Ok(p) => p,
        Err(e) => return e.diagnostic(text).into(),
    };
    if project.name != "project" {
        let msg = format!("root element is <{}>, not <project>", project.name);
        return Diagnostic::parse(msg).into();
    }
    let mut out = LangParsed::default();
    let mut properties = BTreeMap::new();
    if let Some(props) = project.child("properties") {
        for p in &props.children {
            properties.insert(p.name.clone(), p.text.trim().to_string());
        }
    }
    let scope = Scope {
        project: &project,
        properties,
    };

    // The project itself.
    let group = scope
        .builtin("project.groupId")
        .and_then(|g| scope.resolve(&g));
    let artifact = scope
        .builtin("project.artifactId")
        .and_then(|a| scope.resolve(&a));
    let version = scope
        .builtin("project.version")
        .and_then(|v| scope.resolve(&v));
    match (&group, &artifact, &version) {
        (Some(g), Some(a), Some(v)) => {
            let mut p = LangPackage::new(Ecosystem::Maven, format!("{g}:{a}"), v.clone());
            p.application = true;
            if let Some(packaging) = project.text_of("packaging") {
                p.metadata.insert("packaging".into(), packaging.into());
            }
            out.packages.push(p);
        }
        _ => out.warn(Diagnostic::new(
            Code::Unsupported,
            "the project's own groupId:artifactId:version cannot be resolved from this file",
        )),
    }

    // Versions and scopes managed in this same pom.
    let mut managed: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    if let Some(deps) = project
        .child("dependencyManagement")
        .and_then(|m| m.child("dependencies"))
    {
        for d in deps.children("dependency") {
            let (Some(g), Some(a)) = (
                d.text_of("groupId").and_then(|g| scope.resolve(g)),
                d.text_of("artifactId").and_then(|a| scope.resolve(a)),
            ) else {
                continue;
            };
            managed.entry(format!("{g}:{a}")).or_insert((
                d.text_of("version").map(str::to_string),
                d.text_of("scope").map(str::to_string),
            ));
        }
    }

    let mut skipped: Vec<String> = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for d in project
        .child("dependencies")
        .into_iter()
        .flat_map(|ds| ds.children("dependency"))
    {
        let (Some(g), Some(a)) = (
            d.text_of("groupId").and_then(|g| scope.resolve(g)),
            d.text_of("artifactId").and_then(|a| scope.resolve(a)),
        ) else {
            skipped.push(format!(
                "{}:{}",
                d.text_of("groupId").unwrap_or("?"),
                d.text_of("artifactId").unwrap_or("?")
            ));
            continue;
        };
        let name = format!("{g}:{a}");
        let managed_entry = managed.get(&name);
        let raw_version = d
            .text_of("version")
            .map(str::to_string)
            .or_else(|| managed_entry.and_then(|m| m.0.clone()));
        let Some(version) = raw_version
            .as_deref()
            .and_then(|v| scope.resolve(v))
            .and_then(|v| single_version(&v))
        else {
            skipped.push(name);
            continue;
        };
        let dep_scope = d
            .text_of("scope")
            .map(str::to_string)
            .or_else(|| managed_entry.and_then(|m| m.1.clone()));
        if seen.iter().any(|(n, v)| *n == name && *v == version) {
            continue;
        }
        seen.push((name.clone(), version.clone()));
        let mut p = LangPackage::new(Ecosystem::Maven, name, version);
        if let Some(s) = dep_scope.as_deref().and_then(|s| scope.resolve(s)) {
            // `test` is for the tests alone; `provided` is supplied by the runtime (a
            // servlet container, the JDK), not shipped with the project.
            p.dev = matches!(s.as_str(), "test" | "provided");
            p.metadata.insert("scope".into(), s.into());
        }
        if d.text_of("optional")
            .and_then(|o| scope.resolve(o))
            .as_deref()
            == Some("true")
        {
            p.metadata.insert("optional".into(), "true".into());
        }
        out.packages.push(p);
    }
    out.warnings.extend(read::left_out(
        "dependencies skipped, their version needs a parent pom, a range or the network",
        &skipped,
    ));
    out
}
