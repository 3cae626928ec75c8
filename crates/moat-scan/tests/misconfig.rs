//! `--scanners misconfig` on an image built here: Kubernetes manifests and Compose files
//! inside it are checked with their layer and path, the manifests of the final view
//! together (a NetworkPolicy in a later layer's file covers a workload of an earlier
//! one), and Helm templates, language packages' YAML and deleted manifests are passed
//! over without a word. Findings point at the offending field's line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{E, open};
use moat_scan::{ScanOptions, Scanner, Scanners, scan};

const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        securityContext:
          privileged: true
";

const WORKER: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: shop, labels: {app: worker}}
spec:
  hostPID: true
  containers: [{name: w, image: worker:2}]
";

const POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
";

const COMPOSE: &str = "\
services:
  app:
    image: app:1
    privileged: true
";

const HELM: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  template:
    spec:
      containers: [{name: x, image: \"{{ .Values.image }}\", securityContext: {privileged: true}}]
";

fn misconfig() -> ScanOptions {
    ScanOptions {
        scanners: Scanners::only(Scanner::Misconfig),
        ..ScanOptions::default()
    }
}

#[test]
fn manifests_and_compose_files_inside_an_image() {
    let layers = vec![
        vec![
            E::File("deploy/web.yaml", WEB.as_bytes().to_vec()),
            E::File("deploy/worker.yml", WORKER.as_bytes().to_vec()),
            E::File("deploy/gone.yaml", WORKER.as_bytes().to_vec()),
            E::File("chart/templates/deployment.yaml", HELM.as_bytes().to_vec()),
            E::File("app/node_modules/k/deploy.yaml", WORKER.as_bytes().to_vec()),
            E::File("etc/ci.yml", b"on: push\njobs: {}\n".to_vec()),
        ],
        vec![
            E::Whiteout("deploy/gone.yaml"),
            E::File("deploy/policy.yaml", POLICY.as_bytes().to_vec()),
            E::File("srv/docker-compose.yml", COMPOSE.as_bytes().to_vec()),
        ],
    ];
    let (_dir, source) = open(&layers);
    let s = scan(&source, &misconfig()).unwrap();
    assert!(
        s.inventory.diagnostics.is_empty(),
        "{:?}",
        s.inventory.diagnostics
    );
    let got = |id: &str| -> Vec<(String, Option<usize>, u32)> {
        s.findings
            .iter()
            .filter(|f| f.id == id)
            .map(|f| {
                let l = f.location.clone().unwrap();
                (
                    l.path.unwrap(),
                    l.layer,
                    l.span.map(|s| s.start_line).unwrap_or(0),
                )
            })
            .collect()
    };
    // Privileged: the Deployment (layer 0) and the Compose service (layer 1).
    assert_eq!(
        got("MOAT-K8S-007"),
        [("/deploy/web.yaml".to_string(), Some(0), 12)]
    );
    assert_eq!(
        got("MOAT-K8S-003"),
        [("/deploy/worker.yml".to_string(), Some(0), 5)]
    );
    assert_eq!(
        got("MOAT-DC-001"),
        [("/srv/docker-compose.yml".to_string(), Some(1), 2)]
    );
    // The policy of layer 1 selects web's pods, not worker's.
    assert_eq!(
        got("MOAT-K8S-060"),
        [("/deploy/worker.yml".to_string(), Some(0), 1)]
    );
    // The shop namespace has no default deny: one finding, at its first workload.
    assert_eq!(
        got("MOAT-K8S-061"),
        [("/deploy/web.yaml".to_string(), Some(0), 1)]
    );
    let paths: std::collections::BTreeSet<&str> =
        s.findings.iter().filter_map(|f| f.path()).collect();
    assert_eq!(
        paths.into_iter().collect::<Vec<_>>(),
        [
            "/deploy/web.yaml",
            "/deploy/worker.yml",
            "/srv/docker-compose.yml"
        ]
    );
    let ids: Vec<&str> = s
        .inventory
        .tool
        .analyzers
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "misconfig-dockerfile",
            "misconfig-kubernetes",
            "misconfig-compose",
            "misconfig-rego",
            "misconfig-image"
        ]
    );
}

#[test]
fn a_broken_manifest_is_a_located_diagnostic_and_misconfig_off_reads_none() {
    let layers = vec![vec![
        E::File(
            "k/bad.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata: [\n".to_vec(),
        ),
        E::File("k/web.yaml", WEB.as_bytes().to_vec()),
    ]];
    let (_dir, source) = open(&layers);
    let s = scan(&source, &misconfig()).unwrap();
    let d: Vec<(Option<&str>, Option<usize>)> = s
        .inventory
        .diagnostics
        .iter()
        .map(|d| (d.path.as_deref(), d.layer))
        .collect();
    assert_eq!(d, [(Some("/k/bad.yaml"), Some(0))]);
    assert!(s.findings.iter().any(|f| f.id == "MOAT-K8S-007"));
    // The inventory alone: no manifest is read.
    let s = scan(&source, &ScanOptions::default()).unwrap();
    assert!(s.findings.is_empty());
    assert!(s.inventory.diagnostics.is_empty());
}
