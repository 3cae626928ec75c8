//! Test helper: builds tiny images in memory and writes them in every format moat reads.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comp {
    Plain,
    Gzip,
    Zstd,
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

pub fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// An uncompressed layer tar from (path, bytes) pairs.
pub fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append_data(&mut h, path, *data).expect("append");
    }
    b.into_inner().expect("finish tar")
}

pub fn compress(bytes: &[u8], comp: Comp) -> Vec<u8> {
    match comp {
        Comp::Plain => bytes.to_vec(),
        Comp::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).expect("gzip");
            e.finish().expect("gzip")
        }
        Comp::Zstd => zstd::encode_all(bytes, 1).expect("zstd"),
    }
}

pub fn media_type(comp: Comp) -> &'static str {
    match comp {
        Comp::Plain => "application/vnd.oci.image.layer.v1.tar",
        Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

#[derive(Debug, Clone)]
pub struct TestLayer {
    pub tar: Vec<u8>,
    pub stored: Vec<u8>,
    pub comp: Comp,
    pub created_by: String,
}

impl TestLayer {
    pub fn diff_id(&self) -> String {
        sha256(&self.tar)
    }
    pub fn digest(&self) -> String {
        sha256(&self.stored)
    }
}

/// A small image: layers plus a config.
#[derive(Debug, Clone)]
pub struct TestImage {
    pub layers: Vec<TestLayer>,
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
    /// Replaces the computed diff_ids when set.
    pub diff_ids: Option<Vec<String>>,
}

impl TestImage {
    pub fn new() -> Self {
        TestImage {
            layers: Vec::new(),
            os: "linux".into(),
            arch: "amd64".into(),
            variant: None,
            diff_ids: None,
        }
    }
    pub fn layer(mut self, files: &[(&str, &[u8])], comp: Comp) -> Self {
        let tar = layer_tar(files);
        let stored = compress(&tar, comp);
        let created_by = format!("RUN step {}", self.layers.len() + 1);
        self.layers.push(TestLayer {
            tar,
            stored,
            comp,
            created_by,
        });
        self
    }
    /// A layer whose stored bytes are given as is (for corrupt/bomb layers).
    pub fn raw_layer(mut self, tar: Vec<u8>, stored: Vec<u8>, comp: Comp) -> Self {
        let created_by = format!("RUN step {}", self.layers.len() + 1);
        self.layers.push(TestLayer {
            tar,
            stored,
            comp,
            created_by,
        });
        self
    }
    pub fn platform(mut self, os: &str, arch: &str, variant: Option<&str>) -> Self {
        self.os = os.into();
        self.arch = arch.into();
        self.variant = variant.map(Into::into);
        self
    }
    pub fn config_json(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self
            .diff_ids
            .clone()
            .unwrap_or_else(|| self.layers.iter().map(TestLayer::diff_id).collect());
        let mut history = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            history.push(json!({"created": "2024-01-01T00:00:00Z", "created_by": l.created_by}));
            if i == 0 {
                history.push(json!({"created_by": "ENV A=1", "empty_layer": true}));
            }
        }
        history.push(json!({"created_by": "CMD [\"/bin/sh\"]", "empty_layer": true}));
        let mut cfg = json!({
            "created": "2024-01-01T00:00:00Z",
            "architecture": self.arch,
            "os": self.os,
            "config": {
                "User": "app",
                "Env": ["PATH=/usr/bin", "A=1"],
                "Cmd": ["/bin/sh"],
                "WorkingDir": "/srv",
                "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
                "Labels": {"org.example": "yes"}
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Some(v) = &self.variant {
            cfg["variant"] = json!(v);
        }
        serde_json::to_vec(&cfg).expect("json")
    }
}

/// Items of an outer tar.
pub enum Item {
    File(String, Vec<u8>),
    Symlink(String, String),
    Hardlink(String, String),
    Dir(String),
}

pub fn write_tar(path: &Path, items: &[Item]) {
    let f = std::fs::File::create(path).expect("create");
    let mut b = tar::Builder::new(f);
    for item in items {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        match item {
            Item::File(name, data) => {
                h.set_size(data.len() as u64);
                h.set_entry_type(tar::EntryType::Regular);
                h.set_cksum();
                b.append_data(&mut h, name, data.as_slice())
                    .expect("append");
            }
            Item::Symlink(name, target) | Item::Hardlink(name, target) => {
                h.set_size(0);
                h.set_entry_type(if matches!(item, Item::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                b.append_link(&mut h, name, target).expect("link");
            }
            Item::Dir(name) => {
                h.set_size(0);
                h.set_mode(0o755);
                h.set_entry_type(tar::EntryType::Directory);
                h.set_cksum();
                b.append_data(&mut h, name, std::io::empty()).expect("dir");
            }
        }
    }
    b.finish().expect("finish");
}

/// An OCI image layout being assembled in memory.
#[derive(Default)]
pub struct Layout {
    pub blobs: Vec<(String, Vec<u8>)>,
    pub manifests: Vec<Value>,
}

impl Layout {
    pub fn blob(&mut self, bytes: Vec<u8>) -> Value {
        let d = sha256(&bytes);
        let size = bytes.len();
        if !self.blobs.iter().any(|(k, _)| *k == d) {
            self.blobs.push((d.clone(), bytes));
        }
        json!({"digest": d, "size": size})
    }

    /// Add an image; returns the manifest descriptor (with mediaType) for an index.
    pub fn image(&mut self, img: &TestImage, manifest_media_type: bool) -> Value {
        let mut config = self.blob(img.config_json());
        config["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
        let layers: Vec<Value> = img
            .layers
            .iter()
            .map(|l| {
                let mut d = self.blob(l.stored.clone());
                d["mediaType"] = json!(media_type(l.comp));
                d
            })
            .collect();
        let mut m = json!({"schemaVersion": 2, "config": config, "layers": layers});
        if manifest_media_type {
            m["mediaType"] = json!("application/vnd.oci.image.manifest.v1+json");
        }
        let mut d = self.blob(serde_json::to_vec(&m).expect("json"));
        d["mediaType"] = json!("application/vnd.oci.image.manifest.v1+json");
        d
    }

    /// Add a nested index over the given descriptors; returns its descriptor.
    pub fn index(&mut self, manifests: Vec<Value>) -> Value {
        let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        let mut d = self.blob(serde_json::to_vec(&idx).expect("json"));
        d["mediaType"] = json!("application/vnd.oci.image.index.v1+json");
        d
    }

    pub fn index_json(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": self.manifests})).expect("json")
    }

    fn items(&self) -> Vec<Item> {
        let mut items = vec![
            Item::File(
                "oci-layout".into(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ),
            Item::File("index.json".into(), self.index_json()),
            Item::Dir("blobs/".into()),
            Item::Dir("blobs/sha256/".into()),
        ];
        for (d, bytes) in &self.blobs {
            items.push(Item::File(
                format!("blobs/sha256/{}", hex_of(d)),
                bytes.clone(),
            ));
        }
        items
    }

    pub fn write_dir(&self, dir: &Path) {
        std::fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
        for item in self.items() {
            if let Item::File(name, bytes) = item {
                std::fs::write(dir.join(name), bytes).expect("write");
            }
        }
    }

    pub fn write_tar(&self, path: &Path) {
        write_tar(path, &self.items());
    }
}

pub fn with_ref(mut desc: Value, name: &str) -> Value {
    desc["annotations"] = json!({"org.opencontainers.image.ref.name": name});
    desc
}

pub fn with_platform(mut desc: Value, os: &str, arch: &str, variant: Option<&str>) -> Value {
    let mut p = json!({"os": os, "architecture": arch});
    if let Some(v) = variant {
        p["variant"] = json!(v);
    }
    desc["platform"] = p;
    desc
}

/// A classic `docker save` archive as skopeo writes it: `<hex>.json` config,
/// `<diffID>.tar` layers and `<id>/layer.tar` symlinks (the manifest names the symlinks
/// when `via_symlinks`).
pub fn docker_classic_items(images: &[(&TestImage, Vec<&str>)], via_symlinks: bool) -> Vec<Item> {
    let mut items = Vec::new();
    let mut manifest = Vec::new();
    for (n, (img, tags)) in images.iter().enumerate() {
        let cfg = img.config_json();
        let cfg_name = format!("{}.json", hex_of(&sha256(&cfg)));
        items.push(Item::File(cfg_name.clone(), cfg));
        let mut layer_names = Vec::new();
        for (i, l) in img.layers.iter().enumerate() {
            let file = format!("{}.tar", hex_of(&l.digest()));
            items.push(Item::File(file.clone(), l.stored.clone()));
            if via_symlinks {
                let id = format!("{:064x}", n * 100 + i + 1);
                items.push(Item::Symlink(
                    format!("{id}/layer.tar"),
                    format!("../{file}"),
                ));
                layer_names.push(format!("{id}/layer.tar"));
            } else {
                layer_names.push(file);
            }
        }
        manifest.push(json!({"Config": cfg_name, "RepoTags": tags, "Layers": layer_names}));
    }
    items.push(Item::File(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).expect("json"),
    ));
    items
}

/// A Docker 25+ `docker save`: OCI layout plus manifest.json naming `blobs/sha256/...`.
pub fn docker25_items(img: &TestImage, tag: &str) -> Vec<Item> {
    let mut layout = Layout::default();
    let mut desc = layout.image(img, true);
    desc["annotations"] =
        json!({"io.containerd.image.name": tag, "org.opencontainers.image.ref.name": "latest"});
    layout.manifests.push(desc);
    let cfg = sha256(&img.config_json());
    let manifest = json!([{
        "Config": format!("blobs/sha256/{}", hex_of(&cfg)),
        "RepoTags": [tag],
        "Layers": img.layers.iter().map(|l| format!("blobs/sha256/{}", hex_of(&l.digest()))).collect::<Vec<_>>(),
    }]);
    let mut items = layout.items();
    items.push(Item::File(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).expect("json"),
    ));
    items
}
