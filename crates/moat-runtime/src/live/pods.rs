//! `--pods FILE`: the containers of a Kubernetes pod list (`kubectl get pods -A -o json`),
//! so a containerd, CRI-O or Docker container seen in a process's cgroup gets its image,
//! image digest, container name, pod and namespace without asking the runtime.
//!
//! Each pod's `status.containerStatuses[]` (and `initContainerStatuses[]`,
//! `ephemeralContainerStatuses[]`) has `containerID` as `<runtime>://<64 hex digits>`
//! (`containerd://`, `cri-o://`, `docker://`), `image`, `imageID` and `name`; the pod's
//! `metadata` has `name` and `namespace`.

use super::runtime::ContainerMeta;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest pod list read.
pub const MAX_POD_LIST: u64 = 256 << 20;

/// A pod list that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PodListError {
    #[error("cannot read pod list {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("pod list {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The containers of a pod list, by container id.
#[derive(Debug, Clone, Default)]
pub struct PodList {
    /// The first 12 hex digits of each container id (as cgroups and `container.id` show
    /// it) to the container.
    by_id: HashMap<Vec<u8>, Arc<ContainerMeta>>,
}

impl PodList {
    /// Reads `kubectl get pods -A -o json` (a `List` of pods) or a single pod's JSON.
    pub fn load(path: &Path) -> Result<PodList, PodListError> {
        let read = |source| PodListError::Read {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read)?;
        if meta.len() > MAX_POD_LIST {
            return Err(PodListError::Invalid {
                path: path.to_path_buf(),
                message: format!("larger than {} MiB", MAX_POD_LIST >> 20),
            });
        }
        let data = std::fs::read(path).map_err(read)?;
        Self::parse(&data).map_err(|message| PodListError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses a pod list (or one pod).
    pub fn parse(data: &[u8]) -> Result<PodList, String> {
        let v: serde_json::Value =
            serde_json::from_slice(data).map_err(|e| format!("not JSON: {e}"))?;
        let pods: Vec<&serde_json::Value> = match v.get("items") {
            Some(items) => items
                .as_array()
                .ok_or("`items` is not an array")?
                .iter()
                .collect(),
            None if v.get("kind").and_then(|k| k.as_str()) == Some("Pod") => vec![&v],
            None => return Err("neither a pod list (`items`) nor a pod (`kind: Pod`)".into()),
        };
        let mut by_id = HashMap::new();
        for pod in pods {
            let text = |p: &str| {
                pod.pointer(p)
                    .and_then(|s| s.as_str())
                    .unwrap_or_default()
                    .as_bytes()
                    .to_vec()
            };
            let pod_name = text("/metadata/name");
            let namespace = text("/metadata/namespace");
            let Some(status) = pod.get("status") else {
                continue;
            };
            for key in [
                "containerStatuses",
                "initContainerStatuses",
                "ephemeralContainerStatuses",
            ] {
                let Some(list) = status.get(key).and_then(|l| l.as_array()) else {
                    continue;
                };
                for c in list {
                    let s = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                    let Some(id) = container_id_of(s("containerID")) else {
                        continue;
                    };
                    let meta = ContainerMeta {
                        name: s("name").as_bytes().to_vec(),
                        image: s("image").as_bytes().to_vec(),
                        image_digest: digest_of(s("imageID")).as_bytes().to_vec(),
                        pod_name: pod_name.clone(),
                        namespace: namespace.clone(),
                    };
                    by_id.insert(id.as_bytes()[..12].to_vec(), Arc::new(meta));
                }
            }
        }
        Ok(PodList { by_id })
    }

    /// How many containers the list has.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The container whose id starts with `id` (12 or more hex digits).
    pub fn lookup(&self, id: &[u8]) -> Option<Arc<ContainerMeta>> {
        self.by_id.get(id.get(..12)?).cloned()
    }
}

/// The 64 hex digits of `containerd://ID`, `cri-o://ID`, `docker://ID` (any `scheme://`).
fn container_id_of(s: &str) -> Option<&str> {
    let id = s.split_once("://").map_or(s, |(_, id)| id);
    (id.len() == 64 && id.bytes().all(|c| c.is_ascii_hexdigit())).then_some(id)
}

/// `sha256:...` of an `imageID` (`docker.io/library/nginx@sha256:...`,
/// `docker-pullable://nginx@sha256:...` or a bare `sha256:...`).
fn digest_of(image_id: &str) -> &str {
    match image_id.rfind("sha256:") {
        Some(i) => &image_id[i..],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_digests() {
        let id = "a".repeat(64);
        assert_eq!(container_id_of(&format!("containerd://{id}")), Some(&*id));
        assert_eq!(container_id_of(&format!("cri-o://{id}")), Some(&*id));
        assert_eq!(container_id_of("docker://abc"), None);
        assert_eq!(container_id_of(""), None);
        assert_eq!(
            digest_of("docker-pullable://nginx@sha256:0123"),
            "sha256:0123"
        );
        assert_eq!(digest_of("sha256:0123"), "sha256:0123");
        assert_eq!(digest_of("nginx:1.25"), "");
    }

    #[test]
    fn bad_lists_are_errors() {
        assert!(PodList::parse(b"not json").is_err());
        assert!(PodList::parse(b"{\"items\": 3}").is_err());
        assert!(PodList::parse(b"[]").is_err());
        let empty = PodList::parse(b"{\"kind\":\"List\",\"items\":[]}").unwrap();
        assert!(empty.is_empty());
        assert!(empty.lookup(b"short").is_none());
    }
}
