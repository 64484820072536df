//! What the agent knows of each application and what it tells the controller about it:
//! the mode (changed only through the mode hook, with a timeout), a backup's start-up
//! checks (W6: Starting until they pass), the primary's traffic watch (W4), the
//! application's own SERVICE_UNAVAILABLE, and the availability report, sent whenever its
//! kind changes.

use super::*;
use crate::engine::AppReport;

/// The agent's view of an application's process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proc {
    /// Not running (never started, exited, or stopped).
    Down,
    /// Asked to start, not running yet.
    Spawning,
    Running,
    /// Signalled; its exit is awaited.
    Stopping,
}

/// The kind of the last availability report, to report again only when it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Running,
    Starting,
    Unavailable,
    Exited,
    ProbeFailed,
}

#[derive(Clone, Debug)]
pub(super) struct Slot {
    pub app: AppIx,
    pub proc: Proc,
    /// Stopped or killed on the controller's order: not started again until it says so.
    pub held: bool,
    /// The mode the application runs in, as its last successful hook set it.
    pub mode: Mode,
    /// A mode hook runs, for this mode.
    pub hook: Option<Mode>,
    /// The mode ordered while a hook ran: its hook runs next (hooks never overlap).
    pub queued: Option<Mode>,
    /// A backup's start-up checks are running.
    pub checking: bool,
    /// The last start-up check failed, with why.
    pub check_failed: Option<String>,
    /// The application answered that it is unavailable, with what it said.
    pub unavailable: Option<String>,
    pub probe_failures: u32,
    pub probing: bool,
    /// Traffic arrives for it.
    pub flowing: bool,
    /// Primary without traffic since then (the watch runs).
    pub quiet_since: Option<Time>,
    /// Primary without traffic for its traffic-timeout.
    pub no_traffic: bool,
    /// The exit code of its last exit, once it has exited.
    pub last_exit: Option<i32>,
    pub reported: Option<Kind>,
    pub single_site: bool,
}

impl Slot {
    pub fn new(app: AppIx) -> Slot {
        Slot {
            app,
            proc: Proc::Down,
            held: false,
            mode: Mode::None,
            hook: None,
            queued: None,
            checking: false,
            check_failed: None,
            unavailable: None,
            probe_failures: 0,
            probing: false,
            flowing: false,
            quiet_since: None,
            no_traffic: false,
            last_exit: None,
            reported: None,
            single_site: false,
        }
    }

    /// Forgets what belonged to the process that ran (it exited or a new one starts).
    pub fn reset_process(&mut self) {
        self.mode = Mode::None;
        self.hook = None;
        self.queued = None;
        self.checking = false;
        self.check_failed = None;
        self.unavailable = None;
        self.probe_failures = 0;
        self.quiet_since = None;
        self.no_traffic = false;
    }
}

/// What the agent thinks of one application, for the drill's oracle and for status output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppView {
    pub proc: Proc,
    pub mode: Mode,
    pub held: bool,
    /// A backup's start-up checks are running.
    pub checking: bool,
    /// Running, its start-up checks done and passed, with traffic if a primary, and not
    /// saying it is unavailable.
    pub ready: bool,
    /// The last availability report said SERVICE_UNAVAILABLE.
    pub reported_unavailable: bool,
}

impl AgentCore {
    /// The agent's view of `app`, if it runs on this host.
    pub fn app_view(&self, app: AppIx) -> Option<AppView> {
        let s = &self.apps[self.slot(app)?];
        Some(AppView {
            proc: s.proc,
            mode: s.mode,
            held: s.held,
            checking: s.checking,
            ready: s.proc == Proc::Running
                && !s.checking
                && s.check_failed.is_none()
                && s.unavailable.is_none()
                && !s.no_traffic,
            reported_unavailable: s.reported == Some(Kind::Unavailable),
        })
    }

    /// What a running application's availability report says now.
    pub(super) fn availability(&self, i: usize) -> AppReport {
        let s = &self.apps[i];
        if s.checking {
            AppReport::Starting
        } else if let Some(detail) = &s.unavailable {
            AppReport::ServiceUnavailable { detail: detail.clone() }
        } else if s.no_traffic {
            let t = self.topo.app(s.app).traffic.as_ref().map_or(Span::ZERO, |t| t.timeout);
            AppReport::ServiceUnavailable {
                detail: format!("no SIP traffic for {t}"),
            }
        } else if let Some(detail) = &s.check_failed {
            AppReport::ServiceUnavailable { detail: detail.clone() }
        } else {
            AppReport::Running
        }
    }

    /// Reports a running application's availability if its kind changed since the last
    /// report.
    pub(super) fn refresh(&mut self, i: usize) {
        if self.apps[i].proc != Proc::Running {
            return;
        }
        let report = self.availability(i);
        let kind = kind_of(&report);
        if self.apps[i].reported != Some(kind) {
            self.send_app_state(i, report);
        }
    }

    pub(super) fn send_app_state(&mut self, i: usize, report: AppReport) {
        self.apps[i].reported = Some(kind_of(&report));
        let app = self.apps[i].app;
        self.report(Input::AppState { app, report });
    }

    /// Everything about one application, for a resync: its state (nothing while it starts
    /// or stops), its mode and its announcement.
    pub(super) fn report_app_full(&mut self, i: usize) {
        let s = &self.apps[i];
        let app = s.app;
        match s.proc {
            Proc::Down => {
                if let Some(code) = s.last_exit {
                    self.send_app_state(i, AppReport::Exited { code });
                }
            }
            Proc::Spawning | Proc::Stopping => {}
            Proc::Running => {
                let mode = s.mode;
                let report = self.availability(i);
                self.send_app_state(i, report);
                self.report(Input::ModeReport { app, mode });
                if mode == Mode::Primary && self.topo.app(app).announces_primary {
                    self.report(Input::Announced { app });
                }
            }
        }
    }

    // ----------------------------------------------------------------- mode hook

    pub(super) fn order_mode(&mut self, app: AppIx, mode: Mode) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].proc != Proc::Running {
            return; // nothing to change the mode of; the controller's mode timeout tells it
        }
        if self.apps[i].hook.is_some() {
            self.apps[i].queued = Some(mode);
            return;
        }
        self.run_hook(i, mode);
    }

    fn run_hook(&mut self, i: usize, mode: Mode) {
        let app = self.apps[i].app;
        self.apps[i].hook = Some(mode);
        self.act(AgentAction::RunModeHook { app, mode });
        let at = self.now + self.topo.controller.mode_timeout;
        self.timers.set(AgentTimer::Hook(app), at);
    }

    /// The hook that ran is over (done or given up): the next ordered mode's hook runs.
    fn hook_over(&mut self, i: usize) {
        self.apps[i].hook = None;
        self.timers.cancel(AgentTimer::Hook(self.apps[i].app));
        if let Some(next) = self.apps[i].queued.take() {
            self.run_hook(i, next);
        }
    }

    pub(super) fn on_hook_timer(&mut self, app: AppIx) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].hook.is_some() {
            // The mode stays as it was; the controller sees no confirmation and gives up
            // on its own mode timeout.
            self.act(AgentAction::CancelModeHook { app });
            self.hook_over(i);
        }
    }

    pub(super) fn on_hook_done(&mut self, app: AppIx, mode: Mode, result: Result<(), String>) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].proc != Proc::Running || self.apps[i].hook != Some(mode) {
            return; // not the hook that runs (one given up on, or from an older process)
        }
        if result.is_err() {
            self.hook_over(i);
            return; // the mode did not change: nothing to confirm
        }
        self.apps[i].mode = mode;
        self.report(Input::ModeReport { app, mode });
        let check = &self.topo.app(app).backup_check;
        let check_enabled = check.enabled;
        let s = &mut self.apps[i];
        match mode {
            Mode::Primary => {
                // Start-up checks are a backup's: they no longer apply.
                s.checking = false;
                s.check_failed = None;
            }
            Mode::Backup => {
                s.no_traffic = false;
                if check_enabled {
                    // Not ready until the start-up checks pass: Starting, reported at once.
                    s.checking = true;
                    self.act(AgentAction::StartupCheck { app });
                } else {
                    s.check_failed = None;
                }
            }
            Mode::None => {}
        }
        self.update_traffic_watch(i);
        self.refresh(i);
        self.hook_over(i);
    }

    pub(super) fn on_startup_check(&mut self, app: AppIx, result: Result<(), String>) {
        let Some(i) = self.slot(app) else { return };
        let s = &mut self.apps[i];
        if s.proc != Proc::Running || !(s.checking || s.mode == Mode::Backup) {
            return; // promoted or gone meanwhile: the verdict no longer applies
        }
        s.checking = false;
        s.check_failed = result.err();
        self.refresh(i);
    }

    pub(super) fn on_announced(&mut self, app: AppIx) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].proc == Proc::Running && self.apps[i].mode == Mode::Primary {
            self.report(Input::Announced { app });
        }
    }

    // ----------------------------------------------------------------- traffic (W4)

    pub(super) fn on_traffic(&mut self, app: AppIx, flowing: bool) {
        let Some(i) = self.slot(app) else { return };
        self.apps[i].flowing = flowing;
        self.update_traffic_watch(i);
        self.refresh(i);
    }

    /// Starts the watch of a primary that gets no traffic, or stops it (and clears its
    /// SERVICE_UNAVAILABLE) once traffic arrives or it is no longer primary.
    pub(super) fn update_traffic_watch(&mut self, i: usize) {
        let app = self.apps[i].app;
        let Some(timeout) = self.topo.app(app).traffic.as_ref().map(|t| t.timeout) else {
            return;
        };
        let s = &mut self.apps[i];
        let primary = s.proc == Proc::Running && s.mode == Mode::Primary;
        if primary && !s.flowing {
            if s.quiet_since.is_none() {
                s.quiet_since = Some(self.now);
                self.timers.set(AgentTimer::Traffic(app), self.now + timeout);
            }
        } else {
            s.quiet_since = None;
            s.no_traffic = false;
            self.timers.cancel(AgentTimer::Traffic(app));
        }
    }

    pub(super) fn on_traffic_timer(&mut self, app: AppIx) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].quiet_since.is_some() {
            self.apps[i].no_traffic = true;
            self.refresh(i);
        }
    }
}

fn kind_of(r: &AppReport) -> Kind {
    match r {
        AppReport::Running => Kind::Running,
        AppReport::Starting => Kind::Starting,
        AppReport::ServiceUnavailable { .. } => Kind::Unavailable,
        AppReport::Exited { .. } => Kind::Exited,
        AppReport::ProbeFailed { .. } => Kind::ProbeFailed,
    }
}
