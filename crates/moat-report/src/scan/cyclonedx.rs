//! CycloneDX 1.6 (<https://cyclonedx.org/docs/1.6/json/>): the SBOM plus `vulnerabilities`.
//!
//! The document is exactly the SBOM of [`crate::cyclonedx`] (same components, same
//! `bom-ref`s) with a `vulnerabilities` array, one entry per vulnerability finding.
//! Ratings: the finding's own severity (the one moat reports, which may be a distro's
//! rating), then one rating per CVSS vector with its score and method (`CVSSv2`,
//! `CVSSv3`, `CVSSv31`, `CVSSv4`). Aliases become `references`, reference URLs
//! `advisories`. Findings suppressed by VEX are included with an `analysis` (state
//! `not_affected`, or `resolved` for a VEX `fixed` statement; the OpenVEX justification
//! mapped to CycloneDX's enum where one fits, the statement always kept in `detail`) and
//! their version marked `unaffected`; findings hidden by an ignore-file entry are left out,
//! as they are from the listing. A finding on a package the SBOM does not list is left out
//! rather than pointing at a component that is not there.
//!
//! **Secrets, misconfigurations and runtime alerts are not in this document.** CycloneDX
//! 1.6 has no section for them: `vulnerabilities[]` entries must affect components and
//! carry advisory-shaped data, and bending a leaked credential or a Dockerfile check into
//! that shape would mislead every tool that reads the array as "known vulnerabilities of
//! these components" (Dependency-Track, VEX workflows). Carrying them as free-form
//! properties was rejected too: properties are unqueryable strings, and a secret's
//! location travelling inside an SBOM that is published with the image is a disclosure of
//! its own. What the document does say is how many were left out, so nobody mistakes it
//! for the whole report: a document-level property `moat:omitted:<kind>` (`secret`,
//! `misconfiguration`, `runtime`) with the number of unsuppressed findings of that kind.
//! The JSON report and SARIF carry every kind.

use super::{inventory_package, is_vex, ordered, vd};
use crate::{Prepared, RenderOptions};
use moat_model::{Finding, FindingKind, ScanReport, Severity};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Serialize)]
pub(super) struct BomWithVulns {
    #[serde(flatten)]
    bom: crate::cyclonedx::Bom,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

pub(super) fn build(r: &ScanReport, o: &RenderOptions) -> BomWithVulns {
    BomWithVulns {
        bom: crate::cyclonedx::build(&r.inventory, o),
        vulnerabilities: build_vulnerabilities(r),
        properties: omitted(r),
    }
}

/// `moat:omitted:<kind>` = how many unsuppressed findings of a kind this format cannot carry.
fn omitted(r: &ScanReport) -> Vec<Property> {
    let mut counts: BTreeMap<FindingKind, usize> = BTreeMap::new();
    for f in r
        .findings
        .iter()
        .filter(|f| f.kind() != FindingKind::Vulnerability)
    {
        *counts.entry(f.kind()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(kind, n)| Property {
            name: format!("moat:omitted:{}", kind.as_str()),
            value: n.to_string(),
        })
        .collect()
}

#[derive(Serialize)]
struct Vulnerability {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    id: String,
    source: Source,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<VulnReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ratings: Vec<Rating>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommendation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisories: Vec<Advisory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Analysis>,
    affects: Vec<Affects>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Source {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct VulnReference {
    id: String,
    source: Source,
}

#[derive(Serialize)]
struct Rating {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<String>,
}

#[derive(Serialize)]
struct Advisory {
    url: String,
}

#[derive(Serialize)]
struct Analysis {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    detail: String,
}

#[derive(Serialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: String,
    versions: Vec<AffectedVersion>,
}

#[derive(Serialize)]
struct AffectedVersion {
    version: String,
    status: &'static str,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

fn cdx_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Unknown => "unknown",
    }
}

/// CycloneDX's rating method for a CVSS entry: by the vector's own prefix where it has
/// one (`CVSS:3.0/`, `CVSS:3.1/`, `CVSS:4.0/`), else by moat's version label.
fn cvss_method(version: &str, vector: &str) -> Option<&'static str> {
    if vector.starts_with("CVSS:4") {
        return Some("CVSSv4");
    }
    if vector.starts_with("CVSS:3.1") {
        return Some("CVSSv31");
    }
    if vector.starts_with("CVSS:3") {
        return Some("CVSSv3");
    }
    match version {
        "CVSS_V2" => Some("CVSSv2"),
        "CVSS_V3" => Some("CVSSv3"),
        "CVSS_V4" => Some("CVSSv4"),
        _ => None,
    }
}

/// The database an id comes from, by its prefix.
fn id_source(id: &str) -> &'static str {
    let prefix = id.split('-').next().unwrap_or("");
    match prefix {
        "CVE" => "NVD",
        "GHSA" => "GitHub Advisory Database",
        "PYSEC" => "PyPA Advisory Database",
        "RUSTSEC" => "RustSec Advisory Database",
        "GO" => "Go Vulnerability Database",
        "DSA" | "DLA" | "DTSA" | "DEBIAN" => "Debian Security Tracker",
        "USN" => "Ubuntu Security Notices",
        "ALSA" => "AlmaLinux Security Advisories",
        "RHSA" | "RHBA" | "RHEA" => "Red Hat Security Advisories",
        _ => "OSV",
    }
}

/// OpenVEX justification (as found in the suppression's text) -> CycloneDX's enum.
fn cdx_justification(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    // longest first: `vulnerable_code_not_present` contains no other key, but
    // `vulnerable_code_not_in_execute_path` must win over a bare `not_present` check.
    let table: [(&str, &str); 5] = [
        ("vulnerable_code_not_in_execute_path", "code_not_reachable"),
        ("vulnerable_code_not_present", "code_not_present"),
        ("component_not_present", "code_not_present"),
        (
            "vulnerable_code_cannot_be_controlled_by_adversary",
            "requires_environment",
        ),
        (
            "inline_mitigations_already_exist",
            "protected_by_mitigating_control",
        ),
    ];
    table
        .iter()
        .find(|(vex, _)| t.contains(vex))
        .map(|(_, cdx)| *cdx)
}

fn analysis(f: &Finding) -> Option<Analysis> {
    let s = f.suppressed.as_ref().filter(|s| s.by == "vex")?;
    let just = s.justification.as_deref().unwrap_or("");
    // moat's policy puts the VEX status in `reason` and the justification beside it
    let fixed = s.reason.eq_ignore_ascii_case("fixed") || {
        let j = just.to_ascii_lowercase();
        j.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|w| w == "fixed")
    };
    let detail = match &s.justification {
        Some(j) if !j.is_empty() => format!("{} (VEX: {j})", s.reason),
        _ => format!("{} (VEX)", s.reason),
    };
    Some(Analysis {
        state: if fixed { "resolved" } else { "not_affected" },
        justification: if fixed { None } else { cdx_justification(just) },
        detail: detail.trim().to_string(),
    })
}

fn build_vulnerabilities(r: &ScanReport) -> Vec<Vulnerability> {
    let inv = &r.inventory;
    let prepared = Prepared::new(inv);
    let mut ref_of: HashMap<&str, &str> = HashMap::new();
    for (p, rf) in prepared.packages.iter().zip(&prepared.refs) {
        ref_of.entry(p.id.as_str()).or_insert(rf.as_str());
    }
    let mut taken: Vec<String> = Vec::new();

    let mut all = ordered(&r.findings);
    all.extend(ordered(&r.suppressed).into_iter().filter(|f| is_vex(f)));

    let mut out = Vec::with_capacity(all.len());
    for f in all
        .into_iter()
        .filter(|f| f.kind() == FindingKind::Vulnerability)
    {
        // a finding on a package the SBOM does not list cannot be linked; leave it out
        // rather than emit a dangling reference
        let Some(pkg_ref) = f.package().and_then(|p| {
            ref_of.get(p.id.as_str()).copied().or_else(|| {
                inventory_package(inv, f).and_then(|q| ref_of.get(q.id.as_str()).copied())
            })
        }) else {
            continue;
        };
        let want = format!("vuln:{}:{pkg_ref}", f.id);
        let taken_refs: Vec<&str> = taken.iter().map(String::as_str).collect();
        let bom_ref = prepared.extra_ref(&want, &taken_refs);
        taken.push(bom_ref.clone());

        let source_name = vd(f)
            .matched
            .first()
            .map(|m| m.source.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| id_source(&f.id).to_string());
        let mut ratings = vec![Rating {
            source: Some(Source {
                name: source_name.clone(),
                url: None,
            }),
            score: None,
            severity: cdx_severity(f.severity),
            method: Some("other"),
            vector: None,
        }];
        for c in &vd(f).cvss {
            ratings.push(Rating {
                source: None,
                score: c.score.filter(|s| s.is_finite()),
                severity: cdx_severity(
                    c.score
                        .filter(|s| s.is_finite())
                        .map_or(Severity::Unknown, Severity::from_score),
                ),
                method: cvss_method(&c.version, &c.vector),
                vector: Some(c.vector.clone()).filter(|v| !v.is_empty()),
            });
        }
        let analysis = analysis(f);
        let installed = f.package().map(|p| p.version.clone()).unwrap_or_default();
        let status = match &analysis {
            Some(_) => "unaffected",
            None => "affected",
        };
        let mut properties = Vec::new();
        properties.push(Property {
            name: "moat:finding:status".into(),
            value: f.status.as_str().into(),
        });
        if vd(f).kev {
            properties.push(Property {
                name: "moat:finding:kev".into(),
                value: "true".into(),
            });
        }
        if let Some(l) = f.package().and_then(|p| p.layer) {
            properties.push(Property {
                name: "moat:finding:layer".into(),
                value: l.to_string(),
            });
        }
        out.push(Vulnerability {
            bom_ref,
            id: f.id.clone(),
            source: Source {
                name: source_name,
                url: None,
            },
            references: f
                .aliases
                .iter()
                .filter(|a| *a != &f.id)
                .map(|a| VulnReference {
                    id: a.clone(),
                    source: Source {
                        name: id_source(a).to_string(),
                        url: None,
                    },
                })
                .collect(),
            ratings,
            description: f.title.clone().filter(|t| !t.trim().is_empty()),
            recommendation: vd(f)
                .fixed_version
                .as_ref()
                .map(|v| format!("Upgrade to {v}")),
            advisories: vd(f)
                .references
                .iter()
                .filter(|u| !u.trim().is_empty())
                .map(|u| Advisory { url: u.clone() })
                .collect(),
            analysis,
            affects: vec![Affects {
                reference: pkg_ref.to_string(),
                versions: vec![AffectedVersion {
                    version: installed,
                    status,
                }]
                .into_iter()
                .filter(|v| !v.version.is_empty())
                .collect(),
            }],
            properties,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_follow_the_vector() {
        assert_eq!(cvss_method("CVSS_V3", "CVSS:3.1/AV:N"), Some("CVSSv31"));
        assert_eq!(cvss_method("CVSS_V3", "CVSS:3.0/AV:N"), Some("CVSSv3"));
        assert_eq!(cvss_method("CVSS_V2", "AV:N/AC:L"), Some("CVSSv2"));
        assert_eq!(cvss_method("CVSS_V4", "CVSS:4.0/AV:N"), Some("CVSSv4"));
    }

    #[test]
    fn vex_justifications_map() {
        assert_eq!(
            cdx_justification("not_affected: vulnerable_code_not_in_execute_path"),
            Some("code_not_reachable")
        );
        assert_eq!(
            cdx_justification("component_not_present"),
            Some("code_not_present")
        );
        assert_eq!(cdx_justification("because"), None);
    }
}
