//! End to end: `moat inventory dir:...` over realistic project trees, one per newer format
//! (bun, CocoaPods, SwiftPM, PEP 751, sbt, NuGet central and packages.config, conda, Julia)
//! and per manifest join (Cargo dev and build dependencies, yarn's project and its dev
//! dependencies, Composer's `require-dev` and `vendor-dir`, Maven scopes, `go.mod` over
//! `go.sum`, with and without `--skip-dev-deps`): packages, purls, OSV ecosystem names, dev
//! marks.
//! The lockfiles are the realistic files written for moat-lang's tests
//! (`crates/moat-lang/tests/data/formats/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn format_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../moat-lang/tests/data/formats")
        .join(name)
}

/// A directory tree: (destination, source file of the format data) and (destination, text).
fn tree(copies: &[(&str, &str)], texts: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for (dst, src) in copies {
        let p = d.path().join(dst);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::copy(format_file(src), &p).unwrap_or_else(|e| panic!("copy {src}: {e}"));
    }
    for (dst, text) in texts {
        let p = d.path().join(dst);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    d
}

fn inventory(dir: &Path, extra: &[&str]) -> Value {
    let target = format!("dir:{}", dir.display());
    let mut args = vec!["inventory", target.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let o = moat(&args);
    assert!(o.status.success(), "moat {args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

fn packages(v: &Value) -> &Vec<Value> {
    v["packages"].as_array().expect("packages")
}

/// The package with this purl.
fn by_purl<'a>(v: &'a Value, purl: &str) -> &'a Value {
    packages(v)
        .iter()
        .find(|p| p["purl"] == purl)
        .unwrap_or_else(|| {
            let all: Vec<&str> = packages(v)
                .iter()
                .filter_map(|p| p["purl"].as_str())
                .collect();
            panic!("no {purl} among {all:?}")
        })
}

/// `type name version` of every package, sorted, with ` dev` / ` app`.
fn summary(v: &Value) -> Vec<String> {
    let mut s: Vec<String> = packages(v)
        .iter()
        .map(|p| {
            let mut line = format!(
                "{} {} {}",
                p["type"].as_str().unwrap_or(""),
                p["name"].as_str().unwrap_or(""),
                p["version"].as_str().unwrap_or("")
            );
            if p["dev"] == true {
                line.push_str(" dev");
            }
            if p["application"] == true {
                line.push_str(" app");
            }
            line
        })
        .collect();
    s.sort();
    s
}

#[test]
fn bun_project() {
    let d = tree(
        &[("srv/orders/bun.lock", "bun.lock")],
        &[(
            "srv/orders/package.json",
            r#"{"name": "orders-api", "dependencies": {"express": "^4.21.2", "zod": "^3.24.1"}, "devDependencies": {"@types/bun": "latest", "@types/express": "^5.0.0"}}"#,
        )],
    );
    let v = inventory(d.path(), &[]);
    assert_eq!(packages(&v).len(), 33);
    let e = by_purl(&v, "pkg:npm/express@4.21.2");
    assert_eq!(e["ecosystem"], "npm");
    assert_eq!(e["locations"][0]["path"], "/srv/orders/bun.lock");
    assert_eq!(by_purl(&v, "pkg:npm/%40types/node@22.10.2")["dev"], true);
    assert_eq!(by_purl(&v, "pkg:npm/orders-api")["application"], true);
    let v = inventory(d.path(), &["--skip-dev-deps"]);
    assert_eq!(packages(&v).len(), 16);
    assert!(packages(&v).iter().all(|p| p["dev"] != true));
}

#[test]
fn cocoapods_project() {
    let d = tree(&[("ios/Shop/Podfile.lock", "Podfile.lock")], &[]);
    let v = inventory(d.path(), &[]);
    assert_eq!(packages(&v).len(), 12);
    let p = by_purl(&v, "pkg:cocoapods/GoogleUtilities@7.12.0");
    assert_eq!(p["type"], "cocoapods");
    assert_eq!(p["ecosystem"], "CocoaPods");
    assert!(
        p["metadata"]["subspecs"]
            .as_str()
            .unwrap()
            .contains("NSData+zlib")
    );
    // dependency edges between pods
    let fa = by_purl(&v, "pkg:cocoapods/FirebaseAnalytics@10.19.0");
    let edges: Vec<&str> = v["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["from"] == fa["id"])
        .filter_map(|r| r["to"].as_str())
        .collect();
    assert_eq!(edges.len(), 5, "{edges:?}");
}

#[test]
fn swiftpm_project() {
    let d = tree(
        &[
            ("server/Package.resolved", "Package.resolved.v3"),
            (
                "ios/App.xcodeproj/project.xcworkspace/xcshareddata/swiftpm/Package.resolved",
                "Package.resolved.v2",
            ),
            ("tools/cli/Package.resolved", "Package.resolved.v1"),
        ],
        &[],
    );
    let v = inventory(d.path(), &[]);
    assert_eq!(
        summary(&v),
        [
            "swift github.com/Alamofire/Alamofire 5.9.1",
            "swift github.com/apple/swift-argument-parser 1.2.0",
            "swift github.com/apple/swift-atomics 1.2.0",
            "swift github.com/apple/swift-collections 1.1.0",
            "swift github.com/apple/swift-log 1.4.4",
            "swift github.com/apple/swift-nio 2.64.0",
            "swift github.com/vapor/vapor 4.92.4",
        ]
    );
    let nio = by_purl(&v, "pkg:swift/github.com/apple/swift-nio@2.64.0");
    assert_eq!(nio["ecosystem"], "SwiftURL");
    // the pins without a version are reported, each file once
    let unsupported = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "unsupported")
        .count();
    assert_eq!(unsupported, 2);
}

#[test]
fn pylock_project() {
    let d = tree(&[("srv/billing/pylock.toml", "pylock.toml")], &[]);
    let v = inventory(d.path(), &[]);
    assert_eq!(packages(&v).len(), 11);
    let r = by_purl(&v, "pkg:pypi/requests@2.32.3");
    assert_eq!(r["ecosystem"], "PyPI");
    assert_eq!(by_purl(&v, "pkg:pypi/pytest@8.3.4")["dev"], true);
    assert_eq!(
        by_purl(&v, "pkg:pypi/charset-normalizer@3.4.1")["dev"],
        Value::Null
    );
    let v = inventory(d.path(), &["--skip-dev-deps"]);
    assert_eq!(packages(&v).len(), 7);
}

#[test]
fn sbt_project() {
    let d = tree(&[("svc/build.sbt.lock", "build.sbt.lock")], &[]);
    let v = inventory(d.path(), &[]);
    let a = by_purl(&v, "pkg:maven/com.typesafe.akka/akka-actor_2.13@2.6.20");
    assert_eq!(a["ecosystem"], "Maven");
    assert_eq!(
        by_purl(&v, "pkg:maven/org.scalatest/scalatest_2.13@3.2.17")["dev"],
        true
    );
    let v = inventory(d.path(), &["--skip-dev-deps"]);
    assert_eq!(
        summary(&v),
        [
            "maven com.typesafe.akka:akka-actor_2.13 2.6.20",
            "maven com.typesafe:config 1.4.3",
            "maven org.scala-lang:scala-library 2.13.12",
        ]
    );
}

#[test]
fn nuget_central_and_packages_config_projects() {
    let d = tree(
        &[
            ("src/Directory.Packages.props", "Directory.Packages.props"),
            ("legacy/Web/packages.config", "packages.config"),
        ],
        &[],
    );
    let v = inventory(d.path(), &[]);
    // Newtonsoft.Json is in both, at different versions
    assert_eq!(packages(&v).len(), 22);
    let j = by_purl(&v, "pkg:nuget/Newtonsoft.Json@13.0.3");
    assert_eq!(j["ecosystem"], "NuGet");
    assert_eq!(j["locations"][0]["path"], "/src/Directory.Packages.props");
    assert_eq!(by_purl(&v, "pkg:nuget/NUnit@3.12.0")["dev"], true);
    let v = inventory(d.path(), &["--skip-dev-deps"]);
    assert_eq!(packages(&v).len(), 20);
}

#[test]
fn conda_environment_and_installed_packages() {
    let d = tree(
        &[
            (
                "opt/conda/conda-meta/numpy-2.2.1-py312h7e784f5_0.json",
                "conda-meta/numpy-2.2.1-py312h7e784f5_0.json",
            ),
            (
                "opt/conda/conda-meta/openssl-3.4.0-hb9d3cd8_0.json",
                "conda-meta/openssl-3.4.0-hb9d3cd8_0.json",
            ),
            (
                "opt/conda/conda-meta/python-3.12.8-h9e4cc4f_1_cpython.json",
                "conda-meta/python-3.12.8-h9e4cc4f_1_cpython.json",
            ),
            ("work/forecast/environment.yml", "environment.yml"),
        ],
        &[(
            "opt/conda/conda-meta/history",
            "==> 2024-12-23 10:00:00 <==\n",
        )],
    );
    let v = inventory(d.path(), &[]);
    assert_eq!(
        summary(&v),
        [
            "conda numpy 1.26.4",
            "conda numpy 2.2.1",
            "conda openssl 3.0.13",
            "conda openssl 3.4.0",
            "conda pandas 2.1.4",
            "conda pip 23.3.1",
            "conda python 3.11.6",
            "conda python 3.12.8",
            "conda scikit-learn 1.3.2",
            "pypi prophet 1.1.5",
            "pypi requests 2.31.0",
        ]
    );
    let n = by_purl(
        &v,
        "pkg:conda/numpy@2.2.1?build=py312h7e784f5_0&channel=conda-forge&subdir=linux-64",
    );
    assert_eq!(n["ecosystem"], "Conda");
    assert_eq!(n["file_count"], 7);
    assert_eq!(n["licenses"][0], "BSD-3-Clause");
    assert_eq!(
        n["locations"][0]["path"],
        "/opt/conda/conda-meta/numpy-2.2.1-py312h7e784f5_0.json"
    );
    // numpy depends on python: an edge inside the conda packages
    let py = by_purl(
        &v,
        "pkg:conda/python@3.12.8?build=h9e4cc4f_1_cpython&channel=main&subdir=linux-64",
    );
    assert!(
        v["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["from"] == n["id"] && r["to"] == py["id"])
    );
}

#[test]
fn julia_project() {
    let d = tree(&[("jl/Forecast/Manifest.toml", "Manifest.toml")], &[]);
    let v = inventory(d.path(), &[]);
    assert_eq!(packages(&v).len(), 7);
    let h = by_purl(
        &v,
        "pkg:julia/HTTP@1.10.8?uuid=cd3eb016-35fb-5094-929b-558a96fad6f3",
    );
    assert_eq!(h["ecosystem"], "Julia");
    assert_eq!(h["type"], "julia");
}

const CARGO_LOCK: &str = r#"version = 4

[[package]]
name = "cc"
version = "1.2.5"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "c31a0499c1dc64f458ad13872de75c0eb7e3fdb0e67964610c914b034fc5956e"

[[package]]
name = "ring-app"
version = "0.2.0"
dependencies = [
 "cc",
 "serde",
 "tempfile",
]

[[package]]
name = "serde"
version = "1.0.216"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0b9781016e935a97e8beecf0c933758c97a5520d32930e460142b4cd80c6338e"

[[package]]
name = "tempfile"
version = "3.14.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "28cce251fcbc87fac86a866eeb0d6c2d536fc16d06f184bb61aeae11aa4cee0c"
"#;

const CARGO_TOML: &str = r#"[package]
name = "ring-app"
version = "0.2.0"
edition = "2021"

[dependencies]
serde = "1"

[dev-dependencies]
tempfile = "3"

[build-dependencies]
cc = "1"
"#;

#[test]
fn cargo_manifest_marks_dev_and_build_dependencies() {
    let d = tree(
        &[],
        &[
            ("app/Cargo.lock", CARGO_LOCK),
            ("app/Cargo.toml", CARGO_TOML),
        ],
    );
    let v = inventory(d.path(), &[]);
    assert_eq!(by_purl(&v, "pkg:cargo/tempfile@3.14.0")["dev"], true);
    let cc = by_purl(&v, "pkg:cargo/cc@1.2.5");
    assert_eq!(cc["dev"], Value::Null);
    assert_eq!(cc["metadata"]["build"], "true");
    let v = inventory(d.path(), &["--skip-dev-deps"]);
    assert_eq!(
        summary(&v),
        [
            "cargo cc 1.2.5",
            "cargo ring-app 0.2.0 app",
            "cargo serde 1.0.216"
        ]
    );
}

#[test]
fn sboms_with_the_new_purl_types_are_valid() {
    let Some(peers) = needed(
        PathBuf::from(std::env::var("MOAT_PEERS").unwrap_or_else(|_| "/var/tmp/moat-peers".into()))
            .join("bin"),
        "peer tools",
    ) else {
        return;
    };
    let d = tree(
        &[
            ("ios/Podfile.lock", "Podfile.lock"),
            ("server/Package.resolved", "Package.resolved.v3"),
            (
                "opt/conda/conda-meta/numpy-2.2.1-py312h7e784f5_0.json",
                "conda-meta/numpy-2.2.1-py312h7e784f5_0.json",
            ),
            ("jl/Manifest.toml", "Manifest.toml"),
        ],
        &[],
    );
    let out = tempfile::tempdir().expect("tempdir");
    let target = format!("dir:{}", d.path().display());
    for (fmt, validator) in [
        ("cyclonedx", "validate-cyclonedx"),
        ("spdx-json", "validate-spdx"),
    ] {
        let f = out.path().join(format!("bom.{fmt}.json"));
        let o = moat([
            "sbom",
            target.as_str(),
            "--format",
            fmt,
            "-o",
            f.to_str().expect("utf-8"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&f).expect("sbom");
        assert!(
            text.contains("pkg:swift/github.com/apple/swift-nio@2.64.0"),
            "{fmt}"
        );
        let st = std::process::Command::new(peers.join(validator))
            .arg(&f)
            .status()
            .expect("validator");
        assert!(st.success(), "{fmt} invalid");
    }
}

const SHOP_YARN_LOCK: &str = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


ansi-styles@^4.1.0:
  version "4.3.0"
  resolved "https://registry.yarnpkg.com/ansi-styles/-/ansi-styles-4.3.0.tgz#edd803628ae71c04c85ae7a0906edad34b648937"
  integrity sha512-zbB9rCJAT1rbjiVDb2hqKFHNYLxgtk8NURxZ3IZwD3F6NtxbXZQCnnSi1Lkx+IDohdPlFp222wVALIheZJQSEg==

chalk@^4.1.2:
  version "4.1.2"
  resolved "https://registry.yarnpkg.com/chalk/-/chalk-4.1.2.tgz#aac4e2b7734a740867aeb16bf02aad556a1e7a01"
  integrity sha512-oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA==
  dependencies:
    ansi-styles "^4.1.0"

cookie@0.6.0:
  version "0.6.0"
  resolved "https://registry.yarnpkg.com/cookie/-/cookie-0.6.0.tgz#2798b04b071b0ecbff0dbb62a505a8efa4e19051"
  integrity sha512-U71cyTamuh1CRNCfpGY6jf8cKUlMVaijm/8TyrlFMVfc48DKr6hKg3hJYaXOK0Fd8gCOhAG6S4g7zbP4u6BmFw==

express@^4.19.2:
  version "4.19.2"
  resolved "https://registry.yarnpkg.com/express/-/express-4.19.2.tgz#e25437827a3aa7f2a827bc8171bbbb664a356465"
  integrity sha512-5T6nhjsT+EOMzuck8JjBHARTHfMht0POzlA60WV2pMD3gyXw2LZnZ+ueGdNxG+0calOJcWKbpFcuzLZ91YWq9Q==
  dependencies:
    cookie "0.6.0"

jest-cli@^29.7.0:
  version "29.7.0"
  resolved "https://registry.yarnpkg.com/jest-cli/-/jest-cli-29.7.0.tgz#5592c940798e0cae677eec169264f2d839a37995"
  integrity sha512-OVVobw2IubN/GSYsxETi+gOe7Ka59EFMR/twOU3Jb2GnKKeMGJB5SGUUrEz3SFVmJASUdZUzy83sLNNQ2gZslg==
  dependencies:
    chalk "^4.1.2"

jest@^29.7.0:
  version "29.7.0"
  resolved "https://registry.yarnpkg.com/jest/-/jest-29.7.0.tgz#994676fc24177f088f1c5e3737f5697204ff2613"
  integrity sha512-NIy3oAFp9shda19hy4HK0HRTWKtPJmGdnvywu01nOqNC2vZg+Z+fvJDxpMQA88eb2I9EcafcdjYgsDthnYTvGw==
  dependencies:
    jest-cli "^29.7.0"
"#;

const SHOP_PACKAGE_JSON: &str = r#"{
  "name": "shop-web",
  "version": "2.4.1",
  "private": true,
  "scripts": { "start": "node server.js", "test": "jest" },
  "dependencies": { "express": "^4.19.2" },
  "devDependencies": { "jest": "^29.7.0" }
}
"#;

const BILLING_COMPOSER_JSON: &str = r#"{
    "name": "acme/billing",
    "type": "project",
    "require": { "php": ">=8.2", "monolog/monolog": "^3.5" },
    "require-dev": { "phpunit/phpunit": "^10.5" },
    "config": { "vendor-dir": "lib/vendor", "sort-packages": true }
}
"#;

/// Composer 1's `installed.json`: it does not say which packages are for development.
const BILLING_INSTALLED_JSON: &str = r#"[
    {
        "name": "monolog/monolog", "version": "3.5.0", "version_normalized": "3.5.0.0",
        "require": { "php": ">=8.1", "psr/log": "^2.0 || ^3.0" },
        "type": "library", "license": ["MIT"]
    },
    {
        "name": "psr/log", "version": "3.0.0", "version_normalized": "3.0.0.0",
        "require": { "php": ">=8.0.0" }, "type": "library", "license": ["MIT"]
    },
    {
        "name": "phpunit/phpunit", "version": "10.5.20", "version_normalized": "10.5.20.0",
        "require": { "php": ">=8.1", "sebastian/diff": "^5.0" },
        "type": "library", "license": ["BSD-3-Clause"]
    },
    {
        "name": "sebastian/diff", "version": "5.1.1", "version_normalized": "5.1.1.0",
        "require": { "php": ">=8.1" }, "type": "library", "license": ["BSD-3-Clause"]
    }
]
"#;

const ORDERS_POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>orders-web</artifactId>
  <version>3.1.0</version>
  <packaging>war</packaging>
  <dependencies>
    <dependency>
      <groupId>org.postgresql</groupId>
      <artifactId>postgresql</artifactId>
      <version>42.7.3</version>
      <scope>runtime</scope>
    </dependency>
    <dependency>
      <groupId>jakarta.servlet</groupId>
      <artifactId>jakarta.servlet-api</artifactId>
      <version>6.0.0</version>
      <scope>provided</scope>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.10.2</version>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>io.micrometer</groupId>
      <artifactId>micrometer-registry-prometheus</artifactId>
      <version>1.13.0</version>
      <optional>true</optional>
    </dependency>
  </dependencies>
</project>
"#;

const GATEWAY_GO_MOD: &str = "module example.com/gateway\n\ngo 1.22\n\nrequire (\n\tgithub.com/gorilla/mux v1.8.1\n\tgolang.org/x/net v0.25.0 // indirect\n)\n";
const GATEWAY_GO_SUM: &str = "github.com/gorilla/mux v1.8.1 h1:TuBL49tXwgrFYWhqrNgrUNEY92u81SPhu7sTdzQEiWY=\ngithub.com/gorilla/mux v1.8.1/go.mod h1:AKf9I4AEqPTmMytcMc0KkNouC66V3BtZ4qD5fmWSiMQ=\ngolang.org/x/net v0.25.0 h1:d/OCCoBEUq33pjydKrGQhw7IlUPI2Oylr+8qLx49kac=\ngolang.org/x/net v0.25.0/go.mod h1:JkAGAh7GEvH74S6FOH42FLoXpXbE/aqXSrIQjXgsiwM=\ngolang.org/x/text v0.15.0 h1:h1V/4gjBv8v9cjcR6+AR5+/cIYK5N/WAgiv4xlsEtAk=\ngolang.org/x/text v0.15.0/go.mod h1:18ZOQIKpY8NJVqYksKHtTdi31H5itFRjB5/qKTNYzSU=\n";

#[test]
fn manifests_mark_dev_dependencies_and_the_yarn_project() {
    let d = tree(
        &[],
        &[
            ("srv/shop/yarn.lock", SHOP_YARN_LOCK),
            ("srv/shop/package.json", SHOP_PACKAGE_JSON),
            ("srv/billing/composer.json", BILLING_COMPOSER_JSON),
            (
                "srv/billing/lib/vendor/composer/installed.json",
                BILLING_INSTALLED_JSON,
            ),
            ("srv/orders/pom.xml", ORDERS_POM),
            ("srv/gateway/go.mod", GATEWAY_GO_MOD),
            ("srv/gateway/go.sum", GATEWAY_GO_SUM),
        ],
    );
    let v = inventory(d.path(), &[]);
    assert_eq!(
        summary(&v),
        [
            "composer monolog/monolog 3.5.0",
            "composer phpunit/phpunit 10.5.20 dev",
            "composer psr/log 3.0.0",
            "composer sebastian/diff 5.1.1 dev",
            "golang example.com/gateway  app",
            "golang github.com/gorilla/mux v1.8.1",
            "golang golang.org/x/net v0.25.0",
            "maven com.acme:orders-web 3.1.0 app",
            "maven io.micrometer:micrometer-registry-prometheus 1.13.0",
            "maven jakarta.servlet:jakarta.servlet-api 6.0.0 dev",
            "maven org.junit.jupiter:junit-jupiter 5.10.2 dev",
            "maven org.postgresql:postgresql 42.7.3",
            "npm ansi-styles 4.3.0 dev",
            "npm chalk 4.1.2 dev",
            "npm cookie 0.6.0",
            "npm express 4.19.2",
            "npm jest 29.7.0 dev",
            "npm jest-cli 29.7.0 dev",
            "npm shop-web 2.4.1 app",
        ]
    );
    let root = by_purl(&v, "pkg:npm/shop-web@2.4.1");
    assert_eq!(root["locations"][0]["path"], "/srv/shop/package.json");
    assert_eq!(
        by_purl(&v, "pkg:composer/psr/log@3.0.0")["locations"][0]["path"],
        "/srv/billing/lib/vendor/composer/installed.json"
    );
    let micrometer = by_purl(
        &v,
        "pkg:maven/io.micrometer/micrometer-registry-prometheus@1.13.0",
    );
    assert_eq!(micrometer["metadata"]["optional"], "true");
    assert_eq!(
        by_purl(&v, "pkg:golang/golang.org/x/net@v0.25.0")["metadata"]["indirect"],
        "true"
    );
    let v = inventory(d.path(), &["--skip-dev-deps"]);
    assert_eq!(
        summary(&v),
        [
            "composer monolog/monolog 3.5.0",
            "composer psr/log 3.0.0",
            "golang example.com/gateway  app",
            "golang github.com/gorilla/mux v1.8.1",
            "golang golang.org/x/net v0.25.0",
            "maven com.acme:orders-web 3.1.0 app",
            "maven io.micrometer:micrometer-registry-prometheus 1.13.0",
            "maven org.postgresql:postgresql 42.7.3",
            "npm cookie 0.6.0",
            "npm express 4.19.2",
            "npm shop-web 2.4.1 app",
        ]
    );
}
