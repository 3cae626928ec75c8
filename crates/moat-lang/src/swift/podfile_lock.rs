//! [`parse_podfile_lock`]: CocoaPods' `Podfile.lock`, a YAML document.
//!
//! `PODS` lists every pod installed, as `Name (version)` or as a map from that to the pod's
//! own dependencies (`Other (~> 1.0)`, `Other/Subspec`). A subspec (`Firebase/Analytics`) is
//! part of its pod: the pod is reported once per version with its subspecs in
//! `metadata["subspecs"]` (comma-separated). Dependencies are pod names (subspecs and
//! requirements dropped). `SPEC CHECKSUMS` gives `metadata["checksum"]`; a pod listed in
//! `EXTERNAL SOURCES` (`:git`, `:path`, `:podspec`) gets `metadata["source"]` (`git <url>`,
//! `path <dir>`, ...). CocoaPods has no development dependencies.
//!
//! Invalid YAML is one `parse-error` with its line; a `PODS` entry that is not `Name
//! (version)` is a `parse-error` quoting it.

use std::collections::BTreeMap;

use moat_model::Diagnostic;
use serde_json::Value;

use crate::read::{self, MAX_PACKAGES};
use crate::{Ecosystem, LangPackage, LangParsed};

/// Largest `Podfile.lock` read.
const MAX_BYTES: usize = 32 << 20;

/// `Name (version)` -> (`Name`, `version`); `Name` alone -> (`Name`, "").
fn split_entry(s: &str) -> (&str, &str) {
    let s = s.trim();
    match s.split_once(" (") {
        Some((n, rest)) => (n.trim(), rest.trim_end_matches(')').trim()),
        None => (s, ""),
    }
}

/// The pod a (sub)spec name belongs to.
fn pod_of(name: &str) -> &str {
    name.split('/').next().unwrap_or(name)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a `Podfile.lock`.
pub fn parse_podfile_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::yaml_within(bytes, MAX_BYTES) {
        Ok(Some(d)) => d,
        Ok(None) => return LangParsed::default(),
        Err(d) => return d.into(),
    };
    let mut out = LangParsed::default();
    // (pod, version) -> index in out.packages
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    let entries = doc.get("PODS").and_then(Value::as_array).cloned();
    for entry in entries.unwrap_or_default() {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("pods"));
            break;
        }
        let (spec, deps): (String, Vec<String>) = match &entry {
            Value::String(s) => (s.clone(), Vec::new()),
            Value::Object(o) if o.len() == 1 => {
                let (k, v) = o
                    .iter()
                    .next()
                    .map_or((String::new(), &Value::Null), |(k, v)| (k.clone(), v));
                let deps = v
                    .as_array()
                    .map(|a| a.iter().filter_map(text).collect())
                    .unwrap_or_default();
                (k, deps)
            }
            other => {
                out.warn(Diagnostic::parse(format!("PODS: unreadable entry {other}")));
                continue;
            }
        };
        let (name, version) = split_entry(&spec);
        if name.is_empty() || version.is_empty() {
            out.warn(Diagnostic::parse(format!(
                "PODS: {spec:?} is not `Name (version)`"
            )));
            continue;
        }
        let pod = pod_of(name);
        let key = (pod.to_string(), version.to_string());
        let i = *index.entry(key).or_insert_with(|| {
            out.packages
                .push(LangPackage::new(Ecosystem::CocoaPods, pod, version));
            out.packages.len() - 1
        });
        let p = &mut out.packages[i];
        if let Some((_, sub)) = name.split_once('/') {
            let subs = p.metadata.entry("subspecs".into()).or_default();
            if !subs.split(',').any(|s| s == sub) {
                *subs = if subs.is_empty() {
                    sub.into()
                } else {
                    format!("{subs},{sub}").into()
                };
            }
        }
        for d in deps {
            let dep = pod_of(split_entry(&d).0).to_string();
            if dep != pod && !p.depends.contains(&dep) {
                p.depends.push(dep);
            }
        }
    }
    let checksums = doc.get("SPEC CHECKSUMS").and_then(Value::as_object);
    let external = doc.get("EXTERNAL SOURCES").and_then(Value::as_object);
    for p in &mut out.packages {
        p.depends.sort();
        if let Some(sum) = checksums.and_then(|c| c.get(&p.name)).and_then(text) {
            p.metadata.insert("checksum".into(), sum.into());
        }
        if let Some(src) = external
            .and_then(|e| e.get(&p.name))
            .and_then(Value::as_object)
        {
            let desc: Vec<String> = src
                .iter()
                .filter_map(|(k, v)| Some(format!("{} {}", k.trim_start_matches(':'), text(v)?)))
                .collect();
            if !desc.is_empty() {
                p.metadata.insert("source".into(), desc.join(" ").into());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subspecs_collapse_into_their_pod() {
        let lock = b"PODS:\n  - Firebase/Analytics (10.18.0):\n    - Firebase/Core\n    - FirebaseAnalytics (~> 10.18.0)\n  - Firebase/Core (10.18.0):\n    - FirebaseCore (= 10.18.0)\n  - FirebaseCore (10.18.0)\n  - FirebaseAnalytics (10.18.0)\n  - Broken\n\nSPEC CHECKSUMS:\n  Firebase: 2d3a2b4f\n\nCOCOAPODS: 1.14.3\n";
        let r = parse_podfile_lock("Podfile.lock", lock);
        assert_eq!(r.packages.len(), 3, "{:?}", r.packages);
        let f = &r.packages[0];
        assert_eq!(
            (f.name.as_str(), f.version.as_str()),
            ("Firebase", "10.18.0")
        );
        assert_eq!(f.metadata["subspecs"], "Analytics,Core");
        assert_eq!(f.depends, ["FirebaseAnalytics", "FirebaseCore"]);
        assert_eq!(f.metadata["checksum"], "2d3a2b4f");
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].message.contains("Broken"));
    }
}
