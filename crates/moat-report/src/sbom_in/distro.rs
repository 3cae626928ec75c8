//! Distro names as SBOM tools write them, into moat's: os-release ids, OS families and
//! the OSV ecosystem of an OS package.
//!
//! Trivy writes families (`redhat`, `amazon`, `alma`, `opensuse.leap`) where moat and the
//! os-release files have ids (`rhel`, `amzn`, `almalinux`, `opensuse-leap`); purl
//! `distro` qualifiers come as `debian-12`, `debian-12.4`, `alpine-3.19.1`, `redhat-9.3`
//! or, for Trivy's Alpine packages, the bare version. The OSV name of a release is
//! [`moat_model::os_ecosystem`]'s, the one the scanner and the matcher use.

use super::{Context, Raw};
use moat_model::ecosystem::is_os_purl_type;
use moat_model::{OsInfo, Purl};
use std::collections::BTreeMap;

/// The `distro` qualifier most OS packages carry, as an [`OsInfo`].
pub(super) fn os_from_qualifiers(raws: &[Raw]) -> Option<OsInfo> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in raws {
        if let Some(p) = r.purl.as_deref().and_then(|p| Purl::parse(p).ok())
            && is_os_purl_type(&p.ty)
            && let Some(d) = p.qualifiers.get("distro")
        {
            *counts.entry(d.clone()).or_default() += 1;
        }
    }
    let (distro, _) = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    let (id, version) = split_distro(&distro);
    Some(os_info(&id, version, None))
}

/// An [`OsInfo`] from a distro name as a document writes it (normalised to an os-release
/// id), its version and, where the document has one, a pretty name (else `id version`).
pub(super) fn os_info(name: &str, version: Option<String>, pretty: Option<String>) -> OsInfo {
    let id = normalize_distro(name);
    let version = version.filter(|v| !v.is_empty());
    OsInfo {
        family: family_of(&id),
        codename: None,
        distroless: false,
        name: pretty
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| match &version {
                Some(v) => format!("{id} {v}"),
                None => id.clone(),
            }),
        id,
        version,
    }
}

/// `debian-12.4` -> (`debian`, `12.4`); `opensuse-leap-15.5` -> (`opensuse-leap`, `15.5`);
/// `wolfi` -> (`wolfi`, none); Trivy's family names are turned into os-release ids.
fn split_distro(q: &str) -> (String, Option<String>) {
    let q = q.trim();
    let cut = q
        .char_indices()
        .find(|&(i, c)| c == '-' && q[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i);
    match cut {
        Some(i) => {
            let version = q[i + 1..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            (normalize_distro(&q[..i]), Some(version))
        }
        None => (normalize_distro(q), None),
    }
}

/// os-release ids for the names other tools use (Trivy writes families: `redhat`,
/// `amazon`, `oracle`, `alma`, `cbl-mariner`, `opensuse.leap`).
pub(super) fn normalize_distro(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    match id.as_str() {
        "redhat" => "rhel".into(),
        "amazon" => "amzn".into(),
        "oracle" => "ol".into(),
        "alma" => "almalinux".into(),
        "cbl-mariner" => "mariner".into(),
        "opensuse.leap" | "opensuse leap" => "opensuse-leap".into(),
        "opensuse.tumbleweed" => "opensuse-tumbleweed".into(),
        "suse linux enterprise server" | "sle" => "sles".into(),
        _ => id,
    }
}

/// The OS family of an os-release id, for documents that name none.
fn family_of(id: &str) -> String {
    match id {
        "debian" | "ubuntu" => "debian",
        "alpine" => "alpine",
        "rhel" | "centos" | "rocky" | "almalinux" | "fedora" | "ol" | "amzn" => "redhat",
        "sles" | "opensuse-leap" | "opensuse-tumbleweed" => "suse",
        "wolfi" | "chainguard" => "wolfi",
        other => other,
    }
    .to_string()
}

/// The ecosystem of an OS package: its `distro` qualifier, else the document's OS when the
/// purl's namespace is that OS (or its family).
pub(super) fn distro_ecosystem(purl: Option<&Purl>, ctx: &Context) -> Option<String> {
    let p = purl?;
    if let Some(d) = p.qualifiers.get("distro") {
        // Trivy writes Alpine's qualifier as the bare version (`distro=3.19.1`)
        let (id, version) = match (split_distro(d), &p.namespace) {
            ((_, None), Some(ns)) if d.starts_with(|c: char| c.is_ascii_digit()) => {
                (normalize_distro(ns), Some(d.clone()))
            }
            (split, _) => split,
        };
        if let Some(e) = moat_model::os_ecosystem(&id, version.as_deref()) {
            return Some(e);
        }
    }
    let os = ctx.os.as_ref()?;
    let ns = p.namespace.as_deref().map(normalize_distro);
    let matches = match &ns {
        None => true,
        Some(ns) => ns == &os.id || ns == &os.family,
    };
    if !matches {
        return None;
    }
    moat_model::os_ecosystem(&os.id, os.version.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distro_qualifiers() {
        let cases = [
            ("debian-12.4", "debian", Some("12.4")),
            ("opensuse-leap-15.5", "opensuse-leap", Some("15.5")),
            ("redhat-9.3", "rhel", Some("9.3")),
            ("amazon-2 (Karoo)", "amzn", Some("2")),
            ("wolfi", "wolfi", None),
        ];
        for (q, id, version) in cases {
            assert_eq!(
                split_distro(q),
                (id.to_string(), version.map(str::to_string)),
                "{q}"
            );
        }
        let ecosystems = [
            ("debian", "12.15", "Debian:12"),
            ("alpine", "3.19.1", "Alpine:v3.19"),
            ("ubuntu", "22.04", "Ubuntu:22.04"),
            ("rhel", "9.3", "Red Hat:9"),
        ];
        for (id, version, want) in ecosystems {
            assert_eq!(
                moat_model::os_ecosystem(id, Some(version)).as_deref(),
                Some(want)
            );
        }
    }

    #[test]
    fn os_info_names_what_the_document_does_not() {
        let os = os_info("RedHat", Some("9.3".into()), None);
        assert_eq!((os.id.as_str(), os.family.as_str()), ("rhel", "redhat"));
        assert_eq!(os.name, "rhel 9.3");
        let os = os_info("debian", Some(String::new()), Some("Debian 12".into()));
        assert_eq!((os.version, os.name.as_str()), (None, "Debian 12"));
    }
}
