//! # moat-scan: the scan engine
//!
//! Turns a [`moat_image::Source`] into a [`moat_model::Inventory`] (and the findings of
//! content analyzers) in one streaming pass per layer:
//!
//! 1. every layer of an image is opened as a verified, decompressed tar stream
//!    ([`moat_image::Image::open_layer`]) and read with [`moat_image::tarstream`] (every
//!    entry form the runtimes accept, sparse files as the file they extract to, header
//!    records capped); layers are walked in parallel (rayon, one layer per worker, so at
//!    most as many layers are in flight as there are cores);
//! 2. the analyzers are one explicit, ordered list ([`analyzers::REGISTRY`]; an
//!    [`Analyzer`] has an id, a version, a [`Scanner`] that enables it and a [`Scope`]).
//!    For each regular file the walker asks every active analyzer whether it wants the
//!    file from its path, mode and size, or from its first bytes; a file somebody wants is
//!    read once and the same bytes go to every analyzer that wants it, each returning a
//!    typed [`Fact`]. The analyzers run on the scan's few analysis threads, fed by the
//!    walkers with at most 64 MiB read ahead per layer and put back in order; a call over
//!    [`ScanOptions::analyzer_timeout`] is abandoned (a `slow-file` warning, the scan goes
//!    on). A directory target is listed and read by those threads too. Entries nobody wants
//!    are never buffered. Names are
//!    resolved as the runtime resolves them (an absolute name lands under the root, `..`
//!    inside the root is the parent). Symlinks, hardlinks, directories, whiteouts and
//!    opaque directories become changes for the merge; after the
//!    tar ends the rest of the stream is drained and the layer's digests are checked
//!    ([`moat_image::LayerReader::finish`]);
//! 3. the layers are merged in order (`merge`): whiteouts hide lower layers, what is not a
//!    directory hides everything below its path, and every analysed path keeps its history;
//! 4. the joins (`join`: `os`, `lang`, `group`) detect the OS, read the final package
//!    databases, join file lists and licences, drop language packages an OS package owns,
//!    deduplicate, draw dependency edges and, from the history of each database, find the
//!    layer that introduced each package; the value caps of `moat_model::limits` are applied
//!    there, once for every analyzer (no package without a name, none with a name over the
//!    cap, over-long versions and fields cut with a marker);
//! 5. findings of content analyzers come from every layer; those of files no longer in the
//!    final view are marked deleted (`findings`); the Kubernetes manifests of the final view
//!    are checked together (`analyzers::misconfig::kubernetes_findings`: a NetworkPolicy in
//!    one file covers the workloads of another).
//!
//! Rootfs and plain directories are walked as one layer without digests, in parallel, and
//! sorted back into the order of a depth-first walk by name.
//! The analyzers that ran, with their versions, are listed in `Inventory.tool.analyzers`.
//!
//! With a [`LayerCache`] ([`ScanOptions::layer_cache`]), what step 2 made of a layer is
//! stored under a key of the layer's diff-id, those analyzers and versions and the options
//! they read (`cache`); a layer whose entry is there is not opened at all (a registry image
//! downloads only the layers it lacks, [`moat_image::Image::fetch_layers`]), and its facts go
//! through steps 3 to 5 like fresh ones, so the result is the same.
//!
//! Problems inside the target (a damaged database, an unreadable file) are diagnostics in
//! the inventory, and so is an entry moat cannot read (an unknown sparse format). A layer
//! that cannot be read at all (corrupt or truncated stream, a compression moat does not
//! read, digest mismatch, a decompression bomb, a header record over its cap, a name or a
//! hardlink escaping the root) is a [`ScanError`].
//!
//! Rejected alternatives: extracting layers to a temporary directory (slow, disk-hungry,
//! and unsafe with hostile paths); analyzers that open other files themselves (they would
//! need random access to a stream; joins after the merge do that job); a per-analyzer pass
//! over each layer (every byte would be decompressed several times); analyzers registered
//! at start-up by each module (the set would depend on link order and be invisible here).

mod analyzer;
pub mod analyzers;
mod cache;
mod error;
mod fact;
mod findings;
mod join;
mod merge;
mod options;
mod skip;
mod walk;

pub use analyzer::{Analyzer, AnalyzerInfo, Entry, Interest, MAX_SNIFF, Scanner, Scanners};
pub use cache::{
    CacheCounts, DEFAULT_MAX_BYTES as DEFAULT_CACHE_MAX_BYTES, LayerCache, input_digest,
};
pub use error::ScanError;
pub use fact::{Fact, FileFacts, Scope, Tagged};
pub use options::{DEFAULT_ANALYZER_TIMEOUT, Progress, ScanOptions};
pub use skip::{PathSkip, SkipError};

use moat_image::Source;
use moat_model::{
    AnalyzerVersion, ArtifactKind, Diagnostic, Finding, Inventory, SCHEMA_VERSION, Tool,
};
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// What a scan found.
#[derive(Debug)]
pub struct Scanned {
    /// Packages, relationships, diagnostics, and the analyzers that ran.
    pub inventory: Inventory,
    /// Findings of content analyzers (secrets, misconfigurations), located, in layer order.
    pub findings: Vec<Finding>,
    /// Layers (or directory trees) read and analysed; those that came from the layer cache
    /// are not counted.
    pub layers_read: usize,
}

/// Scans a source with the analyzers of [`analyzers::REGISTRY`] whose scanner is on.
pub fn scan(source: &Source, opts: &ScanOptions) -> Result<Scanned, ScanError> {
    let instances = analyzers::Instances::new(analyzers::REGISTRY, opts);
    scan_with(source, opts, &instances.list())
}

/// Scans a source with an explicit list of analyzers (those whose scanner is off in
/// `opts.scanners` are left out). They are shared with the scan's analysis threads, and
/// one stuck past `opts.analyzer_timeout` on a file is abandoned there, its thread left
/// running: hence `Arc`, not a borrow.
pub fn scan_with(
    source: &Source,
    opts: &ScanOptions,
    analyzers: &[Arc<dyn Analyzer>],
) -> Result<Scanned, ScanError> {
    let pool = pool_of(analyzers, opts);
    let mut merged = merge::Merged::default();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut findings = findings::Collector::default();
    let mut layers_read = 1;
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
            // The layer cache: the key of each layer (the digest its content is verified
            // by when read, `Image::layer_content_id`: the blob's for an OCI manifest, the
            // diff-id for a docker-archive; verified when its facts were stored), and the
            // facts of those already analysed.
            let cache = opts
                .layer_cache
                .as_deref()
                .and_then(|c| cache::KeyBase::new(pool.analyzers(), opts).map(|base| (c, base)));
            let keys: Vec<Option<cache::Key>> = (0..n)
                .map(|i| {
                    let (_, base) = cache.as_ref()?;
                    img.layer_content_id(i).map(|id| base.key(&id))
                })
                .collect();
            let cached: Vec<Option<walk::LayerFacts>> = keys
                .par_iter()
                .enumerate()
                .map(|(i, k)| {
                    let (c, _) = cache.as_ref()?;
                    c.load(k.as_ref()?, pool.analyzers(), i)
                })
                .collect();
            let missing: Vec<usize> = (0..n)
                .filter(|&i| cached.get(i).is_none_or(Option::is_none))
                .collect();
            layers_read = missing.len();
            if let Some(p) = &opts.progress {
                // the bytes still to read: those of the layers not in the cache
                let sizes = missing
                    .iter()
                    .filter_map(|&i| img.artifact.layers.get(i).and_then(|l| l.size));
                p.bytes_total.store(sizes.sum(), Ordering::Relaxed);
            }
            img.fetch_layers(&missing)?;
            let results: Vec<Result<walk::LayerFacts, ScanError>> = cached
                .into_par_iter()
                .enumerate()
                .map(|(i, hit)| {
                    if let Some(facts) = hit {
                        if let Some(p) = &opts.progress {
                            p.layers_done.fetch_add(1, Ordering::Relaxed);
                        }
                        return Ok(facts);
                    }
                    let mut reader = img.open_layer(i)?;
                    if let Some(p) = &opts.progress {
                        p.track(reader.progress());
                    }
                    let hint = reader.unknown_compression();
                    let facts = walk::walk_tar(&mut reader, i, &input, hint, &pool)?;
                    reader.finish()?;
                    // the bytes matched the diff-id: the key holds
                    if let (Some((c, _)), Some(Some(key))) = (&cache, keys.get(i)) {
                        c.store(key, &facts, i);
                    }
                    if let Some(p) = &opts.progress {
                        p.layers_done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(facts)
                })
                .collect();
            if let Some((c, _)) = &cache {
                let keep: Vec<cache::Key> = keys.iter().flatten().copied().collect();
                c.evict(&keep);
            }
            for (i, r) in results.into_iter().enumerate() {
                let mut facts = r?;
                diagnostics.append(&mut facts.diagnostics);
                findings.note(Some(i), &facts);
                merged.apply(Some(i), &facts);
            }
            img.artifact.clone()
        }
        Source::Directory { artifact, root } => {
            let mut facts = walk::walk_dir(root, &pool)?;
            diagnostics.append(&mut facts.diagnostics);
            findings.note(None, &facts);
            merged.apply(None, &facts);
            artifact.clone()
        }
    };
    let mut scanned = finish(
        merged,
        diagnostics,
        findings,
        artifact,
        pool.analyzers(),
        opts,
    );
    scanned.layers_read = layers_read;
    Ok(scanned)
}

/// The analysis threads for the analyzers of `analyzers` whose scanner is on.
fn pool_of(analyzers: &[Arc<dyn Analyzer>], opts: &ScanOptions) -> walk::Pool {
    let active = analyzers
        .iter()
        .filter(|a| opts.scanners.contains(a.info().scanner))
        .cloned()
        .collect();
    walk::Pool::new(
        active,
        opts.analyzer_timeout,
        opts.max_entry_bytes,
        Arc::new(opts.skip.clone()),
    )
}

/// Reads one uncompressed tar stream as the single layer of an image, with the registry's
/// analyzers: the whole engine (walk, merge, join) on bytes, for fuzzing and tests.
pub fn scan_tar<R: std::io::Read>(reader: R, opts: &ScanOptions) -> Result<Scanned, ScanError> {
    let instances = analyzers::Instances::new(analyzers::REGISTRY, opts);
    let pool = pool_of(&instances.list(), opts);
    let mut facts = walk::walk_tar(reader, 0, "tar", None, &pool)?;
    let mut merged = merge::Merged::default();
    let mut findings = findings::Collector::default();
    let diagnostics = std::mem::take(&mut facts.diagnostics);
    findings.note(Some(0), &facts);
    merged.apply(Some(0), &facts);
    let artifact = moat_model::Artifact::new("tar", ArtifactKind::Rootfs, "-");
    Ok(finish(
        merged,
        diagnostics,
        findings,
        artifact,
        pool.analyzers(),
        opts,
    ))
}

/// The join and the result, once every layer is merged.
fn finish(
    mut merged: merge::Merged,
    mut diagnostics: Vec<Diagnostic>,
    findings: findings::Collector,
    mut artifact: moat_model::Artifact,
    active: &[Arc<dyn Analyzer>],
    opts: &ScanOptions,
) -> Scanned {
    let active: Vec<&dyn Analyzer> = active.iter().map(|a| a.as_ref()).collect();
    let built = join::build(&mut merged, opts.skip_dev, opts.package_files);
    diagnostics.extend(built.diagnostics);
    artifact.os = built.os;
    let mut findings = findings.finish(&merged, &artifact, &active);
    // Kubernetes manifests are checked together (NetworkPolicies cover other files).
    let (k8s, k8s_diagnostics) =
        analyzers::misconfig::kubernetes_findings(&merged, artifact.kind == ArtifactKind::Dir);
    findings.extend(k8s);
    diagnostics.extend(k8s_diagnostics);
    let tool = Tool {
        analyzers: active
            .iter()
            .map(|a| AnalyzerVersion {
                id: a.info().id.to_string(),
                version: a.info().version,
            })
            .collect(),
        ..Tool::default()
    };
    Scanned {
        inventory: Inventory {
            schema_version: SCHEMA_VERSION.to_string(),
            tool,
            artifact,
            packages: built.packages,
            relationships: built.relationships,
            diagnostics,
            package_files: built.files,
        },
        findings,
        layers_read: 1,
    }
}
