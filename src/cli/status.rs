//! `hactl status`: every pair, group, host and site of the controllers named, as compact
//! tables (or one JSON object), merged across sites. A controller that cannot be reached
//! is named with why, and its site's pairs are listed from the topology as `UNKNOWN`.
//! Exit 0 when everything is OK, 1 when anything is not (degraded, maintenance, unknown,
//! an agent lost, a peer link down), 2 when a controller could not be reached.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::future::join_all;
use serde::Serialize;

use super::live::{self, exit};
use crate::client::{Client, ClientError, ConnectArgs};
use crate::engine::Redundancy;
use crate::engine::config::escape;
use crate::wire::{AgentState, Part, PeerLinkState, Snapshot, redundancy_label};

#[derive(clap::Args, Debug, Clone)]
pub struct StatusArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Print one JSON object (with --watch, one per line).
    #[arg(long)]
    pub json: bool,
    /// Print again every SECS seconds (default 2; 1 to 3600) until Ctrl-C.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "2",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub watch: Option<u64>,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// Every controller answered and everything is OK.
    pub ok: bool,
    pub controllers: Vec<ControllerStatus>,
    /// The sites' parts merged; an unreachable controller's site with nothing known.
    pub snapshot: Snapshot,
}

#[derive(Debug, Serialize)]
pub struct ControllerStatus {
    pub url: String,
    /// The site it runs (from its answer, or the deployment's controller URLs).
    pub site: Option<String>,
    pub reachable: bool,
    pub error: Option<String>,
}

pub fn run(args: StatusArgs) -> color_eyre::Result<ExitCode> {
    let (_, clients) = live::clients(&args.connect)?;
    let rt = live::runtime()?;
    let Some(every) = args.watch else {
        let (text, code) = rt.block_on(poll(&clients, args.json));
        return super::emit(&text, ExitCode::from(code));
    };
    let tty = std::io::stdout().is_terminal();
    rt.block_on(async {
        let mut sigint = live::interrupts()?;
        loop {
            let (text, code) = poll(&clients, args.json).await;
            let out = if args.json {
                text
            } else if tty {
                format!("\x1b[H\x1b[2Jevery {every}s, Ctrl-C to stop\n\n{text}")
            } else {
                format!("{text}\n")
            };
            super::emit(&out, ExitCode::SUCCESS)?;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(every)) => {}
                _ = sigint.recv() => return Ok(ExitCode::from(code)),
            }
        }
    })
}

/// One round: every controller's snapshot, merged, rendered; and the exit code.
async fn poll(clients: &[Client], json: bool) -> (String, u8) {
    let report = report(clients).await;
    let code = if report.controllers.iter().any(|c| !c.reachable) {
        exit::UNREACHABLE
    } else if report.ok {
        exit::OK
    } else {
        exit::FAILED
    };
    let text = if json {
        super::json_safe(&serde_json::to_string(&report).unwrap_or_default()) + "\n"
    } else {
        render(&report)
    };
    (text, code)
}

pub async fn report(clients: &[Client]) -> StatusReport {
    let answers: Vec<Result<Snapshot, ClientError>> = join_all(clients.iter().map(|c| c.snapshot())).await;
    let topology = if answers.iter().any(Result::is_err) {
        let up = answers.iter().position(Result::is_ok);
        match up {
            Some(i) => clients[i].topology().await.ok(),
            None => None,
        }
    } else {
        None
    };
    let mut parts = Vec::new();
    let mut controllers = Vec::new();
    for (c, answer) in clients.iter().zip(answers) {
        match answer {
            Ok(s) => {
                controllers.push(ControllerStatus {
                    url: c.url().to_string(),
                    site: s.sites.first().map(|s| s.id.clone()),
                    reachable: true,
                    error: None,
                });
                parts.push(Part::Live(s));
            }
            Err(e) => {
                let site = topology.as_ref().and_then(|t| {
                    t.sites
                        .iter()
                        .find(|s| s.controller.as_deref().map(|u| u.trim_end_matches('/')) == Some(c.url()))
                        .map(|s| s.id.clone())
                });
                if let (Some(t), Some(site)) = (&topology, &site) {
                    parts.push(Part::Unreachable(t.skeleton(site)));
                }
                controllers.push(ControllerStatus {
                    url: c.url().to_string(),
                    site,
                    reachable: false,
                    error: Some(e.to_string()),
                });
            }
        }
    }
    let snapshot = Snapshot::merge(parts);
    let ok = controllers.iter().all(|c| c.reachable)
        && snapshot.pairs.iter().all(|p| p.redundancy == Some(Redundancy::Ok))
        && snapshot.groups.iter().all(|g| g.redundancy == Some(Redundancy::Ok))
        && snapshot.hosts.iter().all(|h| h.agent == AgentState::Connected)
        && snapshot
            .sites
            .iter()
            .all(|s| s.controller_up && s.link.as_ref().is_none_or(|l| l.state == PeerLinkState::InService));
    StatusReport {
        ok,
        controllers,
        snapshot,
    }
}

/// `12s ago`, `3m ago`, `2h ago`, `4d ago`.
fn ago(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86_400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// Rows as columns two spaces apart; every cell escaped.
fn table(rows: &[Vec<String>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape(c).into_owned()).collect())
        .collect();
    let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols)
        .map(|i| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in &cells {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}  ", w = width[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn render(r: &StatusReport) -> String {
    let s = &r.snapshot;
    let mut out = String::new();
    let mut rows = vec![cells(&["CONTROLLER", "SITE", "STATE"])];
    for c in &r.controllers {
        let state = match &c.error {
            None => "up".to_string(),
            Some(e) => format!("UNREACHABLE: {}", e.strip_prefix(&format!("{}: ", c.url)).unwrap_or(e)),
        };
        rows.push(vec![c.url.clone(), c.site.clone().unwrap_or_else(|| "?".into()), state]);
    }
    out.push_str(&table(&rows));

    let mut rows = vec![cells(&[
        "PAIR",
        "SITE",
        "REDUNDANCY",
        "PRIMARY",
        "BACKUP",
        "VIP",
        "LAST SWITCHOVER",
    ])];
    for p in &s.pairs {
        let mut red = redundancy_label(p.redundancy).to_string();
        if let Some(step) = p.switchover {
            red.push_str(&format!(" (switchover: {})", step.as_str()));
        }
        if p.maintenance && p.redundancy != Some(Redundancy::Maintenance) {
            red.push_str(", maintenance");
        }
        if p.flapping {
            red.push_str(", flapping");
        }
        let inst = |i: &crate::wire::InstanceView| {
            if i.app.is_empty() {
                "-".to_string()
            } else {
                format!("{}@{} {} {}", i.app, i.host, i.status.as_str(), i.mode.as_str())
            }
        };
        let vip = match &p.vip {
            None => "-".to_string(),
            Some(v) if v.holders.is_empty() => format!("{} on no host", v.address),
            Some(v) => format!(
                "{} on {}{}",
                v.address,
                v.holders.join("+"),
                if v.duplicate { " DUPLICATE" } else { "" }
            ),
        };
        rows.push(vec![
            p.id.clone(),
            p.site.clone(),
            red,
            inst(&p.primary),
            inst(&p.backup),
            vip,
            p.last_switchover_age_ms.map_or("-".into(), ago),
        ]);
    }
    out.push('\n');
    out.push_str(&table(&rows));

    if !s.groups.is_empty() {
        let mut rows = vec![cells(&[
            "GROUP",
            "SITE",
            "REDUNDANCY",
            "LEADER",
            "PRIMARY HOST",
            "MEMBERS",
        ])];
        for g in &s.groups {
            rows.push(vec![
                g.id.clone(),
                g.site.clone(),
                redundancy_label(g.redundancy).to_string(),
                g.leader.clone(),
                if g.primary_host.is_empty() {
                    "-".into()
                } else {
                    g.primary_host.clone()
                },
                g.members.join(","),
            ]);
        }
        out.push('\n');
        out.push_str(&table(&rows));
    }

    let mut rows = vec![cells(&["HOST", "SITE", "AGENT", "NICS", "APPS"])];
    for h in &s.hosts {
        let agent = match (h.agent, h.last_heard_age_ms) {
            (AgentState::Lost, Some(age)) => format!("LOST (heard {})", ago(age)),
            (AgentState::Lost, None) => "LOST".into(),
            (a, _) => a.as_str().to_string(),
        };
        let nics: Vec<String> = h
            .nics
            .iter()
            .map(|n| format!("{}:{}", n.name, n.state.as_str()))
            .collect();
        let apps: Vec<String> = h
            .apps
            .iter()
            .map(|a| format!("{} {} {}", a.id, a.status.as_str(), a.mode.as_str()))
            .collect();
        rows.push(vec![
            h.id.clone(),
            h.site.clone(),
            agent,
            nics.join(" "),
            apps.join(", "),
        ]);
    }
    out.push('\n');
    out.push_str(&table(&rows));

    let mut rows = vec![cells(&["SITE", "CONTROLLER", "MODE", "PEER LINK"])];
    for site in &s.sites {
        let link = match (&site.peer, &site.link) {
            (None, _) => "-".to_string(),
            (Some(peer), None) => format!("{peer}: unknown"),
            (Some(peer), Some(l)) => format!(
                "{peer}: {}{}",
                l.state.label(),
                l.last_answer_age_ms
                    .map(|a| format!(" (answered {})", ago(a)))
                    .unwrap_or_default()
            ),
        };
        rows.push(vec![
            site.id.clone(),
            if site.controller_up { "up" } else { "UNREACHABLE" }.into(),
            site.mode.as_str().into(),
            link,
        ]);
    }
    out.push('\n');
    out.push_str(&table(&rows));

    let ok = s.pairs.iter().filter(|p| p.redundancy == Some(Redundancy::Ok)).count();
    let n = s.pairs.len();
    out.push_str(&format!(
        "\n{n} pair{}: {ok} OK, {} not OK{}\n",
        if n == 1 { "" } else { "s" },
        n - ok,
        if r.ok { "" } else { " (see above)" }
    ));
    out
}
