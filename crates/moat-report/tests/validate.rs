//! The SBOMs against the formats' reference validators (`validate-cyclonedx`,
//! `validate-spdx` in `$MOAT_PEERS/bin`, default `/var/tmp/moat-peers`). Without them the
//! test prints a skip notice, or fails when `CI=true`.

mod common;

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
    let out = Command::new(&bin)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{validator_name} rejected a document:\n{text}"
    );
}

#[test]
fn sboms_validate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = common::options();
    let odd_time = moat_report::RenderOptions {
        timestamp: "not a time".into(),
        color: false,
    };
    let cases = [
        ("debian", common::debian(), &o),
        ("empty", common::empty(), &o),
        ("rootfs", common::rootfs(), &o),
        ("hostile", common::hostile(), &odd_time),
    ];
    let (mut cdx, mut spdx) = (Vec::new(), Vec::new());
    for (name, inv, o) in &cases {
        let c = dir.path().join(format!("{name}.cdx.json"));
        std::fs::write(&c, moat_report::cyclonedx(inv, o)).expect("write");
        cdx.push(c);
        let s = dir.path().join(format!("{name}.spdx.json"));
        std::fs::write(&s, moat_report::spdx(inv, o)).expect("write");
        spdx.push(s);
    }
    run("validate-cyclonedx", &cdx);
    run("validate-spdx", &spdx);
}
