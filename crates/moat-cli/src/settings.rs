//! Settings, resolved in one place: command-line flags, then the environment, then defaults.
//! The libraries never read the environment; [`Env`] is read once here and everything the
//! commands need is handed down as values.

use anyhow::Context;
use clap::Args;
use moat_image::{Limits, OpenOptions};
use moat_pipeline::{DatabaseSettings, ReadSettings};
use moat_vuln::update::{self, UpdateOptions};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The environment variables moat reads, read once.
pub struct Env {
    /// `MOAT_DB`: the advisory database.
    moat_db: Option<OsString>,
    /// `MOAT_DB_URL`: mirrors of OSV's bucket layout, comma-separated, tried in order.
    moat_db_url: Option<String>,
    xdg_cache_home: Option<OsString>,
    home: Option<OsString>,
    /// `NO_COLOR` (any value) turns colour off.
    no_color: bool,
    /// `SOURCE_DATE_EPOCH`: the time written into reports and used as "now".
    source_date_epoch: Option<String>,
}

impl Env {
    pub fn read() -> Env {
        let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Env {
            moat_db: nonempty("MOAT_DB"),
            moat_db_url: nonempty("MOAT_DB_URL").and_then(|v| v.into_string().ok()),
            xdg_cache_home: nonempty("XDG_CACHE_HOME"),
            home: nonempty("HOME"),
            no_color: std::env::var_os("NO_COLOR").is_some(),
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok(),
        }
    }

    /// Now, or the time `SOURCE_DATE_EPOCH` gives (whole seconds since the epoch).
    pub fn now(&self) -> jiff::Timestamp {
        self.source_date_epoch
            .as_deref()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
            .unwrap_or_else(|| {
                jiff::Timestamp::try_from(std::time::SystemTime::now())
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            })
    }

    /// Colour on stdout: a terminal and no `NO_COLOR`.
    pub fn color(&self) -> bool {
        !self.no_color && std::io::stdout().is_terminal()
    }

    /// `$MOAT_DB`, else `$XDG_CACHE_HOME/moat/moat.db`, else `~/.cache/moat/moat.db`.
    pub fn default_db(&self) -> PathBuf {
        if let Some(p) = &self.moat_db {
            return PathBuf::from(p);
        }
        if let Some(x) = &self.xdg_cache_home {
            return PathBuf::from(x).join("moat").join("moat.db");
        }
        if let Some(h) = &self.home {
            return PathBuf::from(h).join(".cache").join("moat").join("moat.db");
        }
        PathBuf::from("moat.db")
    }
}

/// The report timestamp of `now` (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn timestamp(now: jiff::Timestamp) -> String {
    moat_report::format_timestamp(now.as_second())
}

/// What to read and how.
#[derive(Args)]
pub struct TargetArgs {
    /// What to scan: docker-archive:PATH, oci-archive:PATH, oci:DIR, rootfs:DIR, dir:DIR,
    /// sbom:PATH, or a path whose kind is detected.
    pub target: String,
    /// Pick this platform from a multi-platform index (os/arch[/variant]; default: the host's).
    #[arg(long)]
    platform: Option<String>,
    /// Pick this image (REPO:TAG or tag) from an archive or layout holding several.
    #[arg(long)]
    image: Option<String>,
    /// No progress display and no warnings on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Largest uncompressed size of one layer, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_layer_bytes: Option<u64>,
    /// Largest ratio of uncompressed to stored layer bytes (checked past 64 MiB).
    #[arg(long, value_name = "N")]
    max_ratio: Option<u64>,
    /// Largest single file read for analysis, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_entry_bytes: Option<u64>,
    /// Leave out development dependencies (as lockfiles mark them).
    #[arg(long)]
    skip_dev_deps: bool,
    /// Stop with an error (exit 2) when the whole command takes longer than this
    /// (`30s`, `5m`, `1h30m`; `0` for no limit).
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_TIMEOUT, value_parser = parse_duration)]
    timeout: Duration,
    /// Abandon one analyzer's work on one file after this long (`0` for no budget): the
    /// file gets a `slow-file` warning naming it and the analyzer, and the scan goes on.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    analyzer_timeout: Duration,
}

/// The default of `--timeout`: generous (moat reads a multi-GiB image in a few minutes on
/// one core) yet bounded, so that no crafted input stalls a CI job for ever.
pub const DEFAULT_TIMEOUT: &str = "30m";

/// A duration as Go and Trivy write it: one or more `<number><unit>` with the units `h`,
/// `m`, `s`, `ms` (`1h30m`, `90s`, `500ms`), or `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?}: expected a duration such as 30s, 5m or 1h30m (0 for none)");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let per = match &rest[..unit_len] {
            "h" => Duration::from_secs(3600),
            "m" => Duration::from_secs(60),
            "s" => Duration::from_secs(1),
            "ms" => Duration::from_millis(1),
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let part = u32::try_from(n)
            .ok()
            .and_then(|n| per.checked_mul(n))
            .ok_or_else(bad)?;
        total = total.checked_add(part).ok_or_else(bad)?;
    }
    Ok(total)
}

/// Refuses a path that exists and is neither a regular file nor a directory (a FIFO, a
/// socket, a device): reading one would block for ever or never end. Missing paths pass
/// (the command reports them in its own words).
pub fn refuse_special(path: &Path, what: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let t = meta.file_type();
    let kind = if t.is_file() || t.is_dir() {
        return Ok(());
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    };
    anyhow::bail!(
        "{what} {} is {kind}: only regular files and directories are read",
        crate::output::escape(&path.display().to_string())
    )
}

impl TargetArgs {
    pub fn target(&self) -> anyhow::Result<moat_pipeline::Target> {
        let path = [
            "sbom:",
            "docker-archive:",
            "oci-archive:",
            "oci:",
            "rootfs:",
            "dir:",
        ]
        .iter()
        .find_map(|p| self.target.strip_prefix(p))
        .unwrap_or(&self.target);
        refuse_special(Path::new(path), "target")?;
        Ok(moat_pipeline::Target::parse(&self.target)?)
    }

    /// Starts the `--timeout` watchdog: past the deadline it prints an error and ends the
    /// process with exit code 2, whatever the command is doing.
    pub fn start_watchdog(&self) {
        let limit = self.timeout;
        if limit.is_zero() {
            return;
        }
        std::thread::spawn(move || {
            std::thread::sleep(limit);
            eprintln!(
                "moat: error: timed out: the command did not finish within {limit:?} (--timeout; 0 for no limit)"
            );
            std::process::exit(2);
        });
    }

    pub fn read_settings(&self) -> anyhow::Result<ReadSettings> {
        let mut limits = Limits::default();
        if let Some(v) = self.max_layer_bytes {
            limits.max_layer_bytes = v;
        }
        if let Some(v) = self.max_ratio {
            limits.max_ratio = v;
        }
        let platform = self
            .platform
            .as_deref()
            .map(moat_image::parse_platform)
            .transpose()?;
        Ok(ReadSettings {
            open: OpenOptions {
                platform,
                image: self.image.clone(),
                limits,
            },
            max_entry_bytes: self.max_entry_bytes,
            skip_dev: self.skip_dev_deps,
            analyzer_timeout: Some(self.analyzer_timeout),
            secrets: Default::default(),
        })
    }

    /// The engine's counters, when a progress display will draw them.
    pub fn progress(&self) -> Option<std::sync::Arc<moat_scan::Progress>> {
        (!self.quiet && std::io::stderr().is_terminal()).then(Default::default)
    }
}

/// Where advisories come from.
#[derive(Args)]
pub struct DbArgs {
    /// The advisory database (default: $MOAT_DB, else the user's cache directory).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Never touch the network (a missing database is then an error).
    #[arg(long)]
    pub offline: bool,
    /// Base URL of the OSV ecosystem archives (default: $MOAT_DB_URL, a comma-separated
    /// list, else OSV's bucket). Given more than once: mirrors, tried in order for each
    /// source.
    #[arg(long, value_name = "URL")]
    pub db_url: Vec<String>,
    /// The time limit of a whole database download (`30s`, `5m`; `0` for none): past it the
    /// sources not yet downloaded keep their records.
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_DB_TIMEOUT, value_parser = parse_duration)]
    pub db_timeout: Duration,
}

/// The default of `--db-timeout`.
pub const DEFAULT_DB_TIMEOUT: &str = "5m";

/// The mirrors `--db-url` (every one given) or else `MOAT_DB_URL` (a comma-separated list)
/// name, in order, each once.
fn mirror_list(flags: &[String], env: Option<&str>) -> Vec<String> {
    let from: Vec<&str> = if flags.is_empty() {
        env.map(|v| v.split(',').collect()).unwrap_or_default()
    } else {
        flags.iter().flat_map(|f| f.split(',')).collect()
    };
    let mut out: Vec<String> = Vec::new();
    for u in from {
        let u = u.trim().trim_end_matches('/');
        if !u.is_empty() && !out.iter().any(|o| o == u) {
            out.push(u.to_string());
        }
    }
    out
}

impl DbArgs {
    pub fn path(&self, env: &Env) -> PathBuf {
        self.db.clone().unwrap_or_else(|| env.default_db())
    }

    pub fn update_options(&self, env: &Env) -> UpdateOptions {
        let mut mirrors = mirror_list(&self.db_url, env.moat_db_url.as_deref()).into_iter();
        let first = mirrors.next();
        // A mirror serves KEV beside the archives; the public default has its own URL.
        let kev_url = match &first {
            Some(base) => format!("{base}/kev/known_exploited_vulnerabilities.json"),
            None => update::DEFAULT_KEV_URL.to_string(),
        };
        UpdateOptions {
            base_url: first.unwrap_or_else(|| update::DEFAULT_BASE_URL.to_string()),
            mirrors: mirrors.collect(),
            ecosystems: update::DEFAULT_ECOSYSTEMS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            kev_url: Some(kev_url),
            timeout: std::time::Duration::from_secs(60),
            // `0`: no limit (a century is none in practice).
            budget: if self.db_timeout.is_zero() {
                Duration::from_secs(100 * 365 * 86_400)
            } else {
                self.db_timeout
            },
            ..UpdateOptions::default()
        }
    }

    pub fn database(&self, env: &Env, max_age_days: u64) -> DatabaseSettings {
        DatabaseSettings {
            path: self.path(env),
            offline: self.offline,
            update: self.update_options(env),
            max_age_days,
        }
    }

    /// Creates the database's directory (for commands that write it).
    pub fn create_dir(&self, env: &Env) -> anyhow::Result<()> {
        if let Some(parent) = self
            .path(env)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        };
        Env {
            moat_db: get("MOAT_DB"),
            moat_db_url: None,
            xdg_cache_home: get("XDG_CACHE_HOME"),
            home: get("HOME"),
            no_color: true,
            source_date_epoch: get("SOURCE_DATE_EPOCH").and_then(|v| v.into_string().ok()),
        }
    }

    #[test]
    fn the_database_path_follows_the_environment() {
        assert_eq!(
            env(&[("MOAT_DB", "/x/m.db"), ("HOME", "/h")]).default_db(),
            PathBuf::from("/x/m.db")
        );
        assert_eq!(
            env(&[("XDG_CACHE_HOME", "/c"), ("HOME", "/h")]).default_db(),
            PathBuf::from("/c/moat/moat.db")
        );
        assert_eq!(
            env(&[("HOME", "/h")]).default_db(),
            PathBuf::from("/h/.cache/moat/moat.db")
        );
        assert_eq!(env(&[]).default_db(), PathBuf::from("moat.db"));
    }

    #[test]
    fn durations_as_trivy_writes_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration(DEFAULT_TIMEOUT),
            Ok(Duration::from_secs(1800))
        );
        for bad in ["", "5", "m", "5x", "1.5h", "-1s", "99999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mirrors_from_flags_or_the_environment() {
        assert_eq!(
            mirror_list(&[], Some("http://a/, http://b,,http://a")),
            ["http://a", "http://b"]
        );
        assert_eq!(
            mirror_list(&["http://c".into(), "http://d/".into()], Some("http://a")),
            ["http://c", "http://d"]
        );
        assert!(mirror_list(&[], None).is_empty());
        assert_eq!(
            parse_duration(DEFAULT_DB_TIMEOUT),
            Ok(Duration::from_secs(300))
        );
    }

    #[test]
    fn source_date_epoch_is_now() {
        let e = env(&[("SOURCE_DATE_EPOCH", "1700000000")]);
        assert_eq!(timestamp(e.now()), "2023-11-14T22:13:20Z");
    }
}
