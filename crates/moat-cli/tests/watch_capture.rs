//! `moat watch --capture`: Falco's legacy test suite as the oracle. Every case of
//! `falco_tests.yaml` and `falco_tests_exceptions.yaml` that replays one of the captures under
//! `test/trace_files/` with rule files that exist runs through the binary, with the flags the
//! case sets (`priority` as --min-priority, `run_tags` / `disable_tags` as --enable-tag /
//! --disable-tag, `disabled_rules` as --disable-rule), and is judged as Falco's harness
//! (`falco_test.py`) judges it: the exit status, `detect` (alerts or none), `detect_level`
//! (alerts at each of those priorities), `detect_counts` (the exact count of each rule) and
//! `output_strictly_contains` for stdout (the alert lines, text or JSON). Falco exits 1 on
//! every failure and moat 2 (its documented code for rules or input it refuses): a failure
//! agrees with a failure.
//! The cases moat disagrees with are listed in [`EXPECTED_DIFFERENCES`] with the reason and
//! what moat does instead, which is asserted too. Then the stable Falco rules over each
//! capture: they load for the syscall source, and their alerts are a golden file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LEGACY: &str = "corpus/falco/falcosecurity-falco-legacy-tests/test";
const STABLE_RULES: &str = "corpus/falco/falcosecurity-rules/rules/falco_rules.yaml";

/// Cases where moat's result differs from Falco's, the reason, and the outcome moat gives
/// instead (asserted, so the list cannot go stale).
const EXPECTED_DIFFERENCES: &[(&str, &str, Outcome)] = &[
    (
        "monitor_syscall_drops_ignore_and_log",
        "Falco refuses its configuration file (syscall_event_drops.actions mixes `ignore` \
         with `log`) and exits 1; moat has no Falco configuration file (the case's conf_file), \
         so the capture runs and exits 0",
        Outcome::Exit0,
    ),
    (
        "monitor_syscall_drops_threshold_oor",
        "Falco refuses syscall_event_drops.threshold = 1.1 in its configuration file and \
         exits 1; moat reads no Falco configuration file, so the capture runs and exits 0",
        Outcome::Exit0,
    ),
    (
        "monitor_syscall_drops_threshold_neg",
        "Falco refuses syscall_event_drops.threshold = -1 in its configuration file and exits \
         1; moat reads no Falco configuration file, so the capture runs and exits 0",
        Outcome::Exit0,
    ),
    (
        "monitor_syscall_drops_exit",
        "Falco's syscall_event_drops.actions: exit ends the run with status 1 at the first \
         drop its simulated drop counter reports (simulate_drops: true in the conf_file); \
         moat has no drop simulation, the capture runs and exits 0",
        Outcome::Exit0,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// moat runs the capture and exits 0.
    Exit0,
}

fn legacy() -> Option<PathBuf> {
    Some(shared()?.join(LEGACY))
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().expect("a string item").to_string())
            .collect(),
        Some(other) => panic!("expected a string or a list, got {other}"),
    }
}

/// One case of the suite, as the harness reads it.
struct Case {
    name: String,
    args: Vec<String>,
    detect: Option<bool>,
    levels: Vec<String>,
    counts: Vec<(String, u64)>,
    exit_status: i32,
    /// Expected text output (the `output_strictly_contains` file for stdout).
    strict_stdout: Option<PathBuf>,
}

/// The cases that replay a capture under `trace_files/` with rule files that exist; the
/// others are counted by the reason they are left out.
fn cases(base: &Path, skipped: &mut BTreeMap<String, Vec<String>>) -> Vec<Case> {
    let mut out = Vec::new();
    for suite in ["falco_tests.yaml", "falco_tests_exceptions.yaml"] {
        let text = std::fs::read_to_string(base.join(suite)).unwrap();
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        for (_, group) in doc.as_object().unwrap() {
            for (name, c) in group.as_object().unwrap() {
                let Some(trace) = c.get("trace_file").and_then(Value::as_str) else {
                    continue;
                };
                if c.get("validate_rules_file").is_some() {
                    // Loader cases (--validate): watch_cli's oracle covers them.
                    continue;
                }
                let trace = base.join(trace);
                let rules: Vec<PathBuf> = str_list(c.get("rules_file"))
                    .iter()
                    .map(|r| base.join(r))
                    .collect();
                if !trace.exists() || rules.iter().any(|r| !r.exists()) {
                    skipped
                        .entry("capture or rule file not in the corpus".into())
                        .or_default()
                        .push(name.clone());
                    continue;
                }
                let rules = if rules.is_empty() {
                    // Falco's default rules file.
                    vec![shared().unwrap().join(STABLE_RULES)]
                } else {
                    rules
                };
                let mut args: Vec<String> = vec!["watch".into()];
                for r in &rules {
                    args.push("--rules".into());
                    args.push(r.display().to_string());
                }
                args.push("--capture".into());
                args.push(trace.display().to_string());
                args.push("--format".into());
                args.push("json".into());
                if let Some(p) = c.get("priority").and_then(Value::as_str) {
                    args.push("--min-priority".into());
                    args.push(p.to_string());
                }
                for (key, flag) in [
                    ("run_tags", "--enable-tag"),
                    ("disable_tags", "--disable-tag"),
                    ("disabled_rules", "--disable-rule"),
                ] {
                    for t in str_list(c.get(key)) {
                        args.push(flag.into());
                        args.push(t);
                    }
                }
                let mut counts = Vec::new();
                if let Some(Value::Array(items)) = c.get("detect_counts") {
                    for item in items {
                        for (rule, n) in item.as_object().unwrap() {
                            counts.push((rule.clone(), n.as_u64().unwrap()));
                        }
                    }
                }
                let strict_stdout = match c.get("output_strictly_contains") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .filter_map(|i| i.get("stdout"))
                        .filter_map(Value::as_str)
                        .map(|f| base.join(f))
                        .next(),
                    _ => None,
                };
                out.push(Case {
                    name: name.clone(),
                    args,
                    detect: c.get("detect").and_then(Value::as_bool),
                    levels: str_list(c.get("detect_level")),
                    counts,
                    exit_status: c
                        .get("exit_status")
                        .and_then(Value::as_i64)
                        .map_or(0, |n| n as i32),
                    strict_stdout,
                });
            }
        }
    }
    out
}

/// What moat did on a case, in the harness's terms.
struct Run {
    exit: i32,
    /// Alerts per rule and per priority.
    by_rule: BTreeMap<String, u64>,
    by_priority: BTreeMap<String, u64>,
    /// Each alert, in order.
    alerts: Vec<Value>,
    stderr: String,
}

fn run_case(c: &Case) -> Run {
    let o = moat(c.args.iter().map(String::as_str));
    let mut r = Run {
        exit: code(&o),
        by_rule: BTreeMap::new(),
        by_priority: BTreeMap::new(),
        alerts: Vec::new(),
        stderr: stderr(&o),
    };
    for line in stdout(&o).lines() {
        let a: Value = serde_json::from_str(line).unwrap();
        *r.by_rule
            .entry(a["rule"].as_str().unwrap().to_string())
            .or_default() += 1;
        *r.by_priority
            .entry(a["priority"].as_str().unwrap().to_lowercase())
            .or_default() += 1;
        r.alerts.push(a);
    }
    r
}

/// The harness's verdict: `Err` with what differs.
fn judge(c: &Case, r: &Run) -> Result<(), String> {
    if (r.exit == 0) != (c.exit_status == 0) {
        return Err(format!(
            "exit {} (Falco: {}); stderr: {}",
            r.exit, c.exit_status, r.stderr
        ));
    }
    if c.exit_status != 0 {
        return Ok(());
    }
    let total: u64 = r.by_rule.values().sum();
    match c.detect {
        Some(true) => {
            if total == 0 {
                return Err("no alerts, Falco detects events".into());
            }
            for l in &c.levels {
                let l = l.to_lowercase();
                let l = if l == "info" {
                    "informational".into()
                } else {
                    l
                };
                if r.by_priority.get(&l).copied().unwrap_or(0) == 0 {
                    return Err(format!("no alert at priority {l} ({:?})", r.by_priority));
                }
            }
        }
        Some(false) if total != 0 => {
            return Err(format!("alerts {:?}, Falco detects none", r.by_rule));
        }
        _ => {}
    }
    for (rule, n) in &c.counts {
        let got = r.by_rule.get(rule).copied().unwrap_or(0);
        if got != *n {
            return Err(format!("{rule}: {got} alerts, Falco {n}"));
        }
    }
    if let Some(f) = &c.strict_stdout {
        // Falco writes the UTC offset of the time in `output` as +0000, moat as RFC 3339's Z.
        let utc = |l: &str| l.replacen("+0000:", "Z:", 1);
        let text = std::fs::read_to_string(f).unwrap();
        let json = f.extension().is_some_and(|e| e == "json");
        // The keys both write alike; Falco's `output_fields` also holds the time of its
        // output prefix (`evt.time.iso8601`) and `hostname` the conf file's name.
        let keys = ["rule", "priority", "source", "tags", "time"];
        let want: Vec<String> = text
            .lines()
            .map(|l| {
                if json {
                    let v: Value = serde_json::from_str(l).unwrap();
                    let mut m: Vec<String> = keys.iter().map(|k| v[*k].to_string()).collect();
                    m.push(utc(v["output"].as_str().unwrap()));
                    m.join(" | ")
                } else {
                    utc(l)
                }
            })
            .collect();
        let got: Vec<String> = r
            .alerts
            .iter()
            .map(|a| {
                let out = a["output"].as_str().unwrap().to_string();
                if json {
                    let mut m: Vec<String> = keys.iter().map(|k| a[*k].to_string()).collect();
                    m.push(out);
                    m.join(" | ")
                } else {
                    out
                }
            })
            .collect();
        if got != want {
            return Err(format!(
                "output differs from {}:\n{got:#?}\nwant {want:#?}",
                f.display()
            ));
        }
    }
    Ok(())
}

#[test]
fn falcos_legacy_capture_cases() {
    let Some(base) = legacy() else { return };
    let mut skipped = BTreeMap::new();
    let cases = cases(&base, &mut skipped);
    let mut agree = Vec::new();
    let mut problems = Vec::new();
    let mut differ = Vec::new();
    for c in &cases {
        let r = run_case(c);
        let verdict = judge(c, &r);
        match EXPECTED_DIFFERENCES.iter().find(|(n, _, _)| *n == c.name) {
            Some((_, why, outcome)) => {
                assert!(
                    verdict.is_err(),
                    "{} is listed as a difference ({why}) but agrees with Falco",
                    c.name
                );
                match outcome {
                    Outcome::Exit0 => assert_eq!(r.exit, 0, "{}: {}", c.name, r.stderr),
                }
                differ.push(c.name.clone());
            }
            None => match verdict {
                Ok(()) => agree.push(c.name.clone()),
                Err(e) => problems.push(format!("{}: {e}", c.name)),
            },
        }
    }
    eprintln!(
        "{} cases: {} agree with Falco, {} expected differences; left out: {skipped:?}",
        cases.len(),
        agree.len(),
        differ.len()
    );
    assert!(
        problems.is_empty(),
        "disagreements:\n{}",
        problems.join("\n")
    );
    assert_eq!(differ.len(), EXPECTED_DIFFERENCES.len());
    // The suite as it stands in the corpus: 92 capture cases (the count guards against
    // silently dropping cases when the YAML changes shape).
    assert_eq!(
        cases.len(),
        92,
        "{:?}",
        cases.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
}

const CAPTURES: [&str; 6] = [
    "cat_write.scap",
    "connect_localhost.scap",
    "empty.scap",
    "open-multiple-files.scap",
    "ping_sendto.scap",
    "syscall.scap",
];

/// The stable Falco rules (and with them the incubating and sandbox ones) over each capture:
/// every rule loads for the syscall source without a warning (no field they name is unknown)
/// and none fires. Checked by hand against what the captures hold (a probe rule listing
/// every execve, connect, socket, ptrace, memfd_create, link, unlink, module load and open
/// under /etc): `cat /dev/null` from bash, one connect to 127.0.0.1:80, sockets of
/// systemd-logind and systemd-udevd, ping's sendto, opens of /tmp/file-N and
/// /etc/ld.so.cache, all on the host (`container.id` is `host`), none of which the rules
/// name; Falco's own `builtin_rules_no_warnings` case expects no detection on empty.scap.
#[test]
fn stable_falco_rules_over_each_capture() {
    let Some(base) = legacy() else { return };
    let rules = shared()
        .unwrap()
        .join("corpus/falco/falcosecurity-rules/rules");
    let mut got = String::new();
    for (label, files) in [
        ("falco_rules.yaml", &["falco_rules.yaml"][..]),
        (
            "falco_rules.yaml + falco-incubating_rules.yaml + falco-sandbox_rules.yaml",
            &[
                "falco_rules.yaml",
                "falco-incubating_rules.yaml",
                "falco-sandbox_rules.yaml",
            ][..],
        ),
    ] {
        for cap in CAPTURES {
            let mut args = vec!["watch".to_string()];
            for f in files {
                args.push("--rules".into());
                args.push(rules.join(f).display().to_string());
            }
            args.push("--capture".into());
            args.push(base.join("trace_files").join(cap).display().to_string());
            let o = moat(args.iter().map(String::as_str));
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            got.push_str(&format!(
                "== {label} over {cap}\n{}{}",
                stderr(&o),
                stdout(&o)
            ));
        }
    }
    golden("watch-capture-falco-rules.txt", &got);
}

/// The alert lines and JSON of the capture source go through the audit source's code: the
/// time is the event's, text lines as Falco writes them; `--all-matches` fires every rule.
#[test]
fn text_json_and_all_matches() {
    let Some(base) = legacy() else { return };
    let cap = base.join("trace_files/cat_write.scap");
    let cap = cap.to_str().unwrap();
    let order = base.join("rules/catchall_order.yaml");
    let order = order.to_str().unwrap();
    let o = moat(["watch", "--rules", order, "--capture", cap]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert!(
        lines[0].starts_with("2016-08-04T16:17:57.88"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(": Informational "))
            .count(),
        7
    );
    let err = stderr(&o);
    assert!(
        err.contains("moat: 2 syscall rules loaded, 2 running"),
        "{err}"
    );
    assert!(err.contains("moat: 345 events, 7 alerts\n"), "{err}");
    assert!(
        err.contains("moat:   open_dev_null: 1\nmoat:   dev_null: 6\n"),
        "{err}"
    );

    // Every matching rule: the open of /dev/null fires both.
    let o = moat([
        "watch",
        "--rules",
        order,
        "--capture",
        cap,
        "--all-matches",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0);
    let alerts: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 8);
    let first = &alerts[0];
    assert_eq!(first["rule"], "open_dev_null");
    assert_eq!(first["source"], "syscall");
    assert_eq!(first["priority"], "Informational");
    assert_eq!(alerts[1]["rule"], "dev_null");
    assert_eq!(alerts[1]["time"], first["time"]);
    assert!(
        first["time"]
            .as_str()
            .unwrap()
            .starts_with("2016-08-04T16:17:57.")
    );
}

/// A missing or corrupt capture exits 2 naming the file; one cut inside a block keeps the
/// events before the cut, warns, and exits 0.
#[test]
fn unreadable_corrupt_and_truncated_captures() {
    let Some(base) = legacy() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rules = base.join("rules/single_rule.yaml");
    let rules = rules.to_str().unwrap();
    let run = |p: &Path| moat(["watch", "--rules", rules, "--capture", p.to_str().unwrap()]);

    let missing = dir.path().join("missing.scap");
    let o = run(&missing);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot read capture"), "{}", stderr(&o));
    assert!(stderr(&o).contains("missing.scap"), "{}", stderr(&o));

    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(
            std::fs::File::open(base.join("trace_files/cat_write.scap")).unwrap(),
        ),
        &mut plain,
    )
    .unwrap();
    assert_eq!(plain.len(), 104_404);

    // Not a capture at all.
    let junk = dir.path().join("junk.scap");
    std::fs::write(&junk, b"this is not a capture file, only text\n").unwrap();
    let o = run(&junk);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("junk.scap"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");

    // A corrupt block in the middle (its trailer differs from its header): exit 2 after the
    // alerts of the events before it.
    let mut bad = plain.clone();
    let n = bad.len();
    let (mut off, mut last_event) = (0usize, 0usize);
    while off + 8 <= n {
        let ty = u32::from_le_bytes(bad[off..off + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bad[off + 4..off + 8].try_into().unwrap()) as usize;
        if ty == 0x204 && off < n * 3 / 4 {
            last_event = off;
        }
        off += len;
    }
    let len = u32::from_le_bytes(bad[last_event + 4..last_event + 8].try_into().unwrap()) as usize;
    bad[last_event + len - 1] ^= 0xff;
    let corrupt = dir.path().join("corrupt.scap");
    std::fs::write(&corrupt, &bad).unwrap();
    let o = run(&corrupt);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("corrupt.scap: offset"), "{err}");
    assert!(err.contains("trailer"), "{err}");

    // Cut in the middle of the last event block: the events before it, a warning, exit 0.
    let cut = dir.path().join("cut.scap");
    std::fs::write(&cut, &plain[..n - 10]).unwrap();
    let o = run(&cut);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("moat: warning: "), "{err}");
    assert!(err.contains("cut.scap: offset"), "{err}");
    assert!(err.contains("keeping the 344 events before it"), "{err}");
    assert!(
        err.contains("moat: 344 events, 8 alerts, capture truncated"),
        "{err}"
    );
    assert_eq!(stdout(&o).lines().count(), 8);

    // The same cut inside a gzip stream.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &plain).unwrap();
    let gz = gz.finish().unwrap();
    let cutgz = dir.path().join("cut.scap.gz");
    std::fs::write(&cutgz, &gz[..gz.len() * 9 / 10]).unwrap();
    let o = run(&cutgz);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("capture truncated"), "{}", stderr(&o));
}

/// Falco's `test_warnings` case: the rules of falco_rules_warnings.yaml that do not restrict
/// `evt.type` get LOAD_NO_EVTTYPE (exactly Falco's nine), and each rule is indexed under the
/// event types the case's `rules_events` lists (`all`: tried on every event).
#[test]
fn evttype_warnings_and_index() {
    let Some(base) = legacy() else { return };
    let text = std::fs::read_to_string(base.join("falco_tests.yaml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    let case = &doc["trace_files"]["test_warnings"];
    let rules = base.join(case["validate_rules_file"].as_str().unwrap());

    let want: Vec<String> = case["validate_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert_eq!(w["code"], "LOAD_NO_EVTTYPE");
            w["item_name"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(want.len(), 9);
    let o = moat([
        "watch",
        "--rules",
        rules.to_str().unwrap(),
        "--capture",
        base.join("trace_files/empty.scap").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let got: Vec<String> = stderr(&o)
        .lines()
        .filter(|l| l.contains("warning LOAD_NO_EVTTYPE"))
        .map(|l| {
            l.split("(rule '")
                .nth(1)
                .unwrap()
                .split("')")
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(got, want);

    // The index: each rule's event types by name.
    let mut rs = moat_runtime::RuleSet::default();
    rs.load_file(&rules);
    let c = moat_runtime::compile(
        &rs,
        moat_scap::State::new(&moat_scap::Metadata::default()),
        &[],
    );
    let names = |r: &moat_runtime::engine::CompiledRule<moat_scap::Field>| -> Vec<String> {
        match &r.evttypes {
            None => vec!["all".to_string()],
            Some(codes) => {
                let mut v: Vec<String> = codes
                    .iter()
                    .map(|&c| {
                        moat_scap::event_table::EVENTS[usize::from(c)]
                            .name
                            .to_string()
                    })
                    .collect();
                v.sort();
                v.dedup();
                v
            }
        }
    };
    let (mut checked, mut differ) = (0, 0);
    for item in case["rules_events"].as_array().unwrap() {
        for (rule, types) in item.as_object().unwrap() {
            let r = c
                .engine
                .rules()
                .iter()
                .find(|r| &r.name == rule)
                .unwrap_or_else(|| panic!("{rule} not compiled"));
            let mut want: Vec<String> = str_list(Some(types));
            want.sort();
            match EVTTYPE_DIFFERENCES.iter().find(|(n, _)| n == rule) {
                Some((_, moat)) => {
                    assert_ne!(names(r), want, "{rule} is listed as a difference");
                    assert_eq!(names(r), *moat, "{rule}");
                    differ += 1;
                }
                None => assert_eq!(names(r), want, "{rule}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 31);
    assert_eq!(differ, EVTTYPE_DIFFERENCES.len());
}

/// `rules_events` comes from Falco's old Lua evttype analysis, which gave up (`all`) when a
/// negation of another field came before or beside the `evt.type` check; the suite itself
/// stopped checking it ("mistakenly disabled ... without that output, none of the checks
/// below rules_events are considered", falco_tests.yaml), and Falco did not warn
/// LOAD_NO_EVTTYPE for these rules even then. moat indexes them under the event types the
/// condition requires (as libsinsp's evttype resolver does today): the condition is false
/// on every other type, so the narrower index changes no result.
const EVTTYPE_DIFFERENCES: &[(&str, &[&str])] = &[
    ("not_before_trailing_evttype", &["execve", "open"]),
    ("not_equals_before_trailing_evttype", &["execve", "open"]),
    ("not_equals_before_in", &["connect", "execve", "open"]),
    ("not_before_in", &["connect", "execve", "open"]),
    ("not_in_before_in", &["connect", "execve", "open"]),
    (
        "leading_in_not_equals_before_evttype",
        &["connect", "execve", "open"],
    ),
    ("not_equals_before_evttype", &["execve"]),
    ("not_equals_before_in_evttype", &["execve", "open"]),
    ("not_before_evttype", &["execve"]),
    ("not_before_evttype_using_in", &["execve", "open"]),
];
