//! Pub (Dart) versions, as `pub_semver` orders them.
//!
//! SemVer 2.0.0 with one difference: build metadata is *ordered*. A version without
//! build metadata is older than the same version with (`1.0.0 < 1.0.0+1`), and build
//! identifiers compare like pre-release identifiers (numbers numerically and before
//! strings, strings byte-wise, a shorter list older). Pre-release versions are older
//! than the release (`1.0.0-pre < 1.0.0-pre+build < 1.0.0 < 1.0.0+build`).
//!
//! Leniency and fallback are those of [`semver`](super::semver): a leading `v` and
//! missing minor/patch are accepted, numeric components past the third are ignored;
//! unparseable strings sort before every version and byte-wise among themselves. [`parse_ok`] is the
//! `pub_semver` grammar: three numbers, optional pre-release and build.

use super::semver::{
    Parsed, cmp_identifiers, cmp_precedence, identifiers_ok, split_core, split_pre_build,
    with_fallback,
};
use super::{all_digits, cmp_option};
use std::cmp::Ordering;

fn parse(v: &str) -> Option<Parsed<'_>> {
    let s = v.trim().trim_start_matches(['=', 'v', 'V']);
    let (core, pre, build) = split_pre_build(s);
    let parts: Vec<&str> = core.split('.').collect();
    if !parts.iter().all(|p| all_digits(p)) {
        return None;
    }
    // Numeric components past the third are build metadata.
    let core = parts[..parts.len().min(3)].to_vec();
    Some(Parsed { core, pre, build })
}

/// Compares two Pub versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    with_fallback(a, b, parse, |x, y| {
        cmp_precedence(x, y).then_with(|| {
            cmp_option(x.build, y.build, Ordering::Less, |p, q| {
                cmp_identifiers(p, q, str::cmp)
            })
        })
    })
}

/// The `pub_semver` grammar: `\d+\.\d+\.\d+(-ids)?(\+ids)?`.
pub fn parse_ok(v: &str) -> bool {
    let (core, pre, build) = split_pre_build(v);
    split_core(core, 3).is_some_and(|c| c.len() == 3)
        && pre.is_none_or(|p| identifiers_ok(p, false))
        && build.is_none_or(|b| identifiers_ok(b, false))
}
