//! RPM versions: `[epoch:]version[-release]`, compared with `rpmvercmp`.
//!
//! * The epoch is the run of digits before a `:` that directly follows it (`1:2.0`);
//!   missing (or empty) is 0, compared numerically. A `:` after anything else is just a
//!   separator (`1.m+e2:1` has no epoch).
//! * The release is the part after the last `-`. A missing release sorts before every
//!   present one, the empty one included (`1 < 1-`, `1 < 1-0`).
//! * `rpmvercmp`: bytes other than ASCII letters, digits, `~` and `^` are separators and
//!   are skipped. `~` sorts before everything, even the end (pre-release: `1.0~rc1 <
//!   1.0`); `^` sorts after the end but before any further segment (post-release:
//!   `1.0 < 1.0^git1 < 1.0.1`). Then the strings are cut into maximal digit or letter
//!   segments: digit segments compare numerically, letter segments byte-wise, and a digit
//!   segment is newer than a letter segment. When one string runs out the longer one is
//!   newer.
//!
//! Fallback: `rpmvercmp` is defined on every byte string; non-ASCII bytes are separators
//! (`1.1.α = 1.1.β`). [`parse_ok`] is the stricter check: no whitespace, a non-empty
//! version, a non-empty release when a `-` is present, and only printable ASCII.

use super::{cmp_digits, cmp_option, split_while};
use std::cmp::Ordering;

struct Evr<'a> {
    epoch: &'a str,
    version: &'a str,
    release: Option<&'a str>,
}

fn split(v: &str) -> Evr<'_> {
    let v = v.trim();
    let (digits, rest) = split_while(v, |c| c.is_ascii_digit());
    let (epoch, rest) = match rest.strip_prefix(':') {
        Some(r) => (digits, r),
        None => ("", v),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((ver, rel)) => (ver, Some(rel)),
        None => (rest, None),
    };
    Evr {
        epoch,
        version,
        release,
    }
}

fn is_sep(c: u8) -> bool {
    !(c.is_ascii_alphanumeric() || c == b'~' || c == b'^')
}

/// `rpmvercmp`.
pub(crate) fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut a, mut b) = (a, b);
    loop {
        a = a.trim_start_matches(|c: char| !c.is_ascii() || is_sep(c as u8));
        b = b.trim_start_matches(|c: char| !c.is_ascii() || is_sep(c as u8));
        let (ca, cb) = (a.bytes().next(), b.bytes().next());
        // `~` sorts before everything, the end included; `^` after the end but before
        // everything else. Two equal marks are skipped together.
        let mark = |c: Option<u8>| match c {
            Some(b'~') => Some(Ordering::Less),
            Some(b'^') => Some(Ordering::Greater),
            _ => None,
        };
        match (mark(ca), mark(cb)) {
            (Some(x), Some(y)) if x == y => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(Ordering::Less), _) => return Ordering::Less,
            (_, Some(Ordering::Less)) => return Ordering::Greater,
            // A `^` against the end is newer, against anything else older.
            (Some(_), _) => {
                return if cb.is_none() {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            (_, Some(_)) => {
                return if ca.is_none() {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            (None, None) => {}
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };
        let numeric = ca.is_ascii_digit();
        let pred = |c: u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (sa, ra) = split_while(a, pred);
        let (sb, rb) = split_while(b, pred);
        if sb.is_empty() {
            // Segments of different types: the numeric one is newer.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let d = if numeric {
            cmp_digits(sa, sb)
        } else {
            sa.cmp(sb)
        };
        if d != Ordering::Equal {
            return d;
        }
        a = ra;
        b = rb;
    }
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}

/// Compares two RPM versions (`[epoch:]version[-release]`).
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, eb) = (split(a), split(b));
    cmp_digits(ea.epoch, eb.epoch)
        .then_with(|| rpmvercmp(ea.version, eb.version))
        .then_with(|| cmp_option(ea.release, eb.release, Ordering::Less, rpmvercmp))
}

/// A conventional RPM EVR: printable ASCII without whitespace, non-empty version, and a
/// non-empty release after a `-`.
pub fn parse_ok(v: &str) -> bool {
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_graphic()) {
        return false;
    }
    let evr = split(v);
    !evr.version.is_empty()
        && evr.version.bytes().any(|c| c.is_ascii_alphanumeric())
        && evr.release.is_none_or(|r| !r.is_empty())
}
/// Splits a source rpm file name (`glibc-2.34-60.el9.src.rpm`) into its name and
/// `version-release` (`glibc`, `2.34-60.el9`); `None` when it is not shaped like one.
pub fn split_source_rpm(s: &str) -> Option<(String, String)> {
    let base = s
        .strip_suffix(".src.rpm")
        .or_else(|| s.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some((name.to_string(), format!("{version}-{release}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("glibc-2.34-60.el9.src.rpm"),
            Some(("glibc".into(), "2.34-60.el9".into()))
        );
        assert_eq!(
            split_source_rpm("python3-pip-21.3.1-1.cm2.nosrc.rpm"),
            Some(("python3-pip".into(), "21.3.1-1.cm2".into()))
        );
        assert_eq!(split_source_rpm("glibc-2.34.src"), None);
        assert_eq!(split_source_rpm("bogus"), None);
    }
}
