//! `build.sbt.lock`: the lock file of sbt's dependency-lock plugin (JSON, `lockVersion` 1).
//!
//! Each entry of `dependencies` has `org`, `name` (with the Scala suffix sbt adds, e.g.
//! `akka-actor_2.13`, which is the Maven artifact id), `version`, `artifacts` (file names
//! and `sha1:` hashes) and the `configurations` that use it. The package is `org:name`;
//! metadata `configurations` lists them, and `sha1` is the first artifact's hash. A
//! dependency that no `compile`, `runtime` or `optional` configuration uses (only `test`,
//! `provided`, ...) is not a runtime dependency: `dev: true`.
//!
//! A document that is not JSON is one `parse-error` with its line; an entry without `org`,
//! `name` or `version` is a `parse-error` naming its position.

use moat_model::Diagnostic;
use serde_json::Value;

use crate::read::{self, MAX_PACKAGES};
use crate::{Ecosystem, LangPackage, LangParsed};

/// Largest lock read.
const MAX_BYTES: usize = 32 << 20;

/// Parses a `build.sbt.lock`.
pub fn parse_sbt_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json_object_within(bytes, MAX_BYTES, "build.sbt.lock") {
        Ok(d) => d,
        Err(d) => return d.into(),
    };
    let mut out = LangParsed::default();
    let deps = doc
        .get("dependencies")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (i, d) in deps.iter().enumerate() {
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("dependencies"));
            break;
        }
        let text = |k: &str| {
            d.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let (Some(org), Some(name), Some(version)) = (text("org"), text("name"), text("version"))
        else {
            out.warn(Diagnostic::parse(format!(
                "dependencies[{i}]: no org, name or version"
            )));
            continue;
        };
        let mut p = LangPackage::new(Ecosystem::Maven, format!("{org}:{name}"), version);
        let confs: Vec<&str> = d
            .get("configurations")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !confs.is_empty() {
            p.dev = !confs
                .iter()
                .any(|c| matches!(*c, "compile" | "runtime" | "optional"));
            p.metadata
                .insert("configurations".into(), confs.join(",").into());
        }
        let sha1 = d
            .get("artifacts")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(|a| a.get("hash"))
            .and_then(Value::as_str)
            .and_then(|h| h.strip_prefix("sha1:"));
        if let Some(h) = sha1 {
            p.metadata.insert("sha1".into(), h.to_string().into());
        }
        out.packages.push(p);
    }
    out
}
