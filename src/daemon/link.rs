//! The agent link: the messages an agent and its site's controller exchange over one
//! WebSocket (`GET /v1/agents/link`, JSON text frames), and their translation to and from
//! the engine's [`Input`]s and [`Command`]s. Names travel on the wire, never indices, and
//! an agent may only speak about its own host: a report naming another host's application
//! is refused here, before it reaches the engine.
//!
//! The exchange: the agent sends [`AgentMsg::Hello`] with its host id and a summary of its
//! deployment file; the controller answers [`ControllerMsg::Welcome`] or
//! [`ControllerMsg::Refused`] (naming the first difference between the two files); then
//! the agent sends its full state and a heartbeat every `heartbeat-interval`, and the
//! controller sends orders.

use serde::{Deserialize, Serialize};

use crate::engine::{AppIx, AppReport, Command, HostIx, Input, Mode, PairIx, ScriptOutcome, Span, Topology, VipReason};

/// The protocol version; a peer with another one is refused with a clear message.
pub const LINK_VERSION: u32 = 2;

/// Longest text frame either side accepts (a hello of a 10,000-pair deployment is ~2 MB).
pub const MAX_FRAME: usize = 8 << 20;

/// From an agent to its controller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AgentMsg {
    Hello {
        version: u32,
        host: String,
        /// [`topology_summary`] of the agent's deployment file.
        topology: Vec<String>,
    },
    Heartbeat,
    App {
        app: String,
        report: WireReport,
    },
    Mode {
        app: String,
        mode: String,
    },
    Announced {
        app: String,
    },
    Nic {
        nic: String,
        up: bool,
    },
    Vip {
        pair: String,
        bound: bool,
    },
    VipResult {
        pair: String,
        enable: bool,
        ok: bool,
        detail: String,
    },
    /// Another machine answers ARP for the pair's VIP bound here (its hardware address),
    /// or no longer does (`null`).
    VipElsewhere {
        pair: String,
        by: Option<String>,
    },
    ScriptOutput {
        run: u64,
        line: String,
    },
    ScriptResult {
        run: u64,
        exit_code: Option<i32>,
        timed_out: bool,
        duration_ms: u64,
        output_tail: String,
    },
}

/// An application's state as the agent reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum WireReport {
    Running,
    Starting,
    Exited { code: i32 },
    ProbeFailed { detail: String },
    ServiceUnavailable { detail: String },
}

/// From a controller to an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ControllerMsg {
    Welcome {
        version: u32,
        site: String,
        heartbeat_interval_ms: u64,
    },
    /// The link is refused (a different deployment file, an unknown host, a token that
    /// may not speak for this host); the controller closes it after this message.
    Refused {
        error: String,
        detail: String,
    },
    SetMode {
        app: String,
        mode: String,
        correlation: Option<String>,
    },
    Start {
        app: String,
    },
    Stop {
        app: String,
    },
    Kill {
        app: String,
    },
    Vip {
        pair: String,
        enable: bool,
        reannounce: bool,
    },
    RunScript {
        run: u64,
        script: String,
        args: Vec<String>,
    },
    Resync,
    SiteMode {
        app: String,
        single_site: bool,
    },
}

/// Why a message could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("unknown {kind} `{name}`")]
    Unknown { kind: &'static str, name: String },
    #[error("{kind} `{name}` is not on host {host}")]
    NotOnHost {
        kind: &'static str,
        name: String,
        host: String,
    },
    #[error("unknown mode `{0}` (primary, backup or none)")]
    BadMode(String),
    #[error("unexpected message: {0}")]
    Unexpected(&'static str),
    /// A frame that is not a message of the link (its parser's words, made inert).
    #[error("a message does not parse: {0}")]
    Unreadable(String),
}

/// Reads an agent's frame.
pub fn parse_agent(text: &str) -> Result<AgentMsg, LinkError> {
    serde_json::from_str(text).map_err(unreadable)
}

/// Reads a controller's frame.
pub fn parse_controller(text: &str) -> Result<ControllerMsg, LinkError> {
    serde_json::from_str(text).map_err(unreadable)
}

fn unreadable(e: serde_json::Error) -> LinkError {
    LinkError::Unreadable(crate::engine::config::inert(&e.to_string(), 400))
}

pub fn mode_name(mode: Mode) -> &'static str {
    mode.as_str()
}

pub fn parse_mode(s: &str) -> Result<Mode, LinkError> {
    match s {
        "primary" => Ok(Mode::Primary),
        "backup" => Ok(Mode::Backup),
        "none" => Ok(Mode::None),
        _ => Err(LinkError::BadMode(crate::engine::config::inert(s, 40))),
    }
}

fn app_on(topo: &Topology, host: HostIx, name: &str) -> Result<AppIx, LinkError> {
    let app = topo.app_ix(name).ok_or_else(|| LinkError::Unknown {
        kind: "app",
        name: crate::engine::config::inert(name, 64),
    })?;
    if topo.app_host(app) != host {
        return Err(LinkError::NotOnHost {
            kind: "app",
            name: name.to_string(),
            host: topo.host(host).id.clone(),
        });
    }
    Ok(app)
}

fn pair_on(topo: &Topology, host: HostIx, name: &str) -> Result<PairIx, LinkError> {
    let pair = topo.pair_ix(name).ok_or_else(|| LinkError::Unknown {
        kind: "pair",
        name: crate::engine::config::inert(name, 64),
    })?;
    if !topo.pair(pair).apps.iter().any(|a| topo.app_host(*a) == host) {
        return Err(LinkError::NotOnHost {
            kind: "pair",
            name: name.to_string(),
            host: topo.host(host).id.clone(),
        });
    }
    Ok(pair)
}

/// What the controller feeds its engine for a message of `host`'s agent. `Ok(None)` for
/// messages that are not engine inputs (script output lines, a second hello).
pub fn to_input(topo: &Topology, host: HostIx, msg: &AgentMsg) -> Result<Option<Input>, LinkError> {
    Ok(Some(match msg {
        AgentMsg::Hello { .. } => return Err(LinkError::Unexpected("a second hello")),
        AgentMsg::Heartbeat => Input::Heartbeat { host },
        AgentMsg::App { app, report } => Input::AppState {
            app: app_on(topo, host, app)?,
            report: match report {
                WireReport::Running => AppReport::Running,
                WireReport::Starting => AppReport::Starting,
                WireReport::Exited { code } => AppReport::Exited { code: *code },
                WireReport::ProbeFailed { detail } => AppReport::ProbeFailed { detail: detail.clone() },
                WireReport::ServiceUnavailable { detail } => AppReport::ServiceUnavailable { detail: detail.clone() },
            },
        },
        AgentMsg::Mode { app, mode } => Input::ModeReport {
            app: app_on(topo, host, app)?,
            mode: parse_mode(mode)?,
        },
        AgentMsg::Announced { app } => Input::Announced {
            app: app_on(topo, host, app)?,
        },
        AgentMsg::Nic { nic, up } => Input::NicState {
            host,
            nic: topo.host(host).nic(nic).ok_or_else(|| LinkError::Unknown {
                kind: "nic",
                name: crate::engine::config::inert(nic, 32),
            })?,
            up: *up,
        },
        AgentMsg::Vip { pair, bound } => Input::VipState {
            host,
            pair: pair_on(topo, host, pair)?,
            bound: *bound,
        },
        AgentMsg::VipResult {
            pair,
            enable,
            ok,
            detail,
        } => Input::VipResult {
            host,
            pair: pair_on(topo, host, pair)?,
            enable: *enable,
            ok: *ok,
            detail: detail.clone(),
        },
        AgentMsg::VipElsewhere { pair, by } => Input::VipElsewhere {
            host,
            pair: pair_on(topo, host, pair)?,
            by: by.clone(),
        },
        AgentMsg::ScriptOutput { .. } => return Ok(None),
        AgentMsg::ScriptResult {
            run,
            exit_code,
            timed_out,
            duration_ms,
            output_tail,
        } => Input::ScriptResult {
            run: *run,
            outcome: ScriptOutcome {
                exit_code: *exit_code,
                timed_out: *timed_out,
                duration: Span(*duration_ms),
                output_tail: output_tail.clone(),
            },
        },
    }))
}

/// An engine input of an agent as it travels on the link (the agent side).
pub fn from_input(topo: &Topology, input: &Input) -> Option<AgentMsg> {
    Some(match input {
        Input::Heartbeat { .. } => AgentMsg::Heartbeat,
        Input::AppState { app, report } => AgentMsg::App {
            app: topo.app(*app).id.clone(),
            report: match report {
                AppReport::Running => WireReport::Running,
                AppReport::Starting => WireReport::Starting,
                AppReport::Exited { code } => WireReport::Exited { code: *code },
                AppReport::ProbeFailed { detail } => WireReport::ProbeFailed { detail: detail.clone() },
                AppReport::ServiceUnavailable { detail } => WireReport::ServiceUnavailable { detail: detail.clone() },
            },
        },
        Input::ModeReport { app, mode } => AgentMsg::Mode {
            app: topo.app(*app).id.clone(),
            mode: mode_name(*mode).into(),
        },
        Input::Announced { app } => AgentMsg::Announced {
            app: topo.app(*app).id.clone(),
        },
        Input::NicState { host, nic, up } => AgentMsg::Nic {
            nic: topo.host(*host).nics.get(*nic)?.clone(),
            up: *up,
        },
        Input::VipState { pair, bound, .. } => AgentMsg::Vip {
            pair: topo.pair(*pair).id.clone(),
            bound: *bound,
        },
        Input::VipResult {
            pair,
            enable,
            ok,
            detail,
            ..
        } => AgentMsg::VipResult {
            pair: topo.pair(*pair).id.clone(),
            enable: *enable,
            ok: *ok,
            detail: detail.clone(),
        },
        Input::VipElsewhere { pair, by, .. } => AgentMsg::VipElsewhere {
            pair: topo.pair(*pair).id.clone(),
            by: by.clone(),
        },
        Input::ScriptResult { run, outcome } => AgentMsg::ScriptResult {
            run: *run,
            exit_code: outcome.exit_code,
            timed_out: outcome.timed_out,
            duration_ms: outcome.duration.as_ms(),
            output_tail: outcome.output_tail.clone(),
        },
        Input::Start | Input::PeerProbe { .. } => return None,
    })
}

/// The order for an agent, for a command of the engine that a host carries out.
pub fn from_command(topo: &Topology, cmd: &Command) -> Option<ControllerMsg> {
    let app = |a: &AppIx| topo.app(*a).id.clone();
    Some(match cmd {
        Command::SetMode {
            app: a,
            mode,
            correlation,
            ..
        } => ControllerMsg::SetMode {
            app: app(a),
            mode: mode_name(*mode).into(),
            correlation: correlation.map(|c| topo.correlation_label(c)),
        },
        Command::Start { app: a, .. } => ControllerMsg::Start { app: app(a) },
        Command::Stop { app: a, .. } => ControllerMsg::Stop { app: app(a) },
        Command::Kill { app: a, .. } => ControllerMsg::Kill { app: app(a) },
        Command::Vip {
            pair, enable, reason, ..
        } => ControllerMsg::Vip {
            pair: topo.pair(*pair).id.clone(),
            enable: *enable,
            reannounce: *reason == VipReason::Reannounce,
        },
        Command::RunScript { run, script, args, .. } => ControllerMsg::RunScript {
            run: *run,
            script: topo.script(*script).id.clone(),
            args: args.clone(),
        },
        Command::Resync { .. } => ControllerMsg::Resync,
        Command::SiteMode {
            app: a, single_site, ..
        } => ControllerMsg::SiteMode {
            app: app(a),
            single_site: *single_site,
        },
        Command::ProbePeer { .. } | Command::Notify { .. } => return None,
    })
}

/// An order as the agent's core takes it: the engine command it stands for.
pub fn to_command(topo: &Topology, host: HostIx, msg: &ControllerMsg) -> Result<Option<Command>, LinkError> {
    Ok(Some(match msg {
        ControllerMsg::Welcome { .. } | ControllerMsg::Refused { .. } => return Ok(None),
        ControllerMsg::SetMode { app, mode, .. } => Command::SetMode {
            host,
            app: app_on(topo, host, app)?,
            mode: parse_mode(mode)?,
            correlation: None,
        },
        ControllerMsg::Start { app } => Command::Start {
            host,
            app: app_on(topo, host, app)?,
            correlation: None,
        },
        ControllerMsg::Stop { app } => Command::Stop {
            host,
            app: app_on(topo, host, app)?,
            correlation: None,
        },
        ControllerMsg::Kill { app } => Command::Kill {
            host,
            app: app_on(topo, host, app)?,
            correlation: None,
        },
        ControllerMsg::Vip {
            pair,
            enable,
            reannounce,
        } => Command::Vip {
            host,
            pair: pair_on(topo, host, pair)?,
            enable: *enable,
            reason: if *reannounce {
                VipReason::Reannounce
            } else {
                VipReason::Placement
            },
            correlation: None,
        },
        ControllerMsg::RunScript { run, script, args } => Command::RunScript {
            run: *run,
            host,
            script: topo.script_ix(script).ok_or_else(|| LinkError::Unknown {
                kind: "script",
                name: crate::engine::config::inert(script, 64),
            })?,
            args: args.clone(),
            correlation: None,
        },
        ControllerMsg::Resync => Command::Resync { host },
        ControllerMsg::SiteMode { app, single_site } => Command::SiteMode {
            host,
            app: app_on(topo, host, app)?,
            single_site: *single_site,
        },
    }))
}

/// A canonical, line-per-fact summary of what an agent and its controller must agree on:
/// the controller settings, sites, hosts with their NICs, applications with their hosts
/// and pairs, pairs with their VIPs, and scripts. Comparing two summaries names the first
/// difference ([`first_difference`]).
pub fn topology_summary(topo: &Topology) -> Vec<String> {
    let c = &topo.controller;
    let mut out = vec![format!(
        "controller heartbeat-interval={} heartbeat-timeout={} mode-timeout={}",
        c.heartbeat_interval, c.heartbeat_timeout, c.mode_timeout
    )];
    for s in &topo.sites {
        out.push(format!(
            "site {} peer={}",
            s.id,
            s.peer.map_or("-".to_string(), |p| topo.site(p).id.clone())
        ));
    }
    for h in &topo.hosts {
        out.push(format!(
            "host {} site={} nics={}",
            h.id,
            topo.site(h.site).id,
            h.nics.join(",")
        ));
    }
    for (i, a) in topo.apps.iter().enumerate() {
        let ix = AppIx(i as u32);
        out.push(format!(
            "app {} host={} pair={} restart-delay={}",
            a.id,
            topo.host(topo.app_host(ix)).id,
            a.pair.map_or("-".to_string(), |p| topo.pair(p).id.clone()),
            a.restart_delay
        ));
    }
    for p in &topo.pairs {
        out.push(format!(
            "pair {} apps={},{} vip={}",
            p.id,
            topo.app(p.apps[0]).id,
            topo.app(p.apps[1]).id,
            p.vip
                .as_ref()
                .map_or("-".to_string(), |v| format!("{}@{}", v.address, v.nic))
        ));
    }
    for s in &topo.scripts {
        out.push(format!("script {}", s.id));
    }
    out
}

/// The first fact where `ours` (the controller's) and `theirs` (the agent's) differ, as
/// one line, or `None` when they agree.
pub fn first_difference(ours: &[String], theirs: &[String]) -> Option<String> {
    let clip = |s: &str| crate::engine::config::escape(&crate::engine::config::clip(s, 120)).into_owned();
    if let Some(line) = ours.iter().find(|l| !theirs.contains(l)) {
        let kind = line.split(' ').take(2).collect::<Vec<_>>().join(" ");
        let other = theirs
            .iter()
            .find(|l| l.starts_with(&format!("{kind} ")) || **l == kind);
        return Some(match other {
            Some(o) => format!("the controller has `{}`, the agent `{}`", clip(line), clip(o)),
            None => format!("the controller has `{}`, the agent does not", clip(line)),
        });
    }
    theirs
        .iter()
        .find(|l| !ours.contains(l))
        .map(|line| format!("the agent has `{}`, the controller does not", clip(line)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::{BUILTIN, BUILTIN_NAME, parse};

    fn topo() -> Topology {
        parse(BUILTIN, BUILTIN_NAME).unwrap()
    }

    #[test]
    fn every_host_command_round_trips_through_its_message() {
        let t = topo();
        let h = t.host_ix("east-sip1").unwrap();
        let app = t.host(h).apps[0];
        let pair = t.app(app).pair.unwrap();
        for cmd in [
            Command::SetMode {
                host: h,
                app,
                mode: Mode::Primary,
                correlation: None,
            },
            Command::Start {
                host: h,
                app,
                correlation: None,
            },
            Command::Stop {
                host: h,
                app,
                correlation: None,
            },
            Command::Kill {
                host: h,
                app,
                correlation: None,
            },
            Command::Vip {
                host: h,
                pair,
                enable: true,
                reason: VipReason::Placement,
                correlation: None,
            },
            Command::Resync { host: h },
            Command::SiteMode {
                host: h,
                app,
                single_site: true,
            },
        ] {
            let msg = from_command(&t, &cmd).unwrap();
            let text = serde_json::to_string(&msg).unwrap();
            let back: ControllerMsg = serde_json::from_str(&text).unwrap();
            assert_eq!(to_command(&t, h, &back).unwrap(), Some(cmd), "{text}");
        }
    }

    #[test]
    fn an_agent_may_only_speak_about_its_own_host() {
        let t = topo();
        let h1 = t.host_ix("east-sip1").unwrap();
        let other = t.host(t.host_ix("east-sip2").unwrap()).apps[0];
        let msg = AgentMsg::App {
            app: t.app(other).id.clone(),
            report: WireReport::Running,
        };
        assert!(matches!(to_input(&t, h1, &msg), Err(LinkError::NotOnHost { .. })));
        let bad: Result<AgentMsg, _> = serde_json::from_str(r#"{"type":"mode","app":"x","mode":"boss"}"#);
        let e = to_input(&t, h1, &bad.unwrap()).unwrap_err();
        assert!(matches!(e, LinkError::Unknown { kind: "app", .. }), "{e}");
    }

    #[test]
    fn reports_round_trip_and_unknown_fields_are_refused() {
        let t = topo();
        let h = t.host_ix("east-sip1").unwrap();
        let app = t.host(h).apps[0];
        let input = Input::AppState {
            app,
            report: AppReport::ServiceUnavailable {
                detail: "no traffic".into(),
            },
        };
        let msg = from_input(&t, &input).unwrap();
        let text = serde_json::to_string(&msg).unwrap();
        assert_eq!(
            to_input(&t, h, &serde_json::from_str(&text).unwrap()).unwrap(),
            Some(input)
        );
        assert!(serde_json::from_str::<AgentMsg>(r#"{"type":"announced","app":"a","x":1}"#).is_err());
        assert!(serde_json::from_str::<AgentMsg>(r#"{"type":"reboot"}"#).is_err());
    }

    #[test]
    fn a_different_deployment_file_is_named_by_its_first_difference() {
        let t = topo();
        let ours = topology_summary(&t);
        assert_eq!(first_difference(&ours, &ours), None);
        let mut theirs = ours.clone();
        let i = theirs.iter().position(|l| l.starts_with("host east-sip1 ")).unwrap();
        theirs[i] = theirs[i].replace("nics=", "nics=extra,");
        let d = first_difference(&ours, &theirs).unwrap();
        assert!(
            d.starts_with("the controller has `host east-sip1 site=east nics="),
            "{d}"
        );
        assert!(d.contains("the agent `host east-sip1 site=east nics=extra,"), "{d}");
    }
}
