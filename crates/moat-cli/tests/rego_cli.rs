//! Users' Rego policies end to end: `moat config --policy examples/policies` over the
//! examples' test data (exact findings), `moat scan --scanners misconfig --policy` on a
//! `dir:` target, malformed policies (exit 2 naming file and line), `--namespaces`, and
//! agreement with `trivy config --config-check` on the same policies when trivy-offline is
//! in ../shared's peers (fails under CI=true when missing, skips otherwise).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/policies"
    ))
}

/// (id, file name, start line, end line, severity, message) of every rego finding.
type Row = (String, String, u64, u64, String, String);

fn rows(v: &Value) -> Vec<Row> {
    let mut out: Vec<Row> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["tags"]
                .as_array()
                .is_some_and(|t| t.contains(&Value::from("rego")))
        })
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            let span = &f["location"]["span"];
            (
                f["id"].as_str().unwrap().to_string(),
                p.rsplit('/').next().unwrap().to_string(),
                span["start_line"].as_u64().unwrap_or(0),
                span["end_line"].as_u64().unwrap_or(0),
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn expected() -> Vec<Row> {
    let mut v: Vec<Row> = [
        ("USR-COMPOSE-001", "compose.yaml", 3, 5, "MEDIUM", "service web has no memory limit"),
        ("USR-COMPOSE-001", "compose.yaml", 16, 16, "MEDIUM", "service worker has no memory limit"),
        ("USR-DF-001", "Dockerfile", 7, 7, "MEDIUM", "ADD https://example.com/config.tar.gz /etc/app/: use COPY"),
        ("USR-DF-002", "Dockerfile", 6, 6, "LOW", "base image \"alpine:3.19\" is not pinned by digest"),
        ("USR-DF-003", "Dockerfile", 9, 10, "HIGH", "RUN makes files world-writable"),
        ("USR-DF-004", "Dockerfile", 0, 0, "LOW", "no LABEL org.opencontainers.image.source"),
        ("USR-K8S-001", "deploy.yaml", 21, 24, "HIGH", "container \"web\" runs \"nginx:1.27\", not from registry.example.com"),
        ("USR-K8S-001", "job.yaml", 15, 16, "HIGH", "container \"report\" runs \"docker.io/library/python:3.12\", not from registry.example.com"),
        ("USR-K8S-002", "deploy.yaml", 4, 6, "LOW", "Deployment web has no team label"),
        ("USR-K8S-003", "deploy.yaml", 33, 38, "MEDIUM", "Service web is of type NodePort"),
    ]
    .iter()
    .map(|(a, b, c, d, e, f)| (a.to_string(), b.to_string(), *c, *d, e.to_string(), f.to_string()))
    .collect();
    v.sort();
    v
}

#[test]
fn config_runs_the_example_policies() {
    let home = tempfile::tempdir().unwrap();
    let ex = examples();
    let o = run(isolated(home.path()).args([
        "config",
        "--policy",
        ex.to_str().unwrap(),
        ex.join("testdata").to_str().unwrap(),
        "-f",
        "json",
    ]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows(&v), expected());
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "USR-K8S-003")
        .unwrap();
    assert_eq!(f["kind"], "misconfiguration");
    assert_eq!(f["rule"], "USR-K8S-003");
    assert_eq!(f["title"], "NodePort Service");
    assert_eq!(f["aliases"], serde_json::json!(["AVD-USR-K8S-003"]));
    assert_eq!(f["target_type"], "kubernetes");
    assert_eq!(f["resolution"], "Use type ClusterIP behind an Ingress.");
    assert_eq!(f["location"]["resource"], "Service/web");
    assert_eq!(
        f["tags"],
        serde_json::json!(["rego", "user.kubernetes.no_nodeport"])
    );
    assert!(
        v["diagnostics"].as_array().is_none_or(|d| d.is_empty()),
        "{}",
        v["diagnostics"]
    );
}

#[test]
fn the_gate_ignore_file_and_exit_code_apply() {
    let home = tempfile::tempdir().unwrap();
    let ex = examples();
    std::fs::write(
        home.path().join(".moatignore"),
        "- id: AVD-USR-DF-003\n  reason: the avd_id alias works\n",
    )
    .unwrap();
    let o = run(isolated(home.path()).args([
        "config",
        "--policy",
        ex.to_str().unwrap(),
        ex.join("testdata/Dockerfile").to_str().unwrap(),
        "-f",
        "json",
        "--severity",
        "HIGH,MEDIUM",
        "--exit-code",
        "4",
    ]));
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<String> = rows(&v).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, ["USR-DF-001"]);
    assert_eq!(v["suppressed"][0]["id"], "USR-DF-003");
}

#[test]
fn scan_dir_runs_the_policies() {
    let home = tempfile::tempdir().unwrap();
    let ex = examples();
    let target = format!("dir:{}", ex.join("testdata").display());
    let o = run(isolated(home.path()).args([
        "scan",
        "--scanners",
        "misconfig",
        "--policy",
        ex.to_str().unwrap(),
        &target,
        "-f",
        "json",
    ]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows(&v), expected());
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "USR-K8S-002")
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["deploy.yaml"]);
    // --policy without the misconfig scanner is a usage error.
    let o = run(isolated(home.path()).args([
        "scan",
        "--scanners",
        "secret",
        "--policy",
        ex.to_str().unwrap(),
        &target,
    ]));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

fn policy_dir(root: &Path, files: &[(&str, &str)]) -> PathBuf {
    let d = root.join("pol");
    std::fs::create_dir_all(&d).unwrap();
    for (n, s) in files {
        std::fs::write(d.join(n), s).unwrap();
    }
    d
}

#[test]
fn a_policy_that_does_not_parse_is_exit_2_naming_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let d = policy_dir(
        home.path(),
        &[
            (
                "good.rego",
                "package user.good\ndeny[msg] { msg := \"x\" }\n",
            ),
            (
                "bad.rego",
                "package user.bad\n\ndeny[msg] {\n  msg := \n}\n",
            ),
        ],
    );
    std::fs::write(home.path().join("Dockerfile"), "FROM a\n").unwrap();
    let o =
        run(isolated(home.path()).args(["config", "--policy", d.to_str().unwrap(), "Dockerfile"]));
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("bad.rego:3: error: expecting }"), "{e}");
    // A directory that does not exist.
    let o = run(isolated(home.path()).args(["config", "--policy", "nope", "Dockerfile"]));
    assert_eq!(code(&o), 2);
}

#[test]
fn namespaces_pick_the_checks_and_errors_are_warnings() {
    let home = tempfile::tempdir().unwrap();
    let d = policy_dir(
        home.path(),
        &[
            (
                "a.rego",
                "package custom.a\ndeny[msg] {\n  input.Stages[_].Commands[_].Cmd == \"from\"\n  msg := \"from\"\n}\n",
            ),
            (
                "b.rego",
                "package user.b\ndeny[msg] {\n  some i, j, k\n  numbers.range(1, 100000)[i]\n  numbers.range(1, 100000)[j]\n  numbers.range(1, 100000)[k]\n  i + j + k < 0\n  msg := \"never\"\n}\n",
            ),
        ],
    );
    std::fs::write(
        home.path().join("Dockerfile"),
        "FROM a:1\nUSER 1\nHEALTHCHECK NONE\n",
    )
    .unwrap();
    let args = |ns: Option<&str>| {
        let mut a = vec![
            "config",
            "--policy",
            d.to_str().unwrap(),
            "Dockerfile",
            "-f",
            "json",
        ];
        if let Some(ns) = ns {
            a.extend(["--namespaces", ns]);
        }
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let o = run(isolated(home.path()).args(args(None)));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(rows(&v).is_empty());
    // user.b runs out of its time budget on the file: a warning naming the check and the file.
    let d0 = &v["diagnostics"][0];
    assert!(d0["message"].as_str().unwrap().contains("user.b"), "{d0}");
    assert_eq!(d0["path"], "Dockerfile");
    let o = run(isolated(home.path()).args(args(Some("custom"))));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = rows(&v);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].0.as_str(), r[0].4.as_str()), ("custom.a", "UNKNOWN"));
}

/// (id, file, start line) of Trivy's findings of the `user` checks.
fn trivy_rows(v: &Value) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for r in v["Results"].as_array().into_iter().flatten() {
        for m in r["Misconfigurations"].as_array().into_iter().flatten() {
            if !m["Namespace"].as_str().unwrap_or("").starts_with("user.") {
                continue;
            }
            let file = r["Target"].as_str().unwrap().rsplit('/').next().unwrap();
            out.push((
                m["ID"].as_str().unwrap().to_string(),
                file.to_string(),
                m["CauseMetadata"]["StartLine"].as_u64().unwrap_or(0),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn trivy_agrees_on_the_example_policies() {
    let Some(trivy) = peers().and_then(|b| needed(b.join("trivy-offline"), "trivy-offline")) else {
        return;
    };
    let ex = examples();
    let o = std::process::Command::new(&trivy)
        .args(["config", "--config-check"])
        .arg(&ex)
        .args(["--namespaces", "user", "-f", "json", "-q"])
        .arg(ex.join("testdata"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    // Trivy gives custom checks no Compose input: every other finding must match.
    let ours: Vec<(String, String, u64)> = expected()
        .into_iter()
        .filter(|r| !r.0.starts_with("USR-COMPOSE"))
        .map(|r| (r.0, r.1, r.2))
        .collect();
    let mut ours = ours;
    ours.sort();
    assert_eq!(trivy_rows(&t), ours);
}
