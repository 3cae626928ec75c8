//! The server's store: one SQLite file (WAL), or a PostgreSQL database
//! (`postgres://...`); the same tables in both, the schema's migrations applied at open
//! ([`MIGRATIONS`]: each in its SQLite and its PostgreSQL spelling; with PostgreSQL under an
//! advisory lock, so that replicas starting together migrate once).
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

use crate::db::{Conn, DbError, PgPool, Pooled, Val, vals};
use moat_model::{Finding, FindingKind, Inventory, ScanReport, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The schema this build writes (`PRAGMA user_version`): the number of [`MIGRATIONS`].
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Every migration, in order: a store at version `n` gets `MIGRATIONS[n..]` at open, each
/// in one transaction with the version it brings. Append, never edit.
pub const MIGRATIONS: [Migration; 5] = [
    Migration {
        sqlite: SCHEMA_1,
        postgres: PG_SCHEMA_1,
    },
    Migration {
        sqlite: crate::jobs::SCHEMA_2,
        postgres: crate::jobs::PG_SCHEMA_2,
    },
    Migration {
        sqlite: SCHEMA_3,
        postgres: PG_SCHEMA_3,
    },
    Migration {
        sqlite: SCHEMA_4,
        postgres: PG_SCHEMA_4,
    },
    Migration {
        sqlite: SCHEMA_5,
        postgres: PG_SCHEMA_5,
    },
];

/// Schema 5: `events.purl`, the package URL of the finding's package: the same name and
/// version in two ecosystems (a CVE of `foo` 1.0 on PyPI and on npm) made two events that
/// said the same. Events written before have none.
const SCHEMA_5: &str = "ALTER TABLE events ADD COLUMN purl TEXT;";

const PG_SCHEMA_5: &str = "ALTER TABLE events ADD COLUMN IF NOT EXISTS purl TEXT;";

/// Schema 4: `images.index_digest`, the digest of the image index (multi-platform manifest
/// list) a registry image was chosen from, so that a `name@sha256:...` reference to the
/// index (what Kubernetes pods name for a multi-platform image) finds the image; and
/// `jobs_failed`, for admission's look at an image's recently failed scans.
const SCHEMA_4: &str = "
ALTER TABLE images ADD COLUMN index_digest TEXT;
CREATE INDEX IF NOT EXISTS images_index_digest ON images(index_digest, submitted_at);
CREATE INDEX IF NOT EXISTS jobs_failed ON jobs(state, finished_at);
";

const PG_SCHEMA_4: &str = "
ALTER TABLE images ADD COLUMN IF NOT EXISTS index_digest TEXT;
CREATE INDEX IF NOT EXISTS images_index_digest ON images(index_digest, submitted_at);
CREATE INDEX IF NOT EXISTS jobs_failed ON jobs(state, finished_at);
";

/// Schema 3: each distinct package once (`pkgs`: its JSON without layer and locations, the
/// key the matcher's answer depends on, and its vulnerability findings as last matched),
/// `packages.pkg_id` linking each image's packages to it, `findings.pkg_id` the package a
/// vulnerability finding came from, and `images.derived`: the image's vulnerability
/// findings are its packages' (its `vulns` blob is then empty and assembled when read), so
/// that a re-match changes them package by package for every image at once. Existing
/// packages are linked at open ([`Store::link_unlinked`]); existing images are derived at
/// their next re-match.
const SCHEMA_3: &str = "
CREATE TABLE IF NOT EXISTS pkgs (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  key BLOB NOT NULL,
  vulns BLOB
);
ALTER TABLE packages ADD COLUMN pkg_id INTEGER;
ALTER TABLE findings ADD COLUMN pkg_id INTEGER;
ALTER TABLE images ADD COLUMN derived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN npackages INTEGER;
CREATE INDEX IF NOT EXISTS packages_pkg ON packages(pkg_id, image_id);
CREATE INDEX IF NOT EXISTS findings_pkg ON findings(pkg_id, id);
CREATE INDEX IF NOT EXISTS findings_image_severity ON findings(image_id, severity, kind);
CREATE INDEX IF NOT EXISTS images_submitted ON images(submitted_at, id);
";

const PG_SCHEMA_3: &str = "
CREATE TABLE IF NOT EXISTS pkgs (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  hash BYTEA NOT NULL UNIQUE,
  key BYTEA NOT NULL,
  vulns BYTEA
);
ALTER TABLE packages ADD COLUMN IF NOT EXISTS pkg_id BIGINT;
ALTER TABLE findings ADD COLUMN IF NOT EXISTS pkg_id BIGINT;
ALTER TABLE images ADD COLUMN IF NOT EXISTS derived BIGINT NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN IF NOT EXISTS npackages BIGINT;
CREATE INDEX IF NOT EXISTS packages_pkg ON packages(pkg_id, image_id);
CREATE INDEX IF NOT EXISTS findings_pkg ON findings(pkg_id, id);
CREATE INDEX IF NOT EXISTS findings_image_severity ON findings(image_id, severity, kind);
CREATE INDEX IF NOT EXISTS images_submitted ON images(submitted_at, id);
";

/// One schema version, for each backend.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Schema 1 for PostgreSQL: SQLite's with PostgreSQL's types, case-insensitive names as
/// `lower()` indexes.
const PG_SCHEMA_1: &str = "
CREATE TABLE IF NOT EXISTS images (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL,
  ref_name TEXT NOT NULL DEFAULT '',
  digest TEXT,
  kind TEXT NOT NULL,
  os TEXT,
  labels TEXT NOT NULL DEFAULT '{}',
  submitted_at BIGINT NOT NULL,
  matched_at BIGINT,
  report BYTEA NOT NULL,
  vulns BYTEA NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS images_key ON images(name, coalesce(digest, ''));
CREATE INDEX IF NOT EXISTS images_ref ON images(ref_name, submitted_at);
CREATE INDEX IF NOT EXISTS images_digest ON images(digest, submitted_at);
CREATE TABLE IF NOT EXISTS packages (
  image_id BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  kind TEXT NOT NULL,
  ecosystem TEXT,
  purl TEXT NOT NULL,
  layer BIGINT
);
CREATE INDEX IF NOT EXISTS packages_name ON packages(lower(name), image_id);
CREATE INDEX IF NOT EXISTS packages_image ON packages(image_id);
CREATE TABLE IF NOT EXISTS findings (
  rid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  image_id BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity BIGINT NOT NULL,
  package TEXT,
  version TEXT,
  fixed TEXT,
  kev BIGINT NOT NULL DEFAULT 0,
  title TEXT
);
CREATE INDEX IF NOT EXISTS findings_image ON findings(image_id, kind);
CREATE INDEX IF NOT EXISTS findings_severity ON findings(severity);
CREATE TABLE IF NOT EXISTS finding_ids (
  vid TEXT NOT NULL,
  rid BIGINT NOT NULL REFERENCES findings(rid) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS finding_ids_vid ON finding_ids(lower(vid));
CREATE INDEX IF NOT EXISTS finding_ids_rid ON finding_ids(rid);
CREATE TABLE IF NOT EXISTS events (
  seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  time BIGINT NOT NULL,
  image_id BIGINT NOT NULL,
  kind TEXT NOT NULL,
  finding TEXT NOT NULL,
  package TEXT,
  version TEXT,
  severity BIGINT NOT NULL,
  fixed TEXT
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE TABLE IF NOT EXISTS tokens (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  scope TEXT NOT NULL,
  created BIGINT NOT NULL
);
";

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

/// Problems of the store. Each names the store's file (or URL, without its password).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Db { path: PathBuf, source: DbError },
    #[error(
        "{}: written by a newer moat (store schema {found}, this build knows {SCHEMA_VERSION})",
        path.display()
    )]
    Newer { path: PathBuf, found: i64 },
    #[error("{}: a stored report cannot be read: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

impl StoreError {
    /// Whether no pooled PostgreSQL connection was free in time (an overload, not a fault).
    pub fn is_pool_timeout(&self) -> bool {
        matches!(
            self,
            StoreError::Db {
                source: DbError::PoolTimeout { .. },
                ..
            }
        )
    }
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
    /// The image index's digest, for an image chosen from a multi-platform index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
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
    /// The package's URL (`pkg:pypi/foo@1.0`): tells apart the same name and version in two
    /// ecosystems. None for events stored before schema 5.
    pub purl: Option<String>,
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

/// The fixed, KEV and kind conditions of `f` on the findings table (its columns named with
/// `prefix`), appended to `sql` with their parameters in `args`.
fn finding_conditions(f: &FindingFilter, prefix: &str, sql: &mut String, args: &mut Vec<Val>) {
    match f.fixed {
        Some(true) => sql.push_str(&format!(" AND {prefix}fixed IS NOT NULL")),
        Some(false) => sql.push_str(&format!(
            " AND {prefix}fixed IS NULL AND {prefix}kind = 'vulnerability'"
        )),
        None => {}
    }
    if f.kev {
        sql.push_str(&format!(" AND {prefix}kev = 1"));
    }
    if let Some(k) = f.kind {
        args.push(k.as_str().into());
        sql.push_str(&format!(" AND {prefix}kind = ?{}", args.len()));
    }
}

/// The package URL of a finding's package (None without a package, or an empty purl).
fn purl_of(f: &Finding) -> Option<&str> {
    f.package()
        .map(|p| p.purl.as_str())
        .filter(|p| !p.is_empty())
}

/// A finding's package name and version, when it names a package.
fn package_of(f: &Finding) -> (Option<&str>, Option<&str>) {
    f.package()
        .map(|p| (Some(p.name.as_str()), Some(p.version.as_str())))
        .unwrap_or((None, None))
}

/// A finding's columns in the `findings` table, in order: id, kind, severity, package,
/// version, fixed, kev, title.
fn finding_row(f: &Finding) -> [Val; 8] {
    let v = f.vulnerability();
    let (pkg, ver) = package_of(f);
    [
        f.id.as_str().into(),
        f.kind().as_str().into(),
        sev_rank(f.severity).into(),
        pkg.into(),
        ver.into(),
        v.and_then(|v| v.fixed_version.as_deref()).into(),
        v.is_some_and(|v| v.kev).into(),
        f.title.as_deref().into(),
    ]
}

/// A vulnerability finding's fixed version.
fn fixed(f: &Finding) -> Option<String> {
    f.vulnerability().and_then(|v| v.fixed_version.clone())
}

/// The events a change of vulnerability findings from `old` to `new` (keyed by
/// [`finding_key`]) makes: `new`, `fixed_upstream` (a fixed version appeared) and `gone`.
fn finding_changes<'a, K: Ord, A: std::borrow::Borrow<Finding>, B: std::borrow::Borrow<Finding>>(
    old: &'a BTreeMap<K, A>,
    new: &'a BTreeMap<K, B>,
) -> Vec<(&'static str, &'a Finding)> {
    let mut changes = Vec::new();
    for (k, f) in new {
        let f = f.borrow();
        match old.get(k).map(|o| o.borrow()) {
            None => changes.push(("new", f)),
            Some(o) if fixed(o).is_none() && fixed(f).is_some() => {
                changes.push(("fixed_upstream", f))
            }
            Some(_) => {}
        }
    }
    for (k, f) in old {
        if !new.contains_key(k) {
            changes.push(("gone", f.borrow()));
        }
    }
    changes
}

/// What identifies one finding across re-matches: id, package, version and the package's
/// URL (the same name and version in two ecosystems are two findings, not one).
pub(crate) fn finding_key(f: &Finding) -> (String, String, String, String) {
    match f.package() {
        Some(p) => (
            f.id.clone(),
            p.name.clone(),
            p.version.clone(),
            p.purl.clone(),
        ),
        None => (
            f.id.clone(),
            f.location.as_ref().map(|l| l.display()).unwrap_or_default(),
            String::new(),
            String::new(),
        ),
    }
}

/// The store. With SQLite, one connection behind a mutex: SQLite serialises writers anyway,
/// and every call is short (the API runs them on tokio's blocking pool). With PostgreSQL, a
/// bounded pool of connections per process (server, worker): requests run side by side.
pub struct Store {
    backend: Backend,
    path: PathBuf,
}

enum Backend {
    Lite(Mutex<Conn>),
    Pg(PgPool),
}

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// PostgreSQL: connections open at most (SQLite: one, whatever this says).
    pub pool_size: usize,
    /// PostgreSQL: how long a call waits for a free connection before failing.
    pub pool_timeout: std::time::Duration,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            pool_size: 8,
            pool_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// A connection of the store for one call: SQLite's, locked, or one of the pool's.
pub(crate) enum ConnGuard<'a> {
    Lite(std::sync::MutexGuard<'a, Conn>),
    Pg(Pooled<'a>),
}

impl std::ops::Deref for ConnGuard<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        match self {
            ConnGuard::Lite(g) => g,
            ConnGuard::Pg(g) => g,
        }
    }
}

impl std::ops::DerefMut for ConnGuard<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        match self {
            ConnGuard::Lite(g) => g,
            ConnGuard::Pg(g) => g,
        }
    }
}

/// Whether `location` is a PostgreSQL URL rather than a file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// A store's location for messages: a URL's password left out.
pub fn display_location(location: &Path) -> String {
    let s = location.to_string_lossy();
    if !is_postgres_url(&s) {
        return location.display().to_string();
    }
    let (scheme, rest) = s.split_once("://").unwrap_or(("postgres", &s));
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        None => s.to_string(),
    }
}

impl Store {
    /// Opens (creating) the store at `path` and applies the migrations it lacks. A path
    /// that is a `postgres://` URL connects to that database instead.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, &StoreOptions::default())
    }

    /// [`Store::open`] with the pool's settings.
    pub fn open_with(path: &Path, opts: &StoreOptions) -> Result<Store, StoreError> {
        if let Some(url) = path.to_str().filter(|p| is_postgres_url(p)) {
            return Store::connect_with(url, opts);
        }
        let err = |source: rusqlite::Error| StoreError::Db {
            path: path.to_path_buf(),
            source: source.into(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("creating {}: {e}", dir.display()),
            })?;
        }
        let conn = rusqlite::Connection::open(path).map_err(err)?;
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
        for (i, m) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let v = i as i64 + 1;
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {}; PRAGMA user_version = {v}; COMMIT;",
                m.sqlite.trim().trim_end_matches(';')
            ))
            .map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                err(e)
            })?;
        }
        let store = Store {
            backend: Backend::Lite(Mutex::new(Conn::Lite(conn))),
            path: path.to_path_buf(),
        };
        store.link_unlinked()?;
        Ok(store)
    }

    /// Connects to PostgreSQL at `url` (no TLS: a database on the same host or network)
    /// and applies the migrations it lacks, once across replicas.
    pub fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, &StoreOptions::default())
    }

    /// [`Store::connect`] with the pool's settings.
    pub fn connect_with(url: &str, opts: &StoreOptions) -> Result<Store, StoreError> {
        let shown = PathBuf::from(display_location(Path::new(url)));
        let pool = PgPool::connect(url, opts.pool_size, opts.pool_timeout).map_err(|e| {
            StoreError::Db {
                path: shown.clone(),
                source: e,
            }
        })?;
        let store = Store {
            backend: Backend::Pg(pool),
            path: shown,
        };
        {
            let mut c = store.lock()?;
            let found = c
                .tx(|c| {
                    // One migrating replica at a time (released at commit).
                    c.exec("SELECT pg_advisory_xact_lock(7714002)", &[])?;
                    c.batch("CREATE TABLE IF NOT EXISTS moat_schema (version BIGINT NOT NULL)")?;
                    let found = match c.query_opt("SELECT version FROM moat_schema", &[])? {
                        Some(r) => r.i64(0)?,
                        None => {
                            c.exec("INSERT INTO moat_schema (version) VALUES (0)", &[])?;
                            0
                        }
                    };
                    if found > SCHEMA_VERSION {
                        return Ok::<_, DbError>(found);
                    }
                    for m in MIGRATIONS.iter().skip(found.max(0) as usize) {
                        c.batch(m.postgres)?;
                    }
                    c.exec("UPDATE moat_schema SET version = ?1", vals![SCHEMA_VERSION])?;
                    Ok(found)
                })
                .map_err(|e| store.err(e))?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::Newer {
                    path: store.path.clone(),
                    found,
                });
            }
        }
        store.link_unlinked()?;
        Ok(store)
    }

    /// Links the packages of images stored before schema 3 to their distinct package (once,
    /// at the first open after the migration: each such image's inventory is read).
    pub fn link_unlinked(&self) -> Result<(), StoreError> {
        let ids: Vec<i64> = self
            .lock()?
            .query(
                "SELECT DISTINCT image_id FROM packages WHERE pkg_id IS NULL ORDER BY image_id",
                &[],
            )
            .and_then(|rows| rows.iter().map(|r| r.i64(0)).collect())
            .map_err(|e| self.err(e))?;
        for id in ids {
            let Some(inv) = self.inventory(id)? else {
                continue;
            };
            self.lock()?
                .tx(|tx| index_packages(tx, id, &inv, None).map(|_| ()))
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// The store's file, or its URL without the password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the store is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Pg(_))
    }

    /// A case-insensitive comparison key ([`crate::db::ci`]).
    fn ci(&self, expr: &str) -> String {
        crate::db::ci(self.is_postgres(), expr)
    }

    pub(crate) fn err(&self, source: impl Into<DbError>) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source: source.into(),
        }
    }

    /// A connection for one call (or transaction): SQLite's, or one of PostgreSQL's pool
    /// (waiting for a free one at most the pool's timeout).
    pub(crate) fn lock(&self) -> Result<ConnGuard<'_>, StoreError> {
        match &self.backend {
            // A panic while holding the lock cannot leave a transaction half-applied (SQLite
            // rolls it back), so a poisoned lock is still a usable connection.
            Backend::Lite(m) => Ok(ConnGuard::Lite(m.lock().unwrap_or_else(|p| p.into_inner()))),
            Backend::Pg(pool) => pool.get().map(ConnGuard::Pg).map_err(|e| self.err(e)),
        }
    }

    /// The PostgreSQL pool: connections open and idle (None with SQLite).
    #[cfg(test)]
    pub(crate) fn pool_counts(&self) -> Option<(usize, usize)> {
        match &self.backend {
            Backend::Pg(p) => Some(p.counts()),
            Backend::Lite(_) => None,
        }
    }

    /// Stores a report as image `name`/`digest` (replacing the image's previous report, if
    /// any). Returns the image id.
    pub fn put_report(
        &self,
        report: &ScanReport,
        labels: &BTreeMap<String, String>,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.put_report_matched(report, labels, now, None)
    }

    /// [`Store::put_report`] of a report whose vulnerability findings are the server's
    /// match, `matched` the findings of each distinct package ([`package_key`] ->
    /// findings without location). When each package's findings are the ones stored for it
    /// (or it had none yet), the image's are derived from its packages'
    /// (see [`SCHEMA_3`]).
    pub fn put_report_matched(
        &self,
        report: &ScanReport,
        labels: &BTreeMap<String, String>,
        now: i64,
        matched: Option<&PkgFindings>,
    ) -> Result<i64, StoreError> {
        let inv = &report.inventory;
        let name = inv.artifact.name.clone();
        let digest = inv.artifact.digest().map(str::to_string);
        let index_digest = inv.artifact.index_digest.clone();
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
        let ref_name = moat_registry::ImageRef::parse(&name)
            .map(|r| r.name())
            .unwrap_or_else(|| name.clone());
        let labels_json = serde_json::to_string(labels).unwrap_or_else(|_| "{}".into());
        let mut conn = self.lock()?;
        conn.tx(|tx| {
            if tx.is_pg() {
                // Two replicas storing the same new image: one inserts, the other waits.
                tx.exec(
                    "SELECT pg_advisory_xact_lock(hashtext(?1))",
                    vals![name.as_str()],
                )?;
            }
            let existing = tx.query_opt(
                "SELECT id FROM images WHERE name = ?1 AND coalesce(digest, '') = coalesce(?2, '')",
                vals![name.as_str(), digest.clone()],
            )?;
            let id = match existing {
                Some(r) => {
                    let id = r.i64(0)?;
                    tx.exec(
                        "UPDATE images SET kind = ?2, os = ?3, labels = ?4, submitted_at = ?5, matched_at = ?5, report = ?6, vulns = ?7, ref_name = ?8, index_digest = ?9 WHERE id = ?1",
                        vals![id, inv.artifact.kind.as_str(), os.clone(), labels_json.as_str(), now, blob.clone(), vulns_blob.clone(), ref_name.as_str(), index_digest.clone()],
                    )?;
                    id
                }
                None => tx
                    .query_one(
                        "INSERT INTO images (name, digest, kind, os, labels, submitted_at, matched_at, report, vulns, ref_name, index_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                        vals![name.as_str(), digest.clone(), inv.artifact.kind.as_str(), os.clone(), labels_json.as_str(), now, blob.clone(), vulns_blob.clone(), ref_name.as_str(), index_digest.clone()],
                    )?
                    .i64(0)?,
            };
            let derived = index_packages(tx, id, inv, matched)?;
            tx.exec("DELETE FROM findings WHERE image_id = ?1", vals![id])?;
            match derived {
                Some(rows) => {
                    tx.exec(
                        "UPDATE images SET derived = 1, vulns = ?2 WHERE id = ?1",
                        vals![id, Vec::<u8>::new()],
                    )?;
                    let others = report
                        .findings
                        .iter()
                        .filter(|f| f.kind() != FindingKind::Vulnerability)
                        .map(|f| (None, f));
                    index_findings(tx, id, others)?;
                    index_findings(tx, id, rows.iter().map(|(p, f)| (Some(*p), f)))?;
                }
                None => {
                    tx.exec("UPDATE images SET derived = 0 WHERE id = ?1", vals![id])?;
                    index_findings(tx, id, report.findings.iter().map(|f| (None, f)))?;
                }
            }
            Ok::<_, DbError>(id)
        })
        .map_err(|e| self.err(e))
    }

    /// Sets `matched_at` of images whose findings a re-match left as they were (one
    /// statement per chunk of ids, not one per image).
    pub fn rematched_unchanged(&self, ids: &[i64], now: i64) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        for chunk in ids.chunks(ID_CHUNK) {
            let mut p = vec![Val::Int(now)];
            p.extend(ids_vals(chunk));
            let list = (2..=chunk.len() + 1)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            conn.exec(
                &format!("UPDATE images SET matched_at = ?1 WHERE id IN ({list})"),
                &p,
            )
            .map_err(|e| self.err(e))?;
        }
        Ok(())
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
        self.rematched_derived(id, old, vulns, None, now)
    }

    /// [`Store::rematched`]; with `derived` (each vulnerability finding with the
    /// distinct package it came from: `vulns` as the packages' stored findings give them),
    /// the image's findings become derived from its packages'.
    pub fn rematched_derived(
        &self,
        id: i64,
        old: Vec<Finding>,
        vulns: Vec<Finding>,
        derived: Option<&[(i64, Finding)]>,
        now: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let old: BTreeMap<_, Finding> = old.into_iter().map(|f| (finding_key(&f), f)).collect();
        let new: BTreeMap<_, &Finding> = vulns.iter().map(|f| (finding_key(f), f)).collect();
        let changes = finding_changes(&old, &new);
        // Findings that changed otherwise (a severity, a title) are rewritten without an event.
        let differs = old.len() != new.len() || old.iter().any(|(k, f)| new.get(k) != Some(&f));
        let mut conn = self.lock()?;
        if changes.is_empty() && !differs && derived.is_none() {
            conn.exec(
                "UPDATE images SET matched_at = ?2 WHERE id = ?1",
                vals![id, now],
            )
            .map_err(|e| self.err(e))?;
            return Ok(Vec::new());
        }
        let blob = match derived {
            Some(_) => Vec::new(),
            None => compress_findings(&vulns.iter().collect::<Vec<_>>()),
        };
        conn.tx(|tx| {
            tx.exec(
                "UPDATE images SET vulns = ?2, matched_at = ?3, derived = ?4 WHERE id = ?1",
                vals![id, blob.clone(), now, derived.is_some()],
            )?;
            tx.exec(
                "DELETE FROM findings WHERE image_id = ?1 AND kind = 'vulnerability'",
                vals![id],
            )?;
            match derived {
                Some(rows) => index_findings(tx, id, rows.iter().map(|(p, f)| (Some(*p), f)))?,
                None => index_findings(tx, id, vulns.iter().map(|f| (None, f)))?,
            }
            let mut events = Vec::new();
            for (kind, f) in &changes {
                let (pkg, ver) = package_of(f);
                let (pkg, ver) = (pkg.map(str::to_string), ver.map(str::to_string));
                let fixed = fixed(f);
                let purl = purl_of(f).map(str::to_string);
                let seq = tx
                    .query_one(
                        "INSERT INTO events (time, image_id, kind, finding, package, version, severity, fixed, purl) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING seq",
                        vals![now, id, *kind, f.id.as_str(), pkg.clone(), ver.clone(), sev_rank(f.severity), fixed.clone(), purl.clone()],
                    )?
                    .i64(0)?;
                events.push(Event {
                    seq,
                    time: rfc3339(now),
                    image_id: id,
                    kind: kind.to_string(),
                    finding: f.id.clone(),
                    package: pkg,
                    version: ver,
                    purl,
                    severity: f.severity.as_str().to_string(),
                    fixed_version: fixed,
                });
            }
            Ok::<_, DbError>(events)
        })
        .map_err(|e| self.err(e))
    }

    /// The most recently submitted image with `digest` (when given), else named `ref_name`
    /// (an image reference as [`moat_registry::ImageRef::name`] spells it).
    pub fn find_image(
        &self,
        ref_name: &str,
        digest: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        let mut conn = self.lock()?;
        let hit = if let Some(d) = digest {
            // Not under this digest (its manifest's, or the index's it was chosen from): not
            // the same image, whatever its tag says.
            conn.query_opt(
                "SELECT id FROM images WHERE digest = ?1 OR index_digest = ?1 ORDER BY submitted_at DESC, id DESC LIMIT 1",
                vals![d],
            )
        } else {
            conn.query_opt(
                "SELECT id FROM images WHERE ref_name = ?1 ORDER BY submitted_at DESC, id DESC LIMIT 1",
                vals![ref_name],
            )
        }
        .map_err(|e| self.err(e))?;
        hit.map(|r| r.i64(0)).transpose().map_err(|e| self.err(e))
    }

    /// Every image id, in order.
    pub fn image_ids(&self) -> Result<Vec<i64>, StoreError> {
        let rows = self
            .lock()?
            .query("SELECT id FROM images ORDER BY id", &[])
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| r.i64(0))
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
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
        let row = self
            .lock()?
            .query_opt(
                "SELECT report, vulns, derived FROM images WHERE id = ?1",
                vals![id],
            )
            .map_err(|e| self.err(e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (report, vulns, derived) = (
            row.blob(0).map_err(|e| self.err(e))?,
            row.blob(1).map_err(|e| self.err(e))?,
            row.i64(2).map_err(|e| self.err(e))? != 0,
        );
        let corrupt = |reason: String| StoreError::Corrupt {
            path: self.path.clone(),
            reason: format!("image {id}: {reason}"),
        };
        let mut report: ScanReport = decompress(&report).map_err(corrupt)?;
        let vulns: Vec<Finding> = if derived {
            let known = self.pkg_findings_of(id)?;
            crate::rematch::assemble(&mut report.inventory, |key, _| {
                known.get(key).cloned().unwrap_or_default()
            })
        } else {
            decompress(&vulns).map_err(corrupt)?
        };
        Ok(Some((report, vulns)))
    }

    /// The stored findings of image `id`'s distinct packages, by [`package_key`].
    fn pkg_findings_of(&self, id: i64) -> Result<PkgFindings, StoreError> {
        let rows = self
            .lock()?
            .query(
                "SELECT key, vulns FROM pkgs WHERE id IN (SELECT pkg_id FROM packages WHERE image_id = ?1)",
                vals![id],
            )
            .map_err(|e| self.err(e))?;
        let mut out = PkgFindings::new();
        for r in rows {
            let key = r.blob(0).map_err(|e| self.err(e))?;
            let found = match r.opt_blob(1).map_err(|e| self.err(e))? {
                Some(b) => decompress(&b).map_err(|reason| StoreError::Corrupt {
                    path: self.path.clone(),
                    reason: format!("image {id}'s package findings: {reason}"),
                })?,
                None => Vec::new(),
            };
            out.insert(key, found);
        }
        Ok(out)
    }

    /// The distinct packages some image has: id, key ([`package_key`]) and findings as
    /// last matched (None: never matched).
    pub fn linked_pkgs(&self) -> Result<Vec<StoredPkg>, StoreError> {
        let rows = self
            .lock()?
            .query(
                "SELECT id, key, vulns FROM pkgs k WHERE EXISTS (SELECT 1 FROM packages p WHERE p.pkg_id = k.id) ORDER BY id",
                &[],
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let e = |e| self.err(e);
            let id = r.i64(0).map_err(e)?;
            let vulns = match r.opt_blob(2).map_err(e)? {
                Some(b) => Some(decompress(&b).map_err(|reason| StoreError::Corrupt {
                    path: self.path.clone(),
                    reason: format!("package {id}'s findings: {reason}"),
                })?),
                None => None,
            };
            out.push((id, r.blob(1).map_err(e)?, vulns));
        }
        Ok(out)
    }

    /// Stores the new findings of distinct packages whose findings changed, and changes
    /// every derived image of theirs with set-based statements: its findings rows for the
    /// package replaced, an event per finding that appeared, got a fixed version or
    /// disappeared. A transaction per chunk of packages. Images not derived are left to
    /// [`Store::rematched_derived`].
    pub fn pkgs_rematched(
        &self,
        changed: &[(i64, &[Finding])],
        now: i64,
    ) -> Result<(), StoreError> {
        const CHUNK: usize = 64;
        let mut conn = self.lock()?;
        for chunk in changed.chunks(CHUNK) {
            conn.tx(|tx| {
                for (pid, new) in chunk {
                    pkg_rematched(tx, *pid, new, now)?;
                }
                Ok::<_, DbError>(())
            })
            .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Sets `matched_at` of every derived image (their findings were changed, where they
    /// changed, by [`Store::pkgs_rematched`]); their number.
    pub fn derived_matched(&self, now: i64) -> Result<u64, StoreError> {
        self.lock()?
            .exec(
                "UPDATE images SET matched_at = ?1 WHERE derived = 1",
                vals![now],
            )
            .map_err(|e| self.err(e))
    }

    /// Images whose findings are not derived from their packages', in order.
    pub fn underived_ids(&self) -> Result<Vec<i64>, StoreError> {
        let rows = self
            .lock()?
            .query("SELECT id FROM images WHERE derived = 0 ORDER BY id", &[])
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| r.i64(0))
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The last event's sequence number (0 without any).
    pub fn last_event_seq(&self) -> Result<i64, StoreError> {
        self.lock()?
            .query_one("SELECT coalesce(max(seq), 0) FROM events", &[])
            .and_then(|r| r.i64(0))
            .map_err(|e| self.err(e))
    }

    /// Events after sequence number `seq`, in order.
    pub fn events_after(&self, seq: i64) -> Result<Vec<Event>, StoreError> {
        self.event_rows(
            "SELECT seq, time, image_id, kind, finding, package, version, severity, fixed, purl
             FROM events WHERE seq > ?1 ORDER BY seq",
            vals![seq],
        )
    }

    /// Image `id`'s inventory.
    pub fn inventory(&self, id: i64) -> Result<Option<Inventory>, StoreError> {
        Ok(self.parts(id)?.map(|(r, _)| r.inventory))
    }

    /// Images, newest submission first, at most `limit`; with `only` given, those ids only.
    /// Only the images returned are read (by id, in chunks), so one image or the few of a
    /// query cost the same in a store of ten or of ten thousand.
    pub fn images(
        &self,
        only: Option<&[i64]>,
        limit: usize,
    ) -> Result<Vec<ImageSummary>, StoreError> {
        const COLS: &str =
            "id, name, digest, kind, os, labels, submitted_at, matched_at, npackages, index_digest";
        let mut conn = self.lock()?;
        let e = |e| self.err(e);
        let limit_val = Val::Int(limit.min(i64::MAX as usize) as i64);
        let rows = match only {
            None => conn
                .query(
                    &format!(
                        "SELECT {COLS} FROM images ORDER BY submitted_at DESC, id DESC LIMIT ?1"
                    ),
                    &[limit_val],
                )
                .map_err(e)?,
            Some(ids) => {
                let mut rows = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(ID_CHUNK) {
                    rows.extend(
                        conn.query(
                            &format!("SELECT {COLS} FROM images WHERE id IN ({})", params(chunk)),
                            &ids_vals(chunk),
                        )
                        .map_err(e)?,
                    );
                }
                // Newest first, as without `only`.
                let key = |r: &crate::db::Row| (r.i64(6).unwrap_or(0), r.i64(0).unwrap_or(0));
                rows.sort_by_key(|r| std::cmp::Reverse(key(r)));
                rows.truncate(limit);
                rows
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let labels = r.text(5).map_err(e)?;
            out.push(ImageSummary {
                id: r.i64(0).map_err(e)?,
                name: r.text(1).map_err(e)?,
                digest: r.opt_text(2).map_err(e)?,
                kind: r.text(3).map_err(e)?,
                os: r.opt_text(4).map_err(e)?,
                labels: serde_json::from_str(&labels).unwrap_or_default(),
                submitted_at: rfc3339(r.i64(6).map_err(e)?),
                matched_at: r.opt_i64(7).map_err(e)?.map(rfc3339),
                packages: r.opt_i64(8).map_err(e)?.unwrap_or(0).max(0) as u64,
                index_digest: r.opt_text(9).map_err(e)?,
                findings: BTreeMap::new(),
            });
        }
        // Package and finding counts of the images returned, a chunk of ids at a time.
        let at: std::collections::HashMap<i64, usize> =
            out.iter().enumerate().map(|(i, img)| (img.id, i)).collect();
        let ids: Vec<i64> = out.iter().map(|i| i.id).collect();
        // Package counts are stored with the image (schema 3); counted only for an image
        // without one.
        let uncounted: Vec<i64> = out
            .iter()
            .filter(|i| i.packages == 0)
            .map(|i| i.id)
            .collect();
        for chunk in uncounted.chunks(ID_CHUNK) {
            let (list, p) = (params(chunk), ids_vals(chunk));
            let rows = conn
                .query(
                    &format!(
                        "SELECT image_id, count(*) FROM packages WHERE image_id IN ({list}) GROUP BY image_id"
                    ),
                    &p,
                )
                .map_err(e)?;
            for r in rows {
                let (id, n) = (r.i64(0).map_err(e)?, r.i64(1).map_err(e)?);
                if let Some(&i) = at.get(&id) {
                    out[i].packages = n.max(0) as u64;
                }
            }
        }
        for chunk in ids.chunks(ID_CHUNK) {
            let (list, p) = (params(chunk), ids_vals(chunk));
            let rows = conn
                .query(
                    &format!(
                        "SELECT image_id, severity, count(*) FROM findings WHERE image_id IN ({list}) GROUP BY image_id, severity"
                    ),
                    &p,
                )
                .map_err(e)?;
            for r in rows {
                let (id, sev, n) = (
                    r.i64(0).map_err(e)?,
                    r.i64(1).map_err(e)?,
                    r.i64(2).map_err(e)?,
                );
                if let Some(&i) = at.get(&id) {
                    out[i]
                        .findings
                        .insert(sev_of(sev).as_str().to_string(), n.max(0) as u64);
                }
            }
        }
        Ok(out)
    }

    /// Ids of the images, newest submission first, at most `limit`, that have a finding
    /// matching `findings` (when given: its severity, fixed, KEV and kind), a package named
    /// `package` (case-insensitive) and the label `label` (key, value): one indexed query,
    /// the limit applied by the database.
    pub fn image_ids_where(
        &self,
        findings: Option<&FindingFilter>,
        package: Option<&str>,
        label: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let pg = self.is_postgres();
        let mut sql = String::from("SELECT i.id FROM images i WHERE 1 = 1");
        let mut args: Vec<Val> = Vec::new();
        if let Some(f) = findings {
            args.push(f.min_severity.map(sev_rank).unwrap_or(0).into());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM findings f WHERE f.image_id = i.id AND f.severity >= ?{}",
                args.len()
            ));
            finding_conditions(f, "f.", &mut sql, &mut args);
            sql.push(')');
        }
        if let Some(p) = package {
            args.push(p.into());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM packages p WHERE p.image_id = i.id AND {} = {})",
                self.ci("p.name"),
                self.ci(&format!("?{}", args.len()))
            ));
        }
        if let Some((k, v)) = label {
            if pg {
                args.push(k.into());
                sql.push_str(&format!(
                    " AND (CAST(i.labels AS JSONB) ->> CAST(?{} AS TEXT))",
                    args.len()
                ));
                args.push(v.into());
                sql.push_str(&format!(" = ?{}", args.len()));
            } else {
                args.push(k.into());
                args.push(v.into());
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM json_each(i.labels) j WHERE j.key = ?{} AND j.value = ?{})",
                    args.len() - 1,
                    args.len()
                ));
            }
        }
        args.push((limit.min(i64::MAX as usize) as i64).into());
        sql.push_str(&format!(
            " ORDER BY i.submitted_at DESC, i.id DESC LIMIT ?{}",
            args.len()
        ));
        let rows = self.lock()?.query(&sql, &args).map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| r.i64(0))
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    pub fn image(&self, id: i64) -> Result<Option<ImageSummary>, StoreError> {
        Ok(self.images(Some(&[id]), 1)?.into_iter().next())
    }

    /// Image `id`'s packages.
    pub fn packages(&self, id: i64) -> Result<Vec<PackageRow>, StoreError> {
        self.package_rows(
            "SELECT image_id, name, version, kind, ecosystem, purl, layer FROM packages WHERE image_id = ?1 ORDER BY kind, name, version",
            vals![id],
        )
    }

    /// Every package named `name` (case-insensitive) in any image.
    pub fn packages_named(&self, name: &str) -> Result<Vec<PackageRow>, StoreError> {
        let sql = format!(
            "SELECT image_id, name, version, kind, ecosystem, purl, layer FROM packages WHERE {} = {} ORDER BY image_id, version",
            self.ci("name"),
            self.ci("?1")
        );
        self.package_rows(&sql, vals![name])
    }

    fn package_rows(&self, sql: &str, p: &[Val]) -> Result<Vec<PackageRow>, StoreError> {
        let rows = self.lock()?.query(sql, p).map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(PackageRow {
                    image_id: r.i64(0)?,
                    name: r.text(1)?,
                    version: r.text(2)?,
                    kind: r.text(3)?,
                    ecosystem: r.opt_text(4)?,
                    purl: r.text(5)?,
                    layer: r.opt_i64(6)?,
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.err(e))
    }

    /// Findings matching `f`, highest severity first.
    pub fn findings(&self, f: &FindingFilter) -> Result<Vec<FindingRow>, StoreError> {
        let pg = self.is_postgres();
        let mut sql = String::from(
            "SELECT image_id, id, kind, severity, package, version, fixed, kev, title FROM findings WHERE severity >= ?1",
        );
        let mut args: Vec<Val> = vec![f.min_severity.map(sev_rank).unwrap_or(0).into()];
        if let Some(id) = f.image_id {
            args.push(id.into());
            sql.push_str(&format!(" AND image_id = ?{}", args.len()));
        }
        finding_conditions(f, "", &mut sql, &mut args);
        if let Some(p) = &f.package {
            args.push(p.clone().into());
            if pg {
                sql.push_str(&format!(" AND lower(package) = lower(?{})", args.len()));
            } else {
                sql.push_str(&format!(" AND package = ?{} COLLATE NOCASE", args.len()));
            }
        }
        sql.push_str(" ORDER BY severity DESC, image_id, id, package, version");
        args.push((f.limit.min(i64::MAX as usize) as i64).into());
        sql.push_str(&format!(" LIMIT ?{}", args.len()));
        self.finding_rows(&sql, &args)
    }

    /// The findings whose id or alias is `vid` (case-insensitive), in every image.
    pub fn findings_with_id(&self, vid: &str) -> Result<Vec<FindingRow>, StoreError> {
        let sql = format!(
            "SELECT f.image_id, f.id, f.kind, f.severity, f.package, f.version, f.fixed, f.kev, f.title
             FROM finding_ids i JOIN findings f ON f.rid = i.rid
             WHERE {} = {} ORDER BY f.image_id, f.package, f.version",
            self.ci("i.vid"),
            self.ci("?1")
        );
        self.finding_rows(&sql, vals![vid])
    }

    /// Image `image_id`'s findings whose id or alias is one of `vids` (case-insensitive):
    /// one query, whatever the number of ids.
    pub fn findings_with_ids_in(
        &self,
        vids: &[String],
        image_id: i64,
    ) -> Result<Vec<FindingRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in vids.chunks(ID_CHUNK) {
            let list = (2..=chunk.len() + 1)
                .map(|i| self.ci(&format!("?{i}")))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT DISTINCT f.image_id, f.id, f.kind, f.severity, f.package, f.version, f.fixed, f.kev, f.title
                 FROM finding_ids i JOIN findings f ON f.rid = i.rid
                 WHERE f.image_id = ?1 AND {} IN ({list}) ORDER BY f.image_id, f.package, f.version",
                self.ci("i.vid"),
            );
            let mut p = vec![Val::Int(image_id)];
            p.extend(chunk.iter().map(|v| Val::Text(v.clone())));
            out.extend(self.finding_rows(&sql, &p)?);
        }
        Ok(out)
    }

    fn finding_rows(&self, sql: &str, p: &[Val]) -> Result<Vec<FindingRow>, StoreError> {
        let rows = self.lock()?.query(sql, p).map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(FindingRow {
                    image_id: r.i64(0)?,
                    id: r.text(1)?,
                    kind: r.text(2)?,
                    severity: sev_of(r.i64(3)?).as_str().to_string(),
                    package: r.opt_text(4)?,
                    version: r.opt_text(5)?,
                    fixed_version: r.opt_text(6)?,
                    kev: r.i64(7)? != 0,
                    title: r.opt_text(8)?,
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.err(e))
    }

    /// Events at or after `since` (seconds), oldest first, at most `limit`.
    pub fn events(&self, since: i64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.event_rows(
            "SELECT seq, time, image_id, kind, finding, package, version, severity, fixed, purl
             FROM events WHERE time >= ?1 ORDER BY seq LIMIT ?2",
            vals![since, limit.min(i64::MAX as usize) as i64],
        )
    }

    fn event_rows(&self, sql: &str, p: &[Val]) -> Result<Vec<Event>, StoreError> {
        let rows = self.lock()?.query(sql, p).map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(Event {
                    seq: r.i64(0)?,
                    time: rfc3339(r.i64(1)?),
                    image_id: r.i64(2)?,
                    kind: r.text(3)?,
                    finding: r.text(4)?,
                    package: r.opt_text(5)?,
                    version: r.opt_text(6)?,
                    purl: r.opt_text(9)?,
                    severity: sev_of(r.i64(7)?).as_str().to_string(),
                    fixed_version: r.opt_text(8)?,
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.err(e))
    }

    /// Counts for `/metrics`: images, and findings per severity over every image.
    pub fn totals(&self) -> Result<(u64, BTreeMap<String, u64>), StoreError> {
        let mut conn = self.lock()?;
        let e = |e| self.err(e);
        let images = conn
            .query_one("SELECT count(*) FROM images", &[])
            .and_then(|r| r.i64(0))
            .map_err(e)?;
        let rows = conn
            .query(
                "SELECT severity, count(*) FROM findings GROUP BY severity",
                &[],
            )
            .map_err(e)?;
        let mut by = BTreeMap::new();
        for s in Severity::ALL {
            by.insert(s.as_str().to_string(), 0);
        }
        for r in rows {
            let (s, n) = (r.i64(0).map_err(e)?, r.i64(1).map_err(e)?);
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
        self.lock()?
            .exec(
                "INSERT INTO tokens (name, hash, scope, created) VALUES (?1, ?2, ?3, ?4)",
                vals![name, token_hash(&secret), scope.as_str(), now],
            )
            .map_err(|e| self.err(e))?;
        Ok(secret)
    }

    /// The token whose secret is `secret`, if any.
    pub fn token(&self, secret: &str) -> Result<Option<TokenInfo>, StoreError> {
        let row = self
            .lock()?
            .query_opt(
                "SELECT id, name, scope FROM tokens WHERE hash = ?1",
                vals![token_hash(secret)],
            )
            .map_err(|e| self.err(e))?;
        let Some(r) = row else { return Ok(None) };
        let e = |e| self.err(e);
        let (id, name, scope) = (
            r.i64(0).map_err(e)?,
            r.text(1).map_err(e)?,
            r.text(2).map_err(e)?,
        );
        Ok(Scope::parse(&scope).map(|scope| TokenInfo { id, name, scope }))
    }

    /// Whether any token exists (a server without one accepts no API call).
    pub fn has_tokens(&self) -> Result<bool, StoreError> {
        self.lock()?
            .query_one("SELECT count(*) FROM (SELECT 1 FROM tokens LIMIT 1) t", &[])
            .and_then(|r| r.i64(0))
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }
}

/// Ids bound per `IN (...)` list (SQLite allows 32,766 parameters, PostgreSQL 65,535).
const ID_CHUNK: usize = 500;

/// `?1, ?2, ...` for `chunk`.
fn params(chunk: &[i64]) -> String {
    (1..=chunk.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ids_vals(chunk: &[i64]) -> Vec<Val> {
    chunk.iter().map(|&i| Val::Int(i)).collect()
}

/// A distinct package as stored: id, key ([`package_key`]), findings as last matched
/// (None: never matched).
pub type StoredPkg = (i64, Vec<u8>, Option<Vec<Finding>>);

/// Each distinct package's vulnerability findings (without where it was found), by
/// [`package_key`].
pub type PkgFindings = std::collections::HashMap<Vec<u8>, Vec<Finding>>;

/// A distinct package's key: its JSON without its layer and locations (all the matcher's
/// answer depends on). They are taken out for the key and put back.
pub fn package_key(pkg: &mut moat_model::Package, out: &mut Vec<u8>) {
    let (layer, locations) = (pkg.layer.take(), std::mem::take(&mut pkg.locations));
    out.clear();
    // A package always serializes; an empty key would only share findings with another
    // such package.
    let _ = serde_json::to_writer(&mut *out, &*pkg);
    (pkg.layer, pkg.locations) = (layer, locations);
}

/// Rewrites image `id`'s package rows, each linked to its distinct package (added when
/// new). With `matched` (the server's findings of each distinct package at submission):
/// each package's findings, with its distinct package's id, when every one agrees with the
/// findings stored for its package (set where there were none), else None: the image
/// cannot be derived from its packages.
fn index_packages(
    tx: &mut Conn,
    id: i64,
    inv: &Inventory,
    matched: Option<&PkgFindings>,
) -> Result<Option<Vec<(i64, Finding)>>, DbError> {
    tx.exec("DELETE FROM packages WHERE image_id = ?1", vals![id])?;
    tx.exec(
        "UPDATE images SET npackages = ?2 WHERE id = ?1",
        vals![id, inv.packages.len() as i64],
    )?;
    let mut linked: std::collections::HashMap<Vec<u8>, (i64, bool)> = Default::default();
    let mut derived = matched.map(|_| Vec::new());
    let mut key = Vec::new();
    for p in &inv.packages {
        package_key(&mut p.clone(), &mut key);
        let found = matched.and_then(|m| m.get(&key));
        let (pid, agrees) = match linked.get(&key) {
            Some(v) => *v,
            None => {
                let v = link_pkg(tx, &key, found)?;
                linked.insert(key.clone(), v);
                v
            }
        };
        tx.exec(
            "INSERT INTO packages (image_id, name, version, kind, ecosystem, purl, layer, pkg_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            vals![
                id,
                &*p.name,
                &*p.version,
                &*p.kind,
                moat_vuln::matcher::package_ecosystem(p).map(|e| e.to_string()),
                p.purl().to_string(),
                p.layer.map(i64::from),
                pid,
            ],
        )?;
        match (found, agrees) {
            (Some(found), true) => {
                if let Some(d) = derived.as_mut() {
                    d.extend(found.iter().map(|f| (pid, f.clone())));
                }
            }
            _ => derived = None,
        }
    }
    Ok(derived)
}

/// The id of the distinct package `key` (added when new), and whether `found` agrees with
/// its stored findings (stored when it had none).
fn link_pkg(
    tx: &mut Conn,
    key: &[u8],
    found: Option<&Vec<Finding>>,
) -> Result<(i64, bool), DbError> {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(key).to_vec();
    tx.exec(
        "INSERT INTO pkgs (hash, key) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
        vals![hash.clone(), key.to_vec()],
    )?;
    // PostgreSQL: a re-match changing this package's findings waits for this submission
    // (it then changes this image's too).
    let sql = if tx.is_pg() {
        "SELECT id, vulns FROM pkgs WHERE hash = ?1 FOR SHARE"
    } else {
        "SELECT id, vulns FROM pkgs WHERE hash = ?1"
    };
    let r = tx.query_one(sql, vals![hash])?;
    let pid = r.i64(0)?;
    let Some(found) = found else {
        return Ok((pid, false));
    };
    let blob = compress_findings(&found.iter().collect::<Vec<_>>());
    match r.opt_blob(1)? {
        None => {
            tx.exec("UPDATE pkgs SET vulns = ?2 WHERE id = ?1", vals![pid, blob])?;
            Ok((pid, true))
        }
        Some(b) => Ok((
            pid,
            b == blob || decompress::<Vec<Finding>>(&b).is_ok_and(|o| &o == found),
        )),
    }
}

/// Distinct package `pid`'s findings are now `new`: stored, and every derived image of it
/// changed (its findings rows for the package, an event per change).
fn pkg_rematched(tx: &mut Conn, pid: i64, new: &[Finding], now: i64) -> Result<(), DbError> {
    let sql = if tx.is_pg() {
        "SELECT vulns FROM pkgs WHERE id = ?1 FOR UPDATE"
    } else {
        "SELECT vulns FROM pkgs WHERE id = ?1"
    };
    let Some(row) = tx.query_opt(sql, vals![pid])? else {
        return Ok(());
    };
    let old: Vec<Finding> = match row.opt_blob(0)? {
        Some(b) => decompress(&b).unwrap_or_default(),
        None => Vec::new(),
    };
    if old.as_slice() == new {
        return Ok(());
    }
    tx.exec(
        "UPDATE pkgs SET vulns = ?2 WHERE id = ?1",
        vals![pid, compress_findings(&new.iter().collect::<Vec<_>>())],
    )?;
    tx.exec("DELETE FROM findings WHERE pkg_id = ?1", vals![pid])?;
    for f in new {
        let lo = tx
            .query_one("SELECT coalesce(max(rid), 0) FROM findings", &[])?
            .i64(0)?;
        tx.exec(
            "INSERT INTO findings (image_id, id, kind, severity, package, version, fixed, kev, title, pkg_id)
             SELECT p.image_id, CAST(?2 AS TEXT), CAST(?3 AS TEXT), CAST(?4 AS BIGINT), CAST(?5 AS TEXT), CAST(?6 AS TEXT), CAST(?7 AS TEXT), CAST(?8 AS BIGINT), CAST(?9 AS TEXT), p.pkg_id
             FROM packages p JOIN images i ON i.id = p.image_id
             WHERE p.pkg_id = ?1 AND i.derived = 1",
            &[Val::from(pid)]
                .into_iter()
                .chain(finding_row(f))
                .collect::<Vec<_>>(),
        )?;
        for vid in
            std::iter::once(&f.id).chain(f.aliases.iter().filter(|a| !a.is_empty() && **a != f.id))
        {
            tx.exec(
                "INSERT INTO finding_ids (vid, rid) SELECT CAST(?1 AS TEXT), rid FROM findings WHERE pkg_id = ?2 AND id = ?3 AND rid > ?4",
                vals![vid.as_str(), pid, f.id.as_str(), lo],
            )?;
        }
    }
    // What changed, as the image-by-image comparison sees it ([`Store::rematched`]).
    let old: BTreeMap<_, &Finding> = old.iter().map(|f| (finding_key(f), f)).collect();
    let new: BTreeMap<_, &Finding> = new.iter().map(|f| (finding_key(f), f)).collect();
    let changes = finding_changes(&old, &new);
    for (kind, f) in changes {
        let (pkg, ver) = package_of(f);
        tx.exec(
            "INSERT INTO events (time, image_id, kind, finding, package, version, severity, fixed, purl)
             SELECT DISTINCT CAST(?2 AS BIGINT), p.image_id, CAST(?3 AS TEXT), CAST(?4 AS TEXT), CAST(?5 AS TEXT), CAST(?6 AS TEXT), CAST(?7 AS BIGINT), CAST(?8 AS TEXT), CAST(?9 AS TEXT)
             FROM packages p JOIN images i ON i.id = p.image_id
             WHERE p.pkg_id = ?1 AND i.derived = 1 ORDER BY p.image_id",
            vals![pid, now, kind, f.id.as_str(), pkg, ver, sev_rank(f.severity), fixed(f), purl_of(f)],
        )?;
    }
    Ok(())
}

/// Adds rows for `findings` of image `id` (the caller deleted the ones they replace).
fn index_findings<'a>(
    tx: &mut Conn,
    id: i64,
    findings: impl Iterator<Item = (Option<i64>, &'a Finding)>,
) -> Result<(), DbError> {
    for (pkg_id, f) in findings {
        let row: Vec<Val> = [Val::from(id)]
            .into_iter()
            .chain(finding_row(f))
            .chain([Val::from(pkg_id)])
            .collect();
        let rid = tx
            .query_one(
                "INSERT INTO findings (image_id, id, kind, severity, package, version, fixed, kev, title, pkg_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING rid",
                &row,
            )?
            .i64(0)?;
        tx.exec(
            "INSERT INTO finding_ids (vid, rid) VALUES (?1, ?2)",
            vals![f.id.as_str(), rid],
        )?;
        for a in f.aliases.iter().filter(|a| !a.is_empty() && **a != f.id) {
            tx.exec(
                "INSERT INTO finding_ids (vid, rid) VALUES (?1, ?2)",
                vals![a.as_str(), rid],
            )?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::jobs::tests::pg_store_with;
    use std::time::Duration;

    #[test]
    fn postgres_calls_run_side_by_side_on_a_bounded_pool() {
        let opts = StoreOptions {
            pool_size: 3,
            pool_timeout: Duration::from_secs(30),
        };
        let Some(s) = pg_store_with(&opts) else {
            return;
        };
        assert_eq!(s.pool_counts(), Some((1, 1)));
        // Three connections held at once: a fourth call waits for one of them.
        let held: Vec<_> = (0..3).map(|_| s.lock().unwrap()).collect();
        assert_eq!(s.pool_counts(), Some((3, 0)));
        std::thread::scope(|sc| {
            let waiting = sc.spawn(|| s.create_token("late", Scope::Read, 1).unwrap());
            std::thread::sleep(Duration::from_millis(200));
            assert!(!waiting.is_finished());
            drop(held);
            let secret = waiting.join().unwrap();
            assert_eq!(s.token(&secret).unwrap().unwrap().name, "late");
        });
        // Sixteen threads of calls, each answered; never more than three connections.
        let secret = s.create_token("t", Scope::Write, 1).unwrap();
        std::thread::scope(|sc| {
            for _ in 0..16 {
                sc.spawn(|| {
                    for _ in 0..20 {
                        assert_eq!(s.token(&secret).unwrap().unwrap().scope, Scope::Write);
                        assert!(s.has_tokens().unwrap());
                        let (open, _) = s.pool_counts().unwrap();
                        assert!(open <= 3, "{open} connections");
                    }
                });
            }
        });
        let (open, idle) = s.pool_counts().unwrap();
        assert_eq!(open, idle);
        assert!((1..=3).contains(&open), "{open}");
    }

    #[test]
    fn a_postgres_call_without_a_free_connection_in_time_fails_clearly() {
        let opts = StoreOptions {
            pool_size: 1,
            pool_timeout: Duration::from_millis(300),
        };
        let Some(s) = pg_store_with(&opts) else {
            return;
        };
        let held = s.lock().unwrap();
        let t = std::time::Instant::now();
        let err = s.has_tokens().unwrap_err().to_string();
        assert!(t.elapsed() >= Duration::from_millis(300));
        assert!(
            err.contains("no free PostgreSQL connection within 0.3")
                && err.contains("all 1 in use: raise --db-pool-size")
                && err.starts_with("postgres://"),
            "{err}"
        );
        drop(held);
        assert!(!s.has_tokens().unwrap());
    }

    #[test]
    fn a_closed_postgres_connection_is_replaced() {
        let Some(s) = pg_store_with(&StoreOptions::default()) else {
            return;
        };
        // The server ends one backend (as a restart or an idle timeout would), killed from
        // another connection of the pool.
        let mut victim = s.lock().unwrap();
        let pid = victim
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .i64(0)
            .unwrap();
        {
            let mut other = s.lock().unwrap();
            other
                .exec(
                    "SELECT pg_terminate_backend(CAST(?1 AS INTEGER))",
                    crate::db::vals![pid],
                )
                .unwrap();
        }
        drop(victim);
        assert_eq!(s.pool_counts(), Some((2, 2)));
        // The first call on the dead connection fails; that connection is not reused.
        let _ = s.has_tokens();
        for _ in 0..3 {
            assert!(!s.has_tokens().unwrap());
        }
        assert_eq!(s.pool_counts(), Some((1, 1)));
    }

    fn pkg(name: &str, version: &str, path: &str) -> moat_model::Package {
        serde_json::from_value(serde_json::json!({
            "id": format!("{name}@{version}"), "name": name, "version": version,
            "type": "library", "ecosystem": "PyPI",
            "purl": format!("pkg:pypi/{name}@{version}"),
            "locations": [{"path": path}],
        }))
        .unwrap()
    }

    fn vuln(id: &str, name: &str, version: &str, fixed: Option<&str>) -> Finding {
        let mut f = Finding::new(
            id,
            Severity::High,
            moat_model::Detail::Vulnerability(moat_model::finding::VulnerabilityDetail {
                package: Some(moat_model::finding::FindingPackage {
                    id: format!("{name}@{version}"),
                    name: name.into(),
                    version: version.into(),
                    purl: format!("pkg:pypi/{name}@{version}"),
                    layer: None,
                    path: None,
                }),
                fixed_version: fixed.map(str::to_string),
                ..Default::default()
            }),
        );
        f.aliases = vec![format!("GHSA-{id}")];
        f
    }

    fn report_of(name: &str, packages: Vec<moat_model::Package>) -> ScanReport {
        ScanReport {
            inventory: Inventory {
                schema_version: String::new(),
                tool: Default::default(),
                artifact: moat_model::Artifact::new(name, moat_model::ArtifactKind::Dir, "/"),
                packages,
                relationships: Vec::new(),
                diagnostics: Vec::new(),
                package_files: Default::default(),
            },
            findings: Vec::new(),
            suppressed: Vec::new(),
        }
    }

    #[test]
    fn one_name_and_version_in_two_ecosystems_are_two_findings_and_events() {
        let t = tempfile::tempdir().unwrap();
        two_ecosystems(&Store::open(&t.path().join("s.db")).unwrap());
        if let Some(pg) = crate::jobs::tests::pg_store() {
            two_ecosystems(&pg);
        }
    }

    fn two_ecosystems(s: &Store) {
        let npm = |mut f: Finding| {
            if let moat_model::Detail::Vulnerability(v) = &mut f.detail
                && let Some(p) = v.package.as_mut()
            {
                p.purl = format!("pkg:npm/{}@{}", p.name, p.version);
            }
            f
        };
        let mut r = report_of("two-ecosystems", vec![pkg("foo", "1.0", "/foo")]);
        r.findings = vec![
            vuln("CVE-9", "foo", "1.0", None),
            npm(vuln("CVE-9", "foo", "1.0", None)),
        ];
        let id = s.put_report(&r, &BTreeMap::new(), 10).unwrap();
        let seq = s.last_event_seq().unwrap();
        // A fixed version for both: two events, told apart by their package URLs (one key
        // per name and version made it one change, and the npm one was lost).
        let new = vec![
            vuln("CVE-9", "foo", "1.0", Some("1.1")),
            npm(vuln("CVE-9", "foo", "1.0", Some("1.2"))),
        ];
        let events = s.rematched(id, r.findings.clone(), new, 20).unwrap();
        let got = |events: &[Event]| {
            let mut v: Vec<_> = events
                .iter()
                .map(|e| {
                    (
                        e.kind.clone(),
                        e.purl.clone(),
                        e.fixed_version.clone(),
                        e.package.clone(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let want = vec![
            (
                "fixed_upstream".to_string(),
                Some("pkg:npm/foo@1.0".to_string()),
                Some("1.2".to_string()),
                Some("foo".to_string()),
            ),
            (
                "fixed_upstream".to_string(),
                Some("pkg:pypi/foo@1.0".to_string()),
                Some("1.1".to_string()),
                Some("foo".to_string()),
            ),
        ];
        assert_eq!(got(&events), want);
        // As stored and listed (the API's and the webhooks' events).
        assert_eq!(got(&s.events_after(seq).unwrap()), want);
        assert_eq!(s.report(id).unwrap().unwrap().findings.len(), 2);
    }

    #[test]
    fn distinct_packages_are_stored_once_and_rematched_for_every_image() {
        let t = tempfile::tempdir().unwrap();
        distinct_packages(&Store::open(&t.path().join("s.db")).unwrap());
        if let Some(pg) = crate::jobs::tests::pg_store() {
            distinct_packages(&pg);
        }
    }

    fn distinct_packages(s: &Store) {
        // The server's match at submission: a per distinct package (a@1 in two places), b
        // without findings.
        let mut matched = PkgFindings::new();
        let mut key = Vec::new();
        let mut a = pkg("a", "1", "/one/a");
        package_key(&mut a, &mut key);
        matched.insert(key.clone(), vec![vuln("CVE-1", "a", "1", None)]);
        let mut b = pkg("b", "2", "/b");
        package_key(&mut b, &mut key);
        matched.insert(key.clone(), Vec::new());
        let mut one = report_of("one", vec![a.clone(), pkg("a", "1", "/two/a"), b.clone()]);
        let vulns = crate::rematch::assemble(&mut one.inventory, |k, _| {
            matched.get(k).cloned().unwrap_or_default()
        });
        assert_eq!(vulns.len(), 2);
        one.findings = vulns.clone();
        let id1 = s
            .put_report_matched(&one, &BTreeMap::new(), 10, Some(&matched))
            .unwrap();
        // A report stored as before schema 3 (no server match: not derived), then its
        // packages unlinked as a store migrated from schema 2 has them.
        let mut two = report_of("two", vec![pkg("a", "1", "/a")]);
        two.findings = vec![vuln("CVE-1", "a", "1", None)];
        let id2 = s.put_report(&two, &BTreeMap::new(), 10).unwrap();
        let count = |sql: &str| {
            s.lock()
                .unwrap()
                .query_one(sql, &[])
                .unwrap()
                .i64(0)
                .unwrap()
        };
        assert_eq!(count("SELECT count(*) FROM pkgs"), 2);
        assert_eq!(count("SELECT count(*) FROM images WHERE derived = 1"), 1);
        s.lock()
            .unwrap()
            .exec("UPDATE packages SET pkg_id = NULL", &[])
            .unwrap();
        s.lock()
            .unwrap()
            .exec("UPDATE images SET npackages = NULL", &[])
            .unwrap();
        assert_eq!(s.image(id1).unwrap().unwrap().packages, 3, "counted");
        s.link_unlinked().unwrap();
        assert_eq!(s.image(id1).unwrap().unwrap().packages, 3, "stored");
        assert_eq!(s.image(id2).unwrap().unwrap().packages, 1);
        assert_eq!(
            count("SELECT count(*) FROM packages WHERE pkg_id IS NULL"),
            0
        );
        assert_eq!(count("SELECT count(*) FROM pkgs"), 2);
        // The derived image's report: its findings assembled from its packages'.
        let r = s.report(id1).unwrap().unwrap();
        assert_eq!(r.findings, vulns);
        assert_eq!(s.findings_with_id("ghsa-cve-1").unwrap().len(), 3);

        // a@1 gets a fixed version and a second advisory: every derived image of it changes.
        let pkgs = s.linked_pkgs().unwrap();
        let (pa, ..) = pkgs
            .iter()
            .find(|p| p.2.as_ref().is_some_and(|v| !v.is_empty()))
            .unwrap();
        let new = vec![
            vuln("CVE-1", "a", "1", Some("1.1")),
            vuln("CVE-2", "a", "1", None),
        ];
        s.pkgs_rematched(&[(*pa, new.as_slice())], 20).unwrap();
        // The same again changes nothing.
        s.pkgs_rematched(&[(*pa, new.as_slice())], 30).unwrap();
        let events = s.events(0, 100).unwrap();
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.image_id, e.kind.as_str(), e.finding.as_str()))
            .collect();
        // One event per image and change (a@1 twice in image one: once), none for image two
        // (not derived: its own re-match does it).
        assert_eq!(
            got,
            [(id1, "fixed_upstream", "CVE-1"), (id1, "new", "CVE-2")]
        );
        let f = s
            .findings(&FindingFilter {
                image_id: Some(id1),
                limit: 100,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(f.len(), 4);
        assert!(f.iter().all(|f| f.package.as_deref() == Some("a")));
        assert_eq!(s.findings_with_id("GHSA-CVE-2").unwrap().len(), 2);
        assert_eq!(s.findings_with_id("CVE-1").unwrap().len(), 3);
        let r = s.report(id1).unwrap().unwrap();
        assert_eq!(r.findings.len(), 4);
        assert!(r.findings.iter().any(|f| {
            f.location
                .as_ref()
                .is_some_and(|l| l.display().contains("/two/a"))
        }));
        assert_eq!(s.report(id2).unwrap().unwrap().findings.len(), 1);
        assert_eq!(s.underived_ids().unwrap(), [id2]);
        // Ignored ids (admission): within one image, by id or alias, in one query.
        let ignored = [
            "ghsa-cve-1".to_string(),
            "CVE-2".to_string(),
            "X".to_string(),
        ];
        let got = s.findings_with_ids_in(&ignored, id1).unwrap();
        let got: Vec<_> = got.iter().map(|f| (f.image_id, f.id.as_str())).collect();
        assert_eq!(got, [(id1, "CVE-1"), (id1, "CVE-2")]);
        assert_eq!(s.findings_with_ids_in(&ignored, id2).unwrap().len(), 1);
        assert!(s.findings_with_ids_in(&[], id1).unwrap().is_empty());
    }

    #[test]
    fn images_are_found_by_manifest_or_index_digest() {
        let t = tempfile::tempdir().unwrap();
        by_digest(&Store::open(&t.path().join("s.db")).unwrap());
        if let Some(pg) = crate::jobs::tests::pg_store() {
            by_digest(&pg);
        }
    }

    fn by_digest(s: &Store) {
        let mut multi = report_of("reg.local/team/multi@sha256:1d", Vec::new());
        multi.inventory.artifact.manifest_digest = Some("sha256:aa".into());
        multi.inventory.artifact.index_digest = Some("sha256:1d".into());
        let mut single = report_of("reg.local/team/single:v1", Vec::new());
        single.inventory.artifact.manifest_digest = Some("sha256:bb".into());
        let m = s.put_report(&multi, &BTreeMap::new(), 10).unwrap();
        let o = s.put_report(&single, &BTreeMap::new(), 11).unwrap();
        let find = |d: &str| s.find_image("reg.local/team/x", Some(d)).unwrap();
        assert_eq!(find("sha256:aa"), Some(m));
        assert_eq!(find("sha256:1d"), Some(m));
        assert_eq!(find("sha256:bb"), Some(o));
        assert_eq!(find("sha256:cc"), None);
        let listed = s.images(None, 10).unwrap();
        let got: Vec<_> = listed
            .iter()
            .map(|i| (i.id, i.digest.as_deref(), i.index_digest.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (o, Some("sha256:bb"), None),
                (m, Some("sha256:aa"), Some("sha256:1d"))
            ]
        );
    }

    #[test]
    fn image_filters_and_limit_are_applied_by_the_query() {
        let t = tempfile::tempdir().unwrap();
        image_filters(&Store::open(&t.path().join("s.db")).unwrap());
        if let Some(pg) = crate::jobs::tests::pg_store() {
            image_filters(&pg);
        }
    }

    fn image_filters(s: &Store) {
        let labels = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        let mut a = report_of("a", vec![pkg("Django", "3.2.4", "/d")]);
        a.findings = vec![vuln("CVE-1", "Django", "3.2.4", Some("3.2.5"))];
        let a = s.put_report(&a, &labels("team", "web"), 1).unwrap();
        let mut b = report_of("b", vec![pkg("flask", "1.0", "/f")]);
        let mut low = vuln("CVE-2", "flask", "1.0", None);
        low.severity = Severity::Low;
        b.findings = vec![low];
        let b = s.put_report(&b, &labels("te\"am", "d'b"), 2).unwrap();
        let c = s
            .put_report(&report_of("c", Vec::new()), &BTreeMap::new(), 3)
            .unwrap();
        let sev = |min: Severity| FindingFilter {
            min_severity: Some(min),
            ..Default::default()
        };
        let ids = |f: Option<&FindingFilter>, p: Option<&str>, l: Option<(&str, &str)>, n| {
            s.image_ids_where(f, p, l, n).unwrap()
        };
        assert_eq!(ids(None, None, None, 10), [c, b, a]);
        assert_eq!(ids(None, None, None, 2), [c, b]);
        assert_eq!(ids(Some(&sev(Severity::High)), None, None, 10), [a]);
        assert_eq!(ids(Some(&sev(Severity::Low)), None, None, 10), [b, a]);
        let unfixed = FindingFilter {
            fixed: Some(false),
            ..Default::default()
        };
        assert_eq!(ids(Some(&unfixed), None, None, 10), [b]);
        let kev = FindingFilter {
            kev: true,
            ..Default::default()
        };
        assert!(ids(Some(&kev), None, None, 10).is_empty());
        assert_eq!(ids(None, Some("DJANGO"), None, 10), [a]);
        assert!(ids(Some(&unfixed), Some("django"), None, 10).is_empty());
        assert_eq!(ids(None, None, Some(("team", "web")), 10), [a]);
        assert_eq!(ids(None, None, Some(("te\"am", "d'b")), 10), [b]);
        assert!(ids(None, None, Some(("team", "db")), 10).is_empty());
    }

    #[test]
    fn images_reads_only_the_images_asked_for() {
        let t = tempfile::tempdir().unwrap();
        let s = Store::open(&t.path().join("s.db")).unwrap();
        images_by_id(&s);
        if let Some(pg) = crate::jobs::tests::pg_store() {
            images_by_id(&pg);
        }
    }

    fn images_by_id(s: &Store) {
        let mut ids = Vec::new();
        for i in 0..520 {
            let inventory = Inventory {
                schema_version: String::new(),
                tool: Default::default(),
                artifact: moat_model::Artifact::new(
                    format!("img-{i}"),
                    moat_model::ArtifactKind::Dir,
                    "/",
                ),
                packages: Vec::new(),
                relationships: Vec::new(),
                diagnostics: Vec::new(),
                package_files: Default::default(),
            };
            let report = ScanReport {
                inventory,
                findings: Vec::new(),
                suppressed: Vec::new(),
            };
            ids.push(s.put_report(&report, &BTreeMap::new(), 1000 + i).unwrap());
        }
        let all = s.images(None, usize::MAX).unwrap();
        assert_eq!(all.len(), 520);
        assert_eq!(all[0].name, "img-519");
        let newest = s.images(None, 2).unwrap();
        assert_eq!(
            newest.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
            ["img-519", "img-518"]
        );
        // More ids than one IN list holds; newest first whatever the order asked.
        let some: Vec<i64> = ids[4..].iter().rev().copied().collect();
        let got = s.images(Some(&some), usize::MAX).unwrap();
        assert_eq!(got.len(), 516);
        assert_eq!(got[0].id, ids[519]);
        assert_eq!(got[515].id, ids[4]);
        assert_eq!(s.images(Some(&some), 3).unwrap()[2].id, ids[517]);
        assert_eq!(s.image(ids[7]).unwrap().unwrap().name, "img-7");
        assert_eq!(s.image(-1).unwrap(), None);
    }
}
