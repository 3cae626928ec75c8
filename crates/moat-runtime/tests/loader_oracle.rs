//! Oracle: the rule-loading cases of Falco's legacy test suite (`falco_tests.yaml` and
//! `falco_tests_exceptions.yaml` under ../shared/corpus/falco/falcosecurity-falco-legacy-tests),
//! read from the YAML matrices themselves: every case that validates rule files
//! (`validate_rules_file`) must give exactly the expected error codes on the expected items,
//! and at least the expected warnings; every case that loads rule files for detection
//! (`rules_file`) must load without error (its detections need the syscall source and a
//! capture; they are counted here, not checked).
//!
//! The syscall rule files name syscall fields; this test resolves them with a stand-in
//! syscall field table (the fields those files use, with Falco's types, and event types),
//! since the capture reader with the real table lives in another crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_runtime::field::{FieldArg, FieldError, FieldSource, FieldType, Value};
use moat_runtime::{RuleSet, compile};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn shared_path(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/")).join(rel)
}

fn legacy() -> Option<PathBuf> {
    let p = shared_path("corpus/falco/falcosecurity-falco-legacy-tests/test");
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing (CI=true)", p.display());
    }
    eprintln!("skipped: {} not found", p.display());
    None
}

/// A stand-in for the syscall source: names and types only.
struct Syscalls;

const EVENT_TYPES: &[&str] = &[
    "open", "openat", "openat2", "execve", "execveat", "connect", "close", "read", "write",
    "madvise", "mmap", "accept", "socket", "sendto", "clone", "fork", "vfork", "procexit", "dup",
    "creat", "access",
];

const FIELDS: &[(&str, FieldType)] = &[
    ("evt.type", FieldType::Str),
    ("evt.dir", FieldType::Str),
    ("evt.args", FieldType::Str),
    ("evt.is_open_read", FieldType::Bool),
    ("evt.num", FieldType::Uint),
    ("evt.time", FieldType::Str),
    ("proc.name", FieldType::Str),
    ("proc.cmdline", FieldType::Str),
    ("proc.pname", FieldType::Str),
    ("proc.exepath", FieldType::Str),
    ("proc.tty", FieldType::Int),
    ("fd.name", FieldType::Str),
    ("fd.filename", FieldType::Str),
    ("fd.directory", FieldType::Str),
    ("fd.typechar", FieldType::Str),
    ("fd.cport", FieldType::Uint),
    ("fd.net", FieldType::IpNet),
    ("user.name", FieldType::Str),
    ("user.uid", FieldType::Uint),
    ("user.loginuid", FieldType::Int),
    ("container.id", FieldType::Str),
    ("container.info", FieldType::Str),
];

impl FieldSource for Syscalls {
    type Event = ();
    type Field = u16;

    fn source_name(&self) -> &'static str {
        "syscall"
    }

    fn resolve(&self, name: &str, arg: &FieldArg) -> Result<(u16, FieldType), FieldError> {
        match name {
            "proc.aname" => return Ok((100, FieldType::Str)),
            "proc.apid" => return Ok((101, FieldType::Int)),
            "evt.arg" if *arg != FieldArg::None => return Ok((102, FieldType::Str)),
            _ if name.starts_with("evt.arg.") && *arg == FieldArg::None => {
                return Ok((103, FieldType::Str));
            }
            _ => {}
        }
        let i = FIELDS
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or_else(|| FieldError::Unknown(name.to_string()))?;
        if *arg != FieldArg::None {
            return Err(FieldError::BadArgument {
                field: name.into(),
                problem: "takes no argument".into(),
            });
        }
        Ok((i as u16, FIELDS[i].1))
    }

    fn extract<'e>(&'e self, _: &'e (), _: &u16, _: &mut Vec<Value<'e>>) {}

    fn event_type_codes(&self, name: &str) -> Option<Vec<u16>> {
        Some(
            EVENT_TYPES
                .iter()
                .position(|t| *t == name)
                .map(|i| vec![i as u16])
                .unwrap_or_default(),
        )
    }

    fn has_event_types(&self) -> bool {
        true
    }
}

fn matrix(path: &Path) -> serde_json::Map<String, Json> {
    let text = std::fs::read_to_string(path).unwrap().replace("!mux", "");
    let v: Json = serde_saphyr::from_str(&text).unwrap();
    v["trace_files"].as_object().unwrap().clone()
}

fn strings(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

type Triple = (String, String, String);

fn load(base: &Path, files: &[String]) -> (BTreeSet<Triple>, BTreeSet<Triple>) {
    let mut rs = RuleSet::default();
    for f in files {
        rs.load_file(&base.join(f));
    }
    let c = compile(&rs, Syscalls, &["k8s_audit"]);
    let mut errors = BTreeSet::new();
    let mut warnings = BTreeSet::new();
    for d in &c.diagnostics {
        if std::env::var("MOAT_DEBUG_LOADER").is_ok() {
            eprintln!("{d}");
        }
        let t = (
            d.item_type.clone(),
            d.item_name.clone(),
            d.code.as_str().to_string(),
        );
        if d.code.is_error() {
            errors.insert(t)
        } else {
            warnings.insert(t)
        };
    }
    (errors, warnings)
}

fn triples(v: Option<&Json>) -> BTreeSet<Triple> {
    let Some(Json::Array(items)) = v else {
        return BTreeSet::new();
    };
    items
        .iter()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Json::as_str).unwrap_or("").to_string();
            (s("item_type"), s("item_name"), s("code"))
        })
        .collect()
}

#[test]
fn legacy_loader_cases() {
    let Some(base) = legacy() else { return };
    let mut checked = 0;
    let mut loaded = 0;
    let mut failures = Vec::new();
    for suite in ["falco_tests.yaml", "falco_tests_exceptions.yaml"] {
        for (name, case) in matrix(&base.join(suite)) {
            let validate = strings(case.get("validate_rules_file"));
            if !validate.is_empty() {
                checked += 1;
                let (errors, warnings) = load(&base, &validate);
                let want_errors = triples(case.get("validate_errors"));
                let want_warnings = triples(case.get("validate_warnings"));
                if errors != want_errors {
                    failures.push(format!(
                        "{suite}/{name}: errors want {want_errors:?}, got {errors:?}"
                    ));
                }
                let missing: Vec<_> = want_warnings.difference(&warnings).collect();
                if !missing.is_empty() {
                    failures.push(format!(
                        "{suite}/{name}: warnings missing {missing:?} (got {warnings:?})"
                    ));
                }
                continue;
            }
            let rules: Vec<String> = strings(case.get("rules_file"))
                .into_iter()
                .filter(|r| !r.contains("BUILD_DIR"))
                .collect();
            if rules.is_empty() || rules.iter().any(|r| r.ends_with("rules_dir")) {
                continue;
            }
            loaded += 1;
            let (errors, _) = load(&base, &rules);
            if !errors.is_empty() {
                failures.push(format!(
                    "{suite}/{name}: {rules:?} must load, got {errors:?}"
                ));
            }
        }
    }
    eprintln!("{checked} validation cases, {loaded} detection cases loaded");
    assert!(checked >= 40, "only {checked} validation cases found");
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
