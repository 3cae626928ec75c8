//! The Apple platforms' lockfiles: `podfile-lock` (CocoaPods' `Podfile.lock`) and
//! `swift-resolved` (SwiftPM's `Package.resolved` v1-v3, packages named by repository URL
//! as OSV's `SwiftURL` names them).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const PODFILE_LOCK: LangAnalyzer =
    LangAnalyzer::declared("podfile-lock", 1, &[LangFile::PodfileLock]);
pub const SWIFT_RESOLVED: LangAnalyzer =
    LangAnalyzer::declared("swift-resolved", 1, &[LangFile::PackageResolved]);
