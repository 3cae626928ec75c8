//! cosign's simple-signing payload: what `moat sign` signs for an image.

use crate::SignError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `critical.type` of an image signature.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    /// Annotations (`-a k=v`), or null.
    pub optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: ImageDigest,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageDigest {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    pub fn new(
        reference: &str,
        digest: &str,
        annotations: &BTreeMap<String, String>,
    ) -> SimpleSigning {
        SimpleSigning {
            critical: Critical {
                identity: Identity {
                    docker_reference: reference.to_string(),
                },
                image: ImageDigest {
                    docker_manifest_digest: digest.to_string(),
                },
                kind: SIGNATURE_TYPE.to_string(),
            },
            optional: if annotations.is_empty() {
                None
            } else {
                Some(
                    annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                        .collect(),
                )
            },
        }
    }

    /// The compact JSON that is signed (field order as cosign writes it).
    pub fn to_bytes(&self) -> Result<Vec<u8>, SignError> {
        serde_json::to_vec(self).map_err(|e| SignError::invalid("payload", e.to_string()))
    }

    /// Parses a payload and checks that it signs `digest` and has cosign's type.
    pub fn parse_for(bytes: &[u8], digest: &str) -> Result<SimpleSigning, SignError> {
        let p: SimpleSigning = serde_json::from_slice(bytes).map_err(|e| {
            SignError::NotVerified(format!("the payload is not a simple-signing document: {e}"))
        })?;
        if p.critical.kind != SIGNATURE_TYPE {
            return Err(SignError::NotVerified(format!(
                "the payload's critical.type is {:?}, not {SIGNATURE_TYPE:?}",
                p.critical.kind
            )));
        }
        if p.critical.image.docker_manifest_digest != digest {
            return Err(SignError::NotVerified(format!(
                "the payload signs another image: {} (this image is {digest})",
                p.critical.image.docker_manifest_digest
            )));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_cosign() {
        let p = SimpleSigning::new(
            "registry-testing.svc.lan/busybox",
            "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b",
            &BTreeMap::new(),
        );
        assert_eq!(
            String::from_utf8(p.to_bytes().unwrap()).unwrap(),
            r#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#
        );
        let mut a = BTreeMap::new();
        a.insert("creator".to_string(), "OBS".to_string());
        let p = SimpleSigning::new("x", "sha256:00", &a);
        assert!(
            String::from_utf8(p.to_bytes().unwrap())
                .unwrap()
                .ends_with(r#""optional":{"creator":"OBS"}}"#)
        );
    }

    #[test]
    fn rejects_other_digest_and_type() {
        let p = SimpleSigning::new("x", "sha256:aa", &BTreeMap::new())
            .to_bytes()
            .unwrap();
        assert!(SimpleSigning::parse_for(&p, "sha256:aa").is_ok());
        let e = SimpleSigning::parse_for(&p, "sha256:bb")
            .unwrap_err()
            .to_string();
        assert!(e.contains("signs another image: sha256:aa"), "{e}");
        let other = String::from_utf8(p)
            .unwrap()
            .replace("cosign container image signature", "x");
        let e = SimpleSigning::parse_for(other.as_bytes(), "sha256:aa")
            .unwrap_err()
            .to_string();
        assert!(e.contains("critical.type is \"x\""), "{e}");
    }
}
