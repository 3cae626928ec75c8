//! The image config blob: platform, rootfs.diff_ids, history and the run config.

use crate::digest::{Digest, DigestError};
use crate::error::ImageError;
use moat_model::{HistoryEntry, ImageConfig, Platform};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct Raw {
    created: Option<String>,
    architecture: Option<String>,
    os: Option<String>,
    variant: Option<String>,
    config: Option<RawRun>,
    rootfs: Option<RawRootfs>,
    history: Option<Vec<RawHistory>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRun {
    user: Option<String>,
    env: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    working_dir: Option<String>,
    exposed_ports: Option<BTreeMap<String, serde::de::IgnoredAny>>,
    labels: Option<BTreeMap<String, Option<String>>>,
    healthcheck: Option<RawHealthcheck>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawHealthcheck {
    test: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawHistory {
    created: Option<String>,
    created_by: Option<String>,
    #[serde(default)]
    empty_layer: bool,
}

/// A parsed, validated config.
pub(crate) struct Config {
    pub(crate) platform: Option<Platform>,
    pub(crate) diff_ids: Vec<Digest>,
    pub(crate) image: ImageConfig,
}

impl Config {
    pub(crate) fn parse(input: &Path, file: &str, bytes: &[u8]) -> Result<Config, ImageError> {
        let raw: Raw = serde_json::from_slice(bytes).map_err(|cause| ImageError::InvalidJson {
            path: input.to_path_buf(),
            file: file.to_string(),
            cause,
        })?;
        let rootfs = raw
            .rootfs
            .ok_or_else(|| ImageError::invalid(input, file, "config has no rootfs"))?;
        let diff_ids = rootfs
            .diff_ids
            .iter()
            .enumerate()
            .map(|(i, d)| parse_digest(input, &format!("{file} rootfs.diff_ids[{i}]"), d))
            .collect::<Result<Vec<_>, _>>()?;
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let platform = match (raw.os, raw.architecture) {
            (Some(os), Some(architecture)) if !os.is_empty() && !architecture.is_empty() => {
                Some(Platform {
                    os,
                    architecture,
                    variant: nonempty(raw.variant),
                })
            }
            _ => None,
        };
        let run = raw.config;
        let mut image = ImageConfig {
            created: raw.created,
            ..ImageConfig::default()
        };
        if let Some(run) = run {
            image.user = nonempty(run.user);
            image.env = run.env.unwrap_or_default();
            image.entrypoint = run.entrypoint.unwrap_or_default();
            image.cmd = run.cmd.unwrap_or_default();
            image.working_dir = nonempty(run.working_dir);
            image.exposed_ports = run
                .exposed_ports
                .map(|m| m.into_keys().collect())
                .unwrap_or_default();
            image.healthcheck = run.healthcheck.map(|h| h.test.unwrap_or_default());
            image.labels = run
                .labels
                .map(|m| {
                    m.into_iter()
                        .map(|(k, v)| (k, v.unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
        }
        image.history = raw
            .history
            .unwrap_or_default()
            .into_iter()
            .map(|h| HistoryEntry {
                created: h.created,
                created_by: h.created_by,
                empty_layer: h.empty_layer,
            })
            .collect();
        Ok(Config {
            platform,
            diff_ids,
            image,
        })
    }

    /// `created_by` for each of `n` layers: history entries that are not `empty_layer`,
    /// paired in order.
    pub(crate) fn created_by(&self, n: usize) -> Vec<Option<String>> {
        let mut it = self.image.history.iter().filter(|h| !h.empty_layer);
        (0..n)
            .map(|_| it.next().and_then(|h| h.created_by.clone()))
            .collect()
    }
}

pub(crate) fn parse_digest(input: &Path, subject: &str, s: &str) -> Result<Digest, ImageError> {
    Digest::parse(s).map_err(|e| match e {
        DigestError::Unsupported => ImageError::UnsupportedDigest {
            path: input.to_path_buf(),
            subject: subject.to_string(),
            digest: s.to_string(),
        },
        DigestError::Malformed => {
            ImageError::invalid(input, subject, format!("malformed digest {s:?}"))
        }
    })
}
