//! Ruby parsers against every gem fixture and the osv-scanner Gemfile.lock inputs
//! (expectations from `tests/data/ruby/gen.py`), truncated inputs, and the lang-app image.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "other_support.rs"]
mod support;

use moat_lang::ruby;
use support::{Parser, lang_app, read};

fn parser(kind: &str) -> Parser {
    match kind {
        "gemfile_lock" => ruby::parse_gemfile_lock,
        "gemspec" => ruby::parse_gemspec,
        other => panic!("unknown parser {other}"),
    }
}

const ALL: [Parser; 2] = [ruby::parse_gemfile_lock, ruby::parse_gemspec];

#[test]
fn fixtures_match_expectations() {
    support::check_expectations("ruby", 25, parser);
}

#[test]
fn truncated_fixtures_never_panic() {
    support::check_truncations("ruby", parser, &ALL);
}

#[test]
fn gemfile_lock_details() {
    let lock = b"GIT\n  remote: https://github.com/x/y.git\n  revision: abc\n  specs:\n    y (0.1.0)\n      rack (>= 2)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.13.3-x86_64-linux)\n      racc (~> 1.4)\n    nokogiri (1.13.3-arm64-darwin)\n    rack (2.2.3)\n    broken\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  y!\n\nBUNDLED WITH\n   2.2.28\n";
    let r = ruby::parse_gemfile_lock("Gemfile.lock", lock);
    assert_eq!(r.packages.len(), 3, "{r:?}");
    assert_eq!(r.warnings.len(), 1);
    let y = &r.packages[0];
    assert_eq!((y.name.as_str(), y.version.as_str()), ("y", "0.1.0"));
    assert_eq!(y.metadata["source"], "git");
    assert_eq!(y.metadata["revision"], "abc");
    assert_eq!(y.depends, ["rack"]);
    let n = &r.packages[1];
    assert_eq!(n.version, "1.13.3");
    assert_eq!(n.metadata["platform"], "x86_64-linux,arm64-darwin");
    assert_eq!(n.depends, ["racc"]);
}

#[test]
fn gemspec_details() {
    let spec = b"# stub: foo 9.9 ruby lib\nGem::Specification.new do |spec|\n  spec.name = %q{foo-bar}\n  spec.version = \"1.2.3\".freeze\n  spec.license = 'Apache-2.0'.freeze\n  spec.add_runtime_dependency(%q<rack>.freeze, [\">= 0\"])\n  spec.add_development_dependency(%q<rake>.freeze, [\">= 0\"])\n  spec.add_dependency \"json\"\nend\n";
    let r = ruby::parse_gemspec("specifications/foo.gemspec", spec);
    let p = &r.packages[0];
    assert_eq!((p.name.as_str(), p.version.as_str()), ("foo-bar", "1.2.3"));
    assert_eq!(p.licenses, ["Apache-2.0"]);
    assert_eq!(p.depends, ["rack", "json"]);
    let r = ruby::parse_gemspec("x.gemspec", b"# stub: only 1.0 ruby lib\n");
    assert_eq!(r.packages[0].version, "1.0");
    assert!(
        !ruby::parse_gemspec("x.gemspec", b"bogus")
            .warnings
            .is_empty()
    );
    for input in [
        &b"s.name = \"x"[..],
        b"s.name = %q",
        b"  specs:\n    a (",
        b"GEM\n  specs:\n    a (1",
    ] {
        for p in ALL {
            let _ = p("x", input);
        }
    }
}

#[test]
fn lang_app_rack_gemspec() {
    let rel = "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec";
    let Some((_tmp, root)) = lang_app(&[rel]) else {
        return;
    };
    let r = ruby::parse_gemspec(rel, &read(&root, rel));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let [p] = &r.packages[..] else {
        panic!("{r:?}")
    };
    assert_eq!((p.name.as_str(), p.version.as_str()), ("rack", "2.2.22"));
    assert_eq!(p.licenses, ["MIT"]);
}
