//! `moat scan --format html` of the fixture reports: the page byte for byte (golden), its
//! counts against the report, and what hostile text becomes.
//!
//! After an intended change of the page, regenerate and review the diff:
//! `MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report --test scan_html`

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "scan_fixture.rs"]
mod fixture;

use fixture::check;
use moat_model::{Finding, FindingKind, Severity};

const ADVISORIES: &str =
    "Advisories: /db/moat.db: Debian (2 days, 4311 records), PyPI (2 days, 1287 records)";

fn html(r: &moat_model::ScanReport) -> String {
    String::from_utf8(moat_report::scan_html(
        r,
        &fixture::options(),
        Some(ADVISORIES),
    ))
    .expect("utf-8")
}

/// The number inside `<b id="ID">N</b>`.
fn card(page: &str, id: &str) -> usize {
    let start = format!("<b id=\"{id}\">");
    let at = page.find(&start).unwrap_or_else(|| panic!("no card {id}")) + start.len();
    page[at..]
        .split('<')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

#[test]
fn golden_scan_html() {
    check("scan-all.html", html(&fixture::every_kind()).as_bytes());
}

#[test]
fn the_page_counts_what_the_report_holds() {
    let r = fixture::every_kind();
    let page = html(&r);
    assert_eq!(
        page.matches("<tr class=\"finding\"").count(),
        r.findings.len()
    );
    assert_eq!(card(&page, "count-total"), r.findings.len());
    for (s, id) in [
        (Severity::Critical, "count-critical"),
        (Severity::High, "count-high"),
        (Severity::Medium, "count-medium"),
        (Severity::Low, "count-low"),
        (Severity::Unknown, "count-unknown"),
    ] {
        let want = r.findings.iter().filter(|f| f.severity == s).count();
        assert_eq!(card(&page, id), want, "{id}");
    }
    // Every kind present has its rows, tagged for the kind filter.
    for k in [
        FindingKind::Vulnerability,
        FindingKind::Secret,
        FindingKind::Misconfiguration,
        FindingKind::Runtime,
    ] {
        let want = r.findings.iter().filter(|f| f.kind() == k).count();
        assert!(want > 0, "the fixture has every kind");
        assert_eq!(
            page.matches(&format!("data-kind=\"{}\"", k.as_str()))
                .count(),
            want,
            "{k:?}"
        );
    }
    // One block per layer, and the suppressed findings with their reasons.
    assert_eq!(
        page.matches("<details class=\"layer\"").count(),
        r.inventory.artifact.layers.len()
    );
    assert!(page.contains(&format!(
        "<h2>Suppressed <small>({})</small></h2>",
        r.suppressed.len()
    )));
    assert!(page.contains(&format!(
        "<h2>Packages <small>({})</small></h2>",
        r.inventory.packages.len()
    )));
    assert_eq!(
        page.matches("<tr class=\"package\"").count(),
        r.inventory.packages.len()
    );
    assert!(page.contains("id=\"advisories\">Advisories: /db/moat.db: Debian (2 days"));
    // The secret a later layer deleted says so, with the layer it is in.
    let secret: &Finding = r
        .findings
        .iter()
        .find(|f| f.kind() == FindingKind::Secret)
        .expect("a secret");
    let layer = secret
        .location
        .as_ref()
        .and_then(|l| l.layer)
        .expect("layer");
    assert!(page.contains("still in the image"));
    assert!(page.contains(&format!("data-kind=\"secret\" data-layer=\"{layer}\"")));
    // Nothing is fetched when the page opens.
    assert!(page.contains("content=\"default-src 'none';"));
    assert!(!page.contains(" src="));
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn hostile_text_stays_text() {
    let mut r = fixture::hostile();
    let f = &mut r.findings[0];
    f.id = "\"><img src=x onerror=alert(1)>".into();
    f.title = Some("</script><script>alert(1)</script>".into());
    if let Some(v) = f.vulnerability_mut() {
        v.references = vec![
            "javascript:alert(1)".into(),
            "https://ok.example/a\"b".into(),
        ];
    }
    let page = html(&r);
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!page.contains("<img"));
    assert!(!page.contains("href=\"javascript"));
    assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("href=\"https://ok.example/a&quot;b\""));
    assert!(!page.contains('\u{1b}'), "control characters are replaced");
    assert!(!page.contains('\u{7}'));
    assert_eq!(page, html(&r), "the same report gives the same page");
}

#[test]
fn an_empty_report_says_so() {
    let page = html(&fixture::empty());
    assert!(page.contains("<p class=\"none\" id=\"no-findings\">No findings.</p>"));
    assert_eq!(card(&page, "count-total"), 0);
    assert!(page.ends_with("</html>\n"));
}
