//! # moat-pkgdb: OS package databases, read by hand
//!
//! Pure parsers over bytes (no file system access except [`rpm::sqlite`]'s path opener):
//! each reader takes the bytes of one database file, as the layer walker hands them over,
//! and returns typed packages plus per-record diagnostics ([`Parsed`]). Nothing here shells
//! out to dpkg, apk or rpm, and nothing writes to its input.
//!
//! | module | input |
//! |---|---|
//! | [`dpkg`] | `var/lib/dpkg/status`, `status.d/*`, `info/*.list`, `usr/share/doc/*/copyright` |
//! | [`apk`] | `lib/apk/db/installed` |
//! | [`rpm`] | `rpmdb.sqlite`, BerkeleyDB `Packages`, NDB `Packages.db`, and the header blobs inside |
//! | [`osrelease`] | `etc/os-release`, `usr/lib/os-release` and distro marker files |
//!
//! Every reader is total: hostile bytes give an [`Error`] or diagnostics, never a panic, and
//! memory stays proportional to the input (lengths read from the data are checked against
//! the bytes actually present before anything is allocated).
//!
//! ## Diagnostics
//!
//! A record that cannot be read is skipped and becomes a [`Diagnostic`] in
//! [`Parsed::warnings`]: `parse-error`, with the 1-based line of the stanza in the
//! line-oriented formats (dpkg, apk) and the record's place in the binary ones (`hnum 12: ...`,
//! `slot 3: ...`). The message never names the file: the engine knows its path and layer and
//! sets them ([`Diagnostic::at`]). Diagnostics are capped per file at [`MAX_WARNINGS`]; the
//! ones dropped are counted in a final `too-large` diagnostic, since the cap is a limit hit
//! (memory stays bounded whatever the file). A database that cannot be read at all is an
//! [`Error`], whose [`Error::diagnostic`] says the same as a diagnostic (`unsupported` for a
//! format or version moat does not read, `parse-error` for a damaged one).

pub mod apk;
pub mod dpkg;
pub mod osrelease;
pub mod rpm;

pub use moat_model::{Code, Diagnostic};

/// At most this many diagnostics are returned for one file; further ones are counted in one
/// final `too-large` diagnostic.
pub const MAX_WARNINGS: usize = 1000;

/// A reader's result: the packages it could read, and what it could not.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Parsed<T> {
    pub packages: Vec<T>,
    /// One diagnostic per record that was skipped or damaged (e.g. `stanza 3 (acl): no
    /// Version field` at line 14), without path or layer (see the crate docs).
    pub warnings: Vec<Diagnostic>,
}

impl<T> Parsed<T> {
    /// The diagnostics (no path or layer: the caller knows where the bytes came from).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }
}

/// Collects the diagnostics of one file, keeping at most [`MAX_WARNINGS`].
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    kept: Vec<Diagnostic>,
    dropped: usize,
}

impl Warnings {
    pub(crate) fn push(&mut self, d: Diagnostic) {
        if self.kept.len() < MAX_WARNINGS {
            self.kept.push(d);
        } else {
            self.dropped += 1;
        }
    }

    /// A `parse-error` about the record starting at 1-based `line`.
    pub(crate) fn at_line(&mut self, line: usize, message: String) {
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        self.push(Diagnostic::parse(message).line(line));
    }

    /// The kept diagnostics, and one more counting those dropped.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        if self.dropped > 0 {
            let msg = format!("... {} more warnings", self.dropped);
            self.kept.push(Diagnostic::new(Code::TooLarge, msg));
        }
        self.kept
    }
}

/// Room to reserve for the records of a stanza database: the stanzas that start a line with
/// `key` (the name field), at most one per 128 bytes (far below any real stanza, so a file
/// of bare names reserves nothing more than its size). A database of a million packages
/// grown by doubling would waste up to half of its records' memory.
pub(crate) fn records_room(text: &str, key: &str) -> usize {
    let at_start = usize::from(text.starts_with(key));
    let after_newline = text
        .match_indices(key)
        .filter(|(i, _)| text[..*i].ends_with('\n'));
    (at_start + after_newline.count()).min(text.len() / 128)
}

/// Removes repeated entries, keeping the first of each (linear time).
pub(crate) fn dedup_in_order<T: std::hash::Hash + Eq + Clone>(v: &mut Vec<T>) {
    if v.len() < 2 {
        return;
    }
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    v.retain(|s| seen.insert(s.clone()));
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

impl Error {
    /// What kind of problem: a format or format version moat does not read is
    /// `unsupported`, a damaged database `parse-error`, an I/O error `unreadable`.
    pub fn code(&self) -> Code {
        match self {
            Error::Format { .. } => Code::Unsupported,
            Error::Corrupt { .. } | Error::Sqlite(_) => Code::ParseError,
            Error::Io(_) => Code::Unreadable,
        }
    }

    /// The error as a diagnostic about the file (no path or layer, as for [`Parsed`]).
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic::new(self.code(), self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_as_diagnostics() {
        let e = rpm::read(b"bash 5.1\ncoreutils 9.0\n").unwrap_err();
        let d = e.diagnostic();
        assert_eq!(d.code, Code::Unsupported);
        assert!(d.message.starts_with("not a rpm database: "), "{d}");
        assert_eq!((d.path, d.layer, d.line), (None, None, None));

        let e = rpm::read(b"RpmP").unwrap_err();
        assert_eq!(e.code(), Code::ParseError);
        assert_eq!(
            e.diagnostic().message,
            "rpm ndb database is damaged: 4 bytes: truncated file header"
        );
        let io = Error::Io(std::io::Error::other("gone"));
        assert_eq!(io.code(), Code::Unreadable);
    }

    #[test]
    fn warnings_are_capped_with_a_count() {
        let mut w = Warnings::default();
        for i in 0..MAX_WARNINGS + 7 {
            w.at_line(i + 1, format!("record {i}"));
        }
        let list = w.finish();
        assert_eq!(list.len(), MAX_WARNINGS + 1);
        assert_eq!(list[0], Diagnostic::parse("record 0").line(1));
        assert_eq!(
            list[MAX_WARNINGS],
            Diagnostic::new(Code::TooLarge, "... 7 more warnings")
        );
    }
}
