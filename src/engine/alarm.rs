//! Alarm conditions: an event id plus a source filter; when a logged event matches, the
//! condition activates (HC-1400) and its reactions run: an allow-listed script on a host, a
//! switchover, or a notification. A clearing event id deactivates it (HC-1401). VIP
//! control is not a reaction here: the VIP reconciler owns placement, so it cannot be left
//! out of the configuration by mistake.

use std::sync::Arc;

use super::*;

#[derive(Clone, Debug, Default)]
pub struct AlarmRt {
    pub active: bool,
    pub activations: u32,
}

impl Engine {
    fn entity_site(&self, e: &Entity) -> Option<SiteIx> {
        let t = &self.topo;
        match e {
            Entity::Controller(s) | Entity::Site(s) => Some(*s),
            Entity::Host(h) => Some(t.host(*h).site),
            Entity::App(a) => Some(t.host(t.app(*a).host).site),
            Entity::Pair(p) => Some(t.pair(*p).site),
            Entity::Group(g) => Some(t.pair(t.group(*g).leader).site),
            Entity::Operator(_) | Entity::Drill => None,
        }
    }

    fn entity_pair(&self, e: &Entity) -> Option<PairIx> {
        match e {
            Entity::Pair(p) => Some(*p),
            Entity::App(a) => self.topo.app(*a).pair,
            _ => None,
        }
    }

    fn entity_host(&self, e: &Entity) -> Option<HostIx> {
        match e {
            Entity::Host(h) => Some(*h),
            Entity::App(a) => Some(self.topo.app(*a).host),
            Entity::Pair(p) => Some(self.topo.app_host(self.side_app(*p, self.pairs[p.ix()].active))),
            _ => None,
        }
    }

    fn filter_matches(&self, filter: SourceFilter, ev: &Event) -> bool {
        let any = |f: &dyn Fn(&Entity) -> bool| f(&ev.source) || f(&ev.subject);
        match filter {
            SourceFilter::Any => true,
            SourceFilter::Site(s) => any(&|e| self.entity_site(e) == Some(s)),
            SourceFilter::Host(h) => any(&|e| match e {
                Entity::Host(x) => *x == h,
                Entity::App(a) => self.topo.app(*a).host == h,
                _ => false,
            }),
            SourceFilter::App(a) => any(&|e| *e == Entity::App(a)),
            SourceFilter::Pair(p) => any(&|e| self.entity_pair(e) == Some(p)),
            SourceFilter::Group(g) => {
                any(&|e| *e == Entity::Group(g) || self.entity_pair(e).and_then(|p| self.topo.pair(p).group) == Some(g))
            }
        }
    }

    /// Matches every event logged since the last call against the alarm conditions.
    pub(crate) fn match_alarms(&mut self) {
        if self.unmatched == self.events.len() {
            return; // the common case: nothing new since the last call
        }
        let topo = Arc::clone(&self.topo);
        while self.unmatched < self.events.len() {
            let id = self.events[self.unmatched].id;
            self.unmatched += 1;
            if matches!(id, EventId::AlarmActivated | EventId::AlarmCleared)
                || !topo.alarms.iter().any(|a| a.event == id || a.clear == Some(id))
            {
                continue;
            }
            let ev = self.events[self.unmatched - 1].clone();
            // The start-up assignment of modes is not a switchover: it pages nobody.
            if ev.attr("assignment").is_some() {
                continue;
            }
            // Each controller reacts to its own site's events only.
            if self
                .entity_site(&ev.source)
                .or(self.entity_site(&ev.subject))
                .is_some_and(|s| s != self.site)
            {
                continue;
            }
            for (i, alarm) in topo.alarms.iter().enumerate() {
                if alarm.clear == Some(ev.id) && self.alarms[i].active && self.filter_matches(alarm.filter, &ev) {
                    self.alarms[i].active = false;
                    self.emit(
                        EventId::AlarmCleared,
                        ev.source.clone(),
                        ev.subject.clone(),
                        ev.correlation,
                        format!("alarm condition {} cleared by {}", alarm.id, ev.id.code()),
                    );
                }
                if alarm.event == ev.id && self.filter_matches(alarm.filter, &ev) {
                    self.alarms[i].active = true;
                    self.alarms[i].activations += 1;
                    self.emit_with(
                        EventId::AlarmActivated,
                        ev.source.clone(),
                        ev.subject.clone(),
                        ev.correlation,
                        format!(
                            "alarm condition {} activated by {} ({})",
                            alarm.id,
                            ev.id.code(),
                            topo.entity_label(&ev.subject)
                        ),
                        vec![("alarm", alarm.id.clone()), ("event", ev.id.code().to_string())],
                    );
                    for r in &alarm.reactions {
                        self.react(r, &ev);
                    }
                }
            }
        }
    }

    fn react(&mut self, r: &Reaction, ev: &Event) {
        match r {
            Reaction::Notify(text) => self.command(Command::Notify {
                text: text.clone(),
                correlation: ev.correlation,
            }),
            Reaction::SetMode { app, primary } => self.react_set_mode(*app, *primary, ev),
            Reaction::Switchover(p) => {
                let corr = ev.correlation.unwrap_or_else(|| self.new_correlation());
                let (p, to) = self.switch_unit(*p, 1 - self.pairs[p.ix()].active);
                self.alarm_switchover(p, to, Cause::Alarm(format!("on {}", ev.id.code())), corr);
            }
            Reaction::RunScript { script, target } => {
                let host = match target {
                    ScriptTarget::Host(h) => Some(*h),
                    ScriptTarget::EventHost => self.entity_host(&ev.source).or(self.entity_host(&ev.subject)),
                    ScriptTarget::PrimaryHost => self
                        .entity_pair(&ev.subject)
                        .or(self.entity_pair(&ev.source))
                        .map(|p| self.topo.app_host(self.side_app(p, self.pairs[p.ix()].active))),
                };
                let name = &self.topo.script(*script).id;
                let problem = match host {
                    None => Some(format!("script {name}: the event names no host to run it on")),
                    Some(h) if !self.topo.script(*script).allowed_on(h) => {
                        Some(format!("script {name} is not allowed on {}", self.topo.host(h).id))
                    }
                    Some(h) if !self.owns_host(h) || !self.hosts[h.ix()].connected => Some(format!(
                        "script {name}: the agent of {} is unreachable",
                        self.topo.host(h).id
                    )),
                    Some(_) => None,
                };
                match (problem, host) {
                    (None, Some(h)) => {
                        let vars = [
                            ("event", ev.id.code().to_string()),
                            ("subject", self.topo.entity_label(&ev.subject)),
                            ("source", self.topo.entity_label(&ev.source)),
                            ("host", self.topo.host(h).id.clone()),
                        ];
                        self.start_script(*script, h, ev.correlation, &vars);
                    }
                    (problem, _) => {
                        let why = problem.unwrap_or_default();
                        self.emit(
                            EventId::ScriptFailed,
                            ev.source.clone(),
                            ev.subject.clone(),
                            ev.correlation,
                            format!("reaction not run: {why}"),
                        );
                    }
                }
            }
        }
    }

    /// A set-mode reaction passes the same gates as every other path to a mode change: on
    /// an instance of a pair it is a switchover to (or away from) that instance, refused
    /// in maintenance, under an anti-flap hold, towards a backup that is not ready, or when
    /// an agent is unreachable.
    fn react_set_mode(&mut self, app: AppIx, primary: bool, ev: &Event) {
        let host = self.topo.app_host(app);
        #[cfg(test)]
        if self.sabotage.set_mode_ignores_maintenance {
            // The old behaviour: order the mode directly, past every gate.
            let mode = if primary { Mode::Primary } else { Mode::Backup };
            self.order_mode(app, mode, ev.correlation);
            return;
        }
        let Some(p) = self.topo.app(app).pair else {
            if self.owns_host(host) && self.hosts[host.ix()].connected {
                let mode = if primary { Mode::Primary } else { Mode::Backup };
                self.order_mode(app, mode, ev.correlation);
            }
            return;
        };
        if !self.owns_pair(p) {
            return;
        }
        let side = self.topo.side_of(p, app);
        let a = &self.apps[app.ix()];
        let already = if primary {
            a.is_known_primary()
        } else {
            a.mode == Mode::Backup || !a.status.is_running()
        };
        if already {
            return;
        }
        let to = if primary { side } else { 1 - side };
        let corr = match ev.correlation.or(self.pairs[p.ix()].incident) {
            Some(c) => c,
            None => self.new_correlation(),
        };
        let cause = Cause::Alarm(format!(
            "set {} to {} on {}",
            self.topo.app_label(app),
            if primary { "primary" } else { "backup" },
            ev.id.code()
        ));
        let (p, to) = self.switch_unit(p, to);
        self.alarm_switchover(p, to, cause, corr);
    }

    /// An alarm reaction's switchover: gated like every automatic one, and refused (with
    /// an event) while another switchover of the pair is in flight.
    fn alarm_switchover(&mut self, p: PairIx, to: usize, cause: Cause, corr: Correlation) {
        if let Some(sw) = &self.pairs[p.ix()].switchover {
            let why = format!("switchover {} of the pair is {}", sw.id, sw.step.as_str());
            self.emit_with(
                EventId::SwitchoverRefused,
                Entity::Pair(p),
                Entity::Pair(p),
                Some(corr),
                format!(
                    "{} of {} refused: {why}",
                    cause.describe(&self.topo),
                    self.topo.pair(p).id
                ),
                vec![("reason", why)],
            );
            return;
        }
        self.auto_switchover(p, to, cause, corr);
    }

    /// What switches when `p` is to run as primary on side `to`: the pair itself, or for a
    /// group member its leader, on the side of the same host (members follow the leader).
    pub(crate) fn switch_unit(&self, p: PairIx, to: usize) -> (PairIx, usize) {
        let Some(g) = self.topo.pair(p).group else {
            return (p, to);
        };
        let leader = self.topo.group(g).leader;
        let host = self.topo.app_host(self.side_app(p, to));
        let side = if self.topo.app_host(self.side_app(leader, 0)) == host {
            0
        } else {
            1
        };
        (leader, side)
    }

    /// The alarm reactions a switchover of `p` from `from` to `to` would trigger (for plans).
    pub(crate) fn planned_reactions(&self, p: PairIx, from: AppIx, to: AppIx) -> Vec<String> {
        let mut out = Vec::new();
        let probes = [
            (EventId::ModeBackup, from),
            (EventId::ModePrimary, to),
            (EventId::AnnouncedPrimary, to),
        ];
        for (id, app) in probes {
            let ev = Event {
                t: self.now,
                id,
                source: Entity::App(app),
                subject: Entity::Pair(p),
                correlation: None,
                message: String::new(),
                attrs: Vec::new(),
            };
            for a in &self.topo.alarms {
                if a.event == id && self.filter_matches(a.filter, &ev) {
                    for r in &a.reactions {
                        out.push(match r {
                            Reaction::RunScript { script, target } => {
                                let on = match target {
                                    ScriptTarget::Host(h) => self.topo.host(*h).id.clone(),
                                    ScriptTarget::EventHost | ScriptTarget::PrimaryHost => {
                                        self.topo.host(self.topo.app_host(app)).id.clone()
                                    }
                                };
                                format!(
                                    "alarm {} ({}): run {} on {on}",
                                    a.id,
                                    id.code(),
                                    self.topo.script(*script).id
                                )
                            }
                            Reaction::Switchover(q) => {
                                format!("alarm {} ({}): switch over {}", a.id, id.code(), self.topo.pair(*q).id)
                            }
                            Reaction::SetMode { app, primary } => format!(
                                "alarm {} ({}): set {} to {}",
                                a.id,
                                id.code(),
                                self.topo.app_label(*app),
                                if *primary { "primary" } else { "backup" }
                            ),
                            Reaction::Notify(t) => format!("alarm {} ({}): notify \"{t}\"", a.id, id.code()),
                        });
                    }
                }
            }
        }
        out
    }
}
