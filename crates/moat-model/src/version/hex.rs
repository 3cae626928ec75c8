//! Hex package versions: Elixir's `Version`, which is strict SemVer 2.0.0.
//!
//! `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, exactly three components, no leading zeros in
//! numbers or numeric pre-release identifiers, no `v` prefix. Ordering is SemVer §11;
//! build metadata is ignored (`Version.compare("1.0.0+a", "1.0.0+b") == :eq`).
//!
//! Fallback: strings that Elixir would reject sort before every valid version and
//! byte-wise among themselves.

use super::semver::{Parsed, cmp_precedence, split_pre_build, strict_ok, with_fallback};
use std::cmp::Ordering;

fn parse(v: &str) -> Option<Parsed<'_>> {
    if !strict_ok(v) {
        return None;
    }
    let (core, pre, build) = split_pre_build(v);
    Some(Parsed {
        core: core.split('.').collect(),
        pre,
        build,
    })
}

/// Compares two Hex (Elixir) versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse, cmp_precedence)
}

/// Whether `v` is a valid Elixir version.
pub fn parse_ok(v: &str) -> bool {
    strict_ok(v)
}
