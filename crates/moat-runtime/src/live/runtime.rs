//! Container names and images from a container runtime's API socket: the Docker Engine API
//! (`/var/run/docker.sock`), which Podman also serves (`/run/podman/podman.sock`). One
//! `GET /containers/<id>/json` per container, cached (misses too); a runtime that does not
//! answer within a second is a miss. containerd and CRI-O speak CRI over gRPC, which is
//! not read here: their containers have an id but no name or image.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The standard sockets, tried in order when none is given.
pub const DEFAULT_SOCKETS: &[&str] = &["/var/run/docker.sock", "/run/podman/podman.sock"];
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

/// A runtime API socket and what it answered so far.
pub struct RuntimeSocket {
    path: PathBuf,
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
    Some(ContainerMeta {
        name: name.as_bytes().to_vec(),
        image: image.as_bytes().to_vec(),
    })
}

impl RuntimeSocket {
    /// The runtime at `path` when it answers `GET /_ping`.
    pub fn probe(path: &Path) -> Option<RuntimeSocket> {
        match get(path, "/_ping") {
            Ok((200, _)) => Some(RuntimeSocket {
                path: path.to_path_buf(),
                cache: HashMap::new(),
            }),
            _ => None,
        }
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

    /// What the runtime says about the container `id` (the 12-digit prefix is enough).
    pub fn lookup(&mut self, id: &[u8]) -> Option<Arc<ContainerMeta>> {
        if let Some(m) = self.cache.get(id) {
            return m.clone();
        }
        let meta = std::str::from_utf8(id)
            .ok()
            .filter(|s| s.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|s| get(&self.path, &format!("/containers/{s}/json")).ok())
            .filter(|(status, _)| *status == 200)
            .and_then(|(_, body)| parse_inspect(&body))
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
            name: Vec::new(),
            image: i.into(),
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
                image: b"nginx:1.25".to_vec()
            })
        );
        assert_eq!(parse_inspect(b"[]"), None);
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
}
