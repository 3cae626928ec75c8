//! Test helper: tiny images built in memory and written as an OCI image layout, in the
//! manner of moat-image's and moat-cli's test helpers (copied, not shared, across crates).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use sha2::{Digest, Sha256};
use std::path::Path;

pub fn sha256(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// One tar entry of a test layer.
#[derive(Clone)]
pub enum E {
    /// A regular file, mode 0644.
    File(&'static str, Vec<u8>),
    /// A regular file with a mode.
    Mode(&'static str, u32, Vec<u8>),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    Hardlink(&'static str, &'static str),
    /// `.wh.<name>` beside the path: deletes it from lower layers.
    Whiteout(&'static str),
    /// `<dir>/.wh..wh..opq`: hides the directory's lower contents.
    Opaque(&'static str),
}

/// An uncompressed layer tar from entries.
pub fn tar(entries: &[E]) -> Vec<u8> {
    fn file(b: &mut tar::Builder<Vec<u8>>, h: &mut tar::Header, p: &str, mode: u32, data: &[u8]) {
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        b.append_data(h, p, data).unwrap();
    }
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        match e {
            E::File(p, data) => file(&mut b, &mut h, p, 0o644, data),
            E::Mode(p, mode, data) => file(&mut b, &mut h, p, *mode, data),
            E::Whiteout(p) => {
                let w = match p.rsplit_once('/') {
                    Some((d, n)) => format!("{d}/.wh.{n}"),
                    None => format!(".wh.{p}"),
                };
                file(&mut b, &mut h, &w, 0o644, b"")
            }
            E::Opaque(d) => file(&mut b, &mut h, &format!("{d}/.wh..wh..opq"), 0o644, b""),
            E::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            E::Symlink(p, t) | E::Hardlink(p, t) => {
                h.set_entry_type(if matches!(e, E::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, p, t).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// Writes an OCI image layout with one image of uncompressed `layers` to `dir`.
pub fn write_oci(dir: &Path, layers: &[Vec<E>]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let d = sha256(b);
        std::fs::write(blobs.join(&d[7..]), b).unwrap();
        d
    };
    let tars: Vec<Vec<u8>> = layers.iter().map(|l| tar(l)).collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": tars.iter().map(|t| sha256(t)).collect::<Vec<_>>()},
        "history": tars.iter().enumerate().map(|(i, _)| serde_json::json!({"created_by": format!("RUN step {i}")})).collect::<Vec<_>>(),
    });
    let cfg = serde_json::to_vec(&config).unwrap();
    let ldesc: Vec<serde_json::Value> = tars
        .iter()
        .map(|t| serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": put(t), "size": t.len()}))
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(&cfg), "size": cfg.len()},
        "layers": ldesc,
    });
    let man = serde_json::to_vec(&manifest).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(&man), "size": man.len()}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// Writes the image to a fresh temporary directory and opens it.
pub fn open(layers: &[Vec<E>]) -> (tempfile::TempDir, moat_image::Source) {
    let dir = tempfile::tempdir().unwrap();
    write_oci(dir.path(), layers);
    let source = moat_image::open(
        &moat_image::TargetSpec::Oci(dir.path().to_path_buf()),
        &moat_image::OpenOptions::default(),
    )
    .unwrap();
    (dir, source)
}

/// A Debian os-release.
pub const OS_RELEASE: &[u8] = b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";

/// A dpkg status file with installed packages (name, version).
pub fn status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::new();
    for (n, v) in pkgs {
        s.push_str(&format!(
            "Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\nDescription: test\n\n"
        ));
    }
    s.into_bytes()
}
