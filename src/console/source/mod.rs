//! The one interface every view reads the deployment through. A [`Source`] yields the
//! current [`Snapshot`], the events that arrived, the scripts and their runs, the state of
//! its connection(s) and what its operator may do ([`Grant`]). Anything that may take
//! time (a switchover plan, an operator request, older or newer pages of the event log)
//! is asked with [`Source::submit`] and answered later through [`Source::take_replies`],
//! so a source over the network never holds up a keystroke; the drill answers at once
//! through the same path. Drill-only controls (faults, time, scenarios) are not part of
//! the trait: a source that has them hands out [`DrillControls`] through
//! [`Source::drill`].
//!
//! [`DrillSource`] reads an in-process drill ([`drill`]); a source over live controllers
//! implements the same trait, so the views need no change.

mod controller;
mod drill;
mod live;

use std::time::{Duration, Instant};

pub use drill::DrillSource;
pub use live::{LiveSource, STALE_AFTER};

pub use crate::console::keys::Grant;
use crate::wire::{Accepted, ErrorBody, EventRecord, PlanView, Request, RunId, Snapshot};

/// The state of one connection of a source, shown in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// An in-process drill: always there.
    Drill,
    Connected,
    /// Lost (or never reached); the next attempt is due in this many seconds (0: under way).
    Reconnecting {
        in_secs: u64,
    },
    /// Lost for a while: what is on screen is this many seconds old. It keeps trying.
    Stale {
        age_secs: u64,
    },
}

impl ConnState {
    pub fn label(&self) -> String {
        match self {
            ConnState::Drill => "in-process".into(),
            ConnState::Connected => "CONNECTED".into(),
            ConnState::Reconnecting { in_secs: 0 } => "RECONNECTING now".into(),
            ConnState::Reconnecting { in_secs } => format!("RECONNECTING in {in_secs}s"),
            ConnState::Stale { age_secs } => format!("STALE {age_secs}s"),
        }
    }
    pub fn healthy(&self) -> bool {
        matches!(self, ConnState::Drill | ConnState::Connected)
    }
}

/// One endpoint of a source (a controller, or the drill).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    /// What the header calls it: the site once its controller said which, else its URL.
    pub label: String,
    pub state: ConnState,
    /// The sites whose state comes through this connection (empty for a drill, which
    /// serves every site, and for a controller never reached).
    pub sites: Vec<String>,
    /// While the connection is not current: how old the last state it delivered is
    /// (`None`: current, or nothing ever came).
    pub stale_ms: Option<u64>,
    /// Why the last attempt failed, in one line (never a secret).
    pub error: Option<String>,
}

impl Default for ConnState {
    fn default() -> ConnState {
        ConnState::Reconnecting { in_secs: 0 }
    }
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

/// Something that may take time, asked of a source and answered by a [`Reply`].
#[derive(Clone, Debug, PartialEq)]
pub enum Ask {
    /// The plan of a switchover of a pair or group, to an instance or host if given.
    Plan { target: String, to: Option<String> },
    /// An operator request; who asks is the source's operator (its token).
    Request(Request),
    /// Per site, the newest `limit` events older than the given `seq`.
    Older { before: Vec<(String, u64)>, limit: usize },
    /// Per site, the oldest `limit` events newer than the given `seq`.
    Newer { after: Vec<(String, u64)>, limit: usize },
}

/// A page of the event log, per site in `seq` order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub events: Vec<EventRecord>,
    /// The sites with nothing further in the page's direction (its first event, or the
    /// oldest one the controller still keeps, is in the page).
    pub ends: Vec<String>,
    /// Sites whose controller could not be asked, with why.
    pub failed: Vec<(String, String)>,
}

/// The answer to an [`Ask`].
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Plan {
        target: String,
        to: Option<String>,
        result: Result<PlanView, ErrorBody>,
    },
    Requested {
        req: Request,
        result: Result<Accepted, ErrorBody>,
    },
    Older(Page),
    Newer(Page),
}

/// Where the console reads the deployment from.
pub trait Source {
    /// The drill, or each controller with its state.
    fn connections(&self) -> Vec<Connection>;
    /// Brings the source up to `wall` (a drill advances its clock; a live source takes in
    /// what arrived, without waiting). Returns whether anything visible may have changed.
    fn advance(&mut self, wall: Instant) -> bool;
    /// How long until the source has something new to show, if it knows.
    fn next_change(&self, wall: Instant) -> Option<Duration>;
    /// The last state known of every site (a site whose controller cannot be reached
    /// keeps its last part; the console marks it stale from [`Source::connections`]).
    fn snapshot(&self) -> &Snapshot;
    /// Changes whenever anything the source serves may have changed (cheap to ask, so
    /// the console re-reads only then).
    fn revision(&self) -> u64;
    /// Moves the events that arrived since the last call into `out`, merged in time order,
    /// each keeping its site. The source keeps none of them: the console's log is the one
    /// bounded copy, and older ones come back as pages ([`Ask::Older`]).
    fn take_events(&mut self, out: &mut Vec<EventRecord>);
    /// Asks for something that may take time; the answer comes from `take_replies`.
    fn submit(&mut self, ask: Ask);
    /// Moves the answers that arrived into `out`.
    fn take_replies(&mut self, out: &mut Vec<Reply>);
    /// What the operator may do through this source.
    fn grant(&self) -> Grant;
    /// The operator as the source's controllers know them (a live source: its token's
    /// name), when the source says.
    fn operator(&self) -> Option<String> {
        None
    }
    fn scripts(&self) -> Vec<ScriptChoice>;
    /// A script run as far as it has gone (a live source fetches it while it is asked
    /// for, so the output streams).
    fn script_run(&mut self, run: &RunId) -> Option<ScriptRunView>;
    /// A pair's configuration and anti-flap counter, when its controller can say.
    fn pair_config(&self, _pair: &str) -> Option<PairConfig> {
        None
    }
    /// The drill's controls, on a drill.
    fn drill(&self) -> Option<&dyn DrillControls> {
        None
    }
    fn drill_mut(&mut self) -> Option<&mut dyn DrillControls> {
        None
    }
}

/// What only a drill has: its clock, faults and scenarios.
pub trait DrillControls {
    fn drill_status(&self) -> DrillStatus;
    fn fault_kinds(&self) -> Vec<(String, String)>;
    fn fault_targets(&self, kind: &str) -> Vec<String>;
    fn scenarios(&self) -> Vec<(String, String)>;
    fn drill_op(&mut self, op: DrillOp) -> Result<String, String>;
    fn report(&self) -> Option<ReportView>;
}
