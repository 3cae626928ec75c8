//! [`parse_pylock`]: `pylock.toml` and `pylock.<name>.toml`, the standard lock file of
//! PEP 751 (`lock-version = "1.0"`).
//!
//! Every `[[packages]]` table with a `name` and a `version` is a package; `dependencies`
//! (tables naming other packages) give `depends`, and `index`, `marker` go to metadata. A
//! package installed from a `directory` (the project itself, usually `editable`) is
//! `application: true`, with its version when it has one (else empty). A package from `vcs`
//! or `archive` without a version has nothing to match and is left out.
//!
//! Development packages: PEP 751 marks packages of dependency groups with a marker on
//! `dependency_groups`. A package whose marker is only `'<group>' in dependency_groups`
//! clauses joined by `or`, none of them a group of `default-groups`, is installed only when
//! such a group is asked for: it is `dev: true`.
//!
//! Invalid TOML is one `parse-error` with its line; a package without a name is a
//! `parse-error` and is skipped.

use moat_model::Diagnostic;

use super::{MAX_PACKAGES, pkg, toml_str};
use crate::{LangParsed, read};

/// Parses a `pylock.toml`.
pub fn parse_pylock(_path: &str, bytes: &[u8]) -> LangParsed {
    read::toml(bytes).map_or_else(LangParsed::from, |doc| pylock(&doc))
}

/// The groups of a marker made only of `'<group>' in dependency_groups` clauses joined by
/// `or`; `None` for any other marker.
fn group_only_marker(marker: &str) -> Option<Vec<String>> {
    let mut groups = Vec::new();
    for clause in marker.split(" or ") {
        let clause = clause
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim();
        let (lhs, rhs) = clause.split_once(" in ")?;
        if rhs.trim() != "dependency_groups" {
            return None;
        }
        let g = lhs.trim();
        let g = g
            .strip_prefix('\'')
            .and_then(|g| g.strip_suffix('\''))
            .or_else(|| g.strip_prefix('"').and_then(|g| g.strip_suffix('"')))?;
        groups.push(g.to_string());
    }
    Some(groups)
}

fn pylock(doc: &toml::Table) -> LangParsed {
    let mut out = LangParsed::default();
    let default_groups: Vec<&str> = doc
        .get("default-groups")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|g| g.as_str()).collect())
        .unwrap_or_default();
    let list = doc
        .get("packages")
        .and_then(|v| v.as_array())
        .map_or(&[][..], Vec::as_slice);
    for (i, entry) in list.iter().enumerate() {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("packages"));
            break;
        }
        let Some(t) = entry.as_table() else {
            out.warn(Diagnostic::parse(format!(
                "[[packages]] #{} is not a table",
                i + 1
            )));
            continue;
        };
        let Some(name) = toml_str(t, "name").filter(|n| !n.is_empty()) else {
            out.warn(Diagnostic::parse(format!(
                "[[packages]] #{} has no name; skipped",
                i + 1
            )));
            continue;
        };
        let version = toml_str(t, "version");
        let directory = t.contains_key("directory");
        if version.is_none() && !directory {
            continue;
        }
        let mut p = pkg(name, version.unwrap_or(""));
        p.application = directory;
        if let Some(deps) = t.get("dependencies").and_then(|d| d.as_array()) {
            for d in deps {
                if let Some(n) = d.as_table().and_then(|d| toml_str(d, "name"))
                    && !p.depends.iter().any(|x| x == n)
                {
                    p.depends.push(n.to_string());
                }
            }
        }
        if let Some(index) = toml_str(t, "index") {
            p.metadata.insert("index".into(), index.to_string().into());
        }
        if let Some(marker) = toml_str(t, "marker") {
            p.dev = group_only_marker(marker)
                .is_some_and(|gs| gs.iter().all(|g| !default_groups.contains(&g.as_str())));
            p.metadata
                .insert("marker".into(), marker.to_string().into());
        }
        out.packages.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_markers() {
        assert_eq!(
            group_only_marker("'dev' in dependency_groups or \"test\" in dependency_groups"),
            Some(vec!["dev".to_string(), "test".to_string()])
        );
        assert_eq!(group_only_marker("python_version < '3.11'"), None);
        assert_eq!(
            group_only_marker("'dev' in dependency_groups and sys_platform == 'linux'"),
            None
        );
    }
}
