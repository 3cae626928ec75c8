//! Signatures and attestations of images, stored as cosign stores them: one manifest per
//! signed digest tagged `sha256-<hex>.sig` (or `.att`), one layer per signature.

use crate::payload::SimpleSigning;
use crate::store::{ArtifactStore, Descriptor, Manifest, OCI_CONFIG, OCI_MANIFEST, sha256_hex};
use crate::{PublicKey, SignError, SigningKey, b64_decode, b64_encode};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// The largest signature payload or attestation read.
pub const MAX_PAYLOAD: u64 = 64 << 20;

/// `sha256:<hex>` -> `sha256-<hex>.<suffix>`.
pub fn artifact_tag(digest: &str, suffix: &str) -> Result<String, SignError> {
    let hex = sha256_hex(digest).ok_or_else(|| {
        SignError::invalid("image digest", format!("{digest:?} is not sha256:<hex>"))
    })?;
    Ok(format!("sha256-{hex}.{suffix}"))
}

/// Adds a layer to the manifest tagged `tag` (creating it), unless the same layer is there.
fn add_layer(
    store: &mut dyn ArtifactStore,
    tag: &str,
    data: &[u8],
    media_type: &str,
    annotations: BTreeMap<String, String>,
) -> Result<String, SignError> {
    let mut layers = match store.manifest_by_tag(tag)? {
        Some((_, bytes)) => {
            let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
                SignError::invalid(
                    format!("{} {tag}", store.location()),
                    format!("invalid manifest: {e}"),
                )
            })?;
            m.layers
        }
        None => Vec::new(),
    };
    let digest = store.put_blob(data)?;
    let layer = Descriptor {
        media_type: media_type.to_string(),
        digest,
        size: data.len() as u64,
        annotations,
    };
    if !layers.contains(&layer) {
        layers.push(layer);
    }
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let config = serde_json::json!({
        "architecture": "",
        "os": "",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config =
        serde_json::to_vec(&config).map_err(|e| SignError::invalid("config", e.to_string()))?;
    let config_digest = store.put_blob(&config)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        config: Descriptor {
            media_type: OCI_CONFIG.to_string(),
            digest: config_digest,
            size: config.len() as u64,
            annotations: BTreeMap::new(),
        },
        layers,
        annotations: BTreeMap::new(),
    };
    let bytes =
        serde_json::to_vec(&manifest).map_err(|e| SignError::invalid("manifest", e.to_string()))?;
    store.put_manifest(tag, OCI_MANIFEST, &bytes)
}

/// What `sign_image` stored.
#[derive(Debug, Clone)]
pub struct Signed {
    pub tag: String,
    pub manifest_digest: String,
    pub payload: Vec<u8>,
    pub signature: String,
}

/// Signs `digest` (the image's manifest digest) with a simple-signing payload naming
/// `reference`, and stores the signature in `store`.
pub fn sign_image(
    store: &mut dyn ArtifactStore,
    key: &SigningKey,
    digest: &str,
    reference: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<Signed, SignError> {
    let tag = artifact_tag(digest, "sig")?;
    let payload = SimpleSigning::new(reference, digest, annotations).to_bytes()?;
    let signature = b64_encode(&key.sign(&payload)?);
    let ann = BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), signature.clone())]);
    let manifest_digest = add_layer(store, &tag, &payload, SIMPLE_SIGNING_MEDIA_TYPE, ann)?;
    Ok(Signed {
        tag,
        manifest_digest,
        payload,
        signature,
    })
}

/// The verdict on one stored signature.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureCheck {
    /// Its layer's position in the signature manifest.
    pub layer: usize,
    pub payload_digest: String,
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The payload's `critical.identity.docker-reference`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, serde_json::Value>>,
}

/// The verdict on an image: verified when at least one signature is.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub location: String,
    pub digest: String,
    pub tag: String,
    pub key: String,
    pub verified: bool,
    pub signatures: Vec<SignatureCheck>,
}

fn check_signature(
    store: &dyn ArtifactStore,
    key: &PublicKey,
    digest: &str,
    layer: &Descriptor,
) -> Result<SimpleSigning, SignError> {
    if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
        return Err(SignError::NotVerified(format!(
            "layer media type {} is not {SIMPLE_SIGNING_MEDIA_TYPE}",
            layer.media_type
        )));
    }
    let sig = layer
        .annotations
        .get(SIGNATURE_ANNOTATION)
        .ok_or_else(|| SignError::NotVerified(format!("no {SIGNATURE_ANNOTATION} annotation")))?;
    let sig = b64_decode(sig, "the signature annotation")
        .map_err(|e| SignError::NotVerified(format!("malformed signature: {e}")))?;
    let payload = store.blob(layer, MAX_PAYLOAD).map_err(|e| match e {
        SignError::NotVerified(m) => SignError::NotVerified(format!("tampered payload: {m}")),
        e => SignError::NotVerified(format!("payload unreadable: {e}")),
    })?;
    key.verify(&payload, &sig)?;
    SimpleSigning::parse_for(&payload, digest)
}

/// Verifies the signatures stored for `digest` against `key` (offline).
pub fn verify_image(
    store: &dyn ArtifactStore,
    key: &PublicKey,
    digest: &str,
) -> Result<Verification, SignError> {
    let tag = artifact_tag(digest, "sig")?;
    let (_, bytes) = store.manifest_by_tag(&tag)?.ok_or_else(|| {
        SignError::NotVerified(format!(
            "no signatures: {} has no {tag} manifest",
            store.location()
        ))
    })?;
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| SignError::NotVerified(format!("the {tag} manifest is invalid: {e}")))?;
    let signatures: Vec<SignatureCheck> = m
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| match check_signature(store, key, digest, l) {
            Ok(p) => SignatureCheck {
                layer: i,
                payload_digest: l.digest.clone(),
                verified: true,
                reason: None,
                identity: Some(p.critical.identity.docker_reference),
                annotations: p.optional,
            },
            Err(e) => SignatureCheck {
                layer: i,
                payload_digest: l.digest.clone(),
                verified: false,
                reason: Some(match e {
                    SignError::NotVerified(m) => m,
                    e => e.to_string(),
                }),
                identity: None,
                annotations: None,
            },
        })
        .collect();
    Ok(Verification {
        location: store.location(),
        digest: digest.to_string(),
        tag,
        key: key.fingerprint(),
        verified: signatures.iter().any(|s| s.verified),
        signatures,
    })
}

/// The kinds of predicate `attest` knows, as cosign names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredicateKind {
    Cyclonedx,
    Spdx,
    Vuln,
    Custom,
}

impl PredicateKind {
    pub fn parse(s: &str) -> Option<PredicateKind> {
        match s {
            "cyclonedx" => Some(PredicateKind::Cyclonedx),
            "spdx" | "spdxjson" => Some(PredicateKind::Spdx),
            "vuln" => Some(PredicateKind::Vuln),
            "custom" => Some(PredicateKind::Custom),
            _ => None,
        }
    }

    pub fn uri(self) -> &'static str {
        match self {
            PredicateKind::Cyclonedx => "https://cyclonedx.org/bom",
            PredicateKind::Spdx => "https://spdx.dev/Document",
            PredicateKind::Vuln => "https://cosign.sigstore.dev/attestation/vuln/v1",
            PredicateKind::Custom => "https://cosign.sigstore.dev/attestation/v1",
        }
    }
}

pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// DSSE's pre-authentication encoding: what is signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload_type: String,
    payload: String,
    signatures: Vec<EnvSig>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct EnvSig {
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// Attests `digest` with `predicate` (the file's bytes): an in-toto v1 statement in a DSSE
/// envelope, stored under `sha256-<hex>.att`. `now` is the custom predicate's timestamp.
pub fn attest_image(
    store: &mut dyn ArtifactStore,
    key: &SigningKey,
    digest: &str,
    reference: &str,
    kind: PredicateKind,
    predicate: &[u8],
    now: &str,
) -> Result<Signed, SignError> {
    let tag = artifact_tag(digest, "att")?;
    let hex = sha256_hex(digest).unwrap_or_default();
    let predicate: serde_json::Value = match kind {
        PredicateKind::Custom => serde_json::json!({
            "Data": String::from_utf8_lossy(predicate),
            "Timestamp": now,
        }),
        _ => serde_json::from_slice(predicate)
            .map_err(|e| SignError::invalid("predicate", format!("not JSON: {e}")))?,
    };
    let statement = serde_json::json!({
        "_type": STATEMENT_V1,
        "subject": [{"name": reference, "digest": {"sha256": hex}}],
        "predicateType": kind.uri(),
        "predicate": predicate,
    });
    let statement = serde_json::to_vec(&statement)
        .map_err(|e| SignError::invalid("statement", e.to_string()))?;
    let sig = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &statement))?;
    let env = Envelope {
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
        payload: b64_encode(&statement),
        signatures: vec![EnvSig {
            keyid: String::new(),
            sig: b64_encode(&sig),
        }],
    };
    let env =
        serde_json::to_vec(&env).map_err(|e| SignError::invalid("envelope", e.to_string()))?;
    let ann = BTreeMap::from([
        (SIGNATURE_ANNOTATION.to_string(), String::new()),
        (
            PREDICATE_TYPE_ANNOTATION.to_string(),
            kind.uri().to_string(),
        ),
    ]);
    let manifest_digest = add_layer(store, &tag, &env, DSSE_MEDIA_TYPE, ann)?;
    Ok(Signed {
        tag,
        manifest_digest,
        payload: statement,
        signature: b64_encode(&sig),
    })
}

/// The verdict on one stored attestation.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationCheck {
    pub layer: usize,
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttestationVerification {
    pub location: String,
    pub digest: String,
    pub tag: String,
    pub key: String,
    pub verified: bool,
    pub attestations: Vec<AttestationCheck>,
}

/// Checks one DSSE envelope: a signature by `key` over its PAE, an in-toto statement about
/// `digest`. Returns (predicateType, predicate).
pub fn check_envelope(
    envelope: &[u8],
    key: &PublicKey,
    digest: &str,
) -> Result<(String, serde_json::Value), SignError> {
    let env: Envelope = serde_json::from_slice(envelope)
        .map_err(|e| SignError::NotVerified(format!("not a DSSE envelope: {e}")))?;
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(SignError::NotVerified(format!(
            "payloadType {:?} is not {IN_TOTO_PAYLOAD_TYPE}",
            env.payload_type
        )));
    }
    let payload = b64_decode(&env.payload, "the envelope payload")
        .map_err(|e| SignError::NotVerified(format!("malformed envelope: {e}")))?;
    let message = pae(&env.payload_type, &payload);
    let mut last = SignError::NotVerified("the envelope has no signatures".to_string());
    let mut ok = false;
    for s in &env.signatures {
        match b64_decode(&s.sig, "an envelope signature") {
            Err(e) => last = SignError::NotVerified(format!("malformed signature: {e}")),
            Ok(sig) => match key.verify(&message, &sig) {
                Ok(()) => {
                    ok = true;
                    break;
                }
                Err(e) => last = e,
            },
        }
    }
    if !ok {
        return Err(last);
    }
    let st: serde_json::Value = serde_json::from_slice(&payload)
        .map_err(|e| SignError::NotVerified(format!("the statement is not JSON: {e}")))?;
    let ty = st["_type"].as_str().unwrap_or_default();
    if ty != STATEMENT_V1 && ty != STATEMENT_V01 {
        return Err(SignError::NotVerified(format!(
            "not an in-toto statement (_type {ty:?})"
        )));
    }
    let hex = sha256_hex(digest).unwrap_or_default();
    let names_it = st["subject"].as_array().is_some_and(|subj| {
        subj.iter()
            .any(|s| s["digest"]["sha256"].as_str() == Some(hex))
    });
    if !names_it {
        return Err(SignError::NotVerified(format!(
            "the statement's subjects do not include this image ({digest})"
        )));
    }
    let pt = st["predicateType"].as_str().unwrap_or_default().to_string();
    Ok((pt, st["predicate"].clone()))
}

/// Verifies the attestations stored for `digest`; with `kind`, only those of that type count.
pub fn verify_attestations(
    store: &dyn ArtifactStore,
    key: &PublicKey,
    digest: &str,
    kind: Option<PredicateKind>,
) -> Result<AttestationVerification, SignError> {
    let tag = artifact_tag(digest, "att")?;
    let (_, bytes) = store.manifest_by_tag(&tag)?.ok_or_else(|| {
        SignError::NotVerified(format!(
            "no attestations: {} has no {tag} manifest",
            store.location()
        ))
    })?;
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| SignError::NotVerified(format!("the {tag} manifest is invalid: {e}")))?;
    let mut attestations = Vec::new();
    for (i, l) in m.layers.iter().enumerate() {
        let res = if l.media_type != DSSE_MEDIA_TYPE {
            Err(SignError::NotVerified(format!(
                "layer media type {} is not {DSSE_MEDIA_TYPE}",
                l.media_type
            )))
        } else {
            store
                .blob(l, MAX_PAYLOAD)
                .map_err(|e| match e {
                    SignError::NotVerified(m) => {
                        SignError::NotVerified(format!("tampered envelope: {m}"))
                    }
                    e => SignError::NotVerified(format!("envelope unreadable: {e}")),
                })
                .and_then(|env| check_envelope(&env, key, digest))
        };
        let res = res.and_then(|(pt, p)| match kind {
            Some(k) if k.uri() != pt => Err(SignError::NotVerified(format!(
                "predicate type {pt} is not the requested {}",
                k.uri()
            ))),
            _ => Ok((pt, p)),
        });
        attestations.push(match res {
            Ok((pt, p)) => AttestationCheck {
                layer: i,
                verified: true,
                reason: None,
                predicate_type: Some(pt),
                predicate: Some(p),
            },
            Err(e) => AttestationCheck {
                layer: i,
                verified: false,
                reason: Some(match e {
                    SignError::NotVerified(m) => m,
                    e => e.to_string(),
                }),
                predicate_type: None,
                predicate: None,
            },
        });
    }
    Ok(AttestationVerification {
        location: store.location(),
        digest: digest.to_string(),
        tag,
        key: key.fingerprint(),
        verified: attestations.iter().any(|a| a.verified),
        attestations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}
