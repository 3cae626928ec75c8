#![allow(clippy::unwrap_used, clippy::expect_used)]
//! moat's verdicts against checkov's expected results on checkov's own Dockerfile fixtures
//! (`../shared/corpus/oracles/checkov-dockerfile-expected.json`, extracted from checkov's
//! tests): for every checkov check a moat rule corresponds to, every fixture file checkov
//! names as passing or failing, checkov's verdict against moat's (a finding of the
//! corresponding rules or none), and, where checkov's test states the number of failed
//! resources of the case, that number against moat's number of findings. The disagreements
//! are listed here, asserted exactly, and explained in ACCURACY.md.

mod common;
use common::*;
use std::collections::BTreeMap;

/// checkov id -> the moat rules that correspond.
const MAP: &[(&str, &[&str])] = &[
    ("CKV_DOCKER_1", &["MOAT-DF-021"]),
    ("CKV_DOCKER_2", &["MOAT-DF-023"]),
    ("CKV_DOCKER_3", &["MOAT-DF-002"]),
    ("CKV_DOCKER_4", &["MOAT-DF-006", "MOAT-DF-007"]),
    ("CKV_DOCKER_5", &["MOAT-DF-036"]),
    ("CKV_DOCKER_6", &["MOAT-DF-032"]),
    ("CKV_DOCKER_7", &["MOAT-DF-003"]),
    ("CKV_DOCKER_8", &["MOAT-DF-001"]),
    ("CKV_DOCKER_9", &["MOAT-DF-040"]),
    ("CKV_DOCKER_10", &["MOAT-DF-024"]),
    ("CKV_DOCKER_11", &["MOAT-DF-035"]),
];

/// (checkov id, fixture file) where moat's verdict differs: moat fails it, checkov fails it.
const KNOWN: &[(&str, &str, bool, bool)] = &[];

#[test]
fn agrees_with_checkov_on_its_fixtures() {
    let Some(oracle) = shared_or_skip("corpus/oracles/checkov-dockerfile-expected.json") else {
        return;
    };
    let base = shared_path("corpus/dockerfiles/checkov-tests/tests/dockerfile/checks");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(oracle).unwrap()).unwrap();
    let mut table: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for case in doc["cases"].as_array().unwrap() {
        let id = case["check_ids"][0].as_str().unwrap();
        let rules = MAP
            .iter()
            .find(|(c, _)| *c == id)
            .expect("every checkov check is mapped")
            .1;
        let test = case["test_file"].as_str().unwrap();
        let name = test
            .rsplit('/')
            .next()
            .unwrap()
            .trim_start_matches("test_")
            .trim_end_matches(".py");
        let dir = base.join(format!("example_{name}"));
        // resource "/failure/Dockerfile.simple.RUN" -> file "failure/Dockerfile.simple".
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for (key, failing) in [("passing_resources", false), ("failing_resources", true)] {
            for r in case[key].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap().trim_start_matches('/');
                let file = &r[..r.rfind('.').unwrap()];
                *expected.entry(file.to_string()).or_default() += usize::from(failing);
            }
        }
        let mut total = 0;
        for (file, want) in expected {
            let path = dir.join(&file);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let checked = moat_misconfig::dockerfile::check(&file, &bytes);
            let got = checked
                .findings
                .iter()
                .filter(|f| rules.contains(&f.id.as_str()))
                .count();
            compared += 1;
            total += got;
            let row = table.entry(id).or_default();
            if (got > 0) == (want > 0) {
                row.0 += 1;
            } else {
                row.1 += 1;
                disagreements.push((
                    id.to_string(),
                    format!("example_{name}/{file}"),
                    got > 0,
                    want > 0,
                ));
            }
        }
        if let Some(failed) = case["summary"]["failed"].as_u64() {
            assert_eq!(
                total as u64, failed,
                "{id}: moat's findings against checkov's failed count"
            );
        }
    }
    for (id, (agree, disagree)) in &table {
        eprintln!("{id}: {agree} agree, {disagree} disagree");
    }
    for d in &disagreements {
        eprintln!("disagreement: {d:?}");
    }
    assert!(compared >= 30, "{compared}");
    let known: Vec<(String, String, bool, bool)> = KNOWN
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), *c, *d))
        .collect();
    assert_eq!(disagreements, known);
}
