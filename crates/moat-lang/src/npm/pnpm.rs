//! [`parse_pnpm_lock`]: `pnpm-lock.yaml` v5 (`/name/1.2.3_peer@1`), v6 (`/name@1.2.3(peer@1)`)
//! and v9 (`name@1.2.3` in `packages`, dependency edges in `snapshots`). Peer suffixes are
//! stripped and (name, version) pairs deduplicated. Dev: the `dev: true` flag (v5/v6); for
//! v9, packages reachable from importers' `devDependencies` but not from their
//! `dependencies` / `optionalDependencies`. A file with several YAML documents (pnpm 10's
//! package-manager environment document first) is read from its last document.
//!
//! Invalid YAML (or YAML over the [`crate::yaml_options`] budget) is one `parse-error` with
//! its line; a `packages` key that gives no name and version is a `parse-error` naming it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use moat_model::Diagnostic;
use serde::Deserialize;

use super::{dedupe, dep_target_name, pkg, split_name_at};
use crate::{LangParsed, read};

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
pub fn parse_pnpm_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = match read::utf8(bytes) {
        Ok(t) => t,
        Err(d) => return d.into(),
    };
    let docs: Vec<PnpmDoc> =
        match serde_saphyr::from_multiple_with_options(text, crate::yaml_options()) {
            Ok(d) => d,
            Err(e) => return read::yaml_error(&e).into(),
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
            out.warn(Diagnostic::parse(format!(
                "{key}: cannot read a name and version"
            )));
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
