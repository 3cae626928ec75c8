//! The Pod Security Standards (baseline and restricted), evaluated as the Kubernetes reference
//! implementation (`k8s.io/pod-security-admission`, package `policy`) evaluates them: the same
//! 19 controls, each with the versions at which its rule changed, the same overrides (a
//! restricted control replaces the baseline control it tightens), and the same reading of
//! every field (a `null` is unset, a missing `type` is the empty string).
//!
//! A level and a Kubernetes version (`1.N`, default [`LATEST`]) select the controls: for
//! each control, the newest rule whose minimum version is at most the asked version; a
//! control whose first rule is newer than the version does not apply. Versions newer than
//! [`LATEST`] are evaluated as [`LATEST`], as the admission controller does.
//!
//! The input is a pod's `metadata` and `spec` as JSON values (a workload's pod template is
//! reduced to them by the caller), read as the API server would store them: a volume that
//! names no source is the `emptyDir` the server defaults it to. Values of the wrong type are
//! read as unset: the API server would have refused them, and a linter must not fail on them.
//!
//! Checked against every fixture of the reference implementation's test data (4,537 pods,
//! each labelled pass or fail for a level and version): see the `pss_fixtures` test.
//!
//! Rejected alternatives: translating the checks into generic rule data (each control's
//! version history has its own shape, and a table would hide the few subtle cases: implicit
//! container defaults for `runAsNonRoot` and `seccompProfile`, the Windows exemptions from
//! 1.25, user-namespace relaxations from 1.35); Rego (a dependency and an interpreter for 19
//! fixed functions).

use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// `baseline` or `restricted` (any case).
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }
}

/// A Kubernetes minor version (`1.N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

/// The newest version at which any control changed: the default, and what newer versions
/// are evaluated as.
pub const LATEST: Version = Version {
    major: 1,
    minor: 37,
};

impl Version {
    pub const fn new(major: u32, minor: u32) -> Version {
        Version { major, minor }
    }

    /// `1.25`, `v1.25` or `latest`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("latest") {
            return Some(LATEST);
        }
        let s = s.strip_prefix('v').unwrap_or(s);
        let (major, minor) = s.split_once('.')?;
        let v = Version::new(major.parse().ok()?, minor.parse().ok()?);
        (v.major == 1).then_some(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One violated control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The control's id as the reference implementation names it (`privileged`,
    /// `runAsNonRoot`, `capabilities_restricted`, ...).
    pub control: &'static str,
    /// The level the control belongs to.
    pub level: Level,
    /// Short reason (`host namespaces`, `runAsNonRoot != true`).
    pub reason: &'static str,
    /// What exactly is forbidden, naming the pod or containers and the values.
    pub detail: String,
}

/// A control: its id, level, title, and its rule per minimum version (oldest first).
pub struct Control {
    pub id: &'static str,
    pub level: Level,
    pub title: &'static str,
    rules: &'static [Rule],
}

struct Rule {
    since: Version,
    check: fn(&Pod) -> Option<(&'static str, String)>,
    /// Baseline controls this rule replaces at the restricted level.
    overrides: &'static [&'static str],
}

const fn rule(minor: u32, check: fn(&Pod) -> Option<(&'static str, String)>) -> Rule {
    Rule {
        since: Version::new(1, minor),
        check,
        overrides: &[],
    }
}

const fn rule_over(
    minor: u32,
    check: fn(&Pod) -> Option<(&'static str, String)>,
    overrides: &'static [&'static str],
) -> Rule {
    Rule {
        since: Version::new(1, minor),
        check,
        overrides,
    }
}

/// Every control, baseline first, each level in id order (the reference implementation's
/// evaluation order).
pub static CONTROLS: &[Control] = &[
    Control {
        id: "appArmorProfile",
        level: Level::Baseline,
        title: "AppArmor: the default profile may not be overridden or disabled",
        rules: &[rule(0, app_armor)],
    },
    Control {
        id: "capabilities_baseline",
        level: Level::Baseline,
        title: "Capabilities: adding NET_RAW or capabilities beyond the default set is forbidden",
        rules: &[rule(0, capabilities_baseline)],
    },
    Control {
        id: "hostNamespaces",
        level: Level::Baseline,
        title: "Host namespaces: sharing the host network, PID or IPC namespace is forbidden",
        rules: &[rule(0, host_namespaces)],
    },
    Control {
        id: "hostPathVolumes",
        level: Level::Baseline,
        title: "HostPath volumes are forbidden",
        rules: &[rule(0, host_path_volumes)],
    },
    Control {
        id: "hostPorts",
        level: Level::Baseline,
        title: "Host ports are forbidden",
        rules: &[rule(0, host_ports)],
    },
    Control {
        id: "hostProbesAndHostLifecycle",
        level: Level::Baseline,
        title: "Probes and lifecycle handlers may not name a host",
        rules: &[rule(34, host_probes)],
    },
    Control {
        id: "privileged",
        level: Level::Baseline,
        title: "Privileged containers are forbidden",
        rules: &[rule(0, privileged)],
    },
    Control {
        id: "procMount",
        level: Level::Baseline,
        title: "/proc mount type: the default masks are required",
        rules: &[
            rule(0, proc_mount),
            rule(35, proc_mount_unless_user_namespace),
        ],
    },
    Control {
        id: "seLinuxOptions",
        level: Level::Baseline,
        title: "SELinux: custom types, users and roles are forbidden",
        rules: &[rule(0, se_linux_1_0), rule(31, se_linux_1_31)],
    },
    Control {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        title: "Seccomp: the profile may not be Unconfined",
        rules: &[rule(0, seccomp_annotations), rule(19, seccomp_baseline)],
    },
    Control {
        id: "sysctls",
        level: Level::Baseline,
        title: "Sysctls: only the safe, namespaced subset is allowed",
        rules: &[
            rule(0, sysctls_1_0),
            rule(27, sysctls_1_27),
            rule(29, sysctls_1_29),
            rule(32, sysctls_1_32),
            rule(37, sysctls_1_37),
        ],
    },
    Control {
        id: "windowsHostProcess",
        level: Level::Baseline,
        title: "Windows HostProcess containers are forbidden",
        rules: &[rule(0, windows_host_process)],
    },
    Control {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        title: "Privilege escalation must be disallowed (allowPrivilegeEscalation: false)",
        rules: &[
            rule(8, allow_privilege_escalation),
            rule(25, not_windows_ape),
        ],
    },
    Control {
        id: "capabilities_restricted",
        level: Level::Restricted,
        title: "Capabilities: containers must drop ALL and may add only NET_BIND_SERVICE",
        rules: &[
            rule_over(22, capabilities_restricted, &["capabilities_baseline"]),
            rule_over(25, not_windows_caps, &["capabilities_baseline"]),
        ],
    },
    Control {
        id: "procMount_restricted",
        level: Level::Restricted,
        title: "/proc mount type: the default masks are required, even in a user namespace",
        rules: &[rule_over(35, proc_mount, &["procMount"])],
    },
    Control {
        id: "restrictedVolumes",
        level: Level::Restricted,
        title: "Volume types: only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret",
        rules: &[rule_over(0, restricted_volumes, &["hostPathVolumes"])],
    },
    Control {
        id: "runAsNonRoot",
        level: Level::Restricted,
        title: "Containers must run as a non-root user (runAsNonRoot: true)",
        rules: &[rule(0, run_as_non_root), rule(35, run_as_non_root_1_35)],
    },
    Control {
        id: "runAsUser",
        level: Level::Restricted,
        title: "Containers may not run as user 0 (runAsUser: 0)",
        rules: &[rule(23, run_as_user), rule(35, run_as_user_1_35)],
    },
    Control {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        title: "Seccomp: a RuntimeDefault or Localhost profile must be set",
        rules: &[
            rule_over(19, seccomp_restricted, &["seccompProfile_baseline"]),
            rule_over(25, not_windows_seccomp, &["seccompProfile_baseline"]),
        ],
    },
];

impl Control {
    /// The rule in force at `version`, if the control applies then.
    fn rule_at(&self, version: Version) -> Option<&Rule> {
        self.rules.iter().rev().find(|r| r.since <= version)
    }
}

/// The controls of `level` in force at `version` (newer than [`LATEST`]: as [`LATEST`]).
pub fn controls(level: Level, version: Version) -> Vec<&'static Control> {
    let version = version.min(LATEST);
    let overridden: BTreeSet<&str> = if level == Level::Restricted {
        CONTROLS
            .iter()
            .filter(|c| c.level == Level::Restricted)
            .filter_map(|c| c.rule_at(version))
            .flat_map(|r| r.overrides.iter().copied())
            .collect()
    } else {
        BTreeSet::new()
    };
    CONTROLS
        .iter()
        .filter(|c| c.level <= level && !overridden.contains(c.id))
        .filter(|c| c.rule_at(version).is_some())
        .collect()
}

/// The violations of a pod (`metadata` and `spec` as JSON values) at `level` and `version`.
pub fn evaluate(level: Level, version: Version, metadata: &Value, spec: &Value) -> Vec<Violation> {
    let pod = Pod { metadata, spec };
    let version = version.min(LATEST);
    controls(level, version)
        .into_iter()
        .filter_map(|c| {
            let rule = c.rule_at(version)?;
            let (reason, detail) = (rule.check)(&pod)?;
            Some(Violation {
                control: c.id,
                level: c.level,
                reason,
                detail,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Reading the pod

struct Pod<'a> {
    metadata: &'a Value,
    spec: &'a Value,
}

/// A container (init, regular or ephemeral), as the reference implementation visits them.
struct Container<'a>(&'a Value);

impl<'a> Container<'a> {
    fn name(&self) -> &'a str {
        self.0.get("name").and_then(Value::as_str).unwrap_or("")
    }
    /// A field of `securityContext`, `None` when it or the context is unset (or null).
    fn sc(&self, field: &str) -> Option<&'a Value> {
        set(self.0.get("securityContext")?.get(field)?)
    }
}

/// A value that is present and not null.
fn set(v: &Value) -> Option<&Value> {
    (!v.is_null()).then_some(v)
}

/// The array `v[key]` (empty when missing, null or not an array).
pub(crate) fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
}

/// The value at `path` below `v`; `None` when a step is missing or null.
pub(crate) fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = set(cur.get(*p)?)?;
    }
    Some(cur)
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

fn text(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

impl<'a> Pod<'a> {
    fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let spec = self.spec;
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .flat_map(move |k| array(spec, k))
            .map(Container)
    }
    fn pod_sc(&self, f: &str) -> Option<&'a Value> {
        field(self.spec, &["securityContext", f])
    }
    fn windows(&self) -> bool {
        text(field(self.spec, &["os", "name"])) == "windows"
    }
    /// `hostUsers: false`: the pod runs in a user namespace.
    fn user_namespace(&self) -> bool {
        field(self.spec, &["hostUsers"]).and_then(Value::as_bool) == Some(false)
    }
    fn annotations(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.metadata
            .get("annotations")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
    }
    fn annotation(&self, key: &str) -> Option<&'a str> {
        self.metadata
            .get("annotations")?
            .get(key)
            .map(|v| v.as_str().unwrap_or(""))
    }
}

/// `container "a"` / `containers "a", "b"`.
fn named(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!(
        "{} {}",
        if names.len() == 1 {
            "container"
        } else {
            "containers"
        },
        quoted.join(", ")
    )
}

fn quoted_set(values: &BTreeSet<String>) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The containers for which `bad` holds.
fn bad_containers<'a>(pod: &Pod<'a>, mut bad: impl FnMut(&Container<'a>) -> bool) -> Vec<&'a str> {
    pod.containers()
        .filter(|c| bad(c))
        .map(|c| c.name())
        .collect()
}

// ---------------------------------------------------------------------------------------
// The checks

type Outcome = Option<(&'static str, String)>;

fn privileged(pod: &Pod) -> Outcome {
    let bad = bad_containers(pod, |c| is_true(c.sc("privileged")));
    (!bad.is_empty()).then(|| {
        (
            "privileged",
            format!(
                "{} must not set securityContext.privileged=true",
                named(&bad)
            ),
        )
    })
}

fn host_namespaces(pod: &Pod) -> Outcome {
    let set: Vec<&str> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|k| is_true(field(pod.spec, &[k])))
        .collect();
    (!set.is_empty()).then(|| {
        (
            "host namespaces",
            set.iter()
                .map(|k| format!("{k}=true"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    })
}

fn host_path_volumes(pod: &Pod) -> Outcome {
    let bad: Vec<&str> = volumes(pod)
        .filter(|v| field(v, &["hostPath"]).is_some())
        .map(|v| text(v.get("name")))
        .collect();
    (!bad.is_empty()).then(|| ("hostPath volumes", format!("volumes {}", quote_list(&bad))))
}

fn volumes<'a>(pod: &Pod<'a>) -> impl Iterator<Item = &'a Value> + 'a {
    pod.spec
        .get("volumes")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
}

fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn host_ports(pod: &Pod) -> Outcome {
    let mut ports = BTreeSet::new();
    let bad = bad_containers(pod, |c| {
        let mut any = false;
        for p in
            c.0.get("ports")
                .and_then(Value::as_array)
                .map(|a| a.as_slice())
                .unwrap_or_default()
        {
            if let Some(n) = p.get("hostPort").and_then(Value::as_i64)
                && n != 0
            {
                ports.insert(n);
                any = true;
            }
        }
        any
    });
    (!bad.is_empty()).then(|| {
        let list: Vec<String> = ports.iter().map(i64::to_string).collect();
        (
            "hostPort",
            format!("{} uses hostPort {}", named(&bad), list.join(", ")),
        )
    })
}

fn host_probes(pod: &Pod) -> Outcome {
    let mut hosts = BTreeSet::new();
    let bad = bad_containers(pod, |c| {
        let mut any = false;
        let handlers = ["livenessProbe", "readinessProbe", "startupProbe"]
            .into_iter()
            .filter_map(|k| field(c.0, &[k]))
            .chain(
                ["postStart", "preStop"]
                    .into_iter()
                    .filter_map(|k| field(c.0, &["lifecycle", k])),
            );
        for h in handlers {
            for kind in ["httpGet", "tcpSocket"] {
                let host = text(field(h, &[kind, "host"]));
                if !host.is_empty() {
                    hosts.insert(host.to_string());
                    any = true;
                }
            }
        }
        any
    });
    (!bad.is_empty()).then(|| {
        (
            "probe or lifecycle host",
            format!(
                "{} uses probe or lifecycle host {}",
                named(&bad),
                quoted_set(&hosts)
            ),
        )
    })
}

const CAPABILITIES_DEFAULT: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn strings<'a>(v: Option<&'a Value>) -> impl Iterator<Item = &'a str> + 'a {
    v.and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|s| s.as_str().unwrap_or(""))
}

fn capabilities_baseline(pod: &Pod) -> Outcome {
    let mut extra = BTreeSet::new();
    let bad = bad_containers(pod, |c| {
        let mut any = false;
        for cap in strings(c.sc("capabilities").and_then(|k| k.get("add"))) {
            if !CAPABILITIES_DEFAULT.contains(&cap) {
                extra.insert(cap.to_string());
                any = true;
            }
        }
        any
    });
    (!bad.is_empty()).then(|| {
        (
            "non-default capabilities",
            format!(
                "{} must not include {} in securityContext.capabilities.add",
                named(&bad),
                quoted_set(&extra)
            ),
        )
    })
}

fn capabilities_restricted(pod: &Pod) -> Outcome {
    let mut no_drop = Vec::new();
    let mut adding = Vec::new();
    let mut extra = BTreeSet::new();
    for c in pod.containers() {
        let Some(caps) = c.sc("capabilities") else {
            no_drop.push(c.name());
            continue;
        };
        if !strings(caps.get("drop")).any(|d| d == "ALL") {
            no_drop.push(c.name());
        }
        let mut any = false;
        for cap in strings(caps.get("add")) {
            if cap != "NET_BIND_SERVICE" {
                extra.insert(cap.to_string());
                any = true;
            }
        }
        if any {
            adding.push(c.name());
        }
    }
    let mut parts = Vec::new();
    if !no_drop.is_empty() {
        parts.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            named(&no_drop)
        ));
    }
    if !adding.is_empty() {
        parts.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            named(&adding),
            quoted_set(&extra)
        ));
    }
    (!parts.is_empty()).then(|| ("unrestricted capabilities", parts.join("; ")))
}

fn not_windows_caps(pod: &Pod) -> Outcome {
    if pod.windows() {
        return None;
    }
    capabilities_restricted(pod)
}

fn proc_mount(pod: &Pod) -> Outcome {
    let mut types = BTreeSet::new();
    let bad = bad_containers(pod, |c| match c.sc("procMount") {
        Some(v) if v.as_str() != Some("Default") => {
            types.insert(v.as_str().unwrap_or("").to_string());
            true
        }
        _ => false,
    });
    (!bad.is_empty()).then(|| {
        (
            "procMount",
            format!(
                "{} must not set securityContext.procMount to {}",
                named(&bad),
                quoted_set(&types)
            ),
        )
    })
}

fn proc_mount_unless_user_namespace(pod: &Pod) -> Outcome {
    if pod.user_namespace() {
        return None;
    }
    proc_mount(pod)
}

/// `pod` and/or `container(s) "a"` as the setters of a forbidden value.
fn setters(pod_bad: bool, containers: &[&str]) -> String {
    let mut parts = Vec::new();
    if pod_bad {
        parts.push("pod".to_string());
    }
    if !containers.is_empty() {
        parts.push(named(containers));
    }
    parts.join(" and ")
}

const SELINUX_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const SELINUX_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn se_linux(pod: &Pod, allowed: &[&str]) -> Outcome {
    let mut types = BTreeSet::new();
    let (mut user, mut role) = (false, false);
    let mut valid = |o: &Value| {
        let mut ok = true;
        let t = text(o.get("type"));
        if !allowed.contains(&t) {
            types.insert(t.to_string());
            ok = false;
        }
        if !text(o.get("user")).is_empty() {
            user = true;
            ok = false;
        }
        if !text(o.get("role")).is_empty() {
            role = true;
            ok = false;
        }
        ok
    };
    let pod_bad = pod.pod_sc("seLinuxOptions").is_some_and(|o| !valid(o));
    let bad: Vec<&str> = pod
        .containers()
        .filter(|c| c.sc("seLinuxOptions").is_some_and(|o| !valid(o)))
        .map(|c| c.name())
        .collect();
    if !pod_bad && bad.is_empty() {
        return None;
    }
    let mut what = Vec::new();
    if !types.is_empty() {
        what.push(format!("type {}", quoted_set(&types)));
    }
    if user {
        what.push("user may not be set".to_string());
    }
    if role {
        what.push("role may not be set".to_string());
    }
    Some((
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters(pod_bad, &bad),
            what.join("; ")
        ),
    ))
}

fn se_linux_1_0(pod: &Pod) -> Outcome {
    se_linux(pod, SELINUX_TYPES_1_0)
}

fn se_linux_1_31(pod: &Pod) -> Outcome {
    se_linux(pod, SELINUX_TYPES_1_31)
}

fn valid_seccomp_type(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

fn valid_seccomp_annotation(v: &str) -> bool {
    v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/")
}

fn seccomp_annotations(pod: &Pod) -> Outcome {
    let mut forbidden = BTreeSet::new();
    if let Some(v) = pod.annotation("seccomp.security.alpha.kubernetes.io/pod")
        && !valid_seccomp_annotation(v)
    {
        forbidden.insert(format!("pod annotation {v:?}"));
    }
    for c in pod.containers() {
        let key = format!(
            "container.seccomp.security.alpha.kubernetes.io/{}",
            c.name()
        );
        if let Some(v) = pod.annotation(&key)
            && !valid_seccomp_annotation(v)
        {
            forbidden.insert(format!("container {:?} annotation {v:?}", c.name()));
        }
    }
    (!forbidden.is_empty()).then(|| {
        (
            "seccompProfile",
            format!(
                "forbidden seccomp {}",
                forbidden.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

fn seccomp_type(v: &Value) -> &str {
    text(v.get("type"))
}

fn seccomp_baseline(pod: &Pod) -> Outcome {
    let mut values = BTreeSet::new();
    let pod_bad = pod
        .pod_sc("seccompProfile")
        .map(seccomp_type)
        .is_some_and(|t| {
            let bad = !valid_seccomp_type(t);
            if bad {
                values.insert(t.to_string());
            }
            bad
        });
    let bad = bad_containers(pod, |c| match c.sc("seccompProfile").map(seccomp_type) {
        Some(t) if !valid_seccomp_type(t) => {
            values.insert(t.to_string());
            true
        }
        _ => false,
    });
    (pod_bad || !bad.is_empty()).then(|| {
        (
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters(pod_bad, &bad),
                quoted_set(&values)
            ),
        )
    })
}

fn seccomp_restricted(pod: &Pod) -> Outcome {
    let mut values = BTreeSet::new();
    let pod_type = pod.pod_sc("seccompProfile").map(seccomp_type);
    let pod_bad = pod_type.is_some_and(|t| !valid_seccomp_type(t));
    if let Some(t) = pod_type.filter(|_| pod_bad) {
        values.insert(t.to_string());
    }
    let pod_set = pod_type.is_some() && !pod_bad;
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in pod.containers() {
        match c.sc("seccompProfile").map(seccomp_type) {
            Some(t) if !valid_seccomp_type(t) => {
                values.insert(t.to_string());
                explicit.push(c.name());
            }
            Some(_) => {}
            None if !pod_set => implicit.push(c.name()),
            None => {}
        }
    }
    if pod_bad || !explicit.is_empty() {
        return Some((
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters(pod_bad, &explicit),
                quoted_set(&values)
            ),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            "seccompProfile",
            format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                named(&implicit)
            ),
        )
    })
}

fn not_windows_seccomp(pod: &Pod) -> Outcome {
    if pod.windows() {
        return None;
    }
    seccomp_restricted(pod)
}

const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const SYSCTLS_1_37: &[&str] = &[
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn sysctls(pod: &Pod, allowed: &[&[&str]]) -> Outcome {
    let bad: Vec<&str> = pod
        .pod_sc("sysctls")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|s| text(s.get("name")))
        .filter(|name| !allowed.iter().any(|set| set.contains(name)))
        .collect();
    (!bad.is_empty()).then(|| ("forbidden sysctls", quote_list(&bad)))
}

fn sysctls_1_0(pod: &Pod) -> Outcome {
    sysctls(pod, &[SYSCTLS_1_0])
}
fn sysctls_1_27(pod: &Pod) -> Outcome {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_1_27])
}
fn sysctls_1_29(pod: &Pod) -> Outcome {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29])
}
fn sysctls_1_32(pod: &Pod) -> Outcome {
    sysctls(
        pod,
        &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29, SYSCTLS_1_32],
    )
}
fn sysctls_1_37(pod: &Pod) -> Outcome {
    sysctls(
        pod,
        &[
            SYSCTLS_1_0,
            SYSCTLS_1_27,
            SYSCTLS_1_29,
            SYSCTLS_1_32,
            SYSCTLS_1_37,
        ],
    )
}

fn windows_host_process(pod: &Pod) -> Outcome {
    let pod_bad = is_true(
        pod.pod_sc("windowsOptions")
            .and_then(|w| w.get("hostProcess")),
    );
    let bad = bad_containers(pod, |c| {
        is_true(c.sc("windowsOptions").and_then(|w| w.get("hostProcess")))
    });
    (pod_bad || !bad.is_empty()).then(|| {
        (
            "hostProcess",
            format!(
                "{} must not set securityContext.windowsOptions.hostProcess=true",
                setters(pod_bad, &bad)
            ),
        )
    })
}

fn app_armor(pod: &Pod) -> Outcome {
    let allowed_type = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut values = BTreeSet::new();
    let pod_bad = pod
        .pod_sc("appArmorProfile")
        .map(|p| text(p.get("type")))
        .is_some_and(|t| {
            let bad = !allowed_type(t);
            if bad {
                values.insert(t.to_string());
            }
            bad
        });
    let bad = bad_containers(pod, |c| {
        match c.sc("appArmorProfile").map(|p| text(p.get("type"))) {
            Some(t) if !allowed_type(t) => {
                values.insert(t.to_string());
                true
            }
            _ => false,
        }
    });
    let mut annotations: Vec<String> = pod
        .annotations()
        .filter(|(k, v)| {
            k.starts_with("container.apparmor.security.beta.kubernetes.io/")
                && !(v.is_empty() || *v == "runtime/default" || v.starts_with("localhost/"))
        })
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    annotations.sort();
    if !pod_bad && bad.is_empty() && annotations.is_empty() {
        return None;
    }
    let mut who = Vec::new();
    if pod_bad || !bad.is_empty() {
        who.push(setters(pod_bad, &bad));
    }
    if !annotations.is_empty() {
        who.push(format!(
            "{} {}",
            if annotations.len() == 1 {
                "annotation"
            } else {
                "annotations"
            },
            annotations.join(", ")
        ));
    }
    let mut what: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    what.extend(annotations.iter().cloned());
    Some((
        "forbidden AppArmor profile",
        format!(
            "{} must not set AppArmor profile type to {}",
            who.join(" and "),
            what.join(", ")
        ),
    ))
}

fn allow_privilege_escalation(pod: &Pod) -> Outcome {
    let bad = bad_containers(pod, |c| {
        c.sc("allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false)
    });
    (!bad.is_empty()).then(|| {
        (
            "allowPrivilegeEscalation != false",
            format!(
                "{} must set securityContext.allowPrivilegeEscalation=false",
                named(&bad)
            ),
        )
    })
}

fn not_windows_ape(pod: &Pod) -> Outcome {
    if pod.windows() {
        return None;
    }
    allow_privilege_escalation(pod)
}

const RESTRICTED_VOLUME_OK: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
const RESTRICTED_VOLUME_BAD: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn restricted_volumes(pod: &Pod) -> Outcome {
    let mut names = Vec::new();
    let mut kinds = BTreeSet::new();
    for v in volumes(pod) {
        let has = |k: &&str| field(v, &[k]).is_some();
        // A volume that names no source is an emptyDir: the API server defaults it so.
        if RESTRICTED_VOLUME_OK.iter().any(has) || !RESTRICTED_VOLUME_BAD.iter().any(has) {
            continue;
        }
        names.push(text(v.get("name")));
        let kind = RESTRICTED_VOLUME_BAD
            .iter()
            .find(|k| field(v, &[k]).is_some())
            .copied()
            .unwrap_or_default();
        kinds.insert(kind.to_string());
    }
    (!names.is_empty()).then(|| {
        (
            "restricted volume types",
            format!(
                "{} {} {} {}",
                if names.len() == 1 {
                    "volume"
                } else {
                    "volumes"
                },
                quote_list(&names),
                if kinds.len() == 1 {
                    "uses restricted volume type"
                } else {
                    "use restricted volume types"
                },
                quoted_set(&kinds)
            ),
        )
    })
}

fn run_as_non_root(pod: &Pod) -> Outcome {
    let pod_value = pod.pod_sc("runAsNonRoot").and_then(Value::as_bool);
    let pod_bad = pod_value == Some(false);
    let pod_ok = pod_value == Some(true);
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in pod.containers() {
        match c.sc("runAsNonRoot").and_then(Value::as_bool) {
            Some(false) => explicit.push(c.name()),
            Some(true) => {}
            None if !pod_ok => implicit.push(c.name()),
            None => {}
        }
    }
    if pod_bad || !explicit.is_empty() {
        return Some((
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters(pod_bad, &explicit)
            ),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            "runAsNonRoot != true",
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                named(&implicit)
            ),
        )
    })
}

fn run_as_non_root_1_35(pod: &Pod) -> Outcome {
    if pod.user_namespace() {
        return None;
    }
    run_as_non_root(pod)
}

fn run_as_user(pod: &Pod) -> Outcome {
    let zero = |v: Option<&Value>| v.and_then(Value::as_i64) == Some(0);
    let pod_bad = zero(pod.pod_sc("runAsUser"));
    let bad = bad_containers(pod, |c| zero(c.sc("runAsUser")));
    (pod_bad || !bad.is_empty()).then(|| {
        (
            "runAsUser=0",
            format!("{} must not set runAsUser=0", setters(pod_bad, &bad)),
        )
    })
}

fn run_as_user_1_35(pod: &Pod) -> Outcome {
    if pod.user_namespace() {
        return None;
    }
    run_as_user(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(level: Level, minor: u32, spec: Value) -> Vec<&'static str> {
        evaluate(level, Version::new(1, minor), &json!({}), &spec)
            .into_iter()
            .map(|v| v.control)
            .collect()
    }

    #[test]
    fn versions_and_levels() {
        assert_eq!(Version::parse("v1.25"), Some(Version::new(1, 25)));
        assert_eq!(Version::parse("1.3"), Some(Version::new(1, 3)));
        assert_eq!(Version::parse("latest"), Some(LATEST));
        assert_eq!(Version::parse("2.0"), None);
        assert_eq!(Version::parse("1"), None);
        assert_eq!(Level::parse("Restricted"), Some(Level::Restricted));
        assert_eq!(CONTROLS.len(), 19);
        // Baseline has 11 controls at 1.0 (host probes come in 1.34); restricted replaces
        // hostPathVolumes (always), capabilities_baseline (1.22), seccompProfile_baseline
        // (1.19) and procMount (1.35).
        assert_eq!(controls(Level::Baseline, Version::new(1, 0)).len(), 11);
        assert_eq!(controls(Level::Baseline, LATEST).len(), 12);
        let ids = |l, m| -> Vec<&str> {
            controls(l, Version::new(1, m))
                .iter()
                .map(|c| c.id)
                .collect()
        };
        assert!(ids(Level::Restricted, 0).contains(&"capabilities_baseline"));
        assert!(!ids(Level::Restricted, 0).contains(&"hostPathVolumes"));
        assert!(!ids(Level::Restricted, 0).contains(&"allowPrivilegeEscalation"));
        assert!(!ids(Level::Restricted, 22).contains(&"capabilities_baseline"));
        assert!(ids(Level::Restricted, 34).contains(&"procMount"));
        assert!(!ids(Level::Restricted, 35).contains(&"procMount"));
        assert_eq!(ids(Level::Restricted, 99), ids(Level::Restricted, 37));
    }

    #[test]
    fn the_subtle_cases() {
        let c = |sc: Value| json!({"containers": [{"name": "a", "securityContext": sc}]});
        // A pod-level runAsNonRoot covers containers that leave it unset.
        let spec = json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]});
        assert!(eval(Level::Restricted, 37, spec).is_empty());
        // Windows pods are exempt from three restricted controls from 1.25.
        let win = json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]});
        assert_eq!(
            eval(Level::Restricted, 24, win.clone()),
            [
                "allowPrivilegeEscalation",
                "capabilities_restricted",
                "seccompProfile_restricted"
            ]
        );
        assert!(eval(Level::Restricted, 25, win).is_empty());
        // hostUsers: false relaxes runAsNonRoot, runAsUser and (baseline) procMount from 1.35.
        let userns = json!({"hostUsers": false, "containers": [{"name": "a", "securityContext": {"procMount": "Unmasked", "runAsUser": 0}}]});
        assert_eq!(eval(Level::Baseline, 34, userns.clone()), ["procMount"]);
        assert!(eval(Level::Baseline, 35, userns.clone()).is_empty());
        assert_eq!(
            eval(Level::Restricted, 35, userns),
            [
                "allowPrivilegeEscalation",
                "capabilities_restricted",
                "procMount_restricted",
                "seccompProfile_restricted"
            ]
        );
        // A seccomp profile object without a type is the empty type: forbidden.
        assert_eq!(
            eval(Level::Baseline, 19, c(json!({"seccompProfile": {}}))),
            ["seccompProfile_baseline"]
        );
        assert!(eval(Level::Baseline, 18, c(json!({"seccompProfile": {}}))).is_empty());
        // null is unset.
        assert!(
            eval(
                Level::Baseline,
                37,
                c(json!({"privileged": null, "procMount": null}))
            )
            .is_empty()
        );
        // A sysctl allowed from 1.27.
        let s = json!({"securityContext": {"sysctls": [{"name": "net.ipv4.ip_local_reserved_ports", "value": "1"}]}, "containers": []});
        assert_eq!(eval(Level::Baseline, 26, s.clone()), ["sysctls"]);
        assert!(eval(Level::Baseline, 27, s).is_empty());
        // Messages name the containers and values.
        let v = evaluate(
            Level::Baseline,
            LATEST,
            &json!({}),
            &json!({"hostNetwork": true, "containers": [{"name": "web", "securityContext": {"capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}}]}),
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].control, "capabilities_baseline");
        assert_eq!(
            v[0].detail,
            "container \"web\" must not include \"NET_ADMIN\" in securityContext.capabilities.add"
        );
        assert_eq!(
            (v[1].reason, v[1].detail.as_str()),
            ("host namespaces", "hostNetwork=true")
        );
    }
}
