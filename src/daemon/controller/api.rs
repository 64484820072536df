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
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde_json::json;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::Shared;
use super::core::CoreMsg;
use crate::daemon::auth::{Identity, Role};
use crate::daemon::journal::Reader;
use crate::daemon::tls::Peer;
use crate::engine::config::{clip, escape, inert};
use crate::engine::{Operator, OperatorCommand};
use crate::wire::{self, CommandKind, EventRecord, OpError, Request, Resolved};

/// Largest request body.
pub const MAX_BODY: usize = 64 * 1024;
/// Largest page of `GET /v1/events`.
pub const MAX_PAGE: usize = 1000;

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
            detail: inert(&detail.into(), 400),
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
        .route("/v1/whoami", get(whoami))
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
        .layer(middleware::map_response(json_errors))
        .layer(middleware::from_fn_with_state(shared.clone(), timing))
        .with_state(shared)
}

/// Every client error as JSON `{"error", "detail"}`: the extractors' own refusals (a path or
/// a query that is not valid UTF-8, a missing WebSocket upgrade...) are plain text.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !status.is_client_error() || is_json {
        return resp;
    }
    let text = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let detail = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("refused").to_string()
    } else {
        text
    };
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        _ => "bad-request",
    };
    ApiError::new(status, error, detail).into_response()
}

async fn timing(State(shared): State<Arc<Shared>>, req: axum::extract::Request, next: Next) -> Response {
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
            | "/v1/whoami"
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

async fn topology(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult<Json<wire::TopologyView>> {
    authorize(&shared, &headers, Role::may_view)?;
    Ok(Json(wire::TopologyView::new(&shared.topo, &shared.site_id)))
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

/// `?limit=`: 1 to [`MAX_PAGE`], 100 when absent.
fn parse_limit(q: &HashMap<String, String>) -> ApiResult<usize> {
    match q.get("limit") {
        None => Ok(100),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(ApiError::bad(format!(
                "limit `{v}` is not a number from 1 to {MAX_PAGE}"
            ))),
        },
    }
}

fn parse_cursor(what: &str, v: &str) -> ApiResult<u64> {
    v.trim().parse::<u64>().map_err(|_| {
        ApiError::bad(format!(
            "{what} `{v}` is not a cursor (an event's seq, 0 for the start)"
        ))
    })
}

/// `GET /v1/whoami`: the caller's token as this controller knows it (its name and role,
/// never its secret), so a console offers only what the role may do.
async fn whoami(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult<Json<wire::Whoami>> {
    let id = authorize(&shared, &headers, Role::may_view)?;
    Ok(Json(wire::Whoami {
        name: id.name,
        role: id.role.as_str().to_string(),
        site: shared.site_id.clone(),
    }))
}

/// Where a page of the journal starts.
#[derive(Clone, Copy)]
enum Cursor {
    After(u64),
    Before(u64),
}

async fn read_events(shared: &Shared, after: u64, limit: usize) -> ApiResult<Vec<EventRecord>> {
    read_page(shared, Cursor::After(after), limit).await
}

async fn read_page(shared: &Shared, cursor: Cursor, limit: usize) -> ApiResult<Vec<EventRecord>> {
    let path = shared.journal_path.clone();
    tokio::task::spawn_blocking(move || {
        Reader::open(&path).and_then(|r| match cursor {
            Cursor::After(after) => r.events_after(after, limit),
            Cursor::Before(before) => r.events_before(before, limit),
        })
    })
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
) -> ApiResult<Json<wire::EventPage>> {
    authorize(&shared, &headers, Role::may_view)?;
    parse_query(&q, &["after", "before", "limit"])?;
    let cursor = match (q.get("after"), q.get("before")) {
        (Some(_), Some(_)) => return Err(ApiError::bad("give after or before, not both")),
        (_, Some(v)) if v.trim() == "end" => Cursor::Before(u64::MAX),
        (_, Some(v)) => Cursor::Before(parse_cursor("before", v)?),
        (Some(v), None) => Cursor::After(parse_cursor("after", v)?),
        (None, None) => Cursor::After(0),
    };
    let limit = parse_limit(&q)?;
    let page = read_page(&shared, cursor, limit).await?;
    let next = match (page.last(), cursor) {
        (Some(e), _) => e.seq,
        (None, Cursor::After(after)) => after,
        // Nothing before the cursor: forward paging starts at the start.
        (None, Cursor::Before(_)) => 0,
    };
    Ok(Json(wire::EventPage {
        site: shared.site_id.clone(),
        events: page,
        next,
    }))
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

impl From<OpError> for ApiError {
    fn from(e: OpError) -> ApiError {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// A request body of `kind`, parsed by the wire contract (the same type the drill and the
/// console send), resolved to this site's engine command.
fn request(
    shared: &Shared,
    kind: CommandKind,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<(Request, Resolved, String)> {
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
    let req = Request::from_body(kind, &bytes)?;
    let resolved = wire::resolve(&shared.topo, &req)?;
    let resolved = match resolved.at_site(&shared.topo, shared.site) {
        Ok(r) => r,
        Err(OpError::WrongSite { what, site }) => {
            let url = shared
                .topo
                .site_ix(&site)
                .and_then(|s| shared.topo.site(s).controller.clone());
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "wrong-site",
                format!(
                    "{what} is supervised by the controller of site {site}{}",
                    url.map(|u| format!(" ({u})")).unwrap_or_default()
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok((req, resolved, String::from_utf8_lossy(&bytes).into_owned()))
}

/// Hands a resolved request to the engine loop and answers once the journal has it.
async fn submit(
    shared: &Shared,
    id: &Identity,
    from: SocketAddr,
    req: &Request,
    resolved: &Resolved,
    body: String,
) -> ApiResult<Json<wire::Accepted>> {
    let (reply, rx) = oneshot::channel();
    let operator = Operator {
        name: id.name.clone(),
        from: Some(from.ip().to_string()),
    };
    shared
        .core_tx
        .send(CoreMsg::Operator {
            req: resolved.engine_request(operator, req),
            role: id.role.as_str(),
            body: clip(&body, 4096).into_owned(),
            reply,
        })
        .map_err(|_| ApiError::unavailable())?;
    match rx.await {
        Ok(Ok(a)) => Ok(Json(wire::Accepted::new(&shared.topo, &a))),
        Ok(Err(refused)) => Err(OpError::from(refused).into()),
        Err(_) => Err(ApiError::unavailable()),
    }
}

async fn switchover(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(Peer(from)): ConnectInfo<Peer>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let dry = authorize(&shared, &headers, Role::may_view)?;
    let (req, resolved, text) = request(&shared, CommandKind::Switchover, raw)?;
    if resolved.dry_run {
        let OperatorCommand::Switchover { pair, to, .. } = resolved.command else {
            return Err(ApiError::bad("a dry run is a switchover's"));
        };
        let (reply, rx) = oneshot::channel();
        shared
            .core_tx
            .send(CoreMsg::Plan { pair, to, reply })
            .map_err(|_| ApiError::unavailable())?;
        return match rx.await {
            Ok(Ok(plan)) => Ok(Json(wire::PlanAnswer {
                plan: wire::plan_view(&shared.topo, &plan),
            })
            .into_response()),
            Ok(Err(r)) => Err(OpError::from(r).into()),
            Err(_) => Err(ApiError::unavailable()),
        };
    }
    let id = authorize(&shared, &headers, Role::may_act)?;
    debug_assert_eq!(id.name, dry.name);
    Ok(submit(&shared, &id, from, &req, &resolved, text).await?.into_response())
}

/// An action that is not a switchover: maintenance, a script run, an anti-flap reset.
async fn act(
    shared: &Shared,
    from: SocketAddr,
    headers: &HeaderMap,
    kind: CommandKind,
    need: fn(Role) -> bool,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::Accepted>> {
    let id = authorize(shared, headers, need)?;
    let (req, resolved, text) = request(shared, kind, raw)?;
    submit(shared, &id, from, &req, &resolved, text).await
}

async fn maintenance(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(Peer(from)): ConnectInfo<Peer>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::Accepted>> {
    act(&shared, from, &headers, CommandKind::Maintenance, Role::may_act, raw).await
}

async fn run_script(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(Peer(from)): ConnectInfo<Peer>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::Accepted>> {
    act(&shared, from, &headers, CommandKind::RunScript, Role::may_act, raw).await
}

async fn get_run(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::RunView>> {
    authorize(&shared, &headers, Role::may_view)?;
    let n = id
        .parse::<u64>()
        .map_err(|_| ApiError::bad(format!("run id `{}` is not a number", clip(&id, 32))))?;
    let run = shared
        .runs
        .get(n)
        .ok_or_else(|| ApiError::unknown(format!("no script run {n} on this controller")))?;
    Ok(Json(run))
}

async fn reset_anti_flap(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(Peer(from)): ConnectInfo<Peer>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::Accepted>> {
    act(
        &shared,
        from,
        &headers,
        CommandKind::ResetAntiFlap,
        |r| r == Role::Admin,
        raw,
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
    let limit = parse_limit(&q)?;
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
