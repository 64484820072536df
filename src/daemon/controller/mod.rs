//! `hactl controller`: one per site. It drives the site's [`Engine`](crate::engine::Engine)
//! on the monotonic clock ([`core`]), keeps the journal, accepts its agents' links
//! ([`agents`]) and serves the HTTP API ([`api`]) on one listener.
//!
//! Threads: the engine loop runs on a thread of its own (it owns the engine and the
//! journal's writer, and blocks on fsync); tokio runs the listener, the agent links, the
//! event streams and the peer probes. They meet in [`Shared`].

pub mod agents;
pub mod api;
pub mod core;
pub mod metrics;
pub mod runs;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock, mpsc};

use crate::daemon::auth::Tokens;
use crate::daemon::journal::{self, Journal, Retention};
use crate::daemon::tls::{Peer, TlsListener};
use crate::engine::{SiteIx, Topology};
use crate::wire::{EventRecord, Snapshot};

/// How a controller is started.
pub struct Options {
    pub topology: Topology,
    pub site: SiteIx,
    pub listen: SocketAddr,
    pub data: PathBuf,
    pub tokens: Tokens,
    pub retention: Retention,
    /// Serve HTTPS/WSS with this configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Trust this CA when probing a peer site's controller over HTTPS.
    pub ca: Option<reqwest::Certificate>,
}

/// What the engine loop, the API and the agent links share.
pub struct Shared {
    pub topo: Arc<Topology>,
    pub site: SiteIx,
    pub site_id: String,
    pub tokens: Tokens,
    pub core_tx: mpsc::Sender<core::CoreMsg>,
    pub snapshot: RwLock<Arc<Snapshot>>,
    /// Every committed event, in order (live streams subscribe; the journal has the past).
    pub events: tokio::sync::broadcast::Sender<EventRecord>,
    pub journal_path: PathBuf,
    pub agents: agents::Registry,
    pub runs: runs::Runs,
    pub metrics: metrics::Metrics,
    pub ready: AtomicBool,
    pub runtime: tokio::runtime::Handle,
    pub http: reqwest::Client,
}

/// Runs a controller until SIGTERM or SIGINT (a graceful stop: HC-2003 and HC-2001 are
/// journaled) or until the journal fails.
pub fn run(opts: Options) -> Result<(), String> {
    let site_id = opts.topology.site(opts.site).id.clone();
    let journal = Journal::open(&opts.data, &site_id, opts.retention).map_err(|e| e.to_string())?;
    let journal_path = journal::path_in(&opts.data, &site_id);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(opts.listen))
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let (core_tx, core_rx) = mpsc::channel();
    let (events, _) = tokio::sync::broadcast::channel(4096);
    let shared = Arc::new(Shared {
        topo: Arc::new(opts.topology),
        site: opts.site,
        site_id: site_id.clone(),
        tokens: opts.tokens,
        core_tx,
        snapshot: RwLock::new(Arc::new(Snapshot::default())),
        events,
        journal_path,
        agents: agents::Registry::default(),
        runs: runs::Runs::default(),
        metrics: metrics::Metrics::default(),
        ready: AtomicBool::new(false),
        runtime: runtime.handle().clone(),
        http: {
            let mut b = reqwest::Client::builder();
            if let Some(ca) = opts.ca {
                b = b.add_root_certificate(ca);
            }
            b.build().map_err(|e| format!("cannot build the HTTP client: {e}"))?
        },
    });
    let clock = core::Clock::new();
    let core_shared = shared.clone();
    let engine_thread = std::thread::Builder::new()
        .name("hactl-engine".into())
        .spawn(move || {
            let r = core::run(core_shared, journal, core_rx, clock);
            if let Err(e) = &r {
                // Fail-stop: a controller that cannot record what it does must not act.
                eprintln!("hactl controller: {}", crate::engine::config::escape(e));
                std::process::exit(1);
            }
            r
        })
        .map_err(|e| format!("cannot start the engine thread: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    eprintln!("hactl controller of site {site_id}: listening on {scheme}://{addr}");
    let app = api::router(shared.clone());
    let server_shared = shared.clone();
    let tls = opts.tls;
    let result = runtime.block_on(async move {
        let server = async move {
            let r = match tls {
                Some(cfg) => {
                    let l = TlsListener::new(listener, cfg).map_err(|e| e.to_string())?;
                    axum::serve(l, app.into_make_service_with_connect_info::<Peer>()).await
                }
                None => axum::serve(listener, app.into_make_service_with_connect_info::<Peer>()).await,
            };
            r.map_err(|e| e.to_string())
        };
        tokio::select! {
            r = server => r.map_err(|e| format!("the API server stopped: {e}")),
            _ = shutdown_signal() => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let _ = server_shared.core_tx.send(core::CoreMsg::Stop { reply: tx });
                let _ = tokio::time::timeout(std::time::Duration::from_secs(10), rx).await;
                Ok(())
            }
        }
    });
    drop(shared);
    // The engine thread ends once it has committed the stop (or failed to write).
    match engine_thread.join() {
        Ok(Ok(())) => result,
        Ok(Err(e)) => Err(e),
        Err(_) => Err("the engine thread panicked".into()),
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// `hactl controller` flags.
#[derive(clap::Args, Debug, Clone)]
pub struct ControllerArgs {
    /// The deployment file (the same file on every controller and agent).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The site this controller runs.
    #[arg(long, value_name = "ID")]
    pub site: String,
    /// Address to listen on (default: the host and port of the site's `controller` URL in
    /// the deployment file, else 127.0.0.1:7400).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Directory of the journal (created if missing).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/hactl")]
    pub data: PathBuf,
    /// The tokens file (default: DIR/tokens.toml).
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// Events the journal keeps, 1000 to 100000000.
    #[arg(long, value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1000..=100_000_000))]
    pub retention_events: u64,
    /// Days of events and actions the journal keeps, 1 to 3650.
    #[arg(long, value_name = "DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub retention_days: u64,
    /// Serve HTTPS and WSS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Trust this CA (PEM) when probing a peer site's controller over HTTPS.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

/// Checks the flags and files, then runs the controller. Every mistake is one line.
pub fn start(args: ControllerArgs, topology: Topology) -> Result<(), String> {
    let site = topology.site_ix(&args.site).ok_or_else(|| {
        format!(
            "--site: `{}` is not a site of {} ({})",
            crate::engine::config::escape(&crate::engine::config::clip(&args.site, 64)),
            args.config.display(),
            topology
                .sites
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let listen = match args.listen {
        Some(a) => a,
        None => default_listen(topology.site(site).controller.as_deref())?,
    };
    let tokens_path = args.tokens.clone().unwrap_or_else(|| args.data.join("tokens.toml"));
    let tokens = Tokens::load(&tokens_path)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(crate::daemon::tls::server_config(c, k)?),
        _ => None,
    };
    let ca = args.ca.as_deref().map(crate::daemon::tls::reqwest_ca).transpose()?;
    run(Options {
        tls,
        ca,
        topology,
        site,
        listen,
        data: args.data,
        tokens,
        retention: Retention {
            max_events: args.retention_events,
            max_age_ms: args.retention_days * 86_400_000,
        },
    })
}

fn default_listen(url: Option<&str>) -> Result<SocketAddr, String> {
    let Some(url) = url else {
        return Ok(SocketAddr::from(([127, 0, 0, 1], 7400)));
    };
    let authority = url
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/');
    authority.parse::<SocketAddr>().map_err(|_| {
        format!("the site's controller URL {url} does not name an IP address and port to listen on: pass --listen ADDR")
    })
}
