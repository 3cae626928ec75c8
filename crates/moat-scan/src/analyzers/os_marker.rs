//! `os-marker`: the distro marker files (`etc/alpine-release`, `etc/redhat-release`,
//! `etc/debian_version`, ... as [`moat_pkgdb::osrelease::MARKER_FILES`] lists them), for
//! images without an os-release. A separate analyzer from `os-release` because it
//! reads other files with another parser and ranks below it in the join.

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest};
use crate::fact::Fact;
use moat_model::Diagnostic;
use moat_pkgdb::osrelease;

const INFO: AnalyzerInfo = AnalyzerInfo::packages("os-marker", 1);

pub struct OsMarker;

impl Analyzer for OsMarker {
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(osrelease::MARKER_FILES.contains(&e.path))
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(match osrelease::from_marker(e.path, data) {
            Some(os) => Fact::OsMarker(os),
            None => Fact::Diagnostic(Diagnostic::parse("unrecognised distro marker file")),
        })
    }
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }
}
