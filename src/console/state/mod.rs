//! The console's model: what is on screen and why. [`State`] holds the last data read from
//! the source (snapshot, event log, drill status), the selection in every view, the open
//! dialog, the actions in flight and the status line. [`State::sync`] pulls what changed
//! from a [`Source`]; [`update`] turns one [`Msg`] into state changes and the [`Effect`]s
//! the runtime must carry out. Nothing here touches the terminal.

mod clock;
mod dialog;
mod events;
pub mod health;
mod lists;
mod modal;
mod update;

use std::collections::HashMap;

pub use clock::rfc3339;
pub use dialog::{Confirm, FaultMenu, Modal, ScriptPick, SwitchoverDialog};
pub use events::{
    DEFAULT_CAP, EventLog, FILTER_MAX, SEVERITIES, is_switchover_event, is_vip_event, push_bounded, severity_rank,
};
pub use lists::{ListView, Order, Prompt, host_sev};
pub use update::{Effect, Msg, key_msg, update};

use super::keys::Grant;
use super::source::{Ask, Connection, DrillStatus, ReportView, ScriptChoice, ScriptRunView, Source};
use crate::engine::EventId;
use crate::wire::{Accepted, Command, Request, RunId};
use crate::wire::{EventRecord, Snapshot};

/// The sites whose controller cannot be reached now, with the age of what is known of
/// them (0 when nothing ever came).
pub fn stale_sites(conns: &[Connection]) -> HashMap<String, u64> {
    conns
        .iter()
        .filter(|c| !c.state.healthy())
        .flat_map(|c| c.sites.iter().map(|s| (s.clone(), c.stale_ms.unwrap_or(0))))
        .collect()
}

/// How long after its controller started a pair may show `STARTING` at most: by then the
/// controller has decided, or what the snapshot says is the truth.
const STARTING_MAX_MS: u64 = 30_000;

pub const VIEWS: [&str; 5] = ["Pairs", "Hosts", "Events", "Sites", "Drill"];
pub const PAIRS: usize = 0;
pub const HOSTS: usize = 1;
pub const EVENTS: usize = 2;
pub const SITES: usize = 3;
pub const DRILL: usize = 4;

/// One row of the Pairs view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairRow {
    /// Index into `snapshot.groups`.
    Group(usize),
    /// Index into `snapshot.pairs`, and whether it is shown under its group.
    Pair(usize, bool),
}

/// How the status line reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Progress,
    Success,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub level: Level,
    pub text: String,
}

/// What an action in flight waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flight {
    Switchover { pair: String },
    Script { run: RunId },
    Maintenance,
}

/// An operator action accepted by the source and not finished yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    pub what: String,
    pub correlation: Option<String>,
    pub started_ms: u64,
    pub flight: Flight,
}

/// A compact state of a pair at one time, for its timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Degraded,
    Down,
    Maintenance,
    Switching,
    Unknown,
}

impl Mark {
    /// The mark of a pair: its worst fact (a duplicate VIP is as down as no primary).
    pub fn of(p: &crate::wire::PairView, known: health::Known) -> Mark {
        use health::Sev;
        if p.switchover.is_some() {
            Mark::Switching
        } else if p.maintenance {
            Mark::Maintenance
        } else {
            match health::worst(&health::pair_facts(p, known)) {
                Sev::Ok => Mark::Ok,
                Sev::Unknown => Mark::Unknown,
                Sev::Warning | Sev::Alarm => Mark::Degraded,
                Sev::Critical => Mark::Down,
            }
        }
    }
    /// The glyph of the timeline: each state has its own shape, not only its colour.
    pub fn glyph(self) -> char {
        match self {
            Mark::Ok => '█',
            Mark::Degraded => '▄',
            Mark::Down => '!',
            Mark::Maintenance => 'M',
            Mark::Switching => '»',
            Mark::Unknown => '?',
        }
    }
}

pub struct State {
    /// Read-only asked for (`--read-only`, `HACTL_READ_ONLY`), whatever the source grants.
    pub read_only: bool,
    /// What the source lets the operator do (a live source: the token's role).
    pub source_grant: Grant,
    /// `name` or `name from address`.
    pub operator: String,
    pub connections: Vec<Connection>,
    /// Wall clock for the header (set by the runtime, fixed in tests).
    pub wall_clock: String,
    /// The wall clock in ms since the Unix epoch (set by the runtime, fixed in tests).
    pub wall_ms: u64,
    /// Where `e` writes the exported event log.
    pub export_dir: std::path::PathBuf,
    /// What the views show: the source's snapshot, with nothing known of the sites whose
    /// controller cannot be reached.
    pub snapshot: Snapshot,
    /// The source's snapshot as it came: the last state known of every site.
    pub known: Snapshot,
    /// How fresh what is shown is: pairs starting, stale sites, controllers never reached.
    pub fresh: health::Freshness,
    pub drill: Option<DrillStatus>,
    pub report: Option<ReportView>,
    pub scenarios: Vec<(String, String)>,
    pub fault_kinds: Vec<(String, String)>,
    pub scripts: Vec<ScriptChoice>,
    pub view: usize,
    pub rows: Vec<PairRow>,
    pub pair_sel: usize,
    /// The Hosts view's rows: indices into `snapshot.hosts`, filtered and ordered.
    pub host_rows: Vec<usize>,
    /// Position in `host_rows`.
    pub host_sel: usize,
    /// The `/` filter and order of the Pairs view.
    pub pair_list: ListView,
    /// The `/` filter and order of the Hosts view.
    pub host_list: ListView,
    /// The `/` or `:` prompt open in the Pairs or Hosts view.
    pub prompt: Option<Prompt>,
    pub site_scroll: usize,
    pub drill_sel: usize,
    /// The pair whose detail is open.
    pub detail: Option<String>,
    /// The host whose detail is open.
    pub host_detail: Option<String>,
    pub log: EventLog,
    pub modal: Option<Modal>,
    pub status: Option<Status>,
    pub inflight: Vec<InFlight>,
    /// The correlation id of the operator's last accepted action (`I` shows its events).
    pub last_incident: Option<String>,
    /// The script run shown in the output pane, as far as it has gone.
    pub script_view: Option<ScriptRunView>,
    /// The configuration shown by the describe view, kept live.
    pub pair_config: Option<super::source::PairConfig>,
    /// Per pair: (time, state) at each change.
    pub history: HashMap<String, Vec<(u64, Mark)>>,
    /// Pairs whose controller started and has not decided on them yet, with the time
    /// it started.
    pub starting: HashMap<String, u64>,
    /// Per pair: the time of the last switchover known to this console (a restarted
    /// controller forgets it; the console does not).
    pub last_switchover: HashMap<String, u64>,
    /// Every fact that is not healthy, worst first (recomputed when the data changes).
    pub facts: Vec<health::Fact>,
    /// Set when the screen must be drawn again.
    pub dirty: bool,
    /// The source revision last read.
    revision: Option<u64>,
    pub quit: bool,
    /// How far the open scrollable dialog can scroll, as its last drawing measured it (at
    /// the terminal's width, after wrapping): the one value views hand back to the model.
    pub scroll_max: std::cell::Cell<usize>,
}

impl State {
    pub fn new(read_only: bool, operator: String) -> State {
        State {
            read_only,
            source_grant: Grant::View,
            operator,
            connections: Vec::new(),
            wall_clock: String::new(),
            wall_ms: 0,
            export_dir: std::path::PathBuf::from("."),
            snapshot: Snapshot::default(),
            known: Snapshot::default(),
            fresh: health::Freshness::default(),
            drill: None,
            report: None,
            scenarios: Vec::new(),
            fault_kinds: Vec::new(),
            scripts: Vec::new(),
            view: PAIRS,
            rows: Vec::new(),
            pair_sel: 0,
            host_rows: Vec::new(),
            host_sel: 0,
            pair_list: ListView::default(),
            host_list: ListView::default(),
            prompt: None,
            site_scroll: 0,
            drill_sel: 0,
            detail: None,
            host_detail: None,
            log: EventLog::new(),
            modal: None,
            status: None,
            inflight: Vec::new(),
            last_incident: None,
            script_view: None,
            pair_config: None,
            history: HashMap::new(),
            starting: HashMap::new(),
            last_switchover: HashMap::new(),
            facts: Vec::new(),
            dirty: true,
            revision: None,
            quit: false,
            scroll_max: std::cell::Cell::new(0),
        }
    }

    /// Virtual (drill) or wall time of the data, in ms.
    pub fn now_ms(&self) -> u64 {
        self.snapshot.t_ms
    }

    pub fn is_drill(&self) -> bool {
        self.drill.is_some()
    }

    /// What is offered: the source's grant, or only looking when read-only was asked for.
    pub fn grant(&self) -> Grant {
        if self.read_only { Grant::View } else { self.source_grant }
    }

    /// The keys of what is on screen outside dialogs: a detail has its list view's keys.
    pub fn scope(&self) -> crate::console::keys::Scope {
        use crate::console::keys::{Scope, VIEW_SCOPES};
        if self.detail.is_some() {
            Scope::Pairs
        } else if self.host_detail.is_some() {
            Scope::Hosts
        } else {
            VIEW_SCOPES[self.view.min(VIEW_SCOPES.len() - 1)]
        }
    }

    /// Reads what changed from the source, taking the events that arrived. Returns
    /// whether anything did.
    pub fn sync(&mut self, src: &mut dyn Source) -> bool {
        let rev = src.revision();
        let script_open = matches!(self.modal, Some(Modal::ScriptOutput { .. } | Modal::Describe { .. }));
        if self.revision == Some(rev) && !script_open {
            return false;
        }
        self.revision = Some(rev);
        let mut changed = false;
        let conns = src.connections();
        let mut stale_changed = false;
        if conns != self.connections {
            stale_changed = stale_sites(&conns) != stale_sites(&self.connections);
            self.connections = conns;
            changed = true;
        }
        let grant = src.grant();
        if grant != self.source_grant {
            self.source_grant = grant;
            changed = true;
        }
        if let Some(op) = src.operator()
            && op != self.operator
        {
            self.operator = op;
            changed = true;
        }
        let drill = src.drill().map(|d| d.drill_status());
        if drill != self.drill {
            // A new drill (scenario started) starts a new log.
            if let (Some(old), Some(new)) = (&self.drill, &drill)
                && (new.now_ms < old.now_ms
                    || new.scenario.as_ref().map(|s| &s.0) != old.scenario.as_ref().map(|s| &s.0))
            {
                self.log.clear();
                self.history.clear();
                self.last_switchover.clear();
                self.starting.clear();
                self.inflight.clear();
                self.report = None;
            }
            self.drill = drill;
            changed = true;
        }
        if self.scenarios.is_empty()
            && let Some(d) = src.drill()
        {
            self.scenarios = d.scenarios();
            self.fault_kinds = d.fault_kinds();
        }
        let snap = src.snapshot();
        if *snap != self.known || stale_changed {
            let topo_changed = snap.pairs.len() != self.known.pairs.len() || snap.groups != self.known.groups;
            self.known = snap.clone();
            let stale: Vec<String> = stale_sites(&self.connections).into_keys().collect();
            self.snapshot = if stale.is_empty() {
                snap.clone()
            } else {
                snap.clone().unknown_sites(&stale)
            };
            if topo_changed || self.rows.is_empty() {
                self.scripts = src.scripts();
            }
            changed = true;
        }
        let mut recs = Vec::new();
        src.take_events(&mut recs);
        if !recs.is_empty() {
            self.note_starts(&recs);
            self.track_flights(&recs);
            self.log.push(recs, self.wall_ms);
            changed = true;
        }
        if changed {
            self.refresh_health();
            // Severity, redundancy words and switchover times move rows: rebuild them.
            self.rebuild_lists();
        }
        let report = src.drill().and_then(|d| d.report());
        if report.is_some() && self.report.is_none() {
            self.report = report;
            self.modal = Some(Modal::Report { scroll: 0 });
            changed = true;
        }
        if let Some(Modal::Describe { pair, .. }) = &self.modal {
            let v = src.pair_config(pair);
            if v != self.pair_config {
                self.pair_config = v;
                changed = true;
            }
        }
        if let Some(Modal::ScriptOutput { run }) = &self.modal {
            let v = src.script_run(run);
            if v != self.script_view {
                self.script_view = v;
                changed = true;
            }
        }
        if changed {
            self.refresh_modal(src);
        }
        self.dirty |= changed;
        changed
    }

    /// A dialog shows live state or closes: the switchover plan is asked for again (a
    /// BLOCKED plan may have become possible, an allowed one blocked), the quit question
    /// goes when nothing is in flight any more, a maintenance confirmation goes when the
    /// pair is already where it would put it.
    fn refresh_modal(&mut self, src: &mut dyn Source) {
        let close = match &mut self.modal {
            Some(Modal::Switchover(d)) if d.plan.is_some() => {
                // One question at a time: asked again once the answer is in.
                if d.asking {
                    d.again = true;
                } else {
                    d.asking = true;
                    src.submit(Ask::Plan {
                        target: d.target.clone(),
                        to: d.to.clone(),
                    });
                }
                None
            }
            Some(Modal::Quit { .. }) if self.inflight.is_empty() => {
                Some("nothing is in flight any more: q quits".to_string())
            }
            Some(Modal::Confirm(c)) => match &c.effect {
                Effect::Request(Request {
                    command: Command::Maintenance { pair, on, .. },
                    ..
                }) => self
                    .snapshot
                    .pairs
                    .iter()
                    .find(|p| &p.id == pair)
                    .filter(|p| p.maintenance == *on)
                    .map(|p| format!("maintenance is already {} for {}", if *on { "on" } else { "off" }, p.id)),
                _ => None,
            },
            _ => None,
        };
        if let Some(why) = close {
            self.modal = None;
            self.status = Some(Status {
                level: Level::Info,
                text: why,
            });
        }
    }

    /// A controller that (re)started has not decided on its pairs yet: they are
    /// `STARTING`, not `NO PRIMARY`, until it has.
    fn note_starts(&mut self, recs: &[EventRecord]) {
        // The site that logged the start is the controller's own.
        for e in recs.iter().filter(|e| e.id == EventId::ControllerStarted) {
            for p in self.snapshot.pairs.iter().filter(|p| p.site == e.site) {
                self.starting.insert(p.id.clone(), e.t_ms);
            }
        }
        // A decision about a pair ends its start: it lost redundancy, has no primary, or
        // a switchover was asked for.
        for e in recs {
            if let Some(pair) = e.subject.strip_prefix("pair:")
                && [
                    crate::engine::EventId::NoBrain,
                    crate::engine::EventId::RedundancyLost,
                    crate::engine::EventId::SwitchoverRequested,
                    crate::engine::EventId::PairNormal,
                ]
                .contains(&e.id)
            {
                self.starting.remove(pair);
            }
        }
    }

    /// Recomputes the facts, ends the start of pairs the controller has decided on, and
    /// remembers switchover times.
    fn refresh_health(&mut self) {
        let now = self.snapshot.t_ms;
        let snap = &self.snapshot;
        self.starting.retain(|id, since| {
            now.saturating_sub(*since) < STARTING_MAX_MS
                && snap
                    .pairs
                    .iter()
                    .find(|p| &p.id == id)
                    .is_some_and(|p| health::is_undecided(p.redundancy))
        });
        for p in &snap.pairs {
            if let Some(age) = p.last_switchover_age_ms {
                self.last_switchover.insert(p.id.clone(), now.saturating_sub(age));
            }
        }
        let stale = stale_sites(&self.connections);
        let was = self
            .known
            .pairs
            .iter()
            .filter(|p| stale.contains_key(&p.site))
            .map(|p| (p.id.clone(), p.redundancy))
            .chain(
                self.known
                    .groups
                    .iter()
                    .filter(|g| stale.contains_key(&g.site))
                    .map(|g| (g.id.clone(), g.redundancy)),
            )
            .collect();
        let unreached = self
            .connections
            .iter()
            .filter(|c| !c.state.healthy() && c.sites.is_empty())
            .map(|c| (c.label.clone(), c.state.label()))
            .collect();
        self.fresh = health::Freshness {
            starting: self.starting.keys().cloned().collect(),
            stale,
            was,
            unreached,
        };
        self.facts = health::deployment_facts(snap, &self.fresh);
        self.record_history();
    }

    /// The facts about one pair, worst first.
    pub fn pair_facts(&self, p: &crate::wire::PairView) -> Vec<health::Fact> {
        health::pair_facts(p, self.fresh.of(p))
    }

    fn record_history(&mut self) {
        let t = self.snapshot.t_ms;
        for p in &self.snapshot.pairs {
            let m = Mark::of(p, self.fresh.of(p));
            let h = self.history.entry(p.id.clone()).or_default();
            if h.last().is_none_or(|(_, last)| *last != m) {
                h.push((t, m));
            }
        }
    }

    /// The id of the selected pair or group (what `s` switches over).
    pub fn selected_target(&self) -> Option<String> {
        match self.rows.get(self.pair_sel)? {
            PairRow::Group(g) => Some(self.snapshot.groups.get(*g)?.id.clone()),
            PairRow::Pair(p, _) => Some(self.snapshot.pairs.get(*p)?.id.clone()),
        }
    }

    /// The selected pair (the leader for a group row).
    pub fn selected_pair(&self) -> Option<&crate::wire::PairView> {
        match self.rows.get(self.pair_sel)? {
            PairRow::Group(g) => {
                let leader = &self.snapshot.groups.get(*g)?.leader;
                self.snapshot.pairs.iter().find(|p| &p.id == leader)
            }
            PairRow::Pair(p, _) => self.snapshot.pairs.get(*p),
        }
    }

    /// Notes an accepted request as in flight.
    pub fn start_flight(&mut self, req: &Request, acc: &Accepted) {
        let what = req.command.describe();
        self.last_incident = Some(acc.correlation.clone());
        let flight = match &req.command {
            Command::Switchover { pair, .. } => Flight::Switchover { pair: pair.clone() },
            Command::RunScript { .. } => match &acc.run {
                Some(run) => Flight::Script { run: run.clone() },
                None => return,
            },
            Command::Maintenance { .. } => Flight::Maintenance,
            Command::ResetAntiFlap { .. } => {
                // Done at once: nothing to wait for.
                self.status = Some(Status {
                    level: Level::Success,
                    text: format!("{what} done [{}]", acc.correlation),
                });
                return;
            }
        };
        self.inflight.push(InFlight {
            what: what.clone(),
            correlation: Some(acc.correlation.clone()),
            started_ms: self.now_ms(),
            flight,
        });
        self.status = Some(Status {
            level: Level::Progress,
            text: format!("{what}: {acc} (I: its events)"),
        });
    }

    /// Finishes flights whose closing event arrived among `recs`.
    fn track_flights(&mut self, recs: &[EventRecord]) {
        for e in recs {
            let Some(pos) = self
                .inflight
                .iter()
                .position(|f| f.correlation.is_some() && f.correlation == e.correlation)
            else {
                continue;
            };
            let f = &self.inflight[pos];
            let outcome = match (&f.flight, e.id) {
                (Flight::Switchover { .. }, EventId::SwitchoverCompleted) => Some(true),
                (Flight::Switchover { .. }, EventId::SwitchoverFailed | EventId::SwitchoverRefused) => Some(false),
                (Flight::Script { .. }, EventId::ScriptSucceeded) => Some(true),
                (Flight::Script { .. }, EventId::ScriptFailed | EventId::ScriptTimedOut) => Some(false),
                (Flight::Maintenance, EventId::MaintenanceOn | EventId::MaintenanceOff) => Some(true),
                _ => None,
            };
            if let Some(ok) = outcome {
                let took = crate::engine::Span(e.t_ms.saturating_sub(f.started_ms));
                let mut text = match (&f.flight, ok) {
                    (_, false) => format!("{} FAILED after {took}: {}", f.what, e.message),
                    (Flight::Switchover { .. }, true) => format!("{} completed in {took}", f.what),
                    (_, true) => format!("{} done in {took}", f.what),
                };
                if let Some(c) = &f.correlation {
                    text.push_str(&format!(" [{c}]"));
                }
                self.status = Some(Status {
                    level: if ok { Level::Success } else { Level::Error },
                    text,
                });
                self.inflight.remove(pos);
            }
        }
    }
}
