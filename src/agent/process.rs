//! Process supervision: start every application at boot, adopt one that already runs
//! instead of starting a second copy, restart a crashed one after its restart-delay but
//! not one the controller stopped or killed (until it orders a start), stop with SIGTERM
//! and SIGKILL after [`STOP_GRACE`], and turn consecutive probe failures into a
//! ProbeFailed report and a kill.

use super::apps::{Kind, Proc};
use super::*;
use crate::engine::AppReport;

impl AgentCore {
    pub(super) fn on_boot(&mut self) {
        if std::mem::replace(&mut self.booted, true) {
            return;
        }
        for i in 0..self.apps.len() {
            if self.apps[i].proc == Proc::Down && !self.apps[i].held {
                self.spawn(i);
            }
        }
    }

    fn spawn(&mut self, i: usize) {
        let app = self.apps[i].app;
        self.timers.cancel(AgentTimer::Restart(app));
        self.apps[i].proc = Proc::Spawning;
        self.act(AgentAction::Spawn { app });
    }

    pub(super) fn on_spawned(&mut self, app: AppIx) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].proc == Proc::Spawning {
            self.running(i, Mode::None);
        }
    }

    /// A process this agent did not start runs; `mode` is the mode it was last confirmed
    /// in (a previous agent's record of it), or none.
    pub(super) fn on_found(&mut self, app: AppIx, mode: Mode) {
        let Some(i) = self.slot(app) else { return };
        if matches!(self.apps[i].proc, Proc::Down | Proc::Spawning) {
            self.timers.cancel(AgentTimer::Restart(app));
            self.running(i, mode);
        }
    }

    /// A process of the application runs in `mode` (none for a new process), and is
    /// probed.
    fn running(&mut self, i: usize, mode: Mode) {
        let app = self.apps[i].app;
        let s = &mut self.apps[i];
        s.proc = Proc::Running;
        let kept = s.unavailable.take(); // what the new process answered before this
        s.reset_process();
        s.unavailable = kept;
        s.reported = None;
        s.mode = mode;
        self.report(Input::ModeReport { app, mode });
        self.refresh(i);
        self.update_traffic_watch(i);
        if self.topo.app(app).probe.is_some() && !self.apps[i].probing {
            self.apps[i].probing = true;
            self.act(AgentAction::StartProbing { app });
        }
    }

    pub(super) fn on_exited(&mut self, app: AppIx, status: ExitStatus) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].proc == Proc::Down {
            return;
        }
        for t in [AgentTimer::Grace(app), AgentTimer::Hook(app), AgentTimer::Traffic(app)] {
            self.timers.cancel(t);
        }
        self.stop_probing(i);
        let s = &mut self.apps[i];
        s.proc = Proc::Down;
        s.reset_process();
        let code = status.code();
        s.last_exit = Some(code);
        let held = s.held;
        self.send_app_state(i, AppReport::Exited { code });
        if !held && self.booted {
            let at = self.now + self.topo.app(app).restart_delay;
            self.timers.set(AgentTimer::Restart(app), at);
        }
    }

    pub(super) fn on_restart_timer(&mut self, app: AppIx) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].proc == Proc::Down && !self.apps[i].held {
            self.spawn(i);
        }
    }

    pub(super) fn order_start(&mut self, app: AppIx) {
        let Some(i) = self.slot(app) else { return };
        self.apps[i].held = false;
        if self.apps[i].proc == Proc::Down {
            self.spawn(i);
        }
    }

    /// Stop (SIGTERM, SIGKILL after the grace) or kill at once; either way the application
    /// stays down until the controller orders it started.
    pub(super) fn order_stop(&mut self, app: AppIx, signal: Signal) {
        let Some(i) = self.slot(app) else { return };
        self.apps[i].held = true;
        self.timers.cancel(AgentTimer::Restart(app));
        match self.apps[i].proc {
            Proc::Down => {
                // Already down: say so again, so the controller's order is answered.
                let code = self.apps[i].last_exit.unwrap_or(0);
                self.send_app_state(i, AppReport::Exited { code });
            }
            Proc::Spawning | Proc::Running => self.signal(i, signal),
            Proc::Stopping => {
                if signal == Signal::Kill {
                    self.signal(i, Signal::Kill);
                }
            }
        }
    }

    fn signal(&mut self, i: usize, signal: Signal) {
        let app = self.apps[i].app;
        self.apps[i].proc = Proc::Stopping;
        self.stop_probing(i);
        self.act(AgentAction::Signal { app, signal });
        match signal {
            Signal::Term => self.timers.set(AgentTimer::Grace(app), self.now + STOP_GRACE),
            Signal::Kill => self.timers.cancel(AgentTimer::Grace(app)),
        }
    }

    pub(super) fn on_grace_timer(&mut self, app: AppIx) {
        let Some(i) = self.slot(app) else { return };
        if self.apps[i].proc == Proc::Stopping {
            self.signal(i, Signal::Kill);
        }
    }

    fn stop_probing(&mut self, i: usize) {
        if std::mem::take(&mut self.apps[i].probing) {
            let app = self.apps[i].app;
            self.act(AgentAction::StopProbing { app });
        }
    }

    pub(super) fn on_probe(&mut self, app: AppIx, outcome: ProbeOutcome) {
        let Some(i) = self.slot(app) else { return };
        if !matches!(self.apps[i].proc, Proc::Spawning | Proc::Running) {
            return;
        }
        match outcome {
            ProbeOutcome::Ok => {
                self.apps[i].probe_failures = 0;
                self.apps[i].unavailable = None;
            }
            ProbeOutcome::Unavailable(detail) => {
                self.apps[i].probe_failures = 0;
                self.apps[i].unavailable = Some(detail);
            }
            ProbeOutcome::NoAnswer => {
                let s = &mut self.apps[i];
                s.probe_failures = s.probe_failures.saturating_add(1);
                let failures = self
                    .topo
                    .app(app)
                    .probe
                    .as_ref()
                    .map_or(DEFAULT_PROBE_FAILURES, |p| p.failures.max(1));
                if s.probe_failures >= failures && s.proc == Proc::Running {
                    // Failed: say so, then kill the hung process; supervision restarts it.
                    let detail = format!("no answer to {failures} probes in a row");
                    self.apps[i].reported = Some(Kind::ProbeFailed);
                    self.report(Input::AppState {
                        app,
                        report: AppReport::ProbeFailed { detail },
                    });
                    self.signal(i, Signal::Kill);
                    return;
                }
            }
        }
        self.refresh(i);
    }
}
