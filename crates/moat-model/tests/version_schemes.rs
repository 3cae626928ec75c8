//! Hand-written cases from the specifications and from real version histories, for the
//! schemes without a corpus (Go, Hex, Conan, CocoaPods), beyond the corpus (CRAN,
//! Hackage), for the ecosystems mapped onto an existing scheme (GitHub Actions, Julia,
//! SwiftURL, Bitnami), and for the API around `compare` (`Scheme::for_ecosystem`,
//! `parse_ok`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::version::{Scheme, compare, parse_ok};
use std::cmp::Ordering::{self, Equal, Greater, Less};

fn check(scheme: Scheme, cases: &[(&str, Ordering, &str)]) {
    let mut failures = Vec::new();
    for &(a, want, b) in cases {
        let got = compare(scheme, a, b);
        let back = compare(scheme, b, a);
        if got != want || back != want.reverse() {
            failures.push(format!("{a} {want:?} {b}: got {got:?} / reverse {back:?}"));
        }
    }
    assert!(failures.is_empty(), "{scheme:?}:\n{}", failures.join("\n"));
}

/// golang.org/x/mod/semver and the Go modules reference (pseudo-versions,
/// `+incompatible`).
#[test]
fn go() {
    check(
        Scheme::Go,
        &[
            ("v1.0.0", Less, "v1.0.1"),
            ("v1.0.1", Less, "v1.1.0"),
            ("v1.9.0", Less, "v1.10.0"),
            ("v1.10.0", Less, "v2.0.0"),
            ("v1.2.3", Equal, "1.2.3"),
            ("v1", Equal, "v1.0.0"),
            ("v1.2", Equal, "v1.2.0"),
            ("v1.2", Less, "v1.2.1"),
            ("v1.0.0-alpha", Less, "v1.0.0-alpha.1"),
            ("v1.0.0-alpha.1", Less, "v1.0.0-alpha.beta"),
            ("v1.0.0-alpha.beta", Less, "v1.0.0-beta"),
            ("v1.0.0-beta", Less, "v1.0.0-beta.2"),
            ("v1.0.0-beta.2", Less, "v1.0.0-beta.11"),
            ("v1.0.0-beta.11", Less, "v1.0.0-rc.1"),
            ("v1.0.0-rc.1", Less, "v1.0.0"),
            ("v1.0.0-RC", Less, "v1.0.0-rc"),
            // Build metadata, +incompatible included, is ignored.
            ("v2.0.0+incompatible", Equal, "v2.0.0"),
            ("v2.0.0+incompatible", Less, "v2.0.1+incompatible"),
            ("v1.0.0+build.1", Equal, "v1.0.0+build.2"),
            ("v3.0.0+incompatible", Greater, "v2.9.9"),
            // Pseudo-versions: vX.0.0-yyyymmddhhmmss-abcdef (no earlier tag).
            ("v0.0.0-20191109021931-daa7c04131f5", Less, "v0.0.0"),
            ("v0.0.0-20191109021931-daa7c04131f5", Less, "v0.0.1"),
            (
                "v0.0.0-20191109021931-daa7c04131f5",
                Less,
                "v0.0.0-20200101000000-000000000000",
            ),
            (
                "v0.0.0-20191109021931-daa7c04131f5",
                Equal,
                "0.0.0-20191109021931-daa7c04131f5",
            ),
            (
                "v0.0.0-20191109021931-aaaaaaaaaaaa",
                Less,
                "v0.0.0-20191109021931-daa7c04131f5",
            ),
            // vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef: after vX.Y.Z, before vX.Y.(Z+1).
            ("v1.2.3", Less, "v1.2.4-0.20191109021931-daa7c04131f5"),
            ("v1.2.4-0.20191109021931-daa7c04131f5", Less, "v1.2.4"),
            (
                "v1.2.4-0.20191109021931-daa7c04131f5",
                Less,
                "v1.2.4-0.20201109021931-daa7c04131f5",
            ),
            // vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef: after vX.Y.Z-pre.
            (
                "v1.2.4-pre",
                Less,
                "v1.2.4-pre.0.20191109021931-daa7c04131f5",
            ),
            ("v1.2.4-pre.0.20191109021931-daa7c04131f5", Less, "v1.2.4"),
            (
                "v1.2.4-pre.0.20191109021931-daa7c04131f5",
                Less,
                "v1.2.4-pre.1",
            ),
            (
                "v2.0.0-20191109021931-daa7c04131f5+incompatible",
                Less,
                "v2.0.0+incompatible",
            ),
            // Invalid versions sort first (leading zeros, empty parts, shorthand with pre).
            ("v01.0.0", Less, "v0.0.1"),
            ("v1.0", Greater, "v1.0.0-0"),
            ("v1.2-pre", Less, "v0.0.0"),
            ("latest", Less, "v0.0.0-20191109021931-daa7c04131f5"),
            ("v1.0.0-01", Less, "v0.0.1"),
            ("", Less, "v0.0.0"),
            ("abc", Greater, "abb"),
        ],
    );
    assert!(parse_ok(Scheme::Go, "v1.2.3"));
    assert!(parse_ok(Scheme::Go, "1.2.3"));
    assert!(parse_ok(Scheme::Go, "v0.0.0-20191109021931-daa7c04131f5"));
    assert!(parse_ok(Scheme::Go, "v2.0.0+incompatible"));
    assert!(parse_ok(Scheme::Go, "v1.2"));
    assert!(!parse_ok(Scheme::Go, "v1.2-pre"));
    assert!(!parse_ok(Scheme::Go, "v01.2.3"));
    assert!(!parse_ok(Scheme::Go, "v1.2.3-01"));
    assert!(!parse_ok(Scheme::Go, "v1.2.3."));
    assert!(!parse_ok(Scheme::Go, "latest"));
}

/// Elixir's `Version` (strict SemVer 2.0.0, build ignored).
#[test]
fn hex() {
    check(
        Scheme::Hex,
        &[
            ("1.0.0", Less, "2.0.0"),
            ("2.0.0", Less, "2.1.0"),
            ("2.1.0", Less, "2.1.1"),
            ("1.9.0", Less, "1.10.0"),
            ("1.0.0", Equal, "1.0.0"),
            ("1.0.0-alpha", Less, "1.0.0"),
            ("1.0.0-alpha", Less, "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", Less, "1.0.0-alpha.beta"),
            ("1.0.0-alpha.beta", Less, "1.0.0-beta"),
            ("1.0.0-beta", Less, "1.0.0-beta.2"),
            ("1.0.0-beta.2", Less, "1.0.0-beta.11"),
            ("1.0.0-beta.11", Less, "1.0.0-rc.1"),
            ("1.0.0-rc.1", Less, "1.0.0"),
            ("1.0.0-rc.1", Less, "1.0.0-rc.1.0"),
            ("1.0.0-1", Less, "1.0.0-a"),
            ("1.0.0-A", Less, "1.0.0-a"),
            ("1.0.0-a-b", Greater, "1.0.0-a"),
            ("1.0.0+build.1", Equal, "1.0.0+build.2"),
            ("1.0.0+build", Equal, "1.0.0"),
            ("1.0.0-rc.1+build.1", Less, "1.0.0"),
            ("1.0.0-rc.1+build.1", Equal, "1.0.0-rc.1"),
            ("0.0.1", Greater, "0.0.0"),
            ("10.0.0", Greater, "9.99.99"),
            ("1.2.3", Equal, "1.2.3+a.b.c"),
            (
                "999999999999999999999.0.0",
                Greater,
                "99999999999999999999.0.0",
            ),
            // Elixir rejects these; they sort before every version, byte-wise.
            ("1.0", Less, "0.0.0"),
            ("v1.0.0", Less, "0.0.0"),
            ("01.0.0", Less, "0.0.0"),
            ("1.0.0-01", Less, "0.0.0"),
            ("1.0.0-", Less, "0.0.0"),
            ("1.0", Less, "1.1"),
        ],
    );
    assert!(parse_ok(Scheme::Hex, "1.0.0-rc.1+build.1"));
    assert!(!parse_ok(Scheme::Hex, "1.0"));
    assert!(!parse_ok(Scheme::Hex, "v1.0.0"));
    assert!(!parse_ok(Scheme::Hex, "01.0.0"));
    assert!(!parse_ok(Scheme::Hex, "1.0.0-a..b"));
}

#[test]
fn for_ecosystem() {
    let cases = [
        ("Debian:12", Some(Scheme::Dpkg)),
        ("Debian", Some(Scheme::Dpkg)),
        ("Ubuntu:22.04:LTS", Some(Scheme::Dpkg)),
        ("Ubuntu:Pro:18.04:LTS", Some(Scheme::Dpkg)),
        ("Alpine:v3.19", Some(Scheme::Apk)),
        ("Wolfi", Some(Scheme::Apk)),
        ("Chainguard", Some(Scheme::Apk)),
        ("Red Hat:enterprise_linux:9::appstream", Some(Scheme::Rpm)),
        ("AlmaLinux:9", Some(Scheme::Rpm)),
        ("Rocky Linux:8", Some(Scheme::Rpm)),
        ("Mariner:2.0", Some(Scheme::Rpm)),
        ("Azure Linux:3", Some(Scheme::Rpm)),
        ("openSUSE:Tumbleweed", Some(Scheme::Rpm)),
        ("SUSE:Linux Enterprise Server 15 SP5", Some(Scheme::Rpm)),
        ("npm", Some(Scheme::Semver)),
        ("crates.io", Some(Scheme::Semver)),
        ("PyPI", Some(Scheme::Pep440)),
        ("Maven", Some(Scheme::Maven)),
        (
            "Maven:https://repo.maven.apache.org/maven2/",
            Some(Scheme::Maven),
        ),
        ("RubyGems", Some(Scheme::RubyGems)),
        ("Go", Some(Scheme::Go)),
        ("NuGet", Some(Scheme::NuGet)),
        ("Packagist", Some(Scheme::Packagist)),
        ("Hex", Some(Scheme::Hex)),
        ("Pub", Some(Scheme::Pub)),
        ("CRAN", Some(Scheme::Cran)),
        ("Hackage", Some(Scheme::Hackage)),
        ("GIT", None),
        ("", None),
        ("pypi", None),
    ];
    for (eco, want) in cases {
        assert_eq!(Scheme::for_ecosystem(eco), want, "{eco:?}");
    }
}

#[test]
fn parse_ok_per_scheme() {
    let cases: &[(Scheme, &str, bool)] = &[
        (Scheme::Dpkg, "1:2.30-1+deb12u1", true),
        (Scheme::Dpkg, "1.0~rc1", true),
        (Scheme::Dpkg, "a1.0", false),
        (Scheme::Dpkg, "x:1.0", false),
        (Scheme::Dpkg, "1.0-", false),
        (Scheme::Dpkg, "", false),
        (Scheme::Rpm, "1:3.10.0-229.el7", true),
        (Scheme::Rpm, "1.0^git1", true),
        (Scheme::Rpm, "1.0-", false),
        (Scheme::Rpm, "1 0", false),
        (Scheme::Apk, "1.2.3_rc1-r0", true),
        (Scheme::Apk, "1.0.0_pre20191002222144-r0", true),
        (Scheme::Apk, "1.2b_p1~abc-r2", true),
        (Scheme::Apk, "1.2.0A", false),
        (Scheme::Apk, "1-r", false),
        (Scheme::Apk, "1.2_blah", false),
        (Scheme::Semver, "1.2.3-alpha.1+build", true),
        (Scheme::Semver, "v1.2.3", true),
        (Scheme::Semver, "1.2", false),
        (Scheme::Semver, "01.2.3", false),
        (Scheme::Pep440, "1!2.0rc1.post2.dev3+local.7", true),
        (Scheme::Pep440, "1.0-1", true),
        (Scheme::Pep440, "V1.0.ALPHA", true),
        (Scheme::Pep440, "0.1-bulbasaur", false),
        (Scheme::Pep440, "1.0+", false),
        (Scheme::Maven, "1.0-SNAPSHOT", true),
        (Scheme::Maven, "", false),
        (Scheme::RubyGems, "1.0.0.pre1", true),
        (Scheme::RubyGems, "1.0-rc1", true),
        (Scheme::RubyGems, "", true),
        (Scheme::RubyGems, "a1", false),
        (Scheme::RubyGems, "1..0", false),
        (Scheme::NuGet, "1.0.0.1-beta.2+sha", true),
        (Scheme::NuGet, "1.0.0.0.0", false),
        (Scheme::Packagist, "v1.2.3", true),
        (Scheme::Packagist, "1.0.0-beta2", true),
        (Scheme::Packagist, "1.0.0-RC1", true),
        (Scheme::Packagist, "dev-main", true),
        (Scheme::Packagist, "1.0.0-foo", false),
        (Scheme::Pub, "1.2.3-dev+4", true),
        (Scheme::Pub, "1.2", false),
    ];
    for &(scheme, v, want) in cases {
        assert_eq!(parse_ok(scheme, v), want, "{scheme:?} {v:?}");
    }
}

/// A few orderings per scheme straight from the specifications, as a smoke test that
/// does not need the shared corpus.
#[test]
fn spec_examples() {
    check(
        Scheme::Dpkg,
        &[
            ("1.0~rc1", Less, "1.0"),
            ("1.0", Less, "1.0+b1"),
            ("1.0", Equal, "1.0-0"),
            ("1:0.9", Greater, "2.0"),
            ("1.0a", Less, "1.0+"),
        ],
    );
    check(
        Scheme::Rpm,
        &[
            ("1.0~rc1", Less, "1.0"),
            ("1.0", Less, "1.0^git1"),
            ("1.0^git1", Less, "1.0.1"),
            ("1:1", Greater, "9"),
        ],
    );
    check(
        Scheme::Apk,
        &[
            ("1.2_rc1", Less, "1.2"),
            ("1.2", Less, "1.2_p1"),
            ("1.2-r1", Less, "1.2-r2"),
            ("1.2a", Greater, "1.2"),
            ("1.01", Less, "1.1"),
        ],
    );
    check(
        Scheme::Semver,
        &[
            ("1.0.0-rc.1", Less, "1.0.0"),
            ("v1.0.0", Equal, "=1.0.0"),
            ("1.0.0+a", Equal, "1.0.0+b"),
        ],
    );
    check(
        Scheme::Pep440,
        &[
            ("1.0.dev1", Less, "1.0a1"),
            ("1.0a1", Less, "1.0b1"),
            ("1.0rc1", Less, "1.0"),
            ("1.0", Less, "1.0.post1"),
            ("1.0", Less, "1.0+local"),
            ("1.0", Equal, "1.0.0"),
            ("1.0-1", Equal, "1.0.post1"),
            ("1.0.alpha", Equal, "1.0a0"),
            ("1!0.1", Greater, "2.0"),
        ],
    );
    check(
        Scheme::Maven,
        &[
            ("1.0-alpha-1", Less, "1.0-beta-1"),
            ("1.0-SNAPSHOT", Less, "1.0"),
            ("1.0", Equal, "1.0.0"),
            ("1.0", Less, "1.0-sp"),
            ("1.0.RELEASE", Equal, "1.0"),
            ("1.0-cr1", Equal, "1.0-rc1"),
        ],
    );
    check(
        Scheme::RubyGems,
        &[
            ("1.0.a", Less, "1.0"),
            ("1.0", Equal, "1.0.0"),
            ("1.0-rc1", Less, "1.0"),
        ],
    );
    check(
        Scheme::NuGet,
        &[
            ("1.0.0-BETA", Equal, "1.0.0-beta"),
            ("1.0", Equal, "1.0.0.0"),
            ("1.0.0.1", Greater, "1.0.0"),
        ],
    );
    check(
        Scheme::Packagist,
        &[
            ("1.0-dev", Less, "1.0alpha1"),
            ("1.0RC1", Less, "1.0"),
            ("1.0", Less, "1.0pl1"),
        ],
    );
    check(
        Scheme::Pub,
        &[
            ("1.0.0-pre", Less, "1.0.0"),
            ("1.0.0", Less, "1.0.0+1"),
            ("1.0.0+1", Less, "1.0.0+a"),
        ],
    );
}

/// Conan 2's `Version`. Sources: the Conan documentation ("Version ranges", section
/// "Semantic versioning": digits numerically, `2 < 11`, letters alphabetically, ordered
/// pre-releases and builds, `1.1-alpha.1` older than `1.1`), the comparisons of Conan's
/// own test suite (`test/unittests/model/version/test_version_comparison.py`), and
/// ConanCenter version lists (`recipes/*/config.yml`: openssl, libjpeg, zlib, boost, the
/// `cci.<date>` versions of untagged libraries).
#[test]
fn conan() {
    check(
        Scheme::Conan,
        &[
            // Numbers, any number of items, a prefix older.
            ("1", Less, "2"),
            ("1.3", Less, "1.22"),
            ("1.1.1.1.3", Less, "1.1.1.1.22"),
            ("1.0.2", Less, "1.1"),
            ("1.2.3", Less, "1.11"),
            ("1.2", Less, "1.2.3"),
            ("4", Less, "4.0.0.1"),
            // Trailing zeros do not count, in every part.
            ("1", Equal, "1.0.0"),
            ("1.0", Equal, "1.0.0.0"),
            ("1.0-pre1.0", Equal, "1.0.0-pre1"),
            ("1+b1", Equal, "1.0+b1.0"),
            // Letters.
            ("1.1.a", Less, "1.1.b"),
            ("1.1.1.abc", Less, "1.1.1.abz"),
            ("a.b.c", Less, "b.c"),
            ("1.1", Less, "1.a"),
            ("1.1", Less, "1.1a"),
            ("1.1", Less, "1.1.a"),
            ("1.1.a", Less, "1.2"),
            // Items starting below '0' come before numbers.
            ("1.1*", Less, "1.20"),
            ("1.1.*", Less, "1.1.0.1"),
            ("1.2.2", Less, "1.2.3*"),
            // Builds are ordered (unlike SemVer), after the main version.
            ("1.1+b1", Less, "1.1+b2"),
            ("1.1", Less, "1.1+b2"),
            ("1.1+b1", Less, "1.2"),
            ("1.1+b.3", Less, "1.1+b.22"),
            ("4.0.0+abc", Less, "4.0.0+xyz"),
            // Pre-releases.
            ("1.1-pre1", Less, "1.1-pre2"),
            ("1.1-alpha.3", Less, "1.1-alpha.22"),
            ("1.1-alpha.3+b1", Less, "1.1-alpha.3+b2"),
            ("1.1-alpha.1", Less, "1.1"),
            ("1.1-alpha.1", Less, "1.1.0"),
            ("1.1", Less, "1.2-alpha1"),
            ("1.0.0-", Less, "1.0.0-alpha1"),
            ("1.1.9", Less, "1.2-rc1"),
            ("1.2.1-dev", Less, "1.3-alpha"),
            ("1.2-alpha", Less, "1.2.1-dev"),
            ("0.0.1-3", Less, "0.0.1"),
            ("0.0.1-3", Less, "0.0.1-3-1"),
            ("0.0.1-3-1", Less, "0.0.1-4"),
            ("1.1-pre.1", Less, "1.1+b.1"),
            ("1.1-pre.1", Less, "1.1-pre.1+b.1"),
            ("1.0.0-+2", Less, "1.0.0+1"),
            // ConanCenter: openssl's letter releases, libjpeg, zlib, boost, cci dates.
            ("1.1.1", Less, "1.1.1k"),
            ("1.1.1k", Less, "1.1.1w"),
            ("1.1.1w", Less, "1.1.2"),
            ("1.1.1w", Less, "3.0.0"),
            ("3.0.13", Less, "3.2.1"),
            ("9d", Less, "9e"),
            ("9e", Less, "10"),
            ("1.2.13", Less, "1.3"),
            ("1.3", Less, "1.3.1"),
            ("1.83.0", Less, "1.84.0"),
            ("cci.20230101", Less, "cci.20240101"),
            ("cci.20240101", Greater, "999"),
            // Where Conan's text comparison of `10` and `9k` cycles, the number decides.
            ("1.1.9k", Less, "1.1.10"),
            ("01", Equal, "1"),
            // Huge numbers, case (Conan 2 versions are lower case; compared as written).
            ("999999999999999999999.0", Greater, "99999999999999999999.9"),
            ("1.0-RC1", Less, "1.0-rc1"),
            // Every string is a version: first bytes place non-numbers.
            ("!", Less, "0.1"),
            ("abc", Greater, "1000"),
            ("", Greater, "0"),
        ],
    );
    assert!(parse_ok(Scheme::Conan, "1.2.3"));
    assert!(parse_ok(Scheme::Conan, "cci.20230101"));
    assert!(parse_ok(Scheme::Conan, "1.1.1w"));
    assert!(parse_ok(Scheme::Conan, "1.2.3.4-pre.1+build.45.a"));
    assert!(parse_ok(Scheme::Conan, "9e"));
    assert!(!parse_ok(Scheme::Conan, "1.0-RC1"));
    assert!(!parse_ok(Scheme::Conan, "-1.0"));
    assert!(!parse_ok(Scheme::Conan, "1 0"));
    assert!(!parse_ok(Scheme::Conan, ""));
    assert!(!parse_ok(Scheme::Conan, "1"));
}

/// R's `package_version`. Sources: Writing R Extensions ("The DESCRIPTION file": integers
/// separated by single `.` or `-`), `?package_version` (its example `1.2-3 < 1.2-4 <
/// 2.1`), and CRAN archive histories (survival, MASS, Matrix, ggplot2, data.table, Rcpp).
#[test]
fn cran() {
    check(
        Scheme::Cran,
        &[
            ("1.2-3", Less, "1.2-4"),
            ("1.2-4", Less, "2.1"),
            ("1.2-3", Equal, "1.2.3"),
            ("1.8", Less, "1.8.0"),
            ("1.8.0", Less, "1.8.0.1"),
            ("0.01", Equal, "0.1"),
            ("0.9", Less, "0.75"),
            ("0", Less, "0.1-0"),
            (" 1.0 ", Equal, "1.0"),
            // survival, MASS (7.3-60.0.1 is a real release), Matrix.
            ("3.5-7", Less, "3.5-8"),
            ("3.5-8", Less, "3.6-4"),
            ("7.3-60", Less, "7.3-60.0.1"),
            ("7.3-60.0.1", Less, "7.3-61"),
            ("1.6-5", Less, "1.7-0"),
            // ggplot2, data.table, Rcpp: numbers compare numerically.
            ("3.4.4", Less, "3.5.0"),
            ("1.14.10", Less, "1.15.0"),
            ("1.14.8", Less, "1.14.10"),
            ("1.0.9", Less, "1.0.10"),
            ("1.99999999999999999999", Greater, "1.9999999999999999999"),
            // Not versions: before every version, byte-wise among themselves.
            ("1.0a", Less, "0.0"),
            ("1..2", Less, "0"),
            ("1.0-", Less, "0"),
            ("", Less, "0"),
            ("1.0a", Less, "1.0b"),
        ],
    );
}

/// Cabal's `Version` / `Data.Version`. Sources: the Package Versioning Policy, Cabal's
/// `Distribution.Types.Version` (integer lists; tags parsed with a warning), Hackage
/// histories (aeson, text, base), and the GHC versions OSV lists (`osv/ecosystems/
/// haskell.py`: `4.08.1`, `5.00`, `6.10.2-rc1`, ... and `ghc-X.Y.Z-rcN` tags).
#[test]
fn hackage() {
    check(
        Scheme::Hackage,
        &[
            ("1.8", Less, "1.8.0"),
            ("1.8.0", Less, "1.8.0.1"),
            ("0.11.3.0", Less, "1.0"),
            ("0.9", Less, "0.10"),
            ("1.0.0.1", Greater, "1.0"),
            ("2.1.2.1", Less, "2.2.0.0"),
            ("1.2.5.0", Less, "2.0"),
            ("4.18.0.0", Less, "4.19.0.0"),
            ("1.99999999999999999999", Greater, "1.9999999999999999999"),
            // GHC: old versions with leading zeros, tags for release candidates.
            ("3.02", Less, "3.03"),
            ("4.08", Equal, "4.8"),
            ("4.08", Less, "4.08.1"),
            ("4.08.2", Less, "5.00"),
            ("6.10.2-rc1", Less, "6.10.2"),
            ("6.10.1", Less, "6.10.2-rc1"),
            ("9.2.1-alpha1", Less, "9.2.1-rc1"),
            ("9.2.1-rc2", Less, "9.2.1-rc10"),
            ("9.4.8", Less, "9.6.1"),
            // Development snapshots are numbered X.Y.0.YYYYMMDD.
            ("9.4.0.20220501", Less, "9.4.1"),
            (" 9.4.8", Equal, "9.4.8"),
            // Not versions: before every version, byte-wise among themselves.
            ("1.x", Less, "0"),
            ("", Less, "0"),
            ("1.0-", Less, "0"),
            ("1..2", Less, "0"),
            ("1.0-rc.1", Less, "0"),
            ("abc", Greater, "abb"),
        ],
    );
    assert!(parse_ok(Scheme::Hackage, "1.2.3.4"));
    assert!(parse_ok(Scheme::Hackage, "0"));
    assert!(parse_ok(Scheme::Hackage, "9.2.1-rc1"));
    assert!(!parse_ok(Scheme::Hackage, "01.2"));
    assert!(!parse_ok(Scheme::Hackage, "1.2."));
    assert!(!parse_ok(Scheme::Hackage, ""));
    assert!(!parse_ok(Scheme::Hackage, " 1.0"));
    assert!(!parse_ok(Scheme::Hackage, "1.0-rc.1"));
    assert!(parse_ok(Scheme::Cran, "1.2-3"));
    assert!(parse_ok(Scheme::Cran, "0.1.26.0"));
    assert!(!parse_ok(Scheme::Cran, "1"));
    assert!(!parse_ok(Scheme::Cran, " 1.0"));
    assert!(!parse_ok(Scheme::Cran, "1.0a"));
    assert!(!parse_ok(Scheme::Cran, "1.0-"));
}

/// CocoaPods' `Pod::Version`. Sources: CocoaPods Core's `spec/version_spec.rb` (basic,
/// metadata, missing-numbers and SemVer pre-release comparisons, CocoaPods/CocoaPods#5718,
/// semver.org §11.4.3) and pod histories on trunk (AFNetworking, Alamofire, Firebase).
#[test]
fn cocoapods() {
    check(
        Scheme::CocoaPods,
        &[
            ("1.0.0", Less, "2.0.0"),
            ("1.0.0", Less, "1.0.1"),
            ("1.0.0", Less, "1.1.0"),
            ("1.1.0", Less, "1.1.1"),
            ("1.9.0", Less, "1.10.0"),
            // Metadata is ignored.
            ("1.0.0+fff", Equal, "1.0.0"),
            ("1.0.0+fff", Equal, "1.0.0+000"),
            ("1.0.0-beta.1+fff", Equal, "1.0.0-beta.1+000"),
            ("1.1.0+fff", Less, "1.1.1+fff"),
            // Missing numbers are zeros; `==` makes these equal (`<=>` only sorts them).
            ("1.9.0-alpha", Less, "1.9-beta"),
            ("2.0.0-beta", Less, "2.0-rc"),
            ("2.0.0.0.0.0.1-beta", Greater, "2.0-rc"),
            ("1", Equal, "1.0"),
            ("1.0", Equal, "1.0.0"),
            ("1.0-alpha", Equal, "1.0.0-alpha"),
            // SemVer pre-releases.
            ("1.0.0-alpha", Less, "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", Less, "1.0.0-alpha.beta"),
            ("1.0.0-alpha.beta", Less, "1.0.0-beta"),
            ("1.0.0-beta", Less, "1.0.0-beta.2"),
            ("1.0.0-beta.2", Less, "1.0.0-beta.11"),
            ("1.0.0-beta.11", Less, "1.0.0-rc.1"),
            ("1.0.0-rc.1", Less, "1.0.0"),
            ("1.0-beta.8", Less, "1.0-beta.8a"),
            ("1.0.0-beta.3rd.1", Less, "1.0.0-beta.ios17.1"),
            ("1.0.0a1", Less, "1.0.0"),
            // Where Pod::Version and Gem::Version part: `-` digits are numbers, zeros in
            // the pre-release part count.
            ("1.0.0-1", Greater, "1.0.0"),
            ("1.0.0-1", Equal, "1.0.0.1"),
            ("1.0.a", Less, "1.0.a.0"),
            ("1.0.0-RC1", Less, "1.0.0-rc1"),
            // AFNetworking, Alamofire, Firebase.
            ("3.2.1", Less, "4.0.0"),
            ("4.0.0", Less, "4.0.1"),
            ("5.0.0-rc.3", Less, "5.0.0"),
            ("5.0.0", Less, "5.10.2"),
            ("10.29.0", Less, "11.0.0"),
            ("999999999999999999999.0", Greater, "99999999999999999999.9"),
            // Rejected strings: by segments, after the valid ones with equal segments.
            ("v1.0", Less, "0.1"),
            ("1", Less, "-1"),
            ("-1", Less, "1.0.1"),
            ("1.0.beta", Less, "1.0 beta"),
            ("1.0 beta", Less, "1.0 beta "),
        ],
    );
    // The same pairs under RubyGems, where the two schemes differ.
    check(
        Scheme::RubyGems,
        &[
            ("1.0.0-1", Less, "1.0.0"),
            ("1.0.a", Equal, "1.0.a.0"),
            ("1.0.0-alpha.beta", Less, "1.0.0-alpha.1"),
        ],
    );
    assert!(parse_ok(Scheme::CocoaPods, "1.0.0-alpha+exp.sha.5114f85"));
    assert!(parse_ok(Scheme::CocoaPods, "1.0.0a1"));
    assert!(parse_ok(Scheme::CocoaPods, " 1.0 "));
    assert!(parse_ok(Scheme::CocoaPods, ""));
    assert!(parse_ok(Scheme::CocoaPods, "1+a1+b"));
    assert!(!parse_ok(Scheme::CocoaPods, "-1"));
    assert!(!parse_ok(Scheme::CocoaPods, "1.0.0+"));
    assert!(!parse_ok(Scheme::CocoaPods, "1..0"));
    assert!(!parse_ok(Scheme::CocoaPods, "v1.0"));
    assert!(!parse_ok(Scheme::CocoaPods, "1+a+b"));
    assert!(!parse_ok(Scheme::CocoaPods, "1.0 beta"));
}

/// Ecosystems mapped onto the SemVer scheme. Sources: actions/checkout's release tags
/// (GitHub Actions versions are tags, mostly with a `v`), Julia's `VersionNumber`
/// documentation and releases, SwiftPM tags (Alamofire), Bitnami's vulndb (Apache httpd).
#[test]
fn semver_ecosystems() {
    for eco in ["GitHub Actions", "Julia", "SwiftURL", "Bitnami"] {
        assert_eq!(Scheme::for_ecosystem(eco), Some(Scheme::Semver), "{eco}");
    }
    check(
        Scheme::Semver,
        &[
            // GitHub Actions: `v` tags, major-only tags.
            ("v3.6.0", Less, "v4.0.0"),
            ("v4.0.0", Less, "v4.1.0"),
            ("v4.1.0", Less, "v4.1.1"),
            ("v4.1.1", Less, "v4.2.2"),
            ("v4.1.0", Equal, "4.1.0"),
            ("v4", Equal, "4.0.0"),
            ("v4", Less, "v4.0.1"),
            // Julia.
            ("1.9.0-rc1", Less, "1.9.0"),
            ("1.9.4", Less, "1.10.0-beta1"),
            ("v1.2.3", Equal, "1.2.3"),
            // Julia orders build metadata (1.0.0 < 1.0.0+1); SemVer, as OSV, does not.
            ("1.0.0+1", Equal, "1.0.0"),
            // SwiftURL, Bitnami.
            ("5.8.0", Less, "5.10.0"),
            ("5.9.1", Greater, "5.9.0"),
            ("2.4.57", Less, "2.4.58"),
        ],
    );
    assert!(parse_ok(Scheme::Semver, "v4.1.0"));
    assert!(!parse_ok(Scheme::Semver, "v4"));
}

#[test]
fn for_ecosystem_new_names() {
    let cases = [
        ("ConanCenter", Some(Scheme::Conan)),
        ("CRAN", Some(Scheme::Cran)),
        ("Bioconductor", Some(Scheme::Cran)),
        ("Hackage", Some(Scheme::Hackage)),
        ("GHC", Some(Scheme::Hackage)),
        ("CocoaPods", Some(Scheme::CocoaPods)),
        ("SwiftURL", Some(Scheme::Semver)),
        ("Bitnami", Some(Scheme::Semver)),
        ("GitHub Actions", Some(Scheme::Semver)),
        ("Julia", Some(Scheme::Semver)),
        ("VSCode", Some(Scheme::Semver)),
        ("Docker Hardened Images", Some(Scheme::Semver)),
        ("Photon OS:5.0", Some(Scheme::Rpm)),
        ("openEuler:24.03-LTS", Some(Scheme::Rpm)),
        ("Mageia:9", Some(Scheme::Rpm)),
        ("openSUSE:Leap 15.5", Some(Scheme::Rpm)),
        ("SUSE:Linux Enterprise Server 15 SP5", Some(Scheme::Rpm)),
        ("Azure Linux:3", Some(Scheme::Rpm)),
        ("Mariner:2.0", Some(Scheme::Rpm)),
        ("MinimOS", Some(Scheme::Apk)),
        ("Alpaquita:stream", Some(Scheme::Apk)),
        ("BellSoft Hardened Containers:23", Some(Scheme::Apk)),
        ("CleanStart", Some(Scheme::Apk)),
        ("opam", Some(Scheme::Dpkg)),
        ("Echo", Some(Scheme::Dpkg)),
        ("Echo:PyPI", Some(Scheme::Pep440)),
        ("Echo:Maven", Some(Scheme::Maven)),
        ("Echo:npm", Some(Scheme::Pub)),
        ("Root:Alpine:3.18", Some(Scheme::Apk)),
        ("Root:Debian:12", Some(Scheme::Dpkg)),
        ("Root:Ubuntu:22.04", Some(Scheme::Dpkg)),
        ("Root:PyPI", Some(Scheme::Pep440)),
        ("Root:npm", None),
        ("Root", None),
        ("TuxCare:Red Hat", Some(Scheme::Rpm)),
        ("TuxCare:Alpine:v3.16", Some(Scheme::Apk)),
        ("TuxCare:npm", Some(Scheme::Semver)),
        ("TuxCare", None),
        ("TuxCare:TuxCare:npm", None),
        ("Android", None),
        ("Linux", None),
        ("OSS-Fuzz", None),
        ("Kubernetes", None),
        ("FreeBSD:ports", None),
    ];
    for (eco, want) in cases {
        assert_eq!(Scheme::for_ecosystem(eco), want, "{eco:?}");
    }
    // Echo's `+echo.N` rebuilds of npm packages are ordered.
    let npm = Scheme::for_ecosystem("Echo:npm").expect("Echo:npm");
    check(
        npm,
        &[
            ("1.2.3", Less, "1.2.3+echo.1"),
            ("1.2.3+echo.1", Less, "1.2.3+echo.2"),
            ("1.2.3+echo.2", Less, "1.2.4"),
        ],
    );
    // Every ecosystem moat lists has a scheme, languages and distros.
    for e in moat_model::Ecosystem::ALL {
        assert!(Scheme::for_ecosystem(e.osv_name()).is_some(), "{e:?}");
    }
    for (id, version) in [
        ("debian", "12"),
        ("ubuntu", "22.04"),
        ("alpine", "3.19.1"),
        ("almalinux", "9.3"),
        ("rocky", "9.3"),
        ("rhel", "9.3"),
        ("opensuse-leap", "15.5"),
        ("sles", "15.5"),
        ("mariner", "2.0"),
        ("azurelinux", "3.0"),
        ("wolfi", "20230201"),
        ("chainguard", "20230214"),
    ] {
        let eco = moat_model::os_ecosystem(id, Some(version)).expect("a distro OSV knows");
        assert!(Scheme::for_ecosystem(&eco).is_some(), "{eco}");
    }
}
