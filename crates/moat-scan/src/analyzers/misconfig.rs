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
use moat_misconfig::dockerfile;

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
        let checked = dockerfile::check(e.path, data);
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
}
