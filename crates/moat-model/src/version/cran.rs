//! R package versions (OSV `CRAN` and `Bioconductor`), ordered like R's
//! `package_version`.
//!
//! A version is a sequence of non-negative integers separated by single `.` or `-`
//! characters (Writing R Extensions, "The DESCRIPTION file"); the two separators mean the
//! same (`1.2-3 = 1.2.3`). R's `numeric_version` compares the integer lists element by
//! element, and a list that is a prefix of the other is older: `1.8 < 1.8.0`,
//! `0.1.0 < 0.1.0.0`, `0.9 < 0.75`. Leading zeros do not count (`0.01 = 0.1`).
//!
//! Leniency: surrounding whitespace, and a single component, which `numeric_version`
//! accepts and `package_version` does not (OSV's `introduced: "0"` is one).
//!
//! Fallback: strings that are not such lists (`1.0a`, `1..2`, `1.0-`) sort before every
//! version and byte-wise among themselves. [`parse_ok`] is `package_version`'s rule: at
//! least two components, nothing around them.

use super::semver::with_fallback;
use super::{all_digits, cmp_numeric_lists};
use std::cmp::Ordering;

fn parse(v: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = v.trim().split(['.', '-']).collect();
    parts.iter().all(|p| all_digits(p)).then_some(parts)
}

/// Compares two R package versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse, |x, y| cmp_numeric_lists(x, y))
}

/// Whether `v` is a valid R package version (`package_version(v)` succeeds).
pub fn parse_ok(v: &str) -> bool {
    v.trim() == v && parse(v).is_some_and(|p| p.len() >= 2)
}
