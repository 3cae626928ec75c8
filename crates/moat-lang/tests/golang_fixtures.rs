//! `go.mod` / `go.sum` fixtures against expectations written by `tests/data/go/gen.py`
//! (Python regular expressions, independent of the Rust parser).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use moat_lang::{Ecosystem, LangParsed, golang};

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

fn rows(parsed: &LangParsed) -> Vec<String> {
    parsed
        .packages
        .iter()
        .map(|p| {
            assert_eq!(p.ecosystem, Ecosystem::Go);
            let kind = if p.application {
                "app"
            } else if p.metadata.get("indirect").is_some_and(|v| v == "true") {
                "indirect"
            } else {
                "dep"
            };
            format!("{}\t{}\t{kind}", p.name, p.version)
        })
        .collect()
}

#[test]
fn fixtures_match_independent_expectations() {
    let Some(data) = shared_data() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/go/expected");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 60,
        "expected files missing in {}",
        dir.display()
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines();
        let head = lines.next().unwrap();
        let source = head.split(" from ").nth(1).unwrap();
        let is_sum = head.contains("(regex, sum)");
        let mut warn = false;
        let mut want = Vec::new();
        for l in lines {
            if l == "# expect-warning" {
                warn = true;
            } else if !l.is_empty() {
                want.push(l.to_string());
            }
        }
        let bytes = std::fs::read(data.join(source)).unwrap();
        let parsed = if is_sum {
            golang::parse_sum(source, &bytes)
        } else {
            golang::parse_mod(source, &bytes)
        };
        assert_eq!(rows(&parsed), want, "{source}");
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

fn parse_fixture(data: &Path, src: &str) -> LangParsed {
    golang::parse_mod(src, &std::fs::read(data.join(src)).unwrap())
}

#[test]
fn directives_and_replacements_in_detail() {
    let Some(data) = shared_data() else { return };
    let p = parse_fixture(
        &data,
        "fixtures/go/osv-scalibr-gomod/toolchain-with-suffix.mod",
    );
    assert_eq!(p.packages[0].metadata["go_version"], "1.23.5");
    assert_eq!(p.packages[0].metadata["toolchain"], "go1.23.6-xyz");
    assert_eq!(p.packages[0].version, "");

    let p = parse_fixture(&data, "fixtures/go/osv-scalibr-gomod/replace-one.mod");
    let net = &p.packages[0];
    assert_eq!(
        (net.name.as_str(), net.version.as_str()),
        ("example.com/fork/net", "v1.4.5")
    );
    assert_eq!(net.metadata["original_name"], "golang.org/x/net");
    assert_eq!(net.metadata["original_version"], "v1.2.3");
    assert_eq!(net.metadata["replaced_by"], "example.com/fork/net v1.4.5");

    let p = parse_fixture(&data, "fixtures/go/osv-scalibr-gomod/replace-local.mod");
    let net = &p.packages[0];
    assert_eq!(
        (net.name.as_str(), net.version.as_str()),
        ("golang.org/x/net", "v1.2.3")
    );
    assert_eq!(net.metadata["replaced_by"], "./fork/net");
    assert_eq!(net.metadata["local_replace"], "true");

    let p = parse_fixture(&data, "fixtures/go/osv-scalibr-gomod/replace-mixed.mod");
    assert_eq!(p.packages[0].name, "example.com/fork/net");
    assert_eq!(p.packages[1].name, "golang.org/x/net");
    assert!(!p.packages[1].metadata.contains_key("replaced_by"));

    let p = parse_fixture(&data, "fixtures/go/syft/corrupt/go.mod");
    assert!(
        p.warnings.iter().any(|w| w.message.contains("ruire")),
        "{:?}",
        p.warnings
    );

    let p = parse_fixture(&data, "fixtures/go/osv-scalibr-gomod/empty.mod");
    assert_eq!(p, LangParsed::default());
}

#[test]
fn go_sum_keeps_versions_as_written() {
    let Some(data) = shared_data() else { return };
    let src = "fixtures/go/trivy-parser-sum/gomod_many.sum";
    let p = golang::parse_sum(src, &std::fs::read(data.join(src)).unwrap());
    assert!(!p.packages.is_empty());
    assert!(p.packages.iter().all(|p| !p.version.ends_with("/go.mod")));
    let text = std::fs::read_to_string(data.join(src)).unwrap();
    if text.contains("+incompatible ") {
        assert!(
            p.packages
                .iter()
                .any(|p| p.version.ends_with("+incompatible"))
        );
    }
}

#[test]
fn truncated_and_bit_flipped_files_never_panic() {
    let Some(data) = shared_data() else { return };
    for src in [
        "fixtures/go/syft/go-source-replacements/go.mod",
        "fixtures/go/osv-scalibr-gomod/indirect-packages.mod",
        "oracles/trivy-integration/fixtures/repo/gomod/go.mod",
        "fixtures/go/trivy-parser-sum/gomod_normal.sum",
    ] {
        let bytes = std::fs::read(data.join(src)).unwrap();
        let mut seed: u32 = 0x1234_5678;
        for cut in (0..bytes.len()).step_by(3) {
            let _ = golang::parse_mod(src, &bytes[..cut]);
            let _ = golang::parse_sum(src, &bytes[..cut]);
        }
        for _ in 0..300 {
            let mut b = bytes.clone();
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let i = seed as usize % b.len();
            b[i] ^= 1 << (seed >> 29);
            let _ = golang::parse_mod(src, &b);
            let _ = golang::parse_sum(src, &b);
        }
    }
}
