//! `moat key generate`, `sign-blob`, `verify-blob`, `sign`, `verify`, `attest` and
//! `verify-attestation` from the command line: exit codes (0 verified, 1 not verified, 2 input
//! error), cosign's vectors and keys (../shared/corpus/cosign), and an image layout of
//! ../shared/images (lang-app.oci) signed in a temporary copy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{code, isolated, run, shared, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Output;

fn moat_in(home: &Path, args: &[&str]) -> Output {
    run(isolated(home).env("MOAT_PASSWORD", "pw").args(args))
}

/// A new key pair `moat.key` / `moat.pub` (password "pw") in `dir`, or PREFIX.*.
fn keypair(home: &Path, prefix: &str) -> (PathBuf, PathBuf) {
    let o = moat_in(home, &["key", "generate", "--output-key-prefix", prefix]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (
        home.join(format!("{prefix}.key")),
        home.join(format!("{prefix}.pub")),
    )
}

/// A copy of the shared lang-app OCI layout (blobs hard-linked when possible).
fn layout_copy(dst: &Path) -> Option<PathBuf> {
    let src = common::images()?.join("lang-app.oci");
    let out = dst.join("lang-app.oci");
    std::fs::create_dir_all(out.join("blobs/sha256")).unwrap();
    for f in ["index.json", "oci-layout"] {
        std::fs::copy(src.join(f), out.join(f)).unwrap();
    }
    for e in std::fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        let to = out.join("blobs/sha256").join(e.file_name());
        if std::fs::hard_link(e.path(), &to).is_err() {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    Some(out)
}

#[test]
fn key_generate_writes_cosign_format_and_refuses_to_overwrite() {
    let t = tempfile::tempdir().unwrap();
    let (key, public) = keypair(t.path(), "moat");
    let k = std::fs::read_to_string(&key).unwrap();
    assert!(
        k.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"),
        "{k}"
    );
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----\n")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let o = moat_in(t.path(), &["key", "generate"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("moat.key exists; pass --force to replace it"),
        "{}",
        stderr(&o)
    );
    let o = moat_in(t.path(), &["key", "generate", "--force"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_ne!(std::fs::read_to_string(&key).unwrap(), k);
    // No password and no terminal: a clear error, not a hang.
    let o = run(isolated(t.path())
        .env_remove("MOAT_PASSWORD")
        .args(["key", "generate", "--output-key-prefix", "other"])
        .stdin(std::process::Stdio::null()));
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("set MOAT_PASSWORD"), "{}", stderr(&o));
}

#[test]
fn sign_blob_verify_blob_exit_codes() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let (key, public) = keypair(home, "moat");
    let (_, other_pub) = keypair(home, "other");
    std::fs::write(home.join("file.txt"), b"hello moat\n").unwrap();
    let o = moat_in(
        home,
        &[
            "sign-blob",
            "--key",
            "moat.key",
            "--output-signature",
            "file.sig",
            "file.txt",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let sig = std::fs::read_to_string(home.join("file.sig")).unwrap();
    assert!(!sig.ends_with('\n') && sig.len() > 80, "{sig}");
    // Without --output-signature the signature goes to stdout (ECDSA: a fresh one each time).
    let o = moat_in(
        home,
        &["sign-blob", "--key", key.to_str().unwrap(), "file.txt"],
    );
    assert_eq!(code(&o), 0);
    std::fs::write(home.join("stdout.sig"), stdout(&o)).unwrap();

    for sigfile in ["file.sig", "stdout.sig"] {
        let o = moat_in(
            home,
            &[
                "verify-blob",
                "--key",
                public.to_str().unwrap(),
                "--signature",
                sigfile,
                "file.txt",
            ],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stderr(&o).contains("Verified OK"));
    }
    // Another content, another key: exit 1 with the reason.
    std::fs::write(home.join("other.txt"), b"hello moaT\n").unwrap();
    let o = moat_in(
        home,
        &[
            "verify-blob",
            "--key",
            "moat.pub",
            "--signature",
            "file.sig",
            "other.txt",
        ],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("moat: not verified: the signature does not match the content"),
        "{}",
        stderr(&o)
    );
    let o = moat_in(
        home,
        &[
            "verify-blob",
            "--key",
            other_pub.to_str().unwrap(),
            "--signature",
            "file.sig",
            "file.txt",
        ],
    );
    assert_eq!(code(&o), 1);
    // Malformed input: exit 2 naming the file.
    std::fs::write(home.join("bad.sig"), b"this@is@a@signature").unwrap();
    let o = moat_in(
        home,
        &[
            "verify-blob",
            "--key",
            "moat.pub",
            "--signature",
            "bad.sig",
            "file.txt",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("signature bad.sig: invalid base64"),
        "{}",
        stderr(&o)
    );
    let o = moat_in(
        home,
        &[
            "verify-blob",
            "--key",
            "moat.key",
            "--signature",
            "file.sig",
            "file.txt",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("is a private key"), "{}", stderr(&o));
    let o = moat_in(
        home,
        &[
            "verify-blob",
            "--key",
            "missing.pub",
            "--signature",
            "file.sig",
            "file.txt",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("missing.pub"), "{}", stderr(&o));
    // Wrong password.
    let o = run(isolated(home).env("MOAT_PASSWORD", "nope").args([
        "sign-blob",
        "--key",
        "moat.key",
        "file.txt",
    ]));
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("moat.key: wrong password"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn verify_blob_accepts_cosign_signatures_and_keys() {
    let Some(sh) = shared() else { return };
    let c = sh.join("corpus/cosign");
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(c.join("vectors/simple_signing_vectors.json")).unwrap(),
    )
    .unwrap();
    for vec in v["vectors"].as_array().unwrap() {
        std::fs::write(home.join("k.pub"), vec["public_key_pem"].as_str().unwrap()).unwrap();
        std::fs::write(home.join("payload"), vec["payload"].as_str().unwrap()).unwrap();
        std::fs::write(home.join("sig"), vec["signature_b64"].as_str().unwrap()).unwrap();
        let o = moat_in(
            home,
            &[
                "verify-blob",
                "--key",
                "k.pub",
                "--signature",
                "sig",
                "payload",
            ],
        );
        let want = match vec["expect"].as_str().unwrap() {
            "valid" => 0,
            "invalid" => 1,
            _ => 2,
        };
        assert_eq!(code(&o), want, "{}: {}", vec["name"], stderr(&o));
    }
    // sigstore-rs's encrypted keys of each type (password 123) sign; their public keys verify.
    std::fs::write(home.join("blob"), b"payload").unwrap();
    for k in [
        "ecdsa_encrypted_private.key",
        "ed25519_encrypted_private.key",
        "rsa_encrypted_private.key",
    ] {
        let key = c.join("sigstore-rs/tests/data/keys").join(k);
        let o = run(isolated(home).env("MOAT_PASSWORD", "123").args([
            "sign-blob".as_ref(),
            "--key".as_ref(),
            key.as_os_str(),
            "--output-signature".as_ref(),
            "blob.sig".as_ref(),
            "blob".as_ref(),
        ]));
        assert_eq!(code(&o), 0, "{k}: {}", stderr(&o));
        let o = run(isolated(home).env("MOAT_PASSWORD", "1234").args([
            "sign-blob".as_ref(),
            "--key".as_ref(),
            key.as_os_str(),
            "blob".as_ref(),
        ]));
        assert_eq!(code(&o), 2, "{k}");
        assert!(stderr(&o).contains("wrong password"), "{k}: {}", stderr(&o));
    }
}

#[test]
fn sign_and_verify_an_oci_layout() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let Some(img) = layout_copy(home) else { return };
    let target = format!("oci:{}", img.display());
    let (_, _) = keypair(home, "moat");
    let (_, _) = keypair(home, "second");
    let (_, _) = keypair(home, "third");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(img.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();

    // Unsigned: exit 1.
    let o = moat_in(home, &["verify", &target, "--key", "moat.pub"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "no signatures: {target} has no sha256-{}.sig manifest",
            &digest[7..]
        )),
        "{}",
        stderr(&o)
    );

    let o = moat_in(
        home,
        &[
            "sign",
            &target,
            "--key",
            "moat.key",
            "-a",
            "team=blue",
            "--reference",
            "example.test/lang-app",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("Signed {target} ({digest})")),
        "{}",
        stderr(&o)
    );
    let o = moat_in(home, &["sign", &target, "--key", "second.key"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Stored as cosign stores it: one manifest tagged sha256-<hex>.sig with two layers.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(img.join("index.json")).unwrap()).unwrap();
    let list = index["manifests"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let tag = format!("sha256-{}.sig", &digest[7..]);
    assert_eq!(
        list[1]["annotations"]["org.opencontainers.image.ref.name"],
        tag.as_str()
    );
    let m = list[1]["digest"].as_str().unwrap();
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(img.join("blobs/sha256").join(&m[7..])).unwrap())
            .unwrap();
    let layers = man["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(
        layers[0]["annotations"]["dev.cosignproject.cosign/signature"]
            .as_str()
            .unwrap()
            .len()
            > 80
    );
    let p = layers[0]["digest"].as_str().unwrap();
    let payload_path = img.join("blobs/sha256").join(&p[7..]);
    let payload = std::fs::read_to_string(&payload_path).unwrap();
    assert_eq!(
        payload,
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"example.test/lang-app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":{{"team":"blue"}}}}"#
        )
    );

    // Verified by each key; a third key: 1.
    let o = moat_in(home, &["verify", &target, "--key", "moat.pub"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("signature 0: verified: sha256:"), "{out}");
    assert!(
        out.contains(&format!(
            "signed {digest} as \"example.test/lang-app\" annotations {{\"team\":\"blue\"}}"
        )),
        "{out}"
    );
    assert!(
        out.contains("signature 1: not verified: the signature does not match"),
        "{out}"
    );
    let o = moat_in(
        home,
        &["verify", &target, "--key", "second.pub", "--format", "json"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["verified"], true);
    assert_eq!(j["digest"], digest.as_str());
    assert_eq!(j["signatures"][1]["verified"], true);
    assert_eq!(j["signatures"][1]["identity"], "lang-app.oci");
    let o = moat_in(home, &["verify", &target, "--key", "third.pub"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("none of the 2 signature(s)"),
        "{}",
        stderr(&o)
    );

    // The layout still reads as one image.
    let o = run(isolated(home).args(["inventory", &target, "--format", "json"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Tampered payload: 1, with the reason.
    std::fs::write(&payload_path, payload.replace("example.test", "evil.test")).unwrap();
    let o = moat_in(home, &["verify", &target, "--key", "moat.pub"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("signature 0: not verified: tampered payload"),
        "{}",
        stdout(&o)
    );

    // Input errors: 2.
    let o = moat_in(
        home,
        &["verify", "oci:/nonexistent/dir", "--key", "moat.pub"],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("not an OCI image layout"),
        "{}",
        stderr(&o)
    );
    let o = moat_in(
        home,
        &["verify", "docker.io/library/alpine", "--key", "moat.pub"],
    );
    assert_eq!(code(&o), 2);
    let o = moat_in(
        home,
        &["sign", &target, "--key", "moat.key", "-a", "novalue"],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("expected KEY=VALUE"), "{}", stderr(&o));
}

#[test]
fn attest_and_verify_attestation() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let Some(img) = layout_copy(home) else { return };
    let target = format!("oci:{}", img.display());
    let (_, _) = keypair(home, "moat");
    let (_, _) = keypair(home, "other");
    std::fs::write(
        home.join("bom.json"),
        br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}"#,
    )
    .unwrap();
    std::fs::write(home.join("not.json"), b"not json").unwrap();
    let o = moat_in(
        home,
        &[
            "attest",
            &target,
            "--key",
            "moat.key",
            "--predicate",
            "bom.json",
            "--type",
            "cyclonedx",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = moat_in(
        home,
        &[
            "attest",
            &target,
            "--key",
            "moat.key",
            "--predicate",
            "not.json",
            "--type",
            "cyclonedx",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("predicate not.json: not JSON"),
        "{}",
        stderr(&o)
    );

    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(img.join("index.json")).unwrap()).unwrap();
    let att = &index["manifests"][1];
    assert!(
        att["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap()
            .ends_with(".att")
    );
    let m = att["digest"].as_str().unwrap();
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(img.join("blobs/sha256").join(&m[7..])).unwrap())
            .unwrap();
    assert_eq!(
        man["layers"][0]["mediaType"],
        "application/vnd.dsse.envelope.v1+json"
    );
    assert_eq!(
        man["layers"][0]["annotations"]["predicateType"],
        "https://cyclonedx.org/bom"
    );

    let o = moat_in(
        home,
        &[
            "verify-attestation",
            &target,
            "--key",
            "moat.pub",
            "--type",
            "cyclonedx",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(p["bomFormat"], "CycloneDX");
    let o = moat_in(
        home,
        &[
            "verify-attestation",
            &target,
            "--key",
            "moat.pub",
            "--type",
            "spdx",
        ],
    );
    assert_eq!(code(&o), 1);
    let o = moat_in(home, &["verify-attestation", &target, "--key", "other.pub"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("attestation 0: not verified: the signature does not match"),
        "{}",
        stderr(&o)
    );
}

/// A layout of several images: each command says how it names one (`scan` with
/// `--image NAME`, the signing commands with `oci:DIR:NAME`), and that name then works.
#[test]
fn a_layout_of_several_images_is_named_the_way_each_command_takes_it() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let Some(img) = layout_copy(home) else { return };
    let (_, _) = keypair(home, "moat");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(img.join("index.json")).unwrap()).unwrap();
    let mut second = index["manifests"][0].clone();
    second["annotations"]["org.opencontainers.image.ref.name"] = "other".into();
    index["manifests"].as_array_mut().unwrap().push(second);
    std::fs::write(img.join("index.json"), index.to_string()).unwrap();
    let target = format!("oci:{}", img.display());

    let o = moat_in(home, &["verify", &target, "--key", "moat.pub"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("name the image as oci:DIR:NAME")
            && stderr(&o).contains("several images (latest, other)"),
        "{}",
        stderr(&o)
    );
    let o = moat_in(
        home,
        &[
            "scan",
            "--offline",
            "--require-signature",
            "--key",
            "moat.pub",
            &target,
        ],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("with --image NAME") && !stderr(&o).contains("oci:DIR:NAME"),
        "{}",
        stderr(&o)
    );

    // Named: sign one, and scan verifies the one it names.
    let named = format!("{target}:latest");
    let o = moat_in(home, &["sign", &named, "--key", "moat.key"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = moat_in(
        home,
        &[
            "scan",
            "--offline",
            "--scanners",
            "secret",
            "--require-signature",
            "--key",
            "moat.pub",
            "--image",
            "latest",
            &target,
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("signature verified"), "{}", stderr(&o));
}
