//! `misconfig`: the checks of [`moat_misconfig`] on the configuration files of the target,
//! four analyzers:
//! * `misconfig-dockerfile`: every Dockerfile (`Dockerfile`, `Containerfile`, `Dockerfile.*`,
//!   `*.Dockerfile`; see [`moat_misconfig::dockerfile::is_dockerfile_name`]) up to the
//!   parser's size cap;
//! * `misconfig-compose`: every Compose file (`compose*.y*ml`, `docker-compose*.y*ml`) whose
//!   first bytes hold `services:`;
//! * `misconfig-kubernetes`: every `*.yaml`, `*.yml` and `*.json` whose first bytes have a
//!   document with `apiVersion` and `kind` at its top level
//!   ([`moat_misconfig::k8s::looks_like_manifest`]), up to the manifest cap. Passed over
//!   without a word: files under `node_modules`, `site-packages` and `dist-packages` (never
//!   read), and Helm templates (`{{` in the text: not YAML until rendered);
//! * `misconfig-rego`: users' Rego policies (`--policy DIR`) on those same kinds of files
//!   ([`RegoPolicies`]), only when policies were given.
//!
//! Their scope is [`Scope::FinalView`]: a file a later layer deleted is not part of what the
//! image runs. Dockerfile and Compose findings leave their path empty for the engine to fill
//! in (absolute inside an image, relative to a `dir:` root), as the secret analyzer's do; a
//! file that does not parse is one located diagnostic. A manifest's analyzer keeps its text
//! ([`Fact::KubernetesManifest`]), and after the merge [`kubernetes_findings`] checks every
//! manifest of the final view together, as `moat config` checks the manifests it is given:
//! a NetworkPolicy in one file covers the workloads of another. The same functions back
//! `moat config`, so a file gives the same findings wherever it is found.
//!
//! The image's own config and file modes are checked by [`super::image_config`].

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest, MAX_SNIFF, Scanner};
use crate::fact::{Fact, Scope};
use crate::merge::Merged;
use moat_misconfig::{Checked, compose, dockerfile, k8s, rego};
use moat_model::{Diagnostic, Finding};
use std::collections::HashMap;

const INFO: AnalyzerInfo = AnalyzerInfo {
    id: "misconfig-dockerfile",
    version: 1,
    scanner: Scanner::Misconfig,
    scope: Scope::FinalView,
};

const COMPOSE_INFO: AnalyzerInfo = AnalyzerInfo {
    id: "misconfig-compose",
    version: 1,
    scanner: Scanner::Misconfig,
    scope: Scope::FinalView,
};

const KUBERNETES_INFO: AnalyzerInfo = AnalyzerInfo {
    id: "misconfig-kubernetes",
    version: 1,
    scanner: Scanner::Misconfig,
    scope: Scope::FinalView,
};

/// The Dockerfile checks.
pub struct Misconfig;

/// The Compose checks.
pub struct Compose;

/// The Kubernetes manifests, kept for [`kubernetes_findings`].
pub struct Kubernetes;

/// The fact of a checked file: its findings with the path left to the engine, or its first
/// diagnostic when it has no findings.
fn fact_of(checked: Checked) -> Option<Fact> {
    if checked.findings.is_empty() {
        let mut d = checked.diagnostics.into_iter().next()?;
        d.path = None;
        return Some(Fact::Diagnostic(d));
    }
    let mut findings = checked.findings;
    for f in &mut findings {
        if let Some(loc) = &mut f.location {
            loc.path = None;
        }
    }
    Some(Fact::Findings(findings))
}

fn file_name<'a>(e: &Entry<'a>) -> &'a str {
    e.path.rsplit('/').next().unwrap_or(e.path)
}

/// A `.yaml`, `.yml` or `.json` name, in any case: where Kubernetes manifests are.
fn yaml_or_json(name: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, x)| x).unwrap_or("");
    ["yaml", "yml", "json"]
        .iter()
        .any(|x| ext.eq_ignore_ascii_case(x))
}

impl Analyzer for Misconfig {
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }

    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(
            dockerfile::is_dockerfile_name(file_name(e))
                && e.size <= dockerfile::parse::MAX_FILE_BYTES as u64,
        )
    }

    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        fact_of(dockerfile::check(e.path, data))
    }
}

impl Analyzer for Compose {
    fn info(&self) -> &AnalyzerInfo {
        &COMPOSE_INFO
    }

    fn wants(&self, e: &Entry) -> Interest {
        if compose::is_compose_file(file_name(e))
            && e.size > 0
            && e.size <= compose::MAX_FILE_BYTES as u64
        {
            Interest::Sniff(MAX_SNIFF)
        } else {
            Interest::No
        }
    }

    fn wants_head(&self, _e: &Entry, head: &[u8]) -> bool {
        head.windows(9).any(|w| w == b"services:")
    }

    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        fact_of(compose::check(e.path, data))
    }
}

/// Directories of installed language packages: their YAML and JSON are the packages' own
/// data, never deployment manifests, and there are many of them.
const PASSED_OVER: &[&str] = &["node_modules", "site-packages", "dist-packages"];

impl Analyzer for Kubernetes {
    fn info(&self) -> &AnalyzerInfo {
        &KUBERNETES_INFO
    }

    fn wants(&self, e: &Entry) -> Interest {
        let name = file_name(e);
        if !yaml_or_json(name)
            || e.size == 0
            || e.size > k8s::MAX_FILE_BYTES as u64
            || compose::is_compose_file(name)
            || e.path.split('/').any(|c| PASSED_OVER.contains(&c))
        {
            return Interest::No;
        }
        Interest::Sniff(MAX_SNIFF)
    }

    fn wants_head(&self, _e: &Entry, head: &[u8]) -> bool {
        !k8s::looks_like_template(head) && k8s::looks_like_manifest(head)
    }

    fn analyze(&self, _e: &Entry, data: &[u8]) -> Option<Fact> {
        (!k8s::looks_like_template(data)).then(|| Fact::KubernetesManifest(data.into()))
    }
}

/// The findings of the Kubernetes manifests of the final view, checked together (every rule,
/// the Pod Security Standards at the restricted level), with their paths (relative to a
/// `dir:` root when `relative`, else absolute) and layers; and the diagnostics of what could
/// not be read in them.
pub(crate) fn kubernetes_findings(
    merged: &Merged,
    relative: bool,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut files: Vec<(String, &[u8])> = Vec::new();
    let mut layers: HashMap<String, Option<usize>> = HashMap::new();
    for (path, layer, facts) in merged.files_under("") {
        let Some(bytes) = facts.find(|f| match f {
            Fact::KubernetesManifest(b) => Some(b),
            _ => None,
        }) else {
            continue;
        };
        let name = if relative {
            path.to_string()
        } else {
            format!("/{path}")
        };
        layers.insert(name.clone(), layer);
        files.push((name, bytes));
    }
    if files.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let Checked {
        mut findings,
        mut diagnostics,
    } = k8s::check(&files, k8s::Checks::All);
    let layer_of = |p: &Option<String>| p.as_ref().and_then(|p| layers.get(p)).copied().flatten();
    for f in &mut findings {
        if let Some(loc) = &mut f.location {
            loc.layer = layer_of(&loc.path);
        }
    }
    for d in &mut diagnostics {
        d.layer = layer_of(&d.path);
        if relative && let Some(p) = &mut d.path {
            // Diagnostics name files from the root, as the other analyzers' do.
            *p = format!("/{p}");
        }
    }
    (findings, diagnostics)
}

/// Users' Rego policies (`--policy DIR`, [`moat_misconfig::rego`]) on the Dockerfiles,
/// Kubernetes manifests (`*.yaml`, `*.yml`, `*.json` whose documents have `apiVersion` and
/// `kind`) and Compose files of the target, when policies were given (without them it wants no file). Findings and
/// diagnostics leave the path to the engine, as [`Misconfig`]'s do. Each file has the
/// policies' own time budget ([`moat_misconfig::rego::FILE_BUDGET`]) inside the engine's
/// per-analyzer timeout.
pub struct RegoPolicies(Option<std::sync::Arc<moat_misconfig::rego::Policies>>);

const REGO_INFO: AnalyzerInfo = AnalyzerInfo {
    id: "misconfig-rego",
    version: 1,
    scanner: Scanner::Misconfig,
    scope: Scope::FinalView,
};

/// The Rego analyzer of the options' policies.
pub fn rego(opts: &crate::ScanOptions) -> Option<Box<dyn Analyzer>> {
    Some(Box::new(RegoPolicies(opts.policies.clone())))
}

impl RegoPolicies {
    /// The kind of input `path` is for the policies; `None` (at once, for every file of a scan
    /// without policies) when no policy wants it.
    fn file_type(&self, path: &str, data: Option<&[u8]>) -> Option<rego::FileType> {
        let policies = self.0.as_ref()?;
        let name = path.rsplit('/').next().unwrap_or(path);
        let t = if dockerfile::is_dockerfile_name(name) {
            rego::FileType::Dockerfile
        } else if compose::is_compose_file(name) {
            rego::FileType::Compose
        } else if yaml_or_json(name) {
            if data.is_some_and(|d| !k8s::looks_like_manifest(d)) {
                return None;
            }
            rego::FileType::Kubernetes
        } else {
            return None;
        };
        policies.wants(t).then_some(t)
    }
}

impl Analyzer for RegoPolicies {
    fn info(&self) -> &AnalyzerInfo {
        &REGO_INFO
    }

    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(
            self.file_type(e.path, None).is_some()
                && e.size <= moat_misconfig::k8s::MAX_FILE_BYTES as u64,
        )
    }

    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        let t = self.file_type(e.path, Some(data))?;
        fact_of(self.0.as_ref()?.check(t, e.path, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::Detail;

    #[test]
    fn wants_dockerfiles_only() {
        for (p, want) in [
            ("app/Dockerfile", true),
            ("Containerfile", true),
            ("x/build.Dockerfile", true),
            ("x/Dockerfile.dev", true),
            ("x/Dockerfile-alpine.template", false),
            ("usr/share/doc/dockerfile.md.gz", false),
        ] {
            let e = Entry::new(p, 0o644, 100, None);
            assert_eq!(Misconfig.wants(&e) == Interest::Yes, want, "{p}");
        }
        let big = Entry::new("Dockerfile", 0o644, 1 << 40, None);
        assert_eq!(Misconfig.wants(&big), Interest::No);
    }

    #[test]
    fn findings_leave_the_path_to_the_engine() {
        let e = Entry::new("app/Dockerfile", 0o644, 10, None);
        let Some(Fact::Findings(list)) = Misconfig.analyze(&e, b"FROM alpine\nUSER root\n") else {
            panic!("expected findings");
        };
        let ids: Vec<&str> = list.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["MOAT-DF-001", "MOAT-DF-003", "MOAT-DF-023"]);
        let loc = list[0].location.as_ref().unwrap();
        assert_eq!(loc.path, None);
        assert_eq!(loc.span.map(|s| s.start_line), Some(2));
        assert!(matches!(&list[0].detail, Detail::Misconfiguration(m) if m.rule == "MOAT-DF-001"));
    }

    #[test]
    fn a_broken_dockerfile_is_a_diagnostic() {
        let e = Entry::new("Dockerfile", 0o644, 10, None);
        let Some(Fact::Diagnostic(d)) = Misconfig.analyze(&e, b"RUN x\n") else {
            panic!("expected a diagnostic");
        };
        assert_eq!(d.line, Some(1));
    }

    #[test]
    fn manifests_and_compose_files_are_sniffed() {
        let k = |p: &str, size: u64| Kubernetes.wants(&Entry::new(p, 0o644, size, Some(0)));
        assert_eq!(k("deploy/web.yaml", 100), Interest::Sniff(MAX_SNIFF));
        assert_eq!(k("x/K.JSON", 100), Interest::Sniff(MAX_SNIFF));
        assert_eq!(k("app/node_modules/x/k.yaml", 100), Interest::No);
        assert_eq!(k("compose.yaml", 100), Interest::No);
        assert_eq!(k("deploy/web.yaml", 1 << 40), Interest::No);
        assert_eq!(k("README.md", 100), Interest::No);
        let e = Entry::new("k.yaml", 0o644, 100, None);
        assert!(Kubernetes.wants_head(&e, b"apiVersion: v1\nkind: Pod\n"));
        assert!(!Kubernetes.wants_head(&e, b"on: push\njobs: {}\n"));
        assert!(!Kubernetes.wants_head(
            &e,
            b"apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .x }}}\n"
        ));
        let c = Entry::new("srv/docker-compose.prod.yml", 0o644, 100, None);
        assert_eq!(Compose.wants(&c), Interest::Sniff(MAX_SNIFF));
        assert!(Compose.wants_head(&c, b"services:\n  a: {}\n"));
        assert!(!Compose.wants_head(&c, b"version: '3'\n"));
        assert_eq!(
            Compose.wants(&Entry::new("compose.txt", 0o644, 100, None)),
            Interest::No
        );
    }

    #[test]
    fn rego_policies_run_on_dockerfiles_and_manifests() {
        let src = "package user.t\ndeny[res] {\n  input.kind == \"Pod\"\n  res := result.new(\"pod\", input.metadata)\n}\ndeny[msg] {\n  input.Stages[_].Commands[_].Cmd == \"user\"\n  msg := \"user\"\n}\n";
        let p =
            rego::Policies::load(&[("t.rego".to_string(), src.as_bytes().to_vec())], &[]).unwrap();
        let opts = crate::ScanOptions {
            policies: Some(std::sync::Arc::new(p)),
            ..Default::default()
        };
        let a = rego(&opts).unwrap();
        let k = Entry::new("deploy/pod.yaml", 0o644, 10, None);
        assert_eq!(a.wants(&k), Interest::Yes);
        assert_eq!(a.wants(&Entry::new("x.txt", 0o644, 10, None)), Interest::No);
        let Some(Fact::Findings(list)) =
            a.analyze(&k, b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")
        else {
            panic!("expected findings");
        };
        assert_eq!(list.len(), 1);
        let loc = list[0].location.as_ref().unwrap();
        assert_eq!(
            (loc.path.as_deref(), loc.resource.as_deref()),
            (None, Some("Pod/p"))
        );
        assert_eq!(loc.span.map(|s| s.start_line), Some(4));
        assert!(a.analyze(&k, b"a: 1\n").is_none());
        let d = Entry::new("Dockerfile", 0o644, 10, None);
        let Some(Fact::Findings(list)) = a.analyze(&d, b"FROM a\nUSER x\n") else {
            panic!("expected findings");
        };
        assert_eq!(list[0].id, "user.t");
        let none = rego(&crate::ScanOptions::default()).unwrap();
        assert_eq!(none.wants(&d), Interest::No);
    }
}
