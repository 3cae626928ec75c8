//! Where the matcher's advisories come from: the database (opened read-only, downloaded first
//! when it is missing and the network is allowed), or advisory files read into memory.

use crate::Error;
use moat_model::{Code, Diagnostic};
use moat_vuln::db::Database;
use moat_vuln::matcher::{AdvisorySource, MemorySource};
use moat_vuln::{import, update};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Which advisories a scan matches against.
#[derive(Debug, Clone)]
pub enum Advisories {
    /// Files or directories in any format `moat db import` reads, read into memory.
    Files(Vec<PathBuf>),
    /// The advisory database.
    Database(DatabaseSettings),
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub path: PathBuf,
    /// Never touch the network: a missing database is an error.
    pub offline: bool,
    /// How to download the database when it is missing.
    pub update: update::UpdateOptions,
    /// Older than this many days: a `stale-database` diagnostic.
    pub max_age_days: u64,
}

/// What the report says about the advisories it used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdvisoryInfo {
    /// The database file, when one was used.
    pub database: Option<PathBuf>,
    /// When the database was built (RFC 3339).
    pub built_at: Option<String>,
    /// Whole days since then.
    pub age_days: Option<u64>,
    /// The database was missing and downloaded by this run.
    pub downloaded: bool,
}

/// Calendar days (UTC) from an RFC 3339 time to `now` (0 when unreadable or in the future).
pub fn age_days(then: &str, now: jiff::Timestamp) -> u64 {
    let day = |t: jiff::Timestamp| t.as_second().div_euclid(86_400);
    match then.parse::<jiff::Timestamp>() {
        Ok(t) if t <= now => (day(now) - day(t)) as u64,
        _ => 0,
    }
}

/// Opens the advisories; `notify` hears about a download before it starts.
pub(crate) fn open(
    a: &Advisories,
    now: jiff::Timestamp,
    notify: &mut dyn FnMut(&str),
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(Box<dyn AdvisorySource>, AdvisoryInfo), Error> {
    let d = match a {
        Advisories::Files(paths) => {
            let mut advs = Vec::new();
            let mut kev = HashSet::new();
            for p in paths {
                let batch = import::import_path(p).map_err(|source| Error::Advisories {
                    path: p.clone(),
                    source: source.into(),
                })?;
                advs.extend(batch.advisories);
                kev.extend(batch.kev.into_iter().map(|k| k.cve));
            }
            return Ok((
                Box::new(MemorySource::new(advs, kev)),
                AdvisoryInfo::default(),
            ));
        }
        Advisories::Database(d) => d,
    };
    let mut info = AdvisoryInfo {
        database: Some(d.path.clone()),
        ..AdvisoryInfo::default()
    };
    if !d.path.exists() {
        if d.offline {
            return Err(Error::NoDatabase {
                path: d.path.clone(),
                why: "--offline is set".into(),
            });
        }
        notify(&format!(
            "no advisory database at {}; downloading it",
            d.path.display()
        ));
        download(&d.path, &d.update, notify).map_err(|e| Error::NoDatabase {
            path: d.path.clone(),
            why: e.to_string(),
        })?;
        info.downloaded = true;
    }
    let db = Database::open_read_only(&d.path).map_err(|e| Error::Database(e.into()))?;
    if let Ok(st) = db.status()
        && let Some(built) = st.built_at
    {
        let age = age_days(&built, now);
        if age > d.max_age_days {
            diagnostics.push(Diagnostic::new(
                Code::StaleDatabase,
                format!(
                    "the advisory database {} is {age} days old (--db-max-age {}): run `moat db update`",
                    d.path.display(),
                    d.max_age_days
                ),
            ));
        }
        info.age_days = Some(age);
        info.built_at = Some(built);
    }
    Ok((Box::new(db), info))
}

/// Downloads (or refreshes) the database at `path`, creating its directory.
pub fn download(
    path: &Path,
    opts: &update::UpdateOptions,
    notify: &mut dyn FnMut(&str),
) -> Result<update::UpdateSummary, Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    update::update(path, opts, notify).map_err(|e| Error::Update(e.into()))
}

#[cfg(test)]
mod tests {
    use super::age_days;

    #[test]
    fn ages_in_whole_days() {
        let now: jiff::Timestamp = "2026-12-02T05:00:00Z".parse().unwrap();
        assert_eq!(age_days("2026-11-30T23:59:00Z", now), 2);
        assert_eq!(age_days("2026-12-02T00:00:01Z", now), 0);
        assert_eq!(age_days("2027-01-01T00:00:00Z", now), 0);
        assert_eq!(age_days("garbage", now), 0);
    }
}
