//! Recovery, level-triggered: whatever edges were missed, each reconciliation of a pair
//! brings it to one serving primary (the chosen side) and one backup. Mode assignment on
//! (re)start, split brain (20622) and no-brain (20621) repair, back to normal (20623),
//! failing over from a primary that cannot serve, members following their leader, and
//! the refusals (HC-1104) that say why a pair is not recovered yet. Called on every input
//! that touches the pair or its group and on every recheck, so a recovery refused while
//! an obstacle stood (an anti-flap hold, an unreachable agent, a backup not ready) happens
//! as soon as the obstacle goes.

use super::timer::TimerKey;
use super::*;

impl Engine {
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
        // An instance there that failed to take primary mode and waits for its next attempt
        // (its mode hook hangs, say) is no place for the member while its other instance
        // could serve: the group moves, as it would for a failure.
        let pr = &self.pairs[p.ix()];
        let failing = pr.failed_attempts > 0 && self.now < pr.retry_after[side];
        if rt[side].status == AppStatus::Up && host_ok && !failing {
            return self.auto_switchover(p, side, Cause::NoPrimary, corr);
        }
        if rt[side].status == AppStatus::Starting && host_ok {
            return true; // a restarted instance: it will be ready (or say it is not)
        }
        let Some(g) = self.topo.pair(p).group else {
            return false;
        };
        let what = if rt[side].status == AppStatus::Up && host_ok {
            format!(
                "{} did not take primary mode, {} attempt(s)",
                self.topo.app_label(app),
                self.pairs[p.ix()].failed_attempts
            )
        } else {
            format!("{} is {}", self.topo.app_label(app), self.app_state_word(app))
        };
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
}
