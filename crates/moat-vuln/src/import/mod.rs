//! Importers: each turns the bytes of one published file into advisories.
//! (being written)

use moat_model::advisory::Advisory;

/// A KEV catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    pub cve: String,
    pub date_added: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub due_date: Option<String>,
    pub ransomware: Option<String>,
}

/// What one import run read.
#[derive(Debug, Default)]
pub struct ImportBatch {
    pub advisories: Vec<Advisory>,
    pub kev: Vec<KevEntry>,
    /// Records that could not be read: (file or record, reason).
    pub malformed: Vec<(String, String)>,
}

pub mod alpine;
pub mod debian;
