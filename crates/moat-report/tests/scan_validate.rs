//! The scan reports against the formats' reference validators (`validate-sarif`,
//! `validate-cyclonedx` in `$MOAT_PEERS/bin`, default `/var/tmp/moat-peers`). Without them
//! the test prints "skipped", or fails when `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "scan_fixture.rs"]
mod fixture;

use std::path::PathBuf;

fn write_all(
    ext: &str,
    render: impl Fn(&moat_model::ScanReport, &moat_report::RenderOptions) -> Vec<u8>,
) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let odd_time = moat_report::RenderOptions {
        timestamp: "not a time".into(),
        color: false,
    };
    let cases = [
        ("report", fixture::report(), fixture::options()),
        ("empty", fixture::empty(), fixture::options()),
        ("hostile", fixture::hostile(), odd_time),
        ("every-kind", fixture::every_kind(), fixture::options()),
        ("secrets", fixture::secrets(), fixture::options()),
    ];
    let mut files = Vec::new();
    for (name, r, o) in &cases {
        let f = dir.path().join(format!("{name}.{ext}"));
        std::fs::write(&f, render(r, o)).expect("write");
        files.push(f);
    }
    (dir, files)
}

#[test]
fn sarif_validates() {
    let (_dir, files) = write_all("sarif", moat_report::sarif);
    fixture::validate("validate-sarif", &files);
}

#[test]
fn cyclonedx_with_vulnerabilities_validates() {
    let (_dir, files) = write_all("cdx.json", moat_report::cyclonedx_vulns);
    fixture::validate("validate-cyclonedx", &files);
}
