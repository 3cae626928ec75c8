//! Docker Compose files (`compose.yaml`, `docker-compose.yml` and their variants): each
//! service checked for what gives a container the host (privileged mode, the host's network,
//! PID or IPC namespace, the Docker socket, added capabilities, disabled seccomp or AppArmor),
//! ports published on every interface, and secrets written into the environment.
//!
//! Both syntaxes of the Compose specification are read: short (`"8080:80"`,
//! `"/var/run/docker.sock:/var/run/docker.sock"`, `KEY=VALUE` lists) and long (mappings with
//! `published`/`host_ip`, `type: bind`/`source`, environment mappings). A finding names the
//! service (`service:web`) and the line its definition starts at.

use crate::rule::{Hit, Rule};
use moat_model::{Diagnostic, Severity};
use serde_json::Value;

/// The largest Compose file read.
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// Whether a file name is a Compose file's.
pub fn is_compose_file(name: &str) -> bool {
    let n = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let stem = n.strip_suffix(".yml").or_else(|| n.strip_suffix(".yaml"));
    stem.is_some_and(|s| {
        s == "compose"
            || s == "docker-compose"
            || s.starts_with("docker-compose.")
            || s.starts_with("compose.")
    })
}

/// A parsed Compose file: its services in file order, each with the line it starts at.
pub struct Compose {
    pub services: Vec<Service>,
}

pub struct Service {
    pub name: String,
    pub line: u32,
    pub value: Value,
}

/// Reads a Compose file; a file that is not one (no `services` mapping) has no services.
pub fn parse(bytes: &[u8]) -> Result<Compose, Diagnostic> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::new(
            moat_model::Code::TooLarge,
            format!(
                "{} bytes, over the limit of {MAX_FILE_BYTES} for a Compose file",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
        .map_err(|_| Diagnostic::parse("not UTF-8 text"))?;
    let v: Value =
        serde_saphyr::from_str_with_options(text, crate::k8s::yaml_options()).map_err(|e| {
            let msg = e.to_string();
            Diagnostic::parse(format!(
                "invalid YAML: {}",
                msg.lines().next().unwrap_or("").trim()
            ))
        })?;
    let mut services = Vec::new();
    if let Some(map) = v.get("services").and_then(Value::as_object) {
        let services_line = line_of(text, 0, "services");
        for (name, value) in map {
            services.push(Service {
                line: line_of(text, services_line, name),
                name: name.clone(),
                value: value.clone(),
            });
        }
        services.sort_by_key(|s| s.line);
    }
    Ok(Compose { services })
}

/// The first line after `after` that defines the key `key` (`key:` at the start, after
/// indentation, bare or quoted); `after` when none is found.
fn line_of(text: &str, after: u32, key: &str) -> u32 {
    for (i, l) in text.lines().enumerate().skip(after as usize) {
        let t = l.trim_start();
        let t = t.trim_start_matches(['"', '\'']);
        if let Some(rest) = t.strip_prefix(key) {
            let rest = rest.trim_start_matches(['"', '\'']);
            if rest.starts_with(':') {
                return i as u32 + 1;
            }
        }
    }
    after.max(1)
}

fn hit(s: &Service, message: String, cause: Option<String>) -> Hit {
    Hit {
        start_line: s.line,
        end_line: s.line,
        message: format!("service {:?}: {message}", s.name),
        cause,
        resource: Some(format!("service:{}", s.name)),
        file: None,
    }
}

fn text(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

fn items(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
}

fn privileged(c: &Compose, out: &mut Vec<Hit>) {
    for s in &c.services {
        if s.value.get("privileged").and_then(Value::as_bool) == Some(true) {
            out.push(hit(
                s,
                "runs privileged".into(),
                Some("privileged: true".into()),
            ));
        }
    }
}

fn host_namespaces(c: &Compose, out: &mut Vec<Hit>) {
    for s in &c.services {
        let mut set = Vec::new();
        if text(s.value.get("network_mode")) == "host" {
            set.push("network_mode: host");
        }
        if text(s.value.get("pid")) == "host" {
            set.push("pid: host");
        }
        if text(s.value.get("ipc")) == "host" {
            set.push("ipc: host");
        }
        if text(s.value.get("userns_mode")) == "host" {
            set.push("userns_mode: host");
        }
        if !set.is_empty() {
            out.push(hit(
                s,
                format!("shares the host's namespaces ({})", set.join(", ")),
                Some(set.join("\n")),
            ));
        }
    }
}

/// The host side of a volume: `SRC:DST[:MODE]` or `{type: bind, source: SRC}`.
fn volume_source(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => {
            let src = s.split(':').next()?;
            (src.starts_with('/') || src.starts_with('.') || src.starts_with('~')).then_some(src)
        }
        Value::Object(_) => v.get("source").and_then(Value::as_str),
        _ => None,
    }
}

fn runtime_socket(c: &Compose, out: &mut Vec<Hit>) {
    for s in &c.services {
        for v in items(s.value.get("volumes")) {
            let Some(src) = volume_source(v) else {
                continue;
            };
            let src = src.trim_end_matches('/');
            if src.ends_with("/docker.sock")
                || src.ends_with("/containerd.sock")
                || src.ends_with("/crio.sock")
                || src.ends_with("/podman.sock")
            {
                out.push(hit(
                    s,
                    format!("mounts the container runtime's socket {src} (root on the host)"),
                    Some(src.to_string()),
                ));
            }
        }
    }
}

fn cap_add(c: &Compose, out: &mut Vec<Hit>) {
    for s in &c.services {
        let caps: Vec<&str> = items(s.value.get("cap_add"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let dangerous: Vec<&str> = caps
            .iter()
            .copied()
            .filter(|k| {
                matches!(
                    k.trim_start_matches("CAP_").to_ascii_uppercase().as_str(),
                    "ALL"
                        | "SYS_ADMIN"
                        | "SYS_PTRACE"
                        | "SYS_MODULE"
                        | "NET_ADMIN"
                        | "NET_RAW"
                        | "DAC_READ_SEARCH"
                        | "SYS_RAWIO"
                        | "BPF"
                        | "PERFMON"
                        | "SYS_BOOT"
                        | "MAC_ADMIN"
                )
            })
            .collect();
        if !dangerous.is_empty() {
            out.push(hit(
                s,
                format!("adds the capabilities {}", dangerous.join(", ")),
                Some(format!("cap_add: [{}]", caps.join(", "))),
            ));
        }
    }
}

fn unconfined(c: &Compose, out: &mut Vec<Hit>) {
    for s in &c.services {
        for o in items(s.value.get("security_opt"))
            .iter()
            .filter_map(Value::as_str)
        {
            let o2 = o.replace('=', ":");
            if o2 == "seccomp:unconfined"
                || o2 == "apparmor:unconfined"
                || o2 == "label:disable"
                || o2 == "no-new-privileges:false"
            {
                out.push(hit(
                    s,
                    format!("disables a protection (security_opt {o})"),
                    Some(o.to_string()),
                ));
            }
        }
    }
}

/// Ports published on every interface: a short port with a host port and no host IP, or a
/// long port with `published` and no `host_ip` (or `0.0.0.0` / `::`).
fn all_interfaces(c: &Compose, out: &mut Vec<Hit>) {
    for s in &c.services {
        let mut open = Vec::new();
        for p in items(s.value.get("ports")) {
            match p {
                Value::String(t) => {
                    let t = t.split('/').next().unwrap_or(t);
                    let parts: Vec<&str> = t.rsplitn(3, ':').collect();
                    match parts.len() {
                        2 => open.push(t.to_string()),
                        3 if matches!(parts[2], "0.0.0.0" | "[::]" | "::") => {
                            open.push(t.to_string())
                        }
                        _ => {}
                    }
                }
                Value::Number(_) => {}
                Value::Object(_) => {
                    let published = p.get("published").is_some_and(|x| !x.is_null());
                    let ip = text(p.get("host_ip"));
                    if published && matches!(ip, "" | "0.0.0.0" | "::") {
                        open.push(format!(
                            "{}:{}",
                            p["published"].to_string().trim_matches('"'),
                            p.get("target").map(|t| t.to_string()).unwrap_or_default()
                        ));
                    }
                }
                _ => {}
            }
        }
        if !open.is_empty() {
            out.push(hit(s, format!("publishes ports on every interface ({}); bind them to 127.0.0.1 unless they must be reachable", open.join(", ")), None));
        }
    }
}

fn env_secrets(c: &Compose, out: &mut Vec<Hit>) {
    for s in &c.services {
        let mut names = Vec::new();
        let mut check = |k: &str, v: &str| {
            if crate::k8s::rules::secret_like_name(k) && !v.is_empty() && !v.starts_with('$') {
                names.push(k.to_string());
            }
        };
        match s.value.get("environment") {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    check(k, v.as_str().unwrap_or(""));
                }
            }
            Some(Value::Array(a)) => {
                for e in a.iter().filter_map(Value::as_str) {
                    if let Some((k, v)) = e.split_once('=') {
                        check(k, v);
                    }
                }
            }
            _ => {}
        }
        if !names.is_empty() {
            out.push(hit(s, format!("writes secrets into its environment ({}); use Compose secrets or a variable from outside the file", names.join(", ")), None));
        }
    }
}

fn root_user(c: &Compose, out: &mut Vec<Hit>) {
    for s in &c.services {
        let u = match s.value.get("user") {
            Some(Value::String(u)) => u.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        let user = u.split(':').next().unwrap_or("");
        if user == "root" || user == "0" {
            out.push(hit(
                s,
                format!("runs as root (user: {u})"),
                Some(format!("user: {u}")),
            ));
        }
    }
}

macro_rules! compose_rule {
    ($id:literal, $sev:ident, $title:literal, [$($alias:literal),* $(,)?], $fix:literal, $check:expr) => {
        Rule { id: $id, title: $title, severity: Severity::$sev, aliases: &[$($alias),*], resolution: $fix, check: $check }
    };
}

/// Every Compose rule, by id.
pub static RULES: &[Rule<Compose>] = &[
    compose_rule!(
        "MOAT-DC-001",
        High,
        "Service runs privileged",
        [],
        "Remove `privileged: true`; add only the capabilities needed.",
        privileged
    ),
    compose_rule!(
        "MOAT-DC-002",
        High,
        "Service shares the host's namespaces",
        [],
        "Remove `network_mode: host`, `pid: host`, `ipc: host` and `userns_mode: host`.",
        host_namespaces
    ),
    compose_rule!(
        "MOAT-DC-003",
        Critical,
        "Container runtime socket mounted",
        [],
        "Do not mount docker.sock (or containerd's, CRI-O's, Podman's): it gives root on the host.",
        runtime_socket
    ),
    compose_rule!(
        "MOAT-DC-004",
        High,
        "Dangerous capabilities added",
        [],
        "Remove SYS_ADMIN, NET_ADMIN, SYS_PTRACE and the like from cap_add.",
        cap_add
    ),
    compose_rule!(
        "MOAT-DC-005",
        High,
        "Seccomp, AppArmor or SELinux disabled",
        [],
        "Remove the `unconfined` / `label:disable` security_opt.",
        unconfined
    ),
    compose_rule!(
        "MOAT-DC-006",
        Medium,
        "Ports published on every interface",
        [],
        "Publish as 127.0.0.1:HOST:CONTAINER (or host_ip: 127.0.0.1) unless the port must be reachable from other hosts.",
        all_interfaces
    ),
    compose_rule!(
        "MOAT-DC-007",
        High,
        "Secrets in the environment",
        [],
        "Use Compose `secrets:` (files under /run/secrets) or `${VAR}` from outside the file.",
        env_secrets
    ),
    compose_rule!(
        "MOAT-DC-008",
        Medium,
        "Service runs as root",
        [],
        "Set `user:` to an unprivileged UID.",
        root_user
    ),
];

/// The `target_type` of Compose findings.
pub const TARGET_TYPE: &str = "compose";

/// Every Compose rule over one file; a file that does not parse is one diagnostic.
pub fn check(path: &str, bytes: &[u8]) -> crate::dockerfile::Checked {
    match parse(bytes) {
        Ok(c) => {
            let mut findings = Vec::new();
            for rule in RULES {
                let mut hits = Vec::new();
                (rule.check)(&c, &mut hits);
                findings.extend(hits.into_iter().map(|h| rule.finding(TARGET_TYPE, path, h)));
            }
            crate::dockerfile::Checked {
                findings,
                diagnostics: Vec::new(),
            }
        }
        Err(d) => crate::dockerfile::Checked {
            findings: Vec::new(),
            diagnostics: vec![d.at(path, None)],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Vec<(&'static str, u32, String)> {
        let c = parse(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        for r in RULES {
            let mut hits = Vec::new();
            (r.check)(&c, &mut hits);
            out.extend(
                hits.into_iter()
                    .map(|h| (r.id, h.start_line, h.resource.unwrap_or_default())),
            );
        }
        out
    }

    #[test]
    fn names() {
        for n in [
            "compose.yaml",
            "docker-compose.yml",
            "x/docker-compose.prod.yml",
            "compose.override.yaml",
        ] {
            assert!(is_compose_file(n), "{n}");
        }
        for n in ["composer.yaml", "k8s.yaml", "docker-compose.json"] {
            assert!(!is_compose_file(n), "{n}");
        }
    }

    #[test]
    fn a_careless_file_and_a_careful_one() {
        let bad = r#"services:
  web:
    image: nginx
    privileged: true
    ports: ["8080:80", "127.0.0.1:9090:90", {target: 443, published: 8443}]
    environment:
      DB_PASSWORD: hunter2
      API_TOKEN: ${API_TOKEN}
  agent:
    image: agent
    network_mode: host
    pid: host
    user: "0:0"
    cap_add: [SYS_ADMIN, CHOWN]
    security_opt: ["seccomp:unconfined"]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - {type: bind, source: /run/containerd/containerd.sock, target: /c.sock}
    environment: ["SECRET_KEY=abc", "PASSWORD_FILE=/run/secrets/p"]
"#;
        assert_eq!(
            run(bad),
            [
                ("MOAT-DC-001", 2, "service:web".to_string()),
                ("MOAT-DC-002", 9, "service:agent".to_string()),
                ("MOAT-DC-003", 9, "service:agent".to_string()),
                ("MOAT-DC-003", 9, "service:agent".to_string()),
                ("MOAT-DC-004", 9, "service:agent".to_string()),
                ("MOAT-DC-005", 9, "service:agent".to_string()),
                ("MOAT-DC-006", 2, "service:web".to_string()),
                ("MOAT-DC-007", 2, "service:web".to_string()),
                ("MOAT-DC-007", 9, "service:agent".to_string()),
                ("MOAT-DC-008", 9, "service:agent".to_string()),
            ]
        );
        let good = "services:\n  web:\n    image: nginx:1.27\n    user: \"10001\"\n    ports: [\"127.0.0.1:8080:80\", \"80\"]\n    read_only: true\n    environment:\n      DB_PASSWORD_FILE: /run/secrets/db\n      TOKEN: ${TOKEN}\n    volumes: [\"./html:/usr/share/nginx/html:ro\", \"data:/data\"]\n";
        assert_eq!(run(good), []);
        assert!(parse(b"services: [").is_err());
        assert!(parse(b"version: '3'\n").unwrap().services.is_empty());
    }
}
