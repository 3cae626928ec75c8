//! # Version ordering for every ecosystem moat matches
//!
//! Vulnerability matching is mostly one question: is the installed version inside an
//! affected range? Answering it needs the ordering *of the ecosystem the version comes
//! from*: `1.0~rc1` is older than `1.0` for dpkg but newer for a naive string sort,
//! `1.0.0-SNAPSHOT` is older than `1.0.0` for Maven, `1.0.post1` is newer than `1.0` for
//! PEP 440, `v0.0.0-20191109021931-daa7c04131f5` is a Go pseudo-version, and so on. This
//! module gives one entry point, [`compare`], over a closed set of [`Scheme`]s, and
//! [`Scheme::for_ecosystem`] maps OSV ecosystem names onto them.
//!
//! ## Schemes
//!
//! | scheme | ecosystems | rules (file) |
//! |---|---|---|
//! | [`Scheme::Dpkg`] | Debian, Ubuntu | `[epoch:]upstream[-revision]`, `verrevcmp`: `~` sorts before everything, even the end; letters before other characters; digit runs numerically ([`dpkg`]) |
//! | [`Scheme::Rpm`] | Red Hat, AlmaLinux, Rocky, Mariner, Azure Linux, SUSE, openSUSE | `[epoch:]version[-release]`, `rpmvercmp` with `~` (pre) and `^` (post) ([`rpm`]) |
//! | [`Scheme::Apk`] | Alpine, Wolfi, Chainguard | `number{.number}{letter}{_suffix{number}}{~hash}{-rN}` ([`apk`]) |
//! | [`Scheme::Semver`] | npm, crates.io | SemVer 2.0.0 with npm leniency (`v`, `=`, missing minor/patch) ([`semver`]) |
//! | [`Scheme::Pep440`] | PyPI | PEP 440 with the `packaging` legacy rule as fallback ([`pep440`]) |
//! | [`Scheme::Maven`] | Maven | `ComparableVersion`, made transitive ([`maven`]) |
//! | [`Scheme::RubyGems`] | RubyGems | `Gem::Version` ([`rubygems`]) |
//! | [`Scheme::Go`] | Go | `golang.org/x/mod/semver`, `v` optional ([`go`]) |
//! | [`Scheme::NuGet`] | NuGet | `NuGetVersion`: up to four numbers, case-insensitive pre-release ([`nuget`]) |
//! | [`Scheme::Packagist`] | Packagist | PHP `version_compare` after composer-like canonicalisation ([`packagist`]) |
//! | [`Scheme::Hex`] | Hex | Elixir `Version` (strict SemVer 2.0.0) ([`hex`]) |
//! | [`Scheme::Pub`] | Pub | SemVer with Dart's `pub_semver` rule: build metadata is ordered ([`dart_pub`]) |
//!
//! ## Totality and fallbacks
//!
//! [`compare`] is a *total preorder* for every scheme and every string, valid or not:
//! it is reflexive (`compare(a, a) == Equal`), antisymmetric (`compare(a, b) ==
//! compare(b, a).reverse()`) and transitive. Sorting with it never panics, and a range
//! check never depends on the order of the arguments. `Equal` means "the same version"
//! (`1.0` and `1.0.0` for Maven, `1.0.0+a` and `1.0.0+b` for SemVer), not "the same
//! string". Every scheme documents what it does with strings that are not versions of
//! that scheme; in short:
//!
//! * dpkg and rpm have no invalid strings: their comparison algorithms are defined on
//!   every byte string (a non-numeric epoch is read as part of the version);
//! * apk parses the longest valid prefix and places the unparsed remainder just below the
//!   same version without it;
//! * SemVer, Go, Hex, NuGet and Pub: unparseable strings sort before every valid version
//!   and among themselves byte-wise (this is Go's rule, made total);
//! * PEP 440: the `packaging` legacy rule (`LegacyVersion`), which sorts every
//!   non-PEP 440 string before every PEP 440 version;
//! * RubyGems: unparseable strings are ordered by their lenient segments, then after the
//!   valid versions with the same segments, then byte-wise;
//! * Maven and Packagist: like the reference implementations, every string is a version.
//!
//! Two reference orderings are not transitive, so no total order can follow them
//! everywhere; here they are followed except on the cycles:
//!
//! * Maven's `ComparableVersion` has `1-alpha < 1 < 1.sp < 1-alpha` and
//!   `1.0.RC1 < 1.0 < 1.0-1 < 1.0.RC1` (a number beats a sub-list even when it is a zero
//!   leading to a pre-release). Items are first placed against the release (below,
//!   equal, above) and only items on the same side are compared by type, which keeps
//!   `1.0.RC1 < 1.0 < 1.0-1` (see [`maven`]).
//! * PHP's `version_compare` weighs a `#` part like every number at once; here `#` is
//!   equal to a missing part (see [`packagist`]).
//!
//! The corpus lines these choices contradict are listed, with the cycle each closes, in
//! `tests/data/version-exceptions.txt`.
//!
//! [`parse_ok`] says whether a string is a well-formed version of the scheme (what the
//! package manager itself would accept), independent of the fallback.
//!
//! Numbers are never parsed into fixed-width integers: digit runs are compared as
//! strings (strip leading zeros, then length, then bytes), so
//! `999999999999999999999999999991 < 999999999999999999999999999999` holds and a
//! thousand-digit run cannot overflow or panic.
//!
//! ## Why hand-written
//!
//! moat-model is a dependency of every other crate and stays dependency-light (serde
//! only). The existing crates cover one ecosystem each, with different ideas of what
//! an invalid version is and, for several, orderings that are not total; a matcher that
//! sorts ranges needs one consistent contract for all of them. Each file here is written
//! from the ecosystem's specification (dpkg's `deb-version(7)`, rpm's `rpmvercmp`,
//! apk-tools' version format, SemVer 2.0.0, PEP 440, Maven's `ComparableVersion`
//! documentation, `Gem::Version`, `golang.org/x/mod/semver`, NuGet's versioning
//! documentation, PHP's `version_compare`, Elixir's `Version`, Dart's `pub_semver`) and
//! checked against the osv-scalibr ordering corpora in `tests/version_corpus.rs`.

use std::cmp::Ordering;

pub mod apk;
pub mod dart_pub;
pub mod dpkg;
pub mod go;
pub mod hex;
pub mod maven;
pub mod nuget;
pub mod packagist;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

/// A version ordering scheme. Several OSV ecosystems share one (npm and crates.io are
/// both [`Scheme::Semver`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Dpkg,
    Rpm,
    Apk,
    /// npm and crates.io.
    Semver,
    Pep440,
    Maven,
    RubyGems,
    Go,
    NuGet,
    Packagist,
    Hex,
    Pub,
}

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: [Scheme; 12] = [
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Semver,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::Go,
        Scheme::NuGet,
        Scheme::Packagist,
        Scheme::Hex,
        Scheme::Pub,
    ];

    /// The scheme of an OSV ecosystem name (`Debian:12`, `Alpine:v3.19`, `PyPI`,
    /// `SUSE:Linux Enterprise Server 15 SP5`, ...). The part after the first `:` (the
    /// release) does not matter. `None` for ecosystems moat does not match.
    pub fn for_ecosystem(osv_ecosystem: &str) -> Option<Scheme> {
        let name = osv_ecosystem.trim();
        let base = name.split(':').next().unwrap_or(name).trim();
        let scheme = match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "Red Hat" | "AlmaLinux" | "Rocky Linux" | "Mariner" | "Azure Linux" => Scheme::Rpm,
            "npm" | "crates.io" => Scheme::Semver,
            "PyPI" => Scheme::Pep440,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::RubyGems,
            "Go" => Scheme::Go,
            "NuGet" => Scheme::NuGet,
            "Packagist" => Scheme::Packagist,
            "Hex" => Scheme::Hex,
            "Pub" => Scheme::Pub,
            b if b.starts_with("openSUSE") || b.starts_with("SUSE") => Scheme::Rpm,
            b if b.starts_with("Ubuntu") => Scheme::Dpkg,
            _ => return None,
        };
        Some(scheme)
    }

    /// A short lower-case name (`dpkg`, `pep440`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Semver => "semver",
            Scheme::Pep440 => "pep440",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
            Scheme::Go => "go",
            Scheme::NuGet => "nuget",
            Scheme::Packagist => "packagist",
            Scheme::Hex => "hex",
            Scheme::Pub => "pub",
        }
    }
}

/// Compares two versions of one scheme. Total for every pair of strings; see the module
/// documentation for each scheme's rule for strings that are not valid versions.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match scheme {
        Scheme::Dpkg => dpkg::compare(a, b),
        Scheme::Rpm => rpm::compare(a, b),
        Scheme::Apk => apk::compare(a, b),
        Scheme::Semver => semver::compare(a, b),
        Scheme::Pep440 => pep440::compare(a, b),
        Scheme::Maven => maven::compare(a, b),
        Scheme::RubyGems => rubygems::compare(a, b),
        Scheme::Go => go::compare(a, b),
        Scheme::NuGet => nuget::compare(a, b),
        Scheme::Packagist => packagist::compare(a, b),
        Scheme::Hex => hex::compare(a, b),
        Scheme::Pub => dart_pub::compare(a, b),
    }
}

/// Whether `v` is a well-formed version of the scheme.
pub fn parse_ok(scheme: Scheme, v: &str) -> bool {
    match scheme {
        Scheme::Dpkg => dpkg::parse_ok(v),
        Scheme::Rpm => rpm::parse_ok(v),
        Scheme::Apk => apk::parse_ok(v),
        Scheme::Semver => semver::parse_ok(v),
        Scheme::Pep440 => pep440::parse_ok(v),
        Scheme::Maven => maven::parse_ok(v),
        Scheme::RubyGems => rubygems::parse_ok(v),
        Scheme::Go => go::parse_ok(v),
        Scheme::NuGet => nuget::parse_ok(v),
        Scheme::Packagist => packagist::parse_ok(v),
        Scheme::Hex => hex::parse_ok(v),
        Scheme::Pub => dart_pub::parse_ok(v),
    }
}

/// Compares two runs of ASCII digits by numeric value without parsing them: leading
/// zeros are ignored, a longer run is larger, equal lengths compare byte-wise. The empty
/// run is zero.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// True for a non-empty run of ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// Splits `s` at the first byte for which `pred` is false: (matching prefix, rest).
pub(crate) fn split_while(s: &str, pred: impl Fn(u8) -> bool) -> (&str, &str) {
    let n = s.bytes().take_while(|&c| pred(c)).count();
    s.split_at(n)
}

/// A digit run that is zero (empty or only zeros).
pub(crate) fn is_zero(s: &str) -> bool {
    s.bytes().all(|c| c == b'0')
}
