//! Facts: what analyzers learn from single files.
//!
//! [`Fact`] is a closed enum: the joins after the merge match on it, so a new kind of
//! analyzer result is a new variant here (the "one line" an analyzer may add besides its
//! file and its registry entry). Content analyzers (secrets, misconfiguration) report
//! [`Fact::Findings`] whose location the engine fills in. Everything the analyzers made of
//! one file is a [`FileFacts`], each fact tagged with the analyzer that produced it and its
//! [`Scope`] (whether the fact counts only while the file is in the final view).
//!
//! Rejected alternative: `Box<dyn Any>` facts (the joins would downcast blindly, and
//! nothing would say which facts exist).

use moat_model::{Diagnostic, Finding, OsInfo};
use moat_pkgdb::{Parsed, apk, dpkg, rpm};

/// Which files an analyzer's facts are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    /// Facts follow whiteouts: only the files of the final view count (package databases).
    FinalView,
    /// Facts are kept for every layer, files a later layer deletes or replaces included
    /// (secrets: a deleted secret is still in the image's history).
    EveryLayer,
}

/// What an analyzer learned from one file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Fact {
    /// `etc/os-release` or `usr/lib/os-release`.
    OsRelease(OsInfo),
    /// A distro marker file (`etc/alpine-release`, `etc/redhat-release`, ...).
    OsMarker(OsInfo),
    /// `var/lib/dpkg/status` (or a distroless `status.d/<name>` file).
    Dpkg(Parsed<dpkg::DpkgPackage>),
    /// `var/lib/dpkg/info/<pkg>[:arch].list`, or distroless `status.d/<pkg>.md5sums`.
    DpkgFiles {
        package: String,
        arch: Option<String>,
        files: Vec<String>,
    },
    /// `usr/share/doc/<pkg>/copyright`.
    Copyright {
        package: String,
        licenses: Vec<String>,
    },
    /// `lib/apk/db/installed`.
    Apk(apk::Installed),
    /// An rpm database (`rpmdb.sqlite`, `Packages`, `Packages.db`).
    Rpm(Parsed<rpm::RpmPackage>),
    /// A language lockfile, installed metadata, archive or binary.
    Lang {
        parsed: moat_lang::LangParsed,
        /// From a file that states intent (a lockfile or manifest, which may say a package
        /// is for development), not from what is installed.
        declared: bool,
    },
    /// A project manifest (`Cargo.toml`, a project's `package.json`, `composer.json`): no
    /// packages of its own, what the join needs to read the lockfiles beside it.
    Manifest(Box<moat_lang::project::ManifestParsed>),
    /// Findings of a content analyzer; the engine fills in their file and layer.
    Findings(Vec<Finding>),
    /// A Kubernetes manifest's text: checked after the merge with the other manifests of
    /// the final view, since a NetworkPolicy in one file covers the workloads of another
    /// (`analyzers::misconfig::kubernetes_findings`).
    KubernetesManifest(Box<[u8]>),
    /// The file was wanted but nothing could be read from it.
    Diagnostic(Diagnostic),
}

/// One analyzer's fact about a file.
#[derive(Debug, Clone)]
pub struct Tagged {
    /// The analyzer's id.
    pub analyzer: &'static str,
    pub scope: Scope,
    pub fact: Fact,
}

/// Everything the analyzers learned from one file, in registry order. Most files have one
/// fact, held inline (no second allocation besides the `Arc` the walker puts it in).
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    first: Option<Tagged>,
    more: Vec<Tagged>,
}

impl FileFacts {
    pub fn push(&mut self, tagged: Tagged) {
        if self.first.is_none() {
            self.first = Some(tagged);
        } else {
            self.more.push(tagged);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    pub fn tagged(&self) -> impl Iterator<Item = &Tagged> {
        self.first.iter().chain(&self.more)
    }

    pub fn facts(&self) -> impl Iterator<Item = &Fact> {
        self.tagged().map(|t| &t.fact)
    }

    /// The facts, to be emptied once used up (see `Merged::release_databases`).
    pub fn facts_mut(&mut self) -> impl Iterator<Item = &mut Fact> {
        self.first
            .iter_mut()
            .chain(&mut self.more)
            .map(|t| &mut t.fact)
    }

    /// The first fact `pick` accepts. When two analyzers give a file the same kind of
    /// fact, the joins take the first in registry order: an analyzer added later cannot
    /// change what an earlier one established.
    pub fn find<'a, T>(&'a self, pick: impl Fn(&'a Fact) -> Option<T>) -> Option<T> {
        self.facts().find_map(pick)
    }

    /// Whether any analyzer reported findings here.
    pub fn has_findings(&self) -> bool {
        self.facts()
            .any(|f| matches!(f, Fact::Findings(v) if !v.is_empty()))
    }
}

impl From<Fact> for FileFacts {
    /// Facts of an unnamed analyzer about the final view (for tests and tools).
    fn from(fact: Fact) -> FileFacts {
        let mut facts = FileFacts::default();
        facts.push(Tagged {
            analyzer: "",
            scope: Scope::FinalView,
            fact,
        });
        facts
    }
}
