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
//! The document is read streaming into small typed records (only the fields above; nothing
//! else is kept, and the legacy `dependencies` tree of a v2 file that has `packages` is
//! read through without keeping it), so memory follows the packages kept, not the file.
//! At most [`MAX_PACKAGES`](crate::read::MAX_PACKAGES) entries of a map are kept (one
//! `too-large` diagnostic says the rest was not read); the file's size budget is
//! [`crate::budget`]. A field of an unexpected type counts as absent, as before.
//!
//! A document that is not JSON is one `parse-error` with the line the JSON parser stopped at;
//! an entry that is not an object, or a v1 dependency without a version, is a `parse-error`
//! naming its key (JSON values carry no lines).

use moat_model::Diagnostic;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::{dep_target_name, licenses_from, pkg, split_name_at};
use crate::read::lenient::{Capped, Flag, Lenient, Str};
use crate::read::{self, MAX_PACKAGES};
use crate::{LangPackage, LangParsed};

/// Parses `package-lock.json` / `npm-shrinkwrap.json` (v1, v2, v3).
pub fn parse_package_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    match read::json_as::<Lenient<Doc>>(bytes) {
        Ok(Lenient::Object(doc)) => lock(doc),
        Ok(_) => Diagnostic::parse("not a package-lock object").into(),
        Err(d) => d.into(),
    }
}

/// A dependency map (`dependencies`, `optionalDependencies`, v1 `requires`): name to range.
type DepMap = Lenient<Capped<Str>>;

/// What is read of the document.
#[derive(Default)]
struct Doc {
    name: Str,
    version: Str,
    /// The v2/v3 `packages` map, when it is an object.
    packages: Option<Capped<Lenient<V2Entry>>>,
    /// The v1 `dependencies` tree, when it is an object and no `packages` came before it.
    dependencies: Option<Capped<Lenient<V1Entry>>>,
    /// Which of `packages` and `dependencies` held something other than an object (a
    /// malformed or crafted file: warned about, never silently read as empty).
    not_objects: Vec<&'static str>,
}

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Doc;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a package-lock object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Doc, A::Error> {
                let mut doc = Doc::default();
                while let Some(key) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "name" => doc.name = m.next_value()?,
                        "version" => doc.version = m.next_value()?,
                        "packages" => {
                            doc.packages = match m.next_value()? {
                                Lenient::Object(map) => Some(map),
                                _ => {
                                    doc.not_objects.push("packages");
                                    None
                                }
                            };
                        }
                        // v2 keeps the v1 tree for old npm: not needed once `packages` is in.
                        "dependencies" if doc.packages.is_some() => {
                            m.next_value::<IgnoredAny>()?;
                        }
                        "dependencies" => {
                            doc.dependencies = match m.next_value()? {
                                Lenient::Object(map) => Some(map),
                                _ => {
                                    doc.not_objects.push("dependencies");
                                    None
                                }
                            };
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(V)
    }
}

/// A v2/v3 `packages` entry.
#[derive(Default, Deserialize)]
#[serde(default)]
struct V2Entry {
    name: Str,
    version: Str,
    link: Flag,
    dev: Flag,
    #[serde(rename = "devOptional")]
    dev_optional: Flag,
    optional: Flag,
    dependencies: DepMap,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: DepMap,
    license: Option<Value>,
    licenses: Option<Value>,
}

/// A v1 `dependencies` entry.
#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Entry {
    version: Str,
    dev: Flag,
    optional: Flag,
    bundled: Flag,
    requires: DepMap,
    dependencies: Lenient<Capped<Lenient<V1Entry>>>,
}

/// The names of the dependency maps, sorted and unique (an `npm:real@range` alias value
/// names the real package).
fn dep_names<'a>(maps: impl IntoIterator<Item = &'a DepMap>) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for map in maps.into_iter().filter_map(Lenient::object) {
        for (name, val) in &map.map {
            out.insert(dep_target_name(name, val.str().unwrap_or("")).to_string());
        }
    }
    out.into_iter().collect()
}

fn lock(doc: Doc) -> LangParsed {
    let mut out = LangParsed::default();
    for key in &doc.not_objects {
        out.warn(Diagnostic::parse(format!(
            "`{key}` is not an object: nothing read from it"
        )));
    }
    if let Some(packages) = &doc.packages {
        lock_v2(&doc, packages, &mut out);
        if packages.dropped {
            out.warn(read::too_many("packages"));
        }
    } else {
        if let (Some(name), Some(version)) = (doc.name.str(), doc.version.str()) {
            let mut root = pkg(name, version);
            root.application = true;
            if let Some(deps) = &doc.dependencies {
                let mut names = std::collections::BTreeSet::new();
                for (key, entry) in &deps.map {
                    names.insert(dep_target_name(key, entry.str().unwrap_or("")).to_string());
                }
                root.depends = names.into_iter().collect();
            }
            out.packages.push(root);
        }
        let mut dropped = false;
        if let Some(deps) = &doc.dependencies {
            lock_v1(deps, "", &mut out, &mut dropped);
        }
        if dropped {
            out.packages.truncate(MAX_PACKAGES);
            out.warn(read::too_many("packages"));
        }
        for p in &mut out.packages {
            p.metadata.insert("lockfile_version".into(), "1".into());
        }
    }
    out
}

fn lock_v2(doc: &Doc, packages: &Capped<Lenient<V2Entry>>, out: &mut LangParsed) {
    for (key, entry) in &packages.map {
        let Some(entry) = entry.object() else {
            out.warn(Diagnostic::parse(format!(
                "packages[{key:?}]: entry is not an object"
            )));
            continue;
        };
        if key.is_empty() {
            let name = entry.name.str().or(doc.name.str());
            let version = entry.version.str().or(doc.version.str());
            if let (Some(name), Some(version)) = (name, version) {
                let mut root = pkg(name, version);
                root.application = true;
                root.depends = dep_names([&entry.dependencies, &entry.optional_dependencies]);
                root.licenses = licenses_from(entry.license.as_ref(), entry.licenses.as_ref());
                out.packages.push(root);
            }
            continue;
        }
        if entry.link.0 {
            continue;
        }
        let Some(version) = entry.version.str() else {
            continue;
        };
        let (path_name, workspace) = match key.rfind("node_modules/") {
            Some(i) => (&key[i + "node_modules/".len()..], false),
            None => (key.rsplit('/').next().unwrap_or(key), true),
        };
        let name = entry.name.str().unwrap_or(path_name);
        if name.is_empty() {
            continue;
        }
        let mut p = pkg(name, version);
        if !workspace && name != path_name {
            p.metadata
                .insert("alias".into(), path_name.to_string().into());
        }
        if workspace {
            p.metadata.insert("workspace".into(), "true".into());
        }
        p.metadata.insert("path".into(), key.clone().into());
        let dev_optional = entry.dev_optional.0;
        p.dev = entry.dev.0 || dev_optional;
        if entry.optional.0 || dev_optional {
            p.metadata.insert("optional".into(), "true".into());
        }
        p.depends = dep_names([&entry.dependencies, &entry.optional_dependencies]);
        p.licenses = licenses_from(entry.license.as_ref(), entry.licenses.as_ref());
        out.packages.push(p);
    }
}

fn lock_v1(
    deps: &Capped<Lenient<V1Entry>>,
    parent: &str,
    out: &mut LangParsed,
    dropped: &mut bool,
) {
    *dropped |= deps.dropped;
    for (key, entry) in &deps.map {
        if out.packages.len() > MAX_PACKAGES {
            *dropped = true;
            return;
        }
        let Some(entry) = entry.object() else {
            continue;
        };
        let install_path = format!("{parent}node_modules/{key}");
        let Some(version) = entry.version.str() else {
            if !entry.bundled.0 {
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
        let mut p: LangPackage = pkg(name, version);
        if let Some(a) = alias {
            p.metadata.insert("alias".into(), a.to_string().into());
        }
        p.metadata
            .insert("path".into(), install_path.clone().into());
        p.dev = entry.dev.0;
        if entry.optional.0 {
            p.metadata.insert("optional".into(), "true".into());
        }
        p.depends = dep_names([&entry.requires]);
        out.packages.push(p);
        if let Some(nested) = entry.dependencies.object() {
            lock_v1(nested, &format!("{install_path}/"), out, dropped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(r: &LangParsed) -> Vec<(&str, &str)> {
        r.packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect()
    }

    #[test]
    fn packages_that_are_not_an_object_are_a_warning() {
        // A 10,000-deep array where the map belongs: skipped in bounded memory, and said.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let doc = format!(r#"{{"name":"x","lockfileVersion":3,"packages":{deep}}}"#);
        let r = parse_package_lock("package-lock.json", doc.as_bytes());
        assert!(r.packages.is_empty());
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert_eq!(
            r.warnings[0].message,
            "`packages` is not an object: nothing read from it"
        );
        let r = parse_package_lock(
            "package-lock.json",
            br#"{"name":"x","version":"1","dependencies":"nope"}"#,
        );
        assert_eq!(names(&r), [("x", "1")]);
        assert_eq!(
            r.warnings[0].message,
            "`dependencies` is not an object: nothing read from it"
        );
    }

    #[test]
    fn odd_shapes_read_as_a_json_value_would_read_them() {
        // v2: entries in key order, a repeated key keeps its last value, fields of another
        // type count as absent, a non-object entry is a warning, the v1 tree beside
        // `packages` is not read (before or after it).
        let doc = br#"{"name":"app","version":"1","dependencies":{"zz":{"version":"9"}},
            "packages":{
              "node_modules/b":{"version":"2","dev":"yes","license":{"type":"MIT"},
                                "dependencies":{"a":"^1","x":{"no":1},"y":"npm:real@1"}},
              "node_modules/a":{"version":1},
              "node_modules/c":[1,2],
              "node_modules/d":{"version":"4","name":["n"],"optional":true},
              "node_modules/d":{"version":"5","devOptional":true,"extra":{"deep":[{}]}},
              "":{"name":"app","version":"1.0.0","licenses":[{"type":"ISC"},"MIT"]}
            },
            "dependencies":{"yy":{"version":"8"}}}"#;
        let r = parse_package_lock("package-lock.json", doc);
        assert_eq!(names(&r), [("app", "1.0.0"), ("b", "2"), ("d", "5")]);
        assert!(r.packages[0].application);
        assert_eq!(r.packages[0].licenses, ["ISC", "MIT"]);
        let b = &r.packages[1];
        assert!(!b.dev);
        assert_eq!(b.licenses, ["MIT"]);
        assert_eq!(b.depends, ["a", "real", "x"]);
        let d = &r.packages[2];
        assert!(d.dev);
        assert_eq!(d.metadata.get("optional").map(|v| v.as_str()), Some("true"));
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(
            r.warnings[0].message,
            "packages[\"node_modules/c\"]: entry is not an object"
        );
    }

    #[test]
    fn v1_trees_and_documents_that_are_not_objects() {
        let doc = br#"{"name":"app","version":"1","dependencies":{
              "b":{"version":"2","requires":{"a":"1"},"dependencies":{"c":{"version":"3","dev":true}}},
              "a":{"version":"1","optional":true},
              "s":"npm:sx@1",
              "n":{"bundled":true},
              "m":{}
            }}"#;
        let r = parse_package_lock("package-lock.json", doc);
        assert_eq!(
            names(&r),
            [("app", "1"), ("a", "1"), ("b", "2"), ("c", "3")]
        );
        assert_eq!(r.packages[0].depends, ["a", "b", "m", "n", "sx"]);
        assert_eq!(r.packages[2].depends, ["a"]);
        assert!(r.packages[3].dev);
        assert_eq!(
            r.packages[3].metadata["path"],
            "node_modules/b/node_modules/c"
        );
        assert!(
            r.packages
                .iter()
                .all(|p| p.metadata["lockfile_version"] == "1")
        );
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(
            r.warnings[0].message,
            "dependencies[\"node_modules/m\"]: no version"
        );

        for bad in [&b"[1]"[..], b"\"x\"", b"3"] {
            let r = parse_package_lock("package-lock.json", bad);
            assert_eq!(r.warnings[0].message, "not a package-lock object");
        }
        let r = parse_package_lock("package-lock.json", b"{\"packages\": {\n\"a\": }");
        assert!(r.warnings[0].message.starts_with("invalid JSON: "));
        assert_eq!(r.warnings[0].line, Some(2));
    }

    #[test]
    fn packages_past_the_cap_are_counted_not_kept() {
        let mut doc = String::from("{\"lockfileVersion\":3,\"packages\":{");
        for i in 0..MAX_PACKAGES + 5 {
            if i > 0 {
                doc.push(',');
            }
            doc.push_str(&format!("\"node_modules/p{i:07}\":{{\"version\":\"1\"}}"));
        }
        doc.push_str("}}");
        let r = parse_package_lock("package-lock.json", doc.as_bytes());
        assert_eq!(r.packages.len(), MAX_PACKAGES);
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(
            r.warnings[0].message,
            format!("more than {MAX_PACKAGES} packages; the rest is not read")
        );
    }
}
