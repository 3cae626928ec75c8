//! The dpkg analyzers: Debian's package database and the files that complete it.
//!
//! - `dpkg-status`: `var/lib/dpkg/status`, or distroless's one stanza file per package
//!   `var/lib/dpkg/status.d/<name>` (maintainer scripts and other dotted names are skipped);
//! - `dpkg-files`: the file lists, `var/lib/dpkg/info/<pkg>[:arch].list`, or distroless's
//!   `status.d/<pkg>.md5sums`;
//! - `dpkg-copyright`: `usr/share/doc/<pkg>/copyright`, for licences.
//!
//! Three analyzers in one file because they share the path vocabulary and only make sense
//! together: the join (`join::os`) gives each status package its file list and licences.
//! Separate ids because they read different files with different parsers, and a change to
//! one should not invalidate cached facts of the others.

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest};
use crate::fact::Fact;
use moat_pkgdb::dpkg;

/// The status database.
pub const STATUS: &str = "var/lib/dpkg/status";
/// Where dpkg keeps per-package files.
pub const INFO_DIR: &str = "var/lib/dpkg/info/";
/// Distroless's per-package status directory.
pub const STATUS_D: &str = "var/lib/dpkg/status.d/";
const DOC_DIR: &str = "usr/share/doc/";

/// The file name of a direct child of `status.d/`.
fn status_d_name(path: &str) -> Option<&str> {
    path.strip_prefix(STATUS_D)
        .filter(|n| !n.is_empty() && !n.contains('/'))
}

const STATUS_INFO: AnalyzerInfo = AnalyzerInfo::packages("dpkg-status", 1);

pub struct DpkgStatus;

impl Analyzer for DpkgStatus {
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(e.path == STATUS || status_d_name(e.path).is_some_and(|n| !n.contains('.')))
    }
    fn analyze(&self, _e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(Fact::Dpkg(dpkg::parse_status(data)))
    }
    fn streams(&self) -> bool {
        true
    }
    fn analyze_reader(
        &self,
        _e: &Entry,
        r: &mut dyn std::io::BufRead,
    ) -> std::io::Result<Option<Fact>> {
        Ok(Some(Fact::Dpkg(dpkg::read_status(r)?)))
    }
    fn info(&self) -> &AnalyzerInfo {
        &STATUS_INFO
    }
}

const FILES_INFO: AnalyzerInfo = AnalyzerInfo::packages("dpkg-files", 1);

pub struct DpkgFiles;

impl Analyzer for DpkgFiles {
    fn wants(&self, e: &Entry) -> Interest {
        let list = e
            .path
            .strip_prefix(INFO_DIR)
            .is_some_and(|n| n.ends_with(".list") && !n.contains('/'));
        Interest::from(list || status_d_name(e.path).is_some_and(|n| n.ends_with(".md5sums")))
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(match status_d_name(e.path) {
            Some(name) => Fact::DpkgFiles {
                package: name.trim_end_matches(".md5sums").to_string(),
                arch: None,
                files: dpkg::parse_md5sums(data),
            },
            None => {
                let (package, arch) = dpkg::info_file_package(e.path).unwrap_or_default();
                Fact::DpkgFiles {
                    package,
                    arch,
                    files: dpkg::parse_list(data),
                }
            }
        })
    }
    fn info(&self) -> &AnalyzerInfo {
        &FILES_INFO
    }
}

pub struct DpkgCopyright;

impl DpkgCopyright {
    /// The package of `usr/share/doc/<pkg>/copyright`.
    fn package(path: &str) -> Option<&str> {
        path.strip_prefix(DOC_DIR)?
            .strip_suffix("/copyright")
            .filter(|p| !p.contains('/'))
    }
}

const COPYRIGHT_INFO: AnalyzerInfo = AnalyzerInfo::packages("dpkg-copyright", 1);

impl Analyzer for DpkgCopyright {
    fn info(&self) -> &AnalyzerInfo {
        &COPYRIGHT_INFO
    }
    fn wants(&self, e: &Entry) -> Interest {
        Interest::from(Self::package(e.path).is_some())
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(Fact::Copyright {
            package: Self::package(e.path).unwrap_or_default().to_string(),
            licenses: dpkg::copyright_licenses(data),
        })
    }
}
