//! `moat scan --scanners secret` end to end:
//! - the `secrets-leak` image of ../shared/images in every format: exactly the planted
//!   secrets (README table and `secrets-GROUND-TRUTH.txt`), those a later layer deleted with
//!   the layer that deleted them, those in the config's environment and history;
//! - the images without planted secrets: nothing HIGH or CRITICAL;
//! - what else is scanned in a directory (Kubernetes Secrets and env, Dockerfiles, shell
//!   history, inline `moat:ignore`, binaries, the size cap);
//! - redaction in every format, `--show-secrets`, the policy (ignore file, severity gate,
//!   exit code), `moat-secrets.toml` and gitleaks configurations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

/// (rule, path or config field, line, layer, deleted_in_layer)
type Found = (String, String, Option<u64>, Option<u64>, Option<u64>);

fn found(v: &Value) -> BTreeSet<Found> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "secret")
        .map(|f| {
            let loc = &f["location"];
            let at = loc["path"]
                .as_str()
                .or(loc["field"].as_str())
                .unwrap_or_default()
                .to_string();
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                at,
                loc["span"]["start_line"].as_u64(),
                loc["layer"].as_u64(),
                f["deleted_in_layer"].as_u64(),
            )
        })
        .collect()
}

/// [`Found`] as written in the tests.
type Want<'a> = (&'a str, &'a str, Option<u64>, Option<u64>, Option<u64>);

fn set(items: &[Want]) -> BTreeSet<Found> {
    items
        .iter()
        .map(|(r, p, l, layer, d)| (r.to_string(), p.to_string(), *l, *layer, *d))
        .collect()
}

/// `moat scan --scanners secret --quiet ARGS` in an isolated environment run from `home`.
fn scan(home: &Path, args: &[&str]) -> Output {
    run(isolated(home)
        .args(["scan", "--scanners", "secret", "--quiet"])
        .args(args))
}

fn scan_json(home: &Path, args: &[&str]) -> Value {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(args);
    let o = scan(home, &a);
    assert_eq!(code(&o), 0, "scan {args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

/// The targets of one shared image in every format there is.
fn formats(out: &Path, image: &str) -> Vec<String> {
    let mut v = vec![
        format!(
            "docker-archive:{}",
            out.join(format!("{image}.docker.tar")).display()
        ),
        format!(
            "oci-archive:{}",
            out.join(format!("{image}.oci.tar")).display()
        ),
        format!("oci:{}", out.join(format!("{image}.oci")).display()),
    ];
    let d25 = out.join(format!("{image}.docker25.tar"));
    if d25.exists() {
        v.push(d25.display().to_string());
    }
    v
}

/// The planted secrets of `secrets-leak` (layer 0 is debian-base; layer 1 copies the
/// secrets in; layer 2 deletes `/root/.aws` and `/app/deploy/id_rsa`; the config sets two
/// of them as `ENV`, which history entry 4 records).
fn planted() -> BTreeSet<Found> {
    set(&[
        (
            "aws-access-key-id",
            "/root/.aws/credentials",
            Some(2),
            Some(1),
            Some(2),
        ),
        (
            "aws-secret-access-key",
            "/root/.aws/credentials",
            Some(3),
            Some(1),
            Some(2),
        ),
        (
            "pkcs8-private-key",
            "/app/deploy/id_rsa",
            Some(1),
            Some(1),
            Some(2),
        ),
        (
            "pkcs8-private-key",
            "/app/deploy/signing_ed25519.pem",
            Some(1),
            Some(1),
            None,
        ),
        ("github-pat", "/app/.env", Some(2), Some(1), None),
        ("stripe-secret-key", "/app/.env", Some(3), Some(1), None),
        ("gitlab-pat", "/app/.env", Some(4), Some(1), None),
        // the plain `DB_PASSWORD=` line
        ("generic-password", "/app/.env", Some(5), Some(1), None),
        (
            "slack-bot-token",
            "/app/config/settings.py",
            Some(2),
            Some(1),
            None,
        ),
        (
            "aws-access-key-id",
            "/app/config/settings.py",
            Some(3),
            Some(1),
            None,
        ),
        (
            "aws-secret-access-key",
            "/app/config/settings.py",
            Some(4),
            Some(1),
            None,
        ),
        (
            "aws-secret-access-key",
            "config:env/AWS_SECRET_ACCESS_KEY",
            None,
            None,
            None,
        ),
        ("github-pat", "config:env/GITHUB_TOKEN", None, None, None),
        (
            "aws-secret-access-key",
            "config:history/4",
            None,
            None,
            None,
        ),
        ("github-pat", "config:history/4", None, None, None),
    ])
}

/// The token values of `secrets-GROUND-TRUTH.txt` (`kind value` lines).
fn ground_truth(out: &Path) -> Vec<String> {
    let file = out.join("../fixtures/secrets-GROUND-TRUTH.txt");
    let text = std::fs::read_to_string(&file).expect("ground truth");
    text.lines()
        .filter_map(|l| l.split_once(' ').map(|(_, v)| v.trim().to_string()))
        .filter(|v| !v.is_empty())
        .collect()
}

fn values(v: &Value) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["value"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn secrets_leak_in_every_format_gives_exactly_the_planted_secrets() {
    let Some(out) = images() else { return };
    let home = tempfile::tempdir().unwrap();
    let truth = ground_truth(&out);
    assert_eq!(truth.len(), 6, "{truth:?}");
    for target in formats(&out, "secrets-leak") {
        let v = scan_json(home.path(), &[&target, "--show-secrets"]);
        assert_eq!(found(&v), planted(), "{target}");
        // every ground-truth value, and the plain password, is a finding's value
        let got = values(&v);
        for want in truth
            .iter()
            .map(String::as_str)
            .chain(["Sup3rS3cretPassw0rd!"])
        {
            assert!(got.contains(want), "{target}: {want} not found");
        }
        // the deleted RSA key is named as what it is
        let titles: BTreeSet<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["title"].as_str())
            .collect();
        assert!(titles.contains("Private key (PKCS#8) (RSA)"), "{titles:?}");
        assert!(
            titles.contains("Private key (PKCS#8) (Ed25519)"),
            "{titles:?}"
        );
    }
}

#[test]
fn secrets_are_redacted_in_every_format_unless_shown() {
    let Some(out) = images() else { return };
    let home = tempfile::tempdir().unwrap();
    let truth = ground_truth(&out);
    let target = format!("oci:{}", out.join("secrets-leak.oci").display());
    for format in ["json", "sarif", "table"] {
        let o = scan(home.path(), &[&target, "--format", format]);
        assert_eq!(code(&o), 0, "{format}: {}", stderr(&o));
        let text = stdout(&o);
        for secret in truth
            .iter()
            .map(String::as_str)
            .chain(["Sup3rS3cretPassw0rd!"])
        {
            assert!(!text.contains(secret), "{format} shows {secret}");
        }
        assert!(text.contains("ghp_***(40)"), "{format}");
        assert!(text.contains("DB_PASSWORD=Sup3***(20)"), "{format}");
    }
    let table = stdout(&scan(home.path(), &[&target]));
    for needle in [
        "/root/.aws/credentials (layer 1, removed in layer 2, still in the image)",
        "/app/.env (layer 1)",
        "config:env/GITHUB_TOKEN",
        "config:history/4",
    ] {
        assert!(table.contains(needle), "no {needle:?} in\n{table}");
    }
    let sarif: Value = serde_json::from_slice(
        &scan(
            home.path(),
            &[&target, "--format", "sarif", "--show-secrets"],
        )
        .stdout,
    )
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 15);
    assert!(
        results
            .iter()
            .any(|r| r["properties"]["value"] == truth[0].as_str())
    );
}

#[test]
fn images_without_planted_secrets_report_nothing_high() {
    let Some(out) = images() else { return };
    let home = tempfile::tempdir().unwrap();
    for (image, expected) in [
        ("debian-base", set(&[])),
        ("debian-tools", set(&[])),
        // Real, and LOW: the npm package `debug` (2.6.9) ships its `.coveralls.yml` with
        // the project's Coveralls repository token, which can only upload coverage reports.
        (
            "lang-app",
            set(&[(
                "coveralls-repo-token",
                "/app/node/node_modules/debug/.coveralls.yml",
                Some(1),
                Some(4),
                None,
            )]),
        ),
    ] {
        let target = format!("oci:{}", out.join(format!("{image}.oci")).display());
        let v = scan_json(home.path(), &[&target]);
        let high: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| matches!(f["severity"].as_str(), Some("HIGH" | "CRITICAL")))
            .collect();
        assert!(high.is_empty(), "{image}: {high:#?}");
        assert_eq!(found(&v), expected, "{image}");
    }
}

#[test]
fn a_directory_is_scanned_with_relative_paths() {
    let Some(out) = images() else { return };
    let home = tempfile::tempdir().unwrap();
    let dir = out.join("../fixtures/secrets-dir");
    let v = scan_json(home.path(), &[&format!("dir:{}", dir.display())]);
    // the files of the layer that planted them, none deleted, no layers
    let want: BTreeSet<Found> = planted()
        .into_iter()
        .filter(|(_, p, _, _, _)| p.starts_with('/'))
        .map(|(r, p, l, _, _)| (r, p[1..].to_string(), l, None, None))
        .collect();
    assert_eq!(found(&v), want);
}

#[test]
fn skipped_directories_and_files_are_not_read_in_images_and_directories() {
    let Some(out) = images() else { return };
    let home = tempfile::tempdir().unwrap();
    // not in /app/config nor in any .env; the config's environment and history stay
    let want: BTreeSet<Found> = planted()
        .into_iter()
        .filter(|(_, p, _, _, _)| !p.starts_with("/app/config/") && !p.ends_with("/.env"))
        .collect();
    assert_eq!(want.len(), planted().len() - 7);
    for target in formats(&out, "secrets-leak").into_iter().take(2) {
        let v = scan_json(
            home.path(),
            &[
                &target,
                "--skip-dirs",
                "/app/config/",
                "--skip-files",
                "**/.env",
            ],
        );
        assert_eq!(found(&v), want, "{target}");
        // the same, comma-separated, and the layer cache does not mix the two scans up
        let v = scan_json(
            home.path(),
            &[
                &target,
                "--skip-dirs",
                "x,app/config",
                "--skip-files",
                "**/.env",
            ],
        );
        assert_eq!(found(&v), want, "{target}");
        assert_eq!(
            found(&scan_json(home.path(), &[&target])),
            planted(),
            "{target}"
        );
    }
    let dir = format!("dir:{}", out.join("../fixtures/secrets-dir").display());
    let v = scan_json(
        home.path(),
        &[
            &dir,
            "--skip-dirs",
            "**/config",
            "--skip-files",
            ".env,app/.env",
        ],
    );
    let want: BTreeSet<Found> = want
        .into_iter()
        .filter(|(_, p, _, _, _)| p.starts_with('/'))
        .map(|(r, p, l, _, _)| (r, p[1..].to_string(), l, None, None))
        .collect();
    assert_eq!(found(&v), want);
    // patterns that are no globs, and targets the flags do not apply to
    let o = scan(home.path(), &[&dir, "--skip-dirs", "a[b"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--skip-dirs \"a[b\""), "{}", stderr(&o));
    let o = scan(home.path(), &[&dir, "--skip-files", "/"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("empty pattern"), "{}", stderr(&o));
}

#[test]
fn a_path_allowlist_covering_a_directory_keeps_it_unlisted() {
    use std::os::unix::ffi::OsStrExt;
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("project");
    for d in ["app/node_modules/debug", "src"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let token = b"GITHUB_TOKEN=ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD\n";
    std::fs::write(root.join("app/node_modules/debug/.env"), token).unwrap();
    std::fs::write(root.join("src/.env"), token).unwrap();
    // listing app/node_modules would warn about this name
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9");
    std::fs::write(root.join("app/node_modules").join(odd), b"x").unwrap();
    let target = format!("dir:{}", root.display());
    let not_utf8 = |v: &Value| {
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["message"] == "path is not UTF-8; skipped")
            .count()
    };
    let v = scan_json(home.path(), &[&target]);
    assert_eq!(
        found(&v),
        set(&[
            (
                "github-pat",
                "app/node_modules/debug/.env",
                Some(1),
                None,
                None
            ),
            ("github-pat", "src/.env", Some(1), None, None),
        ])
    );
    assert_eq!(not_utf8(&v), 1);
    let config = write(
        home.path(),
        "moat-secrets.toml",
        "[[allow]]\nreason = \"third-party code\"\npaths = [\"**/node_modules/**\"]\n",
    );
    let v = scan_json(
        home.path(),
        &[&target, "--secret-config", config.to_str().unwrap()],
    );
    assert_eq!(
        found(&v),
        set(&[("github-pat", "src/.env", Some(1), None, None)])
    );
    assert_eq!(not_utf8(&v), 0, "app/node_modules was listed");
}

/// A project directory with one file of each kind the scanner reads.
fn project(root: &Path) {
    let w = |p: &str, text: &[u8]| {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "k8s/secret.yaml",
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: V3E3LWNvcnZpZC1MYXR0aWNlLTkz\n  token: Z2hwX0pDNlJRdUZsQm5Eb210UWhBMTRWcW5QYTVsd09vME9wR2NTRA==\n",
    );
    w(
        "k8s/deploy.yaml",
        b"apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          env:\n            - name: DB_PASSWORD\n              value: \"Wq7-corvid-Lattice-93\"\n            - name: API_TOKEN\n              valueFrom:\n                secretKeyRef: {name: db, key: token}\n",
    );
    w(
        "Dockerfile",
        b"FROM debian:12\nENV MYSQL_ROOT_PASSWORD Vq3-lark-Ember51\nRUN echo hi\n",
    );
    w(
        "root/.bash_history",
        b"ls\nmysqldump -u backup -pVq3#lark-Ember51 billing > /tmp/db.sql\ncd /\n",
    );
    w(
        "app/ignored.env",
        b"GITHUB_TOKEN=ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD # moat:ignore\n",
    );
    let mut bin = b"\x7fELF\x02\x01\x01\x00".to_vec();
    bin.extend_from_slice(b"token=glpat-MwqIZu29XoqgHXN7RGKN\n");
    w("app/tool", &bin);
    let mut big = vec![b'#'; 4096];
    big.extend_from_slice(b"\nSTRIPE=sk_live_uJZKMvlsbxFHz9GuXlmPvNRB\n");
    w("app/big.txt", &big);
}

#[test]
fn what_a_directory_scan_reads() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("project");
    project(&root);
    let target = format!("dir:{}", root.display());
    let v = scan_json(home.path(), &[&target, "--secret-max-file-size", "2KiB"]);
    assert_eq!(
        found(&v),
        set(&[
            // base64 in a Kubernetes Secret, reported on the manifest's line
            ("generic-password", "k8s/secret.yaml", Some(7), None, None),
            ("github-pat", "k8s/secret.yaml", Some(8), None, None),
            (
                "kubernetes-env-secret",
                "k8s/deploy.yaml",
                Some(10),
                None,
                None
            ),
            ("generic-password", "Dockerfile", Some(2), None, None),
            (
                "cli-password-argument",
                "root/.bash_history",
                Some(2),
                None,
                None
            ),
        ])
    );
    let titles: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"GitHub personal access token (classic) (base64 in a Kubernetes Secret)"),
        "{titles:?}"
    );
    // binaries on request; the size cap
    let v = scan_json(
        home.path(),
        &[
            &target,
            "--secret-scan-binaries",
            "--secret-max-file-size",
            "1MiB",
        ],
    );
    let got = found(&v);
    assert!(got.contains(&("gitlab-pat".into(), "app/tool".into(), Some(1), None, None)));
    assert!(got.contains(&(
        "stripe-secret-key".into(),
        "app/big.txt".into(),
        Some(2),
        None,
        None
    )));
    let o = scan(home.path(), &[&target, "--secret-max-file-size", "ten"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn the_policy_applies_to_secrets() {
    let Some(out) = images() else { return };
    let home = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", out.join("../fixtures/secrets-dir").display());
    // the severity gate and the exit code
    let o = scan(
        home.path(),
        &[
            &target,
            "--severity",
            "CRITICAL",
            "--exit-code",
            "3",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 7);
    assert!(f.iter().all(|f| f["severity"] == "CRITICAL"));
    // the ignore file: by rule id, and by kind and path
    let ignore = home.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        "- id: generic-password\n  reason: the test database\n- id: \"*\"\n  kind: secret\n  path: \"**/id_rsa\"\n  reason: revoked\n",
    )
    .unwrap();
    let v = scan_json(
        home.path(),
        &[&target, "--ignorefile", ignore.to_str().unwrap()],
    );
    let suppressed: BTreeSet<String> = v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["id"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        suppressed,
        BTreeSet::from([
            "generic-password app/.env".to_string(),
            "pkcs8-private-key app/deploy/id_rsa".to_string()
        ])
    );
    assert_eq!(v["findings"].as_array().unwrap().len(), 9);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn configurations_allow_and_add_rules() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("project");
    write(
        &root,
        "app/.env",
        "GITHUB_TOKEN=ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD\nACME_API_KEY=acme_k3j9x8q2m4n7b1v5q8z2\n",
    );
    write(
        &root,
        "app/test/fixture.env",
        "GITHUB_TOKEN=ghp_Vb8n2Lq0Zr4Tx6Wc1Ys3Ud5Fg7Hj9Kk0Mm2N\n",
    );
    let target = format!("dir:{}", root.display());
    let rules = |v: &Value| -> BTreeSet<(String, String)> {
        found(v).into_iter().map(|(r, p, _, _, _)| (r, p)).collect()
    };
    let pair = |r: &str, p: &str| (r.to_string(), p.to_string());
    // without a configuration
    assert_eq!(
        rules(&scan_json(home.path(), &[&target])),
        BTreeSet::from([
            pair("github-pat", "app/.env"),
            pair("github-pat", "app/test/fixture.env"),
            pair("generic-secret", "app/.env"),
        ])
    );
    // moat-secrets.toml in the working directory: an allowlist by path, a custom rule
    // (replacing what the generic rule saw on the same bytes)
    write(
        home.path(),
        "moat-secrets.toml",
        "[[rules]]\nid = \"acme-key\"\ntitle = \"ACME key\"\nseverity = \"HIGH\"\nregex = '''acme_[a-z0-9]{20}'''\nkeywords = [\"acme_\"]\n[[allow]]\nreason = \"fixtures\"\npaths = [\"app/test/**\"]\n",
    );
    let v = scan_json(home.path(), &[&target]);
    assert_eq!(
        rules(&v),
        BTreeSet::from([pair("github-pat", "app/.env"), pair("acme-key", "app/.env")])
    );
    // a gitleaks file named on the command line replaces it
    let leaks = write(
        home.path(),
        "gitleaks.toml",
        "title = \"gitleaks\"\n[extend]\nuseDefault = true\n[allowlist]\npaths = ['''(^|/)test/''']\n[[rules]]\nid = \"acme\"\ndescription = \"ACME key\"\nregex = '''ACME_API_KEY=(acme_[a-z0-9]{20})'''\nsecretGroup = 1\nkeywords = [\"acme\"]\n",
    );
    let o = run(isolated(home.path())
        .args([
            "scan",
            "--scanners",
            "secret",
            "--format",
            "json",
            "--secret-config",
        ])
        .arg(&leaks)
        .arg(&target));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // what moat does not use is said on stderr
    assert!(stderr(&o).contains("extend"), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        rules(&v),
        BTreeSet::from([pair("github-pat", "app/.env"), pair("acme", "app/.env")])
    );
    // a broken configuration is a usage error naming the file
    let bad = write(
        home.path(),
        "bad.toml",
        "[[rules]]\nid = \"x\"\nregex = '('\n",
    );
    let o = run(isolated(home.path())
        .args(["scan", "--scanners", "secret", "--secret-config"])
        .arg(&bad)
        .arg(&target));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("bad.toml") && stderr(&o).contains("rule x"),
        "{}",
        stderr(&o)
    );
}
