//! VIP placement, reconciled continuously: the desired holder is the host of the pair's
//! confirmed primary; the actual state is what agents report (bound / unbound) plus the
//! results of our own actions. While they differ, the reconciler removes the address from
//! the wrong host and binds it on the right one, retrying with a capped backoff, and at
//! once when a host regains the means to act (its NIC or its agent comes back). It flags
//! addresses it cannot see (unreachable agent: possible conflict) and duplicates, and after
//! a duplicate is resolved it announces the address again from its holder.
//!
//! A duplicate is known two ways: both hosts' agents report the address bound, or the
//! holder's agent sees another machine answer ARP for it (a host whose agent is gone but
//! whose kernel still has the address, or a machine outside the pair). The second is the
//! only way to know of a duplicate on a host nobody can ask; the holder then announces the
//! address again at once, so that neighbours send its traffic to the right host.

use serde::{Deserialize, Serialize};

use super::timer::TimerKey;
use super::*;

/// The state of a VIP on one host, as last reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VipObs {
    #[default]
    Unknown,
    Bound,
    Unbound,
}

impl VipObs {
    pub fn as_str(self) -> &'static str {
        match self {
            VipObs::Unknown => "unknown",
            VipObs::Bound => "bound",
            VipObs::Unbound => "unbound",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingVip {
    pub side: usize,
    pub enable: bool,
    pub reason: VipReason,
    pub sent: Time,
}

/// Per pair: what each of its two hosts reports, and the reconciler's own state.
#[derive(Clone, Debug, Default)]
pub struct VipRt {
    /// What each host's agent says now: `Unknown` while the agent is unreachable.
    pub obs: [VipObs; 2],
    /// What each host's agent said last, reachable or not (for the possible-conflict flag).
    pub last_seen: [VipObs; 2],
    pub pending: Option<PendingVip>,
    pub retry_at: [Time; 2],
    pub fails: [u32; 2],
    pub duplicate: bool,
    pub unknown_flagged: [bool; 2],
    pub reannounce: bool,
    /// When each host last regained the means to act (NIC up, agent back).
    pub can_act_since: [Time; 2],
    /// Per host: the hardware address of another machine that answers ARP for the VIP
    /// this host holds, as its agent last said (`None`: nobody else, or unknown).
    pub elsewhere: [Option<String>; 2],
    /// Per host: when its agent last saw the address go (bound or unknown → unbound).
    pub unbound_at: [Time; 2],
    /// The current duplicate was seen through ARP at least once: the other host answers
    /// the address itself, so once nobody else answers it is resolved, even when that
    /// host's agent cannot say so.
    pub duplicate_seen_by_arp: bool,
}

/// How often, at the longest, an agent probes whether another machine answers ARP for a
/// VIP it holds (the drill's simulated agents and the real one do it every second).
pub const ARP_PROBE_PERIOD: Span = Span::secs(1);

/// How long what a holder heard over ARP may lag behind the other host letting go of the
/// address: a probe period and the report's way to the controller.
pub const ARP_SETTLE: Span = Span::ms(ARP_PROBE_PERIOD.as_ms() + 500);

impl VipRt {
    /// Records what a host's agent says of the address.
    fn observe(&mut self, side: usize, obs: VipObs, now: Time) {
        if obs == VipObs::Unbound && self.obs[side] != VipObs::Unbound {
            self.unbound_at[side] = now;
        }
        self.obs[side] = obs;
        self.last_seen[side] = obs;
    }
}

impl Engine {
    fn vip_side(&self, p: PairIx, host: HostIx) -> Option<usize> {
        self.topo
            .pair(p)
            .apps
            .iter()
            .position(|a| self.topo.app_host(*a) == host)
    }

    /// The side that should hold the VIP, when the pair has a confirmed primary.
    fn vip_desired(&self, p: PairIx) -> Option<usize> {
        let pr = &self.pairs[p.ix()];
        if self.deciding(p) {
            return None;
        }
        self.confirmed_primary(self.side_app(p, pr.active)).then_some(pr.active)
    }

    /// The pair's VIP address as configured (empty for a pair without one), for messages.
    pub(crate) fn vip_address(&self, p: PairIx) -> String {
        self.topo
            .pair(p)
            .vip
            .as_ref()
            .map(|v| v.address.clone())
            .unwrap_or_default()
    }

    /// Whether the VIP is exactly where it belongs (true for pairs without one): bound on
    /// the primary's host only, no other machine answering for it, nothing under way.
    pub(crate) fn vip_placement_ok(&self, p: PairIx) -> bool {
        if self.topo.pair(p).vip.is_none() {
            return true;
        }
        let d = self.pairs[p.ix()].active;
        let v = &self.pairs[p.ix()].vip;
        v.obs[d] == VipObs::Bound
            && v.obs[1 - d] == VipObs::Unbound
            && !v.duplicate
            && !v.reannounce
            && v.pending.is_none()
    }

    pub(crate) fn on_vip_state(&mut self, host: HostIx, p: PairIx, bound: bool) {
        if !self.owns_host(host) || self.topo.pair(p).vip.is_none() {
            return;
        }
        let Some(side) = self.vip_side(p, host) else { return };
        let obs = if bound { VipObs::Bound } else { VipObs::Unbound };
        let now = self.now;
        self.pairs[p.ix()].vip.observe(side, obs, now);
        self.mark_pair(p);
    }

    pub(crate) fn on_vip_elsewhere(&mut self, host: HostIx, p: PairIx, by: Option<String>) {
        #[cfg(test)]
        if self.sabotage.deaf_to_arp {
            return;
        }
        if !self.owns_host(host) || self.topo.pair(p).vip.is_none() {
            return;
        }
        let Some(side) = self.vip_side(p, host) else { return };
        self.pairs[p.ix()].vip.elsewhere[side] = by.map(|m| config::clip(&m, 64).into_owned());
        self.mark_pair(p);
    }

    /// The host's agent is lost: what it had bound is unknown from now on (not bound, not
    /// unbound), so no duplicate is claimed and the possible conflict is flagged instead;
    /// what it saw answer ARP is unknown too.
    pub(crate) fn vip_host_lost(&mut self, host: HostIx) {
        for p in self.pairs_on_host(host) {
            if self.topo.pair(p).vip.is_none() {
                continue;
            }
            if let Some(side) = self.vip_side(p, host) {
                let v = &mut self.pairs[p.ix()].vip;
                v.obs[side] = VipObs::Unknown;
                v.elsewhere[side] = None;
            }
        }
    }

    /// The host regained the means to act on its VIPs: retry now.
    pub(crate) fn vip_host_can_act(&mut self, p: PairIx, host: HostIx) {
        #[cfg(test)]
        if self.sabotage.slow_vip_retry {
            return;
        }
        if let Some(side) = self.vip_side(p, host) {
            let v = &mut self.pairs[p.ix()].vip;
            v.retry_at[side] = self.now;
            v.can_act_since[side] = self.now;
        }
    }

    pub(crate) fn on_vip_result(&mut self, host: HostIx, p: PairIx, enable: bool, ok: bool, detail: String) {
        if !self.owns_host(host) || self.topo.pair(p).vip.is_none() {
            return;
        }
        let Some(side) = self.vip_side(p, host) else { return };
        let v = &mut self.pairs[p.ix()].vip;
        let (reason, sent) = match v.pending {
            Some(pv) if pv.side == side && pv.enable == enable => {
                v.pending = None;
                (pv.reason, pv.sent)
            }
            _ => (VipReason::Placement, self.now),
        };
        // Sent before the host could act again: its failure says nothing about now.
        let stale_failure = sent < v.can_act_since[side];
        let address = self.vip_address(p);
        let corr = self.vip_correlation(p);
        let hname = self.topo.host(host).id.clone();
        if ok {
            let now = self.now;
            let v = &mut self.pairs[p.ix()].vip;
            v.observe(side, if enable { VipObs::Bound } else { VipObs::Unbound }, now);
            v.fails[side] = 0;
            let (id, what) = match (enable, reason) {
                (true, VipReason::Reannounce) => (EventId::VipEnabled, "re-announced (gratuitous ARP) on"),
                (true, _) => (EventId::VipEnabled, "enabled on"),
                (false, _) => (EventId::VipDisabled, "disabled on"),
            };
            self.emit_with(
                id,
                Entity::Host(host),
                Entity::Pair(p),
                corr,
                format!("VIP {address} of {} {what} {hname}", self.topo.pair(p).id),
                vec![("address", address), ("host", hname)],
            );
        } else {
            self.pairs[p.ix()].vip.fails[side] += 1;
            let backoff = if stale_failure {
                Span::ZERO
            } else {
                self.vip_backoff(self.pairs[p.ix()].vip.fails[side])
            };
            let v = &mut self.pairs[p.ix()].vip;
            v.retry_at[side] = self.now + backoff;
            self.timers.set_earliest(TimerKey::Vip(p), self.now + backoff);
            let attempt = v.fails[side];
            // Log the first failure and then every power of two, not every retry.
            if !attempt.is_power_of_two() {
                self.mark_pair(p);
                return;
            }
            self.emit_with(
                EventId::VipControlFailed,
                Entity::Host(host),
                Entity::Pair(p),
                corr,
                format!(
                    "could not {} VIP {address} on {hname}: {detail} (attempt {attempt}, retry in {backoff})",
                    if enable { "enable" } else { "disable" }
                ),
                vec![
                    ("address", address),
                    ("host", hname),
                    ("detail", detail),
                    ("attempt", attempt.to_string()),
                ],
            );
        }
        self.mark_pair(p);
    }

    fn vip_backoff(&self, fails: u32) -> Span {
        #[cfg(test)]
        if self.sabotage.slow_vip_retry {
            return Span::secs(60);
        }
        let cap = self.topo.controller.reconcile_interval;
        Span::ms(250u64.saturating_mul(1 << fails.min(16))).min(cap)
    }

    fn vip_correlation(&mut self, p: PairIx) -> Option<Correlation> {
        #[cfg(test)]
        if self.sabotage.fresh_vip_correlation {
            return Some(self.new_correlation());
        }
        // A VIP the reconciler has to move or clean up is an incident, open or new.
        Some(self.pair_incident(p))
    }

    fn send_vip(&mut self, p: PairIx, side: usize, enable: bool, reason: VipReason) {
        let host = self.topo.app_host(self.side_app(p, side));
        self.pairs[p.ix()].vip.pending = Some(PendingVip {
            side,
            enable,
            reason,
            sent: self.now,
        });
        self.timers
            .set(TimerKey::Vip(p), self.now + self.topo.controller.mode_timeout);
        let correlation = self.vip_correlation(p);
        self.command(Command::Vip {
            host,
            pair: p,
            enable,
            reason,
            correlation,
        });
    }

    /// No primary to place the VIP for, yet it is bound on both hosts: keep it where the
    /// pair's chosen instance runs (where it will be wanted) and remove the duplicate.
    fn vip_duplicate_without_primary(&mut self, p: PairIx) {
        if self.deciding(p) {
            return;
        }
        // Keep it where an instance runs as primary (not confirmed yet: it has not
        // announced, or the pair is still deciding), else on the chosen side. Never keep it
        // on a dead instance's host and take it from the one that serves.
        let active = self.pairs[p.ix()].active;
        let primary = |s: usize| self.apps[self.side_app(p, s).ix()].is_known_primary();
        let keep = if !primary(active) && primary(1 - active) {
            1 - active
        } else {
            active
        };
        let o = 1 - keep;
        let v = &self.pairs[p.ix()].vip;
        let ho = self.topo.app_host(self.side_app(p, o));
        if v.obs[keep] == VipObs::Bound && v.obs[o] == VipObs::Bound && self.hosts[ho.ix()].connected {
            if self.now >= v.retry_at[o] {
                let reason = if v.fails[o] > 0 {
                    VipReason::Retry
                } else {
                    VipReason::Placement
                };
                self.send_vip(p, o, false, reason);
            } else {
                let at = v.retry_at[o];
                self.timers.set_earliest(TimerKey::Vip(p), at);
            }
        }
    }

    /// Flags a duplicate address (HC-1204) and its end (HC-1205). A duplicate is the
    /// address bound on both hosts as their agents report, or a host that holds it hearing
    /// another machine answer ARP for it. What a holder heard just before the other host
    /// let go is stale until the holder has probed again: an ARP answer counts only once
    /// the other host has been unbound for [`ARP_SETTLE`]. `desired` is the side that
    /// should hold the address (re-announced from there when another machine answers).
    fn vip_duplicates(&mut self, p: PairIx, desired: Option<usize>) {
        let now = self.now;
        let v = &self.pairs[p.ix()].vip;
        let settled = |s: usize| v.obs[1 - s] != VipObs::Unbound || now >= v.unbound_at[1 - s] + ARP_SETTLE;
        let k = desired.unwrap_or(self.pairs[p.ix()].active);
        let both_bound = v.obs[0] == VipObs::Bound && v.obs[1] == VipObs::Bound;
        let heard = [k, 1 - k].into_iter().find_map(|s| {
            let mac = v.elsewhere[s].as_ref().filter(|_| v.obs[s] == VipObs::Bound)?;
            settled(s).then(|| (s, mac.clone()))
        });
        if let Some(s) = (0..2).find(|&s| v.obs[s] == VipObs::Bound && v.elsewhere[s].is_some() && !settled(s)) {
            let at = v.unbound_at[1 - s] + ARP_SETTLE;
            self.timers.set_earliest(TimerKey::Vip(p), at);
        }
        let dup = both_bound || heard.is_some();
        let was = v.duplicate;
        if heard.is_some() {
            self.pairs[p.ix()].vip.duplicate_seen_by_arp = true;
        }
        let address = self.vip_address(p);
        if dup && !was {
            let corr = Some(self.pair_incident(p));
            let h = heard.as_ref().map_or(k, |(s, _)| *s);
            let (hh, ho) = (self.side_host(p, h), self.side_host(p, 1 - h));
            let (hh_id, ho_id) = (&self.topo.host(hh).id, &self.topo.host(ho).id);
            let obs_o = self.pairs[p.ix()].vip.obs[1 - h];
            let text = match &heard {
                Some((_, mac)) if !both_bound && obs_o != VipObs::Unbound => format!(
                    "duplicate address: VIP {address} is bound on {hh_id} and answered by {mac} too, probably {ho_id} (its agent cannot say)"
                ),
                Some((_, mac)) if !both_bound => format!(
                    "duplicate address: VIP {address} is bound on {hh_id} and answered by {mac} too, a machine outside the pair"
                ),
                _ => format!("duplicate address: VIP {address} is bound on {hh_id} and {ho_id}"),
            };
            let reach_o = self.hosts[ho.ix()].connected;
            let vr = &mut self.pairs[p.ix()].vip;
            vr.duplicate = true;
            // Win the neighbours back from the other machine while it cannot be told to
            // let go (it answers ARP, but nobody can ask its agent to remove the address).
            vr.reannounce |= heard.is_some() && desired == Some(h) && !(both_bound && reach_o);
            let mut fields = vec![("address", address)];
            if let Some((_, mac)) = heard {
                fields.push(("answered-by", mac));
            }
            self.emit_with(
                EventId::VipDuplicate,
                Entity::Pair(p),
                Entity::Pair(p),
                corr,
                text,
                fields,
            );
            return;
        }
        let v = &self.pairs[p.ix()].vip;
        let o = 1 - k;
        let resolved =
            was && !dup && (v.obs[o] == VipObs::Unbound || (v.obs[o] == VipObs::Unknown && v.duplicate_seen_by_arp));
        if resolved {
            let corr = Some(self.pair_incident(p));
            let vr = &mut self.pairs[p.ix()].vip;
            vr.duplicate = false;
            vr.duplicate_seen_by_arp = false;
            vr.reannounce = true;
            let hk = self.side_host(p, k);
            self.emit_with(
                EventId::VipDuplicateResolved,
                Entity::Pair(p),
                Entity::Pair(p),
                corr,
                format!("VIP {address} is bound on {} only again", self.topo.host(hk).id),
                vec![("address", address)],
            );
        }
    }

    fn side_host(&self, p: PairIx, side: usize) -> HostIx {
        self.topo.app_host(self.side_app(p, side))
    }

    /// Level-triggered reconciliation of one pair's VIP.
    pub(crate) fn reconcile_vip(&mut self, p: PairIx) {
        let pr = &self.pairs[p.ix()];
        if self.topo.pair(p).vip.is_none() || !self.owns_pair(p) || (pr.maintenance && !pr.operator_vip) {
            return;
        }
        let now = self.now;
        if let Some(pv) = self.pairs[p.ix()].vip.pending {
            if now < pv.sent + self.topo.controller.mode_timeout {
                return;
            }
            let host = self.topo.app_host(self.side_app(p, pv.side));
            self.on_vip_result(host, p, pv.enable, false, "no answer from the agent".into());
        }
        let desired = self.vip_desired(p);
        self.vip_duplicates(p, desired);
        let Some(d) = desired else {
            self.vip_duplicate_without_primary(p);
            return;
        };
        let o = 1 - d;
        let hd = self.topo.app_host(self.side_app(p, d));
        let ho = self.topo.app_host(self.side_app(p, o));
        let (reach_d, reach_o) = (self.hosts[hd.ix()].connected, self.hosts[ho.ix()].connected);
        let address = self.vip_address(p);
        let v = self.pairs[p.ix()].vip.clone();

        let flag_unknown = !reach_o && v.last_seen[o] != VipObs::Unbound && !v.unknown_flagged[o];
        if flag_unknown {
            // A possible conflict is an incident of its own when the pair has none.
            let corr = Some(self.pair_incident(p));
            self.pairs[p.ix()].vip.unknown_flagged[o] = true;
            self.emit_with(
                EventId::VipStateUnknown,
                Entity::Host(ho),
                Entity::Pair(p),
                corr,
                format!(
                    "VIP {address} state on {} is unknown (agent unreachable, last seen {}): possible address conflict",
                    self.topo.host(ho).id,
                    v.last_seen[o].as_str()
                ),
                vec![("address", address.clone()), ("host", self.topo.host(ho).id.clone())],
            );
        }
        if reach_o {
            self.pairs[p.ix()].vip.unknown_flagged[o] = false;
        }

        let v = self.pairs[p.ix()].vip.clone();
        let reason = |fails: u32| {
            if fails > 0 {
                VipReason::Retry
            } else {
                VipReason::Placement
            }
        };
        #[cfg(test)]
        if self.sabotage.vip_enable_first && reach_d && v.obs[d] == VipObs::Unbound && now >= v.retry_at[d] {
            return self.send_vip(p, d, true, reason(v.fails[d]));
        }
        if reach_o && v.obs[o] == VipObs::Bound {
            if now >= v.retry_at[o] {
                return self.send_vip(p, o, false, reason(v.fails[o]));
            }
            self.timers.set_earliest(TimerKey::Vip(p), v.retry_at[o]);
        }
        if reach_d && v.obs[d] == VipObs::Unbound {
            if now >= v.retry_at[d] {
                return self.send_vip(p, d, true, reason(v.fails[d]));
            }
            self.timers.set_earliest(TimerKey::Vip(p), v.retry_at[d]);
        }
        if v.reannounce && reach_d && v.obs[d] == VipObs::Bound {
            self.pairs[p.ix()].vip.reannounce = false;
            self.send_vip(p, d, true, VipReason::Reannounce);
        }
    }
}
