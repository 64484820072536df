//! The invariants every drill is graded on, checked after every step:
//! 1. once both hosts of a pair are reachable, at most one primary and the VIP on exactly
//!    the primary's host, within one reconcile interval;
//! 2. after the last fault heals, every pair is back to redundancy OK within a stated bound;
//! 3. a group switchover runs VIP control exactly once per host;
//! 4. no automatic switchover to a backup that reported itself not ready;
//! 5. every event of an incident carries the incident's correlation id;
//! 6. no correlation id is handed out again by a restarted controller (it names one
//!    incident for good: the journal, alarm reactions and operators rely on it).
//!
//! The checker watches the simulated truth (the world), the engines' inputs, commands and
//! events; it never asks the engine whether it did well.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use serde::Serialize;

use super::world::World;
use crate::engine::{
    AppReport, Command, Correlation, Engine, Entity, Event, EventId, HostIx, Input, PairIx, Redundancy, Span, Time,
    Topology, VipReason,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// One injected fault and how the deployment answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub at: Time,
    pub detected: Option<Time>,
    pub restored: Option<Time>,
}

const MAX_NOTED: usize = 5;

pub struct Checker {
    tolerance: Span,
    pub recovery_bound: Span,
    dirty: Vec<bool>,
    dirty_list: Vec<PairIx>,
    /// An open placement violation per pair: since when, and whether it was reported.
    violation: Vec<Option<(Time, bool)>>,
    /// When an open violation outlives the tolerance: it is looked at again then (the
    /// drill marks every pair whose world changes, so nothing else needs a re-scan).
    deadlines: BinaryHeap<Reverse<(Time, PairIx)>>,
    placement: Vec<String>,
    placement_count: usize,
    not_ready: Vec<bool>,
    readiness: Vec<String>,
    vip_cmds: BTreeMap<(Correlation, u32, PairIx, HostIx, bool), u32>,
    group_episode: BTreeMap<Correlation, u32>,
    /// Group switchover episodes (correlation, number) and their leader pair; an episode
    /// is closed when one of its hosts is lost: VIP control after that has a new cause.
    episode_leader: BTreeMap<(Correlation, u32), PairIx>,
    closed_episodes: BTreeSet<(Correlation, u32)>,
    corr_open: Vec<Option<Correlation>>,
    corr_expect_vip: Vec<Option<Correlation>>,
    correlation: Vec<String>,
    correlation_count: usize,
    /// Per site, how many times its controller started; per correlation, in which of its
    /// site's controller lives it first appeared.
    incarnation: Vec<u32>,
    corr_life: std::collections::HashMap<Correlation, u32>,
    reused: Vec<String>,
    reused_count: usize,
    ok: Vec<bool>,
    ok_since: Vec<Option<Time>>,
    not_ok: usize,
    pub last_action: Option<Time>,
    pub active_faults: i64,
    pub incidents: Vec<Incident>,
    pub operator_actions: Vec<Time>,
}

fn note(list: &mut Vec<String>, count: &mut usize, text: String) {
    *count += 1;
    if list.len() < MAX_NOTED {
        list.push(text);
    }
}

impl Checker {
    pub fn new(topo: &Topology) -> Checker {
        let n = topo.pairs.len();
        let c = &topo.controller;
        let max_restart = topo.apps.iter().map(|a| a.restart_delay).max().unwrap_or(Span::ZERO);
        Checker {
            tolerance: c.reconcile_interval,
            recovery_bound: max_restart + c.heartbeat_timeout.times(2) + c.mode_timeout.times(2) + Span::secs(30),
            dirty: vec![false; n],
            dirty_list: Vec::new(),
            violation: vec![None; n],
            deadlines: BinaryHeap::new(),
            placement: Vec::new(),
            placement_count: 0,
            not_ready: vec![false; topo.apps.len()],
            readiness: Vec::new(),
            vip_cmds: BTreeMap::new(),
            group_episode: BTreeMap::new(),
            episode_leader: BTreeMap::new(),
            closed_episodes: BTreeSet::new(),
            corr_open: vec![None; n],
            corr_expect_vip: vec![None; n],
            correlation: Vec::new(),
            correlation_count: 0,
            incarnation: vec![0; topo.sites.len()],
            corr_life: std::collections::HashMap::new(),
            reused: Vec::new(),
            reused_count: 0,
            ok: vec![false; n],
            ok_since: vec![None; n],
            not_ok: n,
            last_action: None,
            active_faults: 0,
            incidents: Vec::new(),
            operator_actions: Vec::new(),
        }
    }

    /// The world of pair `p` changed (the drill calls this for every change it makes).
    pub fn touch_pair(&mut self, p: PairIx) {
        self.touch(p);
    }

    fn touch(&mut self, p: PairIx) {
        if !self.dirty[p.ix()] {
            self.dirty[p.ix()] = true;
            self.dirty_list.push(p);
        }
    }

    fn touch_entity(&mut self, topo: &Topology, e: &Entity) {
        match e {
            Entity::Pair(p) => self.touch(*p),
            Entity::App(a) => {
                if let Some(p) = topo.app(*a).pair {
                    self.touch(p)
                }
            }
            Entity::Host(h) => {
                for a in &topo.host(*h).apps {
                    if let Some(p) = topo.app(*a).pair {
                        self.touch(p)
                    }
                }
            }
            Entity::Group(g) => {
                for p in &topo.group(*g).members {
                    self.touch(*p)
                }
            }
            _ => {}
        }
    }

    pub fn on_fault(&mut self, now: Time, one_shot: bool) {
        self.last_action = Some(now);
        if !one_shot {
            self.active_faults += 1;
        }
        self.incidents.push(Incident {
            at: now,
            detected: None,
            restored: None,
        });
        self.dirty_all();
    }

    pub fn on_heal(&mut self, now: Time) {
        self.last_action = Some(now);
        self.active_faults -= 1;
        self.dirty_all();
    }

    pub fn on_operator(&mut self, now: Time) {
        self.last_action = Some(now);
        self.operator_actions.push(now);
        self.dirty_all();
    }

    fn dirty_all(&mut self) {
        for i in 0..self.dirty.len() {
            self.touch(PairIx(i as u32));
        }
    }

    /// An input reaches an engine: the pairs it is about are examined again after the step
    /// (a pair can become OK without any event, e.g. a backup's checks passing).
    pub fn on_input(&mut self, topo: &Topology, input: &Input) {
        match input {
            Input::AppState { app, .. } | Input::ModeReport { app, .. } | Input::Announced { app } => {
                self.touch_entity(topo, &Entity::App(*app))
            }
            Input::VipState { pair, .. } | Input::VipResult { pair, .. } | Input::VipElsewhere { pair, .. } => {
                self.touch(*pair)
            }
            Input::NicState { host, .. } => self.touch_entity(topo, &Entity::Host(*host)),
            Input::Start | Input::Heartbeat { .. } | Input::ScriptResult { .. } | Input::PeerProbe { .. } => {}
        }
        if let Input::AppState { app, report } = input {
            self.not_ready[app.ix()] = matches!(
                report,
                AppReport::ServiceUnavailable { .. } | AppReport::ProbeFailed { .. } | AppReport::Starting
            );
        }
    }

    pub fn on_command(&mut self, topo: &Topology, _now: Time, c: &Command) {
        if let Command::Vip {
            host,
            pair,
            enable,
            reason: VipReason::Placement,
            correlation: Some(corr),
        } = c
            && topo.pair(*pair).group.is_some()
        {
            let episode = self.group_episode.get(corr).copied().unwrap_or(0);
            if episode == 0 || self.closed_episodes.contains(&(*corr, episode)) {
                return;
            }
            *self
                .vip_cmds
                .entry((*corr, episode, *pair, *host, *enable))
                .or_default() += 1;
        }
    }

    pub fn on_event(&mut self, topo: &Topology, e: &Event) {
        self.touch_entity(topo, &e.subject);
        self.touch_entity(topo, &e.source);
        use EventId::*;
        if matches!(
            e.id,
            AppTerminated | AppUnavailable | AgentLost | PeerUnreachable | PeerLinkOutOfService
        ) {
            for i in self
                .incidents
                .iter_mut()
                .filter(|i| i.detected.is_none() && i.at <= e.t)
            {
                i.detected = Some(e.t);
            }
        }
        if let (EventId::ControllerStarted, Entity::Site(s)) = (e.id, &e.subject) {
            self.incarnation[s.ix()] += 1;
        }
        if let Some(c) = e.correlation {
            let life = self.incarnation[c.site.ix()];
            let first = *self.corr_life.entry(c).or_insert(life);
            if first != life {
                note(
                    &mut self.reused,
                    &mut self.reused_count,
                    format!(
                        "{} of a restarted controller reuses {} (first used before the restart)",
                        e.id.code(),
                        topo.correlation_label(c)
                    ),
                );
            }
        }
        if let (EventId::ControllerStarted, Entity::Site(s)) = (e.id, &e.subject) {
            for p in topo.pair_ixs().filter(|p| topo.pair(*p).site == *s) {
                self.corr_open[p.ix()] = None;
                self.corr_expect_vip[p.ix()] = None;
            }
            // Episodes of the old controller are over: the new one does not carry them on.
            self.vip_cmds.retain(|k, _| k.0.site != *s);
            self.group_episode.retain(|c, _| c.site != *s);
            self.episode_leader.retain(|k, _| k.0.site != *s);
            self.closed_episodes.retain(|k| k.0.site != *s);
        }
        if let (EventId::AgentLost, Entity::Host(h)) = (e.id, &e.subject) {
            for (key, leader) in &self.episode_leader {
                if topo.pair(*leader).apps.iter().any(|a| topo.app_host(*a) == *h) {
                    self.closed_episodes.insert(*key);
                }
            }
        }
        let needs_correlation = matches!(
            e.id,
            ModePrimary
                | ModeBackup
                | AnnouncedPrimary
                | AppTerminated
                | AppUnavailable
                | AgentLost
                | NoBrain
                | SplitBrain
                | PairNormal
                | SwitchoverRequested
                | SwitchoverPlanned
                | SwitchoverCompleted
                | SwitchoverFailed
                | SwitchoverRefused
                | VipEnabled
                | VipDisabled
                | VipControlFailed
                | VipStateUnknown
                | VipDuplicate
                | VipDuplicateResolved
                | ScriptStarted
                | ScriptSucceeded
                | ScriptFailed
                | ScriptTimedOut
                | RedundancyLost
                | RedundancyRestored
                | BackupNotReady
                | OperatorCommand
        );
        let label = |e: &Event| {
            format!(
                "{} {} at {} ({})",
                e.id.code(),
                topo.entity_label(&e.subject),
                e.t,
                e.message
            )
        };
        if needs_correlation && e.correlation.is_none() {
            note(
                &mut self.correlation,
                &mut self.correlation_count,
                format!("{} carries no correlation id", label(e)),
            );
        }
        let Entity::Pair(p) = e.subject else { return };
        match e.id {
            SwitchoverRequested => {
                self.corr_open[p.ix()] = e.correlation;
                self.corr_expect_vip[p.ix()] = None;
                if let Some(c) = e.correlation
                    && topo.pair(p).group.is_some_and(|g| topo.group(g).leader == p)
                {
                    let n = self.group_episode.entry(c).or_default();
                    *n += 1;
                    self.episode_leader.insert((c, *n), p);
                }
                if e.attr("kind") == Some("automatic")
                    && let Some(to) = e.attr("to")
                    && let Some(app) = topo.pair(p).apps.iter().find(|a| topo.app_label(**a) == to)
                    && self.not_ready[app.ix()]
                {
                    self.readiness.push(format!(
                        "{} at {}: automatic switchover to {to}, which reported itself not ready",
                        topo.pair(p).id,
                        e.t
                    ));
                }
            }
            SwitchoverCompleted => {
                self.corr_open[p.ix()] = None;
                self.corr_expect_vip[p.ix()] = e.correlation;
            }
            SwitchoverFailed => self.corr_open[p.ix()] = None,
            VipEnabled => {
                if let Some(c) = self.corr_expect_vip[p.ix()].take()
                    && e.correlation != Some(c)
                {
                    note(
                        &mut self.correlation,
                        &mut self.correlation_count,
                        format!(
                            "{} does not carry the correlation {} of the switchover that moved it",
                            label(e),
                            topo.correlation_label(c)
                        ),
                    );
                }
            }
            _ => {}
        }
        // Drill events (endpoint populations moving) are the simulated world's, not the
        // controller's: they carry no correlation and may concern another site's incident.
        if let Some(c) = self.corr_open[p.ix()]
            && !matches!(e.id, OperatorCommand | SwitchoverRefused)
            && e.source != Entity::Drill
            && e.correlation != Some(c)
        {
            note(
                &mut self.correlation,
                &mut self.correlation_count,
                format!(
                    "{} happened during switchover {} but carries another correlation",
                    label(e),
                    topo.correlation_label(c)
                ),
            );
        }
    }

    /// Whether the pair's two hosts can act: mode hooks answering, powered, agent connected over a healthy link
    /// (a flaky one is a partial partition: the controller cannot tell it from a lost
    /// host), NICs up, site up.
    fn reachable(topo: &Topology, world: &World, engines: &[Option<Engine>], p: PairIx, now: Time) -> bool {
        let pair = topo.pair(p);
        if engines[pair.site.ix()].is_none() || !world.sites_up[pair.site.ix()] {
            return false;
        }
        pair.apps.iter().all(|a| {
            if world.apps[a.ix()].hook_hung || now < world.apps[a.ix()].hook_grace_until {
                return false; // it cannot change mode: only fencing ends its state
            }
            let h = topo.app_host(*a);
            let sh = &world.hosts[h.ix()];
            let th = topo.host(h);
            let vip_nic = pair
                .vip
                .as_ref()
                .and_then(|v| th.nic(&v.nic))
                .is_none_or(|n| sh.nics[n]);
            sh.up && !sh.disconnected && !sh.flaky && sh.nics[th.management_nic] && vip_nic
        })
    }

    /// Whether the pair breaks the placement invariant now (cheap: no formatting).
    fn placement_bad(topo: &Topology, world: &World, p: PairIx) -> bool {
        let pair = topo.pair(p);
        let prim = |a: &crate::engine::AppIx| {
            let x = &world.apps[a.ix()];
            x.proc == super::world::Proc::Running && x.mode == crate::engine::Mode::Primary
        };
        let n = pair.apps.iter().filter(|a| prim(a)).count();
        if n >= 2 {
            return true;
        }
        let Some(a) = pair.apps.iter().find(|a| prim(a)) else {
            return false;
        };
        if pair.vip.is_none() {
            return false;
        }
        let want = topo.app_host(*a);
        pair.apps.iter().map(|x| topo.app_host(*x)).any(|h| {
            let sh = &world.hosts[h.ix()];
            let bound = sh.up && sh.vips.contains(&p);
            bound != (h == want)
        })
    }

    fn placement_problem(topo: &Topology, world: &World, p: PairIx) -> String {
        let primaries = world.primaries(topo, p);
        match primaries.as_slice() {
            [a, b, ..] => format!("two primaries: {} and {}", topo.app_label(*a), topo.app_label(*b)),
            [a] => {
                let holders = world.vip_holders(topo, p);
                let names: Vec<&str> = holders.iter().map(|h| topo.host(*h).id.as_str()).collect();
                format!(
                    "VIP bound on [{}] while the primary is {}",
                    names.join(", "),
                    topo.app_label(*a)
                )
            }
            [] => "no primary".into(),
        }
    }

    pub fn after_step(&mut self, topo: &Topology, now: Time, world: &World, engines: &[Option<Engine>]) {
        let mut list = std::mem::take(&mut self.dirty_list);
        while let Some(Reverse((t, p))) = self.deadlines.peek().copied() {
            if t >= now {
                break;
            }
            self.deadlines.pop();
            list.push(p);
        }
        for p in list {
            self.dirty[p.ix()] = false;
            let bad = Self::reachable(topo, world, engines, p, now) && Self::placement_bad(topo, world, p);
            match (bad, &mut self.violation[p.ix()]) {
                (true, slot @ None) => {
                    *slot = Some((now, false));
                    self.deadlines.push(Reverse((now + self.tolerance, p)));
                }
                (true, Some((since, reported))) => {
                    if now.since(*since) > self.tolerance && !*reported {
                        *reported = true;
                        let since = *since;
                        let d = Self::placement_problem(topo, world, p);
                        let text = format!("{} at {}: {d} for more than {}", topo.pair(p).id, since, self.tolerance);
                        note(&mut self.placement, &mut self.placement_count, text);
                    }
                }
                (false, slot) => *slot = None,
            }
            let site = topo.pair(p).site;
            let ok = engines[site.ix()]
                .as_ref()
                .is_some_and(|e| e.pair(p).redundancy == Redundancy::Ok);
            if ok != self.ok[p.ix()] {
                self.ok[p.ix()] = ok;
                if ok {
                    self.not_ok -= 1;
                    self.ok_since[p.ix()] = Some(now);
                    // Placement is done: a later VIP move has a cause of its own.
                    self.corr_expect_vip[p.ix()] = None;
                } else {
                    self.not_ok += 1;
                    self.ok_since[p.ix()] = None;
                }
                if self.not_ok == 0 {
                    for i in self
                        .incidents
                        .iter_mut()
                        .filter(|i| i.restored.is_none() && i.at <= now)
                    {
                        i.restored = Some(now);
                    }
                }
            }
        }
    }

    /// The five invariant checks, as of now.
    pub fn results(&self, topo: &Topology, now: Time) -> Vec<CheckResult> {
        let mut out = Vec::new();
        let more = |n: usize, list: &[String]| {
            let mut s = list.join("; ");
            if n > list.len() {
                s.push_str(&format!("; and {} more", n - list.len()));
            }
            s
        };
        out.push(CheckResult {
            name: "one primary, VIP on the primary's host".into(),
            passed: self.placement_count == 0,
            detail: if self.placement_count == 0 {
                format!(
                    "held whenever both hosts of a pair were reachable (tolerance {})",
                    self.tolerance
                )
            } else {
                more(self.placement_count, &self.placement)
            },
        });
        out.push(self.recovery_result(topo, now));
        let dup: Vec<String> = self
            .vip_cmds
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|((c, _, p, h, en), n)| {
                format!(
                    "{}: VIP {} {n} times on {} for {}",
                    topo.correlation_label(*c),
                    if *en { "enabled" } else { "disabled" },
                    topo.host(*h).id,
                    topo.pair(*p).id
                )
            })
            .collect();
        let episodes: u32 = self.group_episode.values().sum();
        out.push(CheckResult {
            name: "group switchover runs VIP control once per host".into(),
            passed: dup.is_empty(),
            detail: if dup.is_empty() {
                format!("{episodes} group switchovers, VIP control at most once per host each")
            } else {
                dup.join("; ")
            },
        });
        out.push(CheckResult {
            name: "no automatic switchover to a backup that is not ready".into(),
            passed: self.readiness.is_empty(),
            detail: if self.readiness.is_empty() {
                "held".into()
            } else {
                self.readiness.join("; ")
            },
        });
        out.push(CheckResult {
            name: "every event of an incident carries its correlation id".into(),
            passed: self.correlation_count == 0,
            detail: if self.correlation_count == 0 {
                "held".into()
            } else {
                more(self.correlation_count, &self.correlation)
            },
        });
        out.push(CheckResult {
            name: "no correlation id reused after a controller restart".into(),
            passed: self.reused_count == 0,
            detail: if self.reused_count == 0 {
                "held".into()
            } else {
                more(self.reused_count, &self.reused)
            },
        });
        out
    }

    fn recovery_result(&self, topo: &Topology, now: Time) -> CheckResult {
        let name = format!(
            "redundancy OK within {} of the last fault or action",
            self.recovery_bound
        );
        let Some(last) = self.last_action else {
            let late: Vec<&str> = (0..self.ok.len())
                .filter(|i| !self.ok[*i])
                .map(|i| topo.pairs[i].id.as_str())
                .collect();
            return CheckResult {
                name,
                passed: late.is_empty() || now < Time(self.recovery_bound.as_ms()),
                detail: if late.is_empty() {
                    "no fault injected; every pair OK".into()
                } else {
                    format!("not OK: {}", late.join(", "))
                },
            };
        };
        if self.active_faults > 0 {
            return CheckResult {
                name,
                passed: true,
                detail: format!("not applicable yet: {} faults still active", self.active_faults),
            };
        }
        let deadline = last + self.recovery_bound;
        if now < deadline {
            let late: Vec<&str> = (0..self.ok.len())
                .filter(|i| !self.ok[*i])
                .map(|i| topo.pairs[i].id.as_str())
                .collect();
            return CheckResult {
                name,
                passed: true,
                detail: format!(
                    "not applicable yet: the bound ends at {deadline}{}",
                    if late.is_empty() {
                        String::new()
                    } else {
                        format!(" (still settling: {})", late.join(", "))
                    }
                ),
            };
        }
        let late: Vec<String> = (0..self.ok.len())
            .filter(|i| self.ok_since[*i].is_none_or(|t| t > deadline))
            .map(|i| {
                let p = &topo.pairs[i];
                match self.ok_since[i] {
                    Some(t) => format!("{} OK only at {t}", p.id),
                    None => format!("{} still not OK", p.id),
                }
            })
            .collect();
        let slowest = (0..self.ok.len())
            .filter_map(|i| self.ok_since[i])
            .max()
            .map(|t| t.since(last));
        CheckResult {
            name,
            passed: late.is_empty(),
            detail: if late.is_empty() {
                format!(
                    "every pair OK {} after the last action at {last}",
                    slowest.unwrap_or(Span::ZERO)
                )
            } else {
                late.join("; ")
            },
        }
    }
}
