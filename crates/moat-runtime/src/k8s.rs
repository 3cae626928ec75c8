//! The Kubernetes audit source (`source: k8s_audit`): audit events as JSON lines, JSON
//! arrays or `EventList` batches, and the `ka.*` and `jevt.*`/`json.*` fields of Falco's
//! k8saudit and json plugins (same names, arguments, list-ness and values).

use crate::field::{FieldArg, FieldError, FieldSource, FieldType, Value};
use crate::json::{Doc, JsonError, Kind};
use std::borrow::Cow;
use std::io::BufRead;
use std::sync::Arc;

/// One audit event: a node of a parsed payload (the payload itself, or an item of an
/// `EventList` or array, sharing the payload's tape: each payload is parsed once).
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub doc: Arc<Doc>,
    /// The event's object in `doc`.
    pub root: usize,
    /// `stageTimestamp`, in nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// The node of each of [`TOP`]'s keys in the event's object (`NONE`: absent), found in
    /// one pass so that field lookups do not scan the event's keys again.
    top: [u32; TOP.len()],
}

/// The event keys fields start from.
const TOP: [&str; 15] = [
    "auditID",
    "stage",
    "annotations",
    "user",
    "impersonatedUser",
    "verb",
    "requestURI",
    "objectRef",
    "requestObject",
    "responseObject",
    "responseStatus",
    "sourceIPs",
    "userAgent",
    "stageTimestamp",
    "kind",
];
const AUDIT_ID: usize = 0;
const STAGE_TIMESTAMP: usize = 13;
const NONE: u32 = u32::MAX;

fn top_slot(k: &[u8]) -> Option<usize> {
    // By length first: one comparison of bytes at most for most keys.
    let (i, name): (usize, &[u8]) = match (k.len(), k.first()) {
        (7, _) => (0, b"auditID"),
        (5, _) => (1, b"stage"),
        (11, _) => (2, b"annotations"),
        (4, Some(b'u')) => (3, b"user"),
        (16, _) => (4, b"impersonatedUser"),
        (4, Some(b'v')) => (5, b"verb"),
        (10, _) => (6, b"requestURI"),
        (9, Some(b'o')) => (7, b"objectRef"),
        (13, _) => (8, b"requestObject"),
        (14, Some(b'r')) if k.get(8) == Some(&b'O') => (9, b"responseObject"),
        (14, Some(b'r')) => (10, b"responseStatus"),
        (9, Some(b's')) => (11, b"sourceIPs"),
        (9, Some(b'u')) => (12, b"userAgent"),
        (14, Some(b's')) => (13, b"stageTimestamp"),
        (4, Some(b'k')) => (14, b"kind"),
        _ => return None,
    };
    (k == name).then_some(i)
}

/// The common shape of an API server's timestamps, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, in
/// nanoseconds since the Unix epoch without a general parser; `None` for any other text
/// (jiff then reads it, or says what is wrong with it). Same value as jiff's.
fn utc_nanos(s: &[u8]) -> Option<i64> {
    if s.len() < 20 || s.len() > 30 || s[s.len() - 1] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        s[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    if s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Leap seconds (60) and the rest are jiff's to judge.
    if !(1..=12).contains(&mo) || h > 23 || mi > 59 || sec > 59 || y == 0 {
        return None;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let dim = match mo {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d < 1 || d > dim {
        return None;
    }
    let frac = &s[19..s.len() - 1];
    let nanos = match frac {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let v = num(20..20 + digits.len())?;
            v * 10i64.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    // Days since 1970-01-01 of the civil date (proleptic Gregorian).
    let (yy, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    // Outside i64's nanoseconds (before 1677, after 2262): jiff says so.
    (((days * 24 + h) * 60 + mi) * 60)
        .checked_add(sec)?
        .checked_mul(1_000_000_000)?
        .checked_add(nanos)
}

impl AuditEvent {
    /// An event from one JSON object (`kind: Event`) with a `stageTimestamp`.
    pub fn from_doc(doc: Doc) -> Result<AuditEvent, String> {
        Self::from_node(Arc::new(doc), 0)
    }

    /// The event at node `root` of `doc` (an object with a `stageTimestamp`).
    pub fn from_node(doc: Arc<Doc>, root: usize) -> Result<AuditEvent, String> {
        let mut top = [NONE; TOP.len()];
        for (k, v) in doc.members(root) {
            let slot = match doc.kind(k) {
                Kind::Str(false) => top_slot(doc.raw(k)),
                _ => top_slot(&doc.str(k)),
            };
            if let Some(i) = slot
                && top[i] == NONE
            {
                top[i] = v as u32;
            }
        }
        let ts = match top[STAGE_TIMESTAMP] {
            NONE => return Err("can't read stageTimestamp".into()),
            n => n as usize,
        };
        let s = doc.str(ts);
        let time_ns = match utc_nanos(&s) {
            Some(ns) => ns,
            None => {
                let text = std::str::from_utf8(&s)
                    .map_err(|_| "stageTimestamp is not UTF-8".to_string())?;
                let t: jiff::Timestamp = text
                    .parse()
                    .map_err(|e| format!("bad stageTimestamp '{text}': {e}"))?;
                i64::try_from(t.as_nanosecond())
                    .map_err(|_| format!("stageTimestamp '{text}' out of range"))?
            }
        };
        Ok(AuditEvent {
            doc,
            root,
            time_ns,
            top,
        })
    }

    /// The value of key `k` of the event's object.
    pub fn get(&self, k: &str) -> Option<usize> {
        match top_slot(k.as_bytes()) {
            Some(i) => match self.top[i] {
                NONE => None,
                n => Some(n as usize),
            },
            None => self.doc.get(self.root, k),
        }
    }

    /// Follows `keys` from the event's object ([`Doc::path`]).
    pub fn path(&self, keys: &[&str]) -> Option<usize> {
        match keys.split_first() {
            None => Some(self.root),
            Some((k, rest)) => self.doc.path(self.get(k)?, rest),
        }
    }
}

/// Splits a parsed payload into events: an `Event`, an `EventList`'s items, or an array of
/// either. Items that are not events (no `stageTimestamp`) come back as errors.
pub fn events_of(doc: Doc) -> Result<Vec<Result<AuditEvent, String>>, String> {
    let doc = Arc::new(doc);
    let mut out = Vec::new();
    collect(&doc, 0, &mut out)?;
    Ok(out)
}

fn collect(
    doc: &Arc<Doc>,
    n: usize,
    out: &mut Vec<Result<AuditEvent, String>>,
) -> Result<(), String> {
    match doc.kind(n) {
        Kind::Array => {
            for c in doc.children(n) {
                collect(doc, c, out)?;
            }
            Ok(())
        }
        Kind::Object => {
            let kind = doc
                .get(n, "kind")
                .filter(|&k| matches!(doc.kind(k), Kind::Str(_)))
                .map(|k| doc.str(k));
            match kind.as_deref() {
                Some(b"EventList") => {
                    if let Some(items) = doc.get(n, "items").filter(|&i| doc.kind(i) == Kind::Array)
                    {
                        for it in doc.children(items) {
                            out.push(AuditEvent::from_node(Arc::clone(doc), it));
                        }
                        return Ok(());
                    }
                    Err("data not recognized as a k8s audit event".into())
                }
                Some(b"Event") => {
                    out.push(AuditEvent::from_node(Arc::clone(doc), n));
                    Ok(())
                }
                _ => Err("data not recognized as a k8s audit event".into()),
            }
        }
        _ => Err("data not recognized as a k8s audit event".into()),
    }
}

/// A JSON value spread over more than this many bytes is refused.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// Reads audit payloads from a stream: one JSON value per line, or a value spread over
/// several lines (a pretty-printed `EventList`). Yields each payload's events, or an error
/// for a payload that is not JSON or not audit events (with its first line number).
pub struct AuditReader<R> {
    input: R,
    line: usize,
    pending: Vec<u8>,
    pending_line: usize,
    done: bool,
}

/// A problem with one payload of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PayloadError {
    pub line: usize,
    pub message: String,
}

impl<R: BufRead> AuditReader<R> {
    pub fn new(input: R) -> Self {
        AuditReader {
            input,
            line: 0,
            pending: Vec::new(),
            pending_line: 0,
            done: false,
        }
    }

    /// The next payload: its events (each may be an error of its own), a payload error, or
    /// `None` at the end. An I/O error ends the stream with `Err` of the outer result.
    #[allow(clippy::type_complexity)]
    pub fn next_payload(
        &mut self,
    ) -> std::io::Result<Option<Result<Vec<Result<AuditEvent, String>>, PayloadError>>> {
        loop {
            if self.done {
                if self.pending.iter().all(|c| c.is_ascii_whitespace()) {
                    return Ok(None);
                }
                let line = self.pending_line;
                self.pending.clear();
                return Ok(Some(Err(PayloadError {
                    line,
                    message: "unexpected end of JSON input".into(),
                })));
            }
            if self.pending.is_empty() {
                self.pending_line = self.line + 1;
            }
            let before = self.pending.len();
            let n = read_line(&mut self.input, &mut self.pending)?;
            if n == 0 {
                self.done = true;
                if self.pending.iter().all(|c| c.is_ascii_whitespace()) {
                    return Ok(None);
                }
            } else {
                self.line += 1;
            }
            if self.pending[before..]
                .iter()
                .all(|c| c.is_ascii_whitespace())
                && !self.done
            {
                if self.pending.iter().all(|c| c.is_ascii_whitespace()) {
                    self.pending.clear();
                }
                continue;
            }
            // The next payload's buffer sized like this one (lines of a log are alike), so
            // reading a line does not grow it step by step.
            let next = Vec::with_capacity(self.pending.len().clamp(256, 1 << 16));
            let data = std::mem::replace(&mut self.pending, next);
            match Doc::parse_keep(data) {
                Ok(doc) => {
                    let line = self.pending_line;
                    return Ok(Some(
                        events_of(doc).map_err(|message| PayloadError { line, message }),
                    ));
                }
                Err((JsonError::Eof, data)) if !self.done && data.len() < MAX_PAYLOAD => {
                    // Not complete yet: keep reading lines.
                    self.pending = data;
                }
                Err((e, _)) => {
                    let line = self.pending_line;
                    return Ok(Some(Err(PayloadError {
                        line,
                        message: format!("not JSON: {e}"),
                    })));
                }
            }
        }
    }
}

/// [`BufRead::read_until`] a newline, finding it with `memchr`'s vector scan (the
/// standard library's scans a byte at a time).
fn read_line<R: BufRead>(r: &mut R, out: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let (done, used) = {
            let buf = match r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            match memchr::memchr(b'\n', buf) {
                Some(i) => {
                    out.extend_from_slice(&buf[..=i]);
                    (true, i + 1)
                }
                None => {
                    out.extend_from_slice(buf);
                    (buf.is_empty(), buf.len())
                }
            }
        };
        r.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

/// The k8s audit source.
#[derive(Debug, Clone, Default)]
pub struct K8sAudit;

/// A resolved k8s audit field.
#[derive(Debug, Clone)]
pub enum KField {
    /// A value at a path, as text (scalar fields).
    Path(&'static [&'static str]),
    /// An array at a path, each element as text (list fields).
    PathList(&'static [&'static str]),
    UriParam(String),
    TargetPodName,
    SubjectNames(&'static str),
    BindingHasName,
    ContainerImage0,
    ContainerRepo0,
    AnyPrivileged,
    /// `ka.req.pod.<list>.<what>[index]`.
    Container {
        list: &'static str,
        what: CWhat,
        index: Option<usize>,
    },
    /// `ka.req.role.rules.<key>[index]`.
    RoleRules {
        key: &'static str,
        index: Option<usize>,
    },
    /// Values under a path through arrays (`ka.req.pod.volumes.hostpath`, service ports).
    Recursive {
        keys: &'static [&'static str],
        index: Option<usize>,
    },
    VolumeHostpathMatch(String),
    VolumeTypes(Option<usize>),
    SourceIps(Option<usize>),
    /// `jevt.value[ptr]`: the pointer's keys, unescaped (none: the whole event).
    JsonValue(Vec<String>),
    JsonObj,
    RawTime,
    EvtTime,
    EvtSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CWhat {
    Name,
    Image,
    Repository,
    Command,
    Args,
    HostPort,
    Sub(&'static [&'static str]),
    EffRunAsUser,
    EffRunAsGroup,
}

enum ArgKind {
    None,
    Index,
    Key,
}

/// A field's argument kind, list-ness and constructor.
type Entry = (ArgKind, bool, fn(&FieldArg) -> KField);

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

fn container_what(s: &str) -> Option<CWhat> {
    Some(match s {
        "name" => CWhat::Name,
        "image" => CWhat::Image,
        "image.repository" => CWhat::Repository,
        "command" => CWhat::Command,
        "args" => CWhat::Args,
        "host_port" => CWhat::HostPort,
        "privileged" => CWhat::Sub(&["securityContext", "privileged"]),
        "allow_privilege_escalation" => {
            CWhat::Sub(&["securityContext", "allowPrivilegeEscalation"])
        }
        "read_only_fs" => CWhat::Sub(&["securityContext", "readOnlyRootFilesystem"]),
        "run_as_user" => CWhat::Sub(&["securityContext", "runAsUser"]),
        "run_as_group" => CWhat::Sub(&["securityContext", "runAsGroup"]),
        "proc_mount" => CWhat::Sub(&["securityContext", "procMount"]),
        "add_capabilities" => CWhat::Sub(&["securityContext", "capabilities", "add"]),
        "eff_run_as_user" => CWhat::EffRunAsUser,
        "eff_run_as_group" => CWhat::EffRunAsGroup,
        _ => return None,
    })
}

impl K8sAudit {
    fn lookup(name: &str) -> Option<Entry> {
        use KField as K;
        macro_rules! f {
            ($arg:expr, $list:expr, $mk:expr) => {
                Some(($arg, $list, $mk))
            };
        }
        fn idx(a: &FieldArg) -> Option<usize> {
            match a {
                FieldArg::Index(i) => Some(usize::try_from(*i).unwrap_or(usize::MAX)),
                _ => None,
            }
        }
        fn key(a: &FieldArg) -> String {
            match a {
                FieldArg::Key(k) => k.clone(),
                FieldArg::Index(i) => i.to_string(),
                FieldArg::None => String::new(),
            }
        }
        match name {
            "ka.auditid" => f!(ArgKind::None, false, |_| K::Path(&["auditID"])),
            "ka.stage" => f!(ArgKind::None, false, |_| K::Path(&["stage"])),
            "ka.auth.decision" => f!(ArgKind::None, false, |_| K::Path(&[
                "annotations",
                "authorization.k8s.io/decision"
            ])),
            "ka.auth.reason" => f!(ArgKind::None, false, |_| K::Path(&[
                "annotations",
                "authorization.k8s.io/reason"
            ])),
            "ka.auth.openshift.decision" => f!(ArgKind::None, false, |_| K::Path(&[
                "annotations",
                "authentication.openshift.io/decision"
            ])),
            "ka.auth.openshift.username" => f!(ArgKind::None, false, |_| K::Path(&[
                "annotations",
                "authentication.openshift.io/username"
            ])),
            "ka.validations.admission.policy.failure" => {
                f!(ArgKind::None, false, |_| K::Path(&[
                    "annotations",
                    "validation.policy.admission.k8s.io/validation_failure"
                ]))
            }
            "ka.security.pod.violations" => f!(ArgKind::None, false, |_| K::Path(&[
                "annotations",
                "pod-security.kubernetes.io/audit-violations"
            ])),
            "ka.user.name" => f!(ArgKind::None, false, |_| K::Path(&["user", "username"])),
            "ka.user.groups" => f!(ArgKind::None, true, |_| K::PathList(&["user", "groups"])),
            "ka.impuser.name" => f!(ArgKind::None, false, |_| K::Path(&[
                "impersonatedUser",
                "username"
            ])),
            "ka.verb" => f!(ArgKind::None, false, |_| K::Path(&["verb"])),
            "ka.uri" => f!(ArgKind::None, false, |_| K::Path(&["requestURI"])),
            "ka.uri.param" => f!(ArgKind::Key, false, |a| K::UriParam(key(a))),
            "ka.target.name" => f!(ArgKind::None, false, |_| K::Path(&["objectRef", "name"])),
            "ka.target.namespace" => f!(ArgKind::None, false, |_| K::Path(&[
                "objectRef",
                "namespace"
            ])),
            "ka.target.resource" => f!(ArgKind::None, false, |_| K::Path(&[
                "objectRef",
                "resource"
            ])),
            "ka.target.subresource" => f!(ArgKind::None, false, |_| K::Path(&[
                "objectRef",
                "subresource"
            ])),
            "ka.target.pod.name" => f!(ArgKind::None, false, |_| K::TargetPodName),
            "ka.req.binding.subjects" => f!(ArgKind::None, true, |_| K::PathList(&[
                "requestObject",
                "subjects"
            ])),
            "ka.req.binding.subjects.user_names" => {
                f!(ArgKind::None, true, |_| K::SubjectNames("User"))
            }
            "ka.req.binding.subjects.serviceaccount_names" => {
                f!(ArgKind::None, true, |_| K::SubjectNames("ServiceAccount"))
            }
            "ka.req.binding.subjects.serviceaccount_ns_names" => {
                f!(ArgKind::None, true, |_| K::SubjectNames(
                    "NamespacedServiceAccount"
                ))
            }
            "ka.req.binding.subjects.group_names" => {
                f!(ArgKind::None, true, |_| K::SubjectNames("Group"))
            }
            "ka.req.binding.role" => f!(ArgKind::None, false, |_| K::Path(&[
                "requestObject",
                "roleRef",
                "name"
            ])),
            "ka.req.binding.subject.has_name" => f!(ArgKind::Key, false, |_| K::BindingHasName),
            "ka.req.configmap.name" => {
                f!(ArgKind::None, false, |_| K::Path(&["objectRef", "name"]))
            }
            "ka.req.configmap.obj" => f!(ArgKind::None, false, |_| K::Path(&[
                "requestObject",
                "data"
            ])),
            "ka.req.container.image" => f!(ArgKind::None, false, |_| K::ContainerImage0),
            "ka.req.container.image.repository" => f!(ArgKind::None, false, |_| K::ContainerRepo0),
            "ka.req.pod.host_ipc" => f!(ArgKind::None, false, |_| K::Path(&[
                "requestObject",
                "spec",
                "hostIPC"
            ])),
            "ka.req.pod.host_network" | "ka.req.container.host_network" => {
                f!(ArgKind::None, false, |_| K::Path(&[
                    "requestObject",
                    "spec",
                    "hostNetwork"
                ]))
            }
            "ka.req.pod.host_pid" => f!(ArgKind::None, false, |_| K::Path(&[
                "requestObject",
                "spec",
                "hostPID"
            ])),
            "ka.req.container.privileged" => f!(ArgKind::None, false, |_| K::AnyPrivileged),
            "ka.req.pod.run_as_user" => f!(ArgKind::None, false, |_| K::Path(&[
                "requestObject",
                "spec",
                "securityContext",
                "runAsUser"
            ])),
            "ka.req.pod.run_as_group" => f!(ArgKind::None, false, |_| K::Path(&[
                "requestObject",
                "spec",
                "securityContext",
                "runAsGroup"
            ])),
            "ka.req.pod.fs_group" => f!(ArgKind::None, false, |_| K::Path(&[
                "requestObject",
                "spec",
                "securityContext",
                "fsGroup"
            ])),
            "ka.req.pod.supplemental_groups" => {
                f!(ArgKind::None, true, |_| K::PathList(&[
                    "requestObject",
                    "spec",
                    "securityContext",
                    "supplementalGroups"
                ]))
            }
            "ka.req.role.rules" => f!(ArgKind::None, true, |_| K::PathList(&[
                "requestObject",
                "rules"
            ])),
            "ka.req.role.rules.apiGroups" => f!(ArgKind::Index, true, |a| K::RoleRules {
                key: "apiGroups",
                index: idx(a)
            }),
            "ka.req.role.rules.nonResourceURLs" => f!(ArgKind::Index, true, |a| K::RoleRules {
                key: "nonResourceURLs",
                index: idx(a)
            }),
            "ka.req.role.rules.verbs" => f!(ArgKind::Index, true, |a| K::RoleRules {
                key: "verbs",
                index: idx(a)
            }),
            "ka.req.role.rules.resources" => f!(ArgKind::Index, true, |a| K::RoleRules {
                key: "resources",
                index: idx(a)
            }),
            "ka.req.service.type" => f!(ArgKind::None, false, |_| K::Path(&[
                "requestObject",
                "spec",
                "type"
            ])),
            "ka.req.service.ports" => f!(ArgKind::Index, true, |a| K::Recursive {
                keys: &["requestObject", "spec", "ports"],
                index: idx(a)
            }),
            "ka.req.pod.volumes.hostpath" => {
                f!(ArgKind::Index, true, |a| K::Recursive {
                    keys: &["requestObject", "spec", "volumes", "hostPath", "path"],
                    index: idx(a)
                })
            }
            "ka.req.volume.hostpath" => f!(ArgKind::Key, false, |a| K::VolumeHostpathMatch(key(a))),
            "ka.req.pod.volumes.flexvolume_driver" => {
                f!(ArgKind::Index, true, |a| K::Recursive {
                    keys: &["requestObject", "spec", "volumes", "flexVolume", "driver"],
                    index: idx(a)
                })
            }
            "ka.req.pod.volumes.volume_type" => {
                f!(ArgKind::Index, true, |a| K::VolumeTypes(idx(a)))
            }
            "ka.resp.name" => f!(ArgKind::None, false, |_| K::Path(&[
                "responseObject",
                "metadata",
                "name"
            ])),
            "ka.response.code" => f!(ArgKind::None, false, |_| K::Path(&[
                "responseStatus",
                "code"
            ])),
            "ka.response.reason" => f!(ArgKind::None, false, |_| K::Path(&[
                "responseStatus",
                "reason"
            ])),
            "ka.useragent" => f!(ArgKind::None, false, |_| K::Path(&["userAgent"])),
            "ka.sourceips" => f!(ArgKind::Index, true, |a| K::SourceIps(idx(a))),
            "ka.cluster.name" => f!(ArgKind::None, false, |_| K::Path(&[
                "annotations",
                "cluster_name"
            ])),
            "jevt.value" | "json.value" => {
                f!(ArgKind::Key, false, |a| K::JsonValue(pointer_keys(&key(a))))
            }
            "jevt.obj" | "json.obj" => f!(ArgKind::None, false, |_| K::JsonObj),
            "jevt.rawtime" | "json.rawtime" => f!(ArgKind::None, false, |_| K::RawTime),
            "evt.time" => f!(ArgKind::None, false, |_| K::EvtTime),
            "evt.rawtime" => f!(ArgKind::None, false, |_| K::RawTime),
            "evt.source" => f!(ArgKind::None, false, |_| K::EvtSource),
            _ => None,
        }
    }
}

fn container_field(name: &str, arg: &FieldArg) -> Option<KField> {
    let rest = name.strip_prefix("ka.req.pod.")?;
    for list in CONTAINER_LISTS {
        if let Some(what) = rest.strip_prefix(list).and_then(|r| r.strip_prefix('.')) {
            let what = container_what(what)?;
            if what == CWhat::HostPort && list == "ephemeralContainers" {
                return None;
            }
            let index = match arg {
                FieldArg::Index(i) => Some(usize::try_from(*i).unwrap_or(usize::MAX)),
                _ => None,
            };
            return Some(KField::Container { list, what, index });
        }
    }
    None
}

impl FieldSource for K8sAudit {
    type Event = AuditEvent;
    type Field = KField;

    fn source_name(&self) -> &'static str {
        "k8s_audit"
    }

    fn resolve(&self, name: &str, arg: &FieldArg) -> Result<(KField, FieldType), FieldError> {
        let bad = |problem: &str| FieldError::BadArgument {
            field: name.to_string(),
            problem: problem.to_string(),
        };
        if let Some(f) = container_field(name, arg) {
            if matches!(arg, FieldArg::Key(_)) {
                return Err(bad("takes a numeric index"));
            }
            return Ok((f, FieldType::Str));
        }
        let (kind, _list, mk) =
            Self::lookup(name).ok_or_else(|| FieldError::Unknown(name.to_string()))?;
        match (kind, arg) {
            (ArgKind::None, FieldArg::None)
            | (ArgKind::Index, FieldArg::None)
            | (ArgKind::Index, FieldArg::Index(_)) => {}
            (ArgKind::Key, FieldArg::Key(_)) | (ArgKind::Key, FieldArg::Index(_)) => {}
            (ArgKind::None, _) => return Err(bad("takes no argument")),
            (ArgKind::Index, _) => return Err(bad("takes a numeric index")),
            (ArgKind::Key, FieldArg::None) => return Err(bad("requires an argument")),
        }
        let f = mk(arg);
        let ty = if matches!(f, KField::RawTime) && name.starts_with("evt.") {
            FieldType::Uint
        } else {
            FieldType::Str
        };
        Ok((f, ty))
    }

    fn is_list(&self, field: &KField) -> bool {
        !matches!(
            field,
            KField::Path(_)
                | KField::UriParam(_)
                | KField::TargetPodName
                | KField::BindingHasName
                | KField::ContainerImage0
                | KField::ContainerRepo0
                | KField::AnyPrivileged
                | KField::VolumeHostpathMatch(_)
                | KField::JsonValue(_)
                | KField::JsonObj
                | KField::RawTime
                | KField::EvtTime
                | KField::EvtSource
        )
    }

    fn extract<'e>(&'e self, ev: &'e AuditEvent, field: &KField, out: &mut Vec<Value<'e>>) {
        let d: &'e Doc = &ev.doc;
        let s = |b: Cow<'e, [u8]>| Value::Str(b);
        match field {
            KField::JsonValue(keys) => {
                let n = match keys.split_first() {
                    None => Some(ev.root),
                    Some((k, rest)) => ev
                        .get(k)
                        .and_then(|n| rest.iter().try_fold(n, |n, k| d.step(n, k))),
                };
                if let Some(n) = n {
                    out.push(s(d.text(n)));
                }
                return;
            }
            KField::JsonObj => {
                let mut buf = Vec::new();
                d.write_indented(ev.root, 0, &mut buf);
                out.push(Value::Str(Cow::Owned(buf)));
                return;
            }
            KField::RawTime => {
                out.push(Value::Str(Cow::Owned(ev.time_ns.to_string().into_bytes())));
                return;
            }
            KField::EvtTime => {
                let t =
                    jiff::Timestamp::from_nanosecond(i128::from(ev.time_ns)).unwrap_or_default();
                out.push(Value::Str(Cow::Owned(format!("{t:.9}").into_bytes())));
                return;
            }
            KField::EvtSource => {
                out.push(Value::Str(Cow::Borrowed(b"k8s_audit")));
                return;
            }
            _ => {}
        }
        // The ka.* fields: only on audit events.
        if ev.top[AUDIT_ID] == NONE {
            return;
        }
        match field {
            KField::Path(keys) => {
                if let Some(n) = ev.path(keys) {
                    out.push(s(d.text(n)));
                }
            }
            KField::PathList(keys) => {
                if let Some(n) = ev.path(keys).filter(|&n| d.kind(n) == Kind::Array) {
                    out.extend(d.children(n).map(|c| s(d.text(c))));
                }
            }
            KField::UriParam(k) => {
                if let Some(n) = ev.get("requestURI") {
                    let uri = d.text(n);
                    if let Some(v) = query_param(&uri, k) {
                        out.push(Value::Str(Cow::Owned(v)));
                    }
                }
            }
            KField::TargetPodName => {
                let res = ev.path(&["objectRef", "resource"]).map(|n| d.str(n));
                let sub = ev.path(&["objectRef", "subresource"]).map(|n| d.str(n));
                if res.as_deref() == Some(b"pods".as_slice())
                    && sub.as_deref().is_none_or(|s| s.is_empty())
                    && let Some(n) = ev.path(&["responseObject", "metadata", "name"])
                {
                    out.push(s(d.text(n)));
                }
            }
            KField::SubjectNames(kind) => {
                let Some(subs) = ev.path(&["requestObject", "subjects"]) else {
                    return;
                };
                if d.kind(subs) != Kind::Array {
                    return;
                }
                let (want, ns) = if *kind == "NamespacedServiceAccount" {
                    ("ServiceAccount", true)
                } else {
                    (*kind, false)
                };
                for sub in d.children(subs) {
                    let (Some(k), Some(nm)) = (d.get(sub, "kind"), d.get(sub, "name")) else {
                        continue;
                    };
                    if d.text(k).as_ref() != want.as_bytes() {
                        continue;
                    }
                    let name = d.text(nm);
                    if ns {
                        let Some(nsn) = d.get(sub, "namespace") else {
                            continue;
                        };
                        let mut v = d.text(nsn).into_owned();
                        v.push(b':');
                        v.extend_from_slice(&name);
                        out.push(Value::Str(Cow::Owned(v)));
                    } else {
                        out.push(s(name));
                    }
                }
            }
            KField::BindingHasName => out.push(Value::Str(Cow::Borrowed(b"true"))),
            KField::ContainerImage0 | KField::ContainerRepo0 => {
                let mut vals = Vec::new();
                rec(
                    ev,
                    Some(0),
                    &["requestObject", "spec", "containers", "image"],
                    &mut vals,
                );
                if let Some(Some(n)) = vals.first() {
                    let img = d.text(*n);
                    out.push(if matches!(field, KField::ContainerRepo0) {
                        repository(img)
                    } else {
                        s(img)
                    });
                }
            }
            KField::AnyPrivileged => {
                let mut vals = Vec::new();
                if !rec(
                    ev,
                    None,
                    &[
                        "requestObject",
                        "spec",
                        "containers",
                        "securityContext",
                        "privileged",
                    ],
                    &mut vals,
                ) {
                    return;
                }
                let any = vals.iter().flatten().any(|&n| d.kind(n) == Kind::True);
                out.push(Value::Str(Cow::Borrowed(if any {
                    b"true"
                } else {
                    b"false"
                })));
            }
            KField::Container { list, what, index } => container(ev, list, *what, *index, out),
            KField::RoleRules { key, index } => {
                let mut vals = Vec::new();
                if rec(ev, *index, &["requestObject", "rules", key], &mut vals) {
                    for n in vals.into_iter().flatten() {
                        if d.kind(n) == Kind::Array {
                            out.extend(d.children(n).map(|c| s(d.text(c))));
                        }
                    }
                }
            }
            KField::Recursive { keys, index } => {
                let mut vals = Vec::new();
                if rec(ev, *index, keys, &mut vals) {
                    out.extend(vals.into_iter().flatten().map(|n| s(d.text(n))));
                }
            }
            KField::VolumeHostpathMatch(arg) => {
                let mut vals = Vec::new();
                if !rec(
                    ev,
                    None,
                    &["requestObject", "spec", "volumes", "hostPath", "path"],
                    &mut vals,
                ) {
                    return;
                }
                let (prefix, is_prefix) = match arg.strip_suffix('*') {
                    Some(p) => (p, true),
                    None => (arg.as_str(), false),
                };
                let hit = vals.into_iter().flatten().any(|n| {
                    let v = d.text(n);
                    (is_prefix && v.starts_with(prefix.as_bytes())) || v.as_ref() == arg.as_bytes()
                });
                out.push(Value::Str(Cow::Borrowed(if hit {
                    b"true"
                } else {
                    b"false"
                })));
            }
            KField::VolumeTypes(index) => {
                let mut vals = Vec::new();
                if rec(ev, *index, &["requestObject", "spec", "volumes"], &mut vals) {
                    for n in vals.into_iter().flatten() {
                        let vols: Vec<usize> = if d.kind(n) == Kind::Array {
                            d.children(n).collect()
                        } else {
                            vec![n]
                        };
                        for v in vols {
                            for (k, _) in d.members(v) {
                                let key = d.str(k);
                                if key.as_ref() != b"name" {
                                    out.push(s(key));
                                }
                            }
                        }
                    }
                }
            }
            KField::SourceIps(index) => {
                if let Some(n) = ev.get("sourceIPs").filter(|&n| d.kind(n) == Kind::Array) {
                    match index {
                        Some(i) => {
                            if let Some(c) = d.index(n, *i) {
                                out.push(s(d.text(c)));
                            }
                        }
                        None => out.extend(d.children(n).map(|c| s(d.text(c)))),
                    }
                }
            }
            KField::JsonValue(_)
            | KField::JsonObj
            | KField::RawTime
            | KField::EvtTime
            | KField::EvtSource => {}
        }
    }
}

/// The keys of a JSON pointer ([`Doc::pointer`]'s reading: the leading `/` optional, `~1`
/// and `~0` unescaped); none for the empty pointer (the whole document).
fn pointer_keys(ptr: &str) -> Vec<String> {
    if ptr.is_empty() {
        return Vec::new();
    }
    let p = ptr.strip_prefix('/').unwrap_or(ptr);
    p.split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// [`recursive`] from the event's object.
fn rec(ev: &AuditEvent, index: Option<usize>, keys: &[&str], out: &mut Vec<Option<usize>>) -> bool {
    match keys.split_first() {
        None => {
            out.push(Some(ev.root));
            true
        }
        Some((k, rest)) => match ev.get(k) {
            Some(n) => recursive(&ev.doc, n, index, rest, out),
            None => false,
        },
    }
}

/// The plugin's `getValuesRecursive`: follows `keys`; at an array, either takes element
/// `index` or (no index) continues in every element, recording `None` where an element
/// lacks the rest of the path. False when the path is missing outside arrays.
fn recursive(
    d: &Doc,
    mut n: usize,
    index: Option<usize>,
    keys: &[&str],
    out: &mut Vec<Option<usize>>,
) -> bool {
    for (i, k) in keys.iter().enumerate() {
        if d.kind(n) == Kind::Array {
            match index {
                None => {
                    for c in d.children(n) {
                        let mut sub = Vec::new();
                        if recursive(d, c, index, &keys[i..], &mut sub) {
                            out.extend(sub);
                        } else {
                            out.push(None);
                        }
                    }
                    return true;
                }
                Some(ix) => match d.index(n, ix) {
                    Some(c) => n = c,
                    None => return false,
                },
            }
        }
        match d.get(n, k) {
            Some(c) => n = c,
            None => return false,
        }
    }
    out.push(Some(n));
    true
}

/// `image` without its tag and digest (the plugin splits at the first `:`, then `@`).
fn repository(img: Cow<'_, [u8]>) -> Value<'_> {
    let cut = img.iter().position(|&c| c == b':').unwrap_or(img.len());
    let cut = img[..cut].iter().position(|&c| c == b'@').unwrap_or(cut);
    match img {
        Cow::Borrowed(b) => Value::Str(Cow::Borrowed(&b[..cut])),
        Cow::Owned(mut v) => {
            v.truncate(cut);
            Value::Str(Cow::Owned(v))
        }
    }
}

fn container<'e>(
    ev: &'e AuditEvent,
    list: &str,
    what: CWhat,
    index: Option<usize>,
    out: &mut Vec<Value<'e>>,
) {
    let d: &'e Doc = &ev.doc;
    let base = ["requestObject", "spec", list];
    let mut vals = Vec::new();
    let path = |sub: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(sub.iter().copied()).collect()
    };
    match what {
        CWhat::Name | CWhat::Image | CWhat::Repository => {
            let key = if what == CWhat::Name { "name" } else { "image" };
            if !rec(ev, index, &path(&[key]), &mut vals) {
                return;
            }
            // A container without the key fails the whole extraction (the plugin's
            // arrayAsStrings).
            if vals.iter().any(Option::is_none) {
                return;
            }
            for n in vals.into_iter().flatten() {
                let t = d.text(n);
                out.push(if what == CWhat::Repository {
                    repository(t)
                } else {
                    Value::Str(t)
                });
            }
        }
        CWhat::Command | CWhat::Args => {
            let key = if what == CWhat::Command {
                "command"
            } else {
                "args"
            };
            if !rec(ev, index, &path(&[key]), &mut vals) {
                return;
            }
            let mut res = Vec::new();
            for n in vals.into_iter().flatten() {
                if d.kind(n) != Kind::Array {
                    return;
                }
                let mut joined = Vec::new();
                for (i, c) in d.children(n).enumerate() {
                    if !matches!(d.kind(c), Kind::Str(_)) {
                        return;
                    }
                    if i > 0 {
                        joined.push(b' ');
                    }
                    joined.extend_from_slice(&d.str(c));
                }
                res.push(Value::Str(Cow::Owned(joined)));
            }
            out.extend(res);
        }
        CWhat::HostPort => {
            if !rec(ev, index, &path(&["ports"]), &mut vals) {
                return;
            }
            let mut res = Vec::new();
            for n in vals.into_iter().flatten() {
                if d.kind(n) != Kind::Array {
                    return;
                }
                for p in d.children(n) {
                    if let Some(h) = d.get(p, "hostPort").or_else(|| d.get(p, "containerPort")) {
                        res.push(Value::Str(d.text(h)));
                    }
                }
            }
            out.extend(res);
        }
        CWhat::Sub(sub) => {
            if rec(ev, index, &path(sub), &mut vals) {
                out.extend(vals.into_iter().flatten().map(|n| Value::Str(d.text(n))));
            }
        }
        CWhat::EffRunAsUser | CWhat::EffRunAsGroup => {
            let key = if what == CWhat::EffRunAsUser {
                "runAsUser"
            } else {
                "runAsGroup"
            };
            let pod: Cow<[u8]> = match ev.path(&["requestObject", "spec", key]) {
                Some(n) => d.text(n),
                None => Cow::Borrowed(b"0"),
            };
            if !rec(ev, index, &path(&[key]), &mut vals) {
                return;
            }
            for v in vals {
                out.push(Value::Str(match v {
                    Some(n) => d.text(n),
                    None => pod.clone(),
                }));
            }
        }
    }
}

/// The first value of query parameter `key` in `uri`, percent-decoded.
fn query_param(uri: &[u8], key: &str) -> Option<Vec<u8>> {
    let q = uri.iter().position(|&c| c == b'?')?;
    let query = &uri[q + 1..];
    let query = &query[..query.iter().position(|&c| c == b'#').unwrap_or(query.len())];
    for pair in query.split(|&c| c == b'&' || c == b';') {
        let (k, v) = match pair.iter().position(|&c| c == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        if percent_decode(k) == key.as_bytes() {
            return Some(percent_decode(v));
        }
    }
    None
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                let hex = std::str::from_utf8(&s[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::render_values;

    const EV: &str = r#"{"kind":"Event","auditID":"x1","stage":"ResponseComplete","verb":"create",
      "requestURI":"/api/v1/namespaces/d/pods/p/exec?command=sh&command=-c&stdin=true&container=a%20b",
      "user":{"username":"alice","groups":["g1","g2"]},"sourceIPs":["10.0.0.1","::1"],
      "objectRef":{"resource":"pods","namespace":"d","name":"p"},"responseStatus":{"code":201},
      "annotations":{"authorization.k8s.io/decision":"allow"},
      "requestObject":{"subjects":[{"kind":"User","name":"u1"},{"kind":"ServiceAccount","name":"sa","namespace":"kube-system"},{"kind":"Group","name":"grp"}],
        "roleRef":{"name":"cluster-admin"},
        "spec":{"runAsUser":7,"hostNetwork":true,
          "containers":[{"name":"a","image":"reg:5000/app@sha256:ab","command":["sh","-c"],"runAsUser":9,"ports":[{"containerPort":80},{"hostPort":8080}],"securityContext":{"privileged":true}},
                        {"name":"b","image":"nginx:1.25","args":["x"],"securityContext":{"capabilities":{"add":["NET_ADMIN"]}}}],
          "volumes":[{"name":"v","hostPath":{"path":"/var/run/docker.sock"}},{"name":"w","emptyDir":{}}]}},
      "responseObject":{"metadata":{"name":"p"}},"stageTimestamp":"2024-05-01T10:00:00.5Z"}"#;

    fn get(name: &str, arg: FieldArg) -> Option<String> {
        let src = K8sAudit;
        let ev = AuditEvent::from_doc(Doc::parse(EV.as_bytes().to_vec()).unwrap()).unwrap();
        let (f, _) = src.resolve(name, &arg).unwrap();
        let mut out = Vec::new();
        src.extract(&ev, &f, &mut out);
        render_values(&out)
    }

    fn key(k: &str) -> FieldArg {
        FieldArg::Key(k.into())
    }

    #[test]
    fn timestamps_read_like_jiff() {
        let jiff_ns = |t: &str| -> Option<i64> {
            t.parse::<jiff::Timestamp>()
                .ok()
                .and_then(|t| i64::try_from(t.as_nanosecond()).ok())
        };
        let mut cases: Vec<String> = vec![
            "2018-10-25T13:58:49.736141Z".into(),
            "1970-01-01T00:00:00Z".into(),
            "1969-12-31T23:59:59.999999999Z".into(),
            "0001-01-01T00:00:00Z".into(),
            "9999-12-31T23:59:59.999999999Z".into(),
            "2024-02-29T12:00:00.5Z".into(),
            "2023-02-29T12:00:00Z".into(),
            "2100-02-29T12:00:00Z".into(),
            "2000-02-29T12:00:00Z".into(),
            "2024-04-31T00:00:00Z".into(),
            "2024-13-01T00:00:00Z".into(),
            "2024-00-01T00:00:00Z".into(),
            "2024-01-00T00:00:00Z".into(),
            "2024-01-01T24:00:00Z".into(),
            "2024-01-01T23:60:00Z".into(),
            "2024-01-01T23:59:60Z".into(),
            "2024-01-01T23:59:59.Z".into(),
            "2024-01-01T23:59:59.1234567890Z".into(),
            "2024-01-01t23:59:59z".into(),
            "2024-01-01 23:59:59Z".into(),
            "2024-01-01T23:59:59+01:00".into(),
            "2024-01-01T23:59:59,5Z".into(),
            "0000-01-01T00:00:00Z".into(),
            "+002024-01-01T00:00:00Z".into(),
            "2024-1-01T00:00:00Z".into(),
        ];
        // Every day of some years, at varied times and fractions.
        for y in [
            1600, 1899, 1900, 1969, 1970, 1999, 2000, 2018, 2024, 2100, 2400,
        ] {
            for m in 1..=12 {
                for d in 1..=31 {
                    let digits = (d % 10) as usize;
                    let frac = if digits == 0 {
                        String::new()
                    } else {
                        format!(".{}", &"987654321"[..digits])
                    };
                    cases.push(format!(
                        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z",
                        (d * 7) % 24,
                        (d * 13) % 60,
                        (m * 5 + d) % 60
                    ));
                }
            }
        }
        let mut taken = 0;
        for c in &cases {
            if let Some(ns) = utc_nanos(c.as_bytes()) {
                assert_eq!(Some(ns), jiff_ns(c), "{c}");
                taken += 1;
            }
        }
        // Five of the fixed cases, and the valid days of the nine years in i64's range
        // (1600 and 2400 are not; 2000 and 2024 are leap years).
        assert_eq!(taken, 5 + 9 * 365 + 2, "{taken}");
        // The fast path takes the API server's shapes.
        assert_eq!(
            utc_nanos(b"2018-10-25T13:58:49.736141Z"),
            jiff_ns("2018-10-25T13:58:49.736141Z")
        );
        assert_eq!(utc_nanos(b"1970-01-01T00:00:00Z"), Some(0));
        assert!(utc_nanos(b"2024-01-01T23:59:60Z").is_none());
    }

    #[test]
    fn lines_read_like_read_until() {
        let data = b"ab\n\ncdefgh\nij\r\n\nklmnopqrstuvwxyz0123456789 no newline at the end";
        for cap in [1, 2, 3, 7, 64] {
            let mut a = std::io::BufReader::with_capacity(cap, &data[..]);
            let mut b = std::io::BufReader::with_capacity(cap, &data[..]);
            loop {
                let (mut x, mut y) = (b"pre".to_vec(), b"pre".to_vec());
                let n = read_line(&mut a, &mut x).unwrap();
                let m = b.read_until(b'\n', &mut y).unwrap();
                assert_eq!((n, &x), (m, &y), "{cap}");
                if n == 0 {
                    break;
                }
            }
        }
    }

    #[test]
    fn top_keys_have_their_slots() {
        for (i, k) in TOP.iter().enumerate() {
            assert_eq!(top_slot(k.as_bytes()), Some(i), "{k}");
        }
        for k in [
            "",
            "users",
            "responseStatu",
            "responseObjecT",
            "stageTimestampX",
            "kinds",
        ] {
            assert_eq!(top_slot(k.as_bytes()), None, "{k}");
        }
    }

    #[test]
    fn batch_items_read_as_their_own_documents() {
        // An EventList's items and an array's elements share the payload's tape: each
        // field reads the same as on the event parsed alone.
        let other = r#"{"kind":"Event","auditID":"o","verb":"get","stageTimestamp":"2024-01-01T00:00:00Z"}"#;
        let list = format!(r#"{{"kind":"EventList","items":[{other},{EV}]}}"#);
        let arr = format!("[{other},{EV}]");
        let alone = AuditEvent::from_doc(Doc::parse(EV.as_bytes().to_vec()).unwrap()).unwrap();
        let src = K8sAudit;
        let fields: Vec<(&str, FieldArg)> = vec![
            ("ka.auditid", FieldArg::None),
            ("ka.verb", FieldArg::None),
            ("ka.user.name", FieldArg::None),
            ("ka.user.groups", FieldArg::None),
            ("ka.uri.param", key("command")),
            ("ka.target.pod.name", FieldArg::None),
            ("ka.req.pod.containers.image", FieldArg::None),
            ("ka.req.pod.volumes.hostpath", FieldArg::None),
            (
                "ka.req.binding.subjects.serviceaccount_ns_names",
                FieldArg::None,
            ),
            ("jevt.value", key("/objectRef/resource")),
            ("jevt.value", key("/user")),
            ("jevt.value", key("")),
            ("jevt.obj", FieldArg::None),
            ("jevt.rawtime", FieldArg::None),
        ];
        for text in [list, arr] {
            let evs = events_of(Doc::parse(text.into_bytes()).unwrap()).unwrap();
            assert_eq!(evs.len(), 2);
            let ev = evs[1].as_ref().unwrap();
            assert!(ev.root > 0);
            assert_eq!(ev.time_ns, alone.time_ns);
            for (name, arg) in &fields {
                let (f, _) = src.resolve(name, arg).unwrap();
                let (mut a, mut b) = (Vec::new(), Vec::new());
                src.extract(ev, &f, &mut a);
                src.extract(&alone, &f, &mut b);
                assert!(!b.is_empty(), "{name}");
                assert_eq!(render_values(&a), render_values(&b), "{name}");
            }
            let (f, _) = src.resolve("ka.verb", &FieldArg::None).unwrap();
            let mut a = Vec::new();
            src.extract(evs[0].as_ref().unwrap(), &f, &mut a);
            assert_eq!(render_values(&a).as_deref(), Some("get"));
        }
    }

    #[test]
    fn plugin_field_values() {
        let n = FieldArg::None;
        assert_eq!(get("ka.user.name", n.clone()).as_deref(), Some("alice"));
        assert_eq!(get("ka.user.groups", n.clone()).as_deref(), Some("(g1,g2)"));
        assert_eq!(get("ka.response.code", n.clone()).as_deref(), Some("201"));
        assert_eq!(get("ka.uri.param", key("command")).as_deref(), Some("sh"));
        assert_eq!(
            get("ka.uri.param", key("container")).as_deref(),
            Some("a b")
        );
        assert_eq!(get("ka.uri.param", key("nope")), None);
        assert_eq!(get("ka.target.pod.name", n.clone()).as_deref(), Some("p"));
        assert_eq!(
            get("ka.req.binding.subjects.user_names", n.clone()).as_deref(),
            Some("u1")
        );
        assert_eq!(
            get("ka.req.binding.subjects.serviceaccount_ns_names", n.clone()).as_deref(),
            Some("kube-system:sa")
        );
        assert_eq!(
            get("ka.req.binding.role", n.clone()).as_deref(),
            Some("cluster-admin")
        );
        assert_eq!(
            get("ka.req.pod.containers.image", n.clone()).as_deref(),
            Some("(reg:5000/app@sha256:ab,nginx:1.25)")
        );
        assert_eq!(
            get("ka.req.pod.containers.image", FieldArg::Index(1)).as_deref(),
            Some("nginx:1.25")
        );
        assert_eq!(
            get("ka.req.pod.containers.image.repository", n.clone()).as_deref(),
            Some("(reg,nginx)")
        );
        assert_eq!(
            get("ka.req.container.image.repository", n.clone()).as_deref(),
            Some("reg")
        );
        assert_eq!(
            get("ka.req.pod.containers.privileged", n.clone()).as_deref(),
            Some("true")
        );
        assert_eq!(
            get("ka.req.container.privileged", n.clone()).as_deref(),
            Some("true")
        );
        assert_eq!(
            get("ka.req.pod.containers.command", n.clone()).as_deref(),
            Some("sh -c")
        );
        assert_eq!(
            get("ka.req.pod.containers.host_port", n.clone()).as_deref(),
            Some("(80,8080)")
        );
        assert_eq!(
            get("ka.req.pod.containers.add_capabilities", n.clone()).as_deref(),
            Some("[\"NET_ADMIN\"]")
        );
        assert_eq!(
            get("ka.req.pod.containers.eff_run_as_user", n.clone()).as_deref(),
            Some("(9,7)")
        );
        assert_eq!(get("ka.req.pod.initContainers.image", n.clone()), None);
        assert_eq!(
            get("ka.req.pod.host_network", n.clone()).as_deref(),
            Some("true")
        );
        assert_eq!(
            get("ka.req.pod.volumes.hostpath", n.clone()).as_deref(),
            Some("/var/run/docker.sock")
        );
        assert_eq!(
            get("ka.req.volume.hostpath", key("/var/run/*")).as_deref(),
            Some("true")
        );
        assert_eq!(
            get("ka.req.volume.hostpath", key("/etc")).as_deref(),
            Some("false")
        );
        assert_eq!(
            get("ka.req.pod.volumes.volume_type", n.clone()).as_deref(),
            Some("(hostPath,emptyDir)")
        );
        assert_eq!(
            get("ka.sourceips", n.clone()).as_deref(),
            Some("(10.0.0.1,::1)")
        );
        assert_eq!(
            get(
                "jevt.value",
                key("/annotations/authorization.k8s.io~1decision")
            )
            .as_deref(),
            Some("allow")
        );
        assert_eq!(
            get("jevt.value", key("/requestObject/spec/containers/1/args")).as_deref(),
            Some("[\"x\"]")
        );
        assert_eq!(
            get("jevt.rawtime", n.clone()).as_deref(),
            Some("1714557600500000000")
        );
        assert_eq!(
            get("evt.time", n.clone()).as_deref(),
            Some("2024-05-01T10:00:00.500000000Z")
        );
        assert!(
            get("jevt.obj", n)
                .unwrap()
                .starts_with("{\n  \"kind\": \"Event\",\n  \"auditID\": \"x1\",")
        );
    }

    #[test]
    fn fields_and_arguments_resolve_like_the_plugin() {
        let s = K8sAudit;
        assert!(matches!(
            s.resolve("ka.nope", &FieldArg::None),
            Err(FieldError::Unknown(_))
        ));
        assert!(s.resolve("ka.uri.param", &FieldArg::None).is_err());
        assert!(s.resolve("ka.verb", &FieldArg::Index(0)).is_err());
        assert!(
            s.resolve("ka.req.pod.containers.image", &FieldArg::Key("x".into()))
                .is_err()
        );
        assert!(
            s.resolve("ka.req.pod.ephemeralContainers.host_port", &FieldArg::None)
                .is_err()
        );
        let (f, _) = s
            .resolve("ka.req.pod.containers.image", &FieldArg::None)
            .unwrap();
        assert!(s.is_list(&f));
        let (f, _) = s.resolve("ka.verb", &FieldArg::None).unwrap();
        assert!(!s.is_list(&f));
    }

    #[test]
    fn reader_payload_shapes() {
        let one = r#"{"kind":"Event","auditID":"a","stageTimestamp":"2024-01-01T00:00:00Z"}"#;
        let input = format!(
            "{one}\n\n[{one},{one}]\n{{\"kind\":\"EventList\",\n \"items\":[{one},\n {{\"kind\":\"Event\"}}]}}\nnope\n{{\"kind\":\"Other\"}}\n{{\"kind\":"
        );
        let mut r = AuditReader::new(input.as_bytes());
        let mut got = Vec::new();
        while let Some(p) = r.next_payload().unwrap() {
            got.push(match p {
                Ok(evs) => evs
                    .iter()
                    .map(|e| if e.is_ok() { "E" } else { "x" })
                    .collect::<String>(),
                Err(e) => format!("err@{}", e.line),
            });
        }
        assert_eq!(got, vec!["E", "EE", "Ex", "err@7", "err@8", "err@9"]);
    }
}
