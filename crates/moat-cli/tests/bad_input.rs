//! Bad input from the command line: each case gives one clear error naming the input
//! (and layer), exit code 2, no panic; problems inside a readable target are warnings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use std::path::Path;

fn layout(dir: &Path, layers: &[TestLayer]) -> String {
    write_oci(dir, layers);
    format!("oci:{}", dir.display())
}

fn blob_path(dir: &Path, blob: &[u8]) -> std::path::PathBuf {
    dir.join("blobs/sha256").join(&sha256(blob)[7..])
}

/// Runs `moat inventory` and returns (exit code, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let mut a = vec!["inventory"];
    a.extend_from_slice(args);
    let o = moat(&a);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "moat panicked: {err}");
    (o.status.code().unwrap_or(-1), stdout(&o), err)
}

fn good_layer() -> TestLayer {
    TestLayer::gz(
        &debian_layer(&[("base-files", "12.4"), ("libc6", "2.36-9")], vec![]),
        "base",
    )
}

#[test]
fn a_readable_image_scans() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = layout(d.path(), &[good_layer()]);
    let (code, out, err) = run(&[&t]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("libc6") && out.contains("2.36-9"), "{out}");
}

#[test]
fn truncated_layer_is_an_error_naming_input_and_layer() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = good_layer();
    let t = layout(d.path(), &[l]);
    let l = good_layer();
    let p = blob_path(d.path(), &l.blob);
    std::fs::write(&p, &l.blob[..l.blob.len() / 2]).expect("truncate");
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&d.path().display().to_string()),
        "names the input: {err}"
    );
    assert!(err.contains("layer 0"), "names the layer: {err}");
}

#[test]
fn corrupt_gzip_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = good_layer();
    let mut bad = l.blob.clone();
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 16] {
        *b ^= 0xff;
    }
    let t = layout(d.path(), &[l]);
    let p = blob_path(d.path(), &good_layer().blob);
    std::fs::write(&p, &bad).expect("corrupt");
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("layer 0"), "{err}");
}

#[test]
fn layer_digest_mismatch_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = good_layer();
    let t = layout(d.path(), &[l]);
    // the same content, but other stored bytes: the gzip header's MTIME field differs
    let mut other = good_layer().blob;
    other[4] ^= 0x5a;
    std::fs::write(blob_path(d.path(), &good_layer().blob), &other).expect("swap");
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(err.to_lowercase().contains("digest"), "{err}");
    assert!(
        err.contains(&sha256(&good_layer().blob)[7..19]),
        "names the expected digest: {err}"
    );
}

#[test]
fn decompression_bomb_is_stopped_by_the_size_cap_and_the_ratio() {
    let d = tempfile::tempdir().expect("tempdir");
    let zeros = vec![0u8; 80 << 20];
    let bomb = TestLayer::gz(&[E::File("zeros", zeros)], "bomb");
    assert!(bomb.blob.len() < 1 << 20);
    let t = layout(d.path(), &[bomb]);
    // ratio: 80 MiB from well under 1 MiB is over the default 200:1 once past 64 MiB
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("layer 0"), "{err}");
    // size cap, configurable
    let (code, _, err) = run(&[&t, "--max-layer-bytes", "1000000", "--max-ratio", "100000"]);
    assert_eq!(code, 2, "{err}");
    // and with both raised the same layer is fine
    let (code, _, err) = run(&[&t, "--max-ratio", "100000"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn entry_names_escaping_the_root_are_errors() {
    for name in ["../etc/passwd", "/etc/passwd", "a/../../b"] {
        let d = tempfile::tempdir().expect("tempdir");
        let l = TestLayer::gz(&[E::RawFile(name, b"x".to_vec())], "x");
        let t = layout(d.path(), &[l]);
        let (code, _, err) = run(&[&t]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(
            err.contains("layer 0") && err.contains(name),
            "{name}: {err}"
        );
    }
}

#[test]
fn symlink_loop_is_a_warning_not_a_failure() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = TestLayer::gz(
        &[
            E::Symlink("etc/os-release", "../etc/loop"),
            E::Symlink("etc/loop", "os-release"),
            E::File("var/lib/dpkg/status", status(&[("bash", "5.2")])),
        ],
        "loop",
    );
    let t = layout(d.path(), &[l]);
    let (code, out, err) = run(&[&t, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("symlink loop"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(
        v["diagnostics"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["message"].as_str().is_some_and(|m| m.contains("loop")))
    );
    assert_eq!(v["packages"][0]["name"], "bash");
}

#[test]
fn huge_sparse_entry_is_an_error() {
    // A GNU sparse entry that claims 4 GiB of data with 512 bytes stored.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_path("var/lib/dpkg/status").expect("path");
    h.set_mode(0o644);
    h.set_size(512);
    {
        let g = h.as_gnu_mut().expect("gnu header");
        let real: u64 = 1 << 32;
        g.realsize
            .copy_from_slice(format!("{real:011o}\0").as_bytes());
        g.sparse[0]
            .offset
            .copy_from_slice(format!("{:011o}\0", real - 512).as_bytes());
        g.sparse[0]
            .numbytes
            .copy_from_slice(format!("{:011o}\0", 512).as_bytes());
    }
    h.set_cksum();
    let mut t = h.as_bytes().to_vec();
    t.extend_from_slice(&[b'x'; 512]);
    t.extend_from_slice(&[0u8; 1024]);
    let layer = TestLayer {
        blob: gzip(&t),
        tar: t,
        created_by: "sparse",
    };
    let d = tempfile::tempdir().expect("tempdir");
    let target = layout(d.path(), &[layer]);
    let (code, _, err) = run(&[&target]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("layer 0"), "{err}");
}

#[test]
fn invalid_manifest_json_names_the_file() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = layout(d.path(), &[good_layer()]);
    std::fs::write(d.path().join("index.json"), b"{\"manifests\": [").expect("write");
    let (code, _, err) = run(&[&t]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("index.json"), "{err}");
}

#[test]
fn no_matching_platform_lists_what_there_is() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = layout(d.path(), &[good_layer()]);
    let (code, _, err) = run(&[&t, "--platform", "linux/s390x"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("linux/amd64"),
        "lists the available platform: {err}"
    );
}

#[test]
fn missing_target_and_usage_errors_exit_2() {
    let (code, _, err) = run(&["/nonexistent/image.tar"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/image.tar"), "{err}");
    let (code, _, _) = run(&["--no-such-flag", "x"]);
    assert_eq!(code, 2);
    let (code, _, err) = run(&["examples", "--platform", "linux"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn broken_package_databases_are_warnings() {
    let d = tempfile::tempdir().expect("tempdir");
    let l = TestLayer::gz(
        &debian_layer(
            &[("bash", "5.2")],
            vec![E::File(
                "var/lib/rpm/Packages",
                b"this is not a berkeley db at all".repeat(100),
            )],
        ),
        "x",
    );
    let t = layout(d.path(), &[l]);
    let (code, out, err) = run(&[&t, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let w = v["diagnostics"].as_array().expect("warnings");
    assert!(
        w.iter()
            .any(|w| w["path"] == "/var/lib/rpm/Packages" && w["layer"] == 0),
        "{w:?}"
    );
    assert!(
        err.contains("warning") && err.contains("/var/lib/rpm/Packages"),
        "{err}"
    );
    assert_eq!(v["packages"].as_array().expect("packages").len(), 1);
}
