//! Workers: threads that take jobs from the store's queue ([`crate::jobs`]) and do them.
//!
//! In `moat serve` they run beside the HTTP API (`--workers N`); `moat serve --worker`
//! runs them alone against the same store. A worker renews its job's lease from a second
//! thread while the job runs (every third of the lease), so a job outlives its lease only
//! when its worker died or hung; another worker then takes it.
//!
//! A scan job pulls an image reference from its registry and scans it with the function
//! the caller gives ([`ScanFn`]: the CLI's scan settings and moat's pipeline; this crate
//! does not read flags or the environment), then stores the report as a submission is
//! stored: matched against the server's advisory database, under its labels.

use crate::jobs::{self, Taken};
use crate::rematch;
use crate::store::{Store, StoreError};
use moat_model::ScanReport;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Scans an image reference (`REGISTRY/REPO:TAG`, `...@DIGEST`); the error is a sentence.
pub type ScanFn = Arc<dyn Fn(&str) -> Result<ScanReport, String> + Send + Sync>;

/// How jobs are queued and worked.
#[derive(Clone)]
pub struct JobSettings {
    /// In-process workers (`moat serve --workers N`; 0: none, another process works).
    pub workers: usize,
    /// Jobs queued or running at most (429 beyond).
    pub max_queue: usize,
    /// How long a taken job stays a worker's without a renewal.
    pub lease: Duration,
    /// Times a job is taken before its expired lease fails it.
    pub max_attempts: u32,
    /// How often an idle worker looks for a job.
    pub poll: Duration,
    /// The scanner of image references (none: scan jobs fail, saying so).
    pub scan: Option<ScanFn>,
    /// A name for this process's workers (`HOST:PID` by default).
    pub name: String,
}

impl std::fmt::Debug for JobSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSettings")
            .field("workers", &self.workers)
            .field("max_queue", &self.max_queue)
            .field("lease", &self.lease)
            .field("max_attempts", &self.max_attempts)
            .field("poll", &self.poll)
            .field("scan", &self.scan.is_some())
            .field("name", &self.name)
            .finish()
    }
}

impl Default for JobSettings {
    fn default() -> JobSettings {
        JobSettings {
            workers: 2,
            max_queue: 1000,
            lease: Duration::from_secs(60),
            max_attempts: 3,
            poll: Duration::from_millis(500),
            scan: None,
            name: default_name(),
        }
    }
}

/// `HOST:PID`.
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() {
        "localhost".into()
    } else {
        host
    };
    format!("{host}:{}", std::process::id())
}

/// Time in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Jobs done and their durations, by kind and outcome, for `/metrics`.
#[derive(Debug, Default)]
pub struct JobStats(Mutex<BTreeMap<JobKey, (u64, f64)>>);

/// A job kind and its outcome (`done`, `failed`).
type JobKey = (String, &'static str);

impl JobStats {
    pub fn record(&self, kind: &str, ok: bool, took: Duration) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let e = m
            .entry((kind.to_string(), if ok { "done" } else { "failed" }))
            .or_default();
        e.0 += 1;
        e.1 += took.as_secs_f64();
    }

    /// The exposition lines: queue depth (gauges) and job durations (a summary).
    pub fn render(&self, depth: jobs::Depth, max_queue: usize) -> String {
        let mut o = String::new();
        let _ = write!(
            o,
            "# HELP moat_queue_jobs Jobs in the queue by state.\n# TYPE moat_queue_jobs gauge\nmoat_queue_jobs{{state=\"queued\"}} {}\nmoat_queue_jobs{{state=\"running\"}} {}\n# HELP moat_queue_capacity Jobs the queue holds at most.\n# TYPE moat_queue_capacity gauge\nmoat_queue_capacity {max_queue}\n",
            depth.queued, depth.running
        );
        o.push_str("# HELP moat_job_seconds Time spent on jobs by this process, by kind and outcome.\n# TYPE moat_job_seconds summary\n");
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for ((kind, outcome), (n, secs)) in m.iter() {
            let _ = writeln!(
                o,
                "moat_job_seconds_sum{{kind=\"{kind}\",outcome=\"{outcome}\"}} {secs}\nmoat_job_seconds_count{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        o
    }
}

/// Wakes this process's idle workers when a job is queued here (an admission request
/// waiting for its scan should not wait for the next poll as well). Workers of other
/// processes still find the job at their next poll.
#[derive(Debug, Default)]
pub struct Wake {
    queued: Mutex<u64>,
    cv: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        let mut n = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.wrapping_add(1);
        self.cv.notify_all();
    }

    fn count(&self) -> u64 {
        *self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits up to `timeout` for a notification after `seen`.
    fn wait(&self, seen: u64, timeout: Duration) {
        let g = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self.cv.wait_timeout_while(g, timeout, |n| *n == seen);
    }
}

/// What every worker of a process shares.
pub struct Workers {
    pub store: Arc<Store>,
    pub settings: JobSettings,
    /// The advisory database scans are matched against and re-matches use.
    pub db: Option<PathBuf>,
    pub stats: Arc<JobStats>,
    /// Set: the workers stop after their current job.
    pub stop: Arc<AtomicBool>,
    /// The HTTP side's counters (re-matches and their events), when in the same process.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Where each re-match's events are POSTed (`--event-webhook`).
    pub webhooks: Option<Arc<crate::webhook::Webhooks>>,
    /// Rung when this process queues a job.
    pub wake: Arc<Wake>,
}

impl Workers {
    /// Starts `settings.workers` threads.
    pub fn spawn(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        (0..self.settings.workers)
            .map(|i| {
                let w = self.clone();
                std::thread::Builder::new()
                    .name(format!("moat-worker-{i}"))
                    .spawn(move || w.run(&format!("{}/{i}", w.settings.name)))
            })
            .filter_map(Result::ok)
            .collect()
    }

    /// One worker's loop until `stop`.
    fn run(&self, name: &str) {
        while !self.stop.load(Ordering::Relaxed) {
            let seen = self.wake.count();
            match self.once(name) {
                Ok(true) => {}
                // Idle, or the store failed (it is retried at the next poll), unless a job
                // is queued by this process meanwhile.
                Ok(false) | Err(_) => {
                    let until = Instant::now() + self.settings.poll;
                    while Instant::now() < until
                        && !self.stop.load(Ordering::Relaxed)
                        && self.wake.count() == seen
                    {
                        let left = until.saturating_duration_since(Instant::now());
                        self.wake.wait(seen, Duration::from_millis(50).min(left));
                    }
                }
            }
        }
    }

    /// Takes one job and does it; false when there was none.
    pub fn once(&self, name: &str) -> Result<bool, StoreError> {
        let lease = self.settings.lease.as_millis().min(i64::MAX as u128) as i64;
        let Some(job) = self.store.take_job(name, lease.max(1), now_ms())? else {
            return Ok(false);
        };
        let start = Instant::now();
        let done = Arc::new(AtomicBool::new(false));
        let renewer = {
            let (store, done, name) = (self.store.clone(), done.clone(), name.to_string());
            let every = (self.settings.lease / 3).max(Duration::from_millis(10));
            let id = job.id;
            std::thread::spawn(move || {
                let mut last = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20).min(every));
                    if last.elapsed() >= every {
                        last = Instant::now();
                        // A lost lease: the job runs elsewhere too; its finish is refused.
                        if let Ok(false) = store.renew_lease(id, &name, now_ms() + lease) {
                            return;
                        }
                    }
                }
            })
        };
        let outcome = self.work(&job);
        done.store(true, Ordering::Relaxed);
        let _ = renewer.join();
        self.stats
            .record(&job.kind, outcome.is_ok(), start.elapsed());
        self.store.finish_job(job.id, name, &outcome, now_ms())?;
        Ok(true)
    }

    fn work(&self, job: &Taken) -> Result<Value, String> {
        match job.kind.as_str() {
            jobs::SCAN => self.scan(&job.payload),
            jobs::REMATCH => {
                let db = self
                    .db
                    .as_ref()
                    .ok_or("this worker has no advisory database (--db)")?;
                let s = rematch::rematch_all(&self.store, db, now_ms() / 1000)
                    .map_err(|e| e.to_string())?;
                if let Some(m) = &self.metrics {
                    m.rematched(&s);
                }
                let count = |k: &str| s.events.iter().filter(|e| e.kind == k).count();
                tracing::info!(
                    target: "moat::rematch",
                    images = s.images,
                    events = s.events.len(),
                    new = count("new"),
                    fixed_upstream = count("fixed_upstream"),
                    gone = count("gone"),
                    seconds = s.seconds,
                    "re-match"
                );
                if let Some(w) = &self.webhooks {
                    w.enqueue(&s.events);
                }
                Ok(json!({
                    "images": s.images,
                    "events": s.events.len(),
                    "seconds": s.seconds,
                }))
            }
            k => Err(format!("unknown job kind {k:?}")),
        }
    }

    fn scan(&self, payload: &Value) -> Result<Value, String> {
        let reference = payload["ref"].as_str().ok_or("the job names no ref")?;
        let labels: BTreeMap<String, String> =
            serde_json::from_value(payload["labels"].clone()).unwrap_or_default();
        let scan = self
            .settings
            .scan
            .as_ref()
            .ok_or("this worker cannot scan image references")?;
        let report = scan(reference)?;
        let db = match &self.db {
            Some(p) => Some(
                moat_vuln::db::Database::open_read_only(p)
                    .map_err(|e| format!("the advisory database: {e}"))?,
            ),
            None => None,
        };
        let (report, matched) = rematch::with_server_match_pkgs(report, db.as_ref());
        let id = self
            .store
            .put_report_matched(&report, &labels, now_ms() / 1000, matched.as_ref())
            .map_err(|e| e.to_string())?;
        Ok(json!({
            "image_id": id,
            "name": report.inventory.artifact.name,
            "digest": report.inventory.artifact.digest(),
        }))
    }
}

/// Tells the workers to stop and waits for their current jobs.
pub fn stop(workers: &Workers, threads: Vec<JoinHandle<()>>) {
    workers.stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
}
