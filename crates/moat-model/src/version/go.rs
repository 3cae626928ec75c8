//! Go module versions (`golang.org/x/mod/semver`): `vMAJOR[.MINOR[.PATCH[-PRE][+BUILD]]]`.
//!
//! SemVer 2.0.0 ordering with Go's rules: the shorthands `v1` and `v1.2` mean `v1.0.0`
//! and `v1.2.0` (only without pre-release or build); numbers may not have leading zeros;
//! build metadata is ignored, so `v2.0.0+incompatible = v2.0.0`. Pseudo-versions need no
//! special case: `v0.0.0-20191109021931-daa7c04131f5` is a pre-release of `v0.0.0`, and
//! `v1.2.4-0.20191109021931-daa7c04131f5` sorts after `v1.2.3` and before `v1.2.4`
//! (ordered by their timestamps, which are fixed-width digit runs).
//!
//! The leading `v` is optional here because OSV writes Go versions without it
//! (`1.2.3`); `v1.2.3 = 1.2.3`.
//!
//! Fallback: Go says that invalid versions are older than every valid one and equal to
//! each other; here they are older than every valid one and ordered byte-wise among
//! themselves, which keeps the order total and antisymmetric.

use super::all_digits;
use super::semver::{Parsed, cmp_precedence, identifiers_ok, split_pre_build, with_fallback};
use std::cmp::Ordering;

fn parse(v: &str) -> Option<Parsed<'_>> {
    let s = v.strip_prefix('v').unwrap_or(v);
    let (core, pre, build) = split_pre_build(s);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || !parts
            .iter()
            .all(|p| all_digits(p) && (p.len() == 1 || !p.starts_with('0')))
    {
        return None;
    }
    if parts.len() < 3 && (pre.is_some() || build.is_some()) {
        return None;
    }
    if !pre.is_none_or(|p| identifiers_ok(p, true))
        || !build.is_none_or(|b| identifiers_ok(b, false))
    {
        return None;
    }
    Some(Parsed {
        core: parts,
        pre,
        build,
    })
}

/// Compares two Go module versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse, cmp_precedence)
}

/// Whether `v` (with or without the leading `v`) is a valid Go module version.
pub fn parse_ok(v: &str) -> bool {
    parse(v).is_some()
}
