//! [`parse_pubspec_lock`]: `pubspec.lock` (YAML) `packages:`: `version`, `dependency`
//! (`"direct dev"` is dev) and `source` (`hosted`, `git`, `path`, `sdk`) in metadata.
//! `sdk` packages (flutter, ...) are kept, with `source=sdk`.
//!
//! The YAML is read under [`crate::yaml_options`]; invalid YAML is one `parse-error` with its
//! line, a package without a version a `parse-error` naming it.

use std::collections::BTreeMap;

use moat_model::Diagnostic;

use super::MAX_PACKAGES;
use crate::{Ecosystem, LangPackage, LangParsed, read};

fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses a Dart/Flutter `pubspec.lock`.
pub fn parse_pubspec_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = match read::utf8(bytes) {
        Ok(t) => t,
        Err(d) => return d.into(),
    };
    if text.trim().is_empty() {
        return LangParsed::default();
    }
    let doc: serde_json::Value =
        match serde_saphyr::from_str_with_options(text, crate::yaml_options()) {
            Ok(d) => d,
            Err(e) => return read::yaml_error(&e).into(),
        };
    let mut out = LangParsed::default();
    let Some(pkgs) = doc.get("packages").and_then(|p| p.as_object()) else {
        return out;
    };
    let sorted: BTreeMap<&String, &serde_json::Value> = pkgs.iter().collect();
    for (name, info) in sorted {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("packages"));
            break;
        }
        let Some(version) = info.get("version").and_then(scalar_text) else {
            out.warn(Diagnostic::parse(format!("{name}: no version")));
            continue;
        };
        let mut p = LangPackage::new(Ecosystem::Pub, name.as_str(), version);
        let dependency = info.get("dependency").and_then(scalar_text);
        p.dev = dependency.as_deref() == Some("direct dev");
        if let Some(d) = dependency {
            p.metadata.insert("dependency".into(), d.into());
        }
        if let Some(s) = info.get("source").and_then(scalar_text) {
            p.metadata.insert("source".into(), s.into());
        }
        if let Some(desc) = info.get("description") {
            if let Some(u) = desc.get("url").and_then(scalar_text) {
                p.metadata.insert("url".into(), u.into());
            }
            if let Some(r) = desc.get("resolved-ref").and_then(scalar_text) {
                p.metadata.insert("resolved_ref".into(), r.into());
            }
        }
        out.packages.push(p);
    }
    out
}
