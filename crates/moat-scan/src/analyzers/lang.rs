//! The implementation every language analyzer shares.
//!
//! A language analyzer takes the files of some [`LangFile`] kinds ([`moat_lang::wants`]
//! classifies a path; [`Entry::lang_file`] does it once per entry for all of them) and hands
//! the bytes to [`moat_lang::parse`]. What differs between analyzers is data: the id, the
//! kinds, and whether the files state intent (lockfiles and manifests, whose dev markers
//! count) or record what is installed. So each family's file declares constants of
//! [`LangAnalyzer`] instead of repeating an `impl`.
//!
//! Project manifests ([`moat_lang::project`]: `Cargo.toml`, a project's `package.json`,
//! `composer.json`) are read the same way by a [`ManifestAnalyzer`] of one
//! [`ManifestFile`] kind; their fact is a [`Fact::Manifest`] for the join, not packages.

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest};
use crate::fact::Fact;
use moat_lang::LangFile;
use moat_lang::project::{self, ManifestFile};

/// An analyzer of some language file kinds.
pub struct LangAnalyzer {
    info: AnalyzerInfo,
    /// The kinds taken, one bit per [`LangFile`] (asked on every entry: a bit test is cheaper
    /// than a search).
    kinds: u64,
    /// The files state intent (a lockfile, a manifest) rather than what is installed.
    declared: bool,
}

/// The bits of `files` (a compile error, in the constants below, should `LangFile` outgrow
/// 64 kinds).
const fn kind_bits(files: &[LangFile]) -> u64 {
    let mut bits = 0;
    let mut i = 0;
    while i < files.len() {
        bits |= 1 << files[i] as u32;
        i += 1;
    }
    bits
}

impl LangAnalyzer {
    /// An analyzer of lockfiles or manifests: what a project declares (dev markers count).
    pub const fn declared(id: &'static str, version: u32, files: &'static [LangFile]) -> Self {
        LangAnalyzer {
            info: AnalyzerInfo::packages(id, version),
            kinds: kind_bits(files),
            declared: true,
        }
    }

    /// An analyzer of what is installed (metadata of installed packages, archives, binaries).
    pub const fn installed(id: &'static str, version: u32, files: &'static [LangFile]) -> Self {
        LangAnalyzer {
            info: AnalyzerInfo::packages(id, version),
            kinds: kind_bits(files),
            declared: false,
        }
    }
}

impl Analyzer for LangAnalyzer {
    fn info(&self) -> &AnalyzerInfo {
        &self.info
    }
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(
            e.lang_file()
                .is_some_and(|k| self.kinds & 1u64.checked_shl(k as u32).unwrap_or(0) != 0),
        )
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        let kind = e.lang_file()?;
        Some(Fact::Lang {
            parsed: moat_lang::parse(kind, e.path, data),
            declared: self.declared,
        })
    }
}

/// An analyzer of one kind of project manifest.
pub struct ManifestAnalyzer {
    info: AnalyzerInfo,
    kind: ManifestFile,
}

impl ManifestAnalyzer {
    pub const fn new(id: &'static str, version: u32, kind: ManifestFile) -> Self {
        ManifestAnalyzer {
            info: AnalyzerInfo::packages(id, version),
            kind,
        }
    }
}

impl Analyzer for ManifestAnalyzer {
    fn info(&self) -> &AnalyzerInfo {
        &self.info
    }
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(project::wants_manifest(e.path) == Some(self.kind))
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(Fact::Manifest(Box::new(project::parse_manifest(
            self.kind, e.path, data,
        ))))
    }
}
