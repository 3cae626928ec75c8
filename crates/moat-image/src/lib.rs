//! # moat-image: image inputs as verified, streaming layer readers
//!
//! This crate turns what a user points moat at into an [`Artifact`]
//! and, for container images, an ordered list of layers that open as byte streams of
//! the *uncompressed* layer tar. It knows archive formats, manifests, digests and
//! compression; it knows nothing about files inside layers (whiteouts, packages,
//! secrets are `moat-scan`'s business).
//!
//! ```no_run
//! use moat_image::{open, OpenOptions, Source, TargetSpec};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = TargetSpec::parse("oci-archive:/tmp/app.oci.tar")?; // or detected
//! match open(&spec, &OpenOptions::default())? {
//!     Source::Image(img) => {
//!         for i in 0..img.layer_count() {
//!             let mut layer = img.open_layer(i)?;        // uncompressed tar bytes
//!             let mut tar = moat_image::tarstream::TarReader::new(&mut layer);
//!             while let Some(entry) = tar.next_entry()? { let _ = entry.path(); }
//!             drop(tar);
//!             let stats = layer.finish()?;               // drains, verifies digests
//!             println!("{} bytes", stats.uncompressed_bytes);
//!         }
//!     }
//!     Source::Directory { root, .. } => println!("walk {}", root.display()),
//! }
//! # Ok(()) }
//! ```
//!
//! ## Main types
//! * [`TargetSpec`]: `docker-archive:`, `oci-archive:`, `oci:`, `rootfs:`, `dir:` or a
//!   bare path whose kind is detected.
//! * [`open`] + [`OpenOptions`] (platform, image name, [`Limits`]) give a [`Source`]: an
//!   [`Image`] or a directory to walk.
//! * [`Image`] holds the filled-in artifact and, privately, where each layer's blob lives
//!   and which digests it must have. [`Image::open_layer`] is `&self` and opens a new file
//!   handle each time, so layers can be read on several threads at once.
//! * [`LayerReader`]: blob bytes -> sha256 of the stored bytes -> gzip/zstd/none (chosen by
//!   magic bytes, never by media type) -> sha256 of the uncompressed bytes plus size and
//!   ratio limits -> caller. Every byte is read once and hashed on the way;
//!   [`LayerReader::finish`] drains the rest and compares the digests with the manifest
//!   and the config's `rootfs.diff_ids`: a compressed layer of an OCI manifest (layout,
//!   archive, registry) is bound by its blob digest alone (the manifest is read by digest;
//!   its diff_id is not recomputed), a docker-archive's layers by their diff_ids (its
//!   `manifest.json` is bound to nothing), an uncompressed layer by both (one hash). The
//!   magic of a compression moat does not read (xz, bzip2, lz4) is kept as a hint
//!   ([`LayerReader::unknown_compression`]) for the message when the stream turns out to
//!   be no tar.
//! * [`ImageError`]: one enum; every message names the input and, where relevant, the
//!   layer index and digest. Errors raised inside `Read::read` travel as
//!   `io::Error::other(ImageError)` and come back with [`ImageError::from_io`].
//!
//! * [`tarstream::TarReader`]: the streaming tar reader for layers and archives, bounded
//!   in memory whatever the input (see its module documentation); `moat-scan` walks layers
//!   with it.
//!
//! Archives (`docker save` tars, OCI archives) are indexed once by their tar headers
//! ([`tarstream::TarReader::seekable`], seeking over the data); a blob is then a `File` +
//! seek + `take(size)`. Symlinks and hardlinks *inside* the outer tar (skopeo writes
//! `<id>/layer.tar -> ../<diffID>.tar`) are resolved in the index; a directory or FIFO
//! where a blob should be is named as such, not as missing.
//!
//! Manifests, indexes and configs are read whole (bounded by
//! [`Limits::max_json_bytes`]) and hashed as stored, before parsing.
//!
//! ## Choosing an image
//! * `--image` ([`OpenOptions::image`]) matches a docker `RepoTags` entry or an OCI
//!   `org.opencontainers.image.ref.name` / `io.containerd.image.name` annotation exactly,
//!   else loosely (a `/`-suffix like `app:1` for `reg.io/team/app:1`, a bare tag like
//!   `latest`, a tagless name meaning `:latest`), or a config/manifest digest. Exact beats
//!   loose; several equally good matches, or several images and no selector, is
//!   [`ImageError::AmbiguousImage`] listing them.
//! * `--platform` ([`OpenOptions::platform`], default [`host_platform`]) picks among the
//!   manifests of a multi-platform index (nested indexes are followed, up to 8 deep). A
//!   single manifest is taken as is unless an explicit platform contradicts it.
//!
//! ## Rejected alternatives
//! * **Extracting archives or blobs to a temp dir**: doubles I/O and disk use, and a
//!   hostile archive could write anywhere; random access into the outer tar costs one
//!   header pass.
//! * **The `oci-spec` crate for manifests**: its strict types reject real inputs we must
//!   read (umoci manifests without `mediaType`, Docker's `manifest.json`), and we only need
//!   a handful of fields; small private serde structs that hash the raw bytes first suffice.
//! * **Choosing the decompressor from the media type**: docker-archive has no media types
//!   and tools mislabel layers; magic bytes are authoritative.
//! * **Verifying after the scan with a second read**: doubles I/O; hashing inside the
//!   stream the scanner already consumes is free by comparison (SHA-NI).
//! * **The `tar` crate** (used before): it reads PAX records and GNU long names whole into
//!   memory (a 3 GB `path=` record took 3 GB), does not read the PAX sparse formats (a
//!   dpkg database stored as one was invisible), and reports damage in terms of its own
//!   parsing (`numeric field did not have utf-8 text`). A tar reader is small; this one
//!   reads every form the runtimes accept with every record capped.
//! * **An async API**: local files gain nothing from it; the scan engine is synchronous and
//!   parallel. Registry images (`registry` module) are downloaded into a verified blob cache
//!   first and read from there through the same [`LayerReader`] chain.

mod config;
mod digest;
mod docker;
mod error;
mod layer;
mod oci;
mod registry;
mod store;
pub mod tarstream;

pub use error::ImageError;
pub use layer::{LayerReader, LayerStats};
pub use registry::{RegistryOptions, connect as connect_registry, parse_size};

use digest::Digest;
use layer::LayerPlan;
use moat_model::{Artifact, ArtifactKind, Layer, Platform};
use std::path::{Path, PathBuf};
use store::{Store, TarIndex};

/// Limits on untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Uncompressed bytes per layer (default 32 GiB).
    pub max_layer_bytes: u64,
    /// Uncompressed:stored ratio (default 200), enforced once a layer passes 64 MiB.
    pub max_ratio: u64,
    /// Size of a manifest, index or config (default 16 MiB).
    pub max_json_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 32 << 30,
            max_ratio: 200,
            max_json_bytes: 16 << 20,
        }
    }
}

/// What to read: a kind and a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    DockerArchive(PathBuf),
    OciArchive(PathBuf),
    /// An OCI image layout directory.
    Oci(PathBuf),
    /// An unpacked root filesystem.
    Rootfs(PathBuf),
    /// A project directory.
    Dir(PathBuf),
    /// An image in a registry: the reference as given (`REGISTRY/REPO:TAG`, `...@DIGEST`).
    Registry(PathBuf),
}

const PREFIXES: [(&str, ArtifactKind); 5] = [
    ("docker-archive:", ArtifactKind::DockerArchive),
    ("oci-archive:", ArtifactKind::OciArchive),
    ("oci:", ArtifactKind::Oci),
    ("rootfs:", ArtifactKind::Rootfs),
    ("dir:", ArtifactKind::Dir),
];

/// Files whose presence makes a directory a root filesystem.
const ROOTFS_MARKERS: [&str; 7] = [
    "etc/os-release",
    "usr/lib/os-release",
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d",
    "lib/apk/db/installed",
    "var/lib/rpm",
    "usr/lib/sysimage/rpm",
];

impl TargetSpec {
    /// Parse `kind:path`, or detect the kind of a bare path. Only the five known
    /// prefixes are prefixes: `/tmp/a:b` or `C:x` are plain paths.
    pub fn parse(s: &str) -> Result<TargetSpec, ImageError> {
        if let Some(rest) = s.strip_prefix("registry:") {
            moat_registry::Reference::parse(rest).map_err(|e| ImageError::InvalidSpec {
                spec: s.to_string(),
                reason: e.to_string(),
            })?;
            return Ok(TargetSpec::Registry(PathBuf::from(rest)));
        }
        for (prefix, kind) in PREFIXES {
            if let Some(rest) = s.strip_prefix(prefix) {
                if rest.is_empty() {
                    return Err(ImageError::InvalidSpec {
                        spec: s.to_string(),
                        reason: "empty path".into(),
                    });
                }
                return Ok(TargetSpec::new(kind, PathBuf::from(rest)));
            }
        }
        if s.is_empty() {
            return Err(ImageError::InvalidSpec {
                spec: s.to_string(),
                reason: "empty path".into(),
            });
        }
        if registry::is_bare_reference(s) {
            return Ok(TargetSpec::Registry(PathBuf::from(s)));
        }
        detect(Path::new(s))
    }

    fn new(kind: ArtifactKind, path: PathBuf) -> TargetSpec {
        match kind {
            ArtifactKind::DockerArchive => TargetSpec::DockerArchive(path),
            ArtifactKind::OciArchive => TargetSpec::OciArchive(path),
            ArtifactKind::Oci => TargetSpec::Oci(path),
            ArtifactKind::Rootfs => TargetSpec::Rootfs(path),
            // `git:` is not an image target (moat-pipeline reads it); never built here.
            ArtifactKind::Registry => TargetSpec::Registry(path),
            ArtifactKind::Dir | ArtifactKind::Git => TargetSpec::Dir(path),
        }
    }

    pub fn kind(&self) -> ArtifactKind {
        match self {
            TargetSpec::DockerArchive(_) => ArtifactKind::DockerArchive,
            TargetSpec::OciArchive(_) => ArtifactKind::OciArchive,
            TargetSpec::Oci(_) => ArtifactKind::Oci,
            TargetSpec::Rootfs(_) => ArtifactKind::Rootfs,
            TargetSpec::Dir(_) => ArtifactKind::Dir,
            TargetSpec::Registry(_) => ArtifactKind::Registry,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            TargetSpec::DockerArchive(p)
            | TargetSpec::OciArchive(p)
            | TargetSpec::Oci(p)
            | TargetSpec::Rootfs(p)
            | TargetSpec::Dir(p)
            | TargetSpec::Registry(p) => p,
        }
    }
}

/// The metadata of a target path; a missing path is [`ImageError::NotFound`].
fn metadata(path: &Path) -> Result<std::fs::Metadata, ImageError> {
    std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ImageError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            ImageError::io(path, "reading metadata", e)
        }
    })
}

fn detect(path: &Path) -> Result<TargetSpec, ImageError> {
    let meta = metadata(path)?;
    let p = path.to_path_buf();
    if meta.is_dir() {
        if path.join("oci-layout").is_file() {
            return Ok(TargetSpec::Oci(p));
        }
        if ROOTFS_MARKERS.iter().any(|m| path.join(m).exists()) {
            return Ok(TargetSpec::Rootfs(p));
        }
        return Ok(TargetSpec::Dir(p));
    }
    if !meta.is_file() {
        return Err(ImageError::UnknownTarget {
            path: p,
            reason: "neither a regular file nor a directory".into(),
        });
    }
    let index = TarIndex::build(path)?;
    if index.contains("manifest.json") {
        Ok(TargetSpec::DockerArchive(p))
    } else if index.contains("oci-layout") {
        Ok(TargetSpec::OciArchive(p))
    } else {
        Err(ImageError::UnknownTarget {
            path: p,
            reason: "a tar archive without manifest.json or oci-layout (not a docker-archive or oci-archive)".into(),
        })
    }
}

/// How to open a target.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Platform to pick from a multi-platform index; `None` = the host's (`linux/<arch>`).
    pub platform: Option<Platform>,
    /// Image to pick when the input holds several (`repo:tag`, a bare tag, or a digest).
    pub image: Option<String>,
    pub limits: Limits,
    /// How to reach registries and cache their blobs (registry targets only).
    pub registry: RegistryOptions,
}

/// Parse `os/arch[/variant]` (e.g. `linux/arm64/v8`).
pub fn parse_platform(s: &str) -> Result<Platform, ImageError> {
    let parts: Vec<&str> = s.split('/').collect();
    let bad = || ImageError::InvalidPlatform {
        spec: s.to_string(),
    };
    match parts.as_slice() {
        [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
            os: os.to_string(),
            architecture: arch.to_string(),
            variant: None,
        }),
        [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(Platform {
            os: os.to_string(),
            architecture: arch.to_string(),
            variant: Some(v.to_string()),
        }),
        _ => Err(bad()),
    }
}

/// The host's platform in OCI terms (`linux/amd64`, `linux/arm64`, ...).
pub fn host_platform() -> Platform {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    };
    Platform {
        os: "linux".into(),
        architecture: arch.into(),
        variant: None,
    }
}

/// `want` matches `have` when os and architecture are equal and, if `want` names a
/// variant, the variants are equal (`arm64` without a variant counts as `v8`).
pub(crate) fn platform_matches(want: &Platform, have: &Platform) -> bool {
    if want.os != have.os || want.architecture != have.architecture {
        return false;
    }
    match (&want.variant, &have.variant) {
        (None, _) => true,
        (Some(w), Some(h)) => w == h,
        (Some(w), None) => want.architecture == "arm64" && w == "v8",
    }
}

/// How well an `--image` selector matches an image name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RefMatch {
    No,
    /// By suffix or tag (`debian-tools:latest` ~ `localhost/bench/debian-tools:latest`).
    Loose,
    Exact,
}

/// The tag of a reference (`repo:tag` -> `tag`), if any.
fn tag_of(r: &str) -> Option<&str> {
    let (_, last) = r.rsplit_once('/').unwrap_or(("", r));
    last.rsplit_once(':').map(|(_, t)| t)
}

pub(crate) fn ref_match(sel: &str, name: &str) -> RefMatch {
    if sel == name {
        return RefMatch::Exact;
    }
    let name_is_ref = name.contains('/') || name.contains(':');
    let sel_is_bare_tag = !sel.contains('/') && !sel.contains(':');
    let loose = if name_is_ref {
        name.ends_with(&format!("/{sel}"))
            || (tag_of(sel).is_none()
                && (name == format!("{sel}:latest") || name.ends_with(&format!("/{sel}:latest"))))
            || (sel_is_bare_tag && tag_of(name) == Some(sel))
    } else {
        // `name` is a bare tag (OCI ref.name `latest`): match the selector's tag.
        tag_of(sel) == Some(name)
    };
    if loose { RefMatch::Loose } else { RefMatch::No }
}

/// Narrows `cands` to those an `--image` selector matches best (by `score`), or fails with
/// [`ImageError::NoMatchingImage`] listing every candidate's `label` when none matches.
pub(crate) fn keep_best_match<T>(
    input: &Path,
    cands: &mut Vec<T>,
    sel: &str,
    score: impl Fn(&T) -> RefMatch,
    label: impl Fn(&T) -> String,
) -> Result<(), ImageError> {
    let best = cands.iter().map(&score).max().unwrap_or(RefMatch::No);
    if best == RefMatch::No {
        return Err(ImageError::NoMatchingImage {
            path: input.to_path_buf(),
            wanted: sel.to_string(),
            available: distinct(cands.iter().map(label)),
        });
    }
    cands.retain(|c| score(c) == best);
    Ok(())
}

/// The distinct strings of `items`, in order (for error messages listing choices).
pub(crate) fn distinct(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

pub(crate) fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// What was opened.
#[derive(Debug)]
pub enum Source {
    Image(Image),
    /// A root filesystem or project directory, to be walked.
    Directory {
        artifact: Artifact,
        root: PathBuf,
    },
}

/// A container image: its artifact description and verified access to its layers.
pub struct Image {
    pub artifact: Artifact,
    store: Store,
    plans: Vec<LayerPlan>,
    limits: Limits,
    /// A registry image opened with `defer_layers`: how to download its layers.
    deferred: Option<Box<registry::Deferred>>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("input", &self.store.input())
            .field("artifact", &self.artifact)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Image {
    pub fn layer_count(&self) -> usize {
        self.plans.len()
    }

    /// What identifies layer `index`'s content, verified whenever the layer is read:
    /// `blob DIGEST` for the blob's digest in a manifest read by digest (OCI layouts and
    /// archives, registries), `diff-id DIGEST` for the config's diff_id (docker-archive).
    /// The layer cache's key.
    pub fn layer_content_id(&self, index: usize) -> Option<String> {
        self.plans.get(index).map(LayerPlan::content_id)
    }

    /// Makes the layers at `indices` readable: a registry image opened with
    /// [`RegistryOptions::defer_layers`] downloads them (verified, into the blob cache); any
    /// other image has them already.
    pub fn fetch_layers(&self, indices: &[usize]) -> Result<(), ImageError> {
        match &self.deferred {
            Some(d) => d.fetch_layers(indices),
            None => Ok(()),
        }
    }

    /// Open layer `index` (0 = base) as a stream of its uncompressed tar bytes.
    /// Each call opens a new file handle; calls from several threads are fine.
    pub fn open_layer(&self, index: usize) -> Result<LayerReader, ImageError> {
        let input = self.store.input();
        let plan = self
            .plans
            .get(index)
            .ok_or_else(|| ImageError::LayerOutOfRange {
                path: input.to_path_buf(),
                index,
                count: self.plans.len(),
            })?;
        let blob = self.store.open(&plan.blob)?;
        if let Some(size) = plan.size
            && size != blob.size
        {
            let label = plan
                .stored
                .as_ref()
                .map_or_else(|| plan.blob.clone(), |d| d.to_string());
            if blob.size < size {
                return Err(ImageError::Truncated {
                    path: input.to_path_buf(),
                    layer: index,
                    digest: label,
                    expected: size,
                    actual: blob.size,
                });
            }
            return Err(ImageError::SizeMismatch {
                path: input.to_path_buf(),
                subject: format!("layer {index} ({label})"),
                expected: size,
                actual: blob.size,
            });
        }
        LayerReader::new(input.to_path_buf(), index, plan, blob, self.limits)
    }
}

/// One layer as a format reader found it, before the config is applied.
pub(crate) struct LayerIn {
    pub(crate) blob: String,
    pub(crate) stored: Option<Digest>,
    /// Blob size from the descriptor (OCI) or the archive entry.
    pub(crate) size: Option<u64>,
    pub(crate) media_type: Option<String>,
}

/// What a format reader hands back: names, digests, the raw (verified) config, layers.
pub(crate) struct ImageParts {
    pub(crate) name: String,
    pub(crate) repo_tags: Vec<String>,
    pub(crate) manifest_digest: Option<String>,
    pub(crate) config_name: String,
    pub(crate) config_digest: Digest,
    pub(crate) config_bytes: Vec<u8>,
    pub(crate) layers: Vec<LayerIn>,
}

/// Open a target. Images are checked (manifest and config digests, layer counts) but no
/// layer is read yet.
pub fn open(spec: &TargetSpec, opts: &OpenOptions) -> Result<Source, ImageError> {
    if let TargetSpec::Registry(r) = spec {
        return registry::open(&r.to_string_lossy(), opts).map(Source::Image);
    }
    let path = spec.path();
    let kind = spec.kind();
    let meta = metadata(path)?;
    let store = match kind {
        ArtifactKind::Rootfs | ArtifactKind::Dir | ArtifactKind::Git | ArtifactKind::Registry => {
            if !meta.is_dir() {
                return Err(ImageError::UnknownTarget {
                    path: path.to_path_buf(),
                    reason: format!("{} needs a directory", kind.as_str()),
                });
            }
            let artifact = Artifact {
                name: path.display().to_string(),
                kind,
                path: path.display().to_string(),
                repo_tags: Vec::new(),
                manifest_digest: None,
                index_digest: None,
                config_digest: None,
                platform: None,
                os: None,
                layers: Vec::new(),
                config: None,
            };
            return Ok(Source::Directory {
                artifact,
                root: path.to_path_buf(),
            });
        }
        ArtifactKind::Oci => {
            if !meta.is_dir() {
                return Err(ImageError::UnknownTarget {
                    path: path.to_path_buf(),
                    reason: "oci: needs an OCI image layout directory (use oci-archive: for a tar)"
                        .into(),
                });
            }
            Store::Dir {
                root: path.to_path_buf(),
            }
        }
        ArtifactKind::DockerArchive | ArtifactKind::OciArchive => {
            if !meta.is_file() {
                return Err(ImageError::UnknownTarget {
                    path: path.to_path_buf(),
                    reason: format!("{} needs a tar file", kind.as_str()),
                });
            }
            Store::Tar {
                path: path.to_path_buf(),
                index: TarIndex::build(path)?,
            }
        }
    };
    let parts = match kind {
        ArtifactKind::DockerArchive => docker::open(&store, opts)?,
        _ => oci::open(&store, opts)?,
    };
    Ok(Source::Image(assemble(store, kind, parts, opts)?))
}

pub(crate) fn assemble(
    store: Store,
    kind: ArtifactKind,
    parts: ImageParts,
    opts: &OpenOptions,
) -> Result<Image, ImageError> {
    let input = store.input().to_path_buf();
    let config = config::Config::parse(&input, &parts.config_name, &parts.config_bytes)?;
    if let (Some(want), Some(have)) = (&opts.platform, &config.platform)
        && !platform_matches(want, have)
    {
        return Err(ImageError::NoMatchingPlatform {
            path: input,
            wanted: want.to_string(),
            available: vec![have.to_string()],
        });
    }
    if parts.layers.len() != config.diff_ids.len() {
        return Err(ImageError::LayerCountMismatch {
            path: input,
            layers: parts.layers.len(),
            diff_ids: config.diff_ids.len(),
        });
    }
    let created_by = config.created_by(parts.layers.len());
    let mut layers = Vec::with_capacity(parts.layers.len());
    let mut plans = Vec::with_capacity(parts.layers.len());
    for (index, ((l, diff_id), created_by)) in parts
        .layers
        .into_iter()
        .zip(&config.diff_ids)
        .zip(created_by)
        .enumerate()
    {
        layers.push(Layer {
            index,
            digest: l.stored.as_ref().map(|d| d.to_string()),
            diff_id: Some(diff_id.to_string()),
            media_type: l.media_type,
            size: l.size,
            created_by,
        });
        plans.push(LayerPlan {
            blob: l.blob,
            stored: l.stored,
            size: l.size,
            diff_id: diff_id.clone(),
            // A docker-archive's manifest.json is bound to nothing: its layers answer to
            // the config's diff_ids (see the `layer` module).
            check_diff_id: kind == ArtifactKind::DockerArchive,
        });
    }
    let artifact = Artifact {
        name: parts.name,
        kind,
        path: input.display().to_string(),
        repo_tags: parts.repo_tags,
        manifest_digest: parts.manifest_digest,
        index_digest: None,
        config_digest: Some(parts.config_digest.to_string()),
        platform: config.platform,
        os: None,
        layers,
        config: Some(config.image),
    };
    Ok(Image {
        artifact,
        store,
        plans,
        limits: opts.limits,
        deferred: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_matching() {
        let full = "localhost/bench/debian-tools:latest";
        assert_eq!(ref_match(full, full), RefMatch::Exact);
        assert_eq!(ref_match("debian-tools:latest", full), RefMatch::Loose);
        assert_eq!(ref_match("bench/debian-tools", full), RefMatch::Loose);
        assert_eq!(ref_match("latest", full), RefMatch::Loose);
        assert_eq!(ref_match("tools:latest", full), RefMatch::No);
        assert_eq!(ref_match("debian-tools:v2", full), RefMatch::No);
        assert_eq!(ref_match("latest", "latest"), RefMatch::Exact);
        assert_eq!(ref_match("foo:latest", "latest"), RefMatch::Loose);
        assert_eq!(ref_match("v1", "latest"), RefMatch::No);
    }

    #[test]
    fn platforms() {
        let p = parse_platform("linux/arm64/v8").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(parse_platform("linux").is_err());
        assert!(parse_platform("linux//").is_err());
        let arm64 = Platform {
            os: "linux".into(),
            architecture: "arm64".into(),
            variant: None,
        };
        assert!(platform_matches(&p, &arm64));
        let armv7 = parse_platform("linux/arm/v7").unwrap_or_else(|e| panic!("{e}"));
        let armv6 = parse_platform("linux/arm/v6").unwrap_or_else(|e| panic!("{e}"));
        assert!(!platform_matches(&armv7, &armv6));
        assert!(platform_matches(
            &parse_platform("linux/arm").unwrap_or_else(|e| panic!("{e}")),
            &armv6
        ));
    }

    #[test]
    fn send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        fn assert_send<T: Send>() {}
        assert_send_sync::<Image>();
        assert_send::<LayerReader>();
        assert_send_sync::<ImageError>();
    }
}
