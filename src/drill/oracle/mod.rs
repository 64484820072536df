//! The oracle: grades a drill from what the simulated world did, never from what the
//! engines say. It sees the world (which processes run, in which mode, on which host; where
//! each VIP is bound and which host its traffic reaches), the fault schedule and the
//! operator's commands, and the configuration; from those alone it measures, per pair,
//! safety (two primaries, a VIP bound twice, a VIP moving before the old primary stepped
//! down), liveness (time without a serving primary, and the part of it that was avoidable),
//! economy (switchovers per fault, ping-pong), coherence (group members on the leader's
//! side), maintenance (no automatic mode change), redundancy after the last fault, and
//! whether a duplicate address that the network shows is alarmed (the one place it reads
//! the event log: the alarm is what operators see). Each is a check of the report; the
//! bounds come from the configuration (see docs/drill.md).
//!
//! Work per step is proportional to what changed: the drill marks the pairs an event, a
//! fault or a command touched, and only those are examined again. Conditions that end by
//! themselves in time (an anti-flap hold) are kept as start times and closed lazily.

use serde::Serialize;
use std::collections::BTreeMap;

use super::check::CheckResult;
use super::fault::Fault;
use super::world::{Proc, World};
use crate::engine::{AppIx, Entity, Event, EventId, GroupIx, HostIx, Mode, PairIx, Span, Time, Topology};

mod facts;
mod grade;

const MAX_NOTED: usize = 5;

/// The bounds the oracle grades against, all derived from the configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Bounds {
    /// After a pair's two hosts become controllable again (a heal), time to get back to one
    /// primary and one VIP: `heartbeat-interval + reconcile-interval`. Zero otherwise.
    pub settle_ms: u64,
    /// Longest avoidable time without a serving primary, for the slowest pair: failure
    /// detection (the longest of `heartbeat-timeout + heartbeat-interval`, a probe's
    /// `interval × failures + timeout` + 0.5 s, `traffic-timeout`) + `mode-timeout` +
    /// `reconcile-interval`.
    pub liveness_ms: u64,
    /// Longest time a group member may run on the other side than its leader while it
    /// could follow: `mode-timeout` (a demotion that does not answer is fenced after it)
    /// + `reconcile-interval`.
    pub coherence_ms: u64,
    /// After the last fault heals (or the last operator action), every pair redundant in
    /// the world: the checker's recovery bound.
    pub recovery_ms: u64,
    /// Longest a duplicate address the network shows may go without a duplicate-address
    /// alarm: an agent's ARP probe period (1 s) + `heartbeat-interval` +
    /// `reconcile-interval`.
    pub duplicate_alarm_ms: u64,
}

/// Per-pair figures (only pairs with something to report appear in the JSON).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PairFigures {
    pub two_primaries_ms: u64,
    pub dual_vip_ms: u64,
    pub no_primary_ms: u64,
    pub avoidable_no_primary_ms: u64,
    pub switchovers: u64,
    pub ping_pongs: u64,
    pub group_split_ms: u64,
}

impl PairFigures {
    fn is_zero(&self) -> bool {
        *self == PairFigures::default()
    }
}

/// The oracle's figures, in the report's `metrics.oracle`.
#[derive(Clone, Debug, Serialize)]
pub struct OracleMetrics {
    pub bounds: Bounds,
    pub two_primaries_ms: u64,
    pub dual_vip_ms: u64,
    pub no_primary_ms: u64,
    pub avoidable_no_primary_ms: u64,
    pub faults: u64,
    pub switchovers: u64,
    pub switchovers_per_fault: f64,
    pub ping_pongs: u64,
    pub group_split_ms: u64,
    pub pairs: BTreeMap<String, PairFigures>,
}

#[derive(Clone, Debug, Default)]
struct PairState {
    /// Both hosts controllable (agent reachable, VIP NIC up) since.
    ctl_since: Option<Time>,
    two_prim_since: Option<Time>,
    dual_vip_since: Option<Time>,
    no_serving_since: Option<Time>,
    /// An avoidable run: promotion was possible from this time (may be in the future
    /// while an anti-flap hold lasts).
    avoid_from: Option<Time>,
    /// Split from the leader while the member could follow, since.
    split_since: Option<Time>,
    prim: [bool; 2],
    bound: [bool; 2],
    modes: [(bool, Mode); 2],
    last_primary_side: Option<usize>,
    /// World switchovers (promotions of the other side) inside the anti-flap window.
    history: Vec<Time>,
    /// The last switchover: when, from which side.
    last_switch: Option<(Time, usize)>,
    /// The last fault injected on the pair (or its group), or operator command about it.
    last_cause: Option<Time>,
    /// A member promoted on a side its leader did not run on: (when, side).
    early_promotion: Option<(Time, usize)>,
    /// The last operator command about the pair or its group.
    operator_at: Option<Time>,
    maintenance: bool,
    maintenance_since: Time,
    redundant: bool,
    redundant_since: Option<Time>,
    /// A duplicate-address alarm (HC-1204) about the pair is active in its log.
    dup_alarm: bool,
    /// Two hosts answer ARP for the VIP, one of them supervised, and no alarm says so, since.
    dup_unalarmed_since: Option<Time>,
    fig: PairFigures,
}

#[derive(Default)]
struct Findings {
    list: Vec<String>,
    count: usize,
}

impl Findings {
    fn note(&mut self, text: String) {
        self.count += 1;
        if self.list.len() < MAX_NOTED {
            self.list.push(text);
        }
    }
    fn detail(&self) -> String {
        let mut s = self.list.join("; ");
        if self.count > self.list.len() {
            s.push_str(&format!("; and {} more", self.count - self.list.len()));
        }
        s
    }
}

pub struct Oracle {
    bounds: Bounds,
    settle: Span,
    liveness: Vec<Span>,
    coherence: Span,
    recovery: Span,
    duplicate_alarm: Span,
    pairs: Vec<PairState>,
    host_pairs: Vec<Vec<PairIx>>,
    site_pairs: Vec<Vec<PairIx>>,
    unavailable: Vec<bool>,
    dirty: Vec<bool>,
    dirty_list: Vec<PairIx>,
    last_action: Option<Time>,
    active_faults: i64,
    faults: u64,
    two_primaries: Findings,
    dual_vip: Findings,
    vip_before_demotion: Findings,
    avoidable: Findings,
    ping_pong: Findings,
    coherence_f: Findings,
    maintenance_f: Findings,
    unalarmed_f: Findings,
}

impl Oracle {
    pub fn new(topo: &Topology) -> Oracle {
        let c = &topo.controller;
        let host_lost = c.heartbeat_timeout + c.heartbeat_interval;
        let liveness: Vec<Span> = topo
            .pair_ixs()
            .map(|p| {
                let detect = topo
                    .pair(p)
                    .apps
                    .iter()
                    .map(|a| {
                        let app = topo.app(*a);
                        let probe = app
                            .probe
                            .as_ref()
                            .map_or(Span::ZERO, |p| p.detection_time() + Span::ms(500));
                        let traffic = app.traffic.as_ref().map_or(Span::ZERO, |t| t.timeout);
                        probe.max(traffic)
                    })
                    .max()
                    .unwrap_or(Span::ZERO)
                    .max(host_lost);
                detect + c.mode_timeout + c.reconcile_interval
            })
            .collect();
        let settle = c.heartbeat_interval + c.reconcile_interval;
        let recovery = super::check::Checker::new(topo).recovery_bound;
        let duplicate_alarm = crate::engine::ARP_PROBE_PERIOD + c.heartbeat_interval + c.reconcile_interval;
        let mut host_pairs = vec![Vec::new(); topo.hosts.len()];
        let mut site_pairs = vec![Vec::new(); topo.sites.len()];
        for p in topo.pair_ixs() {
            for a in topo.pair(p).apps {
                let h = topo.app_host(a);
                if !host_pairs[h.ix()].contains(&p) {
                    host_pairs[h.ix()].push(p);
                }
            }
            site_pairs[topo.pair(p).site.ix()].push(p);
        }
        let n = topo.pairs.len();
        Oracle {
            bounds: Bounds {
                settle_ms: settle.as_ms(),
                liveness_ms: liveness.iter().max().copied().unwrap_or(Span::ZERO).as_ms(),
                coherence_ms: (c.mode_timeout + c.reconcile_interval).as_ms(),
                recovery_ms: recovery.as_ms(),
                duplicate_alarm_ms: duplicate_alarm.as_ms(),
            },
            settle,
            liveness,
            coherence: c.mode_timeout + c.reconcile_interval,
            recovery,
            duplicate_alarm,
            pairs: vec![PairState::default(); n],
            host_pairs,
            site_pairs,
            unavailable: vec![false; topo.apps.len()],
            dirty: vec![false; n],
            dirty_list: Vec::new(),
            last_action: None,
            active_faults: 0,
            faults: 0,
            two_primaries: Findings::default(),
            dual_vip: Findings::default(),
            vip_before_demotion: Findings::default(),
            avoidable: Findings::default(),
            ping_pong: Findings::default(),
            coherence_f: Findings::default(),
            maintenance_f: Findings::default(),
            unalarmed_f: Findings::default(),
        }
    }

    /// An event a controller logged: only the duplicate-address alarm and its end matter
    /// here (what an operator sees of a duplicate).
    pub fn on_event(&mut self, e: &Event) {
        let on = match e.id {
            EventId::VipDuplicate => true,
            EventId::VipDuplicateResolved => false,
            _ => return,
        };
        if let Entity::Pair(p) = e.subject {
            self.pairs[p.ix()].dup_alarm = on;
            self.touch_one(p);
        }
    }

    /// Marks a pair (and the rest of its group) to be examined after the step.
    pub fn touch(&mut self, topo: &Topology, p: PairIx) {
        match topo.pair(p).group {
            Some(g) => {
                for m in topo.group(g).members.clone() {
                    self.touch_one(m);
                }
            }
            None => self.touch_one(p),
        }
    }

    fn touch_one(&mut self, p: PairIx) {
        if !self.dirty[p.ix()] {
            self.dirty[p.ix()] = true;
            self.dirty_list.push(p);
        }
    }

    pub fn touch_app(&mut self, topo: &Topology, a: AppIx) {
        if let Some(p) = topo.app(a).pair {
            self.touch(topo, p);
        }
    }

    pub fn touch_host(&mut self, topo: &Topology, h: HostIx) {
        for i in 0..self.host_pairs[h.ix()].len() {
            let p = self.host_pairs[h.ix()][i];
            self.touch(topo, p);
        }
    }

    fn pairs_of_fault(&self, topo: &Topology, f: &Fault) -> Vec<PairIx> {
        match f {
            Fault::KillApp(a) | Fault::StopApp(a) | Fault::HangApp(a) | Fault::Unavailable(a) | Fault::NotReady(a) => {
                topo.app(*a).pair.into_iter().collect()
            }
            Fault::HookHang(a) => topo.app(*a).pair.into_iter().collect(),
            Fault::Disconnect(h) | Fault::HostDown(h) | Fault::NicDown(h, _) | Fault::FlakyLink(h) => {
                self.host_pairs[h.ix()].clone()
            }
            Fault::SiteDown(s) | Fault::ControllerCrash(s) | Fault::ControllerStop(s) => {
                self.site_pairs[s.ix()].clone()
            }
            Fault::Partition => Vec::new(),
        }
    }

    /// A fault injected (`on`) or healed: the schedule is one of the oracle's inputs.
    pub fn on_fault(&mut self, topo: &Topology, now: Time, f: &Fault, on: bool) {
        self.last_action = Some(now);
        if on {
            self.faults += 1;
            if !f.is_one_shot() {
                self.active_faults += 1;
            }
        } else {
            self.active_faults -= 1;
        }
        if let Fault::Unavailable(a) = f {
            self.unavailable[a.ix()] = on;
        }
        for p in self.pairs_of_fault(topo, f) {
            if on {
                self.cause(topo, p, now);
            }
            self.touch(topo, p);
        }
    }

    fn cause(&mut self, topo: &Topology, p: PairIx, now: Time) {
        let members = match topo.pair(p).group {
            Some(g) => topo.group(g).members.clone(),
            None => vec![p],
        };
        for m in members {
            self.pairs[m.ix()].last_cause = Some(now);
            self.pairs[m.ix()].early_promotion = None;
        }
    }

    /// An operator command the drill sent, and whether the controller accepted it.
    pub fn on_operator(&mut self, topo: &Topology, now: Time, pair: Option<PairIx>, maintenance: Option<bool>) {
        self.last_action = Some(now);
        let Some(p) = pair else { return };
        self.cause(topo, p, now);
        let members = match topo.pair(p).group {
            Some(g) => topo.group(g).members.clone(),
            None => vec![p],
        };
        for m in members {
            self.pairs[m.ix()].operator_at = Some(now);
        }
        if let Some(on) = maintenance {
            let s = &mut self.pairs[p.ix()];
            if s.maintenance != on {
                s.maintenance = on;
                s.maintenance_since = now;
            }
        }
        self.touch(topo, p);
    }

    /// Examines the pairs the step touched.
    pub fn after_step(&mut self, topo: &Topology, now: Time, world: &World) {
        if self.dirty_list.is_empty() {
            return;
        }
        let list = std::mem::take(&mut self.dirty_list);
        // Leaders first: members are judged against their leader's new state.
        for &p in &list {
            if Self::is_leader(topo, p) {
                self.eval(topo, now, world, p);
            }
        }
        for &p in &list {
            if !Self::is_leader(topo, p) {
                self.eval(topo, now, world, p);
            }
        }
        for p in list {
            self.dirty[p.ix()] = false;
        }
    }

    fn eval(&mut self, topo: &Topology, now: Time, world: &World, p: PairIx) {
        let pair = topo.pair(p);
        let apps = pair.apps;
        let hosts = [topo.app_host(apps[0]), topo.app_host(apps[1])];
        let sup = [Self::supervised(topo, world, p, 0), Self::supervised(topo, world, p, 1)];
        let vip_nic_up = |s: usize| {
            pair.vip.as_ref().is_none_or(|v| {
                topo.host(hosts[s])
                    .nic(&v.nic)
                    .is_none_or(|n| world.hosts[hosts[s].ix()].nics[n])
            })
        };
        // A flaky agent link is a fault that acts all the while it lasts (heartbeats lost
        // at any moment): what the pair does meanwhile has a cause.
        if hosts.iter().any(|h| world.hosts[h.ix()].flaky) {
            self.cause(topo, p, now);
        }
        let ctl = sup[0]
            && sup[1]
            && vip_nic_up(0)
            && vip_nic_up(1)
            && Self::actable(topo, world, now, p, 0)
            && Self::actable(topo, world, now, p, 1);
        let prim = [Self::primary(world, apps[0]), Self::primary(world, apps[1])];
        let bound = [0, 1].map(|s| {
            let h = &world.hosts[hosts[s].ix()];
            pair.vip.is_some() && h.up && h.vips.contains(&p)
        });
        let modes = [0, 1].map(|s| (Self::running(world, apps[s]), world.apps[apps[s].ix()].mode));
        let serving = self.serving_side(topo, world, p);
        let label = |s: usize| topo.app_label(apps[s]);
        let window = pair.anti_flap.window;
        let leader = Self::leader_of(topo, p);
        let leader_side = leader.and_then(|(_, l)| self.serving_side(topo, world, l));

        // Controllability, for the settle bound (a run that ends because a host is lost is
        // judged against the window it ran in).
        let settled_at = {
            let st = &mut self.pairs[p.ix()];
            let before = st.ctl_since;
            if ctl && st.ctl_since.is_none() {
                st.ctl_since = Some(now);
            } else if !ctl {
                st.ctl_since = None;
            }
            st.ctl_since.or(before).map(|t| t + self.settle)
        };

        // A switch back is no ping-pong when the pair, or a member of its group, has no
        // serving primary: it restores service (the side it left could not give it).
        let unserved = match pair.group {
            Some(g) => topo
                .group(g)
                .members
                .iter()
                .any(|m| self.pairs[m.ix()].no_serving_since.is_some()),
            None => self.pairs[p.ix()].no_serving_since.is_some(),
        };
        // Promotions and switchovers, from the world's mode changes.
        for s in 0..2 {
            let st = &self.pairs[p.ix()];
            if prim[s] && !st.prim[s] {
                let from = st.last_primary_side;
                if from == Some(1 - s) {
                    // A switchover: is it a switch back without a new cause?
                    if let Some((t0, prev_from)) = st.last_switch
                        && prev_from == s
                        && now.since(t0) < window
                        && st.last_cause.is_none_or(|c| c < t0)
                        && !unserved
                    {
                        self.ping_pong.note(format!(
                            "{} at {now}: back to {} {} after switching away at {t0}, with no new fault",
                            pair.id,
                            label(s),
                            now.since(t0)
                        ));
                        self.pairs[p.ix()].fig.ping_pongs += 1;
                    }
                    let st = &mut self.pairs[p.ix()];
                    st.history.retain(|t| now.since(*t) < window);
                    st.history.push(now);
                    st.last_switch = Some((now, 1 - s));
                    st.fig.switchovers += 1;
                }
                self.pairs[p.ix()].last_primary_side = Some(s);
                // Coherence: members follow their leader; a leader leaves its members'
                // early promotions on the wrong side.
                if let Some((_, l)) = leader {
                    let leader_prim = Self::primary(world, topo.pair(l).apps[s]);
                    self.pairs[p.ix()].early_promotion = (!leader_prim).then_some((now, s));
                    if leader_side == Some(1 - s) {
                        self.coherence_f.note(format!(
                            "{} at {now}: {} promoted while its leader {} serves on the other host",
                            pair.id,
                            label(s),
                            topo.pair(l).id
                        ));
                    }
                } else if let Some(g) = pair.group {
                    for m in topo.group(g).members.iter().skip(1) {
                        match self.pairs[m.ix()].early_promotion {
                            Some((t, ms)) if ms != s => {
                                self.coherence_f.note(format!(
                                    "{} promoted {} at {t} while its leader {} ran nowhere; the leader then went to {} at {now}: the group split",
                                    topo.pair(*m).id,
                                    topo.app_label(topo.pair(*m).apps[ms]),
                                    pair.id,
                                    label(s),
                                ));
                                self.pairs[m.ix()].early_promotion = None;
                            }
                            Some(_) => self.pairs[m.ix()].early_promotion = None,
                            None => {}
                        }
                    }
                }
            }
            // Maintenance: no mode order but the operator's.
            let st = &self.pairs[p.ix()];
            let (was_running, was_mode) = st.modes[s];
            let (is_running, mode) = modes[s];
            if st.maintenance
                && was_running
                && is_running
                && mode != was_mode
                && mode != Mode::None
                && now.since(st.maintenance_since) > topo.controller.mode_timeout
                && st
                    .operator_at
                    .is_none_or(|c| now.since(c) > topo.controller.mode_timeout.times(3))
            {
                self.maintenance_f.note(format!(
                    "{} at {now}: {} changed to {} mode while the pair was in maintenance (since {})",
                    pair.id,
                    label(s),
                    mode.as_str(),
                    st.maintenance_since
                ));
            }
        }

        // When one side alone runs as primary (a split brain ended, say), it is the pair's
        // last primary, whatever side was promoted last.
        if prim[0] != prim[1] {
            self.pairs[p.ix()].last_primary_side = Some(usize::from(prim[1]));
        }

        // The VIP moves: the old primary must have stepped down first.
        for s in 0..2 {
            let st = &self.pairs[p.ix()];
            if bound[s] && !st.bound[s] && prim[1 - s] && ctl && settled_at.is_some_and(|t| now > t) {
                self.vip_before_demotion.note(format!(
                    "{} at {now}: VIP bound on {} while {} still ran as primary",
                    pair.id,
                    topo.host(hosts[s]).id,
                    label(1 - s)
                ));
            }
        }

        // Safety: two primaries, a VIP bound twice, while both hosts are controllable.
        let two = ctl && prim[0] && prim[1];
        let dual = ctl && bound[0] && bound[1];
        let what = format!("both {} and {} primary", label(0), label(1));
        let st = &mut self.pairs[p.ix()];
        Self::interval(
            &mut st.two_prim_since,
            two,
            now,
            settled_at,
            &mut st.fig.two_primaries_ms,
            &mut self.two_primaries,
            &pair.id,
            &what,
        );
        let what = format!(
            "VIP bound on both {} and {}",
            topo.host(hosts[0]).id,
            topo.host(hosts[1]).id
        );
        let st = &mut self.pairs[p.ix()];
        Self::interval(
            &mut st.dual_vip_since,
            dual,
            now,
            settled_at,
            &mut st.fig.dual_vip_ms,
            &mut self.dual_vip,
            &pair.id,
            &what,
        );

        // A duplicate the network shows (both hosts answer ARP for the VIP: up, bound, VIP
        // NIC up), seen by a supervised holder, must be alarmed.
        let visible = pair.vip.is_some()
            && (0..2).all(|s| bound[s] && vip_nic_up(s))
            && (0..2).any(|s| sup[s] && !world.hosts[hosts[s].ix()].flaky);
        let unalarmed = visible && !self.pairs[p.ix()].dup_alarm;
        let st = &mut self.pairs[p.ix()];
        match (unalarmed, st.dup_unalarmed_since) {
            (true, None) => st.dup_unalarmed_since = Some(now),
            (false, Some(t)) => {
                st.dup_unalarmed_since = None;
                if now.since(t) > self.duplicate_alarm {
                    self.unalarmed_f.note(format!(
                        "{}: VIP answered by both {} and {} from {t} to {now} ({}, bound {}) with no duplicate-address alarm",
                        pair.id,
                        topo.host(hosts[0]).id,
                        topo.host(hosts[1]).id,
                        now.since(t),
                        self.duplicate_alarm
                    ));
                }
            }
            _ => {}
        }

        // Liveness: time without a serving primary, and the avoidable part.
        let st = &mut self.pairs[p.ix()];
        match (serving.is_none(), st.no_serving_since) {
            (true, None) => st.no_serving_since = Some(now),
            (false, Some(t)) => {
                st.fig.no_primary_ms += now.since(t).as_ms();
                st.no_serving_since = None;
            }
            _ => {}
        }
        // A running primary that clients cannot reach is a failure the controller can act on
        // only when the application watches its traffic; otherwise nothing detects it.
        let undetectable = (0..2).any(|s| {
            prim[s]
                && sup[s]
                && !(pair.failover.service_unavailable && self.unavailable[apps[s].ix()])
                && topo.app(apps[s]).traffic.is_none()
        });
        let cand = if serving.is_some() || undetectable {
            None
        } else {
            (0..2)
                .filter_map(|s| match leader {
                    Some((_, l)) => {
                        if self.pairs[p.ix()].maintenance || !self.usable(topo, world, now, p, s) {
                            None
                        } else if leader_side == Some(s) {
                            Some(now)
                        } else if leader_side == Some(1 - s) {
                            // The group should move to `s` (a member failed): the leader's gates apply.
                            self.allowed_from(topo, world, now, l, s)
                        } else {
                            None
                        }
                    }
                    None => self.allowed_from(topo, world, now, p, s),
                })
                .min()
        };
        self.avoidable_run(topo, p, now, cand);

        // Coherence: a member running on the other side than its leader while it could follow.
        if leader_side.is_some() && self.pairs[p.ix()].early_promotion.map(|(_, s)| s) == leader_side {
            self.pairs[p.ix()].early_promotion = None;
        }
        if let Some(ls) = leader_side {
            let split = prim[1 - ls] && !prim[ls] && self.usable(topo, world, now, p, ls);
            let st = &mut self.pairs[p.ix()];
            match (split, st.split_since) {
                (true, None) => st.split_since = Some(now),
                (false, Some(t)) => {
                    self.close_split(topo, p, t, now);
                }
                _ => {}
            }
        } else if let Some(t) = self.pairs[p.ix()].split_since {
            self.close_split(topo, p, t, now);
        }

        // Redundancy in the world: a serving primary, a ready backup, the VIP on one host.
        let redundant = serving.is_some_and(|s| {
            let b = apps[1 - s];
            world.apps[b.ix()].mode == Mode::Backup
                && self.ready(topo, world, b)
                && sup[1 - s]
                && sup[s]
                && (pair.vip.is_none() || (bound[s] && !bound[1 - s]))
        });
        let st = &mut self.pairs[p.ix()];
        if redundant != st.redundant {
            st.redundant = redundant;
            if redundant {
                st.redundant_since = Some(now);
            } else {
                st.redundant_since = None;
            }
        }
        st.prim = prim;
        st.bound = bound;
        st.modes = modes;
    }

    #[allow(clippy::too_many_arguments)]
    fn interval(
        since: &mut Option<Time>,
        on: bool,
        now: Time,
        settled_at: Option<Time>,
        total: &mut u64,
        findings: &mut Findings,
        pair: &str,
        what: &str,
    ) {
        match (on, *since) {
            (true, None) => *since = Some(now),
            (false, Some(t)) => {
                *total += now.since(t).as_ms();
                *since = None;
                // Tolerated only inside the settle window after the hosts came back.
                let from = settled_at.map_or(t, |s| t.max(s));
                if now > from && settled_at.is_some_and(|s| now > s) {
                    findings.note(format!("{pair}: {what} from {t} to {now} ({})", now.since(t)));
                }
            }
            _ => {}
        }
    }

    fn avoidable_run(&mut self, topo: &Topology, p: PairIx, now: Time, cand: Option<Time>) {
        let bound = self.liveness[p.ix()];
        let st = &mut self.pairs[p.ix()];
        match (cand, st.avoid_from) {
            (Some(t), None) => st.avoid_from = Some(t),
            (Some(t), Some(f)) => st.avoid_from = Some(f.min(t)),
            (None, Some(f)) => {
                st.avoid_from = None;
                let len = now.since(f);
                st.fig.avoidable_no_primary_ms += len.as_ms();
                if len > bound {
                    self.avoidable.note(format!(
                        "{}: no serving primary from {f} to {now} ({len}, bound {bound}) although a usable backup could be promoted",
                        topo.pair(p).id
                    ));
                }
            }
            (None, None) => {}
        }
    }

    fn close_split(&mut self, topo: &Topology, p: PairIx, since: Time, now: Time) {
        let st = &mut self.pairs[p.ix()];
        st.split_since = None;
        let len = now.since(since);
        st.fig.group_split_ms += len.as_ms();
        if len > self.coherence {
            self.coherence_f.note(format!(
                "{}: on the other side than its leader from {since} to {now} ({len}, bound {}) although it could follow",
                topo.pair(p).id,
                self.coherence
            ));
        }
    }
}
