//! `hactl agent`: one per host. A driver of the agent core ([`crate::agent::AgentCore`]),
//! as the drill's simulated hosts are: the core decides (restarts, probes to reports,
//! start-up checks, the traffic watch, fencing, heartbeats), this module carries its
//! actions out with the executors of [`crate::daemon::exec`] and feeds back what happened,
//! and keeps the link to the site's controller ([`link`]).
//!
//! What it watches on its own: every NIC's link state and the traffic NICs' receive
//! counters (every 250 ms), and whether each VIP of its pairs is bound here (every second).
//! An agent that stops (SIGTERM) leaves its applications running; the next one adopts them.

mod actions;
mod link;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::agent::{AgentCore, AgentInput};
use crate::daemon::controller::core::Clock;
use crate::daemon::exec::net::Net;
use crate::daemon::exec::process::{AppProcess, Supervisor};
use crate::engine::{AppIx, HostIx, Topology};

/// `hactl agent` flags.
#[derive(clap::Args, Debug, Clone)]
pub struct AgentArgs {
    /// The deployment file (the same file as the controller's).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The host this agent runs on.
    #[arg(long, value_name = "ID")]
    pub host: String,
    /// The site's controller (default: the site's `controller` URL in the deployment file).
    #[arg(long, value_name = "URL")]
    pub controller: Option<String>,
    /// Directory of pid files and application logs (created if missing).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/hactl/agent")]
    pub data: PathBuf,
    /// File holding this agent's token (default: DIR/agent.token).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Trust this CA (PEM) for an https:// controller.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The address the agent probes its applications on.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub probe_address: IpAddr,
}

/// Checks the flags and files, then runs the agent until SIGTERM or SIGINT, or until the
/// controller refuses it for good (another deployment file, an unknown host, a token that
/// may not speak for it).
pub fn start(args: AgentArgs, topology: Topology) -> Result<(), String> {
    let host = topology.host_ix(&args.host).ok_or_else(|| {
        format!(
            "--host: `{}` is not a host of {}",
            crate::engine::config::escape(&crate::engine::config::clip(&args.host, 64)),
            args.config.display()
        )
    })?;
    let site = topology.site(topology.host(host).site);
    let url = match (&args.controller, &site.controller) {
        (Some(u), _) => u.trim_end_matches('/').to_string(),
        (None, Some(u)) => u.clone(),
        (None, None) => {
            return Err(format!(
                "no controller to connect to: pass --controller URL or set `controller` for site {} in {}",
                site.id,
                args.config.display()
            ));
        }
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "--controller: `{}` must start with http:// or https://",
            crate::engine::config::escape(&url)
        ));
    }
    let tls = match (&args.ca, url.starts_with("https://")) {
        (Some(ca), _) => Some(crate::daemon::tls::client_config(ca)?),
        (None, true) => return Err(format!("--ca FILE is needed to trust the controller at {url}")),
        (None, false) => None,
    };
    let token_path = args.token_file.clone().unwrap_or_else(|| args.data.join("agent.token"));
    let token = crate::daemon::auth::read_secret(&token_path)?;
    let supervisor = Supervisor::new(&args.data).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let link = link::Target { url, token, tls };
    runtime.block_on(run(Arc::new(topology), host, link, supervisor, args.probe_address))
}

/// What the driver keeps about the host's running work.
pub(crate) struct Host {
    pub topo: Arc<Topology>,
    pub host: HostIx,
    pub supervisor: Supervisor,
    pub net: Net,
    pub probe_ip: IpAddr,
    pub procs: HashMap<AppIx, AppProcess>,
    pub probes: HashMap<AppIx, JoinHandle<()>>,
    pub hooks: HashMap<AppIx, JoinHandle<()>>,
    pub scripts: HashMap<u64, JoinHandle<()>>,
    /// Inputs for the core, from every task.
    pub tx: mpsc::UnboundedSender<AgentInput>,
    /// Messages for the controller (dropped while the link is down: the core resends its
    /// full state when it comes back).
    pub out: mpsc::UnboundedSender<crate::daemon::link::AgentMsg>,
}

async fn run(
    topo: Arc<Topology>,
    host: HostIx,
    target: link::Target,
    supervisor: Supervisor,
    probe_ip: IpAddr,
) -> Result<(), String> {
    let clock = Clock::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<AgentInput>();
    let (out, out_rx) = mpsc::unbounded_channel();
    let (fatal_tx, mut fatal_rx) = mpsc::unbounded_channel::<String>();
    let mut h = Host {
        topo: topo.clone(),
        host,
        supervisor,
        net: Net::host(),
        probe_ip,
        procs: HashMap::new(),
        probes: HashMap::new(),
        hooks: HashMap::new(),
        scripts: HashMap::new(),
        tx: tx.clone(),
        out,
    };
    let mut core = AgentCore::new(topo.clone(), host);
    // Adopt what a previous agent left running before supervising anything.
    for &app in &topo.host(host).apps {
        match h.supervisor.adopt(&topo.app(app).id).await {
            Ok(Some(p)) => {
                let mode = actions::recorded_mode(&h.supervisor, &topo.app(app).id, p.pid());
                h.watch(app, p);
                core.handle(clock.now(), AgentInput::ProcessFound { app, mode });
            }
            Ok(None) => {}
            Err(e) => eprintln!("hactl agent: {}", crate::engine::config::escape(&e.to_string())),
        }
    }
    core.handle(clock.now(), AgentInput::Boot);
    tokio::spawn(link::run(topo.clone(), host, target, tx.clone(), out_rx, fatal_tx));
    tokio::spawn(actions::watch_host(topo.clone(), host, h.net.clone(), tx.clone()));
    eprintln!("hactl agent of host {}: started", topo.host(host).id);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    loop {
        for action in core.drain() {
            h.execute(action).await;
        }
        let now = clock.now();
        let wait = core
            .next_timeout()
            .map_or(Duration::from_secs(1), |t| {
                Duration::from_millis(t.0.saturating_sub(now.0))
            })
            .min(Duration::from_secs(1));
        tokio::select! {
            input = rx.recv() => match input {
                Some(i) => core.handle(clock.now(), i),
                None => return Ok(()),
            },
            _ = tokio::time::sleep(wait) => core.handle_timeout(clock.now()),
            why = fatal_rx.recv() => return Err(why.unwrap_or_else(|| "the link ended".into())),
            _ = term.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        core.handle_timeout(clock.now());
    }
}
