//! Serde types shared by the JSON outputs (`--json`), the console and the HTTP API. Names
//! are resolved to ids here, so these types travel without the topology. Built from engine
//! state by [`snapshot`] and [`event_record`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::{self, AppStatus, Engine, Event, Mode, Topology, VipObs};

/// One logged event, as operators and scripts see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Position in the log (stable, increasing; the cursor of `events since`).
    pub seq: u64,
    pub t_ms: u64,
    pub id: String,
    pub severity: String,
    pub source: String,
    pub subject: String,
    pub correlation: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// Renders an engine event for the log.
pub fn event_record(topo: &Topology, seq: u64, e: &Event) -> EventRecord {
    EventRecord {
        seq,
        t_ms: e.t.ms(),
        id: e.id.code().to_string(),
        severity: e.severity().as_str().to_string(),
        source: topo.entity_label(&e.source),
        subject: topo.entity_label(&e.subject),
        correlation: e.correlation.map(|c| topo.correlation_label(c)),
        message: e.message.clone(),
        attrs: e.attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    }
}

/// The whole deployment as its controllers see it at one instant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub t_ms: u64,
    pub sites: Vec<SiteView>,
    pub hosts: Vec<HostView>,
    pub pairs: Vec<PairView>,
    pub groups: Vec<GroupView>,
    pub endpoints: Vec<EndpointView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteView {
    pub id: String,
    pub peer: Option<String>,
    /// Whether this site's controller runs (in drill: the site is not failed).
    pub controller_up: bool,
    pub link: Option<PeerLinkView>,
    /// `peered` or `single-site`.
    pub mode: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerLinkView {
    /// `in-service`, `unreachable` (a probe went unanswered) or `out-of-service`.
    pub state: String,
    /// Time since the last probe answer, if any answer ever came.
    pub last_answer_age_ms: Option<u64>,
    pub oos_check_ms: u64,
    pub oos_force_ms: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostView {
    pub id: String,
    pub site: String,
    /// `connected` or `lost`.
    pub agent: String,
    pub last_heard_age_ms: Option<u64>,
    pub nics: Vec<NicView>,
    pub apps: Vec<AppView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicView {
    pub name: String,
    /// `up`, `down` or `unknown`.
    pub state: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    pub id: String,
    pub kind: String,
    pub host: String,
    pub pair: Option<String>,
    /// `up`, `unavailable`, `down` or `unknown`.
    pub status: String,
    /// `primary`, `backup` or `none`.
    pub mode: String,
    pub detail: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceView {
    pub app: String,
    pub host: String,
    pub status: String,
    pub mode: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VipView {
    pub address: String,
    pub nic: String,
    /// The host that should hold it (the primary's), when there is a primary.
    pub desired: Option<String>,
    /// Per host of the pair: `bound`, `unbound`, or `unknown`.
    pub hosts: Vec<(String, String)>,
    /// Hosts that report it bound.
    pub holders: Vec<String>,
    pub duplicate: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairView {
    pub id: String,
    pub site: String,
    pub group: Option<String>,
    pub leader: bool,
    /// The instance the controller wants primary, and the other.
    pub primary: InstanceView,
    pub backup: InstanceView,
    pub vip: Option<VipView>,
    /// OK, DEGRADED, NO BACKUP, NO PRIMARY, SPLIT BRAIN, BACKUP NOT READY, MAINTENANCE.
    pub redundancy: String,
    pub maintenance: bool,
    pub flapping: bool,
    /// `demoting`, `promoting` or `announcing` while a switchover runs.
    pub switchover: Option<String>,
    pub last_switchover_age_ms: Option<u64>,
    pub incident: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: String,
    pub site: String,
    pub leader: String,
    pub members: Vec<String>,
    /// The host the group runs primary on.
    pub primary_host: String,
    pub redundancy: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub population: String,
    pub site: String,
    pub total: u32,
    /// Registered endpoints per server (pair id), in priority order.
    pub registered: Vec<(String, u32)>,
    pub unregistered: u32,
}

/// A switchover plan, for the confirmation dialog, `--dry-run` and the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub pair: String,
    pub requested: String,
    pub group: Option<String>,
    pub from: String,
    pub to: String,
    pub steps: Vec<String>,
    pub vip: Option<String>,
    pub reactions: Vec<String>,
    pub members: Vec<String>,
    pub checks: Vec<CheckView>,
    /// Runs without force.
    pub allowed: bool,
    /// Runs only with force (typing the pair's name in the console).
    pub needs_force: bool,
    /// Cannot run even forced.
    pub blocked: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    pub name: String,
    /// `pass`, `warn` or `fail`.
    pub status: String,
    pub detail: String,
    pub forcible: bool,
}

pub fn plan_view(topo: &Topology, p: &engine::Plan) -> PlanView {
    PlanView {
        pair: topo.pair(p.pair).id.clone(),
        requested: topo.pair(p.requested).id.clone(),
        group: p.group.map(|g| topo.group(g).id.clone()),
        from: topo.app_label(p.from),
        to: topo.app_label(p.to),
        steps: p.steps.clone(),
        vip: p
            .vip
            .as_ref()
            .map(|(a, f, t)| format!("{a}: {} -> {}", topo.host(*f).id, topo.host(*t).id)),
        reactions: p.reactions.clone(),
        members: p
            .members
            .iter()
            .map(|(m, f, t)| format!("{}: {} -> {}", topo.pair(*m).id, topo.app_label(*f), topo.app_label(*t)))
            .collect(),
        checks: p
            .checks
            .iter()
            .map(|c| CheckView {
                name: c.name.to_string(),
                status: c.status.as_str().to_string(),
                detail: c.detail.clone(),
                forcible: c.forcible,
            })
            .collect(),
        allowed: p.allowed(false),
        needs_force: p.needs_force() && !p.blocked(),
        blocked: p.blocked(),
    }
}

fn instance(topo: &Topology, e: &Engine, app: engine::AppIx) -> InstanceView {
    let a = e.app(app);
    InstanceView {
        app: topo.app(app).id.clone(),
        host: topo.host(topo.app_host(app)).id.clone(),
        status: a.status.as_str().to_string(),
        mode: a.mode.as_str().to_string(),
    }
}

/// Builds the snapshot from the engines of every running controller. `engines[i]` is the
/// controller of site `i`, or `None` when that site's controller is down (its pairs then
/// show their last known state as unknown).
pub fn snapshot(topo: &Topology, engines: &[Option<&Engine>], now: engine::Time) -> Snapshot {
    let engine_of = |site: engine::SiteIx| engines.get(site.ix()).copied().flatten();
    let mut snap = Snapshot {
        t_ms: now.ms(),
        ..Snapshot::default()
    };
    for s in topo.site_ixs() {
        let site = topo.site(s);
        let e = engine_of(s);
        let link = match (site.peer, e.and_then(|e| e.peer())) {
            (Some(_), Some(pr)) => Some(PeerLinkView {
                state: if pr.out_of_service {
                    "out-of-service"
                } else if pr.unreachable {
                    "unreachable"
                } else {
                    "in-service"
                }
                .to_string(),
                last_answer_age_ms: pr.last_answer.map(|t| now.since(t).as_ms()),
                oos_check_ms: site.oos_check.as_ms(),
                oos_force_ms: site.oos_force.as_ms(),
            }),
            _ => None,
        };
        let single = e.and_then(|e| e.peer()).is_some_and(|p| p.single_site());
        snap.sites.push(SiteView {
            id: site.id.clone(),
            peer: site.peer.map(|p| topo.site(p).id.clone()),
            controller_up: e.is_some(),
            link,
            mode: if site.peer.is_none() || single {
                "single-site"
            } else {
                "peered"
            }
            .to_string(),
        });
    }
    for h in topo.host_ixs() {
        let host = topo.host(h);
        let e = engine_of(host.site);
        let connected = e.is_some_and(|e| e.host_connected(h));
        snap.hosts.push(HostView {
            id: host.id.clone(),
            site: topo.site(host.site).id.clone(),
            agent: if connected { "connected" } else { "lost" }.to_string(),
            last_heard_age_ms: e.and_then(|e| e.host_last_heard(h)).map(|t| now.since(t).as_ms()),
            nics: host
                .nics
                .iter()
                .enumerate()
                .map(|(i, n)| NicView {
                    name: n.clone(),
                    state: match e.and_then(|e| e.host_nic(h, i)) {
                        Some(true) => "up",
                        Some(false) => "down",
                        None => "unknown",
                    }
                    .to_string(),
                })
                .collect(),
            apps: host
                .apps
                .iter()
                .map(|a| {
                    let (status, mode, detail) = match e {
                        Some(e) if connected => {
                            let rt = e.app(*a);
                            (rt.status, rt.mode, rt.detail.clone())
                        }
                        Some(e) => (
                            AppStatus::Unknown,
                            e.app(*a).mode,
                            "agent unreachable; mode is the last known".into(),
                        ),
                        None => (AppStatus::Unknown, Mode::None, "controller down".into()),
                    };
                    AppView {
                        id: topo.app(*a).id.clone(),
                        kind: topo.app(*a).kind.clone(),
                        host: host.id.clone(),
                        pair: topo.app(*a).pair.map(|p| topo.pair(p).id.clone()),
                        status: status.as_str().to_string(),
                        mode: mode.as_str().to_string(),
                        detail,
                    }
                })
                .collect(),
        });
    }
    for p in topo.pair_ixs() {
        let pair = topo.pair(p);
        let e = engine_of(pair.site);
        let group = pair.group.map(|g| topo.group(g));
        let mut view = PairView {
            id: pair.id.clone(),
            site: topo.site(pair.site).id.clone(),
            group: group.map(|g| g.id.clone()),
            leader: group.is_some_and(|g| g.leader == p),
            ..PairView::default()
        };
        match e {
            Some(e) => {
                let pr = e.pair(p);
                view.primary = instance(topo, e, pair.apps[pr.active]);
                view.backup = instance(topo, e, pair.apps[1 - pr.active]);
                for (v, app) in [
                    (&mut view.primary, pair.apps[pr.active]),
                    (&mut view.backup, pair.apps[1 - pr.active]),
                ] {
                    if !e.host_connected(topo.app_host(app)) {
                        v.status = "unknown".into();
                    }
                }
                view.redundancy = pr.redundancy.label().to_string();
                view.maintenance = pr.maintenance;
                view.flapping = pr.flapping;
                view.switchover = pr.switchover.as_ref().map(|s| s.step.as_str().to_string());
                view.last_switchover_age_ms = pr.last_switchover.map(|t| now.since(t).as_ms());
                view.incident = pr.incident.map(|c| topo.correlation_label(c));
                view.vip = pair.vip.as_ref().map(|v| {
                    let hosts: Vec<(String, String)> = (0..2)
                        .map(|side| {
                            let h = topo.app_host(pair.apps[side]);
                            let obs = if e.host_connected(h) {
                                pr.vip.obs[side]
                            } else {
                                VipObs::Unknown
                            };
                            (topo.host(h).id.clone(), obs.as_str().to_string())
                        })
                        .collect();
                    let primary_ok = e.app(pair.apps[pr.active]).is_known_primary();
                    VipView {
                        address: v.address.clone(),
                        nic: v.nic.clone(),
                        desired: primary_ok.then(|| topo.host(topo.app_host(pair.apps[pr.active])).id.clone()),
                        holders: hosts
                            .iter()
                            .filter(|(_, s)| s == "bound")
                            .map(|(h, _)| h.clone())
                            .collect(),
                        hosts,
                        duplicate: pr.vip.duplicate,
                    }
                });
            }
            None => {
                for (v, app) in [(&mut view.primary, pair.apps[0]), (&mut view.backup, pair.apps[1])] {
                    *v = InstanceView {
                        app: topo.app(app).id.clone(),
                        host: topo.host(topo.app_host(app)).id.clone(),
                        status: "unknown".into(),
                        mode: "none".into(),
                    };
                }
                view.redundancy = "UNKNOWN".into();
                view.vip = pair.vip.as_ref().map(|v| VipView {
                    address: v.address.clone(),
                    nic: v.nic.clone(),
                    ..VipView::default()
                });
            }
        }
        snap.pairs.push(view);
    }
    for (gi, g) in topo.groups.iter().enumerate() {
        let gix = engine::GroupIx(gi as u32);
        let site = topo.pair(g.leader).site;
        let e = engine_of(site);
        let side = e.map_or(0, |e| e.group_side(gix));
        snap.groups.push(GroupView {
            id: g.id.clone(),
            site: topo.site(site).id.clone(),
            leader: topo.pair(g.leader).id.clone(),
            members: g.members.iter().map(|m| topo.pair(*m).id.clone()).collect(),
            primary_host: topo.host(topo.app_host(topo.pair(g.leader).apps[side])).id.clone(),
            redundancy: e.map_or("UNKNOWN".to_string(), |e| e.group_redundancy(gix).label().to_string()),
        });
    }
    snap
}
