//! The shape of a rule and of what it reports.

use moat_model::Severity;
use moat_model::finding::{Detail, Finding, FindingLocation, MisconfigDetail, Span};

/// Ports of remote-login daemons, with their names (Dockerfile EXPOSE and the image config).
pub(crate) const LOGIN_PORTS: &[(u32, &str)] =
    &[(22, "SSH"), (23, "telnet"), (3389, "RDP"), (5900, "VNC")];

/// A check: data plus a function over the parsed file.
pub struct Rule<T: ?Sized + 'static> {
    /// moat's stable id (`MOAT-DF-001`); the finding's `id` and `rule`.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// The same check's ids in hadolint, Trivy (every spelling), checkov, kubesec, kube-score
    /// and Polaris.
    pub aliases: &'static [&'static str],
    pub resolution: &'static str,
    /// Runs the check, pushing one hit per offending place.
    pub check: fn(&T, &mut Vec<Hit>),
}

/// One offending place.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hit {
    pub start_line: u32,
    pub end_line: u32,
    /// What is wrong here.
    pub message: String,
    /// The offending text, as written.
    pub cause: Option<String>,
    /// A resource inside the file (a build stage: `stage:builder`).
    pub resource: Option<String>,
    /// For rules over several files checked together (Kubernetes manifests): the index of
    /// the file the hit is in, in the set checked; `None`: the one file checked.
    pub file: Option<usize>,
}

impl<T: ?Sized> Rule<T> {
    /// The finding of `hit` in the file `path` (`target_type`: `dockerfile`, ...).
    pub fn finding(&self, target_type: &str, path: &str, hit: Hit) -> Finding {
        let mut f = Finding::new(
            self.id,
            self.severity,
            Detail::Misconfiguration(MisconfigDetail {
                rule: self.id.to_string(),
                target_type: target_type.to_string(),
                message: hit.message,
                resolution: Some(self.resolution.to_string()),
                references: Vec::new(),
                cause: hit.cause,
                tags: Vec::new(),
            }),
        );
        f.aliases = self.aliases.iter().map(|s| s.to_string()).collect();
        f.title = Some(self.title.to_string());
        f.location = Some(FindingLocation {
            path: Some(path.to_string()),
            span: Some(Span::lines(hit.start_line, hit.end_line)),
            resource: hit.resource,
            ..Default::default()
        });
        f
    }
}
