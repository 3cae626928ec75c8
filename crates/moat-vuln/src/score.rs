//! # CVSS base scores
//!
//! [`base_score`] turns one CVSS vector string into its version tag (`CVSS_V2`, `CVSS_V3`,
//! `CVSS_V4`, the words OSV uses in `severity[].type`) and its *base* score, using the `cvss`
//! crate for parsing and the arithmetic.
//!
//! * v2 vectors have no prefix (`AV:N/AC:L/Au:N/C:P/I:P/A:P`); NVD sometimes wraps them in
//!   parentheses, which are accepted. Temporal and environmental metrics in a v2 vector do not
//!   change the base score.
//! * v3.0 and v3.1 vectors (`CVSS:3.1/...`): the base equation of the vector's minor version
//!   (3.0 and 3.1 round differently).
//! * v4.0 vectors (`CVSS:4.0/...`): the score is computed from the base metrics only (threat,
//!   environmental and supplemental metrics are dropped first), i.e. the CVSS-B score.
//!
//! Anything that does not parse (unknown prefix, missing or repeated metric, bad value)
//! gives `None`; callers then fall back to a feed's qualitative rating.

use std::str::FromStr;

/// The CVSS v4.0 base metrics, in specification order.
const V4_BASE: [&str; 11] = [
    "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
];

/// The CVSS v3.x base metrics.
const V3_BASE: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];

/// The CVSS v2 base metrics.
const V2_BASE: [&str; 6] = ["AV", "AC", "Au", "C", "I", "A"];

/// The version tag and base score of a CVSS vector, or `None` when it does not parse.
pub fn base_score(vector: &str) -> Option<(&'static str, f64)> {
    let v = vector.trim();
    if v.starts_with("CVSS:4.0/") {
        if !complete(v.split('/').skip(1), &V4_BASE) {
            return None;
        }
        return v4_base(v).map(|s| ("CVSS_V4", s));
    }
    if v.starts_with("CVSS:3.0/") || v.starts_with("CVSS:3.1/") {
        if !complete(v.split('/').skip(1), &V3_BASE) {
            return None;
        }
        let vec = cvss::v3::Vector::from_str(v).ok()?;
        return finite(vec.base_score().value()).map(|s| ("CVSS_V3", s));
    }
    if v.starts_with("CVSS:") {
        return None;
    }
    let v = v
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .unwrap_or(v);
    if !complete(v.split('/'), &V2_BASE) {
        return None;
    }
    let vec = cvss::v2::Vector::from_str(v).ok()?;
    finite(vec.score().value()).map(|s| ("CVSS_V2", s))
}

/// The v4.0 score of the base metrics of `v` (which starts with `CVSS:4.0/`).
fn v4_base(v: &str) -> Option<f64> {
    // Validate the whole vector first (so a malformed threat metric is still an error),
    // then score the base-metric subset.
    cvss::v4::Vector::from_str(v).ok()?;
    let mut base = String::from("CVSS:4.0");
    for part in v.split('/').skip(1) {
        let key = part.split(':').next().unwrap_or("");
        if V4_BASE.contains(&key) {
            base.push('/');
            base.push_str(part);
        }
    }
    let vec = cvss::v4::Vector::from_str(&base).ok()?;
    finite(vec.score().value())
}

/// Every metric is `KEY:VALUE`, no key repeats, and every base metric is present (the
/// `cvss` crate scores a vector with a missing base metric as if it were zero).
fn complete<'a>(parts: impl Iterator<Item = &'a str>, base: &[&str]) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    for p in parts {
        let Some((k, val)) = p.split_once(':') else {
            return false;
        };
        if k.is_empty() || val.is_empty() || seen.contains(&k) {
            return false;
        }
        seen.push(k);
    }
    base.iter().all(|b| seen.contains(b))
}

fn finite(s: f64) -> Option<f64> {
    (s.is_finite() && (0.0..=10.0).contains(&s)).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v31_log4shell() {
        // CVE-2021-44228, NVD: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H = 10.0
        assert_eq!(
            base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            Some(("CVSS_V3", 10.0))
        );
    }

    #[test]
    fn garbage() {
        assert_eq!(base_score(""), None);
        assert_eq!(base_score("CVSS:9.9/AV:N"), None);
        assert_eq!(base_score("not a vector"), None);
    }
}
