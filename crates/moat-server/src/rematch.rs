//! Matching stored inventories against the advisory database: once when a report is
//! submitted, and for every stored image when the database changes (no image is rescanned:
//! the inventory is all the matcher needs).
//!
//! A re-match of the whole store runs the same matcher as `moat scan`, on worker threads
//! that each open the database read-only. Images share most of their packages, so each
//! worker matches every distinct package once: a package's findings depend on the package
//! alone (the matcher reads nothing else of the inventory), except for where it was found
//! (its layer and first location), which is set on the remembered findings for each image.
//! Under that, a lookup cache keeps each (ecosystem, name)'s advisories. An image whose
//! findings did not change only has its `matched_at` updated.

use crate::store::{Event, Store, StoreError};
use moat_model::advisory::Advisory;
use moat_model::{
    Artifact, ArtifactKind, Finding, FindingKind, FindingLocation, Inventory, ScanReport,
};
use moat_vuln::db::Database;
use moat_vuln::matcher::{AdvisorySource, LookupError, MatchOptions, match_inventory};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the advisory database: {0}")]
    Db(#[from] moat_vuln::db::DbError),
}

/// Unchanged images whose `matched_at` a worker writes in one statement.
const UNCHANGED_BATCH: usize = 500;

/// Distinct (ecosystem, name) lookups a worker keeps; past it the cache is cleared.
const CACHE_ENTRIES: usize = 200_000;

/// The database with its answers remembered.
struct Cached<'a> {
    db: &'a Database,
    lookups: RefCell<HashMap<(String, String), Vec<Advisory>>>,
    kev: RefCell<HashMap<String, bool>>,
}

impl<'a> Cached<'a> {
    fn new(db: &'a Database) -> Cached<'a> {
        Cached {
            db,
            lookups: RefCell::new(HashMap::new()),
            kev: RefCell::new(HashMap::new()),
        }
    }
}

impl AdvisorySource for Cached<'_> {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, LookupError> {
        let key = (ecosystem.to_string(), name.to_string());
        if let Some(v) = self.lookups.borrow().get(&key) {
            return Ok(v.clone());
        }
        let v = self.db.advisories_for(ecosystem, name)?;
        let mut cache = self.lookups.borrow_mut();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, v.clone());
        Ok(v)
    }

    fn is_kev(&self, id: &str) -> bool {
        if let Some(k) = self.kev.borrow().get(id) {
            return *k;
        }
        let k = AdvisorySource::is_kev(self.db, id);
        let mut cache = self.kev.borrow_mut();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(id.to_string(), k);
        k
    }
}

/// The vulnerability findings of `inv` in `src`.
pub fn vulnerabilities(inv: &Inventory, src: &dyn AdvisorySource) -> Vec<Finding> {
    match_inventory(inv, src, &MatchOptions::default()).0
}

/// A worker's memo: each distinct package's findings (the key: the package without its
/// layer and locations, as JSON).
#[derive(Default)]
pub struct Memo {
    found: HashMap<Vec<u8>, Vec<Finding>>,
    key: Vec<u8>,
}

/// The findings of `inv` as [`vulnerabilities`] gives them, with each distinct package
/// (its fields but layer and locations) matched once per `memo`. The packages' layer and
/// locations are taken out for the key and put back.
pub fn vulnerabilities_memo(
    inv: &mut Inventory,
    src: &dyn AdvisorySource,
    memo: &mut Memo,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for pkg in &mut inv.packages {
        let loc = pkg.locations.first();
        let layer = pkg.layer_index().or_else(|| loc.and_then(|l| l.layer));
        let path = loc.map(|l| l.path.to_string());
        let (kept_layer, kept_locations) = (pkg.layer.take(), std::mem::take(&mut pkg.locations));
        memo.key.clear();
        // A package always serializes; an empty key would only share a match with another
        // such package.
        let _ = serde_json::to_writer(&mut memo.key, &*pkg);
        let found = match memo.found.get(memo.key.as_slice()) {
            Some(f) => f.clone(),
            None => {
                let one = Inventory {
                    schema_version: String::new(),
                    tool: Default::default(),
                    artifact: Artifact::new("", ArtifactKind::Dir, ""),
                    packages: vec![pkg.clone()],
                    relationships: Vec::new(),
                    diagnostics: Vec::new(),
                    package_files: Default::default(),
                };
                let f = vulnerabilities(&one, src);
                if memo.found.len() >= CACHE_ENTRIES {
                    memo.found.clear();
                }
                memo.found.insert(memo.key.clone(), f.clone());
                f
            }
        };
        (pkg.layer, pkg.locations) = (kept_layer, kept_locations);
        for mut f in found {
            f.location = path.clone().map(|p| FindingLocation::file(p, layer));
            if let Some(p) = f.vulnerability_mut().and_then(|v| v.package.as_mut()) {
                p.layer = layer;
                p.path = path.clone();
            }
            out.push(f);
        }
    }
    // The matcher's order.
    moat_vuln::matcher::sort_findings(&mut out);
    out
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

/// Re-matches every stored image against the database at `db_path` on `threads` workers,
/// recording events.
pub fn rematch_all(store: &Store, db_path: &Path, now: i64) -> Result<Summary, MatchError> {
    rematch_all_with(store, db_path, now, default_threads())
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// [`rematch_all`] with a given number of workers.
pub fn rematch_all_with(
    store: &Store,
    db_path: &Path,
    now: i64,
    threads: usize,
) -> Result<Summary, MatchError> {
    let start = std::time::Instant::now();
    // Opened once here first, so a missing or foreign file is one clear error.
    drop(Database::open_read_only(db_path)?);
    let ids = store.image_ids()?;
    let next = Mutex::new(ids.into_iter());
    let out: Mutex<(u64, Vec<Event>)> = Mutex::new((0, Vec::new()));
    let first_error: Mutex<Option<MatchError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let work = || -> Result<(), MatchError> {
                    let db = Database::open_read_only(db_path)?;
                    let cached = Cached::new(&db);
                    let mut memo = Memo::default();
                    // Images whose findings did not change: `matched_at` set for many at once.
                    let mut unchanged = Vec::new();
                    loop {
                        let id = {
                            let mut it = next.lock().unwrap_or_else(|p| p.into_inner());
                            it.next()
                        };
                        let Some(id) = id else { break };
                        let Some((mut inv, old)) = store.match_input(id)? else {
                            continue;
                        };
                        let vulns = vulnerabilities_memo(&mut inv, &cached, &mut memo);
                        let events = if vulns == old {
                            unchanged.push(id);
                            if unchanged.len() >= UNCHANGED_BATCH {
                                store.rematched_unchanged(&unchanged, now)?;
                                unchanged.clear();
                            }
                            Vec::new()
                        } else {
                            store.rematched(id, old, vulns, now)?
                        };
                        let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
                        o.0 += 1;
                        o.1.extend(events);
                    }
                    store.rematched_unchanged(&unchanged, now)?;
                    Ok(())
                };
                if let Err(e) = work() {
                    let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                    slot.get_or_insert(e);
                    // The others stop at their next image.
                    let mut it = next.lock().unwrap_or_else(|p| p.into_inner());
                    for _ in it.by_ref() {}
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let (images, mut events) = out.into_inner().unwrap_or_else(|p| p.into_inner());
    events.sort_by_key(|e| e.seq);
    Ok(Summary {
        images,
        events,
        seconds: start.elapsed().as_secs_f64(),
    })
}
