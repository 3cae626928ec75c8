//! `moat watch`: Falco-compatible rules over runtime events ([`moat_runtime`]). Kubernetes
//! audit events come from a file or stdin (`--audit-log`): JSON lines, JSON arrays or
//! `EventList` batches; syscall events from a Falco/sysdig capture file (`--capture`,
//! [`moat_scap`]). `--validate` loads and checks rule files only. Without `--rules`, the
//! copy of Falco's rules `--update-rules` stored for the watched source ([`rules`]).
//!
//! Every source runs through the same code: [`load_engine`] compiles the rules of its
//! `source:` against it, and [`session::Run`] evaluates them on each event and sends the alerts
//! to the outputs.
//!
//! Alerts go to stdout, one per line: Falco's text line (`<time>: <Priority> <output>`) or,
//! with `--format json`, Falco's alert JSON; also to a file or an HTTP endpoint, through a
//! per-rule rate limit, and joined to image reports ([`session`]). `--listen` serves the API
//! server's audit webhook. Diagnostics and the closing summary go to stderr. Exit codes: 0 when the events were processed (alerts or not), 2 when a rule file
//! does not load or the input cannot be read.

mod live;
mod rules;
mod session;

use crate::output::escape;
use clap::{Args, ValueEnum};
use moat_runtime::field::FieldSource;
use moat_runtime::k8s::{AuditEvent, AuditReader, K8sAudit};
use moat_runtime::{Compiled, Diagnostic, Matching, Priority, RuleSet, compile};
use session::Run;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum WatchFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct WatchArgs {
    /// A Falco rule file (or a directory of them); repeat for several, loaded in the order
    /// given (as Falco loads its `rules_files`). Default: moat's stored copy of Falco's rules
    /// for the source watched (--update-rules), else /etc/falco's.
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Pull Falco's rules (falcoctl's OCI artifacts: the stable syscall rules and the
    /// k8saudit ruleset) into moat's rule store, checking their digests, and exit.
    #[arg(long, conflicts_with_all = ["audit_log", "capture", "listen", "live", "validate"])]
    update_rules: bool,
    /// With --update-rules: pull this rulesfile artifact instead (a mirror, another tag or a
    /// digest; repeatable); it is stored for the source its rules are for.
    #[arg(
        long,
        value_name = "REGISTRY/REPO[:TAG|@DIGEST]",
        requires = "update_rules"
    )]
    rules_ref: Vec<String>,
    /// The rule store [default: $XDG_CACHE_HOME/moat/rules].
    #[arg(long, value_name = "DIR")]
    rules_dir: Option<PathBuf>,
    #[command(flatten)]
    access: crate::settings::RegistryAccessArgs,
    /// Kubernetes audit events: a file of JSON lines (each an `Event`, an `EventList` or an
    /// array of them; a value may span lines), or `-` for stdin.
    #[arg(long, value_name = "FILE|-", conflicts_with = "capture")]
    audit_log: Option<String>,
    /// A Falco/sysdig capture file (`.scap`, plain or gzip-compressed): its syscall events
    /// run through the rules of `source: syscall` with the capture's process and fd tables.
    #[arg(long, value_name = "FILE.scap")]
    capture: Option<PathBuf>,
    /// Load and check these rule files (in order, after any --rules), print their errors and
    /// warnings, and exit: 0 when they load, 2 when they do not.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    validate: Vec<PathBuf>,
    /// Alert format: Falco's text line, or Falco's JSON alert (one per line).
    #[arg(long, value_enum, default_value = "text")]
    format: WatchFormat,
    /// Run only rules at least this severe (emergency, alert, critical, error, warning,
    /// notice, informational/info, debug).
    #[arg(long, value_name = "PRIORITY", default_value = "debug", value_parser = parse_priority)]
    min_priority: Priority,
    /// Run only the rules with one of these tags (repeatable, as Falco's -t).
    #[arg(long = "enable-tag", value_name = "TAG")]
    enable_tag: Vec<String>,
    /// Do not run the rules with any of these tags (repeatable, as Falco's -T).
    #[arg(long = "disable-tag", value_name = "TAG")]
    disable_tag: Vec<String>,
    /// Do not run the rules whose names contain this text (repeatable, as Falco's -D).
    #[arg(long = "disable-rule", value_name = "SUBSTRING")]
    disable_rule: Vec<String>,
    /// Fire every matching rule on an event, not only the first in load order (Falco's
    /// `rule_matching: all`).
    #[arg(long)]
    all_matches: bool,
    /// Also append each alert to this file, one per line (in --format's shape).
    #[arg(long, value_name = "FILE")]
    output_file: Option<PathBuf>,
    /// Also POST each alert, as Falco's JSON, to this http:// or https:// URL.
    #[arg(long, value_name = "URL")]
    http_output: Option<String>,
    /// Seconds an --http-output POST may take before it counts as failed.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    http_timeout: u64,
    /// Rate limit per rule: at most RATE alerts per second on average (a token bucket of
    /// --max-burst tokens); alerts over it are dropped and counted.
    #[arg(long, value_name = "RATE")]
    rate: Option<f64>,
    /// The burst --rate allows per rule.
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "rate")]
    max_burst: u32,
    /// Alerts waiting for each slow output (--output-file, --http-output); when full, new
    /// alerts are dropped for that output and counted.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    queue_capacity: usize,
    /// Serve the API server's audit webhook on this address (plain HTTP: POSTs of audit
    /// `EventList`s or `Event`s); the bound address is printed on stderr.
    #[arg(long, value_name = "ADDR:PORT", conflicts_with = "audit_log")]
    listen: Option<std::net::SocketAddr>,
    /// Allow --listen on a non-loopback address (moat has no TLS: use a TLS proxy).
    #[arg(long, requires = "listen")]
    listen_allow_remote: bool,
    /// Stop after this many events (then flush the outputs and summarise).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// A moat JSON report (`moat scan --format json`) or CycloneDX SBOM of an image
    /// (repeatable): alerts on containers of that image gain its digest, its critical and
    /// high vulnerability counts and the package owning the executed file.
    #[arg(long = "image-report", value_name = "FILE")]
    image_report: Vec<PathBuf>,
    /// Watch live process executions and exits on this host (Linux): the kernel's
    /// process-events connector as root, else polling /proc. Runs until interrupted.
    #[arg(long, conflicts_with_all = ["audit_log", "capture", "listen"])]
    live: bool,
    /// Where --live events come from (default: netlink, falling back to proc).
    #[arg(long, value_enum, requires = "live")]
    live_source: Option<live::LiveFrom>,
    /// With --proc polling: milliseconds between scans of /proc.
    #[arg(long, value_name = "MS", default_value_t = 100, requires = "live")]
    poll_interval: u64,
    /// With --live: stop after this many seconds.
    #[arg(long, value_name = "SECS", requires = "live")]
    duration: Option<f64>,
    /// With --live: the runtime socket to ask for container names and images: the Docker
    /// API (Docker, Podman) or CRI-O's (default: /var/run/docker.sock, then
    /// /run/podman/podman.sock, then /var/run/crio/crio.sock, when they answer).
    #[arg(long, value_name = "PATH", requires = "live")]
    container_socket: Option<PathBuf>,
    /// With --live: a Kubernetes pod list (`kubectl get pods -A -o json`) naming each
    /// container's image, image digest, pod and namespace by container id (containerd,
    /// CRI-O, Docker); asked before the runtime socket.
    #[arg(long, value_name = "FILE", requires = "live")]
    pods: Option<PathBuf>,
}

fn parse_priority(s: &str) -> Result<Priority, String> {
    Priority::parse(s).ok_or_else(|| format!("unknown priority '{s}'"))
}

/// The sources moat has; rules of these load quietly even when another one is watched.
const SOURCES: &[&str] = &["k8s_audit", "syscall"];

pub fn run(mut a: WatchArgs, env: &crate::settings::Env) -> anyhow::Result<ExitCode> {
    if !a.enable_tag.is_empty() && !a.disable_tag.is_empty() {
        anyhow::bail!("--enable-tag and --disable-tag cannot be used together");
    }
    if !a.enable_tag.is_empty() && !a.disable_rule.is_empty() {
        anyhow::bail!("--enable-tag and --disable-rule cannot be used together");
    }
    if a.update_rules {
        rules::update(&a, env)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !a.validate.is_empty() {
        return Ok(validate(&a));
    }
    if !a.live && a.audit_log.is_none() && a.capture.is_none() && a.listen.is_none() {
        anyhow::bail!(
            "nothing to watch: give --audit-log FILE|-, --capture FILE.scap, --listen ADDR:PORT or --live (or --validate FILE..., --update-rules)"
        );
    }
    if a.rules.is_empty() {
        let source = if a.live || a.capture.is_some() {
            "syscall"
        } else {
            "k8s_audit"
        };
        match rules::default_rules(&a, env, source)? {
            Some(files) => a.rules = files,
            None => return Ok(ExitCode::from(2)),
        }
    }
    if a.live {
        return live::run(&a);
    }
    if let Some(path) = &a.capture {
        return watch_capture(&a, path);
    }
    let Some(compiled) = load_engine(&a, K8sAudit) else {
        return Ok(ExitCode::from(2));
    };
    let run = Run::new(compiled.engine, &a)?;
    let Some(input) = a.audit_log.as_deref() else {
        return session::serve(run, &a);
    };
    let reader: Box<dyn Read + Send> = if input == "-" {
        Box::new(std::io::stdin())
    } else {
        match std::fs::File::open(input) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("moat: error: cannot read audit log {}: {e}", escape(input));
                return Ok(ExitCode::from(2));
            }
        }
    };
    let name = if input == "-" { "<stdin>" } else { input };
    watch_audit_log(run, reader, name, &a)
}

/// Loads `--rules` in order and compiles the rules of `source`'s `source:` against it, with
/// the selection the flags make (priority, tags, matching). Prints the diagnostics; `None`
/// when the rules do not load (the caller exits 2).
pub(crate) fn load_engine<S: FieldSource>(a: &WatchArgs, source: S) -> Option<Compiled<S>> {
    let mut rs = RuleSet::default();
    for f in &a.rules {
        load_rules_path(&mut rs, f);
    }
    let name = source.source_name();
    let others: Vec<&str> = SOURCES.iter().copied().filter(|s| *s != name).collect();
    let mut compiled = compile(&rs, source, &others);
    print_diagnostics(&compiled.diagnostics);
    if compiled.has_errors() {
        eprintln!("moat: error: the rules did not load");
        return None;
    }
    if !a.disable_rule.is_empty() {
        compiled
            .engine
            .disable(|n| a.disable_rule.iter().any(|d| n.contains(d.as_str())));
    }
    compiled
        .engine
        .select(a.min_priority, &a.enable_tag, &a.disable_tag);
    if a.all_matches {
        compiled.engine.matching = Matching::All;
    }
    eprintln!(
        "moat: {} {name} rules loaded, {} running",
        compiled.engine.rules().len(),
        compiled.engine.running()
    );
    Some(compiled)
}

/// A rule file, or a directory of them (its files in name order, as Falco reads a
/// `rules_files` directory).
fn load_rules_path(rs: &mut RuleSet, path: &Path) {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(dir) => dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => {
            rs.load_file(path);
            return;
        }
    };
    files.sort();
    for f in files {
        rs.load_file(&f);
    }
}

/// `--capture FILE.scap`: each event updates the capture's thread and fd tables, then the
/// syscall rules read it. A capture that cannot be opened or is corrupt exits 2; one that
/// ends inside a block (cut while written or copied) keeps the events before the cut.
fn watch_capture(a: &WatchArgs, path: &Path) -> anyhow::Result<ExitCode> {
    let mut reader = match moat_scap::open(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "moat: error: cannot read capture {}",
                escape(&e.to_string())
            );
            return Ok(ExitCode::from(2));
        }
    };
    let state = moat_scap::State::new(reader.metadata());
    let Some(compiled) = load_engine(a, state) else {
        return Ok(ExitCode::from(2));
    };
    let mut run = Run::new(compiled.engine, a)?;
    let stop = Arc::new(AtomicBool::new(false));
    session::stop_on_signals(&stop)?;
    let mut ev = moat_scap::Event::default();
    while !stop.load(Ordering::Relaxed) {
        match reader.next_event(&mut ev) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) if reader.truncated() => {
                eprintln!(
                    "moat: warning: {}: the capture ends inside a block; keeping the {} events before it",
                    escape(&e.to_string()),
                    reader.events_read()
                );
                run.note = ", capture truncated".into();
                break;
            }
            Err(e) => {
                eprintln!(
                    "moat: error: cannot read capture {}",
                    escape(&e.to_string())
                );
                run.failed = true;
                break;
            }
        }
        run.source_mut().process(&mut ev);
        let time_ns = i64::try_from(ev.ts).unwrap_or(i64::MAX);
        if !run.event_at(&ev, time_ns)? {
            break;
        }
    }
    Ok(run.finish(a.format))
}

fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("moat: {}", escape(&d.to_string()));
    }
}

/// What `--validate` reports: the rules of each source compiled against that source's
/// fields (k8s audit, and syscalls with the capture reader's field and event tables), the
/// loader's diagnostics and those every compilation gives once.
struct Validation {
    diagnostics: Vec<Diagnostic>,
}

impl Validation {
    fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code.is_error())
    }
}

fn validation(rs: &RuleSet) -> Validation {
    let mut diagnostics = compile(rs, K8sAudit, &["syscall"]).diagnostics;
    let syscall = moat_scap::State::new(&moat_scap::Metadata::default());
    let more = compile(rs, syscall, &["k8s_audit"]).diagnostics;
    let key = |d: &Diagnostic| {
        (
            d.code.as_str(),
            d.item_type.clone(),
            d.item_name.clone(),
            d.file.clone(),
            d.item,
            d.message.clone(),
        )
    };
    let mut seen: std::collections::HashSet<_> = diagnostics.iter().map(key).collect();
    for d in more {
        if seen.insert(key(&d)) {
            diagnostics.push(d);
        }
    }
    Validation { diagnostics }
}

/// `--validate`: every file loaded in order, each reported `Ok` or `Invalid`.
fn validate(a: &WatchArgs) -> ExitCode {
    let mut rs = RuleSet::default();
    for f in a.rules.iter().chain(&a.validate) {
        rs.load_file(f);
    }
    let c = validation(&rs);
    let files: Vec<String> = a.validate.iter().map(|p| p.display().to_string()).collect();
    let bad = c.has_errors();
    match a.format {
        WatchFormat::Text => {
            print_diagnostics(&c.diagnostics);
            let mut out = std::io::stdout().lock();
            for f in &files {
                let failed = c
                    .diagnostics
                    .iter()
                    .any(|d| d.code.is_error() && &d.file == f);
                let _ = writeln!(
                    out,
                    "{}: {}",
                    escape(f),
                    if failed { "Invalid" } else { "Ok" }
                );
            }
        }
        WatchFormat::Json => {
            let results: Vec<serde_json::Value> = files
                .iter()
                .map(|f| {
                    let of = |err: bool| -> Vec<serde_json::Value> {
                        c.diagnostics
                            .iter()
                            .filter(|d| &d.file == f && d.code.is_error() == err)
                            .map(|d| {
                                serde_json::json!({
                                    "code": d.code.as_str(),
                                    "message": d.message,
                                    "context": {"item_type": d.item_type, "item_name": d.item_name, "item": d.item},
                                })
                            })
                            .collect()
                    };
                    let errors = of(true);
                    serde_json::json!({
                        "name": f,
                        "successful": errors.is_empty(),
                        "errors": errors,
                        "warnings": of(false),
                    })
                })
                .collect();
            println!("{}", serde_json::json!({ "falco_load_results": results }));
        }
    }
    if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn hostname() -> String {
    for p in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(p) {
            let s = s.trim();
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    String::new()
}

/// `--audit-log`: a thread reads and parses the payloads, the run's loop ([`session::pump`],
/// the one `--listen` uses) evaluates them, so SIGINT/SIGTERM and `--max-events` end a run
/// reading a pipe that is waiting for more, with its summary.
fn watch_audit_log(
    mut run: Run<K8sAudit>,
    reader: Box<dyn Read + Send>,
    name: &str,
    a: &WatchArgs,
) -> anyhow::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    session::stop_on_signals(&stop)?;
    let skipped = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    // Few batches in flight: parsed events are large, memory stays small.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<AuditEvent>>(4);
    let reading = {
        let (skipped, failed, name) = (Arc::clone(&skipped), Arc::clone(&failed), name.to_string());
        std::thread::spawn(move || read_payloads(reader, &name, &tx, &skipped, &failed))
    };
    session::pump(&mut run, &rx, &stop)?;
    let finished = reading.is_finished();
    drop(rx);
    if finished {
        let _ = reading.join();
    }
    run.skipped = skipped.load(Ordering::SeqCst);
    run.failed = failed.load(Ordering::SeqCst);
    Ok(run.finish(a.format))
}

/// The events read so far, sent on to the loop in batches.
struct Batch<'a> {
    events: Vec<AuditEvent>,
    tx: &'a SyncSender<Vec<AuditEvent>>,
    /// The loop is gone: stop reading.
    gone: bool,
}

impl Batch<'_> {
    fn send(&mut self) {
        if !self.events.is_empty() && self.tx.send(std::mem::take(&mut self.events)).is_err() {
            self.gone = true;
        }
    }
}

/// The input's buffer, which sends the events read so far before each read that may wait
/// (a pipe with nothing more in it yet): a live stream's events go on at once, a file's in
/// batches of up to [`BATCH`].
struct SendBeforeRead<'a, 'b> {
    inner: std::io::BufReader<Box<dyn Read + Send>>,
    batch: &'a std::cell::RefCell<Batch<'b>>,
}

impl SendBeforeRead<'_, '_> {
    fn before_read(&mut self) -> std::io::Result<()> {
        if self.inner.buffer().is_empty() {
            let mut b = self.batch.borrow_mut();
            b.send();
            if b.gone {
                return Err(std::io::Error::other("stopped"));
            }
        }
        Ok(())
    }
}

impl Read for SendBeforeRead<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.before_read()?;
        self.inner.read(buf)
    }
}

impl BufRead for SendBeforeRead<'_, '_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.before_read()?;
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
    }
}

/// The most events sent to the loop at once.
const BATCH: usize = 256;

/// The events of each payload to `tx`. Ends at the end of the input, on a read error
/// (`failed`) or when the loop is gone.
fn read_payloads(
    input: Box<dyn Read + Send>,
    name: &str,
    tx: &SyncSender<Vec<AuditEvent>>,
    skipped: &AtomicU64,
    failed: &AtomicBool,
) {
    let batch = std::cell::RefCell::new(Batch {
        events: Vec::new(),
        tx,
        gone: false,
    });
    let mut audit = AuditReader::new(SendBeforeRead {
        inner: std::io::BufReader::with_capacity(1 << 16, input),
        batch: &batch,
    });
    loop {
        let payload = match audit.next_payload() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(_) if batch.borrow().gone => return,
            Err(e) => {
                eprintln!("moat: error: cannot read {}: {e}", escape(name));
                failed.store(true, Ordering::SeqCst);
                break;
            }
        };
        let mut b = batch.borrow_mut();
        match payload {
            Ok(evs) => {
                for ev in evs {
                    match ev {
                        Ok(ev) => b.events.push(ev),
                        Err(msg) => {
                            skipped.fetch_add(1, Ordering::SeqCst);
                            eprintln!("moat: warning: {}: {}", escape(name), escape(&msg));
                        }
                    }
                }
            }
            Err(e) => {
                skipped.fetch_add(1, Ordering::SeqCst);
                eprintln!(
                    "moat: warning: {}: {}",
                    escape(name),
                    escape(&e.to_string())
                );
            }
        }
        if b.events.len() >= BATCH {
            b.send();
        }
        if b.gone {
            return;
        }
    }
    batch.borrow_mut().send();
}
