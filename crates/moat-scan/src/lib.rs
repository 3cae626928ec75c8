//! # moat-scan: the scan engine
//!
//! Turns a [`moat_image::Source`] into a [`moat_model::Inventory`] in one streaming pass
//! per layer:
//!
//! 1. every layer of an image is opened as a verified, decompressed tar stream
//!    ([`moat_image::Image::open_layer`]); layers are walked in parallel (rayon, one layer
//!    per worker, so at most as many layers are in flight as there are cores);
//! 2. each entry's path is tested against the analyzers' patterns ([`analyzers::wants`]);
//!    entries nobody wants are never buffered; a wanted file is read once and parsed into
//!    a [`analyzers::Fact`]; symlinks, hardlinks, whiteouts and opaque directories become
//!    [`walk::Change`]s; after the tar ends the rest of the stream is drained and the
//!    layer's digests are checked ([`moat_image::LayerReader::finish`]);
//! 3. the layers are merged in order ([`merge::Merged`]): whiteouts hide lower layers,
//!    and every wanted path keeps its history;
//! 4. the join ([`inventory::build`]) detects the OS, reads the final package databases,
//!    joins file lists and licences, draws dependency edges and, from the history of
//!    each database, the layer that introduced each package.
//!
//! Rootfs and plain directories are walked the same way as one layer without digests.
//!
//! Problems inside the target (a damaged database, an unreadable file) are warnings in
//! the inventory. A layer that cannot be read at all (corrupt or truncated stream, digest
//! mismatch, a decompression bomb, an entry escaping the root) is a [`ScanError`].
//!
//! Rejected alternatives: extracting layers to a temporary directory (slow, disk-hungry,
//! and unsafe with hostile paths); analyzers that open other files themselves (they would
//! need random access to a stream; joins after the merge do that job); a per-analyzer pass
//! over each layer (every byte would be decompressed several times).

pub mod analyzers;
pub mod inventory;
mod lang;
pub mod merge;
pub mod walk;

use moat_image::{ImageError, Source};
use moat_model::{Diagnostic, Inventory, SCHEMA_VERSION, Tool};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Knobs of a scan.
#[derive(Clone)]
pub struct ScanOptions {
    /// Largest file that is read into memory for analysis; bigger wanted files are
    /// skipped with a warning (a sparse entry claiming more is an error).
    pub max_entry_bytes: u64,
    /// Live counters for a progress display.
    pub progress: Option<Arc<Progress>>,
    /// Leave out development dependencies (as lockfiles mark them).
    pub skip_dev: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_entry_bytes: 512 << 20,
            skip_dev: false,
            progress: None,
        }
    }
}

/// Counters a progress display polls while a scan runs.
#[derive(Default, Debug)]
pub struct Progress {
    pub layers_total: AtomicUsize,
    pub layers_done: AtomicUsize,
    /// Sum of the stored sizes of all layers.
    pub bytes_total: AtomicU64,
    readers: Mutex<Vec<Arc<AtomicU64>>>,
}

impl Progress {
    /// Stored bytes read so far, over all layers.
    pub fn bytes_done(&self) -> u64 {
        match self.readers.lock() {
            Ok(r) => r.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
            Err(_) => 0,
        }
    }
    fn track(&self, counter: Arc<AtomicU64>) {
        if let Ok(mut r) = self.readers.lock() {
            r.push(counter);
        }
    }
}

/// A target that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{input}: layer {layer}: {message}")]
    Layer {
        input: String,
        layer: usize,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Scans a source into an inventory.
pub fn scan(source: &Source, opts: &ScanOptions) -> Result<Inventory, ScanError> {
    let mut merged = merge::Merged::default();
    let mut warnings: Vec<Diagnostic> = Vec::new();
    let artifact = match source {
        Source::Image(img) => {
            let n = img.layer_count();
            let input = img.artifact.path.clone();
            if let Some(p) = &opts.progress {
                p.layers_total.store(n, Ordering::Relaxed);
                p.bytes_total.store(
                    img.artifact.layers.iter().filter_map(|l| l.size).sum(),
                    Ordering::Relaxed,
                );
            }
            let results: Vec<Result<walk::LayerFacts, ScanError>> = (0..n)
                .into_par_iter()
                .map(|i| {
                    let mut reader = img.open_layer(i)?;
                    if let Some(p) = &opts.progress {
                        p.track(reader.progress());
                    }
                    let facts = walk::walk_tar(&mut reader, i, &input, opts)?;
                    reader.finish()?;
                    if let Some(p) = &opts.progress {
                        p.layers_done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(facts)
                })
                .collect();
            for (i, r) in results.into_iter().enumerate() {
                let facts = r?;
                warnings.extend(facts.warnings.iter().cloned());
                merged.apply(Some(i), &facts);
            }
            img.artifact.clone()
        }
        Source::Directory { artifact, root } => {
            let facts = walk::walk_dir(root, opts)?;
            warnings.extend(facts.warnings.iter().cloned());
            merged.apply(None, &facts);
            artifact.clone()
        }
    };
    let built = inventory::build(&merged, opts.skip_dev);
    warnings.extend(built.warnings);
    let mut artifact = artifact;
    artifact.os = built.os;
    Ok(Inventory {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: Tool::default(),
        artifact,
        packages: built.packages,
        relationships: built.relationships,
        diagnostics: warnings,
    })
}
