//! Advisories (the OSV schema, typed) and findings.
//!
//! [`Advisory`] deserialises OSV JSON directly (unknown fields are ignored), so the OSV
//! importers are thin; every other feed (RustSec, Alpine secdb, the Debian security tracker,
//! ...) is converted into the same shape, with moat's own typed extensions where OSV uses
//! free-form `database_specific` maps: [`Affected::status`] for distro states (unfixed, will
//! not fix, ...), [`Affected::severity`] for a distro's own rating, [`Advisory::source`] for the
//! feed it came from.
//!
//! [`Finding`] is one reported problem; [`ScanReport`] is the inventory document plus
//! findings (moat's JSON report for `moat scan`).

use crate::Inventory;
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

/// A finding's status, in Trivy's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fixed,
    Affected,
    WillNotFix,
    FixDeferred,
    EndOfLife,
    NotAffected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fixed => "fixed",
            Status::Affected => "affected",
            Status::WillNotFix => "will_not_fix",
            Status::FixDeferred => "fix_deferred",
            Status::EndOfLife => "end_of_life",
            Status::NotAffected => "not_affected",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
    /// From a CVSS base score (v3/v4 bands; v2 uses the same cut-offs here).
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Unknown,
        }
    }
    /// From a feed's word (`MODERATE` is medium; Debian `unimportant` is low).
    pub fn from_label(label: &str) -> Option<Severity> {
        Some(match label.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" | "unimportant" => Severity::Low,
            "unknown" | "not yet assigned" => Severity::Unknown,
            _ => return None,
        })
    }
}

/// The package a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingPackage {
    /// The package's id in the inventory.
    pub id: String,
    pub name: String,
    pub version: String,
    pub purl: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// How a finding matched: enough for a person to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchDetail {
    /// The advisory record that matched (before alias collapsing).
    pub advisory: String,
    /// The feed (`Advisory::source`).
    pub source: String,
    /// The ecosystem and package name looked up (for distro packages, the source package).
    pub ecosystem: String,
    pub package: String,
    /// The range or list entry that matched, e.g. `ECOSYSTEM >=0 <2.36-9+deb12u4` or
    /// `versions contains 1.2.3`.
    pub range: String,
    pub installed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
}

/// One reported problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `vulnerability` (later `secret`, `misconfiguration`).
    pub kind: String,
    /// The primary id (a CVE where there is one).
    pub id: String,
    /// Always present (possibly empty).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<FindingPackage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// CVSS vectors with their base scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<CvssScore>,
    /// Listed in CISA's Known Exploited Vulnerabilities catalogue.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kev: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// How it matched (every record that matched, primary first).
    #[serde(default, rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<MatchDetail>,
    /// Set when an ignore entry or a VEX statement suppressed the finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`.
    pub version: String,
    pub vector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// Why a finding is not reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `ignore` (an ignore-file entry) or `vex`.
    pub by: String,
    pub reason: String,
    /// VEX: the statement's status (`not_affected`, `fixed`) and justification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

/// moat's JSON report of `moat scan`: the inventory document plus findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    #[serde(flatten)]
    pub inventory: Inventory,
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub suppressed: Vec<Finding>,
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

    #[test]
    fn severity_words() {
        assert_eq!(Severity::from_label("MODERATE"), Some(Severity::Medium));
        assert_eq!(Severity::from_score(9.8), Severity::Critical);
        assert!(Severity::Critical > Severity::High);
    }
}
