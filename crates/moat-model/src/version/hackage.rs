//! Haskell versions (OSV `Hackage` and `GHC`): Cabal's `Version`, which is the branch of
//! `Data.Version`.
//!
//! A version is a non-empty list of non-negative integers separated by `.` (the Package
//! Versioning Policy gives the first two the meaning of the major version, but any length
//! is allowed). Versions compare as integer lists, element by element, and a list that
//! is a prefix of the other is older: `1.8 < 1.8.0 < 1.8.0.1`, `0.11.3.0 < 1.0`.
//!
//! Tags: `Data.Version` writes tags after `-` (`1.2.3-rc1`); Cabal still parses them, with
//! a warning, and drops them, and `Data.Version`'s `Ord` ignores them. GHC's own versions
//! use them for release candidates (`6.10.2-rc1`, `9.2.1-rc1` in OSV's GHC versions), so
//! here a tagged version sorts just before the same version without tags (ignoring them
//! would put a release candidate on the fixed side of a fix in `9.2.1`), and tags compare
//! in natural order (`alpha1 < rc1 < rc2 < rc10`), a shorter tag list first.
//!
//! Leniency: surrounding whitespace, and leading zeros, which GHC's old versions have
//! (`4.08 = 4.8 < 4.08.1 < 5.00`).
//!
//! Fallback: strings that are not versions (`1.x`, `1..2`, `1.0-`) sort before every
//! version and byte-wise among themselves. [`parse_ok`] is Cabal's parser: no leading
//! zeros, tags accepted; its limit of nine digits per component (a bound of `Int`, not a
//! rule of the format) is not applied.

use super::semver::with_fallback;
use super::{all_digits, cmp_lists, cmp_natural, cmp_numeric_lists, cmp_option};
use std::cmp::Ordering;

struct Parsed<'a> {
    branch: Vec<&'a str>,
    tags: Option<Vec<&'a str>>,
}

fn parse(v: &str) -> Option<Parsed<'_>> {
    let s = v.trim();
    let (branch, tags) = s.split_once('-').map_or((s, None), |(b, t)| {
        (b, Some(t.split('-').collect::<Vec<_>>()))
    });
    let branch: Vec<&str> = branch.split('.').collect();
    let tags_ok = tags.as_ref().is_none_or(|t| {
        t.iter()
            .all(|tag| !tag.is_empty() && tag.bytes().all(|c| c.is_ascii_alphanumeric()))
    });
    (branch.iter().all(|p| all_digits(p)) && tags_ok).then_some(Parsed { branch, tags })
}

/// Compares two Hackage (or GHC) versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse, |x, y| {
        cmp_numeric_lists(&x.branch, &y.branch).then_with(|| {
            cmp_option(
                x.tags.as_ref(),
                y.tags.as_ref(),
                Ordering::Greater,
                |p, q| cmp_lists(p, q, |s, t| cmp_natural(s, t)),
            )
        })
    })
}

/// Whether Cabal parses `v` as a version (see the module documentation).
pub fn parse_ok(v: &str) -> bool {
    v.trim() == v
        && parse(v).is_some_and(|p| p.branch.iter().all(|n| n.len() == 1 || !n.starts_with('0')))
}
