//! The scan reports against the formats' reference validators (`validate-sarif`,
//! `validate-cyclonedx` in `$MOAT_PEERS/bin`, default `/var/tmp/moat-peers`). Without them
//! the test prints "skipped", or fails when `CI=true`.

#[path = "scan_fixture.rs"]
mod fixture;

use std::path::PathBuf;
use std::process::Command;

fn validator(name: &str) -> Option<PathBuf> {
    let root = std::env::var_os("MOAT_PEERS")
        .map_or_else(|| PathBuf::from("/var/tmp/moat-peers"), PathBuf::from);
    let path = root.join("bin").join(name);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing and CI=true", path.display());
    }
    eprintln!("skipped: {} not found (set MOAT_PEERS)", path.display());
    None
}

fn run(validator_name: &str, files: &[PathBuf]) {
    let Some(bin) = validator(validator_name) else {
        return;
    };
    for file in files {
        let out = Command::new(&bin)
            .arg(file)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
        assert!(
            out.status.success(),
            "{validator_name} rejected {}:\n{}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

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
    run("validate-sarif", &files);
}

#[test]
fn cyclonedx_with_vulnerabilities_validates() {
    let (_dir, files) = write_all("cdx.json", moat_report::cyclonedx_vulns);
    run("validate-cyclonedx", &files);
}
