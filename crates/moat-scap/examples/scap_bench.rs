//! Replays capture files' events in a loop through the reader (block decoding, event
//! decoding), the state (threads and fds) and the extraction of the fields a few typical
//! Falco conditions read, on one thread; prints events per second of CPU time and the peak
//! resident memory at 10% of the run and at its end (flat memory: the two agree).
//!   scap_bench EVENTS FILE...        (files plain or gzip; decompressed into memory first)
//!
//! With `SCAP_BENCH_RULES=RULES.yaml[:MORE.yaml...]`, the whole pipeline instead: the syscall
//! rules of those files compiled into an engine whose source is the state, and each event
//! processed by the state then evaluated by the engine (Falco's first-match), each alert
//! rendered (its output string and fields), as `moat watch --capture` does.
//! `SCAP_BENCH_NO_PROCINFO=1` leaves the `procinfo` events (periodic CPU-time samples, most of
//! these captures' events, which no rule names) out of the replayed stream.
//!
//! Used by bench/scap.sh.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::time::Instant;

use moat_runtime::field::{FieldArg, FieldSource, Value};
use moat_runtime::{Engine, RuleSet, compile};
use moat_scap::{Event, State};

/// The fields of a few conditions of the stable rules: open_read / sensitive files
/// (evt.type, evt.dir, evt.is_open_read, fd.typechar, fd.name, fd.directory), shells spawned
/// (proc.name, proc.pname, proc.aname[2], container.id), outbound connections (fd.net,
/// fd.sport, fd.l4proto) and who (user.name).
const FIELDS: &[(&str, Option<u64>)] = &[
    ("evt.type", None),
    ("evt.dir", None),
    ("evt.is_open_read", None),
    ("fd.typechar", None),
    ("fd.name", None),
    ("fd.directory", None),
    ("proc.name", None),
    ("proc.pname", None),
    ("proc.aname", Some(2)),
    ("container.id", None),
    ("fd.net", None),
    ("fd.sport", None),
    ("fd.l4proto", None),
    ("user.name", None),
];

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (fields 14 and 15 of /proc/self/stat).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Reuses a vector's allocation for values of another lifetime (it is empty; the
/// `filter_map` is what changes the lifetime, in place).
#[allow(clippy::unnecessary_filter_map)]
fn recycle<'a, 'b>(mut v: Vec<Value<'a>>) -> Vec<Value<'b>> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target: u64 = args[1].parse().unwrap();
    let captures: Vec<Vec<u8>> = args[2..]
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            if raw.starts_with(&[0x1f, 0x8b]) {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_end(&mut out)
                    .unwrap();
                out
            } else {
                raw
            }
        })
        .collect();
    let probe = State::new(&moat_scap::Metadata::default());
    // SCAP_BENCH_FIELDS=0: the reader and the state only.
    let nfields = std::env::var("SCAP_BENCH_FIELDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FIELDS.len())
        .min(FIELDS.len());
    let fields: Vec<_> = FIELDS[..nfields]
        .iter()
        .map(|(n, i)| {
            probe
                .resolve(n, &i.map_or(FieldArg::None, FieldArg::Index))
                .unwrap()
                .0
        })
        .collect();

    // Each capture's metadata is read once (timed apart: per capture it is a one-off cost);
    // the passes replay its event blocks (behind the section header) through the same
    // state, as one long capture would.
    let no_procinfo = std::env::var_os("SCAP_BENCH_NO_PROCINFO").is_some_and(|v| !v.is_empty());
    let procinfo: Vec<u16> = moat_scap::event_table::EVENTS
        .iter()
        .enumerate()
        .filter(|(_, e)| e.name == "procinfo")
        .map(|(i, _)| i as u16)
        .collect();
    let t = Instant::now();
    let mut states: Vec<State> = Vec::new();
    let mut streams: Vec<Vec<u8>> = Vec::new();
    for c in &captures {
        let r = moat_scap::from_bytes(c, "bench").unwrap();
        states.push(State::new(r.metadata()));
        let mut stream = Vec::new();
        let mut off = 0;
        while off + 8 <= c.len() {
            let ty = u32::from_le_bytes(c[off..off + 4].try_into().unwrap());
            let len = u32::from_le_bytes(c[off + 4..off + 8].try_into().unwrap()) as usize;
            // The event code: after the block header, the cpu id (and the flags word of the
            // EVF blocks), the event header's timestamp, thread id and length.
            let code_at = match ty {
                0x204 | 0x216 | 0x221 => Some(off + 8 + 2 + 20),
                0x208 | 0x217 | 0x222 => Some(off + 8 + 2 + 4 + 20),
                _ => None,
            };
            let skip = no_procinfo
                && code_at
                    .is_some_and(|a| procinfo.contains(&u16::from_le_bytes([c[a], c[a + 1]])));
            if off == 0 || (code_at.is_some() && !skip) {
                stream.extend_from_slice(&c[off..off + len]);
            }
            off += len;
        }
        streams.push(stream);
    }
    let meta_secs = t.elapsed().as_secs_f64() / captures.len() as f64;

    if let Ok(rules) = std::env::var("SCAP_BENCH_RULES") {
        return pipeline(&rules, target, states, &streams, meta_secs);
    }

    let (mut events, mut values, mut passes) = (0u64, 0u64, 0u64);
    let mut rss_early = 0;
    let mut spare: Vec<Value<'static>> = Vec::with_capacity(16);
    let mut ev = Event::default();
    let cpu0 = cpu_seconds();
    let wall = Instant::now();
    'outer: loop {
        for (stream, st) in streams.iter().zip(states.iter_mut()) {
            let mut r = moat_scap::from_bytes(stream, "bench").unwrap();
            while r.next_event(&mut ev).unwrap() {
                st.process(&mut ev);
                let mut out = recycle(std::mem::take(&mut spare));
                for f in &fields {
                    st.extract(&ev, f, &mut out);
                    values += out.len() as u64;
                    out.clear();
                }
                spare = recycle(out);
                events += 1;
                if rss_early == 0 && events >= target / 10 {
                    rss_early = peak_rss_kib();
                }
            }
            passes += 1;
            if events >= target {
                break 'outer;
            }
        }
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let cpu_s = (cpu_seconds() - cpu0).max(0.01);
    println!(
        "fields={} events={events} passes={passes} values={values} wall_s={wall_s:.3} cpu_s={cpu_s:.2} \
         events_per_cpu_s={:.0} metadata_ms_per_capture={:.3} rss_kib_at_10pct={rss_early} rss_kib_end={}",
        fields.len(),
        events as f64 / cpu_s,
        meta_secs * 1000.0,
        peak_rss_kib()
    );
}

/// The whole pipeline: state, then the engine's rules, then each alert rendered.
fn pipeline(rules: &str, target: u64, mut states: Vec<State>, streams: &[Vec<u8>], meta_secs: f64) {
    let t = Instant::now();
    let mut rs = RuleSet::default();
    for f in rules.split(':') {
        rs.load_file(std::path::Path::new(f));
    }
    let c = compile(
        &rs,
        State::new(&moat_scap::Metadata::default()),
        &["k8s_audit"],
    );
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let mut engine: Engine<State> = c.engine;
    let compile_ms = t.elapsed().as_secs_f64() * 1000.0;
    let nrules = engine.running();

    let (mut events, mut alerts, mut rendered, mut passes) = (0u64, 0u64, 0u64, 0u64);
    let mut rss_early = 0;
    let mut hits: Vec<usize> = Vec::new();
    let mut ev = Event::default();
    let cpu0 = cpu_seconds();
    let wall = Instant::now();
    'outer: loop {
        for (stream, st) in streams.iter().zip(states.iter_mut()) {
            // This capture's state becomes the engine's source for the pass.
            std::mem::swap(engine.source_mut(), st);
            let mut r = moat_scap::from_bytes(stream, "bench").unwrap();
            while r.next_event(&mut ev).unwrap() {
                engine.source_mut().process(&mut ev);
                hits.clear();
                if engine.process(&ev, |i| hits.push(i)) > 0 {
                    for &i in &hits {
                        let (text, fields) = engine.render(i, &ev);
                        rendered += text.len() as u64 + fields.len() as u64;
                        alerts += 1;
                    }
                }
                events += 1;
                if rss_early == 0 && events >= target / 10 {
                    rss_early = peak_rss_kib();
                }
            }
            std::mem::swap(engine.source_mut(), st);
            passes += 1;
            if events >= target {
                break 'outer;
            }
        }
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let cpu_s = (cpu_seconds() - cpu0).max(0.01);
    println!(
        "fields=rules rules={nrules} compile_ms={compile_ms:.1} events={events} passes={passes} alerts={alerts} \
         rendered_bytes={rendered} wall_s={wall_s:.3} cpu_s={cpu_s:.2} events_per_cpu_s={:.0} \
         metadata_ms_per_capture={:.3} rss_kib_at_10pct={rss_early} rss_kib_end={}",
        events as f64 / cpu_s,
        meta_secs * 1000.0,
        peak_rss_kib()
    );
}
