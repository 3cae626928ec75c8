//! lang-app's inventory equals its ground truth (../shared/images/README.md, layer by layer),
//! with the lockfiles inside the image as the truth for resolved versions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn inventory(target: &str, extra: &[&str]) -> Value {
    let mut args = vec!["inventory", target, "--format", "json", "--quiet"];
    args.extend_from_slice(extra);
    let o = moat(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

fn of_type<'a>(v: &'a Value, ty: &str) -> Vec<&'a Value> {
    v["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["type"] == ty)
        .collect()
}

fn nv(p: &Value) -> (String, String) {
    (
        p["name"].as_str().unwrap_or("").to_string(),
        p["version"].as_str().unwrap_or("").to_string(),
    )
}

fn paths(p: &Value) -> BTreeSet<String> {
    p["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| l["path"].as_str().unwrap_or("").to_string())
        .collect()
}

/// A file of the image's last layer, read with `tar` (an independent reader).
fn layer_file(out: &Path, inner: &str) -> Vec<u8> {
    let archive = out.join("lang-app.docker.tar");
    let manifest = Command::new("tar")
        .arg("-xOf")
        .arg(&archive)
        .arg("manifest.json")
        .output()
        .expect("tar");
    let m: Value = serde_json::from_slice(&manifest.stdout).expect("manifest");
    let last = m[0]["Layers"]
        .as_array()
        .expect("layers")
        .last()
        .and_then(Value::as_str)
        .expect("layer")
        .to_string();
    let sh = format!(
        "tar -xOf '{}' '{last}' | tar -xOf - '{inner}'",
        archive.display()
    );
    let o = Command::new("sh").arg("-c").arg(sh).output().expect("sh");
    assert!(
        o.status.success(),
        "reading {inner}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

#[test]
fn lang_app_inventory_equals_its_ground_truth() {
    let Some(out) = images() else { return };
    let v = inventory(
        &format!(
            "docker-archive:{}",
            out.join("lang-app.docker.tar").display()
        ),
        &[],
    );
    assert!(
        v["diagnostics"].as_array().expect("w").is_empty(),
        "{}",
        v["diagnostics"]
    );

    // Python: 15 pip distributions from layer 2 (index), with RECORD file lists;
    // PyYAML and six belong to their Debian packages.
    let py: BTreeMap<(String, String), &Value> = of_type(&v, "pypi")
        .into_iter()
        .map(|p| (nv(p), p))
        .collect();
    let want_py = [
        ("requests", "2.25.1"),
        ("urllib3", "1.26.4"),
        ("idna", "2.10"),
        ("certifi", "2020.12.5"),
        ("chardet", "4.0.0"),
        ("Jinja2", "2.11.3"),
        ("MarkupSafe", "2.0.1"),
        ("Flask", "1.1.2"),
        ("Werkzeug", "1.0.1"),
        ("itsdangerous", "1.1.0"),
        ("click", "7.1.2"),
        ("Django", "3.2.4"),
        ("sqlparse", "0.4.1"),
        ("asgiref", "3.3.4"),
        ("pytz", "2021.1"),
    ];
    let got_py: BTreeSet<(String, String)> = py.keys().cloned().collect();
    let want: BTreeSet<(String, String)> = want_py
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(got_py, want);
    for p in py.values() {
        assert_eq!(p["layer"], 2, "{p}");
        assert!(
            p["file_count"].as_u64().unwrap_or(0) > 0,
            "RECORD joined: {p}"
        );
        assert!(
            paths(p).contains("/app/python/requirements.txt"),
            "the pin is evidence too: {p}"
        );
    }
    let debs: BTreeMap<String, &Value> = of_type(&v, "deb")
        .into_iter()
        .map(|p| (p["name"].as_str().unwrap_or("").to_string(), p))
        .collect();
    assert_eq!(
        debs["python3-yaml"]["metadata"]["language_packages"],
        "pypi:PyYAML@6.0"
    );
    assert_eq!(
        debs["python3-six"]["metadata"]["language_packages"],
        "pypi:six@1.16.0"
    );

    // npm: every lockfile package, each also installed under node_modules, plus the root app.
    let lock: Value =
        serde_json::from_slice(&layer_file(&out, "app/node/package-lock.json")).expect("lock");
    let lock_pkgs: BTreeSet<(String, String)> = lock["packages"]
        .as_object()
        .expect("packages")
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, e)| {
            let name = k.rsplit("node_modules/").next().unwrap_or(k).to_string();
            (name, e["version"].as_str().unwrap_or("").to_string())
        })
        .collect();
    assert_eq!(lock["packages"].as_object().expect("p").len() - 1, 68);
    let npm = of_type(&v, "npm");
    let deps: BTreeSet<(String, String)> = npm
        .iter()
        .filter(|p| p["application"] != true)
        .map(|p| nv(p))
        .collect();
    assert_eq!(deps, lock_pkgs, "npm packages equal the lockfile's");
    assert_eq!(npm.iter().filter(|p| p["application"] == true).count(), 1);
    for p in npm.iter().filter(|p| p["application"] != true) {
        let ps = paths(p);
        assert!(ps.contains("/app/node/package-lock.json"), "{p}");
        assert!(
            ps.iter()
                .any(|x| x.ends_with("/package.json") && x.contains("node_modules")),
            "installed too: {p}"
        );
    }
    for pin in [
        ("express", "4.17.1"),
        ("lodash", "4.17.20"),
        ("axios", "0.21.1"),
        ("minimist", "1.2.5"),
        ("jsonwebtoken", "8.5.1"),
    ] {
        assert!(
            deps.contains(&(pin.0.to_string(), pin.1.to_string())),
            "{pin:?}"
        );
    }
    assert_eq!(
        npm.iter().filter(|p| p["name"] == "ms").count(),
        3,
        "top-level ms and two nested copies"
    );

    // Go: the binary's main module, its two dependencies and the standard library.
    let go: BTreeSet<(String, String)> = of_type(&v, "golang").into_iter().map(nv).collect();
    let want_go: BTreeSet<(String, String)> = [
        ("example.com/benchgoapp", "(devel)"),
        ("github.com/google/uuid", "v1.3.0"),
        ("github.com/gorilla/mux", "v1.8.0"),
        ("stdlib", "v1.19.8"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(go, want_go);
    let stdlib = of_type(&v, "golang")
        .into_iter()
        .find(|p| p["name"] == "stdlib")
        .expect("stdlib");
    assert_eq!(stdlib["purl"], "pkg:golang/stdlib@v1.19.8");
    let main = of_type(&v, "golang")
        .into_iter()
        .find(|p| p["name"] == "example.com/benchgoapp")
        .expect("main");
    assert_eq!(main["application"], true);

    // Rust: the Cargo.lock's 12 crates; the binary holds 9, the 3 Windows-only ones are marked.
    let cargo = of_type(&v, "cargo");
    assert_eq!(cargo.len(), 12);
    let in_bin: Vec<&&Value> = cargo
        .iter()
        .filter(|p| paths(p).contains("/usr/local/bin/benchrust"))
        .collect();
    assert_eq!(in_bin.len(), 9);
    let not_in: BTreeSet<String> = cargo
        .iter()
        .filter(|p| p["metadata"]["in_binary"] == "false")
        .map(|p| p["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        not_in,
        [
            "winapi",
            "winapi-i686-pc-windows-gnu",
            "winapi-x86_64-pc-windows-gnu"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    );
    for p in &cargo {
        if p["metadata"]["in_binary"] == "false" {
            assert_eq!(
                paths(p),
                BTreeSet::from(["/app/rust/Cargo.lock".to_string()]),
                "{p}"
            );
        }
    }
    let root = cargo
        .iter()
        .find(|p| p["name"] == "benchrust")
        .expect("root crate");
    assert_eq!(root["application"], true);
    for pin in [
        ("regex", "1.5.4"),
        ("smallvec", "1.6.0"),
        ("time", "0.1.43"),
        ("base64", "0.13.0"),
    ] {
        assert!(
            in_bin
                .iter()
                .any(|p| nv(p) == (pin.0.to_string(), pin.1.to_string())),
            "{pin:?}"
        );
    }

    // Java: real versions, the manifest-only jar identified from its manifest, the WAR's two.
    let mvn: BTreeMap<(String, String), &Value> = of_type(&v, "maven")
        .into_iter()
        .map(|p| (nv(p), p))
        .collect();
    for (n, ver) in [
        ("org.apache.logging.log4j:log4j-core", "2.19.0"),
        ("org.apache.logging.log4j:log4j-api", "2.19.0"),
        ("org.apache.commons:commons-text", "1.10.0"),
        ("com.fasterxml.jackson.core:jackson-databind", "2.14.0"),
    ] {
        assert!(
            mvn.contains_key(&(n.to_string(), ver.to_string())),
            "{n} {ver}"
        );
    }
    let spring: Vec<_> = mvn
        .iter()
        .filter(|((n, _), _)| n.contains("spring"))
        .collect();
    assert_eq!(spring.len(), 1);
    assert_eq!(
        spring[0].0.1, "4.3.30.RELEASE",
        "the manifest, not the file name"
    );
    for n in [
        "org.apache.logging.log4j:log4j-core",
        "com.fasterxml.jackson.core:jackson-databind",
    ] {
        let p = mvn
            .iter()
            .find(|((name, _), _)| name == n)
            .map(|(_, p)| *p)
            .expect("jar");
        assert!(
            paths(p).contains("/app/java/bench-app.war"),
            "nested in the WAR too: {p}"
        );
    }

    // Ruby
    let gems: Vec<(String, String)> = of_type(&v, "gem").into_iter().map(nv).collect();
    assert_eq!(gems, vec![("rack".to_string(), "2.2.22".to_string())]);

    // Everything from layer 5 (index 4) says so.
    for ty in ["npm", "golang", "cargo", "maven", "gem"] {
        for p in of_type(&v, ty) {
            assert_eq!(p["layer"], 4, "{p}");
        }
    }
}

#[test]
fn every_format_of_lang_app_gives_the_same_language_packages_and_sboms_validate() {
    let Some(out) = images() else { return };
    let key = |v: &Value| -> BTreeSet<String> {
        v["packages"]
            .as_array()
            .expect("p")
            .iter()
            .map(|p| format!("{} {} {}", p["purl"], p["layer"], p["locations"]))
            .collect()
    };
    let a = inventory(
        &format!(
            "docker-archive:{}",
            out.join("lang-app.docker.tar").display()
        ),
        &[],
    );
    let b = inventory(
        &format!("oci-archive:{}", out.join("lang-app.oci.tar").display()),
        &[],
    );
    let c = inventory(&format!("oci:{}", out.join("lang-app.oci").display()), &[]);
    assert_eq!(key(&a), key(&b));
    assert_eq!(key(&a), key(&c));
    let Some(peers) = peers() else { return };
    let d = tempfile::tempdir().expect("tempdir");
    for (fmt, val) in [
        ("cyclonedx", "validate-cyclonedx"),
        ("spdx-json", "validate-spdx"),
    ] {
        let f = d.path().join(format!("lang-app.{fmt}.json"));
        let o = moat([
            "sbom",
            &format!("oci-archive:{}", out.join("lang-app.oci.tar").display()),
            "--format",
            fmt,
            "-q",
            "-o",
            f.to_str().expect("utf-8"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let st = Command::new(peers.join(val))
            .arg(&f)
            .status()
            .expect("validator");
        assert!(st.success(), "{fmt} invalid");
    }
}

#[test]
fn skip_dev_deps_leaves_out_what_lockfiles_mark_dev() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("package-lock.json"),
        r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{
            "":{"name":"app","version":"1.0.0"},
            "node_modules/left-pad":{"version":"1.3.0"},
            "node_modules/jest":{"version":"29.0.0","dev":true}}}"#,
    )
    .expect("write");
    let target = format!("dir:{}", d.path().display());
    let all = inventory(&target, &[]);
    let names = |v: &Value| -> BTreeSet<String> {
        v["packages"]
            .as_array()
            .expect("p")
            .iter()
            .map(|p| p["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        names(&all),
        BTreeSet::from(["app".into(), "left-pad".into(), "jest".into()])
    );
    let jest = all["packages"]
        .as_array()
        .expect("p")
        .iter()
        .find(|p| p["name"] == "jest")
        .expect("jest");
    assert_eq!(jest["dev"], true);
    let app = all["packages"]
        .as_array()
        .expect("p")
        .iter()
        .find(|p| p["name"] == "app")
        .expect("app");
    assert_eq!(app["application"], true);
    let prod = inventory(&target, &["--skip-dev-deps"]);
    assert_eq!(
        names(&prod),
        BTreeSet::from(["app".into(), "left-pad".into()])
    );
}
