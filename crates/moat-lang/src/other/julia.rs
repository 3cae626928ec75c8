//! [`parse_julia_manifest`]: Julia's `Manifest.toml` (also `JuliaManifest.toml` and the
//! versioned `Manifest-v1.11.toml`), format 1 (each package name a top-level array of
//! tables) and 2.0 (`manifest_format = "2.0"`, the same under `[deps]`).
//!
//! An entry with a `version` and a source (a registry's `git-tree-sha1`, or `repo-url`) is
//! a package; `uuid`, `git-tree-sha1` and `repo-url` go to metadata, `deps` (a list of
//! names, or a table of name = uuid) to `depends`. Standard libraries (no source: they
//! come with Julia, whose version the 2.0 format records as `julia_version`) and packages
//! under development (`path`) are left out: their versions are not releases to match.
//!
//! Invalid TOML is one `parse-error` with its line; an entry that is not a table is a
//! `parse-error` naming it.

use moat_model::Diagnostic;

use super::MAX_PACKAGES;
use crate::{Ecosystem, LangPackage, LangParsed, read};

/// Largest manifest read.
const MAX_BYTES: usize = 32 << 20;

/// Parses a Julia `Manifest.toml`.
pub fn parse_julia_manifest(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::check_size(bytes, MAX_BYTES).and_then(|()| read::toml(bytes)) {
        Ok(d) => d,
        Err(d) => return d.into(),
    };
    let v2 = doc.contains_key("manifest_format");
    let deps = if v2 {
        match doc.get("deps").and_then(toml::Value::as_table) {
            Some(t) => t,
            None => return LangParsed::default(),
        }
    } else {
        &doc
    };
    let mut out = LangParsed::default();
    for (name, entries) in deps {
        let Some(entries) = entries.as_array() else {
            continue;
        };
        for entry in entries {
            if out.packages.len() >= MAX_PACKAGES {
                out.warn(read::too_many("packages"));
                return out;
            }
            let Some(t) = entry.as_table() else {
                out.warn(Diagnostic::parse(format!("{name}: entry is not a table")));
                continue;
            };
            let text = |k: &str| t.get(k).and_then(toml::Value::as_str);
            let (Some(version), None) = (text("version"), text("path")) else {
                continue;
            };
            if text("git-tree-sha1").is_none() && text("repo-url").is_none() {
                continue;
            }
            let mut p = LangPackage::new(Ecosystem::Julia, name.as_str(), version);
            for (key, meta) in [
                ("uuid", "uuid"),
                ("git-tree-sha1", "git_tree_sha1"),
                ("repo-url", "repo_url"),
            ] {
                if let Some(v) = text(key) {
                    p.metadata.insert(meta.into(), v.to_string().into());
                }
            }
            match t.get("deps") {
                Some(toml::Value::Array(a)) => {
                    p.depends = a
                        .iter()
                        .filter_map(|d| d.as_str().map(str::to_string))
                        .collect();
                }
                Some(toml::Value::Table(d)) => p.depends = d.keys().cloned().collect(),
                _ => {}
            }
            p.depends.sort();
            out.packages.push(p);
        }
    }
    out
}
