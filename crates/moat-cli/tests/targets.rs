//! End-to-end over the bundled example image and over rootfs and dir targets assembled
//! from the real package-database fixtures of ../shared (apk, rpm sqlite / BerkeleyDB /
//! NDB, distroless dpkg).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_of(args: &[&str]) -> Value {
    let o = moat(args);
    assert!(o.status.success(), "moat {args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap_or(""),
                p["version"].as_str().unwrap_or("")
            )
        })
        .collect();
    n.sort();
    n
}

#[test]
fn bundled_example_inventory_table_and_layers() {
    let ex = repo().join("examples/debian-mini.oci");
    let o = moat(["inventory", ex.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    golden("example-inventory.txt", &stdout(&o));
    let v = json_of(&["sbom", ex.to_str().expect("utf-8"), "--format", "json"]);
    assert_eq!(v["artifact"]["kind"], "oci");
    assert_eq!(v["artifact"]["os"]["id"], "debian");
    // libexpat1 was purged by layer 1; curl came with it; libc6 is from layer 0
    let layer = |n: &str| {
        v["packages"]
            .as_array()
            .expect("p")
            .iter()
            .find(|p| p["name"] == n)
            .map(|p| p["layer"].clone())
    };
    assert_eq!(layer("libexpat1"), None);
    assert_eq!(layer("curl"), Some(Value::from(1)));
    assert_eq!(layer("libc6"), Some(Value::from(0)));
    // licences through a symlinked doc directory (libncursesw6 -> libtinfo6)
    let nc = v["packages"]
        .as_array()
        .expect("p")
        .iter()
        .find(|p| p["name"] == "libncursesw6")
        .expect("ncurses");
    assert!(
        nc["licenses"]
            .as_array()
            .expect("licenses")
            .iter()
            .any(|l| l == "X11"),
        "{nc}"
    );
    assert_eq!(v["packages"].as_array().expect("p").len(), 10);
}

#[test]
fn sbom_formats_of_the_example_are_valid() {
    let Some(peers) = peers() else { return };
    let ex = repo().join("examples/debian-mini.oci");
    let d = tempfile::tempdir().expect("tempdir");
    for (fmt, val) in [
        ("cyclonedx", "validate-cyclonedx"),
        ("spdx-json", "validate-spdx"),
    ] {
        let f = d.path().join(format!("x.{fmt}.json"));
        let o = moat([
            "sbom",
            ex.to_str().expect("utf-8"),
            "--format",
            fmt,
            "-o",
            f.to_str().expect("utf-8"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let st = std::process::Command::new(peers.join(val))
            .arg(&f)
            .status()
            .expect("validator");
        assert!(st.success(), "{fmt} invalid");
    }
}

/// Makes a rootfs with the given files copied from ../shared fixtures.
fn rootfs(files: &[(&str, PathBuf)], extra: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for (dst, src) in files {
        let p = d.path().join(dst);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::copy(src, &p).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    }
    for (dst, text) in extra {
        let p = d.path().join(dst);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    d
}

#[test]
fn alpine_rootfs_with_a_real_apk_database() {
    let Some(sh) = shared() else { return };
    let fx = sh.join("data/fixtures/apk/syft/multiple-2/lib/apk/db/installed");
    let d = rootfs(
        &[("lib/apk/db/installed", fx.clone())],
        &[(
            "etc/os-release",
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        )],
    );
    let v = json_of(&[
        "inventory",
        &format!("rootfs:{}", d.path().display()),
        "--format",
        "json",
    ]);
    let expected = std::fs::read_to_string(&fx)
        .expect("fixture")
        .lines()
        .filter(|l| l.starts_with("P:"))
        .count();
    assert_eq!(v["packages"].as_array().expect("p").len(), expected);
    let p = &v["packages"][0];
    assert_eq!(p["type"], "apk");
    assert!(
        p["purl"]
            .as_str()
            .expect("purl")
            .starts_with("pkg:apk/alpine/"),
        "{p}"
    );
    assert!(
        p["purl"]
            .as_str()
            .expect("purl")
            .contains("distro=alpine-3.19.1"),
        "{p}"
    );
    assert_eq!(p["ecosystem"], "Alpine:v3.19");
    assert!(p.get("layer").is_none(), "rootfs packages have no layer");
    assert_eq!(v["artifact"]["kind"], "rootfs");
}

#[test]
fn rpm_rootfs_in_all_three_database_formats() {
    let Some(sh) = shared() else { return };
    let rpm = sh.join("data/fixtures/rpm");
    let cases: [(&str, PathBuf, &str, usize); 3] = [
        (
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            rpm.join("go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite"),
            "ID=mariner\nVERSION_ID=\"2.0\"\n",
            0,
        ),
        (
            "var/lib/rpm/Packages",
            rpm.join("go-rpmdb/libuuid/Packages"),
            "ID=\"centos\"\nVERSION_ID=\"7\"\n",
            0,
        ),
        (
            "usr/lib/sysimage/rpm/Packages.db",
            rpm.join("go-rpmdb/sle15-bci/Packages.db"),
            "ID=\"sles\"\nVERSION_ID=\"15.3\"\n",
            0,
        ),
    ];
    for (dst, src, osr, _) in cases {
        // the engine must give what the reader gives, with purls for the distro
        let direct =
            moat_pkgdb::rpm::read(&std::fs::read(&src).expect("fixture")).expect("fixture reads");
        let d = rootfs(&[(dst, src.clone())], &[("etc/os-release", osr)]);
        let v = json_of(&[
            "inventory",
            &format!("rootfs:{}", d.path().display()),
            "--format",
            "json",
        ]);
        let pk = v["packages"].as_array().expect("packages");
        assert_eq!(pk.len(), direct.packages.len(), "{}", src.display());
        assert!(!pk.is_empty());
        for p in pk {
            assert_eq!(p["type"], "rpm");
            let purl = p["purl"].as_str().expect("purl");
            assert!(
                purl.starts_with(&format!(
                    "pkg:rpm/{}/",
                    v["artifact"]["os"]["id"].as_str().expect("os")
                )),
                "{purl}"
            );
            assert!(purl.contains("arch=") || p.get("arch").is_none(), "{purl}");
        }
        assert!(
            v["diagnostics"].as_array().expect("w").is_empty(),
            "{}",
            v["diagnostics"]
        );
    }
}

#[test]
fn distroless_dpkg_status_d_without_os_release() {
    let Some(sh) = shared() else { return };
    let root = sh.join("data/fixtures/dpkg/syft-image-distroless-deb");
    let v = json_of(&[
        "inventory",
        &format!("rootfs:{}", root.display()),
        "--format",
        "json",
    ]);
    assert_eq!(names(&v), vec!["libsqlite3-0 3.34.1-3"]);
    assert_eq!(v["artifact"]["os"]["distroless"], true);
    assert_eq!(v["artifact"]["os"]["id"], "debian");
    let p = &v["packages"][0];
    assert_eq!(
        p["locations"][0]["path"],
        "/var/lib/dpkg/status.d/libsqlite3-0"
    );
    assert!(
        p["file_count"].as_u64().unwrap_or(0) > 0,
        "files from status.d/*.md5sums: {p}"
    );
    assert!(
        !p["licenses"].as_array().expect("licenses").is_empty(),
        "{p}"
    );
}

#[test]
fn dir_target_is_detected_and_scans_without_layers() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("README"), "a project").expect("write");
    let v = json_of(&[
        "inventory",
        d.path().to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(v["artifact"]["kind"], "dir");
    assert_eq!(v["packages"].as_array().expect("p").len(), 0);
    assert!(
        v["artifact"]["layers"]
            .as_array()
            .expect("layers")
            .is_empty()
    );
}

#[test]
fn hardlinks_whiteouts_and_opaque_dirs_across_layers() {
    let d = tempfile::tempdir().expect("tempdir");
    let l0 = TestLayer::gz(
        &[
            // os-release reached through a hardlink to a file read earlier in the layer
            E::File(
                "usr/lib/os-release",
                b"ID=debian\nVERSION_ID=\"11\"\nPRETTY_NAME=\"Debian 11\"\n".to_vec(),
            ),
            E::Hardlink("etc/os-release", "usr/lib/os-release"),
            E::File(
                "var/lib/dpkg/status",
                status(&[("base-files", "11.1"), ("old", "1.0")]),
            ),
            E::File("var/lib/dpkg/info/old.list", b"/usr/bin/old\n".to_vec()),
            E::File(
                "var/lib/rpm/Packages",
                b"junk that a later layer hides".to_vec(),
            ),
        ],
        "base",
    );
    let l1 = TestLayer::gz(
        &[
            // the opaque var/lib/rpm hides the broken rpm database of layer 0
            E::File("var/lib/rpm/.wh..wh..opq", vec![]),
            E::File(
                "var/lib/dpkg/status",
                status(&[("base-files", "11.1"), ("new", "2.0")]),
            ),
            E::File("var/lib/dpkg/info/.wh.old.list", vec![]),
        ],
        "RUN swap old for new",
    );
    let l2 = TestLayer::gz(
        &[E::File("usr/lib/.wh.os-release", vec![])],
        "RUN rm /usr/lib/os-release",
    );
    write_oci(d.path(), &[l0, l1, l2]);
    let v = json_of(&[
        "inventory",
        &format!("oci:{}", d.path().display()),
        "--format",
        "json",
    ]);
    assert_eq!(names(&v), vec!["base-files 11.1", "new 2.0"]);
    let layer = |n: &str| {
        v["packages"]
            .as_array()
            .expect("p")
            .iter()
            .find(|p| p["name"] == n)
            .map(|p| p["layer"].clone())
    };
    assert_eq!(layer("base-files"), Some(Value::from(0)));
    assert_eq!(layer("new"), Some(Value::from(1)));
    // usr/lib/os-release is gone; etc/os-release, the hardlink to it analysed in layer 0, remains
    assert_eq!(v["artifact"]["os"]["version"], "11");
    // the rpm junk of layer 0 is reported (it was in a layer) but yields no packages
    let w = v["diagnostics"].as_array().expect("warnings");
    assert!(
        w.iter()
            .any(|w| w["path"] == "/var/lib/rpm/Packages" && w["layer"] == 0),
        "{w:?}"
    );
    assert_eq!(
        v["artifact"]["layers"][2]["created_by"],
        "RUN rm /usr/lib/os-release"
    );
}
