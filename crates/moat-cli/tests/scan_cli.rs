//! End-to-end tests of `moat scan TARGET`: exit codes, severity and fix filters, the ignore
//! file, OpenVEX, the four output formats, SBOM input, and the database checks a scan makes.
//!
//! Every scan runs with `--offline` against a database imported in the test (or with
//! `--advisories`), `XDG_CACHE_HOME` in a temporary directory and `MOAT_DB_URL` pointing at a
//! closed loopback port, so no test can reach the internet.
//!
//! The test image (built in memory with `common::write_oci`) is a Debian 12 image:
//!
//! | layer | package | version | source | advisory (tests/data/scan) | finding |
//! |---|---|---|---|---|---|
//! | 0 | libc6 | 2.36-9+deb12u2 | glibc | DSA-5514-1 (CVE-2023-4911, KEV) | HIGH, fixed 2.36-9+deb12u3 |
//! | 0 | libc6 | | | DSA-5673-1 (CVE-2024-2961) | HIGH, fixed 2.36-9+deb12u7 |
//! | 0 | zlib1g | 1:1.2.13.dfsg-1 | zlib | CVE-2023-45853 | CRITICAL, will_not_fix |
//! | 0 | libssl3, openssl | 3.0.11-1~deb12u2 | openssl | CVE-2007-6755 | LOW, affected (x2) |
//! | 1 | requests (PyPI) | 2.25.0 | | PYSEC-2023-74 (CVE-2023-32681, GHSA-j8r2-6x86-q33q) | MEDIUM, fixed 2.31.0 |
//!
//! plus DLA-3611-1, a Debian 11 glibc advisory that must never match.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{E, TestLayer, write_oci};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scan")
        .join(name)
}

use common::{code, isolated as cmd, run, stderr as err, stdout as out};

const STATUS: &str = "\
Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u2
Description: GNU C Library: Shared libraries

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries

Package: openssl
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - cryptographic utility

";

/// The Debian 12 test image (see the module docs) as an OCI layout in `dir`.
fn image(dir: &Path) {
    let l0 = TestLayer::gz(
        &[
            E::File(
                "usr/lib/os-release",
                b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n".to_vec(),
            ),
            E::Symlink("etc/os-release", "../usr/lib/os-release"),
            E::File("var/lib/dpkg/status", STATUS.as_bytes().to_vec()),
        ],
        "debian base",
    );
    let l1 = TestLayer::gz(
        &[
            E::File(
                "usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\nSummary: Python HTTP for Humans.\nLicense: Apache 2.0\n\n".to_vec(),
            ),
            E::File(
                "usr/lib/python3/dist-packages/requests-2.25.0.dist-info/RECORD",
                b"requests/__init__.py,,\nrequests-2.25.0.dist-info/METADATA,,\nrequests-2.25.0.dist-info/RECORD,,\n".to_vec(),
            ),
            E::File(
                "usr/lib/python3/dist-packages/requests/__init__.py",
                b"__version__ = '2.25.0'\n".to_vec(),
            ),
        ],
        "pip install requests==2.25.0",
    );
    write_oci(dir, &[l0, l1]);
}

/// A temporary directory with the test image (`img`) and a database (`moat.db`) holding the
/// Debian 12, PyPI and KEV test records.
struct Fx {
    dir: tempfile::TempDir,
}

impl Fx {
    fn new() -> Fx {
        let dir = tempfile::tempdir().expect("tempdir");
        image(&dir.path().join("img"));
        let fx = Fx { dir };
        let o = run(fx.cmd().args(["db", "import", "--db"]).arg(fx.db()).args([
            data("debian-12.json"),
            data("pypi.json"),
            data("kev.json"),
        ]));
        assert_eq!(code(&o), 0, "import: {}", err(&o));
        fx
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn db(&self) -> PathBuf {
        self.path().join("moat.db")
    }
    fn img(&self) -> String {
        format!("oci:{}", self.path().join("img").display())
    }
    fn cmd(&self) -> Command {
        cmd(self.path())
    }
    /// `moat scan oci:IMG --db DB --offline ARGS`.
    fn scan(&self, args: &[&str]) -> Output {
        run(self
            .cmd()
            .args(["scan", &self.img(), "--offline", "--db"])
            .arg(self.db())
            .args(args))
    }
    /// The JSON report of a scan that must succeed.
    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        let o = self.scan(&a);
        assert_eq!(code(&o), 0, "scan {args:?}: {}", err(&o));
        serde_json::from_slice(&o.stdout).expect("JSON report")
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

/// (id, package name) of each entry of `findings` or `suppressed`, sorted.
fn pairs(v: &Value, key: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v[key]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().expect("id").to_string(),
                f["package"]["name"]
                    .as_str()
                    .expect("package name")
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn p(id: &str, pkg: &str) -> (String, String) {
    (id.to_string(), pkg.to_string())
}

/// Every finding of the unfiltered scan.
fn all_findings() -> Vec<(String, String)> {
    let mut v = vec![
        p("CVE-2007-6755", "libssl3"),
        p("CVE-2007-6755", "openssl"),
        p("CVE-2023-32681", "requests"),
        p("CVE-2023-4911", "libc6"),
        p("CVE-2023-45853", "zlib1g"),
        p("CVE-2024-2961", "libc6"),
    ];
    v.sort();
    v
}

fn finding<'a>(v: &'a Value, key: &str, id: &str, pkg: &str) -> &'a Value {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} array"))
        .iter()
        .find(|f| f["id"] == id && f["package"]["name"] == pkg)
        .unwrap_or_else(|| panic!("no {key} entry {id} on {pkg}"))
}

// ---------------------------------------------------------------------------------------
// The JSON report

#[test]
fn json_report_has_every_finding_with_its_fields() {
    let fx = Fx::new();
    let v = fx.json(&[]);
    // The inventory document plus findings.
    assert!(
        v["packages"].as_array().is_some_and(|p| p.len() == 5),
        "{v}"
    );
    assert_eq!(pairs(&v, "findings"), all_findings());
    assert!(
        v.get("suppressed")
            .is_none_or(|s| s.as_array().is_some_and(|a| a.is_empty()))
    );

    // The Debian finding: the DSA record collapses into its CVE, matched on the source package.
    let f = finding(&v, "findings", "CVE-2023-4911", "libc6");
    assert_eq!(f["kind"], "vulnerability");
    assert_eq!(f["aliases"], serde_json::json!(["DSA-5514-1"]));
    assert_eq!(f["severity"], "HIGH");
    assert_eq!(f["status"], "fixed");
    assert_eq!(f["fixed_version"], "2.36-9+deb12u3");
    assert_eq!(
        f["kev"], true,
        "CVE-2023-4911 is in the imported KEV catalogue"
    );
    assert_eq!(f["package"]["name"], "libc6");
    assert_eq!(f["package"]["version"], "2.36-9+deb12u2");
    assert_eq!(f["package"]["layer"], 0);
    assert_eq!(f["package"]["path"], "/var/lib/dpkg/status");
    let purl = f["package"]["purl"].as_str().expect("purl");
    assert!(purl.starts_with("pkg:deb/debian/libc6@2.36-9"), "{purl}");
    assert!(purl.contains("distro=debian-12"), "{purl}");
    let m = f["match"].as_array().expect("match array");
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["advisory"], "DSA-5514-1");
    assert_eq!(m[0]["source"], "osv:Debian");
    assert_eq!(m[0]["ecosystem"], "Debian:12");
    assert_eq!(m[0]["package"], "glibc");
    assert_eq!(m[0]["installed"], "2.36-9+deb12u2");
    assert_eq!(m[0]["fixed"], "2.36-9+deb12u3");
    let range = m[0]["range"].as_str().expect("range");
    assert!(range.contains("2.36-9+deb12u3"), "{range}");

    let f = finding(&v, "findings", "CVE-2024-2961", "libc6");
    assert_eq!(f["severity"], "HIGH");
    assert_eq!(f["fixed_version"], "2.36-9+deb12u7");
    assert!(f.get("kev").is_none_or(|k| k == false), "{f}");

    // An unfixed Debian finding.
    let f = finding(&v, "findings", "CVE-2023-45853", "zlib1g");
    assert_eq!(f["severity"], "CRITICAL");
    assert_eq!(f["status"], "will_not_fix");
    assert!(f.get("fixed_version").is_none_or(Value::is_null), "{f}");
    assert_eq!(f["match"][0]["package"], "zlib");

    // The distro's rating (unimportant) wins over the CVSS vector.
    let f = finding(&v, "findings", "CVE-2007-6755", "openssl");
    assert_eq!(f["severity"], "LOW");
    assert_eq!(f["status"], "affected");

    // The PyPI finding: the CVE is the primary id, the other ids are aliases; layer 1.
    let f = finding(&v, "findings", "CVE-2023-32681", "requests");
    let mut aliases: Vec<&str> = f["aliases"]
        .as_array()
        .expect("aliases")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    aliases.sort();
    assert_eq!(aliases, ["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"]);
    assert_eq!(f["severity"], "MEDIUM");
    assert_eq!(f["status"], "fixed");
    assert_eq!(f["fixed_version"], "2.31.0");
    assert_eq!(f["package"]["version"], "2.25.0");
    assert_eq!(f["package"]["layer"], 1);
    assert!(
        f["package"]["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:pypi/requests@2.25.0")),
        "{f}"
    );
    assert_eq!(f["match"][0]["advisory"], "PYSEC-2023-74");
    assert_eq!(f["match"][0]["ecosystem"], "PyPI");

    // The Debian 11 advisory never matches the Debian 12 image.
    let text = v.to_string();
    assert!(!text.contains("DLA-3611-1") && !text.contains("CVE-2023-4806"));
}

#[test]
fn advisories_flag_matches_without_a_database() {
    let fx = Fx::new();
    let o = run(fx
        .cmd()
        .args(["scan", &fx.img(), "--offline", "--format", "json"])
        .arg("--db")
        .arg(fx.path().join("absent.db"))
        .arg("--advisories")
        .arg(data("debian-12.json"))
        .arg("--advisories")
        .arg(data("pypi.json")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(pairs(&v, "findings"), all_findings());
    assert!(!fx.path().join("absent.db").exists());
}

// ---------------------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_code_zero_with_findings_by_default() {
    let fx = Fx::new();
    let o = fx.scan(&[]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains("CVE-2023-45853"));
}

#[test]
fn exit_code_n_when_findings_remain() {
    let fx = Fx::new();
    let o = fx.scan(&["--exit-code", "5"]);
    assert_eq!(code(&o), 5, "{}", err(&o));
    // Still 5 when only some severities are reported.
    let o = fx.scan(&["--exit-code", "5", "--severity", "CRITICAL"]);
    assert_eq!(code(&o), 5, "{}", err(&o));
}

#[test]
fn exit_code_zero_when_severity_filters_everything_out() {
    let fx = Fx::new();
    let o = fx.scan(&[
        "--exit-code",
        "5",
        "--severity",
        "UNKNOWN",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(pairs(&v, "findings"), []);
}

#[test]
fn exit_code_zero_when_the_ignore_file_suppresses_everything() {
    let fx = Fx::new();
    let ig = fx.write(
        "all.yaml",
        "- id: CVE-2023-4911\n  reason: patched in our base image rebuild\n\
         - id: CVE-2024-2961\n  reason: no iconv use\n\
         - id: CVE-2023-45853\n  reason: minizip is not shipped\n\
         - id: CVE-2007-6755\n  reason: Dual_EC_DRBG is not used\n\
         - id: CVE-2023-32681\n  reason: no proxies\n",
    );
    let o = fx.scan(&[
        "--exit-code",
        "5",
        "--format",
        "json",
        "--ignorefile",
        ig.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(pairs(&v, "findings"), []);
    assert_eq!(pairs(&v, "suppressed"), all_findings());
    assert!(!err(&o).contains("matched nothing"), "{}", err(&o));
}

#[test]
fn exit_code_two_for_a_missing_target() {
    let fx = Fx::new();
    let missing = fx.path().join("no-such-image.tar");
    let o = run(fx
        .cmd()
        .arg("scan")
        .arg(&missing)
        .args(["--offline", "--exit-code", "5", "--db"])
        .arg(fx.db()));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("no-such-image.tar"), "{}", err(&o));
    assert_eq!(out(&o), "");
}

#[test]
fn exit_code_two_for_a_corrupt_database() {
    let fx = Fx::new();
    let bad = fx.path().join("garbage.db");
    std::fs::write(
        &bad,
        b"\x00\x01garbage, not SQLite at all\xff\xfe".repeat(200),
    )
    .unwrap();
    let o = run(fx
        .cmd()
        .args(["scan", &fx.img(), "--offline", "--db"])
        .arg(&bad));
    assert_eq!(code(&o), 2, "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(&bad.display().to_string()),
        "names the file: {e}"
    );
    assert!(e.contains("moat db update"), "says what to do: {e}");
    assert_eq!(out(&o), "");
    // A database of another program (a valid SQLite file without moat's schema) too.
    let other = fx.path().join("other.db");
    std::fs::write(&other, b"").unwrap();
    let o = run(fx
        .cmd()
        .args(["scan", &fx.img(), "--offline", "--db"])
        .arg(&other));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("moat db update"), "{}", err(&o));
}

#[test]
fn exit_code_two_offline_without_a_database() {
    let fx = Fx::new();
    let absent = fx.path().join("nothing-here.db");
    let o = run(fx
        .cmd()
        .args(["scan", &fx.img(), "--offline", "--db"])
        .arg(&absent));
    assert_eq!(code(&o), 2, "{}", err(&o));
    let e = err(&o);
    assert!(e.contains(&absent.display().to_string()), "{e}");
    assert!(
        e.contains("moat db update") && e.contains("moat db import"),
        "{e}"
    );
    assert!(!absent.exists(), "--offline creates nothing");
    // The default location (under XDG_CACHE_HOME) when neither --db nor MOAT_DB is set.
    let o = run(fx.cmd().args(["scan", &fx.img(), "--offline"]));
    assert_eq!(code(&o), 2, "{}", err(&o));
    let want = fx.path().join("cache/moat/moat.db");
    assert!(err(&o).contains(&want.display().to_string()), "{}", err(&o));
}

#[test]
fn exit_code_two_when_the_download_fails() {
    // No --offline, no database, and the archive server (MOAT_DB_URL) refuses connections.
    let fx = Fx::new();
    let absent = fx.path().join("later.db");
    let o = run(fx.cmd().args(["scan", &fx.img(), "--db"]).arg(&absent));
    assert_eq!(code(&o), 2, "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("127.0.0.1:9"), "{e}");
    assert!(
        e.contains("moat db update") && e.contains("moat db import"),
        "{e}"
    );
    assert!(!absent.exists());
}

#[test]
fn exit_code_two_for_a_bad_severity() {
    let fx = Fx::new();
    for bad in ["SEVERE", "HIGH,BAD", "9.8"] {
        let o = fx.scan(&["--severity", bad]);
        assert_eq!(code(&o), 2, "{bad}: {}", err(&o));
        assert!(
            err(&o).contains("CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN"),
            "{bad}: {}",
            err(&o)
        );
        assert_eq!(out(&o), "");
    }
}

#[test]
fn exit_code_two_for_an_ignore_entry_without_reason() {
    let fx = Fx::new();
    let ig = fx.write(
        "noreason.yaml",
        "- id: CVE-2023-45853\n  reason: minizip is not shipped\n- id: CVE-2007-6755\n  package: openssl\n",
    );
    let o = fx.scan(&["--ignorefile", ig.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("noreason.yaml"), "{e}");
    assert!(e.contains("entry 2") && e.contains("CVE-2007-6755"), "{e}");
    assert!(e.contains("reason"), "{e}");
    assert_eq!(out(&o), "");
    // The same in .moatignore.
    fx.write(".moatignore", "- id: CVE-2023-45853\n  reason: \"  \"\n");
    let o = fx.scan(&[]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains(".moatignore"), "{}", err(&o));
}

#[test]
fn missing_ignorefile_and_vex_are_errors() {
    let fx = Fx::new();
    let o = fx.scan(&["--ignorefile", "does-not-exist.yaml"]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("does-not-exist.yaml"), "{}", err(&o));
    let o = fx.scan(&["--vex", "no-vex.json"]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("no-vex.json"), "{}", err(&o));
}

// ---------------------------------------------------------------------------------------
// Filters

#[test]
fn severity_filter() {
    let fx = Fx::new();
    let v = fx.json(&["--severity", "HIGH,CRITICAL"]);
    assert_eq!(
        pairs(&v, "findings"),
        [
            p("CVE-2023-45853", "zlib1g"),
            p("CVE-2023-4911", "libc6"),
            p("CVE-2024-2961", "libc6"),
        ]
    );
    // Repeated flags add up; lower case is accepted.
    let v = fx.json(&["--severity", "medium", "--severity", "LOW"]);
    assert_eq!(
        pairs(&v, "findings"),
        [
            p("CVE-2007-6755", "libssl3"),
            p("CVE-2007-6755", "openssl"),
            p("CVE-2023-32681", "requests"),
        ]
    );
}

#[test]
fn ignore_unfixed_drops_unfixed_statuses_and_keeps_fixed() {
    let fx = Fx::new();
    let v = fx.json(&["--ignore-unfixed"]);
    assert_eq!(
        pairs(&v, "findings"),
        [
            p("CVE-2023-32681", "requests"),
            p("CVE-2023-4911", "libc6"),
            p("CVE-2024-2961", "libc6"),
        ]
    );
    for f in v["findings"].as_array().unwrap() {
        assert_eq!(f["status"], "fixed");
        assert!(f["fixed_version"].is_string());
    }
    // Combined with --severity, and the exit code follows what is left.
    let v = fx.json(&["--ignore-unfixed", "--severity", "HIGH,CRITICAL"]);
    assert_eq!(
        pairs(&v, "findings"),
        [p("CVE-2023-4911", "libc6"), p("CVE-2024-2961", "libc6")]
    );
    let o = fx.scan(&[
        "--ignore-unfixed",
        "--severity",
        "CRITICAL,LOW",
        "--exit-code",
        "3",
    ]);
    assert_eq!(
        code(&o),
        0,
        "only unfixed CRITICAL/LOW findings: {}",
        err(&o)
    );
}

// ---------------------------------------------------------------------------------------
// The ignore file

#[test]
fn moatignore_in_the_working_directory() {
    let fx = Fx::new();
    fx.write(
        ".moatignore",
        "# accepted risks\n- id: CVE-2023-45853\n  reason: minizip is not shipped\n",
    );
    let o = fx.scan(&["--format", "json"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut want = all_findings();
    want.retain(|x| x.0 != "CVE-2023-45853");
    assert_eq!(pairs(&v, "findings"), want);
    assert_eq!(pairs(&v, "suppressed"), [p("CVE-2023-45853", "zlib1g")]);
    let s = &finding(&v, "suppressed", "CVE-2023-45853", "zlib1g")["suppressed"];
    assert_eq!(s["by"], "ignore");
    assert_eq!(s["reason"], "minizip is not shipped");
    assert_eq!(err(&o), "", "no warning for a used, live entry");

    // The table counts it in the summary and leaves it out of the listing.
    let o = fx.scan(&[]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let t = out(&o);
    assert!(
        t.contains("Total: 5 (CRITICAL: 0, HIGH: 2, MEDIUM: 1, LOW: 2, UNKNOWN: 0)"),
        "{t}"
    );
    assert!(t.contains("Suppressed: 1 (ignored: 1, VEX: 0)"), "{t}");
    assert!(!t.contains("zlib1g 1:1.2.13.dfsg-1 (deb)"), "{t}");

    // Run from elsewhere, the file is not read.
    let elsewhere = fx.path().join("sub");
    std::fs::create_dir(&elsewhere).unwrap();
    let o = run(fx
        .cmd()
        .current_dir(&elsewhere)
        .args(["scan", &fx.img(), "--offline", "--format", "json", "--db"])
        .arg(fx.db()));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pairs(&v, "findings"), all_findings());

    // --ignorefile wins over .moatignore.
    let ig = fx.write(
        "other.yaml",
        "ignore:\n  - id: CVE-2024-2961\n    reason: no iconv use\n",
    );
    let v = fx.json(&["--ignorefile", ig.to_str().unwrap()]);
    assert_eq!(pairs(&v, "suppressed"), [p("CVE-2024-2961", "libc6")]);
}

#[test]
fn ignore_entries_by_alias_package_purl_and_path() {
    let fx = Fx::new();
    let ig = fx.write(
        "ignore.yaml",
        "\
- id: GHSA-j8r2-6x86-q33q          # an alias of CVE-2023-32681
  path: /usr/lib/python3/dist-packages
  reason: requests never talks to a proxy here
- id: dsa-5673-1                   # an alias, in another case
  reason: iconv is not reachable
- id: CVE-2007-6755
  package: libssl3                 # by name: openssl stays
  reason: the library never uses Dual_EC_DRBG
- id: CVE-2023-45853
  package: pkg:deb/debian/zlib1g   # by purl, without version or qualifiers
  reason: minizip is not shipped
",
    );
    let v = fx.json(&["--ignorefile", ig.to_str().unwrap()]);
    assert_eq!(
        pairs(&v, "findings"),
        [p("CVE-2007-6755", "openssl"), p("CVE-2023-4911", "libc6")]
    );
    assert_eq!(
        pairs(&v, "suppressed"),
        [
            p("CVE-2007-6755", "libssl3"),
            p("CVE-2023-32681", "requests"),
            p("CVE-2023-45853", "zlib1g"),
            p("CVE-2024-2961", "libc6"),
        ]
    );
    let s = &finding(&v, "suppressed", "CVE-2023-32681", "requests")["suppressed"];
    assert_eq!(s["by"], "ignore");
    assert_eq!(s["reason"], "requests never talks to a proxy here");
    // Suppressed findings keep their details.
    let f = finding(&v, "suppressed", "CVE-2023-45853", "zlib1g");
    assert_eq!(f["severity"], "CRITICAL");
    assert_eq!(f["status"], "will_not_fix");
}

#[test]
fn ignore_entries_that_do_not_apply() {
    let fx = Fx::new();
    let ig = fx.write(
        "ignore.yaml",
        "\
- id: CVE-2023-32681
  path: /opt/venv                  # the package is elsewhere
  reason: wrong path
- id: CVE-2007-6755
  package: pkg:deb/debian/openssl@9.9.9   # another version
  reason: wrong version
- id: CVE-2023-4911
  package: libc-bin                # another package
  reason: wrong package
- id: CVE-1999-0001
  reason: nothing has it
",
    );
    let o = fx.scan(&["--format", "json", "--ignorefile", ig.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pairs(&v, "findings"), all_findings());
    assert_eq!(pairs(&v, "suppressed"), []);
    let e = err(&o);
    for id in [
        "CVE-2023-32681",
        "CVE-2007-6755",
        "CVE-2023-4911",
        "CVE-1999-0001",
    ] {
        assert!(
            e.contains(&format!("ignore entry for {id} matched nothing")),
            "{id}: {e}"
        );
    }
    // --quiet silences the warnings, not the result.
    let o = fx.scan(&[
        "-q",
        "--format",
        "json",
        "--ignorefile",
        ig.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    assert_eq!(err(&o), "");
}

#[test]
fn expired_ignore_entries_report_the_finding_again() {
    let fx = Fx::new();
    let ig = fx.write(
        "ignore.yaml",
        "\
- id: CVE-2023-45853
  reason: accepted until the next release
  expires: 2020-01-31
- id: CVE-2024-2961
  reason: accepted for a long time
  expires: 2999-12-31
",
    );
    let o = fx.scan(&[
        "--format",
        "json",
        "--exit-code",
        "4",
        "--ignorefile",
        ig.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut want = all_findings();
    want.retain(|x| x.0 != "CVE-2024-2961");
    assert_eq!(
        pairs(&v, "findings"),
        want,
        "the expired entry hides nothing"
    );
    assert_eq!(pairs(&v, "suppressed"), [p("CVE-2024-2961", "libc6")]);
    let e = err(&o);
    assert!(
        e.contains("ignore entry for CVE-2023-45853 expired on 2020-01-31"),
        "{e}"
    );
    assert!(!e.contains("matched nothing"), "{e}");
    assert!(!e.contains("CVE-2024-2961"), "{e}");

    // A malformed date is an error.
    let bad = fx.write(
        "bad-date.yaml",
        "- id: CVE-2023-45853\n  reason: x\n  expires: 31/01/2020\n",
    );
    let o = fx.scan(&["--ignorefile", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("YYYY-MM-DD"), "{}", err(&o));
}

// ---------------------------------------------------------------------------------------
// OpenVEX

const VEX: &str = r#"{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/moat-test-1",
  "author": "moat tests",
  "timestamp": "2025-01-01T00:00:00Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"name": "CVE-2023-45853"},
      "products": [{"@id": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"}],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "minizip is not built into zlib1g"
    },
    {
      "vulnerability": {"name": "CVE-2007-6755"},
      "products": [{"@id": "pkg:deb/debian/openssl"}],
      "status": "under_investigation"
    }
  ]
}"#;

#[test]
fn vex_not_affected_moves_the_finding_to_suppressed() {
    let fx = Fx::new();
    let vex = fx.write("vex.json", VEX);
    let v = fx.json(&["--vex", vex.to_str().unwrap()]);
    let mut want = all_findings();
    want.retain(|x| x.0 != "CVE-2023-45853");
    assert_eq!(
        pairs(&v, "findings"),
        want,
        "under_investigation suppresses nothing"
    );
    assert_eq!(pairs(&v, "suppressed"), [p("CVE-2023-45853", "zlib1g")]);
    let s = &finding(&v, "suppressed", "CVE-2023-45853", "zlib1g")["suppressed"];
    assert_eq!(s["by"], "vex");
    assert_eq!(s["reason"], "not_affected");
    assert_eq!(s["justification"], "vulnerable_code_not_in_execute_path");

    // The table counts it as VEX.
    let o = fx.scan(&["--vex", vex.to_str().unwrap()]);
    assert!(
        out(&o).contains("Suppressed: 1 (ignored: 0, VEX: 1)"),
        "{}",
        out(&o)
    );

    // CycloneDX: the vulnerability is kept with an analysis, and the document is valid.
    let cdx = fx.path().join("vex.cdx.json");
    let o = fx.scan(&[
        "--vex",
        vex.to_str().unwrap(),
        "--format",
        "cyclonedx",
        "-o",
        cdx.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    if let Some(tool) = validator("validate-cyclonedx") {
        validate(&tool, &cdx);
    }
    let c: Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    let vulns = c["vulnerabilities"].as_array().expect("vulnerabilities");
    let z = vulns
        .iter()
        .find(|x| x["id"] == "CVE-2023-45853")
        .expect("the VEXed vulnerability is listed");
    assert_eq!(z["analysis"]["state"], "not_affected");
    assert_eq!(z["analysis"]["justification"], "code_not_reachable");
    let detail = z["analysis"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("vulnerable_code_not_in_execute_path"),
        "{z}"
    );
    let others: Vec<&Value> = vulns
        .iter()
        .filter(|x| x["id"] != "CVE-2023-45853")
        .collect();
    assert!(!others.is_empty());
    assert!(
        others.iter().all(|x| x.get("analysis").is_none()),
        "{others:?}"
    );

    // Nothing left to fail on when VEX and the severity filter cover everything reported.
    let o = fx.scan(&[
        "--vex",
        vex.to_str().unwrap(),
        "--severity",
        "CRITICAL",
        "--exit-code",
        "9",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
}

#[test]
fn vex_fixed_statement_and_bad_documents() {
    let fx = Fx::new();
    let vex = fx.write(
        "fixed.json",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "t", "timestamp": "2025-01-01T00:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": "PYSEC-2023-74"}, "products": [{"@id": "pkg:pypi/requests@2.25.0"}], "status": "fixed"}]}"#,
    );
    let v = fx.json(&["--vex", vex.to_str().unwrap()]);
    assert_eq!(pairs(&v, "suppressed"), [p("CVE-2023-32681", "requests")]);
    let s = &finding(&v, "suppressed", "CVE-2023-32681", "requests")["suppressed"];
    assert_eq!(s["by"], "vex");
    assert_eq!(s["reason"], "fixed");
    let o = fx.scan(&["--vex", vex.to_str().unwrap(), "--format", "cyclonedx"]);
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = c["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "CVE-2023-32681")
        .expect("listed");
    assert_eq!(r["analysis"]["state"], "resolved");

    let bad = fx.write("notvex.json", r#"{"statements": []}"#);
    let o = fx.scan(&["--vex", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(
        err(&o).contains("notvex.json") && err(&o).contains("OpenVEX"),
        "{}",
        err(&o)
    );
}

// ---------------------------------------------------------------------------------------
// Output formats

fn validator(name: &str) -> Option<PathBuf> {
    common::peers().map(|b| b.join(name))
}

fn validate(tool: &Path, file: &Path) {
    let o = Command::new(tool)
        .arg(file)
        .output()
        .expect("validator runs");
    assert!(
        o.status.success(),
        "{} rejects {}:\n{}{}",
        tool.display(),
        file.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn table_lists_packages_and_ids() {
    let fx = Fx::new();
    let o = fx.scan(&[]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let t = out(&o);
    assert!(
        t.contains("Total: 6 (CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 2, UNKNOWN: 0)"),
        "{t}"
    );
    assert!(t.contains("Suppressed: 0"), "{t}");
    for (pkg, ids) in [
        (
            "libc6 2.36-9+deb12u2 (deb)",
            &["CVE-2023-4911", "CVE-2024-2961"][..],
        ),
        ("zlib1g 1:1.2.13.dfsg-1 (deb)", &["CVE-2023-45853"][..]),
        ("libssl3 3.0.11-1~deb12u2 (deb)", &["CVE-2007-6755"][..]),
        ("openssl 3.0.11-1~deb12u2 (deb)", &["CVE-2007-6755"][..]),
        ("requests 2.25.0", &["CVE-2023-32681"][..]),
    ] {
        let at = t.find(pkg).unwrap_or_else(|| panic!("{pkg} missing:\n{t}"));
        let block = &t[at..];
        let block = &block[..block[1..].find("\n\n").map_or(block.len(), |i| i + 1)];
        for id in ids {
            assert!(block.contains(id), "{id} not under {pkg}:\n{block}");
        }
    }
    assert!(
        t.contains("2.36-9+deb12u3") && t.contains("will_not_fix"),
        "{t}"
    );
    assert!(
        !t.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let fx = Fx::new();
    let file = fx.path().join("report.json");
    let o = fx.scan(&[
        "--format",
        "json",
        "-o",
        file.to_str().unwrap(),
        "--exit-code",
        "7",
    ]);
    assert_eq!(code(&o), 7, "-o does not change the exit code: {}", err(&o));
    assert_eq!(out(&o), "");
    let v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(pairs(&v, "findings"), all_findings());
    // The table too (long flag).
    let file = fx.path().join("report.txt");
    let o = fx.scan(&["--output", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    assert_eq!(out(&o), "");
    let t = std::fs::read_to_string(&file).unwrap();
    assert!(t.contains("CVE-2023-45853") && !t.contains('\u{1b}'), "{t}");
}

#[test]
fn sarif_is_valid() {
    let fx = Fx::new();
    let file = fx.path().join("scan.sarif");
    let ig = fx.write("ig.yaml", "- id: CVE-2024-2961\n  reason: no iconv use\n");
    let o = fx.scan(&[
        "--format",
        "sarif",
        "-o",
        file.to_str().unwrap(),
        "--ignorefile",
        ig.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let s: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let results = s["runs"][0]["results"].as_array().expect("results");
    // Six findings, one of them suppressed (a result with a suppression).
    assert_eq!(results.len(), 6, "{results:?}");
    let rule_ids: std::collections::BTreeSet<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    assert_eq!(
        rule_ids.into_iter().collect::<Vec<_>>(),
        [
            "CVE-2007-6755",
            "CVE-2023-32681",
            "CVE-2023-45853",
            "CVE-2023-4911",
            "CVE-2024-2961"
        ]
    );
    let sup: Vec<&Value> = results
        .iter()
        .filter(|r| {
            r.get("suppressions")
                .is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()))
        })
        .collect();
    assert_eq!(sup.len(), 1);
    assert_eq!(sup[0]["ruleId"], "CVE-2024-2961");
    let crit = results
        .iter()
        .find(|r| r["ruleId"] == "CVE-2023-45853")
        .unwrap();
    assert_eq!(crit["level"], "error");
    if let Some(tool) = validator("validate-sarif") {
        validate(&tool, &file);
    }
}

#[test]
fn cyclonedx_is_valid_and_has_vulnerabilities() {
    let fx = Fx::new();
    let file = fx.path().join("scan.cdx.json");
    let o = fx.scan(&["--format", "cyclonedx", "-o", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let c: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(c["bomFormat"], "CycloneDX");
    assert_eq!(c["specVersion"], "1.6");
    let vulns = c["vulnerabilities"].as_array().expect("vulnerabilities");
    let mut ids: Vec<&str> = vulns.iter().filter_map(|v| v["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids,
        [
            "CVE-2007-6755",
            "CVE-2023-32681",
            "CVE-2023-45853",
            "CVE-2023-4911",
            "CVE-2024-2961"
        ]
    );
    // Every affects ref points at a component.
    let refs: std::collections::HashSet<&str> = c["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|x| x["bom-ref"].as_str())
        .collect();
    for v in vulns {
        for a in v["affects"].as_array().expect("affects") {
            let r = a["ref"].as_str().expect("ref");
            assert!(refs.contains(r), "{r} is not a component");
        }
    }
    if let Some(tool) = validator("validate-cyclonedx") {
        validate(&tool, &file);
    }
}

// ---------------------------------------------------------------------------------------
// SBOM input

fn findings_of(v: &Value) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or_default().to_string(),
                f["package"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["package"]["version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["fixed_version"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn scanning_moat_sboms_gives_the_same_findings() {
    let fx = Fx::new();
    let direct = fx.json(&[]);
    assert_eq!(findings_of(&direct).len(), 6);
    for (format, name) in [("cyclonedx", "x.cdx.json"), ("spdx-json", "x.spdx.json")] {
        let sbom = fx.path().join(name);
        let o = run(fx
            .cmd()
            .args(["sbom", &fx.img(), "--format", format, "-o"])
            .arg(&sbom));
        assert_eq!(code(&o), 0, "{format}: {}", err(&o));
        let o = run(fx
            .cmd()
            .arg("scan")
            .arg(&sbom)
            .args(["--offline", "--format", "json", "--db"])
            .arg(fx.db()));
        assert_eq!(code(&o), 0, "{format}: {}", err(&o));
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(findings_of(&v), findings_of(&direct), "{format}");
        // The distro context survives: the Debian findings matched on the source package.
        let f = finding(&v, "findings", "CVE-2023-4911", "libc6");
        assert_eq!(f["match"][0]["package"], "glibc", "{format}");
        assert_eq!(f["match"][0]["ecosystem"], "Debian:12", "{format}");
        assert_eq!(f["kev"], true, "{format}");
        // A relative path works too (run from the directory that holds it).
        let o = run(fx
            .cmd()
            .args(["scan", name, "--offline", "--exit-code", "3", "--db"])
            .arg(fx.db()));
        assert_eq!(code(&o), 3, "{format}: {}", err(&o));
    }
}

/// (id, package, version, source package looked up) of an `--advisories trivy-glibc.json`
/// scan of `target`.
fn glibc_findings(
    home: &Path,
    target: &Path,
    advisories: &Path,
) -> Vec<(String, String, String, String)> {
    let o = run(cmd(home)
        .arg("scan")
        .arg(target)
        .args(["--format", "json", "--offline", "--advisories"])
        .arg(advisories));
    assert_eq!(code(&o), 0, "{}: {}", target.display(), err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let mut out: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            assert_eq!(f["match"][0]["ecosystem"], "Debian:12", "{f}");
            (
                f["id"].as_str().unwrap_or_default().to_string(),
                f["package"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["package"]["version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["match"][0]["package"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Runs a peer tool that writes an SBOM; panics with its stderr when it fails.
fn peer_sbom(tool: &Path, args: &[&std::ffi::OsStr]) {
    let o = Command::new(tool)
        .args(args)
        .output()
        .expect("peer tool runs");
    assert!(
        o.status.success(),
        "{}: {}",
        tool.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn scanning_other_tools_sboms_keeps_the_distro_context() {
    let (Some(images), Some(peers)) = (common::images(), common::peers()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tar = images.join("debian-tools.docker.tar");
    let glibc = data("trivy-glibc.json");
    // The image itself: every binary package built from glibc, at the image's version.
    let direct = glibc_findings(dir.path(), &tar, &glibc);
    let pkgs: Vec<&str> = direct.iter().map(|f| f.1.as_str()).collect();
    assert!(pkgs.contains(&"libc6"), "{direct:?}");
    for f in &direct {
        assert_eq!(f.0, "CVE-2010-4756");
        assert_eq!(f.3, "glibc", "matched on the source package");
    }

    let trivy = dir.path().join("trivy.cdx.json");
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    peer_sbom(
        &peers.join("trivy-offline"),
        &[
            os("image"),
            os("--input"),
            tar.as_os_str(),
            os("--format"),
            os("cyclonedx"),
            os("--cache-backend"),
            os("memory"),
            os("--skip-db-update"),
            os("--offline-scan"),
            os("-q"),
            os("--output"),
            trivy.as_os_str(),
        ],
    );
    let syft_cdx = dir.path().join("syft.cdx.json");
    let syft_spdx = dir.path().join("syft.spdx.json");
    let src = format!("docker-archive:{}", tar.display());
    let cdx_out = format!("cyclonedx-json={}", syft_cdx.display());
    let spdx_out = format!("spdx-json={}", syft_spdx.display());
    peer_sbom(
        &peers.join("syft"),
        &[
            os("-q"),
            std::ffi::OsStr::new(&src),
            os("-o"),
            std::ffi::OsStr::new(&cdx_out),
            os("-o"),
            std::ffi::OsStr::new(&spdx_out),
        ],
    );
    for sbom in [&trivy, &syft_cdx, &syft_spdx] {
        assert_eq!(
            glibc_findings(dir.path(), sbom, &glibc),
            direct,
            "{}",
            sbom.display()
        );
    }

    // The same record under Debian 11 finds nothing in the Debian 12 image's SBOM.
    let d11 = dir.path().join("d11.json");
    std::fs::write(
        &d11,
        std::fs::read_to_string(&glibc)
            .unwrap()
            .replace("Debian:12", "Debian:11"),
    )
    .unwrap();
    assert_eq!(glibc_findings(dir.path(), &trivy, &d11), []);
}

// ---------------------------------------------------------------------------------------
// The database a scan opens

#[test]
fn moat_db_env_names_the_database() {
    let fx = Fx::new();
    let o = run(fx.cmd().env("MOAT_DB", fx.db()).args([
        "scan",
        &fx.img(),
        "--offline",
        "--format",
        "json",
    ]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pairs(&v, "findings"), all_findings());
    // --db wins over MOAT_DB.
    let o = run(fx
        .cmd()
        .env("MOAT_DB", fx.path().join("absent.db"))
        .args(["scan", &fx.img(), "--offline", "--format", "json", "--db"])
        .arg(fx.db()));
    assert_eq!(code(&o), 0, "{}", err(&o));
    // The default location under XDG_CACHE_HOME.
    let cache = fx.path().join("cache/moat");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::copy(fx.db(), cache.join("moat.db")).unwrap();
    let o = run(fx
        .cmd()
        .args(["scan", &fx.img(), "--offline", "--format", "json"]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pairs(&v, "findings"), all_findings());
}

#[test]
fn a_scan_never_writes_the_database() {
    let fx = Fx::new();
    let before = std::fs::read(fx.db()).unwrap();
    let o = fx.scan(&["--format", "json"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(std::fs::read(fx.db()).unwrap(), before);
    // Nothing beside it either (no journal or temporary file left).
    let mut names: Vec<String> = std::fs::read_dir(fx.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("moat.db"))
        .collect();
    names.sort();
    assert_eq!(names, ["moat.db"]);
}

#[test]
fn db_max_age_no_warning_for_a_fresh_database() {
    let fx = Fx::new();
    // A database built now is 0 days old: no warning with the default (7) nor with 0
    // (the warning is for an age strictly greater than the limit).
    for args in [&[][..], &["--db-max-age", "0"][..]] {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        let o = fx.scan(&a);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(!err(&o).contains("days old"), "{args:?}: {}", err(&o));
        assert_eq!(err(&o), "", "{args:?}");
    }
    let o = fx.scan(&["--db-max-age", "-1"]);
    assert_eq!(code(&o), 2, "a negative age is a usage error: {}", err(&o));
}

/// Sets the database's build time with the sqlite3 tool (or Python's sqlite3); false when
/// neither is installed.
fn set_built_at(db: &Path, when: &str) -> bool {
    let sql = format!("UPDATE meta SET value = '{when}' WHERE key = 'built_at';");
    if Command::new("sqlite3")
        .arg(db)
        .arg(&sql)
        .status()
        .is_ok_and(|s| s.success())
    {
        return true;
    }
    Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()")
        .arg(db)
        .arg(&sql)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn db_max_age_warns_about_an_old_database() {
    let fx = Fx::new();
    if !set_built_at(&fx.db(), "2020-01-01T00:00:00Z") {
        eprintln!("skipped: neither sqlite3 nor python3 can edit the database");
        return;
    }
    let o = fx.scan(&["--format", "json"]);
    assert_eq!(code(&o), 0, "a warning, not an error: {}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(&format!("the advisory database {} is ", fx.db().display())),
        "{e}"
    );
    assert!(e.contains("days old (--db-max-age 7)"), "{e}");
    assert!(e.contains("moat db update"), "{e}");
    let days: u64 = e
        .split(" is ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|d| d.parse().ok())
        .expect("a day count");
    assert!(days > 2000, "{e}");
    // The findings are the same.
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pairs(&v, "findings"), all_findings());
    // A larger limit, or --quiet, has no warning.
    let o = fx.scan(&["--format", "json", "--db-max-age", "100000"]);
    assert_eq!(err(&o), "");
    let o = fx.scan(&["--format", "json", "-q"]);
    assert_eq!(err(&o), "");
    // The status shows the age too.
    let o = run(fx.cmd().args(["db", "status", "--db"]).arg(fx.db()));
    assert!(
        out(&o).contains(&format!("built:    2020-01-01T00:00:00Z ({days} days ago)")),
        "{}",
        out(&o)
    );
}

#[test]
fn vex_statement_on_a_subcomponent_of_the_image() {
    let fx = Fx::new();
    let v = fx.json(&[]);
    let digest = v["artifact"]["manifest_digest"]
        .as_str()
        .expect("manifest digest")
        .replace(':', "%3A");
    let vex = fx.write(
        "sub.vex.json",
        &format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "t", "timestamp": "2025-01-01T00:00:00Z", "version": 1,
                "statements": [{{"vulnerability": {{"name": "CVE-2023-45853"}},
                  "products": [{{"@id": "pkg:oci/test@{digest}",
                                 "subcomponents": [{{"@id": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"}}]}}],
                  "status": "not_affected", "justification": "vulnerable_code_not_present"}}]}}"#
        ),
    );
    let v = fx.json(&["--vex", vex.to_str().unwrap()]);
    assert_eq!(pairs(&v, "suppressed"), [p("CVE-2023-45853", "zlib1g")]);
}

#[test]
fn sbom_prefix_names_an_sbom_whatever_its_name() {
    let fx = Fx::new();
    let direct = fx.json(&[]);
    // a CycloneDX file without a .json name
    let sbom = fx.path().join("bill-of-materials");
    let o = run(fx
        .cmd()
        .args(["sbom", &fx.img(), "--format", "cyclonedx", "-o"])
        .arg(&sbom));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = run(fx
        .cmd()
        .arg("scan")
        .arg(format!("sbom:{}", sbom.display()))
        .args(["--offline", "--format", "json", "--db"])
        .arg(fx.db()));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(findings_of(&v), findings_of(&direct));
    // `sbom:` with a file that is not an SBOM is an error naming the file
    let junk = fx.write("junk.txt", "not json\n");
    let o = run(fx
        .cmd()
        .arg("scan")
        .arg(format!("sbom:{}", junk.display()))
        .args(["--offline", "--db"])
        .arg(fx.db()));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("junk.txt"), "{}", err(&o));
}

#[test]
fn scanners_are_honoured_and_unknown_ones_are_usage_errors() {
    let fx = Fx::new();
    // the default is `vuln,secret`; this image holds no secrets, so `vuln` alone finds the same
    assert_eq!(
        findings_of(&fx.json(&["--scanners", "vuln"])),
        findings_of(&fx.json(&[]))
    );
    assert_eq!(
        findings_of(&fx.json(&["--scanners", "vuln,secret"])),
        findings_of(&fx.json(&[]))
    );
    // `misconfig` is available since issue 11 (it was a usage error before): this image
    // holds no Dockerfile and no setuid file, so it adds only the checks of the image's own
    // config (no user, no health check) to the vulnerability findings
    let (own, rest): (Vec<_>, Vec<_>) = findings_of(&fx.json(&["--scanners", "vuln,misconfig"]))
        .into_iter()
        .partition(|f| f.0.starts_with("MOAT-IMG-"));
    assert_eq!(rest, findings_of(&fx.json(&["--scanners", "vuln"])));
    let own: Vec<&str> = own.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(own, ["MOAT-IMG-001", "MOAT-IMG-002"]);
    let o = fx.scan(&["--scanners", "misconfig"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = fx.scan(&["--scanners", "nonsense"]);
    assert_eq!(code(&o), 2, "{}", err(&o));
}

#[test]
fn many_warnings_end_with_a_count_per_code() {
    let home = tempfile::tempdir().expect("tempdir");
    let tree = home.path().join("tree");
    // 25 unreadable lockfiles: 20 warnings shown, then the other 5 counted
    for i in 0..25 {
        let d = tree.join(format!("p{i:02}"));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("Cargo.lock"), "[[package]\nname = ").expect("write");
    }
    let o = run(cmd(home.path())
        .args(["inventory", "--format", "json"])
        .arg(format!("dir:{}", tree.display())));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let e = err(&o);
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 21, "{e}");
    assert!(
        // the file named once, with the line: no `p00/Cargo.lock: ` repeated by the parser
        lines[0].starts_with("moat: warning: /p00/Cargo.lock:1: not valid TOML"),
        "{e}"
    );
    assert_eq!(
        lines[20],
        "moat: warning: 5 more warnings (5 parse-error); the JSON report lists them all"
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(25));
    assert_eq!(v["diagnostics"][0]["code"], "parse-error");
}
