//! The smaller ecosystems' lockfiles, one analyzer each but one file, as each is a single
//! constant: `conan-lock` (C/C++, `conan.lock` v1 and v2), `mix-lock` (Elixir/Hex,
//! `mix.lock`), `pubspec-lock` (Dart/pub, `pubspec.lock`) and `julia-manifest` (Julia's
//! `Manifest.toml`).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const CONAN_LOCK: LangAnalyzer =
    LangAnalyzer::declared("conan-lock", 1, &[LangFile::ConanLock]);
pub const MIX_LOCK: LangAnalyzer = LangAnalyzer::declared("mix-lock", 1, &[LangFile::MixLock]);
pub const PUBSPEC_LOCK: LangAnalyzer =
    LangAnalyzer::declared("pubspec-lock", 1, &[LangFile::PubspecLock]);
pub const JULIA_MANIFEST: LangAnalyzer =
    LangAnalyzer::declared("julia-manifest", 1, &[LangFile::JuliaManifest]);
