//! Pair state: what each instance runs as, which one the controller wants primary, and the
//! level-triggered reconciliation that keeps exactly one primary: mode assignment on
//! (re)start, split-brain (20622) and no-brain (20621) detection and repair, back to
//! normal (20623), redundancy, anti-flap (10327/10328) and maintenance.

use super::host::Failure;
use super::timer::TimerKey;
use super::*;

/// The mode an application runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Not set yet (just started) or not running.
    #[default]
    None,
    Primary,
    Backup,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Primary => "primary",
            Mode::Backup => "backup",
        }
    }
}

/// The process state of an application, as its agent last reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppStatus {
    /// Never reported, or its agent is unreachable.
    #[default]
    Unknown,
    Up,
    /// Running but unavailable: failed probe or SERVICE_UNAVAILABLE.
    Unavailable,
    Down,
    /// Running, its start-up checks (W6) not finished: not ready yet, not a failure.
    Starting,
}

impl AppStatus {
    pub fn is_known(self) -> bool {
        self != AppStatus::Unknown
    }
    pub fn is_running(self) -> bool {
        matches!(self, AppStatus::Up | AppStatus::Unavailable | AppStatus::Starting)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AppStatus::Unknown => "unknown",
            AppStatus::Up => "up",
            AppStatus::Unavailable => "unavailable",
            AppStatus::Down => "down",
            AppStatus::Starting => "starting",
        }
    }
}

/// What the controller knows of one application.
#[derive(Clone, Debug, Default)]
pub struct AppRt {
    pub status: AppStatus,
    pub mode: Mode,
    /// It announced (4563) that it runs as primary since it last became primary.
    pub announced: bool,
    /// A mode order in flight, and when it was sent.
    pub ordered: Option<(Mode, Time)>,
    /// Why it is down or unavailable.
    pub detail: String,
    /// Its agent was lost: `mode` is the last known one until the agent reports it again.
    pub stale: bool,
    /// The kind of its current failure while it is down or unavailable.
    pub failure: Option<Failure>,
    /// The controller ordered it stopped (fencing a primary that did not demote): its exit
    /// is expected, and it is started again once the pair is safe.
    pub fenced: bool,
    /// Its mode order is the start-up assignment: the mode event fires no alarm condition.
    pub assigning: bool,
    /// Its agent reported its mode at least once since this controller started: a first
    /// report is learned (a restarted controller), not a change to log.
    pub mode_known: bool,
    /// Its current mode was learned that way (until it changes).
    pub mode_learned: bool,
    /// Mode orders to it that timed out in a row.
    pub order_timeouts: u32,
}

impl AppRt {
    pub fn is_known_primary(&self) -> bool {
        self.status.is_running() && self.mode == Mode::Primary && !self.stale
    }

    /// A known primary that also reports itself healthy: it serves.
    pub fn is_serving_primary(&self) -> bool {
        self.is_known_primary() && self.status == AppStatus::Up
    }
}

/// The last primary-count condition reported for a pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Brain {
    #[default]
    Normal,
    NoBrain,
    SplitBrain,
}

/// How redundant a pair is, worst last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Redundancy {
    Ok,
    Maintenance,
    /// One primary and a backup, but something is settling: a switchover, a backup taking
    /// its mode, a VIP not yet where it belongs.
    Degraded,
    BackupNotReady,
    NoBackup,
    #[default]
    NoPrimary,
    SplitBrain,
}

impl Redundancy {
    pub fn rank(self) -> u8 {
        self as u8
    }
    /// A state that counts as lost redundancy (events HC-1500 / HC-1501).
    pub fn is_lost(self) -> bool {
        matches!(
            self,
            Redundancy::BackupNotReady | Redundancy::NoBackup | Redundancy::NoPrimary | Redundancy::SplitBrain
        )
    }
    pub fn label(self) -> &'static str {
        match self {
            Redundancy::Ok => "OK",
            Redundancy::Maintenance => "MAINTENANCE",
            Redundancy::Degraded => "DEGRADED",
            Redundancy::BackupNotReady => "BACKUP NOT READY",
            Redundancy::NoBackup => "NO BACKUP",
            Redundancy::NoPrimary => "NO PRIMARY",
            Redundancy::SplitBrain => "SPLIT BRAIN",
        }
    }
}

/// What the controller knows and wants of one pair.
#[derive(Clone, Debug, Default)]
pub struct PairRt {
    /// The side (index into the pair's apps) the controller wants primary.
    pub active: usize,
    pub switchover: Option<Switchover>,
    pub maintenance: bool,
    /// Completion times of the switchovers inside the anti-flap window.
    pub history: Vec<Time>,
    pub flapping: bool,
    pub last_switchover: Option<Time>,
    /// The open incident: every event about the pair carries it until redundancy is OK.
    pub incident: Option<Correlation>,
    pub brain: Brain,
    pub redundancy: Redundancy,
    pub was_ok: bool,
    pub lost: bool,
    pub backup_not_ready: bool,
    /// The last refusal of an automatic switchover, so it is logged once per incident.
    pub refused: Option<(Option<Correlation>, String)>,
    /// Automatic switchovers that failed in a row, and per side when the next one to that
    /// side may start (the other side, e.g. the old primary, may be tried at once).
    pub failed_attempts: u32,
    pub retry_after: [Time; 2],
    /// An operator's switchover of a pair in maintenance: the VIP follows it even so.
    pub operator_vip: bool,
    pub vip: VipRt,
}

impl Engine {
    /// Runs as primary, and has announced it (when it is an application that announces).
    pub(crate) fn confirmed_primary(&self, app: AppIx) -> bool {
        let a = &self.apps[app.ix()];
        a.is_known_primary() && (a.announced || !self.topo.app(app).announces_primary)
    }

    /// The application of `pair` on `side`.
    pub(crate) fn side_app(&self, pair: PairIx, side: usize) -> AppIx {
        self.topo.pair(pair).apps[side]
    }

    /// Orders an application into a mode unless the same order is already in flight.
    pub(crate) fn order_mode(&mut self, app: AppIx, mode: Mode, corr: Option<Correlation>) {
        if self.apps[app.ix()].ordered.is_some_and(|(m, _)| m == mode) {
            return;
        }
        self.apps[app.ix()].ordered = Some((mode, self.now));
        self.timers
            .set(TimerKey::ModeOrder(app), self.now + self.topo.controller.mode_timeout);
        let host = self.topo.app_host(app);
        self.command(Command::SetMode {
            host,
            app,
            mode,
            correlation: corr,
        });
    }

    pub(crate) fn on_mode_order_timer(&mut self, app: AppIx) {
        self.apps[app.ix()].ordered = None;
        self.apps[app.ix()].order_timeouts += 1;
        if let Some(p) = self.topo.app(app).pair {
            self.mark_pair(p);
        }
    }

    /// An application failed: decide whether its pair (or group) switches over.
    pub(crate) fn app_failed(&mut self, app: AppIx, failure: Failure, corr: Correlation) {
        let Some(p) = self.topo.app(app).pair else {
            return; // a standalone application has no reaction
        };
        if !self.owns_pair(p) {
            return;
        }
        let side = self.topo.side_of(p, app);
        let pr = &mut self.pairs[p.ix()];
        pr.incident.get_or_insert(corr);
        if pr.switchover.is_some() {
            self.switchover_app_failed(p, side);
            return;
        }
        if side != pr.active || pr.maintenance {
            return;
        }
        if !failure.triggers(&self.topo.pair(p).failover) {
            return;
        }
        let corr = pr.incident.unwrap_or(corr);
        let cause = Cause::Failure(format!("{} {}", self.topo.app_label(app), failure.describe()));
        #[cfg(test)]
        if self.sabotage.members_decide_alone {
            self.auto_switchover(p, 1 - side, cause, corr);
            return;
        }
        match self.topo.pair(p).group {
            Some(g) if self.topo.group(g).leader != p => self.group_member_failed(g, p, side, cause, corr),
            _ => {
                self.auto_switchover(p, 1 - side, cause, corr);
            }
        }
    }

    /// Level-triggered: brings the pair's modes to one serving primary (the active side)
    /// and one backup, whatever edges were missed. Called on every input that touches the
    /// pair and on every recheck, so a recovery that was refused (an unreachable agent, an
    /// anti-flap hold, a backup not ready yet) is tried again as soon as the obstacle goes.
    pub(crate) fn reconcile_pair(&mut self, p: PairIx) {
        if !self.owns_pair(p) {
            return;
        }
        let pr = &self.pairs[p.ix()];
        if pr.switchover.is_some() || pr.maintenance {
            return;
        }
        let apps = self.topo.pair(p).apps;
        let rt = [self.apps[apps[0].ix()].clone(), self.apps[apps[1].ix()].clone()];
        // A reconnected agent's report is on its way: act on facts, not on stale modes (or,
        // for a running instance this controller never heard the mode of, on no mode).
        if (0..2).any(|s| {
            let connected = self.hosts[self.topo.app_host(apps[s]).ix()].connected;
            connected && (rt[s].stale || (rt[s].status.is_running() && !rt[s].mode_known))
        }) {
            return;
        }
        self.restart_fenced(p);
        let primaries: Vec<usize> = (0..2).filter(|s| rt[*s].is_known_primary()).collect();
        match primaries.as_slice() {
            [_, _] => self.split_brain(p),
            [s] => {
                let s = *s;
                self.pairs[p.ix()].active = s;
                let o = 1 - s;
                if rt[o].status.is_running() && rt[o].mode == Mode::None {
                    #[cfg(test)]
                    if self.sabotage.forget_restarted_backup {
                        return;
                    }
                    let corr = self.pair_incident(p);
                    self.order_mode(apps[o], Mode::Backup, Some(corr));
                }
                if rt[s].status == AppStatus::Unavailable {
                    self.primary_unhealthy(p, s);
                    return;
                }
                if self.vip_nic_down(p, s).is_some() && self.topo.app(apps[s]).traffic.is_none() {
                    // Its clients cannot reach it, and no traffic watch will say so (W4's
                    // watch does, for the applications that have one): the NIC state does.
                    self.vip_nic_lost(p, s);
                    return;
                }
                let normal = rt[o].status.is_running() && rt[o].mode == Mode::Backup;
                if normal && self.pairs[p.ix()].brain != Brain::Normal {
                    self.pairs[p.ix()].brain = Brain::Normal;
                    let corr = self.pairs[p.ix()].incident;
                    self.emit(
                        EventId::PairNormal,
                        Entity::Pair(p),
                        Entity::Pair(p),
                        corr,
                        format!(
                            "pair {} back to normal: {} primary, {} backup",
                            self.topo.pair(p).id,
                            self.topo.app_label(apps[s]),
                            self.topo.app_label(apps[o])
                        ),
                    );
                }
            }
            _ => self.no_primary(p, &rt),
        }
    }

    /// The pair's open incident, or a new one: every repair the controller orders belongs
    /// to an incident.
    pub(crate) fn pair_incident(&mut self, p: PairIx) -> Correlation {
        match self.pairs[p.ix()].incident {
            Some(c) => c,
            None => {
                let c = self.new_correlation();
                self.pairs[p.ix()].incident = Some(c);
                c
            }
        }
    }

    /// Whether `p` is a group member other than the leader.
    pub(crate) fn is_member(&self, p: PairIx) -> bool {
        self.topo.pair(p).group.is_some_and(|g| self.topo.group(g).leader != p)
    }

    /// For a member: the side its leader serves on, once the leader's primary is confirmed
    /// and no leader switchover is in flight. `None` while the leader is undecided.
    pub(crate) fn leader_side(&self, p: PairIx) -> Option<usize> {
        let g = self.topo.pair(p).group?;
        let leader = self.topo.group(g).leader;
        let lr = &self.pairs[leader.ix()];
        (!self.deciding(leader) && self.confirmed_primary(self.side_app(leader, lr.active))).then_some(lr.active)
    }

    /// Starts again an instance the controller stopped to fence it, once nothing is in
    /// flight: it comes back with no mode and is assigned backup.
    fn restart_fenced(&mut self, p: PairIx) {
        for app in self.topo.pair(p).apps {
            let a = &self.apps[app.ix()];
            let host = self.topo.app_host(app);
            if a.fenced && a.status == AppStatus::Down && self.hosts[host.ix()].connected {
                self.apps[app.ix()].fenced = false;
                let correlation = self.pairs[p.ix()].incident;
                self.command(Command::Start { host, app, correlation });
            }
        }
    }

    /// The primary's VIP NIC is down: fail over like a SERVICE_UNAVAILABLE (when the
    /// pair's triggers include it) to an instance whose VIP NIC is up.
    fn vip_nic_lost(&mut self, p: PairIx, s: usize) {
        if !self.topo.pair(p).failover.service_unavailable {
            return;
        }
        let app = self.side_app(p, s);
        let corr = self.pair_incident(p);
        let nic = self.vip_nic_down(p, s).unwrap_or_default();
        let cause = Cause::Failure(format!("the VIP NIC {nic} of {} is down", self.topo.app_label(app)));
        match self.topo.pair(p).group {
            Some(g) if self.is_member(p) => self.group_member_failed(g, p, s, cause, corr),
            _ => {
                self.auto_switchover(p, 1 - s, cause, corr);
            }
        }
    }

    /// The only primary runs but reports itself unavailable (failed probe or
    /// SERVICE_UNAVAILABLE): fail over when the pair's triggers say so and a backup can
    /// take over; otherwise the pair shows NO PRIMARY and waits (the refusal is logged).
    fn primary_unhealthy(&mut self, p: PairIx, s: usize) {
        let app = self.side_app(p, s);
        let Some(failure) = self.apps[app.ix()].failure else {
            return;
        };
        if !failure.triggers(&self.topo.pair(p).failover) {
            return;
        }
        let corr = self.pair_incident(p);
        let cause = Cause::Failure(format!("{} {}", self.topo.app_label(app), failure.describe()));
        match self.topo.pair(p).group {
            Some(g) if self.is_member(p) => self.group_member_failed(g, p, s, cause, corr),
            _ => {
                self.auto_switchover(p, 1 - s, cause, corr);
            }
        }
    }

    fn split_brain(&mut self, p: PairIx) {
        let apps = self.topo.pair(p).apps;
        if self.pairs[p.ix()].brain != Brain::SplitBrain {
            let corr = match self.pairs[p.ix()].incident {
                Some(c) => c,
                None => self.new_correlation(),
            };
            let pr = &mut self.pairs[p.ix()];
            pr.brain = Brain::SplitBrain;
            pr.incident = Some(corr);
            self.emit(
                EventId::SplitBrain,
                Entity::Pair(p),
                Entity::Pair(p),
                Some(corr),
                format!(
                    "pair {} has two primaries: {} and {}",
                    self.topo.pair(p).id,
                    self.topo.app_label(apps[0]),
                    self.topo.app_label(apps[1])
                ),
            );
        }
        #[cfg(test)]
        if self.sabotage.leave_split_brain {
            return;
        }
        // The side the controller did not choose (the one that came back) steps down; in a
        // group, the side the leader runs on stays.
        if let Some(g) = self.topo.pair(p).group {
            let leader = self.topo.group(g).leader;
            let side = self.pairs[leader.ix()].active;
            if leader != p && self.confirmed_primary(self.side_app(leader, side)) {
                self.pairs[p.ix()].active = side;
            }
        }
        let demote = 1 - self.pairs[p.ix()].active;
        let corr = self.pairs[p.ix()].incident;
        let app = apps[demote];
        if self.apps[app.ix()].order_timeouts > 0 && !self.apps[app.ix()].fenced {
            // It did not demote within the mode timeout: stop it, as a switchover would.
            let host = self.topo.app_host(app);
            let label = self.topo.app_label(app);
            self.emit_with(
                EventId::PrimaryFenced,
                Entity::Pair(p),
                Entity::Pair(p),
                corr,
                format!(
                    "{label} did not confirm backup mode within {}: stopping it to end the split brain",
                    self.topo.controller.mode_timeout
                ),
                vec![("app", label.clone())],
            );
            self.apps[app.ix()].fenced = true;
            self.command(Command::Stop {
                host,
                app,
                correlation: corr,
            });
            return;
        }
        if !self.apps[app.ix()].fenced {
            self.order_mode(app, Mode::Backup, corr);
        }
    }

    fn no_primary(&mut self, p: PairIx, rt: &[AppRt; 2]) {
        let apps = self.topo.pair(p).apps;
        let active = self.pairs[p.ix()].active;
        let other = 1 - active;
        let conn = apps.map(|a| self.hosts[self.topo.app_host(a).ix()].connected);
        let connected = |s: usize| conn[s];
        // An instance that was primary when its agent was lost may still serve: fail over
        // only when the pair's triggers include a lost host (the agent-lost failover).
        let lost_primary = (0..2).find(|s| !connected(*s) && rt[*s].mode == Mode::Primary);
        if lost_primary.is_some() && !self.topo.pair(p).failover.host_lost {
            return;
        }
        let usable = |s: usize| rt[s].status == AppStatus::Up && connected(s);
        // Right after the controller starts, give every instance time to report before
        // deciding: the one not heard from yet may be the primary already (a restarted
        // controller), or the preferred one that booted later.
        if (0..2).any(|s| rt[s].status == AppStatus::Unknown) && self.now < self.grace_until {
            self.timers.set(TimerKey::Recheck(p), self.grace_until);
            return;
        }
        let member = self.is_member(p);
        #[cfg(test)]
        let member = member && !self.sabotage.members_decide_alone;
        // A member is assigned on its leader's side, once the leader is.
        let start_side = if member { self.leader_side(p) } else { Some(active) };
        if let Some(s) = start_side
            && rt[s].mode == Mode::None
            && rt[1 - s].mode != Mode::Backup
            && usable(s)
        {
            self.pairs[p.ix()].active = s;
            self.assign_modes(p, s, rt);
            return;
        }
        if rt[active].ordered.is_some() || rt[other].ordered.is_some_and(|(m, _)| m == Mode::Primary) {
            return;
        }
        let corr = self.pair_incident(p);
        #[cfg(test)]
        if self.sabotage.no_retry_after_refusal && self.pairs[p.ix()].refused.is_some() {
            return;
        }
        let started = if member {
            self.member_no_primary(p, rt, corr)
        } else {
            // The chosen instance when it can serve, else the other one; the gates refuse
            // (and say why) when it cannot.
            // The chosen side first, then the other: the first the gates let through
            // (when both are refused, each refusal is logged with its reason).
            let candidates: Vec<usize> = [active, other]
                .into_iter()
                .filter(|s| rt[*s].status.is_running() && connected(*s))
                .collect();
            if candidates.is_empty() {
                self.refuse_recovery(p, corr, "no instance is running and reachable".into());
                false
            } else {
                let mut order = candidates.clone();
                order.sort_by_key(|s| !usable(*s)); // usable ones first, stable
                order
                    .into_iter()
                    .any(|t| self.auto_switchover(p, t, Cause::NoPrimary, corr))
            }
        };
        if !started && self.pairs[p.ix()].brain != Brain::NoBrain {
            self.pairs[p.ix()].brain = Brain::NoBrain;
            self.emit(
                EventId::NoBrain,
                Entity::Pair(p),
                Entity::Pair(p),
                Some(corr),
                format!(
                    "pair {} has no primary ({} {}, {} {})",
                    self.topo.pair(p).id,
                    self.topo.app_label(apps[0]),
                    self.app_state_word(apps[0]),
                    self.topo.app_label(apps[1]),
                    self.app_state_word(apps[1])
                ),
            );
        }
    }

    /// Start-up (or both instances restarted): assign modes without an alarm. The
    /// assignment is an incident of its own until the pair is redundant, and its mode
    /// events fire no alarm condition (nothing switched over).
    fn assign_modes(&mut self, p: PairIx, active: usize, rt: &[AppRt; 2]) {
        let apps = self.topo.pair(p).apps;
        let corr = self.pair_incident(p);
        self.apps[apps[active].ix()].assigning = true;
        self.order_mode(apps[active], Mode::Primary, Some(corr));
        let other = 1 - active;
        if rt[other].status.is_running() && rt[other].mode == Mode::None {
            self.apps[apps[other].ix()].assigning = true;
            self.order_mode(apps[other], Mode::Backup, Some(corr));
        }
    }

    /// A member without a primary follows its leader, always: it waits while the leader
    /// is undecided, takes the leader's side when its instance there can serve, and
    /// otherwise asks the whole group to move (as the failure of that instance would).
    fn member_no_primary(&mut self, p: PairIx, rt: &[AppRt; 2], corr: Correlation) -> bool {
        let Some(side) = self.leader_side(p) else {
            return true; // the leader decides first; not a member without a primary yet
        };
        // With no primary of its own, the member's place is the leader's side.
        self.pairs[p.ix()].active = side;
        let app = self.side_app(p, side);
        let host_ok = self.hosts[self.topo.app_host(app).ix()].connected;
        if rt[side].status == AppStatus::Up && host_ok {
            return self.auto_switchover(p, side, Cause::NoPrimary, corr);
        }
        if rt[side].status == AppStatus::Starting && host_ok {
            return true; // a restarted instance: it will be ready (or say it is not)
        }
        let Some(g) = self.topo.pair(p).group else {
            return false;
        };
        let what = format!("{} is {}", self.topo.app_label(app), self.app_state_word(app));
        self.group_member_failed(g, p, side, Cause::Failure(what), corr);
        let leader = self.topo.group(g).leader;
        self.pairs[leader.ix()].switchover.is_some()
    }

    /// Logs once per incident why a pair without a primary is not recovered.
    pub(crate) fn refuse_recovery(&mut self, p: PairIx, corr: Correlation, reason: String) {
        let message = format!("pair {} cannot be given a primary: {reason}", self.topo.pair(p).id);
        self.refuse_once(p, corr, reason, message, None);
    }

    /// Logs a refusal (HC-1104) once per incident and reason: a level-triggered decision
    /// asks again on every input, the log says it once.
    pub(crate) fn refuse_once(
        &mut self,
        p: PairIx,
        corr: Correlation,
        reason: String,
        message: String,
        cause: Option<String>,
    ) {
        if self.pairs[p.ix()].refused.as_ref() == Some(&(Some(corr), reason.clone())) {
            return;
        }
        self.pairs[p.ix()].refused = Some((Some(corr), reason.clone()));
        let mut attrs = vec![("reason", reason)];
        if let Some(c) = cause {
            attrs.push(("cause", c));
        }
        self.emit_with(
            EventId::SwitchoverRefused,
            Entity::Pair(p),
            Entity::Pair(p),
            Some(corr),
            message,
            attrs,
        );
    }

    /// What an instance is, in words: `unreachable` only when its agent is.
    pub(crate) fn app_state_word(&self, app: AppIx) -> &'static str {
        let a = &self.apps[app.ix()];
        if !self.hosts[self.topo.app_host(app).ix()].connected {
            "unreachable"
        } else if a.status == AppStatus::Unknown {
            "not reported yet"
        } else {
            a.status.as_str()
        }
    }

    /// The pair's redundancy from what is known now.
    pub(crate) fn compute_redundancy(&self, p: PairIx) -> Redundancy {
        let pr = &self.pairs[p.ix()];
        if pr.maintenance {
            return Redundancy::Maintenance;
        }
        let apps = self.topo.pair(p).apps;
        let rt = [&self.apps[apps[0].ix()], &self.apps[apps[1].ix()]];
        let primaries: Vec<usize> = (0..2).filter(|s| rt[*s].is_known_primary()).collect();
        let s = match primaries.as_slice() {
            [_, _] => return Redundancy::SplitBrain,
            [s] => *s,
            _ if pr.switchover.is_some() => return Redundancy::Degraded,
            _ => return Redundancy::NoPrimary,
        };
        // A primary that reports itself unavailable, or whose VIP NIC is down (its clients
        // cannot reach it), does not serve, whatever its mode.
        if rt[s].status == AppStatus::Unavailable || self.vip_nic_down(p, s).is_some() {
            return if pr.switchover.is_some() {
                Redundancy::Degraded
            } else {
                Redundancy::NoPrimary
            };
        }
        let b = rt[1 - s];
        if b.stale && b.status.is_running() {
            return Redundancy::Degraded;
        }
        #[cfg(test)]
        let b = &AppRt {
            mode: if self.sabotage.report_backup_ok {
                Mode::Backup
            } else {
                b.mode
            },
            ..b.clone()
        };
        match b.status {
            AppStatus::Down | AppStatus::Unknown => return Redundancy::NoBackup,
            AppStatus::Unavailable => return Redundancy::BackupNotReady,
            AppStatus::Starting => return Redundancy::Degraded,
            AppStatus::Up if b.mode != Mode::Backup => return Redundancy::Degraded,
            AppStatus::Up => {}
        }
        let orders_pending = rt.iter().any(|a| a.ordered.is_some());
        if pr.switchover.is_some() || orders_pending || !self.confirmed_primary(apps[s]) || !self.vip_placement_ok(p) {
            return Redundancy::Degraded;
        }
        Redundancy::Ok
    }

    pub(crate) fn update_redundancy(&mut self, p: PairIx) {
        if !self.owns_pair(p) {
            return;
        }
        let r = self.compute_redundancy(p);
        self.pairs[p.ix()].redundancy = r;
        let pr = &self.pairs[p.ix()];
        if pr.operator_vip && pr.switchover.is_none() && self.vip_placement_ok(p) {
            self.pairs[p.ix()].operator_vip = false;
        }
        self.update_backup_readiness(p);
        let pr = &self.pairs[p.ix()];
        let corr = if r.is_lost() && pr.was_ok && !pr.lost {
            Some(self.pair_incident(p))
        } else {
            pr.incident
        };
        let pr = &self.pairs[p.ix()];
        if r.is_lost() && pr.was_ok && !pr.lost {
            self.pairs[p.ix()].lost = true;
            self.emit_with(
                EventId::RedundancyLost,
                Entity::Pair(p),
                Entity::Pair(p),
                corr,
                format!("pair {} lost redundancy: {}", self.topo.pair(p).id, r.label()),
                vec![("redundancy", r.label().to_string())],
            );
        }
        if r == Redundancy::Ok {
            let pr = &mut self.pairs[p.ix()];
            pr.was_ok = true;
            let was_lost = std::mem::take(&mut pr.lost);
            if was_lost {
                self.emit(
                    EventId::RedundancyRestored,
                    Entity::Pair(p),
                    Entity::Pair(p),
                    corr,
                    format!("pair {} is redundant again", self.topo.pair(p).id),
                );
            }
            let pr = &mut self.pairs[p.ix()];
            pr.incident = None;
            pr.refused = None;
        }
    }

    fn update_backup_readiness(&mut self, p: PairIx) {
        let pr = &self.pairs[p.ix()];
        let backup = self.side_app(p, 1 - pr.active);
        let b = &self.apps[backup.ix()];
        let not_ready = b.status == AppStatus::Unavailable && b.mode != Mode::Primary;
        let ready = b.status == AppStatus::Up;
        let corr = pr.incident;
        if not_ready && !pr.backup_not_ready {
            self.pairs[p.ix()].backup_not_ready = true;
            let detail = self.apps[backup.ix()].detail.clone();
            self.emit_with(
                EventId::BackupNotReady,
                Entity::App(backup),
                Entity::Pair(p),
                corr,
                format!(
                    "backup {} not ready: {detail}; no automatic failover to it",
                    self.topo.app_label(backup)
                ),
                vec![("reason", detail)],
            );
        } else if ready && pr.backup_not_ready {
            self.pairs[p.ix()].backup_not_ready = false;
            self.emit(
                EventId::BackupReady,
                Entity::App(backup),
                Entity::Pair(p),
                corr,
                format!("backup {} is ready", self.topo.app_label(backup)),
            );
        } else if matches!(b.status, AppStatus::Down | AppStatus::Unknown) && pr.backup_not_ready {
            // Down or unreachable: it is no longer "not ready", it is gone (NO BACKUP).
            self.pairs[p.ix()].backup_not_ready = false;
        }
    }

    /// Counts a completed automatic switchover against the anti-flap budget. An operator's
    /// switchover (or a restore of the side the pair had) is recorded as the last one but
    /// never counts: it must not hold back automatic recovery later.
    pub(crate) fn record_switchover(&mut self, p: PairIx, corr: Correlation, not_counted: bool) {
        let af = self.topo.pair(p).anti_flap;
        let now = self.now;
        let pr = &mut self.pairs[p.ix()];
        pr.last_switchover = Some(now);
        if not_counted {
            return;
        }
        pr.history.push(now);
        pr.history.retain(|t| now.since(*t) < af.window);
        if pr.history.len() as u32 >= af.max_switchovers && !pr.flapping {
            pr.flapping = true;
            let until = pr.history[0] + af.window;
            self.timers.set(TimerKey::AntiFlap(p), until);
            self.emit_with(
                EventId::Flapping,
                Entity::Pair(p),
                Entity::Pair(p),
                Some(corr),
                format!(
                    "pair {} switched over {} times in {}: automatic switchovers held back",
                    self.topo.pair(p).id,
                    af.max_switchovers,
                    af.window
                ),
                vec![("window_ms", af.window.as_ms().to_string())],
            );
        }
    }

    pub(crate) fn on_anti_flap_timer(&mut self, p: PairIx) {
        let af = self.topo.pair(p).anti_flap;
        let now = self.now;
        let pr = &mut self.pairs[p.ix()];
        pr.history.retain(|t| now.since(*t) < af.window);
        if (pr.history.len() as u32) < af.max_switchovers {
            pr.flapping = false;
            let corr = pr.incident;
            self.emit(
                EventId::Stable,
                Entity::Pair(p),
                Entity::Pair(p),
                corr,
                format!("pair {} is stable again", self.topo.pair(p).id),
            );
            self.mark_pair(p);
        } else {
            let until = pr.history[0] + af.window;
            self.timers.set(TimerKey::AntiFlap(p), until);
        }
    }

    /// An operator resets a pair's anti-flap counter (the command itself is logged, with
    /// who and from where, as every operator command is).
    pub(crate) fn reset_anti_flap(&mut self, p: PairIx, corr: Correlation) -> Result<Accepted, Refused> {
        if !self.owns_pair(p) {
            return Err(Refused(format!(
                "pair {} belongs to another site's controller",
                self.topo.pair(p).id
            )));
        }
        let pr = &mut self.pairs[p.ix()];
        let was_flapping = pr.flapping;
        pr.history.clear();
        pr.flapping = false;
        self.timers.cancel(TimerKey::AntiFlap(p));
        if was_flapping {
            self.emit(
                EventId::Stable,
                Entity::Pair(p),
                Entity::Pair(p),
                Some(corr),
                format!("pair {} is stable again: anti-flap counter reset", self.topo.pair(p).id),
            );
        }
        self.mark_pair(p);
        Ok(Accepted {
            correlation: corr,
            switchover: None,
            run: None,
        })
    }

    pub(crate) fn set_maintenance(&mut self, p: PairIx, on: bool, corr: Correlation) -> Result<Accepted, Refused> {
        if !self.owns_pair(p) {
            return Err(Refused(format!(
                "pair {} belongs to another site's controller",
                self.topo.pair(p).id
            )));
        }
        if self.pairs[p.ix()].maintenance != on {
            self.pairs[p.ix()].maintenance = on;
            let (id, text) = if on {
                (EventId::MaintenanceOn, "maintenance on: no automatic action")
            } else {
                (EventId::MaintenanceOff, "maintenance off: automatic actions resume")
            };
            self.emit(
                id,
                Entity::Pair(p),
                Entity::Pair(p),
                Some(corr),
                format!("pair {}: {text}", self.topo.pair(p).id),
            );
            self.mark_pair(p);
        }
        Ok(Accepted {
            correlation: corr,
            switchover: None,
            run: None,
        })
    }
}
