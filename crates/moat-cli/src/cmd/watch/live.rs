//! `moat watch --live`: the rules over live process executions and exits on this host
//! ([`moat_runtime::live`]): the kernel's process-events connector (root), or polling
//! `/proc` (`--live-source proc`, and the fallback when the connector is refused).
//!
//! Only the fields live events fill are offered: a rule naming another syscall field is
//! skipped with a `LOAD_UNKNOWN_FIELD` warning at load, and a rule that allows only event
//! types other than `execve` and `procexit` is reported as one that cannot fire.

use super::{WatchArgs, WatchFormat, hostname, print_diagnostics};
use crate::output::escape;
use clap::ValueEnum;
use moat_runtime::field::FieldSource;
use moat_runtime::live::{LiveSource, ProcEvent, Procfs, RuntimeSocket, Watcher, unseen_rules};
use moat_runtime::{Compiled, Matching, RuleSet, compile};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Where live events come from.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum LiveFrom {
    /// The kernel's process-events connector (netlink; needs root).
    Netlink,
    /// Polling /proc (misses processes shorter than the interval).
    Proc,
}

/// The live source, told which syscall fields and event types exist (from moat-scap's
/// tables), so a typo is still a load error while a real field live events lack is a
/// warning.
fn source() -> LiveSource {
    let fields = moat_scap::State::new(&moat_scap::Metadata::default());
    let events = moat_scap::State::new(&moat_scap::Metadata::default());
    LiveSource::default()
        .with_known_fields(move |n, a| fields.resolve(n, a).is_ok())
        .with_known_events(move |n| events.event_type_codes(n).is_some_and(|c| !c.is_empty()))
}

pub fn run(a: &WatchArgs) -> anyhow::Result<ExitCode> {
    if a.rules.is_empty() {
        anyhow::bail!("--rules FILE is required (moat has no built-in rule set yet)");
    }
    let mut rs = RuleSet::default();
    for f in &a.rules {
        rs.load_file(f);
    }
    let runtime = match &a.container_socket {
        Some(p) => {
            let rt = RuntimeSocket::probe(p);
            if rt.is_none() {
                eprintln!(
                    "moat: warning: no container runtime answers at {}: container names and images are unknown",
                    escape(&p.display().to_string())
                );
            }
            rt
        }
        None => RuntimeSocket::find(),
    };
    let src = match runtime {
        Some(_) => source().with_container_metadata(),
        None => source(),
    };
    let mut compiled = compile(&rs, src, &["k8s_audit"]);
    print_diagnostics(&compiled.diagnostics);
    if compiled.has_errors() {
        eprintln!("moat: error: the rules did not load");
        return Ok(ExitCode::from(2));
    }
    if compiled
        .diagnostics
        .iter()
        .any(|d| d.code == moat_runtime::Code::UnknownField)
    {
        eprintln!(
            "moat: note: live process events fill only {}{} and proc.aname/aexe/aexepath/acmdline/apid[N]; rules needing other fields are skipped",
            LiveSource::FIELDS.join(", "),
            if runtime.is_some() {
                format!(", {}", LiveSource::METADATA_FIELDS.join(", "))
            } else {
                " (container names and images need a runtime socket: --container-socket)"
                    .to_string()
            }
        );
    }
    for name in unseen_rules(&compiled.engine) {
        eprintln!(
            "moat: warning: rule '{}' allows only event types live process events do not have (they are execve and procexit): it cannot fire",
            escape(name)
        );
    }
    compiled
        .engine
        .select(a.min_priority, &a.enable_tag, &a.disable_tag);
    if a.all_matches {
        compiled.engine.matching = Matching::All;
    }
    let interval = Duration::from_millis(a.poll_interval.max(1));
    let poll = || Watcher::poll(Procfs::default(), interval);
    let opened = match a.live_source.unwrap_or(LiveFrom::Netlink) {
        LiveFrom::Netlink => match Watcher::netlink(Procfs::default()) {
            Ok(w) => Ok(w),
            Err(e) => {
                eprintln!(
                    "moat: warning: {}; polling /proc every {} ms instead (short-lived processes can be missed)",
                    escape(&e.to_string()),
                    interval.as_millis()
                );
                poll()
            }
        },
        LiveFrom::Proc => poll(),
    };
    let mut watcher = match opened {
        Ok(w) => w,
        Err(e) => {
            eprintln!("moat: error: {}", escape(&e.to_string()));
            return Ok(ExitCode::from(2));
        }
    };
    let backend = match watcher.backend() {
        moat_runtime::live::Backend::Netlink => "the process-events connector",
        moat_runtime::live::Backend::Proc => "/proc polling",
    };
    if let Some(rt) = runtime {
        eprintln!(
            "moat: container names and images from {}",
            escape(&rt.path().display().to_string())
        );
        watcher.set_runtime(rt);
    }
    eprintln!("moat: watching live process events ({backend})");
    watch(&compiled, &mut watcher, a)
}

fn watch(
    c: &Compiled<LiveSource>,
    watcher: &mut Watcher,
    a: &WatchArgs,
) -> anyhow::Result<ExitCode> {
    let engine = &c.engine;
    let host = hostname();
    let deadline = a
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut events = 0u64;
    let mut by_rule: BTreeMap<usize, u64> = BTreeMap::new();
    let mut batch: Vec<ProcEvent> = Vec::new();
    'outer: loop {
        let mut wait = Duration::from_millis(250);
        if let Some(d) = deadline {
            let now = Instant::now();
            if now >= d {
                break;
            }
            wait = wait.min(d - now);
        }
        if let Err(e) = watcher.next(wait, &mut batch) {
            eprintln!("moat: error: {}", escape(&e.to_string()));
            return Ok(ExitCode::from(2));
        }
        for ev in batch.drain(..) {
            if a.max_events.is_some_and(|m| events >= m) {
                break 'outer;
            }
            events += 1;
            let mut hits = Vec::new();
            engine.process(&ev, |i| hits.push(i));
            for i in hits {
                *by_rule.entry(i).or_default() += 1;
                // Each alert is written and flushed at once: a live watch ends by a signal.
                let r = write_alert(engine, i, &ev, &host, a.format, &mut out)
                    .and_then(|()| out.flush());
                match r {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                        return Ok(ExitCode::SUCCESS);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if a.max_events.is_some_and(|m| events >= m) {
            break;
        }
    }
    let alerts: u64 = by_rule.values().sum();
    if watcher.backend() == moat_runtime::live::Backend::Netlink {
        eprintln!(
            "moat: {events} events, {alerts} alerts, {} connector overruns (events lost), {} executions gone before /proc could be read",
            watcher.overruns, watcher.vanished
        );
    } else {
        eprintln!("moat: {events} events, {alerts} alerts");
    }
    for (i, n) in &by_rule {
        eprintln!("moat:   {}: {n}", escape(&engine.rules()[*i].name));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_alert(
    engine: &moat_runtime::Engine<LiveSource>,
    i: usize,
    ev: &ProcEvent,
    host: &str,
    format: WatchFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let rule = &engine.rules()[i];
    let (text, fields) = engine.render(i, ev);
    let time = jiff::Timestamp::from_nanosecond(i128::from(ev.time_ns)).unwrap_or_default();
    let time = format!("{time:.9}");
    match format {
        WatchFormat::Text => writeln!(
            out,
            "{time}: {} {}",
            rule.priority.as_str(),
            moat_report::escape_terminal(&text)
        ),
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
