//! Live events get their container's image, digest, pod and namespace from a Kubernetes pod
//! list (`kubectl get pods -A -o json`): processes of a fake procfs in containerd, CRI-O and
//! Docker cgroups (the shapes the kubelet makes), polled by the watcher, with a recorded-shape
//! pod list (tests/data/pods.json), through a rule that prints every container field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_runtime::live::{LiveSource, PodList, ProcEvent, Procfs, Watcher};
use moat_runtime::{RuleSet, compile};
use std::path::{Path, PathBuf};
use std::time::Duration;

const NGINX: &str = "3ad7b26ded6d5c4a1e0f9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d";
const API: &str = "5e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f";
const REDIS: &str = "9c6bd119f29cb938f1d975f06be758580e1a64b7608b54709e06ebc1093aa356";
const UNKNOWN: &str = "ffffffffffff0000000000000000000000000000000000000000000000000000";

const RULE: &str = r#"
- rule: Shell
  desc: any shell
  condition: evt.type = execve and proc.name = sh
  output: "id=%container.id name=%container.name image=%container.image repo=%container.image.repository tag=%container.image.tag digest=%container.image.digest pod=%k8s.pod.name ns=%k8s.ns.name cmd=%proc.cmdline"
  priority: NOTICE
"#;

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

/// A process of the fake procfs: `sh -c <tag>` in the cgroup `cgroup`.
fn add_proc(root: &Path, pid: u32, tag: &str, cgroup: &str) {
    let d = root.join(pid.to_string());
    std::fs::create_dir_all(&d).unwrap();
    let zeros = "0 ".repeat(17);
    std::fs::write(
        d.join("stat"),
        format!("{pid} (sh) S 1 {zeros}{} 0 0\n", 1000 + pid),
    )
    .unwrap();
    std::fs::write(
        d.join("status"),
        format!("Name:\tsh\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t{pid}\t1\n"),
    )
    .unwrap();
    std::fs::write(d.join("comm"), "sh\n").unwrap();
    std::fs::write(d.join("cmdline"), format!("/bin/sh\0-c\0{tag}\0")).unwrap();
    std::fs::write(d.join("cgroup"), cgroup).unwrap();
    std::os::unix::fs::symlink("/bin/sh", d.join("exe")).unwrap();
    std::os::unix::fs::symlink("/", d.join("cwd")).unwrap();
}

#[test]
fn pod_list_names_the_images_of_live_containers() {
    let pods = PodList::load(&data("pods.json")).unwrap();
    // Two containers and an init container of one pod, one of another, one of a third; the
    // pending pod's container has no id yet.
    assert_eq!(pods.len(), 5);

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut w = Watcher::poll(Procfs::new(root), Duration::from_millis(1)).unwrap();
    w.set_pods(pods);
    // containerd (systemd driver), CRI-O, Docker (cgroupfs driver, cgroup v1), a container
    // the list does not have, and the host.
    add_proc(
        root,
        101,
        "in-nginx",
        &format!(
            "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1c2d3e_4a5b_6c7d_8e9f_0a1b2c3d4e5f.slice/cri-containerd-{NGINX}.scope\n"
        ),
    );
    add_proc(
        root,
        102,
        "in-api",
        &format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod11111111_2222_3333_4444_555555555555.slice/crio-{API}.scope\n"
        ),
    );
    add_proc(
        root,
        103,
        "in-redis",
        &format!(
            "12:pids:/kubepods/besteffort/podaaaa/{REDIS}\n11:memory:/kubepods/besteffort/podaaaa/{REDIS}\n"
        ),
    );
    add_proc(
        root,
        104,
        "in-unknown",
        &format!("0::/system.slice/docker-{UNKNOWN}.scope\n"),
    );
    add_proc(
        root,
        105,
        "on-host",
        "0::/user.slice/user-0.slice/session-1.scope\n",
    );

    let mut evs: Vec<ProcEvent> = Vec::new();
    for _ in 0..50 {
        w.next(Duration::from_millis(20), &mut evs).unwrap();
        if evs.len() >= 5 {
            break;
        }
    }
    assert_eq!(evs.len(), 5, "{evs:?}");

    let mut rs = RuleSet::default();
    rs.load_bytes("r.yaml", RULE.as_bytes());
    let c = compile(&rs, LiveSource::default().with_container_metadata(), &[]);
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    let mut got: Vec<String> = Vec::new();
    for ev in &evs {
        let mut hits = Vec::new();
        c.engine.process(ev, |i| hits.push(i));
        assert_eq!(hits, [0]);
        got.push(c.engine.render(0, ev).0);
    }
    got.sort();
    assert_eq!(
        got,
        [
            "id=3ad7b26ded6d name=nginx image=docker.io/library/nginx:1.25 repo=docker.io/library/nginx tag=1.25 digest=sha256:90fb611c461c437870ef7d4e02138e5ce471ec3017bb69fba5e1eff912b91ed5 pod=web-7d9f8c6b5-x2k4q ns=shop cmd=sh -c in-nginx",
            "id=5e1f0a9b8c7d name=api image=quay.io/acme/api:v3.1 repo=quay.io/acme/api tag=v3.1 digest=sha256:3333333333333333333333333333333333333333333333333333333333333333 pod=api-5c8d7f9b4-qq7lm ns=payments cmd=sh -c in-api",
            "id=9c6bd119f29c name=redis image=redis:7 repo=redis tag=7 digest=sha256:4444444444444444444444444444444444444444444444444444444444444444 pod=legacy-0 ns=default cmd=sh -c in-redis",
            "id=ffffffffffff name=<NA> image=<NA> repo=<NA> tag=<NA> digest=<NA> pod=<NA> ns=<NA> cmd=sh -c in-unknown",
            "id=host name=host image=<NA> repo=<NA> tag=<NA> digest=<NA> pod=<NA> ns=<NA> cmd=sh -c on-host",
        ]
    );
}

/// A pod as `kubectl get pod -o json` printed it (a recorded Docker-era pod of the kubesec
/// test assets in ../shared): its container is found by id.
#[test]
fn a_recorded_pod() {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/"))
        .join("corpus/k8s-manifests/kubesec-tests/test/asset/bug-dump-2.json");
    if !p.exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{} is missing (CI=true)", p.display());
        }
        eprintln!("skipped: {} not found", p.display());
        return;
    }
    let pods = PodList::load(&p).unwrap();
    assert_eq!(pods.len(), 1);
    let m = pods.lookup(b"9c6bd119f29c").expect("its container");
    assert_eq!(m.name, b"my-consumer-app");
    assert_eq!(
        m.image,
        b"chaostoolkit/simple-boot-feign-direct-microservice-consumer:before"
    );
    assert_eq!(
        m.image_digest,
        b"sha256:044e20e643221b6040a3ea88188065d75e131ad37cd55237075def608d5486f1"
    );
    assert_eq!(m.pod_name, b"my-consumer-app-2176727022-58583");
    assert_eq!(m.namespace, b"default");
    // A missing or broken list is an error naming the file.
    let e = PodList::load(Path::new("/nonexistent/pods.json")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/pods.json"), "{e}");
}
