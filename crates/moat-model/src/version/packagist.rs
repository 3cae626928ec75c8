//! Packagist (Composer) versions, ordered like PHP's `version_compare` after Composer's
//! light normalisation.
//!
//! Canonicalisation: a leading `v`/`V` is dropped; `-`, `_` and `+` become `.`; a `.` is
//! inserted wherever a digit meets a non-digit (`1.0rc1` is `1.0.rc.1`). The result is
//! split on `.` into parts.
//!
//! Parts compare pairwise: two numbers numerically; otherwise by the weight of their
//! "special form", matched by prefix (case-sensitive): anything unknown `<` `dev` `<`
//! `alpha` = `a` `<` `beta` = `b` `<` `RC` = `rc` `<` `#` `<` `pl` = `p`, where a number
//! weighs as `#`. When one side runs out, its next part decides: a number is newer than
//! nothing (`1.0.0 > 1.0`), a special form compares with `#` (`1.0-dev < 1.0 < 1.0pl1`).
//!
//! Fallback: none needed; like `version_compare`, every string has a place.
//!
//! One departure from `version_compare`, for totality: PHP weighs a part starting with
//! `#` exactly like a number, so `1.#` would equal both `1.1` and `1.2`. Here such a part
//! is equal to the *missing* part instead of to every number (`1.2.3.# = 1.2.3`, and
//! below `1.2.3.1`), which keeps the order transitive; see the exceptions file of the
//! corpus test for the one line this changes.

use super::{all_digits, cmp_digits};
use std::cmp::Ordering;

fn canonical(v: &str) -> Vec<String> {
    let s = v.trim();
    let s = s
        .strip_prefix('v')
        .or_else(|| s.strip_prefix('V'))
        .unwrap_or(s);
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev: Option<char> = None;
    for c in s.chars() {
        let c = if matches!(c, '-' | '_' | '+') { '.' } else { c };
        if let Some(p) = prev {
            let pd = p.is_ascii_digit();
            let cd = c.is_ascii_digit();
            if p != '.' && c != '.' && pd != cd {
                out.push('.');
            }
        }
        out.push(c);
        prev = Some(c);
    }
    out.split('.').map(str::to_string).collect()
}

/// The weight of a special form (prefix match, PHP's table order).
fn weight(part: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| part.starts_with(name))
        .map_or(-1, |&(_, w)| w)
}

/// The sort key of one part: (weight, sub-rank, number). A number is (4, 1, n); a part
/// starting with `#` is (4, 0), like a missing part; other forms are (weight, 0).
fn key(part: &str) -> (i8, u8, &str) {
    if all_digits(part) {
        (4, 1, part)
    } else {
        (weight(part), 0, "")
    }
}

const MISSING: (i8, u8, &str) = (4, 0, "");

fn cmp_key(a: (i8, u8, &str), b: (i8, u8, &str)) -> Ordering {
    a.0.cmp(&b.0)
        .then(a.1.cmp(&b.1))
        .then_with(|| cmp_digits(a.2, b.2))
}

/// Compares two Packagist versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (canonical(a), canonical(b));
    let n = pa.len().max(pb.len());
    for i in 0..n {
        let ka = pa.get(i).map_or(MISSING, |p| key(p));
        let kb = pb.get(i).map_or(MISSING, |p| key(p));
        let d = cmp_key(ka, kb);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

/// A Composer-style version: optional `v`, one to four numbers, an optional stability
/// suffix (`-dev`, `alpha`/`a`, `beta`/`b`, `RC`, `patch`/`pl`/`p`, optionally numbered),
/// or a `dev-<branch>` name.
pub fn parse_ok(v: &str) -> bool {
    if v.is_empty() || v.trim() != v {
        return false;
    }
    if let Some(branch) = v.strip_prefix("dev-") {
        return !branch.is_empty();
    }
    let s = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let lower = s.to_ascii_lowercase();
    let (num_end, _) = lower
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
        .map_or((lower.len(), ' '), |x| x);
    let core = &lower[..num_end];
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 4 || !parts.iter().all(|p| all_digits(p)) {
        return false;
    }
    let rest = lower[num_end..].trim_start_matches(['-', '_', '.']);
    if rest.is_empty() {
        return true;
    }
    let word_len = rest.bytes().take_while(|c| c.is_ascii_alphabetic()).count();
    let (word, tail) = rest.split_at(word_len);
    let tail = tail.trim_start_matches(['.', '-']);
    matches!(
        word,
        "dev" | "alpha" | "a" | "beta" | "b" | "rc" | "patch" | "pl" | "p" | "stable"
    ) && (tail.is_empty()
        || tail.split('.').all(all_digits)
        || (word != "dev" && tail == "dev")
        || tail
            .rsplit_once(['-', '.'])
            .is_some_and(|(n, d)| all_digits(n) && d == "dev"))
}
