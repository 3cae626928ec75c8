//! # npm ecosystem: lockfiles and installed `package.json`
//!
//! Six parsers, each a pure function over one file's bytes, one file per format:
//!
//! | parser | file | module |
//! |---|---|---|
//! | [`parse_package_lock`] | `package-lock.json` / `npm-shrinkwrap.json` v1-v3 | `package_lock.rs` |
//! | [`parse_yarn_lock`] | `yarn.lock`: v1 (own syntax) or berry (YAML) | `yarn.rs`, `yarn_v1.rs`, `yarn_berry.rs` |
//! | [`parse_pnpm_lock`] | `pnpm-lock.yaml` v5-v9 | `pnpm.rs` |
//! | [`parse_installed_package_json`] | `node_modules/**/package.json` | `installed.rs` |
//! | [`parse_bun_lock`] | `bun.lock` (bun 1.2+ text lockfile, JSON with trailing commas) | `bun.rs` |
//! | [`parse_project_package_json`] | a project's own `package.json`, read as a manifest ([`crate::project`]) | `project.rs` |
//!
//! What they share lives here: npm's name rules (`@scope/name@range`, `npm:real@range`
//! aliases), dependency and licence fields of JSON entries, and the merge of packages that
//! a lockfile lists once per range (`dedupe`).
//!
//! Input is bounded: JSON through `serde_json` (recursion limit 128), YAML through
//! `serde-saphyr` with [`crate::yaml_options`] (budget and alias-replay limits). Nothing here
//! panics on malformed input; what cannot be read becomes a `parse-error` diagnostic (with
//! its line in `yarn.lock` v1 and wherever the JSON or YAML parser reports one).

mod bun;
mod installed;
mod package_lock;
mod pnpm;
mod project;
mod yarn;
mod yarn_berry;
mod yarn_v1;

pub use bun::parse_bun_lock;
pub use installed::parse_installed_package_json;
pub use package_lock::parse_package_lock;
pub use pnpm::parse_pnpm_lock;
pub use project::parse_project_package_json;
pub use yarn::parse_yarn_lock;

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::{Ecosystem, LangPackage};

fn pkg(name: &str, version: &str) -> LangPackage {
    LangPackage::new(Ecosystem::Npm, name, version)
}

/// Splits `name@range` (name may be scoped: `@scope/name@range`).
fn split_name_at(spec: &str) -> (&str, &str) {
    let start = usize::from(spec.starts_with('@'));
    match spec.get(start..).and_then(|s| s.find('@')) {
        Some(i) => (&spec[..start + i], &spec[start + i + 1..]),
        None => (spec, ""),
    }
}

/// For a dependency value `npm:real@range`, the real name.
fn dep_target_name<'a>(name: &'a str, value: &'a str) -> &'a str {
    match value.strip_prefix("npm:") {
        Some(rest) if rest.len() > 1 && rest[1..].contains('@') => split_name_at(rest).0,
        _ => name,
    }
}

fn value_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn dep_names(entry: &Value, keys: &[&str]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for key in keys {
        if let Some(map) = entry.get(*key).and_then(Value::as_object) {
            for (name, val) in map {
                let target = dep_target_name(name, val.as_str().unwrap_or(""));
                out.insert(target.to_string());
            }
        }
    }
    out.into_iter().collect()
}

/// `license` as a string or `{type}`, or legacy `licenses: [..]`.
fn licenses_of(entry: &Value) -> Vec<String> {
    licenses_from(entry.get("license"), entry.get("licenses"))
}

/// [`licenses_of`] from the two fields.
fn licenses_from(license: Option<&Value>, licenses: Option<&Value>) -> Vec<String> {
    fn one(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Object(o) => o
                .get("type")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            _ => None,
        }
    }
    let mut out = Vec::new();
    if let Some(l) = license {
        match l {
            Value::Array(items) => out.extend(items.iter().filter_map(one)),
            other => out.extend(one(other)),
        }
    }
    if let Some(Value::Array(items)) = licenses {
        out.extend(items.iter().filter_map(one));
    }
    out.dedup();
    out
}

/// Merges packages with identical (name, version): dev only if all copies are dev,
/// application if any copy is, depends unioned.
fn dedupe(packages: &mut Vec<LangPackage>) {
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut kept: Vec<LangPackage> = Vec::with_capacity(packages.len());
    for p in packages.drain(..) {
        let k = (p.name.clone(), p.version.clone());
        match index.get(&k) {
            Some(&i) => {
                let q = &mut kept[i];
                q.dev &= p.dev;
                q.application |= p.application;
                if q.metadata.contains_key("optional") && !p.metadata.contains_key("optional") {
                    q.metadata.remove("optional");
                }
                for d in p.depends {
                    if !q.depends.contains(&d) {
                        q.depends.push(d);
                    }
                }
                q.depends.sort();
            }
            None => {
                index.insert(k, kept.len());
                kept.push(p);
            }
        }
    }
    *packages = kept;
}
