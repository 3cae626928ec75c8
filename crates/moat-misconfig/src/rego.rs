//! Users' own checks, written in Rego and run by the `regorus` interpreter beside the built-in
//! rules, in the shape Trivy's custom checks use, so that existing Trivy policies run with
//! no edits.
//!
//! ## Loading ([`Policies::load`])
//! Every source is added to one engine (Rego v0 syntax first, as Trivy's checks are written,
//! then v1; a source neither accepts is a [`PolicyError::Parse`] naming the file and line).
//! A *check* is a package that declares a `deny` or `deny_*` rule (Trivy evaluates those and
//! no others; other packages are libraries the checks import) and lies in one of the
//! namespaces (`user` unless told otherwise, as Trivy's `--namespaces`: the package is the
//! namespace or under it). Its metadata comes from the `# METADATA` block before `package`
//! (`title`, `description`, `custom.id`, `custom.avd_id`, `custom.severity`,
//! `custom.recommended_actions`, `custom.input.selector[].type`) or from Trivy's older
//! `__rego_metadata__` and `__rego_input__` rules. A check without an id is named by its
//! package (`user.docker.no_root`); without a severity it is `UNKNOWN`, as in Trivy.
//!
//! ## Evaluating ([`Policies::check`])
//! The input document per file type is [`input`]'s (Trivy's shapes). A check runs on a file
//! when one of its selector types names the file's type (`dockerfile`; `kubernetes`;
//! `compose` or `yaml` for Compose files) or when it has no selector. Each result of a deny
//! rule is a finding: a string is the message; an object gives `msg` and, where present,
//! `startline`/`endline` (the finding's lines). `result.new(msg, cause)` is provided as in
//! Trivy: the message with the lines of `cause` (a Dockerfile command's
//! `StartLine`/`EndLine`, or the `__defsec_metadata` of a YAML mapping).
//!
//! ## Bounds
//! At most [`MAX_POLICY_FILES`] sources, each at most [`MAX_POLICY_BYTES`]; evaluation of one
//! file by all checks together has [`FILE_BUDGET`] of wall-clock time (regorus' execution
//! timer: a policy that loops is stopped and named in a warning); at most [`MAX_RESULTS`]
//! findings per check and file. A check that fails on a file (an evaluation error, the time
//! budget) is a warning naming the check and the file, and the other checks still run; a
//! built-in's error makes its expression undefined, as OPA's non-strict default does.
//! regorus has no memory cap without its own allocator: a policy can allocate as much as its
//! time budget lets it.

#[path = "rego_input.rs"]
pub mod input;

use crate::dockerfile::Checked;
use moat_model::finding::{Detail, Finding, FindingLocation, MisconfigDetail, Span};
use moat_model::{Code, Diagnostic, Severity};
use serde_json::{Value as Json, json};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most policy files loaded.
pub const MAX_POLICY_FILES: usize = 2_000;
/// The largest policy file loaded.
pub const MAX_POLICY_BYTES: usize = 1 << 20;
/// The wall-clock time all checks together may spend on one file.
pub const FILE_BUDGET: Duration = Duration::from_secs(2);
/// The most findings one check reports on one file.
pub const MAX_RESULTS: usize = 1_000;
/// The namespace checks must lie in unless told otherwise (Trivy's default for custom checks).
pub const DEFAULT_NAMESPACE: &str = "user";

/// Why policies could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        path: String,
        line: Option<u32>,
        message: String,
    },
    #[error("{path}: {size} bytes, over the {MAX_POLICY_BYTES}-byte limit of a policy")]
    TooLarge { path: String, size: usize },
    #[error("more than {MAX_POLICY_FILES} policy files")]
    TooMany,
    #[error("{path}: not UTF-8 text")]
    NotText { path: String },
    #[error("policy {package}: {message}")]
    Metadata { package: String, message: String },
}

/// What kind of file an input document comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Dockerfile,
    Kubernetes,
    Compose,
}

impl FileType {
    /// The `target_type` of findings (as the built-in rules say it).
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Dockerfile => "dockerfile",
            FileType::Kubernetes => "kubernetes",
            FileType::Compose => "compose",
        }
    }

    fn selected_by(self, selector: &str) -> bool {
        let s = selector.to_ascii_lowercase();
        match self {
            FileType::Dockerfile => s == "dockerfile",
            FileType::Kubernetes => s == "kubernetes",
            FileType::Compose => s == "compose" || s == "yaml",
        }
    }
}

/// A check's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// `custom.id` (or `__rego_metadata__.id`), else the package path.
    pub id: String,
    pub avd_id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Severity,
    pub resolution: Option<String>,
    /// `custom.input.selector[].type`; empty: every file type.
    pub selectors: Vec<String>,
}

impl Default for Meta {
    fn default() -> Meta {
        Meta {
            id: String::new(),
            avd_id: None,
            title: None,
            description: None,
            severity: Severity::Unknown,
            resolution: None,
            selectors: Vec::new(),
        }
    }
}

/// One check: a package with deny rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The package path without `data.` (`user.docker.no_root`).
    pub package: String,
    /// Its `deny` and `deny_*` rules.
    pub rules: Vec<String>,
    pub meta: Meta,
}

/// Loaded policies, ready to run on files.
pub struct Policies {
    engine: Mutex<regorus::Engine>,
    checks: Vec<Check>,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("checks", &self.checks)
            .finish()
    }
}

impl Policies {
    /// Loads `sources` (a name for messages, the text) and picks the checks in `namespaces`
    /// (empty: [`DEFAULT_NAMESPACE`]).
    pub fn load(sources: &[(String, Vec<u8>)], namespaces: &[String]) -> Result<Self, PolicyError> {
        if sources.len() > MAX_POLICY_FILES {
            return Err(PolicyError::TooMany);
        }
        let namespaces: Vec<String> = if namespaces.is_empty() {
            vec![DEFAULT_NAMESPACE.to_string()]
        } else {
            namespaces.to_vec()
        };
        let mut engine = regorus::Engine::new();
        engine.set_strict_builtin_errors(false);
        engine
            .add_extension("result.new".to_string(), 2, Box::new(result_new))
            .map_err(|e| PolicyError::Metadata {
                package: "result.new".to_string(),
                message: e.to_string(),
            })?;
        // package -> (rules, metadata block, declares old-style metadata)
        let mut found: Vec<(String, Vec<String>, Option<Json>, bool)> = Vec::new();
        for (path, bytes) in sources {
            if bytes.len() > MAX_POLICY_BYTES {
                return Err(PolicyError::TooLarge {
                    path: path.clone(),
                    size: bytes.len(),
                });
            }
            let text = std::str::from_utf8(bytes)
                .map_err(|_| PolicyError::NotText { path: path.clone() })?;
            let text = &*quote_verbs(text);
            let package = add_source(&mut engine, path, text)?;
            let package = package
                .strip_prefix("data.")
                .unwrap_or(&package)
                .to_string();
            let rules = deny_rules(text);
            let meta = metadata_block(text).and_then(|y| {
                serde_saphyr::from_str_with_options::<Json>(&y, crate::k8s::yaml_options()).ok()
            });
            let old = text.contains("__rego_metadata__") || text.contains("__rego_input__");
            match found.iter_mut().find(|f| f.0 == package) {
                Some(f) => {
                    for r in rules {
                        if !f.1.contains(&r) {
                            f.1.push(r);
                        }
                    }
                    f.2 = f.2.take().or(meta);
                    f.3 |= old;
                }
                None => found.push((package, rules, meta, old)),
            }
        }
        let mut checks = Vec::new();
        for (package, rules, meta, old) in found {
            let in_namespace = namespaces
                .iter()
                .any(|n| package == *n || package.starts_with(&format!("{n}.")));
            if rules.is_empty() || !in_namespace {
                continue;
            }
            let mut m = meta.map(|m| from_annotation(&m)).unwrap_or_default();
            if old {
                old_style(&mut engine, &package, &mut m);
            }
            if m.id.is_empty() {
                m.id = package.clone();
            }
            checks.push(Check {
                package,
                rules,
                meta: m,
            });
        }
        checks.sort_by(|a, b| a.package.cmp(&b.package));
        Ok(Policies {
            engine: Mutex::new(engine),
            checks,
        })
    }

    /// The checks that will run, in package order.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Whether any check runs on files of type `t`.
    pub fn wants(&self, t: FileType) -> bool {
        self.checks.iter().any(|c| selects(c, t))
    }

    /// Runs the checks on one file of type `t` (its path for findings, its bytes).
    pub fn check(&self, t: FileType, path: &str, bytes: &[u8]) -> Checked {
        let mut out = Checked::default();
        if !self.wants(t) {
            return out;
        }
        let inputs = match inputs_of(t, path, bytes) {
            Ok(i) => i,
            Err(d) => {
                out.diagnostics.push(d);
                return out;
            }
        };
        let Ok(mut engine) = self.engine.lock() else {
            out.diagnostics.push(
                Diagnostic::new(Code::Other, "the policy engine failed earlier: not checked")
                    .at(path, None),
            );
            return out;
        };
        let started = Instant::now();
        for (input, resource) in inputs {
            engine.set_input(regorus::Value::from(input));
            for c in self.checks.iter().filter(|c| selects(c, t)) {
                let mut n = 0usize;
                for rule in &c.rules {
                    let Some(left) = FILE_BUDGET.checked_sub(started.elapsed()) else {
                        out.diagnostics.push(
                            Diagnostic::new(
                                Code::SlowFile,
                                format!(
                                    "policy {}: the {:?} budget for this file ran out",
                                    c.meta.id, FILE_BUDGET
                                ),
                            )
                            .at(path, None),
                        );
                        return out;
                    };
                    engine.set_execution_timer_config(
                        regorus::utils::limits::ExecutionTimerConfig {
                            limit: left,
                            check_interval: NonZeroU32::MIN,
                        },
                    );
                    let v = match engine.eval_rule(format!("data.{}.{rule}", c.package)) {
                        Ok(v) => v,
                        Err(e) => {
                            out.diagnostics.push(
                                Diagnostic::new(
                                    Code::Other,
                                    format!(
                                        "policy {} ({}.{rule}) failed: {}",
                                        c.meta.id,
                                        c.package,
                                        first_line(&e.to_string())
                                    ),
                                )
                                .at(path, None),
                            );
                            continue;
                        }
                    };
                    for r in results(&v) {
                        if n >= MAX_RESULTS {
                            break;
                        }
                        n += 1;
                        out.findings
                            .push(finding(c, t, path, r, resource.as_deref()));
                    }
                }
            }
        }
        out.findings.sort_by(|a, b| {
            let key = |f: &Finding| {
                (
                    f.id.clone(),
                    f.location
                        .as_ref()
                        .and_then(|l| l.span)
                        .map(|s| (s.start_line, s.end_line)),
                )
            };
            key(a).cmp(&key(b))
        });
        out.findings.dedup();
        out
    }
}

fn selects(c: &Check, t: FileType) -> bool {
    c.meta.selectors.is_empty() || c.meta.selectors.iter().any(|s| t.selected_by(s))
}

fn first_line(s: &str) -> String {
    // regorus' messages start with a located source excerpt; the last line says what.
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Adds one source, Rego v0 first (Trivy's checks), then v1; the package path.
fn add_source(engine: &mut regorus::Engine, path: &str, text: &str) -> Result<String, PolicyError> {
    engine.set_rego_v0(true);
    let v0 = engine.add_policy(path.to_string(), text.to_string());
    let v0_err = match v0 {
        Ok(p) => return Ok(p),
        Err(e) => e.to_string(),
    };
    engine.set_rego_v0(false);
    let v1_err = match engine.add_policy(path.to_string(), text.to_string()) {
        Ok(p) => return Ok(p),
        Err(e) => e.to_string(),
    };
    // The error of the syntax that read further is the one that says what is wrong.
    let (l0, l1) = (error_line(&v0_err), error_line(&v1_err));
    let (line, msg) = if l1 > l0 { (l1, v1_err) } else { (l0, v0_err) };
    Err(PolicyError::Parse {
        path: path.to_string(),
        line,
        message: first_line(&msg),
    })
}

/// The line of a regorus error (`--> file:LINE:COL`).
fn error_line(msg: &str) -> Option<u32> {
    let at = msg.lines().find_map(|l| l.trim().strip_prefix("--> "))?;
    let mut parts = at.rsplitn(3, ':');
    let _col = parts.next()?;
    parts.next()?.parse().ok()
}

/// The `deny` and `deny_*` rules a source declares (the identifier opening a line).
fn deny_rules(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.lines() {
        let l = l.trim_start();
        let ident: String = l
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !(ident == "deny" || ident.starts_with("deny_")) {
            continue;
        }
        let next = l[ident.len()..].trim_start().chars().next();
        let declares = matches!(next, Some('[' | '{' | '=' | ':'))
            || l[ident.len()..].trim_start().starts_with("contains ")
            || l[ident.len()..].trim_start().starts_with("if ");
        if declares && !out.contains(&ident) {
            out.push(ident);
        }
    }
    out
}

/// The YAML of the `# METADATA` block that belongs to the package: the one right before
/// `package`, else one saying `scope: package`.
fn metadata_block(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks: Vec<(String, usize)> = Vec::new(); // (yaml, line after the block)
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "# METADATA" {
            let mut yaml = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim_start().starts_with('#') {
                let body = lines[i].trim_start().strip_prefix('#').unwrap_or("");
                yaml.push_str(body.strip_prefix(' ').unwrap_or(body));
                yaml.push('\n');
                i += 1;
            }
            blocks.push((yaml, i));
            continue;
        }
        i += 1;
    }
    let package_line = lines
        .iter()
        .position(|l| l.trim_start().starts_with("package "))?;
    blocks
        .iter()
        .find(|(_, after)| {
            lines
                .get(*after..package_line)
                .is_some_and(|between| between.iter().all(|l| l.trim().is_empty()))
        })
        .or_else(|| {
            blocks
                .iter()
                .find(|(y, _)| y.lines().any(|l| l.trim() == "scope: package"))
        })
        .map(|(y, _)| y.clone())
}

fn text(v: &Json, path: &[&str]) -> Option<String> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    match v {
        Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn selectors(v: Option<&Json>) -> Vec<String> {
    v.and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.get("type").and_then(Json::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The metadata of an OPA `# METADATA` annotation in Trivy's layout.
fn from_annotation(m: &Json) -> Meta {
    let custom = m.get("custom").cloned().unwrap_or(Json::Null);
    Meta {
        id: text(&custom, &["id"]).unwrap_or_default(),
        avd_id: text(&custom, &["avd_id"]),
        title: text(m, &["title"]),
        description: text(m, &["description"]),
        severity: text(&custom, &["severity"])
            .and_then(|s| Severity::from_label(&s))
            .unwrap_or(Severity::Unknown),
        resolution: text(&custom, &["recommended_actions"])
            .or_else(|| text(&custom, &["recommended_action"])),
        selectors: selectors(custom.get("input").and_then(|i| i.get("selector"))),
    }
}

/// Trivy's older metadata rules: `__rego_metadata__` (`id`, `avd_id`, `title`, `severity`,
/// `description`, `recommended_actions`) and `__rego_input__` (`selector`); they fill what
/// the annotation left empty.
fn old_style(engine: &mut regorus::Engine, package: &str, m: &mut Meta) {
    engine.set_input(regorus::Value::new_object());
    let get = |engine: &mut regorus::Engine, rule: &str| -> Json {
        engine
            .eval_rule(format!("data.{package}.{rule}"))
            .ok()
            .and_then(|v| serde_json::to_value(&v).ok())
            .unwrap_or(Json::Null)
    };
    let md = get(engine, "__rego_metadata__");
    let fill = |slot: &mut Option<String>, key: &str| {
        if slot.is_none() {
            *slot = text(&md, &[key]);
        }
    };
    if m.id.is_empty() {
        m.id = text(&md, &["id"]).unwrap_or_default();
    }
    fill(&mut m.avd_id, "avd_id");
    fill(&mut m.title, "title");
    fill(&mut m.description, "description");
    fill(&mut m.resolution, "recommended_actions");
    if m.severity == Severity::Unknown
        && let Some(s) = text(&md, &["severity"]).and_then(|s| Severity::from_label(&s))
    {
        m.severity = s;
    }
    if m.selectors.is_empty() {
        let input = get(engine, "__rego_input__");
        m.selectors = selectors(input.get("selector"));
    }
}

/// `result.new(msg, cause)`: `{"msg": msg, "startline", "endline", "filepath"}` with the
/// cause's lines (a Dockerfile command's `StartLine`/`EndLine`/`Path`, or a mapping's
/// `__defsec_metadata`).
fn result_new(args: Vec<regorus::Value>) -> anyhow::Result<regorus::Value> {
    let msg = args
        .first()
        .and_then(|m| serde_json::to_value(m).ok())
        .unwrap_or(Json::Null);
    let cause = args
        .get(1)
        .and_then(|c| serde_json::to_value(c).ok())
        .unwrap_or(Json::Null);
    let mut out = json!({ "msg": msg });
    let meta = cause.get("__defsec_metadata");
    let pick = |lower: &str, upper: &str| {
        meta.and_then(|m| m.get(lower))
            .or_else(|| cause.get(upper))
            .filter(|v| !v.is_null())
            .cloned()
    };
    for (lower, upper) in [
        ("startline", "StartLine"),
        ("endline", "EndLine"),
        ("filepath", "Path"),
    ] {
        if let (Some(v), Some(o)) = (pick(lower, upper), out.as_object_mut()) {
            o.insert(lower.to_string(), v);
        }
    }
    Ok(regorus::Value::from(out))
}

/// One result of a deny rule.
struct Outcome {
    msg: String,
    lines: Option<(u32, u32)>,
}

/// The results of a rule's value: a set or array of strings or objects with `msg`; a lone
/// string or object too.
fn results(v: &regorus::Value) -> Vec<Outcome> {
    let Ok(j) = serde_json::to_value(v) else {
        return Vec::new();
    };
    let items = match j {
        Json::Array(a) => a,
        Json::String(s) if s == "<undefined>" => Vec::new(),
        Json::Bool(false) | Json::Null => Vec::new(),
        other => vec![other],
    };
    items
        .into_iter()
        .filter_map(|i| match i {
            Json::String(s) => Some(Outcome {
                msg: s,
                lines: None,
            }),
            Json::Object(o) => {
                let msg = match o.get("msg") {
                    Some(Json::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => return None,
                };
                let line = |k: &str| {
                    o.get(k)
                        .and_then(Json::as_u64)
                        .filter(|l| *l > 0)
                        .and_then(|l| u32::try_from(l).ok())
                };
                let lines = line("startline").map(|s| (s, line("endline").unwrap_or(s).max(s)));
                Some(Outcome { msg, lines })
            }
            Json::Bool(true) => Some(Outcome {
                msg: "denied".to_string(),
                lines: None,
            }),
            _ => None,
        })
        .collect()
}

fn finding(c: &Check, t: FileType, path: &str, r: Outcome, resource: Option<&str>) -> Finding {
    let m = &c.meta;
    let mut f = Finding::new(
        m.id.clone(),
        m.severity,
        Detail::Misconfiguration(MisconfigDetail {
            rule: m.id.clone(),
            target_type: t.as_str().to_string(),
            message: r.msg,
            resolution: m.resolution.clone(),
            references: Vec::new(),
            cause: None,
            tags: vec!["rego".to_string(), c.package.clone()],
        }),
    );
    if let Some(a) = &m.avd_id
        && *a != m.id
    {
        f.aliases = vec![a.clone()];
    }
    f.title = m.title.clone().or_else(|| m.description.clone());
    f.location = Some(FindingLocation {
        path: Some(path.to_string()),
        span: r.lines.map(|(s, e)| Span::lines(s, e)),
        resource: resource.map(str::to_string),
        ..Default::default()
    });
    f
}

/// The input documents of a file, each with the resource findings on it name.
fn inputs_of(
    t: FileType,
    path: &str,
    bytes: &[u8],
) -> Result<Vec<(Json, Option<String>)>, Diagnostic> {
    match t {
        FileType::Dockerfile => {
            let df = crate::dockerfile::parse(bytes).map_err(|e| {
                let mut d = Diagnostic::parse(format!("Dockerfile not checked by policies: {e}"))
                    .at(path, None);
                if let Some(l) = e.line() {
                    d = d.line(l);
                }
                d
            })?;
            let text = String::from_utf8_lossy(bytes);
            Ok(vec![(input::dockerfile(path, &text, &df), None)])
        }
        FileType::Kubernetes => {
            let (resources, _) = crate::k8s::load(bytes);
            let text = String::from_utf8_lossy(bytes);
            let docs = crate::k8s::documents(&text);
            Ok(resources
                .into_iter()
                .map(|r| {
                    let reference = r.reference();
                    // The document with its lines where it reads as YAML; else the value
                    // with its first line.
                    let doc = docs
                        .iter()
                        .find(|(line, _)| *line == r.line)
                        .and_then(|(line, d)| input::yaml_with_lines(d, *line, path))
                        .filter(|v| {
                            v.get("kind") == r.value.get("kind")
                                && v.get("metadata").and_then(|m| m.get("name"))
                                    == r.value.get("metadata").and_then(|m| m.get("name"))
                        })
                        .unwrap_or_else(|| with_top_lines(r.value, r.line, path));
                    (doc, Some(reference))
                })
                .collect())
        }
        FileType::Compose => {
            let text = std::str::from_utf8(bytes).map_err(|_| {
                Diagnostic::parse("not UTF-8 text: not checked by policies").at(path, None)
            })?;
            let doc = input::compose_with_lines(text, path).ok_or_else(|| {
                Diagnostic::parse("not read as YAML: not checked by policies").at(path, None)
            })?;
            Ok(vec![(doc, None)])
        }
    }
}

fn with_top_lines(mut v: Json, line: u32, path: &str) -> Json {
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "__defsec_metadata".to_string(),
            json!({"startline": line, "endline": line, "filepath": path, "offset": 0}),
        );
    }
    v
}

/// `sprintf`'s `%q` verb in the policy's string literals as a quoted `%s`: regorus (0.11)
/// does not know `%q` and its `sprintf` then fails, which makes the rule silently undefined,
/// while Trivy's policies use `%q` freely. The difference left: a value holding quotes,
/// backslashes or control characters is not escaped as Go's `%q` would. A `%%q` (a literal
/// percent sign then `q`) is left alone; comments are skipped.
fn quote_verbs(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("%q") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    // the delimiter of the string literal we are in
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '#') => {
                out.push(c);
                for c in chars.by_ref() {
                    out.push(c);
                    if c == '\n' {
                        break;
                    }
                }
            }
            (None, '"' | '`') => {
                quote = Some(c);
                out.push(c);
            }
            (Some('"'), '\\') => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (Some(q), _) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(q), '%') => match chars.peek() {
                Some('%') => {
                    out.push_str("%%");
                    chars.next();
                }
                Some('q') => {
                    chars.next();
                    out.push_str(if q == '"' { "\\\"%s\\\"" } else { "\"%s\"" });
                }
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_q_becomes_a_quoted_percent_s() {
        let src = "# %q in a comment\nm := sprintf(\"image %q, %%q, \\\"%s\\\"\", [a, b])\nr := sprintf(`raw %q`, [x])\n";
        assert_eq!(
            quote_verbs(src),
            "# %q in a comment\nm := sprintf(\"image \\\"%s\\\", %%q, \\\"%s\\\"\", [a, b])\nr := sprintf(`raw \"%s\"`, [x])\n"
        );
        assert!(matches!(
            quote_verbs("no verbs"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    use super::*;

    fn msg(f: &Finding) -> &str {
        match &f.detail {
            Detail::Misconfiguration(m) => &m.message,
            _ => "",
        }
    }

    fn load(srcs: &[(&str, &str)]) -> Result<Policies, PolicyError> {
        let v: Vec<(String, Vec<u8>)> = srcs
            .iter()
            .map(|(p, s)| (p.to_string(), s.as_bytes().to_vec()))
            .collect();
        Policies::load(&v, &[])
    }

    #[test]
    fn deny_rules_are_found_by_their_heads() {
        let r = deny_rules(
            "package x\ndeny[res] {\n}\ndeny_root contains msg if {\n}\ndenyall[x] { }\n  # deny[x]\nwarn[x] {}\ndeny = true\n",
        );
        assert_eq!(r, ["deny", "deny_root"]);
    }

    #[test]
    fn a_metadata_block_before_package_is_read() {
        let y = metadata_block(
            "# METADATA\n# title: T\n# custom:\n#   id: X1\n#   severity: high\npackage user.x\n",
        )
        .unwrap();
        let j: Json = serde_saphyr::from_str(&y).unwrap();
        let m = from_annotation(&j);
        assert_eq!(m.id, "X1");
        assert_eq!(m.title.as_deref(), Some("T"));
        assert_eq!(m.severity, Severity::High);
        assert!(metadata_block("# METADATA\n# title: T\n\nimport x\npackage p\n").is_none());
    }

    #[test]
    fn a_policy_that_does_not_parse_names_file_and_line() {
        let e = load(&[("bad.rego", "package user.x\n\ndeny[msg] {\n  msg := \n}\n")]).unwrap_err();
        match e {
            PolicyError::Parse {
                path,
                line,
                message,
            } => {
                // regorus places the error at the rule whose body does not close.
                assert_eq!(path, "bad.rego");
                assert_eq!(line, Some(3));
                assert_eq!(message, "error: expecting }");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            load(&[("x.rego", "not rego at all")]).unwrap_err(),
            PolicyError::Parse { line: Some(1), .. }
        ));
    }

    #[test]
    fn v0_and_v1_syntax_and_namespaces() {
        let p = load(&[
            ("a.rego", "package user.a\ndeny[msg] {\n  input.x == 1\n  msg := \"a\"\n}\n"),
            (
                "b.rego",
                "package user.b\nimport rego.v1\ndeny contains msg if {\n  input.x == 1\n  msg := \"b\"\n}\n",
            ),
            ("c.rego", "package other.c\ndeny[msg] { msg := \"c\" }\n"),
            ("lib.rego", "package user.lib\nis_one(x) { x == 1 }\n"),
        ])
        .unwrap();
        let ids: Vec<&str> = p.checks().iter().map(|c| c.meta.id.as_str()).collect();
        assert_eq!(ids, ["user.a", "user.b"]);
        let c = p.check(FileType::Compose, "compose.yaml", b"x: 1\n");
        let msgs: Vec<String> = c.findings.iter().map(|f| msg(f).to_string()).collect();
        assert_eq!(msgs, ["a", "b"]);
        assert!(c.diagnostics.is_empty());
        assert_eq!(c.findings[0].severity, Severity::Unknown);
    }

    #[test]
    fn result_new_takes_the_lines_of_its_cause() {
        let p = load(&[(
            "u.rego",
            "# METADATA\n# title: No root\n# custom:\n#   id: U1\n#   avd_id: AVD-U-1\n#   severity: HIGH\n#   recommended_actions: Use a user\n#   input:\n#     selector:\n#     - type: dockerfile\npackage user.u\n\ndeny[res] {\n  cmd := input.Stages[_].Commands[_]\n  cmd.Cmd == \"user\"\n  res := result.new(sprintf(\"user %s\", [cmd.Value[0]]), cmd)\n}\n",
        )])
        .unwrap();
        assert!(!p.wants(FileType::Kubernetes));
        let c = p.check(FileType::Dockerfile, "Dockerfile", b"FROM a\n\nUSER root\n");
        assert_eq!(c.findings.len(), 1);
        let f = &c.findings[0];
        assert_eq!(f.id, "U1");
        assert_eq!(f.aliases, ["AVD-U-1"]);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.title.as_deref(), Some("No root"));
        assert_eq!(msg(f), "user root");
        let span = f.location.as_ref().unwrap().span.unwrap();
        assert_eq!((span.start_line, span.end_line), (3, 3));
    }

    #[test]
    fn old_style_metadata_and_kubernetes_lines() {
        let p = load(&[(
            "k.rego",
            "package user.k\n__rego_metadata__ := {\"id\": \"K1\", \"title\": \"t\", \"severity\": \"LOW\"}\n__rego_input__ := {\"selector\": [{\"type\": \"kubernetes\"}]}\ndeny[res] {\n  c := input.spec.containers[_]\n  res := result.new(sprintf(\"container %s\", [c.name]), c)\n}\n",
        )])
        .unwrap();
        assert_eq!(p.checks()[0].meta.selectors, ["kubernetes"]);
        let c = p.check(
            FileType::Kubernetes,
            "pod.yaml",
            b"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n",
        );
        assert_eq!(c.findings.len(), 1, "{:?}", c.diagnostics);
        let f = &c.findings[0];
        assert_eq!((f.id.as_str(), f.severity), ("K1", Severity::Low));
        let loc = f.location.as_ref().unwrap();
        assert_eq!(loc.resource.as_deref(), Some("Pod/p"));
        let span = loc.span.unwrap();
        assert_eq!((span.start_line, span.end_line), (8, 9));
    }

    #[test]
    fn a_failing_or_looping_policy_is_a_warning() {
        let p = load(&[
            (
                "e.rego",
                "package user.e\ndeny[msg] {\n  x := to_number(\"nope\")\n  msg := sprintf(\"%v\", [x])\n}\n",
            ),
            (
                "l.rego",
                "package user.l\ndeny[msg] {\n  some i, j, k\n  numbers.range(1, 100000)[i]\n  numbers.range(1, 100000)[j]\n  numbers.range(1, 100000)[k]\n  i + j + k < 0\n  msg := \"never\"\n}\n",
            ),
        ])
        .unwrap();
        let t = Instant::now();
        let c = p.check(FileType::Compose, "compose.yaml", b"x: 1\n");
        assert!(t.elapsed() < FILE_BUDGET + Duration::from_secs(3));
        assert!(c.findings.is_empty());
        assert!(!c.diagnostics.is_empty());
        assert!(
            c.diagnostics
                .iter()
                .any(|d| d.message.contains("user.l") && d.path.as_deref() == Some("compose.yaml")),
            "{:?}",
            c.diagnostics
        );
    }
}
