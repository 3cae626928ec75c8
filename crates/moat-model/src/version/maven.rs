//! Maven versions, ordered like Maven's `ComparableVersion`.
//!
//! Parsing (after lower-casing):
//!
//! * `.` separates items of the current list, `-` starts a new sub-list; a transition
//!   between digits and letters acts like `-` (`1a1` is `1-a-1`). An empty item (`1..2`,
//!   `1-`) is `0`.
//! * A digit run is a number (any size). A letter item is a qualifier; the one-letter
//!   `a`, `b` and `m` directly followed by a digit mean `alpha`, `beta` and `milestone`,
//!   and `ga`, `final` and `release` mean the empty qualifier, `cr` means `rc`.
//! * Each list is normalised by dropping trailing "null" items (`0`, the empty qualifier,
//!   empty lists), looking past trailing sub-lists, so `1.0.0 = 1`, `1.0-foo = 1-foo`.
//!   A sub-list left holding nothing but another sub-list is replaced by it, so a null
//!   qualifier between hyphens vanishes as the POM reference's trimming rule says
//!   (`1-ga-1 = 1-1`).
//! * Digits are ASCII digits (Java's `Character.isDigit` also accepts other scripts'
//!   digits; those are letters here).
//!
//! Comparison: item by item, a missing item compares as "null" (the release). Each item
//! is first placed against null: below (a pre-release qualifier, or a sub-list or a zero
//! that leads to one), equal (`0`, `ga`, ...), or above; different sides decide, and all
//! items equal to null are equal. Items on the same side compare as below. Qualifiers order
//! `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp`, and
//! any other qualifier comes after those, ordered as a string. Numbers are newer than
//! qualifiers and than sub-lists; a sub-list is newer than a qualifier. Against null: a
//! number is equal when 0 else newer; a qualifier is older if it sorts before the empty
//! qualifier (`1-alpha < 1`), newer otherwise (`1-sp > 1`, `1-xyz > 1`).
//!
//! `ComparableVersion` itself compares by type first (numbers above sub-lists above
//! qualifiers) whatever the sides, which is not transitive: `1-alpha < 1 < 1.sp <
//! 1-alpha`, and `2.9.0.RC1 < 2.9.0 < 2.9.0-1 < 2.9.0.RC1`. Placing by side first breaks
//! those cycles the way the release ordering suggests (`2.9.0-1 > 2.9.0.RC1`); the
//! generated osv-scalibr corpus has three neighbour pairs on such cycles, listed in the
//! exceptions file of the corpus test.
//!
//! Fallback: none needed; like `ComparableVersion`, every string is a version.
//! [`parse_ok`] only rejects the empty string, whitespace and control characters.

use super::cmp_digits;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A number, as a digit run without leading zeros ("" is 0).
    Int(String),
    /// A qualifier, after alias resolution.
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// The comparable form of a qualifier: its index among the known ones, or `7-<q>`.
fn comparable(q: &str) -> String {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}
const RELEASE_INDEX: &str = "5";

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(n) => n.is_empty(),
        Item::Str(s) => s.is_empty(),
        Item::List(l) => l.is_empty(),
    }
}

fn int_item(digits: &str) -> Item {
    Item::Int(digits.trim_start_matches('0').to_string())
}

fn str_item(s: &str, followed_by_digit: bool) -> Item {
    let s = if followed_by_digit && s.len() == 1 {
        match s {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        }
    } else {
        s
    };
    let s = match s {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(s.to_string())
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        int_item(buf)
    } else {
        str_item(buf, false)
    }
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if is_null(&list[i]) {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Deepest sub-list nesting; past it, `-` and transitions separate items of the current
/// list (keeps recursion bounded on hostile input such as ten thousand `-`).
const MAX_DEPTH: usize = 64;

/// The lists being parsed: the root and the path of open sub-lists below it.
struct Lists {
    root: Vec<Item>,
    open: Vec<Vec<Item>>,
}

impl Lists {
    /// Appends an item to the innermost open list.
    fn push(&mut self, item: Item) {
        self.open.last_mut().unwrap_or(&mut self.root).push(item);
    }

    /// Opens a sub-list (past [`MAX_DEPTH`], items stay in the current list).
    fn open(&mut self) {
        if self.open.len() + 1 < MAX_DEPTH {
            self.open.push(Vec::new());
        }
    }

    /// Closes the open lists from the innermost (normalise, then append to the parent)
    /// and returns the normalised root.
    fn finish(mut self) -> Vec<Item> {
        while let Some(mut inner) = self.open.pop() {
            normalize(&mut inner);
            // A list left holding only a sub-list (`1-ga-1` after dropping the null `ga`)
            // is that sub-list: `1-ga-1 = 1-1`, as the POM reference's trimming rule says.
            if inner.len() == 1
                && matches!(inner.first(), Some(Item::List(_)))
                && let Some(Item::List(only)) = inner.pop()
            {
                inner = only;
            }
            self.push(Item::List(inner));
        }
        normalize(&mut self.root);
        self.root
    }
}

/// Parses into nested lists: every new list is appended to its parent when it is closed
/// (at the end), which is equivalent to `ComparableVersion`'s in-place nesting.
fn parse(v: &str) -> Vec<Item> {
    let v = v.to_lowercase();
    let chars: Vec<char> = v.chars().collect();
    let mut lists = Lists {
        root: Vec::new(),
        open: Vec::new(),
    };
    let mut is_digit = false;
    let mut start = 0usize;
    let sub = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' || c == '-' {
            // An empty item (`1..2`, `1-`) is 0.
            lists.push(if i == start {
                Item::Int(String::new())
            } else {
                parse_item(is_digit, &sub(start, i))
            });
            start = i + 1;
            if c == '-' {
                lists.open();
            }
        } else if c.is_ascii_digit() != is_digit {
            // A transition between digits and letters acts like `-`.
            if i > start {
                lists.push(if is_digit {
                    parse_item(true, &sub(start, i))
                } else {
                    str_item(&sub(start, i), true)
                });
                start = i;
                lists.open();
            }
            is_digit = c.is_ascii_digit();
        }
    }
    if chars.len() > start {
        lists.push(parse_item(is_digit, &sub(start, chars.len())));
    }
    lists.finish()
}

/// Which side of "null" (the end of a version, the release) each item of a list is on.
/// A zero counts as what follows it: `1.0.alpha` is below `1`, `1.0.1` above. One
/// backward pass, so long runs of zeros stay linear.
fn sides(list: &[Item]) -> Vec<Ordering> {
    let mut out = vec![Ordering::Equal; list.len()];
    // The side of everything after position i: its first item that is not null decides.
    let mut rest = Ordering::Equal;
    for i in (0..list.len()).rev() {
        let side = match &list[i] {
            Item::Int(n) if !n.is_empty() => Ordering::Greater,
            Item::Int(_) => rest,
            Item::Str(q) => comparable(q).as_str().cmp(RELEASE_INDEX),
            Item::List(l) => side_of(l),
        };
        out[i] = side;
        if side != Ordering::Equal {
            rest = side;
        }
    }
    out
}

/// The side of a whole list against null.
fn side_of(list: &[Item]) -> Ordering {
    sides(list)
        .into_iter()
        .find(|&d| d != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

fn type_rank(item: &Item) -> u8 {
    match item {
        Item::Str(_) => 0,
        Item::List(_) => 1,
        Item::Int(_) => 2,
    }
}

/// Compares two normalised lists position by position, a missing item being null.
///
/// At each position the items are first placed against null (below, equal, above); only
/// items on the same side are compared the `ComparableVersion` way (numbers above
/// sub-lists above qualifiers, then by value). Items equal to null are equal to each
/// other. This makes the order transitive where `ComparableVersion` is not (there,
/// `1-alpha < 1 < 1.sp < 1-alpha` and `1.0.alpha < 1 < 1-1 < 1.0.alpha`); it differs from
/// it only when two items of different types lie on different sides of null.
fn cmp_list(x: &[Item], y: &[Item]) -> Ordering {
    let (side_x, side_y) = (sides(x), sides(y));
    for i in 0..x.len().max(y.len()) {
        let sx = side_x.get(i).copied().unwrap_or(Ordering::Equal);
        let sy = side_y.get(i).copied().unwrap_or(Ordering::Equal);
        let d = sx.cmp(&sy);
        if d != Ordering::Equal {
            return d;
        }
        if sx == Ordering::Equal {
            continue;
        }
        // Same non-null side: both items exist.
        let (a, b) = (&x[i], &y[i]);
        let d = type_rank(a).cmp(&type_rank(b)).then_with(|| match (a, b) {
            (Item::Int(p), Item::Int(q)) => cmp_digits(p, q),
            (Item::Str(p), Item::Str(q)) => comparable(p).cmp(&comparable(q)),
            (Item::List(p), Item::List(q)) => cmp_list(p, q),
            _ => Ordering::Equal,
        });
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

/// Compares two Maven versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    cmp_list(&parse(a), &parse(b))
}

/// Any non-empty string without whitespace or control characters.
pub fn parse_ok(v: &str) -> bool {
    !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}
