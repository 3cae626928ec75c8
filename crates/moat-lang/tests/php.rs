//! PHP (Composer) parsers against every fixture lockfile and osv-scanner's recorded counts.
//!
//! Expectations live in `tests/data/php/*.expected`, written by `tests/data/php/gen.py` (an
//! independent Python reading of the formats; the command is in each file's header). The
//! fixtures themselves are read in place from `$MOAT_FIXTURES`, else `../shared/data` beside the repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_lang::{Ecosystem, php};
use std::path::{Path, PathBuf};

#[path = "support/lockfile_suite.rs"]
mod suite;
use suite::fixture_root;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/php")
}

fn parser(kind: &str) -> suite::Parser {
    match kind {
        "composer-lock" => php::parse_composer_lock,
        "composer-installed" => php::parse_installed_json,
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
fn composer_details() {
    let Some(root) = fixture_root() else { return };
    let read = |p: &str| std::fs::read(root.join(p)).unwrap();
    let r = php::parse_composer_lock(
        "composer.lock",
        &read("fixtures/composer/syft/composer.lock"),
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(
        r.packages
            .iter()
            .all(|p| p.ecosystem == Ecosystem::Packagist)
    );
    assert!(r.packages.iter().any(|p| !p.licenses.is_empty()));
    assert!(r.packages.iter().any(|p| !p.depends.is_empty()));
    assert!(
        r.packages
            .iter()
            .flat_map(|p| &p.depends)
            .all(|d| d.contains('/'))
    );
    // composer 2 installed.json: dev-package-names
    let r = php::parse_installed_json(
        "vendor/composer/installed.json",
        &read("fixtures/composer/syft/vendor/composer_2/installed.json"),
    );
    assert!(!r.packages.is_empty());
    // versions are kept as written (a leading `v` too)
    let any_v = br#"{"packages":[{"name":"a/b","version":"v1.2.3","license":"MIT"}],"packages-dev":[{"name":"c/d","version":"2.0.0","require":{"php":">=7","a/b":"^1"}}]}"#;
    let r = php::parse_composer_lock("composer.lock", any_v);
    assert_eq!(r.packages[0].version, "v1.2.3");
    assert_eq!(r.packages[0].licenses, vec!["MIT".to_string()]);
    assert!(r.packages[1].dev);
    assert_eq!(r.packages[1].depends, vec!["a/b".to_string()]);
    let r = php::parse_installed_json(
        "vendor/composer/installed.json",
        br#"{"packages":[{"name":"a/b","version":"1.0.0"},{"name":"c/d","version":"2.0.0"}],"dev-package-names":["c/d"]}"#,
    );
    assert_eq!(
        r.packages.iter().map(|p| p.dev).collect::<Vec<_>>(),
        vec![false, true]
    );
}

// ---------------------------------------------------------------------------------------
// osv-scanner's recorded results
// ---------------------------------------------------------------------------------------

#[test]
fn osv_scanner_counts_or_listed_differences() {
    suite::osv_scanner_counts_or_listed_differences(&data_dir(), parser, 5);
}
