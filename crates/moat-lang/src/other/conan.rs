//! [`parse_conan_lock`] reads `conan.lock`.
//! - v1 (lock versions 0.1 to 0.4, `graph_lock.nodes`): every node with a `ref` (or, in
//!   the oldest formats, a `pref`) is a package. The root is node `"0"` (or, when there is
//!   no `"0"`, the nodes nobody requires); a root with a reference is the application.
//!   Nodes named in some node's `build_requires`, or with `context = "build"`, are dev
//!   with metadata `build=true`. `requires` (lists of ids or, in 0.1/0.2, maps of
//!   reference to id) give `depends`.
//! - v2 (0.5, top-level `requires`, `build_requires`, `python_requires` lists): every
//!   reference is a package; `build_requires` and `python_requires` entries are dev with
//!   metadata `build=true` / `python_require=true`.
//! - References `name/version[@user/channel][#rev][%ts][:package_id...]` give name and
//!   version; `user`, `channel`, `revision` go to metadata. A reference without a `/`
//!   (no name) is skipped with a `parse-error`.
//!
//! A document that is not JSON is one `parse-error` with its line.

use std::collections::BTreeSet;

use moat_model::Diagnostic;

use super::MAX_PACKAGES;
use crate::{Ecosystem, LangPackage, LangParsed, read};

struct ConanRef {
    name: String,
    version: String,
    user: Option<String>,
    channel: Option<String>,
    revision: Option<String>,
}

fn parse_conan_ref(r: &str) -> Option<ConanRef> {
    let r = r.trim();
    let r = r.split(':').next().unwrap_or(r);
    let r = r.split('%').next().unwrap_or(r);
    let (r, revision) = match r.split_once('#') {
        Some((a, b)) => (a, Some(b.to_string()).filter(|s| !s.is_empty())),
        None => (r, None),
    };
    let (nv, uc) = match r.split_once('@') {
        Some((a, b)) => (a, Some(b)),
        None => (r, None),
    };
    let (name, version) = nv.split_once('/')?;
    if name.is_empty() || version.is_empty() {
        return None;
    }
    let (user, channel) = match uc.and_then(|s| s.split_once('/')) {
        Some((u, c)) => (Some(u.to_string()), Some(c.to_string())),
        None => (uc.map(str::to_string), None),
    };
    Some(ConanRef {
        name: name.to_string(),
        version: version.to_string(),
        user,
        channel,
        revision,
    })
}

fn conan_package(r: ConanRef) -> LangPackage {
    let mut p = LangPackage::new(Ecosystem::Conan, r.name, r.version);
    for (k, v) in [
        ("user", r.user),
        ("channel", r.channel),
        ("revision", r.revision),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            p.metadata.insert(k.into(), v.into());
        }
    }
    p
}

/// Node ids named by a `requires`/`build_requires` value: a list of ids, or a map whose
/// values are ids.
fn node_ids(v: Option<&serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::Object(o)) => o
            .values()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Parses a `conan.lock` (v1 graph lock or v2).
pub fn parse_conan_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json(bytes) {
        Ok(d) => d,
        Err(d) => return d.into(),
    };
    let mut out = LangParsed::default();
    if let Some(nodes) = doc
        .get("graph_lock")
        .and_then(|g| g.get("nodes"))
        .and_then(|n| n.as_object())
    {
        let mut required: BTreeSet<String> = BTreeSet::new();
        let mut build: BTreeSet<String> = BTreeSet::new();
        for node in nodes.values() {
            required.extend(node_ids(node.get("requires")));
            let b = node_ids(node.get("build_requires"));
            required.extend(b.iter().cloned());
            build.extend(b);
        }
        let has_zero = nodes.contains_key("0");
        let reference = |node: &serde_json::Value| -> Option<String> {
            node.get("ref")
                .and_then(|r| r.as_str())
                .or_else(|| node.get("pref").and_then(|r| r.as_str()))
                .map(str::to_string)
        };
        for (id, node) in nodes {
            if out.packages.len() >= MAX_PACKAGES {
                out.warn(read::too_many("nodes"));
                break;
            }
            let Some(r) = reference(node) else { continue };
            let Some(cr) = parse_conan_ref(&r) else {
                out.warn(Diagnostic::parse(format!(
                    "node {id}: cannot read reference {r:?}"
                )));
                continue;
            };
            let mut p = conan_package(cr);
            let is_root = if has_zero {
                id == "0"
            } else {
                !required.contains(id)
            };
            if is_root {
                p.application = true;
            } else if build.contains(id)
                || node.get("context").and_then(|c| c.as_str()) == Some("build")
            {
                p.dev = true;
                p.metadata.insert("build".into(), "true".into());
            }
            for dep in node_ids(node.get("requires"))
                .into_iter()
                .chain(node_ids(node.get("build_requires")))
            {
                if let Some(dr) = nodes
                    .get(&dep)
                    .and_then(reference)
                    .and_then(|r| parse_conan_ref(&r))
                    && !p.depends.contains(&dr.name)
                {
                    p.depends.push(dr.name);
                }
            }
            out.packages.push(p);
        }
        return out;
    }
    let mut any = false;
    for (key, flag) in [
        ("requires", None),
        ("build_requires", Some("build")),
        ("python_requires", Some("python_require")),
    ] {
        let Some(list) = doc.get(key).and_then(|l| l.as_array()) else {
            continue;
        };
        any = true;
        for r in list {
            if out.packages.len() >= MAX_PACKAGES {
                out.warn(read::too_many("references"));
                return out;
            }
            let Some(r) = r.as_str() else { continue };
            let Some(cr) = parse_conan_ref(r) else {
                out.warn(Diagnostic::parse(format!(
                    "{key}: cannot read reference {r:?}"
                )));
                continue;
            };
            let mut p = conan_package(cr);
            if let Some(f) = flag {
                p.dev = true;
                p.metadata.insert(f.into(), "true".into());
            }
            out.packages.push(p);
        }
    }
    if !any && !doc.is_object() {
        out.warn(Diagnostic::parse("not a conan lockfile"));
    }
    out
}
