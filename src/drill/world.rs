//! The simulated deployment: sites, hosts with NICs and bound VIPs, each host's agent core,
//! application processes and their modes, and the network between them. Plain data;
//! [`super::hosts`] makes it answer the agents' actions and [`super::agent`] drives them.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::agent::{AgentCore, AppView};
use crate::engine::{AppIx, HostIx, Mode, PairIx, SiteIx, Time, Topology};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proc {
    Starting,
    Running,
    Hung,
    Dead,
}

/// What a simulated application's health probe sees (only changes are fed to its agent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Ok,
    Unavailable(String),
}

#[derive(Clone, Debug)]
pub struct SimApp {
    pub proc: Proc,
    /// The mode the process runs in (set when its mode hook completes).
    pub mode: Mode,
    /// Bumped on every (re)start: events scheduled for an older process are stale.
    pub epoch: u32,
    /// Its agent asked for it to start while a `stop` fault keeps it down: it starts when
    /// the fault heals.
    pub spawn_pending: bool,
    /// Its agent probes it.
    pub probing: bool,
    /// What its probe answers, as last fed to its agent.
    pub answer: Answer,
    /// Traffic for it arrives on its host, as last fed to its agent.
    pub flowing: bool,
    /// Its start-up checks found its components not initialised (a `not-ready` fault):
    /// forced to primary, it answers unavailable.
    pub not_initialised: bool,
    pub single_site: bool,
    /// Its mode hook hangs: it cannot change mode, whatever it is told.
    pub hook_hung: bool,
    /// Until then a healed hook is not yet known to work: the controller learns it only
    /// when its next order is answered (at the latest one mode-timeout later).
    pub hook_grace_until: Time,
}

impl SimApp {
    fn new() -> SimApp {
        SimApp {
            proc: Proc::Dead,
            mode: Mode::None,
            epoch: 0,
            spawn_pending: false,
            probing: false,
            answer: Answer::Ok,
            flowing: false,
            not_initialised: false,
            single_site: false,
            hook_hung: false,
            hook_grace_until: Time::ZERO,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SimHost {
    pub up: bool,
    /// The management network to the controller is cut.
    pub disconnected: bool,
    /// The agent link is flaky: heartbeats lost, messages late (a partial partition).
    pub flaky: bool,
    pub nics: Vec<bool>,
    /// VIPs (by pair) bound on this host.
    pub vips: BTreeSet<PairIx>,
}

#[derive(Clone, Debug)]
pub struct World {
    pub sites_up: Vec<bool>,
    /// Per site: its controller process runs.
    pub controllers_up: Vec<bool>,
    pub partitioned: bool,
    pub hosts: Vec<SimHost>,
    pub apps: Vec<SimApp>,
    /// Per pair, per host index: when that host last announced the VIP (gratuitous ARP).
    pub garp: Vec<Vec<(HostIx, Time)>>,
    /// Per host: its agent (a fresh one after every power-on).
    pub agents: Vec<AgentCore>,
    /// Per host: bumped at every power-off, so that answers meant for the agent that ran
    /// before are dropped.
    pub incarnation: Vec<u32>,
}

impl World {
    pub fn new(topo: &Arc<Topology>) -> World {
        World {
            sites_up: vec![true; topo.sites.len()],
            controllers_up: vec![true; topo.sites.len()],
            partitioned: false,
            hosts: topo
                .hosts
                .iter()
                .map(|h| SimHost {
                    up: true,
                    disconnected: false,
                    flaky: false,
                    nics: vec![true; h.nics.len()],
                    vips: BTreeSet::new(),
                })
                .collect(),
            apps: topo.apps.iter().map(|_| SimApp::new()).collect(),
            garp: topo.pairs.iter().map(|_| Vec::new()).collect(),
            agents: topo.host_ixs().map(|h| AgentCore::new(topo.clone(), h)).collect(),
            incarnation: vec![0; topo.hosts.len()],
        }
    }

    /// The agent's view of an application (what it last learnt and reported).
    pub fn agent_view(&self, topo: &Topology, app: AppIx) -> Option<AppView> {
        self.agents.get(topo.app_host(app).ix())?.app_view(app)
    }

    /// Running, its start-up checks passed, not unavailable: as its agent sees it.
    pub fn ready(&self, topo: &Topology, app: AppIx) -> bool {
        self.agent_view(topo, app).is_some_and(|v| v.ready)
    }

    /// Whether the controller of `site` and the agent of `host` can talk.
    pub fn agent_path(&self, topo: &Topology, site: SiteIx, host: HostIx) -> bool {
        let h = &self.hosts[host.ix()];
        let th = topo.host(host);
        self.sites_up[site.ix()]
            && self.controllers_up[site.ix()]
            && th.site == site
            && h.up
            && !h.disconnected
            && h.nics[th.management_nic]
    }

    /// Whether a client in `from` can reach a server in `to`.
    pub fn site_path(&self, from: SiteIx, to: SiteIx) -> bool {
        self.sites_up[to.ix()] && (from == to || !self.partitioned)
    }

    /// The host that receives the VIP's traffic: among hosts that have it bound on an up
    /// NIC, the one that announced it last.
    pub fn traffic_host(&self, topo: &Topology, p: PairIx) -> Option<HostIx> {
        let vip = topo.pair(p).vip.as_ref()?;
        if !self.sites_up[topo.pair(p).site.ix()] {
            return None;
        }
        self.garp[p.ix()]
            .iter()
            .filter(|(h, _)| {
                let sh = &self.hosts[h.ix()];
                sh.up && sh.vips.contains(&p) && topo.host(*h).nic(&vip.nic).is_some_and(|n| sh.nics[n])
            })
            .max_by_key(|(_, t)| *t)
            .map(|(h, _)| *h)
    }

    pub fn announce(&mut self, p: PairIx, host: HostIx, now: Time) {
        let g = &mut self.garp[p.ix()];
        match g.iter_mut().find(|(h, _)| *h == host) {
            Some(e) => e.1 = now,
            None => g.push((host, now)),
        }
    }

    /// Apps in primary mode with a running process, per pair.
    pub fn primaries(&self, topo: &Topology, p: PairIx) -> Vec<AppIx> {
        topo.pair(p)
            .apps
            .iter()
            .copied()
            .filter(|a| self.apps[a.ix()].proc == Proc::Running && self.apps[a.ix()].mode == Mode::Primary)
            .collect()
    }

    /// Hosts that have the pair's VIP bound.
    pub fn vip_holders(&self, topo: &Topology, p: PairIx) -> Vec<HostIx> {
        topo.pair(p)
            .apps
            .iter()
            .map(|a| topo.app_host(*a))
            .filter(|h| self.hosts[h.ix()].up && self.hosts[h.ix()].vips.contains(&p))
            .collect()
    }
}
