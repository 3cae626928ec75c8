//! The hostile-input suite: every input is generated here at test time, and the `moat` binary
//! runs on each under a memory limit (`ulimit -v`, through `sh`) and a wall-clock limit (the
//! child is killed past it). Each case asserts the exit code and the message: bounded, clear
//! outcomes, never a hang, a crash or a raw escape sequence on the user's terminal.
//!
//! Cases: control characters in package and file names; 10 MB names and versions; a
//! hostile `rpmdb.sqlite`; FIFOs as import paths and targets; `--exit-code 2`; `--timeout`;
//! an advisory summary of 64 MiB (cut on import);
//! and the inputs moat already handled before this suite (truncated gzip, decompression
//! bomb, path traversal, digest mismatch, a size lie, an index loop, deep JSON in an SBOM and
//! a package-lock.json, a YAML alias bomb, a zip bomb and deeply nested jars, a symlink loop,
//! a hardlink to nowhere).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{E, TestLayer, debian_layer, run_under_limits, sha256, write_oci};
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Address-space limit of every run (KiB for `ulimit -v`): 1 GiB.
const MEMORY_KIB: u64 = 1 << 20;
/// Wall-clock limit of every run: a guard against hangs, not a speed test. Generous, as
/// the debug build on a loaded 2-core machine takes over 30 s for the largest inputs here
/// (a 100,000-entry lockfile).
const WALL: Duration = Duration::from_secs(120);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `moat args...` isolated (no network, no user cache) under the memory and time limits.
fn moat<S: AsRef<OsStr>>(home: &Path, args: &[S]) -> Run {
    let (o, _) = run_under_limits(MEMORY_KIB, WALL, args, |c| {
        c.env_remove("MOAT_DB")
            .env("MOAT_DB_URL", "http://127.0.0.1:9")
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("HOME", home)
            .env("NO_COLOR", "1")
            .current_dir(home);
    });
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let code = o
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {stderr}"));
    assert!(!stderr.contains("panicked"), "{stderr}");
    Run {
        code,
        stdout,
        stderr,
    }
}

/// No byte that could drive a terminal: control characters other than newline.
fn assert_terminal_safe(what: &str, s: &str) {
    if let Some(c) = s.chars().find(|&c| c.is_control() && c != '\n') {
        panic!("{what} holds a raw {c:?}: {s}");
    }
}

fn oci(dir: &Path, name: &str, layers: &[TestLayer]) -> String {
    let d = dir.join(name);
    write_oci(&d, layers);
    format!("oci:{}", d.display())
}

fn layer(entries: Vec<E>) -> TestLayer {
    TestLayer::gz(&entries, "hostile")
}

/// A layer gzipped at the fastest level (for big, incompressible entries).
fn fast_layer(entries: Vec<E>) -> TestLayer {
    let t = common::tar(&entries);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&t).unwrap();
    TestLayer {
        blob: e.finish().unwrap(),
        tar: t,
        created_by: "hostile",
    }
}

/// A tar entry with an owned name (the common `E` takes `&'static str`).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr))
}

fn messages(inv: &serde_json::Value) -> Vec<String> {
    inv["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect()
}

// ---- output an attacker controls ------------------------------------------------------

#[test]
fn control_characters_in_names_are_escaped_on_stderr_and_in_the_table() {
    let d = tempfile::tempdir().unwrap();
    let evil = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{0}x";
    let mut status = common::status(&[("bash", "5.2-1")]);
    status.extend(
        format!("Package: {evil}\nStatus: install ok installed\nVersion: 1\u{1b}[31m\n\n")
            .into_bytes(),
    );
    let entries = vec![
        E::File(
            "usr/lib/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian\"\n".to_vec(),
        ),
        E::File("var/lib/dpkg/status", status),
        // A broken lockfile in a directory whose name clears the screen.
        E::File(
            "app/\u{1b}[2J\u{7}/package-lock.json",
            b"{ not json".to_vec(),
        ),
    ];
    let t = oci(d.path(), "img", &[layer(entries)]);
    let r = moat(d.path(), &["inventory", t.as_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_terminal_safe("stdout", &r.stdout);
    assert_terminal_safe("stderr", &r.stderr);
    assert!(
        r.stderr.contains("/app/\\x1b[2J\\x07/package-lock.json"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("bash"), "{}", r.stdout);
    // The JSON keeps the name as it is (escaped by JSON itself).
    let r = moat(
        d.path(),
        &["inventory", "--format", "json", "-q", t.as_str()],
    );
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("\\u001b"), "{}", r.stdout);
}

#[test]
fn ten_megabyte_names_and_versions_are_cut_or_dropped() {
    let d = tempfile::tempdir().unwrap();
    let huge = "a".repeat(10 << 20);
    let status = format!(
        "Package: bash\nStatus: install ok installed\nVersion: 5.{huge}\n\n\
         Package: x{huge}\nStatus: install ok installed\nVersion: 1\n\n\
         Package: zlib1g\nStatus: install ok installed\nVersion: 1.3\n\n"
    );
    let entries = vec![
        E::File(
            "usr/lib/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian\"\n".to_vec(),
        ),
        E::File("var/lib/dpkg/status", status.into_bytes()),
        E::File(
            "app/requirements.txt",
            format!("requests==2.31.0\n{huge} @@ !!\n").into_bytes(),
        ),
    ];
    let t = oci(d.path(), "img", &[layer(entries)]);
    let r = moat(d.path(), &["inventory", "--format", "json", t.as_str()]);
    assert_eq!(
        r.code,
        0,
        "{}",
        r.stderr.chars().take(4000).collect::<String>()
    );
    assert!(
        r.stdout.len() < 1 << 20,
        "report of {} bytes",
        r.stdout.len()
    );
    assert!(
        r.stderr.len() < 64 << 10,
        "stderr of {} bytes",
        r.stderr.len()
    );
    let inv = json(&r);
    let pkgs: Vec<(&str, &str)> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["version"].as_str().unwrap()))
        .collect();
    let bash = pkgs.iter().find(|p| p.0 == "bash").expect("bash kept");
    assert_eq!(bash.1.len(), moat_model_limits::MAX_VERSION);
    assert!(
        bash.1.ends_with("...[truncated, 10485762 bytes]"),
        "{}",
        &bash.1[400..]
    );
    assert!(pkgs.iter().any(|p| p.0 == "zlib1g"));
    assert!(
        pkgs.iter()
            .all(|p| p.0.len() <= moat_model_limits::MAX_NAME)
    );
    let msgs = messages(&inv);
    assert!(
        msgs.iter().any(|m| m == "deb package name of 10485761 bytes is over the 1024-byte limit: dropped"),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .all(|m| m.len() <= moat_model_limits::MAX_MESSAGE)
    );

    // The same caps for an SBOM read as a target.
    let sbom = d.path().join("big.cdx.json");
    let long_name = "n".repeat(2000);
    let doc = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [
            {"type": "library", "name": "left-pad", "version": huge, "purl": "pkg:npm/left-pad@1"},
            {"type": "library", "name": long_name, "version": "1", "purl": "pkg:npm/x@1"},
        ]
    });
    std::fs::write(&sbom, serde_json::to_vec(&doc).unwrap()).unwrap();
    let r = moat(
        d.path(),
        &[
            "inventory".to_string(),
            "--format".into(),
            "json".into(),
            format!("sbom:{}", sbom.display()),
        ],
    );
    assert_eq!(
        r.code,
        0,
        "{}",
        r.stderr.chars().take(4000).collect::<String>()
    );
    assert!(
        r.stdout.len() < 1 << 20,
        "report of {} bytes",
        r.stdout.len()
    );
    let inv = json(&r);
    let pkgs = inv["packages"].as_array().unwrap();
    assert_eq!(
        pkgs.len(),
        1,
        "{}",
        r.stdout.chars().take(2000).collect::<String>()
    );
    assert_eq!(pkgs[0]["name"], "left-pad");
    assert_eq!(
        pkgs[0]["version"].as_str().unwrap().len(),
        moat_model_limits::MAX_VERSION
    );
    let msgs = messages(&inv);
    assert!(
        msgs.iter().any(|m| m.ends_with("package name of 2000 bytes is over the 1024-byte limit: dropped")),
        "{msgs:?}"
    );
}

/// The caps of `moat_model::limits`, as the report shows them.
mod moat_model_limits {
    pub const MAX_NAME: usize = 1024;
    pub const MAX_VERSION: usize = 512;
    pub const MAX_MESSAGE: usize = 4096;
}

// ---- untrusted SQLite ------------------------------------------------------------------

#[test]
fn hostile_rpmdb_sqlite_is_bounded_and_named() {
    let d = tempfile::tempdir().unwrap();
    // A plain table of 6,000 rows whose schema text is then rewritten (as an attacker
    // would) to make `blob` a generated column building gigabytes per row.
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, seed BLOB); \
         WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 6000) \
         INSERT INTO Packages(hnum, seed) SELECT n, x'00' FROM c; \
         PRAGMA writable_schema = ON; \
         UPDATE sqlite_master SET sql = 'CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, \
         seed BLOB, blob BLOB GENERATED ALWAYS AS (zeroblob(1000000000) || \
         hex(zeroblob(400000000))) VIRTUAL)' WHERE name = 'Packages'; \
         PRAGMA writable_schema = OFF;",
    )
    .unwrap();
    let db = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
    let entries = vec![
        E::File(
            "etc/os-release",
            b"ID=fedora\nVERSION_ID=40\nPRETTY_NAME=\"Fedora 40\"\n".to_vec(),
        ),
        E::File("usr/lib/sysimage/rpm/rpmdb.sqlite", db),
    ];
    let t = oci(d.path(), "img", &[layer(entries)]);
    // a hang would be stopped by the wall-clock limit of `moat()`, and fail here
    let r = moat(d.path(), &["inventory", t.as_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("Packages.blob is a generated or hidden column: not evaluated"),
        "{}",
        r.stderr
    );
}

// ---- refusals at the CLI ---------------------------------------------------------------

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
    assert!(ok, "mkfifo {}", p.display());
}

#[test]
fn fifos_are_refused_not_read() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("feed.json");
    mkfifo(&fifo);
    let db = d.path().join("m.db");
    let r = moat(
        d.path(),
        &[
            "db".as_ref(),
            "import".as_ref(),
            "--db".as_ref(),
            db.as_os_str(),
            fifo.as_os_str(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim(),
        format!(
            "moat: error: import path {} is a FIFO: only regular files and directories are read",
            fifo.display()
        )
    );
    for args in [
        vec!["inventory".to_string(), fifo.display().to_string()],
        vec!["sbom".to_string(), format!("sbom:{}", fifo.display())],
        vec![
            "inventory".to_string(),
            format!("docker-archive:{}", fifo.display()),
        ],
    ] {
        let r = moat(d.path(), &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("is a FIFO"), "{args:?}: {}", r.stderr);
    }
    // `--db` itself a FIFO.
    let dbfifo = d.path().join("fifo.db");
    mkfifo(&dbfifo);
    let src = d.path().join("empty");
    std::fs::create_dir(&src).unwrap();
    let r = moat(
        d.path(),
        &[
            "db".as_ref(),
            "import".as_ref(),
            "--db".as_ref(),
            dbfifo.as_os_str(),
            src.as_os_str(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("advisory database"), "{}", r.stderr);
    assert!(r.stderr.contains("is a FIFO"), "{}", r.stderr);
}

fn small_image(dir: &Path) -> String {
    oci(
        dir,
        "small",
        &[layer(debian_layer(&[("bash", "5.2-1")], vec![]))],
    )
}

#[test]
fn exit_code_2_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let t = small_image(d.path());
    let r = moat(
        d.path(),
        &["scan", "--exit-code", "2", "--offline", t.as_str()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("2 is the exit code of errors"),
        "{}",
        r.stderr
    );
    let r = moat(d.path(), &["scan", "--exit-code", "300", t.as_str()]);
    assert_eq!(r.code, 2);
}

#[test]
fn timeout_stops_the_command_with_exit_2() {
    let d = tempfile::tempdir().unwrap();
    // 16 MiB that no analyzer wants: still decompressed and hashed, well over 1 ms.
    let mut noise = Vec::with_capacity(16 << 20);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while noise.len() < 16 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    let t = oci(
        d.path(),
        "big",
        &[fast_layer(debian_layer(
            &[("bash", "5.2-1")],
            vec![E::File("noise", noise)],
        ))],
    );
    let r = moat(d.path(), &["inventory", "--timeout", "1ms", t.as_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("moat: error: timed out"),
        "{}",
        r.stderr
    );
    let r = moat(d.path(), &["inventory", "--timeout", "soon", t.as_str()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("expected a duration"), "{}", r.stderr);
    let r = moat(
        d.path(),
        &["inventory", "--timeout", "5m", "-q", t.as_str()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

// ---- what moat already handled ---------------------------------------------------------

/// The only blob file of the layout holding `bytes`.
fn blob(dir: &Path, bytes: &[u8]) -> PathBuf {
    dir.join("blobs/sha256").join(&sha256(bytes)[7..])
}

#[test]
fn broken_layers_are_errors_naming_the_layer() {
    let d = tempfile::tempdir().unwrap();
    // Truncated gzip.
    let l = layer(debian_layer(&[("bash", "5.2-1")], vec![]));
    let t = oci(d.path(), "trunc", std::slice::from_ref(&l));
    let p = blob(&d.path().join("trunc"), &l.blob);
    std::fs::write(&p, &l.blob[..l.blob.len() / 2]).unwrap();
    let r = moat(d.path(), &["inventory", t.as_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("layer"), "{}", r.stderr);

    // Digest mismatch: same size, one byte changed.
    let l = layer(debian_layer(&[("bash", "5.2-1")], vec![]));
    let t = oci(d.path(), "digest", std::slice::from_ref(&l));
    let p = blob(&d.path().join("digest"), &l.blob);
    let mut b = l.blob.clone();
    let n = b.len();
    b[n - 9] ^= 0xff;
    std::fs::write(&p, &b).unwrap();
    let r = moat(d.path(), &["inventory", t.as_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("moat: error:"), "{}", r.stderr);

    // Size lie: the blob is longer than its descriptor says.
    let l = layer(debian_layer(&[("bash", "5.2-1")], vec![]));
    let t = oci(d.path(), "size", std::slice::from_ref(&l));
    let p = blob(&d.path().join("size"), &l.blob);
    let mut b = l.blob.clone();
    b.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&p, &b).unwrap();
    let r = moat(d.path(), &["inventory", t.as_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);

    // Decompression bomb: 256 MiB of zeros in a few hundred KiB, over the ratio.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    {
        let mut tarb = tar::Builder::new(&mut enc);
        let mut h = tar::Header::new_gnu();
        h.set_size(256 << 20);
        h.set_mode(0o644);
        h.set_cksum();
        tarb.append_data(
            &mut h,
            "zeros",
            std::io::Read::take(std::io::repeat(0), 256 << 20),
        )
        .unwrap();
        tarb.finish().unwrap();
    }
    let bomb_blob = enc.finish().unwrap();
    let bomb = TestLayer {
        blob: bomb_blob,
        tar: Vec::new(),
        created_by: "bomb",
    };
    let t = oci(d.path(), "bomb", &[bomb]);
    let r = moat(d.path(), &["inventory", t.as_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("ratio") || r.stderr.contains("limit"),
        "{}",
        r.stderr
    );

    // Path traversal.
    let t = oci(
        d.path(),
        "traversal",
        &[layer(vec![E::RawFile("../../etc/evil", b"x".to_vec())])],
    );
    // A name leaving the root is an error naming it (Docker refuses such a layer too).
    let r = moat(d.path(), &["inventory", t.as_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("../../etc/evil"), "{}", r.stderr);
}

#[test]
fn index_loop_is_cut_at_the_depth_limit() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("loop");
    write_oci(&dir, &[layer(debian_layer(&[("bash", "5.2-1")], vec![]))]);
    // Wrap the index in 20 more indexes, each pointing at the one below.
    let blobs = dir.join("blobs/sha256");
    let mut inner = std::fs::read(dir.join("index.json")).unwrap();
    for _ in 0..20 {
        let digest = sha256(&inner);
        std::fs::write(blobs.join(&digest[7..]), &inner).unwrap();
        inner = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest, "size": inner.len()}]}))
        .unwrap();
    }
    std::fs::write(dir.join("index.json"), &inner).unwrap();
    let r = moat(d.path(), &["inventory", &format!("oci:{}", dir.display())]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("image indexes nested deeper than 8 levels"),
        "{}",
        r.stderr
    );
}

#[test]
fn deep_json_and_yaml_alias_bombs_are_warnings() {
    let d = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_lock = format!(
        "{{\"name\":\"x\",\"lockfileVersion\":3,\"packages\":{}}}",
        deep
    );
    let mut alias =
        String::from("lockfileVersion: '9.0'\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        let p = i - 1;
        alias.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    alias.push_str("packages:\n  /x@1.0.0: *a29\n");
    let entries = vec![
        E::File("app/package-lock.json", deep_lock.into_bytes()),
        E::File("web/pnpm-lock.yaml", alias.into_bytes()),
    ];
    let t = oci(d.path(), "img", &[layer(entries)]);
    let r = moat(d.path(), &["inventory", "--format", "json", t.as_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = json(&r);
    let diags = inv["diagnostics"].as_array().unwrap();
    let at = |p: &str| diags.iter().any(|d| d["path"].as_str() == Some(p));
    assert!(at("/app/package-lock.json"), "{diags:?}");
    assert!(at("/web/pnpm-lock.yaml"), "{diags:?}");

    // An SBOM nested 100,000 deep: an error naming the file, exit 2.
    let sbom = d.path().join("deep.cdx.json");
    std::fs::write(
        &sbom,
        format!("{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":{deep}}}"),
    )
    .unwrap();
    let r = moat(
        d.path(),
        &["inventory".to_string(), format!("sbom:{}", sbom.display())],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("deep.cdx.json"), "{}", r.stderr);

    // A file that is no JSON at all: named once, its cause said once (no `X: X`).
    let bad = d.path().join("notjson.cdx.json");
    std::fs::write(&bad, "this is not json").unwrap();
    let r = moat(
        d.path(),
        &["inventory".to_string(), format!("sbom:{}", bad.display())],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("notjson.cdx.json").count(),
        1,
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("not valid JSON").count(),
        1,
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("line 1 column 2").count(),
        1,
        "{}",
        r.stderr
    );
}

/// A zip (jar) with `entries` (name, bytes), deflated.
fn jar(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

#[test]
fn jar_bombs_and_deep_nesting_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let pom = |a: &str| format!("groupId=org.example\nartifactId={a}\nversion=1.0\n").into_bytes();
    // A manifest of 300 MiB of zeros (a few hundred KiB deflated).
    let bomb = jar(&[
        ("META-INF/MANIFEST.MF", vec![0u8; 300 << 20]),
        (
            "META-INF/maven/org.example/bomb/pom.properties",
            pom("bomb"),
        ),
    ]);
    // Jars nested twelve deep.
    let mut nested = jar(&[("META-INF/maven/org.example/n12/pom.properties", pom("n12"))]);
    for i in (0..12).rev() {
        nested = jar(&[
            (
                leak(format!("META-INF/maven/org.example/n{i}/pom.properties")),
                pom(&format!("n{i}")),
            ),
            (leak(format!("lib/n{}.jar", i + 1)), nested),
        ]);
    }
    let entries = vec![
        E::File("app/bomb.jar", bomb),
        E::File("app/nested.jar", nested),
    ];
    let t = oci(d.path(), "img", &[layer(entries)]);
    let r = moat(d.path(), &["inventory", "--format", "json", t.as_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = json(&r);
    let names: Vec<&str> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("n0")), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with("n12")), "{names:?}");
}

#[test]
fn symlink_loops_and_dangling_hardlinks_are_warnings() {
    let d = tempfile::tempdir().unwrap();
    let entries = debian_layer(
        &[("bash", "5.2-1")],
        vec![
            E::Symlink("app/a", "b"),
            E::Symlink("app/b", "a"),
            E::Symlink("app/package-lock.json", "a"),
            E::Hardlink("app/requirements.txt", "nowhere/at/all"),
        ],
    );
    let t = oci(d.path(), "img", &[layer(entries)]);
    let r = moat(d.path(), &["inventory", "--format", "json", t.as_str()]);
    // The loop and the dangling hardlink are warnings; the rest of the image is read.
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = json(&r);
    assert!(
        inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "bash")
    );
    assert!(r.stderr.contains("nowhere"), "{}", r.stderr);
}

#[test]
fn a_plain_image_still_scans_under_the_limits() {
    let d = tempfile::tempdir().unwrap();
    let t = small_image(d.path());
    let r = moat(d.path(), &["inventory", t.as_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("bash"));
}

// ---- the advisory database as a file others can touch ----

/// A directory of `n` OSV records `<prefix>-<i>` for PyPI package `<prefix>-pkg`.
fn osv_dir(dir: &Path, prefix: &str, n: usize) -> PathBuf {
    let d = dir.join(format!("osv-{prefix}"));
    std::fs::create_dir_all(&d).unwrap();
    for i in 0..n {
        let rec = serde_json::json!({
            "id": format!("{prefix}-{i}"),
            "modified": "2024-01-01T00:00:00Z",
            "affected": [{
                "package": {"ecosystem": "PyPI", "name": format!("{prefix}-pkg")},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]
            }]
        });
        std::fs::write(d.join(format!("{prefix}-{i}.json")), rec.to_string()).unwrap();
    }
    d
}

/// The `records:` line of `moat db status`.
fn db_records(home: &Path, db: &Path) -> u64 {
    let r = moat(home, &["db", "status", "--db", db.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .find_map(|l| l.strip_prefix("records:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn db_import_refuses_files_that_are_not_moat_databases() {
    let d = tempfile::tempdir().unwrap();
    let src = osv_dir(d.path(), "A", 2);
    let src = src.to_str().unwrap();
    // A text file and another program's SQLite database are kept, byte for byte.
    let text = d.path().join("notes.txt");
    std::fs::write(&text, b"my notes\n").unwrap();
    let other = d.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (42);")
        .unwrap();
    let other_bytes = std::fs::read(&other).unwrap();
    // `update` replaces only what is no SQLite database at all (that is how it has always
    // repaired a corrupt database: it downloads everything again); another program's SQLite
    // database it refuses too.
    for (file, why, cmds) in [
        (&text, "not an SQLite database", &["import"][..]),
        (&other, "no meta table", &["import", "update"][..]),
    ] {
        for &cmd in cmds {
            let mut args = vec!["db", cmd, "--db", file.to_str().unwrap()];
            if cmd == "import" {
                args.push(src);
            }
            let r = moat(d.path(), &args);
            assert_eq!(r.code, 2, "{cmd} {file:?}: {}", r.stderr);
            assert!(
                r.stderr.contains("is not a moat advisory database")
                    && r.stderr.contains(why)
                    && r.stderr.contains("--force"),
                "{}",
                r.stderr
            );
        }
    }
    assert_eq!(std::fs::read(&text).unwrap(), b"my notes\n");
    assert_eq!(std::fs::read(&other).unwrap(), other_bytes);
    // With --force the file is replaced by a database.
    let r = moat(
        d.path(),
        &[
            "db",
            "import",
            "--force",
            "--db",
            text.to_str().unwrap(),
            src,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("replacing"), "{}", r.stderr);
    assert_eq!(db_records(d.path(), &text), 2);
}

#[test]
fn db_import_through_a_symlink_keeps_the_link() {
    let d = tempfile::tempdir().unwrap();
    let real_dir = d.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("moat.db");
    let link = d.path().join("link.db");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    for (prefix, n) in [("A", 3), ("B", 2)] {
        let src = osv_dir(d.path(), prefix, n);
        let r = moat(
            d.path(),
            &[
                "db",
                "import",
                "--db",
                link.to_str().unwrap(),
                src.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(real.is_file());
    assert_eq!(db_records(d.path(), &real), 5);
    // Nothing is left beside the target or the link: no temporary, no lock file.
    assert!(!real_dir.join("moat.db.lock").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&real_dir)
        .unwrap()
        .chain(std::fs::read_dir(d.path()).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn concurrent_imports_both_keep_their_records() {
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("moat.db");
    let a = osv_dir(d.path(), "A", 1500);
    let b = osv_dir(d.path(), "B", 1500);
    let home = d.path().to_path_buf();
    let runs: Vec<_> = [a, b]
        .into_iter()
        .map(|src| {
            let (home, db) = (home.clone(), db.clone());
            std::thread::spawn(move || {
                moat(
                    &home,
                    &[
                        "db",
                        "import",
                        "--db",
                        db.to_str().unwrap(),
                        src.to_str().unwrap(),
                    ],
                )
            })
        })
        .collect();
    for r in runs {
        let r = r.join().unwrap();
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("imported 1500 records"), "{}", r.stdout);
    }
    assert_eq!(db_records(d.path(), &db), 3000);
}

#[test]
fn a_second_writer_waits_for_the_lock_then_fails_clearly() {
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("moat.db");
    let src = osv_dir(d.path(), "A", 1);
    let held = std::fs::File::create(d.path().join("moat.db.lock")).unwrap();
    held.lock().unwrap();
    let t = Instant::now();
    let r = moat(
        d.path(),
        &[
            "db",
            "import",
            "--lock-timeout",
            "1",
            "--db",
            db.to_str().unwrap(),
            src.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(t.elapsed() >= Duration::from_secs(1));
    assert!(
        r.stderr
            .contains("waiting up to 1 s for another import or update")
            && r.stderr.contains("held by another import or update"),
        "{}",
        r.stderr
    );
    assert!(!db.exists());
    held.unlock().unwrap();
    let r = moat(
        d.path(),
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            src.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn stale_temporaries_of_killed_writers_are_removed() {
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("moat.db");
    let src = osv_dir(d.path(), "A", 1);
    // A pid above Linux's maximum (2^22) is never alive.
    let stale = d.path().join("moat.db.tmp-99999999");
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    let r = moat(
        d.path(),
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            src.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!stale.exists());
}

#[test]
fn a_damaged_database_is_not_wiped_by_import_without_force() {
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("moat.db");
    let a = osv_dir(d.path(), "A", 2);
    let b = osv_dir(d.path(), "B", 1);
    let r = moat(
        d.path(),
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            a.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A newer schema version.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let r = moat(
        d.path(),
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("schema version 99")
            && r.stderr.contains("does not rebuild it")
            && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let r = moat(
        d.path(),
        &[
            "db",
            "import",
            "--force",
            "--db",
            db.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("rebuilding"), "{}", r.stderr);
    assert_eq!(db_records(d.path(), &db), 1);
}

#[test]
fn an_import_of_nothing_recognisable_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("moat.db");
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let zip = d.path().join("all.zip");
    std::fs::write(&zip, b"PK\x03\x04 this is no zip archive").unwrap();
    let docker = d.path().join("image.tar");
    std::fs::write(
        &docker,
        common::tar(&[E::File("manifest.json", b"[]".to_vec())]),
    )
    .unwrap();
    for (p, what) in [
        (&empty, "no files"),
        (&zip, "unreadable"),
        (&docker, "no advisory format"),
    ] {
        let r = moat(
            d.path(),
            &[
                "db",
                "import",
                "--db",
                db.to_str().unwrap(),
                p.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 2, "{p:?}: {} {}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("nothing to import") && r.stderr.contains(what),
            "{p:?}: {}",
            r.stderr
        );
        assert!(!r.stdout.contains("imported 0 records"));
    }
    assert!(!db.exists());
}

// ---- per-format size budgets and streaming parsers (issue 9, memory) -------------------

/// A `package-lock.json` v3 of `n` entries (about 200 bytes each).
fn package_lock(n: usize) -> String {
    let mut s = String::from(
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"packages\":{\"\":{\"name\":\"app\",\"version\":\"1.0.0\"}",
    );
    for i in 0..n {
        s.push_str(&format!(
            ",\"node_modules/p{i:07}\":{{\"version\":\"1.{}.0\",\"resolved\":\"https://registry.npmjs.org/p{i:07}/-/p{i:07}-1.0.0.tgz\",\"integrity\":\"sha512-{i:064}\",\"license\":\"MIT\"}}",
            i % 10
        ));
    }
    s.push_str("}}");
    s
}

#[test]
fn over_budget_lockfiles_are_skipped_and_the_rest_is_scanned() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("t");
    let put = |rel: &str, bytes: &[u8]| {
        let p = t.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    // Valid documents padded past their budgets (64 MiB, 16 MiB, 32 MiB).
    let mut big_lock = package_lock(10).into_bytes();
    big_lock.resize((64 << 20) + 1, b' ');
    put("big/package-lock.json", &big_lock);
    drop(big_lock);
    let mut gradle = b"org.slf4j:slf4j-api:2.0.9=runtimeClasspath\n".to_vec();
    gradle.resize((16 << 20) + 1, b'\n');
    put("java/gradle.lockfile", &gradle);
    let mut yarn = b"# yarn lockfile v1\n\n".to_vec();
    yarn.resize((32 << 20) + 1, b'\n');
    put("y/yarn.lock", &yarn);
    // Within budget: read.
    put("small/package-lock.json", package_lock(3).as_bytes());
    put(
        "java2/gradle.lockfile",
        b"com.google.guava:guava:32.1.2-jre=compileClasspath\n",
    );
    let target = format!("dir:{}", t.display());
    let r = moat(
        d.path(),
        &["inventory", "--format", "json", target.as_str()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = json(&r);
    let diag = |path: &str| {
        inv["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"].as_str() == Some(path))
            .map(|d| {
                (
                    d["code"].clone(),
                    d["message"].as_str().unwrap().to_string(),
                )
            })
    };
    assert_eq!(
        diag("/big/package-lock.json"),
        Some((
            "too-large".into(),
            "67108865 bytes is over the package-lock.json budget of 64 MiB; skipped".into()
        )),
        "{:?}",
        inv["diagnostics"]
    );
    assert_eq!(
        diag("/java/gradle.lockfile").map(|d| d.1),
        Some("16777217 bytes is over the gradle.lockfile budget of 16 MiB; skipped".into())
    );
    assert_eq!(
        diag("/y/yarn.lock").map(|d| d.1),
        Some("33554433 bytes is over the yarn.lock budget of 32 MiB; skipped".into())
    );
    let names: Vec<&str> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    // Nothing of the skipped files, everything of the others.
    assert!(!names.contains(&"slf4j-api") && !names.contains(&"org.slf4j:slf4j-api"));
    assert!(!names.contains(&"p0000009"), "{names:?}");
    for n in ["app", "p0000000", "p0000001", "p0000002"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    assert!(names.iter().any(|n| n.ends_with("guava")), "{names:?}");
    // On the terminal: the warning names the file and the budget.
    let r = moat(d.path(), &["inventory", target.as_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("/big/package-lock.json") && r.stderr.contains("budget of 64 MiB"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_large_lockfile_within_budget_is_read_streaming_and_capped() {
    // 150,000 entries (about 30 MiB): read under the suite's memory limit; the first
    // 100,000 by key are kept, with a warning for the rest.
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("t/app");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(t.join("package-lock.json"), package_lock(150_000)).unwrap();
    let mut gradle = String::new();
    for i in 0..150_000 {
        gradle.push_str(&format!("org.example:lib{i:06}:1.0.{i}=runtimeClasspath\n"));
    }
    let g = d.path().join("t/java");
    std::fs::create_dir_all(&g).unwrap();
    std::fs::write(g.join("gradle.lockfile"), gradle).unwrap();
    let target = format!("dir:{}", d.path().join("t").display());
    let r = moat(
        d.path(),
        &["inventory", "--format", "json", target.as_str()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = json(&r);
    let packages = inv["packages"].as_array().unwrap();
    let npm = packages.iter().filter(|p| p["type"] == "npm").count();
    let maven = packages.iter().filter(|p| p["type"] == "maven").count();
    assert_eq!((npm, maven), (100_000, 100_000));
    let msgs = messages(&inv);
    assert!(
        msgs.contains(&"more than 100000 packages; the rest is not read".to_string()),
        "{msgs:?}"
    );
    assert!(
        msgs.contains(&"more than 100000 dependencies; the rest is not read".to_string()),
        "{msgs:?}"
    );
}

#[test]
fn an_sbom_over_its_budget_is_an_error_naming_the_budget() {
    let d = tempfile::tempdir().unwrap();
    let sbom = d.path().join("huge.cdx.json");
    let mut doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}"#.to_vec();
    doc.resize((256 << 20) + 1, b' ');
    std::fs::write(&sbom, doc).unwrap();
    let r = moat(
        d.path(),
        &["inventory".to_string(), format!("sbom:{}", sbom.display())],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("huge.cdx.json") && r.stderr.contains("SBOM budget of 256 MiB"),
        "{}",
        r.stderr
    );
}

/// Issue 9: "a 300 MB advisory summary was imported whole". An OSV record with a 64 MiB
/// summary is imported under the memory limit and reaches a scan's findings cut to
/// `MAX_SUMMARY` (1,024 bytes, with a marker), not whole.
#[test]
fn an_oversized_advisory_summary_is_cut_on_import() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("osv-big");
    std::fs::create_dir_all(&src).unwrap();
    let rec = serde_json::json!({
        "id": "BIG-1",
        "modified": "2024-01-01T00:00:00Z",
        "summary": "s".repeat(64 << 20),
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": "bigsummary"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]
        }]
    });
    std::fs::write(src.join("BIG-1.json"), rec.to_string()).unwrap();
    let db = d.path().join("moat.db");
    let db_arg = db.to_str().unwrap();
    let r = moat(
        d.path(),
        &["db", "import", "--db", db_arg, src.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(db_records(d.path(), &db), 1);
    let app = d.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("requirements.txt"), "bigsummary==0.5\n").unwrap();
    let t = format!("dir:{}", app.display());
    let r = moat(
        d.path(),
        &[
            "scan",
            "--offline",
            "--db",
            db_arg,
            "-f",
            "json",
            "-q",
            t.as_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.len() < 64 << 10,
        "{} bytes of report",
        r.stdout.len()
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let text = v.to_string();
    assert!(text.contains("BIG-1"), "{text}");
    assert!(text.contains("[truncated, 67108864 bytes]"), "{text}");
}

#[test]
fn a_scan_refuses_an_advisory_db_whose_schema_is_code() {
    let d = tempfile::tempdir().unwrap();
    let src = osv_dir(d.path(), "A", 2);
    let t = small_image(d.path());
    for (name, sql, what) in [
        (
            "generated.db",
            "ALTER TABLE advisories ADD COLUMN boom TEXT \
             GENERATED ALWAYS AS (printf('%.*c', 1000000000, 'x')) VIRTUAL",
            "generated column \"advisories.boom\"",
        ),
        (
            "view.db",
            "CREATE VIEW v AS SELECT hex(zeroblob(1000000000))",
            "view \"v\"",
        ),
    ] {
        let db = d.path().join(name);
        let db_s = db.to_str().unwrap();
        let r = moat(
            d.path(),
            &["db", "import", "--db", db_s, src.to_str().unwrap()],
        );
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        // refused before any advisory is read: exit 2, the file and the reason named
        let r = moat(d.path(), &["scan", "--offline", "--db", db_s, t.as_str()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(db_s), "{name}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("not written by moat: the schema has a {what}")),
            "{name}: {}",
            r.stderr
        );
    }
}

/// Go build info as the linker writes it inline (Go 1.18+): magic, pointer size, flags,
/// then the version and the module info as varint-prefixed strings.
fn go_buildinfo(version: &str, modinfo: &str) -> Vec<u8> {
    let mut b = b"\xff Go buildinf:".to_vec();
    b.extend([8, 2]);
    b.resize(32, 0);
    for s in [version, modinfo] {
        let mut n = s.len();
        while n >= 0x80 {
            b.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        b.push(n as u8);
        b.extend_from_slice(s.as_bytes());
    }
    b
}

#[test]
fn go_module_lines_without_a_path_are_warnings_not_nameless_packages() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    std::fs::create_dir_all(root.join("app")).unwrap();
    // `path`, `mod`, a `dep` and a replacement, each with an empty module path
    let sentinel = "0123456789abcdef";
    let info = format!(
        "{sentinel}path\t\nmod\t\tv1.0.0\t\ndep\t\tv1.0.0\th1:x=\ndep\ta\tv1.0.0\th1:x=\n=>\t\tv2.0.0\t\n{sentinel}"
    );
    let mut bin = b"\x7fELF".to_vec();
    bin.resize(64, 0);
    bin.extend(go_buildinfo("go1.22.0", &info));
    let tool = root.join("app/tool");
    std::fs::write(&tool, bin).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let target = format!("dir:{}", root.display());
    let r = moat(
        d.path(),
        &["inventory", "--format", "json", target.as_str()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = json(&r);
    let pkgs: Vec<(String, String)> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["purl"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        pkgs,
        [
            ("a".to_string(), "pkg:golang/a@v1.0.0".to_string()),
            (
                "stdlib".to_string(),
                "pkg:golang/stdlib@v1.22.0".to_string()
            )
        ]
    );
    assert!(
        r.stderr
            .contains("/app/tool: Go module info has 4 unreadable line(s)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_file_over_the_analyzer_budget_is_a_warning_and_the_scan_goes_on() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    std::fs::create_dir_all(root.join("app")).unwrap();
    // About 13 MB of lockfile: its parse takes 100-300 ms in a debug build, over a budget of
    // 50 ms, which the one-line requirements.txt stays far under even on a loaded machine (a
    // budget of 1 ms made it a second `slow-file` under CI's parallel tests: it took 2 ms).
    std::fs::write(root.join("app/package-lock.json"), package_lock(60_000)).unwrap();
    std::fs::write(root.join("app/requirements.txt"), "requests==2.0.0\n").unwrap();
    let target = format!("dir:{}", root.display());
    let r = moat(
        d.path(),
        &[
            "inventory",
            "--format",
            "json",
            "--analyzer-timeout",
            "50ms",
            target.as_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = json(&r);
    let names: Vec<&str> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["requests"]);
    let warning = "analyzer npm-lock was abandoned on this file after the per-file budget of 50 ms (--analyzer-timeout); the scan went on without its result";
    assert!(
        r.stderr
            .contains(&format!("/app/package-lock.json: {warning}")),
        "{}",
        r.stderr
    );
    assert_eq!(
        inv["diagnostics"],
        serde_json::json!([{"code": "slow-file", "message": warning, "path": "/app/package-lock.json"}])
    );
}
