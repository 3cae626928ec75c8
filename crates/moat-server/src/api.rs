//! The HTTP API (axum). Every route under `/api/` needs a token (`Authorization: Bearer
//! moat_...`) of the scope the route asks: `read` for GET, `write` to submit, `admin` to
//! re-match. `/healthz`, `/readyz`, `/metrics` and `/openapi.json` are open.
//!
//! Limits: request bodies (`max_body`), a time budget per request (`timeout`: 503 past it),
//! a bound on requests in flight (`max_in_flight`: 503 beyond it, never a growing queue),
//! and a token bucket per token (`rate`/`burst`: 429 with `Retry-After`).

use crate::metrics::Metrics;
use crate::rematch;
use crate::store::{FindingFilter, Scope, Store, StoreError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use moat_model::{FindingKind, ScanReport, Severity};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The server's limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body: usize,
    pub timeout: Duration,
    pub max_in_flight: usize,
    /// Requests per second per token, and the burst above it.
    pub rate: f64,
    pub burst: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body: 64 << 20,
            timeout: Duration::from_secs(60),
            max_in_flight: 64,
            rate: 50.0,
            burst: 100.0,
        }
    }
}

/// What every handler shares.
pub struct AppState {
    pub store: Arc<Store>,
    /// The advisory database submitted inventories are matched against (none: findings are
    /// kept as submitted).
    pub db: Option<PathBuf>,
    pub limits: Limits,
    pub metrics: Arc<Metrics>,
    slots: Arc<Semaphore>,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
    pub admission: Option<Arc<crate::admission::Admission>>,
    /// The job queue's settings (`jobs.workers`: this process's workers).
    pub jobs: crate::worker::JobSettings,
    pub job_stats: Arc<crate::worker::JobStats>,
    /// Where each re-match's events are POSTed (`--event-webhook`).
    pub webhooks: Option<Arc<crate::webhook::Webhooks>>,
    /// Rings this process's idle workers when a job is queued.
    pub wake: Arc<crate::worker::Wake>,
}

impl AppState {
    pub fn new(store: Arc<Store>, db: Option<PathBuf>, limits: Limits) -> AppState {
        AppState {
            store,
            db,
            slots: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            limits,
            metrics: Arc::default(),
            buckets: Mutex::new(HashMap::new()),
            admission: None,
            jobs: crate::worker::JobSettings::default(),
            job_stats: Arc::default(),
            webhooks: None,
            wake: Arc::default(),
        }
    }
}

type Shared = Arc<AppState>;

/// An error answer: a status and `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn bad(msg: impl Into<String>) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, msg.into())
    }
    fn not_found(msg: impl Into<String>) -> ApiError {
        ApiError(StatusCode::NOT_FOUND, msg.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        // Every connection of the pool busy: the server is overloaded, not broken.
        let status = if e.is_pool_timeout() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError(status, e.to_string())
    }
}

impl From<rematch::MatchError> for ApiError {
    fn from(e: rematch::MatchError) -> ApiError {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Runs store work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// The router with every route and limit.
pub fn router(state: Shared) -> Router {
    let api = Router::new()
        .route("/api/v1/reports", post(submit))
        .route("/api/v1/images", get(list_images).post(submit_ref))
        .route("/api/v1/jobs/{id}", get(one_job))
        .route("/api/v1/images/{id}", get(one_image))
        .route("/api/v1/images/{id}/packages", get(image_packages))
        .route("/api/v1/images/{id}/findings", get(image_findings))
        .route("/api/v1/images/{id}/report", get(image_report))
        .route("/api/v1/images/{id}/report.html", get(image_html))
        .route("/api/v1/findings", get(all_findings))
        .route("/api/v1/packages", get(packages_query))
        .route("/api/v1/vulnerabilities/{id}", get(vulnerability))
        .route("/api/v1/events", get(events))
        .route("/api/v1/rematch", post(rematch_now))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/admission", post(admission))
        .merge(api)
        .layer(DefaultBodyLimit::max(state.limits.max_body))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// The token a request was authorised by (a response extension, for the request log).
#[derive(Debug, Clone)]
struct TokenName(String);

/// One log line per request: method, path, status, duration, token name.
fn log_request(method: &axum::http::Method, path: &str, resp: &Response, took: Duration) {
    let token = resp
        .extensions()
        .get::<TokenName>()
        .map(|t| t.0.as_str())
        .unwrap_or("-");
    tracing::info!(
        target: "moat::request",
        method = %method,
        path,
        status = resp.status().as_u16(),
        duration_ms = took.as_secs_f64() * 1000.0,
        token,
        "request"
    );
}

/// In-flight bound, time budget, request metrics and the request log, around every request.
async fn guard(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let Ok(_slot) = s.slots.clone().try_acquire_owned() else {
        s.metrics.request(503, start.elapsed());
        let r = ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many requests in flight".into(),
        )
        .into_response();
        log_request(&method, &path, &r, start.elapsed());
        return r;
    };
    let resp = match tokio::time::timeout(s.limits.timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took over {:?}", s.limits.timeout),
        )
        .into_response(),
    };
    s.metrics.request(resp.status().as_u16(), start.elapsed());
    log_request(&method, &path, &resp, start.elapsed());
    resp
}

/// The token and its scope; the per-token rate limit.
async fn auth(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let need = if req.uri().path() == "/api/v1/rematch" {
        Scope::Admin
    } else if req.method() == axum::http::Method::GET {
        Scope::Read
    } else {
        Scope::Write
    };
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let Some(secret) = secret else {
        let mut r = ApiError(
            StatusCode::UNAUTHORIZED,
            "a token is needed (Authorization: Bearer ...)".into(),
        )
        .into_response();
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    };
    let store = s.store.clone();
    let token = match blocking(move || Ok(store.token(&secret)?)).await {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let Some(token) = token else {
        return ApiError(StatusCode::UNAUTHORIZED, "unknown token".into()).into_response();
    };
    if token.scope < need {
        // A known token: its body is read (within --max-body) before the answer, so that a
        // client still sending it hears the 403 instead of a closed connection.
        let _ = axum::body::to_bytes(req.into_body(), s.limits.max_body).await;
        return ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "token {:?} has scope {}; this needs {}",
                token.name,
                token.scope.as_str(),
                need.as_str()
            ),
        )
        .into_response();
    }
    let name = TokenName(token.name.clone());
    if let Some(wait) = take_token(&s, token.id) {
        let mut r = ApiError(StatusCode::TOO_MANY_REQUESTS, "rate limit".into()).into_response();
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r.extensions_mut().insert(name);
        return r;
    }
    let mut r = next.run(req).await;
    r.extensions_mut().insert(name);
    r
}

/// Takes one request from token `id`'s bucket; `Some(wait)` when it is empty.
fn take_token(s: &AppState, id: i64) -> Option<Duration> {
    let (rate, burst) = (s.limits.rate.max(0.001), s.limits.burst.max(1.0));
    let mut b = s.buckets.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    let (level, last) = b.entry(id).or_insert((burst, now));
    *level = (*level + now.duration_since(*last).as_secs_f64() * rate).min(burst);
    *last = now;
    if *level >= 1.0 {
        *level -= 1.0;
        None
    } else {
        Some(Duration::from_secs_f64((1.0 - *level) / rate))
    }
}

async fn ready(State(s): State<Shared>) -> Response {
    let store = s.store.clone();
    match blocking(move || Ok(store.has_tokens()?)).await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", e.1),
        )
            .into_response(),
    }
}

async fn metrics(State(s): State<Shared>) -> ApiResult {
    let store = s.store.clone();
    let (totals, depth) = blocking(move || Ok((store.totals()?, store.queue_depth()?))).await?;
    let mut body = s
        .metrics
        .render(&totals, s.slots.available_permits(), s.limits.max_in_flight);
    body.push_str(&s.job_stats.render(depth, s.jobs.max_queue));
    if let Some(w) = &s.webhooks {
        body.push_str(&w.render());
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}

/// `POST /admission`'s query: the API server says how long it waits (`?timeout=10s`).
#[derive(Debug, Default, Deserialize)]
struct AdmissionQuery {
    timeout: Option<String>,
}

/// The admission webhook (no token: the API server calls it; expose it in-cluster only).
async fn admission(
    State(s): State<Shared>,
    Query(q): Query<AdmissionQuery>,
    body: Bytes,
) -> ApiResult {
    let Some(adm) = s.admission.clone() else {
        return Err(ApiError::not_found(
            "no admission policy (--admission-policy)",
        ));
    };
    let review: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("not an AdmissionReview: {e}")))?;
    if review["kind"] != "AdmissionReview" || !review["request"].is_object() {
        return Err(ApiError::bad("not an AdmissionReview request"));
    }
    let timeout =
        match q.timeout.as_deref() {
            Some(t) => Some(crate::admission::parse_go_duration(t).ok_or_else(|| {
                ApiError::bad(format!("timeout={t:?}: not a duration such as 10s"))
            })?),
            None => None,
        };
    let answer = crate::admission::review(s.clone(), adm, review, timeout)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(axum::Json(answer).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct SubmitQuery {
    /// `key=value,key=value`: labels kept with the image (a namespace, a team).
    labels: Option<String>,
}

fn parse_labels(s: Option<&str>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    for part in s.unwrap_or("").split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| ApiError::bad(format!("label {part:?} is not key=value")))?;
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
}

/// A moat JSON report, a moat inventory document, or a CycloneDX / SPDX SBOM.
fn read_submission(bytes: &[u8]) -> Result<ScanReport, ApiError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad(format!("the body is not JSON: {e}")))?;
    if v.get("artifact").is_some() && v.get("packages").is_some() {
        if v.get("findings").is_some() {
            return serde_json::from_value(v)
                .map_err(|e| ApiError::bad(format!("not a moat report: {e}")));
        }
        let inventory = serde_json::from_value(v)
            .map_err(|e| ApiError::bad(format!("not a moat inventory: {e}")))?;
        return Ok(ScanReport {
            inventory,
            findings: Vec::new(),
            suppressed: Vec::new(),
        });
    }
    let inventory =
        moat_report::read_sbom(bytes, "request body").map_err(|e| ApiError::bad(e.to_string()))?;
    Ok(ScanReport {
        inventory,
        findings: Vec::new(),
        suppressed: Vec::new(),
    })
}

async fn submit(State(s): State<Shared>, Query(q): Query<SubmitQuery>, body: Bytes) -> ApiResult {
    let labels = parse_labels(q.labels.as_deref())?;
    let report = read_submission(&body)?;
    if report.inventory.artifact.name.trim().is_empty() {
        return Err(ApiError::bad("the document names no image (artifact.name)"));
    }
    let (store, db) = (s.store.clone(), s.db.clone());
    let (id, summary) = blocking(move || {
        let db = match &db {
            Some(p) => Some(moat_vuln::db::Database::open_read_only(p).map_err(|e| {
                ApiError(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the advisory database: {e}"),
                )
            })?),
            None => None,
        };
        let (report, matched) = rematch::with_server_match_pkgs(report, db.as_ref());
        let id = store.put_report_matched(&report, &labels, now(), matched.as_ref())?;
        tracing::info!(
            target: "moat::submit",
            image_id = id,
            image = %report.inventory.artifact.name,
            packages = report.inventory.packages.len(),
            findings = report.findings.len(),
            matched = db.is_some(),
            "report stored"
        );
        Ok((id, store.image(id)?))
    })
    .await?;
    s.metrics.submitted();
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": id, "image": summary })),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct FindingQuery {
    severity: Option<String>,
    fixed: Option<bool>,
    kev: Option<bool>,
    kind: Option<String>,
    package: Option<String>,
    /// `key=value`: images with this label.
    label: Option<String>,
    limit: Option<usize>,
}

impl FindingQuery {
    fn filter(&self, image_id: Option<i64>) -> Result<FindingFilter, ApiError> {
        let min_severity = match self.severity.as_deref() {
            None | Some("") => None,
            Some(s) => Some(
                Severity::from_label(s)
                    .ok_or_else(|| ApiError::bad(format!("unknown severity {s:?}")))?,
            ),
        };
        let kind = match self.kind.as_deref() {
            None | Some("") => None,
            Some("vulnerability") => Some(FindingKind::Vulnerability),
            Some("secret") => Some(FindingKind::Secret),
            Some("misconfiguration") => Some(FindingKind::Misconfiguration),
            Some("runtime") => Some(FindingKind::Runtime),
            Some(k) => return Err(ApiError::bad(format!("unknown kind {k:?}"))),
        };
        Ok(FindingFilter {
            image_id,
            min_severity,
            fixed: self.fixed,
            kev: self.kev.unwrap_or(false),
            kind,
            package: self.package.clone().filter(|p| !p.is_empty()),
            limit: self.limit.unwrap_or(10_000).min(100_000),
        })
    }
    fn any_finding_filter(&self) -> bool {
        self.severity.as_deref().is_some_and(|s| !s.is_empty())
            || self.fixed.is_some()
            || self.kev.unwrap_or(false)
            || self.kind.as_deref().is_some_and(|s| !s.is_empty())
    }
}

async fn list_images(State(s): State<Shared>, Query(q): Query<FindingQuery>) -> ApiResult {
    let filter = q.filter(None)?;
    let label = match q.label.as_deref() {
        Some(l) if !l.is_empty() => Some(
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| ApiError::bad("label is key=value"))?,
        ),
        _ => None,
    };
    let store = s.store.clone();
    let limit = q.limit.unwrap_or(1000).min(100_000);
    let any = q.any_finding_filter();
    let package = q.package.clone().filter(|p| !p.is_empty());
    let images = blocking(move || {
        // The filters, counts and limit in one query; then the summaries of those images.
        let ids = store.image_ids_where(
            any.then_some(&filter),
            package.as_deref(),
            label.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
            limit,
        )?;
        Ok(store.images(Some(&ids), limit)?)
    })
    .await?;
    Ok(axum::Json(json!({ "images": images })).into_response())
}

async fn one_image(State(s): State<Shared>, Path(id): Path<i64>) -> ApiResult {
    let store = s.store.clone();
    let img = blocking(move || Ok(store.image(id)?)).await?;
    match img {
        Some(i) => Ok(axum::Json(i).into_response()),
        None => Err(ApiError::not_found(format!("no image {id}"))),
    }
}

async fn image_packages(State(s): State<Shared>, Path(id): Path<i64>) -> ApiResult {
    let store = s.store.clone();
    let (img, pkgs) = blocking(move || Ok((store.image(id)?, store.packages(id)?))).await?;
    if img.is_none() {
        return Err(ApiError::not_found(format!("no image {id}")));
    }
    Ok(axum::Json(json!({ "image_id": id, "packages": pkgs })).into_response())
}

async fn image_findings(
    State(s): State<Shared>,
    Path(id): Path<i64>,
    Query(q): Query<FindingQuery>,
) -> ApiResult {
    let filter = q.filter(Some(id))?;
    let store = s.store.clone();
    let (img, rows) = blocking(move || Ok((store.image(id)?, store.findings(&filter)?))).await?;
    if img.is_none() {
        return Err(ApiError::not_found(format!("no image {id}")));
    }
    Ok(axum::Json(json!({ "image_id": id, "findings": rows })).into_response())
}

async fn image_report(State(s): State<Shared>, Path(id): Path<i64>) -> ApiResult {
    let store = s.store.clone();
    let report = blocking(move || Ok(store.report(id)?)).await?;
    match report {
        Some(r) => Ok((
            [(header::CONTENT_TYPE, "application/json")],
            moat_report::scan_json(&r),
        )
            .into_response()),
        None => Err(ApiError::not_found(format!("no image {id}"))),
    }
}

async fn image_html(State(s): State<Shared>, Path(id): Path<i64>) -> ApiResult {
    let store = s.store.clone();
    let report = blocking(move || Ok(store.report(id)?)).await?;
    let Some(r) = report else {
        return Err(ApiError::not_found(format!("no image {id}")));
    };
    let o = moat_report::RenderOptions {
        timestamp: moat_report::format_timestamp(now()),
        color: false,
    };
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        moat_report::scan_html(&r, &o, None),
    )
        .into_response())
}

async fn all_findings(State(s): State<Shared>, Query(q): Query<FindingQuery>) -> ApiResult {
    let filter = q.filter(None)?;
    let store = s.store.clone();
    let rows = blocking(move || Ok(store.findings(&filter)?)).await?;
    Ok(axum::Json(json!({ "findings": rows })).into_response())
}

#[derive(Debug, Deserialize)]
struct PackageQuery {
    name: String,
    /// Comma-separated constraints: `>=1.2.0,<1.2.9`, `=3.0.7`, `!=2.0.0`.
    range: Option<String>,
}

/// One version constraint of a `range`.
#[derive(Debug, Clone, PartialEq)]
struct Constraint {
    op: &'static str,
    version: String,
}

fn parse_range(r: &str) -> Result<Vec<Constraint>, ApiError> {
    let mut out = Vec::new();
    for part in r.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (op, v) = ["<=", ">=", "!=", "==", "<", ">", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|v| (*op, v.trim())))
            .ok_or_else(|| {
                ApiError::bad(format!(
                    "range part {part:?} does not start with <, <=, >, >=, = or !="
                ))
            })?;
        if v.is_empty() {
            return Err(ApiError::bad(format!("range part {part:?} has no version")));
        }
        let op = if op == "==" { "=" } else { op };
        out.push(Constraint {
            op,
            version: v.to_string(),
        });
    }
    Ok(out)
}

/// Whether `version` (of an ecosystem) satisfies every constraint, in the ecosystem's
/// version order; without an order only `=` and `!=` can be decided (as strings).
fn satisfies(ecosystem: Option<&str>, version: &str, range: &[Constraint]) -> bool {
    use moat_model::version::{Scheme, compare};
    use std::cmp::Ordering;
    let scheme = ecosystem.and_then(Scheme::for_ecosystem);
    range.iter().all(|c| {
        let ord = match scheme {
            Some(s) => compare(s, version, &c.version),
            None if c.op == "=" || c.op == "!=" => {
                if version == c.version {
                    Ordering::Equal
                } else {
                    Ordering::Less
                }
            }
            None => return false,
        };
        match c.op {
            "<" => ord == Ordering::Less,
            "<=" => ord != Ordering::Greater,
            ">" => ord == Ordering::Greater,
            ">=" => ord != Ordering::Less,
            "=" => ord == Ordering::Equal,
            _ => ord != Ordering::Equal,
        }
    })
}

async fn packages_query(State(s): State<Shared>, Query(q): Query<PackageQuery>) -> ApiResult {
    let range = parse_range(q.range.as_deref().unwrap_or(""))?;
    let store = s.store.clone();
    let name = q.name.clone();
    let (rows, images) = blocking(move || {
        let rows: Vec<_> = store
            .packages_named(&name)?
            .into_iter()
            .filter(|p| satisfies(p.ecosystem.as_deref(), &p.version, &range))
            .collect();
        let images = images_of_rows(&store, rows.iter().map(|r| r.image_id))?;
        Ok((rows, images))
    })
    .await?;
    Ok(
        axum::Json(json!({ "name": q.name, "range": q.range, "images": images, "packages": rows }))
            .into_response(),
    )
}

/// The stored images with these ids (each once, in id order).
fn images_of_rows(
    store: &crate::store::Store,
    ids: impl Iterator<Item = i64>,
) -> Result<Vec<crate::store::ImageSummary>, crate::store::StoreError> {
    let ids: Vec<i64> = ids.collect::<BTreeSet<_>>().into_iter().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    store.images(Some(&ids), usize::MAX)
}

async fn vulnerability(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let store = s.store.clone();
    let vid = id.clone();
    let (rows, images) = blocking(move || {
        let rows = store.findings_with_id(&vid)?;
        let images = images_of_rows(&store, rows.iter().map(|r| r.image_id))?;
        Ok((rows, images))
    })
    .await?;
    Ok(axum::Json(json!({ "id": id, "images": images, "findings": rows })).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct EventQuery {
    /// RFC 3339; default: the epoch.
    since: Option<String>,
    limit: Option<usize>,
}

async fn events(State(s): State<Shared>, Query(q): Query<EventQuery>) -> ApiResult {
    let since = match q.since.as_deref() {
        None | Some("") => 0,
        Some(t) => moat_report::parse_timestamp(t)
            .ok_or_else(|| ApiError::bad(format!("since {t:?} is not an RFC 3339 time")))?,
    };
    let limit = q.limit.unwrap_or(10_000).min(100_000);
    let store = s.store.clone();
    let rows = blocking(move || Ok(store.events(since, limit)?)).await?;
    Ok(axum::Json(json!({ "events": rows })).into_response())
}

/// A re-match runs as a job: 202 and the job at once (a re-match of a big store can
/// outlast any request's time budget); `GET /api/v1/jobs/{id}` gives its state and, done,
/// its counts. One re-match waits at most: a second request while one is queued gets that
/// job.
async fn rematch_now(State(s): State<Shared>) -> ApiResult {
    if s.db.is_none() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "the server has no advisory database (--db)".into(),
        ));
    }
    let id = enqueue(&s, crate::jobs::REMATCH, json!({})).await?;
    Ok(accepted(id))
}

fn accepted(id: i64) -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/jobs/{id}"))],
        axum::Json(json!({ "job": id })),
    )
        .into_response()
}

/// Queues a job (429 when the queue is full).
async fn enqueue(s: &Shared, kind: &'static str, payload: Value) -> Result<i64, ApiError> {
    let store = s.store.clone();
    let (max, attempts) = (s.jobs.max_queue, s.jobs.max_attempts);
    let done = blocking(move || {
        Ok(store.enqueue(kind, &payload, max, attempts, crate::worker::now_ms())?)
    })
    .await?;
    match done {
        crate::jobs::Enqueued::Queued(id) => {
            s.wake.notify();
            Ok(id)
        }
        crate::jobs::Enqueued::Existing(id) => Ok(id),
        crate::jobs::Enqueued::Full(n) => Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            format!("the job queue is full ({n} jobs; --max-queue)"),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageSubmission {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Checks a submitted image reference: a registry's (`registry:` allowed in front), never
/// a path on the server.
fn registry_ref(r: &str) -> Result<String, ApiError> {
    let r = r.trim();
    let r = r.strip_prefix("registry:").unwrap_or(r);
    let local = [
        "docker-archive:",
        "oci-archive:",
        "oci:",
        "rootfs:",
        "dir:",
        "sbom:",
        "git:",
    ];
    if local.iter().any(|p| r.starts_with(p)) || r.starts_with('/') || r.starts_with('.') {
        return Err(ApiError::bad(format!(
            "{r:?}: the server scans registry references only (REGISTRY/REPO:TAG or @DIGEST)"
        )));
    }
    moat_registry::Reference::parse(r).map_err(|e| ApiError::bad(e.to_string()))?;
    Ok(r.to_string())
}

/// `POST /api/v1/images`: an image reference to pull and scan, as a job.
async fn submit_ref(State(s): State<Shared>, body: Bytes) -> ApiResult {
    let sub: ImageSubmission = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad(format!(
            "the body is not {{\"ref\": \"...\", \"labels\": {{...}}}}: {e}"
        ))
    })?;
    let reference = registry_ref(&sub.reference)?;
    let id = enqueue(
        &s,
        crate::jobs::SCAN,
        json!({ "ref": reference, "labels": sub.labels }),
    )
    .await?;
    Ok(accepted(id))
}

async fn one_job(State(s): State<Shared>, Path(id): Path<i64>) -> ApiResult {
    let store = s.store.clone();
    match blocking(move || Ok(store.job(id)?)).await? {
        Some(j) => Ok(axum::Json(j).into_response()),
        None => Err(ApiError::not_found(format!("no job {id}"))),
    }
}

/// Queues a re-match job (one queued at most).
pub async fn queue_rematch(s: &Shared) -> Result<i64, ApiError> {
    enqueue(s, crate::jobs::REMATCH, json!({})).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_use_the_ecosystem_order() {
        let r = parse_range(">=1.2.0, <1.10.0").expect("range");
        assert!(satisfies(Some("npm"), "1.9.3", &r));
        assert!(!satisfies(Some("npm"), "1.10.0", &r));
        // dpkg: an epoch and a Debian revision.
        let r = parse_range("<1:3.0.11-1~deb12u2").expect("range");
        assert!(satisfies(Some("Debian:12"), "1:3.0.11-1~deb12u1", &r));
        assert!(!satisfies(Some("Debian:12"), "1:3.0.11-1", &r));
        // No order: only equality.
        assert!(satisfies(None, "x", &parse_range("=x").expect("range")));
        assert!(!satisfies(None, "x", &parse_range("<y").expect("range")));
        assert!(parse_range("~1").is_err());
        assert!(parse_range(">=").is_err());
    }

    #[test]
    fn labels_are_key_value_pairs() {
        let l = parse_labels(Some("namespace=prod, team=web")).expect("labels");
        assert_eq!(l.get("namespace").map(String::as_str), Some("prod"));
        assert_eq!(l.len(), 2);
        assert!(parse_labels(Some("oops")).is_err());
    }
}
