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
                    let Some((exepath, exe, args)) = fs.exec_signature(pid) else {
                        continue;
                    };
                    if exepath == old.exepath && exe == old.exe && args == old.args {
                        old
                    } else {
                        let Some(cur) = fs.read(pid) else { continue };
                        if self.scanned {
                            changes.push(Change::Exec(cur.clone()));
                        }
                        cur
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
