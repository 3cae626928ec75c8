//! `os-release`: `etc/os-release` and `usr/lib/os-release`, the distro's own statement of
//! what it is (ID, VERSION_ID, codename). The join prefers `etc/os-release` (usually a
//! symlink to the other), then the distro marker files (`os-marker`).

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest};
use crate::fact::Fact;
use moat_model::Diagnostic;
use moat_pkgdb::osrelease;

/// Where os-release files are, in the order the join prefers them.
pub const PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

const INFO: AnalyzerInfo = AnalyzerInfo::packages("os-release", 1);

pub struct OsRelease;

impl Analyzer for OsRelease {
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(PATHS.contains(&e.path))
    }
    fn analyze(&self, _e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(match osrelease::parse_os_release(data) {
            Some(os) => Fact::OsRelease(os),
            None => Fact::Diagnostic(Diagnostic::parse("os-release has no usable ID")),
        })
    }
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }
}
