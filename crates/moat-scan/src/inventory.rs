//! The join after the merge: OS detection, packages from the final databases, file
//! ownership, licences, dependency edges, and the layer that introduced each package.

use crate::analyzers::{Fact, RPM_DIRS, RPM_FILES};
use crate::merge::{Merged, introduced_layers};
use moat_model::{
    Code, Diagnostic, Location, OsInfo, Package, Purl, Relationship, RelationshipKind,
};
use moat_pkgdb::{apk::ApkPackage, dpkg::DpkgPackage, rpm::RpmPackage};
use std::collections::{BTreeMap, HashMap, HashSet};

pub struct Built {
    pub os: Option<OsInfo>,
    pub packages: Vec<Package>,
    pub relationships: Vec<Relationship>,
    pub warnings: Vec<Diagnostic>,
}

/// Builds packages and relationships from the merged view.
pub fn build(m: &Merged, skip_dev: bool) -> Built {
    let mut warnings = Vec::new();
    collect_fact_warnings(m, &mut warnings);
    let mut os = detect_os(m, &mut warnings);
    let mut groups: Vec<Group> = Vec::new();
    groups.push(dpkg_packages(m, os.as_ref(), &mut warnings));
    if os.is_none() {
        os = distroless_os(&groups[0]);
        if let Some(os) = &os {
            // purls and ecosystems carry the distro: rebuild with it now known.
            groups[0] = dpkg_packages(m, Some(os), &mut Vec::new());
        }
    }
    groups.push(apk_packages(m, os.as_ref()));
    groups.push(rpm_packages(m, os.as_ref(), &mut warnings));

    // Language packages; those whose metadata an OS package owns stay with the OS package.
    let mut notes: Vec<(usize, String)> = Vec::new();
    let lang_groups = {
        let mut owners: HashMap<&str, usize> = HashMap::new();
        for (i, p) in groups.iter().flat_map(|g| g.packages.iter()).enumerate() {
            for f in &p.files {
                owners.insert(f.as_str(), i);
            }
        }
        crate::lang::build(m, &owners, skip_dev, &mut notes, &mut warnings)
    };
    groups.extend(lang_groups);

    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    let mut used_ids: HashSet<String> = HashSet::new();
    for g in groups {
        let mut ids = Vec::with_capacity(g.packages.len());
        for mut p in g.packages {
            let mut id = p.id.clone();
            let mut n = 2;
            while !used_ids.insert(id.clone()) {
                id = format!("{}#{n}", p.id);
                n += 1;
            }
            p.id = id.clone();
            ids.push(id);
            packages.push(p);
        }
        // name (and provided names) -> package id, within one package manager
        let mut by_name: HashMap<&str, &str> = HashMap::new();
        for (i, names) in g.provides.iter().enumerate() {
            for n in names {
                by_name.entry(n.as_str()).or_insert(ids[i].as_str());
            }
        }
        let mut edges = BTreeMap::new();
        for (i, deps) in g.depends.iter().enumerate() {
            for d in deps {
                if let Some(&to) = by_name.get(d.as_str())
                    && to != ids[i]
                {
                    edges.insert((ids[i].clone(), to.to_string()), ());
                }
            }
        }
        relationships.extend(edges.into_keys().map(|(from, to)| Relationship {
            from,
            to,
            kind: RelationshipKind::DependsOn,
        }));
    }
    let mut by_owner: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, note) in notes {
        by_owner.entry(i).or_default().push(note);
    }
    for (i, notes) in by_owner {
        if let Some(p) = packages.get_mut(i) {
            p.metadata
                .insert("language_packages".into(), notes.join(" "));
        }
    }
    Built {
        os,
        packages,
        relationships,
        warnings,
    }
}

/// Packages of one package manager, with the names each provides and depends on.
#[derive(Default)]
pub(crate) struct Group {
    pub packages: Vec<Package>,
    /// Per package: its own name first, then what it provides.
    pub provides: Vec<Vec<String>>,
    pub depends: Vec<Vec<String>>,
}

fn collect_fact_warnings(m: &Merged, out: &mut Vec<Diagnostic>) {
    let mut seen = HashSet::new();
    let mut paths: Vec<&String> = m.history.keys().collect();
    paths.sort();
    for path in paths {
        for (layer, fact) in &m.history[path] {
            let Some(fact) = fact else { continue };
            let diags: Vec<Diagnostic> = match fact.as_ref() {
                Fact::Unreadable(msg) => vec![Diagnostic::parse(msg.clone())],
                Fact::Dpkg(p) => p.diagnostics(),
                Fact::Apk(p) => p.diagnostics(),
                Fact::Rpm(p) => p.diagnostics(),
                _ => vec![],
            };
            for d in diags {
                let d = d.at(format!("/{path}"), *layer);
                if seen.insert(d.clone()) {
                    out.push(d);
                }
            }
        }
    }
}

fn detect_os(m: &Merged, warnings: &mut Vec<Diagnostic>) -> Option<OsInfo> {
    for p in ["etc/os-release", "usr/lib/os-release"] {
        match m.file(p) {
            Ok(Some((_, f, _))) => {
                if let Fact::OsRelease(os) = f.as_ref() {
                    return Some(os.clone());
                }
            }
            Ok(None) => {}
            Err(e) => warnings.push(Diagnostic {
                code: Code::SymlinkLoop,
                line: None,
                message: e,
                path: Some(format!("/{p}")),
                layer: None,
            }),
        }
    }
    for p in moat_pkgdb::osrelease::MARKER_FILES {
        if let Ok(Some((_, f, _))) = m.file(p)
            && let Fact::OsMarker(os) = f.as_ref()
        {
            return Some(os.clone());
        }
    }
    None
}

/// A Debian image without os-release but with `status.d` is distroless: the release
/// comes from base-files' version (`12.4+deb12u5` is Debian 12).
fn distroless_os(dpkg: &Group) -> Option<OsInfo> {
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
struct OsPkg {
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
    metadata: BTreeMap<String, String>,
    /// Names the package answers to: its own, then what it provides.
    provides: Vec<String>,
    depends: Vec<String>,
}

impl Group {
    fn push(&mut self, d: &Distro, db_path: &str, layer: Option<usize>, p: OsPkg) {
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
fn layers_of<K, F>(m: &Merged, path: &str, extract: F) -> HashMap<K, Option<usize>>
where
    K: std::hash::Hash + Eq + Clone,
    F: Fn(&Fact) -> Vec<(K, String)>,
{
    m.history
        .get(path)
        .map(|h| introduced_layers(h, extract))
        .unwrap_or_default()
}

/// Metadata from the fields that are present.
fn metadata<const N: usize>(pairs: [(&str, Option<String>); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
}

/// Package names with their own name first.
fn names(name: &str, more: impl IntoIterator<Item = String>) -> Vec<String> {
    std::iter::once(name.to_string()).chain(more).collect()
}

fn dpkg_packages(m: &Merged, os: Option<&OsInfo>, warnings: &mut Vec<Diagnostic>) -> Group {
    let mut g = Group::default();
    // file lists: (name, arch) -> files; distroless md5sums: name -> files
    let mut lists: HashMap<(String, Option<String>), &Vec<String>> = HashMap::new();
    for prefix in ["var/lib/dpkg/info/", "var/lib/dpkg/status.d/"] {
        for (_, _, f) in m.files_under(prefix) {
            if let Fact::DpkgFiles {
                package,
                arch,
                files,
            } = f.as_ref()
            {
                lists.insert((package.clone(), arch.clone()), files);
            }
        }
    }
    let mut dbs: Vec<(String, &Vec<DpkgPackage>)> = Vec::new();
    match m.file("var/lib/dpkg/status") {
        Ok(Some((_, f, real))) => {
            if let Fact::Dpkg(p) = f.as_ref() {
                dbs.push((real, &p.packages));
            }
        }
        Ok(None) => {}
        Err(e) => warnings.push(Diagnostic {
            code: Code::SymlinkLoop,
            line: None,
            message: e,
            path: Some("/var/lib/dpkg/status".into()),
            layer: None,
        }),
    }
    for (path, _, f) in m.files_under("var/lib/dpkg/status.d/") {
        if let Fact::Dpkg(p) = f.as_ref() {
            dbs.push((path.clone(), &p.packages));
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
                .map(|p| ((p.name.clone(), p.arch.clone()), p.version.clone()))
                .collect(),
            _ => vec![],
        });
        for p in pkgs {
            if !seen.insert((p.name.clone(), p.version.clone(), p.arch.clone())) {
                continue;
            }
            let layer = layers
                .get(&(p.name.clone(), p.arch.clone()))
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
                Ok(Some((_, f, _))) => match f.as_ref() {
                    Fact::Copyright { licenses, .. } => licenses.clone(),
                    _ => vec![],
                },
                _ => vec![],
            };
            let arch_suffix = p
                .arch
                .as_deref()
                .map(|a| format!(":{a}"))
                .unwrap_or_default();
            let pkg = OsPkg {
                kind: "deb",
                id: format!("deb:{}@{}{arch_suffix}", p.name, p.version),
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
                provides: names(&p.name, p.provides.iter().cloned()),
                depends: p.depends.clone(),
            };
            g.push(&d, &path, layer, pkg);
        }
    }
    g
}

fn apk_packages(m: &Merged, os: Option<&OsInfo>) -> Group {
    let mut g = Group::default();
    let Ok(Some((_, f, real))) = m.file("lib/apk/db/installed") else {
        return g;
    };
    let Fact::Apk(parsed) = f.as_ref() else {
        return g;
    };
    let layers = layers_of(m, &real, |f| match f {
        Fact::Apk(p) => p
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect(),
        _ => vec![],
    });
    let d = Distro::new(os, os.map(|o| o.id.as_str()).unwrap_or("alpine"));
    for p in &parsed.packages {
        let p: &ApkPackage = p;
        let layer = layers.get(&p.name).copied().flatten();
        let mut purl = d.purl("apk", &p.name, &p.version, p.arch.as_deref());
        if let Some(o) = &p.origin
            && o != &p.name
        {
            purl = purl.with_qualifier("upstream", o);
        }
        let provided = p.provides.iter().map(|x| {
            x.split(['=', '<', '>', '~'])
                .next()
                .unwrap_or(x)
                .to_string()
        });
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
            depends: p.depends.clone(),
        };
        g.push(&d, &real, layer, pkg);
    }
    g
}

/// Splits `glibc-2.34-60.el9.src.rpm` into (`glibc`, `2.34-60.el9`).
fn split_source_rpm(s: &str) -> Option<(String, String)> {
    let base = s
        .strip_suffix(".src.rpm")
        .or_else(|| s.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some((name.to_string(), format!("{version}-{release}")))
}

fn rpm_packages(m: &Merged, os: Option<&OsInfo>, warnings: &mut Vec<Diagnostic>) -> Group {
    let mut g = Group::default();
    let mut found = None;
    'outer: for dir in RPM_DIRS {
        for file in RPM_FILES {
            let p = format!("{dir}{file}");
            match m.file(&p) {
                Ok(Some((_, f, real))) => {
                    if let Fact::Rpm(parsed) = f.as_ref() {
                        found = Some((real, parsed));
                        break 'outer;
                    }
                }
                Ok(None) => {}
                Err(e) => warnings.push(Diagnostic {
                    code: Code::SymlinkLoop,
                    line: None,
                    message: e,
                    path: Some(format!("/{p}")),
                    layer: None,
                }),
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
        let source = p.source_rpm.as_deref().and_then(split_source_rpm);
        let arch_suffix = p
            .arch
            .as_deref()
            .map(|a| format!(".{a}"))
            .unwrap_or_default();
        let pkg = OsPkg {
            kind: "rpm",
            id: format!("rpm:{}@{}{arch_suffix}", p.name, p.evr()),
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
            provides: names(&p.name, p.provides.iter().chain(&p.files).cloned()),
            depends: p.requires.clone(),
        };
        g.push(&d, &real, layer, pkg);
    }
    g
}

#[cfg(test)]
mod tests {
    use super::split_source_rpm;

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("glibc-2.34-60.el9.src.rpm"),
            Some(("glibc".into(), "2.34-60.el9".into()))
        );
        assert_eq!(
            split_source_rpm("python3-pip-21.3.1-1.cm2.src.rpm"),
            Some(("python3-pip".into(), "21.3.1-1.cm2".into()))
        );
        assert_eq!(split_source_rpm("bogus"), None);
    }
}
