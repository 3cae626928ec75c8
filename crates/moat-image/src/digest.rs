//! Content digests (`sha256:<hex>`, `sha512:<hex>`) and the matching streaming hasher.

use sha2::Digest as _;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algo {
    Sha256,
    Sha512,
}

impl Algo {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Sha512 => "sha512",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Sha512 => 128,
        }
    }
}

/// A validated digest: a supported algorithm and lower-case hex of the right length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digest {
    pub(crate) algo: Algo,
    pub(crate) hex: String,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DigestError {
    /// A well-formed `algo:hex` with an algorithm we do not implement.
    Unsupported,
    /// Not a digest at all (no colon, bad hex, wrong length).
    Malformed,
}

impl Digest {
    pub(crate) fn parse(s: &str) -> Result<Digest, DigestError> {
        let (algo, hex) = s.split_once(':').ok_or(DigestError::Malformed)?;
        let algo = match algo {
            "sha256" => Algo::Sha256,
            "sha512" => Algo::Sha512,
            a if !a.is_empty()
                && a.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b)
                }) =>
            {
                return Err(DigestError::Unsupported);
            }
            _ => return Err(DigestError::Malformed),
        };
        if hex.len() != algo.hex_len() || !is_lower_hex(hex) {
            return Err(DigestError::Malformed);
        }
        Ok(Digest {
            algo,
            hex: hex.to_string(),
        })
    }

    /// The digest claimed by a blob's name: `blobs/<algo>/<hex>` or `<64 hex>.tar` / `<64 hex>.json`
    /// (the docker-archive convention). Any other name claims nothing.
    pub(crate) fn from_blob_name(name: &str) -> Option<Digest> {
        let parts: Vec<&str> = name.split('/').collect();
        if let ["blobs", algo, hex] = parts.as_slice() {
            return Digest::parse(&format!("{algo}:{hex}")).ok();
        }
        if let [file] = parts.as_slice() {
            let stem = file
                .strip_suffix(".tar")
                .or_else(|| file.strip_suffix(".json"))?;
            return Digest::parse(&format!("sha256:{stem}")).ok();
        }
        None
    }

    /// Where an OCI image layout keeps this blob.
    pub(crate) fn blob_path(&self) -> String {
        format!("blobs/{}/{}", self.algo.name(), self.hex)
    }

    pub(crate) fn of(algo: Algo, bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(algo);
        h.update(bytes);
        h.finish()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo.name(), self.hex)
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A streaming hasher for one of the supported algorithms.
#[derive(Clone)]
pub(crate) enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub(crate) fn new(algo: Algo) -> Hasher {
        match algo {
            Algo::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algo::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }
    /// The digest of everything fed so far; the hasher is reset.
    pub(crate) fn finish(&mut self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest {
                algo: Algo::Sha256,
                hex: hex::encode(h.finalize_reset()),
            },
            Hasher::Sha512(h) => Digest {
                algo: Algo::Sha512,
                hex: hex::encode(h.finalize_reset()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_names() {
        let h = "a".repeat(64);
        assert_eq!(
            Digest::parse(&format!("sha256:{h}")).map(|d| d.to_string()),
            Ok(format!("sha256:{h}"))
        );
        assert_eq!(Digest::parse("md5:abc"), Err(DigestError::Unsupported));
        assert_eq!(
            Digest::parse("sha256:../../etc/passwd"),
            Err(DigestError::Malformed)
        );
        assert_eq!(
            Digest::parse(&format!("sha256:{}", "A".repeat(64))),
            Err(DigestError::Malformed)
        );
        assert_eq!(
            Digest::from_blob_name(&format!("{h}.tar")).map(|d| d.hex),
            Some(h.clone())
        );
        assert_eq!(
            Digest::from_blob_name(&format!("blobs/sha256/{h}")).map(|d| d.hex),
            Some(h.clone())
        );
        assert_eq!(Digest::from_blob_name(&format!("{h}/layer.tar")), None);
        assert_eq!(
            Digest::of(Algo::Sha256, b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
