//! The JavaScript analyzers: the three lockfile formats (`npm-lock`: `package-lock.json`
//! and `npm-shrinkwrap.json` v1 to v3; `yarn-lock`: classic and berry; `pnpm-lock`: v5 to
//! v9), which state what a project resolved, dev dependencies marked; and `node-modules`:
//! each `node_modules/**/package.json`, what is actually installed. A project's own
//! `package.json` outside `node_modules` is not read (it names ranges, not versions).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const NPM_LOCK: LangAnalyzer = LangAnalyzer::declared("npm-lock", 1, &[LangFile::NpmLock]);
pub const YARN_LOCK: LangAnalyzer = LangAnalyzer::declared("yarn-lock", 1, &[LangFile::YarnLock]);
pub const PNPM_LOCK: LangAnalyzer = LangAnalyzer::declared("pnpm-lock", 1, &[LangFile::PnpmLock]);
pub const NODE_MODULES: LangAnalyzer =
    LangAnalyzer::installed("node-modules", 1, &[LangFile::NodePackageJson]);
