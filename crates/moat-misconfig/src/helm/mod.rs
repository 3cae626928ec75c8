//! Helm charts, rendered as `helm template` renders them, so that their manifests can be
//! checked: a directory with `Chart.yaml` and `templates/` ([`is_chart`]).
//!
//! * Values: the chart's `values.yaml`, then each `--helm-values` file, then each
//!   `--helm-set a.b=c` (Helm's `--set` syntax: `,` between assignments, `a[0]=x`, `{x,y}`
//!   lists, `null` deletes), merged in that order as Helm coalesces them (maps merged key by
//!   key, a null deletes the chart's default).
//! * The context: `.Values`, `.Release` (Name `release-name`, Namespace `default`, Service
//!   `Helm`, IsInstall), `.Chart` (Chart.yaml's fields, capitalised as Helm's: Name,
//!   Version, AppVersion, ...), `.Capabilities` (KubeVersion v1.31.0 with Major, Minor,
//!   GitVersion; `APIVersions.Has`), `.Template` (Name, BasePath) and `.Files.Get`.
//! * Templates: Go's text/template ([`parse`], [`exec`]) with Sprig's and Helm's common
//!   functions ([`funcs`]); `templates/_*` files only define templates; the others whose
//!   names end in `.yaml`, `.yml` or `.json` are rendered (NOTES.txt is not), each to one
//!   text that may hold several documents.
//! * What is not done: subcharts under `charts/` (a warning says they were skipped),
//!   `.Files.Glob`/`AsConfig`/`AsSecrets`, `lookup` (an empty map, as `helm template` gives),
//!   `genCA` and the other certificate and date functions. A template that calls an unknown
//!   function, fails (`fail`, `required`) or errors is skipped with a warning naming the
//!   chart's template; the others are rendered.
//! * Bounds: [`exec::Limits`] (output size per template, include depth, steps), the nesting
//!   of blocks and parentheses ([`parse::MAX_NESTING`]), and YAML read under the same
//!   budget as manifests.

pub mod exec;
pub mod funcs;
pub mod parse;
pub mod value;

use moat_model::{Code, Diagnostic};
use value::{Map, Value};

/// The Kubernetes version `.Capabilities.KubeVersion` reports.
pub const KUBE_VERSION: (u64, u64, u64) = (1, 31, 0);

/// What users add to the chart's values.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Values files (`--helm-values`): a name for errors, and the bytes.
    pub values: Vec<(String, Vec<u8>)>,
    /// `--helm-set` entries.
    pub set: Vec<String>,
}

/// Why a chart could not be rendered at all.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("{chart}/Chart.yaml: {message}")]
    ChartYaml { chart: String, message: String },
    #[error("{file}: {message}")]
    Values { file: String, message: String },
    #[error("--helm-set {entry:?}: {message}")]
    Set { entry: String, message: String },
}

/// A rendered chart: each template's output (its path inside the chart, the text), and
/// warnings about what was skipped (at the template's path, `CHART/templates/x.yaml`).
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub files: Vec<(String, String)>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether the relative paths of a directory's files make it a chart.
pub fn is_chart<'a>(mut paths: impl Iterator<Item = &'a str>) -> bool {
    let (mut chart, mut templates) = (false, false);
    paths.any(|p| {
        chart |= p == "Chart.yaml";
        templates |= p.starts_with("templates/");
        chart && templates
    })
}

fn yaml_value(name: &str, bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{name}: not UTF-8 text"))?;
    if text.trim().is_empty() {
        return Ok(Value::map(Map::new()));
    }
    let v: serde_json::Value =
        serde_saphyr::from_str_with_options(text, crate::k8s::yaml_options()).map_err(|e| {
            let msg = e.to_string();
            msg.lines()
                .next()
                .unwrap_or("invalid YAML")
                .trim()
                .to_string()
        })?;
    Ok(match v {
        serde_json::Value::Null => Value::map(Map::new()),
        v => Value::from_json(v),
    })
}

/// Helm's coalescing: `over` onto `base`, maps merged key by key, a nil deleting the key.
pub fn coalesce(base: &mut Map, over: &Map) {
    for (k, v) in over {
        match (base.get(k), v) {
            (_, Value::Nil) => {
                base.remove(k);
            }
            (Some(Value::Map(b)), Value::Map(o)) if !std::rc::Rc::ptr_eq(b, o) => {
                let o = o.borrow().clone();
                coalesce(&mut b.borrow_mut(), &o);
            }
            _ => {
                base.insert(k.clone(), funcs::deep_copy(v, 0));
            }
        }
    }
}

/// Splits at `sep` not escaped by `\` and not inside `{...}`.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c == sep && depth == 0 => out.push(std::mem::take(&mut cur)),
            c => {
                if c == '{' {
                    depth += 1;
                } else if c == '}' {
                    depth = depth.saturating_sub(1);
                }
                cur.push(c);
            }
        }
    }
    out.push(cur);
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A `--set` value: a bool, null, an integer, or a string.
fn typed(s: &str) -> Value {
    match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Nil,
        _ if (s == "0" || !s.starts_with('0') && !s.starts_with("-0"))
            && s.parse::<i64>().is_ok() =>
        {
            Value::Int(s.parse().unwrap_or_default())
        }
        _ => Value::str(unescape(s)),
    }
}

/// Applies one `--helm-set` entry (`a.b=c,d[0]=e,f={x,y}`) to `into`.
pub fn apply_set(entry: &str, into: &mut Map) -> Result<(), ChartError> {
    let bad = |message: String| ChartError::Set {
        entry: entry.to_string(),
        message,
    };
    for assignment in split_unescaped(entry, ',') {
        if assignment.is_empty() {
            continue;
        }
        let parts = split_unescaped(&assignment, '=');
        if parts.len() < 2 {
            return Err(bad(format!(
                "{assignment:?} has no value (expected key=value)"
            )));
        }
        let key = &parts[0];
        let raw = parts[1..].join("=");
        let value = match raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            Some(items) => Value::list(
                split_unescaped(items, ',')
                    .iter()
                    .filter(|i| !i.is_empty())
                    .map(|i| typed(i))
                    .collect(),
            ),
            None => typed(&raw),
        };
        // The key's path: names, each with `[N]` indexes.
        let mut path: Vec<(String, Vec<usize>)> = Vec::new();
        for seg in split_unescaped(key, '.') {
            let (name, rest) = match seg.find('[') {
                Some(i) => (&seg[..i], &seg[i..]),
                None => (seg.as_str(), ""),
            };
            let mut idx = Vec::new();
            for part in rest.split('[').skip(1) {
                let n = part
                    .strip_suffix(']')
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n <= 65_536)
                    .ok_or_else(|| bad(format!("bad index in {seg:?}")))?;
                idx.push(n);
            }
            if name.is_empty() {
                return Err(bad(format!("empty key in {key:?}")));
            }
            path.push((unescape(name), idx));
        }
        set_path(into, &path, value);
    }
    Ok(())
}

fn set_path(m: &mut Map, path: &[(String, Vec<usize>)], value: Value) {
    let Some(((name, idx), rest)) = path.split_first() else {
        return;
    };
    let slot = m.entry(name.clone()).or_default();
    set_in(slot, idx, rest, value);
}

fn set_in(slot: &mut Value, idx: &[usize], rest: &[(String, Vec<usize>)], value: Value) {
    if let Some((i, more)) = idx.split_first() {
        let mut l = match slot {
            Value::List(l) => l.as_ref().clone(),
            _ => Vec::new(),
        };
        if l.len() <= *i {
            l.resize(i + 1, Value::Nil);
        }
        set_in(&mut l[*i], more, rest, value);
        *slot = Value::list(l);
        return;
    }
    if rest.is_empty() {
        *slot = value;
        return;
    }
    let mut inner = match slot {
        Value::Map(m) => m.borrow().clone(),
        _ => Map::new(),
    };
    set_path(&mut inner, rest, value);
    *slot = Value::map(inner);
}

/// Chart.yaml's fields as Helm's `.Chart` spells them (`appVersion` is `AppVersion`).
fn chart_object(meta: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Map(m) = meta {
        for (k, v) in m.borrow().iter() {
            let key = match k.as_str() {
                "apiVersion" => "APIVersion".to_string(),
                k => {
                    let mut c = k.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                }
            };
            out.insert(key, v.clone());
        }
    }
    Value::map(out)
}

fn capabilities() -> Value {
    let (ma, mi, pa) = KUBE_VERSION;
    let v = format!("v{ma}.{mi}.{pa}");
    let kube = Map::from([
        ("Version".to_string(), Value::str(v.as_str())),
        ("GitVersion".to_string(), Value::str(v.as_str())),
        ("Major".to_string(), Value::str(ma.to_string())),
        ("Minor".to_string(), Value::str(mi.to_string())),
    ]);
    let apis = [
        "v1",
        "apps/v1",
        "batch/v1",
        "policy/v1",
        "autoscaling/v1",
        "autoscaling/v2",
        "networking.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
        "storage.k8s.io/v1",
        "admissionregistration.k8s.io/v1",
        "apiextensions.k8s.io/v1",
        "coordination.k8s.io/v1",
        "discovery.k8s.io/v1",
        "scheduling.k8s.io/v1",
        "certificates.k8s.io/v1",
        "networking.k8s.io/v1/Ingress",
        "policy/v1/PodDisruptionBudget",
        "autoscaling/v2/HorizontalPodAutoscaler",
        "batch/v1/CronJob",
    ];
    Value::map(Map::from([
        ("KubeVersion".to_string(), Value::map(kube)),
        (
            "APIVersions".to_string(),
            Value::list(apis.iter().map(|a| Value::str(*a)).collect()),
        ),
        (
            "HelmVersion".to_string(),
            Value::map(Map::from([("Version".to_string(), Value::str("v3.16.0"))])),
        ),
    ]))
}

/// Renders the chart whose files (paths relative to the chart's directory, `/`-separated)
/// are `files`; `chart` is how diagnostics name the chart's directory.
pub fn render(
    chart: &str,
    files: &[(String, Vec<u8>)],
    overrides: &Overrides,
) -> Result<Rendered, ChartError> {
    let mut out = Rendered::default();
    let get = |p: &str| {
        files
            .iter()
            .find(|(n, _)| n == p)
            .map(|(_, b)| b.as_slice())
    };
    let meta =
        yaml_value("Chart.yaml", get("Chart.yaml").unwrap_or_default()).map_err(|message| {
            ChartError::ChartYaml {
                chart: chart.to_string(),
                message,
            }
        })?;
    let chart_obj = chart_object(&meta);
    let name = match exec::field(&chart_obj, &["Name".to_string()]) {
        Ok(Value::Str(s)) if !s.is_empty() => s.to_string(),
        _ => {
            return Err(ChartError::ChartYaml {
                chart: chart.to_string(),
                message: "no name".to_string(),
            });
        }
    };
    let mut values = Map::new();
    let mut layers: Vec<(String, &[u8])> = Vec::new();
    if let Some(v) = get("values.yaml") {
        layers.push((format!("{chart}/values.yaml"), v));
    }
    layers.extend(
        overrides
            .values
            .iter()
            .map(|(n, b)| (n.clone(), b.as_slice())),
    );
    for (file, bytes) in layers {
        match yaml_value(&file, bytes) {
            Ok(Value::Map(m)) => coalesce(&mut values, &m.borrow()),
            Ok(other) => {
                return Err(ChartError::Values {
                    file,
                    message: format!("values must be a map, not a {}", other.kind()),
                });
            }
            Err(message) => return Err(ChartError::Values { file, message }),
        }
    }
    let mut set = Map::new();
    for e in &overrides.set {
        apply_set(e, &mut set)?;
    }
    coalesce(&mut values, &set);
    let values = Value::map(values);
    let release = Value::map(Map::from([
        ("Name".to_string(), Value::str("release-name")),
        ("Namespace".to_string(), Value::str("default")),
        ("Service".to_string(), Value::str("Helm")),
        ("IsInstall".to_string(), Value::Bool(true)),
        ("IsUpgrade".to_string(), Value::Bool(false)),
        ("Revision".to_string(), Value::Int(1)),
    ]));
    let other_files: Map = files
        .iter()
        .filter(|(p, _)| !p.starts_with("templates/") && !p.starts_with("charts/"))
        .map(|(p, b)| (p.clone(), Value::str(String::from_utf8_lossy(b))))
        .collect();
    let other_files = Value::map(other_files);
    let caps = capabilities();

    if files.iter().any(|(p, _)| p.starts_with("charts/")) {
        out.diagnostics.push(
            Diagnostic::new(
                Code::Unsupported,
                "subcharts under charts/ are not rendered: their templates were not checked"
                    .to_string(),
            )
            .at(format!("{chart}/charts"), None),
        );
    }
    let mut engine = exec::Engine::new(exec::Limits::default());
    let mut templates: Vec<&(String, Vec<u8>)> = files
        .iter()
        .filter(|(p, _)| p.starts_with("templates/"))
        .collect();
    templates.sort_by(|a, b| a.0.cmp(&b.0));
    let mut to_render = Vec::new();
    for (path, bytes) in templates {
        let at = format!("{chart}/{path}");
        let Ok(text) = std::str::from_utf8(bytes) else {
            out.diagnostics
                .push(Diagnostic::parse("not UTF-8 text: template skipped").at(at, None));
            continue;
        };
        match parse::parse(text) {
            Ok(p) => {
                let full = format!("{name}/{path}");
                engine.add(&full, p);
                let base = path.rsplit('/').next().unwrap_or(path);
                let lower = base.to_ascii_lowercase();
                if !base.starts_with('_')
                    && (lower.ends_with(".yaml")
                        || lower.ends_with(".yml")
                        || lower.ends_with(".json"))
                {
                    to_render.push((path.clone(), full));
                }
            }
            Err(e) => out.diagnostics.push(
                Diagnostic::parse(format!("template does not parse: {}: skipped", e.message))
                    .at(at, None)
                    .line(e.line),
            ),
        }
    }
    for (path, full) in to_render {
        let template = Value::map(Map::from([
            ("Name".to_string(), Value::str(full.as_str())),
            (
                "BasePath".to_string(),
                Value::str(format!("{name}/templates")),
            ),
        ]));
        let root = Value::map(Map::from([
            ("Values".to_string(), values.clone()),
            ("Release".to_string(), release.clone()),
            ("Chart".to_string(), chart_obj.clone()),
            ("Capabilities".to_string(), caps.clone()),
            ("Template".to_string(), template),
            ("Files".to_string(), other_files.clone()),
        ]));
        match engine.render(&full, &root) {
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) => out.files.push((path, text)),
            Err(e) => out.diagnostics.push(
                Diagnostic::new(Code::Other, format!("template not rendered: {e}: skipped"))
                    .at(format!("{chart}/{path}"), None),
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
