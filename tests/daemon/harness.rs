//! Harness for the daemon tests: a real `hactl controller` process on loopback (port 0,
//! its address read from its first line), its tokens, an HTTP client, and a scripted agent
//! that speaks the agent link (hello, state, heartbeats, answering mode orders) so the
//! controller's API, journal and restart can be tested without root.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hactl::daemon::link::{AgentMsg, ControllerMsg, LINK_VERSION, WireReport, topology_summary};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const TOPOLOGY: &str = r#"
[controller]
heartbeat-interval = "200ms"
heartbeat-timeout = "1s"
mode-timeout = "2s"

[[site]]
id = "east"

[[host]]
id = "h1"
site = "east"
nics = ["mgmt"]

[[host]]
id = "h2"
site = "east"
nics = ["mgmt"]

[[app]]
id = "a"
kind = "sip-server"
host = "h1"
announces-primary = false
restart-delay = "1s"
backup-check = { enabled = false }

[[app]]
id = "b"
kind = "sip-server"
host = "h2"
announces-primary = false
restart-delay = "1s"
backup-check = { enabled = false }

[[pair]]
id = "p"
apps = ["a", "b"]
anti-flap = { max-switchovers = 2, window = "10m" }

[[script]]
id = "hello"
command = "/bin/echo"
"#;

/// An application of a test deployment: the built-in SIP responder on `ip:port`, probed
/// with SIP OPTIONS; `extra` is added to its `[[app]]`.
pub fn sip_app(id: &str, host: &str, ip: &str, port: u16, extra: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_hactl");
    format!(
        r#"
[[app]]
id = "{id}"
kind = "sip-server"
host = "{host}"
start = ["{bin}", "sip-responder", "--listen", "{ip}:{port}", "--name", "{host}"]
restart-delay = "1s"
probe = {{ kind = "sip-options", port = {port}, interval = "300ms", timeout = "250ms", failures = 2 }}
backup-check = {{ enabled = false }}
{extra}
"#
    )
}

/// A deployment for real agents on loopback: hosts h1 and h2, each running a built-in SIP
/// responder (`a` on h1 at `ips[0]`, `b` on h2 at `ips[1]`, both on `port`) probed with
/// SIP OPTIONS, pair p of the two; `app_extra` is added to each `[[app]]`, `extra` at the
/// end (scripts, ...).
pub fn agents_topology(port: u16, ips: [&str; 2], app_extra: &str, extra: &str) -> String {
    format!(
        r#"
[controller]
heartbeat-interval = "200ms"
heartbeat-timeout = "1s"
mode-timeout = "3s"

[[site]]
id = "east"

[[host]]
id = "h1"
site = "east"
nics = ["lo"]

[[host]]
id = "h2"
site = "east"
nics = ["lo"]
{}{}
[[pair]]
id = "p"
apps = ["a", "b"]
{extra}"#,
        sip_app("a", "h1", ips[0], port, app_extra),
        sip_app("b", "h2", ips[1], port, app_extra)
    )
}

pub const OPERATOR: &str = "operator-secret-0123456789";
pub const VIEWER: &str = "viewer-secret-0123456789";
pub const ADMIN: &str = "admin-secret-0123456789";
pub const AGENT: &str = "agent-secret-0123456789";

pub fn tokens_file() -> String {
    format!(
        "[[token]]\nname = \"alice\"\nrole = \"operator\"\nsecret = \"{OPERATOR}\"\n\
         [[token]]\nname = \"watcher\"\nrole = \"viewer\"\nsecret = \"{VIEWER}\"\n\
         [[token]]\nname = \"root\"\nrole = \"admin\"\nsecret = \"{ADMIN}\"\n\
         [[token]]\nname = \"agents\"\nrole = \"agent\"\nsecret = \"{AGENT}\"\n"
    )
}

/// A scratch directory removed on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        Dir::with_topology(name, TOPOLOGY)
    }

    pub fn with_topology(name: &str, topology: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("hactl-daemon-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        std::fs::write(d.join("deploy.toml"), topology).expect("topology");
        std::fs::write(d.join("agent.token"), AGENT).expect("agent token");
        std::fs::write(d.join("tokens.toml"), tokens_file()).expect("tokens");
        Dir(d)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running controller, killed on drop.
pub struct Controller {
    pub child: Child,
    pub url: String,
}

impl Controller {
    /// Starts `hactl controller` for site east in `dir` on `listen` (e.g. 127.0.0.1:0).
    pub fn start(dir: &Path, listen: &str) -> Controller {
        Controller::start_with(dir, listen, &[])
    }

    /// The same with more flags (`--tls-cert`, ...).
    pub fn start_with(dir: &Path, listen: &str, extra: &[&str]) -> Controller {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hactl"));
        cmd.args(["controller", "--config"])
            .arg(dir.join("deploy.toml"))
            .args(["--site", "east", "--listen", listen, "--data"])
            .arg(dir)
            .args(extra);
        Controller::spawn(cmd)
    }

    /// Runs a prepared `hactl controller` command; its address is read from its first line.
    pub fn spawn(mut cmd: Command) -> Controller {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the controller");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let url = first
            .split("listening on ")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in `{first}`"))
            .trim()
            .to_string();
        // Keep draining its standard error so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Controller { child, url }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }
}

/// A running `hactl agent`, killed on drop (its applications are left to the test).
pub struct AgentProc {
    pub child: Child,
}

impl AgentProc {
    /// Starts the agent of `host` with its own data directory under `dir`, probing its
    /// applications on `probe_ip`.
    pub fn start(dir: &Path, url: &str, host: &str, probe_ip: &str) -> AgentProc {
        AgentProc::start_with(dir, url, host, probe_ip, &[])
    }

    /// The same with more flags (`--ca`, ...).
    pub fn start_with(dir: &Path, url: &str, host: &str, probe_ip: &str, extra: &[&str]) -> AgentProc {
        let data = dir.join(format!("agent-{host}"));
        let child = Command::new(env!("CARGO_BIN_EXE_hactl"))
            .args(["agent", "--config"])
            .arg(dir.join("deploy.toml"))
            .args([
                "--host",
                host,
                "--controller",
                url,
                "--probe-address",
                probe_ip,
                "--data",
            ])
            .arg(&data)
            .arg("--token-file")
            .arg(dir.join("agent.token"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the agent");
        AgentProc { child }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The pid an agent recorded for an application it runs.
pub fn app_pid(dir: &Path, host: &str, app: &str) -> Option<i32> {
    let text = std::fs::read_to_string(dir.join(format!("agent-{host}/apps/{app}.pid"))).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["pid"].as_i64().map(|p| p as i32)
}

/// Processes whose command line contains `needle` (to count copies of an application).
pub fn processes_with(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
            if state != Some('Z') {
                out.push(pid);
            }
        }
    }
    out
}

/// Kills, when dropped (also when a test fails), every process whose command line
/// contains its needle: the applications agents started outlive the agents by design.
pub struct Leftovers(pub String);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for pid in processes_with(&self.0) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

pub async fn get(url: &str, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    send(client().get(format!("{url}{path}")), token).await
}

pub async fn post(
    url: &str,
    path: &str,
    token: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, serde_json::Value) {
    send(client().post(format!("{url}{path}")).body(body), token).await
}

/// Sends with the token, if any: the status and the body as JSON (or as a JSON string
/// when it is not JSON, e.g. `/metrics`).
async fn send(mut r: reqwest::RequestBuilder, token: Option<&str>) -> (u16, serde_json::Value) {
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// Waits until `f` holds (polling), or panics with `what` after `secs`.
pub async fn until<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Every event the controller has journaled.
pub async fn all_events(url: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (s, v) = get(url, &format!("/v1/events?after={after}&limit=1000"), Some(VIEWER)).await;
        assert_eq!(s, 200, "{v}");
        let page = v["events"].as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            return out;
        }
        after = page.last().and_then(|e| e["seq"].as_u64()).unwrap_or(after);
        out.extend(page);
    }
}

pub async fn pair(url: &str, id: &str) -> serde_json::Value {
    let (s, v) = get(url, "/v1/snapshot", Some(VIEWER)).await;
    assert_eq!(s, 200, "{v}");
    v["pairs"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == id).cloned())
        .unwrap_or(serde_json::Value::Null)
}

/// What a scripted agent can be told to do.
pub enum Ctl {
    /// Report the app as exited (a crash): no more heartbeats for it; mode none.
    Exit(String),
    /// Report the app running again (after a restart).
    Run(String),
}

/// A scripted agent for `host`: says hello with the topology's summary (or `summary`),
/// reports its apps running with no mode, heartbeats, and answers every mode order by
/// reporting the new mode. Returns the control channel and the first controller answer.
pub async fn agent(
    url: &str,
    host: &str,
    apps: &[&str],
    summary: Option<Vec<String>>,
) -> (mpsc::UnboundedSender<Ctl>, ControllerMsg) {
    let topo = hactl::engine::config::parse(TOPOLOGY, "deploy.toml").expect("topology");
    let ws_url = format!("{}/v1/agents/link", url.replace("http://", "ws://"));
    let mut req = ws_url.into_client_request().expect("request");
    req.headers_mut()
        .insert("authorization", format!("Bearer {AGENT}").parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("connect the link");
    let hello = AgentMsg::Hello {
        version: LINK_VERSION,
        host: host.into(),
        topology: summary.unwrap_or_else(|| topology_summary(&topo)),
    };
    let send = |m: &AgentMsg| Message::Text(serde_json::to_string(m).expect("json").into());
    ws.send(send(&hello)).await.expect("hello");
    let first = match ws.next().await {
        Some(Ok(Message::Text(t))) => serde_json::from_str::<ControllerMsg>(&t).expect("answer"),
        other => panic!("no answer to hello: {other:?}"),
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Ctl>();
    if !matches!(first, ControllerMsg::Welcome { .. }) {
        return (tx, first);
    }
    let apps: Vec<String> = apps.iter().map(|s| s.to_string()).collect();
    tokio::spawn(async move {
        let mut modes: std::collections::HashMap<String, String> =
            apps.iter().map(|a| (a.clone(), "none".to_string())).collect();
        let mut running: std::collections::HashSet<String> = apps.iter().cloned().collect();
        for a in &apps {
            let _ = ws.send(send(&AgentMsg::Heartbeat)).await;
            let _ = ws
                .send(send(&AgentMsg::App {
                    app: a.clone(),
                    report: WireReport::Running,
                }))
                .await;
            let _ = ws
                .send(send(&AgentMsg::Mode {
                    app: a.clone(),
                    mode: "none".into(),
                }))
                .await;
        }
        let mut beat = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = beat.tick() => {
                    if ws.send(send(&AgentMsg::Heartbeat)).await.is_err() { return; }
                }
                ctl = rx.recv() => match ctl {
                    None => { let _ = ws.close(None).await; return; }
                    Some(Ctl::Exit(app)) => {
                        running.remove(&app);
                        modes.insert(app.clone(), "none".into());
                        let _ = ws.send(send(&AgentMsg::App { app, report: WireReport::Exited { code: 137 } })).await;
                    }
                    Some(Ctl::Run(app)) => {
                        running.insert(app.clone());
                        let _ = ws.send(send(&AgentMsg::App { app: app.clone(), report: WireReport::Running })).await;
                        let _ = ws.send(send(&AgentMsg::Mode { app, mode: "none".into() })).await;
                    }
                },
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(t))) => {
                        match serde_json::from_str::<ControllerMsg>(&t) {
                            Ok(ControllerMsg::SetMode { app, mode, .. }) if running.contains(&app) => {
                                modes.insert(app.clone(), mode.clone());
                                let _ = ws.send(send(&AgentMsg::Mode { app, mode })).await;
                            }
                            Ok(ControllerMsg::Resync) => {
                                for a in &apps {
                                    let report = if running.contains(a) { WireReport::Running } else { WireReport::Exited { code: 137 } };
                                    let _ = ws.send(send(&AgentMsg::App { app: a.clone(), report })).await;
                                    let mode = modes.get(a).cloned().unwrap_or_else(|| "none".into());
                                    let _ = ws.send(send(&AgentMsg::Mode { app: a.clone(), mode })).await;
                                }
                            }
                            _ => {}
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => return,
                },
            }
        }
    });
    (tx, first)
}
