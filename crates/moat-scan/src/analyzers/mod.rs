//! The analyzers, one file each, and [`REGISTRY`]: the one ordered list a scan runs.
//!
//! Adding an analyzer is a new file here (a type implementing [`Analyzer`], with a doc
//! block saying what it reads and why) and one line in [`REGISTRY`]; a new kind of result
//! adds a [`crate::fact::Fact`] variant. The order of the list is the order of the facts of
//! a file and of `tool.analyzers` in the result; it is never the order of registration at
//! start-up, because there is none.
//!
//! Most analyzers need no configuration and are listed as [`Registration::Static`]. One
//! that needs per-scan settings (the secret scanner's compiled rules and size cap) is a
//! [`Registration::Configured`] constructor, called once per scan with the options; it
//! may decline (`None`) when its settings leave nothing to do.
//!
//! The language analyzers share one implementation ([`lang::LangAnalyzer`]: the file kinds
//! of [`moat_lang::wants`] they take, and whether those files state intent); each family's
//! file lists its analyzers as constants. So do the project manifests
//! ([`lang::ManifestAnalyzer`]: `cargo-toml`, `package-json`, `composer-json`).

use crate::analyzer::Analyzer;
use crate::options::ScanOptions;
use std::sync::Arc;

pub mod apk;
pub mod apple;
pub mod binary;
pub mod cargo;
pub mod conda;
pub mod dotnet;
pub mod dpkg;
pub mod go;
pub mod image_config;
pub mod java_archive;
pub mod java_build;
pub mod javascript;
pub mod lang;
pub mod misconfig;
pub mod os_marker;
pub mod os_release;
pub mod other_lang;
pub mod php;
pub mod python;
pub mod rpm;
pub mod ruby;
pub mod secret;

/// How an analyzer enters a scan.
#[derive(Clone, Copy)]
pub enum Registration {
    /// Needs no configuration.
    Static(&'static dyn Analyzer),
    /// Built once per scan from the options; `None` leaves it out.
    Configured(fn(&ScanOptions) -> Option<Box<dyn Analyzer>>),
}

/// Every analyzer moat runs, in order.
///
/// **Versions and the layer cache.** A layer's facts are cached under its diff-id and the
/// id and version of every analyzer that ran (`cache`): bump an analyzer's `version`
/// whenever it produces different facts from the same bytes (a parser fix, a new field, a
/// changed rule), or warm caches keep serving the old facts. The test
/// `cache::tests::facts_of_each_analyzer_version_are_stable` fails when an analyzer's facts
/// for its fixture change while its version does not (bump it, then record the new facts
/// with `MOAT_UPDATE_GOLDEN=1`); a change of the stored form itself bumps
/// `cache::FORMAT_VERSION`.
pub const REGISTRY: &[Registration] = &[
    Registration::Static(&os_release::OsRelease),
    Registration::Static(&os_marker::OsMarker),
    Registration::Static(&dpkg::DpkgStatus),
    Registration::Static(&dpkg::DpkgFiles),
    Registration::Static(&dpkg::DpkgCopyright),
    Registration::Static(&apk::ApkInstalled),
    Registration::Static(&rpm::RpmDb),
    Registration::Static(&cargo::CARGO_LOCK),
    Registration::Static(&cargo::CARGO_TOML),
    Registration::Static(&go::GO_MOD),
    Registration::Static(&javascript::NPM_LOCK),
    Registration::Static(&javascript::YARN_LOCK),
    Registration::Static(&javascript::PNPM_LOCK),
    Registration::Static(&javascript::BUN_LOCK),
    Registration::Static(&javascript::NODE_MODULES),
    Registration::Static(&javascript::PACKAGE_JSON),
    Registration::Static(&python::PYTHON_DIST),
    Registration::Static(&python::PIP_REQUIREMENTS),
    Registration::Static(&python::POETRY_LOCK),
    Registration::Static(&python::PIPFILE_LOCK),
    Registration::Static(&python::UV_LOCK),
    Registration::Static(&python::PYLOCK),
    Registration::Static(&java_archive::JAVA_ARCHIVE),
    Registration::Static(&java_build::GRADLE_LOCK),
    Registration::Static(&java_build::MAVEN_POM),
    Registration::Static(&java_build::SBT_LOCK),
    Registration::Static(&ruby::GEMFILE_LOCK),
    Registration::Static(&ruby::GEMSPEC),
    Registration::Static(&php::COMPOSER_LOCK),
    Registration::Static(&php::COMPOSER_INSTALLED),
    Registration::Static(&php::COMPOSER_JSON),
    Registration::Static(&dotnet::DOTNET_DEPS),
    Registration::Static(&dotnet::NUGET_LOCK),
    Registration::Static(&dotnet::NUGET_CENTRAL),
    Registration::Static(&dotnet::PACKAGES_CONFIG),
    Registration::Static(&apple::PODFILE_LOCK),
    Registration::Static(&apple::SWIFT_RESOLVED),
    Registration::Static(&conda::CONDA_META),
    Registration::Static(&conda::CONDA_ENVIRONMENT),
    Registration::Static(&other_lang::CONAN_LOCK),
    Registration::Static(&other_lang::MIX_LOCK),
    Registration::Static(&other_lang::PUBSPEC_LOCK),
    Registration::Static(&other_lang::JULIA_MANIFEST),
    Registration::Static(&binary::ElfBinary),
    Registration::Configured(secret::build),
    Registration::Static(&misconfig::Misconfig),
    Registration::Static(&misconfig::Kubernetes),
    Registration::Static(&misconfig::Compose),
    Registration::Configured(misconfig::rego),
    Registration::Static(&image_config::ImageChecks),
];

/// The analyzers of `registry` for one scan: the static ones and those the options build.
/// Which scanners are on is decided later, by `scan_with`.
pub struct Instances {
    registry: &'static [Registration],
    built: Vec<Option<Arc<dyn Analyzer>>>,
}

impl Instances {
    pub fn new(registry: &'static [Registration], opts: &ScanOptions) -> Instances {
        let built = registry
            .iter()
            .map(|r| match r {
                Registration::Static(_) => None,
                Registration::Configured(build) => build(opts).map(Arc::from),
            })
            .collect();
        Instances { registry, built }
    }

    /// The analyzers in registry order, shareable with the scan's threads.
    pub fn list(&self) -> Vec<Arc<dyn Analyzer>> {
        self.registry
            .iter()
            .zip(&self.built)
            .filter_map(|(r, b)| match r {
                Registration::Static(a) => Some(Arc::new(Static(*a)) as Arc<dyn Analyzer>),
                Registration::Configured(_) => b.clone(),
            })
            .collect()
    }
}

/// A registry analyzer, shared as the configured ones are.
struct Static(&'static dyn Analyzer);

impl Analyzer for Static {
    fn info(&self) -> &crate::analyzer::AnalyzerInfo {
        self.0.info()
    }
    fn wants(&self, entry: &crate::analyzer::Entry) -> crate::analyzer::Interest {
        self.0.wants(entry)
    }
    fn wants_head(&self, entry: &crate::analyzer::Entry, head: &[u8]) -> bool {
        self.0.wants_head(entry, head)
    }
    fn analyze(&self, entry: &crate::analyzer::Entry, data: &[u8]) -> Option<crate::fact::Fact> {
        self.0.analyze(entry, data)
    }
    fn analyze_config(&self, config: &moat_model::ImageConfig) -> Vec<moat_model::Finding> {
        self.0.analyze_config(config)
    }
    fn streams(&self) -> bool {
        self.0.streams()
    }
    fn analyze_reader(
        &self,
        entry: &crate::analyzer::Entry,
        r: &mut dyn std::io::BufRead,
    ) -> std::io::Result<Option<crate::fact::Fact>> {
        self.0.analyze_reader(entry, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::{Entry, Interest};
    use std::collections::HashSet;

    /// The ids of the registered analyzers interested in `path` as a small file of `mode`.
    fn wanted_by(path: &str, mode: u32) -> Vec<&'static str> {
        let opts = ScanOptions::default();
        let inst = Instances::new(REGISTRY, &opts);
        let e = Entry::new(path, mode, 100, Some(0));
        inst.list()
            .iter()
            .filter(|a| a.wants(&e) != Interest::No)
            .map(|a| a.info().id)
            .collect()
    }

    /// The registered package databases read a file as a stream (the registry's wrapper
    /// passes it on), and give from a reader what they give from the bytes.
    #[test]
    fn package_databases_stream() {
        let opts = ScanOptions::default();
        let inst = Instances::new(REGISTRY, &opts);
        let streaming: Vec<&str> = inst
            .list()
            .iter()
            .filter(|a| a.streams())
            .map(|a| a.info().id)
            .collect();
        assert_eq!(streaming, ["dpkg-status", "apk-installed"]);
        let status = b"Package: a\nStatus: install ok installed\nVersion: 1\n";
        for a in inst.list().iter().filter(|a| a.streams()) {
            let e = Entry::new("var/lib/dpkg/status", 0o644, 100, None);
            let mut r: &[u8] = status;
            let read = a.analyze_reader(&e, &mut r).unwrap();
            assert_eq!(
                format!("{read:?}"),
                format!("{:?}", a.analyze(&e, status)),
                "{}",
                a.info().id
            );
        }
    }

    #[test]
    fn wanted_paths() {
        let wants = |p: &str| wanted_by(p, 0o644);
        assert_eq!(wants("var/lib/dpkg/status"), ["dpkg-status"]);
        assert!(wants("var/lib/dpkg/status-old").is_empty());
        assert_eq!(wants("var/lib/dpkg/status.d/libc6"), ["dpkg-status"]);
        assert_eq!(wants("var/lib/dpkg/status.d/libc6.md5sums"), ["dpkg-files"]);
        assert!(wants("var/lib/dpkg/status.d/libc6.preinst").is_empty());
        assert_eq!(wants("var/lib/dpkg/info/libc6:amd64.list"), ["dpkg-files"]);
        assert!(wants("var/lib/dpkg/info/libc6:amd64.md5sums").is_empty());
        assert_eq!(wants("usr/share/doc/bash/copyright"), ["dpkg-copyright"]);
        assert!(wants("usr/share/doc/bash/examples/copyright").is_empty());
        assert_eq!(wants("usr/lib/sysimage/rpm/rpmdb.sqlite"), ["rpm-db"]);
        assert_eq!(wants("var/lib/rpm/Packages"), ["rpm-db"]);
        assert_eq!(
            wants("var/lib/rpmmanifest/container-manifest-2"),
            ["rpm-db"]
        );
        assert!(wants("var/lib/rpmmanifest/container-manifest-1").is_empty());
        assert!(wants("var/lib/rpm/Index.db").is_empty());
        assert_eq!(wants("etc/os-release"), ["os-release"]);
        assert!(wants("usr/bin/bash").is_empty());
        // executables are sniffed for ELF; a language file is wanted by its family alone
        assert_eq!(wanted_by("usr/bin/bash", 0o755), ["elf-binary"]);
        assert_eq!(wants("app/yarn.lock"), ["yarn-lock"]);
        assert_eq!(wants("x/foo.dist-info/RECORD"), ["python-dist"]);
        assert_eq!(
            wanted_by("app/lib/a.jar", 0o755),
            ["java-archive", "elf-binary"]
        );
    }

    #[test]
    fn ids_are_unique_and_versioned() {
        let opts = ScanOptions::default();
        let inst = Instances::new(REGISTRY, &opts);
        let list = inst.list();
        assert_eq!(list.len(), REGISTRY.len());
        let ids: HashSet<&str> = list.iter().map(|a| a.info().id).collect();
        assert_eq!(ids.len(), list.len(), "duplicate analyzer id");
        assert!(list.iter().all(|a| a.info().version >= 1));
        assert!(list.iter().all(|a| {
            !a.info().id.is_empty()
                && a.info()
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }));
    }
}
