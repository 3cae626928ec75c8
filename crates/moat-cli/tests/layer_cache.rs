//! The per-layer analysis cache, through the binary: a second scan reads no layer (the
//! layer's blob can even be replaced by garbage), outputs are byte-identical with and
//! without the cache on the shared images, damaged entries are rebuilt, option changes
//! miss, `--cache off` writes nothing, the size bound evicts, `moat cache clean` clears it.
//! What the cache did is read from `MOAT_DEBUG`'s line on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// `(hits, read, rebuilt, stored)` from the `MOAT_DEBUG` line.
fn counts(o: &Output) -> (usize, usize, usize, usize) {
    let err = stderr(o);
    let line = err
        .lines()
        .find(|l| l.starts_with("moat: debug: layer cache /"))
        .unwrap_or_else(|| panic!("no layer cache line in {err:?}"));
    let nums: Vec<usize> = line
        .rsplit(": ")
        .next()
        .unwrap()
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    (nums[0], nums[1], nums[2], nums[3])
}

/// Runs moat in `home` with `MOAT_DEBUG` and a fixed time; `args` then the target.
fn run_debug(home: &Path, args: &[&str], target: &Path) -> Output {
    let o = run(isolated(home)
        .env("MOAT_DEBUG", "1")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(args)
        .arg(target));
    assert_eq!(code(&o), 0, "{args:?} {}: {}", target.display(), stderr(&o));
    o
}

fn layers_dir(home: &Path) -> PathBuf {
    home.join("cache/moat/blobs/layers")
}

fn entries(home: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(layers_dir(home))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "layer"));
    v.sort();
    v
}

/// A two-layer image: Debian packages below, a lockfile and a secret above.
fn two_layers(dir: &Path, version: &str) -> Vec<TestLayer> {
    let base = TestLayer::gz(
        &debian_layer(&[("libc6", "2.36-9"), ("bash", version)], vec![]),
        "base",
    );
    let app = TestLayer::gz(
        &[
            E::File(
                "app/requirements.txt",
                b"requests==2.31.0\nflask==3.0.0\n".to_vec(),
            ),
            E::File(
                "app/.env",
                b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n".to_vec(),
            ),
        ],
        "app",
    );
    let layers = vec![base, app];
    write_oci(dir, &layers);
    layers
}

#[test]
fn a_second_scan_reads_no_layer_not_even_a_replaced_blob() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let img = home.join("img");
    let layers = two_layers(&img, "5.2.15-2");
    let sbom = ["sbom", "-q"];
    let first = run_debug(home, &sbom, &img);
    assert_eq!(counts(&first), (0, 2, 0, 2));
    let second = run_debug(home, &sbom, &img);
    assert_eq!(counts(&second), (2, 0, 0, 0));
    assert_eq!(first.stdout, second.stdout);
    assert!(stdout(&first).contains("pkg:deb/debian/bash@5.2.15-2"));

    // The secret scanner is another analyzer set: a miss, stored apart.
    let secret = ["scan", "-q", "--scanners", "secret", "--format", "json"];
    let s1 = run_debug(home, &secret, &img);
    assert_eq!(counts(&s1), (0, 2, 0, 2));
    assert!(stdout(&s1).contains("aws-access-key-id"), "{}", stdout(&s1));
    let s2 = run_debug(home, &secret, &img);
    assert_eq!(counts(&s2), (2, 0, 0, 0));
    assert_eq!(s1.stdout, s2.stdout);

    // Replace the top layer's blob by garbage: the manifest's blob digest still names it,
    // so the cached analysis is used and the blob is never opened...
    let blob = img.join("blobs/sha256").join(&sha256(&layers[1].blob)[7..]);
    std::fs::write(&blob, b"garbage, not a layer").unwrap();
    let third = run_debug(home, &sbom, &img);
    assert_eq!(counts(&third), (2, 0, 0, 0));
    assert_eq!(first.stdout, third.stdout);
    // ... while without the cache the layer is read and refused.
    let off = run(isolated(home)
        .args(["sbom", "-q", "--cache", "off"])
        .arg(&img));
    assert_eq!(code(&off), 2, "{}", stderr(&off));
}

#[test]
fn damaged_entries_are_rebuilt_without_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let img = home.join("img");
    two_layers(&img, "5.2.15-2");
    let sbom = ["sbom", "-q"];
    let first = run_debug(home, &sbom, &img);
    let files = entries(home);
    assert_eq!(files.len(), 2);
    let good: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();

    type Damage<'a> = (&'a str, &'a dyn Fn(&mut Vec<u8>));
    let damage: [Damage; 5] = [
        ("a flipped body byte", &|b| {
            let last = b.len() - 1;
            b[last] ^= 0x55;
        }),
        ("a truncated body", &|b| b.truncate(b.len() - 7)),
        ("a truncated header", &|b| b.truncate(20)),
        ("another magic", &|b| b[0] = b'X'),
        ("an empty file", &|b| b.clear()),
    ];
    for (what, f) in damage {
        let mut bytes = good[0].clone();
        f(&mut bytes);
        std::fs::write(&files[0], &bytes).unwrap();
        let o = run_debug(home, &sbom, &img);
        assert_eq!(counts(&o), (1, 1, 1, 1), "{what}");
        assert_eq!(o.stdout, first.stdout, "{what}");
        assert_eq!(
            std::fs::read(&files[0]).unwrap(),
            good[0],
            "{what}: rewritten"
        );
        let again = run_debug(home, &sbom, &img);
        assert_eq!(counts(&again), (2, 0, 0, 0), "{what}");
    }

    // An entry under another key's name (a whole, valid entry of the other layer).
    std::fs::write(&files[0], &good[1]).unwrap();
    let o = run_debug(home, &sbom, &img);
    assert_eq!(counts(&o), (1, 1, 1, 1));
    assert_eq!(o.stdout, first.stdout);

    // A damaged entry is no warning: nothing on stderr without MOAT_DEBUG.
    std::fs::write(&files[1], b"MOATLAYR").unwrap();
    let quiet = run(isolated(home)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("sbom")
        .arg(&img));
    assert_eq!(code(&quiet), 0);
    assert_eq!(stderr(&quiet), "");
    assert_eq!(quiet.stdout, first.stdout);
}

#[test]
fn options_that_change_analyzer_output_miss() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let img = home.join("img");
    two_layers(&img, "5.2.15-2");
    let sbom = ["sbom", "-q"];
    run_debug(home, &sbom, &img);
    assert_eq!(counts(&run_debug(home, &sbom, &img)), (2, 0, 0, 0));
    // The entry limit changes what analyzers see.
    let small = ["sbom", "-q", "--max-entry-bytes", "100"];
    let o = run_debug(home, &small, &img);
    assert_eq!(counts(&o), (0, 2, 0, 2));
    assert!(
        !stdout(&o).contains("pkg:deb/debian/bash"),
        "the status file is over 100 bytes"
    );
    assert_eq!(counts(&run_debug(home, &small, &img)), (2, 0, 0, 0));
    // --skip-dev-deps acts after the merge: the same entries serve.
    assert_eq!(
        counts(&run_debug(home, &["sbom", "-q", "--skip-dev-deps"], &img)),
        (2, 0, 0, 0)
    );

    // User secret rules: keyed by the file's digest.
    let secret = ["scan", "-q", "--scanners", "secret", "--format", "json"];
    run_debug(home, &secret, &img);
    std::fs::write(
        home.join("moat-secrets.toml"),
        "[[rules]]\nid = \"flask-pin\"\ntitle = \"a flask pin\"\nregex = 'flask==[0-9.]+'\nkeywords = [\"flask\"]\n",
    )
    .unwrap();
    let custom = run_debug(home, &secret, &img);
    assert_eq!(counts(&custom).0, 0, "new rules: a miss");
    assert_eq!(counts(&run_debug(home, &secret, &img)), (2, 0, 0, 0));
    std::fs::write(
        home.join("moat-secrets.toml"),
        "[[rules]]\nid = \"flask-pin\"\ntitle = \"a flask pin\"\nregex = 'flask==[0-9]+'\nkeywords = [\"flask\"]\n",
    )
    .unwrap();
    assert_eq!(
        counts(&run_debug(home, &secret, &img)).0,
        0,
        "changed rules"
    );
    // Other secret options.
    let bin = [
        "scan",
        "-q",
        "--scanners",
        "secret",
        "--format",
        "json",
        "--secret-scan-binaries",
    ];
    assert_eq!(counts(&run_debug(home, &bin, &img)).0, 0);
}

#[test]
fn cache_off_writes_nothing_and_clean_removes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let img = home.join("img");
    two_layers(&img, "5.2.15-2");
    let o = run(isolated(home)
        .env("MOAT_DEBUG", "1")
        .args(["sbom", "-q", "--cache", "off"])
        .arg(&img));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("layer cache off"));
    assert!(!home.join("cache").exists(), "nothing written");

    run_debug(home, &["sbom", "-q"], &img);
    assert_eq!(entries(home).len(), 2);
    let clean = run(isolated(home).args(["cache", "clean"]));
    assert_eq!(code(&clean), 0, "{}", stderr(&clean));
    assert!(!layers_dir(home).exists());
    assert_eq!(counts(&run_debug(home, &["sbom", "-q"], &img)).1, 2);
}

#[test]
fn the_size_bound_evicts_the_least_recently_used() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let (a, b) = (home.join("a"), home.join("b"));
    // Different base layers (another bash version): four distinct entries.
    two_layers(&a, "5.2.15-2");
    two_layers(&b, "5.2.15-3");
    let tiny = ["sbom", "-q", "--cache-max-size", "1"];
    run_debug(home, &tiny, &a);
    let of_a = entries(home);
    assert_eq!(of_a.len(), 2, "the current scan's entries stay");
    // b's top layer is a's: one hit, one new entry; a's base layer is evicted.
    let o = run_debug(home, &tiny, &b);
    assert_eq!(counts(&o), (1, 1, 0, 1));
    let now = entries(home);
    assert_eq!(now.len(), 2);
    assert_eq!(now.iter().filter(|p| of_a.contains(p)).count(), 1);
    // A generous bound keeps everything.
    let big = ["sbom", "-q", "--cache-max-size", "1G"];
    run_debug(home, &big, &a);
    assert_eq!(entries(home).len(), 3);
}

/// The shared images in three formats: sbom and a secret+misconfig scan, cold, warm and
/// with `--cache off`, byte for byte; the warm run reads no layer.
#[test]
fn outputs_are_identical_with_and_without_the_cache_on_the_shared_images() {
    let Some(out) = images() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let commands: [&[&str]; 2] = [
        &["sbom", "-q", "--format", "cyclonedx"],
        &[
            "scan",
            "-q",
            "--scanners",
            "secret,misconfig",
            "--format",
            "json",
        ],
    ];
    for image in ["debian-tools", "lang-app", "secrets-leak", "debian-base"] {
        for form in ["docker.tar", "oci", "oci.tar"] {
            let target = out.join(format!("{image}.{form}"));
            for cmd in commands {
                let cold = run_debug(home, cmd, &target);
                let warm = run_debug(home, cmd, &target);
                let (hits, read, rebuilt, _) = counts(&warm);
                assert_eq!((read, rebuilt), (0, 0), "{image}.{form} {cmd:?}");
                assert!(hits > 0);
                let mut args = cmd.to_vec();
                args.extend(["--cache", "off"]);
                let off = run_debug(home, &args, &target);
                assert!(
                    cold.stdout == warm.stdout,
                    "{image}.{form} {cmd:?}: warm differs"
                );
                assert!(
                    cold.stdout == off.stdout,
                    "{image}.{form} {cmd:?}: cache off differs"
                );
            }
        }
    }
}

/// A layer's warnings name its index: a layer cached as layer 0 of one image and read back
/// as layer 1 of another is reported as layer 1, as without the cache.
#[test]
fn cached_warnings_name_the_layer_where_it_is_now() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let warned = || {
        TestLayer::gz(
            &[
                E::File("etc/motd", b"hello\n".to_vec()),
                E::Hardlink("var/lib/dpkg/status", "etc/motd"),
            ],
            "warned",
        )
    };
    let (a, b) = (home.join("a"), home.join("b"));
    write_oci(&a, &[warned()]);
    let base = TestLayer::gz(&debian_layer(&[("libc6", "2.36-9")], vec![]), "base");
    write_oci(&b, &[base, warned()]);
    let inv = ["inventory", "-q", "--format", "json"];
    let first = run_debug(home, &inv, &a);
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(
        diags
            .iter()
            .any(|d| d["layer"] == 0 && d["code"] == "hardlink-unread"),
        "{diags:?}"
    );
    let warm = run_debug(home, &inv, &b);
    assert_eq!(counts(&warm), (1, 1, 0, 1));
    let mut args = inv.to_vec();
    args.extend(["--cache", "off"]);
    let off = run_debug(home, &args, &b);
    assert_eq!(stdout(&warm), stdout(&off));
    let v: serde_json::Value = serde_json::from_slice(&warm.stdout).unwrap();
    assert!(
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["layer"] == 1 && d["code"] == "hardlink-unread")
    );
}

/// A config cannot lend one layer's cached facts to other bytes. moat does not recompute a
/// gzip OCI layer's diff_id (its blob digest binds it to the manifest), so an image may
/// claim another layer's diff_id for a layer of other content: it is cached under its blob
/// digest, and each image is reported with its own layer's content, whichever is scanned
/// first. (A docker-archive's layers are checked against the diff_ids: moat-image's
/// `diff_id_mismatch`.)
#[test]
fn a_config_claiming_another_layers_diff_id_gets_no_cached_facts() {
    let clean = tar(&[E::File("app/readme.txt", b"nothing to see\n".to_vec())]);
    let leaky = tar(&[E::File(
        "app/.env",
        b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n".to_vec(),
    )]);
    let secret = ["scan", "-q", "--scanners", "secret", "--format", "json"];
    for liar_first in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        let (honest, liar) = (home.join("honest"), home.join("liar"));
        let layer = |bytes: &[u8]| TestLayer {
            blob: gzip(bytes),
            // The diff_id the config gives: the clean layer's, for both images.
            tar: clean.clone(),
            created_by: "app",
        };
        write_oci(&honest, &[layer(&clean)]);
        write_oci(&liar, &[layer(&leaky)]);
        let order = if liar_first {
            [&liar, &honest]
        } else {
            [&honest, &liar]
        };
        for target in order {
            let o = run_debug(home, &secret, target);
            assert_eq!(counts(&o), (0, 1, 0, 1), "liar first: {liar_first}");
            let found = stdout(&o).contains("aws-access-key-id");
            assert_eq!(
                found,
                target == &liar,
                "{}: {}",
                target.display(),
                stdout(&o)
            );
        }
        // Each is a hit now, with its own facts.
        let again = run_debug(home, &secret, &liar);
        assert_eq!(counts(&again), (1, 0, 0, 0));
        assert!(stdout(&again).contains("aws-access-key-id"));
    }
}
