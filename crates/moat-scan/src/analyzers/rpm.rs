//! `rpm-db`: the rpm database in any of its three formats (SQLite `rpmdb.sqlite`, BerkeleyDB
//! `Packages`, NDB `Packages.db`) in any of the directories distros keep it in. Which one
//! counts is decided by the join (the first of [`RPM_DIRS`] x [`RPM_FILES`] in the final
//! view); this analyzer reads each it meets.

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest};
use crate::fact::Fact;
use moat_model::{Code, Diagnostic};
use moat_pkgdb::rpm;

/// Directories that may hold an rpm database.
pub const RPM_DIRS: &[&str] = &["var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/"];
/// rpm database file names, best first.
pub const RPM_FILES: &[&str] = &["rpmdb.sqlite", "Packages.db", "Packages"];

const INFO: AnalyzerInfo = AnalyzerInfo::packages("rpm-db", 1);

pub struct RpmDb;

impl Analyzer for RpmDb {
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(RPM_DIRS.iter().any(|dir| {
            e.path
                .strip_prefix(dir)
                .is_some_and(|name| RPM_FILES.contains(&name))
        }))
    }
    fn analyze(&self, _e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(match rpm::read(data) {
            Ok(p) => Fact::Rpm(p),
            Err(e) => {
                let code = match e {
                    moat_pkgdb::Error::Format { .. } => Code::Unsupported,
                    _ => Code::ParseError,
                };
                Fact::Diagnostic(Diagnostic::new(code, format!("rpm database: {e}")))
            }
        })
    }
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }
}
