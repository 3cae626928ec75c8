//! `Cargo.lock` fixtures against expectations written by `tests/data/cargo/gen.py`
//! (Python `tomllib`, independent of the Rust parser).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use moat_lang::{Ecosystem, cargo};

fn shared_data() -> Option<PathBuf> {
    let dir =
        PathBuf::from(std::env::var("MOAT_SHARED_DATA").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into()
        }));
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("shared data {} missing", dir.display());
    } else {
        eprintln!("skipped: {} missing", dir.display());
        None
    }
}

/// The `-- member --` section of a txtar archive.
fn txtar_member(text: &str, member: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches('\n');
        if let Some(name) = trimmed
            .strip_prefix("-- ")
            .and_then(|s| s.strip_suffix(" --"))
        {
            if out.is_some() {
                break;
            }
            if name.trim() == member {
                out = Some(String::new());
            }
            continue;
        }
        if let Some(o) = &mut out {
            o.push_str(line);
        }
    }
    out
}

/// Reads one expected file: (fixture path, expect warning, rows "name\tversion\tkind").
fn expected(path: &Path) -> (String, bool, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let source = head
        .split(" from ")
        .nth(1)
        .unwrap_or_else(|| panic!("{}: no source in header", path.display()))
        .to_string();
    let mut warn = false;
    let mut rows = Vec::new();
    for l in lines {
        if l == "# expect-warning" {
            warn = true;
        } else if !l.is_empty() {
            rows.push(l.to_string());
        }
    }
    (source, warn, rows)
}

#[test]
fn fixtures_match_independent_expectations() {
    let Some(data) = shared_data() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cargo/expected");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "expected files missing in {}",
        dir.display()
    );
    for file in files {
        let (source, warn, rows) = expected(&file);
        let bytes = match source.split_once("::") {
            Some((archive, member)) => {
                let text = std::fs::read_to_string(data.join(archive)).unwrap();
                txtar_member(&text, member).unwrap().into_bytes()
            }
            None => std::fs::read(data.join(&source)).unwrap(),
        };
        let parsed = cargo::parse_lock(&source, &bytes);
        let got: Vec<String> = parsed
            .packages
            .iter()
            .map(|p| {
                assert_eq!(p.ecosystem, Ecosystem::Cargo);
                let kind = if p.application { "app" } else { "dep" };
                format!("{}\t{}\t{kind}", p.name, p.version)
            })
            .collect();
        assert_eq!(got, rows, "{source}");
        if warn {
            assert!(!parsed.warnings.is_empty(), "{source}: warning expected");
        } else {
            assert!(
                parsed.warnings.is_empty(),
                "{source}: {:?}",
                parsed.warnings
            );
        }
    }
}

#[test]
fn v1_metadata_checksums_and_full_dependencies() {
    let Some(data) = shared_data() else { return };
    let src = "fixtures/cargo/trivy-parser/cargo_normal.lock";
    let p = cargo::parse_lock(src, &std::fs::read(data.join(src)).unwrap());
    let libc = p.packages.iter().find(|p| p.name == "libc").unwrap();
    assert_eq!(libc.metadata["lockfile_version"], "1");
    assert_eq!(
        libc.metadata["checksum"],
        "c6785aa7dd976f5fbf3b71cfd9cd49d7f783c1ff565a858d71031c6c313aa5c6"
    );
    let normal = p.packages.iter().find(|p| p.name == "normal").unwrap();
    assert!(normal.application);
    assert_eq!(normal.depends, vec!["libc"]);
    let url = p.packages.iter().find(|p| p.name == "url").unwrap();
    assert_eq!(url.depends, vec!["idna", "matches", "percent-encoding"]);
}

#[test]
fn lockfile_versions_are_detected() {
    let Some(data) = shared_data() else { return };
    for (src, want) in [
        ("fixtures/cargo/trivy-parser/cargo_normal.lock", "1"),
        ("fixtures/cargo/trivy-parser/cargo_v3.lock", "3"),
        ("fixtures/cargo/syft/Cargo.lock-with-git-deps", "3"),
    ] {
        let p = cargo::parse_lock(src, &std::fs::read(data.join(src)).unwrap());
        assert_eq!(p.packages[0].metadata["lockfile_version"], want, "{src}");
    }
    // v1 without [metadata]: recognised by its fully written dependency entries.
    let text =
        std::fs::read_to_string(data.join("fixtures/cargo/trivy-analyzer/happy.txtar")).unwrap();
    let lock = txtar_member(&text, "Cargo.lock").unwrap();
    let p = cargo::parse_lock("happy", lock.as_bytes());
    assert_eq!(p.packages[0].metadata["lockfile_version"], "1");
}

#[test]
fn v3_git_sources_and_short_dependencies() {
    let Some(data) = shared_data() else { return };
    let src = "fixtures/cargo/syft/Cargo.lock-with-git-deps";
    let p = cargo::parse_lock(src, &std::fs::read(data.join(src)).unwrap());
    let root = p.packages.iter().find(|p| p.name == "hello_world").unwrap();
    assert!(root.application);
    assert_eq!(root.depends, vec!["nom-regex", "regex"]);
    assert_eq!(root.metadata["lockfile_version"], "3");
    assert!(p.packages.iter().any(|p| {
        p.metadata
            .get("source")
            .is_some_and(|s| s.starts_with("git+"))
    }));
}

#[test]
fn truncated_and_bit_flipped_lockfiles_never_panic() {
    let Some(data) = shared_data() else { return };
    for src in [
        "fixtures/cargo/trivy-parser/cargo_normal.lock",
        "fixtures/cargo/syft/Cargo.lock-with-git-deps",
        "fixtures/cargo/osv-scalibr-cargolock/many-packages.lock",
    ] {
        let bytes = std::fs::read(data.join(src)).unwrap();
        for cut in (0..bytes.len()).step_by(7) {
            let _ = cargo::parse_lock(src, &bytes[..cut]);
        }
        let mut seed: u32 = 0x9e37_79b9;
        for _ in 0..300 {
            let mut b = bytes.clone();
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let i = seed as usize % b.len();
            b[i] ^= 1 << (seed >> 29);
            let _ = cargo::parse_lock(src, &b);
        }
    }
}
