//! [`LiveSource`]: live process events as a rule engine [`FieldSource`].

use super::{Kind, Proc, ProcEvent};
use crate::engine::Engine;
use crate::field::{FieldArg, FieldError, FieldSource, FieldType, Value};
use std::borrow::Cow;

/// Event-type codes: `execve` (exit direction) and `procexit`.
pub const EXECVE: u16 = 1;
pub const PROCEXIT: u16 = 2;
/// The code every other syscall event type maps to: no live event has it, so a rule that
/// allows only such types never fires ([`unseen_rules`] names them).
pub const UNSEEN: u16 = u16::MAX;

/// Which process of the event a field reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The process itself.
    This,
    /// The parent (`proc.pname`, ...).
    Parent,
    /// `proc.aname[N]` and friends: the Nth ancestor (0 is the process), or all ancestors.
    Ancestor(Option<u32>),
}

/// What a field shows of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Name,
    Exe,
    Exepath,
    Cmdline,
    Pid,
}

/// A resolved field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveField {
    EvtType,
    EvtDir,
    EvtNum,
    EvtTime,
    Proc(Who, What),
    ProcArgs,
    ProcCwd,
    ProcPpid,
    ProcVpid,
    ThreadTid,
    UserUid,
    UserName,
    GroupGid,
    ContainerId,
    ContainerName,
    ContainerImage,
    ContainerImageRepository,
    ContainerImageTag,
    ContainerImageDigest,
    K8sPodName,
    K8sNsName,
}

type Known = Box<dyn Fn(&str, &FieldArg) -> bool + Send + Sync>;
type KnownEvent = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// Live process events as the rules see them (`source: syscall`).
#[derive(Default)]
pub struct LiveSource {
    known_field: Option<Known>,
    known_event: Option<KnownEvent>,
    metadata: bool,
}

impl LiveSource {
    /// The fields this source fills (and `proc.aname`, `proc.aexe`, `proc.aexepath`,
    /// `proc.acmdline`, `proc.apid` with or without `[N]`).
    pub const FIELDS: &'static [&'static str] = &[
        "evt.type",
        "evt.dir",
        "evt.num",
        "evt.time",
        "evt.rawtime",
        "proc.name",
        "proc.exe",
        "proc.exepath",
        "proc.cmdline",
        "proc.args",
        "proc.cwd",
        "proc.pid",
        "proc.ppid",
        "proc.vpid",
        "proc.pname",
        "proc.pexe",
        "proc.pexepath",
        "proc.pcmdline",
        "thread.tid",
        "user.uid",
        "user.name",
        "group.gid",
        "container.id",
    ];

    /// The fields a container runtime's socket or a pod list fills (with
    /// [`LiveSource::with_container_metadata`]); the digest, pod and namespace have a value
    /// when the source says (a pod list, CRI-O, a Docker container's Kubernetes labels).
    pub const METADATA_FIELDS: &'static [&'static str] = &[
        "container.name",
        "container.image",
        "container.image.repository",
        "container.image.tag",
        "container.image.digest",
        "k8s.pod.name",
        "k8s.ns.name",
    ];

    /// Offers [`LiveSource::METADATA_FIELDS`]: the watcher asks a runtime socket.
    pub fn with_container_metadata(mut self) -> Self {
        self.metadata = true;
        self
    }

    /// Tells the source which field names exist in the full syscall source: a rule naming
    /// one of those that this source cannot fill is skipped with a warning; any other
    /// unknown name is a load error (a typo). Without it every unknown name is skipped.
    pub fn with_known_fields(
        mut self,
        f: impl Fn(&str, &FieldArg) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.known_field = Some(Box::new(f));
        self
    }

    /// Tells the source which `evt.type` names exist: others are load errors.
    pub fn with_known_events(mut self, f: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.known_event = Some(Box::new(f));
        self
    }
}

/// The rules of `engine` whose `evt.type` allows only event types live sources never
/// produce (`open`, `connect`, ...): they load but cannot fire.
pub fn unseen_rules(engine: &Engine<LiveSource>) -> Vec<&str> {
    engine
        .rules()
        .iter()
        .filter(|r| {
            r.evttypes
                .as_ref()
                .is_some_and(|t| !t.contains(&EXECVE) && !t.contains(&PROCEXIT))
        })
        .map(|r| r.name.as_str())
        .collect()
}

fn who_of(ev: &ProcEvent, who: Who) -> Option<&Proc> {
    match who {
        Who::This => Some(&ev.proc),
        Who::Parent => ev.ancestors.first(),
        Who::Ancestor(Some(0)) => Some(&ev.proc),
        Who::Ancestor(Some(n)) => ev.ancestors.get(n as usize - 1),
        Who::Ancestor(None) => None,
    }
}

fn push_str<'e>(out: &mut Vec<Value<'e>>, v: &'e [u8]) {
    if !v.is_empty() {
        out.push(Value::Str(Cow::Borrowed(v)));
    }
}

fn one<'e>(p: &'e Proc, what: What, out: &mut Vec<Value<'e>>) {
    match what {
        What::Name => push_str(out, &p.comm),
        What::Exe => push_str(out, &p.exe),
        What::Exepath => push_str(out, &p.exepath),
        What::Cmdline => {
            if !p.comm.is_empty() {
                out.push(Value::Str(Cow::Owned(p.cmdline())));
            }
        }
        What::Pid => out.push(Value::Int(p.pid)),
    }
}

impl FieldSource for LiveSource {
    type Event = ProcEvent;
    type Field = LiveField;

    fn source_name(&self) -> &'static str {
        "syscall"
    }

    fn resolve(&self, name: &str, arg: &FieldArg) -> Result<(LiveField, FieldType), FieldError> {
        use FieldType as T;
        use LiveField as F;
        let bad = |problem: &str| FieldError::BadArgument {
            field: name.to_string(),
            problem: problem.to_string(),
        };
        let ancestor = |what: What| -> Result<(LiveField, FieldType), FieldError> {
            let n = match arg {
                FieldArg::None => None,
                FieldArg::Index(i) => {
                    Some(u32::try_from(*i).map_err(|_| bad("takes a small index"))?)
                }
                FieldArg::Key(_) => return Err(bad("takes a numeric index")),
            };
            let t = if what == What::Pid { T::Int } else { T::Str };
            Ok((F::Proc(Who::Ancestor(n), what), t))
        };
        match name {
            "proc.aname" => return ancestor(What::Name),
            "proc.aexe" => return ancestor(What::Exe),
            "proc.aexepath" => return ancestor(What::Exepath),
            "proc.acmdline" => return ancestor(What::Cmdline),
            "proc.apid" => return ancestor(What::Pid),
            _ => {}
        }
        let (f, t) = match name {
            "evt.type" => (F::EvtType, T::Str),
            "evt.dir" => (F::EvtDir, T::Str),
            "evt.num" => (F::EvtNum, T::Uint),
            "evt.time" | "evt.rawtime" => (F::EvtTime, T::Uint),
            "proc.name" => (F::Proc(Who::This, What::Name), T::Str),
            "proc.exe" => (F::Proc(Who::This, What::Exe), T::Str),
            "proc.exepath" => (F::Proc(Who::This, What::Exepath), T::Str),
            "proc.cmdline" => (F::Proc(Who::This, What::Cmdline), T::Str),
            "proc.pid" => (F::Proc(Who::This, What::Pid), T::Int),
            "proc.pname" => (F::Proc(Who::Parent, What::Name), T::Str),
            "proc.pexe" => (F::Proc(Who::Parent, What::Exe), T::Str),
            "proc.pexepath" => (F::Proc(Who::Parent, What::Exepath), T::Str),
            "proc.pcmdline" => (F::Proc(Who::Parent, What::Cmdline), T::Str),
            "proc.args" => (F::ProcArgs, T::Str),
            "proc.cwd" => (F::ProcCwd, T::Str),
            "proc.ppid" => (F::ProcPpid, T::Int),
            "proc.vpid" => (F::ProcVpid, T::Int),
            "thread.tid" | "proc.tid" => (F::ThreadTid, T::Int),
            "user.uid" => (F::UserUid, T::Uint),
            "user.name" => (F::UserName, T::Str),
            "group.gid" => (F::GroupGid, T::Uint),
            "container.id" => (F::ContainerId, T::Str),
            "container.name" if self.metadata => (F::ContainerName, T::Str),
            "container.image" if self.metadata => (F::ContainerImage, T::Str),
            "container.image.repository" if self.metadata => (F::ContainerImageRepository, T::Str),
            "container.image.tag" if self.metadata => (F::ContainerImageTag, T::Str),
            "container.image.digest" if self.metadata => (F::ContainerImageDigest, T::Str),
            "k8s.pod.name" if self.metadata => (F::K8sPodName, T::Str),
            "k8s.ns.name" if self.metadata => (F::K8sNsName, T::Str),
            _ => {
                return match &self.known_field {
                    Some(known) if !known(name, arg) => {
                        Err(bad("is not a field of the syscall source"))
                    }
                    _ => Err(FieldError::Unknown(name.to_string())),
                };
            }
        };
        match arg {
            FieldArg::None => Ok((f, t)),
            _ => Err(bad("takes no argument")),
        }
    }

    fn extract<'e>(&'e self, ev: &'e ProcEvent, field: &LiveField, out: &mut Vec<Value<'e>>) {
        let p = &ev.proc;
        match *field {
            LiveField::EvtType => out.push(Value::Str(Cow::Borrowed(match ev.kind {
                Kind::Exec => b"execve",
                Kind::Exit => b"procexit",
            }))),
            // Falco's execve rules read its exit event (`<`); procexit has one direction (`>`).
            LiveField::EvtDir => out.push(Value::Str(Cow::Borrowed(match ev.kind {
                Kind::Exec => b"<",
                Kind::Exit => b">",
            }))),
            LiveField::EvtNum => out.push(Value::Uint(ev.num)),
            LiveField::EvtTime => out.push(Value::Uint(ev.time_ns)),
            LiveField::Proc(Who::Ancestor(None), what) => {
                for a in &ev.ancestors {
                    one(a, what, out);
                }
            }
            LiveField::Proc(who, what) => {
                if let Some(p) = who_of(ev, who) {
                    one(p, what, out);
                }
            }
            LiveField::ProcArgs => out.push(Value::Str(Cow::Owned(p.args_joined()))),
            LiveField::ProcCwd => push_str(out, &p.cwd),
            LiveField::ProcPpid => out.push(Value::Int(p.ppid)),
            LiveField::ProcVpid => out.push(Value::Int(p.vpid)),
            LiveField::ThreadTid => out.push(Value::Int(p.pid)),
            LiveField::UserUid => {
                if let Some(u) = p.uid {
                    out.push(Value::Uint(u64::from(u)));
                }
            }
            LiveField::UserName => {
                if let Some(n) = &ev.user_name {
                    push_str(out, n);
                }
            }
            LiveField::GroupGid => {
                if let Some(g) = p.gid {
                    out.push(Value::Uint(u64::from(g)));
                }
            }
            LiveField::ContainerId => {
                out.push(Value::Str(Cow::Borrowed(if p.container_id.is_empty() {
                    b"host"
                } else {
                    &p.container_id[..p.container_id.len().min(12)]
                })))
            }
            // On the host, container.name is `host` (as Falco shows it) and there is no image.
            LiveField::ContainerName if p.container_id.is_empty() => {
                out.push(Value::Str(Cow::Borrowed(b"host")))
            }
            LiveField::ContainerName => {
                if let Some(m) = &ev.container {
                    push_str(out, &m.name);
                }
            }
            LiveField::ContainerImage => {
                if let Some(m) = &ev.container {
                    push_str(out, &m.image);
                }
            }
            LiveField::ContainerImageRepository => {
                if let Some(m) = &ev.container {
                    push_str(out, m.repository());
                }
            }
            LiveField::ContainerImageTag => {
                if let Some(m) = &ev.container {
                    push_str(out, m.tag());
                }
            }
            LiveField::ContainerImageDigest => {
                if let Some(m) = &ev.container {
                    push_str(out, &m.image_digest);
                }
            }
            LiveField::K8sPodName => {
                if let Some(m) = &ev.container {
                    push_str(out, &m.pod_name);
                }
            }
            LiveField::K8sNsName => {
                if let Some(m) = &ev.container {
                    push_str(out, &m.namespace);
                }
            }
        }
    }

    fn event_type_codes(&self, name: &str) -> Option<Vec<u16>> {
        match name {
            "execve" => Some(vec![EXECVE]),
            "procexit" => Some(vec![PROCEXIT]),
            n => match &self.known_event {
                Some(known) if !known(n) => None,
                _ => Some(vec![UNSEEN]),
            },
        }
    }

    fn event_type(&self, ev: &ProcEvent) -> Option<u16> {
        Some(match ev.kind {
            Kind::Exec => EXECVE,
            Kind::Exit => PROCEXIT,
        })
    }

    fn has_event_types(&self) -> bool {
        true
    }

    fn skips_unknown_fields(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Code, RuleSet, compile};

    fn proc(pid: i64, ppid: i64, comm: &str, argv: &[&str], container: &str) -> Proc {
        let mut args = Vec::new();
        for a in &argv[1..] {
            args.extend_from_slice(a.as_bytes());
            args.push(0);
        }
        Proc {
            pid,
            ppid,
            vpid: pid,
            comm: comm.into(),
            exe: argv[0].into(),
            exepath: format!("/usr/bin/{comm}").into_bytes(),
            args,
            cwd: b"/root".to_vec(),
            uid: Some(0),
            gid: Some(0),
            container_id: container.into(),
        }
    }

    fn event(kind: Kind, p: Proc, ancestors: Vec<Proc>) -> ProcEvent {
        ProcEvent {
            kind,
            time_ns: 1_700_000_000_000_000_000,
            num: 7,
            proc: p,
            ancestors,
            exit_code: None,
            user_name: Some(b"root".to_vec()),
            container: None,
        }
    }

    const RULES: &str = r#"
- macro: spawned_process
  condition: (evt.type in (execve, execveat) and evt.dir=<)
- list: shell_binaries
  items: [sh, bash]
- rule: Shell in container
  desc: d
  condition: spawned_process and proc.name in (shell_binaries) and container.id != host
  output: "Shell (cmd=%proc.cmdline args=%proc.args container=%container.id parent=%proc.pname a2=%proc.aname[2] anames=%proc.aname user=%user.name uid=%user.uid exe=%proc.exe path=%proc.exepath)"
  priority: WARNING
- rule: Exit of nginx child
  desc: d
  condition: evt.type = procexit and proc.aname[1] = nginx and proc.apid[1] = 10
  output: "exit %proc.name"
  priority: NOTICE
- rule: Write below etc
  desc: d
  condition: evt.type in (open, openat) and fd.name startswith /etc
  output: "w %fd.name"
  priority: ERROR
- rule: Connect
  desc: d
  condition: evt.type = connect and proc.name = sh
  output: "c"
  priority: ERROR
"#;

    #[test]
    fn rules_compile_and_fire_on_live_events() {
        let mut rs = RuleSet::default();
        assert!(rs.load_bytes("r.yaml", RULES.as_bytes()));
        let c = compile(&rs, LiveSource::default(), &[]);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        // The fd.name rule is skipped with a warning, the connect rule loads but cannot fire.
        let unknown: Vec<_> = c
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::UnknownField)
            .map(|d| (d.item_name.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(
            unknown,
            [(
                "Write below etc",
                "filter_check called with nonexistent field fd.name"
            )]
        );
        let e = &c.engine;
        assert_eq!(e.rules().len(), 3);
        assert_eq!(unseen_rules(e), ["Connect"]);

        let nginx = proc(10, 1, "nginx", &["nginx: master"], "3ad7b26ded6d");
        let init = proc(1, 0, "containerd-shim", &["/usr/bin/containerd-shim"], "");
        let sh = proc(42, 10, "sh", &["/bin/sh", "-c", "id"], "3ad7b26ded6d");
        let ev = event(Kind::Exec, sh.clone(), vec![nginx.clone(), init.clone()]);
        let mut hits = Vec::new();
        e.process(&ev, |i| hits.push(i));
        assert_eq!(hits, [0]);
        assert_eq!(
            e.render(0, &ev).0,
            "Shell (cmd=sh -c id args=-c id container=3ad7b26ded6d parent=nginx a2=containerd-shim anames=(nginx,containerd-shim) user=root uid=0 exe=/bin/sh path=/usr/bin/sh)"
        );
        // On the host the rule does not fire; an exit is not an execution.
        let host = event(
            Kind::Exec,
            proc(43, 1, "sh", &["sh"], ""),
            vec![init.clone()],
        );
        let exit = event(Kind::Exit, sh, vec![nginx, init]);
        let mut hits = Vec::new();
        e.process(&host, |i| hits.push(i));
        assert!(hits.is_empty());
        e.process(&exit, |i| hits.push(i));
        assert_eq!(hits, [1]);
    }

    #[test]
    fn typos_are_errors_when_the_syscall_fields_are_known() {
        let src = || {
            LiveSource::default()
                .with_known_fields(|n, _| n.starts_with("fd.") || n == "proc.name")
                .with_known_events(|n| ["open", "connect", "execve"].contains(&n))
        };
        let rule = |cond: &str| {
            format!("- rule: r\n  desc: d\n  condition: {cond}\n  output: o\n  priority: INFO\n")
        };
        let load = |cond: &str| {
            let mut rs = RuleSet::default();
            rs.load_bytes("r.yaml", rule(cond).as_bytes());
            compile(&rs, src(), &[]).diagnostics
        };
        let d = load("evt.type = execve and proc.nmae = sh");
        assert_eq!(d.len(), 1);
        assert!(d[0].code.is_error());
        assert_eq!(
            d[0].message,
            "field 'proc.nmae' is not a field of the syscall source"
        );
        let d = load("evt.type = exceve");
        assert!(d[0].code.is_error());
        assert_eq!(d[0].message, "unknown event type exceve");
        let d = load("evt.type = open and fd.name = /etc/shadow");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::UnknownField);
    }
}

#[cfg(test)]
mod metadata_tests {
    use super::*;
    use crate::live::ContainerMeta;
    use crate::{Code, RuleSet, compile};
    use std::sync::Arc;

    const RULE: &str = "- rule: r\n  desc: d\n  condition: evt.type = execve and container.image.repository = nginx\n  output: \"%container.name %container.image %container.image.repository %container.image.tag\"\n  priority: INFO\n";

    #[test]
    fn image_fields_only_with_a_runtime_socket() {
        let mut rs = RuleSet::default();
        rs.load_bytes("r.yaml", RULE.as_bytes());
        let c = compile(&rs, LiveSource::default(), &[]);
        assert!(!c.has_errors());
        assert_eq!(c.engine.rules().len(), 0);
        assert!(c.diagnostics.iter().any(|d| d.code == Code::UnknownField));

        let c = compile(&rs, LiveSource::default().with_container_metadata(), &[]);
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
        let ev = ProcEvent {
            kind: Kind::Exec,
            time_ns: 0,
            num: 1,
            proc: Proc {
                pid: 5,
                comm: b"sh".to_vec(),
                container_id: b"3ad7b26ded6d".to_vec(),
                ..Proc::default()
            },
            ancestors: Vec::new(),
            exit_code: None,
            user_name: None,
            container: Some(Arc::new(ContainerMeta {
                name: b"web".to_vec(),
                image: b"nginx:1.25".to_vec(),
                ..ContainerMeta::default()
            })),
        };
        let mut hits = Vec::new();
        c.engine.process(&ev, |i| hits.push(i));
        assert_eq!(hits, [0]);
        assert_eq!(c.engine.render(0, &ev).0, "web nginx:1.25 nginx 1.25");
        let host = ProcEvent {
            proc: Proc::default(),
            container: None,
            ..ev
        };
        assert_eq!(c.engine.render(0, &host).0, "host <NA> <NA> <NA>");
    }
}
