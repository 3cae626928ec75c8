//! The image itself: its run config and the modes of the files its layers leave behind.
//!
//! A Dockerfile is not always at hand (a pulled image, a base image built elsewhere), but
//! what it produced is: the config says which user the container runs as, whether a health
//! check is defined, which ports are exposed; the layers say which files are setuid or
//! world-writable. These checks read only that, so they apply to any image whatever built it.
//!
//! * [`check_config`]: `MOAT-IMG-001..003` over [`ImageConfig`]; a finding names the config
//!   field in its location (`config.User`, `config.Healthcheck`, `config.ExposedPorts`), with
//!   no path or line.
//! * [`check_file`]: `MOAT-IMG-004..005` over one file's path and mode, for the files the
//!   image's final view holds ([`wants_file`] says which to ask about, from the path and
//!   mode alone); the caller adds the path and the layer.
//!
//! Peer ids: Trivy runs its Dockerfile checks over a Dockerfile rebuilt from the history
//! (`DS002` root user, `DS026` no HEALTHCHECK, `DS004` port 22); Dockle's CIS ids
//! (`CIS-DI-0001` user, `CIS-DI-0006` HEALTHCHECK, `CIS-DI-0008` setuid/setgid) are the CIS
//! Docker Benchmark's 4.1, 4.6 and 4.8.

use crate::rule::{Hit, LOGIN_PORTS, Rule};
use moat_model::finding::{Finding, FindingLocation};
use moat_model::{ImageConfig, Severity};

/// The `target_type` of these findings.
pub const TARGET_TYPE: &str = "image";

/// A config check; a hit's `resource` names the config field it is about.
pub type ImageRule = Rule<ImageConfig>;

/// What a file rule sees of a file: its permission bits (`0o7777` at most) and whether it
/// is in a system directory.
pub struct FileMode {
    pub mode: u32,
    pub system: bool,
}

/// A file check.
pub type FileRule = Rule<FileMode>;

/// The config rules, by id.
pub static CONFIG_RULES: &[ImageRule] = &[
    Rule {
        id: "MOAT-IMG-001",
        title: "Image runs as root",
        severity: Severity::High,
        aliases: &["DS002", "DS-0002", "AVD-DS-0002", "CIS-DI-0001", "CIS-4.1"],
        resolution: "Create a user and set it with USER (a numeric UID lets Kubernetes verify runAsNonRoot).",
        check: root_user,
    },
    Rule {
        id: "MOAT-IMG-002",
        title: "Image has no HEALTHCHECK",
        severity: Severity::Low,
        aliases: &["DS026", "DS-0026", "AVD-DS-0026", "CIS-DI-0006", "CIS-4.6"],
        resolution: "Add a HEALTHCHECK so the runtime can tell a hung container from a working one.",
        check: no_healthcheck,
    },
    Rule {
        id: "MOAT-IMG-003",
        title: "Image exposes a remote-login port",
        severity: Severity::Medium,
        aliases: &["DS004", "DS-0004", "AVD-DS-0004"],
        resolution: "Do not run SSH, telnet, RDP or VNC in the container; use docker exec / kubectl exec.",
        check: login_port,
    },
];

/// The file rules, by id; a file is reported by the first that finds it.
pub static FILE_RULES: &[FileRule] = &[
    Rule {
        id: "MOAT-IMG-004",
        title: "Setuid or setgid file",
        severity: Severity::Low,
        aliases: &["CIS-DI-0008", "CIS-4.8"],
        resolution: "Remove the setuid/setgid bits from programs the container does not need to run privileged (chmod a-s).",
        check: setuid,
    },
    Rule {
        id: "MOAT-IMG-005",
        title: "World-writable file in a system directory",
        severity: Severity::Medium,
        aliases: &[],
        resolution: "Remove the write bit for others (chmod o-w): any process in the container can replace this file.",
        check: world_writable,
    },
];

/// Directories whose files belong to the system: programs, libraries, configuration.
const SYSTEM_DIRS: &[&str] = &[
    "bin", "sbin", "usr", "lib", "lib32", "lib64", "libx32", "etc", "boot", "opt",
];

/// The config checks' findings.
pub fn check_config(config: &ImageConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in CONFIG_RULES {
        let mut hits = Vec::new();
        (rule.check)(config, &mut hits);
        for mut hit in hits {
            let field = hit.resource.take();
            let mut f = rule.finding(TARGET_TYPE, "", hit);
            f.location = Some(FindingLocation {
                field,
                ..Default::default()
            });
            out.push(f);
        }
    }
    out
}

fn user_is_root(user: Option<&str>) -> bool {
    let user = user.map(str::trim).unwrap_or("");
    let name = user.split(':').next().unwrap_or(user);
    name.is_empty() || name == "root" || name == "0"
}

fn root_user(c: &ImageConfig, out: &mut Vec<Hit>) {
    if user_is_root(c.user.as_deref()) {
        let message = match c.user.as_deref() {
            Some(u) if !u.trim().is_empty() => format!("the image's user is {u:?}"),
            _ => "the image sets no user: its processes run as root".to_string(),
        };
        out.push(field_hit("config.User", message, c.user.clone()));
    }
}

fn no_healthcheck(c: &ImageConfig, out: &mut Vec<Hit>) {
    let message = match c.healthcheck.as_deref() {
        None | Some([]) => "the image defines no health check",
        Some([first, ..]) if first.eq_ignore_ascii_case("NONE") => {
            "the image turns its health check off (HEALTHCHECK NONE)"
        }
        Some(_) => return,
    };
    out.push(field_hit("config.Healthcheck", message.to_string(), None));
}

fn login_port(c: &ImageConfig, out: &mut Vec<Hit>) {
    for port in &c.exposed_ports {
        let number = port.split('/').next().unwrap_or(port);
        let number = number.parse::<u32>().ok();
        if let Some((p, name)) = LOGIN_PORTS.iter().find(|(p, _)| Some(*p) == number) {
            out.push(field_hit(
                "config.ExposedPorts",
                format!("port {p} ({name}) is exposed"),
                Some(port.clone()),
            ));
        }
    }
}

fn field_hit(field: &str, message: String, cause: Option<String>) -> Hit {
    Hit {
        start_line: 0,
        end_line: 0,
        message,
        cause,
        resource: Some(field.to_string()),
        ..Hit::default()
    }
}

fn in_system_dir(path: &str) -> bool {
    let path = path.trim_start_matches('/');
    let top = path.split('/').next().unwrap_or(path);
    path.contains('/') && SYSTEM_DIRS.contains(&top)
}

/// Whether [`check_file`] can report the regular file at `path` with permission bits `mode`
/// (`0o7777` at most): decided without reading it.
pub fn wants_file(path: &str, mode: u32) -> bool {
    mode & 0o6000 != 0 || (mode & 0o002 != 0 && in_system_dir(path))
}

/// The file checks' finding for the regular file at `path` with permission bits `mode`;
/// the location is left for the caller (the path and layer are the engine's).
pub fn check_file(path: &str, mode: u32) -> Option<Finding> {
    let file = FileMode {
        mode,
        system: in_system_dir(path),
    };
    FILE_RULES.iter().find_map(|rule| {
        let mut hits = Vec::new();
        (rule.check)(&file, &mut hits);
        let mut f = rule.finding(TARGET_TYPE, "", hits.into_iter().next()?);
        f.location = None;
        Some(f)
    })
}

fn setuid(f: &FileMode, out: &mut Vec<Hit>) {
    let bits = match (f.mode & 0o4000 != 0, f.mode & 0o2000 != 0) {
        (false, false) => return,
        (true, true) => "setuid and setgid",
        (true, false) => "setuid",
        (false, true) => "setgid",
    };
    out.push(Hit {
        message: format!("{bits} file (mode {:04o})", f.mode & 0o7777),
        ..Hit::default()
    });
}

fn world_writable(f: &FileMode, out: &mut Vec<Hit>) {
    if f.mode & 0o002 != 0 && f.system {
        out.push(Hit {
            message: format!("world-writable file (mode {:04o})", f.mode & 0o7777),
            ..Hit::default()
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use moat_model::finding::Detail;

    fn ids(c: &ImageConfig) -> Vec<(String, Option<String>)> {
        check_config(c)
            .into_iter()
            .map(|f| (f.id, f.location.and_then(|l| l.field)))
            .collect()
    }

    fn config(user: Option<&str>, health: Option<&[&str]>, ports: &[&str]) -> ImageConfig {
        ImageConfig {
            user: user.map(str::to_string),
            healthcheck: health.map(|h| h.iter().map(|s| s.to_string()).collect()),
            exposed_ports: ports.iter().map(|s| s.to_string()).collect(),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn root_and_missing_healthcheck() {
        let got = ids(&config(None, None, &[]));
        assert_eq!(
            got,
            vec![
                ("MOAT-IMG-001".into(), Some("config.User".into())),
                ("MOAT-IMG-002".into(), Some("config.Healthcheck".into())),
            ]
        );
        for root in ["root", "0", "0:0", "root:staff", " "] {
            assert!(user_is_root(Some(root)), "{root:?}");
        }
        for user in ["app", "1000", "1000:1000", "nobody:nogroup", "rooty"] {
            assert!(!user_is_root(Some(user)), "{user:?}");
        }
    }

    #[test]
    fn a_user_and_a_healthcheck_pass() {
        let c = config(
            Some("10001"),
            Some(&["CMD-SHELL", "curl -f http://localhost/"]),
            &["8080/tcp"],
        );
        assert!(ids(&c).is_empty());
        // HEALTHCHECK NONE turns an inherited check off: reported
        let c = config(Some("app"), Some(&["NONE"]), &[]);
        let f = check_config(&c);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "MOAT-IMG-002");
        assert!(f[0].aliases.contains(&"CIS-DI-0006".to_string()));
    }

    #[test]
    fn login_ports() {
        let c = config(
            Some("app"),
            Some(&["CMD", "true"]),
            &["22/tcp", "2222/tcp", "3389/tcp", "80/tcp"],
        );
        let got: Vec<Option<String>> = check_config(&c)
            .into_iter()
            .map(|f| match f.detail {
                Detail::Misconfiguration(m) => m.cause,
                _ => None,
            })
            .collect();
        assert_eq!(got, vec![Some("22/tcp".into()), Some("3389/tcp".into())]);
    }

    #[test]
    fn file_modes() {
        assert!(wants_file("usr/bin/passwd", 0o4755));
        assert!(wants_file("usr/bin/wall", 0o2755));
        assert!(wants_file("app/run", 0o4755));
        assert!(wants_file("etc/passwd", 0o666));
        assert!(wants_file("/usr/local/bin/tool", 0o777));
        assert!(!wants_file("tmp/scratch", 0o666));
        assert!(!wants_file("var/log/app.log", 0o666));
        assert!(!wants_file("usr", 0o777));
        assert!(!wants_file("usr/bin/ls", 0o755));
        let f = check_file("usr/bin/passwd", 0o4755).unwrap();
        assert_eq!(f.id, "MOAT-IMG-004");
        let Detail::Misconfiguration(m) = &f.detail else {
            panic!()
        };
        assert_eq!(m.message, "setuid file (mode 4755)");
        let f = check_file("usr/bin/ssh-agent", 0o6755).unwrap();
        let Detail::Misconfiguration(m) = &f.detail else {
            panic!()
        };
        assert_eq!(m.message, "setuid and setgid file (mode 6755)");
        let f = check_file("etc/shadow", 0o646).unwrap();
        assert_eq!(f.id, "MOAT-IMG-005");
        assert_eq!(f.severity, Severity::Medium);
        assert!(check_file("srv/data", 0o666).is_none());
    }
}
