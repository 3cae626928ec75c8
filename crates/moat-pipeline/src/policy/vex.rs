//! OpenVEX 0.2 documents: statements that a vulnerability does not affect a product.
//!
//! [`parse_openvex`] reads `statements[]` with `vulnerability` (an object with `name`, or a
//! string), `products[]` (objects with `@id` and optional `subcomponents`, or strings),
//! `status`, `justification`, `impact_statement`.

use super::{MAX_BYTES, PolicyError};
use serde::Deserialize;

/// One OpenVEX statement, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    pub vulnerability: String,
    /// Product identifiers (purls).
    pub products: Vec<String>,
    /// `not_affected`, `fixed`, `affected` or `under_investigation`.
    pub status: String,
    pub justification: Option<String>,
    pub impact: Option<String>,
}

#[derive(Deserialize)]
struct RawVex {
    #[serde(rename = "@context")]
    context: Option<String>,
    #[serde(default)]
    statements: Vec<RawStatement>,
}

#[derive(Deserialize)]
struct RawStatement {
    vulnerability: Option<NameOrObject>,
    #[serde(default)]
    products: Vec<NameOrObject>,
    status: Option<String>,
    justification: Option<String>,
    impact_statement: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NameOrObject {
    Name(String),
    Object {
        #[serde(rename = "@id")]
        id: Option<String>,
        name: Option<String>,
        /// The packages inside a product (an image) the statement is about, as
        /// `vexctl --subcomponents` and Trivy write them.
        #[serde(default)]
        subcomponents: Vec<NameOrObject>,
    },
}

impl NameOrObject {
    fn product_id(self) -> Option<String> {
        match self {
            NameOrObject::Name(s) => Some(s),
            NameOrObject::Object { id, name, .. } => id.or(name),
        }
    }
    /// The product's id and its subcomponents' ids: a statement about a product's
    /// subcomponent applies to that package (the product itself, an image, is no package).
    fn product_ids(self) -> Vec<String> {
        match self {
            NameOrObject::Name(s) => vec![s],
            NameOrObject::Object {
                id,
                name,
                subcomponents,
            } => id
                .or(name)
                .into_iter()
                .chain(
                    subcomponents
                        .into_iter()
                        .filter_map(NameOrObject::product_id),
                )
                .collect(),
        }
    }
    fn vuln_name(self) -> Option<String> {
        match self {
            NameOrObject::Name(s) => Some(s),
            NameOrObject::Object { id, name, .. } => name.or(id),
        }
    }
}

const VEX_STATUSES: [&str; 4] = ["not_affected", "fixed", "affected", "under_investigation"];

/// Parses an OpenVEX 0.2 JSON document.
pub fn parse_openvex(bytes: &[u8]) -> Result<Vec<VexStatement>, PolicyError> {
    if bytes.len() > MAX_BYTES {
        return Err(PolicyError::TooLarge {
            what: "VEX document",
            bytes: bytes.len(),
        });
    }
    let raw: RawVex =
        serde_json::from_slice(bytes).map_err(|e| PolicyError::NotVex(e.to_string()))?;
    match raw.context.as_deref() {
        Some(c) if c.starts_with("https://openvex.dev/ns") => {}
        Some(c) => return Err(PolicyError::NotVex(format!("@context {c:?}"))),
        None => return Err(PolicyError::NotVex("no @context".into())),
    }
    let mut out = Vec::with_capacity(raw.statements.len());
    for (i, s) in raw.statements.into_iter().enumerate() {
        let n = i + 1;
        let vulnerability = s
            .vulnerability
            .and_then(NameOrObject::vuln_name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| PolicyError::Statement {
                n,
                id: String::new(),
                what: "no vulnerability name".into(),
            })?;
        let status = s.status.ok_or_else(|| PolicyError::Statement {
            n,
            id: vulnerability.clone(),
            what: "no status".into(),
        })?;
        if !VEX_STATUSES.contains(&status.as_str()) {
            return Err(PolicyError::Statement {
                n,
                id: vulnerability,
                what: format!("unknown status {status:?}"),
            });
        }
        out.push(VexStatement {
            vulnerability,
            products: s
                .products
                .into_iter()
                .flat_map(NameOrObject::product_ids)
                .collect(),
            status,
            justification: s.justification,
            impact: s.impact_statement,
        });
    }
    Ok(out)
}
