//! Where the matcher's advisories come from: the database (opened read-only, downloaded first
//! when it is missing and the network is allowed), or advisory files read into memory; and
//! what they say about the target's OS ([`os_diagnostics`]):
//!
//! | code | when | message |
//! |---|---|---|
//! | `no-advisories` | the target has OS packages of a release the advisories hold nothing for (or of a distro moat has no advisory source for) | `no advisories for ubuntu 22.04 in the database: OS packages were not checked (120 packages; ...)` |
//! | `end-of-life` | the target's release is past its end of life ([`moat_vuln::distro::end_of_life`]) | `ubuntu 18.04 is end-of-life: its standard support ended on 2023-05-31 (fixes continue through Ubuntu Pro only)` |
//!
//! Both are warnings: printed on stderr by the CLI and listed in the report's diagnostics.

use crate::Error;
use moat_model::{Code, Diagnostic, Inventory};
use moat_vuln::db::Database;
use moat_vuln::matcher::{AdvisorySource, MemorySource};
use moat_vuln::{distro, import, update};
use std::collections::{BTreeMap, HashSet};
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

/// Opened advisories: the matcher's source, what the report says about it, and what it
/// covers.
pub(crate) struct Opened {
    pub source: Box<dyn AdvisorySource>,
    pub info: AdvisoryInfo,
    /// Every ecosystem with at least one advisory (distro ones as releases: `Ubuntu:22.04`).
    pub covered: HashSet<String>,
    /// `the database` or `the advisory files`, for messages.
    pub what: &'static str,
}

/// Opens the advisories; `notify` hears about a download before it starts.
pub(crate) fn open(
    a: &Advisories,
    now: jiff::Timestamp,
    notify: &mut dyn FnMut(&str),
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Opened, Error> {
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
            let covered = advs
                .iter()
                .flat_map(|a| &a.affected)
                .map(|f| distro::release_key(&f.package.ecosystem).into_owned())
                .collect();
            return Ok(Opened {
                source: Box::new(MemorySource::new(advs, kev)),
                info: AdvisoryInfo::default(),
                covered,
                what: "the advisory files",
            });
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
    let covered = db
        .covered_ecosystems()
        .map_err(|e| Error::Database(e.into()))?;
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
    Ok(Opened {
        source: Box::new(db),
        info,
        covered,
        what: "the database",
    })
}

/// What the advisories say about the target's OS (see the module docs): a `no-advisories`
/// warning per OS release whose packages cannot be checked, an `end-of-life` warning for a
/// release past its end of life on `now`'s date.
pub(crate) fn os_diagnostics(
    inv: &Inventory,
    opened: &Opened,
    now: jiff::Timestamp,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let os = inv.artifact.os.as_ref();
    let label = |eco: Option<&str>| match os {
        Some(o) => match &o.version {
            Some(v) => format!("{} {v}", o.id),
            None => o.id.clone(),
        },
        None => eco.unwrap_or("the OS").to_string(),
    };
    // OS packages per ecosystem (`None`: a release without an advisory source).
    let mut per_eco: BTreeMap<Option<&str>, usize> = BTreeMap::new();
    for p in inv
        .packages
        .iter()
        .filter(|p| !p.application && moat_model::ecosystem::is_os_purl_type(&p.kind))
    {
        *per_eco
            .entry(p.ecosystem.as_deref().filter(|e| !e.is_empty()))
            .or_default() += 1;
    }
    for (eco, n) in per_eco {
        let count = if n == 1 {
            "1 package".to_string()
        } else {
            format!("{n} packages")
        };
        let why = match eco {
            Some(e) if opened.covered.contains(e) => continue,
            Some(e) => {
                let distro = distro::split_release(e).map(|(d, _)| d);
                let mut others: Vec<&str> = opened
                    .covered
                    .iter()
                    .filter_map(|c| distro::split_release(c))
                    .filter(|(d, _)| Some(*d) == distro)
                    .map(|(_, r)| r)
                    .collect();
                others.sort_unstable();
                if others.is_empty() {
                    format!(
                        "{count} of {e}; `moat db update` downloads the advisories of every distro moat knows"
                    )
                } else {
                    format!(
                        "{count}; the advisories of {} cover {} only",
                        distro.unwrap_or(e),
                        others.join(", ")
                    )
                }
            }
            None => format!("{count}; moat has no advisory source for this distro"),
        };
        out.push(Diagnostic::new(
            Code::NoAdvisories,
            format!(
                "no advisories for {} in {}: OS packages were not checked ({why})",
                label(eco),
                opened.what
            ),
        ));
    }
    if let Some(o) = os
        && let Some(v) = o.version.as_deref()
        && let Some(eol) = distro::end_of_life(&o.id, v)
        && eol.date <= now.strftime("%Y-%m-%d").to_string().as_str()
    {
        let note = eol.note.map(|n| format!(" ({n})")).unwrap_or_default();
        out.push(Diagnostic::new(
            Code::EndOfLife,
            format!(
                "{} is end-of-life: its {} ended on {}{note}",
                label(None),
                eol.what,
                eol.date
            ),
        ));
    }
    out
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
