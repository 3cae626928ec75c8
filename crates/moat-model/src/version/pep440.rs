//! Python package versions (PEP 440, as `packaging.version` implements it).
//!
//! `[v][N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, case-insensitive, with the PEP's
//! normalisations: `alpha`/`beta`/`c`/`pre`/`preview` mean `a`/`b`/`rc`, `rev`/`r` mean
//! `post`, `1.0-1` is `1.0.post1`, the separators `.`, `-`, `_` around the pre, post and
//! dev parts are optional, and a missing number is 0 (`1.0a` is `1.0a0`).
//!
//! Ordering: epoch; release with trailing zeros ignored (`1.0 = 1.0.0`); then
//! `.devN` of a plain release < pre-releases (`a < b < rc`, then their number, then their
//! own `.dev` before them) < the release < post-releases; local versions sort after the
//! public version they label (`1.0 < 1.0+local`), their segments compared numerically
//! when both numeric, numbers after strings, a shorter list older.
//!
//! Fallback: a string that is not PEP 440 is ordered by the legacy rule of `packaging`
//! before version 22 (`LegacyVersion`): it sorts before every PEP 440 version, and legacy
//! strings compare by their parts: digit runs padded to eight digits, words prefixed with
//! `*` (with `pre`/`preview`/`rc` read as `c`, `dev` as `@`, `-` as `final-`), a final
//! `*final`, trailing zero runs and a `-` before a pre-release tag dropped.

use super::{cmp_digits, cmp_lists, cmp_option, is_zero, split_while};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pep440 {
    epoch: String,
    release: Vec<String>,
    /// (0 = a, 1 = b, 2 = rc, number)
    pre: Option<(u8, String)>,
    post: Option<String>,
    dev: Option<String>,
    local: Option<Vec<String>>,
}

fn is_sep(c: u8) -> bool {
    matches!(c, b'-' | b'_' | b'.')
}

fn opt_sep(s: &str) -> &str {
    match s.as_bytes().first() {
        Some(&c) if is_sep(c) => &s[1..],
        _ => s,
    }
}

/// `[-_.]?(keyword)[-_.]?(digits)?`; the number is "" when absent.
fn tagged<'a>(s: &'a str, keywords: &[(&str, u8)]) -> Option<(u8, &'a str, &'a str)> {
    let t = opt_sep(s);
    for &(k, tag) in keywords {
        if let Some(after) = t.strip_prefix(k) {
            let after_sep = opt_sep(after);
            let (num, rest) = split_while(after_sep, |c| c.is_ascii_digit());
            if num.is_empty() {
                // The separator after the keyword may stand alone.
                return Some((tag, "", after_sep));
            }
            return Some((tag, num, rest));
        }
    }
    None
}

const PRE: [(&str, u8); 8] = [
    ("alpha", 0),
    ("beta", 1),
    ("preview", 2),
    ("pre", 2),
    ("rc", 2),
    ("a", 0),
    ("b", 1),
    ("c", 2),
];
const POST: [(&str, u8); 3] = [("post", 0), ("rev", 0), ("r", 0)];
const DEV: [(&str, u8); 1] = [("dev", 0)];

fn parse(v: &str) -> Option<Pep440> {
    let s = v.trim_matches(|c: char| c.is_ascii_whitespace());
    if !s.is_ascii() {
        return None;
    }
    // Keywords are case-insensitive.
    let lower = s.to_ascii_lowercase();
    parse_inner(&lower).map(|p| Pep440 {
        epoch: p.epoch.to_string(),
        release: p.release.iter().map(|r| r.to_string()).collect(),
        pre: p.pre.map(|(t, n)| (t, n.to_string())),
        post: p.post.map(str::to_string),
        dev: p.dev.map(str::to_string),
        local: p.local,
    })
}

/// A parse borrowing from the lower-cased input.
struct Borrowed<'a> {
    epoch: &'a str,
    release: Vec<&'a str>,
    pre: Option<(u8, &'a str)>,
    post: Option<&'a str>,
    dev: Option<&'a str>,
    local: Option<Vec<String>>,
}

fn parse_inner(s: &str) -> Option<Borrowed<'_>> {
    let mut t = s.strip_prefix('v').unwrap_or(s);
    let mut epoch = &t[..0];
    let (d, rest) = split_while(t, |c| c.is_ascii_digit());
    if !d.is_empty() && rest.starts_with('!') {
        epoch = d;
        t = &rest[1..];
    }
    let mut release = Vec::new();
    loop {
        let (d, rest) = split_while(t, |c| c.is_ascii_digit());
        if d.is_empty() {
            return None;
        }
        release.push(d);
        t = rest;
        match t.strip_prefix('.') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => t = r,
            _ => break,
        }
    }
    let mut pre = None;
    if let Some((tag, num, rest)) = tagged(t, &PRE) {
        pre = Some((tag, num));
        t = rest;
    }
    let mut post = None;
    if let Some(r) = t.strip_prefix('-')
        && let (num, rest) = split_while(r, |c| c.is_ascii_digit())
        && !num.is_empty()
    {
        post = Some(num);
        t = rest;
    } else if let Some((_, num, rest)) = tagged(t, &POST) {
        post = Some(num);
        t = rest;
    }
    let mut dev = None;
    if let Some((_, num, rest)) = tagged(t, &DEV) {
        dev = Some(num);
        t = rest;
    }
    let mut local = None;
    if let Some(l) = t.strip_prefix('+') {
        let parts: Vec<&str> = l.split(['-', '_', '.']).collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_alphanumeric()))
        {
            return None;
        }
        local = Some(parts.iter().map(|p| p.to_string()).collect());
        t = "";
    }
    if !t.is_empty() {
        return None;
    }
    Some(Borrowed {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// The pre key: -inf for a dev-only release, +inf for none, else (tag, number).
fn pre_key(v: &Pep440) -> (i8, u8, &str) {
    match &v.pre {
        Some((t, n)) => (0, *t, n),
        None if v.post.is_none() && v.dev.is_some() => (-1, 0, ""),
        None => (1, 0, ""),
    }
}

/// Two optional numbers (a post or dev release), `none` being how a missing one compares.
fn numbers(a: &Option<String>, b: &Option<String>, none: Ordering) -> Ordering {
    cmp_option(a.as_deref(), b.as_deref(), none, cmp_digits)
}

/// Local labels: none is older than any; segment by segment, numbers numerically and
/// newer than strings, strings case-insensitively, fewer segments older.
fn cmp_local(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> Ordering {
    cmp_option(a.as_deref(), b.as_deref(), Ordering::Less, |x, y| {
        cmp_lists(x, y, |p, q| {
            let (pn, qn) = (
                p.bytes().all(|c| c.is_ascii_digit()),
                q.bytes().all(|c| c.is_ascii_digit()),
            );
            match (pn, qn) {
                (true, true) => cmp_digits(p, q),
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => p.to_ascii_lowercase().cmp(&q.to_ascii_lowercase()),
            }
        })
    })
}

fn cmp_release(a: &[String], b: &[String]) -> Ordering {
    let trim = |r: &[String]| {
        let mut n = r.len();
        while n > 0 && is_zero(&r[n - 1]) {
            n -= 1;
        }
        n
    };
    let (na, nb) = (trim(a), trim(b));
    for i in 0..na.max(nb) {
        let d = match (a[..na].get(i), b[..nb].get(i)) {
            (Some(x), Some(y)) => cmp_digits(x, y),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn cmp_valid(a: &Pep440, b: &Pep440) -> Ordering {
    cmp_digits(&a.epoch, &b.epoch)
        .then_with(|| cmp_release(&a.release, &b.release))
        .then_with(|| {
            let (x, y) = (pre_key(a), pre_key(b));
            x.0.cmp(&y.0)
                .then(x.1.cmp(&y.1))
                .then_with(|| cmp_digits(x.2, y.2))
        })
        // No post-release is -infinity, no dev release +infinity; a present one is a
        // number (possibly "").
        .then_with(|| numbers(&a.post, &b.post, Ordering::Less))
        .then_with(|| numbers(&a.dev, &b.dev, Ordering::Greater))
        .then_with(|| cmp_local(&a.local, &b.local))
}

/// The parts of a legacy version (`packaging` < 22, `_legacy_cmpkey`).
fn legacy_parts(v: &str) -> Vec<String> {
    let lower = v.to_lowercase();
    // Split into digit runs, letter runs, '.', '-', and the text between them.
    let mut raw: Vec<String> = Vec::new();
    let mut other = String::new();
    let chars: Vec<char> = lower.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let token: Option<String> = if c.is_ascii_digit() {
            let j = i + chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let t: String = chars[i..j].iter().collect();
            i = j;
            Some(t)
        } else if c.is_ascii_lowercase() {
            let j = i + chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_lowercase())
                .count();
            let t: String = chars[i..j].iter().collect();
            i = j;
            Some(t)
        } else if c == '.' || c == '-' {
            i += 1;
            Some(c.to_string())
        } else {
            other.push(c);
            i += 1;
            None
        };
        if let Some(t) = token {
            if !other.is_empty() {
                raw.push(std::mem::take(&mut other));
            }
            raw.push(t);
        }
    }
    if !other.is_empty() {
        raw.push(other);
    }
    let mut parts: Vec<String> = Vec::new();
    let mapped = raw.into_iter().filter_map(|p| {
        let p = match p.as_str() {
            "pre" | "preview" | "rc" => "c".to_string(),
            "-" => "final-".to_string(),
            "dev" => "@".to_string(),
            _ => p,
        };
        if p.is_empty() || p == "." {
            None
        } else if p.starts_with(|c: char| c.is_ascii_digit()) {
            Some(format!("{p:0>8}"))
        } else {
            Some(format!("*{p}"))
        }
    });
    for part in mapped.chain(std::iter::once("*final".to_string())) {
        if part.starts_with('*') {
            if part.as_str() < "*final" {
                while parts.last().is_some_and(|p| p == "*final-") {
                    parts.pop();
                }
            }
            while parts.last().is_some_and(|p| p == "00000000") {
                parts.pop();
            }
        }
        parts.push(part);
    }
    parts
}

/// Compares two Python package versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => cmp_valid(&x, &y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => legacy_parts(a).cmp(&legacy_parts(b)),
    }
}

/// Whether `v` is a PEP 440 version.
pub fn parse_ok(v: &str) -> bool {
    parse(v).is_some()
}
