#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Helm charts rendered ([`moat_misconfig::helm`]): moat's own chart (deploy/helm/moat) against
//! a checked-in rendering (`MOAT_BLESS=1` rewrites it after a deliberate change), and charts of
//! `../shared/corpus` rendered and checked with known findings.

mod common;

use moat_misconfig::helm::{self, Overrides};
use moat_misconfig::k8s;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn chart_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// `helm template`'s layout: each template's output after a `# Source:` line.
fn joined(chart: &str, r: &helm::Rendered) -> String {
    r.files
        .iter()
        .map(|(p, t)| format!("---\n# Source: {chart}/{p}\n{}\n", t.trim_matches('\n')))
        .collect()
}

/// The findings of the rendered chart: `SEVERITY ID template resource`.
fn findings(chart: &str, r: &helm::Rendered) -> BTreeSet<String> {
    let files: Vec<(String, Vec<u8>)> = r
        .files
        .iter()
        .map(|(p, t)| (format!("{chart}/{p}"), t.clone().into_bytes()))
        .collect();
    let c = k8s::check(&files, k8s::Checks::All);
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    c.findings
        .iter()
        .map(|f| {
            let loc = f.location.as_ref().unwrap();
            format!(
                "{} {} {} {}",
                f.severity.as_str(),
                f.id,
                loc.path.as_deref().unwrap().rsplit('/').next().unwrap(),
                loc.resource.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn moats_own_chart_renders_as_checked_in() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helm/moat");
    let r = helm::render("moat", &chart_files(&root), &Overrides::default()).unwrap();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let got = joined("moat", &r);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/helm/moat.rendered.yaml");
    if std::env::var("MOAT_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(
        got, want,
        "the rendering changed: check it, then MOAT_BLESS=1"
    );
    // Every document reads as a manifest.
    for (p, t) in &r.files {
        let (res, diags) = k8s::load(t.as_bytes());
        assert!(diags.is_empty() && !res.is_empty(), "{p}: {diags:?}");
    }
}

#[test]
fn values_change_the_rendering() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helm/moat");
    let o = Overrides {
        values: vec![(
            "v.yaml".into(),
            b"image: {digest: \"sha256:0123\"}\nworker: {enabled: false}\n".to_vec(),
        )],
        set: vec![
            "postgresql.enabled=false".into(),
            "server.replicas=5".into(),
        ],
    };
    let r = helm::render("moat", &chart_files(&root), &o).unwrap();
    let names: Vec<&str> = r.files.iter().map(|(p, _)| p.as_str()).collect();
    assert!(
        !names.contains(&"templates/worker.yaml") && !names.contains(&"templates/postgres.yaml")
    );
    let server = &r
        .files
        .iter()
        .find(|(p, _)| p == "templates/server.yaml")
        .unwrap()
        .1;
    assert!(server.contains("replicas: 5\n"), "{server}");
    assert!(
        server.contains("image: ghcr.io/moat-project/moat:0.1.0@sha256:0123\n"),
        "{server}"
    );
}

/// Trivy's own test chart (`helm create`'s scaffold): the findings moat gives on its
/// rendering with the default values.
#[test]
fn trivys_test_chart_has_known_findings() {
    let Some(root) = common::shared_or_skip(
        "corpus/k8s-manifests/trivy-tests/integration/testdata/fixtures/repo/helm_testchart",
    ) else {
        return;
    };
    let r = helm::render("helm_testchart", &chart_files(&root), &Overrides::default()).unwrap();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let names: Vec<&str> = r.files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "templates/deployment.yaml",
            "templates/service.yaml",
            "templates/serviceaccount.yaml",
            "templates/tests/test-connection.yaml"
        ]
    );
    let got = findings("helm_testchart", &r);
    let want: BTreeSet<String> = TESTCHART.iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want);
}

/// The default values leave `securityContext` and `resources` empty (`helm create`'s
/// scaffold), so the deployment and the test hook's busybox pod miss most hardening.
const TESTCHART: &[&str] = &[
    "HIGH MOAT-K8S-022 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-014 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-019 deployment.yaml Deployment/release-name-testchart",
    "LOW MOAT-K8S-019 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-021 deployment.yaml Deployment/release-name-testchart",
    "LOW MOAT-K8S-021 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-024 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-028 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-029 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-030 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-031 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-032 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-033 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-034 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-060 deployment.yaml Deployment/release-name-testchart",
    "LOW MOAT-K8S-060 test-connection.yaml Pod/release-name-testchart-test-connection",
    "LOW MOAT-K8S-061 deployment.yaml Deployment/release-name-testchart",
    "MEDIUM MOAT-K8S-013 deployment.yaml Deployment/release-name-testchart",
    "MEDIUM MOAT-K8S-013 test-connection.yaml Pod/release-name-testchart-test-connection",
    "MEDIUM MOAT-K8S-017 test-connection.yaml Pod/release-name-testchart-test-connection",
    "MEDIUM MOAT-K8S-020 test-connection.yaml Pod/release-name-testchart-test-connection",
    "MEDIUM MOAT-K8S-023 deployment.yaml Deployment/release-name-testchart",
    "MEDIUM MOAT-K8S-023 test-connection.yaml Pod/release-name-testchart-test-connection",
];

/// Google's microservices demo chart renders without a warning, every template a manifest.
#[test]
fn microservices_demo_renders() {
    let Some(root) = common::shared_or_skip("corpus/k8s-manifests/microservices-demo/helm-chart")
    else {
        return;
    };
    let r = helm::render("helm-chart", &chart_files(&root), &Overrides::default()).unwrap();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert!(r.files.len() >= 12, "{}", r.files.len());
    for (p, t) in &r.files {
        let (res, diags) = k8s::load(t.as_bytes());
        let only_comments = t
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        assert!(
            diags.is_empty() && (only_comments || !res.is_empty()),
            "{p}: {diags:?}\n{t}"
        );
    }
}

/// What the `helm_template` fuzz target asserts, over moat's chart's templates cut at many
/// points and with bytes changed: never a panic, warnings name the template, output bounded.
#[test]
fn cut_and_mutated_templates_never_escape() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helm/moat");
    let files = chart_files(&root);
    let values = files
        .iter()
        .find(|(p, _)| p == "values.yaml")
        .unwrap()
        .1
        .clone();
    let max = helm::exec::Limits::default().max_output;
    let mut runs = 0;
    for (p, t) in files.iter().filter(|(p, _)| p.starts_with("templates/")) {
        let mut variants: Vec<Vec<u8>> =
            (0..t.len()).step_by(23).map(|n| t[..n].to_vec()).collect();
        for (i, b) in [b'{', b'}', b'-', b'|', b'(', b'"', b'$', b'.']
            .iter()
            .enumerate()
        {
            for at in (i * 5..t.len()).step_by(61) {
                let mut v = t.clone();
                v[at] = *b;
                variants.push(v);
            }
        }
        for v in variants {
            let chart = vec![
                (
                    "Chart.yaml".to_string(),
                    b"name: fuzz\nversion: 0.1.0\n".to_vec(),
                ),
                ("values.yaml".to_string(), values.clone()),
                (p.clone(), v),
            ];
            let r = helm::render("fuzz", &chart, &Overrides::default()).unwrap();
            for d in &r.diagnostics {
                assert!(
                    d.path
                        .as_deref()
                        .is_some_and(|x| x.starts_with("fuzz/templates/")),
                    "{d:?}"
                );
            }
            for (_, out) in &r.files {
                assert!(out.len() <= max);
            }
            runs += 1;
        }
    }
    assert!(runs > 300, "{runs}");
}
