//! Debian security-tracker importers against the real files in `../shared/data`.
//!
//! Counts are checked against `tests/data/debian/count.py` (an independent Python reading);
//! `tests/data/debian/dsa-dla-fixes.tsv` (written by `tests/data/debian/fixes.py` from the
//! lists alone) must be reproduced exactly; vunnel's Debian provider snapshots are an oracle
//! for the tracker JSON, with every difference listed in `tests/data/debian/vunnel-differences.txt`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeType, Reference, Status,
};
use moat_vuln::import::debian::{
    ListKind, import_list, import_tracker_json, parse_list, parse_tracker_json,
};
use std::collections::{BTreeMap, BTreeSet};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/debian/");
const DSA: &str = "vulns/debian/security-tracker-2023-04/data/DSA/list";
const DLA: &str = "vulns/debian/security-tracker-2023-04/data/DLA/list";
const VUNNEL: &str = "oracles/vunnel-provider-fixtures/debian/";

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

fn list(rel: &str, kind: ListKind) -> Option<Vec<Advisory>> {
    Some(parse_list(&shared(rel)?, kind).unwrap())
}

fn pkg(eco: &str, name: &str) -> AffectedPackage {
    AffectedPackage {
        ecosystem: eco.into(),
        name: name.into(),
        purl: None,
    }
}

fn fixed(eco: &str, name: &str, v: &str, severity: Option<&str>) -> Affected {
    Affected {
        package: pkg(eco, name),
        ranges: vec![Range {
            kind: RangeType::Ecosystem,
            repo: None,
            events: vec![Event::Introduced("0".into()), Event::Fixed(v.into())],
        }],
        severity: severity.map(Into::into),
        ..Affected::default()
    }
}

fn state(eco: &str, name: &str, status: Status, severity: Option<&str>) -> Affected {
    let ranges = if status == Status::NotAffected {
        vec![]
    } else {
        vec![Range {
            kind: RangeType::Ecosystem,
            repo: None,
            events: vec![Event::Introduced("0".into())],
        }]
    };
    Affected {
        package: pkg(eco, name),
        ranges,
        status: Some(status),
        severity: severity.map(Into::into),
        ..Affected::default()
    }
}

fn tracker_ref(id: &str) -> Vec<Reference> {
    vec![Reference {
        kind: "ADVISORY".into(),
        url: format!("https://security-tracker.debian.org/tracker/{id}"),
    }]
}

/// The record for `id`: a DSA/DLA by its id, a tracker CVE by its `DEBIAN-` record id.
fn find<'a>(advs: &'a [Advisory], id: &str) -> &'a Advisory {
    advs.iter()
        .find(|a| a.id == id || a.id == format!("DEBIAN-{id}"))
        .unwrap_or_else(|| panic!("{id} missing"))
}

#[derive(Debug, Default, PartialEq)]
struct ListCounts {
    entries: usize,
    with_ids: usize,
    release_lines: usize,
    fixed: usize,
    not_affected: usize,
    unfixed: usize,
    end_of_life: usize,
}

fn list_counts(advs: &[Advisory]) -> ListCounts {
    let mut c = ListCounts {
        entries: advs.len(),
        with_ids: advs.iter().filter(|a| !a.aliases.is_empty()).count(),
        ..ListCounts::default()
    };
    for af in advs.iter().flat_map(|a| &a.affected) {
        c.release_lines += 1;
        match af.status {
            None => c.fixed += 1,
            Some(Status::NotAffected) => c.not_affected += 1,
            Some(Status::Affected) => c.unfixed += 1,
            Some(Status::EndOfLife) => c.end_of_life += 1,
            Some(s) => panic!("unexpected {s:?}"),
        }
    }
    c
}

/// `python3 tests/data/debian/count.py` (run from crates/moat-vuln) printed:
///
/// ```text
/// vulns/debian/security-tracker-2023-04/data/DSA/list <end-of-life>=4 <not-affected>=55 <unfixed>=3 entries=5406 fixed=6926 release_lines=6988 with_ids=5257
/// vulns/debian/security-tracker-2023-04/data/DLA/list <end-of-life>=1 entries=3534 fixed=3534 release_lines=3535 with_ids=3226
/// oracles/vunnel-provider-fixtures/debian/input/DSA entries=10 fixed=9 release_lines=9 with_ids=5
/// oracles/vunnel-provider-fixtures/debian/input/debian.json cves=7 end_of_life=2 fixed=14 no_releases=1 not_affected=3 pairs=19 skipped_sid=6
/// ```
///
/// (no line of either list names a release without a Debian number, so `unknown_release` is
/// absent.)
#[test]
fn list_counts_match_the_independent_count() {
    let cases = [
        (
            DSA,
            ListKind::Dsa,
            ListCounts {
                entries: 5406,
                with_ids: 5257,
                release_lines: 6988,
                fixed: 6926,
                not_affected: 55,
                unfixed: 3,
                end_of_life: 4,
            },
        ),
        (
            DLA,
            ListKind::Dla,
            ListCounts {
                entries: 3534,
                with_ids: 3226,
                release_lines: 3535,
                fixed: 3534,
                not_affected: 0,
                unfixed: 0,
                end_of_life: 1,
            },
        ),
        (
            "oracles/vunnel-provider-fixtures/debian/input/DSA",
            ListKind::Dsa,
            ListCounts {
                entries: 10,
                with_ids: 5,
                release_lines: 9,
                fixed: 9,
                ..ListCounts::default()
            },
        ),
    ];
    for (rel, kind, want) in cases {
        let Some(bytes) = shared(rel) else { return };
        let r = import_list(&bytes, kind).unwrap();
        assert_eq!(list_counts(&r.advisories), want, "{rel}");
        assert!(r.skipped.is_empty(), "{rel}: {:?}", r.skipped);
        let ids: BTreeSet<&str> = r.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids.len(), r.advisories.len(), "{rel}: ids are unique");
        assert!(
            r.advisories
                .iter()
                .all(|a| a.source == kind.source() && a.published.is_some())
        );
    }
}

#[test]
fn dsa_with_two_releases() {
    let Some(advs) = list(DSA, ListKind::Dsa) else {
        return;
    };
    let want = Advisory {
        id: "DSA-4600-1".into(),
        published: Some("2020-01-09T00:00:00Z".into()),
        aliases: [
            "CVE-2019-17026",
            "CVE-2019-17024",
            "CVE-2019-17022",
            "CVE-2019-17017",
            "CVE-2019-17016",
        ]
        .map(String::from)
        .to_vec(),
        summary: Some("firefox-esr - security update".into()),
        affected: vec![
            fixed("Debian:9", "firefox-esr", "68.4.1esr-1~deb9u1", None),
            fixed("Debian:10", "firefox-esr", "68.4.1esr-1~deb10u1", None),
        ],
        references: tracker_ref("DSA-4600-1"),
        source: "debian-dsa".into(),
        ..Advisory::default()
    };
    assert_eq!(find(&advs, "DSA-4600-1"), &want);
    // Two source packages in one release.
    let a = find(&advs, "DSA-140");
    assert_eq!(
        a.affected,
        vec![
            fixed("Debian:3.0", "libpng", "1.0.12-3.woody.2", None),
            fixed("Debian:3.0", "libpng3", "1.2.1-1.1.woody.2", None),
        ]
    );
    assert_eq!(
        find(&advs, "DSA-135").summary.as_deref(),
        Some("libapache-mod-ssl -- buffer overflow / DoS")
    );
}

#[test]
fn dsa_not_affected_and_unfixed() {
    let Some(advs) = list(DSA, ListKind::Dsa) else {
        return;
    };
    let want = Advisory {
        id: "DSA-1026-1".into(),
        published: Some("2006-04-06T00:00:00Z".into()),
        aliases: vec!["CVE-2005-1849".into(), "CVE-2005-2096".into()],
        summary: Some("sash - buffer overflows".into()),
        affected: vec![
            state("Debian:3.0", "sash", Status::NotAffected, None),
            fixed("Debian:3.1", "sash", "3.7-5sarge1", None),
        ],
        references: tracker_ref("DSA-1026-1"),
        source: "debian-dsa".into(),
        ..Advisory::default()
    };
    assert_eq!(find(&advs, "DSA-1026-1"), &want);
    let want = Advisory {
        id: "DSA-746-1".into(),
        published: Some("2005-07-14T00:00:00Z".into()),
        aliases: vec!["CVE-2005-1921".into()],
        summary: Some("phpgroupware - remote command execution".into()),
        details: Some("fixed in testing at time of DSA".into()),
        affected: vec![
            state("Debian:3.0", "phpgroupware", Status::Affected, Some("high")),
            fixed(
                "Debian:3.1",
                "phpgroupware",
                "0.9.16.005-3.sarge0",
                Some("high"),
            ),
        ],
        references: tracker_ref("DSA-746-1"),
        source: "debian-dsa".into(),
        ..Advisory::default()
    };
    assert_eq!(find(&advs, "DSA-746-1"), &want);
}

#[test]
fn dla_end_of_life_and_announcements() {
    let Some(advs) = list(DLA, ListKind::Dla) else {
        return;
    };
    let want = Advisory {
        id: "DLA-372-1".into(),
        published: Some("2015-12-18T00:00:00Z".into()),
        summary: Some("virtualbox-ose - end of support".into()),
        affected: vec![state("Debian:6", "virtualbox-ose", Status::EndOfLife, None)],
        references: tracker_ref("DLA-372-1"),
        source: "debian-dla".into(),
        ..Advisory::default()
    };
    assert_eq!(find(&advs, "DLA-372-1"), &want);
    let Some(dsa) = list(DSA, ListKind::Dsa) else {
        return;
    };
    let a = find(&dsa, "DSA-4205-1");
    assert_eq!(a.summary.as_deref(), Some("jessie end-of-life"));
    assert!(a.affected.is_empty() && a.aliases.is_empty());
}

/// The committed table of every release line (`tests/data/debian/fixes.py`) is what the
/// importer reads.
#[test]
fn fixes_table_matches_the_lists() {
    let (Some(dsa), Some(dla)) = (list(DSA, ListKind::Dsa), list(DLA, ListKind::Dla)) else {
        return;
    };
    let mut ours = Vec::new();
    for a in dsa.iter().chain(&dla) {
        for af in &a.affected {
            let what = match af.status {
                None => af.ranges[0].events[1].version().to_string(),
                Some(Status::NotAffected) => "<not-affected>".into(),
                Some(Status::Affected) => "<unfixed>".into(),
                Some(Status::EndOfLife) => "<end-of-life>".into(),
                Some(s) => panic!("{s:?}"),
            };
            let release = af.package.ecosystem.strip_prefix("Debian:").unwrap();
            ours.push(format!("{}\t{release}\t{}\t{what}", a.id, af.package.name));
        }
    }
    let table = std::fs::read_to_string(format!("{DATA}dsa-dla-fixes.tsv")).unwrap();
    let theirs: Vec<String> = table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "{l}");
            format!("{}\t{}\t{}\t{}", f[0], f[2], f[3], f[4])
        })
        .collect();
    assert_eq!(theirs.len(), 6988 + 3535);
    assert_eq!(ours, theirs);
    // The 2023 lists hold no Debian 12 (bookworm) line.
    assert!(!theirs.iter().any(|l| l.split('\t').nth(1) == Some("12")));
}

#[test]
fn tracker_json_counts_and_records() {
    let Some(bytes) = shared(&format!("{VUNNEL}input/debian.json")) else {
        return;
    };
    let r = import_tracker_json(&bytes).unwrap();
    // count.py: cves=7 pairs=19 (fixed=14 not_affected=3 end_of_life=2) skipped_sid=6 no_releases=1
    assert_eq!(r.advisories.len(), 7);
    let all: Vec<&Affected> = r.advisories.iter().flat_map(|a| &a.affected).collect();
    assert_eq!(all.len(), 19);
    assert_eq!(all.iter().filter(|a| a.status.is_none()).count(), 14);
    let by = |s| all.iter().filter(|a| a.status == Some(s)).count();
    assert_eq!(by(Status::NotAffected), 3);
    assert_eq!(by(Status::EndOfLife), 2);
    assert_eq!(r.skipped.len(), 7);
    assert_eq!(
        r.skipped
            .iter()
            .filter(|s| s.1 == "sid (unstable) has no release number")
            .count(),
        6
    );
    assert!(r.skipped.contains(&(
        "chromium-browser CVE-2022-0358".to_string(),
        "no releases (an empty list)".to_string()
    )));

    let a = find(&r.advisories, "CVE-2022-0456");
    assert_eq!(a.source, "debian-tracker");
    let mut got = a.affected.clone();
    got.sort_by(|x, y| x.package.ecosystem.cmp(&y.package.ecosystem));
    assert_eq!(
        got,
        vec![
            state("Debian:10", "chromium", Status::EndOfLife, None),
            fixed(
                "Debian:11",
                "chromium",
                "98.0.4758.80-1~deb11u1",
                Some("not yet assigned")
            ),
            fixed(
                "Debian:12",
                "chromium",
                "98.0.4758.80-1",
                Some("not yet assigned")
            ),
            state("Debian:9", "chromium", Status::EndOfLife, None),
        ]
    );
    let a = find(&r.advisories, "CVE-2007-2383");
    assert_eq!(a.affected.len(), 3);
    for af in &a.affected {
        assert_eq!(af.status, Some(Status::NotAffected));
        assert!(af.ranges.is_empty());
        assert_eq!(af.severity.as_deref(), Some("unimportant"));
    }
    // `high**` loses its marks.
    let a = find(&r.advisories, "CVE-2008-7220");
    assert!(
        a.affected
            .iter()
            .all(|x| x.severity.as_deref() == Some("high"))
    );
    assert!(
        a.details
            .as_deref()
            .unwrap()
            .starts_with("Unspecified vulnerability")
    );
}

#[test]
fn tracker_json_states() {
    let doc = br#"{"pkg": {"CVE-2024-1": {"description": "d", "releases": {
        "bookworm": {"status": "open", "repositories": {}, "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "ignored"},
        "bullseye": {"status": "open", "repositories": {}, "urgency": "low*", "nodsa": "x", "nodsa_reason": "postponed"},
        "trixie": {"status": "open", "repositories": {}, "urgency": "medium"},
        "forky": {"status": "undetermined", "repositories": {}, "urgency": "not yet assigned"},
        "hamm": {"status": "resolved"},
        "experimental": {"status": "open"}
      }}}, "other": {"CVE-2024-1": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "1.0-1", "urgency": "unimportant"}}}}}"#;
    let r = import_tracker_json(doc).unwrap();
    assert_eq!(
        r.advisories.len(),
        1,
        "one advisory per CVE, packages merged"
    );
    let a = &r.advisories[0];
    let st = |eco: &str, name: &str| {
        a.affected
            .iter()
            .find(|x| x.package.ecosystem == eco && x.package.name == name)
            .map(|x| (x.status, x.severity.clone()))
    };
    assert_eq!(
        st("Debian:12", "pkg"),
        Some((Some(Status::WillNotFix), Some("low".into())))
    );
    assert_eq!(
        st("Debian:11", "pkg"),
        Some((Some(Status::FixDeferred), Some("low".into())))
    );
    assert_eq!(
        st("Debian:13", "pkg"),
        Some((Some(Status::Affected), Some("medium".into())))
    );
    assert_eq!(
        st("Debian:14", "pkg"),
        Some((Some(Status::Affected), Some("not yet assigned".into())))
    );
    assert_eq!(
        st("Debian:12", "other"),
        Some((None, Some("unimportant".into())))
    );
    assert_eq!(a.affected.len(), 5);
    let mut skipped = r.skipped.clone();
    skipped.sort();
    assert_eq!(
        skipped,
        vec![
            (
                "pkg CVE-2024-1 experimental".to_string(),
                "unknown release \"experimental\"".to_string()
            ),
            (
                "pkg CVE-2024-1 hamm".to_string(),
                "`resolved` without a `fixed_version`".to_string()
            ),
        ]
    );
}

/// vunnel's expected output for the same tracker JSON, compared per (CVE, package,
/// namespace): fixed version, `0` (not affected) or `-` (no fix).
#[test]
fn vunnel_oracle_differences_are_all_listed() {
    let Some(bytes) = shared(&format!("{VUNNEL}input/debian.json")) else {
        return;
    };
    let advs = parse_tracker_json(&bytes).unwrap();
    let mut ours: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for a in &advs {
        for af in &a.affected {
            let ns = af.package.ecosystem.replace("Debian:", "debian:");
            let v = match af.status {
                None => af.ranges[0].events[1].version().to_string(),
                Some(Status::NotAffected) => "0".into(),
                Some(_) => "-".into(),
            };
            let cve = a.id.strip_prefix("DEBIAN-").unwrap_or(&a.id).to_string();
            ours.insert((cve, af.package.name.clone(), ns), v);
        }
    }
    let mut theirs: BTreeMap<(String, String, String), String> = BTreeMap::new();
    let snaps = format!("{SHARED}{VUNNEL}snapshots");
    for dir in std::fs::read_dir(&snaps).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let j: serde_json::Value =
                serde_json::from_slice(&std::fs::read(f.unwrap().path()).unwrap()).unwrap();
            let v = &j["item"]["Vulnerability"];
            let cve = v["Name"].as_str().unwrap().to_string();
            let ns = v["NamespaceName"].as_str().unwrap().to_string();
            let fixed_in = v["FixedIn"].as_array().unwrap();
            if fixed_in.is_empty() {
                theirs.insert((cve.clone(), "-".into(), ns.clone()), "(no FixedIn)".into());
            }
            for fi in fixed_in {
                // vunnel writes the string "None" for "no fix yet".
                let version = match fi["Version"].as_str() {
                    None | Some("None") => "-".to_string(),
                    Some(v) => v.to_string(),
                };
                theirs.insert(
                    (
                        cve.clone(),
                        fi["Name"].as_str().unwrap().to_string(),
                        ns.clone(),
                    ),
                    version,
                );
            }
        }
    }
    let keys: BTreeSet<_> = ours.keys().chain(theirs.keys()).cloned().collect();
    let mut differences = BTreeSet::new();
    let mut agree = 0;
    for k in keys {
        let (o, t) = (ours.get(&k), theirs.get(&k));
        if o == t {
            agree += 1;
            continue;
        }
        let show = |x: Option<&String>| x.cloned().unwrap_or_else(|| "(none)".into());
        differences.insert(format!(
            "{}\t{}\t{}\t{}\t{}",
            k.0,
            k.1,
            k.2,
            show(o),
            show(t)
        ));
    }
    assert_eq!(agree, 19, "every entry moat makes agrees with vunnel");
    let listed_text = std::fs::read_to_string(format!("{DATA}vunnel-differences.txt")).unwrap();
    let listed: BTreeSet<String> = listed_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() == 6 && !f[5].trim().is_empty(), "no reason: {l}");
            f[..5].join("\t")
        })
        .collect();
    assert_eq!(differences, listed);
}

#[test]
fn malformed_lists_never_panic() {
    let Some(bytes) = shared(DSA) else { return };
    let full = parse_list(&bytes, ListKind::Dsa).unwrap().len();
    // Truncated anywhere: never a panic; the part before the cut is kept.
    for cut in (1..40_000).step_by(101) {
        let r = import_list(&bytes[..cut], ListKind::Dsa);
        match r {
            Ok(r) => assert!(r.advisories.len() <= full),
            Err(e) => assert!(e.to_string().contains("no `[DD Mon YYYY] ID"), "{e}"),
        }
    }
    // A cut in the middle of a release line is reported.
    let r = import_list(
        b"[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t{CVE-2023-1393}\n\t[bullseye] - xorg-ser",
        ListKind::Dsa,
    )
    .unwrap();
    assert_eq!(r.advisories.len(), 1);
    assert_eq!(
        r.skipped,
        vec![(
            "line 3: [bullseye] - xorg-ser".to_string(),
            "release line for xorg-ser without a version or <state>".to_string()
        )]
    );
    // A cut inside the id list or the header.
    let r = import_list(
        b"[29 Mar 2023] DSA-5380-1 x - y\n\t{CVE-2023-1393 CVE-20\n[29 Mar 20",
        ListKind::Dsa,
    )
    .unwrap();
    assert_eq!(r.skipped.len(), 2, "{:?}", r.skipped);
    assert!(r.skipped[0].1.contains("closing `}`"));
    assert!(r.skipped[1].1.contains("closing `]`"));
    // Unknown releases, stray lines, the wrong list kind, non-UTF-8.
    let r = import_list(
        b"\t[bullseye] - x 1\n[01 Jan 2023] DLA-1-1 x - y\n\t[sid] - x 1.0\n\tgarbage\n[01 Jan 2023] DLA-2-1 \xff - y\n",
        ListKind::Dla,
    )
    .unwrap();
    assert_eq!(r.advisories.len(), 2);
    let reasons: Vec<&str> = r.skipped.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "invalid UTF-8 was replaced by U+FFFD",
            "a body line before any DSA/DLA header",
            "unknown release \"sid\" (no Debian release number)",
            "unrecognised line",
        ]
    );
    assert!(parse_list(b"[01 Jan 2023] DSA-1-1 x - y\n", ListKind::Dla).is_err());
    assert!(parse_list(b"{\"not\": \"a list\"}", ListKind::Dsa).is_err());
    assert_eq!(parse_list(b"", ListKind::Dsa).unwrap(), vec![]);
}

#[test]
fn malformed_tracker_json() {
    let Some(bytes) = shared(&format!("{VUNNEL}input/debian.json")) else {
        return;
    };
    for cut in 1..bytes.len() - 2 {
        assert!(parse_tracker_json(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    assert!(parse_tracker_json(b"[]").is_err());
    let r = import_tracker_json(
        br#"{"a": 1, "b": {"CVE-1": 2, "CVE-2": {"releases": {"bookworm": 3}}}}"#,
    )
    .unwrap();
    assert_eq!(r.advisories.len(), 1);
    assert_eq!(
        r.skipped,
        vec![
            (
                "a".to_string(),
                "package entry is not an object".to_string()
            ),
            (
                "b CVE-1".to_string(),
                "CVE entry is not an object".to_string()
            ),
            (
                "b CVE-2 bookworm".to_string(),
                "release entry is not an object".to_string()
            ),
        ]
    );
}
