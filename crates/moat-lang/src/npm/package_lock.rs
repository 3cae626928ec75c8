//! [`parse_package_lock`]: `package-lock.json` / `npm-shrinkwrap.json`.
//!
//! * v1 (`lockfileVersion: 1`): the nested `dependencies` tree, every package with
//!   `metadata["lockfile_version"] = "1"` (npm 6 wrote no `dev` flag into some of them; the
//!   scan's join then takes dev dependencies from the `package.json` beside the lock). An aliased entry has a
//!   version `npm:real-name@1.2.3`; it is reported under the real name with the alias in
//!   `metadata["alias"]`. `requires` names become `depends`.
//! * v2 / v3: the `packages` map keyed by install path (`node_modules/a/node_modules/b`).
//!   The name is the entry's `name` when present (an alias key then goes to
//!   `metadata["alias"]`), else the path after the last `node_modules/`. Every path is kept,
//!   so nested copies of one package (even with the same version) are separate packages,
//!   each with `metadata["path"]`. Entries with `link: true` or without a version are
//!   skipped; the workspace a link points to has its own key (a path without
//!   `node_modules/`) and is kept when it has a version (`metadata["workspace"]`).
//! * The root (the `""` key, or the top-level `name` + `version`) is `application: true`.
//! * `dev: true` / `devOptional: true` give `dev: true`; `optional` / `devOptional` give
//!   `metadata["optional"] = "true"`. `dependencies` and `optionalDependencies` keys become
//!   `depends` (an `npm:real@range` alias value names the real package).
//!
//! A document that is not JSON is one `parse-error` with the line the JSON parser stopped at;
//! an entry that is not an object, or a v1 dependency without a version, is a `parse-error`
//! naming its key (JSON values carry no lines).

use moat_model::Diagnostic;
use serde_json::Value;

use super::{dep_names, flag, licenses_of, pkg, split_name_at, value_str};
use crate::{LangParsed, read};

/// Parses `package-lock.json` / `npm-shrinkwrap.json` (v1, v2, v3).
pub fn parse_package_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    read::json_object(bytes, "package-lock").map_or_else(LangParsed::from, |doc| lock(&doc))
}

fn lock(doc: &Value) -> LangParsed {
    let mut out = LangParsed::default();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        lock_v2(doc, packages, &mut out);
    } else {
        if let (Some(name), Some(version)) =
            (value_str(doc.get("name")), value_str(doc.get("version")))
        {
            let mut root = pkg(name, version);
            root.application = true;
            root.depends = dep_names(doc, &["dependencies"]);
            out.packages.push(root);
        }
        if let Some(deps) = doc.get("dependencies").and_then(Value::as_object) {
            lock_v1(deps, "", &mut out);
        }
        for p in &mut out.packages {
            p.metadata.insert("lockfile_version".into(), "1".into());
        }
    }
    out
}

fn lock_v2(doc: &Value, packages: &serde_json::Map<String, Value>, out: &mut LangParsed) {
    for (key, entry) in packages {
        if !entry.is_object() {
            out.warn(Diagnostic::parse(format!(
                "packages[{key:?}]: entry is not an object"
            )));
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
                out.warn(Diagnostic::parse(format!(
                    "dependencies[{install_path:?}]: no version"
                )));
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
