//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>): the subset moat emits.
//!
//! Layout: `metadata.component` is the scanned artifact (a `container` for images, a
//! `file` for a root filesystem, an `application` for a project directory), followed by
//! one `operating-system` component when the OS is known and one `library` component per
//! package. The dependency graph has the artifact depending on everything it contains and
//! each package on the packages the inventory says it depends on. moat facts without a
//! CycloneDX field (layer, locations, source package, ...) are `moat:` properties. A
//! package's installed files, when the inventory kept them (`--package-files`), are its
//! `evidence.occurrences` (one `location` each).

use crate::license::{Lic, classify};
use crate::{Prepared, RenderOptions, document_uuid, image_purl, layer_of, valid_purl};
use moat_model::{ArtifactKind, Inventory, Package};
use serde::Serialize;
use std::collections::HashSet;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    /// The package's installed files, when the inventory kept them (`--package-files`).
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
}

/// `evidence.occurrences`: where the component is, one installed file each.
#[derive(Serialize)]
struct Evidence {
    occurrences: Vec<Occurrence>,
}

#[derive(Serialize)]
struct Occurrence {
    location: String,
}

impl Component {
    fn new(kind: &'static str, name: String) -> Component {
        Component {
            kind,
            bom_ref: None,
            name,
            version: None,
            description: None,
            licenses: Vec::new(),
            purl: None,
            properties: Vec::new(),
            evidence: None,
        }
    }
}

/// One entry of `licenses`: the schema allows a list of `license` objects or exactly one
/// `expression`, never a mix (see [`licenses`]).
#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: License },
    Expression { expression: String },
}

#[derive(Serialize)]
struct License {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn")]
    depends_on: Vec<String>,
}

/// Properties in insertion order, without empty values or exact duplicates (the schema
/// wants unique items).
#[derive(Default)]
struct Props {
    list: Vec<Property>,
    seen: HashSet<(String, String)>,
}

impl Props {
    fn add(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        if value.is_empty() || !self.seen.insert((name.clone(), value.clone())) {
            return;
        }
        self.list.push(Property { name, value });
    }
    fn opt(&mut self, name: &str, value: Option<impl ToString>) {
        if let Some(v) = value {
            self.add(name, v.to_string());
        }
    }
}

pub(crate) fn build(inv: &Inventory, o: &RenderOptions) -> Bom {
    let timestamp = crate::time::normalize(&o.timestamp);
    let prepared = Prepared::new(inv);
    let art = &inv.artifact;

    let root_ref = prepared.extra_ref(
        &image_purl(art).unwrap_or_else(|| format!("artifact:{}", art.name)),
        &[],
    );
    let mut root = Component::new(
        match art.kind {
            ArtifactKind::Rootfs => "file",
            ArtifactKind::Dir | ArtifactKind::Git => "application",
            _ => "container",
        },
        non_empty(&art.name, "unknown"),
    );
    root.bom_ref = Some(root_ref.clone());
    root.version = art.digest().map(str::to_string);
    root.purl = image_purl(art);
    let mut props = Props::default();
    props.add("moat:artifact:kind", art.kind.as_str());
    props.opt("moat:artifact:platform", art.platform.as_ref());
    props.opt(
        "moat:artifact:manifest_digest",
        art.manifest_digest.as_ref(),
    );
    props.opt("moat:artifact:config_digest", art.config_digest.as_ref());
    for tag in &art.repo_tags {
        props.add("moat:artifact:repo_tag", tag.as_str());
    }
    for l in &art.layers {
        let i = l.index;
        props.opt(&format!("moat:layer:{i}:digest"), l.digest.as_ref());
        props.opt(&format!("moat:layer:{i}:diff_id"), l.diff_id.as_ref());
        props.opt(&format!("moat:layer:{i}:media_type"), l.media_type.as_ref());
        props.opt(&format!("moat:layer:{i}:size"), l.size);
        props.opt(&format!("moat:layer:{i}:created_by"), l.created_by.as_ref());
    }
    root.properties = props.list;

    let mut components = Vec::with_capacity(prepared.packages.len() + 1);
    let mut root_deps = Vec::with_capacity(prepared.packages.len() + 1);
    let mut dependencies = Vec::with_capacity(prepared.packages.len() + 2);

    if let Some(os) = &art.os {
        let version = os.version.clone();
        let want = match &version {
            Some(v) => format!("os:{}@{v}", os.id),
            None => format!("os:{}", os.id),
        };
        let mut c = Component::new("operating-system", non_empty(&os.id, "unknown"));
        let os_ref = prepared.extra_ref(&want, &[&root_ref]);
        c.bom_ref = Some(os_ref.clone());
        c.version = version;
        c.description = Some(os.name.clone()).filter(|n| !n.is_empty());
        let mut props = Props::default();
        props.add("moat:os:family", os.family.as_str());
        props.opt("moat:os:codename", os.codename.as_ref());
        if os.distroless {
            props.add("moat:os:distroless", "true");
        }
        c.properties = props.list;
        components.push(c);
        root_deps.push(os_ref.clone());
        dependencies.push(Dependency {
            reference: os_ref,
            depends_on: Vec::new(),
        });
    }

    for (i, p) in prepared.packages.iter().enumerate() {
        let r = &prepared.refs[i];
        components.push(package_component(inv, p, r));
        root_deps.push(r.clone());
        dependencies.push(Dependency {
            reference: r.clone(),
            depends_on: prepared.deps[i]
                .iter()
                .map(|&j| prepared.refs[j].clone())
                .collect(),
        });
    }
    dependencies.insert(
        0,
        Dependency {
            reference: root_ref,
            depends_on: root_deps,
        },
    );

    let mut tool = Component::new("application", inv.tool.name.clone());
    tool.version = Some(inv.tool.version.clone());

    Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", document_uuid(inv, &timestamp)),
        version: 1,
        metadata: Metadata {
            timestamp,
            tools: Tools {
                components: vec![tool],
            },
            component: root,
        },
        components,
        dependencies,
    }
}

fn non_empty(s: &str, fallback: &str) -> String {
    if s.trim().is_empty() {
        fallback.to_string()
    } else {
        s.to_string()
    }
}

fn package_component(inv: &Inventory, p: &Package, bom_ref: &str) -> Component {
    let mut c = Component::new(
        if p.application {
            "application"
        } else {
            "library"
        },
        non_empty(&p.name, "unknown"),
    );
    c.bom_ref = Some(bom_ref.to_string());
    c.version = Some(p.version.to_string()).filter(|v| !v.is_empty());
    c.purl = valid_purl(p);
    c.licenses = licenses(&p.licenses);
    let mut props = Props::default();
    props.add("moat:package:type", p.kind.as_str());
    if let Some(index) = p.layer_index() {
        props.add("moat:package:layer", index.to_string());
        if let Some(l) = layer_of(&inv.artifact, index) {
            props.opt("moat:package:layer_diff_id", l.diff_id.as_ref());
            props.opt("moat:package:created_by", l.created_by.as_ref());
        }
    }
    for loc in &p.locations {
        props.add("moat:package:location", loc.path.as_str());
    }
    props.opt("moat:package:source_name", p.source_name.as_ref());
    props.opt("moat:package:source_version", p.source_version.as_ref());
    props.opt("moat:package:arch", p.arch.as_ref());
    props.opt("moat:package:epoch", p.epoch);
    props.opt("moat:package:ecosystem", p.ecosystem.as_ref());
    if p.dev {
        props.add("moat:package:dev", "true");
    }
    props.opt("moat:package:file_count", p.file_count);
    for (k, v) in &p.metadata {
        props.add(format!("moat:package:metadata:{k}"), v.as_str());
    }
    c.properties = props.list;
    c.evidence = inv.package_files.get(&p.id).map(|paths| Evidence {
        occurrences: paths
            .map(|location| Occurrence {
                location: location.to_string(),
            })
            .collect(),
    });
    c
}

/// CycloneDX cannot mix `license` objects and an `expression`. Without any compound
/// expression every licence is its own object (`id` or `name`); with one, a single
/// licence string stays as it is and several are joined with AND into one expression,
/// free-text names becoming `LicenseRef-`s.
fn licenses<S: AsRef<str>>(raw: &[S]) -> Vec<LicenseChoice> {
    let mut lics: Vec<Lic> = Vec::new();
    for l in raw.iter().filter_map(|s| classify(s.as_ref())) {
        if !lics.contains(&l) {
            lics.push(l);
        }
    }
    if !lics.iter().any(|l| matches!(l, Lic::Expr(_))) {
        return lics
            .into_iter()
            .map(|l| match l {
                Lic::Id(id) => LicenseChoice::License {
                    license: License {
                        id: Some(id),
                        name: None,
                    },
                },
                Lic::Expr(n) | Lic::Name(n) => LicenseChoice::License {
                    license: License {
                        id: None,
                        name: Some(n),
                    },
                },
            })
            .collect();
    }
    let multiple = lics.len() > 1;
    let mut refs = crate::license::LicenseRefs::default();
    let parts: Vec<String> = lics
        .into_iter()
        .map(|l| match l {
            Lic::Id(id) => id,
            Lic::Expr(e) if multiple && crate::license::needs_parens(&e) => format!("({e})"),
            Lic::Expr(e) => e,
            Lic::Name(n) => refs.get(&n),
        })
        .collect();
    vec![LicenseChoice::Expression {
        expression: parts.join(" AND "),
    }]
}
