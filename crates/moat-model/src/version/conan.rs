//! Conan 2 versions (OSV `ConanCenter`), ordered like Conan's `Version` model.
//!
//! Conan extends SemVer to any number of dot-separated items, letters included
//! (`1.2.3.a.8`, `1.1.1w`, `cci.20230101`), with a SemVer-like pre-release and build:
//! `main[-pre][+build]`. The build starts after the *last* `+`, the pre-release after the
//! *first* `-` before it (`0.0.1-3-1` has the pre-release `3-1`).
//!
//! * Each part is a list of `.`-separated items; trailing zero items do not count
//!   (`1 = 1.0 = 1.0.0`, `1.0-pre1.0 = 1-pre1`).
//! * Lists compare item by item, a list that is a prefix of the other is older
//!   (`1.2 < 1.2.3`, `4 < 4.0.1`).
//! * An item that is all digits is a number, compared numerically (`1.3 < 1.22`); other
//!   items compare byte-wise (`1.1.a < 1.1.b`, `cci.20230101 < cci.20240101`).
//! * No pre-release is newer than any (`1.1-alpha.1 < 1.1 = 1.1.0`), and two pre-releases
//!   compare as lists. Conan also orders builds (unlike SemVer): no build is older than
//!   any (`1.1 < 1.1+b1 < 1.1+b2 < 1.2`), and two builds compare as lists. The main part
//!   decides first, then the pre-release, then the build (`1.1-pre.1 < 1.1+b.1`).
//!
//! Mixed items: Conan compares a number with a non-number as text (`str(10) < "1a"`),
//! which is not transitive (`2 < 10 < 1a < 2`). Here an item is ranked by its first
//! byte, which agrees with that text comparison: items starting below `0` (the empty
//! item of `1.0-`, `*`, ...) come before numbers, items starting above `9` (letters,
//! `_`) after them. Items that start with digits but are not numbers (`1w`, `3-1`)
//! stand among the numbers: by their leading number, then by the rest (nothing first),
//! then byte-wise. This follows Conan wherever the leading numbers have the same length
//! (`1.1.1 < 1.1.1k < 1.1.1w < 1.1.2`, `3 < 3-1 < 4`) and orders by number where Conan's
//! text comparison cycles (`1.1.9k < 1.1.10`, where Conan has `1.1.10 < 1.1.9k`).
//!
//! Fallback: none needed; like Conan's model, every string is a version. [`parse_ok`] is
//! the check Conan applies to the version of a reference, `[a-z0-9_][a-z0-9_+.-]{1,100}`
//! (lower case only, two characters at least), without the upper length limit.

use super::{cmp_digits, cmp_lists, cmp_option, is_zero, split_while};
use std::cmp::Ordering;

/// The items of a part, trailing zero items dropped.
fn items(part: &str) -> Vec<&str> {
    let mut items: Vec<&str> = part.split('.').collect();
    while items
        .last()
        .is_some_and(|i| !i.is_empty() && i.bytes().all(|c| c.is_ascii_digit()) && is_zero(i))
    {
        items.pop();
    }
    items
}

/// `(main, pre, build)` item lists.
type Parts<'a> = (Vec<&'a str>, Option<Vec<&'a str>>, Option<Vec<&'a str>>);

fn parts(v: &str) -> Parts<'_> {
    let (rest, build) = v
        .rsplit_once('+')
        .map_or((v, None), |(r, b)| (r, Some(items(b))));
    let (main, pre) = rest
        .split_once('-')
        .map_or((rest, None), |(m, p)| (m, Some(items(p))));
    (items(main), pre, build)
}

/// Where an item stands: before the numbers, among them, after them.
fn rank(item: &str) -> u8 {
    match item.bytes().next() {
        Some(c) if c.is_ascii_digit() => 1,
        Some(c) if c > b'9' => 2,
        _ => 0,
    }
}

fn cmp_item(a: &str, b: &str) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    if ra != 1 {
        return a.cmp(b);
    }
    let (na, sa) = split_while(a, |c| c.is_ascii_digit());
    let (nb, sb) = split_while(b, |c| c.is_ascii_digit());
    cmp_digits(na, nb).then_with(|| {
        if sa.is_empty() && sb.is_empty() {
            // Two numbers: `01 = 1`.
            Ordering::Equal
        } else {
            sa.cmp(sb).then_with(|| a.cmp(b))
        }
    })
}

fn cmp_items(a: &[&str], b: &[&str]) -> Ordering {
    cmp_lists(a, b, |x, y| cmp_item(x, y))
}

/// Compares two Conan versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let ((ma, pa, ba), (mb, pb, bb)) = (parts(a), parts(b));
    cmp_items(&ma, &mb)
        .then_with(|| cmp_option(pa, pb, Ordering::Greater, |x, y| cmp_items(&x, &y)))
        .then_with(|| cmp_option(ba, bb, Ordering::Less, |x, y| cmp_items(&x, &y)))
}

/// Whether Conan accepts `v` as the version of a reference.
pub fn parse_ok(v: &str) -> bool {
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_';
    let mut bytes = v.bytes();
    v.len() >= 2
        && bytes.next().is_some_and(ok)
        && bytes.all(|c| ok(c) || matches!(c, b'+' | b'.' | b'-'))
}
