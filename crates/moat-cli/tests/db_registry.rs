//! The advisory database as an OCI artifact (`moat db push`, `moat db update
//! --db-repository`) against a real registry: Debian's `docker-registry` on 127.0.0.1
//! (tests/common/registry.rs), killed at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::registry::*;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A plain registry in `dir`; `None` (skip) when the registry tools are absent (a panic
/// under CI).
fn registry(dir: &Path) -> Option<Registry> {
    registry_tools().then(|| start_registry(&dir.join("registry"), "", ""))
}

fn db(dir: &Path, name: &str) -> Option<PathBuf> {
    let vulns = shared()?.join("data/vulns");
    Some(build_db_from(
        dir,
        name,
        &[&vulns.join("go"), &vulns.join("alpine")],
    ))
}

#[test]
fn a_pushed_database_is_pulled_byte_for_byte_and_bad_artifacts_leave_the_old_one() {
    let t = tempfile::tempdir().unwrap();
    let Some(reg) = registry(t.path()) else {
        return;
    };
    let Some(a) = db(t.path(), "a.db") else {
        return;
    };
    let r = format!("127.0.0.1:{}/moat/db", reg.port);

    let o = moat([
        "db",
        "push",
        "--db",
        a.to_str().unwrap(),
        &format!("{r}:v1"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("pushed "), "{out}");
    let digest = out.trim().rsplit('@').next().unwrap().to_string();
    assert!(digest.starts_with("sha256:"), "{out}");

    // The manifest as the registry holds it: an OCI artifact of moat's type.
    let m = Command::new("curl")
        .args([
            "-sf",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
        ])
        .arg(format!(
            "http://127.0.0.1:{}/v2/moat/db/manifests/v1",
            reg.port
        ))
        .output()
        .unwrap();
    assert!(m.status.success());
    assert_eq!(sha256(&m.stdout), digest);
    let m: serde_json::Value = serde_json::from_slice(&m.stdout).unwrap();
    assert_eq!(m["artifactType"], "application/vnd.moat.db.v1");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.moat.db.layer.v1.sqlite+zstd"
    );
    assert_eq!(m["annotations"]["dev.moat.db.schema"], "7");
    assert_eq!(
        m["annotations"]["dev.moat.db.sources"],
        "alpine-secdb,osv:Go"
    );
    assert!(
        m["annotations"]["org.opencontainers.image.created"]
            .as_str()
            .unwrap()
            .starts_with("20")
    );

    // Pulled into a new path: the same bytes, and a database moat reads.
    let b = t.path().join("pulled/b.db");
    let o = moat([
        "db",
        "update",
        "--db",
        b.to_str().unwrap(),
        "--db-repository",
        &format!("registry:{r}:v1"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(&digest), "{}", stdout(&o));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let o = moat(["db", "status", "--db", b.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // --key: an unsigned artifact is refused before the download; once signed, pulled.
    let signed = |args: &[&str]| {
        run(isolated(t.path())
            .env("MOAT_PASSWORD", "pw")
            .env_remove("COSIGN_PASSWORD")
            .args(args))
    };
    let o = signed(&["key", "generate", "--output-key-prefix", "dbkey"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let k = t.path().join("k.db");
    let pull_signed = || {
        signed(&[
            "db",
            "update",
            "--db",
            k.to_str().unwrap(),
            "--db-repository",
            &format!("{r}:v1"),
            "--key",
            "dbkey.pub",
        ])
    };
    let o = pull_signed();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("signature"), "{}", stderr(&o));
    assert!(!k.exists());
    let o = signed(&["sign", "--key", "dbkey.key", &format!("{r}@{digest}")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = pull_signed();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&k).unwrap());

    // A scan with --db-repository and no database pulls it first, then finds what a scan
    // with the original finds.
    let images = images().unwrap();
    let target = format!(
        "docker-archive:{}",
        images.join("lang-app.docker.tar").display()
    );
    let scan = |db: &Path, extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--scanners",
            "vuln",
            "--format",
            "json",
            "--db",
            db.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.push(&target);
        let o = moat(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (v, stderr(&o))
    };
    let (want, _) = scan(&a, &[]);
    let c = t.path().join("scan/c.db");
    let pulled_ref = format!("{r}:v1");
    let (got, err) = scan(&c, &["--db-repository", &pulled_ref]);
    assert!(err.contains("pulling the advisory database"), "{err}");
    assert_eq!(got["advisories"]["downloaded"], true);
    assert!(!want["findings"].as_array().unwrap().is_empty());
    assert_eq!(got["findings"], want["findings"]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
    // Fresh (built today): the next scan does not pull again.
    let (_, err) = scan(&c, &["--db-repository", &pulled_ref]);
    assert!(!err.contains("pulling"), "{err}");
    // Older than --db-refresh-after, but the registry holds the same artifact: not pulled
    // again (the marker beside the database names it).
    let marker = std::fs::read_to_string(t.path().join("scan/c.db.pulled")).unwrap();
    assert_eq!(marker, format!("{pulled_ref}\n{digest}\n"));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (_, err) = scan(
        &c,
        &["--db-repository", &pulled_ref, "--db-refresh-after", "1s"],
    );
    assert!(!err.contains("refreshing"), "{err}");

    // Not a database artifact (an ordinary image pushed there): refused, b.db untouched.
    skopeo_push(
        &images.join("debian-base.oci"),
        &format!("{r}:image"),
        &["--dest-tls-verify=false"],
    );
    let before = std::fs::read(&b).unwrap();
    let o = moat([
        "db",
        "update",
        "--db",
        b.to_str().unwrap(),
        "--db-repository",
        &format!("{r}:image"),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a moat advisory database artifact"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&b).unwrap(), before);

    // A tag that does not exist: a clear error, b.db untouched.
    let o = moat([
        "db",
        "update",
        "--db",
        b.to_str().unwrap(),
        "--db-repository",
        &format!("{r}:nope"),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not found"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&b).unwrap(), before);

    // `push` needs a tag.
    let o = moat([
        "db",
        "push",
        "--db",
        a.to_str().unwrap(),
        &format!("{r}@{digest}"),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("needs a tag"), "{}", stderr(&o));
}

/// An upload in many chunks (`PATCH` with `Content-Range`) gives the same blob as one `PUT`.
#[test]
fn a_chunked_upload_gives_the_same_artifact() {
    let t = tempfile::tempdir().unwrap();
    let Some(reg) = registry(t.path()) else {
        return;
    };
    let Some(a) = db(t.path(), "a.db") else {
        return;
    };
    let mut ro = moat_image::RegistryOptions::default();
    ro.client.upload_chunk = 64 << 10;
    let reference =
        moat_registry::Reference::parse(&format!("127.0.0.1:{}/moat/chunked:v1", reg.port))
            .unwrap();
    let pushed = moat_pipeline::db_artifact::push(&a, &reference, &ro).unwrap();
    assert!(
        pushed.layer_bytes > 4 * (64 << 10),
        "{}",
        pushed.layer_bytes
    );
    let b = t.path().join("b.db");
    let pulled = moat_pipeline::db_artifact::pull(&reference, &ro, &b, &mut |_, _| Ok(())).unwrap();
    assert_eq!(pulled.digest, pushed.digest);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    // The verify hook refuses before anything is written.
    let c = t.path().join("c.db");
    let e = moat_pipeline::db_artifact::pull(&reference, &ro, &c, &mut |_, d| {
        Err(format!("no signature for {d}"))
    })
    .unwrap_err();
    assert!(e.to_string().contains("no signature for sha256:"), "{e}");
    assert!(!c.exists());
}
