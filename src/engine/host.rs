//! Agents and what they report: heartbeats (and their absence), application process
//! states, modes, announcements and NICs. Turns reports into facts on the pair state and
//! the catalog's failure events; the pair, group and VIP logic decide what to do.

use super::timer::TimerKey;
use super::*;

/// What the controller knows of one host's agent.
#[derive(Clone, Debug)]
pub(crate) struct HostRt {
    pub connected: bool,
    pub ever_seen: bool,
    pub last_heartbeat: Time,
    /// Per NIC: up, down, or not reported yet.
    pub nics: Vec<Option<bool>>,
    /// Correlation of the loss of this agent, while it is lost.
    pub lost_incident: Option<Correlation>,
}

impl HostRt {
    pub fn new(nics: usize) -> HostRt {
        HostRt {
            connected: false,
            ever_seen: false,
            last_heartbeat: Time::ZERO,
            nics: vec![None; nics],
            lost_incident: None,
        }
    }
}

/// Which failure an application had, for the pair's failover triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Exit,
    Probe,
    HostLost,
    ServiceUnavailable,
}

impl Failure {
    /// What happened, after the application's name.
    pub fn describe(self) -> &'static str {
        match self {
            Failure::Exit => "terminated",
            Failure::Probe => "failed its health probe",
            Failure::HostLost => "lost with its host's agent",
            Failure::ServiceUnavailable => "reported SERVICE_UNAVAILABLE",
        }
    }

    pub fn triggers(self, t: &Triggers) -> bool {
        match self {
            Failure::Exit => t.exit,
            Failure::Probe => t.probe,
            Failure::HostLost => t.host_lost,
            Failure::ServiceUnavailable => t.service_unavailable,
        }
    }
}

impl Engine {
    pub(crate) fn on_heartbeat(&mut self, host: HostIx) {
        if !self.owns_host(host) {
            return;
        }
        let timeout = self.topo.controller.heartbeat_timeout;
        let h = &mut self.hosts[host.ix()];
        h.last_heartbeat = self.now;
        if self.timers.get(TimerKey::Heartbeat(host)).is_none() {
            self.timers.set(TimerKey::Heartbeat(host), self.now + timeout);
        }
        if h.connected {
            return;
        }
        h.connected = true;
        let first = !h.ever_seen;
        h.ever_seen = true;
        let incident = h.lost_incident.take();
        if !first {
            self.emit(
                EventId::AgentRestored,
                Entity::Host(host),
                Entity::Host(host),
                incident,
                format!("connection to the agent of {} restored", self.topo.host(host).id),
            );
        }
        self.command(Command::Resync { host });
        for p in self.pairs_on_host(host) {
            self.mark_pair(p);
        }
    }

    pub(crate) fn on_heartbeat_timer(&mut self, host: HostIx) {
        let timeout = self.topo.controller.heartbeat_timeout;
        let h = &self.hosts[host.ix()];
        let silent = self.now.since(h.last_heartbeat);
        let due = h.ever_seen && silent < timeout;
        if due {
            let at = h.last_heartbeat + timeout;
            self.timers.set(TimerKey::Heartbeat(host), at);
            return;
        }
        if !h.connected && h.ever_seen {
            return;
        }
        if !h.ever_seen && h.lost_incident.is_some() {
            return;
        }
        self.agent_lost(host);
    }

    fn agent_lost(&mut self, host: HostIx) {
        let corr = self.new_correlation();
        let h = &mut self.hosts[host.ix()];
        h.connected = false;
        h.lost_incident = Some(corr);
        let never = !h.ever_seen;
        let silent = self.now.since(h.last_heartbeat);
        self.emit(
            EventId::AgentLost,
            Entity::Host(host),
            Entity::Host(host),
            Some(corr),
            if never {
                format!("agent of {} never connected", self.topo.host(host).id)
            } else {
                format!(
                    "connection to the agent of {} lost (no heartbeat for {silent})",
                    self.topo.host(host).id
                )
            },
        );
        let apps = self.topo.host(host).apps.clone();
        for app in apps {
            let was_known = self.apps[app.ix()].status.is_known();
            self.apps[app.ix()].status = AppStatus::Unknown;
            self.apps[app.ix()].stale = true;
            self.apps[app.ix()].ordered = None;
            self.timers.cancel(TimerKey::ModeOrder(app));
            if was_known {
                // A pair already in an incident keeps it; otherwise the host's loss is it.
                let pair_corr = self
                    .topo
                    .app(app)
                    .pair
                    .and_then(|p| self.pairs[p.ix()].incident)
                    .unwrap_or(corr);
                self.emit(
                    EventId::AppUnavailable,
                    Entity::App(app),
                    self.app_subject(app),
                    Some(pair_corr),
                    format!("{} unavailable: connection to its agent lost", self.topo.app_label(app)),
                );
                self.app_failed(app, Failure::HostLost, pair_corr);
            }
        }
        self.vip_host_lost(host);
        for p in self.pairs_on_host(host) {
            self.mark_pair(p);
        }
    }

    pub(crate) fn pairs_on_host(&self, host: HostIx) -> Vec<PairIx> {
        self.topo
            .host(host)
            .apps
            .iter()
            .filter_map(|a| self.topo.app(*a).pair)
            .collect()
    }

    pub(crate) fn app_subject(&self, app: AppIx) -> Entity {
        match self.topo.app(app).pair {
            Some(p) => Entity::Pair(p),
            None => Entity::App(app),
        }
    }

    /// The incident an event about `app` belongs to: the pair's open one, or a new one.
    pub(crate) fn incident_for(&mut self, app: AppIx) -> Correlation {
        if let Some(p) = self.topo.app(app).pair
            && let Some(c) = self.pairs[p.ix()].incident
        {
            return c;
        }
        self.new_correlation()
    }

    pub(crate) fn on_app_state(&mut self, app: AppIx, report: AppReport) {
        let host = self.topo.app_host(app);
        if !self.owns_host(host) || !self.hosts[host.ix()].connected {
            return;
        }
        let label = self.topo.app_label(app);
        let before = self.apps[app.ix()].status;
        match report {
            AppReport::Running => {
                let a = &mut self.apps[app.ix()];
                a.status = AppStatus::Up;
                a.failure = None;
                if before == AppStatus::Down {
                    a.fenced = false; // it runs again (restarted or started)
                }
                a.detail.clear();
                match before {
                    AppStatus::Down => {
                        let corr = self.incident_for(app);
                        self.emit(
                            EventId::AppStarted,
                            Entity::App(app),
                            self.app_subject(app),
                            Some(corr),
                            format!("{label} started"),
                        );
                    }
                    AppStatus::Unavailable => {
                        let corr = self.incident_for(app);
                        self.emit(
                            EventId::AppRecovered,
                            Entity::App(app),
                            self.app_subject(app),
                            Some(corr),
                            format!("{label} available again"),
                        );
                    }
                    _ => {}
                }
            }
            AppReport::Exited { code } => {
                let a = &mut self.apps[app.ix()];
                a.status = AppStatus::Down;
                a.mode = Mode::None;
                a.announced = false;
                a.ordered = None;
                a.stale = false;
                a.failure = Some(Failure::Exit);
                a.detail = format!("exited with code {code}");
                self.timers.cancel(TimerKey::ModeOrder(app));
                if before != AppStatus::Down && self.apps[app.ix()].fenced {
                    // Stopped on the controller's order: expected, not a failure.
                    let corr = self.incident_for(app);
                    self.emit_with(
                        EventId::AppStopped,
                        Entity::App(app),
                        self.app_subject(app),
                        Some(corr),
                        format!("{label} stopped on the controller's order (exit code {code})"),
                        vec![("exit_code", code.to_string())],
                    );
                    if let Some(p) = self.topo.app(app).pair {
                        let side = self.topo.side_of(p, app);
                        self.switchover_app_failed(p, side);
                    }
                } else if before != AppStatus::Down {
                    let corr = self.incident_for(app);
                    if before.is_known() && before != AppStatus::Unavailable {
                        self.emit(
                            EventId::AppUnavailable,
                            Entity::App(app),
                            self.app_subject(app),
                            Some(corr),
                            format!("{label} unavailable: connection to it lost"),
                        );
                    }
                    self.emit_with(
                        EventId::AppTerminated,
                        Entity::App(app),
                        self.app_subject(app),
                        Some(corr),
                        format!("{label} terminated unexpectedly (exit code {code})"),
                        vec![("exit_code", code.to_string())],
                    );
                    self.app_failed(app, Failure::Exit, corr);
                }
            }
            AppReport::Starting => {
                let a = &mut self.apps[app.ix()];
                a.status = AppStatus::Starting;
                a.failure = None;
                a.detail = "start-up checks in progress".into();
            }
            AppReport::ProbeFailed { detail } => {
                self.app_unavailable(app, before, Failure::Probe, format!("health probe failed: {detail}"));
            }
            AppReport::ServiceUnavailable { detail } => {
                self.app_unavailable(
                    app,
                    before,
                    Failure::ServiceUnavailable,
                    format!("reported SERVICE_UNAVAILABLE: {detail}"),
                );
            }
        }
        if let Some(p) = self.topo.app(app).pair {
            self.mark_pair(p);
        }
    }

    fn app_unavailable(&mut self, app: AppIx, before: AppStatus, kind: Failure, detail: String) {
        let a = &mut self.apps[app.ix()];
        a.status = AppStatus::Unavailable;
        a.failure = Some(kind);
        a.detail = detail.clone();
        if before != AppStatus::Unavailable {
            let corr = self.incident_for(app);
            self.emit_with(
                EventId::AppUnavailable,
                Entity::App(app),
                self.app_subject(app),
                Some(corr),
                format!("{} unavailable: {detail}", self.topo.app_label(app)),
                vec![("detail", detail)],
            );
            self.app_failed(app, kind, corr);
        }
    }

    pub(crate) fn on_mode_report(&mut self, app: AppIx, mode: Mode) {
        let host = self.topo.app_host(app);
        if !self.owns_host(host) || !self.hosts[host.ix()].connected {
            return;
        }
        let checks = self.topo.app(app).backup_check.enabled;
        let a = &mut self.apps[app.ix()];
        let before = a.mode;
        a.mode = mode;
        a.stale = false;
        if mode != Mode::Primary {
            a.announced = false;
        }
        let answered = a.ordered.is_some_and(|(m, _)| m == mode);
        a.order_timeouts = 0;
        if answered {
            a.ordered = None;
            self.timers.cancel(TimerKey::ModeOrder(app));
        }
        // A new backup runs its start-up checks (W6): it is not ready until its agent
        // reports their verdict, whatever order the two reports arrive in.
        // (Only for a change the controller saw: a mode it learns on resync comes with the
        // agent's own account of the checks.)
        if answered
            && a.mode_known
            && mode == Mode::Backup
            && before != Mode::Backup
            && checks
            && a.status == AppStatus::Up
        {
            a.status = AppStatus::Starting;
            a.detail = "start-up checks in progress".into();
        }
        let assignment = std::mem::take(&mut a.assigning) && answered;
        let learned = !std::mem::replace(&mut a.mode_known, true);
        if before != mode {
            a.mode_learned = learned;
        }
        if before != mode && mode != Mode::None && !learned {
            // A change nobody ordered (no switchover, no open incident) is an incident.
            let corr = match (self.mode_correlation(app), self.topo.app(app).pair) {
                (None, Some(p)) if self.owns_pair(p) => Some(self.pair_incident(p)),
                (corr, _) => corr,
            };
            let (id, word) = if mode == Mode::Primary {
                (EventId::ModePrimary, "primary")
            } else {
                (EventId::ModeBackup, "backup")
            };
            let mut attrs = vec![("mode", word.to_string())];
            if assignment {
                attrs.push(("assignment", "start-up".to_string()));
            }
            self.emit_with(
                id,
                Entity::App(app),
                self.app_subject(app),
                corr,
                format!(
                    "{} changed to {word} mode{}",
                    self.topo.app_label(app),
                    if assignment { " (start-up assignment)" } else { "" }
                ),
                attrs,
            );
        }
        if let Some(p) = self.topo.app(app).pair {
            self.on_switchover_mode(p, app, mode);
            self.mark_pair(p);
        }
    }

    pub(crate) fn on_announced(&mut self, app: AppIx) {
        let host = self.topo.app_host(app);
        if !self.owns_host(host) || !self.hosts[host.ix()].connected {
            return;
        }
        if self.apps[app.ix()].mode != Mode::Primary || self.apps[app.ix()].announced {
            return;
        }
        self.apps[app.ix()].announced = true;
        if self.apps[app.ix()].mode_learned {
            // Part of what a restarted controller learns: no news to log.
            if let Some(p) = self.topo.app(app).pair {
                self.on_switchover_announced(p, app);
                self.mark_pair(p);
            }
            return;
        }
        let corr = self.mode_correlation(app);
        self.emit(
            EventId::AnnouncedPrimary,
            Entity::App(app),
            self.app_subject(app),
            corr,
            format!("{} announces it runs as primary", self.topo.app_label(app)),
        );
        if let Some(p) = self.topo.app(app).pair {
            self.on_switchover_announced(p, app);
            self.mark_pair(p);
        }
    }

    /// The correlation of a mode change: the pair's switchover, else its open incident.
    fn mode_correlation(&self, app: AppIx) -> Option<Correlation> {
        let p = self.topo.app(app).pair?;
        let pr = &self.pairs[p.ix()];
        pr.switchover.as_ref().map(|s| s.correlation).or(pr.incident)
    }

    pub(crate) fn on_nic(&mut self, host: HostIx, nic: usize, up: bool) {
        if !self.owns_host(host) || nic >= self.hosts[host.ix()].nics.len() {
            return;
        }
        let before = self.hosts[host.ix()].nics[nic];
        self.hosts[host.ix()].nics[nic] = Some(up);
        if before == Some(up) {
            return;
        }
        // A NIC that comes back lets the host act on its VIPs again: retry now rather than
        // at the next backoff step, so a stale address is gone before traffic finds it.
        for p in self.pairs_on_host(host) {
            if up {
                self.vip_host_can_act(p, host);
            }
            self.mark_pair(p);
        }
    }
}
