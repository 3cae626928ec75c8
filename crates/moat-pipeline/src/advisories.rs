//! Where the matcher's advisories come from: the database (opened read-only), or advisory
//! files read into memory; and what they say about the target's OS ([`os_diagnostics`]).
//!
//! ## Downloading what the target needs
//!
//! The database is opened after the target's inventory is read, so that only the sources the
//! inventory needs are downloaded ([`update::needed_names`]): the distro of its OS packages
//! (Alpine, Debian, ...; Amazon Linux by line), the language ecosystems of its other
//! packages, and KEV. A scan with no database downloads those (an Alpine image with npm
//! packages gets Alpine, npm and KEV, not Ubuntu or Maven); a later scan whose target needs a
//! source the database lacks downloads just that one into it. A source the target needs that
//! is older than [`DatabaseSettings::refresh_after`] (a day by default, as Trivy's and Grype's
//! databases are refreshed) is refreshed by the scan too, incrementally where the feed allows
//! (OSV's `modified_id.csv`), so an answer is never days behind the feeds without the user
//! choosing it; `moat db update` refreshes every source the database holds. `--offline`
//! never downloads, and neither does a scan with a database made only of local imports
//! (`moat db import`: the user chose its contents).
//!
//! When the download fails (every mirror, after the retries), a scan that has a usable
//! database goes on with it and warns (`database-update`); a scan without one fails
//! ([`crate::Error::NoDatabase`]).
//!
//! [`AdvisoryInfo::sources`] lists the sources the scan used (those holding advisories for
//! the inventory's ecosystems, those it needed, and KEV) with their import time, age and
//! record count, so an answer is never silently stale.
//!
//! ## Diagnostics
//!
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
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Which advisories a scan matches against.
#[derive(Debug, Clone)]
pub enum Advisories {
    /// Files or directories in any format `moat db import` reads, read into memory.
    Files(Vec<PathBuf>),
    /// The advisory database.
    Database(Box<DatabaseSettings>),
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
    /// A downloaded source the target needs that was imported longer ago than this is
    /// refreshed before the scan matches (`None`: never; present sources are then only
    /// refreshed by `moat db update`).
    pub refresh_after: Option<std::time::Duration>,
    /// Pull the whole database from this artifact (`moat db push`) instead of downloading
    /// sources from the feeds: when it is missing, or built longer ago than `refresh_after`.
    pub repository: Option<DbRepository>,
}

/// Where a published database is (`--db-repository`).
#[derive(Debug, Clone)]
pub struct DbRepository {
    pub reference: moat_registry::Reference,
    pub registry: moat_image::RegistryOptions,
}

/// One source of the database a scan used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceInfo {
    /// `osv:Debian`, `alas:2`, `kev`, ...
    pub name: String,
    /// When its records were last written (RFC 3339).
    pub imported_at: String,
    /// Whole days since then.
    pub age_days: u64,
    pub records: u64,
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
    /// This run downloaded sources (the database was missing, or lacked sources the
    /// target needs).
    pub downloaded: bool,
    /// The sources used, by name.
    pub sources: Vec<SourceInfo>,
}

impl AdvisoryInfo {
    /// The report's `advisories` object (`None` without a database): the database, its
    /// build time and age, whether this run downloaded, and the sources used.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        let db = self.database.as_ref()?;
        let mut o = serde_json::Map::new();
        o.insert("database".into(), db.display().to_string().into());
        if let Some(b) = &self.built_at {
            o.insert("built_at".into(), b.clone().into());
        }
        if let Some(a) = self.age_days {
            o.insert("age_days".into(), a.into());
        }
        if self.downloaded {
            o.insert("downloaded".into(), true.into());
        }
        o.insert(
            "sources".into(),
            serde_json::to_value(&self.sources).unwrap_or_default(),
        );
        Some(serde_json::Value::Object(o))
    }

    /// A JSON report (a pretty-printed object) with the `advisories` object as its last
    /// member; unchanged without a database.
    pub fn add_to_json(&self, doc: Vec<u8>) -> Vec<u8> {
        match self.to_json() {
            Some(v) => moat_report::with_json_field(doc, "advisories", &v),
            None => doc,
        }
    }

    /// The table's footer line: the sources used and their ages (`None` without a
    /// database).
    pub fn footer(&self) -> Option<String> {
        let db = self.database.as_ref()?;
        let sources: Vec<String> = self
            .sources
            .iter()
            .map(|s| {
                format!(
                    "{} ({} {}, {} records)",
                    s.name,
                    s.age_days,
                    if s.age_days == 1 { "day" } else { "days" },
                    s.records
                )
            })
            .collect();
        Some(format!(
            "Advisories: {}{}: {}\n",
            db.display(),
            if self.downloaded {
                " (downloaded by this scan)"
            } else {
                ""
            },
            if sources.is_empty() {
                "no source covers this target".to_string()
            } else {
                sources.join(", ")
            }
        ))
    }
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

/// Refuses, before the (long) read of the target, what cannot work whatever the target
/// needs: `--offline` without a database.
pub(crate) fn precheck(a: &Advisories) -> Result<(), Error> {
    if let Advisories::Database(d) = a
        && d.offline
        && !d.path.exists()
    {
        return Err(Error::NoDatabase {
            path: d.path.clone(),
            why: "--offline is set".into(),
        });
    }
    Ok(())
}

/// Opens the advisories for `inventory`, downloading the sources it needs that the
/// database lacks (see the module docs); `notify` hears about a download before it starts.
pub(crate) fn open(
    a: &Advisories,
    inventory: &Inventory,
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
    precheck(a)?;
    let mut info = AdvisoryInfo {
        database: Some(d.path.clone()),
        ..AdvisoryInfo::default()
    };
    let ecosystems: BTreeSet<String> = inventory
        .packages
        .iter()
        .filter(|p| !p.application)
        .filter_map(|p| p.ecosystem.as_deref())
        .filter(|e| !e.is_empty())
        .map(|e| distro::release_key(e).into_owned())
        .collect();
    let needed = update::needed_names(ecosystems.iter().map(String::as_str));
    if !d.offline {
        match &d.repository {
            Some(repo) => pull_database(d, repo, now, &mut info, notify, diagnostics)?,
            None => fetch_needed(d, &needed, now, &mut info, notify, diagnostics)?,
        }
    }
    let db = Database::open_read_only(&d.path).map_err(|e| Error::Database(e.into()))?;
    let covered = db
        .covered_ecosystems()
        .map_err(|e| Error::Database(e.into()))?;
    if let Ok(st) = db.status() {
        info.sources = used_sources(&st, &ecosystems, &needed, &d.update, now);
        if let Some(built) = st.built_at {
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
    }
    Ok(Opened {
        source: Box::new(db),
        info,
        covered,
        what: "the database",
    })
}

/// Replaces the database with the published one when it is missing or was built longer ago
/// than [`DatabaseSettings::refresh_after`]. A failed pull is a warning when a usable
/// database remains, else [`Error::NoDatabase`].
fn pull_database(
    d: &DatabaseSettings,
    repo: &DbRepository,
    now: jiff::Timestamp,
    info: &mut AdvisoryInfo,
    notify: &mut dyn FnMut(&str),
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(), Error> {
    let built = if d.path.exists() {
        Some(
            Database::open_read_only(&d.path)
                .and_then(|db| db.status())
                .map_err(|e| Error::Database(e.into()))?
                .built_at,
        )
    } else {
        None
    };
    let stale = match &built {
        None => true,
        Some(b) => d
            .refresh_after
            .is_some_and(|limit| b.as_deref().is_none_or(|b| older_than(b, now, limit))),
    };
    if !stale {
        return Ok(());
    }
    // Pulled from this artifact before: not again within the refresh age, nor when the
    // registry still holds the same manifest (a database pushed days ago is not pulled at
    // every scan).
    use crate::db_artifact;
    if built.is_some()
        && let Some((from, digest, age)) = db_artifact::pulled_from(&d.path)
        && from == repo.reference.to_string()
    {
        if d.refresh_after.is_some_and(|limit| age < limit) {
            return Ok(());
        }
        if db_artifact::remote_digest(&repo.reference, &repo.registry)
            .is_ok_and(|now| now.to_string() == digest)
        {
            db_artifact::confirm_unchanged(&d.path);
            return Ok(());
        }
    }
    notify(&format!(
        "{} the advisory database {} from {}",
        if built.is_some() {
            "refreshing"
        } else {
            "no advisory database yet: pulling"
        },
        d.path.display(),
        repo.reference
    ));
    match crate::db_artifact::pull(&repo.reference, &repo.registry, &d.path, &mut |_, _| Ok(())) {
        Ok(_) => {
            info.downloaded = true;
            Ok(())
        }
        Err(e) if built.is_some() => {
            diagnostics.push(Diagnostic::new(
                Code::DatabaseUpdate,
                format!(
                    "pulling {} failed; the scan used the database {} as it was: {e}",
                    repo.reference,
                    d.path.display()
                ),
            ));
            Ok(())
        }
        Err(e) => Err(Error::NoDatabase {
            path: d.path.clone(),
            why: e.to_string(),
        }),
    }
}

/// Downloads the sources `needed` names (and KEV) that the database lacks, and refreshes
/// those it holds that are older than [`DatabaseSettings::refresh_after`]: all of them when
/// there is no database, none in a database of local imports only. A failed download is a
/// warning when a usable database remains, else [`Error::NoDatabase`].
fn fetch_needed(
    d: &DatabaseSettings,
    needed: &[String],
    now: jiff::Timestamp,
    info: &mut AdvisoryInfo,
    notify: &mut dyn FnMut(&str),
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(), Error> {
    let status = if d.path.exists() {
        let st = Database::open_read_only(&d.path)
            .and_then(|db| db.status())
            .map_err(|e| Error::Database(e.into()))?;
        // Made by `moat db import` only: its contents are the user's choice.
        if !st.sources.iter().any(|s| s.meta.url.is_some()) {
            return Ok(());
        }
        Some(st)
    } else {
        None
    };
    let stored = |label: &str| {
        status
            .as_ref()
            .and_then(|st| st.sources.iter().find(|s| s.name == label))
    };
    // Missing, or downloaded (not imported by hand) longer ago than the refresh age.
    let wanted = |label: &str| match stored(label) {
        None => true,
        Some(s) => {
            s.meta.url.is_some()
                && d.refresh_after
                    .is_some_and(|limit| older_than(&s.imported_at, now, limit))
        }
    };
    let stale: Vec<String> = status
        .iter()
        .flat_map(|st| &st.sources)
        .filter(|s| stored(&s.name).is_some() && wanted(&s.name))
        .map(|s| s.name.clone())
        .collect();
    let missing: Vec<String> = needed
        .iter()
        .filter(|name| {
            let one = update::UpdateOptions {
                ecosystems: vec![(*name).clone()],
                kev_url: None,
                ..d.update.clone()
            };
            one.sources().iter().any(|s| wanted(&s.label))
        })
        .cloned()
        .collect();
    let kev_wanted = d.update.kev_url.is_some()
        && if stored("kev").is_some() {
            wanted("kev")
        } else {
            status.is_none()
        };
    if missing.is_empty() && !kev_wanted {
        return Ok(());
    }
    let opts = update::UpdateOptions {
        ecosystems: missing,
        kev_url: if kev_wanted {
            d.update.kev_url.clone()
        } else {
            None
        },
        ..d.update.clone()
    };
    let labels: Vec<String> = opts.sources().into_iter().map(|s| s.label).collect();
    match &status {
        None => notify(&format!(
            "no advisory database at {}; downloading the advisories this target needs ({})",
            d.path.display(),
            labels.join(", ")
        )),
        Some(_) => {
            let (old, new): (Vec<&String>, Vec<&String>) =
                labels.iter().partition(|l| stale.contains(l));
            let list = |v: &[&String]| v.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ");
            let mut parts = Vec::new();
            if !new.is_empty() {
                parts.push(format!(
                    "downloading {}, which this target needs",
                    list(&new)
                ));
            }
            if !old.is_empty() {
                parts.push(format!(
                    "refreshing {} (older than {})",
                    list(&old),
                    d.refresh_after.map(human).unwrap_or_default()
                ));
            }
            notify(&format!(
                "the advisory database {}: {}",
                d.path.display(),
                parts.join("; ")
            ))
        }
    }
    match download(&d.path, &opts, notify) {
        Ok(summary) => {
            info.downloaded = summary.committed;
            for (source, reason, kept) in summary.failures() {
                diagnostics.push(Diagnostic::new(
                    Code::DatabaseUpdate,
                    format!("{source} could not be downloaded ({reason}); {kept} records kept"),
                ));
            }
            Ok(())
        }
        Err(e) if status.is_some() => {
            diagnostics.push(Diagnostic::new(
                Code::DatabaseUpdate,
                format!(
                    "downloading {} failed; the scan used the database {} as it was: {e}",
                    labels.join(", "),
                    d.path.display()
                ),
            ));
            Ok(())
        }
        Err(e) => Err(Error::NoDatabase {
            path: d.path.clone(),
            why: e.to_string(),
        }),
    }
}

/// Whether the RFC 3339 time `then` is more than `limit` before `now` (an unreadable time is
/// old).
fn older_than(then: &str, now: jiff::Timestamp, limit: std::time::Duration) -> bool {
    match then.parse::<jiff::Timestamp>() {
        Ok(t) => {
            let age = now.as_second().saturating_sub(t.as_second());
            age > 0 && age.unsigned_abs() > limit.as_secs()
        }
        Err(_) => true,
    }
}

/// `24h`, `90m`, `45s`: a duration as the flags take it.
fn human(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The sources a scan of packages of `ecosystems` used: those holding advisories for
/// them, those the target `needed`, and KEV; each with its age on `now`.
fn used_sources(
    st: &moat_vuln::db::DbStatus,
    ecosystems: &BTreeSet<String>,
    needed: &[String],
    update_opts: &update::UpdateOptions,
    now: jiff::Timestamp,
) -> Vec<SourceInfo> {
    let needed_labels: HashSet<String> = update::UpdateOptions {
        ecosystems: needed.to_vec(),
        ..update_opts.clone()
    }
    .sources()
    .into_iter()
    .map(|s| s.label)
    .collect();
    let covering: HashSet<&str> = st
        .coverage
        .iter()
        .filter(|c| ecosystems.contains(&c.ecosystem))
        .map(|c| c.source.as_str())
        .collect();
    st.sources
        .iter()
        .filter(|s| {
            s.name == "kev" || needed_labels.contains(&s.name) || covering.contains(s.name.as_str())
        })
        .map(|s| SourceInfo {
            name: s.name.clone(),
            imported_at: s.imported_at.clone(),
            age_days: age_days(&s.imported_at, now),
            records: s.records,
        })
        .collect()
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
    use super::{AdvisoryInfo, SourceInfo, age_days};

    #[test]
    fn the_report_says_which_sources_and_ages() {
        let info = AdvisoryInfo {
            database: Some("/c/moat.db".into()),
            built_at: Some("2026-12-01T00:00:00Z".into()),
            age_days: Some(1),
            downloaded: true,
            sources: vec![
                SourceInfo {
                    name: "osv:Alpine".into(),
                    imported_at: "2026-12-01T00:00:00Z".into(),
                    age_days: 1,
                    records: 3,
                },
                SourceInfo {
                    name: "kev".into(),
                    imported_at: "2026-11-20T00:00:00Z".into(),
                    age_days: 12,
                    records: 1,
                },
            ],
        };
        assert_eq!(
            info.footer().unwrap(),
            "Advisories: /c/moat.db (downloaded by this scan): osv:Alpine (1 day, 3 records), kev (12 days, 1 records)\n"
        );
        let doc = info.add_to_json(b"{\n  \"findings\": []\n}\n".to_vec());
        let v: serde_json::Value = serde_json::from_slice(&doc).unwrap();
        assert_eq!(v["findings"], serde_json::json!([]));
        assert_eq!(v["advisories"]["sources"][1]["name"], "kev");
        assert_eq!(v["advisories"]["sources"][1]["age_days"], 12);
        assert_eq!(v["advisories"]["downloaded"], true);
        assert!(doc.ends_with(b"}\n"));
        let v: serde_json::Value =
            serde_json::from_slice(&info.add_to_json(b"{}".to_vec())).unwrap();
        assert_eq!(v["advisories"]["age_days"], 1);
        let none = AdvisoryInfo::default();
        assert_eq!(none.add_to_json(b"{}".to_vec()), b"{}");
        assert_eq!(none.footer(), None);
    }

    #[test]
    fn ages_in_whole_days() {
        let now: jiff::Timestamp = "2026-12-02T05:00:00Z".parse().unwrap();
        assert_eq!(age_days("2026-11-30T23:59:00Z", now), 2);
        assert_eq!(age_days("2026-12-02T00:00:01Z", now), 0);
        assert_eq!(age_days("2027-01-01T00:00:00Z", now), 0);
        assert_eq!(age_days("garbage", now), 0);
    }
}
