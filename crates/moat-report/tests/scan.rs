//! The `moat scan` reports of the fixture report (`scan_fixture.rs`), byte for byte, and
//! their structure.
//!
//! After an intended change of an output, regenerate and review the diff:
//! `MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report`

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "scan_fixture.rs"]
mod fixture;

use fixture::check;
use moat_model::ScanReport;
use moat_report::RenderOptions;
use serde_json::Value;

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
    let all = fixture::every_kind();
    let mut rev = all.clone();
    rev.findings.reverse();
    rev.suppressed.reverse();
    assert_eq!(moat_report::sarif(&all, &o), moat_report::sarif(&rev, &o));
    assert_eq!(
        moat_report::scan_table(&all, &o),
        moat_report::scan_table(&rev, &o)
    );
}

// ---------------------------------------------------------------------------------------
// every kind of finding

#[test]
fn golden_every_kind() {
    let r = fixture::every_kind();
    let o = fixture::options();
    check("scan-all.json", &moat_report::scan_json(&r));
    check("scan-all.sarif.json", &moat_report::sarif(&r, &o));
    check("scan-all.cdx.json", &moat_report::cyclonedx_vulns(&r, &o));
    check(
        "scan-all.table.txt",
        moat_report::scan_table(&r, &o).as_bytes(),
    );
    check(
        "scan-all.table-color.txt",
        moat_report::scan_table(&r, &color()).as_bytes(),
    );
}

#[test]
fn every_kind_round_trips_through_json() {
    let r = fixture::every_kind();
    let bytes = moat_report::scan_json(&r);
    let back: ScanReport = serde_json::from_slice(&bytes).expect("parses back");
    assert_eq!(back, r);
    let v = json(&bytes);
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in ["vulnerability", "secret", "misconfiguration", "runtime"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    assert_eq!(v["suppressed"][0]["kind"], "secret");
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 3);
}

#[test]
fn sarif_carries_every_kind() {
    let r = fixture::every_kind();
    let v = json(&moat_report::sarif(&r, &fixture::options()));
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len() + r.suppressed.len());
    // vulnerabilities keep the first rule indices whatever else was scanned
    let plain = json(&moat_report::sarif(&fixture::report(), &fixture::options()));
    let plain_rules = plain["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for (i, rule) in plain_rules.iter().enumerate() {
        assert_eq!(rules[i]["id"], rule["id"]);
    }
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    let result = |id: &str| results.iter().find(|r| r["ruleId"] == id).unwrap();
    let tags = |id: &str| rule(id)["properties"]["tags"].clone();
    assert_eq!(tags("aws-access-key-id")[0], "secret");
    assert_eq!(tags("DS002")[0], "misconfiguration");
    assert_eq!(tags("Terminal shell in container")[0], "runtime");
    assert_eq!(tags("CVE-2024-2961")[0], "vulnerability");
    assert_eq!(
        rule("aws-access-key-id")["properties"]["security-severity"],
        "9.5"
    );
    assert_eq!(rule("IC001")["properties"]["security-severity"], "2.0");

    let secret = &result("aws-access-key-id")["locations"][0]["physicalLocation"];
    assert_eq!(secret["artifactLocation"]["uri"], "app/.env");
    assert_eq!(
        secret["region"],
        serde_json::json!({"startLine": 3, "startColumn": 19, "endLine": 3, "endColumn": 39})
    );
    let docker = &result("DS002")["locations"][0]["physicalLocation"];
    assert_eq!(
        docker["region"],
        serde_json::json!({"startLine": 12, "endLine": 12})
    );
    let k8s = &result("KSV012")["locations"][0];
    assert_eq!(
        k8s["logicalLocations"][0]["fullyQualifiedName"],
        "Deployment/default/web"
    );
    assert_eq!(k8s["logicalLocations"][0]["kind"], "resource");
    let config = &result("IC001")["locations"][0];
    assert_eq!(config["logicalLocations"][0]["name"], "config.Healthcheck");
    assert!(config["physicalLocation"].get("region").is_none());
    let ignored = result("generic-api-key");
    assert_eq!(ignored["suppressions"][0]["kind"], "external");
    assert!(
        ignored["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .starts_with("ignore: test fixture")
    );
    // fingerprints: stable, and apart for every result
    let again = json(&moat_report::sarif(&r, &fixture::options()));
    let prints = |v: &Value| -> Vec<String> {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["moatFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(prints(&v), prints(&again));
    let mut unique = prints(&v);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), results.len());
    // the vulnerabilities' fingerprints are those of the vulnerability-only report
    for p in prints(&plain) {
        assert!(prints(&v).contains(&p));
    }
}

#[test]
fn cyclonedx_counts_what_it_cannot_carry() {
    let r = fixture::every_kind();
    let o = fixture::options();
    let v = json(&moat_report::cyclonedx_vulns(&r, &o));
    let plain = json(&moat_report::cyclonedx_vulns(&fixture::report(), &o));
    assert_eq!(v["vulnerabilities"], plain["vulnerabilities"]);
    assert_eq!(
        v["properties"],
        serde_json::json!([
            {"name": "moat:omitted:secret", "value": "1"},
            {"name": "moat:omitted:misconfiguration", "value": "3"},
            {"name": "moat:omitted:runtime", "value": "1"},
        ])
    );
    assert!(plain.get("properties").is_none());
}

#[test]
fn table_has_a_section_per_kind() {
    let t = moat_report::scan_table(&fixture::every_kind(), &fixture::options());
    for needle in [
        "Total: 9 (CRITICAL: 1, HIGH: 3, MEDIUM: 3, LOW: 2, UNKNOWN: 0)  Suppressed: 2 (ignored: 1, VEX: 1)",
        "  Vulnerabilities: 4 (CRITICAL: 0, HIGH: 2, MEDIUM: 1, LOW: 1, UNKNOWN: 0)",
        "  Secrets: 1 (",
        "  Misconfigurations: 3 (",
        "  Runtime alerts: 1 (",
        "\nVulnerabilities\n",
        "\nSecrets\n",
        "/app/.env (layer 1, deleted in a later layer)",
        "  RULE               SEVERITY  LINE  MATCH",
        "AWS_ACCESS_KEY_ID=AKIA************MPLE",
        "/app/deploy/web.yaml (layer 1)  Deployment/default/web",
        "(image-config)  config.Healthcheck",
        "  2026-11-29T01:05:00Z  Terminal shell in container  NOTICE",
        "generic-api-key at /app/test/fixtures.env:4: ignore: test fixture, not a real key",
        "\ndiagnostics: 2 parse-error, 1 too-large\n",
    ] {
        assert!(t.contains(needle), "no {needle:?} in\n{t}");
    }
    for line in t.lines() {
        assert!(line.chars().count() <= moat_report::DEFAULT_WIDTH, "{line}");
    }
    // only vulnerabilities: no section titles, no per-kind lines
    let plain = moat_report::scan_table(&fixture::report(), &fixture::options());
    assert!(!plain.contains("\nVulnerabilities\n") && !plain.contains("  Vulnerabilities:"));
    assert!(
        plain.ends_with("\n\ndiagnostics: 1 parse-error\n"),
        "{plain}"
    );
    let empty = moat_report::scan_table(&fixture::empty(), &fixture::options());
    assert!(empty.ends_with("\n\nNo findings.\n"), "{empty}");
}

// ---------------------------------------------------------------------------------------
// secrets: removed files, the image config, shown values

#[test]
fn golden_secrets() {
    let r = fixture::secrets();
    let o = fixture::options();
    check("scan-secrets.json", &moat_report::scan_json(&r));
    check("scan-secrets.sarif.json", &moat_report::sarif(&r, &o));
    check(
        "scan-secrets.table.txt",
        moat_report::scan_table(&r, &o).as_bytes(),
    );
}

#[test]
fn secrets_say_where_they_are_and_what_removed_them() {
    let r = fixture::secrets();
    let o = fixture::options();
    let t = moat_report::scan_table(&r, &o);
    for needle in [
        "/app/deploy/id_rsa (layer 1, removed in layer 2, still in the image)",
        "config:env/GITHUB_TOKEN\n",
        "config:history/4\n",
        // the value, shown because the finding carries it
        "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000",
    ] {
        assert!(t.contains(needle), "no {needle:?} in\n{t}");
    }
    let v = json(&moat_report::scan_json(&r));
    let key = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "pkcs8-private-key")
        .unwrap();
    assert_eq!(key["rule"], "pkcs8-private-key");
    assert_eq!(key["deleted_in_layer"], 2);
    assert_eq!(key["location"]["layer"], 1);
    let env = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["field"] == "config:env/GITHUB_TOKEN")
        .unwrap();
    assert!(env["location"].get("path").is_none() && env.get("value").is_none());
    let sarif = json(&moat_report::sarif(&r, &o));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let removed = results
        .iter()
        .find(|x| x["ruleId"] == "pkcs8-private-key")
        .unwrap();
    assert!(
        removed["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Removed in layer 2: gone from the final file system, still in the image")
    );
    assert_eq!(removed["properties"]["deletedInLayer"], 2);
    let in_config = results
        .iter()
        .filter(|x| x["locations"][0]["logicalLocations"][0]["kind"] == "property")
        .count();
    assert_eq!(in_config, 2);
}
