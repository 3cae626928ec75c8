//! The updater against scripted mirrors on 127.0.0.1: `429` with `Retry-After`, `503`
//! then `200`, a dead mirror, slow bodies past the time budget, truncated and broken zips,
//! and incremental OSV updates from `modified_id.csv`. Each case checks the outcome and the
//! database. Synthetic OSV records: no shared data needed, never the internet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_vuln::db::Database;
use moat_vuln::update::{self, Retry, SourceOutcome, UpdateError, UpdateOptions};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// A scripted HTTP/1.1 server

/// One answer.
#[derive(Clone, Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many bytes of the body (the Content-Length stays the full length).
    cut: Option<usize>,
    /// Send the body in 1 KiB pieces with this pause between them.
    slow: Option<Duration>,
}

impl Reply {
    fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body,
            cut: None,
            slow: None,
        }
    }
    fn status(status: u16) -> Reply {
        Reply::ok(Vec::new()).with_status(status)
    }
    fn with_status(mut self, s: u16) -> Reply {
        self.status = s;
        self
    }
    fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

#[derive(Default)]
struct State {
    /// Per path: answers in order; the last one repeats.
    script: HashMap<String, Vec<Reply>>,
    /// (path, If-Modified-Since) of every request.
    log: Vec<(String, Option<String>)>,
}

struct Server {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let st = st.clone();
                std::thread::spawn(move || serve(stream, &st));
            }
        });
        Server { base, state }
    }
    fn script(&self, path: &str, replies: Vec<Reply>) {
        self.state
            .lock()
            .unwrap()
            .script
            .insert(path.to_string(), replies);
    }
    fn take_log(&self) -> Vec<(String, Option<String>)> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }
    fn paths(&self) -> Vec<String> {
        self.take_log().into_iter().map(|(p, _)| p).collect()
    }
}

fn serve(mut s: TcpStream, state: &Mutex<State>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let ims = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("if-modified-since"))
        .map(|(_, v)| v.trim().to_string());
    let reply = {
        let mut st = state.lock().unwrap();
        st.log.push((path.clone(), ims.clone()));
        match st.script.get_mut(&path) {
            Some(list) if list.len() > 1 => Some(list.remove(0)),
            Some(list) => list.first().cloned(),
            None => None,
        }
    };
    let mut r = reply.unwrap_or_else(|| Reply::status(404));
    // A Last-Modified the request already has: 304.
    let lm = r
        .headers
        .iter()
        .find(|(k, _)| k == "Last-Modified")
        .map(|(_, v)| v.clone());
    if r.status == 200 && lm.is_some() && lm == ims {
        r = Reply::status(304);
    }
    let reason = match r.status {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        if r.status == 304 { 0 } else { r.body.len() }
    );
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    if s.write_all(out.as_bytes()).is_err() || r.status == 304 {
        return;
    }
    let body = &r.body[..r.cut.unwrap_or(r.body.len()).min(r.body.len())];
    match r.slow {
        Some(pause) => {
            for piece in body.chunks(1024) {
                if s.write_all(piece).is_err() {
                    return;
                }
                let _ = s.flush();
                std::thread::sleep(pause);
            }
        }
        None => {
            let _ = s.write_all(body);
        }
    }
    let _ = s.flush();
    let _ = s.shutdown(std::net::Shutdown::Both);
}

// ---------------------------------------------------------------------------------------
// Records

/// An OSV Go record: `example.com/<pkg>` fixed in `fixed`.
fn record(id: &str, pkg: &str, fixed: &str, modified: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": modified,
        "summary": format!("{id} in {pkg}"),
        "affected": [{
            "package": {"ecosystem": "Go", "name": format!("example.com/{pkg}")},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        }]
    }))
    .unwrap()
}

fn zip(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        w.start_file(format!("{name}.json"), opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const T0: &str = "2026-01-01T00:00:00Z";

/// Three Go records.
fn go_zip() -> Vec<u8> {
    zip(&[
        ("GO-1", record("GO-1", "a", "1.1.0", T0)),
        ("GO-2", record("GO-2", "b", "1.2.0", T0)),
        ("GO-3", record("GO-3", "c", "1.3.0", T0)),
    ])
}

fn opts(base: &str) -> UpdateOptions {
    UpdateOptions {
        base_url: base.to_string(),
        ecosystems: vec!["Go".into()],
        kev_url: None,
        timeout: Duration::from_secs(10),
        retry: Retry {
            attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        },
        ..Default::default()
    }
}

fn run(path: &Path, o: &UpdateOptions) -> Result<update::UpdateSummary, UpdateError> {
    let mut log = Vec::new();
    let r = update::update(path, o, &mut |m| log.push(m.to_string()));
    eprintln!("{}", log.join("\n"));
    r
}

fn outcome(s: &update::UpdateSummary, label: &str) -> SourceOutcome {
    s.per_source
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, o)| o.clone())
        .unwrap_or_else(|| panic!("{label} missing: {:?}", s.per_source))
}

/// The fixed version of `example.com/<pkg>` in the database.
fn fixed(db: &Path, pkg: &str) -> Vec<String> {
    let db = Database::open_read_only(db).unwrap();
    let mut out: Vec<String> = db
        .advisories_for("Go", &format!("example.com/{pkg}"))
        .unwrap()
        .iter()
        .flat_map(|a| a.affected.iter())
        .flat_map(|f| f.ranges.iter())
        .flat_map(|r| r.events.iter())
        .filter_map(|e| match e {
            moat_model::advisory::Event::Fixed(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

fn records(db: &Path, label: &str) -> u64 {
    let st = Database::open_read_only(db).unwrap().status().unwrap();
    st.sources
        .iter()
        .find(|s| s.name == label)
        .map_or(0, |s| s.records)
}

// ---------------------------------------------------------------------------------------
// Retries and mirrors

#[test]
fn a_429_with_retry_after_is_waited_for() {
    let server = Server::start();
    server.script(
        "/Go/all.zip",
        vec![
            Reply::status(429).header("Retry-After", "1"),
            Reply::ok(go_zip()),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let t = Instant::now();
    let s = run(&db, &opts(&server.base)).unwrap();
    let took = t.elapsed();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert_eq!(server.paths(), ["/Go/all.zip", "/Go/all.zip"]);
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After honoured: {took:?}"
    );
    // not a speed check: far under any wait the server did not ask for (a loaded machine
    // took 15 s here)
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert_eq!(fixed(&db, "b"), ["1.2.0"]);
    assert!(s.bytes >= go_zip().len() as u64, "{}", s.bytes);

    // A Retry-After over the cap waits only the cap.
    std::fs::remove_file(&db).unwrap();
    server.script(
        "/Go/all.zip",
        vec![
            Reply::status(429).header("Retry-After", "3600"),
            Reply::ok(go_zip()),
        ],
    );
    let mut o = opts(&server.base);
    o.retry.max_delay = Duration::from_millis(300);
    let t = Instant::now();
    let s = run(&db, &o).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    // the cap, not the hour asked for (generous: a loaded machine is slow)
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}

#[test]
fn a_503_then_200_is_retried_with_backoff_and_a_404_is_not() {
    let server = Server::start();
    server.script(
        "/Go/all.zip",
        vec![Reply::status(503), Reply::status(502), Reply::ok(go_zip())],
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let t = Instant::now();
    let s = run(&db, &opts(&server.base)).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert_eq!(server.paths().len(), 3);
    // 100 ms then 200 ms, each plus up to half again.
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    // Always 503: three attempts, then the source fails and keeps its records.
    server.script("/Go/all.zip", vec![Reply::status(503)]);
    let s = run(&db, &opts(&server.base)).unwrap_err();
    let UpdateError::Failed {
        summary,
        previous_usable,
        ..
    } = s
    else {
        panic!("{s:?}")
    };
    assert!(previous_usable);
    assert_eq!(
        outcome(&summary, "osv:Go"),
        SourceOutcome::Failed {
            reason: format!("{}/Go/all.zip answered HTTP 503", server.base),
            kept: 3
        }
    );
    assert_eq!(server.paths().len(), 3);
    assert_eq!(records(&db, "osv:Go"), 3);

    // A 404 is final: one request.
    server.script("/Go/all.zip", vec![Reply::status(404)]);
    assert!(run(&db, &opts(&server.base)).is_err());
    assert_eq!(server.paths(), ["/Go/all.zip"]);
}

#[test]
fn mirrors_are_tried_in_order() {
    let first = Server::start();
    let second = Server::start();
    first.script("/Go/all.zip", vec![Reply::status(503)]);
    second.script("/Go/all.zip", vec![Reply::ok(go_zip())]);
    second.script(
        "/kev.json",
        vec![Reply::ok(
            br#"{"title":"t","catalogVersion":"1","dateReleased":"2026-01-01T00:00:00Z","count":1,"vulnerabilities":[{"cveID":"CVE-2024-0001","vendorProject":"v","product":"p","vulnerabilityName":"n","dateAdded":"2026-01-01","shortDescription":"d","requiredAction":"a","dueDate":"2026-02-01","knownRansomwareCampaignUse":"Unknown","notes":""}]}"#.to_vec(),
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let mut o = opts(&first.base);
    o.mirrors = vec![second.base.clone()];
    o.kev_url = Some(format!("{}/kev.json", first.base));
    let s = run(&db, &o).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert_eq!(outcome(&s, "kev"), SourceOutcome::Updated { records: 1 });
    // The first mirror: three attempts at the archive, one at KEV (404 is final).
    assert_eq!(
        first.paths(),
        ["/Go/all.zip", "/Go/all.zip", "/Go/all.zip", "/kev.json"]
    );
    assert_eq!(second.paths(), ["/Go/all.zip", "/kev.json"]);
    // The database remembers where the records came from.
    let st = Database::open_read_only(&db).unwrap().status().unwrap();
    let go = st.sources.iter().find(|s| s.name == "osv:Go").unwrap();
    assert_eq!(
        go.meta.url.as_deref(),
        Some(format!("{}/Go/all.zip", second.base).as_str())
    );
}

#[test]
fn an_unreachable_mirror_is_given_up_once_for_every_source() {
    let good = Server::start();
    good.script("/Go/all.zip", vec![Reply::ok(go_zip())]);
    good.script(
        "/PyPI/all.zip",
        vec![Reply::ok(zip(&[(
            "PYSEC-1",
            serde_json::to_vec(&serde_json::json!({
                "id": "PYSEC-1", "modified": T0,
                "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}]}]}]
            }))
            .unwrap(),
        )]))],
    );
    // Nothing listens on port 9 (discard) on the loopback here.
    let dead = "http://127.0.0.1:9";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let mut o = opts(dead);
    o.mirrors = vec![good.base.clone()];
    o.ecosystems = vec!["Go".into(), "PyPI".into()];
    let mut log = Vec::new();
    let s = update::update(&db, &o, &mut |m| log.push(m.to_string())).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert_eq!(
        outcome(&s, "osv:PyPI"),
        SourceOutcome::Updated { records: 1 }
    );
    let log = log.join("\n");
    assert_eq!(log.matches("retrying in").count(), 2, "{log}");
    assert!(
        log.contains("its host could not be reached earlier"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------------------
// Bodies: slow, cut off, broken

#[test]
fn a_slow_body_past_the_budget_fails_the_source_and_keeps_its_records() {
    let server = Server::start();
    server.script("/Go/all.zip", vec![Reply::ok(go_zip())]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    run(&db, &opts(&server.base)).unwrap();
    let before = std::fs::read(&db).unwrap();

    // 64 KiB at 1 KiB per 100 ms: over six seconds, against a budget of one.
    let mut big = go_zip();
    big.extend(vec![0u8; 64 << 10]);
    server.script(
        "/Go/all.zip",
        vec![Reply {
            slow: Some(Duration::from_millis(100)),
            ..Reply::ok(big)
        }],
    );
    let mut o = opts(&server.base);
    o.budget = Duration::from_secs(1);
    o.incremental = false;
    let t = Instant::now();
    let e = run(&db, &o).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    let UpdateError::Failed { summary, .. } = e else {
        panic!("{e:?}")
    };
    let SourceOutcome::Failed { reason, kept } = outcome(&summary, "osv:Go") else {
        panic!()
    };
    assert_eq!(kept, 3);
    assert!(
        reason.contains("time budget of 1s") || reason.contains("cut off"),
        "{reason}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "database untouched");
}

#[test]
fn truncated_and_broken_zips_keep_the_previous_records() {
    let server = Server::start();
    server.script("/Go/all.zip", vec![Reply::ok(go_zip())]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    run(&db, &opts(&server.base)).unwrap();
    let before = std::fs::read(&db).unwrap();
    server.take_log();

    let mut o = opts(&server.base);
    o.incremental = false;
    o.retry.attempts = 2;
    let newer = zip(&[
        ("GO-1", record("GO-1", "a", "9.9.9", T0)),
        ("GO-4", record("GO-4", "d", "1.4.0", T0)),
        ("GO-5", record("GO-5", "e", "1.5.0", T0)),
    ]);
    // 1. Short: the Content-Length promises more than comes (retried, then failed).
    server.script(
        "/Go/all.zip",
        vec![Reply {
            cut: Some(newer.len() / 2),
            ..Reply::ok(newer.clone())
        }],
    );
    let e = run(&db, &o).unwrap_err();
    let UpdateError::Failed { summary, .. } = e else {
        panic!("{e:?}")
    };
    assert!(
        matches!(outcome(&summary, "osv:Go"), SourceOutcome::Failed { kept: 3, ref reason } if reason.contains("cut off")),
        "{:?}",
        summary.per_source
    );
    assert_eq!(server.paths().len(), 2, "a cut-off body is retried");
    // 2. Broken: a zip cut in the middle, served whole (its length is right).
    let broken = newer[..newer.len() / 2].to_vec();
    server.script("/Go/all.zip", vec![Reply::ok(broken)]);
    let e = run(&db, &o).unwrap_err();
    let UpdateError::Failed { summary, .. } = e else {
        panic!("{e:?}")
    };
    assert!(
        matches!(
            outcome(&summary, "osv:Go"),
            SourceOutcome::Failed { kept: 3, .. }
        ),
        "{:?}",
        summary.per_source
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "database untouched");
    assert_eq!(fixed(&db, "a"), ["1.1.0"]);
    // 3. A broken zip on the first mirror, a good one on the second.
    let second = Server::start();
    second.script("/Go/all.zip", vec![Reply::ok(newer)]);
    o.mirrors = vec![second.base.clone()];
    let s = run(&db, &o).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert_eq!(fixed(&db, "a"), ["9.9.9"]);
    assert_eq!(fixed(&db, "b"), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// Incremental updates

/// An HTTP date `days` days before now.
fn days_ago(days: i64) -> (jiff::Timestamp, String) {
    let t =
        jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - days * 86_400).unwrap();
    (t, update::incremental::to_http_date(t))
}

#[test]
fn incremental_update_fetches_only_the_changed_records() {
    let server = Server::start();
    let (_, as_of) = days_ago(2);
    server.script(
        "/Go/all.zip",
        vec![Reply::ok(go_zip()).header("Last-Modified", &as_of)],
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let s = run(&db, &opts(&server.base)).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert_eq!(
        server.paths(),
        ["/Go/all.zip"],
        "no index on a first download"
    );

    // A day later GO-2 changed and GO-4 appeared; the archive itself must not be fetched.
    let (t1, _) = days_ago(1);
    let (t3, _) = days_ago(3);
    let csv = format!("{t1},GO-4\n{t1},GO-2\n{t3},GO-3\n{t3},GO-1\n");
    server.script("/Go/modified_id.csv", vec![Reply::ok(csv.into_bytes())]);
    server.script(
        "/Go/GO-2.json",
        vec![Reply::ok(record("GO-2", "b", "2.0.0", &t1.to_string()))],
    );
    server.script(
        "/Go/GO-4.json",
        vec![Reply::ok(record("GO-4", "d", "1.4.0", &t1.to_string()))],
    );
    server.script("/Go/all.zip", vec![Reply::status(500)]);
    let s = run(&db, &opts(&server.base)).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 4 });
    assert_eq!(
        server.paths(),
        ["/Go/modified_id.csv", "/Go/GO-4.json", "/Go/GO-2.json"]
    );
    assert_eq!(fixed(&db, "b"), ["2.0.0"]);
    assert_eq!(fixed(&db, "d"), ["1.4.0"]);
    assert_eq!(fixed(&db, "a"), ["1.1.0"], "the others stay");
    let st = Database::open_read_only(&db).unwrap().status().unwrap();
    let go = st.sources.iter().find(|s| s.name == "osv:Go").unwrap();
    assert_eq!(
        go.meta.last_modified.as_deref(),
        Some(update::incremental::to_http_date(t1).as_str()),
        "the index time is the source's new time"
    );
    assert_eq!(go.meta.etag, None);

    // Nothing newer: the index only, nothing written.
    let before = std::fs::read(&db).unwrap();
    let s = run(&db, &opts(&server.base)).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::NotModified);
    assert_eq!(server.paths(), ["/Go/modified_id.csv"]);
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // The index missing: the whole archive, asked conditionally with the stored time.
    server.script("/Go/modified_id.csv", vec![Reply::status(404)]);
    let (_, now) = days_ago(0);
    server.script(
        "/Go/all.zip",
        vec![Reply::ok(go_zip()).header("Last-Modified", &now)],
    );
    let s = run(&db, &opts(&server.base)).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    let log = server.take_log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1].0, "/Go/all.zip");
    assert_eq!(
        log[1].1.as_deref(),
        Some(update::incremental::to_http_date(t1).as_str())
    );
    assert_eq!(
        fixed(&db, "b"),
        ["1.2.0"],
        "the archive replaced the source"
    );
}

#[test]
fn incremental_falls_back_to_the_archive_when_too_far_behind() {
    let server = Server::start();
    let (_, as_of) = days_ago(2);
    server.script(
        "/Go/all.zip",
        vec![Reply::ok(go_zip()).header("Last-Modified", &as_of)],
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    run(&db, &opts(&server.base)).unwrap();
    server.take_log();

    // More than 5,000 changes: the index is read only that far, then the archive.
    let (t1, _) = days_ago(1);
    let mut csv = String::new();
    for i in 0..6_000 {
        csv.push_str(&format!("{t1},GO-X-{i}\n"));
    }
    server.script("/Go/modified_id.csv", vec![Reply::ok(csv.into_bytes())]);
    let (_, now) = days_ago(0);
    server.script(
        "/Go/all.zip",
        vec![Reply::ok(go_zip()).header("Last-Modified", &now)],
    );
    let mut log = Vec::new();
    let s = update::update(&db, &opts(&server.base), &mut |m| log.push(m.to_string())).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert_eq!(server.paths(), ["/Go/modified_id.csv", "/Go/all.zip"]);
    assert!(
        log.iter()
            .any(|l| l.contains("more than 5000 records changed")),
        "{log:?}"
    );

    // An index not newest first is not trusted either (lines newer than the stored time,
    // the second newer than the first).
    let (_, later) = days_ago(-1);
    server.script(
        "/Go/all.zip",
        vec![Reply::ok(go_zip()).header("Last-Modified", &later)],
    );
    let csv = format!("{},GO-1\n{},GO-2\n", days_ago(-1).0, days_ago(-2).0);
    server.script("/Go/modified_id.csv", vec![Reply::ok(csv.into_bytes())]);
    let mut log = Vec::new();
    let s = update::update(&db, &opts(&server.base), &mut |m| log.push(m.to_string())).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert!(
        log.iter().any(|l| l.contains("not sorted newest first")),
        "{log:?}"
    );
    server.take_log();

    // A stored time over 30 days old: straight to the archive, no index.
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = dir2.path().join("moat.db");
    let (_, old) = days_ago(40);
    server.script(
        "/Go/all.zip",
        vec![Reply::ok(go_zip()).header("Last-Modified", &old)],
    );
    run(&db2, &opts(&server.base)).unwrap();
    server.script(
        "/Go/all.zip",
        vec![Reply::ok(go_zip()).header("Last-Modified", &later)],
    );
    server.take_log();
    let s = run(&db2, &opts(&server.base)).unwrap();
    assert_eq!(outcome(&s, "osv:Go"), SourceOutcome::Updated { records: 3 });
    assert_eq!(server.paths(), ["/Go/all.zip"]);
}
