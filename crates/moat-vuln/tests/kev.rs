//! CISA KEV catalogue import.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_vuln::import::{self, kev};
use std::path::PathBuf;

fn vulns() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/vulns"
    ));
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("shared data missing at {}", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}

#[test]
fn real_catalogue() {
    let Some(v) = vulns() else { return };
    let batch = import::import_path(&v.join("kev")).unwrap();
    // python3 -c "import json;print(len(json.load(open('kev/known_exploited_vulnerabilities.json'))['vulnerabilities']))"  => 1404
    assert_eq!(batch.kev.len(), 1404);
    assert!(batch.advisories.is_empty());
    assert!(batch.malformed.is_empty(), "{:?}", batch.malformed);
    // the JSON schema beside it is skipped
    assert_eq!(batch.skipped.len(), 1, "{:?}", batch.skipped);
    assert_eq!(import::source_name(&v.join("kev"), &batch), "kev");
    let first = &batch.kev[0];
    assert_eq!(first.cve, "CVE-2025-48384");
    assert_eq!(first.vendor, "Git");
    assert_eq!(first.product, "Git");
    assert_eq!(first.name, "Git Link Following Vulnerability");
    assert_eq!(first.date_added, "2025-08-25");
    assert_eq!(first.due_date.as_deref(), Some("2025-09-15"));
    assert_eq!(first.ransomware.as_deref(), Some("Unknown"));
}

#[test]
fn malformed_catalogue() {
    assert!(kev::parse(b"{}").is_err());
    assert!(kev::parse(br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":"nope"}]}"#).is_err());
    let ok = kev::parse(br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2021-44228","dateAdded":"2021-12-10"}]}"#)
        .unwrap();
    assert_eq!(ok[0].cve, "CVE-2021-44228");
    assert_eq!(ok[0].due_date, None);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kev.json"),
        br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":5}]}"#,
    )
    .unwrap();
    let batch = import::import_path(dir.path()).unwrap();
    assert_eq!(batch.malformed.len(), 1);
    assert!(batch.kev.is_empty());
}
