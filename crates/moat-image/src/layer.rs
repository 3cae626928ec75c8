//! The verified layer stream:
//! blob bytes -> hash (stored digest) -> gzip/zstd/none -> hash (diff_id) + limits -> caller.
//!
//! What binds a layer's bytes to the image depends on the format. An OCI manifest (an OCI
//! layout, an OCI archive, a registry) names each layer blob by its digest, and the
//! manifest is itself read by digest: the stored digest binds the bytes, and a compressed
//! layer's diff_id (a claim of the config, which the manifest binds by digest too) is not
//! recomputed. A docker-archive's `manifest.json` is bound to nothing (only the config is
//! named by its digest, the image id), so its layers are checked against the config's
//! diff_ids. An uncompressed layer's one hash serves both checks, so both are made.

use crate::Limits;
use crate::digest::{Algo, Digest, StreamHasher};
use crate::error::ImageError;
use crate::store::{Blob, read_up_to};
use std::fs::File;
use std::io::{self, BufReader, Chain, Cursor, Read, Take};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The ratio limit only applies once a layer has produced this many bytes.
const RATIO_FLOOR: u64 = 64 << 20;
const BUF_SIZE: usize = 128 << 10;

/// What a layer reader must check, decided when the image is opened.
#[derive(Debug, Clone)]
pub(crate) struct LayerPlan {
    /// Name of the blob in the store.
    pub(crate) blob: String,
    /// Expected digest of the stored bytes (descriptor, or the digest in the blob's name).
    pub(crate) stored: Option<Digest>,
    /// Size the descriptor claims, if any.
    pub(crate) size: Option<u64>,
    /// `rootfs.diff_ids[i]`.
    pub(crate) diff_id: Digest,
    /// Whether the tar bytes are checked against `diff_id` when the layer is compressed
    /// (an uncompressed layer is checked anyway: its one hash gives both digests). Off
    /// only where `stored` comes from a manifest read by digest (see the module
    /// documentation).
    pub(crate) check_diff_id: bool,
}

impl LayerPlan {
    /// Whether the reader checks the tar bytes against `diff_id` (an uncompressed layer's
    /// one hash checks it anyway): where asked to, and where no stored digest binds the
    /// bytes instead.
    fn checks_diff_id(&self) -> bool {
        self.check_diff_id || self.stored.is_none()
    }

    /// What identifies the layer's content once read: the digest the reader verifies
    /// whatever the layer's compression, named by what it is the digest of (`blob ` the
    /// stored bytes, where a manifest binds them; else `diff-id ` the tar bytes). The
    /// layer cache is keyed by it, so a config's claim cannot lend one layer's cached facts
    /// to other bytes. The two names keep the kinds apart: the same bytes are read as they
    /// are under a diff-id but decompressed under a blob digest when they are gzip or zstd,
    /// so one digest may stand for two different contents.
    pub(crate) fn content_id(&self) -> String {
        match &self.stored {
            Some(stored) if !self.checks_diff_id() => format!("blob {stored}"),
            _ => format!("diff-id {}", self.diff_id),
        }
    }
}

/// Identifies the layer in messages.
#[derive(Debug)]
struct Ctx {
    input: PathBuf,
    index: usize,
    label: String,
}

impl Ctx {
    fn err_truncated(&self, expected: u64, actual: u64) -> ImageError {
        ImageError::Truncated {
            path: self.input.clone(),
            layer: self.index,
            digest: self.label.clone(),
            expected,
            actual,
        }
    }
}

/// Counts and hashes the stored bytes; a short blob is an error, not an EOF.
struct Stored {
    inner: Take<File>,
    hasher: StreamHasher,
    /// Off for an uncompressed layer whose stored digest is its diff_id: the bytes are then
    /// hashed once, by the diff_id hasher.
    hashing: bool,
    count: u64,
    expected: u64,
    progress: Arc<AtomicU64>,
    ctx: Arc<Ctx>,
}

impl Read for Stored {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                return Err(io::Error::other(ImageError::Io {
                    path: self.ctx.input.clone(),
                    what: format!("reading layer {} ({})", self.ctx.index, self.ctx.label),
                    cause: e,
                }));
            }
        };
        if n == 0 && !buf.is_empty() && self.count < self.expected {
            return Err(io::Error::other(
                self.ctx.err_truncated(self.expected, self.count),
            ));
        }
        if self.hashing {
            self.hasher.update(buf.get(..n).unwrap_or_default());
        }
        self.count += n as u64;
        self.progress.store(self.count, Ordering::Relaxed);
        Ok(n)
    }
}

type Peeked = BufReader<Chain<Cursor<Vec<u8>>, Stored>>;

enum Decoder {
    Plain(Peeked),
    Gzip(Box<flate2::bufread::MultiGzDecoder<Peeked>>),
    Zstd(zstd::stream::read::Decoder<'static, Peeked>),
}

impl Decoder {
    fn name(&self) -> &'static str {
        match self {
            Decoder::Plain(_) => "uncompressed",
            Decoder::Gzip(_) => "gzip",
            Decoder::Zstd(_) => "zstd",
        }
    }
    fn source(&mut self) -> &mut Peeked {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(r) => r.get_mut(),
            Decoder::Zstd(r) => r.get_mut(),
        }
    }
    fn stored(&mut self) -> &mut Stored {
        self.source().get_mut().get_mut().1
    }
}

impl Read for Decoder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(r) => r.read(buf),
            Decoder::Zstd(r) => r.read(buf),
        }
    }
}

/// Statistics of a fully read and verified layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerStats {
    /// Bytes of the blob as stored (compressed for gzip/zstd layers).
    pub stored_bytes: u64,
    /// Bytes of the uncompressed tar.
    pub uncompressed_bytes: u64,
}

/// A stream of one layer's uncompressed tar bytes, hashed and checked as it goes.
///
/// Read it (e.g. with [`crate::tarstream::TarReader::new`]`(&mut reader)`), then call
/// [`LayerReader::finish`], which reads whatever is left and verifies the digests (the
/// stored bytes', and the diff_id where it is checked: see the module documentation).
/// Errors from `read` are `io::Error::other(ImageError)`; see [`ImageError::from_io`].
pub struct LayerReader {
    decoder: Decoder,
    /// The hash of the tar bytes: none for a compressed layer whose diff_id is not checked.
    diff: Option<StreamHasher>,
    uncompressed: u64,
    limits: Limits,
    expected_stored: Option<Digest>,
    expected_diff: Digest,
    /// The diff_id hasher also gives the stored digest (uncompressed layers).
    shared_hash: bool,
    progress: Arc<AtomicU64>,
    ctx: Arc<Ctx>,
    unknown_compression: Option<&'static str>,
}

impl std::fmt::Debug for LayerReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerReader")
            .field("input", &self.ctx.input)
            .field("layer", &self.ctx.index)
            .field("compression", &self.decoder.name())
            .field("uncompressed", &self.uncompressed)
            .finish()
    }
}

impl LayerReader {
    pub(crate) fn new(
        input: PathBuf,
        index: usize,
        plan: &LayerPlan,
        blob: Blob,
        limits: Limits,
    ) -> Result<LayerReader, ImageError> {
        let label = match &plan.stored {
            Some(d) => d.to_string(),
            None => plan.blob.clone(),
        };
        let ctx = Arc::new(Ctx {
            input,
            index,
            label,
        });
        let progress = Arc::new(AtomicU64::new(0));
        let stored_algo = plan.stored.as_ref().map_or(Algo::Sha256, |d| d.algo);
        let mut stored = Stored {
            inner: blob.reader,
            // Inline for the magic bytes; replaced below once the layer's form is known.
            hasher: StreamHasher::new(stored_algo, 0),
            hashing: true,
            count: 0,
            expected: blob.size,
            progress: Arc::clone(&progress),
            ctx: Arc::clone(&ctx),
        };
        let mut magic = [0u8; 4];
        let n = read_up_to(&mut stored, &mut magic)
            .map_err(|e| ImageError::from_io(e, &ctx.input, "reading layer"))?;
        let magic = magic.get(..n).unwrap_or_default().to_vec();
        let is_gzip = magic.starts_with(&[0x1f, 0x8b]);
        let is_zstd = magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
        let unknown_compression = other_compression(&magic);
        // Uncompressed: the stored bytes are the tar bytes, so one hash serves both checks.
        let shared_hash = !is_gzip && !is_zstd && stored_algo == plan.diff_id.algo;
        let hash_tar = shared_hash || plan.checks_diff_id();
        stored.hashing = !shared_hash;
        if !shared_hash {
            // A compressed layer's stored bytes are hashed apart from the tar bytes: on a
            // thread of their own when the layer is large (the magic bytes first).
            stored.hasher = StreamHasher::new(stored_algo, blob.size);
            stored.hasher.update(&magic);
        }
        let peeked = BufReader::with_capacity(BUF_SIZE, Cursor::new(magic).chain(stored));
        let decoder = if is_gzip {
            Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(peeked)))
        } else if is_zstd {
            let d = zstd::stream::read::Decoder::with_buffer(peeked).map_err(|cause| {
                ImageError::Decompress {
                    path: ctx.input.clone(),
                    layer: ctx.index,
                    digest: ctx.label.clone(),
                    compression: "zstd",
                    cause,
                }
            })?;
            Decoder::Zstd(d)
        } else {
            Decoder::Plain(peeked)
        };
        Ok(LayerReader {
            decoder,
            // A compressed layer's reader inflates too: its two hashes go to threads of their
            // own when it is large (the tar bytes are at least as many as the stored ones).
            // An uncompressed layer's one hash stays on the reader, which then does little
            // else: on a two-core machine a thread bought no time there (the analysers use
            // the other core) and cost 15% more CPU (the copy, the hand-over).
            diff: hash_tar.then(|| {
                StreamHasher::new(
                    plan.diff_id.algo,
                    if is_gzip || is_zstd { blob.size } else { 0 },
                )
            }),
            uncompressed: 0,
            limits,
            expected_stored: plan.stored.clone(),
            expected_diff: plan.diff_id.clone(),
            shared_hash,
            progress,
            ctx,
            unknown_compression,
        })
    }

    /// The compression the layer's first bytes suggest when it is one moat does not read
    /// (`xz`, `bzip2`, `lz4`, `lzma`): a hint for the message when the stream turns out not
    /// to be a tar archive. (Only a hint: a tar entry's name may start with the same bytes.)
    pub fn unknown_compression(&self) -> Option<&'static str> {
        self.unknown_compression
    }

    /// Stored (compressed) bytes consumed so far, shared for a progress bar.
    pub fn progress(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.progress)
    }

    /// Read the rest of the layer to EOF (tar padding, trailing blocks), then verify the
    /// stored digest and (where it is checked, see the module documentation) the diff_id.
    pub fn finish(mut self) -> Result<LayerStats, ImageError> {
        let mut buf = vec![0u8; BUF_SIZE];
        let input = self.ctx.input.clone();
        drain(&mut self, &mut buf, &input)?;
        // The decoder is at its end; anything left of the blob is still hashed.
        drain(self.decoder.source(), &mut buf, &input)?;
        let stopped = |ctx: &Ctx| ImageError::Io {
            path: ctx.input.clone(),
            what: format!("hashing layer {} ({})", ctx.index, ctx.label),
            cause: io::Error::other("the hashing thread stopped"),
        };
        let diff = match self.diff.take() {
            Some(mut h) => Some(h.finish().ok_or_else(|| stopped(&self.ctx))?),
            None => None,
        };
        let shared_hash = self.shared_hash;
        let stored = self.decoder.stored();
        let (stored_bytes, expected_bytes) = (stored.count, stored.expected);
        let stored_digest = if shared_hash {
            diff.clone()
        } else {
            stored.hasher.finish()
        };
        let stored_digest = stored_digest.ok_or_else(|| stopped(&self.ctx))?;
        if stored_bytes != expected_bytes {
            return Err(self.ctx.err_truncated(expected_bytes, stored_bytes));
        }
        if let Some(expected) = &self.expected_stored
            && *expected != stored_digest
        {
            return Err(ImageError::DigestMismatch {
                path: self.ctx.input.clone(),
                layer: Some(self.ctx.index),
                subject: format!("layer {} ({}) stored blob", self.ctx.index, self.ctx.label),
                expected: expected.to_string(),
                actual: stored_digest.to_string(),
            });
        }
        if let Some(diff) = diff
            && diff != self.expected_diff
        {
            return Err(ImageError::DigestMismatch {
                path: self.ctx.input.clone(),
                layer: Some(self.ctx.index),
                subject: format!(
                    "layer {} ({}) uncompressed content (diff_id)",
                    self.ctx.index, self.ctx.label
                ),
                expected: self.expected_diff.to_string(),
                actual: diff.to_string(),
            });
        }
        Ok(LayerStats {
            stored_bytes,
            uncompressed_bytes: self.uncompressed,
        })
    }

    fn wrap(&self, e: io::Error) -> io::Error {
        if e.kind() == io::ErrorKind::Interrupted
            || e.get_ref().is_some_and(|r| r.is::<ImageError>())
        {
            return e;
        }
        let ctx = &self.ctx;
        match &self.decoder {
            Decoder::Plain(_) => io::Error::other(ImageError::Io {
                path: ctx.input.clone(),
                what: format!("reading layer {} ({})", ctx.index, ctx.label),
                cause: e,
            }),
            d => io::Error::other(ImageError::Decompress {
                path: ctx.input.clone(),
                layer: ctx.index,
                digest: ctx.label.clone(),
                compression: d.name(),
                cause: e,
            }),
        }
    }

    fn limit(&self, what: String) -> io::Error {
        io::Error::other(ImageError::LimitExceeded {
            path: self.ctx.input.clone(),
            layer: self.ctx.index,
            digest: self.ctx.label.clone(),
            what,
        })
    }
}

impl Read for LayerReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.decoder.read(buf).map_err(|e| self.wrap(e))?;
        if let Some(h) = &mut self.diff {
            h.update(buf.get(..n).unwrap_or_default());
        }
        self.uncompressed += n as u64;
        if self.uncompressed > self.limits.max_layer_bytes {
            return Err(self.limit(format!(
                "uncompressed size exceeds the limit of {} bytes",
                self.limits.max_layer_bytes
            )));
        }
        if self.uncompressed > RATIO_FLOOR {
            let stored = self.progress.load(Ordering::Relaxed).max(1);
            if self.uncompressed / stored > self.limits.max_ratio {
                return Err(self.limit(format!(
                    "compression ratio exceeds {}:1 ({} bytes from {} stored bytes); possible decompression bomb",
                    self.limits.max_ratio, self.uncompressed, stored
                )));
            }
        }
        Ok(n)
    }
}

/// A compression moat does not read, known by its magic bytes.
fn other_compression(magic: &[u8]) -> Option<&'static str> {
    const KNOWN: [(&[u8], &str); 4] = [
        (&[0xfd, b'7', b'z', b'X'], "xz"),
        (b"BZh", "bzip2"),
        (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
        (&[0x5d, 0x00, 0x00], "lzma"),
    ];
    KNOWN
        .iter()
        .find(|(m, _)| magic.starts_with(m))
        .map(|&(_, name)| name)
}

/// Reads `r` to its end, discarding the bytes (they are hashed on the way).
fn drain(r: &mut impl Read, buf: &mut [u8], input: &Path) -> Result<(), ImageError> {
    loop {
        match r.read(buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImageError::from_io(e, input, "reading layer")),
        }
    }
}
