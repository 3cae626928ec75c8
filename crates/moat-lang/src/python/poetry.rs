//! [`parse_poetry_lock`]: `[[package]]`; dev when `category = "dev"` or when `groups`
//! is present without `"main"`. Dependencies from the `dependencies` table keys.
//!
//! Invalid TOML is one `parse-error` with its line; a `[[package]]` without a name or version
//! is a `parse-error` and is skipped.

use moat_model::Diagnostic;

use super::{MAX_PACKAGES, pkg, toml_packages, toml_str};
use crate::{LangParsed, read};

/// Parses `poetry.lock` (lock versions 1.x and 2.x).
pub fn parse_poetry_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    read::toml(bytes).map_or_else(LangParsed::from, |doc| poetry(&doc))
}

fn poetry(doc: &toml::Table) -> LangParsed {
    let mut out = LangParsed::default();
    for entry in toml_packages(doc) {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("packages"));
            break;
        }
        let Some(t) = entry.as_table() else { continue };
        let (Some(name), Some(version)) = (toml_str(t, "name"), toml_str(t, "version")) else {
            out.warn(Diagnostic::parse("[[package]] without name or version"));
            continue;
        };
        let mut p = pkg(name, version);
        let category_dev = toml_str(t, "category") == Some("dev");
        let groups_dev = t
            .get("groups")
            .and_then(|g| g.as_array())
            .is_some_and(|g| !g.is_empty() && !g.iter().any(|x| x.as_str() == Some("main")));
        p.dev = category_dev || groups_dev;
        if let Some(deps) = t.get("dependencies").and_then(|d| d.as_table()) {
            p.depends = deps.keys().cloned().collect();
        }
        if t.get("optional").and_then(|o| o.as_bool()) == Some(true) {
            p.metadata.insert("optional".into(), "true".into());
        }
        if let Some(src) = t.get("source").and_then(|s| s.as_table()) {
            if let Some(ty) = toml_str(src, "type") {
                p.metadata.insert("source".into(), ty.to_string().into());
            }
            if let Some(url) = toml_str(src, "url") {
                p.metadata
                    .insert("source_url".into(), url.to_string().into());
            }
        }
        out.packages.push(p);
    }
    out
}
