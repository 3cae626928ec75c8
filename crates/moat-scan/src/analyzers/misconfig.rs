//! `misconfig`: the Dockerfile checks of [`moat_misconfig`] on every Dockerfile of the
//! target (`Dockerfile`, `Containerfile`, `Dockerfile.*`, `*.Dockerfile`; see
//! [`moat_misconfig::dockerfile::is_dockerfile_name`]) up to the parser's size cap.
//!
//! Its scope is [`Scope::FinalView`]: a Dockerfile a later layer deleted is not part of
//! what the image runs. The findings leave their path empty for the engine to fill in
//! (absolute inside an image, relative to a `dir:` root), as the secret analyzer's do; a
//! file that does not parse is one located diagnostic. The same function backs
//! `moat config`, so a Dockerfile gives the same findings wherever it is found.
//!
//! Image-config checks (root user, no healthcheck) are a later part of the issue and will
//! use [`Analyzer::analyze_config`] here.

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest, Scanner};
use crate::fact::{Fact, Scope};
use moat_misconfig::{dockerfile, rego};

const INFO: AnalyzerInfo = AnalyzerInfo {
    id: "misconfig-dockerfile",
    version: 1,
    scanner: Scanner::Misconfig,
    scope: Scope::FinalView,
};

/// The Dockerfile checks.
pub struct Misconfig;

impl Analyzer for Misconfig {
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }

    fn wants(&self, e: &Entry) -> Interest {
        let name = e.path.rsplit('/').next().unwrap_or(e.path);
        Interest::from(
            dockerfile::is_dockerfile_name(name)
                && e.size <= dockerfile::parse::MAX_FILE_BYTES as u64,
        )
    }

    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        fact(dockerfile::check(e.path, data))
    }
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
    fn file_type(&self, path: &str, data: Option<&[u8]>) -> Option<rego::FileType> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        let t = if dockerfile::is_dockerfile_name(name) {
            rego::FileType::Dockerfile
        } else if moat_misconfig::compose::is_compose_file(name) {
            rego::FileType::Compose
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") {
            if data.is_some_and(|d| !moat_misconfig::k8s::looks_like_manifest(d)) {
                return None;
            }
            rego::FileType::Kubernetes
        } else {
            return None;
        };
        self.0.as_ref()?.wants(t).then_some(t)
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
        fact(self.0.as_ref()?.check(t, e.path, data))
    }
}

/// The fact of one checked file: its findings with the path left to the engine, or (none
/// found) its first diagnostic.
fn fact(checked: moat_misconfig::Checked) -> Option<Fact> {
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
