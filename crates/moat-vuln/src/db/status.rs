//! What `moat db status` shows: the sources with their download metadata, record counts per
//! source and per ecosystem, what the database covers (ecosystem and release per source),
//! and when the database was built. [`Database::covered_ecosystems`] is what a scan asks:
//! which releases have any advisory at all.

use super::build::SourceMeta;
use super::{Database, DbError, SCHEMA_VERSION, rows, schema, sqlite_err, strings};
use std::collections::HashSet;
use std::path::PathBuf;

/// One row of `sources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub name: String,
    pub records: u64,
    /// RFC 3339.
    pub imported_at: String,
    /// Where it was downloaded from and its validators (all `None` for a local import).
    pub meta: SourceMeta,
}

/// Advisories of one source for one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub ecosystem: String,
    pub source: String,
    pub advisories: u64,
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
    /// ecosystem. Distro ecosystems are releases (`Ubuntu:22.04`, see [`crate::distro`]).
    pub ecosystems: Vec<(String, u64)>,
    /// Advisories per (ecosystem, source), sorted by ecosystem then source.
    pub coverage: Vec<Coverage>,
    /// All advisory records.
    pub advisories: u64,
    /// KEV entries.
    pub kev: u64,
}

impl Database {
    /// Sources, counts and age.
    pub fn status(&self) -> Result<DbStatus, DbError> {
        let e = sqlite_err(&self.path);
        let built_at = schema::meta_value(&self.conn, &self.path, "built_at")?;
        let sources = rows(
            &self.conn,
            &self.path,
            "SELECT name, records, imported_at, url, etag, last_modified FROM sources ORDER BY name",
            [],
            |r| {
                Ok(SourceStatus {
                    name: r.get(0)?,
                    records: r.get::<_, i64>(1)? as u64,
                    imported_at: r.get(2)?,
                    meta: SourceMeta {
                        url: r.get(3)?,
                        etag: r.get(4)?,
                        last_modified: r.get(5)?,
                    },
                })
            },
        )?;
        let coverage: Vec<Coverage> = rows(
            &self.conn,
            &self.path,
            "SELECT ecosystem, source, advisories FROM coverage ORDER BY ecosystem, source",
            [],
            |r| {
                Ok(Coverage {
                    ecosystem: r.get(0)?,
                    source: r.get(1)?,
                    advisories: r.get::<_, i64>(2)? as u64,
                })
            },
        )?;
        let mut ecosystems: Vec<(String, u64)> = Vec::new();
        for c in &coverage {
            match ecosystems.last_mut() {
                Some((e, n)) if *e == c.ecosystem => *n += c.advisories,
                _ => ecosystems.push((c.ecosystem.clone(), c.advisories)),
            }
        }
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
            coverage,
            advisories: count("SELECT count(*) FROM advisories")?,
            kev: count("SELECT count(*) FROM kev")?,
        })
    }
}

impl Database {
    /// Every ecosystem (distro ecosystems as releases) with at least one advisory.
    pub fn covered_ecosystems(&self) -> Result<HashSet<String>, DbError> {
        strings(
            &self.conn,
            &self.path,
            "SELECT DISTINCT ecosystem FROM coverage",
            [],
        )
    }
}
