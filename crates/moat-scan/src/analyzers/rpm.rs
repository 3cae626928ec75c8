//! `rpm-db`: the rpm database in any of its three formats (SQLite `rpmdb.sqlite`, BerkeleyDB
//! `Packages`, NDB `Packages.db`) in any of the directories distros keep it in, and the rpm
//! manifest of distroless CBL-Mariner / Azure Linux images ([`RPM_MANIFEST`]). Which one
//! counts is decided by the join (the first of [`RPM_DIRS`] x [`RPM_FILES`] in the final
//! view, else the manifest); this analyzer reads each it meets.

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest};
use crate::fact::Fact;
use moat_model::{Code, Diagnostic};
use moat_pkgdb::rpm;

/// Directories that may hold an rpm database.
pub const RPM_DIRS: &[&str] = &["var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/"];
/// rpm database file names, best first.
pub const RPM_FILES: &[&str] = &["rpmdb.sqlite", "Packages.db", "Packages"];

/// The rpm manifest a distroless CBL-Mariner / Azure Linux image has instead of a database.
pub const RPM_MANIFEST: &str = rpm::manifest::PATH;

// 2: the manifest is read too
const INFO: AnalyzerInfo = AnalyzerInfo::packages("rpm-db", 2);

pub struct RpmDb;

impl Analyzer for RpmDb {
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(
            e.path == RPM_MANIFEST
                || RPM_DIRS.iter().any(|dir| {
                    e.path
                        .strip_prefix(dir)
                        .is_some_and(|name| RPM_FILES.contains(&name))
                }),
        )
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        let (read, what) = if e.path == RPM_MANIFEST {
            (rpm::manifest::read(data), "rpm manifest")
        } else {
            (rpm::read(data), "rpm database")
        };
        Some(match read {
            Ok(p) => Fact::Rpm(p),
            Err(err) => {
                let code = match err {
                    moat_pkgdb::Error::Format { .. } => Code::Unsupported,
                    _ => Code::ParseError,
                };
                Fact::Diagnostic(Diagnostic::new(code, format!("{what}: {err}")))
            }
        })
    }
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }
}
