//! The human table of a scan report.
//!
//! ```text
//! image  OS: Debian GNU/Linux 12 (bookworm)
//! Total: 9 (CRITICAL: 2, HIGH: 4, ...)  Suppressed: 2 (ignored: 1, VEX: 1)
//!   Vulnerabilities: 4 (...)          <- one line per kind, when several kinds are present
//!   Secrets: 1 (...)
//!
//! Vulnerabilities                     <- section titles, when several kinds are present
//!
//! libc6 2.36-9+deb12u4 (deb)          <- one block per package
//!   ID  SEVERITY  STATUS  FIXED  TITLE
//!
//! Secrets
//!
//! /app/.env (layer 1, removed in layer 2, still in the image)   <- one block per file
//!   RULE  SEVERITY  LINE  MATCH (redacted)                       (or image-config field)
//!
//! Misconfigurations
//!
//! /k8s/web.yaml  Deployment/default/web             <- one block per file and resource
//!   ID  SEVERITY  LINE  MESSAGE
//!
//! Runtime alerts                                    <- one block, in time order
//!   TIME  RULE  PRIORITY  OUTPUT
//!
//! Suppressed                                        <- one line per suppressed finding
//!
//! diagnostics: 3 parse-error, 1 too-large           <- a count per code, when there are any
//! ```
//!
//! A report with only vulnerabilities reads as it always has: no section title, no per-kind
//! line. Within a section every block shares the column widths, so the blocks line up; the
//! last column (title, match, message, output) is cut to the total width ([`DEFAULT_WIDTH`]
//! for [`super::scan_table`], any width with [`super::scan_table_width`]). Severities are
//! coloured on a terminal (a runtime alert's PRIORITY in the colour of its severity).
//! Everything that comes from the target or an advisory goes through [`crate::term`]:
//! control characters are replaced, and multi-line text is put on one line. Individual
//! diagnostics are the CLI's to print (on stderr); the table only counts them.

use super::{inventory_package, ordered, vd, why_suppressed};
use crate::RenderOptions;
use crate::table::{artifact_name, os_name};
use crate::term::{Columns, Paint, clean, one_line, truncate};
use moat_model::{
    ArtifactKind, Code, Detail, Finding, FindingKind, FindingLocation, ScanReport, Severity, Span,
};
use std::collections::BTreeMap;

/// Total width of [`super::scan_table`] in terminal cells.
pub const DEFAULT_WIDTH: usize = 120;

const INDENT: &str = "  ";
/// Fewest cells of the last column shown however narrow the table is.
const MIN_TITLE: usize = 10;

/// Severities as the header lists them, highest first.
const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Unknown,
];

/// What the header and the section titles call each kind.
fn kind_title(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Vulnerability => "Vulnerabilities",
        FindingKind::Secret => "Secrets",
        FindingKind::Misconfiguration => "Misconfigurations",
        FindingKind::Runtime => "Runtime alerts",
    }
}

/// One row: the cells (cleaned, on one line), the last one cut to fit when rendered, and
/// which cell shows the severity.
struct Row {
    cells: Vec<String>,
    severity_at: usize,
    severity: Severity,
}

/// A section: the column names and blocks of rows, each under a label (none: no label line).
struct Section {
    header: &'static [&'static str],
    blocks: Vec<(String, Vec<Row>)>,
}

pub(super) fn render(r: &ScanReport, o: &RenderOptions, total_width: usize) -> String {
    let inv = &r.inventory;
    let paint = Paint { color: o.color };
    let mut out = String::new();
    // a project directory or a repository has no OS to speak of unless one was found
    let os = match (inv.artifact.kind, inv.artifact.os.is_some()) {
        (ArtifactKind::Dir | ArtifactKind::Git, false) => String::new(),
        _ => format!("  OS: {}", os_name(inv)),
    };
    out.push_str(&paint.bold(&clean(&format!("{}{os}", artifact_name(inv)))));
    out.push('\n');

    let findings = ordered(&r.findings);
    let mut by_kind: BTreeMap<FindingKind, Vec<&Finding>> = BTreeMap::new();
    for f in &findings {
        by_kind.entry(f.kind()).or_default().push(f);
    }
    let several = by_kind.len() > 1;

    let ignored = r
        .suppressed
        .iter()
        .filter(|f| f.suppressed.as_ref().is_none_or(|s| s.by != "vex"))
        .count();
    let vex = r.suppressed.len() - ignored;
    out.push_str(&format!(
        "Total: {}  Suppressed: {} (ignored: {ignored}, VEX: {vex})\n",
        counts(&findings, paint),
        r.suppressed.len()
    ));
    if several {
        for (kind, list) in &by_kind {
            out.push_str(&format!(
                "{INDENT}{}: {}\n",
                kind_title(*kind),
                counts(list, paint)
            ));
        }
    }
    out.push('\n');

    if findings.is_empty() {
        out.push_str("No findings.\n");
    }
    let mut first = true;
    for (kind, list) in &by_kind {
        if !first {
            out.push('\n');
        }
        first = false;
        if several {
            out.push_str(&paint.bold(kind_title(*kind)));
            out.push_str("\n\n");
        }
        let section = match kind {
            FindingKind::Vulnerability => vulnerabilities(r, list),
            FindingKind::Secret => secrets(list),
            FindingKind::Misconfiguration => misconfigurations(list),
            FindingKind::Runtime => runtime(list),
        };
        render_section(&mut out, &section, paint, total_width);
    }

    if !r.suppressed.is_empty() {
        out.push('\n');
        out.push_str(&paint.bold("Suppressed"));
        out.push('\n');
        let width = total_width.saturating_sub(INDENT.len()).max(MIN_TITLE);
        for f in ordered(&r.suppressed) {
            out.push_str(INDENT);
            out.push_str(&truncate(&suppressed_line(f), width));
            out.push('\n');
        }
    }

    if !inv.diagnostics.is_empty() {
        out.push('\n');
        out.push_str(&diagnostics_line(inv.diagnostics.iter().map(|d| d.code)));
        out.push('\n');
    }
    out
}

/// `4 (CRITICAL: 0, HIGH: 2, MEDIUM: 1, LOW: 1, UNKNOWN: 0)`, each severity in its colour.
fn counts(findings: &[&Finding], paint: Paint) -> String {
    let per: Vec<String> = SEVERITIES
        .iter()
        .map(|s| {
            let n = findings.iter().filter(|f| f.severity == *s).count();
            paint.severity(*s, &format!("{}: {n}", s.as_str()))
        })
        .collect();
    format!("{} ({})", findings.len(), per.join(", "))
}

/// `diagnostics: 3 parse-error, 1 too-large`: most frequent first, then in code order.
fn diagnostics_line(codes: impl Iterator<Item = Code>) -> String {
    let mut counts: BTreeMap<Code, usize> = BTreeMap::new();
    for c in codes {
        *counts.entry(c).or_default() += 1;
    }
    let mut list: Vec<(Code, usize)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let parts: Vec<String> = list.iter().map(|(c, n)| format!("{n} {c}")).collect();
    format!("diagnostics: {}", parts.join(", "))
}

/// `ID in package version: why`, `ID at /path:line: why`.
fn suppressed_line(f: &Finding) -> String {
    let place = match (f.package(), &f.location) {
        (Some(p), _) => format!(" in {} {}", one_line(&p.name), one_line(&p.version)),
        (None, Some(l)) if !l.display().trim().is_empty() => {
            format!(" at {}", one_line(&l.display()))
        }
        _ => String::new(),
    };
    let why = f
        .suppressed
        .as_ref()
        .map(why_suppressed)
        .unwrap_or_default();
    format!("{}{place}: {}", one_line(&f.id), one_line(&why))
}

fn render_section(out: &mut String, s: &Section, paint: Paint, total_width: usize) {
    let columns = Columns::fit(
        INDENT,
        s.header,
        s.blocks
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|r| r.cells.as_slice())),
    );
    let rest = columns.rest(total_width, MIN_TITLE);
    let header: Vec<String> = s.header.iter().map(|h| h.to_string()).collect();
    let label_width = total_width.max(MIN_TITLE);
    for (i, (label, rows)) in s.blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !label.is_empty() {
            out.push_str(&paint.bold(&truncate(label, label_width)));
            out.push('\n');
        }
        out.push_str(&paint.bold(&columns.line(&header, None, paint)));
        out.push('\n');
        for row in rows {
            let mut cells = row.cells.clone();
            if let Some(last) = cells.last_mut() {
                *last = truncate(last.trim(), rest);
            }
            out.push_str(&columns.line(&cells, Some((row.severity_at, row.severity)), paint));
            out.push('\n');
        }
    }
}

/// `12`, `12-14`, or `-`.
fn lines(span: Option<Span>) -> String {
    match span {
        Some(s) if s.end_line > s.start_line => format!("{}-{}", s.start_line, s.end_line),
        Some(s) => s.start_line.to_string(),
        None => "-".to_string(),
    }
}

/// A row of a file-based section (secrets, misconfigurations): id, severity, lines, text.
fn located_row(f: &Finding, text: &str) -> Row {
    let span = f.location.as_ref().and_then(|l| l.span);
    Row {
        cells: vec![
            clean(&f.id),
            f.severity.as_str().to_string(),
            lines(span),
            one_line(text),
        ],
        severity_at: 1,
        severity: f.severity,
    }
}

/// How a file left the final view: not at all, by an unknown later layer, by layer N.
#[derive(Clone, Copy)]
enum Removed {
    No,
    Later,
    In(usize),
}

/// `path (layer 2, deleted in a later layer)` or `path (layer 1, removed in layer 2, still
/// in the image)`: the parts that are known.
fn file_label(loc: Option<&FindingLocation>, removed: Removed) -> String {
    let path = loc.and_then(|l| l.path.as_deref()).map(one_line);
    let mut notes = Vec::new();
    if let Some(l) = loc.and_then(|l| l.layer) {
        notes.push(format!("layer {l}"));
    }
    match removed {
        Removed::No => {}
        Removed::Later => notes.push("deleted in a later layer".to_string()),
        Removed::In(n) => notes.push(format!("removed in layer {n}, still in the image")),
    }
    let mut label = path.unwrap_or_default();
    if !notes.is_empty() {
        if !label.is_empty() {
            label.push(' ');
        }
        label.push_str(&format!("({})", notes.join(", ")));
    }
    label
}

/// Blocks in label order, rows in the order given.
fn blocks(rows: Vec<(String, Row)>) -> Vec<(String, Vec<Row>)> {
    let mut map: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for (label, row) in rows {
        map.entry(label).or_default().push(row);
    }
    map.into_iter().collect()
}

fn vulnerabilities(r: &ScanReport, list: &[&Finding]) -> Section {
    // group by package, packages in (name, version, id) order, findings by severity
    let mut groups: BTreeMap<(String, String, String), Vec<Row>> = BTreeMap::new();
    let mut kinds: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for f in list {
        let key = match f.package() {
            Some(p) => (p.name.clone(), p.version.clone(), p.id.clone()),
            None => (String::new(), String::new(), String::new()),
        };
        if !kinds.contains_key(&key) {
            let kind = inventory_package(&r.inventory, f)
                .map(|p| format!(" ({})", clean(&p.kind)))
                .unwrap_or_default();
            kinds.insert(key.clone(), kind);
        }
        let mut title = one_line(f.title.as_deref().unwrap_or(""));
        if vd(f).kev {
            title = format!("[KEV] {title}");
        }
        groups.entry(key).or_default().push(Row {
            cells: vec![
                clean(&f.id),
                f.severity.as_str().to_string(),
                f.status.as_str().to_string(),
                clean(vd(f).fixed_version.as_deref().unwrap_or("-")),
                title,
            ],
            severity_at: 1,
            severity: f.severity,
        });
    }
    let blocks = groups
        .into_iter()
        .map(|(key, rows)| {
            let (name, version, _) = &key;
            let label = if name.is_empty() {
                "(no package)".to_string()
            } else {
                let kind = kinds.get(&key).map(String::as_str).unwrap_or("");
                format!("{} {}{kind}", clean(name), clean(version))
            };
            (label, rows)
        })
        .collect();
    Section {
        header: &["ID", "SEVERITY", "STATUS", "FIXED", "TITLE"],
        blocks,
    }
}

fn secrets(list: &[&Finding]) -> Section {
    let mut rows = Vec::new();
    for f in list {
        let Detail::Secret(s) = &f.detail else {
            continue;
        };
        let removed = match (s.deleted_in_layer, s.deleted) {
            (Some(n), _) => Removed::In(n),
            (None, true) => Removed::Later,
            (None, false) => Removed::No,
        };
        let loc = f.location.as_ref();
        // a finding in the image config is labelled by its field (`config:env/NAME`)
        let label = match (
            loc.and_then(|l| l.path.as_ref()),
            loc.and_then(|l| l.field.as_ref()),
        ) {
            (None, Some(field)) => one_line(field),
            _ => file_label(loc, removed),
        };
        let shown = s.value.as_deref().unwrap_or(&s.redacted);
        rows.push((or_no_file(label), located_row(f, shown)));
    }
    Section {
        header: &["RULE", "SEVERITY", "LINE", "MATCH"],
        blocks: blocks(rows),
    }
}

/// `path (layer n)  resource  field`; a check without a file (image config, say) names
/// what was checked instead of the file.
fn misconfig_label(loc: Option<&FindingLocation>, target_type: &str) -> String {
    let mut parts = match loc.and_then(|l| l.path.as_ref()) {
        Some(_) => vec![file_label(loc, Removed::No)],
        None => vec![format!("({})", one_line(target_type))],
    };
    let extras = [
        loc.and_then(|l| l.resource.as_deref()),
        loc.and_then(|l| l.field.as_deref()),
    ];
    parts.extend(extras.into_iter().flatten().map(one_line));
    parts.retain(|p| !p.is_empty() && p != "()");
    parts.join("  ")
}

fn misconfigurations(list: &[&Finding]) -> Section {
    let mut rows = Vec::new();
    for f in list {
        let Detail::Misconfiguration(m) = &f.detail else {
            continue;
        };
        let label = misconfig_label(f.location.as_ref(), &m.target_type);
        let text = if m.message.trim().is_empty() {
            f.title.as_deref().unwrap_or("")
        } else {
            m.message.as_str()
        };
        rows.push((or_no_file(label), located_row(f, text)));
    }
    Section {
        header: &["ID", "SEVERITY", "LINE", "MESSAGE"],
        blocks: blocks(rows),
    }
}

/// A block label, or `(no file)` when there is nothing to say.
fn or_no_file(label: String) -> String {
    if label.is_empty() {
        "(no file)".to_string()
    } else {
        label
    }
}

fn runtime(list: &[&Finding]) -> Section {
    let mut alerts: Vec<(&Finding, &moat_model::finding::RuntimeDetail)> = list
        .iter()
        .filter_map(|f| match &f.detail {
            Detail::Runtime(rt) => Some((*f, rt)),
            _ => None,
        })
        .collect();
    // in time order (RFC 3339 UTC strings of one form sort as times; unreadable ones last)
    let when = |rt: &moat_model::finding::RuntimeDetail| {
        rt.time
            .as_deref()
            .and_then(crate::time::parse_rfc3339)
            .unwrap_or(i64::MAX)
    };
    alerts.sort_by_key(|(f, rt)| (when(rt), f.id.clone(), rt.output.clone()));
    let rows = alerts
        .into_iter()
        .map(|(f, rt)| {
            let time = match rt.time.as_deref() {
                Some(t) => crate::time::parse_rfc3339(t)
                    .map(crate::time::format_utc)
                    .unwrap_or_else(|| one_line(t)),
                None => "-".to_string(),
            };
            Row {
                cells: vec![
                    time,
                    one_line(&f.id),
                    one_line(&rt.priority),
                    one_line(&rt.output),
                ],
                severity_at: 2,
                severity: f.severity,
            }
        })
        .collect();
    Section {
        header: &["TIME", "RULE", "PRIORITY", "OUTPUT"],
        blocks: vec![(String::new(), rows)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::finding::{MisconfigDetail, RuntimeDetail, SecretDetail, Suppression};

    fn section_text(s: &Section, color: bool) -> String {
        let mut out = String::new();
        render_section(&mut out, s, Paint { color }, 60);
        out
    }

    fn at(path: Option<&str>, layer: Option<usize>, span: Option<Span>) -> FindingLocation {
        FindingLocation {
            path: path.map(str::to_string),
            layer,
            span,
            ..Default::default()
        }
    }

    #[test]
    fn secrets_are_grouped_by_file_with_the_deleted_marker() {
        let secret = |id: &str, path: &str, line: u32, deleted: bool| {
            let mut f = Finding::new(
                id,
                Severity::Critical,
                Detail::Secret(SecretDetail {
                    redacted: "AWS_ACCESS_KEY_ID=AKIA************MPLE\n".into(),
                    deleted,
                    ..Default::default()
                }),
            );
            f.location = Some(at(Some(path), Some(2), Some(Span::lines(line, line))));
            f
        };
        let a = secret("aws-access-key-id", "/app/.env", 3, true);
        let b = secret("aws-secret-access-key", "/app/.env", 4, true);
        let c = secret("github-pat", "/root/.git-credentials", 1, false);
        let s = secrets(&[&a, &b, &c]);
        assert_eq!(
            section_text(&s, false),
            "\
/app/.env (layer 2, deleted in a later layer)
  RULE                   SEVERITY  LINE  MATCH
  aws-access-key-id      CRITICAL  3     AWS_ACCESS_KEY_ID=…
  aws-secret-access-key  CRITICAL  4     AWS_ACCESS_KEY_ID=…

/root/.git-credentials (layer 2)
  RULE                   SEVERITY  LINE  MATCH
  github-pat             CRITICAL  1     AWS_ACCESS_KEY_ID=…
"
        );
    }

    #[test]
    fn misconfigurations_are_grouped_by_file_and_resource() {
        let check = |id: &str, loc: FindingLocation, target: &str, message: &str| {
            let mut f = Finding::new(
                id,
                Severity::High,
                Detail::Misconfiguration(MisconfigDetail {
                    target_type: target.into(),
                    message: message.into(),
                    ..Default::default()
                }),
            );
            f.title = Some("the title".into());
            f.location = Some(loc);
            f
        };
        let docker = check(
            "DS002",
            at(Some("Dockerfile"), None, Some(Span::lines(12, 14))),
            "dockerfile",
            "last USER is root",
        );
        let k8s = check(
            "KSV012",
            FindingLocation {
                resource: Some("Deployment/default/web".into()),
                ..at(Some("k8s/web.yaml"), None, Some(Span::lines(20, 20)))
            },
            "kubernetes",
            "",
        );
        let config = check(
            "IC001",
            FindingLocation {
                field: Some("config.User".into()),
                ..Default::default()
            },
            "image-config",
            "runs as root",
        );
        let s = misconfigurations(&[&docker, &k8s, &config]);
        assert_eq!(
            section_text(&s, false),
            "\
(image-config)  config.User
  ID      SEVERITY  LINE   MESSAGE
  IC001   HIGH      -      runs as root

Dockerfile
  ID      SEVERITY  LINE   MESSAGE
  DS002   HIGH      12-14  last USER is root

k8s/web.yaml  Deployment/default/web
  ID      SEVERITY  LINE   MESSAGE
  KSV012  HIGH      20     the title
"
        );
    }

    #[test]
    fn runtime_alerts_are_in_time_order_with_coloured_priority() {
        let alert = |rule: &str, time: Option<&str>, sev: Severity, priority: &str| {
            Finding::new(
                rule,
                sev,
                Detail::Runtime(RuntimeDetail {
                    source: "syscall".into(),
                    priority: priority.into(),
                    output: format!("{rule} fired\r\n\x1b[2J"),
                    time: time.map(str::to_string),
                    ..Default::default()
                }),
            )
        };
        let late = alert(
            "Write below etc",
            Some("2026-11-29T02:00:00.123+01:00"),
            Severity::High,
            "ERROR",
        );
        let early = alert(
            "Terminal shell",
            Some("2026-11-29T00:30:00Z"),
            Severity::Medium,
            "NOTICE",
        );
        let undated = alert("Odd", None, Severity::Low, "INFO");
        let s = runtime(&[&late, &undated, &early]);
        // the output is cut to MIN_TITLE cells, however narrow the table
        assert_eq!(
            section_text(&s, false),
            "  TIME                  RULE             PRIORITY  OUTPUT
  2026-11-29T00:30:00Z  Terminal shell   NOTICE    Terminal …
  2026-11-29T01:00:00Z  Write below etc  ERROR     Write bel…
  -                     Odd              INFO      Odd fired…
"
        );
        let coloured = section_text(&s, true);
        assert!(coloured.contains("\x1b[33mNOTICE\x1b[0m    "), "{coloured}");
        assert!(!coloured.contains("\x1b[2J"));
    }

    #[test]
    fn header_counts_every_kind_and_footer_counts_codes() {
        let line = diagnostics_line(
            [
                Code::TooLarge,
                Code::ParseError,
                Code::ParseError,
                Code::ParseError,
            ]
            .into_iter(),
        );
        assert_eq!(line, "diagnostics: 3 parse-error, 1 too-large");
        let f = |sev| Finding::new("x", sev, Detail::Secret(SecretDetail::default()));
        let (a, b) = (f(Severity::High), f(Severity::High));
        assert_eq!(
            counts(&[&a, &b], Paint { color: false }),
            "2 (CRITICAL: 0, HIGH: 2, MEDIUM: 0, LOW: 0, UNKNOWN: 0)"
        );
    }

    #[test]
    fn suppressed_lines_say_where() {
        let mut s = Finding::new(
            "generic-api-key",
            Severity::Medium,
            Detail::Secret(SecretDetail::default()),
        );
        s.location = Some(at(Some("/app/test.env"), Some(1), Some(Span::lines(4, 4))));
        s.suppressed = Some(Suppression {
            by: "ignore".into(),
            reason: "test\nfixture".into(),
            justification: None,
        });
        assert_eq!(
            suppressed_line(&s),
            "generic-api-key at /app/test.env:4: ignore: test fixture"
        );
    }
}
