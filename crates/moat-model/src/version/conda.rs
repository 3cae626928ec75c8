//! Conda package versions, ordered like conda's `VersionOrder`.
//!
//! Conda has no OSV ecosystem (moat inventories Conda packages under its own name `Conda`);
//! this ordering is conda's own, written from the `VersionOrder` documentation of
//! `conda.models.version`:
//!
//! * Comparison is case-insensitive; surrounding whitespace is ignored. Valid characters
//!   are `[*.+!_0-9a-z]`; a version with `-` and no `_` has its dashes read as `_`.
//! * `N!` in front is the epoch (an integer, 0 when absent); `+` separates a local
//!   version, compared after the main one (one `!` and one `+` at most).
//! * The version is split into components at `.` and `_` (a trailing `_` stays with the
//!   last component: `1.1_` for openssl-like versions); each component is cut into runs
//!   of digits (numbers), of `*` and of other characters (strings). A component starting
//!   with a string gets a `0` in front, so `1.1.a1 = 1.1.0a1`.
//! * Items compare: `dev` < every other string (strings byte-wise: `*` < `_` < letters) <
//!   numbers (numerically) < `post`. A missing item or component is the number 0, so
//!   `1.1 = 1.1.0` and `1.1a1 < 1.1 < 1.1.post1`.
//!
//! Examples from conda's documentation: `0.4 < 0.4.1.rc < 0.4.1 < 0.5a1 < 0.5 < 1.1dev1
//! < 1.1_ < 1.1a1 < 1.1.0dev1 < 1.1.0rc1 < 1.1.0 < 1.1.0post1 < 1996.07.12 < 1!0.4.1`.
//!
//! Fallback: strings conda rejects (empty, other characters, an empty component, two
//! epochs) sort before every version and byte-wise among themselves.

use super::cmp_digits;
use super::semver::with_fallback;
use std::cmp::Ordering;

/// One item of a component, in increasing order of kind.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// `dev`, before every other string.
    Dev,
    /// Any other non-numeric run (lower case).
    Str(String),
    /// A run of digits.
    Num(String),
    /// `post`, after every number.
    Post,
}

impl Item {
    fn rank(&self) -> u8 {
        match self {
            Item::Dev => 0,
            Item::Str(_) => 1,
            Item::Num(_) => 2,
            Item::Post => 3,
        }
    }
}

fn cmp_item(a: &Item, b: &Item) -> Ordering {
    match (a, b) {
        (Item::Str(x), Item::Str(y)) => x.cmp(y),
        (Item::Num(x), Item::Num(y)) => cmp_digits(x, y),
        _ => a.rank().cmp(&b.rank()),
    }
}

type Component = Vec<Item>;

/// The epoch and version components, and the local version's components.
type Parsed = (Vec<Component>, Vec<Component>);

/// A component's items: runs of digits, of `*`, of anything else; a leading 0 when it
/// starts with a string.
fn component(s: &str) -> Option<Component> {
    if s.is_empty() {
        return None;
    }
    let class = |c: u8| {
        if c.is_ascii_digit() {
            0
        } else if c == b'*' {
            1
        } else {
            2
        }
    };
    let bytes = s.as_bytes();
    let mut items = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let k = class(bytes[start]);
        let len = bytes[start..]
            .iter()
            .take_while(|&&c| class(c) == k)
            .count();
        let run = &s[start..start + len];
        items.push(match (k, run) {
            (0, _) => Item::Num(run.to_string()),
            (_, "dev") => Item::Dev,
            (_, "post") => Item::Post,
            _ => Item::Str(run.to_string()),
        });
        start += len;
    }
    if !bytes[0].is_ascii_digit() {
        items.insert(0, Item::Num(String::new()));
    }
    Some(items)
}

fn components(parts: &[&str]) -> Option<Vec<Component>> {
    parts.iter().map(|p| component(p)).collect()
}

fn parse(v: &str) -> Option<Parsed> {
    let mut s = v.trim().to_ascii_lowercase();
    let allowed = |s: &str| {
        s.bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || b"*.+!_".contains(&c))
    };
    if s.is_empty() {
        return None;
    }
    if !allowed(&s) && s.contains('-') && !s.contains('_') {
        s = s.replace('-', "_");
    }
    if !allowed(&s) {
        return None;
    }
    let (epoch, rest) = match s.split_once('!') {
        Some((e, r))
            if !r.contains('!') && !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) =>
        {
            (e, r)
        }
        Some(_) => return None,
        None => ("0", s.as_str()),
    };
    let (main, local) = match rest.split_once('+') {
        Some((m, l)) if !l.contains('+') => (m, Some(l)),
        Some(_) => return None,
        None => (rest, None),
    };
    if main.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = match main.strip_suffix('_') {
        Some(head) => {
            let mut p: Vec<String> = head.split(['.', '_']).map(str::to_string).collect();
            if let Some(last) = p.last_mut() {
                last.push('_');
            }
            p
        }
        None => main.split(['.', '_']).map(str::to_string).collect(),
    };
    parts.insert(0, epoch.to_string());
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let version = components(&refs)?;
    let local = match local {
        Some(l) => components(&l.split(['.', '_']).collect::<Vec<_>>())?,
        None => Vec::new(),
    };
    Some((version, local))
}

/// Compares two lists with a fill value for the shorter one (conda's `zip_longest`).
fn cmp_filled<T>(a: &[T], b: &[T], fill: &T, cmp: impl Fn(&T, &T) -> Ordering) -> Ordering {
    (0..a.len().max(b.len()))
        .map(|i| cmp(a.get(i).unwrap_or(fill), b.get(i).unwrap_or(fill)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn cmp_components(a: &[Component], b: &[Component]) -> Ordering {
    let zero = Item::Num(String::new());
    cmp_filled(a, b, &Vec::new(), |x, y| cmp_filled(x, y, &zero, cmp_item))
}

/// Compares two conda versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse, |x, y| {
        cmp_components(&x.0, &y.0).then_with(|| cmp_components(&x.1, &y.1))
    })
}

/// Whether `v` is a version conda accepts.
pub fn parse_ok(v: &str) -> bool {
    parse(v).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_order() {
        let chain = [
            "0.4",
            "0.4.1.rc",
            "0.4.1",
            "0.5a1",
            "0.5b3",
            "0.5C1",
            "0.5",
            "0.9.6",
            "0.960923",
            "1.0",
            "1.1dev1",
            "1.1_",
            "1.1a1",
            "1.1.0dev1",
            "1.1.a1",
            "1.1.0rc1",
            "1.1.0",
            "1.1.0post1",
            "1.1post1",
            "1996.07.12",
            "1!0.4.1",
            "1!3.1.1.6",
            "2!0.4.1",
        ];
        for w in chain.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
            assert_eq!(
                compare(w[1], w[0]),
                Ordering::Greater,
                "{} > {}",
                w[1],
                w[0]
            );
        }
        for (a, b) in [
            ("0.4", "0.4.0"),
            ("0.4.1.rc", "0.4.1.RC"),
            ("1.1.0dev1", "1.1.dev1"),
            ("1.1.0", "1.1"),
            ("1.1.0post1", "1.1.post1"),
            ("1.0-1", "1.0_1"),
            ("1.0+local", "1.0+LOCAL"),
        ] {
            assert_eq!(compare(a, b), Ordering::Equal, "{a} = {b}");
        }
        // the local version decides only after the version
        assert_eq!(compare("1.0+2", "1.0+10"), Ordering::Less);
        assert_eq!(compare("1.0+9", "1.0.1"), Ordering::Less);
        // openssl-style letters
        assert_eq!(compare("1.1.1w", "1.1.1v"), Ordering::Greater);
        assert_eq!(compare("3.0.13", "1.1.1w"), Ordering::Greater);
    }

    #[test]
    fn invalid_strings_sort_first() {
        for bad in [
            "", " ", "1..2", "1!2!3", "a!1", "1+2+3", "+1", "1.0 beta", "1-0_1", "é",
        ] {
            assert!(!parse_ok(bad), "{bad:?}");
            assert_eq!(compare(bad, "0"), Ordering::Less, "{bad:?}");
        }
        for ok in [
            "1.0",
            "1.0-1",
            "2024.1",
            "1!2.0+local_1",
            "1.2.*",
            " 1.0 ",
            "1.1_",
        ] {
            assert!(parse_ok(ok), "{ok:?}");
        }
    }
}
