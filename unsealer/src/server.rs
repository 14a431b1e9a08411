//! The HTTP side, wire-compatible with the upstream controller v0.40 so that kubeseal's
//! `--cert`, `--fetch-cert`, `--validate` and `--re-encrypt` work against it unchanged:
//! `/healthz`, `/readyz` (503 until the caches have synced), `/v1/cert.pem` (the newest key's
//! certificate), `/v1/verify` (200 when every item decrypts, 409 otherwise) and `/v1/rotate`
//! (re-sealed to the newest key). Verify and rotate share a GCRA rate limiter keyed by
//! `X-Forwarded-For` and path (429), cap bodies at 10 MiB (413), never render templates (no
//! decryption oracle through `template.data`), and take the scope from the top-level metadata
//! only. Metrics are served on their own listener.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use gitseal::formats::Value;
use gitseal::keys::sealing;
use gitseal::sealed::unseal::{unseal, OwnerReference, UnsealOptions};
use gitseal::sealed::{self, manifest};
use http_body_util::BodyExt;
use tokio::net::TcpListener;

use crate::keys::Registry;
use crate::metrics::Metrics;

/// Largest verify or rotate body (upstream v0.39+).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The keys.
    pub keys: Arc<Registry>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Set once the caches have synced.
    pub ready: Arc<AtomicBool>,
    /// Verify and rotate limiter.
    pub limiter: Arc<RateLimiter>,
    /// `--read-timeout`.
    pub read_timeout: Duration,
}

/// The API router (port 8080).
pub fn router(state: AppState, write_timeout: Duration) -> Router {
    Router::new()
        .route("/healthz", any(|| async { text(StatusCode::OK, "ok\n") }))
        .route("/readyz", any(readyz))
        .route("/v1/cert.pem", any(cert))
        .route("/v1/verify", any(verify))
        .route("/v1/rotate", any(rotate))
        .fallback(|| async { text(StatusCode::NOT_FOUND, "404 page not found\n") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), instrument))
        .layer(axum::middleware::from_fn(move |req: Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(write_timeout, next.run(req)).await {
                Ok(resp) => resp,
                Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "timeout\n"),
            }
        }))
        .with_state(state)
}

/// The metrics router (port 8081).
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route(
            "/metrics",
            any(move || {
                let metrics = Arc::clone(&metrics);
                async move {
                    let mut resp = metrics.encode().into_response();
                    resp.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
                    );
                    resp
                }
            }),
        )
        .fallback(|| async { text(StatusCode::NOT_FOUND, "404 page not found\n") })
}

/// Binds a Go-style listen address (`:8080` = every interface).
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    match addr.strip_prefix(':') {
        Some(port) => match TcpListener::bind(format!("[::]:{port}")).await {
            Ok(l) => Ok(l),
            Err(_) => TcpListener::bind(format!("0.0.0.0:{port}")).await,
        },
        None => TcpListener::bind(addr).await,
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

fn text(code: StatusCode, body: &'static str) -> Response {
    let mut resp = (code, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}

async fn readyz(State(s): State<AppState>) -> Response {
    if s.ready.load(Ordering::SeqCst) {
        text(StatusCode::OK, "ok\n")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

async fn cert(State(s): State<AppState>) -> Response {
    match s.keys.snapshot().latest() {
        Some((_, info)) => {
            let mut resp = info.cert.to_pem().into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"));
            resp
        }
        None => {
            crate::log::error("cannot get certificates", &[]);
            text(StatusCode::INTERNAL_SERVER_ERROR, "cannot get certificate\n")
        }
    }
}

/// Reads the body up to [`MAX_BODY`]: 413 above, 400 on a read error or a timeout.
async fn read_body(s: &AppState, body: Body) -> Result<Bytes, Box<Response>> {
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    match tokio::time::timeout(s.read_timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Box::new(text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n")))
        }
        _ => Err(Box::new(text(StatusCode::BAD_REQUEST, "cannot read request body\n"))),
    }
}

/// The one SealedSecret of a request body. Errors are 500, as upstream's decode errors.
fn parse_sealed_secret(body: &[u8], endpoint: &str) -> Result<Value, Box<Response>> {
    let fail = |why: String| {
        crate::log::error(&format!("Error handling {endpoint} request"), &[("error", &why)]);
        Box::new(text(StatusCode::INTERNAL_SERVER_ERROR, ""))
    };
    let text_body = std::str::from_utf8(body).map_err(|_| fail("the body is not UTF-8".into()))?;
    let mut objects = manifest::parse_stream(text_body).map_err(fail)?;
    if objects.len() != 1 {
        return Err(fail(format!("expected one SealedSecret, found {} objects", objects.len())));
    }
    let obj = objects.remove(0);
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    if !kind.is_empty() && kind != sealed::KIND {
        return Err(fail(format!("unexpected resource type: {kind}")));
    }
    Ok(obj)
}

fn namespace_of(v: &Value) -> String {
    sealed::field(v, &["metadata", "namespace"]).and_then(Value::as_str).unwrap_or_default().to_string()
}

async fn verify(State(s): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    if let Err(denied) = s.limiter.check(&headers, "/v1/verify") {
        return *denied;
    }
    let body = match read_body(&s, req.into_body()).await {
        Ok(b) => b,
        Err(resp) => return *resp,
    };
    let obj = match parse_sealed_secret(&body, "/v1/verify") {
        Ok(o) => o,
        Err(resp) => return *resp,
    };
    let keys = s.keys.snapshot();
    let ok = tokio::task::spawn_blocking(move || {
        let ns = namespace_of(&obj);
        let opts = UnsealOptions {
            keys: &keys.keys,
            owner_reference: OwnerReference::WhenUid,
            default_namespace: &ns,
            // Never: template.data is not authenticated, rendering it here made verify a
            // one-bit decryption oracle (upstream #2019).
            render_templates: false,
        };
        unseal(&obj, 0, &opts).is_ok()
    })
    .await
    .unwrap_or(false);
    text(if ok { StatusCode::OK } else { StatusCode::CONFLICT }, "")
}

async fn rotate(State(s): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    if let Err(denied) = s.limiter.check(&headers, "/v1/rotate") {
        return *denied;
    }
    let body = match read_body(&s, req.into_body()).await {
        Ok(b) => b,
        Err(resp) => return *resp,
    };
    let obj = match parse_sealed_secret(&body, "/v1/rotate") {
        Ok(o) => o,
        Err(resp) => return *resp,
    };
    let keys = s.keys.snapshot();
    let rotated = tokio::task::spawn_blocking(move || reseal_object(obj, &keys))
        .await
        .unwrap_or_else(|_| Err("the rotate task failed".into()));
    match rotated {
        Ok(json) => {
            let mut resp = json.into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            resp
        }
        Err(e) => {
            crate::log::error("Error rotating secret", &[("error", &e)]);
            text(StatusCode::INTERNAL_SERVER_ERROR, "")
        }
    }
}

/// Re-seals every item of a SealedSecret to the newest key, under the label its top-level
/// metadata gives (so the scope cannot be widened through the template, CVE-2026-22728).
/// Everything else of the object is kept as sent, `template.data` included and not rendered;
/// server-set fields and the status are dropped.
pub fn reseal_object(mut obj: Value, keys: &crate::keys::KeySet) -> Result<String, String> {
    let (latest, _) = keys.latest().ok_or("error getting latest private key. key registry has no keys")?;
    let name = sealed::field(&obj, &["metadata", "name"]).and_then(Value::as_str).unwrap_or_default().to_string();
    let label = sealed::scope_of(obj.get("metadata")).label(&namespace_of(&obj), &name);
    let reseal = |b64: &str| -> Result<String, String> {
        let blob = sealed::decode_base64(b64).ok_or("illegal base64 data")?;
        let plain = sealing::unseal(&keys.keys, &label, &blob).map_err(|e| format!("error decrypting secret. {e}"))?;
        let fresh = sealing::seal(latest.public_key(), &label, &plain).map_err(|e| e.to_string())?;
        Ok(sealed::encode_base64(&fresh))
    };
    let spec = sealed::map_mut(&mut obj, "spec");
    if let Some(Value::Map(items)) = spec_entry(spec, "encryptedData") {
        for (k, v) in items.iter_mut() {
            let b64 = v.as_str().ok_or_else(|| format!("spec.encryptedData.{k} must be a string"))?;
            *v = Value::str(reseal(b64).map_err(|e| format!("{e} ({k})"))?);
        }
    }
    if let Some(v) = spec_entry(spec, "data") {
        if let Some(b64) = v.as_str() {
            *v = Value::str(reseal(b64)?);
        }
    }
    sealed::remove(&mut obj, "status");
    if let Some(meta) = match &mut obj {
        Value::Map(items) => items.iter_mut().find(|(k, _)| k == "metadata").map(|(_, v)| v),
        _ => None,
    } {
        for server_set in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
            "selfLink",
            "deletionTimestamp",
        ] {
            sealed::remove(meta, server_set);
        }
    }
    serde_json::to_string(&crate::convert::to_json(&obj)).map_err(|e| e.to_string())
}

fn spec_entry<'a>(spec: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    match spec {
        Value::Map(items) => items.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// Counts and times `/v1/*` requests (upstream instruments those three paths only).
async fn instrument(State(s): State<AppState>, req: Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_string();
    if !matches!(path.as_str(), "/v1/cert.pem" | "/v1/verify" | "/v1/rotate") {
        return next.run(req).await;
    }
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "PATCH" | "OPTIONS" | "CONNECT" | "TRACE") => {
            m.to_lowercase()
        }
        _ => "unknown".to_string(),
    };
    let start = Instant::now();
    let resp = next.run(req).await;
    s.metrics.http_request(&path, &method, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}

/// GCRA rate limiting as upstream's (throttled): `rate` requests a second sustained, `burst`
/// more back to back, per `X-Forwarded-For` value and path.
pub struct RateLimiter {
    interval: Duration,
    tolerance: Duration,
    limit: u32,
    tat: Mutex<HashMap<String, Instant>>,
}

/// Keys remembered before the table is cleared (upstream: a 65,536-entry store).
const MAX_LIMITER_KEYS: usize = 65_536;

impl RateLimiter {
    /// A limiter of `rate` per second (0 = no limit) with `burst`.
    pub fn new(rate: u32, burst: u32) -> RateLimiter {
        let interval = if rate == 0 { Duration::ZERO } else { Duration::from_secs(1) / rate };
        RateLimiter { interval, tolerance: interval * burst, limit: burst + 1, tat: Mutex::new(HashMap::new()) }
    }

    /// Admits a request or answers 429.
    pub fn check(&self, headers: &HeaderMap, path: &str) -> Result<(), Box<Response>> {
        if self.interval.is_zero() {
            return Ok(());
        }
        let xff = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or_default().to_lowercase();
        let key = format!("{xff}\n{path}\n");
        let now = Instant::now();
        let mut table = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        if table.len() >= MAX_LIMITER_KEYS && !table.contains_key(&key) {
            table.clear();
        }
        let tat = table.get(&key).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead > self.tolerance {
            let retry = (ahead - self.tolerance).as_secs_f64().ceil() as u64;
            let mut resp = text(StatusCode::TOO_MANY_REQUESTS, "limit exceeded\n");
            let h = resp.headers_mut();
            h.insert("x-ratelimit-limit", self.limit.into());
            h.insert("x-ratelimit-remaining", 0.into());
            h.insert("x-ratelimit-reset", ahead.as_secs_f64().ceil().max(1.0).to_string().parse().expect("digits"));
            h.insert(header::RETRY_AFTER, retry.max(1).into());
            return Err(Box::new(resp));
        }
        table.insert(key, tat + self.interval);
        Ok(())
    }
}

/// Marks readiness both for `/readyz` and the metric.
pub fn set_ready(state: &AppState, ready: bool) {
    state.ready.store(ready, Ordering::SeqCst);
    state.metrics.set_ready(ready);
}
