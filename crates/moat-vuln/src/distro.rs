//! Distro releases, streams and lifecycles: the rules that turn a feed's ecosystem names into
//! the release a scanned package belongs to, decide whether one `affected[]` entry of a
//! distro feed applies to one installed package, and say when a release reached its end of
//! life.
//!
//! ## Releases and streams ([`release_key`])
//!
//! Packages carry the ecosystem [`moat_model::os_ecosystem`] gives their release
//! (`Ubuntu:22.04`, `Red Hat:9`, `SUSE:Linux Enterprise Server 15 SP5`). Feeds write finer
//! names: a stream of the release. The database indexes every entry under its release
//! ([`release_key`]), so a package finds the records of every stream that applies to it:
//!
//! | feed writes | release | why |
//! |---|---|---|
//! | `Ubuntu:22.04:LTS` | `Ubuntu:22.04` | OSV marks LTS releases |
//! | `Ubuntu:Pro:18.04:LTS` | `Ubuntu:18.04` | Ubuntu Pro (ESM) fixes of the release: the installed package is affected until the `+esm` version, which only Pro installs; the finding says so with the fixed version |
//! | `Ubuntu:Pro:FIPS...:22.04:LTS` (any other Pro sub-stream) | unchanged | FIPS builds are separate packages: not matched by default |
//! | `Red Hat:enterprise_linux:9::appstream`, `...:9::baseos`, `Red Hat:enterprise_linux:9` | `Red Hat:9` | the main stream of RHEL 9, from its CPE (`cpe:/a:redhat:enterprise_linux:9::appstream`) |
//! | `Red Hat:rhel_eus:9.2::baseos`, `Red Hat:rhel_aus:8.6::appstream`, ... | unchanged | extended-support streams apply only to hosts subscribed to them, which an image does not say: not matched by default |
//! | `SUSE:Linux Enterprise Module for Basesystem 15 SP5` | `SUSE:Linux Enterprise Server 15 SP5` | the base system module is part of every SLES installation (and of the SLE BCI images) |
//! | anything else | unchanged | `Debian:12`, `Alpine:v3.20`, `Rocky Linux:9`, `Amazon Linux:2023`, `Oracle Linux:9`, ... already name a release |
//!
//! ## Entry rules ([`applies`])
//!
//! An `affected[]` entry of a distro record applies to an installed package when its release
//! is the package's, and:
//!
//! * **modular packages** (RHEL 8+, AlmaLinux, Rocky, Oracle Linux): a module build
//!   (release `...module+el8.5.0+...`) is only compared with module builds, a non-modular one
//!   with non-modular ones: their version series are unrelated, so comparing across would give
//!   false fixes and false alarms. When the entry names its module stream (the `rpmmod`
//!   qualifier of Red Hat's purls, `nodejs:16`) and the package has its modularity label
//!   (`nodejs:16:8080020230...:...`), the streams must be equal;
//! * **architectures**: an entry whose purl names a binary architecture (`arch=aarch64`,
//!   Oracle Linux's per-architecture respins) applies to packages of that architecture only
//!   (`src` and `noarch` name no architecture);
//! * **Oracle Ksplice**: user-space Ksplice builds (`...ksplice1.el7`) are only compared with
//!   Ksplice builds, other builds with other builds.
//!
//! ## Lifecycles ([`end_of_life`])
//!
//! A small table of end-of-life dates, as the vendors published them (checked
//! 2026-12-01; see [`LIFECYCLE_CHECKED`]). The date is the end of the free security support whose
//! fixes moat's data covers: Debian LTS (its DLA advisories are in Debian's data), the end
//! of Ubuntu's standard support (after it, fixes come through Ubuntu Pro only), the end of
//! RHEL's and Oracle Linux's maintenance support, Alpine's security support, SUSE's general
//! support. Releases missing from the table are not flagged.

use moat_model::advisory::{Affected, Event};
use moat_model::version::Scheme;
use moat_model::{Package, Purl};
use std::borrow::Cow;

/// The release whose packages an entry with this ecosystem applies to (see the module docs).
pub fn release_key(ecosystem: &str) -> Cow<'_, str> {
    if let Some(rest) = ecosystem.strip_prefix("Ubuntu:") {
        let rest = rest.strip_prefix("Pro:").unwrap_or(rest);
        let version = rest.strip_suffix(":LTS").unwrap_or(rest);
        if is_ubuntu_version(version) {
            return Cow::Owned(format!("Ubuntu:{version}"));
        }
        return Cow::Borrowed(ecosystem);
    }
    if let Some(rest) = ecosystem.strip_prefix("Red Hat:enterprise_linux:") {
        let major = rest.split(':').next().unwrap_or_default();
        if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) {
            return Cow::Owned(format!("Red Hat:{major}"));
        }
        return Cow::Borrowed(ecosystem);
    }
    if let Some(release) = ecosystem.strip_prefix("SUSE:Linux Enterprise Module for Basesystem ") {
        return Cow::Owned(format!("SUSE:Linux Enterprise Server {release}"));
    }
    Cow::Borrowed(ecosystem)
}

/// A distro ecosystem as (distro, release): `Debian:12` -> (`Debian`, `12`),
/// `Ubuntu:Pro:FIPS:22.04:LTS` -> (`Ubuntu`, `Pro:FIPS:22.04:LTS`), an unversioned distro
/// (`Wolfi`) -> (`Wolfi`, `rolling`). `None` for language ecosystems.
pub fn split_release(ecosystem: &str) -> Option<(&str, &str)> {
    let (base, release) = match ecosystem.split_once(':') {
        Some((b, r)) => (b, r),
        None => (ecosystem, "rolling"),
    };
    if moat_model::Ecosystem::from_osv_name(base).is_some() {
        return None;
    }
    match moat_model::version::Scheme::for_ecosystem(base) {
        Some(Scheme::Dpkg | Scheme::Rpm | Scheme::Apk) if base != "opam" => Some((base, release)),
        _ => None,
    }
}

/// `22.04`, `24.10`: Ubuntu's `YY.MM`.
fn is_ubuntu_version(v: &str) -> bool {
    match v.split_once('.') {
        Some((y, m)) => {
            !y.is_empty()
                && !m.is_empty()
                && y.bytes().all(|b| b.is_ascii_digit())
                && m.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Whether a distro record's `affected[]` entry applies to `pkg`, whose ecosystem is
/// `package_ecosystem` (see the module docs). Language ecosystems pass through: an entry
/// applies when its ecosystem is the package's.
pub fn applies(entry: &Affected, pkg: &Package, package_ecosystem: &str) -> bool {
    if release_key(&entry.package.ecosystem) != package_ecosystem {
        return false;
    }
    if pkg.kind != "rpm" {
        return true;
    }
    let purl = entry
        .package
        .purl
        .as_deref()
        .and_then(|p| Purl::parse(p).ok());
    let qualifier = |k: &str| {
        purl.as_ref()
            .and_then(|p| p.qualifiers.get(k))
            .map(String::as_str)
    };
    // Architectures.
    if let (Some(want), Some(have)) = (qualifier("arch"), pkg.arch.as_deref())
        && !matches!(want, "src" | "noarch")
        && have != "noarch"
        && want != have
    {
        return false;
    }
    let fixed: Vec<&str> = entry
        .ranges
        .iter()
        .flat_map(|r| &r.events)
        .filter_map(|e| match e {
            Event::Fixed(f) => Some(f.as_str()),
            _ => None,
        })
        .collect();
    // Modules.
    let label = pkg.metadata.get("modularity_label").map(|l| l.as_str());
    let pkg_modular = label.is_some_and(|l| !l.is_empty()) || is_module_build(&pkg.version);
    let entry_stream = qualifier("rpmmod").filter(|s| !s.is_empty());
    let entry_modular = entry_stream.is_some() || fixed.iter().any(|f| is_module_build(f));
    if (entry_modular || !fixed.is_empty()) && entry_modular != pkg_modular {
        return false;
    }
    if let (Some(want), Some(have)) = (entry_stream, label)
        && module_stream(want) != module_stream(have)
    {
        return false;
    }
    // Oracle Ksplice user-space builds.
    if !fixed.is_empty() {
        let entry_ksplice = fixed.iter().any(|f| is_ksplice(f));
        if entry_ksplice != is_ksplice(&pkg.version) {
            return false;
        }
    }
    true
}

/// A module build's release (`1.module+el8.5.0+10613+59a13ec4`, `2.module_el8.5.0+...`).
fn is_module_build(version: &str) -> bool {
    version.contains(".module+") || version.contains(".module_")
}

/// `name:stream` of a module label or `rpmmod` qualifier (`nodejs:16:8080020230...:ad00` ->
/// `nodejs:16`).
fn module_stream(label: &str) -> String {
    label.split(':').take(2).collect::<Vec<_>>().join(":")
}

fn is_ksplice(version: &str) -> bool {
    version.contains(".ksplice")
}

/// When [`end_of_life`]'s table was last checked against the vendors' lifecycle pages.
pub const LIFECYCLE_CHECKED: &str = "2026-12-01";

/// An end of life: the date (`YYYY-MM-DD`) and what ends then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndOfLife {
    pub date: &'static str,
    /// `security support`, `long-term security support`, `standard support`, ...
    pub what: &'static str,
    /// What remains after it, if anything (`fixes continue through Ubuntu Pro only`).
    pub note: Option<&'static str>,
}

const LTS: &str = "long-term security support";
const SECURITY: &str = "security support";
const UBUNTU: &str = "standard support";
const MAINTENANCE: &str = "maintenance support";
const GENERAL: &str = "general support";

/// (os-release id, release as [`release_of`] writes it, end of life)
const LIFECYCLES: &[(&str, &str, &str, &str)] = &[
    ("debian", "8", "2020-06-30", LTS),
    ("debian", "9", "2022-06-30", LTS),
    ("debian", "10", "2024-06-30", LTS),
    ("debian", "11", "2026-08-31", LTS),
    ("debian", "12", "2028-06-30", LTS),
    ("debian", "13", "2030-06-30", LTS),
    ("ubuntu", "14.04", "2019-04-30", UBUNTU),
    ("ubuntu", "16.04", "2021-04-30", UBUNTU),
    ("ubuntu", "18.04", "2023-05-31", UBUNTU),
    ("ubuntu", "20.04", "2025-05-31", UBUNTU),
    ("ubuntu", "22.04", "2027-06-01", UBUNTU),
    ("ubuntu", "23.04", "2024-01-25", SECURITY),
    ("ubuntu", "23.10", "2024-07-11", SECURITY),
    ("ubuntu", "24.04", "2029-05-31", UBUNTU),
    ("ubuntu", "24.10", "2025-07-10", SECURITY),
    ("ubuntu", "25.04", "2026-01-15", SECURITY),
    ("alpine", "3.12", "2022-05-01", SECURITY),
    ("alpine", "3.13", "2022-11-01", SECURITY),
    ("alpine", "3.14", "2023-05-01", SECURITY),
    ("alpine", "3.15", "2023-11-01", SECURITY),
    ("alpine", "3.16", "2024-05-23", SECURITY),
    ("alpine", "3.17", "2024-11-22", SECURITY),
    ("alpine", "3.18", "2025-05-09", SECURITY),
    ("alpine", "3.19", "2025-11-01", SECURITY),
    ("alpine", "3.20", "2026-04-01", SECURITY),
    ("alpine", "3.21", "2026-11-01", SECURITY),
    ("alpine", "3.22", "2027-05-01", SECURITY),
    ("rhel", "6", "2020-11-30", MAINTENANCE),
    ("rhel", "7", "2024-06-30", MAINTENANCE),
    ("rhel", "8", "2029-05-31", MAINTENANCE),
    ("rhel", "9", "2032-05-31", MAINTENANCE),
    ("centos", "6", "2020-11-30", MAINTENANCE),
    ("centos", "7", "2024-06-30", MAINTENANCE),
    ("centos", "8", "2024-05-31", MAINTENANCE),
    ("centos", "9", "2027-05-31", MAINTENANCE),
    ("almalinux", "8", "2029-03-01", SECURITY),
    ("almalinux", "9", "2032-05-31", SECURITY),
    ("rocky", "8", "2029-05-31", SECURITY),
    ("rocky", "9", "2032-05-31", SECURITY),
    ("ol", "6", "2021-03-01", MAINTENANCE),
    ("ol", "7", "2024-12-31", MAINTENANCE),
    ("ol", "8", "2029-07-31", MAINTENANCE),
    ("ol", "9", "2032-06-30", MAINTENANCE),
    ("amzn", "1", "2023-12-31", SECURITY),
    ("amzn", "2", "2026-06-30", SECURITY),
    ("amzn", "2022", "2023-03-15", SECURITY),
    ("amzn", "2023", "2029-06-30", SECURITY),
    ("sles", "12.5", "2024-10-31", GENERAL),
    ("sles", "15.3", "2022-12-31", GENERAL),
    ("sles", "15.4", "2023-12-31", GENERAL),
    ("sles", "15.5", "2024-12-31", GENERAL),
    ("sles", "15.6", "2025-12-31", GENERAL),
    ("opensuse-leap", "15.4", "2023-12-07", SECURITY),
    ("opensuse-leap", "15.5", "2024-12-31", SECURITY),
    ("opensuse-leap", "15.6", "2026-04-30", SECURITY),
    ("mariner", "1", "2023-07-31", SECURITY),
    ("mariner", "2", "2025-07-31", SECURITY),
    ("fedora", "37", "2023-12-05", SECURITY),
    ("fedora", "38", "2024-05-21", SECURITY),
    ("fedora", "39", "2024-11-26", SECURITY),
    ("fedora", "40", "2025-05-13", SECURITY),
    ("fedora", "41", "2025-12-15", SECURITY),
];

/// The release a lifecycle is kept for: the major version for the RHEL family, Debian,
/// Fedora and Mariner, Amazon Linux's line, `major.minor` elsewhere (`3.19.1` -> `3.19`).
pub fn release_of(id: &str, version: &str) -> String {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or_default();
    match id {
        "debian" | "rhel" | "centos" | "almalinux" | "rocky" | "ol" | "fedora" | "mariner"
        | "azurelinux" => major.to_string(),
        "amzn" if version.contains('.') && version.starts_with("20") => "1".into(),
        "amzn" => major.to_string(),
        _ => match parts.next() {
            Some(minor) => format!("{major}.{minor}"),
            None => major.to_string(),
        },
    }
}

/// The end of life of a release (os-release id and `VERSION_ID`), when the table has it.
pub fn end_of_life(id: &str, version: &str) -> Option<EndOfLife> {
    let release = release_of(id, version);
    LIFECYCLES
        .iter()
        .find(|(i, r, _, _)| *i == id && *r == release)
        .map(|&(_, _, date, what)| EndOfLife {
            date,
            what,
            note: (what == UBUNTU).then_some("fixes continue through Ubuntu Pro only"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::advisory::{AffectedPackage, Range, RangeType};

    #[test]
    fn streams_map_to_releases() {
        for (feed, release) in [
            ("Ubuntu:22.04:LTS", "Ubuntu:22.04"),
            ("Ubuntu:Pro:18.04:LTS", "Ubuntu:18.04"),
            ("Ubuntu:24.10", "Ubuntu:24.10"),
            (
                "Ubuntu:Pro:FIPS-updates:22.04:LTS",
                "Ubuntu:Pro:FIPS-updates:22.04:LTS",
            ),
            ("Red Hat:enterprise_linux:9::appstream", "Red Hat:9"),
            ("Red Hat:enterprise_linux:7::server", "Red Hat:7"),
            ("Red Hat:enterprise_linux:8", "Red Hat:8"),
            (
                "Red Hat:rhel_aus:8.6::appstream",
                "Red Hat:rhel_aus:8.6::appstream",
            ),
            (
                "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
                "SUSE:Linux Enterprise Server 15 SP5",
            ),
            ("Debian:12", "Debian:12"),
            ("PyPI", "PyPI"),
        ] {
            assert_eq!(release_key(feed), release, "{feed}");
        }
    }

    fn rpm(version: &str, arch: &str, label: Option<&str>) -> Package {
        let mut p = Package {
            id: Default::default(),
            name: "p".into(),
            version: version.into(),
            kind: "rpm".into(),
            purl: String::new().into(),
            ecosystem: Some("Red Hat:8".into()),
            arch: Some(arch.into()),
            epoch: None,
            source_name: None,
            source_version: None,
            licenses: Default::default(),
            layer: None,
            locations: Default::default(),
            dev: false,
            application: false,
            file_count: None,
            metadata: Default::default(),
        };
        if let Some(l) = label {
            p.metadata.insert("modularity_label".into(), l.into());
        }
        p
    }

    fn entry(eco: &str, fixed: &str, purl: Option<&str>) -> Affected {
        Affected {
            package: AffectedPackage {
                ecosystem: eco.into(),
                name: "p".into(),
                purl: purl.map(str::to_string),
            },
            ranges: vec![Range {
                kind: RangeType::Ecosystem,
                repo: None,
                events: vec![Event::Introduced("0".into()), Event::Fixed(fixed.into())],
            }],
            ..Affected::default()
        }
    }

    #[test]
    fn modular_builds_are_compared_with_modular_builds() {
        let eco = "Red Hat:enterprise_linux:8::appstream";
        let module_fix = entry(eco, "0:3.9.7-2.module+el8.6.0+20026+579726f4.2", None);
        let plain_fix = entry(eco, "0:3.6.8-45.el8", None);
        let plain = rpm("3.6.8-38.el8", "x86_64", None);
        let module = rpm(
            "3.9.2-1.module+el8.4.0+9822+20bf1249",
            "x86_64",
            Some("python39:3.9:8040020210203205203:d6b4f6d5"),
        );
        assert!(!applies(&module_fix, &plain, "Red Hat:8"));
        assert!(applies(&plain_fix, &plain, "Red Hat:8"));
        assert!(applies(&module_fix, &module, "Red Hat:8"));
        assert!(!applies(&plain_fix, &module, "Red Hat:8"));
        assert!(!applies(&plain_fix, &plain, "Red Hat:9"), "another release");
        // Streams, when both sides name one.
        let nodejs16 = entry(
            eco,
            "1:16.20.2-1.module+el8.8.0+19898+3e7b8c2e",
            Some(
                "pkg:rpm/redhat/nodejs@16.20.2-1.module%2Bel8.8.0?arch=src&rpmmod=nodejs:16:8080020230707081714:63b34585",
            ),
        );
        let node14 = rpm(
            "1:14.21.3-1.module+el8.7.0+18531+81d3f6f8",
            "x86_64",
            Some("nodejs:14:8070020230306170042:ad008a3a"),
        );
        let node16 = rpm(
            "1:16.19.1-1.module+el8.7.0+18531+81d3f6f8",
            "x86_64",
            Some("nodejs:16:8070020230306170042:ad008a3a"),
        );
        assert!(!applies(&nodejs16, &node14, "Red Hat:8"));
        assert!(applies(&nodejs16, &node16, "Red Hat:8"));
    }

    #[test]
    fn architectures_and_ksplice() {
        let eco = "Oracle Linux:7";
        let arm = entry(
            eco,
            "0:8.24.0-57.0.4.el7_9.3",
            Some("pkg:rpm/oraclelinux/rsyslog?arch=aarch64&distro=oraclelinux-7"),
        );
        assert!(applies(&arm, &rpm("8.24.0-57.el7", "aarch64", None), eco));
        assert!(!applies(&arm, &rpm("8.24.0-57.el7", "x86_64", None), eco));
        let src = entry(
            eco,
            "0:8.24.0-57.el7_9.3",
            Some("pkg:rpm/redhat/rsyslog?arch=src"),
        );
        assert!(applies(&src, &rpm("8.24.0-57.el7", "x86_64", None), eco));
        let ks = entry(eco, "2:2.17-317.0.1.ksplice1.el7", None);
        assert!(applies(
            &ks,
            &rpm("2:2.17-260.0.9.ksplice1.el7", "x86_64", None),
            eco
        ));
        assert!(!applies(
            &ks,
            &rpm("2:2.17-260.0.9.el7", "x86_64", None),
            eco
        ));
    }

    #[test]
    fn distro_releases() {
        assert_eq!(split_release("Debian:12"), Some(("Debian", "12")));
        assert_eq!(split_release("Wolfi"), Some(("Wolfi", "rolling")));
        assert_eq!(split_release("Red Hat:9"), Some(("Red Hat", "9")));
        assert_eq!(split_release("Go"), None);
        assert_eq!(split_release("PyPI"), None);
        assert_eq!(split_release("Maven:https://maven.google.com"), None);
    }

    #[test]
    fn lifecycles() {
        assert_eq!(end_of_life("ubuntu", "18.04").unwrap().date, "2023-05-31");
        assert_eq!(end_of_life("alpine", "3.19.1").unwrap().date, "2025-11-01");
        assert_eq!(end_of_life("rhel", "7.9").unwrap().date, "2024-06-30");
        assert_eq!(end_of_life("amzn", "2018.03").unwrap().date, "2023-12-31");
        assert_eq!(end_of_life("sles", "15.5").unwrap().what, GENERAL);
        assert_eq!(end_of_life("wolfi", "20230201"), None);
        assert_eq!(release_of("debian", "12.4"), "12");
        // Sorted per distro, dates well formed.
        for (_, _, date, _) in LIFECYCLES {
            assert!(date.parse::<jiff::civil::Date>().is_ok(), "{date}");
        }
    }
}
