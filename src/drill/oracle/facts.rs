//! What the oracle reads in the world: which instance is supervised, can be acted on,
//! runs as primary, serves its clients, could be promoted, and from when the anti-flap
//! hold the world's own switchovers imply allows it.

use super::*;

impl Oracle {
    pub(super) fn is_leader(topo: &Topology, p: PairIx) -> bool {
        topo.pair(p).group.is_some_and(|g| topo.group(g).leader == p)
    }

    pub(super) fn leader_of(topo: &Topology, p: PairIx) -> Option<(GroupIx, PairIx)> {
        let g = topo.pair(p).group?;
        let l = topo.group(g).leader;
        (l != p).then_some((g, l))
    }

    pub(super) fn supervised(topo: &Topology, world: &World, p: PairIx, s: usize) -> bool {
        let h = topo.app_host(topo.pair(p).apps[s]);
        world.agent_path(topo, topo.pair(p).site, h)
    }

    /// Supervised over a healthy link, with a mode hook that answers (and has answered
    /// since it was healed long enough for the controller to learn it): the controller can
    /// act on it at once. A flaky link or a hung hook is a partial failure the controller
    /// cannot tell from a lost host or a slow order.
    pub(super) fn actable(topo: &Topology, world: &World, now: Time, p: PairIx, s: usize) -> bool {
        let a = topo.pair(p).apps[s];
        let h = topo.app_host(a);
        let app = &world.apps[a.ix()];
        Self::supervised(topo, world, p, s)
            && !world.hosts[h.ix()].flaky
            && !app.hook_hung
            && now >= app.hook_grace_until
    }

    pub(super) fn running(world: &World, a: AppIx) -> bool {
        world.apps[a.ix()].proc == Proc::Running
    }

    pub(super) fn primary(world: &World, a: AppIx) -> bool {
        Self::running(world, a) && world.apps[a.ix()].mode == Mode::Primary
    }

    /// Running, its start-up checks passed and its agent sees nothing that makes it
    /// unavailable.
    pub(super) fn ready(&self, topo: &Topology, world: &World, a: AppIx) -> bool {
        world.apps[a.ix()].proc == Proc::Running && world.ready(topo, a) && !self.unavailable[a.ix()]
    }

    /// A running primary that clients reach and that the controller can supervise.
    pub(super) fn serving(&self, topo: &Topology, world: &World, p: PairIx, s: usize) -> bool {
        let pair = topo.pair(p);
        let a = pair.apps[s];
        if !Self::primary(world, a) {
            return false;
        }
        if pair.failover.host_lost && !Self::supervised(topo, world, p, s) {
            return false;
        }
        if pair.failover.service_unavailable && self.unavailable[a.ix()] {
            return false;
        }
        pair.vip.is_none() || world.traffic_host(topo, p) == Some(topo.app_host(a))
    }

    pub(super) fn serving_side(&self, topo: &Topology, world: &World, p: PairIx) -> Option<usize> {
        (0..2).find(|s| self.serving(topo, world, p, *s))
    }

    /// A backup the controller could promote: running, ready, supervised, and able to take
    /// the VIP (its NIC up) when the pair has one.
    pub(super) fn usable(&self, topo: &Topology, world: &World, now: Time, p: PairIx, s: usize) -> bool {
        let a = topo.pair(p).apps[s];
        let h = topo.app_host(a);
        let vip_nic = topo
            .pair(p)
            .vip
            .as_ref()
            .is_none_or(|v| topo.host(h).nic(&v.nic).is_none_or(|n| world.hosts[h.ix()].nics[n]));
        vip_nic
            && Self::running(world, a)
            && world.apps[a.ix()].mode != Mode::Primary
            && self.ready(topo, world, a)
            && Self::supervised(topo, world, p, s)
            && !world.hosts[h.ix()].flaky
            && !world.apps[a.ix()].hook_hung
            && now >= world.apps[a.ix()].hook_grace_until
    }

    pub(super) fn hold_until(&self, topo: &Topology, p: PairIx) -> Time {
        let af = topo.pair(p).anti_flap;
        let h = &self.pairs[p.ix()].history;
        let max = af.max_switchovers.max(1) as usize;
        if h.len() >= max {
            h[h.len() - max] + af.window
        } else {
            Time::ZERO
        }
    }

    /// From when promoting side `s` of `p` (not a group member) is allowed, if at all.
    pub(super) fn allowed_from(&self, topo: &Topology, world: &World, now: Time, p: PairIx, s: usize) -> Option<Time> {
        let st = &self.pairs[p.ix()];
        if st.maintenance || !self.usable(topo, world, now, p, s) {
            return None;
        }
        if let Some(g) = topo.pair(p).group {
            // A leader does not move the group onto a member that reported itself not ready.
            let blocked = topo.group(g).members.iter().skip(1).any(|m| {
                let a = topo.pair(*m).apps[s];
                Self::running(world, a) && world.apps[a.ix()].mode != Mode::Primary && !self.ready(topo, world, a)
            });
            if blocked {
                return None;
            }
        }
        let held = st.last_primary_side.is_some_and(|l| l != s);
        Some(if held { now.max(self.hold_until(topo, p)) } else { now })
    }
}
