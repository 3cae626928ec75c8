//! The PHP analyzers: `composer-lock` (`composer.lock`, what Composer resolved, dev
//! packages marked) and `composer-installed` (`vendor/composer/installed.json`, what is in
//! `vendor/`).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const COMPOSER_LOCK: LangAnalyzer =
    LangAnalyzer::declared("composer-lock", 1, &[LangFile::ComposerLock]);
pub const COMPOSER_INSTALLED: LangAnalyzer =
    LangAnalyzer::installed("composer-installed", 1, &[LangFile::ComposerInstalled]);
