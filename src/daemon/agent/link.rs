//! The agent's side of the link to its site's controller: connect (WebSocket, bearer
//! token), say hello with the deployment file's summary, then forward the core's reports
//! and hand the controller's orders to the core. A lost link is retried with a short
//! backoff (100 ms, doubling to 2 s); the core resends its full state once it is back.
//! A refusal for good (another deployment file, an unknown host or site, a forbidden
//! token, another protocol version) ends the agent with the controller's reason.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::agent::AgentInput;
use crate::daemon::link::{self, AgentMsg, ControllerMsg, LINK_VERSION};
use crate::engine::config::escape;
use crate::engine::{HostIx, Topology};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Where the link goes: the controller's URL, the agent's token, and the TLS client
/// configuration for an https:// controller.
pub(super) struct Target {
    pub url: String,
    pub token: String,
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Refusals that no retry can cure.
fn for_good(error: &str) -> bool {
    matches!(
        error,
        "topology-mismatch" | "unknown-host" | "wrong-site" | "forbidden" | "version"
    )
}

pub(super) async fn run(
    topo: Arc<Topology>,
    host: HostIx,
    target: Target,
    core: mpsc::UnboundedSender<AgentInput>,
    mut out: mpsc::UnboundedReceiver<AgentMsg>,
    fatal: mpsc::UnboundedSender<String>,
) {
    let Target { url, token, tls } = target;
    let ws_url = format!(
        "{}/v1/agents/link",
        url.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1)
    );
    let summary = link::topology_summary(&topo);
    let host_id = topo.host(host).id.clone();
    let mut backoff = BACKOFF_MIN;
    let mut said_down = false;
    loop {
        match session(
            &ws_url,
            &token,
            tls.clone(),
            &host_id,
            &summary,
            &topo,
            host,
            &core,
            &mut out,
        )
        .await
        {
            Ok(()) => backoff = BACKOFF_MIN,
            Err(Ended::Refused(error, detail)) if for_good(&error) => {
                let _ = fatal.send(format!(
                    "the controller at {url} refused this agent ({error}): {detail}"
                ));
                return;
            }
            Err(Ended::Refused(error, detail)) => {
                eprintln!(
                    "hactl agent: the controller refused the link ({error}): {}",
                    escape(&detail)
                );
            }
            Err(Ended::Failed(why)) => {
                if !said_down {
                    eprintln!("hactl agent: no link to {url}: {}; retrying", escape(&why));
                    said_down = true;
                }
            }
        }
        let _ = core.send(AgentInput::LinkLost);
        // Messages queued while down are stale: the full state follows the next hello.
        while out.try_recv().is_ok() {}
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
        if core.is_closed() {
            return;
        }
    }
}

enum Ended {
    Refused(String, String),
    Failed(String),
}

#[allow(clippy::too_many_arguments)]
async fn session(
    ws_url: &str,
    token: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    host_id: &str,
    summary: &[String],
    topo: &Topology,
    host: HostIx,
    core: &mpsc::UnboundedSender<AgentInput>,
    out: &mut mpsc::UnboundedReceiver<AgentMsg>,
) -> Result<(), Ended> {
    let mut req = ws_url
        .into_client_request()
        .map_err(|e| Ended::Failed(format!("bad controller URL: {e}")))?;
    let auth = format!("Bearer {token}")
        .parse()
        .map_err(|_| Ended::Failed("the token is not a valid header value".into()))?;
    req.headers_mut().insert("authorization", auth);
    let connector = tls.map(tokio_tungstenite::Connector::Rustls);
    let connect = tokio_tungstenite::connect_async_tls_with_config(req, None, false, connector);
    let (mut ws, _) = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(c)) => c,
        // The error may quote the request: say only what kind of failure it was.
        Ok(Err(e)) => return Err(Ended::Failed(short(&e))),
        Err(_) => return Err(Ended::Failed("connecting timed out".into())),
    };
    let hello = AgentMsg::Hello {
        version: LINK_VERSION,
        host: host_id.to_string(),
        topology: summary.to_vec(),
    };
    let text = |m: &AgentMsg| Message::Text(serde_json::to_string(m).unwrap_or_default().into());
    ws.send(text(&hello)).await.map_err(|e| Ended::Failed(short(&e)))?;
    match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => match link::parse_controller(&t) {
            Ok(ControllerMsg::Welcome { .. }) => {}
            Ok(ControllerMsg::Refused { error, detail }) => return Err(Ended::Refused(error, detail)),
            _ => {
                return Err(Ended::Failed(
                    "the controller's answer to hello is not a welcome".into(),
                ));
            }
        },
        _ => return Err(Ended::Failed("no answer to hello".into())),
    }
    eprintln!("hactl agent: linked to the controller");
    let _ = core.send(AgentInput::Connected);
    loop {
        tokio::select! {
            msg = out.recv() => match msg {
                Some(m) => ws.send(text(&m)).await.map_err(|e| Ended::Failed(short(&e)))?,
                None => return Ok(()),
            },
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => match link::parse_controller(&t) {
                    Ok(ControllerMsg::Refused { error, detail }) => return Err(Ended::Refused(error, detail)),
                    Ok(order) => match link::to_command(topo, host, &order) {
                        Ok(Some(cmd)) => {
                            let _ = core.send(AgentInput::Order(cmd));
                        }
                        Ok(None) => {}
                        Err(e) => eprintln!("hactl agent: an order was refused: {}", escape(&e.to_string())),
                    },
                    Err(e) => eprintln!("hactl agent: an order from the controller: {e}"),
                },
                Some(Ok(Message::Close(_))) | None => return Err(Ended::Failed("the controller closed the link".into())),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(Ended::Failed(short(&e))),
            },
        }
    }
}

fn short(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Io(io) => io.to_string(),
        Error::Http(resp) => format!("HTTP {}", resp.status()),
        Error::ConnectionClosed | Error::AlreadyClosed => "connection closed".into(),
        other => crate::engine::config::clip(&other.to_string(), 120).into_owned(),
    }
}
