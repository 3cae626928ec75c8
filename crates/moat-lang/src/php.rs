//! # PHP (Composer): `composer.lock`, `installed.json` and `composer.json`
//!
//! * [`parse_composer_lock`]: every entry of `packages` (runtime) and `packages-dev`
//!   (`dev: true`). Name `vendor/package` and version exactly as written (a leading `v` is
//!   kept; `version_normalized`, when present, goes to `metadata["version_normalized"]`).
//!   `license` (array or string) gives licenses; the keys of `require` that name packages
//!   (`vendor/package`, so not `php`, `ext-*`, `lib-*`) give `depends`. The source
//!   reference (a commit) goes to `metadata["reference"]`.
//! * [`parse_installed_json`]: Composer 1 writes a top-level array of the same entries;
//!   Composer 2 writes `{"packages": [...], "dev-package-names": [...]}` and the names listed
//!   there are `dev: true`. Composer writes it to `<vendor-dir>/composer/`: `vendor/` unless
//!   `composer.json` sets `config.vendor-dir`; [`crate::wants`] takes every
//!   `composer/installed.json` and the scan's join keeps those under `vendor/` or under the
//!   vendor directory a `composer.json` names.
//! * [`parse_composer_json`]: the project's manifest ([`crate::project`]): `require-dev`
//!   and `config.vendor-dir`.
//!
//! Entries without a name or version are skipped with a `parse-error`; a document that is
//! not JSON is one `parse-error` with its line. Input is bounded by `serde_json`'s recursion
//! limit; nothing here panics.

use std::collections::HashSet;

use moat_model::Diagnostic;
use serde_json::Value;

use crate::{Ecosystem, LangPackage, LangParsed, read};

fn entry_package(entry: &Value, dev: bool, out: &mut LangParsed, ctx: &str) {
    let name = entry.get("name").and_then(Value::as_str).unwrap_or("");
    let version = entry.get("version").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() || version.is_empty() {
        out.warn(Diagnostic::parse(format!(
            "{ctx}: entry without name or version"
        )));
        return;
    }
    let mut p = LangPackage::new(Ecosystem::Packagist, name, version);
    p.dev = dev;
    p.licenses = licenses(entry);
    p.depends = required_names(entry.get("require"));
    if let Some(n) = entry.get("version_normalized").and_then(Value::as_str) {
        p.metadata
            .insert("version_normalized".into(), n.to_string().into());
    }
    let reference = entry
        .get("source")
        .and_then(|s| s.get("reference"))
        .or_else(|| entry.get("dist").and_then(|d| d.get("reference")))
        .and_then(Value::as_str);
    if let Some(r) = reference.filter(|r| !r.is_empty()) {
        p.metadata.insert("reference".into(), r.to_string().into());
    }
    out.packages.push(p);
}

fn entries(list: Option<&Value>, dev: impl Fn(&Value) -> bool, out: &mut LangParsed, ctx: &str) {
    match list {
        Some(Value::Array(items)) => {
            for e in items {
                entry_package(e, dev(e), out, ctx);
            }
        }
        None | Some(Value::Null) => {}
        Some(_) => out.warn(Diagnostic::parse(format!("{ctx}: not an array"))),
    }
}

/// Parses `composer.lock`.
pub fn parse_composer_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json_object(bytes, "composer.lock") {
        Ok(v) => v,
        Err(d) => return d.into(),
    };
    let mut out = LangParsed::default();
    entries(doc.get("packages"), |_| false, &mut out, "packages");
    entries(doc.get("packages-dev"), |_| true, &mut out, "packages-dev");
    out
}

/// The package names among the keys of a `require` map (`vendor/package`: not `php`,
/// `ext-*`, `lib-*`), sorted.
fn required_names(req: Option<&Value>) -> Vec<String> {
    let mut names: Vec<String> = req
        .and_then(Value::as_object)
        .map(|o| o.keys().filter(|k| k.contains('/')).cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn licenses(entry: &Value) -> Vec<String> {
    match entry.get("license") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Parses a project's `composer.json`, read as a manifest ([`crate::project`]): name,
/// version, licence, the package names of `require` and `require-dev`, and
/// `config.vendor-dir` (where `installed.json` then lives, under `<vendor-dir>/composer/`).
pub fn parse_composer_json(_path: &str, bytes: &[u8]) -> crate::project::ManifestParsed {
    let doc = match read::json_object(bytes, "composer.json") {
        Ok(v) => v,
        Err(d) => return d.into(),
    };
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut m = crate::project::ProjectManifest::new(Ecosystem::Packagist);
    m.name = text(doc.get("name"));
    m.version = text(doc.get("version"));
    m.licenses = licenses(&doc);
    m.dependencies = required_names(doc.get("require"));
    m.dev_dependencies = required_names(doc.get("require-dev"));
    m.vendor_dir = text(doc.get("config").and_then(|c| c.get("vendor-dir")));
    m.into()
}

/// Parses `vendor/composer/installed.json` (Composer 1 or 2).
pub fn parse_installed_json(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json(bytes) {
        Ok(v) => v,
        Err(d) => return d.into(),
    };
    let mut out = LangParsed::default();
    match &doc {
        Value::Array(_) => entries(Some(&doc), |_| false, &mut out, "installed"),
        Value::Object(o) => {
            let dev_names: HashSet<&str> = o
                .get("dev-package-names")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            entries(
                o.get("packages"),
                |e| {
                    e.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| dev_names.contains(n))
                },
                &mut out,
                "packages",
            );
        }
        _ => return Diagnostic::parse("not an installed.json document").into(),
    }
    out
}
