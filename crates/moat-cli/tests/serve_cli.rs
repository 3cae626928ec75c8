//! `moat serve` for real: the server started on 127.0.0.1 (port 0), lang-app's inventory
//! submitted, the queries answered from the store and compared with `moat scan` of the same
//! image, the advisory database replaced under the running server and every stored inventory
//! re-matched (the new findings recorded as events), tokens and scopes, limits, metrics, the
//! OpenAPI document and the HTML view; then SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::serve::*;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// (id, package, version) of each vulnerability finding of a scan report or finding list.
fn keys(findings: &Value) -> BTreeSet<(String, String, String)> {
    findings
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "vulnerability")
        .map(|f| {
            let pkg = if f["package"].is_object() {
                (
                    f["package"]["name"].clone(),
                    f["package"]["version"].clone(),
                )
            } else {
                (f["package"].clone(), f["version"].clone())
            };
            (
                f["id"].as_str().unwrap_or("").to_string(),
                pkg.0.as_str().unwrap_or("").to_string(),
                pkg.1.as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_server_stores_answers_and_rematches_lang_app() {
    let home = tempfile::tempdir().expect("tempdir");
    let store = home.path().join("server.db");
    lang_app(home.path(), &store);
}

/// The same on PostgreSQL.
#[test]
fn the_server_stores_answers_and_rematches_lang_app_on_postgres() {
    let Some(url) = pg_database("lang_app") else {
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    lang_app(home.path(), &url);
}

fn lang_app(h: &Path, store: &Path) {
    let Some(shared) = shared() else { return };
    let Some(out) = images() else { return };
    let vulns = shared.join("data/vulns");
    // Two databases: Go advisories only, then Go and PyPI.
    let go_only = build_db(h, "go.db", &vulns.join("go"));
    let go_pypi = build_db_from(h, "go-pypi.db", &[&vulns.join("go"), &vulns.join("pypi")]);
    let live_db = h.join("advisories.db");
    std::fs::copy(&go_only, &live_db).expect("copy");
    let admin = token(h, store, "ci", "admin");
    let reader = token(h, store, "dashboard", "read");
    let writer = token(h, store, "pipeline", "write");

    // What `moat scan` says with each database: the oracle for the server.
    let target = format!(
        "docker-archive:{}",
        out.join("lang-app.docker.tar").display()
    );
    let scan = |db: &Path| vuln_scan(h, &target, db);
    let (scan_before, scan_after) = (scan(&go_only), scan(&go_pypi));
    let before = keys(&scan_before["findings"]);
    let after = keys(&scan_after["findings"]);
    assert!(!before.is_empty() && after.len() > before.len());

    // The inventory alone (no findings): the server matches it.
    let inv = run(isolated(h).args(["inventory", &target, "--format", "json", "--quiet"]));
    assert!(inv.status.success(), "{}", stderr(&inv));

    let live = live_db.to_str().expect("utf-8");
    let st = store.to_str().expect("utf-8");
    let policy = h.join("admission.toml");
    std::fs::write(
        &policy,
        "deny_severity = \"HIGH\"\nignore_unfixed = true\nallowed_registries = [\"localhost\", \"docker.io/library\"]\n",
    )
    .expect("policy");
    let pol = policy.to_str().expect("utf-8");
    let srv = start(
        h,
        &[
            store_flag(st),
            st,
            "--db",
            live,
            "--watch-db",
            "1",
            "--max-body",
            "8000000",
            "--admission-policy",
            pol,
        ],
    );
    let a = srv.addr.as_str();

    // Open endpoints, closed API.
    assert_eq!(http(a, "GET", "/healthz", None, b"").0, 200);
    assert_eq!(http(a, "GET", "/readyz", None, b"").0, 200);
    let (s, doc) = http(a, "GET", "/openapi.json", None, b"");
    assert_eq!(s, 200);
    let doc: Value = serde_json::from_slice(&doc).expect("openapi json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/packages"]["get"].is_object());
    assert_eq!(http(a, "GET", "/api/v1/images", None, b"").0, 401);
    assert_eq!(
        http(a, "GET", "/api/v1/images", Some("moat_nope"), b"").0,
        401
    );
    assert_eq!(
        http(a, "POST", "/api/v1/reports", Some(&reader), &inv.stdout).0,
        403,
        "a read token cannot submit"
    );
    assert_eq!(
        http(a, "POST", "/api/v1/rematch", Some(&writer), b"").0,
        403
    );
    assert_eq!(
        http(a, "POST", "/api/v1/reports", Some(&writer), b"{not json").0,
        400
    );
    assert_eq!(
        http(
            a,
            "POST",
            "/api/v1/reports",
            Some(&writer),
            &vec![b' '; 8_000_001]
        )
        .0,
        413,
        "a body over --max-body"
    );

    // Submit; the server's match equals `moat scan` with the same database.
    let (s, body) = http(
        a,
        "POST",
        "/api/v1/reports?labels=namespace=prod,team=web",
        Some(&writer),
        &inv.stdout,
    );
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&body));
    let created: Value = serde_json::from_slice(&body).expect("json");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["image"]["labels"]["namespace"], "prod");
    let findings = get_json(a, &format!("/api/v1/images/{id}/findings"), &reader);
    assert_eq!(keys(&findings["findings"]), before);
    let report = get_json(a, &format!("/api/v1/images/{id}/report"), &reader);
    assert_eq!(
        vuln_json(&report["findings"]),
        vuln_json(&scan_before["findings"]),
        "the server's findings are moat scan's, field for field"
    );
    let packages = get_json(a, &format!("/api/v1/images/{id}/packages"), &reader);
    let inv_json: Value = serde_json::from_slice(&inv.stdout).expect("json");
    assert_eq!(
        packages["packages"].as_array().expect("packages").len(),
        inv_json["packages"].as_array().expect("packages").len()
    );

    // Which images contain package X in range R, in the package's ecosystem order.
    let q = get_json(
        a,
        "/api/v1/packages?name=DJANGO&range=%3E%3D3.2,%3C3.2.10",
        &reader,
    );
    assert_eq!(q["images"].as_array().expect("images").len(), 1);
    assert_eq!(q["packages"][0]["version"], "3.2.4");
    let q = get_json(
        a,
        "/api/v1/packages?name=django&range=%3E%3D3.2.10",
        &reader,
    );
    assert!(q["images"].as_array().expect("images").is_empty());
    assert_eq!(
        http(
            a,
            "GET",
            "/api/v1/packages?name=x&range=~1",
            Some(&reader),
            b""
        )
        .0,
        400
    );
    // Label filter.
    let l = get_json(a, "/api/v1/images?label=team=web", &reader);
    assert_eq!(l["images"].as_array().expect("images").len(), 1);
    let l = get_json(a, "/api/v1/images?label=team=db", &reader);
    assert!(l["images"].as_array().expect("images").is_empty());

    // The database is replaced under the running server: it re-matches on its own.
    let t0 = jiff::Timestamp::now().as_second() - 1;
    let tmp = h.join("advisories.db.new");
    std::fs::copy(&go_pypi, &tmp).expect("copy");
    std::fs::rename(&tmp, &live_db).expect("rename");
    let deadline = Instant::now() + Duration::from_secs(120);
    let events = loop {
        let e = get_json(
            a,
            &format!("/api/v1/events?since={}", moat_time(t0)),
            &reader,
        );
        if !e["events"].as_array().expect("events").is_empty() {
            break e;
        }
        assert!(Instant::now() < deadline, "no re-match within 120 s");
        std::thread::sleep(Duration::from_millis(300));
    };
    let new: BTreeSet<(String, String, String)> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            assert_eq!(e["kind"], "new", "{e}");
            (
                e["finding"].as_str().unwrap_or("").to_string(),
                e["package"].as_str().unwrap_or("").to_string(),
                e["version"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want: BTreeSet<_> = after.difference(&before).cloned().collect();
    assert_eq!(new, want, "the new findings are the PyPI ones");
    let findings = get_json(a, &format!("/api/v1/images/{id}/findings"), &reader);
    assert_eq!(keys(&findings["findings"]), after);
    // "Which images are affected by CVE-Y": by id and by alias.
    let (cve, ..) = want.iter().next().expect("a new finding").clone();
    let v = get_json(a, &format!("/api/v1/vulnerabilities/{cve}"), &reader);
    assert_eq!(v["images"][0]["id"], id);
    let v = get_json(a, "/api/v1/vulnerabilities/GHSA-xpfp-f569-q3p2", &reader);
    assert_eq!(
        v["findings"][0]["id"], "CVE-2021-35042",
        "found by its alias"
    );
    // A re-match with nothing new records nothing.
    let r = rematch(a, &admin);
    assert_eq!(
        (r["images"].as_i64(), r["events"].as_i64()),
        (Some(1), Some(0))
    );

    // The report views.
    let (s, page) = http(
        a,
        "GET",
        &format!("/api/v1/images/{id}/report.html"),
        Some(&reader),
        b"",
    );
    assert_eq!(s, 200);
    let page = String::from_utf8(page).expect("utf-8");
    assert_eq!(page.matches("<tr class=\"finding\"").count(), after.len());
    let report = get_json(a, &format!("/api/v1/images/{id}/report"), &reader);
    assert_eq!(
        vuln_json(&report["findings"]),
        vuln_json(&scan_after["findings"]),
        "after the re-match, too"
    );

    // Metrics.
    let (s, m) = http(a, "GET", "/metrics", None, b"");
    assert_eq!(s, 200);
    let m = String::from_utf8(m).expect("utf-8");
    assert!(m.contains("moat_images 1\n"), "{m}");
    assert!(m.contains(&format!(
        "moat_finding_events_total{{kind=\"new\"}} {}\n",
        want.len()
    )));
    assert!(m.contains("moat_reports_submitted_total 1\n"));
    assert!(m.contains("moat_http_requests_total{code=\"401\"} 2\n"));

    // `moat scan --server`: the same image scanned with secrets, submitted; it replaces the
    // inventory, keeps its secret finding, and the server's match gives the same vulnerabilities.
    let o = run(isolated(h)
        .args([
            "scan".as_ref(),
            target.as_ref(),
            "--db".as_ref(),
            go_pypi.as_os_str(),
            "--offline".as_ref(),
            "--scanners".as_ref(),
            "vuln,secret".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--server".as_ref(),
            format!("http://{a}").as_ref(),
            "--server-label".as_ref(),
            "env=ci".as_ref(),
        ])
        .env("MOAT_SERVER_TOKEN", &writer));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("moat: submitted to http://{a}: image {id}")),
        "{}",
        stderr(&o)
    );
    let secrets = get_json(
        a,
        &format!("/api/v1/images/{id}/findings?kind=secret"),
        &reader,
    );
    assert_eq!(secrets["findings"].as_array().expect("findings").len(), 1);
    let img = get_json(a, &format!("/api/v1/images/{id}"), &reader);
    assert_eq!(img["labels"]["env"], "ci");
    let report = get_json(a, &format!("/api/v1/images/{id}/report"), &reader);
    assert_eq!(
        vuln_json(&report["findings"]),
        vuln_json(&scan_after["findings"])
    );
    let o = run(isolated(h).args([
        "scan",
        &target,
        "--offline",
        "--db",
        go_pypi.to_str().expect("utf-8"),
        "--quiet",
        "--server",
        &format!("http://{a}"),
        "--server-token",
        &reader,
    ]));
    assert_eq!(code(&o), 2, "a read token cannot submit");
    assert!(stderr(&o).contains("HTTP 403"), "{}", stderr(&o));

    // Admission: AdmissionReview v1 requests as the API server sends them.
    let review = |kind: &str, images: &[&str]| -> Value {
        let containers: Vec<Value> = images
            .iter()
            .enumerate()
            .map(|(i, im)| serde_json::json!({"name": format!("c{i}"), "image": im}))
            .collect();
        let spec = serde_json::json!({"containers": containers});
        let object = if kind == "Pod" {
            serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "prod"}, "spec": spec})
        } else {
            serde_json::json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "w", "namespace": "prod"},
                "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "w"}}, "spec": spec}}})
        };
        let req = serde_json::json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": if kind == "Pod" { "" } else { "apps" }, "version": "v1", "kind": kind},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": "prod", "operation": "CREATE",
                "userInfo": {"username": "admin", "groups": ["system:authenticated"]},
                "object": object, "oldObject": null, "dryRun": false}});
        let (s, body) = http(a, "POST", "/admission", None, req.to_string().as_bytes());
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["kind"], "AdmissionReview");
        assert_eq!(v["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
        v["response"].clone()
    };
    // lang-app's verdict follows from its findings: HIGH or above with a fix denies it.
    let blocking: Vec<&Value> = scan_after["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            (f["severity"] == "HIGH" || f["severity"] == "CRITICAL")
                && f["fixed_version"].is_string()
        })
        .collect();
    let name = report["artifact"]["name"]
        .as_str()
        .expect("name")
        .to_string();
    let r = review("Pod", &[&name]);
    assert_eq!(r["allowed"], blocking.is_empty(), "{r}");
    if let Some(f) = blocking.first() {
        let msg = r["status"]["message"].as_str().expect("message");
        assert!(msg.contains(f["id"].as_str().expect("id")), "{msg}");
        assert_eq!(r["status"]["code"], 403);
    }
    let r = review("Deployment", &["quay.io/evil/miner:1"]);
    assert_eq!(r["allowed"], false);
    assert!(
        r["status"]["message"]
            .as_str()
            .expect("m")
            .contains("registry not allowed"),
        "{r}"
    );
    let r = review("Pod", &["nginx:1.25"]);
    assert_eq!(r["allowed"], false);
    assert!(
        r["status"]["message"]
            .as_str()
            .expect("m")
            .contains("not known to moat"),
        "{r}"
    );
    assert_eq!(http(a, "POST", "/admission", None, b"{}").0, 400);

    // SIGTERM: a clean stop.
    let mut srv = srv;
    let pid = srv.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = srv.child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");

    // `moat serve rematch` offline: nothing changed since, so nothing new.
    let o = run(isolated(h).args(["serve", "rematch", store_flag(st), st, "--db", live]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("1 images re-matched in ")
            && stdout(&o).contains(": 0 new, 0 fixed upstream, 0 gone"),
        "{}",
        stdout(&o)
    );
}

/// The vulnerability findings, each as its JSON text, sorted.
fn vuln_json(findings: &Value) -> Vec<String> {
    let mut v: Vec<String> = findings
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "vulnerability")
        .map(Value::to_string)
        .collect();
    v.sort();
    v
}

fn moat_time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .expect("time")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[test]
fn a_store_from_a_newer_moat_is_refused() {
    let home = tempfile::tempdir().expect("tempdir");
    let store = home.path().join("s.db");
    let c = rusqlite::Connection::open(&store).expect("sqlite");
    c.pragma_update(None, "user_version", 99).expect("pragma");
    drop(c);
    let o = run(isolated(home.path()).args([
        "serve".as_ref(),
        "token".as_ref(),
        "create".as_ref(),
        "--store".as_ref(),
        store.as_os_str(),
        "--name".as_ref(),
        "x".as_ref(),
    ]));
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("written by a newer moat (store schema 99"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------
// The job queue: image references scanned by the server's workers.

/// A registry on 127.0.0.1 with lang-app pushed as `bench/lang-app:latest`, and the shared
/// images' directory; `None` (skipped) without the registry tools or the images.
fn registry_with_lang_app(h: &Path) -> Option<(common::registry::Registry, std::path::PathBuf)> {
    let out = images()?;
    if !common::registry::registry_tools() {
        return None;
    }
    let reg = common::registry::start_registry(&h.join("reg"), "", "");
    common::registry::skopeo_push(
        &out.join("lang-app.oci"),
        &format!("127.0.0.1:{}/bench/lang-app:latest", reg.port),
        &["--dest-tls-verify=false"],
    );
    Some((reg, out))
}

/// `POST /api/v1/images`; the status and the answer.
fn submit_ref(a: &str, token: &str, body: &Value) -> (u16, Value) {
    let (s, b) = http(
        a,
        "POST",
        "/api/v1/images",
        Some(token),
        body.to_string().as_bytes(),
    );
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// Polls job `id` until `until` says yes (120 s at most).
fn wait_job(a: &str, token: &str, id: i64, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let j = get_json(a, &format!("/api/v1/jobs/{id}"), token);
        if until(&j) {
            return j;
        }
        assert!(Instant::now() < deadline, "job {id}: {j}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn package_names(v: &Value) -> BTreeSet<(String, String)> {
    v.as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_string(),
                p["version"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// An image reference submitted to the server is pulled from a local registry by an
/// in-process worker, scanned and stored under its labels, matched against the server's
/// database like `moat scan` matches it; bad references are refused, a missing image fails
/// its job with the registry's error; the job's numbers are in /metrics.
#[test]
fn image_references_are_scanned_by_the_servers_workers() {
    let Some(shared) = shared() else { return };
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    let Some((reg, out)) = registry_with_lang_app(h) else {
        return;
    };
    let db = build_db(h, "go.db", &shared.join("data/vulns/go"));
    let store = h.join("server.db");
    let writer = token(h, &store, "pipeline", "write");
    let reader = token(h, &store, "dashboard", "read");
    let srv = start(
        h,
        &[
            "--store",
            store.to_str().expect("utf-8"),
            "--db",
            db.to_str().expect("utf-8"),
            "--workers",
            "1",
            "--scan-arg=--cache=off",
        ],
    );
    let a = srv.addr.as_str();
    let reference = format!("127.0.0.1:{}/bench/lang-app:latest", reg.port);

    // The oracle: `moat scan` of the same image from its OCI layout.
    let layout = format!("oci:{}", out.join("lang-app.oci").display());
    let oracle = vuln_scan(h, &layout, &db);
    assert!(!keys(&oracle["findings"]).is_empty());

    // Scope: a read token cannot submit.
    let body = serde_json::json!({"ref": reference, "labels": {"team": "web"}});
    assert_eq!(submit_ref(a, &reader, &body).0, 403);
    let (s, queued) = submit_ref(a, &writer, &body);
    assert_eq!(s, 202, "{queued}");
    let id = queued["job"].as_i64().expect("a job id");
    let job = wait_job(a, &reader, id, |j| {
        j["state"] == "done" || j["state"] == "failed"
    });
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["kind"], "scan");
    assert_eq!(job["attempts"], 1);
    assert_eq!(job["payload"]["ref"], reference.as_str());
    let image = job["result"]["image_id"].as_i64().expect("image id");
    assert!(
        job["result"]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")),
        "{job}"
    );

    let img = get_json(a, &format!("/api/v1/images/{image}"), &reader);
    assert_eq!(img["name"], reference.as_str());
    assert_eq!(img["labels"]["team"], "web");
    assert_eq!(img["kind"], "registry");
    let pkgs = get_json(a, &format!("/api/v1/images/{image}/packages"), &reader);
    assert_eq!(
        package_names(&pkgs["packages"]),
        package_names(&oracle["packages"]),
        "the registry image's packages are the layout's"
    );
    let found = get_json(
        a,
        &format!("/api/v1/images/{image}/findings?kind=vulnerability"),
        &reader,
    );
    assert_eq!(keys(&found["findings"]), keys(&oracle["findings"]));

    // Refused before queueing: a path on the server, not a reference, no ref.
    for bad in [
        serde_json::json!({"ref": "oci:/etc"}),
        serde_json::json!({"ref": "/etc/passwd"}),
        serde_json::json!({"ref": "Not A Reference"}),
        serde_json::json!({"labels": {}}),
    ] {
        let (s, e) = submit_ref(a, &writer, &bad);
        assert_eq!(s, 400, "{bad}: {e}");
        assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    // A reference the registry does not have: the job fails with the reason.
    let missing = format!("127.0.0.1:{}/bench/nothing:here", reg.port);
    let (s, queued) = submit_ref(a, &writer, &serde_json::json!({ "ref": missing }));
    assert_eq!(s, 202);
    let id = queued["job"].as_i64().expect("a job id");
    let job = wait_job(a, &reader, id, |j| {
        j["state"] == "done" || j["state"] == "failed"
    });
    assert_eq!(job["state"], "failed", "{job}");
    assert!(
        job["error"]
            .as_str()
            .is_some_and(|e| e.contains("bench/nothing")),
        "{job}"
    );
    assert_eq!(
        http(a, "GET", "/api/v1/jobs/999999", Some(&reader), b"").0,
        404
    );

    let (_, m) = http(a, "GET", "/metrics", None, b"");
    let m = String::from_utf8(m).expect("utf-8");
    assert!(m.contains("moat_queue_jobs{state=\"queued\"} 0\n"), "{m}");
    assert!(m.contains("moat_queue_jobs{state=\"running\"} 0\n"), "{m}");
    assert!(
        m.contains("moat_job_seconds_count{kind=\"scan\",outcome=\"done\"} 1\n"),
        "{m}"
    );
    assert!(
        m.contains("moat_job_seconds_count{kind=\"scan\",outcome=\"failed\"} 1\n"),
        "{m}"
    );
}

/// A server without workers queues (bounded: 429 past --max-queue, the depth in
/// /metrics); `moat serve --worker` processes take the jobs. One is killed (SIGKILL) in the
/// middle of a scan; after its lease expires, another worker takes the job and finishes it.
#[test]
fn a_worker_killed_mid_job_leaves_it_to_another() {
    let home = tempfile::tempdir().expect("tempdir");
    let store = home.path().join("server.db");
    killed_worker(home.path(), &store);
}

/// The same with PostgreSQL: the workers take jobs with `FOR UPDATE SKIP LOCKED`.
#[test]
fn a_worker_killed_mid_job_leaves_it_to_another_on_postgres() {
    let Some(url) = pg_database("killed_worker") else {
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    killed_worker(home.path(), &url);
}

fn killed_worker(h: &Path, store: &Path) {
    let Some((reg, _)) = registry_with_lang_app(h) else {
        return;
    };
    let st = store.to_str().expect("utf-8");
    let writer = token(h, store, "pipeline", "write");
    let srv = start(
        h,
        &[store_flag(st), st, "--workers", "0", "--max-queue", "1"],
    );
    let a = srv.addr.as_str();
    let slow = slow_proxy(reg.port, Duration::from_millis(1500));
    let reference = format!("127.0.0.1:{slow}/bench/lang-app:latest");
    let (s, queued) = submit_ref(a, &writer, &serde_json::json!({ "ref": reference }));
    assert_eq!(s, 202, "{queued}");
    let id = queued["job"].as_i64().expect("a job id");
    let (s, full) = submit_ref(a, &writer, &serde_json::json!({ "ref": reference }));
    assert_eq!(s, 429, "the queue holds one job: {full}");
    let (_, m) = http(a, "GET", "/metrics", None, b"");
    let m = String::from_utf8(m).expect("utf-8");
    assert!(m.contains("moat_queue_jobs{state=\"queued\"} 1\n"), "{m}");
    assert!(m.contains("moat_queue_capacity 1\n"), "{m}");
    let job = get_json(a, &format!("/api/v1/jobs/{id}"), &writer);
    assert_eq!(job["state"], "queued");

    let worker_args = [
        store_flag(st),
        st,
        "--workers",
        "1",
        "--lease",
        "2",
        "--scan-arg=--cache=off",
    ];
    let mut first = start_worker(h, &worker_args);
    let first_pid = first.child.id();
    let job = wait_job(a, &writer, id, |j| j["state"] != "queued");
    assert_eq!(job["state"], "running", "{job}");
    assert!(
        job["worker"]
            .as_str()
            .is_some_and(|w| w.contains(&format!(":{first_pid}/"))),
        "{job}"
    );
    // Mid-scan: the proxy holds each connection 1.5 s.
    std::thread::sleep(Duration::from_millis(500));
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("wait");
    let killed_at = Instant::now();
    assert_eq!(
        get_json(a, &format!("/api/v1/jobs/{id}"), &writer)["state"],
        "running",
        "the killed worker did not finish it"
    );

    let second = start_worker(h, &worker_args);
    let second_pid = second.child.id();
    let job = wait_job(a, &writer, id, |j| {
        j["state"] == "done" || j["state"] == "failed"
    });
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["attempts"], 2, "{job}");
    assert!(
        job["worker"]
            .as_str()
            .is_some_and(|w| w.contains(&format!(":{second_pid}/"))),
        "{job}"
    );
    assert!(
        killed_at.elapsed() >= Duration::from_millis(1000),
        "not taken before the lease expired"
    );
    let image = job["result"]["image_id"].as_i64().expect("image id");
    let pkgs = get_json(a, &format!("/api/v1/images/{image}/packages"), &writer);
    assert!(pkgs["packages"].as_array().expect("packages").len() > 10);
    // The queue has room again.
    let (s, _) = submit_ref(a, &writer, &serde_json::json!({ "ref": reference }));
    assert_eq!(s, 202);
}
