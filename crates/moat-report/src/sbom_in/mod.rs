//! SBOMs in: CycloneDX JSON and SPDX 2.x JSON documents (moat's own or another tool's)
//! read back into an [`Inventory`], so that `moat scan sbom.json` can match them.
//!
//! [`read_sbom`] detects the format by its marker (`bomFormat` for CycloneDX, `spdxVersion`
//! for SPDX), parses a typed subset of it (unknown fields are ignored, `null` lists are
//! empty) and turns every component / package into a [`Package`](moat_model::Package). What matters for
//! matching is the distro context, so that is read from every place the common tools put
//! it:
//!
//! * **kind and ecosystem** from the purl: its type is the kind; OS packages (`deb`, `apk`,
//!   `rpm`) get the ecosystem of their `distro` qualifier (`debian-12`, `debian-12.4` as
//!   Trivy writes it, `alpine-3.19.1`, Trivy's `redhat-9.3`, ...) the way moat's scanner
//!   names them (`Debian:12`, `Alpine:v3.19`, `Ubuntu:22.04`, `Red Hat:9`, ...), falling
//!   back to the document's operating-system component; language packages get theirs from
//!   the purl type (`pypi` -> `PyPI`, `cargo` -> `crates.io`, `golang` -> `Go`, ...) and the
//!   ecosystem's own form of the name (Go `namespace/name`, Maven `group:artifact`, npm
//!   `@scope/name`).
//! * **source package**: the purl's `upstream` qualifier (moat, Syft; `name`, `name@version`
//!   or an rpm's source rpm file name), Trivy's `aquasecurity:trivy:SrcName` /
//!   `SrcVersion` / `SrcRelease` / `SrcEpoch` properties (or its SPDX `sourceInfo`), Syft's
//!   `syft:metadata:source` / `sourceVersion` / `sourceRpm` / `originPackage`. Debian and
//!   Alpine packages without one are their own source, as in moat's inventory.
//! * **epoch**: a deb version keeps its `1:` prefix; Trivy leaves it out of the version and
//!   writes an `epoch` qualifier, which is put back (`1:2.38.1-5+deb12u3`); rpm versions
//!   become `E:V-R` the same way.
//! * **Go versions** are spelt as moat's inventory spells them
//!   ([`moat_model::version::go::canonical`]): Syft's `go1.19.8` for the standard library
//!   and a purl's `0.35.0` become `v1.19.8` and `v0.35.0`. Other qualifiers (Maven's
//!   `classifier`, Conan's `rrev`) never become part of a version.
//! * **moat's own documents** restore exactly: the `moat:package:*` properties of its
//!   CycloneDX (type, layer, locations, source, arch, epoch, ecosystem, metadata, ...), the
//!   `moat:artifact:*` / `moat:layer:*` / `moat:os:*` properties of the artifact and OS, and
//!   the `comment` / `sourceInfo` moat writes into SPDX packages.
//!
//! The artifact is the document's subject (`metadata.component`, or the package the SPDX
//! document DESCRIBES): its name, digests and layers where the document records them
//! (moat's properties, Trivy's `DiffID` / `ImageID` / `RepoTag`), kind `dir` unless moat's
//! property says otherwise (an SBOM does not say how its target was read), path the SBOM
//! file, and the OS from the operating-system component (or, when the document has none,
//! from the `distro` qualifier most OS packages carry). `dependencies` / `DEPENDS_ON` /
//! `DEPENDENCY_OF` between packages become relationships.
//!
//! Problems with single components (a purl that does not parse) become diagnostics
//! ([`moat_model::Code::SbomComponent`]) of the inventory; only a document that cannot be
//! read at all is an [`SbomError`], whose message names the file and what is wrong.
//!
//! ## Layout
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`read_sbom`]: format detection and dispatch, [`SbomError`], the format-neutral package record (`Raw`) and the join of records, edges and artifact into an [`Inventory`] |
//! | `cyclonedx.rs` | the typed CycloneDX subset; components, properties and the artifact's layers into records |
//! | `spdx.rs` | the typed SPDX 2.x subset; packages, annotations, moat's comments into records |
//! | `package.rs` | one record into a [`Package`](moat_model::Package): kind, name, version and epoch, ecosystem, source package, layer, locations |
//! | `distro.rs` | distro names: `distro` qualifiers, other tools' family names, the document's OS |
//!
//! Ecosystem names and the language forms of package names come from
//! [`moat_model::Ecosystem`] and [`moat_model::os_ecosystem`], the vocabulary the scanner
//! and the matcher use, so an SBOM's packages are looked up exactly as scanned ones are.
//!
//! Rejected alternatives: reading each format straight into [`Package`](moat_model::Package)s (the
//! interpretation of purls, source packages and epochs would be written twice and drift);
//! `serde_json::Value` walking (unknown shapes would fail late and silently).

mod cyclonedx;
mod distro;
mod package;
mod spdx;

use moat_model::{
    Artifact, ArtifactKind, Diagnostic, Interner, Inventory, Layer, OsInfo, Relationship,
    RelationshipKind, SCHEMA_VERSION, Str, Tool,
};
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::{HashMap, HashSet};

/// Why an SBOM could not be read. Every message starts with the file's path.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("{path}: the file is empty")]
    Empty { path: String },
    // The cause is part of the message and deliberately not a `source()`: error chains
    // printed in full (`{:#}`) would say it twice.
    #[error("{path}: not valid JSON: {cause}")]
    Json {
        path: String,
        cause: serde_json::Error,
    },
    #[error("{path}: {what} is not supported; use CycloneDX JSON or SPDX 2.x JSON")]
    Unsupported { path: String, what: String },
    #[error(
        "{path}: not an SBOM moat reads: {what} (CycloneDX JSON has \"bomFormat\": \"CycloneDX\", SPDX JSON has \"spdxVersion\")"
    )]
    UnknownFormat { path: String, what: String },
    #[error(
        "{path}: larger than the SBOM budget of {} MiB; not read",
        MAX_SBOM_BYTES >> 20
    )]
    TooLarge { path: String },
    #[error("{path}: malformed {format} document: {cause}")]
    Malformed {
        path: String,
        format: &'static str,
        cause: serde_json::Error,
    },
}

/// The largest SBOM document read (bytes): well above real ones (a 10,000-component
/// CycloneDX document is about 10 MiB). A larger one is [`SbomError::TooLarge`]: the SBOM is
/// the whole target, so it is an error, never an empty inventory that would pass a gate.
pub const MAX_SBOM_BYTES: usize = 256 << 20;

/// Reads a CycloneDX or SPDX JSON document. `path` names the file in errors, diagnostics and
/// the artifact.
pub fn read_sbom(bytes: &[u8], path: &str) -> Result<Inventory, SbomError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| SbomError::Empty { path: path.into() })?;
    let head = &bytes[start..bytes.len().min(start + 512)];
    if head.starts_with(b"<") {
        return Err(SbomError::Unsupported {
            path: path.into(),
            what: "an XML document (CycloneDX XML or SPDX RDF)".into(),
        });
    }
    let head_text = String::from_utf8_lossy(head);
    if head_text.starts_with("SPDXVersion:") || head_text.starts_with("##") {
        return Err(SbomError::Unsupported {
            path: path.into(),
            what: "an SPDX tag-value document".into(),
        });
    }
    if bytes.len() > MAX_SBOM_BYTES {
        return Err(SbomError::TooLarge { path: path.into() });
    }
    // Only an object is an SBOM; anything else is still parsed through, for the JSON error.
    if head[0] != b'{' {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|cause| {
            SbomError::Json {
                path: path.into(),
                cause,
            }
        })?;
        return Err(SbomError::UnknownFormat {
            path: path.into(),
            what: "the top level is not a JSON object".into(),
        });
    }
    // A struct, not an untagged enum: serde buffers the whole document for the latter.
    let probe: Probe = serde_json::from_slice(bytes).map_err(|cause| SbomError::Json {
        path: path.into(),
        cause,
    })?;
    let marker = |v: Option<serde_json::Value>| {
        v.filter(|v| !v.is_null()).map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
    };
    let (bom_format, spdx_version) = (marker(probe.bom_format), marker(probe.spdx_version));
    let context = probe.context;
    if let Some(fmt) = bom_format {
        if fmt != "CycloneDX" {
            return Err(SbomError::UnknownFormat {
                path: path.into(),
                what: format!("\"bomFormat\" is {fmt:?}"),
            });
        }
        return cyclonedx::read(bytes, path);
    }
    if let Some(v) = spdx_version {
        if !v.starts_with("SPDX-2.") {
            return Err(SbomError::Unsupported {
                path: path.into(),
                what: format!("spdxVersion {v:?}"),
            });
        }
        return spdx::read(bytes, path);
    }
    if context.is_some() {
        return Err(SbomError::Unsupported {
            path: path.into(),
            what: "a JSON-LD document (SPDX 3)".into(),
        });
    }
    Err(SbomError::UnknownFormat {
        path: path.into(),
        what: "it has neither \"bomFormat\" nor \"spdxVersion\"".into(),
    })
}

// ---------------------------------------------------------------------------------------
// the formats, typed (only what is read)

/// The format markers of a document (every other field is read through, not kept).
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "bomFormat", default)]
    bom_format: Option<serde_json::Value>,
    #[serde(rename = "spdxVersion", default)]
    spdx_version: Option<serde_json::Value>,
    #[serde(rename = "@context", default)]
    context: Option<serde::de::IgnoredAny>,
}

/// `null` or absent -> the default.
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads `null` as no elements, and a list one element at a time into `T` with `add`.
pub(super) fn read_list<'de, D, E, T>(d: D, add: fn(&mut T, E)) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: Deserialize<'de>,
    T: Default,
{
    struct List<E, T>(fn(&mut T, E));
    impl<'de, E: Deserialize<'de>, T: Default> Visitor<'de> for List<E, T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list or null")
        }
        fn visit_unit<X: serde::de::Error>(self) -> Result<T, X> {
            Ok(T::default())
        }
        fn visit_none<X: serde::de::Error>(self) -> Result<T, X> {
            Ok(T::default())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<T, D2::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
            let mut out = T::default();
            while let Some(e) = seq.next_element::<E>()? {
                (self.0)(&mut out, e);
            }
            Ok(out)
        }
    }
    d.deserialize_option(List(add))
}

// ---------------------------------------------------------------------------------------
// one format-neutral package record

/// A component / package as both formats describe it, before interpretation. The readers
/// make one as each component is read (the document's components are never all held in
/// their typed form); what repeats (role, licences) is interned.
#[derive(Default)]
pub(super) struct Raw {
    /// bom-ref or SPDXID, for relationships.
    pub reference: String,
    /// Component type (CycloneDX) or primary purpose (SPDX), lower case.
    pub role: Str,
    pub name: String,
    pub group: Option<String>,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub licenses: Vec<Str>,
    /// CycloneDX properties; SPDX annotations and moat comments in the same shape.
    pub props: Vec<(String, String)>,
    /// SPDX `sourceInfo` (Trivy: `built package from: NAME VERSION`).
    pub source_info: Option<String>,
}

impl Raw {
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    pub fn props<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.props
            .iter()
            .filter(move |(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    pub fn is_moat(&self) -> bool {
        self.props
            .iter()
            .any(|(k, _)| k.starts_with("moat:package:"))
    }
}

/// What the whole document tells each package.
pub(super) struct Context {
    pub os: Option<OsInfo>,
    pub layers: Vec<Layer>,
    /// The strings the packages of a document repeat (kind, ecosystem, licences), shared.
    pub strings: moat_model::Interner,
    /// The licence and location lists of the packages, shared where equal.
    pub licenses: moat_model::Lists<Str>,
    pub locations: moat_model::Lists<moat_model::Location>,
}

/// The artifact when the document says nothing about it: named after the document (or the
/// file), kind `dir`, no digests or layers.
pub(crate) fn bare_artifact(name: &str, path: &str) -> Artifact {
    let name = if name.trim().is_empty() { path } else { name };
    Artifact::new(name, ArtifactKind::Dir, path)
}

pub(super) fn is_digest(s: &str) -> bool {
    s.split_once(':').is_some_and(|(algo, hex)| {
        matches!(algo, "sha256" | "sha512")
            && !hex.is_empty()
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

pub(super) fn empty_layer(index: usize) -> Layer {
    Layer {
        index,
        digest: None,
        diff_id: None,
        media_type: None,
        size: None,
        created_by: None,
    }
}

// ---------------------------------------------------------------------------------------
// interpretation, shared

/// Dependency edges between references (bom-refs, SPDXIDs) as a document lists them, read
/// one at a time: every reference is interned ([`Edges::refs`]), so an edge costs two
/// shared strings, however often a reference recurs.
#[derive(Default)]
pub(super) struct Edges {
    pub pairs: Vec<(Str, Str)>,
    pub refs: Interner,
}

impl Edges {
    pub fn push(&mut self, from: &str, to: &str) {
        let pair = (self.refs.get(from), self.refs.get(to));
        self.pairs.push(pair);
    }
}

/// The inventory of a document: every record that is a package (ids unique, moat's own
/// kept where `keep_moat_ids`), the edges between known records, the OS from the packages'
/// `distro` qualifiers when the document names none. Each record is dropped as its package
/// is made (records and packages are not all alive at once).
pub(super) fn finish(
    mut artifact: Artifact,
    raws: Vec<Raw>,
    edges: Edges,
    path: &str,
    keep_moat_ids: bool,
) -> Inventory {
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    if artifact.os.is_none() {
        artifact.os = distro::os_from_qualifiers(&raws);
    }
    let mut ctx = Context {
        os: artifact.os.clone(),
        layers: artifact.layers.clone(),
        strings: Interner::new(),
        licenses: moat_model::Lists::new(),
        locations: moat_model::Lists::new(),
    };
    let mut used: HashSet<Str> = HashSet::with_capacity(raws.len());
    // reference -> index of its package, for the references edges name (shared keys)
    let mut by_ref: HashMap<Str, usize> = HashMap::new();
    let mut packages = Vec::with_capacity(raws.len());
    for raw in moat_model::consume(raws) {
        let Some(mut p) = package::package(&raw, &mut ctx, path, &mut diagnostics) else {
            continue;
        };
        p.id = if keep_moat_ids && raw.is_moat() && !raw.reference.is_empty() {
            unique_id(&raw.reference, &mut used)
        } else if used.insert(p.id.clone()) {
            p.id
        } else {
            unique_id(&p.id, &mut used)
        };
        if let Some(r) = edges.refs.find(&raw.reference) {
            by_ref.entry(r).or_insert(packages.len());
        }
        packages.push(p);
    }
    drop(used);
    let Edges { pairs, refs } = edges;
    drop(refs);
    let mut relationships: Vec<Relationship> = pairs
        .into_iter()
        .filter_map(|(from, to)| {
            let (&from, &to) = (by_ref.get(&from)?, by_ref.get(&to)?);
            (from != to).then(|| Relationship {
                from: packages[from].id.clone(),
                to: packages[to].id.clone(),
                kind: RelationshipKind::DependsOn,
            })
        })
        .collect();
    drop(by_ref);
    relationships.sort_unstable();
    relationships.dedup();
    relationships.shrink_to_fit();
    Inventory {
        schema_version: SCHEMA_VERSION.into(),
        tool: Tool::default(),
        artifact,
        packages,
        relationships,
        diagnostics,
        package_files: Default::default(),
    }
}

/// `want`, or `want#2`, `want#3`, ... : the first not `used` (then used).
fn unique_id(want: &str, used: &mut HashSet<Str>) -> Str {
    let mut candidate = Str::from(want);
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = Str::from(format!("{want}#{n}"));
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}
