//! Shared helpers for the CLI tests: running the binary, finding ../shared data, and
//! building small OCI images in memory.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod registry;
pub mod serve;

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Runs the `moat` binary built for this test run, with a cache directory of its own
/// (removed afterwards): the layer cache would otherwise carry what one test analysed into
/// another (and into the developer's `~/.cache`).
pub fn moat<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let cache = tempfile::tempdir().expect("tempdir");
    std::process::Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .expect("the moat binary runs")
}

/// The `moat` binary with an environment that cannot reach the network or the user's cache:
/// no `MOAT_DB`, an unroutable `MOAT_DB_URL`, `HOME` and `XDG_CACHE_HOME` under `home`, no
/// colour, run from `home`.
pub fn isolated(home: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_moat"));
    c.env_remove("MOAT_DB")
        .env("MOAT_DB_URL", "http://127.0.0.1:9")
        .env("XDG_CACHE_HOME", home.join("cache"))
        // Never the developer's own configuration file.
        .env_remove("MOAT_CONFIG")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("MOAT_DEBUG")
        .current_dir(home);
    c
}

pub fn run(c: &mut std::process::Command) -> Output {
    c.output().expect("the moat binary runs")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

/// `moat db import --db DIR/NAME SRC`: an advisory database of `src`, in `dir`.
pub fn build_db(dir: &Path, name: &str, src: &Path) -> PathBuf {
    build_db_from(dir, name, &[src])
}

/// A database imported from several sources (files or directories), in order.
pub fn build_db_from(dir: &Path, name: &str, sources: &[&Path]) -> PathBuf {
    let db = dir.join(name);
    let mut args = vec![
        "db".as_ref(),
        "import".as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
    ];
    args.extend(sources.iter().map(|s| s.as_os_str()));
    let o = moat(args);
    assert!(o.status.success(), "db import: {}", stderr(&o));
    db
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Returns the directory if it exists; otherwise fails under CI and skips elsewhere.
pub fn needed(dir: PathBuf, what: &str) -> Option<PathBuf> {
    if dir.exists() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{what} is missing at {} (CI=true): run .ci/run's setup first",
            dir.display()
        );
    }
    eprintln!("skipped: {what} not found at {}", dir.display());
    None
}

/// `$MOAT_IMAGES/out`, the images built by ../shared/images/build-all.sh.
pub fn images() -> Option<PathBuf> {
    let base = std::env::var_os("MOAT_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/moat-images".into());
    needed(
        base.join("out"),
        "the shared images (../shared/images/build-all.sh)",
    )
}

/// `$MOAT_PEERS/bin`, the peer tools and validators of ../shared/peers/setup.sh.
pub fn peers() -> Option<PathBuf> {
    let base = std::env::var_os("MOAT_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/moat-peers".into());
    needed(
        base.join("bin"),
        "the peer tools (../shared/peers/setup.sh)",
    )
}

/// The repository's `../shared` directory.
pub fn shared() -> Option<PathBuf> {
    needed(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        "../shared",
    )
}

pub fn sha256(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// One tar entry of a test layer.
pub enum E {
    File(&'static str, Vec<u8>),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    Hardlink(&'static str, &'static str),
    /// A raw header name, written without checks (for `../` and absolute names).
    RawFile(&'static str, Vec<u8>),
    /// A regular file with these permission bits (`0o4755`).
    FileMode(&'static str, u32, Vec<u8>),
}

/// Builds an uncompressed tar from entries.
pub fn tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            E::File(p, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, data.as_slice()).expect("tar file");
            }
            E::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, p, std::io::empty()).expect("tar dir");
            }
            E::Symlink(p, t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, p, t).expect("tar symlink");
            }
            E::Hardlink(p, t) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_mode(0o644);
                h.set_size(0);
                b.append_link(&mut h, p, t).expect("tar hardlink");
            }
            E::FileMode(p, mode, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, data.as_slice()).expect("tar file");
            }
            E::RawFile(p, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                let name = p.as_bytes();
                h.as_old_mut().name[..name.len()].copy_from_slice(name);
                h.set_cksum();
                b.append(&h, data.as_slice()).expect("tar raw");
            }
        }
    }
    b.into_inner().expect("tar finish")
}

pub fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(b).expect("gzip");
    e.finish().expect("gzip")
}

/// A layer as stored (blob) and its uncompressed tar (for the diff_id).
pub struct TestLayer {
    pub blob: Vec<u8>,
    pub tar: Vec<u8>,
    pub created_by: &'static str,
}

impl TestLayer {
    pub fn gz(entries: &[E], created_by: &'static str) -> TestLayer {
        let t = tar(entries);
        TestLayer {
            blob: gzip(&t),
            tar: t,
            created_by,
        }
    }
}

/// Writes an OCI image layout with one linux/amd64 image to `dir`.
pub fn write_oci(dir: &Path, layers: &[TestLayer]) {
    write_oci_config(dir, layers, serde_json::Value::Null);
}

/// [`write_oci`] with the image config's run config (`{"User": "app", ...}`; `null` for none).
pub fn write_oci_config(dir: &Path, layers: &[TestLayer], run: serde_json::Value) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let put = |b: &[u8]| {
        let d = sha256(b);
        std::fs::write(blobs.join(&d[7..]), b).expect("write blob");
        d
    };
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(&l.tar)).collect();
    let history: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| serde_json::json!({"created_by": l.created_by}))
        .collect();
    let mut config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    });
    if !run.is_null() {
        config["config"] = run;
    }
    let cfg = serde_json::to_vec(&config).expect("json");
    let ldesc: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(&l.blob), "size": l.blob.len()})
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(&cfg), "size": cfg.len()},
        "layers": ldesc,
    });
    let man = serde_json::to_vec(&manifest).expect("json");
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(&man), "size": man.len(),
        "platform": {"os": "linux", "architecture": "amd64"},
        "annotations": {"org.opencontainers.image.ref.name": "test:latest"}}]});
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&index).expect("json"),
    )
    .expect("write");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
}

/// A minimal Debian-like base layer: os-release and a status file with the given packages.
pub fn debian_layer(pkgs: &[(&str, &str)], extra: Vec<E>) -> Vec<E> {
    let mut e = vec![
        E::File("usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n".to_vec()),
        E::Symlink("etc/os-release", "../usr/lib/os-release"),
        E::File("var/lib/dpkg/status", status(pkgs)),
    ];
    e.extend(extra);
    e
}

/// A dpkg status file with installed packages (name, version).
pub fn status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::new();
    for (n, v) in pkgs {
        s.push_str(&format!(
            "Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\nDescription: test\n\n"
        ));
    }
    s.into_bytes()
}

/// Runs `moat args...` through `sh` with its address space limited to `kib` KiB (`ulimit
/// -v`), killed past `wall` (a guard against hangs, not a speed test); `setup` adds the
/// environment and directory. The pipes are drained on threads, so a chatty child cannot
/// block on a full pipe. Returns the output and the seconds it took.
pub fn run_under_limits<S: AsRef<std::ffi::OsStr>>(
    kib: u64,
    wall: std::time::Duration,
    args: &[S],
    setup: impl FnOnce(&mut std::process::Command),
) -> (Output, f64) {
    use std::process::{Command, Stdio};
    let start = std::time::Instant::now();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_moat"))
        .args(args);
    setup(&mut c);
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            r.read_to_end(&mut b).ok();
            b
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > wall {
            child.kill().ok();
            child.wait().ok();
            let args: Vec<_> = args.iter().map(|a| a.as_ref().to_os_string()).collect();
            panic!("moat {args:?} ran past {wall:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let o = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (o, start.elapsed().as_secs_f64())
}

/// Compares with a golden file; `MOAT_UPDATE_GOLDEN=1` rewrites it.
pub fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("MOAT_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden {}", path.display()));
    assert!(
        want == got,
        "{name} differs from its golden file (MOAT_UPDATE_GOLDEN=1 to accept):\n--- want\n{want}\n--- got\n{got}"
    );
}
