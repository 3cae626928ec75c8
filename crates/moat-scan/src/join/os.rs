//! The OS side of the join: which distro the image is, and its packages from the final
//! dpkg, apk and rpm databases, each joined with its file list and licences (dpkg keeps
//! them in other files) and with the layer that introduced it (from the database's history).
//! A Debian image without os-release but with distroless's `status.d` is recognised from
//! its `base-files` package.

use super::group::Group;
use crate::analyzers::apk::INSTALLED as APK_INSTALLED;
use crate::analyzers::dpkg::{INFO_DIR, STATUS, STATUS_D};
use crate::analyzers::os_release::PATHS as OS_RELEASE_PATHS;
use crate::analyzers::rpm::{RPM_DIRS, RPM_FILES, RPM_MANIFEST};
use crate::fact::Fact;
use crate::merge::{FoundFile, Introduced, Merged, SymlinkLoop, introduced_layers};
use moat_model::{
    Code, Diagnostic, Interner, Lists, Location, Metadata, OsInfo, Package, PackageFiles,
    PackageUrl, Purl, PurlForm, Str, Upstream,
};
use moat_pkgdb::{apk::Installed, dpkg::DpkgPackage, rpm::RpmPackage};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The packages of one OS package manager, with the owners of the files the ownership join
/// asks about (`wanted`: the metadata files of language packages). Only those paths are
/// kept (borrowed from the facts, or taken from a database consumed by the join): a
/// million packages' file lists, and a map of them all, were about 100 MB.
pub(super) struct OsGroup<'a> {
    pub group: Group,
    /// (path, index of its package in `group`), in the order of the packages and of each
    /// package's file list.
    pub owned: Vec<(Cow<'a, str>, usize)>,
    wanted: &'a HashSet<Str>,
    /// One licence list and one location list per distinct one (shared by the packages).
    licenses: Lists<Str>,
    locations: Lists<Location>,
}

/// The OS and one group per OS package manager (dpkg, apk, rpm), in that order. The dpkg
/// `status` and apk databases were taken out of the view before ([`take_dpkg`],
/// [`take_apk`]) and are consumed as their packages are built.
/// `wanted`: the paths whose owners the ownership join needs ([`OsGroup::owned`]).
/// `files`: where every package's file list is kept, when asked (`--package-files`; the
/// group's [`Group::files`] say which are whose).
pub(super) fn groups<'a>(
    m: &'a Merged,
    dpkg: Option<DpkgDb>,
    apk: Option<ApkDb>,
    wanted: &'a HashSet<Str>,
    mut files: Option<&mut PackageFiles>,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Option<OsInfo>, Vec<OsGroup<'a>>) {
    let mut os = detect_os(m, diagnostics);
    let mut groups: Vec<OsGroup> = Vec::new();
    // one interner for the strings all packages of the scan repeat (kind, ecosystem,
    // database path, metadata keys and values): the packages share them
    let mut s = Interner::new();
    let mut dpkg = dpkg_packages(m, dpkg, os.as_ref(), wanted, &mut s, diagnostics);
    if os.is_none() {
        os = distroless_os(&dpkg);
        if let Some(os) = &os {
            // purls and ecosystems carry the distro: rebuild with it now known.
            dpkg = dpkg_packages(m, None, Some(os), wanted, &mut s, &mut Vec::new());
        }
    }
    // the file lists are kept once the group is final (the dpkg one may be built twice)
    if let Some(files) = files.as_deref_mut() {
        dpkg_files(m, &mut dpkg.group, files);
    }
    groups.push(dpkg);
    groups.push(apk_packages(
        apk,
        os.as_ref(),
        wanted,
        &mut s,
        files.as_deref_mut(),
    ));
    groups.push(rpm_packages(
        m,
        os.as_ref(),
        wanted,
        &mut s,
        files,
        diagnostics,
    ));
    (os, groups)
}

/// The final file at `path`, or a `symlink-loop` diagnostic on the way there.
fn lookup<'a>(
    m: &'a Merged,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<FoundFile<'a>> {
    m.file(path).unwrap_or_else(|e: SymlinkLoop| {
        diagnostics
            .push(Diagnostic::new(Code::SymlinkLoop, e.to_string()).at(format!("/{path}"), None));
        None
    })
}

fn detect_os(m: &Merged, diagnostics: &mut Vec<Diagnostic>) -> Option<OsInfo> {
    for p in OS_RELEASE_PATHS {
        if let Some(found) = lookup(m, p, diagnostics)
            && let Some(os) = found.facts.find(|f| match f {
                Fact::OsRelease(os) => Some(os),
                _ => None,
            })
        {
            return Some(os.clone());
        }
    }
    for p in moat_pkgdb::osrelease::MARKER_FILES {
        if let Ok(Some(found)) = m.file(p)
            && let Some(os) = found.facts.find(|f| match f {
                Fact::OsMarker(os) => Some(os),
                _ => None,
            })
        {
            return Some(os.clone());
        }
    }
    None
}

/// A Debian image without os-release but with `status.d` is distroless: the release
/// comes from base-files' version (`12.4+deb12u5` is Debian 12).
fn distroless_os(dpkg: &OsGroup<'_>) -> Option<OsInfo> {
    let dpkg = &dpkg.group;
    if dpkg.packages.is_empty()
        || !dpkg
            .packages
            .iter()
            .any(|p| p.locations.iter().any(|l| l.path.contains("/status.d/")))
    {
        return None;
    }
    let version = dpkg
        .packages
        .iter()
        .find(|p| p.name == "base-files")
        .and_then(|p| p.version.split(['.', '+', '-']).next().map(str::to_string))
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()));
    let name = match &version {
        Some(v) => format!("Debian GNU/Linux {v} (distroless)"),
        None => "Debian GNU/Linux (distroless)".into(),
    };
    Some(OsInfo {
        id: "debian".into(),
        family: "debian".into(),
        version,
        codename: None,
        name,
        distroless: true,
    })
}

/// The `distro` purl qualifier: `debian-12`, `alpine-3.19.1`.
fn distro_qualifier(os: Option<&OsInfo>) -> String {
    match os {
        Some(o) => match &o.version {
            Some(v) => format!("{}-{}", o.id, v),
            None => o.id.clone(),
        },
        None => String::new(),
    }
}

/// The OSV ecosystem name for OS packages of this distro, where OSV has one.
fn os_ecosystem(os: Option<&OsInfo>) -> Option<String> {
    let o = os?;
    moat_model::os_ecosystem(&o.id, o.version.as_deref())
}

/// What every OS package of one image shares: purl namespace, `distro` qualifier, ecosystem.
struct Distro {
    ns: String,
    distro: String,
    eco: Option<Str>,
}

impl Distro {
    fn new(os: Option<&OsInfo>, ns: &str, s: &mut Interner) -> Distro {
        Distro {
            ns: ns.to_string(),
            distro: distro_qualifier(os),
            eco: os_ecosystem(os).map(|e| s.get(&e)),
        }
    }

    /// The purl form of the packages of a database of type `ty`: [`Distro::purl`] with the
    /// source package as `upstream`, made from each package's fields when asked.
    fn form(&self, ty: &str, upstream: Upstream) -> PackageUrl {
        PackageUrl::derived(Arc::new(PurlForm {
            ty: ty.to_ascii_lowercase(),
            namespace: self.ns.clone(),
            distro: self.distro.clone(),
            upstream,
        }))
    }

    /// `pkg:TYPE/NS/NAME@VERSION?arch=..&distro=..`; callers add type-specific qualifiers.
    fn purl(&self, ty: &str, name: &str, version: &str, arch: Option<&str>) -> Purl {
        Purl::new(ty, name)
            .with_namespace(self.ns.as_str())
            .with_version(version)
            .with_qualifier("arch", arch.unwrap_or_default())
            .with_qualifier("distro", self.distro.as_str())
    }
}

/// The parts of an OS package that differ between package managers. Its strings are the
/// database facts' own (shared, not copied) or interned.
struct OsPkg<'a> {
    id: String,
    name: Str,
    version: Str,
    purl: PackageUrl,
    arch: Option<Str>,
    epoch: Option<u32>,
    source_name: Option<Str>,
    source_version: Option<Str>,
    licenses: Vec<Str>,
    files: Files<'a>,
    metadata: Metadata,
    /// Names the package answers to: its own, then what it provides.
    provides: Vec<Str>,
    depends: Vec<Str>,
}

/// The files of a package: how many, and those the ownership join asks about.
struct Files<'a> {
    count: usize,
    wanted: Vec<Cow<'a, str>>,
}

/// Where the packages of one database were found: its kind and path, shared by them all.
struct Db {
    kind: Str,
    path: Str,
}

impl Db {
    fn new(kind: &str, path: &str, s: &mut Interner) -> Db {
        Db {
            kind: s.get(kind),
            path: s.get(&format!("/{path}")),
        }
    }
}

impl<'a> OsGroup<'a> {
    fn new(wanted: &'a HashSet<Str>) -> OsGroup<'a> {
        OsGroup {
            group: Group::default(),
            owned: Vec::new(),
            wanted,
            licenses: Lists::new(),
            locations: Lists::new(),
        }
    }

    /// The files of a package, from a list the group may borrow.
    fn borrowed(&self, files: &'a [String]) -> Files<'a> {
        let wanted = match self.wanted.is_empty() {
            true => Vec::new(),
            false => files
                .iter()
                .filter(|f| self.wanted.contains(f.as_str()))
                .map(|f| Cow::Borrowed(f.as_str()))
                .collect(),
        };
        Files {
            count: files.len(),
            wanted,
        }
    }

    /// The files of a package, from a list that goes away (the wanted ones copied).
    fn copied<'s>(&self, files: impl Iterator<Item = &'s str>) -> Files<'a> {
        let mut count = 0;
        let mut wanted = Vec::new();
        for f in files {
            count += 1;
            if self.wanted.contains(f) {
                wanted.push(Cow::Owned(f.to_string()));
            }
        }
        Files { count, wanted }
    }

    /// Keeps `paths` as the file list of the next package pushed, when `files` is given.
    fn keep_files<'s>(
        &mut self,
        files: Option<&mut PackageFiles>,
        paths: impl IntoIterator<Item = &'s str>,
    ) {
        if let Some(files) = files {
            let added = files.add(paths);
            self.group.files.push((self.group.packages.len(), added));
        }
    }

    /// Room for `n` more packages providing `provides` and depending on `depends` names
    /// in all (exact sizes: a million packages grown by doubling waste up to half).
    fn reserve(&mut self, n: usize, provides: usize, depends: usize) {
        self.group.packages.reserve_exact(n);
        self.group.provides.reserve(n, provides);
        self.group.depends.reserve(n, depends);
    }

    fn push(&mut self, d: &Distro, db: &Db, layer: Option<usize>, p: OsPkg<'a>) {
        self.group.provides.push(p.provides);
        self.group.depends.push(p.depends);
        let file_count = u32::try_from(p.files.count).ok().filter(|&n| n > 0);
        let i = self.group.packages.len();
        self.owned
            .extend(p.files.wanted.into_iter().map(|f| (f, i)));
        let licenses = self.licenses.get(&p.licenses);
        let locations = self.locations.get(&[Location {
            path: db.path.clone(),
            layer,
        }]);
        self.group.packages.push(Package {
            id: p.id.into(),
            name: p.name,
            version: p.version,
            kind: db.kind.clone(),
            purl: p.purl,
            ecosystem: d.eco.clone(),
            arch: p.arch,
            epoch: p.epoch,
            source_name: p.source_name,
            source_version: p.source_version,
            licenses,
            layer: layer.and_then(|l| u32::try_from(l).ok()),
            locations,
            dev: false,
            application: false,
            file_count,
            metadata: p.metadata,
        });
    }
}

/// Layer that introduced each package of the database at `path` (see [`introduced_layers`]).
fn layers_of<'a, K, V, F>(m: &'a Merged, path: &str, extract: F) -> Introduced<K>
where
    K: std::hash::Hash + Eq + Clone,
    V: PartialEq,
    F: Fn(&'a Fact) -> Vec<(K, V)>,
{
    introduced_layers(m.history(path), extract)
}

/// Metadata from the fields that are present, keys interned.
fn metadata<const N: usize>(s: &mut Interner, pairs: [(&str, Option<Str>); N]) -> Metadata {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((s.get(k), v?)))
        .collect()
}

/// `KIND:NAME@VERSION`, then the architecture after `sep` where known (`deb:bash@5.2:amd64`,
/// `rpm:bash@5.1-6.el9.x86_64`).
fn package_id(kind: &str, name: &str, version: &str, sep: char, arch: Option<&str>) -> String {
    match arch {
        Some(a) => format!("{kind}:{name}@{version}{sep}{a}"),
        None => format!("{kind}:{name}@{version}"),
    }
}

/// Package names with their own name first.
fn names(name: &Str, more: impl IntoIterator<Item = Str>) -> Vec<Str> {
    std::iter::once(name.clone()).chain(more).collect()
}

/// The (name, version, architecture) of the dpkg packages built so far, to skip a repeated
/// one: by hash, to the index of the package built from it (no copies, and nothing borrowed
/// from the databases, which the join may consume); equal hashes compare the packages.
#[derive(Default)]
struct Seen {
    hasher: std::hash::RandomState,
    first: HashMap<u64, usize>,
    collided: Vec<(u64, usize)>,
}

impl Seen {
    /// Whether `p` is new; if so, it is noted as `built[built.len()]` (the caller builds it).
    fn insert(&mut self, built: &[Package], p: &DpkgPackage) -> bool {
        use std::hash::BuildHasher;
        let key = (&*p.name, &*p.version, p.arch.as_deref());
        let h = self.hasher.hash_one(key);
        let same = |i: usize| {
            built
                .get(i)
                .is_some_and(|b| (&*b.name, &*b.version, b.arch.as_deref()) == key)
        };
        match self.first.get(&h) {
            None => {
                self.first.insert(h, built.len());
                true
            }
            Some(&i) if same(i) => false,
            Some(_) if self.collided.iter().any(|&(c, i)| c == h && same(i)) => false,
            Some(_) => {
                self.collided.push((h, built.len()));
                true
            }
        }
    }
}

/// The dpkg database of a file's facts.
fn dpkg_db(f: &Fact) -> Option<&Vec<DpkgPackage>> {
    match f {
        Fact::Dpkg(p) => Some(&p.packages),
        _ => None,
    }
}

/// The layer that introduced each package of the dpkg database at `path`.
fn dpkg_layers(m: &Merged, path: &str) -> Introduced<(Str, Option<Str>)> {
    layers_of(m, path, |f| match f {
        Fact::Dpkg(p) => p
            .packages
            .iter()
            .map(|p| ((p.name.clone(), p.arch.clone()), &*p.version))
            .collect(),
        _ => vec![],
    })
}

/// The dpkg `status` database, owned: its path, its packages and the layer that introduced
/// each (by name and architecture).
pub(super) struct DpkgDb {
    path: String,
    packages: Vec<DpkgPackage>,
    layers: Introduced<(Str, Option<Str>)>,
}

/// Takes the dpkg `status` database out of the view ([`Merged::take_from`]), when the image
/// has an os-release (without one, the packages may be built twice: see [`groups`]).
pub(super) fn take_dpkg(m: &mut Merged) -> Option<DpkgDb> {
    detect_os(m, &mut Vec::new())?;
    let path = {
        let found = m.file(STATUS).ok().flatten()?;
        found.facts.find(dpkg_db)?;
        found.path
    };
    let layers = dpkg_layers(m, &path);
    let packages = m.take_from(&path, |f| match f {
        Fact::Dpkg(p) => Some(std::mem::take(&mut p.packages)),
        _ => None,
    })?;
    Some(DpkgDb {
        path,
        packages,
        layers,
    })
}

/// A dpkg database for [`dpkg_packages`]: taken out of the view, or read in place.
enum DpkgSource<'a> {
    Owned(Vec<DpkgPackage>),
    Borrowed(&'a [DpkgPackage]),
}

fn dpkg_packages<'a>(
    m: &'a Merged,
    status: Option<DpkgDb>,
    os: Option<&OsInfo>,
    wanted: &'a HashSet<Str>,
    s: &mut Interner,
    diagnostics: &mut Vec<Diagnostic>,
) -> OsGroup<'a> {
    let mut g = OsGroup::new(wanted);
    let lists = dpkg_lists(m);
    type Layers = Introduced<(Str, Option<Str>)>;
    let mut dbs: Vec<(String, DpkgSource<'a>, Layers)> = Vec::new();
    if let Some(found) = lookup(m, STATUS, diagnostics)
        && let Some(db) = found.facts.find(dpkg_db)
    {
        dbs.push(match status {
            Some(own) if own.path == found.path => {
                (own.path, DpkgSource::Owned(own.packages), own.layers)
            }
            _ => {
                let layers = dpkg_layers(m, &found.path);
                (found.path, DpkgSource::Borrowed(db), layers)
            }
        });
    }
    for (path, _, f) in m.files_under(STATUS_D) {
        if let Some(db) = f.find(dpkg_db) {
            dbs.push((
                path.to_string(),
                DpkgSource::Borrowed(db),
                dpkg_layers(m, path),
            ));
        }
    }
    let ns = os
        .filter(|o| o.family == "debian")
        .map(|o| o.id.as_str())
        .unwrap_or("debian");
    let d = Distro::new(os, ns, s);
    let form = d.form("deb", Upstream::SourceAtVersion);
    let mut seen = Seen::default();
    for (path, src, layers) in dbs {
        let db = Db::new("deb", &path, s);
        let pkgs: &[DpkgPackage] = match &src {
            DpkgSource::Owned(v) => v,
            DpkgSource::Borrowed(v) => v,
        };
        let provides = pkgs.iter().map(|p| 1 + p.provides.len()).sum();
        g.reserve(
            pkgs.len(),
            provides,
            pkgs.iter().map(|p| p.depends.len()).sum(),
        );
        let mut one = |p: &DpkgPackage| {
            if !seen.insert(&g.group.packages, p) {
                return;
            }
            let layer = layers.get(&(p.name.clone(), p.arch.clone()));
            let files = g.borrowed(dpkg_list(&lists, &p.name, p.arch.as_deref()));
            let licenses = match m.file(&format!("usr/share/doc/{}/copyright", p.name)) {
                Ok(Some(found)) => found
                    .facts
                    .find(|f| match f {
                        Fact::Copyright { licenses, .. } => Some(licenses.as_slice()),
                        _ => None,
                    })
                    .unwrap_or_default()
                    .iter()
                    .map(|l| s.get(l))
                    .collect(),
                _ => vec![],
            };
            let size = p.installed_size.map(|n| s.get(&n.to_string()));
            let pkg = OsPkg {
                id: package_id("deb", &p.name, &p.version, ':', p.arch.as_deref()),
                name: p.name.clone(),
                version: p.version.clone(),
                // `upstream`: the source (`@VERSION` when it differs), from the fields below
                purl: form.clone(),
                arch: p.arch.clone(),
                epoch: p.version.split_once(':').and_then(|(e, _)| e.parse().ok()),
                source_name: p.source_name.clone().or_else(|| Some(p.name.clone())),
                source_version: p.source_version.clone().or_else(|| Some(p.version.clone())),
                licenses,
                files,
                metadata: metadata(
                    s,
                    [
                        ("maintainer", p.maintainer.clone()),
                        ("installed_size_kib", size),
                    ],
                ),
                provides: names(&p.name, p.provides.iter().cloned()),
                depends: p.depends.clone(),
            };
            g.push(&d, &db, layer, pkg);
        };
        match src {
            DpkgSource::Borrowed(pkgs) => pkgs.iter().for_each(one),
            // each record freed once its package is made
            DpkgSource::Owned(all) => moat_model::consume(all).for_each(|p| one(&p)),
        }
    }
    g
}

/// The dpkg file lists of the view: (name, arch) -> files (`info/*.list`); distroless
/// `status.d/*.md5sums`: (name, None) -> files.
fn dpkg_lists(m: &Merged) -> HashMap<(&str, Option<&str>), &[String]> {
    let mut lists: HashMap<(&str, Option<&str>), &[String]> = HashMap::new();
    for prefix in [INFO_DIR, STATUS_D] {
        for (_, _, f) in m.files_under(prefix) {
            for fact in f.facts() {
                if let Fact::DpkgFiles {
                    package,
                    arch,
                    files,
                } = fact
                {
                    lists.insert((package.as_str(), arch.as_deref()), files);
                }
            }
        }
    }
    lists
}

/// The file list of the dpkg package `name` (of `arch`, else of any architecture).
fn dpkg_list<'a>(
    lists: &HashMap<(&str, Option<&str>), &'a [String]>,
    name: &str,
    arch: Option<&str>,
) -> &'a [String] {
    lists
        .get(&(name, arch))
        .or_else(|| lists.get(&(name, None)))
        .copied()
        .unwrap_or_default()
}

/// Keeps the file list of every package of the dpkg group (`--package-files`), as
/// [`dpkg_packages`] counted it.
fn dpkg_files(m: &Merged, g: &mut Group, files: &mut PackageFiles) {
    let lists = dpkg_lists(m);
    for (i, p) in g.packages.iter().enumerate() {
        let list = dpkg_list(&lists, &p.name, p.arch.as_deref());
        if !list.is_empty() {
            let added = files.add(list.iter().map(String::as_str));
            g.files.push((i, added));
        }
    }
}

/// The apk database of the final view, owned: its path, its packages and the layer that
/// introduced each (by name).
pub(super) struct ApkDb {
    path: String,
    db: Installed,
    layers: Introduced<Str>,
}

/// Takes the apk database out of the view ([`Merged::take_from`]; a copy when its facts are
/// shared beyond it).
pub(super) fn take_apk(m: &mut Merged) -> Option<ApkDb> {
    let apk = |f: &Fact| matches!(f, Fact::Apk(_));
    let path = {
        let found = m.file(APK_INSTALLED).ok().flatten()?;
        found.facts.find(|f| apk(f).then_some(()))?;
        found.path
    };
    let layers = layers_of(m, &path, |f| match f {
        Fact::Apk(p) => p
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect(),
        _ => vec![],
    });
    let db = match m.take_from(&path, |f| match f {
        Fact::Apk(p) => Some(p.take_packages()),
        _ => None,
    }) {
        Some(taken) => taken,
        None => m.file(&path).ok().flatten()?.facts.find(|f| match f {
            Fact::Apk(p) => Some(p.clone()),
            _ => None,
        })?,
    };
    Some(ApkDb { path, db, layers })
}

/// The apk group, consuming the database: each record is freed as its package is made
/// (its strings move into the package, its file list into the group).
fn apk_packages<'a>(
    db: Option<ApkDb>,
    os: Option<&OsInfo>,
    wanted: &'a HashSet<Str>,
    s: &mut Interner,
    mut files: Option<&mut PackageFiles>,
) -> OsGroup<'a> {
    let mut g = OsGroup::new(wanted);
    let Some(ApkDb {
        path: real,
        db: mut lists,
        layers,
    }) = db
    else {
        return g;
    };
    let all = std::mem::take(&mut lists.packages);
    let d = Distro::new(os, os.map(|o| o.id.as_str()).unwrap_or("alpine"), s);
    let db = Db::new("apk", &real, s);
    let form = d.form("apk", Upstream::Source);
    let provides = all.iter().map(|p| 1 + lists.provides(p).len()).sum();
    g.reserve(
        all.len(),
        provides,
        all.iter().map(|p| lists.depends(p).len()).sum(),
    );
    for p in moat_model::consume(all) {
        let layer = layers.get(&*p.name);
        let provided =
            lists
                .provides(&p)
                .iter()
                .map(|x| match x.split(['=', '<', '>', '~']).next() {
                    Some(n) if n.len() < x.len() => s.get(n),
                    _ => x.clone(),
                });
        let provided: Vec<Str> = provided.collect();
        g.keep_files(files.as_deref_mut(), lists.files(&p));
        let (files, depends) = (g.copied(lists.files(&p)), lists.depends(&p).to_vec());
        let pkg = OsPkg {
            id: format!("apk:{}@{}", p.name, p.version),
            // `upstream`: the origin, from `source_name` below
            purl: form.clone(),
            arch: p.arch,
            epoch: None,
            source_name: p.origin.or_else(|| Some(p.name.clone())),
            source_version: Some(p.version.clone()),
            licenses: p.license.into_iter().collect(),
            files,
            metadata: metadata(s, [("maintainer", p.maintainer), ("checksum", p.checksum)]),
            provides: names(&p.name, provided),
            depends,
            name: p.name,
            version: p.version,
        };
        g.push(&d, &db, layer, pkg);
    }
    g
}

fn rpm_packages<'a>(
    m: &'a Merged,
    os: Option<&OsInfo>,
    wanted: &'a HashSet<Str>,
    s: &mut Interner,
    mut files: Option<&mut PackageFiles>,
    diagnostics: &mut Vec<Diagnostic>,
) -> OsGroup<'a> {
    let mut g = OsGroup::new(wanted);
    let mut found = None;
    // the databases first; a distroless CBL-Mariner / Azure Linux image's manifest else
    let candidates = RPM_DIRS
        .iter()
        .flat_map(|dir| RPM_FILES.iter().map(move |file| format!("{dir}{file}")))
        .chain(std::iter::once(RPM_MANIFEST.to_string()));
    for path in candidates {
        if let Some(f) = lookup(m, &path, diagnostics)
            && let Some(parsed) = f.facts.find(|f| match f {
                Fact::Rpm(p) => Some(p),
                _ => None,
            })
        {
            found = Some((f.path, parsed));
            break;
        }
    }
    let Some((real, parsed)) = found else {
        return g;
    };
    let layers = layers_of(m, &real, |f| match f {
        Fact::Rpm(p) => p
            .packages
            .iter()
            .map(|p| ((p.name.as_str(), p.arch.as_deref()), p.evr()))
            .collect(),
        _ => vec![],
    });
    let d = Distro::new(os, os.map(|o| o.id.as_str()).unwrap_or("redhat"), s);
    let db = Db::new("rpm", &real, s);
    for p in &parsed.packages {
        let p: &RpmPackage = p;
        let layer = layers.get(&(p.name.as_str(), p.arch.as_deref()));
        let version_release = format!("{}-{}", p.version, p.release);
        let mut purl = d.purl("rpm", &p.name, &version_release, p.arch.as_deref());
        if let Some(e) = p.epoch {
            purl = purl.with_qualifier("epoch", e.to_string());
        }
        if let Some(srpm) = &p.source_rpm {
            purl = purl.with_qualifier("upstream", srpm);
        }
        let source = p
            .source_rpm
            .as_deref()
            .and_then(moat_model::version::rpm::split_source_rpm);
        let vendor = s.opt(p.vendor.as_deref());
        let label = s.opt(p.modularity_label.as_deref());
        g.keep_files(files.as_deref_mut(), p.files.iter().map(String::as_str));
        let pkg = OsPkg {
            id: package_id("rpm", &p.name, &p.evr(), '.', p.arch.as_deref()),
            name: p.name.as_str().into(),
            version: p.evr().into(),
            purl: PackageUrl::text(purl.to_string()),
            arch: s.opt(p.arch.as_deref()),
            epoch: p.epoch,
            source_name: source.as_ref().map(|(n, _)| s.get(n)),
            source_version: source.as_ref().map(|(_, v)| s.get(v)),
            licenses: p.license.iter().map(|l| s.get(l)).collect(),
            files: g.borrowed(&p.files),
            metadata: metadata(s, [("vendor", vendor), ("modularity_label", label)]),
            // rpm requires name capabilities and files as well as packages
            provides: std::iter::once(&p.name)
                .chain(&p.provides)
                .chain(&p.files)
                .map(|n| s.get(n))
                .collect(),
            depends: p.requires.iter().map(|n| s.get(n)).collect(),
        };
        g.push(&d, &db, layer, pkg);
    }
    g
}
