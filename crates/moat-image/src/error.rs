//! The error type of moat-image. Every variant names the input path; the layer
//! variants also name the layer index and its digest (or blob name).

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while opening an input or reading a layer.
///
/// Errors raised inside [`std::io::Read::read`] of a [`crate::LayerReader`] are
/// wrapped as `io::Error::other(ImageError::...)`; use [`ImageError::from_io`]
/// (or `downcast`) to get the typed error back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },

    #[error("{path}: {what}: {cause}")]
    Io {
        path: PathBuf,
        what: String,
        /// Part of the message, so not the error's `source()`: printing the chain would say
        /// it twice.
        cause: io::Error,
    },

    #[error("{path}: not a recognised target: {reason}")]
    UnknownTarget { path: PathBuf, reason: String },

    #[error("invalid target {spec:?}: {reason}")]
    InvalidSpec { spec: String, reason: String },

    #[error("invalid platform {spec:?}: expected os/arch[/variant], e.g. linux/amd64")]
    InvalidPlatform { spec: String },

    #[error(
        "{path}: the archive is {compression}-compressed; decompress it first (an image archive is a plain tar)"
    )]
    CompressedArchive {
        path: PathBuf,
        compression: &'static str,
    },

    #[error("{path}: {file}: invalid JSON: {cause}")]
    InvalidJson {
        path: PathBuf,
        file: String,
        cause: serde_json::Error,
    },

    #[error("{path}: {file}: {size} bytes exceeds the limit of {limit} bytes for JSON documents")]
    JsonTooLarge {
        path: PathBuf,
        file: String,
        size: u64,
        limit: u64,
    },

    #[error("{path}: {file}: {reason}")]
    Invalid {
        path: PathBuf,
        file: String,
        reason: String,
    },

    #[error("{path}: blob path {name:?} escapes the image layout")]
    UnsafePath { path: PathBuf, name: String },

    #[error("{path}: missing blob {name}")]
    MissingBlob { path: PathBuf, name: String },

    #[error("{path}: {name} is {kind}, not a file")]
    NotAFile {
        path: PathBuf,
        name: String,
        kind: &'static str,
    },

    #[error("{path}: {subject}: unsupported digest {digest:?} (supported: sha256, sha512)")]
    UnsupportedDigest {
        path: PathBuf,
        subject: String,
        digest: String,
    },

    #[error("{path}: {subject}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        path: PathBuf,
        /// The layer index where the mismatch is in a layer.
        layer: Option<usize>,
        /// What was checked, e.g. `layer 1 (sha256:...) stored blob` or `config blobs/sha256/...`.
        subject: String,
        expected: String,
        actual: String,
    },

    #[error("{path}: {subject}: size mismatch: expected {expected} bytes, found {actual}")]
    SizeMismatch {
        path: PathBuf,
        subject: String,
        expected: u64,
        actual: u64,
    },

    #[error(
        "{path}: layer {layer} ({digest}): truncated blob: expected {expected} bytes, got {actual}"
    )]
    Truncated {
        path: PathBuf,
        layer: usize,
        digest: String,
        expected: u64,
        actual: u64,
    },

    #[error("{path}: layer {layer} ({digest}): corrupt {compression} stream: {cause}")]
    Decompress {
        path: PathBuf,
        layer: usize,
        digest: String,
        compression: &'static str,
        cause: io::Error,
    },

    #[error("{path}: layer {layer} ({digest}): {what}")]
    LimitExceeded {
        path: PathBuf,
        layer: usize,
        digest: String,
        what: String,
    },

    #[error("{path}: the manifest lists {layers} layers but the config has {diff_ids} diff_ids")]
    LayerCountMismatch {
        path: PathBuf,
        layers: usize,
        diff_ids: usize,
    },

    #[error("{path}: layer index {index} out of range (the image has {count} layers)")]
    LayerOutOfRange {
        path: PathBuf,
        index: usize,
        count: usize,
    },

    #[error("{path}: image indexes nested deeper than {limit} levels")]
    TooDeep { path: PathBuf, limit: usize },

    #[error("{path}: no image for platform {wanted}; available: {}", list(.available))]
    NoMatchingPlatform {
        path: PathBuf,
        wanted: String,
        available: Vec<String>,
    },

    #[error("{path}: no image matches {wanted:?}; available: {}", list(.available))]
    NoMatchingImage {
        path: PathBuf,
        wanted: String,
        available: Vec<String>,
    },

    /// A registry could not be read (its message names the registry, repository or URL).
    #[error("{reference}: {cause}")]
    Registry {
        reference: String,
        cause: moat_registry::RegistryError,
    },

    #[error("{path}: several images, choose one with --image: {}", list(.available))]
    AmbiguousImage {
        path: PathBuf,
        available: Vec<String>,
    },
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

impl ImageError {
    /// Recover the typed error from an `io::Error` returned by [`crate::LayerReader`]'s
    /// `read`. Errors that did not come from this crate become [`ImageError::Io`].
    pub fn from_io(e: io::Error, path: &std::path::Path, what: &str) -> ImageError {
        if e.get_ref().is_some_and(|r| r.is::<ImageError>()) {
            if let Some(inner) = e.into_inner() {
                match inner.downcast::<ImageError>() {
                    Ok(b) => return *b,
                    Err(other) => {
                        return ImageError::Io {
                            path: path.to_path_buf(),
                            what: what.to_string(),
                            cause: io::Error::other(other),
                        };
                    }
                }
            }
            // unreachable in practice: get_ref was Some
            return ImageError::Io {
                path: path.to_path_buf(),
                what: what.to_string(),
                cause: io::Error::other("lost error"),
            };
        }
        ImageError::Io {
            path: path.to_path_buf(),
            what: what.to_string(),
            cause: e,
        }
    }

    pub(crate) fn io(path: &std::path::Path, what: impl Into<String>, cause: io::Error) -> Self {
        ImageError::Io {
            path: path.to_path_buf(),
            what: what.into(),
            cause,
        }
    }

    pub(crate) fn invalid(path: &std::path::Path, file: &str, reason: impl Into<String>) -> Self {
        ImageError::Invalid {
            path: path.to_path_buf(),
            file: file.to_string(),
            reason: reason.into(),
        }
    }
}
