//! Hand-written cases from the specifications, for the schemes without a corpus (Go,
//! Hex) and for the API around `compare` (`Scheme::for_ecosystem`, `parse_ok`).

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
        ("CRAN", None),
        ("Hackage", None),
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
