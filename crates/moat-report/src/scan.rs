//! The reports of `moat scan`: a [`ScanReport`] in, bytes out.
//!
//! | function | output |
//! |---|---|
//! | [`scan_json`] | moat's JSON report: the inventory document plus `findings` (and `suppressed`) |
//! | [`sarif`] | SARIF 2.1.0, one run, one rule per vulnerability id |
//! | [`cyclonedx_vulns`] | the CycloneDX 1.6 SBOM of [`crate::cyclonedx`] plus `vulnerabilities[]` |
//! | [`scan_table`] | a human table grouped by package, severities coloured on a terminal |
//!
//! Like the SBOM reporters these are pure functions: the same report and options give the
//! same bytes. Findings are put in one fixed order before rendering (severity, highest
//! first, then id, package name, version and package id), so the output does not depend on
//! the order in which the matcher produced them.
//!
//! ## SARIF
//!
//! One rule per finding id (the rule of an id that several packages share is described once;
//! its `security-severity` is the highest CVSS base score of those findings, or a
//! representative score of the severity band when no finding has one: 9.5, 8.0, 5.5, 2.0).
//! One result per finding: `level` is `error` for CRITICAL and HIGH, `warning` for MEDIUM,
//! `note` otherwise; the physical location is the file the package was found in (its path
//! without the leading `/`, percent-encoded as a URI reference), or the scanned artifact's
//! path; a logical location names the package's purl. Suppressed findings are results too,
//! with a SARIF `suppressions` entry (kind `external`, the reason as justification), which
//! is how code-scanning services learn that they are dismissed. `partialFingerprints`
//! hash the id, the purl and the location so that a re-scan keeps the alert identity.
//!
//! ## CycloneDX
//!
//! The document is exactly the SBOM of [`crate::cyclonedx`] (same components, same
//! `bom-ref`s) with a `vulnerabilities` array, one entry per finding. Ratings: the
//! finding's own severity (the one moat reports, which may be a distro's rating), then one
//! rating per CVSS vector with its score and method (`CVSSv2`, `CVSSv3`, `CVSSv31`,
//! `CVSSv4`). Aliases become `references`, reference URLs `advisories`. Findings
//! suppressed by VEX are included with an `analysis` (state `not_affected`, or `resolved`
//! for a VEX `fixed` statement; the OpenVEX justification mapped to CycloneDX's enum where
//! one fits, the statement always kept in `detail`) and their version marked `unaffected`;
//! findings hidden by an ignore-file entry are left out, as they are from the listing.
//!
//! ## Table
//!
//! A header (artifact, OS, counts per severity, suppressed count), then one block per
//! package (`name version (type)`, then rows ID, SEVERITY, STATUS, FIXED, TITLE), then a
//! short list of the suppressed findings. Widths are terminal cells ([`crate::table`]'s
//! width function); the title is cut to fit the total width ([`DEFAULT_WIDTH`] for
//! [`scan_table`], any width with [`scan_table_width`]). Text from advisories and images
//! has its control characters replaced before it reaches the terminal.

use crate::table::{clean, pad, width};
use crate::{Prepared, RenderOptions, to_pretty};
use moat_model::finding::VulnerabilityDetail;
use moat_model::{Finding, ScanReport, Severity};
use moat_model::{Inventory, Package};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// The vulnerability detail of a finding (empty for other kinds).
fn vd(f: &Finding) -> &VulnerabilityDetail {
    static EMPTY: std::sync::OnceLock<VulnerabilityDetail> = std::sync::OnceLock::new();
    f.vulnerability()
        .unwrap_or_else(|| EMPTY.get_or_init(VulnerabilityDetail::default))
}

/// Where SARIF consumers send people who want to know what produced the results.
const INFORMATION_URI: &str = "https://example.invalid/moat";
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Total width of [`scan_table`] in terminal cells.
pub const DEFAULT_WIDTH: usize = 120;

/// moat's JSON report: the inventory document plus `findings` (and `suppressed` when there
/// are any), pretty-printed, with a trailing newline.
pub fn scan_json(r: &ScanReport) -> Vec<u8> {
    to_pretty(r)
}

/// A SARIF 2.1.0 log with one run.
pub fn sarif(r: &ScanReport, _o: &RenderOptions) -> Vec<u8> {
    to_pretty(&build_sarif(r))
}

/// The CycloneDX 1.6 SBOM of the inventory with a `vulnerabilities` section.
pub fn cyclonedx_vulns(r: &ScanReport, o: &RenderOptions) -> Vec<u8> {
    let bom = crate::cyclonedx::build(&r.inventory, o);
    let vulnerabilities = build_vulnerabilities(r);
    to_pretty(&BomWithVulns {
        bom,
        vulnerabilities,
    })
}

/// The readable table, [`DEFAULT_WIDTH`] cells wide.
pub fn scan_table(r: &ScanReport, o: &RenderOptions) -> String {
    scan_table_width(r, o, DEFAULT_WIDTH)
}

/// The readable table cut to `total_width` terminal cells (titles are shortened; at least
/// a few cells of title are always shown).
pub fn scan_table_width(r: &ScanReport, o: &RenderOptions, total_width: usize) -> String {
    render_table(r, o, total_width)
}

// ---------------------------------------------------------------------------------------
// shared

/// Findings in output order: severity (highest first), id, package name, version, id.
fn ordered(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| pkg_key(a).cmp(&pkg_key(b)))
    });
    v
}

fn pkg_key(f: &Finding) -> (&str, &str, &str) {
    match f.package() {
        Some(p) => (p.name.as_str(), p.version.as_str(), p.id.as_str()),
        None => ("", "", ""),
    }
}

/// The package of the inventory a finding is about (by id, else by name and version).
fn inventory_package<'a>(inv: &'a Inventory, f: &Finding) -> Option<&'a Package> {
    let fp = f.package()?;
    inv.packages.iter().find(|p| p.id == fp.id).or_else(|| {
        inv.packages
            .iter()
            .find(|p| p.name == fp.name && p.version == fp.version)
    })
}

/// The CVSS base score moat would show for a finding: the newest CVSS version that has a
/// score (v4, then v3, then v2).
fn best_score(f: &Finding) -> Option<f64> {
    let rank = |v: &str| match v {
        "CVSS_V4" => 3,
        "CVSS_V3" => 2,
        "CVSS_V2" => 1,
        _ => 0,
    };
    vd(f)
        .cvss
        .iter()
        .filter_map(|c| {
            c.score
                .filter(|s| s.is_finite())
                .map(|s| (rank(&c.version), s))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, s)| s)
}

fn is_vex(f: &Finding) -> bool {
    f.suppressed.as_ref().is_some_and(|s| s.by == "vex")
}

// ---------------------------------------------------------------------------------------
// SARIF

#[derive(Serialize)]
struct SarifLog {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: SarifTool,
    results: Vec<SarifResult>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct SarifTool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: String,
    version: String,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<String>,
    precision: &'static str,
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SarifSuppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct SarifSuppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    severity: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    installed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    kev: bool,
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// A score in the middle of the band GitHub maps to each severity, for findings without a
/// CVSS score. UNKNOWN gets none.
fn band_score(s: Severity) -> Option<f64> {
    match s {
        Severity::Critical => Some(9.5),
        Severity::High => Some(8.0),
        Severity::Medium => Some(5.5),
        Severity::Low => Some(2.0),
        Severity::Unknown => None,
    }
}

/// `1.0` style: one decimal, as CVSS writes base scores.
fn score_text(s: f64) -> String {
    format!("{:.1}", s.clamp(0.0, 10.0))
}

/// Percent-encodes a path into a URI reference: unreserved characters, `/` and a few
/// sub-delimiters stay; everything else (spaces, `:`, `%`, `#`, `?`, non-ASCII) is encoded.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.trim_start_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b'+' | b'@')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// The file a finding points at: the finding's path, else the package's first location,
/// else the scanned artifact.
fn finding_path(inv: &Inventory, f: &Finding) -> String {
    f.package()
        .and_then(|p| p.path.clone())
        .or_else(|| {
            inventory_package(inv, f)
                .and_then(|p| p.locations.first())
                .map(|l| l.path.clone())
        })
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| inv.artifact.path.clone())
}

fn sarif_message(f: &Finding) -> String {
    let mut m = match f.package() {
        Some(p) => format!(
            "Package: {}\nInstalled Version: {}\nVulnerability {}\nSeverity: {}",
            p.name,
            p.version,
            f.id,
            f.severity.as_str()
        ),
        None => format!("Vulnerability {}\nSeverity: {}", f.id, f.severity.as_str()),
    };
    match &vd(f).fixed_version {
        Some(v) => m.push_str(&format!("\nFixed Version: {v}")),
        None => m.push_str(&format!("\nFixed Version: none ({})", f.status.as_str())),
    }
    if vd(f).kev {
        m.push_str("\nKnown exploited (CISA KEV)");
    }
    if let Some(t) = &f.title {
        m.push_str(&format!("\n{t}"));
    }
    m
}

fn build_sarif(r: &ScanReport) -> SarifLog {
    let inv = &r.inventory;
    let mut all: Vec<&Finding> = ordered(&r.findings);
    all.extend(ordered(&r.suppressed));

    // one rule per id, in order of first appearance
    let mut rule_index: HashMap<&str, usize> = HashMap::new();
    let mut rules: Vec<Rule> = Vec::new();
    let mut scores: Vec<Option<f64>> = Vec::new();
    for f in &all {
        let score = best_score(f);
        if let Some(&i) = rule_index.get(f.id.as_str()) {
            if let Some(s) = score
                && scores[i].is_none_or(|old| s > old)
            {
                scores[i] = Some(s);
            }
            continue;
        }
        rule_index.insert(f.id.as_str(), rules.len());
        scores.push(score);
        rules.push(rule(f));
    }
    for (rule, score) in rules.iter_mut().zip(&scores) {
        if let Some(s) = score {
            rule.properties.security_severity = Some(score_text(*s));
        }
    }

    let results = all
        .iter()
        .map(|f| {
            let path = finding_path(inv, f);
            let purl = f.package().map(|p| p.purl.clone()).unwrap_or_default();
            let logical = f
                .package()
                .filter(|p| !p.purl.is_empty())
                .map(|p| LogicalLocation {
                    name: p.name.clone(),
                    fully_qualified_name: p.purl.clone(),
                    kind: "package",
                })
                .into_iter()
                .collect();
            let mut h = Sha256::new();
            for part in [f.id.as_str(), purl.as_str(), path.as_str()] {
                h.update(part.as_bytes());
                h.update([0u8]);
            }
            let fingerprint = hex::encode(&h.finalize()[..16]);
            let suppressions = f
                .suppressed
                .as_ref()
                .map(|s| SarifSuppression {
                    kind: "external",
                    status: "accepted",
                    justification: match &s.justification {
                        Some(j) => format!("{}: {} ({j})", s.by, s.reason),
                        None => format!("{}: {}", s.by, s.reason),
                    },
                })
                .into_iter()
                .collect();
            SarifResult {
                rule_id: f.id.clone(),
                rule_index: rule_index.get(f.id.as_str()).copied().unwrap_or(0),
                level: sarif_level(f.severity),
                message: Text {
                    text: sarif_message(f),
                },
                locations: vec![SarifLocation {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: uri_path(&path),
                        },
                    },
                    logical_locations: logical,
                }],
                partial_fingerprints: [("moatFinding/v1", fingerprint)].into_iter().collect(),
                suppressions,
                properties: ResultProperties {
                    severity: f.severity.as_str(),
                    status: f.status.as_str(),
                    package: f.package().map(|p| p.name.clone()),
                    installed_version: f.package().map(|p| p.version.clone()),
                    fixed_version: vd(f).fixed_version.clone(),
                    layer: f.package().and_then(|p| p.layer),
                    aliases: f.aliases.clone(),
                    kev: vd(f).kev,
                },
            }
        })
        .collect();

    SarifLog {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: SarifTool {
                driver: Driver {
                    name: if inv.tool.name.trim().is_empty() {
                        "moat".to_string()
                    } else {
                        inv.tool.name.clone()
                    },
                    version: inv.tool.version.clone(),
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            results,
            column_kind: "unicodeCodePoints",
        }],
    }
}

fn rule(f: &Finding) -> Rule {
    let title = f
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| f.id.clone());
    let mut full = title.clone();
    if !f.aliases.is_empty() {
        full.push_str(&format!(" (aliases: {})", f.aliases.join(", ")));
    }
    let help_uri = vd(f).references.first().cloned();
    let mut text = format!("Vulnerability {}\nSeverity: {}", f.id, f.severity.as_str());
    let mut markdown = format!(
        "**Vulnerability {}**\n\n| Severity | Aliases |\n| --- | --- |\n| {} | {} |\n",
        f.id,
        f.severity.as_str(),
        if f.aliases.is_empty() {
            "-".to_string()
        } else {
            f.aliases.join(", ")
        }
    );
    text.push_str(&format!("\n{title}"));
    markdown.push_str(&format!("\n{title}\n"));
    if !vd(f).references.is_empty() {
        text.push_str("\nReferences:");
        markdown.push_str("\n#### References\n");
        for r in &vd(f).references {
            text.push_str(&format!("\n{r}"));
            markdown.push_str(&format!("- {r}\n"));
        }
    }
    let mut tags = vec![
        "vulnerability".to_string(),
        "security".to_string(),
        f.severity.as_str().to_string(),
    ];
    if vd(f).kev {
        tags.push("known-exploited".to_string());
    }
    Rule {
        id: f.id.clone(),
        name: match f.package().and_then(|p| p.purl.strip_prefix("pkg:")) {
            Some(p) if ["deb/", "apk/", "rpm/"].iter().any(|t| p.starts_with(t)) => {
                "OsPackageVulnerability"
            }
            Some(_) => "LanguagePackageVulnerability",
            None => "Vulnerability",
        }
        .to_string(),
        short_description: Text {
            text: title.clone(),
        },
        full_description: Text { text: full },
        help_uri,
        help: Help { text, markdown },
        default_configuration: Configuration {
            level: sarif_level(f.severity),
        },
        properties: RuleProperties {
            security_severity: band_score(f.severity).map(score_text),
            precision: "very-high",
            tags,
        },
    }
}

// ---------------------------------------------------------------------------------------
// CycloneDX vulnerabilities

#[derive(Serialize)]
struct BomWithVulns {
    #[serde(flatten)]
    bom: crate::cyclonedx::Bom,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability>,
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
    for f in all {
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

// ---------------------------------------------------------------------------------------
// table

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const GAP: &str = "  ";
const INDENT: &str = "  ";
/// Fewest title cells shown however narrow the table is.
const MIN_TITLE: usize = 10;

fn colour(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Critical => Some("\x1b[1;31m"),
        Severity::High => Some("\x1b[31m"),
        Severity::Medium => Some("\x1b[33m"),
        Severity::Low => Some("\x1b[34m"),
        Severity::Unknown => None,
    }
}

/// Cuts a (cleaned) string to at most `max` cells, ending in `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = width(c.encode_utf8(&mut [0u8; 4]));
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Title text on one line: whitespace runs (newlines included) become one space.
fn one_line(s: &str) -> String {
    clean(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn os_name(inv: &Inventory) -> String {
    match &inv.artifact.os {
        Some(os) if !os.name.trim().is_empty() => os.name.clone(),
        Some(os) if !os.id.trim().is_empty() => match &os.version {
            Some(v) => format!("{} {v}", os.id),
            None => os.id.clone(),
        },
        _ => "unknown".to_string(),
    }
}

fn render_table(r: &ScanReport, o: &RenderOptions, total_width: usize) -> String {
    let inv = &r.inventory;
    let bold = |s: &str| {
        if o.color {
            format!("{BOLD}{s}{RESET}")
        } else {
            s.to_string()
        }
    };
    let name = if inv.artifact.name.trim().is_empty() {
        "unknown"
    } else {
        inv.artifact.name.as_str()
    };

    let mut out = String::new();
    out.push_str(&bold(&clean(&format!("{name}  OS: {}", os_name(inv)))));
    out.push('\n');

    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in &r.findings {
        *counts.entry(f.severity).or_default() += 1;
    }
    let sev_order = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];
    let per: Vec<String> = sev_order
        .iter()
        .map(|s| {
            let text = format!("{}: {}", s.as_str(), counts.get(s).copied().unwrap_or(0));
            match colour(*s) {
                Some(c) if o.color => format!("{c}{text}{RESET}"),
                _ => text,
            }
        })
        .collect();
    let ignored = r
        .suppressed
        .iter()
        .filter(|f| f.suppressed.as_ref().is_none_or(|s| s.by != "vex"))
        .count();
    let vex = r.suppressed.len() - ignored;
    out.push_str(&format!(
        "Total: {} ({})  Suppressed: {} (ignored: {ignored}, VEX: {vex})\n\n",
        r.findings.len(),
        per.join(", "),
        r.suppressed.len()
    ));

    if r.findings.is_empty() {
        out.push_str("No vulnerabilities found.\n");
    } else {
        // group by package, packages in (name, version, id) order, findings by severity
        let mut groups: BTreeMap<(String, String, String), Vec<&Finding>> = BTreeMap::new();
        for f in ordered(&r.findings) {
            let key = match f.package() {
                Some(p) => (p.name.clone(), p.version.clone(), p.id.clone()),
                None => (String::new(), String::new(), String::new()),
            };
            groups.entry(key).or_default().push(f);
        }
        let header = ["ID", "SEVERITY", "STATUS", "FIXED"].map(str::to_string);
        let row_of = |f: &Finding| {
            [
                clean(&f.id),
                f.severity.as_str().to_string(),
                f.status.as_str().to_string(),
                clean(vd(f).fixed_version.as_deref().unwrap_or("-")),
            ]
        };
        let mut widths = header.clone().map(|h| width(&h));
        for f in &r.findings {
            for (w, cell) in widths.iter_mut().zip(row_of(f)) {
                *w = (*w).max(width(&cell));
            }
        }
        let used = width(INDENT) + widths.iter().map(|w| w + GAP.len()).sum::<usize>();
        let title_width = total_width.saturating_sub(used).max(MIN_TITLE);
        let line = |cells: &[String; 4], sev: Option<Severity>, title: &str| {
            let mut l = String::from(INDENT);
            for (i, cell) in cells.iter().enumerate() {
                let padded = pad(cell, widths[i]);
                match sev.and_then(colour) {
                    Some(c) if i == 1 && o.color => {
                        l.push_str(c);
                        l.push_str(cell);
                        l.push_str(RESET);
                        l.push_str(&padded[cell.len()..]);
                    }
                    _ => l.push_str(&padded),
                }
                l.push_str(GAP);
            }
            l.push_str(title);
            l.trim_end().to_string()
        };
        let mut first = true;
        for ((name, version, _), findings) in &groups {
            if !first {
                out.push('\n');
            }
            first = false;
            let kind = findings
                .first()
                .and_then(|f| inventory_package(inv, f))
                .map(|p| format!(" ({})", clean(&p.kind)))
                .unwrap_or_default();
            let label = if name.is_empty() {
                "(no package)".to_string()
            } else {
                format!("{} {}{kind}", clean(name), clean(version))
            };
            out.push_str(&bold(&label));
            out.push('\n');
            out.push_str(&bold(&line(&header, None, "TITLE")));
            out.push('\n');
            for f in findings {
                let mut title = one_line(f.title.as_deref().unwrap_or(""));
                if vd(f).kev {
                    title = format!("[KEV] {title}");
                }
                let title = truncate(title.trim(), title_width);
                out.push_str(&line(&row_of(f), Some(f.severity), &title));
                out.push('\n');
            }
        }
    }

    if !r.suppressed.is_empty() {
        out.push('\n');
        out.push_str(&bold("Suppressed"));
        out.push('\n');
        for f in ordered(&r.suppressed) {
            let pkg = f
                .package()
                .map(|p| format!(" in {} {}", p.name, p.version))
                .unwrap_or_default();
            let why = match &f.suppressed {
                Some(s) => match &s.justification {
                    Some(j) => format!("{}: {} ({j})", s.by, s.reason),
                    None => format!("{}: {}", s.by, s.reason),
                },
                None => String::new(),
            };
            let text = format!("{}{}: {}", one_line(&f.id), one_line(&pkg), one_line(&why));
            out.push_str(INDENT);
            out.push_str(&truncate(
                &text,
                total_width.saturating_sub(INDENT.len()).max(MIN_TITLE),
            ));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_are_relative_references() {
        assert_eq!(uri_path("/var/lib/dpkg/status"), "var/lib/dpkg/status");
        assert_eq!(uri_path("/tmp/debian:12 x.tar"), "tmp/debian%3A12%20x.tar");
        assert_eq!(uri_path("/"), ".");
    }

    #[test]
    fn truncation_counts_cells() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("日本語日本語", 5), "日本…");
    }

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
