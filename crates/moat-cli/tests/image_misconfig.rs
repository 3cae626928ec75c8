//! `moat scan --scanners misconfig` on an image: the checks of the image itself (its run
//! config and the modes of the files in its final view), on an image built here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{E, TestLayer, code, moat, write_oci_config};
use serde_json::{Value, json};
use std::path::Path;

/// (id, path or config field, layer, cause) of every finding.
fn findings(v: &Value) -> Vec<(String, String, Option<u64>, Option<String>)> {
    let mut out: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let loc = &f["location"];
            let place = loc["path"]
                .as_str()
                .or(loc["field"].as_str())
                .unwrap_or("")
                .to_string();
            (
                f["id"].as_str().unwrap_or("").to_string(),
                place,
                loc["layer"].as_u64(),
                f["misconfiguration"]["cause"]
                    .as_str()
                    .or(f["cause"].as_str())
                    .map(str::to_string),
            )
        })
        .collect();
    out.sort();
    out
}

fn image(dir: &Path, run: Value) {
    let base = TestLayer::gz(
        &[
            E::FileMode("usr/bin/passwd", 0o4755, b"\x7fELF".to_vec()),
            E::FileMode("usr/bin/ls", 0o755, b"\x7fELF".to_vec()),
            E::FileMode("usr/bin/oldsuid", 0o4755, b"\x7fELF".to_vec()),
            E::FileMode("usr/bin/gone", 0o6755, b"\x7fELF".to_vec()),
            E::FileMode("etc/app.conf", 0o666, b"k=v\n".to_vec()),
            E::FileMode("tmp/scratch", 0o666, b"x".to_vec()),
        ],
        "base",
    );
    let app = TestLayer::gz(
        &[
            // chmod u-s in a later layer: no longer setuid
            E::FileMode("usr/bin/oldsuid", 0o755, b"\x7fELF".to_vec()),
            E::File("usr/bin/.wh.gone", Vec::new()),
            E::FileMode("app/tool", 0o2755, b"#!/bin/sh\n".to_vec()),
        ],
        "app",
    );
    write_oci_config(dir, &[base, app], run);
}

fn scan(dir: &Path) -> Value {
    let o = moat([
        "scan",
        "--scanners",
        "misconfig",
        "--format",
        "json",
        &format!("oci:{}", dir.display()),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json")
}

#[test]
fn the_image_config_and_file_modes_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    image(
        tmp.path(),
        json!({"User": "root", "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}}}),
    );
    let v = scan(tmp.path());
    let s = |x: &str| x.to_string();
    assert_eq!(
        findings(&v),
        vec![
            (s("MOAT-IMG-001"), s("config.User"), None, Some(s("root"))),
            (s("MOAT-IMG-002"), s("config.Healthcheck"), None, None),
            (
                s("MOAT-IMG-003"),
                s("config.ExposedPorts"),
                None,
                Some(s("22/tcp"))
            ),
            (s("MOAT-IMG-004"), s("/app/tool"), Some(1), None),
            (s("MOAT-IMG-004"), s("/usr/bin/passwd"), Some(0), None),
            (s("MOAT-IMG-005"), s("/etc/app.conf"), Some(0), None),
        ]
    );
    let aliases = &v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "MOAT-IMG-001")
        .unwrap()["aliases"];
    assert_eq!(
        aliases,
        &json!(["DS002", "DS-0002", "AVD-DS-0002", "CIS-DI-0001", "CIS-4.1"])
    );
}

#[test]
fn a_user_and_a_health_check_leave_only_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    image(
        tmp.path(),
        json!({"User": "10001:10001", "Healthcheck": {"Test": ["CMD", "/app/tool", "--ping"]}}),
    );
    let v = scan(tmp.path());
    let ids: Vec<String> = findings(&v).into_iter().map(|f| f.0).collect();
    assert_eq!(ids, ["MOAT-IMG-004", "MOAT-IMG-004", "MOAT-IMG-005"]);
    // the inventory carries the health check
    let o = moat([
        "scan",
        "--format",
        "json",
        "--scanners",
        "misconfig",
        &format!("oci:{}", tmp.path().display()),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["artifact"]["config"]["healthcheck"],
        json!(["CMD", "/app/tool", "--ping"])
    );
}
