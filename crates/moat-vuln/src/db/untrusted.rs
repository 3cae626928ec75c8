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

use super::DbError;
use rusqlite::Connection;
use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use std::path::Path;

/// The largest string or blob read from the database (one advisory's JSON).
pub const MAX_VALUE: i32 = 64 << 20;

/// Locks the connection down; call before the first statement.
pub(super) fn harden(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let e = super::sqlite_err(path);
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
    Ok(())
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
