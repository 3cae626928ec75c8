//! # moat-vuln: the advisory database and matching
//!
//! | module | job |
//! |---|---|
//! | [`import`] | real published feeds -> [`moat_model::advisory::Advisory`] records (pure, bytes in; streamed record by record for large feeds) |
//! | [`distro`] | distro releases and streams (which feed ecosystem a scanned release reads), per-distro entry rules (modules, architectures, Ksplice), end-of-life dates |
//! | [`db`] | the embedded SQLite database (`moat.db`): schema, read-only opening, atomic rebuilds, status |
//! | [`update`] | downloads OSV ecosystem archives, vendor feeds and KEV over HTTP (ETag / Last-Modified), streamed to disk, from mirrors in order with retries and a time budget; OSV sources incrementally from `modified_id.csv`; a failing source keeps its records |
//! | [`matcher`] | packages x advisories -> findings, each saying how it matched, and typed diagnostics for what could not be evaluated |
//! | [`cvss`](mod@crate::score) | CVSS v2 / v3.x / v4 base scores |
//!
//! Scans open the database read-only; an update or import builds a new database file beside
//! the old one and renames it into place, so a failed or interrupted update leaves the
//! previous database fully usable.
//!
//! Ecosystem names, purl types and the package-name rule come from `moat_model::ecosystem`,
//! so the database's index, the matcher and the scanner cannot disagree about which spellings
//! name one package. Every fallible function returns a `thiserror` enum of its module
//! (`DbError`, `LookupError`, `FileError`, `FetchError`, ...) whose message names the file,
//! record or URL; problems that do not stop a scan are [`moat_model::Diagnostic`]s.

pub mod db;
pub mod distro;
pub mod import;
pub mod matcher;
pub mod score;
pub mod update;
