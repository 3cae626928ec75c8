//! The `moat scan` reports of the fixture report (`scan_fixture.rs`), byte for byte, and
//! their structure.
//!
//! After an intended change of an output, regenerate and review the diff:
//! `MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report`

#[path = "scan_fixture.rs"]
mod fixture;

use moat_model::ScanReport;
use moat_report::RenderOptions;
use serde_json::Value;
use std::path::PathBuf;

fn check(name: &str, actual: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("MOAT_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}\nrun `MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report` to create it",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let (exp, act) = (
        String::from_utf8_lossy(&expected).into_owned(),
        String::from_utf8_lossy(actual).into_owned(),
    );
    let (exp, act): (Vec<&str>, Vec<&str>) = (exp.lines().collect(), act.lines().collect());
    let first = exp
        .iter()
        .zip(&act)
        .position(|(e, a)| e != a)
        .unwrap_or(exp.len().min(act.len()));
    panic!(
        "{name} differs from {} at line {}:\n- {}\n+ {}\nIf intended: MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report, then review `git diff`.",
        path.display(),
        first + 1,
        exp.get(first).unwrap_or(&"<end>"),
        act.get(first).unwrap_or(&"<end>"),
    );
}

fn color() -> RenderOptions {
    RenderOptions {
        color: true,
        ..fixture::options()
    }
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("valid JSON")
}

#[test]
fn golden_scan_json() {
    check("scan.json", &moat_report::scan_json(&fixture::report()));
}

#[test]
fn golden_sarif() {
    check(
        "scan.sarif.json",
        &moat_report::sarif(&fixture::report(), &fixture::options()),
    );
}

#[test]
fn golden_cyclonedx_vulns() {
    check(
        "scan.cdx.json",
        &moat_report::cyclonedx_vulns(&fixture::report(), &fixture::options()),
    );
}

#[test]
fn golden_scan_table() {
    check(
        "scan.table.txt",
        moat_report::scan_table(&fixture::report(), &fixture::options()).as_bytes(),
    );
    check(
        "scan.table-color.txt",
        moat_report::scan_table(&fixture::report(), &color()).as_bytes(),
    );
}

#[test]
fn scan_json_is_the_inventory_document_plus_findings() {
    let r = fixture::report();
    let bytes = moat_report::scan_json(&r);
    assert!(bytes.ends_with(b"}\n"));
    let back: ScanReport = serde_json::from_slice(&bytes).expect("parses back");
    assert_eq!(back, r);
    let v = json(&bytes);
    for key in [
        "schema_version",
        "tool",
        "artifact",
        "packages",
        "findings",
        "suppressed",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let f = &v["findings"][0];
    for key in [
        "kind", "id", "aliases", "severity", "status", "package", "match",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}");
    }
    // `suppressed` is always there, empty when nothing is suppressed
    let v = json(&moat_report::scan_json(&fixture::empty()));
    assert_eq!(v["suppressed"], Value::Array(vec![]));
    assert_eq!(v["findings"], Value::Array(vec![]));
}

#[test]
fn sarif_structure() {
    let v = json(&moat_report::sarif(&fixture::report(), &fixture::options()));
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "moat");
    let rules = driver["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 5, "four findings and one suppressed");
    assert_eq!(rules.len(), 5);
    let result = |id: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == id)
            .unwrap_or_else(|| panic!("no result for {id}"))
    };
    assert_eq!(result("CVE-2024-2961")["level"], "error");
    assert_eq!(result("CVE-2023-32681")["level"], "warning");
    assert_eq!(result("CVE-2023-31484")["level"], "note");
    let loc = &result("CVE-2024-2961")["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "var/lib/dpkg/status"
    );
    assert_eq!(
        loc["logicalLocations"][0]["fullyQualifiedName"],
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
    );
    assert_eq!(
        result("CVE-2023-44487")["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "app/server"
    );
    assert_eq!(
        result("CVE-2023-47038")["suppressions"][0]["kind"],
        "external"
    );
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(
            r["partialFingerprints"]
                .as_object()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let rule = rules.iter().find(|r| r["id"] == "CVE-2024-2961").unwrap();
    assert_eq!(rule["properties"]["security-severity"], "8.1");
    assert_eq!(
        rule["helpUri"],
        "https://security-tracker.debian.org/tracker/CVE-2024-2961"
    );
    let kev = rules.iter().find(|r| r["id"] == "CVE-2023-44487").unwrap();
    assert!(
        kev["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("known-exploited"))
    );
}

#[test]
fn cyclonedx_vulns_extend_the_sbom() {
    let r = fixture::report();
    let o = fixture::options();
    let with = json(&moat_report::cyclonedx_vulns(&r, &o));
    let sbom = json(&moat_report::cyclonedx(&r.inventory, &o));
    for key in ["serialNumber", "metadata", "components", "dependencies"] {
        assert_eq!(with[key], sbom[key], "{key} differs from the SBOM");
    }
    let refs: Vec<&str> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    let vulns = with["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 5, "four findings and the VEX-suppressed one");
    for v in vulns {
        let r = v["affects"][0]["ref"].as_str().unwrap();
        assert!(refs.contains(&r), "{r} is not a component");
    }
    let glibc = vulns.iter().find(|v| v["id"] == "CVE-2024-2961").unwrap();
    assert_eq!(glibc["references"].as_array().unwrap().len(), 3);
    assert_eq!(glibc["recommendation"], "Upgrade to 2.36-9+deb12u7");
    assert_eq!(glibc["ratings"][1]["method"], "CVSSv31");
    assert_eq!(glibc["ratings"][1]["score"], 8.1);
    assert_eq!(glibc["ratings"][0]["severity"], "high");
    assert_eq!(glibc["affects"][0]["versions"][0]["status"], "affected");
    let vex = vulns.iter().find(|v| v["id"] == "CVE-2023-47038").unwrap();
    assert_eq!(vex["analysis"]["state"], "not_affected");
    assert_eq!(vex["analysis"]["justification"], "code_not_reachable");
    assert_eq!(vex["affects"][0]["versions"][0]["status"], "unaffected");
    // nothing found: no vulnerabilities key, the SBOM as it is
    let e = fixture::empty();
    assert_eq!(
        json(&moat_report::cyclonedx_vulns(&e, &o)),
        json(&moat_report::cyclonedx(&e.inventory, &o))
    );
}

#[test]
fn table_groups_by_package_and_colours_severities() {
    let plain = moat_report::scan_table(&fixture::report(), &fixture::options());
    assert!(!plain.contains('\x1b'));
    assert!(plain.contains("libc6 2.36-9+deb12u4 (deb)"));
    assert!(plain.contains("Suppressed: 1 (ignored: 0, VEX: 1)"));
    let coloured = moat_report::scan_table(&fixture::report(), &color());
    assert!(coloured.contains("\x1b[31mHIGH\x1b[0m"));
    assert!(coloured.contains("\x1b[33mMEDIUM\x1b[0m"));
    assert!(coloured.contains("\x1b[34mLOW\x1b[0m"));
    // every row fits the width
    for line in plain.lines() {
        assert!(
            line.chars().count() <= moat_report::scan::DEFAULT_WIDTH,
            "{line}"
        );
    }
    let narrow = moat_report::scan::scan_table_width(&fixture::report(), &fixture::options(), 60);
    assert!(narrow.contains('…'));
}

#[test]
fn odd_text_cannot_reach_the_terminal_or_break_documents() {
    let r = fixture::hostile();
    let o = fixture::options();
    for opts in [o.clone(), color()] {
        let t = moat_report::scan_table(&r, &opts);
        let mut stripped = t.clone();
        for code in ["0", "1", "1;31", "31", "33", "34"] {
            stripped = stripped.replace(&format!("\x1b[{code}m"), "");
        }
        assert!(!stripped.contains('\x1b'), "{t}");
        assert!(!t.contains('\u{202E}') && !t.contains('\u{7}') && !t.contains('\r'));
        let t = moat_report::scan::scan_table_width(&r, &opts, 0);
        assert!(!t.is_empty());
    }
    let s = json(&moat_report::sarif(&r, &o));
    assert_eq!(s["runs"][0]["results"].as_array().unwrap().len(), 5);
    let c = json(&moat_report::cyclonedx_vulns(&r, &o));
    let ids: Vec<&str> = c["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    // the ignored finding and the findings without a listed package are left out
    assert!(!ids.contains(&"IGNORED-1"));
    assert!(!ids.contains(&"NO-PACKAGE") && !ids.contains(&"UNLISTED"));
    assert!(ids.contains(&"VEX-FIXED"));
}

#[test]
fn output_does_not_depend_on_finding_order() {
    let r = fixture::report();
    let mut rev = r.clone();
    rev.findings.reverse();
    rev.inventory.packages.reverse();
    let o = fixture::options();
    assert_eq!(moat_report::sarif(&r, &o), moat_report::sarif(&rev, &o));
    assert_eq!(
        moat_report::cyclonedx_vulns(&r, &o),
        moat_report::cyclonedx_vulns(&rev, &o)
    );
    assert_eq!(
        moat_report::scan_table(&r, &o),
        moat_report::scan_table(&rev, &o)
    );
}
