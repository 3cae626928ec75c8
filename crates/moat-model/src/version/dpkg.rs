//! Debian (dpkg) versions: `[epoch:]upstream_version[-debian_revision]` (`deb-version(7)`).
//!
//! * The epoch is the part before the first `:` and compares numerically; missing is 0.
//! * The revision is the part after the last `-`; missing is the empty revision, which
//!   compares equal to `0` (`1.0 = 1.0-0`).
//! * Upstream and revision compare with dpkg's `verrevcmp`: alternately a non-digit run
//!   compared character by character and a digit run compared numerically. In a
//!   non-digit run `~` sorts before everything, even the end of the run, then the end,
//!   then letters (ASCII order), then every other byte (in byte order).
//!
//! Fallback: dpkg's comparison is defined on every byte string. A string whose epoch is
//! not a (possibly empty) run of digits is read as having no epoch, its `:` becoming part
//! of the upstream version. [`parse_ok`] is the stricter `dpkg` syntax check.

use super::{cmp_digits, split_while};
use std::cmp::Ordering;

struct Parts<'a> {
    epoch: &'a str,
    upstream: &'a str,
    revision: &'a str,
}

fn split(v: &str) -> Parts<'_> {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if e.bytes().all(|c| c.is_ascii_digit()) => (e, rest),
        _ => ("", v),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, r),
        None => (rest, ""),
    };
    Parts {
        epoch,
        upstream,
        revision,
    }
}

/// The weight of one byte of a non-digit run; `None` is the end of the run.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
pub(crate) fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() || !b.is_empty() {
        // Non-digit runs.
        let (mut i, mut j) = (0, 0);
        loop {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            if ca.is_none() && cb.is_none() {
                break;
            }
            let d = order(ca).cmp(&order(cb));
            if d != Ordering::Equal {
                return d;
            }
            if ca.is_some() {
                i += 1;
            }
            if cb.is_some() {
                j += 1;
            }
        }
        a = &a[i..];
        b = &b[j..];
        // Digit runs.
        let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
        let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
        // Digit runs are ASCII, hence valid UTF-8.
        let da = std::str::from_utf8(&a[..na]).unwrap_or("");
        let db = std::str::from_utf8(&b[..nb]).unwrap_or("");
        let d = cmp_digits(da, db);
        if d != Ordering::Equal {
            return d;
        }
        a = &a[na..];
        b = &b[nb..];
    }
    Ordering::Equal
}

/// Compares two dpkg versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (split(a), split(b));
    cmp_digits(pa.epoch, pb.epoch)
        .then_with(|| verrevcmp(pa.upstream, pb.upstream))
        .then_with(|| verrevcmp(pa.revision, pb.revision))
}

/// dpkg's syntax: numeric epoch, upstream starting with a digit and made of
/// `[A-Za-z0-9.+~-]` (`-` only with a revision, `:` not allowed here), revision of
/// `[A-Za-z0-9.+~]`.
pub fn parse_ok(v: &str) -> bool {
    let v = v.trim();
    if v.is_empty() || v.bytes().any(|c| c.is_ascii_whitespace()) {
        return false;
    }
    let rest = match v.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit()) {
                return false;
            }
            rest
        }
        None => v,
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, Some(r)),
        None => (rest, None),
    };
    let (lead, _) = split_while(upstream, |c| c.is_ascii_digit());
    if lead.is_empty() {
        return false;
    }
    let up_ok = upstream.bytes().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, b'.' | b'+' | b'~')
            || (c == b'-' && revision.is_some())
    });
    let rev_ok = revision.is_none_or(|r| {
        !r.is_empty()
            && r.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'~'))
    });
    up_ok && rev_ok
}
