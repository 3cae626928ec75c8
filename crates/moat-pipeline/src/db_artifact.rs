//! The advisory database as an OCI artifact: `moat db push` publishes a database file to a
//! registry, `moat db update --db-repository` replaces the local database with it, so a team
//! mirrors one artifact for its air-gapped CI instead of the feeds.
//!
//! The artifact is an OCI image manifest (v1.1) with `artifactType`
//! [`ARTIFACT_TYPE`], the empty config (`application/vnd.oci.empty.v1+json`, `{}`) and one
//! layer: the SQLite file compressed with zstd ([`LAYER_TYPE`]). The manifest's annotations
//! say when the database was built, its schema and its sources, so a puller refuses a
//! database of another schema before downloading it. The layer is uploaded in chunks and
//! downloaded to a temporary file beside the database (its digest checked as it streams),
//! decompressed to a second one with a size bound, opened as a moat database, and only then
//! renamed over the database: a failed pull leaves the previous database as it was.
//!
//! Signing is cosign's business and works on the pushed manifest digest like on any image
//! (`moat sign REF --key KEY`); the puller's `verify` callback checks that signature before
//! anything is downloaded.

use moat_image::RegistryOptions;
use moat_registry::{Client, Digest, Reference, RegistryError};
use moat_vuln::db::{Database, DbError, SCHEMA_VERSION, file};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The manifest's `artifactType`.
pub const ARTIFACT_TYPE: &str = "application/vnd.moat.db.v1";
/// The media type of the layer: the database file, zstd-compressed.
pub const LAYER_TYPE: &str = "application/vnd.moat.db.layer.v1.sqlite+zstd";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";
const ANN_CREATED: &str = "org.opencontainers.image.created";
const ANN_TITLE: &str = "org.opencontainers.image.title";
const ANN_SCHEMA: &str = "dev.moat.db.schema";
const ANN_SOURCES: &str = "dev.moat.db.sources";
const ANN_RECORDS: &str = "dev.moat.db.records";
/// The largest manifest read (it holds one layer).
const MAX_MANIFEST: u64 = 1 << 20;
/// The largest database a pull writes (decompressed), against a zstd bomb.
pub const MAX_DATABASE_BYTES: u64 = 16 << 30;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    #[error("{reference}: {cause}")]
    Registry {
        reference: String,
        #[source]
        cause: RegistryError,
    },
    #[error("{}: {what}: {cause}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        cause: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{reference}: not a moat advisory database artifact: {reason}")]
    NotDatabase { reference: String, reason: String },
    #[error("{reference}: {reason}")]
    Refused { reference: String, reason: String },
}

fn io_err<'a>(path: &'a Path, what: &'static str) -> impl Fn(std::io::Error) -> ArtifactError + 'a {
    move |cause| ArtifactError::Io {
        path: path.to_path_buf(),
        what,
        cause,
    }
}

/// What a push published.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The manifest's digest (what `moat sign` signs).
    pub digest: String,
    /// The compressed layer's size.
    pub layer_bytes: u64,
    pub records: u64,
}

/// What a pull brought.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub digest: String,
    /// The database's build time, from the annotations.
    pub built_at: Option<String>,
    /// The size of the database file written.
    pub bytes: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    artifact_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: moat_registry::Hasher,
    count: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn registry_err(reference: &Reference) -> impl Fn(RegistryError) -> ArtifactError + '_ {
    move |cause| ArtifactError::Registry {
        reference: reference.to_string(),
        cause,
    }
}

/// Publishes the database at `db` under `reference` (which names a tag).
pub fn push(
    db: &Path,
    reference: &Reference,
    ro: &RegistryOptions,
) -> Result<Pushed, ArtifactError> {
    if reference.tag.is_none() || reference.digest.is_some() {
        return Err(ArtifactError::Refused {
            reference: reference.to_string(),
            reason: "`moat db push` needs a tag to publish under (REGISTRY/REPO:TAG)".into(),
        });
    }
    let status = Database::open_read_only(db)?.status()?;
    // Compressed into a temporary file, hashed on the way.
    let tmp =
        tempfile::NamedTempFile::new().map_err(io_err(Path::new("temporary file"), "creating"))?;
    let mut src = std::fs::File::open(db).map_err(io_err(db, "opening"))?;
    let out = Hashing {
        inner: tmp.as_file(),
        hasher: Digest::sha256(b"").hasher(),
        count: 0,
    };
    let mut enc = zstd::Encoder::new(out, 3).map_err(io_err(tmp.path(), "compressing"))?;
    std::io::copy(&mut src, &mut enc).map_err(io_err(db, "compressing"))?;
    let out = enc.finish().map_err(io_err(tmp.path(), "compressing"))?;
    let (digest, size) = (out.hasher.finish(), out.count);

    let err = registry_err(reference);
    let client = moat_image::connect_registry(reference, ro).map_err(&err)?;
    let repo = &reference.repository;
    let mut file = tmp.reopen().map_err(io_err(tmp.path(), "reading"))?;
    client
        .put_blob_from(repo, &digest, size, &mut file, "the compressed database")
        .map_err(&err)?;
    let empty = Digest::sha256(b"{}");
    client.put_blob(repo, &empty, b"{}").map_err(&err)?;

    let mut annotations = serde_json::Map::new();
    if let Some(b) = &status.built_at {
        annotations.insert(ANN_CREATED.into(), b.clone().into());
    }
    annotations.insert(ANN_SCHEMA.into(), status.schema.to_string().into());
    let sources: Vec<&str> = status.sources.iter().map(|s| s.name.as_str()).collect();
    annotations.insert(ANN_SOURCES.into(), sources.join(",").into());
    annotations.insert(ANN_RECORDS.into(), status.advisories.to_string().into());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": ARTIFACT_TYPE,
        "config": { "mediaType": EMPTY_TYPE, "digest": empty.to_string(), "size": 2 },
        "layers": [{
            "mediaType": LAYER_TYPE,
            "digest": digest.to_string(),
            "size": size,
            "annotations": { ANN_TITLE: "moat.db" },
        }],
        "annotations": annotations,
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| ArtifactError::Refused {
        reference: reference.to_string(),
        reason: format!("writing the manifest: {e}"),
    })?;
    let pushed = client
        .put_manifest(repo, &reference.manifest_ref(), MANIFEST_TYPE, &bytes)
        .map_err(&err)?;
    Ok(Pushed {
        digest: pushed.to_string(),
        layer_bytes: size,
        records: status.advisories,
    })
}

/// Replaces the database at `db` with the one published under `reference`. `verify` is
/// called with the client and the manifest's digest before anything is downloaded (a
/// signature check); its `Err` is the reason the pull is refused. The database's writer lock
/// is taken (waiting up to a minute for another writer; a lock the caller holds is shared).
pub fn pull(
    reference: &Reference,
    ro: &RegistryOptions,
    db: &Path,
    verify: &mut dyn FnMut(&Client, &Digest) -> Result<(), String>,
) -> Result<Pulled, ArtifactError> {
    let err = registry_err(reference);
    let client = moat_image::connect_registry(reference, ro).map_err(&err)?;
    let repo = &reference.repository;
    let fetched = client
        .get_manifest(repo, &reference.manifest_ref(), MAX_MANIFEST)
        .map_err(&err)?;
    let not_db = |reason: String| ArtifactError::NotDatabase {
        reference: reference.to_string(),
        reason,
    };
    let m: Manifest = serde_json::from_slice(&fetched.bytes).map_err(|e| {
        not_db(format!(
            "its manifest ({}) does not parse: {e}",
            fetched.media_type
        ))
    })?;
    let kind = m
        .artifact_type
        .as_deref()
        .unwrap_or(m.config.media_type.as_str());
    if kind != ARTIFACT_TYPE {
        return Err(not_db(format!(
            "its artifact type is {kind:?}, not {ARTIFACT_TYPE:?}"
        )));
    }
    let layer = match m.layers.as_slice() {
        [l] if l.media_type == LAYER_TYPE => l,
        _ => {
            return Err(not_db(format!(
                "expected one layer of type {LAYER_TYPE}, found {}",
                m.layers
                    .iter()
                    .map(|l| l.media_type.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    match m.annotations.get(ANN_SCHEMA) {
        Some(s) if *s == SCHEMA_VERSION.to_string() => {}
        found => {
            return Err(ArtifactError::Refused {
                reference: reference.to_string(),
                reason: format!(
                    "the database is of schema {}, this moat reads schema {SCHEMA_VERSION}: push one written by this moat's version",
                    found.map_or("unknown", String::as_str)
                ),
            });
        }
    }
    verify(&client, &fetched.digest).map_err(|reason| ArtifactError::Refused {
        reference: reference.to_string(),
        reason,
    })?;
    let layer_digest = Digest::parse(&layer.digest)
        .map_err(|e| not_db(format!("layer digest {:?}: {e}", layer.digest)))?;

    let dir = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io_err(&dir, "creating"))?;
    let _lock = file::WriteLock::acquire(db, std::time::Duration::from_secs(60), &mut |_| {})?;
    let mut compressed = tempfile::NamedTempFile::new_in(&dir).map_err(io_err(&dir, "creating"))?;
    client
        .get_blob_to(
            repo,
            &layer_digest,
            Some(layer.size),
            MAX_DATABASE_BYTES,
            compressed.as_file_mut(),
        )
        .map_err(&err)?;
    // A new handle of the file, read from its start.
    let input = compressed
        .reopen()
        .map_err(io_err(compressed.path(), "reading"))?;
    let out = tempfile::NamedTempFile::new_in(&dir).map_err(io_err(&dir, "creating"))?;
    let dec = zstd::Decoder::new(input).map_err(io_err(compressed.path(), "decompressing"))?;
    let written = std::io::copy(&mut dec.take(MAX_DATABASE_BYTES + 1), &mut out.as_file())
        .map_err(|e| not_db(format!("the layer does not decompress: {e}")))?;
    if written > MAX_DATABASE_BYTES {
        return Err(not_db(format!(
            "the layer decompresses to more than {MAX_DATABASE_BYTES} bytes"
        )));
    }
    drop(compressed);
    out.as_file()
        .sync_all()
        .map_err(io_err(out.path(), "writing"))?;
    match file::inspect(out.path())? {
        file::Target::Moat => {}
        file::Target::Missing => return Err(not_db("the layer is empty".into())),
        file::Target::Unknown(why) | file::Target::Foreign(why) | file::Target::Damaged(why) => {
            return Err(not_db(format!(
                "the layer is not a usable moat database: {why}"
            )));
        }
    }
    // A database is no secret: readable like one `moat db update` writes.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(io_err(out.path(), "writing"))?;
    }
    out.persist(db).map_err(|e| ArtifactError::Io {
        path: db.to_path_buf(),
        what: "replacing",
        cause: e.error,
    })?;
    // Which artifact this database came from, for the next scan's refresh check. A database
    // written from the feeds later removes nothing here, but carries a newer build time.
    let marker = marker_path(db);
    std::fs::write(&marker, format!("{reference}\n{}\n", fetched.digest))
        .map_err(io_err(&marker, "writing"))?;
    Ok(Pulled {
        digest: fetched.digest.to_string(),
        built_at: m.annotations.get(ANN_CREATED).cloned(),
        bytes: written,
    })
}

/// The file beside the database that names the artifact it was pulled from (`moat.db.pulled`:
/// the reference and the manifest digest, one a line); its modification time is the last time
/// the artifact was pulled or found unchanged.
pub fn marker_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".pulled");
    db.with_file_name(name)
}

/// The artifact the database at `db` was last pulled from: (reference, manifest digest, how
/// long ago it was pulled or confirmed), when `db` came from an artifact.
pub fn pulled_from(db: &Path) -> Option<(String, String, std::time::Duration)> {
    let marker = marker_path(db);
    let meta = std::fs::metadata(&marker).ok()?;
    if !meta.is_file() || meta.len() > 4096 {
        return None;
    }
    let text = std::fs::read_to_string(&marker).ok()?;
    let mut lines = text.lines();
    let (reference, digest) = (lines.next()?.to_string(), lines.next()?.to_string());
    let age = meta.modified().ok()?.elapsed().unwrap_or_default();
    Some((reference, digest, age))
}

/// Records that the artifact the database came from is unchanged (the marker is rewritten,
/// so its time is now).
pub fn confirm_unchanged(db: &Path) {
    let marker = marker_path(db);
    if let Ok(text) = std::fs::read_to_string(&marker) {
        let _ = std::fs::write(&marker, text);
    }
}

/// The digest of the manifest `reference` names now.
pub fn remote_digest(reference: &Reference, ro: &RegistryOptions) -> Result<Digest, ArtifactError> {
    let err = registry_err(reference);
    let client = moat_image::connect_registry(reference, ro).map_err(&err)?;
    Ok(client
        .get_manifest(
            &reference.repository,
            &reference.manifest_ref(),
            MAX_MANIFEST,
        )
        .map_err(&err)?
        .digest)
}
