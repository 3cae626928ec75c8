//! # `Cargo.lock`, versions 1 to 4, and `Cargo.toml`
//!
//! Every lockfile version is a TOML document with an array of `[[package]]` tables, each with
//! `name`, `version` and, for anything not in the workspace, `source`
//! (`registry+<url>`, `sparse+<url>`, `git+<url>#<rev>`). The versions differ in details this
//! parser accepts all of:
//!
//! * **v1** (no top-level `version`; a `[metadata]` table, or every `dependencies` entry in
//!   the full form below, since a v1 file without checksums has no `[metadata]`): checksums live in
//!   `[metadata]` as `"checksum <name> <version> (<source>)" = "<hex>"`, and every
//!   `dependencies` entry is written in full as `"<name> <version> (<source>)"`.
//! * **v2** (no top-level `version`, no `[metadata]`) and **v3** / **v4** (`version = 3|4`):
//!   `checksum` sits in the package table and `dependencies` entries are as short as they can
//!   be while unambiguous: `"<name>"`, `"<name> <version>"` or `"<name> <version> (<source>)"`.
//!
//! Output: one [`LangPackage`] per `[[package]]` that has both a `name` and a `version`
//! (string values), in file order, duplicates kept (a lockfile may hold two versions of a
//! crate). `depends` holds the names of the `dependencies` entries (first token, deduplicated,
//! in order). Metadata: `source` and `checksum` when present, `lockfile_version` (`1`..`4`,
//! detected as above). Packages without `source` are the workspace root and members (and
//! path dependencies, which Cargo cannot tell apart from members in the lockfile): they are
//! marked `application: true`.
//!
//! A document that is not valid TOML yields one `parse-error` diagnostic (with the line the
//! TOML parser stopped at) and no packages; a `[[package]]` without a usable name or version
//! is skipped with a `parse-error`. A file over 64 MiB is `too-large` and not read.
//!
//! The project's `Cargo.toml` is read too ([`parse_manifest`]): not for packages, but for
//! which dependencies are `[dev-dependencies]` and `[build-dependencies]`, which a lockfile
//! does not say (see [`crate::project`]).

use std::collections::BTreeMap;

use moat_model::Diagnostic;

use crate::{Ecosystem, LangPackage, LangParsed, read};

/// Largest `Cargo.lock` accepted (real ones are well under 1 MiB).
const MAX_LOCK_BYTES: usize = 64 << 20;

/// Parses a `Cargo.lock`.
pub fn parse_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    match read::check_size(bytes, MAX_LOCK_BYTES).and_then(|()| read::toml(bytes)) {
        Ok(doc) => lock(&doc),
        Err(d) => d.into(),
    }
}

fn lock(doc: &toml::Table) -> LangParsed {
    let mut out = LangParsed::default();
    let metadata = doc.get("metadata").and_then(|m| m.as_table());
    let lock_version = match doc.get("version") {
        Some(toml::Value::Integer(v)) => v.to_string(),
        Some(other) => {
            out.warn(Diagnostic::parse(format!(
                "top-level `version` is not an integer: {other}"
            )));
            String::new()
        }
        None if metadata.is_some() || all_dependencies_in_full(doc) => "1".to_string(),
        None => "2".to_string(),
    };

    // v1 checksums: "checksum <name> <version> (<source>)" = "<hex>".
    let mut v1_checksums: BTreeMap<(String, String), String> = BTreeMap::new();
    if let Some(meta) = metadata {
        for (key, value) in meta {
            let Some(rest) = key.strip_prefix("checksum ") else {
                continue;
            };
            let Some(sum) = value.as_str() else { continue };
            let mut words = rest.split_whitespace();
            if let (Some(n), Some(v)) = (words.next(), words.next()) {
                v1_checksums.insert((n.to_string(), v.to_string()), sum.to_string());
            }
        }
    }

    let packages = match doc.get("package") {
        None => return out,
        Some(toml::Value::Array(a)) => a,
        Some(_) => {
            out.warn(Diagnostic::parse("`package` is not an array of tables"));
            return out;
        }
    };

    for (i, entry) in packages.iter().enumerate() {
        let Some(table) = entry.as_table() else {
            out.warn(Diagnostic::parse(format!(
                "[[package]] #{} is not a table",
                i + 1
            )));
            continue;
        };
        let name = table.get("name").and_then(|v| v.as_str());
        let version = table.get("version").and_then(|v| v.as_str());
        let (Some(name), Some(version)) = (name, version) else {
            out.warn(Diagnostic::parse(format!(
                "[[package]] #{} has no string `name` and `version`; skipped",
                i + 1
            )));
            continue;
        };
        let mut pkg = LangPackage::new(Ecosystem::Cargo, name, version);
        let source = table.get("source").and_then(|v| v.as_str());
        match source {
            Some(s) => {
                pkg.metadata.insert("source".into(), s.to_string().into());
            }
            None => pkg.application = true,
        }
        let checksum = table
            .get("checksum")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .or_else(|| {
                v1_checksums
                    .get(&(name.to_string(), version.to_string()))
                    .cloned()
            });
        if let Some(c) = checksum {
            pkg.metadata.insert("checksum".into(), c.into());
        }
        if !lock_version.is_empty() {
            pkg.metadata
                .insert("lockfile_version".into(), lock_version.clone().into());
        }
        if let Some(deps) = table.get("dependencies").and_then(|v| v.as_array()) {
            for dep in deps.iter().filter_map(|d| d.as_str()) {
                if let Some(dep_name) = dep.split_whitespace().next()
                    && !pkg.depends.iter().any(|d| d == dep_name)
                {
                    pkg.depends.push(dep_name.to_string());
                }
            }
        }
        out.packages.push(pkg);
    }
    out
}

/// Parses a `Cargo.toml` (the project's manifest; see [`crate::project`]): the package's
/// name, version and licence, and the names of its dependencies by kind, those of
/// `[target.<cfg>.*]` tables included. A dependency renamed with `package = "real"` is
/// named `real`, as in `Cargo.lock`. A version or licence inherited from the workspace
/// (`{ workspace = true }`) is not known here and left out.
pub fn parse_manifest(_path: &str, bytes: &[u8]) -> crate::project::ManifestParsed {
    let doc = match read::toml(bytes) {
        Ok(d) => d,
        Err(d) => return d.into(),
    };
    let mut m = crate::project::ProjectManifest::new(Ecosystem::Cargo);
    if let Some(pkg) = doc.get("package").and_then(toml::Value::as_table) {
        let text = |k: &str| pkg.get(k).and_then(toml::Value::as_str).map(str::to_string);
        m.name = text("name");
        m.version = text("version");
        m.licenses.extend(text("license"));
    }
    m.workspace = doc.contains_key("workspace");
    let mut tables = vec![&doc];
    if let Some(targets) = doc.get("target").and_then(toml::Value::as_table) {
        tables.extend(targets.values().filter_map(toml::Value::as_table));
    }
    for t in tables {
        for (keys, list) in [
            (["dependencies", "dependencies"], &mut m.dependencies),
            (
                ["dev-dependencies", "dev_dependencies"],
                &mut m.dev_dependencies,
            ),
            (
                ["build-dependencies", "build_dependencies"],
                &mut m.build_dependencies,
            ),
        ] {
            for key in keys {
                let Some(deps) = t.get(key).and_then(toml::Value::as_table) else {
                    continue;
                };
                list.extend(deps.iter().map(|(name, spec)| {
                    spec.get("package")
                        .and_then(toml::Value::as_str)
                        .unwrap_or(name)
                        .to_string()
                }));
            }
        }
    }
    m.into()
}

/// True when some `dependencies` entry exists and every one is written in full
/// (`"<name> <version> (<source>)"`, as only v1 does for every entry).
fn all_dependencies_in_full(doc: &toml::Table) -> bool {
    let Some(packages) = doc.get("package").and_then(|p| p.as_array()) else {
        return false;
    };
    let mut any = false;
    for dep in packages
        .iter()
        .filter_map(|p| p.get("dependencies")?.as_array())
        .flatten()
        .filter_map(|d| d.as_str())
    {
        any = true;
        if !(dep.split_whitespace().count() == 3 && dep.ends_with(')')) {
            return false;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_with_metadata_checksums() {
        let lock = br#"
[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "libc 0.2.54 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "libc"
version = "0.2.54"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.54 (registry+https://github.com/rust-lang/crates.io-index)" = "abc"
"#;
        let p = parse_lock("Cargo.lock", lock);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.packages.len(), 2);
        assert!(p.packages[0].application);
        assert_eq!(p.packages[0].depends, vec!["libc"]);
        assert_eq!(p.packages[1].metadata["checksum"], "abc");
        assert_eq!(p.packages[1].metadata["lockfile_version"], "1");
        assert!(!p.packages[1].application);
    }

    #[test]
    fn v4_short_dependencies() {
        let lock = br#"version = 4
[[package]]
name = "a"
version = "1.0.0"
dependencies = ["b", "c 1.0.0", "c 2.0.0 (registry+https://x)"]
[[package]]
name = "b"
version = "1.0.0"
source = "git+https://example.com/b#abc"
"#;
        let p = parse_lock("Cargo.lock", lock);
        assert_eq!(p.packages[0].depends, vec!["b", "c"]);
        assert_eq!(
            p.packages[1].metadata["source"],
            "git+https://example.com/b#abc"
        );
        assert_eq!(p.packages[1].metadata["lockfile_version"], "4");
    }

    #[test]
    fn invalid_toml_warns() {
        let p = parse_lock("Cargo.lock", b"[[package]]\nname = \"x\"\nversion =\n");
        assert!(p.packages.is_empty());
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].message.contains("not valid TOML"));
    }

    #[test]
    fn not_toml_names_the_line_and_not_the_path() {
        let p = parse_lock("app/Cargo.lock", b"# lock\nversion = 4\n[[package]\n");
        assert!(p.packages.is_empty());
        let d = &p.warnings[0];
        assert_eq!(d.code, moat_model::Code::ParseError);
        assert_eq!(d.line, Some(3));
        assert!(d.message.starts_with("not valid TOML: "), "{}", d.message);
        assert!(!d.message.contains("Cargo.lock"), "{}", d.message);
        assert_eq!((&d.path, d.layer), (&None, None));
        let big = vec![b' '; MAX_LOCK_BYTES + 1];
        assert_eq!(
            parse_lock("Cargo.lock", &big).warnings[0].code,
            moat_model::Code::TooLarge
        );
    }
}
