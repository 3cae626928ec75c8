//! CycloneDX JSON in: the typed subset moat reads (unknown fields ignored, `null` lists
//! empty), turned into format-neutral records and the artifact.
//!
//! The artifact is `metadata.component`: moat's `moat:artifact:*` / `moat:layer:*`
//! properties restore it exactly; Trivy's `aquasecurity:trivy:DiffID` / `ImageID` /
//! `RepoDigest` / `RepoTag` give layers and digests; other tools' image digest is the
//! component's version. Nested components are flattened; `operating-system` components
//! give the OS, `container`s and purl-less `file`s are not packages.
//!
//! The `components` and `dependencies` lists are read one element at a time ([`Records`],
//! [`Deps`]): each component becomes a record (or the OS) as soon as it is read, each
//! dependency its edges, so a document of a million components is never held in its typed
//! form beside the records made of it.

use super::distro::os_info;
use super::{
    Edges, Raw, SbomError, bare_artifact, empty_layer, finish, is_digest, nullable, read_list,
};
use moat_model::{Artifact, ArtifactKind, Interner, Inventory, Layer, OsInfo, Platform};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// Parses a document whose `bomFormat` is `CycloneDX`.
pub(super) fn read(bytes: &[u8], path: &str) -> Result<Inventory, SbomError> {
    let bom: CdxBom = serde_json::from_slice(bytes).map_err(|cause| SbomError::Malformed {
        path: path.into(),
        format: "CycloneDX",
        cause,
    })?;
    if let Some(v) = &bom.spec_version
        && !v.starts_with("1.")
    {
        return Err(SbomError::Unsupported {
            path: path.into(),
            what: format!("CycloneDX specVersion {v:?}"),
        });
    }
    Ok(from_cyclonedx(bom, path))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxBom {
    #[serde(default)]
    spec_version: Option<String>,
    #[serde(default)]
    metadata: Option<CdxMetadata>,
    #[serde(default)]
    components: Records,
    #[serde(default)]
    dependencies: Deps,
}

/// The components of a document, read one at a time (nested ones flattened, in document
/// order): the records of its packages, and the first `operating-system` component.
#[derive(Default)]
struct Records {
    raws: Vec<Raw>,
    os: Option<OsInfo>,
    strings: Interner,
}

impl Records {
    /// Takes in a component and its nested ones (see the module docs).
    fn add(&mut self, mut c: CdxComponent) {
        let children = std::mem::take(&mut c.components);
        self.add_one(c);
        for child in children {
            self.add(child);
        }
    }

    fn add_one(&mut self, c: CdxComponent) {
        if c.kind == "operating-system" {
            if self.os.is_none() {
                self.os = Some(cdx_os(&c));
            }
            return;
        }
        if c.kind == "container" || (c.kind == "file" && c.purl.is_none()) {
            return;
        }
        let strings = &mut self.strings;
        let licenses = c
            .licenses
            .iter()
            .filter_map(|l| {
                l.expression.as_deref().or_else(|| {
                    l.license
                        .as_ref()
                        .and_then(|x| x.id.as_deref().or(x.name.as_deref()))
                })
            })
            .filter(|l| !l.trim().is_empty())
            .map(|l| strings.get(l))
            .collect();
        let role = strings.get(&c.kind.to_ascii_lowercase());
        self.raws.push(Raw {
            reference: c.bom_ref.unwrap_or_default(),
            role,
            name: c.name,
            group: c.group.filter(|g| !g.is_empty()),
            version: c.version.filter(|v| !v.is_empty()),
            purl: c.purl.filter(|p| !p.is_empty()),
            licenses,
            props: props_of(c.properties),
            source_info: None,
        });
    }
}

impl<'de> Deserialize<'de> for Records {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Records, D::Error> {
        read_list(d, Records::add)
    }
}

/// The `dependencies` of a document, read one at a time into edges.
#[derive(Default)]
struct Deps(Edges);

impl<'de> Deserialize<'de> for Deps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Deps, D::Error> {
        read_list(d, |deps: &mut Deps, dep: CdxDependency| {
            for to in &dep.depends_on {
                deps.0.push(&dep.reference, to);
            }
        })
    }
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

fn props_of(list: Vec<CdxProperty>) -> Vec<(String, String)> {
    list.into_iter().map(|p| (p.name, p.value)).collect()
}

fn from_cyclonedx(bom: CdxBom, path: &str) -> Inventory {
    let root = bom.metadata.and_then(|m| m.component);
    let (mut artifact, root_ref) = match root {
        Some(c) => {
            let r = c.bom_ref.clone();
            (cdx_artifact(c, path), r)
        }
        None => (bare_artifact(path, path), None),
    };
    let Records { raws, os, .. } = bom.components;
    if artifact.os.is_none() {
        artifact.os = os;
    }
    let mut edges = bom.dependencies.0;
    // the subject's own dependencies are not edges between packages
    if let Some(root) = &root_ref {
        edges.pairs.retain(|(from, _)| from != root);
    }
    edges.pairs.shrink_to_fit();
    finish(artifact, raws, edges, path, true)
}

fn artifact_kind(s: &str) -> Option<ArtifactKind> {
    Some(match s {
        "docker-archive" => ArtifactKind::DockerArchive,
        "oci-archive" => ArtifactKind::OciArchive,
        "oci" => ArtifactKind::Oci,
        "rootfs" => ArtifactKind::Rootfs,
        "dir" => ArtifactKind::Dir,
        "registry" => ArtifactKind::Registry,
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

/// The OS of an `operating-system` component: name and version, the description (or
/// Syft's pretty name), moat's family, codename and distroless marker.
fn cdx_os(c: &CdxComponent) -> OsInfo {
    let get = |n: &str| {
        c.properties
            .iter()
            .find(|p| p.name == n && !p.value.is_empty())
            .map(|p| p.value.clone())
    };
    let pretty = c
        .description
        .clone()
        .filter(|d| !d.is_empty())
        .or_else(|| get("syft:distro:prettyName"));
    let mut os = os_info(&c.name, c.version.clone(), pretty);
    if let Some(family) = get("moat:os:family") {
        os.family = family;
    }
    os.codename = get("moat:os:codename").or_else(|| get("syft:distro:versionCodename"));
    os.distroless = get("moat:os:distroless").is_some_and(|v| v == "true");
    os
}
