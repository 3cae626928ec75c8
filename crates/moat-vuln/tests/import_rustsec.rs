//! RustSec's TOML-in-Markdown importer against the real advisory-db copy, checked against
//! RustSec's own OSV export of the same advisories (both in `shared/data/vulns/rust`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::advisory::{Event, RangeType};
use moat_vuln::import::{self, rustsec};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn vulns() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/vulns"
    ));
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("shared data missing at {}", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}

/// Events as (introduced, fixed) intervals with the lowest version spelled one way and
/// touching intervals merged, so two spellings of the same version set compare equal.
fn intervals(events: &[Event]) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for e in events {
        match e {
            Event::Introduced(v) => {
                let v = if v == "0" || v == "0.0.0-0" {
                    "0".to_string()
                } else {
                    v.clone()
                };
                if let Some(last) = out.last_mut()
                    && last.1.as_deref() == Some(v.as_str())
                {
                    last.1 = None; // [a, v) + [v, ..) = [a, ..)
                    continue;
                }
                out.push((v, None));
            }
            Event::Fixed(v) => out.last_mut().expect("fixed after introduced").1 = Some(v.clone()),
            other => panic!("unexpected event {other:?}"),
        }
    }
    // An interval [v, v) is empty: RustSec's export writes some.
    out.retain(|(lo, hi)| hi.as_deref() != Some(lo.as_str()));
    out
}

#[test]
fn advisory_db_imports_and_matches_rustsecs_osv_export() {
    let Some(v) = vulns() else { return };
    let toml = import::import_path(&v.join("rust/advisory-db-toml-md")).unwrap();
    // find rust/advisory-db-toml-md -name '*.md' | wc -l  => 1225 (1205 crates/*/RUSTSEC-*.md,
    // 20 rust/*/CVE-*.md for the toolchain)
    assert_eq!(toml.advisories.len(), 1225);
    assert!(toml.malformed.is_empty(), "{:?}", toml.malformed);
    assert!(toml.advisories.iter().all(|a| a.source == "rustsec"));
    assert_eq!(import::source_name(&v.join("rust"), &toml), "rustsec");

    let osv = import::import_path(&v.join("rust/osv")).unwrap();
    // find rust/osv -name '*.json' | wc -l  => 1206
    assert_eq!(osv.advisories.len(), 1206);
    assert!(osv.advisories.iter().all(|a| a.source == "osv:crates.io"));

    let exceptions: BTreeMap<String, String> = include_str!("data/rustsec/exceptions.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, why) = l.split_once(' ').unwrap_or((l, ""));
            (id.to_string(), why.trim().to_string())
        })
        .collect();
    let exported: BTreeMap<&str, _> = osv.advisories.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut compared = 0;
    let mut differing = BTreeSet::new();
    for a in &toml.advisories {
        let Some(o) = exported.get(a.id.as_str()) else {
            continue;
        };
        compared += 1;
        assert_eq!(a.affected.len(), 1);
        assert_eq!(o.affected.len(), 1, "{}", a.id);
        assert_eq!(
            a.affected[0].package.name, o.affected[0].package.name,
            "{}",
            a.id
        );
        assert_eq!(a.affected[0].package.ecosystem, "crates.io");
        assert_eq!(o.affected[0].ranges.len(), 1, "{}", a.id);
        assert_eq!(a.affected[0].ranges[0].kind, RangeType::Semver);
        let mine = intervals(&a.affected[0].ranges[0].events);
        let theirs = intervals(&o.affected[0].ranges[0].events);
        if mine != theirs {
            differing.insert(a.id.clone());
            if !exceptions.contains_key(&a.id) {
                eprintln!(
                    "{}: ranges differ from RustSec's OSV export:\n moat {mine:?}\n osv  {theirs:?}",
                    a.id
                );
            }
        }
        let mut al = a.aliases.clone();
        let mut ol = o.aliases.clone();
        al.sort();
        ol.sort();
        assert_eq!(al, ol, "{}: aliases", a.id);
        assert_eq!(
            a.withdrawn.is_some(),
            o.withdrawn.is_some(),
            "{}: withdrawn",
            a.id
        );
        assert_eq!(
            a.summary.as_deref().map(str::trim),
            o.summary.as_deref().map(str::trim),
            "{}: summary",
            a.id
        );
    }
    // python3: ids of crates/*/RUSTSEC-*.md & ids of osv/crates/*.json  => 1205 in both
    // (RUSTSEC-2025-0000 is only in the export).
    assert_eq!(compared, 1205);
    let unexplained: Vec<_> = differing
        .iter()
        .filter(|d| !exceptions.contains_key(*d))
        .collect();
    assert!(
        unexplained.is_empty(),
        "ranges differ from the export (see stderr): {unexplained:?}"
    );
    let stale: Vec<_> = exceptions
        .keys()
        .filter(|k| !differing.contains(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "exceptions that no longer differ: {stale:?}"
    );
}

#[test]
fn exact_records() {
    let Some(v) = vulns() else { return };
    let read = |rel: &str| {
        rustsec::parse(&std::fs::read(v.join("rust/advisory-db-toml-md").join(rel)).unwrap())
            .unwrap()
    };

    // patched = ["^0.7.1", ">= 0.8.1"], unaffected = ["< 0.3"]
    let a = read(
        "crates/spin/RUSTSEC-2019-0004.md"
            .replace("spin", &find_crate(&v, "RUSTSEC-2019-0004"))
            .as_str(),
    );
    assert_eq!(
        a.affected[0].ranges[0].events,
        [
            Event::Introduced("0.3.0".into()),
            Event::Fixed("0.7.1".into()),
            Event::Introduced("0.8.0-0".into()),
            Event::Fixed("0.8.1".into()),
        ]
    );

    // std (the toolchain collection): patched = [">= 1.53.0"]
    let s = read("rust/std/CVE-2021-29922.md");
    assert_eq!(s.affected[0].package.name, "std");
    assert_eq!(
        s.affected[0].ranges[0].events,
        [Event::Introduced("0".into()), Event::Fixed("1.53.0".into())]
    );
    assert_eq!(
        s.summary.as_deref(),
        Some("Improper Input Validation of octal literals in `std::net`")
    );
    assert_eq!(s.published.as_deref(), Some("2020-01-31T12:00:00Z"));
    assert!(
        s.details
            .as_deref()
            .unwrap()
            .starts_with("Improper input validation of octal strings")
    );

    // informational, nothing patched: every version
    let b = read("crates/badge/RUSTSEC-2022-0057.md");
    assert_eq!(
        b.affected[0].ranges[0].events,
        [Event::Introduced("0".into())]
    );
    assert_eq!(
        b.affected[0].package.purl.as_deref(),
        Some("pkg:cargo/badge")
    );
    assert!(
        b.references
            .iter()
            .any(|r| r.url == "https://rustsec.org/advisories/RUSTSEC-2022-0057.html")
    );
}

fn find_crate(v: &std::path::Path, id: &str) -> String {
    for e in std::fs::read_dir(v.join("rust/advisory-db-toml-md/crates")).unwrap() {
        let e = e.unwrap();
        if e.path().join(format!("{id}.md")).exists() {
            return e.file_name().to_string_lossy().into_owned();
        }
    }
    panic!("{id} not found");
}

#[test]
fn malformed_rustsec() {
    assert!(rustsec::parse(b"# no front matter").is_err());
    assert!(rustsec::parse(b"```toml\n[advisory]\nid = \"RUSTSEC-1\"\n").is_err());
    assert!(rustsec::parse(b"```toml\n[advisory]\nid = \"RUSTSEC-1\"\npackage = \"x\"\n[versions]\npatched = [\"~> 1\"]\n```\n# T\n").is_err());
    let ok = rustsec::parse(
        b"```toml\n[advisory]\nid = \"RUSTSEC-1\"\npackage = \"x\"\ncvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"\nwithdrawn = \"2024-02-01\"\n[versions]\npatched = [\">= 1.2.3, < 1.3\", \">= 1.3.4\"]\n```\n\n# Title\n\nBody.\n",
    )
    .unwrap();
    assert_eq!(ok.severity[0].kind, "CVSS_V3");
    assert_eq!(ok.withdrawn.as_deref(), Some("2024-02-01T12:00:00Z"));
    assert_eq!(ok.details.as_deref(), Some("Body."));
    assert_eq!(
        ok.affected[0].ranges[0].events,
        [
            Event::Introduced("0".into()),
            Event::Fixed("1.2.3".into()),
            Event::Introduced("1.3.0".into()),
            Event::Fixed("1.3.4".into()),
        ]
    );
}
