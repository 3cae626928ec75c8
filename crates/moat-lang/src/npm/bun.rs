//! [`parse_bun_lock`]: `bun.lock`, the text lockfile of bun 1.2 and later (`lockfileVersion`
//! 0 or 1; the older binary `bun.lockb` is not read).
//!
//! The file is JSON with trailing commas. `workspaces` maps each workspace directory (`""`
//! is the project itself) to its `name`, `version` and dependency maps; `packages` maps an
//! install path (`send/ms` is `ms` nested under `send`) to an array whose first element is
//! `name@version` and whose object element holds the package's own `dependencies`,
//! `optionalDependencies` and `peerDependencies`.
//!
//! * Registry packages (`name@1.2.3`) are packages, each install path once
//!   (`metadata["path"]` for nested ones). Entries whose "version" names a source instead
//!   (`git+`, `github:`, `file:`, `link:`, a tarball URL) carry no version to match and are
//!   left out; `name@workspace:dir` entries are the workspaces, reported from `workspaces`.
//! * The workspaces with a name are `application: true` (version as written, empty when
//!   none).
//! * Development dependencies: the names in a workspace's `devDependencies`, and every
//!   package only they pull in (the dependency graph from the workspaces' runtime
//!   dependencies, see [`crate::project::reach`]), are `dev: true`.
//!
//! A document that is not JSON is one `parse-error` with its line; an entry that is not an
//! array starting with a string is a `parse-error` naming its key.

use std::collections::BTreeSet;

use moat_model::Diagnostic;
use serde_json::Value;

use super::{dep_names, pkg, split_name_at, value_str};
use crate::project::{Reach, reach};
use crate::read::{self, MAX_PACKAGES};
use crate::{Ecosystem, LangPackage, LangParsed};

/// Largest `bun.lock` read.
const MAX_BYTES: usize = 128 << 20;

/// Runtime dependency maps of a workspace or package.
const RUNTIME: [&str; 3] = ["dependencies", "optionalDependencies", "peerDependencies"];

/// Parses a `bun.lock`.
pub fn parse_bun_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::check_size(bytes, MAX_BYTES).and_then(|()| read::json_lenient(bytes)) {
        Ok(d) if d.is_object() => d,
        Ok(_) => return Diagnostic::parse("not a bun.lock object").into(),
        Err(d) => return d.into(),
    };
    let mut out = LangParsed::default();
    let mut runtime: BTreeSet<String> = BTreeSet::new();
    let mut dev: BTreeSet<String> = BTreeSet::new();
    if let Some(ws) = doc.get("workspaces").and_then(Value::as_object) {
        for (dir, w) in ws {
            runtime.extend(dep_names(w, &RUNTIME));
            dev.extend(dep_names(w, &["devDependencies"]));
            let Some(name) = value_str(w.get("name")).filter(|n| !n.is_empty()) else {
                continue;
            };
            let mut p = pkg(name, value_str(w.get("version")).unwrap_or(""));
            p.application = true;
            p.depends = dep_names(w, &RUNTIME);
            if !dir.is_empty() {
                p.metadata.insert("workspace".into(), dir.clone().into());
            }
            out.packages.push(p);
        }
    }
    let workspaces = out.packages.len();
    if let Some(entries) = doc.get("packages").and_then(Value::as_object) {
        for (key, entry) in entries {
            if out.packages.len() >= MAX_PACKAGES {
                out.warn(read::too_many("packages"));
                break;
            }
            let Some(ident) = entry.get(0).and_then(Value::as_str) else {
                out.warn(Diagnostic::parse(format!(
                    "packages[{key:?}]: not an array starting with `name@version`"
                )));
                continue;
            };
            let (name, version) = split_name_at(ident);
            if name.is_empty() || version.is_empty() {
                out.warn(Diagnostic::parse(format!(
                    "packages[{key:?}]: no version in {ident:?}"
                )));
                continue;
            }
            if is_source(version) {
                continue;
            }
            let mut p = pkg(name, version);
            if key != name {
                p.metadata.insert("path".into(), key.clone().into());
            }
            if let Some(info) = entry
                .as_array()
                .and_then(|a| a.iter().skip(1).find(|v| v.is_object()))
            {
                p.depends = dep_names(info, &RUNTIME);
            }
            out.packages.push(p);
        }
    }
    let runtime: Vec<String> = runtime.into_iter().collect();
    let dev: Vec<String> = dev.into_iter().collect();
    let deps: Vec<&LangPackage> = out.packages[workspaces..].iter().collect();
    let reached = reach(Ecosystem::Npm, &deps, &runtime, &[], &dev);
    for (p, r) in out.packages[workspaces..].iter_mut().zip(reached) {
        p.dev = r == Reach::Dev;
    }
    out
}

/// A version that names where the package came from rather than a registry version.
fn is_source(version: &str) -> bool {
    version.contains(':') || version.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_git_and_workspaces() {
        let lock = br#"{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "web",
      "dependencies": { "ms": "^2.1.3", "lib": "workspace:*", },
      "devDependencies": { "tsc-tool": "1.0.0", },
    },
    "packages/lib": { "name": "lib", "version": "0.2.0", "dependencies": { "left": "github:a/left#abc" } },
  },
  "packages": {
    "lib": ["lib@workspace:packages/lib"],
    "left": ["left@github:a/left#abc", {}, "a-left-abc"],
    "ms": ["ms@2.1.3", "", {}, "sha512-x"],
    "tsc-tool": ["tsc-tool@1.0.0", "", { "dependencies": { "ms": "2.0.0", "only-dev": "1" } }, "sha512-y"],
    "tsc-tool/ms": ["ms@2.0.0", "", {}, "sha512-z"],
    "only-dev": ["only-dev@1.0.0", "", {}, "sha512-w"],
    "broken": 3,
  }
}"#;
        let r = parse_bun_lock("bun.lock", lock);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        let got: Vec<(String, String, bool, bool)> = r
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.application, p.dev))
            .collect();
        let s = |n: &str, v: &str, a: bool, d: bool| (n.to_string(), v.to_string(), a, d);
        assert_eq!(
            got,
            [
                s("web", "", true, false),
                s("lib", "0.2.0", true, false),
                s("ms", "2.1.3", false, false),
                s("only-dev", "1.0.0", false, true),
                s("tsc-tool", "1.0.0", false, true),
                s("ms", "2.0.0", false, false),
            ]
        );
        assert_eq!(r.packages[5].metadata["path"], "tsc-tool/ms");
    }
}
