//! The live console's share of the console benchmark: keystroke-to-frame while a live
//! source takes in 1,000 events a second (from a controller stand-in serving the API on
//! loopback: the built-in deployment's east site, and an event stream at a set rate), and
//! the CPU and bytes of the real binary's live console on an idle real controller.

use std::convert::Infallible;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use futures_util::StreamExt;
use hactl::client::{Endpoint, Secret};
use hactl::console::keys::Key;
use hactl::console::theme::{Depth, Theme};
use hactl::console::{Console, DrillSource, LiveSource, Source};
use hactl::engine::{EventId, Severity, config};
use hactl::wire::{EventPage, EventRecord, Snapshot, TopologyView, Whoami};

use super::{measure_pane, operator, sink_terminal};

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A stand-in for east's controller: its part of the built-in deployment and an event
/// stream of `rate` events a second. Returns its URL and how many events it sent.
pub fn stand_in(rate: u64) -> (String, Arc<AtomicU64>) {
    let topo = config::builtin();
    let mut drill = DrillSource::new(topo.clone(), 1, 1.0, operator());
    drill.run_for(30_000);
    let mut snap: Snapshot = drill.snapshot().clone();
    snap.sites.retain(|s| s.id == "east");
    snap.hosts.retain(|h| h.site == "east");
    snap.pairs.retain(|p| p.site == "east");
    snap.groups.retain(|g| g.site == "east");
    snap.endpoints.retain(|e| e.site == "east");
    let topology = TopologyView::new(&topo, "east");
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let snap = Arc::new(snap);
            let app = Router::new()
                .route(
                    "/v1/whoami",
                    get(|| async {
                        axum::Json(Whoami {
                            name: "bench".into(),
                            role: "operator".into(),
                            site: "east".into(),
                        })
                    }),
                )
                .route("/v1/topology", get(move || async move { axum::Json(topology) }))
                .route(
                    "/v1/snapshot",
                    get(move || {
                        let snap = snap.clone();
                        async move {
                            let mut s = (*snap).clone();
                            s.t_ms = wall_ms();
                            axum::Json(s)
                        }
                    }),
                )
                .route(
                    "/v1/events",
                    get(|| async {
                        axum::Json(EventPage {
                            site: "east".into(),
                            events: Vec::new(),
                            next: 0,
                        })
                    }),
                )
                .route(
                    "/v1/events/stream",
                    get(move || {
                        let counter = counter.clone();
                        async move { Sse::new(events(rate, counter)) }
                    }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}"), sent)
}

/// `rate` events a second, in bursts every 10 ms.
fn events(rate: u64, sent: Arc<AtomicU64>) -> impl futures_util::Stream<Item = Result<Event, Infallible>> {
    let per_tick = (rate / 100).max(1);
    futures_util::stream::unfold(
        (0u64, tokio::time::interval(Duration::from_millis(10))),
        move |(seq, mut tick)| {
            let sent = sent.clone();
            async move {
                tick.tick().await;
                let evs: Vec<Result<Event, Infallible>> = (1..=per_tick)
                    .map(|i| {
                        let rec = EventRecord {
                            site: "east".into(),
                            seq: seq + i,
                            t_ms: wall_ms(),
                            id: EventId::AppUnavailable,
                            severity: Severity::Alarm,
                            source: "host:east-sip1".into(),
                            subject: "host:east-sip1".into(),
                            correlation: Some(format!("east-{}", (seq + i) / 50)),
                            message: format!("bench event {}", seq + i),
                            attrs: Default::default(),
                        };
                        Ok(Event::default()
                            .id(rec.seq.to_string())
                            .event("event")
                            .data(serde_json::to_string(&rec).unwrap()))
                    })
                    .collect();
                sent.fetch_add(per_tick, Ordering::Relaxed);
                Some((futures_util::stream::iter(evs), (seq + per_tick, tick)))
            }
        },
    )
    .flatten()
}

/// A console on the live source of `url`, connected.
pub fn console(url: &str) -> Console<LiveSource> {
    let ep = Endpoint {
        token: Some(Secret::new("bench-token-0123456789")),
        ..Endpoint::new(url).unwrap()
    };
    let src = LiveSource::start(&[ep]).unwrap();
    let mut c = Console::new(src, Theme::load(None, Depth::Ansi16).unwrap(), false, "bench".into());
    let end = Instant::now() + Duration::from_secs(10);
    while !c.state.connections.iter().all(|c| c.state.healthy()) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
        c.tick(Instant::now());
    }
    c
}

/// Keystroke to frame written as the event loop does it, one key per 100 ms turn (the
/// events of that turn drained with it): the mean and the worst over `n` keys, and the
/// events the console took in meanwhile.
pub fn key_latency_streaming(c: &mut Console<LiveSource>, n: usize) -> (Duration, Duration, usize) {
    let received = c.state.log.received;
    let (mean, worst) = key_per_turn(c, n);
    (mean, worst, c.state.log.received - received)
}

/// `n` keys, one per 100 ms turn of the loop: each handled, the source read, the frame
/// written. The mean and the worst.
fn key_per_turn<S: Source>(c: &mut Console<S>, n: usize) -> (Duration, Duration) {
    let mut t = sink_terminal(120, 40);
    let (mut total, mut worst) = (Duration::ZERO, Duration::ZERO);
    for i in 0..n {
        std::thread::sleep(Duration::from_millis(100));
        let t0 = Instant::now();
        c.key(if i % 2 == 0 { Key::Down } else { Key::Up });
        c.tick(Instant::now());
        c.draw(&mut t).unwrap();
        let d = t0.elapsed();
        total += d;
        worst = worst.max(d);
    }
    (total / n as u32, worst)
}

/// The real binary's live console in tmux on one idle real controller (the built-in
/// deployment's east, no agents): CPU share and bytes written per second over `secs`.
pub fn idle_run(secs: u64) -> Option<(f64, f64)> {
    Command::new("tmux").arg("-V").output().ok()?;
    let bin = env!("CARGO_BIN_EXE_hactl");
    let dir = std::env::temp_dir().join(format!("hactl-bench-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok()?;
    let secret = "bench-operator-0123456789";
    std::fs::write(
        dir.join("tokens.toml"),
        format!("[[token]]\nname = \"bench\"\nrole = \"operator\"\nsecret = \"{secret}\"\n"),
    )
    .ok()?;
    let token = dir.join("op.token");
    std::fs::write(&token, secret).ok()?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).ok()?;
    }
    let deploy = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/builtin.toml");
    let mut ctl = Command::new(bin)
        .args([
            "controller",
            "--config",
            deploy,
            "--site",
            "east",
            "--listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(ctl.stderr.take()?), &mut line).ok()?;
    let url = line.split("listening on ").nth(1)?.trim().to_string();
    let s = format!("hactl-bench-live-{}", std::process::id());
    let out = dir.join("pane.out");
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().ok();
    let cmd = format!("{bin} console --controller {url} --token-file {}", token.display());
    tmux(&["new-session", "-d", "-s", &s, "-x", "120", "-y", "40", &cmd]);
    std::thread::sleep(Duration::from_secs(4));
    let measured = measure_pane(&s, secs, &out);
    tmux(&["kill-session", "-t", &s]);
    let _ = ctl.kill();
    let _ = ctl.wait();
    let _ = std::fs::remove_dir_all(&dir);
    measured
}

/// Keystroke to frame on a drill console in the same way (the baseline of the live one).
pub fn key_latency_drill(n: usize) -> Duration {
    let mut src = DrillSource::new(config::builtin(), 1, 1.0, operator());
    src.run_for(60_000);
    let mut c = Console::new(src, Theme::load(None, Depth::Ansi16).unwrap(), false, "bench".into());
    c.key(Key::Char('3'));
    key_per_turn(&mut c, n).0
}
