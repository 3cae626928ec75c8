//! The distribution API client: one [`Client`] per registry host.

use crate::auth::{Challenge, Credentials, parse_challenge};
use crate::digest::Digest;
use crate::error::RegistryError;
use crate::reference::is_loopback;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Media types of manifests and indexes moat asks for.
pub const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Whether a media type is an index (OCI image index or Docker manifest list) rather than an
/// image manifest.
pub fn is_index_type(t: &str) -> bool {
    t == MANIFEST_TYPES[1] || t == MANIFEST_TYPES[3]
}

/// How to reach a registry.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Credentials to answer a Basic challenge or to get a bearer token with; `None`:
    /// anonymous.
    pub credentials: Option<Credentials>,
    /// PEM file of the CA certificates to trust instead of the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// Allow plain HTTP and certificates that do not verify.
    pub insecure: bool,
    /// Connect and per-read timeout.
    pub timeout: Duration,
    /// Attempts per request on a dropped connection, 429 or 5xx (at least 1).
    pub attempts: u32,
    /// The first backoff delay (doubled each attempt); `Retry-After` wins, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The size of each `PATCH` of a chunked upload ([`Client::put_blob_from`]).
    pub upload_chunk: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            credentials: None,
            ca_file: None,
            insecure: false,
            timeout: Duration::from_secs(60),
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            upload_chunk: 8 << 20,
        }
    }
}

/// A manifest or index as the registry sent it.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    /// The `Content-Type` (or the document's own `mediaType`).
    pub media_type: String,
    /// sha256 of the bytes (checked against a requested digest).
    pub digest: Digest,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Method {
    Get,
    Head,
    Put,
    Post,
    Patch,
}

/// A client for one registry. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct Client {
    registry: String,
    /// `https://host` or `http://host`.
    base: String,
    agent: ureq::Agent,
    opts: Arc<ClientOptions>,
    /// Authorization header per scope (`repository:NAME:pull`), or for every request (Basic).
    tokens: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("registry", &self.registry)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// How much of an error body is kept for a message.
const MAX_ERROR_BODY: u64 = 64 << 10;

impl Client {
    /// Connects to `registry` (`host[:port]`; Docker Hub's API host for `docker.io`): tries
    /// HTTPS, and plain HTTP where allowed (`--insecure`, or a loopback registry) when
    /// HTTPS does not answer.
    pub fn connect(api_host: &str, opts: &ClientOptions) -> Result<Client, RegistryError> {
        let tls_agent = agent(opts, api_host)?;
        let mut client = Client {
            registry: api_host.to_string(),
            base: format!("https://{api_host}"),
            agent: tls_agent,
            opts: Arc::new(opts.clone()),
            tokens: Arc::new(Mutex::new(HashMap::new())),
        };
        let https_err = match client.ping() {
            Ok(()) => return Ok(client),
            Err(e) => e,
        };
        if !(opts.insecure || is_loopback(api_host)) {
            return Err(https_err);
        }
        client.base = format!("http://{api_host}");
        match client.ping() {
            Ok(()) => Ok(client),
            Err(RegistryError::Transport { .. }) => Err(https_err),
            Err(RegistryError::Status { .. }) => Err(https_err),
            Err(e) => Err(e),
        }
    }

    /// The registry host this client talks to.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// `GET /v2/`: 200 or 401 means a registry answers.
    fn ping(&self) -> Result<(), RegistryError> {
        let url = format!("{}/v2/", self.base);
        let resp = self.send_once(Method::Get, &url, &[], None, None)?;
        match resp.status().as_u16() {
            200 | 401 => Ok(()),
            s => Err(RegistryError::Status {
                url,
                status: s,
                message: "not an OCI distribution registry".into(),
            }),
        }
    }

    fn send_once(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        auth: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<ureq::http::Response<ureq::Body>, RegistryError> {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = auth {
            all.push(("Authorization", a));
        }
        let result = match method {
            Method::Get | Method::Head => {
                let mut b = if method == Method::Get {
                    self.agent.get(url)
                } else {
                    self.agent.head(url)
                };
                for (k, v) in &all {
                    b = b.header(*k, *v);
                }
                b.call()
            }
            Method::Put | Method::Post | Method::Patch => {
                let mut b = match method {
                    Method::Put => self.agent.put(url),
                    Method::Patch => self.agent.patch(url),
                    _ => self.agent.post(url),
                };
                for (k, v) in &all {
                    b = b.header(*k, *v);
                }
                b.send(body.unwrap_or_default())
            }
        };
        result.map_err(|e| RegistryError::Transport {
            url: url.to_string(),
            cause: describe(&e),
        })
    }

    /// Sends a request with authentication (answering one challenge) and retries (429,
    /// 5xx, dropped connections, with backoff and `Retry-After`). Returns the final response,
    /// whatever its status.
    fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        scope: &str,
        body: Option<&[u8]>,
    ) -> Result<ureq::http::Response<ureq::Body>, RegistryError> {
        let mut failed = 0u32;
        let mut challenged = false;
        loop {
            let auth = self.auth_for(scope);
            let (err, after) = match self.send_once(method, url, headers, auth.as_deref(), body) {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if status == 401 && !challenged {
                        challenged = true;
                        let challenge = resp
                            .headers()
                            .get("www-authenticate")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        self.authenticate(challenge.as_deref(), scope)?;
                        continue;
                    }
                    if status != 429 && status < 500 {
                        return Ok(resp);
                    }
                    let after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    if failed + 1 >= self.opts.attempts.max(1) {
                        return Ok(resp);
                    }
                    (
                        RegistryError::Status {
                            url: url.to_string(),
                            status,
                            message: String::new(),
                        },
                        after,
                    )
                }
                Err(e) => (e, None),
            };
            failed += 1;
            if failed >= self.opts.attempts.max(1) {
                return Err(err);
            }
            std::thread::sleep(self.backoff(failed, after));
        }
    }

    fn backoff(&self, failed: u32, after: Option<Duration>) -> Duration {
        let d = match after {
            Some(a) => a,
            None => self
                .opts
                .base_delay
                .saturating_mul(1u32 << failed.saturating_sub(1).min(10)),
        };
        d.min(self.opts.max_delay)
    }

    /// The Authorization header for `scope`, if one is known.
    fn auth_for(&self, scope: &str) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        tokens.get(scope).or_else(|| tokens.get("*")).cloned()
    }

    /// Answers a challenge: Basic with the credentials; Bearer by asking the realm for a
    /// token (with the credentials, if any, as Basic auth).
    fn authenticate(&self, challenge: Option<&str>, scope: &str) -> Result<(), RegistryError> {
        let unauthorized = |reason: String| RegistryError::Unauthorized {
            registry: self.registry.clone(),
            reason,
        };
        let Some(ch) = challenge.and_then(parse_challenge) else {
            return Err(unauthorized(
                "HTTP 401 without a Basic or Bearer challenge".into(),
            ));
        };
        let header = match ch {
            Challenge::Basic => {
                let Some(c) = &self.opts.credentials else {
                    return Err(unauthorized(
                        "the registry wants a user name and password (--username and --password-stdin, or docker login)"
                            .into(),
                    ));
                };
                if let Ok(mut t) = self.tokens.lock() {
                    t.insert("*".into(), c.basic_header());
                }
                return Ok(());
            }
            Challenge::Bearer {
                realm,
                service,
                scope: ch_scope,
            } => {
                let scope_q = ch_scope.unwrap_or_else(|| scope.to_string());
                let mut url = realm.clone();
                let mut sep = if url.contains('?') { '&' } else { '?' };
                if let Some(s) = &service {
                    url.push(sep);
                    url.push_str("service=");
                    url.push_str(&encode(s));
                    sep = '&';
                }
                if !scope_q.is_empty() {
                    url.push(sep);
                    url.push_str("scope=");
                    url.push_str(&encode(&scope_q));
                }
                if !(realm.starts_with("https://") || realm.starts_with("http://")) {
                    return Err(unauthorized(format!(
                        "the token realm {realm:?} is not an http(s) URL"
                    )));
                }
                if realm.starts_with("http://")
                    && self.opts.credentials.is_some()
                    && !self.opts.insecure
                    && !is_loopback(host_of(&realm))
                {
                    return Err(unauthorized(format!(
                        "refusing to send credentials to the plain-HTTP token realm {realm} (--insecure allows it)"
                    )));
                }
                let basic = self
                    .opts
                    .credentials
                    .as_ref()
                    .map(Credentials::basic_header);
                let mut failed = 0u32;
                let resp = loop {
                    match self.send_once(Method::Get, &url, &[], basic.as_deref(), None) {
                        Ok(r) if r.status().as_u16() == 429 || r.status().as_u16() >= 500 => {
                            failed += 1;
                            if failed >= self.opts.attempts.max(1) {
                                break r;
                            }
                        }
                        Ok(r) => break r,
                        Err(e) => {
                            failed += 1;
                            if failed >= self.opts.attempts.max(1) {
                                return Err(e);
                            }
                        }
                    }
                    std::thread::sleep(self.backoff(failed, None));
                };
                let status = resp.status().as_u16();
                if status != 200 {
                    let who = if self.opts.credentials.is_some() {
                        "with the given credentials"
                    } else {
                        "anonymously (give credentials with --username and --password-stdin, or docker login)"
                    };
                    return Err(unauthorized(format!(
                        "the token service {} refused a token {who} (HTTP {status})",
                        strip_query(&realm)
                    )));
                }
                let body = read_limited(resp, 1 << 20, &realm)?;
                #[derive(serde::Deserialize)]
                struct Token {
                    token: Option<String>,
                    access_token: Option<String>,
                }
                let t: Token = serde_json::from_slice(&body).map_err(|_| {
                    unauthorized(format!(
                        "the token service {} did not answer with a token",
                        strip_query(&realm)
                    ))
                })?;
                let token = t
                    .token
                    .or(t.access_token)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        unauthorized(format!(
                            "the token service {} did not answer with a token",
                            strip_query(&realm)
                        ))
                    })?;
                format!("Bearer {token}")
            }
        };
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(scope.to_string(), header);
        }
        Ok(())
    }

    fn url(&self, repo: &str, kind: &str, reference: &str) -> String {
        format!("{}/v2/{repo}/{kind}/{reference}", self.base)
    }

    /// Turns a non-success response into an error (with the registry's own message).
    fn fail(&self, url: &str, resp: ureq::http::Response<ureq::Body>) -> RegistryError {
        let status = resp.status().as_u16();
        let body = read_limited(resp, MAX_ERROR_BODY, url).unwrap_or_default();
        let message = registry_message(&body);
        match status {
            404 => RegistryError::NotFound {
                url: url.to_string(),
                message,
            },
            401 | 403 => RegistryError::Unauthorized {
                registry: self.registry.clone(),
                reason: format!(
                    "HTTP {status} for {url}{}",
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    }
                ),
            },
            _ => RegistryError::Status {
                url: url.to_string(),
                status,
                message,
            },
        }
    }

    /// `GET /v2/REPO/manifests/REF` (a tag or a digest), at most `limit` bytes. The digest of
    /// the bytes is checked when `reference` is a digest.
    pub fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
        limit: u64,
    ) -> Result<FetchedManifest, RegistryError> {
        let url = self.url(repo, "manifests", reference);
        let accept = MANIFEST_TYPES.join(", ");
        let scope = pull_scope(repo);
        let resp = self.request(Method::Get, &url, &[("Accept", &accept)], &scope, None)?;
        if resp.status().as_u16() != 200 {
            return Err(self.fail(&url, resp));
        }
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_string());
        let bytes = read_limited(resp, limit, &url)?;
        let digest = match Digest::parse(reference) {
            Ok(want) => {
                let got = want.of_same_kind(&bytes);
                if got != want {
                    return Err(RegistryError::DigestMismatch {
                        what: format!("manifest {url}"),
                        expected: want.to_string(),
                        actual: got.to_string(),
                    });
                }
                want
            }
            Err(_) => Digest::sha256(&bytes),
        };
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Sniff {
            media_type: Option<String>,
            manifests: Option<serde::de::IgnoredAny>,
        }
        let sniff: Option<Sniff> = serde_json::from_slice(&bytes).ok();
        let media_type = match (sniff, content_type) {
            (
                Some(Sniff {
                    media_type: Some(t),
                    ..
                }),
                _,
            ) => t,
            (_, Some(t)) if MANIFEST_TYPES.contains(&t.as_str()) => t,
            (
                Some(Sniff {
                    manifests: Some(_), ..
                }),
                _,
            ) => MANIFEST_TYPES[1].to_string(),
            _ => MANIFEST_TYPES[0].to_string(),
        };
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// `PUT /v2/REPO/manifests/REF` (a tag, or the digest): returns the manifest's digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, RegistryError> {
        let url = self.url(repo, "manifests", reference);
        let scope = push_scope(repo);
        let resp = self.request(
            Method::Put,
            &url,
            &[("Content-Type", media_type)],
            &scope,
            Some(bytes),
        )?;
        if resp.status().as_u16() != 201 && resp.status().as_u16() != 200 {
            return Err(self.fail(&url, resp));
        }
        Ok(Digest::sha256(bytes))
    }

    /// `HEAD /v2/REPO/blobs/DIGEST`: the blob's size when the registry has it.
    pub fn blob_size(&self, repo: &str, digest: &Digest) -> Result<Option<u64>, RegistryError> {
        let url = self.url(repo, "blobs", &digest.to_string());
        let resp = self.request(Method::Head, &url, &[], &pull_scope(repo), None)?;
        match resp.status().as_u16() {
            200 => Ok(resp
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())),
            404 => Ok(None),
            _ => Err(self.fail(&url, resp)),
        }
    }

    /// `GET /v2/REPO/blobs/DIGEST` whole into memory (configs, signatures), at most `limit`
    /// bytes, verified against the digest.
    pub fn get_blob(
        &self,
        repo: &str,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let mut out = Vec::new();
        self.get_blob_to(repo, digest, None, limit, &mut out)?;
        Ok(out)
    }

    /// Streams `GET /v2/REPO/blobs/DIGEST` into `out`, hashing on the way; the digest (and the
    /// size, when given) must match. Returns the byte count. A dropped connection is retried
    /// from the start (the caller's `out` is then written again from byte 0: give a
    /// `Seek`-able or truncatable sink, see [`crate::BlobCache`]); the last failure is a
    /// [`RegistryError::Dropped`].
    pub fn get_blob_to(
        &self,
        repo: &str,
        digest: &Digest,
        size: Option<u64>,
        limit: u64,
        out: &mut dyn ResettableWrite,
    ) -> Result<u64, RegistryError> {
        let url = self.url(repo, "blobs", &digest.to_string());
        let scope = pull_scope(repo);
        let mut failed = 0u32;
        loop {
            let resp = self.request(Method::Get, &url, &[], &scope, None)?;
            if resp.status().as_u16() != 200 {
                return Err(self.fail(&url, resp));
            }
            out.reset().map_err(|e| RegistryError::Transport {
                url: url.clone(),
                cause: format!("resetting the download: {e}"),
            })?;
            match copy_verified(resp, &url, digest, size, limit, out) {
                Ok(n) => return Ok(n),
                Err(e @ RegistryError::Dropped { .. }) => {
                    failed += 1;
                    if failed >= self.opts.attempts.max(1) {
                        return Err(e);
                    }
                    std::thread::sleep(self.backoff(failed, None));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Uploads a blob held in memory (monolithic: `POST` then `PUT ?digest=`), unless the
    /// registry has it.
    pub fn put_blob(&self, repo: &str, digest: &Digest, bytes: &[u8]) -> Result<(), RegistryError> {
        let actual = digest.of_same_kind(bytes);
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                what: "blob to upload".into(),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        if self.blob_size(repo, digest)?.is_some() {
            return Ok(());
        }
        let location = self.start_upload(repo)?;
        self.finish_upload(repo, digest, location, bytes)
    }

    /// Uploads `size` bytes read from `data` (a file, say) whose digest the caller computed,
    /// unless the registry has the blob: in chunks of [`ClientOptions::upload_chunk`] bytes (`PATCH` with
    /// `Content-Range`, then `PUT ?digest=`), so memory stays bounded whatever the size.
    /// The registry checks the digest of what it received.
    pub fn put_blob_from(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        data: &mut dyn Read,
        what: &str,
    ) -> Result<(), RegistryError> {
        if self.blob_size(repo, digest)?.is_some() {
            return Ok(());
        }
        let scope = push_scope(repo);
        let mut location = self.start_upload(repo)?;
        let chunk = self.opts.upload_chunk.max(1) as u64;
        let mut buf = vec![0u8; chunk.min(size.max(1)) as usize];
        let mut sent = 0u64;
        while size - sent > buf.len() as u64 {
            data.read_exact(&mut buf)
                .map_err(|e| RegistryError::io(std::path::Path::new(what), "reading", e))?;
            let range = format!("{sent}-{}", sent + buf.len() as u64 - 1);
            let resp = self.request(
                Method::Patch,
                &location,
                &[
                    ("Content-Type", "application/octet-stream"),
                    ("Content-Range", &range),
                ],
                &scope,
                Some(&buf),
            )?;
            if resp.status().as_u16() != 202 {
                return Err(self.fail(&strip_query(&location), resp));
            }
            location = self.location_of(&resp, &location)?;
            sent += buf.len() as u64;
        }
        let rest = (size - sent) as usize;
        buf.truncate(rest);
        data.read_exact(&mut buf)
            .map_err(|e| RegistryError::io(std::path::Path::new(what), "reading", e))?;
        self.finish_upload(repo, digest, location, &buf)
    }

    /// `POST /v2/REPO/blobs/uploads/`: the upload's location.
    fn start_upload(&self, repo: &str) -> Result<String, RegistryError> {
        let url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let resp = self.request(Method::Post, &url, &[], &push_scope(repo), Some(&[]))?;
        if resp.status().as_u16() != 202 {
            return Err(self.fail(&url, resp));
        }
        self.location_of(&resp, &url)
    }

    /// The absolute URL of a response's `Location` header.
    fn location_of(
        &self,
        resp: &ureq::http::Response<ureq::Body>,
        url: &str,
    ) -> Result<String, RegistryError> {
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::Invalid {
                what: strip_query(url),
                reason: "the upload answer has no Location".into(),
            })?;
        Ok(
            if location.starts_with("http://") || location.starts_with("https://") {
                location.to_string()
            } else {
                format!("{}{}", self.base, location)
            },
        )
    }

    /// The last bytes of an upload, with `PUT LOCATION?digest=`.
    fn finish_upload(
        &self,
        repo: &str,
        digest: &Digest,
        location: String,
        last: &[u8],
    ) -> Result<(), RegistryError> {
        let mut put = location;
        put.push(if put.contains('?') { '&' } else { '?' });
        put.push_str("digest=");
        put.push_str(&encode(&digest.to_string()));
        let resp = self.request(
            Method::Put,
            &put,
            &[("Content-Type", "application/octet-stream")],
            &push_scope(repo),
            Some(last),
        )?;
        if resp.status().as_u16() != 201 {
            return Err(self.fail(&strip_query(&put), resp));
        }
        Ok(())
    }
}

/// A sink that can start again from nothing (a retried download).
pub trait ResettableWrite: Write {
    fn reset(&mut self) -> std::io::Result<()>;
}

impl ResettableWrite for Vec<u8> {
    fn reset(&mut self) -> std::io::Result<()> {
        self.clear();
        Ok(())
    }
}

impl ResettableWrite for std::fs::File {
    fn reset(&mut self) -> std::io::Result<()> {
        use std::io::Seek;
        self.set_len(0)?;
        self.seek(std::io::SeekFrom::Start(0))?;
        Ok(())
    }
}

fn copy_verified(
    resp: ureq::http::Response<ureq::Body>,
    url: &str,
    digest: &Digest,
    size: Option<u64>,
    limit: u64,
    out: &mut dyn ResettableWrite,
) -> Result<u64, RegistryError> {
    let limit = size.unwrap_or(limit).min(limit);
    let announced = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = announced
        && len > limit
    {
        return Err(match size {
            Some(s) => RegistryError::SizeMismatch {
                what: format!("blob {url}"),
                expected: s,
                actual: len,
            },
            None => RegistryError::TooLarge {
                what: format!("blob {url}"),
                limit,
            },
        });
    }
    let mut reader = resp.into_body().into_reader().take(limit + 1);
    let mut hasher = digest.hasher();
    let mut buf = vec![0u8; 256 << 10];
    let mut n = 0u64;
    loop {
        let k = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(RegistryError::Dropped {
                    url: url.to_string(),
                    received: n,
                    expected: size
                        .or(announced)
                        .map_or_else(|| "?".to_string(), |s| s.to_string()),
                    cause: e.to_string(),
                });
            }
        };
        let chunk = buf.get(..k).unwrap_or_default();
        hasher.update(chunk);
        out.write_all(chunk).map_err(|e| RegistryError::Transport {
            url: url.to_string(),
            cause: format!("writing the download: {e}"),
        })?;
        n += k as u64;
    }
    if n > limit {
        return Err(match size {
            Some(s) => RegistryError::SizeMismatch {
                what: format!("blob {url}"),
                expected: s,
                actual: n,
            },
            None => RegistryError::TooLarge {
                what: format!("blob {url}"),
                limit,
            },
        });
    }
    if let Some(s) = size.or(announced)
        && n < s
    {
        return Err(RegistryError::Dropped {
            url: url.to_string(),
            received: n,
            expected: s.to_string(),
            cause: "the body ended early".into(),
        });
    }
    let actual = hasher.finish();
    if actual != *digest {
        return Err(RegistryError::DigestMismatch {
            what: format!("blob {url}"),
            expected: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(n)
}

fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

fn read_limited(
    resp: ureq::http::Response<ureq::Body>,
    limit: u64,
    url: &str,
) -> Result<Vec<u8>, RegistryError> {
    let mut out = Vec::new();
    resp.into_body()
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| RegistryError::Dropped {
            url: strip_query(url),
            received: out.len() as u64,
            expected: "?".into(),
            cause: e.to_string(),
        })?;
    if out.len() as u64 > limit {
        return Err(RegistryError::TooLarge {
            what: strip_query(url),
            limit,
        });
    }
    Ok(out)
}

/// The first message of a registry's `{"errors":[{"code","message"}]}` body.
fn registry_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<E>,
    }
    #[derive(serde::Deserialize)]
    struct E {
        code: Option<String>,
        message: Option<String>,
    }
    let Ok(e) = serde_json::from_slice::<Errors>(body) else {
        return String::new();
    };
    e.errors
        .first()
        .map(|e| {
            let msg: String = e
                .message
                .clone()
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            match &e.code {
                Some(c) => format!("{c}: {msg}"),
                None => msg,
            }
        })
        .unwrap_or_default()
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => format!("connection failed: {io}"),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::Tls(m) => format!("TLS: {m}"),
        other => other.to_string(),
    }
}

/// The HTTP agent: timeouts, no proxy for loopback registries, TLS roots.
fn agent(opts: &ClientOptions, host: &str) -> Result<ureq::Agent, RegistryError> {
    let insecure = opts.insecure;
    use ureq::tls::{RootCerts, TlsConfig};
    let mut tls = TlsConfig::builder().disable_verification(insecure);
    if let Some(path) = &opts.ca_file {
        let pem = std::fs::read(path).map_err(|e| RegistryError::CaFile {
            path: path.clone(),
            reason: format!("cannot read the CA file: {e}"),
        })?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => {
                    return Err(RegistryError::CaFile {
                        path: path.clone(),
                        reason: format!("not a PEM file: {e}"),
                    });
                }
            }
        }
        if certs.is_empty() {
            return Err(RegistryError::CaFile {
                path: path.clone(),
                reason: "no CERTIFICATE block in the PEM file".into(),
            });
        }
        tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    let mut cfg = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        .timeout_per_read(Some(opts.timeout))
        .max_redirects(10)
        .tls_config(tls.build())
        .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")));
    if is_loopback(host) {
        cfg = cfg.proxy(None);
    }
    Ok(cfg.build().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_messages_and_encoding() {
        assert_eq!(
            registry_message(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
            ),
            "MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(registry_message(b"<html>"), "");
        assert_eq!(encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
        assert_eq!(host_of("http://127.0.0.1:5/token?x"), "127.0.0.1:5");
    }
}
