//! What `/proc/PID` says about a process: name, executable, arguments, user, parent and
//! container. Each parser takes the file's bytes so it can be tested on real file shapes.

use super::cgroup::container_id_from_proc;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The longest `cmdline` kept (longer ones are cut, as libsinsp cuts arguments).
pub const MAX_CMDLINE: usize = 4096;

/// One process as the rules see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proc {
    /// Process id (the thread group id) in the watcher's PID namespace.
    pub pid: i64,
    pub ppid: i64,
    /// The pid in the process's own PID namespace (`NSpid`'s last entry).
    pub vpid: i64,
    /// `comm`: the executable's file name, at most 15 bytes (`proc.name`).
    pub comm: Vec<u8>,
    /// `argv[0]` (`proc.exe`).
    pub exe: Vec<u8>,
    /// The executable's full path, from `/proc/PID/exe` (`proc.exepath`).
    pub exepath: Vec<u8>,
    /// The arguments after `argv[0]`, each followed by a NUL.
    pub args: Vec<u8>,
    pub cwd: Vec<u8>,
    /// Effective user and group ids (`Uid:`/`Gid:` lines of `status`).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// The container's id (64 hex digits from the cgroup; `container.id` shows the first
    /// 12), empty on the host.
    pub container_id: Vec<u8>,
}

impl Proc {
    /// `proc.cmdline`: the name and the arguments, space-separated (Falco's shape).
    pub fn cmdline(&self) -> Vec<u8> {
        crate::field::proc_cmdline(&self.comm, &self.args)
    }

    /// `proc.args`: the arguments after `argv[0]`, space-separated.
    pub fn args_joined(&self) -> Vec<u8> {
        crate::field::proc_args(&self.args)
    }
}

/// Splits `/proc/PID/cmdline` (NUL-separated, usually NUL-terminated) into `argv[0]` and
/// the rest (each argument followed by a NUL), cut at [`MAX_CMDLINE`] bytes.
pub fn parse_cmdline(raw: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let raw = &raw[..raw.len().min(MAX_CMDLINE)];
    let mut it = raw.splitn(2, |&c| c == 0);
    let argv0 = it.next().unwrap_or_default().to_vec();
    let mut args = Vec::new();
    if let Some(rest) = it.next() {
        for a in rest.split(|&c| c == 0).filter(|a| !a.is_empty()) {
            args.extend_from_slice(a);
            args.push(0);
        }
    }
    (argv0, args)
}

/// What `/proc/PID/status` says: `(ppid, effective uid, effective gid, innermost NSpid)`.
pub fn parse_status(text: &[u8]) -> (Option<i64>, Option<u32>, Option<u32>, Option<i64>) {
    let (mut ppid, mut uid, mut gid, mut nspid) = (None, None, None, None);
    for line in text.split(|&c| c == b'\n') {
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        let (key, rest) = (&line[..colon], &line[colon + 1..]);
        let words = || {
            rest.split(|c| c.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .filter_map(|w| std::str::from_utf8(w).ok())
        };
        match key {
            b"PPid" => ppid = words().next().and_then(|w| w.parse().ok()),
            // Real, effective, saved, filesystem: the rules' user.uid is the effective one.
            b"Uid" => uid = words().nth(1).and_then(|w| w.parse().ok()),
            b"Gid" => gid = words().nth(1).and_then(|w| w.parse().ok()),
            b"NSpid" => nspid = words().next_back().and_then(|w| w.parse().ok()),
            _ => {}
        }
    }
    (ppid, uid, gid, nspid)
}

/// The parent pid, start time (in clock ticks since boot) and whether the process has
/// exited (a zombie, or dead) from `/proc/PID/stat`. The
/// name in parentheses may hold spaces and parentheses: fields are counted after the last
/// `)`.
pub fn parse_stat(text: &[u8]) -> Option<Stat> {
    let close = text.iter().rposition(|&c| c == b')')?;
    let mut f = text[close + 1..]
        .split(|c| c.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .filter_map(|w| std::str::from_utf8(w).ok());
    // After the name: state(3) ppid(4) ... starttime(22).
    let state = f.next()?;
    let ppid = f.next()?.parse().ok()?;
    let start = f.nth(22 - 5)?.parse().ok()?;
    Some(Stat {
        ppid,
        start,
        exited: matches!(state, "Z" | "X" | "x"),
    })
}

/// What `/proc/PID/stat` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub ppid: i64,
    pub start: u64,
    /// A zombie (exited, not yet reaped: its command line and executable are gone) or dead.
    pub exited: bool,
}

/// `uid -> name` from a `passwd` file.
pub fn parse_passwd(text: &[u8]) -> HashMap<u32, Vec<u8>> {
    let mut m = HashMap::new();
    for line in text.split(|&c| c == b'\n') {
        let mut f = line.split(|&c| c == b':');
        let (Some(name), Some(_), Some(uid)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if let Some(uid) = std::str::from_utf8(uid).ok().and_then(|u| u.parse().ok()) {
            m.entry(uid).or_insert_with(|| name.to_vec());
        }
    }
    m
}

/// Reads processes from a procfs mount (`/proc`, or a test's copy).
#[derive(Debug, Clone)]
pub struct Procfs {
    root: PathBuf,
}

impl Default for Procfs {
    fn default() -> Self {
        Procfs {
            root: PathBuf::from("/proc"),
        }
    }
}

fn trim_nl(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&b'\n') {
        v.pop();
    }
    v
}

fn link(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    std::fs::read_link(p)
        .map(|t| t.as_os_str().as_bytes().to_vec())
        .unwrap_or_default()
}

impl Procfs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Procfs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The process `pid`, or `None` when it is gone (or never was). Fields that cannot be
    /// read (a zombie has no `exe`, a kernel thread no `cmdline`) are left empty.
    pub fn read(&self, pid: i64) -> Option<Proc> {
        let dir = self.root.join(pid.to_string());
        let status = std::fs::read(dir.join("status")).ok()?;
        let (ppid, uid, gid, nspid) = parse_status(&status);
        let comm = trim_nl(std::fs::read(dir.join("comm")).unwrap_or_default());
        let raw = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        let (exe, args) = parse_cmdline(&raw);
        let mut exepath = link(&dir.join("exe"));
        // A deleted executable reads as "/path (deleted)": the path is what rules compare.
        if let Some(p) = exepath.strip_suffix(b" (deleted)") {
            exepath = p.to_vec();
        }
        let cgroup = std::fs::read(dir.join("cgroup")).unwrap_or_default();
        Some(Proc {
            pid,
            ppid: ppid.unwrap_or(0),
            vpid: nspid.unwrap_or(pid),
            comm,
            exe,
            exepath,
            args,
            cwd: link(&dir.join("cwd")),
            uid,
            gid,
            container_id: container_id_from_proc(&cgroup),
        })
    }

    /// What changes when `pid` executes: its executable's path and its command line (as
    /// [`parse_cmdline`] splits it). Two reads, for polling.
    pub fn exec_signature(&self, pid: i64) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let dir = self.root.join(pid.to_string());
        let raw = std::fs::read(dir.join("cmdline")).ok()?;
        let (exe, args) = parse_cmdline(&raw);
        let mut exepath = link(&dir.join("exe"));
        if let Some(p) = exepath.strip_suffix(b" (deleted)") {
            exepath = p.to_vec();
        }
        Some((exepath, exe, args))
    }

    /// The parent pid, start time and state of `pid` (cheap: one small file).
    pub fn stat(&self, pid: i64) -> Option<Stat> {
        parse_stat(&std::fs::read(self.root.join(pid.to_string()).join("stat")).ok()?)
    }

    /// The pids of the processes (not threads) now in the procfs.
    pub fn pids(&self) -> std::io::Result<Vec<i64>> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(&self.root)? {
            let Ok(e) = e else { continue };
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i64>().ok()) {
                v.push(pid);
            }
        }
        Ok(v)
    }

    /// The `passwd` file as the process sees it (its root), for user names in containers.
    pub fn passwd_of(&self, pid: i64) -> HashMap<u32, Vec<u8>> {
        let p = self
            .root
            .join(pid.to_string())
            .join("root")
            .join("etc/passwd");
        std::fs::read(p)
            .map(|t| parse_passwd(&t))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_splits_argv0_and_args() {
        let (exe, args) = parse_cmdline(b"/bin/sh\0-c\0echo hi\0");
        assert_eq!(exe, b"/bin/sh");
        assert_eq!(args, b"-c\0echo hi\0");
        let p = Proc {
            comm: b"sh".to_vec(),
            args,
            ..Proc::default()
        };
        assert_eq!(p.cmdline(), b"sh -c echo hi");
        assert_eq!(p.args_joined(), b"-c echo hi");
        assert_eq!(parse_cmdline(b""), (Vec::new(), Vec::new()));
        // Not NUL-terminated (a process that rewrote its argv), empty arguments dropped.
        assert_eq!(
            parse_cmdline(b"nginx: worker\0\0x"),
            (b"nginx: worker".to_vec(), b"x\0".to_vec())
        );
        let long = vec![b'a'; MAX_CMDLINE * 2];
        assert_eq!(parse_cmdline(&long).0.len(), MAX_CMDLINE);
    }

    #[test]
    fn status_gives_ppid_effective_ids_and_nspid() {
        let s = b"Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4200\nTracerPid:\t0\nUid:\t1000\t0\t0\t0\nGid:\t100\t27\t27\t27\nNSpid:\t4242\t1\n";
        assert_eq!(parse_status(s), (Some(4200), Some(0), Some(27), Some(1)));
        assert_eq!(parse_status(b"garbage"), (None, None, None, None));
        assert_eq!(parse_status(b"PPid:\tx\nUid:\n"), (None, None, None, None));
    }

    #[test]
    fn stat_counts_fields_after_the_name() {
        let s = b"4242 (we ird) name)) S 4200 4242 4200 34816 4242 4194304 120 0 0 0 0 0 0 0 20 0 1 0 987654 2539520 220 18446744073709551615\n";
        assert_eq!(
            parse_stat(s),
            Some(Stat {
                ppid: 4200,
                start: 987654,
                exited: false
            })
        );
        let zombie = String::from_utf8_lossy(s).replacen(") S ", ") Z ", 1);
        assert!(parse_stat(zombie.as_bytes()).is_some_and(|st| st.exited));
        assert_eq!(parse_stat(b"1 (init"), None);
        assert_eq!(parse_stat(b"1 (x) S"), None);
    }

    #[test]
    fn passwd_maps_uids() {
        let m = parse_passwd(
            b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/sbin/nologin\n#bad\nx:y\n",
        );
        assert_eq!(m.get(&0).map(Vec::as_slice), Some(&b"root"[..]));
        assert_eq!(m.get(&65534).map(Vec::as_slice), Some(&b"nobody"[..]));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn reads_this_process() {
        let fs = Procfs::default();
        if !fs.root().join("self").exists() {
            eprintln!("skipping: no /proc");
            return;
        }
        let me = i64::from(std::process::id());
        let p = fs.read(me).expect("this process is in /proc");
        assert_eq!(p.pid, me);
        assert!(p.ppid > 0);
        assert!(!p.comm.is_empty());
        assert!(p.exepath.starts_with(b"/"));
        assert!(fs.pids().expect("read /proc").contains(&me));
        assert_eq!(fs.stat(me).map(|s| s.ppid), Some(p.ppid));
        assert_eq!(fs.read(-5), None);
    }
}
