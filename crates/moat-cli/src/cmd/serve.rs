//! `moat serve`: the server ([`moat_server::serve`]), its tokens, and a one-off re-match.

use crate::settings::Env;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use moat_server::{Config, Limits, Scope, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    command: Option<ServeCommand>,
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8686")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArg,
    /// PostgreSQL (--database-url): connections this process opens at most; requests run
    /// side by side on them (SQLite: one connection, whatever this says).
    #[arg(long, default_value_t = 8, value_name = "N")]
    db_pool_size: usize,
    /// PostgreSQL: seconds a request waits for a free connection of the pool before it
    /// fails (HTTP 503).
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    db_pool_timeout: f64,
    /// The advisory database submitted inventories are matched against (default: moat's
    /// database, when it exists). When the file changes (`moat db update`), every stored
    /// inventory is re-matched.
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    max_body: usize,
    /// Time budget of one request, in seconds (503 past it).
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    timeout: u64,
    /// Requests answered at once (503 beyond: no unbounded queue).
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_in_flight: usize,
    /// Requests per second per token (429 with Retry-After beyond), and the burst above it.
    #[arg(long, default_value_t = 50.0, value_name = "N")]
    rate: f64,
    #[arg(long, default_value_t = 100.0, value_name = "N")]
    burst: f64,
    /// How often the advisory database file is checked for a change, in seconds (0: never).
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    watch_db: u64,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2, value_name = "N")]
    threads: usize,
    /// The admission policy (TOML) of the Kubernetes webhook at `POST /admission`.
    #[arg(long, value_name = "FILE")]
    admission_policy: Option<PathBuf>,
    #[command(flatten)]
    jobs: JobArgs,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// POST each re-match event (new, fixed_upstream, gone) as JSON to this URL (repeatable).
    #[arg(long, value_name = "URL")]
    event_webhook: Vec<String>,
    /// Events waiting per webhook at most (beyond: dropped and counted).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    webhook_queue: usize,
    /// Tries per event and webhook (5xx, 429, timeouts and connection errors are retried with
    /// exponential backoff from --webhook-backoff-ms).
    #[arg(long, default_value_t = 5, value_name = "N")]
    webhook_attempts: u32,
    #[arg(long, default_value_t = 500, value_name = "MS")]
    webhook_backoff_ms: u64,
    /// Log lines on stderr: text or json (one JSON object a line).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// What is logged, RUST_LOG-style: a level (error, warn, info, debug, trace) or
    /// directives such as `warn,moat::request=info` (default: $RUST_LOG, else info).
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
}

/// The job queue and its workers.
#[derive(Args)]
struct JobArgs {
    /// Run workers only (no HTTP API): take jobs from the store's queue until stopped.
    #[arg(long)]
    worker: bool,
    /// Workers in this process (with --worker too; 0: jobs wait for another process's).
    #[arg(long, default_value_t = 2, value_name = "N")]
    workers: usize,
    /// Jobs queued or running at most (429 beyond).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    max_queue: usize,
    /// Seconds a job stays its worker's without a renewal (the worker renews it every third
    /// of that while it works; past it, another worker takes the job).
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    lease: f64,
    /// Times a job is taken before an expired lease fails it.
    #[arg(long, default_value_t = 3, value_name = "N")]
    max_attempts: u32,
    /// A `moat scan` flag for the scans of submitted image references (repeatable:
    /// `--scan-arg=--insecure`, `--scan-arg=--ca-file=FILE`, `--scan-arg=--cache=off`).
    /// They run `--scanners secret,misconfig`; vulnerabilities come from the server's match.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    scan_arg: Vec<String>,
}

/// `moat scan`'s flags, parsed for the server's scans.
#[derive(clap::Parser)]
#[command(name = "moat scan")]
struct ScanFlags {
    #[command(flatten)]
    scan: crate::cmd::scan::ScanArgs,
}

impl JobArgs {
    /// The settings, with the scanner of image references: `moat scan`'s settings resolved
    /// once, here (flags, environment, configuration file), the target set per job.
    /// Also: the registry options of those scans (credentials, TLS), which admission's
    /// signature checks use too.
    fn settings(
        &self,
        env: &Env,
    ) -> anyhow::Result<(
        moat_server::worker::JobSettings,
        moat_image::RegistryOptions,
    )> {
        use clap::Parser as _;
        if !(self.lease.is_finite() && self.lease > 0.0) {
            bail!("--lease {}: a positive number of seconds", self.lease);
        }
        let mut argv: Vec<String> = ["moat scan", "--quiet", "--scanners", "secret,misconfig"]
            .map(String::from)
            .to_vec();
        argv.extend(self.scan_arg.iter().cloned());
        argv.push("registry:moat.invalid/placeholder".into());
        let flags = ScanFlags::try_parse_from(&argv)
            .map_err(|e| anyhow::anyhow!("--scan-arg: {}", e.to_string().trim()))?;
        let template = flags.scan.settings(env).context("--scan-arg")?;
        let registry = template.read.open.registry.clone();
        let template = std::sync::Mutex::new(template);
        let scan: moat_server::worker::ScanFn = std::sync::Arc::new(move |reference: &str| {
            let mut settings = template.lock().unwrap_or_else(|p| p.into_inner()).clone();
            settings.target = moat_pipeline::Target::Image(moat_image::TargetSpec::Registry(
                PathBuf::from(reference),
            ));
            settings.now = jiff::Timestamp::now();
            let outcome = moat_pipeline::run_unmatched(&settings)
                .map_err(|e| format!("scanning {reference}: {e}"))?;
            Ok(outcome.report)
        });
        Ok((
            moat_server::worker::JobSettings {
                workers: self.workers,
                max_queue: self.max_queue.max(1),
                lease: Duration::from_secs_f64(self.lease),
                max_attempts: self.max_attempts.max(1),
                poll: Duration::from_millis(500).min(Duration::from_secs_f64(self.lease / 4.0)),
                scan: Some(scan),
                name: moat_server::worker::default_name(),
            },
            registry,
        ))
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Installs the log subscriber: events of moat's server on stderr.
fn init_logs(format: LogFormat, level: Option<&str>) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let directives = match level {
        Some(l) => l.to_string(),
        None => std::env::var("RUST_LOG")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "info".into()),
    };
    let filter = EnvFilter::builder()
        .parse(&directives)
        .with_context(|| format!("--log-level {directives:?}"))?;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let done = match format {
        LogFormat::Text => b.try_init(),
        LogFormat::Json => b.json().flatten_event(true).try_init(),
    };
    done.map_err(|e| anyhow::anyhow!("the log subscriber: {e}"))
}

#[derive(Args)]
struct StoreArg {
    /// The server's store, a SQLite file (default: $XDG_DATA_HOME/moat/server.db, else
    /// ~/.local/share/moat/server.db).
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
    /// A PostgreSQL database instead of the SQLite file (postgres://USER:PASSWORD@HOST:PORT/DB,
    /// no TLS). Several servers and workers share it.
    #[arg(long, value_name = "URL", conflicts_with = "store")]
    database_url: Option<String>,
}

impl StoreArg {
    /// The SQLite file, or the PostgreSQL URL.
    fn path(&self, env: &Env) -> anyhow::Result<PathBuf> {
        match self.database_url.clone() {
            Some(u) if moat_server::store::is_postgres_url(&u) => Ok(PathBuf::from(u)),
            Some(u) => bail!(
                "--database-url {}: a postgres:// or postgresql:// URL",
                moat_server::store::display_location(std::path::Path::new(&u))
            ),
            None => Ok(self
                .store
                .clone()
                .unwrap_or_else(|| env.default_server_store())),
        }
    }
}

#[derive(Subcommand)]
enum ServeCommand {
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Re-match every stored inventory against the advisory database now, and print what
    /// changed (for a cron job after `moat db update`, when no server runs).
    Rematch {
        #[command(flatten)]
        store: StoreArg,
        /// The advisory database (default: moat's database).
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (once: only its hash is stored).
    Create {
        #[command(flatten)]
        store: StoreArg,
        /// A name saying who uses it.
        #[arg(long)]
        name: String,
        /// read (GET), write (submit reports), admin (re-match).
        #[arg(long, default_value = "read")]
        scope: String,
    },
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

pub fn run(a: ServeArgs, env: &Env) -> anyhow::Result<ExitCode> {
    match a.command {
        Some(ServeCommand::Token {
            command: TokenCommand::Create { store, name, scope },
        }) => {
            let Some(scope) = Scope::parse(&scope) else {
                bail!("--scope {scope:?}: use read, write or admin");
            };
            let store = Store::open(&store.path(env)?)?;
            let secret = store.create_token(&name, scope, now())?;
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Some(ServeCommand::Rematch { store, db }) => {
            let db = db.unwrap_or_else(|| env.default_db());
            let store = Store::open(&store.path(env)?)?;
            let s = moat_server::rematch::rematch_all(&store, &db, now())
                .with_context(|| format!("re-matching {}", store.path().display()))?;
            let count = |k: &str| s.events.iter().filter(|e| e.kind == k).count();
            println!(
                "{} images re-matched in {:.2} s: {} new, {} fixed upstream, {} gone",
                s.images,
                s.seconds,
                count("new"),
                count("fixed_upstream"),
                count("gone")
            );
            Ok(ExitCode::SUCCESS)
        }
        None => serve(a, env),
    }
}

fn serve(a: ServeArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let store = a.store.path(env)?;
    if a.db_pool_size == 0 {
        bail!("--db-pool-size 0: at least one connection");
    }
    if !(a.db_pool_timeout.is_finite() && a.db_pool_timeout > 0.0) {
        bail!(
            "--db-pool-timeout {}: a positive number of seconds",
            a.db_pool_timeout
        );
    }
    let store_options = moat_server::StoreOptions {
        pool_size: a.db_pool_size,
        pool_timeout: Duration::from_secs_f64(a.db_pool_timeout),
    };
    let db = match a.db {
        Some(p) => {
            if !p.is_file() {
                bail!("--db {}: no such file", p.display());
            }
            Some(p)
        }
        None => Some(env.default_db()).filter(|p| p.is_file()),
    };
    let admission = match &a.admission_policy {
        Some(p) => Some(moat_server::admission::Policy::load(p)?),
        None => None,
    };
    let (jobs, registry) = a.jobs.settings(env)?;
    // Admission's signature checks: the scans' registry settings, with a short timeout and
    // no retries (the API server waits seconds, not minutes).
    let connector = moat_server::admission::signature::Connector(std::sync::Arc::new(
        move |r: &moat_registry::Reference| {
            let mut ro = registry.clone();
            ro.client.timeout = ro.client.timeout.min(Duration::from_secs(10));
            ro.client.attempts = 1;
            moat_image::connect_registry(r, &ro)
        },
    ));
    init_logs(a.log_format, a.log_level.as_deref())?;
    let webhook_options = moat_server::webhook::WebhookOptions {
        queue: a.webhook_queue.max(1),
        attempts: a.webhook_attempts.max(1),
        backoff: Duration::from_millis(a.webhook_backoff_ms),
        ..Default::default()
    };
    if a.jobs.worker {
        eprintln!(
            "moat: {} workers on {} (advisories {})",
            jobs.workers,
            moat_server::store::display_location(&store),
            db.as_deref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "none".into())
        );
        moat_server::work(
            &store,
            &store_options,
            db,
            jobs,
            &a.event_webhook,
            &webhook_options,
        )?;
        eprintln!("moat: stopped");
        return Ok(ExitCode::SUCCESS);
    }
    let cfg = Config {
        listen: a.listen,
        store: store.clone(),
        store_options,
        db: db.clone(),
        limits: Limits {
            max_body: a.max_body,
            timeout: Duration::from_secs(a.timeout.max(1)),
            max_in_flight: a.max_in_flight,
            rate: a.rate,
            burst: a.burst,
        },
        watch_db: Duration::from_secs(a.watch_db),
        threads: a.threads,
        admission,
        registry: Some(connector),
        jobs,
        tls: match (a.tls_cert, a.tls_key) {
            (Some(cert), Some(key)) => Some(moat_server::tls::TlsFiles { cert, key }),
            _ => None,
        },
        event_webhooks: a.event_webhook,
        webhook_options,
    };
    if let Some(t) = &cfg.tls {
        moat_server::tls::server_config(t)?;
    }
    let scheme = if cfg.tls.is_some() { "https" } else { "http" };
    let has_tokens = Store::open(&store)?.has_tokens()?;
    moat_server::serve(cfg, |addr| {
        eprintln!(
            "moat: serving on {scheme}://{addr} (store {}, advisories {})",
            moat_server::store::display_location(&store),
            db.as_deref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "none: findings kept as submitted".into())
        );
        if !has_tokens {
            eprintln!(
                "moat: no API token yet: create one with `moat serve token create --name NAME --scope admin`"
            );
        }
    })?;
    eprintln!("moat: stopped");
    Ok(ExitCode::SUCCESS)
}
