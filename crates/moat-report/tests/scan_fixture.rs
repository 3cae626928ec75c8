//! The scan report shared by the `scan*` tests (included with `#[path]`; as a test target
//! of its own it has no tests).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

#[allow(unused_imports)]
pub use common::{check, options, validate};
use moat_model::advisory::*;
use moat_model::finding::*;
use moat_model::{Code, Diagnostic, Location, Package};
use std::collections::BTreeMap;

fn pkg(p: &Package, path: Option<&str>) -> FindingPackage {
    FindingPackage {
        id: p.id.to_string(),
        name: p.name.to_string(),
        version: p.version.to_string(),
        purl: p.purl().into_owned(),
        layer: p.layer_index(),
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
    }]
    .into();
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
    }]
    .into();
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

fn located(
    path: Option<&str>,
    layer: Option<usize>,
    span: Option<Span>,
) -> Option<FindingLocation> {
    Some(FindingLocation {
        path: path.map(str::to_string),
        layer,
        span,
        ..Default::default()
    })
}

/// The vulnerability report plus a finding of every other kind: a secret (with columns) in a
/// file a later layer deleted, a Dockerfile misconfiguration with a span, a Kubernetes one
/// with a resource, an image-config one with a field, a runtime alert, and a secret in a
/// test fixture suppressed by an ignore entry; and diagnostics of two codes.
pub fn every_kind() -> ScanReport {
    let mut r = report();

    let mut secret = Finding::new(
        "aws-access-key-id",
        Severity::Critical,
        Detail::Secret(SecretDetail {
            rule: "aws-access-key-id".into(),
            category: Some("AWS".into()),
            redacted: "AWS_ACCESS_KEY_ID=AKIA************MPLE".into(),
            value: None,
            entropy: Some(3.7),
            deleted: true,
            deleted_in_layer: None,
            ..Default::default()
        }),
    );
    secret.title = Some("AWS Access Key ID".into());
    secret.location = located(
        Some("/app/.env"),
        Some(1),
        Some(Span {
            start_line: 3,
            start_column: Some(19),
            end_line: 3,
            end_column: Some(39),
        }),
    );

    let mut dockerfile = Finding::new(
        "DS002",
        Severity::High,
        Detail::Misconfiguration(MisconfigDetail {
            rule: String::new(),
            target_type: "dockerfile".into(),
            message: "Last USER command in Dockerfile should not be 'root'".into(),
            resolution: Some("Add 'USER <non root user name>' line to the Dockerfile".into()),
            references: vec![
                "https://docs.docker.com/develop/develop-images/dockerfile_best-practices/#user"
                    .into(),
            ],
            cause: Some("USER root".into()),
            tags: Vec::new(),
        }),
    );
    dockerfile.title = Some("Image user should not be 'root'".into());
    dockerfile.location = located(Some("/app/Dockerfile"), Some(1), Some(Span::lines(12, 12)));

    let mut k8s = Finding::new(
        "KSV012",
        Severity::Medium,
        Detail::Misconfiguration(MisconfigDetail {
            rule: String::new(),
            target_type: "kubernetes".into(),
            message: "Container 'web' of Deployment 'web' should set 'securityContext.runAsNonRoot' to true".into(),
            resolution: Some("Set 'containers[].securityContext.runAsNonRoot' to true.".into()),
            references: vec!["https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted".into()],
            cause: None,
            tags: Vec::new(),
        }),
    );
    k8s.title = Some("Runs as root user".into());
    k8s.location = Some(FindingLocation {
        resource: Some("Deployment/default/web".into()),
        ..located(
            Some("/app/deploy/web.yaml"),
            Some(1),
            Some(Span::lines(20, 31)),
        )
        .unwrap_or_default()
    });

    let mut config = Finding::new(
        "IC001",
        Severity::Low,
        Detail::Misconfiguration(MisconfigDetail {
            target_type: "image-config".into(),
            message: "Add a HEALTHCHECK instruction to the image".into(),
            ..Default::default()
        }),
    );
    config.title = Some("No HEALTHCHECK defined".into());
    config.location = Some(FindingLocation {
        field: Some("config.Healthcheck".into()),
        ..Default::default()
    });

    let mut shell = Finding::new(
        "Terminal shell in container",
        Severity::Medium,
        Detail::Runtime(RuntimeDetail {
            source: "syscall".into(),
            priority: "NOTICE".into(),
            output: "A shell was spawned in a container with an attached terminal (user=root container=web shell=bash)".into(),
            time: Some("2026-11-29T01:05:00.123456789Z".into()),
            tags: vec!["container".into(), "shell".into(), "mitre_execution".into()],
            fields: BTreeMap::from([
                ("container.name".to_string(), "web".to_string()),
                ("proc.name".to_string(), "bash".to_string()),
            ]),
        }),
    );
    shell.title = Some("A shell was used as the entrypoint/exec point into a container".into());

    let mut fixture_key = Finding::new(
        "generic-api-key",
        Severity::Medium,
        Detail::Secret(SecretDetail {
            rule: "generic-api-key".into(),
            category: Some("Generic".into()),
            redacted: "API_KEY=****************".into(),
            value: None,
            entropy: None,
            deleted: false,
            deleted_in_layer: None,
            ..Default::default()
        }),
    );
    fixture_key.title = Some("Generic API Key".into());
    fixture_key.location = located(
        Some("/app/test/fixtures.env"),
        Some(1),
        Some(Span::lines(4, 4)),
    );
    fixture_key.suppressed = Some(Suppression {
        by: "ignore".into(),
        reason: "test fixture, not a real key".into(),
        justification: None,
    });

    // scanner order, not output order
    r.findings.insert(0, shell);
    r.findings.push(config);
    r.findings.push(secret);
    r.findings.push(k8s);
    r.findings.push(dockerfile);
    r.suppressed.insert(0, fixture_key);
    r.inventory.diagnostics.extend([
        Diagnostic::new(
            Code::TooLarge,
            "8.0 MiB over the 5 MiB limit for secret scanning",
        )
        .at("/app/data.bin", Some(1)),
        Diagnostic::parse("line 7: unterminated heredoc").at("/app/Dockerfile", Some(1)),
    ]);
    r
}

/// A secret finding as the secret scanner makes one.
fn secret_finding(
    rule: &str,
    title: &str,
    severity: Severity,
    redacted: &str,
    location: FindingLocation,
) -> Finding {
    let mut f = Finding::new(
        rule,
        severity,
        Detail::Secret(SecretDetail {
            rule: rule.into(),
            category: Some("test".into()),
            redacted: redacted.into(),
            value: None,
            entropy: Some(4.2),
            deleted: false,
            deleted_in_layer: None,
            ..Default::default()
        }),
    );
    f.title = Some(title.into());
    f.location = Some(location);
    f
}

/// The fixture inventory with secrets only: a key in a file that layer 2 removed, a token
/// in a file still there (shown with `--show-secrets`), and the same token in the image
/// config's environment and history.
pub fn secrets() -> ScanReport {
    let mut r = empty();
    let mut removed = secret_finding(
        "pkcs8-private-key",
        "Private key (PKCS#8) (RSA)",
        Severity::High,
        "-----BEGIN PRIVATE KEY-----***(1704)",
        FindingLocation {
            span: Some(Span {
                start_line: 1,
                start_column: Some(1),
                end_line: 28,
                end_column: Some(26),
            }),
            ..FindingLocation::file("/app/deploy/id_rsa", Some(1))
        },
    );
    if let Detail::Secret(s) = &mut removed.detail {
        s.deleted = true;
        s.deleted_in_layer = Some(2);
    }
    let mut shown = secret_finding(
        "github-pat",
        "GitHub personal access token (classic)",
        Severity::Critical,
        "ghp_***(40)",
        FindingLocation {
            span: Some(Span {
                start_line: 2,
                start_column: Some(14),
                end_line: 2,
                end_column: Some(54),
            }),
            ..FindingLocation::file("/app/.env", Some(1))
        },
    );
    if let Detail::Secret(s) = &mut shown.detail {
        s.value = Some("ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000".into());
    }
    let config = |field: &str| {
        secret_finding(
            "github-pat",
            "GitHub personal access token (classic)",
            Severity::Critical,
            "ghp_***(40)",
            FindingLocation {
                field: Some(field.into()),
                ..Default::default()
            },
        )
    };
    r.findings = vec![
        config("config:history/4"),
        removed,
        shown,
        config("config:env/GITHUB_TOKEN"),
    ];
    r
}
