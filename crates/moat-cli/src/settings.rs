//! Settings, resolved in one place: command-line flags, then the environment, then the
//! configuration file ([`Config`]), then defaults. The libraries never read the environment;
//! [`Env`] (with the configuration file) is read once here and everything the commands need
//! is handed down as values.

use anyhow::Context;
use clap::Args;
use moat_image::{Limits, OpenOptions};
use moat_pipeline::{DatabaseSettings, DbRepository, ReadSettings};
use moat_vuln::update::{self, UpdateOptions};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration file: `--config FILE`, else `$MOAT_CONFIG`, else
/// `$XDG_CONFIG_HOME/moat/config.toml` (`~/.config/moat/config.toml`) when it exists.
/// Flags and environment variables win over it. Only the user's own configuration is read,
/// never one from the working directory: a repository under scan must not be able to point
/// moat at another advisory mirror.
///
/// ```toml
/// [db]
/// path = "/var/cache/moat/moat.db"   # --db, $MOAT_DB (relative: to this file's directory)
/// mirrors = ["https://osv-mirror.internal", "https://osv-vulnerabilities.storage.googleapis.com"]
/// timeout = "5m"                     # --db-timeout
/// refresh-after = "24h"              # --db-refresh-after ("0": scans never refresh)
/// max-age = 7                        # --db-max-age (days)
/// repository = "registry.internal/moat/db:latest"   # --db-repository
/// ```
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    db: DbConfig,
}

/// The `[db]` table of [`Config`].
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DbConfig {
    path: Option<PathBuf>,
    mirrors: Option<Vec<String>>,
    #[serde(default, deserialize_with = "duration")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    refresh_after: Option<Duration>,
    max_age: Option<u64>,
    repository: Option<String>,
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    parse_duration(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// The largest configuration file read (it is a few lines).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

impl Config {
    /// Reads `path`; relative paths inside it are made relative to its directory.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        use std::io::Read;
        refuse_special(path, "configuration file")?;
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let mut text = String::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            anyhow::bail!(
                "the configuration file {} is larger than {MAX_CONFIG_BYTES} bytes",
                path.display()
            );
        }
        let mut c: Config = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "the configuration file {} is not valid: {}",
                path.display(),
                e.to_string().trim_end()
            )
        })?;
        if let (Some(p), Some(dir)) = (&mut c.db.path, path.parent())
            && p.is_relative()
        {
            *p = dir.join(&*p);
        }
        Ok(c)
    }
}

/// The environment variables moat reads, read once, and the configuration file.
pub struct Env {
    /// `MOAT_DB`: the advisory database.
    moat_db: Option<OsString>,
    /// `MOAT_DB_URL`: mirrors of OSV's bucket layout, comma-separated, tried in order.
    moat_db_url: Option<String>,
    xdg_cache_home: Option<OsString>,
    home: Option<OsString>,
    /// `DOCKER_CONFIG`: the directory of Docker's `config.json`.
    docker_config: Option<OsString>,
    /// `NO_COLOR` (any value) turns colour off.
    no_color: bool,
    /// `SOURCE_DATE_EPOCH`: the time written into reports and used as "now".
    source_date_epoch: Option<String>,
    /// `MOAT_DEBUG` (any non-empty value): what the caches did, on stderr.
    pub debug: bool,
    config: Config,
}

impl Env {
    /// Reads the environment and the configuration file (`--config FILE` when given).
    pub fn read(config_flag: Option<&Path>) -> anyhow::Result<Env> {
        let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let home = nonempty("HOME");
        let config = match config_flag
            .map(Path::to_path_buf)
            .or_else(|| nonempty("MOAT_CONFIG").map(PathBuf::from))
        {
            Some(p) => Config::load(&p)?,
            None => {
                let dir = nonempty("XDG_CONFIG_HOME")
                    .map(PathBuf::from)
                    .or_else(|| home.as_ref().map(|h| PathBuf::from(h).join(".config")));
                match dir.map(|d| d.join("moat").join("config.toml")) {
                    Some(p) if p.exists() => Config::load(&p)?,
                    _ => Config::default(),
                }
            }
        };
        Ok(Env {
            moat_db: nonempty("MOAT_DB"),
            moat_db_url: nonempty("MOAT_DB_URL").and_then(|v| v.into_string().ok()),
            xdg_cache_home: nonempty("XDG_CACHE_HOME"),
            docker_config: nonempty("DOCKER_CONFIG"),
            home,
            no_color: std::env::var_os("NO_COLOR").is_some(),
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok(),
            debug: nonempty("MOAT_DEBUG").is_some(),
            config,
        })
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

    /// `$MOAT_DB`, else the configuration's `db.path`, else `$XDG_CACHE_HOME/moat/moat.db`,
    /// else `~/.cache/moat/moat.db`.
    pub fn default_db(&self) -> PathBuf {
        if let Some(p) = &self.moat_db {
            return PathBuf::from(p);
        }
        if let Some(p) = &self.config.db.path {
            return p.clone();
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

impl Env {
    /// `moat serve`'s store: `$XDG_DATA_HOME/moat/server.db`, else
    /// `~/.local/share/moat/server.db`.
    pub fn default_server_store(&self) -> PathBuf {
        if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
            return PathBuf::from(x).join("moat").join("server.db");
        }
        if let Some(h) = &self.home {
            return PathBuf::from(h)
                .join(".local")
                .join("share")
                .join("moat")
                .join("server.db");
        }
        PathBuf::from("moat-server.db")
    }

    /// The registry blob cache: `$XDG_CACHE_HOME/moat/blobs`, else `~/.cache/moat/blobs`.
    pub fn default_blob_cache(&self) -> PathBuf {
        if let Some(x) = &self.xdg_cache_home {
            return PathBuf::from(x).join("moat").join("blobs");
        }
        if let Some(h) = &self.home {
            return PathBuf::from(h).join(".cache").join("moat").join("blobs");
        }
        PathBuf::from(".moat-blobs")
    }

    /// moat's copy of Falco's rules (`moat watch --update-rules`): `$XDG_CACHE_HOME/moat/rules`,
    /// else `~/.cache/moat/rules`.
    pub fn default_rules_dir(&self) -> PathBuf {
        if let Some(x) = &self.xdg_cache_home {
            return PathBuf::from(x).join("moat").join("rules");
        }
        if let Some(h) = &self.home {
            return PathBuf::from(h).join(".cache").join("moat").join("rules");
        }
        PathBuf::from(".moat-rules")
    }

    /// Docker's `config.json`: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn docker_config(&self) -> Option<PathBuf> {
        if let Some(d) = &self.docker_config {
            return Some(PathBuf::from(d).join("config.json"));
        }
        self.home
            .as_ref()
            .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
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
    /// sbom:PATH, registry:REF, an image reference (REGISTRY/REPO:TAG, ...@sha256:DIGEST),
    /// or a path whose kind is detected.
    pub target: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
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
    /// Do not read the directories this glob matches (repeatable or comma-separated outside
    /// `{a,b}`; a path relative to the target's root, `**` for any depth: `**/node_modules`,
    /// `usr/share/doc`).
    #[arg(long, value_name = "GLOB")]
    skip_dirs: Vec<String>,
    /// Do not read the files this glob matches (as --skip-dirs: `**/*.{min.js,map}`).
    #[arg(long, value_name = "GLOB")]
    skip_files: Vec<String>,
    /// Stop with an error (exit 2) when the whole command takes longer than this
    /// (`30s`, `5m`, `1h30m`; `0` for no limit).
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_TIMEOUT, value_parser = parse_duration)]
    timeout: Duration,
    /// Abandon one analyzer's work on one file after this long (`0` for no budget): the
    /// file gets a `slow-file` warning naming it and the analyzer, and the scan goes on.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    analyzer_timeout: Duration,
    /// List each package's installed files in the report (`files` in moat's JSON,
    /// `evidence.occurrences` in CycloneDX): the OS databases' file lists and Python's
    /// RECORD, as the final image has them (capped; a warning says what was left out).
    #[arg(long)]
    package_files: bool,
}

/// Glob lists as given: each split at the commas outside `{...}` (`a,b` is two globs,
/// `*.{js,map}` one).
fn split_globs(given: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for g in given {
        let (mut depth, mut start) = (0usize, 0);
        for (i, c) in g.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    out.push(g[start..i].to_string());
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(g[start..].to_string());
    }
    out.retain(|g| !g.is_empty());
    out
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
            "git:",
            "registry:",
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

    pub fn read_settings(&self, env: &Env) -> anyhow::Result<ReadSettings> {
        let skip = moat_scan::PathSkip::new(
            &split_globs(&self.skip_dirs),
            &split_globs(&self.skip_files),
        )?;
        if !skip.is_empty() && !matches!(self.target()?, moat_pipeline::Target::Image(_)) {
            anyhow::bail!(
                "--skip-dirs and --skip-files apply to image, rootfs and dir: targets, not to {}",
                self.target
            );
        }
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
                registry: self.registry.options(env)?,
            },
            max_entry_bytes: self.max_entry_bytes,
            skip_dev: self.skip_dev_deps,
            skip,
            analyzer_timeout: Some(self.analyzer_timeout),
            secrets: Default::default(),
            policies: None,
            layer_cache: self.registry.layer_cache(env),
            cache_inputs: None,
            package_files: self.package_files,
        })
    }

    /// The engine's counters, when a progress display will draw them.
    pub fn progress(&self) -> Option<std::sync::Arc<moat_scan::Progress>> {
        (!self.quiet && std::io::stderr().is_terminal()).then(Default::default)
    }
}

/// How to reach a registry: credentials and TLS.
#[derive(Args)]
pub struct RegistryAccessArgs {
    /// User name for the registry (with --password-stdin); default: Docker's config.json.
    #[arg(long, value_name = "NAME", requires = "password_stdin")]
    username: Option<String>,
    /// Read the registry password (or token) from standard input.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// Trust the CA certificates of this PEM file for the registry's TLS.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Allow plain HTTP and certificates that do not verify (loopback registries may use
    /// plain HTTP without it).
    #[arg(long)]
    insecure: bool,
}

impl RegistryAccessArgs {
    /// Registry options without a blob cache.
    pub fn options(&self, env: &Env) -> anyhow::Result<moat_image::RegistryOptions> {
        let mut o = moat_image::RegistryOptions::default();
        if let Some(user) = &self.username {
            use std::io::Read;
            let mut pw = String::new();
            std::io::stdin()
                .take(64 << 10)
                .read_to_string(&mut pw)
                .context("reading the password from standard input")?;
            let pw = pw.trim_end_matches(['\n', '\r']).to_string();
            if pw.is_empty() {
                anyhow::bail!("--password-stdin: standard input holds no password");
            }
            o.client.credentials = Some(moat_registry::Credentials {
                username: user.clone(),
                password: pw,
            });
        }
        if let Some(ca) = &self.ca_file {
            refuse_special(ca, "--ca-file")?;
        }
        o.client.ca_file = self.ca_file.clone();
        o.client.insecure = self.insecure;
        o.docker_config = env.docker_config();
        Ok(o)
    }
}

/// How to reach registries (registry targets only).
#[derive(Args)]
pub struct RegistryArgs {
    #[command(flatten)]
    access: RegistryAccessArgs,
    /// The cache directory: registry blobs, and each analysed layer's results under
    /// `layers/` [default: $XDG_CACHE_HOME/moat/blobs].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Bound on the blob cache and, separately, on the layer cache (least recently used
    /// entries removed past it): 500M, 10G, ...
    #[arg(long, value_name = "SIZE", value_parser = moat_image::parse_size, default_value = "10G")]
    cache_max_size: u64,
    /// `off`: no blob cache (downloads go to a temporary directory) and no layer cache
    /// (every layer is read; nothing is written).
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = ["on", "off"])]
    cache: String,
}

impl RegistryArgs {
    pub fn options(&self, env: &Env) -> anyhow::Result<moat_image::RegistryOptions> {
        let mut o = self.access.options(env)?;
        o.cache_dir = (self.cache == "on").then(|| {
            self.cache_dir
                .clone()
                .unwrap_or_else(|| env.default_blob_cache())
        });
        o.cache_max_bytes = self.cache_max_size;
        Ok(o)
    }

    /// The per-layer analysis cache (`None` with `--cache off`).
    pub fn layer_cache(&self, env: &Env) -> Option<std::sync::Arc<moat_scan::LayerCache>> {
        (self.cache == "on").then(|| {
            let root = self
                .cache_dir
                .clone()
                .unwrap_or_else(|| env.default_blob_cache());
            std::sync::Arc::new(moat_scan::LayerCache::new(root, self.cache_max_size))
        })
    }
}

/// With `MOAT_DEBUG`: what the layer cache did during the scan, on stderr.
pub fn debug_layer_cache(env: &Env, read: &ReadSettings) {
    if !env.debug {
        return;
    }
    let Some(c) = &read.layer_cache else {
        eprintln!("moat: debug: layer cache off");
        return;
    };
    use std::sync::atomic::Ordering::Relaxed;
    let n = &c.counts;
    eprintln!(
        "moat: debug: layer cache {}: {} hit, {} read, {} rebuilt, {} stored",
        c.dir().display(),
        n.hits.load(Relaxed),
        n.misses.load(Relaxed),
        n.rebuilt.load(Relaxed),
        n.written.load(Relaxed),
    );
    for note in c.take_notes() {
        eprintln!("moat: debug: layer cache: {}", crate::output::escape(&note));
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
    /// sources not yet downloaded keep their records [default: 5m, or the configuration's
    /// `db.timeout`].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub db_timeout: Option<Duration>,
    /// Take the whole database from this artifact (published by `moat db push`) instead of
    /// the feeds: REGISTRY/REPO:TAG [default: the configuration's `db.repository`].
    #[arg(long, value_name = "REF")]
    pub db_repository: Option<String>,
}

/// The default of `--db-refresh-after`: a day.
pub const DEFAULT_DB_REFRESH: Duration = Duration::from_secs(86_400);

/// The mirrors `--db-url` (every one given), else `MOAT_DB_URL` (a comma-separated list),
/// else the configuration's `db.mirrors` name, in order, each once.
fn mirror_list(flags: &[String], env: Option<&str>, config: Option<&[String]>) -> Vec<String> {
    let from: Vec<&str> = if !flags.is_empty() {
        flags.iter().flat_map(|f| f.split(',')).collect()
    } else if let Some(v) = env {
        v.split(',').collect()
    } else {
        config
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect()
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
        let mut mirrors = mirror_list(
            &self.db_url,
            env.moat_db_url.as_deref(),
            env.config.db.mirrors.as_deref(),
        )
        .into_iter();
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
            budget: match self.db_timeout.or(env.config.db.timeout) {
                Some(t) if t.is_zero() => Duration::from_secs(100 * 365 * 86_400),
                Some(t) => t,
                None => update::DEFAULT_BUDGET,
            },
            ..UpdateOptions::default()
        }
    }

    /// The published database to pull instead of the feeds (`--db-repository`, else the
    /// configuration's `db.repository`).
    pub fn repository(&self, env: &Env) -> anyhow::Result<Option<moat_registry::Reference>> {
        let Some(text) = self
            .db_repository
            .as_deref()
            .or(env.config.db.repository.as_deref())
        else {
            return Ok(None);
        };
        let text = text.strip_prefix("registry:").unwrap_or(text);
        Ok(Some(
            moat_registry::Reference::parse(text).context("--db-repository")?,
        ))
    }

    /// What a scan does with the database: `max_age_days` (`--db-max-age`) and
    /// `refresh_after` (`--db-refresh-after`) when given, else the configuration's, else the
    /// defaults (7 days, a day); `skip_update` (`--skip-db-update`): never refresh.
    pub fn database(
        &self,
        env: &Env,
        max_age_days: Option<u64>,
        refresh_after: Option<Duration>,
        skip_update: bool,
        registry: &moat_image::RegistryOptions,
    ) -> anyhow::Result<DatabaseSettings> {
        let refresh = refresh_after
            .or(env.config.db.refresh_after)
            .unwrap_or(DEFAULT_DB_REFRESH);
        Ok(DatabaseSettings {
            path: self.path(env),
            offline: self.offline,
            update: self.update_options(env),
            max_age_days: max_age_days.or(env.config.db.max_age).unwrap_or(7),
            refresh_after: (!skip_update && !refresh.is_zero()).then_some(refresh),
            repository: self.repository(env)?.map(|reference| DbRepository {
                reference,
                registry: registry.clone(),
            }),
        })
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
            docker_config: get("DOCKER_CONFIG"),
            no_color: true,
            source_date_epoch: get("SOURCE_DATE_EPOCH").and_then(|v| v.into_string().ok()),
            debug: false,
            config: Config::default(),
        }
    }

    #[test]
    fn glob_lists_split_at_commas_outside_braces() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            split_globs(&v(&["a,**/b", "*.{js,map}", "x/{c,d}/*,e", ""])),
            v(&["a", "**/b", "*.{js,map}", "x/{c,d}/*", "e"])
        );
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
        let config = ["http://e".to_string(), "http://f/".to_string()];
        assert_eq!(
            mirror_list(&[], Some("http://a/, http://b,,http://a"), Some(&config)),
            ["http://a", "http://b"]
        );
        assert_eq!(
            mirror_list(
                &["http://c".into(), "http://d/".into()],
                Some("http://a"),
                Some(&config)
            ),
            ["http://c", "http://d"]
        );
        assert_eq!(
            mirror_list(&[], None, Some(&config)),
            ["http://e", "http://f"]
        );
        assert!(mirror_list(&[], None, None).is_empty());
        assert_eq!(update::DEFAULT_BUDGET, Duration::from_secs(300));
    }

    #[test]
    fn the_configuration_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "[db]\npath = \"cache/m.db\"\nmirrors = [\"http://m1\", \"http://m2\"]\ntimeout = \"90s\"\nrefresh-after = \"6h\"\nmax-age = 3\nrepository = \"registry.internal/moat/db:7\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        let mut e = env(&[("HOME", "/h")]);
        e.config = c;
        assert_eq!(e.default_db(), dir.path().join("cache/m.db"));
        let db = DbArgs {
            db: None,
            offline: false,
            db_url: Vec::new(),
            db_timeout: None,
            db_repository: None,
        };
        let o = db.update_options(&e);
        let ro = moat_image::RegistryOptions::default();
        assert_eq!(o.base_url, "http://m1");
        assert_eq!(o.mirrors, ["http://m2"]);
        assert_eq!(o.budget, Duration::from_secs(90));
        let s = db.database(&e, None, None, false, &ro).unwrap();
        assert_eq!(s.max_age_days, 3);
        let r = s.repository.unwrap();
        assert_eq!(r.reference.to_string(), "registry.internal/moat/db:7");
        assert_eq!(s.refresh_after, Some(Duration::from_secs(6 * 3600)));
        // Flags win; `0` and --skip-db-update never refresh.
        let s = db
            .database(&e, Some(9), Some(Duration::from_secs(60)), false, &ro)
            .unwrap();
        assert_eq!(
            (s.max_age_days, s.refresh_after),
            (9, Some(Duration::from_secs(60)))
        );
        assert_eq!(
            db.database(&e, None, Some(Duration::ZERO), false, &ro)
                .unwrap()
                .refresh_after,
            None
        );
        assert_eq!(
            db.database(&e, None, None, true, &ro)
                .unwrap()
                .refresh_after,
            None
        );
        // Defaults without a file.
        let s = db.database(&env(&[]), None, None, false, &ro).unwrap();
        assert_eq!(
            (s.max_age_days, s.refresh_after),
            (7, Some(Duration::from_secs(86_400)))
        );

        // Unknown keys and bad values name the file.
        for (text, what) in [
            ("[db]\nmirror = [\"http://x\"]\n", "unknown field `mirror`"),
            ("[db]\ntimeout = \"5 minutes\"\n", "expected a duration"),
            ("[db\n", "not valid"),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = format!("{:#}", Config::load(&p).unwrap_err());
            assert!(e.contains(&p.display().to_string()), "{e}");
            assert!(e.contains(what), "{text}: {e}");
        }
        assert!(
            format!(
                "{:#}",
                Config::load(&dir.path().join("none.toml")).unwrap_err()
            )
            .contains("cannot read the configuration file")
        );
    }

    #[test]
    fn source_date_epoch_is_now() {
        let e = env(&[("SOURCE_DATE_EPOCH", "1700000000")]);
        assert_eq!(timestamp(e.now()), "2023-11-14T22:13:20Z");
    }
}

/// Users' Rego policies, for `moat config` and `moat scan --scanners misconfig`.
#[derive(Args, Default)]
pub struct PolicyArgs {
    /// Rego policies to run beside the built-in misconfiguration rules: a .rego file or a
    /// directory searched recursively for *.rego (*_test.rego skipped); repeatable.
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// The packages whose deny rules run, as Trivy's --namespaces: comma-separated package
    /// prefixes [default: user].
    #[arg(long, value_delimiter = ',', value_name = "LIST", requires = "policy")]
    pub namespaces: Vec<String>,
}

impl PolicyArgs {
    /// The loaded policies (`None` without `--policy`); a policy that does not parse is an
    /// error naming its file and line.
    pub fn load(&self) -> anyhow::Result<Option<std::sync::Arc<moat_misconfig::rego::Policies>>> {
        if self.policy.is_empty() {
            return Ok(None);
        }
        let p = moat_pipeline::config::load_policies(&self.policy, &self.namespaces)?;
        Ok(Some(std::sync::Arc::new(p)))
    }
}
