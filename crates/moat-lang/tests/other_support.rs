//! Shared helpers of the python/ruby/other parser tests (included with `#[path]`; compiled
//! on its own it has no tests).
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use moat_lang::LangParsed;

pub type Parser = fn(&str, &[u8]) -> LangParsed;

/// A missing input: fail on CI, otherwise print "skipped".
pub fn missing(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} missing");
    }
    println!("skipped: {what} missing");
}

/// The read-only fixture and oracle data (`$MOAT_DATA`, default `../shared/data` beside the repository).
pub fn data_root() -> Option<PathBuf> {
    let root = PathBuf::from(
        std::env::var("MOAT_DATA")
            .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into()),
    );
    if root.join("fixtures").is_dir() {
        Some(root)
    } else {
        missing(&format!("fixture data at {}", root.display()));
        None
    }
}

/// Sorted rows `pkg\tname\tversion\tflag` (flag `app`, `dev` or `-`), plus `file\t/path`
/// rows when `with_files`.
pub fn rows(parsed: &LangParsed, with_files: bool) -> Vec<String> {
    let mut out = Vec::new();
    for p in &parsed.packages {
        let flag = if p.application {
            "app"
        } else if p.dev {
            "dev"
        } else {
            "-"
        };
        out.push(format!("pkg\t{}\t{}\t{flag}", p.name, p.version));
        if with_files {
            out.extend(p.files.iter().map(|f| format!("file\t{f}")));
        }
    }
    out.sort();
    out
}

pub struct Expectation {
    pub source: String,
    /// The relative path handed to the parser (`# path:`, default the source).
    pub path: String,
    pub parser: String,
    pub rows: Vec<String>,
}

/// Every file of `tests/data/<eco>/expected/`.
pub fn expectations(eco: &str) -> Vec<Expectation> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(eco)
        .join("expected");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let mut e = Expectation {
                source: String::new(),
                path: String::new(),
                parser: String::new(),
                rows: Vec::new(),
            };
            for line in text.lines() {
                if let Some(s) = line.strip_prefix("# source: ") {
                    e.source = s.to_string();
                } else if let Some(p) = line.strip_prefix("# path: ") {
                    e.path = p.to_string();
                } else if let Some(k) = line.strip_prefix("# parser: ") {
                    e.parser = k.to_string();
                } else if !line.starts_with('#') && !line.is_empty() {
                    e.rows.push(line.to_string());
                }
            }
            assert!(
                !e.source.is_empty() && !e.parser.is_empty(),
                "{}",
                path.display()
            );
            e
        })
        .collect()
}

/// Runs every expectation of `eco` and asserts exact equality.
pub fn check_expectations(eco: &str, min: usize, parser: fn(&str) -> Parser) {
    let Some(root) = data_root() else { return };
    let exp = expectations(eco);
    assert!(exp.len() >= min, "only {} expectations", exp.len());
    let mut failures = Vec::new();
    for e in &exp {
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let got = rows(&parser(&e.parser)(&e.path, &bytes), e.parser == "record");
        if got != e.rows {
            failures.push(format!(
                "{} ({}):\n  expected {:?}\n  got      {:?}",
                e.source, e.parser, e.rows, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Feeds truncations of every fixture of `eco` to its parser (and to `all`).
pub fn check_truncations(eco: &str, parser: fn(&str) -> Parser, all: &[Parser]) {
    let Some(root) = data_root() else { return };
    for e in expectations(eco) {
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        // Every prefix of small files, 256 prefixes of larger ones.
        let step = if bytes.len() <= 4096 {
            1
        } else {
            bytes.len() / 256
        };
        for cut in (0..bytes.len()).step_by(step) {
            let _ = parser(&e.parser)(&e.path, &bytes[..cut]);
            for p in all {
                let _ = p(&e.path, &bytes[..cut.min(512)]);
            }
        }
    }
}

/// Extracts `members` (tar wildcards) of every lang-app layer, in order, into a temp dir;
/// returns it and the rootfs path. `None` (after [`missing`]) when the image is absent.
pub fn lang_app(members: &[&str]) -> Option<(tempfile::TempDir, PathBuf)> {
    let images = std::env::var("MOAT_IMAGES").unwrap_or("/var/tmp/moat-images".into());
    let tar = Path::new(&images).join("out/lang-app.docker.tar");
    if !tar.is_file() {
        missing(&tar.display().to_string());
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let outer = tmp.path().join("image");
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(&outer).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
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
        .expect("Layers")
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert_eq!(layers.len(), 5);
    let st = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&outer)
        .args(&layers)
        .status()
        .unwrap();
    assert!(st.success());
    for l in &layers {
        // A layer holding none of the members makes tar exit non-zero: expected.
        let _ = Command::new("tar")
            .arg("-xf")
            .arg(outer.join(l))
            .arg("-C")
            .arg(&root)
            .args(["--wildcards", "--no-same-owner", "--no-same-permissions"])
            .args(members)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
    }
    Some((tmp, root))
}

pub fn read(root: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}
