//! `moat watch --live`: real processes (a shell in a new PID and mount namespace made with
//! `unshare`, placed in a fake Docker container cgroup when a cgroup v2 hierarchy is
//! writable) watched through the process-events connector and through /proc polling, with
//! the exact alerts checked. Needs root and `unshare`: without them the tests say so and
//! pass (they are not the kind of thing CI=true can demand of an unprivileged runner).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

fn has_unshare() -> bool {
    Command::new("unshare")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the live tests can run here; prints why not.
fn can_run() -> bool {
    if !is_root() {
        eprintln!("skipping: the live tests need root (the connector, unshare, cgroups)");
        return false;
    }
    if !has_unshare() {
        eprintln!("skipping: the live tests need unshare (util-linux)");
        return false;
    }
    true
}

/// A writable cgroup v2 hierarchy (its mount point), for a fake container's cgroup.
fn cgroup2() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    let dir = mounts.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() > 2 && f[2] == "cgroup2").then(|| PathBuf::from(f[1]))
    })?;
    let probe = dir.join(format!("moat-live-probe-{}", std::process::id()));
    std::fs::create_dir(&probe).ok()?;
    std::fs::remove_dir(&probe).ok()?;
    Some(dir)
}

fn rules(mark: &str) -> String {
    format!(
        r#"
- macro: spawned_process
  condition: (evt.type in (execve, execveat) and evt.dir=<)
- rule: Shell in container
  desc: a shell in a container
  condition: spawned_process and proc.name in (sh, bash) and container.id != host and proc.cmdline contains {mark}
  output: "Shell in container (cmd=%proc.cmdline container=%container.id name=%container.name image=%container.image.repository tag=%container.image.tag vpid=%proc.vpid parent=%proc.pname user=%user.name)"
  priority: WARNING
  tags: [container, shell]
- rule: Namespace init shell
  desc: a shell as PID 1 of a new PID namespace
  condition: spawned_process and proc.name = sh and proc.vpid = 1 and proc.pname = unshare and proc.cmdline contains {mark}
  output: "Namespace init shell (cmd=%proc.cmdline exe=%proc.exe grandparent=%proc.aname[2])"
  priority: NOTICE
- rule: Host shell
  desc: a shell on the host
  condition: spawned_process and proc.name = sh and container.id = host and proc.vpid != 1 and proc.cmdline contains {mark}
  output: "Host shell (cmd=%proc.cmdline args=%proc.args user=%user.name uid=%user.uid exe=%proc.exe path=%proc.exepath)"
  priority: INFO
- rule: Shell exit
  desc: a shell ended
  condition: evt.type = procexit and proc.name = sh and proc.cmdline contains {mark}
  output: "Shell exit (cmd=%proc.cmdline container=%container.id)"
  priority: DEBUG
- rule: Read shadow
  desc: needs file descriptors, which live events do not have
  condition: evt.type in (open, openat) and fd.name = /etc/shadow
  output: "shadow read by %proc.name"
  priority: ERROR
- rule: Shell connects
  desc: a connect event, which live events do not have
  condition: evt.type = connect and proc.name = sh
  output: "connect by %proc.name"
  priority: ERROR
"#
    )
}

/// A Docker Engine API on a Unix socket in `dir` that knows one container, `id` (64 hex
/// digits): `web`, from `registry.local:5000/team/web:1.2`. Serves until the test ends.
fn fake_docker(dir: &Path, id: &str) -> PathBuf {
    fake_docker_of(dir, id, "registry.local:5000/team/web:1.2")
}

/// [`fake_docker`] with the container's image named `image`.
fn fake_docker_of(dir: &Path, id: &str, image: &str) -> PathBuf {
    use std::io::{Read, Write};
    let path = dir.join("docker.sock");
    let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let known = format!("/containers/{id}/json");
    let found = format!(
        "HTTP/1.0 200 OK\r\n\r\n{{\"Name\":\"/web\",\"Config\":{{\"Image\":\"{image}\"}}}}"
    );
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let req = String::from_utf8_lossy(&req).to_string();
            let uri = req.split(' ').nth(1).unwrap_or_default();
            let resp: &str = if uri == "/_ping" {
                "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK"
            } else if uri == known {
                &found
            } else {
                "HTTP/1.0 404 Not Found\r\n\r\n{}"
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    path
}

/// Runs `moat watch --live` with `source`, runs the scenario once it watches, and returns
/// the alerts as (rule, output without the time) sorted, and stderr.
/// Alerts as (rule, output without the time and priority).
type Alerts = Vec<(String, String)>;

fn scenario(source: &str) -> (Alerts, Alerts, String) {
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("{source}{}", std::process::id());
    let mark = format!("moatlive{tag}");
    let rule_file = dir.path().join("rules.yaml");
    std::fs::write(&rule_file, rules(&mark)).unwrap();
    // The fake container's id: 64 hex digits, different for each test.
    let id: String = format!(
        "{:0>64}",
        format!("{:x}{}", std::process::id(), source.len())
    )
    .chars()
    .rev()
    .collect();
    let socket = fake_docker(dir.path(), &id);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat"));
    cmd.args(["watch", "--rules"])
        .arg(&rule_file)
        .args([
            "--live",
            "--live-source",
            source,
            "--poll-interval",
            "20",
            "--all-matches",
            "--format",
            "json",
            "--duration",
            "8",
            "--container-socket",
        ])
        .arg(&socket);
    let (child, err_reader) = watching(cmd);

    let mut expected = Vec::new();
    // A shell on the host.
    let st = Command::new("/bin/sh")
        .args(["-c", "sleep 0.3; true", &format!("{mark}-host")])
        .status()
        .unwrap();
    assert!(st.success());
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    expected.push((
        "Host shell".to_string(),
        format!(
            "Host shell (cmd=sh -c sleep 0.3; true {mark}-host args=-c sleep 0.3; true {mark}-host user=root uid=0 exe=/bin/sh path={})",
            sh.display()
        ),
    ));
    expected.push((
        "Shell exit".to_string(),
        format!("Shell exit (cmd=sh -c sleep 0.3; true {mark}-host container=host)"),
    ));

    // A shell in a new PID and mount namespace, in a fake container's cgroup when one can
    // be made. The outer shell's own command line holds the mark only in two pieces.
    let cg = cgroup2().map(|root| {
        let base = root.join(format!("moat-live-test-{tag}"));
        let scope = base.join(format!("docker-{id}.scope"));
        std::fs::create_dir_all(&scope).unwrap();
        (base, scope)
    });
    let inner = format!("{mark}-ns");
    // The outer shell becomes unshare, whose parent is this test process.
    let me = std::fs::read_to_string(format!("/proc/{}/comm", std::process::id())).unwrap();
    let me = me.trim_end();
    let procs = cg
        .as_ref()
        .map_or(PathBuf::from("/dev/null"), |(_, s)| s.join("cgroup.procs"));
    let st = Command::new("/bin/sh")
        .args([
            "-c",
            r#"echo $$ > "$1" && exec unshare --fork --pid --mount-proc /bin/sh -c "sleep 0.5; true" "$2$3""#,
            "outer",
        ])
        .arg(&procs)
        .args(["moatlive", &format!("{tag}-ns")])
        .status()
        .unwrap();
    assert!(st.success());
    let (container, in_container) = match &cg {
        Some(_) => (id[..12].to_string(), true),
        None => {
            eprintln!(
                "note: no writable cgroup v2 hierarchy: the container case is covered by the cgroup parser tests only"
            );
            ("host".to_string(), false)
        }
    };
    if in_container {
        expected.push((
            "Shell in container".to_string(),
            format!(
                "Shell in container (cmd=sh -c sleep 0.5; true {inner} container={container} name=web image=registry.local:5000/team/web tag=1.2 vpid=1 parent=unshare user=root)"
            ),
        ));
    }
    expected.push((
        "Namespace init shell".to_string(),
        format!(
            "Namespace init shell (cmd=sh -c sleep 0.5; true {inner} exe=/bin/sh grandparent={me})"
        ),
    ));
    expected.push((
        "Shell exit".to_string(),
        format!("Shell exit (cmd=sh -c sleep 0.5; true {inner} container={container})"),
    ));

    let out = child.wait_with_output().unwrap();
    let err = err_reader.join().unwrap();
    if let Some((base, scope)) = cg {
        let _ = std::fs::remove_dir(&scope);
        let _ = std::fs::remove_dir(&base);
    }
    assert!(out.status.success(), "{err}");
    let mut alerts = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["source"], "syscall");
        let output = v["output"].as_str().unwrap();
        let text = output.splitn(3, ' ').nth(2).unwrap().to_string();
        alerts.push((v["rule"].as_str().unwrap().to_string(), text));
    }
    alerts.sort();
    expected.sort();
    (alerts, expected, err)
}

fn check(source: &str) {
    if !can_run() {
        return;
    }
    let (alerts, expected, err) = scenario(source);
    assert_eq!(alerts, expected, "stderr:\n{err}");
    // The rule needing fd.name is reported once at load, the connect rule as unable to fire.
    assert_eq!(
        err.matches("warning LOAD_UNKNOWN_FIELD (rule 'Read shadow'): filter_check called with nonexistent field fd.name")
            .count(),
        1,
        "{err}"
    );
    assert_eq!(
        err.matches(
            "rule 'Shell connects' allows only event types live process events do not have"
        )
        .count(),
        1,
        "{err}"
    );
    let summary = err
        .lines()
        .find(|l| l.contains(" events, "))
        .expect("a summary line");
    assert!(
        summary.contains(&format!(" {} alerts", alerts.len())),
        "{summary}"
    );
}

#[test]
fn live_netlink_alerts_on_real_processes() {
    check("netlink");
}

#[test]
fn live_proc_polling_alerts_on_real_processes() {
    check("proc");
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("r.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn live_rules_with_a_misspelt_field_or_event_type_do_not_load() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "- rule: typo\n  desc: d\n  condition: evt.type = execve and proc.nmae = sh\n  output: x\n  priority: INFO\n";
    let o = moat([
        "watch",
        "--live",
        "--duration",
        "0",
        "--rules",
        write(dir.path(), bad).to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("field 'proc.nmae' is not a field of the syscall source"),
        "{}",
        stderr(&o)
    );
    let bad =
        "- rule: typo\n  desc: d\n  condition: evt.type = exceve\n  output: x\n  priority: INFO\n";
    let o = moat([
        "watch",
        "--live",
        "--duration",
        "0",
        "--rules",
        write(dir.path(), bad).to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown event type exceve"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn live_options_need_live() {
    let o = moat(["watch", "--rules", "r.yaml", "--duration", "1"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--live"), "{}", stderr(&o));
}

#[test]
fn live_without_root_falls_back_to_proc_polling() {
    if !is_root() {
        eprintln!("skipping: dropping to an unprivileged user needs root");
        return;
    }
    let has_setpriv = Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_setpriv {
        eprintln!("skipping: setpriv (util-linux) is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let rules = write(
        dir.path(),
        "- rule: r\n  desc: d\n  condition: evt.type = execve and proc.name = sh\n  output: o\n  priority: INFO\n",
    );
    std::fs::set_permissions(&rules, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(env!("CARGO_BIN_EXE_moat"))
        .args(["watch", "--live", "--duration", "0.3", "--rules"])
        .arg(&rules)
        .env("XDG_CACHE_HOME", dir.path())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(code(&o), 0, "{err}");
    // Kernels that let unprivileged users subscribe (this one may) run the connector;
    // others refuse the bind and moat polls instead, saying so.
    if err.contains("moat: watching live process events (the process-events connector)") {
        eprintln!("note: this kernel accepts unprivileged process-events subscribers");
        return;
    }
    assert!(
        err.contains("moat: warning: process-events connector: bind: ")
            && err.contains("polling /proc every 100 ms instead"),
        "{err}"
    );
    assert!(
        err.contains("moat: watching live process events (/proc polling)"),
        "{err}"
    );
    // The polling summary (no connector counters).
    assert!(
        err.lines()
            .any(|l| l.contains(" events, ") && l.ends_with(" alerts")),
        "{err}"
    );
}

/// End to end: `moat scan --package-files` of debian-tools, then `moat watch --live
/// --image-report` on that report, and a real bash started in a fake container (a cgroup
/// the fake Docker socket names as running that image): the alert says which package owns
/// the executed file (`/usr/bin/bash` here, `/bin/bash` in bash's dpkg list).
#[test]
fn live_alert_names_the_package_of_the_executed_file() {
    if !is_root() {
        eprintln!("skipping: the live tests need root (the connector, cgroups)");
        return;
    }
    let Some(images) = images() else { return };
    let Some(cgroups) = cgroup2() else {
        eprintln!("skipping: no writable cgroup v2 hierarchy for a fake container");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("tools.json");
    let advisories = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/advisories");
    let o = moat([
        "scan".as_ref(),
        "-q".as_ref(),
        "--cache".as_ref(),
        "off".as_ref(),
        "--scanners".as_ref(),
        "vuln".as_ref(),
        "--advisories".as_ref(),
        advisories.as_os_str(),
        format!(
            "docker-archive:{}",
            images.join("debian-tools.docker.tar").display()
        )
        .as_ref(),
        "--package-files".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        report.as_os_str(),
    ]);
    assert!(code(&o) <= 1, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let image = v["artifact"]["name"].as_str().unwrap().to_string();
    let bash = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "bash")
        .unwrap();
    let version = bash["version"].as_str().unwrap();
    let count = |s: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "vulnerability" && f["severity"] == s)
            .count()
    };
    let (critical, high) = (count("CRITICAL"), count("HIGH"));

    let mark = format!("moatjoin{}", std::process::id());
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        format!(
            r#"
- rule: Bash in container
  desc: bash started in a container
  condition: evt.type in (execve, execveat) and evt.dir=< and proc.name = bash and container.id != host and proc.cmdline contains {mark}
  output: "Bash in container (image=%container.image.repository exe=%proc.exepath)"
  priority: WARNING
"#
        ),
    )
    .unwrap();
    // The fake container's id: 64 hex digits, not the other live tests' ids.
    let id: String = format!("{:0>64}", format!("{:x}ab", std::process::id()))
        .chars()
        .rev()
        .collect();
    let socket = fake_docker_of(dir.path(), &id, &image);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat"));
    cmd.args(["watch", "--rules"])
        .arg(&rules)
        .arg("--image-report")
        .arg(&report)
        .args(["--live", "--format", "json", "--duration", "6"])
        .arg("--container-socket")
        .arg(&socket);
    let (child, err_reader) = watching(cmd);

    let base = cgroups.join(format!("moat-join-test-{}", std::process::id()));
    let scope = base.join(format!("docker-{id}.scope"));
    std::fs::create_dir_all(&scope).unwrap();
    // The shell moves itself into the container's cgroup, then becomes bash.
    let st = Command::new("/bin/sh")
        .args([
            "-c",
            r#"echo $$ > "$1" && exec /usr/bin/bash -c "sleep 0.5; true" "$2""#,
            "outer",
        ])
        .arg(scope.join("cgroup.procs"))
        .arg(&mark)
        .status()
        .unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    let err = err_reader.join().unwrap();
    let _ = std::fs::remove_dir(&scope);
    let _ = std::fs::remove_dir(&base);
    assert!(out.status.success(), "{err}");
    let alerts: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}\n{err}");
    let a = &alerts[0];
    let exe = std::fs::canonicalize("/usr/bin/bash").unwrap();
    let repository = image.rsplit_once(':').unwrap().0;
    assert!(
        a["output"].as_str().unwrap().ends_with(&format!(
            "Bash in container (image={repository} exe={exe}); image (no digest) has {critical} critical and {high} high vulnerabilities; {exe} comes from bash {version}",
            exe = exe.display()
        )),
        "{a}"
    );
    assert_eq!(
        a["output_fields"]["moat.package"],
        format!("bash {version}").as_str(),
        "{a}"
    );
}

/// Starts `moat watch --live` (`cmd`) with its outputs piped and waits (20 s at most) until
/// it says it is watching; the thread gathers its stderr.
fn watching(mut cmd: Command) -> (std::process::Child, std::thread::JoinHandle<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("moat runs");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let err_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.contains("watching live process events") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("moat starts watching");
    (child, err_reader)
}
