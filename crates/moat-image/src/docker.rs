//! docker-archive: `docker save` tars, classic (`<id>.json`, `<diffID>.tar` or
//! `<id>/layer.tar`) and Docker 25+ (an OCI layout plus manifest.json).

use crate::config::parse_digest;
use crate::digest::Digest;
use crate::error::ImageError;
use crate::oci::Descriptor;
use crate::store::{Store, check_name};
use crate::{ImageParts, LayerIn, OpenOptions, RefMatch, distinct, keep_best_match, ref_match};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
    layer_sources: Option<BTreeMap<String, Descriptor>>,
}

impl Entry {
    fn tags(&self) -> &[String] {
        self.repo_tags.as_deref().unwrap_or_default()
    }
    fn label(&self) -> String {
        if self.tags().is_empty() {
            self.config.clone()
        } else {
            self.tags().join(", ")
        }
    }
    fn score(&self, sel: &str) -> RefMatch {
        if Digest::from_blob_name(&self.config)
            .is_some_and(|d| d.to_string() == sel || d.hex == sel)
        {
            return RefMatch::Exact;
        }
        self.tags()
            .iter()
            .map(|t| ref_match(sel, t))
            .max()
            .unwrap_or(RefMatch::No)
    }
}

pub(crate) fn open(store: &Store, opts: &OpenOptions) -> Result<ImageParts, ImageError> {
    let input = store.input().to_path_buf();
    let limit = opts.limits.max_json_bytes;
    let (bytes, _) = store.read_small("manifest.json", limit)?;
    let mut entries: Vec<Entry> =
        serde_json::from_slice(&bytes).map_err(|cause| ImageError::InvalidJson {
            path: input.clone(),
            file: "manifest.json".into(),
            cause,
        })?;
    if entries.is_empty() {
        return Err(ImageError::invalid(
            &input,
            "manifest.json",
            "lists no images",
        ));
    }
    if let Some(sel) = &opts.image {
        keep_best_match(&input, &mut entries, sel, |e| e.score(sel), Entry::label)?;
    }
    if entries.len() > 1 {
        return Err(ImageError::AmbiguousImage {
            path: input,
            available: distinct(entries.iter().map(Entry::label)),
        });
    }
    let entry = entries
        .pop()
        .ok_or_else(|| ImageError::invalid(&input, "manifest.json", "lists no images"))?;

    check_name(&input, &entry.config)?;
    let (config_bytes, config_resolved) = store.read_small(&entry.config, limit)?;
    let claimed =
        Digest::from_blob_name(&entry.config).or_else(|| Digest::from_blob_name(&config_resolved));
    let algo = claimed
        .as_ref()
        .map_or(crate::digest::Algo::Sha256, |d| d.algo);
    let config_digest = Digest::of(algo, &config_bytes);
    if let Some(claimed) = claimed
        && claimed != config_digest
    {
        return Err(ImageError::DigestMismatch {
            path: input,
            layer: None,
            subject: format!("config {}", entry.config),
            expected: claimed.to_string(),
            actual: config_digest.to_string(),
        });
    }

    let sources = entry.layer_sources.as_ref();
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (i, name) in entry.layers.iter().enumerate() {
        check_name(&input, name)?;
        let (resolved, size) = store.stat(name)?;
        // `<id>/layer.tar` names claim nothing; the entry they link to may.
        let stored = Digest::from_blob_name(name).or_else(|| Digest::from_blob_name(&resolved));
        let source = stored
            .as_ref()
            .and_then(|d| sources.and_then(|s| s.get(&d.to_string())));
        if let Some(src) = source {
            let d = parse_digest(
                &input,
                &format!("manifest.json LayerSources for layer {i}"),
                &src.digest,
            )?;
            if Some(&d) != stored.as_ref() {
                return Err(ImageError::invalid(
                    &input,
                    "manifest.json",
                    format!(
                        "LayerSources digest {d} for layer {i} does not match its blob name {name}"
                    ),
                ));
            }
        }
        layers.push(LayerIn {
            blob: name.clone(),
            stored,
            size: Some(size),
            media_type: source.and_then(|s| s.media_type.clone()),
        });
    }

    // Docker 25+: the same tar carries an OCI layout; take the manifest digest from it.
    let mut manifest_digest = None;
    if store.contains("index.json")
        && let Some((digest, media)) =
            crate::oci::find_manifest_for_config(store, &config_digest, limit)
    {
        manifest_digest = Some(digest.to_string());
        if media.len() == layers.len() {
            for (l, m) in layers.iter_mut().zip(media) {
                if l.media_type.is_none() {
                    l.media_type = m;
                }
            }
        }
    }

    let repo_tags = entry.tags().to_vec();
    let name = repo_tags
        .first()
        .cloned()
        .unwrap_or_else(|| crate::file_name(&input));
    Ok(ImageParts {
        name,
        repo_tags,
        manifest_digest,
        config_name: entry.config.clone(),
        config_digest,
        config_bytes,
        layers,
    })
}
