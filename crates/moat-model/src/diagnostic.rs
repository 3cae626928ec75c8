//! Typed diagnostics: what went wrong inside a target without stopping the scan.
//!
//! Every library reports problems as [`Diagnostic`]s (a [`Code`], a message, and where:
//! file, layer, line) instead of strings; the report lists them (`diagnostics` in the JSON
//! document) and the CLI prints each once, then a count per code when there are many.
//! Parsers of one file leave `path` and `layer` empty: the engine that handed them the bytes
//! knows where they came from and fills them in ([`Diagnostic::at`]).

use serde::{Deserialize, Serialize};

/// What kind of problem a diagnostic reports. The serde form (`parse-error`, ...) is stable:
/// ignore lists and dashboards may key on it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A file, or a record inside it, could not be parsed; what could be read was kept.
    ParseError,
    /// A format or format version that moat does not read.
    Unsupported,
    /// Over a size or count limit: not analysed (or cut short).
    TooLarge,
    /// An I/O error while reading a file of the target.
    Unreadable,
    /// A hardlink to a file whose bytes were not kept; the link was not analysed.
    HardlinkUnread,
    /// A symlink loop met while resolving a path moat needs.
    SymlinkLoop,
    /// An entry name moat could not use (not UTF-8, say); the entry was skipped.
    BadPath,
    /// An SBOM component that could not be turned into a package.
    SbomComponent,
    /// An advisory range that could not be evaluated (a GIT range, an ecosystem without an
    /// ordering): a match may have been missed.
    RangeSkipped,
    /// Looking up advisories for a package failed.
    LookupFailed,
    /// The advisory database is older than the allowed age.
    StaleDatabase,
    /// An ignore-file entry that expired or matched nothing.
    IgnoreEntry,
    /// The advisories hold nothing for the target's OS release: its OS packages were not
    /// checked.
    NoAdvisories,
    /// The target's OS release is past its end of life: no more security fixes are published.
    EndOfLife,
    /// Downloading advisories failed (every mirror): the scan used the database as it was.
    DatabaseUpdate,
    /// An analyzer took longer than the per-file budget (`--analyzer-timeout`) on one file.
    SlowFile,
    /// Anything else worth a warning.
    #[default]
    Other,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ParseError => "parse-error",
            Code::Unsupported => "unsupported",
            Code::TooLarge => "too-large",
            Code::Unreadable => "unreadable",
            Code::HardlinkUnread => "hardlink-unread",
            Code::SymlinkLoop => "symlink-loop",
            Code::BadPath => "bad-path",
            Code::SbomComponent => "sbom-component",
            Code::RangeSkipped => "range-skipped",
            Code::LookupFailed => "lookup-failed",
            Code::StaleDatabase => "stale-database",
            Code::IgnoreEntry => "ignore-entry",
            Code::NoAdvisories => "no-advisories",
            Code::EndOfLife => "end-of-life",
            Code::DatabaseUpdate => "database-update",
            Code::SlowFile => "slow-file",
            Code::Other => "other",
        }
    }

    /// How loud: notes (a skipped advisory range) are listed in the report but not printed
    /// one by one.
    pub fn level(self) -> Level {
        match self {
            Code::RangeSkipped => Level::Note,
            _ => Level::Warning,
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Note,
    Warning,
}

/// A problem inside the target (or its advisories, or the policy) that did not stop the run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Diagnostic {
    /// `other` when a document of schema 1.0 (plain warnings) is read back.
    #[serde(default)]
    pub code: Code,
    pub message: String,
    /// The file it is about: absolute inside an image (`/var/lib/dpkg/status`), else as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// 1-based line in the file, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Diagnostic {
    /// A diagnostic about no file in particular (a parser's own finding, before the engine
    /// says where the bytes came from). A message over [`crate::limits::MAX_MESSAGE`] bytes
    /// (one quoting a 100 MB line, say) is cut with a marker.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        let mut message = message.into();
        crate::limits::truncate(&mut message, crate::limits::MAX_MESSAGE);
        Diagnostic {
            code,
            message,
            path: None,
            layer: None,
            line: None,
        }
    }

    /// A [`Code::ParseError`].
    pub fn parse(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Code::ParseError, message)
    }

    /// Sets the file and layer (keeping a path the diagnostic already has); a path over
    /// [`crate::limits::MAX_PATH`] bytes is cut with a marker.
    pub fn at(mut self, path: impl Into<String>, layer: Option<usize>) -> Diagnostic {
        if self.path.is_none() {
            let mut path = path.into();
            crate::limits::truncate(&mut path, crate::limits::MAX_PATH);
            self.path = Some(path);
        }
        if self.layer.is_none() {
            self.layer = layer;
        }
        self
    }

    /// Sets the 1-based line.
    pub fn line(mut self, line: u32) -> Diagnostic {
        self.line = Some(line);
        self
    }
}

impl std::fmt::Display for Diagnostic {
    /// `layer 2: /var/lib/dpkg/status:14: message` (the parts that are known).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(l) = self.layer {
            write!(f, "layer {l}: ")?;
        }
        if let Some(p) = &self.path {
            f.write_str(p)?;
            if let Some(n) = self.line {
                write!(f, ":{n}")?;
            }
            f.write_str(": ")?;
        } else if let Some(n) = self.line {
            write!(f, "line {n}: ")?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_file_once() {
        let d = Diagnostic::parse("stanza 3: no Version field")
            .at("/var/lib/dpkg/status", Some(2))
            .line(14);
        assert_eq!(
            d.to_string(),
            "layer 2: /var/lib/dpkg/status:14: stanza 3: no Version field"
        );
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"code":"parse-error","message":"stanza 3: no Version field","path":"/var/lib/dpkg/status","layer":2,"line":14}"#
        );
    }

    #[test]
    fn oversized_message_and_path_are_cut() {
        let line = "x".repeat(100 << 20);
        let d = Diagnostic::parse(format!("bad line: {line}")).at(format!("/{line}"), None);
        assert_eq!(d.message.len(), crate::limits::MAX_MESSAGE);
        assert!(
            d.message.ends_with("...[truncated, 104857610 bytes]"),
            "{}",
            &d.message[4000..]
        );
        assert_eq!(
            d.path.as_ref().map(String::len),
            Some(crate::limits::MAX_PATH)
        );
    }
}
