//! End-to-end tests of `moat db import`, `moat db status` and `moat db update`.
//!
//! Imports read the real published feeds in `../shared/data/vulns` (skipped outside CI when
//! `../shared` is missing) and small records in `tests/data/scan`. `moat db update` runs
//! against a tiny HTTP server on 127.0.0.1 started by the test, which serves OSV-style
//! `/<ecosystem>/all.zip` archives built in the test and a KEV catalogue, answers
//! `If-None-Match` / `If-Modified-Since` with 304, and can answer 404 or cut a body off
//! halfway. No test reaches the internet: every command runs with `MOAT_DB_URL` pointing at
//! a loopback address and `XDG_CACHE_HOME` in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scan")
        .join(name)
}

/// `../shared/data/vulns`, or None (skipped) when `../shared` is missing outside CI.
fn vulns() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/vulns"
    ));
    common::needed(p, "../shared/data/vulns")
}

use common::{code, isolated as cmd, run, stderr as err, stdout as out};

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `moat db status` as (sources: name -> records, ecosystems: name -> records, whole text).
struct Status {
    sources: HashMap<String, u64>,
    ecosystems: HashMap<String, u64>,
    text: String,
}

fn status(home: &Path, db: &Path) -> Status {
    let o = run(cmd(home).args(["db", "status", "--db"]).arg(db));
    assert_eq!(code(&o), 0, "db status: {}", err(&o));
    let text = out(&o);
    let mut sources = HashMap::new();
    let mut ecosystems = HashMap::new();
    let mut section = "";
    for line in text.lines() {
        if line.trim().is_empty() {
            section = "";
            continue;
        }
        if line.starts_with("SOURCE ") {
            section = "sources";
            continue;
        }
        if line.starts_with("ECOSYSTEM ") {
            section = "ecosystems";
            continue;
        }
        // Columns are aligned: separated by two spaces or more (names may contain one
        // space: `osv:Rocky Linux`).
        let cols: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        match section {
            "sources" => {
                sources.insert(cols[0].to_string(), cols[1].parse().expect("records"));
            }
            "ecosystems" => {
                ecosystems.insert(cols[0].to_string(), cols[1].parse().expect("records"));
            }
            _ => {}
        }
    }
    Status {
        sources,
        ecosystems,
        text,
    }
}

/// A zip archive of `entries` (deflated; entries named `*.bin` stored), as OSV publishes.
fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in entries {
        let method = if name.ends_with(".bin") {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// OSV JSON files as zip entries named after their ids.
fn zip_files(files: &[PathBuf]) -> Vec<u8> {
    let entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            (
                f.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(f).unwrap(),
            )
        })
        .collect();
    zip(&entries)
}

/// The records of a JSON array file as one zip entry per record (how OSV publishes them).
fn zip_array(file: &Path) -> Vec<u8> {
    let v: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let list = match v {
        Value::Array(a) => a,
        one => vec![one],
    };
    let entries: Vec<(String, Vec<u8>)> = list
        .iter()
        .map(|r| {
            (
                format!("{}.json", r["id"].as_str().unwrap()),
                serde_json::to_vec_pretty(r).unwrap(),
            )
        })
        .collect();
    zip(&entries)
}

// ---------------------------------------------------------------------------------------
// The HTTP server

#[derive(Clone)]
struct Resource {
    body: Vec<u8>,
    /// Sent as `ETag`; a request with this `If-None-Match` gets 304.
    etag: Option<String>,
    /// Sent as `Last-Modified`; a request with this `If-Modified-Since` gets 304.
    last_modified: Option<String>,
    /// Send the full Content-Length but only half the body, then close.
    cut: bool,
}

impl Resource {
    fn etag(body: Vec<u8>, tag: &str) -> Resource {
        Resource {
            body,
            etag: Some(format!("\"{tag}\"")),
            last_modified: None,
            cut: false,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    if_none_match: Option<String>,
    if_modified_since: Option<String>,
    status: u16,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Resource>,
    log: Vec<Seen>,
}

struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let st = st.clone();
                std::thread::spawn(move || serve(stream, &st));
            }
        });
        Server { port, state }
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn put(&self, path: &str, r: Resource) {
        self.state.lock().unwrap().files.insert(path.to_string(), r);
    }
    fn remove(&self, path: &str) {
        self.state.lock().unwrap().files.remove(path);
    }
    fn set_cut(&self, path: &str, cut: bool) {
        self.state
            .lock()
            .unwrap()
            .files
            .get_mut(path)
            .expect("served")
            .cut = cut;
    }
    /// The requests since the last call.
    fn take_log(&self) -> Vec<Seen> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }
}

fn serve(mut s: TcpStream, state: &Mutex<State>) {
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 << 10 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let path = request.split(' ').nth(1).unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let (resource, mut seen) = {
        let st = state.lock().unwrap();
        (
            st.files.get(&path).cloned(),
            Seen {
                path: path.clone(),
                if_none_match: headers.get("if-none-match").cloned(),
                if_modified_since: headers.get("if-modified-since").cloned(),
                status: 0,
            },
        )
    };
    let mut resp = Vec::new();
    match resource {
        None => {
            seen.status = 404;
            resp.extend_from_slice(
                b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n",
            );
        }
        Some(r) => {
            let mut validators = String::new();
            if let Some(e) = &r.etag {
                validators.push_str(&format!("ETag: {e}\r\n"));
            }
            if let Some(lm) = &r.last_modified {
                validators.push_str(&format!("Last-Modified: {lm}\r\n"));
            }
            let fresh = (r.etag.is_some() && seen.if_none_match == r.etag)
                || (r.etag.is_none()
                    && r.last_modified.is_some()
                    && seen.if_modified_since == r.last_modified);
            if fresh {
                seen.status = 304;
                resp.extend_from_slice(
                    format!("HTTP/1.1 304 Not Modified\r\n{validators}Connection: close\r\n\r\n")
                        .as_bytes(),
                );
            } else {
                seen.status = 200;
                resp.extend_from_slice(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n{validators}Connection: close\r\n\r\n",
                        r.body.len()
                    )
                    .as_bytes(),
                );
                if r.cut {
                    resp.extend_from_slice(&r.body[..r.body.len() / 2]);
                } else {
                    resp.extend_from_slice(&r.body);
                }
            }
        }
    }
    state.lock().unwrap().log.push(seen);
    let _ = s.write_all(&resp);
    let _ = s.flush();
    let _ = s.shutdown(std::net::Shutdown::Both);
}

/// The URL path of an ecosystem's archive (`Rocky Linux` -> `/Rocky%20Linux/all.zip`).
fn archive_path(eco: &str) -> String {
    format!("/{}/all.zip", eco.replace(' ', "%20"))
}

const KEV_PATH: &str = "/kev/known_exploited_vulnerabilities.json";

/// The URL paths `moat db update` asks a mirror at `base` for, by default, with each one's
/// source label and format.
fn default_paths(base: &str) -> Vec<(String, String, moat_vuln::update::Format)> {
    moat_vuln::update::UpdateOptions {
        base_url: base.to_string(),
        kev_url: Some(format!("{base}{KEV_PATH}")),
        ..Default::default()
    }
    .sources()
    .into_iter()
    .map(|s| (s.url[base.len()..].to_string(), s.label, s.format))
    .collect()
}

/// A server with every source `moat db update` asks for: Debian and PyPI from the test
/// records, Go from `go` (OSV JSON files) when given, every other ecosystem an empty
/// archive, the vendor feeds empty documents; KEV from the test catalogue, with only a
/// Last-Modified validator.
fn mirror(go: &[PathBuf]) -> Server {
    use moat_vuln::update::Format;
    let server = Server::start();
    for (path, label, format) in default_paths(&server.url()) {
        let body = match (label.as_str(), format) {
            ("osv:Debian", _) => zip_array(&data("debian-12.json")),
            ("osv:PyPI", _) => zip_array(&data("pypi.json")),
            ("osv:Go", _) => zip_files(go),
            (_, Format::OsvZip) => zip(&[]),
            (_, Format::Updateinfo) => b"<?xml version=\"1.0\"?><updates></updates>".to_vec(),
            (_, Format::Oval) => {
                b"<oval_definitions xmlns=\"http://oval.mitre.org/XMLSchema/oval-definitions-5\"><!-- oval:com.oracle.elsa --><definitions/></oval_definitions>".to_vec()
            }
            (_, Format::Kev) => continue,
            (_, Format::MirrorList) => unreachable!("a mirror serves the feeds themselves"),
        };
        let tag = format!("{}-v1", label.strip_prefix("osv:").unwrap_or(&label));
        server.put(&path, Resource::etag(body, &tag));
    }
    server.put(
        KEV_PATH,
        Resource {
            body: std::fs::read(data("kev.json")).unwrap(),
            etag: None,
            last_modified: Some("Mon, 25 Aug 2025 17:04:19 GMT".into()),
            cut: false,
        },
    );
    server
}

const STATUS_FILE: &str = "\
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

";

/// A Debian 12 root filesystem with libc6 (source glibc) and zlib1g (source zlib) to scan.
fn rootfs(dir: &Path) -> String {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    )
    .unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), STATUS_FILE).unwrap();
    format!("rootfs:{}", root.display())
}

/// Sorted ids of the findings of an offline scan of `target` with `db`.
fn scan_ids(home: &Path, target: &str, db: &Path) -> Vec<String> {
    let o = run(cmd(home)
        .args(["scan", target, "--offline", "--format", "json", "--db"])
        .arg(db));
    assert_eq!(code(&o), 0, "scan: {}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let kev = if f["kev"] == true { " (KEV)" } else { "" };
            format!("{}{kev}", f["id"].as_str().unwrap())
        })
        .collect();
    ids.sort();
    ids
}

/// What the rootfs gets from the test records.
fn rootfs_findings() -> Vec<String> {
    vec![
        "CVE-2023-45853".into(),
        "CVE-2023-4911 (KEV)".into(),
        "CVE-2024-2961".into(),
    ]
}

/// The outcome line `moat db update` prints for a source.
fn outcome<'a>(stdout: &'a str, source: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{source}: ")))
        .unwrap_or_else(|| panic!("no line for {source} in:\n{stdout}"))
}

// ---------------------------------------------------------------------------------------
// moat db import

#[test]
fn import_directories_of_real_feeds_and_status() {
    let Some(vulns) = vulns() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db/moat.db");
    let go = vulns.join("go/osv");
    let pypa = vulns.join("pypi/pypa-osv-yaml");
    let rustsec = vulns.join("rust/advisory-db-toml-md");
    let kev = vulns.join("kev/known_exploited_vulnerabilities.json");
    let n_go = files_with_ext(&go, "json").len() as u64;
    let n_pypa = files_with_ext(&pypa, "yaml").len() as u64;
    let n_rustsec = files_with_ext(&rustsec, "md")
        .iter()
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.trim_start().starts_with("```toml")))
        .count() as u64;
    let kev_doc: Value = serde_json::from_slice(&std::fs::read(&kev).unwrap()).unwrap();
    let n_kev = kev_doc["vulnerabilities"].as_array().unwrap().len() as u64;
    assert!(n_go > 1000 && n_pypa > 1000 && n_rustsec > 500 && n_kev > 1000);

    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .args([&go, &pypa, &rustsec, &kev]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(err(&o), "", "the shared feeds have no malformed record");
    let stdout = out(&o);
    assert!(
        stdout.contains(&format!(
            "{}: {n_go} records as source osv:Go",
            go.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}: {n_pypa} records as source osv:PyPI",
            pypa.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}: {n_rustsec} records as source rustsec",
            rustsec.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: {n_kev} records as source kev", kev.display())),
        "{stdout}"
    );
    let total = n_go + n_pypa + n_rustsec + n_kev;
    assert!(
        stdout.contains(&format!("imported {total} records into {}", db.display())),
        "{stdout}"
    );
    assert!(db.is_file(), "the parent directory is created");

    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:Go"), Some(&n_go), "{}", st.text);
    assert_eq!(st.sources.get("osv:PyPI"), Some(&n_pypa), "{}", st.text);
    assert_eq!(st.sources.get("rustsec"), Some(&n_rustsec), "{}", st.text);
    assert_eq!(st.sources.get("kev"), Some(&n_kev), "{}", st.text);
    assert_eq!(st.ecosystems.get("Go"), Some(&n_go), "{}", st.text);
    assert_eq!(st.ecosystems.get("PyPI"), Some(&n_pypa), "{}", st.text);
    assert_eq!(
        st.ecosystems.get("crates.io"),
        Some(&n_rustsec),
        "{}",
        st.text
    );
    assert!(
        st.text.contains(&format!("database: {}", db.display())),
        "{}",
        st.text
    );
    assert!(st.text.contains("schema:   7"), "{}", st.text);
    assert!(
        st.text
            .contains(&format!("records:  {}", n_go + n_pypa + n_rustsec)),
        "{}",
        st.text
    );
    assert!(
        st.text.contains(&format!("KEV:      {n_kev} entries")),
        "{}",
        st.text
    );
    // Age: built just now (0 days; 1 if the test ran across midnight UTC).
    let built = st
        .text
        .lines()
        .find(|l| l.starts_with("built:"))
        .expect("built line");
    assert!(
        built.ends_with("(0 days ago)") || built.ends_with("(1 days ago)"),
        "{built}"
    );
    // Each source says where it came from.
    let go_line = st.text.lines().find(|l| l.starts_with("osv:Go  ")).unwrap();
    assert!(go_line.ends_with(&go.display().to_string()), "{go_line}");
}

/// A distroless CBL-Mariner 2.0 image keeps no rpm database, only the rpm manifest
/// `/var/lib/rpmmanifest/container-manifest-2`: its packages are the inventory (the shared
/// manifest of five, plus a mysql and a golang line), and Microsoft's OVAL imported with
/// `moat db import` matches them: mysql 8.0.32 below the 8.0.33-1 fix of two CVEs, golang
/// 1.20.5 inside `> 1.19.0, < 1.20.7-1`; glibc's `Not Applicable` definition, nothing.
#[test]
fn a_distroless_mariner_manifest_matched_against_azure_linux_oval() {
    let Some(vulns) = vulns() else { return };
    let samples = vulns.join("distro-samples");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/rpmmanifest")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "NAME=\"Common Base Linux Mariner\"\nID=mariner\nVERSION_ID=\"2.0\"\n",
    )
    .unwrap();
    let mut manifest = std::fs::read_to_string(
        samples.join("fixtures/mariner-2.0-distroless/container-manifest-2"),
    )
    .unwrap();
    for (name, vr) in [("mysql", "8.0.32-1.cm2"), ("golang", "1.20.5-1.cm2")] {
        manifest.push_str(&format!(
            "{name}\t{vr}\t1683806521\t1683700000\tMicrosoft Corporation\t(none)\t1000\tx86_64\t0\t{name}-{vr}.src.rpm\n"
        ));
    }
    std::fs::write(
        root.join("var/lib/rpmmanifest/container-manifest-2"),
        manifest,
    )
    .unwrap();
    let target = format!("rootfs:{}", root.display());

    let o = run(cmd(dir.path()).args(["inventory", &target, "--format", "json"]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let inv: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut pkgs: Vec<(String, String, String)> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
                p["ecosystem"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    pkgs.sort();
    let eco = "Azure Linux:2".to_string();
    assert_eq!(
        pkgs,
        [
            ("filesystem", "1.1-9.cm2"),
            ("glibc", "2.35-2.cm2"),
            ("golang", "1.20.5-1.cm2"),
            ("mariner-release", "2.0-12.cm2"),
            ("mysql", "8.0.32-1.cm2"),
            ("openssl-libs", "1.1.1k-15.cm2"),
            ("vim", "2:9.0-1.cm2"),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string(), eco.clone()))
    );

    let db = dir.path().join("db/moat.db");
    let oval = samples.join("oval-azurelinux/mariner-truncated-2.0-oval.xml");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(&oval));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        out(&o).contains("4 records as source azurelinux-oval"),
        "{}",
        out(&o)
    );
    assert_eq!(
        scan_ids(dir.path(), &target, &db),
        ["CVE-2023-21977", "CVE-2023-21980", "CVE-2023-29404"]
    );
}

#[test]
fn import_an_osv_all_zip() {
    let Some(vulns) = vulns() else { return };
    let dir = tempfile::tempdir().unwrap();
    let go = vulns.join("go/osv");
    let files = files_with_ext(&go, "json");
    let zip_path = dir.path().join("all.zip");
    // Built by the `zip` tool when there is one, else by the test's own writer.
    let zipped = Command::new("zip")
        .arg("-q")
        .arg("-j")
        .arg(&zip_path)
        .args(&files)
        .status()
        .is_ok_and(|s| s.success());
    if !zipped {
        std::fs::write(&zip_path, zip_files(&files)).unwrap();
    }
    let db = dir.path().join("moat.db");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(&zip_path));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(err(&o), "");
    let n = files.len() as u64;
    assert!(
        out(&o).contains(&format!("all.zip: {n} records as source osv:Go")),
        "{}",
        out(&o)
    );
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:Go"), Some(&n));
    assert_eq!(st.ecosystems.get("Go"), Some(&n));

    // The same records as the directory.
    let db2 = dir.path().join("dir.db");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db2)
        .arg(&go));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(status(dir.path(), &db2).ecosystems, st.ecosystems);
}

#[test]
fn malformed_records_are_counted_and_do_not_abort() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    std::fs::copy(data("pypi.json"), feed.join("PYSEC-2023-74.json")).unwrap();
    std::fs::write(
        feed.join("broken.json"),
        "{\"id\": \"PYSEC-BROKEN\", \"affected\": [",
    )
    .unwrap();
    // One good and one bad record in one array.
    std::fs::write(
        feed.join("pair.json"),
        r#"[{"id": "PYSEC-TEST-1", "modified": "2024-01-01T00:00:00Z",
             "affected": [{"package": {"ecosystem": "PyPI", "name": "example-pkg"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}]},
            {"id": 42}]"#,
    )
    .unwrap();
    std::fs::write(feed.join("README.txt"), "not an advisory").unwrap();
    let db = dir.path().join("moat.db");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(&feed));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(&format!(
            "{}: 2 malformed record(s), e.g. {}",
            feed.display(),
            feed.join("broken.json").display()
        )),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        out(&o).contains("2 records as source osv:PyPI"),
        "{}",
        out(&o)
    );
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:PyPI"), Some(&2));

    // Inside an all.zip too: the example names the archive and the entry.
    let z = dir.path().join("all.zip");
    std::fs::write(
        &z,
        zip(&[
            ("bad.json".into(), b"{\"id\": ".to_vec()),
            (
                "PYSEC-2023-74.json".into(),
                std::fs::read(data("pypi.json")).unwrap(),
            ),
        ]),
    )
    .unwrap();
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(&z));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        err(&o).contains(&format!(
            "{}: 1 malformed record(s), e.g. {}!bad.json",
            z.display(),
            z.display()
        )),
        "{}",
        err(&o)
    );
    // Keyed by id: PYSEC-2023-74 is replaced, PYSEC-TEST-1 from the first import stays.
    assert_eq!(status(dir.path(), &db).sources.get("osv:PyPI"), Some(&2));

    // A file that is not a zip at all holds nothing moat recognises: an error (exit 2, issue
    // 9) that says what it found and leaves the database as it was, not `imported 0 records`.
    let notzip = dir.path().join("garbage.zip");
    std::fs::write(&notzip, b"this is not a zip archive").unwrap();
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(&notzip));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(
        err(&o).contains("garbage.zip: nothing to import: 1 unreadable")
            && err(&o).contains("not a readable zip archive"),
        "{}",
        err(&o)
    );
    assert!(!out(&o).contains("imported 0 records"), "{}", out(&o));
    assert_eq!(status(dir.path(), &db).sources.get("osv:PyPI"), Some(&2));
}

#[test]
fn import_of_several_paths_keeps_every_record_of_a_shared_source() {
    // debian-12.json and trivy-glibc.json both hold osv:Debian records.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(data("debian-12.json"))
        .arg(data("trivy-glibc.json"))
        .arg(data("kev.json")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains("imported 7 records into"), "{}", out(&o));
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:Debian"), Some(&6), "{}", st.text);
    assert_eq!(st.sources.get("kev"), Some(&1), "{}", st.text);
    assert_eq!(st.ecosystems.get("Debian:12"), Some(&5), "{}", st.text);
    assert_eq!(st.ecosystems.get("Debian:11"), Some(&1), "{}", st.text);
    let target = rootfs(dir.path());
    let mut want = rootfs_findings();
    want.push("CVE-2010-4756".into());
    want.sort();
    assert_eq!(scan_ids(dir.path(), &target, &db), want);

    // A later import adds or replaces records by id and leaves the source's others alone.
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(data("trivy-glibc.json")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:Debian"), Some(&6), "{}", st.text);
    assert_eq!(st.sources.get("kev"), Some(&1), "{}", st.text);

    // With --replace-source, the import replaces that source (a refreshed feed drops
    // records that left it), and leaves the other sources alone.
    let o = run(cmd(dir.path())
        .args(["db", "import", "--replace-source", "--db"])
        .arg(&db)
        .arg(data("trivy-glibc.json")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:Debian"), Some(&1), "{}", st.text);
    assert_eq!(st.sources.get("kev"), Some(&1), "{}", st.text);
}

#[test]
fn import_of_a_missing_path_fails_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(data("debian-12.json")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let before = std::fs::read(&db).unwrap();
    let missing = dir.path().join("no-such-feed");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(data("pypi.json"))
        .arg(&missing));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("no-such-feed"), "{}", err(&o));
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing committed");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("moat.db") && n != "moat.db")
        .collect();
    assert_eq!(leftovers, Vec::<String>::new(), "no temporary file left");
    // `import` needs at least one path.
    let o = run(cmd(dir.path()).args(["db", "import", "--db"]).arg(&db));
    assert_eq!(code(&o), 2);
}

#[test]
fn status_of_a_missing_or_corrupt_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let o = run(cmd(dir.path()).args(["db", "status", "--db"]).arg(&db));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains(&db.display().to_string()), "{}", err(&o));
    assert!(err(&o).contains("moat db update"), "{}", err(&o));
    std::fs::write(&db, vec![0xA5u8; 8192]).unwrap();
    let o = run(cmd(dir.path()).args(["db", "status", "--db"]).arg(&db));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains(&db.display().to_string()), "{}", err(&o));
    assert!(err(&o).contains("moat db update"), "{}", err(&o));
}

#[test]
fn moat_db_env_is_the_database_path() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env/moat.db");
    let o = run(cmd(dir.path())
        .env("MOAT_DB", &db)
        .args(["db", "import"])
        .arg(data("debian-12.json")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(db.is_file());
    assert!(!dir.path().join("cache/moat/moat.db").exists());
    let o = run(cmd(dir.path()).env("MOAT_DB", &db).args(["db", "status"]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains(&format!("database: {}", db.display())));
    // Without MOAT_DB the default is $XDG_CACHE_HOME/moat/moat.db.
    let o = run(cmd(dir.path())
        .args(["db", "import"])
        .arg(data("pypi.json")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(dir.path().join("cache/moat/moat.db").is_file());
}

// ---------------------------------------------------------------------------------------
// moat db update

fn update(home: &Path, db: &Path, url: &str) -> Output {
    run(cmd(home)
        .args(["db", "update", "--db"])
        .arg(db)
        .args(["--db-url", url]))
}

#[test]
fn update_imports_then_is_not_modified_then_takes_changes() {
    let Some(vulns) = vulns() else { return };
    let go_files = files_with_ext(&vulns.join("go/osv"), "json");
    let n_go = go_files.len() as u64;
    let server = mirror(&go_files);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let target = rootfs(dir.path());

    // First run: everything is downloaded and imported.
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    let stdout = out(&o);
    assert!(
        outcome(&stdout, "osv:Go").contains(&n_go.to_string()),
        "{stdout}"
    );
    assert!(outcome(&stdout, "osv:Debian").contains('5'), "{stdout}");
    assert!(outcome(&stdout, "osv:PyPI").contains('1'), "{stdout}");
    assert!(outcome(&stdout, "kev").contains('1'), "{stdout}");
    let log = server.take_log();
    let mut want: Vec<String> = default_paths(&server.url())
        .into_iter()
        .map(|(p, _, _)| p)
        .collect();
    let mut got: Vec<String> = log.iter().map(|s| s.path.clone()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "one request per source");
    assert!(want.contains(&archive_path("Ubuntu")) && want.contains(&archive_path("Red Hat")));
    assert!(want.contains(&"/amazon/2023/updateinfo.xml.gz".to_string()));
    assert!(want.contains(&"/oracle/com.oracle.elsa-all.xml.bz2".to_string()));
    assert!(
        log.iter()
            .all(|s| s.status == 200 && s.if_none_match.is_none())
    );
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:Go"), Some(&n_go), "{}", st.text);
    assert_eq!(st.sources.get("osv:Debian"), Some(&5), "{}", st.text);
    assert_eq!(st.sources.get("osv:PyPI"), Some(&1), "{}", st.text);
    assert_eq!(st.sources.get("kev"), Some(&1), "{}", st.text);
    assert_eq!(st.sources.get("osv:Rocky Linux"), Some(&0), "{}", st.text);
    assert_eq!(st.ecosystems.get("Go"), Some(&n_go), "{}", st.text);
    assert!(
        st.text.contains(&format!("{}/Go/all.zip", server.url())),
        "{}",
        st.text
    );
    assert_eq!(scan_ids(dir.path(), &target, &db), rootfs_findings());
    let after_first = std::fs::read(&db).unwrap();

    // Second run: every source answers 304 and the file is not rewritten.
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    let stdout = out(&o);
    for (_, label, _) in default_paths(&server.url()) {
        assert_eq!(outcome(&stdout, &label), "not modified", "{stdout}");
    }
    let log = server.take_log();
    assert!(log.iter().all(|s| s.status == 304), "{log:?}");
    let go = log.iter().find(|s| s.path == "/Go/all.zip").unwrap();
    assert_eq!(go.if_none_match.as_deref(), Some("\"Go-v1\""));
    let kev = log.iter().find(|s| s.path == KEV_PATH).unwrap();
    assert_eq!(
        kev.if_modified_since.as_deref(),
        Some("Mon, 25 Aug 2025 17:04:19 GMT")
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        after_first,
        "nothing rewritten"
    );

    // Third run: the Go archive changed (fewer records): only it is replaced.
    server.put(
        "/Go/all.zip",
        Resource::etag(zip_files(&go_files[..10]), "Go-v2"),
    );
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(outcome(&out(&o), "osv:Go").contains("10"), "{}", out(&o));
    assert_eq!(outcome(&out(&o), "osv:Debian"), "not modified");
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:Go"), Some(&10), "{}", st.text);
    assert_eq!(st.sources.get("osv:Debian"), Some(&5), "{}", st.text);
    assert_eq!(scan_ids(dir.path(), &target, &db), rootfs_findings());
}

#[test]
fn update_cut_off_halfway_keeps_the_previous_database() {
    let server = mirror(&[]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let target = rootfs(dir.path());
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    let before = std::fs::read(&db).unwrap();

    // The Debian archive changes, and the server dies halfway through sending it.
    let mut body = zip_array(&data("debian-12.json"));
    body.extend(vec![0u8; 4096]); // enough bytes that half of them is a real cut
    server.put(
        "/Debian/all.zip",
        Resource {
            body,
            etag: Some("\"Debian-v2\"".into()),
            last_modified: None,
            cut: true,
        },
    );
    // One source failing is a warning: the update goes through, Debian keeps its records.
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("/Debian/all.zip"), "{e}");
    assert!(
        e.contains("cut off") || e.contains("EOF") || e.contains("eof"),
        "{e}"
    );
    assert!(
        e.contains("moat: warning: osv:Debian was not updated")
            && e.contains("its 5 previous records are kept"),
        "{e}"
    );
    assert_eq!(
        outcome(&out(&o), "osv:Debian"),
        "failed, kept 5 previous records"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "nothing else changed: the database is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("moat.db") && n != "moat.db")
        .collect();
    assert_eq!(leftovers, Vec::<String>::new(), "no temporary file left");
    // A scan still works with the previous records.
    assert_eq!(scan_ids(dir.path(), &target, &db), rootfs_findings());

    // Once the server sends the whole archive, the update goes through.
    server.set_cut("/Debian/all.zip", false);
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(outcome(&out(&o), "osv:Debian").contains('5'), "{}", out(&o));
}

#[test]
fn update_with_a_missing_archive_warns_and_keeps_that_source() {
    // moat asks for every ecosystem it knows; a 404 for one of them (a mirror that lacks
    // it) is a warning: that source keeps its records, the others are updated.
    let server = mirror(&[]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));

    server.remove("/Debian/all.zip");
    server.put("/PyPI/all.zip", Resource::etag(zip(&[]), "PyPI-v2"));
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(&format!(
            "{}/Debian/all.zip answered HTTP 404",
            server.url()
        )),
        "{e}"
    );
    assert!(e.contains("its 5 previous records are kept"), "{e}");
    assert_eq!(outcome(&out(&o), "osv:PyPI"), "updated, 0 records");
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:PyPI"), Some(&0), "{}", st.text);
    assert_eq!(st.sources.get("osv:Debian"), Some(&5), "{}", st.text);
    // The scan still finds the Debian vulnerabilities.
    assert_eq!(
        scan_ids(dir.path(), &rootfs(dir.path()), &db),
        rootfs_findings()
    );

    // Without a previous database the others make a new one.
    let fresh = dir.path().join("fresh.db");
    let o = update(dir.path(), &fresh, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        err(&o).contains("its 0 previous records are kept"),
        "{}",
        err(&o)
    );
    assert_eq!(status(dir.path(), &fresh).sources.get("osv:Debian"), None);

    // Every source failing is an error that writes nothing.
    let dead = dir.path().join("dead.db");
    let o = update(dir.path(), &dead, "http://127.0.0.1:9");
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(err(&o).contains("every source failed"), "{}", err(&o));
    assert!(err(&o).contains("no usable database"), "{}", err(&o));
    assert!(!dead.exists());
}

#[test]
fn update_rebuilds_a_corrupt_database() {
    let server = mirror(&[]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let target = rootfs(dir.path());
    std::fs::write(&db, b"garbage garbage garbage".repeat(100)).unwrap();
    let o = run(cmd(dir.path())
        .args(["scan", &target, "--offline", "--db"])
        .arg(&db));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("moat db update"), "{}", err(&o));
    let o = update(dir.path(), &db, &server.url());
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(scan_ids(dir.path(), &target, &db), rootfs_findings());
}

#[test]
fn update_from_environment_variables() {
    let server = mirror(&[]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-env/moat.db");
    let o = run(cmd(dir.path())
        .env("MOAT_DB", &db)
        .env("MOAT_DB_URL", server.url())
        .args(["db", "update"]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(db.is_file());
    assert!(!server.take_log().is_empty());
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("osv:Debian"), Some(&5), "{}", st.text);
    assert_eq!(st.sources.get("kev"), Some(&1), "{}", st.text);
    // --db-url wins over MOAT_DB_URL.
    let o = run(cmd(dir.path())
        .env("MOAT_DB", &db)
        .env("MOAT_DB_URL", "http://127.0.0.1:9")
        .args(["db", "update", "--db-url", &server.url()]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(outcome(&out(&o), "osv:Debian"), "not modified");
}

#[test]
fn scan_without_a_database_downloads_it_first() {
    let server = mirror(&[]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("auto.db");
    let target = rootfs(dir.path());
    let o = run(cmd(dir.path())
        .env("MOAT_DB_URL", server.url())
        .args(["scan", &target, "--format", "json", "--db"])
        .arg(&db));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(err(&o).contains("downloading"), "{}", err(&o));
    assert!(db.is_file());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 3);
    // With --offline nothing is fetched.
    server.take_log();
    let other = dir.path().join("other.db");
    let o = run(cmd(dir.path())
        .env("MOAT_DB_URL", server.url())
        .args(["scan", &target, "--offline", "--db"])
        .arg(&other));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(
        server.take_log().is_empty(),
        "--offline never touches the network"
    );
    // `moat db update --offline` is refused.
    let o = run(cmd(dir.path())
        .env("MOAT_DB_URL", server.url())
        .args(["db", "update", "--offline", "--db"])
        .arg(&other));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("moat db import"), "{}", err(&o));
    assert!(server.take_log().is_empty());
}

#[test]
fn status_and_import_into_a_closed_pipe_do_not_panic() {
    // `moat db status | head -1`: the reader is gone before moat writes.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    for args in [
        vec![
            "db".into(),
            "import".into(),
            "--db".into(),
            db.clone().into_os_string(),
            data("debian-12.json").into_os_string(),
        ],
        vec![
            "db".into(),
            "status".into(),
            "--db".into(),
            db.clone().into_os_string(),
        ],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let o = cmd(dir.path())
            .args(&args)
            .stdout(writer)
            .output()
            .expect("moat runs");
        assert_eq!(code(&o), 0, "{args:?}: {}", err(&o));
        assert!(!err(&o).contains("panicked"), "{args:?}: {}", err(&o));
    }
    // The import went through although nobody read its output.
    assert_eq!(status(dir.path(), &db).sources.get("osv:Debian"), Some(&5));
}

#[test]
fn update_ecosystems_picks_the_sources() {
    let server = mirror(&[]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let o = run(cmd(dir.path())
        .args(["db", "update", "--ecosystems", "Debian, PyPI", "--db"])
        .arg(&db)
        .args(["--db-url", &server.url()]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let mut got: Vec<String> = server.take_log().into_iter().map(|s| s.path).collect();
    got.sort();
    assert_eq!(got, ["/Debian/all.zip", "/PyPI/all.zip", KEV_PATH]);
    let stdout = out(&o);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "osv:Debian: updated, 5 records",
            "osv:PyPI: updated, 1 records",
            "kev: updated, 1 records"
        ]
    );
    // A name moat does not know is asked of the mirror like any OSV ecosystem: a 404 there
    // is a warning.
    let o = run(cmd(dir.path())
        .args(["db", "update", "--ecosystems", "NoSuchEcosystem", "--db"])
        .arg(&db)
        .args(["--db-url", &server.url()]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        err(&o).contains("NoSuchEcosystem/all.zip answered HTTP 404"),
        "{}",
        err(&o)
    );
    // An empty list is a usage error.
    let o = run(cmd(dir.path())
        .args(["db", "update", "--ecosystems", " ", "--db"])
        .arg(&db)
        .args(["--db-url", &server.url()]));
    assert_eq!(code(&o), 2, "{}", err(&o));
}

/// A body much larger than the memory moat may use: the download goes to a file and the
/// archive is read entry by entry. Runs moat with its data segment limited (`ulimit -d`),
/// which a download held in memory would exceed.
#[test]
fn update_streams_a_download_larger_than_its_memory() {
    const LIMIT_KIB: u64 = 64 * 1024;
    let server = mirror(&[]);
    // 160 MiB of incompressible bytes, stored, before the records.
    let mut padding = vec![0u8; 160 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in padding.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let v: Value = serde_json::from_slice(&std::fs::read(data("debian-12.json")).unwrap()).unwrap();
    let mut entries = vec![("padding.bin".to_string(), padding)];
    for r in v.as_array().unwrap() {
        entries.push((
            format!("{}.json", r["id"].as_str().unwrap()),
            serde_json::to_vec(r).unwrap(),
        ));
    }
    let body = zip(&entries);
    assert!(body.len() as u64 > 2 * LIMIT_KIB * 1024);
    server.put("/Debian/all.zip", Resource::etag(body, "big"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let limited = || {
        let mut sh = std::process::Command::new("sh");
        sh.arg("-c")
            .arg(format!(
                "ulimit -d {LIMIT_KIB} && exec \"$MOAT_BIN\" db update --ecosystems Debian --db \"$1\" --db-url \"$2\""
            ))
            .arg("sh")
            .arg(&db)
            .arg(server.url())
            .env_remove("MOAT_DB")
            .env("MOAT_BIN", env!("CARGO_BIN_EXE_moat"))
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("HOME", dir.path())
            .current_dir(dir.path());
        sh
    };
    let o = run(&mut limited());
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        out(&o).contains("osv:Debian: updated, 5 records"),
        "{}",
        out(&o)
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("moat.db") && n != "moat.db")
        .collect();
    assert_eq!(
        leftovers,
        Vec::<String>::new(),
        "the download file is removed"
    );
    // The limit is real: a program that holds the body in memory fails under it.
    let o = run(std::process::Command::new("sh").arg("-c").arg(format!(
        "ulimit -d {LIMIT_KIB} && exec python3 -c 'b = bytearray({}); print(len(b))'",
        2 * LIMIT_KIB * 1024
    )));
    if o.status.code().is_some_and(|c| c != 127) {
        assert_ne!(code(&o), 0, "ulimit -d limits memory: {}", out(&o));
    }
}

// ---------------------------------------------------------------------------------------
// What a scan says about the target's OS release

/// An Ubuntu root filesystem of `version` with wayland's client library.
fn ubuntu_rootfs(dir: &Path, version: &str, wayland: &str) -> String {
    let root = dir.join(format!("ubuntu-{version}"));
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        format!("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"{version}\"\nPRETTY_NAME=\"Ubuntu {version}\"\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        format!(
            "Package: libwayland-client0\nStatus: install ok installed\nArchitecture: amd64\n\
             Source: wayland\nVersion: {wayland}\nDescription: wayland compositor infrastructure\n\n"
        ),
    )
    .unwrap();
    format!("rootfs:{}", root.display())
}

/// Pairs of strings: (id, fixed version) of findings, (code, message) of diagnostics.
type Pairs = Vec<(String, String)>;

/// `moat scan --format json` of `target`: (findings as id/fixed-version pairs, diagnostics as
/// code/message pairs, stderr).
fn scan_report(home: &Path, target: &str, db: &Path, epoch: &str) -> (Pairs, Pairs, String) {
    let o = run(cmd(home)
        .env("SOURCE_DATE_EPOCH", epoch)
        .args(["scan", target, "--offline", "--format", "json", "--db"])
        .arg(db));
    assert_eq!(code(&o), 0, "scan: {}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["fixed_version"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let diags = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (findings, diags, err(&o))
}

/// 2026-12-01T00:00:00Z.
const DEC_2026: &str = "1796083200";
/// 2023-01-01T00:00:00Z.
const JAN_2023: &str = "1672531200";

#[test]
fn a_release_without_advisories_is_reported() {
    let Some(vulns) = vulns() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(data("debian-12.json")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let jammy = ubuntu_rootfs(dir.path(), "22.04", "1.20.0-1");

    // Only Debian advisories: the Ubuntu packages cannot be checked, and the report says so.
    let (findings, diags, stderr) = scan_report(dir.path(), &jammy, &db, DEC_2026);
    assert_eq!(findings, []);
    let want = "no advisories for ubuntu 22.04 in the database: OS packages were not checked \
                (1 package of Ubuntu:22.04; `moat db update` downloads the advisories of every \
                distro moat knows)";
    assert_eq!(diags, [("no-advisories".to_string(), want.to_string())]);
    assert!(
        stderr.contains(&format!("moat: warning: {want}")),
        "{stderr}"
    );
    // The table counts it.
    let o = run(cmd(dir.path())
        .env("SOURCE_DATE_EPOCH", DEC_2026)
        .args(["scan", &jammy, "--offline", "--db"])
        .arg(&db));
    assert!(
        out(&o).contains("diagnostics: 1 no-advisories"),
        "{}",
        out(&o)
    );

    // With Ubuntu's OSV records (stream `Ubuntu:22.04:LTS`) the package is matched.
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(vulns.join("distro-samples/osv/ubuntu")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let (findings, diags, _) = scan_report(dir.path(), &jammy, &db, DEC_2026);
    assert_eq!(
        findings,
        [("CVE-2021-3782".to_string(), "1.20.0-1ubuntu0.1".to_string())]
    );
    assert_eq!(diags, []);

    // A release the data does not cover says which ones it does.
    let precise = ubuntu_rootfs(dir.path(), "12.04", "1.0.0-1");
    let (_, diags, _) = scan_report(dir.path(), &precise, &db, JAN_2023);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].0, "no-advisories");
    assert!(
        diags[0].1.starts_with(
            "no advisories for ubuntu 12.04 in the database: OS packages were not checked \
             (1 package; the advisories of Ubuntu cover 14.04, 16.04, 18.04, 20.04, 22.04"
        ),
        "{diags:?}"
    );

    // Ubuntu Pro (ESM) fixes apply to the release too: 16.04's wayland is fixed in +esm1.
    let xenial = ubuntu_rootfs(dir.path(), "16.04", "1.12.0-1~ubuntu16.04.3");
    let (findings, _, _) = scan_report(dir.path(), &xenial, &db, JAN_2023);
    assert_eq!(
        findings,
        [(
            "CVE-2021-3782".to_string(),
            "1.12.0-1~ubuntu16.04.3+esm1".to_string()
        )]
    );
}

#[test]
fn an_end_of_life_release_is_reported() {
    let Some(vulns) = vulns() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(vulns.join("distro-samples/osv/ubuntu")));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let bionic = ubuntu_rootfs(dir.path(), "18.04", "1.16.0-1ubuntu1.1~18.04.4");
    let (findings, diags, stderr) = scan_report(dir.path(), &bionic, &db, DEC_2026);
    assert_eq!(findings, [], "fixed version installed");
    let want = "ubuntu 18.04 is end-of-life: its standard support ended on 2023-05-31 \
                (fixes continue through Ubuntu Pro only)";
    assert_eq!(diags, [("end-of-life".to_string(), want.to_string())]);
    assert!(
        stderr.contains(&format!("moat: warning: {want}")),
        "{stderr}"
    );
    // Before that date it is not.
    let (_, diags, _) = scan_report(dir.path(), &bionic, &db, JAN_2023);
    assert_eq!(diags, []);
}

/// Amazon Linux, Oracle Linux and Red Hat feeds imported, then an SBOM of packages of the
/// three matched against them; `moat db status` lists what the database covers.
#[test]
fn vendor_feeds_import_match_and_status() {
    let Some(vulns) = vulns() else { return };
    let samples = vulns.join("distro-samples");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let alas = samples.join("alas/updateinfo_2_items.xml.gz");
    let oval = samples.join("oval-oracle/vunnel-mock_per_arch_data.xml");
    let vex = vulns.join("redhat/csaf-vex-samples/cve-2023-38545.json");
    let o = run(cmd(dir.path())
        .args(["db", "import", "--db"])
        .arg(&db)
        .args([&alas, &oval, &vex]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(err(&o), "");
    let stdout = out(&o);
    for line in [
        format!("{}: 2 records as source alas:2", alas.display()),
        format!("{}: 3 records as source oracle-oval", oval.display()),
        format!("{}: 1 records as source redhat-csaf", vex.display()),
        format!("imported 6 records into {}", db.display()),
    ] {
        assert!(stdout.contains(&line), "{line}\n{stdout}");
    }

    let sbom = dir.path().join("bom.json");
    std::fs::write(
        &sbom,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
          {"type":"library","name":"qemu-kvm","version":"1.5.3-141.amzn2",
           "purl":"pkg:rpm/amazon/qemu-kvm@1.5.3-141.amzn2?arch=x86_64&epoch=10&distro=amazon-2"},
          {"type":"library","name":"rsyslog","version":"8.24.0-57.0.2.el7_9.3",
           "purl":"pkg:rpm/oracle/rsyslog@8.24.0-57.0.2.el7_9.3?arch=aarch64&distro=ol-7.9"},
          {"type":"library","name":"rsyslog-crypto","version":"8.24.0-57.0.2.el7_9.3",
           "purl":"pkg:rpm/oracle/rsyslog-crypto@8.24.0-57.0.2.el7_9.3?arch=x86_64&distro=ol-7.9"},
          {"type":"library","name":"curl","version":"7.76.1-23.el9",
           "purl":"pkg:rpm/redhat/curl@7.76.1-23.el9?arch=x86_64&distro=rhel-9.2"}
        ]}"#,
    )
    .unwrap();
    let o = run(cmd(dir.path())
        .env("SOURCE_DATE_EPOCH", JAN_2023)
        .args([
            "scan",
            &format!("sbom:{}", sbom.display()),
            "--offline",
            "--format",
            "json",
            "--db",
        ])
        .arg(&db));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut got: Vec<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["package"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["id"].as_str().unwrap().to_string(),
                f["fixed_version"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "curl".to_string(),
                "CVE-2023-38545".to_string(),
                "0:7.76.1-23.el9_2.4".to_string()
            ),
            (
                "qemu-kvm".to_string(),
                "CVE-2017-5715".to_string(),
                "10:1.5.3-141.amzn2.5.3".to_string()
            ),
            (
                "rsyslog".to_string(),
                "CVE-2022-24903".to_string(),
                "0:8.24.0-57.0.4.el7_9.3".to_string()
            ),
        ],
        "rsyslog-crypto on x86_64 is past its architecture's fix (57.0.1)"
    );

    // Status: aligned columns and what is covered.
    let st = status(dir.path(), &db);
    assert_eq!(st.sources.get("alas:2"), Some(&2), "{}", st.text);
    assert_eq!(st.sources.get("oracle-oval"), Some(&3), "{}", st.text);
    assert_eq!(st.sources.get("redhat-csaf"), Some(&1), "{}", st.text);
    assert_eq!(st.ecosystems.get("Amazon Linux:2"), Some(&2), "{}", st.text);
    assert_eq!(st.ecosystems.get("Red Hat:9"), Some(&1), "{}", st.text);
    let lines: Vec<&str> = st.text.lines().collect();
    let header = lines.iter().position(|l| l.starts_with("SOURCE ")).unwrap();
    let col = |l: &str, name: &str| l.find(name);
    let rec = col(lines[header], "RECORDS").unwrap();
    for l in &lines[header + 1..header + 4] {
        // Every count starts under its header.
        assert!(
            l[rec..].starts_with(|c: char| c.is_ascii_digit()),
            "not aligned: {l:?}\n{}",
            st.text
        );
        assert!(l.contains(" days "), "age of each source: {l}");
    }
    let distro = lines
        .iter()
        .position(|l| l.starts_with("DISTRO "))
        .expect("a DISTRO section");
    let distros = lines[distro + 1..].join("\n");
    assert!(distros.contains("Amazon Linux  2 (2)"), "{distros}");
    assert!(
        distros.contains("Oracle Linux  10 (1), 7 (1), 8 (1)"),
        "{distros}"
    );
    assert!(distros.contains("Red Hat       9 (1), "), "{distros}");
}
