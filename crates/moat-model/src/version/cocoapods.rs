//! CocoaPods versions (`Pod::Version`).
//!
//! `Pod::Version` extends the RubyGems `Gem::Version` that CocoaPods vendors with SemVer
//! pre-releases and build metadata. What differs from [`rubygems`](super::rubygems):
//!
//! * Valid strings match `\s*([0-9]+(\.[0-9a-zA-Z-]+)*(\+[0-9a-zA-Z.-]+)?)*\s*`. The group
//!   repeats, so the empty string (version 0) and oddities such as `1+a1+b` are accepted.
//! * Build metadata, a trailing `+` and `[0-9A-Za-z.-]` characters, is dropped before
//!   comparing (`1.0.0+fff = 1.0.0+000 = 1.0.0`).
//! * `-` is a separator like `.` (RubyGems reads it as `.pre.`), so `1.0.0-1` is
//!   `1.0.0.1`, newer than `1.0.0`: CocoaPods' `prerelease?` calls it a pre-release, but
//!   its comparison only sees the numbers.
//! * The version is cut into maximal digit runs (numbers) and letter runs (strings),
//!   every other character separating (`1.0.a10` is `[1, 0, "a", 10]`). The numeric part
//!   is the leading numbers without their trailing zeros; the pre-release part is
//!   everything from the first string on, numbers and zeros included.
//! * Numeric parts compare number by number, a shorter one older (`1.0 = 1 < 1.0.1`).
//!   Then no pre-release part is newer than any (`1.0.0-rc.1 < 1.0.0`), and two
//!   pre-release parts compare segment by segment like SemVer identifiers: numbers
//!   numerically and *older* than strings (RubyGems has strings older), strings
//!   byte-wise, a shorter list older (`1.0-beta.8 < 1.0-beta.8a`, `1.0.a < 1.0.a.0`,
//!   which RubyGems finds equal).
//!
//! Equality is `Pod::Version#==`: the same segments (`1 = 1.0 = 1.0.0`, metadata
//! ignored). `Pod::Version#<=>` also breaks ties between different strings by comparing
//! the strings, only so that sorting is deterministic (`1 < 1.0 < 1.0.0` when sorting,
//! while `==`, `<=` and `>=` find them equal); moat follows `==`.
//!
//! Fallback: a string `Pod::Version.new` rejects is read the same lenient way. It sorts by
//! its segments, after the valid versions with equal segments, and invalid strings with
//! equal segments compare byte-wise (the RubyGems rule).

use super::rubygems::{Seg, runs};
use super::{cmp_lists, cmp_option, is_zero, with_lenient_fallback};
use std::cmp::Ordering;

/// Ruby's `\s`.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

fn is_meta(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'.'
}

/// Drops trailing build metadata: a last `+` followed by metadata characters only.
fn strip_metadata(s: &str) -> &str {
    match s.rsplit_once('+') {
        Some((head, tail)) if !tail.is_empty() && tail.bytes().all(is_meta) => head,
        _ => s,
    }
}

/// The numeric part (without trailing zeros) and the pre-release part.
fn key(v: &str) -> (Vec<Seg>, Vec<Seg>) {
    let mut numeric = runs(strip_metadata(v.trim_matches(is_space)));
    let split = numeric
        .iter()
        .position(|s| matches!(s, Seg::Str(_)))
        .unwrap_or(numeric.len());
    let pre = numeric.split_off(split);
    while numeric
        .last()
        .is_some_and(|s| matches!(s, Seg::Num(n) if is_zero(n)))
    {
        numeric.pop();
    }
    (numeric, pre)
}

/// Segment by segment, a number older than a string, a shorter list older.
fn cmp_list(a: &[Seg], b: &[Seg]) -> Ordering {
    cmp_lists(a, b, |x, y| x.cmp(y, Ordering::Greater))
}

fn cmp_lenient(a: &str, b: &str) -> Ordering {
    let ((na, pa), (nb, pb)) = (key(a), key(b));
    let pre = |p: Vec<Seg>| if p.is_empty() { None } else { Some(p) };
    cmp_list(&na, &nb)
        .then_with(|| cmp_option(pre(pa), pre(pb), Ordering::Greater, |x, y| cmp_list(&x, &y)))
}

/// Compares two CocoaPods versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_lenient_fallback(a, b, parse_ok, cmp_lenient)
}

/// Whether `Pod::Version.correct?` accepts `v`: the anchored pattern of the module
/// documentation, matched by a small automaton (the repeated group makes a greedy
/// reading wrong: `1+a1+b` is `1+a` then `1+b`).
pub fn parse_ok(v: &str) -> bool {
    // A version may end in any state but "after `.`/`+`", and a new repetition of the
    // group (a digit) may start wherever one may end.
    let end = bit(State::Start) | bit(State::Digits) | bit(State::Part) | bit(State::Meta);
    let mut states = bit(State::Start);
    for c in v.trim_matches(is_space).bytes() {
        let mut next = 0;
        let mut go = |from: u8, ok: bool, to: State| {
            if states & from != 0 && ok {
                next |= bit(to);
            }
        };
        let after_item = bit(State::Digits) | bit(State::Part);
        go(end, c.is_ascii_digit(), State::Digits);
        go(after_item, c == b'.', State::Dot);
        go(after_item, c == b'+', State::Plus);
        go(
            bit(State::Dot) | bit(State::Part),
            c.is_ascii_alphanumeric() || c == b'-',
            State::Part,
        );
        go(bit(State::Plus) | bit(State::Meta), is_meta(c), State::Meta);
        if next == 0 {
            return false;
        }
        states = next;
    }
    states & end != 0
}

/// The states of the [`parse_ok`] automaton.
#[derive(Clone, Copy)]
enum State {
    /// Before the first character.
    Start,
    /// In the leading digits of a repetition.
    Digits,
    /// After a `.`.
    Dot,
    /// In a `.`-part.
    Part,
    /// After a `+`.
    Plus,
    /// In the metadata.
    Meta,
}

/// The state as a bit of a set of states.
fn bit(s: State) -> u8 {
    1 << s as u8
}
