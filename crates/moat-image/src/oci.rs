//! OCI image layouts (directory or inside an uncompressed tar): index.json,
//! nested indexes, platform and name selection, manifests.

use crate::config::parse_digest;
use crate::digest::Digest;
use crate::error::ImageError;
use crate::store::Store;
use crate::{
    ImageParts, LayerIn, OpenOptions, RefMatch, distinct, keep_best_match, platform_matches,
    ref_match,
};
use moat_model::Platform;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Nested image indexes deeper than this are rejected.
pub(crate) const MAX_INDEX_DEPTH: usize = 8;

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    pub(crate) media_type: Option<String>,
    pub(crate) digest: String,
    pub(crate) size: Option<u64>,
    pub(crate) annotations: Option<BTreeMap<String, String>>,
    pub(crate) platform: Option<RawPlatform>,
}

impl Descriptor {
    /// The descriptor's platform, an empty variant as none.
    pub(crate) fn platform(&self) -> Option<Platform> {
        self.platform.as_ref().map(|p| Platform {
            os: p.os.clone(),
            architecture: p.architecture.clone(),
            variant: p.variant.clone().filter(|v| !v.is_empty()),
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawPlatform {
    os: String,
    architecture: String,
    variant: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Index {
    #[serde(default)]
    pub(crate) manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
pub(crate) struct Manifest {
    pub(crate) config: Descriptor,
    #[serde(default)]
    pub(crate) layers: Vec<Descriptor>,
}

/// Enough of a JSON document to tell an index from a manifest.
#[derive(Deserialize)]
struct Sniff {
    manifests: Option<serde::de::IgnoredAny>,
}

pub(crate) use moat_registry::is_index_type;

/// A candidate image manifest found by walking index.json.
pub(crate) struct Leaf {
    pub(crate) digest: Digest,
    pub(crate) size: Option<u64>,
    pub(crate) platform: Option<Platform>,
    /// Names from the descriptor's annotations and those of enclosing indexes.
    pub(crate) names: Vec<String>,
    /// The manifest bytes when they had to be read already (descriptor without mediaType).
    pub(crate) bytes: Option<Vec<u8>>,
}

impl Leaf {
    fn label(&self) -> String {
        let base = if self.names.is_empty() {
            self.digest.to_string()
        } else {
            self.names.join(" / ")
        };
        match &self.platform {
            Some(p) => format!("{base} ({p})"),
            None => base,
        }
    }
}

/// Read a blob named by a descriptor and check its size and digest.
pub(crate) fn read_verified(
    store: &Store,
    desc_digest: &Digest,
    desc_size: Option<u64>,
    what: &str,
    limit: u64,
) -> Result<Vec<u8>, ImageError> {
    let input = store.input();
    let name = desc_digest.blob_path();
    let (bytes, _) = store.read_small(&name, limit)?;
    if let Some(size) = desc_size
        && size != bytes.len() as u64
    {
        return Err(ImageError::SizeMismatch {
            path: input.to_path_buf(),
            subject: format!("{what} {name}"),
            expected: size,
            actual: bytes.len() as u64,
        });
    }
    let actual = Digest::of(desc_digest.algo, &bytes);
    if actual != *desc_digest {
        return Err(ImageError::DigestMismatch {
            path: input.to_path_buf(),
            layer: None,
            subject: format!("{what} {name}"),
            expected: desc_digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(bytes)
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    input: &Path,
    file: &str,
    bytes: &[u8],
) -> Result<T, ImageError> {
    serde_json::from_slice(bytes).map_err(|cause| ImageError::InvalidJson {
        path: input.to_path_buf(),
        file: file.to_string(),
        cause,
    })
}

/// `sha256-<64 hex>.sig` / `.att` / `.sbom`: the tags cosign gives its artifacts.
fn is_cosign_tag(name: &str) -> bool {
    name.strip_prefix("sha256-")
        .and_then(|r| r.split_once('.'))
        .is_some_and(|(hex, suffix)| {
            hex.len() == 64
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
                && matches!(suffix, "sig" | "att" | "sbom")
        })
}

fn collect(
    store: &Store,
    index: &Index,
    inherited: &[String],
    depth: usize,
    limit: u64,
    out: &mut Vec<Leaf>,
) -> Result<(), ImageError> {
    let input = store.input();
    for (i, desc) in index.manifests.iter().enumerate() {
        // cosign's signatures and attestations (`moat sign`, `moat attest`) are not images.
        if depth == 0
            && desc
                .annotations
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
                .is_some_and(|n| is_cosign_tag(n))
        {
            continue;
        }
        let digest = parse_digest(input, &format!("index manifests[{i}].digest"), &desc.digest)?;
        let mut names = inherited.to_vec();
        if let Some(ann) = &desc.annotations {
            for key in [CONTAINERD_NAME, REF_NAME] {
                if let Some(v) = ann.get(key).filter(|v| !v.is_empty())
                    && !names.contains(v)
                {
                    names.push(v.clone());
                }
            }
        }
        let platform = desc.platform();
        let (nested, bytes) = match desc.media_type.as_deref() {
            Some(t) => (is_index_type(t), None),
            None => {
                let bytes = read_verified(store, &digest, desc.size, "manifest", limit)?;
                let sniff: Sniff = parse_json(input, &digest.blob_path(), &bytes)?;
                (sniff.manifests.is_some(), Some(bytes))
            }
        };
        if nested {
            if depth + 1 >= MAX_INDEX_DEPTH {
                return Err(ImageError::TooDeep {
                    path: input.to_path_buf(),
                    limit: MAX_INDEX_DEPTH,
                });
            }
            let bytes = match bytes {
                Some(b) => b,
                None => read_verified(store, &digest, desc.size, "index", limit)?,
            };
            let child: Index = parse_json(input, &digest.blob_path(), &bytes)?;
            collect(store, &child, &names, depth + 1, limit, out)?;
        } else {
            out.push(Leaf {
                digest,
                size: desc.size,
                platform,
                names,
                bytes,
            });
        }
    }
    Ok(())
}

pub(crate) fn select(
    input: &Path,
    leaves: Vec<Leaf>,
    opts: &OpenOptions,
) -> Result<Leaf, ImageError> {
    let mut cands = leaves;
    if let Some(sel) = &opts.image {
        let score = |l: &Leaf| {
            if l.digest.to_string() == *sel {
                return RefMatch::Exact;
            }
            l.names
                .iter()
                .map(|n| ref_match(sel, n))
                .max()
                .unwrap_or(RefMatch::No)
        };
        keep_best_match(input, &mut cands, sel, score, Leaf::label)?;
    }
    // Different names are different images; platforms only choose within one image.
    let groups = distinct(cands.iter().map(|l| l.names.join(" / ")));
    if groups.len() > 1 {
        let available = distinct(cands.iter().map(Leaf::label));
        return Err(ImageError::AmbiguousImage {
            path: input.to_path_buf(),
            available,
        });
    }
    if cands.len() == 1 {
        let only = cands
            .pop()
            .ok_or_else(|| ImageError::invalid(input, "index.json", "no image manifests"))?;
        if let (Some(want), Some(have)) = (&opts.platform, &only.platform)
            && !platform_matches(want, have)
        {
            return Err(ImageError::NoMatchingPlatform {
                path: input.to_path_buf(),
                wanted: want.to_string(),
                available: vec![have.to_string()],
            });
        }
        return Ok(only);
    }
    if cands.is_empty() {
        return Err(ImageError::invalid(
            input,
            "index.json",
            "the index lists no image manifests",
        ));
    }
    if cands.iter().all(|l| l.platform.is_none()) {
        let available = distinct(cands.iter().map(Leaf::label));
        return Err(ImageError::AmbiguousImage {
            path: input.to_path_buf(),
            available,
        });
    }
    let want = opts.platform.clone().unwrap_or_else(crate::host_platform);
    match cands.iter().position(|l| {
        l.platform
            .as_ref()
            .is_some_and(|p| platform_matches(&want, p))
    }) {
        Some(pos) => Ok(cands.swap_remove(pos)),
        None => {
            let available = distinct(
                cands
                    .iter()
                    .filter_map(|l| l.platform.as_ref().map(|p| p.to_string())),
            );
            Err(ImageError::NoMatchingPlatform {
                path: input.to_path_buf(),
                wanted: want.to_string(),
                available,
            })
        }
    }
}

/// Open the image an OCI layout's index.json leads to.
pub(crate) fn open(store: &Store, opts: &OpenOptions) -> Result<ImageParts, ImageError> {
    let input = store.input().to_path_buf();
    let limit = opts.limits.max_json_bytes;
    if !store.contains("index.json") {
        return Err(ImageError::invalid(
            &input,
            "index.json",
            "missing: not an OCI image layout",
        ));
    }
    let (bytes, _) = store.read_small("index.json", limit)?;
    let index: Index = parse_json(&input, "index.json", &bytes)?;
    let mut leaves = Vec::new();
    collect(store, &index, &[], 0, limit, &mut leaves)?;
    if leaves.is_empty() {
        return Err(ImageError::invalid(
            &input,
            "index.json",
            "the index lists no image manifests",
        ));
    }
    let leaf = select(&input, leaves, opts)?;
    let manifest_name = leaf.digest.blob_path();
    let bytes = match leaf.bytes {
        Some(b) => b,
        None => read_verified(store, &leaf.digest, leaf.size, "manifest", limit)?,
    };
    let manifest: Manifest = parse_json(&input, &manifest_name, &bytes)?;
    let config_digest = parse_digest(
        &input,
        &format!("{manifest_name} config.digest"),
        &manifest.config.digest,
    )?;
    let config_bytes = read_verified(store, &config_digest, manifest.config.size, "config", limit)?;
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (i, l) in manifest.layers.iter().enumerate() {
        let d = parse_digest(
            &input,
            &format!("{manifest_name} layers[{i}].digest"),
            &l.digest,
        )?;
        layers.push(LayerIn {
            blob: d.blob_path(),
            stored: Some(d),
            size: l.size,
            media_type: l.media_type.clone(),
        });
    }
    let full_refs: Vec<String> = leaf
        .names
        .iter()
        .filter(|n| n.contains('/') || n.contains(':'))
        .cloned()
        .collect();
    let name = match (full_refs.first(), leaf.names.first()) {
        (Some(r), _) => r.clone(),
        (None, Some(tag)) => format!("{}:{tag}", crate::file_name(&input)),
        (None, None) => crate::file_name(&input),
    };
    Ok(ImageParts {
        name,
        repo_tags: full_refs,
        manifest_digest: Some(leaf.digest.to_string()),
        config_name: config_digest.blob_path(),
        config_digest,
        config_bytes,
        layers,
    })
}

/// For a Docker 25+ archive: the manifest in index.json whose config is `config`,
/// with its digest and the layer media types. Best effort: `None` on any problem.
pub(crate) fn find_manifest_for_config(
    store: &Store,
    config: &Digest,
    limit: u64,
) -> Option<(Digest, Vec<Option<String>>)> {
    let (bytes, _) = store.read_small("index.json", limit).ok()?;
    let index: Index = serde_json::from_slice(&bytes).ok()?;
    for desc in &index.manifests {
        if desc.media_type.as_deref().is_some_and(is_index_type) {
            continue;
        }
        let Ok(digest) = Digest::parse(&desc.digest) else {
            continue;
        };
        let Ok(bytes) = read_verified(store, &digest, desc.size, "manifest", limit) else {
            continue;
        };
        let Ok(m) = serde_json::from_slice::<Manifest>(&bytes) else {
            continue;
        };
        if Digest::parse(&m.config.digest).ok().as_ref() == Some(config) {
            return Some((
                digest,
                m.layers.iter().map(|l| l.media_type.clone()).collect(),
            ));
        }
    }
    None
}
