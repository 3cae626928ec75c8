//! Opening every supported format built by the test helper; detection; selection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use moat_image::{
    Image, ImageError, LayerStats, OpenOptions, Source, TargetSpec, open, parse_platform,
};
use moat_model::ArtifactKind;
use std::io::Read;
use std::path::Path;

fn spec(s: &str) -> TargetSpec {
    TargetSpec::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn image(s: &str, opts: &OpenOptions) -> Image {
    match open(&spec(s), opts).unwrap_or_else(|e| panic!("{e}")) {
        Source::Image(i) => i,
        Source::Directory { .. } => panic!("not an image"),
    }
}

fn open_err(s: &str, opts: &OpenOptions) -> ImageError {
    match open(&spec(s), opts) {
        Ok(_) => panic!("{s}: expected an error"),
        Err(e) => e,
    }
}

/// Read a layer fully: its files (path, content) and the stats from finish().
fn read_layer(img: &Image, i: usize) -> (Vec<(String, Vec<u8>)>, LayerStats) {
    let mut r = img.open_layer(i).unwrap_or_else(|e| panic!("{e}"));
    let mut files = Vec::new();
    {
        let mut ar = tar::Archive::new(&mut r);
        for e in ar.entries().unwrap_or_else(|e| panic!("{e}")) {
            let mut e = e.unwrap_or_else(|e| panic!("{e}"));
            let path = e
                .path()
                .unwrap_or_else(|e| panic!("{e}"))
                .display()
                .to_string();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap_or_else(|e| panic!("{e}"));
            files.push((path, data));
        }
    }
    let stats = r.finish().unwrap_or_else(|e| panic!("{e}"));
    (files, stats)
}

fn sample() -> TestImage {
    TestImage::new()
        .layer(
            &[("etc/os-release", b"ID=debian\n"), ("bin/sh", b"ELF")],
            Comp::Gzip,
        )
        .layer(&[("app/main.py", b"print(1)\n")], Comp::Zstd)
        .layer(&[("app/.env", b"X=1\n")], Comp::Plain)
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn check_sample(img: &Image, t: &TestImage) {
    let a = &img.artifact;
    assert_eq!(img.layer_count(), 3);
    assert_eq!(
        a.config_digest.as_deref(),
        Some(sha256(&t.config_json()).as_str())
    );
    assert_eq!(
        a.platform.as_ref().map(|p| p.to_string()).as_deref(),
        Some("linux/amd64")
    );
    let created: Vec<_> = a
        .layers
        .iter()
        .map(|l| l.created_by.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(created, ["RUN step 1", "RUN step 2", "RUN step 3"]);
    for (l, tl) in a.layers.iter().zip(&t.layers) {
        assert_eq!(l.diff_id.as_deref(), Some(tl.diff_id().as_str()));
    }
    let cfg = a.config.clone().unwrap_or_default();
    assert_eq!(cfg.user.as_deref(), Some("app"));
    assert_eq!(cfg.working_dir.as_deref(), Some("/srv"));
    assert_eq!(cfg.cmd, ["/bin/sh"]);
    assert_eq!(cfg.env, ["PATH=/usr/bin", "A=1"]);
    assert_eq!(cfg.exposed_ports, ["443/tcp", "80/tcp"]);
    assert_eq!(
        cfg.labels.get("org.example").map(String::as_str),
        Some("yes")
    );
    assert_eq!(cfg.history.len(), 5);
    assert_eq!(cfg.history.iter().filter(|h| h.empty_layer).count(), 2);

    let (files, stats) = read_layer(img, 0);
    assert_eq!(
        files,
        [
            ("etc/os-release".to_string(), b"ID=debian\n".to_vec()),
            ("bin/sh".into(), b"ELF".to_vec())
        ]
    );
    assert_eq!(stats.stored_bytes, t.layers[0].stored.len() as u64);
    assert_eq!(stats.uncompressed_bytes, t.layers[0].tar.len() as u64);
    let (files, stats) = read_layer(img, 1);
    assert_eq!(files, [("app/main.py".to_string(), b"print(1)\n".to_vec())]);
    assert_eq!(stats.stored_bytes, t.layers[1].stored.len() as u64);
    let (files, stats) = read_layer(img, 2);
    assert_eq!(files, [("app/.env".to_string(), b"X=1\n".to_vec())]);
    assert_eq!(stats.stored_bytes, stats.uncompressed_bytes);
    assert!(matches!(
        img.open_layer(3),
        Err(ImageError::LayerOutOfRange {
            index: 3,
            count: 3,
            ..
        })
    ));
}

#[test]
fn docker_archive_classic_with_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let t = sample();
    write_tar(
        &dir.path().join("img.tar"),
        &docker_classic_items(&[(&t, vec!["example.com/app:1.0"])], true),
    );
    let s = spec(&p(dir.path(), "img.tar"));
    assert_eq!(s.kind(), ArtifactKind::DockerArchive);
    let img = image(&p(dir.path(), "img.tar"), &OpenOptions::default());
    check_sample(&img, &t);
    let a = &img.artifact;
    assert_eq!(a.name, "example.com/app:1.0");
    assert_eq!(a.repo_tags, ["example.com/app:1.0"]);
    assert_eq!(a.manifest_digest, None);
    // The `<id>/layer.tar` symlinks lead to `<digest>.tar`, whose name is checked.
    for (l, tl) in a.layers.iter().zip(&t.layers) {
        assert_eq!(l.digest.as_deref(), Some(tl.digest().as_str()));
        assert_eq!(l.size, Some(tl.stored.len() as u64));
    }
}

#[test]
fn docker_archive_hardlinks_and_untagged() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Gzip);
    let mut items = docker_classic_items(&[(&t, vec![])], false);
    // Re-point the manifest at a hardlink to the layer file.
    let layer_file = format!("{}.tar", hex_of(&t.layers[0].digest()));
    items.retain(|i| !matches!(i, Item::File(n, _) if n == "manifest.json"));
    items.push(Item::Hardlink("legacy/layer.tar".into(), layer_file));
    let cfg = format!("{}.json", hex_of(&sha256(&t.config_json())));
    let manifest =
        serde_json::json!([{"Config": cfg, "RepoTags": null, "Layers": ["legacy/layer.tar"]}]);
    items.push(Item::File(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    write_tar(&dir.path().join("x.tar"), &items);
    let img = image(&p(dir.path(), "x.tar"), &OpenOptions::default());
    assert_eq!(img.artifact.name, "x.tar");
    assert!(img.artifact.repo_tags.is_empty());
    assert_eq!(
        img.artifact.layers[0].digest.as_deref(),
        Some(t.layers[0].digest().as_str())
    );
    assert_eq!(read_layer(&img, 0).0, [("a".to_string(), b"1".to_vec())]);
}

#[test]
fn docker25_archive() {
    let dir = tempfile::tempdir().unwrap();
    let t = sample();
    write_tar(
        &dir.path().join("d25.tar"),
        &docker25_items(&t, "registry.local/team/app:2"),
    );
    assert_eq!(
        spec(&p(dir.path(), "d25.tar")).kind(),
        ArtifactKind::DockerArchive
    );
    let img = image(&p(dir.path(), "d25.tar"), &OpenOptions::default());
    check_sample(&img, &t);
    let a = &img.artifact;
    assert_eq!(a.kind, ArtifactKind::DockerArchive);
    assert_eq!(a.name, "registry.local/team/app:2");
    assert!(
        a.manifest_digest
            .as_deref()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    let media: Vec<_> = a
        .layers
        .iter()
        .map(|l| l.media_type.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        media,
        [
            media_type(Comp::Gzip),
            media_type(Comp::Zstd),
            media_type(Comp::Plain)
        ]
    );
}

#[test]
fn oci_dir_and_archive() {
    let dir = tempfile::tempdir().unwrap();
    let t = sample();
    let mut layout = Layout::default();
    // umoci style: the manifest itself has no mediaType; the index entry gives it.
    let d = layout.image(&t, false);
    layout.manifests.push(with_ref(d, "latest"));
    layout.write_dir(&dir.path().join("lay"));
    layout.write_tar(&dir.path().join("lay.tar"));

    let s = spec(&p(dir.path(), "lay"));
    assert_eq!(s, TargetSpec::Oci(dir.path().join("lay")));
    let img = image(&p(dir.path(), "lay"), &OpenOptions::default());
    check_sample(&img, &t);
    assert_eq!(img.artifact.name, "lay:latest");
    assert!(img.artifact.repo_tags.is_empty());
    let md = img.artifact.manifest_digest.clone();

    assert_eq!(
        spec(&p(dir.path(), "lay.tar")).kind(),
        ArtifactKind::OciArchive
    );
    let img = image(
        &format!("oci-archive:{}", p(dir.path(), "lay.tar")),
        &OpenOptions::default(),
    );
    check_sample(&img, &t);
    assert_eq!(img.artifact.kind, ArtifactKind::OciArchive);
    assert_eq!(img.artifact.manifest_digest, md);
    let media: Vec<_> = img
        .artifact
        .layers
        .iter()
        .map(|l| l.media_type.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        media,
        [
            media_type(Comp::Gzip),
            media_type(Comp::Zstd),
            media_type(Comp::Plain)
        ]
    );
    for (l, tl) in img.artifact.layers.iter().zip(&t.layers) {
        assert_eq!(l.digest.as_deref(), Some(tl.digest().as_str()));
        assert_eq!(l.size, Some(tl.stored.len() as u64));
    }
}

#[test]
fn oci_descriptor_without_media_type_is_sniffed() {
    let dir = tempfile::tempdir().unwrap();
    let t = sample();
    let mut layout = Layout::default();
    let mut d = layout.image(&t, false);
    d.as_object_mut().unwrap().remove("mediaType");
    layout.manifests.push(d);
    layout.write_dir(&dir.path().join("lay"));
    let img = image(&p(dir.path(), "lay"), &OpenOptions::default());
    assert_eq!(img.artifact.name, "lay");
    check_sample(&img, &t);
}

/// index.json -> nested index (named `multi:1`) -> amd64, arm64/v8, arm/v7 manifests.
fn multi_arch(dir: &Path) -> (String, Vec<TestImage>) {
    let amd = TestImage::new().layer(&[("arch", b"amd64")], Comp::Gzip);
    let arm64 = TestImage::new()
        .layer(&[("arch", b"arm64")], Comp::Gzip)
        .platform("linux", "arm64", Some("v8"));
    let arm = TestImage::new()
        .layer(&[("arch", b"armv7")], Comp::Zstd)
        .platform("linux", "arm", Some("v7"));
    let mut layout = Layout::default();
    let ds = vec![
        with_platform(layout.image(&amd, true), "linux", "amd64", None),
        with_platform(layout.image(&arm64, true), "linux", "arm64", Some("v8")),
        with_platform(layout.image(&arm, true), "linux", "arm", Some("v7")),
    ];
    let nested = layout.index(ds);
    layout
        .manifests
        .push(with_ref(nested, "example.com/multi:1"));
    let path = dir.join("multi");
    layout.write_dir(&path);
    (path.display().to_string(), vec![amd, arm64, arm])
}

#[test]
fn platform_selection() {
    let dir = tempfile::tempdir().unwrap();
    let (path, imgs) = multi_arch(dir.path());
    let with = |pl: &str| OpenOptions {
        platform: Some(parse_platform(pl).unwrap()),
        ..OpenOptions::default()
    };

    let img = image(&path, &with("linux/arm64"));
    assert_eq!(
        img.artifact
            .platform
            .as_ref()
            .map(|p| p.to_string())
            .as_deref(),
        Some("linux/arm64/v8")
    );
    assert_eq!(img.artifact.name, "example.com/multi:1");
    assert_eq!(img.artifact.repo_tags, ["example.com/multi:1"]);
    assert_eq!(
        read_layer(&img, 0).0,
        [("arch".to_string(), b"arm64".to_vec())]
    );
    assert_eq!(
        img.artifact.layers[0].diff_id.as_deref(),
        Some(imgs[1].layers[0].diff_id().as_str())
    );

    let img = image(&path, &with("linux/arm/v7"));
    assert_eq!(
        read_layer(&img, 0).0,
        [("arch".to_string(), b"armv7".to_vec())]
    );

    let img = image(&path, &with("linux/amd64"));
    assert_eq!(
        read_layer(&img, 0).0,
        [("arch".to_string(), b"amd64".to_vec())]
    );

    // The default is the host's platform.
    let host = moat_image::host_platform();
    if ["amd64", "arm64"].contains(&host.architecture.as_str()) {
        let img = image(&path, &OpenOptions::default());
        assert_eq!(
            img.artifact
                .platform
                .as_ref()
                .map(|p| p.architecture.clone()),
            Some(host.architecture)
        );
    }

    let e = open_err(&path, &with("linux/s390x"));
    assert!(matches!(e, ImageError::NoMatchingPlatform { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{path}: no image for platform linux/s390x; available: linux/amd64, linux/arm64/v8, linux/arm/v7"
        )
    );
    let e = open_err(&path, &with("linux/arm/v6"));
    assert!(
        e.to_string().contains("no image for platform linux/arm/v6"),
        "{e}"
    );
}

#[test]
fn explicit_platform_must_match_a_single_image() {
    let dir = tempfile::tempdir().unwrap();
    let t = sample();
    write_tar(
        &dir.path().join("a.tar"),
        &docker_classic_items(&[(&t, vec!["a:1"])], false),
    );
    let opts = OpenOptions {
        platform: Some(parse_platform("linux/arm64").unwrap()),
        ..OpenOptions::default()
    };
    let e = open_err(&p(dir.path(), "a.tar"), &opts);
    assert!(
        e.to_string()
            .ends_with("no image for platform linux/arm64; available: linux/amd64"),
        "{e}"
    );
}

#[test]
fn nested_index_depth_limit() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Plain);
    let mut layout = Layout::default();
    let mut d = layout.image(&t, true);
    for _ in 0..9 {
        d = layout.index(vec![d]);
    }
    layout.manifests.push(d);
    layout.write_dir(&dir.path().join("deep"));
    let e = open_err(&p(dir.path(), "deep"), &OpenOptions::default());
    assert!(matches!(e, ImageError::TooDeep { limit: 8, .. }), "{e}");

    // Seven levels are fine.
    let mut layout = Layout::default();
    let mut d = layout.image(&t, true);
    for _ in 0..7 {
        d = layout.index(vec![d]);
    }
    layout.manifests.push(d);
    layout.write_dir(&dir.path().join("ok"));
    assert_eq!(
        image(&p(dir.path(), "ok"), &OpenOptions::default()).layer_count(),
        1
    );
}

#[test]
fn image_selection_docker() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestImage::new().layer(&[("who", b"a")], Comp::Plain);
    let b = TestImage::new().layer(&[("who", b"b")], Comp::Gzip);
    write_tar(
        &dir.path().join("two.tar"),
        &docker_classic_items(
            &[
                (&a, vec!["reg.io/team/alpha:1"]),
                (&b, vec!["reg.io/team/beta:1", "beta:2"]),
            ],
            true,
        ),
    );
    let path = p(dir.path(), "two.tar");
    let sel = |s: &str| OpenOptions {
        image: Some(s.into()),
        ..OpenOptions::default()
    };

    let e = open_err(&path, &OpenOptions::default());
    assert!(matches!(e, ImageError::AmbiguousImage { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "{path}: several images, choose one with --image: reg.io/team/alpha:1, reg.io/team/beta:1, beta:2"
        )
    );
    let img = image(&path, &sel("reg.io/team/alpha:1"));
    assert_eq!(read_layer(&img, 0).0, [("who".to_string(), b"a".to_vec())]);
    let img = image(&path, &sel("beta:2"));
    assert_eq!(img.artifact.name, "reg.io/team/beta:1");
    assert_eq!(read_layer(&img, 0).0, [("who".to_string(), b"b".to_vec())]);
    let img = image(&path, &sel("team/alpha:1"));
    assert_eq!(img.artifact.name, "reg.io/team/alpha:1");
    // A selector without a tag means `:latest`, as in Docker.
    let e = open_err(&path, &sel("alpha"));
    assert!(matches!(e, ImageError::NoMatchingImage { .. }), "{e}");
    // `1` is the tag of both images: ambiguous.
    let e = open_err(&path, &sel("1"));
    assert!(matches!(e, ImageError::AmbiguousImage { .. }), "{e}");
    let e = open_err(&path, &sel("gamma:1"));
    assert_eq!(
        e.to_string(),
        format!(
            "{path}: no image matches \"gamma:1\"; available: reg.io/team/alpha:1, reg.io/team/beta:1, beta:2"
        )
    );
    // By config digest.
    let img = image(&path, &sel(&sha256(&b.config_json())));
    assert_eq!(img.artifact.name, "reg.io/team/beta:1");
}

#[test]
fn image_selection_oci() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestImage::new().layer(&[("who", b"a")], Comp::Gzip);
    let b = TestImage::new().layer(&[("who", b"b")], Comp::Gzip);
    let mut layout = Layout::default();
    let da = layout.image(&a, true);
    let db = layout.image(&b, true);
    layout.manifests.push(with_ref(da, "v1"));
    let mut db = db;
    db["annotations"] = serde_json::json!({"io.containerd.image.name": "docker.io/library/b:v2", "org.opencontainers.image.ref.name": "v2"});
    layout.manifests.push(db);
    layout.write_tar(&dir.path().join("two.oci.tar"));
    let path = p(dir.path(), "two.oci.tar");
    let sel = |s: &str| OpenOptions {
        image: Some(s.into()),
        ..OpenOptions::default()
    };

    let e = open_err(&path, &OpenOptions::default());
    assert!(matches!(e, ImageError::AmbiguousImage { .. }));
    assert!(
        e.to_string().contains("v1 (") || e.to_string().contains("v1,"),
        "{e}"
    );
    assert!(e.to_string().contains("docker.io/library/b:v2 / v2"), "{e}");
    let img = image(&path, &sel("v1"));
    assert_eq!(img.artifact.name, "two.oci.tar:v1");
    assert_eq!(read_layer(&img, 0).0, [("who".to_string(), b"a".to_vec())]);
    let img = image(&path, &sel("docker.io/library/b:v2"));
    assert_eq!(img.artifact.name, "docker.io/library/b:v2");
    assert_eq!(img.artifact.repo_tags, ["docker.io/library/b:v2"]);
    let img = image(&path, &sel("b:v2"));
    assert_eq!(read_layer(&img, 0).0, [("who".to_string(), b"b".to_vec())]);
    let e = open_err(&path, &sel("v3"));
    assert!(matches!(e, ImageError::NoMatchingImage { .. }), "{e}");
}

#[test]
fn detection_and_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // rootfs markers
    for marker in [
        "etc/os-release",
        "var/lib/dpkg/status.d",
        "lib/apk/db/installed",
        "usr/lib/sysimage/rpm",
    ] {
        let root = d.join(format!("root-{}", marker.replace('/', "_")));
        let m = root.join(marker);
        std::fs::create_dir_all(m.parent().unwrap()).unwrap();
        if marker.ends_with(".d") || marker.ends_with("rpm") {
            std::fs::create_dir_all(&m).unwrap();
        } else {
            std::fs::write(&m, b"x").unwrap();
        }
        assert_eq!(
            spec(&root.display().to_string()),
            TargetSpec::Rootfs(root.clone()),
            "{marker}"
        );
    }
    // a plain directory, with a colon in its name
    let plain = d.join("proj:v1");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join("package.json"), b"{}").unwrap();
    assert_eq!(
        spec(&plain.display().to_string()),
        TargetSpec::Dir(plain.clone())
    );
    match open(&spec(&plain.display().to_string()), &OpenOptions::default()).unwrap() {
        Source::Directory { artifact, root } => {
            assert_eq!(root, plain);
            assert_eq!(artifact.kind, ArtifactKind::Dir);
            assert_eq!(artifact.name, plain.display().to_string());
            assert_eq!(artifact.path, plain.display().to_string());
            assert!(artifact.layers.is_empty());
        }
        Source::Image(_) => panic!("dir opened as image"),
    }
    // prefixes win over detection; the rest is the path, colons included
    assert_eq!(
        spec(&format!("rootfs:{}", plain.display())),
        TargetSpec::Rootfs(plain.clone())
    );
    assert_eq!(spec("dir:/x:y"), TargetSpec::Dir("/x:y".into()));
    assert_eq!(
        spec("docker-archive:/tmp/a:b.tar"),
        TargetSpec::DockerArchive("/tmp/a:b.tar".into())
    );
    assert_eq!(spec("oci:C:x").path(), Path::new("C:x"));
    assert_eq!(spec("oci-archive:rel.tar").kind(), ArtifactKind::OciArchive);
    assert!(matches!(
        TargetSpec::parse("oci:"),
        Err(ImageError::InvalidSpec { .. })
    ));
    // an unknown prefix is part of the path
    assert!(matches!(
        TargetSpec::parse("C:x"),
        Err(ImageError::NotFound { .. })
    ));
    let e = TargetSpec::parse("/nonexistent/a:b").unwrap_err();
    assert_eq!(e.to_string(), "/nonexistent/a:b: no such file or directory");

    // a docker archive whose name has a colon
    let t = TestImage::new().layer(&[("a", b"1")], Comp::Plain);
    let arch = d.join("img:latest.tar");
    write_tar(&arch, &docker_classic_items(&[(&t, vec!["x:1"])], false));
    assert_eq!(
        spec(&arch.display().to_string()),
        TargetSpec::DockerArchive(arch.clone())
    );

    // other files
    std::fs::write(
        d.join("notes.txt"),
        b"hello, this is not a tar archive at all",
    )
    .unwrap();
    let e = TargetSpec::parse(&p(d, "notes.txt")).unwrap_err();
    assert!(matches!(e, ImageError::UnknownTarget { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("{}: not a recognised target", p(d, "notes.txt"))),
        "{e}"
    );
    write_tar(
        &d.join("plain.tar"),
        &[Item::File("hello.txt".into(), b"hi".to_vec())],
    );
    let e = TargetSpec::parse(&p(d, "plain.tar")).unwrap_err();
    assert!(
        e.to_string()
            .contains("without manifest.json or oci-layout"),
        "{e}"
    );
    // a gzip-compressed archive is rejected with a clear message, with and without prefix
    let gz = compress(&std::fs::read(&arch).unwrap(), Comp::Gzip);
    std::fs::write(d.join("img.tar.gz"), gz).unwrap();
    let e = TargetSpec::parse(&p(d, "img.tar.gz")).unwrap_err();
    assert!(
        matches!(
            e,
            ImageError::CompressedArchive {
                compression: "gzip",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("decompress it first"));
    let e = open_err(
        &format!("docker-archive:{}", p(d, "img.tar.gz")),
        &OpenOptions::default(),
    );
    assert!(matches!(e, ImageError::CompressedArchive { .. }), "{e:?}");
    // kind/path mismatches
    let e = open_err(&format!("oci:{}", arch.display()), &OpenOptions::default());
    assert!(
        e.to_string()
            .contains("oci: needs an OCI image layout directory"),
        "{e}"
    );
    let e = open_err(
        &format!("docker-archive:{}", plain.display()),
        &OpenOptions::default(),
    );
    assert!(e.to_string().contains("needs a tar file"), "{e}");
}

#[test]
fn layers_read_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = TestImage::new();
    for i in 0..6u8 {
        let data = vec![i; 100_000];
        t = t.layer(
            &[("f", &data)],
            [Comp::Gzip, Comp::Zstd, Comp::Plain][usize::from(i % 3)],
        );
    }
    write_tar(
        &dir.path().join("c.tar"),
        &docker_classic_items(&[(&t, vec!["c:1"])], true),
    );
    let img = image(&p(dir.path(), "c.tar"), &OpenOptions::default());
    std::thread::scope(|s| {
        for round in 0..3 {
            for i in 0..img.layer_count() {
                let img = &img;
                s.spawn(move || {
                    let (files, _) = read_layer(img, i);
                    assert_eq!(
                        files[0].1,
                        vec![i as u8; 100_000],
                        "round {round} layer {i}"
                    );
                });
            }
        }
    });
}
