//! Oracle: Falco's Kubernetes audit rules over the recorded audit events of Falco's legacy
//! test suite fire exactly as the legacy k8s-audit tests expect.
//!
//! The table below is `test/falco_k8s_audit_tests.yaml` of falcosecurity/falco at 2583ea9
//! (the last commit that had the Python suite; the file is not staged in ../shared): for each
//! case, the rule files loaded after Falco's syscall rules (`PLUGIN` is the k8saudit plugin's
//! `k8s_audit_rules.yaml`, the others are under the legacy suite's `test/rules/`), the event
//! file under `test/trace_files/k8s_audit/`, and the expected count per rule; a case with no
//! counts expects no alert at all (Falco's `detect: False` at priority debug). The syscall
//! rules are not loaded (they cannot fire on audit events); in their place [`PRELUDE`] defines
//! the three image lists of that era's `falco_rules.yaml` that the k8s rule files append to.
//!
//! One adaptation: the staged k8saudit rules are newer than the suite and exempt images through
//! their own `k8s_audit_*_images` lists instead of `falco_*_images`, so the suite's
//! `trust_nginx_container.yaml` no longer reaches them; with `PLUGIN`, [`TRUST_PLUGIN`] makes
//! the same exemption in the new lists. And the staged rules split four rules of the suite's
//! time in two (`K8s Role/Clusterrole Created` is now `K8s Role Created` and `K8s ClusterRole
//! Created`); [`RENAMED`] maps the old names to the ones that must fire on those events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_runtime::k8s::{AuditEvent, AuditReader, K8sAudit};
use moat_runtime::{RuleSet, compile};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn shared_path(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/")).join(rel)
}

fn legacy() -> Option<PathBuf> {
    let p = shared_path("corpus/falco/falcosecurity-falco-legacy-tests/test");
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing (CI=true)", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}

fn plugin_rules() -> PathBuf {
    shared_path("corpus/falco/falcosecurity-plugins/plugins/k8saudit/rules/k8s_audit_rules.yaml")
}

/// What the era's `falco_rules.yaml` defined that the k8s rule files build on.
const PRELUDE: &str = "- list: falco_sensitive_mount_images\n  items: [docker.io/sysdig/sysdig, sysdig/sysdig, falcosecurity/falco]\n\
- list: falco_privileged_images\n  items: [docker.io/sysdig/sysdig, sysdig/sysdig, falcosecurity/falco]\n\
- list: falco_hostnetwork_images\n  items: [gcr.io/google-containers/prometheus-to-sd]\n";

/// `trust_nginx_container.yaml` for the staged k8saudit rules' own lists.
const TRUST_PLUGIN: &str = "- list: k8s_audit_sensitive_mount_images\n  items: [nginx]\n  append: true\n\
- list: k8s_audit_privileged_images\n  items: [nginx]\n  append: true\n\
- list: k8s_audit_hostnetwork_images\n  items: [nginx]\n  append: true\n";

/// Rules of the suite's time and their names in the staged k8saudit rules, for these events.
const RENAMED: &[(&str, &str)] = &[
    ("K8s Role/Clusterrole Created", "K8s ClusterRole Created"),
    ("K8s Role/Clusterrole Deleted", "K8s ClusterRole Deleted"),
    (
        "K8s Role/Clusterrolebinding Created",
        "K8s ClusterRoleBinding Created",
    ),
    (
        "K8s Role/Clusterrolebinding Deleted",
        "K8s ClusterRoleBinding Deleted",
    ),
];

type Case = (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static [(&'static str, usize)],
);

const CASES: &[Case] = &[
    (
        "compat_engine_v4_create_disallowed_pod",
        &[
            "k8s_audit/engine_v4_k8s_audit_rules.yaml",
            "k8s_audit/engine_v4/allow_only_apache_container.yaml",
        ],
        "create_nginx_pod_unprivileged.json",
        &[("Create Disallowed Pod", 1)],
    ),
    (
        "compat_engine_v4_create_allowed_pod",
        &[
            "k8s_audit/engine_v4_k8s_audit_rules.yaml",
            "k8s_audit/engine_v4/allow_nginx_container.yaml",
        ],
        "create_nginx_pod_unprivileged.json",
        &[],
    ),
    (
        "compat_engine_v4_create_privileged_pod",
        &["k8s_audit/engine_v4_k8s_audit_rules.yaml"],
        "create_nginx_pod_privileged.json",
        &[("Create Privileged Pod", 1)],
    ),
    (
        "compat_engine_v4_create_privileged_trusted_pod",
        &[
            "PLUGIN",
            "k8s_audit/engine_v4_k8s_audit_rules.yaml",
            "k8s_audit/trust_nginx_container.yaml",
        ],
        "create_nginx_pod_privileged.json",
        &[],
    ),
    (
        "compat_engine_v4_create_unprivileged_pod",
        &["k8s_audit/engine_v4_k8s_audit_rules.yaml"],
        "create_nginx_pod_unprivileged.json",
        &[],
    ),
    (
        "compat_engine_v4_create_hostnetwork_pod",
        &["k8s_audit/engine_v4_k8s_audit_rules.yaml"],
        "create_nginx_pod_hostnetwork.json",
        &[("Create HostNetwork Pod", 1)],
    ),
    (
        "compat_engine_v4_create_hostnetwork_trusted_pod",
        &[
            "PLUGIN",
            "k8s_audit/engine_v4_k8s_audit_rules.yaml",
            "k8s_audit/trust_nginx_container.yaml",
        ],
        "create_nginx_pod_hostnetwork.json",
        &[],
    ),
    (
        "user_outside_allowed_set",
        &["PLUGIN", "k8s_audit/allow_namespace_foo.yaml"],
        "some-user_creates_namespace_foo.json",
        &[("Disallowed K8s User", 1)],
    ),
    (
        "user_in_allowed_set",
        &[
            "PLUGIN",
            "k8s_audit/allow_namespace_foo.yaml",
            "k8s_audit/allow_user_some-user.yaml",
            "k8s_audit/disallow_kactivity.yaml",
        ],
        "some-user_creates_namespace_foo.json",
        &[],
    ),
    (
        "create_disallowed_pod",
        &["PLUGIN", "k8s_audit/allow_only_apache_container.yaml"],
        "create_nginx_pod_unprivileged.json",
        &[("Create Disallowed Pod", 1)],
    ),
    (
        "create_allowed_pod",
        &["PLUGIN", "k8s_audit/allow_nginx_container.yaml"],
        "create_nginx_pod_unprivileged.json",
        &[],
    ),
    (
        "create_privileged_pod",
        &["PLUGIN"],
        "create_nginx_pod_privileged.json",
        &[("Create Privileged Pod", 1)],
    ),
    (
        "create_privileged_no_secctx_1st_container_2nd_container_pod",
        &["PLUGIN"],
        "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        &[("Create Privileged Pod", 1)],
    ),
    (
        "create_privileged_2nd_container_pod",
        &["PLUGIN"],
        "create_nginx_pod_privileged_2nd_container.json",
        &[("Create Privileged Pod", 1)],
    ),
    (
        "create_privileged_trusted_pod",
        &["PLUGIN", "k8s_audit/trust_nginx_container.yaml"],
        "create_nginx_pod_privileged.json",
        &[],
    ),
    (
        "create_unprivileged_pod",
        &["PLUGIN"],
        "create_nginx_pod_unprivileged.json",
        &[],
    ),
    (
        "create_unprivileged_trusted_pod",
        &["PLUGIN", "k8s_audit/trust_nginx_container.yaml"],
        "create_nginx_pod_unprivileged.json",
        &[],
    ),
    (
        "create_sensitive_mount_pod",
        &["PLUGIN"],
        "create_nginx_pod_sensitive_mount.json",
        &[("Create Sensitive Mount Pod", 1)],
    ),
    (
        "create_sensitive_mount_2nd_container_pod",
        &["PLUGIN"],
        "create_nginx_pod_sensitive_mount_2nd_container.json",
        &[("Create Sensitive Mount Pod", 1)],
    ),
    (
        "create_sensitive_mount_trusted_pod",
        &["PLUGIN", "k8s_audit/trust_nginx_container.yaml"],
        "create_nginx_pod_sensitive_mount.json",
        &[],
    ),
    (
        "create_unsensitive_mount_pod",
        &["PLUGIN"],
        "create_nginx_pod_unsensitive_mount.json",
        &[],
    ),
    (
        "create_unsensitive_mount_trusted_pod",
        &["PLUGIN", "k8s_audit/trust_nginx_container.yaml"],
        "create_nginx_pod_unsensitive_mount.json",
        &[],
    ),
    (
        "create_hostnetwork_pod",
        &["PLUGIN"],
        "create_nginx_pod_hostnetwork.json",
        &[("Create HostNetwork Pod", 1)],
    ),
    (
        "create_hostnetwork_trusted_pod",
        &["PLUGIN", "k8s_audit/trust_nginx_container.yaml"],
        "create_nginx_pod_hostnetwork.json",
        &[],
    ),
    (
        "create_nohostnetwork_pod",
        &["PLUGIN"],
        "create_nginx_pod_nohostnetwork.json",
        &[],
    ),
    (
        "create_nohostnetwork_trusted_pod",
        &["PLUGIN", "k8s_audit/trust_nginx_container.yaml"],
        "create_nginx_pod_nohostnetwork.json",
        &[],
    ),
    (
        "create_nodeport_service",
        &["PLUGIN", "k8s_audit/disallow_kactivity.yaml"],
        "create_nginx_service_nodeport.json",
        &[("Create NodePort Service", 1)],
    ),
    (
        "create_nonodeport_service",
        &["PLUGIN", "k8s_audit/disallow_kactivity.yaml"],
        "create_nginx_service_nonodeport.json",
        &[],
    ),
    (
        "create_configmap_private_creds",
        &["PLUGIN", "k8s_audit/disallow_kactivity.yaml"],
        "create_configmap_sensitive_values.json",
        &[("Create/Modify Configmap With Private Credentials", 6)],
    ),
    (
        "create_configmap_no_private_creds",
        &["PLUGIN", "k8s_audit/disallow_kactivity.yaml"],
        "create_configmap_no_sensitive_values.json",
        &[],
    ),
    (
        "anonymous_user",
        &["PLUGIN"],
        "anonymous_creates_namespace_foo.json",
        &[("Anonymous Request Allowed", 1)],
    ),
    (
        "pod_exec",
        &["PLUGIN"],
        "exec_pod.json",
        &[("Attach/Exec Pod", 1)],
    ),
    (
        "pod_attach",
        &["PLUGIN"],
        "attach_pod.json",
        &[("Attach/Exec Pod", 1)],
    ),
    (
        "namespace_outside_allowed_set",
        &["PLUGIN", "k8s_audit/allow_user_some-user.yaml"],
        "some-user_creates_namespace_foo.json",
        &[("Create Disallowed Namespace", 1)],
    ),
    (
        "namespace_in_allowed_set",
        &[
            "PLUGIN",
            "k8s_audit/allow_namespace_foo.yaml",
            "k8s_audit/disallow_kactivity.yaml",
        ],
        "minikube_creates_namespace_foo.json",
        &[],
    ),
    (
        "create_pod_in_kube_system_namespace",
        &["PLUGIN"],
        "create_pod_kube_system_namespace.json",
        &[("Pod Created in Kube Namespace", 1)],
    ),
    (
        "create_pod_in_kube_public_namespace",
        &["PLUGIN"],
        "create_pod_kube_public_namespace.json",
        &[("Pod Created in Kube Namespace", 1)],
    ),
    (
        "create_serviceaccount_in_kube_system_namespace",
        &["PLUGIN"],
        "create_serviceaccount_kube_system_namespace.json",
        &[("Service Account Created in Kube Namespace", 1)],
    ),
    (
        "create_serviceaccount_in_kube_public_namespace",
        &["PLUGIN"],
        "create_serviceaccount_kube_public_namespace.json",
        &[("Service Account Created in Kube Namespace", 1)],
    ),
    (
        "system_clusterrole_deleted",
        &["PLUGIN"],
        "delete_cluster_role_kube_aggregator.json",
        &[("System ClusterRole Modified/Deleted", 1)],
    ),
    (
        "system_clusterrole_modified",
        &["PLUGIN"],
        "modify_cluster_role_node_problem_detector.json",
        &[("System ClusterRole Modified/Deleted", 1)],
    ),
    (
        "attach_cluster_admin_role",
        &["PLUGIN"],
        "attach_cluster_admin_role.json",
        &[("Attach to cluster-admin Role", 1)],
    ),
    (
        "create_cluster_role_wildcard_resources",
        &["PLUGIN"],
        "create_cluster_role_wildcard_resources.json",
        &[("ClusterRole With Wildcard Created", 1)],
    ),
    (
        "create_cluster_role_wildcard_verbs",
        &["PLUGIN"],
        "create_cluster_role_wildcard_verbs.json",
        &[("ClusterRole With Wildcard Created", 1)],
    ),
    (
        "create_writable_cluster_role",
        &["PLUGIN"],
        "create_cluster_role_write_privileges.json",
        &[("ClusterRole With Write Privileges Created", 1)],
    ),
    (
        "create_pod_exec_cluster_role",
        &["PLUGIN"],
        "create_cluster_role_pod_exec.json",
        &[("ClusterRole With Pod Exec Created", 1)],
    ),
    (
        "create_deployment",
        &["PLUGIN"],
        "create_deployment.json",
        &[("K8s Deployment Created", 1)],
    ),
    (
        "delete_deployment",
        &["PLUGIN"],
        "delete_deployment.json",
        &[("K8s Deployment Deleted", 1)],
    ),
    (
        "create_service",
        &["PLUGIN"],
        "create_service.json",
        &[("K8s Service Created", 1)],
    ),
    (
        "delete_service",
        &["PLUGIN"],
        "delete_service.json",
        &[("K8s Service Deleted", 1)],
    ),
    (
        "create_configmap",
        &["PLUGIN"],
        "create_configmap.json",
        &[("K8s ConfigMap Created", 1)],
    ),
    (
        "delete_configmap",
        &["PLUGIN"],
        "delete_configmap.json",
        &[("K8s ConfigMap Deleted", 1)],
    ),
    (
        "create_namespace",
        &[
            "PLUGIN",
            "k8s_audit/allow_namespace_foo.yaml",
            "k8s_audit/allow_user_some-user.yaml",
        ],
        "some-user_creates_namespace_foo.json",
        &[("K8s Namespace Created", 1)],
    ),
    (
        "delete_namespace",
        &["PLUGIN"],
        "delete_namespace_foo.json",
        &[("K8s Namespace Deleted", 1)],
    ),
    (
        "create_serviceaccount",
        &["PLUGIN"],
        "create_serviceaccount.json",
        &[("K8s Serviceaccount Created", 1)],
    ),
    (
        "delete_serviceaccount",
        &["PLUGIN"],
        "delete_serviceaccount.json",
        &[("K8s Serviceaccount Deleted", 1)],
    ),
    (
        "create_clusterrole",
        &["PLUGIN"],
        "create_clusterrole.json",
        &[("K8s Role/Clusterrole Created", 1)],
    ),
    (
        "delete_clusterrole",
        &["PLUGIN"],
        "delete_clusterrole.json",
        &[("K8s Role/Clusterrole Deleted", 1)],
    ),
    (
        "create_clusterrolebinding",
        &["PLUGIN"],
        "create_clusterrolebinding.json",
        &[("K8s Role/Clusterrolebinding Created", 1)],
    ),
    (
        "delete_clusterrolebinding",
        &["PLUGIN"],
        "delete_clusterrolebinding.json",
        &[("K8s Role/Clusterrolebinding Deleted", 1)],
    ),
    (
        "create_secret",
        &["PLUGIN"],
        "create_secret.json",
        &[("K8s Secret Created", 1)],
    ),
    (
        "create_service_account_token_secret",
        &["PLUGIN"],
        "create_service_account_token_secret.json",
        &[],
    ),
    (
        "create_kube_system_secret",
        &["PLUGIN"],
        "create_kube_system_secret.json",
        &[],
    ),
    (
        "delete_secret",
        &["PLUGIN"],
        "delete_secret.json",
        &[("K8s Secret Deleted", 1)],
    ),
    ("fal_01_003", &["PLUGIN"], "fal_01_003.json", &[]),
    (
        "json_pointer_correct_parse",
        &["k8s_audit/single_rule_with_json_pointer.yaml"],
        "create_nginx_pod_unprivileged.json",
        &[("json_pointer_example", 1)],
    ),
];

/// The events of one file (payloads that are not audit events are skipped, as Falco
/// reports and skips them).
fn events(path: &std::path::Path) -> (Vec<AuditEvent>, usize) {
    let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut r = AuditReader::new(f);
    let mut out = Vec::new();
    let mut bad = 0;
    while let Some(p) = r.next_payload().unwrap() {
        match p {
            Ok(evs) => {
                for e in evs {
                    match e {
                        Ok(e) => out.push(e),
                        Err(_) => bad += 1,
                    }
                }
            }
            Err(_) => bad += 1,
        }
    }
    (out, bad)
}

fn run(files: &[PathBuf], events: &[AuditEvent]) -> BTreeMap<String, usize> {
    let mut rs = RuleSet::default();
    rs.load_bytes("prelude.yaml", PRELUDE.as_bytes());
    for f in files {
        rs.load_file(f);
    }
    let plugin = files.iter().any(|f| *f == plugin_rules());
    if plugin
        && files
            .iter()
            .any(|f| f.ends_with("trust_nginx_container.yaml"))
    {
        rs.load_bytes("trust_plugin.yaml", TRUST_PLUGIN.as_bytes());
    }
    let c = compile(&rs, K8sAudit, &["syscall"]);
    let errors: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.code.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{files:?}: {errors:#?}");
    let mut counts = BTreeMap::new();
    for ev in events {
        c.engine.process(ev, |i| {
            *counts.entry(c.engine.rules()[i].name.clone()).or_insert(0) += 1
        });
    }
    counts
}

#[test]
fn legacy_k8s_audit_cases() {
    let Some(base) = legacy() else { return };
    let mut failures = Vec::new();
    for (name, rules, event_file, expected) in CASES {
        let files: Vec<PathBuf> = rules
            .iter()
            .map(|r| {
                if *r == "PLUGIN" {
                    plugin_rules()
                } else {
                    base.join("rules").join(r)
                }
            })
            .collect();
        let (evs, _) = events(&base.join("trace_files/k8s_audit").join(event_file));
        let got = run(&files, &evs);
        let renamed = |r: &str| {
            RENAMED
                .iter()
                .find(|(old, _)| *old == r)
                .map_or(r, |(_, new)| *new)
                .to_string()
        };
        let want: BTreeMap<String, usize> =
            expected.iter().map(|(r, n)| (renamed(r), *n)).collect();
        let ok = if want.is_empty() {
            got.is_empty()
        } else {
            want.iter()
                .all(|(r, n)| got.get(r).copied().unwrap_or(0) == *n)
        };
        if !ok {
            failures.push(format!("{name}: want {want:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
