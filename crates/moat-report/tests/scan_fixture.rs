//! The scan report shared by the `scan*` tests (included with `#[path]`; as a test target
//! of its own it has no tests).
#![allow(dead_code)]

#[path = "common/mod.rs"]
mod common;

pub use common::options;
use moat_model::advisory::*;
use moat_model::finding::*;
use moat_model::{Location, Package};

fn pkg(p: &Package, path: Option<&str>) -> FindingPackage {
    FindingPackage {
        id: p.id.clone(),
        name: p.name.clone(),
        version: p.version.clone(),
        purl: p.purl.clone(),
        layer: p.layer,
        path: path.map(str::to_string),
    }
}

fn detail(
    advisory: &str,
    source: &str,
    ecosystem: &str,
    package: &str,
    range: &str,
    installed: &str,
    fixed: Option<&str>,
) -> MatchDetail {
    MatchDetail {
        advisory: advisory.into(),
        source: source.into(),
        ecosystem: ecosystem.into(),
        package: package.into(),
        range: range.into(),
        installed: installed.into(),
        fixed: fixed.map(str::to_string),
    }
}

fn cvss(version: &str, vector: &str, score: f64) -> CvssScore {
    CvssScore {
        version: version.into(),
        vector: vector.into(),
        score: Some(score),
    }
}

/// The Debian 12 image of the SBOM golden tests plus a PyPI and a Go package, with:
/// a fixed glibc finding that collapsed three aliases, an unfixed will_not_fix perl
/// finding, a PyPI finding with CVSS v3, a KEV finding (golang.org/x/net, HTTP/2 rapid
/// reset) and a perl finding suppressed by a VEX statement.
pub fn report() -> ScanReport {
    let mut inv = common::debian();

    let mut requests = common::package(
        "pypi:requests@2.25.0",
        "requests",
        "2.25.0",
        "pypi",
        "pkg:pypi/requests@2.25.0",
    );
    requests.ecosystem = Some("PyPI".into());
    requests.layer = Some(1);
    requests.locations = vec![Location {
        path: "/usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA".into(),
        layer: Some(1),
    }];
    let mut xnet = common::package(
        "golang:golang.org/x/net@v0.7.0",
        "golang.org/x/net",
        "v0.7.0",
        "golang",
        "pkg:golang/golang.org/x/net@v0.7.0",
    );
    xnet.ecosystem = Some("Go".into());
    xnet.layer = Some(1);
    xnet.locations = vec![Location {
        path: "/app/server".into(),
        layer: Some(1),
    }];
    inv.packages.push(requests.clone());
    inv.packages.push(xnet.clone());

    let find = |id: &str| {
        inv.packages
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .expect("fixture package")
    };
    let libc = find("deb:libc6@2.36-9+deb12u4");
    let perl = find("deb:perl-base@5.36.0-7+deb12u1");

    let glibc = Finding {
        id: "CVE-2024-2961".into(),
        aliases: vec![
            "DEBIAN-CVE-2024-2961".into(),
            "DSA-5673-1".into(),
            "GHSA-p5rm-5c57-3h7q".into(),
        ],
        severity: Severity::High,
        status: Status::Fixed,
        title: Some("glibc: Out of bounds write in iconv may lead to remote code execution".into()),
        location: None,
        detail: Detail::Vulnerability(VulnerabilityDetail {
            package: Some(pkg(&libc, Some("/var/lib/dpkg/status"))),
            fixed_version: Some("2.36-9+deb12u7".into()),
            cvss: vec![cvss(
                "CVSS_V3",
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
                8.1,
            )],
            kev: false,
            references: vec![
                "https://security-tracker.debian.org/tracker/CVE-2024-2961".into(),
                "https://www.openwall.com/lists/oss-security/2024/04/17/9".into(),
            ],
            matched: vec![
                detail(
                    "DEBIAN-CVE-2024-2961",
                    "debian-tracker",
                    "Debian:12",
                    "glibc",
                    "ECOSYSTEM >=0 <2.36-9+deb12u7",
                    "2.36-9+deb12u4",
                    Some("2.36-9+deb12u7"),
                ),
                detail(
                    "DSA-5673-1",
                    "debian-dsa",
                    "Debian:12",
                    "glibc",
                    "ECOSYSTEM >=0 <2.36-9+deb12u7",
                    "2.36-9+deb12u4",
                    Some("2.36-9+deb12u7"),
                ),
            ],
        }),
        suppressed: None,
    };

    let cpan = Finding {
        id: "CVE-2023-31484".into(),
        aliases: vec!["DEBIAN-CVE-2023-31484".into()],
        severity: Severity::Low,
        status: Status::WillNotFix,
        title: Some(
            "perl: CPAN.pm does not verify TLS certificates when downloading distributions over HTTPS"
                .into(),
        ),
        location: None,
        detail: Detail::Vulnerability(VulnerabilityDetail {
            package: Some(pkg(&perl, None)),
            fixed_version: None,
            cvss: vec![cvss(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
            8.1,
        )],
            kev: false,
            references: vec!["https://security-tracker.debian.org/tracker/CVE-2023-31484".into()],
            matched: vec![detail(
            "DEBIAN-CVE-2023-31484",
            "debian-tracker",
            "Debian:12",
            "perl",
            "ECOSYSTEM >=0 (no fix: will_not_fix)",
            "5.36.0-7+deb12u1",
            None,
        )],
        }),
        suppressed: None,
    };

    let requests_leak = Finding {
        id: "CVE-2023-32681".into(),
        aliases: vec!["GHSA-j8r2-6x86-q33q".into(), "PYSEC-2023-74".into()],
        severity: Severity::Medium,
        status: Status::Fixed,
        title: Some("Unintended leak of Proxy-Authorization header in requests".into()),
        location: None,
        detail: Detail::Vulnerability(VulnerabilityDetail {
            package: Some(pkg(&requests, None)),
            fixed_version: Some("2.31.0".into()),
            cvss: vec![cvss(
                "CVSS_V3",
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
                6.1,
            )],
            kev: false,
            references: vec!["https://github.com/advisories/GHSA-j8r2-6x86-q33q".into()],
            matched: vec![detail(
                "PYSEC-2023-74",
                "osv:PyPI",
                "PyPI",
                "requests",
                "ECOSYSTEM >=2.3.0 <2.31.0",
                "2.25.0",
                Some("2.31.0"),
            )],
        }),
        suppressed: None,
    };

    let rapid_reset = Finding {
        id: "CVE-2023-44487".into(),
        aliases: vec!["GHSA-qppj-fm5r-hxr3".into(), "GO-2023-2102".into()],
        severity: Severity::High,
        status: Status::Fixed,
        title: Some("HTTP/2 rapid reset can cause excessive work in net/http".into()),
        location: None,
        detail: Detail::Vulnerability(VulnerabilityDetail {
            package: Some(pkg(&xnet, None)),
            fixed_version: Some("0.17.0".into()),
            cvss: vec![cvss(
                "CVSS_V3",
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                7.5,
            )],
            kev: true,
            references: vec!["https://pkg.go.dev/vuln/GO-2023-2102".into()],
            matched: vec![detail(
                "GO-2023-2102",
                "osv:Go",
                "Go",
                "golang.org/x/net",
                "SEMVER >=0 <0.17.0",
                "v0.7.0",
                Some("0.17.0"),
            )],
        }),
        suppressed: None,
    };

    let regex = Finding {
        id: "CVE-2023-47038".into(),
        aliases: vec!["DEBIAN-CVE-2023-47038".into()],
        severity: Severity::High,
        status: Status::NotAffected,
        title: Some("perl: Write past buffer end via illegal user-defined Unicode property".into()),
        location: None,
        detail: Detail::Vulnerability(VulnerabilityDetail {
            package: Some(pkg(&perl, None)),
            fixed_version: Some("5.36.0-7+deb12u2".into()),
            cvss: vec![cvss(
                "CVSS_V3",
                "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H",
                7.0,
            )],
            kev: false,
            references: vec!["https://security-tracker.debian.org/tracker/CVE-2023-47038".into()],
            matched: vec![detail(
                "DEBIAN-CVE-2023-47038",
                "debian-tracker",
                "Debian:12",
                "perl",
                "ECOSYSTEM >=0 <5.36.0-7+deb12u2",
                "5.36.0-7+deb12u1",
                Some("5.36.0-7+deb12u2"),
            )],
        }),
        suppressed: Some(Suppression {
            by: "vex".into(),
            reason: "the image never compiles user-supplied regular expressions".into(),
            justification: Some("not_affected: vulnerable_code_not_in_execute_path".into()),
        }),
    };

    ScanReport {
        inventory: inv,
        // matcher order, not output order: the reporters sort
        findings: vec![requests_leak, cpan, glibc, rapid_reset],
        suppressed: vec![regex],
    }
}

/// A report with nothing found.
pub fn empty() -> ScanReport {
    ScanReport {
        inventory: common::empty(),
        findings: vec![],
        suppressed: vec![],
    }
}

/// Odd text everywhere: control characters, empty strings, a finding without a package,
/// a finding on a package the inventory does not list, NaN scores, an ignore-file entry.
pub fn hostile() -> ScanReport {
    let inv = common::hostile();
    let odd = Finding {
        id: "X-\u{1b}[31m1".into(),
        aliases: vec![String::new(), "Y\n2".into()],
        severity: Severity::Unknown,
        status: Status::Affected,
        title: Some("a\u{1b}]0;pwned\u{7}b\r\nc\u{202E}d 日本語".repeat(20)),
        location: None,
        detail: Detail::Vulnerability(VulnerabilityDetail {
            package: Some(FindingPackage {
                id: "x".into(),
                name: "a\u{1b}[31m".into(),
                version: String::new(),
                purl: "not a purl".into(),
                layer: Some(7),
                path: Some("/weird path/ä?#%".into()),
            }),
            fixed_version: None,
            cvss: vec![CvssScore {
                version: "CVSS_V9".into(),
                vector: String::new(),
                score: Some(f64::NAN),
            }],
            kev: false,
            references: vec![String::new()],
            matched: vec![],
        }),
        suppressed: None,
    };
    let mut no_package = odd.clone();
    no_package.id = "NO-PACKAGE".into();
    if let Some(v) = no_package.vulnerability_mut() {
        v.package = None;
    }
    no_package.title = None;
    let mut unknown_package = odd.clone();
    unknown_package.id = "UNLISTED".into();
    if let Some(p) = unknown_package
        .vulnerability_mut()
        .and_then(|v| v.package.as_mut())
    {
        p.id = "nowhere".into();
        p.name = "ghost".into();
    }
    let mut ignored = odd.clone();
    ignored.id = "IGNORED-1".into();
    ignored.suppressed = Some(Suppression {
        by: "ignore".into(),
        reason: "accepted\nrisk".into(),
        justification: None,
    });
    let mut vex_fixed = odd.clone();
    vex_fixed.id = "VEX-FIXED".into();
    vex_fixed.suppressed = Some(Suppression {
        by: "vex".into(),
        reason: String::new(),
        justification: Some("fixed".into()),
    });
    ScanReport {
        inventory: inv,
        findings: vec![odd, no_package, unknown_package],
        suppressed: vec![ignored, vex_fixed],
    }
}
