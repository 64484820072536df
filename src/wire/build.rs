//! Snapshots built from engine state: [`site_snapshot`] is what one site's controller
//! reports (its site, hosts, pairs and groups), [`skeleton`] the same part from the
//! topology alone, for a controller never heard from. Endpoint counts are not the
//! controller's to know: whoever observes the endpoints fills them in.

use super::snapshot::{
    GroupView, HostView, InstanceView, NicView, PairView, PeerLinkView, SiteView, Snapshot, VipHostView, VipView,
};
use super::state::{AgentState, NicState, PeerLinkState, SiteMode};
use crate::engine::{self, AppStatus, Engine, GroupIx, Mode, SiteIx, Time, Topology, VipObs};

fn instance(topo: &Topology, e: &Engine, app: engine::AppIx) -> InstanceView {
    let a = e.app(app);
    let host = topo.app_host(app);
    InstanceView {
        app: topo.app(app).id.clone(),
        host: topo.host(host).id.clone(),
        status: if e.host_connected(host) {
            a.status
        } else {
            AppStatus::Unknown
        },
        mode: a.mode,
    }
}

fn site_view(topo: &Topology, site: SiteIx, e: Option<&Engine>, now: Time) -> SiteView {
    let s = topo.site(site);
    let link = match (s.peer, e.and_then(|e| e.peer())) {
        (Some(_), Some(pr)) => Some(PeerLinkView {
            state: if pr.out_of_service {
                PeerLinkState::OutOfService
            } else if pr.unreachable {
                PeerLinkState::Unreachable
            } else {
                PeerLinkState::InService
            },
            last_answer_age_ms: pr.last_answer.map(|t| now.since(t).as_ms()),
            oos_check_ms: s.oos_check.as_ms(),
            oos_force_ms: s.oos_force.as_ms(),
        }),
        _ => None,
    };
    let single = e.and_then(|e| e.peer()).is_some_and(|p| p.single_site());
    SiteView {
        id: s.id.clone(),
        peer: s.peer.map(|p| topo.site(p).id.clone()),
        controller_up: e.is_some(),
        link,
        mode: if s.peer.is_none() || single {
            SiteMode::SingleSite
        } else {
            SiteMode::Peered
        },
    }
}

fn host_view(topo: &Topology, h: engine::HostIx, e: Option<&Engine>, now: Time) -> HostView {
    let host = topo.host(h);
    let connected = e.is_some_and(|e| e.host_connected(h));
    HostView {
        id: host.id.clone(),
        site: topo.site(host.site).id.clone(),
        agent: match e {
            Some(_) if connected => AgentState::Connected,
            Some(_) => AgentState::Lost,
            None => AgentState::Unknown,
        },
        last_heard_age_ms: e.and_then(|e| e.host_last_heard(h)).map(|t| now.since(t).as_ms()),
        nics: host
            .nics
            .iter()
            .enumerate()
            .map(|(i, n)| NicView {
                name: n.clone(),
                state: NicState::from_report(e.and_then(|e| e.host_nic(h, i))),
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
                    None => (AppStatus::Unknown, Mode::None, "controller unreachable".into()),
                };
                super::AppView {
                    id: topo.app(*a).id.clone(),
                    kind: topo.app(*a).kind.clone(),
                    host: host.id.clone(),
                    pair: topo.app(*a).pair.map(|p| topo.pair(p).id.clone()),
                    status,
                    mode,
                    detail,
                }
            })
            .collect(),
    }
}

fn pair_view(topo: &Topology, p: engine::PairIx, e: Option<&Engine>, now: Time) -> PairView {
    let pair = topo.pair(p);
    let group = pair.group.map(|g| topo.group(g));
    let mut view = PairView {
        id: pair.id.clone(),
        site: topo.site(pair.site).id.clone(),
        group: group.map(|g| g.id.clone()),
        leader: group.is_some_and(|g| g.leader == p),
        ..PairView::default()
    };
    let Some(e) = e else {
        for (v, app) in [(&mut view.primary, pair.apps[0]), (&mut view.backup, pair.apps[1])] {
            *v = InstanceView {
                app: topo.app(app).id.clone(),
                host: topo.host(topo.app_host(app)).id.clone(),
                status: AppStatus::Unknown,
                mode: Mode::None,
            };
        }
        view.vip = pair.vip.as_ref().map(|v| VipView {
            address: v.address.clone(),
            nic: v.nic.clone(),
            ..VipView::default()
        });
        return view;
    };
    let pr = e.pair(p);
    view.primary = instance(topo, e, pair.apps[pr.active]);
    view.backup = instance(topo, e, pair.apps[1 - pr.active]);
    view.redundancy = Some(pr.redundancy);
    view.maintenance = pr.maintenance;
    view.flapping = pr.flapping;
    view.switchover = pr.switchover.as_ref().map(|s| s.step);
    view.last_switchover_age_ms = pr.last_switchover.map(|t| now.since(t).as_ms());
    view.incident = pr.incident.map(|c| topo.correlation_label(c));
    view.vip = pair.vip.as_ref().map(|v| {
        let hosts: Vec<VipHostView> = (0..2)
            .map(|side| {
                let h = topo.app_host(pair.apps[side]);
                VipHostView {
                    host: topo.host(h).id.clone(),
                    state: if e.host_connected(h) {
                        pr.vip.obs[side]
                    } else {
                        VipObs::Unknown
                    },
                }
            })
            .collect();
        let primary_ok = e.app(pair.apps[pr.active]).is_known_primary();
        VipView {
            address: v.address.clone(),
            nic: v.nic.clone(),
            desired: primary_ok.then(|| topo.host(topo.app_host(pair.apps[pr.active])).id.clone()),
            holders: hosts
                .iter()
                .filter(|h| h.state == VipObs::Bound)
                .map(|h| h.host.clone())
                .collect(),
            hosts,
            duplicate: pr.vip.duplicate,
        }
    });
    view
}

fn group_view(topo: &Topology, g: GroupIx, e: Option<&Engine>) -> GroupView {
    let group = topo.group(g);
    let side = e.map_or(0, |e| e.group_side(g));
    GroupView {
        id: group.id.clone(),
        site: topo.site(topo.pair(group.leader).site).id.clone(),
        leader: topo.pair(group.leader).id.clone(),
        members: group.members.iter().map(|m| topo.pair(*m).id.clone()).collect(),
        primary_host: topo.host(topo.app_host(topo.pair(group.leader).apps[side])).id.clone(),
        redundancy: e.map(|e| e.group_redundancy(g)),
    }
}

fn part(topo: &Topology, site: SiteIx, e: Option<&Engine>, now: Time) -> Snapshot {
    Snapshot {
        t_ms: now.ms(),
        sites: vec![site_view(topo, site, e, now)],
        hosts: topo
            .host_ixs()
            .filter(|h| topo.host(*h).site == site)
            .map(|h| host_view(topo, h, e, now))
            .collect(),
        pairs: topo
            .pair_ixs()
            .filter(|p| topo.pair(*p).site == site)
            .map(|p| pair_view(topo, p, e, now))
            .collect(),
        groups: (0..topo.groups.len())
            .map(|g| GroupIx(g as u32))
            .filter(|g| topo.pair(topo.group(*g).leader).site == site)
            .map(|g| group_view(topo, g, e))
            .collect(),
        endpoints: Vec::new(),
    }
}

/// What the controller running `engine` reports: its site, its hosts, its pairs and its
/// groups (those whose leader is in the site), at `now`.
pub fn site_snapshot(topo: &Topology, engine: &Engine, now: Time) -> Snapshot {
    part(topo, engine.site(), Some(engine), now)
}

/// The part of `site` from the topology alone, for a controller never heard from: every
/// name in place, nothing known (each pair's preferred instance first, modes `none`).
pub fn skeleton(topo: &Topology, site: SiteIx, now: Time) -> Snapshot {
    part(topo, site, None, now).unknown()
}
