//! kube-score's and Polaris' check ids in the aliases of moat's Kubernetes findings, spot-checked
//! on those tools' own fixtures (`../shared/corpus/k8s-manifests/kube-score-tests` and
//! `polaris-tests`): a fixture the peer fails carries the peer's id, the fixture it passes
//! does not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use moat_misconfig::k8s::{Checks, check};

/// Whether moat's findings on `rel` (under `k8s-manifests/`) carry the alias `id`, and the
/// moat rules that do.
fn carries(root: &std::path::Path, rel: &str, id: &str) -> Vec<String> {
    let bytes = std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let c = check(&[(rel.to_string(), bytes)], Checks::All);
    let mut ids: Vec<String> = c
        .findings
        .iter()
        .filter(|f| f.aliases.iter().any(|a| a == id))
        .map(|f| f.id.clone())
        .collect();
    ids.dedup();
    ids
}

#[test]
fn kube_score_and_polaris_ids() {
    let Some(root) = shared_or_skip("corpus/k8s-manifests") else {
        return;
    };
    let ks = "kube-score-tests/score/testdata";
    let pol = "polaris-tests/test/checks";
    // (fixture, peer id, the moat rules that carry it: none for a fixture the peer passes)
    let cases: &[(String, &str, &[&str])] = &[
        (
            format!("{ks}/pod-security-context-privileged.yaml"),
            "container-security-context-privileged",
            &["MOAT-K8S-007"],
        ),
        (
            format!("{ks}/pod-image-tag-latest.yaml"),
            "container-image-tag",
            &["MOAT-K8S-020"],
        ),
        (
            format!("{ks}/pod-image-tag-fixed.yaml"),
            "container-image-tag",
            &[],
        ),
        (
            format!("{ks}/pod-test-resources-none.yaml"),
            "container-resources",
            &[
                "MOAT-K8S-029",
                "MOAT-K8S-030",
                "MOAT-K8S-031",
                "MOAT-K8S-032",
            ],
        ),
        (
            format!("{ks}/pod-test-resources-limits-and-requests.yaml"),
            "container-resources",
            &[],
        ),
        (
            format!("{ks}/service-type-nodeport.yaml"),
            "service-type",
            &["MOAT-K8S-050"],
        ),
        (
            format!("{ks}/service-type-clusterip.yaml"),
            "service-type",
            &[],
        ),
        (
            format!("{ks}/networkpolicy-not-matching.yaml"),
            "pod-networkpolicy",
            &["MOAT-K8S-060"],
        ),
        (
            format!("{ks}/networkpolicy-matching.yaml"),
            "pod-networkpolicy",
            &[],
        ),
        (
            format!("{pol}/hostNetworkSet/failure.yaml"),
            "hostNetworkSet",
            &["MOAT-K8S-003"],
        ),
        (
            format!("{pol}/hostNetworkSet/success.yaml"),
            "hostNetworkSet",
            &[],
        ),
        (
            format!("{pol}/runAsPrivileged/failure.two_cont.yaml"),
            "runAsPrivileged",
            &["MOAT-K8S-007"],
        ),
        (
            format!("{pol}/runAsPrivileged/success.yaml"),
            "runAsPrivileged",
            &[],
        ),
        (
            format!("{pol}/runAsRootAllowed/failure.yaml"),
            "runAsRootAllowed",
            &["MOAT-K8S-017"],
        ),
        (
            format!("{pol}/runAsRootAllowed/success.yaml"),
            "runAsRootAllowed",
            &[],
        ),
        (
            format!("{pol}/tagNotSpecified/failure.latest.yaml"),
            "tagNotSpecified",
            &["MOAT-K8S-020"],
        ),
        (
            format!("{pol}/tagNotSpecified/success.yaml"),
            "tagNotSpecified",
            &[],
        ),
        (
            format!("{pol}/notReadOnlyRootFilesystem/failure.two_cont_one_unspecified.yaml"),
            "notReadOnlyRootFilesystem",
            &["MOAT-K8S-022"],
        ),
        (
            format!("{pol}/notReadOnlyRootFilesystem/success.yaml"),
            "notReadOnlyRootFilesystem",
            &[],
        ),
        (
            format!("{pol}/tlsSettingsMissing/failure.yaml"),
            "tlsSettingsMissing",
            &["MOAT-K8S-051"],
        ),
        (
            format!("{pol}/tlsSettingsMissing/success.yaml"),
            "tlsSettingsMissing",
            &[],
        ),
        (
            format!(
                "{pol}/clusterrolebindingClusterAdmin/failure.default_clusteradmin_clusterrole.yaml"
            ),
            "clusterrolebindingClusterAdmin",
            &["MOAT-K8S-044"],
        ),
        (
            format!("{pol}/privilegeEscalationAllowed/failure.unspecified.yaml"),
            "privilegeEscalationAllowed",
            &["MOAT-K8S-013"],
        ),
        (
            format!("{pol}/privilegeEscalationAllowed/success.yaml"),
            "privilegeEscalationAllowed",
            &[],
        ),
    ];
    let mut wrong = Vec::new();
    for (rel, id, want) in cases {
        let got = carries(&root, rel, id);
        if got != *want {
            wrong.push(format!("{rel} {id}: moat {got:?}, expected {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
