//! .NET (NuGet) parsers against every fixture and osv-scanner's recorded counts.
//!
//! Expectations live in `tests/data/dotnet/*.expected`, written by `tests/data/dotnet/gen.py` (an
//! independent Python reading of the formats; the command is in each file's header). The
//! fixtures themselves are read in place from `$MOAT_FIXTURES`, else `../shared/data` beside the repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_lang::{Ecosystem, dotnet};
use std::path::{Path, PathBuf};

#[path = "support/lockfile_suite.rs"]
mod suite;
use suite::fixture_root;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dotnet")
}

fn parser(kind: &str) -> suite::Parser {
    match kind {
        "deps-json" => dotnet::parse_deps_json,
        "packages-lock" => dotnet::parse_packages_lock,
        other => panic!("unknown parser {other}"),
    }
}

#[test]
fn every_fixture_matches_its_expectation() {
    suite::every_fixture_matches(&data_dir(), parser, 20, |_| false);
}

#[test]
fn truncated_fixtures_never_panic() {
    suite::truncated_fixtures_never_panic(&data_dir(), parser);
}

#[test]
fn dotnet_details() {
    let Some(root) = fixture_root() else { return };
    let read = |p: &str| std::fs::read(root.join(p)).unwrap();
    let r = dotnet::parse_deps_json(
        "x.deps.json",
        &read("fixtures/nuget/trivy-parser-deps-json/happy.deps.json"),
    );
    assert!(r.packages.iter().all(|p| p.ecosystem == Ecosystem::NuGet));
    assert!(r.packages.iter().any(|p| p.application));
    assert!(r.packages.iter().any(|p| !p.depends.is_empty()));
    let r = dotnet::parse_packages_lock(
        "packages.lock.json",
        &read("fixtures/nuget/trivy-parser-packages-lock/packages_lock_legacy.json"),
    );
    let app = r.packages.iter().find(|p| p.application).unwrap();
    assert_eq!(app.name, "my.project");
    assert_eq!(
        app.depends,
        vec!["AWSSDK.Core".to_string(), "Newtonsoft.Json".to_string()]
    );
    // two frameworks with the same package: reported once
    let two = br#"{"version":1,"dependencies":{"net6.0":{"A":{"type":"Direct","resolved":"1.0.0"}},"net8.0":{"A":{"type":"Transitive","resolved":"1.0.0"},"B":{"type":"Transitive","resolved":"2.0.0"}}}}"#;
    let r = dotnet::parse_packages_lock("packages.lock.json", two);
    assert_eq!(r.packages.len(), 2);
    assert_eq!(r.packages[0].metadata["type"], "Direct");
}

// ---------------------------------------------------------------------------------------
// osv-scanner's recorded results
// ---------------------------------------------------------------------------------------

#[test]
fn osv_scanner_counts_or_listed_differences() {
    suite::osv_scanner_counts_or_listed_differences(&data_dir(), parser, 2);
}
