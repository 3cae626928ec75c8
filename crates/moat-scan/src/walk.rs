//! One pass over a layer (a tar stream) or a directory tree, producing [`LayerFacts`].
//!
//! Both walkers hand every regular file to one routine, [`Dispatch::regular`]: it asks each
//! active analyzer whether it wants the [`Entry`] (path, mode, size), checks the entry
//! limit, reads the first bytes if some analyzer needs them to decide ([`Interest::Sniff`]),
//! then reads the rest of the file into the same reused buffer and gives those bytes to
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
//! Each analyzer call is timed against [`ScanOptions::analyzer_timeout`]: over it, the file
//! gets a `slow-file` warning naming the analyzer. Analyzers borrow per-scan state and run
//! on the walking thread, so a call is measured, not preempted; the command's `--timeout`
//! bounds a file that never ends. (Preempting would need analyzers the walker could hand to
//! a thread it may abandon: `'static` or shared ones, a change to `scan_with`.)
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

use crate::analyzer::{Analyzer, Entry, Interest, MAX_SNIFF};
use crate::error::ScanError;
use crate::fact::{FileFacts, Tagged};
use crate::options::ScanOptions;
use moat_image::tarstream::{EntryKind, TarError, TarReader};
use moat_model::{Code, Diagnostic};
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

/// What [`Dispatch::regular`] made of one file.
pub(crate) enum Outcome {
    /// No analyzer is interested.
    Ignored,
    /// Some analyzer was interested but none took the bytes in the end (a sniff said no, or
    /// only sniffers were interested and the file is over the entry limit).
    Declined,
    /// An analyzer wanted the file by its path, but it is over the entry limit.
    TooLarge,
    /// Read once and analysed. `keep`: an analyzer wanted it by its path, so a later
    /// hardlink's analyzers may want the same bytes ([`Dispatch::bytes`]).
    Read { facts: FileFacts, keep: bool },
}

/// The active analyzers of a scan, asked about each entry, and the one read buffer.
pub(crate) struct Dispatch<'a> {
    analyzers: &'a [&'a dyn Analyzer],
    max_entry_bytes: u64,
    /// [`ScanOptions::analyzer_timeout`].
    timeout: Option<std::time::Duration>,
    /// The analyzers interested in the current entry (index, interest).
    interested: Vec<(usize, Interest)>,
    buf: Vec<u8>,
}

impl<'a> Dispatch<'a> {
    pub(crate) fn new(analyzers: &'a [&'a dyn Analyzer], max_entry_bytes: u64) -> Dispatch<'a> {
        Dispatch {
            analyzers,
            max_entry_bytes,
            timeout: None,
            interested: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// With a per-file time budget for each analyzer ([`ScanOptions::analyzer_timeout`]).
    pub(crate) fn with_timeout(mut self, timeout: Option<std::time::Duration>) -> Dispatch<'a> {
        self.timeout = timeout;
        self
    }

    /// Asks every analyzer about `e`; with `sniffing` false only path interest counts.
    /// Returns whether some analyzer said [`Interest::Yes`], and, when some asked to sniff,
    /// the most head bytes asked for (capped).
    fn ask(&mut self, e: &Entry, sniffing: bool) -> (bool, Option<usize>) {
        self.interested.clear();
        let (mut yes, mut head) = (false, None::<usize>);
        for (i, a) in self.analyzers.iter().enumerate() {
            let interest = a.wants(e);
            match interest {
                Interest::No => continue,
                Interest::Yes => yes = true,
                Interest::Sniff(n) if sniffing => head = Some(head.unwrap_or(0).max(n)),
                Interest::Sniff(_) => continue,
            }
            self.interested.push((i, interest));
        }
        (yes, head.map(|n| n.min(MAX_SNIFF)))
    }

    /// Whether some analyzer wants `e` by its path alone (for hardlinks).
    pub(crate) fn wanted_by_path(&mut self, e: &Entry) -> bool {
        self.ask(e, false).0
    }

    /// Offers a regular file to the analyzers, opening it with `open` only when one wants
    /// to see bytes, and reading it at most once.
    pub(crate) fn regular<R: Read>(
        &mut self,
        e: &Entry,
        open: impl FnOnce() -> std::io::Result<R>,
    ) -> std::io::Result<Outcome> {
        let (yes, head) = self.ask(e, true);
        if self.interested.is_empty() {
            return Ok(Outcome::Ignored);
        }
        if e.size > self.max_entry_bytes {
            return Ok(if yes {
                Outcome::TooLarge
            } else {
                Outcome::Declined
            });
        }
        let mut reader = open()?;
        self.buf.clear();
        if let Some(head) = head {
            read_head(&mut reader, head, &mut self.buf)?;
            let (analyzers, got) = (self.analyzers, &self.buf);
            self.interested.retain(|&(i, interest)| match interest {
                Interest::Sniff(n) => analyzers[i].wants_head(e, &got[..n.min(got.len())]),
                _ => true,
            });
            if self.interested.is_empty() {
                return Ok(Outcome::Declined);
            }
        }
        let limit = self.max_entry_bytes.saturating_sub(self.buf.len() as u64);
        self.buf
            .reserve((e.size as usize).saturating_sub(self.buf.len()));
        reader.take(limit).read_to_end(&mut self.buf)?;
        let (facts, keep) = self.analyze(e, None);
        Ok(Outcome::Read { facts, keep })
    }

    /// Runs the interested analyzers over `data`, or over the buffer just read; says
    /// whether an analyzer wanted the file by its path. An analyzer that took longer than
    /// the time budget adds a [`Code::SlowFile`] warning to the file's facts (its result is
    /// kept: the call is measured, not preempted).
    pub(crate) fn analyze(&self, e: &Entry, data: Option<&[u8]>) -> (FileFacts, bool) {
        let data = data.unwrap_or(&self.buf);
        let mut facts = FileFacts::default();
        for &(i, _) in &self.interested {
            let a = self.analyzers[i];
            let start = self.timeout.map(|_| std::time::Instant::now());
            let fact = a.analyze(e, data);
            if let (Some(budget), Some(start)) = (self.timeout, start)
                && start.elapsed() > budget
            {
                facts.push(Tagged {
                    analyzer: a.info().id,
                    scope: a.info().scope,
                    fact: crate::fact::Fact::Diagnostic(Diagnostic::new(
                        Code::SlowFile,
                        format!(
                            "analyzer {} took {:.1} s on this file, over the per-file budget of {:.1} s (--analyzer-timeout)",
                            a.info().id,
                            start.elapsed().as_secs_f64(),
                            budget.as_secs_f64()
                        ),
                    )),
                });
            }
            if let Some(fact) = fact {
                facts.push(Tagged {
                    analyzer: a.info().id,
                    scope: a.info().scope,
                    fact,
                });
            }
        }
        let keep = self.interested.iter().any(|(_, i)| *i == Interest::Yes);
        (facts, keep)
    }

    /// The bytes of the file last read by [`Dispatch::regular`].
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// Reads up to `n` bytes (fewer at the end of the file) onto the end of `buf`.
fn read_head<R: Read>(r: &mut R, n: usize, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let start = buf.len();
    buf.resize(start + n, 0);
    let mut got = 0;
    while got < n {
        match r.read(&mut buf[start + got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    buf.truncate(start + got);
    Ok(())
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

/// The change a file leaves after its analyzers ran.
fn read_change(facts: FileFacts) -> Change {
    if facts.is_empty() {
        Change::Shadow
    } else {
        Change::File(Arc::new(facts))
    }
}

/// Walks one layer's uncompressed tar stream. `compression`: what the layer's first bytes
/// suggest when they are no compression moat reads, for the message if they are no tar
/// either.
pub(crate) fn walk_tar<R: Read>(
    reader: R,
    layer: usize,
    input: &str,
    compression: Option<&str>,
    opts: &ScanOptions,
    analyzers: &[&dyn Analyzer],
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
    let max = opts.max_entry_bytes;
    let mut facts = LayerFacts::default();
    let mut dispatch = Dispatch::new(analyzers, max).with_timeout(opts.analyzer_timeout);
    let mut tar = TarReader::new(reader);
    let mut kept: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
    let mut kept_bytes = 0usize;
    while let Some(h) = tar.next_entry().map_err(tar_fail)? {
        facts.entries += 1;
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
                facts.changes.push((dir.to_string(), Change::Opaque));
            } else if !hidden.is_empty() {
                let target = if dir.is_empty() {
                    hidden.to_string()
                } else {
                    format!("{dir}/{hidden}")
                };
                facts.changes.push((target, Change::Whiteout));
            }
            continue;
        }
        let (kind, mode, size) = (h.kind(), h.mode(), h.size());
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
                match data {
                    _ if !dispatch.wanted_by_path(&e) => None,
                    Some(data) => Some(read_change(dispatch.analyze(&e, Some(&data)).0)),
                    None => {
                        facts.diagnostics.push(diag(
                            Code::HardlinkUnread,
                            format!("hardlink to {target:?}, which was not read; not analysed"),
                            &path,
                            Some(layer),
                        ));
                        None
                    }
                }
            }
            EntryKind::File => {
                if let Some(why) = h.unreadable() {
                    facts.diagnostics.push(diag(
                        Code::Unsupported,
                        format!("sparse file not read: {why}"),
                        &path,
                        Some(layer),
                    ));
                    facts.changes.push((path, Change::Shadow));
                    continue;
                }
                let e = Entry::new(&path, mode, size, Some(layer));
                match dispatch.regular(&e, || Ok(tar.data())).map_err(io_fail)? {
                    Outcome::Ignored => None,
                    Outcome::Declined => Some(Change::Shadow),
                    Outcome::TooLarge => {
                        facts
                            .diagnostics
                            .push(too_large(&path, Some(layer), size, max));
                        Some(Change::Shadow)
                    }
                    Outcome::Read { facts: found, keep } => {
                        let bytes = dispatch.bytes();
                        if keep && kept_bytes + bytes.len() <= KEEP_FOR_HARDLINKS {
                            kept_bytes += bytes.len();
                            kept.insert(path.clone(), Arc::new(bytes.to_vec()));
                        }
                        Some(read_change(found))
                    }
                }
            }
            EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => None,
            EntryKind::Other(t) => {
                facts.diagnostics.push(diag(
                    Code::Unsupported,
                    format!(
                        "tar entry of type {:?} is not one moat reads; skipped",
                        char::from(t)
                    ),
                    &path,
                    Some(layer),
                ));
                continue;
            }
        };
        // what nobody analyses still hides what stood at its path, and below it
        facts.changes.push((path, change.unwrap_or(Change::Shadow)));
    }
    Ok(facts)
}

/// Top-level directories of a root filesystem that are never walked.
const SKIP_ROOT_DIRS: &[&str] = &["proc", "sys", "dev"];

/// Walks a directory tree (a rootfs or a project directory) as a single layer.
/// Symlinks are recorded, never followed. Nothing lies below a single layer, so files no
/// analyzer took leave no change.
pub(crate) fn walk_dir(
    root: &Path,
    opts: &ScanOptions,
    analyzers: &[&dyn Analyzer],
) -> Result<LayerFacts, ScanError> {
    use std::os::unix::fs::PermissionsExt;
    let mut facts = LayerFacts::default();
    let mut dispatch =
        Dispatch::new(analyzers, opts.max_entry_bytes).with_timeout(opts.analyzer_timeout);
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            !(e.depth() == 1
                && e.file_type().is_dir()
                && SKIP_ROOT_DIRS.iter().any(|d| e.file_name() == *d))
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                if e.depth() == 0 {
                    let text = e.to_string();
                    return Err(ScanError::Io {
                        path: root.display().to_string(),
                        cause: e
                            .into_io_error()
                            .unwrap_or_else(|| std::io::Error::other(text)),
                    });
                }
                let mut d = Diagnostic::new(Code::Unreadable, format!("cannot read: {e}"));
                d.path = e.path().map(|p| p.display().to_string());
                facts.diagnostics.push(d);
                continue;
            }
        };
        facts.entries += 1;
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(rel) = rel.to_str() else {
            let mut d = Diagnostic::new(Code::BadPath, "path is not UTF-8; skipped");
            d.path = Some(entry.path().display().to_string());
            facts.diagnostics.push(d);
            continue;
        };
        if rel.is_empty() {
            continue;
        }
        let rel = rel.replace(std::path::MAIN_SEPARATOR, "/");
        let ft = entry.file_type();
        if ft.is_symlink() {
            match std::fs::read_link(entry.path()) {
                Ok(t) => facts
                    .changes
                    .push((rel, Change::Symlink(t.to_string_lossy().into_owned()))),
                Err(e) => facts.diagnostics.push(diag(
                    Code::Unreadable,
                    format!("cannot read symlink: {e}"),
                    &rel,
                    None,
                )),
            }
            continue;
        }
        if !ft.is_file() {
            continue;
        }
        let (mode, size) = entry
            .metadata()
            .map_or((0, 0), |m| (m.permissions().mode() & 0o7777, m.len()));
        let e = Entry::new(&rel, mode, size, None);
        match dispatch.regular(&e, || std::fs::File::open(entry.path())) {
            Ok(Outcome::Read { facts: found, .. }) if !found.is_empty() => {
                facts.changes.push((rel, Change::File(Arc::new(found))))
            }
            Ok(Outcome::TooLarge) => {
                facts
                    .diagnostics
                    .push(too_large(&rel, None, size, opts.max_entry_bytes))
            }
            Ok(_) => {}
            Err(err) => facts.diagnostics.push(diag(
                Code::Unreadable,
                format!("cannot read: {err}"),
                &rel,
                None,
            )),
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tar_forms;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::AnalyzerInfo;
    use crate::fact::Fact;
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

    /// Offers `data` at `path`; returns (outcome, times opened, bytes read).
    fn offer(d: &mut Dispatch, path: &str, data: &[u8]) -> (Outcome, usize, usize) {
        let (opened, read) = (Mutex::new(0), Mutex::new(0));
        let e = Entry::new(path, 0o755, data.len() as u64, Some(0));
        let out = d
            .regular(&e, || {
                *opened.lock().unwrap() += 1;
                Ok(Counting(data, &read))
            })
            .unwrap();
        (
            out,
            opened.into_inner().unwrap(),
            read.into_inner().unwrap(),
        )
    }

    #[test]
    fn a_file_is_read_once_for_every_analyzer_that_wants_it() {
        let (path, sniff) = (Probe::new("app/", None), Probe::new("", Some(b"\x7fELF")));
        let list: [&dyn Analyzer; 2] = [&path, &sniff];
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
        let only_path: [&dyn Analyzer; 1] = [&path];
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
    fn final_view(
        layers: &[Vec<u8>],
        opts: &ScanOptions,
        a: &dyn Analyzer,
    ) -> Vec<(String, Vec<String>)> {
        let list: [&dyn Analyzer; 1] = [a];
        let mut m = crate::merge::Merged::default();
        for (i, l) in layers.iter().enumerate() {
            let facts = walk_tar(&l[..], i, "test", None, opts, &list).unwrap();
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
    fn names_differing_only_in_invalid_bytes_stay_apart() {
        let namer = Namer {
            delay: std::time::Duration::ZERO,
        };
        let opts = ScanOptions::default();
        let base = raw_tar(&[(b"caf\xe9", b"one"), (b"caf\xe8", b"two")]);
        let view = final_view(std::slice::from_ref(&base), &opts, &namer);
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
        let view = final_view(&[base, wh], &opts, &namer);
        assert_eq!(
            view,
            vec![(
                "caf\u{fffd}e9".to_string(),
                vec!["parse-error: caf\u{fffd}e9".to_string()]
            )]
        );
    }

    #[test]
    fn a_file_over_the_analyzer_time_budget_is_a_warning_naming_it() {
        let slow = Namer {
            delay: std::time::Duration::from_millis(60),
        };
        let layer = raw_tar(&[(b"app/slow.lock", b"x")]);
        let opts = ScanOptions {
            analyzer_timeout: Some(std::time::Duration::from_millis(10)),
            ..ScanOptions::default()
        };
        let view = final_view(std::slice::from_ref(&layer), &opts, &slow);
        let [(path, msgs)] = view.as_slice() else {
            panic!("{view:?}")
        };
        assert_eq!(path, "app/slow.lock");
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].starts_with("slow-file: analyzer namer took 0.")
                && msgs[0].ends_with("over the per-file budget of 0.0 s (--analyzer-timeout)"),
            "{msgs:?}"
        );
        // the analyzer's result is kept
        assert_eq!(msgs[1], "parse-error: app/slow.lock");
        // within the budget (or with none): no warning
        for timeout in [Some(std::time::Duration::from_secs(30)), None] {
            let opts = ScanOptions {
                analyzer_timeout: timeout,
                ..ScanOptions::default()
            };
            let view = final_view(std::slice::from_ref(&layer), &opts, &slow);
            assert_eq!(view[0].1, vec!["parse-error: app/slow.lock".to_string()]);
        }
    }
}
