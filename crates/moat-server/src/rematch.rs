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

use crate::store::{Event, PkgFindings, Store, StoreError, package_key};
use moat_model::advisory::Advisory;
use moat_model::{
    Artifact, ArtifactKind, Finding, FindingKind, FindingLocation, Inventory, Package, ScanReport,
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

/// A worker's error: kept if it is the first, and the work left is dropped so that the
/// other workers stop.
fn stop_on_error<E, I: Iterator>(first: &Mutex<Option<E>>, next: &Mutex<I>, e: E) {
    first
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert(e);
    let mut it = next.lock().unwrap_or_else(|p| p.into_inner());
    for _ in it.by_ref() {}
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

/// A worker's memo: each distinct package's findings (the key: [`package_key`]).
#[derive(Default)]
pub struct Memo {
    found: PkgFindings,
}

/// The matcher's findings for one package alone (without its layer and locations).
fn match_one(pkg: &Package, src: &dyn AdvisorySource) -> Vec<Finding> {
    let one = Inventory {
        schema_version: String::new(),
        tool: Default::default(),
        artifact: Artifact::new("", ArtifactKind::Dir, ""),
        packages: vec![pkg.clone()],
        relationships: Vec::new(),
        diagnostics: Vec::new(),
        package_files: Default::default(),
    };
    vulnerabilities(&one, src)
}

/// The findings of `inv` from each distinct package's (`find`: key, package without layer
/// and locations -> its findings), each set where its package was found, in the matcher's
/// order.
pub fn assemble(
    inv: &mut Inventory,
    mut find: impl FnMut(&[u8], &Package) -> Vec<Finding>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut key = Vec::new();
    for pkg in &mut inv.packages {
        let loc = pkg.locations.first();
        let layer = pkg.layer_index().or_else(|| loc.and_then(|l| l.layer));
        let path = loc.map(|l| l.path.to_string());
        package_key(pkg, &mut key);
        let (kept_layer, kept_locations) = (pkg.layer.take(), std::mem::take(&mut pkg.locations));
        let found = find(&key, pkg);
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

/// The findings of `inv` as [`vulnerabilities`] gives them, with each distinct package
/// (its fields but layer and locations) matched once per `memo`.
pub fn vulnerabilities_memo(
    inv: &mut Inventory,
    src: &dyn AdvisorySource,
    memo: &mut Memo,
) -> Vec<Finding> {
    assemble(inv, |key, pkg| match memo.found.get(key) {
        Some(f) => f.clone(),
        None => {
            let f = match_one(pkg, src);
            if memo.found.len() >= CACHE_ENTRIES {
                memo.found.clear();
            }
            memo.found.insert(key.to_vec(), f.clone());
            f
        }
    })
}

/// A submitted report with its vulnerability findings replaced by the server's own match
/// (the other kinds are kept as submitted).
pub fn with_server_match(report: ScanReport, db: Option<&Database>) -> ScanReport {
    with_server_match_pkgs(report, db).0
}

/// [`with_server_match`], with each distinct package's findings (for
/// [`Store::put_report_matched`]) when the server matched.
pub fn with_server_match_pkgs(
    mut report: ScanReport,
    db: Option<&Database>,
) -> (ScanReport, Option<PkgFindings>) {
    let Some(db) = db else {
        return (report, None);
    };
    let mut memo = Memo::default();
    let vulns = vulnerabilities_memo(&mut report.inventory, db, &mut memo);
    report
        .findings
        .retain(|f| f.kind() != FindingKind::Vulnerability);
    report.findings.extend(vulns);
    (report, Some(memo.found))
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

/// A distinct package matched again: id, key, findings, whether they changed.
type Matched = (i64, Vec<u8>, Vec<Finding>, bool);

/// [`rematch_all`] with a given number of workers.
///
/// Each distinct package some image has is matched once; a package whose findings changed
/// changes every image derived from its packages at once ([`Store::pkgs_rematched`]: rows
/// written by set-based statements, a transaction per chunk of packages). Images not
/// derived (stored before schema 3, or whose submission disagreed with a package's stored
/// findings) are matched one by one as before and become derived.
pub fn rematch_all_with(
    store: &Store,
    db_path: &Path,
    now: i64,
    threads: usize,
) -> Result<Summary, MatchError> {
    let start = std::time::Instant::now();
    // Opened once here first, so a missing or foreign file is one clear error.
    drop(Database::open_read_only(db_path)?);
    let before = store.last_event_seq()?;
    let threads = threads.max(1);

    // Each distinct package matched once, on `threads` workers.
    let pkgs = store.linked_pkgs()?;
    let next = Mutex::new(pkgs.into_iter());
    let matched: Mutex<Vec<Matched>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<MatchError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let work = || -> Result<(), MatchError> {
                    let db = Database::open_read_only(db_path)?;
                    let cached = Cached::new(&db);
                    loop {
                        let item = next.lock().unwrap_or_else(|p| p.into_inner()).next();
                        let Some((id, key, old)) = item else { break };
                        let pkg: Package = match serde_json::from_slice(&key) {
                            Ok(p) => p,
                            Err(e) => {
                                return Err(MatchError::Store(StoreError::Corrupt {
                                    path: store.path().to_path_buf(),
                                    reason: format!("package {id}: {e}"),
                                }));
                            }
                        };
                        let found = match_one(&pkg, &cached);
                        let changed = old.as_ref() != Some(&found);
                        matched
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((id, key, found, changed));
                    }
                    Ok(())
                };
                if let Err(e) = work() {
                    stop_on_error(&first_error, &next, e);
                }
            });
        }
    });
    if let Some(e) = first_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    let mut matched = matched.into_inner().unwrap_or_else(|p| p.into_inner());
    matched.sort_by_key(|m| m.0);

    // The derived images: changed package by package.
    let changed: Vec<(i64, &[Finding])> = matched
        .iter()
        .filter(|m| m.3)
        .map(|m| (m.0, m.2.as_slice()))
        .collect();
    store.pkgs_rematched(&changed, now)?;
    let mut images = store.derived_matched(now)?;

    // The others, one by one, with each package's findings known.
    let known: HashMap<Vec<u8>, (i64, Vec<Finding>)> = matched
        .into_iter()
        .map(|(id, key, found, _)| (key, (id, found)))
        .collect();
    let ids = store.underived_ids()?;
    let next = Mutex::new(ids.into_iter());
    let count = Mutex::new(0u64);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let work = || -> Result<(), MatchError> {
                    let db = Database::open_read_only(db_path)?;
                    let cached = Cached::new(&db);
                    let mut memo = Memo::default();
                    // Images whose findings did not change: `matched_at` set for many at once.
                    let mut unchanged = Vec::new();
                    loop {
                        let id = next.lock().unwrap_or_else(|p| p.into_inner()).next();
                        let Some(id) = id else { break };
                        let Some((mut inv, old)) = store.match_input(id)? else {
                            continue;
                        };
                        // Derived when every package's findings are known.
                        let mut all_known = true;
                        let vulns = assemble(&mut inv, |key, pkg| match known.get(key) {
                            Some((_, f)) => f.clone(),
                            None => {
                                all_known = false;
                                match memo.found.get(key) {
                                    Some(f) => f.clone(),
                                    None => {
                                        let f = match_one(pkg, &cached);
                                        if memo.found.len() >= CACHE_ENTRIES {
                                            memo.found.clear();
                                        }
                                        memo.found.insert(key.to_vec(), f.clone());
                                        f
                                    }
                                }
                            }
                        });
                        let derived = all_known.then(|| derived_rows(&inv, &known));
                        match derived {
                            Some(rows) => {
                                store.rematched_derived(id, old, vulns, Some(&rows), now)?;
                            }
                            None if vulns == old => {
                                unchanged.push(id);
                                if unchanged.len() >= UNCHANGED_BATCH {
                                    store.rematched_unchanged(&unchanged, now)?;
                                    unchanged.clear();
                                }
                            }
                            None => {
                                store.rematched(id, old, vulns, now)?;
                            }
                        }
                        *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                    }
                    store.rematched_unchanged(&unchanged, now)?;
                    Ok(())
                };
                if let Err(e) = work() {
                    stop_on_error(&first_error, &next, e);
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    images += count.into_inner().unwrap_or_else(|p| p.into_inner());
    let events = store.events_after(before)?;
    Ok(Summary {
        images,
        events,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Each vulnerability finding of `inv`'s packages with its distinct package's id, the
/// findings as stored for the package (without location: rows of the findings table).
fn derived_rows(
    inv: &Inventory,
    known: &HashMap<Vec<u8>, (i64, Vec<Finding>)>,
) -> Vec<(i64, Finding)> {
    let mut out = Vec::new();
    let mut key = Vec::new();
    for pkg in &inv.packages {
        package_key(&mut pkg.clone(), &mut key);
        if let Some((pid, found)) = known.get(&key) {
            out.extend(found.iter().map(|f| (*pid, f.clone())));
        }
    }
    out
}
