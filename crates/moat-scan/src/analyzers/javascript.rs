//! The JavaScript analyzers: the three lockfile formats (`npm-lock`: `package-lock.json`
//! and `npm-shrinkwrap.json` v1 to v3; `yarn-lock`: classic and berry; `pnpm-lock`: v5 to
//! v9), which state what a project resolved, dev dependencies marked; and `node-modules`:
//! each `node_modules/**/package.json`, what is actually installed; `bun-lock`: bun's text
//! lockfile `bun.lock`, dev dependencies marked.
//!
//! `package-json`: a project's own `package.json` outside `node_modules` names ranges, not
//! versions, so it is no package source; it is read as a manifest, whose `devDependencies`
//! the join applies to a `yarn.lock` or `package-lock.json` v1 beside it (neither says what
//! is for development only), and whose name and version are the project itself beside a
//! `yarn.lock` (which has no root entry).

use super::lang::{LangAnalyzer, ManifestAnalyzer};
use moat_lang::LangFile;
use moat_lang::project::ManifestFile;

pub const NPM_LOCK: LangAnalyzer = LangAnalyzer::declared("npm-lock", 1, &[LangFile::NpmLock]);
pub const YARN_LOCK: LangAnalyzer = LangAnalyzer::declared("yarn-lock", 1, &[LangFile::YarnLock]);
pub const PNPM_LOCK: LangAnalyzer = LangAnalyzer::declared("pnpm-lock", 1, &[LangFile::PnpmLock]);
pub const NODE_MODULES: LangAnalyzer =
    LangAnalyzer::installed("node-modules", 1, &[LangFile::NodePackageJson]);
pub const BUN_LOCK: LangAnalyzer = LangAnalyzer::declared("bun-lock", 1, &[LangFile::BunLock]);
pub const PACKAGE_JSON: ManifestAnalyzer =
    ManifestAnalyzer::new("package-json", 1, ManifestFile::PackageJson);
