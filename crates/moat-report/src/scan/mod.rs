//! The reports of `moat scan`: a [`ScanReport`] in, bytes out, for every kind of finding
//! (vulnerability, secret, misconfiguration, runtime alert).
//!
//! | function | output | file |
//! |---|---|---|
//! | [`scan_json`] | moat's JSON report: the inventory document plus `findings` (and `suppressed`) | here |
//! | [`sarif`] | SARIF 2.1.0, one run, one rule per finding id | `sarif.rs` |
//! | [`cyclonedx_vulns`] | the CycloneDX 1.6 SBOM of [`crate::cyclonedx`] plus `vulnerabilities[]` | `cyclonedx.rs` |
//! | [`scan_table`] | a human table, a section per kind, severities coloured on a terminal | `table.rs` |
//! | [`scan_html`] | one self-contained HTML page: summary, charts, filterable findings, layers, packages | `html.rs` |
//!
//! Like the SBOM reporters these are pure functions: the same report and options give the
//! same bytes. Findings are put in one fixed order before rendering (`ordered`: kind,
//! then severity, highest first, then id, package name, version and package id, then
//! where the finding is), so the output does not depend on the order in which the matcher
//! or the scanners produced them. Vulnerabilities come first whatever the severities of
//! the other kinds, so switching on another scanner does not renumber the SARIF rules of
//! the vulnerabilities.
//!
//! The JSON report is the serde form of [`ScanReport`] (see [`moat_model::finding`]: `kind`
//! first, each kind's fields beside the shared ones); it needs no code of its own here.
//!
//! Each format says in its own file how it treats each kind. In short: SARIF carries every
//! kind (a result per finding, a rule per id, a `region` where the finding has a span);
//! CycloneDX carries vulnerabilities only, because CycloneDX 1.6 has no section for the
//! others (it counts what it left out in document properties); the table has a section per
//! kind present and a footer counting the diagnostics per code.
//!
//! Rejected alternatives: one renderer per kind and format (the rule, fingerprint and
//! suppression logic would be written four times); a trait on the detail types with a
//! method per format (the model would know about reports).

mod cyclonedx;
mod html;
mod sarif;
mod table;

pub use table::DEFAULT_WIDTH;

use crate::{RenderOptions, to_pretty};
use moat_model::finding::{Suppression, VulnerabilityDetail};
use moat_model::{Detail, Finding, FindingLocation, Inventory, Package, ScanReport};
use std::cmp::Reverse;

/// moat's JSON report: the inventory document plus `findings` (and `suppressed` when there
/// are any), pretty-printed, with a trailing newline.
pub fn scan_json(r: &ScanReport) -> Vec<u8> {
    to_pretty(r)
}

/// A SARIF 2.1.0 log with one run.
pub fn sarif(r: &ScanReport, _o: &RenderOptions) -> Vec<u8> {
    to_pretty(&sarif::build(r))
}

/// The CycloneDX 1.6 SBOM of the inventory with a `vulnerabilities` section (findings of
/// the other kinds are counted in document properties; CycloneDX has no place for them).
pub fn cyclonedx_vulns(r: &ScanReport, o: &RenderOptions) -> Vec<u8> {
    to_pretty(&cyclonedx::build(r, o))
}

/// One self-contained HTML page (no request is made when it is opened); `advisories` is the
/// line naming the advisory sources and their ages, shown in the header.
pub fn scan_html(r: &ScanReport, o: &RenderOptions, advisories: Option<&str>) -> Vec<u8> {
    html::render(r, o, advisories).into_bytes()
}

/// The readable table, [`DEFAULT_WIDTH`] cells wide.
pub fn scan_table(r: &ScanReport, o: &RenderOptions) -> String {
    scan_table_width(r, o, DEFAULT_WIDTH)
}

/// The readable table cut to `total_width` terminal cells (titles, matches and messages are
/// shortened; at least a few cells of them are always shown).
pub fn scan_table_width(r: &ScanReport, o: &RenderOptions, total_width: usize) -> String {
    table::render(r, o, total_width)
}

// ---------------------------------------------------------------------------------------
// shared by the formats

/// The vulnerability detail of a finding (empty for other kinds).
fn vd(f: &Finding) -> &VulnerabilityDetail {
    static EMPTY: std::sync::OnceLock<VulnerabilityDetail> = std::sync::OnceLock::new();
    f.vulnerability()
        .unwrap_or_else(|| EMPTY.get_or_init(VulnerabilityDetail::default))
}

/// Findings in output order: kind, severity (highest first), id, package (name, version,
/// id), location, then what tells two findings of one rule at one place apart.
fn ordered(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    v
}

type SortKey<'a> = (
    moat_model::FindingKind,
    Reverse<moat_model::Severity>,
    &'a str,
    (&'a str, &'a str, &'a str),
    Option<&'a FindingLocation>,
    [&'a str; 2],
);

fn sort_key(f: &Finding) -> SortKey<'_> {
    let pkg = match f.package() {
        Some(p) => (p.name.as_str(), p.version.as_str(), p.id.as_str()),
        None => ("", "", ""),
    };
    let detail = match &f.detail {
        Detail::Vulnerability(_) => ["", ""],
        Detail::Secret(s) => [s.redacted.as_str(), ""],
        Detail::Misconfiguration(m) => [m.message.as_str(), ""],
        Detail::Runtime(rt) => [rt.time.as_deref().unwrap_or(""), rt.output.as_str()],
    };
    (
        f.kind(),
        Reverse(f.severity),
        f.id.as_str(),
        pkg,
        f.location.as_ref(),
        detail,
    )
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

/// `vex: reason (justification)`, as the table and SARIF say why a finding is suppressed.
fn why_suppressed(s: &Suppression) -> String {
    match &s.justification {
        Some(j) => format!("{}: {} ({j})", s.by, s.reason),
        None => format!("{}: {}", s.by, s.reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::finding::SecretDetail;
    use moat_model::{Severity, Span};

    #[test]
    fn kinds_come_first_then_severity() {
        let secret = |id: &str, line: u32| {
            let mut f = Finding::new(
                id,
                Severity::Critical,
                Detail::Secret(SecretDetail {
                    redacted: "****".into(),
                    ..Default::default()
                }),
            );
            f.location = Some(FindingLocation {
                span: Some(Span::lines(line, line)),
                ..FindingLocation::file("/app/.env", Some(1))
            });
            f
        };
        let vuln = Finding::new(
            "CVE-1",
            Severity::Low,
            Detail::Vulnerability(VulnerabilityDetail::default()),
        );
        let list = vec![secret("b", 9), secret("b", 3), secret("a", 5), vuln];
        let ids: Vec<(String, Option<u32>)> = ordered(&list)
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    f.location
                        .as_ref()
                        .and_then(|l| l.span)
                        .map(|s| s.start_line),
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                ("CVE-1".to_string(), None),
                ("a".to_string(), Some(5)),
                ("b".to_string(), Some(3)),
                ("b".to_string(), Some(9)),
            ]
        );
    }
}
