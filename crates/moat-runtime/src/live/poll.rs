//! The fallback without the connector: `/proc` scanned at an interval, each scan compared
//! with the last. A pid that is new (or whose start time changed: a reused pid) is an
//! execution, a pid whose executable or command line changed executed again, a pid that
//! is gone (or a zombie) exited. What this misses: processes that start and end between two scans, all
//! but the last of several executions in one interval, and exit codes.

use super::procfs::{Proc, Procfs};
use std::collections::HashMap;

/// A change between two scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Exec(Proc),
    Exit(Proc),
}

#[derive(Default)]
pub struct Poller {
    /// pid -> (start time, the process as last seen).
    seen: HashMap<i64, (u64, Proc)>,
    scanned: bool,
}

impl Poller {
    /// Scans `fs`; the first scan only records what runs (no changes).
    pub fn scan(&mut self, fs: &Procfs) -> std::io::Result<Vec<Change>> {
        let mut changes = Vec::new();
        let mut now: HashMap<i64, (u64, Proc)> = HashMap::with_capacity(self.seen.len());
        let mut pids = fs.pids()?;
        pids.sort_unstable();
        for pid in pids {
            let Some(st) = fs.stat(pid) else {
                continue;
            };
            // A zombie has exited; its command line and executable are gone until its parent
            // reaps it. Left out of the scan: one seen alive before is reported gone with
            // what it ran, not as a new execution of nothing.
            if st.exited {
                continue;
            }
            let start = st.start;
            let known = self.seen.remove(&pid).filter(|(s, _)| *s == start);
            let p = match known {
                Some((_, old)) => {
                    // Two reads tell whether it executed again; only then is it read whole.
                    // A process that is exiting (its memory gone, not yet a zombie) reads
                    // with no executable and no command line: it is kept as last seen, so
                    // that its exit is reported with what it ran.
                    match fs.exec_signature(pid) {
                        Some((exepath, exe, args))
                            if !(exepath.is_empty() && exe.is_empty())
                                && (exepath != old.exepath
                                    || exe != old.exe
                                    || args != old.args) =>
                        {
                            match fs.read(pid) {
                                Some(cur) if !(cur.exepath.is_empty() && cur.exe.is_empty()) => {
                                    if self.scanned {
                                        changes.push(Change::Exec(cur.clone()));
                                    }
                                    cur
                                }
                                _ => old,
                            }
                        }
                        _ => old,
                    }
                }
                None => {
                    let Some(cur) = fs.read(pid) else { continue };
                    // Kernel threads (no command line, no executable) never execute.
                    if self.scanned && !(cur.exepath.is_empty() && cur.exe.is_empty()) {
                        changes.push(Change::Exec(cur.clone()));
                    }
                    cur
                }
            };
            now.insert(pid, (start, p));
        }
        if self.scanned {
            let mut gone: Vec<_> = self.seen.drain().collect();
            gone.sort_unstable_by_key(|(pid, _)| *pid);
            for (_, (_, p)) in gone {
                changes.push(Change::Exit(p));
            }
        }
        self.seen = now;
        self.scanned = true;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(root: &std::path::Path, pid: i64, cmdline: &[u8], exe: Option<&str>) {
        let d = root.join(pid.to_string());
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("stat"),
            format!("{pid} (sh) S 1 {pid} 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0\n"),
        )
        .unwrap();
        std::fs::write(d.join("status"), "PPid:\t1\nUid:\t0\t0\t0\t0\n").unwrap();
        std::fs::write(d.join("comm"), "sh\n").unwrap();
        std::fs::write(d.join("cmdline"), cmdline).unwrap();
        let _ = std::fs::remove_file(d.join("exe"));
        if let Some(t) = exe {
            std::os::unix::fs::symlink(t, d.join("exe")).unwrap();
        }
    }

    fn names(c: &[Change]) -> Vec<String> {
        c.iter()
            .map(|c| match c {
                Change::Exec(p) => format!("exec {}", String::from_utf8_lossy(&p.cmdline())),
                Change::Exit(p) => format!("exit {}", String::from_utf8_lossy(&p.cmdline())),
            })
            .collect()
    }

    #[test]
    fn an_exiting_process_is_reported_gone_with_what_it_ran() {
        let dir = tempfile::tempdir().unwrap();
        let fs = Procfs::new(dir.path());
        let mut p = Poller::default();
        assert!(p.scan(&fs).unwrap().is_empty());
        process(dir.path(), 42, b"sh\0-c\0sleep 1\0", Some("/usr/bin/dash"));
        assert_eq!(names(&p.scan(&fs).unwrap()), ["exec sh -c sleep 1"]);
        // Exiting: the memory is gone (no command line, no executable), not yet a zombie.
        process(dir.path(), 42, b"", None);
        assert!(p.scan(&fs).unwrap().is_empty());
        std::fs::remove_dir_all(dir.path().join("42")).unwrap();
        assert_eq!(names(&p.scan(&fs).unwrap()), ["exit sh -c sleep 1"]);
        // A real second execution in the same process is seen.
        process(dir.path(), 43, b"sh\0", Some("/usr/bin/dash"));
        assert_eq!(names(&p.scan(&fs).unwrap()), ["exec sh"]);
        process(dir.path(), 43, b"cat\0x\0", Some("/usr/bin/cat"));
        assert_eq!(names(&p.scan(&fs).unwrap()), ["exec sh x"]);
    }
}
