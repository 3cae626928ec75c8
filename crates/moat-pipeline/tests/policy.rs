//! The gate: ignore-file parsing, OpenVEX parsing, and what `apply` suppresses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::finding::{Detail, Finding, FindingPackage, Severity, Status, VulnerabilityDetail};
use moat_pipeline::policy::{IgnoreEntry, VexStatement, apply, parse_ignore_file, parse_openvex};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/policy");

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}")).unwrap()
}

fn finding(id: &str, aliases: &[&str], name: &str, purl: &str, path: &str) -> Finding {
    Finding {
        id: id.into(),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        severity: Severity::High,
        status: Status::Fixed,
        title: None,
        location: None,
        detail: Detail::Vulnerability(VulnerabilityDetail {
            package: Some(FindingPackage {
                id: name.into(),
                name: name.into(),
                version: purl
                    .rsplit('@')
                    .next()
                    .unwrap_or("")
                    .split('?')
                    .next()
                    .unwrap()
                    .into(),
                purl: purl.into(),
                layer: Some(0),
                path: Some(path.into()),
            }),
            fixed_version: None,
            cvss: vec![],
            kev: false,
            references: vec![],
            matched: vec![],
        }),
        suppressed: None,
    }
}

fn ignore(id: &str) -> IgnoreEntry {
    IgnoreEntry {
        id: id.into(),
        kind: None,
        package: None,
        path: None,
        reason: "because".into(),
        expires: None,
    }
}

fn ids(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.id.as_str()).collect()
}

// ---------------------------------------------------------------- ignore file parsing

#[test]
fn ignore_file_list() {
    let e = parse_ignore_file(&data("moatignore.yaml")).unwrap();
    assert_eq!(e.len(), 4);
    assert_eq!(e[0].id, "CVE-2021-44228");
    assert_eq!(
        e[0].package.as_deref(),
        Some("pkg:maven/org.apache.logging.log4j/log4j-core")
    );
    assert_eq!(e[1].path.as_deref(), Some("/app/"));
    assert_eq!(e[1].expires.as_deref(), Some("2030-01-01"));
    assert_eq!(e[3].reason, "matches nothing in the scan");
}

#[test]
fn ignore_file_mapping_form_and_empty_file() {
    let y = b"ignore:\n  - id: CVE-2020-1\n    reason: test only\n";
    let e = parse_ignore_file(y).unwrap();
    assert_eq!(
        e,
        [IgnoreEntry {
            reason: "test only".into(),
            ..ignore("CVE-2020-1")
        }]
    );
    assert!(parse_ignore_file(b"").unwrap().is_empty());
    assert!(
        parse_ignore_file(b"# nothing ignored\n\n")
            .unwrap()
            .is_empty()
    );
    assert!(parse_ignore_file(b"[]").unwrap().is_empty());
}

#[test]
fn ignore_file_missing_reason_names_the_entry() {
    let y = b"- id: CVE-2020-1\n  reason: fine\n- id: CVE-2020-2\n  package: openssl\n";
    let err = parse_ignore_file(y).unwrap_err().to_string();
    assert!(err.contains("entry 2"), "{err}");
    assert!(err.contains("CVE-2020-2"), "{err}");
    assert!(err.contains("reason"), "{err}");
    // An empty reason is no reason.
    let err = parse_ignore_file(b"- id: CVE-2020-1\n  reason: '  '\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("CVE-2020-1") && err.contains("reason"),
        "{err}"
    );
}

#[test]
fn ignore_file_errors() {
    // No id.
    let err = parse_ignore_file(b"- reason: x\n").unwrap_err().to_string();
    assert!(err.contains("entry 1") && err.contains("id"), "{err}");
    // Bad date.
    let err = parse_ignore_file(b"- id: CVE-2020-1\n  reason: x\n  expires: 31/12/2024\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expires") && err.contains("CVE-2020-1"),
        "{err}"
    );
    let err = parse_ignore_file(b"- id: CVE-2020-1\n  reason: x\n  expires: 2024-13-01\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("expires"), "{err}");
    // Unknown key (a typo must not silently widen an entry).
    assert!(parse_ignore_file(b"- id: CVE-2020-1\n  reason: x\n  pakage: y\n").is_err());
    // Not YAML / wrong shape / not UTF-8.
    assert!(parse_ignore_file(b"- id: [unclosed\n").is_err());
    assert!(parse_ignore_file(b"just a string\n").is_err());
    assert!(parse_ignore_file(&[0xff, 0xfe, 0x00]).is_err());
}

#[test]
fn ignore_file_yaml_limits() {
    // A billion-laughs style alias bomb is refused, not expanded.
    let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        y.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    y.push_str("ignore: []\n");
    let err = parse_ignore_file(y.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("budget") || err.contains("limit"), "{err}");
    // Deep nesting is refused early (an ignore file is two levels deep).
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    let err = parse_ignore_file(deep.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("limit") || err.contains("budget"), "{err}");
}

// ---------------------------------------------------------------- OpenVEX parsing

#[test]
fn openvex_statements() {
    let s = parse_openvex(&data("openvex.json")).unwrap();
    assert_eq!(s.len(), 4);
    assert_eq!(
        s[0],
        VexStatement {
            vulnerability: "CVE-2023-4911".into(),
            products: vec![
                "pkg:deb/debian/libc6@2.36-9+deb12u1?arch=amd64&distro=debian-12".into()
            ],
            status: "not_affected".into(),
            justification: Some("vulnerable_code_not_in_execute_path".into()),
            impact: Some("the image never runs setuid binaries".into()),
        }
    );
    assert_eq!(s[1].vulnerability, "CVE-2022-24713");
    assert_eq!(s[1].products, ["pkg:cargo/regex"]);
    assert_eq!(s[2].vulnerability, "CVE-2024-0001");
    assert_eq!(s[2].products, ["pkg:npm/left-pad@1.0.0"]);
    assert_eq!(s[3].status, "affected");
}

#[test]
fn openvex_errors() {
    assert!(parse_openvex(b"not json").is_err());
    assert!(
        parse_openvex(br#"{"statements": []}"#)
            .unwrap_err()
            .to_string()
            .contains("@context")
    );
    assert!(parse_openvex(br#"{"@context": "https://cyclonedx.org", "statements": []}"#).is_err());
    let bad_status = br#"{"@context": "https://openvex.dev/ns/v0.2.0",
        "statements": [{"vulnerability": {"name": "CVE-1"}, "status": "maybe"}]}"#;
    let err = parse_openvex(bad_status).unwrap_err().to_string();
    assert!(err.contains("maybe") && err.contains("CVE-1"), "{err}");
    let no_vuln = br#"{"@context": "https://openvex.dev/ns/v0.2.0",
        "statements": [{"status": "fixed"}]}"#;
    assert!(
        parse_openvex(no_vuln)
            .unwrap_err()
            .to_string()
            .contains("statement 1")
    );
}

// ---------------------------------------------------------------- apply

fn scan_findings() -> Vec<Finding> {
    vec![
        finding(
            "CVE-2023-4911",
            &["DSA-5514-1"],
            "libc6",
            "pkg:deb/debian/libc6@2.36-9+deb12u1?arch=amd64&distro=debian-12",
            "/var/lib/dpkg/status",
        ),
        finding(
            "CVE-2022-24713",
            &["GHSA-m5pq-gvj9-9vr8", "RUSTSEC-2022-0013"],
            "regex",
            "pkg:cargo/regex@1.5.4",
            "/app/Cargo.lock",
        ),
        finding(
            "CVE-2021-44228",
            &["GHSA-jfh8-c2jp-5v3q"],
            "org.apache.logging.log4j:log4j-core",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "/app/lib/log4j-core-2.14.1.jar",
        ),
        finding(
            "CVE-2020-0001",
            &[],
            "zlib1g",
            "pkg:deb/debian/zlib1g@1.2.13?distro=debian-12",
            "/var/lib/dpkg/status",
        ),
        finding(
            "CVE-2024-0001",
            &[],
            "left-pad",
            "pkg:npm/left-pad@1.0.0",
            "/app/package-lock.json",
        ),
        finding(
            "CVE-2024-0002",
            &[],
            "left-pad",
            "pkg:npm/left-pad@1.0.0",
            "/app/package-lock.json",
        ),
    ]
}

#[test]
fn vex_first_then_ignores_with_expiry_and_unused_entries() {
    let ignores = parse_ignore_file(&data("moatignore.yaml")).unwrap();
    let vex = parse_openvex(&data("openvex.json")).unwrap();
    let out = apply(scan_findings(), &ignores, &vex, "2024-07-01");

    assert_eq!(
        ids(&out.reported),
        ["CVE-2020-0001", "CVE-2024-0001", "CVE-2024-0002"]
    );
    assert_eq!(
        ids(&out.suppressed),
        ["CVE-2023-4911", "CVE-2022-24713", "CVE-2021-44228"]
    );

    // VEX not_affected: the justification is kept.
    let s = out.suppressed[0].suppressed.as_ref().unwrap();
    assert_eq!(s.by, "vex");
    assert_eq!(s.reason, "not_affected");
    assert_eq!(
        s.justification.as_deref(),
        Some("vulnerable_code_not_in_execute_path")
    );
    // VEX fixed, matched by a purl without version (compared without qualifiers). VEX runs
    // first, so the regex ignore entry (by GHSA alias) was not needed: it is unused.
    let s = out.suppressed[1].suppressed.as_ref().unwrap();
    assert_eq!((s.by.as_str(), s.reason.as_str()), ("vex", "fixed"));
    // Ignore by purl without version.
    let s = out.suppressed[2].suppressed.as_ref().unwrap();
    assert_eq!(s.by, "ignore");
    assert_eq!(
        s.reason,
        "JndiLookup class removed from the jar at build time"
    );

    // CVE-2020-0001's entry expired on 2024-06-30: reported again, entry listed as expired.
    let expired: Vec<&str> = out.expired_ignores.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(expired, ["CVE-2020-0001"]);
    let unused: Vec<&str> = out.unused_ignores.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(unused, ["GHSA-m5pq-gvj9-9vr8", "CVE-2099-9999"]);
}

#[test]
fn expiry_day_itself_still_suppresses() {
    let mut e = ignore("CVE-2020-0001");
    e.expires = Some("2024-06-30".into());
    let out = apply(scan_findings(), std::slice::from_ref(&e), &[], "2024-06-30");
    assert_eq!(ids(&out.suppressed), ["CVE-2020-0001"]);
    assert!(out.expired_ignores.is_empty());
    let out = apply(scan_findings(), &[e], &[], "2024-07-01");
    assert!(out.suppressed.is_empty());
    assert_eq!(out.expired_ignores.len(), 1);
    assert!(out.unused_ignores.is_empty());
}

#[test]
fn ignore_by_alias_package_name_and_path() {
    // Alias + name + path prefix.
    let mut e = ignore("GHSA-m5pq-gvj9-9vr8");
    e.package = Some("regex".into());
    e.path = Some("/app/".into());
    let out = apply(scan_findings(), std::slice::from_ref(&e), &[], "2024-01-01");
    assert_eq!(ids(&out.suppressed), ["CVE-2022-24713"]);
    assert_eq!(out.suppressed[0].suppressed.as_ref().unwrap().by, "ignore");
    // Another path: no match, entry unused.
    e.path = Some("/srv/".into());
    let out = apply(scan_findings(), std::slice::from_ref(&e), &[], "2024-01-01");
    assert!(out.suppressed.is_empty());
    assert_eq!(out.unused_ignores, [e.clone()]);
    // Another package name: no match.
    e.path = None;
    e.package = Some("regex-syntax".into());
    assert!(
        apply(scan_findings(), &[e], &[], "2024-01-01")
            .suppressed
            .is_empty()
    );
}

#[test]
fn ignore_purls() {
    let mut e = ignore("CVE-2023-4911");
    // Without qualifiers in the entry: qualifiers of the package do not matter.
    e.package = Some("pkg:deb/debian/libc6@2.36-9+deb12u1".into());
    assert_eq!(
        apply(scan_findings(), std::slice::from_ref(&e), &[], "2024-01-01")
            .suppressed
            .len(),
        1
    );
    e.package = Some("pkg:deb/debian/libc6".into());
    assert_eq!(
        apply(scan_findings(), std::slice::from_ref(&e), &[], "2024-01-01")
            .suppressed
            .len(),
        1
    );
    // Another version, or other qualifiers: no match.
    e.package = Some("pkg:deb/debian/libc6@2.36-9+deb12u4".into());
    assert!(
        apply(scan_findings(), std::slice::from_ref(&e), &[], "2024-01-01")
            .suppressed
            .is_empty()
    );
    e.package = Some("pkg:deb/debian/libc6@2.36-9+deb12u1?distro=debian-11".into());
    assert!(
        apply(scan_findings(), std::slice::from_ref(&e), &[], "2024-01-01")
            .suppressed
            .is_empty()
    );
    // Some of the package's qualifiers, with their values: a match (the package's purl has
    // `arch=amd64&distro=debian-12`); one more than it has: none.
    for (purl, suppressed) in [
        ("pkg:deb/debian/libc6@2.36-9+deb12u1?arch=amd64", 1),
        ("pkg:deb/debian/libc6@2.36-9+deb12u1?distro=debian-12", 1),
        (
            "pkg:deb/debian/libc6@2.36-9+deb12u1?arch=amd64&distro=debian-12&x=1",
            0,
        ),
        ("pkg:deb/debian/libc6@2.36-9+deb12u1?arch=arm64", 0),
    ] {
        e.package = Some(purl.into());
        let got = apply(scan_findings(), std::slice::from_ref(&e), &[], "2024-01-01");
        assert_eq!(got.suppressed.len(), suppressed, "{purl}");
    }
    // The same for a VEX statement's product.
    let vex = VexStatement {
        vulnerability: "CVE-2023-4911".into(),
        products: vec!["pkg:deb/debian/libc6@2.36-9+deb12u1?arch=amd64".into()],
        status: "not_affected".into(),
        justification: Some("vulnerable_code_not_in_execute_path".into()),
        impact: None,
    };
    let got = apply(scan_findings(), &[], &[vex], "2024-01-01");
    assert_eq!(got.suppressed.len(), 1);
}

#[test]
fn vex_affected_and_under_investigation_suppress_nothing() {
    let vex = vec![
        VexStatement {
            vulnerability: "CVE-2024-0001".into(),
            products: vec!["pkg:npm/left-pad@1.0.0".into()],
            status: "under_investigation".into(),
            justification: None,
            impact: None,
        },
        VexStatement {
            vulnerability: "CVE-2024-0002".into(),
            products: vec![],
            status: "affected".into(),
            justification: None,
            impact: None,
        },
    ];
    let out = apply(scan_findings(), &[], &vex, "2024-01-01");
    assert!(out.suppressed.is_empty());
    assert_eq!(out.reported.len(), 6);
}

#[test]
fn vex_product_must_match_and_later_statements_win() {
    let st = |status: &str, product: &str| VexStatement {
        vulnerability: "CVE-2021-44228".into(),
        products: vec![product.into()],
        status: status.into(),
        justification: Some("component_not_present".into()),
        impact: None,
    };
    // Another product: no effect.
    let out = apply(
        scan_findings(),
        &[],
        &[st("not_affected", "pkg:maven/org.example/other")],
        "2024-01-01",
    );
    assert!(out.suppressed.is_empty());
    // not_affected, then a later `affected` for the same product: the later one wins.
    let p = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
    let out = apply(
        scan_findings(),
        &[],
        &[st("not_affected", p), st("affected", p)],
        "2024-01-01",
    );
    assert!(out.suppressed.is_empty());
    let out = apply(
        scan_findings(),
        &[],
        &[st("affected", p), st("not_affected", p)],
        "2024-01-01",
    );
    assert_eq!(ids(&out.suppressed), ["CVE-2021-44228"]);
    // The VEX id may be an alias of the finding.
    let mut by_alias = st("not_affected", p);
    by_alias.vulnerability = "GHSA-jfh8-c2jp-5v3q".into();
    let out = apply(scan_findings(), &[], &[by_alias], "2024-01-01");
    assert_eq!(
        out.suppressed[0]
            .suppressed
            .as_ref()
            .unwrap()
            .justification
            .as_deref(),
        Some("component_not_present")
    );
}

// ---------------------------------------------------------------- every kind of finding

fn secret(rule: &str, path: &str) -> Finding {
    use moat_model::finding::{FindingLocation, SecretDetail, Span};
    let mut f = Finding::new(
        rule,
        Severity::Critical,
        Detail::Secret(SecretDetail {
            category: Some("AWS".into()),
            redacted: "AKIA****".into(),
            entropy: None,
            deleted: false,
            ..Default::default()
        }),
    );
    f.location = Some(FindingLocation {
        span: Some(Span::lines(3, 3)),
        ..FindingLocation::file(path, Some(1))
    });
    f
}

#[test]
fn ignore_entries_name_rule_ids_and_path_globs() {
    let y = br#"
- id: aws-access-key-id
  path: "**/testdata/**"
  reason: fixtures hold fake keys
- id: "*"
  kind: secret
  path: /app/*.env
  reason: env files are injected at deploy time
"#;
    let entries = parse_ignore_file(y).unwrap();
    assert_eq!(entries[1].kind, Some(moat_model::FindingKind::Secret));
    let findings = vec![
        secret("aws-access-key-id", "/src/testdata/keys/a.txt"),
        secret("aws-access-key-id", "/src/main.rs"),
        secret("github-pat", "/app/prod.env"),
        // `*` in a glob stays inside one directory
        secret("github-pat", "/app/sub/prod.env"),
        // the kind filter keeps a vulnerability with the same path visible
        {
            let mut v = finding("CVE-1", &[], "x", "pkg:npm/x@1", "/app/prod.env");
            v.location = Some(moat_model::FindingLocation::file("/app/prod.env", None));
            v
        },
    ];
    let out = apply(findings, &entries, &[], "2026-01-01");
    assert_eq!(
        out.reported
            .iter()
            .map(|f| (f.id.as_str(), f.path().unwrap()))
            .collect::<Vec<_>>(),
        [
            ("aws-access-key-id", "/src/main.rs"),
            ("github-pat", "/app/sub/prod.env"),
            ("CVE-1", "/app/prod.env"),
        ]
    );
    assert_eq!(out.suppressed.len(), 2);
    assert!(out.unused_ignores.is_empty());
}

#[test]
fn ignore_entries_with_a_bad_kind_or_glob_are_errors() {
    let err = parse_ignore_file(b"- id: x\n  kind: secrets\n  reason: r\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("entry 1 (x)") && err.contains("kind"), "{err}");
    let err = parse_ignore_file(b"- id: x\n  path: \"/a/[b\"\n  reason: r\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("glob"), "{err}");
}

#[test]
fn ignore_unfixed_applies_to_vulnerabilities_only() {
    let gate = moat_pipeline::policy::Gate {
        severities: vec![],
        ignore_unfixed: true,
    };
    let mut unfixed = finding("CVE-2", &[], "x", "pkg:npm/x@1", "/p");
    unfixed.status = Status::Affected;
    assert!(!gate.keeps(&unfixed));
    assert!(gate.keeps(&finding("CVE-3", &[], "x", "pkg:npm/x@1", "/p")));
    assert!(gate.keeps(&secret("aws-access-key-id", "/a")));
    let high_only = moat_pipeline::policy::Gate {
        severities: vec![Severity::High],
        ignore_unfixed: false,
    };
    assert!(!high_only.keeps(&secret("aws-access-key-id", "/a")));
}

// ---------------------------------------------------------------- purls by ecosystem rules

/// Whether one OpenVEX `not_affected` statement naming `product` (and, when given, a
/// subcomponent) suppresses the finding for a package with purl `have`.
fn vex_suppresses(product: &str, subcomponent: Option<&str>, have: &str) -> bool {
    let product = match subcomponent {
        Some(sub) => {
            serde_json::json!({"@id": product, "subcomponents": [{"@id": sub}]})
        }
        None => serde_json::json!({"@id": product}),
    };
    let doc = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.invalid/vex-1",
        "author": "test",
        "timestamp": "2024-01-01T00:00:00Z",
        "version": 1,
        "statements": [{
            "vulnerability": {"name": "CVE-2024-0001"},
            "products": [product],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
        }],
    });
    let vex = parse_openvex(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let f = finding("CVE-2024-0001", &[], "p", have, "/app");
    let out = apply(vec![f], &[], &vex, "2024-01-01");
    out.suppressed.len() == 1
}

#[test]
fn vex_purls_compare_names_by_the_ecosystems_rules() {
    // NuGet and Composer names are case-insensitive, PyPI names per PEP 503: the rule the
    // advisory database and the matcher apply.
    let cases = [
        (
            "pkg:nuget/newtonsoft.json@12.0.1",
            "pkg:nuget/Newtonsoft.Json@12.0.1",
            true,
        ),
        (
            "pkg:nuget/newtonsoft.json",
            "pkg:nuget/Newtonsoft.Json@12.0.1",
            true,
        ),
        (
            "pkg:composer/Symfony/Yaml@4.4.0",
            "pkg:composer/symfony/yaml@4.4.0",
            true,
        ),
        (
            "pkg:pypi/Zope.Interface@5.0",
            "pkg:pypi/zope-interface@5.0",
            true,
        ),
        ("pkg:pypi/Django@3.2.4", "pkg:pypi/django@3.2.4", true),
        // npm, Go module paths and Maven coordinates are compared as written.
        ("pkg:npm/Left-Pad@1.0.0", "pkg:npm/left-pad@1.0.0", false),
        (
            "pkg:golang/github.com/burntsushi/toml@v1.0.0",
            "pkg:golang/github.com/BurntSushi/toml@v1.0.0",
            false,
        ),
        (
            "pkg:nuget/newtonsoft.json@13.0.1",
            "pkg:nuget/Newtonsoft.Json@12.0.1",
            false,
        ),
    ];
    for (want, have, expected) in cases {
        assert_eq!(
            vex_suppresses(want, None, have),
            expected,
            "{want} vs {have}"
        );
    }
}

#[test]
fn vex_purls_compare_versions_as_the_ecosystem_spells_them() {
    let cases = [
        // Go: a purl's version without the `v` is the module version with it.
        (
            "pkg:golang/golang.org/x/net@0.35.0",
            "pkg:golang/golang.org/x/net@v0.35.0",
            true,
        ),
        (
            "pkg:golang/golang.org/x/net@0.35.0",
            "pkg:golang/golang.org/x/net@v0.36.0",
            false,
        ),
        // The standard library as Syft spells it.
        (
            "pkg:golang/stdlib@go1.19.8",
            "pkg:golang/stdlib@v1.19.8",
            true,
        ),
        // A deb epoch in a qualifier (Trivy) is the epoch of the version (moat).
        (
            "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?epoch=1",
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3",
            true,
        ),
        (
            "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3",
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3",
            false,
        ),
        (
            "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?epoch=1",
            "pkg:rpm/redhat/openssl-libs@1:3.0.7-27.el9",
            true,
        ),
        // Versions the ecosystem orders as equal.
        ("pkg:maven/org.x/y@1.0", "pkg:maven/org.x/y@1.0.0", true),
        ("pkg:pypi/p@1.0", "pkg:pypi/p@1.0.0", true),
        ("pkg:pypi/p@1.0", "pkg:pypi/p@1.0.1", false),
    ];
    for (want, have, expected) in cases {
        assert_eq!(
            vex_suppresses(want, None, have),
            expected,
            "{want} vs {have}"
        );
    }
}

#[test]
fn vex_subcomponents_are_normalised_too() {
    // An image product with the package as a subcomponent (vexctl --subcomponents).
    let image = "pkg:oci/app@sha256%3Aabcd";
    assert!(vex_suppresses(
        image,
        Some("pkg:golang/golang.org/x/net@0.35.0"),
        "pkg:golang/golang.org/x/net@v0.35.0"
    ));
    assert!(vex_suppresses(
        image,
        Some("pkg:nuget/newtonsoft.json@12.0.1"),
        "pkg:nuget/Newtonsoft.Json@12.0.1"
    ));
    assert!(!vex_suppresses(
        image,
        Some("pkg:nuget/newtonsoft.json@12.0.2"),
        "pkg:nuget/Newtonsoft.Json@12.0.1"
    ));
}
