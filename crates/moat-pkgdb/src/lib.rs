//! # moat-pkgdb: OS package databases, read by hand
//!
//! Pure parsers over bytes (no file system access except [`rpm::sqlite`]'s path opener):
//! each reader takes the bytes of one database file, as the layer walker hands them over,
//! and returns typed packages plus per-record warnings. Nothing here shells out to dpkg,
//! apk or rpm, and nothing writes to its input.
//!
//! | module | input |
//! |---|---|
//! | [`dpkg`] | `var/lib/dpkg/status`, `status.d/*`, `info/*.list`, `usr/share/doc/*/copyright` |
//! | [`apk`] | `lib/apk/db/installed` |
//! | [`rpm`] | `rpmdb.sqlite`, BerkeleyDB `Packages`, NDB `Packages.db`, and the header blobs inside |
//! | [`osrelease`] | `etc/os-release`, `usr/lib/os-release` and distro marker files |
//!
//! Every reader is total: hostile bytes give an [`Error`] or warnings, never a panic, and
//! memory stays proportional to the input (lengths read from the data are checked against
//! the bytes actually present before anything is allocated).

pub mod apk;
pub mod dpkg;
pub mod osrelease;
pub mod rpm;

/// A reader's result: the packages it could read, and what it could not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed<T> {
    pub packages: Vec<T>,
    /// One line per record that was skipped or damaged (e.g. "stanza 3: no Version field").
    pub warnings: Vec<String>,
}

impl<T> Parsed<T> {
    /// The warnings as typed diagnostics (no path or layer: the caller knows where the
    /// bytes came from).
    pub fn diagnostics(&self) -> Vec<moat_model::Diagnostic> {
        self.warnings
            .iter()
            .map(|w| moat_model::Diagnostic::parse(w.clone()))
            .collect()
    }
}

/// The database as a whole cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a {format} database: {reason}")]
    Format {
        format: &'static str,
        reason: String,
    },
    #[error("{format} database is damaged: {reason}")]
    Corrupt {
        format: &'static str,
        reason: String,
    },
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
