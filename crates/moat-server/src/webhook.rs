//! Per-event webhooks: each finding event a re-match records (`new`, `fixed_upstream`,
//! `gone`, as `/api/v1/events` has them) is POSTed as JSON to every `--event-webhook` URL.
//!
//! One delivery thread per URL with its own bounded queue: enqueueing never blocks (a full
//! queue drops the event and counts it), so a slow or dead receiver never holds up a
//! re-match. A delivery is retried with exponential backoff on a 5xx answer, a 429, a timeout
//! or a connection error; any other answer but 2xx fails it at once. Delivered, retried,
//! failed and dropped events are counted in `/metrics`.

use crate::store::Event;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Events waiting per URL at most (beyond: dropped).
    pub queue: usize,
    /// Tries per event (the first and the retries).
    pub attempts: u32,
    /// The first retry's wait; doubled each time (at most 60 s).
    pub backoff: Duration,
    /// One POST's time budget.
    pub timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> WebhookOptions {
        WebhookOptions {
            queue: 10_000,
            attempts: 5,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    retries: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

struct Target {
    url: String,
    tx: SyncSender<Arc<Event>>,
    counters: Arc<Counters>,
}

/// The webhook targets and their delivery threads (which end when this is dropped and their
/// queues are drained).
pub struct Webhooks {
    targets: Vec<Target>,
}

#[derive(Debug, thiserror::Error)]
#[error("--event-webhook {url}: not an http(s) URL")]
pub struct WebhookError {
    pub url: String,
}

impl Webhooks {
    pub fn start(urls: &[String], opts: &WebhookOptions) -> Result<Webhooks, WebhookError> {
        let mut targets = Vec::new();
        for url in urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(WebhookError { url: url.clone() });
            }
            let (tx, rx) = sync_channel(opts.queue.max(1));
            let counters = Arc::new(Counters::default());
            let (u, c, o) = (url.clone(), counters.clone(), opts.clone());
            std::thread::Builder::new()
                .name("moat-webhook".into())
                .spawn(move || deliver_all(&u, &rx, &c, &o))
                .map_err(|_| WebhookError { url: url.clone() })?;
            targets.push(Target {
                url: url.clone(),
                tx,
                counters,
            });
        }
        Ok(Webhooks { targets })
    }

    /// Queues events for every target; never blocks.
    pub fn enqueue(&self, events: &[Event]) {
        for e in events {
            let e = Arc::new(e.clone());
            for t in &self.targets {
                match t.tx.try_send(e.clone()) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                        t.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        if !events.is_empty() && !self.targets.is_empty() {
            tracing::debug!(events = events.len(), "webhook events queued");
        }
    }

    /// The counters in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut o = String::new();
        for (name, help, get) in [
            (
                "moat_webhook_delivered_total",
                "Events delivered to a webhook (2xx).",
                (|c: &Counters| c.delivered.load(Ordering::Relaxed)) as fn(&Counters) -> u64,
            ),
            (
                "moat_webhook_retries_total",
                "Webhook deliveries tried again (5xx, 429, timeout, connection error).",
                |c| c.retries.load(Ordering::Relaxed),
            ),
            (
                "moat_webhook_failed_total",
                "Events given up on after their last try or a 4xx answer.",
                |c| c.failed.load(Ordering::Relaxed),
            ),
            (
                "moat_webhook_dropped_total",
                "Events dropped because a webhook's queue was full.",
                |c| c.dropped.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
            for t in &self.targets {
                let url = t.url.replace('\\', "\\\\").replace('"', "\\\"");
                let _ = writeln!(o, "{name}{{url=\"{url}\"}} {}", get(&t.counters));
            }
        }
        o
    }
}

/// What one POST came to.
enum Outcome {
    Done,
    Retry(String),
    Fail(String),
}

fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Outcome {
    match agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body)
    {
        Ok(r) => {
            let code = r.status().as_u16();
            if (200..300).contains(&code) {
                Outcome::Done
            } else if code >= 500 || code == 429 || code == 408 {
                Outcome::Retry(format!("HTTP {code}"))
            } else {
                Outcome::Fail(format!("HTTP {code}"))
            }
        }
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

fn deliver_all(url: &str, rx: &Receiver<Arc<Event>>, c: &Counters, o: &WebhookOptions) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(o.timeout))
        .max_redirects(0)
        .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    while let Ok(event) = rx.recv() {
        let body = match serde_json::to_vec(&*event) {
            Ok(b) => b,
            Err(_) => {
                c.failed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        let mut wait = o.backoff;
        let mut attempt = 1;
        loop {
            match post(&agent, url, &body) {
                Outcome::Done => {
                    c.delivered.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Outcome::Retry(why) if attempt < o.attempts.max(1) => {
                    c.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(url, seq = event.seq, attempt, error = %why, "webhook retry");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(60));
                    attempt += 1;
                }
                Outcome::Retry(why) | Outcome::Fail(why) => {
                    c.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(url, seq = event.seq, attempt, error = %why, "webhook delivery failed");
                    break;
                }
            }
        }
    }
}
