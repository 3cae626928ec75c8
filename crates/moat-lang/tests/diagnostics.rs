//! Typed diagnostics across the parsers: codes, lines, and messages that never carry the
//! file's path (the engine adds it; before, it was printed twice).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_lang::{Code, Diagnostic, LangParsed, parse, wants};

/// One path per parser, under a directory name no message has a reason to contain.
const PATHS: &[&str] = &[
    "zz/proj/Cargo.lock",
    "zz/proj/go.mod",
    "zz/proj/go.sum",
    "zz/proj/package-lock.json",
    "zz/proj/yarn.lock",
    "zz/proj/pnpm-lock.yaml",
    "zz/proj/node_modules/x/package.json",
    "zz/proj/x-1.0.dist-info/METADATA",
    "zz/proj/x-1.0.dist-info/RECORD",
    "zz/proj/requirements.txt",
    "zz/proj/poetry.lock",
    "zz/proj/Pipfile.lock",
    "zz/proj/uv.lock",
    "zz/proj/x.jar",
    "zz/proj/gradle.lockfile",
    "zz/proj/pom.xml",
    "zz/proj/Gemfile.lock",
    "zz/proj/specifications/x.gemspec",
    "zz/proj/composer.lock",
    "zz/proj/vendor/composer/installed.json",
    "zz/proj/x.deps.json",
    "zz/proj/packages.lock.json",
    "zz/proj/conan.lock",
    "zz/proj/mix.lock",
    "zz/proj/pubspec.lock",
];

fn run(path: &str, bytes: &[u8]) -> LangParsed {
    let kind = wants(path).unwrap_or_else(|| panic!("{path}: no parser"));
    parse(kind, path, bytes)
}

/// The diagnostics as shown before the engine adds a path (`line 3: message`), one a line.
fn shown(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_message_names_the_file() {
    let inputs: &[&[u8]] = &[
        b"\xff\xfe\xfd",
        b"{ not json or toml or yaml: [",
        b"garbage\nmore garbage\n(\n",
        b"PK\x03\x04 not a zip",
        b"[[package]]\nname = 1\n",
        b"<project><dependencies><dependency><groupId>g</groupId></dependency>",
    ];
    let mut seen = 0;
    for path in PATHS {
        for input in inputs {
            let p = run(path, input);
            for d in &p.warnings {
                seen += 1;
                assert!(
                    !d.message.contains("zz/proj") && !d.message.contains("/proj/"),
                    "{path}: {d:?}"
                );
                assert_eq!((&d.path, d.layer), (&None, None), "{path}: {d:?}");
                assert!(!d.message.is_empty(), "{path}");
            }
            // The accessor hands the same diagnostics to the engine.
            assert_eq!(p.diagnostics(), p.warnings, "{path}");
        }
    }
    assert!(seen > 40, "only {seen} diagnostics");
}

#[test]
fn a_cargo_lock_that_is_not_toml() {
    let p = run(
        "app/Cargo.lock",
        b"version = 3\n\n[[package]\nname = \"x\"\n",
    );
    assert!(p.packages.is_empty());
    assert_eq!(p.warnings.len(), 1);
    let d = &p.warnings[0];
    assert_eq!(d.code, Code::ParseError);
    assert_eq!(d.line, Some(3));
    assert!(d.message.starts_with("not valid TOML: "), "{}", d.message);
    assert!(!d.message.contains("Cargo.lock"), "{}", d.message);
    // What the engine prints once it has said where the bytes came from.
    let shown = d.clone().at("/app/Cargo.lock", Some(1)).to_string();
    assert!(
        shown.starts_with("layer 1: /app/Cargo.lock:3: not valid TOML: "),
        "{shown}"
    );
    assert_eq!(shown.matches("Cargo.lock").count(), 1, "{shown}");
}

/// Line-oriented formats: each diagnostic names the line it is about (for a record spread
/// over several lines, the line it starts at).
#[test]
fn line_oriented_formats_name_the_line() {
    let cases: &[(&str, &[u8], usize, &str)] = &[
        (
            "yarn.lock",
            b"# yarn lockfile v1\n\n\na@^1:\n  version \"1.0.0\"\n\nb@^2, b@^2.1:\n  resolved \"x\"\n",
            1,
            "line 7: b: entry without version",
        ),
        (
            "Gemfile.lock",
            b"GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.3)\n    broken\n    ok (1.0)\n",
            2,
            "line 5: cannot read spec line \"broken\"",
        ),
        (
            "gradle.lockfile",
            b"# comment\ng:a:1=compileClasspath\nnot a coordinate\ng:b:2\nalso:bad\n",
            2,
            "line 3: 2 line(s) not of the form group:artifact:version=configurations",
        ),
        (
            "requirements.txt",
            b"# pins\nflask==2.0.1 \\\n  --hash=sha256:abc\n\nbad name==1\nx[y==1\nz==1.*,==a b\n",
            1,
            "line 5: cannot read \"bad name==1\"\n\
             line 6: unclosed extras in \"x[y==1\"\n\
             line 7: invalid version in \"z==1.*,==a b\"",
        ),
        (
            "go.mod",
            b"module x\n\nruire (\n a v1\n)\nrequire b\nrequire (\n c v1.0.0\n",
            2,
            "line 3: unknown directive `ruire`; block skipped\n\
             line 6: malformed `require` line\n\
             line 7: unterminated `(` block",
        ),
        (
            "go.sum",
            b"a v1.0.0 h1:x=\n\nbroken line\n",
            1,
            "line 3: malformed go.sum line",
        ),
        (
            "mix.lock",
            b"%{\n  \"a\": {:hex, :a, \"1.0.0\", \"h\", [:mix], [], \"hexpm\", \"h\"},\n  \"b\": :oops,\n  \"c\": {:hex},\n}\n",
            1,
            "line 3: b: entry is not a tuple\n\
             line 4: c: hex entry without name and version",
        ),
        (
            "mix.lock",
            b"%{\n  \"a\": {:hex, :a,\n  [\n",
            0,
            "line 3: not an Elixir map",
        ),
    ];
    for (path, bytes, packages, want) in cases {
        let p = run(path, bytes);
        assert_eq!(p.packages.len(), *packages, "{path}");
        assert_eq!(shown(&p.warnings), *want, "{path}");
        assert!(
            p.warnings.iter().all(|d| d.code == Code::ParseError),
            "{path}"
        );
    }
}

#[test]
fn json_and_xml_errors_carry_lines() {
    let p = run(
        "package-lock.json",
        b"{\n  \"name\": \"x\",\n  \"packages\": {,\n}\n",
    );
    assert_eq!(p.warnings[0].line, Some(3), "{:?}", p.warnings);
    assert!(p.warnings[0].message.starts_with("invalid JSON: "));

    let pom = b"<project>\n  <groupId>g</groupId>\n  <version>1</version>\n</dependencies>\n";
    let p = run("pom.xml", pom);
    let d = &p.warnings[0];
    assert_eq!((d.code, d.line), (Code::ParseError, Some(4)), "{d:?}");
    assert!(d.message.starts_with("not readable XML: "), "{}", d.message);
}

#[test]
fn codes_say_what_kind_of_problem() {
    // A limit: too-large.
    let big = vec![b' '; (8 << 20) + 1];
    assert_eq!(run("pom.xml", &big).warnings[0].code, Code::TooLarge);
    // What moat does not resolve: unsupported.
    let pom = b"<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version>\
        <dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId>\
        <version>${undefined}</version></dependency></dependencies></project>";
    let p = run("pom.xml", pom);
    assert_eq!(p.packages.len(), 1);
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(p.warnings[0].code, Code::Unsupported);
    // A RECORD whose directory names no version: the path is what cannot be used.
    let p = run("site-packages/nodash.dist-info/RECORD", b"a.py,,\n");
    assert_eq!(p.warnings[0].code, Code::BadPath);
    assert_eq!(
        p.warnings[0].message,
        "cannot read name and version from nodash.dist-info"
    );
    // Unreadable records: parse-error.
    let p = run("package-lock.json", b"[1, 2]");
    assert_eq!(p.warnings[0].code, Code::ParseError);
    assert_eq!(p.warnings[0].message, "not a package-lock object");
}
