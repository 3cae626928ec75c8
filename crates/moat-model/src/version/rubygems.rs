//! RubyGems versions (`Gem::Version`).
//!
//! A valid version matches `\s*[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\s*`
//! (the empty string is `0`). A `-` means `.pre.`. The version is cut into segments,
//! maximal runs of digits (numbers) or of letters (strings); `1.0.a10` is `[1, 0, "a", 10]`.
//! The canonical segments drop the trailing zeros of the leading numeric part and of the
//! rest (`1.0.a.0` is `[1, "a"]`). Comparison walks the canonical segments, a missing
//! segment being `0`: numbers numerically, strings byte-wise, and a string (a pre-release
//! marker) is older than a number, so `1.0.a < 1.0 < 1.0.1` and `1 > 1beta`.
//!
//! Fallback: an invalid string is cut into segments the same lenient way (every maximal
//! digit or letter run, everything else a separator). It sorts by those segments, after
//! the valid versions with equal segments, and invalid strings with equal segments
//! compare byte-wise.

use super::{cmp_digits, is_zero, with_lenient_fallback};
use std::cmp::Ordering;

/// A segment: a maximal run of ASCII digits (a number, leading zeros dropped) or of
/// ASCII letters (a string). CocoaPods' `Pod::Version` cuts versions the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Num(String),
    Str(String),
}

impl Seg {
    /// Numbers numerically, strings byte-wise; a string against a number is
    /// `str_vs_num` (RubyGems: a string is older; CocoaPods' pre-release part: newer).
    pub(crate) fn cmp(&self, other: &Seg, str_vs_num: Ordering) -> Ordering {
        match (self, other) {
            (Seg::Num(p), Seg::Num(q)) => cmp_digits(p, q),
            (Seg::Str(p), Seg::Str(q)) => p.as_str().cmp(q.as_str()),
            (Seg::Str(_), Seg::Num(_)) => str_vs_num,
            (Seg::Num(_), Seg::Str(_)) => str_vs_num.reverse(),
        }
    }
}

/// Cuts `s` into its digit and letter runs; every other byte separates.
pub(crate) fn runs(s: &str) -> Vec<Seg> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || c.is_ascii_alphabetic() {
            let digit = c.is_ascii_digit();
            let j = i + b[i..]
                .iter()
                .take_while(|x| {
                    if digit {
                        x.is_ascii_digit()
                    } else {
                        x.is_ascii_alphabetic()
                    }
                })
                .count();
            let run = &s[i..j];
            out.push(if digit {
                Seg::Num(run.trim_start_matches('0').to_string())
            } else {
                Seg::Str(run.to_string())
            });
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn valid(s: &str) -> bool {
    let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
    if s.is_empty() {
        return true;
    }
    let (release, pre) = match s.split_once('-') {
        Some((r, p)) => (r, Some(p)),
        None => (s, None),
    };
    let mut parts = release.split('.');
    let first = parts.next().unwrap_or("");
    if first.is_empty() || !first.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    if !parts.all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric())) {
        return false;
    }
    pre.is_none_or(|p| {
        p.split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
    })
}

fn segments(s: &str) -> Vec<Seg> {
    canonical(runs(&s.trim().replace('-', ".pre.")))
}

fn canonical(segs: Vec<Seg>) -> Vec<Seg> {
    let split = segs
        .iter()
        .position(|s| matches!(s, Seg::Str(_)))
        .unwrap_or(segs.len());
    let mut numeric = segs[..split].to_vec();
    let mut rest = segs[split..].to_vec();
    let zero = |s: &Seg| matches!(s, Seg::Num(n) if is_zero(n));
    while numeric.last().is_some_and(zero) {
        numeric.pop();
    }
    while rest.last().is_some_and(zero) {
        rest.pop();
    }
    numeric.extend(rest);
    numeric
}

fn cmp_segments(a: &[Seg], b: &[Seg]) -> Ordering {
    let zero = Seg::Num(String::new());
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).unwrap_or(&zero);
        let y = b.get(i).unwrap_or(&zero);
        let d = x.cmp(y, Ordering::Less);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

/// Compares two RubyGems versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_lenient_fallback(a, b, valid, |x, y| cmp_segments(&segments(x), &segments(y)))
}

/// Whether `Gem::Version.correct?` would accept `v`.
pub fn parse_ok(v: &str) -> bool {
    valid(v)
}
