//! The Python analyzers.
//!
//! - `python-dist`: installed distributions, `*.dist-info/METADATA` with its `RECORD` (the
//!   file list; the join gives it to the METADATA package, which is how an OS package that
//!   owns those files claims the Python package) and `*.egg-info` (`PKG-INFO` or a single
//!   file);
//! - the declarations: `pip-requirements` (`requirements*.txt`, pinned lines only),
//!   `poetry-lock`, `pipfile-lock`, `uv-lock`, `pylock` (PEP 751 `pylock.toml`).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const PYTHON_DIST: LangAnalyzer = LangAnalyzer::installed(
    "python-dist",
    1,
    &[LangFile::PyMetadata, LangFile::PyRecord],
);
pub const PIP_REQUIREMENTS: LangAnalyzer =
    LangAnalyzer::declared("pip-requirements", 1, &[LangFile::Requirements]);
pub const POETRY_LOCK: LangAnalyzer =
    LangAnalyzer::declared("poetry-lock", 1, &[LangFile::PoetryLock]);
pub const PIPFILE_LOCK: LangAnalyzer =
    LangAnalyzer::declared("pipfile-lock", 1, &[LangFile::PipfileLock]);
pub const UV_LOCK: LangAnalyzer = LangAnalyzer::declared("uv-lock", 1, &[LangFile::UvLock]);
pub const PYLOCK: LangAnalyzer = LangAnalyzer::declared("pylock", 1, &[LangFile::PyLock]);
