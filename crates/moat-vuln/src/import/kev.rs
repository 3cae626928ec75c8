//! CISA's Known Exploited Vulnerabilities catalogue (`known_exploited_vulnerabilities.json`):
//! `{"title", "catalogVersion", "dateReleased", "count", "vulnerabilities": [{"cveID",
//! "vendorProject", "product", "vulnerabilityName", "dateAdded", "dueDate",
//! "knownRansomwareCampaignUse", ...}]}`. Only what findings show is kept.

use super::KevEntry;
use serde::Deserialize;

#[derive(Deserialize)]
struct Catalogue {
    #[serde(rename = "catalogVersion")]
    _catalog_version: serde::de::IgnoredAny,
    vulnerabilities: Vec<Raw>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    #[serde(default)]
    date_added: String,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
}

/// Why a KEV catalogue was not read.
#[derive(Debug, thiserror::Error)]
pub enum KevError {
    #[error("not a KEV catalogue: {0}")]
    NotCatalogue(#[source] serde_json::Error),
    #[error("KEV entry with an invalid cveID {cve_id:?}")]
    InvalidCve { cve_id: String },
}

/// The catalogue's entries. Fails when the file is not a KEV catalogue or an entry has no
/// `CVE-` id.
pub fn parse(bytes: &[u8]) -> Result<Vec<KevEntry>, KevError> {
    let cat: Catalogue = serde_json::from_slice(bytes).map_err(KevError::NotCatalogue)?;
    cat.vulnerabilities
        .into_iter()
        .map(|r| {
            if !r.cve_id.starts_with("CVE-") {
                return Err(KevError::InvalidCve { cve_id: r.cve_id });
            }
            Ok(KevEntry {
                cve: r.cve_id,
                date_added: r.date_added,
                vendor: r.vendor_project,
                product: r.product,
                name: r.vulnerability_name,
                due_date: r.due_date.filter(|d| !d.is_empty()),
                ransomware: r.known_ransomware_campaign_use.filter(|d| !d.is_empty()),
            })
        })
        .collect()
}
