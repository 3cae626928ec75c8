//! Where alerts go: stdout or any writer (synchronous), a file (appended, one alert per
//! line) and an HTTP endpoint (each alert POSTed as Falco's JSON, like Falco's
//! `http_output`). A per-rule token bucket limits how many alerts a rule may emit, and each
//! slow sink (file, HTTP) runs on its own thread behind a bounded queue: when the queue is
//! full the alert is dropped for that sink and counted. [`Dispatcher::finish`] returns every
//! count (rate limited, queue full, sink errors) so the caller can report them.

use crate::engine::Engine;
use crate::eval::FieldCache;
use crate::field::FieldSource;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One alert, as Falco's JSON alert has it. What all alerts of a rule share (its name,
/// source, tags) and the host name are shared, not copied per alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// RFC 3339 with nanoseconds, UTC.
    pub time: String,
    pub rule: Arc<str>,
    /// Falco's spelling (`Warning`, `Critical`, ...).
    pub priority: &'static str,
    /// The rule's output rendered on the event (without the time and priority prefix).
    pub output: String,
    /// The output's fields and their values (`None`: no value), in output order.
    pub output_fields: Vec<(Arc<str>, Option<String>)>,
    pub source: Arc<str>,
    pub tags: Arc<[String]>,
    pub hostname: Arc<str>,
}

impl Alert {
    /// The alert of `rule` (an index into the engine's rules) on `ev`, which happened at
    /// `time_ns` (nanoseconds since the Unix epoch).
    pub fn of_rule<S: FieldSource>(
        engine: &Engine<S>,
        rule: usize,
        ev: &S::Event,
        time_ns: i64,
        hostname: &Arc<str>,
    ) -> Alert {
        Self::of_rule_with(engine, rule, ev, time_ns, hostname, true)
    }

    /// [`Alert::of_rule`]; without `with_fields` the alert's `output_fields` stay empty
    /// (for outputs that print only the text line).
    pub fn of_rule_with<S: FieldSource>(
        engine: &Engine<S>,
        rule: usize,
        ev: &S::Event,
        time_ns: i64,
        hostname: &Arc<str>,
        with_fields: bool,
    ) -> Alert {
        Self::of_rule_cached(
            engine,
            rule,
            ev,
            time_ns,
            hostname,
            with_fields,
            &mut engine.cache(),
        )
    }

    /// [`Alert::of_rule_with`], the output's fields read through the event's `cache` (the
    /// one [`Engine::process_cached`] filled).
    pub fn of_rule_cached<'e, S: FieldSource>(
        engine: &'e Engine<S>,
        rule: usize,
        ev: &'e S::Event,
        time_ns: i64,
        hostname: &Arc<str>,
        with_fields: bool,
        cache: &mut FieldCache<'e>,
    ) -> Alert {
        let m = engine.alert_meta(rule);
        let (output, output_fields) = engine.render_cached(rule, ev, with_fields, cache);
        Alert {
            time: rfc3339_nanos(time_ns),
            rule: Arc::clone(&m.rule),
            priority: m.priority,
            output,
            output_fields,
            source: Arc::clone(&m.source),
            tags: Arc::clone(&m.tags),
            hostname: Arc::clone(hostname),
        }
    }

    /// Falco's JSON alert.
    pub fn to_json(&self) -> serde_json::Value {
        let mut of = serde_json::Map::new();
        for (k, v) in &self.output_fields {
            of.insert(
                k.to_string(),
                v.clone()
                    .map_or(serde_json::Value::Null, serde_json::Value::String),
            );
        }
        serde_json::json!({
            "hostname": &*self.hostname,
            "output": format!("{}: {} {}", self.time, self.priority, self.output),
            "priority": self.priority,
            "rule": &*self.rule,
            "source": &*self.source,
            "tags": &*self.tags,
            "time": self.time,
            "output_fields": of,
        })
    }

    /// Falco's text line, `<time>: <Priority> <output>`, the output passed through `escape`.
    pub fn text_line(&self, escape: Escape) -> String {
        format!("{}: {} {}", self.time, self.priority, escape(&self.output))
    }
}

/// `time_ns` (nanoseconds since the Unix epoch, UTC) as RFC 3339 with nine fractional
/// digits (`2024-01-02T03:04:05.000000006Z`), as jiff prints a timestamp with `{:.9}`.
pub fn rfc3339_nanos(time_ns: i64) -> String {
    let secs = time_ns.div_euclid(1_000_000_000);
    let nanos = time_ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Days since 1970-01-01 to a proleptic Gregorian date (eras of 400 years).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut b = *b"0000-00-00T00:00:00.000000000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, sod / 3600);
    put(14, 2, sod / 60 % 60);
    put(17, 2, sod % 60);
    put(20, 9, nanos);
    String::from_utf8_lossy(&b).into_owned()
}

/// How text lines make alert text safe to print (the CLI passes its terminal escape).
pub type Escape = fn(&str) -> Cow<'_, str>;

/// No escaping.
pub fn no_escape(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}

/// The line format of a writer or file sink.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    Text(Escape),
    Json,
}

impl Format {
    fn line(&self, a: &Alert) -> String {
        match self {
            Format::Text(esc) => a.text_line(*esc),
            Format::Json => a.to_json().to_string(),
        }
    }
}

/// A sink failed to take an alert.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("cannot open output file {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("POST {url}: {message}")]
    Http { url: String, message: String },
    #[error("invalid --http-output URL '{0}': only http:// and https:// URLs")]
    BadUrl(String),
    #[error("invalid rate limit: {0}")]
    BadRate(String),
}

/// Somewhere alerts go.
pub trait Sink: Send {
    /// A short name for summaries (`stdout`, `file /var/log/x`, `http http://...`).
    fn name(&self) -> String;
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError>;
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Alerts written as lines to a writer (stdout).
pub struct WriterSink<W: Write + Send> {
    name: String,
    out: W,
    format: Format,
}

impl<W: Write + Send> WriterSink<W> {
    pub fn new(name: &str, out: W, format: Format) -> Self {
        WriterSink {
            name: name.to_string(),
            out,
            format,
        }
    }
}

impl<W: Write + Send> Sink for WriterSink<W> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError> {
        match self.format {
            // Straight into the (buffered) writer: no line built first.
            Format::Text(esc) => {
                let out = &mut self.out;
                out.write_all(alert.time.as_bytes())?;
                out.write_all(b": ")?;
                out.write_all(alert.priority.as_bytes())?;
                out.write_all(b" ")?;
                out.write_all(esc(&alert.output).as_bytes())?;
                out.write_all(b"\n")?;
            }
            Format::Json => {
                let mut line = self.format.line(alert);
                line.push('\n');
                self.out.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        self.out.flush()?;
        Ok(())
    }
}

/// Alerts appended to a file, one per line, each line written whole and flushed.
pub struct FileSink {
    path: PathBuf,
    file: std::fs::File,
    format: Format,
}

impl FileSink {
    /// Opens (creates) `path` for appending.
    pub fn open(path: &Path, format: Format) -> Result<FileSink, SinkError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| SinkError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(FileSink {
            path: path.to_path_buf(),
            file,
            format,
        })
    }
}

impl Sink for FileSink {
    fn name(&self) -> String {
        format!("file {}", self.path.display())
    }
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError> {
        let mut line = self.format.line(alert);
        line.push('\n');
        // One write per alert: with O_APPEND, lines of several writers do not interleave.
        self.file.write_all(line.as_bytes())?;
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        self.file.flush()?;
        Ok(())
    }
}

/// Each alert POSTed as Falco's JSON (`Content-Type: application/json`); a status other
/// than 2xx, a refused connection or a timeout is an error.
pub struct HttpSink {
    url: String,
    agent: ureq::Agent,
}

impl HttpSink {
    /// A sink POSTing to `url` with `timeout` for the whole request.
    pub fn new(url: &str, timeout: Duration) -> Result<HttpSink, SinkError> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| SinkError::BadUrl(url.to_string()))?;
        let host = rest.split(['/', '?']).next().unwrap_or(rest);
        if host.is_empty() {
            return Err(SinkError::BadUrl(url.to_string()));
        }
        let mut cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")));
        let h = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if matches!(h, "localhost" | "127.0.0.1" | "[::1]") || h.starts_with("127.") {
            cfg = cfg.proxy(None);
        }
        Ok(HttpSink {
            url: url.to_string(),
            agent: cfg.build().into(),
        })
    }
}

impl Sink for HttpSink {
    fn name(&self) -> String {
        format!("http {}", self.url)
    }
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError> {
        let body = alert.to_json().to_string();
        let err = |message: String| SinkError::Http {
            url: self.url.clone(),
            message,
        };
        let resp = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .map_err(|e| err(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(err(format!("status {}", status.as_u16())));
        }
        Ok(())
    }
}

/// The time, in nanoseconds from any fixed origin; tests inject their own.
pub trait Clock: Send {
    fn now_ns(&self) -> u64;
}

/// The monotonic clock.
pub struct MonotonicClock(Instant);

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock(Instant::now())
    }
}

impl Clock for MonotonicClock {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// A token bucket per rule: each rule may emit `max_burst` alerts at once, and regains
/// `rate` alerts per second up to that. Integer arithmetic (nano-tokens), so the counts are
/// exact for a given sequence of times.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    /// Nano-tokens regained per nanosecond (= alerts per second).
    rate: f64,
    capacity: u128,
    buckets: HashMap<String, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: u128,
    last_ns: u64,
}

const TOKEN: u128 = 1_000_000_000;

impl RateLimiter {
    /// `rate` alerts per second (> 0), bursts of `max_burst` (>= 1).
    pub fn new(rate: f64, max_burst: u32) -> Result<RateLimiter, SinkError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(SinkError::BadRate(format!(
                "--rate must be a positive number of alerts per second, not {rate}"
            )));
        }
        if max_burst == 0 {
            return Err(SinkError::BadRate("--max-burst must be at least 1".into()));
        }
        Ok(RateLimiter {
            rate,
            capacity: u128::from(max_burst) * TOKEN,
            buckets: HashMap::new(),
        })
    }

    /// Whether `rule` may emit an alert at `now_ns` (taking a token when it may).
    pub fn allow(&mut self, rule: &str, now_ns: u64) -> bool {
        let cap = self.capacity;
        let b = match self.buckets.get_mut(rule) {
            Some(b) => b,
            None => self.buckets.entry(rule.to_string()).or_insert(Bucket {
                tokens: cap,
                last_ns: now_ns,
            }),
        };
        let elapsed = now_ns.saturating_sub(b.last_ns);
        // f64 to u128 saturates; elapsed * rate nano-tokens were regained.
        let regained = (elapsed as f64 * self.rate) as u128;
        b.tokens = b.tokens.saturating_add(regained).min(cap);
        b.last_ns = b.last_ns.max(now_ns);
        if b.tokens >= TOKEN {
            b.tokens -= TOKEN;
            true
        } else {
            false
        }
    }
}

/// What one sink did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkStats {
    pub name: String,
    pub delivered: u64,
    /// Dropped because the sink's queue was full.
    pub queue_full: u64,
    /// Alerts the sink failed to deliver.
    pub errors: u64,
    /// The first error message, if any.
    pub first_error: Option<String>,
}

/// What the dispatcher did: alerts emitted and dropped, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Alerts the rules produced.
    pub alerts: u64,
    /// Alerts the rate limit dropped, per rule.
    pub rate_limited: BTreeMap<String, u64>,
    pub sinks: Vec<SinkStats>,
}

impl Stats {
    pub fn rate_limited_total(&self) -> u64 {
        self.rate_limited.values().sum()
    }
    /// Every alert not delivered to some sink (one alert may count for several sinks).
    pub fn dropped_total(&self) -> u64 {
        self.rate_limited_total()
            + self
                .sinks
                .iter()
                .map(|s| s.queue_full + s.errors)
                .sum::<u64>()
    }
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "alerts": self.alerts,
            "rate_limited": self.rate_limited_total(),
            "rate_limited_by_rule": self.rate_limited,
            "sinks": self.sinks.iter().map(|s| serde_json::json!({
                "name": s.name,
                "delivered": s.delivered,
                "dropped_queue_full": s.queue_full,
                "errors": s.errors,
                "first_error": s.first_error,
            })).collect::<Vec<_>>(),
        })
    }
}

struct Queued {
    name: String,
    tx: Option<SyncSender<Arc<Alert>>>,
    queue_full: u64,
    worker: Option<JoinHandle<SinkStats>>,
}

struct Direct {
    sink: Box<dyn Sink>,
    stats: SinkStats,
}

/// Sends each alert through the rate limit to every sink: direct sinks in the caller's
/// thread (their errors are returned: stdout's broken pipe ends the run), queued sinks
/// through their bounded queues.
pub struct Dispatcher {
    limiter: Option<RateLimiter>,
    clock: Box<dyn Clock>,
    direct: Vec<Direct>,
    queued: Vec<Queued>,
    stats: Stats,
}

impl Dispatcher {
    pub fn new(limiter: Option<RateLimiter>, clock: Box<dyn Clock>) -> Dispatcher {
        Dispatcher {
            limiter,
            clock,
            direct: Vec::new(),
            queued: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// A sink written in the caller's thread (stdout: the pipe's back-pressure applies).
    pub fn add_direct(&mut self, sink: Box<dyn Sink>) {
        let name = sink.name();
        self.direct.push(Direct {
            sink,
            stats: SinkStats {
                name,
                ..SinkStats::default()
            },
        });
    }

    /// A sink on its own thread behind a queue of `capacity` alerts (at least 1).
    pub fn add_queued(&mut self, mut sink: Box<dyn Sink>, capacity: usize) {
        let name = sink.name();
        let (tx, rx): (SyncSender<Arc<Alert>>, Receiver<Arc<Alert>>) =
            sync_channel(capacity.max(1));
        let wname = name.clone();
        let worker = std::thread::spawn(move || {
            let mut st = SinkStats {
                name: wname,
                ..SinkStats::default()
            };
            let fail = |st: &mut SinkStats, e: SinkError| {
                st.errors += 1;
                if st.first_error.is_none() {
                    st.first_error = Some(e.to_string());
                }
            };
            while let Ok(a) = rx.recv() {
                match sink.send(&a) {
                    Ok(()) => st.delivered += 1,
                    Err(e) => fail(&mut st, e),
                }
            }
            if let Err(e) = sink.flush()
                && st.first_error.is_none()
            {
                st.first_error = Some(e.to_string());
            }
            st
        });
        self.queued.push(Queued {
            name,
            tx: Some(tx),
            queue_full: 0,
            worker: Some(worker),
        });
    }

    /// Sends one alert, the rate limit reading the dispatcher's clock. `Err` only for a
    /// direct sink's error (the alert still went to the queued sinks); the caller decides
    /// whether that ends the run.
    pub fn dispatch(&mut self, alert: Alert) -> Result<(), SinkError> {
        let now = self.clock.now_ns();
        self.dispatch_at(alert, now)
    }

    /// [`Dispatcher::dispatch`] of an alert whose event happened at `time_ns` (from any
    /// fixed origin): the rate limit reads that time, not the clock, so a replayed log or
    /// capture keeps and drops the same alerts whatever the speed it is read at.
    pub fn dispatch_at(&mut self, alert: Alert, time_ns: u64) -> Result<(), SinkError> {
        self.stats.alerts += 1;
        if let Some(l) = &mut self.limiter
            && !l.allow(&alert.rule, time_ns)
        {
            match self.stats.rate_limited.get_mut(&*alert.rule) {
                Some(n) => *n += 1,
                None => {
                    self.stats.rate_limited.insert(alert.rule.to_string(), 1);
                }
            }
            return Ok(());
        }
        if !self.queued.is_empty() {
            let alert = Arc::new(alert);
            for q in &mut self.queued {
                if let Some(tx) = &q.tx {
                    match tx.try_send(Arc::clone(&alert)) {
                        Ok(()) => {}
                        Err(TrySendError::Full(_)) => q.queue_full += 1,
                        Err(TrySendError::Disconnected(_)) => q.queue_full += 1,
                    }
                }
            }
            return self.send_direct(&alert);
        }
        self.send_direct(&alert)
    }

    fn send_direct(&mut self, alert: &Alert) -> Result<(), SinkError> {
        let mut first_err = None;
        for d in &mut self.direct {
            match d.sink.send(alert) {
                Ok(()) => d.stats.delivered += 1,
                Err(e) => {
                    d.stats.errors += 1;
                    if d.stats.first_error.is_none() {
                        d.stats.first_error = Some(e.to_string());
                    }
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Flushes the direct sinks (stdout) so that alerts of a live stream are seen as they
    /// happen, not when a buffer fills.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        for d in &mut self.direct {
            d.sink.flush()?;
        }
        Ok(())
    }

    /// The counts so far (queued sinks' deliveries are known only after [`Self::finish`]).
    pub fn alerts(&self) -> u64 {
        self.stats.alerts
    }

    /// Flushes the direct sinks, closes the queues, waits for the queued sinks to deliver
    /// what they hold, and returns every count.
    pub fn finish(mut self) -> (Stats, Option<SinkError>) {
        let mut err = None;
        for d in &mut self.direct {
            if let Err(e) = d.sink.flush() {
                err.get_or_insert(e);
            }
        }
        let mut sinks: Vec<SinkStats> = self.direct.drain(..).map(|d| d.stats).collect();
        for mut q in self.queued.drain(..) {
            q.tx = None;
            let mut st = match q.worker.take().map(JoinHandle::join) {
                Some(Ok(st)) => st,
                _ => SinkStats {
                    name: q.name.clone(),
                    first_error: Some("the sink's thread panicked".into()),
                    ..SinkStats::default()
                },
            };
            st.queue_full = q.queue_full;
            sinks.push(st);
        }
        self.stats.sinks = sinks;
        (self.stats, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read};

    #[test]
    fn rfc3339_nanos_is_jiffs_format() {
        let jiff = |ns: i64| {
            let t = jiff::Timestamp::from_nanosecond(i128::from(ns)).unwrap();
            format!("{t:.9}")
        };
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339_nanos(1_704_164_645_000_000_006),
            "2024-01-02T03:04:05.000000006Z"
        );
        let mut cases = vec![i64::MIN, i64::MAX, -1, 1, 951_782_400_000_000_000];
        // Every day boundary of some years around leap days and centuries, and odd times.
        let mut x: i64 = 0x9e37_79b9_7f4a_7c15_u64 as i64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(x);
            let day = (x % 100_000) * 86_400_000_000_000;
            cases.extend([day, day - 1, day + 1]);
        }
        for ns in cases {
            assert_eq!(rfc3339_nanos(ns), jiff(ns), "{ns}");
        }
    }
    use std::net::TcpListener;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn alert(rule: &str, n: u32) -> Alert {
        Alert {
            time: "2024-05-01T10:00:00.123456000Z".into(),
            rule: rule.into(),
            priority: "Warning",
            output: format!("alert {n} \x1b[31m"),
            output_fields: vec![
                ("ka.user.name".into(), Some("alice".into())),
                ("ka.resp.name".into(), None),
            ],
            source: "k8s_audit".into(),
            tags: vec!["k8s".to_string()].into(),
            hostname: "h1".into(),
        }
    }

    struct FakeClock(Arc<AtomicU64>);
    impl Clock for FakeClock {
        fn now_ns(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_and_text_shapes() {
        let a = alert("R", 1);
        let j = a.to_json();
        assert_eq!(
            j["output"],
            "2024-05-01T10:00:00.123456000Z: Warning alert 1 \x1b[31m"
        );
        assert_eq!(j["output_fields"]["ka.user.name"], "alice");
        assert!(j["output_fields"]["ka.resp.name"].is_null());
        assert_eq!(j["tags"][0], "k8s");
        fn esc(s: &str) -> Cow<'_, str> {
            Cow::Owned(s.replace('\x1b', "\\x1b"))
        }
        assert_eq!(
            a.text_line(esc),
            "2024-05-01T10:00:00.123456000Z: Warning alert 1 \\x1b[31m"
        );
    }

    #[test]
    fn rate_limit_counts_are_exact() {
        // 2 alerts per second, bursts of 3.
        let mut l = RateLimiter::new(2.0, 3).unwrap();
        let s = 1_000_000_000u64;
        let seq: Vec<bool> = [0, 0, 0, 0, s / 4, s / 2, s / 2, 2 * s, 2 * s, 2 * s, 2 * s]
            .iter()
            .map(|&t| l.allow("A", t))
            .collect();
        // 3 at once; 0.25 s regains half a token; at 0.5 s one token; at 2 s, 3 (capped).
        assert_eq!(
            seq,
            [
                true, true, true, false, false, true, false, true, true, true, false
            ]
        );
        // Another rule has its own bucket.
        assert!(l.allow("B", 2 * s));
        assert!(RateLimiter::new(0.0, 1).is_err());
        assert!(RateLimiter::new(1.0, 0).is_err());
        assert!(RateLimiter::new(f64::NAN, 1).is_err());

        let now = Arc::new(AtomicU64::new(0));
        let mut d = Dispatcher::new(
            Some(RateLimiter::new(1.0, 2).unwrap()),
            Box::new(FakeClock(Arc::clone(&now))),
        );
        let out = Shared::default();
        d.add_direct(Box::new(WriterSink::new(
            "stdout",
            out.clone(),
            Format::Json,
        )));
        for i in 0..5 {
            d.dispatch(alert("A", i)).unwrap();
            d.dispatch(alert("B", i)).unwrap();
        }
        now.store(3 * s, Ordering::SeqCst);
        for i in 5..10 {
            d.dispatch(alert("A", i)).unwrap();
        }
        let (st, err) = d.finish();
        assert!(err.is_none());
        assert_eq!(st.alerts, 15);
        assert_eq!(
            st.rate_limited,
            BTreeMap::from([("A".to_string(), 6), ("B".to_string(), 3)])
        );
        assert_eq!(st.sinks[0].delivered, 6);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let outs: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!("{} {}", v["rule"].as_str().unwrap(), v["output"])
            })
            .collect();
        assert_eq!(outs.len(), 6);
        assert!(outs[0].starts_with("A ") && outs[0].contains("alert 0"));
        assert!(outs[4].starts_with("A ") && outs[4].contains("alert 5"));
        assert!(outs[5].contains("alert 6"));
    }

    /// Reads one HTTP request (headers and Content-Length body).
    fn read_request(r: &mut BufReader<std::net::TcpStream>) -> Option<(String, String)> {
        let mut head = String::new();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            head.push_str(&line);
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).ok()?;
        Some((head, String::from_utf8(body).unwrap()))
    }

    /// A receiver answering 200 to every request, sending (headers, body) to `tx`; before
    /// its first answer it waits for `gate` when one is given.
    fn receiver(
        tx: std::sync::mpsc::Sender<(String, String)>,
        gate: Option<std::sync::mpsc::Receiver<()>>,
    ) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/alerts", l.local_addr().unwrap());
        std::thread::spawn(move || {
            let mut gate = gate;
            for conn in l.incoming() {
                let Ok(conn) = conn else { return };
                let mut w = conn.try_clone().unwrap();
                let mut r = BufReader::new(conn);
                while let Some(req) = read_request(&mut r) {
                    if tx.send(req).is_err() {
                        return;
                    }
                    if let Some(g) = gate.take() {
                        let _ = g.recv();
                    }
                    let _ = w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                }
            }
        });
        url
    }

    #[test]
    fn http_sink_posts_falco_json() {
        let (tx, rx) = std::sync::mpsc::channel();
        let url = receiver(tx, None);
        let mut d = Dispatcher::new(None, Box::new(MonotonicClock::default()));
        d.add_queued(
            Box::new(HttpSink::new(&url, Duration::from_secs(10)).unwrap()),
            16,
        );
        for i in 0..3 {
            d.dispatch(alert("R", i)).unwrap();
        }
        let (st, _) = d.finish();
        assert_eq!(st.sinks[0].delivered, 3, "{:?}", st.sinks[0]);
        assert_eq!(st.sinks[0].errors, 0);
        for i in 0..3 {
            let (head, body) = rx.recv().unwrap();
            assert!(head.starts_with("POST /alerts HTTP/1.1\r\n"), "{head}");
            assert!(
                head.to_ascii_lowercase()
                    .contains("content-type: application/json"),
                "{head}"
            );
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v, alert("R", i).to_json());
            assert_eq!(v["rule"], "R");
            assert_eq!(v["output_fields"]["ka.user.name"], "alice");
        }
    }

    #[test]
    fn stalled_receiver_fills_the_queue_and_drops_are_counted() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (gate_tx, gate_rx) = std::sync::mpsc::channel();
        let url = receiver(tx, Some(gate_rx));
        let mut d = Dispatcher::new(None, Box::new(MonotonicClock::default()));
        d.add_queued(
            Box::new(HttpSink::new(&url, Duration::from_secs(30)).unwrap()),
            2,
        );
        d.dispatch(alert("R", 0)).unwrap();
        // The sink's thread is now inside its first POST, which the receiver holds.
        let (_, first) = rx.recv().unwrap();
        assert!(first.contains("alert 0"));
        for i in 1..10 {
            d.dispatch(alert("R", i)).unwrap();
        }
        gate_tx.send(()).unwrap();
        let (st, _) = d.finish();
        let s = &st.sinks[0];
        assert_eq!((s.delivered, s.queue_full, s.errors), (3, 7, 0), "{s:?}");
        assert_eq!(st.dropped_total(), 7);
        let got: Vec<String> = (0..2).map(|_| rx.recv().unwrap().1).collect();
        assert!(got[0].contains("alert 1") && got[1].contains("alert 2"));
        let j = st.to_json();
        assert_eq!(j["sinks"][0]["dropped_queue_full"], 7);
    }

    #[test]
    fn sink_errors_are_counted() {
        // A port nobody listens on: bind, take the port, close.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut d = Dispatcher::new(None, Box::new(MonotonicClock::default()));
        d.add_queued(
            Box::new(
                HttpSink::new(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(5))
                    .unwrap(),
            ),
            8,
        );
        d.dispatch(alert("R", 0)).unwrap();
        d.dispatch(alert("R", 1)).unwrap();
        let (st, _) = d.finish();
        assert_eq!((st.sinks[0].delivered, st.sinks[0].errors), (0, 2));
        assert!(
            st.sinks[0]
                .first_error
                .as_deref()
                .unwrap()
                .contains(&format!("POST http://127.0.0.1:{port}/")),
            "{:?}",
            st.sinks[0]
        );
        assert!(HttpSink::new("ftp://x/", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn file_sink_appends_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("alerts.jsonl");
        std::fs::write(&p, "old\n").unwrap();
        let mut d = Dispatcher::new(None, Box::new(MonotonicClock::default()));
        d.add_queued(Box::new(FileSink::open(&p, Format::Json).unwrap()), 64);
        d.dispatch(alert("R", 0)).unwrap();
        d.dispatch(alert("S", 1)).unwrap();
        let (st, _) = d.finish();
        assert_eq!(st.sinks[0].delivered, 2);
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "old");
        let v: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(v["rule"], "S");
        let e = FileSink::open(&dir.path().join("no/such/dir/x"), Format::Json)
            .err()
            .unwrap();
        assert!(e.to_string().contains("no/such/dir/x"), "{e}");
    }
}
