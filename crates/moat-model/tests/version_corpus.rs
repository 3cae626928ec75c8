//! The osv-scalibr ordering corpora (`/work/shared/data/versions/osv-scalibr-semantic`)
//! and the Debian snapshot listing of osv.dev, run line by line against
//! `moat_model::version::compare`.
//!
//! The data is read from the shared checkout (never copied into the repository). When it
//! is missing the tests print "skipped" and pass, except under `CI=true`, where they fail.
//!
//! Lines that are knowingly not followed are listed in `tests/data/version-exceptions.txt`
//! (`<file>:<line>: <the line>  # <reason>`); the test asserts that exactly those lines
//! fail, so the list cannot go stale in either direction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::version::{Scheme, compare};
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/versions")
}

/// The data directory, or `None` (after printing "skipped") when it is absent outside CI.
fn data_dir(sub: &str) -> Option<PathBuf> {
    let dir = shared().join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("version corpus missing at {} (CI=true)", dir.display());
    }
    eprintln!("skipped: version corpus missing at {}", dir.display());
    None
}

fn exceptions() -> BTreeSet<String> {
    let text = include_str!("data/version-exceptions.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once("  # ") {
            Some((key, _reason)) => key.trim().to_string(),
            None => l.to_string(),
        })
        .collect()
}

/// Runs every line of one corpus file; returns (lines run, failures as
/// `file:line: text`).
fn run_file(scheme: Scheme, name: &str) -> Option<(usize, Vec<String>)> {
    let dir = data_dir("osv-scalibr-semantic")?;
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut run = 0;
    let mut failures = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [a, op, b] = fields[..] else {
            panic!("{name}:{}: not `a <op> b`: {line}", i + 1);
        };
        let want = match op {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            _ => panic!("{name}:{}: unknown operator in {line}", i + 1),
        };
        run += 1;
        let got = compare(scheme, a, b);
        let back = compare(scheme, b, a);
        if got != want || back != want.reverse() {
            failures.push(format!("{name}:{}: {line}", i + 1));
        }
    }
    Some((run, failures))
}

fn check(scheme: Scheme, files: &[&str]) {
    let allowed = exceptions();
    let mut report = Vec::new();
    for name in files {
        let Some((run, failures)) = run_file(scheme, name) else {
            return;
        };
        let unexpected: Vec<&String> = failures.iter().filter(|f| !allowed.contains(*f)).collect();
        let prefix = format!("{name}:");
        let listed: BTreeSet<&String> = allowed.iter().filter(|e| e.starts_with(&prefix)).collect();
        let failed: BTreeSet<&String> = failures.iter().collect();
        let stale: Vec<&&String> = listed.difference(&failed).collect();
        eprintln!(
            "{name}: {} of {run} lines pass ({} listed exceptions)",
            run - failures.len(),
            failures.len() - unexpected.len()
        );
        if !unexpected.is_empty() || !stale.is_empty() {
            report.push(format!(
                "{name}: {} failing lines:\n{}\nexceptions that no longer fail:\n{}",
                unexpected.len(),
                unexpected
                    .iter()
                    .take(60)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                stale
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn alpine() {
    check(
        Scheme::Apk,
        &["alpine-versions.txt", "alpine-versions-generated.txt"],
    );
}

#[test]
fn debian() {
    check(
        Scheme::Dpkg,
        &["debian-versions.txt", "debian-versions-generated.txt"],
    );
}

#[test]
fn maven() {
    check(
        Scheme::Maven,
        &["maven-versions.txt", "maven-versions-generated.txt"],
    );
}

#[test]
fn nuget() {
    check(Scheme::NuGet, &["nuget-versions.txt"]);
}

#[test]
fn packagist() {
    check(
        Scheme::Packagist,
        &["packagist-versions.txt", "packagist-versions-generated.txt"],
    );
}

#[test]
fn pypi() {
    check(
        Scheme::Pep440,
        &["pypi-versions.txt", "pypi-versions-generated.txt"],
    );
}

#[test]
fn redhat() {
    check(Scheme::Rpm, &["redhat-versions.txt"]);
}

#[test]
fn rubygems() {
    check(
        Scheme::RubyGems,
        &["rubygems-versions.txt", "rubygems-versions-generated.txt"],
    );
}

#[test]
fn semver() {
    check(Scheme::Semver, &["semver-versions.txt"]);
}

#[test]
fn pub_dart() {
    check(Scheme::Pub, &["pub-versions.txt"]);
}

#[test]
fn cran() {
    check(
        Scheme::Cran,
        &["cran-versions.txt", "cran-versions-generated.txt"],
    );
}

#[test]
fn hackage() {
    check(Scheme::Hackage, &["hackage-versions.txt"]);
}

/// Every file of the corpus directory is either run above or named as out of scope, so a
/// new corpus file cannot be silently ignored.
#[test]
fn every_corpus_file_is_accounted_for() {
    let Some(dir) = data_dir("osv-scalibr-semantic") else {
        return;
    };
    let run = [
        "alpine-versions.txt",
        "alpine-versions-generated.txt",
        "debian-versions.txt",
        "debian-versions-generated.txt",
        "maven-versions.txt",
        "maven-versions-generated.txt",
        "nuget-versions.txt",
        "packagist-versions.txt",
        "packagist-versions-generated.txt",
        "pypi-versions.txt",
        "pypi-versions-generated.txt",
        "redhat-versions.txt",
        "rubygems-versions.txt",
        "rubygems-versions-generated.txt",
        "semver-versions.txt",
        "pub-versions.txt",
        "cran-versions.txt",
        "cran-versions-generated.txt",
        "hackage-versions.txt",
    ];
    // Files of ecosystems moat has no scheme for would be listed here.
    let out_of_scope: [&str; 0] = [];
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let name = entry
            .expect("dir entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.contains("-versions") && name.ends_with(".txt") {
            assert!(
                run.contains(&name.as_str()) || out_of_scope.contains(&name.as_str()),
                "corpus file {name} is neither run nor listed as out of scope"
            );
        }
    }
}

/// The exceptions file lists only lines that exist, verbatim, in the corpus.
#[test]
fn exceptions_name_real_lines() {
    let Some(dir) = data_dir("osv-scalibr-semantic") else {
        return;
    };
    for e in exceptions() {
        let mut it = e.splitn(3, ':');
        let (file, line, text) = (
            it.next().unwrap(),
            it.next().unwrap(),
            it.next().unwrap().trim(),
        );
        let content = std::fs::read_to_string(dir.join(file)).expect("corpus file");
        let n: usize = line.parse().expect("line number");
        assert_eq!(
            content.lines().nth(n - 1).map(str::trim),
            Some(text),
            "exception {e}"
        );
    }
}

/// osv.dev's recorded snapshot.debian.org listings: each `result` list is in descending
/// dpkg order, so every neighbouring pair must compare `>` (and its reverse `<`).
#[test]
fn debian_snapshot_listings_are_sorted() {
    let Some(dir) = data_dir("osv.dev") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("TestDebian_GetVersions.yaml")).expect("yaml");
    let mut lists = 0;
    let mut pairs = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        // Minimal YAML reading: the listings are one-line JSON bodies under `body: |`,
        // each a `{"_comment":..., "package":..., "result":[{"version":"..."}, ...]}`.
        let line = line.trim();
        if !line.starts_with('{') || !line.contains("\"result\"") {
            continue;
        }
        let package = line
            .split("\"package\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("?")
            .to_string();
        let versions: Vec<&str> = line
            .split("{\"version\":\"")
            .skip(1)
            .map(|r| r.split('"').next().expect("closing quote"))
            .collect();
        assert!(versions.len() > 10, "{package}: too few versions parsed");
        lists += 1;
        for w in versions.windows(2) {
            pairs += 1;
            if compare(Scheme::Dpkg, w[1], w[0]) != Ordering::Less
                || compare(Scheme::Dpkg, w[0], w[1]) != Ordering::Greater
            {
                failures.push(format!("{package}: {} < {}", w[1], w[0]));
            }
        }
    }
    eprintln!("debian snapshot listings: {lists} lists, {pairs} neighbouring pairs");
    assert!(
        lists >= 3,
        "expected the curl, nginx and blender listings, found {lists}"
    );
    assert!(
        failures.is_empty(),
        "unsorted pairs:\n{}",
        failures.join("\n")
    );
}
