//! `moat db update`: downloads the OSV ecosystem archives (`{base}/{ecosystem}/all.zip`, the
//! layout of OSV's public bucket) and CISA's KEV catalogue, and rebuilds the database from the
//! ones that changed.
//!
//! * **Conditional requests.** Each source's `ETag` and `Last-Modified` are stored in the
//!   database ([`SourceMeta`]); the next update sends `If-None-Match` / `If-Modified-Since` and a
//!   `304 Not Modified` keeps the stored records of that source. Stored validators are only used
//!   when the stored URL is the URL being fetched.
//! * **Atomicity.** Everything is written into a [`Builder`] (a copy of the current database on
//!   a temporary file). When any source fails (a non-200/304 status, a connection error, a body
//!   cut off mid-way, a download over [`MAX_DOWNLOAD_BYTES`], an archive that is not a zip) the
//!   update stops, nothing is committed and [`UpdateError::Failed`] says that the previous
//!   database is unchanged and usable. When every source answered `304`, nothing is written
//!   either (the file stays byte-identical; [`UpdateSummary::committed`] is false).
//! * **Repair.** A missing, corrupt or older-schema database is rebuilt from scratch (every
//!   source downloaded unconditionally); [`UpdateSummary::rebuilt`] says why.
//!
//! Single records inside an archive that do not parse are skipped and reported through
//! `progress`; they do not fail the source (OSV archives are large and one bad record should not
//! block every update).
//!
//! HTTP proxies come from the usual environment variables, except for loopback hosts.
//!
//! Why a source failed is a [`SourceError`] (a [`FetchError`]: the HTTP side, with the URL; or
//! a [`DecodeError`]: the body); its text is [`SourceOutcome::Failed`]'s `reason`. The
//! `Last-Modified` validator is stored and sent back as the server wrote it, never parsed, so
//! no date handling is needed here.

use crate::db::{Builder, DbError, SourceMeta};
use crate::import::kev::KevError;
use crate::import::osv::ArchiveError;
use crate::import::{ImportBatch, kev, osv};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// OSV's public bucket.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// CISA's KEV catalogue feed.
pub const DEFAULT_KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// The OSV ecosystems `moat db update` downloads by default.
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
    "Alpine",
    "AlmaLinux",
    "Rocky Linux",
];
/// Largest download accepted for one source.
pub const MAX_DOWNLOAD_BYTES: u64 = 2 << 30;

/// What to download.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// OSV bucket layout: `{base}/{ecosystem}/all.zip`.
    pub base_url: String,
    pub ecosystems: Vec<String>,
    /// None: no KEV download.
    pub kev_url: Option<String>,
    /// Connect timeout and the longest wait for any single read (not for the whole download).
    pub timeout: std::time::Duration,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            base_url: DEFAULT_BASE_URL.to_string(),
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|s| s.to_string()).collect(),
            kev_url: Some(DEFAULT_KEV_URL.to_string()),
            timeout: Duration::from_secs(60),
        }
    }
}

/// What happened to one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOutcome {
    /// Downloaded and imported: the records the source now holds.
    Updated {
        records: usize,
    },
    /// `304 Not Modified`: the stored records are kept.
    NotModified,
    Failed {
        reason: String,
    },
}

/// The result of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSummary {
    /// Source label (`osv:Go`, `kev`) and outcome, in download order.
    pub per_source: Vec<(String, SourceOutcome)>,
    /// Whether a new database was written (false when every source was not modified).
    pub committed: bool,
    /// Set when the previous database could not be used and was rebuilt from scratch: why.
    pub rebuilt: Option<String>,
}

/// An update that wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{}", failed_message(path, summary, *previous_usable))]
    Failed {
        path: PathBuf,
        summary: UpdateSummary,
        /// Whether a usable database is still at `path`.
        previous_usable: bool,
    },
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
}

/// Why a downloaded body could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// Every JSON entry of the archive was malformed: the first reason.
    #[error("no record of the archive could be read ({first})")]
    NoRecords { first: String },
    #[error(transparent)]
    Kev(#[from] KevError),
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
        .per_source
        .iter()
        .filter_map(|(s, o)| match o {
            SourceOutcome::Failed { reason } => Some(format!("{s}: {reason}")),
            _ => None,
        })
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
    format!("database update failed ({}); {state}", failed.join("; "))
}

/// Downloads what changed and rebuilds the database at `db_path` atomically.
pub fn update(
    db_path: &Path,
    opts: &UpdateOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<UpdateSummary, UpdateError> {
    let mut builder = Builder::from_existing(db_path)?;
    let rebuilt = builder.rebuilt().map(str::to_string);
    let previous_usable = rebuilt.is_none() && db_path.exists();
    if let Some(why) = &rebuilt
        && db_path.exists()
    {
        progress(&format!("rebuilding the database from scratch: {why}"));
    }
    let agent = agent_for(opts);
    let mut jobs: Vec<(String, String, Kind)> = opts
        .ecosystems
        .iter()
        .map(|e| {
            (
                format!("osv:{e}"),
                format!(
                    "{}/{}/all.zip",
                    opts.base_url.trim_end_matches('/'),
                    encode_segment(e)
                ),
                Kind::OsvZip,
            )
        })
        .collect();
    if let Some(k) = &opts.kev_url {
        jobs.push(("kev".to_string(), k.clone(), Kind::Kev));
    }

    let mut summary = UpdateSummary {
        per_source: Vec::new(),
        committed: false,
        rebuilt,
    };
    let mut changed = summary.rebuilt.is_some();
    let mut failed = false;
    for (source, url, kind) in jobs {
        if failed {
            summary.per_source.push((
                source,
                SourceOutcome::Failed {
                    reason: "not attempted after an earlier failure".into(),
                },
            ));
            continue;
        }
        let stored = builder
            .source_meta(&source)?
            .filter(|m| m.url.as_deref() == Some(url.as_str()));
        progress(&format!("{source}: checking {url}"));
        let fetched = fetch(&agent, &url, stored.as_ref(), &source, progress)
            .map_err(SourceError::from)
            .and_then(|f| match f {
                Fetched::NotModified => Ok(None),
                Fetched::Body {
                    bytes,
                    etag,
                    last_modified,
                } => Ok(Some((decode(kind, &bytes)?, etag, last_modified))),
            });
        let outcome = match fetched {
            Err(e) => SourceOutcome::Failed {
                reason: e.to_string(),
            },
            Ok(None) => SourceOutcome::NotModified,
            Ok(Some((batch, etag, last_modified))) => {
                if let Some((what, why)) = batch.malformed.first() {
                    progress(&format!(
                        "{source}: {} malformed records skipped (e.g. {what}: {why})",
                        batch.malformed.len()
                    ));
                }
                let meta = SourceMeta {
                    url: Some(url.clone()),
                    etag,
                    last_modified,
                };
                let records = builder.replace_source(&source, &batch, meta)?;
                changed = true;
                SourceOutcome::Updated { records }
            }
        };
        progress(&match &outcome {
            SourceOutcome::Updated { records } => format!("{source}: {records} records"),
            SourceOutcome::NotModified => format!("{source}: not modified"),
            SourceOutcome::Failed { reason } => format!("{source}: failed: {reason}"),
        });
        failed |= matches!(outcome, SourceOutcome::Failed { .. });
        summary.per_source.push((source, outcome));
    }
    if failed {
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

#[derive(Debug, Clone, Copy)]
enum Kind {
    OsvZip,
    Kev,
}

fn decode(kind: Kind, bytes: &[u8]) -> Result<ImportBatch, DecodeError> {
    match kind {
        Kind::OsvZip => {
            let mut batch = osv::try_read_zip(bytes)?;
            batch.apply_limits();
            if batch.advisories.is_empty()
                && let Some((_, why)) = batch.malformed.first()
            {
                return Err(DecodeError::NoRecords { first: why.clone() });
            }
            Ok(batch)
        }
        Kind::Kev => {
            let mut batch = ImportBatch {
                kev: kev::parse(bytes)?,
                files: 1,
                ..Default::default()
            };
            batch.apply_limits();
            Ok(batch)
        }
    }
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

fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    host == "localhost" || host.starts_with("127.") || rest.starts_with("[::1]")
}

fn agent_for(opts: &UpdateOptions) -> ureq::Agent {
    let mut cfg = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        .timeout_per_read(Some(opts.timeout))
        .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")));
    if is_loopback(&opts.base_url) && opts.kev_url.as_deref().is_none_or(is_loopback) {
        cfg = cfg.proxy(None);
    }
    cfg.build().into()
}

enum Fetched {
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

fn fetch(
    agent: &ureq::Agent,
    url: &str,
    stored: Option<&SourceMeta>,
    source: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<Fetched, FetchError> {
    let url_owned = || url.to_string();
    let mut req = agent.get(url);
    if let Some(m) = stored {
        if let Some(e) = &m.etag {
            req = req.header("If-None-Match", e.as_str());
        }
        if let Some(lm) = &m.last_modified {
            req = req.header("If-Modified-Since", lm.as_str());
        }
    }
    let resp = req.call().map_err(|e| FetchError::Request {
        url: url_owned(),
        source: Box::new(e),
    })?;
    let status = resp.status().as_u16();
    if status == 304 {
        if stored.is_none() {
            return Err(FetchError::UnexpectedNotModified { url: url_owned() });
        }
        return Ok(Fetched::NotModified);
    }
    if status != 200 {
        return Err(FetchError::Status {
            url: url_owned(),
            status,
        });
    }
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let etag = header("etag");
    let last_modified = header("last-modified");
    let expected: Option<u64> = header("content-length").and_then(|v| v.parse().ok());
    if let Some(n) = expected
        && n > MAX_DOWNLOAD_BYTES
    {
        return Err(FetchError::TooLarge {
            url: url_owned(),
            bytes: n,
        });
    }
    let mut reader = resp.into_body().into_reader();
    let mut bytes = Vec::with_capacity(expected.unwrap_or(0).min(64 << 20) as usize);
    let mut chunk = vec![0u8; 256 << 10];
    let mut next_report: u64 = 16 << 20;
    loop {
        let n = reader
            .read(&mut chunk)
            .map_err(|source| FetchError::CutOff {
                url: url_owned(),
                source,
            })?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() as u64 > MAX_DOWNLOAD_BYTES {
            return Err(FetchError::TooLargeWhileReading { url: url_owned() });
        }
        if bytes.len() as u64 >= next_report {
            progress(&format!("{source}: {} MiB", bytes.len() >> 20));
            next_report += 16 << 20;
        }
    }
    if let Some(n) = expected
        && n != bytes.len() as u64
    {
        return Err(FetchError::Short {
            url: url_owned(),
            got: bytes.len() as u64,
            expected: n,
        });
    }
    Ok(Fetched::Body {
        bytes,
        etag,
        last_modified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_hosts() {
        assert_eq!(encode_segment("Rocky Linux"), "Rocky%20Linux");
        assert_eq!(encode_segment("crates.io"), "crates.io");
        assert!(is_loopback("http://127.0.0.1:8080/x"));
        assert!(is_loopback("http://localhost/x"));
        assert!(!is_loopback(DEFAULT_BASE_URL));
    }
}
