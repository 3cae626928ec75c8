//! `apk-installed`: Alpine's `lib/apk/db/installed`, the database of installed packages with
//! their files, licences, origins and dependencies.

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest};
use crate::fact::Fact;
use moat_pkgdb::apk;

/// The database path.
pub const INSTALLED: &str = "lib/apk/db/installed";

const INFO: AnalyzerInfo = AnalyzerInfo::packages("apk-installed", 1);

pub struct ApkInstalled;

impl Analyzer for ApkInstalled {
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(e.path == INSTALLED)
    }
    fn analyze(&self, _e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(Fact::Apk(apk::parse_installed(data)))
    }
    fn streams(&self) -> bool {
        true
    }
    fn analyze_reader(
        &self,
        _e: &Entry,
        r: &mut dyn std::io::BufRead,
    ) -> std::io::Result<Option<Fact>> {
        Ok(Some(Fact::Apk(apk::read_installed(r)?)))
    }
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }
}
