//! `rpmdb.sqlite` (rpm >= 4.16): table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, one
//! header blob per row.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{Collector, RpmPackage};
use crate::{Error, Parsed};

const FORMAT: &str = "rpm sqlite";
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Reads an `rpmdb.sqlite` held in memory: the bytes are copied into an in-memory,
/// read-only sqlite connection (no temporary files, nothing written anywhere).
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
    let reader = std::io::Read::chain(&head[..], &bytes[100..]);
    conn.deserialize_read_exact(rusqlite::MAIN_DB, reader, bytes.len(), true)?;
    read_conn(&conn)
}

/// Opens `path` read-only and immutable (`file:PATH?mode=ro&immutable=1`): sqlite takes no
/// locks and creates no `-wal`/`-shm` files, so a read-only layer or fixture is never touched.
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
    let conn = Connection::open_with_flags(
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    read_conn(&conn)
}

fn read_conn(conn: &Connection) -> Result<Parsed<RpmPackage>, Error> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Packages')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Err(Error::Format {
            format: FORMAT,
            reason: "no Packages table".into(),
        });
    }
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")?;
    let mut rows = stmt.query([])?;
    let mut out = Collector::default();
    while let Some(row) = rows.next()? {
        let id = match row.get_ref(0)? {
            rusqlite::types::ValueRef::Integer(n) => format!("hnum {n}"),
            other => format!("hnum ({:?})", other.data_type()),
        };
        match row.get_ref(1)? {
            rusqlite::types::ValueRef::Blob(b) => out.blob(&id, b),
            other => out.warn(&id, format!("blob column has type {:?}", other.data_type())),
        }
    }
    Ok(out.finish())
}
