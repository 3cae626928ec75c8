//! The HTML report of a scan: one self-contained file (`moat scan --format html`).
//!
//! ```text
//! header     target, kind, OS, digest, when, moat's version, the advisory sources
//! summary    a card per severity and per kind, packages, layers, fixable, KEV, suppressed;
//!            two inline SVG charts: findings by severity, findings by layer (stacked)
//! findings   one table row per finding, highest severity first (then the order of every
//!            other format: kind, id, package, place); filters
//!            (severity, kind, layer, fixable only) and a search box
//! layers     a block per layer: the history line that made it, its digest and size, the
//!            packages and the findings it introduced
//! packages   every package with its layer, where it was found and its finding count
//! suppressed what the ignore file and VEX took out, and why
//! diagnostics every problem met inside the target
//! ```
//!
//! Everything is rendered here, as HTML: the page reads in full with scripts off, and the
//! script (inline, about a hundred lines, no library) only hides and shows rows. The filter
//! state lives in the URL fragment (`#sev=critical,high&kind=secret&layer=2&fixable=1&q=ssl`),
//! so a filtered view can be linked to. A Content-Security-Policy in the page forbids every
//! fetch: the page makes no request when it is opened (links to advisories are followed
//! only when clicked).
//!
//! Every string that comes from the target or an advisory is escaped for HTML text or
//! attribute context (`esc`), control characters are replaced, and only `http(s)` URLs
//! become links. The same report and options give the same bytes.

use super::{best_score, inventory_package, ordered, vd, why_suppressed};
use crate::RenderOptions;
use crate::table::{artifact_name, os_name};
use moat_model::{Detail, Finding, FindingKind, Inventory, ScanReport, Severity};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Severities highest first, as the page lists them.
const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Unknown,
];

const KINDS: [FindingKind; 4] = [
    FindingKind::Vulnerability,
    FindingKind::Secret,
    FindingKind::Misconfiguration,
    FindingKind::Runtime,
];

fn sev_class(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Unknown => "unknown",
    }
}

fn sev_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b3261e",
        Severity::High => "#e8590c",
        Severity::Medium => "#d4a106",
        Severity::Low => "#2f6fd6",
        Severity::Unknown => "#8a8a8a",
    }
}

fn kind_title(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Vulnerability => "Vulnerabilities",
        FindingKind::Secret => "Secrets",
        FindingKind::Misconfiguration => "Misconfigurations",
        FindingKind::Runtime => "Runtime alerts",
    }
}

/// Text for HTML text and double- or single-quoted attribute values: `& < > " '` escaped,
/// control characters (but tab and newline) replaced by U+FFFD.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A link when `url` is http(s), else the escaped text.
fn link(url: &str) -> String {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && !u.contains(char::is_whitespace)
    {
        format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
            esc(u),
            esc(u)
        )
    } else {
        esc(u)
    }
}

/// The layer a finding was introduced in: its location's, else its package's.
fn finding_layer(inv: &Inventory, f: &Finding) -> Option<usize> {
    f.location
        .as_ref()
        .and_then(|l| l.layer)
        .or_else(|| f.package().and_then(|p| p.layer))
        .or_else(|| inventory_package(inv, f).and_then(|p| p.layer_index()))
}

fn fixable(f: &Finding) -> bool {
    f.kind() == FindingKind::Vulnerability && vd(f).fixed_version.is_some()
}

/// The one-line text of a finding: its title, else what each kind says.
fn headline(f: &Finding) -> String {
    if let Some(t) = f.title.as_deref().filter(|t| !t.trim().is_empty()) {
        return t.to_string();
    }
    match &f.detail {
        Detail::Vulnerability(_) => String::new(),
        Detail::Secret(s) => format!("{} ({})", s.rule, s.redacted),
        Detail::Misconfiguration(m) => m.message.clone(),
        Detail::Runtime(r) => r.output.clone(),
    }
}

/// What a finding is about, for the "package / where" column.
fn subject(f: &Finding) -> String {
    match (f.package(), f.location.as_ref()) {
        (Some(p), _) => format!("{} {}", p.name, p.version),
        (None, Some(l)) => l.display(),
        (None, None) => String::new(),
    }
}

/// Lower-cased text the search box matches: id, aliases, title, package, path, rule.
fn search_text(f: &Finding) -> String {
    let mut s = format!(
        "{} {} {} {}",
        f.id,
        f.aliases.join(" "),
        headline(f),
        subject(f)
    );
    if let Some(l) = &f.location {
        s.push(' ');
        s.push_str(&l.display());
    }
    if let Some(p) = f.package() {
        s.push(' ');
        s.push_str(&p.purl);
    }
    s.to_lowercase()
}

#[derive(Default)]
struct Counts {
    by_sev: BTreeMap<Severity, usize>,
}

impl Counts {
    fn add(&mut self, s: Severity) {
        *self.by_sev.entry(s).or_default() += 1;
    }
    fn get(&self, s: Severity) -> usize {
        self.by_sev.get(&s).copied().unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.by_sev.values().sum()
    }
}

/// The page. `advisories` is the line naming the advisory sources and their ages, when the
/// scan used a database.
pub(crate) fn render(r: &ScanReport, o: &RenderOptions, advisories: Option<&str>) -> String {
    let inv = &r.inventory;
    // Highest severity first whatever the kind (a stable sort of every format's order).
    let mut findings = ordered(&r.findings);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let name = artifact_name(inv);
    let mut h = String::with_capacity(64 * 1024 + findings.len() * 1024);
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\" data-ready=\"0\">\n<head>\n<meta charset=\"utf-8\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    let _ = writeln!(
        h,
        "<meta name=\"generator\" content=\"moat {}\">",
        esc(&inv.tool.version)
    );
    let _ = writeln!(h, "<title>moat report: {}</title>", esc(name));
    h.push_str(STYLE);
    h.push_str("</head>\n<body>\n");
    header(&mut h, inv, o, advisories);
    summary(&mut h, r, &findings);
    findings_section(&mut h, inv, &findings);
    layers_section(&mut h, inv, &findings);
    packages_section(&mut h, r);
    suppressed_section(&mut h, r);
    diagnostics_section(&mut h, inv);
    h.push_str(SCRIPT);
    h.push_str("</body>\n</html>\n");
    h
}

fn header(h: &mut String, inv: &Inventory, o: &RenderOptions, advisories: Option<&str>) {
    let art = &inv.artifact;
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", esc(artifact_name(inv)));
    let mut facts = vec![
        format!("<span class=\"k\">target</span> {}", esc(art.kind.as_str())),
        format!("<span class=\"k\">OS</span> {}", esc(&os_name(inv))),
    ];
    if let Some(d) = art.digest() {
        facts.push(format!(
            "<span class=\"k\">digest</span> <code>{}</code>",
            esc(d)
        ));
    }
    if let Some(p) = &art.platform {
        facts.push(format!(
            "<span class=\"k\">platform</span> {}/{}",
            esc(&p.os),
            esc(&p.architecture)
        ));
    }
    facts.push(format!(
        "<span class=\"k\">scanned</span> <time>{}</time> by moat {}",
        esc(&crate::time::normalize(&o.timestamp)),
        esc(&inv.tool.version)
    ));
    let _ = writeln!(h, "<p class=\"facts\">{}</p>", facts.join(" · "));
    if let Some(a) = advisories.map(str::trim).filter(|a| !a.is_empty()) {
        let _ = writeln!(h, "<p class=\"facts\" id=\"advisories\">{}</p>", esc(a));
    }
    h.push_str("</header>\n");
}

fn summary(h: &mut String, r: &ScanReport, findings: &[&Finding]) {
    let inv = &r.inventory;
    let mut all = Counts::default();
    let mut by_kind: BTreeMap<FindingKind, Counts> = BTreeMap::new();
    for f in findings {
        all.add(f.severity);
        by_kind.entry(f.kind()).or_default().add(f.severity);
    }
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
    let _ = writeln!(
        h,
        "<a class=\"card total\" href=\"#\" data-filter=\"\"><b id=\"count-total\">{}</b><span>findings</span></a>",
        all.total()
    );
    for s in SEVERITIES {
        let _ = writeln!(
            h,
            "<a class=\"card sev-{c}\" href=\"#sev={c}\" data-sev=\"{c}\"><b id=\"count-{c}\">{n}</b><span>{label}</span></a>",
            c = sev_class(s),
            n = all.get(s),
            label = s.as_str().to_lowercase()
        );
    }
    h.push_str("</div>\n<div class=\"cards small\">\n");
    for k in KINDS {
        if let Some(c) = by_kind.get(&k) {
            let _ = writeln!(
                h,
                "<a class=\"card\" href=\"#kind={}\"><b>{}</b><span>{}</span></a>",
                k.as_str(),
                c.total(),
                kind_title(k).to_lowercase()
            );
        }
    }
    let fixable_n = findings.iter().filter(|f| fixable(f)).count();
    let kev = findings
        .iter()
        .filter(|f| f.kind() == FindingKind::Vulnerability && vd(f).kev)
        .count();
    for (n, label, href) in [
        (fixable_n, "fixable", "#fixable=1"),
        (kev, "known exploited (KEV)", "#kev=1"),
        (inv.packages.len(), "packages", "#packages"),
        (inv.artifact.layers.len(), "layers", "#layers"),
        (r.suppressed.len(), "suppressed", "#suppressed"),
    ] {
        let _ = writeln!(
            h,
            "<a class=\"card\" href=\"{href}\"><b>{n}</b><span>{label}</span></a>"
        );
    }
    h.push_str("</div>\n<div class=\"charts\">\n");
    severity_chart(h, &all);
    layer_chart(h, inv, findings);
    h.push_str("</div>\n</section>\n");
}

/// Horizontal bars, one per severity.
fn severity_chart(h: &mut String, all: &Counts) {
    let max = SEVERITIES
        .iter()
        .map(|s| all.get(*s))
        .max()
        .unwrap_or(0)
        .max(1);
    let (bar_w, row) = (300.0_f64, 26);
    let height = row * SEVERITIES.len() + 10;
    let _ = writeln!(
        h,
        "<figure><figcaption>Findings by severity</figcaption>\n<svg id=\"chart-severity\" role=\"img\" aria-label=\"findings by severity\" width=\"440\" height=\"{height}\" viewBox=\"0 0 440 {height}\">"
    );
    for (i, s) in SEVERITIES.iter().enumerate() {
        let n = all.get(*s);
        let y = 5 + i * row;
        let w = if n == 0 {
            0.0
        } else {
            (n as f64 / max as f64 * bar_w).max(2.0)
        };
        let _ = writeln!(
            h,
            "<text x=\"0\" y=\"{ty}\" class=\"lbl\">{label}</text><rect class=\"bar\" data-sev=\"{c}\" x=\"90\" y=\"{y}\" width=\"{w:.1}\" height=\"18\" fill=\"{color}\"><title>{label}: {n}</title></rect><text x=\"{tx:.1}\" y=\"{ty}\" class=\"num\">{n}</text>",
            ty = y + 14,
            label = s.as_str(),
            c = sev_class(*s),
            color = sev_color(*s),
            tx = 96.0 + w,
        );
    }
    h.push_str("</svg></figure>\n");
}

/// A stacked bar per layer: the findings it introduced, by severity.
fn layer_chart(h: &mut String, inv: &Inventory, findings: &[&Finding]) {
    let layers = &inv.artifact.layers;
    if layers.is_empty() {
        return;
    }
    let mut per: BTreeMap<usize, Counts> = BTreeMap::new();
    for f in findings {
        if let Some(l) = finding_layer(inv, f) {
            per.entry(l).or_default().add(f.severity);
        }
    }
    let max = per.values().map(Counts::total).max().unwrap_or(0).max(1);
    let (bar_w, row) = (300.0_f64, 22);
    let height = row * layers.len() + 10;
    let _ = writeln!(
        h,
        "<figure><figcaption>Findings by the layer that introduced them</figcaption>\n<svg id=\"chart-layers\" role=\"img\" aria-label=\"findings by layer\" width=\"440\" height=\"{height}\" viewBox=\"0 0 440 {height}\">"
    );
    for (i, layer) in layers.iter().enumerate() {
        let y = 5 + i * row;
        let _ = write!(
            h,
            "<a href=\"#layer={idx}\"><text x=\"0\" y=\"{ty}\" class=\"lbl\">layer {idx}</text>",
            idx = layer.index,
            ty = y + 13
        );
        let c = per.get(&layer.index);
        let mut x = 90.0_f64;
        for s in SEVERITIES {
            let n = c.map(|c| c.get(s)).unwrap_or(0);
            if n == 0 {
                continue;
            }
            let w = (n as f64 / max as f64 * bar_w).max(2.0);
            let _ = write!(
                h,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"16\" fill=\"{color}\"><title>layer {idx}, {label}: {n}</title></rect>",
                color = sev_color(s),
                idx = layer.index,
                label = s.as_str()
            );
            x += w;
        }
        let _ = writeln!(
            h,
            "<text x=\"{tx:.1}\" y=\"{ty}\" class=\"num\">{n}</text></a>",
            tx = x + 6.0,
            ty = y + 13,
            n = c.map(Counts::total).unwrap_or(0)
        );
    }
    h.push_str("</svg></figure>\n");
}

fn findings_section(h: &mut String, inv: &Inventory, findings: &[&Finding]) {
    h.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    h.push_str("<form class=\"filters\" id=\"filters\" onsubmit=\"return false\">\n");
    for s in SEVERITIES {
        let _ = writeln!(
            h,
            "<label class=\"sev-{c}\"><input type=\"checkbox\" name=\"sev\" value=\"{c}\" checked> {label}</label>",
            c = sev_class(s),
            label = s.as_str().to_lowercase()
        );
    }
    h.push_str("<select id=\"kind\" aria-label=\"kind\"><option value=\"\">every kind</option>");
    for k in KINDS {
        let _ = write!(
            h,
            "<option value=\"{}\">{}</option>",
            k.as_str(),
            kind_title(k).to_lowercase()
        );
    }
    h.push_str("</select>\n<select id=\"layer\" aria-label=\"layer\"><option value=\"\">every layer</option>");
    for l in &inv.artifact.layers {
        let _ = write!(h, "<option value=\"{0}\">layer {0}</option>", l.index);
    }
    h.push_str("</select>\n<label><input type=\"checkbox\" id=\"fixable\"> fixable only</label>\n");
    h.push_str("<label><input type=\"checkbox\" id=\"kev\"> KEV only</label>\n");
    h.push_str("<input type=\"search\" id=\"q\" placeholder=\"search id, package, path...\" aria-label=\"search\">\n");
    let _ = writeln!(
        h,
        "<output id=\"shown\">{n} of {n}</output>\n</form>",
        n = findings.len()
    );
    if findings.is_empty() {
        h.push_str("<p class=\"none\" id=\"no-findings\">No findings.</p>\n</section>\n");
        return;
    }
    h.push_str("<table id=\"findings-table\">\n<thead><tr><th>Severity</th><th>ID</th><th>Kind</th><th>Package / where</th><th>Status</th><th>Fixed in</th><th>Layer</th><th>Details</th></tr></thead>\n<tbody>\n");
    for f in findings {
        finding_row(h, inv, f);
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn finding_row(h: &mut String, inv: &Inventory, f: &Finding) {
    let c = sev_class(f.severity);
    let layer = finding_layer(inv, f);
    let v = vd(f);
    let _ = writeln!(
        h,
        "<tr class=\"finding\" data-sev=\"{c}\" data-kind=\"{k}\" data-layer=\"{l}\" data-fixable=\"{fx}\" data-kev=\"{kev}\" data-text=\"{t}\">",
        k = f.kind().as_str(),
        l = layer.map(|l| l.to_string()).unwrap_or_default(),
        fx = u8::from(fixable(f)),
        kev = u8::from(f.kind() == FindingKind::Vulnerability && v.kev),
        t = esc(&search_text(f)),
    );
    let score = best_score(f)
        .map(|s| format!(" <small>{s:.1}</small>"))
        .unwrap_or_default();
    let kev = if f.kind() == FindingKind::Vulnerability && v.kev {
        " <span class=\"badge kev\" title=\"CISA Known Exploited Vulnerabilities\">KEV</span>"
    } else {
        ""
    };
    let _ = writeln!(
        h,
        "<td><span class=\"sev sev-{c}\">{}</span>{score}</td>",
        f.severity.as_str()
    );
    let aliases = if f.aliases.is_empty() {
        String::new()
    } else {
        format!("<br><small>{}</small>", esc(&f.aliases.join(", ")))
    };
    let _ = writeln!(h, "<td class=\"id\">{}{kev}{aliases}</td>", esc(&f.id));
    let _ = writeln!(h, "<td>{}</td>", f.kind().as_str());
    let _ = writeln!(h, "<td>{}</td>", esc(&subject(f)));
    let status = match &f.detail {
        Detail::Vulnerability(_) => f.status.as_str().replace('_', " "),
        Detail::Secret(s) if s.deleted => match s.deleted_in_layer {
            Some(l) => format!("removed in layer {l}, still in the image"),
            None => "removed, still in the image".to_string(),
        },
        _ => String::new(),
    };
    let _ = writeln!(h, "<td>{}</td>", esc(&status));
    let _ = writeln!(
        h,
        "<td>{}</td>",
        esc(v.fixed_version.as_deref().unwrap_or(""))
    );
    let _ = writeln!(
        h,
        "<td>{}</td>",
        layer.map(|l| l.to_string()).unwrap_or_default()
    );
    let title = headline(f);
    let _ = writeln!(
        h,
        "<td><details><summary>{}</summary>",
        if title.is_empty() {
            "details".to_string()
        } else {
            esc(&title)
        }
    );
    details(h, f);
    h.push_str("</details></td>\n</tr>\n");
}

/// The body of a finding's `<details>`: how it matched, where, scores, references.
fn details(h: &mut String, f: &Finding) {
    let mut dl: Vec<(&str, String)> = Vec::new();
    if let Some(l) = &f.location {
        let d = l.display();
        if !d.is_empty() {
            dl.push(("where", esc(&d)));
        }
    }
    match &f.detail {
        Detail::Vulnerability(v) => {
            if let Some(p) = &v.package {
                dl.push(("package", format!("<code>{}</code>", esc(&p.purl))));
                if let Some(path) = &p.path {
                    dl.push(("found in", esc(path)));
                }
            }
            for m in &v.matched {
                let mut s = format!(
                    "{} in {} ({}): {} {} is in {}",
                    esc(&m.advisory),
                    esc(&m.source),
                    esc(&m.ecosystem),
                    esc(&m.package),
                    esc(&m.installed),
                    esc(&m.range)
                );
                if let Some(fx) = &m.fixed {
                    let _ = write!(s, ", fixed in {}", esc(fx));
                }
                dl.push(("matched", s));
            }
            for c in &v.cvss {
                let score = c.score.map(|s| format!(" {s:.1}")).unwrap_or_default();
                dl.push((
                    "CVSS",
                    format!("{}{score} <code>{}</code>", esc(&c.version), esc(&c.vector)),
                ));
            }
            refs(&mut dl, &v.references);
        }
        Detail::Secret(s) => {
            dl.push(("rule", esc(&s.rule)));
            if let Some(c) = &s.category {
                dl.push(("category", esc(c)));
            }
            dl.push(("match", format!("<code>{}</code>", esc(&s.redacted))));
            if let Some(v) = &s.value {
                dl.push(("value", format!("<code>{}</code>", esc(v))));
            }
            if let Some(c) = &s.commit {
                dl.push(("commit", format!("<code>{}</code>", esc(c))));
            }
            for (k, v) in [("author", &s.author), ("date", &s.date)] {
                if let Some(v) = v {
                    dl.push((k, esc(v)));
                }
            }
        }
        Detail::Misconfiguration(m) => {
            dl.push(("rule", esc(&m.rule)));
            dl.push(("type", esc(&m.target_type)));
            dl.push(("message", esc(&m.message)));
            if let Some(r) = &m.resolution {
                dl.push(("resolution", esc(r)));
            }
            if let Some(c) = &m.cause {
                dl.push(("cause", format!("<pre>{}</pre>", esc(c))));
            }
            refs(&mut dl, &m.references);
        }
        Detail::Runtime(rt) => {
            dl.push(("source", esc(&rt.source)));
            dl.push(("priority", esc(&rt.priority)));
            if let Some(t) = &rt.time {
                dl.push(("time", esc(t)));
            }
            dl.push(("output", esc(&rt.output)));
            if !rt.tags.is_empty() {
                dl.push(("tags", esc(&rt.tags.join(", "))));
            }
        }
    }
    h.push_str("<dl>");
    for (k, v) in dl {
        let _ = write!(h, "<dt>{k}</dt><dd>{v}</dd>");
    }
    h.push_str("</dl>");
}

fn refs(dl: &mut Vec<(&str, String)>, references: &[String]) {
    if !references.is_empty() {
        let links: Vec<String> = references.iter().map(|r| link(r)).collect();
        dl.push(("references", links.join("<br>")));
    }
}

fn layers_section(h: &mut String, inv: &Inventory, findings: &[&Finding]) {
    let layers = &inv.artifact.layers;
    if layers.is_empty() {
        return;
    }
    let mut pkgs: BTreeMap<usize, Vec<&moat_model::Package>> = BTreeMap::new();
    for p in &inv.packages {
        if let Some(l) = p.layer_index() {
            pkgs.entry(l).or_default().push(p);
        }
    }
    let mut found: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(l) = finding_layer(inv, f) {
            found.entry(l).or_default().push(f);
        }
    }
    h.push_str("<section id=\"layers\">\n<h2>Layers</h2>\n");
    for l in layers {
        let ps = pkgs.get(&l.index).map(Vec::as_slice).unwrap_or(&[]);
        let fs = found.get(&l.index).map(Vec::as_slice).unwrap_or(&[]);
        let mut counts = Counts::default();
        for f in fs {
            counts.add(f.severity);
        }
        let badges: String = SEVERITIES
            .iter()
            .filter(|s| counts.get(**s) > 0)
            .map(|s| {
                format!(
                    " <span class=\"sev sev-{}\">{} {}</span>",
                    sev_class(*s),
                    counts.get(*s),
                    s.as_str().to_lowercase()
                )
            })
            .collect();
        let _ = writeln!(
            h,
            "<details class=\"layer\" id=\"layer-{i}\" data-layer=\"{i}\"><summary><b>layer {i}</b> <code class=\"cmd\">{cmd}</code> <span class=\"muted\">{np} packages, {nf} findings</span>{badges}</summary>",
            i = l.index,
            cmd = esc(l.created_by.as_deref().unwrap_or("")),
            np = ps.len(),
            nf = fs.len()
        );
        let mut facts = Vec::new();
        if let Some(d) = l.diff_id.as_deref().or(l.digest.as_deref()) {
            facts.push(format!("<code>{}</code>", esc(d)));
        }
        if let Some(s) = l.size {
            facts.push(format!("{} bytes", s));
        }
        if !facts.is_empty() {
            let _ = writeln!(h, "<p class=\"facts\">{}</p>", facts.join(" · "));
        }
        if !fs.is_empty() {
            h.push_str("<p><b>Findings introduced here:</b> ");
            let items: Vec<String> = fs
                .iter()
                .map(|f| {
                    format!(
                        "<span class=\"sev sev-{}\">{}</span> {} <small>{}</small>",
                        sev_class(f.severity),
                        f.severity.as_str(),
                        esc(&f.id),
                        esc(&subject(f))
                    )
                })
                .collect();
            h.push_str(&items.join("; "));
            h.push_str("</p>\n");
        }
        if !ps.is_empty() {
            h.push_str("<p><b>Packages introduced here:</b> ");
            let items: Vec<String> = ps
                .iter()
                .map(|p| format!("{} {}", esc(&p.name), esc(&p.version)))
                .collect();
            h.push_str(&items.join(", "));
            h.push_str("</p>\n");
        }
        h.push_str("</details>\n");
    }
    h.push_str("</section>\n");
}

fn packages_section(h: &mut String, r: &ScanReport) {
    let inv = &r.inventory;
    let mut per_pkg: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &r.findings {
        if let Some(p) = f.package() {
            *per_pkg.entry(p.id.as_str()).or_default() += 1;
        }
    }
    let mut pkgs: Vec<&moat_model::Package> = inv.packages.iter().collect();
    pkgs.sort_by(|a, b| {
        (&*a.kind, &*a.name, &*a.version, &*a.id).cmp(&(&*b.kind, &*b.name, &*b.version, &*b.id))
    });
    let _ = writeln!(
        h,
        "<section id=\"packages\">\n<h2>Packages <small>({})</small></h2>",
        pkgs.len()
    );
    if pkgs.is_empty() {
        h.push_str("<p class=\"none\">No packages.</p>\n</section>\n");
        return;
    }
    h.push_str("<input type=\"search\" id=\"pq\" placeholder=\"search packages...\" aria-label=\"search packages\"> <output id=\"pshown\"></output>\n");
    h.push_str("<table id=\"packages-table\">\n<thead><tr><th>Name</th><th>Version</th><th>Type</th><th>Layer</th><th>Findings</th><th>Where</th><th>Licences</th></tr></thead>\n<tbody>\n");
    for p in pkgs {
        let n = per_pkg.get(&*p.id).copied().unwrap_or(0);
        let wher: Vec<&str> = p.locations.iter().map(|l| &*l.path).collect();
        let lic: Vec<&str> = p.licenses.iter().map(|l| &**l).collect();
        let purl = p.purl();
        let _ = writeln!(
            h,
            "<tr class=\"package\" data-text=\"{t}\"><td title=\"{purl}\">{name}</td><td>{ver}</td><td>{kind}</td><td>{layer}</td><td>{n}</td><td>{wher}</td><td>{lic}</td></tr>",
            t = esc(
                &format!("{} {} {} {}", p.name, p.version, purl, wher.join(" ")).to_lowercase()
            ),
            purl = esc(&purl),
            name = esc(&p.name),
            ver = esc(&p.version),
            kind = esc(&p.kind),
            layer = p.layer_index().map(|l| l.to_string()).unwrap_or_default(),
            wher = esc(&wher.join(", ")),
            lic = esc(&lic.join(", ")),
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn suppressed_section(h: &mut String, r: &ScanReport) {
    if r.suppressed.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<section id=\"suppressed\">\n<h2>Suppressed <small>({})</small></h2>\n<table id=\"suppressed-table\">\n<thead><tr><th>Severity</th><th>ID</th><th>Package / where</th><th>Why</th></tr></thead>\n<tbody>",
        r.suppressed.len()
    );
    for f in ordered(&r.suppressed) {
        let why = f
            .suppressed
            .as_ref()
            .map(why_suppressed)
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td><span class=\"sev sev-{c}\">{s}</span></td><td>{id}</td><td>{sub}</td><td>{why}</td></tr>",
            c = sev_class(f.severity),
            s = f.severity.as_str(),
            id = esc(&f.id),
            sub = esc(&subject(f)),
            why = esc(&why)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn diagnostics_section(h: &mut String, inv: &Inventory) {
    if inv.diagnostics.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<section id=\"diagnostics\">\n<h2>Diagnostics <small>({})</small></h2>\n<ul>",
        inv.diagnostics.len()
    );
    for d in &inv.diagnostics {
        let mut wher = d.path.clone().unwrap_or_default();
        if let Some(l) = d.line {
            let _ = write!(wher, ":{l}");
        }
        if let Some(l) = d.layer {
            let _ = write!(wher, " (layer {l})");
        }
        let _ = writeln!(
            h,
            "<li><code>{}</code> {} <span class=\"muted\">{}</span></li>",
            esc(d.code.as_str()),
            esc(&d.message),
            esc(wher.trim())
        );
    }
    h.push_str("</ul>\n</section>\n");
}

const STYLE: &str = r#"<style>
:root{--fg:#1d1d1f;--muted:#666;--bg:#fff;--line:#e3e3e3;--head:#f6f6f7}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:16px 24px;max-width:1400px}
h1{font-size:22px;margin:0 0 4px;word-break:break-all}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.facts{color:var(--muted);margin:2px 0}.k{font-weight:600;color:var(--fg)}.muted{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{display:flex;flex-direction:column;min-width:110px;padding:10px 14px;border:1px solid var(--line);border-radius:8px;text-decoration:none;color:var(--fg);background:var(--head)}
.card b{font-size:24px}.cards.small .card b{font-size:18px}.card span{color:var(--muted)}
.card.sev-critical{border-left:6px solid #b3261e}.card.sev-high{border-left:6px solid #e8590c}.card.sev-medium{border-left:6px solid #d4a106}.card.sev-low{border-left:6px solid #2f6fd6}.card.sev-unknown{border-left:6px solid #8a8a8a}
.charts{display:flex;flex-wrap:wrap;gap:24px}figure{margin:8px 0}figcaption{font-weight:600;margin-bottom:4px}
svg text{font:12px system-ui,sans-serif}svg .num{fill:var(--muted)}
.sev{display:inline-block;padding:1px 6px;border-radius:4px;color:#fff;font-size:11px;font-weight:700;letter-spacing:.02em}
.sev-critical.sev{background:#b3261e}.sev-high.sev{background:#e8590c}.sev-medium.sev{background:#d4a106}.sev-low.sev{background:#2f6fd6}.sev-unknown.sev{background:#8a8a8a}
.badge{display:inline-block;padding:0 5px;border-radius:4px;font-size:11px;font-weight:700}.kev{background:#222;color:#fff}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:6px 0 10px;padding:8px;background:var(--head);border-radius:8px}
.filters input[type=search]{min-width:260px;padding:4px 6px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line)}
th{background:var(--head);position:sticky;top:0}td{overflow-wrap:anywhere}td.id{white-space:nowrap;overflow-wrap:normal}
#findings-table td:last-child{min-width:280px;width:32%}
details summary{cursor:pointer}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}dt{font-weight:600;color:var(--muted)}dd{margin:0;word-break:break-word}
pre{white-space:pre-wrap;margin:0}
details.layer{border:1px solid var(--line);border-radius:8px;padding:6px 10px;margin:6px 0}details.layer .cmd{color:var(--muted)}
tr[hidden]{display:none}.none{color:var(--muted)}
</style>
"#;

/// The filters. Reads and writes the URL fragment; marks the page `data-ready="1"` when it
/// has run, and records an uncaught error in `data-error` (the browser test reads both).
const SCRIPT: &str = r##"<script>
(function () {
  "use strict";
  var root = document.documentElement;
  window.addEventListener("error", function (e) { root.setAttribute("data-error", String(e.message || e)); });
  function $(id) { return document.getElementById(id); }
  var rows = Array.prototype.slice.call(document.querySelectorAll("#findings-table tbody tr.finding"));
  var sevs = Array.prototype.slice.call(document.querySelectorAll("#filters input[name=sev]"));
  var kind = $("kind"), layer = $("layer"), fixable = $("fixable"), kev = $("kev"), q = $("q"), shown = $("shown");
  function state() {
    var on = sevs.filter(function (s) { return s.checked; }).map(function (s) { return s.value; });
    var parts = [];
    if (on.length !== sevs.length) parts.push("sev=" + on.join(","));
    if (kind.value) parts.push("kind=" + kind.value);
    if (layer.value) parts.push("layer=" + layer.value);
    if (fixable.checked) parts.push("fixable=1");
    if (kev.checked) parts.push("kev=1");
    if (q.value.trim()) parts.push("q=" + encodeURIComponent(q.value.trim()));
    return parts.join("&");
  }
  function apply() {
    var on = {};
    sevs.forEach(function (s) { on[s.value] = s.checked; });
    var text = q.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (r) {
      var d = r.dataset;
      var ok = on[d.sev] && (!kind.value || d.kind === kind.value) && (!layer.value || d.layer === layer.value) &&
        (!fixable.checked || d.fixable === "1") && (!kev.checked || d.kev === "1") &&
        (!text || d.text.indexOf(text) >= 0);
      r.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n + " of " + rows.length;
    root.setAttribute("data-shown", String(n));
  }
  function fromHash() {
    var h = window.location.hash.replace(/^#/, "");
    if (h === "" || /^(findings|layers|packages|suppressed|diagnostics|summary|layer-\d+)$/.test(h)) {
      if (h === "") { sevs.forEach(function (s) { s.checked = true; }); kind.value = ""; layer.value = ""; fixable.checked = false; kev.checked = false; q.value = ""; }
      apply();
      return;
    }
    var p = {};
    h.split("&").forEach(function (kv) { var i = kv.indexOf("="); if (i > 0) p[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); });
    var want = p.sev ? p.sev.split(",") : null;
    sevs.forEach(function (s) { s.checked = !want || want.indexOf(s.value) >= 0; });
    kind.value = p.kind || ""; layer.value = p.layer || ""; fixable.checked = p.fixable === "1"; kev.checked = p.kev === "1"; q.value = p.q || "";
    apply();
    var f = $("findings"); if (f && f.scrollIntoView && h !== "") f.scrollIntoView();
  }
  function onChange() {
    apply();
    var s = state();
    if (window.history && window.history.replaceState) window.history.replaceState(null, "", s ? "#" + s : window.location.pathname + window.location.search);
  }
  sevs.concat([kind, layer, fixable, kev]).forEach(function (el) { el.addEventListener("change", onChange); });
  q.addEventListener("input", onChange);
  window.addEventListener("hashchange", fromHash);
  var prows = Array.prototype.slice.call(document.querySelectorAll("#packages-table tbody tr.package"));
  var pq = $("pq"), pshown = $("pshown");
  function applyPackages() {
    var t = pq ? pq.value.trim().toLowerCase() : "", n = 0;
    prows.forEach(function (r) { var ok = !t || r.dataset.text.indexOf(t) >= 0; r.hidden = !ok; if (ok) n++; });
    if (pshown) pshown.textContent = n + " of " + prows.length;
  }
  if (pq) pq.addEventListener("input", applyPackages);
  applyPackages();
  fromHash();
  root.setAttribute("data-ready", "1");
})();
</script>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>\u{1b}[31m"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;\u{FFFD}[31m"
        );
    }

    #[test]
    fn only_http_urls_become_links() {
        assert_eq!(
            link("https://example.com/a?b=1&c=2"),
            "<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer\">https://example.com/a?b=1&amp;c=2</a>"
        );
        assert_eq!(link("javascript:alert(1)"), "javascript:alert(1)");
        assert_eq!(link("https://a b"), "https://a b");
    }
}
