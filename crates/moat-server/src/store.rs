//! The server's store: one SQLite file (WAL), the schema applied at open.
//!
//! ```text
//! images    one row per image (or SBOM) submitted: name, digest, kind, OS, labels, when it
//!           was submitted and last matched, its report as submitted (zstd of moat's JSON
//!           report: the inventory and the findings other than vulnerabilities) and its
//!           current vulnerability findings (zstd JSON), apart: a re-match rewrites only
//!           those
//! packages  one row per package of each image (name NOCASE-indexed, OSV ecosystem, version)
//! findings  one row per finding of each image (severity, package, fixed version, KEV)
//! finding_ids  the finding's id and each alias -> the finding: "which images have CVE-Y"
//! events    what re-matching changed: a finding appeared (`new`), got a fixed version
//!           (`fixed_upstream`) or disappeared (`gone`: withdrawn, or no longer matching)
//! tokens    API tokens: SHA-256 of the secret (never the secret), a name and a scope
//! ```
//!
//! The packages, findings and ids tables are indexes of the stored report, rewritten with
//! it in one transaction, so a query never sees half an image. Queries are indexed: a
//! package name, a vulnerability id or alias, an image id; nothing scans every report.

use moat_model::{Finding, FindingKind, Inventory, ScanReport, Severity};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The schema this build writes (`PRAGMA user_version`): the number of [`MIGRATIONS`].
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Every migration, in order: a store at version `n` gets `MIGRATIONS[n..]` at open, each
/// in one transaction with the version it brings. Append, never edit.
pub const MIGRATIONS: [&str; 2] = [SCHEMA_1, crate::jobs::SCHEMA_2];

const SCHEMA_1: &str = "
CREATE TABLE IF NOT EXISTS images (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  ref_name TEXT NOT NULL DEFAULT '',
  digest TEXT,
  kind TEXT NOT NULL,
  os TEXT,
  labels TEXT NOT NULL DEFAULT '{}',
  submitted_at INTEGER NOT NULL,
  matched_at INTEGER,
  report BLOB NOT NULL,
  vulns BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS images_key ON images(name, ifnull(digest, ''));
CREATE INDEX IF NOT EXISTS images_ref ON images(ref_name, submitted_at);
CREATE INDEX IF NOT EXISTS images_digest ON images(digest, submitted_at);
CREATE TABLE IF NOT EXISTS packages (
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  name TEXT NOT NULL COLLATE NOCASE,
  version TEXT NOT NULL,
  kind TEXT NOT NULL,
  ecosystem TEXT,
  purl TEXT NOT NULL,
  layer INTEGER
);
CREATE INDEX IF NOT EXISTS packages_name ON packages(name, image_id);
CREATE INDEX IF NOT EXISTS packages_image ON packages(image_id);
CREATE TABLE IF NOT EXISTS findings (
  rid INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity INTEGER NOT NULL,
  package TEXT,
  version TEXT,
  fixed TEXT,
  kev INTEGER NOT NULL DEFAULT 0,
  title TEXT
);
CREATE INDEX IF NOT EXISTS findings_image ON findings(image_id, kind);
CREATE INDEX IF NOT EXISTS findings_severity ON findings(severity);
CREATE TABLE IF NOT EXISTS finding_ids (
  vid TEXT NOT NULL COLLATE NOCASE,
  rid INTEGER NOT NULL REFERENCES findings(rid) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS finding_ids_vid ON finding_ids(vid);
CREATE INDEX IF NOT EXISTS finding_ids_rid ON finding_ids(rid);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  image_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  finding TEXT NOT NULL,
  package TEXT,
  version TEXT,
  severity INTEGER NOT NULL,
  fixed TEXT
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  scope TEXT NOT NULL,
  created INTEGER NOT NULL
);
";

/// Problems of the store. Each names the store's file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{path}: written by a newer moat (store schema {found}, this build knows {SCHEMA_VERSION})"
    )]
    Newer { path: PathBuf, found: i64 },
    #[error("{path}: a stored report cannot be read: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// What a token may do. Each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

/// A token as the API knows it after a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
}

/// An image in lists: what it is and its finding counts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImageSummary {
    pub id: i64,
    pub name: String,
    pub digest: Option<String>,
    pub kind: String,
    pub os: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub submitted_at: String,
    pub matched_at: Option<String>,
    pub packages: u64,
    /// Findings per severity (`CRITICAL`, ...), every kind.
    pub findings: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PackageRow {
    pub image_id: i64,
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub ecosystem: Option<String>,
    pub purl: String,
    pub layer: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FindingRow {
    pub image_id: i64,
    pub id: String,
    pub kind: String,
    pub severity: String,
    pub package: Option<String>,
    pub version: Option<String>,
    pub fixed_version: Option<String>,
    pub kev: bool,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub time: String,
    pub image_id: i64,
    /// `new`, `fixed_upstream` or `gone`.
    pub kind: String,
    pub finding: String,
    pub package: Option<String>,
    pub version: Option<String>,
    pub severity: String,
    pub fixed_version: Option<String>,
}

/// Filters of the image and finding lists.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub image_id: Option<i64>,
    /// At or above this severity.
    pub min_severity: Option<Severity>,
    /// `Some(true)`: only findings with a fixed version; `Some(false)`: only without.
    pub fixed: Option<bool>,
    pub kev: bool,
    pub kind: Option<FindingKind>,
    /// Findings of this package (name, case-insensitive).
    pub package: Option<String>,
    pub limit: usize,
}

fn sev_rank(s: Severity) -> i64 {
    match s {
        Severity::Unknown => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

fn sev_of(rank: i64) -> Severity {
    match rank {
        4 => Severity::Critical,
        3 => Severity::High,
        2 => Severity::Medium,
        1 => Severity::Low,
        _ => Severity::Unknown,
    }
}

pub(crate) fn rfc3339(secs: i64) -> String {
    moat_report::format_timestamp(secs)
}

/// What identifies one finding across re-matches: id, package and version.
pub(crate) fn finding_key(f: &Finding) -> (String, String, String) {
    match f.package() {
        Some(p) => (f.id.clone(), p.name.clone(), p.version.clone()),
        None => (
            f.id.clone(),
            f.location.as_ref().map(|l| l.display()).unwrap_or_default(),
            String::new(),
        ),
    }
}

/// The store. One connection behind a mutex: SQLite serialises writers anyway, and every
/// call is short (the API runs them on tokio's blocking pool).
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating) the store at `path` and applies the schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("creating {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::Newer {
                path: path.to_path_buf(),
                found,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let v = i as i64 + 1;
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {}; PRAGMA user_version = {v}; COMMIT;",
                sql.trim().trim_end_matches(';')
            ))
            .map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                err(e)
            })?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied (SQLite
        // rolls it back), so a poisoned lock is still a usable connection.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a report as image `name`/`digest` (replacing the image's previous report, if
    /// any). Returns the image id.
    pub fn put_report(
        &self,
        report: &ScanReport,
        labels: &BTreeMap<String, String>,
        now: i64,
    ) -> Result<i64, StoreError> {
        let inv = &report.inventory;
        let name = inv.artifact.name.clone();
        let digest = inv.artifact.digest().map(str::to_string);
        let os = inv.artifact.os.as_ref().map(|o| match &o.version {
            Some(v) => format!("{} {v}", o.id),
            None => o.id.clone(),
        });
        let (vulns, others): (Vec<&Finding>, Vec<&Finding>) = report
            .findings
            .iter()
            .partition(|f| f.kind() == FindingKind::Vulnerability);
        let blob = compress(&ScanReport {
            inventory: inv.clone(),
            findings: others.into_iter().cloned().collect(),
            suppressed: report.suppressed.clone(),
        });
        let vulns_blob = compress_findings(&vulns);
        let ref_name = crate::admission::ImageRef::parse(&name).name();
        let labels_json = serde_json::to_string(labels).unwrap_or_else(|_| "{}".into());
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM images WHERE name = ?1 AND ifnull(digest, '') = ifnull(?2, '')",
                params![name, digest],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let id = match existing {
            Some(id) => {
                tx.execute(
                    "UPDATE images SET kind = ?2, os = ?3, labels = ?4, submitted_at = ?5, matched_at = ?5, report = ?6, vulns = ?7, ref_name = ?8 WHERE id = ?1",
                    params![id, inv.artifact.kind.as_str(), os, labels_json, now, blob, vulns_blob, ref_name],
                )
                .map_err(|e| self.err(e))?;
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO images (name, digest, kind, os, labels, submitted_at, matched_at, report, vulns, ref_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9)",
                    params![name, digest, inv.artifact.kind.as_str(), os, labels_json, now, blob, vulns_blob, ref_name],
                )
                .map_err(|e| self.err(e))?;
                tx.last_insert_rowid()
            }
        };
        index_packages(&tx, id, inv).map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM findings WHERE image_id = ?1", [id])
            .map_err(|e| self.err(e))?;
        index_findings(&tx, id, report.findings.iter()).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id)
    }

    /// Replaces image `id`'s vulnerability findings `old` (as [`Store::match_input`] gave
    /// them) with `vulns`, records what changed as events and returns them. Without a
    /// change only `matched_at` is written.
    pub fn rematched(
        &self,
        id: i64,
        old: Vec<Finding>,
        vulns: Vec<Finding>,
        now: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let old: BTreeMap<_, Finding> = old.into_iter().map(|f| (finding_key(&f), f)).collect();
        let new: BTreeMap<_, &Finding> = vulns.iter().map(|f| (finding_key(f), f)).collect();
        let fixed = |f: &Finding| f.vulnerability().and_then(|v| v.fixed_version.clone());
        let mut changes: Vec<(&str, &Finding)> = Vec::new();
        for (k, f) in &new {
            match old.get(k) {
                None => changes.push(("new", f)),
                Some(o) if fixed(o).is_none() && fixed(f).is_some() => {
                    changes.push(("fixed_upstream", f))
                }
                Some(_) => {}
            }
        }
        for (k, f) in &old {
            if !new.contains_key(k) {
                changes.push(("gone", f));
            }
        }
        // Findings that changed otherwise (a severity, a title) are rewritten without an event.
        let differs = old.len() != new.len() || old.iter().any(|(k, f)| new.get(k) != Some(&f));
        let mut conn = self.lock();
        if changes.is_empty() && !differs {
            conn.execute(
                "UPDATE images SET matched_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(|e| self.err(e))?;
            return Ok(Vec::new());
        }
        let refs: Vec<&Finding> = vulns.iter().collect();
        let blob = compress_findings(&refs);
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE images SET vulns = ?2, matched_at = ?3 WHERE id = ?1",
            params![id, blob, now],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "DELETE FROM findings WHERE image_id = ?1 AND kind = 'vulnerability'",
            [id],
        )
        .map_err(|e| self.err(e))?;
        index_findings(&tx, id, vulns.iter()).map_err(|e| self.err(e))?;
        let mut events = Vec::new();
        for (kind, f) in changes {
            let (pkg, ver) = f
                .package()
                .map(|p| (Some(p.name.clone()), Some(p.version.clone())))
                .unwrap_or((None, None));
            let fixed = fixed(f);
            tx.execute(
                "INSERT INTO events (time, image_id, kind, finding, package, version, severity, fixed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![now, id, kind, f.id, pkg, ver, sev_rank(f.severity), fixed],
            )
            .map_err(|e| self.err(e))?;
            events.push(Event {
                seq: tx.last_insert_rowid(),
                time: rfc3339(now),
                image_id: id,
                kind: kind.to_string(),
                finding: f.id.clone(),
                package: pkg,
                version: ver,
                severity: f.severity.as_str().to_string(),
                fixed_version: fixed,
            });
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(events)
    }

    /// The most recently submitted image with `digest` (when given), else named `ref_name`
    /// (an image reference as [`crate::admission::ImageRef::name`] spells it).
    pub fn find_image(
        &self,
        ref_name: &str,
        digest: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        let conn = self.lock();
        if let Some(d) = digest {
            let hit: Option<i64> = conn
                .query_row(
                    "SELECT id FROM images WHERE digest = ?1 ORDER BY submitted_at DESC, id DESC LIMIT 1",
                    [d],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.err(e))?;
            // Not under this digest: not the same image, whatever its tag says.
            return Ok(hit);
        }
        conn.query_row(
            "SELECT id FROM images WHERE ref_name = ?1 ORDER BY submitted_at DESC, id DESC LIMIT 1",
            [ref_name],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    /// Every image id, in order.
    pub fn image_ids(&self) -> Result<Vec<i64>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare_cached("SELECT id FROM images ORDER BY id")
            .map_err(|e| self.err(e))?;
        let ids = st
            .query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        Ok(ids)
    }

    /// Image `id`'s report: as submitted, with the current vulnerability findings.
    pub fn report(&self, id: i64) -> Result<Option<ScanReport>, StoreError> {
        let Some((mut report, vulns)) = self.parts(id)? else {
            return Ok(None);
        };
        report.findings.extend(vulns);
        Ok(Some(report))
    }

    /// What a re-match needs of image `id`: its inventory and its current vulnerability
    /// findings.
    pub fn match_input(&self, id: i64) -> Result<Option<(Inventory, Vec<Finding>)>, StoreError> {
        Ok(self.parts(id)?.map(|(r, v)| (r.inventory, v)))
    }

    fn parts(&self, id: i64) -> Result<Option<(ScanReport, Vec<Finding>)>, StoreError> {
        let blobs: Option<(Vec<u8>, Vec<u8>)> = {
            let conn = self.lock();
            conn.query_row(
                "SELECT report, vulns FROM images WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?
        };
        let Some((report, vulns)) = blobs else {
            return Ok(None);
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            path: self.path.clone(),
            reason: format!("image {id}: {reason}"),
        };
        let report: ScanReport = decompress(&report).map_err(corrupt)?;
        let vulns: Vec<Finding> = decompress(&vulns).map_err(corrupt)?;
        Ok(Some((report, vulns)))
    }

    /// Image `id`'s inventory.
    pub fn inventory(&self, id: i64) -> Result<Option<Inventory>, StoreError> {
        Ok(self.parts(id)?.map(|(r, _)| r.inventory))
    }

    /// Images, newest submission first; with `only` given, those ids only.
    pub fn images(
        &self,
        only: Option<&[i64]>,
        limit: usize,
    ) -> Result<Vec<ImageSummary>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare_cached(
                "SELECT id, name, digest, kind, os, labels, submitted_at, matched_at,
                        (SELECT count(*) FROM packages p WHERE p.image_id = images.id)
                 FROM images ORDER BY submitted_at DESC, id DESC",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let id: i64 = r.get(0).map_err(|e| self.err(e))?;
            if only.is_some_and(|o| !o.contains(&id)) {
                continue;
            }
            let labels: String = r.get(5).map_err(|e| self.err(e))?;
            let matched: Option<i64> = r.get(7).map_err(|e| self.err(e))?;
            out.push(ImageSummary {
                id,
                name: r.get(1).map_err(|e| self.err(e))?,
                digest: r.get(2).map_err(|e| self.err(e))?,
                kind: r.get(3).map_err(|e| self.err(e))?,
                os: r.get(4).map_err(|e| self.err(e))?,
                labels: serde_json::from_str(&labels).unwrap_or_default(),
                submitted_at: rfc3339(r.get(6).map_err(|e| self.err(e))?),
                matched_at: matched.map(rfc3339),
                packages: r.get::<_, i64>(8).map_err(|e| self.err(e))?.max(0) as u64,
                findings: BTreeMap::new(),
            });
            if out.len() >= limit {
                break;
            }
        }
        drop(rows);
        let mut counts = conn
            .prepare_cached(
                "SELECT severity, count(*) FROM findings WHERE image_id = ?1 GROUP BY severity",
            )
            .map_err(|e| self.err(e))?;
        for img in &mut out {
            let rows: Vec<(i64, i64)> = counts
                .query_map([img.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(|e| self.err(e))?;
            for (sev, n) in rows {
                img.findings
                    .insert(sev_of(sev).as_str().to_string(), n.max(0) as u64);
            }
        }
        Ok(out)
    }

    pub fn image(&self, id: i64) -> Result<Option<ImageSummary>, StoreError> {
        Ok(self.images(Some(&[id]), 1)?.into_iter().next())
    }

    /// Image `id`'s packages.
    pub fn packages(&self, id: i64) -> Result<Vec<PackageRow>, StoreError> {
        self.package_rows(
            "SELECT image_id, name, version, kind, ecosystem, purl, layer FROM packages WHERE image_id = ?1 ORDER BY kind, name, version",
            rusqlite::params![id],
        )
    }

    /// Every package named `name` (case-insensitive) in any image.
    pub fn packages_named(&self, name: &str) -> Result<Vec<PackageRow>, StoreError> {
        self.package_rows(
            "SELECT image_id, name, version, kind, ecosystem, purl, layer FROM packages WHERE name = ?1 ORDER BY image_id, version",
            rusqlite::params![name],
        )
    }

    fn package_rows(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<PackageRow>, StoreError> {
        let conn = self.lock();
        let mut st = conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        st.query_map(p, |r| {
            Ok(PackageRow {
                image_id: r.get(0)?,
                name: r.get(1)?,
                version: r.get(2)?,
                kind: r.get(3)?,
                ecosystem: r.get(4)?,
                purl: r.get(5)?,
                layer: r.get(6)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err(e))
    }

    /// Findings matching `f`, highest severity first.
    pub fn findings(&self, f: &FindingFilter) -> Result<Vec<FindingRow>, StoreError> {
        let mut sql = String::from(
            "SELECT image_id, id, kind, severity, package, version, fixed, kev, title FROM findings WHERE severity >= ?1",
        );
        let mut args: Vec<rusqlite::types::Value> =
            vec![f.min_severity.map(sev_rank).unwrap_or(0).into()];
        if let Some(id) = f.image_id {
            args.push(id.into());
            sql.push_str(&format!(" AND image_id = ?{}", args.len()));
        }
        match f.fixed {
            Some(true) => sql.push_str(" AND fixed IS NOT NULL"),
            Some(false) => sql.push_str(" AND fixed IS NULL AND kind = 'vulnerability'"),
            None => {}
        }
        if f.kev {
            sql.push_str(" AND kev = 1");
        }
        if let Some(k) = f.kind {
            args.push(k.as_str().to_string().into());
            sql.push_str(&format!(" AND kind = ?{}", args.len()));
        }
        if let Some(p) = &f.package {
            args.push(p.clone().into());
            sql.push_str(&format!(" AND package = ?{} COLLATE NOCASE", args.len()));
        }
        sql.push_str(" ORDER BY severity DESC, image_id, id, package, version");
        args.push((f.limit.min(i64::MAX as usize) as i64).into());
        sql.push_str(&format!(" LIMIT ?{}", args.len()));
        self.finding_rows(&sql, rusqlite::params_from_iter(args))
    }

    /// The findings whose id or alias is `vid` (case-insensitive), in every image.
    pub fn findings_with_id(&self, vid: &str) -> Result<Vec<FindingRow>, StoreError> {
        self.finding_rows(
            "SELECT f.image_id, f.id, f.kind, f.severity, f.package, f.version, f.fixed, f.kev, f.title
             FROM finding_ids i JOIN findings f ON f.rid = i.rid
             WHERE i.vid = ?1 ORDER BY f.image_id, f.package, f.version",
            rusqlite::params![vid],
        )
    }

    fn finding_rows(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<FindingRow>, StoreError> {
        let conn = self.lock();
        let mut st = conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        st.query_map(p, |r| {
            Ok(FindingRow {
                image_id: r.get(0)?,
                id: r.get(1)?,
                kind: r.get(2)?,
                severity: sev_of(r.get(3)?).as_str().to_string(),
                package: r.get(4)?,
                version: r.get(5)?,
                fixed_version: r.get(6)?,
                kev: r.get::<_, i64>(7)? != 0,
                title: r.get(8)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err(e))
    }

    /// Events at or after `since` (seconds), oldest first, at most `limit`.
    pub fn events(&self, since: i64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare_cached(
                "SELECT seq, time, image_id, kind, finding, package, version, severity, fixed
                 FROM events WHERE time >= ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        st.query_map(params![since, limit.min(i64::MAX as usize) as i64], |r| {
            Ok(Event {
                seq: r.get(0)?,
                time: rfc3339(r.get(1)?),
                image_id: r.get(2)?,
                kind: r.get(3)?,
                finding: r.get(4)?,
                package: r.get(5)?,
                version: r.get(6)?,
                severity: sev_of(r.get(7)?).as_str().to_string(),
                fixed_version: r.get(8)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err(e))
    }

    /// Counts for `/metrics`: images, and findings per severity over every image.
    pub fn totals(&self) -> Result<(u64, BTreeMap<String, u64>), StoreError> {
        let conn = self.lock();
        let images: i64 = conn
            .query_row("SELECT count(*) FROM images", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let mut st = conn
            .prepare_cached("SELECT severity, count(*) FROM findings GROUP BY severity")
            .map_err(|e| self.err(e))?;
        let rows: Vec<(i64, i64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        let mut by = BTreeMap::new();
        for s in Severity::ALL {
            by.insert(s.as_str().to_string(), 0);
        }
        for (s, n) in rows {
            by.insert(sev_of(s).as_str().to_string(), n.max(0) as u64);
        }
        Ok((images.max(0) as u64, by))
    }

    /// Creates a token; returns its secret (shown once; only its hash is kept).
    pub fn create_token(&self, name: &str, scope: Scope, now: i64) -> Result<String, StoreError> {
        let secret = new_secret().map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            reason: format!("no randomness for a token: {e}"),
        })?;
        let conn = self.lock();
        conn.execute(
            "INSERT INTO tokens (name, hash, scope, created) VALUES (?1, ?2, ?3, ?4)",
            params![name, token_hash(&secret), scope.as_str(), now],
        )
        .map_err(|e| self.err(e))?;
        Ok(secret)
    }

    /// The token whose secret is `secret`, if any.
    pub fn token(&self, secret: &str) -> Result<Option<TokenInfo>, StoreError> {
        let conn = self.lock();
        let row: Option<(i64, String, String)> = conn
            .query_row(
                "SELECT id, name, scope FROM tokens WHERE hash = ?1",
                [token_hash(secret)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(id, name, scope)| {
            Scope::parse(&scope).map(|scope| TokenInfo { id, name, scope })
        }))
    }

    /// Whether any token exists (a server without one accepts no API call).
    pub fn has_tokens(&self) -> Result<bool, StoreError> {
        let conn = self.lock();
        conn.query_row("SELECT EXISTS (SELECT 1 FROM tokens)", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

fn index_packages(tx: &rusqlite::Transaction, id: i64, inv: &Inventory) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM packages WHERE image_id = ?1", [id])?;
    let mut st = tx.prepare_cached(
        "INSERT INTO packages (image_id, name, version, kind, ecosystem, purl, layer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for p in &inv.packages {
        st.execute(params![
            id,
            &*p.name,
            &*p.version,
            &*p.kind,
            moat_vuln::matcher::package_ecosystem(p),
            &*p.purl(),
            p.layer.map(i64::from),
        ])?;
    }
    Ok(())
}

/// Adds rows for `findings` of image `id` (the caller deleted the ones they replace).
fn index_findings<'a>(
    tx: &rusqlite::Transaction,
    id: i64,
    findings: impl Iterator<Item = &'a Finding>,
) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO findings (image_id, id, kind, severity, package, version, fixed, kev, title) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut ids = tx.prepare_cached("INSERT INTO finding_ids (vid, rid) VALUES (?1, ?2)")?;
    for f in findings {
        let v = f.vulnerability();
        let (pkg, ver) = f
            .package()
            .map(|p| (Some(p.name.as_str()), Some(p.version.as_str())))
            .unwrap_or((None, None));
        st.execute(params![
            id,
            f.id,
            f.kind().as_str(),
            sev_rank(f.severity),
            pkg,
            ver,
            v.and_then(|v| v.fixed_version.as_deref()),
            v.is_some_and(|v| v.kev),
            f.title,
        ])?;
        let rid = tx.last_insert_rowid();
        ids.execute(params![f.id, rid])?;
        for a in f.aliases.iter().filter(|a| !a.is_empty() && **a != f.id) {
            ids.execute(params![a, rid])?;
        }
    }
    Ok(())
}

fn compress_findings(f: &[&Finding]) -> Vec<u8> {
    let json = serde_json::to_vec(f).unwrap_or_else(|_| b"[]".to_vec());
    zstd::bulk::compress(&json, 3).unwrap_or(json)
}

fn compress(r: &ScanReport) -> Vec<u8> {
    let json = serde_json::to_vec(r).unwrap_or_default();
    zstd::bulk::compress(&json, 3).unwrap_or(json)
}

fn decompress<T: serde::de::DeserializeOwned>(blob: &[u8]) -> Result<T, String> {
    // zstd frames start with 28 b5 2f fd; anything else was stored uncompressed.
    let json = if blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let mut out = Vec::new();
        let mut d = zstd::stream::read::Decoder::new(blob).map_err(|e| e.to_string())?;
        // Stored reports are the server's own; the cap only stops a damaged frame.
        std::io::copy(&mut std::io::Read::take(&mut d, 1 << 30), &mut out)
            .map_err(|e| e.to_string())?;
        out
    } else {
        blob.to_vec()
    };
    serde_json::from_slice(&json).map_err(|e| e.to_string())
}

/// SHA-256 of a token's secret, hex.
pub fn token_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// `moat_` and 32 random bytes, hex.
fn new_secret() -> std::io::Result<String> {
    let mut b = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut b)?;
    Ok(format!("moat_{}", hex::encode(b)))
}
