//! `moat watch`: Falco-compatible rules over runtime events ([`moat_runtime`]). Kubernetes
//! audit events come from a file or stdin (`--audit-log`): JSON lines, JSON arrays or
//! `EventList` batches. `--validate` loads and checks rule files only.
//!
//! Alerts go to stdout, one per line: Falco's text line (`<time>: <Priority> <output>`) or,
//! with `--format json`, Falco's alert JSON. Diagnostics and the closing summary go to
//! stderr. Exit codes: 0 when the events were processed (alerts or not), 2 when a rule file
//! does not load or the input cannot be read.

use crate::output::escape;
use clap::{Args, ValueEnum};
use moat_runtime::k8s::{AuditEvent, AuditReader, K8sAudit};
use moat_runtime::{Compiled, Diagnostic, Matching, Priority, RuleSet, compile};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod live;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum WatchFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct WatchArgs {
    /// A Falco rule file; repeat for several, loaded in the order given (as Falco loads its
    /// `rules_files`). Required with --audit-log.
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Kubernetes audit events: a file of JSON lines (each an `Event`, an `EventList` or an
    /// array of them; a value may span lines), or `-` for stdin.
    #[arg(long, value_name = "FILE|-")]
    audit_log: Option<String>,
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
    /// Fire every matching rule on an event, not only the first in load order (Falco's
    /// `rule_matching: all`).
    #[arg(long)]
    all_matches: bool,
    /// Watch live process executions and exits on this host (Linux): the kernel's
    /// process-events connector as root, else polling /proc. Runs until interrupted.
    #[arg(long, conflicts_with = "audit_log")]
    live: bool,
    /// Where --live events come from (default: netlink, falling back to proc).
    #[arg(long, value_enum, requires = "live")]
    live_source: Option<live::LiveFrom>,
    /// With --proc polling: milliseconds between scans of /proc.
    #[arg(long, value_name = "MS", default_value_t = 100, requires = "live")]
    poll_interval: u64,
    /// With --live: stop after this many events.
    #[arg(long, value_name = "N", requires = "live")]
    max_events: Option<u64>,
    /// With --live: stop after this many seconds.
    #[arg(long, value_name = "SECS", requires = "live")]
    duration: Option<f64>,
    /// With --live: the Docker-API socket (Docker, Podman) to ask for container names and
    /// images (default: /var/run/docker.sock, then /run/podman/podman.sock, when they answer).
    #[arg(long, value_name = "PATH", requires = "live")]
    container_socket: Option<PathBuf>,
}

fn parse_priority(s: &str) -> Result<Priority, String> {
    Priority::parse(s).ok_or_else(|| format!("unknown priority '{s}'"))
}

/// The sources moat has; rules of these load quietly even when another one is watched.
const SOURCES: &[&str] = &["k8s_audit", "syscall"];

pub fn run(a: WatchArgs) -> anyhow::Result<ExitCode> {
    if !a.enable_tag.is_empty() && !a.disable_tag.is_empty() {
        anyhow::bail!("--enable-tag and --disable-tag cannot be used together");
    }
    if !a.validate.is_empty() {
        return Ok(validate(&a));
    }
    if a.live {
        return live::run(&a);
    }
    let Some(input) = a.audit_log.as_deref() else {
        anyhow::bail!(
            "nothing to watch: give --audit-log FILE|- or --live (or --validate FILE...)"
        );
    };
    if a.rules.is_empty() {
        anyhow::bail!("--rules FILE is required (moat has no built-in rule set yet)");
    }
    let mut rs = RuleSet::default();
    for f in &a.rules {
        rs.load_file(f);
    }
    let others: Vec<&str> = SOURCES
        .iter()
        .copied()
        .filter(|s| *s != "k8s_audit")
        .collect();
    let mut compiled = compile(&rs, K8sAudit, &others);
    print_diagnostics(&compiled.diagnostics);
    if compiled.has_errors() {
        eprintln!("moat: error: the rules did not load");
        return Ok(ExitCode::from(2));
    }
    compiled
        .engine
        .select(a.min_priority, &a.enable_tag, &a.disable_tag);
    if a.all_matches {
        compiled.engine.matching = Matching::All;
    }
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(input) {
            Ok(f) => Box::new(std::io::BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                eprintln!("moat: error: cannot read audit log {}: {e}", escape(input));
                return Ok(ExitCode::from(2));
            }
        }
    };
    let name = if input == "-" { "<stdin>" } else { input };
    watch(&compiled, reader, name, a.format)
}

fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("moat: {}", escape(&d.to_string()));
    }
}

/// `--validate`: every file loaded in order, each reported `Ok` or `Invalid`.
fn validate(a: &WatchArgs) -> ExitCode {
    let mut rs = RuleSet::default();
    for f in a.rules.iter().chain(&a.validate) {
        rs.load_file(f);
    }
    let c = compile(&rs, K8sAudit, &SOURCES[1..]);
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

fn watch(
    c: &Compiled<K8sAudit>,
    mut reader: Box<dyn BufRead>,
    name: &str,
    format: WatchFormat,
) -> anyhow::Result<ExitCode> {
    let engine = &c.engine;
    let host = hostname();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut audit = AuditReader::new(&mut reader);
    let (mut events, mut skipped) = (0u64, 0u64);
    let mut by_rule: BTreeMap<usize, u64> = BTreeMap::new();
    let emit = |ev: &AuditEvent,
                out: &mut dyn Write,
                by_rule: &mut BTreeMap<usize, u64>|
     -> std::io::Result<()> {
        let mut hits = Vec::new();
        engine.process(ev, |i| hits.push(i));
        for i in hits {
            *by_rule.entry(i).or_default() += 1;
            write_alert(engine, i, ev, &host, format, out)?;
        }
        Ok(())
    };
    loop {
        let payload = match audit.next_payload() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                eprintln!("moat: error: cannot read {}: {e}", escape(name));
                return Ok(ExitCode::from(2));
            }
        };
        match payload {
            Ok(evs) => {
                for ev in evs {
                    match ev {
                        Ok(ev) => {
                            events += 1;
                            if let Err(e) = emit(&ev, &mut out, &mut by_rule) {
                                if e.kind() == std::io::ErrorKind::BrokenPipe {
                                    return Ok(ExitCode::SUCCESS);
                                }
                                return Err(e.into());
                            }
                        }
                        Err(msg) => {
                            skipped += 1;
                            eprintln!("moat: warning: {}: {}", escape(name), escape(&msg));
                        }
                    }
                }
            }
            Err(e) => {
                skipped += 1;
                eprintln!(
                    "moat: warning: {}: {}",
                    escape(name),
                    escape(&e.to_string())
                );
            }
        }
    }
    if let Err(e) = out.flush()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    let alerts: u64 = by_rule.values().sum();
    eprintln!("moat: {events} events, {alerts} alerts, {skipped} payloads skipped");
    for (i, n) in &by_rule {
        eprintln!("moat:   {}: {n}", escape(&engine.rules()[*i].name));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_alert(
    engine: &moat_runtime::Engine<K8sAudit>,
    i: usize,
    ev: &AuditEvent,
    host: &str,
    format: WatchFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let rule = &engine.rules()[i];
    let (text, fields) = engine.render(i, ev);
    let time = jiff::Timestamp::from_nanosecond(i128::from(ev.time_ns)).unwrap_or_default();
    let time = format!("{time:.9}");
    match format {
        WatchFormat::Text => {
            writeln!(
                out,
                "{time}: {} {}",
                rule.priority.as_str(),
                moat_report::escape_terminal(&text)
            )
        }
        WatchFormat::Json => {
            let mut of = serde_json::Map::new();
            for (k, v) in fields {
                of.insert(
                    k,
                    v.map_or(serde_json::Value::Null, serde_json::Value::String),
                );
            }
            let alert = serde_json::json!({
                "hostname": host,
                "output": format!("{time}: {} {text}", rule.priority.as_str()),
                "priority": rule.priority.as_str(),
                "rule": rule.name,
                "source": rule.source,
                "tags": rule.tags,
                "time": time,
                "output_fields": of,
            });
            writeln!(out, "{alert}")
        }
    }
}
