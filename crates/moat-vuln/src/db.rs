//! The advisory database: one SQLite file (`moat.db`).
//!
//! Scans open it with [`Database::open_read_only`]; nothing in a scan ever writes to it. Imports
//! and updates go through a [`Builder`], which works on a temporary file beside the target
//! (`<target>.tmp-<pid>`) and renames it over the target in [`Builder::commit`]. A failed or
//! interrupted import therefore never touches the database that scans read, and dropping a
//! builder without committing removes its temporary file.
//!
//! ## Schema (version [`SCHEMA_VERSION`])
//! | table | columns | note |
//! |---|---|---|
//! | `meta` | key, value | `format` = `moat-advisory-db`, `schema_version`, `built_at` (RFC 3339) |
//! | `sources` | name PK, url, etag, last_modified, imported_at, records | one row per feed label (`osv:Go`, `rustsec`, `kev`, ...) |
//! | `advisories` | id PK, source, modified, withdrawn, json | the whole record as OSV-shaped JSON |
//! | `affected` | ecosystem, name, advisory_id | index on (ecosystem, name); names normalised with [`normalize_name`] |
//! | `aliases` | alias, advisory_id | index on alias |
//! | `kev` | cve PK, source, date_added, vendor, product, name, due_date, ransomware | CISA KEV |
//!
//! **An advisory id present in two sources:** the later import wins. [`Builder::replace_source`]
//! replaces the whole record (and its `affected` / `aliases` rows), the record then belongs to
//! the source imported last, and the other source's record count is recomputed.
//!
//! Withdrawn records are stored like any other; the matcher ignores them.
//!
//! The rejected alternative was one table per ecosystem or a normalised range table: matching
//! needs the whole record anyway (ranges, versions list, severity, aliases), so storing OSV JSON
//! and indexing only the lookup keys keeps the schema small and the import fast.

use crate::import::ImportBatch;
use moat_model::advisory::Advisory;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The schema this build reads and writes. A database with another version is refused with
/// [`DbError::Schema`] (rebuild it with `moat db update` or `moat db import`).
pub const SCHEMA_VERSION: u32 = 1;

/// The `meta.format` marker that tells a moat database from any other SQLite file.
const FORMAT: &str = "moat-advisory-db";

const HINT: &str = "run `moat db update` or `moat db import`";

/// Errors of the advisory database. Every message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("advisory database {} not found: {HINT} to create it", path.display())]
    NotFound { path: PathBuf },
    #[error("advisory database {} is corrupt ({reason}): {HINT} to rebuild it", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "advisory database {} has schema version {found}, this moat reads version {want}: {HINT} to rebuild it",
        path.display()
    )]
    Schema {
        path: PathBuf,
        found: String,
        want: u32,
    },
    #[error("advisory database {}: {source} ({HINT} if this persists)", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("advisory database {}: {source} (check the path and its permissions, then {HINT})", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where the database lives by default: `$MOAT_DB`, else `$XDG_CACHE_HOME/moat/moat.db`, else
/// `$HOME/.cache/moat/moat.db` (else `./moat.db` when no home is known).
pub fn default_path() -> PathBuf {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(p) = nonempty("MOAT_DB") {
        return PathBuf::from(p);
    }
    if let Some(x) = nonempty("XDG_CACHE_HOME") {
        return PathBuf::from(x).join("moat").join("moat.db");
    }
    if let Some(h) = nonempty("HOME") {
        return PathBuf::from(h).join(".cache").join("moat").join("moat.db");
    }
    PathBuf::from("moat.db")
}

/// The lookup form of a package name. PyPI: PEP 503 (lowercase; runs of `-`, `_`, `.` become
/// one `-`). Every other ecosystem: unchanged.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    if ecosystem == "PyPI" {
        moat_model::pep503_name(name)
    } else {
        name.to_string()
    }
}

/// Download metadata of one source, kept for conditional requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMeta {
    pub url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One row of `sources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub name: String,
    pub records: u64,
    /// RFC 3339.
    pub imported_at: String,
    pub url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What `moat db status` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbStatus {
    pub path: PathBuf,
    pub schema: u32,
    /// RFC 3339 time of the last commit.
    pub built_at: Option<String>,
    pub sources: Vec<SourceStatus>,
    /// Advisories per ecosystem (an advisory naming two ecosystems counts in both), sorted by
    /// ecosystem.
    pub ecosystems: Vec<(String, u64)>,
    /// All advisory records.
    pub advisories: u64,
    /// KEV entries.
    pub kev: u64,
}

/// A read-only view of the database (what scans use).
pub struct Database {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish()
    }
}

fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> DbError + '_ {
    move |e| classify(path, e)
}

/// SQLite's "not a database" and "corrupt" become [`DbError::Corrupt`].
fn classify(path: &Path, e: rusqlite::Error) -> DbError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(
            f.code,
            rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
        )
    {
        return DbError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
    }
    DbError::Sqlite {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Reads `meta` and checks the format marker and schema version.
fn check_meta(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(sqlite_err(path))?
        > 0;
    let corrupt = |reason: &str| DbError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    if !has_meta {
        return Err(corrupt("not a moat database: no meta table"));
    }
    let get = |key: &str| -> Result<Option<String>, DbError> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
            r.get::<_, String>(0)
        })
        .optional()
        .map_err(sqlite_err(path))
    };
    if get("format")?.as_deref() != Some(FORMAT) {
        return Err(corrupt(
            "not a moat database: meta.format is missing or wrong",
        ));
    }
    let found = get("schema_version")?.unwrap_or_default();
    if found != SCHEMA_VERSION.to_string() {
        return Err(DbError::Schema {
            path: path.to_path_buf(),
            found,
            want: SCHEMA_VERSION,
        });
    }
    Ok(())
}

fn decode(path: &Path, json: &str) -> Result<Advisory, DbError> {
    serde_json::from_str(json).map_err(|e| DbError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("stored advisory does not parse: {e}"),
    })
}

impl Database {
    /// Opens an existing database read-only and checks that it is a moat database of
    /// [`SCHEMA_VERSION`]. A missing file is [`DbError::NotFound`]; a file that is not SQLite, not
    /// a moat database, or damaged is [`DbError::Corrupt`]. (A full `PRAGMA quick_check` is not
    /// run: it reads the whole file; damage found later surfaces as `Corrupt` from the query.)
    pub fn open_read_only(path: &Path) -> Result<Database, DbError> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(DbError::Corrupt {
                    path: path.to_path_buf(),
                    reason: "not a regular file".into(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DbError::NotFound {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => {
                return Err(DbError::Io {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(sqlite_err(path))?;
        check_meta(&conn, path)?;
        Ok(Database {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The file this database was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every advisory (withdrawn ones included) with an `affected` entry for this exact
    /// ecosystem and package name (normalised with [`normalize_name`]), sorted by id.
    pub fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, DbError> {
        let key = normalize_name(ecosystem, name);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT a.json FROM advisories a WHERE a.id IN \
                 (SELECT advisory_id FROM affected WHERE ecosystem = ?1 AND name = ?2) ORDER BY a.id",
            )
            .map_err(sqlite_err(&self.path))?;
        let rows = st
            .query_map(params![ecosystem, key], |r| r.get::<_, String>(0))
            .map_err(sqlite_err(&self.path))?;
        let mut out = Vec::new();
        for json in rows {
            out.push(decode(&self.path, &json.map_err(sqlite_err(&self.path))?)?);
        }
        Ok(out)
    }

    /// One advisory by id.
    pub fn advisory(&self, id: &str) -> Result<Option<Advisory>, DbError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT json FROM advisories WHERE id = ?1")
            .and_then(|mut st| st.query_row([id], |r| r.get(0)).optional())
            .map_err(sqlite_err(&self.path))?;
        json.map(|j| decode(&self.path, &j)).transpose()
    }

    /// Ids of the advisories that list `alias` among their aliases, sorted.
    pub fn ids_for_alias(&self, alias: &str) -> Result<Vec<String>, DbError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT advisory_id FROM aliases WHERE alias = ?1 ORDER BY advisory_id",
            )
            .map_err(sqlite_err(&self.path))?;
        let rows = st
            .query_map([alias], |r| r.get::<_, String>(0))
            .map_err(sqlite_err(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(sqlite_err(&self.path))
    }

    /// The CVE ids in CISA's Known Exploited Vulnerabilities catalogue.
    pub fn kev_ids(&self) -> Result<HashSet<String>, DbError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT cve FROM kev")
            .map_err(sqlite_err(&self.path))?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sqlite_err(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(sqlite_err(&self.path))
    }

    /// Sources, counts and age.
    pub fn status(&self) -> Result<DbStatus, DbError> {
        let e = sqlite_err(&self.path);
        let built_at = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'built_at'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .map_err(&e)?;
        let mut st = self
            .conn
            .prepare("SELECT name, records, imported_at, url, etag, last_modified FROM sources ORDER BY name")
            .map_err(&e)?;
        let sources = st
            .query_map([], |r| {
                Ok(SourceStatus {
                    name: r.get(0)?,
                    records: r.get::<_, i64>(1)? as u64,
                    imported_at: r.get(2)?,
                    url: r.get(3)?,
                    etag: r.get(4)?,
                    last_modified: r.get(5)?,
                })
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
        let mut st = self
            .conn
            .prepare("SELECT ecosystem, count(DISTINCT advisory_id) FROM affected GROUP BY ecosystem ORDER BY ecosystem")
            .map_err(&e)?;
        let ecosystems = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
        let count = |sql: &str| -> Result<u64, DbError> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(&e)
        };
        Ok(DbStatus {
            path: self.path.clone(),
            schema: SCHEMA_VERSION,
            built_at,
            sources,
            ecosystems,
            advisories: count("SELECT count(*) FROM advisories")?,
            kev: count("SELECT count(*) FROM kev")?,
        })
    }
}

const SCHEMA_SQL: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(name TEXT PRIMARY KEY, url TEXT, etag TEXT, last_modified TEXT,
                     imported_at TEXT NOT NULL, records INTEGER NOT NULL);
CREATE TABLE advisories(id TEXT PRIMARY KEY, source TEXT NOT NULL, modified TEXT, withdrawn TEXT,
                        json TEXT NOT NULL);
CREATE INDEX advisories_source ON advisories(source);
CREATE TABLE affected(ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE INDEX affected_package ON affected(ecosystem, name);
CREATE INDEX affected_advisory ON affected(advisory_id);
CREATE TABLE aliases(alias TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE INDEX aliases_alias ON aliases(alias);
CREATE INDEX aliases_advisory ON aliases(advisory_id);
CREATE TABLE kev(cve TEXT PRIMARY KEY, source TEXT NOT NULL, date_added TEXT, vendor TEXT,
                 product TEXT, name TEXT, due_date TEXT, ransomware TEXT);
CREATE INDEX kev_source ON kev(source);
";

/// A writable database being built on a temporary file beside its target.
pub struct Builder {
    conn: Option<Connection>,
    tmp: PathBuf,
    target: PathBuf,
    rebuilt: Option<String>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("tmp", &self.tmp)
            .field("target", &self.target)
            .finish()
    }
}

fn tmp_path(target: &Path) -> PathBuf {
    let mut name = target
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "moat.db".into());
    name.push(format!(".tmp-{}", std::process::id()));
    target.with_file_name(name)
}

fn remove_quietly(tmp: &Path) {
    let _ = std::fs::remove_file(tmp);
    let mut j = tmp.as_os_str().to_os_string();
    j.push("-journal");
    let _ = std::fs::remove_file(PathBuf::from(j));
}

fn open_writable(tmp: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(tmp).map_err(sqlite_err(tmp))?;
    // The temporary file is renamed into place only after an explicit fsync in `commit`, so
    // SQLite's own syncing buys nothing here; the in-memory journal keeps ROLLBACK working.
    conn.execute_batch(
        "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;",
    )
    .map_err(sqlite_err(tmp))?;
    Ok(conn)
}

impl Builder {
    /// A new, empty database at `<target>.tmp-<pid>` (the target's directory is created).
    pub fn create(target: &Path) -> Result<Builder, DbError> {
        let tmp = tmp_path(target);
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DbError::Io {
                path: dir.to_path_buf(),
                source: e,
            })?;
        }
        remove_quietly(&tmp);
        let conn = open_writable(&tmp)?;
        let mut b = Builder {
            conn: None,
            tmp,
            target: target.to_path_buf(),
            rebuilt: None,
        };
        conn.execute_batch(SCHEMA_SQL).map_err(sqlite_err(&b.tmp))?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('format', ?1), ('schema_version', ?2)",
            params![FORMAT, SCHEMA_VERSION.to_string()],
        )
        .map_err(sqlite_err(&b.tmp))?;
        b.conn = Some(conn);
        Ok(b)
    }

    /// A copy of the current database at the temporary path. A missing target, or one that is
    /// corrupt or of another schema, starts empty instead (that is how `moat db update` rebuilds
    /// a broken database); [`Builder::rebuilt`] then says why.
    pub fn from_existing(target: &Path) -> Result<Builder, DbError> {
        let reason = match Database::open_read_only(target) {
            Ok(db) => {
                drop(db);
                match Self::copy_of(target) {
                    Ok(b) => return Ok(b),
                    Err(e) => e.to_string(),
                }
            }
            Err(DbError::NotFound { .. }) => {
                return Self::create(target);
            }
            Err(e) => e.to_string(),
        };
        let mut b = Self::create(target)?;
        b.rebuilt = Some(reason);
        Ok(b)
    }

    fn copy_of(target: &Path) -> Result<Builder, DbError> {
        let tmp = tmp_path(target);
        remove_quietly(&tmp);
        let mut b = Builder {
            conn: None,
            tmp,
            target: target.to_path_buf(),
            rebuilt: None,
        };
        std::fs::copy(target, &b.tmp).map_err(|e| DbError::Io {
            path: b.tmp.clone(),
            source: e,
        })?;
        let conn = open_writable(&b.tmp)?;
        check_meta(&conn, &b.tmp)?;
        let ok: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(sqlite_err(&b.tmp))?;
        if ok != "ok" {
            return Err(DbError::Corrupt {
                path: target.to_path_buf(),
                reason: ok,
            });
        }
        b.conn = Some(conn);
        Ok(b)
    }

    /// Set when [`Builder::from_existing`] could not use the existing database and started
    /// empty: why.
    pub fn rebuilt(&self) -> Option<&str> {
        self.rebuilt.as_deref()
    }

    /// The temporary file being written.
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    fn conn(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("builder connection is open until commit")
    }

    /// Replaces everything of `source` with `batch` in one transaction: the source's advisories
    /// and KEV entries are dropped, the batch's are inserted (each advisory's `source` set to
    /// `source`; an id already stored by another source is taken over, the later import wins),
    /// and `sources` gets `meta` and the time. Returns the number of records the source now
    /// holds (advisories plus KEV entries; duplicate ids in the batch count once).
    pub fn replace_source(
        &mut self,
        source: &str,
        batch: &ImportBatch,
        meta: SourceMeta,
    ) -> Result<usize, DbError> {
        let tmp = self.tmp.clone();
        let e = sqlite_err(&tmp);
        let now = now_rfc3339();
        let tx = self.conn().transaction().map_err(&e)?;
        tx.execute(
            "DELETE FROM affected WHERE advisory_id IN (SELECT id FROM advisories WHERE source = ?1)",
            [source],
        )
        .map_err(&e)?;
        tx.execute(
            "DELETE FROM aliases WHERE advisory_id IN (SELECT id FROM advisories WHERE source = ?1)",
            [source],
        )
        .map_err(&e)?;
        tx.execute("DELETE FROM advisories WHERE source = ?1", [source])
            .map_err(&e)?;
        tx.execute("DELETE FROM kev WHERE source = ?1", [source])
            .map_err(&e)?;
        {
            let mut exists = tx
                .prepare_cached("SELECT 1 FROM advisories WHERE id = ?1")
                .map_err(&e)?;
            let mut del_aff = tx
                .prepare_cached("DELETE FROM affected WHERE advisory_id = ?1")
                .map_err(&e)?;
            let mut del_ali = tx
                .prepare_cached("DELETE FROM aliases WHERE advisory_id = ?1")
                .map_err(&e)?;
            let mut ins_adv = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO advisories(id, source, modified, withdrawn, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&e)?;
            let mut ins_aff = tx
                .prepare_cached(
                    "INSERT INTO affected(ecosystem, name, advisory_id) VALUES (?1, ?2, ?3)",
                )
                .map_err(&e)?;
            let mut ins_ali = tx
                .prepare_cached("INSERT INTO aliases(alias, advisory_id) VALUES (?1, ?2)")
                .map_err(&e)?;
            let mut ins_kev = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO kev(cve, source, date_added, vendor, product, name, due_date, ransomware) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(&e)?;
            let mut seen_pkg: HashSet<(&str, String)> = HashSet::new();
            let mut seen_alias: HashSet<&str> = HashSet::new();
            for adv in &batch.advisories {
                let json = if adv.source == source {
                    serde_json::to_string(adv)
                } else {
                    let mut a = adv.clone();
                    a.source = source.to_string();
                    serde_json::to_string(&a)
                }
                .map_err(|err| DbError::Corrupt {
                    path: tmp.clone(),
                    reason: format!("{}: {err}", adv.id),
                })?;
                if exists.exists([&adv.id]).map_err(&e)? {
                    del_aff.execute([&adv.id]).map_err(&e)?;
                    del_ali.execute([&adv.id]).map_err(&e)?;
                }
                ins_adv
                    .execute(params![adv.id, source, adv.modified, adv.withdrawn, json])
                    .map_err(&e)?;
                seen_pkg.clear();
                for aff in &adv.affected {
                    let eco = aff.package.ecosystem.as_str();
                    let name = normalize_name(eco, &aff.package.name);
                    if seen_pkg.insert((eco, name.clone())) {
                        ins_aff.execute(params![eco, name, adv.id]).map_err(&e)?;
                    }
                }
                seen_alias.clear();
                for alias in &adv.aliases {
                    if alias != &adv.id && seen_alias.insert(alias) {
                        ins_ali.execute(params![alias, adv.id]).map_err(&e)?;
                    }
                }
            }
            for k in &batch.kev {
                ins_kev
                    .execute(params![
                        k.cve,
                        source,
                        k.date_added,
                        k.vendor,
                        k.product,
                        k.name,
                        k.due_date,
                        k.ransomware
                    ])
                    .map_err(&e)?;
            }
        }
        let records: i64 = tx
            .query_row(
                "SELECT (SELECT count(*) FROM advisories WHERE source = ?1) + (SELECT count(*) FROM kev WHERE source = ?1)",
                [source],
                |r| r.get(0),
            )
            .map_err(&e)?;
        tx.execute(
            "INSERT OR REPLACE INTO sources(name, url, etag, last_modified, imported_at, records) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                source,
                meta.url,
                meta.etag,
                meta.last_modified,
                now,
                records
            ],
        )
        .map_err(&e)?;
        // Records taken over from other sources change their counts.
        tx.execute(
            "UPDATE sources SET records = (SELECT count(*) FROM advisories WHERE source = sources.name) \
             + (SELECT count(*) FROM kev WHERE source = sources.name) WHERE name <> ?1",
            [source],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        Ok(records as usize)
    }

    /// The stored download metadata of a source (None when the source was never imported).
    pub fn source_meta(&self, source: &str) -> Result<Option<SourceMeta>, DbError> {
        let conn = self
            .conn
            .as_ref()
            .expect("builder connection is open until commit");
        conn.query_row(
            "SELECT url, etag, last_modified FROM sources WHERE name = ?1",
            [source],
            |r| {
                Ok(SourceMeta {
                    url: r.get(0)?,
                    etag: r.get(1)?,
                    last_modified: r.get(2)?,
                })
            },
        )
        .optional()
        .map_err(sqlite_err(&self.tmp))
    }

    /// Names of the sources stored so far.
    pub fn source_names(&self) -> Result<Vec<String>, DbError> {
        let conn = self
            .conn
            .as_ref()
            .expect("builder connection is open until commit");
        let mut st = conn
            .prepare("SELECT name FROM sources ORDER BY name")
            .map_err(sqlite_err(&self.tmp))?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sqlite_err(&self.tmp))?;
        rows.collect::<Result<_, _>>()
            .map_err(sqlite_err(&self.tmp))
    }

    /// Writes `meta` (schema version, `built_at`), closes the connection, fsyncs the file and
    /// renames it over the target (atomic on one filesystem), then fsyncs the directory.
    pub fn commit(mut self) -> Result<(), DbError> {
        let tmp = self.tmp.clone();
        let conn = self
            .conn
            .take()
            .expect("builder connection is open until commit");
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('format', ?1), ('schema_version', ?2), ('built_at', ?3)",
            params![FORMAT, SCHEMA_VERSION.to_string(), now_rfc3339()],
        )
        .map_err(sqlite_err(&tmp))?;
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA optimize;")
            .map_err(sqlite_err(&tmp))?;
        conn.close().map_err(|(_, e)| sqlite_err(&tmp)(e))?;
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e| DbError::Io { path: p, source: e }
        };
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.target).map_err(io(&self.target))?;
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename durable; not every platform can open a directory.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        drop(self.conn.take());
        if !self.tmp.as_os_str().is_empty() {
            remove_quietly(&self.tmp);
        }
    }
}

/// The current UTC time as RFC 3339 (`2026-01-02T03:04:05Z`).
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339_from_unix(secs)
}

/// Unix seconds to an RFC 3339 UTC timestamp (proleptic Gregorian calendar).
pub(crate) fn rfc3339_from_unix(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a civil date, counting in 400-year eras starting on March 1st.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(
            normalize_name("PyPI", "Foo.Bar__baz-_-Qux"),
            "foo-bar-baz-qux"
        );
        assert_eq!(normalize_name("npm", "Foo_Bar"), "Foo_Bar");
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_from_unix(1_767_225_599), "2025-12-31T23:59:59Z");
    }
}
