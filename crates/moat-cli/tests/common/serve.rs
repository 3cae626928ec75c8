//! `moat serve` in the server tests: the server and `--worker` processes started on
//! 127.0.0.1 (killed on drop), tokens, plain HTTP/1.1 requests, a fresh PostgreSQL database,
//! and the `moat scan` whose findings the server's are compared with.

use super::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A `moat serve` process (killed on drop), its address (empty for a `--worker`) and its
/// stderr lines so far.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// `moat serve --listen 127.0.0.1:0 ARGS`, once it said where it listens (its first line).
pub fn start(home: &Path, args: &[&str]) -> Server {
    let mut child = isolated(home)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("moat serve starts");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    err.read_line(&mut line).expect("a first line");
    let addr = line
        .split("://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let lines = Arc::new(Mutex::new(vec![line]));
    let l = lines.clone();
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || {
        let mut s = String::new();
        while err.read_line(&mut s).map(|n| n > 0).unwrap_or(false) {
            l.lock().unwrap().push(std::mem::take(&mut s));
        }
    });
    Server { child, addr, lines }
}

/// `moat serve --worker ARGS`: workers only, against the server's store.
pub fn start_worker(home: &Path, args: &[&str]) -> Server {
    let child = isolated(home)
        .args(["serve", "--worker"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moat serve --worker starts");
    Server {
        child,
        addr: String::new(),
        lines: Arc::default(),
    }
}

/// `--store FILE`, or `--database-url URL` for a PostgreSQL URL.
pub fn store_flag(store: &str) -> &'static str {
    if store.starts_with("postgres") {
        "--database-url"
    } else {
        "--store"
    }
}

/// `moat serve token create` on `store` (a file or a PostgreSQL URL): the secret.
pub fn token(home: &Path, store: &Path, name: &str, scope: &str) -> String {
    let o = run(isolated(home).args([
        "serve".as_ref(),
        "token".as_ref(),
        "create".as_ref(),
        store_flag(&store.to_string_lossy()).as_ref(),
        store.as_os_str(),
        "--name".as_ref(),
        name.as_ref(),
        "--scope".as_ref(),
        scope.as_ref(),
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o).trim().to_string();
    assert!(t.starts_with("moat_") && t.len() == 69, "{t}");
    t
}

/// A fresh database on the PostgreSQL cluster of `$MOAT_TEST_POSTGRES_URL` (`.ci/run`
/// starts one on 127.0.0.1), its URL; `None` (skipped) without it, a panic under CI=true.
pub fn pg_database(name: &str) -> Option<PathBuf> {
    let Some(url) = std::env::var("MOAT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("MOAT_TEST_POSTGRES_URL is not set (CI=true): .ci/run starts PostgreSQL");
        }
        eprintln!("skipped: MOAT_TEST_POSTGRES_URL not set");
        return None;
    };
    let db = format!("moat_{name}_{}", std::process::id());
    let o = Command::new("psql")
        .arg(&url)
        .args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {db}"), "-c"])
        .arg(format!("CREATE DATABASE {db}"))
        .output()
        .expect("psql");
    assert!(o.status.success(), "psql: {}", stderr(&o));
    let base = url.rsplit_once('/').map(|(b, _)| b).expect("a URL");
    Some(format!("{base}/{db}").into())
}

/// One HTTP/1.1 request (Connection: close); the status and the body (a chunked one
/// decoded).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("write");
    s.write_all(body).expect("body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let eol = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("chunk size");
            let n =
                usize::from_str_radix(std::str::from_utf8(&rest[..eol]).expect("hex").trim(), 16)
                    .expect("chunk size");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 4 + n..];
        }
        body = out;
    }
    (status, body)
}

/// [`http`] with the body as text.
pub fn http_text(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let (status, body) = http(addr, method, path, token, body);
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// GET `path`, which must answer 200 with JSON.
pub fn get_json(addr: &str, path: &str, token: &str) -> Value {
    let (status, body) = http(addr, "GET", path, Some(token), b"");
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).expect("json")
}

/// `POST /api/v1/rematch` (which answers 202 and the job at once), then the job polled until
/// it is done (120 s at most): its result, `{images, events, seconds}`.
pub fn rematch(addr: &str, admin: &str) -> Value {
    let (status, body) = http(addr, "POST", "/api/v1/rematch", Some(admin), b"");
    assert_eq!(
        status,
        202,
        "POST /api/v1/rematch: {}",
        String::from_utf8_lossy(&body)
    );
    let queued: Value = serde_json::from_slice(&body).expect("json");
    let id = queued["job"].as_i64().expect("a job id");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let job = get_json(addr, &format!("/api/v1/jobs/{id}"), admin);
        match job["state"].as_str() {
            Some("done") => return job["result"].clone(),
            Some("failed") => panic!("the re-match failed: {job}"),
            _ => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "re-match job {id}: {job}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// `moat scan TARGET --db DB --offline --scanners vuln --format json`: its report (the
/// oracle the server's match is compared with).
pub fn vuln_scan(home: &Path, target: &str, db: &Path) -> Value {
    let o = run(isolated(home).args([
        "scan".as_ref(),
        target.as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
        "--offline".as_ref(),
        "--scanners".as_ref(),
        "vuln".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--quiet".as_ref(),
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

/// A TCP proxy that holds every new connection `delay` before forwarding it: a slow
/// registry, so that a scan outlasts a budget or is still running when its worker is killed.
pub fn slow_proxy(backend: u16, delay: Duration) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(c) = c else { continue };
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let Ok(b) = TcpStream::connect(("127.0.0.1", backend)) else {
                    return;
                };
                let (mut c2, mut b2) =
                    (c.try_clone().expect("clone"), b.try_clone().expect("clone"));
                let (mut c, mut b) = (c, b);
                let up = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut b2);
                    let _ = b2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut b, &mut c);
                let _ = c.shutdown(std::net::Shutdown::Write);
                let _ = up.join();
            });
        }
    });
    port
}
