//! SBOMs in: CycloneDX JSON and SPDX 2.x JSON documents (moat's own or another tool's)
//! read back into an [`Inventory`], so that `moat scan sbom.json` can match them.
//!
//! [`read_sbom`] detects the format by its marker (`bomFormat` for CycloneDX, `spdxVersion`
//! for SPDX), parses a typed subset of it (unknown fields are ignored, `null` lists are
//! empty) and turns every component / package into a [`Package`]. What matters for
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
//! Problems with single components (a purl that does not parse) become warnings of the
//! inventory; only a document that cannot be read at all is an [`SbomError`], whose
//! message names the file and what is wrong.

use moat_model::{
    Artifact, ArtifactKind, Code, Diagnostic, Inventory, Layer, Location, OsInfo, Package,
    Platform, Purl, Relationship, RelationshipKind, SCHEMA_VERSION, Tool,
};
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Why an SBOM could not be read. Every message starts with the file's path.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("{path}: the file is empty")]
    Empty { path: String },
    #[error("{path}: not valid JSON: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {what} is not supported; use CycloneDX JSON or SPDX 2.x JSON")]
    Unsupported { path: String, what: String },
    #[error(
        "{path}: not an SBOM moat reads: {what} (CycloneDX JSON has \"bomFormat\": \"CycloneDX\", SPDX JSON has \"spdxVersion\")"
    )]
    UnknownFormat { path: String, what: String },
    #[error("{path}: malformed {format} document: {source}")]
    Malformed {
        path: String,
        format: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// Reads a CycloneDX or SPDX JSON document. `path` names the file in errors, warnings and
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
    let probe: Probe = serde_json::from_slice(bytes).map_err(|source| SbomError::Json {
        path: path.into(),
        source,
    })?;
    let Probe::Object {
        bom_format,
        spdx_version,
        context,
    } = probe
    else {
        return Err(SbomError::UnknownFormat {
            path: path.into(),
            what: "the top level is not a JSON object".into(),
        });
    };
    if let Some(fmt) = bom_format {
        if fmt != "CycloneDX" {
            return Err(SbomError::UnknownFormat {
                path: path.into(),
                what: format!("\"bomFormat\" is {fmt:?}"),
            });
        }
        let bom: CdxBom = serde_json::from_slice(bytes).map_err(|source| SbomError::Malformed {
            path: path.into(),
            format: "CycloneDX",
            source,
        })?;
        if let Some(v) = &bom.spec_version
            && !v.starts_with("1.")
        {
            return Err(SbomError::Unsupported {
                path: path.into(),
                what: format!("CycloneDX specVersion {v:?}"),
            });
        }
        return Ok(from_cyclonedx(bom, path));
    }
    if let Some(v) = spdx_version {
        if !v.starts_with("SPDX-2.") {
            return Err(SbomError::Unsupported {
                path: path.into(),
                what: format!("spdxVersion {v:?}"),
            });
        }
        let doc: SpdxDoc =
            serde_json::from_slice(bytes).map_err(|source| SbomError::Malformed {
                path: path.into(),
                format: "SPDX",
                source,
            })?;
        return Ok(from_spdx(doc, path));
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

#[derive(Deserialize)]
#[serde(untagged)]
enum Probe {
    Object {
        #[serde(rename = "bomFormat", default)]
        bom_format: Option<String>,
        #[serde(rename = "spdxVersion", default)]
        spdx_version: Option<String>,
        #[serde(rename = "@context", default)]
        context: Option<serde::de::IgnoredAny>,
    },
    Other(serde::de::IgnoredAny),
}

/// `null` or absent -> the default.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxBom {
    #[serde(default)]
    spec_version: Option<String>,
    #[serde(default)]
    metadata: Option<CdxMetadata>,
    #[serde(default, deserialize_with = "nullable")]
    components: Vec<CdxComponent>,
    #[serde(default, deserialize_with = "nullable")]
    dependencies: Vec<CdxDependency>,
}

#[derive(Deserialize)]
struct CdxMetadata {
    #[serde(default)]
    component: Option<CdxComponent>,
}

#[derive(Deserialize, Default)]
struct CdxComponent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(rename = "bom-ref", default)]
    bom_ref: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    licenses: Vec<CdxLicenseChoice>,
    #[serde(default, deserialize_with = "nullable")]
    properties: Vec<CdxProperty>,
    #[serde(default, deserialize_with = "nullable")]
    components: Vec<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxLicenseChoice {
    #[serde(default)]
    license: Option<CdxLicense>,
    #[serde(default)]
    expression: Option<String>,
}

#[derive(Deserialize)]
struct CdxLicense {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct CdxProperty {
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    value: String,
}

#[derive(Deserialize)]
struct CdxDependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn", default, deserialize_with = "nullable")]
    depends_on: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxDoc {
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default)]
    creation_info: Option<SpdxCreation>,
    #[serde(default, deserialize_with = "nullable")]
    document_describes: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    packages: Vec<SpdxPackage>,
    #[serde(default, deserialize_with = "nullable")]
    relationships: Vec<SpdxRelationship>,
    #[serde(default, deserialize_with = "nullable")]
    has_extracted_licensing_infos: Vec<SpdxExtracted>,
}

#[derive(Deserialize)]
struct SpdxCreation {
    #[serde(default, deserialize_with = "nullable")]
    creators: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(rename = "SPDXID", default, deserialize_with = "nullable")]
    spdx_id: String,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    license_concluded: Option<String>,
    #[serde(default)]
    source_info: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    external_refs: Vec<SpdxExternalRef>,
    #[serde(default)]
    primary_package_purpose: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    checksums: Vec<SpdxChecksum>,
    #[serde(default, deserialize_with = "nullable")]
    annotations: Vec<SpdxAnnotation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExternalRef {
    #[serde(default, deserialize_with = "nullable")]
    reference_type: String,
    #[serde(default, deserialize_with = "nullable")]
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxChecksum {
    #[serde(default, deserialize_with = "nullable")]
    algorithm: String,
    #[serde(default, deserialize_with = "nullable")]
    checksum_value: String,
}

#[derive(Deserialize)]
struct SpdxAnnotation {
    #[serde(default, deserialize_with = "nullable")]
    annotator: String,
    #[serde(default, deserialize_with = "nullable")]
    comment: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship {
    #[serde(default, deserialize_with = "nullable")]
    spdx_element_id: String,
    #[serde(default, deserialize_with = "nullable")]
    relationship_type: String,
    #[serde(default, deserialize_with = "nullable")]
    related_spdx_element: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExtracted {
    #[serde(default, deserialize_with = "nullable")]
    license_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    extracted_text: Option<String>,
}

// ---------------------------------------------------------------------------------------
// one format-neutral package record

/// A component / package as both formats describe it, before interpretation.
#[derive(Default)]
struct Raw {
    /// bom-ref or SPDXID, for relationships.
    reference: String,
    /// Component type (CycloneDX) or primary purpose (SPDX), lower case.
    role: String,
    name: String,
    group: Option<String>,
    version: Option<String>,
    purl: Option<String>,
    licenses: Vec<String>,
    /// CycloneDX properties; SPDX annotations and moat comments in the same shape.
    props: Vec<(String, String)>,
    /// SPDX `sourceInfo` (Trivy: `built package from: NAME VERSION`).
    source_info: Option<String>,
}

impl Raw {
    fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    fn props<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.props
            .iter()
            .filter(move |(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    fn is_moat(&self) -> bool {
        self.props
            .iter()
            .any(|(k, _)| k.starts_with("moat:package:"))
    }
}

/// What the whole document tells each package.
struct Context {
    os: Option<OsInfo>,
    layers: Vec<Layer>,
}

fn props_of(list: Vec<CdxProperty>) -> Vec<(String, String)> {
    list.into_iter().map(|p| (p.name, p.value)).collect()
}

// ---------------------------------------------------------------------------------------
// CycloneDX

fn flatten(list: Vec<CdxComponent>, out: &mut Vec<CdxComponent>) {
    for mut c in list {
        let children = std::mem::take(&mut c.components);
        out.push(c);
        flatten(children, out);
    }
}

fn from_cyclonedx(bom: CdxBom, path: &str) -> Inventory {
    let root = bom.metadata.and_then(|m| m.component);
    let mut components = Vec::new();
    flatten(bom.components, &mut components);

    let mut warnings = Vec::new();
    let (mut artifact, root_ref) = match root {
        Some(c) => {
            let r = c.bom_ref.clone();
            (cdx_artifact(c, path), r)
        }
        None => (bare_artifact(path, path), None),
    };

    let mut raws = Vec::new();
    for c in components {
        if c.kind == "operating-system" {
            if artifact.os.is_none() {
                artifact.os = Some(cdx_os(&c));
            }
            continue;
        }
        if c.kind == "container" || (c.kind == "file" && c.purl.is_none()) {
            continue;
        }
        let licenses = c
            .licenses
            .iter()
            .filter_map(|l| {
                l.expression.clone().or_else(|| {
                    l.license
                        .as_ref()
                        .and_then(|x| x.id.clone().or_else(|| x.name.clone()))
                })
            })
            .filter(|l| !l.trim().is_empty())
            .collect();
        raws.push(Raw {
            reference: c.bom_ref.unwrap_or_default(),
            role: c.kind.to_ascii_lowercase(),
            name: c.name,
            group: c.group.filter(|g| !g.is_empty()),
            version: c.version.filter(|v| !v.is_empty()),
            purl: c.purl.filter(|p| !p.is_empty()),
            licenses,
            props: props_of(c.properties),
            source_info: None,
        });
    }

    let edges: Vec<(String, String)> = bom
        .dependencies
        .into_iter()
        .filter(|d| Some(&d.reference) != root_ref.as_ref())
        .flat_map(|d| {
            let from = d.reference;
            d.depends_on.into_iter().map(move |to| (from.clone(), to))
        })
        .collect();
    finish(artifact, raws, edges, path, &mut warnings, true)
}

fn bare_artifact(name: &str, path: &str) -> Artifact {
    Artifact {
        name: if name.trim().is_empty() {
            path.to_string()
        } else {
            name.to_string()
        },
        kind: ArtifactKind::Dir,
        path: path.to_string(),
        repo_tags: vec![],
        manifest_digest: None,
        config_digest: None,
        platform: None,
        os: None,
        layers: vec![],
        config: None,
    }
}

fn is_digest(s: &str) -> bool {
    s.split_once(':').is_some_and(|(algo, hex)| {
        matches!(algo, "sha256" | "sha512")
            && !hex.is_empty()
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn artifact_kind(s: &str) -> Option<ArtifactKind> {
    Some(match s {
        "docker-archive" => ArtifactKind::DockerArchive,
        "oci-archive" => ArtifactKind::OciArchive,
        "oci" => ArtifactKind::Oci,
        "rootfs" => ArtifactKind::Rootfs,
        "dir" => ArtifactKind::Dir,
        _ => return None,
    })
}

fn parse_platform(s: &str) -> Option<Platform> {
    let mut parts = s.split('/');
    let os = parts.next().filter(|x| !x.is_empty())?;
    let architecture = parts.next().filter(|x| !x.is_empty())?;
    Some(Platform {
        os: os.to_string(),
        architecture: architecture.to_string(),
        variant: parts.next().map(str::to_string),
    })
}

fn cdx_artifact(c: CdxComponent, path: &str) -> Artifact {
    let mut a = bare_artifact(&c.name, path);
    let props = props_of(c.properties);
    let get = |n: &str| {
        props
            .iter()
            .find(|(k, v)| k == n && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let moat = props.iter().any(|(k, _)| k.starts_with("moat:artifact:"));
    if moat {
        if let Some(k) = get("moat:artifact:kind").and_then(|k| artifact_kind(&k)) {
            a.kind = k;
        }
        a.platform = get("moat:artifact:platform").and_then(|p| parse_platform(&p));
        a.manifest_digest = get("moat:artifact:manifest_digest");
        a.config_digest = get("moat:artifact:config_digest");
        a.repo_tags = props
            .iter()
            .filter(|(k, _)| k == "moat:artifact:repo_tag")
            .map(|(_, v)| v.clone())
            .collect();
        let mut layers: BTreeMap<usize, Layer> = BTreeMap::new();
        for (k, v) in &props {
            let Some(rest) = k.strip_prefix("moat:layer:") else {
                continue;
            };
            let Some((index, field)) = rest.split_once(':') else {
                continue;
            };
            let Ok(index) = index.parse::<usize>() else {
                continue;
            };
            let l = layers.entry(index).or_insert_with(|| empty_layer(index));
            match field {
                "digest" => l.digest = Some(v.clone()),
                "diff_id" => l.diff_id = Some(v.clone()),
                "media_type" => l.media_type = Some(v.clone()),
                "size" => l.size = v.parse().ok(),
                "created_by" => l.created_by = Some(v.clone()),
                _ => {}
            }
        }
        a.layers = layers.into_values().collect();
        return a;
    }
    // Trivy
    a.layers = props
        .iter()
        .filter(|(k, _)| k == "aquasecurity:trivy:DiffID")
        .enumerate()
        .map(|(i, (_, v))| Layer {
            diff_id: Some(v.clone()),
            ..empty_layer(i)
        })
        .collect();
    a.config_digest = get("aquasecurity:trivy:ImageID").filter(|d| is_digest(d));
    a.manifest_digest = get("aquasecurity:trivy:RepoDigest")
        .and_then(|d| d.rsplit_once('@').map(|(_, d)| d.to_string()))
        .filter(|d| is_digest(d));
    a.repo_tags = props
        .iter()
        .filter(|(k, _)| k == "aquasecurity:trivy:RepoTag")
        .map(|(_, v)| v.clone())
        .collect();
    // Syft (and others): the image digest as the component version
    if a.manifest_digest.is_none()
        && a.config_digest.is_none()
        && let Some(v) = c.version.filter(|v| is_digest(v))
    {
        a.manifest_digest = Some(v);
    }
    a
}

fn empty_layer(index: usize) -> Layer {
    Layer {
        index,
        digest: None,
        diff_id: None,
        media_type: None,
        size: None,
        created_by: None,
    }
}

fn cdx_os(c: &CdxComponent) -> OsInfo {
    let props: Vec<(&str, &str)> = c
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    let get = |n: &str| {
        props
            .iter()
            .find(|(k, v)| *k == n && !v.is_empty())
            .map(|(_, v)| v.to_string())
    };
    let id = normalize_distro(&c.name);
    let version = c.version.clone().filter(|v| !v.is_empty());
    let name = c
        .description
        .clone()
        .or_else(|| get("syft:distro:prettyName"))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| match &version {
            Some(v) => format!("{id} {v}"),
            None => id.clone(),
        });
    OsInfo {
        family: get("moat:os:family").unwrap_or_else(|| family_of(&id)),
        codename: get("moat:os:codename").or_else(|| get("syft:distro:versionCodename")),
        distroless: get("moat:os:distroless").is_some_and(|v| v == "true"),
        id,
        version,
        name,
    }
}

// ---------------------------------------------------------------------------------------
// SPDX

fn from_spdx(doc: SpdxDoc, path: &str) -> Inventory {
    let moat = doc
        .creation_info
        .as_ref()
        .is_some_and(|c| c.creators.iter().any(|c| c.starts_with("Tool: moat-")));
    let trivy = doc
        .creation_info
        .as_ref()
        .is_some_and(|c| c.creators.iter().any(|c| c.starts_with("Tool: trivy")));
    let mut described: HashSet<String> = doc.document_describes.iter().cloned().collect();
    for r in &doc.relationships {
        if r.spdx_element_id == "SPDXRef-DOCUMENT" && r.relationship_type == "DESCRIBES" {
            described.insert(r.related_spdx_element.clone());
        }
        if r.related_spdx_element == "SPDXRef-DOCUMENT" && r.relationship_type == "DESCRIBED_BY" {
            described.insert(r.spdx_element_id.clone());
        }
    }
    let extracted: HashMap<&str, String> = doc
        .has_extracted_licensing_infos
        .iter()
        .filter_map(|e| {
            let text = e
                .name
                .clone()
                .filter(|n| !n.is_empty() && n != "NOASSERTION")
                .or_else(|| e.extracted_text.clone())?;
            Some((e.license_id.as_str(), text))
        })
        .collect();

    let mut artifact: Option<Artifact> = None;
    let mut os: Option<OsInfo> = None;
    let mut raws = Vec::new();
    for p in doc.packages {
        let purpose = p
            .primary_package_purpose
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if described.contains(&p.spdx_id) && artifact.is_none() {
            artifact = Some(spdx_artifact(&p, path, trivy));
            continue;
        }
        if purpose == "operating-system" {
            if os.is_none() {
                let id = normalize_distro(&p.name);
                let version = p.version_info.clone().filter(|v| !v.is_empty());
                os = Some(OsInfo {
                    family: family_of(&id),
                    codename: None,
                    distroless: false,
                    name: p
                        .description
                        .clone()
                        .filter(|d| !d.is_empty())
                        .unwrap_or_else(|| match &version {
                            Some(v) => format!("{id} {v}"),
                            None => id.clone(),
                        }),
                    id,
                    version,
                });
            }
            continue;
        }
        if purpose == "container" {
            continue;
        }
        let purl = p
            .external_refs
            .iter()
            .find(|r| r.reference_type == "purl" && !r.reference_locator.is_empty())
            .map(|r| r.reference_locator.clone());
        let license = p
            .license_declared
            .clone()
            .filter(|l| !matches!(l.as_str(), "" | "NOASSERTION" | "NONE"))
            .or_else(|| {
                p.license_concluded
                    .clone()
                    .filter(|l| !matches!(l.as_str(), "" | "NOASSERTION" | "NONE"))
            });
        let licenses = license
            .map(|l| extracted.get(l.as_str()).cloned().unwrap_or(l))
            .into_iter()
            .collect();
        let mut props = Vec::new();
        if trivy {
            for a in &p.annotations {
                if a.annotator.starts_with("Tool: trivy")
                    && let Some((k, v)) = a.comment.split_once(": ")
                {
                    props.push((format!("aquasecurity:trivy:{k}"), v.to_string()));
                }
            }
        }
        if moat {
            moat_spdx_props(&p, &mut props);
        }
        raws.push(Raw {
            reference: p.spdx_id,
            role: if moat && purpose == "application" {
                "application".into()
            } else {
                "library".into()
            },
            name: p.name,
            group: None,
            version: p.version_info.filter(|v| !v.is_empty()),
            purl,
            licenses,
            props,
            source_info: p.source_info,
        });
    }
    let mut artifact = artifact.unwrap_or_else(|| bare_artifact(&doc.name, path));
    if artifact.os.is_none() {
        artifact.os = os;
    }
    let mut edges = Vec::new();
    for r in doc.relationships {
        match r.relationship_type.as_str() {
            "DEPENDS_ON" => edges.push((r.spdx_element_id, r.related_spdx_element)),
            "DEPENDENCY_OF" => edges.push((r.related_spdx_element, r.spdx_element_id)),
            _ => {}
        }
    }
    let mut warnings = Vec::new();
    finish(artifact, raws, edges, path, &mut warnings, false)
}

fn spdx_artifact(p: &SpdxPackage, path: &str, trivy: bool) -> Artifact {
    let mut a = bare_artifact(&p.name, path);
    let checksum = p.checksums.iter().find_map(|c| match c.algorithm.as_str() {
        "SHA256" => Some(format!("sha256:{}", c.checksum_value)),
        "SHA512" => Some(format!("sha512:{}", c.checksum_value)),
        _ => None,
    });
    a.manifest_digest = p
        .version_info
        .clone()
        .filter(|v| is_digest(v))
        .or(checksum)
        .filter(|v| is_digest(v));
    if trivy {
        for an in &p.annotations {
            if let Some(d) = an.comment.strip_prefix("DiffID: ") {
                let i = a.layers.len();
                a.layers.push(Layer {
                    diff_id: Some(d.to_string()),
                    ..empty_layer(i)
                });
            }
            if let Some(d) = an.comment.strip_prefix("ImageID: ") {
                a.config_digest = Some(d.to_string()).filter(|d| is_digest(d));
            }
        }
    }
    a
}

/// moat's SPDX packages carry the facts CycloneDX has as properties in `comment` (`source
/// package: glibc 2.36-9; arch: amd64; ecosystem: Debian:12; development dependency`) and
/// `sourceInfo` (`found in layer 0 (diff_id ..., created by: ...) at /var/lib/dpkg/status`).
fn moat_spdx_props(p: &SpdxPackage, props: &mut Vec<(String, String)>) {
    props.push(("moat:package:spdx".into(), String::new()));
    if let Some(c) = &p.comment {
        for part in c.split("; ") {
            if let Some(src) = part.strip_prefix("source package: ") {
                match src.split_once(' ') {
                    Some((n, v)) => {
                        props.push(("moat:package:source_name".into(), n.into()));
                        props.push(("moat:package:source_version".into(), v.into()));
                    }
                    None => props.push(("moat:package:source_name".into(), src.into())),
                }
            } else if let Some(a) = part.strip_prefix("arch: ") {
                props.push(("moat:package:arch".into(), a.into()));
            } else if let Some(e) = part.strip_prefix("ecosystem: ") {
                props.push(("moat:package:ecosystem".into(), e.into()));
            } else if part == "development dependency" {
                props.push(("moat:package:dev".into(), "true".into()));
            }
        }
    }
    if let Some(info) = &p.source_info {
        let mut rest = info.as_str();
        if let Some(r) = rest.strip_prefix("found in layer ") {
            let digits: String = r.chars().take_while(|c| c.is_ascii_digit()).collect();
            props.push(("moat:package:layer".into(), digits.clone()));
            rest = &r[digits.len()..];
            // the layer detail in parentheses may itself contain " at "; paths follow the
            // last ") at "
            rest = match rest.strip_prefix(" (") {
                Some(_) => rest.rsplit_once(") at ").map_or("", |(_, p)| p),
                None => rest.strip_prefix(" at ").unwrap_or(""),
            };
        } else {
            rest = rest.strip_prefix("found at ").unwrap_or("");
        }
        for path in rest.split(", ").filter(|p| !p.is_empty()) {
            props.push(("moat:package:location".into(), path.into()));
        }
    }
    // the type is the purl's; a marker that this is moat's own package record
    props.push(("moat:package:type".into(), String::new()));
}

// ---------------------------------------------------------------------------------------
// interpretation, shared

fn finish(
    mut artifact: Artifact,
    raws: Vec<Raw>,
    edges: Vec<(String, String)>,
    path: &str,
    warnings: &mut Vec<Diagnostic>,
    keep_moat_ids: bool,
) -> Inventory {
    if artifact.os.is_none() {
        artifact.os = os_from_qualifiers(&raws);
    }
    let ctx = Context {
        os: artifact.os.clone(),
        layers: artifact.layers.clone(),
    };
    let mut used: HashSet<String> = HashSet::new();
    let mut by_ref: HashMap<String, String> = HashMap::new();
    let mut packages = Vec::with_capacity(raws.len());
    for raw in &raws {
        let Some(mut p) = package(raw, &ctx, path, warnings) else {
            continue;
        };
        let want = if keep_moat_ids && raw.is_moat() && !raw.reference.is_empty() {
            raw.reference.clone()
        } else {
            p.id.clone()
        };
        p.id = crate::unique(&want, &mut used, "#");
        if !raw.reference.is_empty() {
            by_ref.entry(raw.reference.clone()).or_insert(p.id.clone());
        }
        packages.push(p);
    }
    let relationships: BTreeSet<Relationship> = edges
        .into_iter()
        .filter_map(|(from, to)| {
            let (from, to) = (by_ref.get(&from)?, by_ref.get(&to)?);
            (from != to).then(|| Relationship {
                from: from.clone(),
                to: to.clone(),
                kind: RelationshipKind::DependsOn,
            })
        })
        .collect();
    Inventory {
        schema_version: SCHEMA_VERSION.into(),
        tool: Tool::default(),
        artifact,
        packages,
        relationships: relationships.into_iter().collect(),
        diagnostics: std::mem::take(warnings),
    }
}

/// The `distro` qualifier most OS packages carry, as an [`OsInfo`].
fn os_from_qualifiers(raws: &[Raw]) -> Option<OsInfo> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in raws {
        if let Some(p) = r.purl.as_deref().and_then(|p| Purl::parse(p).ok())
            && matches!(p.ty.as_str(), "deb" | "apk" | "rpm")
            && let Some(d) = p.qualifiers.get("distro")
        {
            *counts.entry(d.clone()).or_default() += 1;
        }
    }
    let (distro, _) = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    let (id, version) = split_distro(&distro);
    Some(OsInfo {
        family: family_of(&id),
        codename: None,
        name: match &version {
            Some(v) => format!("{id} {v}"),
            None => id.clone(),
        },
        id,
        version,
        distroless: false,
    })
}

/// `debian-12.4` -> (`debian`, `12.4`); `opensuse-leap-15.5` -> (`opensuse-leap`, `15.5`);
/// `wolfi` -> (`wolfi`, none); Trivy's family names are turned into os-release ids.
fn split_distro(q: &str) -> (String, Option<String>) {
    let q = q.trim();
    let cut = q
        .char_indices()
        .find(|&(i, c)| c == '-' && q[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i);
    match cut {
        Some(i) => {
            let version = q[i + 1..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            (normalize_distro(&q[..i]), Some(version))
        }
        None => (normalize_distro(q), None),
    }
}

/// os-release ids for the names other tools use (Trivy writes families: `redhat`,
/// `amazon`, `oracle`, `alma`, `cbl-mariner`, `opensuse.leap`).
fn normalize_distro(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    match id.as_str() {
        "redhat" => "rhel".into(),
        "amazon" => "amzn".into(),
        "oracle" => "ol".into(),
        "alma" => "almalinux".into(),
        "cbl-mariner" => "mariner".into(),
        "opensuse.leap" | "opensuse leap" => "opensuse-leap".into(),
        "opensuse.tumbleweed" => "opensuse-tumbleweed".into(),
        "suse linux enterprise server" | "sle" => "sles".into(),
        _ => id,
    }
}

fn family_of(id: &str) -> String {
    match id {
        "debian" | "ubuntu" => "debian",
        "alpine" => "alpine",
        "rhel" | "centos" | "rocky" | "almalinux" | "fedora" | "ol" | "amzn" => "redhat",
        "sles" | "opensuse-leap" | "opensuse-tumbleweed" => "suse",
        "wolfi" | "chainguard" => "wolfi",
        other => other,
    }
    .to_string()
}

/// The OSV ecosystem of a language purl type.
fn language_ecosystem(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "pypi" => "PyPI",
        "npm" => "npm",
        "cargo" => "crates.io",
        "golang" => "Go",
        "maven" => "Maven",
        "gem" => "RubyGems",
        "composer" => "Packagist",
        "nuget" => "NuGet",
        "hex" => "Hex",
        "pub" => "Pub",
        "conan" => "ConanCenter",
        _ => return None,
    })
}

/// The ecosystem's own form of a package name from its purl.
fn language_name(p: &Purl) -> String {
    match (p.ty.as_str(), &p.namespace) {
        ("maven", Some(ns)) => format!("{ns}:{}", p.name),
        ("golang" | "npm" | "composer", Some(ns)) => format!("{ns}/{}", p.name),
        _ => p.name.clone(),
    }
}

/// Splits `glibc-2.34-60.el9.src.rpm` into (`glibc`, `2.34-60.el9`).
fn split_source_rpm(s: &str) -> Option<(String, String)> {
    let base = s
        .strip_suffix(".src.rpm")
        .or_else(|| s.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some((name.to_string(), format!("{version}-{release}")))
}

fn package(
    raw: &Raw,
    ctx: &Context,
    path: &str,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Package> {
    let moat = raw.is_moat();
    let purl = match raw.purl.as_deref().map(Purl::parse) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            warnings.push(Diagnostic {
                code: Code::SbomComponent,
                line: None,
                message: format!(
                    "component {:?}: {e}; read without a purl",
                    if raw.name.is_empty() {
                        &raw.reference
                    } else {
                        &raw.name
                    }
                ),
                path: Some(path.to_string()),
                layer: None,
            });
            None
        }
        None => None,
    };
    // containers of packages (Trivy's lockfile "applications") have neither
    if purl.is_none() && raw.version.is_none() && !moat {
        return None;
    }
    if raw.name.trim().is_empty() && purl.is_none() {
        return None;
    }
    let kind = raw
        .prop("moat:package:type")
        .map(str::to_string)
        .or_else(|| purl.as_ref().map(|p| p.ty.clone()))
        .or_else(|| raw.prop("syft:package:type").map(str::to_string))
        .unwrap_or_else(|| "generic".to_string());
    let ty = purl
        .as_ref()
        .map_or(kind.as_str(), |p| p.ty.as_str())
        .to_string();
    let qual = |k: &str| purl.as_ref().and_then(|p| p.qualifiers.get(k)).cloned();
    let os_type = matches!(ty.as_str(), "deb" | "apk" | "rpm");

    let name = if moat || (raw.group.is_none() && !raw.name.is_empty() && os_type) {
        raw.name.clone()
    } else {
        match &purl {
            // the name as written where the purl has no namespace to add (a purl may
            // normalise it: PyPI `Django` is `pkg:pypi/django`)
            Some(p) if p.namespace.is_none() && !raw.name.is_empty() && raw.group.is_none() => {
                raw.name.clone()
            }
            Some(p) if language_ecosystem(&p.ty).is_some() => language_name(p),
            Some(p) if raw.name.is_empty() => p.name.clone(),
            _ => match &raw.group {
                Some(g) => format!("{g}:{}", raw.name),
                None => raw.name.clone(),
            },
        }
    };

    // version, with the epoch put back where a tool moved it into a qualifier
    let mut version = raw
        .version
        .clone()
        .or_else(|| purl.as_ref().and_then(|p| p.version.clone()))
        .unwrap_or_default();
    if !moat
        && matches!(ty.as_str(), "deb" | "rpm")
        && let Some(e) =
            qual("epoch").filter(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
        && !version.contains(':')
        && !version.is_empty()
    {
        version = format!("{e}:{version}");
    }
    let epoch = if let Some(e) = raw.prop("moat:package:epoch") {
        e.parse().ok()
    } else if matches!(ty.as_str(), "deb" | "rpm") {
        version.split_once(':').and_then(|(e, _)| e.parse().ok())
    } else {
        None
    };

    let arch = if moat {
        raw.prop("moat:package:arch").map(str::to_string)
    } else {
        qual("arch").filter(|a| !a.is_empty())
    };

    let ecosystem = if moat {
        raw.prop("moat:package:ecosystem").map(str::to_string)
    } else if os_type {
        distro_ecosystem(purl.as_ref(), ctx)
    } else {
        purl.as_ref()
            .and_then(|p| language_ecosystem(&p.ty))
            .map(str::to_string)
    };

    let (source_name, source_version) = if moat {
        (
            raw.prop("moat:package:source_name").map(str::to_string),
            raw.prop("moat:package:source_version").map(str::to_string),
        )
    } else if os_type {
        source_of(raw, &ty, &name, &version, qual("upstream"))
    } else {
        (None, None)
    };

    let layer = if moat {
        raw.prop("moat:package:layer").and_then(|l| l.parse().ok())
    } else {
        raw.prop("aquasecurity:trivy:LayerDiffID").and_then(|d| {
            ctx.layers
                .iter()
                .find(|l| l.diff_id.as_deref() == Some(d))
                .map(|l| l.index)
        })
    };

    let mut locations: Vec<Location> = Vec::new();
    let mut push_loc = |p: &str| {
        if !p.is_empty() && !locations.iter().any(|l| l.path == p) {
            locations.push(Location {
                path: p.to_string(),
                layer,
            });
        }
    };
    if moat {
        raw.props("moat:package:location").for_each(&mut push_loc);
    } else {
        raw.props("aquasecurity:trivy:FilePath")
            .for_each(&mut push_loc);
        for (k, v) in &raw.props {
            if k.starts_with("syft:location:") && k.ends_with(":path") {
                push_loc(v);
            }
        }
    }

    let metadata: BTreeMap<String, String> = raw
        .props
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("moat:package:metadata:")
                .map(|k| (k.to_string(), v.clone()))
        })
        .collect();

    let id = {
        let arch_suffix = match (ty.as_str(), &arch) {
            ("deb", Some(a)) => format!(":{a}"),
            ("rpm", Some(a)) => format!(".{a}"),
            _ => String::new(),
        };
        format!("{kind}:{name}@{version}{arch_suffix}")
    };

    Some(Package {
        id,
        name,
        version,
        kind,
        purl: purl.map(|p| p.to_string()).unwrap_or_default(),
        ecosystem,
        arch,
        epoch,
        source_name,
        source_version,
        licenses: raw.licenses.clone(),
        layer,
        locations,
        dev: moat && raw.prop("moat:package:dev") == Some("true"),
        application: moat && raw.role == "application",
        file_count: raw
            .prop("moat:package:file_count")
            .and_then(|n| n.parse().ok()),
        files: vec![],
        metadata,
    })
}

/// The ecosystem of an OS package: its `distro` qualifier, else the document's OS when the
/// purl's namespace is that OS (or its family).
fn distro_ecosystem(purl: Option<&Purl>, ctx: &Context) -> Option<String> {
    let p = purl?;
    if let Some(d) = p.qualifiers.get("distro") {
        // Trivy writes Alpine's qualifier as the bare version (`distro=3.19.1`)
        let (id, version) = match (split_distro(d), &p.namespace) {
            ((_, None), Some(ns)) if d.starts_with(|c: char| c.is_ascii_digit()) => {
                (normalize_distro(ns), Some(d.clone()))
            }
            (split, _) => split,
        };
        if let Some(e) = moat_model::os_ecosystem(&id, version.as_deref()) {
            return Some(e);
        }
    }
    let os = ctx.os.as_ref()?;
    let ns = p.namespace.as_deref().map(normalize_distro);
    let matches = match &ns {
        None => true,
        Some(ns) => ns == &os.id || ns == &os.family,
    };
    if !matches {
        return None;
    }
    moat_model::os_ecosystem(&os.id, os.version.as_deref())
}

/// Source package (name, version) of an OS package from whichever place the tool put it.
fn source_of(
    raw: &Raw,
    ty: &str,
    name: &str,
    version: &str,
    upstream: Option<String>,
) -> (Option<String>, Option<String>) {
    let own_version = Some(version.to_string()).filter(|v| !v.is_empty());
    // Trivy
    if let Some(src) = raw.prop("aquasecurity:trivy:SrcName") {
        let v = raw.prop("aquasecurity:trivy:SrcVersion").map(|v| {
            let mut s = v.to_string();
            if let Some(rel) = raw.prop("aquasecurity:trivy:SrcRelease") {
                s = format!("{s}-{rel}");
            }
            if let Some(e) = raw
                .prop("aquasecurity:trivy:SrcEpoch")
                .filter(|e| *e != "0")
            {
                s = format!("{e}:{s}");
            }
            s
        });
        return (Some(src.to_string()), v.or(own_version));
    }
    // Syft
    if let Some(srpm) = raw.prop("syft:metadata:sourceRpm")
        && let Some((n, v)) = split_source_rpm(srpm)
    {
        return (Some(n), Some(v));
    }
    if let Some(src) = raw
        .prop("syft:metadata:source")
        .or_else(|| raw.prop("syft:metadata:originPackage"))
    {
        let v = raw
            .prop("syft:metadata:sourceVersion")
            .map(str::to_string)
            .or(own_version);
        return (Some(src.to_string()), v);
    }
    // the purl
    if let Some(up) = upstream.filter(|u| !u.is_empty()) {
        if ty == "rpm"
            && let Some((n, v)) = split_source_rpm(&up)
        {
            return (Some(n), Some(v));
        }
        return match up.split_once('@') {
            Some((n, v)) if !v.is_empty() => (Some(n.to_string()), Some(v.to_string())),
            Some((n, _)) => (Some(n.to_string()), own_version),
            None => (Some(up), own_version),
        };
    }
    // Trivy's SPDX
    if let Some(info) = raw
        .source_info
        .as_deref()
        .and_then(|s| s.strip_prefix("built package from: "))
    {
        let mut parts = info.split_whitespace();
        if let Some(n) = parts.next() {
            let v = parts.next().map(str::to_string).or(own_version);
            return (Some(n.to_string()), v);
        }
    }
    // Debian and Alpine packages without a named source are their own source
    if matches!(ty, "deb" | "apk") {
        return (Some(name.to_string()), own_version);
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distro_qualifiers() {
        assert_eq!(
            split_distro("debian-12.4"),
            ("debian".into(), Some("12.4".into()))
        );
        assert_eq!(
            split_distro("opensuse-leap-15.5"),
            ("opensuse-leap".into(), Some("15.5".into()))
        );
        assert_eq!(
            split_distro("redhat-9.3"),
            ("rhel".into(), Some("9.3".into()))
        );
        assert_eq!(
            split_distro("amazon-2 (Karoo)"),
            ("amzn".into(), Some("2".into()))
        );
        assert_eq!(split_distro("wolfi"), ("wolfi".into(), None));
        assert_eq!(
            moat_model::os_ecosystem("debian", Some("12.15")).as_deref(),
            Some("Debian:12")
        );
        assert_eq!(
            moat_model::os_ecosystem("alpine", Some("3.19.1")).as_deref(),
            Some("Alpine:v3.19")
        );
        assert_eq!(
            moat_model::os_ecosystem("ubuntu", Some("22.04")).as_deref(),
            Some("Ubuntu:22.04")
        );
        assert_eq!(
            moat_model::os_ecosystem("rhel", Some("9.3")).as_deref(),
            Some("Red Hat:9")
        );
    }

    #[test]
    fn language_names() {
        let p = Purl::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1").unwrap();
        assert_eq!(language_name(&p), "org.apache.logging.log4j:log4j-core");
        let p = Purl::parse("pkg:golang/golang.org/x/net@v0.1.0").unwrap();
        assert_eq!(language_name(&p), "golang.org/x/net");
        let p = Purl::parse("pkg:npm/%40babel/core@7.0.0").unwrap();
        assert_eq!(language_name(&p), "@babel/core");
    }
}
