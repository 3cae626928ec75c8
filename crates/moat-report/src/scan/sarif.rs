//! SARIF 2.1.0 (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/>): one run, one rule per
//! finding id, one result per finding, for every kind of finding.
//!
//! **Rules.** The rule of an id that several findings share is described once, from the
//! first of them in output order. Its `properties.tags` name the kind (`vulnerability`,
//! `secret`, `misconfiguration`, `runtime`), `security`, the severity, and what else
//! classifies it (`known-exploited` for a KEV entry, the misconfiguration's target type,
//! the runtime rule's own tags). `security-severity` (the number code-scanning services
//! sort by) is, for vulnerabilities, the highest CVSS base score of the rule's findings;
//! for everything else, and for vulnerabilities without a score, a representative score of
//! the severity band: 9.5, 8.0, 5.5, 2.0 (none for UNKNOWN). The help text and markdown
//! say the kind, id, severity, title and the kind's particulars (category, resolution,
//! runtime tags), then the references.
//!
//! **Results.** `level` is `error` for CRITICAL and HIGH, `warning` for MEDIUM, `note`
//! otherwise. The physical location is the finding's file (its location's path, else the
//! file its package was found in, else the package's first location in the inventory, else
//! the scanned artifact), without the leading `/` and percent-encoded as a URI reference;
//! when the location has a line span it becomes a `region` (`startLine`, `endLine`, and
//! `startColumn`/`endColumn` when the span has columns; columns count Unicode code points,
//! as the run's `columnKind` says, and the end column is passed through as the model holds
//! it, the column after the last character as SARIF reads it). Logical locations name the
//! package's purl (kind `package`), the Kubernetes or Compose resource (kind `resource`)
//! and the image-config field (kind `property`). Suppressed findings are results too, with
//! a SARIF `suppressions` entry (kind `external`, the reason as justification), which is how
//! code-scanning services learn that they are dismissed.
//!
//! **Fingerprints.** `partialFingerprints["moatFinding/v1"]` hashes the id, the purl and the
//! file path; for the other kinds also the layer, resource, field and span start, and for a
//! runtime alert its time and output, so that a re-scan keeps each alert's identity while
//! two findings of one rule in one file stay apart. The vulnerability inputs are the ones
//! this format has always hashed, so existing alerts keep their identity.

use super::{best_score, inventory_package, ordered, vd, why_suppressed};
use moat_model::{Detail, Finding, FindingKind, Inventory, ScanReport, Severity, Span};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// Where SARIF consumers send people who want to know what produced the results.
const INFORMATION_URI: &str = "https://example.invalid/moat";
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
pub(super) struct SarifLog {
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
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

/// A SARIF region: 1-based lines and columns.
#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    end_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
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
    /// Secrets: the rule's category and the redacted match; whether a later layer deleted
    /// the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redacted: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_in_layer: Option<usize>,
    /// The secret itself, only with `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    /// Misconfigurations: what was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    target_type: Option<String>,
    /// Runtime alerts: the rule's priority as written, the event time and source.
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

impl ResultProperties {
    fn of(f: &Finding) -> ResultProperties {
        let mut p = ResultProperties {
            severity: f.severity.as_str(),
            status: f.status.as_str(),
            package: f.package().map(|p| p.name.clone()),
            installed_version: f.package().map(|p| p.version.clone()),
            fixed_version: vd(f).fixed_version.clone(),
            layer: f
                .package()
                .and_then(|p| p.layer)
                .or_else(|| f.location.as_ref().and_then(|l| l.layer)),
            aliases: f.aliases.clone(),
            kev: vd(f).kev,
            category: None,
            redacted: None,
            deleted: false,
            deleted_in_layer: None,
            value: None,
            target_type: None,
            priority: None,
            time: None,
            source: None,
        };
        match &f.detail {
            Detail::Vulnerability(_) => {}
            Detail::Secret(s) => {
                p.category = s.category.clone();
                p.redacted = Some(s.redacted.clone());
                p.deleted = s.deleted;
                p.deleted_in_layer = s.deleted_in_layer;
                p.value = s.value.clone();
            }
            Detail::Misconfiguration(m) => p.target_type = Some(m.target_type.clone()),
            Detail::Runtime(rt) => {
                p.priority = Some(rt.priority.clone());
                p.time = rt.time.clone();
                p.source = Some(rt.source.clone());
            }
        }
        p
    }
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

/// The file a finding points at (see the module documentation), and whether it is the
/// finding's own location (the only case in which its span applies).
fn finding_path(inv: &Inventory, f: &Finding) -> (String, bool) {
    let own = f
        .location
        .as_ref()
        .and_then(|l| l.path.clone())
        .filter(|p| !p.trim().is_empty());
    if let Some(p) = own {
        return (p, true);
    }
    let path = f
        .package()
        .and_then(|p| p.path.clone())
        .or_else(|| {
            inventory_package(inv, f)
                .and_then(|p| p.locations.first())
                .map(|l| l.path.to_string())
        })
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| inv.artifact.path.clone());
    (path, false)
}

/// A span as a SARIF region. Lines and columns below 1 (which the model does not promise
/// away) become 1, and an end before the start becomes the start, so the log validates.
fn region(span: &Span) -> Region {
    let start_line = span.start_line.max(1);
    let end_line = span.end_line.max(start_line);
    Region {
        start_line,
        start_column: span.start_column.map(|c| c.max(1)),
        end_line,
        end_column: span.end_column.map(|c| c.max(1)),
    }
}

/// What the kind is called at the head of help texts and messages.
fn kind_label(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Vulnerability => "Vulnerability",
        FindingKind::Secret => "Secret",
        FindingKind::Misconfiguration => "Misconfiguration",
        FindingKind::Runtime => "Runtime rule",
    }
}

fn message(f: &Finding) -> String {
    let head = format!("{} {}", kind_label(f.kind()), f.id);
    let sev = format!("Severity: {}", f.severity.as_str());
    let mut lines: Vec<String> = Vec::new();
    match &f.detail {
        Detail::Vulnerability(v) => {
            if let Some(p) = f.package() {
                lines.push(format!("Package: {}", p.name));
                lines.push(format!("Installed Version: {}", p.version));
            }
            lines.push(head);
            lines.push(sev);
            lines.push(match &v.fixed_version {
                Some(fixed) => format!("Fixed Version: {fixed}"),
                None => format!("Fixed Version: none ({})", f.status.as_str()),
            });
            if v.kev {
                lines.push("Known exploited (CISA KEV)".into());
            }
        }
        Detail::Secret(s) => {
            lines.push(head);
            lines.push(sev);
            lines.push(format!("Match: {}", s.redacted));
            if let Some(n) = s.deleted_in_layer {
                lines.push(format!(
                    "Removed in layer {n}: gone from the final file system, still in the image"
                ));
            } else if s.deleted {
                lines.push(
                    "Deleted in a later layer: gone from the final file system, still in the image"
                        .into(),
                );
            }
            if let Some(l) = &f.location {
                lines.extend(l.field.iter().map(|x| format!("Field: {x}")));
            }
        }
        Detail::Misconfiguration(m) => {
            lines.push(head);
            lines.push(sev);
            lines.extend(Some(m.message.clone()).filter(|s| !s.trim().is_empty()));
            if let Some(l) = &f.location {
                lines.extend(l.resource.iter().map(|r| format!("Resource: {r}")));
                lines.extend(l.field.iter().map(|x| format!("Field: {x}")));
            }
        }
        Detail::Runtime(rt) => {
            lines.push(rt.output.clone());
            lines.push(head);
            lines.push(format!("Priority: {}", rt.priority));
            lines.extend(rt.time.iter().map(|t| format!("Time: {t}")));
        }
    }
    lines.extend(f.title.clone());
    lines.join("\n")
}

/// The kind's particulars in a rule's help, as (label, text).
fn rule_particulars(f: &Finding) -> Vec<(&'static str, String)> {
    match &f.detail {
        Detail::Vulnerability(_) => Vec::new(),
        Detail::Secret(s) => s.category.iter().map(|c| ("Category", c.clone())).collect(),
        Detail::Misconfiguration(m) => {
            let mut v = vec![("Checks", m.target_type.clone())];
            v.extend(m.resolution.iter().map(|r| ("Resolution", r.clone())));
            v
        }
        Detail::Runtime(rt) => {
            let mut v = vec![("Source", rt.source.clone())];
            if !rt.tags.is_empty() {
                v.push(("Tags", rt.tags.join(", ")));
            }
            v
        }
    }
}

fn references(f: &Finding) -> &[String] {
    match &f.detail {
        Detail::Vulnerability(v) => &v.references,
        Detail::Misconfiguration(m) => &m.references,
        Detail::Secret(_) | Detail::Runtime(_) => &[],
    }
}

fn rule_name(f: &Finding) -> &'static str {
    match f.kind() {
        FindingKind::Vulnerability => match f.package().and_then(|p| p.purl.strip_prefix("pkg:")) {
            Some(p) if ["deb/", "apk/", "rpm/"].iter().any(|t| p.starts_with(t)) => {
                "OsPackageVulnerability"
            }
            Some(_) => "LanguagePackageVulnerability",
            None => "Vulnerability",
        },
        FindingKind::Secret => "Secret",
        FindingKind::Misconfiguration => "Misconfiguration",
        FindingKind::Runtime => "RuntimeAlert",
    }
}

fn tags(f: &Finding) -> Vec<String> {
    let mut tags = vec![
        f.kind().as_str().to_string(),
        "security".to_string(),
        f.severity.as_str().to_string(),
    ];
    match &f.detail {
        Detail::Vulnerability(v) if v.kev => tags.push("known-exploited".into()),
        Detail::Misconfiguration(m) => tags.push(m.target_type.clone()),
        Detail::Runtime(rt) => tags.extend(rt.tags.iter().cloned()),
        _ => {}
    }
    // the schema wants unique, and empty tags say nothing
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| !t.trim().is_empty() && seen.insert(t.clone()));
    tags
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
    let refs = references(f);
    let label = kind_label(f.kind());
    let mut text = format!("{label} {}\nSeverity: {}", f.id, f.severity.as_str());
    let mut markdown = format!(
        "**{label} {}**\n\n| Severity | Aliases |\n| --- | --- |\n| {} | {} |\n",
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
    for (what, value) in rule_particulars(f) {
        text.push_str(&format!("\n{what}: {value}"));
        markdown.push_str(&format!("\n**{what}:** {value}\n"));
    }
    if !refs.is_empty() {
        text.push_str("\nReferences:");
        markdown.push_str("\n#### References\n");
        for r in refs {
            text.push_str(&format!("\n{r}"));
            markdown.push_str(&format!("- {r}\n"));
        }
    }
    Rule {
        id: f.id.clone(),
        name: rule_name(f).to_string(),
        short_description: Text {
            text: title.clone(),
        },
        full_description: Text { text: full },
        help_uri: refs.first().cloned(),
        help: Help { text, markdown },
        default_configuration: Configuration {
            level: sarif_level(f.severity),
        },
        properties: RuleProperties {
            security_severity: band_score(f.severity).map(score_text),
            precision: match f.kind() {
                FindingKind::Vulnerability | FindingKind::Misconfiguration => "very-high",
                // patterns and heuristics: a match may be a test key or a benign shell
                FindingKind::Secret | FindingKind::Runtime => "high",
            },
            tags: tags(f),
        },
    }
}

fn logical_locations(f: &Finding) -> Vec<LogicalLocation> {
    let mut out: Vec<LogicalLocation> = f
        .package()
        .filter(|p| !p.purl.is_empty())
        .map(|p| LogicalLocation {
            name: p.name.clone(),
            fully_qualified_name: p.purl.clone(),
            kind: "package",
        })
        .into_iter()
        .collect();
    if let Some(l) = &f.location {
        for (value, kind) in [(&l.resource, "resource"), (&l.field, "property")] {
            if let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) {
                out.push(LogicalLocation {
                    name: v.clone(),
                    fully_qualified_name: v.clone(),
                    kind,
                });
            }
        }
    }
    out
}

fn fingerprint(f: &Finding, path: &str) -> String {
    let purl = f.package().map(|p| p.purl.clone()).unwrap_or_default();
    let mut parts = vec![f.id.clone(), purl, path.to_string()];
    if f.kind() != FindingKind::Vulnerability {
        let loc = f.location.clone().unwrap_or_default();
        parts.push(loc.layer.map(|l| l.to_string()).unwrap_or_default());
        parts.push(loc.resource.unwrap_or_default());
        parts.push(loc.field.unwrap_or_default());
        parts.push(
            loc.span
                .map(|s| format!("{}:{}", s.start_line, s.start_column.unwrap_or(0)))
                .unwrap_or_default(),
        );
        if let Detail::Runtime(rt) = &f.detail {
            parts.push(rt.time.clone().unwrap_or_default());
            parts.push(rt.output.clone());
        }
    }
    let mut h = Sha256::new();
    for part in &parts {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

fn result(inv: &Inventory, f: &Finding, rule_index: usize) -> SarifResult {
    let (path, own) = finding_path(inv, f);
    let span = f.location.as_ref().and_then(|l| l.span).filter(|_| own);
    let suppressions = f
        .suppressed
        .as_ref()
        .map(|s| SarifSuppression {
            kind: "external",
            status: "accepted",
            justification: why_suppressed(s),
        })
        .into_iter()
        .collect();
    SarifResult {
        rule_id: f.id.clone(),
        rule_index,
        level: sarif_level(f.severity),
        message: Text { text: message(f) },
        locations: vec![SarifLocation {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri_path(&path),
                },
                region: span.as_ref().map(region),
            },
            logical_locations: logical_locations(f),
        }],
        partial_fingerprints: [("moatFinding/v1", fingerprint(f, &path))]
            .into_iter()
            .collect(),
        suppressions,
        properties: ResultProperties::of(f),
    }
}

pub(super) fn build(r: &ScanReport) -> SarifLog {
    let inv = &r.inventory;
    let mut all: Vec<&Finding> = ordered(&r.findings);
    all.extend(ordered(&r.suppressed));

    // one rule per id, in order of first appearance, kind by kind (so that the
    // vulnerabilities' rules keep their indices whatever else was scanned)
    let mut rule_order = all.clone();
    rule_order.sort_by_key(|f| f.kind());
    let mut rule_index: HashMap<&str, usize> = HashMap::new();
    let mut rules: Vec<Rule> = Vec::new();
    let mut scores: Vec<Option<f64>> = Vec::new();
    for f in &rule_order {
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
        .map(|f| result(inv, f, rule_index.get(f.id.as_str()).copied().unwrap_or(0)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::FindingLocation;
    use moat_model::finding::MisconfigDetail;

    #[test]
    fn uri_paths_are_relative_references() {
        assert_eq!(uri_path("/var/lib/dpkg/status"), "var/lib/dpkg/status");
        assert_eq!(uri_path("/tmp/debian:12 x.tar"), "tmp/debian%3A12%20x.tar");
        assert_eq!(uri_path("/"), ".");
    }

    fn region_json(span: Span) -> String {
        serde_json::to_string(&region(&span)).unwrap()
    }

    #[test]
    fn region_of_whole_lines_has_no_columns() {
        assert_eq!(
            region_json(Span::lines(3, 5)),
            r#"{"startLine":3,"endLine":5}"#
        );
    }

    #[test]
    fn region_with_columns_keeps_them() {
        let span = Span {
            start_line: 7,
            start_column: Some(12),
            end_line: 7,
            end_column: Some(52),
        };
        assert_eq!(
            region_json(span),
            r#"{"startLine":7,"startColumn":12,"endLine":7,"endColumn":52}"#
        );
    }

    #[test]
    fn region_repairs_what_sarif_would_reject() {
        let span = Span {
            start_line: 0,
            start_column: Some(0),
            end_line: 0,
            end_column: None,
        };
        assert_eq!(
            region(&span),
            Region {
                start_line: 1,
                start_column: Some(1),
                end_line: 1,
                end_column: None
            }
        );
        assert_eq!(region(&Span::lines(9, 2)).end_line, 9);
    }

    #[test]
    fn the_span_applies_only_to_the_findings_own_file() {
        let mut inv = moat_model::Inventory {
            schema_version: moat_model::SCHEMA_VERSION.into(),
            tool: moat_model::Tool::default(),
            artifact: crate::sbom_in::bare_artifact("img", "/tmp/img.tar"),
            packages: vec![],
            relationships: vec![],
            diagnostics: vec![],
            package_files: Default::default(),
        };
        inv.artifact.name = "img".into();
        let mut f = Finding::new(
            "DS002",
            Severity::High,
            Detail::Misconfiguration(MisconfigDetail {
                target_type: "dockerfile".into(),
                message: "last USER is root".into(),
                ..Default::default()
            }),
        );
        f.location = Some(FindingLocation {
            span: Some(Span::lines(4, 4)),
            ..FindingLocation::file("/src/Dockerfile", None)
        });
        let r = result(&inv, &f, 0);
        assert_eq!(
            r.locations[0].physical_location.artifact_location.uri,
            "src/Dockerfile"
        );
        assert!(r.locations[0].physical_location.region.is_some());
        // a span without a path: the artifact, and no region
        f.location = Some(FindingLocation {
            span: Some(Span::lines(4, 4)),
            field: Some("config.User".into()),
            ..Default::default()
        });
        let r = result(&inv, &f, 0);
        assert_eq!(
            r.locations[0].physical_location.artifact_location.uri,
            "tmp/img.tar"
        );
        assert!(r.locations[0].physical_location.region.is_none());
        assert_eq!(r.locations[0].logical_locations[0].kind, "property");
    }
}
