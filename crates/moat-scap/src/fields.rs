//! The syscall fields rules name, as a [`FieldSource`] over the [`State`].
//!
//! Names and meanings follow libsinsp's field tables (falcosecurity/libs
//! `userspace/libsinsp/sinsp_filtercheck_event.cpp`, `_thread.cpp`, `_fd.cpp`, `_user.cpp`,
//! `_group.cpp`, `_container.cpp`), read for behaviour. Call [`State::process`] on each
//! event before extracting its fields.
//!
//! Fields a capture cannot fill resolve (so rules using them load) but extract nothing on
//! every event: see [`UNAVAILABLE`].

use std::borrow::Cow;
use std::net::IpAddr;

use moat_runtime::field::{FieldArg, FieldError, FieldSource, FieldType, Value};

use crate::event::{Direction, Event, ParamType};
use crate::event_table::{EVENTS, EventInfo, SYSCALL_NAMES};
use crate::reader::FdKind;
use crate::render;
use crate::state::{
    FdInfo, L4_ICMP, L4_RAW, L4_TCP, L4_UDP, O_CREAT, O_F_CREATED, O_RDONLY, O_TMPFILE, O_WRONLY,
    State, Thread, basename,
};

/// Fields that exist in libsinsp but that a capture file does not carry here (container
/// metadata comes from a runtime, Kubernetes metadata from the API server, DNS names from
/// lookups, inode times and process durations from state this reader does not keep). They
/// resolve and extract nothing ("not exists"), so comparisons with them are false.
pub const UNAVAILABLE: &[&str] = &[
    "container.name",
    "container.image",
    "container.image.repository",
    "container.image.tag",
    "container.image.id",
    "container.image.digest",
    "container.privileged",
    "container.mounts",
    "container.mount",
    "container.mount.dest",
    "container.mount.source",
    "container.start_ts",
    "container.duration",
    "container.type",
    "container.healthcheck",
    "container.liveness_probe",
    "container.readiness_probe",
    "k8s.ns.name",
    "k8s.pod.name",
    "k8s.pod.id",
    "k8s.pod.uid",
    "k8s.pod.labels",
    "k8s.pod.label",
    "k8s.ns.labels",
    "fd.sip.name",
    "fd.cip.name",
    "fd.lip.name",
    "fd.rip.name",
    "proc.exe_ino",
    "proc.exe_ino.ctime",
    "proc.exe_ino.mtime",
    "proc.exe_ino.ctime_duration_proc_start",
    "proc.exe_ino.ctime_duration_pidns_start",
    "proc.duration",
    "proc.pidns_init_start_ts",
    "proc.is_container_healthcheck",
    "proc.is_container_liveness_probe",
    "proc.is_container_readiness_probe",
    "proc.stdin.type",
    "proc.stdout.type",
    "proc.stderr.type",
    "proc.stdin.name",
    "proc.stdout.name",
    "proc.stderr.name",
    "fd.dev",
    "fd.ino",
    "fd.uid",
    "fd.containername",
    "fd.containerdirectory",
    "evt.latency",
    "evt.deltatime",
];

/// A resolved field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    EvtType,
    EvtDir,
    EvtNum,
    EvtRawtime,
    EvtCpu,
    EvtRes,
    EvtRawres,
    EvtFailed,
    EvtIsOpenRead,
    EvtIsOpenWrite,
    EvtIsOpenExec,
    EvtIsOpenCreate,
    /// `evt.arg.NAME` / `evt.arg[N]`: the parameter rendered as text.
    EvtArg(ArgSel),
    /// `evt.rawarg.NAME`: the parameter's value.
    EvtRawarg(ArgSel),
    EvtArgs,
    EvtBuffer,
    ProcName,
    ProcExe,
    ProcExepath,
    ProcCmdline,
    ProcArgs,
    ProcCwd,
    ProcEnv,
    ProcPid,
    ProcPpid,
    ProcVpid,
    ProcSid,
    ProcSname,
    ProcTty,
    ProcPname,
    ProcPexe,
    ProcPexepath,
    ProcPcmdline,
    /// `proc.aname[N]` (N = 0 is the process itself); without an index every ancestor.
    ProcAname(Option<u32>),
    ProcAexe(Option<u32>),
    ProcAexepath(Option<u32>),
    ProcAcmdline(Option<u32>),
    ProcApid(Option<u32>),
    ProcIsExeWritable,
    ProcIsExeUpperLayer,
    ProcIsExeFromMemfd,
    ProcIsVpgidLeader,
    ProcIsSidLeader,
    ThreadTid,
    ThreadCapPermitted,
    ThreadCapEffective,
    ThreadCapInheritable,
    UserUid,
    UserName,
    UserLoginuid,
    UserLoginname,
    UserHomedir,
    UserShell,
    GroupGid,
    GroupName,
    FdNum,
    FdName,
    FdDirectory,
    FdFilename,
    FdTypechar,
    FdType,
    FdCip,
    FdSip,
    FdLip,
    FdRip,
    FdCport,
    FdSport,
    FdLport,
    FdRport,
    FdIp,
    FdPort,
    FdNet,
    FdCnet,
    FdSnet,
    FdLnet,
    FdRnet,
    FdL4proto,
    FdSockfamily,
    FdConnected,
    FdNameChanged,
    FdIsServer,
    ContainerId,
    /// Known to libsinsp, not fillable from a capture: extracts nothing.
    Unavailable,
}

/// Which parameter `evt.arg` / `evt.rawarg` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgSel {
    Name(String),
    Index(usize),
}

impl State {
    fn arg_index(ev: &Event, sel: &ArgSel) -> Option<usize> {
        match sel {
            ArgSel::Name(n) => ev.param_index(n),
            ArgSel::Index(i) => (*i < ev.param_count()).then_some(*i),
        }
    }

    fn ancestor<'s>(&'s self, t: &'s Thread, n: u32) -> Option<&'s Thread> {
        // A hostile capture may link parents in a cycle: deeper than any real process tree
        // is no ancestor.
        if n > 256 {
            return None;
        }
        let mut cur = t;
        for _ in 0..n {
            cur = self.parent(cur)?;
        }
        Some(cur)
    }

    fn ancestors<'s>(&'s self, t: &'s Thread) -> impl Iterator<Item = &'s Thread> + 's {
        let mut cur = Some(t);
        let mut steps = 0;
        std::iter::from_fn(move || {
            // Cycles in a hostile capture's parent links end the walk.
            if steps > 64 {
                return None;
            }
            steps += 1;
            cur = cur.and_then(|c| self.parent(c));
            cur
        })
    }
}

fn s<'a>(b: &'a [u8]) -> Value<'a> {
    Value::Str(Cow::Borrowed(b))
}

fn cmdline(t: &Thread) -> Vec<u8> {
    moat_runtime::field::proc_cmdline(&t.comm, &t.args)
}

fn args_joined(t: &Thread) -> Vec<u8> {
    moat_runtime::field::proc_args(&t.args)
}

fn typechar(k: FdKind) -> u8 {
    match k {
        FdKind::File => b'f',
        FdKind::Directory => b'd',
        FdKind::Ipv4Sock | FdKind::Ipv4ServSock => b'4',
        FdKind::Ipv6Sock | FdKind::Ipv6ServSock => b'6',
        FdKind::Fifo => b'p',
        FdKind::UnixSock => b'u',
        FdKind::Event => b'e',
        FdKind::Unknown => b'o',
        FdKind::Unsupported => b'X',
        FdKind::Signalfd => b's',
        FdKind::Eventpoll => b'l',
        FdKind::Inotify => b'i',
        FdKind::Timerfd => b't',
        FdKind::Netlink => b'n',
        FdKind::Bpf => b'b',
        FdKind::Userfaultfd => b'u',
        FdKind::IoUring => b'r',
        FdKind::Memfd => b'm',
        FdKind::Pidfd => b'P',
    }
}

fn type_name(k: FdKind) -> &'static [u8] {
    match k {
        FdKind::File => b"file",
        FdKind::Directory => b"directory",
        FdKind::Ipv4Sock | FdKind::Ipv4ServSock => b"ipv4",
        FdKind::Ipv6Sock | FdKind::Ipv6ServSock => b"ipv6",
        FdKind::Fifo => b"pipe",
        FdKind::UnixSock => b"unix",
        FdKind::Event => b"event",
        FdKind::Unknown => b"unknown",
        FdKind::Unsupported => b"unsupported",
        FdKind::Signalfd => b"signalfd",
        FdKind::Eventpoll => b"eventpoll",
        FdKind::Inotify => b"inotify",
        FdKind::Timerfd => b"timerfd",
        FdKind::Netlink => b"netlink",
        FdKind::Bpf => b"bpf",
        FdKind::Userfaultfd => b"userfaultfd",
        FdKind::IoUring => b"io_uring",
        FdKind::Memfd => b"memfd",
        FdKind::Pidfd => b"pidfd",
    }
}

fn is_inet(k: FdKind) -> bool {
    matches!(
        k,
        FdKind::Ipv4Sock | FdKind::Ipv6Sock | FdKind::Ipv4ServSock | FdKind::Ipv6ServSock
    )
}

/// One end of a connection: address (when known) and port.
type Endpoint = (Option<IpAddr>, u16);

fn local_remote(f: &FdInfo) -> Option<(Endpoint, Endpoint)> {
    match f.local_is_server {
        Some(true) => Some(((f.sip, f.sport), (f.cip, f.cport))),
        Some(false) => Some(((f.cip, f.cport), (f.sip, f.sport))),
        None => None,
    }
}

/// The first parameter with this name in any event of the table: its type decides the type
/// of `evt.rawarg.NAME` (libsinsp does the same lookup).
fn rawarg_type(name: &str) -> Option<ParamType> {
    EVENTS
        .iter()
        .flat_map(|e: &EventInfo| e.params.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

/// `evt.is_open_*` as libsinsp computes them: only on the exit of open, openat, openat2
/// and open_by_handle_at (from the open flags, the mode and the result), and for exec also
/// of creat (from the mode); false on every other event.
fn is_open(ev: &Event, state: &State, field: &Field) -> bool {
    const EXEC_BITS: u64 = (1 << 6) | (1 << 3) | 1;
    if ev.direction() != Direction::Exit {
        return false;
    }
    let name = ev.name();
    if name == "creat" {
        return *field == Field::EvtIsOpenExec
            && state
                .arg_uint(ev, "mode")
                .is_some_and(|m| m & EXEC_BITS != 0);
    }
    if !matches!(name, "open" | "openat" | "openat2" | "open_by_handle_at") {
        return false;
    }
    let flags = state.arg_uint(ev, "flags").unwrap_or(0) as u32;
    match field {
        Field::EvtIsOpenRead => flags & O_RDONLY != 0,
        Field::EvtIsOpenWrite => flags & O_WRONLY != 0,
        Field::EvtIsOpenCreate => {
            flags & O_F_CREATED != 0 || (flags & O_TMPFILE != 0 && ev.res().is_some_and(|r| r >= 0))
        }
        _ => {
            flags & (O_TMPFILE | O_CREAT) != 0
                && name != "open_by_handle_at"
                && state
                    .arg_uint(ev, "mode")
                    .is_some_and(|m| m & EXEC_BITS != 0)
        }
    }
}

impl FieldSource for State {
    type Event = Event;
    type Field = Field;

    fn source_name(&self) -> &'static str {
        "syscall"
    }

    fn resolve(&self, name: &str, arg: &FieldArg) -> Result<(Field, FieldType), FieldError> {
        use FieldType as T;
        let bad = |problem: &str| FieldError::BadArgument {
            field: name.to_string(),
            problem: problem.to_string(),
        };
        let index = || -> Result<Option<u32>, FieldError> {
            match arg {
                FieldArg::None => Ok(None),
                FieldArg::Index(i) => u32::try_from(*i)
                    .map(Some)
                    .map_err(|_| bad("takes a small index")),
                FieldArg::Key(_) => Err(bad("takes a numeric index")),
            }
        };
        // evt.arg.NAME and evt.rawarg.NAME carry the name after the dot.
        if let Some(rest) = name
            .strip_prefix("evt.arg.")
            .or_else(|| name.strip_prefix("evt.rawarg."))
        {
            let raw = name.starts_with("evt.rawarg.");
            return self.resolve(
                if raw { "evt.rawarg" } else { "evt.arg" },
                &FieldArg::Key(rest.to_string()),
            );
        }
        let no_arg = |f: Field, t: FieldType| -> Result<(Field, FieldType), FieldError> {
            match arg {
                FieldArg::None => Ok((f, t)),
                _ => Err(bad("takes no argument")),
            }
        };
        match name {
            "evt.arg" | "evt.rawarg" => {
                let sel = match arg {
                    FieldArg::None => return Err(bad("needs an argument name or index")),
                    FieldArg::Index(i) => {
                        ArgSel::Index(usize::try_from(*i).map_err(|_| bad("index too large"))?)
                    }
                    FieldArg::Key(k) => {
                        if k.chars().all(|c| c.is_ascii_digit()) {
                            ArgSel::Index(k.parse().map_err(|_| bad("index too large"))?)
                        } else {
                            ArgSel::Name(k.clone())
                        }
                    }
                };
                if name == "evt.arg" {
                    return Ok((Field::EvtArg(sel), T::Str));
                }
                let ty = match &sel {
                    ArgSel::Name(n) => {
                        rawarg_type(n).ok_or_else(|| bad("names no parameter of any event"))?
                    }
                    ArgSel::Index(_) => return Err(bad("takes a parameter name")),
                };
                let ft = if ty.is_text() {
                    T::Str
                } else if ty.is_integer() {
                    if ty.is_signed() { T::Int } else { T::Uint }
                } else {
                    T::Bytes
                };
                return Ok((Field::EvtRawarg(sel), ft));
            }
            "proc.aname" => return Ok((Field::ProcAname(index()?), T::Str)),
            "proc.aexe" => return Ok((Field::ProcAexe(index()?), T::Str)),
            "proc.aexepath" => return Ok((Field::ProcAexepath(index()?), T::Str)),
            "proc.acmdline" => return Ok((Field::ProcAcmdline(index()?), T::Str)),
            "proc.apid" => return Ok((Field::ProcApid(index()?), T::Uint)),
            _ => {}
        }
        let (f, t) = match name {
            "evt.type" => (Field::EvtType, T::Str),
            "evt.dir" => (Field::EvtDir, T::Str),
            "evt.num" => (Field::EvtNum, T::Uint),
            "evt.rawtime" | "evt.time" => (Field::EvtRawtime, T::Uint),
            "evt.cpu" => (Field::EvtCpu, T::Uint),
            "evt.res" => (Field::EvtRes, T::Str),
            "evt.rawres" => (Field::EvtRawres, T::Int),
            "evt.failed" => (Field::EvtFailed, T::Bool),
            "evt.is_open_read" => (Field::EvtIsOpenRead, T::Bool),
            "evt.is_open_write" => (Field::EvtIsOpenWrite, T::Bool),
            "evt.is_open_exec" => (Field::EvtIsOpenExec, T::Bool),
            "evt.is_open_create" => (Field::EvtIsOpenCreate, T::Bool),
            "evt.args" => (Field::EvtArgs, T::Str),
            "evt.buffer" => (Field::EvtBuffer, T::Bytes),
            "proc.name" => (Field::ProcName, T::Str),
            "proc.exe" => (Field::ProcExe, T::Str),
            "proc.exepath" => (Field::ProcExepath, T::Str),
            "proc.cmdline" => (Field::ProcCmdline, T::Str),
            "proc.args" => (Field::ProcArgs, T::Str),
            "proc.cwd" => (Field::ProcCwd, T::Str),
            "proc.env" => (Field::ProcEnv, T::Str),
            "proc.pid" => (Field::ProcPid, T::Int),
            "proc.ppid" => (Field::ProcPpid, T::Int),
            "proc.vpid" => (Field::ProcVpid, T::Int),
            "proc.sid" => (Field::ProcSid, T::Int),
            "proc.sname" => (Field::ProcSname, T::Str),
            "proc.tty" => (Field::ProcTty, T::Uint),
            "proc.pname" => (Field::ProcPname, T::Str),
            "proc.pexe" => (Field::ProcPexe, T::Str),
            "proc.pexepath" => (Field::ProcPexepath, T::Str),
            "proc.pcmdline" => (Field::ProcPcmdline, T::Str),
            "proc.is_exe_writable" => (Field::ProcIsExeWritable, T::Bool),
            "proc.is_exe_upper_layer" => (Field::ProcIsExeUpperLayer, T::Bool),
            "proc.is_exe_from_memfd" => (Field::ProcIsExeFromMemfd, T::Bool),
            "proc.is_vpgid_leader" => (Field::ProcIsVpgidLeader, T::Bool),
            "proc.is_sid_leader" => (Field::ProcIsSidLeader, T::Bool),
            "thread.tid" | "proc.tid" => (Field::ThreadTid, T::Int),
            "thread.cap_permitted" => (Field::ThreadCapPermitted, T::Str),
            "thread.cap_effective" => (Field::ThreadCapEffective, T::Str),
            "thread.cap_inheritable" => (Field::ThreadCapInheritable, T::Str),
            "user.uid" => (Field::UserUid, T::Uint),
            "user.name" => (Field::UserName, T::Str),
            "user.loginuid" => (Field::UserLoginuid, T::Int),
            "user.loginname" => (Field::UserLoginname, T::Str),
            "user.homedir" => (Field::UserHomedir, T::Str),
            "user.shell" => (Field::UserShell, T::Str),
            "group.gid" => (Field::GroupGid, T::Uint),
            "group.name" => (Field::GroupName, T::Str),
            "fd.num" => (Field::FdNum, T::Int),
            "fd.name" | "fd.nameraw" => (Field::FdName, T::Str),
            "fd.directory" => (Field::FdDirectory, T::Str),
            "fd.filename" => (Field::FdFilename, T::Str),
            "fd.typechar" => (Field::FdTypechar, T::Str),
            "fd.type" => (Field::FdType, T::Str),
            "fd.cip" => (Field::FdCip, T::Ip),
            "fd.sip" => (Field::FdSip, T::Ip),
            "fd.lip" => (Field::FdLip, T::Ip),
            "fd.rip" => (Field::FdRip, T::Ip),
            "fd.cport" => (Field::FdCport, T::Uint),
            "fd.sport" => (Field::FdSport, T::Uint),
            "fd.lport" => (Field::FdLport, T::Uint),
            "fd.rport" => (Field::FdRport, T::Uint),
            "fd.ip" => (Field::FdIp, T::Ip),
            "fd.port" => (Field::FdPort, T::Uint),
            "fd.net" => (Field::FdNet, T::IpNet),
            "fd.cnet" => (Field::FdCnet, T::IpNet),
            "fd.snet" => (Field::FdSnet, T::IpNet),
            "fd.lnet" => (Field::FdLnet, T::IpNet),
            "fd.rnet" => (Field::FdRnet, T::IpNet),
            "fd.l4proto" => (Field::FdL4proto, T::Str),
            "fd.sockfamily" => (Field::FdSockfamily, T::Str),
            "fd.connected" => (Field::FdConnected, T::Bool),
            "fd.name_changed" => (Field::FdNameChanged, T::Bool),
            "fd.is_server" => (Field::FdIsServer, T::Bool),
            "container.id" => (Field::ContainerId, T::Str),
            n if UNAVAILABLE.contains(&n) => {
                let t = match n {
                    "container.privileged" => T::Bool,
                    "container.start_ts"
                    | "container.duration"
                    | "proc.duration"
                    | "proc.pidns_init_start_ts"
                    | "fd.dev"
                    | "fd.ino"
                    | "fd.uid"
                    | "proc.exe_ino"
                    | "proc.exe_ino.ctime"
                    | "proc.exe_ino.mtime"
                    | "proc.exe_ino.ctime_duration_proc_start"
                    | "proc.exe_ino.ctime_duration_pidns_start"
                    | "evt.latency"
                    | "evt.deltatime" => T::Uint,
                    n if n.starts_with("proc.is_container") => T::Bool,
                    _ => T::Str,
                };
                // Indexed ones (container.mount.dest[/path], k8s.pod.label[x]) take any argument.
                return Ok((Field::Unavailable, t));
            }
            _ => return Err(FieldError::Unknown(name.to_string())),
        };
        no_arg(f, t)
    }

    fn extract<'e>(&'e self, ev: &'e Event, field: &Field, out: &mut Vec<Value<'e>>) {
        let thread = || self.event_thread(ev);
        let fd = || self.event_fd(ev);
        match field {
            Field::EvtType => out.push(Value::Str(Cow::Borrowed(ev.name().as_bytes()))),
            Field::EvtDir => out.push(s(if ev.direction() == Direction::Enter {
                b">"
            } else {
                b"<"
            })),
            Field::EvtNum => out.push(Value::Uint(ev.num)),
            Field::EvtRawtime => out.push(Value::Uint(ev.ts)),
            Field::EvtCpu => out.push(Value::Uint(u64::from(ev.cpu))),
            Field::EvtRes => {
                if let Some(r) = ev.res() {
                    out.push(if r >= 0 {
                        s(b"SUCCESS")
                    } else {
                        Value::Str(Cow::Borrowed(
                            render::errno_name(r).unwrap_or("E?").as_bytes(),
                        ))
                    });
                }
            }
            Field::EvtRawres => {
                if let Some(r) = ev.res() {
                    out.push(Value::Int(r));
                }
            }
            Field::EvtFailed => {
                if ev.direction() == Direction::Exit {
                    out.push(Value::Bool(ev.res().is_some_and(|r| r < 0)));
                }
            }
            Field::EvtIsOpenRead
            | Field::EvtIsOpenWrite
            | Field::EvtIsOpenExec
            | Field::EvtIsOpenCreate => {
                let v = is_open(ev, self, field);
                out.push(Value::Bool(v));
            }
            Field::EvtArg(sel) => {
                if let Some(i) = State::arg_index(ev, sel)
                    && let Some(v) = render::param_text(self, ev, i)
                {
                    out.push(Value::Str(v));
                }
            }
            Field::EvtRawarg(sel) => {
                if let Some(i) = State::arg_index(ev, sel)
                    && let Some((_, ty)) = ev.param_info(i)
                {
                    if ty.is_text() {
                        if let Some(t) = ev.text(i) {
                            out.push(s(t));
                        }
                    } else if ty.is_integer() {
                        if ty.is_signed() {
                            if let Some(v) = ev.int(i) {
                                out.push(Value::Int(v));
                            }
                        } else if let Some(v) = ev.uint(i) {
                            out.push(Value::Uint(v));
                        }
                    } else if let Some(b) = ev.raw(i) {
                        out.push(Value::Bytes(Cow::Borrowed(b)));
                    }
                }
            }
            Field::EvtArgs => out.push(Value::Str(Cow::Owned(render::args_line(self, ev)))),
            Field::EvtBuffer => {
                if let Some(i) = ev.param_index("data")
                    && let Some(b) = ev.raw(i)
                {
                    out.push(Value::Bytes(Cow::Borrowed(b)));
                }
            }
            Field::ProcName => push_str(out, thread().map(|t| t.comm.as_slice())),
            Field::ProcExe => push_str(out, thread().map(|t| t.exe.as_slice())),
            Field::ProcExepath => push_str(out, thread().map(|t| t.exepath.as_slice())),
            Field::ProcCmdline => {
                if let Some(t) = thread().filter(|t| !t.comm.is_empty()) {
                    out.push(Value::Str(Cow::Owned(cmdline(t))));
                }
            }
            Field::ProcArgs => {
                if let Some(t) = thread().filter(|t| t.complete) {
                    out.push(Value::Str(Cow::Owned(args_joined(t))));
                }
            }
            Field::ProcCwd => push_str(out, thread().map(|t| t.cwd.as_slice())),
            Field::ProcEnv => {
                if let Some(t) = thread().filter(|t| t.complete) {
                    let v: Vec<u8> = t
                        .env
                        .split(|&c| c == 0)
                        .filter(|a| !a.is_empty())
                        .collect::<Vec<_>>()
                        .join(&b' ');
                    out.push(Value::Str(Cow::Owned(v)));
                }
            }
            Field::ProcPid => push_int(out, thread().filter(|t| t.complete).map(|t| t.pid)),
            Field::ProcPpid => push_int(
                out,
                thread()
                    .and_then(|t| self.thread(t.pid))
                    .and_then(|m| self.parent(m))
                    .map(|p| p.pid),
            ),
            Field::ProcVpid => push_int(
                out,
                thread()
                    .filter(|t| t.complete && t.vpid >= 0)
                    .map(|t| t.vpid),
            ),
            Field::ProcSid => push_int(out, thread().filter(|t| t.sid >= 0).map(|t| t.sid)),
            Field::ProcSname => push_str(
                out,
                thread()
                    .and_then(|t| self.thread(t.sid))
                    .map(|l| l.comm.as_slice()),
            ),
            Field::ProcTty => {
                if let Some(t) = thread().filter(|t| t.complete) {
                    out.push(Value::Uint(u64::from(t.tty)));
                }
            }
            Field::ProcPname => push_str(
                out,
                thread()
                    .and_then(|t| self.parent(t))
                    .map(|p| p.comm.as_slice()),
            ),
            Field::ProcPexe => push_str(
                out,
                thread()
                    .and_then(|t| self.parent(t))
                    .map(|p| p.exe.as_slice()),
            ),
            Field::ProcPexepath => push_str(
                out,
                thread()
                    .and_then(|t| self.parent(t))
                    .map(|p| p.exepath.as_slice()),
            ),
            Field::ProcPcmdline => {
                if let Some(p) = thread()
                    .and_then(|t| self.parent(t))
                    .filter(|p| !p.comm.is_empty())
                {
                    out.push(Value::Str(Cow::Owned(cmdline(p))));
                }
            }
            Field::ProcAname(n)
            | Field::ProcAexe(n)
            | Field::ProcAexepath(n)
            | Field::ProcAcmdline(n)
            | Field::ProcApid(n) => {
                let Some(t) = thread() else { return };
                let one = |a: &'e Thread, out: &mut Vec<Value<'e>>| match field {
                    Field::ProcAname(_) => push_str(out, Some(a.comm.as_slice())),
                    Field::ProcAexe(_) => push_str(out, Some(a.exe.as_slice())),
                    Field::ProcAexepath(_) => push_str(out, Some(a.exepath.as_slice())),
                    Field::ProcAcmdline(_) => {
                        if !a.comm.is_empty() {
                            out.push(Value::Str(Cow::Owned(cmdline(a))));
                        }
                    }
                    _ => out.push(Value::Int(a.pid)),
                };
                match n {
                    Some(n) => {
                        if let Some(a) = self.ancestor(t, *n) {
                            one(a, out);
                        }
                    }
                    None => {
                        for a in self.ancestors(t) {
                            one(a, out);
                        }
                    }
                }
            }
            Field::ProcIsExeWritable => {
                push_bool(out, thread().filter(|t| t.complete).map(|t| t.exe_writable))
            }
            Field::ProcIsExeUpperLayer => push_bool(
                out,
                thread().filter(|t| t.complete).map(|t| t.exe_upper_layer),
            ),
            Field::ProcIsExeFromMemfd => push_bool(
                out,
                thread().filter(|t| t.complete).map(|t| t.exe_from_memfd),
            ),
            Field::ProcIsVpgidLeader => push_bool(
                out,
                thread().filter(|t| t.vpgid >= 0).map(|t| t.vpgid == t.vpid),
            ),
            Field::ProcIsSidLeader => push_bool(
                out,
                thread()
                    .filter(|t| t.sid >= 0)
                    .map(|t| t.sid == t.vpid || t.sid == t.pid),
            ),
            Field::ThreadTid => out.push(Value::Int(ev.tid)),
            Field::ThreadCapPermitted | Field::ThreadCapEffective | Field::ThreadCapInheritable => {
                if let Some(t) = thread().filter(|t| t.complete) {
                    let caps = match field {
                        Field::ThreadCapPermitted => t.cap_permitted,
                        Field::ThreadCapEffective => t.cap_effective,
                        _ => t.cap_inheritable,
                    };
                    out.push(Value::Str(Cow::Owned(render::caps(caps))));
                }
            }
            Field::UserUid => push_uint(
                out,
                thread().filter(|t| t.complete).map(|t| u64::from(t.uid)),
            ),
            Field::UserName => push_str(
                out,
                thread()
                    .filter(|t| t.complete)
                    .and_then(|t| self.user_name(t.uid)),
            ),
            Field::UserLoginuid => {
                if let Some(t) = thread().filter(|t| t.complete) {
                    // No login uid is shown as -1.
                    out.push(Value::Int(if t.loginuid == u32::MAX {
                        -1
                    } else {
                        i64::from(t.loginuid)
                    }));
                }
            }
            Field::UserLoginname => push_str(
                out,
                thread()
                    .filter(|t| t.complete && t.loginuid != u32::MAX)
                    .and_then(|t| self.user_name(t.loginuid)),
            ),
            Field::UserHomedir => push_str(
                out,
                thread()
                    .and_then(|t| self.users.get(&t.uid))
                    .map(|u| u.home.as_slice()),
            ),
            Field::UserShell => push_str(
                out,
                thread()
                    .and_then(|t| self.users.get(&t.uid))
                    .map(|u| u.shell.as_slice()),
            ),
            Field::GroupGid => push_uint(
                out,
                thread().filter(|t| t.complete).map(|t| u64::from(t.gid)),
            ),
            Field::GroupName => push_str(
                out,
                thread()
                    .filter(|t| t.complete)
                    .and_then(|t| self.group_name(t.gid)),
            ),
            Field::FdNum => push_int(out, self.event_fd_num(ev)),
            Field::FdName => push_str(out, fd().map(|f| f.name.as_slice())),
            Field::FdDirectory | Field::FdFilename => {
                let Some(f) = fd().filter(|f| matches!(f.kind, FdKind::File | FdKind::Directory))
                else {
                    return;
                };
                if f.kind == FdKind::Directory {
                    if *field == Field::FdDirectory {
                        out.push(s(&f.name));
                    }
                    return;
                }
                let name = &f.name;
                let base = basename(name);
                if *field == Field::FdFilename {
                    out.push(s(base));
                } else {
                    let dir = &name[..name.len() - base.len()];
                    let dir = if dir.len() > 1 {
                        &dir[..dir.len() - 1]
                    } else {
                        dir
                    };
                    out.push(s(dir));
                }
            }
            Field::FdTypechar => {
                if let Some(f) = fd() {
                    let c = typechar(f.kind);
                    out.push(s(&TYPECHARS[usize::from(c)..usize::from(c) + 1]));
                }
            }
            Field::FdType => push_str(out, fd().map(|f| type_name(f.kind))),
            Field::FdCip
            | Field::FdSip
            | Field::FdLip
            | Field::FdRip
            | Field::FdCnet
            | Field::FdSnet
            | Field::FdLnet
            | Field::FdRnet => {
                let Some(f) = fd().filter(|f| is_inet(f.kind)) else {
                    return;
                };
                let ip = match field {
                    Field::FdCip | Field::FdCnet => f.cip,
                    Field::FdSip | Field::FdSnet => f.sip,
                    Field::FdLip | Field::FdLnet => local_remote(f).and_then(|(l, _)| l.0),
                    _ => local_remote(f).and_then(|(_, r)| r.0),
                };
                if let Some(ip) = ip {
                    out.push(Value::Ip(ip));
                }
            }
            Field::FdCport | Field::FdSport | Field::FdLport | Field::FdRport => {
                let Some(f) = fd().filter(|f| is_inet(f.kind)) else {
                    return;
                };
                let p = match field {
                    Field::FdCport => f.cip.map(|_| f.cport),
                    Field::FdSport => Some(f.sport),
                    Field::FdLport => local_remote(f).map(|(l, _)| l.1),
                    _ => local_remote(f).map(|(_, r)| r.1),
                };
                push_uint(out, p.map(u64::from));
            }
            Field::FdIp | Field::FdNet => {
                let Some(f) = fd().filter(|f| is_inet(f.kind)) else {
                    return;
                };
                for ip in [f.cip, f.sip].into_iter().flatten() {
                    out.push(Value::Ip(ip));
                }
            }
            Field::FdPort => {
                let Some(f) = fd().filter(|f| is_inet(f.kind)) else {
                    return;
                };
                if f.cip.is_some() {
                    out.push(Value::Uint(u64::from(f.cport)));
                }
                out.push(Value::Uint(u64::from(f.sport)));
            }
            Field::FdL4proto => {
                let Some(f) = fd() else { return };
                let name: &[u8] = if !is_inet(f.kind) {
                    return;
                } else {
                    match f.l4proto {
                        L4_TCP => b"tcp",
                        L4_UDP => b"udp",
                        L4_ICMP => b"icmp",
                        L4_RAW => b"raw",
                        _ => b"<unknown>",
                    }
                };
                out.push(s(name));
            }
            Field::FdSockfamily => {
                let Some(f) = fd() else { return };
                let name: &[u8] = match f.kind {
                    FdKind::Ipv4Sock
                    | FdKind::Ipv4ServSock
                    | FdKind::Ipv6Sock
                    | FdKind::Ipv6ServSock => b"ip",
                    FdKind::UnixSock => b"unix",
                    _ => return,
                };
                out.push(s(name));
            }
            Field::FdConnected => {
                if let Some(f) = fd() {
                    out.push(Value::Bool(is_inet(f.kind) && f.local_is_server.is_some()));
                }
            }
            Field::FdNameChanged => {
                if fd().is_some() {
                    out.push(Value::Bool(false));
                }
            }
            Field::FdIsServer => {
                if let Some(f) = fd().filter(|f| is_inet(f.kind)) {
                    out.push(Value::Bool(f.local_is_server == Some(true)));
                }
            }
            Field::ContainerId => {
                if let Some(t) = thread() {
                    out.push(s(if t.container_id.is_empty() {
                        b"host"
                    } else {
                        &t.container_id
                    }));
                }
            }
            Field::Unavailable => {}
        }
    }

    /// Every code (enter and exit, every version) whose events are named `name`; for a
    /// syscall without events of its own, the two generic `syscall` codes.
    fn event_type_codes(&self, name: &str) -> Option<Vec<u16>> {
        let mut codes: Vec<u16> = EVENTS
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name == name)
            .filter_map(|(i, _)| u16::try_from(i).ok())
            .collect();
        if codes.is_empty() && SYSCALL_NAMES.contains(&name) {
            codes.extend([0, 1]);
        }
        Some(codes)
    }

    fn event_type(&self, ev: &Event) -> Option<u16> {
        Some(ev.code)
    }

    /// Syscall events have types: rules are indexed by the `evt.type` values their conditions
    /// allow, and a rule that allows every type gets Falco's `LOAD_NO_EVTTYPE` warning.
    fn has_event_types(&self) -> bool {
        true
    }
}

/// Borrowable one-byte strings for `fd.typechar`.
static TYPECHARS: [u8; 128] = {
    let mut a = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        a[i] = i as u8;
        i += 1;
    }
    a
};

fn push_str<'e>(out: &mut Vec<Value<'e>>, v: Option<&'e [u8]>) {
    if let Some(v) = v.filter(|v| !v.is_empty()) {
        out.push(Value::Str(Cow::Borrowed(v)));
    }
}

fn push_int(out: &mut Vec<Value<'_>>, v: Option<i64>) {
    if let Some(v) = v {
        out.push(Value::Int(v));
    }
}

fn push_uint(out: &mut Vec<Value<'_>>, v: Option<u64>) {
    if let Some(v) = v {
        out.push(Value::Uint(v));
    }
}

fn push_bool(out: &mut Vec<Value<'_>>, v: Option<bool>) {
    if let Some(v) = v {
        out.push(Value::Bool(v));
    }
}
