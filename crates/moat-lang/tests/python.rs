//! Python parsers against every PyPI fixture (expectations from `tests/data/python/gen.py`),
//! truncated inputs, and the lang-app image.

use std::path::{Path, PathBuf};
use std::process::Command;

use moat_lang::{LangParsed, python};

fn data_root() -> Option<PathBuf> {
    let root = PathBuf::from(std::env::var("MOAT_DATA").unwrap_or("/work/shared/data".into()));
    if root.join("fixtures/pypi").is_dir() {
        Some(root)
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("fixture data missing at {}", root.display());
    } else {
        println!("skipped: no fixture data at {}", root.display());
        None
    }
}

fn parser(kind: &str) -> fn(&str, &[u8]) -> LangParsed {
    match kind {
        "metadata" => python::parse_metadata,
        "record" => python::parse_record,
        "requirements" => python::parse_requirements,
        "poetry" => python::parse_poetry_lock,
        "pipfile" => python::parse_pipfile_lock,
        "uv" => python::parse_uv_lock,
        other => panic!("unknown parser {other}"),
    }
}

fn rows(parsed: &LangParsed, with_files: bool) -> Vec<String> {
    let mut out = Vec::new();
    for p in &parsed.packages {
        let flag = if p.application {
            "app"
        } else if p.dev {
            "dev"
        } else {
            "-"
        };
        out.push(format!("pkg\t{}\t{}\t{flag}", p.name, p.version));
        if with_files {
            out.extend(p.files.iter().map(|f| format!("file\t{f}")));
        }
    }
    out.sort();
    out
}

/// (source, parser, expected rows) of every expected file.
fn expectations() -> Vec<(String, String, Vec<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/python/expected");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("expected dir")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let (mut source, mut kind, mut expected) = (String::new(), String::new(), Vec::new());
        for line in text.lines() {
            if let Some(s) = line.strip_prefix("# source: ") {
                source = s.to_string();
            } else if let Some(k) = line.strip_prefix("# parser: ") {
                kind = k.to_string();
            } else if !line.starts_with('#') && !line.is_empty() {
                expected.push(line.to_string());
            }
        }
        out.push((source, kind, expected));
    }
    out
}

#[test]
fn fixtures_match_expectations() {
    let Some(root) = data_root() else { return };
    let exp = expectations();
    assert!(exp.len() > 100, "only {} expectations", exp.len());
    let mut failures = Vec::new();
    for (source, kind, expected) in &exp {
        let bytes = std::fs::read(root.join(source)).unwrap();
        let got = rows(&parser(kind)(source, &bytes), kind == "record");
        if &got != expected {
            failures.push(format!(
                "{source} ({kind}):\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn truncated_fixtures_never_panic() {
    let Some(root) = data_root() else { return };
    for (source, kind, _) in expectations() {
        let bytes = std::fs::read(root.join(&source)).unwrap();
        let step = (bytes.len() / 64).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let _ = parser(&kind)(&source, &bytes[..cut]);
        }
    }
}

#[test]
fn odd_inputs() {
    let r = python::parse_requirements(
        "r/requirements.txt",
        b"Flask[async] == 2.0.1 ; python_version < \"3\" \\\n  --hash=sha256:abc\n-r base.txt\nrequests>=2\nsix\nx==${V}\n",
    );
    assert_eq!(r.packages.len(), 1);
    let p = &r.packages[0];
    assert_eq!((p.name.as_str(), p.version.as_str()), ("Flask", "2.0.1"));
    assert_eq!(p.metadata["marker"], "python_version < \"3\"");
    assert_eq!(p.metadata["extras"], "async");
    assert_eq!(p.metadata["hashes"], "sha256:abc");
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);

    let m = python::parse_metadata(
        "usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: Foo-Bar\nVersion: 1.0\nLicense: MIT\nClassifier: License :: OSI Approved :: MIT License\nRequires-Dist: idna (>=2.5) ; extra == 'x'\nRequires-Dist: zope.interface[docs]>=5\n\nbody: x\n",
    );
    let p = &m.packages[0];
    assert_eq!(p.licenses, ["MIT", "MIT License"]);
    assert_eq!(p.depends, ["idna", "zope.interface"]);
    assert_eq!(
        p.metadata["dist_dir"],
        "/usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info"
    );

    let rec = python::parse_record(
        "site/zope_interface-5.4.0.dist-info/RECORD",
        b"\"a,b.py\",sha256=x,1\n../../../bin/x,,\r\n/abs/y,,\n",
    );
    let p = &rec.packages[0];
    assert_eq!((p.name.as_str(), p.version.as_str()), ("zope_interface", "5.4.0"));
    assert_eq!(p.files, ["/site/a,b.py", "/bin/x", "/abs/y"]);
    assert_eq!(p.metadata["record_only"], "true");

    for f in [
        python::parse_metadata,
        python::parse_record,
        python::parse_requirements,
        python::parse_poetry_lock,
        python::parse_pipfile_lock,
        python::parse_uv_lock,
    ] {
        for input in [&b""[..], b"\xff\xfe\x00", b"[[package]]\nname=1", b"{\"default\":[]}", b"\\"] {
            let _ = f("", input);
            let _ = f("x.dist-info/RECORD", input);
        }
    }
}

const SITE: &str = "usr/local/lib/python3.11/dist-packages/";
const LANG_APP_PYPI: [(&str, &str, &str); 15] = [
    ("requests", "2.25.1", "requests-2.25.1"),
    ("urllib3", "1.26.4", "urllib3-1.26.4"),
    ("idna", "2.10", "idna-2.10"),
    ("certifi", "2020.12.5", "certifi-2020.12.5"),
    ("chardet", "4.0.0", "chardet-4.0.0"),
    ("Jinja2", "2.11.3", "Jinja2-2.11.3"),
    ("MarkupSafe", "2.0.1", "markupsafe-2.0.1"),
    ("Flask", "1.1.2", "Flask-1.1.2"),
    ("Werkzeug", "1.0.1", "Werkzeug-1.0.1"),
    ("itsdangerous", "1.1.0", "itsdangerous-1.1.0"),
    ("click", "7.1.2", "click-7.1.2"),
    ("Django", "3.2.4", "Django-3.2.4"),
    ("sqlparse", "0.4.1", "sqlparse-0.4.1"),
    ("asgiref", "3.3.4", "asgiref-3.3.4"),
    ("pytz", "2021.1", "pytz-2021.1"),
];

/// Extracts the lang-app layers into a temp dir (later layers over earlier ones).
fn lang_app() -> Option<tempfile::TempDir> {
    let images = std::env::var("MOAT_IMAGES").unwrap_or("/var/tmp/moat-images".into());
    let tar = Path::new(&images).join("out/lang-app.docker.tar");
    if !tar.is_file() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{} missing", tar.display());
        }
        println!("skipped: {} missing", tar.display());
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let outer = tmp.path().join("image");
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(&outer).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    let ok = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&outer)
        .arg("manifest.json")
        .status()
        .unwrap();
    assert!(ok.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outer.join("manifest.json")).unwrap()).unwrap();
    let layers: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert_eq!(layers.len(), 5);
    let ok = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&outer)
        .args(&layers)
        .status()
        .unwrap();
    assert!(ok.success());
    for l in &layers {
        let st = Command::new("tar")
            .arg("-xf")
            .arg(outer.join(l))
            .arg("-C")
            .arg(&root)
            .args(["--wildcards", "--no-same-owner", "--no-same-permissions"])
            .args([
                "usr/local/lib/python3.11/dist-packages/*.dist-info/*",
                "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/*",
                "usr/lib/python3/dist-packages/six-1.16.0.egg-info*",
                "app/python/requirements.txt",
                "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
            ])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        // A layer without any of the members makes tar exit non-zero; that is expected.
        let _ = st;
    }
    Some(tmp)
}

fn read(root: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn lang_app_image() {
    let Some(tmp) = lang_app() else { return };
    let root = tmp.path().join("rootfs");
    let mut dirs: Vec<String> = std::fs::read_dir(root.join(SITE))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dist-info"))
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 15, "{dirs:?}");
    for (name, version, dir) in LANG_APP_PYPI {
        let meta = format!("{SITE}{dir}.dist-info/METADATA");
        let parsed = python::parse_metadata(&meta, &read(&root, &meta));
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let [p] = &parsed.packages[..] else {
            panic!("{meta}: {parsed:?}")
        };
        assert_eq!((p.name.as_str(), p.version.as_str()), (name, version));
        let dist_dir = format!("/{SITE}{dir}.dist-info");
        assert_eq!(p.metadata["dist_dir"], dist_dir);

        let rec = format!("{SITE}{dir}.dist-info/RECORD");
        let parsed = python::parse_record(&rec, &read(&root, &rec));
        let [r] = &parsed.packages[..] else {
            panic!("{rec}: {parsed:?}")
        };
        assert!(r.name.eq_ignore_ascii_case(name), "{} vs {name}", r.name);
        assert_eq!(r.version, version);
        assert_eq!(r.metadata["dist_dir"], dist_dir);
        assert_eq!(r.metadata["record_only"], "true");
        assert!(!r.files.is_empty());
        for f in &r.files {
            assert!(
                f.starts_with(&format!("/{SITE}")) || f.starts_with("/usr/local/bin/"),
                "{f}"
            );
            assert!(!f.contains("/../") && !f.contains("/./"), "{f}");
        }
        assert!(r.files.contains(&format!("{dist_dir}/METADATA")));
    }

    let yaml = "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA";
    let parsed = python::parse_metadata(yaml, &read(&root, yaml));
    let p = &parsed.packages[0];
    assert_eq!((p.name.as_str(), p.version.as_str()), ("PyYAML", "6.0"));
    assert_eq!(
        p.metadata["dist_dir"],
        "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info"
    );
    let six = ["PKG-INFO", ""]
        .iter()
        .map(|f| format!("usr/lib/python3/dist-packages/six-1.16.0.egg-info/{f}"))
        .map(|f| f.trim_end_matches('/').to_string())
        .find(|f| root.join(f).is_file())
        .expect("six egg-info");
    let parsed = python::parse_metadata(&six, &read(&root, &six));
    let p = &parsed.packages[0];
    assert_eq!((p.name.as_str(), p.version.as_str()), ("six", "1.16.0"));

    let req = "app/python/requirements.txt";
    let parsed = python::parse_requirements(req, &read(&root, req));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let mut got: Vec<(String, String)> = parsed
        .packages
        .iter()
        .map(|p| (p.name.to_lowercase(), p.version.clone()))
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = LANG_APP_PYPI
        .iter()
        .map(|(n, v, _)| (n.to_lowercase(), v.to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want);
}
