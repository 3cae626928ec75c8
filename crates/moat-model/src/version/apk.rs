//! Alpine (apk-tools) versions: `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`.
//!
//! Comparison, in order:
//!
//! 1. the numeric components: the first numerically, every later one numerically too
//!    unless one of the two starts with `0`, in which case they compare as strings (the
//!    apk "fraction" rule: `1.01 < 1.1`, `1.001 < 1.01`); a missing component is `0`;
//! 2. the optional lower-case letter (absent < `a` < ... < `z`);
//! 3. the suffixes, position by position, a missing suffix being "no suffix":
//!    `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`, then the
//!    suffix numbers (missing is 0);
//! 4. the build number `-rN` (missing, or `-r` without digits, is 0);
//! 5. a version with an unparsed remainder sorts just below the same version without it.
//!
//! The `~hash` is ignored (commit hashes have no order).
//!
//! Fallback (strings that are not valid apk versions): the longest valid prefix is
//! parsed, with two leniencies so that the results stay ordered the way `apk version -t`
//! orders them: an empty numeric component (`0..1`, `.1`) is the smallest component
//! value, and digits right after the letter (`6.6.2p1`) are the letter's number. What
//! remains is the remainder of rule 5 and its content is not compared (`1-ruff1 =
//! 1-ruff2`).

use super::{cmp_digits, split_while};
use std::cmp::Ordering;

const SUFFIXES: [(&str, u8); 9] = [
    ("alpha", 0),
    ("beta", 1),
    ("pre", 2),
    ("rc", 3),
    ("cvs", 5),
    ("svn", 6),
    ("git", 7),
    ("hg", 8),
    ("p", 9),
];
const NO_SUFFIX: u8 = 4;

#[derive(Debug)]
struct Apk<'a> {
    components: Vec<&'a str>,
    letter: Option<(u8, &'a str)>,
    suffixes: Vec<(u8, &'a str)>,
    build: &'a str,
    remainder: &'a str,
}

fn parse(v: &str) -> Apk<'_> {
    let mut s = v.trim();
    // Numeric components: digit runs separated by dots (runs may be empty).
    let mut components = Vec::new();
    let starts_numeric = s.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if starts_numeric {
        loop {
            let (d, rest) = split_while(s, |c| c.is_ascii_digit());
            components.push(d);
            s = rest;
            match s.strip_prefix('.') {
                Some(rest) => s = rest,
                None => break,
            }
        }
    }
    let mut letter = None;
    if let Some(c) = s.bytes().next().filter(|c| c.is_ascii_lowercase()) {
        let (num, rest) = split_while(&s[1..], |c| c.is_ascii_digit());
        letter = Some((c, num));
        s = rest;
    }
    let mut suffixes = Vec::new();
    'outer: while let Some(rest) = s.strip_prefix('_') {
        for (name, weight) in SUFFIXES {
            if let Some(after) = rest.strip_prefix(name) {
                let (num, after) = split_while(after, |c| c.is_ascii_digit());
                suffixes.push((weight, num));
                s = after;
                continue 'outer;
            }
        }
        break;
    }
    if let Some(rest) = s.strip_prefix('~') {
        let (hash, after) = split_while(rest, |c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        if !hash.is_empty() {
            s = after;
        }
    }
    let mut build = "";
    if let Some(rest) = s.strip_prefix("-r") {
        let (num, after) = split_while(rest, |c| c.is_ascii_digit());
        build = num;
        s = after;
    }
    Apk {
        components,
        letter,
        suffixes,
        build,
        remainder: s,
    }
}

/// Total order on one numeric component after the first: empty, then the ones with a
/// leading zero (as strings), then the others (as numbers).
fn cmp_component(a: &str, b: &str) -> Ordering {
    fn class(s: &str) -> u8 {
        match s.as_bytes().first() {
            None => 0,
            Some(b'0') => 1,
            Some(_) => 2,
        }
    }
    class(a).cmp(&class(b)).then_with(|| match class(a) {
        2 => cmp_digits(a, b),
        _ => a.cmp(b),
    })
}

/// Compares two apk versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (va, vb) = (parse(a), parse(b));
    let n = va.components.len().max(vb.components.len());
    for i in 0..n {
        let ca = va.components.get(i).copied().unwrap_or("0");
        let cb = vb.components.get(i).copied().unwrap_or("0");
        let d = if i == 0 {
            cmp_digits(ca, cb)
        } else {
            cmp_component(ca, cb)
        };
        if d != Ordering::Equal {
            return d;
        }
    }
    let d = match (va.letter, vb.letter) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some((la, na)), Some((lb, nb))) => la.cmp(&lb).then_with(|| cmp_digits(na, nb)),
    };
    if d != Ordering::Equal {
        return d;
    }
    let n = va.suffixes.len().max(vb.suffixes.len());
    for i in 0..n {
        let (wa, na) = va.suffixes.get(i).copied().unwrap_or((NO_SUFFIX, ""));
        let (wb, nb) = vb.suffixes.get(i).copied().unwrap_or((NO_SUFFIX, ""));
        let d = wa.cmp(&wb).then_with(|| cmp_digits(na, nb));
        if d != Ordering::Equal {
            return d;
        }
    }
    // An unparsed remainder makes a version older than the same version without it.
    cmp_digits(va.build, vb.build)
        .then_with(|| va.remainder.is_empty().cmp(&vb.remainder.is_empty()))
}

/// A valid apk version: `\d+(\.\d+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(~[0-9a-f]+)?(-r\d+)?`.
pub fn parse_ok(v: &str) -> bool {
    if v.is_empty() || v.trim() != v {
        return false;
    }
    let p = parse(v);
    p.remainder.is_empty()
        && !p.components.is_empty()
        && p.components.iter().all(|c| !c.is_empty())
        && p.letter.is_none_or(|(_, n)| n.is_empty())
        && (!v.contains("-r") || !p.build.is_empty())
}
