//! moat's Kubernetes rules against kubesec's own test assertions
//! (`../shared/corpus/oracles/kubesec-expected.json`: bats assertions on kubesec's score over
//! the assets of `k8s-manifests/kubesec-tests/`). kubesec adds the points of every check that
//! matches: its critical checks have negative points, so a score below zero says a critical
//! check fired (and outweighed the positive points). For every case asserting a score on one
//! asset, moat's verdict is whether a rule corresponding to one of kubesec's critical checks
//! (its alias lists the kubesec id) reports the asset; the two agree when that holds exactly
//! when kubesec's score is below zero. The table is ACCURACY.md's, where each disagreement is
//! explained.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use moat_misconfig::k8s::{Checks, check, pss};
use std::collections::BTreeSet;

/// kubesec's checks with negative points that moat has a rule for (`HostAliases` and
/// `BindingsToSystemAnonymous` it has not).
const CRITICAL: &[&str] = &[
    "AllowPrivilegeEscalation",
    "ApparmorUnconfined",
    "CapSysAdmin",
    "DockerSock",
    "HostIPC",
    "HostNetwork",
    "HostPID",
    "Privileged",
    "ProcMount",
    "SeccompUnconfined",
    "SecretsAsEnvironmentVariables",
];

const EXPECTED: &[&str] = &[
    "AllowPrivilegeEscalation: moat fires on 54 assets, kubesec < 0 on 16 of them",
    "ApparmorUnconfined: moat fires on 4 assets, kubesec < 0 on 4 of them",
    "CapSysAdmin: moat fires on 2 assets, kubesec < 0 on 2 of them",
    "DockerSock: moat fires on 3 assets, kubesec < 0 on 3 of them",
    "HostIPC: moat fires on 3 assets, kubesec < 0 on 3 of them",
    "HostNetwork: moat fires on 3 assets, kubesec < 0 on 3 of them",
    "HostPID: moat fires on 3 assets, kubesec < 0 on 3 of them",
    "Privileged: moat fires on 1 assets, kubesec < 0 on 1 of them",
    "ProcMount: moat fires on 4 assets, kubesec < 0 on 4 of them",
    "SeccompUnconfined: moat fires on 4 assets, kubesec < 0 on 4 of them",
    "SecretsAsEnvironmentVariables: moat fires on 0 assets, kubesec < 0 on 0 of them",
    "score-0-cap-sys-admin.yml kubesec <0 moat [CapSysAdmin] AGREE",
    "score-0-cap-chown.yml kubesec =0 moat [] AGREE",
    "score-0-cap-sys-admin-and-cap-chown.yml kubesec <0 moat [CapSysAdmin] AGREE",
    "score-1-cap-drop-all.yml kubesec >0 moat [] AGREE",
    "score-1-dep-ro-root-fs.yml kubesec >0 moat [] AGREE",
    "score-1-dep-podseccon-run-as-non-root.yml kubesec >0 moat [] AGREE",
    "score-1-dep-seccon-run-as-non-root.yml kubesec >0 moat [] AGREE",
    "score-1-dep-podseccon-run-as-user-1.yml kubesec =0 moat [] AGREE",
    "score-1-dep-seccon-run-as-user-1.yml kubesec =0 moat [] AGREE",
    "score-1-dep-podseccon-run-as-user-10001.yml kubesec >0 moat [] AGREE",
    "score-1-dep-seccon-run-as-user-10001.yml kubesec >0 moat [] AGREE",
    "score-1-dep-podseccon-run-as-group-1.yml kubesec =0 moat [] AGREE",
    "score-1-dep-seccon-run-as-group-1.yml kubesec =0 moat [] AGREE",
    "score-1-dep-podseccon-run-as-group-10001.yml kubesec >0 moat [] AGREE",
    "score-1-dep-seccon-run-as-group-10001.yml kubesec >0 moat [] AGREE",
    "score-1-dep-empty-security-context.yml kubesec =0 moat [] AGREE",
    "score-1-dep-resource-limit-cpu.yml kubesec >0 moat [] AGREE",
    "score-1-dep-resource-limit-memory.yml kubesec >0 moat [] AGREE",
    "score-1-statefulset-volumeclaimtemplate.yml kubesec >0 moat [] AGREE",
    "score-1-statefulset-novolumeclaimtemplate.yml kubesec >0 moat [] AGREE",
    "score-0-statefulset-no-sec.yml kubesec =0 moat [] AGREE",
    "score-0-daemonset-securitycontext-privileged.yml kubesec <0 moat [DockerSock,HostIPC,HostNetwork,HostPID,Privileged] AGREE",
    "score-0-daemonset-mount-docker-socket.yml kubesec <0 moat [DockerSock] AGREE",
    "score-0-dep-apparmor-empty-securitycontext.yml kubesec =0 moat [] AGREE",
    "score-1-dep-apparmor-nonunconfined-spec-securitycontext.yml kubesec >0 moat [] AGREE",
    "score-0-dep-apparmor-unconfined-spec-securitycontext.yml kubesec <0 moat [ApparmorUnconfined] AGREE",
    "score-1-dep-apparmor-nonunconfined-container.yml kubesec >0 moat [] AGREE",
    "score-0-dep-apparmor-unconfined-container.yml kubesec <0 moat [ApparmorUnconfined] AGREE",
    "score-1-dep-apparmor-nonunconfined-initcontainer.yml kubesec >0 moat [] AGREE",
    "score-0-dep-apparmor-unconfined-initcontainer.yml kubesec <0 moat [ApparmorUnconfined] AGREE",
    "score-1-dep-apparmor-nonunconfined-ephemeralcontainer.yml kubesec >0 moat [] AGREE",
    "score-0-dep-apparmor-unconfined-ephemeralcontainer.yml kubesec <0 moat [ApparmorUnconfined] AGREE",
    "score-0-dep-seccomp-empty-securitycontext.yml kubesec =0 moat [] AGREE",
    "score-1-dep-seccomp-nonunconfined-spec-securitycontext.yml kubesec >0 moat [] AGREE",
    "score-0-dep-seccomp-unconfined-spec-securitycontext.yml kubesec <0 moat [SeccompUnconfined] AGREE",
    "score-1-dep-seccomp-nonunconfined-container.yml kubesec >0 moat [] AGREE",
    "score-0-dep-seccomp-unconfined-container.yml kubesec <0 moat [SeccompUnconfined] AGREE",
    "score-1-dep-seccomp-nonunconfined-initcontainer.yml kubesec >0 moat [] AGREE",
    "score-0-dep-seccomp-unconfined-initcontainer.yml kubesec <0 moat [SeccompUnconfined] AGREE",
    "score-1-dep-seccomp-nonunconfined-ephemeralcontainer.yml kubesec >0 moat [] AGREE",
    "score-0-dep-seccomp-unconfined-ephemeralcontainer.yml kubesec <0 moat [SeccompUnconfined] AGREE",
    "score-0-daemonset-host-network.yml kubesec <0 moat [HostIPC,HostNetwork,HostPID] AGREE",
    "score-0-daemonset-host-pid.yml kubesec <0 moat [HostIPC,HostNetwork,HostPID] AGREE",
    "score-0-daemonset-volume-host-docker-socket.yml kubesec <0 moat [DockerSock] AGREE",
    "score-2-dep-serviceaccount.yml kubesec >0 moat [] AGREE",
    "score-2-pod-serviceaccount.yml kubesec >0 moat [] AGREE",
    "allowPrivilegeEscalation.yaml kubesec <0 moat [] DIFFER",
    "score-1-pod-automount-sa-set-to-false.yml kubesec >0 moat [] AGREE",
    "score-1-pod-hostUsers-set-to-false.yml kubesec >0 moat [] AGREE",
    "versioned/score-0-daemonset-v1.11.yml kubesec =0 moat [] AGREE",
    "versioned/score-0-statefulset-v1.11.yml kubesec =0 moat [] AGREE",
    "bug-dump-2.json kubesec >0 moat [] AGREE",
    "form-prefix-file.yml kubesec =0 moat [] AGREE",
    "form-prefix-file.json kubesec =0 moat [] AGREE",
    "score-2-dep-serviceaccount.yml kubesec =0 moat [] AGREE",
];

/// The kubesec critical ids the findings of moat on `bytes` carry: every rule with the Pod
/// Security Standards at the restricted level (`moat config`), and the baseline level
/// (`moat config --pss baseline`), where an unconfined seccomp profile is MOAT-K8S-010 (at
/// the restricted level MOAT-K8S-019 replaces it, as the reference implementation does).
fn critical_ids(path: &str, bytes: &[u8]) -> BTreeSet<String> {
    let files = [(path.to_string(), bytes)];
    let all = check(&files, Checks::All);
    let baseline = check(&files, Checks::Pss(pss::Level::Baseline, pss::LATEST));
    all.findings
        .iter()
        .chain(&baseline.findings)
        .flat_map(|f| f.aliases.iter())
        .filter(|a| CRITICAL.contains(&a.as_str()))
        .cloned()
        .collect()
}

/// kubesec's critical checks whose moat rule is broader: `AllowPrivilegeEscalation` fires in
/// kubesec on an explicit `true` only, moat's MOAT-K8S-013 (the restricted Pod Security
/// Standards control) also when the field is unset, as it is in almost every asset;
/// `ProcMount` is a hostPath volume of `/proc` in kubesec, any hostPath volume in moat's
/// MOAT-K8S-004 (the baseline control). Left out of the per-asset verdict, counted in their
/// rules' rows.
const BROADER: &[&str] = &["AllowPrivilegeEscalation", "ProcMount"];

#[test]
fn kubesec_agreement() {
    let (Some(root), Some(oracle)) = (
        shared_or_skip("corpus/k8s-manifests/kubesec-tests"),
        shared_or_skip("corpus/oracles/kubesec-expected.json"),
    ) else {
        return;
    };
    let oracle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oracle).unwrap()).unwrap();
    // (asset, kubesec's score assertion, the kubesec critical ids moat's findings carry)
    let mut cases: Vec<(String, &str, BTreeSet<String>)> = Vec::new();
    for case in oracle["cases"].as_array().unwrap() {
        let assertions: Vec<&str> = case["assertions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        let score: Vec<&str> = assertions
            .iter()
            .filter_map(|a| match *a {
                "assert_gt_zero_points" => Some(">0"),
                "assert_zero_points" => Some("=0"),
                "assert_lt_zero_points" => Some("<0"),
                _ => None,
            })
            .collect();
        let assets: Vec<&str> = case["assets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        let ([score], [asset]) = (score.as_slice(), assets.as_slice()) else {
            continue;
        };
        let path = root.join(asset);
        let name = asset.trim_start_matches("test/asset/").to_string();
        if !path.is_file() || cases.iter().any(|c| c.0 == name && c.1 == *score) {
            continue;
        }
        let ids = critical_ids(asset, &std::fs::read(&path).unwrap());
        cases.push((name, score, ids));
    }
    let mut rows: Vec<String> = Vec::new();
    // One row per kubesec critical check: the assets moat's rule reports, and how many of
    // them kubesec scores below zero.
    for id in CRITICAL {
        let fired: Vec<&(String, &str, BTreeSet<String>)> =
            cases.iter().filter(|c| c.2.contains(*id)).collect();
        let below = fired.iter().filter(|c| c.1 == "<0").count();
        rows.push(format!(
            "{id}: moat fires on {} assets, kubesec < 0 on {below} of them",
            fired.len()
        ));
    }
    let mut agree = 0;
    for (name, score, ids) in &cases {
        let ids: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .filter(|i| !BROADER.contains(i))
            .collect();
        let same = ids.is_empty() != (*score == "<0");
        agree += usize::from(same);
        rows.push(format!(
            "{name} kubesec {score} moat [{}] {}",
            ids.join(","),
            if same { "AGREE" } else { "DIFFER" }
        ));
    }
    // ACCURACY.md's table, where each disagreement is explained: a change in either
    // direction is a change to explain there.
    assert_eq!(rows, EXPECTED, "\n{}", rows.join("\n"));
    assert_eq!((agree, cases.len()), (54, 55));
}
