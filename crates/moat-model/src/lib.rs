//! # moat-model: the one result model
//!
//! Pure data and logic, no I/O. Every other crate of moat speaks these types:
//! the image readers fill an [`Artifact`], the scan engine produces an
//! [`Inventory`] (artifact + packages + relationships + diagnostics), and the
//! reporters turn an [`Inventory`] into bytes (moat JSON, CycloneDX, SPDX, a
//! table).
//!
//! The serde form of [`Inventory`] *is* moat's JSON document (`moat sbom
//! --format json`, `moat inventory --format json`). It is versioned by
//! [`SCHEMA_VERSION`] and documented in `docs/json-format.md`; a change of a
//! field name or meaning bumps the version.
//!
//! Values from the outside have maximum lengths, kept in one place ([`limits`]: the caps and
//! the one truncation helper, applied by the engine, the importer and [`Diagnostic::new`]).
//!
//! Rejected alternatives: `serde_json::Value`-typed metadata (the Syft lesson:
//! untyped metadata spreads through every consumer), and one struct per package
//! manager (the reporters would need to know every ecosystem). A package is a
//! single struct with optional, documented fields; ecosystem-specific extras go
//! into [`Package::metadata`] as ordered string pairs ([`Metadata`]: a sorted vector, not a
//! `BTreeMap`, whose first entry alone would cost a package about 550 bytes).
//!
//! A package's strings are shared ([`Str`], an `Arc<str>` that reads, compares, hashes and
//! serialises as the text): an inventory of a million packages repeats its kind, ecosystem,
//! architecture, database path, maintainer and licences in every package, and the package
//! databases' parsers and the scan engine intern them ([`Interner`]) so that each distinct
//! value is stored once, and a package built from a database fact shares the fact's name
//! and version instead of copying them. Ids are shared too, with the relationships that
//! name them. Rejected: `&'static str` for the vocabulary fields (the SBOM reader takes
//! any kind and ecosystem a document writes), and `String`s (one allocation per field per
//! package: about 900 bytes of a package, before).
//!
//! A package's installed files are not a field of it: most scans need only their count
//! ([`Package::file_count`]). When asked (`--package-files`), they are kept in one buffer
//! beside the packages ([`PackageFiles`], [`Inventory::package_files`]) and written as each
//! package's `files` array.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

pub mod advisory;
pub mod diagnostic;
pub mod ecosystem;
pub mod files;
pub mod finding;
pub mod limits;
pub mod list;
pub mod metadata;
pub mod purl;
pub mod shared;
pub mod version;
pub use diagnostic::{Code, Diagnostic};
pub use ecosystem::{Ecosystem, normalize_name, os_ecosystem, pep503_name};
pub use files::PackageFiles;
pub use finding::{
    Detail, Finding, FindingKind, FindingLocation, ScanReport, Severity, Span, Status,
};
pub use list::{List, Lists};
pub use metadata::Metadata;
pub use purl::{PackageUrl, Purl, PurlForm, Upstream};
pub use shared::{Interner, Str, consume};

/// Version of moat's JSON document. Bump on any incompatible change.
pub const SCHEMA_VERSION: &str = "2.0";

/// The whole result of an inventory: what was scanned and what is inside.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Inventory {
    pub schema_version: String,
    pub tool: Tool,
    pub artifact: Artifact,
    pub packages: Vec<Package>,
    /// Package-to-package edges (`depends_on`) and file ownership facts.
    #[serde(default)]
    pub relationships: Vec<Relationship>,
    /// Problems inside the target that did not stop the scan (`warnings` in schema 1.0).
    #[serde(default, alias = "warnings")]
    pub diagnostics: Vec<Diagnostic>,
    /// The packages' installed files, by package id, when the scan kept them
    /// (`--package-files`; empty otherwise). Written as each package's `files` array; not
    /// read back (a document's `files` are ignored).
    #[serde(skip)]
    pub package_files: PackageFiles,
}

/// The JSON of an [`Inventory`]: its fields in order, each package with its `files` when
/// [`Inventory::package_files`] has them.
#[derive(Serialize)]
struct InventoryJson<'a> {
    schema_version: &'a str,
    tool: &'a Tool,
    artifact: &'a Artifact,
    packages: PackagesJson<'a>,
    relationships: &'a [Relationship],
    diagnostics: &'a [Diagnostic],
}

struct PackagesJson<'a>(&'a [Package], &'a PackageFiles);

impl Serialize for PackagesJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let PackagesJson(packages, files) = *self;
        if files.is_empty() {
            return s.collect_seq(packages);
        }
        s.collect_seq(packages.iter().map(|p| p.json(files.get(&p.id))))
    }
}

impl Serialize for Inventory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        InventoryJson {
            schema_version: &self.schema_version,
            tool: &self.tool,
            artifact: &self.artifact,
            packages: PackagesJson(&self.packages, &self.package_files),
            relationships: &self.relationships,
            diagnostics: &self.diagnostics,
        }
        .serialize(s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
    /// The analyzers that read the target, with their versions: with a layer's diff-id,
    /// the key under which a layer's results may be reused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analyzers: Vec<AnalyzerVersion>,
}

/// An analyzer's stable id and version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AnalyzerVersion {
    pub id: String,
    pub version: u32,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "moat".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            analyzers: Vec::new(),
        }
    }
}

/// What kind of target was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    DockerArchive,
    OciArchive,
    /// An OCI image layout directory.
    Oci,
    /// An unpacked image root filesystem.
    Rootfs,
    /// A project directory.
    Dir,
    /// A git repository's history (`git:PATH`).
    Git,
    /// An image pulled from a registry (`REGISTRY/REPO:TAG`, `...@sha256:DIGEST`).
    Registry,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::DockerArchive => "docker-archive",
            ArtifactKind::OciArchive => "oci-archive",
            ArtifactKind::Oci => "oci",
            ArtifactKind::Rootfs => "rootfs",
            ArtifactKind::Dir => "dir",
            ArtifactKind::Git => "git",
            ArtifactKind::Registry => "registry",
        }
    }
    /// True for the kinds that are container images with layers and a config.
    pub fn is_image(self) -> bool {
        matches!(
            self,
            ArtifactKind::DockerArchive
                | ArtifactKind::OciArchive
                | ArtifactKind::Oci
                | ArtifactKind::Registry
        )
    }
}

/// The scanned target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// A human name: the image reference (`repo:tag`) where known, else the path.
    pub name: String,
    pub kind: ArtifactKind,
    /// The path of the target as given on the command line (without prefix).
    pub path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    /// `sha256:...` of the image manifest, where the format has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// `sha256:...` of the image index (multi-platform manifest list) the manifest was chosen
    /// from, when the reference named one: the digest `name@sha256:...` references use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// `sha256:...` of the image config blob (the "image id").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    #[serde(default)]
    pub layers: Vec<Layer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ImageConfig>,
}

impl Artifact {
    /// An artifact with a name, a kind and a path, and nothing else known yet.
    pub fn new(name: impl Into<String>, kind: ArtifactKind, path: impl Into<String>) -> Artifact {
        Artifact {
            name: name.into(),
            kind,
            path: path.into(),
            repo_tags: Vec::new(),
            manifest_digest: None,
            index_digest: None,
            config_digest: None,
            platform: None,
            os: None,
            layers: Vec::new(),
            config: None,
        }
    }

    /// The digest that identifies the image: the manifest digest, else the config digest.
    pub fn digest(&self) -> Option<&str> {
        self.manifest_digest
            .as_deref()
            .or(self.config_digest.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The parts of an image config that later scanners (secrets, misconfiguration) read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<String>,
    /// The health check's command (`Healthcheck.Test`: `["CMD-SHELL", "curl -f ..."]`;
    /// `["NONE"]` turns an inherited one off); `None` when the config defines none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Every history entry, empty layers included, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// One filesystem layer, in order (index 0 is the base).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub index: usize,
    /// Digest of the blob as stored (compressed for gzip/zstd layers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Digest of the uncompressed tar (`rootfs.diff_ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Size of the blob as stored, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The history line that made this layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// The operating system of the final filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// Normalised distribution id: `debian`, `ubuntu`, `alpine`, `rhel`, `almalinux`, `rocky`,
    /// `centos`, `ol`, `fedora`, `amzn`, `sles`, `opensuse-leap`, `opensuse-tumbleweed`,
    /// `azurelinux`, `mariner`, `wolfi`, `chainguard`, ...
    pub id: String,
    /// Family for matching: `debian`, `alpine`, `redhat`, `suse`, `wolfi`, or the id.
    pub family: String,
    /// Release version as the distro writes it (`12`, `3.19.1`, `9.3`, `2023`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    /// `PRETTY_NAME` or an equivalent.
    pub name: String,
    /// True when the image has a package database but no os-release (distroless).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub distroless: bool,
}

/// A package found in the target. Its strings are [`Str`]s (shared; see the crate docs), its
/// licences and locations [`List`]s (shared by the packages of a database that have the
/// same), its purl text or a form shared by a database ([`PackageUrl`]; read it with
/// [`Package::purl`]). Serialised field by field as before (the purl as its text).
#[derive(Debug, Clone, Deserialize)]
pub struct Package {
    /// Unique within the document; used as the SBOM `bom-ref` / SPDX id seed.
    pub id: Str,
    pub name: Str,
    /// The version as the package manager writes it: dpkg `[epoch:]upstream[-revision]`,
    /// rpm `[epoch:]version-release`, apk `version-rN`.
    pub version: Str,
    /// The purl type: `deb`, `apk`, `rpm`, `pypi`, `npm`, `cargo`, `golang`, `maven`, ...
    #[serde(rename = "type")]
    pub kind: Str,
    /// Read with [`Package::purl`] (it may be made from the other fields).
    pub purl: PackageUrl,
    /// The OSV ecosystem name (`Debian:12`, `Alpine:v3.19`, `PyPI`, `crates.io`, ...).
    #[serde(default)]
    pub ecosystem: Option<Str>,
    #[serde(default)]
    pub arch: Option<Str>,
    #[serde(default)]
    pub epoch: Option<u32>,
    #[serde(default)]
    pub source_name: Option<Str>,
    #[serde(default)]
    pub source_version: Option<Str>,
    #[serde(default)]
    pub licenses: List<Str>,
    /// Index of the layer that introduced the package (`u32`: 8 bytes, not 16, of each
    /// package; an image has a few hundred layers at most).
    #[serde(default)]
    pub layer: Option<u32>,
    /// Where the package was found (its database or metadata file).
    #[serde(default)]
    pub locations: List<Location>,
    /// Marked by lockfiles that say so.
    #[serde(default)]
    pub dev: bool,
    /// The project itself (a lockfile's root, a Go binary's main module, a Rust binary's own
    /// crate, a WAR): an application component, not a dependency to match.
    #[serde(default)]
    pub application: bool,
    /// Number of files the package owns. The list itself is not kept in the package: only
    /// the ownership join needs it, which reads the databases' lists directly (an always
    /// empty `files` vector was 24 bytes of each of a million packages); a scan asked for
    /// the lists keeps them beside the packages ([`Inventory::package_files`]).
    #[serde(default)]
    pub file_count: Option<u32>,
    /// Ecosystem-specific extras (maintainer, installed size, ...), in key order.
    #[serde(default)]
    pub metadata: Metadata,
}

impl Package {
    /// The package URL: its text, or made from the package's fields by the form its
    /// database shares.
    pub fn purl(&self) -> Cow<'_, str> {
        match self.purl.form() {
            None => Cow::Borrowed(self.purl.as_text().unwrap_or_default()),
            Some(form) => Cow::Owned(form.render(&self.purl_fields())),
        }
    }

    /// The index of the layer that introduced the package ([`Package::layer`] as an index).
    pub fn layer_index(&self) -> Option<usize> {
        self.layer.and_then(|l| usize::try_from(l).ok())
    }

    /// Replaces the purl with this text.
    pub fn set_purl(&mut self, purl: impl Into<Box<str>>) {
        self.purl = PackageUrl::text(purl);
    }

    /// The fields a [`purl::PurlForm`] reads.
    pub fn purl_fields(&self) -> purl::PurlFields<'_> {
        purl::PurlFields {
            name: &self.name,
            version: &self.version,
            arch: self.arch.as_deref(),
            source_name: self.source_name.as_deref(),
            source_version: self.source_version.as_deref(),
        }
    }
}

/// Equal when every field is, the purls compared as text (one kept as text equals one made
/// from the fields when they read the same).
impl PartialEq for Package {
    fn eq(&self, o: &Package) -> bool {
        self.id == o.id
            && self.name == o.name
            && self.version == o.version
            && self.kind == o.kind
            && self.ecosystem == o.ecosystem
            && self.arch == o.arch
            && self.epoch == o.epoch
            && self.source_name == o.source_name
            && self.source_version == o.source_version
            && self.licenses == o.licenses
            && self.layer == o.layer
            && self.locations == o.locations
            && self.dev == o.dev
            && self.application == o.application
            && self.file_count == o.file_count
            && self.metadata == o.metadata
            && (self.purl == o.purl || self.purl() == o.purl())
    }
}

/// The JSON of a [`Package`]: its fields in order, the purl as text, absent and empty ones
/// left out as they always were.
#[derive(Serialize)]
struct PackageJson<'a> {
    id: &'a Str,
    name: &'a Str,
    version: &'a Str,
    #[serde(rename = "type")]
    kind: &'a Str,
    purl: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ecosystem: Option<&'a Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arch: Option<&'a Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epoch: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_name: Option<&'a Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_version: Option<&'a Str>,
    #[serde(skip_serializing_if = "empty")]
    licenses: &'a [Str],
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<u32>,
    locations: &'a [Location],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dev: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    application: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<files::Paths<'a>>,
    #[serde(skip_serializing_if = "no_metadata")]
    metadata: &'a Metadata,
}

fn empty<T>(s: &&[T]) -> bool {
    s.is_empty()
}

fn no_metadata(m: &&Metadata) -> bool {
    m.is_empty()
}

impl Package {
    /// The package's JSON with its installed files (`files`, after `file_count`).
    fn json<'a>(&'a self, files: Option<files::Paths<'a>>) -> PackageJson<'a> {
        PackageJson {
            id: &self.id,
            name: &self.name,
            version: &self.version,
            kind: &self.kind,
            purl: self.purl(),
            ecosystem: self.ecosystem.as_ref(),
            arch: self.arch.as_ref(),
            epoch: self.epoch,
            source_name: self.source_name.as_ref(),
            source_version: self.source_version.as_ref(),
            licenses: &self.licenses,
            layer: self.layer,
            locations: &self.locations,
            dev: self.dev,
            application: self.application,
            file_count: self.file_count,
            files,
            metadata: &self.metadata,
        }
    }
}

impl Serialize for Package {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json(None).serialize(s)
    }
}

/// A place in the target. `path` is absolute inside the image (`/var/lib/dpkg/status`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub path: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipKind {
    /// `from` depends on `to` (both package ids).
    DependsOn,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Relationship {
    pub from: Str,
    pub to: Str,
    pub kind: RelationshipKind,
}

#[cfg(test)]
mod package_tests {
    use super::*;
    use std::sync::Arc;

    fn deb(purl: PackageUrl) -> Package {
        Package {
            id: "deb:libc-bin@2.36-9:amd64".into(),
            name: "libc-bin".into(),
            version: "2.36-9".into(),
            kind: "deb".into(),
            purl,
            ecosystem: Some("Debian:12".into()),
            arch: Some("amd64".into()),
            epoch: None,
            source_name: Some("glibc".into()),
            source_version: Some("2.36-9".into()),
            licenses: vec![Str::from("LGPL-2.1")].into(),
            layer: Some(1),
            locations: vec![Location {
                path: "/var/lib/dpkg/status".into(),
                layer: Some(1),
            }]
            .into(),
            dev: false,
            application: false,
            file_count: Some(7),
            metadata: Metadata::new(),
        }
    }

    #[test]
    fn a_purl_made_from_the_fields_is_written_as_its_text() {
        let text = "pkg:deb/debian/libc-bin@2.36-9?arch=amd64&distro=debian-12&upstream=glibc";
        let form = PackageUrl::derived(Arc::new(PurlForm {
            ty: "deb".into(),
            namespace: "debian".into(),
            distro: "debian-12".into(),
            upstream: Upstream::SourceAtVersion,
        }));
        let (made, kept) = (deb(form), deb(PackageUrl::text(text)));
        assert_eq!(made.purl(), text);
        assert_eq!(made, kept);
        let json = serde_json::to_string(&made).unwrap();
        assert_eq!(json, serde_json::to_string(&kept).unwrap());
        assert!(json.contains(&format!(r#""type":"deb","purl":"{text}","ecosystem""#)));
        let back: Package = serde_json::from_str(&json).unwrap();
        assert_eq!(back.purl.as_text(), Some(text));
        assert_eq!(back, made);
    }

    #[test]
    fn an_inventory_writes_package_files_on_its_packages() {
        let text = "pkg:deb/debian/libc-bin@2.36-9";
        let mut inv = Inventory {
            schema_version: SCHEMA_VERSION.into(),
            tool: Tool::default(),
            artifact: Artifact::new("x", ArtifactKind::Rootfs, "x"),
            packages: vec![deb(PackageUrl::text(text))],
            relationships: Vec::new(),
            diagnostics: Vec::new(),
            package_files: PackageFiles::new(),
        };
        let without = serde_json::to_value(&inv).unwrap();
        assert!(without["packages"][0].get("files").is_none());
        inv.package_files.insert(
            inv.packages[0].id.clone(),
            ["/sbin/ldconfig", "/usr/bin/ldd"],
        );
        let with = serde_json::to_string(&inv).unwrap();
        assert!(
            with.contains(r#""file_count":7,"files":["/sbin/ldconfig","/usr/bin/ldd"]"#),
            "{with}"
        );
        // the same document otherwise; files are not read back
        let back: Inventory = serde_json::from_str(&with).unwrap();
        assert!(back.package_files.is_empty());
        assert_eq!(serde_json::to_value(&back).unwrap(), without);
    }

    #[test]
    fn a_package_is_232_bytes_inline() {
        // 272 before the purl form, the shared lists and the u32 layer and file count
        assert_eq!(std::mem::size_of::<Package>(), 232);
    }
}
