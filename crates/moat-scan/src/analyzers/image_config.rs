//! `misconfig-image`: the image's own misconfigurations, whatever built it
//! ([`moat_misconfig::image`]): the run config (root user, no health check, remote-login
//! ports) through [`Analyzer::analyze_config`], and the files of the final view that are
//! setuid/setgid or world-writable in a system directory, decided from the entry's mode
//! alone (the bytes are not looked at).
//!
//! Its scope is [`Scope::FinalView`]: a setuid file a later layer deleted, or made
//! ordinary with `chmod`, is not in what the container runs. The findings' path and layer
//! are the engine's to fill in (the layer is the one that wrote the file last).

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest, Scanner};
use crate::fact::{Fact, Scope};
use moat_misconfig::image;
use moat_model::{Finding, ImageConfig};

const INFO: AnalyzerInfo = AnalyzerInfo {
    id: "misconfig-image",
    version: 1,
    scanner: Scanner::Misconfig,
    scope: Scope::FinalView,
};

/// The image config and file-mode checks.
pub struct ImageChecks;

impl Analyzer for ImageChecks {
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }

    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(image::wants_file(e.path, e.mode))
    }

    fn analyze(&self, e: &Entry, _data: &[u8]) -> Option<Fact> {
        image::check_file(e.path, e.mode).map(|f| Fact::Findings(vec![f]))
    }

    fn analyze_config(&self, config: &ImageConfig) -> Vec<Finding> {
        image::check_config(config)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn wants_by_mode_and_path() {
        let a = ImageChecks;
        let setuid = Entry::new("usr/bin/passwd", 0o4755, 10, Some(0));
        assert!(matches!(a.wants(&setuid), Interest::Yes));
        assert!(matches!(
            a.wants(&Entry::new("usr/bin/ls", 0o755, 10, Some(0))),
            Interest::No
        ));
        let Some(Fact::Findings(f)) = a.analyze(&setuid, b"") else {
            panic!("no finding")
        };
        assert_eq!(f[0].id, "MOAT-IMG-004");
        assert!(f[0].location.is_none());
    }
}
