//! Opening an advisory database that someone else may have written (`--db FILE`).
//!
//! moat's own database holds tables and indexes only. A file handed to a scan could hold a
//! schema that is code: a generated column, a trigger, a view or a virtual table that SQLite
//! would evaluate while moat reads. [`harden`] runs before the schema is first read: defensive
//! mode, `trusted_schema` off, triggers and views disabled, and the run-time limits lowered
//! (no string or blob over [`MAX_VALUE`], short SQL, shallow expressions, no attached
//! databases). [`check_schema`] then refuses any trigger, view, virtual table or generated
//! column as [`DbError::Corrupt`] ("not written by moat"), before any advisory is selected.
//! What is left are moat's fixed, indexed queries over plain tables, bounded by the file.
//!
//! A file can still make those queries slow: a database without its indexes (or with a
//! million rows under one package name) turns a lookup into a scan. A progress handler counts
//! the SQLite VM steps of each query ([`Steps`]): the opening and `moat db status` get
//! [`OPEN_STEPS`] plus [`STEPS_PER_BYTE`] per byte of the file (they read whole tables), each
//! lookup [`LOOKUP_STEPS`] (a real lookup needs well under a million); past its budget the
//! query is interrupted and fails as [`DbError::Corrupt`] naming the file.

use super::DbError;
use rusqlite::Connection;
use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest string or blob read from the database (one advisory's JSON).
pub const MAX_VALUE: i32 = 64 << 20;

/// VM steps of one lookup (`advisories_for`, `advisory`, `ids_for_alias`, `is_kev`, `kev_ids`).
pub const LOOKUP_STEPS: u64 = 5_000_000;

/// VM steps of the opening checks and of `status`, besides [`STEPS_PER_BYTE`].
pub const OPEN_STEPS: u64 = 10_000_000;

/// VM steps allowed per byte of the file for the opening and `status` (whole-table reads).
pub const STEPS_PER_BYTE: u64 = 4;

/// How many VM steps pass between two calls of the progress handler.
const STEPS_PER_CALL: u16 = 1000;

/// The VM-step budget of a connection's current query: [`Steps::reset`] before each lookup.
#[derive(Debug, Clone)]
pub(super) struct Steps {
    /// Progress-handler calls left.
    left: Arc<AtomicU64>,
}

impl Steps {
    /// Gives the next queries `steps` VM steps in all.
    pub(super) fn reset(&self, steps: u64) {
        self.left
            .store(steps / u64::from(STEPS_PER_CALL), Ordering::Relaxed);
    }
}

/// The message of a query interrupted by its [`Steps`] budget (SQLite's `SQLITE_INTERRUPT`,
/// which nothing else in moat raises).
pub(super) const OVER_BUDGET: &str =
    "a query ran past its budget of SQLite VM steps: the file is damaged or crafted";

/// Locks the connection down and installs the [`Steps`] budget (initially [`OPEN_STEPS`]
/// plus [`STEPS_PER_BYTE`] per byte of `file_len`); call before the first statement.
pub(super) fn harden(conn: &mut Connection, path: &Path, file_len: u64) -> Result<Steps, DbError> {
    let e = super::sqlite_err(path);
    let steps = Steps {
        left: Arc::new(AtomicU64::new(0)),
    };
    steps.reset(OPEN_STEPS.saturating_add(file_len.saturating_mul(STEPS_PER_BYTE)));
    let left = Arc::clone(&steps.left);
    // Returning true interrupts the running statement.
    conn.progress_handler(
        i32::from(STEPS_PER_CALL),
        Some(move || {
            left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_err()
        }),
    )
    .map_err(&e)?;
    for (config, on) in [
        (DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true),
        (DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false),
    ] {
        conn.set_db_config(config, on).map_err(&e)?;
    }
    let limit = |which: Limit, value: i32| conn.set_limit(which, value).map_err(&e);
    limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE)?;
    limit(Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000)?;
    limit(Limit::SQLITE_LIMIT_EXPR_DEPTH, 100)?;
    limit(Limit::SQLITE_LIMIT_COMPOUND_SELECT, 5)?;
    limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    limit(Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 1)?;
    limit(Limit::SQLITE_LIMIT_WORKER_THREADS, 0)?;
    Ok(steps)
}

/// Refuses a schema moat would not have written (see the module documentation).
pub(super) fn check_schema(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let e = super::sqlite_err(path);
    let found: Option<(String, String)> = conn
        .query_row(
            "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') \
             OR (type = 'table' AND upper(ltrim(sql)) LIKE 'CREATE VIRTUAL%') \
             UNION ALL SELECT 'generated column', m.name || '.' || x.name \
             FROM sqlite_master m, pragma_table_xinfo(m.name) x \
             WHERE m.type = 'table' AND x.hidden != 0 LIMIT 1",
            [],
            |r| Ok(Some((r.get(0)?, r.get(1)?))),
        )
        .or_else(|err| match err {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .map_err(&e)?;
    match found {
        Some((kind, name)) => Err(DbError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("not written by moat: the schema has a {kind} {name:?}"),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Builder, Database};

    #[test]
    fn a_query_past_its_step_budget_is_interrupted() {
        let mut conn = Connection::open_in_memory().unwrap();
        let steps = harden(&mut conn, Path::new("x.db"), 0).unwrap();
        steps.reset(100_000);
        let count = |conn: &Connection| {
            conn.query_row(
                "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000) \
                 SELECT count(*) FROM c",
                [],
                |r| r.get::<_, i64>(0),
            )
        };
        let err = super::super::classify(Path::new("x.db"), count(&conn).unwrap_err());
        let msg = err.to_string();
        assert!(
            msg.contains("x.db") && msg.contains("budget of SQLite VM steps"),
            "{msg}"
        );
        // A fresh budget large enough lets it run.
        steps.reset(100_000_000);
        assert_eq!(count(&conn).unwrap(), 1_000_000);
    }

    /// A database without its indexes and with millions of rows: each lookup would scan; it
    /// is cut off at [`LOOKUP_STEPS`] with an error naming the file.
    #[test]
    fn a_lookup_over_an_unindexed_table_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crafted.db");
        Builder::create(&path).unwrap().commit().unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            let indexes: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for i in indexes {
                conn.execute_batch(&format!("DROP INDEX \"{i}\"")).unwrap();
            }
            // Schema 4's `aliases` is keyed by alias (WITHOUT ROWID): made a plain table.
            conn.execute_batch(
                "DROP TABLE aliases; CREATE TABLE aliases(alias TEXT NOT NULL, advisory INTEGER NOT NULL);
                 WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000) \
                 INSERT INTO aliases(alias, advisory) SELECT 'CVE-1', n FROM c;",
            )
            .unwrap();
        }
        let db = Database::open_read_only(&path).unwrap();
        let msg = db.ids_for_alias("CVE-2").unwrap_err().to_string();
        assert!(
            msg.contains("crafted.db") && msg.contains("budget of SQLite VM steps"),
            "{msg}"
        );
    }
}
