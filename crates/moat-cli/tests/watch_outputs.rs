//! `moat watch` outputs and inputs beyond stdout and files: `--output-file`, `--http-output`
//! (a receiver on 127.0.0.1 in the test), `--rate`/`--max-burst` with the drops reported,
//! `--listen` (the audit webhook: the legacy suite's recorded events POSTed give the same
//! alerts as `--audit-log` on them), SIGTERM, and `--image-report`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const RULES: &str = r#"
- rule: Pod Created
  desc: a pod
  condition: ka.verb = create and ka.target.resource = pods
  output: Pod created (user=%ka.user.name images=%ka.req.pod.containers.image)
  priority: WARNING
  source: k8s_audit
  tags: [k8s]
- rule: Secret Read
  desc: secrets
  condition: ka.verb = get and ka.target.resource = secrets
  output: Secret read by %ka.user.name
  priority: NOTICE
  source: k8s_audit
"#;

fn event(verb: &str, resource: &str, user: &str, image: &str) -> String {
    serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": "a1", "stage": "ResponseComplete", "requestURI": "/api/v1/x", "verb": verb,
        "user": {"username": user},
        "objectRef": {"resource": resource, "namespace": "default", "name": "n1"},
        "responseStatus": {"code": 201},
        "requestObject": {"spec": {"containers": [{"image": image}]}},
        "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z",
        "stageTimestamp": "2024-05-01T10:00:00.123456Z",
    })
    .to_string()
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_moat"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn setup(events: &[String]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let log = dir.path().join("audit.jsonl");
    std::fs::write(&log, events.join("\n") + "\n").unwrap();
    (dir, rules, log)
}

/// Reads one HTTP request (head and Content-Length body).
fn read_request(r: &mut BufReader<TcpStream>) -> Option<(String, String)> {
    let mut head = String::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
        head.push_str(&line);
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((head, String::from_utf8(body).unwrap()))
}

/// A receiver on 127.0.0.1 answering 200; each request's (head, body) goes to the channel.
fn receiver() -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/falco", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                let mut r = BufReader::new(conn);
                while let Some(req) = read_request(&mut r) {
                    let _ = tx.send(req);
                    let _ = w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                }
            });
        }
    });
    (url, rx)
}

/// `event` at `ms` milliseconds after 2024-05-01T10:00:00Z (its `stageTimestamp`).
fn event_at(verb: &str, resource: &str, user: &str, ms: u64) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&event(verb, resource, user, "x")).unwrap();
    let t = format!(
        "2024-05-01T10:{:02}:{:02}.{:03}000Z",
        ms / 60_000,
        ms / 1000 % 60,
        ms % 1000
    );
    v["stageTimestamp"] = t.clone().into();
    v["requestReceivedTimestamp"] = t.into();
    v.to_string()
}

#[test]
fn the_rate_limit_counts_in_event_time() {
    // 20 secret reads 1 ms apart, then 100 pod creations 100 ms apart (10 s of events),
    // replayed in a few milliseconds. At 1 alert/s, bursts of 2: the reads keep 2 (18
    // dropped: 19 ms regain no token); the creations keep 2 at once, then one per second
    // of event time (at 1.0 s, 2.0 s, ... 9.0 s): 11 kept, 89 dropped.
    let mut evs: Vec<String> = (0..20)
        .map(|i| event_at("get", "secrets", &format!("r{i}"), i))
        .collect();
    evs.extend((0..100).map(|i| event_at("create", "pods", &format!("p{i}"), 100 * i)));
    let (_dir, rules, log) = setup(&evs);
    for format in ["text", "json"] {
        let o = bin()
            .args(["watch", "--rules", s(&rules), "--audit-log", s(&log)])
            .args(["--format", format, "--rate", "1", "--max-burst", "2"])
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("120 events, 120 alerts"), "{err}");
        assert!(
            err.contains("107 alerts dropped by the rate limit"),
            "{err}"
        );
        assert!(err.contains("moat:   Pod Created: 89 dropped"), "{err}");
        assert!(err.contains("moat:   Secret Read: 18 dropped"), "{err}");
        let out = stdout(&o);
        assert_eq!(out.lines().count(), 13, "{out}");
        let who: Vec<String> = out
            .lines()
            .map(|l| match format {
                "json" => {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v["output_fields"]["ka.user.name"]
                        .as_str()
                        .unwrap()
                        .to_string()
                }
                _ => match l.find("user=") {
                    Some(i) => l[i + 5..].split(' ').next().unwrap().to_string(),
                    None => l.rsplit(' ').next().unwrap().to_string(),
                },
            })
            .collect();
        let mut want = vec!["r0", "r1", "p0", "p1"];
        let later = [
            "p10", "p20", "p30", "p40", "p50", "p60", "p70", "p80", "p90",
        ];
        want.extend(later);
        assert_eq!(who, want, "{format}");
    }
}

#[test]
fn file_and_http_outputs_and_the_rate_limit() {
    let evs = [
        event("create", "pods", "alice", "nginx:1.25"),
        event("create", "pods", "bob", "nginx:1.25"),
        event("get", "secrets", "carol", "x"),
        event("create", "pods", "dave", "nginx:1.25"),
        event("get", "secrets", "erin", "x"),
    ];
    let (dir, rules, log) = setup(&evs);
    let (url, rx) = receiver();
    let file = dir.path().join("alerts.jsonl");
    let o = bin()
        .args(["watch", "--rules", s(&rules), "--audit-log", s(&log)])
        .args(["--format", "json", "--output-file", s(&file)])
        .args(["--http-output", &url])
        // One alert per rule, then (at 1 per 10,000 s) none.
        .args(["--rate", "0.0001", "--max-burst", "1"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let who: Vec<&str> = out
        .iter()
        .map(|a| a["output_fields"]["ka.user.name"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["alice", "carol"]);
    let in_file: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(in_file, out);
    let posted: Vec<serde_json::Value> = (0..2)
        .map(|_| {
            let (head, body) = rx.recv().unwrap();
            assert!(head.starts_with("POST /falco HTTP/1.1"), "{head}");
            serde_json::from_str(&body).unwrap()
        })
        .collect();
    assert_eq!(posted, out);
    assert!(rx.try_recv().is_err());
    let err = stderr(&o);
    assert!(err.contains("5 events, 5 alerts"), "{err}");
    assert!(err.contains("3 alerts dropped by the rate limit"), "{err}");
    assert!(err.contains("moat:   Pod Created: 2 dropped"), "{err}");
    assert!(
        err.contains(&format!(
            "output http {url}: 2 delivered, 0 dropped (queue full), 0 failed"
        )),
        "{err}"
    );
    let stats: serde_json::Value = serde_json::from_str(
        err.lines()
            .find(|l| l.starts_with("{\"moat_watch_stats\""))
            .unwrap(),
    )
    .unwrap();
    let st = &stats["moat_watch_stats"];
    assert_eq!(st["alerts"], 5);
    assert_eq!(st["rate_limited"], 3);
    assert_eq!(st["rate_limited_by_rule"]["Secret Read"], 1);
    assert_eq!(st["sinks"][2]["delivered"], 2);

    // A receiver nobody runs: the failures are counted and named, the run still succeeds.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = bin()
        .args(["watch", "--rules", s(&rules), "--audit-log", s(&log)])
        .args(["--http-output", &format!("http://127.0.0.1:{port}/")])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 5);
    assert!(
        stderr(&o).contains(&format!(
            "output http http://127.0.0.1:{port}/: 0 delivered, 0 dropped (queue full), 5 failed (first error: POST"
        )),
        "{}",
        stderr(&o)
    );
    // Bad flags.
    let o = bin()
        .args(["watch", "--rules", s(&rules), "--audit-log", s(&log)])
        .args(["--http-output", "ftp://x/"])
        .output()
        .unwrap();
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("invalid --http-output URL"),
        "{}",
        stderr(&o)
    );
    let o = bin()
        .args(["watch", "--rules", s(&rules), "--audit-log", s(&log)])
        .args(["--rate", "0"])
        .output()
        .unwrap();
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("--rate must be a positive"),
        "{}",
        stderr(&o)
    );
}

/// Starts `moat watch ... --listen 127.0.0.1:0 ARGS` and reads the bound address from stderr.
// The child is handed to the caller, which waits for it (`finish`).
#[allow(clippy::zombie_processes)]
fn start_listen(
    rules: &Path,
    args: &[&str],
) -> (Child, SocketAddr, BufReader<std::process::ChildStderr>) {
    let mut child = bin()
        .args(["watch", "--rules", s(rules), "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert_ne!(
            err.read_line(&mut line).unwrap(),
            0,
            "moat exited before listening"
        );
        if let Some(a) = line.trim().strip_prefix("moat: listening on http://") {
            return (child, a.parse().unwrap(), err);
        }
    }
}

/// POSTs `body`; the status and response body.
fn post(addr: SocketAddr, body: &str) -> (u16, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    write!(
        c,
        "POST /k8s-audit HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    let code = resp.split(' ').nth(1).unwrap().parse().unwrap();
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (code, body)
}

fn finish(child: Child, mut err: BufReader<std::process::ChildStderr>) -> (i32, String, String) {
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let o = child.wait_with_output().unwrap();
    (code(&o), stdout(&o), rest)
}

#[test]
fn listen_gives_the_alerts_of_audit_log_on_the_recorded_events() {
    let Some(shared) = shared() else { return };
    let base = shared.join("corpus/falco");
    let rules = base.join("falcosecurity-plugins/plugins/k8saudit/rules/k8s_audit_rules.yaml");
    let dir = base.join("falcosecurity-falco-legacy-tests/test/trace_files/k8s_audit");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // Each file's events (one JSON value per line), as one EventList per file.
    let mut all = Vec::new();
    let mut batches = Vec::new();
    for f in &files {
        let items: Vec<serde_json::Value> = std::fs::read_to_string(f)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            // fal_01_003.json holds a `{"kind": 0}`: not an event (a 400 in a batch).
            .filter(|v| v["kind"] == "Event")
            .collect();
        all.extend(items.iter().map(|v| v.to_string()));
        batches.push(serde_json::json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": items}).to_string());
    }
    assert_eq!(files.len(), 47);
    assert_eq!(all.len(), 51);
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("all.jsonl");
    std::fs::write(&log, all.join("\n") + "\n").unwrap();
    let o = bin()
        .args([
            "watch",
            "--rules",
            s(&rules),
            "--audit-log",
            s(&log),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected = stdout(&o);
    let n = all.len();
    assert!(
        stderr(&o).contains(&format!("moat: {n} events, ")),
        "{}",
        stderr(&o)
    );
    assert!(expected.lines().count() >= 30, "{expected}");

    let (child, addr, err) = start_listen(
        &rules,
        &["--format", "json", "--max-events", &n.to_string()],
    );
    for b in &batches {
        let (code, body) = post(addr, b);
        assert_eq!(code, 200, "{body}");
    }
    let (code, out, err) = finish(child, err);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, expected);
    assert!(err.contains(&format!("moat: {n} events, ")), "{err}");
}

#[test]
fn listen_answers_bad_requests_and_stops_on_sigterm() {
    let (_dir, rules, _log) = setup(&[]);
    let (child, addr, err) = start_listen(&rules, &[]);
    let (code, body) = post(addr, "{\"kind\":\"Pod\"}");
    assert_eq!(code, 400);
    assert!(
        body.contains("not recognized as a k8s audit event"),
        "{body}"
    );
    let (code, body) = post(addr, &event("get", "secrets", "carol", "x"));
    assert_eq!((code, body.as_str()), (200, "ok: 1 events\n"));
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let (code, out, err) = finish(child, err);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Notice Secret read by carol"), "{out}");
    assert!(err.contains("moat: 1 events, 1 alerts"), "{err}");

    // Not loopback: refused unless asked.
    let o = bin()
        .args(["watch", "--rules", s(&rules), "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_ne!(code_of(&o), 0);
    assert!(
        stderr(&o).contains("not a loopback address"),
        "{}",
        stderr(&o)
    );
}

fn code_of(o: &std::process::Output) -> i32 {
    code(o)
}

#[test]
fn image_reports_join_the_alerts() {
    let digest = "sha256:90fb611c461c437870ef7d4e02138e5ce471ec3017bb69fba5e1eff912b91ed5";
    let evs = [
        event("create", "pods", "alice", "nginx:1.25"),
        event(
            "create",
            "pods",
            "bob",
            &format!("docker.io/library/nginx@{digest}"),
        ),
        event("create", "pods", "carol", "redis:7"),
    ];
    let (dir, rules, log) = setup(&evs);
    let report = dir.path().join("nginx.json");
    std::fs::write(
        &report,
        serde_json::json!({
            "schema_version": "2.0",
            "artifact": {"name": "nginx:1.25", "kind": "registry", "manifest_digest": digest},
            "packages": [],
            "findings": [
                {"kind": "vulnerability", "id": "CVE-1", "severity": "CRITICAL"},
                {"kind": "vulnerability", "id": "CVE-2", "severity": "HIGH"},
                {"kind": "vulnerability", "id": "CVE-3", "severity": "HIGH"},
            ],
        })
        .to_string(),
    )
    .unwrap();
    let o = bin()
        .args([
            "watch",
            "--rules",
            s(&rules),
            "--audit-log",
            s(&log),
            "--format",
            "json",
        ])
        .args(["--image-report", s(&report)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 3);
    for a in &out[..2] {
        let f = &a["output_fields"];
        assert_eq!(f["moat.image.digest"], digest, "{a}");
        assert_eq!(f["moat.vulns.critical"], "1");
        assert_eq!(f["moat.vulns.high"], "2");
        assert!(
            a["output"].as_str().unwrap().ends_with(&format!(
                "; image {digest} has 1 critical and 2 high vulnerabilities"
            )),
            "{a}"
        );
    }
    assert!(out[2]["output_fields"].get("moat.image.digest").is_none());

    let o = bin()
        .args(["watch", "--rules", s(&rules), "--audit-log", s(&log)])
        .args(["--image-report", s(&dir.path().join("none.json"))])
        .output()
        .unwrap();
    assert_ne!(code(&o), 0);
    assert!(stderr(&o).contains("none.json"), "{}", stderr(&o));
}

#[test]
fn image_report_from_a_real_sbom() {
    let Some(images) = images() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let sbom = tmp.path().join("base.cdx.json");
    let o = bin()
        .env("XDG_CACHE_HOME", tmp.path().join("cache"))
        .args(["sbom", "-q", "--cache", "off", "--output", s(&sbom)])
        .arg(format!(
            "oci-archive:{}",
            images.join("debian-base.oci.tar").display()
        ))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&sbom).unwrap()).unwrap();
    let digest = v["metadata"]["component"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(digest.starts_with("sha256:"));
    let evs = [event(
        "create",
        "pods",
        "alice",
        &format!("debian@{digest}"),
    )];
    let (_dir, rules, log) = setup(&evs);
    let o = bin()
        .args([
            "watch",
            "--rules",
            s(&rules),
            "--audit-log",
            s(&log),
            "--format",
            "json",
        ])
        .args(["--image-report", s(&sbom)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(a["output_fields"]["moat.image.digest"], digest.as_str());
    // An SBOM has no vulnerability counts.
    assert!(a["output_fields"]["moat.vulns.critical"].is_null());
}
