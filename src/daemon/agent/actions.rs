//! How the real agent carries out the core's actions on its host, each as a task that
//! feeds its result back to the core: processes (spawn, signal, exit), mode hooks, probes
//! (a loop per application at its probe's interval), backups' start-up checks, VIPs and
//! their announcement, scripts with streamed output; and the watch on NICs, traffic and
//! VIPs (bound here? does another machine answer ARP for one bound here?) that tells the
//! core what changed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::Host;
use crate::agent::{AgentAction, AgentInput, ExitStatus, ProbeOutcome, Signal};
use crate::daemon::exec::command::{Exit, Status};
use crate::daemon::exec::net::{Net, VipAddr, interface_for};
use crate::daemon::exec::process::AppProcess;
use crate::daemon::exec::{hook, probe, script};
use crate::daemon::link;
use crate::engine::config::escape;
use crate::engine::{AppIx, HostIx, Mode, PairIx, Topology};

fn exit_status(e: Exit) -> ExitStatus {
    match e {
        Exit::Code(c) => ExitStatus::Code(c),
        Exit::Signal(s) => ExitStatus::Signal(s),
        // An adopted process's status is not ours to read: it ended, that is what counts.
        Exit::Unknown => ExitStatus::Code(255),
    }
}

fn log(what: &str) {
    eprintln!("hactl agent: {}", escape(what));
}

impl Host {
    /// Watches a process until it exits, then tells the core.
    pub(super) fn watch(&mut self, app: AppIx, p: AppProcess) {
        let tx = self.tx.clone();
        let watched = p.clone();
        self.procs.insert(app, p);
        tokio::spawn(async move {
            let e = watched.wait().await;
            let _ = tx.send(AgentInput::Exited {
                app,
                status: exit_status(e),
            });
        });
    }

    pub(super) async fn execute(&mut self, action: AgentAction) {
        let topo = self.topo.clone();
        match action {
            AgentAction::Spawn { app } => {
                let cfg = topo.app(app);
                match self.supervisor.start(&cfg.id, &cfg.start).await {
                    Ok(p) => {
                        self.watch(app, p);
                        let _ = self.tx.send(AgentInput::Spawned { app });
                    }
                    Err(e) => {
                        log(&e.to_string());
                        let _ = self.tx.send(AgentInput::Exited {
                            app,
                            status: ExitStatus::Code(127),
                        });
                    }
                }
            }
            AgentAction::Signal { app, signal } => {
                if let Some(p) = self.procs.get(&app) {
                    let r = match signal {
                        Signal::Term => p.terminate(),
                        Signal::Kill => p.kill(),
                    };
                    if let Err(e) = r {
                        log(&format!("cannot signal {}: {e}", topo.app(app).id));
                    }
                }
            }
            AgentAction::RunModeHook { app, mode } => {
                let cfg = topo.app(app);
                let (id, hook_argv) = (cfg.id.clone(), cfg.mode_hook.clone());
                let timeout = Duration::from_millis(topo.controller.mode_timeout.as_ms());
                let tx = self.tx.clone();
                let announce = mode == Mode::Primary && cfg.announces_primary;
                let probe_cfg = cfg.probe.clone();
                let ip = self.probe_ip;
                let record = self
                    .procs
                    .get(&app)
                    .map(|p| (self.supervisor.pid_path(&id).with_extension("mode"), p.pid()));
                let task = tokio::spawn(async move {
                    let result = match hook::run_mode_hook(&id, &hook_argv, mode, timeout).await {
                        Ok(o) if o.ok() => Ok(()),
                        Ok(o) => Err(format!("mode hook of {id} to {}: {o:?}", mode.as_str())),
                        Err(e) => Err(e.to_string()),
                    };
                    let ok = result.is_ok();
                    if ok && let Some((path, pid)) = record {
                        // A restarted agent that adopts this process takes its mode back.
                        let _ = std::fs::write(&path, format!("{pid} {}\n", mode.as_str()));
                    }
                    let _ = tx.send(AgentInput::HookDone { app, mode, result });
                    if ok && announce {
                        // It announces itself once it answers as the primary it now is.
                        if let Some(p) = probe_cfg {
                            let until = tokio::time::Instant::now() + timeout;
                            while tokio::time::Instant::now() < until {
                                if probe::run(&p, ip).await.alive {
                                    break;
                                }
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        }
                        let _ = tx.send(AgentInput::Announced { app });
                    }
                });
                if let Some(old) = self.hooks.insert(app, task) {
                    old.abort();
                }
            }
            AgentAction::CancelModeHook { app } => {
                if let Some(t) = self.hooks.remove(&app) {
                    t.abort();
                }
            }
            AgentAction::StartProbing { app } => {
                let Some(p) = topo.app(app).probe.clone() else { return };
                let tx = self.tx.clone();
                let ip = self.probe_ip;
                let task = tokio::spawn(async move {
                    let every = Duration::from_millis(p.interval.as_ms().max(100));
                    loop {
                        let r = probe::run(&p, ip).await;
                        let outcome = match (r.alive, r.status) {
                            (true, Some(503)) => ProbeOutcome::Unavailable(r.detail),
                            (true, _) => ProbeOutcome::Ok,
                            (false, _) => ProbeOutcome::NoAnswer,
                        };
                        if tx.send(AgentInput::Probe { app, outcome }).is_err() {
                            return;
                        }
                        tokio::time::sleep(every.saturating_sub(r.elapsed)).await;
                    }
                });
                if let Some(old) = self.probes.insert(app, task) {
                    old.abort();
                }
            }
            AgentAction::StopProbing { app } => {
                if let Some(t) = self.probes.remove(&app) {
                    t.abort();
                }
            }
            AgentAction::StartupCheck { app } => {
                // W6: the backup's components answer (its probe) within the init timeout.
                let cfg = topo.app(app);
                let probe_cfg = cfg.probe.clone();
                let limit = cfg.backup_check.init_timeout;
                let tx = self.tx.clone();
                let ip = self.probe_ip;
                tokio::spawn(async move {
                    let result = match probe_cfg {
                        None => Ok(()),
                        Some(p) => {
                            let until = tokio::time::Instant::now() + Duration::from_millis(limit.as_ms());
                            loop {
                                let r = probe::run(&p, ip).await;
                                if r.alive {
                                    break Ok(());
                                }
                                let last = r.detail;
                                if tokio::time::Instant::now() >= until {
                                    break Err(format!(
                                        "backup start-up check: components not initialised within {limit} ({last})"
                                    ));
                                }
                                tokio::time::sleep(Duration::from_millis(500)).await;
                            }
                        }
                    };
                    let _ = tx.send(AgentInput::StartupCheck { app, result });
                });
            }
            AgentAction::SiteMode { app, single_site } => {
                log(&format!(
                    "{} runs {}",
                    topo.app(app).id,
                    if single_site { "single-site" } else { "peered" }
                ));
            }
            AgentAction::VipAdd { pair } | AgentAction::VipDel { pair } => {
                let enable = matches!(action, AgentAction::VipAdd { .. });
                let tx = self.tx.clone();
                let net = self.net.clone();
                let target = vip_target(&topo, self.host, pair);
                tokio::spawn(async move {
                    let result = match target {
                        Err(e) => Err(e),
                        Ok((vip, ifname)) => {
                            let r = if enable {
                                net.add_vip(&vip, &ifname).await
                            } else {
                                net.del_vip(&vip, &ifname).await
                            };
                            match r {
                                Ok(()) if enable => net
                                    .gratuitous_arp(&vip, &ifname)
                                    .await
                                    .map(|_| ())
                                    .map_err(|e| e.to_string()),
                                Ok(()) => Ok(()),
                                Err(e) => Err(e.to_string()),
                            }
                        }
                    };
                    let _ = tx.send(AgentInput::VipApplied { pair, enable, result });
                });
            }
            AgentAction::Garp { pair } => {
                let net = self.net.clone();
                if let Ok((vip, ifname)) = vip_target(&topo, self.host, pair) {
                    tokio::spawn(async move {
                        if let Err(e) = net.gratuitous_arp(&vip, &ifname).await {
                            log(&e.to_string());
                        }
                    });
                }
            }
            AgentAction::RunScript {
                run,
                script: s,
                args,
                timeout,
            } => {
                let cfg = topo.script(s).clone();
                let host = self.host;
                let tx = self.tx.clone();
                let task = tokio::spawn(async move {
                    let (ltx, mut lrx) = mpsc::channel::<crate::daemon::exec::command::Line>(64);
                    let lines_tx = tx.clone();
                    let forward = tokio::spawn(async move {
                        while let Some(l) = lrx.recv().await {
                            let _ = lines_tx.send(AgentInput::ScriptOutput { run, line: l.text });
                        }
                    });
                    // The core kills a run at its timeout; this is only a safety net.
                    let limit = Duration::from_millis(timeout.as_ms()) + Duration::from_secs(5);
                    let exit_code = match script::run_script(&cfg, host, &args, limit, ltx).await {
                        Ok(o) => match o.status {
                            Status::Exited(Exit::Code(c)) => Some(c),
                            Status::Exited(_) | Status::TimedOut => None,
                        },
                        Err(e) => {
                            let _ = tx.send(AgentInput::ScriptOutput {
                                run,
                                line: e.to_string(),
                            });
                            Some(126)
                        }
                    };
                    let _ = forward.await;
                    let _ = tx.send(AgentInput::ScriptFinished { run, exit_code });
                });
                self.scripts.insert(run, task);
            }
            AgentAction::KillScript { run } => {
                if let Some(t) = self.scripts.remove(&run) {
                    t.abort();
                }
            }
            AgentAction::ScriptLine { run, line } => {
                let _ = self.out.send(link::AgentMsg::ScriptOutput { run, line });
            }
            AgentAction::Report(input) => {
                if let Some(msg) = link::from_input(&topo, &input) {
                    let _ = self.out.send(msg);
                }
            }
        }
    }
}

/// The mode a previous agent recorded for the process `pid` of `app` (none when the record
/// is of another process, missing or unreadable).
pub(super) fn recorded_mode(supervisor: &crate::daemon::exec::process::Supervisor, app: &str, pid: i32) -> Mode {
    let path = supervisor.pid_path(app).with_extension("mode");
    let Ok(text) = std::fs::read_to_string(path) else {
        return Mode::None;
    };
    let mut parts = text.split_whitespace();
    match (parts.next().and_then(|p| p.parse::<i32>().ok()), parts.next()) {
        (Some(p), Some("primary")) if p == pid => Mode::Primary,
        (Some(p), Some("backup")) if p == pid => Mode::Backup,
        _ => Mode::None,
    }
}

/// The VIP of `pair` and the interface it goes on, on `host`.
fn vip_target(topo: &Topology, host: HostIx, pair: PairIx) -> Result<(VipAddr, String), String> {
    let v = topo
        .pair(pair)
        .vip
        .as_ref()
        .ok_or_else(|| format!("pair {} has no VIP", topo.pair(pair).id))?;
    let h = topo.host(host);
    let nic = h
        .nic(&v.nic)
        .ok_or_else(|| format!("host {} has no NIC {}", h.id, v.nic))?;
    let ifname = interface_for(h, nic).ok_or_else(|| format!("host {} has no interface for NIC {}", h.id, v.nic))?;
    let vip: VipAddr = v
        .address
        .parse()
        .map_err(|e| format!("VIP {} of pair {}: {e}", v.address, topo.pair(pair).id))?;
    Ok((vip, ifname.to_string()))
}

/// How long an ARP probe waits for another holder of a VIP to answer.
const ARP_WAIT: Duration = Duration::from_millis(200);

/// The ARP probes of the VIPs bound here: at most one in flight per VIP, and a failing
/// probe (no CAP_NET_RAW, an interface without a hardware address) said once, not every
/// second.
#[derive(Default)]
struct ArpWatch {
    inflight: HashMap<PairIx, tokio::task::JoinHandle<()>>,
    failing: Arc<Mutex<HashSet<PairIx>>>,
}

impl ArpWatch {
    fn probe(&mut self, net: &Net, pair: PairIx, vip: VipAddr, ifname: String, tx: &mpsc::UnboundedSender<AgentInput>) {
        if self.inflight.get(&pair).is_some_and(|t| !t.is_finished()) {
            return;
        }
        let (net, tx, failing) = (net.clone(), tx.clone(), self.failing.clone());
        let task = tokio::spawn(async move {
            let result = net.arp_probe(&vip, &ifname, ARP_WAIT).await;
            let mut failing = failing.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(by) => {
                    failing.remove(&pair);
                    let _ = tx.send(AgentInput::VipElsewhere { pair, by });
                }
                Err(e) => {
                    if failing.insert(pair) {
                        log(&format!("{e} (other holders of this address go unseen)"));
                    }
                }
            }
        });
        self.inflight.insert(pair, task);
    }
}

/// Watches the host: NIC link state and traffic (receive counters) every 250 ms, VIPs
/// every second (and, for each one bound here, whether another machine answers ARP for
/// it); tells the core what it sees first and then every change.
pub(super) async fn watch_host(topo: Arc<Topology>, host: HostIx, net: Net, tx: mpsc::UnboundedSender<AgentInput>) {
    let h = topo.host(host);
    let mut nic_state: Vec<Option<bool>> = vec![None; h.nics.len()];
    let mut rx_last: HashMap<usize, (u64, tokio::time::Instant)> = HashMap::new();
    let mut flowing: HashMap<AppIx, bool> = HashMap::new();
    let mut vip_state: HashMap<PairIx, bool> = HashMap::new();
    let vips: Vec<PairIx> = topo.vip_pairs_on_host(host);
    let mut arp = ArpWatch::default();
    let mut tick: u64 = 0;
    loop {
        for (nic, seen) in nic_state.iter_mut().enumerate() {
            let Some(ifname) = interface_for(h, nic) else { continue };
            let Ok(link) = net.link(ifname).await else {
                if *seen != Some(false) {
                    *seen = Some(false);
                    let _ = tx.send(AgentInput::NicObserved { nic, up: false });
                }
                continue;
            };
            let up = link.up();
            if *seen != Some(up) {
                *seen = Some(up);
                let _ = tx.send(AgentInput::NicObserved { nic, up });
            }
            let now = tokio::time::Instant::now();
            let moved = match rx_last.get(&nic) {
                Some((n, _)) if *n != link.rx_packets => true,
                Some((_, since)) => now.duration_since(*since) < Duration::from_millis(1000),
                None => false,
            };
            if rx_last.get(&nic).is_none_or(|(n, _)| *n != link.rx_packets) {
                rx_last.insert(nic, (link.rx_packets, now));
            }
            for &app in &h.apps {
                if let Some(t) = &topo.app(app).traffic
                    && t.nic == nic
                    && flowing.get(&app) != Some(&moved)
                {
                    flowing.insert(app, moved);
                    let _ = tx.send(AgentInput::Traffic { app, flowing: moved });
                }
            }
        }
        // VIPs every fourth tick: every second, the engine's `ARP_PROBE_PERIOD`.
        if tick.is_multiple_of(4) {
            for &pair in &vips {
                let Ok((vip, ifname)) = vip_target(&topo, host, pair) else {
                    continue;
                };
                let Ok(bound) = net.vip_bound(&vip, &ifname).await else {
                    continue;
                };
                if vip_state.get(&pair) != Some(&bound) {
                    vip_state.insert(pair, bound);
                    let _ = tx.send(AgentInput::VipObserved { pair, bound });
                }
                if bound {
                    arp.probe(&net, pair, vip, ifname, &tx);
                }
            }
        }
        tick += 1;
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
