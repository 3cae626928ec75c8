//! moat's Kubernetes rules against checkov's own fixtures for the checks they share: per
//! checkov test, the resources checkov counts as passed and failed in its example directory,
//! against moat's verdicts on the same files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use moat_misconfig::k8s::rules::{Manifests, RULES};
use moat_misconfig::k8s::{PSS_RULES, Resource, load, pss};
use std::collections::BTreeSet;
use std::path::Path;

const EXPECTED: &[&str] = &[
    "CKV_K8S_20 AllowProvilegeEscalation: checkov 3/4 moat 3/4 AGREE",
    "CKV_K8S_25 AllowedCapabilities: checkov 2/1 moat 2/1 AGREE",
    "CKV_K8S_39 AllowedCapabilitiesSysAdmin: checkov 1/1 moat 1/1 AGREE",
    "CKV_K8S_11 CPULimits: checkov 2/2 moat 2/3 DIFFER",
    "CKV_K8S_10 CPURequests: checkov 1/2 moat 1/4 DIFFER",
    "CKV_K8S_27 DockerSocketVolume: checkov 4/2 moat 3/2 DIFFER",
    "CKV_K8S_28 DropCapabilities: checkov 3/2 moat 3/2 AGREE",
    "CKV_K8S_26 HostPort: checkov 2/2 moat 2/2 AGREE",
    "CKV_K8S_43 ImageDigest: checkov 3/2 moat 3/2 AGREE",
    "CKV_K8S_14 ImageTagFixed: checkov 4/2 moat 4/2 AGREE",
    "CKV_K8S_8 LivenessProbe: checkov 1/1 moat 1/1 AGREE",
    "CKV_K8S_13 MemoryLimits: checkov 2/2 moat 2/3 DIFFER",
    "CKV_K8S_12 MemoryRequests: checkov 1/2 moat 1/4 DIFFER",
    "CKV_K8S_37 MinimizeCapabilities: checkov 2/3 moat 1/4 DIFFER",
    "CKV_K8S_16 PrivilegedContainers: checkov 1/2 moat 1/2 AGREE",
    "CKV_K8S_157 RbacBindRoleBindings: checkov 2/2 moat 2/2 AGREE",
    "CKV_K8S_158 RbacEscalateRoles: checkov 2/2 moat 2/2 AGREE",
    "CKV_K8S_22 ReadOnlyFilesystem: checkov 1/2 moat 1/2 AGREE",
    "CKV_K8S_9 ReadinessProbe: checkov 1/1 moat 1/1 AGREE",
    "CKV_K8S_23 RootContainers: checkov 5/7 moat 2/8 DIFFER",
    "CKV_K8S_40 RootContainersHighUID: checkov 4/7 moat 3/6 DIFFER",
    "CKV_K8S_31 Seccomp: checkov 12/4 moat 8/8 DIFFER",
    "CKV_K8S_35 Secrets: checkov 2/2 moat 3/2 DIFFER",
    "CKV_K8S_38 ServiceAccountTokens: checkov 1/2 moat 1/2 AGREE",
    "CKV_K8S_18 ShareHostIPC: checkov 3/3 moat 3/3 AGREE",
    "CKV_K8S_17 ShareHostPID: checkov 3/3 moat 3/3 AGREE",
    "CKV_K8S_19 SharedHostNetworkNamespace: checkov 3/3 moat 3/3 AGREE",
    "CKV_K8S_49 WildcardRoles: checkov 2/3 moat 2/3 AGREE",
];

/// A workload with at least one container (checkov counts no other).
fn has_containers(spec: &serde_json::Value) -> bool {
    ["containers", "initContainers"]
        .iter()
        .any(|k| spec[*k].as_array().is_some_and(|a| !a.is_empty()))
}

/// The resources of every file in `dir` and the references moat flags for `ckv`.
fn verdicts(dir: &Path, ckv: &str) -> Option<(usize, usize)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut resources = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let (rs, _) = load(&std::fs::read(f).unwrap());
        resources.extend(rs.into_iter().map(|r| Resource { file: i, ..r }));
    }
    let mut flagged: BTreeSet<(String, String)> = BTreeSet::new();
    let mut relevant: BTreeSet<(String, String)> = BTreeSet::new();
    let mut known = false;
    for p in PSS_RULES.iter().filter(|p| p.aliases.contains(&ckv)) {
        known = true;
        let control = pss::CONTROLS.iter().find(|c| c.id == p.control).unwrap();
        for r in &resources {
            let Some((m, s)) = r.pod() else { continue };
            if !has_containers(s) {
                continue;
            }
            relevant.insert((names[r.file].clone(), r.reference()));
            if pss::evaluate(control.level, pss::LATEST, m, s)
                .iter()
                .any(|v| v.control == p.control)
            {
                flagged.insert((names[r.file].clone(), r.reference()));
            }
        }
    }
    for rule in RULES.iter().filter(|r| r.aliases.contains(&ckv)) {
        known = true;
        let rbac = rule.id.starts_with("MOAT-K8S-04");
        for r in &resources {
            let applies = if rbac {
                matches!(r.kind.as_str(), "Role" | "ClusterRole")
            } else {
                r.pod().is_some_and(|(_, s)| has_containers(s))
            };
            if applies {
                relevant.insert((names[r.file].clone(), r.reference()));
            }
        }
        // All files together: each hit names its file.
        let m = Manifests {
            resources: resources.clone(),
        };
        let mut hits = Vec::new();
        (rule.check)(&m, &mut hits);
        for h in hits {
            if let (Some(file), Some(reference)) = (h.file, h.resource) {
                flagged.insert((names[file].clone(), reference));
            }
        }
    }
    if std::env::var("SHOW").as_deref() == Ok(ckv) {
        for r in &relevant {
            eprintln!(
                "{} {} {}",
                if flagged.contains(r) { "FAIL" } else { "pass" },
                r.0.rsplit('/').next().unwrap_or(""),
                r.1
            );
        }
    }
    known.then(|| (relevant.len() - flagged.len(), flagged.len()))
}

#[test]
fn checkov_agreement() {
    let (Some(root), Some(oracle)) = (
        shared_or_skip("corpus/k8s-manifests/checkov-tests/tests/kubernetes/checks"),
        shared_or_skip("corpus/oracles/checkov-k8s-expected.json"),
    ) else {
        return;
    };
    let oracle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oracle).unwrap()).unwrap();
    let mut rows = Vec::new();
    for case in oracle["cases"].as_array().unwrap() {
        let Some(ckv) = case["check_ids"][0].as_str() else {
            continue;
        };
        let test = case["test_file"].as_str().unwrap();
        let name = test
            .rsplit('/')
            .next()
            .unwrap()
            .trim_start_matches("test_")
            .trim_end_matches(".py");
        // Tests whose examples sit in a directory named otherwise.
        let dir_name = match name {
            "AllowProvilegeEscalation" => "AllowPrivilegeEscalation",
            "CPULimits" | "CPURequests" | "MemoryLimits" | "MemoryRequests" => "Requests_Limits",
            "LivenessProbe" | "ReadinessProbe" => "LivenessReadiness",
            "MinimizeCapabilities" => "DropCapabilities",
            "ShareHostIPC" | "ShareHostPID" | "SharedHostNetworkNamespace" => "ShareHost",
            other => other,
        };
        let dir = root.join(format!("example_{dir_name}"));
        let Some((pass, fail)) = verdicts(&dir, ckv) else {
            continue;
        };
        let want = (
            case["summary"]["passed"].as_u64().unwrap() as usize,
            case["summary"]["failed"].as_u64().unwrap() as usize,
        );
        rows.push(format!(
            "{ckv} {name}: checkov {}/{} moat {pass}/{fail} {}",
            want.0,
            want.1,
            if want == (pass, fail) {
                "AGREE"
            } else {
                "DIFFER"
            }
        ));
    }
    // The agreement table of ACCURACY.md, where each disagreement is explained: a change in
    // either direction is a change to explain there.
    assert_eq!(rows, EXPECTED, "\n{}", rows.join("\n"));
    let agree = rows.iter().filter(|r| r.ends_with("AGREE")).count();
    assert_eq!((agree, rows.len()), (18, 28));
}
