//! Registry targets against a real registry (Debian's `docker-registry`, images pushed with
//! `skopeo`), on 127.0.0.1 with free ports, stopped by PID at the end (a Drop guard). Basic
//! auth uses an htpasswd file (bcrypt, `htpasswd -B`), TLS a CA generated with `openssl`,
//! token auth a small token server and challenge proxy in this file in front of the real
//! registry; the same proxy counts blob downloads and can drop a connection mid-blob.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::registry::*;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The tools the tests need and ../shared's images; `None` (skip) when absent, a panic under
/// CI=true.
fn tools() -> Option<PathBuf> {
    let images = images()?;
    registry_tools().then_some(images)
}

fn packages(json: &[u8]) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    v["packages"].clone()
}

/// `moat_in` with `MOAT_DEBUG` set.
fn moat_in_debug(home: &Path, args: &[&str]) -> std::process::Output {
    let o = run(isolated(home).env("MOAT_DEBUG", "1").args(args));
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    o
}

fn inventory_json(home: &Path, target: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["inventory", "--format", "json", "-q", target];
    args.extend_from_slice(extra);
    let o = moat_in(home, &args, "");
    assert_eq!(code(&o), 0, "{target}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

// ---------------------------------------------------------------------------------------
// A small HTTP proxy in front of the registry: forwards, counts, drops, or demands a token.

#[derive(Clone)]
enum Mode {
    Forward,
    /// Cut every blob GET after this many body bytes.
    DropBlobs(usize),
    /// Cut the first `n` blob GETs after 100 body bytes, then forward.
    DropFirst(Arc<AtomicUsize>),
    /// Bearer challenge; the token service at /token wants these Basic credentials
    /// (`None`: anonymous tokens).
    Token(Option<(String, String)>),
}

struct Proxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Proxy {
    fn blob_gets(&self) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.starts_with("GET ") && r.contains("/blobs/sha256:"))
            .count()
    }
}

const TOKEN: &str = "moat-test-token-5f2a";

fn start_proxy(backend: u16, mode: Mode) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (reqs, st) = (requests.clone(), stop.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if st.load(Ordering::SeqCst) {
                return;
            }
            let Ok(conn) = conn else { continue };
            let (reqs, mode) = (reqs.clone(), mode.clone());
            std::thread::spawn(move || {
                let _ = serve(conn, backend, port, &mode, &reqs);
            });
        }
    });
    Proxy {
        port,
        requests,
        stop,
    }
}

fn read_head(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    read_head_from(s, Vec::new())
}

fn read_head_from(s: &mut TcpStream, mut head: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(b[0]);
        if head.len() > 64 << 10 {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
    }
    Ok(head)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn serve(
    mut client: TcpStream,
    backend: u16,
    port: u16,
    mode: &Mode,
    reqs: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    // moat tries HTTPS first: a TLS ClientHello (0x16) gets the connection closed.
    let mut first = [0u8; 1];
    client.read_exact(&mut first)?;
    if first[0] == 0x16 {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&read_head_from(&mut client, first.to_vec())?).into_owned();
    let line = head.lines().next().unwrap_or("").to_string();
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    reqs.lock().unwrap().push(format!("{method} {path}"));
    let len: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    client.read_exact(&mut body)?;
    if let Mode::Token(creds) = mode {
        if path.starts_with("/token") {
            let ok = match creds {
                None => true,
                Some((u, p)) => {
                    let want = format!("{u}:{p}");
                    header(&head, "authorization")
                        .and_then(|a| a.strip_prefix("Basic "))
                        .and_then(b64_decode)
                        .is_some_and(|d| d == want.as_bytes())
                }
            };
            let (status, body) = if ok && path.contains("scope=repository%3A") {
                ("200 OK", format!("{{\"token\":\"{TOKEN}\"}}"))
            } else {
                ("401 Unauthorized", "{}".to_string())
            };
            write!(
                client,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            return Ok(());
        }
        if header(&head, "authorization") != Some(&format!("Bearer {TOKEN}")) {
            let repo = path
                .strip_prefix("/v2/")
                .and_then(|p| p.split("/manifests/").next())
                .and_then(|p| p.split("/blobs/").next())
                .unwrap_or("");
            let scope = if repo.is_empty() {
                String::new()
            } else {
                format!(",scope=\"repository:{repo}:pull\"")
            };
            let body =
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
            write!(
                client,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"moat-test\"{scope}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            return Ok(());
        }
    }
    let mut up = TcpStream::connect(("127.0.0.1", backend))?;
    let mut fwd = String::new();
    for (i, l) in head.split("\r\n").enumerate() {
        if l.is_empty() {
            continue;
        }
        let lower = l.to_ascii_lowercase();
        if i > 0 && (lower.starts_with("connection:") || lower.starts_with("authorization:")) {
            continue;
        }
        fwd.push_str(l);
        fwd.push_str("\r\n");
    }
    fwd.push_str("Connection: close\r\n\r\n");
    up.write_all(fwd.as_bytes())?;
    up.write_all(&body)?;
    let resp_head = read_head(&mut up)?;
    let is_blob = method == "GET" && path.contains("/blobs/sha256:");
    let cut = match mode {
        Mode::DropBlobs(n) if is_blob => Some(*n),
        Mode::DropFirst(left) if is_blob => {
            let prev = left.load(Ordering::SeqCst);
            if prev > 0 {
                left.store(prev - 1, Ordering::SeqCst);
                Some(100)
            } else {
                None
            }
        }
        _ => None,
    };
    client.write_all(&resp_head)?;
    match cut {
        Some(n) => {
            let mut buf = vec![0u8; n];
            let k = up.read(&mut buf)?;
            client.write_all(&buf[..k])?;
            client.flush()?;
            // Drop both connections mid-body.
            let _ = client.shutdown(std::net::Shutdown::Both);
        }
        None => {
            std::io::copy(&mut up, &mut client)?;
        }
    }
    Ok(())
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let o = Command::new("sh")
        .args(["-c", "printf %s \"$1\" | base64 -d", "sh", s])
        .output()
        .ok()?;
    o.status.success().then_some(o.stdout)
}

// ---------------------------------------------------------------------------------------

/// Anonymous pulls from a plain registry: OCI and Docker v2s2 manifests, by tag and by
/// digest, a hand-made multi-platform index, the cache (warm runs download nothing, a
/// corrupt entry is fetched again), failures (a dropped connection, a tampered blob).
#[test]
fn anonymous_pulls_and_the_cache() {
    let Some(out) = tools() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let reg = start_registry(&home.join("reg"), "", "");
    let host = format!("127.0.0.1:{}", reg.port);
    let lang = out.join("lang-app.oci");
    skopeo_push(
        &lang,
        &format!("{host}/bench/lang-app:latest"),
        &["--dest-tls-verify=false"],
    );
    skopeo_push(
        &out.join("debian-tools.oci"),
        &format!("{host}/bench/debian-tools:v2s2"),
        &["--dest-tls-verify=false", "--format", "v2s2"],
    );

    // The registry's inventory of lang-app equals the OCI layout's.
    // (Without the cache: the layout's layers would fill the layer cache, and the registry
    // image, the same layers, would need none of its blobs.)
    let from_layout = inventory_json(
        home,
        &format!("oci:{}", lang.display()),
        &["--cache", "off"],
    );
    let proxy = start_proxy(reg.port, Mode::Forward);
    let via = format!("127.0.0.1:{}/bench/lang-app:latest", proxy.port);
    let from_reg = inventory_json(home, &via, &[]);
    assert_eq!(
        packages(&serde_json::to_vec(&from_reg).unwrap()),
        from_layout["packages"]
    );
    assert!(from_layout["packages"].as_array().unwrap().len() > 10);
    let art = &from_reg["artifact"];
    assert_eq!(art["kind"], "registry");
    assert_eq!(art["name"], via);
    assert_eq!(
        art["manifest_digest"],
        from_layout["artifact"]["manifest_digest"]
    );
    assert_eq!(
        art["config_digest"],
        from_layout["artifact"]["config_digest"]
    );
    let layers = art["layers"].as_array().unwrap().len();
    assert_eq!(
        proxy.blob_gets(),
        layers + 1,
        "config and every layer, once"
    );

    // Warm: nothing downloaded again.
    let again = inventory_json(home, &via, &[]);
    assert_eq!(again["packages"], from_layout["packages"]);
    assert_eq!(
        proxy.blob_gets(),
        layers + 1,
        "a warm run downloads no blob"
    );

    // With the blob cache emptied but the layer cache kept, only the config is fetched:
    // every layer's analysis is cached.
    let blob_root = home.join("cache/moat/blobs/blobs");
    std::fs::remove_dir_all(&blob_root).unwrap();
    let o = moat_in_debug(home, &["inventory", "--format", "json", "-q", &via]);
    assert_eq!(packages(&o.stdout), from_layout["packages"]);
    assert!(
        stderr(&o).contains(&format!("{layers} hit, 0 read")),
        "{}",
        stderr(&o)
    );
    assert_eq!(proxy.blob_gets(), layers + 2, "the config alone");
    // Without the layer cache, the layers are downloaded again (the blob cache is refilled).
    std::fs::remove_dir_all(home.join("cache/moat/blobs/layers")).unwrap();
    let again = inventory_json(home, &via, &[]);
    assert_eq!(again["packages"], from_layout["packages"]);
    assert_eq!(proxy.blob_gets(), 2 * layers + 2);
    let gets = 2 * layers + 2;

    // A corrupt cache entry is detected and fetched again, never trusted (the layer cache
    // removed each time, so that the blob is needed).
    let drop_layer_cache = || {
        let _ = std::fs::remove_dir_all(home.join("cache/moat/blobs/layers"));
    };
    drop_layer_cache();
    let cache = home.join("cache/moat/blobs/blobs/sha256");
    let layer_hex = art["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    let entry = cache.join(layer_hex);
    let mut bytes = std::fs::read(&entry).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();
    let again = inventory_json(home, &via, &[]);
    assert_eq!(again["packages"], from_layout["packages"]);
    assert_eq!(
        proxy.blob_gets(),
        gets + 1,
        "only the corrupt blob is fetched again"
    );
    // Truncated too.
    drop_layer_cache();
    std::fs::write(&entry, &bytes[..100]).unwrap();
    inventory_json(home, &via, &[]);
    assert_eq!(proxy.blob_gets(), gets + 2);

    // --cache off downloads everything and leaves nothing behind.
    let sbom = moat_in(home, &["sbom", "-q", "--cache", "off", &via], "");
    assert_eq!(code(&sbom), 0, "{}", stderr(&sbom));
    assert_eq!(proxy.blob_gets(), gets + 2 + layers + 1);
    let cdx: serde_json::Value = serde_json::from_slice(&sbom.stdout).unwrap();
    assert_eq!(cdx["metadata"]["component"]["name"], via);

    // By digest, and with the registry: prefix.
    let digest = from_layout["artifact"]["manifest_digest"].as_str().unwrap();
    let by_digest = inventory_json(
        home,
        &format!("registry:{host}/bench/lang-app@{digest}"),
        &[],
    );
    assert_eq!(by_digest["packages"], from_layout["packages"]);
    assert_eq!(by_digest["artifact"]["manifest_digest"], digest);

    // A Docker v2 schema 2 manifest.
    let v2 = inventory_json(home, &format!("{host}/bench/debian-tools:v2s2"), &[]);
    let tools_layout = inventory_json(
        home,
        &format!("oci:{}", out.join("debian-tools.oci").display()),
        &[],
    );
    assert_eq!(v2["packages"], tools_layout["packages"]);
    assert_eq!(
        v2["artifact"]["layers"][0]["media_type"],
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );

    // A multi-platform index assembled by hand: lang-app for linux/amd64, debian-tools (v2s2)
    // listed for linux/arm64 in the same repository.
    skopeo_push(
        &lang,
        &format!("{host}/bench/multi:amd64"),
        &["--dest-tls-verify=false"],
    );
    skopeo_push(
        &out.join("debian-tools.oci"),
        &format!("{host}/bench/multi:arm64"),
        &["--dest-tls-verify=false"],
    );
    let desc = |tag: &str| {
        let o = Command::new("curl")
            .args([
                "-sfI",
                "-H",
                "Accept: application/vnd.oci.image.manifest.v1+json",
            ])
            .arg(format!("http://{host}/v2/bench/multi/manifests/{tag}"))
            .output()
            .unwrap();
        let h = stdout(&o);
        let d = header(&h, "docker-content-digest").unwrap().to_string();
        let n: u64 = header(&h, "content-length").unwrap().parse().unwrap();
        (d, n)
    };
    let (da, na) = desc("amd64");
    let (db, nb) = desc("arm64");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": db, "size": nb,
             "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": da, "size": na,
             "platform": {"os": "linux", "architecture": "amd64"}},
        ]
    });
    let file = home.join("index.json");
    std::fs::write(&file, serde_json::to_vec(&index).unwrap()).unwrap();
    let o = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.oci.image.index.v1+json",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(format!("http://{host}/v2/bench/multi/manifests/latest"))
        .output()
        .unwrap();
    assert!(o.status.success(), "PUT index: {}", stderr(&o));
    let multi = format!("{host}/bench/multi:latest");
    let amd = inventory_json(home, &multi, &["--platform", "linux/amd64"]);
    assert_eq!(amd["packages"], from_layout["packages"]);
    assert_eq!(amd["artifact"]["manifest_digest"], da);
    // The index's digest too: what `name@sha256:...` references of the image use.
    assert_eq!(
        amd["artifact"]["index_digest"],
        sha256(&serde_json::to_vec(&index).unwrap())
    );
    assert!(from_layout["artifact"].get("index_digest").is_none());
    let o = moat_in(
        home,
        &["inventory", "-q", &multi, "--platform", "linux/s390x"],
        "",
    );
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(
        e.contains("no image for platform linux/s390x") && e.contains("linux/arm64, linux/amd64"),
        "{e}"
    );

    // A connection dropped mid-blob, every time: a clear error, exit 2, after retries.
    let cold = home.join("cold");
    let drop_all = start_proxy(reg.port, Mode::DropBlobs(1000));
    let dropped = format!("127.0.0.1:{}/bench/lang-app:latest", drop_all.port);
    let o = moat_in(
        home,
        &[
            "inventory",
            "-q",
            "--cache-dir",
            cold.to_str().unwrap(),
            &dropped,
        ],
        "",
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("the connection was dropped after"), "{e}");
    assert!(e.contains(&dropped), "{e}");
    // ... and once: the retry succeeds.
    let drop_once = start_proxy(reg.port, Mode::DropFirst(Arc::new(AtomicUsize::new(1))));
    let flaky = format!("127.0.0.1:{}/bench/lang-app:latest", drop_once.port);
    let ok = inventory_json(home, &flaky, &["--cache", "off"]);
    assert_eq!(ok["packages"], from_layout["packages"]);

    // A blob whose bytes do not match its digest (tampered in the registry's storage).
    let hex = art["layers"][layers - 1]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let data = reg.storage.join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ));
    let mut blob = std::fs::read(&data).unwrap();
    let mid = blob.len() / 2;
    blob[mid] ^= 0x55;
    std::fs::write(&data, &blob).unwrap();
    let o = moat_in(home, &["inventory", "-q", "--cache", "off", &via], "");
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("digest mismatch") && e.contains(&hex), "{e}");

    // moat cache clean empties the cache.
    let o = moat_in(home, &["cache", "clean"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!home.join("cache/moat/blobs/blobs").exists());
}

/// Basic auth (htpasswd, bcrypt): refused anonymously, accepted with --username and
/// --password-stdin and with Docker's config.json; the password never shows.
#[test]
fn basic_auth() {
    let Some(out) = tools() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let pw = "Sup3r-s3cret-pw";
    let htpasswd = home.join("htpasswd");
    let o = Command::new("htpasswd")
        .args(["-Bbc"])
        .arg(&htpasswd)
        .args(["alice", pw])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let reg = start_registry(
        &home.join("reg"),
        &format!(
            "auth:\n  htpasswd:\n    realm: moat-test\n    path: {}\n",
            htpasswd.display()
        ),
        "",
    );
    let host = format!("127.0.0.1:{}", reg.port);
    let image = format!("{host}/bench/secrets-leak:latest");
    skopeo_push(
        &out.join("secrets-leak.oci"),
        &image,
        &[
            "--dest-tls-verify=false",
            "--dest-creds",
            &format!("alice:{pw}"),
        ],
    );

    let o = moat_in(home, &["inventory", "-q", &image], "");
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("authentication failed"),
        "{}",
        stderr(&o)
    );
    let o = moat_in(
        home,
        &[
            "inventory",
            "-q",
            "--username",
            "alice",
            "--password-stdin",
            &image,
        ],
        "wrong\n",
    );
    assert_eq!(code(&o), 2);
    assert!(!stderr(&o).contains("wrong"), "{}", stderr(&o));

    let o = moat_in(
        home,
        &[
            "inventory",
            "--format",
            "json",
            "-q",
            "--username",
            "alice",
            "--password-stdin",
            &image,
        ],
        &format!("{pw}\n"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stdout(&o).contains(pw) && !stderr(&o).contains(pw));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["artifact"]["kind"], "registry");

    // Docker's config.json, through $DOCKER_CONFIG.
    let dc = home.join("docker");
    std::fs::create_dir_all(&dc).unwrap();
    let auth = String::from_utf8(
        Command::new("sh")
            .args([
                "-c",
                "printf %s \"$1\" | base64 -w0",
                "sh",
                &format!("alice:{pw}"),
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        dc.join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let mut c = isolated(home);
    c.env("DOCKER_CONFIG", &dc)
        .args(["scan", "--scanners", "secret", "--cache", "off", &image]);
    let o = run(&mut c);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stdout(&o).contains(pw) && !stderr(&o).contains(pw));
    assert!(stdout(&o).contains(&image), "{}", stdout(&o));
}

/// Bearer token auth: the challenge flow, anonymously and with credentials, through a token
/// service and challenge proxy in front of the real registry.
#[test]
fn token_auth() {
    let Some(out) = tools() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let reg = start_registry(&home.join("reg"), "", "");
    let host = format!("127.0.0.1:{}", reg.port);
    skopeo_push(
        &out.join("secrets-leak.oci"),
        &format!("{host}/bench/secrets-leak:latest"),
        &["--dest-tls-verify=false"],
    );
    let layout = inventory_json(
        home,
        &format!("oci:{}", out.join("secrets-leak.oci").display()),
        &[],
    );

    // Anonymous tokens.
    let anon = start_proxy(reg.port, Mode::Token(None));
    let r = format!("127.0.0.1:{}/bench/secrets-leak:latest", anon.port);
    let v = inventory_json(home, &r, &["--cache", "off"]);
    assert_eq!(v["packages"], layout["packages"]);
    let reqs = anon.requests.lock().unwrap().clone();
    assert!(
        reqs.iter().any(|r| r.starts_with(
            "GET /token?service=moat-test&scope=repository%3Abench%2Fsecrets-leak%3Apull"
        )),
        "{reqs:?}"
    );

    // Tokens only for alice.
    let pw = "t0ken-pw-9911";
    let authed = start_proxy(reg.port, Mode::Token(Some(("alice".into(), pw.into()))));
    let r = format!("127.0.0.1:{}/bench/secrets-leak:latest", authed.port);
    let o = moat_in(home, &["inventory", "-q", "--cache", "off", &r], "");
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("refused a token anonymously"), "{e}");
    let o = moat_in(
        home,
        &[
            "inventory",
            "--format",
            "json",
            "-q",
            "--cache",
            "off",
            "--username",
            "alice",
            "--password-stdin",
            &r,
        ],
        pw,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(packages(&o.stdout), layout["packages"]);
    assert!(!stderr(&o).contains(pw) && !stdout(&o).contains(TOKEN));
}

/// TLS with a CA generated here: refused without it, read with --ca-file or --insecure.
#[test]
fn tls_with_a_generated_ca() {
    let Some(out) = tools() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let d = home.join("tls");
    std::fs::create_dir_all(&d).unwrap();
    let sh = |script: &str| {
        let o = Command::new("sh")
            .args(["-c", script])
            .current_dir(&d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{script}: {}", stderr(&o));
    };
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=moat-test-ca 2>/dev/null",
    );
    sh(
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null",
    );
    sh(
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile ext.cnf 2>/dev/null",
    );
    let reg = start_registry(
        &home.join("reg"),
        "",
        &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            d.join("server.crt").display(),
            d.join("server.key").display()
        ),
    );
    let host = format!("127.0.0.1:{}", reg.port);
    let image = format!("{host}/bench/secrets-leak:latest");
    skopeo_push(
        &out.join("secrets-leak.oci"),
        &image,
        &["--dest-tls-verify=false"],
    );
    let layout = inventory_json(
        home,
        &format!("oci:{}", out.join("secrets-leak.oci").display()),
        &[],
    );

    let o = moat_in(home, &["inventory", "-q", "--cache", "off", &image], "");
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(
        e.contains("https://127.0.0.1") && e.to_lowercase().contains("certificate"),
        "{e}"
    );

    let ca = d.join("ca.crt");
    let v = inventory_json(
        home,
        &image,
        &["--cache", "off", "--ca-file", ca.to_str().unwrap()],
    );
    assert_eq!(v["packages"], layout["packages"]);
    let v = inventory_json(home, &image, &["--cache", "off", "--insecure"]);
    assert_eq!(v["packages"], layout["packages"]);

    // A CA file that is no PEM is named.
    let bad = d.join("bad.pem");
    std::fs::write(&bad, "hello").unwrap();
    let o = moat_in(
        home,
        &[
            "inventory",
            "-q",
            "--ca-file",
            bad.to_str().unwrap(),
            &image,
        ],
        "",
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("bad.pem"), "{}", stderr(&o));
}
