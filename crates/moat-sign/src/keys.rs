//! Private and public keys: ECDSA P-256, Ed25519 and RSA, read from cosign's encrypted
//! keys, PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) and SPKI
//! (`PUBLIC KEY`) PEM; signing and verification through `ring`.

use crate::der::{self, Reader};
use crate::{SignError, encrypted, pem};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use sha2::{Digest, Sha256};

/// The signature schemes: what cosign signs with for each key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// ECDSA on P-256 over SHA-256, ASN.1 DER signatures.
    EcdsaP256Sha256,
    Ed25519,
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaPkcs1Sha256,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Scheme::Ed25519 => "ed25519",
            Scheme::RsaPkcs1Sha256 => "rsa-pkcs1v15-sha256",
        }
    }
}

/// A public key: its scheme, the bytes `ring` verifies with, and its SPKI DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    scheme: Scheme,
    raw: Vec<u8>,
    spki: Vec<u8>,
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// A private key able to sign.
pub struct SigningKey {
    pair: Pair,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public.scheme.name())
    }
}

fn spki_of(scheme: Scheme, raw: &[u8]) -> Vec<u8> {
    let alg = match scheme {
        Scheme::EcdsaP256Sha256 => [
            der::tlv(der::OID, der::OID_EC_PUBLIC_KEY),
            der::tlv(der::OID, der::OID_P256),
        ]
        .concat(),
        Scheme::Ed25519 => der::tlv(der::OID, der::OID_ED25519),
        Scheme::RsaPkcs1Sha256 => {
            [der::tlv(der::OID, der::OID_RSA), der::tlv(der::NULL, &[])].concat()
        }
    };
    let bits = [&[0u8][..], raw].concat();
    der::tlv(
        der::SEQUENCE,
        &[
            der::tlv(der::SEQUENCE, &alg),
            der::tlv(der::BIT_STRING, &bits),
        ]
        .concat(),
    )
}

/// The algorithm of a PKCS#8 or SPKI AlgorithmIdentifier's contents.
fn scheme_of_alg(alg: &[u8], what: &str) -> Result<Scheme, SignError> {
    let mut r = Reader::new(alg);
    let oid = r
        .expect(der::OID, "no algorithm OID")
        .map_err(|e| SignError::key(what, e))?;
    if oid == der::OID_EC_PUBLIC_KEY {
        let curve = r
            .expect(der::OID, "no named curve")
            .map_err(|e| SignError::key(what, e))?;
        return match curve {
            c if c == der::OID_P256 => Ok(Scheme::EcdsaP256Sha256),
            c if c == der::OID_P384 => Err(SignError::key(
                what,
                "ECDSA on P-384 is not supported (only P-256)",
            )),
            c if c == der::OID_P521 => Err(SignError::key(
                what,
                "ECDSA on P-521 is not supported (only P-256)",
            )),
            _ => Err(SignError::key(
                what,
                "ECDSA on an unknown curve (only P-256)",
            )),
        };
    }
    if oid == der::OID_ED25519 {
        return Ok(Scheme::Ed25519);
    }
    if oid == der::OID_RSA {
        return Ok(Scheme::RsaPkcs1Sha256);
    }
    Err(SignError::key(
        what,
        "unsupported key algorithm (ECDSA P-256, Ed25519 and RSA are)",
    ))
}

impl PublicKey {
    /// Reads a `PUBLIC KEY` (SPKI) PEM.
    pub fn from_pem(text: &[u8], what: &str) -> Result<PublicKey, SignError> {
        let p = pem::parse(text, what)?;
        match p.label.as_str() {
            "PUBLIC KEY" => PublicKey::from_spki_der(&p.der, what),
            l if l.contains("PRIVATE KEY") => Err(SignError::key(
                what,
                format!("is a private key ({l}); verification needs the public key (PUBLIC KEY)"),
            )),
            l => Err(SignError::key(
                what,
                format!("unsupported PEM type {l:?} (expected PUBLIC KEY)"),
            )),
        }
    }

    /// Reads SPKI DER.
    pub fn from_spki_der(spki: &[u8], what: &str) -> Result<PublicKey, SignError> {
        let bad = |e: &str| SignError::key(what, format!("malformed public key: {e}"));
        let mut outer = Reader::new(spki);
        let body = outer.expect(der::SEQUENCE, "not a SEQUENCE").map_err(bad)?;
        if !outer.is_empty() {
            return Err(bad("trailing data"));
        }
        let mut r = Reader::new(body);
        let alg = r
            .expect(der::SEQUENCE, "no AlgorithmIdentifier")
            .map_err(bad)?;
        let bits = r
            .expect(der::BIT_STRING, "no key BIT STRING")
            .map_err(bad)?;
        let raw = der::bit_string_bytes(bits).map_err(bad)?;
        let scheme = scheme_of_alg(alg, what)?;
        match scheme {
            Scheme::EcdsaP256Sha256 if raw.len() != 65 || raw[0] != 4 => {
                return Err(bad("not an uncompressed P-256 point"));
            }
            Scheme::Ed25519 if raw.len() != 32 => return Err(bad("not a 32-byte Ed25519 key")),
            Scheme::RsaPkcs1Sha256 => {
                let mut k = Reader::new(raw);
                k.expect(der::SEQUENCE, "not an RSAPublicKey")
                    .map_err(bad)?;
            }
            _ => {}
        }
        Ok(PublicKey {
            scheme,
            raw: raw.to_vec(),
            spki: spki.to_vec(),
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    pub fn to_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki)
    }

    /// `sha256:<hex>` of the SPKI DER: how reports name a key.
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(&self.spki)))
    }

    /// Checks `signature` over `message`; [`SignError::NotVerified`] when it does not verify.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignError> {
        let alg: &dyn signature::VerificationAlgorithm = match self.scheme {
            Scheme::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
            Scheme::Ed25519 => &signature::ED25519,
            Scheme::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        };
        signature::UnparsedPublicKey::new(alg, &self.raw)
            .verify(message, signature)
            .map_err(|_| {
                SignError::NotVerified(format!(
                    "the signature does not match the content for key {} ({})",
                    self.fingerprint(),
                    self.scheme.name()
                ))
            })
    }
}

impl SigningKey {
    /// Reads a private key PEM. `password` is called only when the key is encrypted.
    pub fn from_pem(
        text: &[u8],
        what: &str,
        password: &mut dyn FnMut() -> Result<Vec<u8>, SignError>,
    ) -> Result<SigningKey, SignError> {
        let p = pem::parse(text, what)?;
        match p.label.as_str() {
            encrypted::SIGSTORE_LABEL | encrypted::COSIGN_LABEL => {
                // Parameters checked before the password is asked for.
                let sealed = encrypted::parse(&p.der, what)?;
                let pkcs8 = sealed.open(&password()?)?;
                SigningKey::from_pkcs8(&pkcs8, what)
            }
            "PRIVATE KEY" => SigningKey::from_pkcs8(&p.der, what),
            "EC PRIVATE KEY" => SigningKey::from_sec1(&p.der, what),
            "RSA PRIVATE KEY" => {
                let pair = RsaKeyPair::from_der(&p.der)
                    .map_err(|e| SignError::key(what, format!("RSA key rejected: {e}")))?;
                Ok(SigningKey::from_rsa(pair))
            }
            "ENCRYPTED PRIVATE KEY" => Err(SignError::key(
                what,
                "PKCS#8 password-encrypted keys are not supported; use cosign's format (moat key generate) or a plain PRIVATE KEY",
            )),
            "PUBLIC KEY" => Err(SignError::key(
                what,
                "is a public key; signing needs the private key",
            )),
            l => Err(SignError::key(
                what,
                format!("unsupported PEM type {l:?} for a private key"),
            )),
        }
    }

    /// Reads PKCS#8 DER (v1, or v2 with the public key).
    pub fn from_pkcs8(pkcs8: &[u8], what: &str) -> Result<SigningKey, SignError> {
        let bad = |e: &str| SignError::key(what, format!("malformed PKCS#8 key: {e}"));
        let mut outer = Reader::new(pkcs8);
        let body = outer.expect(der::SEQUENCE, "not a SEQUENCE").map_err(bad)?;
        let mut r = Reader::new(body);
        r.expect(der::INTEGER, "no version").map_err(bad)?;
        let alg = r
            .expect(der::SEQUENCE, "no AlgorithmIdentifier")
            .map_err(bad)?;
        let rejected =
            |e: ring::error::KeyRejected| SignError::key(what, format!("key rejected: {e}"));
        match scheme_of_alg(alg, what)? {
            Scheme::EcdsaP256Sha256 => {
                let pair = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    pkcs8,
                    &SystemRandom::new(),
                )
                .map_err(rejected)?;
                Ok(SigningKey::from_ecdsa(pair))
            }
            Scheme::Ed25519 => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(rejected)?;
                let public = PublicKey {
                    scheme: Scheme::Ed25519,
                    raw: pair.public_key().as_ref().to_vec(),
                    spki: spki_of(Scheme::Ed25519, pair.public_key().as_ref()),
                };
                Ok(SigningKey {
                    pair: Pair::Ed25519(pair),
                    public,
                })
            }
            Scheme::RsaPkcs1Sha256 => {
                let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?;
                Ok(SigningKey::from_rsa(pair))
            }
        }
    }

    /// Reads a SEC1 `ECPrivateKey` (P-256; it must carry its public key), wrapped into PKCS#8.
    fn from_sec1(sec1: &[u8], what: &str) -> Result<SigningKey, SignError> {
        let alg = [
            der::tlv(der::OID, der::OID_EC_PUBLIC_KEY),
            der::tlv(der::OID, der::OID_P256),
        ]
        .concat();
        let pkcs8 = der::tlv(
            der::SEQUENCE,
            &[
                der::tlv(der::INTEGER, &[0]),
                der::tlv(der::SEQUENCE, &alg),
                der::tlv(der::OCTET_STRING, sec1),
            ]
            .concat(),
        );
        SigningKey::from_pkcs8(&pkcs8, what)
    }

    fn from_ecdsa(pair: EcdsaKeyPair) -> SigningKey {
        let raw = pair.public_key().as_ref().to_vec();
        let public = PublicKey {
            scheme: Scheme::EcdsaP256Sha256,
            spki: spki_of(Scheme::EcdsaP256Sha256, &raw),
            raw,
        };
        SigningKey {
            pair: Pair::Ecdsa(pair),
            public,
        }
    }

    fn from_rsa(pair: RsaKeyPair) -> SigningKey {
        let raw = pair.public().as_ref().to_vec();
        let public = PublicKey {
            scheme: Scheme::RsaPkcs1Sha256,
            spki: spki_of(Scheme::RsaPkcs1Sha256, &raw),
            raw,
        };
        SigningKey {
            pair: Pair::Rsa(pair),
            public,
        }
    }

    /// A new ECDSA P-256 key and its PKCS#8 DER.
    pub fn generate_ecdsa_p256() -> Result<(SigningKey, Vec<u8>), SignError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| SignError::Random)?;
        let pkcs8 = doc.as_ref().to_vec();
        let key = SigningKey::from_pkcs8(&pkcs8, "new key")?;
        Ok((key, pkcs8))
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` (ECDSA: DER signature over SHA-256; RSA: PKCS#1 v1.5 SHA-256).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Ecdsa(p) => p
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignError::Random),
            Pair::Ed25519(p) => Ok(p.sign(message).as_ref().to_vec()),
            Pair::Rsa(p) => {
                let mut sig = vec![0u8; p.public().modulus_len()];
                p.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| SignError::Random)?;
                Ok(sig)
            }
        }
    }
}
