//! The Ruby analyzers: `gemfile-lock` (`Gemfile.lock`, `gems.locked`: what Bundler
//! resolved) and `gemspec` (`specifications/*.gemspec`: the gems installed, including those
//! Debian's ruby packages ship).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const GEMFILE_LOCK: LangAnalyzer =
    LangAnalyzer::declared("gemfile-lock", 1, &[LangFile::GemfileLock]);
pub const GEMSPEC: LangAnalyzer = LangAnalyzer::installed("gemspec", 1, &[LangFile::Gemspec]);
