//! The .NET analyzers: `dotnet-deps` (`*.deps.json` beside a built application: the
//! packages it runs with) and `nuget-lock` (`packages.lock.json`: what a project resolved).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const DOTNET_DEPS: LangAnalyzer =
    LangAnalyzer::installed("dotnet-deps", 1, &[LangFile::DepsJson]);
pub const NUGET_LOCK: LangAnalyzer =
    LangAnalyzer::declared("nuget-lock", 1, &[LangFile::NugetLock]);
