//! `moat watch`: rule files and audit events written here (no ../shared needed), alerts in
//! Falco's text and JSON shapes, filters, `--validate`, and the exit codes; one test runs
//! Falco's k8s-audit rules over the legacy suite's recorded events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};

const RULES: &str = r#"
- required_engine_version: 15
- list: sensitive_verbs
  items: [create, delete]
- macro: kevt
  condition: (jevt.value[/stage] in (ResponseComplete))
- rule: Privileged Pod
  desc: a privileged pod
  condition: kevt and ka.verb in (sensitive_verbs) and ka.target.resource=pods and ka.req.pod.containers.privileged intersects (true)
  output: Privileged pod (user=%ka.user.name pod=%ka.resp.name images=%ka.req.pod.containers.image missing=%ka.req.pod.initContainers.image code=%(ka.response.code))
  priority: WARNING
  source: k8s_audit
  tags: [k8s, pods]
- rule: Any Secret Access
  desc: secrets
  condition: kevt and ka.target.resource=secrets and toupper(ka.verb) = GET and not ka.user.name startswith "system:"
  output: "Secret %ka.target.name read by %ka.user.name"
  priority: info
  source: k8s_audit
  tags: [k8s, secrets]
"#;

fn event(verb: &str, resource: &str, user: &str, privileged: bool) -> String {
    format!(
        concat!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a1","stage":"ResponseComplete","#,
            r#""requestURI":"/api/v1/x","verb":"{}","user":{{"username":"{}"}},"objectRef":{{"resource":"{}","namespace":"default","name":"n1"}},"#,
            r#""responseStatus":{{"code":201}},"requestObject":{{"spec":{{"containers":[{{"image":"nginx:1.25","securityContext":{{"privileged":{}}}}},{{"image":"busybox"}}]}}}},"#,
            r#""responseObject":{{"metadata":{{"name":"web-1"}}}},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.123456Z"}}"#
        ),
        verb, user, resource, privileged
    )
}

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let log = dir.path().join("audit.jsonl");
    let mut f = std::fs::File::create(&log).unwrap();
    writeln!(f, "{}", event("create", "pods", "alice", true)).unwrap();
    writeln!(f, "{}", event("create", "pods", "bob", false)).unwrap();
    writeln!(f, "{}", event("get", "secrets", "carol", false)).unwrap();
    writeln!(f, "{}", event("get", "secrets", "system:kube", false)).unwrap();
    writeln!(f, "not json at all").unwrap();
    writeln!(f, r#"{{"kind": 0}}"#).unwrap();
    (dir, rules, log)
}

fn watch(args: &[&str]) -> std::process::Output {
    moat(std::iter::once("watch").chain(args.iter().copied()))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn json_alerts_in_falcos_shape() {
    let (_d, rules, log) = setup();
    let o = watch(&[
        "--rules",
        s(&rules),
        "--audit-log",
        s(&log),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let a = &lines[0];
    assert_eq!(a["rule"], "Privileged Pod");
    assert_eq!(a["priority"], "Warning");
    assert_eq!(a["source"], "k8s_audit");
    assert_eq!(a["tags"], serde_json::json!(["k8s", "pods"]));
    assert_eq!(a["time"], "2024-05-01T10:00:00.123456000Z");
    assert_eq!(
        a["output"],
        "2024-05-01T10:00:00.123456000Z: Warning Privileged pod (user=alice pod=web-1 images=(nginx:1.25,busybox) missing=<NA> code=201)"
    );
    assert_eq!(
        a["output_fields"]["ka.req.pod.containers.image"],
        "(nginx:1.25,busybox)"
    );
    assert_eq!(
        a["output_fields"]["ka.req.pod.initContainers.image"],
        serde_json::Value::Null
    );
    assert_eq!(a["output_fields"]["ka.response.code"], "201");
    assert!(a["hostname"].is_string());
    assert_eq!(lines[1]["rule"], "Any Secret Access");
    assert_eq!(
        lines[1]["output"],
        "2024-05-01T10:00:00.123456000Z: Informational Secret n1 read by carol"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 5: not JSON"), "{err}");
    assert!(
        err.contains("line 6: data not recognized as a k8s audit event"),
        "{err}"
    );
    assert!(
        err.contains("4 events, 2 alerts, 2 payloads skipped"),
        "{err}"
    );
}

#[test]
fn text_lines_filters_and_stdin() {
    let (_d, rules, log) = setup();
    let o = watch(&["--rules", s(&rules), "--audit-log", s(&log)]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        out.lines().next().unwrap(),
        "2024-05-01T10:00:00.123456000Z: Warning Privileged pod (user=alice pod=web-1 images=(nginx:1.25,busybox) missing=<NA> code=201)"
    );
    let count = |args: &[&str]| {
        let mut all = vec!["--rules", s(&rules), "--audit-log", s(&log)];
        all.extend_from_slice(args);
        let o = watch(&all);
        assert_eq!(code(&o), 0);
        String::from_utf8(o.stdout).unwrap().lines().count()
    };
    assert_eq!(count(&["--min-priority", "warning"]), 1);
    assert_eq!(count(&["--min-priority", "ERROR"]), 0);
    assert_eq!(count(&["--disable-tag", "pods"]), 1);
    assert_eq!(count(&["--enable-tag", "pods"]), 1);
    assert_eq!(count(&["--enable-tag", "nothing"]), 0);

    // An EventList spread over several lines, on stdin.
    let list = format!(
        "{{\n  \"kind\": \"EventList\",\n  \"items\": [\n    {},\n    {}\n  ]\n}}\n",
        event("delete", "pods", "dave", true),
        event("get", "secrets", "erin", false)
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(["watch", "--rules", s(&rules), "--audit-log", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.lines().next().unwrap().contains("(user=dave pod=web-1"),
        "{out}"
    );
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .ends_with("Informational Secret n1 read by erin"),
        "{out}"
    );
}

#[test]
fn validate_and_exit_codes() {
    let (d, rules, log) = setup();
    let o = watch(&["--validate", s(&rules)]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        format!("{}: Ok\n", s(&rules))
    );

    let bad = d.path().join("bad.yaml");
    std::fs::write(&bad, "- rule: r\n  desc: d\n  condition: ka.verb = create and\n  output: o\n  priority: info\n  source: k8s_audit\n").unwrap();
    let o = watch(&["--validate", s(&rules), s(&bad), "--format", "json"]);
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let res = &v["falco_load_results"];
    assert_eq!(res[0]["successful"], true);
    assert_eq!(res[1]["successful"], false);
    assert_eq!(res[1]["errors"][0]["code"], "LOAD_ERR_COMPILE_CONDITION");
    assert_eq!(res[1]["errors"][0]["context"]["item_name"], "r");

    let unknown = d.path().join("unknown.yaml");
    std::fs::write(&unknown, "- rule: r\n  desc: d\n  condition: ka.nope = x\n  output: o\n  priority: info\n  source: k8s_audit\n").unwrap();
    let o = watch(&["--rules", s(&unknown), "--audit-log", s(&log)]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("nonexistent field ka.nope"));

    // Unreadable input, no rules, nothing to do: exit 2.
    assert_eq!(
        code(&watch(&[
            "--rules",
            s(&rules),
            "--audit-log",
            "/nonexistent/audit.log"
        ])),
        2
    );
    assert_eq!(code(&watch(&["--audit-log", s(&log)])), 2);
    assert_eq!(code(&watch(&["--rules", s(&rules)])), 2);
    assert_eq!(
        code(&watch(&[
            "--rules",
            s(&rules),
            "--audit-log",
            s(&log),
            "--min-priority",
            "loud"
        ])),
        2
    );
}

#[test]
fn falco_k8s_rules_over_the_recorded_events() {
    let base = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/falco"
    ));
    if !base.exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{} is missing (CI=true)",
            base.display()
        );
        eprintln!("skipped: {} not found", base.display());
        return;
    }
    let rules = base.join("falcosecurity-plugins/plugins/k8saudit/rules/k8s_audit_rules.yaml");
    let ev = base.join("falcosecurity-falco-legacy-tests/test/trace_files/k8s_audit/create_configmap_sensitive_values.json");
    let o = watch(&[
        "--rules",
        s(&rules),
        "--audit-log",
        s(&ev),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let rules_fired: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["rule"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        rules_fired,
        vec!["Create/Modify Configmap With Private Credentials"; 6]
    );
}
