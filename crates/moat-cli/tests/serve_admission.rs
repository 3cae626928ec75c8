//! Admission control for real: `moat serve --admission-policy` answering AdmissionReview v1
//! requests (the Kubernetes API's shape, as the API server sends them, with its
//! `?timeout=` parameter) about images in a local registry (Debian's `docker-registry` on
//! 127.0.0.1, images built in memory and pushed with `skopeo`, signed by `moat sign`):
//! a signed and an unsigned image (by tag and by digest, the verdict kept once the registry
//! is gone), a privileged Pod denied by a misconfiguration rule, an unknown image scanned
//! within the budget and judged by its findings, and one whose scan does not finish in time:
//! the fallback answer, then the stored verdict on the next request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::registry::*;
use common::serve::{http, pg_database, slow_proxy, start};
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn moat_pw(home: &Path, args: &[&str]) -> std::process::Output {
    run(isolated(home).env("MOAT_PASSWORD", "pw").args(args))
}

/// A one-layer Debian image with `pkgs` as an OCI layout in `dir`, pushed as `dest`.
fn push_image(dir: &Path, pkgs: &[(&str, &str)], marker: &str, dest: &str) {
    debian_layout(dir, pkgs, marker);
    skopeo_push(dir, dest, &["--dest-tls-verify=false"]);
}

/// The image manifest `host` serves for `repo:tag`.
fn manifest_of(host: &str, repo: &str, tag: &str) -> Vec<u8> {
    let o = Command::new("curl")
        .args([
            "-sSf",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
        ])
        .arg(format!("http://{host}/v2/{repo}/manifests/{tag}"))
        .output()
        .unwrap();
    assert!(o.status.success(), "curl: {}", stderr(&o));
    o.stdout
}

/// The manifest digest `host` serves for `repo:tag`.
fn digest_of(host: &str, repo: &str, tag: &str) -> String {
    sha256(&manifest_of(host, repo, tag))
}

/// Puts an image index as `repo:tag` listing `repo:amd64` for linux/amd64; its digest.
fn put_index(host: &str, repo: &str, amd64_tag: &str, tag: &str) -> String {
    let manifest = manifest_of(host, repo, amd64_tag);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": sha256(&manifest), "size": manifest.len(),
             "platform": {"os": "linux", "architecture": "amd64"}},
        ]
    }))
    .unwrap();
    let mut put = Command::new("curl")
        .args([
            "-sSf",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.oci.image.index.v1+json",
            "--data-binary",
            "@-",
        ])
        .arg(format!("http://{host}/v2/{repo}/manifests/{tag}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    put.stdin.take().unwrap().write_all(&index).unwrap();
    let o = put.wait_with_output().unwrap();
    assert!(o.status.success(), "PUT index: {}", stderr(&o));
    sha256(&index)
}

/// An AdmissionReview v1 request for a Pod (or a Deployment) running `images`, the first
/// container with `security` as its securityContext.
fn review_request(kind: &str, images: &[&str], security: Value) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, im)| {
            let mut c =
                json!({"name": format!("c{i}"), "image": im, "imagePullPolicy": "IfNotPresent"});
            if i == 0 && !security.is_null() {
                c["securityContext"] = security.clone();
            }
            c
        })
        .collect();
    let spec = json!({"containers": containers, "restartPolicy": "Always"});
    let (group, resource, object) = if kind == "Pod" {
        (
            "",
            "pods",
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web-0", "namespace": "prod", "labels": {"app": "web"}},
                "spec": spec}),
        )
    } else {
        (
            "apps",
            "deployments",
            json!({"apiVersion": "apps/v1", "kind": kind,
                "metadata": {"name": "web", "namespace": "prod"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}}}),
        )
    };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "0df28fbd-5f5f-11e8-bc74-36e6bb280816",
            "kind": {"group": group, "version": "v1", "kind": kind},
            "resource": {"group": group, "version": "v1", "resource": resource},
            "requestKind": {"group": group, "version": "v1", "kind": kind},
            "requestResource": {"group": group, "version": "v1", "resource": resource},
            "name": "web-0",
            "namespace": "prod",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
                "uid": "a4f8f3d2-1111-4c2b-9c55-0e0b2f4b2c11", "groups": ["system:serviceaccounts", "system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

/// POSTs `req` to `/admission?timeout=...`; the response part, checked for its shape.
fn admit(addr: &str, timeout: &str, req: &Value) -> Value {
    let (s, body) = http(
        addr,
        "POST",
        &format!("/admission?timeout={timeout}"),
        None,
        req.to_string().as_bytes(),
    );
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(v["response"]["uid"], "0df28fbd-5f5f-11e8-bc74-36e6bb280816");
    v["response"].clone()
}

fn message(r: &Value) -> String {
    r["status"]["message"].as_str().unwrap_or("").to_string()
}

/// Signatures and misconfiguration rules, with the registry on 127.0.0.1.
#[test]
fn signatures_and_misconfiguration_rules_at_admission() {
    if !registry_tools() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let h = t.path();
    let reg = start_registry(&h.join("reg"), "", "");
    let host = format!("127.0.0.1:{}", reg.port);
    for k in ["trusted", "other"] {
        let o = moat_pw(h, &["key", "generate", "--output-key-prefix", k]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let signed = format!("{host}/team/signed:v1");
    let unsigned = format!("{host}/team/unsigned:v1");
    let foreign = format!("{host}/team/foreign:v1");
    push_image(&h.join("i1"), &[("coreutils", "9.1-1")], "signed", &signed);
    push_image(
        &h.join("i2"),
        &[("coreutils", "9.1-1")],
        "unsigned",
        &unsigned,
    );
    push_image(
        &h.join("i3"),
        &[("coreutils", "9.1-1")],
        "foreign",
        &foreign,
    );
    let o = moat_pw(h, &["sign", &signed, "--key", "trusted.key"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = moat_pw(h, &["sign", &foreign, "--key", "other.key"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let signed_digest = digest_of(&host, "team/signed", "v1");
    let by_digest = format!("{host}/team/signed@{signed_digest}");

    std::fs::create_dir_all(h.join("policy/keys")).unwrap();
    std::fs::copy(h.join("trusted.pub"), h.join("policy/keys/trusted.pub")).unwrap();
    std::fs::write(
        h.join("policy/trust.toml"),
        format!("trusted-registries = [\"{host}\"]\n[[signers]]\nkey = \"keys/trusted.pub\"\nscope = [\"{host}/team\"]\n"),
    )
    .unwrap();
    std::fs::write(
        h.join("policy/admission.toml"),
        "require_signature = true\ntrust_policy = \"trust.toml\"\nunknown_image = \"allow\"\nmisconfig_rules = [\"KSV017\"]\n",
    )
    .unwrap();
    let store = h.join("server.db");
    let srv = start(
        h,
        &[
            "--store",
            store.to_str().unwrap(),
            "--workers",
            "0",
            "--admission-policy",
            h.join("policy/admission.toml").to_str().unwrap(),
        ],
    );
    let a = srv.addr.as_str();

    // Signed by the trusted key: allowed, by tag (resolved through the registry) and by
    // digest, for a Pod and a Deployment; the key is in the audit annotations.
    let r = admit(a, "10s", &review_request("Pod", &[&signed], Value::Null));
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        r["auditAnnotations"]["moat/signed-by"]
            .as_str()
            .is_some_and(|k| k.contains("keys/trusted.pub")),
        "{r}"
    );
    let r = admit(
        a,
        "10s",
        &review_request("Deployment", &[&by_digest], Value::Null),
    );
    assert_eq!(r["allowed"], true, "{r}");

    // Unsigned, and signed by a key the policy does not trust: denied, saying why.
    let r = admit(
        a,
        "10s",
        &review_request("Pod", &[&signed, &unsigned], Value::Null),
    );
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 403);
    let m = message(&r);
    assert!(
        m.contains(&format!("{unsigned}: not signed by a trusted key ("))
            && m.contains("no signatures")
            && m.contains("trusted.pub")
            && !m.contains(&format!("{signed}:")),
        "{m}"
    );
    let r = admit(a, "10s", &review_request("Pod", &[&foreign], Value::Null));
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    assert!(
        m.contains(&format!("{foreign}: not signed by a trusted key")) && m.contains("trusted.pub"),
        "{m}"
    );
    // Outside the trust policy's registries, and outside its signers' scope.
    let r = admit(
        a,
        "10s",
        &review_request("Pod", &["ghcr.io/acme/app:1"], Value::Null),
    );
    assert!(
        message(&r).contains("ghcr.io/acme/app is not in a trusted registry"),
        "{r}"
    );
    let r = admit(
        a,
        "10s",
        &review_request("Pod", &[&format!("{host}/other/app:1")], Value::Null),
    );
    assert!(
        message(&r).contains(&format!("no key of the policy covers {host}/other/app")),
        "{r}"
    );

    // A privileged container: denied by the rule that must pass, with its id, title and field.
    let r = admit(
        a,
        "10s",
        &review_request("Pod", &[&signed], json!({"privileged": true})),
    );
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    assert!(
        m.contains("Pod/prod/web-0: MOAT-K8S-007 \"Privileged containers are forbidden\" (KSV017, a rule that must pass) at spec.containers[0].securityContext.privileged"),
        "{m}"
    );
    let r = admit(
        a,
        "10s",
        &review_request("Deployment", &[&signed], json!({"privileged": true})),
    );
    assert!(
        message(&r).contains("at spec.template.spec.containers[0].securityContext.privileged"),
        "{r}"
    );
    let r = admit(
        a,
        "10s",
        &review_request("Pod", &[&signed], json!({"privileged": false})),
    );
    assert_eq!(r["allowed"], true, "{r}");

    // The verdicts are kept per digest (and the tag's digest for a while): with the registry
    // gone, the signed image is still admitted, and a new one cannot be checked.
    drop(reg);
    let r = admit(
        a,
        "10s",
        &review_request("Pod", &[&by_digest, &signed], Value::Null),
    );
    assert_eq!(r["allowed"], true, "{r}");
    let r = admit(
        a,
        "10s",
        &review_request("Pod", &[&format!("{host}/team/new:v1")], Value::Null),
    );
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    assert!(
        m.contains("team/new:v1: its tag cannot be resolved to a digest")
            || m.contains("team/new:v1: its registry cannot be reached"),
        "{m}"
    );

    // Not a duration: the request is refused.
    let (s, _) = http(
        a,
        "POST",
        "/admission?timeout=soon",
        None,
        review_request("Pod", &[&signed], Value::Null)
            .to_string()
            .as_bytes(),
    );
    assert_eq!(s, 400);
}

/// An advisory for bash (fixed in 5.2.15-2+b3, HIGH) in `home/adv`; the database.
fn bash_db(home: &Path) -> PathBuf {
    let dir = home.join("adv");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("osv.json"),
        r#"{"id":"OSV-TEST-1","modified":"2024-01-01T00:00:00Z","database_specific":{"severity":"HIGH"},"affected":[{"package":{"ecosystem":"Debian:12","name":"bash"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"5.2.15-2+b3"}]}]}]}"#,
    )
    .unwrap();
    build_db(home, "adv.db", &dir)
}

#[test]
fn unknown_images_are_scanned_within_the_budget() {
    let t = tempfile::tempdir().unwrap();
    let store = t.path().join("server.db");
    unknown_images(t.path(), &store);
}

#[test]
fn unknown_images_are_scanned_within_the_budget_on_postgres() {
    let Some(url) = pg_database("admission") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    unknown_images(t.path(), &url);
}

fn unknown_images(h: &Path, store: &Path) {
    if !registry_tools() {
        return;
    }
    let reg = start_registry(&h.join("reg"), "", "");
    let host = format!("127.0.0.1:{}", reg.port);
    // The same registry behind a proxy that holds each connection 3 s.
    let slow_host = format!("127.0.0.1:{}", slow_proxy(reg.port, Duration::from_secs(3)));
    let vulnerable = format!("{host}/team/vulnerable:v1");
    let clean = format!("{host}/team/clean:v1");
    push_image(
        &h.join("i1"),
        &[("bash", "5.2.15-2+b2")],
        "vulnerable",
        &vulnerable,
    );
    push_image(&h.join("i2"), &[("coreutils", "9.1-1")], "clean", &clean);
    push_image(
        &h.join("i3"),
        &[("bash", "5.2.15-2+b2")],
        "slow",
        &format!("{host}/team/slow:v1"),
    );
    let slow = format!("{slow_host}/team/slow:v1");
    let db = bash_db(h);
    std::fs::write(
        h.join("admission.toml"),
        "deny_severity = \"HIGH\"\nignore = [\"MOAT-IMG-001\"]\nunknown_image = \"scan\"\nscan_budget_ms = 20000\nunknown_fallback = \"deny\"\n",
    )
    .unwrap();
    let flag = if store.to_string_lossy().starts_with("postgres") {
        "--database-url"
    } else {
        "--store"
    };
    let srv = start(
        h,
        &[
            flag,
            store.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--workers",
            "2",
            "--scan-arg=--cache=off",
            "--admission-policy",
            h.join("admission.toml").to_str().unwrap(),
        ],
    );
    let a = srv.addr.as_str();

    // Unknown, scanned within the budget: denied by its findings, or allowed.
    let r = admit(
        a,
        "25s",
        &review_request("Pod", &[&vulnerable], Value::Null),
    );
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    assert!(
        m.contains(&format!("{vulnerable}: 1 finding(s) at or above HIGH: OSV-TEST-1 HIGH (bash 5.2.15-2+b2) (scanned now, job ")),
        "{m}"
    );
    let r = admit(
        a,
        "25s",
        &review_request("Deployment", &[&clean], Value::Null),
    );
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r.get("warnings").is_none(), "{r}");
    // Known now: the stored verdict, with no new job.
    let r = admit(
        a,
        "25s",
        &review_request("Pod", &[&vulnerable], Value::Null),
    );
    assert!(
        message(&r).contains("OSV-TEST-1") && !message(&r).contains("scanned now"),
        "{r}"
    );

    // Past the budget (the API server waits 2 s): the fallback answer, saying so; the job
    // stays queued and is not queued twice.
    let started = Instant::now();
    let r = admit(a, "2s", &review_request("Pod", &[&slow], Value::Null));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    assert!(
        m.contains(&format!("{slow}: not known to moat; its scan (job "))
            && m.contains(" ms and goes on: denied (unknown_fallback = \"deny\")"),
        "{m}"
    );
    let job = |m: &str| -> String {
        m.split("(job ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap_or("")
            .to_string()
    };
    let first = job(&m);
    let r = admit(a, "1s", &review_request("Pod", &[&slow], Value::Null));
    assert_eq!(job(&message(&r)), first, "{r}");
    // Once the scan is done, the next request gets the stored verdict.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = admit(a, "1s", &review_request("Pod", &[&slow], Value::Null));
        let m = message(&r);
        if m.contains("OSV-TEST-1") {
            assert!(!m.contains("unknown_fallback"), "{m}");
            break;
        }
        assert!(m.contains(&format!("(job {first})")), "{m}");
        assert!(Instant::now() < deadline, "the scan never finished: {m}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // A multi-platform image, named as pods name it by the digest of its index: scanned
    // once, then found by that digest (the store keeps the index digest beside the
    // platform manifest's).
    push_image(
        &h.join("i4"),
        &[("bash", "5.2.15-2+b2")],
        "multi",
        &format!("{host}/team/multi:amd64"),
    );
    let index = put_index(&host, "team/multi", "amd64", "v1");
    let by_index = format!("{host}/team/multi@{index}");
    let r = admit(a, "25s", &review_request("Pod", &[&by_index], Value::Null));
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        message(&r).contains(&format!(
            "{by_index}: 1 finding(s) at or above HIGH: OSV-TEST-1"
        )) && message(&r).contains("(scanned now, job "),
        "{r}"
    );
    let r = admit(a, "25s", &review_request("Pod", &[&by_index], Value::Null));
    assert!(
        message(&r).contains("OSV-TEST-1") && !message(&r).contains("scanned now"),
        "{r}"
    );

    // An image whose scan fails (not in its registry): the fallback answer with the error,
    // and for rescan_failed_after_seconds the same answer without queueing it again.
    let missing = format!("{host}/team/missing:v1");
    let r = admit(a, "25s", &review_request("Pod", &[&missing], Value::Null));
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    assert!(
        m.contains(&format!("{missing}: not known to moat, and its scan (job "))
            && m.contains(") failed: ")
            && m.contains("denied (unknown_fallback = \"deny\")"),
        "{m}"
    );
    let failed = job(&m);
    let r = admit(a, "25s", &review_request("Pod", &[&missing], Value::Null));
    let m2 = message(&r);
    assert!(
        m2.contains(&format!("its scan (job {failed}) failed "))
            && m2.contains("not queued again before 300 s (rescan_failed_after_seconds)"),
        "{m2}"
    );

    // unknown_fallback = "allow": allowed, with a warning that says so.
    std::fs::write(
        h.join("allow.toml"),
        "unknown_image = \"scan\"\nscan_budget_ms = 0\nunknown_fallback = \"allow\"\n",
    )
    .unwrap();
    drop(srv);
    let srv = start(
        h,
        &[
            flag,
            store.to_str().unwrap(),
            "--workers",
            "0",
            "--admission-policy",
            h.join("allow.toml").to_str().unwrap(),
        ],
    );
    let other = format!("{host}/team/other:v9");
    let r = admit(
        &srv.addr,
        "10s",
        &review_request("Pod", &[&other], Value::Null),
    );
    assert_eq!(r["allowed"], true, "{r}");
    let w = r["warnings"][0].as_str().unwrap_or("");
    assert!(
        w.starts_with(&format!("moat: {other}: not known to moat; its scan (job "))
            && w.ends_with("allowed (unknown_fallback = \"allow\")"),
        "{r}"
    );
}
