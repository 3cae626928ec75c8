//! `pom.xml` and `gradle.lockfile` fixtures against lists written independently by
//! `tests/data/java/gen.py` (`python3 crates/moat-lang/tests/data/java/gen.py`).
//!
//! The fixtures are read-only and live outside the repository, under `$MOAT_SHARED_DATA`
//! (default `../shared/data` beside the repository). Without them the tests fail when `CI=true` and print
//! "skipped" otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use moat_lang::java::{parse_gradle_lock, parse_pom};
use moat_lang::{Ecosystem, LangParsed};

fn data_root() -> Option<PathBuf> {
    let root =
        PathBuf::from(std::env::var("MOAT_SHARED_DATA").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into()
        }));
    if root.is_dir() {
        return Some(root);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{}: fixtures missing and CI=true", root.display());
    }
    println!("skipped: {} not found", root.display());
    None
}

fn expected_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/java/expected")
        .join(kind)
}

/// The lines `gen.py` writes, computed from the parser's result.
fn lines_of(kind: &str, parsed: &LangParsed, path: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for p in &parsed.packages {
        assert_eq!(p.ecosystem, Ecosystem::Maven);
        let mut l = format!("{} {}", p.name, p.version);
        if p.application {
            l.push_str(" application");
        }
        if p.dev {
            l.push_str(" dev");
        }
        lines.push(l);
    }
    let joined = parsed
        .warnings
        .iter()
        .map(|w| w.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    if kind == "pom" {
        if joined.contains("not readable XML") || joined.contains("not <project>") {
            assert!(
                parsed.packages.is_empty(),
                "{path}: packages despite an error"
            );
            lines.push("!error".into());
        }
        if joined.contains("project's own groupId:artifactId:version cannot be resolved") {
            lines.push("!no-root".into());
        }
        for w in &parsed.warnings {
            if let Some((n, _)) = w.message.split_once(" dependencies skipped") {
                lines.push(format!("!skipped {n}"));
            }
        }
    } else if let Some(w) = parsed.warnings.first()
        && let Some((n, _)) = w.message.split_once(" line(s) not of the form")
    {
        let n: usize = n.parse().expect("count");
        lines.extend(std::iter::repeat_n("!bad-line".to_string(), n));
    }
    lines.sort();
    lines
}

fn check_kind(kind: &str, parse: fn(&str, &[u8]) -> LangParsed) -> usize {
    let Some(root) = data_root() else {
        return 0;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(expected_dir(kind))
        .expect("expected dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("expected file");
        let source = text
            .lines()
            .find_map(|l| l.strip_prefix("# source: "))
            .expect("source header");
        let want: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_string)
            .collect();
        let bytes = std::fs::read(root.join(source)).expect("fixture");
        let parsed = parse(source, &bytes);
        let got = lines_of(kind, &parsed, source);
        if got != want {
            failures.push(format!(
                "{source}\n  want: {want:?}\n  got:  {got:?}\n  warnings: {:?}",
                parsed.warnings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    files.len()
}

#[test]
fn poms_match_gen_py() {
    let n = check_kind("pom", parse_pom);
    assert!(n == 0 || n > 100, "only {n} pom fixtures");
}

#[test]
fn gradle_lockfiles_match_gen_py() {
    let n = check_kind("gradle", parse_gradle_lock);
    assert!(n == 0 || n >= 3, "only {n} gradle fixtures");
}

#[test]
fn pom_details() {
    let pom = br#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>2.0</version></parent>
  <artifactId>app</artifactId>
  <properties><lib.version>1.${minor}</lib.version><minor>4</minor></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>m</groupId><artifactId>managed</artifactId><version>9.9</version><scope>test</scope></dependency>
    <dependency><groupId>not</groupId><artifactId>a-dependency</artifactId><version>1</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>a</groupId><artifactId>lib</artifactId><version>${lib.version}</version><optional>true</optional></dependency>
    <dependency><groupId>a</groupId><artifactId>same</artifactId><version>${project.version}</version></dependency>
    <dependency><groupId>m</groupId><artifactId>managed</artifactId></dependency>
    <dependency><groupId>a</groupId><artifactId>range</artifactId><version>[1.0,2.0)</version></dependency>
    <dependency><groupId>a</groupId><artifactId>exact</artifactId><version>[3.1]</version></dependency>
    <dependency><groupId>a</groupId><artifactId>unknown</artifactId><version>${nope}</version></dependency>
    <dependency><groupId>a</groupId><artifactId>t</artifactId><version>1 &amp; 2</version><scope>test</scope></dependency>
  </dependencies>
</project>"#;
    let r = parse_pom("src/pom.xml", pom);
    let got: Vec<(String, String, bool, bool)> = r
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.application, p.dev))
        .collect();
    let s = |n: &str, v: &str, a: bool, d: bool| (n.to_string(), v.to_string(), a, d);
    assert_eq!(
        got,
        vec![
            s("org.example:app", "2.0", true, false),
            s("a:lib", "1.4", false, false),
            s("a:same", "2.0", false, false),
            s("m:managed", "9.9", false, true),
            s("a:exact", "3.1", false, false),
            s("a:t", "1 & 2", false, true),
        ]
    );
    assert_eq!(
        r.packages[1].metadata.get("optional").map(|v| v.as_str()),
        Some("true")
    );
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].message.contains("2 dependencies skipped"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn pom_bounds_and_garbage() {
    let deep = format!(
        "<project>{}{}</project>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    let r = parse_pom("pom.xml", deep.as_bytes());
    assert!(r.packages.is_empty());
    assert_eq!(r.warnings.len(), 1);
    let r = parse_pom("pom.xml", b"<project><groupId>x</groupId>");
    assert!(r.packages.is_empty() && r.warnings.len() == 1, "{r:?}");
    let r = parse_pom("pom.xml", b"\xff\xfe\x00garbage");
    assert!(r.packages.is_empty() && r.warnings.len() == 1, "{r:?}");
    let big = vec![b' '; 9 << 20];
    assert_eq!(parse_pom("pom.xml", &big).warnings.len(), 1);
}

#[test]
fn gradle_details() {
    let lock = b"# comment\n\
        com.google.guava:guava:31.1-jre=compileClasspath,testRuntimeClasspath\n\
        junit:junit:4.13.2=testCompileClasspath,testRuntimeClasspath\n\
        org.x:fixtures:1.0=testFixturesRuntimeClasspath\n\
        org.x:legacy:2.0\n\
        not a line=compileClasspath\n\
        empty=annotationProcessor\n";
    let r = parse_gradle_lock("gradle.lockfile", lock);
    let got: Vec<(&str, &str, bool)> = r
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.dev))
        .collect();
    assert_eq!(
        got,
        vec![
            ("com.google.guava:guava", "31.1-jre", false),
            ("junit:junit", "4.13.2", true),
            ("org.x:fixtures", "1.0", true),
            ("org.x:legacy", "2.0", false),
        ]
    );
    assert_eq!(
        r.packages[0]
            .metadata
            .get("configurations")
            .map(|v| v.as_str()),
        Some("compileClasspath,testRuntimeClasspath")
    );
    assert_eq!(r.warnings.len(), 1);
}

/// osv-scanner's recorded runs (`oracles/osv-scanner/scan/source/__snapshots__`, the
/// `no_resolve_no_transitive` and explicit-lockfile cases): the dependencies each pom yields
/// without transitive resolution. Where moat differs, `tests/data/java/osv-scanner-differences.txt`
/// says why (moat also reports the project itself, as `application`).
#[test]
fn poms_agree_with_osv_scanner_recordings() {
    let Some(root) = data_root() else {
        return;
    };
    let dir = "oracles/osv-scanner/scan/source/testdata/maven-transitive";
    for (file, want) in [
        (
            "pom.xml",
            &["org.apache.logging.log4j:log4j-web 2.14.1"][..],
        ),
        (
            "abc.xml",
            &["org.apache.logging.log4j:log4j-web 2.14.1"][..],
        ),
        ("encoding.xml", &["junit:junit 4.12"][..]),
    ] {
        let rel = format!("{dir}/{file}");
        let bytes = std::fs::read(root.join(&rel)).expect("fixture");
        let r = parse_pom(&rel, &bytes);
        let deps: Vec<String> = r
            .packages
            .iter()
            .filter(|p| !p.application)
            .map(|p| format!("{} {}", p.name, p.version))
            .collect();
        assert_eq!(deps, want, "{rel}");
        let apps: Vec<&str> = r
            .packages
            .iter()
            .filter(|p| p.application)
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(apps, ["com.mycompany.app:my-app"], "{rel}");
    }
}
