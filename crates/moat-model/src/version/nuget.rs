//! NuGet versions (`NuGetVersion`): `MAJOR[.MINOR[.PATCH[.REVISION]]][-PRERELEASE][+METADATA]`.
//!
//! * One to four numeric components, leading zeros allowed, missing ones are 0
//!   (`1.0 = 1.0.0.0`, `1.0.01 = 1.0.1.0`).
//! * Pre-release labels follow SemVer 2.0.0 (numeric labels numerically and before
//!   alphanumeric ones, fewer labels older) except that alphanumeric labels compare
//!   case-insensitively (`1.0.0-BETA = 1.0.0-beta`), ordinal after upper-casing.
//! * Build metadata is ignored.
//!
//! Fallback: strings that do not parse sort before every valid version and byte-wise
//! among themselves.

use super::semver::{
    Parsed, cmp_core, cmp_pre, identifiers_ok, split_core, split_pre_build, with_fallback,
};
use std::cmp::Ordering;

fn parse(v: &str) -> Option<Parsed<'_>> {
    let s = v.trim();
    let (core, pre, build) = split_pre_build(s);
    let core = split_core(core, 4)?;
    if !pre.is_none_or(|p| identifiers_ok(p, false))
        || !build.is_none_or(|b| identifiers_ok(b, false))
    {
        return None;
    }
    Some(Parsed { core, pre, build })
}

fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_uppercase())
        .cmp(b.bytes().map(|c| c.to_ascii_uppercase()))
}

/// Compares two NuGet versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse, |x, y| {
        cmp_core(&x.core, &y.core).then_with(|| cmp_pre(x.pre, y.pre, cmp_ignore_case))
    })
}

/// Whether `v` is a valid NuGet version.
pub fn parse_ok(v: &str) -> bool {
    v.trim() == v && parse(v).is_some()
}
