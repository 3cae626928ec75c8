//! Advisories (the OSV schema, typed) and findings.
//!
//! [`Advisory`] deserialises OSV JSON directly (unknown fields are ignored), so the OSV
//! importers are thin; every other feed (RustSec, Alpine secdb, the Debian security tracker,
//! ...) is converted into the same shape, with moat's own typed extensions where OSV uses
//! free-form `database_specific` maps: [`Affected::status`] for distro states (unfixed, will
//! not fix, ...), [`Affected::severity`] for a distro's own rating, [`Advisory::source`] for the
//! feed it came from.
//!
//! Findings made from advisories live in [`crate::finding`]; [`Status`] and [`Severity`]
//! are re-exported here because distro feeds state them per affected package.

pub use crate::finding::{Severity, Status};
use serde::{Deserialize, Serialize};

/// One advisory record (OSV schema 1.6 subset plus moat's typed extensions).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Withdrawn records are stored but never matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// moat: the feed this record came from (`osv:Go`, `rustsec`, `alpine-secdb`,
    /// `debian-tracker`, `debian-dsa`, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// moat: a qualitative rating given by the feed (`CRITICAL`, `HIGH`, `MODERATE`, `LOW`,
    /// Debian urgencies, ...), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
}

/// `severity[]` entry: a score type (`CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`) and vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub url: String,
}

/// One affected package of an advisory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    pub package: AffectedPackage,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Exact affected versions; matched as strings even when they do not parse.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// moat: a distro's state for this package when it is not simply "fixed in X".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// moat: the distro's own rating for this package (Debian urgency, Alpine, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// OSV ecosystem with release where it has one: `Debian:12`, `Alpine:v3.19`, `PyPI`.
    pub ecosystem: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: RangeType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeType {
    Semver,
    Ecosystem,
    Git,
}

/// One range event. OSV writes each as an object with exactly one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_json_deserialises() {
        let j = r#"{"id":"GO-2021-0001","aliases":["CVE-2021-1"],"modified":"2023-01-01T00:00:00Z",
          "affected":[{"package":{"ecosystem":"Go","name":"example.com/x"},
            "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}],
            "versions":["1.0.0"],"ecosystem_specific":{"imports":[]}}],
          "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
          "references":[{"type":"WEB","url":"https://example.com"}],"schema_version":"1.3.1"}"#;
        let a: Advisory = serde_json::from_str(j).unwrap();
        assert_eq!(a.affected[0].ranges[0].kind, RangeType::Semver);
        assert_eq!(
            a.affected[0].ranges[0].events[1],
            Event::Fixed("1.2.3".into())
        );
        assert_eq!(a.severity[0].kind, "CVSS_V3");
    }
}
