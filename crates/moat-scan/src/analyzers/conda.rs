//! The conda analyzers: `conda-meta` (`<prefix>/conda-meta/*.json`, one record per package
//! installed in an environment, with its files) and `conda-environment` (`environment.yml`,
//! the pins of an environment, conda's and the `pip:` list's). Conda has no OSV ecosystem:
//! its packages are inventory only.

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const CONDA_META: LangAnalyzer =
    LangAnalyzer::installed("conda-meta", 1, &[LangFile::CondaMeta]);
pub const CONDA_ENVIRONMENT: LangAnalyzer =
    LangAnalyzer::declared("conda-environment", 1, &[LangFile::CondaEnvironment]);
