//! Solution groups (W5): several pairs on the same two hosts that switch together. A
//! member failing on the group's primary host switches the leader first; once the leader's
//! new primary announces itself (4563), the other members follow it and the VIP (tied to
//! the leader only) moves once. A member failing on the backup host switches nothing.

use super::*;

#[derive(Clone, Debug, Default)]
pub(crate) struct GroupRt {
    pub was_ok: bool,
    pub lost: bool,
    /// The incident the group lost redundancy in, until it is restored.
    pub incident: Option<Correlation>,
}

impl Engine {
    /// A member's active instance failed on `side`.
    pub(crate) fn group_member_failed(
        &mut self,
        g: GroupIx,
        member: PairIx,
        side: usize,
        cause: Cause,
        corr: Correlation,
    ) {
        let leader = self.topo.group(g).leader;
        if self.deciding(leader) || self.pairs[leader.ix()].active != side {
            return;
        }
        // Moving the group helps the member only if its instance on the other host can take
        // over; otherwise the group stays and the member waits for one of its instances.
        let other = self.side_app(member, 1 - side);
        let o = &self.apps[other.ix()];
        if member != leader && !(o.status == AppStatus::Up && self.hosts[self.topo.app_host(other).ix()].connected) {
            let reason = format!(
                "member {} has no instance that could take over on the other host ({} is {})",
                self.topo.pair(member).id,
                self.topo.app_label(other),
                self.app_state_word(other)
            );
            let message = format!("group {} not moved: {reason}", self.topo.group(g).id);
            self.refuse_once(member, corr, reason, message, None);
            return;
        }
        let why = match cause {
            Cause::Failure(what) => format!("member {} failed ({what})", self.topo.pair(member).id),
            other => other.describe(&self.topo),
        };
        for m in &self.topo.group(g).members {
            self.pairs[m.ix()].incident.get_or_insert(corr);
        }
        self.auto_switchover(leader, 1 - side, Cause::Group { group: g, why }, corr);
    }

    /// Level-triggered: once the leader's primary is confirmed and announced, every member
    /// that runs on the other host follows it.
    pub(crate) fn align_group(&mut self, g: GroupIx) {
        let leader = self.topo.group(g).leader;
        if !self.owns_pair(leader) {
            return;
        }
        let lr = &self.pairs[leader.ix()];
        if self.deciding(leader) || lr.maintenance {
            return;
        }
        let side = lr.active;
        if !self.confirmed_primary(self.side_app(leader, side)) {
            return;
        }
        let leader_incident = lr.incident;
        let members: Vec<PairIx> = self.topo.group(g).members.iter().skip(1).copied().collect();
        for m in members {
            let mr = &self.pairs[m.ix()];
            if mr.switchover.is_some() || mr.maintenance || mr.active == side {
                continue;
            }
            // The member's own open incident, else the leader's, else a new one it keeps.
            let corr = match mr.incident.or(leader_incident) {
                Some(c) => c,
                None => self.new_correlation(),
            };
            self.pairs[m.ix()].incident = Some(corr);
            let target = self.side_app(m, side);
            let t = &self.apps[target.ix()];
            let label = self.topo.app_label(target);
            let connected = self.hosts[self.topo.app_host(target).ix()].connected;
            if connected && (t.status == AppStatus::Unknown || t.stale) {
                continue; // its agent's resync is on the way
            }
            let reason = if !connected {
                Some(format!("the agent of {label} is unreachable"))
            } else if t.status == AppStatus::Unavailable && !self.group_ignores_readiness() {
                Some(format!("{label} is not ready ({})", t.detail))
            } else if t.status == AppStatus::Starting && !self.group_ignores_readiness() {
                Some(format!("{label} is still starting (start-up checks in progress)"))
            } else if !t.status.is_running() {
                Some(format!("{label} is {}", t.status.as_str()))
            } else {
                None
            };
            match reason {
                None => {
                    let cause = Cause::Group {
                        group: g,
                        why: format!("follows leader {}", self.topo.pair(leader).id),
                    };
                    self.start_switchover(m, side, cause, corr, false);
                }
                Some(reason) => {
                    if self.pairs[m.ix()].refused.as_ref() != Some(&(Some(corr), reason.clone())) {
                        self.pairs[m.ix()].refused = Some((Some(corr), reason.clone()));
                        self.emit_with(
                            EventId::SwitchoverRefused,
                            Entity::Group(g),
                            Entity::Pair(m),
                            Some(corr),
                            format!(
                                "{} cannot follow leader {}: {reason}",
                                self.topo.pair(m).id,
                                self.topo.pair(leader).id
                            ),
                            vec![("reason", reason)],
                        );
                    }
                }
            }
        }
    }

    #[cfg(test)]
    fn group_ignores_readiness(&self) -> bool {
        self.sabotage.ignore_readiness
    }

    #[cfg(not(test))]
    fn group_ignores_readiness(&self) -> bool {
        false
    }

    pub(crate) fn update_group_redundancy(&mut self, g: GroupIx) {
        let leader = self.topo.group(g).leader;
        if !self.owns_pair(leader) {
            return;
        }
        let r = self.group_redundancy(g);
        let member_incident = self
            .topo
            .group(g)
            .members
            .iter()
            .find_map(|m| self.pairs[m.ix()].incident);
        let gr = &mut self.groups[g.ix()];
        let corr = gr.incident.or(member_incident);
        if r.is_lost() && gr.was_ok && !gr.lost {
            gr.lost = true;
            gr.incident = corr;
            self.emit_with(
                EventId::RedundancyLost,
                Entity::Group(g),
                Entity::Group(g),
                corr,
                format!("group {} lost redundancy: {}", self.topo.group(g).id, r.label()),
                vec![("redundancy", r.label().to_string())],
            );
        } else if r == Redundancy::Ok {
            gr.was_ok = true;
            gr.incident = None;
            if std::mem::take(&mut gr.lost) {
                self.emit(
                    EventId::RedundancyRestored,
                    Entity::Group(g),
                    Entity::Group(g),
                    corr,
                    format!("group {} is redundant again", self.topo.group(g).id),
                );
            }
        }
    }
}
