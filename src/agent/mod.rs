//! The agent core: everything one host's agent decides, as a deterministic state machine
//! shaped like the engine. What happened on the host (a process started or exited, a probe
//! answered, a mode hook finished, a VIP was added, traffic stopped) and the controller's
//! orders go in with the current time through [`AgentCore::handle`]; deadlines fire through
//! [`AgentCore::handle_timeout`]; the driver drains [`AgentAction`]s to carry out (spawn a
//! process, signal it, run a hook, a check, a VIP change or a script, send a report to the
//! controller) and sleeps until [`AgentCore::next_timeout`]. Nothing here reads a clock or
//! does I/O: the drill's simulated hosts and the real agent drive exactly the same logic.

mod apps;
mod host;
mod process;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::timer::Timers;
use crate::engine::{AppIx, Command, HostIx, Input, Mode, PairIx, ScriptIx, Span, Time, Topology};

pub use apps::{AppView, Proc};

/// How long the agent waits after SIGTERM before it sends SIGKILL.
pub const STOP_GRACE: Span = Span(2_000);

/// Consecutive probe failures that fail an application whose probe does not say.
const DEFAULT_PROBE_FAILURES: u32 = 3;

/// A signal the agent sends to an application's process group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Term,
    Kill,
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl ExitStatus {
    /// The exit code as a shell shows it (128 + the signal number for a killed process).
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal(s) => 128i32.saturating_add(s),
        }
    }
}

/// What one health probe of an application saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Answered, and available.
    Ok,
    /// No answer within the probe's timeout (or the connection was refused).
    NoAnswer,
    /// Answered that it is unavailable (a SIP 503, for instance), with what it said.
    Unavailable(String),
}

/// One input to the agent core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentInput {
    /// An order from the site's controller (orders for other hosts are ignored).
    Order(Command),
    /// The link to the controller is up: the agent sends its full state and heartbeats.
    Connected,
    /// The link to the controller is down: nothing is sent until it is up again.
    LinkLost,
    /// The driver has reported what already runs ([`AgentInput::ProcessFound`]): start
    /// supervising, which starts every application that does not run.
    Boot,
    /// A process of the application runs that this agent did not start (found at start-up,
    /// or restarted by the application itself): adopted, never started a second time.
    /// `mode` is the mode it was last confirmed in, as a previous agent recorded it (an
    /// agent restarted on a primary's host must not make the controller see no primary),
    /// or none.
    ProcessFound { app: AppIx, mode: Mode },
    /// The process asked for with [`AgentAction::Spawn`] runs.
    Spawned { app: AppIx },
    /// The application's process exited.
    Exited { app: AppIx, status: ExitStatus },
    /// A health probe's result.
    Probe { app: AppIx, outcome: ProbeOutcome },
    /// The mode hook asked for with [`AgentAction::RunModeHook`] finished.
    HookDone {
        app: AppIx,
        mode: Mode,
        result: Result<(), String>,
    },
    /// The verdict of a backup's start-up checks (W6); a later verdict (the port can be
    /// opened now) may follow without being asked for.
    StartupCheck { app: AppIx, result: Result<(), String> },
    /// Whether traffic for the application arrives on its traffic NIC (its receive counter
    /// moves), sent when that changes.
    Traffic { app: AppIx, flowing: bool },
    /// The application announced that it runs as primary (4563).
    Announced { app: AppIx },
    /// The VIP change asked for with [`AgentAction::VipAdd`] or [`AgentAction::VipDel`] is done.
    VipApplied {
        pair: PairIx,
        enable: bool,
        result: Result<(), String>,
    },
    /// Whether the pair's VIP is bound on this host, as observed.
    VipObserved { pair: PairIx, bound: bool },
    /// Whether another machine answers ARP for the pair's VIP while this host holds it:
    /// the hardware address that answered, or `None`. Observed only while bound here.
    VipElsewhere { pair: PairIx, by: Option<String> },
    /// A NIC's link state, as observed (by index into the host's NICs).
    NicObserved { nic: usize, up: bool },
    /// A line of a script run's output.
    ScriptOutput { run: u64, line: String },
    /// A script run ended (`None`: killed by a signal).
    ScriptFinished { run: u64, exit_code: Option<i32> },
}

/// One thing the driver must carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentAction {
    /// Start the application (its `start` argv, own process group); answer with
    /// [`AgentInput::Spawned`] or [`AgentInput::Exited`].
    Spawn {
        app: AppIx,
    },
    /// Signal the application's process group; its exit comes as [`AgentInput::Exited`].
    Signal {
        app: AppIx,
        signal: Signal,
    },
    /// Run the application's mode hook; answer with [`AgentInput::HookDone`].
    RunModeHook {
        app: AppIx,
        mode: Mode,
    },
    /// The mode hook took too long: kill it (no answer expected).
    CancelModeHook {
        app: AppIx,
    },
    /// Probe the application at its probe's interval until told to stop; answer every
    /// probe with [`AgentInput::Probe`].
    StartProbing {
        app: AppIx,
    },
    StopProbing {
        app: AppIx,
    },
    /// Run a backup's start-up checks; answer with [`AgentInput::StartupCheck`].
    StartupCheck {
        app: AppIx,
    },
    /// Tell the application whether its site runs alone.
    SiteMode {
        app: AppIx,
        single_site: bool,
    },
    /// Bind the pair's VIP on its NIC; answer with [`AgentInput::VipApplied`].
    VipAdd {
        pair: PairIx,
    },
    /// Remove the pair's VIP; answer with [`AgentInput::VipApplied`].
    VipDel {
        pair: PairIx,
    },
    /// Announce the pair's VIP from this host (gratuitous ARP or unsolicited NA).
    Garp {
        pair: PairIx,
    },
    /// Run an allow-listed script; stream its lines with [`AgentInput::ScriptOutput`] and
    /// end with [`AgentInput::ScriptFinished`].
    RunScript {
        run: u64,
        script: ScriptIx,
        args: Vec<String>,
        timeout: Span,
    },
    /// The script run took too long: kill it (no answer expected).
    KillScript {
        run: u64,
    },
    /// A line of a script run's output, to stream to the controller.
    ScriptLine {
        run: u64,
        line: String,
    },
    /// Send this report to the controller.
    Report(Input),
}

/// What a deadline of the agent core is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum AgentTimer {
    /// Start a crashed application again.
    Restart(AppIx),
    /// SIGKILL a process that ignored SIGTERM.
    Grace(AppIx),
    /// Give up on a mode hook.
    Hook(AppIx),
    /// A primary has had no traffic for its traffic-timeout.
    Traffic(AppIx),
    /// Kill a script run.
    Script(u64),
}

/// A script run in progress.
#[derive(Clone, Debug)]
struct Run {
    started: Time,
    tail: String,
}

/// The agent core of one host.
#[derive(Clone, Debug)]
pub struct AgentCore {
    topo: Arc<Topology>,
    host: HostIx,
    connected: bool,
    booted: bool,
    /// The host's applications, in the order of its configuration.
    apps: Vec<apps::Slot>,
    /// Per NIC: up, down, or not observed yet.
    nics: Vec<Option<bool>>,
    /// The pairs whose VIP may be bound here, and what is seen of each.
    vips: Vec<host::VipSlot>,
    runs: BTreeMap<u64, Run>,
    timers: Timers<AgentTimer>,
    /// The next heartbeat, while connected (kept apart: it fires every second on every host).
    next_heartbeat: Option<Time>,
    actions: Vec<AgentAction>,
    now: Time,
}

impl AgentCore {
    /// The agent core of `host`. It does nothing until [`AgentInput::Boot`] and sends
    /// nothing until [`AgentInput::Connected`].
    pub fn new(topo: Arc<Topology>, host: HostIx) -> AgentCore {
        let (apps, nics, vips) = match topo.hosts.get(host.ix()) {
            Some(h) => (
                h.apps.iter().map(|a| apps::Slot::new(*a)).collect(),
                vec![None; h.nics.len()],
                topo.vip_pairs_on_host(host)
                    .into_iter()
                    .map(host::VipSlot::new)
                    .collect(),
            ),
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        AgentCore {
            topo,
            host,
            connected: false,
            booted: false,
            apps,
            nics,
            vips,
            runs: BTreeMap::new(),
            timers: Timers::default(),
            next_heartbeat: None,
            actions: Vec::new(),
            now: Time::ZERO,
        }
    }

    pub fn host(&self) -> HostIx {
        self.host
    }

    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Handles one input at `now` (which must not go backwards).
    pub fn handle(&mut self, now: Time, input: AgentInput) {
        self.now = self.now.max(now);
        match input {
            AgentInput::Order(cmd) => self.on_order(cmd),
            AgentInput::Connected => self.on_connected(),
            AgentInput::LinkLost => {
                self.connected = false;
                self.next_heartbeat = None;
            }
            AgentInput::Boot => self.on_boot(),
            AgentInput::ProcessFound { app, mode } => self.on_found(app, mode),
            AgentInput::Spawned { app } => self.on_spawned(app),
            AgentInput::Exited { app, status } => self.on_exited(app, status),
            AgentInput::Probe { app, outcome } => self.on_probe(app, outcome),
            AgentInput::HookDone { app, mode, result } => self.on_hook_done(app, mode, result),
            AgentInput::StartupCheck { app, result } => self.on_startup_check(app, result),
            AgentInput::Traffic { app, flowing } => self.on_traffic(app, flowing),
            AgentInput::Announced { app } => self.on_announced(app),
            AgentInput::VipApplied { pair, enable, result } => self.on_vip_applied(pair, enable, result),
            AgentInput::VipObserved { pair, bound } => self.on_vip_observed(pair, bound),
            AgentInput::VipElsewhere { pair, by } => self.on_vip_elsewhere(pair, by),
            AgentInput::NicObserved { nic, up } => self.on_nic(nic, up),
            AgentInput::ScriptOutput { run, line } => self.on_script_output(run, line),
            AgentInput::ScriptFinished { run, exit_code } => self.on_script_finished(run, exit_code),
        }
    }

    /// Fires every deadline due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        self.now = self.now.max(now);
        if let Some(t) = self.next_heartbeat
            && t <= self.now
        {
            self.report(Input::Heartbeat { host: self.host });
            let interval = self.topo.controller.heartbeat_interval.max(Span(1));
            // Keep the beat: the next one is due an interval after this one was.
            let mut next = t + interval;
            if next <= self.now {
                next = self.now + interval;
            }
            self.next_heartbeat = Some(next);
        }
        while let Some(key) = self.timers.pop_due(self.now) {
            match key {
                AgentTimer::Restart(app) => self.on_restart_timer(app),
                AgentTimer::Grace(app) => self.on_grace_timer(app),
                AgentTimer::Hook(app) => self.on_hook_timer(app),
                AgentTimer::Traffic(app) => self.on_traffic_timer(app),
                AgentTimer::Script(run) => self.on_script_timer(run),
            }
        }
    }

    /// The earliest time [`AgentCore::handle_timeout`] has work to do.
    pub fn next_timeout(&self) -> Option<Time> {
        match (self.next_heartbeat, self.timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the actions produced so far.
    pub fn drain(&mut self) -> Vec<AgentAction> {
        std::mem::take(&mut self.actions)
    }

    /// Appends the actions produced so far to `out` (no allocation when it has room).
    pub fn drain_into(&mut self, out: &mut Vec<AgentAction>) {
        out.append(&mut self.actions);
    }

    // ----------------------------------------------------------------- orders

    fn on_order(&mut self, cmd: Command) {
        if cmd.host() != Some(self.host) {
            return; // another host's order, or one for the controller itself
        }
        match cmd {
            Command::SetMode { app, mode, .. } => self.order_mode(app, mode),
            Command::Start { app, .. } => self.order_start(app),
            Command::Stop { app, .. } => self.order_stop(app, Signal::Term),
            Command::Kill { app, .. } => self.order_stop(app, Signal::Kill),
            Command::Vip { pair, enable, .. } => self.order_vip(pair, enable),
            Command::RunScript { run, script, args, .. } => self.order_script(run, script, args),
            Command::Resync { .. } => self.full_state(),
            Command::SiteMode { app, single_site, .. } => {
                if let Some(i) = self.slot(app) {
                    self.apps[i].single_site = single_site;
                    self.act(AgentAction::SiteMode { app, single_site });
                }
            }
            Command::ProbePeer { .. } | Command::Notify { .. } => {}
        }
    }

    fn on_connected(&mut self) {
        self.connected = true;
        // Heartbeats fall on the interval's grid of the driver's clock (the next one after
        // now): agents sharing a clock (the drill's) beat together.
        let interval = self.topo.controller.heartbeat_interval.as_ms().max(1);
        let next = (self.now.ms() / interval).saturating_add(1).saturating_mul(interval);
        self.next_heartbeat = Some(Time(next));
        self.full_state();
    }

    /// Everything the agent knows, for a controller that (re)connected or asked: per
    /// application its state, mode and announcement, then the NICs and the VIPs.
    fn full_state(&mut self) {
        for i in 0..self.apps.len() {
            self.report_app_full(i);
        }
        for nic in 0..self.nics.len() {
            if let Some(up) = self.nics[nic] {
                self.report(Input::NicState {
                    host: self.host,
                    nic,
                    up,
                });
            }
        }
        for k in 0..self.vips.len() {
            let host::VipSlot { pair, bound, .. } = self.vips[k];
            self.report(Input::VipState {
                host: self.host,
                pair,
                bound,
            });
            if let Some(by) = self.vips[k].elsewhere.clone() {
                self.report(Input::VipElsewhere {
                    host: self.host,
                    pair,
                    by: Some(by),
                });
            }
        }
    }

    // ----------------------------------------------------------------- plumbing

    /// The position of `app` among this host's applications.
    fn slot(&self, app: AppIx) -> Option<usize> {
        self.apps.iter().position(|s| s.app == app)
    }

    fn act(&mut self, a: AgentAction) {
        self.actions.push(a);
    }

    /// A report to the controller; nothing is sent while the link is down (the full state
    /// follows on reconnect).
    fn report(&mut self, input: Input) {
        if self.connected {
            self.actions.push(AgentAction::Report(input));
        }
    }
}
