//! A module's `go.mod` and the `go.sum` beside it.
//!
//! From Go 1.17 on, `go.mod` lists every module the build needs (indirect ones marked
//! `// indirect`), and `go.sum` also holds checksums of modules the build never uses (other
//! versions met while resolving, modules of tests of dependencies): beside a `go.mod` with
//! `go 1.17` or later, `go.sum` adds no packages. Before 1.17 (or without a `go`
//! directive, which Go reads as 1.16), `go.mod` lists only what the module requires
//! directly, and `go.sum` fills in the rest: each module `go.mod` does not name, at the
//! highest version `go.sum` has for it (the one minimal version selection picks), marked
//! `metadata["indirect"] = "true"`. A `go.sum` without a `go.mod` beside it still counts
//! whole.

use super::Found;
use moat_model::version::{Scheme, compare};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// A `go.mod`'s go version (`None` when it has no `go` directive) and the names it requires.
type ModFacts = (Option<(u64, u64)>, HashSet<String>);

/// The (major, minor) of a `go` directive (`1.21`, `1.21.3`, `1.22rc1`).
fn go_version(v: &str) -> Option<(u64, u64)> {
    let mut parts = v.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()
        .unwrap_or("0")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// Applies each `go.mod` to the `go.sum` in its directory.
pub(super) fn apply_go_sum(found: &mut Vec<Found>) {
    // directory -> what its go.mod says
    let mut mods: HashMap<String, ModFacts> = HashMap::new();
    for f in found.iter() {
        let Some(dir) = f.path.strip_suffix("/go.mod") else {
            continue;
        };
        let entry = mods.entry(dir.to_string()).or_default();
        if f.pkg.application {
            entry.0 = f.pkg.metadata.get("go_version").and_then(|v| go_version(v));
        } else {
            entry.1.insert(f.pkg.name.clone());
            if let Some(n) = f.pkg.metadata.get("original_name") {
                entry.1.insert(n.to_string());
            }
        }
    }
    if mods.is_empty() {
        return;
    }
    // (directory, module) -> the highest version go.sum has, before 1.17
    let mut highest: HashMap<(String, String), String> = HashMap::new();
    found.retain(|f| {
        let Some(dir) = f.path.strip_suffix("/go.sum") else {
            return true;
        };
        let Some((version, required)) = mods.get(dir) else {
            return true;
        };
        if version.is_some_and(|v| v >= (1, 17)) || required.contains(&f.pkg.name) {
            return false;
        }
        let slot = highest
            .entry((dir.to_string(), f.pkg.name.clone()))
            .or_insert_with(|| f.pkg.version.clone());
        if compare(Scheme::Go, &f.pkg.version, slot) == Ordering::Greater {
            *slot = f.pkg.version.clone();
        }
        true
    });
    found.retain(|f| {
        let Some(dir) = f.path.strip_suffix("/go.sum") else {
            return true;
        };
        highest
            .get(&(dir.to_string(), f.pkg.name.clone()))
            .is_none_or(|v| *v == f.pkg.version)
    });
    for f in found.iter_mut() {
        if f.path.ends_with("/go.sum") && mods.contains_key(f.path.trim_end_matches("/go.sum")) {
            f.pkg.metadata.insert("indirect".into(), "true".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_directives() {
        assert_eq!(go_version("1.17"), Some((1, 17)));
        assert_eq!(go_version("1.21.3"), Some((1, 21)));
        assert_eq!(go_version("1.22rc1"), Some((1, 22)));
        assert_eq!(go_version("1"), Some((1, 0)));
        assert_eq!(go_version("x"), None);
    }
}
