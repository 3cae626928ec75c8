//! What the tests of this crate share: the path to `../shared` and its skip rule.
#![allow(dead_code)]

use std::path::PathBuf;

/// `rel` under `../shared` (beside the repository).
pub fn shared_path(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/")).join(rel)
}

/// `rel` under `../shared` when it is there; missing, a test fails under `CI=true` and says it
/// skipped otherwise.
pub fn shared_or_skip(rel: &str) -> Option<PathBuf> {
    let p = shared_path(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing (CI=true)", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}
