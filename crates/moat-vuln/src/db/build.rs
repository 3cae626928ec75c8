//! Writing a database: the [`Builder`].
//!
//! A builder works on a temporary file beside its target (`<target>.tmp-<pid>`), either a new
//! empty database ([`Builder::create`]) or a copy of the current one
//! ([`Builder::from_existing`]); [`Builder::replace_source`] swaps one feed's records in one
//! transaction; [`Builder::commit`] writes `meta`, fsyncs and renames the file over the target.
//! The temporary file is owned by a guard that removes it when the builder is dropped without
//! committing, so an error anywhere (or a panic) leaves no file behind and the target
//! untouched.
//!
//! Times are written as RFC 3339 UTC with whole seconds (`2026-01-02T03:04:05Z`), through
//! `jiff`.

use super::{Database, DbError, schema, sqlite_err, strings};
use crate::import::ImportBatch;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Download metadata of one source, kept for conditional requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMeta {
    pub url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A writable database being built on a temporary file beside its target.
pub struct Builder {
    // Declared before `tmp`: the connection is closed before the file is removed.
    conn: Connection,
    tmp: TmpFile,
    target: PathBuf,
    rebuilt: Option<String>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("tmp", &self.tmp.path)
            .field("target", &self.target)
            .finish()
    }
}

/// The temporary file of a builder, removed (with its journal) on drop unless
/// [`TmpFile::keep`] says it was renamed into place.
struct TmpFile {
    path: PathBuf,
}

impl TmpFile {
    /// `<target>.tmp-<pid>`, with whatever an earlier run of this process left there removed.
    fn beside(target: &Path) -> TmpFile {
        let mut name = target
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "moat.db".into());
        name.push(format!(".tmp-{}", std::process::id()));
        let path = target.with_file_name(name);
        remove_quietly(&path);
        TmpFile { path }
    }

    fn keep(mut self) {
        self.path = PathBuf::new();
    }
}

impl Drop for TmpFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            remove_quietly(&self.path);
        }
    }
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

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DbError + '_ {
    move |source| DbError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A UTC time as RFC 3339 with whole seconds (`2026-01-02T03:04:05Z`).
fn rfc3339(t: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

/// The current UTC time as RFC 3339 (`2026-01-02T03:04:05Z`).
fn now_rfc3339() -> String {
    rfc3339(jiff::Timestamp::now())
}

impl Builder {
    /// A new, empty database at `<target>.tmp-<pid>` (the target's directory is created).
    pub fn create(target: &Path) -> Result<Builder, DbError> {
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let tmp = TmpFile::beside(target);
        let conn = open_writable(&tmp.path)?;
        schema::create(&conn, &tmp.path)?;
        Ok(Builder {
            conn,
            tmp,
            target: target.to_path_buf(),
            rebuilt: None,
        })
    }

    /// A copy of the current database at the temporary path. A missing target, or one that is
    /// corrupt or of another schema, starts empty instead (that is how `moat db update` rebuilds
    /// a broken or older database); [`Builder::rebuilt`] then says why.
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
        let tmp = TmpFile::beside(target);
        std::fs::copy(target, &tmp.path).map_err(io_err(&tmp.path))?;
        let conn = open_writable(&tmp.path)?;
        schema::check_meta(&conn, &tmp.path)?;
        let ok: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(sqlite_err(&tmp.path))?;
        if ok != "ok" {
            return Err(DbError::Corrupt {
                path: target.to_path_buf(),
                reason: ok,
            });
        }
        Ok(Builder {
            conn,
            tmp,
            target: target.to_path_buf(),
            rebuilt: None,
        })
    }

    /// Set when [`Builder::from_existing`] could not use the existing database and started
    /// empty: why.
    pub fn rebuilt(&self) -> Option<&str> {
        self.rebuilt.as_deref()
    }

    /// The temporary file being written.
    pub fn temp_path(&self) -> &Path {
        &self.tmp.path
    }

    /// Replaces everything of `source` with `batch` in one transaction: the source's advisories
    /// and KEV entries are dropped, the batch's are inserted (each advisory's `source` set to
    /// `source`; an id already stored by another source is taken over, the later import wins),
    /// and `sources` gets `meta` and the time. Package names are stored in the lookup form of
    /// [`moat_model::normalize_name`]. Returns the number of records the source now holds
    /// (advisories plus KEV entries; duplicate ids in the batch count once).
    pub fn replace_source(
        &mut self,
        source: &str,
        batch: &ImportBatch,
        meta: SourceMeta,
    ) -> Result<usize, DbError> {
        let tmp = self.tmp.path.clone();
        let e = sqlite_err(&tmp);
        let now = now_rfc3339();
        let tx = self.conn.transaction().map_err(&e)?;
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
            let prepare = |sql: &str| tx.prepare_cached(sql).map_err(&e);
            let mut exists = prepare("SELECT 1 FROM advisories WHERE id = ?1")?;
            let mut del_aff = prepare("DELETE FROM affected WHERE advisory_id = ?1")?;
            let mut del_ali = prepare("DELETE FROM aliases WHERE advisory_id = ?1")?;
            let mut ins_adv = prepare(
                "INSERT OR REPLACE INTO advisories(id, source, modified, withdrawn, json) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut ins_aff =
                prepare("INSERT INTO affected(ecosystem, name, advisory_id) VALUES (?1, ?2, ?3)")?;
            let mut ins_ali = prepare("INSERT INTO aliases(alias, advisory_id) VALUES (?1, ?2)")?;
            let mut ins_kev = prepare(
                "INSERT OR REPLACE INTO kev(cve, source, date_added, vendor, product, name, \
                 due_date, ransomware) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
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
                    let name = moat_model::normalize_name(eco, &aff.package.name);
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
        self.conn
            .query_row(
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
            .map_err(sqlite_err(&self.tmp.path))
    }

    /// Names of the sources stored so far.
    pub fn source_names(&self) -> Result<Vec<String>, DbError> {
        strings(
            &self.conn,
            &self.tmp.path,
            "SELECT name FROM sources ORDER BY name",
            [],
        )
    }

    /// Writes `meta` (schema version, `built_at`), closes the connection, fsyncs the file and
    /// renames it over the target (atomic on one filesystem), then fsyncs the directory.
    pub fn commit(self) -> Result<(), DbError> {
        let Builder {
            conn, tmp, target, ..
        } = self;
        let path = tmp.path.clone();
        schema::write_meta(&conn, &path, Some(&now_rfc3339()))?;
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA optimize;")
            .map_err(sqlite_err(&path))?;
        conn.close().map_err(|(_, e)| sqlite_err(&path)(e))?;
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(io_err(&path))?;
        std::fs::rename(&path, &target).map_err(io_err(&target))?;
        tmp.keep();
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename durable; not every platform can open a directory.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let at = |s| rfc3339(jiff::Timestamp::from_second(s).unwrap());
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_767_225_599), "2025-12-31T23:59:59Z");
        // Fractions of a second are cut, not rounded.
        let t = jiff::Timestamp::new(1_767_225_599, 999_999_999).unwrap();
        assert_eq!(rfc3339(t), "2025-12-31T23:59:59Z");
        assert!(now_rfc3339().ends_with('Z') && now_rfc3339().len() == 20);
    }
}
