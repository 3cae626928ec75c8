//! Matching stored inventories against the advisory database: once when a report is
//! submitted, and for every stored image when the database changes (no image is rescanned:
//! the inventory is all the matcher needs).

use crate::store::{Event, Store, StoreError};
use moat_model::{Finding, FindingKind, Inventory, ScanReport};
use moat_vuln::db::Database;
use moat_vuln::matcher::{MatchOptions, match_inventory};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the advisory database: {0}")]
    Db(#[from] moat_vuln::db::DbError),
}

/// The vulnerability findings of `inv` in `db`.
pub fn vulnerabilities(inv: &Inventory, db: &Database) -> Vec<Finding> {
    match_inventory(inv, db, &MatchOptions::default()).0
}

/// A submitted report with its vulnerability findings replaced by the server's own match
/// (the other kinds are kept as submitted).
pub fn with_server_match(mut report: ScanReport, db: Option<&Database>) -> ScanReport {
    if let Some(db) = db {
        let vulns = vulnerabilities(&report.inventory, db);
        report
            .findings
            .retain(|f| f.kind() != FindingKind::Vulnerability);
        report.findings.extend(vulns);
    }
    report
}

/// What a re-match of the whole store did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub images: u64,
    pub events: Vec<Event>,
    pub seconds: f64,
}

/// Re-matches every stored image against the database at `db_path`, recording events.
pub fn rematch_all(store: &Store, db_path: &Path, now: i64) -> Result<Summary, MatchError> {
    let start = std::time::Instant::now();
    let db = Database::open_read_only(db_path)?;
    let mut summary = Summary::default();
    for id in store.image_ids()? {
        let Some(inv) = store.inventory(id)? else {
            continue;
        };
        let vulns = vulnerabilities(&inv, &db);
        summary.events.extend(store.rematched(id, vulns, now)?);
        summary.images += 1;
    }
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}
