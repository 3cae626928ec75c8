//! The Java build files: `gradle-lock` (`gradle.lockfile`, resolved coordinates),
//! `maven-pom` (`pom.xml`, dependencies whose version the file itself fixes; those needing a
//! parent pom, a range or the network are reported as skipped) and `sbt-lock` (sbt's
//! `build.sbt.lock`).

use super::lang::LangAnalyzer;
use moat_lang::LangFile;

pub const GRADLE_LOCK: LangAnalyzer =
    LangAnalyzer::declared("gradle-lock", 1, &[LangFile::GradleLock]);
pub const MAVEN_POM: LangAnalyzer = LangAnalyzer::declared("maven-pom", 1, &[LangFile::PomXml]);
pub const SBT_LOCK: LangAnalyzer = LangAnalyzer::declared("sbt-lock", 1, &[LangFile::SbtLock]);
