//! Signatures and attestations in a real registry (Debian's `docker-registry` on 127.0.0.1,
//! the image pushed with `skopeo`, the registry read back with `curl`), and `moat scan
//! --require-signature` with `--key` and `--trust-policy`, for registry images and OCI layouts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::registry::*;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const SIG_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

fn moat_pw(home: &Path, args: &[&str]) -> Output {
    run(isolated(home).env("MOAT_PASSWORD", "pw").args(args))
}

/// A key pair PREFIX.key / PREFIX.pub (password "pw") in `home`.
fn keypair(home: &Path, prefix: &str) {
    let o = moat_pw(home, &["key", "generate", "--output-key-prefix", prefix]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// A small one-layer image as an OCI layout whose image is named `latest`.
fn small_layout(dir: &Path, marker: &str) -> PathBuf {
    debian_layout(dir, &[("bash", "5.2.15-2+b2")], marker)
}

/// An advisory for the layouts' bash (fixed in 5.2.15-2+b3), in `home/adv`.
fn advisories(home: &Path) -> String {
    let dir = home.join("adv");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("osv.json"),
        r#"{"id":"OSV-TEST-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"bash"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"5.2.15-2+b3"}]}]}]}"#,
    )
    .unwrap();
    dir.display().to_string()
}

/// The CycloneDX report of a scan of the small layout: bash, with OSV-TEST-1.
fn assert_bom(bom: &serde_json::Value) {
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert!(
        bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "bash"),
        "{bom}"
    );
    assert_eq!(bom["vulnerabilities"][0]["id"], "OSV-TEST-1", "{bom}");
}

fn curl(args: &[&str]) -> Vec<u8> {
    let o = Command::new("curl")
        .args(["-sS", "--fail"])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "curl {args:?}: {}", stderr(&o));
    o.stdout
}

fn get_manifest(host: &str, repo: &str, reference: &str) -> Vec<u8> {
    curl(&[
        "-H",
        &format!("Accept: {OCI_MANIFEST}, {OCI_INDEX}"),
        &format!("http://{host}/v2/{repo}/manifests/{reference}"),
    ])
}

fn get_blob(host: &str, repo: &str, digest: &str) -> Vec<u8> {
    curl(&["-L", &format!("http://{host}/v2/{repo}/blobs/{digest}")])
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap()
}

/// Uploads a blob as a client would (POST, then PUT with the digest); returns its digest.
fn push_blob(dir: &Path, host: &str, repo: &str, data: &[u8]) -> String {
    let digest = sha256(data);
    let file = dir.join("upload.bin");
    std::fs::write(&file, data).unwrap();
    let head = curl(&[
        "-X",
        "POST",
        "-D",
        "-",
        "-o",
        "/dev/null",
        &format!("http://{host}/v2/{repo}/blobs/uploads/"),
    ]);
    let head = String::from_utf8(head).unwrap();
    let location = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("Location: ")
                .or_else(|| l.strip_prefix("location: "))
        })
        .unwrap()
        .trim()
        .to_string();
    let location = if location.starts_with("http") {
        location
    } else {
        format!("http://{host}{location}")
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("{location}{sep}digest={digest}"),
    ]);
    digest
}

fn put_manifest(dir: &Path, host: &str, repo: &str, tag: &str, media_type: &str, bytes: &[u8]) {
    let file = dir.join("manifest.json");
    std::fs::write(&file, bytes).unwrap();
    curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("Content-Type: {media_type}"),
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("http://{host}/v2/{repo}/manifests/{tag}"),
    ]);
}

/// Sign, verify, accumulate, the `.sig` manifest field by field, a wrong key, a tampered
/// payload, an index, an attestation, and `scan --require-signature` with a trust policy.
#[test]
fn registry_signatures_attestations_and_trust_policy() {
    if !registry_tools() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let reg = start_registry(&home.join("reg"), "", "");
    let host = format!("127.0.0.1:{}", reg.port);
    let img = small_layout(&home.join("img"), "one");
    skopeo_push(
        &img,
        &format!("{host}/team/app:v1"),
        &["--dest-tls-verify=false"],
    );
    let manifest = get_manifest(&host, "team/app", "v1");
    let digest = sha256(&manifest);
    let hex = &digest[7..];
    let sig_tag = format!("sha256-{hex}.sig");
    let target = format!("{host}/team/app:v1");
    keypair(home, "a");
    keypair(home, "b");
    keypair(home, "c");

    // Unsigned: exit 1, the reason names the tag cosign would use.
    let o = moat_pw(home, &["verify", &target, "--key", "a.pub"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "not verified: no signatures: {host}/team/app has no {sig_tag} manifest"
        )),
        "{}",
        stderr(&o)
    );

    // Sign with a key whose password comes from COSIGN_PASSWORD (MOAT_PASSWORD unset).
    let o = run(isolated(home)
        .env_remove("MOAT_PASSWORD")
        .env("COSIGN_PASSWORD", "pw")
        .args(["sign", &target, "--key", "a.key", "-a", "team=blue"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("Signed {target} ({digest}) with key sha256:"))
            && stderr(&o).contains(&format!("stored as {host}/team/app:{sig_tag}")),
        "{}",
        stderr(&o)
    );
    let o = moat_pw(home, &["verify", &target, "--key", "a.pub"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("signature 0: verified: sha256:")
            && stdout(&o).contains(&format!(
                "signed {digest} as \"{host}/team/app\" annotations {{\"team\":\"blue\"}}"
            )),
        "{}",
        stdout(&o)
    );

    // A second signature (by digest, with the registry: prefix) accumulates.
    let by_digest = format!("registry:{host}/team/app@{digest}");
    let o = moat_pw(home, &["sign", &by_digest, "--key", "b.key"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for k in ["a.pub", "b.pub"] {
        let o = moat_pw(home, &["verify", &by_digest, "--key", k, "-f", "json"]);
        assert_eq!(code(&o), 0, "{k}: {}", stderr(&o));
        let v = json(&o.stdout);
        assert_eq!(v["verified"], true);
        assert_eq!(v["digest"], digest.as_str());
        assert_eq!(v["signatures"].as_array().unwrap().len(), 2);
    }

    // The .sig manifest, field by field (COSIGN_FORMAT.md section 2).
    let sig_manifest = json(&get_manifest(&host, "team/app", &sig_tag));
    assert_eq!(sig_manifest["schemaVersion"], 2);
    assert_eq!(sig_manifest["mediaType"], OCI_MANIFEST);
    assert_eq!(
        sig_manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let layers = sig_manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    let config = json(&get_blob(
        &host,
        "team/app",
        sig_manifest["config"]["digest"].as_str().unwrap(),
    ));
    assert_eq!(config["rootfs"]["type"], "layers");
    let diff_ids: Vec<&str> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let layer_digests: Vec<&str> = layers
        .iter()
        .map(|l| l["digest"].as_str().unwrap())
        .collect();
    assert_eq!(diff_ids, layer_digests);
    for (i, l) in layers.iter().enumerate() {
        assert_eq!(l["mediaType"], SIMPLE_SIGNING, "layer {i}");
        let anns = l["annotations"].as_object().unwrap();
        assert_eq!(anns.len(), 1, "layer {i}: {anns:?}");
        let sig = anns[SIG_ANNOTATION].as_str().unwrap();
        assert!(sig.len() > 80 && !sig.contains('\n'), "{sig}");
        let payload = get_blob(&host, "team/app", l["digest"].as_str().unwrap());
        assert_eq!(payload.len() as u64, l["size"].as_u64().unwrap());
        let p = json(&payload);
        assert_eq!(
            p["critical"]["image"]["docker-manifest-digest"],
            digest.as_str()
        );
        assert_eq!(p["critical"]["type"], "cosign container image signature");
        assert_eq!(
            p["critical"]["identity"]["docker-reference"],
            format!("{host}/team/app")
        );
    }
    assert_eq!(
        json(&get_blob(&host, "team/app", layer_digests[0]))["optional"]["team"],
        "blue"
    );

    // Another key: exit 1 with the reason for each signature.
    let o = moat_pw(home, &["verify", &target, "--key", "c.pub"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains(&format!(
            "not verified: none of the 2 signature(s) of {digest} verifies with key sha256:"
        )),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains(
            "signature 0: not verified: the signature does not match the content for key"
        ) && stdout(&o).contains("signature 1: not verified"),
        "{}",
        stdout(&o)
    );

    // A tampered payload pushed in place of the first signature's (same signature): exit 1.
    let good = get_manifest(&host, "team/app", &sig_tag);
    let original = get_blob(&host, "team/app", layer_digests[0]);
    let tampered = String::from_utf8(original.clone())
        .unwrap()
        .replace(&format!("{host}/team/app"), "evil.example/app");
    assert_ne!(tampered.as_bytes(), original.as_slice());
    let tampered_digest = push_blob(home, &host, "team/app", tampered.as_bytes());
    let mut m = json(&good);
    m["layers"] = serde_json::json!([{
        "mediaType": SIMPLE_SIGNING,
        "digest": tampered_digest,
        "size": tampered.len(),
        "annotations": layers[0]["annotations"].clone(),
    }]);
    put_manifest(
        home,
        &host,
        "team/app",
        &sig_tag,
        OCI_MANIFEST,
        &serde_json::to_vec(&m).unwrap(),
    );
    let o = moat_pw(home, &["verify", &target, "--key", "a.pub"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("signature 0: not verified: the signature does not match the content"),
        "{}",
        stdout(&o)
    );
    put_manifest(home, &host, "team/app", &sig_tag, OCI_MANIFEST, &good);
    // A registry that serves other bytes than the digest names (its storage changed):
    // the second signature's payload is reported as modified.
    let hex1 = &layer_digests[1][7..];
    let data = reg
        .storage
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex1[..2])
        .join(hex1)
        .join("data");
    let saved = std::fs::read(&data).unwrap();
    std::fs::write(&data, tampered.as_bytes()).unwrap();
    let o = moat_pw(home, &["verify", &target, "--key", "b.pub"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!(
            "signature 1: not verified: tampered payload: blob {} was modified: its content has digest {tampered_digest}",
            layer_digests[1]
        )),
        "{}",
        stdout(&o)
    );
    std::fs::write(&data, saved).unwrap();

    // A tag naming an index: signed by the index's digest, as cosign does.
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": manifest.len(),
                       "platform": {"os": "linux", "architecture": "amd64"}}],
    }))
    .unwrap();
    put_manifest(home, &host, "team/app", "multi", OCI_INDEX, &index);
    let index_digest = sha256(&index);
    let multi = format!("{host}/team/app:multi");
    let o = moat_pw(home, &["sign", &multi, "--key", "a.key"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("Signed {multi} (the index {index_digest})")),
        "{}",
        stderr(&o)
    );
    let m = json(&get_manifest(
        &host,
        "team/app",
        &format!("sha256-{}.sig", &index_digest[7..]),
    ));
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    let o = moat_pw(home, &["verify", &multi, "--key", "a.pub"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // An attestation round trip.
    std::fs::write(
        home.join("bom.json"),
        br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}"#,
    )
    .unwrap();
    let o = moat_pw(
        home,
        &[
            "attest",
            &target,
            "--key",
            "a.key",
            "--predicate",
            "bom.json",
            "--type",
            "cyclonedx",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("stored as {host}/team/app:sha256-{hex}.att")),
        "{}",
        stderr(&o)
    );
    let att = json(&get_manifest(
        &host,
        "team/app",
        &format!("sha256-{hex}.att"),
    ));
    let layer = &att["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
    assert_eq!(
        layer["annotations"]["predicateType"],
        "https://cyclonedx.org/bom"
    );
    let o = moat_pw(
        home,
        &[
            "verify-attestation",
            &target,
            "--key",
            "a.pub",
            "--type",
            "cyclonedx",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(json(&o.stdout)["bomFormat"], "CycloneDX");
    let o = moat_pw(home, &["verify-attestation", &target, "--key", "c.pub"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));

    // scan --require-signature against the registry, with a trust policy.
    let policy = home.join("policy.toml");
    let adv = advisories(home);
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--scanners",
            "secret",
            "-q",
            "-f",
            "json",
            "--require-signature",
        ];
        args.extend_from_slice(extra);
        moat_pw(home, &args)
    };
    std::fs::write(
        &policy,
        format!("trusted-registries = [\"{host}/team\"]\n[[signers]]\nkey = \"a.pub\"\n"),
    )
    .unwrap();
    let o = scan(&[&target, "--trust-policy", policy.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o.stdout);
    assert_eq!(v["signature"]["verified"], true);
    assert_eq!(v["signature"]["digest"], digest.as_str());
    assert_eq!(v["signature"]["key"], home.join("a.pub").to_str().unwrap());
    // Scanned by the digest that was verified.
    assert_eq!(v["artifact"]["name"], format!("{target}@{digest}"));
    assert_eq!(v["artifact"]["manifest_digest"], digest.as_str());

    // A signer whose scope does not cover the image does not count.
    std::fs::write(
        &policy,
        format!("[[signers]]\nkey = \"a.pub\"\nscope = [\"{host}/other\"]\n"),
    )
    .unwrap();
    let o = scan(&[&target, "--trust-policy", policy.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no key is allowed for this image"),
        "{}",
        stderr(&o)
    );

    // Untrusted registry: exit 1 before any signature is read.
    std::fs::write(
        &policy,
        "trusted-registries = [\"registry.example.com\"]\n[[signers]]\nkey = \"a.pub\"\n",
    )
    .unwrap();
    let o = scan(&[&target, "--trust-policy", policy.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let reason = format!(
        "{host}/team/app is not in a trusted registry (the trust policy's trusted-registries: registry.example.com)"
    );
    assert!(
        stderr(&o).contains(&format!("moat: signature required: {reason}")),
        "{}",
        stderr(&o)
    );
    let v = json(&o.stdout);
    assert_eq!(v["signature"]["verified"], false);
    assert_eq!(v["signature"]["reason"], reason.as_str());

    // --attest with --require-signature: the scan's CycloneDX report attached to the
    // verified digest.
    std::fs::write(
        &policy,
        format!("trusted-registries = [\"{host}\"]\n[[signers]]\nkey = \"a.pub\"\n"),
    )
    .unwrap();
    let o = scan(&[
        &target,
        "--trust-policy",
        policy.to_str().unwrap(),
        "--attest",
        "--key",
        "b.key",
        "--scanners",
        "vuln",
        "--advisories",
        &adv,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = moat_pw(
        home,
        &[
            "verify-attestation",
            &target,
            "--key",
            "b.pub",
            "--type",
            "cyclonedx",
            "-f",
            "json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o.stdout);
    let atts = v["attestations"].as_array().unwrap();
    assert_eq!(atts.len(), 2, "{v}");
    assert_bom(&atts[1]["predicate"]);

    // Signed, but by another key.
    let o = scan(&[&target, "--key", "c.pub"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "no signature of {digest} in {host}/team/app verifies with an allowed key (c.pub)"
        )),
        "{}",
        stderr(&o)
    );
}

/// `scan --require-signature` on OCI layouts: signed and allowed passes (the verdict in the
/// JSON report), unsigned fails, signed by another key fails, usage errors exit 2.
#[test]
fn require_signature_on_layouts() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    keypair(home, "a");
    keypair(home, "b");
    let signed = small_layout(&home.join("signed"), "signed");
    let unsigned = small_layout(&home.join("unsigned"), "unsigned");
    let signed_t = format!("oci:{}", signed.display());
    let unsigned_t = format!("oci:{}", unsigned.display());
    let o = moat_pw(home, &["sign", &signed_t, "--key", "a.key"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let index = json(&std::fs::read(signed.join("index.json")).unwrap());
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--scanners",
            "secret",
            "-f",
            "json",
            "--require-signature",
        ];
        args.extend_from_slice(extra);
        moat_pw(home, &args)
    };

    let o = scan(&[&signed_t, "--key", "b.pub", "--key", "a.pub"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "moat: signature verified: {digest} signed by a.pub (sha256:"
        )),
        "{}",
        stderr(&o)
    );
    let v = json(&o.stdout);
    assert_eq!(v["signature"]["verified"], true);
    assert_eq!(v["signature"]["digest"], digest.as_str());
    assert_eq!(v["signature"]["location"], signed_t.as_str());
    assert!(v["artifact"].is_object() && v["signature"]["reason"].is_null());

    // A policy's unscoped signer counts for layouts too.
    std::fs::write(home.join("p.toml"), "[[signers]]\nkey = \"a.pub\"\n").unwrap();
    let o = scan(&[&signed_t, "--trust-policy", "p.toml"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let o = scan(&[&unsigned_t, "--key", "a.pub"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o.stdout);
    assert_eq!(v["signature"]["verified"], false);
    let reason = v["signature"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("no signatures: oci:"), "{reason}");
    assert!(
        stderr(&o).contains("moat: signature required: no signatures"),
        "{}",
        stderr(&o)
    );
    assert!(v.get("results").is_none(), "no scan: {v}");

    let o = scan(&[&signed_t, "--key", "b.pub"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "verifies with an allowed key (b.pub): the signature does not match the content"
        ),
        "{}",
        stderr(&o)
    );

    // --attest: the scan's CycloneDX report as an attestation in the layout.
    let o = moat_pw(
        home,
        &[
            "scan",
            "--scanners",
            "vuln",
            "--advisories",
            &advisories(home),
            "-q",
            &signed_t,
            "--attest",
            "--key",
            "b.key",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = moat_pw(
        home,
        &[
            "verify-attestation",
            &signed_t,
            "--key",
            "b.pub",
            "--type",
            "cyclonedx",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_bom(&json(&o.stdout));
    let o = moat_pw(
        home,
        &[
            "scan",
            "--scanners",
            "secret",
            &signed_t,
            "--attest",
            "--key",
            "b.pub",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--key b.pub: a public key; --attest signs with a private key"),
        "{}",
        stderr(&o)
    );
    let o = scan(&[&signed_t, "--key", "a.key"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--key a.key: not a public key"),
        "{}",
        stderr(&o)
    );

    // Usage errors: no key at all; a key without --require-signature; a broken policy.
    let o = scan(&[&signed_t]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--require-signature needs a key"),
        "{}",
        stderr(&o)
    );
    let o = moat_pw(
        home,
        &["scan", "--scanners", "secret", &signed_t, "--key", "a.pub"],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    std::fs::write(home.join("bad.toml"), "trusted-registries = 3\n").unwrap();
    let o = scan(&[&signed_t, "--trust-policy", "bad.toml"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("bad.toml: invalid TOML"),
        "{}",
        stderr(&o)
    );
    let o = scan(&[&format!("dir:{}", home.display()), "--key", "a.pub"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--require-signature applies to registry images and oci: layouts"),
        "{}",
        stderr(&o)
    );
}

/// `COSIGN_REPOSITORY`: signatures and attestations are written to and read from another
/// repository, as cosign does; the image's own repository gets no `.sig` tag.
#[test]
fn cosign_repository_keeps_signatures_in_another_repository() {
    if !registry_tools() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let reg = start_registry(&home.join("reg"), "", "");
    let host = format!("127.0.0.1:{}", reg.port);
    let img = small_layout(&home.join("img"), "elsewhere");
    skopeo_push(
        &img,
        &format!("{host}/team/app:v1"),
        &["--dest-tls-verify=false"],
    );
    let digest = sha256(&get_manifest(&host, "team/app", "v1"));
    let sig_tag = format!("sha256-{}.sig", &digest[7..]);
    let target = format!("{host}/team/app:v1");
    let sigs = format!("{host}/signatures/app");
    keypair(home, "a");
    let with_repo = |args: &[&str]| {
        run(isolated(home)
            .env("MOAT_PASSWORD", "pw")
            .env("COSIGN_REPOSITORY", &sigs)
            .args(args))
    };

    let o = with_repo(&["sign", &target, "--key", "a.key"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("stored as {sigs}:{sig_tag}")),
        "{}",
        stderr(&o)
    );
    // The payload still names the image, not the signature repository.
    let sig_manifest = json(&get_manifest(&host, "signatures/app", &sig_tag));
    let layer = sig_manifest["layers"][0]["digest"].as_str().unwrap();
    let payload = json(&get_blob(&host, "signatures/app", layer));
    assert_eq!(
        payload["critical"]["identity"]["docker-reference"],
        format!("{host}/team/app")
    );
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        digest
    );
    // Nothing in the image's repository.
    let o = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://{host}/v2/team/app/manifests/{sig_tag}"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "404");

    let o = with_repo(&["verify", &target, "--key", "a.pub"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = moat_pw(home, &["verify", &target, "--key", "a.pub"]);
    assert_eq!(code(&o), 1, "without COSIGN_REPOSITORY: {}", stderr(&o));
    let o = with_repo(&[
        "scan",
        "--offline",
        "--scanners",
        "secret",
        "--require-signature",
        "--key",
        "a.pub",
        &target,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("signature verified"), "{}", stderr(&o));

    // A tag in COSIGN_REPOSITORY is refused (it names a repository).
    let o = run(isolated(home)
        .env("COSIGN_REPOSITORY", format!("{sigs}:v1"))
        .args(["verify", &target, "--key", "a.pub"]));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a repository, without a tag or digest"),
        "{}",
        stderr(&o)
    );
}
