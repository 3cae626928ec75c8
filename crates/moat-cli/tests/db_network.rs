//! `moat scan` and `moat db update` against scripted mirrors on 127.0.0.1: a first scan
//! downloads only the sources its target needs, a later scan adds what a new target needs,
//! the report says which sources (and how old) it used, mirrors are tried in order, `429`
//! with `Retry-After` is waited for, and when every mirror fails a scan with a usable
//! database warns and goes on while one without fails (exit 2); a scan refreshes the
//! sources it needs once they are older than `--db-refresh-after` (or the configuration
//! file's `db.refresh-after`), from the configuration file's mirrors when no flag or
//! variable names one. Synthetic records; never the internet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{code, isolated, run, stderr as err, stdout as out};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// A scripted mirror

#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body,
        }
    }
    fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

#[derive(Default)]
struct State {
    /// Per path: answers in order; the last one repeats.
    script: HashMap<String, Vec<Reply>>,
    log: Vec<String>,
}

struct Mirror {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Mirror {
    fn start() -> Mirror {
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
        Mirror { base, state }
    }
    fn script(&self, path: &str, replies: Vec<Reply>) {
        self.state
            .lock()
            .unwrap()
            .script
            .insert(path.to_string(), replies);
    }
    /// The paths asked for since the last call, sorted.
    fn paths(&self) -> Vec<String> {
        let mut v = std::mem::take(&mut self.state.lock().unwrap().log);
        v.sort();
        v
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
    let path = head
        .split("\r\n")
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let reply = {
        let mut st = state.lock().unwrap();
        st.log.push(path.clone());
        match st.script.get_mut(&path) {
            Some(list) if list.len() > 1 => Some(list.remove(0)),
            Some(list) => list.first().cloned(),
            None => None,
        }
    }
    .unwrap_or_else(|| Reply::status(404));
    let mut resp = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        resp.push_str(&format!("{k}: {v}\r\n"));
    }
    resp.push_str("\r\n");
    let mut bytes = resp.into_bytes();
    bytes.extend_from_slice(&reply.body);
    let _ = s.write_all(&bytes);
    let _ = s.flush();
    let _ = s.shutdown(std::net::Shutdown::Both);
}

// ---------------------------------------------------------------------------------------
// Feeds and targets

fn record(id: &str, ecosystem: &str, name: &str, fixed: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": id,
        "modified": "2026-01-01T00:00:00Z",
        "aliases": [id.replace("OSV-", "CVE-")],
        "affected": [{
            "package": {"ecosystem": ecosystem, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
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

const KEV_PATH: &str = "/kev/known_exploited_vulnerabilities.json";

fn kev() -> Vec<u8> {
    br#"{"title":"t","catalogVersion":"1","dateReleased":"2026-01-01T00:00:00Z","count":1,"vulnerabilities":[{"cveID":"CVE-2025-0002","vendorProject":"v","product":"p","vulnerabilityName":"n","dateAdded":"2026-01-01","shortDescription":"d","requiredAction":"a","dueDate":"2026-02-01","knownRansomwareCampaignUse":"Unknown","notes":""}]}"#.to_vec()
}

/// A mirror with Alpine, npm, Debian, Ubuntu and Maven archives and KEV.
fn full_mirror() -> Mirror {
    let m = Mirror::start();
    m.script(
        "/Alpine/all.zip",
        vec![Reply::ok(zip(&[(
            "OSV-2025-0001",
            record("OSV-2025-0001", "Alpine:v3.20", "musl", "1.2.5-r1"),
        )]))],
    );
    m.script(
        "/npm/all.zip",
        vec![Reply::ok(zip(&[(
            "OSV-2025-0002",
            record("OSV-2025-0002", "npm", "lodash", "4.17.21"),
        )]))],
    );
    m.script(
        "/Debian/all.zip",
        vec![Reply::ok(zip(&[(
            "OSV-2025-0003",
            record("OSV-2025-0003", "Debian:12", "zlib", "1:1.3-1"),
        )]))],
    );
    for other in ["Ubuntu", "Maven"] {
        m.script(
            &format!("/{other}/all.zip"),
            vec![Reply::ok(zip(&[(
                "OSV-2025-0009",
                record("OSV-2025-0009", other, "x", "9"),
            )]))],
        );
    }
    m.script(KEV_PATH, vec![Reply::ok(kev())]);
    m
}

/// An Alpine 3.20 root filesystem with musl and the npm package lodash.
fn alpine(dir: &Path) -> String {
    let root = dir.join("alpine");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib/node_modules/lodash")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("lib/apk/db/installed"),
        "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\n",
    )
    .unwrap();
    std::fs::write(
        root.join("usr/lib/node_modules/lodash/package.json"),
        r#"{"name":"lodash","version":"4.17.20"}"#,
    )
    .unwrap();
    format!("rootfs:{}", root.display())
}

/// A Debian 12 root filesystem with zlib1g (source zlib).
fn debian(dir: &Path) -> String {
    let root = dir.join("debian");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
    )
    .unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n\n",
    )
    .unwrap();
    format!("rootfs:{}", root.display())
}

fn scan(
    home: &Path,
    db: &Path,
    target: &str,
    urls: &[&str],
    extra: &[&str],
) -> std::process::Output {
    let mut c = isolated(home);
    c.args(["scan", target, "--format", "json", "--db"]).arg(db);
    for u in urls {
        c.args(["--db-url", u]);
    }
    c.args(extra);
    run(&mut c)
}

fn json(o: &std::process::Output) -> Value {
    assert_eq!(code(o), 0, "{}", err(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// (name, records, age_days) of the report's advisory sources.
fn sources(v: &Value) -> Vec<(String, u64, u64)> {
    v["advisories"]["sources"]
        .as_array()
        .unwrap_or_else(|| panic!("no advisories.sources in {}", v["advisories"]))
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["records"].as_u64().unwrap(),
                s["age_days"].as_u64().unwrap(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn scans_download_only_what_their_targets_need() {
    let m = full_mirror();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache/moat.db");
    let a = alpine(dir.path());

    // First scan, no database: Alpine, npm and KEV; not Debian, Ubuntu or Maven.
    let o = scan(dir.path(), &db, &a, &[&m.base], &[]);
    let v = json(&o);
    assert_eq!(
        m.paths(),
        ["/Alpine/all.zip", KEV_PATH, "/npm/all.zip"],
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("downloading"), "{}", err(&o));
    assert_eq!(ids(&v), ["CVE-2025-0001", "CVE-2025-0002"]);
    assert_eq!(
        sources(&v),
        [
            ("kev".to_string(), 1, 0),
            ("osv:Alpine".to_string(), 1, 0),
            ("osv:npm".to_string(), 1, 0)
        ]
    );
    assert_eq!(v["advisories"]["downloaded"], true);
    assert_eq!(v["advisories"]["database"], db.display().to_string());

    // A Debian target: only Debian is added to the database.
    let d = debian(dir.path());
    let v = json(&scan(dir.path(), &db, &d, &[&m.base], &[]));
    assert_eq!(m.paths(), ["/Debian/all.zip"]);
    assert_eq!(ids(&v), ["CVE-2025-0003"]);
    assert_eq!(
        sources(&v),
        [("kev".to_string(), 1, 0), ("osv:Debian".to_string(), 1, 0)]
    );

    // The Alpine target again: nothing to download; the table says what was used.
    let o = run(isolated(dir.path())
        .args(["scan", &a, "--db"])
        .arg(&db)
        .args(["--db-url", &m.base]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(m.paths(), Vec::<String>::new());
    let table = out(&o);
    assert!(
        table.contains(&format!(
            "Advisories: {}: kev (0 days, 1 records), osv:Alpine (0 days, 1 records), osv:npm (0 days, 1 records)",
            db.display()
        )),
        "{table}"
    );
    // --offline never downloads, even for a target whose sources are missing.
    let other = dir.path().join("other");
    std::fs::create_dir_all(other.join("etc")).unwrap();
    std::fs::write(
        other.join("etc/os-release"),
        "ID=ubuntu\nVERSION_ID=\"22.04\"\n",
    )
    .unwrap();
    let o = scan(
        dir.path(),
        &db,
        &format!("rootfs:{}", other.display()),
        &[&m.base],
        &["--offline"],
    );
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(m.paths(), Vec::<String>::new());

    // `moat db update` refreshes what the database holds; --all every default source.
    let o = run(isolated(dir.path())
        .args(["db", "update", "--db"])
        .arg(&db)
        .args(["--db-url", &m.base]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(
        m.paths(),
        [
            "/Alpine/all.zip",
            "/Debian/all.zip",
            KEV_PATH,
            "/npm/all.zip"
        ]
    );
    let o = run(isolated(dir.path())
        .args(["db", "update", "--all", "--db"])
        .arg(&db)
        .args(["--db-url", &m.base]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let all = m.paths();
    assert!(all.contains(&"/Ubuntu/all.zip".to_string()), "{all:?}");
    assert!(all.contains(&"/Maven/all.zip".to_string()), "{all:?}");
    assert!(all.len() > 20, "{all:?}");
}

#[test]
fn when_every_mirror_fails_a_usable_database_is_used_with_a_warning() {
    let m = full_mirror();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let a = alpine(dir.path());
    json(&scan(dir.path(), &db, &a, &[&m.base], &[]));
    m.paths();

    // Debian is missing and every mirror is down: the scan goes on with what it has.
    let d = debian(dir.path());
    let dead = "http://127.0.0.1:9";
    let t = Instant::now();
    let o = scan(dir.path(), &db, &d, &[dead], &["--db-timeout", "20s"]);
    let v = json(&o);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    let e = err(&o);
    assert!(
        e.contains("downloading osv:Debian failed; the scan used the database"),
        "{e}"
    );
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"database-update"), "{codes:?}");
    assert!(codes.contains(&"no-advisories"), "{codes:?}");
    assert_eq!(ids(&v), Vec::<String>::new());

    // A mirror answering 503 for ever, within a short budget: the same.
    let busy = Mirror::start();
    busy.script("/Debian/all.zip", vec![Reply::status(503)]);
    let t = Instant::now();
    let o = scan(dir.path(), &db, &d, &[&busy.base], &["--db-timeout", "2s"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(err(&o).contains("answered HTTP 503"), "{}", err(&o));

    // No database at all: exit 2 and a clear message; nothing is left behind.
    let none = dir.path().join("none.db");
    let o = scan(dir.path(), &none, &d, &[dead], &["--db-timeout", "5s"]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(
        err(&o).contains("no usable advisory database"),
        "{}",
        err(&o)
    );
    assert!(!none.exists());
}

#[test]
fn mirrors_in_order_and_retry_after() {
    let m = full_mirror();
    m.script(
        "/Alpine/all.zip",
        vec![
            Reply {
                headers: vec![("Retry-After".into(), "1".into())],
                ..Reply::status(429)
            },
            Reply::ok(zip(&[(
                "OSV-2025-0001",
                record("OSV-2025-0001", "Alpine:v3.20", "musl", "1.2.5-r1"),
            )])),
        ],
    );
    let down = Mirror::start(); // 404 for everything
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let a = alpine(dir.path());
    // The first mirror lacks everything, the second rate-limits once.
    let t = Instant::now();
    let v = json(&scan(dir.path(), &db, &a, &[&down.base, &m.base], &[]));
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(ids(&v), ["CVE-2025-0001", "CVE-2025-0002"]);
    assert_eq!(down.paths(), ["/Alpine/all.zip", KEV_PATH, "/npm/all.zip"]);
    assert_eq!(
        m.paths(),
        [
            "/Alpine/all.zip",
            "/Alpine/all.zip",
            KEV_PATH,
            "/npm/all.zip"
        ]
    );

    // MOAT_DB_URL as a comma-separated list, the same order.
    let db2 = dir.path().join("env.db");
    let o = run(isolated(dir.path())
        .env("MOAT_DB_URL", format!("{},{}", down.base, m.base))
        .args(["scan", &a, "--format", "json", "--db"])
        .arg(&db2));
    assert_eq!(ids(&json(&o)), ["CVE-2025-0001", "CVE-2025-0002"]);
}

/// SOURCE_DATE_EPOCH for `hours` from now: the scan's idea of "now".
fn later(hours: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (now + hours * 3600).to_string()
}

#[test]
fn scans_refresh_the_sources_they_need_once_a_day() {
    let m = full_mirror();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let a = alpine(dir.path());
    json(&scan(dir.path(), &db, &a, &[&m.base], &[]));
    assert_eq!(m.paths(), ["/Alpine/all.zip", KEV_PATH, "/npm/all.zip"]);
    let d = debian(dir.path());
    json(&scan(dir.path(), &db, &d, &[&m.base], &[]));
    assert_eq!(m.paths(), ["/Debian/all.zip"]);

    let scan_at = |hours: i64, urls: &[&str], extra: &[&str]| {
        let mut c = isolated(dir.path());
        c.env("SOURCE_DATE_EPOCH", later(hours));
        c.args(["scan", &a, "--format", "json", "--db"]).arg(&db);
        for u in urls {
            c.args(["--db-url", u]);
        }
        c.args(extra);
        run(&mut c)
    };
    // Twelve hours later: fresh enough.
    json(&scan_at(12, &[&m.base], &[]));
    assert_eq!(m.paths(), Vec::<String>::new());
    // Two days later: the Alpine target's sources (Alpine, npm, KEV) are refreshed, Debian's
    // is not: this target does not need it.
    let o = scan_at(48, &[&m.base], &[]);
    let v = json(&o);
    let asked: Vec<String> = m
        .paths()
        .into_iter()
        .filter(|p| !p.ends_with("modified_id.csv"))
        .collect();
    assert_eq!(
        asked,
        ["/Alpine/all.zip", KEV_PATH, "/npm/all.zip"],
        "{}",
        err(&o)
    );
    let e = err(&o);
    let line = e
        .lines()
        .find(|l| l.contains("refreshing"))
        .unwrap_or_else(|| panic!("{e}"));
    for label in ["kev", "osv:Alpine", "osv:npm", "(older than 24h)"] {
        assert!(line.contains(label), "{line}");
    }
    assert!(!line.contains("Debian"), "{line}");
    assert_eq!(v["advisories"]["downloaded"], true);
    assert_eq!(ids(&v), ["CVE-2025-0001", "CVE-2025-0002"]);

    // Refreshed now; the Debian source still carries its old time. `--skip-db-update`,
    // `--db-refresh-after 0` and a longer limit leave it; --offline too.
    let dd = |hours: i64, extra: &[&str]| {
        let mut c = isolated(dir.path());
        c.env("SOURCE_DATE_EPOCH", later(hours));
        c.args(["scan", &d, "--format", "json", "--db"])
            .arg(&db)
            .args(["--db-url", &m.base]);
        c.args(extra);
        run(&mut c)
    };
    for extra in [
        &["--skip-db-update"][..],
        &["--db-refresh-after", "0"],
        &["--db-refresh-after", "72h"],
        &["--offline"],
    ] {
        let o = dd(48, extra);
        assert_eq!(ids(&json(&o)), ["CVE-2025-0003"], "{extra:?}");
        assert_eq!(m.paths(), Vec::<String>::new(), "{extra:?}");
    }

    // Every mirror down: the scan warns and uses the records it has (exit 0).
    let dead = "http://127.0.0.1:9";
    let o = scan_at(96, &[dead], &["--db-timeout", "20s"]);
    let v = json(&o);
    assert!(
        err(&o).contains("failed; the scan used the database"),
        "{}",
        err(&o)
    );
    assert_eq!(ids(&v), ["CVE-2025-0001", "CVE-2025-0002"]);
}

#[test]
fn the_configuration_file_names_the_mirrors_and_the_refresh_age() {
    let m = full_mirror();
    let dir = tempfile::tempdir().unwrap();
    let a = alpine(dir.path());
    let conf_dir = dir.path().join("config/moat");
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::write(
        conf_dir.join("config.toml"),
        format!(
            "[db]\npath = \"dbs/moat.db\"\nmirrors = [\"http://127.0.0.1:9\", \"{}\"]\ntimeout = \"30s\"\nrefresh-after = \"1h\"\n",
            m.base
        ),
    )
    .unwrap();
    let db = conf_dir.join("dbs/moat.db");
    let go = |hours: i64| {
        let mut c = isolated(dir.path());
        c.env_remove("MOAT_DB_URL")
            .env("SOURCE_DATE_EPOCH", later(hours))
            .args(["scan", &a, "--format", "json"]);
        run(&mut c)
    };
    // The first mirror is dead, the second serves: the database goes where the file says.
    let o = go(0);
    let v = json(&o);
    assert_eq!(m.paths(), ["/Alpine/all.zip", KEV_PATH, "/npm/all.zip"]);
    assert_eq!(v["advisories"]["database"], db.display().to_string());
    assert_eq!(ids(&v), ["CVE-2025-0001", "CVE-2025-0002"]);
    // Two hours later: older than the file's hour.
    json(&go(2));
    let asked: Vec<String> = m
        .paths()
        .into_iter()
        .filter(|p| !p.ends_with("modified_id.csv"))
        .collect();
    assert_eq!(asked, ["/Alpine/all.zip", KEV_PATH, "/npm/all.zip"]);

    // --config names another file; a broken one is a usage error naming it (exit 2).
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[db]\nmirror = \"x\"\n").unwrap();
    let o = run(isolated(dir.path())
        .args(["scan", &a, "--config"])
        .arg(&bad));
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains(&bad.display().to_string()), "{}", err(&o));
    assert!(err(&o).contains("unknown field `mirror`"), "{}", err(&o));
}
