//! The database schema: its tables, the `meta` marker, and the version check every opening
//! goes through.
//!
//! ## Schema (version [`SCHEMA_VERSION`])
//! | table | columns | note |
//! |---|---|---|
//! | `meta` | key, value | `format` = `moat-advisory-db`, `schema_version`, `built_at` (RFC 3339) |
//! | `sources` | name PK, url, etag, last_modified, imported_at, records | one row per feed label (`osv:Go`, `rustsec`, `kev`, ...) |
//! | `labels` | id, name (unique) | the source labels `advisories.source` points to |
//! | `advisories` | rowid, id (unique index), source (a `labels` id), packages, block, slot | one row per record: the record itself, OSV-shaped JSON, is record `slot` of block `block`; `packages` the ids of the packages it names (varints): the lists in `affected` replacing it changes |
//! | `blocks` | id, dict, records, data | up to 64 records (128 KiB) of one source, one zstd frame compressed with the dictionary `dict` (NULL: none); `records` its slots, live or not (what compaction compares the live ones with); decoded: the record count and lengths (varints), then the records |
//! | `dicts` | id, source, dict | zstd dictionaries, trained at import on the first records of a source (see [`super::Writer`]) |
//! | `packages` | ecosystem, name, id; PK (ecosystem, name) WITHOUT ROWID | every package key once: ecosystems as the release the entry applies to ([`crate::distro::release_key`]: `Ubuntu:22.04` for OSV's `Ubuntu:22.04:LTS` and `Ubuntu:Pro:22.04:LTS`), names in the lookup form of [`moat_model::normalize_name`] |
//! | `affected` | package (INTEGER PRIMARY KEY: a `packages` id), advisories | the records that affect the package: their rowids, increasing, as varints of the gaps (`codec::encode_sorted_ids`); a package no record names has no row |
//! | `coverage` | ecosystem, source, advisories | what the database covers: distinct advisories per (ecosystem as in `packages`, source); rebuilt at every commit, read by scans (is the target's release covered?) and `moat db status` |
//! | `aliases` | alias, advisory; PK (alias, advisory) WITHOUT ROWID | the aliases of each record (other than its id); no index on advisory: a replaced record's alias rows are found from its stored text, a replaced source's by one scan |
//! | `kev` | cve PK, source, date_added, vendor, product, name, due_date, ransomware | CISA KEV |
//!
//! Why this shape (schema 4; schema 3 stored plain JSON and repeated every key as text in
//! indexed tables, about 3.8 kB per record on the bench's mirror set): lookups go package
//! key -> rowids -> blocks, every key and id is stored once, a package's records are one
//! list of integers (schema 7; `aliases` pairs an alias with a rowid), and the record
//! text, most of the bytes, is compressed in blocks of records of one source against a
//! dictionary trained on that source (OSV records of one feed share
//! most of their text: field names, URLs, boilerplate), see `codec.rs`. Columns nothing
//! reads are not stored (`modified` and `withdrawn` are in the record). Rejected: a
//! normalised range table (matching needs the whole record anyway: ranges, versions,
//! severity, aliases), one compressed frame per record (the first cut: ~670 B a record on
//! the mirror set, a compression call per record), the long text (details, references)
//! in a separate compressed column (the matcher needs everything else, and the text is
//! most of what compresses well in blocks).
//!
//! **An advisory id present in two sources:** the later import wins.
//! [`Writer::advisory`](super::Writer::advisory) replaces the whole record (and its
//! `affected` / `aliases` rows), the record then belongs to the source imported last, and
//! the other source's record count is recomputed.
//!
//! Withdrawn records are stored like any other; the matcher ignores them.
//!
//! ## Versions
//! A database of another version is refused with [`DbError::Schema`] by
//! [`Database::open_read_only`](super::Database::open_read_only) and rebuilt from scratch by
//! `moat db update` ([`Builder::from_existing`](super::Builder::from_existing)). The version
//! changes whenever a database written by an older moat would be read wrongly:
//!
//! | version | change |
//! |---|---|
//! | 1 | first schema |
//! | 2 | `affected.name` of NuGet and Packagist in lower case (their names are case-insensitive); version 1 stored them as written, so a differently cased package would miss its advisories |
//! | 3 | `affected.ecosystem` is the release an entry applies to (distro streams mapped, see [`crate::distro`]); version 2 stored OSV's stream names, which no scanned package carries; the `coverage` table |
//! | 4 | the compact layout: records in zstd blocks (`blocks`) compressed against per-source dictionaries (`dicts`), package keys interned (`packages`), `affected` and `aliases` pointing to rowids |
//! | 5 | `blocks.records` (compaction), blocks of 64 records, 2 KiB pages, no index on `aliases(advisory)`; version 4 files lack the column |
//! | 6 | `advisories.source` is the id of the source's label in `labels` (an integer, ~11 B a record less than the label's text); version 5 stored the text |
//! | 7 | `affected` holds one row a package, its records' rowids in one list; version 6 held one (package, advisory) row a link (3.2 million on the bench's 500k mirror set, whose sorted insert was half the import's serial tail) |

use super::{DbError, sqlite_err};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = 7;

/// The `meta.format` marker that tells a moat database from any other SQLite file.
const FORMAT: &str = "moat-advisory-db";

/// The page size of a new database: SQLite's default, 4 KiB. Smaller pages waste less on
/// partly filled pages and on the last overflow page of each block (the 500k mirror set:
/// 441 B a record with 2 KiB pages, 447 B with 4 KiB, 453 B with 8 KiB), but a block of
/// records is a chain of twice as many overflow pages, and every table one level deeper:
/// the 500k import took 5-6% longer with 2 KiB pages (5.64-5.71 against 5.97-6.00 s,
/// alternated). 8 KiB pages were no faster than 4 KiB within the machine's noise and held
/// 15 MiB more at peak (BENCHMARKS.md, Session 35). Files written with other page sizes
/// read the same.
const PAGE_SIZE: u32 = 4096;

/// The tables (with their primary keys).
const TABLES_SQL: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(name TEXT PRIMARY KEY, url TEXT, etag TEXT, last_modified TEXT,
                     imported_at TEXT NOT NULL, records INTEGER NOT NULL);
CREATE TABLE dicts(id INTEGER PRIMARY KEY, source TEXT NOT NULL, dict BLOB NOT NULL);
CREATE TABLE labels(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE advisories(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, source INTEGER NOT NULL,
                        packages BLOB NOT NULL, block INTEGER NOT NULL, slot INTEGER NOT NULL);
CREATE TABLE blocks(id INTEGER PRIMARY KEY, dict INTEGER, records INTEGER NOT NULL,
                    data BLOB NOT NULL);
CREATE TABLE packages(ecosystem TEXT NOT NULL, name TEXT NOT NULL, id INTEGER NOT NULL,
                      PRIMARY KEY(ecosystem, name)) WITHOUT ROWID;
CREATE TABLE affected(package INTEGER PRIMARY KEY, advisories BLOB NOT NULL);
CREATE TABLE aliases(alias TEXT NOT NULL, advisory INTEGER NOT NULL,
                     PRIMARY KEY(alias, advisory)) WITHOUT ROWID;
CREATE TABLE kev(cve TEXT PRIMARY KEY, source TEXT NOT NULL, date_added TEXT, vendor TEXT,
                 product TEXT, name TEXT, due_date TEXT, ransomware TEXT);
CREATE TABLE coverage(ecosystem TEXT NOT NULL, source TEXT NOT NULL, advisories INTEGER NOT NULL,
                      PRIMARY KEY(ecosystem, source));
";

/// The secondary indexes (what lookups by id and deletes need). A new database is
/// bulk-loaded without them and gets them at commit (one sort each instead of a B-tree
/// insert per row, and full pages: ids inserted out of order left the pages of a B-tree
/// built row by row about two thirds full), see [`super::Builder`].
const INDEXES_SQL: &str = "
CREATE INDEX IF NOT EXISTS kev_source ON kev(source);
";

/// The unique index on `advisories(id)`: a database written before this index was deferred
/// has it as the column's `UNIQUE` constraint (`sqlite_autoindex_advisories_1`) instead,
/// which serves the same (both readers and writers rely only on the uniqueness).
const ID_INDEX_SQL: &str = "CREATE UNIQUE INDEX IF NOT EXISTS advisories_id ON advisories(id)";

/// Creates the secondary indexes that do not exist yet.
pub(super) fn create_indexes(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let e = sqlite_err(path);
    conn.execute_batch(INDEXES_SQL).map_err(&e)?;
    let constraint: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' \
             AND name = 'sqlite_autoindex_advisories_1'",
            [],
            |r| r.get(0),
        )
        .map_err(&e)?;
    if constraint == 0 {
        conn.execute_batch(ID_INDEX_SQL).map_err(&e)?;
    }
    Ok(())
}

/// Replaces `coverage` by `rows` of (ecosystem, source, advisories): what
/// [`write_coverage`] computes, counted while a new database was written.
pub(super) fn write_coverage_rows<'a>(
    conn: &Connection,
    path: &Path,
    rows: impl Iterator<Item = (&'a str, &'a str, i64)>,
) -> Result<(), DbError> {
    let e = sqlite_err(path);
    conn.execute("DELETE FROM coverage", []).map_err(&e)?;
    let mut st = conn
        .prepare("INSERT INTO coverage(ecosystem, source, advisories) VALUES (?1, ?2, ?3)")
        .map_err(&e)?;
    // A pair left without records (each replaced by one elsewhere) counts 0: not a row,
    // as in the recount.
    for (eco, source, n) in rows.filter(|&(_, _, n)| n > 0) {
        st.execute(params![eco, source, n]).map_err(&e)?;
    }
    Ok(())
}

/// Recomputes `coverage` from `affected` (at every commit, unless it was counted while
/// writing: [`write_coverage_rows`]): per release key (`packages.ecosystem`), the distinct
/// records of each source among its packages' lists.
pub(super) fn write_coverage(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let e = sqlite_err(path);
    let labels: std::collections::HashMap<i64, String> =
        super::rows(conn, path, "SELECT id, name FROM labels", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    // (rowid, label id) in rowid order, for a binary search per record.
    let sources: Vec<(i64, i64)> = super::rows(
        conn,
        path,
        "SELECT rowid, source FROM advisories ORDER BY rowid",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut rows: Vec<(String, String, i64)> = Vec::new();
    let mut flush = |eco: &str, ids: &mut Vec<u32>| {
        ids.sort_unstable();
        ids.dedup();
        let mut counts: std::collections::BTreeMap<&str, i64> = Default::default();
        for &id in ids.iter() {
            if let Ok(i) = sources.binary_search_by_key(&i64::from(id), |&(r, _)| r)
                && let Some(label) = sources.get(i).and_then(|(_, l)| labels.get(l))
            {
                *counts.entry(label.as_str()).or_default() += 1;
            }
        }
        for (label, n) in counts {
            rows.push((eco.to_string(), label.to_string(), n));
        }
        ids.clear();
    };
    let mut st = conn
        .prepare(
            "SELECT p.ecosystem, f.advisories FROM packages p JOIN affected f ON f.package = p.id \
             ORDER BY p.ecosystem",
        )
        .map_err(&e)?;
    let mut q = st.query([]).map_err(&e)?;
    let mut eco: Option<String> = None;
    let mut ids: Vec<u32> = Vec::new();
    while let Some(r) = q.next().map_err(&e)? {
        let this = r.get_ref(0).and_then(|v| Ok(v.as_str()?)).map_err(&e)?;
        if eco.as_deref() != Some(this) {
            if let Some(done) = &eco {
                flush(done, &mut ids);
            }
            eco = Some(this.to_string());
        }
        let list = r.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(&e)?;
        if !super::codec::decode_sorted_ids(list, &mut ids) {
            return Err(DbError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("a package list of {this} does not decode"),
            });
        }
    }
    if let Some(done) = &eco {
        flush(done, &mut ids);
    }
    drop(q);
    drop(st);
    write_coverage_rows(
        conn,
        path,
        rows.iter()
            .map(|(eco, source, n)| (eco.as_str(), source.as_str(), *n)),
    )
}

/// Creates the tables (without the secondary indexes: [`create_indexes`]) and the `meta`
/// marker on an empty database.
pub(super) fn create_tables(conn: &Connection, path: &Path) -> Result<(), DbError> {
    conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE}; {TABLES_SQL}"))
        .map_err(sqlite_err(path))?;
    write_meta(conn, path, None)
}

/// Writes the format marker and [`SCHEMA_VERSION`] into `meta`, and `built_at` when given.
pub(super) fn write_meta(
    conn: &Connection,
    path: &Path,
    built_at: Option<&str>,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('format', ?1), ('schema_version', ?2)",
        params![FORMAT, SCHEMA_VERSION.to_string()],
    )
    .map_err(sqlite_err(path))?;
    if let Some(t) = built_at {
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('built_at', ?1)",
            [t],
        )
        .map_err(sqlite_err(path))?;
    }
    Ok(())
}

/// One `meta` value.
pub(super) fn meta_value(
    conn: &Connection,
    path: &Path,
    key: &str,
) -> Result<Option<String>, DbError> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
        r.get::<_, String>(0)
    })
    .optional()
    .map_err(sqlite_err(path))
}

/// Checks the format marker and the schema version: a file without them is
/// [`DbError::Corrupt`], another version is [`DbError::Schema`].
pub(super) fn check_meta(conn: &Connection, path: &Path) -> Result<(), DbError> {
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
    if meta_value(conn, path, "format")?.as_deref() != Some(FORMAT) {
        return Err(corrupt(
            "not a moat database: meta.format is missing or wrong",
        ));
    }
    let found = meta_value(conn, path, "schema_version")?.unwrap_or_default();
    if found != SCHEMA_VERSION.to_string() {
        return Err(DbError::Schema {
            path: path.to_path_buf(),
            found,
            want: SCHEMA_VERSION,
        });
    }
    Ok(())
}
