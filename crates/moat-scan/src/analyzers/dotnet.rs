//! The .NET analyzers: `dotnet-deps` (`*.deps.json` beside a built application: the
//! packages it runs with), `nuget-lock` (`packages.lock.json`: what a project resolved),
//! `nuget-central` (`Directory.Packages.props`: the versions central package management
//! pins) and `packages-config` (a classic project's `packages.config`).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const DOTNET_DEPS: LangAnalyzer =
    LangAnalyzer::installed("dotnet-deps", 1, &[LangFile::DepsJson]);
pub const NUGET_LOCK: LangAnalyzer =
    LangAnalyzer::declared("nuget-lock", 1, &[LangFile::NugetLock]);
pub const NUGET_CENTRAL: LangAnalyzer =
    LangAnalyzer::declared("nuget-central", 1, &[LangFile::NugetCentral]);
pub const PACKAGES_CONFIG: LangAnalyzer =
    LangAnalyzer::declared("packages-config", 1, &[LangFile::PackagesConfig]);
