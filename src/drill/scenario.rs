//! Named scenarios: one per workflow of the specification (same names), plus `random`.
//! A scenario is a topology, a schedule of faults, heals and operator commands, a duration,
//! and its own checks: chains of events that must appear in order (with their sources and
//! subjects), and the final state.

use crate::engine::config;
use crate::engine::{EventId, Span, Time, Topology};
use crate::wire::{Command, Request, SiteMode};

use super::Action;
use super::fault::Fault;

/// One expected event: its id, and optionally its source and subject labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    pub id: EventId,
    pub source: Option<String>,
    pub subject: Option<String>,
}

impl Expect {
    pub fn describe(&self) -> String {
        let mut s = self.id.code().to_string();
        if let Some(src) = &self.source {
            s.push_str(&format!(" from {src}"));
        }
        if let Some(sub) = &self.subject {
            s.push_str(&format!(" about {sub}"));
        }
        s
    }
}

fn ev(id: EventId) -> Expect {
    Expect {
        id,
        source: None,
        subject: None,
    }
}

trait ExpectExt {
    fn from(self, s: &str) -> Expect;
    fn about(self, s: &str) -> Expect;
}

impl ExpectExt for Expect {
    fn from(mut self, s: &str) -> Expect {
        self.source = Some(s.to_string());
        self
    }
    fn about(mut self, s: &str) -> Expect {
        self.subject = Some(s.to_string());
        self
    }
}

/// Events that must appear in this order (others may come between), from `after` on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub events: Vec<Expect>,
    /// Every event of the chain carries the same correlation id.
    pub same_correlation: bool,
}

/// A condition on the state at the end of the scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Final {
    /// `pair`'s primary is `app` (running, primary mode).
    Primary { pair: String, app: String },
    /// The VIP of `pair` is bound on `host` and nowhere else.
    VipOn { pair: String, host: String },
    /// Exactly `count` switchovers were requested for these pairs (empty: every pair) in
    /// the time window.
    Switchovers {
        pairs: Vec<String>,
        from: Time,
        to: Time,
        count: usize,
    },
    /// No event with this id was logged after the first action.
    NoEvent(EventId),
    /// At least `percent`% of a population is registered to `server` at the end.
    EndpointsOn {
        population: String,
        server: String,
        percent: u32,
    },
    /// The site runs in this mode (`peered` or `single-site`) at the end.
    SiteMode { site: String, mode: SiteMode },
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub workflow: &'static str,
    pub description: String,
    pub topology: Topology,
    pub schedule: Vec<(Time, Action)>,
    pub duration: Span,
    pub chains: Vec<Chain>,
    pub finals: Vec<Final>,
    pub loss: f64,
    pub script_failure: f64,
}

/// Every scenario name, in the order `--list` shows them, with its workflow.
pub const NAMES: &[(&str, &str, &str)] = &[
    (
        "manual-switchover",
        "W1",
        "an operator switches the east SIP server pair over",
    ),
    (
        "primary-failure",
        "W2",
        "the east SIP primary crashes; its agent restarts it later",
    ),
    (
        "primary-disconnected",
        "W3",
        "the east SIP primary's host is cut off from the controller for a minute",
    ),
    (
        "nic-lost",
        "W4",
        "the SIP NIC of the east SIP primary's host goes down for a minute",
    ),
    (
        "group-member-failure",
        "W5",
        "the voicemail server of the east voicemail group crashes",
    ),
    (
        "group-leader-failure",
        "W5",
        "the SIP server leading the east voicemail group crashes",
    ),
    (
        "group-host-failure",
        "W5",
        "the primary host of the east voicemail group loses power",
    ),
    (
        "group-backup-host-failure",
        "W5",
        "a component on the group's backup host crashes: no switchover",
    ),
    (
        "group-manual-switchover",
        "W5",
        "an operator switches one member of the voicemail group: the group follows",
    ),
    (
        "backup-not-ready",
        "W6",
        "the east SIP backup fails its start-up checks, then the primary fails",
    ),
    (
        "site-failure",
        "W7",
        "the east site fails for 19 minutes; endpoints move to west and back",
    ),
    (
        "inter-site-partition",
        "W8",
        "the network between the sites fails for two minutes",
    ),
    (
        "endpoint-failover",
        "W9",
        "both east SIP servers stop; endpoints fail over to west and fail back",
    ),
    (
        "random",
        "all",
        "a seeded random schedule of faults and heals (--pairs, --duration scale it)",
    ),
];

fn secs(s: u64) -> Time {
    Time(s * 1000)
}

fn fault(topo: &Topology, text: &str) -> Fault {
    Fault::parse(topo, text).unwrap_or_else(|e| panic!("built-in scenario names a bad fault: {e}"))
}

fn chain(name: &str, same_correlation: bool, events: Vec<Expect>) -> Chain {
    Chain {
        name: name.to_string(),
        events,
        same_correlation,
    }
}

fn switchover(pair: &str, force: bool) -> Action {
    Action::Operator(Request::new(Command::Switchover {
        pair: pair.into(),
        to: None,
        force,
        dry_run: false,
    }))
}

const A: &str = "app:east-sip-a@east-sip1";
const B: &str = "app:east-sip-b@east-sip2";
const SIP: &str = "pair:east-sip";
const H1: &str = "host:east-sip1";
const H2: &str = "host:east-sip2";

fn group_app(m: &str, side: &str) -> String {
    let host = if side == "a" { "east-vm1" } else { "east-vm2" };
    format!("app:east-{m}-{side}@{host}")
}

fn followers(prefix: &str) -> Vec<Chain> {
    ["vms", "rm", "mcp"]
        .iter()
        .map(|m| {
            chain(
                &format!("{prefix}: east-{m} follows the leader"),
                true,
                vec![
                    ev(EventId::AnnouncedPrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::SwitchoverRequested).about(&format!("pair:east-{m}")),
                    ev(EventId::ModePrimary).from(&group_app(m, "b")),
                ],
            )
        })
        .collect()
}

fn group_finals() -> Vec<Final> {
    let mut f: Vec<Final> = ["vmsip", "vms", "rm", "mcp"]
        .iter()
        .map(|m| Final::Primary {
            pair: format!("east-{m}"),
            app: format!("east-{m}-b"),
        })
        .collect();
    f.push(Final::VipOn {
        pair: "east-vmsip".into(),
        host: "east-vm2".into(),
    });
    f
}

fn group_vip_chain() -> Chain {
    chain(
        "the leader's announcement moves the VIP once",
        true,
        vec![
            ev(EventId::AnnouncedPrimary).from(&group_app("vmsip", "b")),
            ev(EventId::VipDisabled).from("host:east-vm1"),
            ev(EventId::VipEnabled).from("host:east-vm2"),
        ],
    )
}

/// Builds a named scenario on the built-in topology (or a generated one for `random`).
pub fn build(name: &str, seed: u64, random: &super::random::RandomOptions) -> Result<Scenario, String> {
    if name == "random" {
        return super::random::scenario(seed, random);
    }
    let topo = config::builtin();
    let (_, workflow, description) = NAMES.iter().find(|n| n.0 == name).copied().ok_or_else(|| {
        let names: Vec<&str> = NAMES.iter().map(|n| n.0).collect();
        format!("unknown scenario `{name}` (known: {})", names.join(", "))
    })?;
    let mut s = Scenario {
        name: name.to_string(),
        workflow,
        description: description.to_string(),
        schedule: Vec::new(),
        duration: Span::secs(180),
        chains: Vec::new(),
        finals: Vec::new(),
        loss: 0.0,
        script_failure: 0.0,
        topology: topo.clone(),
    };
    let t0 = secs(60);
    match name {
        "manual-switchover" => {
            s.schedule.push((t0, switchover("east-sip", false)));
            s.chains.push(chain(
                "W1: demote A, promote B, move the VIP",
                true,
                vec![
                    ev(EventId::OperatorCommand).about(SIP),
                    ev(EventId::SwitchoverRequested).about(SIP),
                    ev(EventId::SwitchoverPlanned).about(SIP),
                    ev(EventId::ModeBackup).from(A),
                    ev(EventId::ModePrimary).from(B),
                    ev(EventId::AnnouncedPrimary).from(B),
                    ev(EventId::VipDisabled).from(H1),
                    ev(EventId::VipEnabled).from(H2),
                    ev(EventId::SwitchoverCompleted).about(SIP),
                ],
            ));
            s.chains.push(chain(
                "W1: the alarm condition on 00-5150 runs its script",
                true,
                vec![
                    ev(EventId::ModePrimary).from(B),
                    ev(EventId::AlarmActivated).from(B),
                    ev(EventId::ScriptStarted).from(H2),
                    ev(EventId::ScriptSucceeded).from(H2),
                ],
            ));
            s.finals.push(Final::Primary {
                pair: "east-sip".into(),
                app: "east-sip-b".into(),
            });
            s.finals.push(Final::VipOn {
                pair: "east-sip".into(),
                host: "east-sip2".into(),
            });
            s.finals.push(Final::Switchovers {
                pairs: vec![],
                from: t0,
                to: Time(u64::MAX),
                count: 1,
            });
        }
        "primary-failure" => {
            s.schedule.push((t0, Action::Inject(fault(&topo, "kill:east-sip-a"))));
            s.chains.push(chain(
                "W2: detect, promote B, move the VIP, restore A as backup",
                true,
                vec![
                    ev(EventId::AppUnavailable).from(A),
                    ev(EventId::AppTerminated).from(A),
                    ev(EventId::SwitchoverRequested).about(SIP),
                    ev(EventId::ModePrimary).from(B),
                    ev(EventId::RedundancyLost).about(SIP),
                    ev(EventId::AnnouncedPrimary).from(B),
                    ev(EventId::VipDisabled).from(H1),
                    ev(EventId::VipEnabled).from(H2),
                    ev(EventId::SwitchoverCompleted).about(SIP),
                    ev(EventId::AppStarted).from(A),
                    ev(EventId::ModeBackup).from(A),
                    ev(EventId::RedundancyRestored).about(SIP),
                ],
            ));
            s.finals.push(Final::Primary {
                pair: "east-sip".into(),
                app: "east-sip-b".into(),
            });
            s.finals.push(Final::VipOn {
                pair: "east-sip".into(),
                host: "east-sip2".into(),
            });
        }
        "primary-disconnected" => {
            let f = fault(&topo, "disconnect:east-sip1");
            s.schedule.push((t0, Action::Inject(f.clone())));
            s.schedule.push((secs(120), Action::Heal(f)));
            s.duration = Span::secs(240);
            s.chains.push(chain(
                "W3: host lost, B promoted, VIP state unknown on host 1",
                true,
                vec![
                    ev(EventId::AgentLost).from(H1),
                    ev(EventId::AppUnavailable).from(A),
                    ev(EventId::SwitchoverRequested).about(SIP),
                    ev(EventId::ModePrimary).from(B),
                    ev(EventId::VipStateUnknown).from(H1),
                    ev(EventId::VipEnabled).from(H2),
                    ev(EventId::SwitchoverCompleted).about(SIP),
                ],
            ));
            s.chains.push(chain(
                "W3: host back, split brain resolved by demoting A",
                false,
                vec![
                    ev(EventId::AgentRestored).from(H1),
                    ev(EventId::SplitBrain).about(SIP),
                    ev(EventId::ModeBackup).from(A),
                    ev(EventId::PairNormal).about(SIP),
                ],
            ));
            s.chains.push(chain(
                "W3: the stale VIP on host 1 is removed",
                false,
                vec![ev(EventId::AgentRestored).from(H1), ev(EventId::VipDisabled).from(H1)],
            ));
            s.finals.push(Final::Primary {
                pair: "east-sip".into(),
                app: "east-sip-b".into(),
            });
            s.finals.push(Final::VipOn {
                pair: "east-sip".into(),
                host: "east-sip2".into(),
            });
        }
        "nic-lost" => {
            let f = fault(&topo, "nic-down:east-sip1/sip");
            s.schedule.push((t0, Action::Inject(f.clone())));
            s.schedule.push((secs(120), Action::Heal(f)));
            s.duration = Span::secs(240);
            s.chains.push(chain(
                "W4: no traffic, SERVICE_UNAVAILABLE, switchover, disable has no effect",
                true,
                vec![
                    ev(EventId::AppUnavailable).from(A),
                    ev(EventId::SwitchoverRequested).about(SIP),
                    ev(EventId::ModeBackup).from(A),
                    ev(EventId::ModePrimary).from(B),
                    ev(EventId::VipControlFailed).from(H1),
                    ev(EventId::VipEnabled).from(H2),
                    ev(EventId::VipDuplicate).about(SIP),
                    ev(EventId::SwitchoverCompleted).about(SIP),
                ],
            ));
            s.chains.push(chain(
                "W4: NIC back: stale VIP removed at once, address re-announced from B's host",
                true,
                vec![
                    ev(EventId::VipDuplicate).about(SIP),
                    ev(EventId::VipDisabled).from(H1),
                    ev(EventId::VipDuplicateResolved).about(SIP),
                    ev(EventId::VipEnabled).from(H2),
                ],
            ));
            s.finals.push(Final::Switchovers {
                pairs: vec!["east-sip".into()],
                from: t0,
                to: Time(u64::MAX),
                count: 1,
            });
            s.finals.push(Final::Primary {
                pair: "east-sip".into(),
                app: "east-sip-b".into(),
            });
            s.finals.push(Final::VipOn {
                pair: "east-sip".into(),
                host: "east-sip2".into(),
            });
        }
        "group-member-failure" => {
            s.schedule.push((t0, Action::Inject(fault(&topo, "kill:east-vms-a"))));
            s.chains.push(chain(
                "W5: a member fails, the leader switches first",
                true,
                vec![
                    ev(EventId::AppUnavailable).from(&group_app("vms", "a")),
                    ev(EventId::AppTerminated).from(&group_app("vms", "a")),
                    ev(EventId::SwitchoverRequested).about("pair:east-vmsip"),
                    ev(EventId::ModeBackup).from(&group_app("vmsip", "a")),
                    ev(EventId::ModePrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::AnnouncedPrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::SwitchoverCompleted).about("pair:east-vmsip"),
                ],
            ));
            s.chains.push(group_vip_chain());
            s.chains.extend(followers("W5"));
            s.finals.extend(group_finals());
        }
        "group-leader-failure" => {
            s.schedule.push((t0, Action::Inject(fault(&topo, "kill:east-vmsip-a"))));
            s.chains.push(chain(
                "W5: the leader fails, its peer announces itself",
                true,
                vec![
                    ev(EventId::AppTerminated).from(&group_app("vmsip", "a")),
                    ev(EventId::SwitchoverRequested).about("pair:east-vmsip"),
                    ev(EventId::ModePrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::AnnouncedPrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::SwitchoverCompleted).about("pair:east-vmsip"),
                ],
            ));
            s.chains.push(group_vip_chain());
            s.chains.extend(followers("W5"));
            s.finals.extend(group_finals());
        }
        "group-host-failure" => {
            let f = fault(&topo, "host-down:east-vm1");
            s.schedule.push((t0, Action::Inject(f.clone())));
            s.schedule.push((secs(150), Action::Heal(f)));
            s.duration = Span::secs(300);
            s.chains.push(chain(
                "W5: the primary host fails, every member switches, VIP flagged on the lost host",
                true,
                vec![
                    ev(EventId::AgentLost).from("host:east-vm1"),
                    ev(EventId::SwitchoverRequested).about("pair:east-vmsip"),
                    ev(EventId::ModePrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::AnnouncedPrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::VipStateUnknown).from("host:east-vm1"),
                    ev(EventId::VipEnabled).from("host:east-vm2"),
                    ev(EventId::SwitchoverCompleted).about("pair:east-vmsip"),
                ],
            ));
            s.chains.extend(followers("W5"));
            s.finals.extend(group_finals());
        }
        "group-backup-host-failure" => {
            s.schedule.push((t0, Action::Inject(fault(&topo, "kill:east-rm-b"))));
            s.chains.push(chain(
                "W5: a backup-host component fails: redundancy lost, then restored, no switchover",
                true,
                vec![
                    ev(EventId::AppTerminated).from(&group_app("rm", "b")),
                    ev(EventId::RedundancyLost).about("pair:east-rm"),
                    ev(EventId::RedundancyLost).about("group:east-voicemail"),
                    ev(EventId::AppStarted).from(&group_app("rm", "b")),
                    ev(EventId::ModeBackup).from(&group_app("rm", "b")),
                    ev(EventId::RedundancyRestored).about("pair:east-rm"),
                ],
            ));
            s.finals.push(Final::Switchovers {
                pairs: vec![],
                from: t0,
                to: Time(u64::MAX),
                count: 0,
            });
            for m in ["vmsip", "vms", "rm", "mcp"] {
                s.finals.push(Final::Primary {
                    pair: format!("east-{m}"),
                    app: format!("east-{m}-a"),
                });
            }
        }
        "group-manual-switchover" => {
            s.schedule.push((t0, switchover("east-vms", false)));
            s.chains.push(chain(
                "W5: a manual switchover of a member switches the leader first",
                true,
                vec![
                    ev(EventId::OperatorCommand).about("pair:east-vms"),
                    ev(EventId::SwitchoverRequested).about("pair:east-vmsip"),
                    ev(EventId::ModeBackup).from(&group_app("vmsip", "a")),
                    ev(EventId::ModePrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::AnnouncedPrimary).from(&group_app("vmsip", "b")),
                    ev(EventId::SwitchoverRequested).about("pair:east-vms"),
                    ev(EventId::ModeBackup).from(&group_app("vms", "a")),
                    ev(EventId::ModePrimary).from(&group_app("vms", "b")),
                ],
            ));
            s.chains.push(group_vip_chain());
            s.chains.extend(followers("W5"));
            s.finals.extend(group_finals());
        }
        "backup-not-ready" => {
            let nr = fault(&topo, "not-ready:east-sip-b");
            let stop = fault(&topo, "stop:east-sip-a");
            s.schedule.push((t0, Action::Inject(nr.clone())));
            s.schedule.push((secs(150), Action::Inject(stop.clone())));
            s.schedule.push((secs(170), switchover("east-sip", false)));
            s.schedule.push((secs(190), switchover("east-sip", true)));
            s.schedule.push((secs(240), Action::Heal(nr)));
            s.schedule.push((secs(250), Action::Heal(stop)));
            s.duration = Span::secs(400);
            s.chains.push(chain(
                "W6: backup not ready: no automatic failover, manual refused unless forced",
                false,
                vec![
                    ev(EventId::BackupNotReady).about(SIP),
                    ev(EventId::AppTerminated).from(A),
                    ev(EventId::SwitchoverRefused).about(SIP),
                    ev(EventId::NoBrain).about(SIP),
                    ev(EventId::OperatorCommand).about(SIP),
                    ev(EventId::SwitchoverRefused).about(SIP),
                    ev(EventId::OperatorCommand).about(SIP),
                    ev(EventId::SwitchoverRequested).about(SIP),
                    ev(EventId::ModePrimary).from(B),
                ],
            ));
            s.finals.push(Final::Switchovers {
                pairs: vec!["east-sip".into()],
                from: secs(150),
                to: secs(190),
                count: 0,
            });
            s.finals.push(Final::Primary {
                pair: "east-sip".into(),
                app: "east-sip-b".into(),
            });
        }
        "site-failure" => {
            let f = fault(&topo, "site-down:east");
            s.schedule.push((t0, Action::Inject(f.clone())));
            s.schedule.push((secs(20 * 60), Action::Heal(f)));
            s.duration = Span::secs(60 * 60);
            s.chains.push(chain(
                "W7: west sees its peer out of service and runs alone; endpoints move to west",
                true,
                vec![
                    ev(EventId::PeerUnreachable).from("site:west"),
                    ev(EventId::PeerLinkOutOfService).from("site:west"),
                    ev(EventId::SingleSiteEntered).from("site:west"),
                    ev(EventId::PeerReachable).from("site:west"),
                    ev(EventId::PeerLinkInService).from("site:west"),
                    ev(EventId::SingleSiteLeft).from("site:west"),
                ],
            ));
            s.chains.push(chain(
                "W7: east endpoints re-register to west, then fail back",
                false,
                vec![
                    ev(EventId::PeerLinkOutOfService).from("site:west"),
                    ev(EventId::EndpointsMoved).about("pair:west-sip"),
                    ev(EventId::SingleSiteLeft).from("site:west"),
                    ev(EventId::EndpointsMoved).about("pair:east-sip"),
                ],
            ));
            s.finals.push(Final::EndpointsOn {
                population: "east-phones".into(),
                server: "east-sip".into(),
                percent: 90,
            });
            s.finals.push(Final::SiteMode {
                site: "west".into(),
                mode: SiteMode::Peered,
            });
        }
        "inter-site-partition" => {
            let f = fault(&topo, "partition");
            s.schedule.push((t0, Action::Inject(f.clone())));
            s.schedule.push((secs(180), Action::Heal(f)));
            s.duration = Span::secs(300);
            for site in ["east", "west"] {
                let me = format!("site:{site}");
                s.chains.push(chain(
                    &format!("W8: {site} falls back to single-site mode and back"),
                    true,
                    vec![
                        ev(EventId::PeerUnreachable).from(&me),
                        ev(EventId::PeerLinkOutOfService).from(&me),
                        ev(EventId::SingleSiteEntered).from(&me),
                        ev(EventId::PeerLinkInService).from(&me),
                        ev(EventId::SingleSiteLeft).from(&me),
                    ],
                ));
                s.finals.push(Final::SiteMode {
                    site: site.into(),
                    mode: SiteMode::Peered,
                });
            }
            s.finals.push(Final::Switchovers {
                pairs: vec![],
                from: t0,
                to: Time(u64::MAX),
                count: 0,
            });
            s.finals.push(Final::NoEvent(EventId::SplitBrain));
        }
        "endpoint-failover" => {
            let fa = fault(&topo, "stop:east-sip-a");
            let fb = fault(&topo, "stop:east-sip-b");
            s.schedule.push((t0, Action::Inject(fa.clone())));
            s.schedule.push((t0, Action::Inject(fb.clone())));
            s.schedule.push((secs(15 * 60), Action::Heal(fa)));
            s.schedule.push((secs(15 * 60), Action::Heal(fb)));
            s.duration = Span::secs(60 * 60);
            s.chains.push(chain(
                "W9: endpoints fail over to the backup server and fail back",
                false,
                vec![
                    ev(EventId::AppTerminated).from(A),
                    ev(EventId::EndpointsMoved).about("pair:west-sip"),
                    ev(EventId::ModePrimary).about(SIP),
                    ev(EventId::EndpointsMoved).about("pair:east-sip"),
                ],
            ));
            s.finals.push(Final::EndpointsOn {
                population: "east-phones".into(),
                server: "east-sip".into(),
                percent: 90,
            });
        }
        other => return Err(format!("scenario `{other}` has no definition")),
    }
    s.schedule.sort_by_key(|(t, _)| *t);
    Ok(s)
}
