//! A real registry for the tests: Debian's `docker-registry` on 127.0.0.1 (a free port, killed
//! on drop), images pushed with `skopeo`, `moat` run with a standard input.

use super::*;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the registry tools are there (false: skip, with a message); a panic under
/// CI=true.
pub fn registry_tools() -> bool {
    for tool in ["docker-registry", "skopeo", "htpasswd", "openssl", "curl"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{tool} is missing (CI=true): .ci/run installs it");
            }
            eprintln!("skipped: {tool} not found");
            return false;
        }
    }
    true
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running docker-registry, killed on drop.
pub struct Registry {
    pub child: Child,
    pub port: u16,
    pub storage: PathBuf,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts docker-registry on a free port with `extra` appended to its config (`auth:`, TLS
/// under `http:` goes in `http_extra`).
pub fn start_registry(dir: &Path, auth: &str, http_extra: &str) -> Registry {
    let port = free_port();
    let storage = dir.join("storage");
    std::fs::create_dir_all(&storage).unwrap();
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{http_extra}{auth}",
            storage.display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("registry.log")).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut reg = Registry {
        child,
        port,
        storage,
    };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(st)) = reg.child.try_wait() {
            panic!(
                "docker-registry exited ({st}): {}",
                std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default()
            );
        }
        assert!(start.elapsed() < Duration::from_secs(30), "registry start");
        std::thread::sleep(Duration::from_millis(100));
    }
    reg.port = port;
    reg
}

pub fn skopeo_push(src: &Path, dest: &str, extra: &[&str]) {
    let o = Command::new("skopeo")
        .args(["copy", "-q"])
        .args(extra)
        .arg(format!("oci:{}:latest", src.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .unwrap();
    assert!(o.status.success(), "skopeo: {}", stderr(&o));
}

/// `moat ARGS` isolated in `home`, with `stdin` as standard input.
pub fn moat_in(home: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut c = isolated(home);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A one-layer Debian image with `pkgs` and an `etc/marker` holding `marker`, as an OCI
/// layout in `dir` whose image is named `latest`; `dir` back.
pub fn debian_layout(dir: &Path, pkgs: &[(&str, &str)], marker: &str) -> PathBuf {
    let layer = TestLayer::gz(
        &debian_layer(
            pkgs,
            vec![E::File("etc/marker", marker.as_bytes().to_vec())],
        ),
        "test",
    );
    write_oci(dir, &[layer]);
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    std::fs::write(
        dir.join("index.json"),
        index.replace("\"test:latest\"", "\"latest\""),
    )
    .unwrap();
    dir.to_path_buf()
}
