//! A hostile `rpmdb.sqlite`: the schema is code (generated columns, triggers, views) and the
//! data can be huge. Each database is built here with rusqlite and must give a bounded,
//! clear outcome: packages plus a warning, or an error naming the damage, in well under the
//! time a runaway would take.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use moat_pkgdb::Error;
use moat_pkgdb::rpm::{self, sqlite};
use rusqlite::Connection;

/// A header blob holding NAME, VERSION and RELEASE (string entries).
fn header(name: &str) -> Vec<u8> {
    let mut index = Vec::new();
    let mut store = Vec::new();
    for (tag, s) in [(1000u32, name), (1001, "1.0"), (1002, "1")] {
        index.extend(tag.to_be_bytes());
        index.extend(6u32.to_be_bytes());
        index.extend((store.len() as u32).to_be_bytes());
        index.extend(1u32.to_be_bytes());
        store.extend(s.bytes().chain([0]));
    }
    let mut out = Vec::new();
    out.extend(3u32.to_be_bytes());
    out.extend((store.len() as u32).to_be_bytes());
    out.extend(index);
    out.extend(store);
    out
}

/// Runs `schema`, inserts `bash` and `zlib` with `insert` (`?1` hnum, `?2` blob), serializes.
fn db(schema: &str, insert: &str) -> Vec<u8> {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(schema).unwrap();
    for (n, name) in [(1, "bash"), (2, "zlib")] {
        conn.execute(insert, rusqlite::params![n, header(name)])
            .unwrap();
    }
    conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

/// As an attacker writes it: a plain table filled with `insert`, then its schema text
/// replaced by `table_sql` (generated VIRTUAL columns take no room in a row, so the rows
/// stay readable), without SQLite ever evaluating the new columns here.
fn rewritten(plain: &str, insert: &str, table_sql: &str) -> Vec<u8> {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(plain).unwrap();
    for (n, name) in [(1, "bash"), (2, "zlib")] {
        conn.execute(insert, rusqlite::params![n, header(name)])
            .unwrap();
    }
    conn.execute_batch("PRAGMA writable_schema = ON").unwrap();
    conn.execute(
        "UPDATE sqlite_master SET sql = ?1 WHERE type = 'table' AND name = 'Packages'",
        [table_sql],
    )
    .unwrap();
    conn.execute_batch("PRAGMA writable_schema = OFF").unwrap();
    conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

const PLAIN: &str = "INSERT INTO Packages(hnum, blob) VALUES (?1, ?2)";

/// Reads `bytes` and checks it took less than a few seconds.
fn read(bytes: &[u8]) -> Result<moat_pkgdb::Parsed<rpm::RpmPackage>, Error> {
    let t = Instant::now();
    let r = rpm::read(bytes);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    r
}

fn names(p: &moat_pkgdb::Parsed<rpm::RpmPackage>) -> Vec<&str> {
    p.packages.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn sqlite_generated_blob_column_is_refused_not_evaluated() {
    let bytes = rewritten(
        "CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, seed BLOB)",
        "INSERT INTO Packages(hnum, seed) VALUES (?1, ?2)",
        "CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, seed BLOB, \
         blob BLOB GENERATED ALWAYS AS (zeroblob(1000000000) || hex(zeroblob(400000000))) VIRTUAL)",
    );
    match read(&bytes) {
        Err(Error::Corrupt { reason, .. }) => {
            assert!(reason.contains("Packages.blob is a generated"), "{reason}")
        }
        other => panic!("expected the generated blob to be refused, got {other:?}"),
    }
}

#[test]
fn sqlite_other_generated_column_is_a_warning_and_not_evaluated() {
    let bytes = rewritten(
        "CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)",
        PLAIN,
        "CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL, \
         junk TEXT GENERATED ALWAYS AS (printf('%.*c', 1000000000, 'x') || hex(zeroblob(400000000))) VIRTUAL)",
    );
    let p = read(&bytes).unwrap();
    assert_eq!(names(&p), ["bash", "zlib"]);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert_eq!(
        p.warnings[0].message,
        "schema: unexpected generated column Packages.\"junk\" (not evaluated)"
    );
}

#[test]
fn sqlite_trigger_is_a_warning_and_never_runs() {
    let bytes = db(
        "CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL); \
         CREATE TABLE Log(x); \
         CREATE TRIGGER \"evil\x1b[2J\" AFTER UPDATE ON Packages BEGIN \
           INSERT INTO Log VALUES (printf('%.*c', 1000000000, 'x')); END",
        PLAIN,
    );
    let p = read(&bytes).unwrap();
    assert_eq!(names(&p), ["bash", "zlib"]);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    // The name is quoted: its escape character cannot reach a terminal raw.
    assert_eq!(
        p.warnings[0].message,
        "schema: unexpected trigger \"evil\\u{1b}[2J\" on \"Packages\" (not run)"
    );
}

#[test]
fn sqlite_view_named_like_the_table_is_not_a_table() {
    let bytes = db(
        "CREATE TABLE Real(hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL); \
         CREATE VIEW Packages AS SELECT hnum, zeroblob(1000000000) AS blob FROM Real",
        "INSERT INTO Real(hnum, blob) VALUES (?1, ?2)",
    );
    match read(&bytes) {
        Err(Error::Format { reason, .. }) => assert_eq!(reason, "no Packages table"),
        other => panic!("expected no Packages table, got {other:?}"),
    }
}

#[test]
fn sqlite_huge_blob_is_skipped_with_a_warning() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
        .unwrap();
    conn.execute(PLAIN, rusqlite::params![1, header("bash")])
        .unwrap();
    let big = sqlite::MAX_VALUE as usize + 1;
    conn.execute(PLAIN, rusqlite::params![2, vec![0u8; big]])
        .unwrap();
    let bytes = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
    drop(conn);
    let p = read(&bytes).unwrap();
    assert_eq!(names(&p), ["bash"]);
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(
        p.warnings[0].message,
        format!(
            "hnum 2: blob of {big} bytes is over the {}-byte limit: skipped",
            sqlite::MAX_VALUE
        )
    );
}

#[test]
fn sqlite_virtual_table_is_refused() {
    let bytes = {
        let mut conn = Connection::open_in_memory().unwrap();
        let made = ["fts5", "fts4", "rtree"].iter().any(|m| {
            conn.execute_batch(&format!(
                "CREATE VIRTUAL TABLE Packages USING {m}(hnum, blob, c)"
            ))
            .is_ok()
        });
        if !made {
            eprintln!("skipped: this SQLite has no virtual table module");
            return;
        }
        conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
    };
    assert!(read(&bytes).is_err());
}

#[test]
fn sqlite_step_budget_stops_a_runaway_statement() {
    let mut conn = Connection::open_in_memory().unwrap();
    let tripped = sqlite::harden(&mut conn).unwrap();
    let t = Instant::now();
    let r: rusqlite::Result<i64> = conn.query_row(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        [],
        |r| r.get(0),
    );
    assert!(r.is_err());
    assert!(tripped.load(std::sync::atomic::Ordering::Relaxed));
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    // And the length limit: a 100 MB string is refused, not built.
    let mut conn = Connection::open_in_memory().unwrap();
    sqlite::harden(&mut conn).unwrap();
    let r: rusqlite::Result<String> =
        conn.query_row("SELECT printf('%.*c', 100000000, 'x')", [], |r| r.get(0));
    assert!(r.is_err());
}
