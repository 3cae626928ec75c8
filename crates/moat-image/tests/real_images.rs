//! Tests over the real images built by `shared/images/build-all.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_image::{OpenOptions, Source, TargetSpec, open};
use moat_model::ArtifactKind;
use std::path::PathBuf;

fn images_dir() -> Option<PathBuf> {
    let base = std::env::var("MOAT_IMAGES").unwrap_or_else(|_| "/var/tmp/moat-images".into());
    let out = PathBuf::from(base).join("out");
    if out.join("debian-base.oci").is_dir() {
        return Some(out);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but the test images are missing in {}",
            out.display()
        );
    }
    println!(
        "skipped: no test images in {} (run shared/images/build-all.sh)",
        out.display()
    );
    None
}

/// What must agree across formats.
#[derive(Debug, PartialEq)]
struct Summary {
    config_digest: Option<String>,
    diff_ids: Vec<Option<String>>,
    created_by: Vec<Option<String>>,
    platform: Option<String>,
    working_dir: Option<String>,
    cmd: Vec<String>,
}

fn read_all(spec: &str, expect_kind: ArtifactKind) -> (Summary, moat_model::Artifact) {
    let spec = TargetSpec::parse(spec).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.kind(), expect_kind);
    let Source::Image(img) = open(&spec, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"))
    else {
        panic!("not an image")
    };
    assert_eq!(img.layer_count(), img.artifact.layers.len());
    // Read all layers concurrently, as the scan engine will.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..img.layer_count())
            .map(|i| {
                let img = &img;
                s.spawn(move || {
                    let mut r = img.open_layer(i).unwrap_or_else(|e| panic!("{e}"));
                    let progress = r.progress();
                    let mut n = 0;
                    let mut tar = tar::Archive::new(&mut r);
                    for e in tar.entries().unwrap_or_else(|e| panic!("{e}")) {
                        let _ = e.unwrap_or_else(|e| panic!("{e}"));
                        n += 1;
                    }
                    assert!(n > 0, "layer {i} has entries");
                    let stats = r.finish().unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(
                        progress.load(std::sync::atomic::Ordering::Relaxed),
                        stats.stored_bytes
                    );
                    if let Some(size) = img.artifact.layers[i].size {
                        assert_eq!(stats.stored_bytes, size);
                    }
                    assert!(stats.uncompressed_bytes >= 1024);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap_or_else(|_| panic!("layer thread panicked"));
        }
    });
    let a = img.artifact;
    let cfg = a.config.clone().unwrap_or_default();
    let summary = Summary {
        config_digest: a.config_digest.clone(),
        diff_ids: a.layers.iter().map(|l| l.diff_id.clone()).collect(),
        created_by: a.layers.iter().map(|l| l.created_by.clone()).collect(),
        platform: a.platform.as_ref().map(|p| p.to_string()),
        working_dir: cfg.working_dir,
        cmd: cfg.cmd,
    };
    (summary, a)
}

#[test]
fn all_formats_agree() {
    let Some(out) = images_dir() else { return };
    let expected_layers = [
        ("debian-base", 1),
        ("debian-tools", 2),
        ("lang-app", 5),
        ("secrets-leak", 3),
    ];
    for (image, n) in expected_layers {
        let p = |suffix: &str| out.join(format!("{image}{suffix}")).display().to_string();
        let (docker, da) = read_all(&p(".docker.tar"), ArtifactKind::DockerArchive);
        let (ociar, oa) = read_all(
            &format!("oci-archive:{}", p(".oci.tar")),
            ArtifactKind::OciArchive,
        );
        let (ocidir, od) = read_all(&p(".oci"), ArtifactKind::Oci);
        assert_eq!(docker, ociar, "{image}: docker-archive vs oci-archive");
        assert_eq!(docker, ocidir, "{image}: docker-archive vs oci dir");
        assert_eq!(docker.diff_ids.len(), n, "{image}");
        assert_eq!(docker.platform.as_deref(), Some("linux/amd64"));
        assert!(
            docker.created_by.iter().all(Option::is_some),
            "{image}: every layer has created_by"
        );
        assert_eq!(
            docker.created_by[0].as_deref(),
            Some("debootstrap --variant=minbase bookworm")
        );

        assert_eq!(da.name, format!("localhost/bench/{image}:latest"));
        assert_eq!(
            da.repo_tags,
            vec![format!("localhost/bench/{image}:latest")]
        );
        assert_eq!(da.manifest_digest, None);
        // skopeo's docker-archive layers are uncompressed and named by their diff_id.
        for l in &da.layers {
            assert_eq!(l.digest, l.diff_id);
        }
        assert_eq!(oa.name, format!("{image}.oci.tar:latest"));
        assert_eq!(od.name, format!("{image}.oci:latest"));
        assert!(oa.manifest_digest.is_some());
        assert_eq!(oa.manifest_digest, od.manifest_digest);
        for l in &oa.layers {
            assert_eq!(
                l.media_type.as_deref(),
                Some("application/vnd.oci.image.layer.v1.tar+gzip")
            );
            assert_ne!(l.digest, l.diff_id);
        }
    }
}

#[test]
fn lang_app_config_and_history() {
    let Some(out) = images_dir() else { return };
    let (_, a) = read_all(
        &out.join("lang-app.oci").display().to_string(),
        ArtifactKind::Oci,
    );
    let cfg = a.config.unwrap_or_default();
    assert_eq!(cfg.working_dir.as_deref(), Some("/app"));
    assert_eq!(cfg.cmd, vec!["/usr/local/bin/benchgoapp".to_string()]);
    assert!(cfg.env.contains(&"APP_ENV=bench".to_string()));
    let created_by: Vec<_> = a
        .layers
        .iter()
        .map(|l| l.created_by.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        created_by[2],
        "RUN pip install -r /app/python/requirements.txt"
    );
    assert_eq!(
        created_by[4],
        "COPY app payloads (node_modules, go, rust, java, ruby)"
    );
    assert!(cfg.history.iter().any(|h| h.empty_layer));
    assert!(cfg.history.len() > a.layers.len());
}

#[test]
fn docker25_matches_docker_classic() {
    let Some(out) = images_dir() else { return };
    let (d25, a25) = read_all(
        &out.join("secrets-leak.docker25.tar").display().to_string(),
        ArtifactKind::DockerArchive,
    );
    let (classic, _) = read_all(
        &out.join("secrets-leak.docker.tar").display().to_string(),
        ArtifactKind::DockerArchive,
    );
    assert_eq!(d25, classic);
    assert_eq!(a25.name, "localhost/bench/secrets-leak:latest");
    // The OCI layout inside the archive supplies the manifest digest and media types.
    let md = a25.manifest_digest.clone().unwrap_or_default();
    assert!(md.starts_with("sha256:") && md.len() == 71, "{md}");
    for l in &a25.layers {
        assert_eq!(
            l.media_type.as_deref(),
            Some("application/vnd.oci.image.layer.v1.tar")
        );
        assert_eq!(l.digest, l.diff_id);
    }
    let cfg = a25.config.unwrap_or_default();
    assert!(
        cfg.env
            .iter()
            .any(|e| e.starts_with("AWS_SECRET_ACCESS_KEY="))
    );
    // --image selection by suffix works on the real archive, and a wrong name lists the right one.
    let spec = TargetSpec::parse(&out.join("secrets-leak.docker25.tar").display().to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = OpenOptions {
        image: Some("secrets-leak:latest".into()),
        ..OpenOptions::default()
    };
    assert!(open(&spec, &opts).is_ok());
    let opts = OpenOptions {
        image: Some("nope:1".into()),
        ..OpenOptions::default()
    };
    let err = open(&spec, &opts)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("localhost/bench/secrets-leak:latest"), "{err}");
}
