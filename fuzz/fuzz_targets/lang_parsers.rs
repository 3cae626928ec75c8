//! Every language parser (lockfiles, metadata, archives, project manifests) and the binary
//! reader over the same input, as if it were each kind of file.
#![no_main]
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "a/Cargo.lock",
    "a/go.mod",
    "a/go.sum",
    "a/package-lock.json",
    "a/yarn.lock",
    "a/pnpm-lock.yaml",
    "a/node_modules/x/package.json",
    "a/x-1.0.dist-info/METADATA",
    "a/x-1.0.dist-info/RECORD",
    "a/requirements.txt",
    "a/poetry.lock",
    "a/Pipfile.lock",
    "a/uv.lock",
    "a/x.jar",
    "a/gradle.lockfile",
    "a/pom.xml",
    "a/Gemfile.lock",
    "a/specifications/x.gemspec",
    "a/composer.lock",
    "a/vendor/composer/installed.json",
    "a/x.deps.json",
    "a/packages.lock.json",
    "a/conan.lock",
    "a/mix.lock",
    "a/pubspec.lock",
    "a/bun.lock",
    "a/Podfile.lock",
    "a/Package.resolved",
    "a/pylock.toml",
    "a/build.sbt.lock",
    "a/Directory.Packages.props",
    "a/packages.config",
    "a/conda-meta/x-1.0-0.json",
    "a/environment.yml",
    "a/Manifest.toml",
];

const MANIFESTS: &[&str] = &["a/Cargo.toml", "a/package.json", "a/composer.json"];

fuzz_target!(|data: &[u8]| {
    for p in PATHS {
        if let Some(kind) = moat_lang::wants(p) {
            let _ = moat_lang::parse(kind, p, data);
        }
    }
    for p in MANIFESTS {
        if let Some(kind) = moat_lang::project::wants_manifest(p) {
            let _ = moat_lang::project::parse_manifest(kind, p, data);
        }
    }
    let _ = moat_lang::binary::parse("a/bin", data);
});
