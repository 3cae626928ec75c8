//! One vocabulary for ecosystems: the language [`Ecosystem`] enum, its purl type and OSV
//! name, the OSV name of a distro release ([`os_ecosystem`]), and the one rule for package
//! names ([`normalize_name`]) that the inventory's deduplication, the advisory database's
//! index, the matcher and VEX all apply, so they cannot disagree.
//!
//! Two ecosystems have no OSV name, as OSV has no such ecosystem: CocoaPods and Conda.
//! moat names them `CocoaPods` and `Conda` (the spelling of their own tools), orders their
//! versions with their package managers' rules (`Pod::Version`, conda's `VersionOrder`),
//! and matches them only against advisories imported under those names; no public OSV
//! source publishes any today, so in practice both are inventory only.

/// A language ecosystem.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Ecosystem {
    Cargo,
    Go,
    Npm,
    PyPI,
    Maven,
    RubyGems,
    Packagist,
    NuGet,
    Conan,
    Hex,
    Pub,
    /// CocoaPods pods (`Podfile.lock`); not an OSV ecosystem.
    CocoaPods,
    /// Swift packages by repository URL (`Package.resolved`): OSV's `SwiftURL`.
    SwiftURL,
    Julia,
    /// Conda packages (`conda-meta`, `environment.yml`); not an OSV ecosystem.
    Conda,
}

impl Ecosystem {
    /// Every language ecosystem, in a fixed order.
    pub const ALL: [Ecosystem; 15] = [
        Ecosystem::Cargo,
        Ecosystem::Go,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Maven,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::NuGet,
        Ecosystem::Conan,
        Ecosystem::Hex,
        Ecosystem::Pub,
        Ecosystem::CocoaPods,
        Ecosystem::SwiftURL,
        Ecosystem::Julia,
        Ecosystem::Conda,
    ];

    /// The purl type (`pkg:<type>/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "cargo",
            Ecosystem::Go => "golang",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Conan => "conan",
            Ecosystem::Hex => "hex",
            Ecosystem::Pub => "pub",
            Ecosystem::CocoaPods => "cocoapods",
            Ecosystem::SwiftURL => "swift",
            Ecosystem::Julia => "julia",
            Ecosystem::Conda => "conda",
        }
    }

    /// The OSV ecosystem name (for CocoaPods and Conda, which OSV does not have, the name
    /// moat gives them; see the module documentation).
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Conan => "ConanCenter",
            Ecosystem::Hex => "Hex",
            Ecosystem::Pub => "Pub",
            Ecosystem::CocoaPods => "CocoaPods",
            Ecosystem::SwiftURL => "SwiftURL",
            Ecosystem::Julia => "Julia",
            Ecosystem::Conda => "Conda",
        }
    }

    /// The ecosystem of a purl type (`pypi`, `golang`, ...), case-insensitive.
    pub fn from_purl_type(ty: &str) -> Option<Ecosystem> {
        Ecosystem::ALL
            .into_iter()
            .find(|e| e.purl_type().eq_ignore_ascii_case(ty))
    }

    /// The ecosystem of an OSV ecosystem name (`PyPI`, `crates.io`, ...); exact.
    pub fn from_osv_name(name: &str) -> Option<Ecosystem> {
        Ecosystem::ALL.into_iter().find(|e| e.osv_name() == name)
    }

    /// The key under which two spellings of a name are the same package (see
    /// [`normalize_name`]).
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => pep503_name(name),
            // NuGet ids, Composer and conda package names are case-insensitive.
            Ecosystem::NuGet | Ecosystem::Packagist | Ecosystem::Conda => name.to_ascii_lowercase(),
            // Go module paths and Swift repository URLs keep their published case; Maven
            // `group:artifact`, npm, crates, gems, hex, pub, pods and Julia names are
            // compared as written.
            _ => name.to_string(),
        }
    }

    /// The ecosystem's own form of a package name from its purl: Maven `group:artifact`, Go,
    /// npm, Composer and Swift `namespace/name`, the name alone elsewhere.
    pub fn name_from_purl(self, namespace: Option<&str>, name: &str) -> String {
        match (self, namespace.filter(|n| !n.is_empty())) {
            (Ecosystem::Maven, Some(ns)) => format!("{ns}:{name}"),
            (
                Ecosystem::Go | Ecosystem::Npm | Ecosystem::Packagist | Ecosystem::SwiftURL,
                Some(ns),
            ) => {
                format!("{ns}/{name}")
            }
            _ => name.to_string(),
        }
    }
}

/// The lookup form of a package name in an OSV ecosystem (`PyPI`, `NuGet`, `Debian:12`, ...):
/// PEP 503 for PyPI; lower case for NuGet and Packagist (their names are case-insensitive);
/// unchanged for every other ecosystem, distro ecosystems included.
pub fn normalize_name(osv_ecosystem: &str, name: &str) -> String {
    match Ecosystem::from_osv_name(osv_ecosystem) {
        Some(e) => e.normalize_name(name),
        None => name.to_string(),
    }
}

/// The ecosystem name of a distro release, from an os-release id and version: OSV's name
/// where OSV publishes the distro's data (`Debian:12`, `Alpine:v3.19`, `Rocky Linux:9`,
/// `SUSE:Linux Enterprise Server 15 SP5`, `Azure Linux:3`), else the name moat's own
/// importers write (`Amazon Linux:2023`, `Oracle Linux:9`). Scanner, SBOM reader and matcher
/// all name distro ecosystems through this one function.
///
/// A release names the distro's main stream only: `Ubuntu:22.04` (OSV's records say
/// `Ubuntu:22.04:LTS` and `Ubuntu:Pro:22.04:LTS`), `Red Hat:9` (OSV's say
/// `Red Hat:enterprise_linux:9::appstream`, ...); `moat_vuln::distro` maps the feeds'
/// stream names onto these. CentOS is matched with Red Hat's data of the same major release
/// (its packages are rebuilds of RHEL's); CBL-Mariner 1 and 2 are `Azure Linux:1` and
/// `Azure Linux:2` (the name OSV files them under). `None` for a distro without an
/// advisory source (Fedora, ...).
pub fn os_ecosystem(id: &str, version: Option<&str>) -> Option<String> {
    let major_minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    let major = |v: &str| v.split('.').next().unwrap_or(v).to_string();
    let v = version.filter(|v| !v.is_empty());
    Some(match id {
        "debian" => format!("Debian:{}", major(v?)),
        "ubuntu" => format!("Ubuntu:{}", v?),
        "alpine" => format!("Alpine:v{}", major_minor(v?)),
        "almalinux" => format!("AlmaLinux:{}", major(v?)),
        "rocky" => format!("Rocky Linux:{}", major(v?)),
        "rhel" | "centos" => format!("Red Hat:{}", major(v?)),
        "ol" => format!("Oracle Linux:{}", major(v?)),
        "amzn" => format!("Amazon Linux:{}", amazon_line(v?)),
        "opensuse-leap" => format!("openSUSE:Leap {}", v?),
        "opensuse-tumbleweed" => "openSUSE:Tumbleweed".into(),
        "sles" => format!("SUSE:Linux Enterprise Server {}", suse_release(v?)),
        "sle-micro" => format!("SUSE:Linux Enterprise Micro {}", v?),
        "mariner" | "azurelinux" => format!("Azure Linux:{}", major(v?)),
        "photon" => format!("Photon OS:{}", major_minor(v?)),
        "mageia" => format!("Mageia:{}", major(v?)),
        "wolfi" => "Wolfi".into(),
        "chainguard" => "Chainguard".into(),
        _ => return None,
    })
}

/// Amazon Linux's line from its `VERSION_ID`: `2`, `2022`, `2023`; Amazon Linux 1 (the AMI
/// releases `2018.03`, `2017.09`, ...) is `1`.
fn amazon_line(v: &str) -> String {
    if v.contains('.') && v.starts_with("20") {
        "1".into()
    } else {
        v.split('.').next().unwrap_or(v).to_string()
    }
}

/// A SUSE release as its product name writes it: `15.5` -> `15 SP5`, `15` -> `15`.
fn suse_release(v: &str) -> String {
    match v.split_once('.') {
        Some((major, sp)) if sp != "0" && !sp.is_empty() => format!("{major} SP{sp}"),
        Some((major, _)) => major.to_string(),
        None => v.to_string(),
    }
}

/// True for the purl types of OS packages (`deb`, `rpm`, `apk`).
pub fn is_os_purl_type(ty: &str) -> bool {
    matches!(ty, "deb" | "rpm" | "apk")
}

/// A PyPI project name normalised as PEP 503 says: lower case, every run of `-`, `_`, `.`
/// one `-`.
pub fn pep503_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_ecosystem() {
        assert_eq!(normalize_name("PyPI", "Zope.Interface"), "zope-interface");
        assert_eq!(
            normalize_name("NuGet", "Newtonsoft.Json"),
            "newtonsoft.json"
        );
        assert_eq!(normalize_name("Packagist", "Symfony/Yaml"), "symfony/yaml");
        assert_eq!(
            normalize_name("Go", "github.com/BurntSushi/toml"),
            "github.com/BurntSushi/toml"
        );
        assert_eq!(normalize_name("Debian:12", "Zlib"), "Zlib");
    }

    #[test]
    fn distro_releases() {
        let e = |id, v| os_ecosystem(id, Some(v));
        assert_eq!(e("ubuntu", "22.04").as_deref(), Some("Ubuntu:22.04"));
        assert_eq!(e("rhel", "9.3").as_deref(), Some("Red Hat:9"));
        assert_eq!(e("centos", "7").as_deref(), Some("Red Hat:7"));
        assert_eq!(e("ol", "8.9").as_deref(), Some("Oracle Linux:8"));
        assert_eq!(e("amzn", "2").as_deref(), Some("Amazon Linux:2"));
        assert_eq!(e("amzn", "2023").as_deref(), Some("Amazon Linux:2023"));
        assert_eq!(e("amzn", "2018.03").as_deref(), Some("Amazon Linux:1"));
        assert_eq!(
            e("sles", "15.5").as_deref(),
            Some("SUSE:Linux Enterprise Server 15 SP5")
        );
        assert_eq!(
            e("sles", "15").as_deref(),
            Some("SUSE:Linux Enterprise Server 15")
        );
        assert_eq!(
            e("opensuse-leap", "15.5").as_deref(),
            Some("openSUSE:Leap 15.5")
        );
        assert_eq!(e("mariner", "2.0").as_deref(), Some("Azure Linux:2"));
        assert_eq!(e("azurelinux", "3.0").as_deref(), Some("Azure Linux:3"));
        assert_eq!(e("photon", "5.0").as_deref(), Some("Photon OS:5.0"));
        assert_eq!(e("wolfi", "20230201").as_deref(), Some("Wolfi"));
        assert_eq!(e("fedora", "39"), None);
        assert_eq!(os_ecosystem("ubuntu", None), None);
    }

    #[test]
    fn purl_types_and_osv_names_round_trip() {
        for e in Ecosystem::ALL {
            assert_eq!(Ecosystem::from_purl_type(e.purl_type()), Some(e));
            assert_eq!(Ecosystem::from_osv_name(e.osv_name()), Some(e));
        }
        assert_eq!(Ecosystem::from_purl_type("deb"), None);
        assert_eq!(
            Ecosystem::Maven.name_from_purl(Some("org.x"), "y"),
            "org.x:y"
        );
    }

    #[test]
    fn ecosystems_outside_osv_have_names_and_orderings() {
        assert_eq!(
            Ecosystem::from_purl_type("swift"),
            Some(Ecosystem::SwiftURL)
        );
        assert_eq!(
            Ecosystem::SwiftURL.name_from_purl(Some("github.com/apple"), "swift-nio"),
            "github.com/apple/swift-nio"
        );
        assert_eq!(Ecosystem::Conda.normalize_name("NumPy"), "numpy");
        for e in [
            Ecosystem::CocoaPods,
            Ecosystem::SwiftURL,
            Ecosystem::Julia,
            Ecosystem::Conda,
        ] {
            assert!(
                crate::version::Scheme::for_ecosystem(e.osv_name()).is_some(),
                "{e:?}"
            );
        }
    }
}
