//! The one error type of this crate.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signature does not verify, or the signed payload does not say what it must: the
    /// answer "not verified" (exit 1), as opposed to every other variant (input errors).
    #[error("not verified: {0}")]
    NotVerified(String),
    #[error("{what}: not PEM: {reason}")]
    Pem { what: String, reason: String },
    #[error("{what}: {reason}")]
    Key { what: String, reason: String },
    #[error("{what}: wrong password (the key does not decrypt)")]
    WrongPassword { what: String },
    #[error("{what}: invalid base64: {reason}")]
    Base64 { what: String, reason: String },
    #[error("{path}: {reason}")]
    Store { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
    #[error("the system random number generator failed")]
    Random,
    #[error("password: {0}")]
    Password(String),
    /// A registry request failed (the message names the registry and repository).
    #[error(transparent)]
    Registry(#[from] moat_registry::RegistryError),
}

impl SignError {
    /// True for "the signature is not valid" (exit 1); false for input and usage errors.
    pub fn is_not_verified(&self) -> bool {
        matches!(self, SignError::NotVerified(_))
    }

    pub(crate) fn key(what: &str, reason: impl Into<String>) -> SignError {
        SignError::Key {
            what: what.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> SignError {
        SignError::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn store(path: &std::path::Path, reason: impl Into<String>) -> SignError {
        SignError::Store {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> SignError {
        SignError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
