//! `moat watch --live`: the rules over live process executions and exits on this host
//! ([`moat_runtime::live`]): the kernel's process-events connector (root), or polling
//! `/proc` (`--live-source proc`, and the fallback when the connector is refused).
//!
//! Only the fields live events fill are offered: a rule naming another syscall field is
//! skipped with a `LOAD_UNKNOWN_FIELD` warning at load, and a rule that allows only event
//! types other than `execve` and `procexit` is reported as one that cannot fire.

use super::session::{Run, stop_on_signals};
use super::{WatchArgs, load_engine};
use crate::output::escape;
use clap::ValueEnum;
use moat_runtime::field::FieldSource;
use moat_runtime::live::{
    LiveSource, PodList, ProcEvent, Procfs, RuntimeSocket, Watcher, unseen_rules,
};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    let pods = match &a.pods {
        Some(p) => match PodList::load(p) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("moat: error: {}", escape(&e.to_string()));
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
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
    let src = if runtime.is_some() || pods.is_some() {
        source().with_container_metadata()
    } else {
        source()
    };
    let has_metadata = runtime.is_some() || pods.is_some();
    let Some(compiled) = load_engine(a, src) else {
        return Ok(ExitCode::from(2));
    };
    if compiled
        .diagnostics
        .iter()
        .any(|d| d.code == moat_runtime::Code::UnknownField)
    {
        eprintln!(
            "moat: note: live process events fill only {}{} and proc.aname/aexe/aexepath/acmdline/apid[N]; rules needing other fields are skipped",
            LiveSource::FIELDS.join(", "),
            if has_metadata {
                format!(", {}", LiveSource::METADATA_FIELDS.join(", "))
            } else {
                " (container names and images need a runtime socket, --container-socket, or a pod list, --pods)"
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
    if let (Some(l), Some(p)) = (pods, &a.pods) {
        eprintln!(
            "moat: container images of {} containers from the pod list {}",
            l.len(),
            escape(&p.display().to_string())
        );
        watcher.set_pods(l);
    }
    if let Some(rt) = runtime {
        eprintln!(
            "moat: container names and images from {}",
            escape(&rt.path().display().to_string())
        );
        watcher.set_runtime(rt);
    }
    let run = Run::new(compiled.engine, a)?;
    eprintln!("moat: watching live process events ({backend})");
    watch(run, &mut watcher, a)
}

/// Runs the rules on the watcher's events until SIGINT/SIGTERM, `--duration` or
/// `--max-events`; the alerts of each batch are written out at once.
fn watch(
    mut run: Run<LiveSource>,
    watcher: &mut Watcher,
    a: &WatchArgs,
) -> anyhow::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop)?;
    let deadline = a
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let limit = a.max_events.unwrap_or(u64::MAX);
    let mut batch: Vec<ProcEvent> = Vec::new();
    'outer: while !stop.load(Ordering::SeqCst) && run.events < limit {
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
            run.failed = true;
            break;
        }
        for ev in batch.drain(..) {
            let time_ns = i64::try_from(ev.time_ns).unwrap_or(i64::MAX);
            if run.events >= limit || !run.event_at(&ev, time_ns)? {
                break 'outer;
            }
        }
        if !run.flush()? {
            break;
        }
    }
    if watcher.backend() == moat_runtime::live::Backend::Netlink {
        run.note = format!(
            ", {} connector overruns (events lost), {} executions gone before /proc could be read",
            watcher.overruns, watcher.vanished
        );
    }
    Ok(run.finish(a.format))
}
