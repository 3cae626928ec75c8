//! A project's manifest joined with the lockfiles it governs.
//!
//! A manifest ([`moat_lang::project`]) has no packages; it says which direct dependencies
//! are for development only (and, for Cargo, for build scripts), which the lockfiles below
//! do not all record. For each lockfile, its *members* are the manifests that describe the
//! projects it resolves:
//!
//! | lockfile | members |
//! |---|---|
//! | `Cargo.lock` | the `Cargo.toml` in its directory and every `Cargo.toml` below it whose package is a workspace member of the lock (a source-less package of the same name) |
//! | `yarn.lock` (v1 and berry), `package-lock.json` / `npm-shrinkwrap.json` v1 | the `package.json` in its directory; with `workspaces`, every `package.json` below it |
//! | `composer.lock` | the `composer.json` in its directory (its diagnostics only, see below) |
//! | `<vendor-dir>/composer/installed.json` | the `composer.json` whose vendor directory it is (`vendor` unless `config.vendor-dir` says otherwise) |
//!
//! Lockfiles that record their development packages themselves are left as they say:
//! `package-lock.json` v2 and v3 (npm 7+ also installs peer dependencies, which a graph of
//! `dependencies` alone would miss), `composer.lock` (`packages-dev`; a graph of `require`
//! alone would miss virtual packages such as `psr/log-implementation`), Composer 2's
//! `installed.json` when it names `dev-package-names` (which then count as declared
//! development packages: an installed copy otherwise does not vote on `dev`), and
//! `pnpm-lock.yaml` and `bun.lock`, which are not joined at all.
//!
//! The lockfile's dependency graph is then followed ([`moat_lang::project::reach`]) from
//! the members' runtime, build and development dependencies, and from every other project
//! root of the lock (a source-less crate, a workspace entry) that no member describes, whose
//! edges count as runtime since nothing says otherwise. A package only development
//! dependencies reach is marked `dev` (and counts as a declaration of it even in
//! `installed.json`, which otherwise does not vote); one only build dependencies reach gets
//! `metadata["build"] = "true"` (build dependencies are not development ones: they run when
//! the project is built). A package the lockfile already marks `dev` stays so.
//!
//! A `yarn.lock` has no entry for the project itself; the `package.json` beside it gives
//! it (`application: true`, its runtime dependencies as edges).
//!
//! Diagnostics of a manifest (one that cannot be read) are reported only when it sits
//! beside a lockfile it would govern: elsewhere a broken `package.json` is not moat's
//! concern.

use super::Found;
use crate::fact::Fact;
use crate::merge::Merged;
use moat_lang::project::{ManifestParsed, ProjectManifest, Reach, reach};
use moat_lang::{Ecosystem, LangPackage, absolute_path};
use moat_model::{Diagnostic, Str};
use std::collections::{BTreeSet, HashMap};

/// A manifest of the final view.
pub(super) struct Manifest<'a> {
    /// Absolute path (`/app/Cargo.toml`).
    path: String,
    layer: Option<usize>,
    parsed: &'a ManifestParsed,
}

impl Manifest<'_> {
    fn dir(&self) -> &str {
        parent(&self.path)
    }

    fn manifest(&self) -> Option<&ProjectManifest> {
        self.parsed.manifest.as_ref()
    }

    fn ecosystem(&self) -> Ecosystem {
        match self.path.rsplit('/').next() {
            Some("Cargo.toml") => Ecosystem::Cargo,
            Some("composer.json") => Ecosystem::Packagist,
            _ => Ecosystem::Npm,
        }
    }

    /// Where Composer puts `installed.json` for this project.
    fn composer_dir(&self) -> Option<String> {
        if self.ecosystem() != Ecosystem::Packagist {
            return None;
        }
        let vendor = self
            .manifest()
            .and_then(|m| m.vendor_dir.as_deref())
            .unwrap_or("vendor");
        let joined = if vendor.starts_with('/') {
            format!("{vendor}/composer")
        } else {
            format!("{}/{vendor}/composer", self.dir())
        };
        Some(absolute_path(&joined))
    }
}

/// The directory of an absolute path (`""` for the root).
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Whether `path` is `dir` or below it.
fn within(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// The manifests of the final view.
pub(super) fn manifests(m: &Merged) -> Vec<Manifest<'_>> {
    let mut out = Vec::new();
    for (path, layer, facts) in m.files_under("") {
        for fact in facts.facts() {
            if let Fact::Manifest(parsed) = fact {
                out.push(Manifest {
                    path: format!("/{path}"),
                    layer,
                    parsed,
                });
            }
        }
    }
    out
}

/// Whether the packages of the file at `path` (relative) count: everything but a
/// `composer/installed.json` that is neither under `vendor/` nor in the vendor directory a
/// `composer.json` names.
pub(super) fn composer_installed_kept(path: &str, manifests: &[Manifest]) -> bool {
    let Some(dir) = path.strip_suffix("/composer/installed.json") else {
        return true;
    };
    if dir.ends_with("vendor") {
        return true;
    }
    let abs = format!("/{dir}/composer");
    manifests
        .iter()
        .any(|m| m.composer_dir().is_some_and(|d| d == abs))
}

/// What kind of lockfile a path is, for this join.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lock {
    Cargo,
    Yarn,
    /// `package-lock.json` or `npm-shrinkwrap.json`, of any version.
    Npm,
    Composer,
    ComposerInstalled,
}

fn lock_kind(path: &str) -> Option<Lock> {
    Some(match path.rsplit('/').next()? {
        "Cargo.lock" => Lock::Cargo,
        "yarn.lock" => Lock::Yarn,
        "package-lock.json" | "npm-shrinkwrap.json" => Lock::Npm,
        "composer.lock" => Lock::Composer,
        "installed.json" if path.ends_with("/composer/installed.json") => Lock::ComposerInstalled,
        _ => return None,
    })
}

impl Lock {
    fn ecosystem(self) -> Ecosystem {
        match self {
            Lock::Cargo => Ecosystem::Cargo,
            Lock::Yarn | Lock::Npm => Ecosystem::Npm,
            Lock::Composer | Lock::ComposerInstalled => Ecosystem::Packagist,
        }
    }
}

/// The manifests governing the lockfile at `path`, the one in its directory (if any) first.
fn members<'m, 'a>(
    lock: Lock,
    path: &str,
    packages: &[&LangPackage],
    manifests: &'m [Manifest<'a>],
) -> Vec<&'m Manifest<'a>> {
    let dir = parent(path);
    let eco = lock.ecosystem();
    let of_eco = || manifests.iter().filter(move |m| m.ecosystem() == eco);
    if lock == Lock::ComposerInstalled {
        return of_eco()
            .filter(|m| m.composer_dir().as_deref() == Some(dir))
            .collect();
    }
    let beside: Vec<&Manifest> = of_eco().filter(|m| m.dir() == dir).collect();
    let mut out = beside.clone();
    let below = of_eco().filter(|m| within(m.dir(), dir));
    match lock {
        Lock::Cargo => {
            let roots: BTreeSet<&str> = packages
                .iter()
                .filter(|p| p.application)
                .map(|p| p.name.as_str())
                .collect();
            out.extend(below.filter(|m| {
                m.manifest()
                    .and_then(|x| x.name.as_deref())
                    .is_some_and(|n| roots.contains(n))
            }));
        }
        Lock::Yarn | Lock::Npm => {
            if beside
                .iter()
                .any(|m| m.manifest().is_some_and(|x| x.workspace))
            {
                out.extend(below);
            }
        }
        Lock::Composer | Lock::ComposerInstalled => {}
    }
    out
}

/// Applies the manifests to the packages of the lockfiles they govern.
pub(super) fn apply(
    found: &mut Vec<Found>,
    manifests: &[Manifest],
    diagnostics: &mut Vec<Diagnostic>,
) {
    if manifests.is_empty() {
        return;
    }
    // lockfile path -> indices of its packages in `found`
    let mut locks: Vec<(Str, Lock)> = Vec::new();
    let mut by_lock: HashMap<Str, Vec<usize>> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        let Some(kind) = lock_kind(&f.path) else {
            continue;
        };
        if f.pkg.ecosystem != kind.ecosystem() {
            continue;
        }
        by_lock
            .entry(f.path.clone())
            .or_insert_with(|| {
                locks.push((f.path.clone(), kind));
                Vec::new()
            })
            .push(i);
    }
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    let mut roots: Vec<Found> = Vec::new();
    for (path, kind) in locks {
        let indices = by_lock.remove(&path).unwrap_or_default();
        let packages: Vec<&LangPackage> = indices.iter().map(|&i| &found[i].pkg).collect();
        let members = members(kind, &path, &packages, manifests);
        for m in &members {
            if reported.insert(m.path.as_str()) {
                for d in &m.parsed.warnings {
                    diagnostics.push(d.clone().at(m.path.clone(), m.layer));
                }
            }
        }
        let described: Vec<&ProjectManifest> =
            members.iter().filter_map(|m| m.manifest()).collect();
        if described.is_empty() || records_dev(kind, &packages) {
            // Composer 2's `installed.json` names its dev packages (`dev-package-names`):
            // the manifest beside the project confirms they are its development ones.
            if kind == Lock::ComposerInstalled && !described.is_empty() {
                for &i in &indices {
                    found[i].declared |= found[i].pkg.dev;
                }
            }
            continue;
        }
        let named: BTreeSet<&str> = described.iter().filter_map(|m| m.name.as_deref()).collect();
        // A manifest without a name (a private app's `package.json`) beside the lock still
        // describes the lock's own root, whatever name the lock gives it.
        let beside_unnamed = members.first().is_some_and(|m| {
            m.dir() == parent(&path) && m.manifest().is_some_and(|x| x.name.is_none())
        });
        let (mut runtime, mut build, mut dev) = (Vec::new(), Vec::new(), Vec::new());
        for m in &described {
            runtime.extend(m.dependencies.iter().cloned());
            build.extend(m.build_dependencies.iter().cloned());
            dev.extend(m.dev_dependencies.iter().cloned());
        }
        // Project roots of the lock that no manifest describes: their edges are runtime.
        for p in packages.iter().filter(|p| p.application) {
            if !named.contains(p.name.as_str()) && !beside_unnamed {
                runtime.extend(p.depends.iter().cloned());
            }
        }
        // A described project's own edges are its manifest's runtime dependencies (the
        // lock lists its dev and build ones among them too).
        let by_name: HashMap<&str, &ProjectManifest> = described
            .iter()
            .filter_map(|m| Some((m.name.as_deref()?, *m)))
            .collect();
        let own: Vec<Option<LangPackage>> = packages
            .iter()
            .map(|p| {
                let m = by_name.get(p.name.as_str()).filter(|_| p.application)?;
                let mut q = (*p).clone();
                q.depends = m.dependencies.clone();
                Some(q)
            })
            .collect();
        let graph: Vec<&LangPackage> = packages
            .iter()
            .zip(&own)
            .map(|(p, o)| o.as_ref().unwrap_or(p))
            .collect();
        let reached = reach(kind.ecosystem(), &graph, &runtime, &build, &dev);
        let has_root = packages.iter().any(|p| p.application);
        for (&i, r) in indices.iter().zip(reached) {
            let f = &mut found[i];
            if f.pkg.application {
                continue;
            }
            match r {
                Reach::Dev => {
                    f.pkg.dev = true;
                    f.declared = true;
                }
                Reach::Build if f.pkg.ecosystem == Ecosystem::Cargo => {
                    f.pkg.metadata.insert("build".into(), "true".into());
                }
                _ => {}
            }
        }
        if kind == Lock::Yarn
            && !has_root
            && let Some(m) = members.first().filter(|m| m.dir() == parent(&path))
            && let Some(root) = m.manifest().and_then(project_root)
        {
            roots.push(Found {
                pkg: root,
                path: m.path.as_str().into(),
                layer: m.layer,
                declared: true,
            });
        }
    }
    found.extend(roots);
}

/// Whether the lockfile records its development packages itself, so that the manifest
/// has nothing to add: `package-lock.json` v2 and v3 (`dev` flags), `composer.lock`
/// (`packages-dev`), Composer 2's `installed.json` (`dev-package-names`, when it names
/// any).
fn records_dev(kind: Lock, packages: &[&LangPackage]) -> bool {
    match kind {
        Lock::Npm => !packages
            .iter()
            .any(|p| p.metadata.get("lockfile_version").is_some_and(|v| v == "1")),
        Lock::Composer => true,
        Lock::ComposerInstalled => packages.iter().any(|p| p.dev),
        Lock::Cargo | Lock::Yarn => false,
    }
}

/// The project itself from its manifest, when it has a name.
fn project_root(m: &ProjectManifest) -> Option<LangPackage> {
    let name = m.name.as_deref()?;
    let mut p = LangPackage::new(m.ecosystem, name, m.version.clone().unwrap_or_default());
    p.application = true;
    p.depends = m.dependencies.clone();
    p.licenses = m.licenses.clone();
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            absolute_path("/srv/app/./lib/../vendor/composer"),
            "/srv/app/vendor/composer"
        );
        assert_eq!(absolute_path("/a//b/"), "/a/b");
        assert!(within("/a/b/c", "/a"));
        assert!(!within("/ab/c", "/a"));
        assert!(within("/x", ""));
        assert_eq!(parent("/Cargo.toml"), "");
    }
}
