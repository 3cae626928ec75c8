//! Python parsers against every PyPI fixture (expectations from `tests/data/python/gen.py`),
//! truncated inputs, and the lang-app image.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "other_support.rs"]
mod support;

use moat_lang::python;
use support::{Parser, lang_app, read};

fn parser(kind: &str) -> Parser {
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

const ALL: [Parser; 6] = [
    python::parse_metadata,
    python::parse_record,
    python::parse_requirements,
    python::parse_poetry_lock,
    python::parse_pipfile_lock,
    python::parse_uv_lock,
];

#[test]
fn fixtures_match_expectations() {
    support::check_expectations("python", 130, parser);
}

#[test]
fn truncated_fixtures_never_panic() {
    support::check_truncations("python", parser, &ALL);
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
    assert_eq!(
        (p.name.as_str(), p.version.as_str()),
        ("zope_interface", "5.4.0")
    );
    assert_eq!(p.files, ["/site/a,b.py", "/bin/x", "/abs/y"]);
    assert_eq!(p.metadata["record_only"], "true");

    for f in ALL {
        for input in [
            &b""[..],
            b"\xff\xfe\x00",
            b"[[package]]\nname=1",
            b"{\"default\":[]}",
            b"\\",
        ] {
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

#[test]
fn lang_app_image() {
    let Some((_tmp, root)) = lang_app(&[
        "usr/local/lib/python3.11/dist-packages/*.dist-info/*",
        "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/*",
        "usr/lib/python3/dist-packages/six-1.16.0.egg-info*",
        "app/python/requirements.txt",
    ]) else {
        return;
    };
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
            assert!(f.starts_with(&format!("/{SITE}")), "{f}");
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
