//! # moat-registry: an OCI distribution client
//!
//! ```no_run
//! use moat_registry::{Client, ClientOptions, Reference};
//! # fn main() -> Result<(), moat_registry::RegistryError> {
//! let r = Reference::parse("127.0.0.1:5000/bench/lang-app:latest")?;
//! let client = Client::connect(r.api_host(), &ClientOptions::default())?;
//! let m = client.get_manifest(&r.repository, &r.manifest_ref(), 16 << 20)?;
//! println!("{} {}", m.media_type, m.digest);
//! # Ok(()) }
//! ```
//!
//! * [`Reference`]: `[REGISTRY/]REPO[:TAG][@DIGEST]` with Docker's defaults; [`ImageRef`]:
//!   the same read leniently and normalised, to tell whether two spellings name one image.
//! * [`Client`]: one registry; `get_manifest` / `put_manifest` (by tag or digest),
//!   `get_blob` / `get_blob_to` (streamed, verified) / `put_blob` / `blob_size`. It answers
//!   `WWW-Authenticate` challenges itself (Basic with the credentials; Bearer by fetching a
//!   token from the realm, anonymously or with the credentials) and caches tokens per scope;
//!   retries 429, 5xx and dropped connections with exponential backoff (`Retry-After` wins).
//!   TLS is verified (Mozilla's roots, or `ca_file`); plain HTTP only for loopback
//!   registries or with `insecure`.
//! * [`auth`]: [`Credentials`] and Docker's `config.json` (`auths`, `credHelpers`,
//!   `credsStore`).
//! * [`BlobCache`]: content-addressed, verified on every use, LRU-bounded.
//! * [`fetch_blobs`]: many blobs into a cache, concurrently.
//!
//! Rejected: an async client (the rest of moat is synchronous and the work is a handful of
//! large downloads: a few threads suffice); `oci-distribution`/`oci-client` (async, large
//! dependency trees, and no verified cache).

pub mod auth;
mod cache;
mod client;
mod digest;
mod error;
mod reference;

pub use auth::Credentials;
pub use cache::{BlobCache, Lookup, evict_least_recent};
pub use client::{
    Client, ClientOptions, FetchedManifest, MANIFEST_TYPES, ResettableWrite, is_index_type,
};
pub use digest::{Digest, Hasher};
pub use error::RegistryError;
pub use reference::{DOCKER_HUB, ImageRef, Reference, is_loopback};

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// What [`fetch_blobs`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// Blobs found whole in the cache.
    pub hits: usize,
    /// Blobs downloaded (including re-downloads of corrupt entries).
    pub downloaded: usize,
    /// Cached entries that failed verification and were fetched again.
    pub corrupt: usize,
    /// Bytes downloaded.
    pub bytes: u64,
}

/// Counters a progress display polls while [`fetch_blobs`] runs.
#[derive(Debug, Default)]
pub struct FetchProgress {
    /// Bytes of the blobs to download (those not found whole in the cache).
    pub bytes_total: AtomicU64,
    /// Bytes received so far (a retried download counts again from its start).
    pub bytes_done: AtomicU64,
}

/// A sink that counts what it is given into a [`FetchProgress`].
struct Counting<'a> {
    inner: &'a mut std::fs::File,
    progress: Option<&'a FetchProgress>,
    written: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        if let Some(p) = self.progress {
            p.bytes_done.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl ResettableWrite for Counting<'_> {
    fn reset(&mut self) -> std::io::Result<()> {
        if let Some(p) = self.progress {
            p.bytes_done.fetch_sub(self.written, Ordering::Relaxed);
        }
        self.written = 0;
        self.inner.reset()
    }
}

/// Makes sure every blob of `blobs` (digest, size when known) is whole in `cache`, downloading
/// what is missing or corrupt with up to `threads` concurrent downloads. The first failure
/// is returned (the other downloads finish their current blob and stop).
pub fn fetch_blobs(
    client: &Client,
    repo: &str,
    blobs: &[(Digest, Option<u64>)],
    cache: &BlobCache,
    threads: usize,
    limit: u64,
    progress: Option<&FetchProgress>,
) -> Result<FetchStats, RegistryError> {
    let next = AtomicUsize::new(0);
    let bytes = AtomicU64::new(0);
    let stats = Mutex::new(FetchStats::default());
    let failure: Mutex<Option<RegistryError>> = Mutex::new(None);
    let worker = || {
        loop {
            if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                return;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((digest, size)) = blobs.get(i) else {
                return;
            };
            let r = fetch_one(client, repo, digest, *size, cache, limit, progress);
            match r {
                Ok((lookup, n)) => {
                    bytes.fetch_add(n, Ordering::Relaxed);
                    if let Ok(mut s) = stats.lock() {
                        match lookup {
                            Lookup::Hit => s.hits += 1,
                            Lookup::Miss => s.downloaded += 1,
                            Lookup::Corrupt => {
                                s.corrupt += 1;
                                s.downloaded += 1;
                            }
                        }
                    }
                }
                Err(e) => {
                    if let Ok(mut f) = failure.lock()
                        && f.is_none()
                    {
                        *f = Some(e);
                    }
                    return;
                }
            }
        }
    };
    let threads = threads.clamp(1, blobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(worker);
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut s = stats.into_inner().unwrap_or_default();
    s.bytes = bytes.load(Ordering::Relaxed);
    Ok(s)
}

fn fetch_one(
    client: &Client,
    repo: &str,
    digest: &Digest,
    size: Option<u64>,
    cache: &BlobCache,
    limit: u64,
    progress: Option<&FetchProgress>,
) -> Result<(Lookup, u64), RegistryError> {
    let found = cache.lookup(digest, size)?;
    if found == Lookup::Hit {
        return Ok((Lookup::Hit, 0));
    }
    if let (Some(p), Some(n)) = (progress, size) {
        p.bytes_total.fetch_add(n, Ordering::Relaxed);
    }
    let mut tmp = cache.temp_file()?;
    let mut sink = Counting {
        inner: tmp.as_file_mut(),
        progress,
        written: 0,
    };
    let n = client.get_blob_to(repo, digest, size, limit, &mut sink)?;
    tmp.as_file_mut()
        .flush()
        .map_err(|e| RegistryError::io(tmp.path(), "writing a download", e))?;
    cache.commit(tmp, digest)?;
    Ok((found, n))
}
