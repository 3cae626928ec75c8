//! [`ScanError`]: a target that cannot be read at all (problems inside it are diagnostics).

use moat_image::ImageError;

/// A target that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{input}: layer {layer}: {message}")]
    Layer {
        input: String,
        layer: usize,
        message: String,
    },
    #[error("{path}: {cause}")]
    Io {
        path: String,
        /// Part of the message, so not the error's `source()`: printing the chain would say
        /// it twice.
        cause: std::io::Error,
    },
}

impl ScanError {
    /// Turns an I/O error out of a layer's tar reader into a scan error, keeping typed
    /// image errors (digest mismatch, decompression limits) as they are.
    pub(crate) fn from_layer_io(e: std::io::Error, input: &str, layer: usize) -> ScanError {
        if e.get_ref()
            .is_some_and(|i| i.is::<moat_image::ImageError>())
        {
            if let Some(inner) = e.into_inner()
                && let Ok(img) = inner.downcast::<moat_image::ImageError>()
            {
                return ScanError::Image(*img);
            }
            return ScanError::Layer {
                input: input.to_string(),
                layer,
                message: "unreadable layer".into(),
            };
        }
        let message = match e.kind() {
            std::io::ErrorKind::UnexpectedEof => format!("truncated layer: {e}"),
            _ => format!("corrupt layer: {e}"),
        };
        ScanError::Layer {
            input: input.to_string(),
            layer,
            message,
        }
    }
}
