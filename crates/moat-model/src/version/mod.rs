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
//! | [`Scheme::Dpkg`] | Debian, Ubuntu, Echo, opam | `[epoch:]upstream[-revision]`, `verrevcmp`: `~` sorts before everything, even the end; letters before other characters; digit runs numerically ([`dpkg`]) |
//! | [`Scheme::Rpm`] | Red Hat, AlmaLinux, Rocky, Mariner, Azure Linux, SUSE, openSUSE, Photon OS, openEuler, Mageia | `[epoch:]version[-release]`, `rpmvercmp` with `~` (pre) and `^` (post) ([`rpm`]) |
//! | [`Scheme::Apk`] | Alpine, Wolfi, Chainguard, MinimOS, Alpaquita, BellSoft Hardened Containers, CleanStart | `number{.number}{letter}{_suffix{number}}{~hash}{-rN}` ([`apk`]) |
//! | [`Scheme::Semver`] | npm, crates.io, SwiftURL, Bitnami, GitHub Actions, Julia, VSCode, Docker Hardened Images | SemVer 2.0.0 with npm leniency (`v`, `=`, missing minor/patch) ([`semver`]) |
//! | [`Scheme::Pep440`] | PyPI | PEP 440 with the `packaging` legacy rule as fallback ([`pep440`]) |
//! | [`Scheme::Maven`] | Maven | `ComparableVersion`, made transitive ([`maven`]) |
//! | [`Scheme::RubyGems`] | RubyGems | `Gem::Version` ([`rubygems`]) |
//! | [`Scheme::Go`] | Go | `golang.org/x/mod/semver`, `v` optional ([`go`]) |
//! | [`Scheme::NuGet`] | NuGet | `NuGetVersion`: up to four numbers, case-insensitive pre-release ([`nuget`]) |
//! | [`Scheme::Packagist`] | Packagist | PHP `version_compare` after composer-like canonicalisation ([`packagist`]) |
//! | [`Scheme::Hex`] | Hex | Elixir `Version` (strict SemVer 2.0.0) ([`hex`]) |
//! | [`Scheme::Pub`] | Pub, Echo:npm | SemVer with Dart's `pub_semver` rule: build metadata is ordered ([`dart_pub`]) |
//! | [`Scheme::Conan`] | ConanCenter | Conan 2's `Version`: any number of `.` items, numbers numerically and other items as text, ordered `-pre` and `+build` ([`conan`]) |
//! | [`Scheme::Cran`] | CRAN, Bioconductor | R's `package_version`: integers separated by `.` or `-`, a prefix is older ([`cran`]) |
//! | [`Scheme::Hackage`] | Hackage, GHC | Cabal's `Version` (`Data.Version` branches): integer lists, a prefix is older; `-tags` before the untagged version ([`hackage`]) |
//! | [`Scheme::CocoaPods`] | CocoaPods | `Pod::Version`: `Gem::Version` segments with SemVer pre-releases, metadata ignored ([`cocoapods`]) |
//! | [`Scheme::Conda`] | Conda (moat's name; OSV has no Conda ecosystem) | conda's `VersionOrder`: epoch, `.`/`_` components of number and string runs, `dev` first and `post` last ([`conda`]) |
//!
//! A few OSV ecosystems carry a sub-ecosystem after the `:` and are ordered by it:
//! `Echo` is Debian-based (dpkg) but `Echo:PyPI`, `Echo:Maven` and `Echo:npm` are PEP 440,
//! Maven and Pub (SemVer with ordered build metadata, which orders Echo's `+echo.N`
//! rebuilds); `Root:Alpine:…`, `Root:Debian:…`, `Root:Ubuntu:…`, `Root:PyPI` and
//! `Root:Maven` follow their base (Root's `-rN`, `.root.io.N` and `+root.io.N` patch
//! suffixes already sort after the upstream version in those schemes), other Root
//! sub-ecosystems have no scheme; `TuxCare:<ecosystem>` is `<ecosystem>`.
//!
//! Julia's `VersionNumber` is SemVer-like but orders build metadata (`1.0.0 <
//! 1.0.0+1`, like [`Scheme::Pub`]); it is mapped to [`Scheme::Semver`], which ignores
//! build metadata, as OSV orders Julia advisories, and registered Julia versions carry
//! none. OSV's ecosystems without a version order (Android, GIT, Linux, OSS-Fuzz,
//! Kubernetes, FreeBSD) have no scheme.
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
//! * SemVer, Go, Hex, NuGet, Pub, CRAN, Hackage and Conda: unparseable strings sort before every
//!   valid version and among themselves byte-wise (this is Go's rule, made total);
//! * PEP 440: the `packaging` legacy rule (`LegacyVersion`), which sorts every
//!   non-PEP 440 string before every PEP 440 version;
//! * RubyGems and CocoaPods: unparseable strings are ordered by their lenient segments,
//!   then after the valid versions with the same segments, then byte-wise;
//! * Maven, Packagist and Conan: like the reference implementations, every string is a
//!   version.
//!
//! Three reference orderings are not transitive, so no total order can follow them
//! everywhere; here they are followed except on the cycles:
//!
//! * Maven's `ComparableVersion` has `1-alpha < 1 < 1.sp < 1-alpha` and
//!   `1.0.RC1 < 1.0 < 1.0-1 < 1.0.RC1` (a number beats a sub-list even when it is a zero
//!   leading to a pre-release). Items are first placed against the release (below,
//!   equal, above) and only items on the same side are compared by type, which keeps
//!   `1.0.RC1 < 1.0 < 1.0-1` (see [`maven`]).
//! * PHP's `version_compare` weighs a `#` part like every number at once; here `#` is
//!   equal to a missing part (see [`packagist`]).
//! * Conan compares a number item with a non-number item as text, so `2 < 10 < 1a < 2`;
//!   here items that start with digits are ordered by that number first (see [`conan`]).
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
//! documentation, PHP's `version_compare`, Elixir's `Version`, Dart's `pub_semver`,
//! Conan's version model documentation, R's `package_version`, Cabal's `Version` and the
//! PVP, CocoaPods' `Pod::Version`, conda's `VersionOrder`) and checked against the osv-scalibr ordering corpora
//! in `tests/version_corpus.rs`.

use std::cmp::Ordering;

pub mod apk;
pub mod cocoapods;
pub mod conan;
pub mod conda;
pub mod cran;
pub mod dart_pub;
pub mod dpkg;
pub mod go;
pub mod hackage;
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
    /// npm, crates.io and the other SemVer ecosystems.
    Semver,
    Pep440,
    Maven,
    RubyGems,
    Go,
    NuGet,
    Packagist,
    Hex,
    Pub,
    /// ConanCenter.
    Conan,
    /// CRAN and Bioconductor.
    Cran,
    /// Hackage and GHC.
    Hackage,
    CocoaPods,
    /// Conda packages (not an OSV ecosystem: the name moat gives them, `Conda`).
    Conda,
}

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: [Scheme; 17] = [
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
        Scheme::Conan,
        Scheme::Cran,
        Scheme::Hackage,
        Scheme::CocoaPods,
        Scheme::Conda,
    ];

    /// The scheme of an OSV ecosystem name (`Debian:12`, `Alpine:v3.19`, `PyPI`,
    /// `SUSE:Linux Enterprise Server 15 SP5`, ...). The part after the first `:` (the
    /// release) does not matter, except for the ecosystems that name a sub-ecosystem there
    /// (`Echo:PyPI`, `Root:Alpine:3.18`, `TuxCare:npm`; see the module documentation).
    /// `None` for ecosystems without a version order.
    pub fn for_ecosystem(osv_ecosystem: &str) -> Option<Scheme> {
        let name = osv_ecosystem.trim();
        let (base, sub) = match name.split_once(':') {
            Some((base, sub)) => (base.trim(), sub.trim()),
            None => (name, ""),
        };
        let scheme = match base {
            "Debian" | "Ubuntu" | "opam" => Scheme::Dpkg,
            "Alpine"
            | "Wolfi"
            | "Chainguard"
            | "MinimOS"
            | "Alpaquita"
            | "BellSoft Hardened Containers"
            | "CleanStart" => Scheme::Apk,
            "Red Hat" | "AlmaLinux" | "Rocky Linux" | "Mariner" | "Azure Linux" | "Photon OS"
            | "openEuler" | "Mageia" | "Amazon Linux" | "Oracle Linux" => Scheme::Rpm,
            "npm"
            | "crates.io"
            | "SwiftURL"
            | "Bitnami"
            | "GitHub Actions"
            | "Julia"
            | "VSCode"
            | "Docker Hardened Images" => Scheme::Semver,
            "PyPI" => Scheme::Pep440,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::RubyGems,
            "Go" => Scheme::Go,
            "NuGet" => Scheme::NuGet,
            "Packagist" => Scheme::Packagist,
            "Hex" => Scheme::Hex,
            "Pub" => Scheme::Pub,
            "ConanCenter" => Scheme::Conan,
            "CRAN" | "Bioconductor" => Scheme::Cran,
            "Hackage" | "GHC" => Scheme::Hackage,
            "CocoaPods" => Scheme::CocoaPods,
            "Conda" => Scheme::Conda,
            "Echo" => match sub.to_ascii_lowercase().as_str() {
                "pypi" => Scheme::Pep440,
                "maven" => Scheme::Maven,
                "npm" => Scheme::Pub,
                _ => Scheme::Dpkg,
            },
            "Root" => {
                let family = sub.split(':').next().unwrap_or(sub).trim();
                match family.to_ascii_lowercase().as_str() {
                    "alpine" => Scheme::Apk,
                    "debian" | "ubuntu" => Scheme::Dpkg,
                    "pypi" | "python" => Scheme::Pep440,
                    "maven" => Scheme::Maven,
                    _ => return None,
                }
            }
            "TuxCare"
                if !sub.is_empty() && sub.split(':').next().map(str::trim) != Some("TuxCare") =>
            {
                return Scheme::for_ecosystem(sub);
            }
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
            Scheme::Conan => "conan",
            Scheme::Cran => "cran",
            Scheme::Hackage => "hackage",
            Scheme::CocoaPods => "cocoapods",
            Scheme::Conda => "conda",
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
        Scheme::Conan => conan::compare(a, b),
        Scheme::Cran => cran::compare(a, b),
        Scheme::Hackage => hackage::compare(a, b),
        Scheme::CocoaPods => cocoapods::compare(a, b),
        Scheme::Conda => conda::compare(a, b),
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
        Scheme::Conan => conan::parse_ok(v),
        Scheme::Cran => cran::parse_ok(v),
        Scheme::Hackage => hackage::parse_ok(v),
        Scheme::CocoaPods => cocoapods::parse_ok(v),
        Scheme::Conda => conda::parse_ok(v),
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

/// The fallback of the schemes that read every string leniently (RubyGems, CocoaPods):
/// `lenient` orders all strings; among strings it finds equal, the valid ones (per
/// `valid`) come first and are equal to each other, the invalid ones follow, byte-wise.
pub(crate) fn with_lenient_fallback(
    a: &str,
    b: &str,
    valid: fn(&str) -> bool,
    lenient: impl FnOnce(&str, &str) -> Ordering,
) -> Ordering {
    let (va, vb) = (valid(a), valid(b));
    lenient(a, b)
        .then_with(|| va.cmp(&vb).reverse())
        .then_with(|| if va { Ordering::Equal } else { a.cmp(b) })
}

/// Compares two optional parts of a version (a pre-release, a build, a release):
/// `none` is how a missing part compares against a present one (`Ordering::Greater`
/// when a missing pre-release means "the release", `Ordering::Less` when a missing build
/// is older), two present parts compare with `cmp`.
pub(crate) fn cmp_option<T>(
    a: Option<T>,
    b: Option<T>,
    none: Ordering,
    cmp: impl FnOnce(T, T) -> Ordering,
) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => none,
        (Some(_), None) => none.reverse(),
        (Some(x), Some(y)) => cmp(x, y),
    }
}

/// Compares two lists lexicographically with `cmp`: element by element, and a list that
/// is a prefix of the other is smaller.
pub(crate) fn cmp_lists<T>(a: &[T], b: &[T], cmp: impl Fn(&T, &T) -> Ordering) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| cmp(x, y))
        .find(|d| d.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// Compares two lists of digit runs as integer lists (`1.8 < 1.8.0`): the order of R's
/// `numeric_version` and of Haskell's `Data.Version` branches.
pub(crate) fn cmp_numeric_lists(a: &[&str], b: &[&str]) -> Ordering {
    cmp_lists(a, b, |x, y| cmp_digits(x, y))
}

/// Compares two strings run by run ("natural" order): the maximal runs of ASCII digits
/// compare numerically, other runs byte-wise, a digit run sorts before another run, and
/// a string whose runs are a prefix of the other's is smaller (`rc9 < rc10`).
pub(crate) fn cmp_natural(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.bytes().next(), b.bytes().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let (dx, dy) = (x.is_ascii_digit(), y.is_ascii_digit());
                if dx != dy {
                    return if dx {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    };
                }
                let (ra, rest_a) = split_while(a, |c| c.is_ascii_digit() == dx);
                let (rb, rest_b) = split_while(b, |c| c.is_ascii_digit() == dx);
                let d = if dx { cmp_digits(ra, rb) } else { ra.cmp(rb) };
                if d != Ordering::Equal {
                    return d;
                }
                (a, b) = (rest_a, rest_b);
            }
        }
    }
}
