//! The controller's HTTP API (axum). Paths are a contract with the console, the CLI and
//! users' scripts (docs/daemons.md): `GET /healthz`, `/readyz`, `/metrics` (no token);
//! with a bearer token, `GET /v1/topology`, `/v1/snapshot`, `/v1/events?after=&limit=`,
//! `/v1/events/stream` (SSE, resumes from `Last-Event-ID`), `/v1/runs/{id}`,
//! `/v1/actions`; with an operator token, `POST /v1/switchover` (dry run: the plan and
//! its pre-flight checks), `/v1/maintenance`, `/v1/runs`; with an admin token,
//! `POST /v1/anti-flap/reset`; agents `GET /v1/agents/link`.
//!
//! Every error is JSON `{"error": "<code>", "detail": "<one line>"}` with its status (401
//! without a valid token, 403 for a role that may not, 400 for a body or query that does
//! not parse, 404 for an unknown name, 409 for a refusal, 413 for a body over 64 KiB);
//! nothing a client sends can cause a 500 or a panic. Actions are answered only after the
//! journal has them.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::Shared;
use super::core::CoreMsg;
use crate::daemon::auth::{Identity, Role};
use crate::daemon::journal::Reader;
use crate::engine::config::{clip, escape};
use crate::engine::time::parse_span;
use crate::engine::{AppIx, Operator, OperatorCommand, OperatorRequest, PairIx, Span, Topology};
use crate::wire::{self, EventRecord};

/// Largest request body.
pub const MAX_BODY: usize = 64 * 1024;
/// Largest page of `GET /v1/events`.
pub const MAX_PAGE: usize = 1000;
/// Longest maintenance a request may ask for.
pub const MAX_MAINTENANCE: Span = Span(30 * 24 * 3600 * 1000);

/// An API error: its status and JSON body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    detail: String,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error,
            detail: escape(&clip(&detail.into(), 400)).into_owned(),
        }
    }
    fn bad(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }
    fn unknown(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", detail)
    }
    fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the controller is stopping or not started yet",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.error, "detail": self.detail}))).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/topology", get(topology))
        .route("/v1/snapshot", get(snapshot))
        .route("/v1/events", get(events))
        .route("/v1/events/stream", get(stream))
        .route("/v1/switchover", post(switchover))
        .route("/v1/maintenance", post(maintenance))
        .route("/v1/runs", post(run_script))
        .route("/v1/runs/{id}", get(get_run))
        .route("/v1/anti-flap/reset", post(reset_anti_flap))
        .route("/v1/actions", get(actions))
        .route("/v1/agents/link", get(agent_link))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(shared.clone(), timing))
        .with_state(shared)
}

async fn timing(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let route = req.uri().path().to_string();
    let route = if route.starts_with("/v1/runs/") {
        "/v1/runs/{id}".to_string()
    } else {
        route
    };
    let started = Instant::now();
    let resp = next.run(req).await;
    let known = matches!(
        route.as_str(),
        "/healthz"
            | "/readyz"
            | "/metrics"
            | "/v1/topology"
            | "/v1/snapshot"
            | "/v1/events"
            | "/v1/events/stream"
            | "/v1/switchover"
            | "/v1/maintenance"
            | "/v1/runs"
            | "/v1/runs/{id}"
            | "/v1/anti-flap/reset"
            | "/v1/actions"
            | "/v1/agents/link"
    );
    let route = if known { route.as_str() } else { "other" };
    shared
        .metrics
        .api(route, resp.status().as_u16(), started.elapsed().as_secs_f64());
    resp
}

async fn not_found() -> ApiError {
    ApiError::unknown("no such path (see docs/daemons.md for the API)")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this path does not take that method",
    )
}

fn authorize(shared: &Shared, headers: &HeaderMap, need: fn(Role) -> bool) -> ApiResult<Identity> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(id) = shared.tokens.from_header(value) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required (Authorization: Bearer ...)",
        ));
    };
    if !need(id.role) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("token `{}` ({}) may not do this", id.name, id.role.as_str()),
        ));
    }
    Ok(id)
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.ready.load(std::sync::atomic::Ordering::SeqCst) {
        Json(json!({"status": "ready", "site": shared.site_id})).into_response()
    } else {
        ApiError::unavailable().into_response()
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(&shared.site_id),
    )
}

async fn topology(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult<Json<serde_json::Value>> {
    authorize(&shared, &headers, Role::may_view)?;
    Ok(Json(topology_view(&shared.topo, &shared.site_id)))
}

/// The deployment as the API shows it: every site, host, app, pair, group and script, and
/// which site this controller runs.
pub fn topology_view(topo: &Topology, site: &str) -> serde_json::Value {
    json!({
        "site": site,
        "sites": topo.sites.iter().map(|s| json!({
            "id": s.id,
            "peer": s.peer.map(|p| topo.site(p).id.clone()),
            "controller": s.controller,
        })).collect::<Vec<_>>(),
        "hosts": topo.hosts.iter().map(|h| json!({
            "id": h.id, "site": topo.site(h.site).id, "nics": h.nics,
        })).collect::<Vec<_>>(),
        "apps": topo.apps.iter().enumerate().map(|(i, a)| json!({
            "id": a.id, "kind": a.kind,
            "host": topo.host(topo.app_host(AppIx(i as u32))).id,
            "pair": a.pair.map(|p| topo.pair(p).id.clone()),
        })).collect::<Vec<_>>(),
        "pairs": topo.pairs.iter().map(|p| json!({
            "id": p.id, "site": topo.site(p.site).id,
            "apps": p.apps.iter().map(|a| topo.app(*a).id.clone()).collect::<Vec<_>>(),
            "group": p.group.map(|g| topo.group(g).id.clone()),
            "vip": p.vip.as_ref().map(|v| json!({"address": v.address, "nic": v.nic})),
        })).collect::<Vec<_>>(),
        "groups": topo.groups.iter().map(|g| json!({
            "id": g.id, "leader": topo.pair(g.leader).id,
            "members": g.members.iter().map(|m| topo.pair(*m).id.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "scripts": topo.scripts.iter().map(|s| json!({
            "id": s.id,
            "hosts": s.hosts.iter().map(|h| topo.host(*h).id.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

async fn snapshot(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult<Json<wire::Snapshot>> {
    authorize(&shared, &headers, Role::may_view)?;
    let snap = shared
        .snapshot
        .read()
        .map(|s| (**s).clone())
        .map_err(|_| ApiError::unavailable())?;
    Ok(Json(snap))
}

fn parse_query(q: &HashMap<String, String>, allowed: &[&str]) -> ApiResult<()> {
    if let Some(k) = q.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad(format!(
            "unknown query parameter `{k}` (this path takes {})",
            allowed.join(", ")
        )));
    }
    Ok(())
}

fn parse_cursor(what: &str, v: &str) -> ApiResult<u64> {
    v.trim().parse::<u64>().map_err(|_| {
        ApiError::bad(format!(
            "{what} `{v}` is not a cursor (an event's seq, 0 for the start)"
        ))
    })
}

async fn read_events(shared: &Shared, after: u64, limit: usize) -> ApiResult<Vec<EventRecord>> {
    let path = shared.journal_path.clone();
    tokio::task::spawn_blocking(move || Reader::open(&path).and_then(|r| r.events_after(after, limit)))
        .await
        .map_err(|_| ApiError::unavailable())?
        .map_err(|e| {
            eprintln!("hactl controller: {}", escape(&e.to_string()));
            ApiError::unavailable()
        })
}

async fn events(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&shared, &headers, Role::may_view)?;
    parse_query(&q, &["after", "limit"])?;
    let after = q.get("after").map_or(Ok(0), |v| parse_cursor("after", v))?;
    let limit = match q.get("limit") {
        None => 100,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::bad(format!(
                    "limit `{v}` is not a number from 1 to {MAX_PAGE}"
                )));
            }
        },
    };
    let page = read_events(&shared, after, limit).await?;
    let next = page.last().map_or(after, |e| e.seq);
    Ok(Json(json!({"site": shared.site_id, "events": page, "next": next})))
}

/// `GET /v1/events/stream`: first what the journal holds after the cursor
/// (`Last-Event-ID`, or `?after=`), then live events, each with its seq as the SSE id;
/// no gap and no duplicate, also when the stream falls behind.
async fn stream(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    authorize(&shared, &headers, Role::may_view)?;
    parse_query(&q, &["after"])?;
    let after = match (headers.get("last-event-id"), q.get("after")) {
        (Some(v), _) => parse_cursor("Last-Event-ID", v.to_str().unwrap_or("?"))?,
        (None, Some(v)) => parse_cursor("after", v)?,
        (None, None) => 0,
    };
    let sub = shared.events.subscribe();
    let (tx, rx) = mpsc::channel::<SseEvent>(256);
    tokio::spawn(feed(shared.clone(), sub, after, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn sse(rec: &EventRecord) -> SseEvent {
    SseEvent::default()
        .id(rec.seq.to_string())
        .event("event")
        .data(serde_json::to_string(rec).unwrap_or_default())
}

async fn feed(
    shared: Arc<Shared>,
    mut sub: broadcast::Receiver<EventRecord>,
    mut last: u64,
    tx: mpsc::Sender<SseEvent>,
) {
    // Backlog from the journal (subscribed first, so nothing falls between the two).
    let backfill = |last: u64| {
        let shared = shared.clone();
        async move { read_events(&shared, last, 500).await.unwrap_or_default() }
    };
    loop {
        let page = backfill(last).await;
        if page.is_empty() {
            break;
        }
        for rec in page {
            last = rec.seq;
            if tx.send(sse(&rec)).await.is_err() {
                return;
            }
        }
    }
    loop {
        match sub.recv().await {
            Ok(rec) if rec.seq <= last => {}
            Ok(rec) => {
                if rec.seq > last + 1 {
                    for old in backfill(last).await.into_iter().filter(|e| e.seq < rec.seq) {
                        if tx.send(sse(&old)).await.is_err() {
                            return;
                        }
                    }
                }
                last = rec.seq;
                if tx.send(sse(&rec)).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => loop {
                let page = backfill(last).await;
                if page.is_empty() {
                    break;
                }
                for rec in page {
                    last = rec.seq;
                    if tx.send(sse(&rec)).await.is_err() {
                        return;
                    }
                }
            },
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// A JSON body, or the reason it was refused.
fn body<T: for<'de> Deserialize<'de>>(raw: Result<Bytes, BytesRejection>) -> ApiResult<(T, String)> {
    let bytes = raw.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("the body is larger than {} KiB", MAX_BODY / 1024),
            )
        } else {
            ApiError::bad(format!("cannot read the body: {e}"))
        }
    })?;
    let value = serde_json::from_slice(&bytes).map_err(|e| ApiError::bad(format!("the body is not valid: {e}")))?;
    Ok((value, String::from_utf8_lossy(&bytes).into_owned()))
}

fn check_text(field: &str, v: &Option<String>, max: usize) -> ApiResult<()> {
    if let Some(s) = v {
        if s.chars().count() > max {
            return Err(ApiError::bad(format!("{field} is longer than {max} characters")));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err(ApiError::bad(format!("{field} contains control characters")));
        }
    }
    Ok(())
}

fn resolve_pair(shared: &Shared, name: &str) -> ApiResult<PairIx> {
    let topo = &shared.topo;
    let p = topo
        .pair_ix(name)
        .or_else(|| topo.group_ix(name).map(|g| topo.group(g).leader))
        .ok_or_else(|| ApiError::unknown(format!("unknown pair or group `{}`", clip(name, 64))))?;
    let site = topo.pair(p).site;
    if site != shared.site {
        let s = topo.site(site);
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong-site",
            format!(
                "pair {} belongs to site {}: ask its controller{}",
                topo.pair(p).id,
                s.id,
                s.controller.as_ref().map(|u| format!(" at {u}")).unwrap_or_default()
            ),
        ));
    }
    Ok(p)
}

fn resolve_to(topo: &Topology, p: PairIx, to: &Option<String>) -> ApiResult<Option<AppIx>> {
    let Some(name) = to else { return Ok(None) };
    let by_app = topo.app_ix(name).filter(|a| topo.app(*a).pair == Some(p));
    let by_host = topo
        .host_ix(name)
        .and_then(|h| topo.pair(p).apps.iter().copied().find(|a| topo.app_host(*a) == h));
    by_app.or(by_host).map(Some).ok_or_else(|| {
        ApiError::unknown(format!(
            "`{}` is neither an instance nor a host of pair {}",
            clip(name, 64),
            topo.pair(p).id
        ))
    })
}

async fn submit(
    shared: &Shared,
    id: &Identity,
    from: SocketAddr,
    command: OperatorCommand,
    request_id: Option<String>,
    reason: Option<String>,
    body: String,
) -> ApiResult<Json<serde_json::Value>> {
    let (reply, rx) = oneshot::channel();
    let req = OperatorRequest {
        operator: Operator {
            name: id.name.clone(),
            from: Some(from.ip().to_string()),
        },
        request_id,
        reason,
        command,
    };
    shared
        .core_tx
        .send(CoreMsg::Operator {
            req,
            role: id.role.as_str(),
            body: clip(&body, 4096).into_owned(),
            reply,
        })
        .map_err(|_| ApiError::unavailable())?;
    match rx.await {
        Ok(Ok(a)) => Ok(Json(json!({
            "correlation": shared.topo.correlation_label(a.correlation),
            "switchover": a.switchover,
            "run": a.run,
        }))),
        Ok(Err(refused)) => Err(ApiError::new(StatusCode::CONFLICT, "refused", refused.0)),
        Err(_) => Err(ApiError::unavailable()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchoverBody {
    pair: String,
    to: Option<String>,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    dry_run: bool,
    request_id: Option<String>,
    reason: Option<String>,
}

async fn switchover(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let (b, text): (SwitchoverBody, String) = body(raw)?;
    let id = authorize(
        &shared,
        &headers,
        if b.dry_run { Role::may_view } else { Role::may_act },
    )?;
    check_text("request_id", &b.request_id, 128)?;
    check_text("reason", &b.reason, 512)?;
    let p = resolve_pair(&shared, &b.pair)?;
    let to = resolve_to(&shared.topo, p, &b.to)?;
    if b.dry_run {
        let (reply, rx) = oneshot::channel();
        shared
            .core_tx
            .send(CoreMsg::Plan { pair: p, to, reply })
            .map_err(|_| ApiError::unavailable())?;
        return match rx.await {
            Ok(Ok(plan)) => Ok(Json(json!({"plan": wire::plan_view(&shared.topo, &plan)}))),
            Ok(Err(r)) => Err(ApiError::new(StatusCode::CONFLICT, "refused", r.0)),
            Err(_) => Err(ApiError::unavailable()),
        };
    }
    let command = OperatorCommand::Switchover {
        pair: p,
        to,
        force: b.force,
    };
    submit(&shared, &id, from, command, b.request_id, b.reason, text).await
}

/// A duration as `"1h"` or a number of milliseconds.
#[derive(Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Text(String),
    Ms(u64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceBody {
    pair: String,
    on: bool,
    #[serde(rename = "for")]
    for_: Option<DurationValue>,
    request_id: Option<String>,
    reason: Option<String>,
}

async fn maintenance(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let (b, text): (MaintenanceBody, String) = body(raw)?;
    let id = authorize(&shared, &headers, Role::may_act)?;
    check_text("request_id", &b.request_id, 128)?;
    check_text("reason", &b.reason, 512)?;
    let p = resolve_pair(&shared, &b.pair)?;
    let expires = match b.for_ {
        None => None,
        Some(DurationValue::Ms(ms)) => Some(Span(ms)),
        Some(DurationValue::Text(t)) => Some(parse_span(&t).map_err(|e| ApiError::bad(format!("for: {e}")))?),
    };
    if let Some(s) = expires {
        if !b.on {
            return Err(ApiError::bad("for: only maintenance on takes a duration"));
        }
        if s == Span::ZERO || s > MAX_MAINTENANCE {
            return Err(ApiError::bad(format!(
                "for: must be longer than zero and at most {MAX_MAINTENANCE}"
            )));
        }
    }
    let command = OperatorCommand::Maintenance {
        pair: p,
        on: b.on,
        expires,
    };
    submit(&shared, &id, from, command, b.request_id, b.reason, text).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    script: String,
    host: String,
    request_id: Option<String>,
    reason: Option<String>,
}

async fn run_script(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let (b, text): (RunBody, String) = body(raw)?;
    let id = authorize(&shared, &headers, Role::may_act)?;
    check_text("request_id", &b.request_id, 128)?;
    check_text("reason", &b.reason, 512)?;
    let topo = &shared.topo;
    let script = topo.script_ix(&b.script).ok_or_else(|| {
        ApiError::unknown(format!(
            "unknown script `{}` (not in the allow-list)",
            clip(&b.script, 64)
        ))
    })?;
    let host = topo
        .host_ix(&b.host)
        .ok_or_else(|| ApiError::unknown(format!("unknown host `{}`", clip(&b.host, 64))))?;
    if topo.host(host).site != shared.site {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong-site",
            format!("host {} belongs to another site's controller", b.host),
        ));
    }
    let command = OperatorCommand::RunScript { script, host };
    submit(&shared, &id, from, command, b.request_id, b.reason, text).await
}

async fn get_run(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&shared, &headers, Role::may_view)?;
    let n = id
        .parse::<u64>()
        .map_err(|_| ApiError::bad(format!("run id `{}` is not a number", clip(&id, 32))))?;
    let run = shared
        .runs
        .get(n)
        .ok_or_else(|| ApiError::unknown(format!("no script run {n} on this controller")))?;
    Ok(Json(json!(run)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairBody {
    pair: String,
    request_id: Option<String>,
    reason: Option<String>,
}

async fn reset_anti_flap(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let (b, text): (PairBody, String) = body(raw)?;
    let id = authorize(&shared, &headers, |r| r == Role::Admin)?;
    check_text("request_id", &b.request_id, 128)?;
    check_text("reason", &b.reason, 512)?;
    let p = resolve_pair(&shared, &b.pair)?;
    submit(
        &shared,
        &id,
        from,
        OperatorCommand::ResetAntiFlap { pair: p },
        b.request_id,
        b.reason,
        text,
    )
    .await
}

async fn actions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&shared, &headers, Role::may_view)?;
    parse_query(&q, &["limit"])?;
    let limit = match q.get("limit") {
        None => 100,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::bad(format!(
                    "limit `{v}` is not a number from 1 to {MAX_PAGE}"
                )));
            }
        },
    };
    let path = shared.journal_path.clone();
    let list = tokio::task::spawn_blocking(move || Reader::open(&path).and_then(|r| r.actions(limit)))
        .await
        .map_err(|_| ApiError::unavailable())?
        .map_err(|_| ApiError::unavailable())?;
    Ok(Json(json!({"actions": list})))
}

async fn agent_link(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let id = authorize(&shared, &headers, |r| r == Role::Agent)?;
    Ok(ws
        .max_message_size(crate::daemon::link::MAX_FRAME)
        .on_upgrade(move |socket| super::agents::serve(shared, id, socket)))
}
