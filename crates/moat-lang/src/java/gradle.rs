//! `gradle.lockfile`: one `group:artifact:version=configuration,...` line per dependency.

use moat_model::Diagnostic;

use crate::{Ecosystem, LangPackage, LangParsed, read};

/// A configuration only tests use: `testCompileClasspath`, `testRuntimeClasspath`,
/// `testFixturesRuntimeClasspath`, `integrationTestRuntimeClasspath`,
/// `androidTestRuntimeClasspath`, ...
fn is_test_configuration(conf: &str) -> bool {
    conf.starts_with("test") || conf.contains("Test")
}

/// Parses a `gradle.lockfile` (Gradle 6+), or a per-configuration lockfile of older Gradle
/// (lines without `=`). Comments and the `empty=` line are skipped. A dependency whose
/// configurations are all test ones is `dev`; metadata `configurations` lists them. Lines
/// that are not coordinates are counted in one `parse-error` at the first of them.
pub fn parse_gradle_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = String::from_utf8_lossy(bytes);
    let mut out = LangParsed::default();
    let mut bad = 0usize;
    let mut first_bad = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let (coord, confs) = match line.split_once('=') {
            Some((c, confs)) => (c.trim(), Some(confs.trim())),
            None => (line, None),
        };
        let parts: Vec<&str> = coord.split(':').collect();
        // group:artifact:version, or with a classifier group:artifact:version:classifier.
        if !(3..=4).contains(&parts.len()) || parts[..3].iter().any(|p| p.trim().is_empty()) {
            bad += 1;
            first_bad.get_or_insert(n + 1);
            continue;
        }
        let mut p = LangPackage::new(
            Ecosystem::Maven,
            format!("{}:{}", parts[0].trim(), parts[1].trim()),
            parts[2].trim(),
        );
        if let Some(confs) = confs {
            let list: Vec<&str> = confs
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            p.dev = !list.is_empty() && list.iter().all(|c| is_test_configuration(c));
            p.metadata.insert("configurations".into(), list.join(","));
        }
        out.packages.push(p);
    }
    if let Some(first) = first_bad {
        out.warn(
            Diagnostic::parse(format!(
                "{bad} line(s) not of the form group:artifact:version=configurations"
            ))
            .line(read::line_no(first)),
        );
    }
    out
}
