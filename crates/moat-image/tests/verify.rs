//! Verification and hostile input: digests, truncation, corrupt streams, bombs, bad JSON,
//! missing blobs, paths escaping the layout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use moat_image::{Image, ImageError, LayerStats, Limits, OpenOptions, Source, TargetSpec, open};
use std::io::Read;
use std::path::Path;

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn try_open(s: &str, opts: &OpenOptions) -> Result<Image, ImageError> {
    match open(&TargetSpec::parse(s)?, opts)? {
        Source::Image(i) => Ok(i),
        Source::Directory { .. } => panic!("not an image"),
    }
}

fn image(s: &str) -> Image {
    try_open(s, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn open_err(s: &str, opts: &OpenOptions) -> ImageError {
    match try_open(s, opts) {
        Ok(_) => panic!("{s}: expected an error"),
        Err(e) => e,
    }
}

/// Read a layer with plain `Read` (as a scanner would) and then finish it.
/// Returns where it failed: Err((from_read, error)).
fn consume(img: &Image, i: usize) -> Result<LayerStats, (bool, ImageError)> {
    let mut r = img.open_layer(i).map_err(|e| (false, e))?;
    let mut sink = Vec::new();
    if let Err(e) = r.read_to_end(&mut sink) {
        let inner = e.into_inner().expect("an ImageError inside the io::Error");
        let typed = inner
            .downcast::<ImageError>()
            .expect("downcasts to ImageError");
        return Err((true, *typed));
    }
    r.finish().map_err(|e| (false, e))
}

/// An OCI layout with the given image; returns the layout dir.
fn oci_dir(dir: &Path, name: &str, img: &TestImage) -> String {
    let mut layout = Layout::default();
    let d = layout.image(img, true);
    layout.manifests.push(with_ref(d, "latest"));
    layout.write_dir(&dir.join(name));
    p(dir, name)
}

fn blob_path(layout: &str, digest: &str) -> std::path::PathBuf {
    Path::new(layout).join("blobs/sha256").join(hex_of(digest))
}

#[test]
fn stored_digest_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new()
        .layer(&[("a", b"hello")], Comp::Plain)
        .layer(&[("b", b"world")], Comp::Plain);
    let lay = oci_dir(dir.path(), "lay", &t);
    // Same size, different bytes: a flipped byte inside the file data of layer 1.
    let mut bytes = t.layers[1].stored.clone();
    let pos = bytes.windows(5).position(|w| w == b"world").unwrap();
    bytes[pos] = b'W';
    std::fs::write(blob_path(&lay, &t.layers[1].digest()), &bytes).unwrap();
    let img = image(&lay);
    assert!(consume(&img, 0).is_ok());
    let (from_read, e) = consume(&img, 1).unwrap_err();
    assert!(!from_read);
    match &e {
        ImageError::DigestMismatch {
            layer,
            subject,
            expected,
            actual,
            ..
        } => {
            assert_eq!(*layer, Some(1));
            assert!(subject.contains("stored blob"), "{subject}");
            assert_eq!(*expected, t.layers[1].digest());
            assert_eq!(*actual, sha256(&bytes));
        }
        other => panic!("{other:?}"),
    }
    let msg = e.to_string();
    assert!(msg.starts_with(&lay), "{msg}");
    assert!(
        msg.contains(&format!("layer 1 ({})", t.layers[1].digest())),
        "{msg}"
    );
}

/// The diff_id is checked where nothing else binds a layer's bytes to the image: a
/// docker-archive (its `manifest.json` is named by no digest), and an uncompressed layer
/// anywhere (its one hash gives both digests). A compressed layer of an OCI manifest is
/// bound by its blob digest; its diff_id is the config's claim, not recomputed.
#[test]
fn diff_id_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = sha256(b"something else");
    let expect_diff_mismatch = |e: &ImageError, t: &TestImage| match e {
        ImageError::DigestMismatch {
            layer: Some(0),
            subject,
            expected,
            actual,
            ..
        } => {
            assert!(subject.contains("diff_id"), "{subject}");
            assert_eq!(*expected, wrong);
            assert_eq!(*actual, t.layers[0].diff_id());
        }
        other => panic!("{other:?}"),
    };
    // An uncompressed layer of an OCI layout.
    let mut plain = TestImage::new().layer(&[("a", b"hello")], Comp::Plain);
    plain.diff_ids = Some(vec![wrong.clone()]);
    let lay = oci_dir(dir.path(), "plain", &plain);
    let (_, e) = consume(&image(&lay), 0).unwrap_err();
    expect_diff_mismatch(&e, &plain);

    // A gzip layer of an OCI layout: read whole, its blob digest checked.
    let mut t = TestImage::new().layer(&[("a", b"hello")], Comp::Gzip);
    t.diff_ids = Some(vec![wrong.clone()]);
    let lay = oci_dir(dir.path(), "lay", &t);
    let stats = consume(&image(&lay), 0).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert_eq!(stats.stored_bytes, t.layers[0].stored.len() as u64);
    assert_eq!(
        image(&lay).artifact.layers[0].diff_id.as_deref(),
        Some(wrong.as_str())
    );

    // The same gzip layer in a docker-archive, with the digest claimed by `<hex>.tar`.
    write_tar(
        &dir.path().join("d.tar"),
        &docker_classic_items(&[(&t, vec!["d:1"])], true),
    );
    let img = image(&p(dir.path(), "d.tar"));
    let (_, e) = consume(&img, 0).unwrap_err();
    expect_diff_mismatch(&e, &t);
}

#[test]
fn docker_layer_name_digest_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"hello")], Comp::Plain);
    let mut items = docker_classic_items(&[(&t, vec!["d:1"])], false);
    // The layer file claims another digest in its name.
    let fake = format!("{}.tar", "0".repeat(64));
    for item in &mut items {
        if let Item::File(name, data) = item {
            if name.ends_with(".tar") {
                *name = fake.clone();
            }
            if name == "manifest.json" {
                let s = String::from_utf8(data.clone()).unwrap();
                *data = s
                    .replace(&format!("{}.tar", hex_of(&t.layers[0].digest())), &fake)
                    .into_bytes();
            }
        }
    }
    write_tar(&dir.path().join("d.tar"), &items);
    let img = image(&p(dir.path(), "d.tar"));
    assert_eq!(
        img.artifact.layers[0].digest,
        Some(format!("sha256:{}", "0".repeat(64)))
    );
    let (_, e) = consume(&img, 0).unwrap_err();
    assert!(
        matches!(&e, ImageError::DigestMismatch { subject, .. } if subject.contains("stored blob")),
        "{e:?}"
    );
}

#[test]
fn config_digest_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Plain);
    let lay = oci_dir(dir.path(), "lay", &t);
    let cfg = t.config_json();
    let mut tampered = cfg.clone();
    let pos = tampered.windows(5).position(|w| w == b"amd64").unwrap();
    tampered[pos..pos + 5].copy_from_slice(b"arm64");
    std::fs::write(blob_path(&lay, &sha256(&cfg)), &tampered).unwrap();
    let e = open_err(&lay, &OpenOptions::default());
    match &e {
        ImageError::DigestMismatch {
            layer: None,
            subject,
            expected,
            actual,
            ..
        } => {
            assert!(subject.starts_with("config blobs/sha256/"), "{subject}");
            assert_eq!(*expected, sha256(&cfg));
            assert_eq!(*actual, sha256(&tampered));
        }
        other => panic!("{other:?}"),
    }
    // docker-archive: the config's file name is its digest
    let mut items = docker_classic_items(&[(&t, vec!["d:1"])], false);
    for item in &mut items {
        if let Item::File(name, data) = item
            && name.ends_with(".json")
            && name != "manifest.json"
        {
            *data = tampered.clone();
        }
    }
    write_tar(&dir.path().join("d.tar"), &items);
    let e = open_err(&p(dir.path(), "d.tar"), &OpenOptions::default());
    assert!(
        matches!(e, ImageError::DigestMismatch { layer: None, .. }),
        "{e:?}"
    );
}

#[test]
fn manifest_digest_and_size_checked() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Plain);
    let mut layout = Layout::default();
    let d = layout.image(&t, true);
    let digest = d["digest"].as_str().unwrap().to_string();
    layout.manifests.push(d);
    layout.write_dir(&dir.path().join("lay"));
    let lay = p(dir.path(), "lay");
    let path = blob_path(&lay, &digest);
    let mut m = std::fs::read(&path).unwrap();
    m.push(b' ');
    std::fs::write(&path, &m).unwrap();
    let e = open_err(&lay, &OpenOptions::default());
    assert!(matches!(e, ImageError::SizeMismatch { .. }), "{e:?}");
    m.pop();
    let last = m.len() - 1;
    m[last] = b' '; // same size, different bytes
    std::fs::write(&path, &m).unwrap();
    let e = open_err(&lay, &OpenOptions::default());
    assert!(
        matches!(&e, ImageError::DigestMismatch { subject, .. } if subject.starts_with("manifest")),
        "{e:?}"
    );
}

#[test]
fn truncated_gzip_layer() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let tar = layer_tar(&[("big", &data)]);
    let gz = compress(&tar, Comp::Gzip);
    let cut = gz[..gz.len() / 2].to_vec();
    // The descriptor matches the truncated blob; only the gzip stream is broken.
    let t = TestImage::new().raw_layer(tar, cut, Comp::Gzip);
    let lay = oci_dir(dir.path(), "lay", &t);
    let img = image(&lay);
    let (from_read, e) = consume(&img, 0).unwrap_err();
    assert!(from_read, "the error surfaces from read()");
    match &e {
        ImageError::Decompress {
            layer: 0,
            compression: "gzip",
            digest,
            ..
        } => {
            assert_eq!(*digest, t.layers[0].digest());
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("corrupt gzip stream"), "{e}");
    // finish() without reading returns the typed error too.
    let r = img.open_layer(0).unwrap();
    assert!(matches!(r.finish(), Err(ImageError::Decompress { .. })));
}

#[test]
fn corrupt_zstd_layer() {
    let dir = tempfile::tempdir().unwrap();
    let tar = layer_tar(&[("f", &[7u8; 50_000])]);
    let mut z = compress(&tar, Comp::Zstd);
    let n = z.len();
    for b in &mut z[8..n - 4] {
        *b ^= 0x5a;
    }
    let t = TestImage::new().raw_layer(tar, z, Comp::Zstd);
    let lay = oci_dir(dir.path(), "lay", &t);
    let (_, e) = consume(&image(&lay), 0).unwrap_err();
    assert!(
        matches!(
            e,
            ImageError::Decompress {
                compression: "zstd",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn truncated_blob_file() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("f", &[1u8; 10_000])], Comp::Gzip);
    let lay = oci_dir(dir.path(), "lay", &t);
    let path = blob_path(&lay, &t.layers[0].digest());
    let stored = &t.layers[0].stored;
    std::fs::write(&path, &stored[..stored.len() - 10]).unwrap();
    let img = image(&lay);
    match img.open_layer(0) {
        Err(ImageError::Truncated {
            layer: 0,
            expected,
            actual,
            ..
        }) => {
            assert_eq!(expected, stored.len() as u64);
            assert_eq!(actual, stored.len() as u64 - 10);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_outer_archive() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("f", &[1u8; 100_000])], Comp::Plain);
    let mut items = docker_classic_items(&[(&t, vec!["d:1"])], false);
    // Put the layer last so that the cut lands in its data.
    items.sort_by_key(|i| matches!(i, Item::File(n, _) if n.ends_with(".tar")));
    let path = dir.path().join("d.tar");
    write_tar(&path, &items);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 60_000]).unwrap();
    let e = open_err(
        &format!("docker-archive:{}", path.display()),
        &OpenOptions::default(),
    );
    assert!(e.to_string().contains("archive truncated"), "{e}");
}

/// 200 MiB of zeros, gzip-compressed (about 200 KiB).
fn bomb() -> (Vec<u8>, Vec<u8>) {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    for _ in 0..200 {
        std::io::Write::write_all(&mut e, &chunk).unwrap();
        sha2::Digest::update(&mut h, &chunk);
    }
    let gz = e.finish().unwrap();
    // The "tar" is never materialised; the diff_id is computed above.
    let diff = format!("sha256:{}", hex::encode(sha2::Digest::finalize(h)));
    (diff.into_bytes(), gz)
}

#[test]
fn decompression_bomb() {
    let dir = tempfile::tempdir().unwrap();
    let (diff, gz) = bomb();
    assert!(gz.len() < 1 << 20);
    let mut t = TestImage::new().raw_layer(Vec::new(), gz, Comp::Gzip);
    t.diff_ids = Some(vec![String::from_utf8(diff).unwrap()]);
    let lay = oci_dir(dir.path(), "lay", &t);

    // The ratio limit (default 200:1) stops it just after 64 MiB.
    let img = image(&lay);
    let (from_read, e) = consume(&img, 0).unwrap_err();
    assert!(from_read);
    assert!(
        matches!(&e, ImageError::LimitExceeded { layer: 0, what, .. } if what.contains("compression ratio exceeds 200:1")),
        "{e:?}"
    );
    assert!(e.to_string().contains("possible decompression bomb"));

    // A small max_layer_bytes stops it earlier.
    let opts = OpenOptions {
        limits: Limits {
            max_layer_bytes: 1 << 20,
            ..Limits::default()
        },
        ..OpenOptions::default()
    };
    let img = try_open(&lay, &opts).unwrap();
    let mut r = img.open_layer(0).unwrap();
    let mut n = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    let err = loop {
        match r.read(&mut buf) {
            Ok(0) => panic!("no limit hit"),
            Ok(k) => n += k as u64,
            Err(e) => break e,
        }
    };
    assert!(n <= 1 << 20);
    let e = ImageError::from_io(err, Path::new("x"), "reading");
    assert!(
        matches!(&e, ImageError::LimitExceeded { what, .. } if what.contains("limit of 1048576 bytes")),
        "{e:?}"
    );

    // With the limits raised it reads to the end and verifies.
    let opts = OpenOptions {
        limits: Limits {
            max_ratio: 10_000,
            ..Limits::default()
        },
        ..OpenOptions::default()
    };
    let img = try_open(&lay, &opts).unwrap();
    let stats = consume(&img, 0).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert_eq!(stats.uncompressed_bytes, 200 << 20);
}

#[test]
fn invalid_json() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Plain);
    let mut items = docker_classic_items(&[(&t, vec!["d:1"])], false);
    for item in &mut items {
        if let Item::File(name, data) = item
            && name == "manifest.json"
        {
            *data = b"[{\"Config\": \"abc.json\", \"Layers\": [".to_vec();
        }
    }
    write_tar(&dir.path().join("d.tar"), &items);
    let path = p(dir.path(), "d.tar");
    let e = open_err(&path, &OpenOptions::default());
    assert!(
        matches!(&e, ImageError::InvalidJson { file, .. } if file == "manifest.json"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("{path}: manifest.json: invalid JSON")),
        "{e}"
    );

    let lay = oci_dir(dir.path(), "lay", &t);
    std::fs::write(Path::new(&lay).join("index.json"), b"{\"manifests\": 5}").unwrap();
    let e = open_err(&lay, &OpenOptions::default());
    assert!(
        matches!(&e, ImageError::InvalidJson { file, .. } if file == "index.json"),
        "{e:?}"
    );
}

#[test]
fn json_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Plain);
    let lay = oci_dir(dir.path(), "lay", &t);
    let opts = OpenOptions {
        limits: Limits {
            max_json_bytes: 64,
            ..Limits::default()
        },
        ..OpenOptions::default()
    };
    let e = open_err(&lay, &opts);
    assert!(
        matches!(&e, ImageError::JsonTooLarge { file, limit: 64, .. } if file == "index.json"),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("exceeds the limit of 64 bytes"),
        "{e}"
    );
}

#[test]
fn missing_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Gzip);
    let lay = oci_dir(dir.path(), "lay", &t);
    // layer blob missing: open works (metadata only), opening the layer fails
    std::fs::remove_file(blob_path(&lay, &t.layers[0].digest())).unwrap();
    let img = image(&lay);
    let e = img.open_layer(0).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{lay}: missing blob blobs/sha256/{}",
            hex_of(&t.layers[0].digest())
        )
    );
    // config blob missing: open fails
    std::fs::remove_file(blob_path(&lay, &sha256(&t.config_json()))).unwrap();
    let e = open_err(&lay, &OpenOptions::default());
    assert!(matches!(e, ImageError::MissingBlob { .. }), "{e:?}");

    // docker-archive: a layer named in manifest.json but absent
    let mut items = docker_classic_items(&[(&t, vec!["d:1"])], false);
    items.retain(|i| !matches!(i, Item::File(n, _) if n.ends_with(".tar")));
    write_tar(&dir.path().join("d.tar"), &items);
    let e = open_err(&p(dir.path(), "d.tar"), &OpenOptions::default());
    assert!(
        matches!(&e, ImageError::MissingBlob { name, .. } if name.ends_with(".tar")),
        "{e:?}"
    );
    // a dangling symlink inside the archive is a missing blob too
    let mut items = docker_classic_items(&[(&t, vec!["d:1"])], true);
    items.retain(|i| !matches!(i, Item::File(n, _) if n.ends_with(".tar")));
    write_tar(&dir.path().join("s.tar"), &items);
    let e = open_err(&p(dir.path(), "s.tar"), &OpenOptions::default());
    assert!(
        matches!(&e, ImageError::MissingBlob { name, .. } if name.ends_with("/layer.tar")),
        "{e:?}"
    );
}

#[test]
fn paths_escaping_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Plain);
    for bad in ["../secret.tar", "x/../../secret.tar", "/etc/passwd"] {
        let mut items = docker_classic_items(&[(&t, vec!["d:1"])], false);
        for item in &mut items {
            if let Item::File(name, data) = item
                && name == "manifest.json"
            {
                let mut m: serde_json::Value = serde_json::from_slice(data).unwrap();
                m[0]["Layers"][0] = serde_json::json!(bad);
                *data = serde_json::to_vec(&m).unwrap();
            }
        }
        write_tar(&dir.path().join("d.tar"), &items);
        let e = open_err(&p(dir.path(), "d.tar"), &OpenOptions::default());
        assert!(
            matches!(&e, ImageError::UnsafePath { name, .. } if name == bad),
            "{bad}: {e:?}"
        );
        assert!(e.to_string().contains("escapes the image layout"));
    }
    // A symlink inside the archive pointing above its root.
    let mut items = docker_classic_items(&[(&t, vec!["d:1"])], true);
    for item in &mut items {
        if let Item::Symlink(_, target) = item {
            *target = "../../etc/passwd".into();
        }
    }
    write_tar(&dir.path().join("s.tar"), &items);
    let e = open_err(&p(dir.path(), "s.tar"), &OpenOptions::default());
    assert!(matches!(e, ImageError::MissingBlob { .. }), "{e:?}");

    // OCI: a digest that is a path is rejected as malformed.
    let lay = oci_dir(dir.path(), "lay", &t);
    let index = std::fs::read_to_string(Path::new(&lay).join("index.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&index).unwrap();
    v["manifests"][0]["digest"] = serde_json::json!("sha256:../../../etc/passwd");
    std::fs::write(
        Path::new(&lay).join("index.json"),
        serde_json::to_vec(&v).unwrap(),
    )
    .unwrap();
    let e = open_err(&lay, &OpenOptions::default());
    assert!(e.to_string().contains("malformed digest"), "{e}");
}

#[test]
fn unsupported_digest_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Plain);
    let lay = oci_dir(dir.path(), "lay", &t);
    let index = std::fs::read_to_string(Path::new(&lay).join("index.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&index).unwrap();
    v["manifests"][0]["digest"] = serde_json::json!("md5:d41d8cd98f00b204e9800998ecf8427e");
    std::fs::write(
        Path::new(&lay).join("index.json"),
        serde_json::to_vec(&v).unwrap(),
    )
    .unwrap();
    let e = open_err(&lay, &OpenOptions::default());
    assert!(matches!(e, ImageError::UnsupportedDigest { .. }), "{e:?}");
    assert!(e.to_string().contains("unsupported digest \"md5:"), "{e}");
}

#[test]
fn sha512_blobs_are_supported() {
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let tar = layer_tar(&[("a", b"512")]);
    let gz = compress(&tar, Comp::Gzip);
    let d512 = |b: &[u8]| format!("sha512:{}", hex::encode(sha2::Sha512::digest(b)));
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [d512(&tar)]}
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d512(&config), "size": config.len()},
        "layers": [{"mediaType": media_type(Comp::Gzip), "digest": d512(&gz), "size": gz.len()}]
    }))
    .unwrap();
    let index = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d512(&manifest), "size": manifest.len()}
    ]}))
    .unwrap();
    let lay = dir.path().join("lay");
    std::fs::create_dir_all(lay.join("blobs/sha512")).unwrap();
    std::fs::write(lay.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(lay.join("index.json"), index).unwrap();
    for b in [&config, &manifest, &gz] {
        let d = d512(b);
        std::fs::write(
            lay.join("blobs/sha512")
                .join(d.trim_start_matches("sha512:")),
            b,
        )
        .unwrap();
    }
    let img = image(&lay.display().to_string());
    assert_eq!(
        img.artifact.config_digest.as_deref(),
        Some(d512(&config).as_str())
    );
    let stats = consume(&img, 0).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert_eq!(stats.uncompressed_bytes, tar.len() as u64);
}

#[test]
fn layer_count_must_match_diff_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = TestImage::new()
        .layer(&[("a", b"1")], Comp::Plain)
        .layer(&[("b", b"2")], Comp::Plain);
    t.diff_ids = Some(vec![t.layers[0].diff_id()]);
    let lay = oci_dir(dir.path(), "lay", &t);
    let e = open_err(&lay, &OpenOptions::default());
    assert!(
        matches!(
            e,
            ImageError::LayerCountMismatch {
                layers: 2,
                diff_ids: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!("{lay}: the manifest lists 2 layers but the config has 1 diff_ids")
    );
}

#[test]
fn trailing_garbage_after_gzip_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let tar = layer_tar(&[("a", b"1")]);
    let mut gz = compress(&tar, Comp::Gzip);
    gz.extend_from_slice(b"garbage!");
    let t = TestImage::new().raw_layer(tar, gz, Comp::Gzip);
    let lay = oci_dir(dir.path(), "lay", &t);
    let (_, e) = consume(&image(&lay), 0).unwrap_err();
    assert!(matches!(e, ImageError::Decompress { .. }), "{e:?}");
}

#[test]
fn multi_member_gzip_and_zstd_frames() {
    let dir = tempfile::tempdir().unwrap();
    let tar = layer_tar(&[("a", &[3u8; 5000]), ("b", &[4u8; 5000])]);
    let (x, y) = tar.split_at(3000);
    let mut gz = compress(x, Comp::Gzip);
    gz.extend(compress(y, Comp::Gzip));
    let mut zs = compress(x, Comp::Zstd);
    zs.extend(compress(y, Comp::Zstd));
    let t = TestImage::new()
        .raw_layer(tar.clone(), gz, Comp::Gzip)
        .raw_layer(tar.clone(), zs, Comp::Zstd);
    let lay = oci_dir(dir.path(), "lay", &t);
    let img = image(&lay);
    for i in 0..2 {
        let stats = consume(&img, i).unwrap_or_else(|(_, e)| panic!("{e}"));
        assert_eq!(stats.uncompressed_bytes, tar.len() as u64);
    }
}

#[test]
fn huge_pax_header_in_outer_tar_is_bounded() {
    // An 80 MiB PAX record before manifest.json: the header pass refuses to read it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pax.tar");
    let size = 80u64 << 20;
    let mut h = tar::Header::new_ustar();
    h.set_path("PaxHeaders/x").unwrap();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    let mut f = std::fs::File::create(&path).unwrap();
    std::io::Write::write_all(&mut f, h.as_bytes()).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..80 {
        std::io::Write::write_all(&mut f, &chunk).unwrap();
    }
    let mut b = tar::Builder::new(f);
    let mut h = tar::Header::new_ustar();
    h.set_size(2);
    h.set_cksum();
    b.append_data(&mut h, "manifest.json", &b"[]"[..]).unwrap();
    b.finish().unwrap();
    let e = open_err(
        &format!("docker-archive:{}", path.display()),
        &OpenOptions::default(),
    );
    // the reader caps every header record at 1 MiB (as Go's archive/tar) before reading it
    assert!(
        e.to_string()
            .contains("PAX extended header \"PaxHeaders/x\" of 83886080 bytes (offset 0) is over the limit of 1048576 bytes"),
        "{e}"
    );
}

/// A gzip layer large enough (over 4 MiB stored) that its hashes run on threads of their
/// own: read whole it verifies, and a changed byte of the blob or a wrong diff_id (in a
/// docker-archive, where it is checked) is still caught, with the digest the bytes really
/// have.
#[test]
fn large_gzip_layer_hashed_on_threads_is_verified() {
    // Incompressible bytes (xorshift), so the stored blob is as large as the file.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..(5 << 20))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("big.bin", &noise), ("a", b"hello")], Comp::Gzip);
    assert!(t.layers[0].stored.len() > 5 << 20);
    let lay = oci_dir(dir.path(), "ok", &t);
    let stats = consume(&image(&lay), 0).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert_eq!(stats.stored_bytes, t.layers[0].stored.len() as u64);

    let mut bytes = t.layers[0].stored.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    let lay = oci_dir(dir.path(), "tampered", &t);
    std::fs::write(blob_path(&lay, &t.layers[0].digest()), &bytes).unwrap();
    match consume(&image(&lay), 0) {
        // A flipped bit inside the deflate stream may also break it (a decompression error).
        Err((
            _,
            ImageError::DigestMismatch {
                subject, actual, ..
            },
        )) => {
            assert!(subject.contains("stored blob"), "{subject}");
            assert_eq!(actual, sha256(&bytes));
        }
        Err((true, ImageError::Decompress { .. })) => {}
        other => panic!("{other:?}"),
    }

    // A wrong diff_id is caught where it is checked (a docker-archive, see
    // `diff_id_mismatch`), by the hash on its own thread.
    let mut wrong = t.clone();
    wrong.diff_ids = Some(vec![sha256(b"something else")]);
    write_tar(
        &dir.path().join("wrong-diff.tar"),
        &docker_classic_items(&[(&wrong, vec!["d:1"])], false),
    );
    match consume(&image(&p(dir.path(), "wrong-diff.tar")), 0) {
        Err((
            false,
            ImageError::DigestMismatch {
                subject, actual, ..
            },
        )) => {
            assert!(subject.contains("diff_id"), "{subject}");
            assert_eq!(actual, t.layers[0].diff_id());
        }
        other => panic!("{other:?}"),
    }
}
