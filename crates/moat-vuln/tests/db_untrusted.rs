//! `--db` pointing at a file someone else wrote: a schema that is code (a trigger, a view, a
//! generated column, a virtual table) is refused before any advisory is read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_vuln::db::{Builder, Database, DbError};
use std::path::Path;

fn moat_db(path: &Path) {
    Builder::create(path).unwrap().commit().unwrap();
}

fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn schema_code_in_an_advisory_db_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.db");
    moat_db(&clean);
    Database::open_read_only(&clean).unwrap();

    for (name, sql, what) in [
        (
            "generated.db",
            "ALTER TABLE advisories ADD COLUMN boom TEXT \
             GENERATED ALWAYS AS (printf('%.*c', 1000000000, 'x')) VIRTUAL",
            "generated column \"advisories.boom\"",
        ),
        (
            "trigger.db",
            "CREATE TRIGGER t AFTER INSERT ON kev BEGIN SELECT zeroblob(1000000000); END",
            "trigger \"t\"",
        ),
        (
            "view.db",
            "CREATE VIEW v AS SELECT hex(zeroblob(1000000000))",
            "view \"v\"",
        ),
    ] {
        let path = dir.path().join(name);
        moat_db(&path);
        tamper(&path, sql);
        match Database::open_read_only(&path) {
            Err(DbError::Corrupt { reason, .. }) => assert_eq!(
                reason,
                format!("not written by moat: the schema has a {what}"),
                "{name}"
            ),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
    }
}
