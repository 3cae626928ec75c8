//! `moat db update` and a scan's downloads: fetches advisory feeds (OSV's per-ecosystem
//! archives, the vendors' own feeds where OSV has no data, CISA's KEV catalogue) and
//! rebuilds the database from the ones that changed.
//!
//! ## Sources
//!
//! [`UpdateOptions::ecosystems`] names what to download ([`DEFAULT_ECOSYSTEMS`] by default;
//! `moat db update --ecosystems` picks); [`UpdateOptions::sources`] turns the names into
//! [`Source`]s, each stored under its own label:
//!
//! | name | source label | feed | public URL | mirror path (`--db-url BASE`) |
//! |---|---|---|---|---|
//! | an OSV ecosystem (`Go`, `Ubuntu`, `Red Hat`, ...) | `osv:<name>` | OSV `all.zip` | `https://osv-vulnerabilities.storage.googleapis.com/<name>/all.zip` | `BASE/<name>/all.zip` |
//! | `Amazon Linux` (or `Amazon Linux:1`, `:2`, `:2023`) | `alas:<line>` | the `updateinfo.xml` of the line's core repository ([`crate::import::alas`]) | the repository's `mirror.list`, then `repodata/repomd.xml`, then its `updateinfo` | `BASE/amazon/<line>/updateinfo.xml.gz` |
//! | `Oracle Linux` | `oracle-oval` | Oracle's ELSA OVAL ([`crate::import::oval`]) | `https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2` | `BASE/oracle/com.oracle.elsa-all.xml.bz2` |
//! | (always, unless [`UpdateOptions::kev_url`] is `None`) | `kev` | CISA KEV | [`DEFAULT_KEV_URL`] | `BASE/kev/known_exploited_vulnerabilities.json` |
//!
//! What a scan needs is a subset: [`needed_names`] maps the ecosystems of an inventory's
//! packages to the names above, and `moat db update` refreshes the sources a database holds
//! ([`names_of_sources`]).
//!
//! ## Behaviour
//!
//! * **Mirrors.** [`UpdateOptions::mirrors`] are further bases of the same layout: a source
//!   whose URL fails (after its retries), or whose body turns out damaged, is tried at the
//!   same path on the next mirror ([`Source::alternates`]); the failure reason lists every
//!   URL's.
//! * **Retries and a time budget** (`fetch.rs`). `429`, `5xx`, connection errors and bodies
//!   cut off are retried ([`Retry`]: exponential backoff with jitter, a server's
//!   `Retry-After` in seconds or as an HTTP date honoured up to [`Retry::max_delay`]); other
//!   statuses (a `404`) are final. The whole update has a time limit
//!   ([`UpdateOptions::budget`], [`DEFAULT_BUDGET`]): each request may use what is left of
//!   it, and past it the remaining sources fail and keep their records. A host that could
//!   not be reached through every attempt is skipped for the rest of the update.
//! * **Incremental OSV updates** ([`incremental`]). An OSV source downloaded before from the
//!   same URL, at most 30 days ago, is brought up to date from the ecosystem's
//!   `modified_id.csv` and the records changed since, instead of the whole archive; the
//!   archive is the fallback.
//! * **Conditional requests.** Each source's `ETag` and `Last-Modified` are stored in the
//!   database ([`SourceMeta`]); the next update sends `If-None-Match` / `If-Modified-Since` and a
//!   `304 Not Modified` keeps the stored records of that source. Stored validators are only used
//!   when the stored URL is the URL being fetched.
//! * **Streaming.** A download goes to a temporary file beside the database
//!   (`<db>.download-<pid>`), never into memory, and is read from there record by record into
//!   a [`Writer`] (an OSV archive entry by entry, XML feeds element by element): memory does
//!   not grow with the size of a feed. The file is removed afterwards, whatever happened.
//!   Whole downloads are made one source ahead on a thread of their own
//!   (`<db>.download-<pid>-<n>`): the next archive comes in while one is written.
//! * **One source failing is a warning.** A source that fails (a non-200/304 status, a
//!   connection error, a body cut off mid-way, a download over [`MAX_DOWNLOAD_BYTES`], an
//!   archive that is not a zip) keeps its previous records: its writes are rolled back and
//!   the update goes on with the next source ([`SourceOutcome::Failed`] with the records
//!   kept). Only when *every* source failed does the update fail ([`UpdateError::Failed`]),
//!   writing nothing.
//! * **Atomicity.** Everything is written into a [`Builder`] (a copy of the current database on
//!   a temporary file) and renamed into place once at the end, so scans never see a half
//!   update. When no source changed (every one answered `304` or failed), nothing is written
//!   (the file stays byte-identical; [`UpdateSummary::committed`] is false).
//! * **Repair.** A missing, corrupt or older-schema database is rebuilt from scratch (every
//!   source downloaded unconditionally); [`UpdateSummary::rebuilt`] says why.
//!
//! Single records inside a feed that do not parse are skipped and reported through
//! `progress`; they do not fail the source (OSV archives are large and one bad record should not
//! block every update).
//!
//! HTTP proxies come from the usual environment variables, except when every URL is on a
//! loopback host.
//!
//! Why a source failed is a [`SourceError`] (a [`FetchError`]: the HTTP side, with the URL; or
//! a [`DecodeError`]: the body); its text is [`SourceOutcome::Failed`]'s `reason`. The
//! `Last-Modified` validator is stored and sent back as the server wrote it, never parsed, so
//! no date handling is needed here.

mod fetch;
pub mod incremental;

pub use fetch::{Retry, retry_after};

use crate::db::{Builder, DbError, Mode, Prepared, SourceMeta, Writer};
use crate::import::kev::KevError;
use crate::import::osv::ArchiveError;
use crate::import::{Item, Stop, kev, osv};
use fetch::{Download, Http, Validators};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// OSV's public bucket.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// CISA's KEV catalogue feed.
pub const DEFAULT_KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// The ecosystems `moat db update` downloads by default: the language ecosystems moat
/// scans, and every distro moat detects (OSV's data where OSV publishes the distro's,
/// the vendor's feed elsewhere).
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "Go",
    "crates.io",
    "PyPI",
    "npm",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
    "Hex",
    "Pub",
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "AlmaLinux",
    "Rocky Linux",
    "SUSE",
    "openSUSE",
    "Azure Linux",
    "Wolfi",
    "Chainguard",
    "Photon OS",
    "Mageia",
    "Amazon Linux",
    "Oracle Linux",
];
/// The Amazon Linux lines `Amazon Linux` names: 1 (the 2018.03 AMI), 2, 2023.
pub const AMAZON_LINES: &[&str] = &["1", "2", "2023"];
/// Oracle's ELSA OVAL, every release in one file.
pub const ORACLE_OVAL_URL: &str =
    "https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2";

/// The `mirror.list` of an Amazon Linux line's core repository (its first URL is the
/// repository; `repodata/repomd.xml` there names the `updateinfo`).
pub fn amazon_mirror_list(line: &str) -> Option<&'static str> {
    Some(match line {
        "1" => "http://repo.us-west-2.amazonaws.com/2018.03/updates/x86_64/mirror.list",
        "2" => "https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list",
        "2022" => "https://cdn.amazonlinux.com/al2022/core/mirrors/latest/x86_64/mirror.list",
        "2023" => "https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list",
        _ => return None,
    })
}
/// Largest download accepted for one source.
pub const MAX_DOWNLOAD_BYTES: u64 = 2 << 30;

/// The default time limit of a whole update ([`UpdateOptions::budget`]).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(300);

/// What to download.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// OSV bucket layout: `{base}/{ecosystem}/all.zip`; a mirror (anything but
    /// [`DEFAULT_BASE_URL`]) serves the vendor feeds too (see the module docs).
    pub base_url: String,
    /// Further bases of the same layout, tried in order for a source that
    /// [`UpdateOptions::base_url`] could not give.
    pub mirrors: Vec<String>,
    /// What to download, by name (see the module docs).
    pub ecosystems: Vec<String>,
    /// None: no KEV download.
    pub kev_url: Option<String>,
    /// Connect timeout and the longest wait for any single read (not for the whole download).
    pub timeout: std::time::Duration,
    /// The whole update's time limit: past it, the sources not yet updated fail (and keep
    /// their records).
    pub budget: Duration,
    /// How failed requests are retried.
    pub retry: Retry,
    /// OSV sources are updated from `modified_id.csv` when they can be ([`incremental`]).
    pub incremental: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            base_url: DEFAULT_BASE_URL.to_string(),
            mirrors: Vec::new(),
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|s| s.to_string()).collect(),
            kev_url: Some(DEFAULT_KEV_URL.to_string()),
            timeout: Duration::from_secs(60),
            budget: DEFAULT_BUDGET,
            retry: Retry::default(),
            incremental: true,
        }
    }
}

/// How a source's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An OSV `all.zip`.
    OsvZip,
    /// CISA's KEV catalogue.
    Kev,
    /// An `updateinfo.xml` (plain or compressed) at the URL.
    Updateinfo,
    /// A yum repository's `mirror.list`: its first URL is the repository, whose
    /// `repodata/repomd.xml` names the `updateinfo.xml` to download.
    MirrorList,
    /// An OVAL document (plain or compressed).
    Oval,
}

/// One feed to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The label its records are stored under (`osv:Go`, `kev`, ...).
    pub label: String,
    pub url: String,
    pub format: Format,
    /// Mirrors of the feed, tried in order when `url` fails: (URL, format).
    pub alternates: Vec<(String, Format)>,
}

impl UpdateOptions {
    /// The sources [`UpdateOptions::ecosystems`] names, in that order (each once), then KEV;
    /// each with its URLs on [`UpdateOptions::mirrors`] as alternates.
    pub fn sources(&self) -> Vec<Source> {
        let base = self.base_url.trim_end_matches('/');
        let mut out: Vec<Source> = Vec::new();
        for name in &self.ecosystems {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            for mut s in sources_at(base, name) {
                if out.iter().any(|o| o.label == s.label) {
                    continue;
                }
                for m in &self.mirrors {
                    let m = m.trim_end_matches('/');
                    if let Some(alt) = sources_at(m, name).into_iter().find(|a| a.label == s.label)
                        && alt.url != s.url
                        && !s.alternates.iter().any(|(u, _)| *u == alt.url)
                    {
                        s.alternates.push((alt.url, alt.format));
                    }
                }
                out.push(s);
            }
        }
        if let Some(k) = &self.kev_url {
            // A KEV URL under the base is on every mirror at the same path.
            let alternates = match k.strip_prefix(base) {
                Some(path) if !self.mirrors.is_empty() => self
                    .mirrors
                    .iter()
                    .map(|m| (format!("{}{path}", m.trim_end_matches('/')), Format::Kev))
                    .filter(|(u, _)| u != k)
                    .collect(),
                _ => Vec::new(),
            };
            out.push(Source {
                label: "kev".into(),
                url: k.clone(),
                format: Format::Kev,
                alternates,
            });
        }
        out
    }
}

/// The sources one name stands for, on the bucket or mirror at `base`.
fn sources_at(base: &str, name: &str) -> Vec<Source> {
    let mirror = base != DEFAULT_BASE_URL.trim_end_matches('/');
    let amazon = |line: &str| {
        if mirror {
            Source {
                label: format!("alas:{line}"),
                url: format!("{base}/amazon/{line}/updateinfo.xml.gz"),
                format: Format::Updateinfo,
                alternates: Vec::new(),
            }
        } else {
            Source {
                label: format!("alas:{line}"),
                url: amazon_mirror_list(line).unwrap_or_default().to_string(),
                format: Format::MirrorList,
                alternates: Vec::new(),
            }
        }
    };
    match name {
        "Amazon Linux" => AMAZON_LINES.iter().map(|l| amazon(l)).collect(),
        n if n.starts_with("Amazon Linux:")
            && amazon_mirror_list(&n["Amazon Linux:".len()..]).is_some() =>
        {
            vec![amazon(&n["Amazon Linux:".len()..])]
        }
        "Oracle Linux" => vec![Source {
            label: crate::import::oval::SOURCE.to_string(),
            url: if mirror {
                format!("{base}/oracle/com.oracle.elsa-all.xml.bz2")
            } else {
                ORACLE_OVAL_URL.to_string()
            },
            format: Format::Oval,
            alternates: Vec::new(),
        }],
        _ => vec![Source {
            label: format!("osv:{name}"),
            url: format!("{base}/{}/all.zip", encode_segment(name)),
            format: Format::OsvZip,
            alternates: Vec::new(),
        }],
    }
}

/// The names ([`UpdateOptions::ecosystems`]) that download the sources with these labels
/// (`osv:Go` -> `Go`, `alas:2` -> `Amazon Linux:2`, `oracle-oval` -> `Oracle Linux`), each
/// once; KEV and labels of local imports are left out.
pub fn names_of_sources<'a>(labels: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in labels {
        let name = if let Some(eco) = l.strip_prefix("osv:") {
            eco.to_string()
        } else if let Some(line) = l.strip_prefix("alas:") {
            format!("Amazon Linux:{line}")
        } else if l == crate::import::oval::SOURCE {
            "Oracle Linux".to_string()
        } else {
            continue;
        };
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    in_default_order(&mut out);
    out
}

/// Sorts names as [`DEFAULT_ECOSYSTEMS`] lists them (others last, by name).
fn in_default_order(names: &mut [String]) {
    let rank = |n: &String| {
        let base = n.split(':').next().unwrap_or_default();
        DEFAULT_ECOSYSTEMS
            .iter()
            .position(|d| *d == base)
            .unwrap_or(usize::MAX)
    };
    names.sort_by_cached_key(|n| (rank(n), n.clone()));
}

/// The names ([`UpdateOptions::ecosystems`]) whose sources hold advisories for packages of
/// these ecosystems (as packages carry them: `Debian:12`, `npm`, `Amazon Linux:2`), in
/// [`DEFAULT_ECOSYSTEMS`] order, each once: the distro of a release (Amazon Linux by line),
/// a language ecosystem itself; ecosystems moat has no source for are left out.
pub fn needed_names<'a>(ecosystems: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut wanted: Vec<String> = Vec::new();
    for e in ecosystems {
        let name = match crate::distro::split_release(e) {
            Some(("Amazon Linux", line)) if amazon_mirror_list(line).is_some() => {
                format!("Amazon Linux:{line}")
            }
            Some((distro, _)) => distro.to_string(),
            None => e.to_string(),
        };
        let base = name.split(':').next().unwrap_or_default();
        if DEFAULT_ECOSYSTEMS.contains(&base) && !wanted.contains(&name) {
            wanted.push(name);
        }
    }
    in_default_order(&mut wanted);
    wanted
}

/// What happened to one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOutcome {
    /// Downloaded and imported: the records the source now holds.
    Updated { records: usize },
    /// `304 Not Modified`: the stored records are kept.
    NotModified,
    /// The source could not be updated: why, and how many records it keeps from before.
    Failed { reason: String, kept: u64 },
}

/// The result of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSummary {
    /// Source label (`osv:Go`, `kev`) and outcome, in download order.
    pub per_source: Vec<(String, SourceOutcome)>,
    /// Whether a new database was written (false when no source changed).
    pub committed: bool,
    /// Set when the previous database could not be used and was rebuilt from scratch: why.
    pub rebuilt: Option<String>,
    /// Body bytes downloaded (every attempt of every source).
    pub bytes: u64,
}

impl UpdateSummary {
    /// The sources that failed, with why.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &str, u64)> {
        self.per_source.iter().filter_map(|(s, o)| match o {
            SourceOutcome::Failed { reason, kept } => Some((s.as_str(), reason.as_str(), *kept)),
            _ => None,
        })
    }
}

/// An update that wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// Every source failed.
    #[error("{}", failed_message(path, summary, *previous_usable))]
    Failed {
        path: PathBuf,
        summary: UpdateSummary,
        /// Whether a usable database is still at `path`.
        previous_usable: bool,
    },
    /// Nothing to download (no ecosystem and no KEV).
    #[error("nothing to update: no ecosystem selected")]
    NothingSelected,
}

/// Why downloading one source failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot fetch {url}: {source}")]
    Request {
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("{url} answered 304 Not Modified to an unconditional request")]
    UnexpectedNotModified { url: String },
    #[error("download of {url} stopped: the update ended first")]
    Cancelled { url: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} is {bytes} bytes, over the limit of {MAX_DOWNLOAD_BYTES}")]
    TooLarge { url: String, bytes: u64 },
    #[error("{url} is larger than the limit of {MAX_DOWNLOAD_BYTES} bytes")]
    TooLargeWhileReading { url: String },
    #[error("download of {url} cut off: {source}")]
    CutOff {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("download of {url} cut off after {got} of {expected} bytes")]
    Short {
        url: String,
        got: u64,
        expected: u64,
    },
    /// The update's time budget ran out before this URL could be fetched.
    #[error("the time budget of {}s for the update ran out before {url} was fetched{last}", budget.as_secs())]
    OutOfTime {
        url: String,
        budget: Duration,
        /// ` (last: <error>)` when an attempt had failed.
        last: String,
    },
    /// The URL's host could not be reached earlier in this update.
    #[error("{url} not tried: its host could not be reached earlier ({why})")]
    HostDown { url: String, why: String },
    /// A `mirror.list` without a repository URL.
    #[error("{url} names no repository")]
    NoRepository { url: String },
    /// A `repomd.xml` without `updateinfo` data.
    #[error("{url} has no updateinfo")]
    NoUpdateinfo { url: String },
    /// The temporary download file could not be written or read.
    #[error("download of {url}: {} : {source}", path.display())]
    File {
        url: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why a downloaded body could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The feed is damaged part-way (an archive cut off or corrupt).
    #[error("damaged feed: {why}")]
    Damaged { why: String },
    /// Every record of the feed was malformed: the first reason.
    #[error("no record of the feed could be read ({first})")]
    NoRecords { first: String },
    #[error(transparent)]
    Kev(#[from] KevError),
    #[error("cannot read the downloaded file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The feed is larger than the limit of a single file read into memory.
    #[error("the downloaded file {} is larger than {} bytes", path.display(), crate::import::MAX_FILE_BYTES)]
    TooLarge { path: PathBuf },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Why one source failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

fn failed_message(path: &Path, summary: &UpdateSummary, previous_usable: bool) -> String {
    let failed: Vec<String> = summary
        .failures()
        .map(|(s, reason, _)| format!("{s}: {reason}"))
        .collect();
    let state = if previous_usable {
        format!(
            "nothing was written; the previous database {} is unchanged and still usable",
            path.display()
        )
    } else {
        format!(
            "nothing was written and there is no usable database at {} (retry `moat db update`, or `moat db import` local files)",
            path.display()
        )
    };
    format!(
        "database update failed, every source failed ({}); {state}",
        failed.join("; ")
    )
}

/// Downloads what changed and rebuilds the database at `db_path` atomically.
pub fn update(
    db_path: &Path,
    opts: &UpdateOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<UpdateSummary, UpdateError> {
    update_sources_with(db_path, &opts.sources(), &opts.fetching(), progress)
}

/// How sources are fetched: the HTTP limits and whether OSV sources may be updated
/// incrementally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetching {
    /// Connect timeout and the longest wait for any single read.
    pub timeout: Duration,
    /// The whole update's time limit.
    pub budget: Duration,
    pub retry: Retry,
    /// OSV sources fetch `modified_id.csv` and the records changed since the last update
    /// instead of the whole archive ([`incremental`]).
    pub incremental: bool,
}

impl UpdateOptions {
    /// The fetching part of the options.
    pub fn fetching(&self) -> Fetching {
        Fetching {
            timeout: self.timeout,
            budget: self.budget,
            retry: self.retry,
            incremental: self.incremental,
        }
    }
}

/// [`update`] with the sources given (each read as its [`Format`] says), default retries
/// and budget, whole downloads only.
pub fn update_sources(
    db_path: &Path,
    sources: &[Source],
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<UpdateSummary, UpdateError> {
    let d = UpdateOptions::default();
    let fetching = Fetching {
        timeout,
        incremental: false,
        ..d.fetching()
    };
    update_sources_with(db_path, sources, &fetching, progress)
}

/// [`update`] with the sources given, fetched as `fetching` says.
pub fn update_sources_with(
    db_path: &Path,
    sources: &[Source],
    fetching: &Fetching,
    progress: &mut dyn FnMut(&str),
) -> Result<UpdateSummary, UpdateError> {
    if sources.is_empty() {
        return Err(UpdateError::NothingSelected);
    }
    let mut builder = Builder::from_existing(db_path)?;
    let rebuilt = builder.rebuilt().map(str::to_string);
    let previous_usable = rebuilt.is_none() && db_path.exists();
    if let Some(why) = &rebuilt
        && db_path.exists()
    {
        progress(&format!("rebuilding the database from scratch: {why}"));
    }
    let urls: Vec<&str> = sources
        .iter()
        .flat_map(|s| {
            std::iter::once(s.url.as_str()).chain(s.alternates.iter().map(|a| a.0.as_str()))
        })
        .collect();
    let mut http = Http::new(&urls, fetching.timeout, fetching.budget, fetching.retry);
    // Beside the file a symlinked database path leads to, as the builder's temporary is.
    let resolved = crate::db::file::resolve(db_path)?;
    let download = Download::beside(&resolved);
    // Whole downloads are made one source ahead, on a thread of their own, while the
    // source before is written (see [`Ahead`]).
    let mut jobs = Vec::new();
    for (index, src) in sources.iter().enumerate() {
        let stored = builder
            .source_meta(&src.label)?
            .filter(|m| m.url.as_deref() == Some(src.url.as_str()));
        let incremental = fetching.incremental && src.format == Format::OsvZip && stored.is_some();
        if !incremental && src.format != Format::MirrorList {
            jobs.push((index, src.clone(), stored));
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_return = StopOnDrop(stop.clone());
    let ahead = ahead(&http, &resolved, jobs, &stop);

    let mut summary = UpdateSummary {
        per_source: Vec::new(),
        committed: false,
        rebuilt,
        bytes: 0,
    };
    let mut changed = summary.rebuilt.is_some();
    for (index, src) in sources.iter().enumerate() {
        let stored = builder.source_meta(&src.label)?;
        progress(&format!("{}: checking {}", src.label, src.url));
        let made = match &ahead {
            Some((rx, handed)) if handed.contains(&index) => {
                rx.recv().ok().filter(|a: &Ahead| a.index == index)
            }
            _ => None,
        };
        if let Some(a) = &made {
            for line in &a.said {
                progress(line);
            }
            http.bytes += a.bytes;
        }
        let fetch = Fetch {
            download: &download,
            made,
            incremental: fetching.incremental,
        };
        let outcome = match update_source(&mut builder, &mut http, src, stored, fetch, progress) {
            Ok(Some(records)) => {
                changed = true;
                SourceOutcome::Updated { records }
            }
            Ok(None) => SourceOutcome::NotModified,
            Err(reason) => SourceOutcome::Failed {
                reason,
                kept: builder.source_records(&src.label)?,
            },
        };
        progress(&match &outcome {
            SourceOutcome::Updated { records } => format!("{}: {records} records", src.label),
            SourceOutcome::NotModified => format!("{}: not modified", src.label),
            SourceOutcome::Failed { reason, kept } => format!(
                "{}: failed, keeping its {kept} previous records: {reason}",
                src.label
            ),
        });
        summary.per_source.push((src.label.clone(), outcome));
    }
    summary.bytes = http.bytes;
    let all_failed = summary
        .per_source
        .iter()
        .all(|(_, o)| matches!(o, SourceOutcome::Failed { .. }));
    if all_failed {
        drop(builder);
        return Err(UpdateError::Failed {
            path: db_path.to_path_buf(),
            summary,
            previous_usable,
        });
    }
    if changed {
        builder.commit()?;
        summary.committed = true;
        progress(&format!("database written to {}", db_path.display()));
    } else {
        progress("database already up to date");
    }
    Ok(summary)
}

/// A source's whole download made ahead: while one source is read into the database (one
/// core's work), the next one's archive comes in on the downloader thread (the network's),
/// instead of one after the other. The downloader takes the sources that are downloaded
/// whole from their first URL (not an incremental OSV update, not a mirror list), in order,
/// each into a file of its own, and hands each over when the update gets to it: at most one
/// file waits, besides the one being read. Its progress lines are said then.
struct Ahead {
    /// The source's place in the update.
    index: usize,
    file: Download,
    result: Result<Option<Validators>, FetchError>,
    said: Vec<String>,
    bytes: u64,
}

/// Sets its flag when dropped: the downloader stops (between two reads) once the update
/// returns, however it returns.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Starts the downloader of `jobs` (the source's index, the source, its stored validators):
/// its handover, and the indexes it will hand over. `None` when there is nothing to do or
/// no thread.
fn ahead(
    http: &Http,
    db: &Path,
    jobs: Vec<(usize, Source, Option<SourceMeta>)>,
    stop: &Arc<AtomicBool>,
) -> Option<(std::sync::mpsc::Receiver<Ahead>, Vec<usize>)> {
    if jobs.is_empty() {
        return None;
    }
    let indexes: Vec<usize> = jobs.iter().map(|j| j.0).collect();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Ahead>(0);
    let mut http = http.fork(stop.clone());
    let db = db.to_path_buf();
    let stop = stop.clone();
    std::thread::Builder::new()
        .name("moat-db-fetch".into())
        .spawn(move || {
            for (index, src, stored) in jobs {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let file = Download::ahead(&db, index);
                let mut said = Vec::new();
                let before = http.bytes;
                let result =
                    http.download(&src.label, &src.url, stored.as_ref(), &file, &mut |m| {
                        said.push(m.to_string())
                    });
                let a = Ahead {
                    index,
                    file,
                    result,
                    said,
                    bytes: http.bytes - before,
                };
                if tx.send(a).is_err() {
                    break;
                }
            }
        })
        .ok()?;
    Some((rx, indexes))
}

/// How one source is fetched: into `download` (its first URL: already in `made` when
/// downloaded ahead), and whether an OSV archive may be updated by its changed records.
struct Fetch<'a> {
    download: &'a Download,
    made: Option<Ahead>,
    incremental: bool,
}

/// Updates one source from its first URL that works (then its alternates, in order):
/// `Some(records)` when it was imported, `None` when not modified, else every URL's
/// failure. On an error nothing of the source changed.
fn update_source(
    builder: &mut Builder,
    http: &mut Http,
    src: &Source,
    stored: Option<SourceMeta>,
    fetch: Fetch<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<usize>, String> {
    let Fetch {
        download,
        mut made,
        incremental,
    } = fetch;
    let mut reasons: Vec<String> = Vec::new();
    let candidates = std::iter::once((src.url.as_str(), src.format))
        .chain(src.alternates.iter().map(|(u, f)| (u.as_str(), *f)));
    for (i, (url, format)) in candidates.enumerate() {
        if i > 0 {
            progress(&format!("{}: trying mirror {url}", src.label));
        }
        let one = Source {
            label: src.label.clone(),
            url: url.to_string(),
            format,
            alternates: Vec::new(),
        };
        if incremental && format == Format::OsvZip && made.is_none() {
            match incremental::update(builder, http, &one, stored.as_ref(), progress) {
                Ok(incremental::Outcome::Updated(n)) => return Ok(Some(n)),
                Ok(incremental::Outcome::Unchanged) => return Ok(None),
                Ok(incremental::Outcome::Whole(why)) => {
                    if let Some(why) = why {
                        progress(&format!(
                            "{}: downloading the whole archive: {why}",
                            src.label
                        ));
                    }
                }
                Err(e) => {
                    progress(&format!(
                        "{}: incremental update failed ({e}); downloading the whole archive",
                        src.label
                    ));
                }
            }
        }
        match update_from(
            builder,
            http,
            &one,
            stored.as_ref(),
            download,
            made.take(),
            progress,
        ) {
            Ok(r) => return Ok(r),
            Err(e) => {
                if src.alternates.len() > i {
                    progress(&format!("{}: {e}", src.label));
                }
                reasons.push(e.to_string());
            }
        }
        if http.left().is_none() {
            break;
        }
    }
    Err(reasons.join("; "))
}

/// Downloads one source from one URL (unless `made` has) and writes its records in one
/// transaction.
fn update_from(
    builder: &mut Builder,
    http: &mut Http,
    src: &Source,
    stored: Option<&SourceMeta>,
    download: &Download,
    made: Option<Ahead>,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<usize>, SourceError> {
    let resolved;
    let src = if src.format == Format::MirrorList {
        resolved = Source {
            url: updateinfo_url(http, &src.url, progress)?,
            format: Format::Updateinfo,
            label: src.label.clone(),
            alternates: Vec::new(),
        };
        &resolved
    } else {
        src
    };
    let stored = stored.filter(|m| m.url.as_deref() == Some(src.url.as_str()));
    let (fetched, file) = match made {
        Some(a) => (a.result, Some(a.file)),
        None => (
            http.download(&src.label, &src.url, stored, download, progress),
            None,
        ),
    };
    let Some((etag, last_modified)) = fetched? else {
        return Ok(None);
    };
    let path = file.as_ref().map_or(&download.path, |f| &f.path);
    let mut w = builder.writer(Mode::Replace).map_err(DecodeError::from)?;
    w.touch(&src.label).map_err(DecodeError::from)?;
    let malformed = decode(src, path, &mut w)?;
    let meta = SourceMeta {
        url: Some(src.url.clone()),
        etag,
        last_modified,
    };
    Ok(Some(finish_source(
        w, &src.label, meta, malformed, progress,
    )?))
}

/// Reports the malformed records of a source's download, stores its metadata and commits:
/// the records the source now holds.
fn finish_source(
    mut w: Writer<'_>,
    label: &str,
    meta: SourceMeta,
    malformed: Option<(usize, String, String)>,
    progress: &mut dyn FnMut(&str),
) -> Result<usize, DecodeError> {
    if let Some((n, what, why)) = &malformed {
        progress(&format!(
            "{label}: {n} malformed records skipped (e.g. {what}: {why})"
        ));
    }
    w.set_meta(label, meta);
    let counts = w.finish()?;
    Ok(counts.get(label).copied().unwrap_or(0))
}

/// Reads the downloaded body into the writer; `Some((count, first, why))` when records were
/// malformed.
fn decode(
    src: &Source,
    file: &Path,
    w: &mut Writer<'_>,
) -> Result<Option<(usize, String, String)>, DecodeError> {
    let read_err = |source| DecodeError::Read {
        path: file.to_path_buf(),
        source,
    };
    match src.format {
        Format::OsvZip => {
            let f = std::fs::File::open(file).map_err(read_err)?;
            let mut sink = RecordSink::new(&src.label, w);
            // Entries inflated, parsed and serialised on all cores; this thread only writes.
            let label = src.label.as_str();
            let prepare = |item| match crate::import::limited(item) {
                Item::Advisory(a) => Decoded::Ready(Prepared::new(label, &a)),
                other => Decoded::Other(other),
            };
            // Records needing nothing cut or reported are built from the entries' bytes.
            let fast = |bytes: &[u8]| {
                crate::import::borrowed::prepare(bytes, Some(label)).map(Decoded::Ready)
            };
            let r = osv::stream_zip_fast(
                std::io::BufReader::new(f),
                256,
                &fast,
                &prepare,
                // The batch is borrowed: its records are freed on the thread that made them.
                &mut |batch| {
                    for one in batch.iter_mut() {
                        match one {
                            Decoded::Ready(p) => sink.take_prepared(p)?,
                            Decoded::Other(item) => {
                                sink.take(std::mem::replace(item, Item::File))?
                            }
                        }
                    }
                    Ok(())
                },
            )?;
            sink.finish(r)
        }
        Format::Updateinfo | Format::MirrorList | Format::Oval => {
            let f = std::fs::File::open(file).map_err(read_err)?;
            let mut sink = RecordSink::new(&src.label, w);
            let whole = file.display().to_string();
            // A feed that is not one (an HTML error page) or breaks off is damaged as a whole.
            let r = crate::import::stream_xml_file(file, f, &mut |i| match i {
                Item::Skipped(_) => sink.take(Item::Malformed(
                    "(zip)".into(),
                    "not an updateinfo.xml or OVAL document".into(),
                )),
                Item::Malformed(what, why) if what == whole => {
                    sink.take(Item::Malformed("(zip)".into(), why))
                }
                other => sink.take(other),
            });
            sink.finish(r)
        }
        Format::Kev => {
            let bytes = read_bounded(file)?;
            let mut sink = RecordSink::new(&src.label, w);
            let mut r = Ok(());
            for k in kev::parse(&bytes)? {
                r = sink.take(Item::Kev(k));
                if r.is_err() {
                    break;
                }
            }
            sink.records += 1; // a catalogue that parsed is never "no records"
            sink.finish(r)
        }
    }
}

/// A downloaded file read whole (small feeds: KEV), within [`crate::import::MAX_FILE_BYTES`].
fn read_bounded(file: &Path) -> Result<Vec<u8>, DecodeError> {
    crate::import::read_capped(file)
        .map_err(|source| DecodeError::Read {
            path: file.to_path_buf(),
            source,
        })?
        .ok_or_else(|| DecodeError::TooLarge {
            path: file.to_path_buf(),
        })
}

/// An item of an OSV archive as the workers of [`decode`] hand it on: an advisory serialised
/// and keyed for its source, or anything else as read.
enum Decoded {
    Ready(Prepared),
    Other(Item),
}

/// Streams items into a [`Writer`] under one source label, counting what was malformed.
struct RecordSink<'w, 'a> {
    label: &'w str,
    w: &'w mut Writer<'a>,
    records: usize,
    malformed: usize,
    first: Option<(String, String)>,
    error: Option<DbError>,
    damaged: Option<String>,
}

impl<'w, 'a> RecordSink<'w, 'a> {
    fn new(label: &'w str, w: &'w mut Writer<'a>) -> Self {
        RecordSink {
            label,
            w,
            records: 0,
            malformed: 0,
            first: None,
            error: None,
            damaged: None,
        }
    }

    /// An advisory made ready by [`Prepared::new`] under this sink's label.
    fn take_prepared(&mut self, p: &Prepared) -> Result<(), Stop> {
        self.records += 1;
        self.w.prepared(p).map_err(|e| {
            self.error = Some(e);
            Stop
        })
    }

    fn take(&mut self, item: Item) -> Result<(), Stop> {
        let r = match crate::import::limited(item) {
            Item::Advisory(a) => {
                self.records += 1;
                self.w.advisory(self.label, &a)
            }
            Item::Kev(k) => {
                self.records += 1;
                self.w.kev(self.label, &k)
            }
            // A feed damaged as a whole (an archive cut off or corrupt part-way, a document
            // that is no feed) must not replace the source's records with the part before
            // the damage.
            Item::Malformed(what, why) if what == "(zip)" => {
                self.damaged = Some(why);
                return Err(Stop);
            }
            Item::Malformed(what, why) => {
                self.malformed += 1;
                self.first.get_or_insert((what, why));
                Ok(())
            }
            Item::Skipped(_) | Item::File => Ok(()),
        };
        r.map_err(|e| {
            self.error = Some(e);
            Stop
        })
    }

    /// The database error that stopped the read, else "no records" when everything was
    /// malformed, else the malformed count.
    fn finish(
        self,
        read: Result<(), Stop>,
    ) -> Result<Option<(usize, String, String)>, DecodeError> {
        if let Some(e) = self.error {
            return Err(e.into());
        }
        if let Some(why) = self.damaged {
            return Err(DecodeError::Damaged { why });
        }
        let _ = read;
        match self.first {
            Some((_, why)) if self.records == 0 => Err(DecodeError::NoRecords { first: why }),
            Some((what, why)) => Ok(Some((self.malformed, what, why))),
            None => Ok(None),
        }
    }
}

/// Most bytes of a `mirror.list` or `repomd.xml` read.
const MAX_INDEX_BYTES: u64 = 4 << 20;

/// A small text resource (a `mirror.list`, a `repomd.xml`) read whole.
fn get_small(
    http: &mut Http,
    url: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<String, FetchError> {
    match http.small(url, MAX_INDEX_BYTES, progress)? {
        Some(body) => Ok(String::from_utf8_lossy(&body).into_owned()),
        None => Err(FetchError::Status {
            url: url.to_string(),
            status: 404,
        }),
    }
}

/// The `updateinfo` URL of the repository a `mirror.list` names: its first URL, then the
/// `<data type="updateinfo"><location href>` of the repository's `repodata/repomd.xml`.
fn updateinfo_url(
    http: &mut Http,
    mirror_list: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<String, FetchError> {
    let list = get_small(http, mirror_list, progress)?;
    let repo = list
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http://") || l.starts_with("https://"))
        .ok_or_else(|| FetchError::NoRepository {
            url: mirror_list.to_string(),
        })?
        .trim_end_matches('/')
        .to_string();
    let repomd_url = format!("{repo}/repodata/repomd.xml");
    let repomd = get_small(http, &repomd_url, progress)?;
    let href = updateinfo_href(&repomd).ok_or(FetchError::NoUpdateinfo { url: repomd_url })?;
    Ok(format!("{repo}/{}", href.trim_start_matches('/')))
}

/// The `location href` of the `updateinfo` data in a `repomd.xml`.
pub fn updateinfo_href(repomd: &str) -> Option<String> {
    let mut found = None;
    let _ = crate::import::xml::for_each_record(repomd.as_bytes(), "data", &mut |d| {
        if d.attr("type") == Some("updateinfo")
            && let Some(h) = d.child("location").and_then(|l| l.attr("href"))
        {
            found = Some(h.to_string());
            return Err(Stop);
        }
        Ok(())
    });
    found
}

/// Percent-encodes one path segment (`Rocky Linux` → `Rocky%20Linux`).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_hosts() {
        assert_eq!(encode_segment("Rocky Linux"), "Rocky%20Linux");
        assert_eq!(encode_segment("crates.io"), "crates.io");
    }

    #[test]
    fn names_become_sources() {
        let o = UpdateOptions {
            base_url: "http://127.0.0.1:1/".into(),
            ecosystems: vec!["Go".into(), "Rocky Linux".into(), "Go".into(), " ".into()],
            kev_url: None,
            timeout: Duration::from_secs(1),
            ..Default::default()
        };
        let s = o.sources();
        assert_eq!(
            s.iter()
                .map(|s| (s.label.as_str(), s.url.as_str()))
                .collect::<Vec<_>>(),
            [
                ("osv:Go", "http://127.0.0.1:1/Go/all.zip"),
                (
                    "osv:Rocky Linux",
                    "http://127.0.0.1:1/Rocky%20Linux/all.zip"
                ),
            ]
        );
    }

    #[test]
    fn mirrors_are_alternates() {
        let o = UpdateOptions {
            base_url: "http://a/".into(),
            mirrors: vec!["http://b".into(), "http://a".into()],
            ecosystems: vec!["Go".into(), "Amazon Linux:2".into()],
            kev_url: Some("http://a/kev/k.json".into()),
            ..Default::default()
        };
        let s = o.sources();
        assert_eq!(
            s.iter()
                .map(|s| (s.label.as_str(), s.url.as_str(), s.alternates.clone()))
                .collect::<Vec<_>>(),
            [
                (
                    "osv:Go",
                    "http://a/Go/all.zip",
                    vec![("http://b/Go/all.zip".to_string(), Format::OsvZip)]
                ),
                (
                    "alas:2",
                    "http://a/amazon/2/updateinfo.xml.gz",
                    vec![(
                        "http://b/amazon/2/updateinfo.xml.gz".to_string(),
                        Format::Updateinfo
                    )]
                ),
                (
                    "kev",
                    "http://a/kev/k.json",
                    vec![("http://b/kev/k.json".to_string(), Format::Kev)]
                ),
            ]
        );
    }

    #[test]
    fn what_packages_need() {
        assert_eq!(
            needed_names([
                "npm",
                "Alpine:v3.20",
                "Amazon Linux:2",
                "Debian:12",
                "npm",
                "Debian:11",
                "CocoaPods",
                "Oracle Linux:9",
                "",
            ]),
            ["npm", "Debian", "Alpine", "Amazon Linux:2", "Oracle Linux"]
        );
        assert_eq!(
            names_of_sources([
                "osv:Go",
                "alas:2",
                "oracle-oval",
                "kev",
                "debian-tracker",
                "osv:Go"
            ]),
            ["Go", "Amazon Linux:2", "Oracle Linux"]
        );
    }
}
