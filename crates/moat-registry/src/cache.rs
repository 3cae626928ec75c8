//! A content-addressed blob cache: `ROOT/blobs/<algo>/<hex>`, the layout of an OCI image
//! layout's blobs, so a reader of OCI layouts can read it as is.
//!
//! * A blob enters only after its digest and size were checked while it streamed into a
//!   temporary file under `ROOT/tmp/` (then renamed into place: readers never see a partial
//!   blob, and concurrent moat processes fetching the same blob both end with a whole one).
//! * A blob is trusted only after it is hashed again on use ([`BlobCache::lookup`]): a corrupt
//!   or truncated entry is removed and fetched again, never read.
//! * Use touches the file's modification time; [`BlobCache::evict`] removes the least
//!   recently used blobs until the total fits the bound, sparing the ones in use.

use crate::digest::Digest;
use crate::error::RegistryError;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Clone)]
pub struct BlobCache {
    root: PathBuf,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The blob is there and verified.
    Hit,
    /// Not cached.
    Miss,
    /// Cached, but its bytes do not match its digest (or size): removed.
    Corrupt,
}

impl BlobCache {
    /// A cache rooted at `root` (created when needed).
    pub fn new(root: impl Into<PathBuf>) -> BlobCache {
        BlobCache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The name of a blob relative to the root (`blobs/sha256/<hex>`).
    pub fn blob_name(digest: &Digest) -> String {
        format!("blobs/{}/{}", digest.algorithm(), digest.hex())
    }

    /// Where a blob lives.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join(Self::blob_name(digest))
    }

    /// Checks a cached blob: its size (when known) and its digest, by reading it. A bad one
    /// is removed. A good one has its modification time set to now (least recently used).
    pub fn lookup(&self, digest: &Digest, size: Option<u64>) -> Result<Lookup, RegistryError> {
        let path = self.path(digest);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(RegistryError::io(&path, "opening a cached blob", e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| RegistryError::io(&path, "reading a cached blob", e))?;
        let ok = meta.is_file()
            && size.is_none_or(|s| s == meta.len())
            && hash_file(&mut file, digest)
                .map_err(|e| RegistryError::io(&path, "reading a cached blob", e))?
                == *digest;
        if !ok {
            drop(file);
            std::fs::remove_file(&path)
                .map_err(|e| RegistryError::io(&path, "removing a corrupt cached blob", e))?;
            return Ok(Lookup::Corrupt);
        }
        // Best effort: a read-only cache still works, only its LRU order is stale.
        let _ = file.set_modified(SystemTime::now());
        Ok(Lookup::Hit)
    }

    /// A temporary file to download into, under `ROOT/tmp`.
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, RegistryError> {
        let dir = self.root.join("tmp");
        std::fs::create_dir_all(&dir)
            .map_err(|e| RegistryError::io(&dir, "creating the cache directory", e))?;
        tempfile::Builder::new()
            .prefix("blob-")
            .suffix(".part")
            .tempfile_in(&dir)
            .map_err(|e| RegistryError::io(&dir, "creating a temporary file", e))
    }

    /// Moves a verified download into place.
    pub fn commit(
        &self,
        tmp: tempfile::NamedTempFile,
        digest: &Digest,
    ) -> Result<PathBuf, RegistryError> {
        let path = self.path(digest);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| RegistryError::io(dir, "creating the cache directory", e))?;
        }
        tmp.persist(&path)
            .map_err(|e| RegistryError::io(&path, "storing a blob in the cache", e.error))?;
        Ok(path)
    }

    /// Every cached blob: (path, size, last use).
    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let mut out = Vec::new();
        let Ok(algos) = std::fs::read_dir(self.root.join("blobs")) else {
            return out;
        };
        for algo in algos.flatten() {
            let Ok(files) = std::fs::read_dir(algo.path()) else {
                continue;
            };
            for f in files.flatten() {
                if let Ok(m) = f.metadata()
                    && m.is_file()
                {
                    out.push((
                        f.path(),
                        m.len(),
                        m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    ));
                }
            }
        }
        out
    }

    /// Total bytes of the cached blobs.
    pub fn size(&self) -> u64 {
        self.entries().iter().map(|e| e.1).sum()
    }

    /// Removes the least recently used blobs until the total is at most `max_bytes`; blobs in
    /// `keep` (those of the image being read) stay. Returns (blobs removed, bytes freed).
    pub fn evict(&self, max_bytes: u64, keep: &[Digest]) -> (usize, u64) {
        let keep: Vec<PathBuf> = keep.iter().map(|d| self.path(d)).collect();
        evict_least_recent(self.entries(), max_bytes, &keep)
    }

    /// Removes every cached blob and partial download (`moat cache clean`): the `blobs/` and
    /// `tmp/` directories the cache made, then the root if that leaves it empty (nothing else
    /// in a directory given as the cache is touched). Returns the bytes freed.
    pub fn clean(&self) -> Result<u64, RegistryError> {
        let size = self.size();
        for sub in ["blobs", "tmp"] {
            let d = self.root.join(sub);
            match std::fs::remove_dir_all(&d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(RegistryError::io(&d, "removing the cache", e)),
            }
        }
        let _ = std::fs::remove_dir(&self.root);
        Ok(size)
    }
}

fn hash_file(f: &mut File, digest: &Digest) -> std::io::Result<Digest> {
    let mut h = digest.hasher();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(h.finish())
}

/// The eviction of a size-bounded file cache (the blob cache, moat-scan's layer cache):
/// removes files of `entries` (path, size, last use), least recently used first (ties by
/// path, so the order is the same on every run), until their total is at most `max_bytes`;
/// the files in `keep` stay. Returns (files removed, bytes freed).
pub fn evict_least_recent(
    mut entries: Vec<(PathBuf, u64, SystemTime)>,
    max_bytes: u64,
    keep: &[PathBuf],
) -> (usize, u64) {
    let mut total: u64 = entries.iter().map(|e| e.1).sum();
    entries.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
    let (mut n, mut freed) = (0, 0);
    for (path, size, _) in entries {
        if total <= max_bytes {
            break;
        }
        if keep.contains(&path) {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= size;
            freed += size;
            n += 1;
        }
    }
    (n, freed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn put(cache: &BlobCache, bytes: &[u8]) -> Digest {
        let d = Digest::sha256(bytes);
        let mut t = cache.temp_file().unwrap();
        t.write_all(bytes).unwrap();
        cache.commit(t, &d).unwrap();
        d
    }

    #[test]
    fn corrupt_entries_are_removed_and_lru_evicts() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(dir.path().join("c"));
        let a = put(&cache, b"aaaa");
        assert_eq!(cache.lookup(&a, Some(4)).unwrap(), Lookup::Hit);
        assert_eq!(cache.lookup(&a, Some(5)).unwrap(), Lookup::Corrupt);
        assert_eq!(cache.lookup(&a, None).unwrap(), Lookup::Miss);
        let a = put(&cache, b"aaaa");
        std::fs::write(cache.path(&a), b"aaab").unwrap();
        assert_eq!(cache.lookup(&a, None).unwrap(), Lookup::Corrupt);
        // LRU: b older than c; a bound of 5 bytes removes b first.
        let b = put(&cache, b"bbbb");
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        File::options()
            .write(true)
            .open(cache.path(&b))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let c = put(&cache, b"cccc");
        assert_eq!(cache.evict(5, &[]), (1, 4));
        assert_eq!(cache.lookup(&b, None).unwrap(), Lookup::Miss);
        assert_eq!(cache.lookup(&c, None).unwrap(), Lookup::Hit);
        assert_eq!(cache.evict(0, std::slice::from_ref(&c)), (0, 0));
        assert_eq!(cache.clean().unwrap(), 4);
        assert_eq!(cache.size(), 0);
    }
}
