//! The simulated deployment: sites, hosts with NICs and bound VIPs, application processes
//! and their modes, and the network between them. Plain data; [`super::agent`] gives it
//! behaviour.

use std::collections::BTreeSet;

use crate::engine::{AppIx, HostIx, Mode, PairIx, SiteIx, Time, Topology};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proc {
    Starting,
    Running,
    Hung,
    Dead,
}

#[derive(Clone, Debug)]
pub struct SimApp {
    pub proc: Proc,
    pub mode: Mode,
    /// Bumped on every (re)start: events scheduled for an older process are stale.
    pub epoch: u32,
    /// Bumped whenever the traffic watch restarts.
    pub traffic_epoch: u32,
    pub no_traffic_since: Option<Time>,
    /// SERVICE_UNAVAILABLE causes currently in effect.
    pub su_traffic: bool,
    pub su_backup_check: Option<String>,
    /// What the agent last told the controller: SERVICE_UNAVAILABLE or not.
    pub reported_su: bool,
    /// A backup's start-up checks are running.
    pub checking: bool,
    pub single_site: bool,
    /// Stopped (or killed) on its controller's order: not restarted until started again.
    pub held: bool,
    /// Its mode hook hangs: it cannot change mode, whatever it is told.
    pub hook_hung: bool,
    /// Until then a healed hook is not yet known to work: the controller learns it only
    /// when its next order is answered (at the latest one mode-timeout later).
    pub hook_grace_until: Time,
}

impl SimApp {
    fn new() -> SimApp {
        SimApp {
            proc: Proc::Starting,
            mode: Mode::None,
            epoch: 0,
            traffic_epoch: 0,
            no_traffic_since: None,
            su_traffic: false,
            su_backup_check: None,
            reported_su: false,
            checking: false,
            single_site: false,
            held: false,
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
}

impl World {
    pub fn new(topo: &Topology) -> World {
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
        }
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
