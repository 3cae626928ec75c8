//! The OS side of the join: which distro the image is, and its packages from the final
//! dpkg, apk and rpm databases, each joined with its file list and licences (dpkg keeps
//! them in other files) and with the layer that introduced it (from the database's history).
//! A Debian image without os-release but with distroless's `status.d` is recognised from
//! its `base-files` package.

use super::group::Group;
use crate::analyzers::apk::INSTALLED as APK_INSTALLED;
use crate::analyzers::dpkg::{INFO_DIR, STATUS, STATUS_D};
use crate::analyzers::os_release::PATHS as OS_RELEASE_PATHS;
use crate::analyzers::rpm::{RPM_DIRS, RPM_FILES};
use crate::fact::Fact;
use crate::merge::{FoundFile, Merged, SymlinkLoop, introduced_layers};
use moat_model::{Code, Diagnostic, Location, Metadata, OsInfo, Package, Purl};
use moat_pkgdb::{apk::ApkPackage, dpkg::DpkgPackage, rpm::RpmPackage};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// The OS and one group per OS package manager (dpkg, apk, rpm), in that order.
pub(super) fn groups<'a>(
    m: &'a Merged,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Option<OsInfo>, Vec<Group<'a>>) {
    let mut os = detect_os(m, diagnostics);
    let mut groups: Vec<Group> = Vec::new();
    let mut dpkg = dpkg_packages(m, os.as_ref(), diagnostics);
    if os.is_none() {
        os = distroless_os(&dpkg);
        if let Some(os) = &os {
            // purls and ecosystems carry the distro: rebuild with it now known.
            dpkg = dpkg_packages(m, Some(os), &mut Vec::new());
        }
    }
    groups.push(dpkg);
    groups.push(apk_packages(m, os.as_ref()));
    groups.push(rpm_packages(m, os.as_ref(), diagnostics));
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
fn distroless_os(dpkg: &Group<'_>) -> Option<OsInfo> {
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

fn location(path: &str, layer: Option<usize>) -> Location {
    Location {
        path: format!("/{path}"),
        layer,
    }
}

/// What every OS package of one image shares: purl namespace, `distro` qualifier, ecosystem.
struct Distro {
    ns: String,
    distro: String,
    eco: Option<String>,
}

impl Distro {
    fn new(os: Option<&OsInfo>, ns: &str) -> Distro {
        Distro {
            ns: ns.to_string(),
            distro: distro_qualifier(os),
            eco: os_ecosystem(os),
        }
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

/// The parts of an OS package that differ between package managers.
struct OsPkg<'a> {
    kind: &'static str,
    id: String,
    name: String,
    version: String,
    purl: Purl,
    arch: Option<String>,
    epoch: Option<u32>,
    source_name: Option<String>,
    source_version: Option<String>,
    licenses: Vec<String>,
    files: Vec<String>,
    metadata: Metadata,
    /// Names the package answers to: its own, then what it provides.
    provides: Vec<Cow<'a, str>>,
    depends: Vec<Cow<'a, str>>,
}

impl<'a> Group<'a> {
    fn push(&mut self, d: &Distro, db_path: &str, layer: Option<usize>, p: OsPkg<'a>) {
        self.provides.push(p.provides);
        self.depends.push(p.depends);
        self.packages.push(Package {
            id: p.id,
            name: p.name,
            version: p.version,
            kind: p.kind.into(),
            purl: p.purl.to_string(),
            ecosystem: d.eco.clone(),
            arch: p.arch,
            epoch: p.epoch,
            source_name: p.source_name,
            source_version: p.source_version,
            licenses: p.licenses,
            layer,
            locations: vec![location(db_path, layer)],
            dev: false,
            application: false,
            file_count: (!p.files.is_empty()).then_some(p.files.len()),
            files: p.files,
            metadata: p.metadata,
        });
    }
}

/// Layer that introduced each package of the database at `path` (see [`introduced_layers`]).
fn layers_of<'a, K, V, F>(m: &'a Merged, path: &str, extract: F) -> HashMap<K, Option<usize>>
where
    K: std::hash::Hash + Eq + Clone,
    V: PartialEq,
    F: Fn(&'a Fact) -> Vec<(K, V)>,
{
    introduced_layers(m.history(path), extract)
}

/// Metadata from the fields that are present.
fn metadata<const N: usize>(pairs: [(&str, Option<String>); N]) -> Metadata {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
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
fn names<'a>(name: &'a str, more: impl IntoIterator<Item = &'a str>) -> Vec<Cow<'a, str>> {
    std::iter::once(name)
        .chain(more)
        .map(Cow::Borrowed)
        .collect()
}

/// Names as they are written in the database.
fn borrowed(names: &[String]) -> Vec<Cow<'_, str>> {
    names.iter().map(|n| Cow::Borrowed(n.as_str())).collect()
}

/// The dpkg database of a file's facts.
fn dpkg_db(f: &Fact) -> Option<&Vec<DpkgPackage>> {
    match f {
        Fact::Dpkg(p) => Some(&p.packages),
        _ => None,
    }
}

fn dpkg_packages<'a>(
    m: &'a Merged,
    os: Option<&OsInfo>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Group<'a> {
    let mut g = Group::default();
    // file lists: (name, arch) -> files; distroless md5sums: name -> files
    let mut lists: HashMap<(String, Option<String>), &Vec<String>> = HashMap::new();
    for prefix in [INFO_DIR, STATUS_D] {
        for (_, _, f) in m.files_under(prefix) {
            for fact in f.facts() {
                if let Fact::DpkgFiles {
                    package,
                    arch,
                    files,
                } = fact
                {
                    lists.insert((package.clone(), arch.clone()), files);
                }
            }
        }
    }
    let mut dbs: Vec<(String, &Vec<DpkgPackage>)> = Vec::new();
    if let Some(found) = lookup(m, STATUS, diagnostics)
        && let Some(db) = found.facts.find(dpkg_db)
    {
        dbs.push((found.path, db));
    }
    for (path, _, f) in m.files_under(STATUS_D) {
        if let Some(db) = f.find(dpkg_db) {
            dbs.push((path.to_string(), db));
        }
    }
    let ns = os
        .filter(|o| o.family == "debian")
        .map(|o| o.id.as_str())
        .unwrap_or("debian");
    let d = Distro::new(os, ns);
    let mut seen = HashSet::new();
    for (path, pkgs) in dbs {
        let layers = layers_of(m, &path, |f| match f {
            Fact::Dpkg(p) => p
                .packages
                .iter()
                .map(|p| ((p.name.as_str(), p.arch.as_deref()), p.version.as_str()))
                .collect(),
            _ => vec![],
        });
        for p in pkgs {
            if !seen.insert((p.name.as_str(), p.version.as_str(), p.arch.as_deref())) {
                continue;
            }
            let layer = layers
                .get(&(p.name.as_str(), p.arch.as_deref()))
                .copied()
                .flatten();
            let mut purl = d.purl("deb", &p.name, &p.version, p.arch.as_deref());
            if let Some(src) = &p.source_name
                && src != &p.name
            {
                let up = match &p.source_version {
                    Some(sv) if sv != &p.version => format!("{src}@{sv}"),
                    _ => src.clone(),
                };
                purl = purl.with_qualifier("upstream", up);
            }
            let files: Vec<String> = lists
                .get(&(p.name.clone(), p.arch.clone()))
                .or_else(|| lists.get(&(p.name.clone(), None)))
                .map(|f| f.to_vec())
                .unwrap_or_default();
            let licenses = match m.file(&format!("usr/share/doc/{}/copyright", p.name)) {
                Ok(Some(found)) => found
                    .facts
                    .find(|f| match f {
                        Fact::Copyright { licenses, .. } => Some(licenses.clone()),
                        _ => None,
                    })
                    .unwrap_or_default(),
                _ => vec![],
            };
            let pkg = OsPkg {
                kind: "deb",
                id: package_id("deb", &p.name, &p.version, ':', p.arch.as_deref()),
                name: p.name.clone(),
                version: p.version.clone(),
                purl,
                arch: p.arch.clone(),
                epoch: p.version.split_once(':').and_then(|(e, _)| e.parse().ok()),
                source_name: p.source_name.clone().or_else(|| Some(p.name.clone())),
                source_version: p.source_version.clone().or_else(|| Some(p.version.clone())),
                licenses,
                files,
                metadata: metadata([
                    ("maintainer", p.maintainer.clone()),
                    (
                        "installed_size_kib",
                        p.installed_size.map(|s| s.to_string()),
                    ),
                ]),
                provides: names(&p.name, p.provides.iter().map(String::as_str)),
                depends: borrowed(&p.depends),
            };
            g.push(&d, &path, layer, pkg);
        }
    }
    g
}

fn apk_packages<'a>(m: &'a Merged, os: Option<&OsInfo>) -> Group<'a> {
    let mut g = Group::default();
    let Ok(Some(found)) = m.file(APK_INSTALLED) else {
        return g;
    };
    let Some(parsed) = found.facts.find(|f| match f {
        Fact::Apk(p) => Some(p),
        _ => None,
    }) else {
        return g;
    };
    let real = found.path;
    let layers = layers_of(m, &real, |f| match f {
        Fact::Apk(p) => p
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect(),
        _ => vec![],
    });
    let d = Distro::new(os, os.map(|o| o.id.as_str()).unwrap_or("alpine"));
    for p in &parsed.packages {
        let p: &ApkPackage = p;
        let layer = layers.get(p.name.as_str()).copied().flatten();
        let mut purl = d.purl("apk", &p.name, &p.version, p.arch.as_deref());
        if let Some(o) = &p.origin
            && o != &p.name
        {
            purl = purl.with_qualifier("upstream", o);
        }
        let provided = p
            .provides
            .iter()
            .map(|x| x.split(['=', '<', '>', '~']).next().unwrap_or(x));
        let pkg = OsPkg {
            kind: "apk",
            id: format!("apk:{}@{}", p.name, p.version),
            name: p.name.clone(),
            version: p.version.clone(),
            purl,
            arch: p.arch.clone(),
            epoch: None,
            source_name: p.origin.clone().or_else(|| Some(p.name.clone())),
            source_version: Some(p.version.clone()),
            licenses: p.license.iter().cloned().collect(),
            files: p.files.clone(),
            metadata: metadata([
                ("maintainer", p.maintainer.clone()),
                ("checksum", p.checksum.clone()),
            ]),
            provides: names(&p.name, provided),
            depends: borrowed(&p.depends),
        };
        g.push(&d, &real, layer, pkg);
    }
    g
}

fn rpm_packages<'a>(
    m: &'a Merged,
    os: Option<&OsInfo>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Group<'a> {
    let mut g = Group::default();
    let mut found = None;
    'outer: for dir in RPM_DIRS {
        for file in RPM_FILES {
            if let Some(f) = lookup(m, &format!("{dir}{file}"), diagnostics)
                && let Some(parsed) = f.facts.find(|f| match f {
                    Fact::Rpm(p) => Some(p),
                    _ => None,
                })
            {
                found = Some((f.path, parsed));
                break 'outer;
            }
        }
    }
    let Some((real, parsed)) = found else {
        return g;
    };
    let layers = layers_of(m, &real, |f| match f {
        Fact::Rpm(p) => p
            .packages
            .iter()
            .map(|p| ((p.name.clone(), p.arch.clone()), p.evr()))
            .collect(),
        _ => vec![],
    });
    let d = Distro::new(os, os.map(|o| o.id.as_str()).unwrap_or("redhat"));
    for p in &parsed.packages {
        let p: &RpmPackage = p;
        let layer = layers
            .get(&(p.name.clone(), p.arch.clone()))
            .copied()
            .flatten();
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
        let pkg = OsPkg {
            kind: "rpm",
            id: package_id("rpm", &p.name, &p.evr(), '.', p.arch.as_deref()),
            name: p.name.clone(),
            version: p.evr(),
            purl,
            arch: p.arch.clone(),
            epoch: p.epoch,
            source_name: source.as_ref().map(|s| s.0.clone()),
            source_version: source.map(|s| s.1),
            licenses: p.license.iter().cloned().collect(),
            files: p.files.clone(),
            metadata: metadata([
                ("vendor", p.vendor.clone()),
                ("modularity_label", p.modularity_label.clone()),
            ]),
            // rpm requires name capabilities and files as well as packages
            provides: names(
                &p.name,
                p.provides.iter().chain(&p.files).map(String::as_str),
            ),
            depends: borrowed(&p.requires),
        };
        g.push(&d, &real, layer, pkg);
    }
    g
}
