//! The Kubernetes admission webhook: `POST /admission` takes an `AdmissionReview`
//! (admission.k8s.io/v1) for a Pod or a workload and answers allowed or denied with the
//! reasons, within the API server's time budget (its `?timeout=` query parameter).
//!
//! Each container image is checked against the policy: its registry
//! (`allowed_registries`), its signature (`require_signature` with `keys` or a
//! `trust_policy`: [`signature`]), and the findings the store holds for it (`deny_severity`,
//! `ignore_unfixed`, `ignore`). Images are found by digest when the reference has one, else by
//! name (`nginx:1.25` and `docker.io/library/nginx:1.25` are the same name: moat-registry's
//! [`ImageRef`]), the most recent submission first. An image the store does not know is
//! allowed, denied, or (`unknown_image = "scan"`) queued as a scan job (once: a job already
//! queued or running for it is waited for instead) and waited for up to `scan_budget_ms`;
//! a scan that does not finish in time gives the `unknown_fallback` answer, saying so, and
//! its job goes on, so a later request finds the stored verdict. The object itself is checked
//! with moat's Kubernetes rules ([`misconfig`]: `misconfig_rules`, `misconfig_deny_severity`).
//! Images are checked concurrently; the answer lists every reason.

pub mod misconfig;
pub mod signature;

use crate::store::{Store, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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
    /// An image the store does not know: `deny` (fail closed, the default), `allow`, or
    /// `scan` (queued, and waited for up to `scan_budget_ms`).
    #[serde(default = "deny")]
    pub unknown_image: String,
    /// How long a request waits for the scan of an unknown image (`unknown_image = "scan"`).
    #[serde(default = "default_scan_budget")]
    pub scan_budget_ms: u64,
    /// The answer when that scan does not finish in time: `deny` (the default) or `allow`.
    #[serde(default = "deny")]
    pub unknown_fallback: String,
    /// After the scan of an unknown image failed (its registry unreachable, say), requests
    /// for it get the `unknown_fallback` answer for this long before it is queued again, so
    /// that a crash-looping pod does not queue a scan per request.
    #[serde(default = "default_rescan_failed")]
    pub rescan_failed_after_seconds: u64,
    /// Every image must carry a signature of its digest by one of the trusted keys.
    #[serde(default)]
    pub require_signature: bool,
    /// Public keys (PEM) whose signatures count, for every image; relative to the policy file.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
    /// A trust policy file (`moat scan --trust-policy`'s format: trusted registries, signers
    /// with scopes); relative to the policy file.
    #[serde(default)]
    pub trust_policy: Option<PathBuf>,
    /// How long a signature verdict is kept per image digest.
    #[serde(default = "default_signature_cache")]
    pub signature_cache_seconds: u64,
    /// How long the digest a tag names is kept (0: resolved on every request).
    #[serde(default = "default_tag_cache")]
    pub tag_cache_seconds: u64,
    /// Deny an object with a misconfiguration finding at or above this severity.
    #[serde(default)]
    pub misconfig_deny_severity: Option<String>,
    /// Misconfiguration rules that must pass (moat's ids, `MOAT-K8S-007`, or a peer's,
    /// `KSV017`).
    #[serde(default)]
    pub misconfig_rules: Vec<String>,
    /// The keys and signers read from `keys` and `trust_policy`.
    #[serde(skip)]
    pub trust: moat_sign::policy::TrustPolicy,
    /// `misconfig_deny_severity` and `misconfig_rules`, resolved.
    #[serde(skip)]
    pub misconfig: misconfig::MisconfigPolicy,
}

fn deny() -> String {
    "deny".into()
}
fn default_scan_budget() -> u64 {
    3000
}
fn default_rescan_failed() -> u64 {
    300
}
fn default_signature_cache() -> u64 {
    300
}
fn default_tag_cache() -> u64 {
    30
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            deny_severity: None,
            ignore_unfixed: false,
            ignore: Vec::new(),
            allowed_registries: Vec::new(),
            unknown_image: deny(),
            scan_budget_ms: default_scan_budget(),
            unknown_fallback: deny(),
            rescan_failed_after_seconds: default_rescan_failed(),
            require_signature: false,
            keys: Vec::new(),
            trust_policy: None,
            signature_cache_seconds: default_signature_cache(),
            tag_cache_seconds: default_tag_cache(),
            misconfig_deny_severity: None,
            misconfig_rules: Vec::new(),
            trust: Default::default(),
            misconfig: Default::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Policy files are small.
const MAX_POLICY: u64 = 1 << 20;

fn severity(what: &str, s: &str) -> Result<moat_model::Severity, String> {
    moat_model::Severity::from_label(s)
        .ok_or_else(|| format!("{what} {s:?}: use CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN"))
}

impl Policy {
    /// Reads a policy file; `keys` and `trust_policy` are relative to its directory.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        use std::io::Read as _;
        let read = |source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .map_err(read)?
            .take(MAX_POLICY)
            .read_to_string(&mut text)
            .map_err(read)?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// Reads and checks a policy file's text (`path` names it, and its directory is where
    /// the key and trust policy paths start).
    pub fn parse(text: &str, path: &str) -> Result<Policy, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            path: path.to_string(),
            message,
        };
        let mut p: Policy = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if let Some(s) = &p.deny_severity {
            severity("deny_severity", s).map_err(invalid)?;
        }
        if !["deny", "allow", "scan"].contains(&p.unknown_image.as_str()) {
            return Err(invalid(format!(
                "unknown_image {:?}: use deny, allow or scan",
                p.unknown_image
            )));
        }
        if !["deny", "allow"].contains(&p.unknown_fallback.as_str()) {
            return Err(invalid(format!(
                "unknown_fallback {:?}: use deny or allow",
                p.unknown_fallback
            )));
        }
        if p.scan_budget_ms > 30_000 {
            return Err(invalid(format!(
                "scan_budget_ms {}: at most 30000 (the API server waits 30 s at most)",
                p.scan_budget_ms
            )));
        }
        if let Some(s) = &p.misconfig_deny_severity {
            p.misconfig.min_severity =
                Some(severity("misconfig_deny_severity", s).map_err(invalid)?);
        }
        for r in &p.misconfig_rules {
            let Some(id) = misconfig::rule_id(r) else {
                return Err(invalid(format!(
                    "misconfig_rules: {r:?} is no Kubernetes rule of moat (MOAT-K8S-..., or a peer's id such as KSV017)"
                )));
            };
            if misconfig::NAMESPACE_RULES.contains(&id) {
                return Err(invalid(format!(
                    "misconfig_rules: {r:?} ({id}) judges a whole namespace's NetworkPolicies, which one object under review does not show"
                )));
            }
            p.misconfig.rules.push((id, r.clone()));
        }
        if !p.require_signature && (!p.keys.is_empty() || p.trust_policy.is_some()) {
            return Err(invalid(
                "keys and trust_policy apply with require_signature = true".into(),
            ));
        }
        let dir = Path::new(path).parent().unwrap_or(Path::new("."));
        let mut trust = match &p.trust_policy {
            Some(t) => moat_sign::policy::TrustPolicy::read(&dir.join(t))
                .map_err(|e| invalid(format!("trust_policy: {e}")))?,
            None => Default::default(),
        };
        for k in &p.keys {
            let kp = dir.join(k);
            let key = moat_sign::policy::read_public_key(&kp)
                .map_err(|e| invalid(format!("keys: {e}")))?;
            trust.signers.push(moat_sign::policy::Signer {
                key,
                path: kp,
                scope: Vec::new(),
            });
        }
        if p.require_signature && trust.signers.is_empty() {
            return Err(invalid(
                "require_signature: no key (give keys = [\"cosign.pub\"] or a trust_policy with signers)".into(),
            ));
        }
        p.trust = trust;
        Ok(p)
    }
}

/// The policy with what checking it needs at run time: the signature verifier and its
/// caches.
#[derive(Debug)]
pub struct Admission {
    pub policy: Policy,
    pub signatures: Option<Arc<signature::Signatures>>,
}

impl Admission {
    /// `connector` reaches registries for signatures (default: anonymous).
    pub fn new(policy: Policy, connector: Option<signature::Connector>) -> Admission {
        let signatures = policy.require_signature.then(|| {
            Arc::new(signature::Signatures::new(
                policy.trust.clone(),
                connector.unwrap_or_default(),
                Duration::from_secs(policy.signature_cache_seconds),
                Duration::from_secs(policy.tag_cache_seconds),
            ))
        });
        Admission { policy, signatures }
    }
}

/// An image reference as the store names images (moat-registry's normaliser).
pub use moat_registry::ImageRef;

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

/// Whether `r` comes from one of the policy's allowed registries (any when none is listed).
fn registry_allowed(policy: &Policy, r: &ImageRef) -> bool {
    policy.allowed_registries.is_empty()
        || policy.allowed_registries.iter().any(|a| {
            let a = a.trim_end_matches('/');
            let Some(want) = ImageRef::parse(&format!("{a}/x")) else {
                return false;
            };
            let prefix = want.repository.trim_end_matches("/x");
            r.repository == prefix || r.repository.starts_with(&format!("{prefix}/"))
        })
}

/// The verdict on stored image `id` from its findings: `Err(reason)` denies.
fn findings_verdict(
    store: &Store,
    policy: &Policy,
    id: i64,
    image: &str,
) -> Result<Result<(), String>, StoreError> {
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
    // One query for every ignored id, within this image only.
    let ignored_keys: BTreeSet<_> = store
        .findings_with_ids_in(&policy.ignore, id)?
        .into_iter()
        .map(|f| (f.id, f.package, f.version))
        .collect();
    let mut bad: Vec<String> = rows
        .into_iter()
        .filter(|f| {
            !policy.ignore_unfixed || f.kind != "vulnerability" || f.fixed_version.is_some()
        })
        .filter(|f| {
            !ignored.contains(&f.id.to_ascii_uppercase())
                && (ignored_keys.is_empty()
                    || !ignored_keys.contains(&(
                        f.id.clone(),
                        f.package.clone(),
                        f.version.clone(),
                    )))
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

/// What admission found wrong outside the store or a task.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("an admission task failed: {0}")]
    Task(String),
}

/// The outcome for one image.
#[derive(Debug, Default)]
struct Outcome {
    denial: Option<String>,
    /// Allowed, with something to say (the fallback answer for an image not scanned in time).
    warning: Option<String>,
    /// The key file that verified its signature.
    signed_by: Option<String>,
}

impl Outcome {
    fn deny(reason: String) -> Outcome {
        Outcome {
            denial: Some(reason),
            ..Default::default()
        }
    }
}

/// Runs store work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, AdmissionError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AdmissionError::Task(e.to_string()))?
        .map_err(AdmissionError::from)
}

/// The answer for an image the store does not know and whose scan did not decide: the
/// policy's `unknown_fallback`, saying so.
fn fallback(policy: &Policy, why: String) -> Outcome {
    if policy.unknown_fallback == "allow" {
        Outcome {
            warning: Some(format!("{why}: allowed (unknown_fallback = \"allow\")")),
            ..Default::default()
        }
    } else {
        Outcome::deny(format!("{why}: denied (unknown_fallback = \"deny\")"))
    }
}

/// `unknown_image = "scan"`: the image is queued as a scan job (unless one is queued or
/// running for it already) and waited for until the scan budget or the deadline.
async fn scan_unknown(
    state: &Arc<crate::api::AppState>,
    adm: &Arc<Admission>,
    image: &str,
    deadline: tokio::time::Instant,
) -> Result<Outcome, AdmissionError> {
    let policy = &adm.policy;
    let reference = match moat_registry::Reference::parse(image.trim()) {
        Ok(r) => r.to_string(),
        Err(e) => {
            return Ok(fallback(
                policy,
                format!("{image}: not known to moat, and not a reference it can scan ({e})"),
            ));
        }
    };
    let start = tokio::time::Instant::now();
    let until = deadline.min(start + Duration::from_millis(policy.scan_budget_ms));
    let (store, max_queue, attempts) = (
        state.store.clone(),
        state.jobs.max_queue,
        state.jobs.max_attempts,
    );
    let payload = json!({ "ref": reference, "labels": {} });
    let backoff_ms = policy.rescan_failed_after_seconds.saturating_mul(1000);
    let now_ms = crate::worker::now_ms();
    if backoff_ms > 0 {
        let (store, payload) = (state.store.clone(), payload.clone());
        let since = now_ms.saturating_sub(backoff_ms.min(i64::MAX as u64) as i64);
        let failed =
            blocking(move || store.recent_failure(crate::jobs::SCAN, &payload, "ref", since))
                .await?;
        if let Some((job, at)) = failed {
            let ago = now_ms.saturating_sub(at).max(0) / 1000;
            return Ok(fallback(
                policy,
                format!(
                    "{image}: not known to moat, and its scan (job {}) failed {ago} s ago: {}; not queued again before {} s (rescan_failed_after_seconds)",
                    job.id,
                    job.error.unwrap_or_default(),
                    policy.rescan_failed_after_seconds
                ),
            ));
        }
    }
    let queued = blocking(move || {
        store.enqueue_unique(
            crate::jobs::SCAN,
            &payload,
            "ref",
            max_queue,
            attempts,
            crate::worker::now_ms(),
        )
    })
    .await?;
    let id = match queued {
        crate::jobs::Enqueued::Queued(id) => {
            state.wake.notify();
            id
        }
        crate::jobs::Enqueued::Existing(id) => id,
        crate::jobs::Enqueued::Full(n) => {
            return Ok(fallback(
                policy,
                format!("{image}: not known to moat, and the scan queue is full ({n} jobs)"),
            ));
        }
    };
    loop {
        let store = state.store.clone();
        let job = blocking(move || store.job(id)).await?;
        match job {
            Some(j) if j.state == "done" => {
                let Some(image_id) = j.result.as_ref().and_then(|r| r["image_id"].as_i64()) else {
                    return Ok(fallback(
                        policy,
                        format!("{image}: its scan (job {id}) stored no image"),
                    ));
                };
                let (store, adm2, name) = (state.store.clone(), adm.clone(), image.to_string());
                let v = blocking(move || findings_verdict(&store, &adm2.policy, image_id, &name))
                    .await?;
                return Ok(match v {
                    Ok(()) => Outcome::default(),
                    Err(reason) => Outcome::deny(format!("{reason} (scanned now, job {id})")),
                });
            }
            Some(j) if j.state == "failed" => {
                return Ok(fallback(
                    policy,
                    format!(
                        "{image}: not known to moat, and its scan (job {id}) failed: {}",
                        j.error.unwrap_or_default()
                    ),
                ));
            }
            None => {
                return Ok(fallback(
                    policy,
                    format!("{image}: its scan job {id} is gone"),
                ));
            }
            Some(_) => {}
        }
        let now = tokio::time::Instant::now();
        if now >= until {
            return Ok(fallback(
                policy,
                format!(
                    "{image}: not known to moat; its scan (job {id}) did not finish within {} ms and goes on",
                    until.saturating_duration_since(start).as_millis()
                ),
            ));
        }
        tokio::time::sleep_until(until.min(now + Duration::from_millis(20))).await;
    }
}

/// Checks one image: its registry, its signature, then what the store knows of it (or its
/// scan).
async fn check_image(
    state: Arc<crate::api::AppState>,
    adm: Arc<Admission>,
    image: String,
    deadline: tokio::time::Instant,
) -> Result<Outcome, AdmissionError> {
    let policy = &adm.policy;
    let Some(r) = ImageRef::parse(&image) else {
        return Ok(Outcome::deny(format!("{image:?}: not an image reference")));
    };
    if !registry_allowed(policy, &r) {
        return Ok(Outcome::deny(format!(
            "{image}: registry not allowed ({})",
            r.repository
        )));
    }
    let mut signed_by = None;
    if let Some(sigs) = &adm.signatures {
        match sigs.check(&image, deadline).await {
            Ok(key) => signed_by = Some(key),
            Err(reason) => return Ok(Outcome::deny(format!("{image}: {reason}"))),
        }
    }
    let (store, adm2, name) = (state.store.clone(), adm.clone(), image.clone());
    let known = blocking(move || {
        let Some(id) = store.find_image(&r.name(), r.digest.as_deref())? else {
            return Ok(None);
        };
        findings_verdict(&store, &adm2.policy, id, &name).map(Some)
    })
    .await?;
    let mut out = match known {
        Some(Ok(())) => Outcome::default(),
        Some(Err(reason)) => Outcome::deny(reason),
        None => match policy.unknown_image.as_str() {
            "allow" => Outcome::default(),
            "scan" => scan_unknown(&state, &adm, &image, deadline).await?,
            _ => Outcome::deny(format!(
                "{image}: not known to moat (submit a scan of it first)"
            )),
        },
    };
    out.signed_by = signed_by;
    Ok(out)
}

/// How long the API server waits when it does not say (its default `timeoutSeconds`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The time left to answer in: the API server's `timeout` less a margin for the answer to
/// travel (a tenth of it, at least 100 ms).
pub fn budget(timeout: Duration) -> Duration {
    timeout.saturating_sub((timeout / 10).max(Duration::from_millis(100)))
}

/// A Go duration as the API server writes its `?timeout=` parameter (`10s`, `1m30s`,
/// `1500ms`); `None` when it is not one.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += num * scale;
    }
    (total.is_finite() && total < 1e9).then(|| Duration::from_secs_f64(total))
}

/// The `AdmissionReview` answer to `review`, within `timeout` (the API server's, when it
/// gave one).
pub async fn review(
    state: Arc<crate::api::AppState>,
    adm: Arc<Admission>,
    review: Value,
    timeout: Option<Duration>,
) -> Result<Value, AdmissionError> {
    let deadline = tokio::time::Instant::now()
        + budget(timeout.unwrap_or(DEFAULT_TIMEOUT).min(state.limits.timeout));
    let request = &review["request"];
    let uid = request["uid"].as_str().unwrap_or("").to_string();
    let mut denials = Vec::new();
    let mut warnings = Vec::new();
    let mut signed = Vec::new();
    let mut checked = 0;
    let object = &request["object"];
    // A DELETE has no object; nothing to check.
    if !object.is_null() {
        denials.extend(misconfig::denials(&adm.policy.misconfig, object));
        let mut images = images_of(object);
        let mut seen = BTreeSet::new();
        images.retain(|i| seen.insert(i.clone()));
        checked = images.len();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, image) in images.into_iter().enumerate() {
            let (state, adm) = (state.clone(), adm.clone());
            tasks.spawn(async move {
                let label = image.clone();
                (i, label, check_image(state, adm, image, deadline).await)
            });
        }
        let mut outcomes = Vec::new();
        while let Some(done) = tasks.join_next().await {
            outcomes.push(done.map_err(|e| AdmissionError::Task(e.to_string()))?);
        }
        outcomes.sort_by_key(|o| o.0);
        for (_, image, outcome) in outcomes {
            let o = outcome?;
            denials.extend(o.denial);
            warnings.extend(o.warning);
            if let Some(k) = o.signed_by {
                signed.push(format!("{image}={k}"));
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
        let mut notes = json!({ "moat/images-checked": checked.to_string() });
        if !signed.is_empty() {
            notes["moat/signed-by"] = json!(signed.join(","));
        }
        response["auditAnnotations"] = notes;
    }
    if !warnings.is_empty() {
        response["warnings"] = json!(
            warnings
                .iter()
                .map(|w| format!("moat: {w}"))
                .collect::<Vec<_>>()
        );
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
        let parse = |s: &str| ImageRef::parse(s).unwrap_or_else(|| panic!("{s}"));
        let r = parse("nginx");
        assert_eq!(r.name(), "docker.io/library/nginx:latest");
        let r = parse("bitnami/redis:7");
        assert_eq!(r.name(), "docker.io/bitnami/redis:7");
        let r = parse("localhost:5000/bench/app:1@sha256:abc");
        assert_eq!(r.repository, "localhost:5000/bench/app");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = parse("ghcr.io/o/r@sha256:abc");
        assert_eq!((r.name(), r.tag), ("ghcr.io/o/r".to_string(), None));
        let r = parse("index.docker.io/library/nginx:1.25");
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
        let p = Policy::parse(
            "unknown_image = \"scan\"\nunknown_fallback = \"allow\"\nmisconfig_rules = [\"ksv017\", \"MOAT-K8S-022\"]\nmisconfig_deny_severity = \"high\"",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.scan_budget_ms, 3000);
        assert_eq!(
            p.misconfig.rules,
            [
                ("MOAT-K8S-007", "ksv017".to_string()),
                ("MOAT-K8S-022", "MOAT-K8S-022".to_string())
            ]
        );
        let err = |t: &str| Policy::parse(t, "p.toml").unwrap_err().to_string();
        assert!(err("misconfig_rules = [\"KSV999\"]").contains("\"KSV999\" is no Kubernetes rule"));
        assert!(err("misconfig_rules = [\"MOAT-K8S-061\"]").contains("whole namespace"));
        assert!(err("unknown_fallback = \"scan\"").contains("unknown_fallback"));
        assert!(err("scan_budget_ms = 60000").contains("at most 30000"));
        assert!(err("require_signature = true").contains("no key"));
        assert!(err("keys = [\"a.pub\"]").contains("require_signature = true"));
        assert!(err("require_signature = true\nkeys = [\"missing.pub\"]").contains("missing.pub"));
    }

    /// The block scalar after the line ending with `key: |` in a YAML file, dedented.
    fn block_after(yaml: &str, key: &str) -> String {
        let mut lines = yaml.lines().skip_while(|l| !l.trim_end().ends_with(key));
        let head = lines.next().unwrap_or_else(|| panic!("no {key:?}"));
        let outer = head.len() - head.trim_start().len();
        let body: Vec<&str> = lines
            .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > outer)
            .collect();
        let indent = body
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        body.iter()
            .map(|l| l.get(indent..).unwrap_or("").to_string() + "\n")
            .collect()
    }

    #[test]
    fn the_deployment_files_policies_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for (file, key) in [
            ("deploy/kubernetes/server.yaml", "admission.toml: |"),
            ("deploy/helm/moat/values.yaml", "policy: |"),
        ] {
            let yaml = std::fs::read_to_string(root.join(file)).unwrap();
            let toml = block_after(&yaml, key);
            assert!(toml.contains("deny_severity"), "{file}: {toml}");
            if let Err(e) = Policy::parse(&toml, file) {
                panic!("{file}: {e}");
            }
        }
    }

    #[test]
    fn the_api_servers_timeout_is_read() {
        assert_eq!(parse_go_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(
            parse_go_duration("1500ms"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_go_duration("2.5s"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("s"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(budget(Duration::from_secs(10)), Duration::from_secs(9));
        assert_eq!(
            budget(Duration::from_millis(500)),
            Duration::from_millis(400)
        );
    }
}
