//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>): the subset moat emits.
//!
//! The document DESCRIBES one package for the scanned artifact (purpose `CONTAINER` for
//! images, `FILE` for a root filesystem, `APPLICATION` for a project directory), which
//! CONTAINS an `OPERATING-SYSTEM` package when the OS is known and every found package
//! (`LIBRARY`); package-to-package edges are DEPENDS_ON. Files are not analysed, so
//! `filesAnalyzed` is false and concluded licences are NOASSERTION; the declared licence
//! is the AND of the package's licence strings (see [`crate::license`]).

use crate::license::{Lic, LicenseRefs, classify, needs_parens};
use crate::{
    Prepared, RenderOptions, document_uuid, image_purl, layer_of, sanitize_id, valid_purl,
};
use moat_model::{ArtifactKind, Inventory, Package};
use serde::Serialize;
use std::collections::HashSet;

/// Where document namespaces live. Nothing is served there: SPDX only needs a unique URI.
const NAMESPACE_BASE: &str = "https://example.invalid/moat/spdx";
const NOASSERTION: &str = "NOASSERTION";
const ARTIFACT_ID: &str = "SPDXRef-Artifact";
const OS_ID: &str = "SPDXRef-OperatingSystem";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
    license_list_version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: &'static str,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
}

impl SpdxPackage {
    fn new(name: String, spdx_id: String, purpose: &'static str) -> SpdxPackage {
        SpdxPackage {
            name,
            spdx_id,
            version_info: None,
            supplier: NOASSERTION,
            download_location: NOASSERTION,
            files_analyzed: false,
            checksums: Vec::new(),
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION.to_string(),
            copyright_text: NOASSERTION,
            source_info: None,
            description: None,
            comment: None,
            external_refs: Vec::new(),
            primary_package_purpose: purpose,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
    comment: &'static str,
}

fn rel(from: &str, kind: &'static str, to: &str) -> Relationship {
    Relationship {
        spdx_element_id: from.to_string(),
        relationship_type: kind,
        related_spdx_element: to.to_string(),
    }
}

fn purl_ref(purl: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl,
    }
}

pub(crate) fn build(inv: &Inventory, o: &RenderOptions) -> Document {
    let created = crate::time::normalize(&o.timestamp);
    let prepared = Prepared::new(inv);
    let art = &inv.artifact;
    let uuid = document_uuid(inv, &created);
    let name = if art.name.trim().is_empty() {
        "unknown".to_string()
    } else {
        art.name.clone()
    };

    let mut packages = Vec::with_capacity(prepared.packages.len() + 2);
    let mut relationships = Vec::with_capacity(prepared.packages.len() + 2);
    relationships.push(rel("SPDXRef-DOCUMENT", "DESCRIBES", ARTIFACT_ID));

    let purpose = match art.kind {
        ArtifactKind::Rootfs => "FILE",
        ArtifactKind::Dir | ArtifactKind::Git => "APPLICATION",
        _ => "CONTAINER",
    };
    let mut image = SpdxPackage::new(name.clone(), ARTIFACT_ID.to_string(), purpose);
    image.version_info = art.digest().map(str::to_string);
    image.checksums = art.digest().and_then(checksum).into_iter().collect();
    image.external_refs = image_purl(art).map(purl_ref).into_iter().collect();
    if !art.repo_tags.is_empty() {
        image.comment = Some(format!("repo tags: {}", art.repo_tags.join(", ")));
    }
    packages.push(image);

    if let Some(os) = &art.os {
        let os_name = if os.id.trim().is_empty() {
            "unknown".to_string()
        } else {
            os.id.clone()
        };
        let mut p = SpdxPackage::new(os_name, OS_ID.to_string(), "OPERATING-SYSTEM");
        p.version_info = os.version.clone();
        p.description = Some(os.name.clone()).filter(|n| !n.is_empty());
        packages.push(p);
        relationships.push(rel(ARTIFACT_ID, "CONTAINS", OS_ID));
    }

    let mut used: HashSet<String> = [ARTIFACT_ID, OS_ID, "SPDXRef-DOCUMENT"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ids: Vec<String> = prepared
        .packages
        .iter()
        .map(|p| {
            crate::unique(
                &format!("SPDXRef-Package-{}", sanitize_id(&p.id)),
                &mut used,
                "-",
            )
        })
        .collect();
    let mut refs = LicenseRefs::default();
    for (i, p) in prepared.packages.iter().enumerate() {
        packages.push(package(inv, p, ids[i].clone(), &mut refs));
        relationships.push(rel(ARTIFACT_ID, "CONTAINS", &ids[i]));
    }
    for (i, deps) in prepared.deps.iter().enumerate() {
        for &j in deps {
            relationships.push(rel(&ids[i], "DEPENDS_ON", &ids[j]));
        }
    }

    let has_extracted_licensing_infos = refs
        .into_entries()
        .into_iter()
        .map(|(text, id)| ExtractedLicense {
            license_id: id,
            extracted_text: text.clone(),
            name: text,
            comment: "Licence name as declared by the package; not on the SPDX licence list.",
        })
        .collect();

    let list_version: Vec<&str> = spdx::license_version().split('.').take(2).collect();
    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        document_namespace: format!("{NAMESPACE_BASE}/{}-{uuid}", sanitize_id(&name)),
        name,
        creation_info: CreationInfo {
            created,
            creators: vec![format!("Tool: {}-{}", inv.tool.name, inv.tool.version)],
            license_list_version: list_version.join("."),
        },
        packages,
        relationships,
        has_extracted_licensing_infos,
    }
}

/// `sha256:<64 hex>` / `sha512:<128 hex>` -> an SPDX checksum; anything else -> none.
fn checksum(digest: &str) -> Option<Checksum> {
    let (algo, hex) = digest.split_once(':')?;
    let (algorithm, len) = match algo {
        "sha256" => ("SHA256", 64),
        "sha512" => ("SHA512", 128),
        _ => return None,
    };
    let ok = hex.len() == len
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then(|| Checksum {
        algorithm,
        checksum_value: hex.to_string(),
    })
}

fn package(inv: &Inventory, p: &Package, spdx_id: String, refs: &mut LicenseRefs) -> SpdxPackage {
    let name = if p.name.trim().is_empty() {
        "unknown".to_string()
    } else {
        p.name.to_string()
    };
    let mut s = SpdxPackage::new(
        name,
        spdx_id,
        if p.application {
            "APPLICATION"
        } else {
            "LIBRARY"
        },
    );
    s.version_info = Some(p.version.to_string()).filter(|v| !v.is_empty());
    s.license_declared = declared(&p.licenses, refs);
    s.source_info = source_info(inv, p);
    s.external_refs = valid_purl(p).map(purl_ref).into_iter().collect();
    let mut notes = Vec::new();
    if let Some(src) = &p.source_name {
        match &p.source_version {
            Some(v) => notes.push(format!("source package: {src} {v}")),
            None => notes.push(format!("source package: {src}")),
        }
    }
    if let Some(arch) = &p.arch {
        notes.push(format!("arch: {arch}"));
    }
    if let Some(eco) = &p.ecosystem {
        notes.push(format!("ecosystem: {eco}"));
    }
    if p.dev {
        notes.push("development dependency".to_string());
    }
    s.comment = (!notes.is_empty()).then(|| notes.join("; "));
    s
}

/// The AND of every licence string: ids and expressions as they are, names as
/// `LicenseRef-`s registered in `refs`; NOASSERTION when there is none.
fn declared<S: AsRef<str>>(raw: &[S], refs: &mut LicenseRefs) -> String {
    let lics: Vec<Lic> = raw.iter().filter_map(|s| classify(s.as_ref())).collect();
    let multiple = lics.len() > 1;
    let mut parts: Vec<String> = Vec::new();
    for l in lics {
        let part = match l {
            Lic::Id(id) => id,
            Lic::Expr(e) if multiple && needs_parens(&e) => format!("({e})"),
            Lic::Expr(e) => e,
            Lic::Name(n) => refs.get(&n),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        NOASSERTION.to_string()
    } else {
        parts.join(" AND ")
    }
}

/// "found in layer 1 (diff_id sha256:..., RUN apt-get ...) at /var/lib/dpkg/status"
fn source_info(inv: &Inventory, p: &Package) -> Option<String> {
    let mut text = String::new();
    if let Some(index) = p.layer_index() {
        text.push_str(&format!("found in layer {index}"));
        if let Some(l) = layer_of(&inv.artifact, index) {
            let detail: Vec<String> = [
                l.diff_id.as_ref().map(|d| format!("diff_id {d}")),
                l.created_by.as_ref().map(|c| format!("created by: {c}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !detail.is_empty() {
                text.push_str(&format!(" ({})", detail.join(", ")));
            }
        }
    }
    let paths: Vec<&str> = p.locations.iter().map(|l| l.path.as_str()).collect();
    if !paths.is_empty() {
        text.push_str(if text.is_empty() { "found at " } else { " at " });
        text.push_str(&paths.join(", "));
    }
    (!text.is_empty()).then_some(text)
}
