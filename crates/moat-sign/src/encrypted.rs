//! cosign's encrypted private keys: PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (or the legacy
//! `ENCRYPTED COSIGN PRIVATE KEY`) whose body is JSON: a scrypt-derived 32-byte key, NaCl
//! secretbox (XSalsa20-Poly1305, tag first) over the PKCS#8 DER private key.

use crate::SignError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

pub const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
pub const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// The scrypt work factors accepted (the Go `encrypted` package's legacy, standard and OWASP
/// levels, all with r=8, p=1): anything else is refused before any work, a guard against a
/// key file that asks for gigabytes of memory.
pub const ACCEPTED_N: [u64; 3] = [32768, 65536, 131072];
/// The work factor of keys this crate writes (cosign's default).
pub const DEFAULT_N: u64 = 65536;

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: Params,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Params {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn b64(what: &str, field: &str, s: &str) -> Result<Vec<u8>, SignError> {
    STANDARD.decode(s).map_err(|e| SignError::Base64 {
        what: format!("{what}: {field}"),
        reason: e.to_string(),
    })
}

fn derive(password: &[u8], salt: &[u8], n: u64, what: &str) -> Result<[u8; 32], SignError> {
    let log_n = n.trailing_zeros() as u8;
    let params = scrypt::Params::new(log_n, 8, 1, 32)
        .map_err(|e| SignError::key(what, format!("scrypt parameters: {e}")))?;
    let mut out = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut out)
        .map_err(|e| SignError::key(what, format!("scrypt: {e}")))?;
    Ok(out)
}

/// An encrypted key, parsed and checked, not yet decrypted.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub n: u64,
    salt: Vec<u8>,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    what: String,
}

/// Parses the body (the PEM's decoded bytes) of an encrypted key and checks its parameters
/// (no key derivation yet).
pub fn parse(body: &[u8], what: &str) -> Result<Sealed, SignError> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| SignError::key(what, format!("not a cosign encrypted key: {e}")))?;
    if env.kdf.name != "scrypt" {
        return Err(SignError::key(
            what,
            format!(
                "unsupported key derivation {:?} (only scrypt)",
                env.kdf.name
            ),
        ));
    }
    let Params { n, r, p } = env.kdf.params;
    if !ACCEPTED_N.contains(&n) || r != 8 || p != 1 {
        return Err(SignError::key(
            what,
            format!(
                "unsupported scrypt parameters N={n} r={r} p={p} (accepted: N 32768, 65536 or 131072 with r=8, p=1)"
            ),
        ));
    }
    if env.cipher.name != "nacl/secretbox" {
        return Err(SignError::key(
            what,
            format!(
                "unsupported cipher {:?} (only nacl/secretbox)",
                env.cipher.name
            ),
        ));
    }
    let salt = b64(what, "kdf.salt", &env.kdf.salt)?;
    let nonce = b64(what, "cipher.nonce", &env.cipher.nonce)?;
    let ciphertext = b64(what, "ciphertext", &env.ciphertext)?;
    if nonce.len() != 24 {
        return Err(SignError::key(
            what,
            format!("the nonce has {} bytes, not 24", nonce.len()),
        ));
    }
    if ciphertext.len() < 16 {
        return Err(SignError::key(
            what,
            "the ciphertext is shorter than its tag",
        ));
    }
    Ok(Sealed {
        n,
        salt,
        nonce,
        ciphertext,
        what: what.to_string(),
    })
}

impl Sealed {
    /// Derives the key from `password` and decrypts: the PKCS#8 DER.
    pub fn open(&self, password: &[u8]) -> Result<Vec<u8>, SignError> {
        let key = derive(password, &self.salt, self.n, &self.what)?;
        let cipher = XSalsa20Poly1305::new(Key::from_slice(&key));
        cipher
            .decrypt(Nonce::from_slice(&self.nonce), self.ciphertext.as_slice())
            .map_err(|_| SignError::WrongPassword {
                what: self.what.clone(),
            })
    }
}

/// Decrypts the body (the PEM's decoded bytes) of an encrypted key: the PKCS#8 DER.
pub fn decrypt(body: &[u8], password: &[u8], what: &str) -> Result<Vec<u8>, SignError> {
    parse(body, what)?.open(password)
}

/// Encrypts PKCS#8 DER as cosign does (scrypt N=65536, r=8, p=1, random 32-byte salt and
/// 24-byte nonce) and returns the PEM text `ENCRYPTED SIGSTORE PRIVATE KEY`.
pub fn encrypt(pkcs8: &[u8], password: &[u8]) -> Result<String, SignError> {
    let rng = SystemRandom::new();
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rng.fill(&mut salt).map_err(|_| SignError::Random)?;
    rng.fill(&mut nonce).map_err(|_| SignError::Random)?;
    let key = derive(password, &salt, DEFAULT_N, "new key")?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(&key));
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), pkcs8)
        .map_err(|_| SignError::key("new key", "encryption failed"))?;
    let env = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params: Params {
                n: DEFAULT_N,
                r: 8,
                p: 1,
            },
            salt: STANDARD.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(ciphertext),
    };
    let json = serde_json::to_vec(&env)
        .map_err(|e| SignError::key("new key", format!("serialising: {e}")))?;
    Ok(crate::pem::encode(SIGSTORE_LABEL, &json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_password() {
        let pem = encrypt(b"secret pkcs8 bytes", b"pw").unwrap();
        let p = crate::pem::parse(pem.as_bytes(), "k").unwrap();
        assert_eq!(p.label, SIGSTORE_LABEL);
        let body: serde_json::Value = serde_json::from_slice(&p.der).unwrap();
        assert_eq!(body["kdf"]["params"]["N"], 65536);
        assert_eq!(body["cipher"]["name"], "nacl/secretbox");
        assert_eq!(decrypt(&p.der, b"pw", "k").unwrap(), b"secret pkcs8 bytes");
        let e = decrypt(&p.der, b"nope", "k").unwrap_err();
        assert!(matches!(e, SignError::WrongPassword { .. }), "{e}");
    }

    #[test]
    fn refuses_costly_parameters_before_any_work() {
        let body = br#"{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},"salt":""},"cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}"#;
        let e = decrypt(body, b"", "k").unwrap_err().to_string();
        assert!(
            e.contains("unsupported scrypt parameters N=1073741824"),
            "{e}"
        );
    }
}
