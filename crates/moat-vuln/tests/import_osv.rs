//! OSV importers against the real shared data (`/work/shared/data/vulns`).
//!
//! Expected counts were taken independently of moat, with the command written beside each.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::advisory::{Event, RangeType};
use moat_vuln::import::{self, osv};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `../shared/data/vulns`, or None (test skipped) when it is missing outside CI.
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

#[test]
fn go_osv_json_directory() {
    let Some(v) = vulns() else { return };
    let batch = import::import_path(&v.join("go")).unwrap();
    // find go/osv -name '*.json' | wc -l  => 4291
    assert_eq!(batch.advisories.len(), 4291);
    assert_eq!(batch.files, 4291);
    assert!(
        batch.malformed.is_empty(),
        "{:?}",
        &batch.malformed[..batch.malformed.len().min(3)]
    );
    // go/LICENSE
    assert_eq!(batch.skipped.len(), 1, "{:?}", batch.skipped);
    assert!(batch.advisories.iter().all(|a| a.source == "osv:Go"));
    assert_eq!(import::source_name(&v.join("go"), &batch), "osv:Go");

    let a = batch
        .advisories
        .iter()
        .find(|a| a.id == "GO-2024-3228")
        .unwrap();
    assert_eq!(a.aliases, ["GHSA-wcx9-ccpj-hx3c"]);
    assert_eq!(a.affected.len(), 2);
    assert_eq!(a.affected[1].package.name, "github.com/coder/coder/v2");
    let r = &a.affected[1].ranges[0];
    assert_eq!(r.kind, RangeType::Semver);
    assert_eq!(
        r.events,
        [
            Event::Introduced("2.3.1".into()),
            Event::Fixed("2.14.4".into()),
            Event::Introduced("2.15.0".into()),
            Event::Fixed("2.15.3".into()),
            Event::Introduced("2.16.0".into()),
            Event::Fixed("2.16.1".into()),
        ]
    );
}

#[test]
fn pypa_osv_yaml_directory() {
    let Some(v) = vulns() else { return };
    let batch = import::import_path(&v.join("pypi")).unwrap();
    // find pypi -name '*.yaml' | wc -l  => 2661
    assert_eq!(batch.advisories.len(), 2661);
    assert!(
        batch.malformed.is_empty(),
        "{:?}",
        &batch.malformed[..batch.malformed.len().min(3)]
    );
    // pypi/LICENSE and pypi/pypa-osv-yaml/vulns/.id-allocator
    assert_eq!(batch.skipped.len(), 2, "{:?}", batch.skipped);
    assert!(batch.advisories.iter().all(|a| a.source == "osv:PyPI"));

    let a = batch
        .advisories
        .iter()
        .find(|a| a.id == "PYSEC-2023-121")
        .unwrap();
    assert_eq!(a.aliases, ["CVE-2022-4899"]);
    assert_eq!(a.modified.as_deref(), Some("2023-07-25T16:31:58.309647Z"));
    let aff = &a.affected[0];
    assert_eq!(
        (aff.package.ecosystem.as_str(), aff.package.name.as_str()),
        ("PyPI", "zstd")
    );
    assert_eq!(aff.ranges[0].kind, RangeType::Ecosystem);
    assert_eq!(aff.ranges[0].events, [Event::Introduced("0".into())]);
    // grep -c '^  - ' the versions list of PYSEC-2023-121.yaml => 39, "1.3.0.2" kept as text
    assert_eq!(aff.versions.len(), 39);
    assert_eq!(aff.versions[2], "1.3.0.2");
    assert_eq!(aff.versions.last().unwrap(), "1.5.5.1");
}

#[test]
fn almalinux_ghsa_and_distro_samples() {
    let Some(v) = vulns() else { return };
    let alma = import::import_path(&v.join("almalinux")).unwrap();
    // find almalinux -name '*.json' | wc -l  => 5680 (plus almalinux/LICENSE, skipped)
    assert_eq!(alma.advisories.len(), 5680);
    assert!(
        alma.malformed.is_empty(),
        "{:?}",
        &alma.malformed[..alma.malformed.len().min(3)]
    );
    assert_eq!(alma.skipped.len(), 1);
    assert!(alma.advisories.iter().all(|a| a.source == "osv:AlmaLinux"));
    assert!(alma.advisories.iter().any(|a| {
        a.affected
            .iter()
            .any(|x| x.package.ecosystem == "AlmaLinux:8")
    }));

    let ghsa = import::import_path(&v.join("ghsa")).unwrap();
    // python3: 1 + 1 + len(vulns)=8 + len(vulns)=356  => 366
    assert_eq!(ghsa.advisories.len(), 366);
    assert!(ghsa.malformed.is_empty(), "{:?}", ghsa.malformed);
    let minimist = ghsa
        .advisories
        .iter()
        .find(|a| a.id == "GHSA-xvch-5gv4-984h")
        .unwrap();
    assert_eq!(minimist.aliases, ["CVE-2021-44906"]);
    assert_eq!(minimist.source, "osv:npm");

    let distro = import::import_path(&v.join("osv-distro-samples")).unwrap();
    // find osv-distro-samples -name '*.json' | wc -l  => 3
    assert_eq!(distro.advisories.len(), 3);
    let mut ids: Vec<_> = distro.advisories.iter().map(|a| a.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["DLA-3623-1", "DSA-3029-1", "UBUNTU-CVE-2025-38094"]);
}

#[test]
fn malformed_records_are_counted_not_fatal() {
    let Some(v) = vulns() else { return };
    let dir = tempfile::tempdir().unwrap();
    let go = v.join("go/osv");
    let good = std::fs::read(go.join("GO-2024-3228.json")).unwrap();
    std::fs::write(dir.path().join("a-good.json"), &good).unwrap();
    // cut off mid-record
    std::fs::write(dir.path().join("b-truncated.json"), &good[..good.len() / 2]).unwrap();
    // an event with a number where a version string belongs
    let bad = String::from_utf8(good.clone())
        .unwrap()
        .replace("\"2.3.1\"", "231");
    std::fs::write(dir.path().join("c-wrong-type.json"), bad).unwrap();
    // an array with one good and one record with an empty id
    let arr = format!(
        "[{}, {{\"id\": \"\", \"modified\": \"2024-01-01T00:00:00Z\"}}]",
        String::from_utf8_lossy(&good)
    );
    std::fs::write(dir.path().join("d-array.json"), arr).unwrap();
    // YAML that does not parse as OSV
    std::fs::write(
        dir.path().join("e-bad.yaml"),
        "id: PYSEC-0\naffected: [oops\n",
    )
    .unwrap();
    // unknown files are skipped
    std::fs::write(dir.path().join("README.txt"), "hello").unwrap();
    std::fs::write(dir.path().join("other.json"), "{\"hello\": 1}").unwrap();

    let batch = import::import_path(dir.path()).unwrap();
    assert_eq!(
        batch.advisories.len(),
        2,
        "a-good and the good record of d-array"
    );
    let files: Vec<_> = batch
        .malformed
        .iter()
        .map(|(f, _)| {
            Path::new(f)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        files,
        [
            "b-truncated.json",
            "c-wrong-type.json",
            "d-array.json",
            "e-bad.yaml"
        ],
        "{:?}",
        batch.malformed
    );
    assert!(batch.malformed.iter().all(|(_, reason)| !reason.is_empty()));
    assert_eq!(batch.skipped.len(), 2);

    // An unreadable top-level path is an error.
    assert!(import::import_path(&dir.path().join("missing")).is_err());
}

/// Builds an OSV-style `all.zip` from files.
fn zip_of(files: &[PathBuf]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for f in files {
        w.start_file(f.file_name().unwrap().to_str().unwrap(), opts)
            .unwrap();
        w.write_all(&std::fs::read(f).unwrap()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn osv_all_zip_from_the_go_json() {
    let Some(v) = vulns() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(v.join("go/osv"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let bytes = zip_of(&files);
    let batch = osv::read_zip(&bytes);
    assert_eq!(batch.advisories.len(), 4291);
    assert!(batch.malformed.is_empty());

    // The same through import_path, as a file on disk.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("all.zip");
    std::fs::write(&p, &bytes).unwrap();
    let batch = import::import_path(&p).unwrap();
    assert_eq!(batch.advisories.len(), 4291);
    assert_eq!(import::source_name(&p, &batch), "osv:Go");

    // Damaged archives and hostile entries.
    assert_eq!(osv::read_zip(&bytes[..bytes.len() / 2]).malformed.len(), 1);
    assert_eq!(osv::read_zip(b"not a zip").malformed.len(), 1);
}

#[test]
fn zip_bomb_entries_are_bounded() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    w.start_file("bomb.json", opts).unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..(osv::MAX_ENTRY_BYTES >> 20) + 1 {
        w.write_all(&chunk).unwrap();
    }
    w.start_file("ok.json", opts).unwrap();
    w.write_all(br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"x"}}]}"#)
        .unwrap();
    let bytes = w.finish().unwrap().into_inner();
    assert!(
        bytes.len() < 1 << 20,
        "a small archive that expands past the entry limit"
    );
    let batch = osv::read_zip(&bytes);
    assert_eq!(batch.advisories.len(), 1);
    assert_eq!(batch.malformed.len(), 1);
    assert_eq!(batch.malformed[0].0, "bomb.json");
}

#[test]
fn parse_json_forms() {
    let one = br#"{"id":"A-1","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}"#;
    assert_eq!(osv::parse_json(one).unwrap()[0].source, "osv:PyPI");
    let many = br#"[{"id":"A-1"},{"id":"A-2","withdrawn":"2024-01-01T00:00:00Z"}]"#;
    let l = osv::parse_json(many).unwrap();
    assert_eq!(l.len(), 2);
    assert_eq!(l[0].source, "osv");
    assert!(l[1].withdrawn.is_some());
    assert!(osv::parse_json(b"{\"id\": 5}").is_err());
    assert!(osv::parse_yaml(b"- id: A-1\n- id: A-2\n").unwrap().len() == 2);
}

// ---------------------------------------------------------------------------------------
// database_specific.severity: the rating when no CVSS vector scores a record

#[test]
fn database_specific_severity_becomes_the_rating() {
    // One record (the fast path), the `vulns` answer, an array, YAML.
    let rec = |id: &str, sev: &str| {
        format!(
            r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","summary":"s",
              "affected":[{{"package":{{"ecosystem":"npm","name":"p"}},
                "ranges":[{{"type":"SEMVER","events":[{{"introduced":"0"}}]}}]}}],
              "database_specific":{{"severity":{sev},"cwe_ids":["CWE-79"]}}}}"#
        )
    };
    let one = osv::parse_json(rec("GHSA-1", r#""HIGH""#).as_bytes()).unwrap();
    assert_eq!(one[0].rating.as_deref(), Some("HIGH"));
    let many = format!(
        r#"{{"vulns":[{},{},{}]}}"#,
        rec("GHSA-2", r#"" MODERATE ""#),
        rec("GHSA-3", r#"{"score":7}"#),
        rec("GHSA-4", r#""""#)
    );
    let got: Vec<Option<String>> = osv::parse_json(many.as_bytes())
        .unwrap()
        .into_iter()
        .map(|a| a.rating)
        .collect();
    // Trimmed; a label that is not text, or empty, is none.
    assert_eq!(got, [Some("MODERATE".into()), None, None]);
    let array = format!("[{},{}]", rec("GHSA-5", r#""LOW""#), rec("GHSA-6", "null"));
    let got: Vec<Option<String>> = osv::parse_json(array.as_bytes())
        .unwrap()
        .into_iter()
        .map(|a| a.rating)
        .collect();
    assert_eq!(got, [Some("LOW".into()), None]);
    let yaml = b"id: PYSEC-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package:\n    ecosystem: PyPI\n    name: p\ndatabase_specific:\n  severity: CRITICAL\n";
    assert_eq!(
        osv::parse_yaml(yaml).unwrap()[0].rating.as_deref(),
        Some("CRITICAL")
    );
    let yaml_list = b"- id: PYSEC-2\n  database_specific:\n    severity: LOW\n- id: PYSEC-3\n";
    let got: Vec<Option<String>> = osv::parse_yaml(yaml_list)
        .unwrap()
        .into_iter()
        .map(|a| a.rating)
        .collect();
    assert_eq!(got, [Some("LOW".into()), None]);
    // A `database_specific` of another shape is ignored, the record kept.
    let odd = rec("GHSA-7", "1").replace(r#"{"severity":1,"cwe_ids":["CWE-79"]}"#, "[1,2]");
    let a = osv::parse_json(odd.as_bytes()).unwrap();
    assert_eq!((a[0].id.as_str(), a[0].rating.as_deref()), ("GHSA-7", None));
}

#[test]
fn ghsa_labels_rate_records_without_a_vector() {
    let Some(v) = vulns() else { return };
    let file =
        v.join("ghsa/osv-scalibr-guidedremediation/override__zeppelin-server.vulnerabilities.json");
    let batch = import::import_path(&file).unwrap();
    // python3: 356 records, every one with database_specific.severity; 30 without severity[]
    assert_eq!(batch.advisories.len(), 356);
    assert!(batch.advisories.iter().all(|a| a.rating.is_some()));
    assert_eq!(
        batch
            .advisories
            .iter()
            .filter(|a| a.severity.is_empty())
            .count(),
        30
    );
    let a = batch
        .advisories
        .iter()
        .find(|a| a.id == "GHSA-qmqc-x3r4-6v39")
        .unwrap();
    assert!(a.severity.is_empty());
    assert_eq!(a.rating.as_deref(), Some("HIGH"));

    // Matched: HIGH from the label, where it was UNKNOWN before.
    use moat_model::{Artifact, ArtifactKind, Inventory, Package, Severity};
    use moat_vuln::matcher::{MatchOptions, MemorySource, match_inventory};
    let pkg = Package {
        id: "maven:jackson-databind@2.9.9".into(),
        name: "com.fasterxml.jackson.core:jackson-databind".into(),
        version: "2.9.9".into(),
        kind: "maven".into(),
        purl: "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.9".into(),
        ecosystem: Some("Maven".into()),
        arch: None,
        epoch: None,
        source_name: None,
        source_version: None,
        licenses: Default::default(),
        layer: None,
        locations: Default::default(),
        dev: false,
        application: false,
        file_count: None,
        metadata: Default::default(),
    };
    let inv = Inventory {
        schema_version: moat_model::SCHEMA_VERSION.into(),
        tool: Default::default(),
        artifact: Artifact::new("t", ArtifactKind::Dir, "/t"),
        packages: vec![pkg],
        relationships: vec![],
        diagnostics: vec![],
        package_files: Default::default(),
    };
    let src = MemorySource::new(vec![a.clone()], Default::default());
    let (f, _) = match_inventory(&inv, &src, &MatchOptions::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].id, "CVE-2019-14893");
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(
        f[0].title.as_deref(),
        Some("Polymorphic deserialization of malicious object in jackson-databind")
    );
}

#[test]
fn pypa_records_get_a_title_from_their_details() {
    let Some(v) = vulns() else { return };
    let file = v.join("pypi/pypa-osv-yaml/vulns/werkzeug/PYSEC-2023-221.yaml");
    let a = osv::parse_yaml(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(a[0].summary, None);
    let details = a[0].details.clone().unwrap();
    use moat_model::{Artifact, ArtifactKind, Inventory, Package};
    use moat_vuln::matcher::{MatchOptions, MemorySource, match_inventory};
    let version = a[0].affected[0].versions[0].clone();
    let pkg = Package {
        id: format!("pypi:werkzeug@{version}").into(),
        name: "Werkzeug".into(),
        version: version.into(),
        kind: "pypi".into(),
        purl: String::new().into(),
        ecosystem: Some("PyPI".into()),
        arch: None,
        epoch: None,
        source_name: None,
        source_version: None,
        licenses: Default::default(),
        layer: None,
        locations: Default::default(),
        dev: false,
        application: false,
        file_count: None,
        metadata: Default::default(),
    };
    let inv = Inventory {
        schema_version: moat_model::SCHEMA_VERSION.into(),
        tool: Default::default(),
        artifact: Artifact::new("t", ArtifactKind::Dir, "/t"),
        packages: vec![pkg],
        relationships: vec![],
        diagnostics: vec![],
        package_files: Default::default(),
    };
    let src = MemorySource::new(a, Default::default());
    let (f, _) = match_inventory(&inv, &src, &MatchOptions::default());
    assert!(details.starts_with("Werkzeug is a comprehensive WSGI web application library. "));
    assert_eq!(
        f[0].title.as_deref(),
        Some("Werkzeug is a comprehensive WSGI web application library.")
    );
}

/// A deflated entry whose data is damaged, or whose local header lies about its size, is a
/// malformed entry with the reason; the entries around it are read.
#[test]
fn damaged_deflated_entries_are_malformed_with_their_reason() {
    let rec = |id: &str| {
        format!(
            r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"Go","name":"example.com/{id}"}}}}],"details":"{}"}}"#,
            "padding so that the entry is deflated ".repeat(20)
        )
    };
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for id in ["A-1", "B-2", "C-3"] {
        w.start_file(format!("{id}.json"), opts).unwrap();
        w.write_all(rec(id).as_bytes()).unwrap();
    }
    let good = w.finish().unwrap().into_inner();
    // The second local header and where its data starts.
    let second = good
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x03\x04")
        .nth(1)
        .unwrap()
        .0;
    let u16_at = |i: usize| usize::from(u16::from_le_bytes([good[i], good[i + 1]]));
    let data = second + 30 + u16_at(second + 26) + u16_at(second + 28);
    let size_at = second + 22;
    let size = u32::from_le_bytes(good[size_at..size_at + 4].try_into().unwrap());
    // Read as `moat db import` reads an all.zip: entries inflated on the workers.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.zip");
    let check = |bytes: &[u8], why: &str| {
        std::fs::write(&path, bytes).unwrap();
        let mut items = Vec::new();
        import::stream_path_mapped(&path, 8, &|item| format!("{item:?}"), &mut |got| {
            items.append(got);
            Ok(())
        })
        .unwrap();
        let advisories = items.iter().filter(|s| s.starts_with("Advisory")).count();
        let malformed: Vec<&String> = items
            .iter()
            .filter(|s| s.starts_with("Malformed"))
            .collect();
        assert_eq!(advisories, 2, "{why}: {items:?}");
        assert_eq!(malformed.len(), 1, "{why}: {malformed:?}");
        assert!(
            malformed[0].contains("all.zip!B-2.json")
                && malformed[0].contains(&format!("cannot decompress: {why}")),
            "{why}: {}",
            malformed[0]
        );
        // The sequential read leaves a damaged entry to the zip crate (which goes by the
        // central directory's sizes) and also reads the entries around it.
        let batch = osv::read_zip(bytes);
        let ids: Vec<&str> = batch.advisories.iter().map(|a| a.id.as_str()).collect();
        assert!(
            ids.contains(&"A-1") && ids.contains(&"C-3"),
            "{why}: {ids:?}"
        );
    };
    assert_eq!(osv::read_zip(&good).advisories.len(), 3);
    // A reserved block type in the first byte.
    let mut bad = good.clone();
    bad[data] = 0xff;
    check(&bad, "invalid deflate data");
    // The header's size: smaller than the data inflates to, and larger.
    let mut bad = good.clone();
    bad[size_at..size_at + 4].copy_from_slice(&(size - 1).to_le_bytes());
    check(&bad, "deflate data is longer than its header says");
    let mut bad = good.clone();
    bad[size_at..size_at + 4].copy_from_slice(&(size + 1).to_le_bytes());
    check(&bad, "size differs from the header's");
    // The CRC-32.
    let mut bad = good.clone();
    bad[second + 14] ^= 1;
    check(&bad, "CRC-32 mismatch");
}
