//! # moat-server: `moat serve`
//!
//! One place that knows every image's inventory and findings, answers "which images have
//! package X / CVE-Y" from indexed tables, and re-matches every stored inventory when the
//! advisory database changes (no image is rescanned), recording what changed as events.
//!
//! | module | what |
//! |---|---|
//! | [`store`] | SQLite or PostgreSQL: images (with their report), packages, findings, ids, events, tokens, jobs |
//! | [`jobs`] | the job queue in the store: leases, attempts |
//! | [`worker`] | the workers: scans of image references, re-matches |
//! | [`rematch`] | the server's matching: at submission and for the whole store |
//! | [`api`] | the HTTP API (axum on tokio), its tokens, limits and metrics |
//! | [`admission`] | the Kubernetes admission webhook: AdmissionReview in; registries, signatures, findings, scans of unknown images and Kubernetes rules decide |
//! | [`metrics`] | `/metrics` in Prometheus' text format |
//! | [`client`] | `moat scan --server URL`: submitting a report |
//! | [`tls`] | HTTPS: the certificate files, the TLS listener |
//! | [`webhook`] | per-event webhooks: bounded queues, retries, counters |
//!
//! Threads: tokio's runtime answers requests; store and matching work runs on its blocking
//! pool (rusqlite and the `postgres` client are synchronous). Workers are plain threads
//! taking jobs from the store's queue. A background task watches the advisory database file
//! and queues a re-match when it changes (`moat db update` replaced it).
//!

pub mod admission;
pub mod api;
pub mod client;
mod db;
pub mod jobs;
pub mod metrics;
mod openapi;
pub mod rematch;
pub mod store;
pub mod tls;
pub mod webhook;
pub mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use api::Limits;
pub use store::{Scope, Store, StoreError, StoreOptions};

/// How `moat serve` runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub store: PathBuf,
    /// The store's PostgreSQL pool (size, checkout timeout).
    pub store_options: store::StoreOptions,
    /// The advisory database (moat's SQLite file).
    pub db: Option<PathBuf>,
    pub limits: Limits,
    /// How often the advisory database file is checked for a change (zero: never).
    pub watch_db: Duration,
    /// Runtime worker threads.
    pub threads: usize,
    /// The admission policy (`POST /admission` answers 404 without one).
    pub admission: Option<admission::Policy>,
    /// How admission reaches registries to check signatures (default: anonymously).
    pub registry: Option<admission::signature::Connector>,
    /// The job queue and this process's workers.
    pub jobs: worker::JobSettings,
    /// Serve HTTPS with this certificate chain and key (PEM).
    pub tls: Option<tls::TlsFiles>,
    /// Where each re-match event is POSTed.
    pub event_webhooks: Vec<String>,
    pub webhook_options: webhook::WebhookOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Webhook(#[from] webhook::WebhookError),
}

/// The advisory database file's identity: a change means a new database.
fn db_stamp(p: &std::path::Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Runs the server until SIGINT or SIGTERM. `ready` hears the bound address (port 0 picks
/// one).
pub fn serve(cfg: Config, ready: impl FnOnce(SocketAddr) + Send) -> Result<(), ServeError> {
    let tls = cfg.tls.as_ref().map(tls::server_config).transpose()?;
    let webhooks = if cfg.event_webhooks.is_empty() {
        None
    } else {
        Some(Arc::new(webhook::Webhooks::start(
            &cfg.event_webhooks,
            &cfg.webhook_options,
        )?))
    };
    let store = Arc::new(Store::open_with(&cfg.store, &cfg.store_options)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: cfg.listen,
                source,
            })?;
        let addr = listener.local_addr()?;
        let mut state = api::AppState::new(store, cfg.db.clone(), cfg.limits.clone());
        state.admission = cfg
            .admission
            .clone()
            .map(|p| Arc::new(admission::Admission::new(p, cfg.registry.clone())));
        state.jobs = cfg.jobs.clone();
        state.webhooks = webhooks.clone();
        let workers = Arc::new(worker::Workers {
            store: state.store.clone(),
            settings: cfg.jobs.clone(),
            db: cfg.db.clone(),
            stats: state.job_stats.clone(),
            stop: Arc::default(),
            metrics: Some(state.metrics.clone()),
            webhooks,
            wake: state.wake.clone(),
        });
        let threads = workers.spawn();
        let state = Arc::new(state);
        if let (Some(db), false) = (cfg.db.clone(), cfg.watch_db.is_zero()) {
            let s = state.clone();
            let every = cfg.watch_db;
            tokio::spawn(async move {
                let mut seen = db_stamp(&db);
                loop {
                    tokio::time::sleep(every).await;
                    let now = db_stamp(&db);
                    if now.is_some() && now != seen {
                        seen = now;
                        // A re-match job (an error is in the job; the next change queues another).
                        let _ = api::queue_rematch(&s).await;
                    }
                }
            });
        }
        ready(addr);
        let app = api::router(state);
        match tls {
            Some(tls) => {
                axum::serve(tls::TlsListener::new(listener, tls)?, app)
                    .with_graceful_shutdown(shutdown())
                    .await?
            }
            None => {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown())
                    .await?
            }
        }
        worker::stop(&workers, threads);
        Ok(())
    })
}

/// `moat serve --worker`: this process's workers only (no HTTP), until SIGINT or SIGTERM.
pub fn work(
    store: &std::path::Path,
    store_options: &store::StoreOptions,
    db: Option<PathBuf>,
    jobs: worker::JobSettings,
    event_webhooks: &[String],
    webhook_options: &webhook::WebhookOptions,
) -> Result<(), ServeError> {
    let webhooks = if event_webhooks.is_empty() {
        None
    } else {
        Some(Arc::new(webhook::Webhooks::start(
            event_webhooks,
            webhook_options,
        )?))
    };
    let workers = Arc::new(worker::Workers {
        store: Arc::new(Store::open_with(store, store_options)?),
        settings: jobs,
        db,
        stats: Arc::default(),
        stop: Arc::default(),
        metrics: None,
        webhooks,
        wake: Arc::default(),
    });
    let threads = workers.spawn();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(shutdown());
    worker::stop(&workers, threads);
    Ok(())
}

async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
