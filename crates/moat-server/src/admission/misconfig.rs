//! Misconfiguration rules at admission: the object under review (a Pod or a workload, as the
//! API server sends it in `request.object`) is checked in memory with moat's Kubernetes
//! checks ([`moat_misconfig::k8s::check`], the same as `moat config` runs on a manifest
//! file), and a finding of a listed rule, or at or above the policy's severity, denies it.
//!
//! The object arrives as JSON, where moat's checks find no line for a field. When something
//! denies, the object is written again as block-style YAML (every scalar and key in JSON's
//! quoted form, which YAML reads the same) with the path of the field on each line, the
//! check runs on that text, and each finding's line gives the field the message names
//! (`spec.containers[0].securityContext.privileged`). The allowed path does no such work.
//!
//! Rules that judge a namespace as a whole (MOAT-K8S-060, MOAT-K8S-061: NetworkPolicies
//! selecting the workload) cannot be decided from one object and are never applied here.

use moat_misconfig::k8s;
use moat_model::Severity;
use serde_json::Value;
use std::fmt::Write as _;

/// Rules that need every NetworkPolicy of the namespace: not decided at admission.
pub const NAMESPACE_RULES: &[&str] = &["MOAT-K8S-060", "MOAT-K8S-061"];

/// Every Kubernetes rule: (moat id, title, aliases).
fn all_rules() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    k8s::PSS_RULES
        .iter()
        .map(|r| (r.id, r.aliases))
        .chain(k8s::rules::RULES.iter().map(|r| (r.id, r.aliases)))
}

/// The moat id of rule `name` (moat's id or a peer's: `KSV017`, `CKV_K8S_16`), any case.
pub fn rule_id(name: &str) -> Option<&'static str> {
    let n = name.trim();
    all_rules()
        .find(|(id, aliases)| {
            id.eq_ignore_ascii_case(n) || aliases.iter().any(|a| a.eq_ignore_ascii_case(n))
        })
        .map(|(id, _)| id)
}

/// What the policy denies on.
#[derive(Debug, Clone, Default)]
pub struct MisconfigPolicy {
    pub min_severity: Option<Severity>,
    /// moat ids, with the name the policy gave each.
    pub rules: Vec<(&'static str, String)>,
}

impl MisconfigPolicy {
    pub fn is_empty(&self) -> bool {
        self.min_severity.is_none() && self.rules.is_empty()
    }

    fn denies(&self, f: &moat_model::Finding) -> Option<String> {
        if NAMESPACE_RULES.contains(&f.id.as_str()) {
            return None;
        }
        if let Some((_, given)) = self.rules.iter().find(|(id, _)| *id == f.id) {
            return Some(if given.eq_ignore_ascii_case(&f.id) {
                "a rule that must pass".to_string()
            } else {
                format!("{given}, a rule that must pass")
            });
        }
        match self.min_severity {
            Some(min) if f.severity >= min => Some(format!(
                "{} at or above {}",
                f.severity.as_str(),
                min.as_str()
            )),
            _ => None,
        }
    }
}

/// The findings of `object` that deny it, each as a sentence naming the rule, its title and
/// the field; empty when none does.
pub fn denials(policy: &MisconfigPolicy, object: &Value) -> Vec<String> {
    if policy.is_empty() || !object.is_object() {
        return Vec::new();
    }
    let Ok(json) = serde_json::to_vec(object) else {
        return Vec::new();
    };
    let quick = k8s::check(&[("request.object".to_string(), json)], k8s::Checks::All);
    if !quick.findings.iter().any(|f| policy.denies(f).is_some()) {
        return Vec::new();
    }
    // Something denies: again on a YAML rendering whose lines give each finding's field.
    let (text, paths) = to_yaml(object);
    let full = k8s::check(&[("request.object".to_string(), text)], k8s::Checks::All);
    let mut out = Vec::new();
    for f in &full.findings {
        let Some(why) = policy.denies(f) else {
            continue;
        };
        let line = f
            .location
            .as_ref()
            .and_then(|l| l.span)
            .map_or(0, |s| s.start_line as usize);
        let field = paths
            .get(line.saturating_sub(1))
            .filter(|p| !p.is_empty())
            .map_or_else(|| "the object".to_string(), Clone::clone);
        let resource = f
            .location
            .as_ref()
            .and_then(|l| l.resource.clone())
            .unwrap_or_default();
        let message = match &f.detail {
            moat_model::finding::Detail::Misconfiguration(m) => m.message.clone(),
            _ => String::new(),
        };
        let mut s = format!(
            "{resource}: {} \"{}\" ({why}) at {field}",
            f.id,
            f.title.as_deref().unwrap_or("")
        );
        if !message.is_empty() {
            let _ = write!(s, ": {message}");
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// `value` as block-style YAML whose keys and scalars are JSON literals, and the path of the
/// field each line holds (`spec.containers[0].image`; empty for a line that holds none).
pub fn to_yaml(value: &Value) -> (String, Vec<String>) {
    let mut y = Yaml::default();
    match value {
        Value::Object(m) if !m.is_empty() => y.map(m, 0, ""),
        Value::Array(a) if !a.is_empty() => y.seq(a, 0, ""),
        v => y.line(0, &literal(v), ""),
    }
    (y.text, y.paths)
}

#[derive(Default)]
struct Yaml {
    text: String,
    paths: Vec<String>,
}

fn literal(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn is_leaf(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => true,
    }
}

impl Yaml {
    fn line(&mut self, indent: usize, body: &str, path: &str) {
        let _ = writeln!(self.text, "{:indent$}{body}", "");
        self.paths.push(path.to_string());
    }

    fn map(&mut self, m: &serde_json::Map<String, Value>, indent: usize, path: &str) {
        for (k, v) in m {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let key = literal(&Value::String(k.clone()));
            if is_leaf(v) {
                self.line(indent, &format!("{key}: {}", literal(v)), &p);
                continue;
            }
            self.line(indent, &format!("{key}:"), &p);
            match v {
                Value::Object(c) => self.map(c, indent + 2, &p),
                Value::Array(a) => self.seq(a, indent + 2, &p),
                _ => {}
            }
        }
    }

    fn seq(&mut self, a: &[Value], indent: usize, path: &str) {
        for (i, v) in a.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if is_leaf(v) {
                self.line(indent, &format!("- {}", literal(v)), &p);
                continue;
            }
            self.line(indent, "-", &p);
            match v {
                Value::Object(c) => self.map(c, indent + 2, &p),
                Value::Array(c) => self.seq(c, indent + 2, &p),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn privileged() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "prod", "labels": {"app": "x: \"y\""}},
            "spec": {"containers": [
                {"name": "ok", "image": "a:1", "ports": [{"containerPort": 80}]},
                {"name": "bad", "image": "b:1", "args": ["--x", "-y\n"],
                 "securityContext": {"privileged": true}}]}})
    }

    #[test]
    fn yaml_rendering_reads_back_the_same_and_names_each_line() {
        let v = privileged();
        let (text, paths) = to_yaml(&v);
        let (rs, diags) = k8s::load(text.as_bytes());
        assert!(diags.is_empty(), "{diags:?}\n{text}");
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].value, v, "{text}");
        let line = |p: &str| paths.iter().position(|x| x == p).map(|i| i + 1);
        assert_eq!(
            line("spec.containers[1].securityContext.privileged"),
            Some(
                rs[0].container_line("containers", 1, &["securityContext", "privileged"]) as usize
            )
        );
    }

    #[test]
    fn a_listed_rule_or_a_severity_denies_with_the_field() {
        let by_alias = MisconfigPolicy {
            min_severity: None,
            rules: vec![(rule_id("ksv017").expect("KSV017"), "KSV017".into())],
        };
        let d = denials(&by_alias, &privileged());
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("Pod/prod/p: MOAT-K8S-007 \"Privileged containers are forbidden\" (KSV017, a rule that must pass) at spec.containers[1].securityContext.privileged"),
            "{}",
            d[0]
        );
        let mut fixed = privileged();
        fixed["spec"]["containers"][1]["securityContext"]["privileged"] = json!(false);
        assert!(denials(&by_alias, &fixed).is_empty());
        // Namespace-wide rules never deny a lone object, whatever the severity.
        let low = MisconfigPolicy {
            min_severity: Some(Severity::Unknown),
            rules: Vec::new(),
        };
        assert!(
            denials(&low, &fixed)
                .iter()
                .all(|d| !d.contains("MOAT-K8S-060") && !d.contains("MOAT-K8S-061"))
        );
        assert!(!denials(&low, &fixed).is_empty());
        assert_eq!(rule_id("MOAT-K8S-022"), Some("MOAT-K8S-022"));
        assert_eq!(rule_id("nope"), None);
    }
}
