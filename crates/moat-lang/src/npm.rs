//! # npm ecosystem: lockfiles and installed `package.json`
//!
//! Four parsers, each a pure function over one file's bytes:
//!
//! * [`parse_package_lock`]: `package-lock.json` / `npm-shrinkwrap.json`.
//!   * v1 (`lockfileVersion: 1`): the nested `dependencies` tree. An aliased entry has a
//!     version `npm:real-name@1.2.3`; it is reported under the real name with the alias in
//!     `metadata["alias"]`. `requires` names become `depends`.
//!   * v2 / v3: the `packages` map keyed by install path (`node_modules/a/node_modules/b`).
//!     The name is the entry's `name` when present (an alias key then goes to
//!     `metadata["alias"]`), else the path after the last `node_modules/`. Every path is kept,
//!     so nested copies of one package (even with the same version) are separate packages,
//!     each with `metadata["path"]`. Entries with `link: true` or without a version are
//!     skipped; the workspace a link points to has its own key (a path without
//!     `node_modules/`) and is kept when it has a version (`metadata["workspace"]`).
//!   * The root (the `""` key, or the top-level `name` + `version`) is `application: true`.
//!   * `dev: true` / `devOptional: true` give `dev: true`; `optional` / `devOptional` give
//!     `metadata["optional"] = "true"`. `dependencies` and `optionalDependencies` keys become
//!     `depends` (an `npm:real@range` alias value names the real package).
//! * [`parse_yarn_lock`]: yarn v1 (its own indented syntax, parsed line by line here) and
//!   yarn berry (YAML with `__metadata`). The name comes from the entry key (berry: from
//!   `resolution` when present), scoped names handled; `alias@npm:real@range` keys give the
//!   real name with `metadata["alias"]`. Workspace entries (`@workspace:`) are applications.
//!   Identical (name, version) pairs are reported once. Yarn lockfiles carry no dev flag.
//! * [`parse_pnpm_lock`]: `pnpm-lock.yaml` v5 (`/name/1.2.3_peer@1`), v6 (`/name@1.2.3(peer@1)`)
//!   and v9 (`name@1.2.3` in `packages`, dependency edges in `snapshots`). Peer suffixes are
//!   stripped and (name, version) pairs deduplicated. Dev: the `dev: true` flag (v5/v6); for
//!   v9, packages reachable from importers' `devDependencies` but not from their
//!   `dependencies` / `optionalDependencies`. A file with several YAML documents (pnpm 10's
//!   package-manager environment document first) is read from its last document.
//! * [`parse_installed_package_json`]: `node_modules/**/package.json`, one installed package
//!   (name, version, license as a string, `{type}` object or legacy `licenses` array,
//!   `dependencies` / `optionalDependencies` names). Without a name or version (nested
//!   sub-package stubs) the file yields nothing and no warning.
//!
//! Input is bounded: JSON through `serde_json` (recursion limit 128), YAML through
//! `serde-saphyr` with an explicit budget and alias-replay limits. Nothing here panics on
//! malformed input; what cannot be read becomes a warning.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::Value;

use crate::{Ecosystem, LangPackage, LangParsed};

fn pkg(name: &str, version: &str) -> LangPackage {
    LangPackage::new(Ecosystem::Npm, name, version)
}

fn parse_json(path: &str, bytes: &[u8]) -> Result<Value, LangParsed> {
    serde_json::from_slice::<Value>(bytes)
        .map_err(|e| LangParsed::warning(format!("{path}: invalid JSON: {e}")))
}

/// YAML options: a bounded budget and alias-replay limits (no alias bombs).
pub(crate) fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 5_000_000;
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    budget.max_depth = 64;
    budget.max_documents = 16;
    budget.max_nodes = 5_000_000;
    budget.max_total_scalar_bytes = 256 << 20;
    budget.max_merge_keys = 10_000;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    // yarn berry lockfiles in the wild repeat keys; take the last like other YAML readers.
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.alias_limits.max_alias_expansions_per_anchor = 1_000;
    opts
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

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
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
    if let Some(l) = entry.get("license") {
        match l {
            Value::Array(items) => out.extend(items.iter().filter_map(one)),
            other => out.extend(one(other)),
        }
    }
    if let Some(Value::Array(items)) = entry.get("licenses") {
        out.extend(items.iter().filter_map(one));
    }
    out.dedup();
    out
}

// ---------------------------------------------------------------------------------------
// package-lock.json
// ---------------------------------------------------------------------------------------

/// Parses `package-lock.json` / `npm-shrinkwrap.json` (v1, v2, v3).
pub fn parse_package_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match parse_json(path, bytes) {
        Ok(v) => v,
        Err(w) => return w,
    };
    if !doc.is_object() {
        return LangParsed::warning(format!("{path}: not a package-lock object"));
    }
    let mut out = LangParsed::default();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        lock_v2(&doc, packages, &mut out);
    } else {
        if let (Some(name), Some(version)) =
            (value_str(doc.get("name")), value_str(doc.get("version")))
        {
            let mut root = pkg(name, version);
            root.application = true;
            root.depends = dep_names(&doc, &["dependencies"]);
            out.packages.push(root);
        }
        if let Some(deps) = doc.get("dependencies").and_then(Value::as_object) {
            lock_v1(deps, "", &mut out);
        }
    }
    out
}

fn lock_v2(doc: &Value, packages: &serde_json::Map<String, Value>, out: &mut LangParsed) {
    for (key, entry) in packages {
        if !entry.is_object() {
            out.warnings
                .push(format!("packages[{key:?}]: entry is not an object"));
            continue;
        }
        if key.is_empty() {
            let name = value_str(entry.get("name")).or(value_str(doc.get("name")));
            let version = value_str(entry.get("version")).or(value_str(doc.get("version")));
            if let (Some(name), Some(version)) = (name, version) {
                let mut root = pkg(name, version);
                root.application = true;
                root.depends = dep_names(entry, &["dependencies", "optionalDependencies"]);
                root.licenses = licenses_of(entry);
                out.packages.push(root);
            }
            continue;
        }
        if flag(entry, "link") {
            continue;
        }
        let Some(version) = value_str(entry.get("version")) else {
            continue;
        };
        let (path_name, workspace) = match key.rfind("node_modules/") {
            Some(i) => (&key[i + "node_modules/".len()..], false),
            None => (key.rsplit('/').next().unwrap_or(key), true),
        };
        let name = value_str(entry.get("name")).unwrap_or(path_name);
        if name.is_empty() {
            continue;
        }
        let mut p = pkg(name, version);
        if !workspace && name != path_name {
            p.metadata.insert("alias".into(), path_name.to_string());
        }
        if workspace {
            p.metadata.insert("workspace".into(), "true".into());
        }
        p.metadata.insert("path".into(), key.clone());
        let dev_optional = flag(entry, "devOptional");
        p.dev = flag(entry, "dev") || dev_optional;
        if flag(entry, "optional") || dev_optional {
            p.metadata.insert("optional".into(), "true".into());
        }
        p.depends = dep_names(entry, &["dependencies", "optionalDependencies"]);
        p.licenses = licenses_of(entry);
        out.packages.push(p);
    }
}

fn lock_v1(deps: &serde_json::Map<String, Value>, parent: &str, out: &mut LangParsed) {
    for (key, entry) in deps {
        let install_path = format!("{parent}node_modules/{key}");
        let Some(version) = value_str(entry.get("version")) else {
            if entry.is_object() && !flag(entry, "bundled") {
                out.warnings
                    .push(format!("dependencies[{install_path:?}]: no version"));
            }
            continue;
        };
        let (name, version, alias) = match version.strip_prefix("npm:") {
            Some(rest) if rest.len() > 1 && rest[1..].contains('@') => {
                let (n, v) = split_name_at(rest);
                (n, v, Some(key.as_str()))
            }
            _ => (key.as_str(), version, None),
        };
        let mut p = pkg(name, version);
        if let Some(a) = alias {
            p.metadata.insert("alias".into(), a.to_string());
        }
        p.metadata.insert("path".into(), install_path.clone());
        p.dev = flag(entry, "dev");
        if flag(entry, "optional") {
            p.metadata.insert("optional".into(), "true".into());
        }
        p.depends = dep_names(entry, &["requires"]);
        out.packages.push(p);
        if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
            lock_v1(nested, &format!("{install_path}/"), out);
        }
    }
}

// ---------------------------------------------------------------------------------------
// yarn.lock
// ---------------------------------------------------------------------------------------

/// Parses `yarn.lock`, v1 or berry.
pub fn parse_yarn_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return LangParsed::warning(format!("{path}: not UTF-8"));
    };
    let berry = text
        .lines()
        .any(|l| l.starts_with("__metadata:") || l.starts_with("\"__metadata\":"));
    let mut out = if berry {
        yarn_berry(path, text)
    } else {
        yarn_v1(text)
    };
    dedupe(&mut out.packages);
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

fn unquote(s: &str) -> &str {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Splits a yarn v1 line `key value` (either may be quoted) at the first unquoted space.
fn v1_key_value(line: &str) -> (&str, &str) {
    let line = line.trim();
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' | ':' if !quoted => {
                let rest = line[i + 1..].trim_start_matches(':').trim();
                return (unquote(&line[..i]), unquote(rest));
            }
            _ => {}
        }
    }
    (unquote(line.trim_end_matches(':')), "")
}

/// Name (real name for `alias@npm:real@range`), alias and range of one key specifier.
fn spec_name(spec: &str) -> (String, Option<String>, String) {
    let (name, range) = split_name_at(spec);
    if let Some(rest) = range.strip_prefix("npm:")
        && rest.len() > 1
        && rest[1..].contains('@')
    {
        let (real, real_range) = split_name_at(rest);
        return (
            real.to_string(),
            Some(name.to_string()),
            real_range.to_string(),
        );
    }
    (name.to_string(), None, range.to_string())
}

fn yarn_v1(text: &str) -> LangParsed {
    struct Entry {
        specs: Vec<String>,
        version: Option<String>,
        depends: Vec<String>,
    }
    let mut out = LangParsed::default();
    let mut entries: Vec<Entry> = Vec::new();
    let mut in_deps = false;
    for raw in text.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            in_deps = false;
            let header = line.strip_suffix(':').unwrap_or(line);
            let specs = split_specs(header);
            entries.push(Entry {
                specs,
                version: None,
                depends: Vec::new(),
            });
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            continue;
        };
        if indent <= 2 {
            let (k, v) = v1_key_value(line);
            in_deps = false;
            match k {
                "version" => entry.version = Some(v.to_string()),
                "dependencies" | "optionalDependencies" if v.is_empty() => in_deps = true,
                _ => {}
            }
        } else if in_deps {
            let (k, v) = v1_key_value(line);
            let target = dep_target_name(k, v).to_string();
            if !entry.depends.contains(&target) {
                entry.depends.push(target);
            }
        }
    }
    for e in entries {
        let Some(first) = e.specs.first() else {
            continue;
        };
        let (name, alias, _) = spec_name(first);
        let Some(version) = e.version else {
            out.warnings.push(format!("{name}: entry without version"));
            continue;
        };
        let mut p = pkg(&name, &version);
        if let Some(a) = alias {
            p.metadata.insert("alias".into(), a);
        }
        p.depends = e.depends;
        p.depends.sort();
        out.packages.push(p);
    }
    out
}

/// Splits a lock key `"a@^1", a@^2` / `"a@npm:^1, a@npm:^2"` into specifiers.
fn split_specs(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|s| unquote(unquote(s)).trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[derive(Deserialize)]
struct BerryEntry {
    version: Option<String>,
    resolution: Option<String>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Option<BTreeMap<String, String>>,
}

fn yarn_berry(path: &str, text: &str) -> LangParsed {
    let doc: BTreeMap<String, Option<BerryEntry>> =
        match serde_saphyr::from_str_with_options(text, yaml_options()) {
            Ok(d) => d,
            Err(e) => return LangParsed::warning(format!("{path}: invalid YAML: {e}")),
        };
    let mut out = LangParsed::default();
    for (key, entry) in doc {
        if key == "__metadata" {
            continue;
        }
        let Some(entry) = entry else {
            out.warnings.push(format!("{key}: empty entry"));
            continue;
        };
        let specs = split_specs(&key);
        let Some(first) = specs.first() else { continue };
        let (mut name, alias, range) = spec_name(first);
        let mut application = range.starts_with("workspace:");
        if let Some(res) = entry.resolution.as_deref() {
            let (res_name, res_range) = split_name_at(res);
            if !res_name.is_empty() {
                name = res_name.to_string();
            }
            application |= res_range.starts_with("workspace:");
        }
        let Some(version) = entry.version else {
            out.warnings.push(format!("{key}: entry without version"));
            continue;
        };
        let mut p = pkg(&name, &version);
        p.application = application;
        if let Some(a) = alias.filter(|a| *a != name) {
            p.metadata.insert("alias".into(), a);
        }
        let mut deps = BTreeSet::new();
        for map in [&entry.dependencies, &entry.optional_dependencies]
            .into_iter()
            .flatten()
        {
            for (dn, dv) in map {
                deps.insert(dep_target_name(dn, dv).to_string());
            }
        }
        p.depends = deps.into_iter().collect();
        out.packages.push(p);
    }
    out
}

// ---------------------------------------------------------------------------------------
// pnpm-lock.yaml
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct PnpmDoc {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<String>,
    #[serde(default)]
    importers: Option<BTreeMap<String, Option<PnpmImporter>>>,
    #[serde(default)]
    packages: Option<BTreeMap<String, Option<PnpmPackage>>>,
    #[serde(default)]
    snapshots: Option<BTreeMap<String, Option<PnpmPackage>>>,
}

#[derive(Deserialize, Default)]
struct PnpmImporter {
    #[serde(default)]
    dependencies: Option<BTreeMap<String, ImporterDep>>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Option<BTreeMap<String, ImporterDep>>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: Option<BTreeMap<String, ImporterDep>>,
}

/// An importer's dependency: `name: 1.2.3` (v5) or `name: {specifier, version}` (v6+).
struct ImporterDep(String);

impl ImporterDep {
    fn version(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ImporterDep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ImporterDep;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a version string or a {specifier, version} mapping")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ImporterDep, E> {
                Ok(ImporterDep(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ImporterDep, E> {
                Ok(ImporterDep(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ImporterDep, E> {
                Ok(ImporterDep(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ImporterDep, E> {
                Ok(ImporterDep(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ImporterDep, A::Error> {
                let mut version = String::new();
                while let Some(k) = map.next_key::<String>()? {
                    if k == "version" {
                        version = map.next_value::<String>()?;
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(ImporterDep(version))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
struct PnpmPackage {
    name: Option<String>,
    version: Option<String>,
    dev: Option<bool>,
    optional: Option<bool>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Option<BTreeMap<String, String>>,
}

/// Strips a v6/v9 `(peer@1)` suffix.
fn strip_parens(s: &str) -> &str {
    s.split('(').next().unwrap_or(s)
}

/// Name and version from a `packages` key of a lockfile of major version `major`.
///
/// v6+: `/name@1.2.3(peer@1)` or `name@1.2.3`. v5: `/name/1.2.3_peer@1`, `/@scope/name/1.2.3`,
/// or `host/name/1.2.3` (the first segment is a registry host). A v5 version read from a key
/// must start with a digit (`github.com/user/repo` keys carry `name`/`version` fields instead).
fn pnpm_key(key: &str, major: u32) -> Option<(String, String)> {
    if major >= 6 {
        let k = strip_parens(key.strip_prefix('/').unwrap_or(key));
        let (name, version) = split_name_at(k);
        if name.is_empty() || version.is_empty() {
            return None;
        }
        return Some((name.to_string(), version.to_string()));
    }
    let k = match key.strip_prefix('/') {
        Some(rest) => rest,
        None => key.split_once('/')?.1,
    };
    let scoped = k.starts_with('@');
    let segs: Vec<&str> = k.splitn(if scoped { 3 } else { 2 }, '/').collect();
    let (name, rest) = match (scoped, segs.as_slice()) {
        (true, [scope, n, rest]) => (format!("{scope}/{n}"), *rest),
        (false, [n, rest]) => (n.to_string(), *rest),
        _ => return None,
    };
    let version = rest.split('_').next().unwrap_or(rest);
    if name.len() <= usize::from(scoped)
        || !version.starts_with(|c: char| c.is_ascii_digit())
        || version.contains('/')
    {
        return None;
    }
    Some((name, version.to_string()))
}

/// Major lockfile version; `0` when absent.
fn pnpm_major(v: Option<&str>) -> u32 {
    v.and_then(|v| v.trim().split('.').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Parses `pnpm-lock.yaml` v5 to v9.
pub fn parse_pnpm_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return LangParsed::warning(format!("{path}: not UTF-8"));
    };
    let docs: Vec<PnpmDoc> = match serde_saphyr::from_multiple_with_options(text, yaml_options()) {
        Ok(d) => d,
        Err(e) => return LangParsed::warning(format!("{path}: invalid YAML: {e}")),
    };
    let Some(doc) = docs.into_iter().last() else {
        return LangParsed::default();
    };
    let major = pnpm_major(doc.lockfile_version.as_deref());
    let mut out = LangParsed::default();
    let packages = doc.packages.unwrap_or_default();
    let snapshots = doc.snapshots.unwrap_or_default();

    // v9: dependency edges live in `snapshots`, keyed with peer suffixes.
    let mut snap_deps: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    for (key, snap) in &snapshots {
        let (Some((n, v)), Some(s)) = (pnpm_key(key, major.max(9)), snap) else {
            continue;
        };
        let set = snap_deps.entry((n, v)).or_default();
        for map in [&s.dependencies, &s.optional_dependencies]
            .into_iter()
            .flatten()
        {
            for (dn, dv) in map {
                set.insert(dep_target_name(dn, dv).to_string());
            }
        }
    }
    let dev_only = if major >= 9 {
        v9_dev_only(doc.importers.as_ref(), &snapshots)
    } else {
        BTreeSet::new()
    };

    for (key, entry) in &packages {
        let entry = entry.as_ref();
        let parsed = pnpm_key(key, major);
        let name = entry
            .and_then(|e| e.name.clone())
            .or_else(|| parsed.as_ref().map(|p| p.0.clone()));
        let version = entry
            .and_then(|e| e.version.clone())
            .or_else(|| parsed.as_ref().map(|p| p.1.clone()));
        let (Some(name), Some(version)) = (name, version) else {
            out.warnings
                .push(format!("{key}: cannot read a name and version"));
            continue;
        };
        let mut p = pkg(&name, &version);
        if let Some(e) = entry {
            p.dev = e.dev == Some(true);
            if e.optional == Some(true) {
                p.metadata.insert("optional".into(), "true".into());
            }
        }
        let mut deps: BTreeSet<String> = BTreeSet::new();
        if let Some(e) = entry {
            for map in [&e.dependencies, &e.optional_dependencies]
                .into_iter()
                .flatten()
            {
                for (dn, dv) in map {
                    deps.insert(dep_target_name(dn, dv).to_string());
                }
            }
        }
        if let Some(parsed) = &parsed
            && let Some(s) = snap_deps.get(parsed)
        {
            deps.extend(s.iter().cloned());
        }
        if major >= 9 {
            let k = parsed.clone().unwrap_or((name.clone(), version.clone()));
            p.dev = dev_only.contains(&k);
        }
        p.depends = deps.into_iter().collect();
        out.packages.push(p);
    }
    dedupe(&mut out.packages);
    out
}

/// v9: the (name, version) pairs reachable from importers' devDependencies only.
fn v9_dev_only(
    importers: Option<&BTreeMap<String, Option<PnpmImporter>>>,
    snapshots: &BTreeMap<String, Option<PnpmPackage>>,
) -> BTreeSet<(String, String)> {
    let Some(importers) = importers else {
        return BTreeSet::new();
    };
    let snap_key = |name: &str, version: &str| -> Option<String> {
        if version.starts_with("link:") || version.starts_with("file:") && !version.contains('@') {
            return None;
        }
        let v_first = version.chars().next()?;
        if !v_first.is_ascii_digit() && version.get(1..).is_some_and(|r| r.contains('@')) {
            // aliased: the version names the real package
            return Some(version.to_string());
        }
        Some(format!("{name}@{version}"))
    };
    let walk = |roots: Vec<String>| -> BTreeSet<(String, String)> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut stack = roots;
        while let Some(k) = stack.pop() {
            if !seen.insert(k.clone()) {
                continue;
            }
            if let Some(Some(s)) = snapshots.get(&k) {
                for map in [&s.dependencies, &s.optional_dependencies]
                    .into_iter()
                    .flatten()
                {
                    for (dn, dv) in map {
                        if let Some(next) = snap_key(dn, dv)
                            && !seen.contains(&next)
                        {
                            stack.push(next);
                        }
                    }
                }
            }
        }
        seen.iter().filter_map(|k| pnpm_key(k, 9)).collect()
    };
    let mut prod_roots = Vec::new();
    let mut dev_roots = Vec::new();
    for imp in importers.values().flatten() {
        for map in [&imp.dependencies, &imp.optional_dependencies]
            .into_iter()
            .flatten()
        {
            for (n, d) in map {
                prod_roots.extend(snap_key(n, d.version()));
            }
        }
        if let Some(map) = &imp.dev_dependencies {
            for (n, d) in map {
                dev_roots.extend(snap_key(n, d.version()));
            }
        }
    }
    let prod = walk(prod_roots);
    let dev = walk(dev_roots);
    dev.difference(&prod).cloned().collect()
}

// ---------------------------------------------------------------------------------------
// node_modules/**/package.json
// ---------------------------------------------------------------------------------------

/// Parses an installed `node_modules/**/package.json`.
pub fn parse_installed_package_json(path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match parse_json(path, bytes) {
        Ok(v) => v,
        Err(w) => return w,
    };
    let (Some(name), Some(version)) = (value_str(doc.get("name")), value_str(doc.get("version")))
    else {
        return LangParsed::default();
    };
    if name.is_empty() || version.is_empty() {
        return LangParsed::default();
    }
    let mut p = pkg(name, version);
    p.licenses = licenses_of(&doc);
    p.depends = dep_names(&doc, &["dependencies", "optionalDependencies"]);
    p.files.push(format!("/{}", path.trim_start_matches('/')));
    LangParsed {
        packages: vec![p],
        warnings: Vec::new(),
    }
}
