//! `moat watch`: Falco-compatible rules over runtime events ([`moat_runtime`]). Kubernetes
//! audit events come from a file or stdin (`--audit-log`): JSON lines, JSON arrays or
//! `EventList` batches. `--validate` loads and checks rule files only.
//!
//! Alerts go to stdout, one per line: Falco's text line (`<time>: <Priority> <output>`) or,
//! with `--format json`, Falco's alert JSON; also to a file or an HTTP endpoint, through a
//! per-rule rate limit, and joined to image reports ([`session`]). `--listen` serves the API
//! server's audit webhook. Diagnostics and the closing summary go to stderr. Exit codes: 0 when the events were processed (alerts or not), 2 when a rule file
//! does not load or the input cannot be read.

mod session;

use crate::output::escape;
use clap::{Args, ValueEnum};
use moat_runtime::k8s::{AuditReader, K8sAudit};
use moat_runtime::{Diagnostic, Matching, Priority, RuleSet, compile};
use session::Run;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// With --listen: stop after this many events (then flush the outputs and summarise).
    #[arg(long, value_name = "N", requires = "listen")]
    max_events: Option<u64>,
    /// A moat JSON report (`moat scan --format json`) or CycloneDX SBOM of an image
    /// (repeatable): alerts on containers of that image gain its digest, its critical and
    /// high vulnerability counts and the package owning the executed file.
    #[arg(long = "image-report", value_name = "FILE")]
    image_report: Vec<PathBuf>,
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
    if a.audit_log.is_none() && a.listen.is_none() {
        anyhow::bail!(
            "nothing to watch: give --audit-log FILE|- or --listen ADDR:PORT (or --validate FILE...)"
        );
    }
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
    let mut run = Run::new(&compiled.engine, &a)?;
    let Some(input) = a.audit_log.as_deref() else {
        return session::serve(run, &a);
    };
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
    watch(&mut run, reader, name)?;
    Ok(run.finish(a.format))
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

/// Reads audit payloads from `reader` through the run; `Err` only for an I/O error of stdout.
fn watch(
    run: &mut Run<'_, K8sAudit>,
    mut reader: Box<dyn BufRead>,
    name: &str,
) -> anyhow::Result<()> {
    let mut audit = AuditReader::new(&mut reader);
    loop {
        let payload = match audit.next_payload() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(()),
            Err(e) => {
                eprintln!("moat: error: cannot read {}: {e}", escape(name));
                run.failed = true;
                return Ok(());
            }
        };
        match payload {
            Ok(evs) => {
                for ev in evs {
                    match ev {
                        Ok(ev) => {
                            if !run.event(&ev)? {
                                return Ok(());
                            }
                        }
                        Err(msg) => {
                            run.skipped += 1;
                            eprintln!("moat: warning: {}: {}", escape(name), escape(&msg));
                        }
                    }
                }
            }
            Err(e) => {
                run.skipped += 1;
                eprintln!(
                    "moat: warning: {}: {}",
                    escape(name),
                    escape(&e.to_string())
                );
            }
        }
    }
}
