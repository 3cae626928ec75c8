//! Findings of every kind, and the scan report.
//!
//! A [`Finding`] is one reported problem. What every kind shares sits on the finding itself:
//! the id (a vulnerability id, or the id of the secret rule or misconfiguration check), its
//! aliases, severity, status, title, where it is ([`FindingLocation`]: a file with layer and
//! line span, a resource such as `Deployment/ns/name`, or an image-config field) and, once
//! the policy ran, why it was suppressed. What differs sits in [`Detail`], one variant per
//! kind, each saying how the finding was found: the advisory records that matched, the rule
//! and the (redacted) bytes, the check and the offending lines, the runtime rule and event.
//!
//! The serde form puts `kind` first and the detail's fields beside the shared ones, so a
//! vulnerability finding reads as it always has (`package`, `fixed_version`, `match`, ...).
//!
//! Rejected alternatives: one struct with every kind's fields optional (a secret would carry
//! an empty `cvss`, and nothing would say which fields go together); a `serde_json::Value`
//! detail (untyped data spreads through every reporter).

use crate::Inventory;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A finding's status, in Trivy's words. Secrets and misconfigurations are `affected`.
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
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Unknown,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

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

/// The kinds of finding, as `--scanners` and the reports name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Vulnerability,
    Secret,
    Misconfiguration,
    /// An alert of the runtime rule engine.
    Runtime,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Secret => "secret",
            FindingKind::Misconfiguration => "misconfiguration",
            FindingKind::Runtime => "runtime",
        }
    }
}

/// A 1-based line and column span inside a file; columns count characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub start_line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    pub end_line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
}

impl Span {
    /// Whole lines `start..=end`.
    pub fn lines(start: u32, end: u32) -> Span {
        Span {
            start_line: start,
            start_column: None,
            end_line: end,
            end_column: None,
        }
    }
}

/// Where a finding is. Any combination of the parts may be present: a secret has a path, a
/// layer and a span; a Kubernetes misconfiguration a path, a span and a resource; an
/// image-config finding a field; a vulnerability the file its package was found in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingLocation {
    /// A file: absolute inside an image (`/app/.env`), relative to a `dir:` target's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The layer holding that file (its index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// A resource: `Deployment/ns/name`, `Pod/name`, `service:web` (Compose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// A field of the image config: `config.Env`, `history[3].created_by`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl FindingLocation {
    /// A file in a layer.
    pub fn file(path: impl Into<String>, layer: Option<usize>) -> FindingLocation {
        FindingLocation {
            path: Some(path.into()),
            layer,
            ..Default::default()
        }
    }

    /// `path:line` (or the resource, or the field), for one-line displays.
    pub fn display(&self) -> String {
        let mut out = String::new();
        if let Some(p) = &self.path {
            out.push_str(p);
            if let Some(s) = &self.span {
                out.push_str(&format!(":{}", s.start_line));
            }
        }
        for part in [&self.resource, &self.field].into_iter().flatten() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(part);
        }
        out
    }
}

/// The package a vulnerability finding is about.
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

/// How a vulnerability finding matched: enough for a person to check it.
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`.
    pub version: String,
    pub vector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// A known vulnerability in a package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilityDetail {
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
}

/// A secret: which rule matched which bytes.
///
/// Where it is sits in the finding's location: a file's `path`, `layer` and `span`, or, for
/// the image config, a `field` (`config:env/NAME`, `config:label/NAME`, `config:entrypoint`,
/// `config:cmd`, `config:history/N`) and nothing else.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretDetail {
    /// The rule that matched (the finding's id, repeated so that every kind of finding
    /// from a rule says `rule`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rule: String,
    /// The rule's category (`AWS`, `GitHub`, `PrivateKey`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The secret redacted, after the text before it on its line inside the match:
    /// `ghp_***(40)`, `DB_PASSWORD=Sup3***(20)` (the first characters, `***`, the length).
    pub redacted: String,
    /// The secret itself; only when asked for (`--show-secrets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Shannon entropy of the secret in bits per byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f64>,
    /// The file is not in the final image (a later layer deleted or replaced it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The layer that deleted or replaced the file: the secret is gone from the final file
    /// system but still in the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_in_layer: Option<usize>,
    /// In a git repository's history (`git:PATH`): the oldest commit holding the secret's
    /// blob (full hex id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// That commit's author, `Name <email>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// That commit's author date, RFC 3339 in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// A misconfiguration: which check failed, and why.
///
/// Where it is sits in the finding's location: the file's `path`, the offending lines'
/// `span`, and a `resource` inside the file (a Dockerfile's build stage `stage:NAME`, a
/// manifest's `Deployment/ns/name`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MisconfigDetail {
    /// The check that failed (the finding's id, repeated so that every kind of finding
    /// from a rule says `rule`): moat's stable id, `MOAT-DF-001`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rule: String,
    /// What was checked: `dockerfile`, `kubernetes`, `compose`, `image-config`, `rego`.
    pub target_type: String,
    /// What is wrong at this location.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The offending lines, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Labels for filtering: `pss`, the level and the control id of a Pod Security Standards
    /// finding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// An alert of the runtime rule engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeDetail {
    /// The event source (`syscall`, `k8s_audit`).
    pub source: String,
    /// The rule's priority as written (`WARNING`, `CRITICAL`, ...).
    pub priority: String,
    /// The rule's output line with the event's fields filled in.
    pub output: String,
    /// When the event happened (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The event fields the output names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// What is particular to each kind of finding.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Vulnerability(VulnerabilityDetail),
    Secret(SecretDetail),
    Misconfiguration(MisconfigDetail),
    Runtime(RuntimeDetail),
}

impl Detail {
    pub fn kind(&self) -> FindingKind {
        match self {
            Detail::Vulnerability(_) => FindingKind::Vulnerability,
            Detail::Secret(_) => FindingKind::Secret,
            Detail::Misconfiguration(_) => FindingKind::Misconfiguration,
            Detail::Runtime(_) => FindingKind::Runtime,
        }
    }
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

/// One reported problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The vulnerability id (a CVE where there is one), or the rule or check id.
    pub id: String,
    /// Every other id of the same problem (always present in the JSON, possibly empty).
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub status: Status,
    pub title: Option<String>,
    pub location: Option<FindingLocation>,
    pub detail: Detail,
    /// Set when an ignore entry or a VEX statement suppressed the finding.
    pub suppressed: Option<Suppression>,
}

impl Finding {
    /// A finding of `detail`'s kind with no aliases, status `affected`, nothing suppressed.
    pub fn new(id: impl Into<String>, severity: Severity, detail: Detail) -> Finding {
        Finding {
            id: id.into(),
            aliases: Vec::new(),
            severity,
            status: Status::Affected,
            title: None,
            location: None,
            detail,
            suppressed: None,
        }
    }

    pub fn kind(&self) -> FindingKind {
        self.detail.kind()
    }

    /// The vulnerability detail, for vulnerability findings.
    pub fn vulnerability(&self) -> Option<&VulnerabilityDetail> {
        match &self.detail {
            Detail::Vulnerability(v) => Some(v),
            _ => None,
        }
    }

    /// The vulnerability detail, mutably.
    pub fn vulnerability_mut(&mut self) -> Option<&mut VulnerabilityDetail> {
        match &mut self.detail {
            Detail::Vulnerability(v) => Some(v),
            _ => None,
        }
    }

    /// The package, for vulnerability findings.
    pub fn package(&self) -> Option<&FindingPackage> {
        self.vulnerability().and_then(|v| v.package.as_ref())
    }

    /// The file the finding is in (the location's path, else the package's file).
    pub fn path(&self) -> Option<&str> {
        self.location
            .as_ref()
            .and_then(|l| l.path.as_deref())
            .or_else(|| self.package().and_then(|p| p.path.as_deref()))
    }
}

/// The serde form: `kind`, the shared fields, the detail's fields, `suppressed`.
#[derive(Serialize)]
struct FindingOut<'a> {
    kind: FindingKind,
    id: &'a str,
    aliases: &'a [String],
    severity: Severity,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: &'a Option<FindingLocation>,
    #[serde(flatten)]
    detail: DetailOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: &'a Option<Suppression>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum DetailOut<'a> {
    Vulnerability(&'a VulnerabilityDetail),
    Secret(&'a SecretDetail),
    Misconfiguration(&'a MisconfigDetail),
    Runtime(&'a RuntimeDetail),
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FindingOut {
            kind: self.kind(),
            id: &self.id,
            aliases: &self.aliases,
            severity: self.severity,
            status: self.status,
            title: &self.title,
            location: &self.location,
            detail: match &self.detail {
                Detail::Vulnerability(d) => DetailOut::Vulnerability(d),
                Detail::Secret(d) => DetailOut::Secret(d),
                Detail::Misconfiguration(d) => DetailOut::Misconfiguration(d),
                Detail::Runtime(d) => DetailOut::Runtime(d),
            },
            suppressed: &self.suppressed,
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct FindingIn {
    kind: FindingKind,
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
    severity: Severity,
    status: Status,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    location: Option<FindingLocation>,
    #[serde(default)]
    suppressed: Option<Suppression>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Finding, D::Error> {
        use serde::de::Error;
        let raw = FindingIn::deserialize(d)?;
        let rest = serde_json::Value::Object(raw.rest);
        let detail = match raw.kind {
            FindingKind::Vulnerability => serde_json::from_value(rest).map(Detail::Vulnerability),
            FindingKind::Secret => serde_json::from_value(rest).map(Detail::Secret),
            FindingKind::Misconfiguration => {
                serde_json::from_value(rest).map(Detail::Misconfiguration)
            }
            FindingKind::Runtime => serde_json::from_value(rest).map(Detail::Runtime),
        }
        .map_err(D::Error::custom)?;
        Ok(Finding {
            id: raw.id,
            aliases: raw.aliases,
            severity: raw.severity,
            status: raw.status,
            title: raw.title,
            location: raw.location,
            detail,
            suppressed: raw.suppressed,
        })
    }
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
    fn severity_words() {
        assert_eq!(Severity::from_label("MODERATE"), Some(Severity::Medium));
        assert_eq!(Severity::from_score(9.8), Severity::Critical);
        assert!(Severity::Critical > Severity::High);
    }

    #[test]
    fn every_kind_round_trips_with_kind_first() {
        let mut secret = Finding::new(
            "aws-access-key-id",
            Severity::Critical,
            Detail::Secret(SecretDetail {
                rule: "aws-access-key-id".into(),
                category: Some("AWS".into()),
                redacted: "AKIA***(20)".into(),
                value: None,
                entropy: None,
                deleted: true,
                deleted_in_layer: Some(3),
                ..Default::default()
            }),
        );
        secret.location = Some(FindingLocation {
            span: Some(Span::lines(3, 3)),
            ..FindingLocation::file("/app/.env", Some(2))
        });
        let vuln = Finding::new(
            "CVE-2023-1",
            Severity::High,
            Detail::Vulnerability(VulnerabilityDetail {
                fixed_version: Some("1.2".into()),
                ..Default::default()
            }),
        );
        let misconfig = Finding::new(
            "DS002",
            Severity::High,
            Detail::Misconfiguration(MisconfigDetail {
                target_type: "dockerfile".into(),
                message: "runs as root".into(),
                ..Default::default()
            }),
        );
        let runtime = Finding::new(
            "Terminal shell in container",
            Severity::Medium,
            Detail::Runtime(RuntimeDetail {
                source: "syscall".into(),
                priority: "NOTICE".into(),
                output: "shell".into(),
                ..Default::default()
            }),
        );
        for f in [secret, vuln, misconfig, runtime] {
            let j = serde_json::to_string(&f).unwrap();
            assert!(j.starts_with(&format!(r#"{{"kind":"{}""#, f.kind().as_str())));
            let back: Finding = serde_json::from_str(&j).unwrap();
            assert_eq!(back, f);
        }
    }

    #[test]
    fn vulnerability_json_keeps_its_fields_beside_the_shared_ones() {
        let f = Finding::new(
            "CVE-1",
            Severity::Low,
            Detail::Vulnerability(VulnerabilityDetail {
                fixed_version: Some("2".into()),
                ..Default::default()
            }),
        );
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"kind":"vulnerability","id":"CVE-1","aliases":[],"severity":"LOW","status":"affected","fixed_version":"2"}"#
        );
    }
}
