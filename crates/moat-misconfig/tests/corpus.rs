#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every Dockerfile of `../shared/corpus/dockerfiles` parses (the few BuildKit refuses give a
//! located error), and every one of them cut at many points, or with a byte flipped, gives
//! findings and errors that point inside the input and never a panic: a cheap, deterministic
//! complement to the `dockerfile` fuzz target.

use moat_misconfig::dockerfile;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(dockerfile::is_dockerfile_name)
        {
            out.push(p);
        }
    }
}

fn checked_within(bytes: &[u8]) {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let c = dockerfile::check("Dockerfile", bytes);
    for f in &c.findings {
        let span = f.location.as_ref().unwrap().span.unwrap();
        assert!(span.start_line >= 1 && span.end_line <= lines, "{f:?}");
    }
    for d in &c.diagnostics {
        assert!(d.line.is_none_or(|l| l >= 1 && l <= lines), "{d:?}");
    }
}

#[test]
fn the_corpus_parses_and_mutations_never_escape_the_input() {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/dockerfiles"
    ));
    if !dir.exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{} missing (CI=true)",
            dir.display()
        );
        eprintln!("skipped: {} not found", dir.display());
        return;
    }
    let mut list = Vec::new();
    files(&dir, &mut list);
    list.sort();
    assert!(list.len() >= 250, "{}", list.len());
    let mut refused = Vec::new();
    for p in &list {
        let bytes = std::fs::read(p).unwrap();
        if let Err(e) = dockerfile::parse(&bytes) {
            refused.push(format!("{}: {e}", p.strip_prefix(&dir).unwrap().display()));
        }
        checked_within(&bytes);
        for k in 1..16 {
            let cut = bytes.len() * k / 16;
            checked_within(&bytes[..cut]);
            let mut flipped = bytes.clone();
            if let Some(b) = flipped.get_mut(cut) {
                *b = [b'\\', b'\n', b'<', b'"', b'$', b'{', b'['][k % 7];
            }
            checked_within(&flipped);
        }
    }
    // The only files BuildKit (and moat) refuse: an empty fixture.
    assert_eq!(
        refused,
        [
            "checkov-tests/tests/dockerfile/resources/empty_dockerfile/Dockerfile: line 1: no FROM instruction: the file defines no build stage"
        ]
    );
}
