//! SemVer 2.0.0 as npm and crates.io use it: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`.
//!
//! Ordering (SemVer §11): major, minor, patch numerically; a version without pre-release
//! is newer than one with; pre-release identifiers (dot-separated) compare one by one,
//! numeric identifiers numerically and before alphanumeric ones, alphanumeric ones
//! byte-wise (case-sensitive), and a shorter list of equal identifiers is older. Build
//! metadata is ignored (`1.0.0+a = 1.0.0+b`).
//!
//! Leniency (npm's loose parsing): surrounding whitespace, any leading `=`/`v`/`V`, a
//! missing minor or patch (`1` is `1.0.0`), and leading zeros are accepted. Numeric
//! components past the third are treated as build metadata (`1.1.3.4.5` is `1.1.3`).
//!
//! Fallback: a string that does not parse even leniently (`1.x`, `abc`, `1..2`) sorts
//! before every version, and such strings compare byte-wise among themselves.
//! [`parse_ok`] is strict SemVer 2.0.0, allowing only a single leading `v` or `=`.

use super::{all_digits, cmp_digits, cmp_option};
use std::cmp::Ordering;

/// A parsed SemVer-like version, borrowing from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed<'a> {
    /// One to four numeric components, as written (digits only).
    pub core: Vec<&'a str>,
    pub pre: Option<&'a str>,
    pub build: Option<&'a str>,
}

/// Splits `core[-pre][+build]`: the build starts at the first `+`, the pre-release at
/// the first `-` before it.
pub(crate) fn split_pre_build(s: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, build) = s.split_once('+').map_or((s, None), |(r, b)| (r, Some(b)));
    let (core, pre) = rest
        .split_once('-')
        .map_or((rest, None), |(c, p)| (c, Some(p)));
    (core, pre, build)
}

/// Splits a numeric core into its components; `None` unless every component is a
/// non-empty digit run and there are between 1 and `max` of them.
pub(crate) fn split_core(core: &str, max: usize) -> Option<Vec<&str>> {
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > max || !parts.iter().all(|p| all_digits(p)) {
        return None;
    }
    Some(parts)
}

/// npm-style loose parse.
fn parse_loose(v: &str) -> Option<Parsed<'_>> {
    let s = v.trim().trim_start_matches(['=', 'v', 'V', ' ', '\t']);
    let (core, pre, build) = split_pre_build(s);
    let parts: Vec<&str> = core.split('.').collect();
    if !parts.iter().all(|p| all_digits(p)) {
        return None;
    }
    let (core, _extra) = parts.split_at(parts.len().min(3));
    Some(Parsed {
        core: core.to_vec(),
        pre,
        build,
    })
}

/// Compares numeric cores component-wise, a missing component being 0.
pub(crate) fn cmp_core(a: &[&str], b: &[&str]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let d = cmp_digits(
            a.get(i).copied().unwrap_or("0"),
            b.get(i).copied().unwrap_or("0"),
        );
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

/// SemVer §11 identifier comparison with a configurable comparison of alphanumeric
/// identifiers.
pub(crate) fn cmp_identifiers(a: &str, b: &str, alnum: fn(&str, &str) -> Ordering) -> Ordering {
    let mut ia = a.split('.');
    let mut ib = b.split('.');
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let d = match (all_digits(x), all_digits(y)) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => alnum(x, y),
                };
                if d != Ordering::Equal {
                    return d;
                }
            }
        }
    }
}

/// Pre-release comparison: none is newer than any.
pub(crate) fn cmp_pre(
    a: Option<&str>,
    b: Option<&str>,
    alnum: fn(&str, &str) -> Ordering,
) -> Ordering {
    cmp_option(a, b, Ordering::Greater, |x, y| cmp_identifiers(x, y, alnum))
}

/// SemVer §11 precedence of two parsed versions: the numeric core, then the
/// pre-release (identifiers compared case-sensitively); build metadata is ignored.
pub(crate) fn cmp_precedence(x: &Parsed<'_>, y: &Parsed<'_>) -> Ordering {
    cmp_core(&x.core, &y.core).then_with(|| cmp_pre(x.pre, y.pre, str::cmp))
}

/// Combines the "valid versions after invalid ones, invalid ones byte-wise" fallback.
pub(crate) fn with_fallback<'a, T>(
    a: &'a str,
    b: &'a str,
    parse: impl Fn(&'a str) -> Option<T>,
    cmp: impl Fn(&T, &T) -> Ordering,
) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => cmp(&x, &y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Compares two npm / crates.io versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse_loose, cmp_precedence)
}

/// A dot-separated list of non-empty `[0-9A-Za-z-]` identifiers; with `numeric_strict`,
/// numeric identifiers may not have leading zeros.
pub(crate) fn identifiers_ok(s: &str, numeric_strict: bool) -> bool {
    s.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            && !(numeric_strict && all_digits(id) && id.len() > 1 && id.starts_with('0'))
    })
}

/// Strict SemVer 2.0.0 (`MAJOR.MINOR.PATCH`, no leading zeros, well-formed identifiers).
pub(crate) fn strict_ok(s: &str) -> bool {
    let (core, pre, build) = split_pre_build(s);
    let Some(parts) = split_core(core, 3) else {
        return false;
    };
    parts.len() == 3
        && parts.iter().all(|p| p.len() == 1 || !p.starts_with('0'))
        && pre.is_none_or(|p| identifiers_ok(p, true))
        && build.is_none_or(|b| identifiers_ok(b, false))
}

/// Strict SemVer 2.0.0, optionally after one leading `v` or `=`.
pub fn parse_ok(v: &str) -> bool {
    let s = v
        .strip_prefix('v')
        .or_else(|| v.strip_prefix('='))
        .unwrap_or(v);
    strict_ok(s)
}
