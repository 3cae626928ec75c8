//! `moat config` and `moat scan --scanners misconfig` end to end: the Dockerfiles of a
//! directory, every output format (SARIF checked by the validator of ../shared/peers), the
//! policy (ignore file naming a peer's id, severity gate, exit code), a broken Dockerfile's
//! located diagnostic, and the same findings from a `dir:` scan.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

const APP: &str = "\
# syntax=docker/dockerfile:1
FROM golang:1.22 AS build
WORKDIR /src
RUN go build -o /app .

FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends \\
      ca-certificates=20230311 \\
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /app
USER root
HEALTHCHECK CMD [\"/app\", \"-health\"]
ENTRYPOINT [\"/app\"]
";

fn tree(root: &Path) {
    std::fs::create_dir_all(root.join("svc/api")).unwrap();
    std::fs::write(root.join("svc/api/Dockerfile"), APP).unwrap();
    std::fs::write(
        root.join("svc/worker.Dockerfile"),
        "FROM alpine\nMAINTAINER x\nUSER 1000\nHEALTHCHECK NONE\n",
    )
    .unwrap();
    std::fs::write(root.join("svc/broken.Dockerfile"), "RUN echo no from\n").unwrap();
    std::fs::write(root.join("README.md"), "FROM alpine\n").unwrap();
}

/// (id, file name, first line) of every finding.
fn found(v: &Value) -> Vec<(String, String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            (
                f["id"].as_str().unwrap().to_string(),
                p.rsplit('/').next().unwrap().to_string(),
                f["location"]["span"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expected() -> Vec<(String, String, u64)> {
    [
        ("MOAT-DF-001", "Dockerfile", 11),
        ("MOAT-DF-003", "worker.Dockerfile", 1),
        ("MOAT-DF-032", "worker.Dockerfile", 2),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
    .collect()
}

#[test]
fn config_reports_dockerfile_findings_as_json() {
    let home = tempfile::tempdir().unwrap();
    tree(home.path());
    let o = run(isolated(home.path()).args(["config", "svc", "-f", "json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(found(&v), expected());
    let f = &v["findings"][0];
    assert_eq!(f["kind"], "misconfiguration");
    assert_eq!(f["rule"], "MOAT-DF-001");
    assert_eq!(f["severity"], "HIGH");
    assert_eq!(f["target_type"], "dockerfile");
    assert_eq!(f["location"]["resource"], "stage:1");
    assert_eq!(f["cause"], "USER root");
    assert_eq!(
        f["aliases"],
        serde_json::json!(["DL3002", "DS002", "DS-0002", "AVD-DS-0002", "CKV_DOCKER_8"])
    );
    // The broken file is a located diagnostic, in the document and on stderr.
    let d = v["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["code"], "parse-error");
    assert_eq!(d[0]["line"], 1);
    assert!(
        d[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("broken.Dockerfile")
    );
    assert!(stderr(&o).contains("broken.Dockerfile"), "{}", stderr(&o));
}

#[test]
fn config_policy_gate_and_exit_code() {
    let home = tempfile::tempdir().unwrap();
    tree(home.path());
    std::fs::write(
        home.path().join(".moatignore"),
        "- id: DL4000\n  reason: legacy file\n",
    )
    .unwrap();
    let o = run(isolated(home.path()).args([
        "config",
        "svc",
        "-f",
        "json",
        "--severity",
        "HIGH",
        "--exit-code",
        "3",
        "-q",
    ]));
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(found(&v), expected()[..1].to_vec());
    assert_eq!(v["suppressed"][0]["id"], "MOAT-DF-032");
    // Nothing left: exit 0 even with --exit-code.
    let o = run(isolated(home.path()).args([
        "config",
        "svc/worker.Dockerfile",
        "--severity",
        "CRITICAL",
        "--exit-code",
        "3",
    ]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn config_table_and_sarif() {
    let home = tempfile::tempdir().unwrap();
    tree(home.path());
    let o = run(isolated(home.path()).args(["config", "svc"]));
    assert_eq!(code(&o), 0);
    let t = stdout(&o);
    assert!(t.contains("svc/api/Dockerfile  stage:1"), "{t}");
    assert!(
        t.contains("MOAT-DF-001  HIGH      11    the image runs as \"root\""),
        "{t}"
    );
    let sarif = home.path().join("out.sarif");
    let o = run(isolated(home.path()).args([
        "config",
        "svc",
        "-f",
        "sarif",
        "-o",
        sarif.to_str().unwrap(),
    ]));
    assert_eq!(code(&o), 0);
    let s: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["ruleId"], "MOAT-DF-001");
    if let Some(bin) = peers() {
        let o = std::process::Command::new(bin.join("validate-sarif"))
            .arg(&sarif)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn a_missing_path_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let o = run(isolated(home.path()).args(["config", "nope"]));
    assert_eq!(code(&o), 2);
}

#[test]
fn scan_with_misconfig_checks_dockerfiles_in_a_directory() {
    let home = tempfile::tempdir().unwrap();
    tree(home.path());
    let o = run(isolated(home.path()).args([
        "scan",
        "--scanners",
        "misconfig",
        "dir:svc",
        "-f",
        "json",
    ]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(found(&v), expected());
    assert_eq!(v["findings"][0]["location"]["path"], "api/Dockerfile");
}

const MANIFESTS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      hostNetwork: true
      containers:
      - name: web
        image: nginx:1.27
        securityContext:
          privileged: true
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer}
";

const COMPOSE: &str = "\
services:
  app:
    image: app:1
    ports: [\"8080:80\"]
    volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]
";

#[test]
fn config_checks_kubernetes_manifests_and_compose_files() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("deploy");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("web.yaml"), MANIFESTS).unwrap();
    std::fs::write(root.join("compose.yaml"), COMPOSE).unwrap();
    // YAML that is no manifest is passed over in a directory.
    std::fs::write(root.join("ci.yml"), "on: push\njobs: {}\n").unwrap();
    let o = run(isolated(home.path()).args(["config", "deploy", "-f", "json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["location"]["resource"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for want in [
        ("MOAT-DC-003", "service:app"),
        ("MOAT-DC-006", "service:app"),
        ("MOAT-K8S-003", "Deployment/shop/web"),
        ("MOAT-K8S-007", "Deployment/shop/web"),
        ("MOAT-K8S-050", "Service/shop/web"),
        ("MOAT-K8S-060", "Deployment/shop/web"),
    ] {
        assert!(
            ids.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not in {ids:?}"
        );
    }
    assert!(!ids.iter().any(|(_, r)| r.contains("ci")), "{ids:?}");
    let privileged = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "MOAT-K8S-007")
        .unwrap();
    assert_eq!(privileged["tags"][0], "pss");
    // The finding points at `privileged: true`, not at the document's first line.
    assert_eq!(privileged["location"]["span"]["start_line"], 16);
    assert!(
        privileged["aliases"]
            .as_array()
            .unwrap()
            .contains(&Value::from("CKV_K8S_16"))
    );

    // --pss: only the Pod Security Standards, at that level and version.
    let o = run(isolated(home.path()).args([
        "config",
        "deploy",
        "-f",
        "json",
        "--pss",
        "baseline",
        "--pss-version",
        "1.30",
    ]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["tags"][2].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("MOAT-K8S-003", "hostNamespaces"),
            ("MOAT-K8S-007", "privileged")
        ]
    );
    let o = run(isolated(home.path()).args(["config", "deploy", "--pss", "strict"]));
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("expected baseline or restricted"),
        "{}",
        stderr(&o)
    );
}

const POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
";

#[test]
fn scan_with_misconfig_checks_manifests_and_compose_files_in_a_directory() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("deploy");
    std::fs::create_dir_all(root.join("net")).unwrap();
    std::fs::create_dir_all(root.join("chart/templates")).unwrap();
    std::fs::write(root.join("web.yaml"), MANIFESTS).unwrap();
    std::fs::write(root.join("compose.yaml"), COMPOSE).unwrap();
    std::fs::write(root.join("ci.yml"), "on: push\njobs: {}\n").unwrap();
    std::fs::write(
        root.join("chart/templates/web.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .Release.Name }}}\n",
    )
    .unwrap();
    let ids_of = |v: &Value| -> Vec<(String, String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_string(),
                    f["location"]["path"].as_str().unwrap_or("").to_string(),
                    f["location"]["resource"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let scan = || {
        let o = run(isolated(home.path()).args([
            "scan",
            "--scanners",
            "misconfig",
            "dir:deploy",
            "-f",
            "json",
        ]));
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(stderr(&o), "", "no warning for the Helm template or ci.yml");
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let ids = ids_of(&scan());
    let web = |id: &str| {
        (
            id.to_string(),
            "web.yaml".to_string(),
            "Deployment/shop/web".to_string(),
        )
    };
    for want in [
        (
            "MOAT-DC-003".to_string(),
            "compose.yaml".to_string(),
            "service:app".to_string(),
        ),
        web("MOAT-K8S-003"),
        web("MOAT-K8S-007"),
        web("MOAT-K8S-060"),
        (
            "MOAT-K8S-050".to_string(),
            "web.yaml".to_string(),
            "Service/shop/web".to_string(),
        ),
    ] {
        assert!(ids.contains(&want), "{want:?} not in {ids:?}");
    }
    assert!(
        !ids.iter()
            .any(|(_, p, _)| p.contains("chart") || p.contains("ci.yml"))
    );
    // `moat config` on the same directory gives the same Kubernetes and Compose findings.
    let o = run(isolated(home.path()).args(["config", "deploy", "-f", "json"]));
    assert_eq!(
        stderr(&o),
        "",
        "moat config passes over the Helm template too"
    );
    let config: Vec<(String, String, String)> = ids_of(&serde_json::from_slice(&o.stdout).unwrap())
        .into_iter()
        .map(|(i, p, r)| (i, p.trim_start_matches("deploy/").to_string(), r))
        .collect();
    let mut a = ids.clone();
    a.sort();
    let mut b = config;
    b.sort();
    assert_eq!(a, b);
    // A NetworkPolicy in another file selects web's pods.
    std::fs::write(root.join("net/policy.yaml"), POLICY).unwrap();
    let ids = ids_of(&scan());
    assert!(!ids.contains(&web("MOAT-K8S-060")), "{ids:?}");
    assert!(ids.contains(&web("MOAT-K8S-061")), "{ids:?}");
}

/// A Helm chart in a directory is rendered (values.yaml, then --helm-values, then --helm-set)
/// and its templates checked; a bad --helm-set entry or a missing values file is exit 2
/// naming it; a template calling an unknown function is a warning naming it.
#[test]
fn config_renders_helm_charts() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("chart");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        c.join("values.yaml"),
        "image: nginx:1.27\nhostNetwork: true\n",
    )
    .unwrap();
    std::fs::write(
        c.join("templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\nspec:\n  hostNetwork: {{ .Values.hostNetwork }}\n  containers:\n    - name: web\n      image: {{ .Values.image | quote }}\n",
    )
    .unwrap();
    std::fs::write(c.join("templates/odd.yaml"), "{{ genCA \"x\" 365 }}\n").unwrap();
    let ids = |extra: &[&str]| {
        let mut args = vec!["config", c.to_str().unwrap(), "-f", "json"];
        args.extend_from_slice(extra);
        let o = moat(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let at_pod: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["location"]["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("chart/templates/pod.yaml")
            })
            .map(|f| {
                f["location"]["resource"].as_str().unwrap().to_string()
                    + " "
                    + f["id"].as_str().unwrap()
            })
            .collect();
        (at_pod, stderr(&o))
    };
    let (with_host, err) = ids(&[]);
    assert!(
        with_host
            .iter()
            .all(|f| f.starts_with("Pod/release-name-web ")),
        "{with_host:?}"
    );
    assert!(
        err.contains("chart/templates/odd.yaml") && err.contains("genCA"),
        "{err}"
    );
    let (without, _) = ids(&["--helm-set", "hostNetwork=false"]);
    assert!(without.len() < with_host.len(), "{without:?} {with_host:?}");
    let v = dir.path().join("v.yaml");
    std::fs::write(&v, "hostNetwork: false\n").unwrap();
    assert_eq!(ids(&["--helm-values", v.to_str().unwrap()]).0, without);
    for (flag, value, named) in [
        ("--helm-set", "justakey", "justakey"),
        (
            "--helm-values",
            "/nonexistent/v.yaml",
            "/nonexistent/v.yaml",
        ),
    ] {
        let o = moat(["config", c.to_str().unwrap(), flag, value]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(stderr(&o).contains(named), "{}", stderr(&o));
    }
}
