//! One pass over a layer (a tar stream) or a directory tree, producing [`LayerFacts`].
//!
//! Both walkers ask each active analyzer whether it wants a regular file's [`Entry`] (path,
//! mode, size) and check the entry limit ([`Dispatch::wanted`]); the file is then read
//! ([`Dispatch::regular`] for a layer, the worker for a directory), the first bytes first
//! if some analyzer needs them to decide ([`Interest::Sniff`]), and the same bytes go to
//! every analyzer that wants them: one read per file however many analyzers look at it.
//! Entries nobody wants are never read: the tar reader discards their bytes, which still
//! flow through the image reader's digest, so the layer digest covers every byte.
//!
//! Layers are read with [`moat_image::tarstream::TarReader`]: a sparse file is offered with
//! its expanded size and read as the file it extracts to; the entry limit applies to what
//! is read, so a huge sparse file nobody wants costs nothing. An entry the reader cannot
//! read (an unknown sparse format, an unusable map, an unknown type) is a warning naming it.
//! Names are resolved as Docker resolves them ([`normalize`]); a name or a hardlink target
//! leaving the root fails the layer, as it fails `docker load`. A name that is not UTF-8 keeps
//! its other bytes visible and distinct ([`name_text`]), so two names differing only in them
//! never collide (one hiding the other, or a whiteout deleting the wrong one).
//!
//! The walker only decides and reads; the analyzers run on the scan's [`Pool`] of threads
//! (`pool`): a layer's walker hands each wanted file's bytes over, a directory target's
//! walker hands over paths and directories, which the workers list, open and read in
//! parallel. Results come back in the walker's order (a directory target's are sorted into
//! the order of a depth-first walk by name), so the facts are the same on every run. Each
//! analyzer call is held to `ScanOptions::analyzer_timeout`: past it, the call is
//! abandoned, and the file gets a `slow-file` warning naming the analyzer (see `pool`).
//!
//! What a layer does to each path becomes a [`Change`] for the merge: a file with the facts
//! of all analyzers, a symlink, a directory, a whiteout, an opaque directory, or a shadow
//! (something that is no directory and that nobody analyses now stands there and hides
//! what was there and below). Every entry leaves a change: a file no analyzer wants still
//! replaces a lower layer's analysed file or directory (analyzers' interest may hang on the
//! mode or the size), and a secret in a file a later layer replaced is known to be deleted.
//!
//! Hardlinks: a file some analyzer wanted by its path ([`Interest::Yes`]) is kept in memory
//! (up to [`KEEP_FOR_HARDLINKS`] bytes per layer) so that a later hardlink to it, whose path
//! an analyzer wants, is analysed from those bytes; analyzers that only sniff do not see
//! hardlinks.

mod pool;

pub(crate) use pool::{Pool, Shared};

use crate::analyzer::{Entry, Interest};
use crate::error::ScanError;
use crate::fact::FileFacts;
use moat_image::tarstream::{EntryKind, TarError, TarReader};
use moat_model::{Code, Diagnostic};
use pool::{Data, Feed, ListedKind, Made, Offer, Place};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// A change that a layer makes to one path.
#[derive(Debug, Clone)]
pub enum Change {
    /// A regular file and what the analyzers made of it.
    File(Arc<FileFacts>),
    /// A symbolic link with its target as written.
    Symlink(String),
    /// `.wh.<name>`: the path and everything below it is deleted from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: the directory's contents from lower layers are hidden.
    Opaque,
    /// A directory: it replaces a file or symlink that stood at this path, and keeps what
    /// lies below it.
    Dir,
    /// Something that is not a directory and that nobody analyses (an executable that is no
    /// binary moat reads, a device, a file over the entry limit) now stands at this path: it
    /// hides what stood there and everything below it.
    Shadow,
}

/// What one layer (or directory tree) holds that matters to moat.
#[derive(Debug, Default)]
pub struct LayerFacts {
    /// Paths (relative, no leading `/`) and their changes, in archive order.
    pub changes: Vec<(String, Change)>,
    pub diagnostics: Vec<Diagnostic>,
    /// Entries seen, for statistics.
    pub entries: u64,
}

/// Why an entry name is refused.
#[derive(Debug, thiserror::Error)]
pub enum BadName {
    #[error("entry name {0:?} escapes the layer root")]
    Escapes(String),
}

/// The relative, `/`-separated form of an entry name as the runtime resolves it; `None` for
/// the root itself. `.` and empty parts go, `..` removes the part before it; an absolute
/// name lands under the root, where `..` stops (Docker joins names to the root and cleans
/// them); a relative name climbing above the root is refused (Docker refuses the layer).
/// Names need not be UTF-8: see [`name_text`] for how other bytes show.
fn normalize(raw: &[u8]) -> Result<Option<String>, BadName> {
    let s = name_text(raw);
    let absolute = s.starts_with('/');
    let mut out = String::with_capacity(s.len());
    for comp in s.split('/') {
        match comp {
            "" | "." => {}
            ".." => match out.rfind('/') {
                Some(i) => out.truncate(i),
                None if !out.is_empty() => out.clear(),
                None if absolute => {}
                None => return Err(BadName::Escapes(s.into_owned())),
            },
            c => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(c);
            }
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// A name's bytes as text, distinctly: valid UTF-8 as it is, each byte that is not part of
/// valid UTF-8 as U+FFFD and its two hex digits (`caf\xe9` is `caf\u{fffd}e9`), and a
/// U+FFFD the name itself holds doubled. Two names that differ only in their other bytes
/// therefore stay two paths (a whiteout of one never deletes the other), and the text still
/// reads as the lossy form with the bytes shown.
fn name_text(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    const MARK: char = '\u{fffd}';
    if let Ok(s) = std::str::from_utf8(raw)
        && !s.contains(MARK)
    {
        return s.into();
    }
    let mut out = String::with_capacity(raw.len() + 8);
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            out.push(c);
            if c == MARK {
                out.push(MARK);
            }
        }
        for b in chunk.invalid() {
            out.push(MARK);
            out.push_str(&format!("{b:02x}"));
        }
    }
    out.into()
}

/// A diagnostic about the file at `path` (relative).
fn diag(code: Code, message: String, path: &str, layer: Option<usize>) -> Diagnostic {
    Diagnostic::new(code, message).at(format!("/{path}"), layer)
}

/// What [`Dispatch::wanted`] says of one file.
pub(crate) enum Wanted {
    /// No analyzer is interested.
    Ignored,
    /// Only sniffers were interested, and the file is over the entry limit.
    Declined,
    /// An analyzer wanted the file by its path, but it is over the entry limit.
    TooLarge,
    /// These analyzers (index, interest) want to see its bytes.
    Open(Vec<(usize, Interest)>),
}

/// What [`Dispatch::regular`] made of one file.
pub(crate) enum Outcome {
    /// No analyzer is interested.
    Ignored,
    /// Some analyzer was interested but none took the bytes in the end (a sniff said no, or
    /// only sniffers were interested and the file is over the entry limit).
    Declined,
    /// An analyzer wanted the file by its path, but it is over the entry limit.
    TooLarge,
    /// Read once, for the analyzers left `interested` (index, interest). `keep`: an
    /// analyzer wanted it by its path, so a later hardlink's analyzers may want the same
    /// bytes.
    Read {
        data: Vec<u8>,
        interested: Vec<(usize, Interest)>,
        keep: bool,
    },
}

/// The active analyzers of a scan, asked about each entry on the walking thread.
pub(crate) struct Dispatch<'a> {
    analyzers: &'a [Shared],
    max_entry_bytes: u64,
    /// The analyzers interested in the current entry (index, interest).
    interested: Vec<(usize, Interest)>,
}

impl<'a> Dispatch<'a> {
    pub(crate) fn new(analyzers: &'a [Shared], max_entry_bytes: u64) -> Dispatch<'a> {
        Dispatch {
            analyzers,
            max_entry_bytes,
            interested: Vec::new(),
        }
    }

    /// Asks every analyzer about `e`; with `sniffing` false only path interest counts.
    /// Returns whether some analyzer said [`Interest::Yes`].
    fn ask(&mut self, e: &Entry, sniffing: bool) -> bool {
        self.interested.clear();
        let mut yes = false;
        for (i, a) in self.analyzers.iter().enumerate() {
            let interest = a.wants(e);
            match interest {
                Interest::No => continue,
                Interest::Yes => yes = true,
                Interest::Sniff(_) if sniffing => {}
                Interest::Sniff(_) => continue,
            }
            self.interested.push((i, interest));
        }
        yes
    }

    /// The analyzers that want `e` by its path alone (for hardlinks); `None` when none.
    pub(crate) fn wanted_by_path(&mut self, e: &Entry) -> Option<Vec<(usize, Interest)>> {
        self.ask(e, false).then(|| self.interested.clone())
    }

    /// Whether some analyzer wants to see the bytes of the regular file `e`.
    pub(crate) fn wanted(&mut self, e: &Entry) -> Wanted {
        let yes = self.ask(e, true);
        if self.interested.is_empty() {
            Wanted::Ignored
        } else if e.size > self.max_entry_bytes {
            if yes {
                Wanted::TooLarge
            } else {
                Wanted::Declined
            }
        } else {
            Wanted::Open(self.interested.clone())
        }
    }

    /// Offers a regular file to the analyzers, opening it with `open` only when one wants
    /// to see bytes, and reading it at most once (the head first when some sniff).
    pub(crate) fn regular<R: Read>(
        &mut self,
        e: &Entry,
        open: impl FnOnce() -> std::io::Result<R>,
    ) -> std::io::Result<Outcome> {
        let mut interested = match self.wanted(e) {
            Wanted::Ignored => return Ok(Outcome::Ignored),
            Wanted::Declined => return Ok(Outcome::Declined),
            Wanted::TooLarge => return Ok(Outcome::TooLarge),
            Wanted::Open(i) => i,
        };
        let mut data = Vec::new();
        let reader = open()?;
        if !pool::read_file(
            reader,
            e,
            self.analyzers,
            &mut interested,
            self.max_entry_bytes,
            &mut data,
        )? {
            return Ok(Outcome::Declined);
        }
        let keep = interested.iter().any(|(_, i)| *i == Interest::Yes);
        Ok(Outcome::Read {
            data,
            interested,
            keep,
        })
    }
}

/// Wanted files are kept (for hardlinks to them later in the same layer) up to this many
/// bytes per layer in all, so memory stays flat however many wanted files a layer holds;
/// a hardlink to a file that was not kept is reported as a warning.
const KEEP_FOR_HARDLINKS: usize = 8 << 20;

fn too_large(path: &str, layer: Option<usize>, size: u64, max: u64) -> Diagnostic {
    diag(
        Code::TooLarge,
        format!("{size} bytes is over the entry limit of {max}; not analysed"),
        path,
        layer,
    )
}

/// Walks one layer's uncompressed tar stream. `compression`: what the layer's first bytes
/// suggest when they are no compression moat reads, for the message if they are no tar
/// either.
pub(crate) fn walk_tar<R: Read>(
    reader: R,
    layer: usize,
    input: &str,
    compression: Option<&str>,
    pool: &Pool,
) -> Result<LayerFacts, ScanError> {
    let fail = |message: String| ScanError::Layer {
        input: input.to_string(),
        layer,
        message,
    };
    let io_fail = |e: std::io::Error| ScanError::from_layer_io(e, input, layer);
    let tar_fail = |e: TarError| match e {
        TarError::Io(e) => io_fail(e),
        // garbage from the first byte: a compression moat does not read, or none at all
        e @ (TarError::Corrupt { offset: 0, .. } | TarError::Truncated { offset: 0..512, .. }) => {
            fail(match compression {
                Some(c) => format!(
                    "unsupported or corrupt layer compression: {c} (moat reads gzip, zstd and uncompressed layers)"
                ),
                None => format!(
                    "unsupported or corrupt layer compression: neither gzip, zstd nor a tar archive ({e})"
                ),
            })
        }
        e => fail(e.to_string()),
    };
    let max = pool.max_entry_bytes();
    let mut entries = 0;
    let mut feed = Feed::new(pool);
    let mut dispatch = Dispatch::new(pool.analyzers(), max);
    let mut tar = TarReader::new(reader);
    let mut kept: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
    let mut kept_bytes = 0usize;
    let skip = pool.skip();
    while let Some(h) = tar.next_entry().map_err(tar_fail)? {
        entries += 1;
        let path = match normalize(h.path()) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(m) => return Err(fail(m.to_string())),
        };
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", path.as_str()),
        };
        if let Some(hidden) = name.strip_prefix(".wh.") {
            if hidden == ".wh..opq" {
                feed.push(Made::Change(dir.to_string(), Change::Opaque));
            } else if !hidden.is_empty() {
                let target = if dir.is_empty() {
                    hidden.to_string()
                } else {
                    format!("{dir}/{hidden}")
                };
                feed.push(Made::Change(target, Change::Whiteout));
            }
            continue;
        }
        let (kind, mode, size) = (h.kind(), h.mode(), h.size());
        if matches!(kind, EntryKind::File | EntryKind::HardLink) && skip.skips_path(&path) {
            // not read (its bytes still go through the digest), yet it hides what was below
            feed.push(Made::Change(path, Change::Shadow));
            continue;
        }
        let change = match kind {
            EntryKind::Symlink => Some(Change::Symlink(name_text(h.link()).into_owned())),
            // a directory replaces a lower layer's file or symlink there, not what is below
            EntryKind::Dir => Some(Change::Dir),
            EntryKind::HardLink => {
                // Docker refuses a hardlink whose target leaves the root: so does moat
                let target = match normalize(h.link()) {
                    Ok(Some(t)) => t,
                    Ok(None) => {
                        return Err(fail(format!("hardlink {path:?} to the layer root")));
                    }
                    Err(_) => {
                        return Err(fail(format!(
                            "hardlink {path:?} to {:?} escapes the layer root",
                            name_text(h.link())
                        )));
                    }
                };
                let data = kept.get(&target).cloned();
                let e = Entry::new(
                    &path,
                    mode,
                    data.as_ref().map_or(0, |d| d.len() as u64),
                    Some(layer),
                );
                match (dispatch.wanted_by_path(&e), data) {
                    (None, _) => None,
                    (Some(interested), Some(data)) => {
                        offer_bytes(&mut feed, &e, interested, data);
                        continue;
                    }
                    (Some(_), None) => {
                        feed.push(Made::Diagnostic(diag(
                            Code::HardlinkUnread,
                            format!("hardlink to {target:?}, which was not read; not analysed"),
                            &path,
                            Some(layer),
                        )));
                        None
                    }
                }
            }
            EntryKind::File => {
                if let Some(why) = h.unreadable() {
                    feed.push(Made::Diagnostic(diag(
                        Code::Unsupported,
                        format!("sparse file not read: {why}"),
                        &path,
                        Some(layer),
                    )));
                    feed.push(Made::Change(path, Change::Shadow));
                    continue;
                }
                let e = Entry::new(&path, mode, size, Some(layer));
                match dispatch.regular(&e, || Ok(tar.data())).map_err(io_fail)? {
                    Outcome::Ignored => None,
                    Outcome::Declined => Some(Change::Shadow),
                    Outcome::TooLarge => {
                        feed.push(Made::Diagnostic(too_large(&path, Some(layer), size, max)));
                        Some(Change::Shadow)
                    }
                    Outcome::Read {
                        data,
                        interested,
                        keep,
                    } => {
                        let data = Arc::new(data);
                        if keep && kept_bytes + data.len() <= KEEP_FOR_HARDLINKS {
                            kept_bytes += data.len();
                            kept.insert(path.clone(), Arc::clone(&data));
                        }
                        offer_bytes(&mut feed, &e, interested, data);
                        continue;
                    }
                }
            }
            EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => None,
            EntryKind::Other(t) => {
                feed.push(Made::Diagnostic(diag(
                    Code::Unsupported,
                    format!(
                        "tar entry of type {:?} is not one moat reads; skipped",
                        char::from(t)
                    ),
                    &path,
                    Some(layer),
                )));
                continue;
            }
        };
        // what nobody analyses still hides what stood at its path, and below it
        feed.push(Made::Change(path, change.unwrap_or(Change::Shadow)));
    }
    let mut facts = LayerFacts::from_made(feed.finish());
    facts.entries = entries;
    Ok(facts)
}

/// Hands a layer's file, read (or kept for hardlinks) by the walker, to the pool for the
/// `interested` analyzers; a file none of them takes still shadows what lay below.
fn offer_bytes(feed: &mut Feed, e: &Entry, interested: Vec<(usize, Interest)>, data: Arc<Vec<u8>>) {
    let file = Offer {
        path: e.path.to_string(),
        mode: e.mode,
        size: e.size,
        layer: e.layer,
        interested,
        data: Data::Bytes(data),
    };
    feed.analyze(file, true);
}

/// Top-level directories of a root filesystem that are never walked.
const SKIP_ROOT_DIRS: &[&str] = &["proc", "sys", "dev"];

/// Walks a directory tree (a rootfs or a project directory) as a single layer, the
/// pool's workers listing directories and reading files in parallel; the result is sorted
/// into the order of a depth-first walk by file name, so it is the same on every run.
/// Symlinks are recorded, never followed. Nothing lies below a single layer, so files no
/// analyzer took leave no change.
pub(crate) fn walk_dir(root: &Path, pool: &Pool) -> Result<LayerFacts, ScanError> {
    use std::os::unix::ffi::OsStrExt;
    let max = pool.max_entry_bytes();
    let mut dispatch = Dispatch::new(pool.analyzers(), max);
    let mut feed = Feed::new(pool);
    let skip = pool.skip();
    let skipping = !skip.is_empty();
    // the relative path of each item the feed holds, for the final order
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut entries = 1; // the root
    feed.list(
        Place::Path(root.to_path_buf()),
        root.to_path_buf(),
        Vec::new(),
        0,
    );
    while let Some(listing) = feed.next_listing() {
        let listed = match listing.result {
            Ok(l) => l,
            Err(cause) if listing.depth == 0 => {
                return Err(ScanError::Io {
                    path: root.display().to_string(),
                    cause,
                });
            }
            Err(e) => {
                entries += 1;
                feed.push(Made::Diagnostic(unreadable_dir(&listing.dir, &e)));
                keys.push(listing.rel);
                continue;
            }
        };
        let depth = listing.depth + 1;
        // an entry is opened by its name in its directory held open, else by its path
        let place = |name: &std::ffi::OsStr| match &listing.held {
            Some(dir) => Place::In(Arc::clone(dir), name.to_os_string()),
            None => Place::Path(listing.dir.join(name)),
        };
        for l in listed {
            if depth == 1
                && matches!(l.kind, ListedKind::Dir)
                && SKIP_ROOT_DIRS.iter().any(|d| l.name == *d)
            {
                continue;
            }
            let mut key = listing.rel.clone();
            if !key.is_empty() {
                key.push(b'/');
            }
            key.extend_from_slice(l.name.as_bytes());
            let skipped = match l.kind {
                ListedKind::Dir => {
                    let dir = String::from_utf8_lossy(&key);
                    (skipping && skip.skips_dir(&dir))
                        || !pool.analyzers().iter().any(|a| a.wants_below(&dir))
                }
                ListedKind::File { .. } => {
                    skipping && skip.skips_file(&String::from_utf8_lossy(&key))
                }
                _ => false,
            };
            if skipped {
                // never listed, opened or read
                continue;
            }
            entries += 1;
            if matches!(l.kind, ListedKind::Dir) {
                let full = listing.dir.join(&l.name);
                feed.list(place(&l.name), full, key.clone(), depth);
            }
            let Ok(rel) = String::from_utf8(key.clone()) else {
                let mut d = Diagnostic::new(Code::BadPath, "path is not UTF-8; skipped");
                d.path = Some(listing.dir.join(&l.name).display().to_string());
                feed.push(Made::Diagnostic(d));
                keys.push(key);
                continue;
            };
            match l.kind {
                ListedKind::Dir | ListedKind::Other => continue,
                ListedKind::Error(e) => feed.push(Made::Diagnostic(unreadable_dir(
                    &listing.dir.join(&l.name),
                    &e,
                ))),
                ListedKind::Symlink(Ok(t)) => feed.push(Made::Change(
                    rel,
                    Change::Symlink(t.to_string_lossy().into_owned()),
                )),
                ListedKind::Symlink(Err(e)) => feed.push(Made::Diagnostic(diag(
                    Code::Unreadable,
                    format!("cannot read symlink: {e}"),
                    &rel,
                    None,
                ))),
                ListedKind::File { mode, size } => {
                    match dispatch.wanted(&Entry::new(&rel, mode, size, None)) {
                        Wanted::Ignored | Wanted::Declined => continue,
                        Wanted::TooLarge => {
                            feed.push(Made::Diagnostic(too_large(&rel, None, size, max)))
                        }
                        Wanted::Open(interested) => {
                            let (path, data) = (rel, Data::File(place(&l.name)));
                            let file = Offer {
                                path,
                                mode,
                                size,
                                layer: None,
                                interested,
                                data,
                            };
                            feed.analyze(file, false);
                        }
                    }
                }
            }
            keys.push(key);
        }
    }
    let made = feed.finish();
    // a depth-first walk visiting names in byte order: the paths' parts compared in turn,
    // which is comparing the paths with `/` as a byte below any byte of a name
    let mut order: Vec<(Vec<u8>, Made)> = keys
        .into_iter()
        .map(|mut k| {
            k.iter_mut().filter(|c| **c == b'/').for_each(|c| *c = 0);
            k
        })
        .zip(made)
        .collect();
    order.sort_by(|(a, _), (b, _)| a.cmp(b));
    let mut facts = LayerFacts::from_made(order.into_iter().map(|(_, m)| m).collect());
    facts.entries = entries;
    Ok(facts)
}

/// A directory (or an entry of one) that cannot be read, as a walk reports it.
fn unreadable_dir(path: &Path, e: &std::io::Error) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::Unreadable,
        format!(
            "cannot read: IO error for operation on {}: {e}",
            path.display()
        ),
    );
    d.path = Some(path.display().to_string());
    d
}

impl LayerFacts {
    /// Changes and diagnostics, each in the order made.
    fn from_made(made: Vec<Made>) -> LayerFacts {
        let mut facts = LayerFacts::default();
        for m in made {
            match m {
                Made::Change(p, c) => facts.changes.push((p, c)),
                Made::Diagnostic(d) => facts.diagnostics.push(d),
                Made::Nothing => {}
            }
        }
        facts
    }
}

#[cfg(test)]
mod tar_forms;

#[cfg(test)]
mod tests {
    #[test]
    fn a_listed_file_replaced_by_a_fifo_or_a_symlink_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), b"data").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("fifo"))
            .status()
            .unwrap();
        assert!(made.success());
        // by its path, and by its name in its directory held open, as a walk opens it
        let fd = std::fs::File::open(dir.path()).unwrap();
        let held = pool::DirFd::hold(fd.into()).unwrap();
        let places = |name: &str| {
            [
                Place::Path(dir.path().join(name)),
                Place::In(Arc::clone(&held), name.into()),
            ]
        };
        for p in places("file") {
            let (mut f, size) = pool::open_regular(&p).unwrap();
            let mut got = String::new();
            f.read_to_string(&mut got).unwrap();
            assert_eq!((got.as_str(), size), ("data", 4));
        }
        for p in places("link") {
            // O_NOFOLLOW: ELOOP
            let err = pool::open_regular(&p).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(40), "{err}");
        }
        for p in places("fifo") {
            // no writer: a blocking open would wait forever
            let err = pool::open_regular(&p).unwrap_err();
            assert!(
                err.to_string().contains("no longer a regular file"),
                "{err}"
            );
        }
        // the directory itself swapped for a symlink to another since it was listed: a file
        // opened by its name in the directory held open is still the listed directory's
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("file"), b"elsewhere").unwrap();
        let moved = tempfile::tempdir().unwrap();
        let old = moved.path().join("old");
        std::fs::rename(dir.path(), &old).unwrap();
        std::os::unix::fs::symlink(other.path(), dir.path()).unwrap();
        let read = |p: &Place| {
            let mut got = String::new();
            pool::open_regular(p)
                .unwrap()
                .0
                .read_to_string(&mut got)
                .unwrap();
            got
        };
        assert_eq!(read(&Place::In(Arc::clone(&held), "file".into())), "data");
        assert_eq!(read(&Place::Path(dir.path().join("file"))), "elsewhere");
        std::fs::remove_file(dir.path()).unwrap();
        std::fs::rename(&old, dir.path()).unwrap();
    }

    /// The paths a walk of `root` leaves and the messages of their facts.
    fn dir_view(root: &Path, a: Shared) -> Vec<(String, Vec<String>)> {
        let pool = Pool::new(vec![a], None, 1 << 20, Arc::default());
        let facts = walk_dir(root, &pool).unwrap();
        let mut out: Vec<(String, Vec<String>)> = facts
            .changes
            .iter()
            .map(|(p, c)| {
                let msgs = match c {
                    Change::File(f) => f
                        .facts()
                        .map(|f| match f {
                            Fact::Diagnostic(d) => format!("{}: {}", d.code, d.message),
                            _ => "?".into(),
                        })
                        .collect(),
                    Change::Symlink(t) => vec![format!("-> {t}")],
                    _ => vec!["?".into()],
                };
                (p.clone(), msgs)
            })
            .collect();
        out.extend(
            facts
                .diagnostics
                .iter()
                .map(|d| (d.path.clone().unwrap_or_default(), vec![d.message.clone()])),
        );
        out
    }

    #[test]
    fn a_walk_reads_the_same_with_its_directories_held_open_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["a/b/c", "a/d", "e"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for (f, data) in [
            ("top", &b"1"[..]),
            ("a/b/c/deep", b"22"),
            ("a/b/x", b"333"),
            ("a/d/y", b""),
            ("e/z", b"4444"),
            ("a-z", b"5"),
        ] {
            std::fs::write(root.join(f), data).unwrap();
        }
        std::os::unix::fs::symlink("../top", root.join("a/up")).unwrap();
        std::os::unix::fs::symlink("a", root.join("link-to-dir")).unwrap();
        let namer: Shared = Arc::new(Namer {
            delay: std::time::Duration::ZERO,
        });
        let want: Vec<(String, Vec<String>)> = vec![
            ("a/b/c/deep".into(), vec!["parse-error: a/b/c/deep".into()]),
            ("a/b/x".into(), vec!["parse-error: a/b/x".into()]),
            ("a/d/y".into(), vec!["parse-error: a/d/y".into()]),
            ("a/up".into(), vec!["-> ../top".into()]),
            // a depth-first walk: `a` and below before `a-z`, though `/` sorts after `-`
            ("a-z".into(), vec!["parse-error: a-z".into()]),
            ("e/z".into(), vec!["parse-error: e/z".into()]),
            ("link-to-dir".into(), vec!["-> a".into()]),
            ("top".into(), vec!["parse-error: top".into()]),
        ];
        assert_eq!(dir_view(root, namer.clone()), want);
        // every directory slot taken (by this test, or by others running meanwhile): the
        // entries are opened by their paths, with the same result
        let mut held = Vec::new();
        while let Some(h) = pool::DirFd::hold(std::fs::File::open(root).unwrap().into()) {
            held.push(h);
        }
        assert_eq!(dir_view(root, namer), want);
        drop(held);
    }

    use super::*;
    use crate::analyzer::{Analyzer, AnalyzerInfo};
    use crate::fact::Fact;
    use crate::options::ScanOptions;
    use std::sync::Mutex;

    /// Wants files by a path prefix, or sniffs them for a magic; records the bytes it got.
    struct Probe {
        prefix: &'static str,
        magic: Option<&'static [u8]>,
        got: Mutex<Vec<Vec<u8>>>,
    }

    impl Probe {
        fn new(prefix: &'static str, magic: Option<&'static [u8]>) -> Probe {
            Probe {
                prefix,
                magic,
                got: Mutex::new(Vec::new()),
            }
        }
    }

    const PROBE: AnalyzerInfo = AnalyzerInfo::packages("probe", 1);

    impl Analyzer for Probe {
        fn info(&self) -> &AnalyzerInfo {
            &PROBE
        }
        fn wants(&self, e: &Entry) -> Interest {
            match self.magic {
                _ if !e.path.starts_with(self.prefix) => Interest::No,
                Some(m) => Interest::Sniff(m.len()),
                None => Interest::Yes,
            }
        }
        fn wants_head(&self, _e: &Entry, head: &[u8]) -> bool {
            self.magic.is_some_and(|m| head == m)
        }
        fn analyze(&self, _e: &Entry, data: &[u8]) -> Option<Fact> {
            self.got.lock().unwrap().push(data.to_vec());
            None
        }
    }

    /// A reader that counts the bytes read through it.
    struct Counting<'a>(&'a [u8], &'a Mutex<usize>);

    impl Read for Counting<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(out)?;
            *self.1.lock().unwrap() += n;
            Ok(n)
        }
    }

    /// Offers `data` at `path`, and what was read to the analyzers left interested;
    /// returns (outcome, times opened, bytes read).
    fn offer(d: &mut Dispatch, path: &str, data: &[u8]) -> (Outcome, usize, usize) {
        let (opened, read) = (Mutex::new(0), Mutex::new(0));
        let e = Entry::new(path, 0o755, data.len() as u64, Some(0));
        let out = d
            .regular(&e, || {
                *opened.lock().unwrap() += 1;
                Ok(Counting(data, &read))
            })
            .unwrap();
        if let Outcome::Read {
            data, interested, ..
        } = &out
        {
            for &(i, _) in interested {
                d.analyzers[i].analyze(&e, data);
            }
        }
        (
            out,
            opened.into_inner().unwrap(),
            read.into_inner().unwrap(),
        )
    }

    #[test]
    fn a_file_is_read_once_for_every_analyzer_that_wants_it() {
        let (path, sniff) = (
            Arc::new(Probe::new("app/", None)),
            Arc::new(Probe::new("", Some(b"\x7fELF"))),
        );
        let list: [Shared; 2] = [path.clone(), sniff.clone()];
        let mut d = Dispatch::new(&list, 1 << 20);
        let elf = b"\x7fELF and the rest of a binary".repeat(100);
        let (out, opened, read) = offer(&mut d, "app/bin", &elf);
        assert!(matches!(out, Outcome::Read { keep: true, .. }));
        assert_eq!((opened, read), (1, elf.len()));
        assert_eq!(*path.got.lock().unwrap(), vec![elf.clone()]);
        assert_eq!(*sniff.got.lock().unwrap(), vec![elf.clone()]);

        // a sniff that says no: only the head is read, and the file shadows a lower one
        let (out, opened, read) = offer(&mut d, "usr/bin/script", b"#!/bin/sh\necho hi\n");
        assert!(matches!(out, Outcome::Declined));
        assert_eq!((opened, read), (1, 4));
        // nobody interested: never opened
        let only_path: [Shared; 1] = [path.clone()];
        let (out, opened, _) = offer(&mut Dispatch::new(&only_path, 1 << 20), "usr/x", b"");
        assert!(matches!(out, Outcome::Ignored) && opened == 0);

        // over the entry limit: a path analyzer's file is reported, a sniffer's skipped
        let mut small = Dispatch::new(&list, 8);
        assert!(matches!(
            offer(&mut small, "app/big", &elf),
            (Outcome::TooLarge, 0, 0)
        ));
        assert!(matches!(
            offer(&mut small, "usr/big", &elf),
            (Outcome::Declined, 0, 0)
        ));
    }

    #[test]
    fn entry_names() {
        assert_eq!(
            normalize(b"./etc/os-release").unwrap().as_deref(),
            Some("etc/os-release")
        );
        assert_eq!(normalize(b"usr//lib/").unwrap().as_deref(), Some("usr/lib"));
        assert_eq!(normalize(b"./").unwrap(), None);
        assert!(
            normalize(b"../etc/passwd")
                .unwrap_err()
                .to_string()
                .contains("escapes")
        );
        assert!(normalize(b"a/../../b").is_err());
        // as the runtime resolves them: absolute names land under the root, `..` inside
        // the root is the parent, and stops at the root of an absolute name
        let n = |raw: &[u8]| normalize(raw).unwrap();
        assert_eq!(n(b"/etc/passwd").as_deref(), Some("etc/passwd"));
        assert_eq!(
            n(b"var/lib/x/../dpkg/status").as_deref(),
            Some("var/lib/dpkg/status")
        );
        assert_eq!(n(b"/../../etc/shadow").as_deref(), Some("etc/shadow"));
        assert_eq!(n(b"a/..").as_deref(), None);
        // other bytes than UTF-8 show as U+FFFD with their hex digits, so that two names
        // differing only in them stay distinct; a U+FFFD of the name is doubled
        assert_eq!(
            n(b"usr/share/caf\xe9").as_deref(),
            Some("usr/share/caf\u{fffd}e9")
        );
        assert_ne!(n(b"caf\xe9"), n(b"caf\xe8"));
        assert_eq!(
            n("caf\u{fffd}e9".as_bytes()).as_deref(),
            Some("caf\u{fffd}\u{fffd}e9")
        );
        assert_ne!(n(b"caf\xe9"), n("caf\u{fffd}e9".as_bytes()));
    }

    /// Names every file it gets (its fact carries the path); sleeps `delay` on each.
    struct Namer {
        delay: std::time::Duration,
    }

    const NAMER: AnalyzerInfo = AnalyzerInfo::packages("namer", 1);

    impl Analyzer for Namer {
        fn info(&self) -> &AnalyzerInfo {
            &NAMER
        }
        fn wants(&self, _e: &Entry) -> Interest {
            Interest::Yes
        }
        fn analyze(&self, e: &Entry, _data: &[u8]) -> Option<Fact> {
            std::thread::sleep(self.delay);
            Some(Fact::Diagnostic(Diagnostic::parse(e.path.to_string())))
        }
    }

    /// A tar of (raw name, content) regular files.
    fn raw_tar(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, std::ffi::OsStr::from_bytes(name), *data)
                .unwrap();
        }
        b.into_inner().unwrap()
    }

    /// The paths of the final view and the messages of their facts.
    fn final_view(layers: &[Vec<u8>], opts: &ScanOptions, a: Shared) -> Vec<(String, Vec<String>)> {
        let pool = Pool::new(
            vec![a],
            opts.analyzer_timeout,
            opts.max_entry_bytes,
            Arc::new(opts.skip.clone()),
        );
        final_view_with(layers, &pool)
    }

    fn final_view_with(layers: &[Vec<u8>], pool: &Pool) -> Vec<(String, Vec<String>)> {
        let mut m = crate::merge::Merged::default();
        for (i, l) in layers.iter().enumerate() {
            let facts = walk_tar(&l[..], i, "test", None, pool).unwrap();
            m.apply(Some(i), &facts);
        }
        m.view()
            .map(|(p, c)| {
                let msgs = match c {
                    Change::File(f) => f
                        .facts()
                        .map(|f| match f {
                            Fact::Diagnostic(d) => format!("{}: {}", d.code, d.message),
                            _ => "?".into(),
                        })
                        .collect(),
                    _ => vec![],
                };
                (p.to_string(), msgs)
            })
            .collect()
    }

    #[test]
    fn skipped_directories_are_never_listed_and_skipped_files_never_read() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["app/node_modules/x", "node_modules", "src/build"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in [
            "app/node_modules/x/a.js",
            "node_modules/b.js",
            "app/main.js",
            "app/main.min.js",
            "src/build/out.js",
            "src/lib.js",
        ] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        // listing this directory would warn about the name
        let odd = root
            .join("app/node_modules")
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        std::fs::write(odd, b"x").unwrap();
        let namer: Shared = Arc::new(Namer {
            delay: std::time::Duration::ZERO,
        });
        let paths = |skip: crate::PathSkip| {
            let pool = Pool::new(vec![namer.clone()], None, 1 << 20, Arc::new(skip));
            let facts = walk_dir(root, &pool).unwrap();
            let mut v: Vec<String> = facts.changes.iter().map(|(p, _)| p.clone()).collect();
            v.extend(facts.diagnostics.iter().map(|d| d.message.clone()));
            (v, facts.entries)
        };
        let (all, n) = paths(crate::PathSkip::default());
        assert_eq!(
            all,
            [
                "app/main.js",
                "app/main.min.js",
                "app/node_modules/x/a.js",
                "node_modules/b.js",
                "src/build/out.js",
                "src/lib.js",
                "path is not UTF-8; skipped",
            ]
        );
        assert_eq!(n, 14);
        let skip = crate::PathSkip::new(
            &["**/node_modules".into(), "src/build".into()],
            &["**/*.min.js".into()],
        )
        .unwrap();
        let (some, n) = paths(skip);
        assert_eq!(some, ["app/main.js", "src/lib.js"]);
        assert_eq!(
            n, 5,
            "the root, app, src and two files: nothing below a skipped directory"
        );
    }

    #[test]
    fn a_skipped_file_of_a_layer_is_not_read_but_hides_what_was_below() {
        let namer: Shared = Arc::new(Namer {
            delay: std::time::Duration::ZERO,
        });
        let lower = raw_tar(&[(b"app/a.js", b"1"), (b"app/b.js", b"2")]);
        let upper = raw_tar(&[
            (b"app/a.js", b"3"),
            (b"app/node_modules/x/c.js", b"4"),
            (b"node_modules/d.js", b"5"),
            (b"app/keep.js", b"6"),
            (b"app/x.min.js", b"7"),
        ]);
        let layers = [lower, upper];
        let opts = ScanOptions {
            skip: crate::PathSkip::new(
                &["**/node_modules".into()],
                &["app/a.js".into(), "*.min.js".into()],
            )
            .unwrap(),
            ..ScanOptions::default()
        };
        let view = final_view(&layers, &opts, namer.clone());
        // app/a.js: the upper layer's copy is skipped, and the lower one is hidden by it
        // (shadows are not in the view); `*.min.js` is anchored at the root
        assert_eq!(
            view,
            [
                (
                    "app/b.js".to_string(),
                    vec!["parse-error: app/b.js".to_string()]
                ),
                (
                    "app/keep.js".into(),
                    vec!["parse-error: app/keep.js".into()]
                ),
                (
                    "app/x.min.js".into(),
                    vec!["parse-error: app/x.min.js".into()]
                ),
            ]
        );
    }

    #[test]
    fn names_differing_only_in_invalid_bytes_stay_apart() {
        let namer: Shared = Arc::new(Namer {
            delay: std::time::Duration::ZERO,
        });
        let opts = ScanOptions::default();
        let base = raw_tar(&[(b"caf\xe9", b"one"), (b"caf\xe8", b"two")]);
        let view = final_view(std::slice::from_ref(&base), &opts, namer.clone());
        assert_eq!(
            view,
            vec![
                (
                    "caf\u{fffd}e8".to_string(),
                    vec!["parse-error: caf\u{fffd}e8".to_string()]
                ),
                (
                    "caf\u{fffd}e9".to_string(),
                    vec!["parse-error: caf\u{fffd}e9".to_string()]
                ),
            ]
        );
        // a whiteout of one deletes that one only
        let wh = raw_tar(&[(b".wh.caf\xe8", b"")]);
        let view = final_view(&[base, wh], &opts, namer);
        assert_eq!(
            view,
            vec![(
                "caf\u{fffd}e9".to_string(),
                vec!["parse-error: caf\u{fffd}e9".to_string()]
            )]
        );
    }

    /// Names every file it gets, but never returns from those whose path holds `stuck`.
    struct Stuck;

    impl Analyzer for Stuck {
        fn info(&self) -> &AnalyzerInfo {
            &NAMER
        }
        fn wants(&self, _e: &Entry) -> Interest {
            Interest::Yes
        }
        fn analyze(&self, e: &Entry, _data: &[u8]) -> Option<Fact> {
            while e.path.contains("stuck") {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Some(Fact::Diagnostic(Diagnostic::parse(e.path.to_string())))
        }
    }

    fn timed(workers: usize, max_replaced: usize, count: &'static AtomicUsize) -> Pool {
        let a: Shared = Arc::new(Stuck);
        let budget = Some(std::time::Duration::from_millis(40));
        pool::test_pool(vec![a], budget, workers, count, max_replaced)
    }

    use std::sync::atomic::{AtomicUsize, Ordering};

    const ABANDONED: &str = "slow-file: analyzer namer was abandoned on this file after the per-file budget of 40 ms (--analyzer-timeout); the scan went on without its result";

    #[test]
    fn a_file_over_the_analyzer_time_budget_is_abandoned_with_a_warning_naming_it() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let pool = timed(2, 4, &COUNT);
        let layer = raw_tar(&[
            (b"app/a.lock", b"x"),
            (b"app/stuck.lock", b"x"),
            (b"app/z.lock", b"x"),
        ]);
        let start = std::time::Instant::now();
        let view = final_view_with(std::slice::from_ref(&layer), &pool);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let msgs = |p: &str| vec![p.to_string()];
        assert_eq!(
            view,
            vec![
                ("app/a.lock".into(), msgs("parse-error: app/a.lock")),
                ("app/stuck.lock".into(), msgs(ABANDONED)),
                ("app/z.lock".into(), msgs("parse-error: app/z.lock")),
            ]
        );
        // one thread abandoned, and replaced: the pool still works
        assert_eq!(COUNT.load(Ordering::SeqCst), 1);
        let again = raw_tar(&[(b"app/b.lock", b"x")]);
        let view = final_view_with(std::slice::from_ref(&again), &pool);
        assert_eq!(
            view,
            vec![("app/b.lock".into(), msgs("parse-error: app/b.lock"))]
        );
        // within the budget (or with none): no warning
        for timeout in [Some(std::time::Duration::from_secs(30)), None] {
            let opts = ScanOptions {
                analyzer_timeout: timeout,
                ..ScanOptions::default()
            };
            let slow = Arc::new(Namer {
                delay: std::time::Duration::from_millis(60),
            });
            let view = final_view(std::slice::from_ref(&again), &opts, slow);
            assert_eq!(
                view,
                vec![("app/b.lock".into(), msgs("parse-error: app/b.lock"))]
            );
        }
    }

    #[test]
    fn abandoned_threads_are_bounded_and_the_scan_still_ends() {
        // one worker, one replacement allowed: the first stuck file costs the worker (and
        // is replaced), the second the replacement; the analyzer is then left out, and
        // the files still waiting are answered with a warning each
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let pool = timed(1, 1, &COUNT);
        let layer = raw_tar(&[
            (b"app/stuck-1", b"x"),
            (b"app/a", b"x"),
            (b"app/stuck-2", b"x"),
            (b"app/b", b"x"),
        ]);
        let start = std::time::Instant::now();
        let view = final_view_with(std::slice::from_ref(&layer), &pool);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(COUNT.load(Ordering::SeqCst), 1);
        let msgs = |p: &str| vec![p.to_string()];
        assert_eq!(
            view,
            vec![
                ("app/a".into(), msgs("parse-error: app/a")),
                (
                    "app/b".into(),
                    msgs(
                        "slow-file: not analysed by namer: every analysis thread was abandoned on an earlier file (--analyzer-timeout)"
                    )
                ),
                ("app/stuck-1".into(), msgs(ABANDONED)),
                (
                    "app/stuck-2".into(),
                    msgs(&format!(
                        "{ABANDONED}, and without it on the rest of the scan's files (1 analysis threads were abandoned already)"
                    ))
                ),
            ]
        );
    }
}
