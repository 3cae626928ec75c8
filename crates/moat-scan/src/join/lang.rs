//! The join for language packages, after the merge:
//!
//! 1. every surviving file's [`moat_lang::LangParsed`] is collected, with the layer that
//!    introduced each package (from the file's history, as for OS databases) and whether the
//!    analyzer that read it calls it a declaration (a lockfile) or an installed copy;
//! 2. a dist-info's `RECORD` is joined to its `METADATA` (the file list);
//! 3. a package whose metadata file an OS package owns (Debian's `python3-yaml` ships PyYAML's
//!    dist-info) belongs to the OS package: it is dropped here and noted on the OS package;
//! 4. the same (ecosystem, name, version) found in several places (a lockfile and the
//!    installed tree; a Rust binary and its Cargo.lock) becomes one package with every
//!    location as evidence; crates of a Cargo.lock that the project's binary does not contain
//!    are marked `in_binary=false`;
//! 5. purls, ids and dependency edges (names compared as
//!    [`moat_model::Ecosystem::normalize_name`] says).
//!
//! Before the joins of step 2, the files of one project are read together (`project`, `go`):
//! a project manifest ([`Fact::Manifest`]) marks the dev dependencies of the lockfiles beside
//! it and what only they pull in, names the project beside a `yarn.lock`, and locates
//! Composer's `installed.json` under a custom vendor directory; a `go.mod` decides what the
//! `go.sum` beside it adds.

mod go;
mod project;

use super::group::Group;
use crate::fact::Fact;
use crate::merge::{Merged, introduced_layers};
use moat_lang::{Ecosystem, LangPackage};
use moat_model::{Diagnostic, Interner, Lists, Location, Package, PackageFiles, Purl, Str};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A language package with where it was found.
struct Found {
    pkg: LangPackage,
    /// Shared by the packages of one file.
    path: Str,
    layer: Option<usize>,
    /// From a lockfile or manifest (it may say dev), not an installed copy or a binary.
    declared: bool,
}

/// The package URL of a language package.
pub fn purl(eco: Ecosystem, name: &str, version: &str) -> Purl {
    let ty = eco.purl_type();
    let split_last = |sep: char| match name.rsplit_once(sep) {
        Some((ns, n)) if !ns.is_empty() && !n.is_empty() => (Some(ns.to_string()), n.to_string()),
        _ => (None, name.to_string()),
    };
    let (ns, n) = match eco {
        Ecosystem::Npm if name.starts_with('@') => split_last('/'),
        Ecosystem::Maven => split_last(':'),
        Ecosystem::Go | Ecosystem::Packagist | Ecosystem::SwiftURL => split_last('/'),
        Ecosystem::PyPI => (None, eco.normalize_name(name)),
        _ => (None, name.to_string()),
    };
    let mut p = Purl::new(ty, &n).with_version(version);
    if let Some(ns) = ns {
        p = p.with_namespace(ns);
    }
    p
}

/// The purl of a package, with the qualifiers its type defines where the metadata has them
/// (conda's `build`, `channel`, `subdir`; Julia's `uuid`).
fn package_purl(pkg: &LangPackage) -> Purl {
    let mut p = purl(pkg.ecosystem, &pkg.name, &pkg.version);
    let qualifiers: &[&str] = match pkg.ecosystem {
        Ecosystem::Conda => &["build", "channel", "subdir"],
        Ecosystem::Julia => &["uuid"],
        _ => &[],
    };
    for q in qualifiers {
        if let Some(v) = pkg.metadata.get(q).filter(|v| !v.is_empty()) {
            p = p.with_qualifier(q, v.clone());
        }
    }
    p
}

/// The language packages of the final view, collected and joined (steps 1 and 2), before the
/// OS packages are known: [`Collected::paths`] are the only files whose OS owner matters.
pub(super) struct Collected(Vec<Found>);

impl Collected {
    /// The metadata files the packages were found in (absolute paths).
    pub fn paths(&self) -> HashSet<Str> {
        self.0.iter().map(|f| f.path.clone()).collect()
    }
}

/// Collects the language packages of the final view and joins a dist-info's `RECORD` (steps
/// 1 and 2; [`groups`] does the rest once the OS packages are known).
pub(super) fn collect(m: &Merged, diagnostics: &mut Vec<Diagnostic>) -> Collected {
    let manifests = project::manifests(m);
    let mut found: Vec<Found> = Vec::new();
    for (path, layer, facts) in m.files_under("") {
        if !project::composer_installed_kept(path, &manifests) {
            continue;
        }
        for fact in facts.facts() {
            let Fact::Lang { parsed, declared } = fact else {
                continue;
            };
            let layers = introduced_layers(m.history(path), |f| match f {
                Fact::Lang { parsed, .. } => parsed
                    .packages
                    .iter()
                    .map(|p| ((p.ecosystem, p.name.as_str()), p.version.as_str()))
                    .collect(),
                _ => vec![],
            });
            let file: Str = format!("/{path}").into();
            for d in parsed.diagnostics() {
                diagnostics.push(d.at(format!("/{path}"), layer));
            }
            for p in &parsed.packages {
                let l = layers.get(&(p.ecosystem, p.name.as_str())).or(layer);
                found.push(Found {
                    pkg: p.clone(),
                    path: file.clone(),
                    layer: l,
                    declared: *declared,
                });
            }
        }
    }
    project::apply(&mut found, &manifests, diagnostics);
    go::apply_go_sum(&mut found);
    join_python_records(&mut found);
    Collected(found)
}

/// Drops the collected packages whose metadata file an OS package owns, deduplicates the
/// others and builds their groups (steps 3 to 5). `owners` maps an absolute file path (at
/// least every one of [`Collected::paths`] an OS package owns) to the index of the OS package
/// that owns it; `os_notes` receives (OS package index, `pypi:PyYAML@6.0`) for the packages
/// dropped as owned. `files`: where the packages' file lists (a RECORD's) are kept, when
/// asked (`--package-files`).
pub(super) fn groups(
    collected: Collected,
    owners: &HashMap<&str, usize>,
    skip_dev: bool,
    os_notes: &mut Vec<(usize, String)>,
    mut files: Option<&mut PackageFiles>,
) -> Vec<Group> {
    let Collected(mut found) = collected;
    drop_os_owned(&mut found, owners, os_notes);
    mark_crates_not_in_binary(&mut found);
    let merged = dedupe(found);

    let mut groups: BTreeMap<Ecosystem, Group> = BTreeMap::new();
    // the strings every package of an ecosystem repeats, shared
    let mut s = Interner::new();
    // and the licence and location lists they repeat (a lockfile's path, MIT)
    let (mut licenses, mut shared_locations) = (Lists::new(), Lists::new());
    for (pkg, locations, dev) in merged {
        if skip_dev && dev {
            continue;
        }
        let eco = pkg.ecosystem;
        let g = groups.entry(eco).or_default();
        let layer = locations.iter().filter_map(|l| l.layer).min();
        let layer = layer.and_then(|l| u32::try_from(l).ok());
        let purl = package_purl(&pkg);
        g.provides.push([Str::from(eco.normalize_name(&pkg.name))]);
        g.depends
            .push(pkg.depends.iter().map(|d| Str::from(eco.normalize_name(d))));
        if let Some(files) = files.as_deref_mut()
            && !pkg.files.is_empty()
        {
            let added = files.add(pkg.files.iter().map(String::as_str));
            g.files.push((g.packages.len(), added));
        }
        g.packages.push(Package {
            id: format!("{}:{}@{}", eco.purl_type(), pkg.name, pkg.version).into(),
            name: pkg.name.into(),
            version: pkg.version.into(),
            kind: s.get(eco.purl_type()),
            purl: purl.to_string().into(),
            ecosystem: Some(s.get(eco.osv_name())),
            arch: None,
            epoch: None,
            source_name: None,
            source_version: None,
            licenses: {
                let l: Vec<Str> = pkg.licenses.iter().map(|l| s.get(l)).collect();
                licenses.get(&l)
            },
            layer,
            locations: shared_locations.get(&locations),
            dev,
            application: pkg.application,
            file_count: u32::try_from(pkg.files.len()).ok().filter(|&n| n > 0),
            metadata: pkg.metadata,
        });
    }
    groups.into_values().collect()
}

/// Gives each dist-info METADATA package the file list of the RECORD beside it; RECORD-only
/// entries go away (or stay, as the package, when there is no METADATA).
fn join_python_records(found: &mut Vec<Found>) {
    let dist = |f: &Found| f.pkg.metadata.get("dist_dir").cloned();
    let mut records: HashMap<Str, Vec<String>> = HashMap::new();
    let mut with_metadata: HashSet<Str> = HashSet::new();
    for f in found.iter() {
        let Some(d) = dist(f) else { continue };
        if f.pkg
            .metadata
            .get("record_only")
            .is_some_and(|v| v == "true")
        {
            records.insert(d, f.pkg.files.clone());
        } else {
            with_metadata.insert(d);
        }
    }
    found.retain(|f| {
        let record_only = f
            .pkg
            .metadata
            .get("record_only")
            .is_some_and(|v| v == "true");
        !(record_only && dist(f).is_some_and(|d| with_metadata.contains(&d)))
    });
    for f in found.iter_mut() {
        if let Some(d) = dist(f)
            && f.pkg.files.is_empty()
            && let Some(files) = records.get(&d)
        {
            f.pkg.files = files.clone();
        }
        f.pkg.metadata.remove("record_only");
    }
}

fn drop_os_owned(
    found: &mut Vec<Found>,
    owners: &HashMap<&str, usize>,
    notes: &mut Vec<(usize, String)>,
) {
    found.retain(|f| {
        let owner = owners.get(f.path.as_str()).copied();
        match owner {
            Some(os) => {
                notes.push((
                    os,
                    format!(
                        "{}:{}@{}",
                        f.pkg.ecosystem.purl_type(),
                        f.pkg.name,
                        f.pkg.version
                    ),
                ));
                false
            }
            None => true,
        }
    });
}

/// A Cargo.lock whose root crate is also the root of a binary found in the image describes
/// that binary's project: its crates the binary does not contain (platform-specific ones)
/// are marked `in_binary=false`.
fn mark_crates_not_in_binary(found: &mut [Found]) {
    let is_lock = |f: &Found| f.path.ends_with("/Cargo.lock");
    // binary path -> its crates; root crate -> binary path
    let mut binary_crates: HashMap<&str, HashSet<(String, String)>> = HashMap::new();
    let mut roots: HashMap<(String, String), &str> = HashMap::new();
    for f in found.iter() {
        if f.pkg.ecosystem != Ecosystem::Cargo || is_lock(f) {
            continue;
        }
        binary_crates
            .entry(f.path.as_str())
            .or_default()
            .insert((f.pkg.name.clone(), f.pkg.version.clone()));
        if f.pkg.application {
            roots.insert((f.pkg.name.clone(), f.pkg.version.clone()), f.path.as_str());
        }
    }
    let mut lock_to_binary: HashMap<Str, HashSet<(String, String)>> = HashMap::new();
    for f in found.iter() {
        if is_lock(f)
            && f.pkg.application
            && let Some(bin) = roots.get(&(f.pkg.name.clone(), f.pkg.version.clone()))
            && let Some(crates) = binary_crates.get(bin)
        {
            lock_to_binary.insert(f.path.clone(), crates.clone());
        }
    }
    for f in found.iter_mut() {
        if let Some(crates) = lock_to_binary.get(&f.path)
            && !crates.contains(&(f.pkg.name.clone(), f.pkg.version.clone()))
        {
            f.pkg.metadata.insert("in_binary".into(), "false".into());
        }
    }
}

/// (ecosystem, normalised name, version)
type Key = (Ecosystem, String, String);
/// A package being merged: the first copy, every location, and the dev vote so far.
type Merging = (LangPackage, BTreeSet<Location>, Option<bool>);

/// One package per (ecosystem, normalised name, version), with every location.
/// Returns the package, its locations and whether it is a dev dependency (every declaring
/// file says dev; installed copies and binaries do not vote).
fn dedupe(found: Vec<Found>) -> Vec<(LangPackage, Vec<Location>, bool)> {
    let mut order: Vec<Key> = Vec::new();
    let mut by_key: HashMap<Key, Merging> = HashMap::new();
    for f in found {
        let key = (
            f.pkg.ecosystem,
            f.pkg.ecosystem.normalize_name(&f.pkg.name),
            f.pkg.version.clone(),
        );
        let loc = Location {
            path: f.path.clone(),
            layer: f.layer,
        };
        let vote = f.declared.then_some(f.pkg.dev);
        match by_key.get_mut(&key) {
            Some((p, locs, dev)) => {
                locs.insert(loc);
                *dev = match (*dev, vote) {
                    (Some(a), Some(b)) => Some(a && b),
                    (a, b) => a.or(b),
                };
                p.application |= f.pkg.application;
                for d in f.pkg.depends {
                    if !p.depends.contains(&d) {
                        p.depends.push(d);
                    }
                }
                for l in f.pkg.licenses {
                    if !p.licenses.contains(&l) {
                        p.licenses.push(l);
                    }
                }
                if p.files.is_empty() {
                    p.files = f.pkg.files;
                }
                // a crate some copy does not mark as missing from the binary is in it
                let in_binary = f.pkg.metadata.get("in_binary").is_none_or(|v| v != "false");
                for (k, v) in f.pkg.metadata {
                    p.metadata.entry(k).or_insert(v);
                }
                if in_binary {
                    p.metadata.remove("in_binary");
                }
            }
            None => {
                order.push(key.clone());
                by_key.insert(key, (f.pkg, BTreeSet::from([loc]), vote));
            }
        }
    }
    // A project manifest without a version (go.mod's `module`, a package.json without one)
    // is the same application as a versioned record of it (the binary's main module).
    let versionless: Vec<(Ecosystem, String, String)> = order
        .iter()
        .filter(|k| k.2.is_empty() && by_key.get(*k).is_some_and(|p| p.0.application))
        .cloned()
        .collect();
    for k in versionless {
        let twins: Vec<&(Ecosystem, String, String)> = order
            .iter()
            .filter(|o| o.0 == k.0 && o.1 == k.1 && !o.2.is_empty())
            .collect();
        if let [twin] = twins.as_slice()
            && let Some((_, locs, _)) = by_key.remove(&k)
            && let Some((p, twin_locs, _)) = by_key.get_mut(*twin)
        {
            p.application = true;
            twin_locs.extend(locs);
        }
    }
    order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .map(|(p, locs, dev)| (p, locs.into_iter().collect(), dev.unwrap_or(false)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_per_ecosystem() {
        for (eco, name, version, want) in [
            (
                Ecosystem::Npm,
                "@babel/core",
                "7.0.0",
                "pkg:npm/%40babel/core@7.0.0",
            ),
            (
                Ecosystem::Npm,
                "lodash",
                "4.17.20",
                "pkg:npm/lodash@4.17.20",
            ),
            (
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.19.0",
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0",
            ),
            (
                Ecosystem::Go,
                "github.com/google/uuid",
                "v1.3.0",
                "pkg:golang/github.com/google/uuid@v1.3.0",
            ),
            (
                Ecosystem::Go,
                "stdlib",
                "v1.19.8",
                "pkg:golang/stdlib@v1.19.8",
            ),
            (
                Ecosystem::PyPI,
                "Jinja2",
                "2.11.3",
                "pkg:pypi/jinja2@2.11.3",
            ),
            (
                Ecosystem::PyPI,
                "zope.interface",
                "5",
                "pkg:pypi/zope-interface@5",
            ),
            (
                Ecosystem::Packagist,
                "symfony/yaml",
                "v5.0.0",
                "pkg:composer/symfony/yaml@v5.0.0",
            ),
            (Ecosystem::RubyGems, "rack", "2.2.22", "pkg:gem/rack@2.2.22"),
        ] {
            assert_eq!(purl(eco, name, version).to_string(), want);
        }
    }

    #[test]
    fn purls_of_the_newer_ecosystems() {
        let mk = |eco, name: &str, version: &str, meta: &[(&str, &str)]| {
            let mut p = LangPackage::new(eco, name, version);
            for (k, v) in meta {
                p.metadata.insert((*k).into(), (*v).into());
            }
            package_purl(&p).to_string()
        };
        assert_eq!(
            mk(
                Ecosystem::SwiftURL,
                "github.com/apple/swift-nio",
                "2.64.0",
                &[]
            ),
            "pkg:swift/github.com/apple/swift-nio@2.64.0"
        );
        assert_eq!(
            mk(Ecosystem::CocoaPods, "GoogleUtilities", "7.12.0", &[]),
            "pkg:cocoapods/GoogleUtilities@7.12.0"
        );
        assert_eq!(
            mk(
                Ecosystem::Conda,
                "numpy",
                "2.2.1",
                &[
                    ("build", "py312h7e784f5_0"),
                    ("channel", "conda-forge"),
                    ("subdir", "linux-64"),
                    ("build_number", "0"),
                ]
            ),
            "pkg:conda/numpy@2.2.1?build=py312h7e784f5_0&channel=conda-forge&subdir=linux-64"
        );
        assert_eq!(
            mk(
                Ecosystem::Julia,
                "CSV",
                "0.10.14",
                &[("uuid", "336ed68f-0bac-5ca0-87d4-7b16caf5d00b")]
            ),
            "pkg:julia/CSV@0.10.14?uuid=336ed68f-0bac-5ca0-87d4-7b16caf5d00b"
        );
    }

    #[test]
    fn python_names_normalise() {
        assert_eq!(
            Ecosystem::PyPI.normalize_name("Foo__Bar.baz"),
            "foo-bar-baz"
        );
        assert_eq!(Ecosystem::PyPI.normalize_name("MarkupSafe"), "markupsafe");
    }
}
