//! Helpers shared by the dpkg/apk/osrelease integration tests (included with
//! `#[path]`; as its own test target it has no tests).
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// The project's shared data folder (`shared/`, beside the work tree): env
/// `MOAT_SHARED_DIR`, else `<repo>/../shared`, else `/work/shared`. When it is
/// missing the test fails under `CI=true` and is skipped (None) otherwise.
pub fn shared_dir() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("MOAT_SHARED_DIR").map(PathBuf::from),
        Some(manifest.join("../../../shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.join("data/fixtures").is_dir() {
            return Some(c);
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("shared data folder not found (set MOAT_SHARED_DIR)");
    }
    eprintln!("skipped: shared data folder not found");
    None
}

/// A tiny txtar reader: `-- name --` lines start sections; text before the first
/// is the comment and is dropped. Returns (name, body) pairs in order.
pub fn txtar(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if let Some(name) = bare.strip_prefix("-- ").and_then(|s| s.strip_suffix(" --")) {
            out.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
        }
    }
    out
}
