//! The controller API's own answers, typed so the controller writes and its clients read
//! the same structs: the deployment as `GET /v1/topology` shows it ([`TopologyView`]), a
//! page of `GET /v1/events` ([`EventPage`]), a dry run's plan ([`PlanAnswer`]) and a
//! script run as `GET /v1/runs/{id}` shows it ([`RunView`]).

use serde::{Deserialize, Serialize};

use super::{EventRecord, PlanView, Snapshot};
use crate::engine::{AppIx, Topology};

/// The deployment: every site, host, app, pair, group and script, and which site the
/// answering controller runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopologyView {
    /// The site of the controller that answered.
    pub site: String,
    pub sites: Vec<TopoSite>,
    pub hosts: Vec<TopoHost>,
    pub apps: Vec<TopoApp>,
    pub pairs: Vec<TopoPair>,
    pub groups: Vec<TopoGroup>,
    pub scripts: Vec<TopoScript>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopoSite {
    pub id: String,
    pub peer: Option<String>,
    /// The base URL of the site's controller, when the deployment file names it.
    pub controller: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopoHost {
    pub id: String,
    pub site: String,
    pub nics: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopoApp {
    pub id: String,
    pub kind: String,
    pub host: String,
    pub pair: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopoPair {
    pub id: String,
    pub site: String,
    pub apps: Vec<String>,
    pub group: Option<String>,
    pub vip: Option<TopoVip>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopoVip {
    pub address: String,
    pub nic: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopoGroup {
    pub id: String,
    pub leader: String,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopoScript {
    pub id: String,
    pub hosts: Vec<String>,
}

impl TopologyView {
    /// The deployment as the controller of `site` shows it.
    pub fn new(topo: &Topology, site: &str) -> TopologyView {
        TopologyView {
            site: site.to_string(),
            sites: topo
                .sites
                .iter()
                .map(|s| TopoSite {
                    id: s.id.clone(),
                    peer: s.peer.map(|p| topo.site(p).id.clone()),
                    controller: s.controller.clone(),
                })
                .collect(),
            hosts: topo
                .hosts
                .iter()
                .map(|h| TopoHost {
                    id: h.id.clone(),
                    site: topo.site(h.site).id.clone(),
                    nics: h.nics.clone(),
                })
                .collect(),
            apps: topo
                .apps
                .iter()
                .enumerate()
                .map(|(i, a)| TopoApp {
                    id: a.id.clone(),
                    kind: a.kind.clone(),
                    host: topo.host(topo.app_host(AppIx(i as u32))).id.clone(),
                    pair: a.pair.map(|p| topo.pair(p).id.clone()),
                })
                .collect(),
            pairs: topo
                .pairs
                .iter()
                .map(|p| TopoPair {
                    id: p.id.clone(),
                    site: topo.site(p.site).id.clone(),
                    apps: p.apps.iter().map(|a| topo.app(*a).id.clone()).collect(),
                    group: p.group.map(|g| topo.group(g).id.clone()),
                    vip: p.vip.as_ref().map(|v| TopoVip {
                        address: v.address.clone(),
                        nic: v.nic.clone(),
                    }),
                })
                .collect(),
            groups: topo
                .groups
                .iter()
                .map(|g| TopoGroup {
                    id: g.id.clone(),
                    leader: topo.pair(g.leader).id.clone(),
                    members: g.members.iter().map(|m| topo.pair(*m).id.clone()).collect(),
                })
                .collect(),
            scripts: topo
                .scripts
                .iter()
                .map(|s| TopoScript {
                    id: s.id.clone(),
                    hosts: s.hosts.iter().map(|h| topo.host(*h).id.clone()).collect(),
                })
                .collect(),
        }
    }

    /// The site that carries out a switchover or maintenance of `name`: the site of the
    /// pair, or of a group's leader.
    pub fn site_of_pair(&self, name: &str) -> Option<&str> {
        let pair = match self.groups.iter().find(|g| g.id == name) {
            Some(g) => g.leader.as_str(),
            None => name,
        };
        self.pairs.iter().find(|p| p.id == pair).map(|p| p.site.as_str())
    }

    /// The site of a host.
    pub fn site_of_host(&self, host: &str) -> Option<&str> {
        self.hosts.iter().find(|h| h.id == host).map(|h| h.site.as_str())
    }
}

/// A page of `GET /v1/events`: events with `seq` after the cursor asked for, and the
/// cursor to ask for next (the last event's `seq`, or the cursor given on an empty page).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    /// The site whose controller logged them.
    pub site: String,
    pub events: Vec<EventRecord>,
    pub next: u64,
}

/// `GET /v1/whoami`: the caller's token as the answering controller knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whoami {
    /// The token's name: the operator the journal records.
    pub name: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// The answering controller's site.
    pub site: String,
}

/// A dry run's answer: the plan and its pre-flight checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAnswer {
    pub plan: PlanView,
}

/// A script run as far as it has gone: its output lines (bounded) and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub run: u64,
    pub script: String,
    pub host: String,
    pub lines: Vec<String>,
    /// Lines dropped because the run printed more than the bound.
    pub dropped: u64,
    pub done: bool,
    /// The exit code; none while it runs, or when a signal (or the timeout) ended it.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub duration_ms: Option<u64>,
}

impl TopologyView {
    /// `site`'s part of the deployment from the topology alone, with nothing known (what
    /// is shown of a controller never heard from): every state `unknown`, the pairs'
    /// instances in configuration order.
    pub fn skeleton(&self, site: &str) -> Snapshot {
        use super::{AppView, GroupView, HostView, InstanceView, NicView, PairView, SiteView, VipHostView, VipView};
        let host_of = |app: &str| {
            self.apps
                .iter()
                .find(|a| a.id == app)
                .map(|a| a.host.clone())
                .unwrap_or_default()
        };
        let instance = |app: Option<&String>| InstanceView {
            app: app.cloned().unwrap_or_default(),
            host: app.map(|a| host_of(a)).unwrap_or_default(),
            ..InstanceView::default()
        };
        let part = Snapshot {
            t_ms: 0,
            sites: self
                .sites
                .iter()
                .filter(|s| s.id == site)
                .map(|s| SiteView {
                    id: s.id.clone(),
                    peer: s.peer.clone(),
                    ..SiteView::default()
                })
                .collect(),
            hosts: self
                .hosts
                .iter()
                .filter(|h| h.site == site)
                .map(|h| HostView {
                    id: h.id.clone(),
                    site: h.site.clone(),
                    nics: h
                        .nics
                        .iter()
                        .map(|n| NicView {
                            name: n.clone(),
                            ..NicView::default()
                        })
                        .collect(),
                    apps: self
                        .apps
                        .iter()
                        .filter(|a| a.host == h.id)
                        .map(|a| AppView {
                            id: a.id.clone(),
                            kind: a.kind.clone(),
                            host: a.host.clone(),
                            pair: a.pair.clone(),
                            ..AppView::default()
                        })
                        .collect(),
                    ..HostView::default()
                })
                .collect(),
            pairs: self
                .pairs
                .iter()
                .filter(|p| p.site == site)
                .map(|p| PairView {
                    id: p.id.clone(),
                    site: p.site.clone(),
                    group: p.group.clone(),
                    leader: self.groups.iter().any(|g| g.leader == p.id),
                    primary: instance(p.apps.first()),
                    backup: instance(p.apps.get(1)),
                    vip: p.vip.as_ref().map(|v| VipView {
                        address: v.address.clone(),
                        nic: v.nic.clone(),
                        hosts: p
                            .apps
                            .iter()
                            .map(|a| VipHostView {
                                host: host_of(a),
                                state: Default::default(),
                            })
                            .collect(),
                        ..VipView::default()
                    }),
                    ..PairView::default()
                })
                .collect(),
            groups: self
                .groups
                .iter()
                .filter(|g| self.site_of_pair(&g.leader) == Some(site))
                .map(|g| GroupView {
                    id: g.id.clone(),
                    site: site.to_string(),
                    leader: g.leader.clone(),
                    members: g.members.clone(),
                    ..GroupView::default()
                })
                .collect(),
            endpoints: Vec::new(),
        };
        part.unknown()
    }
}
