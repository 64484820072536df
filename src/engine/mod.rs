//! The HA engine: a deterministic state machine, one per site controller.
//!
//! Inputs (agent heartbeats and reports, VIP and script results, peer probes, operator
//! commands) go in with the current time through [`Engine::handle`]; deadlines fire through
//! [`Engine::handle_timeout`]; the driver drains [`Command`]s to carry out and [`Event`]s to
//! log with [`Engine::drain`], and sleeps until [`Engine::next_timeout`]. Nothing in this
//! module tree reads a clock, does I/O or spawns a thread, so the drill and the daemons drive
//! exactly the same logic.

pub mod alarm;
pub mod config;
mod durable;
pub mod endpoint;
pub mod event;
mod group;
mod host;
mod pair;
mod peer_site;
pub mod plan;
mod recovery;
mod script;
mod switchover;
pub mod time;
pub mod timer;
pub mod topology;
mod vip;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use durable::{Durable, DurableAnswer, DurablePair, MAX_REMEMBERED_REQUESTS};
pub use event::{Correlation, Entity, Event, EventId, Severity};
pub use host::Failure;
pub use pair::{AppRt, AppStatus, Brain, Mode, PairRt, Redundancy};
pub use plan::{Check, CheckStatus, Plan};
pub use switchover::{Cause, Step, Switchover};
pub use time::{Span, Time};
pub use topology::*;
pub use vip::{ARP_PROBE_PERIOD, ARP_SETTLE, VipObs, VipRt};

use alarm::AlarmRt;
use group::GroupRt;
use host::HostRt;
use peer_site::PeerRt;
use timer::{TimerKey, Timers};

/// What an agent says about an application's process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppReport {
    /// Running and healthy (or a backup whose start-up checks passed).
    Running,
    /// The process exited.
    Exited { code: i32 },
    /// The health probe failed `failures` times in a row.
    ProbeFailed { detail: String },
    /// The application reported SERVICE_UNAVAILABLE (no traffic, or a backup whose
    /// start-up checks failed).
    ServiceUnavailable { detail: String },
    /// Running, with its start-up checks in progress (a backup is not ready until they pass).
    Starting,
}

/// One input to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The controller starts: arms its timers and asks every agent for its state.
    Start,
    Heartbeat {
        host: HostIx,
    },
    AppState {
        app: AppIx,
        report: AppReport,
    },
    /// The mode an application runs in, after an order or on resync.
    ModeReport {
        app: AppIx,
        mode: Mode,
    },
    /// The application announced that it runs as primary (4563).
    Announced {
        app: AppIx,
    },
    NicState {
        host: HostIx,
        nic: usize,
        up: bool,
    },
    /// Whether a pair's VIP is bound on a host, as the host's agent sees it.
    VipState {
        host: HostIx,
        pair: PairIx,
        bound: bool,
    },
    VipResult {
        host: HostIx,
        pair: PairIx,
        enable: bool,
        ok: bool,
        detail: String,
    },
    /// Whether another machine answers ARP for a pair's VIP that `host` has bound: the
    /// hardware address that answered, or `None` when nobody else does. Only a host that
    /// holds the address looks; its agent probes continuously.
    VipElsewhere {
        host: HostIx,
        pair: PairIx,
        by: Option<String>,
    },
    ScriptResult {
        run: u64,
        outcome: ScriptOutcome,
    },
    /// The answer (or the lack of one) to the last inter-site probe.
    PeerProbe {
        answered: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOutcome {
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub duration: Span,
    pub output_tail: String,
}

/// Who asked, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    pub name: String,
    pub from: Option<String>,
}

impl Operator {
    pub fn label(&self) -> String {
        match &self.from {
            Some(f) => format!("{} from {}", self.name, f),
            None => self.name.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorCommand {
    Switchover {
        pair: PairIx,
        to: Option<AppIx>,
        force: bool,
    },
    Maintenance {
        pair: PairIx,
        on: bool,
        /// Maintenance ends by itself after this long (HC-1601); `None` until turned off.
        expires: Option<Span>,
    },
    RunScript {
        script: ScriptIx,
        host: HostIx,
    },
    /// Forget the pair's switchovers inside the anti-flap window (crm_mon's failcount
    /// cleanup): automatic switchovers are no longer held back.
    ResetAntiFlap {
        pair: PairIx,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorRequest {
    pub operator: Operator,
    /// Makes the request idempotent: the same id gets the same answer, once carried out.
    pub request_id: Option<String>,
    pub reason: Option<String>,
    pub command: OperatorCommand,
}

/// What an accepted operator command started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub correlation: Correlation,
    pub switchover: Option<u64>,
    pub run: Option<u64>,
}

/// Why an operator command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Why a VIP control command was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VipReason {
    /// The placement is wrong: first attempt.
    Placement,
    /// The placement is still wrong after a failed attempt.
    Retry,
    /// A duplicate was just resolved: announce the address again from its holder.
    Reannounce,
}

/// One thing the driver must carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    SetMode {
        host: HostIx,
        app: AppIx,
        mode: Mode,
        correlation: Option<Correlation>,
    },
    Vip {
        host: HostIx,
        pair: PairIx,
        enable: bool,
        reason: VipReason,
        correlation: Option<Correlation>,
    },
    RunScript {
        run: u64,
        host: HostIx,
        script: ScriptIx,
        args: Vec<String>,
        correlation: Option<Correlation>,
    },
    /// Start an application the controller stopped; it comes up with no mode.
    Start {
        host: HostIx,
        app: AppIx,
        correlation: Option<Correlation>,
    },
    /// Stop an application: SIGTERM, then SIGKILL after the agent's grace period. The
    /// agent does not restart it until told to [`Command::Start`] it.
    Stop {
        host: HostIx,
        app: AppIx,
        correlation: Option<Correlation>,
    },
    /// Kill an application at once (SIGKILL); not restarted until started.
    Kill {
        host: HostIx,
        app: AppIx,
        correlation: Option<Correlation>,
    },
    /// Probe the peer site; answer with [`Input::PeerProbe`].
    ProbePeer { peer: SiteIx },
    /// Ask a (re)connected agent for its full state.
    Resync { host: HostIx },
    /// Tell an application whether its site runs alone (single-site mode).
    SiteMode {
        host: HostIx,
        app: AppIx,
        single_site: bool,
    },
    Notify {
        text: String,
        correlation: Option<Correlation>,
    },
}

impl Command {
    /// The host whose agent carries the command out, if any.
    pub fn host(&self) -> Option<HostIx> {
        match self {
            Command::SetMode { host, .. }
            | Command::Start { host, .. }
            | Command::Stop { host, .. }
            | Command::Kill { host, .. }
            | Command::Vip { host, .. }
            | Command::RunScript { host, .. }
            | Command::Resync { host }
            | Command::SiteMode { host, .. } => Some(*host),
            Command::ProbePeer { .. } | Command::Notify { .. } => None,
        }
    }
}

/// Test-only switches that break one behaviour each, to prove the drill's checks can fail.
/// Not reachable from the command line: the field exists only in test builds.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Sabotage {
    pub leave_split_brain: bool,
    pub forget_restarted_backup: bool,
    pub vip_per_member: bool,
    pub ignore_readiness: bool,
    pub fresh_vip_correlation: bool,
    pub slow_vip_retry: bool,
    /// VIP control binds the new holder before removing the address from the old one.
    pub vip_enable_first: bool,
    /// A switchover promotes without demoting (and so without waiting for the demotion).
    pub promote_before_demotion: bool,
    /// A backup still in mode none counts as redundant (with `forget_restarted_backup`: a
    /// forgotten restarted backup reported OK).
    pub report_backup_ok: bool,
    /// After a refused automatic switchover, nothing tries again.
    pub no_retry_after_refusal: bool,
    /// A group member fails over on its own instead of moving its group.
    pub members_decide_alone: bool,
    /// Set-mode alarm reactions run for a pair in maintenance.
    pub set_mode_ignores_maintenance: bool,
    /// A restored controller numbers its correlations from 1 again.
    pub forget_correlation_counter: bool,
    /// What agents say about other machines answering ARP for a VIP is ignored.
    pub deaf_to_arp: bool,
}

/// A script run the engine started and waits for.
#[derive(Clone, Debug)]
pub struct RunRt {
    pub script: ScriptIx,
    pub host: HostIx,
    pub started: Time,
    pub correlation: Option<Correlation>,
}

/// The HA engine of one site's controller.
pub struct Engine {
    topo: Arc<Topology>,
    site: SiteIx,
    hosts: Vec<HostRt>,
    apps: Vec<AppRt>,
    pairs: Vec<PairRt>,
    groups: Vec<GroupRt>,
    alarms: Vec<AlarmRt>,
    peer: Option<PeerRt>,
    runs: BTreeMap<u64, RunRt>,
    requests: durable::Requests,
    /// The durable state last handed out by [`Engine::take_durable`].
    last_durable: Option<Durable>,
    timers: Timers,
    commands: Vec<Command>,
    events: Vec<Event>,
    /// Events not yet matched against alarm conditions.
    unmatched: usize,
    next_correlation: u32,
    next_switchover: u64,
    next_run: u64,
    /// Pairs and groups to reconcile before the current step returns.
    dirty_pairs: Vec<PairIx>,
    dirty_groups: Vec<GroupIx>,
    now: Time,
    /// Until then, a pair whose preferred instance has not reported yet waits for it.
    grace_until: Time,
    #[cfg(test)]
    pub(crate) sabotage: Sabotage,
}

impl Engine {
    /// An engine for the controller of `site`. It supervises the pairs whose hosts are in
    /// that site and watches the site's peer.
    pub fn new(topo: Arc<Topology>, site: SiteIx) -> Engine {
        let hosts = topo.hosts.iter().map(|h| HostRt::new(h.nics.len())).collect();
        let apps = topo.apps.iter().map(|_| AppRt::default()).collect();
        let pairs = topo.pairs.iter().map(|_| PairRt::default()).collect();
        let groups = topo.groups.iter().map(|_| GroupRt::default()).collect();
        let alarms = topo.alarms.iter().map(|_| AlarmRt::default()).collect();
        let peer = topo.site(site).peer.map(PeerRt::new);
        Engine {
            topo,
            site,
            hosts,
            apps,
            pairs,
            groups,
            alarms,
            peer,
            runs: BTreeMap::new(),
            requests: durable::Requests::default(),
            last_durable: None,
            timers: Timers::default(),
            commands: Vec::new(),
            events: Vec::new(),
            unmatched: 0,
            next_correlation: 1,
            next_switchover: 1,
            next_run: 1,
            dirty_pairs: Vec::new(),
            dirty_groups: Vec::new(),
            now: Time::ZERO,
            grace_until: Time::ZERO,
            #[cfg(test)]
            sabotage: Sabotage::default(),
        }
    }

    pub fn topology(&self) -> &Arc<Topology> {
        &self.topo
    }

    pub fn site(&self) -> SiteIx {
        self.site
    }

    /// Whether this controller supervises `host`.
    pub fn owns_host(&self, host: HostIx) -> bool {
        self.topo.host(host).site == self.site
    }

    pub fn owns_pair(&self, pair: PairIx) -> bool {
        self.topo.pair(pair).site == self.site
    }

    /// Pairs of this site.
    pub fn own_pairs(&self) -> impl Iterator<Item = PairIx> + '_ {
        self.topo.pair_ixs().filter(|p| self.owns_pair(*p))
    }

    pub fn app(&self, app: AppIx) -> &AppRt {
        &self.apps[app.ix()]
    }
    pub fn pair(&self, pair: PairIx) -> &PairRt {
        &self.pairs[pair.ix()]
    }
    pub fn host_connected(&self, host: HostIx) -> bool {
        self.hosts[host.ix()].connected
    }
    pub fn host_nic(&self, host: HostIx, nic: usize) -> Option<bool> {
        self.hosts[host.ix()].nics.get(nic).copied().flatten()
    }
    pub fn host_last_heard(&self, host: HostIx) -> Option<Time> {
        let h = &self.hosts[host.ix()];
        h.ever_seen.then_some(h.last_heartbeat)
    }
    pub fn peer(&self) -> Option<&PeerRt> {
        self.peer.as_ref()
    }
    pub fn runs(&self) -> &BTreeMap<u64, RunRt> {
        &self.runs
    }
    pub fn group_side(&self, group: GroupIx) -> usize {
        self.pairs[self.topo.group(group).leader.ix()].active
    }
    pub fn group_redundancy(&self, group: GroupIx) -> Redundancy {
        self.topo
            .group(group)
            .members
            .iter()
            .map(|p| self.pairs[p.ix()].redundancy)
            .max_by_key(|r| r.rank())
            .unwrap_or(Redundancy::Ok)
    }

    /// Handles one input at `now` (which must not go backwards).
    pub fn handle(&mut self, now: Time, input: Input) {
        self.now = self.now.max(now);
        match input {
            Input::Start => self.start(),
            Input::Heartbeat { host } => self.on_heartbeat(host),
            Input::AppState { app, report } => self.on_app_state(app, report),
            Input::ModeReport { app, mode } => self.on_mode_report(app, mode),
            Input::Announced { app } => self.on_announced(app),
            Input::NicState { host, nic, up } => self.on_nic(host, nic, up),
            Input::VipState { host, pair, bound } => self.on_vip_state(host, pair, bound),
            Input::VipResult {
                host,
                pair,
                enable,
                ok,
                detail,
            } => self.on_vip_result(host, pair, enable, ok, detail),
            Input::VipElsewhere { host, pair, by } => self.on_vip_elsewhere(host, pair, by),
            Input::ScriptResult { run, outcome } => self.on_script_result(run, outcome),
            Input::PeerProbe { answered } => self.on_peer_probe(answered),
        }
        self.settle();
    }

    /// Fires every deadline due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        self.now = self.now.max(now);
        while let Some(key) = self.timers.pop_due(self.now) {
            match key {
                TimerKey::Heartbeat(h) => self.on_heartbeat_timer(h),
                TimerKey::Switchover(p) => self.on_switchover_timer(p),
                TimerKey::ModeOrder(a) => self.on_mode_order_timer(a),
                TimerKey::Vip(p) | TimerKey::Recheck(p) => self.mark_pair(p),
                TimerKey::AntiFlap(p) => self.on_anti_flap_timer(p),
                TimerKey::Maintenance(p) => self.on_maintenance_expired(p),
                TimerKey::PeerProbe => self.on_peer_probe_timer(),
                TimerKey::PeerOos => self.on_peer_oos_timer(),
                TimerKey::Script(run) => self.on_script_timer(run),
            }
        }
        self.settle();
    }

    /// The earliest time [`Engine::handle_timeout`] has work to do.
    pub fn next_timeout(&self) -> Option<Time> {
        self.timers.next()
    }

    /// Takes the commands and events produced so far.
    pub fn drain(&mut self) -> (Vec<Command>, Vec<Event>) {
        self.unmatched = 0;
        (std::mem::take(&mut self.commands), std::mem::take(&mut self.events))
    }

    /// Appends the commands and events produced so far to the given vectors (no allocation
    /// when they have room).
    pub fn drain_into(&mut self, commands: &mut Vec<Command>, events: &mut Vec<Event>) {
        self.unmatched = 0;
        commands.append(&mut self.commands);
        events.append(&mut self.events);
    }

    /// An operator command: carried out, or refused with the reason. Either way it is logged.
    pub fn operator(&mut self, now: Time, req: OperatorRequest) -> Result<Accepted, Refused> {
        self.now = self.now.max(now);
        if let Some(id) = &req.request_id
            && let Some(previous) = self.requests.get(id)
        {
            return previous.clone();
        }
        let result = self.run_operator(&req);
        if let Some(id) = req.request_id {
            self.requests.insert(id, result.clone());
        }
        self.settle();
        result
    }

    fn run_operator(&mut self, req: &OperatorRequest) -> Result<Accepted, Refused> {
        let corr = self.new_correlation();
        let what = match &req.command {
            OperatorCommand::Switchover { pair, to, force } => format!(
                "switchover {}{}{}",
                self.topo.pair(*pair).id,
                to.map(|a| format!(" to {}", self.topo.app_label(a)))
                    .unwrap_or_default(),
                if *force { " (forced)" } else { "" }
            ),
            OperatorCommand::Maintenance { pair, on, expires } => {
                format!(
                    "maintenance {} on {}{}",
                    if *on { "on" } else { "off" },
                    self.topo.pair(*pair).id,
                    match expires {
                        Some(s) if *on => format!(" for {s}"),
                        _ => String::new(),
                    }
                )
            }
            OperatorCommand::RunScript { script, host } => {
                format!("run {} on {}", self.topo.script(*script).id, self.topo.host(*host).id)
            }
            OperatorCommand::ResetAntiFlap { pair } => {
                format!("reset the anti-flap counter of {}", self.topo.pair(*pair).id)
            }
        };
        let reason = req.reason.clone().unwrap_or_default();
        let mut attrs = vec![("operator", req.operator.name.clone()), ("command", what.clone())];
        if let Some(from) = &req.operator.from {
            attrs.push(("from", from.clone()));
        }
        if !reason.is_empty() {
            attrs.push(("reason", reason.clone()));
        }
        let subject = match &req.command {
            OperatorCommand::Switchover { pair, .. }
            | OperatorCommand::Maintenance { pair, .. }
            | OperatorCommand::ResetAntiFlap { pair } => Entity::Pair(*pair),
            OperatorCommand::RunScript { host, .. } => Entity::Host(*host),
        };
        let why = if reason.is_empty() {
            String::new()
        } else {
            format!(": {reason}")
        };
        self.emit_with(
            EventId::OperatorCommand,
            Entity::Operator(req.operator.name.clone()),
            subject,
            Some(corr),
            format!("{} asked: {what}{why}", req.operator.label()),
            attrs,
        );
        match req.command.clone() {
            OperatorCommand::Switchover { pair, to, force } => {
                self.operator_switchover(pair, to, force, &req.operator, corr)
            }
            OperatorCommand::Maintenance { pair, on, expires } => {
                let until = expires.filter(|_| on).map(|s| self.now + s);
                self.set_maintenance(pair, on, until, corr)
            }
            OperatorCommand::RunScript { script, host } => self.operator_script(script, host, corr),
            OperatorCommand::ResetAntiFlap { pair } => self.reset_anti_flap(pair, corr),
        }
    }

    // ----------------------------------------------------------------- plumbing

    pub(crate) fn new_correlation(&mut self) -> Correlation {
        let c = Correlation {
            site: self.site,
            n: self.next_correlation,
        };
        self.next_correlation += 1;
        c
    }

    pub(crate) fn emit(
        &mut self,
        id: EventId,
        source: Entity,
        subject: Entity,
        corr: Option<Correlation>,
        message: String,
    ) {
        self.emit_with(id, source, subject, corr, message, Vec::new());
    }

    pub(crate) fn emit_with(
        &mut self,
        id: EventId,
        source: Entity,
        subject: Entity,
        correlation: Option<Correlation>,
        message: String,
        attrs: Vec<(&'static str, String)>,
    ) {
        self.events.push(Event {
            t: self.now,
            id,
            source,
            subject,
            correlation,
            message,
            attrs,
        });
    }

    pub(crate) fn command(&mut self, c: Command) {
        self.commands.push(c);
    }

    pub(crate) fn mark_pair(&mut self, p: PairIx) {
        if !self.dirty_pairs.contains(&p) {
            self.dirty_pairs.push(p);
        }
        if let Some(g) = self.topo.pair(p).group {
            if !self.dirty_groups.contains(&g) {
                self.dirty_groups.push(g);
            }
            // A group decides as one: members follow their leader, the leader's moves are
            // gated by its members' readiness, and a member's failure moves the group. What
            // changes one of them is looked at for all of them.
            for &m in &self.topo.group(g).members {
                if !self.dirty_pairs.contains(&m) {
                    self.dirty_pairs.push(m);
                }
            }
        }
    }

    /// Reconciles whatever the step touched, and matches new events against alarm
    /// conditions, until nothing changes (bounded: each round only follows new facts).
    fn settle(&mut self) {
        for _ in 0..16 {
            self.match_alarms();
            if self.dirty_pairs.is_empty() && self.dirty_groups.is_empty() {
                break;
            }
            let pairs = std::mem::take(&mut self.dirty_pairs);
            for p in pairs {
                self.reconcile_pair(p);
                self.reconcile_vip(p);
                if self.check_vip_step(p) {
                    self.reconcile_pair(p);
                }
                self.update_redundancy(p);
            }
            let groups = std::mem::take(&mut self.dirty_groups);
            for g in groups {
                self.align_group(g);
                self.update_group_redundancy(g);
            }
        }
        self.match_alarms();
    }

    /// The controller stops (a graceful shutdown): it gives up leadership and says so.
    /// The driver drains the events, then drops the engine.
    pub fn stop(&mut self, now: Time) {
        self.now = self.now.max(now);
        let corr = self.new_correlation();
        let site = self.topo.site(self.site).id.clone();
        self.emit(
            EventId::LeadershipLost,
            Entity::Controller(self.site),
            Entity::Site(self.site),
            Some(corr),
            format!("controller of site {site} gives up being the active controller (stopping)"),
        );
        self.emit(
            EventId::ControllerStopped,
            Entity::Controller(self.site),
            Entity::Site(self.site),
            Some(corr),
            format!("controller of site {site} stopped"),
        );
    }

    fn start(&mut self) {
        let corr = self.new_correlation();
        self.emit(
            EventId::ControllerStarted,
            Entity::Controller(self.site),
            Entity::Site(self.site),
            Some(corr),
            format!("controller of site {} started", self.topo.site(self.site).id),
        );
        self.emit(
            EventId::LeadershipGained,
            Entity::Controller(self.site),
            Entity::Site(self.site),
            Some(corr),
            format!("active controller of site {}", self.topo.site(self.site).id),
        );
        let timeout = self.topo.controller.heartbeat_timeout;
        self.grace_until = self.now + self.topo.controller.mode_timeout;
        for h in self.topo.host_ixs() {
            if self.owns_host(h) {
                self.timers.set(TimerKey::Heartbeat(h), self.now + timeout);
            }
        }
        self.start_peer_probing();
    }
}

#[cfg(test)]
mod tests;
