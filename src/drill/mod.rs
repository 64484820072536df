//! The drill: a simulated deployment driving the real engines (one per site) in virtual
//! time. A priority queue holds what the simulated network, agents and processes will do;
//! the clock jumps to the earliest of that queue, the engines' deadlines and the endpoint
//! populations. Faults and operator commands come from a scenario's schedule or from the
//! console. Invariants are checked after every step.

mod agent;
mod apply;
pub mod check;
mod endpoints;
pub mod fault;
mod hosts;
pub mod oracle;
pub mod random;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod world;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::engine::{
    self, AppIx, Command, Engine, Entity, Event, EventId, HostIx, Input, Operator, OperatorCommand, SiteIx, Span, Time,
    Topology,
};
use crate::wire::{self, OpError};

pub use fault::{ActiveFault, Fault};
pub use report::Report;
pub use scenario::Scenario;

use check::Checker;
use endpoints::Populations;
use oracle::Oracle;
use rng::Rng;
use world::World;

/// The most a flaky agent link delays a message, and how many of its heartbeats it loses.
const FLAKY_LAG_MS: u64 = 600;
const FLAKY_HEARTBEAT_LOSS: f64 = 0.3;

/// Something the simulation will do at a time.
#[derive(Clone, Debug)]
pub(crate) enum Ev {
    /// A message from an agent (or the peer site) reaches a controller.
    ToController {
        site: SiteIx,
        from: Option<HostIx>,
        input: Input,
    },
    /// A controller's command reaches an agent.
    ToAgent {
        site: SiteIx,
        cmd: Command,
    },
    /// A process its agent (or the application itself) started is up.
    Started {
        app: AppIx,
        epoch: u32,
        /// Started by the application itself: its agent finds it rather than spawned it.
        found: bool,
    },
    /// The application restarts itself (a `not-ready` fault).
    SelfRestart {
        app: AppIx,
        epoch: u32,
    },
    /// A probe of a hung process goes unanswered.
    ProbeNoAnswer {
        app: AppIx,
        epoch: u32,
    },
    /// A signalled process exits.
    Stopped {
        app: AppIx,
        epoch: u32,
        signal: i32,
    },
    /// A mode hook completes.
    HookDone {
        app: AppIx,
        epoch: u32,
        mode: engine::Mode,
    },
    Announce {
        app: AppIx,
        epoch: u32,
    },
    /// A backup's start-up checks reach their verdict.
    BackupCheck {
        app: AppIx,
        epoch: u32,
    },
    /// The agent learns the result of a VIP change.
    VipDone {
        host: HostIx,
        incarnation: u32,
        pair: engine::PairIx,
        enable: bool,
        result: Result<(), String>,
    },
    /// The agents holding the pair's VIP probe whether another host answers ARP for it.
    ArpProbe {
        pair: engine::PairIx,
    },
    /// A script finishes on its host.
    ScriptDone {
        host: HostIx,
        incarnation: u32,
        run: u64,
        exit_code: i32,
        last: String,
    },
    Action(usize),
}

struct Queued {
    at: Time,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// One scheduled action of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Inject(Fault),
    /// Heals the oldest active fault equal to this one.
    Heal(Fault),
    HealAll,
    /// An operator request, by names, from the drill's operator.
    Operator(wire::Request),
}

/// One call the drill made into an engine, for replay (benchmarks, debugging).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    Input(Input),
    Timeout,
}

/// A note in the transcript that is not a catalog event: faults, heals, operator actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub t: Time,
    pub text: String,
}

/// A script run as the console streams it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptRun {
    pub run: u64,
    pub site: SiteIx,
    pub script: String,
    pub host: String,
    pub started: Time,
    /// Output lines with the time each appears.
    pub lines: Vec<(Time, String)>,
    /// Exit code and end time, once done.
    pub done: Option<(Option<i32>, Time)>,
}

/// A running drill.
pub struct Drill {
    topo: Arc<Topology>,
    seed: u64,
    pub(crate) world: World,
    pub(crate) engines: Vec<Option<Engine>>,
    queue: BinaryHeap<Reverse<Queued>>,
    seq: u64,
    now: Time,
    pub(crate) rng: Rng,
    events: Vec<Event>,
    /// Per event: the site whose controller logged it (the drill's own events: the site
    /// they are about) and its number in that site's log.
    origins: Vec<(SiteIx, u64)>,
    /// Per site: the number of the last event logged.
    last_seq: Vec<u64>,
    notes: Vec<Note>,
    faults: Vec<ActiveFault>,
    next_fault: u32,
    pub(crate) scripts: Vec<ScriptRun>,
    pub(crate) populations: Populations,
    checker: Checker,
    oracle: Oracle,
    schedule: Vec<(Time, Action)>,
    scenario: Option<Scenario>,
    /// Loss probability of datagrams (inter-site probes, SIP over UDP); agents talk over
    /// TCP, where the network shows as delay or a cut, not as loss.
    pub(crate) loss: f64,
    /// Scripts fail with this probability (random scenario only).
    pub(crate) script_failure: f64,
    commands: Vec<Command>,
    new_events: Vec<Event>,
    operator: Operator,
    /// Per host: the last delivery time on its agent link, each way. An agent talks over
    /// one TCP connection, so messages arrive in the order they were sent.
    last_up: Vec<Time>,
    last_down: Vec<Time>,
    /// Per pair: an ARP probe of its VIP is due (see [`Ev::ArpProbe`]).
    arp_due: Vec<bool>,
    /// Every engine call, when recording is on.
    recording: Option<Vec<(Time, SiteIx, Recorded)>>,
    /// When each host's agent core has a deadline, and what its agents were told but have
    /// not handled yet.
    agents: agent::Pump,
    /// Per site: the durable state its controller last committed (its journal), which a
    /// restarted controller restores.
    pub(crate) journal: Vec<Option<crate::engine::Durable>>,
    /// Test-only engine sabotage, given to every engine including restarted ones.
    #[cfg(test)]
    pub(crate) sabotage: crate::engine::Sabotage,
}

impl Drill {
    /// A drill of `topo` with nothing scheduled: the console's free-play mode.
    pub fn new(topo: Topology, seed: u64) -> Drill {
        let topo = Arc::new(topo);
        let topo_hosts = topo.hosts.len();
        let topo_sites = topo.sites.len();
        let topo_pairs = topo.pairs.len();
        let engines = topo.site_ixs().map(|s| Some(Engine::new(topo.clone(), s))).collect();
        let mut d = Drill {
            world: World::new(&topo),
            populations: Populations::new(&topo, seed),
            checker: Checker::new(&topo),
            oracle: Oracle::new(&topo),
            topo,
            seed,
            engines,
            queue: BinaryHeap::new(),
            seq: 0,
            now: Time::ZERO,
            rng: Rng::new(seed),
            events: Vec::new(),
            origins: Vec::new(),
            last_seq: vec![0; topo_sites],
            notes: Vec::new(),
            faults: Vec::new(),
            next_fault: 1,
            scripts: Vec::new(),
            schedule: Vec::new(),
            scenario: None,
            loss: 0.0,
            script_failure: 0.0,
            commands: Vec::new(),
            new_events: Vec::new(),
            operator: Operator {
                name: "drill".into(),
                from: None,
            },
            last_up: vec![Time::ZERO; topo_hosts],
            last_down: vec![Time::ZERO; topo_hosts],
            arp_due: vec![false; topo_pairs],
            recording: None,
            agents: agent::Pump::new(topo_hosts),
            journal: vec![None; topo_sites],
            #[cfg(test)]
            sabotage: crate::engine::Sabotage::default(),
        };
        d.boot();
        d
    }

    /// A drill that plays a named scenario.
    pub fn with_scenario(scenario: Scenario, seed: u64) -> Drill {
        let mut d = Drill::new(scenario.topology.clone(), seed);
        d.loss = scenario.loss;
        d.script_failure = scenario.script_failure;
        d.schedule = scenario.schedule.clone();
        for (i, (at, _)) in scenario.schedule.iter().enumerate() {
            d.push(*at, Ev::Action(i));
        }
        d.scenario = Some(scenario);
        d
    }

    fn boot(&mut self) {
        for s in self.topo.site_ixs() {
            self.with_engine(s, |e, now| e.handle(now, Input::Start));
        }
        // Every host's agent starts: it starts its applications and connects.
        for h in self.topo.host_ixs() {
            self.boot_agent(h);
        }
    }

    pub fn topology(&self) -> &Arc<Topology> {
        &self.topo
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn now(&self) -> Time {
        self.now
    }
    pub fn scenario(&self) -> Option<&Scenario> {
        self.scenario.as_ref()
    }
    pub fn engine(&self, site: SiteIx) -> Option<&Engine> {
        self.engines[site.ix()].as_ref()
    }
    pub fn world(&self) -> &World {
        &self.world
    }
    /// Every catalog event logged so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }
    pub fn faults(&self) -> &[ActiveFault] {
        &self.faults
    }
    pub fn script_runs(&self) -> &[ScriptRun] {
        &self.scripts
    }
    pub fn checker(&self) -> &Checker {
        &self.checker
    }
    pub fn oracle(&self) -> &Oracle {
        &self.oracle
    }
    /// The event at position `i` of the drill's log as operators see it: with the site that
    /// logged it and its number in that site's log.
    pub fn record(&self, i: usize) -> wire::EventRecord {
        let (site, seq) = self.origins[i];
        wire::event_record(&self.topo, site, seq, &self.events[i])
    }

    /// Starts recording every engine call (inputs and timeouts) from now on.
    pub fn record_engine_calls(&mut self) {
        self.recording.get_or_insert_with(Vec::new);
    }

    /// The engine calls recorded so far, in order, with their time and site.
    pub fn recorded(&self) -> &[(Time, SiteIx, Recorded)] {
        self.recording.as_deref().unwrap_or(&[])
    }

    fn record_call(&mut self, site: SiteIx, call: Recorded) {
        if let Some(r) = self.recording.as_mut() {
            r.push((self.now, site, call));
        }
    }

    /// Sets the operator name (and origin) the console's commands are logged with.
    pub fn set_operator(&mut self, operator: Operator) {
        self.operator = operator;
    }

    pub(crate) fn push(&mut self, at: Time, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Queued { at, seq: self.seq, ev }));
    }

    pub(crate) fn send_to_controller(&mut self, site: SiteIx, from: Option<HostIx>, input: Input, delay: Span) {
        let mut at = self.now + delay;
        if let Some(h) = from {
            at = at + self.link_lag(h);
            at = at.max(self.last_up[h.ix()]);
            self.last_up[h.ix()] = at;
        }
        self.push(at, Ev::ToController { site, from, input });
    }

    /// Runs `f` on the engine of `site` (if its controller runs) and routes what it produced.
    pub(crate) fn with_engine(&mut self, site: SiteIx, f: impl FnOnce(&mut Engine, Time)) {
        let now = self.now;
        if let Some(e) = self.engines[site.ix()].as_mut() {
            f(e, now);
            e.drain_into(&mut self.commands, &mut self.new_events);
        }
        self.route(site);
    }

    fn route(&mut self, site: SiteIx) {
        let events = std::mem::take(&mut self.new_events);
        for e in events {
            self.log(site, e);
        }
        let commands = std::mem::take(&mut self.commands);
        for c in commands {
            self.checker.on_command(&self.topo, self.now, &c);
            let delay = Span(self.rng.range(2, 12));
            let mut at = self.now + delay;
            if let Some(h) = c.host() {
                at = at + self.link_lag(h);
                at = at.max(self.last_down[h.ix()]);
                self.last_down[h.ix()] = at;
            }
            self.push(at, Ev::ToAgent { site, cmd: c });
        }
    }

    /// Logs an event in the log of `site`'s controller.
    pub(crate) fn log(&mut self, site: SiteIx, e: Event) {
        self.checker.on_event(&self.topo, &e);
        self.oracle.on_event(&e);
        self.last_seq[site.ix()] += 1;
        self.origins.push((site, self.last_seq[site.ix()]));
        self.events.push(e);
    }

    pub(crate) fn note(&mut self, text: String) {
        self.notes.push(Note { t: self.now, text });
    }

    /// The earliest time anything happens.
    fn next_wakeup(&self) -> Option<Time> {
        let q = self.queue.peek().map(|Reverse(q)| q.at);
        let e = self.engines.iter().flatten().filter_map(|e| e.next_timeout()).min();
        let p = self.populations.next();
        let a = self.agents.next();
        [q, e, p, a].into_iter().flatten().min()
    }

    /// Runs the simulation up to `until` (inclusive), then sets the clock to it.
    pub fn run_until(&mut self, until: Time) {
        while let Some(t) = self.next_wakeup() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Does everything due at `self.now`, one kind at a time.
    fn step(&mut self) {
        let now = self.now;
        for s in self.topo.site_ixs() {
            if self.engines[s.ix()]
                .as_ref()
                .and_then(|e| e.next_timeout())
                .is_some_and(|t| t <= now)
            {
                self.record_call(s, Recorded::Timeout);
                self.with_engine(s, |e, now| e.handle_timeout(now));
            }
        }
        if self.agents.next().is_some_and(|t| t <= now) {
            self.agent_deadlines();
        }
        if self.queue.peek().is_some_and(|Reverse(q)| q.at <= now) {
            let Reverse(q) = self.queue.pop().expect("peeked");
            self.dispatch(q.ev);
        }
        if self.populations.next().is_some_and(|t| t <= now) {
            self.step_endpoints();
        }
        self.checker.after_step(&self.topo, now, &self.world, &self.engines);
        self.oracle.after_step(&self.topo, now, &self.world);
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::ToController { site, from, input } => {
                let ok = match from {
                    Some(h) => self.world.agent_path(&self.topo, site, h),
                    None => self.world.sites_up[site.ix()],
                };
                if ok {
                    self.checker.on_input(&self.topo, &input);
                    if self.engines[site.ix()].is_some() {
                        self.record_call(site, Recorded::Input(input.clone()));
                    }
                    self.with_engine(site, |e, now| e.handle(now, input));
                }
            }
            Ev::ToAgent { site, cmd } => self.agent_command(site, cmd),
            Ev::Started { app, epoch, found } => self.app_started(app, epoch, found),
            Ev::SelfRestart { app, epoch } => self.app_self_restart(app, epoch),
            Ev::ProbeNoAnswer { app, epoch } => self.probe_no_answer(app, epoch),
            Ev::Stopped { app, epoch, signal } => self.app_stopped(app, epoch, signal),
            Ev::HookDone { app, epoch, mode } => self.hook_done(app, epoch, mode),
            Ev::Announce { app, epoch } => self.app_announce(app, epoch),
            Ev::BackupCheck { app, epoch } => self.backup_check(app, epoch),
            Ev::VipDone {
                host,
                incarnation,
                pair,
                enable,
                result,
            } => self.vip_done(host, incarnation, pair, enable, result),
            Ev::ArpProbe { pair } => self.arp_probe(pair),
            Ev::ScriptDone {
                host,
                incarnation,
                run,
                exit_code,
                last,
            } => self.script_done(host, incarnation, run, exit_code, last),
            Ev::Action(i) => {
                let action = self.schedule[i].1.clone();
                // Scheduled operator refusals are part of the scenario: they are logged.
                let _ = self.act(action);
            }
        }
    }

    pub(crate) fn lost(&mut self) -> bool {
        self.loss > 0.0 && self.rng.chance(self.loss)
    }

    /// Extra delay on a flaky agent link (nothing on a healthy one).
    fn link_lag(&mut self, h: HostIx) -> Span {
        if self.flaky(h) {
            Span(self.rng.range(0, FLAKY_LAG_MS))
        } else {
            Span::ZERO
        }
    }

    fn flaky(&self, h: HostIx) -> bool {
        self.world.hosts[h.ix()].flaky
    }

    // ------------------------------------------------------------ actions

    /// Carries out a scenario or console action now.
    pub fn act(&mut self, action: Action) -> Result<String, String> {
        let r = match action {
            Action::Inject(f) => self.inject(f),
            Action::Heal(f) => match self.faults.iter().find(|a| a.fault == f).map(|a| a.id) {
                Some(id) => self.heal(id),
                None => Err(format!("no active fault {}", f.describe(&self.topo))),
            },
            Action::HealAll => {
                let ids: Vec<u32> = self.faults.iter().map(|f| f.id).collect();
                for id in &ids {
                    self.heal(*id)?;
                }
                Ok(format!("healed {} faults", ids.len()))
            }
            Action::Operator(req) => self.operator(&req).map(|a| a.to_string()).map_err(|e| e.to_string()),
        };
        if let Err(e) = &r {
            self.note(format!("refused: {e}"));
        }
        r
    }

    /// An operator request (console or scenario), by names, from the drill's operator:
    /// resolved as the API resolves it, carried out by the controller of its site.
    pub fn operator(&mut self, req: &wire::Request) -> Result<wire::Accepted, OpError> {
        let topo = self.topo.clone();
        let resolved = wire::resolve(&topo, req)?;
        if resolved.dry_run {
            return Err(OpError::Invalid(
                "a dry run only asks for the plan: there is nothing to carry out".into(),
            ));
        }
        let (op_pair, op_maintenance) = match &resolved.command {
            OperatorCommand::Switchover { pair, .. } => (Some(*pair), None),
            OperatorCommand::Maintenance { pair, on, .. } => (Some(*pair), Some(*on)),
            _ => (None, None),
        };
        let ereq = resolved.engine_request(self.operator.clone(), req);
        self.note(format!(
            "operator {}: {}",
            self.operator.label(),
            describe(&req.command)
        ));
        let site = resolved.site;
        let mut result = Err(OpError::Unavailable(format!(
            "the controller of site {} is down",
            topo.site(site).id
        )));
        self.with_engine(site, |e, now| result = e.operator(now, ereq).map_err(OpError::from));
        self.checker.on_operator(self.now);
        let accepted = op_maintenance.filter(|_| result.is_ok());
        self.oracle.on_operator(&topo, self.now, op_pair, accepted);
        result.map(|a| wire::Accepted::new(&topo, &a))
    }

    /// The switchover plan for a pair (or group), as the console and `--dry-run` show it.
    pub fn plan(&self, pair: &str, to: Option<&str>) -> Result<wire::PlanView, OpError> {
        let (p, to) = wire::resolve_switchover(&self.topo, pair, to)?;
        let site = self.topo.pair(p).site;
        let e = self.engines[site.ix()].as_ref().ok_or_else(|| {
            OpError::Unavailable(format!("the controller of site {} is down", self.topo.site(site).id))
        })?;
        let plan = e.plan_switchover(p, to)?;
        Ok(wire::plan_view(&self.topo, &plan))
    }

    pub fn inject(&mut self, fault: Fault) -> Result<String, String> {
        let label = fault.describe(&self.topo);
        if self.faults.iter().any(|f| f.fault == fault) {
            return Err(format!("{label} is already in effect"));
        }
        let id = self.next_fault;
        self.next_fault += 1;
        if !fault.is_one_shot() {
            self.faults.push(ActiveFault {
                id,
                fault: fault.clone(),
                since_ms: self.now.ms(),
                label: label.clone(),
            });
        }
        self.note(format!("fault #{id} injected: {label}"));
        self.checker.on_fault(self.now, fault.is_one_shot());
        self.oracle.on_fault(&self.topo, self.now, &fault, true);
        self.apply_fault(&fault, true);
        Ok(format!("fault #{id} injected: {label}"))
    }

    pub fn heal(&mut self, id: u32) -> Result<String, String> {
        let pos = self
            .faults
            .iter()
            .position(|f| f.id == id)
            .ok_or_else(|| format!("no active fault #{id}"))?;
        let f = self.faults.remove(pos);
        self.note(format!("fault #{id} healed: {}", f.label));
        self.checker.on_heal(self.now);
        self.oracle.on_fault(&self.topo, self.now, &f.fault, false);
        self.apply_fault(&f.fault, false);
        Ok(format!("fault #{id} healed: {}", f.label))
    }

    pub(crate) fn fault_active(&self, pred: impl Fn(&Fault) -> bool) -> bool {
        self.faults.iter().any(|f| pred(&f.fault))
    }

    /// What the controller of `site` reports (its skeleton, nothing known, when it is
    /// down), with the endpoint populations of the site as the drill sees them.
    pub fn site_part(&self, site: SiteIx) -> wire::Part {
        let mut part = match self.engine(site) {
            Some(e) => wire::Part::Live(wire::site_snapshot(&self.topo, e, self.now)),
            None => wire::Part::Unreachable(wire::skeleton(&self.topo, site, self.now)),
        };
        part.snapshot_mut().endpoints = self.populations.views(&self.topo, Some(site));
        part
    }

    /// Every controller's part, merged: the deployment as the console shows it.
    pub fn snapshot(&self) -> wire::Snapshot {
        wire::Snapshot::merge(self.topo.site_ixs().map(|s| self.site_part(s)))
    }

    /// Runs the scenario to its end and grades it.
    pub fn run_to_end(&mut self) -> Report {
        let end = self.scenario.as_ref().map_or(self.now, |s| Time(s.duration.as_ms()));
        self.run_until(end);
        self.report()
    }

    /// The graded report of what has run so far.
    pub fn report(&self) -> Report {
        report::build(self)
    }

    /// Records a drill-level event (not from a controller), in the log of `site`.
    pub(crate) fn drill_event(
        &mut self,
        site: SiteIx,
        id: EventId,
        subject: Entity,
        message: String,
        attrs: Vec<(&'static str, String)>,
    ) {
        let e = Event {
            t: self.now,
            id,
            source: Entity::Drill,
            subject,
            correlation: None,
            message,
            attrs,
        };
        self.log(site, e);
    }
}

/// The drill's note of an operator request: `switchover of east-sip to east-sip-b (forced)`.
fn describe(c: &wire::Command) -> String {
    match c {
        wire::Command::Switchover { to, force, .. } => format!(
            "{}{}{}",
            c.describe(),
            to.as_deref().map(|t| format!(" to {t}")).unwrap_or_default(),
            if *force { " (forced)" } else { "" }
        ),
        wire::Command::Maintenance {
            expires: Some(span), ..
        } => format!("{} for {span}", c.describe()),
        _ => c.describe(),
    }
}

#[cfg(test)]
mod tests;
