//! Live process events on this host: executions and exits, from the kernel's
//! process-events connector ([`netlink`], root) or by polling `/proc` ([`poll`]), each
//! enriched from `/proc/PID` ([`procfs`]) with its name, executable, arguments, user,
//! ancestors and container ([`cgroup`]).
//!
//! [`LiveSource`] offers the rules exactly the fields these sources fill (see
//! [`LiveSource::FIELDS`]); a rule naming another syscall field is skipped with a
//! `LOAD_UNKNOWN_FIELD` warning when the rules load, and a rule whose `evt.type` allows
//! only event types these sources never produce is listed by [`unseen_rules`].

pub mod cgroup;
pub mod netlink;
pub mod pods;
pub mod poll;
pub mod procfs;
pub mod runtime;
mod source;

pub use cgroup::{container_full_id, container_id, container_id_from_proc};
pub use pods::{PodList, PodListError};
pub use procfs::{Proc, Procfs};
pub use runtime::{ContainerMeta, RuntimeSocket};
pub use source::{EXECVE, LiveField, LiveSource, PROCEXIT, UNSEEN, unseen_rules};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How deep `proc.aname[N]` and friends look (Falco's own limit is similar).
pub const MAX_ANCESTORS: usize = 16;

/// Errors of the live sources.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("process-events connector: {what}: {source}")]
    Netlink {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{0}")]
    Malformed(netlink::MalformedMessage),
    #[error("cannot read {path}: {source}")]
    Procfs {
        path: String,
        source: std::io::Error,
    },
}

/// What happened to a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// It executed a program (Falco's `execve` exit event, `evt.dir = <`).
    Exec,
    /// It ended (Falco's `procexit`).
    Exit,
}

/// One event: the process as it was at the event, and its ancestors (parent first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcEvent {
    pub kind: Kind,
    /// Nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// Events of this watch so far, this one included (`evt.num`).
    pub num: u64,
    pub proc: Proc,
    pub ancestors: Vec<Proc>,
    /// Exit status as `wait` reports it, for exits seen by the connector.
    pub exit_code: Option<u32>,
    /// `user.name`, when the process's `passwd` names its uid.
    pub user_name: Option<Vec<u8>>,
    /// The container's name and image, when a pod list or a runtime socket said.
    pub container: Option<Arc<ContainerMeta>>,
}

/// Where events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Netlink,
    Proc,
}

enum Inner {
    Netlink(netlink::Connector, Vec<netlink::KernelEvent>),
    Poll(poll::Poller),
}

/// A running live watch: call [`Watcher::next`] in a loop.
pub struct Watcher {
    inner: Inner,
    fs: Procfs,
    /// What each process known to the watcher looked like at its last exec (or fork), for
    /// its exit event (by then `/proc/PID` may be gone).
    table: HashMap<i64, Proc>,
    passwd: HashMap<Vec<u8>, HashMap<u32, Vec<u8>>>,
    num: u64,
    /// Messages the kernel dropped (connector overruns).
    pub overruns: u64,
    /// Executions whose process was gone from /proc before it could be read (not reported:
    /// nothing is known of them but a pid).
    pub vanished: u64,
    poll_interval: Duration,
    next_poll: Instant,
    runtime: Option<RuntimeSocket>,
    pods: Option<PodList>,
}

/// Most processes remembered for their exits (bounded by `pid_max` in practice; this cap
/// guards against a hostile or broken procfs).
const MAX_TABLE: usize = 1 << 22;

impl Watcher {
    /// The process-events connector.
    pub fn netlink(fs: Procfs) -> Result<Watcher, LiveError> {
        let c = netlink::Connector::open()?;
        Ok(Watcher::with(
            Inner::Netlink(c, Vec::new()),
            fs,
            Duration::ZERO,
        ))
    }

    /// Polling `fs` every `interval`.
    pub fn poll(fs: Procfs, interval: Duration) -> Result<Watcher, LiveError> {
        let mut p = poll::Poller::default();
        p.scan(&fs).map_err(|e| LiveError::Procfs {
            path: fs.root().display().to_string(),
            source: e,
        })?;
        let mut w = Watcher::with(Inner::Poll(p), fs, interval);
        w.next_poll = Instant::now() + interval;
        Ok(w)
    }

    fn with(inner: Inner, fs: Procfs, poll_interval: Duration) -> Watcher {
        Watcher {
            inner,
            fs,
            table: HashMap::new(),
            passwd: HashMap::new(),
            num: 0,
            overruns: 0,
            vanished: 0,
            poll_interval,
            next_poll: Instant::now(),
            runtime: None,
            pods: None,
        }
    }

    /// Asks `rt` for the name and image of each container seen (after the pod list).
    pub fn set_runtime(&mut self, rt: RuntimeSocket) {
        self.runtime = Some(rt);
    }

    /// Looks each container seen up in `pods` first.
    pub fn set_pods(&mut self, pods: PodList) {
        self.pods = Some(pods);
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Netlink(..) => Backend::Netlink,
            Inner::Poll(_) => Backend::Proc,
        }
    }

    /// Waits up to `timeout` for events and appends them to `out`.
    pub fn next(&mut self, timeout: Duration, out: &mut Vec<ProcEvent>) -> Result<(), LiveError> {
        match &mut self.inner {
            Inner::Netlink(c, kev) => {
                kev.clear();
                if !c.recv(timeout, kev)? {
                    return Ok(());
                }
                let kev = std::mem::take(kev);
                for k in &kev {
                    self.kernel_event(*k, out);
                }
                if let Inner::Netlink(_, slot) = &mut self.inner {
                    *slot = kev;
                }
            }
            Inner::Poll(_) => {
                let now = Instant::now();
                if self.next_poll > now {
                    std::thread::sleep((self.next_poll - now).min(timeout));
                    if Instant::now() < self.next_poll {
                        return Ok(());
                    }
                }
                self.next_poll = Instant::now() + self.poll_interval;
                let Inner::Poll(p) = &mut self.inner else {
                    return Ok(());
                };
                let changes = p.scan(&self.fs).map_err(|e| LiveError::Procfs {
                    path: self.fs.root().display().to_string(),
                    source: e,
                })?;
                let time_ns = now_ns();
                for c in changes {
                    match c {
                        poll::Change::Exec(proc) => self.exec(proc, time_ns, out),
                        poll::Change::Exit(proc) => self.exit(proc, time_ns, None, out),
                    }
                }
            }
        }
        Ok(())
    }

    fn kernel_event(&mut self, k: netlink::KernelEvent, out: &mut Vec<ProcEvent>) {
        use netlink::KernelEvent as K;
        // The connector's timestamps count from boot; alerts carry wall-clock time.
        match k {
            K::Exec { pid, tgid, .. } if pid == tgid => match self.fs.read(tgid) {
                Some(p) => self.exec(p, now_ns(), out),
                None => self.vanished += 1,
            },
            K::Exec { .. } => {}
            K::Fork {
                parent_tgid,
                child_pid,
                child_tgid,
                ..
            } if child_pid == child_tgid => {
                // A forked child runs its parent's program until it executes another.
                let child = match self.table.get(&parent_tgid) {
                    Some(parent) => Some(Proc {
                        pid: child_tgid,
                        ppid: parent_tgid,
                        vpid: child_tgid,
                        ..parent.clone()
                    }),
                    None => self.fs.read(child_tgid),
                };
                if let Some(c) = child {
                    self.remember(c);
                }
            }
            K::Fork { .. } => {}
            K::Exit {
                pid,
                tgid,
                exit_code,
                ..
            } if pid == tgid => {
                let p = self.table.remove(&tgid).or_else(|| self.fs.read(tgid));
                if let Some(p) = p {
                    self.exit(p, now_ns(), Some(exit_code), out);
                }
            }
            K::Exit { .. } => {}
            K::Overrun => self.overruns += 1,
            K::Ack { .. } => {}
        }
    }

    fn remember(&mut self, p: Proc) {
        if self.table.len() >= MAX_TABLE {
            self.table.clear();
        }
        self.table.insert(p.pid, p);
    }

    fn exec(&mut self, p: Proc, time_ns: u64, out: &mut Vec<ProcEvent>) {
        self.remember(p.clone());
        let ev = self.event(Kind::Exec, p, time_ns, None);
        out.push(ev);
    }

    fn exit(&mut self, p: Proc, time_ns: u64, code: Option<u32>, out: &mut Vec<ProcEvent>) {
        self.table.remove(&p.pid);
        let ev = self.event(Kind::Exit, p, time_ns, code);
        out.push(ev);
    }

    fn event(&mut self, kind: Kind, proc: Proc, time_ns: u64, exit_code: Option<u32>) -> ProcEvent {
        self.num += 1;
        let mut ancestors = Vec::new();
        let mut ppid = proc.ppid;
        while ppid > 0 && ancestors.len() < MAX_ANCESTORS {
            let a = match self.table.get(&ppid) {
                Some(a) if self.fs.stat(ppid).is_some() => a.clone(),
                _ => match self.fs.read(ppid) {
                    Some(a) => a,
                    None => break,
                },
            };
            ppid = a.ppid;
            ancestors.push(a);
        }
        let user_name = proc.uid.and_then(|uid| {
            let fs = &self.fs;
            let pid = proc.pid;
            let key = proc.container_id.clone();
            let map = self.passwd.entry(key).or_insert_with(|| {
                let m = fs.passwd_of(pid);
                if m.is_empty() {
                    procfs::parse_passwd(&std::fs::read("/etc/passwd").unwrap_or_default())
                } else {
                    m
                }
            });
            map.get(&uid).cloned()
        });
        // A container's users are read once per container; cap the cache like the table.
        if self.passwd.len() > 4096 {
            self.passwd.clear();
        }
        let container = if proc.container_id.is_empty() {
            None
        } else {
            let id = &proc.container_id;
            self.pods
                .as_ref()
                .and_then(|p| p.lookup(id))
                .or_else(|| self.runtime.as_mut().and_then(|rt| rt.lookup(id)))
        };
        ProcEvent {
            kind,
            time_ns,
            num: self.num,
            proc,
            ancestors,
            exit_code,
            user_name,
            container,
        }
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
