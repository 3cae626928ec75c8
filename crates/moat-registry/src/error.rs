//! The error type of moat-registry. Messages name the registry, repository or URL and never
//! contain credentials (URLs carry none; tokens and passwords are never formatted).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },

    /// The request never got an HTTP answer (connection refused, TLS failure, reset, timeout).
    #[error("{url}: {cause}")]
    Transport { url: String, cause: String },

    /// The connection ended before the whole body arrived.
    #[error("{url}: the connection was dropped after {received} of {expected} bytes ({cause})")]
    Dropped {
        url: String,
        received: u64,
        expected: String,
        cause: String,
    },

    #[error("{url}: HTTP {status}{}", message_suffix(.message))]
    Status {
        url: String,
        status: u16,
        message: String,
    },

    #[error("{url}: not found (HTTP 404){}", message_suffix(.message))]
    NotFound { url: String, message: String },

    #[error("{registry}: authentication failed: {reason}")]
    Unauthorized { registry: String, reason: String },

    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error("{what}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },

    #[error("{what}: larger than the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },

    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },

    #[error("{}: {what}: {cause}", path.display())]
    Io {
        path: PathBuf,
        what: String,
        cause: std::io::Error,
    },

    #[error("{}: {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },

    /// Docker's `config.json` or a credential helper.
    #[error("credentials for {registry}: {reason}")]
    Credentials { registry: String, reason: String },
}

fn message_suffix(m: &str) -> String {
    if m.is_empty() {
        String::new()
    } else {
        format!(": {m}")
    }
}

impl RegistryError {
    pub(crate) fn io(
        path: &std::path::Path,
        what: impl Into<String>,
        cause: std::io::Error,
    ) -> Self {
        RegistryError::Io {
            path: path.to_path_buf(),
            what: what.into(),
            cause,
        }
    }
}
