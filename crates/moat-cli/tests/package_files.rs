//! `--package-files`: each package's installed files in moat's JSON (`files`) and in
//! CycloneDX (`evidence.occurrences`), from the real images of ../shared/images (dpkg) and
//! the apk and rpm database fixtures of ../shared/data; and the alert join of `moat watch
//! --image-report` over such a report (the owner of an executed file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use moat_runtime::join::{ImageReport, join};
use moat_runtime::sink::Alert;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_of(args: &[&str]) -> Value {
    let o = moat(args);
    assert!(o.status.success(), "moat {args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

fn package<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

fn files(p: &Value) -> Vec<&str> {
    p["files"]
        .as_array()
        .unwrap_or_else(|| panic!("no files: {p}"))
        .iter()
        .map(|f| f.as_str().expect("a path"))
        .collect()
}

/// Every package with a `file_count` lists exactly that many files, and no other has any.
fn counts_match(v: &Value) -> usize {
    let mut with = 0;
    for p in v["packages"].as_array().expect("packages") {
        match p["file_count"].as_u64() {
            Some(n) => {
                assert_eq!(files(p).len() as u64, n, "{}", p["id"]);
                with += 1;
            }
            None => assert!(p.get("files").is_none(), "{p}"),
        }
    }
    with
}

fn no_files(v: &Value) {
    for p in v["packages"].as_array().expect("packages") {
        assert!(p.get("files").is_none(), "{}", p["id"]);
    }
}

/// `moat scan` of debian-tools with `--package-files`, as a file (the scan's JSON report).
fn tools_report(images: &Path, dir: &Path) -> (PathBuf, Value) {
    let out = dir.join("tools.json");
    let tar = images.join("debian-tools.docker.tar");
    let advisories = repo().join("examples/advisories");
    let o = moat([
        "scan",
        "-q",
        "--cache",
        "off",
        "--scanners",
        "vuln",
        "--advisories",
        advisories.to_str().unwrap(),
        &format!("docker-archive:{}", tar.display()),
        "--package-files",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    // findings may fail the gate (exit 1); the report is written either way
    assert!(code(&o) == 0 || code(&o) == 1, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    (out, v)
}

#[test]
fn debian_tools_packages_list_their_dpkg_files() {
    let Some(images) = images() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (_, v) = tools_report(&images, dir.path());
    let bash = package(&v, "bash");
    let f = files(bash);
    assert!(
        f.contains(&"/bin/bash") || f.contains(&"/usr/bin/bash"),
        "{f:?}"
    );
    assert_eq!(f.len() as u64, bash["file_count"].as_u64().unwrap());
    assert!(f.contains(&"/usr/share/doc/bash/copyright"), "{f:?}");
    // every dpkg package of the image has its list (dpkg keeps one for each)
    let n = counts_match(&v);
    assert_eq!(n, v["packages"].as_array().unwrap().len());
    assert!(v["diagnostics"].as_array().unwrap().is_empty());

    // CycloneDX: the same files as evidence.occurrences; without the flag, none
    let tar = format!(
        "docker-archive:{}",
        images.join("debian-tools.docker.tar").display()
    );
    let cdx = json_of(&["sbom", "-q", "--cache", "off", &tar, "--package-files"]);
    let c = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "bash")
        .unwrap();
    let occ: Vec<&str> = c["evidence"]["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["location"].as_str().unwrap())
        .collect();
    assert_eq!(occ, f);
    // and the document stays valid CycloneDX 1.6
    if let Some(peers) = peers() {
        let file = dir.path().join("tools.cdx.json");
        std::fs::write(&file, cdx.to_string()).unwrap();
        let st = std::process::Command::new(peers.join("validate-cyclonedx"))
            .arg(&file)
            .status()
            .expect("validator");
        assert!(st.success(), "invalid CycloneDX with evidence.occurrences");
    }
    let plain = json_of(&[
        "inventory",
        "-q",
        "--cache",
        "off",
        &tar,
        "--format",
        "json",
    ]);
    no_files(&plain);
    assert_eq!(
        package(&plain, "bash")["file_count"],
        bash["file_count"],
        "the flag changes nothing else"
    );
    let cdx = json_of(&["sbom", "-q", "--cache", "off", &tar]);
    assert!(
        cdx["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("evidence").is_none())
    );
}

/// A rootfs with one fixture file at `dst` and an os-release.
fn rootfs(dst: &str, src: &Path, os_release: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(dst);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::copy(src, &p).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    std::fs::create_dir_all(d.path().join("etc")).unwrap();
    std::fs::write(d.path().join("etc/os-release"), os_release).unwrap();
    d
}

#[test]
fn apk_packages_list_their_installed_db_files() {
    let Some(sh) = shared() else { return };
    let fx = sh.join("data/fixtures/apk/syft/multiple-2/lib/apk/db/installed");
    let db = moat_pkgdb::apk::parse_installed(&std::fs::read(&fx).unwrap());
    let d = rootfs(
        "lib/apk/db/installed",
        &fx,
        "ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
    );
    let target = format!("rootfs:{}", d.path().display());
    let v = json_of(&["inventory", &target, "--format", "json", "--package-files"]);
    let mut listed = 0;
    for p in &db.packages {
        let want: Vec<&str> = db.files(p).collect();
        let got = package(&v, &p.name);
        if want.is_empty() {
            assert!(got.get("files").is_none(), "{got}");
        } else {
            assert_eq!(files(got), want, "{}", p.name);
            listed += want.len();
        }
    }
    // the R: lines of the database, each under its F: directory
    let r_lines = std::fs::read_to_string(&fx)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("R:"))
        .count();
    assert_eq!(listed, r_lines);
    counts_match(&v);
    let musl = files(package(&v, "musl"));
    assert!(musl.iter().all(|f| f.starts_with('/')), "{musl:?}");
}

#[test]
fn rpm_packages_list_their_header_files() {
    let Some(sh) = shared() else { return };
    let src = sh.join("data/fixtures/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite");
    let direct = moat_pkgdb::rpm::read(&std::fs::read(&src).unwrap()).unwrap();
    let d = rootfs(
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        &src,
        "ID=mariner\nVERSION_ID=\"2.0\"\n",
    );
    let target = format!("rootfs:{}", d.path().display());
    let v = json_of(&["inventory", &target, "--format", "json", "--package-files"]);
    let by_id: HashMap<&str, &Value> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let mut checked = 0;
    for p in &direct.packages {
        let id = match &p.arch {
            Some(a) => format!("rpm:{}@{}.{a}", p.name, p.evr()),
            None => format!("rpm:{}@{}", p.name, p.evr()),
        };
        let got = by_id.get(id.as_str()).unwrap_or_else(|| panic!("{id}"));
        if p.files.is_empty() {
            assert!(got.get("files").is_none());
            continue;
        }
        let want: Vec<&str> = p.files.iter().map(String::as_str).collect();
        assert_eq!(files(got), want, "{id}");
        checked += 1;
    }
    assert!(checked > 10, "{checked}");
    counts_match(&v);
    // bash's files: the dirnames/basenames/dirindexes of its header joined
    let bash = files(package(&v, "bash"));
    assert!(bash.contains(&"/bin/bash"), "{bash:?}");
}

fn alert() -> Alert {
    Alert {
        time: "2026-12-03T10:00:00.000000000Z".into(),
        rule: "Terminal shell in container".into(),
        priority: "Notice",
        output: "A shell was spawned".into(),
        output_fields: Vec::new(),
        source: "syscall".into(),
        tags: Vec::<String>::new().into(),
        hostname: "h".into(),
    }
}

/// The join of `moat watch --image-report` over the scan's own report: an alert naming the
/// executed file says which package owns it, under both spellings of a merged-/usr path.
#[test]
fn the_watch_join_names_the_owner_from_a_scan_report() {
    let Some(images) = images() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (path, v) = tools_report(&images, dir.path());
    let version = package(&v, "bash")["version"].as_str().unwrap().to_string();
    let severity = |s: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "vulnerability" && f["severity"] == s)
            .count()
    };
    let (critical, high) = (severity("CRITICAL"), severity("HIGH"));
    let report = ImageReport::load(&path).unwrap();
    let image = v["artifact"]["name"].as_str().unwrap();
    for exe in ["/bin/bash", "/usr/bin/bash"] {
        let mut a = alert();
        assert!(join(
            &mut a,
            &[image],
            Some(exe),
            std::slice::from_ref(&report)
        ));
        let fields: HashMap<_, _> = a.output_fields.iter().cloned().collect();
        assert_eq!(
            fields["moat.package"].as_deref(),
            Some(format!("bash {version}").as_str())
        );
        assert_eq!(
            a.output,
            format!(
                "A shell was spawned; image (no digest) has {critical} critical and {high} high vulnerabilities; \
                 {exe} comes from bash {version}"
            )
        );
    }
    // without the flag, the same report knows no owners
    let plain = dir.path().join("plain.json");
    let mut v2 = v.clone();
    for p in v2["packages"].as_array_mut().unwrap() {
        p.as_object_mut().unwrap().remove("files");
    }
    std::fs::write(&plain, v2.to_string()).unwrap();
    let mut a = alert();
    assert!(join(
        &mut a,
        &[image],
        Some("/usr/bin/bash"),
        &[ImageReport::load(&plain).unwrap()]
    ));
    assert!(!a.output.contains("comes from"), "{}", a.output);

    // `moat inventory --format json` output is a report too (no vulnerability counts)
    let inv = dir.path().join("inv.json");
    let tar = format!(
        "docker-archive:{}",
        images.join("debian-tools.docker.tar").display()
    );
    let o = moat([
        "inventory",
        "-q",
        "--cache",
        "off",
        &tar,
        "--package-files",
        "--format",
        "json",
        "-o",
        inv.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = ImageReport::load(&inv).unwrap();
    assert_eq!((r.critical, r.high), (None, None));
    let mut a = alert();
    assert!(join(&mut a, &[image], Some("/usr/bin/bash"), &[r]));
    assert_eq!(
        a.output,
        format!("A shell was spawned; /usr/bin/bash comes from bash {version}")
    );
}
