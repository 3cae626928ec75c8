//! The PHP analyzers: `composer-lock` (`composer.lock`, what Composer resolved, dev
//! packages marked), `composer-installed` (`<vendor-dir>/composer/installed.json`, what is
//! in the vendor directory; the join keeps those under `vendor/` or under the vendor
//! directory a `composer.json` sets) and `composer-json` (the project's `composer.json`,
//! read as a manifest: `require-dev` and `config.vendor-dir`).

use super::lang::{LangAnalyzer, ManifestAnalyzer};
use moat_lang::LangFile;
use moat_lang::project::ManifestFile;

pub const COMPOSER_LOCK: LangAnalyzer =
    LangAnalyzer::declared("composer-lock", 1, &[LangFile::ComposerLock]);
pub const COMPOSER_INSTALLED: LangAnalyzer =
    LangAnalyzer::installed("composer-installed", 1, &[LangFile::ComposerInstalled]);
pub const COMPOSER_JSON: ManifestAnalyzer =
    ManifestAnalyzer::new("composer-json", 1, ManifestFile::ComposerJson);
