//! The real images of ../shared/images, in every format, against outside oracles:
//! - the dpkg package set equals what `dpkg-query --admindir` reports on the image's
//!   final filesystem, unpacked by `umoci unpack` (a different implementation of layer
//!   merging);
//! - every format of one image gives the same inventory;
//! - lang-app's packages carry the layer that introduced them;
//! - the SBOMs pass the official CycloneDX and SPDX validators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const IMAGES: &[&str] = &["debian-base", "debian-tools", "lang-app", "secrets-leak"];

/// (name, version, arch, source name, source version)
type Deb = (String, String, String, String, String);

fn formats(out: &Path, image: &str) -> Vec<String> {
    let mut v = vec![
        format!(
            "docker-archive:{}",
            out.join(format!("{image}.docker.tar")).display()
        ),
        format!(
            "oci-archive:{}",
            out.join(format!("{image}.oci.tar")).display()
        ),
        format!("oci:{}", out.join(format!("{image}.oci")).display()),
        // detected, without a prefix
        out.join(format!("{image}.docker.tar"))
            .display()
            .to_string(),
        out.join(format!("{image}.oci")).display().to_string(),
    ];
    let d25 = out.join(format!("{image}.docker25.tar"));
    if d25.exists() {
        v.push(d25.display().to_string());
    }
    v
}

fn inventory(target: &str) -> Value {
    let o = moat(["inventory", target, "--format", "json", "--quiet"]);
    assert!(
        o.status.success(),
        "moat inventory {target} failed: {}",
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).expect("inventory JSON")
}

fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn debs(inv: &Value) -> BTreeSet<Deb> {
    inv["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["type"] == "deb")
        .map(|p| {
            (
                s(p, "name"),
                s(p, "version"),
                s(p, "arch"),
                s(p, "source_name"),
                s(p, "source_version"),
            )
        })
        .collect()
}

/// Unpacks the OCI layout with umoci (cached per manifest digest) and asks dpkg-query.
fn dpkg_oracle(out: &Path, image: &str) -> BTreeSet<Deb> {
    let index: Value = serde_json::from_slice(
        &std::fs::read(out.join(format!("{image}.oci/index.json"))).expect("index.json"),
    )
    .expect("index JSON");
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .replace(':', "-");
    let cache = std::env::temp_dir()
        .join("moat-test-unpacked")
        .join(format!("{image}-{digest}"));
    let rootfs = cache.join("rootfs");
    if !rootfs.join("var/lib/dpkg/status").exists() {
        // Unpack beside the cache entry, then rename: safe when tests run in parallel.
        std::fs::create_dir_all(cache.parent().expect("parent")).expect("mkdir");
        let tmp = cache.with_extension(format!(
            "tmp-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        let mut cmd = Command::new("umoci");
        cmd.arg("unpack");
        if !is_root() {
            cmd.arg("--rootless");
        }
        let st = cmd
            .arg("--image")
            .arg(format!(
                "{}:latest",
                out.join(format!("{image}.oci")).display()
            ))
            .arg(&tmp)
            .output()
            .expect("umoci runs (apt-get install umoci)");
        assert!(
            st.status.success(),
            "umoci unpack failed: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        if std::fs::rename(&tmp, &cache).is_err() {
            let _ = std::fs::remove_dir_all(&tmp); // another test won the race
        }
    }
    let q = Command::new("dpkg-query")
        .arg(format!("--admindir={}", rootfs.join("var/lib/dpkg").display()))
        .args(["-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n"])
        .output()
        .expect("dpkg-query runs");
    assert!(
        q.status.success(),
        "dpkg-query failed: {}",
        String::from_utf8_lossy(&q.stderr)
    );
    String::from_utf8_lossy(&q.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 6 && f[0].trim() == "ii").then(|| {
                (
                    f[1].into(),
                    f[2].into(),
                    f[3].into(),
                    f[4].into(),
                    f[5].into(),
                )
            })
        })
        .collect()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

#[test]
fn dpkg_packages_equal_dpkg_query_on_the_unpacked_image_in_every_format() {
    let Some(out) = images() else { return };
    for image in IMAGES {
        let oracle = dpkg_oracle(&out, image);
        assert!(
            oracle.len() >= 80,
            "{image}: oracle has only {} packages",
            oracle.len()
        );
        let mut first: Option<Value> = None;
        for target in formats(&out, image) {
            let inv = inventory(&target);
            let got = debs(&inv);
            let missing: Vec<_> = oracle.difference(&got).collect();
            let extra: Vec<_> = got.difference(&oracle).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{target}: missing {missing:?}, extra {extra:?}"
            );
            assert!(
                inv["diagnostics"].as_array().is_some_and(Vec::is_empty),
                "{target}: warnings {}",
                inv["diagnostics"]
            );
            // Every format gives the same packages, layers and OS.
            let key = |v: &Value| {
                serde_json::json!({"packages": v["packages"], "relationships": v["relationships"], "os": v["artifact"]["os"],
                    "diff_ids": v["artifact"]["layers"].as_array().map(|l| l.iter().map(|x| x["diff_id"].clone()).collect::<Vec<_>>()),
                    "config": v["artifact"]["config_digest"]})
            };
            match &first {
                None => first = Some(inv),
                Some(f) => assert!(
                    key(f) == key(&inv),
                    "{target}: inventory differs from the first format"
                ),
            }
        }
        eprintln!(
            "{image}: {} dpkg packages agree with dpkg-query in every format",
            oracle.len()
        );
    }
}

#[test]
fn lang_app_packages_carry_the_layer_that_introduced_them() {
    let Some(out) = images() else { return };
    let base: BTreeSet<String> = dpkg_oracle(&out, "debian-base")
        .into_iter()
        .map(|d| d.0)
        .collect();
    let tools: BTreeSet<String> = dpkg_oracle(&out, "debian-tools")
        .into_iter()
        .map(|d| d.0)
        .collect();
    let app: BTreeSet<String> = dpkg_oracle(&out, "lang-app")
        .into_iter()
        .map(|d| d.0)
        .collect();
    let inv = inventory(&format!(
        "docker-archive:{}",
        out.join("lang-app.docker.tar").display()
    ));
    let layer_of: BTreeMap<String, i64> = inv["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["type"] == "deb")
        .map(|p| (s(p, "name"), p["layer"].as_i64().unwrap_or(-1)))
        .collect();
    for n in &base {
        assert_eq!(
            layer_of.get(n),
            Some(&0),
            "{n} comes from the debootstrap layer"
        );
    }
    for n in tools.difference(&base) {
        assert_eq!(
            layer_of.get(n),
            Some(&1),
            "{n} comes from the apt-get install layer"
        );
    }
    let late: BTreeSet<&String> = app.difference(&tools).collect();
    assert_eq!(late.len(), 3, "python3-yaml, python3-six, libyaml-0-2");
    for n in late {
        assert_eq!(layer_of.get(n), Some(&3), "{n} comes from layer 3");
    }
    let layers = inv["artifact"]["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 5);
    assert!(
        s(&layers[3], "created_by").contains("python3-yaml"),
        "{}",
        layers[3]
    );
    assert!(s(&layers[0], "created_by").contains("debootstrap"));
    assert_eq!(inv["artifact"]["os"]["id"], "debian");
    assert_eq!(inv["artifact"]["os"]["version"], "12");
    // and the package's location names the database and the same layer
    let yaml = inv["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "python3-yaml")
        .expect("yaml");
    assert_eq!(yaml["locations"][0]["path"], "/var/lib/dpkg/status");
    assert_eq!(yaml["locations"][0]["layer"], 3);
}

fn validator(peers: &Path, name: &str) -> PathBuf {
    peers.join(name)
}

#[test]
fn sboms_of_all_four_images_pass_the_official_validators() {
    let Some(out) = images() else { return };
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    for image in IMAGES {
        let target = format!(
            "oci-archive:{}",
            out.join(format!("{image}.oci.tar")).display()
        );
        for (fmt, val) in [
            ("cyclonedx", "validate-cyclonedx"),
            ("spdx-json", "validate-spdx"),
        ] {
            let file = dir.path().join(format!("{image}.{fmt}.json"));
            let o = moat([
                "sbom",
                &target,
                "--format",
                fmt,
                "--quiet",
                "-o",
                file.to_str().expect("utf-8"),
            ]);
            assert!(o.status.success(), "{image} {fmt}: {}", stderr(&o));
            let v = Command::new(validator(&peers, val))
                .arg(&file)
                .output()
                .expect("validator runs");
            assert!(
                v.status.success(),
                "{image} {fmt} is invalid: {}{}",
                String::from_utf8_lossy(&v.stdout),
                String::from_utf8_lossy(&v.stderr)
            );
            let doc: Value =
                serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
            match fmt {
                "cyclonedx" => {
                    assert_eq!(doc["specVersion"], "1.6");
                    let debs = doc["components"]
                        .as_array()
                        .expect("components")
                        .iter()
                        .filter(|c| {
                            c["purl"]
                                .as_str()
                                .is_some_and(|p| p.starts_with("pkg:deb/debian/"))
                        });
                    assert!(debs.count() >= 88);
                }
                _ => assert_eq!(doc["spdxVersion"], "SPDX-2.3"),
            }
        }
    }
}
