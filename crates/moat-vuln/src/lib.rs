//! # moat-vuln: the advisory database and matching
//!
//! | module | job |
//! |---|---|
//! | [`import`] | real published feeds -> [`moat_model::advisory::Advisory`] records (pure, bytes in) |
//! | [`db`] | the embedded SQLite database (`moat.db`): schema, read-only opening, atomic rebuilds, status |
//! | [`update`] | downloads OSV ecosystem archives and KEV over HTTP (ETag / Last-Modified) |
//! | [`matcher`] | packages x advisories -> findings, each saying how it matched |
//! | [`cvss`](mod@crate::score) | CVSS v2 / v3.x / v4 base scores |
//!
//! Scans open the database read-only; an update or import builds a new database file beside
//! the old one and renames it into place, so a failed or interrupted update leaves the
//! previous database fully usable.

pub mod db;
pub mod import;
pub mod matcher;
pub mod score;
pub mod update;
