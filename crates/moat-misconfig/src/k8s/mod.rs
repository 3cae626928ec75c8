//! Kubernetes manifests: multi-document YAML and JSON, `List` kinds, every workload kind
//! reduced to its pod spec, each resource with its kind, namespace, name, the line its
//! document starts at, its file in the set checked together and its file's text; and the
//! Pod Security Standards ([`pss`]) as findings.
//!
//! Documents are split at their `---` lines and parsed one by one, so that each resource
//! knows its line and a broken document is one diagnostic that leaves the others readable.
//! YAML is read under a bounded budget (events, depth, aliases and their replays: no alias
//! bombs) into JSON values; a file over [`MAX_FILE_BYTES`] is refused. A finding points at
//! the offending field's line, found in the text when the finding is made ([`lines`]).
//!
//! [`check`] checks a set of files together (`moat config`'s files; the manifests of a scan
//! target's final view): the rules see every resource, so a NetworkPolicy in one file covers
//! the workloads of another, and each hit names its file ([`crate::Hit::file`]) because two
//! files may hold the same resource at the same line.

pub mod lines;
pub mod pss;
pub mod rules;

use lines::Seg;
use moat_model::finding::{Detail, Finding, FindingLocation, MisconfigDetail, Span};
use moat_model::{Code, Diagnostic, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The largest manifest file read (real ones are kilobytes; Helm-rendered bundles a few MiB).
pub const MAX_FILE_BYTES: usize = 16 << 20;
/// The most resources read from one file.
pub const MAX_RESOURCES: usize = 10_000;

/// One Kubernetes object of a manifest file.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The line its document starts at (1-based).
    pub line: u32,
    /// The index of its file in the set of files checked together (0 from [`load`]): the
    /// rules over several files report it in [`crate::Hit::file`].
    pub file: usize,
    /// Its index in the `items` of the `List` that holds it.
    pub item: Option<usize>,
    /// The text of its file (shared by its resources), where [`Resource::line_of`] finds
    /// the line of a field.
    pub text: Arc<str>,
    pub value: Value,
}

impl Resource {
    /// `Deployment/web` or `Deployment/shop/web`: how findings name it.
    pub fn reference(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    /// The line of the field at `path` inside the resource, or of its deepest ancestor
    /// present ([`lines::locate`]; the document's first line in JSON).
    pub fn line_of(&self, path: &[Seg]) -> u32 {
        let mut p: Vec<Seg> = Vec::with_capacity(path.len() + 2);
        if let Some(i) = self.item {
            p.extend([Seg::Key("items"), Seg::Index(i)]);
        }
        p.extend_from_slice(path);
        lines::locate(&self.text, self.line, &p)
    }

    /// The keys from the resource to the spec of the pod it runs (see [`Resource::pod`]).
    fn pod_path(&self) -> &'static [&'static str] {
        match self.kind.as_str() {
            "Pod" => &["spec"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
            "PodTemplate" => &["template", "spec"],
            _ => &["spec", "template", "spec"],
        }
    }

    /// The line of `field` (keys) in the pod spec, or of its deepest ancestor present.
    pub fn pod_line(&self, field: &[&str]) -> u32 {
        let p: Vec<Seg> = self
            .pod_path()
            .iter()
            .chain(field)
            .map(|k| Seg::Key(k))
            .collect();
        self.line_of(&p)
    }

    /// The line of `field` (keys) in the `index`-th container of the pod spec's list `list`
    /// (`containers`, `initContainers`, `ephemeralContainers`), or of its deepest ancestor.
    pub fn container_line(&self, list: &str, index: usize, field: &[&str]) -> u32 {
        let mut p: Vec<Seg> = self.pod_path().iter().map(|k| Seg::Key(k)).collect();
        p.extend([Seg::Key(list), Seg::Index(index)]);
        p.extend(field.iter().map(|k| Seg::Key(k)));
        self.line_of(&p)
    }

    /// The pod a workload runs: its template's `metadata` and `spec` (a Pod's own), for
    /// Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
    /// CronJob, PodTemplate and OpenShift's DeploymentConfig; `None` for other kinds.
    pub fn pod(&self) -> Option<(&Value, &Value)> {
        let v = &self.value;
        let template = match self.kind.as_str() {
            "Pod" => v,
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job"
            | "DeploymentConfig" => v.get("spec")?.get("template")?,
            "CronJob" => v
                .get("spec")?
                .get("jobTemplate")?
                .get("spec")?
                .get("template")?,
            "PodTemplate" => v.get("template")?,
            _ => return None,
        };
        let spec = template.get("spec").filter(|s| s.is_object())?;
        Some((template.get("metadata").unwrap_or(&Value::Null), spec))
    }
}

/// Whether the bytes look like a Kubernetes manifest (a document with `apiVersion` and
/// `kind` at its top level), for picking files out of a directory.
pub fn looks_like_manifest(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 << 10)];
    let text = String::from_utf8_lossy(head);
    if text.trim_start().starts_with(['{', '[']) {
        // JSON, perhaps on one line: the two keys anywhere in the head.
        return text.contains("\"apiVersion\"") && text.contains("\"kind\"");
    }
    let mut api = false;
    let mut kind = false;
    for l in text.lines() {
        let t = l.trim_start_matches(['{', ' ', '"']);
        api |= t.starts_with("apiVersion")
            && (l.starts_with("apiVersion") || l.contains("\"apiVersion\""));
        kind |= t.starts_with("kind") && (l.starts_with("kind") || l.contains("\"kind\""));
        if api && kind {
            return true;
        }
    }
    false
}

/// Whether the bytes are a template (Helm's Go templates: `{{`), not YAML until rendered:
/// passed over without a word when found in a directory or an image.
pub fn looks_like_template(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| w == b"{{")
}

/// The resources of a manifest file; problems (a document that does not parse, a document
/// that is no object) are diagnostics naming their line, and the rest is read.
pub fn load(bytes: &[u8]) -> (Vec<Resource>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    if bytes.len() > MAX_FILE_BYTES {
        diags.push(Diagnostic::new(
            Code::TooLarge,
            format!(
                "{} bytes, over the limit of {MAX_FILE_BYTES} for a manifest: not checked",
                bytes.len()
            ),
        ));
        return (out, diags);
    }
    let Ok(text) = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)) else {
        diags.push(Diagnostic::parse("not UTF-8 text".to_string()));
        return (out, diags);
    };
    let shared: Arc<str> = Arc::from(text);
    let first = text.trim_start();
    if first.starts_with('{') || first.starts_with('[') {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => push_object(v, 1, None, &shared, &mut out, &mut diags),
            Err(e) => {
                diags.push(Diagnostic::parse(format!("invalid JSON: {e}")).line(e.line() as u32))
            }
        }
        return (out, diags);
    }
    for (line, doc) in documents(text) {
        if doc.trim().is_empty()
            || doc
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            continue;
        }
        match serde_saphyr::from_str_with_options::<Value>(doc, yaml_options()) {
            Ok(v) => push_object(v, line, None, &shared, &mut out, &mut diags),
            Err(e) => {
                let msg = e.to_string();
                let first = msg.lines().next().unwrap_or("").trim();
                diags.push(
                    Diagnostic::parse(format!(
                        "invalid YAML in the document at line {line}: {first}"
                    ))
                    .line(line),
                );
            }
        }
        if out.len() >= MAX_RESOURCES {
            diags.push(Diagnostic::new(
                Code::TooLarge,
                format!("more than {MAX_RESOURCES} resources: the rest is not checked"),
            ));
            break;
        }
    }
    (out, diags)
}

/// The YAML documents of `text` with the line each starts at: split at `---` (and after
/// `...`) lines, which can only be document markers at the start of a line.
pub(crate) fn documents(text: &str) -> Vec<(u32, &str)> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut offset = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        let bare = l.trim_end_matches(['\n', '\r']);
        let marker =
            bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t") || bare == "...";
        if marker {
            docs.push((start_line, &text[start..offset]));
            // `--- {inline}` keeps what follows the marker.
            start = if bare.starts_with("--- ") || bare.starts_with("---\t") {
                offset + 4
            } else {
                offset + l.len()
            };
            start_line = i as u32 + 1 + u32::from(start == offset + l.len());
        }
        offset += l.len();
    }
    docs.push((start_line, &text[start..]));
    docs
}

fn push_object(
    v: Value,
    line: u32,
    item: Option<usize>,
    text: &Arc<str>,
    out: &mut Vec<Resource>,
    diags: &mut Vec<Diagnostic>,
) {
    let Value::Object(o) = v else {
        if !v.is_null() {
            diags.push(
                Diagnostic::parse(format!("the document at line {line} is not a mapping"))
                    .line(line),
            );
        }
        return;
    };
    let kind = o
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if kind == "List" || (kind.ends_with("List") && o.get("items").is_some_and(Value::is_array)) {
        if let Some(Value::Array(items)) = o.get("items") {
            for (i, it) in items.iter().take(MAX_RESOURCES).enumerate() {
                if out.len() >= MAX_RESOURCES {
                    return;
                }
                // Items of a List inside a List keep the outer item's place.
                push_object(it.clone(), line, item.or(Some(i)), text, out, diags);
            }
        }
        return;
    }
    if kind.is_empty() {
        return;
    }
    let meta = o.get("metadata");
    let text_of = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    out.push(Resource {
        kind,
        name: text_of("name")
            .or_else(|| text_of("generateName"))
            .unwrap_or_default(),
        namespace: text_of("namespace"),
        line,
        file: 0,
        item,
        text: text.clone(),
        value: Value::Object(o),
    });
}

/// The YAML limits of every YAML reader in moat ([`moat_lang::yaml_options`]: a bounded
/// budget, alias-replay limits), one document per call (manifests are split at their `---`
/// lines first).
pub(crate) fn yaml_options() -> serde_saphyr::Options {
    let mut opts = moat_lang::yaml_options();
    if let Some(b) = opts.budget.as_mut() {
        b.max_documents = 1;
    }
    opts
}

/// moat's rule for each Pod Security Standards control: id, severity (Trivy's for the same
/// check where it has one), and the peers' ids.
pub struct PssRule {
    pub control: &'static str,
    pub id: &'static str,
    pub severity: Severity,
    pub aliases: &'static [&'static str],
}

/// Every control's rule, in the order of [`pss::CONTROLS`].
pub static PSS_RULES: &[PssRule] = &[
    PssRule {
        control: "appArmorProfile",
        id: "MOAT-K8S-001",
        severity: Severity::Low,
        aliases: &["KSV002", "KSV-0002", "AVD-KSV-0002", "ApparmorUnconfined"],
    },
    PssRule {
        control: "capabilities_baseline",
        id: "MOAT-K8S-002",
        severity: Severity::Medium,
        aliases: &[
            "KSV022",
            "KSV-0022",
            "AVD-KSV-0022",
            "CKV_K8S_25",
            "dangerousCapabilities",
        ],
    },
    PssRule {
        control: "hostNamespaces",
        id: "MOAT-K8S-003",
        severity: Severity::High,
        aliases: &[
            "KSV008",
            "KSV-0008",
            "AVD-KSV-0008",
            "KSV009",
            "KSV-0009",
            "AVD-KSV-0009",
            "KSV010",
            "KSV-0010",
            "AVD-KSV-0010",
            "CKV_K8S_17",
            "CKV_K8S_18",
            "CKV_K8S_19",
            "HostNetwork",
            "HostPID",
            "HostIPC",
            "hostNetworkSet",
            "hostPIDSet",
            "hostIPCSet",
        ],
    },
    PssRule {
        control: "hostPathVolumes",
        id: "MOAT-K8S-004",
        severity: Severity::Medium,
        aliases: &[
            "KSV023",
            "KSV-0023",
            "AVD-KSV-0023",
            "ProcMount",
            "hostPathSet",
        ],
    },
    PssRule {
        control: "hostPorts",
        id: "MOAT-K8S-005",
        severity: Severity::High,
        aliases: &[
            "KSV024",
            "KSV-0024",
            "AVD-KSV-0024",
            "CKV_K8S_26",
            "hostPortSet",
        ],
    },
    PssRule {
        control: "hostProbesAndHostLifecycle",
        id: "MOAT-K8S-006",
        severity: Severity::Medium,
        aliases: &[],
    },
    PssRule {
        control: "privileged",
        id: "MOAT-K8S-007",
        severity: Severity::High,
        aliases: &[
            "KSV017",
            "KSV-0017",
            "AVD-KSV-0017",
            "CKV_K8S_16",
            "Privileged",
            "runAsPrivileged",
            "container-security-context-privileged",
        ],
    },
    PssRule {
        control: "procMount",
        id: "MOAT-K8S-008",
        severity: Severity::Medium,
        aliases: &["KSV027", "KSV-0027", "AVD-KSV-0027", "procMount"],
    },
    PssRule {
        control: "seLinuxOptions",
        id: "MOAT-K8S-009",
        severity: Severity::Medium,
        aliases: &["KSV025", "KSV-0025", "AVD-KSV-0025"],
    },
    PssRule {
        control: "seccompProfile_baseline",
        id: "MOAT-K8S-010",
        severity: Severity::Medium,
        aliases: &["KSV104", "KSV-0104", "AVD-KSV-0104", "SeccompUnconfined"],
    },
    PssRule {
        control: "sysctls",
        id: "MOAT-K8S-011",
        severity: Severity::Medium,
        aliases: &["KSV026", "KSV-0026", "AVD-KSV-0026"],
    },
    PssRule {
        control: "windowsHostProcess",
        id: "MOAT-K8S-012",
        severity: Severity::Medium,
        aliases: &["KSV103", "KSV-0103", "AVD-KSV-0103", "hostProcess"],
    },
    PssRule {
        control: "allowPrivilegeEscalation",
        id: "MOAT-K8S-013",
        severity: Severity::Medium,
        aliases: &[
            "KSV001",
            "KSV-0001",
            "AVD-KSV-0001",
            "CKV_K8S_20",
            "AllowPrivilegeEscalation",
            "privilegeEscalationAllowed",
        ],
    },
    PssRule {
        control: "capabilities_restricted",
        id: "MOAT-K8S-014",
        severity: Severity::Low,
        aliases: &[
            "KSV106",
            "KSV-0106",
            "AVD-KSV-0106",
            "KSV003",
            "KSV-0003",
            "AVD-KSV-0003",
            "CKV_K8S_37",
            "CapDropAll",
            "insecureCapabilities",
        ],
    },
    PssRule {
        control: "procMount_restricted",
        id: "MOAT-K8S-015",
        severity: Severity::Medium,
        aliases: &["KSV027", "KSV-0027", "AVD-KSV-0027", "procMount"],
    },
    PssRule {
        control: "restrictedVolumes",
        id: "MOAT-K8S-016",
        severity: Severity::Low,
        aliases: &["KSV028", "KSV-0028", "AVD-KSV-0028"],
    },
    PssRule {
        control: "runAsNonRoot",
        id: "MOAT-K8S-017",
        severity: Severity::Medium,
        aliases: &[
            "KSV012",
            "KSV-0012",
            "AVD-KSV-0012",
            "CKV_K8S_23",
            "RunAsNonRoot",
            "runAsRootAllowed",
        ],
    },
    PssRule {
        control: "runAsUser",
        id: "MOAT-K8S-018",
        severity: Severity::Low,
        aliases: &["KSV105", "KSV-0105", "AVD-KSV-0105"],
    },
    PssRule {
        control: "seccompProfile_restricted",
        id: "MOAT-K8S-019",
        severity: Severity::Low,
        aliases: &[
            "KSV030",
            "KSV-0030",
            "AVD-KSV-0030",
            "CKV_K8S_31",
            "SeccompAny",
            "container-seccomp-profile",
        ],
    },
];

/// The Pod Security Standards findings of the workloads in `resources` at `level` and
/// `version`: one per violated control and resource, tagged `pss`, the level, and the
/// control id.
pub fn pss_findings(
    path: &str,
    resources: &[Resource],
    level: pss::Level,
    version: pss::Version,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in resources {
        let Some((meta, spec)) = r.pod() else {
            continue;
        };
        for v in pss::evaluate(level, version, meta, spec) {
            let Some(rule) = PSS_RULES.iter().find(|p| p.control == v.control) else {
                continue;
            };
            let control = pss::CONTROLS.iter().find(|c| c.id == v.control);
            let mut f = Finding::new(
                rule.id,
                rule.severity,
                Detail::Misconfiguration(MisconfigDetail {
                    rule: rule.id.to_string(),
                    target_type: "kubernetes".to_string(),
                    message: format!("{} ({}): {}", r.reference(), v.reason, v.detail),
                    resolution: control.map(|c| {
                        format!("Pod Security Standards, {}: {}", v.level.as_str(), c.title)
                    }),
                    references: vec![
                        "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
                            .to_string(),
                    ],
                    cause: None,
                    tags: vec![
                        "pss".to_string(),
                        v.level.as_str().to_string(),
                        v.control.to_string(),
                    ],
                }),
            );
            f.aliases = rule.aliases.iter().map(|s| s.to_string()).collect();
            f.title = control.map(|c| c.title.to_string());
            let line = pss_line(r, spec, &v);
            f.location = Some(FindingLocation {
                path: Some(path.to_string()),
                span: Some(Span::lines(line, line)),
                resource: Some(r.reference()),
                ..Default::default()
            });
            out.push(f);
        }
    }
    out
}

/// The line a Pod Security Standards violation points at: the offending field of the first
/// container the violation names (one that sets it, else the first named), else the pod's
/// field, else the pod spec.
fn pss_line(r: &Resource, spec: &Value, v: &pss::Violation) -> u32 {
    const SC: &str = "securityContext";
    let (pod, container): (&[&[&str]], &[&str]) = match v.control {
        "hostNamespaces" => (&[&["hostNetwork"], &["hostPID"], &["hostIPC"]], &[]),
        "hostPathVolumes" | "restrictedVolumes" => (&[&["volumes"]], &[]),
        "sysctls" => (&[&[SC, "sysctls"]], &[]),
        "capabilities_baseline" | "capabilities_restricted" => (&[], &[SC, "capabilities"]),
        "hostPorts" => (&[], &["ports"]),
        "hostProbesAndHostLifecycle" => (&[], &[]),
        "privileged" => (&[], &[SC, "privileged"]),
        "procMount" | "procMount_restricted" => (&[], &[SC, "procMount"]),
        "allowPrivilegeEscalation" => (&[], &[SC, "allowPrivilegeEscalation"]),
        "appArmorProfile" => (&[&[SC, "appArmorProfile"]], &[SC, "appArmorProfile"]),
        "seLinuxOptions" => (&[&[SC, "seLinuxOptions"]], &[SC, "seLinuxOptions"]),
        "seccompProfile_baseline" | "seccompProfile_restricted" => {
            (&[&[SC, "seccompProfile"]], &[SC, "seccompProfile"])
        }
        "windowsHostProcess" => (&[&[SC, "windowsOptions"]], &[SC, "windowsOptions"]),
        "runAsNonRoot" => (&[&[SC, "runAsNonRoot"]], &[SC, "runAsNonRoot"]),
        "runAsUser" => (&[&[SC, "runAsUser"]], &[SC, "runAsUser"]),
        _ => (&[], &[]),
    };
    let mut named = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in pss::array(spec, list).iter().enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            if v.detail.contains(&format!("{name:?}")) {
                named.push((list, i, pss::field(c, container).is_some()));
            }
        }
    }
    if let Some((list, i, _)) = named.iter().find(|n| n.2).or(named.first()) {
        return r.container_line(list, *i, container);
    }
    let set = |f: &&&[&str]| {
        pss::field(spec, f).is_some_and(|x| !x.is_null() && x.as_bool() != Some(false))
    };
    match pod.iter().find(set).or(pod.first()) {
        Some(f) => r.pod_line(f),
        None => r.pod_line(&[]),
    }
}

/// The `target_type` of Kubernetes findings.
pub const TARGET_TYPE: &str = "kubernetes";

/// What to check in manifests: every rule with the Pod Security Standards at the restricted
/// level (the default), or only the Pod Security Standards at one level and version
/// (`moat config --pss LEVEL [--pss-version 1.N]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checks {
    #[default]
    All,
    Pss(pss::Level, pss::Version),
}

/// Checks the manifest files `files` (path, bytes) together: NetworkPolicies in one file
/// cover workloads in another. Each resource knows its file ([`Resource::file`]) and each
/// hit names it ([`crate::Hit::file`]), so equal resources in two files stay apart.
/// Findings in file order, then line order.
pub fn check<B: AsRef<[u8]>>(files: &[(String, B)], checks: Checks) -> crate::dockerfile::Checked {
    let mut out = crate::dockerfile::Checked::default();
    let mut all = Vec::new();
    for (i, (path, bytes)) in files.iter().enumerate() {
        let (rs, diags) = load(bytes.as_ref());
        out.diagnostics
            .extend(diags.into_iter().map(|d| d.at(path.as_str(), None)));
        all.extend(rs.into_iter().map(|r| Resource { file: i, ..r }));
    }
    let (level, version) = match checks {
        Checks::All => (pss::Level::Restricted, pss::LATEST),
        Checks::Pss(l, v) => (l, v),
    };
    let path_of = |i: usize| files.get(i).map(|(p, _)| p.as_str()).unwrap_or_default();
    for r in &all {
        out.findings.extend(pss_findings(
            path_of(r.file),
            std::slice::from_ref(r),
            level,
            version,
        ));
    }
    if checks == Checks::All {
        let m = rules::Manifests { resources: all };
        for rule in rules::RULES {
            let mut hits = Vec::new();
            (rule.check)(&m, &mut hits);
            for h in hits {
                let path = path_of(h.file.unwrap_or_default());
                out.findings.push(rule.finding(TARGET_TYPE, path, h));
            }
        }
    }
    out.findings.sort_by(|a, b| {
        let key = |f: &moat_model::Finding| {
            f.location
                .as_ref()
                .map(|l| (l.path.clone(), l.span.map(|s| s.start_line)))
        };
        key(a).cmp(&key(b))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lists_and_workloads() {
        let text = "# a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        securityContext:\n          privileged: true\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {name: nightly}\n  spec:\n    jobTemplate:\n      spec:\n        template:\n          spec:\n            hostPID: true\n            containers: [{name: b}]\n- apiVersion: v1\n  kind: Service\n  metadata: {name: svc}\n---\nkind: [broken\n---\n";
        let (rs, diags) = load(text.as_bytes());
        let refs: Vec<(String, u32)> = rs.iter().map(|r| (r.reference(), r.line)).collect();
        assert_eq!(
            refs,
            [
                ("Deployment/shop/web".to_string(), 3),
                ("CronJob/nightly".to_string(), 16),
                ("Service/svc".to_string(), 16)
            ]
        );
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("line 33"), "{:?}", diags[0]);
        assert!(rs[2].pod().is_none());
        let f = pss_findings("k.yaml", &rs, pss::Level::Baseline, pss::LATEST);
        let got: Vec<(&str, Option<&str>)> = f
            .iter()
            .map(|f| {
                (
                    f.id.as_str(),
                    f.location.as_ref().and_then(|l| l.resource.as_deref()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("MOAT-K8S-007", Some("Deployment/shop/web")),
                ("MOAT-K8S-003", Some("CronJob/nightly"))
            ]
        );
        assert!(looks_like_manifest(text.as_bytes()));
        assert!(!looks_like_manifest(b"name: x\nversion: 1\n"));
        assert!(looks_like_manifest(
            br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}"#
        ));
        assert!(!looks_like_manifest(br#"{"name":"x","version":"1.0.0"}"#));
        // JSON, and a YAML alias bomb is refused, not expanded.
        let (rs, _) = load(
            br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[]}}"#,
        );
        assert_eq!(rs.len(), 1);
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let (rs, diags) = load(bomb.as_bytes());
        assert!(rs.is_empty());
        assert_eq!(diags.len(), 1, "{diags:?}");
    }

    #[test]
    fn equal_resources_in_two_files_keep_their_own_paths() {
        // The same Pod at the same line in two files: each file's findings name that file.
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: nginx\n";
        let files = vec![
            ("one.yaml".to_string(), pod.as_bytes().to_vec()),
            ("two.yaml".to_string(), pod.as_bytes().to_vec()),
        ];
        let c = check(&files, Checks::All);
        let count = |file: &str| c.findings.iter().filter(|f| f.path() == Some(file)).count();
        // One finding per namespace (MOAT-K8S-061) goes to its first workload's file.
        assert_eq!(count("one.yaml"), 18);
        assert_eq!(count("two.yaml"), 17);
        assert_eq!(c.findings.len(), 35);
        let ids = |file: &str| -> Vec<String> {
            c.findings
                .iter()
                .filter(|f| f.path() == Some(file) && f.id != "MOAT-K8S-061")
                .map(|f| f.id.clone())
                .collect()
        };
        assert!(ids("two.yaml").contains(&"MOAT-K8S-020".to_string()));
        assert_eq!(ids("one.yaml"), ids("two.yaml"));
    }

    #[test]
    fn findings_point_at_the_offending_field() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: ok
        image: nginx:1.27
      - name: bad
        image: nginx
        securityContext:
          privileged: true
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: p}
  spec:
    hostPID: true
    containers: [{name: c, image: x:1}]
";
        let c = check(&[("k.yaml".to_string(), text.as_bytes())], Checks::All);
        let line = |id: &str, resource: &str| {
            c.findings
                .iter()
                .find(|f| {
                    f.id == id
                        && f.location.as_ref().and_then(|l| l.resource.as_deref()) == Some(resource)
                })
                .and_then(|f| f.location.as_ref()?.span)
                .map(|s| s.start_line)
        };
        assert_eq!(line("MOAT-K8S-007", "Deployment/web"), Some(13));
        assert_eq!(line("MOAT-K8S-020", "Deployment/web"), Some(11));
        // a field that is not there: the container that misses it
        assert_eq!(line("MOAT-K8S-029", "Deployment/web"), Some(8));
        assert_eq!(line("MOAT-K8S-003", "Pod/p"), Some(22));
        // JSON: the document's first line
        let json = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
 "spec":{"hostPID":true,"containers":[{"name":"c"}]}}"#;
        let c = check(&[("k.json".to_string(), &json[..])], Checks::All);
        let f = c.findings.iter().find(|f| f.id == "MOAT-K8S-003").unwrap();
        assert_eq!(f.location.as_ref().unwrap().span.unwrap().start_line, 1);
    }
}
