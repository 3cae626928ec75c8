//! [`parse_conda_meta`]: a `conda-meta/*.json` record, written by conda (and mamba, pixi)
//! for each package installed into an environment.
//!
//! `name` and `version` make the package; `build`, `build_number`, `subdir` and the
//! channel's short name ([`super::channel_name`]) go to metadata, `license` to licences,
//! the names of `depends` (`python >=3.12,<3.13.0a0` is `python`) to `depends`, and `files`
//! (relative to the environment's prefix, the directory holding `conda-meta/`) to `files`
//! as absolute paths, at most [`MAX_FILES`]. A document that is not a JSON object is one
//! `parse-error` with its line; one without a name or version is a `parse-error`.

use moat_model::Diagnostic;
use serde_json::Value;

use super::{channel_name, pkg};
use crate::{LangParsed, read};

/// Most files listed for one package.
pub const MAX_FILES: usize = 200_000;
/// Largest record read.
const MAX_BYTES: usize = 64 << 20;

/// Parses one `conda-meta/*.json` record.
pub fn parse_conda_meta(path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json_object_within(bytes, MAX_BYTES, "conda-meta record") {
        Ok(d) => d,
        Err(d) => return d.into(),
    };
    let text = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Diagnostic::parse("conda-meta record without name or version").into();
    };
    let mut p = pkg(name, version);
    let subdir = text("subdir");
    if let Some(b) = text("build") {
        p.metadata.insert("build".into(), b.to_string().into());
    }
    if let Some(n) = doc.get("build_number").and_then(Value::as_u64) {
        p.metadata
            .insert("build_number".into(), n.to_string().into());
    }
    if let Some(s) = subdir {
        p.metadata.insert("subdir".into(), s.to_string().into());
    }
    if let Some(c) = text("channel") {
        p.metadata
            .insert("channel".into(), channel_name(c, subdir).into());
    }
    p.licenses.extend(text("license").map(str::to_string));
    if let Some(deps) = doc.get("depends").and_then(Value::as_array) {
        for d in deps.iter().filter_map(Value::as_str) {
            if let Some(n) = d.split_whitespace().next()
                && !p.depends.iter().any(|x| x == n)
            {
                p.depends.push(n.to_string());
            }
        }
    }
    let mut out = LangParsed::default();
    // The prefix: the directory above `conda-meta/`.
    let prefix = path
        .rsplit_once('/')
        .and_then(|(dir, _)| dir.strip_suffix("conda-meta"))
        .unwrap_or("")
        .trim_matches('/');
    if let Some(files) = doc.get("files").and_then(Value::as_array) {
        for f in files.iter().filter_map(Value::as_str) {
            if p.files.len() >= MAX_FILES {
                out.warn(read::too_many("files"));
                break;
            }
            let f = f.trim_start_matches('/');
            p.files.push(if prefix.is_empty() {
                format!("/{f}")
            } else {
                format!("/{prefix}/{f}")
            });
        }
    }
    out.packages.push(p);
    out
}
