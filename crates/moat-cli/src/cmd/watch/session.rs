//! One `moat watch` run: each event through the engine, its alerts through the rate limit
//! to the outputs (stdout, --output-file, --http-output), the closing summary; and the
//! `--listen` loop (the audit webhook) with its shutdown on SIGINT/SIGTERM or --max-events.

use super::{WatchArgs, WatchFormat};
use crate::output::escape;
use moat_runtime::eval::FieldCache;
use moat_runtime::field::{FieldArg, FieldSource};
use moat_runtime::join::{ImageReport, join};
use moat_runtime::k8s::{AuditEvent, K8sAudit};
use moat_runtime::listen::{ListenOptions, Server};
use moat_runtime::output::render_value;
use moat_runtime::sink::{
    Alert, Dispatcher, FileSink, Format, HttpSink, MonotonicClock, RateLimiter, SinkError,
    WriterSink,
};
use moat_runtime::{Engine, Priority};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

pub(super) struct Run<S: FieldSource> {
    engine: Engine<S>,
    host: Arc<str>,
    /// Whether the alerts need their output fields (a JSON output, or an HTTP one); a
    /// text line shows only the output text.
    with_fields: bool,
    disp: Dispatcher,
    /// Alerts per rule (by the rule's index).
    by_rule: Vec<u64>,
    pub events: u64,
    pub skipped: u64,
    /// The input could not be read to its end (exit 2).
    pub failed: bool,
    /// Ends the summary's first line (`, capture truncated`).
    pub note: String,
    hits: Vec<usize>,
    /// The last event's operand cache, emptied: its buffers serve the next event.
    spare: Option<FieldCache<'static>>,
    rate: Option<(f64, u32)>,
    /// `--max-events`: the run stops after this many events, whatever the source.
    limit: u64,
    reports: Vec<ImageReport>,
    /// The fields naming the container's image and the executed file, when the source has
    /// them (for --image-report).
    image_field: Option<S::Field>,
    exe_field: Option<S::Field>,
}

/// The terminal escape of an alert's text ([`moat_report::escape_terminal`]), borrowing
/// printable ASCII (most alerts) without decoding it character by character.
fn escape_alert(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        std::borrow::Cow::Borrowed(s)
    } else {
        moat_report::escape_terminal(s)
    }
}

impl<S: FieldSource> Run<S> {
    pub fn new(engine: Engine<S>, a: &WatchArgs) -> anyhow::Result<Self> {
        let limiter = match a.rate {
            Some(r) => Some(RateLimiter::new(r, a.max_burst)?),
            None => None,
        };
        let format = match a.format {
            WatchFormat::Text => Format::Text(escape_alert),
            WatchFormat::Json => Format::Json,
        };
        let mut disp = Dispatcher::new(limiter, Box::new(MonotonicClock::default()));
        disp.add_direct(Box::new(WriterSink::new(
            "stdout",
            std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
            format,
        )));
        if let Some(p) = &a.output_file {
            disp.add_queued(Box::new(FileSink::open(p, format)?), a.queue_capacity);
        }
        if let Some(u) = &a.http_output {
            let sink = HttpSink::new(u, Duration::from_secs(a.http_timeout.max(1)))?;
            disp.add_queued(Box::new(sink), a.queue_capacity);
        }
        let mut reports = Vec::new();
        for p in &a.image_report {
            reports.push(ImageReport::load(p)?);
        }
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| engine.source().resolve(n, &FieldArg::None).ok())
                .map(|(f, _)| f)
        };
        let image_field = field(&["ka.req.pod.containers.image", "container.image"]);
        let nrules = engine.rules().len();
        let exe_field = field(&["proc.exepath", "proc.exe"]);
        Ok(Run {
            image_field,
            exe_field,
            reports,
            engine,
            host: Arc::from(super::hostname()),
            with_fields: a.format == WatchFormat::Json || a.http_output.is_some(),
            disp,
            by_rule: vec![0; nrules],
            events: 0,
            skipped: 0,
            failed: false,
            note: String::new(),
            hits: Vec::new(),
            spare: None,
            rate: a.rate.map(|r| (r, a.max_burst)),
            limit: a.max_events.unwrap_or(u64::MAX),
        })
    }

    /// The event source, for a source whose state each event updates (a capture's thread
    /// and fd tables) before the rules read it.
    pub fn source_mut(&mut self) -> &mut S {
        self.engine.source_mut()
    }

    /// Whether `--max-events` events have run.
    pub fn done(&self) -> bool {
        self.events >= self.limit
    }

    /// Runs the rules on one event that happened at `time_ns`. `Ok(false)`: stop reading,
    /// stdout is closed (a broken pipe) or this was the `--max-events`th event.
    pub fn event_at(&mut self, ev: &S::Event, time_ns: i64) -> anyhow::Result<bool> {
        if self.done() {
            return Ok(false);
        }
        self.events += 1;
        self.hits.clear();
        let hits = &mut self.hits;
        // The values the conditions read are read again by the alerts' output: one cache.
        let mut cache = match self.spare.take() {
            Some(c) => c.recycle(),
            None => self.engine.cache(),
        };
        self.engine.process_cached(ev, &mut cache, |i| hits.push(i));
        for k in 0..self.hits.len() {
            let i = self.hits[k];
            self.by_rule[i] += 1;
            let mut alert = Alert::of_rule_cached(
                &self.engine,
                i,
                ev,
                time_ns,
                &self.host,
                self.with_fields,
                &mut cache,
            );
            if !self.reports.is_empty() {
                self.join(&mut alert, ev);
            }
            // The rate limit counts in the events' time: a replay keeps the same alerts at
            // any speed.
            let at = u64::try_from(time_ns).unwrap_or(0);
            match self.disp.dispatch_at(alert, at) {
                Ok(()) => {}
                Err(SinkError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Ok(false);
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.spare = Some(cache.recycle());
        Ok(!self.done())
    }

    /// Writes out the alerts stdout holds (a live stream's: after each batch of events).
    /// `Ok(false)`: stdout is closed, stop.
    pub fn flush(&mut self) -> anyhow::Result<bool> {
        match self.disp.flush() {
            Ok(()) => Ok(true),
            Err(SinkError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Adds what the image reports say about the event's image to the alert.
    fn join(&self, alert: &mut Alert, ev: &S::Event) {
        let src = self.engine.source();
        let mut buf = Vec::new();
        let mut text = |f: &Option<S::Field>| -> Vec<String> {
            buf.clear();
            if let Some(f) = f {
                src.extract(ev, f, &mut buf);
            }
            buf.iter().map(render_value).collect()
        };
        let images = text(&self.image_field);
        let exe = text(&self.exe_field);
        let images: Vec<&str> = images.iter().map(String::as_str).collect();
        join(
            alert,
            &images,
            exe.first().map(String::as_str),
            &self.reports,
        );
    }

    /// Flushes and closes the outputs, prints the summary on stderr (and, with
    /// `--format json`, one JSON line of counts), and gives the exit code.
    pub fn finish(self, format: WatchFormat) -> ExitCode {
        let (stats, err) = self.disp.finish();
        if let Some(e) = err
            && !matches!(&e, SinkError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            eprintln!("moat: error: writing alerts: {}", escape(&e.to_string()));
        }
        let alerts: u64 = self.by_rule.iter().sum();
        let by_rule = || self.by_rule.iter().enumerate().filter(|(_, n)| **n > 0);
        let skipped = if self.engine.source().source_name() == "k8s_audit" {
            format!(", {} payloads skipped", self.skipped)
        } else {
            String::new()
        };
        eprintln!(
            "moat: {} events, {alerts} alerts{skipped}{}",
            self.events, self.note
        );
        let mut by_priority: BTreeMap<Priority, u64> = BTreeMap::new();
        for (i, n) in by_rule() {
            *by_priority
                .entry(self.engine.rules()[i].priority)
                .or_default() += n;
        }
        if !by_priority.is_empty() {
            let parts: Vec<String> = by_priority
                .iter()
                .map(|(p, n)| format!("{} {n}", p.as_str()))
                .collect();
            eprintln!("moat: alerts by priority: {}", parts.join(", "));
        }
        for (i, n) in by_rule() {
            eprintln!("moat:   {}: {n}", escape(&self.engine.rules()[i].name));
        }
        if let Some((rate, burst)) = self.rate {
            eprintln!(
                "moat: {} alerts dropped by the rate limit ({rate}/s per rule, bursts of {burst})",
                stats.rate_limited_total()
            );
            for (r, n) in &stats.rate_limited {
                eprintln!("moat:   {}: {n} dropped", escape(r));
            }
        }
        for s in stats.sinks.iter().skip(1) {
            eprintln!(
                "moat: output {}: {} delivered, {} dropped (queue full), {} failed{}",
                escape(&s.name),
                s.delivered,
                s.queue_full,
                s.errors,
                s.first_error
                    .as_deref()
                    .map(|e| format!(" (first error: {})", escape(e)))
                    .unwrap_or_default()
            );
        }
        if format == WatchFormat::Json {
            let mut j = stats.to_json();
            if let Some(o) = j.as_object_mut() {
                o.insert("events".into(), self.events.into());
                o.insert("payloads_skipped".into(), self.skipped.into());
                let prio: serde_json::Map<String, serde_json::Value> = by_priority
                    .iter()
                    .map(|(p, n)| (p.as_str().to_string(), (*n).into()))
                    .collect();
                o.insert("alerts_by_priority".into(), prio.into());
            }
            eprintln!("{}", serde_json::json!({ "moat_watch_stats": j }));
        }
        if self.failed {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    }
}

impl Run<K8sAudit> {
    pub fn event(&mut self, ev: &AuditEvent) -> anyhow::Result<bool> {
        self.event_at(ev, ev.time_ns)
    }
}

/// Blocks SIGINT and SIGTERM in this thread (and the threads it starts from now on) and
/// sets `stop` when one arrives, on a thread waiting for them.
pub(super) fn stop_on_signals(stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()?;
    let stop = Arc::clone(stop);
    std::thread::spawn(move || {
        if set.wait().is_ok() {
            stop.store(true, Ordering::SeqCst);
        }
    });
    Ok(())
}

/// `--listen`: serves the audit webhook until SIGINT/SIGTERM or `--max-events`.
pub(super) fn serve(mut run: Run<K8sAudit>, a: &WatchArgs) -> anyhow::Result<ExitCode> {
    let Some(addr) = a.listen else {
        anyhow::bail!("--listen ADDR:PORT is required");
    };
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop)?;
    let server = Server::bind(addr, a.listen_allow_remote, ListenOptions::default())?;
    eprintln!("moat: listening on http://{}", server.local_addr());
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<AuditEvent>>(64);
    let accept = server.spawn(tx, Arc::clone(&stop));
    pump(&mut run, &rx, &stop)?;
    stop.store(true, Ordering::SeqCst);
    drop(rx);
    let _ = accept.join();
    Ok(run.finish(a.format))
}

/// The loop of every audit-event source (`--listen`, `--audit-log`): batches of events from
/// `rx` through the run until the senders are gone, SIGINT/SIGTERM sets `stop`,
/// `--max-events` or a closed stdout. The alerts held for stdout are written out whenever no
/// batch is waiting, so a live stream's alerts are seen at once and a file's are written in
/// large blocks.
pub(super) fn pump(
    run: &mut Run<K8sAudit>,
    rx: &Receiver<Vec<AuditEvent>>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    'outer: while !stop.load(Ordering::SeqCst) && !run.done() {
        let batch = match rx.try_recv() {
            Ok(b) => b,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                if !run.flush()? {
                    break;
                }
                match rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(b) => b,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        for ev in &batch {
            if !run.event(ev)? {
                break 'outer;
            }
        }
    }
    Ok(())
}
