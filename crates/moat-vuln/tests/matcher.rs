//! The matcher's OSV rules, one test per rule, each with a concrete advisory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference, SeverityScore,
};
use moat_model::{Artifact, ArtifactKind, Inventory, Location, Package, Tool};
use moat_model::{Code, Diagnostic, Finding, Severity, Status};
use moat_vuln::db::{Builder, Database, SourceMeta};
use moat_vuln::import::ImportBatch;
use moat_vuln::matcher::{
    AdvisorySource, LookupError, MatchOptions, MemorySource, match_inventory,
};
use std::collections::HashSet;

fn inventory(packages: Vec<Package>) -> Inventory {
    Inventory {
        schema_version: moat_model::SCHEMA_VERSION.into(),
        tool: Tool::default(),
        artifact: Artifact {
            name: "test".into(),
            kind: ArtifactKind::Dir,
            path: "/test".into(),
            repo_tags: vec![],
            manifest_digest: None,
            index_digest: None,
            config_digest: None,
            platform: None,
            os: None,
            layers: vec![],
            config: None,
        },
        packages,
        relationships: vec![],
        diagnostics: vec![],
        package_files: Default::default(),
    }
}

fn purl_type(eco: &str) -> &'static str {
    match eco.split(':').next().unwrap() {
        "Debian" | "Ubuntu" => "deb",
        "Alpine" | "Wolfi" | "Chainguard" => "apk",
        "PyPI" => "pypi",
        "Go" => "golang",
        "crates.io" => "cargo",
        "npm" => "npm",
        "NuGet" => "nuget",
        "Packagist" => "composer",
        _ => "generic",
    }
}

fn pkg(eco: &str, name: &str, version: &str) -> Package {
    let kind = purl_type(eco);
    Package {
        id: format!("{kind}:{name}@{version}").into(),
        name: name.into(),
        version: version.into(),
        kind: kind.into(),
        purl: format!("pkg:{kind}/{name}@{version}").into(),
        ecosystem: Some(eco.into()),
        arch: None,
        epoch: None,
        source_name: None,
        source_version: None,
        licenses: Default::default(),
        layer: Some(1),
        locations: vec![Location {
            path: "/app/requirements.txt".into(),
            layer: Some(1),
        }]
        .into(),
        dev: false,
        application: false,
        file_count: None,
        metadata: Default::default(),
    }
}

fn deb(eco: &str, name: &str, version: &str, source: &str, source_version: &str) -> Package {
    let mut p = pkg(eco, name, version);
    p.source_name = Some(source.into());
    p.source_version = Some(source_version.into());
    p.locations = vec![Location {
        path: "/var/lib/dpkg/status".into(),
        layer: Some(0),
    }]
    .into();
    p
}

fn range(kind: RangeType, events: &[(&str, &str)]) -> Range {
    Range {
        kind,
        repo: None,
        events: events
            .iter()
            .map(|(k, v)| {
                let v = v.to_string();
                match *k {
                    "introduced" => Event::Introduced(v),
                    "fixed" => Event::Fixed(v),
                    "last_affected" => Event::LastAffected(v),
                    "limit" => Event::Limit(v),
                    _ => panic!("event {k}"),
                }
            })
            .collect(),
    }
}

fn affected(eco: &str, name: &str, ranges: Vec<Range>, versions: &[&str]) -> Affected {
    Affected {
        package: AffectedPackage {
            ecosystem: eco.into(),
            name: name.into(),
            purl: None,
        },
        ranges,
        versions: versions.iter().map(|s| s.to_string()).collect(),
        status: None,
        severity: None,
    }
}

fn adv(id: &str, source: &str, aliases: &[&str], affected: Vec<Affected>) -> Advisory {
    Advisory {
        id: id.into(),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        summary: Some(format!("summary of {id}")),
        affected,
        source: source.into(),
        references: vec![Reference {
            kind: "WEB".into(),
            url: format!("https://example.invalid/{id}"),
        }],
        ..Default::default()
    }
}

fn run(advs: Vec<Advisory>, pkgs: Vec<Package>) -> (Vec<Finding>, Vec<Diagnostic>) {
    run_kev(advs, pkgs, &[])
}

fn run_kev(
    advs: Vec<Advisory>,
    pkgs: Vec<Package>,
    kev: &[&str],
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let kev: HashSet<String> = kev.iter().map(|s| s.to_string()).collect();
    let src = MemorySource::new(advs, kev);
    match_inventory(&inventory(pkgs), &src, &MatchOptions::default())
}

fn messages(d: &[Diagnostic]) -> Vec<&str> {
    d.iter().map(|d| d.message.as_str()).collect()
}

fn ids(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.id.as_str()).collect()
}

/// Whether `version` of a PyPI/Go/... package is matched by one range.
fn hit(eco: &str, r: Range, version: &str) -> bool {
    let name = "p";
    let a = adv("X-1", "test", &[], vec![affected(eco, name, vec![r], &[])]);
    !run(vec![a], vec![pkg(eco, name, version)]).0.is_empty()
}

#[test]
fn introduced_zero_covers_prereleases_and_pseudo_versions() {
    let r = || {
        range(
            RangeType::Semver,
            &[("introduced", "0"), ("fixed", "1.2.3")],
        )
    };
    // A Go pseudo-version (a pre-release of 0.0.0) and a leading `v`.
    assert!(hit("Go", r(), "v0.0.0-20191109021931-daa7c04131f5"));
    assert!(hit("Go", r(), "0.0.0-20191109021931-daa7c04131f5"));
    // A SemVer pre-release below 0.0.0's release.
    assert!(hit("npm", r(), "0.0.0-alpha.1"));
    assert!(hit("npm", r(), "1.2.3-rc.1"));
    assert!(!hit("npm", r(), "1.2.3"));
    // PEP 440 pre-release with ECOSYSTEM ranges.
    let e = || {
        range(
            RangeType::Ecosystem,
            &[("introduced", "0"), ("fixed", "2.0")],
        )
    };
    assert!(hit("PyPI", e(), "0.1.dev1"));
    assert!(hit("PyPI", e(), "2.0rc1"));
    assert!(!hit("PyPI", e(), "2.0"));
}

#[test]
fn introduced_and_fixed_bounds() {
    let r = || {
        range(
            RangeType::Ecosystem,
            &[("introduced", "1.0"), ("fixed", "1.5")],
        )
    };
    assert!(!hit("PyPI", r(), "0.9"));
    assert!(hit("PyPI", r(), "1.0"));
    assert!(hit("PyPI", r(), "1.4.9"));
    assert!(!hit("PyPI", r(), "1.5"));
    assert!(!hit("PyPI", r(), "1.5.post1"));
}

#[test]
fn last_affected_is_inclusive() {
    let r = || {
        range(
            RangeType::Ecosystem,
            &[("introduced", "1.0.0"), ("last_affected", "1.4.0")],
        )
    };
    assert!(hit("crates.io", r(), "1.4.0"));
    assert!(!hit("crates.io", r(), "1.4.1"));
    assert!(!hit("crates.io", r(), "0.9.0"));
    // No fixed version is known.
    let a = adv(
        "X-1",
        "t",
        &[],
        vec![affected("crates.io", "p", vec![r()], &[])],
    );
    let (f, _) = run(vec![a], vec![pkg("crates.io", "p", "1.2.0")]);
    assert_eq!(f[0].vulnerability().unwrap().fixed_version, None);
    assert_eq!(f[0].status, Status::Affected);
}

#[test]
fn limit_bounds_the_range() {
    let r = || {
        range(
            RangeType::Semver,
            &[("introduced", "0"), ("limit", "2.0.0")],
        )
    };
    assert!(hit("npm", r(), "1.9.9"));
    assert!(!hit("npm", r(), "2.0.0"));
    assert!(!hit("npm", r(), "3.1.0"));
    let star = || {
        range(
            RangeType::Semver,
            &[("introduced", "1.0.0"), ("limit", "*")],
        )
    };
    assert!(hit("npm", star(), "9.0.0"));
    assert!(!hit("npm", star(), "0.9.0"));
}

#[test]
fn unsorted_events_are_sorted_first() {
    // Two intervals, written out of order: [1.0, 1.2) and [2.0, 2.3).
    let r = || {
        range(
            RangeType::Ecosystem,
            &[
                ("fixed", "2.3"),
                ("introduced", "2.0"),
                ("fixed", "1.2"),
                ("introduced", "1.0"),
            ],
        )
    };
    for (v, want) in [
        ("0.5", false),
        ("1.0", true),
        ("1.1", true),
        ("1.2", false),
        ("1.9", false),
        ("2.0", true),
        ("2.2.9", true),
        ("2.3", false),
    ] {
        assert_eq!(hit("PyPI", r(), v), want, "{v}");
    }
    // The fixed version reported is the next one above the installed.
    let a = adv("X-1", "t", &[], vec![affected("PyPI", "p", vec![r()], &[])]);
    let (f, _) = run(vec![a], vec![pkg("PyPI", "p", "2.1")]);
    assert_eq!(
        f[0].vulnerability().unwrap().fixed_version.as_deref(),
        Some("2.3")
    );
    assert_eq!(f[0].status, Status::Fixed);
    assert_eq!(
        f[0].vulnerability().unwrap().matched[0].range,
        "ECOSYSTEM introduced 1.0, fixed 1.2, introduced 2.0, fixed 2.3"
    );
}

#[test]
fn versions_list_matches_unparseable_strings_exactly() {
    let a = adv(
        "PYSEC-X",
        "pypa",
        &[],
        vec![affected("PyPI", "p", vec![], &["not a version!", "1.0"])],
    );
    let (f, _) = run(vec![a.clone()], vec![pkg("PyPI", "p", "not a version!")]);
    assert_eq!(ids(&f), ["PYSEC-X"]);
    assert_eq!(
        f[0].vulnerability().unwrap().matched[0].range,
        "versions contains not a version!"
    );
    // Exact strings: `1.0.0` is not listed even though PEP 440 says it equals `1.0`.
    let (f, _) = run(vec![a], vec![pkg("PyPI", "p", "1.0.0")]);
    assert!(f.is_empty());
}

#[test]
fn affected_entries_are_evaluated_independently() {
    let a = adv(
        "GHSA-aaaa-bbbb-cccc",
        "ghsa",
        &[],
        vec![
            affected(
                "npm",
                "p",
                vec![range(
                    RangeType::Semver,
                    &[("introduced", "1.0.0"), ("fixed", "1.0.5")],
                )],
                &[],
            ),
            affected(
                "npm",
                "p",
                vec![range(
                    RangeType::Semver,
                    &[("introduced", "2.0.0"), ("fixed", "2.0.3")],
                )],
                &[],
            ),
        ],
    );
    for (v, fixed) in [
        ("1.0.1", Some("1.0.5")),
        ("2.0.1", Some("2.0.3")),
        ("1.5.0", None),
    ] {
        let (f, _) = run(vec![a.clone()], vec![pkg("npm", "p", v)]);
        assert_eq!(
            f.first()
                .and_then(|f| f.vulnerability().unwrap().fixed_version.as_deref()),
            fixed,
            "{v}"
        );
        assert_eq!(f.len(), usize::from(fixed.is_some()));
    }
}

#[test]
fn withdrawn_records_are_ignored() {
    let mut a = adv(
        "GHSA-w",
        "ghsa",
        &[],
        vec![affected(
            "npm",
            "p",
            vec![range(RangeType::Semver, &[("introduced", "0")])],
            &[],
        )],
    );
    a.withdrawn = Some("2024-01-01T00:00:00Z".into());
    let (f, _) = run(vec![a], vec![pkg("npm", "p", "1.0.0")]);
    assert!(f.is_empty());
}

#[test]
fn application_packages_are_never_matched() {
    let a = adv(
        "GHSA-app",
        "ghsa",
        &[],
        vec![affected(
            "npm",
            "p",
            vec![range(RangeType::Semver, &[("introduced", "0")])],
            &[],
        )],
    );
    let mut p = pkg("npm", "p", "1.0.0");
    p.application = true;
    assert!(run(vec![a], vec![p]).0.is_empty());
}

#[test]
fn git_ranges_are_skipped_with_a_note() {
    let mut r = range(RangeType::Git, &[("introduced", "0"), ("fixed", "abc123")]);
    r.repo = Some("https://example.invalid/repo".into());
    let a = adv(
        "GHSA-git",
        "ghsa",
        &[],
        vec![affected("PyPI", "p", vec![r], &[])],
    );
    let (f, notes) = run(vec![a], vec![pkg("PyPI", "p", "1.0")]);
    assert!(f.is_empty());
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].message.contains("GIT range skipped in GHSA-git"),
        "{notes:?}"
    );
    assert_eq!(notes[0].code, Code::RangeSkipped);
}

#[test]
fn go_strips_the_leading_v_and_stdlib_is_a_package() {
    let a = adv(
        "GO-2099-0001",
        "osv:Go",
        &["CVE-2099-0001"],
        vec![affected(
            "Go",
            "stdlib",
            vec![range(
                RangeType::Semver,
                &[
                    ("introduced", "0"),
                    ("fixed", "1.19.9"),
                    ("introduced", "1.20.0-0"),
                    ("fixed", "1.20.4"),
                ],
            )],
            &[],
        )],
    );
    let (f, _) = run(vec![a.clone()], vec![pkg("Go", "stdlib", "v1.19.8")]);
    assert_eq!(ids(&f), ["CVE-2099-0001"]);
    assert_eq!(f[0].vulnerability().unwrap().matched[0].installed, "1.19.8");
    assert_eq!(
        f[0].vulnerability().unwrap().fixed_version.as_deref(),
        Some("1.19.9")
    );
    let (f, _) = run(vec![a.clone()], vec![pkg("Go", "stdlib", "v1.20.3")]);
    assert_eq!(
        f[0].vulnerability().unwrap().fixed_version.as_deref(),
        Some("1.20.4")
    );
    assert!(
        run(vec![a], vec![pkg("Go", "stdlib", "v1.20.4")])
            .0
            .is_empty()
    );
}

#[test]
fn pypi_names_are_pep503_normalised_by_the_source() {
    let a = adv(
        "PYSEC-1",
        "pypa",
        &[],
        vec![affected(
            "PyPI",
            "Zope.Interface",
            vec![range(
                RangeType::Ecosystem,
                &[("introduced", "0"), ("fixed", "5.0")],
            )],
            &[],
        )],
    );
    let (f, _) = run(vec![a], vec![pkg("PyPI", "zope_interface", "4.0")]);
    assert_eq!(ids(&f), ["PYSEC-1"]);
}

fn debian_adv(id: &str, eco: &str, src: &str, events: &[(&str, &str)]) -> Advisory {
    let mut a = adv(
        id,
        "debian-tracker",
        &[],
        vec![affected(
            eco,
            src,
            vec![range(RangeType::Ecosystem, events)],
            &[],
        )],
    );
    a.summary = None;
    a
}

#[test]
fn debian_release_must_match_exactly() {
    let a = debian_adv(
        "CVE-2023-4911",
        "Debian:12",
        "glibc",
        &[("introduced", "0"), ("fixed", "2.36-9+deb12u3")],
    );
    let p11 = deb(
        "Debian:11",
        "libc6",
        "2.31-13+deb11u6",
        "glibc",
        "2.31-13+deb11u6",
    );
    assert!(run(vec![a.clone()], vec![p11.clone()]).0.is_empty());
    // The matcher checks the ecosystem itself, whatever a source returns.
    struct Everything(Vec<Advisory>);
    impl AdvisorySource for Everything {
        fn advisories_for(&self, _: &str, _: &str) -> Result<Vec<Advisory>, LookupError> {
            Ok(self.0.clone())
        }
        fn is_kev(&self, _: &str) -> bool {
            false
        }
    }
    let (f, _) = match_inventory(
        &inventory(vec![p11]),
        &Everything(vec![a.clone()]),
        &MatchOptions::default(),
    );
    assert!(f.is_empty());
    let p12 = deb(
        "Debian:12",
        "libc6",
        "2.36-9+deb12u1",
        "glibc",
        "2.36-9+deb12u1",
    );
    let (f, _) = run(vec![a], vec![p12]);
    assert_eq!(ids(&f), ["CVE-2023-4911"]);
}

#[test]
fn debian_source_package_lookup() {
    let a = debian_adv(
        "CVE-2023-4911",
        "Debian:12",
        "glibc",
        &[("fixed", "2.36-9+deb12u3"), ("introduced", "0")],
    );
    // The binary's own version differs (binNMU); the source version is compared.
    let p = deb(
        "Debian:12",
        "libc6",
        "2.36-9+deb12u1+b1",
        "glibc",
        "2.36-9+deb12u1",
    );
    let (f, _) = run(vec![a], vec![p]);
    assert_eq!(f.len(), 1);
    let m = &f[0].vulnerability().unwrap().matched[0];
    assert_eq!(m.package, "glibc");
    assert_eq!(m.ecosystem, "Debian:12");
    assert_eq!(m.installed, "2.36-9+deb12u1");
    assert_eq!(m.range, "ECOSYSTEM introduced 0, fixed 2.36-9+deb12u3");
    assert_eq!(m.fixed.as_deref(), Some("2.36-9+deb12u3"));
    assert_eq!(f[0].status, Status::Fixed);
    let p = f[0].package().unwrap();
    assert_eq!(p.name, "libc6");
    assert_eq!(p.version, "2.36-9+deb12u1+b1");
    assert_eq!(p.path.as_deref(), Some("/var/lib/dpkg/status"));
    assert_eq!(p.layer, Some(1));
}

#[test]
fn distro_backport_wins_over_upstream() {
    // Upstream (GHSA, ecosystem "PyPI") says < 3.0 is affected; the OS package is only
    // looked up in its distro ecosystem, where Debian's backport fixed 2.0-1+deb12u1.
    let upstream = adv(
        "GHSA-up",
        "ghsa",
        &["CVE-2024-1"],
        vec![affected(
            "PyPI",
            "python-foo",
            vec![range(
                RangeType::Ecosystem,
                &[("introduced", "0"), ("fixed", "3.0")],
            )],
            &[],
        )],
    );
    let distro = debian_adv(
        "CVE-2024-1",
        "Debian:12",
        "python-foo",
        &[("introduced", "0"), ("fixed", "2.0-1+deb12u1")],
    );
    let p = deb(
        "Debian:12",
        "python3-foo",
        "2.0-1+deb12u1",
        "python-foo",
        "2.0-1+deb12u1",
    );
    assert!(run(vec![upstream, distro], vec![p]).0.is_empty());
}

#[test]
fn distro_unfixed_states() {
    for (st, want) in [
        (Status::Affected, Status::Affected),
        (Status::WillNotFix, Status::WillNotFix),
        (Status::FixDeferred, Status::FixDeferred),
        (Status::EndOfLife, Status::EndOfLife),
    ] {
        let mut a = adv(
            "CVE-2022-0001",
            "debian-tracker",
            &[],
            vec![affected("Debian:12", "zlib", vec![], &[])],
        );
        a.affected[0].status = Some(st);
        let p = deb(
            "Debian:12",
            "zlib1g",
            "1:1.2.13.dfsg-1",
            "zlib",
            "1:1.2.13.dfsg-1",
        );
        let (f, _) = run(vec![a], vec![p]);
        assert_eq!(f.len(), 1, "{st:?}");
        assert_eq!(f[0].status, want);
        assert_eq!(f[0].vulnerability().unwrap().fixed_version, None);
        assert_eq!(
            f[0].vulnerability().unwrap().matched[0].range,
            format!("status {}", st.as_str())
        );
    }
    // not_affected: no finding.
    let mut a = adv(
        "CVE-2022-0002",
        "debian-tracker",
        &[],
        vec![affected("Debian:12", "zlib", vec![], &[])],
    );
    a.affected[0].status = Some(Status::NotAffected);
    let p = deb(
        "Debian:12",
        "zlib1g",
        "1:1.2.13.dfsg-1",
        "zlib",
        "1:1.2.13.dfsg-1",
    );
    assert!(run(vec![a], vec![p]).0.is_empty());
    // will_not_fix with an open range (`introduced 0` only) is the same state.
    let mut a = debian_adv("CVE-2022-0003", "Debian:12", "zlib", &[("introduced", "0")]);
    a.affected[0].status = Some(Status::WillNotFix);
    let p = deb(
        "Debian:12",
        "zlib1g",
        "1:1.2.13.dfsg-1",
        "zlib",
        "1:1.2.13.dfsg-1",
    );
    let (f, _) = run(vec![a], vec![p]);
    assert_eq!(f[0].status, Status::WillNotFix);
}

#[test]
fn aliases_collapse_across_ghsa_pysec_and_cve() {
    let r = || {
        range(
            RangeType::Ecosystem,
            &[("introduced", "0"), ("fixed", "3.2.5")],
        )
    };
    let r2 = || {
        range(
            RangeType::Ecosystem,
            &[("introduced", "3.0"), ("fixed", "3.2.7")],
        )
    };
    let ghsa = adv(
        "GHSA-xxxx-yyyy-zzzz",
        "ghsa",
        &["CVE-2021-33203"],
        vec![affected("PyPI", "django", vec![r2()], &[])],
    );
    let pysec = adv(
        "PYSEC-2021-98",
        "pypa",
        &["CVE-2021-33203", "GHSA-xxxx-yyyy-zzzz"],
        vec![affected("PyPI", "django", vec![r()], &[])],
    );
    // Connected only through the GHSA id, not to the CVE directly.
    let other = adv(
        "OSV-2021-7",
        "osv",
        &["GHSA-xxxx-yyyy-zzzz"],
        vec![affected("PyPI", "django", vec![r()], &[])],
    );
    let unrelated = adv(
        "PYSEC-2021-99",
        "pypa",
        &["CVE-2021-99999"],
        vec![affected("PyPI", "django", vec![r()], &[])],
    );
    let (f, _) = run(
        vec![other, unrelated, pysec, ghsa],
        vec![pkg("PyPI", "Django", "3.2.4")],
    );
    assert_eq!(ids(&f), ["CVE-2021-33203", "CVE-2021-99999"]);
    let c = &f[0];
    assert_eq!(
        c.aliases,
        ["GHSA-xxxx-yyyy-zzzz", "OSV-2021-7", "PYSEC-2021-98"]
    );
    let recs: Vec<&str> = c
        .vulnerability()
        .unwrap()
        .matched
        .iter()
        .map(|m| m.advisory.as_str())
        .collect();
    // GHSA first by source priority, then the others by id.
    assert_eq!(recs, ["GHSA-xxxx-yyyy-zzzz", "OSV-2021-7", "PYSEC-2021-98"]);
    // The lowest fixed version above 3.2.4 among the three.
    assert_eq!(
        c.vulnerability().unwrap().fixed_version.as_deref(),
        Some("3.2.5")
    );
    assert_eq!(c.vulnerability().unwrap().references.len(), 3);
}

/// A record derived from several upstream ids joins the one group they lead to when every
/// upstream CVE is in it (Chainguard's `CGA-` record of a CVE and its GHSA, Wolfi's secdb
/// record of the CVE: one finding), and stays apart when an upstream CVE has no record of
/// its own here or the ids lead to several groups (an RHSA of two CVEs).
#[test]
fn several_upstream_ids_join_the_one_group_they_lead_to() {
    let fixed_in = range(
        RangeType::Ecosystem,
        &[("introduced", "0"), ("fixed", "3.0.10-r0")],
    );
    let record = |id: &str, aliases: &[&str], upstream: &[&str]| {
        let entry = affected("Wolfi", "haproxy-3.0", vec![fixed_in.clone()], &[]);
        let mut a = adv(id, "osv", aliases, vec![entry]);
        a.upstream = upstream.iter().map(|s| s.to_string()).collect();
        a
    };
    let haproxy = || vec![pkg("Wolfi", "haproxy-3.0", "3.0.9-r0")];
    let cga = || record("CGA-224q", &[], &["CVE-2025-32464", "GHSA-frg5"]);
    let wolfi = || record("WOLFI-CVE-2025-32464", &["CVE-2025-32464"], &[]);
    let (f, _) = run(vec![cga(), wolfi()], haproxy());
    assert_eq!(ids(&f), ["CVE-2025-32464"]);
    assert_eq!(f[0].aliases, ["CGA-224q", "WOLFI-CVE-2025-32464"]);
    // An upstream CVE without a record here: another vulnerability, kept apart.
    let rhsa = || record("RHSA-1", &[], &["CVE-2025-32464", "CVE-2025-1"]);
    let (f, _) = run(vec![rhsa(), wolfi()], haproxy());
    assert_eq!(ids(&f), ["CVE-2025-32464", "RHSA-1"]);
    // Each upstream CVE with a record of its own: two groups, the RHSA apart from both.
    let other = record("WOLFI-CVE-2025-1", &["CVE-2025-1"], &[]);
    let (f, _) = run(vec![rhsa(), wolfi(), other], haproxy());
    assert_eq!(ids(&f), ["CVE-2025-1", "CVE-2025-32464", "RHSA-1"]);
    // No record for any upstream id: nothing to join.
    let (f, _) = run(vec![cga()], haproxy());
    assert_eq!(ids(&f), ["CGA-224q"]);
}

#[test]
fn primary_without_a_single_cve_follows_source_priority() {
    let r = || range(RangeType::Semver, &[("introduced", "0")]);
    // Two CVEs in one group: not "exactly one CVE", so the GHSA record is primary.
    let ghsa = adv(
        "GHSA-1111-2222-3333",
        "ghsa",
        &["CVE-2020-1", "CVE-2020-2"],
        vec![affected("npm", "p", vec![r()], &[])],
    );
    let osv = adv(
        "OSV-1",
        "osv",
        &["GHSA-1111-2222-3333"],
        vec![affected("npm", "p", vec![r()], &[])],
    );
    let (f, _) = run(vec![osv, ghsa], vec![pkg("npm", "p", "1.0.0")]);
    assert_eq!(ids(&f), ["GHSA-1111-2222-3333"]);
    assert_eq!(f[0].aliases, ["CVE-2020-1", "CVE-2020-2", "OSV-1"]);
    // No CVE, no GHSA: the first by id.
    let a = adv(
        "RUSTSEC-2022-0013",
        "rustsec",
        &[],
        vec![affected("crates.io", "p", vec![r()], &[])],
    );
    let (f, _) = run(vec![a], vec![pkg("crates.io", "p", "1.0.0")]);
    assert_eq!(ids(&f), ["RUSTSEC-2022-0013"]);
}

#[test]
fn kev_flag_from_any_alias() {
    let a = adv(
        "GHSA-jfh8-c2jp-5v3q",
        "ghsa",
        &["CVE-2021-44228"],
        vec![affected(
            "Maven",
            "org.apache.logging.log4j:log4j-core",
            vec![range(
                RangeType::Ecosystem,
                &[("introduced", "2.0-beta9"), ("fixed", "2.15.0")],
            )],
            &[],
        )],
    );
    let p = pkg("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1");
    let (f, _) = run_kev(vec![a.clone()], vec![p.clone()], &["CVE-2021-44228"]);
    assert!(f[0].vulnerability().unwrap().kev);
    let (f, _) = run_kev(vec![a], vec![p], &["CVE-2000-1"]);
    assert!(!f[0].vulnerability().unwrap().kev);
}

#[test]
fn severity_sources_in_order() {
    let v31 = SeverityScore {
        kind: "CVSS_V3".into(),
        score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
    };
    // Distro rating beats a 9.8 CVSS vector for an OS package.
    let mut a = debian_adv(
        "CVE-2023-1",
        "Debian:12",
        "openssl",
        &[("introduced", "0"), ("fixed", "3.0.11-1~deb12u1")],
    );
    a.severity = vec![v31.clone()];
    a.affected[0].severity = Some("low".into());
    let p = deb("Debian:12", "libssl3", "3.0.9-1", "openssl", "3.0.9-1");
    let (f, _) = run(vec![a.clone()], vec![p.clone()]);
    assert_eq!(f[0].severity, Severity::Low);
    assert_eq!(f[0].vulnerability().unwrap().cvss[0].score, Some(9.8));
    assert_eq!(f[0].vulnerability().unwrap().cvss[0].version, "CVSS_V3");
    // A distro "not yet assigned" rating does not count: CVSS decides.
    a.affected[0].severity = Some("not yet assigned".into());
    let (f, _) = run(vec![a.clone()], vec![p.clone()]);
    assert_eq!(f[0].severity, Severity::Critical);
    // The record's own rating (distro source) when the entry has none.
    a.affected[0].severity = None;
    a.rating = Some("medium".into());
    let (f, _) = run(vec![a], vec![p]);
    assert_eq!(f[0].severity, Severity::Medium);

    // Language package: the highest CVSS base score wins over a feed label.
    let r = || range(RangeType::Semver, &[("introduced", "0")]);
    let mut g = adv(
        "GHSA-s",
        "ghsa",
        &[],
        vec![affected("npm", "p", vec![r()], &[])],
    );
    g.rating = Some("LOW".into());
    g.severity = vec![SeverityScore {
        kind: "CVSS_V3".into(),
        score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N".into(),
    }];
    let (f, _) = run(vec![g.clone()], vec![pkg("npm", "p", "1.0.0")]);
    assert_eq!(f[0].severity, Severity::High);
    // No vector: the label; a malformed vector is kept unscored.
    g.severity = vec![SeverityScore {
        kind: "CVSS_V3".into(),
        score: "CVSS:3.1/broken".into(),
    }];
    g.rating = Some("MODERATE".into());
    let (f, _) = run(vec![g.clone()], vec![pkg("npm", "p", "1.0.0")]);
    assert_eq!(f[0].severity, Severity::Medium);
    assert_eq!(f[0].vulnerability().unwrap().cvss[0].score, None);
    // Nothing: UNKNOWN.
    g.severity.clear();
    g.rating = None;
    let (f, _) = run(vec![g], vec![pkg("npm", "p", "1.0.0")]);
    assert_eq!(f[0].severity, Severity::Unknown);
}

#[test]
fn findings_are_sorted_and_describe_the_package() {
    let r = || range(RangeType::Semver, &[("introduced", "0")]);
    let mut hi = adv(
        "GHSA-b",
        "ghsa",
        &[],
        vec![affected("npm", "a", vec![r()], &[])],
    );
    hi.rating = Some("HIGH".into());
    let mut lo = adv(
        "GHSA-a",
        "ghsa",
        &[],
        vec![affected("npm", "a", vec![r()], &[])],
    );
    lo.rating = Some("LOW".into());
    let z = adv(
        "GHSA-c",
        "ghsa",
        &[],
        vec![affected("npm", "z", vec![r()], &[])],
    );
    let (f, _) = run(
        vec![z, lo, hi],
        vec![
            pkg("npm", "z", "1.0.0"),
            pkg("npm", "a", "2.0.0"),
            pkg("npm", "a", "1.0.0"),
        ],
    );
    let got: Vec<(String, String, &str)> = f
        .iter()
        .map(|f| {
            let p = f.package().unwrap();
            (p.name.clone(), p.version.clone(), f.id.as_str())
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), "1.0.0".into(), "GHSA-b"),
            ("a".into(), "1.0.0".into(), "GHSA-a"),
            ("a".into(), "2.0.0".into(), "GHSA-b"),
            ("a".into(), "2.0.0".into(), "GHSA-a"),
            ("z".into(), "1.0.0".into(), "GHSA-c"),
        ]
    );
    assert_eq!(f[0].kind().as_str(), "vulnerability");
    assert_eq!(f[0].title.as_deref(), Some("summary of GHSA-b"));
    assert_eq!(f[0].status, Status::Affected);
    let p = f[0].package().unwrap();
    assert_eq!(p.purl, "pkg:npm/a@1.0.0");
    assert_eq!(p.path.as_deref(), Some("/app/requirements.txt"));
}

/// A source whose every lookup fails.
struct Failing;

impl AdvisorySource for Failing {
    fn advisories_for(&self, _: &str, _: &str) -> Result<Vec<Advisory>, LookupError> {
        Err(LookupError::other("database is locked"))
    }
    fn is_kev(&self, _: &str) -> bool {
        false
    }
}

#[test]
fn source_errors_become_notes() {
    let (f, notes) = match_inventory(
        &inventory(vec![pkg("npm", "a", "1.0.0")]),
        &Failing,
        &MatchOptions::default(),
    );
    assert!(f.is_empty());
    assert_eq!(
        messages(&notes),
        ["lookup of npm/a failed: database is locked"]
    );
    assert_eq!(notes[0].code, Code::LookupFailed);
}

#[test]
fn debian_dsa_and_tracker_records_collapse() {
    let tracker = debian_adv(
        "CVE-2023-4911",
        "Debian:12",
        "glibc",
        &[("introduced", "0"), ("fixed", "2.36-9+deb12u3")],
    );
    let mut dsa = debian_adv(
        "DSA-5514-1",
        "Debian:12",
        "glibc",
        &[("introduced", "0"), ("fixed", "2.36-9+deb12u3")],
    );
    dsa.source = "debian-dsa".into();
    dsa.aliases = vec!["CVE-2023-4911".into()];
    dsa.summary = Some("glibc -- security update".into());
    let p = deb(
        "Debian:12",
        "libc6",
        "2.36-9+deb12u1",
        "glibc",
        "2.36-9+deb12u1",
    );
    let (f, _) = run(vec![dsa, tracker], vec![p]);
    assert_eq!(ids(&f), ["CVE-2023-4911"]);
    assert_eq!(f[0].aliases, ["DSA-5514-1"]);
    let recs: Vec<(&str, &str)> = f[0]
        .vulnerability()
        .unwrap()
        .matched
        .iter()
        .map(|m| (m.advisory.as_str(), m.source.as_str()))
        .collect();
    assert_eq!(
        recs,
        [
            ("CVE-2023-4911", "debian-tracker"),
            ("DSA-5514-1", "debian-dsa")
        ]
    );
    // The primary record has no summary: the first summary of the group is the title.
    assert_eq!(f[0].title.as_deref(), Some("glibc -- security update"));
}

#[test]
fn ecosystem_without_an_ordering_is_noted() {
    let a = adv(
        "X-1",
        "t",
        &[],
        vec![affected(
            "Linux",
            "p",
            vec![range(RangeType::Ecosystem, &[("introduced", "0")])],
            &["1.0.0"],
        )],
    );
    let (f, notes) = run(vec![a.clone()], vec![pkg("Linux", "p", "2.0.0")]);
    assert!(f.is_empty());
    assert!(
        notes[0]
            .message
            .contains("no version ordering for ecosystem Linux"),
        "{notes:?}"
    );
    // The versions list still works.
    let (f, _) = run(vec![a], vec![pkg("Linux", "p", "1.0.0")]);
    assert_eq!(ids(&f), ["X-1"]);
    // SwiftURL has an ordering now (SemVer): its ECOSYSTEM ranges are evaluated.
    let swift = adv(
        "X-2",
        "t",
        &[],
        vec![affected(
            "SwiftURL",
            "p",
            vec![range(RangeType::Ecosystem, &[("introduced", "0")])],
            &[],
        )],
    );
    let (f, notes) = run(vec![swift], vec![pkg("SwiftURL", "p", "2.0.0")]);
    assert_eq!(ids(&f), ["X-2"], "{notes:?}");
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn language_package_without_ecosystem_uses_its_purl_type() {
    let a = adv(
        "RUSTSEC-2099-0001",
        "rustsec",
        &[],
        vec![affected(
            "crates.io",
            "p",
            vec![range(
                RangeType::Semver,
                &[("introduced", "0"), ("fixed", "1.0.1")],
            )],
            &[],
        )],
    );
    let mut p = pkg("crates.io", "p", "1.0.0");
    p.ecosystem = None;
    let (f, _) = run(vec![a], vec![p]);
    assert_eq!(ids(&f), ["RUSTSEC-2099-0001"]);
    // An OS package without an ecosystem (no release known) is not matched, with a note.
    let mut d = deb("Debian:12", "libc6", "2.36-9", "glibc", "2.36-9");
    d.ecosystem = None;
    let (f, notes) = run(vec![], vec![d]);
    assert!(f.is_empty());
    assert_eq!(
        messages(&notes),
        ["1 package(s) without an ecosystem were not matched"]
    );
}

/// The findings of `pkgs` against `advs` through a real database file (built, committed and
/// reopened read-only), as a scan sees them.
fn run_db(advs: Vec<Advisory>, pkgs: Vec<Package>) -> (Vec<Finding>, Vec<Diagnostic>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let mut b = Builder::create(&path).unwrap();
    let batch = ImportBatch {
        advisories: advs,
        ..Default::default()
    };
    b.replace_source("test", &batch, SourceMeta::default())
        .unwrap();
    b.commit().unwrap();
    let db = Database::open_read_only(&path).unwrap();
    match_inventory(&inventory(pkgs), &db, &MatchOptions::default())
}

#[test]
fn nuget_and_packagist_names_are_case_insensitive() {
    let semver = |fixed: &str| {
        vec![range(
            RangeType::Ecosystem,
            &[("introduced", "0"), ("fixed", fixed)],
        )]
    };
    let advs = vec![
        adv(
            "GHSA-5crp-9r3c-p9vr",
            "osv:NuGet",
            &[],
            vec![affected("NuGet", "newtonsoft.json", semver("13.0.1"), &[])],
        ),
        adv(
            "GHSA-pkgst",
            "osv:Packagist",
            &[],
            vec![affected("Packagist", "Symfony/Yaml", semver("5.0.0"), &[])],
        ),
        // npm names are case-sensitive: `Left-Pad` is another package.
        adv(
            "GHSA-npm",
            "osv:npm",
            &[],
            vec![affected("npm", "left-pad", semver("2.0.0"), &[])],
        ),
    ];
    let pkgs = vec![
        pkg("NuGet", "Newtonsoft.Json", "12.0.3"),
        pkg("Packagist", "symfony/yaml", "4.4.0"),
        pkg("npm", "Left-Pad", "1.0.0"),
    ];
    let through_memory = run(advs.clone(), pkgs.clone());
    let through_db = run_db(advs, pkgs);
    for (f, d) in [through_memory, through_db] {
        assert!(d.is_empty(), "{d:?}");
        let got: Vec<(&str, &str, Option<&str>)> = f
            .iter()
            .map(|f| {
                let v = f.vulnerability().unwrap();
                (
                    f.id.as_str(),
                    f.package().unwrap().name.as_str(),
                    v.fixed_version.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("GHSA-5crp-9r3c-p9vr", "Newtonsoft.Json", Some("13.0.1")),
                ("GHSA-pkgst", "symfony/yaml", Some("5.0.0")),
            ]
        );
        // How it matched names the package as the inventory spells it.
        let m = &f[0].vulnerability().unwrap().matched[0];
        assert_eq!(
            (m.ecosystem.as_str(), m.package.as_str()),
            ("NuGet", "Newtonsoft.Json")
        );
    }
}

#[test]
fn like_diagnostics_are_counted_per_ecosystem() {
    let git = |id: &str, name: &str| {
        adv(
            id,
            "ghsa",
            &[],
            vec![affected(
                "PyPI",
                name,
                vec![range(
                    RangeType::Git,
                    &[("introduced", "0"), ("fixed", "abc")],
                )],
                &[],
            )],
        )
    };
    let (f, d) = run(
        vec![
            git("GHSA-g1", "p"),
            git("GHSA-g2", "p"),
            git("GHSA-g3", "q"),
        ],
        vec![pkg("PyPI", "p", "1.0"), pkg("PyPI", "q", "1.0")],
    );
    assert!(f.is_empty());
    assert_eq!(
        messages(&d),
        [
            "3 GIT ranges skipped (PyPI): commit ranges cannot be compared to a package version: \
          GHSA-g1 (p), GHSA-g2 (p), GHSA-g3 (q)"
        ]
    );
    assert_eq!(d[0].code, Code::RangeSkipped);

    // A source that fails for every package: one diagnostic per ecosystem, not one per
    // package.
    let pkgs: Vec<Package> = (0..8)
        .map(|i| pkg("npm", &format!("p{i}"), "1.0.0"))
        .chain([pkg("PyPI", "x", "1.0")])
        .collect();
    let (_, d) = match_inventory(&inventory(pkgs), &Failing, &MatchOptions::default());
    assert_eq!(
        messages(&d),
        [
            "lookup of 8 npm packages failed: database is locked: p0, p1, p2, p3, p4 and 3 more",
            "lookup of PyPI/x failed: database is locked",
        ]
    );
    assert!(d.iter().all(|d| d.code == Code::LookupFailed));
}

// ---------------------------------------------------------------------------------------
// Versions that do not parse, other tools' spellings, titles

#[test]
fn an_unparsable_version_is_outside_every_range_with_a_note() {
    // Today's failure: `not-a-version` sorted before every PEP 440 version, so an
    // `introduced: 0` range matched it.
    let r = || {
        range(
            RangeType::Ecosystem,
            &[("introduced", "0"), ("fixed", "1.2.3")],
        )
    };
    let a = adv(
        "PYSEC-U",
        "pypa",
        &[],
        vec![affected("PyPI", "p", vec![r()], &[])],
    );
    let (f, d) = run(vec![a], vec![pkg("PyPI", "p", "not-a-version")]);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(
        messages(&d),
        [
            "ECOSYSTEM range skipped in PYSEC-U (PyPI/p@not-a-version): the installed version \
             is not a pep440 version"
        ]
    );
    assert_eq!(d[0].code, Code::RangeSkipped);

    // Go: a main module built from a checkout (`(devel)`, as Syft writes it) and an empty
    // version (Trivy's), against SEMVER ranges: counted per ecosystem.
    let go = |id: &str| {
        adv(
            id,
            "osv:Go",
            &[],
            vec![affected(
                "Go",
                "example.com/m",
                vec![range(
                    RangeType::Semver,
                    &[("introduced", "0"), ("fixed", "1.0.0")],
                )],
                &[],
            )],
        )
    };
    let (f, d) = run(
        vec![go("GO-1"), go("GO-2")],
        vec![
            pkg("Go", "example.com/m", "(devel)"),
            pkg("Go", "example.com/m", ""),
        ],
    );
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(
        messages(&d),
        [
            "4 SEMVER ranges skipped (Go): the installed version is not a semver version: \
             GO-1 (example.com/m@(devel)), GO-2 (example.com/m@(devel)), GO-1 (example.com/m@), \
             GO-2 (example.com/m@)"
        ]
    );

    // A valid version is still matched, and an exact `versions` entry still matches the
    // unparsable one.
    assert!(hit("PyPI", r(), "1.0"));
    let listed = adv(
        "PYSEC-L",
        "pypa",
        &[],
        vec![affected("PyPI", "p", vec![r()], &["not-a-version"])],
    );
    let (f, d) = run(vec![listed], vec![pkg("PyPI", "p", "not-a-version")]);
    assert_eq!(ids(&f), ["PYSEC-L"]);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn go_toolchain_spellings_of_the_standard_library() {
    let a = adv(
        "GO-2099-0002",
        "osv:Go",
        &[],
        vec![affected(
            "Go",
            "stdlib",
            vec![range(
                RangeType::Semver,
                &[
                    ("introduced", "0"),
                    ("fixed", "1.19.9"),
                    ("introduced", "1.20.0-0"),
                    ("fixed", "1.20.1"),
                ],
            )],
            &[],
        )],
    );
    // (version as written, compared as, affected)
    let cases = [
        ("go1.19.8", "1.19.8", true),
        ("v1.19.8", "1.19.8", true),
        ("1.19.8", "1.19.8", true),
        ("go1.19.9", "1.19.9", false),
        ("go1.20", "1.20.0", true),
        ("go1.20rc1", "1.20.0-rc.1", true),
        ("go1.20.1", "1.20.1", false),
        // Go's shorthand (osv.dev's queries write the standard library so)
        ("1.19", "1.19.0", true),
        ("v1.20", "1.20.0", true),
        ("1.20.1", "1.20.1", false),
    ];
    for (written, compared, affected) in cases {
        let (f, d) = run(vec![a.clone()], vec![pkg("Go", "stdlib", written)]);
        assert!(d.is_empty(), "{written}: {d:?}");
        assert_eq!(!f.is_empty(), affected, "{written}");
        if affected {
            let m = &f[0].vulnerability().unwrap().matched[0];
            assert_eq!(m.installed, compared, "{written}");
            // The finding names the package as the inventory wrote it.
            assert_eq!(f[0].package().unwrap().version, written);
        }
    }
    // A module whose version starts with `go` is not the toolchain: no version, no match.
    let m = adv(
        "GO-2099-0003",
        "osv:Go",
        &[],
        vec![affected(
            "Go",
            "example.com/m",
            vec![range(RangeType::Semver, &[("introduced", "0")])],
            &[],
        )],
    );
    let (f, d) = run(vec![m], vec![pkg("Go", "example.com/m", "go1.19.8")]);
    assert!(f.is_empty());
    assert_eq!(d.len(), 1, "{d:?}");
}

#[test]
fn title_falls_back_to_the_first_sentence_of_details() {
    let r = || range(RangeType::Ecosystem, &[("introduced", "0")]);
    let mut a = adv(
        "PYSEC-T",
        "pypa",
        &[],
        vec![affected("PyPI", "p", vec![r()], &[])],
    );
    let title = |a: &Advisory| {
        let (f, _) = run(vec![a.clone()], vec![pkg("PyPI", "p", "1.0")]);
        f[0].title.clone()
    };
    assert_eq!(title(&a).as_deref(), Some("summary of PYSEC-T"));
    // No summary (PyPA's records): the first sentence of `details`, white space collapsed,
    // abbreviations and version numbers not taken for its end.
    a.summary = None;
    a.details = Some(
        "Django 3.1.x before 3.1.13 and 3.2.x before\n3.2.5 allows QuerySet.order_by SQL \
         injection, e.g. via a client's input. Only apps that pass untrusted input are \
         affected.\n\nMore."
            .into(),
    );
    assert_eq!(
        title(&a).as_deref(),
        Some(
            "Django 3.1.x before 3.1.13 and 3.2.x before 3.2.5 allows QuerySet.order_by SQL \
             injection, e.g. via a client's input."
        )
    );
    // An empty summary counts as none; markdown headings are no sentence.
    a.summary = Some("  ".into());
    a.details = Some("## Impact\n\n### Details\nThe parser crashes. Always.".into());
    assert_eq!(title(&a).as_deref(), Some("The parser crashes."));
    // A first sentence over 160 characters is cut at a word, with an ellipsis.
    let long = format!("{} end.", "word ".repeat(60));
    a.details = Some(long);
    let t = title(&a).unwrap();
    assert!(t.ends_with("word…"), "{t}");
    assert!(t.chars().count() <= 160, "{}", t.chars().count());
    // Neither: no title.
    a.details = None;
    assert_eq!(title(&a), None);
}
