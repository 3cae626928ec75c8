//! Container names and images from a container runtime's API socket: the Docker Engine API
//! (`/var/run/docker.sock`), which Podman also serves (`/run/podman/podman.sock`), and
//! CRI-O's own HTTP API on its socket (`/var/run/crio/crio.sock`: `GET /info`, and
//! `GET /containers/<id>` with the container's name, image, image reference and Kubernetes
//! labels). One request per container, cached (misses too); a runtime that does not answer
//! within a second is a miss. containerd speaks only gRPC (CRI and its own API), which is
//! not read here: its containers get their image from a pod list ([`super::pods`]).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The standard sockets, tried in order when none is given.
pub const DEFAULT_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/podman/podman.sock",
    "/var/run/crio/crio.sock",
];
/// The largest response read (a container's JSON is a few kilobytes).
const MAX_RESPONSE: u64 = 4 << 20;
const TIMEOUT: Duration = Duration::from_secs(1);
/// Containers remembered (hits and misses).
const MAX_CACHE: usize = 65536;

/// What the runtime says about one container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerMeta {
    /// Without Docker's leading `/`.
    pub name: Vec<u8>,
    /// As the container was created from it (`nginx:1.25`, `registry:5000/a/b@sha256:...`).
    pub image: Vec<u8>,
    /// The image's digest (`sha256:...`), when the source says (`container.image.digest`).
    pub image_digest: Vec<u8>,
    /// The Kubernetes pod and namespace, when the source says (`k8s.pod.name`,
    /// `k8s.ns.name`).
    pub pod_name: Vec<u8>,
    pub namespace: Vec<u8>,
}

impl ContainerMeta {
    /// `container.image.repository`: the image reference without its tag or digest.
    pub fn repository(&self) -> &[u8] {
        let s = &self.image;
        let s = match s.iter().position(|&c| c == b'@') {
            Some(i) => &s[..i],
            None => s,
        };
        let slash = s.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
        match s[slash..].iter().rposition(|&c| c == b':') {
            Some(i) => &s[..slash + i],
            None => s,
        }
    }

    /// `container.image.tag`: the tag, empty when the reference has none.
    pub fn tag(&self) -> &[u8] {
        let s = &self.image;
        let s = match s.iter().position(|&c| c == b'@') {
            Some(i) => &s[..i],
            None => s,
        };
        let slash = s.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
        match s[slash..].iter().rposition(|&c| c == b':') {
            Some(i) => &s[slash + i + 1..],
            None => &[],
        }
    }
}

/// Which API a runtime socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The Docker Engine API (Docker, Podman).
    Docker,
    /// CRI-O's HTTP API.
    Crio,
}

/// A runtime API socket and what it answered so far.
pub struct RuntimeSocket {
    path: PathBuf,
    api: Api,
    cache: HashMap<Vec<u8>, Option<Arc<ContainerMeta>>>,
}

/// One HTTP/1.0 GET over the socket: the status and the body.
fn get(path: &Path, uri: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    write!(s, "GET {uri} HTTP/1.0\r\nHost: docker\r\n\r\n")?;
    let mut resp = Vec::new();
    s.take(MAX_RESPONSE).read_to_end(&mut resp)?;
    parse_response(&resp)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
}

/// The status code and body of an HTTP/1.x response (`Content-Length` or read to close;
/// a chunked body is decoded).
pub fn parse_response(resp: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut head = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(end) = head.parse(resp).ok()? else {
        return None;
    };
    let status = head.code?;
    let header = |name: &str| {
        head.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim_ascii())
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
    let len =
        header("content-length").and_then(|v| std::str::from_utf8(v).ok()?.parse::<usize>().ok());
    let body = &resp[end..];
    if chunked {
        let mut out = Vec::new();
        let mut rest = body;
        loop {
            let httparse::Status::Complete((n, size)) = httparse::parse_chunk_size(rest).ok()?
            else {
                return None;
            };
            rest = &rest[n..];
            if size == 0 {
                return Some((status, out));
            }
            let size = usize::try_from(size).ok()?;
            out.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
    }
    let body = match len {
        Some(n) => body.get(..n)?,
        None => body,
    };
    Some((status, body.to_vec()))
}

/// Name and image from `GET /containers/<id>/json`.
pub fn parse_inspect(body: &[u8]) -> Option<ContainerMeta> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let name = v.get("Name")?.as_str()?.trim_start_matches('/');
    let image = v
        .pointer("/Config/Image")
        .and_then(|i| i.as_str())
        .or_else(|| v.get("ImageName").and_then(|i| i.as_str()))
        .unwrap_or_default();
    let label = |k: &str| {
        v.pointer("/Config/Labels")
            .and_then(|l| l.get(k))
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .as_bytes()
            .to_vec()
    };
    Some(ContainerMeta {
        name: name.as_bytes().to_vec(),
        image: image.as_bytes().to_vec(),
        image_digest: Vec::new(),
        pod_name: label("io.kubernetes.pod.name"),
        namespace: label("io.kubernetes.pod.namespace"),
    })
}

/// Name, image and pod from CRI-O's `GET /containers/<id>`: `name`, `image`, `image_ref`
/// and the `labels` the kubelet sets (`io.kubernetes.container.name`,
/// `io.kubernetes.pod.name`, `io.kubernetes.pod.namespace`).
pub fn parse_crio_container(body: &[u8]) -> Option<ContainerMeta> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |p: &str| v.pointer(p).and_then(|s| s.as_str());
    let bytes = |s: Option<&str>| s.unwrap_or_default().as_bytes().to_vec();
    let name = text("/labels/io.kubernetes.container.name").or_else(|| text("/name"))?;
    let image_ref = text("/image_ref").unwrap_or_default();
    let digest = image_ref.rfind("sha256:").map_or("", |i| &image_ref[i..]);
    Some(ContainerMeta {
        name: name.as_bytes().to_vec(),
        image: bytes(text("/image")),
        image_digest: digest.as_bytes().to_vec(),
        pod_name: bytes(text("/labels/io.kubernetes.pod.name")),
        namespace: bytes(text("/labels/io.kubernetes.pod.namespace")),
    })
}

/// Whether `GET /info` answered as CRI-O does.
fn is_crio_info(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| {
        v.get("storage_driver").is_some()
            || v.get("cgroup_driver").is_some()
            || v.get("storage_root").is_some()
    })
}

impl RuntimeSocket {
    /// The runtime at `path` when it answers the Docker API's `GET /_ping`, or CRI-O's
    /// `GET /info` (a JSON object naming its storage or cgroup driver).
    pub fn probe(path: &Path) -> Option<RuntimeSocket> {
        let api = match get(path, "/_ping") {
            Ok((200, _)) => Api::Docker,
            Ok(_) => match get(path, "/info") {
                Ok((200, body)) if is_crio_info(&body) => Api::Crio,
                _ => return None,
            },
            Err(_) => return None,
        };
        Some(RuntimeSocket {
            path: path.to_path_buf(),
            api,
            cache: HashMap::new(),
        })
    }

    pub fn api(&self) -> Api {
        self.api
    }

    /// The first of [`DEFAULT_SOCKETS`] that answers.
    pub fn find() -> Option<RuntimeSocket> {
        DEFAULT_SOCKETS
            .iter()
            .find_map(|p| Self::probe(Path::new(p)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the runtime says about the container `id` (for Docker the 12-digit prefix is
    /// enough; CRI-O wants the whole id).
    pub fn lookup(&mut self, id: &[u8]) -> Option<Arc<ContainerMeta>> {
        if let Some(m) = self.cache.get(id) {
            return m.clone();
        }
        let api = self.api;
        let meta = std::str::from_utf8(id)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|s| {
                let uri = match api {
                    Api::Docker => format!("/containers/{s}/json"),
                    Api::Crio => format!("/containers/{s}"),
                };
                get(&self.path, &uri).ok()
            })
            .filter(|(status, _)| *status == 200)
            .and_then(|(_, body)| match api {
                Api::Docker => parse_inspect(&body),
                Api::Crio => parse_crio_container(&body),
            })
            .map(Arc::new);
        if self.cache.len() >= MAX_CACHE {
            self.cache.clear();
        }
        self.cache.insert(id.to_vec(), meta.clone());
        meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn image_reference_parts() {
        let m = |i: &str| ContainerMeta {
            image: i.into(),
            ..ContainerMeta::default()
        };
        let cases = [
            ("nginx:1.25", "nginx", "1.25"),
            ("nginx", "nginx", ""),
            ("registry:5000/team/app:v2", "registry:5000/team/app", "v2"),
            ("registry:5000/team/app", "registry:5000/team/app", ""),
            ("ghcr.io/a/b:1@sha256:abcd", "ghcr.io/a/b", "1"),
            ("ghcr.io/a/b@sha256:abcd", "ghcr.io/a/b", ""),
        ];
        for (image, repo, tag) in cases {
            assert_eq!(m(image).repository(), repo.as_bytes(), "{image}");
            assert_eq!(m(image).tag(), tag.as_bytes(), "{image}");
        }
    }

    #[test]
    fn responses_and_inspect() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_eq!(parse_response(r), Some((200, b"hello world".to_vec())));
        let r = b"HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\n{}xx";
        assert_eq!(parse_response(r), Some((404, b"{}".to_vec())));
        assert_eq!(parse_response(b"garbage"), None);
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            None
        );
        let m = parse_inspect(br#"{"Id":"3ad7","Name":"/web","Config":{"Image":"nginx:1.25"}}"#);
        assert_eq!(
            m,
            Some(ContainerMeta {
                name: b"web".to_vec(),
                image: b"nginx:1.25".to_vec(),
                ..ContainerMeta::default()
            })
        );
        assert_eq!(parse_inspect(b"[]"), None);
        let m = parse_inspect(
            br#"{"Name":"/k8s_app_p","Config":{"Image":"nginx:1.25","Labels":{"io.kubernetes.pod.name":"p","io.kubernetes.pod.namespace":"ns"}}}"#,
        )
        .unwrap();
        assert_eq!((&m.pod_name[..], &m.namespace[..]), (&b"p"[..], &b"ns"[..]));
    }

    /// Accepts one connection of the fake runtime and reads its request's URI.
    fn accept_request(l: &UnixListener) -> (std::os::unix::net::UnixStream, String) {
        let (mut s, _) = l.accept().unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            req.extend_from_slice(&buf[..n]);
        }
        let uri = String::from_utf8_lossy(&req)
            .split(' ')
            .nth(1)
            .unwrap()
            .to_string();
        (s, uri)
    }

    #[test]
    fn lookups_over_a_socket_are_cached() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("docker.sock");
        let l = UnixListener::bind(&sock).unwrap();
        let server = std::thread::spawn(move || {
            let mut uris = Vec::new();
            // The probe, one hit and one miss; the repeated lookup is served from the cache.
            for _ in 0..3 {
                let (mut s, uri) = accept_request(&l);
                let resp: &[u8] = match uri.as_str() {
                    "/_ping" => b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK",
                    "/containers/3ad7b26ded6d/json" => b"HTTP/1.0 200 OK\r\n\r\n{\"Name\":\"/web\",\"Config\":{\"Image\":\"nginx:1.25\"}}",
                    _ => b"HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"No such container\"}",
                };
                s.write_all(resp).unwrap();
                uris.push(uri);
            }
            uris
        });
        let mut rt = RuntimeSocket::probe(&sock).expect("the fake runtime answers");
        let web = rt.lookup(b"3ad7b26ded6d").expect("known");
        assert_eq!(web.name, b"web");
        assert_eq!(web.repository(), b"nginx");
        assert_eq!(rt.lookup(b"ffffffffffff"), None);
        assert_eq!(rt.lookup(b"3ad7b26ded6d"), Some(web));
        assert_eq!(rt.lookup(b"../../x"), None);
        assert_eq!(
            server.join().unwrap(),
            [
                "/_ping",
                "/containers/3ad7b26ded6d/json",
                "/containers/ffffffffffff/json"
            ]
        );
        assert!(RuntimeSocket::probe(&dir.path().join("none.sock")).is_none());
    }

    #[test]
    fn crio_over_its_socket() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("crio.sock");
        let l = UnixListener::bind(&sock).unwrap();
        let id = "5e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f";
        let known = format!("/containers/{id}");
        let server = std::thread::spawn(move || {
            let mut uris = Vec::new();
            for _ in 0..3 {
                let (mut s, uri) = accept_request(&l);
                // CRI-O answers what it does not serve with 404.
                let resp: &[u8] = if uri == "/info" {
                    br#"HTTP/1.1 200 OK
Content-Type: application/json

{"storage_driver":"overlay","storage_root":"/var/lib/containers/storage","cgroup_driver":"systemd"}"#
                } else if uri == known {
                    br#"HTTP/1.1 200 OK
Content-Type: application/json

{"name":"k8s_api_api-5c8d7f9b4-qq7lm_payments_1111_0","pid":4242,"image":"quay.io/acme/api:v3.1","image_ref":"quay.io/acme/api@sha256:3333333333333333333333333333333333333333333333333333333333333333","created_time":1764496870000000000,"labels":{"io.kubernetes.container.name":"api","io.kubernetes.pod.name":"api-5c8d7f9b4-qq7lm","io.kubernetes.pod.namespace":"payments"},"annotations":{},"log_path":"/var/log/pods/x.log","root":"/var/lib/containers/storage/overlay/x/merged","sandbox":"9f9f","ip_addresses":["10.244.2.9"]}"#
                } else {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                };
                let resp = String::from_utf8_lossy(resp)
                    .replace("\r\n", "\n")
                    .replace('\n', "\r\n");
                s.write_all(resp.as_bytes()).unwrap();
                uris.push(uri);
            }
            uris
        });
        let mut rt = RuntimeSocket::probe(&sock).expect("the fake CRI-O answers");
        assert_eq!(rt.api(), Api::Crio);
        let m = rt.lookup(id.as_bytes()).expect("known");
        assert_eq!(m.name, b"api");
        assert_eq!(m.image, b"quay.io/acme/api:v3.1");
        assert_eq!(
            m.image_digest,
            b"sha256:3333333333333333333333333333333333333333333333333333333333333333"
        );
        assert_eq!(m.pod_name, b"api-5c8d7f9b4-qq7lm");
        assert_eq!(m.namespace, b"payments");
        assert_eq!(
            server.join().unwrap(),
            ["/_ping", "/info", format!("/containers/{id}").as_str()]
        );
    }
}
