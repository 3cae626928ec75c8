//! Where signatures and attestations are kept: a small trait (a manifest by tag, blobs, a
//! manifest under a tag) implemented here for OCI image layout directories; a registry
//! client implements the same calls.

use crate::SignError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The largest manifest or index read.
pub const MAX_MANIFEST: u64 = 16 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `sha256:<64 lowercase hex>`, or None.
pub fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(hex)
}

pub fn digest_of(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// The calls signing and verification need from where the artifacts live.
pub trait ArtifactStore {
    /// Where this is, for messages.
    fn location(&self) -> String;
    /// The manifest tagged `tag` (its digest and bytes), if any.
    fn manifest_by_tag(&self, tag: &str) -> Result<Option<(String, Vec<u8>)>, SignError>;
    /// A blob, at most `max` bytes, its digest checked against the descriptor.
    fn blob(&self, desc: &Descriptor, max: u64) -> Result<Vec<u8>, SignError>;
    /// Stores a blob; returns its digest.
    fn put_blob(&mut self, data: &[u8]) -> Result<String, SignError>;
    /// Stores a manifest under `tag` (replacing what the tag named); returns its digest.
    fn put_manifest(
        &mut self,
        tag: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, SignError>;
}

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
#[derive(Debug, Clone)]
pub struct OciLayout {
    root: PathBuf,
}

/// The image a layout holds: its manifest (or index) digest and its ref name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub digest: String,
    pub media_type: String,
    pub name: Option<String>,
}

/// True for the tags cosign uses for its artifacts (`sha256-<hex>.sig`, `.att`, `.sbom`).
pub fn is_cosign_tag(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("sha256-") else {
        return false;
    };
    let Some((hex, suffix)) = rest.split_once('.') else {
        return false;
    };
    hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(suffix, "sig" | "att" | "sbom")
}

/// A file read whole, refused when it is larger than `max` bytes (keys, signatures,
/// predicates, policies: small files a user names).
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, SignError> {
    let f = std::fs::File::open(path).map_err(|e| SignError::io(path, e))?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| SignError::io(path, e))?;
    if buf.len() as u64 > max {
        return Err(SignError::store(path, format!("larger than {max} bytes")));
    }
    Ok(buf)
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<(), SignError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.moat-tmp-{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(SignError::io(path, e));
    }
    Ok(())
}

impl OciLayout {
    /// Opens a layout directory (it must have `oci-layout` and `index.json`).
    pub fn open(root: &Path) -> Result<OciLayout, SignError> {
        for f in ["oci-layout", "index.json"] {
            if !root.join(f).is_file() {
                return Err(SignError::store(
                    root,
                    format!("not an OCI image layout (no {f})"),
                ));
            }
        }
        Ok(OciLayout {
            root: root.to_path_buf(),
        })
    }

    fn index(&self) -> Result<serde_json::Value, SignError> {
        let path = self.root.join("index.json");
        let bytes = read_bounded(&path, MAX_MANIFEST)?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| SignError::store(&path, format!("invalid JSON: {e}")))?;
        if !v.get("manifests").is_some_and(|m| m.is_array()) {
            return Err(SignError::store(&path, "no \"manifests\" array"));
        }
        Ok(v)
    }

    fn entries(&self) -> Result<Vec<Descriptor>, SignError> {
        let path = self.root.join("index.json");
        let v = self.index()?;
        serde_json::from_value(v["manifests"].clone())
            .map_err(|e| SignError::store(&path, format!("invalid manifests: {e}")))
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf, SignError> {
        let hex = sha256_hex(digest).ok_or_else(|| {
            SignError::store(
                &self.root,
                format!("unsupported or malformed digest {digest:?}"),
            )
        })?;
        Ok(self.root.join("blobs").join("sha256").join(hex))
    }

    /// The image the layout holds (its cosign artifacts aside): the one whose ref name or
    /// digest is `selector`, or the only one.
    pub fn resolve_image(&self, selector: Option<&str>) -> Result<ImageRef, SignError> {
        let entries: Vec<Descriptor> = self
            .entries()?
            .into_iter()
            .filter(|d| {
                !d.annotations
                    .get(REF_NAME)
                    .is_some_and(|n| is_cosign_tag(n))
            })
            .collect();
        let name_of = |d: &Descriptor| d.annotations.get(REF_NAME).cloned();
        let chosen: Vec<&Descriptor> = match selector {
            Some(s) => entries
                .iter()
                .filter(|d| d.digest == s || name_of(d).as_deref() == Some(s))
                .collect(),
            None => entries.iter().collect(),
        };
        let d = match chosen.as_slice() {
            [one] => *one,
            [] => {
                return Err(SignError::store(
                    &self.root,
                    match selector {
                        Some(s) => format!("no image named {s:?} in index.json"),
                        None => "index.json lists no image".to_string(),
                    },
                ));
            }
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|d| name_of(d).unwrap_or_else(|| d.digest.clone()))
                    .collect();
                return Err(SignError::store(
                    &self.root,
                    format!(
                        "index.json lists several images ({}); name one (by its ref name or digest)",
                        names.join(", ")
                    ),
                ));
            }
        };
        // The manifest must be there and match its digest.
        self.blob(d, MAX_MANIFEST)?;
        Ok(ImageRef {
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
            name: name_of(d),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl ArtifactStore for OciLayout {
    fn location(&self) -> String {
        format!("oci:{}", self.root.display())
    }

    fn manifest_by_tag(&self, tag: &str) -> Result<Option<(String, Vec<u8>)>, SignError> {
        let found = self
            .entries()?
            .into_iter()
            .rev()
            .find(|d| d.annotations.get(REF_NAME).map(String::as_str) == Some(tag));
        match found {
            None => Ok(None),
            Some(d) => {
                let bytes = self.blob(&d, MAX_MANIFEST)?;
                Ok(Some((d.digest, bytes)))
            }
        }
    }

    fn blob(&self, desc: &Descriptor, max: u64) -> Result<Vec<u8>, SignError> {
        let path = self.blob_path(&desc.digest)?;
        if desc.size > max {
            return Err(SignError::store(
                &path,
                format!(
                    "the descriptor says {} bytes, more than the {max} allowed",
                    desc.size
                ),
            ));
        }
        let data = read_bounded(&path, max)?;
        let actual = digest_of(&data);
        if actual != desc.digest {
            return Err(SignError::NotVerified(format!(
                "blob {} was modified: its content has digest {actual}",
                desc.digest
            )));
        }
        if data.len() as u64 != desc.size {
            return Err(SignError::store(
                &path,
                format!("{} bytes, the descriptor says {}", data.len(), desc.size),
            ));
        }
        Ok(data)
    }

    fn put_blob(&mut self, data: &[u8]) -> Result<String, SignError> {
        let digest = digest_of(data);
        let path = self.blob_path(&digest)?;
        if !path.is_file() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| SignError::io(dir, e))?;
            }
            write_atomic(&path, data)?;
        }
        Ok(digest)
    }

    fn put_manifest(
        &mut self,
        tag: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, SignError> {
        let digest = self.put_blob(bytes)?;
        let mut index = self.index()?;
        let desc = Descriptor {
            media_type: media_type.to_string(),
            digest: digest.clone(),
            size: bytes.len() as u64,
            annotations: BTreeMap::from([(REF_NAME.to_string(), tag.to_string())]),
        };
        let path = self.root.join("index.json");
        let entry =
            serde_json::to_value(&desc).map_err(|e| SignError::store(&path, e.to_string()))?;
        if let Some(list) = index["manifests"].as_array_mut() {
            list.retain(|m| m["annotations"][REF_NAME].as_str() != Some(tag));
            list.push(entry);
        }
        let out = serde_json::to_vec(&index).map_err(|e| SignError::store(&path, e.to_string()))?;
        write_atomic(&path, &out)?;
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_tags() {
        let hex = "a".repeat(64);
        assert!(is_cosign_tag(&format!("sha256-{hex}.sig")));
        assert!(is_cosign_tag(&format!("sha256-{hex}.att")));
        assert!(!is_cosign_tag(&format!("sha256-{hex}.txt")));
        assert!(!is_cosign_tag("latest"));
        assert!(sha256_hex("sha256:../../etc").is_none());
    }
}
