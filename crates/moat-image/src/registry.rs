//! Images in registries: the reference is resolved through the distribution API
//! (`moat-registry`), the platform chosen from an index with the same code as for OCI
//! layouts, and the config and every layer are downloaded (concurrently, each verified by
//! digest while it streams) into the blob cache, laid out as `blobs/<algo>/<hex>`. The image
//! then reads its layers from there like an OCI layout's, through the same [`LayerReader`]
//! (which verifies the digests a second time as the scan reads them). With
//! [`RegistryOptions::defer_layers`] only the config is downloaded when the image is opened;
//! the scan engine then asks for the layers its layer cache lacks
//! ([`crate::Image::fetch_layers`]), so a fully cached image downloads no layer.
//!
//! Chosen over streaming the HTTP body straight into the engine: a layer is then read at the
//! disk's speed whatever the network does, a retry never restarts a half-done scan, and the
//! second scan of an image (or of one sharing base layers) downloads nothing. With the cache
//! off the blobs go to a temporary directory removed when the image is dropped.
//!
//! [`LayerReader`]: crate::LayerReader

use crate::config::parse_digest;
use crate::digest::Digest;
use crate::error::ImageError;
use crate::oci::{self, Index, Leaf, Manifest, is_index_type};
use crate::store::Store;
use crate::{ImageParts, LayerIn, OpenOptions};
use moat_model::ArtifactKind;
use moat_registry::{BlobCache, Client, ClientOptions, Reference, RegistryError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How registry images are fetched.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Credentials, TLS, retries.
    pub client: ClientOptions,
    /// The blob cache directory (`$XDG_CACHE_HOME/moat/blobs`); `None`: no cache (a temporary
    /// directory per image).
    pub cache_dir: Option<PathBuf>,
    /// Bound on the cache's size: least recently used blobs are removed past it.
    pub cache_max_bytes: u64,
    /// Concurrent layer downloads.
    pub threads: usize,
    /// Where Docker's `config.json` is (`$DOCKER_CONFIG/config.json`,
    /// `~/.docker/config.json`), read when no credentials are given.
    pub docker_config: Option<PathBuf>,
    /// Download counters for a progress display.
    pub progress: Option<Arc<moat_registry::FetchProgress>>,
    /// Fetch only the manifest and config when opening; the layers are downloaded by
    /// [`crate::Image::fetch_layers`] (the scan engine asks for those its layer cache
    /// lacks, so a fully cached image downloads no layer).
    pub defer_layers: bool,
}

/// The default bound on the blob cache: 10 GiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 10 << 30;

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            client: ClientOptions::default(),
            cache_dir: None,
            cache_max_bytes: DEFAULT_CACHE_MAX_BYTES,
            threads: 4,
            docker_config: None,
            progress: None,
            defer_layers: false,
        }
    }
}

/// Parses a size: bytes, or with a `K`/`M`/`G`/`T` suffix (binary, `KiB`/`MB` spellings too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?}: expected a size such as 500M, 10G or 1048576");
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    n.checked_mul(1u64 << shift).ok_or_else(bad)
}

/// A bare target that is not an existing path and reads as an image reference with a tag, a
/// digest or a registry host (`debian:12`, `ghcr.io/o/app`, `app@sha256:...`).
pub(crate) fn is_bare_reference(s: &str) -> bool {
    if std::fs::symlink_metadata(s).is_ok() {
        return false;
    }
    let Ok(r) = Reference::parse(s) else {
        return false;
    };
    let first = s.split('/').next().unwrap_or(s);
    let has_host =
        s.contains('/') && first == r.registry && r.registry != moat_registry::DOCKER_HUB
            || s.starts_with("docker.io/");
    s.contains(':') || s.contains('@') || has_host
}

fn reg_err(reference: &str) -> impl Fn(RegistryError) -> ImageError + '_ {
    move |cause| ImageError::Registry {
        reference: reference.to_string(),
        cause,
    }
}

fn to_registry_digest(d: &Digest) -> Result<moat_registry::Digest, ImageError> {
    moat_registry::Digest::parse(&d.to_string()).map_err(|reason| ImageError::InvalidSpec {
        spec: d.to_string(),
        reason,
    })
}

/// A client for `r`'s registry: the options' credentials, else those Docker's `config.json`
/// (or its credential helper) holds for that registry, else anonymous.
pub fn connect(r: &Reference, ro: &RegistryOptions) -> Result<Client, RegistryError> {
    let mut copts = ro.client.clone();
    if copts.credentials.is_none()
        && let Some(cfg) = &ro.docker_config
    {
        copts.credentials = moat_registry::auth::from_docker_config(cfg, &r.registry)?;
    }
    Client::connect(r.api_host(), &copts)
}

/// Resolves, downloads and opens a registry image.
pub(crate) fn open(text: &str, opts: &OpenOptions) -> Result<crate::Image, ImageError> {
    let r = Reference::parse(text).map_err(|e| ImageError::InvalidSpec {
        spec: text.to_string(),
        reason: e.to_string(),
    })?;
    let name = r.to_string();
    let err = reg_err(&name);
    let label = PathBuf::from(&name);
    let ro = &opts.registry;
    let client = connect(&r, ro).map_err(&err)?;
    let limit = opts.limits.max_json_bytes;
    let top = client
        .get_manifest(&r.repository, &r.manifest_ref(), limit)
        .map_err(&err)?;
    // The index's digest is what `name@sha256:...` references of a multi-platform image name.
    let index_digest = is_index_type(&top.media_type).then(|| top.digest.to_string());
    let (manifest_bytes, manifest_digest) = if is_index_type(&top.media_type) {
        let index: Index = oci::parse_json(&label, "index", &top.bytes)?;
        let mut leaves = Vec::new();
        collect(
            &client,
            &r.repository,
            &label,
            &index,
            0,
            limit,
            &mut leaves,
        )?;
        let leaf = oci::select(&label, leaves, opts)?;
        let bytes = match leaf.bytes {
            Some(b) => b,
            None => {
                client
                    .get_manifest(&r.repository, &leaf.digest.to_string(), limit)
                    .map_err(&err)?
                    .bytes
            }
        };
        (bytes, leaf.digest)
    } else {
        let d = parse_digest(&label, "manifest digest", &top.digest.to_string())?;
        (top.bytes, d)
    };
    let manifest_name = format!("manifest {manifest_digest}");
    let manifest: Manifest = oci::parse_json(&label, &manifest_name, &manifest_bytes)?;
    let config_digest = parse_digest(
        &label,
        &format!("{manifest_name} config.digest"),
        &manifest.config.digest,
    )?;
    let mut layers = Vec::with_capacity(manifest.layers.len());
    let mut blobs = vec![(to_registry_digest(&config_digest)?, manifest.config.size)];
    for (i, l) in manifest.layers.iter().enumerate() {
        let d = parse_digest(
            &label,
            &format!("{manifest_name} layers[{i}].digest"),
            &l.digest,
        )?;
        blobs.push((to_registry_digest(&d)?, l.size));
        layers.push(LayerIn {
            blob: d.blob_path(),
            stored: Some(d),
            size: l.size,
            media_type: l.media_type.clone(),
        });
    }
    let (root, tmp) = match &ro.cache_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("moat-blobs-")
                .tempdir()
                .map_err(|e| ImageError::io(Path::new("temporary directory"), "creating", e))?;
            (t.path().to_path_buf(), Some(Arc::new(t)))
        }
    };
    let deferred = Deferred {
        client,
        repository: r.repository.clone(),
        name: name.clone(),
        root: root.clone(),
        config: blobs.first().map(|b| b.0.clone()),
        layers: blobs.get(1..).unwrap_or_default().to_vec(),
        threads: ro.threads,
        limit: opts.limits.max_layer_bytes,
        progress: ro.progress.clone(),
        evict: ro.cache_dir.is_some().then_some(ro.cache_max_bytes),
    };
    if ro.defer_layers {
        deferred.fetch(blobs.get(..1).unwrap_or_default())?;
    } else {
        deferred.fetch(&blobs)?;
    }
    let store = Store::Blobs {
        label: label.clone(),
        root,
        _tmp: tmp,
    };
    let config_bytes = oci::read_verified(
        &store,
        &config_digest,
        manifest.config.size,
        "config",
        limit,
    )?;
    let parts = ImageParts {
        name: name.clone(),
        repo_tags: vec![name.clone()],
        manifest_digest: Some(manifest_digest.to_string()),
        config_name: config_digest.blob_path(),
        config_digest,
        config_bytes,
        layers,
    };
    let mut image = crate::assemble(store, ArtifactKind::Registry, parts, opts)?;
    image.artifact.index_digest = index_digest;
    if ro.defer_layers {
        image.deferred = Some(Box::new(deferred));
    }
    Ok(image)
}

/// What a registry image needs to download its layers later.
pub(crate) struct Deferred {
    client: Client,
    repository: String,
    /// The reference, for messages.
    name: String,
    /// The blob cache (or the image's temporary directory).
    root: PathBuf,
    config: Option<moat_registry::Digest>,
    /// Each layer's blob digest and size, in order.
    layers: Vec<(moat_registry::Digest, Option<u64>)>,
    threads: usize,
    limit: u64,
    progress: Option<Arc<moat_registry::FetchProgress>>,
    /// The cache bound, when the blobs go to the cache.
    evict: Option<u64>,
}

impl Deferred {
    /// Downloads `blobs` (verified) into the blob cache, then bounds the cache, sparing this
    /// image's blobs.
    fn fetch(&self, blobs: &[(moat_registry::Digest, Option<u64>)]) -> Result<(), ImageError> {
        let cache = BlobCache::new(&self.root);
        moat_registry::fetch_blobs(
            &self.client,
            &self.repository,
            blobs,
            &cache,
            self.threads,
            self.limit,
            self.progress.as_deref(),
        )
        .map_err(reg_err(&self.name))?;
        if let Some(max) = self.evict {
            let keep: Vec<moat_registry::Digest> = self
                .config
                .iter()
                .chain(self.layers.iter().map(|b| &b.0))
                .cloned()
                .collect();
            cache.evict(max, &keep);
        }
        Ok(())
    }

    /// Downloads the layers at `indices`.
    pub(crate) fn fetch_layers(&self, indices: &[usize]) -> Result<(), ImageError> {
        let blobs: Vec<_> = indices
            .iter()
            .filter_map(|&i| self.layers.get(i).cloned())
            .collect();
        if blobs.is_empty() {
            return Ok(());
        }
        self.fetch(&blobs)
    }
}

/// The image manifests an index leads to (nested indexes fetched and followed).
fn collect(
    client: &Client,
    repo: &str,
    label: &Path,
    index: &Index,
    depth: usize,
    limit: u64,
    out: &mut Vec<Leaf>,
) -> Result<(), ImageError> {
    let name = label.display().to_string();
    for (i, desc) in index.manifests.iter().enumerate() {
        let digest = parse_digest(label, &format!("index manifests[{i}].digest"), &desc.digest)?;
        if desc.media_type.as_deref().is_some_and(is_index_type) {
            if depth + 1 >= oci::MAX_INDEX_DEPTH {
                return Err(ImageError::TooDeep {
                    path: label.to_path_buf(),
                    limit: oci::MAX_INDEX_DEPTH,
                });
            }
            let m = client
                .get_manifest(repo, &digest.to_string(), limit)
                .map_err(reg_err(&name))?;
            let child: Index = oci::parse_json(label, &format!("index {digest}"), &m.bytes)?;
            collect(client, repo, label, &child, depth + 1, limit, out)?;
            continue;
        }
        // Attestation manifests (buildx's `unknown/unknown`) are not images to scan.
        let platform = desc.platform();
        if platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
        {
            continue;
        }
        out.push(Leaf {
            digest,
            size: desc.size,
            platform,
            names: Vec::new(),
            bytes: None,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("10GiB"), Ok(10 << 30));
        assert!(parse_size("10X").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn bare_references() {
        assert!(is_bare_reference("debian:12"));
        assert!(is_bare_reference("ghcr.io/o/app"));
        assert!(is_bare_reference("127.0.0.1:5000/bench/lang-app"));
        assert!(!is_bare_reference("missing.tar"));
        assert!(!is_bare_reference("some/dir"));
        assert!(!is_bare_reference("/nonexistent/a:b"));
    }
}
