//! The container a process runs in, from its cgroup paths.

/// The container id in a process's cgroups (`subsys=path` entries separated by NULs, as a
/// capture's `cgroups` parameter holds them, or bare paths): the first 64-hex-digit path
/// component, with the runtimes' decorations removed (Docker `/docker/<id>` and
/// `docker-<id>.scope`, containerd `cri-containerd-<id>.scope`, CRI-O `crio-<id>.scope`,
/// Podman `libpod-<id>.scope`, Kubernetes `kubepods/.../<id>`), shortened to 12 digits as
/// container.id shows it. Empty when none (the host).
pub fn container_id(cgroups: &[u8]) -> Vec<u8> {
    let mut id = container_full_id(cgroups);
    id.truncate(12);
    id
}

/// [`container_id`] with all its 64 digits (what CRI-O's API and pod lists name).
pub fn container_full_id(cgroups: &[u8]) -> Vec<u8> {
    for entry in cgroups.split(|&c| c == 0) {
        let path = match entry.iter().position(|&c| c == b'=') {
            Some(i) => &entry[i + 1..],
            None => entry,
        };
        for comp in path.split(|&c| c == b'/') {
            let mut c = comp;
            if let Some(s) = c.strip_suffix(b".scope") {
                c = s;
            }
            for prefix in [
                &b"docker-"[..],
                b"cri-containerd-",
                b"crio-",
                b"libpod-",
                b"containerd-",
            ] {
                if let Some(s) = c.strip_prefix(prefix) {
                    c = s;
                    break;
                }
            }
            if c.len() == 64 && c.iter().all(u8::is_ascii_hexdigit) {
                return c.to_vec();
            }
        }
    }
    Vec::new()
}

/// The container id in `/proc/PID/cgroup` (lines `hierarchy-id:controllers:path`, cgroup v1
/// and v2 alike): [`container_full_id`] over the paths (all 64 digits). Empty for the host.
pub fn container_id_from_proc(text: &[u8]) -> Vec<u8> {
    for line in text.split(|&c| c == b'\n') {
        // The path is everything after the second colon (it may hold colons itself).
        let mut parts = line.splitn(3, |&c| c == b':');
        let (Some(_), Some(_), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let id = container_full_id(path);
        if !id.is_empty() {
            return id;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3ad7b26ded6d8e7b23da7d48fe889434573036c27ae5a74837233de441c3601e";

    #[test]
    fn capture_cgroups_parameter() {
        let cg = format!("cpuset=/\0cpu=/docker/{ID}\0");
        assert_eq!(container_id(cg.as_bytes()), b"3ad7b26ded6d");
        let cg = format!("0::/system.slice/cri-containerd-{ID}.scope\0");
        assert_eq!(container_id(cg.as_bytes()), b"3ad7b26ded6d");
        assert_eq!(container_id(b"cpu=/user.slice\0memory=/\0"), b"");
    }

    #[test]
    fn proc_cgroup_files_of_each_runtime() {
        let shapes = [
            // Docker, cgroup v1 (cgroupfs driver).
            format!("12:pids:/docker/{ID}\n11:memory:/docker/{ID}\n0::/\n"),
            // Docker, cgroup v2 with the systemd driver.
            format!("0::/system.slice/docker-{ID}.scope\n"),
            // containerd under Kubernetes, systemd driver.
            format!(
                "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1c2d3e_4a5b_6c7d_8e9f_0a1b2c3d4e5f.slice/cri-containerd-{ID}.scope\n"
            ),
            // Kubernetes with the cgroupfs driver.
            format!(
                "4:cpu,cpuacct:/kubepods/burstable/pod0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f/{ID}\n"
            ),
            // CRI-O.
            format!("0::/kubepods.slice/kubepods-pod1.slice/crio-{ID}.scope\n"),
            // Podman (rootful and rootless).
            format!("0::/machine.slice/libpod-{ID}.scope/container\n"),
            format!(
                "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope\n"
            ),
        ];
        for s in &shapes {
            assert_eq!(container_id_from_proc(s.as_bytes()), ID.as_bytes(), "{s}");
        }
        let host = [
            "0::/init.scope\n",
            "0::/user.slice/user-0.slice/session-3.scope\n",
            "12:pids:/\n4:memory:/process_api/cceb30b2ef8e4ad46c922cefe0921e25\n0::/\n",
            // A conmon or crio-conmon scope is not the container.
            "0::/machine.slice/libpod-conmon-abc.scope\n",
            "",
            "garbage without colons",
        ];
        for s in host {
            assert_eq!(container_id_from_proc(s.as_bytes()), b"", "{s}");
        }
    }
}
