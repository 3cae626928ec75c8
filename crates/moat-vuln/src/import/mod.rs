//! Importers: each turns the bytes of one published file into advisories.
//!
//! [`import_path`] takes a file, a directory (walked recursively in sorted order; `.git` and
//! symlinked directories are not entered) or an OSV `all.zip`, and detects each file's format
//! from its name and content:
//!
//! | format | recognised by | parser | `source` |
//! |---|---|---|---|
//! | OSV JSON | `*.json` with `id` and `affected`/`modified` (or an array, or `{"vulns": [...]}`) | [`osv::parse_json`] | `osv:<ecosystem>` |
//! | OSV YAML (PyPA) | `*.yaml`/`*.yml` with a top-level `id:` | [`osv::parse_yaml`] | `osv:<ecosystem>` |
//! | OSV `all.zip` | `*.zip` | [`osv::read_zip`] | `osv:<ecosystem>` |
//! | RustSec | `*.md` opening with a ```` ```toml ```` block | [`rustsec::parse`] | `rustsec` |
//! | Alpine secdb YAML | `*.yaml` with `packages:` and `secfixes` | [`alpine::parse_secdb_yaml`] | `alpine-secdb` |
//! | Alpine secdb JSON | `*.json` with `secfixes` (in `packages` or at the top) | [`alpine::parse_secdb_json`] | `alpine-secdb` |
//! | Debian DSA/DLA list | a file named `list` in a `DSA` or `DLA` directory | [`debian::parse_list`] | `debian-dsa` / `debian-dla` |
//! | Debian tracker JSON | `*.json` of `{package: {CVE: {releases}}}` | [`debian::parse_tracker_json`] | `debian-tracker` |
//! | CISA KEV | `*.json` with `vulnerabilities` and `catalogVersion` | [`kev::parse`] | `kev` |
//! | Red Hat CSAF VEX / advisory | `*.json` with `document` and `product_tree` or `vulnerabilities` | [`csaf::parse`] | `redhat-csaf` |
//! | Amazon Linux `updateinfo.xml` | `*.xml`, `*.xml.gz`, `*.xml.bz2` whose start has `<updates` | [`alas::stream`] | `alas:<line>` |
//! | Oracle ELSA OVAL | `*.xml`, `*.xml.gz`, `*.xml.bz2` whose start has `oval_definitions` and Oracle's ids | [`oval::stream`] | `oracle-oval` |
//! | Azure Linux / CBL-Mariner OVAL | `*.xml`, `*.xml.gz`, `*.xml.bz2` whose start has `oval_definitions` and Microsoft's ids | [`azurelinux::stream`] | `azurelinux-oval` |
//!
//! Zip archives and XML feeds are read as streams ([`stream_path`]): record by record, gzip
//! and bzip2 decompressed on the fly, never whole in memory (an Azure Linux OVAL document
//! keeps its definitions until the tests after them are read: a few strings each). Anything
//! else is skipped and listed in [`ImportBatch::skipped`]. A file or record that does
//! not parse is listed in [`ImportBatch::malformed`] with its file and the reason (the text of
//! a [`FileError`], which wraps each format's own error) and never aborts the import; only an
//! unreadable top-level path is an [`ImportError`]. A file larger than [`MAX_FILE_BYTES`] is
//! malformed (limits on untrusted input).
//!
//! The `source` labels above are what [`crate::db::Builder::replace_source`] groups records
//! by; [`split_by_source`] cuts one batch into per-source batches.

use moat_model::advisory::Advisory;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod alas;
pub mod azurelinux;
pub(crate) mod borrowed;
pub mod csaf;
pub mod kev;
pub mod ordered;
pub mod osv;
pub mod oval;
pub mod rustsec;
pub mod xml;

/// A KEV catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    pub cve: String,
    pub date_added: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub due_date: Option<String>,
    pub ransomware: Option<String>,
}

/// What one import run read.
#[derive(Debug, Default)]
pub struct ImportBatch {
    pub advisories: Vec<Advisory>,
    pub kev: Vec<KevEntry>,
    /// Records that could not be read: (file or record, reason).
    pub malformed: Vec<(String, String)>,
    /// Files (or zip entries) in a recognised format that were read.
    pub files: usize,
    /// Files (or zip entries) in no recognised format.
    pub skipped: Vec<String>,
}

impl ImportBatch {
    /// Appends another batch.
    pub fn extend(&mut self, other: ImportBatch) {
        self.advisories.extend(other.advisories);
        self.kev.extend(other.kev);
        self.malformed.extend(other.malformed);
        self.files += other.files;
        self.skipped.extend(other.skipped);
    }
}

pub mod alpine;
pub mod debian;

/// One thing an importer read, as [`stream_path`] hands it over.
#[derive(Debug)]
pub enum Item {
    Advisory(Advisory),
    Kev(KevEntry),
    /// A file or record that could not be read: (file or record, reason).
    Malformed(String, String),
    /// A file in no recognised format.
    Skipped(String),
    /// A file (or zip entry) in a recognised format was read.
    File,
}

/// What a sink returns to stop [`stream_path`] early (its caller knows why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// Where [`stream_path`] hands each [`Item`].
pub type Sink<'a> = dyn FnMut(Item) -> Result<(), Stop> + 'a;

/// A record derived from exactly one upstream vulnerability (`UBUNTU-CVE-2021-3782` from
/// `CVE-2021-3782`, a Red Hat or Ubuntu notice fixing one CVE) describes that vulnerability:
/// its `upstream` id is made an alias too, so the matcher groups the distro's record with
/// the others of the same vulnerability and names the finding by its CVE. A record with
/// several upstream ids (a notice fixing several) is left alone.
pub fn upstream_alias(a: &mut Advisory) {
    if let [one] = a.upstream.as_slice()
        && one != &a.id
        && !a.aliases.contains(one)
    {
        a.aliases.push(one.clone());
    }
}

impl ImportBatch {
    /// Hands everything in the batch to `sink`, in the batch's order (advisories, KEV entries,
    /// then what could not be read); advisories get [`upstream_alias`].
    pub fn drain_into(self, sink: &mut Sink<'_>) -> Result<(), Stop> {
        for _ in 0..self.files {
            sink(Item::File)?;
        }
        for mut a in self.advisories {
            upstream_alias(&mut a);
            sink(Item::Advisory(a))?;
        }
        for k in self.kev {
            sink(Item::Kev(k))?;
        }
        for (what, why) in self.malformed {
            sink(Item::Malformed(what, why))?;
        }
        for s in self.skipped {
            sink(Item::Skipped(s))?;
        }
        Ok(())
    }

    /// Adds one item.
    pub fn push(&mut self, item: Item) {
        match item {
            Item::Advisory(a) => self.advisories.push(a),
            Item::Kev(k) => self.kev.push(k),
            Item::Malformed(what, why) => self.malformed.push((what, why)),
            Item::Skipped(s) => self.skipped.push(s),
            Item::File => self.files += 1,
        }
    }
}

/// Largest single file read.
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// An import that could not start.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The sink of [`stream_path`] stopped the import.
    #[error("import of {} stopped", path.display())]
    Stopped { path: PathBuf },
}

/// Why one file (or zip entry) was not read; its text is the reason listed in
/// [`ImportBatch::malformed`].
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    #[error("cannot read directory: {0}")]
    ReadDir(#[source] std::io::Error),
    #[error("larger than the limit of {MAX_FILE_BYTES} bytes")]
    TooLarge,
    #[error(transparent)]
    Osv(#[from] osv::OsvError),
    #[error(transparent)]
    RustSec(#[from] rustsec::RustSecError),
    #[error(transparent)]
    Secdb(#[from] alpine::SecdbError),
    #[error(transparent)]
    Debian(#[from] debian::DebianError),
    #[error(transparent)]
    Kev(#[from] kev::KevError),
    #[error(transparent)]
    Csaf(#[from] csaf::CsafError),
}

impl ImportBatch {
    fn malformed_file(&mut self, path: &Path, e: FileError) {
        self.malformed
            .push((path.display().to_string(), e.to_string()));
    }
}

/// One item within moat's value caps ([`moat_model::limits`]): an advisory's long text and
/// a KEV entry's fields are cut; an advisory or KEV entry that cannot be cut without changing
/// what it says (an over-long id, package name or version) becomes [`Item::Malformed`].
pub fn limited(item: Item) -> Item {
    use moat_model::limits::{self, truncate, truncate_opt, truncated};
    match item {
        Item::Advisory(mut a) => match limits::advisory(&mut a) {
            Ok(()) => Item::Advisory(a),
            Err(why) => Item::Malformed(truncated(&a.id, limits::MAX_ID).into_owned(), why),
        },
        Item::Kev(mut k) => {
            if k.cve.len() > limits::MAX_ID {
                return Item::Malformed(
                    truncated(&k.cve, limits::MAX_ID).into_owned(),
                    format!(
                        "KEV id of {} bytes (the limit is {})",
                        k.cve.len(),
                        limits::MAX_ID
                    ),
                );
            }
            for f in [
                &mut k.date_added,
                &mut k.vendor,
                &mut k.product,
                &mut k.name,
            ] {
                truncate(f, limits::MAX_FIELD);
            }
            truncate_opt(&mut k.due_date, limits::MAX_FIELD);
            truncate_opt(&mut k.ransomware, limits::MAX_FIELD);
            Item::Kev(k)
        }
        other => other,
    }
}

/// Reads a file, a directory or an OSV `all.zip` (see the module docs) into memory.
pub fn import_path(path: &Path) -> Result<ImportBatch, ImportError> {
    let mut batch = ImportBatch::default();
    stream_path(path, &mut |item| {
        batch.push(item);
        Ok(())
    })?;
    Ok(batch)
}

/// Reads a file, a directory or an OSV `all.zip` (see the module docs) and hands every
/// record to `sink` as it is read, in the order [`import_path`] lists them: memory stays
/// flat however many records there are (an `all.zip` is read entry by entry from the file,
/// a directory in sorted chunks of files parsed on all cores).
pub fn stream_path(path: &Path, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    let sink = &mut |item| sink(limited(item));
    let io = |e| ImportError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let stopped = |_: Stop| ImportError::Stopped {
        path: path.to_path_buf(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        std::fs::read_dir(path).map_err(io)?;
        return walk(path, sink).map_err(stopped);
    }
    if is_zip(path) {
        return match std::fs::File::open(path) {
            Ok(f) => stream_zip(path, f, sink).map_err(stopped),
            Err(e) => Err(io(e)),
        };
    }
    if is_xml(path) {
        return match std::fs::File::open(path) {
            Ok(f) => stream_xml(path, f, sink).map_err(stopped),
            Err(e) => Err(io(e)),
        };
    }
    let mut batch = ImportBatch::default();
    match read_bounded(path) {
        Ok(b) => import_bytes(path, &b, &mut batch),
        Err(FileError::Read(e)) => return Err(io(e)),
        Err(e) => batch.malformed_file(path, e),
    }
    batch.drain_into(sink).map_err(stopped)
}

/// [`stream_path`] on a thread of its own, handing `consume` the items in batches of up to
/// `batch` (reading and parsing overlap with what `consume` does, the database writes).
/// When `consume` stops, reading stops too.
pub fn stream_path_batched(
    path: &Path,
    batch: usize,
    consume: &mut dyn FnMut(&mut Vec<Item>) -> Result<(), Stop>,
) -> Result<(), ImportError> {
    stream_path_mapped(path, batch, &|item| item, consume)
}

/// [`stream_path_batched`], with `map` applied to every item on a thread between the reading
/// one and the caller's (work that needs no state of the consumer, such as serialising a
/// record, overlaps with reading and with the consumer's).
pub fn stream_path_mapped<T: Send>(
    path: &Path,
    batch: usize,
    map: &(dyn Fn(Item) -> T + Sync),
    consume: &mut dyn FnMut(&mut Vec<T>) -> Result<(), Stop>,
) -> Result<(), ImportError> {
    let batch = batch.max(1);
    if is_zip(path) && std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return stream_zip_mapped(path, batch, &|_| None, map, consume);
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<T>>(4);
    let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(4);
    std::thread::scope(|scope| {
        // Reading (decompressing, parsing), mapping and consuming: three stages, each on its
        // own thread. A stage that stops drops its receiver, which stops the one before.
        scope.spawn(move || {
            for items in raw_rx.iter() {
                if tx.send(items.into_iter().map(map).collect()).is_err() {
                    break;
                }
            }
        });
        let tx = raw_tx;
        let reader = scope.spawn(move || {
            let mut buf = Vec::with_capacity(batch);
            let r = stream_path(path, &mut |item| {
                buf.push(item);
                if buf.len() >= batch {
                    let full = std::mem::replace(&mut buf, Vec::with_capacity(batch));
                    tx.send(full).map_err(|_| Stop)?;
                }
                Ok(())
            });
            if r.is_ok() && !buf.is_empty() {
                // A closed channel means the consumer stopped: reported below.
                let _ = tx.send(buf);
            }
            r
        });
        let mut stopped = false;
        for mut items in rx.iter() {
            if consume(&mut items).is_err() {
                stopped = true;
                break;
            }
        }
        drop(rx);
        let read = match reader.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        match read {
            Err(ImportError::Stopped { .. }) | Ok(()) if stopped => Err(ImportError::Stopped {
                path: path.to_path_buf(),
            }),
            r => r,
        }
    })
}

/// [`stream_path_mapped`] of an OSV `all.zip`: entries inflated, parsed and mapped on all
/// cores ([`osv::stream_zip_mapped`]), the items as [`stream_path`] hands them on; a plain
/// JSON entry for which `fast` gives an output has that output instead of its mapped records.
fn stream_zip_mapped<T: Send>(
    path: &Path,
    batch: usize,
    fast: &(dyn Fn(&[u8]) -> Option<T> + Sync),
    map: &(dyn Fn(Item) -> T + Sync),
    consume: &mut dyn FnMut(&mut Vec<T>) -> Result<(), Stop>,
) -> Result<(), ImportError> {
    let file = std::fs::File::open(path).map_err(|e| ImportError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let shown = path.display().to_string();
    let mapped = |item| map(limited(zip_item(&shown, item)));
    let read = osv::stream_zip_fast(std::io::BufReader::new(file), batch, fast, &mapped, consume);
    let r = match read {
        Ok(r) => r,
        Err(e) => consume(&mut vec![mapped(Item::Malformed(
            "(zip)".into(),
            e.to_string(),
        ))]),
    };
    r.map_err(|_| ImportError::Stopped {
        path: path.to_path_buf(),
    })
}

/// What [`stream_path_prepared`] hands on: a record made ready for
/// [`crate::db::Writer::prepared`], or any other item as [`stream_path`] hands it on.
#[derive(Debug)]
pub enum Ready {
    Advisory(crate::db::Prepared),
    Other(Item),
}

/// Whether the borrowing fast path of an OSV JSON entry (what `moat db import` reads most
/// records with) agrees with the typed path on `bytes`: it either declines them or makes the
/// same stored record. For the fuzz target `vuln_importers`; not an import function.
#[doc(hidden)]
pub fn fast_path_agrees(bytes: &[u8]) -> bool {
    borrowed::agrees(bytes)
}

/// `a` made ready for the database in its own `source` (`import` when it has none): what
/// [`stream_path_prepared`] makes of every advisory it reads.
pub fn prepared(a: &Advisory) -> crate::db::Prepared {
    let source = if a.source.is_empty() {
        "import"
    } else {
        a.source.as_str()
    };
    crate::db::Prepared::new(source, a)
}

/// [`stream_path_mapped`] with every advisory made ready for the database on the reading
/// threads ([`crate::db::Prepared::new`], in its own `source`, `import` when it has none).
/// The records of an OSV `all.zip` are built from the entries' bytes where they need nothing
/// cut or reported (no typed model in between: the same stored record, with less work).
pub fn stream_path_prepared(
    path: &Path,
    batch: usize,
    consume: &mut dyn FnMut(&mut Vec<Ready>) -> Result<(), Stop>,
) -> Result<(), ImportError> {
    let map = |item: Item| match item {
        Item::Advisory(a) => Ready::Advisory(prepared(&a)),
        other => Ready::Other(other),
    };
    if is_zip(path) && std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        let fast = |bytes: &[u8]| borrowed::prepare(bytes, None).map(Ready::Advisory);
        return stream_zip_mapped(path, batch.max(1), &fast, &map, consume);
    }
    stream_path_mapped(path, batch, &map, consume)
}

/// An item of a record inside the file `shown` (an `all.zip`'s entry, an XML feed's record)
/// as [`stream_path`] names it: malformed and skipped ones as `<path>!<name>`.
fn zip_item(shown: &str, item: Item) -> Item {
    match item {
        Item::Malformed(what, why) => Item::Malformed(format!("{shown}!{what}"), why),
        Item::Skipped(s) => Item::Skipped(format!("{shown}!{s}")),
        other => other,
    }
}

fn is_zip(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// `*.xml`, `*.xml.gz`, `*.xml.bz2`: read as a stream (yum updateinfo, OVAL).
fn is_xml(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    name.ends_with(".xml") || name.ends_with(".xml.gz") || name.ends_with(".xml.bz2")
}

/// Files read as a stream rather than whole.
fn is_streamed(path: &Path) -> bool {
    is_zip(path) || is_xml(path)
}

/// How much of an XML feed is looked at to tell its kind.
const SNIFF: usize = 64 << 10;

/// The XML feeds [`stream_xml`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XmlFeed {
    /// yum `updateinfo.xml` (Amazon Linux).
    Updateinfo,
    /// Oracle's ELSA OVAL.
    OracleOval,
    /// Microsoft's Azure Linux / CBL-Mariner OVAL.
    AzureOval,
}

/// An XML feed (`updateinfo.xml`, Oracle or Azure Linux OVAL; plain, gzip or bzip2: the magic bytes
/// decide) read record by record from `file` (named `path` in messages), whatever its name.
pub fn stream_xml_file(path: &Path, file: std::fs::File, sink: &mut Sink<'_>) -> Result<(), Stop> {
    stream_xml(path, file, sink)
}

/// An XML feed (plain, gzip or bzip2: the magic bytes decide) read record by record.
fn stream_xml(path: &Path, file: std::fs::File, sink: &mut Sink<'_>) -> Result<(), Stop> {
    use std::io::{BufRead, BufReader, Read};
    let shown = path.display().to_string();
    let malformed = |sink: &mut Sink<'_>, why: String| sink(Item::Malformed(shown.clone(), why));
    let mut raw = BufReader::new(file);
    let magic = match raw.fill_buf() {
        Ok(b) => b.get(..3).map(<[u8]>::to_vec).unwrap_or_default(),
        Err(e) => return malformed(sink, FileError::Read(e).to_string()),
    };
    let mut reader: Box<dyn BufRead> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(raw)))
    } else if magic.starts_with(b"BZh") {
        Box::new(BufReader::new(bzip2::bufread::MultiBzDecoder::new(raw)))
    } else {
        Box::new(raw)
    };
    let mut head = Vec::with_capacity(SNIFF);
    if let Err(e) = (&mut reader).take(SNIFF as u64).read_to_end(&mut head) {
        return malformed(sink, FileError::Read(e).to_string());
    }
    let text = String::from_utf8_lossy(&head);
    let feed = if text.contains("<updates") {
        XmlFeed::Updateinfo
    } else if text.contains("oval_definitions")
        && (text.contains("oval:com.microsoft.cbl-mariner:")
            || text.contains("oval:com.microsoft.azurelinux:"))
    {
        XmlFeed::AzureOval
    } else if text.contains("oval_definitions") && text.contains("oracle") {
        XmlFeed::OracleOval
    } else {
        return sink(Item::Skipped(shown));
    };
    let rest = std::io::Cursor::new(head).chain(reader);
    let rest = BufReader::new(rest);
    let read = {
        // a record is named within its file, as a zip's entry is
        let mut within = |item: Item| sink(zip_item(&shown, item));
        match feed {
            XmlFeed::Updateinfo => alas::stream(rest, &mut within).map_err(|e| e.to_string()),
            XmlFeed::OracleOval => oval::stream(rest, &mut within).map_err(|e| e.to_string()),
            XmlFeed::AzureOval => azurelinux::stream(rest, &mut within).map_err(|e| e.to_string()),
        }
    };
    match read {
        Ok(r) => r,
        Err(why) => malformed(sink, why),
    }
}

/// An OSV `all.zip` read entry by entry from `file`; malformed entries are named
/// `<path>!<entry>`, a damaged archive is one malformed `<path>`.
fn stream_zip(path: &Path, file: std::fs::File, sink: &mut Sink<'_>) -> Result<(), Stop> {
    let shown = path.display().to_string();
    let read = osv::stream_zip(std::io::BufReader::new(file), &mut |item| {
        sink(zip_item(&shown, item))
    });
    match read {
        Ok(r) => r,
        Err(e) => sink(Item::Malformed(format!("{shown}!(zip)"), e.to_string())),
    }
}

/// Reads a file unless it is larger than [`MAX_FILE_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, FileError> {
    read_capped(path)
        .map_err(FileError::Read)?
        .ok_or(FileError::TooLarge)
}

/// A whole file, or `None` when it is larger than [`MAX_FILE_BYTES`] (never read past it):
/// the one bounded whole-file read of the importers and the updater.
pub(crate) fn read_capped(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= MAX_FILE_BYTES).then_some(buf))
}

/// Collects the files under `dir` in sorted order (directories that cannot be read are
/// malformed; other non-files are skipped).
fn collect(dir: &Path, files: &mut Vec<PathBuf>, batch: &mut ImportBatch) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            batch.malformed_file(dir, FileError::ReadDir(e));
            return;
        }
    };
    entries.sort();
    for p in entries {
        let Ok(lmeta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let is_link = lmeta.file_type().is_symlink();
        let meta = if is_link {
            std::fs::metadata(&p)
        } else {
            Ok(lmeta)
        };
        match meta {
            Ok(m) if m.is_dir() => {
                if !is_link && p.file_name().is_some_and(|n| n != ".git") {
                    collect(&p, files, batch);
                }
            }
            Ok(m) if m.is_file() => files.push(p),
            _ => batch.skipped.push(p.display().to_string()),
        }
    }
}

fn import_file(p: &Path, batch: &mut ImportBatch) {
    match read_bounded(p) {
        Ok(bytes) => import_bytes(p, &bytes, batch),
        Err(e) => batch.malformed_file(p, e),
    }
}

/// Files parsed together before their records are handed on: bounds memory to a chunk.
const CHUNK: usize = 256;

/// Reads every file under `dir`, parsing each chunk of files on all cores; records are
/// handed on in the sorted file order whatever the thread count. Zip archives are streamed.
fn walk(dir: &Path, sink: &mut Sink<'_>) -> Result<(), Stop> {
    let mut files = Vec::new();
    let mut listing = ImportBatch::default();
    collect(dir, &mut files, &mut listing);
    listing.drain_into(sink)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16);
    let mut rest = files.as_slice();
    while !rest.is_empty() {
        // Zip archives and XML feeds one at a time, streamed; other files in chunks.
        if is_streamed(&rest[0]) {
            match std::fs::File::open(&rest[0]) {
                Ok(f) if is_zip(&rest[0]) => stream_zip(&rest[0], f, sink)?,
                Ok(f) => stream_xml(&rest[0], f, sink)?,
                Err(e) => sink(Item::Malformed(
                    rest[0].display().to_string(),
                    FileError::Read(e).to_string(),
                ))?,
            }
            rest = &rest[1..];
            continue;
        }
        let n = rest
            .iter()
            .take(CHUNK)
            .position(|p| is_streamed(p))
            .unwrap_or(rest.len().min(CHUNK));
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        for b in parse_chunk(chunk, threads) {
            b.drain_into(sink)?;
        }
    }
    Ok(())
}

/// One batch per file of `chunk`, in order, parsed on up to `threads` threads.
fn parse_chunk(chunk: &[PathBuf], threads: usize) -> Vec<ImportBatch> {
    if threads < 2 || chunk.len() < 16 {
        return chunk
            .iter()
            .map(|f| {
                let mut b = ImportBatch::default();
                import_file(f, &mut b);
                b
            })
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<(usize, ImportBatch)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = chunk.get(i) else { break };
                        let mut b = ImportBatch::default();
                        import_file(f, &mut b);
                        out.push((i, b));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(parts) => parts,
                // A parser bug: carry the worker's panic on rather than lose its files.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    parts.sort_by_key(|(i, _)| *i);
    parts.into_iter().map(|(_, b)| b).collect()
}

/// The formats [`import_path`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    OsvJson,
    OsvYaml,
    OsvZip,
    RustSec,
    AlpineYaml,
    AlpineJson,
    DebianList(debian::ListKind),
    DebianTracker,
    Kev,
    Csaf,
}

/// Which top-level keys a JSON object has (values are skipped, not built).
#[derive(serde::Deserialize)]
struct Probe {
    id: Option<serde::de::IgnoredAny>,
    affected: Option<serde::de::IgnoredAny>,
    modified: Option<serde::de::IgnoredAny>,
    vulns: Option<serde::de::IgnoredAny>,
    vulnerabilities: Option<serde::de::IgnoredAny>,
    #[serde(rename = "catalogVersion")]
    catalog_version: Option<serde::de::IgnoredAny>,
    packages: Option<serde::de::IgnoredAny>,
    secfixes: Option<serde::de::IgnoredAny>,
    document: Option<serde::de::IgnoredAny>,
    product_tree: Option<serde::de::IgnoredAny>,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    hay.windows(needle.len())
        .any(|w| w.first() == Some(&first) && w == needle)
}

fn has_line_starting(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.split(|&b| b == b'\n').any(|l| l.starts_with(prefix))
}

/// A cheap look at the first bytes: an object whose first key is `"id"` or
/// `"schema_version"` (how OSV exporters write records).
fn looks_like_osv(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(256)];
    let Some(start) = head.iter().position(|&b| b == b'{') else {
        return false;
    };
    if head[..start].iter().any(|b| !b.is_ascii_whitespace()) {
        return false;
    }
    let rest = &head[start + 1..];
    let Some(q) = rest.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    let rest = &rest[q..];
    rest.starts_with(b"\"id\"") || rest.starts_with(b"\"schema_version\"")
}

fn detect(path: &Path, bytes: &[u8]) -> Option<Format> {
    let name = path.file_name()?.to_str()?;
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if name == "list" {
        let parent = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str());
        return match parent {
            Some("DSA") => Some(Format::DebianList(debian::ListKind::Dsa)),
            Some("DLA") => Some(Format::DebianList(debian::ListKind::Dla)),
            _ => None,
        };
    }
    match ext.as_str() {
        "zip" => Some(Format::OsvZip),
        "md" => {
            let t = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]);
            t.trim_start_matches('\u{feff}')
                .trim_start()
                .starts_with("```toml")
                .then_some(Format::RustSec)
        }
        "yaml" | "yml" => {
            if has_line_starting(bytes, b"packages:") && contains(bytes, b"secfixes") {
                Some(Format::AlpineYaml)
            } else if has_line_starting(bytes, b"id:") {
                Some(Format::OsvYaml)
            } else {
                None
            }
        }
        "json" => {
            let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
            if first == Some(b'[') {
                return Some(Format::OsvJson);
            }
            // Most files are OSV records: one pass when the record says so.
            if looks_like_osv(bytes) {
                return Some(Format::OsvJson);
            }
            let Ok(p) = serde_json::from_slice::<Probe>(bytes) else {
                // Not JSON at all (or cut off): the OSV parser reports why, as malformed.
                return Some(Format::OsvJson);
            };
            if p.vulnerabilities.is_some() && p.catalog_version.is_some() {
                Some(Format::Kev)
            } else if p.document.is_some()
                && (p.product_tree.is_some() || p.vulnerabilities.is_some())
            {
                Some(Format::Csaf)
            } else if p.secfixes.is_some()
                || (p.packages.is_some() && contains(bytes, b"\"secfixes\""))
            {
                Some(Format::AlpineJson)
            } else if (p.id.is_some() && (p.affected.is_some() || p.modified.is_some()))
                || p.vulns.is_some()
            {
                Some(Format::OsvJson)
            } else if p.id.is_none()
                && contains(bytes, b"\"releases\"")
                && contains(bytes, b"\"CVE-")
            {
                Some(Format::DebianTracker)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn with_source(mut list: Vec<Advisory>, source: &str) -> Vec<Advisory> {
    for a in &mut list {
        if a.source.is_empty() {
            a.source = source.to_string();
        }
    }
    list
}

/// The advisories a streaming reader hands its sink, collected (the `parse` of a feed read
/// from memory: [`alas::parse`], [`oval::parse`], [`azurelinux::parse`]).
pub(crate) fn collect_advisories<E>(
    read: impl FnOnce(&mut Sink<'_>) -> Result<Result<(), Stop>, E>,
) -> Result<Vec<Advisory>, E> {
    let mut out = Vec::new();
    // The sink never stops.
    let _ = read(&mut |item| {
        if let Item::Advisory(a) = item {
            out.push(a);
        }
        Ok(())
    })?;
    Ok(out)
}

/// Detects the format of one file's bytes and adds what it holds to `batch`.
fn import_bytes(path: &Path, bytes: &[u8], batch: &mut ImportBatch) {
    let shown = path.display().to_string();
    let Some(format) = detect(path, bytes) else {
        batch.skipped.push(shown);
        return;
    };
    let result: Result<Vec<Advisory>, FileError> = match format {
        Format::OsvZip => {
            let mut inner = osv::read_zip(bytes);
            for m in &mut inner.malformed {
                m.0 = format!("{shown}!{}", m.0);
            }
            for s in &mut inner.skipped {
                *s = format!("{shown}!{s}");
            }
            batch.extend(inner);
            return;
        }
        Format::OsvJson => {
            // An index of the feed's records (ids and modified times) is skipped: read as
            // records it would empty the records it names.
            if osv::read_json_into(bytes, &shown, batch) {
                batch.files += 1;
            }
            return;
        }
        Format::OsvYaml => osv::parse_yaml(bytes).map_err(FileError::from),
        Format::RustSec => rustsec::parse(bytes)
            .map(|a| vec![a])
            .map_err(FileError::from),
        Format::AlpineYaml => alpine::parse_secdb_yaml(bytes)
            .map(|l| with_source(l, alpine::SOURCE))
            .map_err(FileError::from),
        Format::AlpineJson => alpine::parse_secdb_json(bytes)
            .map(|l| with_source(l, alpine::SOURCE))
            .map_err(FileError::from),
        Format::DebianList(kind) => debian::parse_list(bytes, kind)
            .map(|l| with_source(l, kind.source()))
            .map_err(FileError::from),
        Format::DebianTracker => debian::parse_tracker_json(bytes)
            .map(|l| with_source(l, debian::TRACKER_SOURCE))
            .map_err(FileError::from),
        Format::Csaf => csaf::parse(bytes).map_err(FileError::from),
        Format::Kev => match kev::parse(bytes) {
            Ok(k) => {
                batch.files += 1;
                batch.kev.extend(k);
                return;
            }
            Err(e) => Err(e.into()),
        },
    };
    batch.files += 1;
    match result {
        Ok(list) => batch.advisories.extend(list),
        Err(e) => batch.malformed_file(path, e),
    }
}

/// A stable source label for [`crate::db::Builder::replace_source`]: the `source` of the first
/// advisory (`osv:Go`, `rustsec`, `alpine-secdb`, `debian-dsa`, ...), else `kev` for a KEV
/// catalogue, else `import:<file name>`. For a batch that mixes sources use
/// [`split_by_source`].
pub fn source_name(path: &Path, batch: &ImportBatch) -> String {
    if let Some(a) = batch.advisories.iter().find(|a| !a.source.is_empty()) {
        return a.source.clone();
    }
    if !batch.kev.is_empty() {
        return "kev".to_string();
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("import:{name}")
}

/// Moves the advisories and KEV entries of `batch` into one batch per source label (sorted by
/// label; KEV entries under `kev`). `malformed`, `skipped` and `files` stay in `batch`.
pub fn split_by_source(batch: &mut ImportBatch) -> Vec<(String, ImportBatch)> {
    let mut groups: BTreeMap<String, ImportBatch> = BTreeMap::new();
    for a in batch.advisories.drain(..) {
        let label = if a.source.is_empty() {
            "import".to_string()
        } else {
            a.source.clone()
        };
        groups.entry(label).or_default().advisories.push(a);
    }
    if !batch.kev.is_empty() {
        groups
            .entry("kev".to_string())
            .or_default()
            .kev
            .append(&mut batch.kev);
    }
    groups.into_iter().collect()
}
