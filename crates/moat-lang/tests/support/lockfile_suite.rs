//! The fixture suite shared by the npm, PHP and .NET parser tests: every fixture against its
//! `tests/data/<eco>/*.expected` file (written by that folder's `gen.py`), truncations, and
//! osv-scanner's recorded counts. Each test file passes its data folder and parser table.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_lang::{LangPackage, LangParsed};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parser chosen by the `# parser:` header of an expected file.
pub type Parser = fn(&str, &[u8]) -> LangParsed;

/// The fixture root, or `None` (test skipped) when it is absent outside CI.
pub fn fixture_root() -> Option<PathBuf> {
    let root = PathBuf::from(std::env::var("MOAT_FIXTURES").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
    }));
    if root.is_dir() {
        return Some(root);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "fixture root {} missing",
        root.display()
    );
    println!("skipped: no fixture root {}", root.display());
    None
}

pub fn row(p: &LangPackage) -> String {
    let flag = if p.application {
        "app"
    } else if p.dev {
        "dev"
    } else {
        "-"
    };
    format!("{}\t{}\t{}", p.name, p.version, flag)
}

pub struct Expected {
    pub file: String,
    pub source: String,
    pub kind: String,
    pub invalid: bool,
    pub rows: Vec<String>,
}

pub fn expectations(data_dir: &Path) -> Vec<Expected> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(data_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".expected"))
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(data_dir.join(&name)).unwrap();
        let mut e = Expected {
            file: name.clone(),
            source: String::new(),
            kind: String::new(),
            invalid: false,
            rows: Vec::new(),
        };
        for line in text.lines() {
            if let Some(s) = line.strip_prefix("# source: ") {
                e.source = s.to_string();
            } else if let Some(s) = line.strip_prefix("# parser: ") {
                e.kind = s.to_string();
            } else if line == "# invalid" {
                e.invalid = true;
            } else if !line.starts_with('#') && !line.is_empty() {
                e.rows.push(line.to_string());
            }
        }
        assert!(
            !e.source.is_empty() && !e.kind.is_empty(),
            "{name}: bad header"
        );
        out.push(e);
    }
    out
}

/// Every fixture parses to exactly its expected rows; invalid ones warn and give nothing.
/// `dedup(kind)` says whether repeated rows of that parser count once.
pub fn every_fixture_matches(
    data_dir: &Path,
    parser: fn(&str) -> Parser,
    min_files: usize,
    dedup: fn(&str) -> bool,
) {
    let Some(root) = fixture_root() else { return };
    let exps = expectations(data_dir);
    assert!(
        exps.len() >= min_files,
        "only {} expectation files",
        exps.len()
    );
    let mut failures = Vec::new();
    for e in &exps {
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let parsed = parser(&e.kind)(&e.source, &bytes);
        let mut got: Vec<String> = parsed.packages.iter().map(row).collect();
        got.sort();
        if dedup(&e.kind) {
            got.dedup();
        }
        if got != e.rows {
            failures.push(format!(
                "{} ({}):\n  expected {:?}\n  got      {:?}\n  warnings {:?}",
                e.file, e.source, e.rows, got, parsed.warnings
            ));
        }
        if e.invalid {
            assert!(
                !parsed.warnings.is_empty() && parsed.packages.is_empty(),
                "{}: invalid input must give a warning and no packages",
                e.source
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// No prefix of any fixture makes its parser panic.
pub fn truncated_fixtures_never_panic(data_dir: &Path, parser: fn(&str) -> Parser) {
    let Some(root) = fixture_root() else { return };
    for e in expectations(data_dir) {
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let f = parser(&e.kind);
        let step = (bytes.len() / 61).max(1);
        let mut cut = 0;
        while cut < bytes.len() {
            let _ = f(&e.source, &bytes[..cut]);
            cut += step;
        }
        for cut in 0..bytes.len().min(200) {
            let _ = f(&e.source, &bytes[..cut]);
        }
    }
}

/// `source -> count` from osv-scanner's snapshots ("Scanned <rootdir>/X file and found N package").
pub fn osv_counts(root: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for sub in ["source", "image"] {
        let snap = root.join(format!(
            "oracles/osv-scanner/scan/{sub}/__snapshots__/command_test.snap"
        ));
        let Ok(text) = std::fs::read_to_string(&snap) else {
            continue;
        };
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("Scanned <rootdir>/") else {
                continue;
            };
            let Some((file, tail)) = rest.split_once(" file and found ") else {
                continue;
            };
            let Some(n) = tail.split(' ').next().and_then(|n| n.parse().ok()) else {
                continue;
            };
            out.insert(format!("oracles/osv-scanner/scan/{sub}/{file}"), n);
        }
    }
    out
}

/// `(source, name, version)` rows of osv-scanner's vulnerability tables.
pub fn osv_flagged(root: &Path) -> std::collections::BTreeSet<(String, String, String)> {
    let mut out = std::collections::BTreeSet::new();
    let snap = root.join("oracles/osv-scanner/scan/source/__snapshots__/command_test.snap");
    let text = std::fs::read_to_string(snap).unwrap_or_default();
    for line in text.lines().filter(|l| l.starts_with("| https://osv.dev/")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() == 9 && cols[7].starts_with("testdata/") {
            out.insert((
                format!("oracles/osv-scanner/scan/source/{}", cols[7]),
                cols[4].to_string(),
                cols[5].to_string(),
            ));
        }
    }
    out
}

/// osv-scanner's recorded package counts equal ours, or the difference is listed in
/// `<data_dir>/osv-scanner-differences.txt`; every package it flagged is one we report.
pub fn osv_scanner_counts_or_listed_differences(
    data_dir: &Path,
    parser: fn(&str) -> Parser,
    min_compared: usize,
) {
    let Some(root) = fixture_root() else { return };
    let counts = osv_counts(&root);
    let listed: BTreeMap<String, (usize, usize)> =
        std::fs::read_to_string(data_dir.join("osv-scanner-differences.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                assert!(f.len() >= 4, "bad line {l:?}");
                let n = |s: &str, p: &str| s.strip_prefix(p).unwrap().parse::<usize>().unwrap();
                (f[0].to_string(), (n(f[1], "osv="), n(f[2], "moat=")))
            })
            .collect();
    let mut compared = 0;
    let mut problems = Vec::new();
    for e in expectations(data_dir) {
        let Some(&osv) = counts.get(&e.source) else {
            continue;
        };
        compared += 1;
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let parsed = parser(&e.kind)(&e.source, &bytes);
        let ours = parsed.packages.iter().filter(|p| !p.application).count();
        match listed.get(&e.source) {
            Some(&(o, m)) if o == osv && m == ours => {}
            Some(&(o, m)) => problems.push(format!(
                "{}: listed osv={o} moat={m}, now osv={osv} moat={ours}",
                e.source
            )),
            None if osv != ours => problems.push(format!(
                "{}: osv-scanner {osv}, moat {ours}, not listed",
                e.source
            )),
            None => {}
        }
    }
    for src in listed.keys() {
        if !counts.contains_key(src) {
            problems.push(format!("{src}: listed but osv-scanner recorded nothing"));
        }
    }
    // every (name, version) osv-scanner flagged in a parsed source is one we report
    for (src, name, version) in osv_flagged(&root) {
        let Some(e) = expectations(data_dir).into_iter().find(|e| e.source == src) else {
            continue;
        };
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let parsed = parser(&e.kind)(&e.source, &bytes);
        if !parsed
            .packages
            .iter()
            .any(|p| p.name == name && p.version == version)
        {
            problems.push(format!(
                "{src}: osv-scanner flags {name} {version}, moat lacks it"
            ));
        }
    }
    assert!(compared >= min_compared, "compared only {compared}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
