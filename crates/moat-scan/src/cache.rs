//! The per-layer analysis cache: what the walk made of one layer ([`LayerFacts`]: every
//! path's change with each file's facts, analyzer and scope, and the layer's diagnostics),
//! stored on disk under a key, so that a layer already analysed is not read again. The
//! merge, the joins and the findings run on cached and fresh layers alike, so a scan's
//! output is the same with and without the cache.
//!
//! * **The key** ([`KeyBase`], [`KeyBase::key`]): SHA-256 over the cache format version,
//!   moat's version, the id and version of every analyzer that runs (in registry order), the
//!   options that change what analyzers produce (the entry limit; with the secret scanner,
//!   its size cap, binaries, shown secrets and a digest of user rules; with the
//!   misconfiguration scanner, a digest of user policies), and the layer's diff-id (the
//!   digest of its uncompressed bytes, verified while the layer was read before its result
//!   was stored). User rules or policies without a digest from the caller turn the cache off
//!   for that scan rather than risk a stale hit.
//! * **The format** (`<ROOT>/layers/<key>.layer`): a fixed header (magic `MOATLAYR`, format
//!   version, the key, the body's length, the body's SHA-256) and the body, zstd-compressed
//!   JSON. Everything is checked on read; a wrong magic, version, key, length or digest, or a
//!   body that does not decode, is a miss: the entry is removed and rebuilt, never trusted.
//! * **Writes** go to a temporary file beside the entries, renamed into place, so readers
//!   (and concurrent moat processes) never see a partial entry.
//! * **Size**: a hit touches the entry's modification time; [`LayerCache::evict`] removes the
//!   least recently used entries past the bound, sparing those of the current scan.
//! * A layer whose analysis hit the analyzer time budget (a `slow-file` warning) is not
//!   stored: that result depends on the machine's speed, not only on the bytes.
//!
//! Rejected alternatives: redb (one more dependency and a single file to lock across
//! processes, for a job one file per entry does with atomic renames); postcard (smaller and
//! faster, but findings serialise through JSON-only serde features such as `flatten`);
//! caching the merged result of a whole image (a new top layer would miss everything below).

use crate::analyzer::Scanner;
use crate::fact::{Fact, FileFacts, Scope, Tagged};
use crate::options::ScanOptions;
use crate::walk::{Change, LayerFacts, Shared};
use moat_model::{Code, Diagnostic};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

/// Bump when the stored form changes in a way serde would still read (a meaning change).
/// Changes of an analyzer's facts bump that analyzer's version instead (`analyzers::REGISTRY`).
pub const FORMAT_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"MOATLAYR";
const HEADER_LEN: usize = 8 + 4 + 32 + 8 + 32;
/// Largest decompressed body read back (a layer's facts are far smaller).
const MAX_BODY_BYTES: u64 = 1 << 30;
/// zstd level: fast; entries are small next to the layers they replace.
const ZSTD_LEVEL: i32 = 3;

/// The default bound on the layer cache: 2 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// What one scan did with the cache (for `MOAT_DEBUG`).
#[derive(Debug, Default)]
pub struct CacheCounts {
    /// Layers whose facts came from the cache.
    pub hits: AtomicUsize,
    /// Layers not in the cache (read and, unless a slow file, stored).
    pub misses: AtomicUsize,
    /// Entries found damaged or under another key: removed, the layer read again.
    pub rebuilt: AtomicUsize,
    /// Entries written.
    pub written: AtomicUsize,
}

/// A per-layer analysis cache rooted at a directory (`<root>/layers`).
#[derive(Debug)]
pub struct LayerCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Counters of the scans that used this cache.
    pub counts: CacheCounts,
    /// Why entries were not used or not stored (for `MOAT_DEBUG`).
    notes: Mutex<Vec<String>>,
}

impl LayerCache {
    /// A cache under `root` (the directory of the blob cache): entries in `root/layers`,
    /// bounded to `max_bytes`.
    pub fn new(root: impl AsRef<Path>, max_bytes: u64) -> LayerCache {
        LayerCache {
            dir: Self::dir_under(root.as_ref()),
            max_bytes,
            counts: CacheCounts::default(),
            notes: Mutex::new(Vec::new()),
        }
    }

    /// Where the entries of a cache rooted at `root` live.
    pub fn dir_under(root: &Path) -> PathBuf {
        root.join("layers")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the entry under `key`.
    pub fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.layer", hex::encode(key.0)))
    }

    /// Notes on entries not used or not stored, taken (for `MOAT_DEBUG`).
    pub fn take_notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    fn note(&self, s: String) {
        if let Ok(mut n) = self.notes.lock() {
            n.push(s);
        }
    }

    /// The facts stored under `key`, checked; `None` on a miss. A damaged entry, or one
    /// holding another key, is removed (counted in `rebuilt`); the caller reads the layer.
    /// `layer` is the layer's index in the image being scanned: the stored warnings name
    /// the index the layer had when it was analysed, and are moved to this one.
    pub(crate) fn load(&self, key: &Key, analyzers: &[Shared], layer: usize) -> Option<LayerFacts> {
        let path = self.path(key);
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(_) => {
                self.counts.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        match read_entry(&mut file, key).and_then(|body| decode(&body, analyzers, layer)) {
            Ok(facts) => {
                // Best effort: a read-only cache still works, only its LRU order is stale.
                let _ = file.set_modified(SystemTime::now());
                self.counts.hits.fetch_add(1, Ordering::Relaxed);
                Some(facts)
            }
            Err(why) => {
                drop(file);
                let _ = std::fs::remove_file(&path);
                self.note(format!("{}: {why}; rebuilt", path.display()));
                self.counts.rebuilt.fetch_add(1, Ordering::Relaxed);
                self.counts.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Stores a layer's facts under `key` (atomically: a temporary file renamed into
    /// place). Failures only leave a note: the cache is an optimisation.
    /// `layer`: the layer's index in the image scanned (its warnings name it).
    pub(crate) fn store(&self, key: &Key, facts: &LayerFacts, layer: usize) {
        if timed_out(facts) {
            self.note(format!(
                "{}: not stored (an analyzer ran out of time on a file)",
                hex::encode(key.0)
            ));
            return;
        }
        if let Err(e) = self.try_store(key, facts, layer) {
            self.note(format!("{}: not stored: {e}", self.path(key).display()));
        } else {
            self.counts.written.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn try_store(&self, key: &Key, facts: &LayerFacts, layer: usize) -> std::io::Result<()> {
        let body = encode(facts, layer)?;
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .suffix(".part")
            .tempfile_in(&self.dir)?;
        tmp.write_all(&header(key, &body))?;
        tmp.write_all(&body)?;
        tmp.as_file().sync_data()?;
        tmp.persist(self.path(key)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Every entry: (path, size, last use).
    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(files) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        files
            .flatten()
            .filter(|f| f.file_name().to_string_lossy().ends_with(".layer"))
            .filter_map(|f| {
                let m = f.metadata().ok().filter(|m| m.is_file())?;
                Some((
                    f.path(),
                    m.len(),
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ))
            })
            .collect()
    }

    /// Total bytes of the entries.
    pub fn size(&self) -> u64 {
        self.entries().iter().map(|e| e.1).sum()
    }

    /// Removes the least recently used entries until the total is at most the bound; the
    /// entries under `keep` (the current scan's) stay. Returns (entries removed, bytes freed).
    pub fn evict(&self, keep: &[Key]) -> (usize, u64) {
        let keep: Vec<PathBuf> = keep.iter().map(|k| self.path(k)).collect();
        moat_registry::evict_least_recent(self.entries(), self.max_bytes, &keep)
    }

    /// Removes every entry and partial write (`moat cache clean`). Returns the bytes freed.
    pub fn clean(&self) -> std::io::Result<u64> {
        let size = self.size();
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(size),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// The SHA-256 of an input the caller puts into [`ScanOptions::cache_inputs`] (a user
/// rule file), in hex.
pub fn input_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The key of one layer's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub [u8; 32]);

/// Everything of a key but the layer: the analyzers and options of one scan.
#[derive(Debug, Clone)]
pub struct KeyBase(Sha256);

impl KeyBase {
    /// The key base of a scan with the analyzers `active` and `opts`; `None` when the scan
    /// must not use the cache (user secret rules or policies without a digest of them).
    pub(crate) fn new(active: &[Shared], opts: &ScanOptions) -> Option<KeyBase> {
        let mut h = Sha256::new();
        let mut line = |s: String| {
            h.update(s.as_bytes());
            h.update(b"\n");
        };
        line(format!("moat-layer-cache {FORMAT_VERSION}"));
        line(format!("moat {}", env!("CARGO_PKG_VERSION")));
        let mut scanners = Vec::new();
        for a in active {
            let info = a.info();
            line(format!("analyzer {} {}", info.id, info.version));
            if !scanners.contains(&info.scanner) {
                scanners.push(info.scanner);
            }
        }
        line(format!("max-entry-bytes {}", opts.max_entry_bytes));
        if !opts.skip.is_empty() {
            line(format!("skip\n{}", opts.skip.key()));
        }
        let inputs = opts.cache_inputs.as_deref();
        if scanners.contains(&Scanner::Secret) {
            let s = &opts.secrets;
            line(format!(
                "secret max-file-size {} binaries {} show {}",
                s.max_file_size, s.scan_binaries, s.show_secrets
            ));
            if s.rules.is_some() {
                line(format!("secret rules {}", inputs?));
            }
        }
        if scanners.contains(&Scanner::Misconfig) && opts.policies.is_some() {
            line(format!("policies {}", inputs?));
        }
        Some(KeyBase(h))
    }

    /// The key of the layer whose content is `content_id` (`Image::layer_content_id`:
    /// `blob DIGEST` or `diff-id DIGEST`).
    pub fn key(&self, content_id: &str) -> Key {
        let mut h = self.0.clone();
        h.update(b"layer ");
        h.update(content_id.as_bytes());
        Key(h.finalize().into())
    }
}

/// A layer whose analysis ran out of time somewhere (its result depends on the machine).
fn timed_out(facts: &LayerFacts) -> bool {
    let slow = |d: &Diagnostic| d.code == Code::SlowFile;
    facts.diagnostics.iter().any(slow)
        || facts.changes.iter().any(|(_, c)| match c {
            Change::File(f) => f
                .facts()
                .any(|f| matches!(f, Fact::Diagnostic(d) if slow(d))),
            _ => false,
        })
}

fn header(key: &Key, body: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&key.0);
    h.extend_from_slice(&(body.len() as u64).to_le_bytes());
    h.extend_from_slice(&Sha256::digest(body));
    h
}

/// The body of an entry, after checking its header against `key`, its length and digest.
fn read_entry(file: &mut std::fs::File, key: &Key) -> Result<Vec<u8>, String> {
    let mut h = [0u8; HEADER_LEN];
    file.read_exact(&mut h)
        .map_err(|e| format!("header unreadable ({e})"))?;
    let (magic, rest) = h.split_at(8);
    let (version, rest) = rest.split_at(4);
    let (stored_key, rest) = rest.split_at(32);
    let (len, digest) = rest.split_at(8);
    if magic != MAGIC {
        return Err("not a layer cache entry".into());
    }
    let version = u32::from_le_bytes(version.try_into().map_err(|_| "header")?);
    if version != FORMAT_VERSION {
        return Err(format!("format version {version}, not {FORMAT_VERSION}"));
    }
    if stored_key != key.0 {
        return Err("entry of another key".into());
    }
    let len = u64::from_le_bytes(len.try_into().map_err(|_| "header")?);
    let actual = file
        .metadata()
        .map_err(|e| e.to_string())?
        .len()
        .saturating_sub(HEADER_LEN as u64);
    if actual != len {
        return Err(format!("body of {actual} bytes, header says {len}"));
    }
    let mut body = Vec::with_capacity(usize::try_from(len).map_err(|_| "too large")?);
    file.take(len)
        .read_to_end(&mut body)
        .map_err(|e| format!("body unreadable ({e})"))?;
    if body.len() as u64 != len || Sha256::digest(&body).as_slice() != digest {
        return Err("body digest mismatch".into());
    }
    Ok(body)
}

// The stored form. `FileFacts` holds `&'static str` analyzer ids and sits behind `Arc`s in
// the walk's changes: these mirror types borrow to write and own to read.

#[derive(Serialize)]
struct BodyOut<'a> {
    /// The index the layer had in the image it was analysed in.
    layer: usize,
    changes: Vec<(&'a str, ChangeOut<'a>)>,
    diagnostics: &'a [Diagnostic],
    entries: u64,
}

#[derive(Serialize)]
enum ChangeOut<'a> {
    File(Vec<TaggedOut<'a>>),
    Symlink(&'a str),
    Whiteout,
    Opaque,
    Dir,
    Shadow,
}

#[derive(Serialize)]
struct TaggedOut<'a> {
    analyzer: &'a str,
    scope: Scope,
    fact: &'a Fact,
}

#[derive(Deserialize)]
struct BodyIn {
    layer: usize,
    changes: Vec<(String, ChangeIn)>,
    diagnostics: Vec<Diagnostic>,
    entries: u64,
}

#[derive(Deserialize)]
enum ChangeIn {
    File(Vec<TaggedIn>),
    Symlink(String),
    Whiteout,
    Opaque,
    Dir,
    Shadow,
}

#[derive(Deserialize)]
struct TaggedIn {
    analyzer: String,
    scope: Scope,
    fact: Fact,
}

fn encode(facts: &LayerFacts, layer: usize) -> std::io::Result<Vec<u8>> {
    let changes = facts
        .changes
        .iter()
        .map(|(path, c)| {
            let c = match c {
                Change::File(f) => ChangeOut::File(
                    f.tagged()
                        .map(|t| TaggedOut {
                            analyzer: t.analyzer,
                            scope: t.scope,
                            fact: &t.fact,
                        })
                        .collect(),
                ),
                Change::Symlink(s) => ChangeOut::Symlink(s),
                Change::Whiteout => ChangeOut::Whiteout,
                Change::Opaque => ChangeOut::Opaque,
                Change::Dir => ChangeOut::Dir,
                Change::Shadow => ChangeOut::Shadow,
            };
            (path.as_str(), c)
        })
        .collect();
    let body = BodyOut {
        layer,
        changes,
        diagnostics: &facts.diagnostics,
        entries: facts.entries,
    };
    let mut enc = zstd::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
    serde_json::to_writer(&mut enc, &body).map_err(std::io::Error::other)?;
    enc.finish()
}

/// A body back into facts; the analyzer ids must be those of the scan's analyzers (the
/// key says they are; an id that is not is a damaged entry).
fn decode(body: &[u8], analyzers: &[Shared], layer: usize) -> Result<LayerFacts, String> {
    let mut json = Vec::new();
    zstd::Decoder::new(body)
        .map_err(|e| e.to_string())?
        .take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("body does not decompress ({e})"))?;
    if json.len() as u64 > MAX_BODY_BYTES {
        return Err("body too large".into());
    }
    let body: BodyIn =
        serde_json::from_slice(&json).map_err(|e| format!("body does not decode ({e})"))?;
    let mut changes = Vec::with_capacity(body.changes.len());
    for (path, c) in body.changes {
        let c = match c {
            ChangeIn::File(tagged) => {
                let mut facts = FileFacts::default();
                for t in tagged {
                    let info = analyzers
                        .iter()
                        .map(|a| a.info())
                        .find(|i| i.id == t.analyzer && i.scope == t.scope)
                        .ok_or_else(|| format!("unknown analyzer {:?}", t.analyzer))?;
                    facts.push(Tagged {
                        analyzer: info.id,
                        scope: t.scope,
                        fact: t.fact,
                    });
                }
                Change::File(Arc::new(facts))
            }
            ChangeIn::Symlink(s) => Change::Symlink(s),
            ChangeIn::Whiteout => Change::Whiteout,
            ChangeIn::Opaque => Change::Opaque,
            ChangeIn::Dir => Change::Dir,
            ChangeIn::Shadow => Change::Shadow,
        };
        changes.push((path, c));
    }
    // The walk's warnings name their layer (analyzers' facts never do: the engine locates
    // them after the merge).
    let mut diagnostics = body.diagnostics;
    for d in &mut diagnostics {
        if d.layer == Some(body.layer) {
            d.layer = Some(layer);
        }
    }
    Ok(LayerFacts {
        changes,
        diagnostics,
        entries: body.entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest, Scanners};
    use crate::analyzers::{Instances, REGISTRY};
    use crate::walk::{Pool, walk_tar};
    use std::collections::BTreeMap;

    fn all_scanners() -> ScanOptions {
        ScanOptions {
            scanners: Scanners::NONE
                .with(Scanner::Packages)
                .with(Scanner::Secret)
                .with(Scanner::Misconfig),
            ..ScanOptions::default()
        }
    }

    fn active(opts: &ScanOptions) -> Vec<Shared> {
        Instances::new(REGISTRY, opts)
            .list()
            .into_iter()
            .filter(|a| opts.scanners.contains(a.info().scanner))
            .collect()
    }

    /// An analyzer as another with its version bumped.
    struct Bumped(Shared, AnalyzerInfo);
    impl Analyzer for Bumped {
        fn info(&self) -> &AnalyzerInfo {
            &self.1
        }
        fn wants(&self, e: &Entry) -> Interest {
            self.0.wants(e)
        }
        fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
            self.0.analyze(e, data)
        }
    }

    /// One layer with a file for most analyzer families.
    fn fixture() -> Vec<u8> {
        let files: &[(&str, &str)] = &[
            (
                "etc/os-release",
                "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n",
            ),
            ("etc/debian_version", "12.5\n"),
            (
                "var/lib/dpkg/status",
                "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2\nDescription: sh\n\n",
            ),
            (
                "var/lib/dpkg/info/bash.list",
                "/bin/bash\n/usr/share/doc/bash\n",
            ),
            (
                "usr/share/doc/bash/copyright",
                "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n",
            ),
            (
                "lib/apk/db/installed",
                "P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\nF:lib\nR:libc.musl-x86_64.so.1\n\n",
            ),
            ("app/requirements.txt", "requests==2.31.0\nflask==3.0.0\n"),
            (
                "app/package-lock.json",
                r#"{"name":"a","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"a","version":"1.0.0"},"node_modules/lodash":{"version":"4.17.21"}}}"#,
            ),
            (
                "app/Cargo.lock",
                "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
            ),
            (
                "app/go.mod",
                "module example.com/a\n\ngo 1.22\n\nrequire golang.org/x/text v0.14.0\n",
            ),
            (
                "app/Gemfile.lock",
                "GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.1.0)\n\nDEPENDENCIES\n  rake\n",
            ),
            ("app/.env", "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n"),
            (
                "app/Dockerfile",
                "FROM debian:12\nRUN apt-get install -y curl\n",
            ),
            (
                "app/deploy.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n",
            ),
        ];
        let mut b = tar::Builder::new(Vec::new());
        for (path, text) in files {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(text.len() as u64);
            h.set_mtime(1_700_000_000);
            b.append_data(&mut h, path, text.as_bytes()).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn facts_of(opts: &ScanOptions) -> (Vec<Shared>, LayerFacts) {
        let active = active(opts);
        let pool = Pool::new(
            active.clone(),
            None,
            opts.max_entry_bytes,
            Arc::new(opts.skip.clone()),
        );
        let facts = walk_tar(&fixture()[..], 0, "fixture", None, &pool).unwrap();
        (active, facts)
    }

    #[test]
    fn keys_follow_the_analyzers_the_options_and_the_content_id() {
        let opts = all_scanners();
        let active = active(&opts);
        let base = KeyBase::new(&active, &opts).unwrap();
        let k = base.key("sha256:aa");
        assert_eq!(k, KeyBase::new(&active, &opts).unwrap().key("sha256:aa"));
        assert_ne!(k, base.key("sha256:ab"));
        // The same digest as a blob's and as a diff-id names different bytes.
        assert_ne!(base.key("blob sha256:aa"), base.key("diff-id sha256:aa"));
        // One analyzer's version bumped: every key changes.
        let mut bumped = active.clone();
        let mut info = *bumped[2].info();
        info.version += 1;
        bumped[2] = Arc::new(Bumped(bumped[2].clone(), info));
        assert_ne!(k, KeyBase::new(&bumped, &opts).unwrap().key("sha256:aa"));
        // Fewer analyzers (another scanner set).
        let packages = ScanOptions::default();
        assert_ne!(
            k,
            KeyBase::new(&crate::cache::tests::active(&packages), &packages)
                .unwrap()
                .key("sha256:aa")
        );
        // Options analyzers read.
        let mut o = all_scanners();
        o.max_entry_bytes = 1 << 20;
        assert_ne!(k, KeyBase::new(&active, &o).unwrap().key("sha256:aa"));
        let mut o = all_scanners();
        o.secrets.show_secrets = true;
        assert_ne!(k, KeyBase::new(&active, &o).unwrap().key("sha256:aa"));
        let mut o = all_scanners();
        o.secrets.max_file_size = 1;
        assert_ne!(k, KeyBase::new(&active, &o).unwrap().key("sha256:aa"));
        // What the walker skips, pattern by pattern.
        let mut o = all_scanners();
        o.skip = crate::PathSkip::new(&["**/node_modules".into()], &[]).unwrap();
        let ks = KeyBase::new(&active, &o).unwrap().key("sha256:aa");
        assert_ne!(k, ks);
        o.skip = crate::PathSkip::new(&[], &["**/node_modules".into()]).unwrap();
        assert_ne!(ks, KeyBase::new(&active, &o).unwrap().key("sha256:aa"));
        assert_ne!(k, KeyBase::new(&active, &o).unwrap().key("sha256:aa"));
        // Options that act after the merge do not count.
        let mut o = all_scanners();
        o.skip_dev = true;
        o.analyzer_timeout = None;
        assert_eq!(k, KeyBase::new(&active, &o).unwrap().key("sha256:aa"));
        // User rules: no cache without their digest; keyed by it with one.
        let mut o = all_scanners();
        o.secrets.rules = moat_secrets::Rules::shared_builtin();
        assert!(KeyBase::new(&active, &o).is_none());
        o.cache_inputs = Some("a".into());
        let ka = KeyBase::new(&active, &o).unwrap().key("sha256:aa");
        o.cache_inputs = Some("b".into());
        assert_ne!(ka, KeyBase::new(&active, &o).unwrap().key("sha256:aa"));
        assert_ne!(ka, k);
    }

    #[test]
    fn entries_round_trip_and_damage_is_a_miss() {
        let opts = all_scanners();
        let (active, facts) = facts_of(&opts);
        assert!(facts.changes.len() >= 14);
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(dir.path(), 1 << 30);
        let key = KeyBase::new(&active, &opts).unwrap().key("sha256:aa");
        assert!(cache.load(&key, &active, 0).is_none());
        cache.store(&key, &facts, 0);
        let back = cache.load(&key, &active, 0).unwrap();
        assert_eq!(encode_json(&back), encode_json(&facts));
        assert_eq!(back.entries, facts.entries);
        // Another analyzer set cannot read the entry's ids: a damaged entry.
        assert!(cache.load(&key, &active[..3], 0).is_none());
        assert_eq!(cache.counts.rebuilt.load(Ordering::Relaxed), 1);
        assert!(!cache.path(&key).exists());
        // A slow file's layer is not stored.
        let mut slow = LayerFacts::default();
        slow.diagnostics
            .push(Diagnostic::new(Code::SlowFile, "slow"));
        cache.store(&key, &slow, 0);
        assert!(!cache.path(&key).exists());
    }

    /// The JSON of a layer's facts (before compression).
    fn encode_json(facts: &LayerFacts) -> Vec<u8> {
        let body = encode(facts, 0).unwrap();
        let mut json = Vec::new();
        zstd::Decoder::new(&body[..])
            .unwrap()
            .read_to_end(&mut json)
            .unwrap();
        json
    }

    /// The facts each analyzer (`id@version`) makes of the fixture, against the recorded
    /// ones: a change without a version bump fails here. `MOAT_UPDATE_GOLDEN=1` records.
    #[test]
    fn facts_of_each_analyzer_version_are_stable() {
        let (_, facts) = facts_of(&all_scanners());
        let mut by: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        let versions: BTreeMap<&str, u32> = active(&all_scanners())
            .iter()
            .map(|a| (a.info().id, a.info().version))
            .collect();
        for (path, c) in &facts.changes {
            if let Change::File(f) = c {
                for t in f.tagged() {
                    let id = format!("{}@{}", t.analyzer, versions[t.analyzer]);
                    by.entry(id).or_default().push(serde_json::json!({
                        "path": path,
                        "fact": t.fact,
                    }));
                }
            }
        }
        assert!(by.len() >= 10, "{:?}", by.keys().collect::<Vec<_>>());
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/layer-facts.json");
        let now = serde_json::to_string_pretty(&by).unwrap() + "\n";
        if std::env::var_os("MOAT_UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &now).unwrap();
            return;
        }
        let recorded: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&golden).unwrap()).unwrap();
        for (id, facts) in &by {
            let facts = serde_json::to_value(facts).unwrap();
            match recorded.get(id) {
                Some(r) => assert!(
                    *r == facts,
                    "the facts of {id} changed without a version bump: bump its version \
                     (analyzers::REGISTRY), then MOAT_UPDATE_GOLDEN=1 cargo test"
                ),
                None => panic!(
                    "no recorded facts for {id}: record them with MOAT_UPDATE_GOLDEN=1 cargo test"
                ),
            }
        }
    }
}
