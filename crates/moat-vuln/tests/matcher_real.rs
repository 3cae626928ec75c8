//! The matcher on real published records from `../shared/data/vulns` (Go vulndb OSV JSON,
//! the PyPA advisory database's OSV YAML, RustSec's OSV JSON). The expected ids were
//! written down from the records themselves (see each test and
//! `tests/data/matcher/go-stdlib-1.19.8.tsv`).
//!
//! Without the shared directory the tests print "skipped" and pass, except under `CI=true`
//! where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::advisory::Advisory;
use moat_model::{Artifact, ArtifactKind, Inventory, Location, Package, Tool};
use moat_model::{Diagnostic, Finding, Status};
use moat_vuln::matcher::{MatchOptions, MemorySource, match_inventory};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/vulns");

/// The shared directory `sub`, or `None` (test skipped) when it is missing outside CI.
fn shared(sub: &str) -> Option<PathBuf> {
    let p = Path::new(SHARED).join(sub);
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("shared data missing: {}", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}

/// Every `*.json` / `*.yaml` record of `dir` whose text mentions `needle`.
fn load(dir: &Path, needle: &str) -> Vec<Advisory> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let bytes = std::fs::read(&p).unwrap();
        if !String::from_utf8_lossy(&bytes).contains(needle) {
            continue;
        }
        let adv: Advisory =
            match p.extension().and_then(|e| e.to_str()) {
                Some("json") => serde_json::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display())),
                Some("yaml") => serde_saphyr::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display())),
                _ => continue,
            };
        out.push(adv);
    }
    out
}

fn package(kind: &str, eco: &str, name: &str, version: &str) -> Package {
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
        layer: None,
        locations: vec![Location {
            path: "/app/lock".into(),
            layer: None,
        }]
        .into(),
        dev: false,
        application: false,
        file_count: None,
        metadata: Default::default(),
    }
}

fn scan(advs: Vec<Advisory>, pkgs: Vec<Package>) -> (Vec<Finding>, Vec<Diagnostic>) {
    let inv = Inventory {
        schema_version: moat_model::SCHEMA_VERSION.into(),
        tool: Tool::default(),
        artifact: Artifact {
            name: "real".into(),
            kind: ArtifactKind::Dir,
            path: "/real".into(),
            repo_tags: vec![],
            manifest_digest: None,
            index_digest: None,
            config_digest: None,
            platform: None,
            os: None,
            layers: vec![],
            config: None,
        },
        packages: pkgs,
        relationships: vec![],
        diagnostics: vec![],
        package_files: Default::default(),
    };
    let src = MemorySource::new(advs, HashSet::new());
    match_inventory(&inv, &src, &MatchOptions::default())
}

#[test]
fn go_stdlib_1_19_8() {
    let Some(dir) = shared("go/osv") else { return };
    let advs = load(&dir, "\"stdlib\"");
    let want_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/matcher/go-stdlib-1.19.8.tsv"
    ))
    .unwrap();
    let mut want: Vec<(String, String, String)> = want_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[0].into(), c[1].into(), c[2].into())
        })
        .collect();
    want.sort();

    let (f, _) = scan(advs, vec![package("golang", "Go", "stdlib", "v1.19.8")]);
    let mut got: Vec<(String, String, String)> = f
        .iter()
        .map(|f| {
            (
                f.id.clone(),
                f.vulnerability().unwrap().matched[0].advisory.clone(),
                f.vulnerability()
                    .unwrap()
                    .fixed_version
                    .clone()
                    .unwrap_or_default(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, want);
    // Spot checks written from the records by hand.
    let by_record = |id: &str| {
        f.iter().find(|f| {
            f.vulnerability()
                .unwrap()
                .matched
                .iter()
                .any(|m| m.advisory == id)
        })
    };
    // GO-2023-1705: introduced 0, fixed 1.19.8 -> 1.19.8 is not affected.
    assert!(by_record("GO-2023-1705").is_none());
    // GO-2023-1751 (CVE-2023-24539): introduced 0, fixed 1.19.9.
    let x = by_record("GO-2023-1751").unwrap();
    assert_eq!(x.id, "CVE-2023-24539");
    assert_eq!(x.aliases, ["GO-2023-1751"]);
    assert_eq!(x.status, Status::Fixed);
    assert_eq!(x.vulnerability().unwrap().matched[0].installed, "1.19.8");
    assert_eq!(x.vulnerability().unwrap().matched[0].package, "stdlib");
    // GO-2023-2102 (HTTP/2 rapid reset) also names a GHSA.
    let x = by_record("GO-2023-2102").unwrap();
    assert_eq!(x.id, "CVE-2023-39325");
    assert_eq!(x.aliases, ["GHSA-4374-p667-p6c8", "GO-2023-2102"]);
}

#[test]
fn crates_regex_1_5_4() {
    let Some(dir) = shared("rust/osv/crates") else {
        return;
    };
    let advs = load(&dir, "\"regex\"");
    // RUSTSEC-2022-0013: crates.io regex, SEMVER introduced 0.0.0-0, fixed 1.5.5; aliases
    // CVE-2022-24713 and GHSA-m5pq-gvj9-9vr8. It is the only regex record.
    let (f, _) = scan(
        advs.clone(),
        vec![package("cargo", "crates.io", "regex", "1.5.4")],
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].id, "CVE-2022-24713");
    assert_eq!(f[0].aliases, ["GHSA-m5pq-gvj9-9vr8", "RUSTSEC-2022-0013"]);
    assert_eq!(
        f[0].vulnerability().unwrap().fixed_version.as_deref(),
        Some("1.5.5")
    );
    assert_eq!(
        f[0].vulnerability().unwrap().matched[0].range,
        "SEMVER introduced 0.0.0-0, fixed 1.5.5"
    );
    let (f, _) = scan(advs, vec![package("cargo", "crates.io", "regex", "1.5.5")]);
    assert!(f.is_empty());
}

#[test]
fn pypi_django_3_2_4_from_pypa_yaml() {
    let Some(dir) = shared("pypi/pypa-osv-yaml/vulns/django") else {
        return;
    };
    let advs = load(&dir, "");
    assert!(advs.len() > 100);
    // The records whose `versions` list contains 3.2.4 (every django record of the PyPA
    // database has one), with their single CVE alias.
    let want = [
        ("CVE-2021-35042", "PYSEC-2021-109"),
        ("CVE-2021-44420", "PYSEC-2021-439"),
        ("CVE-2021-45115", "PYSEC-2022-1"),
        ("CVE-2022-22818", "PYSEC-2022-19"),
        ("CVE-2022-28346", "PYSEC-2022-190"),
        ("CVE-2022-28347", "PYSEC-2022-191"),
        ("CVE-2021-45116", "PYSEC-2022-2"),
        ("CVE-2022-23833", "PYSEC-2022-20"),
        ("CVE-2022-34265", "PYSEC-2022-213"),
        ("CVE-2022-36359", "PYSEC-2022-245"),
        ("CVE-2021-45452", "PYSEC-2022-3"),
        ("CVE-2022-41323", "PYSEC-2022-304"),
        ("CVE-2023-36053", "PYSEC-2023-100"),
        ("CVE-2023-23969", "PYSEC-2023-12"),
        ("CVE-2023-24580", "PYSEC-2023-13"),
        ("CVE-2023-46695", "PYSEC-2023-222"),
        ("CVE-2023-41164", "PYSEC-2023-225"),
        ("CVE-2023-43665", "PYSEC-2023-226"),
        ("CVE-2023-31047", "PYSEC-2023-61"),
        ("CVE-2024-24680", "PYSEC-2024-28"),
        ("CVE-2024-27351", "PYSEC-2024-47"),
    ];
    // The inventory writes the name as the project does (`Django`).
    let (f, _) = scan(advs, vec![package("pypi", "PyPI", "Django", "3.2.4")]);
    let mut got: Vec<(&str, &str)> = f
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                f.vulnerability().unwrap().matched[0].advisory.as_str(),
            )
        })
        .collect();
    got.sort();
    let mut want = want.to_vec();
    want.sort();
    assert_eq!(got, want);
    // PYSEC-2021-98 is fixed in exactly 3.2.4 (`introduced 3.2, fixed 3.2.4`).
    assert!(!f.iter().any(|f| {
        f.vulnerability()
            .unwrap()
            .matched
            .iter()
            .any(|m| m.advisory == "PYSEC-2021-98")
    }));
    // PYSEC-2021-109 (CVE-2021-35042, QuerySet.order_by SQL injection): 3.2.x fixed in 3.2.5.
    let x = f.iter().find(|f| f.id == "CVE-2021-35042").unwrap();
    assert_eq!(
        x.vulnerability().unwrap().fixed_version.as_deref(),
        Some("3.2.5")
    );
    assert_eq!(x.aliases, ["GHSA-xpfp-f569-q3p2", "PYSEC-2021-109"]);
}
