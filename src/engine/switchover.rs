//! Switchover execution: demote the current primary (when it can be reached), promote the
//! other instance, wait for its confirmation (00-5150) and announcement (4563), then hand
//! the new placement to the VIP reconciler and the group. Automatic switchovers pass gates
//! first (maintenance, anti-flap, backup readiness, reachability); manual ones pass the
//! plan's pre-flight checks ([`super::plan`]).

use serde::{Deserialize, Serialize};

use super::timer::TimerKey;
use super::*;

/// Why a switchover happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    Operator(String),
    Failure(String),
    Group { group: GroupIx, why: String },
    Alarm(String),
    NoPrimary,
}

impl Cause {
    pub fn is_manual(&self) -> bool {
        matches!(self, Cause::Operator(_))
    }

    pub fn describe(&self, topo: &Topology) -> String {
        match self {
            Cause::Operator(who) => format!("requested by {who}"),
            Cause::Failure(what) => format!("failure: {what}"),
            Cause::Group { group, why } => format!("group {}: {why}", topo.group(*group).id),
            Cause::Alarm(id) => format!("alarm condition {id}"),
            Cause::NoPrimary => "the pair had no primary".to_string(),
        }
    }
}

/// The step a switchover is at. On the wire in kebab case (`moving-vip`); the console
/// shows [`Step::as_str`] (`moving the VIP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Waiting for the old primary to confirm backup mode.
    Demoting,
    /// The old primary did not demote in time: waiting for it to stop (SIGTERM, then
    /// SIGKILL after the agent's grace).
    Fencing,
    /// It did not stop either: waiting for the kill.
    Killing,
    /// Waiting for the new primary to confirm primary mode.
    Promoting,
    /// Waiting for the new primary's announcement (4563).
    Announcing,
    /// The new primary serves: waiting for the VIP to be bound on its host (and off the
    /// old one, when that host can be reached).
    MovingVip,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Demoting => "demoting",
            Step::Fencing => "fencing",
            Step::Killing => "killing",
            Step::Promoting => "promoting",
            Step::Announcing => "announcing",
            Step::MovingVip => "moving the VIP",
        }
    }

    /// Before the new primary is confirmed: the pair's placement is undecided.
    pub fn is_deciding(self) -> bool {
        self != Step::MovingVip
    }
}

/// A switchover in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switchover {
    pub id: u64,
    pub from: usize,
    pub to: usize,
    pub cause: Cause,
    pub correlation: Correlation,
    pub step: Step,
    pub started: Time,
    /// It gives the pair back the side it had chosen (no side changes hands): not a flap.
    pub restore: bool,
}

impl Engine {
    /// Starts an automatic switchover of `p` to `to` if the gates allow it; logs the
    /// refusal (once per incident and reason) otherwise.
    pub(crate) fn auto_switchover(&mut self, p: PairIx, to: usize, cause: Cause, corr: Correlation) -> bool {
        if !self.owns_pair(p) || self.pairs[p.ix()].switchover.is_some() {
            return false;
        }
        let target = self.side_app(p, to);
        let t = &self.apps[target.ix()];
        let pr = &self.pairs[p.ix()];
        let label = self.topo.app_label(target);
        // Giving a pair without a primary back its chosen instance is not flapping, unless
        // it keeps happening (something, e.g. an alarm reaction, fights the controller).
        let runaway = pr.history.len() as u32 >= 2 * self.topo.pair(p).anti_flap.max_switchovers;
        let restore = cause == Cause::NoPrimary && to == pr.active && !runaway;
        let refusal = if pr.maintenance {
            Some("the pair is in maintenance".to_string())
        } else if self.now < pr.retry_after[to] {
            Some(format!(
                "{} automatic switchover(s) failed in a row: next attempt to {label} at {}",
                pr.failed_attempts, pr.retry_after[to]
            ))
        } else if pr.flapping && !restore {
            Some(format!(
                "anti-flap: {} switchovers inside {}",
                pr.history.len(),
                self.topo.pair(p).anti_flap.window
            ))
        } else if !self.hosts[self.topo.app_host(target).ix()].connected {
            Some(format!("the agent of {label} is unreachable"))
        } else if t.stale {
            Some(format!("the state of {label} is not reported yet"))
        } else if let Some(nic) = self.vip_nic_down(p, to) {
            Some(format!("its VIP NIC {nic} is down: clients could not reach it"))
        } else if t.status == AppStatus::Unavailable && !self.ignores_readiness() {
            Some(format!("backup {label} is not ready ({})", t.detail))
        } else if t.status == AppStatus::Starting && !self.ignores_readiness() {
            Some(format!(
                "backup {label} is still starting (start-up checks in progress)"
            ))
        } else if !t.status.is_running() {
            Some(format!("backup {label} is {}", t.status.as_str()))
        } else {
            self.group_member_not_ready(p, to)
        };
        if let Some(reason) = refusal {
            let message = format!(
                "automatic switchover of {} to {label} refused: {reason}",
                self.topo.pair(p).id
            );
            self.refuse_once(p, corr, reason, message, Some(cause.describe(&self.topo)));
            return false;
        }
        self.start_switchover(p, to, cause, corr, false);
        true
    }

    /// The pair's VIP NIC on side `side`'s host, when its agent reports it down.
    pub(crate) fn vip_nic_down(&self, p: PairIx, side: usize) -> Option<String> {
        let vip = self.topo.pair(p).vip.as_ref()?;
        let host = self.topo.app_host(self.side_app(p, side));
        let nic = self.topo.host(host).nic(&vip.nic)?;
        (self.hosts[host.ix()].nics[nic] == Some(false)).then(|| vip.nic.clone())
    }

    /// For a group leader: a member whose instance on side `to` reported itself not ready
    /// (the group cannot move without failing over to it).
    fn group_member_not_ready(&self, p: PairIx, to: usize) -> Option<String> {
        let g = self.topo.pair(p).group?;
        if self.topo.group(g).leader != p || self.ignores_readiness() {
            return None;
        }
        self.topo.group(g).members.iter().skip(1).find_map(|m| {
            let app = self.side_app(*m, to);
            let a = &self.apps[app.ix()];
            // Only a member that would have to fail over onto it counts.
            (!a.is_known_primary() && matches!(a.status, AppStatus::Unavailable | AppStatus::Starting))
                .then(|| format!("group member {} is not ready ({})", self.topo.app_label(app), a.detail))
        })
    }

    #[cfg(test)]
    fn ignores_readiness(&self) -> bool {
        self.sabotage.ignore_readiness
    }

    #[cfg(not(test))]
    fn ignores_readiness(&self) -> bool {
        false
    }

    /// Starts a switchover of `p` to side `to`, demoting the other side first when it runs
    /// as primary and can be reached.
    pub(crate) fn start_switchover(
        &mut self,
        p: PairIx,
        to: usize,
        cause: Cause,
        corr: Correlation,
        forced: bool,
    ) -> u64 {
        let id = self.next_switchover;
        self.next_switchover += 1;
        let from = 1 - to;
        let (from_app, to_app) = (self.side_app(p, from), self.side_app(p, to));
        let f = self.apps[from_app.ix()].clone();
        let demote = f.is_known_primary() && self.hosts[self.topo.app_host(from_app).ix()].connected;
        #[cfg(test)]
        let demote = demote && !self.sabotage.promote_before_demotion;
        let pair_id = self.topo.pair(p).id.clone();
        let why = cause.describe(&self.topo);
        let mut attrs = vec![
            ("switchover", id.to_string()),
            ("from", self.topo.app_label(from_app)),
            ("to", self.topo.app_label(to_app)),
            ("cause", why.clone()),
            (
                "kind",
                if cause.is_manual() { "manual" } else { "automatic" }.to_string(),
            ),
        ];
        if forced {
            attrs.push(("forced", "true".to_string()));
        }
        self.emit_with(
            EventId::SwitchoverRequested,
            Entity::Pair(p),
            Entity::Pair(p),
            Some(corr),
            format!(
                "switchover of {pair_id} to {} requested ({why})",
                self.topo.app_label(to_app)
            ),
            attrs.clone(),
        );
        let plan = if demote {
            format!(
                "demote {} then promote {}",
                self.topo.app_label(from_app),
                self.topo.app_label(to_app)
            )
        } else {
            format!(
                "promote {} ({} is {}, not demoted)",
                self.topo.app_label(to_app),
                self.topo.app_label(from_app),
                self.app_state_word(from_app)
            )
        };
        self.emit_with(
            EventId::SwitchoverPlanned,
            Entity::Pair(p),
            Entity::Pair(p),
            Some(corr),
            format!("switchover of {pair_id}: {plan}"),
            attrs,
        );
        let step = if demote {
            self.order_mode(from_app, Mode::Backup, Some(corr));
            Step::Demoting
        } else {
            self.order_mode(to_app, Mode::Primary, Some(corr));
            Step::Promoting
        };
        // A target that already runs as primary (a restarted controller that had not yet
        // learned which side serves) is no side change: it never counts against anti-flap.
        let already_primary = self.apps[to_app.ix()].is_known_primary();
        let pr = &mut self.pairs[p.ix()];
        let restore = (pr.active == to && !f.is_known_primary()) || already_primary;
        pr.switchover = Some(Switchover {
            id,
            from,
            to,
            cause,
            correlation: corr,
            step,
            started: self.now,
            restore,
        });
        pr.incident = Some(corr);
        pr.refused = None;
        self.timers
            .set(TimerKey::Switchover(p), self.now + self.topo.controller.mode_timeout);
        self.mark_pair(p);
        id
    }

    /// A mode report about an app of `p` while a switchover may be in flight.
    pub(crate) fn on_switchover_mode(&mut self, p: PairIx, app: AppIx, mode: Mode) {
        let side = self.topo.side_of(p, app);
        let Some(sw) = self.pairs[p.ix()].switchover.clone() else {
            return;
        };
        match sw.step {
            Step::Demoting if side == sw.from && mode == Mode::Backup => self.promote(p),
            Step::Promoting if side == sw.to && mode == Mode::Primary => {
                let announces = self.topo.app(app).announces_primary;
                if announces && !self.apps[app.ix()].announced {
                    self.set_step(p, Step::Announcing);
                } else {
                    self.primary_confirmed(p);
                }
            }
            _ => {}
        }
    }

    /// Whether a switchover of `p` is still deciding who is primary (any step before the
    /// VIP move).
    pub(crate) fn deciding(&self, p: PairIx) -> bool {
        self.pairs[p.ix()]
            .switchover
            .as_ref()
            .is_some_and(|sw| sw.step.is_deciding())
    }

    /// The new primary confirmed its mode (and announced it): the pair's placement is
    /// decided. Members may follow now; the switchover completes once the VIP is in place.
    fn primary_confirmed(&mut self, p: PairIx) {
        let Some(sw) = self.pairs[p.ix()].switchover.clone() else {
            return;
        };
        let pr = &mut self.pairs[p.ix()];
        pr.active = sw.to;
        pr.failed_attempts = 0;
        if self.topo.pair(p).vip.is_some() {
            self.set_step(p, Step::MovingVip);
            self.mark_group_of(p);
        } else {
            self.complete_switchover(p, None);
        }
    }

    /// During the VIP step: complete once the VIP is bound on the new primary's host. The
    /// reconciler removes it from the old host before it binds it on the new one, so by
    /// then the old host was cleared, or could not be (its NIC down, its agent lost): that
    /// is flagged (duplicate, possible conflict) and reconciled on its own.
    /// Returns whether it completed the switchover.
    pub(crate) fn check_vip_step(&mut self, p: PairIx) -> bool {
        let Some(sw) = &self.pairs[p.ix()].switchover else {
            return false;
        };
        if sw.step != Step::MovingVip {
            return false;
        }
        let v = &self.pairs[p.ix()].vip;
        if v.obs[sw.to] == VipObs::Bound && v.pending.is_none() {
            self.complete_switchover(p, None);
            return true;
        }
        false
    }

    pub(crate) fn on_switchover_announced(&mut self, p: PairIx, app: AppIx) {
        let side = self.topo.side_of(p, app);
        if let Some(sw) = &self.pairs[p.ix()].switchover
            && sw.step == Step::Announcing
            && side == sw.to
        {
            self.primary_confirmed(p);
        }
    }

    fn set_step(&mut self, p: PairIx, step: Step) {
        if let Some(sw) = self.pairs[p.ix()].switchover.as_mut() {
            sw.step = step;
        }
        self.timers
            .set(TimerKey::Switchover(p), self.now + self.topo.controller.mode_timeout);
    }

    fn promote(&mut self, p: PairIx) {
        let Some(sw) = self.pairs[p.ix()].switchover.clone() else {
            return;
        };
        self.set_step(p, Step::Promoting);
        self.order_mode(self.side_app(p, sw.to), Mode::Primary, Some(sw.correlation));
    }

    /// An app of `p` failed while a switchover is in flight.
    pub(crate) fn switchover_app_failed(&mut self, p: PairIx, side: usize) {
        let Some(sw) = self.pairs[p.ix()].switchover.clone() else {
            return;
        };
        if side == sw.to && sw.step.is_deciding() {
            let label = self.topo.app_label(self.side_app(p, side));
            self.fail_switchover(p, format!("the new primary {label} failed during the switchover"));
        } else if side == sw.to {
            // It failed while its VIP moved: the switchover is over, the failure is a new
            // fact for the pair's reconciliation.
            let label = self.topo.app_label(self.side_app(p, side));
            self.complete_switchover(p, Some(format!("{label} failed while the VIP moved")));
        } else if matches!(sw.step, Step::Demoting | Step::Fencing | Step::Killing) {
            self.promote(p);
        }
    }

    pub(crate) fn on_switchover_timer(&mut self, p: PairIx) {
        let Some(sw) = self.pairs[p.ix()].switchover.clone() else {
            return;
        };
        let timeout = self.topo.controller.mode_timeout;
        let from_app = self.side_app(p, sw.from);
        let from_label = self.topo.app_label(from_app);
        match sw.step {
            Step::Announcing => self.primary_confirmed(p),
            Step::Demoting => {
                // Fence the primary that does not demote before promoting the other one:
                // two primaries must never serve at once.
                self.fence(
                    p,
                    &sw,
                    Step::Fencing,
                    format!("did not confirm backup mode within {timeout}"),
                );
            }
            Step::Fencing => {
                self.fence(p, &sw, Step::Killing, format!("did not stop within {timeout}"));
            }
            Step::Killing => {
                self.fail_switchover(
                    p,
                    format!("{from_label} could not be demoted, stopped or killed within {timeout} each"),
                );
            }
            Step::Promoting => {
                let label = self.topo.app_label(self.side_app(p, sw.to));
                self.fail_switchover(p, format!("{label} did not confirm primary mode within {timeout}"));
            }
            Step::MovingVip => {
                let address = self.vip_address(p);
                let host = self.topo.host(self.topo.app_host(self.side_app(p, sw.to))).id.clone();
                self.complete_switchover(
                    p,
                    Some(format!(
                        "VIP {address} not in place on {host} within {timeout}; the reconciler keeps trying"
                    )),
                );
            }
        }
    }

    /// Orders the old primary stopped (`Fencing`) or killed (`Killing`), and waits for its
    /// exit before promoting the other instance.
    fn fence(&mut self, p: PairIx, sw: &Switchover, step: Step, why: String) {
        let app = self.side_app(p, sw.from);
        let host = self.topo.app_host(app);
        let label = self.topo.app_label(app);
        let what = if step == Step::Fencing { "stopping" } else { "killing" };
        self.emit_with(
            EventId::PrimaryFenced,
            Entity::Pair(p),
            Entity::Pair(p),
            Some(sw.correlation),
            format!("{label} {why}: {what} it before promoting the other instance"),
            vec![("switchover", sw.id.to_string()), ("app", label.clone())],
        );
        self.apps[app.ix()].fenced = true;
        let correlation = Some(sw.correlation);
        self.command(if step == Step::Fencing {
            Command::Stop { host, app, correlation }
        } else {
            Command::Kill { host, app, correlation }
        });
        self.set_step(p, step);
    }

    /// Ends a switchover whose new primary confirmed its mode: completed, or with the
    /// VIP still not in place (`problem`), which is logged as a failure of that step.
    fn complete_switchover(&mut self, p: PairIx, problem: Option<String>) {
        let Some(sw) = self.pairs[p.ix()].switchover.take() else {
            return;
        };
        self.timers.cancel(TimerKey::Switchover(p));
        self.pairs[p.ix()].active = sw.to;
        let to_app = self.side_app(p, sw.to);
        let announced = self.apps[to_app.ix()].announced || !self.topo.app(to_app).announces_primary;
        let took = self.now.since(sw.started);
        let mut attrs = vec![
            ("switchover", sw.id.to_string()),
            ("duration_ms", took.as_ms().to_string()),
        ];
        match problem {
            None => self.emit_with(
                EventId::SwitchoverCompleted,
                Entity::Pair(p),
                Entity::Pair(p),
                Some(sw.correlation),
                format!(
                    "switchover of {} completed in {took}: {} is primary{}",
                    self.topo.pair(p).id,
                    self.topo.app_label(to_app),
                    if announced {
                        ""
                    } else {
                        " (no 4563 announcement within the mode timeout)"
                    }
                ),
                attrs,
            ),
            Some(reason) => {
                let what = format!("{} is primary, but {reason}", self.topo.app_label(to_app));
                attrs.push(("reason", reason));
                self.emit_failed(p, &sw, what, attrs);
            }
        }
        // Only a change of side by the controller itself counts against anti-flap.
        self.record_switchover(p, sw.correlation, sw.cause.is_manual() || sw.restore);
        self.mark_group_of(p);
        #[cfg(test)]
        if self.sabotage.vip_per_member
            && let Some(g) = self.topo.pair(p).group
        {
            let leader = self.topo.group(g).leader;
            if leader != p {
                let host = self.topo.app_host(self.side_app(leader, sw.to));
                self.command(Command::Vip {
                    host,
                    pair: leader,
                    enable: true,
                    reason: VipReason::Placement,
                    correlation: Some(sw.correlation),
                });
            }
        }
    }

    /// HC-1103: the switchover failed at its current step, for `what` reason.
    fn emit_failed(&mut self, p: PairIx, sw: &Switchover, what: String, attrs: Vec<(&'static str, String)>) {
        self.emit_with(
            EventId::SwitchoverFailed,
            Entity::Pair(p),
            Entity::Pair(p),
            Some(sw.correlation),
            format!(
                "switchover of {} failed at step {}: {what}",
                self.topo.pair(p).id,
                sw.step.as_str()
            ),
            attrs,
        );
    }

    fn fail_switchover(&mut self, p: PairIx, reason: String) {
        let Some(sw) = self.pairs[p.ix()].switchover.take() else {
            return;
        };
        self.timers.cancel(TimerKey::Switchover(p));
        let attrs = vec![("switchover", sw.id.to_string()), ("reason", reason.clone())];
        self.emit_failed(p, &sw, reason, attrs);
        if !sw.cause.is_manual() {
            // Level-triggered recovery tries again, after a backoff that doubles with each
            // failure in a row, so a broken instance is not ordered about forever.
            let pr = &mut self.pairs[p.ix()];
            pr.failed_attempts += 1;
            // The first failure is retried at once (an order lost once, e.g. a hook that
            // hung for a moment); then mode-timeout, doubling, at most 5 minutes.
            let n = pr.failed_attempts.min(9);
            let wait = if n == 1 {
                Span::ZERO
            } else {
                self.topo
                    .controller
                    .mode_timeout
                    .times(1u64 << (n - 2))
                    .min(Span::secs(300))
            };
            pr.retry_after[sw.to] = self.now + wait;
            self.timers.set(TimerKey::Recheck(p), self.now + wait);
        }
        self.mark_group_of(p);
    }

    /// Marks `p`, and every member of its group when it leads one: members defer their
    /// own repairs while the leader switches.
    pub(crate) fn mark_group_of(&mut self, p: PairIx) {
        self.mark_pair(p);
        if let Some(g) = self.topo.pair(p).group
            && self.topo.group(g).leader == p
        {
            for m in self.topo.group(g).members.clone() {
                self.mark_pair(m);
            }
        }
    }

    /// An operator's switchover: the plan's pre-flight checks decide.
    pub(crate) fn operator_switchover(
        &mut self,
        pair: PairIx,
        to: Option<AppIx>,
        force: bool,
        op: &Operator,
        corr: Correlation,
    ) -> Result<Accepted, Refused> {
        let plan = match self.plan_switchover(pair, to) {
            Ok(plan) => plan,
            Err(r) => {
                self.emit(
                    EventId::SwitchoverRefused,
                    Entity::Operator(op.name.clone()),
                    Entity::Pair(pair),
                    Some(corr),
                    format!("switchover of {} refused: {r}", self.topo.pair(pair).id),
                );
                return Err(r);
            }
        };
        if !plan.allowed(force) {
            let why = plan.refusal(force);
            self.emit_with(
                EventId::SwitchoverRefused,
                Entity::Operator(op.name.clone()),
                Entity::Pair(plan.pair),
                Some(corr),
                format!("switchover of {} refused: {why}", self.topo.pair(plan.pair).id),
                vec![("reason", why.clone())],
            );
            return Err(Refused(why));
        }
        if self.pairs[plan.pair.ix()].maintenance {
            // The operator moves the pair: its VIP moves with it, maintenance or not.
            self.pairs[plan.pair.ix()].operator_vip = true;
        }
        let id = self.start_switchover(plan.pair, plan.to_side, Cause::Operator(op.label()), corr, force);
        if let Some(g) = plan.group {
            for m in &self.topo.group(g).members {
                self.pairs[m.ix()].incident = Some(corr);
            }
        }
        Ok(Accepted {
            correlation: corr,
            switchover: Some(id),
            run: None,
        })
    }
}
