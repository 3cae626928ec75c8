//! npm parsers against every fixture lockfile, osv-scanner's recorded counts, and the
//! lang-app image.
//!
//! Expectations live in `tests/data/npm/*.expected`, written by `tests/data/npm/gen.py` (an
//! independent Python reading of the formats; the command is in each file's header). The
//! fixtures themselves are read in place from `$MOAT_FIXTURES`, else `../shared/data` beside the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use moat_lang::{LangPackage, LangParsed, npm};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/npm")
}

/// The fixture root, or `None` (test skipped) when it is absent outside CI.
fn fixture_root() -> Option<PathBuf> {
    let root = PathBuf::from(std::env::var("MOAT_FIXTURES").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
    }));
    if root.is_dir() {
        return Some(root);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "fixture root {} missing",
        root.display()
    );
    println!("skipped: no fixture root {}", root.display());
    None
}

fn parser(kind: &str) -> fn(&str, &[u8]) -> LangParsed {
    match kind {
        "package-lock" => npm::parse_package_lock,
        "yarn" => npm::parse_yarn_lock,
        "pnpm" => npm::parse_pnpm_lock,
        "package-json" => npm::parse_installed_package_json,
        other => panic!("unknown parser {other}"),
    }
}

fn row(p: &LangPackage) -> String {
    let flag = if p.application {
        "app"
    } else if p.dev {
        "dev"
    } else {
        "-"
    };
    format!("{}\t{}\t{}", p.name, p.version, flag)
}

struct Expected {
    file: String,
    source: String,
    kind: String,
    invalid: bool,
    rows: Vec<String>,
}

fn expectations() -> Vec<Expected> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".expected"))
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(data_dir().join(&name)).unwrap();
        let mut e = Expected {
            file: name.clone(),
            source: String::new(),
            kind: String::new(),
            invalid: false,
            rows: Vec::new(),
        };
        for line in text.lines() {
            if let Some(s) = line.strip_prefix("# source: ") {
                e.source = s.to_string();
            } else if let Some(s) = line.strip_prefix("# parser: ") {
                e.kind = s.to_string();
            } else if line == "# invalid" {
                e.invalid = true;
            } else if !line.starts_with('#') && !line.is_empty() {
                e.rows.push(line.to_string());
            }
        }
        assert!(
            !e.source.is_empty() && !e.kind.is_empty(),
            "{name}: bad header"
        );
        out.push(e);
    }
    out
}

#[test]
fn every_fixture_matches_its_expectation() {
    let Some(root) = fixture_root() else { return };
    let exps = expectations();
    assert!(exps.len() >= 200, "only {} expectation files", exps.len());
    let mut failures = Vec::new();
    for e in &exps {
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let parsed = parser(&e.kind)(&e.source, &bytes);
        let mut got: Vec<String> = parsed.packages.iter().map(row).collect();
        got.sort();
        if e.kind != "package-lock" {
            got.dedup();
        }
        if got != e.rows {
            failures.push(format!(
                "{} ({}):\n  expected {:?}\n  got      {:?}\n  warnings {:?}",
                e.file, e.source, e.rows, got, parsed.warnings
            ));
        }
        if e.invalid {
            assert!(
                !parsed.warnings.is_empty() && parsed.packages.is_empty(),
                "{}: invalid input must give a warning and no packages",
                e.source
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn truncated_fixtures_never_panic() {
    let Some(root) = fixture_root() else { return };
    for e in expectations() {
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let f = parser(&e.kind);
        let step = (bytes.len() / 61).max(1);
        let mut cut = 0;
        while cut < bytes.len() {
            let _ = f(&e.source, &bytes[..cut]);
            cut += step;
        }
        for cut in 0..bytes.len().min(200) {
            let _ = f(&e.source, &bytes[..cut]);
        }
    }
}

#[test]
fn hostile_yaml_is_bounded() {
    // An alias bomb: nine levels of nine-fold aliases.
    let mut y = String::from("lockfileVersion: '9.0'\na: &a [x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("l{}", i - 1)
        };
        y.push_str(&format!(
            "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    y.push_str("packages:\n  x@1.0.0: {}\n");
    let r = npm::parse_pnpm_lock("pnpm-lock.yaml", y.as_bytes());
    assert!(r.packages.is_empty() && !r.warnings.is_empty(), "{r:?}");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = npm::parse_yarn_lock(
        "yarn.lock",
        format!("__metadata:\n  x: {deep}\n").as_bytes(),
    );
    assert!(!r.warnings.is_empty());
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = npm::parse_package_lock("package-lock.json", deep_json.as_bytes());
    assert!(!r.warnings.is_empty());
}

#[test]
fn package_lock_details() {
    let Some(root) = fixture_root() else { return };
    let read = |p: &str| std::fs::read(root.join(p)).unwrap();
    // v2 alias: real name, alias in metadata
    let r = npm::parse_package_lock(
        "x",
        &read("fixtures/npm/osv-scalibr-packagelockjson/alias.v2.json"),
    );
    assert!(
        r.packages
            .iter()
            .any(|p| p.metadata.contains_key("alias") && p.name != p.metadata["alias"]),
        "{r:?}"
    );
    // v1 alias
    let r = npm::parse_package_lock(
        "x",
        &read("fixtures/npm/osv-scalibr-packagelockjson/alias.v1.json"),
    );
    assert!(r.packages.iter().any(|p| p.metadata.contains_key("alias")));
    assert!(r.packages.iter().all(|p| !p.version.starts_with("npm:")));
    // optional flag
    let r = npm::parse_package_lock(
        "x",
        &read("fixtures/npm/osv-scalibr-packagelockjson/optional-package.v2.json"),
    );
    assert!(
        r.packages
            .iter()
            .any(|p| p.metadata.get("optional").map(String::as_str) == Some("true"))
    );
}

// ---------------------------------------------------------------------------------------
// osv-scanner's recorded results
// ---------------------------------------------------------------------------------------

/// `source -> count` from osv-scanner's snapshots ("Scanned <rootdir>/X file and found N package").
fn osv_counts(root: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for sub in ["source", "image"] {
        let snap = root.join(format!(
            "oracles/osv-scanner/scan/{sub}/__snapshots__/command_test.snap"
        ));
        let Ok(text) = std::fs::read_to_string(&snap) else {
            continue;
        };
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("Scanned <rootdir>/") else {
                continue;
            };
            let Some((file, tail)) = rest.split_once(" file and found ") else {
                continue;
            };
            let Some(n) = tail.split(' ').next().and_then(|n| n.parse().ok()) else {
                continue;
            };
            out.insert(format!("oracles/osv-scanner/scan/{sub}/{file}"), n);
        }
    }
    out
}

/// `(source, name, version)` rows of osv-scanner's vulnerability tables.
fn osv_flagged(root: &Path) -> std::collections::BTreeSet<(String, String, String)> {
    let mut out = std::collections::BTreeSet::new();
    let snap = root.join("oracles/osv-scanner/scan/source/__snapshots__/command_test.snap");
    let text = std::fs::read_to_string(snap).unwrap_or_default();
    for line in text.lines().filter(|l| l.starts_with("| https://osv.dev/")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() == 9 && cols[7].starts_with("testdata/") {
            out.insert((
                format!("oracles/osv-scanner/scan/source/{}", cols[7]),
                cols[4].to_string(),
                cols[5].to_string(),
            ));
        }
    }
    out
}

#[test]
fn osv_scanner_counts_or_listed_differences() {
    let Some(root) = fixture_root() else { return };
    let counts = osv_counts(&root);
    let listed: BTreeMap<String, (usize, usize)> =
        std::fs::read_to_string(data_dir().join("osv-scanner-differences.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                assert!(f.len() >= 4, "bad line {l:?}");
                let n = |s: &str, p: &str| s.strip_prefix(p).unwrap().parse::<usize>().unwrap();
                (f[0].to_string(), (n(f[1], "osv="), n(f[2], "moat=")))
            })
            .collect();
    let mut compared = 0;
    let mut problems = Vec::new();
    for e in expectations() {
        let Some(&osv) = counts.get(&e.source) else {
            continue;
        };
        compared += 1;
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let parsed = parser(&e.kind)(&e.source, &bytes);
        let ours = parsed.packages.iter().filter(|p| !p.application).count();
        match listed.get(&e.source) {
            Some(&(o, m)) if o == osv && m == ours => {}
            Some(&(o, m)) => problems.push(format!(
                "{}: listed osv={o} moat={m}, now osv={osv} moat={ours}",
                e.source
            )),
            None if osv != ours => problems.push(format!(
                "{}: osv-scanner {osv}, moat {ours}, not listed",
                e.source
            )),
            None => {}
        }
    }
    for src in listed.keys() {
        if !counts.contains_key(src) {
            problems.push(format!("{src}: listed but osv-scanner recorded nothing"));
        }
    }
    // every (name, version) osv-scanner flagged in a parsed source is one we report
    for (src, name, version) in osv_flagged(&root) {
        let Some(e) = expectations().into_iter().find(|e| e.source == src) else {
            continue;
        };
        let bytes = std::fs::read(root.join(&e.source)).unwrap();
        let parsed = parser(&e.kind)(&e.source, &bytes);
        if !parsed
            .packages
            .iter()
            .any(|p| p.name == name && p.version == version)
        {
            problems.push(format!(
                "{src}: osv-scanner flags {name} {version}, moat lacks it"
            ));
        }
    }
    assert!(compared >= 5, "compared only {compared}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// lang-app image
// ---------------------------------------------------------------------------------------

fn images_tar() -> Option<PathBuf> {
    let dir = std::env::var("MOAT_IMAGES").unwrap_or_else(|_| "/var/tmp/moat-images".into());
    let tar = Path::new(&dir).join("out/lang-app.docker.tar");
    if tar.is_file() {
        return Some(tar);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} missing",
        tar.display()
    );
    println!("skipped: {} missing", tar.display());
    None
}

/// Extracts the docker-save archive and its layer tars into `dir`, in layer order.
fn unpack_image(tar: &Path, dir: &Path) {
    let outer = dir.join("outer");
    std::fs::create_dir_all(&outer).unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(&outer)
        .arg("manifest.json")
        .status()
        .unwrap();
    assert!(st.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outer.join("manifest.json")).unwrap()).unwrap();
    let layers: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(&outer)
        .args(&layers)
        .status()
        .unwrap();
    assert!(st.success());
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    for l in &layers {
        // only the npm payload is needed
        let st = Command::new("tar")
            .arg("-xf")
            .arg(outer.join(l))
            .arg("-C")
            .arg(&rootfs)
            .arg("--wildcards")
            .arg("--no-same-owner")
            .arg("app/node/*")
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        let _ = st; // layers without app/node make tar exit non-zero
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            walk(&p, out);
        } else if ft.is_file() && p.file_name().is_some_and(|n| n == "package.json") {
            out.push(p);
        }
    }
}

#[test]
fn lang_app_lockfile_and_node_modules() {
    let Some(tar) = images_tar() else { return };
    let tmp = tempfile::tempdir().unwrap();
    unpack_image(&tar, tmp.path());
    let node = tmp.path().join("rootfs/app/node");
    let lock = std::fs::read(node.join("package-lock.json")).unwrap();
    let parsed = npm::parse_package_lock("app/node/package-lock.json", &lock);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let roots: Vec<_> = parsed.packages.iter().filter(|p| p.application).collect();
    assert_eq!(roots.len(), 1);
    let deps: Vec<_> = parsed.packages.iter().filter(|p| !p.application).collect();
    assert_eq!(deps.len(), 68);
    let top_level = deps
        .iter()
        .filter(|p| p.metadata["path"].matches("node_modules/").count() == 1)
        .count();
    assert_eq!(top_level, 66);
    let nested: Vec<_> = deps
        .iter()
        .filter(|p| p.metadata["path"].matches("node_modules/").count() > 1)
        .collect();
    assert_eq!(nested.len(), 2);
    assert!(nested.iter().all(|p| p.name == "ms"));
    for (n, v) in [
        ("express", "4.17.1"),
        ("lodash", "4.17.20"),
        ("axios", "0.21.1"),
        ("minimist", "1.2.5"),
        ("jsonwebtoken", "8.5.1"),
    ] {
        assert!(
            deps.iter().any(|p| p.name == n
                && p.version == v
                && p.metadata["path"] == format!("node_modules/{n}")),
            "{n} {v}"
        );
        assert!(roots[0].depends.iter().any(|d| d == n), "root depends {n}");
    }
    // installed package.json set == lockfile set (as a multiset of (name, version))
    let mut files = Vec::new();
    walk(&node.join("node_modules"), &mut files);
    let mut installed: Vec<(String, String)> = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(tmp.path().join("rootfs")).unwrap();
        let r =
            npm::parse_installed_package_json(rel.to_str().unwrap(), &std::fs::read(f).unwrap());
        assert!(r.warnings.is_empty(), "{rel:?}: {:?}", r.warnings);
        installed.extend(r.packages.into_iter().map(|p| (p.name, p.version)));
    }
    let mut locked: Vec<(String, String)> = deps
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    installed.sort();
    locked.sort();
    assert_eq!(installed, locked);
}
