//! `elf-binary`: executables whose first bytes say ELF, for the inventories compilers embed:
//! Go build info (the main module, its dependencies and the toolchain, as `stdlib`) and
//! cargo-auditable's `.dep-v0` section (a Rust binary's crates). Binaries cannot be known by
//! name, so this analyzer asks for the first four bytes of every executable regular file
//! ([`Interest::Sniff`]) and wants the whole file only when they are ELF's magic; a binary
//! over the entry limit is skipped without a diagnostic (there are many, and nothing says
//! one holds an inventory).

use crate::analyzer::{Analyzer, AnalyzerInfo, Entry, Interest};
use crate::fact::Fact;

/// The bytes [`moat_lang::is_binary_candidate`] needs.
const HEAD: usize = 4;

const INFO: AnalyzerInfo = AnalyzerInfo::packages("elf-binary", 1);

pub struct ElfBinary;

impl Analyzer for ElfBinary {
    fn wants(&self, e: &Entry) -> Interest {
        if e.is_executable() {
            Interest::Sniff(HEAD)
        } else {
            Interest::No
        }
    }
    fn wants_head(&self, _e: &Entry, head: &[u8]) -> bool {
        moat_lang::is_binary_candidate(head)
    }
    fn analyze(&self, e: &Entry, data: &[u8]) -> Option<Fact> {
        Some(Fact::Lang {
            parsed: moat_lang::binary::parse(e.path, data),
            declared: false,
        })
    }
    fn info(&self) -> &AnalyzerInfo {
        &INFO
    }
}
