//! Signatures and attestations in a registry, where cosign keeps them: the manifest tagged
//! `sha256-<hex>.sig` (`.att`) in the image's own repository, its layers and config as blobs
//! of that repository, or in another repository when one is given
//! ([`RegistryStore::with_artifacts_in`], what cosign's `COSIGN_REPOSITORY` does). Reads and
//! writes go through moat-registry's [`Client`] (credentials, TLS and retries as for scans).

use crate::SignError;
use crate::store::{ArtifactStore, Descriptor, ImageRef, MAX_MANIFEST};
use moat_registry::{Client, Digest, Reference, RegistryError};

/// One repository of a registry, and where its signatures and attestations are kept.
#[derive(Debug, Clone)]
pub struct RegistryStore {
    client: Client,
    reference: Reference,
    /// The repository holding the `.sig` / `.att` artifacts: the image's own by default.
    artifacts: Option<Box<(Client, Reference)>>,
}

fn digest(d: &str) -> Result<Digest, SignError> {
    Digest::parse(d).map_err(|reason| SignError::Invalid {
        what: format!("digest {d:?}"),
        reason,
    })
}

impl RegistryStore {
    /// The repository of `reference`, reached through `client` (connected to its registry).
    pub fn new(client: Client, reference: Reference) -> RegistryStore {
        RegistryStore {
            client,
            reference,
            artifacts: None,
        }
    }

    /// Signatures and attestations read from and written to `repository` (reached through
    /// `client`) instead of the image's repository, as cosign does with
    /// `COSIGN_REPOSITORY`; the image itself is still resolved in its own repository.
    pub fn with_artifacts_in(mut self, client: Client, repository: Reference) -> RegistryStore {
        self.artifacts = Some(Box::new((client, repository)));
        self
    }

    /// The client and repository name the artifacts live in.
    fn artifacts(&self) -> (&Client, &str) {
        match self.artifacts.as_deref() {
            Some((c, r)) => (c, &r.repository),
            None => (&self.client, &self.reference.repository),
        }
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// `registry/repository`, as cosign names the image in its payloads
    /// ([`cosign_name`]).
    pub fn repository_name(&self) -> String {
        cosign_name(&self.reference)
    }

    /// The digest the reference names: its `@sha256:` digest (checked against the manifest
    /// the registry sends), else what its tag names now; an index's own digest for an index,
    /// as cosign signs it.
    pub fn resolve_image(&self) -> Result<ImageRef, SignError> {
        let m = self.client.get_manifest(
            &self.reference.repository,
            &self.reference.manifest_ref(),
            MAX_MANIFEST,
        )?;
        Ok(ImageRef {
            digest: m.digest.to_string(),
            media_type: m.media_type,
            name: self.reference.tag.clone(),
        })
    }
}

/// `registry/repository` as cosign writes it in a payload's `docker-reference`: Docker Hub
/// is `index.docker.io` (go-containerregistry's canonical name for it), so that a signature
/// made by moat names the image as one made by cosign does.
pub fn cosign_name(r: &Reference) -> String {
    let registry = match r.registry.as_str() {
        moat_registry::DOCKER_HUB => "index.docker.io",
        other => other,
    };
    format!("{registry}/{}", r.repository)
}

impl ArtifactStore for RegistryStore {
    fn location(&self) -> String {
        match self.artifacts.as_deref() {
            Some((_, r)) => cosign_name(r),
            None => self.repository_name(),
        }
    }

    fn manifest_by_tag(&self, tag: &str) -> Result<Option<(String, Vec<u8>)>, SignError> {
        let (client, repository) = self.artifacts();
        match client.get_manifest(repository, tag, MAX_MANIFEST) {
            Ok(m) => Ok(Some((m.digest.to_string(), m.bytes))),
            Err(RegistryError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn blob(&self, desc: &Descriptor, max: u64) -> Result<Vec<u8>, SignError> {
        if desc.size > max {
            return Err(SignError::Invalid {
                what: format!("{} blob {}", self.location(), desc.digest),
                reason: format!(
                    "the descriptor says {} bytes, more than the {max} allowed",
                    desc.size
                ),
            });
        }
        let d = digest(&desc.digest)?;
        let (client, repository) = self.artifacts();
        let data = match client.get_blob(repository, &d, max) {
            Ok(data) => data,
            Err(RegistryError::DigestMismatch { actual, .. }) => {
                return Err(SignError::NotVerified(format!(
                    "blob {} was modified: its content has digest {actual}",
                    desc.digest
                )));
            }
            Err(e) => return Err(e.into()),
        };
        if data.len() as u64 != desc.size {
            return Err(SignError::Invalid {
                what: format!("{} blob {}", self.location(), desc.digest),
                reason: format!("{} bytes, the descriptor says {}", data.len(), desc.size),
            });
        }
        Ok(data)
    }

    fn put_blob(&mut self, data: &[u8]) -> Result<String, SignError> {
        let d = Digest::sha256(data);
        let (client, repository) = self.artifacts();
        client.put_blob(repository, &d, data)?;
        Ok(d.to_string())
    }

    fn put_manifest(
        &mut self,
        tag: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, SignError> {
        let (client, repository) = self.artifacts();
        let d = client.put_manifest(repository, tag, media_type, bytes)?;
        Ok(d.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_is_named_as_cosign_names_it() {
        let name = |s: &str| cosign_name(&Reference::parse(s).unwrap());
        assert_eq!(name("debian:12"), "index.docker.io/library/debian");
        assert_eq!(
            name(
                "docker.io/user/app@sha256:0000000000000000000000000000000000000000000000000000000000000000"
            ),
            "index.docker.io/user/app"
        );
        assert_eq!(name("ghcr.io/org/app:1"), "ghcr.io/org/app");
        assert_eq!(name("127.0.0.1:5000/moat/app"), "127.0.0.1:5000/moat/app");
    }
}
