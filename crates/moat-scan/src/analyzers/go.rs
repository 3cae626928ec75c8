//! `go-mod`: a Go module's `go.mod` (requirements, replacements) and `go.sum` (every module
//! the build may fetch), read together as one analyzer because both describe the same
//! module graph. Modules inside compiled Go binaries come from [`super::binary`].

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const GO_MOD: LangAnalyzer =
    LangAnalyzer::declared("go-mod", 1, &[LangFile::GoMod, LangFile::GoSum]);
