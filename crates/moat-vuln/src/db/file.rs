//! The database as a file others can touch: where a writer writes, who may write, what it may
//! overwrite, and what killed writers left behind.
//!
//! * **Path.** [`resolve`] follows a symlinked database path (at most [`MAX_LINKS`] links) to
//!   the file it names: the temporary file is written beside that target and renamed over it,
//!   so the link stays a link.
//! * **Lock.** A writer holds [`WriteLock`]: an exclusive advisory lock (`flock`, std's
//!   [`std::fs::File::try_lock`]) on `<target>.lock` beside the database, taken before the
//!   current database is read and released after the rename. A second writer polls for it up
//!   to a bound ([`DEFAULT_LOCK_TIMEOUT`] unless told otherwise), saying once that it waits,
//!   then fails with [`DbError::Locked`]. Each writer therefore copies the database the last
//!   one committed: two concurrent imports both keep their records. The holder removes the
//!   lock file before it unlocks, and a writer that got a lock checks that the path still
//!   names the file it locked (else it locks again), so no two writers ever hold locks on
//!   different files of the same path, and no lock file is left behind. The lock is
//!   re-entrant per thread: a caller that took it (the CLI,
//!   to print that it waits and to check the target first) can build with [`super::Builder`],
//!   which takes it too, without locking itself out. Readers (scans) take no lock: they read
//!   whichever complete file the last rename put in place.
//! * **What may be overwritten.** [`inspect`] tells a moat database ([`Target::Moat`]) from a
//!   damaged or other-schema one ([`Target::Damaged`]), from another program's SQLite
//!   database ([`Target::Foreign`]: no `meta.format` marker, or a schema moat never writes)
//!   and from a file that is no SQLite database at all ([`Target::Unknown`]: a text file, or
//!   a moat database damaged past its header). `moat db import` replaces none but a moat
//!   database without `--force`; `moat db update` (which downloads everything again)
//!   rebuilds a damaged or unknown file, saying so, and refuses a foreign one.
//! * **Stale temporaries.** A killed writer leaves `<target>.tmp-<pid>` (and its `-journal`)
//!   or `<target>.download-<pid>` (`-<n>` after it: a download made ahead). The next writer,
//!   holding the lock, removes those whose process is gone (no `/proc/<pid>`) or that are
//!   older than [`STALE_AFTER`] (a pid reused by an unrelated process, or one from another
//!   pid namespace); a lock-respecting writer cannot be writing them, since the lock is held.

use super::DbError;
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::{Duration, Instant, SystemTime};

/// How long a writer waits for another writer's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// A temporary file of another writer older than this is removed even if its pid is alive.
pub const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Most symlinks followed from the database path to the file (as Linux's `ELOOP` bound).
pub const MAX_LINKS: usize = 40;

/// How often a waiting writer tries the lock again.
const POLL: Duration = Duration::from_millis(100);

/// The file a database path names: symlinks in the last component followed (relative ones
/// against the link's directory), at most [`MAX_LINKS`]. A dangling link resolves to where it
/// points (the database is created there); a path that is not a link is returned as it is.
pub fn resolve(path: &Path) -> Result<PathBuf, DbError> {
    let mut cur = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&cur).map_err(|source| DbError::Io {
                    path: cur.clone(),
                    source,
                })?;
                cur = match cur.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(cur),
        }
    }
    Err(DbError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("more than {MAX_LINKS} symlinks to follow")),
    })
}

/// `<target><suffix>` beside the target.
fn beside(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "moat.db".into());
    name.push(suffix);
    target.with_file_name(name)
}

/// The lock file of a (resolved) database path: `<target>.lock`.
pub fn lock_path(target: &Path) -> PathBuf {
    beside(target, ".lock")
}

/// Locks held by this process: (lock file, thread) -> how many guards share it.
static HELD: Mutex<Option<HashMap<(PathBuf, ThreadId), usize>>> = Mutex::new(None);

fn held<T>(f: impl FnOnce(&mut HashMap<(PathBuf, ThreadId), usize>) -> T) -> T {
    let mut guard = HELD.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(HashMap::new))
}

/// An exclusive writer's lock on a database (see the module documentation); released when
/// dropped.
#[derive(Debug)]
pub struct WriteLock {
    key: (PathBuf, ThreadId),
    /// The locked file (None for a nested guard of a lock this thread already holds).
    file: Option<File>,
}

impl WriteLock {
    /// Takes the lock of the database at `target` (symlinks resolved), waiting up to
    /// `timeout`; `waiting` is called once, with the lock file, if it has to wait. Fails with
    /// [`DbError::Locked`] when the wait runs out.
    pub fn acquire(
        target: &Path,
        timeout: Duration,
        waiting: &mut dyn FnMut(&Path),
    ) -> Result<WriteLock, DbError> {
        let path = lock_path(&resolve(target)?);
        let key = (path.clone(), std::thread::current().id());
        let nested = held(|h| {
            h.get_mut(&key).map(|n| {
                *n += 1;
            })
        });
        if nested.is_some() {
            return Ok(WriteLock { key, file: None });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let io = |source| DbError::Io {
            path: path.clone(),
            source,
        };
        let open = || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        };
        let mut file = open().map_err(io)?;
        let start = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                // The holder before may have removed the file between our open and lock.
                Ok(()) if same_file(&file, &path) => break,
                Ok(()) => {
                    file = open().map_err(io)?;
                    continue;
                }
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(DbError::Locked {
                    path: path.clone(),
                    waited: waited.as_secs(),
                });
            }
            if !told {
                told = true;
                waiting(&path);
            }
            std::thread::sleep(POLL.min(timeout.saturating_sub(waited)));
        }
        held(|h| h.insert(key.clone(), 1));
        Ok(WriteLock {
            key,
            file: Some(file),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.key.0
    }
}

/// Whether `path` still names the open `file` (same device and inode).
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        held(|h| {
            if let Some(n) = h.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    h.remove(&self.key);
                }
            }
        });
        if let Some(f) = self.file.take() {
            // Removed while still locked: a waiter that then gets the lock sees the path no
            // longer names its file and locks afresh.
            let _ = std::fs::remove_file(&self.key.0);
            let _ = f.unlock();
        }
    }
}

/// What is at a database path before a writer replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Nothing (or an empty file): a new database is created.
    Missing,
    /// A moat database of this schema.
    Moat,
    /// A moat database that is damaged or of another schema version: why.
    Damaged(String),
    /// An SQLite database that is not moat's (another program's, or one holding schema code
    /// moat never writes): why.
    Foreign(String),
    /// Not an SQLite file at all: a text file, or a moat database damaged past its header.
    Unknown(String),
}

/// The first bytes of every SQLite 3 database.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Looks at what is at `path` (symlinks followed), opening it as [`super::Database`] does
/// (hardened, read-only).
pub fn inspect(path: &Path) -> Result<Target, DbError> {
    let path = resolve(path)?;
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::Missing),
        Err(source) => return Err(DbError::Io { path, source }),
    };
    if !meta.is_file() {
        return Ok(Target::Unknown("not a regular file".into()));
    }
    if meta.len() == 0 {
        return Ok(Target::Missing);
    }
    let mut head = [0u8; 16];
    let n = File::open(&path)
        .and_then(|f| f.take(16).read(&mut head))
        .map_err(|source| DbError::Io {
            path: path.clone(),
            source,
        })?;
    if n < head.len() || &head != SQLITE_MAGIC {
        return Ok(Target::Unknown("not an SQLite database".into()));
    }
    Ok(match super::Database::open_read_only(&path) {
        Ok(_) => Target::Moat,
        Err(DbError::Corrupt { reason, .. })
            if reason.starts_with("not a moat database")
                || reason.starts_with("not written by moat") =>
        {
            Target::Foreign(reason)
        }
        Err(e @ (DbError::Corrupt { .. } | DbError::Schema { .. } | DbError::Sqlite { .. })) => {
            Target::Damaged(e.to_string())
        }
        Err(e) => return Err(e),
    })
}

/// Whether process `pid` exists (Linux: `/proc/<pid>`; elsewhere unknown, so assumed alive
/// and only [`STALE_AFTER`] applies).
fn alive(pid: u32) -> bool {
    let proc_dir = Path::new("/proc");
    if !proc_dir.join("self").exists() {
        return true;
    }
    proc_dir.join(pid.to_string()).exists()
}

/// Removes the temporaries other writers left beside `target` (see the module
/// documentation); call while holding the [`WriteLock`]. Returns the files removed.
pub fn remove_stale(target: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return removed;
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    let me = std::process::id();
    for entry in entries.flatten().take(100_000) {
        let file_name = entry.file_name();
        let Some(f) = file_name.to_str() else {
            continue;
        };
        let Some(rest) = f.strip_prefix(name.as_str()) else {
            continue;
        };
        // The pid, then nothing or `-journal` (a temporary) or `-<n>` (a download).
        let Some(pid) = [".tmp-", ".download-"]
            .iter()
            .find_map(|p| rest.strip_prefix(p))
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if (!alive(pid) || old) && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed.sort();
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_links_and_bounds_loops() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.db");
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink("real.db", &link).unwrap();
        assert_eq!(resolve(&link).unwrap(), real);
        assert_eq!(resolve(&real).unwrap(), real);
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", &b).unwrap();
        assert!(resolve(&a).unwrap_err().to_string().contains("symlinks"));
    }

    #[test]
    fn lock_is_exclusive_across_threads_and_reentrant_within_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("moat.db");
        let first = WriteLock::acquire(&db, Duration::ZERO, &mut |_| {}).unwrap();
        // The same thread again: nested, no self-deadlock.
        let nested = WriteLock::acquire(&db, Duration::ZERO, &mut |_| {}).unwrap();
        drop(nested);
        let db2 = db.clone();
        let other = std::thread::spawn(move || {
            let mut waited = 0;
            let r = WriteLock::acquire(&db2, Duration::from_millis(300), &mut |_| waited += 1);
            (r.map(|_| ()).map_err(|e| e.to_string()), waited)
        })
        .join()
        .unwrap();
        let (r, waited) = other;
        assert_eq!(waited, 1);
        let msg = r.unwrap_err();
        assert!(
            msg.contains("moat.db.lock") && msg.contains("another"),
            "{msg}"
        );
        drop(first);
        assert!(!lock_path(&db).exists(), "the holder removes the lock file");
        let db3 = db.clone();
        std::thread::spawn(move || {
            WriteLock::acquire(&db3, Duration::ZERO, &mut |_| {}).unwrap();
        })
        .join()
        .unwrap();
    }

    #[test]
    fn stale_temporaries_of_dead_processes_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("moat.db");
        // A pid above Linux's maximum (2^22) is never alive.
        let dead = dir.path().join("moat.db.tmp-99999999");
        let dead_journal = dir.path().join("moat.db.tmp-99999999-journal");
        let dead_download = dir.path().join("moat.db.download-99999999");
        let dead_ahead = dir.path().join("moat.db.download-99999999-3");
        let live = dir
            .path()
            .join(format!("moat.db.tmp-{}", std::process::id()));
        let parent = dir.path().join("moat.db.tmp-1");
        let other = dir.path().join("other.db.tmp-99999999");
        for p in [
            &dead,
            &dead_journal,
            &dead_download,
            &dead_ahead,
            &live,
            &parent,
            &other,
        ] {
            std::fs::write(p, b"x").unwrap();
        }
        let removed = remove_stale(&db);
        assert_eq!(removed, vec![dead_download, dead_ahead, dead, dead_journal]);
        assert!(live.exists() && parent.exists() && other.exists());
    }
}
