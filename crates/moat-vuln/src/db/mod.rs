//! The advisory database: one SQLite file (`moat.db`).
//!
//! Scans open it with [`Database::open_read_only`]; nothing in a scan ever writes to it. The
//! file may come from elsewhere (`--db`), so the read-only open is hardened first
//! (`untrusted.rs`: defensive mode, no trusted schema, lowered limits, and a schema holding
//! anything but plain tables and indexes is refused). Imports
//! and updates go through a [`Builder`], which works on a temporary file beside the target
//! (`<target>.tmp-<pid>`) and renames it over the target in [`Builder::commit`]. A failed or
//! interrupted import therefore never touches the database that scans read, and dropping a
//! builder without committing removes its temporary file.
//!
//! | file | job |
//! |---|---|
//! | `mod.rs` | [`Database`] (read-only opening, lookups), [`DbError`], [`default_path`] |
//! | [`schema`] | the tables, the `meta` marker and the version check ([`SCHEMA_VERSION`]) |
//! | `build.rs` | [`Builder`]: the temporary file, [`Builder::replace_source`], the atomic commit |
//! | `codec.rs` | how records are stored: zstd blocks against per-source trained dictionaries |
//! | `status.rs` | [`Database::status`]: sources, counts and age ([`DbStatus`]) |
//! | `untrusted.rs` | hardening of the read-only open: limits, no schema code |
//! | [`file`] | the writer's lock, symlinked paths, what may be overwritten, stale temporaries |
//!
//! Package names are stored and looked up in the one lookup form of their ecosystem,
//! [`moat_model::normalize_name`] (PEP 503 for PyPI, lower case for NuGet and Packagist, as
//! written elsewhere), the same rule the matcher and [`crate::matcher::MemorySource`] apply.
//!
//! [`Database`] is itself an [`AdvisorySource`], so a scan hands it to the matcher as it is.
//!
//! The rejected alternative was one table per ecosystem or a normalised range table: matching
//! needs the whole record anyway (ranges, versions list, severity, aliases), so storing OSV JSON
//! (compressed in blocks of records, see [`schema`] and `codec.rs`) and indexing only the
//! lookup keys keeps the schema small and the import fast. A lookup decompresses only the
//! blocks of the records it returns (a block is at most 128 KiB of JSON, well under a
//! millisecond; the blocks decoded last are kept).
//!
//! ## Measured
//! Schema 7 (BENCHMARKS.md, 2026-12-04): the 500k mirror set imported in ~6.3 s on two
//! cores (80,000 records/s, ~9.5 s of CPU), 440 B a record, ~100 MiB at peak.
//!
//! Schema 5 (schema 6 was ~10 B a record smaller):
//! On the bench's mirror set: 497 B a record at 100k records, 506 B at 500k (schema 4: 543
//! B); an import's peak memory 53 / 55 / 61 MiB at 20k / 100k / 500k records (schema 4: 55 /
//! 108 / 158); about 80 µs of CPU a record at 100k (schema 4: 90 µs), where a profile of
//! the import finds no dominant stage: allocation ~17%, zstd ~16% and dictionary training
//! ~9% (fixed per source), SQLite ~13%, JSON parsing ~11%, inflating ~10%, JSON
//! serialisation ~6%. The 100,000 records/s target is not met (about 25,000 a second on two
//! quiet cores); at 500k the fixed writer cache costs page reads and package lookups
//! (109 µs a record), which a fixed-size filter of the keys written would remove.
//! Rejected: VACUUM after a full build (~19 B a record less, but a rewrite of the whole
//! file), zstd level 5 (8% smaller, a third of the speed), larger dictionaries (no
//! smaller), a 64 MiB writer page cache (memory grew with the file: 158 MiB at 500k).

use crate::matcher::{AdvisorySource, LookupError};
use moat_model::advisory::Advisory;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

mod build;
mod codec;
mod compress;
pub mod file;
pub mod schema;
mod status;
mod untrusted;

/// Every decoder of the values a database file holds (a record's package ids, a package's
/// list of records, a block's records, a zstd block without a dictionary), over arbitrary
/// bytes: the entry of the `advisory_db_codec` fuzz target (a file handed to `--db` may
/// hold anything in those columns).
#[doc(hidden)]
pub fn fuzz_codec(data: &[u8]) {
    let _ = codec::decode_ids(data);
    let mut ids = Vec::new();
    let _ = codec::decode_sorted_ids(data, &mut ids);
    for slot in 0..4 {
        let _ = codec::slot(data, slot);
    }
    let mut blocks = codec::Decompressors::default();
    if let Ok(block) = blocks.decode(Path::new("fuzz.db"), 1, None, data, |_| Ok(Vec::new())) {
        let _ = codec::slot(block, 0);
    }
}

pub use build::{Builder, SourceMeta};
pub use build::{Mode, Prepared, Writer};
pub use schema::SCHEMA_VERSION;
pub use status::{Coverage, DbStatus, SourceStatus};

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
    #[error(
        "advisory database lock {} is held by another import or update (waited {waited} s): try again when it has finished, or raise --lock-timeout",
        path.display()
    )]
    Locked { path: PathBuf, waited: u64 },
    #[error("advisory database {}: {source} (check the path and its permissions, then {HINT})", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A read-only view of the database (what scans use).
pub struct Database {
    conn: Connection,
    path: PathBuf,
    /// The VM-step budget of the next query (reset before each lookup).
    steps: untrusted::Steps,
    /// Decompressors by dictionary, made on first use, and the blocks decoded last.
    codecs: std::sync::Mutex<codec::Decompressors>,
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
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.code == rusqlite::ErrorCode::OperationInterrupted
    {
        return DbError::Corrupt {
            path: path.to_path_buf(),
            reason: untrusted::OVER_BUDGET.into(),
        };
    }
    DbError::Sqlite {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Runs a query and collects its rows, each read with `row`.
fn rows<T, C: FromIterator<T>>(
    conn: &Connection,
    path: &Path,
    sql: &str,
    params: impl rusqlite::Params,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<C, DbError> {
    let mut st = conn.prepare_cached(sql).map_err(sqlite_err(path))?;
    let rows = st.query_map(params, row).map_err(sqlite_err(path))?;
    rows.collect::<Result<C, _>>().map_err(sqlite_err(path))
}

/// The first row of a two-column query with one parameter (`None`: no row).
fn pair<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql>(
    conn: &Connection,
    path: &Path,
    sql: &str,
    param: impl rusqlite::ToSql,
) -> Result<Option<(A, B)>, DbError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| {
            st.query_row([param], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(sqlite_err(path))
}

/// Runs a one-column text query and collects its rows.
fn strings<C: FromIterator<String>>(
    conn: &Connection,
    path: &Path,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<C, DbError> {
    rows(conn, path, sql, params, |r| r.get::<_, String>(0))
}

impl Database {
    /// Opens an existing database read-only and checks that it is a moat database of
    /// [`SCHEMA_VERSION`]. A missing file is [`DbError::NotFound`]; a file that is not SQLite, not
    /// a moat database, or damaged is [`DbError::Corrupt`]; another schema version is
    /// [`DbError::Schema`]. (A full `PRAGMA quick_check` is not run: it reads the whole file;
    /// damage found later surfaces as `Corrupt` from the query.)
    pub fn open_read_only(path: &Path) -> Result<Database, DbError> {
        let len = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => m.len(),
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
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(sqlite_err(path))?;
        let steps = untrusted::harden(&mut conn, path, len)?;
        untrusted::check_schema(&conn, path)?;
        schema::check_meta(&conn, path)?;
        Ok(Database {
            conn,
            path: path.to_path_buf(),
            steps,
            codecs: std::sync::Mutex::new(codec::Decompressors::default()),
        })
    }

    /// The file this database was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every advisory (withdrawn ones included) with an `affected` entry for this exact
    /// ecosystem and package name (any spelling the ecosystem treats as the same name, see
    /// [`moat_model::normalize_name`]), sorted by id.
    pub fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, DbError> {
        self.steps.reset(untrusted::LOOKUP_STEPS);
        let key = moat_model::normalize_name(ecosystem, name);
        let list: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT f.advisories FROM packages p JOIN affected f ON f.package = p.id \
                 WHERE p.ecosystem = ?1 AND p.name = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![ecosystem, key], |r| r.get(0))
                    .optional()
            })
            .map_err(sqlite_err(&self.path))?;
        let Some(list) = list else {
            return Ok(Vec::new());
        };
        let mut rowids = Vec::new();
        if !codec::decode_sorted_ids(&list, &mut rowids) {
            return Err(DbError::Corrupt {
                path: self.path.clone(),
                reason: format!("the advisory list of {ecosystem} {key} does not decode"),
            });
        }
        let mut stored: Vec<(String, i64, i64)> = Vec::with_capacity(rowids.len());
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT id, block, slot FROM advisories WHERE rowid = ?1")
                .map_err(sqlite_err(&self.path))?;
            for rowid in rowids {
                let row = st
                    .query_row([rowid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
                    .map_err(sqlite_err(&self.path))?;
                // A list naming a record that is gone names nothing (as the join did).
                stored.extend(row);
            }
        }
        stored.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        stored
            .iter()
            .map(|&(_, block, slot)| self.decode_record(block, slot))
            .collect()
    }

    /// The record in `slot` of block `block`: its block decompressed (or taken from the
    /// cache of the blocks decoded last) and the record parsed.
    fn decode_record(&self, block: i64, slot: i64) -> Result<Advisory, DbError> {
        let corrupt = |reason: String| DbError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        let mut codecs = self
            .codecs
            .lock()
            .map_err(|_| corrupt("decompressor poisoned".into()))?;
        if codecs.cached(block).is_none() {
            let (dict, data): (Option<i64>, Vec<u8>) = pair(
                &self.conn,
                &self.path,
                "SELECT dict, data FROM blocks WHERE id = ?1",
                block,
            )?
            .ok_or_else(|| corrupt(format!("block {block} is missing")))?;
            codecs.decode(&self.path, block, dict, &data, |id| {
                self.conn
                    .prepare_cached("SELECT dict FROM dicts WHERE id = ?1")
                    .and_then(|mut st| st.query_row([id], |r| r.get::<_, Vec<u8>>(0)).optional())
                    .map_err(sqlite_err(&self.path))?
                    .ok_or_else(|| corrupt(format!("dictionary {id} is missing")))
            })?;
        }
        let json = codecs
            .cached(block)
            .and_then(|b| codec::slot(b, usize::try_from(slot).ok()?))
            .ok_or_else(|| corrupt(format!("block {block} has no record {slot}")))?;
        serde_json::from_slice(json)
            .map_err(|e| corrupt(format!("stored advisory does not parse: {e}")))
    }

    /// One advisory by id.
    pub fn advisory(&self, id: &str) -> Result<Option<Advisory>, DbError> {
        self.steps.reset(untrusted::LOOKUP_STEPS);
        let stored: Option<(i64, i64)> = pair(
            &self.conn,
            &self.path,
            "SELECT block, slot FROM advisories WHERE id = ?1",
            id,
        )?;
        stored
            .map(|(block, slot)| self.decode_record(block, slot))
            .transpose()
    }

    /// Ids of the advisories that list `alias` among their aliases, sorted.
    pub fn ids_for_alias(&self, alias: &str) -> Result<Vec<String>, DbError> {
        self.steps.reset(untrusted::LOOKUP_STEPS);
        strings(
            &self.conn,
            &self.path,
            "SELECT DISTINCT a.id FROM aliases l JOIN advisories a ON a.rowid = l.advisory \
             WHERE l.alias = ?1 ORDER BY a.id",
            [alias],
        )
    }

    /// The CVE ids in CISA's Known Exploited Vulnerabilities catalogue.
    pub fn kev_ids(&self) -> Result<HashSet<String>, DbError> {
        self.steps.reset(untrusted::LOOKUP_STEPS);
        strings(&self.conn, &self.path, "SELECT cve FROM kev", [])
    }

    /// Whether `id` is in the KEV catalogue.
    pub fn is_kev(&self, id: &str) -> Result<bool, DbError> {
        self.steps.reset(untrusted::LOOKUP_STEPS);
        self.conn
            .prepare_cached("SELECT 1 FROM kev WHERE cve = ?1")
            .and_then(|mut st| st.exists([id]))
            .map_err(sqlite_err(&self.path))
    }
}

/// The database as the matcher's advisory source. A KEV lookup that fails counts as "not in
/// KEV" (the advisory lookups of the same scan fail too, and are reported).
impl AdvisorySource for Database {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, LookupError> {
        Ok(Database::advisories_for(self, ecosystem, name)?)
    }

    fn is_kev(&self, id: &str) -> bool {
        Database::is_kev(self, id).unwrap_or(false)
    }
}
