//! Kubernetes checks beyond the Pod Security Standards: resources, images, probes, service
//! account tokens, secrets in the environment, the Docker socket, dangerous capabilities,
//! RBAC, exposed Services and Ingresses, and network isolation across the whole set of files.
//!
//! Each rule runs over a [`Manifests`] (every resource of the files checked together, so that
//! NetworkPolicies in one file cover workloads in another) and reports one hit per offending
//! resource, naming the containers, at the line of the offending field of the first of them.
//! The ids of the same check in Trivy (`KSV...`, every spelling), checkov (`CKV_K8S_...`),
//! kubesec, kube-score and Polaris are the finding's aliases; checkov's own fixtures and
//! kubesec's test assertions are the oracles for the rules they share (the
//! `k8s_checkov_agreement` and `k8s_kubesec_agreement` tests, ACCURACY.md), kube-score's and
//! Polaris' fixtures are spot-checked (`k8s_peer_ids`).

use super::Resource;
use super::lines::Seg;
use super::pss::{array, field as get};
use crate::rule::{Hit, Rule};
use moat_model::Severity;
use serde_json::Value;

/// The resources of the files checked together, each knowing its file
/// ([`Resource::file`]).
pub struct Manifests {
    pub resources: Vec<Resource>,
}

impl Manifests {
    fn workloads(&self) -> impl Iterator<Item = (&Resource, &Value, &Value)> {
        self.resources
            .iter()
            .filter_map(|r| r.pod().map(|(m, s)| (r, m, s)))
    }
}

/// The containers of a pod spec (init and regular; ephemeral ones are added at run time),
/// each with its list and index.
fn containers(spec: &Value) -> impl Iterator<Item = (&'static str, usize, &Value)> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(move |k| {
            array(spec, k)
                .iter()
                .enumerate()
                .map(move |(i, c)| (k, i, c))
        })
}

fn name(c: &Value) -> &str {
    c.get("name").and_then(Value::as_str).unwrap_or("")
}

fn hit(r: &Resource, message: String) -> Hit {
    hit_at(r, r.line, message)
}

/// A hit at `line` of the resource's file.
fn hit_at(r: &Resource, line: u32, message: String) -> Hit {
    Hit {
        start_line: line,
        end_line: line,
        message,
        cause: None,
        resource: Some(r.reference()),
        file: Some(r.file),
    }
}

/// The hit of a workload whose containers `names` (quoted) do something, at `line`: `None`
/// for none.
fn container_hit(r: &Resource, line: u32, names: &[String], what: &str) -> Option<Hit> {
    (!names.is_empty()).then(|| {
        hit_at(
            r,
            line,
            format!(
                "{}: {} {} {what}",
                r.reference(),
                if names.len() == 1 {
                    "container"
                } else {
                    "containers"
                },
                names.join(", ")
            ),
        )
    })
}

/// One hit per workload whose containers `bad` picks, naming them, at the `field` (keys)
/// of the first of them (or at the container, when it has no such field).
fn per_container(
    m: &Manifests,
    out: &mut Vec<Hit>,
    what: &str,
    field: &[&str],
    bad: impl Fn(&Value, &Value) -> bool,
) {
    for (r, _, spec) in m.workloads() {
        let mut first = None;
        let mut names = Vec::new();
        for (list, i, c) in containers(spec).filter(|(_, _, c)| bad(spec, c)) {
            first.get_or_insert((list, i));
            names.push(format!("{:?}", name(c)));
        }
        let line = first.map_or(r.line, |(list, i)| r.container_line(list, i, field));
        out.extend(container_hit(r, line, &names, what));
    }
}

fn image(c: &Value) -> &str {
    c.get("image").and_then(Value::as_str).unwrap_or("")
}

/// The tag of an image reference (`None` without one; a digest is not a tag).
fn tag(image: &str) -> Option<&str> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split_once(':').map(|(_, t)| t)
}

fn image_tag_latest(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "use an image without a fixed tag (none, or `latest`)",
        &["image"],
        |_, c| {
            let i = image(c);
            !i.contains('@') && matches!(tag(i), None | Some("latest"))
        },
    );
}

fn image_digest(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "use an image not pinned by digest",
        &["image"],
        |_, c| !image(c).contains('@'),
    );
}

fn read_only_root(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "do not set securityContext.readOnlyRootFilesystem=true",
        &["securityContext", "readOnlyRootFilesystem"],
        |_, c| {
            get(c, &["securityContext", "readOnlyRootFilesystem"]).and_then(Value::as_bool)
                != Some(true)
        },
    );
}

fn service_account_token(m: &Manifests, out: &mut Vec<Hit>) {
    for (r, _, spec) in m.workloads() {
        if get(spec, &["automountServiceAccountToken"]).and_then(Value::as_bool) != Some(false) {
            out.push(hit_at(
                r,
                r.pod_line(&["automountServiceAccountToken"]),
                format!(
                    "{}: the service account token is mounted (automountServiceAccountToken is not false)",
                    r.reference()
                ),
            ));
        }
    }
}

fn high_uid(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "run with a UID at or below 10000 (or none set)",
        &["securityContext", "runAsUser"],
        |spec, c| {
            // In a user namespace (hostUsers: false) UIDs are remapped away from the host's.
            if get(spec, &["hostUsers"]).and_then(Value::as_bool) == Some(false) {
                return false;
            }
            let uid = get(c, &["securityContext", "runAsUser"])
                .or_else(|| get(spec, &["securityContext", "runAsUser"]))
                .and_then(Value::as_i64);
            uid.is_none_or(|u| u <= 10_000)
        },
    );
}

fn env_from_secret(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "take secrets as environment variables (mount them as files)",
        &["env"],
        |_, c| {
            let env = c
                .get("env")
                .and_then(Value::as_array)
                .map(|a| a.as_slice())
                .unwrap_or_default();
            let from = c
                .get("envFrom")
                .and_then(Value::as_array)
                .map(|a| a.as_slice())
                .unwrap_or_default();
            env.iter()
                .any(|e| get(e, &["valueFrom", "secretKeyRef"]).is_some())
                || from.iter().any(|e| get(e, &["secretRef"]).is_some())
        },
    );
}

/// Whether an environment variable's name says it holds a secret (`DB_PASSWORD`,
/// `API_TOKEN`; not `PASSWORD_FILE`, which names a file holding one).
pub(crate) fn secret_like_name(name: &str) -> bool {
    const PARTS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "private_key",
        "credential",
    ];
    let lower = name.to_ascii_lowercase();
    PARTS.iter().any(|p| lower.contains(p)) && !lower.ends_with("_file")
}

fn env_literal_secret(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "set a secret as a literal environment value (use a Secret)",
        &["env"],
        |_, c| {
            c.get("env")
                .and_then(Value::as_array)
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .any(|e| {
                    let n = e.get("name").and_then(Value::as_str).unwrap_or("");
                    let v = e.get("value").and_then(Value::as_str).unwrap_or("");
                    secret_like_name(n) && !v.is_empty() && !v.starts_with("$(")
                })
        },
    );
}

fn docker_socket(m: &Manifests, out: &mut Vec<Hit>) {
    for (r, _, spec) in m.workloads() {
        let vols: Vec<&str> = spec
            .get("volumes")
            .and_then(Value::as_array)
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|v| {
                let p = get(v, &["hostPath", "path"])
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let p = p.trim_end_matches('/');
                p == "/var/run/docker.sock"
                    || p == "/run/docker.sock"
                    || p.ends_with("/containerd.sock")
                    || p.ends_with("/crio.sock")
            })
            .map(|v| v.get("name").and_then(Value::as_str).unwrap_or(""))
            .collect();
        if !vols.is_empty() {
            out.push(hit_at(
                r,
                r.pod_line(&["volumes"]),
                format!(
                    "{}: volume {:?} mounts the container runtime's socket from the host",
                    r.reference(),
                    vols.join(", ")
                ),
            ));
        }
    }
}

/// The capabilities a container adds or drops, upper-cased and without `CAP_`, as the
/// container runtimes read them (containerd and CRI-O accept `all`, `net_raw`).
fn capabilities<'a>(c: &'a Value, which: &str) -> impl Iterator<Item = String> + 'a {
    get(c, &["securityContext", "capabilities", which])
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(|k| {
            let k = k.to_ascii_uppercase();
            k.strip_prefix("CAP_").map(str::to_string).unwrap_or(k)
        })
}

fn sys_admin(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "add the SYS_ADMIN capability",
        &["securityContext", "capabilities", "add"],
        |_, c| capabilities(c, "add").any(|k| k == "SYS_ADMIN"),
    );
}

fn net_raw(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "do not drop NET_RAW (drop ALL or NET_RAW)",
        &["securityContext", "capabilities", "drop"],
        |_, c| !capabilities(c, "drop").any(|k| k == "ALL" || k == "NET_RAW"),
    );
}

fn resource(c: &Value, kind: &str, what: &str) -> bool {
    get(c, &["resources", kind, what]).is_some()
}

fn cpu_limits(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "set no CPU limit",
        &["resources", "limits", "cpu"],
        |_, c| !resource(c, "limits", "cpu"),
    );
}
fn memory_limits(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "set no memory limit",
        &["resources", "limits", "memory"],
        |_, c| !resource(c, "limits", "memory"),
    );
}
fn cpu_requests(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "set no CPU request",
        &["resources", "requests", "cpu"],
        |_, c| !resource(c, "requests", "cpu"),
    );
}
fn memory_requests(m: &Manifests, out: &mut Vec<Hit>) {
    per_container(
        m,
        out,
        "set no memory request",
        &["resources", "requests", "memory"],
        |_, c| !resource(c, "requests", "memory"),
    );
}

/// Probes apply to long-running containers: not init containers, not Jobs and CronJobs.
fn long_running(r: &Resource) -> bool {
    !matches!(r.kind.as_str(), "Job" | "CronJob")
}

fn probe(m: &Manifests, out: &mut Vec<Hit>, probe: &str, what: &str) {
    for (r, _, spec) in m.workloads().filter(|(r, _, _)| long_running(r)) {
        let mut first = None;
        let mut names = Vec::new();
        for (i, c) in array(spec, "containers").iter().enumerate() {
            if get(c, &[probe]).is_none() {
                first.get_or_insert(i);
                names.push(format!("{:?}", name(c)));
            }
        }
        let line = first.map_or(r.line, |i| r.container_line("containers", i, &[]));
        out.extend(container_hit(r, line, &names, what));
    }
}

fn liveness(m: &Manifests, out: &mut Vec<Hit>) {
    probe(m, out, "livenessProbe", "have no liveness probe");
}
fn readiness(m: &Manifests, out: &mut Vec<Hit>) {
    probe(m, out, "readinessProbe", "have no readiness probe");
}

fn roles(m: &Manifests) -> impl Iterator<Item = &Resource> {
    m.resources
        .iter()
        .filter(|r| r.kind == "Role" || r.kind == "ClusterRole")
}

fn rbac_rules(r: &Resource) -> impl Iterator<Item = &Value> {
    r.value
        .get("rules")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
}

fn list<'a>(rule: &'a Value, key: &str) -> Vec<&'a str> {
    rule.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn rbac(
    m: &Manifests,
    out: &mut Vec<Hit>,
    what: &str,
    bad: impl Fn(&[&str], &[&str], &[&str]) -> bool,
) {
    for r in roles(m) {
        if rbac_rules(r).any(|rule| {
            bad(
                &list(rule, "apiGroups"),
                &list(rule, "resources"),
                &list(rule, "verbs"),
            )
        }) {
            out.push(hit_at(
                r,
                r.line_of(&[Seg::Key("rules")]),
                format!("{}: {what}", r.reference()),
            ));
        }
    }
}

fn rbac_wildcard(m: &Manifests, out: &mut Vec<Hit>) {
    rbac(
        m,
        out,
        "grants `*` (any API group, resource or verb)",
        |g, res, v| g.contains(&"*") || res.contains(&"*") || v.contains(&"*"),
    );
}

fn verbs_on(res: &[&str], v: &[&str], verb: &str, resources: &[&str]) -> bool {
    v.iter().any(|x| *x == verb || *x == "*")
        && res.iter().any(|x| *x == "*" || resources.contains(x))
}

fn rbac_bind(m: &Manifests, out: &mut Vec<Hit>) {
    rbac(
        m,
        out,
        "can bind roles (bind on RoleBindings or ClusterRoleBindings)",
        |_, res, v| verbs_on(res, v, "bind", &["rolebindings", "clusterrolebindings"]),
    );
}

fn rbac_escalate(m: &Manifests, out: &mut Vec<Hit>) {
    rbac(
        m,
        out,
        "can escalate roles (escalate on Roles or ClusterRoles)",
        |_, res, v| verbs_on(res, v, "escalate", &["roles", "clusterroles"]),
    );
}

fn rbac_impersonate(m: &Manifests, out: &mut Vec<Hit>) {
    rbac(
        m,
        out,
        "can impersonate users, groups or service accounts",
        |_, res, v| {
            verbs_on(
                res,
                v,
                "impersonate",
                &["users", "groups", "serviceaccounts"],
            )
        },
    );
}

fn rbac_secrets(m: &Manifests, out: &mut Vec<Hit>) {
    rbac(
        m,
        out,
        "can read Secrets (get, list or watch)",
        |g, res, v| {
            (g.is_empty() || g.contains(&"") || g.contains(&"*"))
                && res.iter().any(|x| matches!(*x, "secrets" | "*"))
                && v.iter()
                    .any(|x| matches!(*x, "get" | "list" | "watch" | "*"))
        },
    );
}

fn rbac_exec(m: &Manifests, out: &mut Vec<Hit>) {
    rbac(
        m,
        out,
        "can exec into or attach to pods (pods/exec, pods/attach)",
        |_, res, v| {
            res.iter()
                .any(|x| matches!(*x, "pods/exec" | "pods/attach" | "*"))
                && v.iter().any(|x| matches!(*x, "create" | "get" | "*"))
        },
    );
}

fn cluster_admin(m: &Manifests, out: &mut Vec<Hit>) {
    for r in &m.resources {
        if (r.kind == "ClusterRoleBinding" || r.kind == "RoleBinding")
            && get(&r.value, &["roleRef", "name"]).and_then(Value::as_str) == Some("cluster-admin")
        {
            out.push(hit_at(
                r,
                r.line_of(&[Seg::Key("roleRef"), Seg::Key("name")]),
                format!("{}: binds the cluster-admin role", r.reference()),
            ));
        }
    }
}

fn exposed_service(m: &Manifests, out: &mut Vec<Hit>) {
    for r in &m.resources {
        if r.kind != "Service" {
            continue;
        }
        let t = get(&r.value, &["spec", "type"])
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP");
        if t == "NodePort" || t == "LoadBalancer" {
            out.push(hit_at(
                r,
                r.line_of(&[Seg::Key("spec"), Seg::Key("type")]),
                format!("{}: type {t} exposes it outside the cluster", r.reference()),
            ));
        }
    }
}

fn ingress_tls(m: &Manifests, out: &mut Vec<Hit>) {
    for r in &m.resources {
        if r.kind == "Ingress"
            && get(&r.value, &["spec", "tls"])
                .and_then(Value::as_array)
                .is_none_or(|t| t.is_empty())
        {
            out.push(hit_at(
                r,
                r.line_of(&[Seg::Key("spec")]),
                format!("{}: serves without TLS (no spec.tls)", r.reference()),
            ));
        }
    }
}

/// Whether a label selector (`matchLabels`, `matchExpressions` with In/NotIn/Exists/
/// DoesNotExist) selects `labels`; an empty selector selects everything.
fn selects(selector: &Value, labels: &Value) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object)
        && ml.iter().any(|(k, v)| label(k) != v.as_str())
    {
        return false;
    }
    for e in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
    {
        let k = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let ok = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => label(k).is_some_and(|v| values.contains(&v)),
            "NotIn" => label(k).is_none_or(|v| !values.contains(&v)),
            "Exists" => label(k).is_some(),
            "DoesNotExist" => label(k).is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn policies(m: &Manifests) -> impl Iterator<Item = &Resource> {
    m.resources.iter().filter(|r| r.kind == "NetworkPolicy")
}

fn namespace_of(r: &Resource) -> &str {
    r.namespace.as_deref().unwrap_or("default")
}

fn no_network_policy(m: &Manifests, out: &mut Vec<Hit>) {
    for (r, meta, _) in m.workloads() {
        let labels = meta.get("labels").unwrap_or(&Value::Null);
        let covered = policies(m).any(|p| {
            namespace_of(p) == namespace_of(r)
                && get(&p.value, &["spec", "podSelector"]).is_some_and(|s| selects(s, labels))
        });
        if !covered {
            out.push(hit(
                r,
                format!("{}: no NetworkPolicy selects its pods: all traffic to and from them is allowed", r.reference()),
            ));
        }
    }
}

fn no_default_deny(m: &Manifests, out: &mut Vec<Hit>) {
    let mut namespaces: Vec<(&str, &Resource)> = Vec::new();
    for (r, _, _) in m.workloads() {
        if !namespaces.iter().any(|(n, _)| *n == namespace_of(r)) {
            namespaces.push((namespace_of(r), r));
        }
    }
    for (ns, first) in namespaces {
        let deny = policies(m).any(|p| {
            namespace_of(p) == ns
                && get(&p.value, &["spec", "podSelector"]).is_some_and(|s| {
                    s.as_object().is_none_or(|o| {
                        o.values().all(|v| {
                            v.as_object().is_some_and(|x| x.is_empty())
                                || v.as_array().is_some_and(|x| x.is_empty())
                        })
                    })
                })
                && {
                    let types = list(&p.value["spec"], "policyTypes");
                    let ingress = p.value["spec"]
                        .get("ingress")
                        .and_then(Value::as_array)
                        .is_none_or(|a| a.is_empty());
                    (types.contains(&"Ingress") || types.is_empty()) && ingress
                }
        });
        if !deny {
            out.push(hit(
                first,
                format!("namespace {ns:?} has no default-deny NetworkPolicy (an empty podSelector denying ingress)"),
            ));
        }
    }
}

macro_rules! k8s_rule {
    ($id:literal, $sev:ident, $title:literal, [$($alias:literal),* $(,)?], $fix:literal, $check:expr) => {
        Rule {
            id: $id,
            title: $title,
            severity: Severity::$sev,
            aliases: &[$($alias),*],
            resolution: $fix,
            check: $check,
        }
    };
}

/// Every rule, by id.
pub static RULES: &[Rule<Manifests>] = &[
    k8s_rule!(
        "MOAT-K8S-020",
        Medium,
        "Image tag is `latest` or missing",
        [
            "KSV013",
            "KSV-0013",
            "AVD-KSV-0013",
            "CKV_K8S_14",
            "tagNotSpecified",
            "container-image-tag"
        ],
        "Use a fixed tag or a digest.",
        image_tag_latest
    ),
    k8s_rule!(
        "MOAT-K8S-021",
        Low,
        "Image is not pinned by digest",
        ["CKV_K8S_43"],
        "Refer to images as NAME@sha256:DIGEST.",
        image_digest
    ),
    k8s_rule!(
        "MOAT-K8S-022",
        High,
        "Root file system is not read-only",
        [
            "KSV014",
            "KSV-0014",
            "AVD-KSV-0014",
            "CKV_K8S_22",
            "ReadOnlyRootFilesystem",
            "notReadOnlyRootFilesystem",
            "container-security-context-readonlyrootfilesystem"
        ],
        "Set securityContext.readOnlyRootFilesystem: true; mount writable volumes where needed.",
        read_only_root
    ),
    k8s_rule!(
        "MOAT-K8S-023",
        Medium,
        "Service account token mounted",
        [
            "KSV036",
            "KSV-0036",
            "AVD-KSV-0036",
            "CKV_K8S_38",
            "AutomountServiceAccountToken",
            "automountServiceAccountToken"
        ],
        "Set automountServiceAccountToken: false unless the pod talks to the API server.",
        service_account_token
    ),
    k8s_rule!(
        "MOAT-K8S-024",
        Low,
        "Runs with a UID at or below 10000",
        [
            "KSV020",
            "KSV-0020",
            "AVD-KSV-0020",
            "CKV_K8S_40",
            "RunAsUser",
            "container-security-context-user-group-id"
        ],
        "Set securityContext.runAsUser above 10000, so it cannot collide with host users.",
        high_uid
    ),
    k8s_rule!(
        "MOAT-K8S-025",
        Low,
        "Secrets taken as environment variables",
        ["CKV_K8S_35", "SecretsAsEnvironmentVariables"],
        "Mount Secrets as files: environment variables leak into logs and child processes.",
        env_from_secret
    ),
    k8s_rule!(
        "MOAT-K8S-026",
        High,
        "Container runtime socket mounted",
        [
            "KSV006",
            "KSV-0006",
            "AVD-KSV-0006",
            "CKV_K8S_27",
            "DockerSock"
        ],
        "Do not mount docker.sock, containerd.sock or crio.sock: it gives root on the node.",
        docker_socket
    ),
    k8s_rule!(
        "MOAT-K8S-027",
        High,
        "SYS_ADMIN capability added",
        [
            "KSV005",
            "KSV-0005",
            "AVD-KSV-0005",
            "CKV_K8S_39",
            "CapSysAdmin"
        ],
        "Remove SYS_ADMIN from capabilities.add.",
        sys_admin
    ),
    k8s_rule!(
        "MOAT-K8S-028",
        Low,
        "NET_RAW capability not dropped",
        ["CKV_K8S_28"],
        "Add ALL (or NET_RAW) to securityContext.capabilities.drop.",
        net_raw
    ),
    k8s_rule!(
        "MOAT-K8S-029",
        Low,
        "CPU not limited",
        [
            "KSV011",
            "KSV-0011",
            "AVD-KSV-0011",
            "CKV_K8S_11",
            "LimitsCPU",
            "cpuLimitsMissing",
            "container-resources"
        ],
        "Set resources.limits.cpu.",
        cpu_limits
    ),
    k8s_rule!(
        "MOAT-K8S-030",
        Low,
        "Memory not limited",
        [
            "KSV018",
            "KSV-0018",
            "AVD-KSV-0018",
            "CKV_K8S_13",
            "LimitsMemory",
            "memoryLimitsMissing",
            "container-resources"
        ],
        "Set resources.limits.memory.",
        memory_limits
    ),
    k8s_rule!(
        "MOAT-K8S-031",
        Low,
        "CPU requests not specified",
        [
            "KSV015",
            "KSV-0015",
            "AVD-KSV-0015",
            "CKV_K8S_10",
            "RequestsCPU",
            "cpuRequestsMissing",
            "container-resources"
        ],
        "Set resources.requests.cpu.",
        cpu_requests
    ),
    k8s_rule!(
        "MOAT-K8S-032",
        Low,
        "Memory requests not specified",
        [
            "KSV016",
            "KSV-0016",
            "AVD-KSV-0016",
            "CKV_K8S_12",
            "RequestsMemory",
            "memoryRequestsMissing",
            "container-resources"
        ],
        "Set resources.requests.memory.",
        memory_requests
    ),
    k8s_rule!(
        "MOAT-K8S-033",
        Low,
        "Liveness probe not configured",
        ["CKV_K8S_8", "livenessProbeMissing"],
        "Add a livenessProbe.",
        liveness
    ),
    k8s_rule!(
        "MOAT-K8S-034",
        Low,
        "Readiness probe not configured",
        ["CKV_K8S_9", "readinessProbeMissing"],
        "Add a readinessProbe.",
        readiness
    ),
    k8s_rule!(
        "MOAT-K8S-035",
        High,
        "Secret as a literal environment value",
        ["sensitiveContainerEnvVar"],
        "Take the value from a Secret (valueFrom.secretKeyRef), mounted as a file where possible.",
        env_literal_secret
    ),
    k8s_rule!(
        "MOAT-K8S-040",
        Critical,
        "Role grants wildcard permissions",
        [
            "KSV044",
            "KSV-0044",
            "AVD-KSV-0044",
            "KSV045",
            "KSV-0045",
            "AVD-KSV-0045",
            "KSV046",
            "KSV-0046",
            "AVD-KSV-0046",
            "CKV_K8S_49"
        ],
        "Name the API groups, resources and verbs needed.",
        rbac_wildcard
    ),
    k8s_rule!(
        "MOAT-K8S-041",
        High,
        "Role can bind roles",
        ["CKV_K8S_157"],
        "Remove the bind verb on RoleBindings and ClusterRoleBindings.",
        rbac_bind
    ),
    k8s_rule!(
        "MOAT-K8S-042",
        Medium,
        "Role can read Secrets",
        ["KSV041", "KSV-0041", "AVD-KSV-0041"],
        "Grant get/list/watch on named Secrets only (resourceNames).",
        rbac_secrets
    ),
    k8s_rule!(
        "MOAT-K8S-043",
        High,
        "Role can exec into pods",
        [
            "KSV053",
            "KSV-0053",
            "AVD-KSV-0053",
            "clusterrolePodExecAttach",
            "rolePodExecAttach"
        ],
        "Remove pods/exec and pods/attach.",
        rbac_exec
    ),
    k8s_rule!(
        "MOAT-K8S-044",
        High,
        "cluster-admin bound",
        [
            "KSV111",
            "KSV-0111",
            "AVD-KSV-0111",
            "clusterrolebindingClusterAdmin",
            "rolebindingClusterAdminClusterRole"
        ],
        "Bind a role with only the permissions needed.",
        cluster_admin
    ),
    k8s_rule!(
        "MOAT-K8S-045",
        High,
        "Role can escalate roles",
        ["CKV_K8S_158"],
        "Remove the escalate verb on Roles and ClusterRoles.",
        rbac_escalate
    ),
    k8s_rule!(
        "MOAT-K8S-046",
        High,
        "Role can impersonate",
        [],
        "Remove the impersonate verb on users, groups and service accounts.",
        rbac_impersonate
    ),
    k8s_rule!(
        "MOAT-K8S-050",
        Medium,
        "Service exposed outside the cluster (NodePort or LoadBalancer)",
        ["service-type"],
        "Use ClusterIP behind an Ingress or gateway, or restrict loadBalancerSourceRanges.",
        exposed_service
    ),
    k8s_rule!(
        "MOAT-K8S-051",
        Medium,
        "Ingress without TLS",
        ["tlsSettingsMissing"],
        "Add spec.tls with a certificate Secret.",
        ingress_tls
    ),
    k8s_rule!(
        "MOAT-K8S-060",
        Low,
        "No NetworkPolicy selects the workload",
        ["pod-networkpolicy", "missingNetworkPolicy"],
        "Add a NetworkPolicy whose podSelector matches the pods' labels.",
        no_network_policy
    ),
    k8s_rule!(
        "MOAT-K8S-061",
        Low,
        "Namespace without a default-deny NetworkPolicy",
        [],
        "Add a NetworkPolicy with an empty podSelector and policyTypes [Ingress] (and Egress).",
        no_default_deny
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::load;

    fn run(text: &str) -> Vec<(&'static str, String)> {
        let (rs, d) = load(text.as_bytes());
        assert!(d.is_empty(), "{d:?}");
        let m = Manifests { resources: rs };
        let mut out = Vec::new();
        for rule in RULES {
            let mut hits = Vec::new();
            (rule.check)(&m, &mut hits);
            out.extend(hits.into_iter().map(|h| (rule.id, h.message)));
        }
        out
    }

    #[test]
    fn a_hardened_deployment_passes_and_a_careless_one_does_not() {
        let good = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      automountServiceAccountToken: false\n      containers:\n      - name: web\n        image: nginx@sha256:0123\n        livenessProbe: {httpGet: {path: /, port: 80}}\n        readinessProbe: {httpGet: {path: /, port: 80}}\n        resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 1, memory: 1Gi}}\n        securityContext: {readOnlyRootFilesystem: true, runAsUser: 20000, capabilities: {drop: [ALL]}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n";
        assert_eq!(run(good), []);
        let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: nginx\n    env: [{name: DB_PASSWORD, value: hunter2}]\n";
        let ids: Vec<&str> = run(bad).iter().map(|(i, _)| *i).collect();
        assert_eq!(
            ids,
            [
                "MOAT-K8S-020",
                "MOAT-K8S-021",
                "MOAT-K8S-022",
                "MOAT-K8S-023",
                "MOAT-K8S-024",
                "MOAT-K8S-028",
                "MOAT-K8S-029",
                "MOAT-K8S-030",
                "MOAT-K8S-031",
                "MOAT-K8S-032",
                "MOAT-K8S-033",
                "MOAT-K8S-034",
                "MOAT-K8S-035",
                "MOAT-K8S-060",
                "MOAT-K8S-061"
            ]
        );
        // Near misses: a tagged image; a `$(VAR)` reference; a policy in another namespace
        // does not cover the pod.
        let near = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: x}}\nspec:\n  containers:\n  - name: a\n    image: registry/nginx:1.27\n    env: [{name: TOKEN_FILE, value: \"$(HOME)/t\"}]\n---\nkind: NetworkPolicy\nmetadata: {name: n, namespace: other}\nspec: {podSelector: {}}\n";
        let ids: Vec<&str> = run(near).iter().map(|(i, _)| *i).collect();
        assert!(!ids.contains(&"MOAT-K8S-020"));
        assert!(!ids.contains(&"MOAT-K8S-035"));
        assert!(ids.contains(&"MOAT-K8S-060"));
    }

    #[test]
    fn rbac_services_and_ingress() {
        let text = "kind: ClusterRole\nmetadata: {name: all}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n---\nkind: Role\nmetadata: {name: reader, namespace: a}\nrules: [{apiGroups: [''], resources: [secrets], verbs: [get]}, {apiGroups: [''], resources: [pods/exec], verbs: [create]}]\n---\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: cluster-admin}\n---\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\n---\nkind: Ingress\nmetadata: {name: i}\nspec: {rules: []}\n";
        let got: Vec<&str> = run(text).iter().map(|(i, _)| *i).collect();
        assert_eq!(
            got,
            [
                "MOAT-K8S-040",
                "MOAT-K8S-041",
                "MOAT-K8S-042",
                "MOAT-K8S-042",
                "MOAT-K8S-043",
                "MOAT-K8S-043",
                "MOAT-K8S-044",
                "MOAT-K8S-045",
                "MOAT-K8S-046",
                "MOAT-K8S-050",
                "MOAT-K8S-051"
            ]
        );
    }
}
