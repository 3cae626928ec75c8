//! # rpm package databases, read by hand
//!
//! An rpm database is, whatever the container, a set of *header blobs* keyed by a
//! header number: one blob per installed package, in the same big-endian "immutable
//! region" format rpm uses inside `.rpm` files (an index of `(tag, type, offset, count)`
//! entries followed by a data store; see [`parse_header`]). Three containers are in use:
//!
//! | backend | file | used by | module |
//! |---|---|---|---|
//! | sqlite | `rpmdb.sqlite` | rpm >= 4.16: Fedora 33+, RHEL 9, CBL-Mariner/Azure Linux, Amazon Linux 2023 | [`sqlite`] |
//! | BerkeleyDB hash | `Packages` | rpm <= 4.15: RHEL/CentOS 5-8, Amazon Linux 2, older SUSE | [`bdb`] |
//! | ndb | `Packages.db` | SUSE (SLE 15, openSUSE) | [`ndb`] |
//!
//! Distroless CBL-Mariner / Azure Linux images have no database but a text manifest of the
//! same packages, read by [`manifest`].
//!
//! [`read`] picks the backend by magic ([`detect`]) and returns the packages in header
//! number order. Only the `Packages` store is read: rpm's other files (`Name`,
//! `Basenames`, `Index.db`, ...) are indexes derived from the headers and are ignored.
//! `gpg-pubkey` entries, which are imported signing keys rather than software, are left
//! out of the result silently.
//!
//! ## Limits
//!
//! * sqlite: the bytes are deserialized into an in-memory, read-only connection, so any
//!   transactions still sitting in a `-wal` file are not seen (rpm checkpoints on close, so
//!   a cleanly written image has an empty WAL). [`sqlite::read_path`] opens the file
//!   `immutable=1`, with the same effect. The file is the image author's, and a schema is
//!   code: every connection is hardened first ([`sqlite::harden`]: defensive mode, no trusted
//!   schema, lowered limits, a step budget) and the schema is checked before any row is read.
//! * BerkeleyDB: hash databases only (rpm never wrote its `Packages` as a btree), both byte
//!   orders, no encryption or page checksums; pages are scanned linearly instead of through
//!   the bucket table (see [`bdb`]). A hot (uncheckpointed) BerkeleyDB environment's log is
//!   not replayed.
//! * ndb: blob checksums are verified; the `Index.db`/`Xdb` side files are ignored.
//! * Only the tags in [`RpmPackage`] are decoded; dependency *names* only (no flags or
//!   versions). Strings are decoded as UTF-8, lossily.
//!
//! Every length, offset and count taken from the input is checked against the bytes
//! present before it is used or allocated, linked structures (overflow chains) are bounded
//! by the page count, and a header's file list is bounded relative to its size. A damaged
//! record becomes a `parse-error` diagnostic naming the record (`hnum 12: ...`, `slot 3:
//! ...`, `page 7 pair 2: ...`; there are no lines in a binary file); a file that is not a
//! database at all becomes [`Error::Format`]. Nothing here panics on hostile input.

use std::fmt::Display;

use moat_model::Diagnostic;

use crate::{Error, Parsed, Warnings};

pub mod bdb;
mod header;
pub mod manifest;
pub mod ndb;
pub mod sqlite;

/// One installed package, as recorded in its header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RpmPackage {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    pub arch: Option<String>,
    pub source_rpm: Option<String>,
    pub license: Option<String>,
    pub vendor: Option<String>,
    /// Installed size in bytes (`LONGSIZE`, else `SIZE`).
    pub size: Option<u64>,
    /// Absolute paths from DIRNAMES/BASENAMES/DIRINDEXES (or OLDFILENAMES), header order.
    pub files: Vec<String>,
    /// `REQUIRENAME` entries (names only).
    pub requires: Vec<String>,
    /// `PROVIDENAME` entries (names only).
    pub provides: Vec<String>,
    pub modularity_label: Option<String>,
}

impl RpmPackage {
    /// `[epoch:]version-release`, the form rpm advisories compare against.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }
}

/// The container format of an rpm database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    BerkeleyDb,
    Ndb,
}

/// Recognises a database by its magic bytes.
pub fn detect(bytes: &[u8]) -> Option<DbKind> {
    if bytes.starts_with(b"SQLite format 3\0") {
        Some(DbKind::Sqlite)
    } else if bytes.starts_with(ndb::MAGIC) {
        Some(DbKind::Ndb)
    } else if bdb::byte_order(bytes).is_some() {
        Some(DbKind::BerkeleyDb)
    } else {
        None
    }
}

/// Detects the backend and reads every package header.
pub fn read(bytes: &[u8]) -> Result<Parsed<RpmPackage>, Error> {
    match detect(bytes) {
        Some(DbKind::Sqlite) => sqlite::read_bytes(bytes),
        Some(DbKind::BerkeleyDb) => bdb::read(bytes),
        Some(DbKind::Ndb) => ndb::read(bytes),
        None => Err(Error::Format {
            format: "rpm",
            reason: not_a_db_reason(bytes),
        }),
    }
}

fn not_a_db_reason(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(512)];
    let what = if bytes.is_empty() {
        "the input is empty".to_string()
    } else if head
        .iter()
        .all(|&b| b == b'\t' || b == b'\n' || b == b'\r' || (0x20..0x7f).contains(&b) || b >= 0x80)
    {
        "the input is text (e.g. a package listing), not a database".to_string()
    } else {
        let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("unknown leading bytes {}", hex.join(" "))
    };
    format!("no sqlite, BerkeleyDB hash or ndb magic: {what}")
}

/// Parses one header blob (index count, data size, index entries, data store).
pub fn parse_header(blob: &[u8]) -> Result<RpmPackage, Error> {
    header::parse(blob)
}

/// Shared by the backends: parses blobs, turns failures into diagnostics, drops
/// `gpg-pubkey`, orders by header number.
#[derive(Default)]
struct Collector {
    packages: Vec<(u64, RpmPackage)>,
    warnings: Warnings,
}

impl Collector {
    /// A blob in arrival order.
    fn blob(&mut self, id: &str, blob: &[u8]) {
        let key = self.packages.len() as u64;
        self.blob_sorted(key, id, blob);
    }

    /// A blob to be ordered by `key`.
    fn blob_sorted(&mut self, key: impl Into<u64>, id: &str, blob: &[u8]) {
        match header::parse(blob) {
            Ok(p) if p.name == "gpg-pubkey" => {}
            Ok(p) => self.packages.push((key.into(), p)),
            Err(e) => self
                .warnings
                .push(Diagnostic::new(e.code(), format!("{id}: {e}"))),
        }
    }

    /// A `parse-error` about the record `id`.
    fn warn(&mut self, id: &str, what: impl Display) {
        self.warnings
            .push(Diagnostic::parse(format!("{id}: {what}")));
    }

    fn finish(mut self) -> Parsed<RpmPackage> {
        self.packages.sort_by_key(|(k, _)| *k);
        Parsed {
            packages: self.packages.into_iter().map(|(_, p)| p).collect(),
            warnings: self.warnings.finish(),
        }
    }
}
