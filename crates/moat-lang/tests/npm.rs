//! npm parsers against every fixture lockfile, osv-scanner's recorded counts, and the
//! lang-app image.
//!
//! Expectations live in `tests/data/npm/*.expected`, written by `tests/data/npm/gen.py` (an
//! independent Python reading of the formats; the command is in each file's header). The
//! fixtures themselves are read in place from `$MOAT_FIXTURES`, else `../shared/data` beside the repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use moat_lang::npm;

#[path = "support/lockfile_suite.rs"]
mod suite;
use suite::fixture_root;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/npm")
}

fn parser(kind: &str) -> suite::Parser {
    match kind {
        "package-lock" => npm::parse_package_lock,
        "yarn" => npm::parse_yarn_lock,
        "pnpm" => npm::parse_pnpm_lock,
        "package-json" => npm::parse_installed_package_json,
        other => panic!("unknown parser {other}"),
    }
}

#[test]
fn every_fixture_matches_its_expectation() {
    suite::every_fixture_matches(&data_dir(), parser, 200, |kind| kind != "package-lock");
}

#[test]
fn truncated_fixtures_never_panic() {
    suite::truncated_fixtures_never_panic(&data_dir(), parser);
}

#[test]
fn hostile_yaml_is_bounded() {
    // An alias bomb: nine levels of nine-fold aliases.
    let mut y = String::from("lockfileVersion: '9.0'\na: &a [x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("l{}", i - 1)
        };
        y.push_str(&format!(
            "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    y.push_str("packages:\n  x@1.0.0: {}\n");
    let r = npm::parse_pnpm_lock("pnpm-lock.yaml", y.as_bytes());
    assert!(r.packages.is_empty() && !r.warnings.is_empty(), "{r:?}");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = npm::parse_yarn_lock(
        "yarn.lock",
        format!("__metadata:\n  x: {deep}\n").as_bytes(),
    );
    assert!(!r.warnings.is_empty());
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = npm::parse_package_lock("package-lock.json", deep_json.as_bytes());
    assert!(!r.warnings.is_empty());
}

#[test]
fn package_lock_details() {
    let Some(root) = fixture_root() else { return };
    let read = |p: &str| std::fs::read(root.join(p)).unwrap();
    // v2 alias: real name, alias in metadata
    let r = npm::parse_package_lock(
        "x",
        &read("fixtures/npm/osv-scalibr-packagelockjson/alias.v2.json"),
    );
    assert!(
        r.packages
            .iter()
            .any(|p| p.metadata.contains_key("alias") && p.name != p.metadata["alias"]),
        "{r:?}"
    );
    // v1 alias
    let r = npm::parse_package_lock(
        "x",
        &read("fixtures/npm/osv-scalibr-packagelockjson/alias.v1.json"),
    );
    assert!(r.packages.iter().any(|p| p.metadata.contains_key("alias")));
    assert!(r.packages.iter().all(|p| !p.version.starts_with("npm:")));
    // optional flag
    let r = npm::parse_package_lock(
        "x",
        &read("fixtures/npm/osv-scalibr-packagelockjson/optional-package.v2.json"),
    );
    assert!(
        r.packages
            .iter()
            .any(|p| p.metadata.get("optional").map(|v| v.as_str()) == Some("true"))
    );
}

// ---------------------------------------------------------------------------------------
// osv-scanner's recorded results
// ---------------------------------------------------------------------------------------

#[test]
fn osv_scanner_counts_or_listed_differences() {
    suite::osv_scanner_counts_or_listed_differences(&data_dir(), parser, 5);
}

// ---------------------------------------------------------------------------------------
// lang-app image
// ---------------------------------------------------------------------------------------

fn images_tar() -> Option<PathBuf> {
    let dir = std::env::var("MOAT_IMAGES").unwrap_or_else(|_| "/var/tmp/moat-images".into());
    let tar = Path::new(&dir).join("out/lang-app.docker.tar");
    if tar.is_file() {
        return Some(tar);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} missing",
        tar.display()
    );
    println!("skipped: {} missing", tar.display());
    None
}

/// Extracts the docker-save archive and its layer tars into `dir`, in layer order.
fn unpack_image(tar: &Path, dir: &Path) {
    let outer = dir.join("outer");
    std::fs::create_dir_all(&outer).unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(&outer)
        .arg("manifest.json")
        .status()
        .unwrap();
    assert!(st.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outer.join("manifest.json")).unwrap()).unwrap();
    let layers: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(&outer)
        .args(&layers)
        .status()
        .unwrap();
    assert!(st.success());
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    for l in &layers {
        // only the npm payload is needed
        let st = Command::new("tar")
            .arg("-xf")
            .arg(outer.join(l))
            .arg("-C")
            .arg(&rootfs)
            .arg("--wildcards")
            .arg("--no-same-owner")
            .arg("app/node/*")
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        let _ = st; // layers without app/node make tar exit non-zero
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            walk(&p, out);
        } else if ft.is_file() && p.file_name().is_some_and(|n| n == "package.json") {
            out.push(p);
        }
    }
}

#[test]
fn lang_app_lockfile_and_node_modules() {
    let Some(tar) = images_tar() else { return };
    let tmp = tempfile::tempdir().unwrap();
    unpack_image(&tar, tmp.path());
    let node = tmp.path().join("rootfs/app/node");
    let lock = std::fs::read(node.join("package-lock.json")).unwrap();
    let parsed = npm::parse_package_lock("app/node/package-lock.json", &lock);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let roots: Vec<_> = parsed.packages.iter().filter(|p| p.application).collect();
    assert_eq!(roots.len(), 1);
    let deps: Vec<_> = parsed.packages.iter().filter(|p| !p.application).collect();
    assert_eq!(deps.len(), 68);
    let top_level = deps
        .iter()
        .filter(|p| p.metadata["path"].matches("node_modules/").count() == 1)
        .count();
    assert_eq!(top_level, 66);
    let nested: Vec<_> = deps
        .iter()
        .filter(|p| p.metadata["path"].matches("node_modules/").count() > 1)
        .collect();
    assert_eq!(nested.len(), 2);
    assert!(nested.iter().all(|p| p.name == "ms"));
    for (n, v) in [
        ("express", "4.17.1"),
        ("lodash", "4.17.20"),
        ("axios", "0.21.1"),
        ("minimist", "1.2.5"),
        ("jsonwebtoken", "8.5.1"),
    ] {
        assert!(
            deps.iter().any(|p| p.name == n
                && p.version == v
                && p.metadata["path"] == format!("node_modules/{n}")),
            "{n} {v}"
        );
        assert!(roots[0].depends.iter().any(|d| d == n), "root depends {n}");
    }
    // installed package.json set == lockfile set (as a multiset of (name, version))
    let mut files = Vec::new();
    walk(&node.join("node_modules"), &mut files);
    let mut installed: Vec<(String, String)> = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(tmp.path().join("rootfs")).unwrap();
        let r =
            npm::parse_installed_package_json(rel.to_str().unwrap(), &std::fs::read(f).unwrap());
        assert!(r.warnings.is_empty(), "{rel:?}: {:?}", r.warnings);
        installed.extend(r.packages.into_iter().map(|p| (p.name, p.version)));
    }
    let mut locked: Vec<(String, String)> = deps
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    installed.sort();
    locked.sort();
    assert_eq!(installed, locked);
}
