//! `moat db update` against a local HTTP server on 127.0.0.1 serving OSV-style `all.zip`
//! archives built from the shared Go and PyPI data. Never reaches the internet.
//!
//! A source that fails (a body cut off, HTTP 500, 404, a body that is not a zip) is a
//! warning that keeps that source's records; only an update where every source fails is an
//! error that writes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_vuln::db::Database;
use moat_vuln::update::{self, SourceOutcome, UpdateError, UpdateOptions};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn vulns() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/vulns"
    ));
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("shared data missing at {}", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}

/// How the server answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Normal,
    /// Sends the headers (full Content-Length) and half the body, then closes (whatever the
    /// request's If-None-Match: the failure modes always send a body or an error).
    HalfBody,
    Status500,
    /// Serves garbage instead of a zip.
    NotAZip,
}

/// (path, If-None-Match) of one request.
type Request = (String, Option<String>);

struct Server {
    base: String,
    files: Files,
    /// The mode of every path without one of its own.
    mode: Arc<Mutex<Mode>>,
    /// Modes of single paths.
    modes: Arc<Mutex<HashMap<String, Mode>>>,
    requests: Arc<Mutex<Vec<Request>>>,
    hits: Arc<AtomicUsize>,
}

/// A tiny HTTP/1.1 server: one thread, one request per connection, `ETag` = `"<len>-<path>"`.
/// Served bodies with a version (bumped by [`Server::replace`]) that goes into the ETag.
type Files = Arc<Mutex<HashMap<String, (Vec<u8>, u32)>>>;

impl Server {
    /// A new body for `path`, with a new ETag.
    fn replace(&self, path: &str, body: Vec<u8>) {
        let mut f = self.files.lock().unwrap();
        let version = f.get(path).map_or(0, |(_, v)| v + 1);
        f.insert(path.to_string(), (body, version));
    }
}

fn serve(files: HashMap<String, Vec<u8>>) -> Server {
    let files: Files = Arc::new(Mutex::new(
        files.into_iter().map(|(k, v)| (k, (v, 0))).collect(),
    ));
    let served = files.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mode = Arc::new(Mutex::new(Mode::Normal));
    let modes: Arc<Mutex<HashMap<String, Mode>>> = Arc::new(Mutex::new(HashMap::new()));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let hits = Arc::new(AtomicUsize::new(0));
    let (m, ms, r, h) = (mode.clone(), modes.clone(), requests.clone(), hits.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            h.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut inm = None;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("if-none-match")
                {
                    inm = Some(v.trim().to_string());
                }
            }
            r.lock().unwrap().push((path.clone(), inm.clone()));
            let mode = ms
                .lock()
                .unwrap()
                .get(&path)
                .copied()
                .unwrap_or(*m.lock().unwrap());
            let Some((body, version)) = served.lock().unwrap().get(&path).cloned() else {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            };
            let etag = format!("\"{}-{}-{version}\"", body.len(), path.len());
            let resp: Vec<u8> = match mode {
                Mode::Status500 => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                Mode::Normal if inm.as_deref() == Some(etag.as_str()) => {
                    format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n").into_bytes()
                }
                Mode::NotAZip => {
                    let junk = b"definitely not a zip archive";
                    let mut v = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", junk.len())
                        .into_bytes();
                    v.extend_from_slice(junk);
                    v
                }
                Mode::Normal | Mode::HalfBody => {
                    let mut v = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\nLast-Modified: Tue, 01 Oct 2024 00:00:00 GMT\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    let n = if mode == Mode::HalfBody { body.len() / 2 } else { body.len() };
                    v.extend_from_slice(&body[..n]);
                    v
                }
            };
            let _ = stream.write_all(&resp);
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    Server {
        base,
        files,
        mode,
        modes,
        requests,
        hits,
    }
}

fn zip_dir(dir: &Path, ext: &str) -> Vec<u8> {
    let mut files = Vec::new();
    fn walk(d: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, ext, out);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    walk(dir, ext, &mut files);
    files.sort();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        // The PyPA data is YAML; OSV's archives are JSON, so convert.
        let bytes = if ext == "yaml" {
            let a = moat_vuln::import::osv::parse_yaml(&bytes).unwrap();
            serde_json::to_vec(&a[0]).unwrap()
        } else {
            bytes
        };
        let name = f.file_stem().unwrap().to_str().unwrap();
        w.start_file(format!("{name}.json"), opts).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn kev_bytes(v: &Path) -> Vec<u8> {
    std::fs::read(v.join("kev/known_exploited_vulnerabilities.json")).unwrap()
}

fn setup(v: &Path) -> Server {
    let mut files = HashMap::new();
    files.insert(
        "/Go/all.zip".to_string(),
        zip_dir(&v.join("go/osv"), "json"),
    );
    files.insert(
        "/PyPI/all.zip".to_string(),
        zip_dir(&v.join("pypi"), "yaml"),
    );
    files.insert("/kev.json".to_string(), kev_bytes(v));
    serve(files)
}

fn opts(s: &Server) -> UpdateOptions {
    UpdateOptions {
        base_url: s.base.clone(),
        ecosystems: vec!["Go".into(), "PyPI".into()],
        kev_url: Some(format!("{}/kev.json", s.base)),
        timeout: Duration::from_secs(20),
        // One request per source: the failure cases below count them.
        retry: update::Retry::NONE,
        ..Default::default()
    }
}

/// Every source of [`setup`] updated: `find go/osv -name '*.json' | wc -l`, `find pypi -name
/// '*.yaml' | wc -l`, the KEV count.
fn all_updated() -> Vec<(String, SourceOutcome)> {
    vec![
        (
            "osv:Go".to_string(),
            SourceOutcome::Updated { records: 4291 },
        ),
        (
            "osv:PyPI".to_string(),
            SourceOutcome::Updated { records: 2661 },
        ),
        ("kev".to_string(), SourceOutcome::Updated { records: 1404 }),
    ]
}

fn run(path: &Path, o: &UpdateOptions) -> Result<update::UpdateSummary, UpdateError> {
    let mut log = Vec::new();
    let r = update::update(path, o, &mut |m| log.push(m.to_string()));
    eprintln!("{}", log.join("\n"));
    r
}

#[test]
fn update_then_not_modified_then_failures_keep_the_old_db() {
    let Some(v) = vulns() else { return };
    let server = setup(&v);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache/moat.db");
    let o = opts(&server);

    // 1. First update: everything is downloaded.
    let s = run(&path, &o).unwrap();
    assert!(s.committed);
    assert_eq!(s.per_source, all_updated());
    let db = Database::open_read_only(&path).unwrap();
    let st = db.status().unwrap();
    assert_eq!(st.advisories, 4291 + 2661);
    let go = st.sources.iter().find(|s| s.name == "osv:Go").unwrap();
    assert_eq!(
        go.meta.url.as_deref(),
        Some(format!("{}/Go/all.zip", server.base).as_str())
    );
    assert!(go.meta.etag.is_some() && go.meta.last_modified.is_some());
    let coder = db
        .advisories_for("Go", "github.com/coder/coder/v2")
        .unwrap();
    assert!(
        coder
            .iter()
            .any(|a| a.id == "GO-2024-3228" && a.source == "osv:Go")
    );
    drop(db);
    let first = std::fs::read(&path).unwrap();
    let entries = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(entries, 1, "no temporary file left beside the db");

    // 2. Second update: conditional requests, every source 304, nothing written.
    server.requests.lock().unwrap().clear();
    let s = run(&path, &o).unwrap();
    assert!(!s.committed);
    assert!(
        s.per_source
            .iter()
            .all(|(_, o)| *o == SourceOutcome::NotModified),
        "{:?}",
        s.per_source
    );
    let reqs = server.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 3);
    assert!(
        reqs.iter().all(|(_, inm)| inm.is_some()),
        "If-None-Match sent: {reqs:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), first);

    // 3. One source failing (the others not modified): a warning, that source keeps its
    //    records, and as nothing changed the file is not rewritten.
    for mode in [Mode::HalfBody, Mode::Status500, Mode::NotAZip] {
        server
            .modes
            .lock()
            .unwrap()
            .insert("/Go/all.zip".into(), mode);
        let before_hits = server.hits.load(Ordering::SeqCst);
        let s = run(&path, &o).unwrap();
        assert_eq!(server.hits.load(Ordering::SeqCst), before_hits + 3);
        assert!(!s.committed, "{mode:?}");
        match &s.per_source[0] {
            (label, SourceOutcome::Failed { reason, kept }) => {
                assert_eq!(label, "osv:Go");
                assert_eq!(*kept, 4291, "{mode:?}: {reason}");
                assert!(
                    reason.contains("/Go/all.zip") || mode == Mode::NotAZip,
                    "{reason}"
                );
            }
            other => panic!("{mode:?}: {other:?}"),
        }
        assert_eq!(s.per_source[1].1, SourceOutcome::NotModified);
        assert_eq!(s.failures().count(), 1);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            first,
            "{mode:?}: db untouched"
        );
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "{mode:?}: temporary and download files removed"
        );
    }

    // 4. One source failing while another changed: the change is committed, the failing
    //    source keeps its previous records.
    server
        .modes
        .lock()
        .unwrap()
        .insert("/Go/all.zip".into(), Mode::HalfBody);
    server.replace("/PyPI/all.zip", zip_dir(&v.join("pypi"), "yaml"));
    let s = run(&path, &o).unwrap();
    assert!(s.committed);
    assert!(matches!(
        s.per_source[0].1,
        SourceOutcome::Failed { kept: 4291, .. }
    ));
    assert_eq!(s.per_source[1].1, SourceOutcome::Updated { records: 2661 });
    let db = Database::open_read_only(&path).unwrap();
    assert_eq!(db.status().unwrap().advisories, 4291 + 2661);
    assert!(
        db.advisories_for("Go", "github.com/coder/coder/v2")
            .unwrap()
            .iter()
            .any(|a| a.id == "GO-2024-3228"),
        "Go's records are still there"
    );
    drop(db);

    // 5. Every source failing: an error, nothing written.
    server.modes.lock().unwrap().clear();
    *server.mode.lock().unwrap() = Mode::Status500;
    let before = std::fs::read(&path).unwrap();
    let e = run(&path, &o).unwrap_err();
    let UpdateError::Failed {
        summary,
        previous_usable,
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert!(previous_usable);
    assert_eq!(summary.failures().count(), 3);
    let msg = e.to_string();
    assert!(msg.contains("unchanged and still usable"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Whole archives are downloaded one source ahead, on a thread of their own, while the
/// source before is read: each source ends as the update one after the other left it (a
/// first URL that fails falls back to the next mirror, from the update's own thread), every
/// URL is asked once, and no downloaded file is left beside the database.
#[test]
fn downloads_made_ahead_fall_back_and_leave_no_files() {
    let Some(v) = vulns() else { return };
    let primary = setup(&v);
    let mirror = setup(&v);
    primary
        .modes
        .lock()
        .unwrap()
        .insert("/Go/all.zip".into(), Mode::Status500);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let mut o = opts(&primary);
    o.mirrors = vec![mirror.base.clone()];
    let s = run(&path, &o).unwrap();
    assert_eq!(s.per_source, all_updated());
    let paths = |s: &Server| -> Vec<String> {
        let mut p: Vec<String> = s
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.0.clone())
            .collect();
        p.sort();
        p
    };
    assert_eq!(
        paths(&primary),
        ["/Go/all.zip", "/PyPI/all.zip", "/kev.json"]
    );
    assert_eq!(paths(&mirror), ["/Go/all.zip"]);
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "moat.db" && !n.starts_with("moat.db.lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn corrupt_db_is_rebuilt_by_update() {
    let Some(v) = vulns() else { return };
    let server = setup(&v);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    std::fs::write(&path, vec![0xAB; 4096]).unwrap();
    assert!(Database::open_read_only(&path).is_err());
    let mut o = opts(&server);
    o.ecosystems = vec!["Go".into()];
    o.kev_url = None;
    let s = run(&path, &o).unwrap();
    assert!(s.committed);
    assert!(
        s.rebuilt.as_deref().unwrap().contains("corrupt"),
        "{:?}",
        s.rebuilt
    );
    assert_eq!(
        s.per_source,
        [(
            "osv:Go".to_string(),
            SourceOutcome::Updated { records: 4291 }
        )]
    );
    assert_eq!(
        Database::open_read_only(&path)
            .unwrap()
            .status()
            .unwrap()
            .advisories,
        4291
    );
}

#[test]
fn failure_without_a_previous_db_says_so() {
    let Some(v) = vulns() else { return };
    let server = setup(&v);
    *server.mode.lock().unwrap() = Mode::HalfBody;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let mut o = opts(&server);
    o.kev_url = None;
    let e = run(&path, &o).unwrap_err();
    let UpdateError::Failed {
        summary,
        previous_usable,
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert!(!previous_usable);
    assert_eq!(summary.per_source.len(), 2);
    // Every source is tried.
    assert!(
        summary
            .per_source
            .iter()
            .all(|(_, o)| matches!(o, SourceOutcome::Failed { reason, kept: 0 } if reason.contains("cut off")))
    );
    assert!(e.to_string().contains("no usable database"), "{e}");
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temp file removed"
    );

    // One source failing on a fresh database: the others make the database.
    *server.mode.lock().unwrap() = Mode::Normal;
    server
        .modes
        .lock()
        .unwrap()
        .insert("/PyPI/all.zip".into(), Mode::NotAZip);
    let s = run(&path, &o).unwrap();
    assert!(s.committed);
    assert_eq!(
        s.per_source[0],
        (
            "osv:Go".to_string(),
            SourceOutcome::Updated { records: 4291 }
        )
    );
    assert!(matches!(
        &s.per_source[1].1,
        SourceOutcome::Failed { reason, kept: 0 } if reason.contains("zip")
    ));
    assert_eq!(
        Database::open_read_only(&path)
            .unwrap()
            .status()
            .unwrap()
            .advisories,
        4291
    );
}

#[test]
fn ecosystems_pick_sources_and_names_are_encoded() {
    let Some(v) = vulns() else { return };
    let server = setup(&v);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let mut o = opts(&server);
    o.ecosystems = vec!["PyPI".into()];
    o.kev_url = None;
    let s = run(&path, &o).unwrap();
    assert_eq!(
        s.per_source,
        [(
            "osv:PyPI".to_string(),
            SourceOutcome::Updated { records: 2661 }
        )]
    );
    let reqs = server.requests.lock().unwrap().clone();
    assert_eq!(
        reqs.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["/PyPI/all.zip"]
    );
    // Nothing selected at all is refused before any request.
    o.ecosystems.clear();
    assert!(matches!(run(&path, &o), Err(UpdateError::NothingSelected)));
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}

/// The vendor feeds: Amazon Linux `updateinfo.xml.gz` and Oracle's OVAL `.xml.bz2` from a
/// mirror, and Amazon's public layout (a `mirror.list` naming the repository, whose
/// `repodata/repomd.xml` names the `updateinfo`), all served locally.
#[test]
fn vendor_feeds_from_a_mirror_and_from_a_repository() {
    let Some(v) = vulns() else { return };
    let samples = v.join("distro-samples");
    let mut files = HashMap::new();
    files.insert(
        "/amazon/2/updateinfo.xml.gz".to_string(),
        std::fs::read(samples.join("alas/updateinfo_2_items.xml.gz")).unwrap(),
    );
    files.insert(
        "/amazon/2023/updateinfo.xml.gz".to_string(),
        std::fs::read(samples.join("alas/updateinfo_AL2023.xml.gz")).unwrap(),
    );
    // Amazon Linux 1 is missing from this mirror: a warning, the others go on.
    files.insert(
        "/oracle/com.oracle.elsa-all.xml.bz2".to_string(),
        std::fs::read(samples.join("oval-oracle/all-positive-data.xml.bz2")).unwrap(),
    );
    let server = serve(files);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let o = UpdateOptions {
        base_url: server.base.clone(),
        ecosystems: vec!["Amazon Linux".into(), "Oracle Linux".into()],
        kev_url: None,
        timeout: Duration::from_secs(20),
        ..Default::default()
    };
    let s = run(&path, &o).unwrap();
    assert_eq!(
        s.per_source
            .iter()
            .map(|(l, o)| (l.as_str(), o.clone()))
            .collect::<Vec<_>>(),
        [
            (
                "alas:1",
                SourceOutcome::Failed {
                    reason: format!(
                        "{}/amazon/1/updateinfo.xml.gz answered HTTP 404",
                        server.base
                    ),
                    kept: 0
                }
            ),
            ("alas:2", SourceOutcome::Updated { records: 2 }),
            ("alas:2023", SourceOutcome::Updated { records: 1 }),
            ("oracle-oval", SourceOutcome::Updated { records: 14 }),
        ]
    );
    let db = Database::open_read_only(&path).unwrap();
    let kvm = db.advisories_for("Amazon Linux:2", "qemu-kvm").unwrap();
    assert_eq!(kvm[0].id, "ALAS2-2018-942");
    assert_eq!(kvm[0].source, "alas:2");
    let covered = db.covered_ecosystems().unwrap();
    for eco in [
        "Amazon Linux:2",
        "Amazon Linux:2023",
        "Oracle Linux:5",
        "Oracle Linux:6",
        "Oracle Linux:7",
    ] {
        assert!(covered.contains(eco), "{eco}: {covered:?}");
    }
    drop(db);

    // An HTML error page served as the feed is a damaged feed: Oracle keeps its records.
    let html = b"<html><body>Service unavailable</body></html>".to_vec();
    server.replace("/oracle/com.oracle.elsa-all.xml.bz2", html);
    let s = run(&path, &o).unwrap();
    assert!(
        matches!(
            &s.per_source[3].1,
            SourceOutcome::Failed { reason, kept: 14 } if reason.contains("not an updateinfo.xml or OVAL")
        ),
        "{:?}",
        s.per_source[3]
    );

    // Amazon's public layout, through its mirror.list.
    let mut files = HashMap::new();
    files.insert("/repo/repodata/repomd.xml".to_string(), br#"<?xml version="1.0"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision>
<data type="primary"><location href="repodata/primary.xml.gz"/></data>
<data type="updateinfo"><checksum type="sha256">x</checksum><location href="repodata/0a1b-updateinfo.xml.gz"/></data>
</repomd>"#.to_vec());
    files.insert(
        "/repo/repodata/0a1b-updateinfo.xml.gz".to_string(),
        std::fs::read(samples.join("alas/updateinfo_AL2023.xml.gz")).unwrap(),
    );
    let repo_server = serve(files);
    repo_server.replace(
        "/mirror.list",
        format!("{}/repo\n", repo_server.base).into_bytes(),
    );
    let fresh = dir.path().join("fresh.db");
    let src = update::Source {
        label: "alas:2023".into(),
        url: format!("{}/mirror.list", repo_server.base),
        format: update::Format::MirrorList,
        alternates: Vec::new(),
    };
    let mut log = Vec::new();
    let s = update::update_sources(&fresh, &[src], Duration::from_secs(20), &mut |m| {
        log.push(m.to_string())
    })
    .unwrap();
    assert_eq!(
        s.per_source,
        [(
            "alas:2023".to_string(),
            SourceOutcome::Updated { records: 1 }
        )],
        "{log:?}"
    );
    let db = Database::open_read_only(&fresh).unwrap();
    let st = db.status().unwrap();
    assert_eq!(
        st.sources[0].meta.url.as_deref(),
        Some(format!("{}/repo/repodata/0a1b-updateinfo.xml.gz", repo_server.base).as_str())
    );
    assert_eq!(
        update::updateinfo_href(
            r#"<repomd><data type="updateinfo"><location href="a/b.xml.gz"/></data></repomd>"#
        )
        .as_deref(),
        Some("a/b.xml.gz")
    );
}
