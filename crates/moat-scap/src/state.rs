//! The machine state a capture describes, kept as libsinsp keeps it (falcosecurity/libs
//! `userspace/libsinsp/parsers.cpp`, `threadinfo.h`, `fdinfo.h`, read for behaviour): a thread
//! table seeded from the process list and updated by clone/fork/execve/procexit/chdir/setuid
//! events, and one fd table per process seeded from the fd lists and updated by
//! open/openat/openat2/creat/socket/connect/accept/close/dup/pipe and the other fd-creating
//! events. Removals (close, procexit) take effect after the event that causes them, so its
//! fields still see the closed fd or the exiting thread.
//!
//! Bounded: at most [`MAX_THREADS`] threads and [`MAX_FDS`] fds per process are kept; events
//! past that are processed without adding entries (counted in [`State::dropped`]). Each
//! thread keeps its last enter event (old captures put a syscall's arguments there) when it
//! is at most [`MAX_ENTER_COPY`] bytes.
//!
//! Not done: metadata blocks met between events (rare; a capture's process and fd lists come
//! first) are read and validated into the reader's metadata but not merged into the state.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use crate::event::{
    AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, Direction, Event, ParamType, SockTuple,
};
use crate::event_table::{EF_CREATES_FD, EF_DESTROYS_FD, EF_USES_FD, EVENT_MAX, EVENTS};
use crate::reader::{FdEntry, FdKind, Metadata, ProcEntry};

pub const MAX_THREADS: usize = 262_144;
pub const MAX_FDS: usize = 65_536;
/// Largest enter event kept per thread for its exit (bytes).
pub const MAX_ENTER_COPY: usize = 4096 + 256;

/// `PPM_CL_*` clone flags (falcosecurity/libs `driver/ppm_events_public.h`).
const CL_CLONE_THREAD: u64 = 1 << 13;
/// `PPM_O_*` open flags.
pub const O_RDONLY: u32 = 1;
pub const O_WRONLY: u32 = 2;
pub const O_CREAT: u32 = 1 << 2;
pub const O_DIRECTORY: u32 = 1 << 10;
pub const O_TMPFILE: u32 = 1 << 13;
pub const O_F_CREATED: u32 = 1 << 14;
/// `scap_l4_proto` (falcosecurity/libs `userspace/libscap/scap.h`).
pub const L4_UNKNOWN: u8 = 0;
pub const L4_TCP: u8 = 2;
pub const L4_UDP: u8 = 3;
pub const L4_ICMP: u8 = 4;
pub const L4_RAW: u8 = 5;

/// A hasher for integer keys (tids, fds): one multiply, enough for keys the kernel hands out.
#[derive(Default, Clone, Copy)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_i64(&mut self, n: i64) {
        self.0 = (n as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(26);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_i64(i64::from(n));
    }
}

pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// One thread.
#[derive(Debug, Clone, Default)]
pub struct Thread {
    pub tid: i64,
    pub pid: i64,
    pub ptid: i64,
    pub sid: i64,
    pub vpgid: i64,
    pub vpid: i64,
    pub comm: Vec<u8>,
    /// argv[0].
    pub exe: Vec<u8>,
    /// The full path of the executable.
    pub exepath: Vec<u8>,
    /// Arguments after argv[0], each NUL-terminated.
    pub args: Vec<u8>,
    pub cwd: Vec<u8>,
    pub env: Vec<u8>,
    /// Container id (12 hex digits) read from the cgroups, empty on the host.
    pub container_id: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub loginuid: u32,
    pub tty: u32,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub cap_inheritable: u64,
    pub exe_writable: bool,
    pub exe_upper_layer: bool,
    pub exe_from_memfd: bool,
    /// False for threads seen only in events, never in the process list or a clone.
    pub complete: bool,
    last_enter: Event,
    has_enter: bool,
}

/// One open file descriptor.
#[derive(Debug, Clone, Default)]
pub struct FdInfo {
    pub fd: i64,
    pub kind: FdKind,
    /// `fd.name`: the path, `sip:sport->dip:dport` for connected inet sockets, the unix path.
    pub name: Vec<u8>,
    pub open_flags: u32,
    /// Client and server sides of an inet socket (for servers both from accept's tuple; a
    /// listening socket has only `sip`/`sport`).
    pub cip: Option<IpAddr>,
    pub sip: Option<IpAddr>,
    pub cport: u16,
    pub sport: u16,
    pub l4proto: u8,
    /// `Some(true)` when the local end is the server (accepted), `Some(false)` the client.
    pub local_is_server: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other,
    Open,
    Socket,
    Connect,
    Accept,
    Close,
    Dup,
    Pipe,
    Clone,
    Execve,
    Procexit,
    Chdir,
    Fchdir,
    Setuid,
    Setgid,
    Setsid,
    Socketpair,
}

fn kind_of(name: &str) -> Kind {
    match name {
        "open" | "openat" | "openat2" | "creat" | "open_by_handle_at" => Kind::Open,
        "socket" => Kind::Socket,
        "connect" => Kind::Connect,
        "accept" | "accept4" => Kind::Accept,
        "close" => Kind::Close,
        "dup" | "dup2" | "dup3" => Kind::Dup,
        "pipe" | "pipe2" => Kind::Pipe,
        "clone" | "fork" | "vfork" | "clone3" => Kind::Clone,
        "execve" | "execveat" => Kind::Execve,
        "procexit" => Kind::Procexit,
        "chdir" => Kind::Chdir,
        "fchdir" => Kind::Fchdir,
        "setuid" => Kind::Setuid,
        "setgid" => Kind::Setgid,
        "setsid" => Kind::Setsid,
        "socketpair" => Kind::Socketpair,
        _ => Kind::Other,
    }
}

fn kind_for_created_fd(name: &str) -> FdKind {
    match name {
        "eventfd" | "eventfd2" => FdKind::Event,
        "signalfd" | "signalfd4" => FdKind::Signalfd,
        "epoll_create" | "epoll_create1" => FdKind::Eventpoll,
        "inotify_init" | "inotify_init1" => FdKind::Inotify,
        "timerfd_create" => FdKind::Timerfd,
        "bpf" => FdKind::Bpf,
        "userfaultfd" => FdKind::Userfaultfd,
        "io_uring_setup" => FdKind::IoUring,
        "memfd_create" => FdKind::Memfd,
        "pidfd_open" | "pidfd_getfd" => FdKind::Pidfd,
        _ => FdKind::Unknown,
    }
}

/// The state: threads, fds, users and groups.
pub struct State {
    threads: Vec<Thread>,
    free_threads: Vec<u32>,
    tids: IntMap<i64, u32>,
    fds: Vec<FdInfo>,
    free_fds: Vec<u32>,
    /// pid -> (fd -> slot).
    tables: IntMap<i64, IntMap<i64, u32>>,
    pub(crate) users: IntMap<u32, crate::reader::User>,
    pub(crate) groups: IntMap<u32, crate::reader::Group>,
    kinds: Vec<Kind>,
    /// Index of the first fd parameter of each code, if any.
    fd_param: Vec<Option<u8>>,
    pending_fd_close: Vec<(i64, i64)>,
    pending_exit: Vec<i64>,
    /// Entries not added because a table was full.
    pub dropped: u64,
}

/// Slot 0 of the fd slab: a scratch entry for failed opens (their name is still `fd.name`).
const SCRATCH_FD: u32 = 0;

impl State {
    /// A state seeded from a capture's metadata.
    pub fn new(meta: &Metadata) -> State {
        let kinds = EVENTS.iter().map(|e| kind_of(e.name)).collect();
        let fd_param = EVENTS
            .iter()
            .map(|e| {
                e.params
                    .iter()
                    .position(|(_, t)| matches!(t, ParamType::Fd | ParamType::Fd32))
                    .and_then(|i| u8::try_from(i).ok())
            })
            .collect();
        let mut s = State {
            threads: Vec::new(),
            free_threads: Vec::new(),
            tids: IntMap::default(),
            fds: vec![FdInfo::default()],
            free_fds: Vec::new(),
            tables: IntMap::default(),
            users: meta.users.iter().map(|u| (u.uid, u.clone())).collect(),
            groups: meta.groups.iter().map(|g| (g.gid, g.clone())).collect(),
            kinds,
            fd_param,
            pending_fd_close: Vec::new(),
            pending_exit: Vec::new(),
            dropped: 0,
        };
        for p in &meta.procs {
            s.add_proc(p);
        }
        for f in &meta.fds {
            s.add_fd_entry(f);
        }
        s
    }

    fn add_proc(&mut self, p: &ProcEntry) {
        let t = Thread {
            tid: p.tid,
            pid: p.pid,
            ptid: p.ptid,
            sid: p.sid,
            vpgid: p.vpgid,
            vpid: p.vpid,
            comm: p.comm.clone(),
            exe: p.exe.clone(),
            exepath: p.exepath.clone(),
            args: p.args.clone(),
            cwd: p.cwd.clone(),
            env: p.env.clone(),
            container_id: container_id(&p.cgroups),
            uid: p.uid,
            gid: p.gid,
            loginuid: p.loginuid,
            tty: p.tty,
            cap_permitted: p.cap_permitted,
            cap_effective: p.cap_effective,
            cap_inheritable: p.cap_inheritable,
            exe_writable: p.exe_writable,
            exe_upper_layer: p.exe_upper_layer,
            exe_from_memfd: p.exe_from_memfd,
            complete: true,
            ..Default::default()
        };
        self.put_thread(t);
    }

    fn add_fd_entry(&mut self, f: &FdEntry) {
        let pid = self
            .tids
            .get(&f.tid)
            .map(|&s| self.threads[s as usize].pid)
            .unwrap_or(f.tid);
        let mut info = FdInfo {
            fd: f.fd,
            kind: f.kind,
            name: f.name.clone(),
            open_flags: f.open_flags,
            l4proto: f.l4proto,
            ..Default::default()
        };
        match f.kind {
            FdKind::Ipv4Sock | FdKind::Ipv6Sock => {
                info.cip = f.sip;
                info.sip = f.dip;
                info.cport = f.sport;
                info.sport = f.dport;
                info.name = tuple_name(f.sip, f.sport, f.dip, f.dport);
            }
            FdKind::Ipv4ServSock | FdKind::Ipv6ServSock => {
                info.sip = f.sip;
                info.sport = f.sport;
                info.local_is_server = Some(true);
                info.name = addr_name(f.sip, f.sport);
            }
            _ => {}
        }
        self.insert_fd(pid, f.fd, info);
    }

    /// The thread with this tid.
    pub fn thread(&self, tid: i64) -> Option<&Thread> {
        self.tids.get(&tid).map(|&s| &self.threads[s as usize])
    }

    /// The thread an event was made by (after [`State::process`]).
    pub fn event_thread(&self, ev: &Event) -> Option<&Thread> {
        ev.thread.map(|s| &self.threads[s as usize])
    }

    /// The fd an event operates on (after [`State::process`]).
    pub fn event_fd(&self, ev: &Event) -> Option<&FdInfo> {
        ev.fd.map(|s| &self.fds[s as usize])
    }

    /// The fd number an event operates on (after [`State::process`]).
    pub fn event_fd_num(&self, ev: &Event) -> Option<i64> {
        ev.fd_num
    }

    /// The parent of a thread.
    pub fn parent(&self, t: &Thread) -> Option<&Thread> {
        if t.ptid == t.tid {
            return None;
        }
        self.thread(t.ptid)
    }

    /// All threads (in no particular order).
    pub fn threads(&self) -> impl Iterator<Item = &Thread> {
        self.tids.values().map(|&s| &self.threads[s as usize])
    }

    /// The open fds of a process.
    pub fn fds_of(&self, pid: i64) -> Vec<&FdInfo> {
        let mut v: Vec<&FdInfo> = self
            .tables
            .get(&pid)
            .map(|t| t.values().map(|&s| &self.fds[s as usize]).collect())
            .unwrap_or_default();
        v.sort_by_key(|f| f.fd);
        v
    }

    pub fn user_name(&self, uid: u32) -> Option<&[u8]> {
        self.users.get(&uid).map(|u| u.name.as_slice())
    }

    pub fn group_name(&self, gid: u32) -> Option<&[u8]> {
        self.groups.get(&gid).map(|g| g.name.as_slice())
    }

    fn put_thread(&mut self, t: Thread) -> Option<u32> {
        if let Some(&slot) = self.tids.get(&t.tid) {
            self.threads[slot as usize] = t;
            return Some(slot);
        }
        if self.tids.len() >= MAX_THREADS {
            self.dropped += 1;
            return None;
        }
        let tid = t.tid;
        let slot = match self.free_threads.pop() {
            Some(s) => {
                self.threads[s as usize] = t;
                s
            }
            None => {
                self.threads.push(t);
                (self.threads.len() - 1) as u32
            }
        };
        self.tids.insert(tid, slot);
        Some(slot)
    }

    fn insert_fd(&mut self, pid: i64, fd: i64, info: FdInfo) -> Option<u32> {
        let table = self.tables.entry(pid).or_default();
        if let Some(&slot) = table.get(&fd) {
            self.fds[slot as usize] = info;
            return Some(slot);
        }
        if table.len() >= MAX_FDS {
            self.dropped += 1;
            return None;
        }
        let slot = match self.free_fds.pop() {
            Some(s) => {
                self.fds[s as usize] = info;
                s
            }
            None => {
                self.fds.push(info);
                (self.fds.len() - 1) as u32
            }
        };
        table.insert(fd, slot);
        Some(slot)
    }

    fn lookup_fd(&self, pid: i64, fd: i64) -> Option<u32> {
        self.tables.get(&pid)?.get(&fd).copied()
    }

    fn remove_fd(&mut self, pid: i64, fd: i64) {
        if let Some(slot) = self.tables.get_mut(&pid).and_then(|t| t.remove(&fd)) {
            self.fds[slot as usize] = FdInfo::default();
            self.free_fds.push(slot);
        }
    }

    fn remove_thread(&mut self, tid: i64) {
        let Some(slot) = self.tids.remove(&tid) else {
            return;
        };
        let t = std::mem::take(&mut self.threads[slot as usize]);
        self.free_threads.push(slot);
        // The main thread's exit ends the process: its fd table goes with it.
        if t.pid == tid
            && let Some(table) = self.tables.remove(&tid)
        {
            for (_, s) in table {
                self.fds[s as usize] = FdInfo::default();
                self.free_fds.push(s);
            }
        }
    }

    /// Updates the state with one event and records in it which thread and fd it concerns,
    /// so that its fields can be extracted. Call once per event, in capture order.
    pub fn process(&mut self, ev: &mut Event) {
        // Removals decided by the previous event.
        while let Some((pid, fd)) = self.pending_fd_close.pop() {
            self.remove_fd(pid, fd);
        }
        while let Some(tid) = self.pending_exit.pop() {
            self.remove_thread(tid);
        }
        let code = usize::from(ev.code);
        if code >= usize::from(EVENT_MAX) {
            return;
        }
        let slot = match self.tids.get(&ev.tid) {
            Some(&s) => Some(s),
            None => self.put_thread(Thread {
                tid: ev.tid,
                pid: ev.tid,
                ptid: -1,
                loginuid: u32::MAX,
                ..Default::default()
            }),
        };
        ev.thread = slot;
        let Some(slot) = slot else { return };
        let pid = self.threads[slot as usize].pid;
        let flags = EVENTS[code].flags;
        let kind = self.kinds[code];
        let exit = ev.direction() == Direction::Exit;

        // The fd the event names: its own fd parameter, or on exit the matching enter's.
        if flags & (EF_USES_FD | EF_DESTROYS_FD | EF_CREATES_FD) != 0 {
            let mut num = self.fd_param[code].and_then(|i| ev.int(usize::from(i)));
            if exit && flags & EF_CREATES_FD != 0 {
                num = ev.res();
                if kind == Kind::Open || kind == Kind::Accept || kind == Kind::Socket {
                    // handled below
                } else if let Some(n) = num.filter(|&n| n >= 0)
                    && kind != Kind::Pipe
                    && kind != Kind::Dup
                    && kind != Kind::Socketpair
                    && self.lookup_fd(pid, n).is_none()
                {
                    let mut info = FdInfo {
                        fd: n,
                        kind: kind_for_created_fd(ev.name()),
                        ..Default::default()
                    };
                    if let Some(name) = ev.text_named("name") {
                        info.name = name.to_vec();
                    }
                    self.insert_fd(pid, n, info);
                }
            } else if exit && num.is_none() {
                let t = &self.threads[slot as usize];
                if t.has_enter && t.last_enter.code + 1 == ev.code {
                    num = self.fd_param[code - 1].and_then(|i| t.last_enter.int(usize::from(i)));
                }
            }
            ev.fd_num = num;
            ev.fd = num.and_then(|n| self.lookup_fd(pid, n));
        }

        if !exit {
            match kind {
                Kind::Procexit => self.pending_exit.push(ev.tid),
                _ => {
                    // Kept for the exit (old captures put the arguments there), when small:
                    // arguments that matter fit in a path's length, and a copy per thread
                    // must stay small.
                    let t = &mut self.threads[slot as usize];
                    t.has_enter = ev.buf.len() <= MAX_ENTER_COPY;
                    if t.has_enter {
                        t.last_enter.clone_from(ev);
                    }
                }
            }
            return;
        }
        match kind {
            Kind::Open => self.on_open(ev, slot, pid),
            Kind::Socket => self.on_socket(ev, slot, pid),
            Kind::Connect => self.on_connect(ev, pid),
            Kind::Accept => self.on_accept(ev, pid),
            Kind::Close => {
                if ev.res().is_some_and(|r| r >= 0)
                    && let Some(n) = ev.fd_num
                {
                    self.pending_fd_close.push((pid, n));
                }
            }
            Kind::Dup => self.on_dup(ev, slot, pid),
            Kind::Pipe | Kind::Socketpair => self.on_pipe(ev, pid, kind),
            Kind::Clone => self.on_clone(ev, slot),
            Kind::Execve => self.on_execve(ev, slot),
            Kind::Chdir if ev.res().is_some_and(|r| r >= 0) => {
                let path = self.arg_or_enter(ev, slot, "path").map(<[u8]>::to_vec);
                if let Some(p) = path {
                    let t = &mut self.threads[slot as usize];
                    t.cwd = resolve(&t.cwd, &p);
                }
            }
            Kind::Fchdir => {
                if ev.res().is_some_and(|r| r >= 0)
                    && let Some(name) = ev.fd.map(|s| self.fds[s as usize].name.clone())
                {
                    self.threads[slot as usize].cwd = name;
                }
            }
            Kind::Setuid | Kind::Setgid if ev.res() == Some(0) => {
                let key = if kind == Kind::Setuid { "uid" } else { "gid" };
                let v = ev.uint_named(key).or_else(|| {
                    let t = &self.threads[slot as usize];
                    (t.has_enter && t.last_enter.code + 1 == ev.code)
                        .then(|| t.last_enter.uint_named(key))
                        .flatten()
                });
                if let Some(v) = v {
                    let t = &mut self.threads[slot as usize];
                    if kind == Kind::Setuid {
                        t.uid = v as u32
                    } else {
                        t.gid = v as u32
                    }
                }
            }
            Kind::Setsid => {
                if let Some(r) = ev.res().filter(|&r| r >= 0) {
                    self.threads[slot as usize].sid = r;
                }
            }
            _ => {}
        }
    }

    /// A text parameter of an exit event, or of its enter event (old captures put the
    /// arguments there).
    fn arg_or_enter<'a>(&'a self, ev: &'a Event, slot: u32, name: &str) -> Option<&'a [u8]> {
        if let Some(v) = ev.text_named(name) {
            return Some(v);
        }
        let t = &self.threads[slot as usize];
        if t.has_enter && t.last_enter.code + 1 == ev.code {
            t.last_enter.text_named(name)
        } else {
            None
        }
    }

    /// An integer parameter of an event, or for an exit event of its enter event (old
    /// captures put the arguments there).
    pub fn arg_uint(&self, ev: &Event, name: &str) -> Option<u64> {
        if let Some(v) = ev.uint_named(name) {
            return Some(v);
        }
        let t = &self.threads[ev.thread? as usize];
        if ev.direction() == Direction::Exit && t.has_enter && t.last_enter.code + 1 == ev.code {
            t.last_enter.uint_named(name)
        } else {
            None
        }
    }

    fn int_or_enter(&self, ev: &Event, slot: u32, name: &str) -> Option<i64> {
        if let Some(v) = ev.int_named(name) {
            return Some(v);
        }
        let t = &self.threads[slot as usize];
        if t.has_enter && t.last_enter.code + 1 == ev.code {
            t.last_enter.int_named(name)
        } else {
            None
        }
    }

    fn on_open(&mut self, ev: &mut Event, slot: u32, pid: i64) {
        let Some(res) = ev.res() else { return };
        let raw = self
            .arg_or_enter(ev, slot, "name")
            .or_else(|| self.arg_or_enter(ev, slot, "path"))
            .unwrap_or(&[])
            .to_vec();
        let flags = self.int_or_enter(ev, slot, "flags").unwrap_or(0) as u32;
        let dirfd = self.int_or_enter(ev, slot, "dirfd");
        let t = &self.threads[slot as usize];
        let base = match dirfd {
            // AT_FDCWD (-100) or none: the cwd.
            Some(d) if d != -100 => self
                .lookup_fd(pid, d)
                .map(|s| self.fds[s as usize].name.clone())
                .unwrap_or_default(),
            _ => t.cwd.clone(),
        };
        let name = if raw.is_empty() {
            raw
        } else {
            resolve(&base, &raw)
        };
        let mut flags = flags;
        if ev.name() == "creat" {
            flags |= O_CREAT | O_WRONLY;
        }
        let kind = if flags & O_DIRECTORY != 0 {
            FdKind::Directory
        } else {
            FdKind::File
        };
        let info = FdInfo {
            fd: res,
            kind,
            name,
            open_flags: flags,
            ..Default::default()
        };
        ev.fd_num = Some(res);
        if res >= 0 {
            ev.fd = self.insert_fd(pid, res, info);
        } else {
            self.fds[SCRATCH_FD as usize] = info;
            ev.fd = Some(SCRATCH_FD);
        }
    }

    fn on_socket(&mut self, ev: &mut Event, slot: u32, pid: i64) {
        let Some(res) = ev.res().filter(|&r| r >= 0) else {
            return;
        };
        let domain = self.int_or_enter(ev, slot, "domain").unwrap_or(-1);
        let ty = self.int_or_enter(ev, slot, "type").unwrap_or(0);
        let proto = self.int_or_enter(ev, slot, "proto").unwrap_or(0);
        let (kind, l4) = match u8::try_from(domain).unwrap_or(0) {
            AF_UNIX => (FdKind::UnixSock, L4_UNKNOWN),
            d @ (AF_INET | AF_INET6) => {
                let raw = ty == 3;
                let l4 = match proto {
                    6 => {
                        if raw {
                            L4_RAW
                        } else {
                            L4_TCP
                        }
                    }
                    17 => {
                        if raw {
                            L4_RAW
                        } else {
                            L4_UDP
                        }
                    }
                    0 => match ty & 0xff {
                        1 => L4_TCP,
                        2 => L4_UDP,
                        _ => L4_UNKNOWN,
                    },
                    1 | 58 => {
                        if raw {
                            L4_RAW
                        } else {
                            L4_ICMP
                        }
                    }
                    255 => L4_RAW,
                    _ => L4_UNKNOWN,
                };
                (
                    if d == AF_INET {
                        FdKind::Ipv4Sock
                    } else {
                        FdKind::Ipv6Sock
                    },
                    l4,
                )
            }
            AF_NETLINK => (FdKind::Netlink, L4_UNKNOWN),
            _ => (FdKind::Unknown, L4_UNKNOWN),
        };
        ev.fd_num = Some(res);
        ev.fd = self.insert_fd(
            pid,
            res,
            FdInfo {
                fd: res,
                kind,
                l4proto: l4,
                ..Default::default()
            },
        );
    }

    fn on_connect(&mut self, ev: &mut Event, pid: i64) {
        let Some(slot) = ev.fd else { return };
        let res = ev.res().unwrap_or(0);
        // A failed non-blocking connect still names the peer (EINPROGRESS); others do not.
        if res < 0 && res != -115 {
            return;
        }
        let Some(i) = ev.param_index("tuple") else {
            return;
        };
        let _ = pid;
        match ev.socktuple(i) {
            Some(SockTuple::Inet { src, dst }) => {
                let f = &mut self.fds[slot as usize];
                f.cip = Some(src.0);
                f.cport = src.1;
                f.sip = Some(dst.0);
                f.sport = dst.1;
                f.local_is_server = Some(false);
                if f.l4proto == L4_UNKNOWN {
                    f.l4proto = L4_TCP;
                }
                f.name = tuple_name(Some(src.0), src.1, Some(dst.0), dst.1);
            }
            Some(SockTuple::Unix { path }) => {
                let f = &mut self.fds[slot as usize];
                f.kind = FdKind::UnixSock;
                f.name = path.to_vec();
            }
            _ => {}
        }
    }

    fn on_accept(&mut self, ev: &mut Event, pid: i64) {
        let res = ev.int_named("fd").or_else(|| ev.res());
        let Some(res) = res.filter(|&r| r >= 0) else {
            return;
        };
        let mut info = FdInfo {
            fd: res,
            ..Default::default()
        };
        if let Some(i) = ev.param_index("tuple") {
            match ev.socktuple(i) {
                Some(SockTuple::Inet { src, dst }) => {
                    info.kind = if src.0.is_ipv4() {
                        FdKind::Ipv4Sock
                    } else {
                        FdKind::Ipv6Sock
                    };
                    info.cip = Some(src.0);
                    info.cport = src.1;
                    info.sip = Some(dst.0);
                    info.sport = dst.1;
                    info.l4proto = L4_TCP;
                    info.local_is_server = Some(true);
                    info.name = tuple_name(Some(src.0), src.1, Some(dst.0), dst.1);
                }
                Some(SockTuple::Unix { path }) => {
                    info.kind = FdKind::UnixSock;
                    info.name = path.to_vec();
                }
                _ => {}
            }
        }
        ev.fd_num = Some(res);
        ev.fd = self.insert_fd(pid, res, info);
    }

    fn on_dup(&mut self, ev: &mut Event, slot: u32, pid: i64) {
        let Some(res) = ev.res().filter(|&r| r >= 0) else {
            return;
        };
        let old = self
            .int_or_enter(ev, slot, "oldfd")
            .or_else(|| self.int_or_enter(ev, slot, "fd"));
        let Some(from) = old.and_then(|o| self.lookup_fd(pid, o)) else {
            return;
        };
        let mut info = self.fds[from as usize].clone();
        info.fd = res;
        ev.fd_num = Some(res);
        ev.fd = self.insert_fd(pid, res, info);
    }

    fn on_pipe(&mut self, ev: &mut Event, pid: i64, kind: Kind) {
        if ev.res().is_some_and(|r| r < 0) {
            return;
        }
        let fk = if kind == Kind::Pipe {
            FdKind::Fifo
        } else {
            FdKind::UnixSock
        };
        for name in ["fd1", "fd2"] {
            if let Some(n) = ev.int_named(name).filter(|&n| n >= 0) {
                self.insert_fd(
                    pid,
                    n,
                    FdInfo {
                        fd: n,
                        kind: fk,
                        ..Default::default()
                    },
                );
            }
        }
    }

    fn on_clone(&mut self, ev: &mut Event, slot: u32) {
        let Some(res) = ev.res() else { return };
        if res < 0 {
            return;
        }
        let flags = ev.uint_named("flags").unwrap_or(0);
        if res > 0 && !self.threads[slot as usize].complete {
            // A parent the capture had not shown: the event describes it.
            let t = &mut self.threads[slot as usize];
            fill_from_clone(t, ev);
            if let Some(p) = ev.int_named("pid") {
                t.pid = p;
            }
            if let Some(p) = ev.int_named("ptid") {
                t.ptid = p;
            }
            t.complete = true;
        }
        let caller = self.threads[slot as usize].clone();
        let (child_tid, mut base) = if res == 0 {
            // In the child: the event's thread is the new one.
            if caller.complete {
                // Already known (the parent's exit came first).
                return;
            }
            let parent = ev.int_named("ptid").and_then(|p| self.thread(p)).cloned();
            (ev.tid, parent.unwrap_or(caller))
        } else {
            if self
                .tids
                .get(&res)
                .is_some_and(|&s| self.threads[s as usize].complete)
            {
                return;
            }
            (res, caller)
        };
        let parent_tid = if res == 0 {
            ev.int_named("ptid").unwrap_or(base.tid)
        } else {
            ev.tid
        };
        let parent_pid = base.pid;
        base.tid = child_tid;
        base.ptid = parent_tid;
        base.pid = if flags & CL_CLONE_THREAD != 0 {
            parent_pid
        } else {
            child_tid
        };
        if res == 0 {
            if let Some(p) = ev.int_named("pid") {
                base.pid = p;
            }
            if let Some(p) = ev.int_named("ptid") {
                base.ptid = p;
            }
        }
        if flags & CL_CLONE_THREAD != 0 {
            // A thread's parent is its process's parent, as libsinsp shows it.
            base.ptid = self.thread(parent_pid).map(|p| p.ptid).unwrap_or(base.ptid);
        }
        fill_from_clone(&mut base, ev);
        base.complete = true;
        base.has_enter = false;
        let new_pid = base.pid;
        // A new process starts with a copy of its parent's fds.
        if new_pid != parent_pid && !self.tables.contains_key(&new_pid) {
            let copies: Vec<FdInfo> = self
                .tables
                .get(&parent_pid)
                .map(|t| t.values().map(|&s| self.fds[s as usize].clone()).collect())
                .unwrap_or_default();
            for f in copies {
                self.insert_fd(new_pid, f.fd, f);
            }
        }
        let s = self.put_thread(base);
        if res == 0 {
            ev.thread = s;
        }
    }

    fn on_execve(&mut self, ev: &mut Event, slot: u32) {
        if ev.res() != Some(0) {
            return;
        }
        let enter_filename = {
            let t = &self.threads[slot as usize];
            (t.has_enter && t.last_enter.code + 1 == ev.code)
                .then(|| t.last_enter.text_named("filename").map(<[u8]>::to_vec))
                .flatten()
        };
        // A thread whose clone the capture missed: its parent (named by the event) gives
        // what the event does not say (user, group, session, terminal, container).
        if !self.threads[slot as usize].complete {
            let ptid = ev.int_named("ptid");
            let pid = ev.int_named("pid");
            let parent = ptid.and_then(|p| self.thread(p)).cloned();
            let t = &mut self.threads[slot as usize];
            if let Some(p) = ptid {
                t.ptid = p;
            }
            if let Some(p) = pid {
                t.pid = p;
            }
            if let Some(p) = parent {
                t.uid = p.uid;
                t.gid = p.gid;
                t.loginuid = p.loginuid;
                t.sid = p.sid;
                t.tty = p.tty;
                t.vpgid = p.vpgid;
                t.container_id = p.container_id;
            }
        }
        let t = &mut self.threads[slot as usize];
        if let Some(v) = ev.text_named("exe") {
            t.exe = v.to_vec();
        }
        if let Some(v) = ev.raw_named("args") {
            t.args = v.to_vec();
        }
        if let Some(v) = ev.text_named("cwd") {
            t.cwd = v.to_vec();
        }
        match ev.text_named("comm") {
            Some(v) => t.comm = v.to_vec(),
            None => t.comm = basename(&t.exe).to_vec(),
        }
        if let Some(v) = ev.raw_named("env") {
            t.env = v.to_vec();
        }
        if let Some(v) = ev.raw_named("cgroups") {
            t.container_id = container_id(v);
        }
        if let Some(v) = ev.uint_named("tty") {
            t.tty = v as u32;
        }
        if let Some(v) = ev.uint_named("loginuid") {
            t.loginuid = v as u32;
        }
        if let Some(v) = ev.uint_named("uid") {
            t.uid = v as u32;
        }
        if let Some(v) = ev.uint_named("gid") {
            t.gid = v as u32;
        }
        if let Some(v) = ev.uint_named("cap_permitted") {
            t.cap_permitted = v;
        }
        if let Some(v) = ev.uint_named("cap_effective") {
            t.cap_effective = v;
        }
        if let Some(v) = ev.uint_named("cap_inheritable") {
            t.cap_inheritable = v;
        }
        if let Some(v) = ev.uint_named("flags") {
            t.exe_writable = v & 1 != 0;
            t.exe_upper_layer = v & 2 != 0;
            t.exe_from_memfd = v & 4 != 0;
        }
        if let Some(v) = ev.int_named("pid") {
            t.pid = v;
        }
        // exepath: the kernel's trusted path, else execve's filename, else argv[0] resolved.
        let exepath = ev
            .text_named("trusted_exepath")
            .filter(|p| !p.is_empty())
            .map(<[u8]>::to_vec)
            .or_else(|| ev.text_named("filename").map(<[u8]>::to_vec))
            .or(enter_filename)
            .unwrap_or_else(|| t.exe.clone());
        t.exepath = if exepath.starts_with(b"/") || exepath.is_empty() {
            exepath
        } else {
            resolve(&t.cwd, &exepath)
        };
        t.complete = true;
    }
}

/// What a clone/fork exit says about the process (the same for parent and child).
fn fill_from_clone(t: &mut Thread, ev: &Event) {
    if let Some(v) = ev.text_named("exe") {
        t.exe = v.to_vec();
    }
    if let Some(v) = ev.raw_named("args") {
        t.args = v.to_vec();
    }
    if let Some(v) = ev.text_named("cwd") {
        t.cwd = v.to_vec();
    }
    if let Some(v) = ev.text_named("comm") {
        t.comm = v.to_vec();
    }
    if let Some(v) = ev.raw_named("cgroups") {
        t.container_id = container_id(v);
    }
    if let Some(v) = ev.uint_named("uid") {
        t.uid = v as u32;
    }
    if let Some(v) = ev.uint_named("gid") {
        t.gid = v as u32;
    }
    if let Some(v) = ev.int_named("vpid") {
        t.vpid = v;
    }
}

/// `a:b->c:d` as libsinsp names connected inet sockets (IPv6 addresses in brackets is not
/// what libsinsp does; it writes them bare, and so does this).
fn tuple_name(a: Option<IpAddr>, ap: u16, b: Option<IpAddr>, bp: u16) -> Vec<u8> {
    let mut s = addr_name(a, ap);
    s.extend_from_slice(b"->");
    s.extend_from_slice(&addr_name(b, bp));
    s
}

fn addr_name(a: Option<IpAddr>, p: u16) -> Vec<u8> {
    match a {
        Some(a) => format!("{a}:{p}").into_bytes(),
        None => format!(":{p}").into_bytes(),
    }
}

pub(crate) fn basename(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&c| c == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// Joins a relative path to a base directory and normalises `.` and `..`, as libsinsp does
/// for open paths; absolute paths are only normalised.
pub(crate) fn resolve(base: &[u8], path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let joined_base: &[u8] = if path.starts_with(b"/") { b"" } else { base };
    for comp in joined_base
        .split(|&c| c == b'/')
        .chain(path.split(|&c| c == b'/'))
    {
        match comp {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(path.len() + base.len() + 1);
    for p in &parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The container id in a process's cgroups: moved to `moat-runtime` so that live process
/// events share it.
pub use moat_runtime::live::container_id;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_like_libsinsp() {
        assert_eq!(resolve(b"/home/u", b"a.txt"), b"/home/u/a.txt");
        assert_eq!(resolve(b"/home/u/", b"../x/./y"), b"/home/x/y");
        assert_eq!(resolve(b"/anything", b"/etc/passwd"), b"/etc/passwd");
        assert_eq!(resolve(b"/", b".."), b"/");
    }

    #[test]
    fn container_ids_from_cgroups() {
        let id = "3ad7b26ded6d8e7b23da7d48fe889434573036c27ae5a74837233de441c3601e";
        let cg = format!("cpuset=/\0cpu=/docker/{id}\0");
        assert_eq!(container_id(cg.as_bytes()), b"3ad7b26ded6d");
        let cg = format!("0::/system.slice/cri-containerd-{id}.scope\0");
        assert_eq!(container_id(cg.as_bytes()), b"3ad7b26ded6d");
        assert_eq!(container_id(b"cpu=/user.slice\0memory=/\0"), b"");
    }
}
