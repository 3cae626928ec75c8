//! `--image-report`: alerts joined to what moat knows about the container's image. A report
//! is a moat JSON report (`moat scan --format json`, or `moat sbom --format json`: the same
//! inventory without findings) or a moat CycloneDX SBOM. An alert whose image matches a
//! report's (by digest when both have one, else by repository and tag, `nginx` read as
//! `docker.io/library/nginx:latest`) gains the output fields `moat.image.digest`,
//! `moat.vulns.critical` and `moat.vulns.high`, and, when it names an executed file that a
//! package of the report owns, `moat.package`; its output text says the same at the end.
//!
//! Package file lists: the owner of an executed file is known from reports that list each
//! package's files (a `files` array on a JSON report's package, or CycloneDX
//! `evidence.occurrences`): moat's own with `--package-files` (`scan`, `inventory`, `sbom`),
//! which list the package databases' paths (dpkg's `/bin/bash` on a merged-/usr image
//! where the process runs as `/usr/bin/bash`: [`ImageReport::owner`] tries both).

use crate::sink::Alert;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A report that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("cannot read image report {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("image report {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The largest report read.
pub const MAX_REPORT: u64 = 256 << 20;

/// An image reference, normalised: `docker.io/library/nginx`, `1.25`, `sha256:...` (the one
/// normaliser of moat-registry, which the server's admission webhook uses too).
pub use moat_registry::ImageRef;

/// What one report says about its image.
#[derive(Debug, Clone, Default)]
pub struct ImageReport {
    pub file: PathBuf,
    /// The image's names (the artifact's name and repo tags).
    pub names: Vec<ImageRef>,
    /// The image's manifest digest.
    pub digest: Option<String>,
    /// Critical and high vulnerability counts; `None` when the report has no vulnerability
    /// data (an SBOM).
    pub critical: Option<u64>,
    pub high: Option<u64>,
    /// Owned file path to (package name, version).
    pub files: HashMap<String, (String, String)>,
}

impl ImageReport {
    /// Reads a report file.
    pub fn load(path: &Path) -> Result<ImageReport, JoinError> {
        let read = |source| JoinError::Read {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read)?;
        if meta.len() > MAX_REPORT {
            return Err(JoinError::Invalid {
                path: path.to_path_buf(),
                message: format!("larger than {} MiB", MAX_REPORT >> 20),
            });
        }
        let data = std::fs::read(path).map_err(read)?;
        Self::parse(&data, path)
    }

    /// Parses a report's bytes (`path` names it in errors).
    pub fn parse(data: &[u8], path: &Path) -> Result<ImageReport, JoinError> {
        let bad = |message: String| JoinError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let v: serde_json::Value =
            serde_json::from_slice(data).map_err(|e| bad(format!("not JSON: {e}")))?;
        let mut r = ImageReport {
            file: path.to_path_buf(),
            ..ImageReport::default()
        };
        if v.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
            cyclonedx(&v, &mut r);
        } else if let Some(a) = v.get("artifact").filter(|a| a.is_object()) {
            moat_json(&v, a, &mut r);
        } else {
            return Err(bad(
                "neither a moat JSON report (no \"artifact\") nor a CycloneDX SBOM".into(),
            ));
        }
        if r.names.is_empty() && r.digest.is_none() {
            return Err(bad(
                "the report names no image (no name and no digest)".into()
            ));
        }
        Ok(r)
    }

    /// Whether `image` is this report's image: by digest when both have one, else by
    /// repository and tag.
    pub fn matches(&self, image: &ImageRef) -> bool {
        if let (Some(d), Some(mine)) = (&image.digest, &self.digest) {
            return d == mine;
        }
        image.tag.is_some()
            && self
                .names
                .iter()
                .any(|n| n.repository == image.repository && n.tag == image.tag)
    }

    /// The package owning `path`, trying the `/bin` and `/usr/bin` spellings of merged-/usr
    /// systems (`/bin`, `/sbin` and the `/lib` directories are symlinks into `/usr` there).
    pub fn owner(&self, path: &str) -> Option<&(String, String)> {
        if let Some(o) = self.files.get(path) {
            return Some(o);
        }
        const MERGED: [&str; 6] = ["/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"];
        let merged = |p: &str| MERGED.iter().any(|m| p.starts_with(m));
        let alt = match path.strip_prefix("/usr") {
            Some(rest) if merged(rest) => rest.to_string(),
            _ if merged(path) => format!("/usr{path}"),
            _ => return None,
        };
        self.files.get(&alt)
    }
}

fn add_name(r: &mut ImageReport, s: &str) {
    if let Some(n) = ImageRef::parse(s)
        && n.tag.is_some()
        && !r.names.contains(&n)
    {
        r.names.push(n);
    }
}

fn moat_json(v: &serde_json::Value, a: &serde_json::Value, r: &mut ImageReport) {
    if let Some(n) = a.get("name").and_then(|n| n.as_str()) {
        add_name(r, n);
    }
    for t in a
        .get("repo_tags")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(t) = t.as_str() {
            add_name(r, t);
        }
    }
    r.digest = a
        .get("manifest_digest")
        .and_then(|d| d.as_str())
        .map(str::to_ascii_lowercase);
    if let Some(findings) = v.get("findings").and_then(|f| f.as_array()) {
        let (mut c, mut h) = (0, 0);
        for f in findings {
            if f.get("kind").and_then(|k| k.as_str()) != Some("vulnerability") {
                continue;
            }
            match f.get("severity").and_then(|s| s.as_str()) {
                Some(s) if s.eq_ignore_ascii_case("critical") => c += 1,
                Some(s) if s.eq_ignore_ascii_case("high") => h += 1,
                _ => {}
            }
        }
        (r.critical, r.high) = (Some(c), Some(h));
    }
    owned_files(v, "/packages", "/files", r, |f| {
        f.as_str()
            .or_else(|| f.get("path").and_then(|p| p.as_str()))
    });
}

/// Records which package owns each file: the packages under `list`, their files under
/// `files`, each file's path read by `path`.
fn owned_files(
    v: &serde_json::Value,
    list: &str,
    files: &str,
    r: &mut ImageReport,
    path: impl Fn(&serde_json::Value) -> Option<&str>,
) {
    for p in v
        .pointer(list)
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(version)) = (
            p.get("name").and_then(|n| n.as_str()),
            p.get("version").and_then(|n| n.as_str()),
        ) else {
            continue;
        };
        for f in p
            .pointer(files)
            .and_then(|f| f.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(path) = path(f) {
                r.files
                    .entry(path.to_string())
                    .or_insert_with(|| (name.to_string(), version.to_string()));
            }
        }
    }
}

fn cyclonedx(v: &serde_json::Value, r: &mut ImageReport) {
    let comp = v.pointer("/metadata/component");
    if let Some(c) = comp {
        for p in c
            .get("properties")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            if p.get("name").and_then(|n| n.as_str()) == Some("moat:artifact:manifest_digest") {
                r.digest = p
                    .get("value")
                    .and_then(|d| d.as_str())
                    .map(str::to_ascii_lowercase);
            }
        }
        if let Some(n) = c.get("name").and_then(|n| n.as_str()) {
            add_name(r, n);
        }
        if r.digest.is_none() {
            r.digest = c
                .get("version")
                .and_then(|d| d.as_str())
                .filter(|d| d.starts_with("sha256:"))
                .map(str::to_ascii_lowercase);
        }
    }
    if let Some(vulns) = v.get("vulnerabilities").and_then(|f| f.as_array()) {
        let (mut c, mut h) = (0, 0);
        for x in vulns {
            let sev = |s: &str| {
                x.get("ratings")
                    .and_then(|r| r.as_array())
                    .into_iter()
                    .flatten()
                    .any(|r| {
                        r.get("severity")
                            .and_then(|v| v.as_str())
                            .is_some_and(|v| v.eq_ignore_ascii_case(s))
                    })
            };
            if sev("critical") {
                c += 1;
            } else if sev("high") {
                h += 1;
            }
        }
        (r.critical, r.high) = (Some(c), Some(h));
    }
    owned_files(v, "/components", "/evidence/occurrences", r, |o| {
        o.get("location").and_then(|l| l.as_str())
    });
}

/// Joins `alert` to the first report whose image is one of `images` (the alert's container
/// images, as the event names them); `exe` is the executed file when the event has one.
/// Returns whether a report matched.
pub fn join(
    alert: &mut Alert,
    images: &[&str],
    exe: Option<&str>,
    reports: &[ImageReport],
) -> bool {
    let Some(report) = images
        .iter()
        .filter_map(|i| ImageRef::parse(i))
        .find_map(|i| reports.iter().find(|r| r.matches(&i)))
    else {
        return false;
    };
    let mut notes = Vec::new();
    let fields = &mut alert.output_fields;
    let mut set = |k: &str, v: Option<String>| {
        fields.retain(|(n, _)| &**n != k);
        fields.push((std::sync::Arc::from(k), v));
    };
    set("moat.image.digest", report.digest.clone());
    set(
        "moat.vulns.critical",
        report.critical.map(|n| n.to_string()),
    );
    set("moat.vulns.high", report.high.map(|n| n.to_string()));
    if let (Some(c), Some(h)) = (report.critical, report.high) {
        notes.push(format!(
            "image {} has {c} critical and {h} high vulnerabilities",
            report.digest.as_deref().unwrap_or("(no digest)")
        ));
    }
    if let Some(exe) = exe
        && let Some((name, version)) = report.owner(exe)
    {
        set("moat.package", Some(format!("{name} {version}")));
        notes.push(format!("{exe} comes from {name} {version}"));
    }
    for n in notes {
        alert.output.push_str("; ");
        alert.output.push_str(&n);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            time: "2024-05-01T10:00:00.000000000Z".into(),
            rule: "Terminal shell in container".into(),
            priority: "Notice",
            output: "A shell was spawned".into(),
            output_fields: vec![("proc.exepath".into(), Some("/bin/bash".into()))],
            source: "syscall".into(),
            tags: Vec::<String>::new().into(),
            hostname: "h".into(),
        }
    }

    const DIGEST: &str = "sha256:90fb611c461c437870ef7d4e02138e5ce471ec3017bb69fba5e1eff912b91ed5";

    fn scan_report() -> String {
        serde_json::json!({
            "schema_version": "2.0",
            "artifact": {"name": "registry.example/team/app:1.0", "kind": "registry",
                         "repo_tags": ["nginx:1.25"], "manifest_digest": DIGEST},
            "packages": [
                {"id": "deb:bash", "name": "bash", "version": "5.2.15-2+b2", "type": "deb",
                 "files": ["/bin/bash", "/usr/share/doc/bash/copyright"]},
                {"id": "deb:coreutils", "name": "coreutils", "version": "9.1-1", "type": "deb",
                 "files": [{"path": "/usr/bin/ls"}]},
                {"id": "deb:libc6", "name": "libc6", "version": "2.36-9", "type": "deb",
                 "files": ["/usr/lib64/ld-linux-x86-64.so.2"]},
                {"id": "deb:lib32", "name": "lib32", "version": "1", "type": "deb",
                 "files": ["/lib32/x.so"]},
            ],
            "findings": [
                {"kind": "vulnerability", "id": "CVE-1", "severity": "CRITICAL"},
                {"kind": "vulnerability", "id": "CVE-2", "severity": "CRITICAL"},
                {"kind": "vulnerability", "id": "CVE-3", "severity": "CRITICAL"},
                {"kind": "vulnerability", "id": "CVE-4", "severity": "HIGH"},
                {"kind": "vulnerability", "id": "CVE-5", "severity": "LOW"},
                {"kind": "secret", "id": "aws", "severity": "CRITICAL"},
            ],
        })
        .to_string()
    }

    #[test]
    fn image_refs_normalise() {
        let p = |s| ImageRef::parse(s).unwrap();
        assert_eq!(p("nginx"), p("docker.io/library/nginx:latest"));
        assert_eq!(p("nginx:1.25"), p("index.docker.io/library/nginx:1.25"));
        assert_eq!(p("docker.io/nginx:1.25"), p("nginx:1.25"));
        assert_eq!(p("bitnami/redis:7").repository, "docker.io/bitnami/redis");
        let r = p("localhost:5000/a/b:2@sha256:ABC");
        assert_eq!(r.repository, "localhost:5000/a/b");
        assert_eq!(r.tag.as_deref(), Some("2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(p("quay.io/x/y@sha256:1").tag, None);
        assert!(ImageRef::parse("").is_none());
        assert!(ImageRef::parse("a b").is_none());
        assert!(ImageRef::parse("x@nodigest").is_none());
    }

    #[test]
    fn joins_by_tag_and_digest_with_the_owning_package() {
        let r = ImageReport::parse(scan_report().as_bytes(), Path::new("r.json")).unwrap();
        assert_eq!((r.critical, r.high), (Some(3), Some(1)));
        let reports = [r];

        let mut a = alert();
        assert!(join(
            &mut a,
            &["busybox", "nginx:1.25"],
            Some("/usr/bin/bash"),
            &reports
        ));
        let f: HashMap<_, _> = a.output_fields.iter().cloned().collect();
        assert_eq!(f["moat.image.digest"].as_deref(), Some(DIGEST));
        assert_eq!(f["moat.vulns.critical"].as_deref(), Some("3"));
        assert_eq!(f["moat.vulns.high"].as_deref(), Some("1"));
        assert_eq!(f["moat.package"].as_deref(), Some("bash 5.2.15-2+b2"));
        assert_eq!(
            a.output,
            format!(
                "A shell was spawned; image {DIGEST} has 3 critical and 1 high vulnerabilities; \
                 /usr/bin/bash comes from bash 5.2.15-2+b2"
            )
        );

        // /lib64 is /usr/lib64 (and the reverse)
        let r = &reports[0];
        assert_eq!(
            r.owner("/lib64/ld-linux-x86-64.so.2"),
            Some(&("libc6".into(), "2.36-9".into()))
        );
        assert_eq!(
            r.owner("/usr/lib32/x.so"),
            Some(&("lib32".into(), "1".into()))
        );
        assert_eq!(r.owner("/usr/lib64x/y"), None);
        assert_eq!(r.owner("/usr/share/z"), None);

        // By digest (the tag does not matter then); /bin/ls is /usr/bin/ls.
        let mut a = alert();
        let img = format!("other:9@{DIGEST}");
        assert!(join(&mut a, &[&img], Some("/bin/ls"), &reports));
        assert!(a.output.ends_with("; /bin/ls comes from coreutils 9.1-1"));
        // A different digest does not match, even with the same tag.
        let mut a = alert();
        assert!(!join(
            &mut a,
            &["nginx:1.25@sha256:0000"],
            Some("/bin/bash"),
            &reports
        ));
        assert_eq!(a, alert());
        // The artifact's own name matches; an unowned file adds no package.
        let mut a = alert();
        assert!(join(
            &mut a,
            &["registry.example/team/app:1.0"],
            Some("/tmp/x"),
            &reports
        ));
        assert!(!a.output_fields.iter().any(|(k, _)| &**k == "moat.package"));
        assert!(!join(&mut alert(), &["nginx:1.24"], None, &reports));
    }

    #[test]
    fn cyclonedx_and_bad_reports() {
        let cdx = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"component": {"type": "container", "name": "debian-base.oci.tar:latest",
                "version": DIGEST,
                "properties": [{"name": "moat:artifact:manifest_digest", "value": DIGEST}]}},
            "components": [{"type": "library", "name": "bash", "version": "5.2.15-2+b13",
                "evidence": {"occurrences": [{"location": "/usr/bin/bash"}]}}],
        });
        let r = ImageReport::parse(cdx.to_string().as_bytes(), Path::new("s.cdx.json")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(DIGEST));
        assert_eq!((r.critical, r.high), (None, None));
        let mut a = alert();
        assert!(join(
            &mut a,
            &[&format!("x@{DIGEST}")],
            Some("/bin/bash"),
            &[r]
        ));
        let f: HashMap<_, _> = a.output_fields.iter().cloned().collect();
        assert_eq!(f["moat.vulns.critical"], None);
        assert_eq!(
            a.output,
            "A shell was spawned; /bin/bash comes from bash 5.2.15-2+b13"
        );

        let e = ImageReport::parse(b"{", Path::new("bad.json")).unwrap_err();
        assert!(
            e.to_string().starts_with("image report bad.json: not JSON"),
            "{e}"
        );
        let e = ImageReport::parse(b"{\"x\":1}", Path::new("o.json")).unwrap_err();
        assert!(e.to_string().contains("neither a moat JSON report"), "{e}");
        let e = ImageReport::load(Path::new("/nonexistent/r.json")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/r.json"), "{e}");
    }
}
