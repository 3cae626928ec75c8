//! Content digests (`sha256:<hex>`, `sha512:<hex>`) and a hashing writer.

use sha2::Digest as _;
use std::fmt;

/// A validated digest: `sha256` or `sha512` and lower-case hex of the right length.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algo: &'static str,
    hex: String,
}

impl Digest {
    /// Parses `algo:hex`; `None` when it is not a supported, well-formed digest.
    pub fn parse(s: &str) -> Result<Digest, String> {
        let (algo, hex) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?} is not a digest"))?;
        let (algo, len) = match algo {
            "sha256" => ("sha256", 64),
            "sha512" => ("sha512", 128),
            _ => return Err(format!("{s:?}: unsupported digest algorithm")),
        };
        if hex.len() != len
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!("{s:?} is not a digest"));
        }
        Ok(Digest {
            algo,
            hex: hex.to_string(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Digest {
        Digest {
            algo: "sha256",
            hex: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }

    pub fn algorithm(&self) -> &'static str {
        self.algo
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// A hasher of this digest's algorithm.
    pub fn hasher(&self) -> Hasher {
        Hasher::new(self.algo)
    }

    /// The digest of `bytes` with this digest's algorithm.
    pub fn of_same_kind(&self, bytes: &[u8]) -> Digest {
        let mut h = self.hasher();
        h.update(bytes);
        h.finish()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo, self.hex)
    }
}

/// A streaming hasher for sha256 or sha512.
#[derive(Clone)]
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn new(algo: &'static str) -> Hasher {
        if algo == "sha512" {
            Hasher::Sha512(sha2::Sha512::new())
        } else {
            Hasher::Sha256(sha2::Sha256::new())
        }
    }
    pub fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(b),
            Hasher::Sha512(h) => h.update(b),
        }
    }
    pub fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest {
                algo: "sha256",
                hex: hex::encode(h.finalize()),
            },
            Hasher::Sha512(h) => Digest {
                algo: "sha512",
                hex: hex::encode(h.finalize()),
            },
        }
    }
}
