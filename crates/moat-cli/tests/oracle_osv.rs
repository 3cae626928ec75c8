//! Oracle: osv.dev's recorded querybatch answers (osv-scanner's cassettes, flattened into
//! `../shared/data/oracles/osv-scanner/derived-querybatch-oracle.jsonl`) against moat's matches
//! with the whole of `../shared/data/vulns` imported.
//!
//! For the Go, crates.io and PyPI rows, moat scans a CycloneDX SBOM holding those packages. A row
//! agrees when every id osv.dev returned is among the ids and aliases of moat's findings for that
//! package, and every moat finding has at least one of its ids among osv.dev's. Each disagreement
//! is listed, with its reason, in `tests/data/oracles/osv-querybatch-differences.tsv`; the test
//! asserts that the computed differences are exactly those rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

const ECOSYSTEMS: [&str; 3] = ["Go", "crates.io", "PyPI"];

fn shared_path(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/")).join(rel)
}

/// The advisory database of all of `../shared/data/vulns`, built once per test binary.
fn full_db() -> &'static PathBuf {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = common::build_db(dir.path(), "full.db", &shared_path("data/vulns"));
        (dir, db)
    });
    path
}

type Key = (String, String, String);

/// The oracle's (ecosystem, name, version) rows for Go, crates.io and PyPI with osv.dev's ids.
/// Duplicate rows (several cassettes asked the same question) must carry the same answer.
fn oracle_rows(file: &std::path::Path) -> BTreeMap<Key, BTreeSet<String>> {
    let text = std::fs::read_to_string(file).expect("read oracle");
    let mut rows: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let r: Value = serde_json::from_str(line).expect("oracle line is JSON");
        let eco = r["ecosystem"].as_str().unwrap_or_default();
        if !ECOSYSTEMS.contains(&eco) {
            continue;
        }
        assert!(r["purl"].is_null() && r["commit"].is_null(), "{line}");
        assert!(r["next_page_token"].is_null(), "paged answer: {line}");
        let key = (
            eco.to_string(),
            r["name"].as_str().expect("name").to_string(),
            r["version"].as_str().expect("version").to_string(),
        );
        let ids: BTreeSet<String> = r["vulns"]
            .as_array()
            .expect("vulns")
            .iter()
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect();
        if let Some(prev) = rows.get(&key) {
            assert_eq!(prev, &ids, "two answers for {key:?}");
        }
        rows.insert(key, ids);
    }
    rows
}

/// Percent-encodes what a purl version may not hold literally (e.g. `(devel)`).
fn purl_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SBOM component version and purl of an oracle row. Go versions are semver with a `v`
/// (osv.dev's Go queries omit it for the standard library and some modules).
fn component(eco: &str, name: &str, version: &str) -> (String, String) {
    match eco {
        "Go" => {
            let v = if version.starts_with('v') || version.starts_with('(') {
                version.to_string()
            } else {
                format!("v{version}")
            };
            let purl = format!("pkg:golang/{name}@{}", purl_escape(&v));
            (v, purl)
        }
        "PyPI" => (
            version.to_string(),
            format!("pkg:pypi/{}@{}", name.to_lowercase(), purl_escape(version)),
        ),
        "crates.io" => (
            version.to_string(),
            format!("pkg:cargo/{name}@{}", purl_escape(version)),
        ),
        _ => unreachable!(),
    }
}

/// One difference: (ecosystem, package, version, id, side).
type Diff = (String, String, String, String, String);

fn read_expected(file: &std::path::Path) -> BTreeMap<Diff, String> {
    let text = std::fs::read_to_string(file).expect("read differences file");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 6, "six tab-separated fields: {line}");
        assert!(
            f[4] == "osv" || f[4] == "moat",
            "side is osv or moat: {line}"
        );
        assert!(!f[5].trim().is_empty(), "a reason is required: {line}");
        let k = (
            f[0].to_string(),
            f[1].to_string(),
            f[2].to_string(),
            f[3].to_string(),
            f[4].to_string(),
        );
        assert!(
            out.insert(k, f[5].to_string()).is_none(),
            "duplicate: {line}"
        );
    }
    out
}

#[test]
fn osv_querybatch_oracle_agrees_up_to_listed_differences() {
    let oracle = shared_path("data/oracles/osv-scanner/derived-querybatch-oracle.jsonl");
    if !oracle.exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{} is missing (CI=true)", oracle.display());
        }
        eprintln!("skipped: {} not found", oracle.display());
        return;
    }
    let rows = oracle_rows(&oracle);
    assert!(rows.len() >= 80, "only {} Go/crates/PyPI rows", rows.len());

    // One CycloneDX SBOM with every row's package.
    let mut purls: BTreeMap<Key, String> = BTreeMap::new();
    let components: Vec<Value> = rows
        .keys()
        .map(|k| {
            let (version, purl) = component(&k.0, &k.1, &k.2);
            purls.insert(k.clone(), purl.clone());
            serde_json::json!({"type": "library", "bom-ref": purl, "name": k.1, "version": version, "purl": purl})
        })
        .collect();
    let bom = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "application", "name": "osv-querybatch-oracle"}},
        "components": components,
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let sbom = dir.path().join("oracle.cdx.json");
    std::fs::write(&sbom, serde_json::to_vec_pretty(&bom).expect("json")).expect("write sbom");

    let db = full_db();
    let o = moat([
        "scan".as_ref(),
        sbom.as_os_str(),
        "--db".as_ref(),
        db.as_os_str(),
        "--offline".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--quiet".as_ref(),
    ]);
    assert!(o.status.success(), "scan: {}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("scan json");
    let packages = report["packages"].as_array().expect("packages");
    assert_eq!(
        packages.len(),
        rows.len(),
        "every SBOM component is a package"
    );

    // moat's findings per purl: each finding's id set (id + aliases).
    let mut by_purl: BTreeMap<String, Vec<(String, BTreeSet<String>)>> = BTreeMap::new();
    for f in report["findings"].as_array().expect("findings") {
        let purl = f["package"]["purl"].as_str().expect("purl").to_string();
        let id = f["id"].as_str().expect("id").to_string();
        let mut ids: BTreeSet<String> = f["aliases"]
            .as_array()
            .expect("aliases")
            .iter()
            .map(|a| a.as_str().expect("alias").to_string())
            .collect();
        ids.insert(id.clone());
        by_purl.entry(purl).or_default().push((id, ids));
    }
    let known: BTreeSet<&String> = purls.values().collect();
    for p in by_purl.keys() {
        assert!(
            known.contains(p),
            "finding for a package not in the SBOM: {p}"
        );
    }

    let mut diffs: BTreeSet<Diff> = BTreeSet::new();
    let mut agree: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (k, osv_ids) in &rows {
        let findings = by_purl.get(&purls[k]).map(Vec::as_slice).unwrap_or(&[]);
        let moat_ids: BTreeSet<&String> = findings.iter().flat_map(|(_, ids)| ids).collect();
        let before = diffs.len();
        for id in osv_ids {
            if !moat_ids.contains(id) {
                diffs.insert((
                    k.0.clone(),
                    k.1.clone(),
                    k.2.clone(),
                    id.clone(),
                    "osv".into(),
                ));
            }
        }
        for (id, ids) in findings {
            if ids.is_disjoint(osv_ids) {
                diffs.insert((
                    k.0.clone(),
                    k.1.clone(),
                    k.2.clone(),
                    id.clone(),
                    "moat".into(),
                ));
            }
        }
        let e = agree.entry(k.0.as_str()).or_default();
        e.1 += 1;
        if diffs.len() == before {
            e.0 += 1;
        }
    }
    for (eco, (a, n)) in &agree {
        eprintln!(
            "osv querybatch oracle, {eco}: {a} of {n} (ecosystem, package, version) rows agree"
        );
    }

    let expected_file = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/oracles/osv-querybatch-differences.tsv"
    ));
    let expected = read_expected(&expected_file);
    let listed: BTreeSet<Diff> = expected.keys().cloned().collect();
    let new: Vec<String> = diffs
        .difference(&listed)
        .map(|d| format!("{}\t{}\t{}\t{}\t{}", d.0, d.1, d.2, d.3, d.4))
        .collect();
    let gone: Vec<String> = listed
        .difference(&diffs)
        .map(|d| format!("{}\t{}\t{}\t{}\t{}", d.0, d.1, d.2, d.3, d.4))
        .collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "differences to osv.dev changed.\nnew (not listed in {}):\n{}\nlisted but no longer differing:\n{}",
        expected_file.display(),
        new.join("\n"),
        gone.join("\n")
    );
}
