//! [`parse_uv_lock`]: `[[package]]`; packages whose `source` is `editable` or `virtual`
//! are the project (application). Dev: packages reachable from a project's
//! `dev-dependencies` but not from its `dependencies`/`optional-dependencies`
//! (following every package's `dependencies` and `optional-dependencies` by name).
//! Packages without a version are skipped.
//!
//! Invalid TOML is one `parse-error` with its line; a `[[package]]` without a name is a
//! `parse-error` and is skipped.

use std::collections::{BTreeMap, BTreeSet};

use moat_model::Diagnostic;

use super::{MAX_PACKAGES, pkg, toml_packages, toml_str};
use crate::{LangParsed, read};

fn dep_names(v: Option<&toml::Value>, into: &mut Vec<String>) {
    let Some(arr) = v.and_then(|v| v.as_array()) else {
        return;
    };
    for d in arr {
        if let Some(n) = d.as_table().and_then(|t| toml_str(t, "name")) {
            into.push(n.to_string());
        }
    }
}

/// `dependencies` of a table-of-groups value (`optional-dependencies`, `dev-dependencies`).
fn group_dep_names(v: Option<&toml::Value>, into: &mut Vec<String>) {
    if let Some(t) = v.and_then(|v| v.as_table()) {
        for g in t.values() {
            dep_names(Some(g), into);
        }
    }
}

/// Parses `uv.lock`.
pub fn parse_uv_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    read::toml(bytes).map_or_else(LangParsed::from, |doc| uv(&doc))
}

fn uv(doc: &toml::Table) -> LangParsed {
    let mut out = LangParsed::default();
    let list = toml_packages(doc);
    if list.len() > MAX_PACKAGES {
        out.warn(read::too_many("packages"));
    }
    // name -> (runtime edges, dev edges from this package)
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut roots: Vec<&toml::Table> = Vec::new();
    let mut entries: Vec<&toml::Table> = Vec::new();
    for entry in list.iter().take(MAX_PACKAGES) {
        let Some(t) = entry.as_table() else { continue };
        let Some(name) = toml_str(t, "name") else {
            out.warn(Diagnostic::parse("[[package]] without name"));
            continue;
        };
        let mut deps = Vec::new();
        dep_names(t.get("dependencies"), &mut deps);
        group_dep_names(t.get("optional-dependencies"), &mut deps);
        edges.entry(name.to_string()).or_default().extend(deps);
        let is_root = t
            .get("source")
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"));
        if is_root {
            roots.push(t);
        }
        entries.push(t);
    }
    let reach = |starts: Vec<String>| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = starts;
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone())
                && let Some(next) = edges.get(&n)
            {
                stack.extend(next.iter().cloned());
            }
        }
        seen
    };
    let root_names: BTreeSet<&str> = roots.iter().filter_map(|t| toml_str(t, "name")).collect();
    let mut prod_starts = Vec::new();
    let mut dev_starts = Vec::new();
    for r in &roots {
        dep_names(r.get("dependencies"), &mut prod_starts);
        group_dep_names(r.get("optional-dependencies"), &mut prod_starts);
        group_dep_names(r.get("dev-dependencies"), &mut dev_starts);
    }
    let prod = reach(prod_starts);
    let dev = reach(dev_starts);
    for t in entries {
        let name = toml_str(t, "name").unwrap_or_default();
        let Some(version) = toml_str(t, "version") else {
            continue; // virtual workspace members may have no version
        };
        let mut p = pkg(name, version);
        if root_names.contains(name) {
            p.application = true;
        } else {
            p.dev = dev.contains(name) && !prod.contains(name);
        }
        let mut deps = Vec::new();
        dep_names(t.get("dependencies"), &mut deps);
        deps.dedup();
        p.depends = deps;
        if let Some(src) = t.get("source").and_then(|s| s.as_table())
            && let Some((k, v)) = src.iter().next()
        {
            p.metadata.insert("source".into(), k.clone().into());
            if let Some(v) = v.as_str() {
                p.metadata.insert("source_url".into(), v.to_string().into());
            }
        }
        out.packages.push(p);
    }
    out
}
