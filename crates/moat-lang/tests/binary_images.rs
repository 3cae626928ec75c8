//! `binary::parse` on real binaries: the Go and Rust programs of the lang-app image (taken
//! out of `${MOAT_IMAGES:-/var/tmp/moat-images}/out/lang-app.docker.tar` with `tar`), and
//! programs built here with `go build` and `cargo auditable build`. Oracles: `go version -m`
//! for Go, the lockfiles for Rust. Skips (with a message) when a tool or the images are
//! missing, unless `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use moat_lang::{Ecosystem, LangParsed, binary, cargo, golang};

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn skip(why: &str) {
    assert!(!ci(), "CI=true but {why}");
    eprintln!("skipped: {why}");
}

fn have(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Files of the lang-app image's layers, latest layer first.
struct Image {
    tar: PathBuf,
    layers: Vec<String>,
}

impl Image {
    fn open() -> Option<Image> {
        let dir = std::env::var("MOAT_IMAGES").unwrap_or_else(|_| "/var/tmp/moat-images".into());
        let tar = Path::new(&dir).join("out/lang-app.docker.tar");
        if !tar.is_file() {
            skip(&format!("{} missing", tar.display()));
            return None;
        }
        let out = Command::new("tar")
            .arg("-xOf")
            .arg(&tar)
            .arg("manifest.json")
            .output()
            .expect("tar runs");
        assert!(
            out.status.success(),
            "no manifest.json in {}",
            tar.display()
        );
        let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut layers: Vec<String> = manifest[0]["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect();
        layers.reverse();
        Some(Image { tar, layers })
    }

    /// The bytes of `path` (relative) from the latest layer holding it.
    fn file(&self, path: &str) -> Vec<u8> {
        for layer in &self.layers {
            let out = Command::new("sh")
                .arg("-c")
                .arg(r#"tar -xOf "$1" "$2" | tar -xOf - "$3""#)
                .arg("sh")
                .arg(&self.tar)
                .arg(layer)
                .arg(path)
                .output()
                .expect("sh runs");
            if out.status.success() && !out.stdout.is_empty() {
                return out.stdout;
            }
        }
        panic!("{path} not found in {}", self.tar.display());
    }
}

/// `go version -m <file>` as rows "name\tversion\tkind", with `stdlib` from the toolchain
/// line (release `go1.X.Y` -> `v1.X.Y`, `go1.X` -> `v1.X.0`).
fn go_version_m(file: &Path) -> Vec<String> {
    let out = Command::new("go")
        .arg("version")
        .arg("-m")
        .arg(file)
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("go runs");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success() && !text.is_empty(),
        "go version -m {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let toolchain = first.rsplit(' ').next().unwrap();
    let mut rows: Vec<[String; 3]> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.trim_start_matches('\t').split('\t').collect();
        match f[0] {
            "mod" => rows.push([f[1].into(), f[2].into(), "app".into()]),
            "dep" => rows.push([f[1].into(), f[2].into(), "dep".into()]),
            "=>" if !f[1].starts_with('.') && !f[1].starts_with('/') => {
                let last = rows.last_mut().unwrap();
                last[0] = f[1].into();
                last[1] = f[2].into();
            }
            _ => {}
        }
    }
    let release = toolchain.strip_prefix("go").unwrap();
    let parts: Vec<&str> = release.split('.').collect();
    assert!(parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())));
    let std = if parts.len() == 2 {
        format!("v{release}.0")
    } else {
        format!("v{release}")
    };
    rows.push(["stdlib".into(), std, "dep".into()]);
    rows.into_iter().map(|r| r.join("\t")).collect()
}

fn rows(p: &LangParsed) -> Vec<String> {
    p.packages
        .iter()
        .map(|p| {
            let kind = if p.application { "app" } else { "dep" };
            format!("{}\t{}\t{kind}", p.name, p.version)
        })
        .collect()
}

/// `name = ".."` / `version = ".."` pairs of a Cargo.lock, read line by line.
fn lock_pairs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ")
            && let Some(n) = name.take()
        {
            out.push((n, v.trim_matches('"').to_string()));
        }
    }
    out.sort();
    out
}

fn pairs(p: &LangParsed) -> Vec<(String, String)> {
    let mut v: Vec<_> = p
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    v.sort();
    v
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn lang_app_go_binary() {
    let Some(image) = Image::open() else { return };
    let bytes = image.file("usr/local/bin/benchgoapp");
    let p = binary::parse("usr/local/bin/benchgoapp", &bytes);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::Go));
    let want = [
        "example.com/benchgoapp\t(devel)\tapp",
        "github.com/google/uuid\tv1.3.0\tdep",
        "github.com/gorilla/mux\tv1.8.0\tdep",
        "stdlib\tv1.19.8\tdep",
    ];
    assert_eq!(rows(&p), want);
    assert_eq!(p.packages[0].metadata["go_version"], "go1.19.8");
    assert_eq!(p.packages[0].metadata["build:GOARCH"], "amd64");
    if have("go", &["version"]) {
        let dir = tempdir();
        let file = dir.path().join("benchgoapp");
        std::fs::write(&file, &bytes).unwrap();
        // `go version` ignores files without an execute bit.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(rows(&p), go_version_m(&file));
    } else {
        skip("`go` not installed (oracle comparison)");
    }

    let gomod = image.file("app/go/go.mod");
    let m = golang::parse_mod("app/go/go.mod", &gomod);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(
        rows(&m),
        [
            "example.com/benchgoapp\t\tapp",
            "github.com/google/uuid\tv1.3.0\tdep",
            "github.com/gorilla/mux\tv1.8.0\tdep",
        ]
    );
}

#[test]
fn lang_app_rust_binary_and_lockfile() {
    let Some(image) = Image::open() else { return };
    let lock_bytes = image.file("app/rust/Cargo.lock");
    let lock = cargo::parse_lock("app/rust/Cargo.lock", &lock_bytes);
    assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
    assert_eq!(lock.packages.len(), 12);
    assert_eq!(lock.packages[0].metadata["lockfile_version"], "4");
    assert_eq!(
        pairs(&lock),
        lock_pairs(std::str::from_utf8(&lock_bytes).unwrap())
    );
    let root = lock.packages.iter().find(|p| p.application).unwrap();
    assert_eq!(
        (root.name.as_str(), root.version.as_str()),
        ("benchrust", "0.1.0")
    );

    let bytes = image.file("usr/local/bin/benchrust");
    let p = binary::parse("usr/local/bin/benchrust", &bytes);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.packages.len(), 9);
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::Cargo));
    // The binary holds the lockfile's crates except the Windows-only winapi ones.
    let want: Vec<_> = pairs(&lock)
        .into_iter()
        .filter(|(n, _)| !n.starts_with("winapi"))
        .collect();
    assert_eq!(pairs(&p), want);
    for pin in [
        ("benchrust", "0.1.0"),
        ("regex", "1.5.4"),
        ("smallvec", "1.6.0"),
        ("time", "0.1.43"),
        ("base64", "0.13.0"),
    ] {
        assert!(
            p.packages
                .iter()
                .any(|q| (q.name.as_str(), q.version.as_str()) == pin),
            "{pin:?}"
        );
    }
    let apps: Vec<_> = p.packages.iter().filter(|p| p.application).collect();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].name, "benchrust");
    let mut deps = apps[0].depends.clone();
    deps.sort();
    let mut lock_deps = root.depends.clone();
    lock_deps.sort();
    assert_eq!(deps, lock_deps);
}

fn go_env(cmd: &mut Command, dir: &Path) {
    cmd.current_dir(dir)
        .env("GOPATH", dir.join("gopath"))
        .env("GOCACHE", dir.join("gocache"))
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod");
}

#[test]
fn self_built_go_binaries() {
    if !have("go", &["version"]) {
        return skip("`go` not installed");
    }
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir_all(d.join("lib")).unwrap();
    std::fs::write(
        d.join("go.mod"),
        "module example.com/selfbuilt\n\ngo 1.19\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ./lib\n",
    )
    .unwrap();
    std::fs::write(d.join("lib/go.mod"), "module example.com/lib\n\ngo 1.19\n").unwrap();
    std::fs::write(
        d.join("lib/lib.go"),
        "package lib\n\nfunc Hello() string { return \"hi\" }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n)\n\nfunc main() { fmt.Println(lib.Hello()) }\n",
    )
    .unwrap();
    // Native, and 32-bit stripped (pointer size 4, no symbol table).
    for (out, arch, ldflags) in [("app", None, ""), ("app386", Some("386"), "-s -w")] {
        let mut cmd = Command::new("go");
        cmd.args(["build", "-ldflags", ldflags, "-o", out, "."]);
        go_env(&mut cmd, d);
        if let Some(a) = arch {
            cmd.env("GOARCH", a);
        }
        let status = cmd.status().expect("go runs");
        assert!(status.success(), "go build {out}");
        let file = d.join(out);
        let p = binary::parse(out, &std::fs::read(&file).unwrap());
        assert!(p.warnings.is_empty(), "{out}: {:?}", p.warnings);
        assert_eq!(rows(&p), go_version_m(&file), "{out}");
        let lib = p
            .packages
            .iter()
            .find(|p| p.name == "example.com/lib")
            .unwrap();
        assert_eq!(lib.metadata["replaced_by"], "./lib");
        assert_eq!(lib.metadata["local_replace"], "true");
        assert!(p.packages[0].application);
    }
}

#[test]
fn self_built_cargo_auditable_binary() {
    if !have("cargo", &["auditable", "--version"]) {
        return skip("`cargo auditable` not installed (cargo install cargo-auditable --locked)");
    }
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(
        d.join("Cargo.toml"),
        "[package]\nname = \"selfbuilt\"\nversion = \"0.2.0\"\nedition = \"2021\"\n\n[dependencies]\nhex = \"0.4\"\n\n[build-dependencies]\ncfg-if = \"1\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(d.join("build.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        d.join("src/main.rs"),
        "fn main() { println!(\"{}\", hex::encode(b\"moat\")); }\n",
    )
    .unwrap();
    let status = Command::new("cargo")
        .args(["auditable", "build", "--offline", "--quiet"])
        .current_dir(d)
        .env("CARGO_TARGET_DIR", d.join("target"))
        .env_remove("RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo auditable build failed");
    let bytes = std::fs::read(d.join("target/debug/selfbuilt")).unwrap();
    let p = binary::parse("selfbuilt", &bytes);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let lock = std::fs::read_to_string(d.join("Cargo.lock")).unwrap();
    assert_eq!(pairs(&p), lock_pairs(&lock));
    let root = p.packages.iter().find(|p| p.application).unwrap();
    assert_eq!(
        (root.name.as_str(), root.version.as_str()),
        ("selfbuilt", "0.2.0")
    );
    let mut deps = root.depends.clone();
    deps.sort();
    assert_eq!(deps, ["cfg-if", "hex"]);
    let cfg_if = p.packages.iter().find(|p| p.name == "cfg-if").unwrap();
    assert_eq!(cfg_if.metadata["kind"], "build");
    let hex = p.packages.iter().find(|p| p.name == "hex").unwrap();
    assert!(!hex.metadata.contains_key("kind"));
    assert_eq!(hex.metadata["source"], "crates.io");
}

/// Offsets of the interesting regions of a real binary: Go build info and `.dep-v0`.
fn hot_spots(bytes: &[u8]) -> Vec<usize> {
    let mut spots = vec![0];
    if let Some(off) = bytes.windows(14).position(|w| w == b"\xff Go buildinf:") {
        spots.push(off);
    }
    use object::{Object, ObjectSection};
    if let Ok(f) = object::File::parse(bytes)
        && let Some(s) = f.section_by_name(".dep-v0")
        && let Some((off, _)) = s.file_range()
    {
        spots.push(off as usize);
    }
    spots
}

#[test]
fn truncated_and_bit_flipped_binaries_never_panic() {
    let Some(image) = Image::open() else { return };
    for path in ["usr/local/bin/benchgoapp", "usr/local/bin/benchrust"] {
        let bytes = image.file(path);
        let spots = hot_spots(&bytes);
        assert!(spots.len() >= 2, "{path}: nothing found to damage");
        // Truncations: across the file and right around the inventories.
        let mut cuts: Vec<usize> = (0..bytes.len()).step_by(bytes.len() / 40).collect();
        for &s in &spots {
            cuts.extend((s..(s + 300).min(bytes.len())).step_by(7));
        }
        for cut in cuts {
            let _ = binary::parse(path, &bytes[..cut]);
        }
        // Bit flips near the inventories and in the ELF header.
        let mut seed: u32 = 0xdead_beef;
        let mut b = bytes.clone();
        for round in 0..400 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let base = spots[round % spots.len()];
            let i = (base + (seed as usize >> 8) % 256).min(b.len() - 1);
            let bit = 1u8 << (seed >> 29);
            b[i] ^= bit;
            let _ = binary::parse(path, &b);
            b[i] ^= bit;
        }
    }
}
