//! # Project manifests: what a project says about its own dependencies
//!
//! A lockfile says what was resolved; the manifest beside it says why. `Cargo.toml`,
//! a project's `package.json` and `composer.json` name the direct dependencies by kind
//! (runtime, development, build), the project's own name and version, and where Composer
//! installs packages (`config.vendor-dir`). None of them lists packages with versions, so
//! none is an inventory of its own: [`parse_manifest`] returns a [`ProjectManifest`] and the
//! scan's join applies it to the lockfiles of the same directory (dev dependencies the
//! lockfile does not mark, and what only they pull in; the project itself beside a
//! `yarn.lock`; Composer's `installed.json` under a custom vendor directory).
//!
//! [`wants_manifest`] picks the files from their path, as [`crate::wants`] does for
//! package files: `Cargo.toml` (not in Cargo's registry or git checkouts under `.cargo/`),
//! `package.json` outside `node_modules/` (inside, it is an installed package, read by
//! [`crate::npm::parse_installed_package_json`]), `composer.json` outside `vendor/`.
//!
//! | parser | file | module |
//! |---|---|---|
//! | [`crate::cargo::parse_manifest`] | `Cargo.toml`: `[package]`, `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, the same under `[target.*]`, `[workspace]` | `cargo.rs` |
//! | [`crate::npm::parse_project_package_json`] | `package.json`: `name`, `version`, `license`, `dependencies`, `optionalDependencies`, `peerDependencies`, `devDependencies`, `workspaces` | `npm/project.rs` |
//! | [`crate::php::parse_composer_json`] | `composer.json`: `name`, `version`, `license`, `require`, `require-dev`, `config.vendor-dir` | `php.rs` |
//!
//! Names are those the lockfiles use: a Cargo dependency renamed with `package = "real"` is
//! `real`, an npm alias `"x": "npm:real@1"` is `real`, Composer's platform requirements
//! (`php`, `ext-*`) are left out. A name listed both as a runtime and as a development
//! dependency is a runtime one. A file that cannot be read gives no manifest and one
//! diagnostic (the join reports it only for a manifest beside a lockfile: a broken
//! `package.json` elsewhere is not a dependency problem).

use moat_model::Diagnostic;

use crate::Ecosystem;

/// Largest manifest read (real ones are a few KiB).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// Which manifest parser a file needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestFile {
    CargoToml,
    PackageJson,
    ComposerJson,
}

/// What a manifest declares.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProjectManifest {
    pub ecosystem: Ecosystem,
    /// The project's own name (`[package] name`, `name`).
    pub name: Option<String>,
    /// Its version, when the file gives one literally.
    pub version: Option<String>,
    /// Direct runtime dependencies (npm: `dependencies`, `optionalDependencies`,
    /// `peerDependencies`), sorted.
    pub dependencies: Vec<String>,
    /// Direct development-only dependencies, sorted (none also in `dependencies`).
    pub dev_dependencies: Vec<String>,
    /// Direct build dependencies (Cargo `[build-dependencies]`), sorted (none also in
    /// `dependencies`).
    pub build_dependencies: Vec<String>,
    /// The project has members in subdirectories (`[workspace]`, npm `workspaces`).
    pub workspace: bool,
    /// Composer's `config.vendor-dir`, as written.
    pub vendor_dir: Option<String>,
    pub licenses: Vec<String>,
}

impl ProjectManifest {
    /// An empty manifest of `ecosystem`.
    pub fn new(ecosystem: Ecosystem) -> ProjectManifest {
        ProjectManifest {
            ecosystem,
            name: None,
            version: None,
            dependencies: Vec::new(),
            dev_dependencies: Vec::new(),
            build_dependencies: Vec::new(),
            workspace: false,
            vendor_dir: None,
            licenses: Vec::new(),
        }
    }

    /// Sorts and deduplicates the lists; a runtime dependency is not also dev or build.
    pub(crate) fn finish(mut self) -> ProjectManifest {
        for list in [
            &mut self.dependencies,
            &mut self.dev_dependencies,
            &mut self.build_dependencies,
        ] {
            list.sort();
            list.dedup();
        }
        let runtime = &self.dependencies;
        self.dev_dependencies
            .retain(|d| runtime.binary_search(d).is_err());
        self.build_dependencies
            .retain(|d| runtime.binary_search(d).is_err());
        self
    }
}

/// A manifest parser's result.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ManifestParsed {
    pub manifest: Option<ProjectManifest>,
    pub warnings: Vec<Diagnostic>,
}

impl From<Diagnostic> for ManifestParsed {
    fn from(d: Diagnostic) -> ManifestParsed {
        ManifestParsed {
            manifest: None,
            warnings: vec![d],
        }
    }
}

impl From<ProjectManifest> for ManifestParsed {
    fn from(m: ProjectManifest) -> ManifestParsed {
        ManifestParsed {
            manifest: Some(m.finish()),
            warnings: Vec::new(),
        }
    }
}

/// How a package is reached from a project's direct dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// From a runtime dependency (whatever else also reaches it).
    Runtime,
    /// Only from build dependencies (and perhaps development ones).
    Build,
    /// Only from development dependencies.
    Dev,
    /// From none of them (not in this project's graph, or the graph is incomplete).
    Unreached,
}

/// Follows the `depends` edges of `packages` (names compared as `ecosystem` normalises
/// them; every version of a name counts, so a name reached once reaches all its versions)
/// from the direct `runtime`, `build` and `dev` dependency names, and says for each
/// package how it is reached. A package that only development dependencies pull in is
/// [`Reach::Dev`]; one a runtime dependency also pulls in is [`Reach::Runtime`].
pub fn reach(
    ecosystem: Ecosystem,
    packages: &[&crate::LangPackage],
    runtime: &[String],
    build: &[String],
    dev: &[String],
) -> Vec<Reach> {
    use std::collections::{HashMap, HashSet};
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        by_name
            .entry(ecosystem.normalize_name(&p.name))
            .or_default()
            .push(i);
    }
    // Names reached, each with the first kind that reached it.
    let mut seen: HashMap<String, Reach> = HashMap::new();
    for (kind, roots) in [
        (Reach::Runtime, runtime),
        (Reach::Build, build),
        (Reach::Dev, dev),
    ] {
        let mut queue: Vec<String> = roots.iter().map(|r| ecosystem.normalize_name(r)).collect();
        let mut queued: HashSet<String> = queue.iter().cloned().collect();
        while let Some(name) = queue.pop() {
            if seen.contains_key(&name) {
                continue;
            }
            seen.insert(name.clone(), kind);
            for &i in by_name.get(&name).map(Vec::as_slice).unwrap_or_default() {
                for d in &packages[i].depends {
                    let d = ecosystem.normalize_name(d);
                    if !seen.contains_key(&d) && queued.insert(d.clone()) {
                        queue.push(d);
                    }
                }
            }
        }
    }
    packages
        .iter()
        .map(|p| {
            seen.get(&ecosystem.normalize_name(&p.name))
                .copied()
                .unwrap_or(Reach::Unreached)
        })
        .collect()
}

/// Decides from a relative path (no leading `/`) whether it is a project manifest.
pub fn wants_manifest(path: &str) -> Option<ManifestFile> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let under = |d: &str| dir.split('/').any(|part| part == d);
    match name {
        "Cargo.toml" if !under(".cargo") => Some(ManifestFile::CargoToml),
        "package.json" if !under("node_modules") => Some(ManifestFile::PackageJson),
        "composer.json" if !under("vendor") => Some(ManifestFile::ComposerJson),
        _ => None,
    }
}

/// Runs the manifest parser for `kind` over the bytes of `path`.
pub fn parse_manifest(kind: ManifestFile, path: &str, bytes: &[u8]) -> ManifestParsed {
    if let Err(d) = crate::read::check_size(bytes, MAX_MANIFEST_BYTES) {
        return d.into();
    }
    match kind {
        ManifestFile::CargoToml => crate::cargo::parse_manifest(path, bytes),
        ManifestFile::PackageJson => crate::npm::parse_project_package_json(path, bytes),
        ManifestFile::ComposerJson => crate::php::parse_composer_json(path, bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LangPackage;

    #[test]
    fn reach_follows_edges_and_runtime_wins() {
        let mk = |n: &str, deps: &[&str]| {
            let mut p = LangPackage::new(Ecosystem::Npm, n, "1.0.0");
            p.depends = deps.iter().map(|d| d.to_string()).collect();
            p
        };
        let pkgs = [
            mk("app-dep", &["shared"]),
            mk("shared", &["leaf"]),
            mk("leaf", &[]),
            mk("jest", &["shared", "jest-only"]),
            mk("jest-only", &["deeper"]),
            mk("deeper", &[]),
            mk("cc", &["cc-only"]),
            mk("cc-only", &[]),
            mk("stray", &[]),
        ];
        let refs: Vec<&LangPackage> = pkgs.iter().collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let r = reach(
            Ecosystem::Npm,
            &refs,
            &s(&["app-dep"]),
            &s(&["cc"]),
            &s(&["jest", "cc"]),
        );
        use Reach::*;
        assert_eq!(
            r,
            [
                Runtime, Runtime, Runtime, Dev, Dev, Dev, Build, Build, Unreached
            ]
        );
    }

    #[test]
    fn manifest_paths() {
        assert_eq!(
            wants_manifest("app/Cargo.toml"),
            Some(ManifestFile::CargoToml)
        );
        assert_eq!(wants_manifest("Cargo.toml"), Some(ManifestFile::CargoToml));
        assert_eq!(
            wants_manifest("root/.cargo/registry/src/index/x-1.0.0/Cargo.toml"),
            None
        );
        assert_eq!(
            wants_manifest("app/node/package.json"),
            Some(ManifestFile::PackageJson)
        );
        assert_eq!(wants_manifest("app/node_modules/x/package.json"), None);
        assert_eq!(wants_manifest("node_modules/x/package.json"), None);
        assert_eq!(
            wants_manifest("srv/composer.json"),
            Some(ManifestFile::ComposerJson)
        );
        assert_eq!(wants_manifest("srv/vendor/a/b/composer.json"), None);
        assert_eq!(wants_manifest("srv/Cargo.lock"), None);
    }
}
