//! Errors of the capture reader.

/// A capture that cannot be read. Offsets count bytes of the capture's block stream (after
/// gzip decompression for compressed captures).
#[derive(Debug, thiserror::Error)]
pub enum ScapError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: offset {offset}: {problem}")]
    Format {
        file: String,
        offset: u64,
        problem: String,
    },
}

pub type Result<T> = std::result::Result<T, ScapError>;
