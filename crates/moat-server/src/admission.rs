//! The Kubernetes admission webhook: `POST /admission` takes an `AdmissionReview`
//! (admission.k8s.io/v1) for a Pod or a workload, checks each container image against the
//! policy from what the store knows of it, and answers allowed or denied with the reasons.
//!
//! The verdict comes from the store (no scan happens in the API server's time budget): an
//! image the store does not know is allowed or denied as the policy's `unknown_image` says.
//! Images are found by digest when the reference has one, else by name (`nginx:1.25` and
//! `docker.io/library/nginx:1.25` are the same name), the most recent submission first.

use crate::store::{Store, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The admission policy (`--admission-policy FILE`, TOML).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Deny an image with a finding at or above this severity (`CRITICAL`, `HIGH`, ...).
    #[serde(default)]
    pub deny_severity: Option<String>,
    /// Findings without a fixed version do not count.
    #[serde(default)]
    pub ignore_unfixed: bool,
    /// Finding ids (or aliases) that never count.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Only images from these registries or repository prefixes (`registry.example.com`,
    /// `docker.io/library`); empty: any.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// `deny` (fail closed, the default) or `allow` an image the store does not know.
    #[serde(default = "deny")]
    pub unknown_image: String,
}

fn deny() -> String {
    "deny".into()
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            deny_severity: None,
            ignore_unfixed: false,
            ignore: Vec::new(),
            allowed_registries: Vec::new(),
            unknown_image: deny(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Policy {
    /// Reads and checks a policy file's text.
    pub fn parse(text: &str, path: &str) -> Result<Policy, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            path: path.to_string(),
            message,
        };
        let p: Policy = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if let Some(s) = &p.deny_severity
            && moat_model::Severity::from_label(s).is_none()
        {
            return Err(invalid(format!(
                "deny_severity {s:?}: use CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN"
            )));
        }
        if p.unknown_image != "deny" && p.unknown_image != "allow" {
            return Err(invalid(format!(
                "unknown_image {:?}: use deny or allow",
                p.unknown_image
            )));
        }
        Ok(p)
    }
}

/// An image reference split as the store names images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `registry/repository`, Docker Hub spelled `docker.io/library/x` or `docker.io/u/x`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(s: &str) -> ImageRef {
        let s = s.trim();
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        // A tag is after the last ':' that comes after the last '/'.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repo, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
            None => (rest, None),
        };
        let first = repo.split('/').next().unwrap_or("");
        let has_registry = repo.contains('/')
            && (first.contains('.') || first.contains(':') || first == "localhost");
        let repository = if has_registry {
            let r = repo.replacen("index.docker.io/", "docker.io/", 1);
            r.replacen("registry-1.docker.io/", "docker.io/", 1)
        } else if repo.contains('/') {
            format!("docker.io/{repo}")
        } else {
            format!("docker.io/library/{repo}")
        };
        ImageRef {
            repository,
            tag: tag.or_else(|| digest.is_none().then(|| "latest".to_string())),
            digest,
        }
    }

    /// `repository:tag` (or the repository alone).
    pub fn name(&self) -> String {
        match &self.tag {
            Some(t) => format!("{}:{t}", self.repository),
            None => self.repository.clone(),
        }
    }
}

/// The images of a Pod spec (containers, init and ephemeral containers).
fn pod_images(spec: &Value, out: &mut Vec<String>) {
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec[key].as_array().into_iter().flatten() {
            if let Some(i) = c["image"].as_str() {
                out.push(i.to_string());
            }
        }
    }
}

/// The container images of the object under review: a Pod, or a workload's pod template.
pub fn images_of(object: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match object["kind"].as_str().unwrap_or("") {
        "Pod" => pod_images(&object["spec"], &mut out),
        "CronJob" => pod_images(
            &object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            &mut out,
        ),
        _ => pod_images(&object["spec"]["template"]["spec"], &mut out),
    }
    out
}

/// The verdict on one image: `Err(reason)` denies.
fn check_image(
    store: &Store,
    policy: &Policy,
    image: &str,
) -> Result<Result<(), String>, StoreError> {
    let r = ImageRef::parse(image);
    if !policy.allowed_registries.is_empty()
        && !policy.allowed_registries.iter().any(|a| {
            let a = a.trim_end_matches('/');
            let want = ImageRef::parse(&format!("{a}/x")).repository;
            let prefix = want.trim_end_matches("/x");
            r.repository == prefix || r.repository.starts_with(&format!("{prefix}/"))
        })
    {
        return Ok(Err(format!(
            "{image}: registry not allowed ({})",
            r.repository
        )));
    }
    let Some(id) = store.find_image(&r.name(), r.digest.as_deref())? else {
        return Ok(if policy.unknown_image == "allow" {
            Ok(())
        } else {
            Err(format!(
                "{image}: not known to moat (submit a scan of it first)"
            ))
        });
    };
    let Some(min) = policy
        .deny_severity
        .as_deref()
        .and_then(moat_model::Severity::from_label)
    else {
        return Ok(Ok(()));
    };
    let ignored: BTreeSet<String> = policy
        .ignore
        .iter()
        .map(|i| i.to_ascii_uppercase())
        .collect();
    // From the indexed findings table (no report is read and parsed: the warm path).
    let rows = store.findings(&crate::store::FindingFilter {
        image_id: Some(id),
        min_severity: Some(min),
        limit: 1_000_000,
        ..Default::default()
    })?;
    // Ignored ids match aliases too: the (id, package, version) of this image's findings
    // known under an ignored id.
    let mut ignored_keys = BTreeSet::new();
    for vid in &policy.ignore {
        for f in store.findings_with_id(vid)? {
            if f.image_id == id {
                ignored_keys.insert((f.id, f.package, f.version));
            }
        }
    }
    let mut bad: Vec<String> = rows
        .into_iter()
        .filter(|f| {
            !policy.ignore_unfixed || f.kind != "vulnerability" || f.fixed_version.is_some()
        })
        .filter(|f| {
            !ignored.contains(&f.id.to_ascii_uppercase())
                && !ignored_keys.contains(&(f.id.clone(), f.package.clone(), f.version.clone()))
        })
        .map(|f| match (&f.package, &f.version) {
            (Some(p), Some(v)) => format!("{} {} ({p} {v})", f.id, f.severity),
            (Some(p), None) => format!("{} {} ({p})", f.id, f.severity),
            _ => format!("{} {}", f.id, f.severity),
        })
        .collect();
    if bad.is_empty() {
        return Ok(Ok(()));
    }
    let n = bad.len();
    bad.truncate(5);
    Ok(Err(format!(
        "{image}: {n} finding(s) at or above {}: {}{}",
        min.as_str(),
        bad.join(", "),
        if n > 5 { ", ..." } else { "" }
    )))
}

/// The `AdmissionReview` answer to `review`.
pub fn review(store: &Store, policy: &Policy, review: &Value) -> Result<Value, StoreError> {
    let request = &review["request"];
    let uid = request["uid"].as_str().unwrap_or("").to_string();
    let mut denials = Vec::new();
    let mut checked = 0;
    // A DELETE has no object; nothing to check.
    if !request["object"].is_null() {
        for image in images_of(&request["object"]) {
            checked += 1;
            if let Err(reason) = check_image(store, policy, &image)? {
                denials.push(reason);
            }
        }
    }
    let allowed = denials.is_empty();
    let mut response = json!({ "uid": uid, "allowed": allowed });
    if !allowed {
        response["status"] = json!({
            "code": 403,
            "reason": "Forbidden",
            "message": format!("moat: {}", denials.join("; ")),
        });
    } else if checked > 0 {
        response["auditAnnotations"] = json!({ "moat/images-checked": checked.to_string() });
    }
    Ok(json!({
        "apiVersion": review["apiVersion"].as_str().unwrap_or("admission.k8s.io/v1"),
        "kind": "AdmissionReview",
        "response": response,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_named_as_the_store_names_images() {
        let r = ImageRef::parse("nginx");
        assert_eq!(r.name(), "docker.io/library/nginx:latest");
        let r = ImageRef::parse("bitnami/redis:7");
        assert_eq!(r.name(), "docker.io/bitnami/redis:7");
        let r = ImageRef::parse("localhost:5000/bench/app:1@sha256:abc");
        assert_eq!(r.repository, "localhost:5000/bench/app");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = ImageRef::parse("ghcr.io/o/r@sha256:abc");
        assert_eq!((r.name(), r.tag), ("ghcr.io/o/r".to_string(), None));
        let r = ImageRef::parse("index.docker.io/library/nginx:1.25");
        assert_eq!(r.name(), "docker.io/library/nginx:1.25");
    }

    #[test]
    fn workloads_give_their_pod_template_images() {
        let d: Value = serde_json::json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "initContainers": [{"image": "busybox"}], "containers": [{"image": "a:1"}, {"image": "b:2"}]}}}});
        assert_eq!(images_of(&d), ["busybox", "a:1", "b:2"]);
        let c: Value = serde_json::json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"image": "c"}]}}}}}});
        assert_eq!(images_of(&c), ["c"]);
    }

    #[test]
    fn policies_are_checked() {
        assert!(Policy::parse("deny_severity = \"HIGH\"", "p.toml").is_ok());
        let e = Policy::parse("deny_severity = \"SEVERE\"", "p.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("p.toml: deny_severity \"SEVERE\"")
        );
        assert!(Policy::parse("unknown_image = \"maybe\"", "p.toml").is_err());
        assert!(Policy::parse("typo = 1", "p.toml").is_err());
    }
}
