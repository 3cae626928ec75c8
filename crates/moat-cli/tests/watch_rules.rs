//! `moat watch` without `--rules`: `--update-rules` pulls Falco's rulesfile artifacts (built
//! here from ../shared's Falco rule files, with falcoctl's media types) from a registry on
//! 127.0.0.1 started by the test, and `moat watch` then runs the stored copy of the source it
//! watches. Also: a tampered blob is refused and leaves the stored rules as they were;
//! nothing stored is exit 2 with what to do; `--max-events` and the closing summary for
//! `--audit-log` and `--capture`; `--validate` knowing the syscall fields.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const CONFIG_TYPE: &str = "application/vnd.cncf.falco.rulesfile.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.cncf.falco.rulesfile.layer.v1+tar.gz";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const K8S_RULES: &str =
    "corpus/falco/falcosecurity-plugins/plugins/k8saudit/rules/k8s_audit_rules.yaml";
const SYSCALL_RULES: &str = "corpus/falco/falcosecurity-rules/rules/falco_rules.yaml";
const K8S_EVENTS: &str = "corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files/k8s_audit";

/// What the test registry serves: path under /v2/ → (content type, body).
type Content = Arc<Mutex<BTreeMap<String, (String, Vec<u8>)>>>;

/// A minimal read-only OCI distribution endpoint on 127.0.0.1 (GET and HEAD of manifests
/// and blobs, as stored in `content`), on a thread that ends with the test process.
fn serve(content: Content) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let content = Arc::clone(&content);
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let path = parts.next().unwrap_or("").to_string();
                    let mut len = 0usize;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        if h.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    let found = if path == "/v2/" {
                        Some(("application/json".to_string(), b"{}".to_vec()))
                    } else {
                        content.lock().unwrap().get(&path).cloned()
                    };
                    let resp = match found {
                        Some((t, b)) => {
                            let mut head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: {t}\r\nContent-Length: {}\r\n",
                                b.len()
                            );
                            if path.contains("/manifests/") {
                                head += &format!("Docker-Content-Digest: {}\r\n", sha256(&b));
                            }
                            head += "\r\n";
                            let mut out = head.into_bytes();
                            if method != "HEAD" {
                                out.extend_from_slice(&b);
                            }
                            out
                        }
                        None => {
                            let b =
                                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#;
                            let mut out = format!(
                                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                                b.len()
                            )
                            .into_bytes();
                            out.extend_from_slice(b);
                            out
                        }
                    };
                    if conn.write_all(&resp).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Adds a rulesfile artifact of `file` (named `name` in its layer) under `repo:tag`, as
/// falcoctl pushes one; returns the manifest's digest and the layer's.
fn push(
    content: &Content,
    repo: &str,
    tag: &str,
    name: &'static str,
    file: &[u8],
) -> (String, String) {
    let layer = gzip(&tar(&[E::File(name, file.to_vec())]));
    let config = serde_json::to_vec(&serde_json::json!({
        "name": repo.rsplit('/').next().unwrap(),
        "version": "9.9.9",
        "dependencies": [],
        "requirements": [{"name": "engine_version_semver", "version": "0.26.0"}],
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": sha256(&config), "size": config.len()},
        "layers": [{
            "mediaType": LAYER_TYPE, "digest": sha256(&layer), "size": layer.len(),
            "annotations": {"org.opencontainers.image.title": format!("{name}.tar.gz")},
        }],
        "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
    }))
    .unwrap();
    let md = sha256(&manifest);
    let ld = sha256(&layer);
    let mut c = content.lock().unwrap();
    for key in [tag, md.as_str()] {
        c.insert(
            format!("/v2/{repo}/manifests/{key}"),
            (MANIFEST_TYPE.into(), manifest.clone()),
        );
    }
    c.insert(
        format!("/v2/{repo}/blobs/{}", sha256(&config)),
        ("application/octet-stream".into(), config),
    );
    c.insert(
        format!("/v2/{repo}/blobs/{ld}"),
        ("application/octet-stream".into(), layer),
    );
    (md, ld)
}

fn cmd(home: &Path, args: &[&str]) -> std::process::Output {
    run(isolated(home).arg("watch").args(args))
}

/// All recorded audit events of the legacy suite, one file.
fn all_events(shared: &Path, out: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(shared.join(K8S_EVENTS))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        all.extend(std::fs::read(f).unwrap());
        all.push(b'\n');
    }
    let p = out.join("events.json");
    std::fs::write(&p, all).unwrap();
    p
}

#[test]
fn stored_rules_pulled_from_a_registry_run_like_the_file_and_tampering_is_refused() {
    let Some(shared) = shared() else { return };
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let content: Content = Arc::default();
    let port = serve(Arc::clone(&content));
    let k8s = std::fs::read(shared.join(K8S_RULES)).unwrap();
    let sys = std::fs::read(shared.join(SYSCALL_RULES)).unwrap();
    let (k8s_digest, k8s_layer) = push(
        &content,
        "falcosecurity/plugins/ruleset/k8saudit",
        "0",
        "k8s_audit_rules.yaml",
        &k8s,
    );
    let (sys_digest, _) = push(
        &content,
        "falcosecurity/rules/falco-rules",
        "5",
        "falco_rules.yaml",
        &sys,
    );
    let events = all_events(&shared, home);
    let k8s_ref = format!("127.0.0.1:{port}/falcosecurity/plugins/ruleset/k8saudit:0");
    let sys_ref = format!("127.0.0.1:{port}/falcosecurity/rules/falco-rules:5");

    // Nothing stored yet (and no /etc/falco here): exit 2 saying what to do.
    if !Path::new("/etc/falco/k8s_audit_rules.yaml").exists() {
        let o = cmd(home, &["--audit-log", events.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("no Falco rules for the k8s_audit source")
                && err.contains("moat watch --update-rules")
                && err.contains("--rules FILE"),
            "{err}"
        );
        assert!(stdout(&o).is_empty());
    }

    let o = cmd(
        home,
        &[
            "--update-rules",
            "--rules-ref",
            &k8s_ref,
            "--rules-ref",
            &sys_ref,
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("stored {k8s_ref}@{k8s_digest}"))
            && err.contains("as the k8s_audit rules"),
        "{err}"
    );
    assert!(
        err.contains(&format!("stored {sys_ref}@{sys_digest}"))
            && err.contains("as the syscall rules"),
        "{err}"
    );
    // Stored as pulled: the YAML byte for byte, under the digest, with a pointer per source.
    let store = home.join("cache/moat/rules");
    let k8s_hex = k8s_digest.strip_prefix("sha256:").unwrap();
    assert_eq!(
        std::fs::read(store.join(format!("sha256-{k8s_hex}/k8s_audit_rules.yaml"))).unwrap(),
        k8s
    );
    let pointer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("k8s_audit.json")).unwrap()).unwrap();
    assert_eq!(pointer["reference"], k8s_ref.as_str());
    assert_eq!(pointer["digest"], k8s_digest.as_str());
    assert_eq!(pointer["version"], "9.9.9");
    assert!(pointer["fetched"].as_str().unwrap().ends_with('Z'));
    let sys_hex = sys_digest.strip_prefix("sha256:").unwrap();
    assert_eq!(
        std::fs::read(store.join(format!("sha256-{sys_hex}/falco_rules.yaml"))).unwrap(),
        sys
    );

    // Without --rules: the stored k8saudit rules, the same alerts as with --rules FILE.
    let stored = cmd(
        home,
        &["--audit-log", events.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(code(&stored), 0, "{}", stderr(&stored));
    let given = cmd(
        home,
        &[
            "--audit-log",
            events.to_str().unwrap(),
            "--format",
            "json",
            "--rules",
            shared.join(K8S_RULES).to_str().unwrap(),
        ],
    );
    assert_eq!(code(&given), 0, "{}", stderr(&given));
    let alerts = stdout(&stored);
    assert!(alerts.lines().count() >= 40, "{alerts}");
    assert_eq!(alerts, stdout(&given));
    let err = stderr(&stored);
    assert!(
        err.contains(&format!(
            "k8s_audit rules: {k8s_ref}@{k8s_digest} (k8saudit 9.9.9)"
        )) && (err.contains(" seconds ago)") || err.contains(" 1 second ago)")),
        "{err}"
    );

    // A capture without --rules runs the stored syscall rules.
    let capture = shared
        .join("corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files/cat_write.scap");
    if capture.exists() {
        let o = cmd(home, &["--capture", capture.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("syscall rules: {sys_ref}@{sys_digest}")),
            "{}",
            stderr(&o)
        );
    }

    // A tampered layer (the registry serves other bytes under its digest) is refused and
    // the stored rules stay.
    {
        let mut c = content.lock().unwrap();
        let (_, blob) = c
            .get_mut(&format!(
                "/v2/falcosecurity/plugins/ruleset/k8saudit/blobs/{k8s_layer}"
            ))
            .unwrap();
        let n = blob.len();
        blob[n / 2] ^= 0x40;
    }
    let o = cmd(home, &["--update-rules", "--rules-ref", &k8s_ref]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("digest") && err.contains(&k8s_layer), "{err}");
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("k8s_audit.json")).unwrap()).unwrap();
    assert_eq!(after, pointer);
    let again = cmd(
        home,
        &["--audit-log", events.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(stdout(&again), alerts);

    // An artifact of another type is refused by its media type.
    let mut c = content.lock().unwrap();
    let key = "/v2/falcosecurity/rules/falco-rules/manifests/5".to_string();
    let (t, m) = c.get(&key).cloned().unwrap();
    let m = String::from_utf8(m)
        .unwrap()
        .replace(CONFIG_TYPE, "application/vnd.oci.image.config.v1+json");
    c.insert(key, (t, m.into_bytes()));
    drop(c);
    let o = cmd(home, &["--update-rules", "--rules-ref", &sys_ref]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a Falco rulesfile artifact"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn max_events_and_the_summary_for_audit_logs_and_captures() {
    let Some(shared) = shared() else { return };
    let t = tempfile::tempdir().unwrap();
    let events = all_events(&shared, t.path());
    let rules = shared.join(K8S_RULES);
    let o = cmd(
        t.path(),
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--audit-log",
            events.to_str().unwrap(),
            "--max-events",
            "3",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3, "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("moat: 3 events, 3 alerts"), "{err}");
    assert!(err.contains("moat: alerts by priority: "), "{err}");

    // The whole file: the counts by priority add up to the alerts.
    let o = cmd(
        t.path(),
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--audit-log",
            events.to_str().unwrap(),
        ],
    );
    let err = stderr(&o);
    let n = stdout(&o).lines().count();
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("moat: alerts by priority: "))
        .unwrap_or_else(|| panic!("{err}"));
    let sum: usize = line
        .split(", ")
        .map(|p| p.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(sum, n, "{err}");
    assert!(err.contains(&format!("events, {n} alerts")), "{err}");

    // A capture stops at --max-events too.
    let capture = shared
        .join("corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files/cat_write.scap");
    let catch_all = t.path().join("all.yaml");
    std::fs::write(
        &catch_all,
        "- rule: Any open\n  desc: d\n  condition: evt.type in (open, openat, openat2)\n  output: open %fd.name\n  priority: notice\n",
    )
    .unwrap();
    let o = cmd(
        t.path(),
        &[
            "--rules",
            catch_all.to_str().unwrap(),
            "--capture",
            capture.to_str().unwrap(),
            "--max-events",
            "10",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("moat: 10 events, "), "{err}");
}

#[test]
fn ctrl_c_on_a_waiting_audit_log_pipe_ends_with_the_summary() {
    let Some(shared) = shared() else { return };
    let t = tempfile::tempdir().unwrap();
    let events = all_events(&shared, t.path());
    let mut child = isolated(t.path())
        .args([
            "watch",
            "--rules",
            shared.join(K8S_RULES).to_str().unwrap(),
            "--audit-log",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A run that hangs is killed, and fails below.
    let id = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &id])
            .status();
    });
    // The events, then the pipe stays open: moat waits for more.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&std::fs::read(&events).unwrap()).unwrap();
    stdin.flush().unwrap();
    // Its alerts come out while it waits (written out when no more input is at hand).
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(
        first.contains(": Warning ")
            || first.contains(": Notice ")
            || first.contains(": Informational "),
        "{first}"
    );
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    drop(stdin);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        err.contains(" events, ") && err.contains("alerts by priority"),
        "{err}"
    );
}

#[test]
fn validate_knows_the_syscall_fields() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("typo.yaml");
    std::fs::write(
        &f,
        "- rule: Shell\n  desc: d\n  condition: evt.type = execve and proc.name = bash\n  output: shell %proc.cmdline\n  priority: notice\n\
         - rule: Typo\n  desc: d\n  condition: evt.type = execve and proc.nmae = bash\n  output: typo %proc.name\n  priority: notice\n\
         - rule: Bad output\n  desc: d\n  condition: evt.type = open\n  output: open %fd.nmae\n  priority: notice\n",
    )
    .unwrap();
    let o = cmd(
        t.path(),
        &["--validate", f.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let r = &v["falco_load_results"][0];
    assert_eq!(r["successful"], false);
    let errors: Vec<(String, String, u64)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["context"]["item_name"].as_str().unwrap().to_string(),
                e["context"]["item"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (
                "LOAD_ERR_COMPILE_CONDITION".to_string(),
                "Typo".to_string(),
                2
            ),
            (
                "LOAD_ERR_COMPILE_OUTPUT".to_string(),
                "Bad output".to_string(),
                3
            ),
        ]
    );
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("proc.nmae"), "{msg}");

    // Text: the file and the item's position.
    let o = cmd(t.path(), &["--validate", f.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{}: item 2: error LOAD_ERR_COMPILE_CONDITION (rule 'Typo')",
            f.display()
        )),
        "{err}"
    );
    assert_eq!(stdout(&o).trim(), format!("{}: Invalid", f.display()));

    // Falco's stable syscall rules validate.
    let Some(shared) = shared() else { return };
    let o = cmd(
        t.path(),
        &["--validate", shared.join(SYSCALL_RULES).to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// The loader cases of Falco's legacy suite (`validate_rules_file`) through `moat watch
/// --validate --format json`: exactly the expected errors (item type, name, code), at least
/// the expected warnings, now that syscall rules are checked against the syscall fields.
#[test]
fn legacy_validation_cases_through_the_cli() {
    let Some(shared) = shared() else { return };
    let base = shared.join("corpus/falco/falcosecurity-falco-legacy-tests/test");
    let t = tempfile::tempdir().unwrap();
    type Triple = (String, String, String);
    let triples =
        |v: Option<&serde_json::Value>, ctx: bool| -> std::collections::BTreeSet<Triple> {
            v.and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            let c = if ctx { &e["context"] } else { e };
                            let s = |o: &serde_json::Value, k: &str| {
                                o[k].as_str().unwrap_or("").to_string()
                            };
                            (s(c, "item_type"), s(c, "item_name"), s(e, "code"))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
    let mut checked = 0;
    let mut failures = Vec::new();
    for suite in ["falco_tests.yaml", "falco_tests_exceptions.yaml"] {
        let text = std::fs::read_to_string(base.join(suite))
            .unwrap()
            .replace("!mux", "");
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        for (name, case) in doc["trace_files"].as_object().unwrap() {
            let files: Vec<String> = match case.get("validate_rules_file") {
                Some(serde_json::Value::String(s)) => vec![s.clone()],
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                _ => continue,
            };
            checked += 1;
            let mut args = vec!["--validate".to_string()];
            args.extend(files.iter().map(|f| base.join(f).display().to_string()));
            args.extend(["--format".to_string(), "json".to_string()]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = cmd(t.path(), &args);
            let v: serde_json::Value = serde_json::from_str(stdout(&o).trim())
                .unwrap_or_else(|e| panic!("{name}: {e}: {}", stdout(&o)));
            let mut errors = std::collections::BTreeSet::new();
            let mut warnings = std::collections::BTreeSet::new();
            for r in v["falco_load_results"].as_array().unwrap() {
                errors.extend(triples(r.get("errors"), true));
                warnings.extend(triples(r.get("warnings"), true));
            }
            let want_errors = triples(case.get("validate_errors"), false);
            let want_warnings = triples(case.get("validate_warnings"), false);
            if errors != want_errors {
                failures.push(format!(
                    "{suite}/{name}: errors want {want_errors:?}, got {errors:?}"
                ));
            }
            let missing: Vec<_> = want_warnings.difference(&warnings).collect();
            if !missing.is_empty() {
                failures.push(format!("{suite}/{name}: warnings missing {missing:?}"));
            }
            assert_eq!(
                code(&o),
                if want_errors.is_empty() { 0 } else { 2 },
                "{suite}/{name}"
            );
        }
    }
    assert!(checked >= 40, "only {checked} validation cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
