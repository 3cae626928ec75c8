//! The vendor feeds OSV does not carry: Amazon Linux `updateinfo.xml`, Oracle ELSA OVAL and
//! Red Hat CSAF (VEX and advisories), Azure Linux / CBL-Mariner OVAL, read from the real samples in
//! `../shared/data/vulns/distro-samples` and checked against other tools' readings of the
//! same data (vunnel's snapshots in `../shared/data/oracles`, the OSV records osv-schema's
//! converter made from the same CSAF advisories); then matched against packages to check the
//! distro rules (streams, modules, architectures, Ksplice).
//!
//! Where each format is specified: yum `updateinfo.xml` has no formal schema (createrepo_c's
//! and libdnf's readers are the reference; see `moat_vuln::import::alas`); OVAL 5 at
//! <https://oval.mitre.org/language/version5.3/>; CSAF 2.0 at
//! <https://docs.oasis-open.org/csaf/csaf/v2.0/csaf-v2.0.html>.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::advisory::{Advisory, Event, Status};
use moat_model::{Inventory, Package};
use moat_vuln::import::{self, alas, alpine, azurelinux, csaf, oval};
use moat_vuln::matcher::{MatchOptions, MemorySource, match_inventory};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("shared data missing at {}", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}

fn samples() -> Option<PathBuf> {
    shared("vulns/distro-samples")
}

fn fixed(a: &Advisory) -> BTreeSet<(String, String, String)> {
    a.affected
        .iter()
        .filter_map(|f| {
            let v = f
                .ranges
                .iter()
                .flat_map(|r| &r.events)
                .find_map(|e| match e {
                    Event::Fixed(v) => Some(v.clone()),
                    _ => None,
                })?;
            Some((f.package.ecosystem.clone(), f.package.name.clone(), v))
        })
        .collect()
}

/// vunnel's snapshot of one record: its `Vulnerability`.
fn vunnel_record(rel: &str) -> Value {
    let p = shared(&format!("oracles/vunnel-provider-fixtures/{rel}")).unwrap();
    let mut v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    v["item"]["Vulnerability"].take()
}

/// Fields of each entry of a vunnel record's FixedIn list.
fn fixed_in<const N: usize>(record: &Value, fields: [&str; N]) -> BTreeSet<[String; N]> {
    record["FixedIn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| fields.map(|k| f[k].as_str().unwrap().to_string()))
        .collect()
}

/// vunnel's snapshot of one record: (name, version) of its FixedIn list.
fn vunnel(rel: &str) -> BTreeSet<(String, String)> {
    fixed_in(&vunnel_record(rel), ["Name", "Version"])
        .into_iter()
        .map(|[n, v]| (n, v))
        .collect()
}

#[test]
fn amazon_updateinfo() {
    let Some(s) = samples() else { return };
    let two = alas::parse(&std::fs::read(s.join("alas/updateinfo_2_items.xml")).unwrap()).unwrap();
    assert_eq!(
        two.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["ALAS2-2018-942", "ALAS2-2018-949"]
    );
    let qemu = &two[0];
    assert_eq!(qemu.aliases, ["CVE-2017-5715"]);
    assert_eq!(qemu.rating.as_deref(), Some("important"));
    assert_eq!(qemu.published.as_deref(), Some("2018-02-07T18:49:00Z"));
    assert_eq!(qemu.modified.as_deref(), Some("2018-02-08T21:46:00Z"));
    assert_eq!(qemu.source, "alas:2");
    assert_eq!(
        qemu.references[0].url,
        "https://alas.aws.amazon.com/AL2/ALAS2-2018-942.html"
    );
    assert!(fixed(qemu).contains(&(
        "Amazon Linux:2".into(),
        "qemu-kvm".into(),
        "10:1.5.3-141.amzn2.5.3".into()
    )));
    assert_eq!(fixed(qemu).len(), 5);

    // The same records from the gzip-compressed file, through import_path.
    let gz = import::import_path(&s.join("alas/updateinfo_2_items.xml.gz")).unwrap();
    assert_eq!(gz.advisories, two);
    assert!(gz.malformed.is_empty());

    // vunnel read the same advisories from Amazon's HTML pages: the same binary packages
    // and versions (the pages show no epochs; they list the source package too).
    for (file, snapshot, eco, source) in [
        (
            "updateinfo_1_item.xml",
            "amazon/snapshots/amzn:2/alas-2018-939.json",
            "Amazon Linux:2",
            "kernel",
        ),
        (
            "updateinfo_AL2022.xml",
            "amazon/snapshots/amzn:2022/alas-2021-001.json",
            "Amazon Linux:2022",
            "vim",
        ),
    ] {
        let advs = alas::parse(&std::fs::read(s.join("alas").join(file)).unwrap()).unwrap();
        assert_eq!(advs.len(), 1, "{file}");
        let ours: BTreeSet<(String, String)> = fixed(&advs[0])
            .into_iter()
            .map(|(e, n, v)| {
                assert_eq!(e, eco);
                (
                    n,
                    v.split_once(':').map_or(v.clone(), |(_, v)| v.to_string()),
                )
            })
            .collect();
        let theirs = vunnel(snapshot);
        let only_theirs: Vec<&(String, String)> = theirs.difference(&ours).collect();
        assert!(
            only_theirs.iter().all(|(n, _)| n == source),
            "{file}: {only_theirs:?}"
        );
        assert!(ours.is_subset(&theirs), "{file}: {ours:?}");
    }
    let al2023 =
        alas::parse(&std::fs::read(s.join("alas/updateinfo_AL2023.xml")).unwrap()).unwrap();
    assert_eq!(al2023[0].id, "ALAS2023-2023-001");
    assert_eq!(al2023[0].aliases, ["CVE-2014-3634", "CVE-2022-24903"]);
    assert!(fixed(&al2023[0]).contains(&(
        "Amazon Linux:2023".into(),
        "rsyslog".into(),
        "0:8.2204.0-3.amzn2023.0.2".into()
    )));
}

#[test]
fn oracle_oval() {
    let Some(s) = samples() else { return };
    let read =
        |f: &str| oval::parse(&std::fs::read(s.join("oval-oracle").join(f)).unwrap()).unwrap();
    // vunnel's snapshots of the same definitions.
    let mock = read("vunnel-mock_data.xml");
    assert_eq!(
        mock.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["ELSA-2007-0057", "ELSA-2018-4250"]
    );
    for (a, snapshot, eco) in [
        (
            &mock[0],
            "oracle/snapshots/ol:5/elsa-2007-0057.json",
            "Oracle Linux:5",
        ),
        (
            &mock[1],
            "oracle/snapshots/ol:6/elsa-2018-4250.json",
            "Oracle Linux:6",
        ),
    ] {
        let ours: BTreeSet<(String, String)> = fixed(a)
            .into_iter()
            .map(|(e, n, v)| {
                assert_eq!(e, eco);
                (n, v)
            })
            .collect();
        assert_eq!(ours, vunnel(snapshot), "{}", a.id);
        assert_eq!(a.source, "oracle-oval");
    }
    assert_eq!(mock[1].rating.as_deref(), Some("IMPORTANT"));
    assert!(mock[1].aliases.contains(&"CVE-2018-7566".to_string()));

    // Respun per architecture: one entry per architecture, named in the purl.
    let per_arch = read("vunnel-mock_per_arch_data.xml");
    let rsyslog: Vec<(String, String)> = per_arch[0]
        .affected
        .iter()
        .filter(|f| f.package.name == "rsyslog")
        .map(|f| {
            (
                f.package.purl.clone().unwrap_or_default(),
                fixed(&per_arch[0])
                    .iter()
                    .find(|(_, n, _)| n == "rsyslog")
                    .map(|x| x.2.clone())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(rsyslog.len(), 2, "{rsyslog:?}");
    assert!(rsyslog.iter().any(|(p, _)| p.contains("arch=aarch64")));
    assert!(rsyslog.iter().any(|(p, _)| p.contains("arch=x86_64")));
    assert_eq!(per_arch[0].severity[0].kind, "CVSS_V3");
    // The same fix on every architecture: one entry without one.
    let firefox = &per_arch[1];
    assert_eq!(firefox.id, "ELSA-2025-10073");
    assert!(firefox.affected.iter().all(|f| f.package.purl.is_none()));

    // The bzip2-compressed file through import_path is the decompressed one.
    let bz = import::import_path(&s.join("oval-oracle/all-positive-data.xml.bz2")).unwrap();
    assert_eq!(bz.advisories, read("all-positive-data.xml"));
    assert_eq!(bz.advisories.len(), 14);
    assert!(bz.malformed.is_empty());
}

#[test]
fn red_hat_csaf_advisories_agree_with_osv() {
    let Some(s) = samples() else { return };
    // osv-schema's converter made these OSV records from the same CSAF advisories.
    for (csaf_file, osv_file) in [
        ("rhsa-2024_4546.json", "RHSA-2024_4546.json"),
        ("rhsa-2024_6220.json", "RHSA-2024_6220.json"),
    ] {
        let ours =
            csaf::parse(&std::fs::read(s.join("csaf-redhat/advisories").join(csaf_file)).unwrap())
                .unwrap();
        assert_eq!(ours.len(), 1);
        let osv =
            import::osv::parse_json(&std::fs::read(s.join("osv/redhat").join(osv_file)).unwrap())
                .unwrap();
        assert_eq!(ours[0].id, osv[0].id);
        assert_eq!(fixed(&ours[0]), fixed(&osv[0]), "{csaf_file}");
        assert_eq!(ours[0].aliases, osv[0].upstream);
        assert_eq!(ours[0].source, "redhat-csaf");
    }
}

#[test]
fn red_hat_csaf_vex() {
    let Some(v) = shared("vulns") else { return };
    let curl = import::import_path(&v.join("redhat/csaf-vex-samples/cve-2023-38545.json")).unwrap();
    assert!(curl.malformed.is_empty(), "{:?}", curl.malformed);
    let a = &curl.advisories[0];
    assert_eq!(a.id, "REDHAT-CVE-2023-38545");
    assert_eq!(a.aliases, ["CVE-2023-38545"]);
    assert_eq!(a.rating.as_deref(), Some("Important"));
    assert!(
        a.references
            .iter()
            .any(|r| r.url == "https://access.redhat.com/errata/RHSA-2023:5700")
    );
    let f = fixed(a);
    assert!(
        f.iter()
            .any(|(e, n, v)| e == "Red Hat:enterprise_linux:9::appstream"
                && n == "curl"
                && v == "0:7.76.1-23.el9_2.4"),
        "{f:?}"
    );
    // Not-affected products make no entries.
    assert!(
        a.affected
            .iter()
            .all(|x| x.status != Some(Status::NotAffected))
    );

    // Only not-affected products: a record without entries.
    let samba = csaf::parse(
        &std::fs::read(v.join("distro-samples/csaf-redhat/vex/cve-2023-42670.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(samba[0].id, "REDHAT-CVE-2023-42670");
    assert!(samba[0].affected.is_empty());
    assert_eq!(samba[0].severity[0].kind, "CVSS_V3");
}

fn rpm(name: &str, version: &str, arch: &str, eco: &str, label: Option<&str>) -> Package {
    let mut p: Package = serde_json::from_value(serde_json::json!({
        "id": format!("rpm:{name}@{version}"),
        "name": name,
        "version": version,
        "type": "rpm",
        "purl": format!("pkg:rpm/x/{name}@{version}"),
        "ecosystem": eco,
        "arch": arch,
        "source_name": name,
        "licenses": [],
        "locations": [],
    }))
    .unwrap();
    if let Some(l) = label {
        p.metadata.insert("modularity_label".into(), l.into());
    }
    p
}

fn findings(advs: Vec<Advisory>, pkgs: Vec<Package>) -> Vec<(String, String, Option<String>)> {
    let mut inv: Inventory = serde_json::from_value(serde_json::json!({
        "schema_version": "1",
        "tool": {"name": "moat", "version": "0"},
        "artifact": {"name": "t", "kind": "rootfs", "path": "/"},
        "packages": [],
    }))
    .unwrap();
    inv.packages = pkgs;
    let src = MemorySource::new(advs, HashSet::new());
    let (found, _) = match_inventory(&inv, &src, &MatchOptions::default());
    found
        .iter()
        .map(|f| {
            let v = f.vulnerability().unwrap();
            (
                f.id.clone(),
                f.package().unwrap().name.clone(),
                v.fixed_version.clone(),
            )
        })
        .collect()
}

#[test]
fn distro_rules_when_matching() {
    let Some(s) = samples() else { return };
    // Amazon Linux lines: an AL2 advisory matches AL2 packages only.
    let al2 = alas::parse(&std::fs::read(s.join("alas/updateinfo_2_items.xml")).unwrap()).unwrap();
    let kvm = |eco: &str| rpm("qemu-kvm", "10:1.5.3-141.amzn2", "x86_64", eco, None);
    assert_eq!(
        findings(al2.clone(), vec![kvm("Amazon Linux:2")]),
        [(
            "CVE-2017-5715".to_string(),
            "qemu-kvm".to_string(),
            Some("10:1.5.3-141.amzn2.5.3".to_string())
        )]
    );
    assert_eq!(findings(al2, vec![kvm("Amazon Linux:2023")]), []);

    // Oracle: per-architecture fixes.
    let per_arch =
        oval::parse(&std::fs::read(s.join("oval-oracle/vunnel-mock_per_arch_data.xml")).unwrap())
            .unwrap();
    // x86_64 was fixed in 57.0.1, aarch64 in 57.0.4: 57.0.2 is fixed on one only.
    let rsyslog = |arch: &str| {
        rpm(
            "rsyslog",
            "8.24.0-57.0.2.el7_9.3",
            arch,
            "Oracle Linux:7",
            None,
        )
    };
    let x86 = findings(per_arch.clone(), vec![rsyslog("x86_64")]);
    let arm = findings(per_arch, vec![rsyslog("aarch64")]);
    assert_eq!(x86, []);
    assert_eq!(
        arm,
        [(
            "CVE-2022-24903".to_string(),
            "rsyslog".to_string(),
            Some("0:8.24.0-57.0.4.el7_9.3".to_string())
        )]
    );

    // Red Hat: the OSV records' main stream (`enterprise_linux:8`) applies to RHEL 8
    // packages; modular fixes only to module builds, extended-support streams not at all.
    let rhsa = import::import_path(&s.join("osv/redhat/RHSA-2024_6220.json"))
        .unwrap()
        .advisories;
    let plain = rpm("python-idna", "2.5-5.el8", "noarch", "Red Hat:8", None);
    let module = rpm(
        "python-idna",
        "2.10-2.module+el8.4.0+9822+20bf1249",
        "noarch",
        "Red Hat:8",
        Some("python39:3.9:8040020210127120938:d6b4f6d5"),
    );
    // RHSA-2024:6220 only names AUS/E4S/TUS 8.6 streams: nothing for a plain RHEL 8 image.
    assert_eq!(
        findings(rhsa.clone(), vec![plain.clone(), module.clone()]),
        []
    );
    // The same record on the main stream.
    let mut main = rhsa;
    for f in &mut main[0].affected {
        f.package.ecosystem = "Red Hat:enterprise_linux:8::appstream".into();
    }
    let got = findings(main, vec![plain, module]);
    assert_eq!(
        got,
        [(
            "CVE-2024-6345".to_string(),
            "python-idna".to_string(),
            Some("0:2.10-3.module+el8.4.0+9822+20bf1249".to_string())
        )],
        "the module build is affected, the non-modular one is not compared with a module fix"
    );
}

/// An advisory's packages as vunnel writes them: (name, fixed version or "None", the range
/// as vunnel's `VulnerableRange`: `> A, < B`, `<= C`).
fn vunnel_ranges(a: &Advisory) -> BTreeSet<(String, String, String)> {
    a.affected
        .iter()
        .map(|f| {
            let mut fixed = "None".to_string();
            let mut range = Vec::new();
            for e in f.ranges.iter().flat_map(|r| &r.events) {
                match e {
                    Event::Introduced(v) if v == "0" => {}
                    Event::Introduced(v) => range.push(format!("> {v}")),
                    Event::Fixed(v) => {
                        fixed = v.clone();
                        range.push(format!("< {v}"));
                    }
                    Event::LastAffected(v) => range.push(format!("<= {v}")),
                    Event::Limit(v) => range.push(format!("limit {v}")),
                }
            }
            (f.package.name.clone(), fixed, range.join(", "))
        })
        .collect()
}

/// Microsoft's OVAL for Azure Linux 3.0 and CBL-Mariner 1.0 / 2.0: the versions come from
/// the tests' states (the comments lack the dist tag), compared with vunnel's snapshots of
/// the same CBL-Mariner 2.0 file: the same CVEs (the `Not Applicable` one left out by both),
/// and per CVE the same packages, fixed versions and ranges (a lower bound, an unfixed
/// `<=`). Then matched: the lower bound and the unfixed range hold on packages.
#[test]
fn azure_linux_oval_agrees_with_vunnel() {
    let Some(s) = samples() else { return };
    let read = |f: &str| {
        azurelinux::parse(&std::fs::read(s.join("oval-azurelinux").join(f)).unwrap()).unwrap()
    };
    let mariner2 = read("mariner-truncated-2.0-oval.xml");
    let snapshots =
        shared("oracles/vunnel-provider-fixtures/mariner/snapshots/mariner:2.0").unwrap();
    let mut theirs: Vec<String> = std::fs::read_dir(&snapshots)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .replace(".json", "")
        })
        .collect();
    theirs.sort();
    let mut ours: Vec<String> = mariner2.iter().map(|a| a.aliases[0].clone()).collect();
    ours.sort();
    assert_eq!(ours, theirs);
    for a in &mariner2 {
        let cve = &a.aliases[0];
        assert_eq!(a.id, format!("AZL-2-{cve}"));
        assert_eq!(a.source, "azurelinux-oval");
        assert!(
            a.affected
                .iter()
                .all(|f| f.package.ecosystem == "Azure Linux:2")
        );
        let vuln = vunnel_record(&format!("mariner/snapshots/mariner:2.0/{cve}.json"));
        let want: BTreeSet<(String, String, String)> =
            fixed_in(&vuln, ["Name", "Version", "VulnerableRange"])
                .into_iter()
                .map(|[n, v, r]| (n, v, r))
                .collect();
        assert_eq!(vunnel_ranges(a), want, "{cve}");
        assert_eq!(a.rating.as_deref(), vuln["Severity"].as_str(), "{cve}");
    }
    // The other releases: told by the dist tag, one record a CVE.
    for (file, eco, cves) in [
        (
            "cbl-mariner-1.0-oval.xml",
            "Azure Linux:1",
            &["CVE-2008-3914", "CVE-2021-35942", "CVE-2018-25012"][..],
        ),
        (
            "azurelinux-3.0-oval.xml",
            "Azure Linux:3",
            &["CVE-2024-35176", "CVE-2023-29409"][..],
        ),
    ] {
        let got = read(file);
        assert_eq!(
            got.iter()
                .map(|a| a.aliases[0].as_str())
                .collect::<Vec<_>>(),
            cves,
            "{file}"
        );
        assert!(
            got.iter()
                .flat_map(|a| &a.affected)
                .all(|f| f.package.ecosystem == eco),
            "{file}"
        );
    }
    // Through import_path, as `moat db import` reads it.
    let batch = import::import_path(&s.join("oval-azurelinux/azurelinux-3.0-oval.xml")).unwrap();
    assert_eq!(batch.advisories, read("azurelinux-3.0-oval.xml"));
    assert!(batch.malformed.is_empty(), "{:?}", batch.malformed);
    // A definition whose test is not in the document: malformed, named within its file; a
    // version without a dist tag: no release to file it under.
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken-oval.xml");
    std::fs::write(
        &broken,
        r#"<oval_definitions><definitions>
<definition id="oval:com.microsoft.azurelinux:def:1" class="vulnerability"><metadata>
<title>CVE-2024-0001 affecting package a</title><patchable>true</patchable>
<reference ref_id="CVE-2024-0001" source="CVE"/></metadata>
<criteria operator="AND"><criterion test_ref="oval:com.microsoft.azurelinux:tst:9"/></criteria></definition>
<definition id="oval:com.microsoft.azurelinux:def:2" class="vulnerability"><metadata>
<title>CVE-2024-0002 affecting package b</title><patchable>true</patchable>
<reference ref_id="CVE-2024-0002" source="CVE"/></metadata>
<criteria operator="AND"><criterion test_ref="oval:com.microsoft.azurelinux:tst:2"/></criteria></definition>
</definitions><tests>
<rpminfo_test id="oval:com.microsoft.azurelinux:tst:2"><object object_ref="o2"/><state state_ref="s2"/></rpminfo_test>
</tests><objects><rpminfo_object id="o2"><name>b</name></rpminfo_object></objects>
<states><rpminfo_state id="s2"><evr operation="less than">0:1.0-1</evr></rpminfo_state></states>
</oval_definitions>"#,
    )
    .unwrap();
    let batch = import::import_path(&broken).unwrap();
    assert!(batch.advisories.is_empty());
    let shown = broken.display();
    assert_eq!(
        batch.malformed,
        [
            (
                format!("{shown}!CVE-2024-0001"),
                "test oval:com.microsoft.azurelinux:tst:9 does not resolve to a package and a version"
                    .to_string()
            ),
            (
                format!("{shown}!CVE-2024-0002"),
                "no release in the versions' dist tag (.cmN, .azlN)".to_string()
            ),
        ]
    );

    // Matching: golang is affected from above 1.19.0 to below 1.20.7-1, bind up to and
    // including 9.16.33-1 with no fix, mysql below 8.0.33-1.
    let pkg = |n: &str, v: &str| rpm(n, v, "x86_64", "Azure Linux:2", None);
    let got = findings(
        mariner2,
        vec![
            pkg("golang", "1.20.5-1.cm2"),
            pkg("bind", "9.16.33-1.cm2"),
            pkg("mysql", "8.0.33-1.cm2"),
            pkg("glibc", "2.35-4.cm2"),
        ],
    );
    assert_eq!(
        got,
        [
            ("CVE-2022-3736".to_string(), "bind".to_string(), None),
            (
                "CVE-2023-29404".to_string(),
                "golang".to_string(),
                Some("0:1.20.7-1.cm2".to_string())
            ),
        ]
    );
    let older = findings(
        read("mariner-truncated-2.0-oval.xml"),
        vec![pkg("golang", "1.18.8-1.cm2"), pkg("bind", "9.16.34-1.cm2")],
    );
    assert_eq!(older, [], "below the lower bound, above the last affected");
}

/// Chainguard publishes its OSV feed as one file a record plus `all.json`, an index of the
/// feed's ids and modified times. Imported as a directory, the index is not read as records:
/// each record keeps its packages (read as records, the index's entries, valid OSV with
/// nothing but an id, came after the files and replaced every record with an empty one).
#[test]
fn chainguard_feed_directory_keeps_its_records_and_skips_its_index() {
    let Some(s) = samples() else { return };
    let dir = s.join("osv/chainguard");
    let batch = import::import_path(&dir).unwrap();
    let mut got: Vec<(String, String, usize)> = batch
        .advisories
        .iter()
        .map(|a| (a.id.clone(), a.source.clone(), a.affected.len()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "CGA-224q-ccj5-2p53".to_string(),
                "osv:Chainguard".to_string(),
                4
            ),
            (
                "CGA-22hv-wp9q-4779".to_string(),
                "osv:Chainguard".to_string(),
                3
            ),
            (
                "CGA-xcpc-gm23-prj9".to_string(),
                "osv:Chainguard".to_string(),
                4
            ),
        ]
    );
    let index = dir.join("all.json");
    assert_eq!(
        batch.skipped,
        [format!(
            "{} (an index of 3 record ids, not records)",
            index.display()
        )]
    );
    // The index alone is nothing to import.
    let alone = import::import_path(&index).unwrap();
    assert!(alone.advisories.is_empty());
    assert_eq!(alone.files, 0);
    assert_eq!(alone.skipped.len(), 1);
}

/// The same feed zipped, its index among the entries (a zip's entries are read apart from a
/// directory's files): the index is skipped there too, named by its entry, and each record
/// keeps its `affected` ranges.
#[test]
fn chainguard_feed_zipped_with_its_index_keeps_its_records() {
    use std::io::Write;
    let Some(s) = samples() else { return };
    let dir = s.join("osv/chainguard");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // the index last, as it came in the directory, after the records it names
    names.sort_by_key(|p| (p.ends_with("all.json"), p.clone()));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for p in &names {
        let name = p.file_name().unwrap().to_string_lossy();
        w.start_file(name.as_ref(), opts).unwrap();
        w.write_all(&std::fs::read(p).unwrap()).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let zipped = tmp.path().join("chainguard-all.zip");
    std::fs::write(&zipped, w.finish().unwrap().into_inner()).unwrap();
    let batch = import::import_path(&zipped).unwrap();
    let mut got: Vec<(String, usize)> = batch
        .advisories
        .iter()
        .map(|a| (a.id.clone(), a.affected.len()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("CGA-224q-ccj5-2p53".to_string(), 4),
            ("CGA-22hv-wp9q-4779".to_string(), 3),
            ("CGA-xcpc-gm23-prj9".to_string(), 4),
        ]
    );
    assert_eq!(
        batch.skipped,
        [format!(
            "{}!all.json (an index of 3 record ids, not records)",
            zipped.display()
        )]
    );
    assert!(batch.malformed.is_empty(), "{:?}", batch.malformed);
}

/// Wolfi's and Chainguard's secdb (`security.json`, Alpine's JSON without `distroversion`:
/// rolling distros told by their `urlprefix`) read as advisories of the `Wolfi` and
/// `Chainguard` ecosystems, checked against vunnel's reading of the same files (Grype's
/// data): for every vulnerability, the same (package, fixed version) pairs, `0` where the
/// package was never affected (vunnel's FixedIn `0`, moat's `not_affected`), and no
/// vulnerability more or less.
#[test]
fn wolfi_and_chainguard_secdb_agree_with_vunnel() {
    let Some(s) = samples() else { return };
    for (feed, eco, source, snapshots) in [
        (
            "wolfi",
            "Wolfi",
            "wolfi-secdb",
            "wolfi/snapshots/wolfi:rolling",
        ),
        (
            "chainguard",
            "Chainguard",
            "chainguard-secdb",
            "chainguard/snapshots/secdb/chainguard:rolling",
        ),
    ] {
        let bytes = std::fs::read(s.join(format!("secdb/{feed}/security.json"))).unwrap();
        let advs = alpine::parse_secdb_json(&bytes).unwrap();
        let mut ours: std::collections::BTreeMap<String, BTreeSet<(String, String)>> =
            Default::default();
        for a in &advs {
            assert_eq!(a.source, source);
            let cve = a.aliases.first().unwrap();
            assert_eq!(a.id, format!("{}-{cve}", eco.to_ascii_uppercase()));
            for f in &a.affected {
                assert_eq!(f.package.ecosystem, eco);
                let version = match f.status {
                    Some(Status::NotAffected) => "0".to_string(),
                    _ => {
                        fixed(&Advisory {
                            affected: vec![f.clone()],
                            ..Advisory::default()
                        })
                        .into_iter()
                        .next()
                        .unwrap()
                        .2
                    }
                };
                ours.entry(cve.clone())
                    .or_default()
                    .insert((f.package.name.clone(), version));
            }
        }
        // One snapshot a vulnerability, named by its id.
        let dir = shared(&format!("oracles/vunnel-provider-fixtures/{snapshots}")).unwrap();
        let theirs: std::collections::BTreeMap<String, BTreeSet<(String, String)>> =
            std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| {
                    let name = e.unwrap().file_name().into_string().unwrap();
                    let id = name.strip_suffix(".json").unwrap().to_string();
                    (id, vunnel(&format!("{snapshots}/{name}")))
                })
                .collect();
        assert!(theirs.len() > 50, "{feed}: {} snapshots", theirs.len());
        assert_eq!(ours, theirs, "{feed}");
    }
    // Matched against a Wolfi image's apk packages: binutils is fixed for CVE-2022-38126 in
    // 2.39-r1 and for CVE-2022-38533 in 2.39-r2 (Wolfi's origin package is its name).
    let bytes = std::fs::read(s.join("secdb/wolfi/security.json")).unwrap();
    let advs = alpine::parse_secdb_json(&bytes).unwrap();
    let apk = |version: &str| -> Package {
        serde_json::from_value(serde_json::json!({
            "id": format!("apk:binutils@{version}"),
            "name": "binutils",
            "version": version,
            "type": "apk",
            "purl": format!("pkg:apk/wolfi/binutils@{version}?arch=x86_64"),
            "ecosystem": "Wolfi",
            "arch": "x86_64",
            "source_name": "binutils",
            "licenses": [],
            "locations": [],
        }))
        .unwrap()
    };
    let mut got = findings(advs.clone(), vec![apk("2.39-r1")]);
    got.sort();
    assert!(
        got.iter()
            .any(|f| f.1 == "binutils" && f.2.as_deref() == Some("2.39-r2")),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|f| f.2.as_deref() == Some("2.39-r1")),
        "fixed in the installed version: {got:?}"
    );
}
