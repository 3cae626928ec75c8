//! `rpmdb.sqlite` (rpm >= 4.16): table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, one
//! header blob per row.
//!
//! ## The file is untrusted
//!
//! An image's `rpmdb.sqlite` is written by whoever built the image, and SQLite runs what a
//! schema says: a generated column, a trigger or a view is code. So every connection is
//! [`harden`]ed before the schema is first read: defensive mode, `trusted_schema` off,
//! triggers and views disabled, the run-time limits lowered ([`MAX_VALUE`] for any string or
//! blob, short SQL, shallow expressions, no attached databases), and a progress handler that
//! stops a statement after [`STEP_BUDGET`] virtual-machine steps. Then the schema is checked
//! before anything is selected ([`check_schema`]): `Packages` must be an ordinary table whose
//! `hnum` and `blob` are stored columns; a generated `hnum`/`blob` or a virtual table is
//! refused ([`Error::Corrupt`]), while triggers, views and other generated columns (which
//! the fixed query never evaluates) are reported as damage (`parse-error` warnings). Only
//! `hnum` and `blob` are ever selected, and a blob over [`MAX_VALUE`] is skipped with a
//! warning instead of being loaded.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{Collector, RpmPackage};
use crate::{Error, Parsed};

const FORMAT: &str = "rpm sqlite";
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The largest string or blob SQLite may build or load (`SQLITE_LIMIT_LENGTH`): one rpm
/// header blob. Real ones are well under 1 MiB (a kernel package with 8,000 files: ~700 KiB).
pub const MAX_VALUE: i32 = 32 << 20;

/// Virtual-machine steps one statement may take before it is interrupted. Reading a real
/// database of 1,000 packages takes well under 100,000.
pub const STEP_BUDGET: u64 = 50_000_000;

/// How many steps between two calls of the progress handler.
const STEPS_PER_CALL: i32 = 10_000;

/// Makes `conn` safe for a database file someone else wrote; call it before the schema is
/// read (before the first statement, before `deserialize`). Returns the flag the progress
/// handler raises when it stops a statement over [`STEP_BUDGET`].
pub fn harden(conn: &mut Connection) -> rusqlite::Result<Arc<AtomicBool>> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    for (limit, value) in [
        (Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE),
        (Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000),
        (Limit::SQLITE_LIMIT_COLUMN, 200),
        (Limit::SQLITE_LIMIT_EXPR_DEPTH, 50),
        (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 3),
        (Limit::SQLITE_LIMIT_VDBE_OP, 25_000),
        (Limit::SQLITE_LIMIT_FUNCTION_ARG, 8),
        (Limit::SQLITE_LIMIT_ATTACHED, 0),
        (Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 100),
        (Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 10),
        (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 1),
        (Limit::SQLITE_LIMIT_WORKER_THREADS, 0),
    ] {
        conn.set_limit(limit, value)?;
    }
    let tripped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&tripped);
    let max_calls = STEP_BUDGET / STEPS_PER_CALL as u64;
    let mut calls = 0u64;
    conn.progress_handler(
        STEPS_PER_CALL,
        Some(move || {
            calls += 1;
            let stop = calls > max_calls;
            if stop {
                flag.store(true, Ordering::Relaxed);
            }
            stop
        }),
    )?;
    Ok(tripped)
}

/// Reads an `rpmdb.sqlite` held in memory: the bytes are copied into an in-memory,
/// read-only, [`harden`]ed sqlite connection (no temporary files, nothing written anywhere).
///
/// A database left in WAL mode is read as if it were in rollback mode (header bytes 18/19
/// are patched in the private copy, since the in-memory VFS has no WAL); any content still
/// in a separate `-wal` file is not seen, exactly as with an immutable open.
pub fn read_bytes(bytes: &[u8]) -> Result<Parsed<RpmPackage>, Error> {
    if bytes.len() < 100 || !bytes.starts_with(MAGIC) {
        return Err(Error::Format {
            format: FORMAT,
            reason: format!(
                "{} bytes without the \"SQLite format 3\" header",
                bytes.len()
            ),
        });
    }
    let mut head = [0u8; 100];
    head.copy_from_slice(&bytes[..100]);
    if head[18] == 2 && head[19] == 2 {
        head[18] = 1;
        head[19] = 1;
    }
    let mut conn = Connection::open_in_memory()?;
    let tripped = harden(&mut conn)?;
    let reader = std::io::Read::chain(&head[..], &bytes[100..]);
    conn.deserialize_read_exact(rusqlite::MAIN_DB, reader, bytes.len(), true)?;
    read_conn(&conn, &tripped)
}

/// Opens `path` read-only and immutable (`file:PATH?mode=ro&immutable=1`): sqlite takes no
/// locks and creates no `-wal`/`-shm` files, so a read-only layer or fixture is never touched.
/// The connection is [`harden`]ed as for [`read_bytes`].
pub fn read_path(path: &Path) -> Result<Parsed<RpmPackage>, Error> {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    let mut conn = Connection::open_with_flags(
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let tripped = harden(&mut conn)?;
    read_conn(&conn, &tripped)
}

fn read_conn(conn: &Connection, tripped: &AtomicBool) -> Result<Parsed<RpmPackage>, Error> {
    let over_budget = |e: rusqlite::Error| -> Error {
        if tripped.load(Ordering::Relaxed) {
            Error::Corrupt {
                format: FORMAT,
                reason: format!("reading it took over {STEP_BUDGET} SQLite steps: stopped"),
            }
        } else {
            Error::Sqlite(e)
        }
    };
    let mut out = Collector::default();
    check_schema(conn, &mut out).map_err(|e| match e {
        Error::Sqlite(e) => over_budget(e),
        other => other,
    })?;
    let mut stmt = conn.prepare(
        "SELECT hnum, length(blob), CASE WHEN length(blob) <= ?1 THEN blob END \
         FROM Packages ORDER BY hnum",
    )?;
    let mut rows = stmt.query([MAX_VALUE]).map_err(over_budget)?;
    while let Some(row) = rows.next().map_err(over_budget)? {
        let id = match row.get_ref(0)? {
            ValueRef::Integer(n) => format!("hnum {n}"),
            other => format!("hnum ({:?})", other.data_type()),
        };
        match (row.get_ref(1)?, row.get_ref(2)?) {
            (_, ValueRef::Blob(b)) => out.blob(&id, b),
            (ValueRef::Integer(n), ValueRef::Null) if n > i64::from(MAX_VALUE) => out.warn(
                &id,
                format!("blob of {n} bytes is over the {MAX_VALUE}-byte limit: skipped"),
            ),
            (_, other) => out.warn(&id, format!("blob column has type {:?}", other.data_type())),
        }
    }
    Ok(out.finish())
}

/// Checks the schema before anything is selected: see the module documentation. Names
/// from the schema are quoted with `{:?}`, so they cannot carry control characters.
fn check_schema(conn: &Connection, out: &mut Collector) -> Result<(), Error> {
    let mut packages_sql = None;
    let mut stmt = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let kind: String = row.get::<_, Option<String>>(0)?.unwrap_or_default();
        let name: String = row.get::<_, Option<String>>(1)?.unwrap_or_default();
        let table: String = row.get::<_, Option<String>>(2)?.unwrap_or_default();
        match kind.as_str() {
            "table" if name == "Packages" => {
                packages_sql = Some(row.get::<_, Option<String>>(3)?.unwrap_or_default());
            }
            "trigger" | "view" => out.warn(
                "schema",
                format!("unexpected {kind} {name:?} on {table:?} (not run)"),
            ),
            _ => {}
        }
    }
    let Some(sql) = packages_sql else {
        return Err(Error::Format {
            format: FORMAT,
            reason: "no Packages table".into(),
        });
    };
    if !sql
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("CREATE TABLE")
    {
        return Err(Error::Corrupt {
            format: FORMAT,
            reason: "Packages is not an ordinary table (a virtual table?): not read".into(),
        });
    }
    let mut stmt = conn.prepare("SELECT name, type, hidden FROM pragma_table_xinfo('Packages')")?;
    let mut rows = stmt.query([])?;
    let mut seen = [false; 2];
    while let Some(row) = rows.next()? {
        let name: String = row.get::<_, Option<String>>(0)?.unwrap_or_default();
        let decl: String = row.get::<_, Option<String>>(1)?.unwrap_or_default();
        let hidden: i64 = row.get::<_, Option<i64>>(2)?.unwrap_or_default();
        let wanted = match name.to_ascii_lowercase().as_str() {
            "hnum" => Some((0, "INTEGER")),
            "blob" => Some((1, "BLOB")),
            _ => None,
        };
        match wanted {
            Some(_) if hidden != 0 => {
                return Err(Error::Corrupt {
                    format: FORMAT,
                    reason: format!(
                        "Packages.{name} is a generated or hidden column: not evaluated"
                    ),
                });
            }
            Some((i, want)) => {
                seen[i] = true;
                if !decl.eq_ignore_ascii_case(want) {
                    out.warn(
                        "schema",
                        format!("Packages.{name} is declared {decl:?}, expected {want}"),
                    );
                }
            }
            None if hidden != 0 => out.warn(
                "schema",
                format!("unexpected generated column Packages.{name:?} (not evaluated)"),
            ),
            None => {}
        }
    }
    if let Some(missing) = ["hnum", "blob"].iter().zip(seen).find(|(_, s)| !s) {
        return Err(Error::Corrupt {
            format: FORMAT,
            reason: format!("Packages has no {} column", missing.0),
        });
    }
    Ok(())
}
