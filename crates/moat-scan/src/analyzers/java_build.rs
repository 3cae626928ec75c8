//! The Java build files: `gradle-lock` (`gradle.lockfile`, resolved coordinates) and
//! `maven-pom` (`pom.xml`, dependencies whose version the file itself fixes; those needing a
//! parent pom, a range or the network are reported as skipped).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const GRADLE_LOCK: LangAnalyzer =
    LangAnalyzer::declared("gradle-lock", 1, &[LangFile::GradleLock]);
pub const MAVEN_POM: LangAnalyzer = LangAnalyzer::declared("maven-pom", 1, &[LangFile::PomXml]);
