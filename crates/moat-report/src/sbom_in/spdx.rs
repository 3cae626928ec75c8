//! SPDX 2.x JSON in: the typed subset moat reads, turned into format-neutral records.
//!
//! The artifact is the package the document DESCRIBES (directly, through `DESCRIBES` /
//! `DESCRIBED_BY` relationships); an `OPERATING-SYSTEM` package gives the OS. Trivy's
//! annotations (`Tool: trivy`) become the same properties its CycloneDX carries; moat's
//! own documents (`Tool: moat-`) carry the facts CycloneDX has as properties in `comment`
//! and `sourceInfo`, which are read back. Licence refs are resolved through
//! `hasExtractedLicensingInfos`. `DEPENDS_ON` / `DEPENDENCY_OF` become edges.
//!
//! What a package means depends on parts of the document that may come after it (the
//! creators, the licence refs, what it DESCRIBES), so the packages are read whole, but
//! lean: of the external refs only the purl is kept. The relationships are read one at a
//! time into edges ([`Rels`]).

use super::distro::os_info;
use super::{
    Edges, Raw, SbomError, bare_artifact, empty_layer, finish, is_digest, nullable, read_list,
};
use moat_model::{Artifact, Interner, Inventory, Layer, OsInfo};
use serde::{Deserialize, Deserializer};
use std::collections::{HashMap, HashSet};

/// Parses a document with an `SPDX-2.x` `spdxVersion`.
pub(super) fn read(bytes: &[u8], path: &str) -> Result<Inventory, SbomError> {
    let doc: SpdxDoc = serde_json::from_slice(bytes).map_err(|cause| SbomError::Malformed {
        path: path.into(),
        format: "SPDX",
        cause,
    })?;
    Ok(from_spdx(doc, path))
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
    #[serde(default)]
    relationships: Rels,
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
    /// The first purl of the external refs (the others are not kept).
    #[serde(rename = "externalRefs", default, deserialize_with = "first_purl")]
    purl: Option<String>,
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

fn first_purl<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    read_list(d, |purl: &mut Option<String>, r: SpdxExternalRef| {
        if purl.is_none() && r.reference_type == "purl" && !r.reference_locator.is_empty() {
            *purl = Some(r.reference_locator);
        }
    })
}

/// The relationships of a document, read one at a time: what the document DESCRIBES, and
/// the dependency edges.
#[derive(Default)]
struct Rels {
    described: Vec<String>,
    edges: Edges,
}

impl<'de> Deserialize<'de> for Rels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rels, D::Error> {
        read_list(d, |rels: &mut Rels, r: SpdxRelationship| {
            let (from, to) = (r.spdx_element_id, r.related_spdx_element);
            match r.relationship_type.as_str() {
                "DESCRIBES" if from == "SPDXRef-DOCUMENT" => rels.described.push(to),
                "DESCRIBED_BY" if to == "SPDXRef-DOCUMENT" => rels.described.push(from),
                "DEPENDS_ON" => rels.edges.push(&from, &to),
                "DEPENDENCY_OF" => rels.edges.push(&to, &from),
                _ => {}
            }
        })
    }
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

fn from_spdx(doc: SpdxDoc, path: &str) -> Inventory {
    let moat = doc
        .creation_info
        .as_ref()
        .is_some_and(|c| c.creators.iter().any(|c| c.starts_with("Tool: moat-")));
    let trivy = doc
        .creation_info
        .as_ref()
        .is_some_and(|c| c.creators.iter().any(|c| c.starts_with("Tool: trivy")));
    let Rels {
        described: more,
        edges,
    } = doc.relationships;
    let mut described: HashSet<String> = doc.document_describes.into_iter().collect();
    described.extend(more);
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
    let mut strings = Interner::new();
    let mut raws = Vec::with_capacity(doc.packages.len());
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
                os = Some(os_info(
                    &p.name,
                    p.version_info.clone(),
                    p.description.clone(),
                ));
            }
            continue;
        }
        if purpose == "container" {
            continue;
        }
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
            .map(|l| strings.get(extracted.get(l.as_str()).unwrap_or(&l)))
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
            role: strings.get(if moat && purpose == "application" {
                "application"
            } else {
                "library"
            }),
            name: p.name,
            group: None,
            version: p.version_info.filter(|v| !v.is_empty()),
            purl: p.purl,
            licenses,
            props,
            source_info: p.source_info,
        });
    }
    let mut artifact = artifact.unwrap_or_else(|| bare_artifact(&doc.name, path));
    if artifact.os.is_none() {
        artifact.os = os;
    }
    finish(artifact, raws, edges, path, false)
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
