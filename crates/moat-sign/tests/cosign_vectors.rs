//! Against cosign's and sigstore-rs's real keys and signatures (../shared/corpus/cosign), and
//! sign -> verify round trips for every key type, in memory and in an OCI layout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_sign::image::{self, PredicateKind};
use moat_sign::store::{ArtifactStore, OciLayout};
use moat_sign::{PublicKey, Scheme, SignError, SigningKey, sign_blob, verify_blob};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/cosign");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing (CI=true)", dir.display());
    }
    eprintln!("skipped: {} not found", dir.display());
    None
}

fn load(path: &Path, password: &str) -> Result<SigningKey, SignError> {
    let text = std::fs::read(path).unwrap();
    let pw = password.as_bytes().to_vec();
    SigningKey::from_pem(&text, &path.display().to_string(), &mut || Ok(pw.clone()))
}

#[test]
fn simple_signing_vectors() {
    let Some(c) = corpus() else { return };
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(c.join("vectors/simple_signing_vectors.json")).unwrap(),
    )
    .unwrap();
    let vectors = v["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 4);
    for t in vectors {
        let name = t["name"].as_str().unwrap();
        let key =
            PublicKey::from_pem(t["public_key_pem"].as_str().unwrap().as_bytes(), name).unwrap();
        assert_eq!(key.scheme(), Scheme::EcdsaP256Sha256);
        let res = verify_blob(
            &key,
            t["payload"].as_str().unwrap().as_bytes(),
            t["signature_b64"].as_str().unwrap(),
            "signature",
        );
        match t["expect"].as_str().unwrap() {
            "valid" => res.unwrap(),
            "invalid" => {
                let e = res.unwrap_err();
                assert!(e.is_not_verified(), "{name}: {e}");
                assert!(e.to_string().contains("does not match"), "{name}: {e}");
            }
            "error_base64" => {
                let e = res.unwrap_err();
                assert!(matches!(e, SignError::Base64 { .. }), "{name}: {e}");
            }
            other => panic!("unknown expectation {other}"),
        }
    }
}

#[test]
fn encrypted_keys_decrypt_with_their_passwords_only() {
    let Some(c) = corpus() else { return };
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(c.join("vectors/encrypted_key_passwords.json")).unwrap(),
    )
    .unwrap();
    let keys = v["keys"].as_object().unwrap();
    assert_eq!(keys.len(), 2);
    for (rel, info) in keys {
        let path = c.join("vectors").join(rel);
        let k = load(&path, info["password"].as_str().unwrap()).unwrap();
        assert_eq!(k.public_key().scheme(), Scheme::EcdsaP256Sha256, "{rel}");
        let e = load(&path, "wrong").unwrap_err();
        assert!(matches!(e, SignError::WrongPassword { .. }), "{rel}: {e}");
        assert!(
            e.to_string()
                .ends_with("wrong password (the key does not decrypt)")
        );
    }
    // The example's other files (four unrelated keys) all parse.
    let ex = c.join("sigstore-rs/examples/key_interface/key_pair_import");
    let plain = load(&ex.join("ECDSA_P256_ASN1_PRIVATE_PEM.key"), "").unwrap();
    let der = std::fs::read(ex.join("ECDSA_P256_ASN1_PRIVATE_DER.key")).unwrap();
    let from_der = SigningKey::from_pkcs8(&der, "der").unwrap();
    let pub_pem = std::fs::read(ex.join("ECDSA_P256_ASN1_PUBLIC_PEM.pub")).unwrap();
    let public = PublicKey::from_pem(&pub_pem, "pub").unwrap();
    let pub_der = std::fs::read(ex.join("ECDSA_P256_ASN1_PUBLIC_DER.pub")).unwrap();
    let public_der = PublicKey::from_spki_der(&pub_der, "der").unwrap();
    assert_eq!(public_der.spki_der(), &pub_der[..]);
    for k in [&plain, &from_der] {
        assert_eq!(k.public_key().scheme(), Scheme::EcdsaP256Sha256);
        assert_ne!(k.public_key(), &public);
    }
}

#[test]
fn sigstore_rs_keys_of_every_type() {
    let Some(c) = corpus() else { return };
    let d = c.join("sigstore-rs/tests/data/keys");
    let cases = [
        (
            "ecdsa_encrypted_private.key",
            "123",
            Scheme::EcdsaP256Sha256,
        ),
        ("ed25519_encrypted_private.key", "123", Scheme::Ed25519),
        ("rsa_encrypted_private.key", "123", Scheme::RsaPkcs1Sha256),
        (
            "cosign_generated_encrypted_empty_private.key",
            "",
            Scheme::EcdsaP256Sha256,
        ),
        ("ecdsa_private.key", "", Scheme::EcdsaP256Sha256),
        // PKCS#8 v2 (with the public key).
        ("ed25519_private.key", "", Scheme::Ed25519),
        // PKCS#1 `RSA PRIVATE KEY`.
        ("rsa_private.key", "", Scheme::RsaPkcs1Sha256),
    ];
    for (file, pw, scheme) in cases {
        let k = load(&d.join(file), pw).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(k.public_key().scheme(), scheme, "{file}");
        // sign -> verify through the public key's PEM, and a wrong message is rejected.
        let pubk = PublicKey::from_pem(k.public_key().to_pem().as_bytes(), "pub").unwrap();
        let sig = sign_blob(&k, b"hello moat").unwrap();
        verify_blob(&pubk, b"hello moat", &sig, "sig").unwrap();
        let e = verify_blob(&pubk, b"hello moaT", &sig, "sig").unwrap_err();
        assert!(e.is_not_verified(), "{file}: {e}");
        if file.contains("encrypted") && !pw.is_empty() {
            let e = load(&d.join(file), "1234").unwrap_err();
            assert!(matches!(e, SignError::WrongPassword { .. }), "{file}: {e}");
        }
    }
    // The cosign repository's CI key: its password is secret, so it only parses and refuses.
    let e = load(&c.join("cosign/.github/workflows/cosign-test.key"), "guess").unwrap_err();
    assert!(matches!(e, SignError::WrongPassword { .. }), "{e}");
    PublicKey::from_pem(
        &std::fs::read(c.join("cosign/.github/workflows/cosign-test.pub")).unwrap(),
        "pub",
    )
    .unwrap();
    PublicKey::from_pem(
        &std::fs::read(c.join("cosign/release/release-cosign.pub")).unwrap(),
        "pub",
    )
    .unwrap();
}

#[test]
fn generated_keys_round_trip_through_cosign_format() {
    let (k, pkcs8) = SigningKey::generate_ecdsa_p256().unwrap();
    let pem = moat_sign::encrypted::encrypt(&pkcs8, b"s3cret").unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let back = SigningKey::from_pem(pem.as_bytes(), "k", &mut || Ok(b"s3cret".to_vec())).unwrap();
    assert_eq!(back.public_key(), k.public_key());
    let e = SigningKey::from_pem(pem.as_bytes(), "k", &mut || Ok(b"nope".to_vec())).unwrap_err();
    assert!(matches!(e, SignError::WrongPassword { .. }), "{e}");
    let pubk = k.public_key().to_pem();
    assert!(pubk.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert_eq!(k.public_key().fingerprint().len(), 7 + 64);
}

#[test]
fn wrong_kinds_of_pem_are_named() {
    let (k, _) = SigningKey::generate_ecdsa_p256().unwrap();
    let e = SigningKey::from_pem(k.public_key().to_pem().as_bytes(), "a.pub", &mut || {
        Ok(vec![])
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "a.pub: is a public key; signing needs the private key"
    );
    let e = PublicKey::from_pem(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "c.pem",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "c.pem: unsupported PEM type \"CERTIFICATE\" (expected PUBLIC KEY)"
    );
    let e = PublicKey::from_pem(
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "p.pem",
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("p.pem: malformed public key"),
        "{e}"
    );
}

/// A minimal OCI layout with one image manifest; returns its digest.
fn layout(dir: &Path) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let d = moat_sign::store::digest_of(b);
        std::fs::write(blobs.join(&d[7..]), b).unwrap();
        d
    };
    let cfg = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let man = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": cfg.len()},
        "layers": []})).unwrap();
    let d = put(&man);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": man.len(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    d
}

#[test]
fn image_signatures_in_a_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let digest = layout(tmp.path());
    let mut store = OciLayout::open(tmp.path()).unwrap();
    assert_eq!(store.resolve_image(None).unwrap().digest, digest);
    let (k1, _) = SigningKey::generate_ecdsa_p256().unwrap();
    let (k2, _) = SigningKey::generate_ecdsa_p256().unwrap();
    let ann = BTreeMap::from([("team".to_string(), "blue".to_string())]);
    let s1 = image::sign_image(&mut store, &k1, &digest, "example/app", &ann).unwrap();
    assert_eq!(s1.tag, format!("sha256-{}.sig", &digest[7..]));
    image::sign_image(&mut store, &k2, &digest, "example/app", &BTreeMap::new()).unwrap();
    // The image is still the only image; both signatures accumulate in one manifest.
    assert_eq!(store.resolve_image(None).unwrap().digest, digest);
    let v = image::verify_image(&store, k1.public_key(), &digest).unwrap();
    assert!(v.verified);
    assert_eq!(v.signatures.len(), 2);
    assert!(v.signatures[0].verified);
    assert_eq!(v.signatures[0].identity.as_deref(), Some("example/app"));
    assert_eq!(
        v.signatures[0].annotations.as_ref().unwrap()["team"],
        "blue"
    );
    assert!(!v.signatures[1].verified);
    assert!(
        v.signatures[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("does not match")
    );
    // A third key: not verified, with the reason.
    let (k3, _) = SigningKey::generate_ecdsa_p256().unwrap();
    let v = image::verify_image(&store, k3.public_key(), &digest).unwrap();
    assert!(!v.verified);
    // Signing twice with an RSA and an Ed25519 key works too.
    let c = corpus();
    if let Some(c) = c {
        let d = c.join("sigstore-rs/tests/data/keys");
        for f in ["ed25519_private.key", "rsa_private.key"] {
            let k = load(&d.join(f), "").unwrap();
            image::sign_image(&mut store, &k, &digest, "example/app", &BTreeMap::new()).unwrap();
            assert!(
                image::verify_image(&store, k.public_key(), &digest)
                    .unwrap()
                    .verified,
                "{f}"
            );
        }
    }
    // Tampering with the first payload: its digest no longer matches.
    let (_, man) = store.manifest_by_tag(&s1.tag).unwrap().unwrap();
    let m: serde_json::Value = serde_json::from_slice(&man).unwrap();
    let p = m["layers"][0]["digest"].as_str().unwrap();
    let path = tmp.path().join("blobs/sha256").join(&p[7..]);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("example/app", "example/evil");
    std::fs::write(&path, text).unwrap();
    let v = image::verify_image(&store, k1.public_key(), &digest).unwrap();
    assert!(!v.verified);
    assert!(
        v.signatures[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("tampered payload"),
        "{:?}",
        v.signatures[0].reason
    );
}

#[test]
fn a_signature_for_another_digest_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let digest = layout(tmp.path());
    let mut store = OciLayout::open(tmp.path()).unwrap();
    let (k, _) = SigningKey::generate_ecdsa_p256().unwrap();
    // A valid signature of another image's payload, stored under this image's tag.
    let other = format!("sha256:{}", "ab".repeat(32));
    let s = image::sign_image(&mut store, &k, &other, "example/other", &BTreeMap::new()).unwrap();
    let (_, man) = store.manifest_by_tag(&s.tag).unwrap().unwrap();
    let tag = image::artifact_tag(&digest, "sig").unwrap();
    store
        .put_manifest(&tag, "application/vnd.oci.image.manifest.v1+json", &man)
        .unwrap();
    let v = image::verify_image(&store, k.public_key(), &digest).unwrap();
    assert!(!v.verified);
    let reason = v.signatures[0].reason.clone().unwrap();
    assert!(
        reason.contains(&format!("the payload signs another image: {other}")),
        "{reason}"
    );
    // No signatures at all for an unsigned digest.
    let e = image::verify_image(
        &store,
        k.public_key(),
        &format!("sha256:{}", "cd".repeat(32)),
    )
    .unwrap_err();
    assert!(
        e.is_not_verified() && e.to_string().contains("no signatures"),
        "{e}"
    );
}

#[test]
fn attestations_in_a_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let digest = layout(tmp.path());
    let mut store = OciLayout::open(tmp.path()).unwrap();
    let (k, _) = SigningKey::generate_ecdsa_p256().unwrap();
    let bom = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}"#;
    let s = image::attest_image(
        &mut store,
        &k,
        &digest,
        "example/app",
        PredicateKind::Cyclonedx,
        bom,
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    assert_eq!(s.tag, format!("sha256-{}.att", &digest[7..]));
    image::attest_image(
        &mut store,
        &k,
        &digest,
        "example/app",
        PredicateKind::Custom,
        b"hello",
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    assert_eq!(store.resolve_image(None).unwrap().digest, digest);
    let v = image::verify_attestations(&store, k.public_key(), &digest, None).unwrap();
    assert!(v.verified);
    assert_eq!(v.attestations.len(), 2);
    assert_eq!(
        v.attestations[0].predicate.as_ref().unwrap()["bomFormat"],
        "CycloneDX"
    );
    assert_eq!(
        v.attestations[1].predicate.as_ref().unwrap()["Data"],
        "hello"
    );
    let v = image::verify_attestations(&store, k.public_key(), &digest, Some(PredicateKind::Spdx))
        .unwrap();
    assert!(!v.verified);
    assert!(
        v.attestations[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("is not the requested https://spdx.dev/Document")
    );
    let (k2, _) = SigningKey::generate_ecdsa_p256().unwrap();
    let v = image::verify_attestations(&store, k2.public_key(), &digest, None).unwrap();
    assert!(!v.verified);
}

#[test]
fn parsers_never_panic_on_truncated_or_flipped_keys() {
    let Some(c) = corpus() else { return };
    let d = c.join("sigstore-rs/tests/data/keys");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(c.join("cosign/release/release-cosign.pub"));
    for f in files {
        let text = std::fs::read(&f).unwrap();
        let der = moat_sign::pem::parse(&text, "k").unwrap().der;
        for cut in (0..der.len()).step_by(7) {
            let mut flipped = der.clone();
            flipped[cut] ^= 0x55;
            for input in [&der[..cut], &flipped[..]] {
                let _ = PublicKey::from_spki_der(input, "k");
                let _ = SigningKey::from_pkcs8(input, "k");
                let _ = moat_sign::encrypted::parse(input, "k");
                let pem = moat_sign::pem::encode("PRIVATE KEY", input);
                let _ = SigningKey::from_pem(pem.as_bytes(), "k", &mut || {
                    Err(SignError::Password("no".into()))
                });
            }
        }
        for cut in (0..text.len()).step_by(11) {
            let _ = PublicKey::from_pem(&text[..cut], "k");
            let _ = SigningKey::from_pem(&text[..cut], "k", &mut || {
                Err(SignError::Password("no".into()))
            });
        }
    }
}
