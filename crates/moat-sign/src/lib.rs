//! cosign-compatible, key-based signing and verification (no transparency log): keys ([`keys`], with
//! cosign's encrypted key format in [`encrypted`]), blob signatures, image signatures with
//! simple-signing payloads ([`payload`]) and in-toto attestations in DSSE envelopes
//! ([`image`]), stored as cosign stores them behind the [`store::ArtifactStore`] trait: in
//! OCI layouts ([`store::OciLayout`]) and registries ([`registry::RegistryStore`]).
//!
//! Formats: `../shared/corpus/COSIGN_FORMAT.md`. No transparency log, no certificates.

mod der;
pub mod encrypted;
mod error;
pub mod image;
pub mod keys;
pub mod payload;
pub mod pem;
pub mod policy;
pub mod registry;
pub mod store;

pub use error::SignError;
pub use keys::{PublicKey, Scheme, SigningKey};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Standard base64 with padding, as cosign writes signatures.
pub fn b64_encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Decodes standard base64 (surrounding whitespace ignored); `what` names it in errors.
pub fn b64_decode(text: &str, what: &str) -> Result<Vec<u8>, SignError> {
    STANDARD
        .decode(text.trim().as_bytes())
        .map_err(|e| SignError::Base64 {
            what: what.to_string(),
            reason: e.to_string(),
        })
}

/// Signs a blob: the base64 signature cosign's `sign-blob` prints.
pub fn sign_blob(key: &SigningKey, data: &[u8]) -> Result<String, SignError> {
    Ok(b64_encode(&key.sign(data)?))
}

/// Verifies a blob against a base64 signature (a signature file's text).
/// [`SignError::NotVerified`] when it does not verify, [`SignError::Base64`] when the
/// signature is not base64.
pub fn verify_blob(
    key: &PublicKey,
    data: &[u8],
    signature_b64: &str,
    what: &str,
) -> Result<(), SignError> {
    let sig = b64_decode(signature_b64, what)?;
    if sig.is_empty() {
        return Err(SignError::invalid(what, "empty signature"));
    }
    key.verify(data, &sig)
}
