//! conan.lock, mix.lock and pubspec.lock parsers against every fixture (expectations from
//! `tests/data/other/gen.py`) and truncated inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "other_support.rs"]
mod support;

use moat_lang::{Ecosystem, other};
use support::Parser;

fn parser(kind: &str) -> Parser {
    match kind {
        "conan" => other::parse_conan_lock,
        "mix" => other::parse_mix_lock,
        "pubspec" => other::parse_pubspec_lock,
        other => panic!("unknown parser {other}"),
    }
}

const ALL: [Parser; 3] = [
    other::parse_conan_lock,
    other::parse_mix_lock,
    other::parse_pubspec_lock,
];

#[test]
fn fixtures_match_expectations() {
    support::check_expectations("other", 50, parser);
}

#[test]
fn truncated_fixtures_never_panic() {
    support::check_truncations("other", parser, &ALL);
}

#[test]
fn conan_details() {
    let v2 = br#"{"version":"0.5","requires":["zlib/1.2.13@user/stable#rev%1.5"],"build_requires":["cmake/3.27.0#r"],"python_requires":[]}"#;
    let r = other::parse_conan_lock("conan.lock", v2);
    assert_eq!(r.packages.len(), 2);
    let z = &r.packages[0];
    assert_eq!(z.ecosystem, Ecosystem::Conan);
    assert_eq!((z.name.as_str(), z.version.as_str()), ("zlib", "1.2.13"));
    assert_eq!(z.metadata["user"], "user");
    assert_eq!(z.metadata["channel"], "stable");
    assert_eq!(z.metadata["revision"], "rev");
    let c = &r.packages[1];
    assert!(c.dev);
    assert_eq!(c.metadata["build"], "true");

    let v1 = br#"{"graph_lock":{"nodes":{"0":{"ref":"app/1.0","requires":["1"]},"1":{"ref":"zlib/1.2.11#abc","context":"host"}}},"version":"0.4"}"#;
    let r = other::parse_conan_lock("conan.lock", v1);
    assert!(r.packages[0].application);
    assert_eq!(r.packages[0].depends, ["zlib"]);
    assert_eq!(r.packages[1].metadata["revision"], "abc");
}

#[test]
fn mix_details() {
    let lock = br#"%{
  "plug": {:hex, :plug, "1.14.0", "abc", [:mix], [{:mime, "~> 1.0 or ~> 2.0", [hex: :mime, repo: "hexpm", optional: false]}], "hexpm", "def"},
  "my_alias": {:hex, :real_name, "0.1.0", "abc", [:mix], [], "hexpm", "def"},
  "enacl": {:git, "https://github.com/aeternity/enacl.git", "2f50ba6", [ref: "2f50ba6"]},
  "tagged": {:git, "https://x/y.git", "c0ffee", [tag: "v1.2.0", sparse: "a"]},
  "nover": {:git, "https://x/z.git", "c0ffee", []},
  "local": {:path, "../local"},
}
"#;
    let r = other::parse_mix_lock("mix.lock", lock);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let got: Vec<(&str, &str)> = r
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("plug", "1.14.0"),
            ("real_name", "0.1.0"),
            ("enacl", "2f50ba6"),
            ("tagged", "v1.2.0")
        ]
    );
    assert_eq!(r.packages[0].depends, ["mime"]);
    assert_eq!(r.packages[1].metadata["app"], "my_alias");
    assert_eq!(r.packages[0].ecosystem, Ecosystem::Hex);
}

#[test]
fn pubspec_details() {
    let lock = b"packages:\n  test:\n    dependency: \"direct dev\"\n    description:\n      name: test\n      url: \"https://pub.dev\"\n    source: hosted\n    version: \"1.24.0\"\n  flutter:\n    dependency: \"direct main\"\n    description: flutter\n    source: sdk\n    version: \"0.0.0\"\n";
    let r = other::parse_pubspec_lock("pubspec.lock", lock);
    assert_eq!(r.packages.len(), 2);
    let f = &r.packages[0];
    assert_eq!(f.name, "flutter");
    assert_eq!(f.metadata["source"], "sdk");
    let t = &r.packages[1];
    assert!(t.dev);
    assert_eq!(t.metadata["url"], "https://pub.dev");
    for input in [
        &b"%{"[..],
        b"%{\"a\": {:hex",
        b"[[[[",
        b"packages: [",
        b"{\"graph_lock\":1}",
        b"null",
    ] {
        for p in ALL {
            let _ = p("x", input);
        }
    }
    let deep = "[".repeat(100_000);
    for p in ALL {
        let _ = p("x", deep.as_bytes());
    }
}
