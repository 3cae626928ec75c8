//! # moat-lang: language ecosystems, read from bytes
//!
//! Parsers for lockfiles, installed package metadata, Java archives and compiled binaries.
//! Like `moat-pkgdb`, every parser is a pure function over the bytes of one file (the layer
//! walker hands them over; nothing here touches the file system) and returns
//! [`LangParsed`]: the packages it found and typed [`Diagnostic`]s for what it could not
//! read. Joins that need two files (a dist-info's METADATA and its RECORD; a Rust binary and
//! its Cargo.lock; a language package and the OS package that owns its files) happen in
//! `moat-scan` after the layers are merged.
//!
//! [`wants`] decides from a path alone which parser a file needs (cheap, no allocation; it
//! runs on every entry of every layer); [`parse`] dispatches. Compiled binaries cannot be
//! recognised by name: the walker offers executable regular files whose first bytes pass
//! [`is_binary_candidate`] to [`binary::parse`].
//!
//! | module | files |
//! |---|---|
//! | [`cargo`] | `Cargo.lock` v1-v4 |
//! | [`golang`] | `go.mod`, `go.sum` |
//! | [`binary`] | Go build info, cargo-auditable `.dep-v0` in ELF binaries |
//! | [`npm`] | `package-lock.json` v1-v3, `yarn.lock` v1 and berry, `pnpm-lock.yaml` v5-v9, `bun.lock`, `node_modules/**/package.json` |
//! | [`python`] | `*.dist-info/METADATA` + `RECORD`, `*.egg-info/PKG-INFO`, `requirements*.txt`, `poetry.lock`, `Pipfile.lock`, `uv.lock`, `pylock.toml` |
//! | [`java`] | JAR/WAR/EAR (nested), `pom.properties`, `MANIFEST.MF`, `gradle.lockfile`, `pom.xml`, `build.sbt.lock` |
//! | [`ruby`] | `Gemfile.lock`, `specifications/*.gemspec` |
//! | [`php`] | `composer.lock`, `<vendor-dir>/composer/installed.json` |
//! | [`dotnet`] | `*.deps.json`, `packages.lock.json`, `packages.config`, `Directory.Packages.props` |
//! | [`swift`] | CocoaPods `Podfile.lock`, SwiftPM `Package.resolved` v1-v3 |
//! | [`conda`] | `conda-meta/*.json`, `environment.yml` |
//! | [`other`] | `conan.lock` v1/v2, `mix.lock`, `pubspec.lock`, Julia `Manifest.toml` |
//!
//! Project manifests (`Cargo.toml`, a project's `package.json`, `composer.json`) list no
//! resolved versions and are not package sources: [`project`] reads what they declare
//! (dependency kinds, the project's name, Composer's vendor directory) for the scan's join
//! with the lockfiles beside them ([`project::wants_manifest`], [`project::parse_manifest`]).
//!
//! A module that reads several formats is a directory with one file per format (`npm/yarn_v1.rs`,
//! `python/uv.rs`, ...); what the formats of one ecosystem share (name rules, dependency
//! merging) sits in its `mod.rs`, and what every parser shares (decoding text, JSON, TOML and
//! YAML with their limits, the diagnostics for input that does not parse) in `read`.
//!
//! ## Budgets
//!
//! Every format has a size [`budget`] far above its largest real file (real lockfiles are a
//! few MiB: `package-lock.json` 64 MiB, `yarn.lock` 32 MiB, `gradle.lockfile` 16 MiB, ...).
//! [`parse`] skips a file over it with one `too-large` diagnostic naming the format and the
//! budget; the scan's entry limit stays the outer cap. Within the budget, memory follows
//! what is kept, not the file: the largest formats are read streaming (`package-lock.json`
//! into small typed records, never a `serde_json::Value` tree; `gradle.lockfile` line by
//! line), and at most 100,000 packages are kept per file (one `too-large` diagnostic says
//! the rest was not read).
//!
//! ## Diagnostics
//!
//! A parser never fails: what it cannot read becomes a [`Diagnostic`] in
//! [`LangParsed::warnings`] and the rest of the file still counts. The [`Code`] says what
//! kind of problem it is (`parse-error` for unreadable records or files, `unsupported` for
//! what moat does not read, `too-large` for a limit hit, `bad-path` for a file whose name
//! cannot be used); `line` is set where the format has lines and the parser knows it. The
//! message says only what is wrong: never the file's path, which the engine adds with
//! [`Diagnostic::at`] (it knows the layer too). Inside an archive the entry path stays in
//! the message (`WEB-INF/lib/x.jar: not a readable zip archive`). The `path` every parser
//! takes is used only where a package records where it lives (`files`, `dist_dir`, an
//! archive's `nested_in`); [`wants`] chooses the parser from it.
//!
//! Rejected alternatives: `Result<LangParsed, Error>` per parser (a lockfile with one bad
//! entry still has good ones, and the caller would have to merge both halves again), and
//! messages that carry the path (the engine printed it twice).

pub use moat_model::{Metadata, Str};

pub use moat_model::{Code, Diagnostic};

pub mod binary;
pub mod cargo;
pub mod conda;
pub mod dotnet;
pub mod golang;
pub mod java;
pub mod npm;
pub mod other;
pub mod php;
pub mod project;
pub mod python;
mod read;
pub mod ruby;
pub mod swift;
mod xml;

pub use read::{absolute_path, yaml_options};

/// The language ecosystems (one vocabulary, in `moat-model`).
pub use moat_model::Ecosystem;

/// A package found by a language parser.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LangPackage {
    pub ecosystem: Ecosystem,
    /// The name as the ecosystem writes it: npm `@scope/name`, Maven `group:artifact`,
    /// Go module path, PyPI project name as written (not normalised), ...
    pub name: String,
    pub version: String,
    /// The project itself (a lockfile's root, a Go binary's main module, a Rust binary's own
    /// crate, a WAR): an application component, not a dependency to match.
    pub application: bool,
    /// A development-only dependency, where the format says so.
    pub dev: bool,
    /// Names (as in [`LangPackage::name`]) this package depends on, where the format says.
    pub depends: Vec<String>,
    pub licenses: Vec<String>,
    /// Files the package owns, absolute paths (Python `RECORD` resolved against the
    /// site-packages directory), where the format lists them.
    pub files: Vec<String>,
    /// Extras, e.g. `go_version`, `replaced_by`, `nested_in`, `sha1`, `optional`: the
    /// inventory's own [`Metadata`] (a sorted vector of shared strings; a `BTreeMap` node
    /// cost every package of a 100,000-entry lockfile about 550 bytes).
    pub metadata: Metadata,
}

impl LangPackage {
    /// A dependency with just a name and version.
    pub fn new(
        ecosystem: Ecosystem,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> LangPackage {
        LangPackage {
            ecosystem,
            name: name.into(),
            version: version.into(),
            application: false,
            dev: false,
            depends: Vec::new(),
            licenses: Vec::new(),
            files: Vec::new(),
            metadata: Metadata::new(),
        }
    }
}

/// A parser's result.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LangParsed {
    pub packages: Vec<LangPackage>,
    /// What could not be read (the file as a whole still counts): typed diagnostics with a
    /// line where the format has lines, but no path or layer (see the crate docs).
    pub warnings: Vec<Diagnostic>,
}

impl LangParsed {
    /// The diagnostics (no path or layer: the caller knows where the bytes came from).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }

    /// One package and nothing to report.
    pub fn one(package: LangPackage) -> LangParsed {
        LangParsed {
            packages: vec![package],
            warnings: Vec::new(),
        }
    }

    /// Records a diagnostic.
    pub fn warn(&mut self, diagnostic: Diagnostic) {
        self.warnings.push(diagnostic);
    }
}

/// A file that could not be read at all: no packages, one diagnostic.
impl From<Diagnostic> for LangParsed {
    fn from(diagnostic: Diagnostic) -> LangParsed {
        LangParsed {
            packages: Vec::new(),
            warnings: vec![diagnostic],
        }
    }
}

/// Which parser a file needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LangFile {
    CargoLock,
    GoMod,
    GoSum,
    NpmLock,
    YarnLock,
    PnpmLock,
    /// `package.json` inside `node_modules/`: an installed package.
    NodePackageJson,
    /// `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, or a single-file `*.egg-info`.
    PyMetadata,
    /// `*.dist-info/RECORD`.
    PyRecord,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    /// `.jar`, `.war`, `.ear` (and `.par`, `.sar`, `.jpi`, `.hpi`).
    JavaArchive,
    GradleLock,
    PomXml,
    GemfileLock,
    Gemspec,
    ComposerLock,
    ComposerInstalled,
    DepsJson,
    NugetLock,
    ConanLock,
    MixLock,
    PubspecLock,
    BunLock,
    PodfileLock,
    /// SwiftPM `Package.resolved`.
    PackageResolved,
    /// `pylock.toml`, `pylock.<name>.toml` (PEP 751).
    PyLock,
    /// sbt's `build.sbt.lock`.
    SbtLock,
    /// NuGet central package management: `Directory.Packages.props`.
    NugetCentral,
    /// NuGet `packages.config`.
    PackagesConfig,
    /// `conda-meta/*.json`.
    CondaMeta,
    /// `environment.yml` / `environment.yaml`.
    CondaEnvironment,
    /// Julia `Manifest.toml`, `JuliaManifest.toml`, `Manifest-v1.11.toml`.
    JuliaManifest,
}

/// Decides from a relative path (no leading `/`) which parser wants the file.
pub fn wants(path: &str) -> Option<LangFile> {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (d, n),
        None => ("", path),
    };
    let parent = dir.rsplit('/').next().unwrap_or(dir);
    Some(match name {
        "Cargo.lock" => LangFile::CargoLock,
        "go.mod" => LangFile::GoMod,
        "go.sum" => LangFile::GoSum,
        "package-lock.json" | "npm-shrinkwrap.json" => LangFile::NpmLock,
        "yarn.lock" => LangFile::YarnLock,
        "pnpm-lock.yaml" => LangFile::PnpmLock,
        "package.json" if path.contains("node_modules/") => LangFile::NodePackageJson,
        "METADATA" if parent.ends_with(".dist-info") => LangFile::PyMetadata,
        "PKG-INFO" if parent.ends_with(".egg-info") || parent == "EGG-INFO" => LangFile::PyMetadata,
        "RECORD" if parent.ends_with(".dist-info") => LangFile::PyRecord,
        "poetry.lock" => LangFile::PoetryLock,
        "Pipfile.lock" => LangFile::PipfileLock,
        "uv.lock" => LangFile::UvLock,
        "gradle.lockfile" => LangFile::GradleLock,
        "pom.xml" => LangFile::PomXml,
        "Gemfile.lock" | "gems.locked" => LangFile::GemfileLock,
        "composer.lock" => LangFile::ComposerLock,
        // Under any vendor directory (`config.vendor-dir`); the join keeps only those
        // under `vendor/` or the vendor directory a `composer.json` names.
        "installed.json" if parent == "composer" && dir.contains('/') => {
            LangFile::ComposerInstalled
        }
        "packages.lock.json" => LangFile::NugetLock,
        "conan.lock" => LangFile::ConanLock,
        "mix.lock" => LangFile::MixLock,
        "pubspec.lock" => LangFile::PubspecLock,
        "bun.lock" => LangFile::BunLock,
        "Podfile.lock" => LangFile::PodfileLock,
        "Package.resolved" => LangFile::PackageResolved,
        "pylock.toml" => LangFile::PyLock,
        "build.sbt.lock" => LangFile::SbtLock,
        "Directory.Packages.props" => LangFile::NugetCentral,
        "packages.config" => LangFile::PackagesConfig,
        "environment.yml" | "environment.yaml" => LangFile::CondaEnvironment,
        "Manifest.toml" | "JuliaManifest.toml" => LangFile::JuliaManifest,
        _ => {
            if name.ends_with(".egg-info") && !name.starts_with('.') {
                LangFile::PyMetadata
            } else if name.starts_with("requirements") && name.ends_with(".txt") {
                LangFile::Requirements
            } else if name.ends_with(".deps.json") {
                LangFile::DepsJson
            } else if name.ends_with(".gemspec") && parent == "specifications" {
                LangFile::Gemspec
            } else if parent == "conda-meta" && name.ends_with(".json") {
                LangFile::CondaMeta
            } else if name.starts_with("pylock.") && name.ends_with(".toml") {
                LangFile::PyLock
            } else if (name.starts_with("Manifest-v") || name.starts_with("JuliaManifest-v"))
                && name.ends_with(".toml")
            {
                LangFile::JuliaManifest
            } else if java::ARCHIVE_EXTENSIONS
                .iter()
                .any(|e| read::ends_with_ci(name, e))
            {
                LangFile::JavaArchive
            } else {
                return None;
            }
        }
    })
}

const MIB: usize = 1 << 20;

/// The most bytes [`parse`] reads of one file of `kind`: far above the largest real file of
/// the format (real lockfiles are a few MiB), so that only a crafted or broken file is over
/// it. A file over its budget is skipped with one `too-large` diagnostic naming the budget;
/// the rest of the scan goes on. Java archives and binaries have none of their own (their
/// readers bound each entry and section; the scan's entry limit bounds the file).
pub const fn budget(kind: LangFile) -> usize {
    match kind {
        LangFile::JavaArchive => usize::MAX,
        LangFile::NpmLock
        | LangFile::CargoLock
        | LangFile::PnpmLock
        | LangFile::GoMod
        | LangFile::GoSum
        | LangFile::CondaMeta => 64 * MIB,
        LangFile::YarnLock
        | LangFile::PoetryLock
        | LangFile::UvLock
        | LangFile::PyLock
        | LangFile::ComposerLock
        | LangFile::ComposerInstalled
        | LangFile::DepsJson
        | LangFile::BunLock
        | LangFile::SbtLock => 32 * MIB,
        LangFile::GradleLock
        | LangFile::PyRecord
        | LangFile::PipfileLock
        | LangFile::NugetLock
        | LangFile::ConanLock
        | LangFile::JuliaManifest => 16 * MIB,
        LangFile::NodePackageJson
        | LangFile::PyMetadata
        | LangFile::Requirements
        | LangFile::PomXml
        | LangFile::GemfileLock
        | LangFile::MixLock
        | LangFile::PubspecLock
        | LangFile::PodfileLock
        | LangFile::PackageResolved
        | LangFile::NugetCentral
        | LangFile::PackagesConfig
        | LangFile::CondaEnvironment => 8 * MIB,
        LangFile::Gemspec => 4 * MIB,
    }
}

impl LangFile {
    /// The format's name in messages: its usual file name (`package-lock.json`), or what
    /// it is where names vary (`Java archive`, `Python METADATA`).
    pub const fn label(self) -> &'static str {
        match self {
            LangFile::CargoLock => "Cargo.lock",
            LangFile::GoMod => "go.mod",
            LangFile::GoSum => "go.sum",
            LangFile::NpmLock => "package-lock.json",
            LangFile::YarnLock => "yarn.lock",
            LangFile::PnpmLock => "pnpm-lock.yaml",
            LangFile::NodePackageJson => "installed package.json",
            LangFile::PyMetadata => "Python METADATA",
            LangFile::PyRecord => "Python RECORD",
            LangFile::Requirements => "requirements.txt",
            LangFile::PoetryLock => "poetry.lock",
            LangFile::PipfileLock => "Pipfile.lock",
            LangFile::UvLock => "uv.lock",
            LangFile::JavaArchive => "Java archive",
            LangFile::GradleLock => "gradle.lockfile",
            LangFile::PomXml => "pom.xml",
            LangFile::GemfileLock => "Gemfile.lock",
            LangFile::Gemspec => "gemspec",
            LangFile::ComposerLock => "composer.lock",
            LangFile::ComposerInstalled => "composer installed.json",
            LangFile::DepsJson => ".deps.json",
            LangFile::NugetLock => "packages.lock.json",
            LangFile::ConanLock => "conan.lock",
            LangFile::MixLock => "mix.lock",
            LangFile::PubspecLock => "pubspec.lock",
            LangFile::BunLock => "bun.lock",
            LangFile::PodfileLock => "Podfile.lock",
            LangFile::PackageResolved => "Package.resolved",
            LangFile::PyLock => "pylock.toml",
            LangFile::SbtLock => "build.sbt.lock",
            LangFile::NugetCentral => "Directory.Packages.props",
            LangFile::PackagesConfig => "packages.config",
            LangFile::CondaMeta => "conda-meta record",
            LangFile::CondaEnvironment => "environment.yml",
            LangFile::JuliaManifest => "Julia Manifest.toml",
        }
    }
}

/// The `too-large` diagnostic for a file of `len` bytes over a `budget` (`what` names the
/// format): the file is not read.
pub fn over_budget(what: &str, len: u64, budget: u64) -> Diagnostic {
    let budget = if budget.is_multiple_of(MIB as u64) {
        format!("{} MiB", budget / MIB as u64)
    } else {
        format!("{budget} bytes")
    };
    Diagnostic::new(
        Code::TooLarge,
        format!("{len} bytes is over the {what} budget of {budget}; skipped"),
    )
}

/// Runs the parser for `kind` over the bytes of `path` (relative, no leading `/`). A file
/// over its format's [`budget`] is not parsed: one `too-large` diagnostic, no packages.
pub fn parse(kind: LangFile, path: &str, bytes: &[u8]) -> LangParsed {
    let max = budget(kind);
    if bytes.len() > max {
        return over_budget(kind.label(), bytes.len() as u64, max as u64).into();
    }
    match kind {
        LangFile::CargoLock => cargo::parse_lock(path, bytes),
        LangFile::GoMod => golang::parse_mod(path, bytes),
        LangFile::GoSum => golang::parse_sum(path, bytes),
        LangFile::NpmLock => npm::parse_package_lock(path, bytes),
        LangFile::YarnLock => npm::parse_yarn_lock(path, bytes),
        LangFile::PnpmLock => npm::parse_pnpm_lock(path, bytes),
        LangFile::NodePackageJson => npm::parse_installed_package_json(path, bytes),
        LangFile::PyMetadata => python::parse_metadata(path, bytes),
        LangFile::PyRecord => python::parse_record(path, bytes),
        LangFile::Requirements => python::parse_requirements(path, bytes),
        LangFile::PoetryLock => python::parse_poetry_lock(path, bytes),
        LangFile::PipfileLock => python::parse_pipfile_lock(path, bytes),
        LangFile::UvLock => python::parse_uv_lock(path, bytes),
        LangFile::JavaArchive => java::parse_archive(path, bytes),
        LangFile::GradleLock => java::parse_gradle_lock(path, bytes),
        LangFile::PomXml => java::parse_pom(path, bytes),
        LangFile::GemfileLock => ruby::parse_gemfile_lock(path, bytes),
        LangFile::Gemspec => ruby::parse_gemspec(path, bytes),
        LangFile::ComposerLock => php::parse_composer_lock(path, bytes),
        LangFile::ComposerInstalled => php::parse_installed_json(path, bytes),
        LangFile::DepsJson => dotnet::parse_deps_json(path, bytes),
        LangFile::NugetLock => dotnet::parse_packages_lock(path, bytes),
        LangFile::ConanLock => other::parse_conan_lock(path, bytes),
        LangFile::MixLock => other::parse_mix_lock(path, bytes),
        LangFile::PubspecLock => other::parse_pubspec_lock(path, bytes),
        LangFile::BunLock => npm::parse_bun_lock(path, bytes),
        LangFile::PodfileLock => swift::parse_podfile_lock(path, bytes),
        LangFile::PackageResolved => swift::parse_package_resolved(path, bytes),
        LangFile::PyLock => python::parse_pylock(path, bytes),
        LangFile::SbtLock => java::parse_sbt_lock(path, bytes),
        LangFile::NugetCentral => dotnet::parse_central_packages(path, bytes),
        LangFile::PackagesConfig => dotnet::parse_packages_config(path, bytes),
        LangFile::CondaMeta => conda::parse_conda_meta(path, bytes),
        LangFile::CondaEnvironment => conda::parse_environment(path, bytes),
        LangFile::JuliaManifest => other::parse_julia_manifest(path, bytes),
    }
}

/// True when the first bytes of a file are those of a binary format [`binary::parse`] reads.
pub fn is_binary_candidate(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_paths() {
        assert_eq!(wants("app/rust/Cargo.lock"), Some(LangFile::CargoLock));
        assert_eq!(
            wants("app/node/node_modules/ms/package.json"),
            Some(LangFile::NodePackageJson)
        );
        assert_eq!(wants("app/node/package.json"), None);
        assert_eq!(
            wants("usr/local/lib/python3.11/dist-packages/markupsafe-2.0.1.dist-info/METADATA"),
            Some(LangFile::PyMetadata)
        );
        assert_eq!(
            wants("x/six-1.16.0.egg-info/PKG-INFO"),
            Some(LangFile::PyMetadata)
        );
        assert_eq!(wants("x/foo.dist-info/RECORD"), Some(LangFile::PyRecord));
        assert_eq!(
            wants("app/python/requirements-dev.txt"),
            Some(LangFile::Requirements)
        );
        assert_eq!(wants("app/java/lib/LOG4J.JAR"), Some(LangFile::JavaArchive));
        assert_eq!(
            wants("app/vendor/composer/installed.json"),
            Some(LangFile::ComposerInstalled)
        );
        assert_eq!(wants("other/installed.json"), None);
        assert_eq!(
            wants("usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec"),
            Some(LangFile::Gemspec)
        );
        assert_eq!(wants("app/bin/App.deps.json"), Some(LangFile::DepsJson));
        assert_eq!(wants("usr/bin/bash"), None);
    }

    #[test]
    fn files_over_their_budget_are_skipped_with_one_diagnostic() {
        let big = vec![b' '; budget(LangFile::GradleLock) + 1];
        let r = parse(LangFile::GradleLock, "x/gradle.lockfile", &big);
        assert!(r.packages.is_empty());
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].code, Code::TooLarge);
        assert_eq!(
            r.warnings[0].message,
            "16777217 bytes is over the gradle.lockfile budget of 16 MiB; skipped"
        );
        let ok = parse(
            LangFile::GradleLock,
            "x/gradle.lockfile",
            &big[..budget(LangFile::GradleLock)],
        );
        assert!(ok.warnings.is_empty() && ok.packages.is_empty());
        assert_eq!(
            over_budget("SBOM", 10, 1000).message,
            "10 bytes is over the SBOM budget of 1000 bytes; skipped"
        );
        assert_eq!(budget(LangFile::NpmLock), 64 << 20);
        assert_eq!(budget(LangFile::JavaArchive), usize::MAX);
    }

    #[test]
    fn wanted_paths_of_newer_formats() {
        for (path, kind) in [
            ("app/bun.lock", LangFile::BunLock),
            ("ios/Podfile.lock", LangFile::PodfileLock),
            (
                "App.xcworkspace/xcshareddata/swiftpm/Package.resolved",
                LangFile::PackageResolved,
            ),
            ("srv/pylock.toml", LangFile::PyLock),
            ("srv/pylock.dev.toml", LangFile::PyLock),
            ("svc/build.sbt.lock", LangFile::SbtLock),
            ("src/Directory.Packages.props", LangFile::NugetCentral),
            ("src/Legacy/packages.config", LangFile::PackagesConfig),
            (
                "opt/conda/conda-meta/numpy-1.26.4-py312h8753938_0.json",
                LangFile::CondaMeta,
            ),
            ("work/environment.yml", LangFile::CondaEnvironment),
            ("jl/Manifest.toml", LangFile::JuliaManifest),
            ("jl/Manifest-v1.11.toml", LangFile::JuliaManifest),
            (
                "srv/lib/deps/composer/installed.json",
                LangFile::ComposerInstalled,
            ),
        ] {
            assert_eq!(wants(path), Some(kind), "{path}");
        }
        assert_eq!(wants("opt/conda/conda-meta/history"), None);
        assert_eq!(wants("opt/conda/pkgs/x/info/index.json"), None);
        assert_eq!(wants("composer/installed.json"), None);
        assert_eq!(wants("app/bun.lockb"), None);
    }
}
