//! # .NET (NuGet): `*.deps.json`, `packages.lock.json`, `packages.config`, `Directory.Packages.props`
//!
//! * [`parse_deps_json`]: the `libraries` map, keys `Name/Version`. `type: "package"` is a
//!   NuGet package; `type: "runtimepack"` (a self-contained app's runtime, key
//!   `runtimepack.Name/Version`) is reported as the NuGet package `Name` with
//!   `metadata["type"] = "runtimepack"`; `type: "project"` is the application (or one of its
//!   projects): `application: true`. Other types (`referenceassembly`, which carries assembly
//!   rather than package versions) are skipped. `depends` comes from the same key's
//!   `dependencies` in every entry of `targets`. `sha512` and `path` go to metadata.
//! * [`parse_packages_lock`]: `packages.lock.json` v1/v2; every target framework under
//!   `dependencies`; entries of type `Direct`, `Transitive`, `CentralTransitive` are packages
//!   (version `resolved`), `Project` entries are applications (version `resolved` or, as
//!   NuGet writes none, empty). (name, version) pairs are reported once with `depends`
//!   unioned; `metadata["type"]` keeps the entry type (`Direct` wins over the others).
//! * [`parse_packages_config`] and [`parse_central_packages`]: the XML files
//!   (`dotnet/msbuild.rs`): classic `packages.config`, and central package management's
//!   `Directory.Packages.props` (the versions every project below it uses).
//!
//! Input is bounded by `serde_json`'s recursion limit; nothing here panics. A document that
//! is not JSON is one `parse-error` with its line; an entry that cannot be read is a
//! `parse-error` naming its key.

use std::collections::{BTreeMap, BTreeSet};

use moat_model::Diagnostic;
use serde_json::Value;

use crate::{Ecosystem, LangPackage, LangParsed, read};

mod msbuild;

pub use msbuild::{parse_central_packages, parse_packages_config};

/// Parses a `*.deps.json`.
pub fn parse_deps_json(_path: &str, bytes: &[u8]) -> LangParsed {
    read::json_object(bytes, "deps.json").map_or_else(LangParsed::from, |doc| deps_json(&doc))
}

fn deps_json(doc: &Value) -> LangParsed {
    let Some(libraries) = doc.get("libraries").and_then(Value::as_object) else {
        return LangParsed::default();
    };
    let mut deps: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    if let Some(targets) = doc.get("targets").and_then(Value::as_object) {
        for target in targets.values().filter_map(Value::as_object) {
            for (key, entry) in target {
                let set = deps.entry(key.as_str()).or_default();
                if let Some(d) = entry.get("dependencies").and_then(Value::as_object) {
                    set.extend(d.keys().cloned());
                }
            }
        }
    }
    let mut out = LangParsed::default();
    for (key, lib) in libraries {
        let kind = lib.get("type").and_then(Value::as_str).unwrap_or("");
        let Some((name, version)) = key.split_once('/') else {
            out.warn(Diagnostic::parse(format!(
                "libraries[{key:?}]: not Name/Version"
            )));
            continue;
        };
        if name.is_empty() || version.is_empty() {
            out.warn(Diagnostic::parse(format!(
                "libraries[{key:?}]: not Name/Version"
            )));
            continue;
        }
        let (name, application) = match kind {
            "package" => (name, false),
            "runtimepack" => (name.strip_prefix("runtimepack.").unwrap_or(name), false),
            "project" => (name, true),
            _ => continue,
        };
        let mut p = LangPackage::new(Ecosystem::NuGet, name, version);
        p.application = application;
        if kind == "runtimepack" {
            p.metadata.insert("type".into(), kind.into());
        }
        for field in ["sha512", "path"] {
            if let Some(v) = lib
                .get(field)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
            {
                p.metadata.insert(field.into(), v.into());
            }
        }
        if let Some(d) = deps.get(key.as_str()) {
            p.depends = d.iter().cloned().collect();
        }
        out.packages.push(p);
    }
    out
}

/// Parses a NuGet `packages.lock.json`.
pub fn parse_packages_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json_object(bytes, "packages.lock.json") {
        Ok(d) => d,
        Err(d) => return d.into(),
    };
    let Some(frameworks) = doc.get("dependencies").and_then(Value::as_object) else {
        return LangParsed::default();
    };
    let mut merged: BTreeMap<(String, String), LangPackage> = BTreeMap::new();
    let mut out = LangParsed::default();
    for (tfm, entries) in frameworks {
        let Some(entries) = entries.as_object() else {
            out.warn(Diagnostic::parse(format!(
                "dependencies[{tfm:?}]: not an object"
            )));
            continue;
        };
        for (name, entry) in entries {
            let kind = entry.get("type").and_then(Value::as_str).unwrap_or("");
            let project = kind.eq_ignore_ascii_case("project");
            let version = entry.get("resolved").and_then(Value::as_str).unwrap_or("");
            if name.is_empty() || (version.is_empty() && !project) {
                out.warn(Diagnostic::parse(format!(
                    "{tfm}/{name}: entry without resolved version"
                )));
                continue;
            }
            let p = merged
                .entry((name.clone(), version.to_string()))
                .or_insert_with(|| {
                    let mut p = LangPackage::new(Ecosystem::NuGet, name, version);
                    p.metadata.insert("type".into(), kind.into());
                    p
                });
            p.application |= project;
            if kind == "Direct" {
                p.metadata.insert("type".into(), kind.into());
            }
            if let Some(d) = entry.get("dependencies").and_then(Value::as_object) {
                for k in d.keys() {
                    if !p.depends.contains(k) {
                        p.depends.push(k.clone());
                    }
                }
                p.depends.sort();
            }
        }
    }
    out.packages = merged.into_values().collect();
    out
}
