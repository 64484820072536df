//! The controller's side of the agent links (`GET /v1/agents/link`, a WebSocket): an agent
//! authenticates with an agent token, says hello with its host id and its deployment
//! file's summary, and is welcomed or refused with the first difference named. Its reports
//! then go to the engine loop; the engine's orders for its host come back through the
//! [`Registry`]. A newer link of the same host replaces the older one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::Shared;
use super::core::CoreMsg;
use crate::daemon::auth::Identity;
use crate::daemon::link::{self, AgentMsg, ControllerMsg, LINK_VERSION};
use crate::engine::HostIx;

/// How long a new link may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

struct Conn {
    id: u64,
    tx: mpsc::UnboundedSender<ControllerMsg>,
}

/// The connected agents, by host.
#[derive(Default)]
pub struct Registry {
    conns: Mutex<HashMap<HostIx, Conn>>,
    next: AtomicU64,
}

impl Registry {
    /// Sends an order to a host's agent; false when it is not connected.
    pub fn send(&self, host: HostIx, msg: ControllerMsg) -> bool {
        let Ok(conns) = self.conns.lock() else { return false };
        conns.get(&host).is_some_and(|c| c.tx.send(msg).is_ok())
    }

    pub fn connected(&self) -> Vec<HostIx> {
        self.conns
            .lock()
            .map(|c| c.keys().copied().collect())
            .unwrap_or_default()
    }

    fn register(&self, host: HostIx, tx: mpsc::UnboundedSender<ControllerMsg>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut conns) = self.conns.lock() {
            // The old link's writer ends when its sender is dropped.
            conns.insert(host, Conn { id, tx });
        }
        id
    }

    fn unregister(&self, host: HostIx, id: u64) {
        if let Ok(mut conns) = self.conns.lock()
            && conns.get(&host).is_some_and(|c| c.id == id)
        {
            conns.remove(&host);
        }
    }
}

async fn send(ws: &mut WebSocket, msg: &ControllerMsg) -> bool {
    match serde_json::to_string(msg) {
        Ok(text) => ws.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn refuse(mut ws: WebSocket, error: &str, detail: String) {
    let _ = send(
        &mut ws,
        &ControllerMsg::Refused {
            error: error.into(),
            detail,
        },
    )
    .await;
    let _ = ws.close().await;
}

/// Serves one agent link, from hello to close.
pub async fn serve(shared: std::sync::Arc<Shared>, identity: Identity, mut ws: WebSocket) {
    let topo = shared.topo.clone();
    // Hello first.
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => link::parse_agent(&t),
        _ => return refuse(ws, "no-hello", "the agent did not say hello in time".into()).await,
    };
    let (host_id, summary) = match hello {
        Ok(AgentMsg::Hello {
            version,
            host,
            topology,
        }) => {
            if version != LINK_VERSION {
                let detail = format!("link version {version}; this controller speaks {LINK_VERSION}");
                return refuse(ws, "version", detail).await;
            }
            (host, topology)
        }
        Ok(_) => return refuse(ws, "no-hello", "the first message must be a hello".into()).await,
        Err(e) => return refuse(ws, "bad-message", e.to_string()).await,
    };
    let Some(host) = topo.host_ix(&host_id) else {
        let detail = format!(
            "unknown host `{}` in this deployment",
            crate::engine::config::escape(&crate::engine::config::clip(&host_id, 64))
        );
        return refuse(ws, "unknown-host", detail).await;
    };
    if topo.host(host).site != shared.site {
        let detail = format!(
            "host {host_id} belongs to site {}, not to this controller's site {}",
            topo.site(topo.host(host).site).id,
            shared.site_id
        );
        return refuse(ws, "wrong-site", detail).await;
    }
    if identity.host.as_ref().is_some_and(|h| *h != host_id) {
        let detail = format!("token `{}` may not speak for host {host_id}", identity.name);
        return refuse(ws, "forbidden", detail).await;
    }
    if let Some(diff) = link::first_difference(&link::topology_summary(&topo), &summary) {
        let detail = format!("the agent of {host_id} runs another deployment file: {diff}");
        return refuse(ws, "topology-mismatch", detail).await;
    }
    let heartbeat_interval_ms = topo.controller.heartbeat_interval.as_ms();
    let welcome = ControllerMsg::Welcome {
        version: LINK_VERSION,
        site: shared.site_id.clone(),
        heartbeat_interval_ms,
    };
    if !send(&mut ws, &welcome).await {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = shared.agents.register(host, tx);
    shared.metrics.agent_connected(host, true);
    loop {
        tokio::select! {
            order = rx.recv() => match order {
                Some(msg) => if !send(&mut ws, &msg).await { break },
                None => break, // replaced by a newer link
            },
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    if t.len() > link::MAX_FRAME {
                        break;
                    }
                    match link::parse_agent(&t) {
                        Ok(msg) => {
                            if !take(&shared, host, msg) {
                                break;
                            }
                        }
                        Err(e) => return refuse(ws, "bad-message", e.to_string()).await,
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Binary(_))) => {
                    return refuse(ws, "bad-message", "binary frames are not part of the link".into()).await;
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
        }
    }
    shared.agents.unregister(host, id);
    shared.metrics.agent_connected(host, false);
}

/// One message of a welcomed agent; false ends the link.
fn take(shared: &Shared, host: HostIx, msg: AgentMsg) -> bool {
    match &msg {
        AgentMsg::ScriptOutput { run, line } => shared.runs.line(*run, line),
        AgentMsg::ScriptResult {
            run,
            exit_code,
            timed_out,
            duration_ms,
            ..
        } => shared.runs.finished(*run, *exit_code, *timed_out, *duration_ms),
        AgentMsg::Heartbeat => shared.metrics.heartbeat(host),
        _ => {}
    }
    match link::to_input(&shared.topo, host, &msg) {
        Ok(Some(input)) => shared.core_tx.send(CoreMsg::Agent(input)).is_ok(),
        Ok(None) => true,
        Err(e) => {
            eprintln!(
                "hactl controller: agent of {}: {}",
                shared.topo.host(host).id,
                crate::engine::config::escape(&e.to_string())
            );
            true
        }
    }
}
