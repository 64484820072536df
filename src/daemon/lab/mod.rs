//! `hactl lab up|status|down --dir DIR`: a real deployment on one machine. Two peered
//! sites, each with its controller and one SIP pair on two hosts, every daemon a real
//! process. As root each host and controller gets a network namespace on a bridge and the
//! pairs' VIPs really move; otherwise everything runs on loopback without VIPs. What the
//! lab made is recorded in `DIR/lab.json`, so `up` starts only what is missing and `down`
//! removes everything, also after a partial `up`.

mod netns;
mod plan;
mod procs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use plan::Plan;
use procs::Proc;

#[derive(clap::Subcommand, Debug)]
pub enum LabCommand {
    /// Create the lab (or start what is missing of it) and wait until every pair is OK.
    Up(LabArgs),
    /// Show every process of the lab and each pair's redundancy and primary.
    Status(LabArgs),
    /// Stop every process of the lab and remove its namespaces.
    Down(LabArgs),
}

#[derive(clap::Args, Debug)]
pub struct LabArgs {
    /// The lab's directory (deployment file, tokens, logs, data).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Print the lab as JSON.
    #[arg(long)]
    pub json: bool,
    /// `up` of a new lab: run on loopback without VIPs even as root.
    #[arg(long)]
    pub loopback: bool,
}

/// What `DIR/lab.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    plan: Plan,
    /// Controllers by site and agents by host.
    procs: BTreeMap<String, Proc>,
}

pub fn run(cmd: LabCommand) -> Result<ExitCode, String> {
    match cmd {
        LabCommand::Up(a) => up(&absolute(&a.dir)?, a.json, a.loopback),
        LabCommand::Status(a) => status(&absolute(&a.dir)?, a.json),
        LabCommand::Down(a) => down(&absolute(&a.dir)?),
    }
}

fn absolute(dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("lab.json")
}

fn load(dir: &Path) -> Result<Option<State>, String> {
    let path = state_path(dir);
    match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| format!("{}: not a lab record: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn save(dir: &Path, s: &State) -> Result<(), String> {
    let path = state_path(dir);
    let tmp = dir.join("lab.json.tmp");
    let text = serde_json::to_string_pretty(s).map_err(|e| format!("lab record: {e}"))?;
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn hactl() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find the hactl binary: {e}"))
}

fn log_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("logs").join(format!("{name}.log"))
}

fn ctl_key(site: &str) -> String {
    format!("ctl-{site}")
}

fn agent_data(dir: &Path, host: &str) -> PathBuf {
    dir.join("data").join(host)
}

/// `command -v NAME`, without a shell.
fn find_program(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// Free loopback ports: two TCP ports for the controllers and a UDP port free on every
/// application address.
fn free_ports() -> Result<([u16; 2], u16), String> {
    let tcp = || std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free TCP port on 127.0.0.1: {e}"));
    // Both held at once, so that they differ.
    let (a, b) = (tcp()?, tcp()?);
    let port = |l: &std::net::TcpListener| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string());
    let ctl = [port(&a)?, port(&b)?];
    for _ in 0..20 {
        let first = std::net::UdpSocket::bind("127.0.0.21:0").map_err(|e| format!("no UDP port on 127.0.0.21: {e}"))?;
        let port = first.local_addr().map_err(|e| e.to_string())?.port();
        let others = ["127.0.0.22", "127.0.0.31", "127.0.0.32"]
            .iter()
            .all(|ip| std::net::UdpSocket::bind((*ip, port)).is_ok());
        if others {
            return Ok((ctl, port));
        }
    }
    Err("no UDP port free on every SIP server's loopback address".into())
}

fn up(dir: &Path, json_out: bool, loopback: bool) -> Result<ExitCode, String> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).map_err(|e| format!("cannot handle signals: {e}"))?;
    }
    let (mut state, fresh) = match load(dir)? {
        Some(s) => (s, false),
        None => (create(dir, loopback)?, true),
    };
    if !state.plan.netns {
        let why = if loopback { "--loopback" } else { "not root" };
        eprintln!("{why}: VIP control is off; everything runs on loopback");
    }
    if let Err(e) = bring_up(dir, &mut state, fresh, &stop) {
        // A new lab that did not come up is removed whole (also on Ctrl-C), so no
        // namespace or process is left behind; a running lab is left as it is.
        if fresh {
            return match take_down(dir, &state) {
                Ok(()) => {
                    let _ = std::fs::remove_file(state_path(dir));
                    Err(format!("{e} (the partial lab was removed)"))
                }
                Err(left) => Err(format!("{e}; {left}")),
            };
        }
        return Err(e);
    }
    print(dir, &state, json_out)
}

/// A new lab's plan and files (nothing started yet).
fn create(dir: &Path, loopback: bool) -> Result<State, String> {
    // SAFETY: geteuid has no preconditions.
    let root =
        !loopback && unsafe { libc::geteuid() } == 0 && Path::new(crate::daemon::exec::net::ip_program()).is_file();
    let kamailio = if root { find_program("kamailio") } else { None };
    let (ctl_ports, sip_port) = if root { ([0, 0], 0) } else { free_ports()? };
    let plan = Plan::new(root, kamailio, ctl_ports, sip_port)?;
    for sub in ["logs", "data", "tokens"] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let deploy = dir.join("deploy.toml");
    std::fs::write(&deploy, plan.deployment(dir, &hactl()?))
        .map_err(|e| format!("cannot write {}: {e}", deploy.display()))?;
    plan.write_tokens(dir)?;
    plan.write_kamailio(dir)?;
    let state = State {
        plan,
        procs: BTreeMap::new(),
    };
    // Recorded before any namespace exists, so that `down` finds a partial lab.
    save(dir, &state)?;
    Ok(state)
}

fn bring_up(dir: &Path, state: &mut State, fresh: bool, stop: &AtomicBool) -> Result<(), String> {
    let plan = state.plan.clone();
    if plan.netns {
        if fresh {
            netns::create(&plan)?;
        } else {
            let have = netns::list(&plan.prefix());
            let wanted = plan
                .sites
                .iter()
                .filter_map(|s| s.netns.clone())
                .chain(plan.hosts.iter().filter_map(|h| h.netns.clone()))
                .chain(plan.bridge_netns());
            if let Some(missing) = wanted.into_iter().find(|n| !have.contains(n)) {
                return Err(format!(
                    "network namespace {missing} of the lab is gone: run `hactl lab down --dir {}` and `up` again",
                    dir.display()
                ));
            }
        }
    }
    let exe = hactl()?;
    let config = dir.join("deploy.toml");
    let netns_prefix = |ns: &Option<String>| -> Vec<String> {
        match ns {
            Some(n) => vec![
                crate::daemon::exec::net::ip_program().into(),
                "netns".into(),
                "exec".into(),
                n.clone(),
            ],
            None => Vec::new(),
        }
    };
    for s in &plan.sites {
        let key = ctl_key(&s.id);
        if state.procs.get(&key).is_some_and(Proc::alive) {
            continue;
        }
        let mut argv = netns_prefix(&s.netns);
        argv.extend([exe.display().to_string(), "controller".into(), "--config".into()]);
        argv.extend([config.display().to_string(), "--site".into(), s.id.clone()]);
        argv.extend(["--listen".into(), s.listen.clone(), "--data".into()]);
        argv.push(dir.join("data").join(&key).display().to_string());
        argv.extend(["--tokens".into(), dir.join("tokens.toml").display().to_string()]);
        let p = procs::spawn(&argv, &log_path(dir, &key))?;
        state.procs.insert(key, p);
        save(dir, state)?;
    }
    let viewer = read_token(dir, "viewer")?;
    for s in &plan.sites {
        let key = ctl_key(&s.id);
        let log = log_path(dir, &key);
        wait(stop, Duration::from_secs(20), || {
            if !state.procs.get(&key).is_some_and(Proc::alive) {
                return Err(format!("the controller of site {} exited: see {}", s.id, log.display()));
            }
            let ready = netns::http_get(s.netns.as_deref(), &format!("{}/readyz", s.url), &viewer);
            Ok(matches!(ready, Ok((200, _))))
        })
        .map_err(|e| {
            e.unwrap_or_else(|| {
                format!(
                    "the controller of site {} is not ready after 20 s: see {}",
                    s.id,
                    log.display()
                )
            })
        })?;
    }
    for h in &plan.hosts {
        if state.procs.get(&h.id).is_some_and(Proc::alive) {
            continue;
        }
        let site = plan
            .sites
            .iter()
            .find(|s| s.id == h.site)
            .ok_or("a host without a site")?;
        let mut argv = netns_prefix(&h.netns);
        argv.extend([exe.display().to_string(), "agent".into(), "--config".into()]);
        argv.extend([config.display().to_string(), "--host".into(), h.id.clone()]);
        argv.extend(["--controller".into(), site.url.clone(), "--data".into()]);
        argv.push(agent_data(dir, &h.id).display().to_string());
        argv.extend([
            "--token-file".into(),
            plan::agent_token(dir, &h.id).display().to_string(),
        ]);
        argv.extend(["--probe-address".into(), h.ip.clone()]);
        let p = procs::spawn(&argv, &log_path(dir, &h.id))?;
        state.procs.insert(h.id.clone(), p);
        save(dir, state)?;
    }
    for s in &plan.sites {
        let hosts: Vec<&plan::HostPlan> = plan.hosts.iter().filter(|h| h.site == s.id).collect();
        let mut last = String::from("no answer");
        wait(stop, Duration::from_secs(40), || {
            for h in &hosts {
                if !state.procs.get(&h.id).is_some_and(Proc::alive) {
                    return Err(format!(
                        "the agent of {} exited: see {}",
                        h.id,
                        log_path(dir, &h.id).display()
                    ));
                }
            }
            let snap = netns::http_get(s.netns.as_deref(), &format!("{}/v1/snapshot", s.url), &viewer);
            let red = snap
                .ok()
                .and_then(|(_, v)| pair_of(&v, &s.pair).map(|p| p["redundancy"].as_str().unwrap_or("?").to_string()));
            last = red.unwrap_or_else(|| "no answer".into());
            Ok(last == "ok")
        })
        .map_err(|e| {
            e.unwrap_or_else(|| {
                let logs: Vec<String> = hosts
                    .iter()
                    .map(|h| {
                        agent_data(dir, &h.id)
                            .join("apps")
                            .join(format!("{}.log", h.app))
                            .display()
                            .to_string()
                    })
                    .chain(hosts.iter().map(|h| log_path(dir, &h.id).display().to_string()))
                    .collect();
                format!("pair {} is not ok after 40 s ({last}): see {}", s.pair, logs.join(", "))
            })
        })?;
    }
    Ok(())
}

/// Polls `check` every 200 ms until it is true (Ok), fails (Err(Some)), the time is up
/// (Err(None)) or a signal asks to stop.
fn wait(
    stop: &AtomicBool,
    limit: Duration,
    mut check: impl FnMut() -> Result<bool, String>,
) -> Result<(), Option<String>> {
    let end = Instant::now() + limit;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(Some("interrupted".into()));
        }
        if check().map_err(Some)? {
            return Ok(());
        }
        if Instant::now() >= end {
            return Err(None);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn pair_of<'a>(snapshot: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    snapshot["pairs"].as_array()?.iter().find(|p| p["id"] == id)
}

fn read_token(dir: &Path, role: &str) -> Result<String, String> {
    let path = plan::role_token(dir, role);
    std::fs::read_to_string(&path)
        .map(|t| t.trim().to_string())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The lab as JSON: its processes, token files, the console command and the pairs.
fn describe(dir: &Path, state: &State) -> Result<serde_json::Value, String> {
    let plan = &state.plan;
    let pid = |k: &str| state.procs.get(k).copied().unwrap_or_default();
    let viewer = read_token(dir, "viewer").unwrap_or_default();
    let mut controllers = Vec::new();
    let mut pairs = Vec::new();
    for s in &plan.sites {
        let p = pid(&ctl_key(&s.id));
        controllers.push(json!({"site": s.id, "url": s.url, "netns": s.netns, "pid": p.pid, "alive": p.alive()}));
        let snap = netns::http_get(s.netns.as_deref(), &format!("{}/v1/snapshot", s.url), &viewer);
        let (redundancy, primary) = match snap.ok().as_ref().and_then(|(_, v)| pair_of(v, &s.pair)) {
            Some(p) => (p["redundancy"].clone(), p["primary"]["app"].clone()),
            None => (json!("unknown (controller not answering)"), json!(null)),
        };
        pairs.push(json!({"pair": s.pair, "site": s.id, "vip": s.vip, "redundancy": redundancy, "primary": primary}));
    }
    let mut agents = Vec::new();
    let mut apps = Vec::new();
    for h in &plan.hosts {
        let p = pid(&h.id);
        agents.push(json!({"host": h.id, "netns": h.netns, "pid": p.pid, "alive": p.alive()}));
        for (app, rec) in procs::apps(&agent_data(dir, &h.id)) {
            apps.push(json!({"app": app, "host": h.id, "pid": rec.pid, "alive": rec.still_runs()}));
        }
    }
    let tokens: serde_json::Map<String, serde_json::Value> = plan::ROLES
        .iter()
        .map(|r| (r.to_string(), json!(plan::role_token(dir, r).display().to_string())))
        .collect();
    let first = plan.sites.first().ok_or("a lab without sites")?;
    let inside = first
        .netns
        .as_ref()
        .map(|n| format!("ip netns exec {n} "))
        .unwrap_or_default();
    // Both sites' controllers at once (from the first one's namespace, which reaches the
    // other's over the bridge).
    let console = format!(
        "{inside}{} console {} --token-file {}",
        hactl()?.display(),
        plan.sites
            .iter()
            .map(|s| format!("--controller {}", s.url))
            .collect::<Vec<_>>()
            .join(" "),
        plan::role_token(dir, "operator").display()
    );
    let curl = format!(
        "{inside}curl -s -H \"Authorization: Bearer $(cat {})\" {}/v1/snapshot",
        plan::role_token(dir, "viewer").display(),
        first.url
    );
    Ok(json!({
        "controllers": controllers,
        "agents": agents,
        "apps": apps,
        "tokens": tokens,
        "console": console,
        "curl": curl,
        "pairs": pairs,
        "sip": if plan.kamailio.is_some() { "kamailio" } else { "hactl sip-responder" },
        "vips": plan.netns,
    }))
}

fn print(dir: &Path, state: &State, json_out: bool) -> Result<ExitCode, String> {
    let d = describe(dir, state)?;
    if json_out {
        println!("{d}");
        return Ok(ExitCode::SUCCESS);
    }
    let alive = |v: &serde_json::Value| if v["alive"] == true { "alive" } else { "DEAD" };
    let list = |k: &str| d[k].as_array().cloned().unwrap_or_default();
    for c in list("controllers") {
        println!(
            "controller {:<6} pid {:<8} {:<5} {}",
            c["site"].as_str().unwrap_or(""),
            c["pid"],
            alive(&c),
            c["url"].as_str().unwrap_or("")
        );
    }
    for a in list("agents") {
        let ns = a["netns"].as_str().map(|n| format!(" (netns {n})")).unwrap_or_default();
        println!(
            "agent      {:<9} pid {:<8} {}{ns}",
            a["host"].as_str().unwrap_or(""),
            a["pid"],
            alive(&a)
        );
    }
    for a in list("apps") {
        println!(
            "app        {:<13} on {:<9} pid {:<8} {}",
            a["app"].as_str().unwrap_or(""),
            a["host"].as_str().unwrap_or(""),
            a["pid"],
            alive(&a)
        );
    }
    for p in list("pairs") {
        let vip = p["vip"].as_str().map(|v| format!(", VIP {v}")).unwrap_or_default();
        println!(
            "pair       {:<9} {}, primary {}{vip}",
            p["pair"].as_str().unwrap_or(""),
            p["redundancy"].as_str().unwrap_or("?"),
            p["primary"].as_str().unwrap_or("none")
        );
    }
    println!("console:   {}", d["console"].as_str().unwrap_or(""));
    println!("try:       {}", d["curl"].as_str().unwrap_or(""));
    Ok(ExitCode::SUCCESS)
}

fn status(dir: &Path, json_out: bool) -> Result<ExitCode, String> {
    let state = load(dir)?.ok_or_else(|| {
        format!(
            "no lab in {}: run `hactl lab up --dir {}`",
            dir.display(),
            dir.display()
        )
    })?;
    print(dir, &state, json_out)
}

fn down(dir: &Path) -> Result<ExitCode, String> {
    let Some(state) = load(dir)? else {
        eprintln!("no lab in {}: nothing to take down", dir.display());
        return Ok(ExitCode::SUCCESS);
    };
    take_down(dir, &state)?;
    let path = state_path(dir);
    std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    eprintln!("lab {} is down", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Stops every process of the lab (agents first, so that none restarts an application,
/// then the applications' process groups, then the controllers) and removes the
/// namespaces. Says what is left, if anything.
fn take_down(dir: &Path, state: &State) -> Result<(), String> {
    let plan = &state.plan;
    let agents: Vec<Proc> = plan
        .hosts
        .iter()
        .filter_map(|h| state.procs.get(&h.id).copied())
        .collect();
    for a in &agents {
        a.signal(libc::SIGKILL);
    }
    procs::wait_until(Duration::from_secs(3), || agents.iter().all(|a| !a.alive()));
    let mut apps = Vec::new();
    for h in &plan.hosts {
        for (_, rec) in procs::apps(&agent_data(dir, &h.id)) {
            if rec.still_runs() {
                let _ = crate::daemon::exec::pgroup::signal_group(rec.pgid, libc::SIGKILL);
                apps.push(rec);
            }
        }
    }
    let ctls: Vec<Proc> = plan
        .sites
        .iter()
        .filter_map(|s| state.procs.get(&ctl_key(&s.id)).copied())
        .collect();
    for c in &ctls {
        c.signal(libc::SIGTERM);
    }
    if !procs::wait_until(Duration::from_secs(5), || ctls.iter().all(|c| !c.alive())) {
        for c in &ctls {
            c.signal(libc::SIGKILL);
        }
    }
    let mut left: Vec<String> = Vec::new();
    if plan.netns {
        left.extend(netns::remove(&plan.prefix()));
    }
    let gone = procs::wait_until(Duration::from_secs(5), || {
        agents.iter().chain(&ctls).all(|p| !p.alive())
            && apps
                .iter()
                .all(|r| crate::daemon::exec::pgroup::group_members(r.pgid).is_empty())
    });
    if !gone {
        let pids: Vec<String> = agents
            .iter()
            .chain(&ctls)
            .filter(|p| p.alive())
            .map(|p| p.pid.to_string())
            .chain(apps.iter().filter(|r| r.still_runs()).map(|r| r.pid.to_string()))
            .collect();
        left.push(format!("processes still running: {}", pids.join(" ")));
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!("the lab is not completely down: {}", left.join("; ")))
    }
}
