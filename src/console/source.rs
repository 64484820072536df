//! The one interface every view reads the deployment through. A [`Source`] yields the
//! current [`Snapshot`], the event log, switchover plans, script runs and the state of its
//! connection(s), and carries out operator requests ([`Request`], answered with an
//! [`Accepted`] or an [`ErrorBody`]). [`DrillSource`] implements it over an in-process drill
//! (its connection is trivially `drill`) and maps wall-clock time, scaled by the speed,
//! onto the drill's virtual clock. It reads the drill as a console reads live controllers:
//! one snapshot per site's controller, merged, and one event stream per site, merged by
//! time ([`EventMerge`]); a source over live controllers implements the same trait so the
//! views need no change. Drill-only controls (faults, time, scenarios) go through
//! [`Source::drill_op`], which other sources refuse.

use std::time::{Duration, Instant};

use crate::drill::random::RandomOptions;
use crate::drill::{Drill, Fault, scenario};
use crate::engine::{EventId, Operator, Severity, Time, Topology};
use crate::wire::{Accepted, ErrorBody, EventMerge, EventRecord, PlanView, Request, RunId, Snapshot};

/// The state of one connection of a source, shown in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// An in-process drill: always there.
    Drill,
    Connected,
    /// Lost; the next attempt is due in this many seconds.
    Reconnecting {
        in_secs: u64,
    },
    /// No fresh data for this many seconds; the views show the last known state.
    Stale {
        age_secs: u64,
    },
}

impl ConnState {
    pub fn label(&self) -> String {
        match self {
            ConnState::Drill => "in-process".into(),
            ConnState::Connected => "CONNECTED".into(),
            ConnState::Reconnecting { in_secs } => format!("RECONNECTING in {in_secs}s"),
            ConnState::Stale { age_secs } => format!("STALE {age_secs}s"),
        }
    }
    pub fn healthy(&self) -> bool {
        matches!(self, ConnState::Drill | ConnState::Connected)
    }
}

/// One endpoint of a source (a controller URL, or the drill).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub label: String,
    pub state: ConnState,
}

/// A script of the allow-list and the hosts it may run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptChoice {
    pub id: String,
    pub command: String,
    pub hosts: Vec<String>,
}

/// A script run as far as it has gone: only lines whose time has come.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptRunView {
    pub run: u64,
    pub site: String,
    pub script: String,
    pub host: String,
    pub started_ms: u64,
    pub lines: Vec<(u64, String)>,
    /// Exit code (none: killed) and end time.
    pub done: Option<(Option<i32>, u64)>,
}

/// A pair's configuration and its anti-flap counter, for the describe view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairConfig {
    pub pair: String,
    /// `(label, value)` lines: instances, VIP, failover triggers, group, anti-flap.
    pub settings: Vec<(String, String)>,
    /// Switchovers inside the anti-flap window, the most allowed, the window.
    pub flap_used: u32,
    pub flap_max: u32,
    pub flap_window_ms: u64,
    pub flapping: bool,
}

/// Time controls of a drill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clock {
    pub paused: bool,
    pub speed: f64,
}

/// What the drill view shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DrillStatus {
    pub now_ms: u64,
    pub paused: bool,
    pub speed: f64,
    /// Scenario name, description and duration, when one plays.
    pub scenario: Option<(String, String, u64)>,
    /// Active faults: id, label, since.
    pub faults: Vec<(u32, String, u64)>,
    pub finished: bool,
}

/// A drill control.
#[derive(Clone, Debug, PartialEq)]
pub enum DrillOp {
    SetClock(Clock),
    Inject(String),
    Heal(u32),
    HealAll,
    /// Restart the drill with a named scenario, or free play (`None`).
    Play(Option<String>),
}

/// The graded report at the end of a scenario, as the console shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportView {
    pub scenario: String,
    pub passed: bool,
    /// (name, passed, detail)
    pub checks: Vec<(String, bool, String)>,
    /// (fault time, time to detect, time to restore redundancy)
    pub faults: Vec<(u64, Option<u64>, Option<u64>)>,
    pub operator_actions: Vec<(u64, String)>,
    /// Timeline: (time, text) of drill notes and the alarm-or-worse events.
    pub timeline: Vec<(u64, String)>,
    pub recovery_bound_ms: u64,
}

/// Where the console reads the deployment from.
pub trait Source {
    /// `drill` or the URLs of the controllers.
    fn connections(&self) -> Vec<Connection>;
    /// Brings the source up to `wall` (a drill advances its clock; a live source drains
    /// what arrived). Returns whether anything visible may have changed.
    fn advance(&mut self, wall: Instant) -> bool;
    /// How long until the source has something new to show, if it knows.
    fn next_change(&self, wall: Instant) -> Option<Duration>;
    fn snapshot(&self) -> &Snapshot;
    /// Changes whenever anything the source serves may have changed (cheap to ask, so
    /// the console re-reads only then).
    fn revision(&self) -> u64;
    fn event_count(&self) -> usize;
    /// Appends events from position `from` on.
    fn events_from(&self, from: usize, out: &mut Vec<EventRecord>);
    fn plan(&self, target: &str, to: Option<&str>) -> Result<PlanView, ErrorBody>;
    /// Carries out an operator request; who asks is the source's operator (its token).
    fn request(&mut self, req: Request) -> Result<Accepted, ErrorBody>;
    fn scripts(&self) -> Vec<ScriptChoice>;
    fn script_run(&self, run: &RunId) -> Option<ScriptRunView>;
    /// A pair's configuration and anti-flap counter, when its controller can say.
    fn pair_config(&self, _pair: &str) -> Option<PairConfig> {
        None
    }
    /// The drill's controls and state; `None` for a live source.
    fn drill_status(&self) -> Option<DrillStatus>;
    fn fault_kinds(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn fault_targets(&self, _kind: &str) -> Vec<String> {
        Vec::new()
    }
    fn scenarios(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn drill_op(&mut self, _op: DrillOp) -> Result<String, String> {
        Err("only a drill has drill controls".into())
    }
    fn report(&self) -> Option<ReportView> {
        None
    }
}

/// A drill in this process, its clock driven by the wall clock times the speed.
pub struct DrillSource {
    drill: Drill,
    operator: Operator,
    topology: Topology,
    seed: u64,
    clock: Clock,
    /// Wall time and virtual time of the last clock change.
    anchor: Option<(Instant, u64)>,
    snapshot: Snapshot,
    snapshot_at: u64,
    /// The drill's per-site event streams, merged by time.
    merge: EventMerge,
    /// How many of the drill's events went into the merge.
    fed: usize,
    /// The merged log, as the views read it.
    events: Vec<EventRecord>,
    report: Option<ReportView>,
    revision: u64,
}

impl DrillSource {
    /// Free play on `topology`.
    pub fn new(topology: Topology, seed: u64, speed: f64, operator: Operator) -> DrillSource {
        let mut drill = Drill::new(topology.clone(), seed);
        drill.set_operator(operator.clone());
        Self::wrap(drill, topology, seed, speed, operator)
    }

    /// A named scenario on its own topology.
    pub fn scenario(name: &str, seed: u64, speed: f64, operator: Operator) -> Result<DrillSource, String> {
        Self::scenario_with(name, seed, &RandomOptions::default(), speed, operator)
    }

    /// A named scenario, with the options of the `random` one.
    pub fn scenario_with(
        name: &str,
        seed: u64,
        random: &RandomOptions,
        speed: f64,
        operator: Operator,
    ) -> Result<DrillSource, String> {
        let s = scenario::build(name, seed, random)?;
        let topology = s.topology.clone();
        let mut drill = Drill::with_scenario(s, seed);
        drill.set_operator(operator.clone());
        Ok(Self::wrap(drill, topology, seed, speed, operator))
    }

    fn wrap(drill: Drill, topology: Topology, seed: u64, speed: f64, operator: Operator) -> DrillSource {
        let snapshot = drill.snapshot();
        let merge = EventMerge::new(drill.topology().sites.iter().map(|s| s.id.clone()));
        let mut src = DrillSource {
            snapshot_at: drill.now().ms(),
            drill,
            operator,
            topology,
            seed,
            clock: Clock { paused: false, speed },
            anchor: None,
            snapshot,
            merge,
            fed: 0,
            events: Vec::new(),
            report: None,
            revision: 0,
        };
        src.feed_events();
        src
    }

    /// Hands the drill's new events to the merge, each in its site's stream, and takes
    /// what the merge releases: every site's controller has logged all it will up to the
    /// drill's clock.
    fn feed_events(&mut self) {
        for i in self.fed..self.drill.events().len() {
            self.merge.push(self.drill.record(i));
        }
        self.fed = self.drill.events().len();
        let now = self.drill.now().ms();
        for s in &self.drill.topology().sites {
            self.merge.advance(&s.id, now);
        }
        self.merge.release(&mut self.events);
    }

    pub fn drill(&self) -> &Drill {
        &self.drill
    }

    /// Advances virtual time by `ms` at once (tests and benchmarks).
    pub fn run_for(&mut self, ms: u64) {
        let t = self.drill.now().ms() + ms;
        self.run_to(t);
        if let Some((wall, _)) = self.anchor {
            self.anchor = Some((wall, self.drill.now().ms()));
        }
    }

    fn end_ms(&self) -> Option<u64> {
        self.drill.scenario().map(|s| s.duration.as_ms())
    }

    fn run_to(&mut self, mut t: u64) {
        if let Some(end) = self.end_ms() {
            t = t.min(end);
        }
        if t > self.drill.now().ms() {
            self.drill.run_until(Time(t));
        }
        if self.end_ms().is_some_and(|end| self.drill.now().ms() >= end) && self.report.is_none() {
            self.report = Some(report_view(&self.drill));
            self.clock.paused = true;
        }
        self.refresh();
    }

    fn refresh(&mut self) {
        self.revision += 1;
        self.feed_events();
        if self.snapshot_at != self.drill.now().ms() || self.snapshot.t_ms != self.drill.now().ms() {
            self.snapshot = self.drill.snapshot();
            self.snapshot_at = self.drill.now().ms();
        }
    }

    fn force_refresh(&mut self) {
        self.revision += 1;
        self.feed_events();
        self.snapshot = self.drill.snapshot();
        self.snapshot_at = self.drill.now().ms();
    }

    fn play(&mut self, name: Option<String>) -> Result<String, String> {
        let speed = self.clock.speed;
        let free = self.topology.clone();
        let mut next = match &name {
            Some(n) => DrillSource::scenario(n, self.seed, speed, self.operator.clone())?,
            None => DrillSource::new(free.clone(), self.seed, speed, self.operator.clone()),
        };
        next.topology = free;
        next.revision = self.revision + 1;
        *self = next;
        Ok(match name {
            Some(n) => format!("scenario {n} started"),
            None => "free play restarted".into(),
        })
    }
}

fn report_view(d: &Drill) -> ReportView {
    let r = d.report();
    let mut timeline: Vec<(u64, String)> = r.notes.iter().map(|(t, s)| (t.ms(), format!("-- {s}"))).collect();
    for e in &r.events {
        if e.severity != Severity::Info || crate::console::state::is_switchover_event(e.id) {
            timeline.push((e.t_ms, format!("{} {} {}", e.id.code(), e.source, e.message)));
        }
    }
    timeline.sort_by_key(|(t, _)| *t);
    let operator_actions = r
        .events
        .iter()
        .filter(|e| e.id == EventId::OperatorCommand)
        .map(|e| (e.t_ms, e.message.clone()))
        .collect();
    ReportView {
        scenario: r.scenario.clone(),
        passed: r.passed,
        checks: r
            .checks
            .iter()
            .map(|c| (c.name.clone(), c.passed, c.detail.clone()))
            .collect(),
        faults: r
            .metrics
            .faults
            .iter()
            .map(|f| (f.t_ms, f.detect_ms, f.restore_ms))
            .collect(),
        operator_actions,
        timeline,
        recovery_bound_ms: r.metrics.recovery_bound_ms,
    }
}

impl Source for DrillSource {
    fn connections(&self) -> Vec<Connection> {
        vec![Connection {
            label: "drill".into(),
            state: ConnState::Drill,
        }]
    }

    fn advance(&mut self, wall: Instant) -> bool {
        let before = (self.drill.now(), self.drill.events().len());
        match self.anchor {
            None => self.anchor = Some((wall, self.drill.now().ms())),
            Some((w0, v0)) if !self.clock.paused => {
                let elapsed = wall.saturating_duration_since(w0).as_secs_f64() * 1000.0 * self.clock.speed;
                self.run_to(v0 + elapsed as u64);
            }
            Some(_) => {}
        }
        (self.drill.now(), self.drill.events().len()) != before
    }

    fn next_change(&self, _wall: Instant) -> Option<Duration> {
        if self.clock.paused {
            None
        } else {
            Some(Duration::from_millis(100))
        }
    }

    fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    fn revision(&self) -> u64 {
        // A new drill (scenario) restarts the count; mix in its clock and log length.
        self.revision ^ (self.drill.now().ms() << 20) ^ (self.drill.events().len() as u64) << 44
    }

    fn event_count(&self) -> usize {
        self.events.len()
    }

    fn events_from(&self, from: usize, out: &mut Vec<EventRecord>) {
        out.extend_from_slice(self.events.get(from..).unwrap_or_default());
    }

    fn plan(&self, target: &str, to: Option<&str>) -> Result<PlanView, ErrorBody> {
        self.drill.plan(target, to).map_err(ErrorBody::from)
    }

    fn request(&mut self, req: Request) -> Result<Accepted, ErrorBody> {
        let r = self.drill.operator(&req);
        self.force_refresh();
        r.map_err(ErrorBody::from)
    }

    fn scripts(&self) -> Vec<ScriptChoice> {
        let topo = self.drill.topology();
        topo.scripts
            .iter()
            .map(|s| ScriptChoice {
                id: s.id.clone(),
                command: std::iter::once(s.command.clone())
                    .chain(s.args.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(" "),
                hosts: topo
                    .host_ixs()
                    .filter(|h| s.allowed_on(*h))
                    .map(|h| topo.host(h).id.clone())
                    .collect(),
            })
            .collect()
    }

    fn script_run(&self, id: &RunId) -> Option<ScriptRunView> {
        let now = self.drill.now();
        let topo = self.drill.topology();
        let r = self
            .drill
            .script_runs()
            .iter()
            .find(|r| r.run == id.n && topo.site(r.site).id == id.site)?;
        Some(ScriptRunView {
            run: r.run,
            site: id.site.clone(),
            script: r.script.clone(),
            host: r.host.clone(),
            started_ms: r.started.ms(),
            lines: r
                .lines
                .iter()
                .filter(|(t, _)| *t <= now)
                .map(|(t, l)| (t.ms(), l.clone()))
                .collect(),
            done: r.done.filter(|(_, t)| *t <= now).map(|(c, t)| (c, t.ms())),
        })
    }

    fn pair_config(&self, pair: &str) -> Option<PairConfig> {
        let topo = self.drill.topology();
        let p = topo.pair_ix(pair)?;
        let cfg = topo.pair(p);
        let rt = self.drill.engine(cfg.site).map(|e| e.pair(p));
        let mut settings = vec![("site".to_string(), topo.site(cfg.site).id.clone())];
        for (i, a) in cfg.apps.iter().enumerate() {
            let app = topo.app(*a);
            settings.push((
                if i == 0 { "preferred" } else { "other" }.to_string(),
                format!("{} ({})", topo.app_label(*a), app.kind),
            ));
        }
        settings.push((
            "VIP".into(),
            cfg.vip
                .as_ref()
                .map_or("none".into(), |v| format!("{} on NIC {}", v.address, v.nic)),
        ));
        settings.push(("failover".into(), format!("{:?}", cfg.failover)));
        if let Some(g) = cfg.group {
            let g = topo.group(g);
            settings.push(("group".into(), format!("{} (leader {})", g.id, topo.pair(g.leader).id)));
        }
        settings.push((
            "anti-flap".into(),
            format!(
                "at most {} switchovers in {}",
                cfg.anti_flap.max_switchovers, cfg.anti_flap.window
            ),
        ));
        Some(PairConfig {
            pair: cfg.id.clone(),
            settings,
            flap_used: rt.map_or(0, |r| r.history.len() as u32),
            flap_max: cfg.anti_flap.max_switchovers,
            flap_window_ms: cfg.anti_flap.window.as_ms(),
            flapping: rt.is_some_and(|r| r.flapping),
        })
    }

    fn drill_status(&self) -> Option<DrillStatus> {
        Some(DrillStatus {
            now_ms: self.drill.now().ms(),
            paused: self.clock.paused,
            speed: self.clock.speed,
            scenario: self
                .drill
                .scenario()
                .map(|s| (s.name.clone(), s.description.clone(), s.duration.as_ms())),
            faults: self
                .drill
                .faults()
                .iter()
                .map(|f| (f.id, f.label.clone(), f.since_ms))
                .collect(),
            finished: self.report.is_some(),
        })
    }

    fn fault_kinds(&self) -> Vec<(String, String)> {
        crate::drill::fault::KINDS
            .iter()
            .map(|(n, _, d)| (n.to_string(), d.to_string()))
            .collect()
    }

    fn fault_targets(&self, kind: &str) -> Vec<String> {
        Fault::targets(self.drill.topology(), kind)
    }

    fn scenarios(&self) -> Vec<(String, String)> {
        scenario::NAMES
            .iter()
            .filter(|n| n.0 != "random")
            .map(|(n, w, d)| (n.to_string(), format!("{w}: {d}")))
            .collect()
    }

    fn drill_op(&mut self, op: DrillOp) -> Result<String, String> {
        self.revision += 1;
        let r = match op {
            DrillOp::SetClock(c) => {
                if self.report.is_some() && !c.paused {
                    return Err("the scenario is over: play another or restart free play".into());
                }
                self.clock = c;
                self.anchor = None;
                Ok(if c.paused {
                    "paused".to_string()
                } else {
                    format!("running at {}x", c.speed)
                })
            }
            DrillOp::Inject(text) => {
                let f = Fault::parse(self.drill.topology(), &text)?;
                self.drill.inject(f)
            }
            DrillOp::Heal(id) => self.drill.heal(id),
            DrillOp::HealAll => {
                let n = self.drill.faults().len();
                self.drill.act(crate::drill::Action::HealAll).map(|_| match n {
                    0 => "no fault to heal".to_string(),
                    1 => "healed the one fault".to_string(),
                    n => format!("healed all {n} faults"),
                })
            }
            DrillOp::Play(name) => self.play(name),
        };
        self.force_refresh();
        r
    }

    fn report(&self) -> Option<ReportView> {
        self.report.clone()
    }
}
