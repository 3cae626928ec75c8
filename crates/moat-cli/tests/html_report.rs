//! `moat scan --format html` of a real image (lang-app, with the advisory database of all of
//! `../shared/data/vulns`, vulnerabilities and secrets), checked against the JSON report of
//! the same scan, then opened in a real browser (Debian's chromium, headless): the page's
//! script runs without an error, its filters show the rows the JSON report says they should,
//! and screenshots are taken and read back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's chromium (`MOAT_CHROMIUM` to use another); `.ci/run` installs it.
fn chromium() -> Option<PathBuf> {
    let p = std::env::var_os("MOAT_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromium".into());
    needed(p, "Debian's chromium (apt-get install chromium)")
}

/// Runs headless chromium on `url` with `args` (no network, a fresh profile), at most 120 s.
fn browser(chrome: &Path, profile: &Path, args: &[&str], url: &str) -> std::process::Output {
    let o = Command::new("timeout")
        .arg("120")
        .arg(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(o.status.success(), "chromium: {}", stderr(&o));
    o
}

/// The value of attribute `name` on the `<html>` element of a dumped DOM.
fn root_attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<html")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..].split('"').next()?.to_string())
}

/// Pixels of the screenshot within a small distance of `rgb`.
fn pixels_of(png_path: &Path, rgb: [u8; 3]) -> (usize, u32, u32) {
    let f = std::fs::File::open(png_path).expect("screenshot");
    let mut dec = png::Decoder::new(std::io::BufReader::new(f));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let step = info.color_type.samples();
    assert!(step >= 3, "an RGB(A) screenshot");
    let n = buf[..info.buffer_size()]
        .chunks_exact(step)
        .filter(|p| (0..3).all(|i| p[i].abs_diff(rgb[i]) <= 6))
        .count();
    (n, info.width, info.height)
}

#[test]
fn the_html_report_of_lang_app_renders_and_filters_in_a_browser() {
    let Some(shared) = shared() else { return };
    let Some(out) = images() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = build_db(dir.path(), "full.db", &shared.join("data/vulns"));
    let target = format!(
        "docker-archive:{}",
        out.join("lang-app.docker.tar").display()
    );
    let scan = |format: &str, file: &Path| {
        let o = moat([
            "scan".as_ref(),
            target.as_ref(),
            "--db".as_ref(),
            db.as_os_str(),
            "--offline".as_ref(),
            "--scanners".as_ref(),
            "vuln,secret".as_ref(),
            "--format".as_ref(),
            format.as_ref(),
            "-o".as_ref(),
            file.as_os_str(),
            "--quiet".as_ref(),
        ]);
        assert!(o.status.success(), "scan {format}: {}", stderr(&o));
    };
    let (json_path, html_path) = (dir.path().join("r.json"), dir.path().join("r.html"));
    scan("json", &json_path);
    scan("html", &html_path);
    let report: Value =
        serde_json::from_slice(&std::fs::read(&json_path).expect("json")).expect("json");
    let page = std::fs::read_to_string(&html_path).expect("html");
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings.len() > 50,
        "lang-app has findings with the shared db"
    );
    let count = |pred: &dyn Fn(&Value) -> bool| findings.iter().filter(|f| pred(f)).count();
    // The page holds what the JSON report holds.
    assert_eq!(
        page.matches("<tr class=\"finding\"").count(),
        findings.len()
    );
    let secrets = count(&|f| f["kind"] == "secret");
    assert!(secrets > 0, "lang-app's leaked token is found");
    assert_eq!(page.matches("data-kind=\"secret\"").count(), secrets);
    for f in findings {
        let id = f["id"].as_str().expect("id");
        assert!(page.contains(id), "{id} is on the page");
    }
    let packages = report["packages"].as_array().expect("packages").len();
    assert_eq!(page.matches("<tr class=\"package\"").count(), packages);
    assert!(page.contains("id=\"advisories\">Advisories: "));

    let Some(chrome) = chromium() else { return };
    let profile = dir.path().join("profile");
    let url = |frag: &str| format!("file://{}{frag}", html_path.display());
    // The script runs, without an error, and shows every row.
    let dom = stdout(&browser(&chrome, &profile, &["--dump-dom"], &url("")));
    assert_eq!(
        root_attr(&dom, "data-ready").as_deref(),
        Some("1"),
        "the script ran"
    );
    assert_eq!(root_attr(&dom, "data-error"), None, "no script error");
    assert_eq!(
        root_attr(&dom, "data-shown"),
        Some(findings.len().to_string())
    );
    // Filters from the URL fragment: a severity, a kind, a search.
    let high = count(&|f| f["severity"] == "HIGH");
    let fixable_high = count(&|f| f["severity"] == "HIGH" && f["fixed_version"].is_string());
    let dom = stdout(&browser(
        &chrome,
        &profile,
        &["--dump-dom"],
        &url("#sev=high"),
    ));
    assert_eq!(root_attr(&dom, "data-shown"), Some(high.to_string()));
    let dom = stdout(&browser(
        &chrome,
        &profile,
        &["--dump-dom"],
        &url("#sev=high&fixable=1"),
    ));
    assert_eq!(
        root_attr(&dom, "data-shown"),
        Some(fixable_high.to_string())
    );
    let dom = stdout(&browser(
        &chrome,
        &profile,
        &["--dump-dom"],
        &url("#kind=secret"),
    ));
    assert_eq!(root_attr(&dom, "data-shown"), Some(secrets.to_string()));
    let some_id = findings[0]["id"].as_str().expect("id");
    let dom = stdout(&browser(
        &chrome,
        &profile,
        &["--dump-dom"],
        &url(&format!("#q={}", some_id.to_lowercase())),
    ));
    let shown: usize = root_attr(&dom, "data-shown")
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(
        shown >= 1 && shown < findings.len(),
        "searching {some_id} shows {shown}"
    );

    // Screenshots: the whole page, and the page filtered to secrets only. The HIGH badges
    // of the hidden vulnerability rows leave the second one.
    let shot = |name: &str, frag: &str| {
        let p = dir.path().join(name);
        browser(
            &chrome,
            &profile,
            &[
                "--window-size=1280,6000",
                &format!("--screenshot={}", p.display()),
            ],
            &url(frag),
        );
        p
    };
    let high_color = [0xe8, 0x59, 0x0c];
    let all = shot("all.png", "");
    let only_secrets = shot("secrets.png", "#kind=secret");
    let (n_all, w, h) = pixels_of(&all, high_color);
    assert_eq!((w, h), (1280, 6000));
    let (n_secrets, _, _) = pixels_of(&only_secrets, high_color);
    let white = pixels_of(&all, [0xff, 0xff, 0xff]).0;
    assert!(white < (w * h) as usize, "the screenshot is not blank");
    assert!(high > 0, "lang-app has HIGH findings");
    assert!(
        n_all > n_secrets + 200 * high.min(20),
        "HIGH-coloured pixels: {n_all} with every row, {n_secrets} with secrets only"
    );
}
