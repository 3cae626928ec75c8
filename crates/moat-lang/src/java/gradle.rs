//! `gradle.lockfile`: one `group:artifact:version=configuration,...` line per dependency.

use moat_model::Diagnostic;

use crate::read::MAX_PACKAGES;
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
///
/// Read line by line (a line's bytes are decoded on their own, invalid UTF-8 replaced), so
/// memory follows the packages kept; at most [`MAX_PACKAGES`] are, then one `too-large`
/// diagnostic says the rest was not read.
pub fn parse_gradle_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let mut out = LangParsed::default();
    let mut bad = 0usize;
    let mut first_bad = None;
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = String::from_utf8_lossy(line);
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
            p.metadata
                .insert("configurations".into(), list.join(",").into());
        }
        if out.packages.len() == MAX_PACKAGES {
            out.warn(read::too_many("dependencies"));
            break;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_one_by_one_and_capped() {
        let r = parse_gradle_lock(
            "gradle.lockfile",
            b"# c\r\na:b:1=testRuntimeClasspath\r\n\xff:x:2=compileClasspath\nbad\nempty=\n",
        );
        assert_eq!(r.packages.len(), 2);
        assert!(r.packages[0].dev);
        assert_eq!(r.packages[1].name, "\u{fffd}:x");
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].line, Some(4));
        let mut big = String::new();
        for i in 0..MAX_PACKAGES + 3 {
            big.push_str(&format!("g:a{i}:1=runtimeClasspath\n"));
        }
        let r = parse_gradle_lock("gradle.lockfile", big.as_bytes());
        assert_eq!(r.packages.len(), MAX_PACKAGES);
        assert_eq!(
            r.warnings[0].message,
            format!("more than {MAX_PACKAGES} dependencies; the rest is not read")
        );
    }
}
