//! Alpine secdb importer against the real files in `../shared/data`.
//!
//! Counts are checked against `tests/data/alpine/count.py`, an independent Python reading of
//! the same files; vunnel's snapshots of its Alpine provider serve as an oracle for the
//! fixed versions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference, Status,
};
use moat_vuln::import::alpine::{
    import_secdb_json, import_secdb_yaml, parse_secdb_json, parse_secdb_yaml,
};
use std::collections::BTreeSet;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/");

/// The bytes of a shared data file; `None` (test skipped) when the shared data is absent,
/// a failure when `CI=true`.
fn shared(rel: &str) -> Option<Vec<u8>> {
    let path = format!("{SHARED}{rel}");
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("shared data missing in CI: {path}: {e}");
            }
            println!("skipped: {path} not readable ({e})");
            None
        }
    }
}

fn parse(rel: &str) -> Option<Vec<Advisory>> {
    let bytes = shared(rel)?;
    let r = if rel.ends_with(".json") {
        parse_secdb_json(&bytes)
    } else {
        parse_secdb_yaml(&bytes)
    };
    Some(r.unwrap_or_else(|e| panic!("{rel}: {e}")))
}

fn fixed(pkg: &str, eco: &str, v: &str) -> Affected {
    Affected {
        package: AffectedPackage {
            ecosystem: eco.into(),
            name: pkg.into(),
            purl: None,
        },
        ranges: vec![Range {
            kind: RangeType::Ecosystem,
            repo: None,
            events: vec![Event::Introduced("0".into()), Event::Fixed(v.into())],
        }],
        ..Affected::default()
    }
}

/// The expected record for upstream id `id`: the record id is `ALPINE-<release>-<id>` and
/// `id` is its first alias.
fn advisory(id: &str, aliases: &[&str], related: &[&str], affected: Vec<Affected>) -> Advisory {
    let release = affected
        .first()
        .and_then(|a| a.package.ecosystem.strip_prefix("Alpine:"))
        .unwrap_or("")
        .to_string();
    Advisory {
        id: format!("ALPINE-{release}-{id}"),
        aliases: std::iter::once(id)
            .chain(aliases.iter().copied())
            .map(|s| s.to_string())
            .collect(),
        related: related.iter().map(|s| s.to_string()).collect(),
        affected,
        references: vec![Reference {
            kind: "ADVISORY".into(),
            url: format!("https://security.alpinelinux.org/vuln/{id}"),
        }],
        source: "alpine-secdb".into(),
        ..Advisory::default()
    }
}

/// `python3 tests/data/alpine/count.py` (run from crates/moat-vuln) printed, per file:
/// advisories, affected entries, "0" (not affected) entries:
///
/// ```text
/// vulns/alpine/alpine-secdb-yaml/v3.10/community.yaml 692 719 0
/// vulns/alpine/alpine-secdb-yaml/v3.10/main.yaml 1110 1178 0
/// vulns/alpine/alpine-secdb-yaml/v3.11/community.yaml 829 894 0
/// vulns/alpine/alpine-secdb-yaml/v3.11/main.yaml 1123 1199 0
/// vulns/alpine/alpine-secdb-yaml/v3.3/community.yaml 0 0 0
/// vulns/alpine/alpine-secdb-yaml/v3.3/main.yaml 458 461 0
/// vulns/alpine/alpine-secdb-yaml/v3.4/community.yaml 14 14 0
/// vulns/alpine/alpine-secdb-yaml/v3.4/main.yaml 666 671 0
/// vulns/alpine/alpine-secdb-yaml/v3.5/community.yaml 98 102 0
/// vulns/alpine/alpine-secdb-yaml/v3.5/main.yaml 801 825 0
/// vulns/alpine/alpine-secdb-yaml/v3.6/community.yaml 195 216 0
/// vulns/alpine/alpine-secdb-yaml/v3.6/main.yaml 868 896 0
/// vulns/alpine/alpine-secdb-yaml/v3.7/community.yaml 378 410 0
/// vulns/alpine/alpine-secdb-yaml/v3.7/main.yaml 1037 1080 0
/// vulns/alpine/alpine-secdb-yaml/v3.8/community.yaml 462 484 0
/// vulns/alpine/alpine-secdb-yaml/v3.8/main.yaml 1089 1137 5
/// vulns/alpine/alpine-secdb-yaml/v3.9/community.yaml 575 600 0
/// vulns/alpine/alpine-secdb-yaml/v3.9/main.yaml 1059 1119 0
/// oracles/vunnel-provider-fixtures/alpine/input/secdb/v3.15/community.yaml 3 3 0
/// oracles/vunnel-provider-fixtures/alpine/input/secdb/v3.15/main.yaml 13 13 0
/// vulns/alpine/vuln-list-sample/3.21/main/apk-tools.json 2 2 0
/// vulns/alpine/vuln-list-sample/3.21/main/busybox.json 31 31 3
/// vulns/alpine/vuln-list-sample/3.21/main/musl.json 6 6 0
/// vulns/alpine/vuln-list-sample/3.21/main/openssl.json 101 101 5
/// vulns/alpine/vuln-list-sample/3.21/main/zlib.json 7 7 2
/// TOTAL 11617 12168 15
/// ```
const COUNTS: &[(&str, usize, usize, usize)] = &[
    (
        "vulns/alpine/alpine-secdb-yaml/v3.10/community.yaml",
        692,
        719,
        0,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.10/main.yaml",
        1110,
        1178,
        0,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.11/community.yaml",
        829,
        894,
        0,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.11/main.yaml",
        1123,
        1199,
        0,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.3/community.yaml",
        0,
        0,
        0,
    ),
    ("vulns/alpine/alpine-secdb-yaml/v3.3/main.yaml", 458, 461, 0),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.4/community.yaml",
        14,
        14,
        0,
    ),
    ("vulns/alpine/alpine-secdb-yaml/v3.4/main.yaml", 666, 671, 0),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.5/community.yaml",
        98,
        102,
        0,
    ),
    ("vulns/alpine/alpine-secdb-yaml/v3.5/main.yaml", 801, 825, 0),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.6/community.yaml",
        195,
        216,
        0,
    ),
    ("vulns/alpine/alpine-secdb-yaml/v3.6/main.yaml", 868, 896, 0),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.7/community.yaml",
        378,
        410,
        0,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.7/main.yaml",
        1037,
        1080,
        0,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.8/community.yaml",
        462,
        484,
        0,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.8/main.yaml",
        1089,
        1137,
        5,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.9/community.yaml",
        575,
        600,
        0,
    ),
    (
        "vulns/alpine/alpine-secdb-yaml/v3.9/main.yaml",
        1059,
        1119,
        0,
    ),
    (
        "oracles/vunnel-provider-fixtures/alpine/input/secdb/v3.15/community.yaml",
        3,
        3,
        0,
    ),
    (
        "oracles/vunnel-provider-fixtures/alpine/input/secdb/v3.15/main.yaml",
        13,
        13,
        0,
    ),
    (
        "vulns/alpine/vuln-list-sample/3.21/main/apk-tools.json",
        2,
        2,
        0,
    ),
    (
        "vulns/alpine/vuln-list-sample/3.21/main/busybox.json",
        31,
        31,
        3,
    ),
    ("vulns/alpine/vuln-list-sample/3.21/main/musl.json", 6, 6, 0),
    (
        "vulns/alpine/vuln-list-sample/3.21/main/openssl.json",
        101,
        101,
        5,
    ),
    ("vulns/alpine/vuln-list-sample/3.21/main/zlib.json", 7, 7, 2),
];

#[test]
fn record_counts_match_the_independent_count() {
    let mut totals = (0, 0, 0);
    for &(rel, ids, entries, not_affected) in COUNTS {
        let Some(advs) = parse(rel) else { return };
        let n_entries: usize = advs.iter().map(|a| a.affected.len()).sum();
        let n_na = advs
            .iter()
            .flat_map(|a| &a.affected)
            .filter(|a| a.status == Some(Status::NotAffected))
            .count();
        assert_eq!(
            (advs.len(), n_entries, n_na),
            (ids, entries, not_affected),
            "{rel}"
        );
        let unique: BTreeSet<&str> = advs.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(unique.len(), advs.len(), "{rel}: one advisory per id");
        totals = (totals.0 + ids, totals.1 + entries, totals.2 + not_affected);
        for a in &advs {
            assert_eq!(a.source, "alpine-secdb");
            for af in &a.affected {
                assert!(af.package.ecosystem.starts_with("Alpine:v3."), "{rel}");
            }
        }
    }
    assert_eq!(totals, (11617, 12168, 15));
}

/// The record for `id` (the CVE or other upstream id, which is the record's first alias;
/// record ids are `ALPINE-<release>-<id>`).
fn find<'a>(advs: &'a [Advisory], id: &str) -> &'a Advisory {
    advs.iter()
        .find(|a| a.aliases.first().map(String::as_str) == Some(id))
        .unwrap_or_else(|| panic!("{id} missing"))
}

#[test]
fn multi_cve_line_with_an_xsa() {
    // v3.7/main.yaml, xen, 4.9.1-r3: "CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI"
    let Some(advs) = parse("vulns/alpine/alpine-secdb-yaml/v3.7/main.yaml") else {
        return;
    };
    for id in ["CVE-2017-5753", "CVE-2017-5715", "CVE-2017-5754"] {
        assert_eq!(
            find(&advs, id),
            &advisory(
                id,
                &[],
                &["XSA-254"],
                vec![fixed("xen", "Alpine:v3.7", "4.9.1-r3")]
            )
        );
    }
    // "XPTI" is a word, not an id; XSA-254 belongs to three CVEs, so it is no advisory itself.
    assert!(!advs.iter().any(|a| a.id == "XPTI" || a.id == "XSA-254"));
    // A lone XSA is its own advisory.
    assert_eq!(
        find(&advs, "XSA-246"),
        &advisory(
            "XSA-246",
            &[],
            &[],
            vec![fixed("xen", "Alpine:v3.7", "4.9.1-r1")]
        )
    );
}

#[test]
fn single_cve_with_alias_and_several_packages() {
    let Some(advs) = parse("vulns/alpine/alpine-secdb-yaml/v3.10/main.yaml") else {
        return;
    };
    // xen 4.8.1-r2: "CVE-2017-8904 XSA-214"
    assert_eq!(
        find(&advs, "CVE-2017-8904"),
        &advisory(
            "CVE-2017-8904",
            &["XSA-214"],
            &[],
            vec![fixed("xen", "Alpine:v3.10", "4.8.1-r2")]
        )
    );
    // ansible's first fix in v3.10 (the file's first entry).
    assert_eq!(
        find(&advs, "CVE-2019-10206"),
        &advisory(
            "CVE-2019-10206",
            &[],
            &[],
            vec![fixed("ansible", "Alpine:v3.10", "2.8.4-r0")]
        )
    );
}

#[test]
fn never_affected_zero_version() {
    // v3.8/main.yaml: db, secfixes "0": [CVE-2016-0682, ...]
    let Some(advs) = parse("vulns/alpine/alpine-secdb-yaml/v3.8/main.yaml") else {
        return;
    };
    let want = advisory(
        "CVE-2016-0682",
        &[],
        &[],
        vec![Affected {
            package: AffectedPackage {
                ecosystem: "Alpine:v3.8".into(),
                name: "db".into(),
                purl: None,
            },
            status: Some(Status::NotAffected),
            ..Affected::default()
        }],
    );
    assert_eq!(find(&advs, "CVE-2016-0682"), &want);
}

#[test]
fn vuln_list_json_per_package() {
    let Some(advs) = parse("vulns/alpine/vuln-list-sample/3.21/main/busybox.json") else {
        return;
    };
    // "1.35.0-r7": ["ALPINE-13661", "CVE-2022-28391"]: two strings, two advisories.
    assert_eq!(
        find(&advs, "ALPINE-13661"),
        &advisory(
            "ALPINE-13661",
            &[],
            &[],
            vec![fixed("busybox", "Alpine:v3.21", "1.35.0-r7")]
        )
    );
    assert_eq!(
        find(&advs, "CVE-2021-42373").affected[0].status,
        Some(Status::NotAffected)
    );
    assert!(find(&advs, "CVE-2021-42373").affected[0].ranges.is_empty());
}

#[test]
fn secdb_json_whole_file_form() {
    let doc = br#"{"distroversion":"v3.19","reponame":"main","archs":["x86_64"],
      "packages":[{"pkg":{"name":"zlib","secfixes":{"1.2.12-r2":["CVE-2022-37434"],"0":["CVE-2023-6992"]}}},
                  {"pkg":{"secfixes":{"1-r0":["CVE-2000-0001"]}}}]}"#;
    let r = import_secdb_json(doc).unwrap();
    assert_eq!(r.advisories.len(), 2);
    assert_eq!(
        find(&r.advisories, "CVE-2022-37434"),
        &advisory(
            "CVE-2022-37434",
            &[],
            &[],
            vec![fixed("zlib", "Alpine:v3.19", "1.2.12-r2")]
        )
    );
    assert_eq!(
        r.skipped,
        vec![(
            "packages[1]".to_string(),
            "package without a `name`".to_string()
        )]
    );
}

#[test]
fn vunnel_oracle_agrees() {
    // vunnel's Alpine provider read these two files and wrote one snapshot per (release, CVE).
    let dir = "oracles/vunnel-provider-fixtures/alpine";
    let mut ours = BTreeSet::new();
    for f in ["main", "community"] {
        let Some(advs) = parse(&format!("{dir}/input/secdb/v3.15/{f}.yaml")) else {
            return;
        };
        for a in advs {
            for af in &a.affected {
                let v = af.ranges[0].events[1].version().to_string();
                ours.insert((a.aliases[0].clone(), af.package.name.clone(), v));
            }
        }
    }
    let mut theirs = BTreeSet::new();
    let snap_dir = format!("{SHARED}{dir}/snapshots/3.15");
    for e in std::fs::read_dir(&snap_dir).unwrap() {
        let j: serde_json::Value =
            serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
        let v = &j["item"]["Vulnerability"];
        for fi in v["FixedIn"].as_array().unwrap() {
            assert_eq!(fi["NamespaceName"], "alpine:3.15");
            theirs.insert((
                v["Name"].as_str().unwrap().to_string(),
                fi["Name"].as_str().unwrap().to_string(),
                fi["Version"].as_str().unwrap().to_string(),
            ));
        }
    }
    assert_eq!(theirs.len(), 16);
    assert_eq!(ours, theirs, "every (CVE, package, fixed version) agrees");
}

#[test]
fn malformed_input_never_panics() {
    let Some(bytes) = shared("vulns/alpine/alpine-secdb-yaml/v3.10/main.yaml") else {
        return;
    };
    let full = parse_secdb_yaml(&bytes).unwrap().len();
    // Truncated anywhere: an error, or fewer records (a cut at a line end is valid YAML).
    for cut in (0..bytes.len()).step_by(997) {
        match parse_secdb_yaml(&bytes[..cut]) {
            Ok(a) => assert!(a.len() <= full, "cut at {cut}"),
            Err(e) => assert!(e.to_string().starts_with("alpine secdb"), "{e}"),
        }
    }
    // A cut inside a quoted string is an error.
    let e = parse_secdb_yaml(b"distroversion: v3.10\npackages:\n  - pkg:\n      name: \"zli")
        .unwrap_err();
    assert!(e.to_string().contains("YAML"), "{e}");
    // Truncated JSON is an error.
    let json = shared("vulns/alpine/vuln-list-sample/3.21/main/zlib.json").unwrap();
    for cut in 1..json.len() - 1 {
        assert!(parse_secdb_json(&json[..cut]).is_err(), "cut at {cut}");
    }
    // Without a release nothing can be matched.
    let e = parse_secdb_yaml(b"reponame: main\npackages: []\n").unwrap_err();
    assert!(e.to_string().contains("distroversion"), "{e}");
    assert!(parse_secdb_yaml(b"- just\n- a list\n").is_err());
    assert!(parse_secdb_yaml(b"\xff\xfe").is_err());
    // Bad records are skipped with a reason, the rest is kept.
    let r = import_secdb_yaml(
        b"distroversion: v3.10\npackages:\n  - pkg:\n      name: a\n      secfixes: [1, 2]\n  - nopkg: 1\n  - pkg:\n      name: b\n      secfixes:\n        1.0-r0:\n          - (no id here)\n          - CVE-2020-0001\n",
    )
    .unwrap();
    assert_eq!(r.advisories.len(), 1);
    assert_eq!(
        r.skipped,
        vec![
            ("a".to_string(), "`secfixes` is not a mapping".to_string()),
            (
                "packages[1]".to_string(),
                "entry has no `pkg` mapping".to_string()
            ),
            (
                "b 1.0-r0".to_string(),
                "no vulnerability id in \"(no id here)\"".to_string()
            ),
        ]
    );
}

#[test]
fn yaml_alias_bomb_is_rejected() {
    let mut bomb = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    let mut prev = 'a';
    for c in 'b'..='k' {
        bomb.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = c;
    }
    bomb.push_str("distroversion: v3.10\npackages: []\n");
    let e = parse_secdb_yaml(bomb.as_bytes()).unwrap_err();
    assert!(e.to_string().starts_with("alpine secdb YAML"), "{e}");
}
