//! [`parse_pipfile_lock`]: `default` and `develop` (dev) objects; `version` is `==V`.
//! A name in both sections is reported once, as non-dev. Entries without a version (git,
//! path) are skipped.
//!
//! Invalid JSON is one `parse-error` with its line.

use std::collections::BTreeSet;

use super::{MAX_PACKAGES, pkg};
use crate::{LangParsed, read};

/// Parses `Pipfile.lock` (JSON).
pub fn parse_pipfile_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json(bytes) {
        Ok(d) => d,
        Err(d) => return d.into(),
    };
    let mut out = LangParsed::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (section, dev) in [("default", false), ("develop", true)] {
        let Some(obj) = doc.get(section).and_then(|s| s.as_object()) else {
            continue;
        };
        for (name, info) in obj {
            if out.packages.len() >= MAX_PACKAGES {
                out.warn(read::too_many("packages"));
                return out;
            }
            let Some(v) = info.get("version").and_then(|v| v.as_str()) else {
                continue; // git / path / editable entries carry no version
            };
            let v = v
                .trim()
                .strip_prefix("===")
                .or_else(|| v.trim().strip_prefix("=="))
                .unwrap_or(v.trim());
            if v.is_empty() || !seen.insert(name.clone()) {
                continue;
            }
            let mut p = pkg(name, v);
            p.dev = dev;
            if let Some(m) = info.get("markers").and_then(|m| m.as_str()) {
                p.metadata.insert("marker".into(), m.to_string().into());
            }
            out.packages.push(p);
        }
    }
    out
}
