//! The newer formats (bun.lock, Podfile.lock, Package.resolved, pylock.toml, build.sbt.lock,
//! Directory.Packages.props, packages.config, conda-meta, environment.yml, Julia
//! Manifest.toml) and the project manifests, each over a realistic file written for this
//! test (`tests/data/formats/`), through [`moat_lang::wants`] and [`moat_lang::parse`] as
//! the scan calls them: exact packages, versions, dev and application marks, metadata.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_lang::project::{self, ManifestFile};
use moat_lang::{Code, Ecosystem, LangFile, LangPackage, LangParsed, wants};
use std::path::Path;

fn data(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/formats")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Parses `file` (from the data directory) as if it were at `path` in an image.
fn parse_at(path: &str, file: &str, kind: LangFile) -> LangParsed {
    assert_eq!(wants(path), Some(kind), "{path}");
    moat_lang::parse(kind, path, &data(file))
}

/// `name version` plus ` app` / ` dev`, sorted.
fn lines(r: &LangParsed) -> Vec<String> {
    let mut v: Vec<String> = r
        .packages
        .iter()
        .map(|p| {
            let mut s = format!("{} {}", p.name, p.version);
            if p.application {
                s.push_str(" app");
            }
            if p.dev {
                s.push_str(" dev");
            }
            s
        })
        .collect();
    v.sort();
    v
}

fn find<'a>(r: &'a LangParsed, name: &str) -> &'a LangPackage {
    r.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", lines(r)))
}

#[test]
fn bun_lock() {
    let r = parse_at("srv/orders/bun.lock", "bun.lock", LangFile::BunLock);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(r.packages.iter().all(|p| p.ecosystem == Ecosystem::Npm));
    assert_eq!(
        lines(&r),
        [
            "@types/body-parser 1.19.5 dev",
            "@types/bun 1.1.14 dev",
            "@types/connect 3.4.38 dev",
            "@types/express 5.0.0 dev",
            "@types/express-serve-static-core 5.0.2 dev",
            "@types/http-errors 2.0.4 dev",
            "@types/mime 1.3.5 dev",
            "@types/node 20.12.14 dev",
            "@types/node 22.10.2 dev",
            "@types/qs 6.9.17 dev",
            "@types/range-parser 1.2.7 dev",
            "@types/send 0.17.4 dev",
            "@types/serve-static 1.15.7 dev",
            "@types/ws 8.5.13 dev",
            "accepts 1.3.8",
            "body-parser 1.20.3",
            "bun-types 1.1.37 dev",
            "cookie 0.7.1",
            "debug 2.6.9",
            "express 4.21.2",
            "mime-db 1.52.0",
            "mime-types 2.1.35",
            "ms 2.0.0",
            "ms 2.1.3",
            "negotiator 0.6.3",
            "orders-api  app",
            "qs 6.13.0",
            "send 0.19.0",
            "side-channel 1.0.6",
            "typescript 5.7.2",
            "undici-types 5.26.5 dev",
            "undici-types 6.20.0 dev",
            "zod 3.24.1",
        ]
    );
    let root = find(&r, "orders-api");
    assert_eq!(root.depends, ["express", "typescript", "zod"]);
    let nested = r.packages.iter().find(|p| p.version == "2.1.3").unwrap();
    assert_eq!(nested.metadata["path"], "send/ms");
    assert_eq!(find(&r, "express").depends.len(), 5);
}

#[test]
fn podfile_lock() {
    let r = parse_at(
        "ios/App/Podfile.lock",
        "Podfile.lock",
        LangFile::PodfileLock,
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(
        r.packages
            .iter()
            .all(|p| p.ecosystem == Ecosystem::CocoaPods)
    );
    assert_eq!(
        lines(&r),
        [
            "Alamofire 5.8.1",
            "FirebaseAnalytics 10.19.0",
            "FirebaseCore 10.19.0",
            "FirebaseCoreInternal 10.19.0",
            "FirebaseInstallations 10.19.0",
            "GoogleAppMeasurement 10.19.0",
            "GoogleUtilities 7.12.0",
            "PromisesObjC 2.3.1",
            "SDWebImage 5.18.7",
            "SnapKit 5.6.0",
            "SwiftLint 0.54.0",
            "nanopb 2.30909.1",
        ]
    );
    let g = find(&r, "GoogleUtilities");
    assert_eq!(
        g.metadata["subspecs"],
        "AppDelegateSwizzler,Environment,Logger,MethodSwizzler,Network,NSData+zlib,Reachability,UserDefaults"
    );
    assert_eq!(g.depends, ["PromisesObjC"]);
    assert_eq!(
        g.metadata["checksum"],
        "0759d1a57ebb953965c2dfe0ba4c82e95ccc2e34"
    );
    assert_eq!(
        find(&r, "FirebaseAnalytics").depends,
        [
            "FirebaseCore",
            "FirebaseInstallations",
            "GoogleAppMeasurement",
            "GoogleUtilities",
            "nanopb"
        ]
    );
    assert_eq!(
        find(&r, "SDWebImage").metadata["source"],
        "git https://github.com/SDWebImage/SDWebImage.git tag 5.18.7"
    );
}

#[test]
fn package_resolved_v1_v2_v3() {
    let r = parse_at(
        "src/Tool/Package.resolved",
        "Package.resolved.v1",
        LangFile::PackageResolved,
    );
    assert_eq!(
        lines(&r),
        [
            "github.com/apple/swift-argument-parser 1.2.0",
            "github.com/apple/swift-log 1.4.4"
        ]
    );
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].code, Code::Unsupported);
    assert!(
        r.warnings[0].message.ends_with(": Yams"),
        "{}",
        r.warnings[0].message
    );
    assert_eq!(r.packages[0].ecosystem, Ecosystem::SwiftURL);
    assert_eq!(
        r.packages[0].metadata["revision"],
        "fddd1c00396eed152c45a46bea9f47b98e59301d"
    );
    assert_eq!(r.packages[0].metadata["lockfile_version"], "1");

    let r = parse_at(
        "App.xcodeproj/project.xcworkspace/xcshareddata/swiftpm/Package.resolved",
        "Package.resolved.v2",
        LangFile::PackageResolved,
    );
    assert_eq!(
        lines(&r),
        [
            "github.com/Alamofire/Alamofire 5.9.1",
            "github.com/apple/swift-collections 1.1.0"
        ]
    );
    assert!(r.warnings[0].message.ends_with(": shared-kit"));

    let r = parse_at(
        "server/Package.resolved",
        "Package.resolved.v3",
        LangFile::PackageResolved,
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(
        lines(&r),
        [
            "github.com/apple/swift-atomics 1.2.0",
            "github.com/apple/swift-nio 2.64.0",
            "github.com/vapor/vapor 4.92.4"
        ]
    );
    assert_eq!(r.packages[0].metadata["lockfile_version"], "3");
}

#[test]
fn pylock_toml() {
    let r = parse_at("srv/billing/pylock.toml", "pylock.toml", LangFile::PyLock);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(r.packages.iter().all(|p| p.ecosystem == Ecosystem::PyPI));
    assert_eq!(
        lines(&r),
        [
            "billing-service  app",
            "certifi 2024.12.14",
            "charset-normalizer 3.4.1",
            "idna 3.10",
            "iniconfig 2.0.0 dev",
            "packaging 24.2 dev",
            "pluggy 1.5.0 dev",
            "pytest 8.3.4 dev",
            "requests 2.32.3",
            "tomli 2.2.1",
            "urllib3 2.3.0",
        ]
    );
    assert_eq!(
        find(&r, "requests").depends,
        ["certifi", "charset-normalizer", "idna", "urllib3"]
    );
    assert_eq!(
        find(&r, "tomli").metadata["marker"],
        "python_full_version < '3.13'"
    );
    assert_eq!(
        find(&r, "idna").metadata["index"],
        "https://pypi.org/simple"
    );
}

#[test]
fn sbt_lock() {
    let r = parse_at("svc/build.sbt.lock", "build.sbt.lock", LangFile::SbtLock);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(
        lines(&r),
        [
            "com.typesafe.akka:akka-actor_2.13 2.6.20",
            "com.typesafe:config 1.4.3",
            "javax.servlet:javax.servlet-api 4.0.1 dev",
            "org.scala-lang.modules:scala-xml_2.13 2.1.0 dev",
            "org.scala-lang:scala-library 2.13.12",
            "org.scalatest:scalatest_2.13 3.2.17 dev",
        ]
    );
    let c = find(&r, "com.typesafe:config");
    assert_eq!(c.ecosystem, Ecosystem::Maven);
    assert_eq!(c.metadata["configurations"], "compile,runtime,test");
    assert_eq!(
        c.metadata["sha1"],
        "b0b0e6f1bbd3b7c3d2e7f1ef1d8c5c4b3a2f1e0d"
    );
}

#[test]
fn nuget_central_and_packages_config() {
    let r = parse_at(
        "src/Directory.Packages.props",
        "Directory.Packages.props",
        LangFile::NugetCentral,
    );
    assert_eq!(
        lines(&r),
        [
            "Microsoft.AspNetCore.Authentication.JwtBearer 8.0.11",
            "Microsoft.EntityFrameworkCore.SqlServer 8.0.11",
            "Microsoft.NET.Test.Sdk 17.12.0",
            "Newtonsoft.Json 13.0.3",
            "Polly 8.5.0",
            "Serilog.AspNetCore 8.0.3",
            "StyleCop.Analyzers 1.2.0-beta.556",
            "System.Memory 4.5.5",
            "System.Text.Json 8.0.5",
            "xunit 2.9.2",
            "xunit.runner.visualstudio 2.9.2",
        ]
    );
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert_eq!(r.warnings[0].code, Code::Unsupported);
    assert!(
        r.warnings[0]
            .message
            .ends_with("AutoMapper [12.0.0,14.0.0), Swashbuckle.AspNetCore 6.*"),
        "{}",
        r.warnings[0].message
    );
    assert_eq!(find(&r, "StyleCop.Analyzers").metadata["global"], "true");
    assert_eq!(
        find(&r, "System.Memory").metadata["condition"],
        "'$(TargetFramework)' == 'net48'"
    );

    let r = parse_at(
        "src/Legacy.Web/packages.config",
        "packages.config",
        LangFile::PackagesConfig,
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.packages.len(), 11);
    assert!(r.packages.iter().all(|p| p.ecosystem == Ecosystem::NuGet));
    let dev: Vec<&str> = r
        .packages
        .iter()
        .filter(|p| p.dev)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        dev,
        [
            "Microsoft.CodeDom.Providers.DotNetCompilerPlatform",
            "NUnit"
        ]
    );
    let j = find(&r, "Newtonsoft.Json");
    assert_eq!(j.version, "12.0.2");
    assert_eq!(j.metadata["target_framework"], "net472");
    assert_eq!(j.metadata["allowed_versions"], "[12,13)");
}

#[test]
fn conda_meta_and_environment() {
    let r = parse_at(
        "opt/conda/conda-meta/numpy-2.2.1-py312h7e784f5_0.json",
        "conda-meta/numpy-2.2.1-py312h7e784f5_0.json",
        LangFile::CondaMeta,
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let n = &r.packages[0];
    assert_eq!(
        (n.ecosystem, n.name.as_str(), n.version.as_str()),
        (Ecosystem::Conda, "numpy", "2.2.1")
    );
    assert_eq!(n.metadata["build"], "py312h7e784f5_0");
    assert_eq!(n.metadata["channel"], "conda-forge");
    assert_eq!(n.metadata["subdir"], "linux-64");
    assert_eq!(n.licenses, ["BSD-3-Clause"]);
    assert_eq!(n.depends.len(), 8);
    assert!(n.depends.contains(&"python".to_string()));
    assert_eq!(n.files.len(), 7);
    assert_eq!(n.files[0], "/opt/conda/bin/f2py");
    let r = parse_at(
        "opt/conda/conda-meta/python-3.12.8-h9e4cc4f_1_cpython.json",
        "conda-meta/python-3.12.8-h9e4cc4f_1_cpython.json",
        LangFile::CondaMeta,
    );
    assert_eq!(r.packages[0].metadata["channel"], "main");

    let r = parse_at(
        "work/forecast/environment.yml",
        "environment.yml",
        LangFile::CondaEnvironment,
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let got: Vec<(Ecosystem, String, String)> = r
        .packages
        .iter()
        .map(|p| (p.ecosystem, p.name.clone(), p.version.clone()))
        .collect();
    let c = |n: &str, v: &str| (Ecosystem::Conda, n.to_string(), v.to_string());
    let py = |n: &str, v: &str| (Ecosystem::PyPI, n.to_string(), v.to_string());
    assert_eq!(
        got,
        [
            c("python", "3.11.6"),
            c("numpy", "1.26.4"),
            c("pandas", "2.1.4"),
            c("scikit-learn", "1.3.2"),
            c("openssl", "3.0.13"),
            c("pip", "23.3.1"),
            py("requests", "2.31.0"),
            py("prophet", "1.1.5"),
        ]
    );
    assert_eq!(r.packages[1].metadata["build"], "py311h64a7726_0");
    assert_eq!(r.packages[3].metadata["channel"], "conda-forge");
    assert_eq!(r.packages[4].metadata["build"], "h4ab18f5_1");
}

#[test]
fn julia_manifests() {
    let r = parse_at("jl/Manifest.toml", "Manifest.toml", LangFile::JuliaManifest);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(r.packages.iter().all(|p| p.ecosystem == Ecosystem::Julia));
    assert_eq!(
        lines(&r),
        [
            "CSV 0.10.14",
            "CodecZlib 0.7.4",
            "ForkedLib 0.4.2",
            "HTTP 1.10.8",
            "JSON3 1.14.0",
            "MbedTLS 1.1.9",
            "Parsers 2.8.1",
        ]
    );
    let csv = find(&r, "CSV");
    assert_eq!(csv.metadata["uuid"], "336ed68f-0bac-5ca0-87d4-7b16caf5d00b");
    assert_eq!(csv.depends.len(), 13);
    assert_eq!(
        find(&r, "ForkedLib").metadata["repo_url"],
        "https://github.com/example-org/ForkedLib.jl.git"
    );
    let r = parse_at(
        "jl/old/Manifest-v1.6.toml",
        "Manifest-v1.toml",
        LangFile::JuliaManifest,
    );
    assert_eq!(lines(&r), ["DataFrames 0.22.7", "Tables 1.4.1"]);
}

#[test]
fn project_manifests() {
    let cargo = br#"
[package]
name = "ingest"
version = "0.4.0"
edition = "2021"
license = "MIT OR Apache-2.0"

[workspace]
members = ["crates/*"]

[dependencies]
serde = { version = "1", features = ["derive"] }
tokio = { workspace = true }
log-facade = { package = "log", version = "0.4" }

[dev-dependencies]
proptest = "1.4"
serde = "1"

[build-dependencies]
cc = "1.0"

[target.'cfg(windows)'.dependencies]
winapi = "0.3"

[target.'cfg(unix)'.dev-dependencies]
nix = "0.27"
"#;
    assert_eq!(
        project::wants_manifest("app/Cargo.toml"),
        Some(ManifestFile::CargoToml)
    );
    let m = project::parse_manifest(ManifestFile::CargoToml, "app/Cargo.toml", cargo)
        .manifest
        .unwrap();
    assert_eq!(m.name.as_deref(), Some("ingest"));
    assert_eq!(m.version.as_deref(), Some("0.4.0"));
    assert_eq!(m.dependencies, ["log", "serde", "tokio", "winapi"]);
    assert_eq!(m.dev_dependencies, ["nix", "proptest"]);
    assert_eq!(m.build_dependencies, ["cc"]);
    assert!(m.workspace);
    assert_eq!(m.licenses, ["MIT OR Apache-2.0"]);

    let pj = br#"{
  "name": "web", "version": "2.3.0", "license": "MIT",
  "workspaces": ["packages/*"],
  "dependencies": { "react": "^18.2.0", "lodash-es": "npm:lodash@^4.17.21" },
  "peerDependencies": { "react-dom": "^18" },
  "devDependencies": { "jest": "^29.7.0", "react": "^18.2.0" }
}"#;
    let m = project::parse_manifest(ManifestFile::PackageJson, "web/package.json", pj)
        .manifest
        .unwrap();
    assert_eq!(m.dependencies, ["lodash", "react", "react-dom"]);
    assert_eq!(m.dev_dependencies, ["jest"]);
    assert!(m.workspace);

    let cj = br#"{
  "name": "acme/shop", "license": "proprietary",
  "require": { "php": ">=8.1", "ext-json": "*", "symfony/http-kernel": "^6.4", "monolog/monolog": "^3.5" },
  "require-dev": { "phpunit/phpunit": "^10.5", "ext-xdebug": "*" },
  "config": { "vendor-dir": "lib/vendor", "sort-packages": true }
}"#;
    let m = project::parse_manifest(ManifestFile::ComposerJson, "srv/composer.json", cj)
        .manifest
        .unwrap();
    assert_eq!(m.dependencies, ["monolog/monolog", "symfony/http-kernel"]);
    assert_eq!(m.dev_dependencies, ["phpunit/phpunit"]);
    assert_eq!(m.vendor_dir.as_deref(), Some("lib/vendor"));

    let bad = project::parse_manifest(ManifestFile::PackageJson, "x/package.json", b"{ oops");
    assert!(bad.manifest.is_none());
    assert_eq!(bad.warnings[0].code, Code::ParseError);
}

#[test]
fn truncated_new_formats_never_panic() {
    for (path, file) in [
        ("a/bun.lock", "bun.lock"),
        ("a/Podfile.lock", "Podfile.lock"),
        ("a/Package.resolved", "Package.resolved.v3"),
        ("a/pylock.toml", "pylock.toml"),
        ("a/build.sbt.lock", "build.sbt.lock"),
        ("a/Directory.Packages.props", "Directory.Packages.props"),
        ("a/packages.config", "packages.config"),
        (
            "a/conda-meta/numpy-2.2.1-py312h7e784f5_0.json",
            "conda-meta/numpy-2.2.1-py312h7e784f5_0.json",
        ),
        ("a/environment.yml", "environment.yml"),
        ("a/Manifest.toml", "Manifest.toml"),
    ] {
        let kind = wants(path).unwrap();
        let bytes = data(file);
        for cut in (0..bytes.len()).step_by(7) {
            let _ = moat_lang::parse(kind, path, &bytes[..cut]);
        }
    }
}

#[test]
fn pom_scopes_that_are_not_runtime() {
    let pom = br#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>orders-web</artifactId>
  <version>3.1.0</version>
  <packaging>war</packaging>
  <properties>
    <jackson.version>2.17.1</jackson.version>
    <lombok.optional>true</lombok.optional>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>jakarta.servlet</groupId>
        <artifactId>jakarta.servlet-api</artifactId>
        <version>6.0.0</version>
        <scope>provided</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
      <version>${jackson.version}</version>
    </dependency>
    <dependency>
      <groupId>org.postgresql</groupId>
      <artifactId>postgresql</artifactId>
      <version>42.7.3</version>
      <scope>runtime</scope>
    </dependency>
    <dependency>
      <groupId>jakarta.servlet</groupId>
      <artifactId>jakarta.servlet-api</artifactId>
    </dependency>
    <dependency>
      <groupId>org.projectlombok</groupId>
      <artifactId>lombok</artifactId>
      <version>1.18.32</version>
      <scope>provided</scope>
      <optional>${lombok.optional}</optional>
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
    let r = parse_at_bytes("svc/pom.xml", pom, LangFile::PomXml);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(
        lines(&r),
        [
            "com.acme:orders-web 3.1.0 app",
            "com.fasterxml.jackson.core:jackson-databind 2.17.1",
            "io.micrometer:micrometer-registry-prometheus 1.13.0",
            "jakarta.servlet:jakarta.servlet-api 6.0.0 dev",
            "org.junit.jupiter:junit-jupiter 5.10.2 dev",
            "org.postgresql:postgresql 42.7.3",
            "org.projectlombok:lombok 1.18.32 dev",
        ]
    );
    assert_eq!(
        find(&r, "jakarta.servlet:jakarta.servlet-api").metadata["scope"],
        "provided"
    );
    assert_eq!(
        find(&r, "org.projectlombok:lombok").metadata["optional"],
        "true"
    );
    assert_eq!(
        find(&r, "io.micrometer:micrometer-registry-prometheus").metadata["optional"],
        "true"
    );
    assert!(
        !find(&r, "org.postgresql:postgresql")
            .metadata
            .contains_key("optional")
    );
}

fn parse_at_bytes(path: &str, bytes: &[u8], kind: LangFile) -> LangParsed {
    assert_eq!(wants(path), Some(kind), "{path}");
    moat_lang::parse(kind, path, bytes)
}
