//! `java-archive`: JAR, WAR and EAR files (and the `.par`, `.sar`, `.jpi`, `.hpi` variants,
//! names matched without regard to case), nested archives included: `pom.properties` and
//! `MANIFEST.MF` inside say what each archive is. Archives are what a Java image runs, so
//! they count as installed; build files are [`super::java_build`]'s.

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const JAVA_ARCHIVE: LangAnalyzer =
    LangAnalyzer::installed("java-archive", 1, &[LangFile::JavaArchive]);
