//! Pair state: what each instance runs as, which one the controller wants primary, mode
//! orders, failures, redundancy, anti-flap (10327/10328) and maintenance. The decisions
//! that bring a pair back to one serving primary are in [`super::recovery`].

use serde::{Deserialize, Serialize};

use super::host::Failure;
use super::timer::TimerKey;
use super::*;

/// The mode an application runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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

/// How redundant a pair is, worst last. On the wire in kebab case (`no-primary`); the
/// console shows [`Redundancy::label`] (`NO PRIMARY`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    /// When maintenance ends by itself, if it was asked for a limited time.
    pub maintenance_until: Option<Time>,
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
        // A restarted controller's chosen side is a default until the modes are learned:
        // an instance known to run as backup, or one not heard from yet during the
        // start-up grace, is no primary to fail over from. Reconciliation decides once the
        // modes are known.
        let a = &self.apps[app.ix()];
        if (a.mode_known && a.mode == Mode::Backup) || (!a.mode_known && self.now < self.grace_until) {
            self.mark_pair(p);
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

    pub(crate) fn set_maintenance(
        &mut self,
        p: PairIx,
        on: bool,
        until: Option<Time>,
        corr: Correlation,
    ) -> Result<Accepted, Refused> {
        if !self.owns_pair(p) {
            return Err(Refused(format!(
                "pair {} belongs to another site's controller",
                self.topo.pair(p).id
            )));
        }
        // Asking again replaces the expiry (or removes it).
        self.pairs[p.ix()].maintenance_until = until;
        match until {
            Some(at) => self.timers.set(TimerKey::Maintenance(p), at),
            None => self.timers.cancel(TimerKey::Maintenance(p)),
        }
        if self.pairs[p.ix()].maintenance != on {
            self.pairs[p.ix()].maintenance = on;
            let (id, text) = match (on, until) {
                (true, Some(at)) => (
                    EventId::MaintenanceOn,
                    format!("maintenance on for {}: no automatic action", at.since(self.now)),
                ),
                (true, None) => (EventId::MaintenanceOn, "maintenance on: no automatic action".into()),
                (false, _) => (
                    EventId::MaintenanceOff,
                    "maintenance off: automatic actions resume".into(),
                ),
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

    /// A limited maintenance ran out: automatic actions resume, as if the operator had
    /// turned it off.
    pub(crate) fn on_maintenance_expired(&mut self, p: PairIx) {
        let pr = &mut self.pairs[p.ix()];
        pr.maintenance_until = None;
        if !pr.maintenance {
            return;
        }
        pr.maintenance = false;
        let corr = self.new_correlation();
        self.emit(
            EventId::MaintenanceOff,
            Entity::Pair(p),
            Entity::Pair(p),
            Some(corr),
            format!(
                "pair {}: maintenance expired: automatic actions resume",
                self.topo.pair(p).id
            ),
        );
        self.mark_pair(p);
    }
}
