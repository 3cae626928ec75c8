//! The [`Analyzer`] trait: what every analyzer tells the walker, and what it is given.
//!
//! An analyzer's [`AnalyzerInfo`] gives a stable id and a version (both go into the result,
//! so that a per-layer cache can be keyed on a layer's diff-id and the analyzers that read
//! it), the one [`Scanner`] that enables it (it runs only when that scanner is on), and a
//! [`Scope`]: facts about the final filesystem (packages), or facts kept for every layer,
//! deleted files included (secrets). For every regular file of every layer the walker asks each active analyzer
//! whether it wants the file from its [`Entry`] (path, mode, size): [`Interest::Yes`], no,
//! or [`Interest::Sniff`] — it decides from the first bytes ([`Analyzer::wants_head`]). The
//! file is then read once and the same bytes go to every analyzer that wants it; each turns
//! them into one [`Fact`].
//!
//! Rules an analyzer keeps: `wants` runs on every entry, so it is cheap and does not
//! allocate; `analyze` is pure over the bytes and never asks for another file (what needs
//! two files is joined after the merge, see `join`); problems become diagnostics inside the
//! fact, never panics.
//!
//! Rejected alternatives: one closed `enum` of analyzers with a `match` per operation (every
//! new scanner would edit the walker); analyzers that read their own files (a second pass
//! over a stream that cannot seek); Trivy's `init()` registration (the list of analyzers
//! would depend on link order; here it is one `const` list, `analyzers::REGISTRY`).

use crate::fact::{Fact, Scope};
use moat_lang::LangFile;
use std::cell::Cell;

/// Which group of scanners an analyzer belongs to (`--scanners`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scanner {
    /// The inventory: OS and language packages (needed by vulnerability matching and SBOMs).
    Packages,
    Secret,
    Misconfig,
}

impl Scanner {
    fn bit(self) -> u8 {
        match self {
            Scanner::Packages => 1,
            Scanner::Secret => 2,
            Scanner::Misconfig => 4,
        }
    }
}

/// A set of [`Scanner`]s. The default is the inventory alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scanners(u8);

impl Scanners {
    /// No scanner at all.
    pub const NONE: Scanners = Scanners(0);

    /// The set holding `scanner` alone.
    pub fn only(scanner: Scanner) -> Scanners {
        Scanners(scanner.bit())
    }

    /// The set with `scanner` added.
    pub fn with(self, scanner: Scanner) -> Scanners {
        Scanners(self.0 | scanner.bit())
    }

    pub fn contains(self, scanner: Scanner) -> bool {
        self.0 & scanner.bit() != 0
    }
}

impl Default for Scanners {
    fn default() -> Self {
        Scanners::only(Scanner::Packages)
    }
}

impl FromIterator<Scanner> for Scanners {
    fn from_iter<I: IntoIterator<Item = Scanner>>(iter: I) -> Self {
        iter.into_iter().fold(Scanners::NONE, Scanners::with)
    }
}

/// Does an analyzer want a file?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    No,
    Yes,
    /// It decides from the first `n` bytes ([`Analyzer::wants_head`]); the walker reads at
    /// most [`MAX_SNIFF`] bytes for this.
    Sniff(usize),
}

impl From<bool> for Interest {
    /// `Yes` or `No`.
    fn from(wanted: bool) -> Interest {
        if wanted { Interest::Yes } else { Interest::No }
    }
}

/// The most bytes read to let analyzers decide from a file's head.
pub const MAX_SNIFF: usize = 8 << 10;

/// A regular file (or a hardlink to one) as the walker offers it to the analyzers.
#[derive(Debug)]
pub struct Entry<'a> {
    /// Relative to the root, no leading `/`, `/`-separated, no `.` or `..` parts.
    pub path: &'a str,
    /// Permission bits (`0o755`).
    pub mode: u32,
    /// Size in bytes, as the archive entry or the file system says.
    pub size: u64,
    /// The image layer (0 = base); `None` for a directory target.
    pub layer: Option<usize>,
    /// The language-file classification of `path`, computed at most once per entry however
    /// many language analyzers ask.
    lang: Cell<Option<Option<LangFile>>>,
}

impl<'a> Entry<'a> {
    pub fn new(path: &'a str, mode: u32, size: u64, layer: Option<usize>) -> Entry<'a> {
        Entry {
            path,
            mode,
            size,
            layer,
            lang: Cell::new(None),
        }
    }

    /// Any execute bit is set.
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }

    /// Which language parser the path calls for ([`moat_lang::wants`]), memoised.
    pub fn lang_file(&self) -> Option<LangFile> {
        if let Some(known) = self.lang.get() {
            return known;
        }
        let kind = moat_lang::wants(self.path);
        self.lang.set(Some(kind));
        kind
    }
}

/// What an analyzer is: its identity, the scanner that enables it, and its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyzerInfo {
    /// Stable id (`dpkg-status`, `npm-lock`, `elf-binary`): part of the result and of the
    /// layer cache's key; never reuse one for a different meaning.
    pub id: &'static str,
    /// Bump when the facts for the same bytes change (the layer cache would otherwise serve
    /// the old ones; see `analyzers::REGISTRY`).
    pub version: u32,
    pub scanner: Scanner,
    pub scope: Scope,
}

impl AnalyzerInfo {
    /// An analyzer of the inventory, about the final view.
    pub const fn packages(id: &'static str, version: u32) -> AnalyzerInfo {
        AnalyzerInfo {
            id,
            version,
            scanner: Scanner::Packages,
            scope: Scope::FinalView,
        }
    }
}

/// One analyzer. See the module documentation for the contract.
pub trait Analyzer: Send + Sync {
    /// Id, version, scanner and scope (constant for the analyzer's life).
    fn info(&self) -> &AnalyzerInfo;

    /// Whether it wants the file, from the entry alone. Runs on every entry: cheap, no
    /// allocation.
    fn wants(&self, entry: &Entry) -> Interest;

    /// After [`Interest::Sniff`]: whether it wants the file given its first bytes (fewer
    /// than asked for when the file is shorter).
    fn wants_head(&self, _entry: &Entry, _head: &[u8]) -> bool {
        true
    }

    /// Whether it may want a file below the directory `dir` (relative, no leading `/`) of a
    /// directory target; a directory no active analyzer wants anything below is not listed.
    fn wants_below(&self, _dir: &str) -> bool {
        true
    }

    /// What the bytes of the file say; `None` when nothing worth keeping.
    fn analyze(&self, entry: &Entry, data: &[u8]) -> Option<Fact>;

    /// Whether it reads a file of a directory target as a stream
    /// ([`Analyzer::analyze_reader`]) when it is the only analyzer that wants the file: the
    /// package databases, whose million-record bound would otherwise be held whole as text
    /// beside the records made of it.
    fn streams(&self) -> bool {
        false
    }

    /// [`Analyzer::analyze`] from a reader: the same fact from the same bytes; an error
    /// only when reading fails.
    fn analyze_reader(
        &self,
        entry: &Entry,
        r: &mut dyn std::io::BufRead,
    ) -> std::io::Result<Option<Fact>> {
        let mut data = Vec::new();
        r.read_to_end(&mut data)?;
        Ok(self.analyze(entry, &data))
    }

    /// Findings about an image's config (environment, labels, entrypoint, history), for
    /// analyzers that look at it (secrets; misconfiguration checks next). Called once per
    /// image scan after the layers, never for directories. Findings say where they are in
    /// their location's `field`.
    fn analyze_config(&self, _config: &moat_model::ImageConfig) -> Vec<moat_model::Finding> {
        Vec::new()
    }
}
