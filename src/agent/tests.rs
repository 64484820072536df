//! Agent core unit tests, driven directly: a tiny harness feeds inputs at chosen times and
//! looks at the actions and reports that come out. The drill covers the agent end to end.

use super::*;
use crate::engine::{AppReport, config};

const TOPO: &str = r#"
[controller]
heartbeat-interval = "1s"
heartbeat-timeout = "3s"
mode-timeout = "10s"

[[site]]
id = "s1"

[[host]]
id = "h1"
site = "s1"
nics = ["mgmt", "sip"]

[[host]]
id = "h2"
site = "s1"
nics = ["mgmt", "sip"]

[[app]]
id = "a"
kind = "sip-server"
host = "h1"
restart-delay = "15s"
traffic-timeout = "10s"
traffic-nic = "sip"
probe = { kind = "sip-options", port = 5060, interval = "2s", timeout = "1s", failures = 3 }
backup-check = { init-timeout = "60s", port-check = true }

[[app]]
id = "b"
kind = "sip-server"
host = "h2"

[[pair]]
id = "p"
apps = ["a", "b"]
vip = { address = "10.0.0.1/24", nic = "sip" }

[[script]]
id = "slow"
command = "/bin/slow"
timeout = "5s"
hosts = ["h1"]

[[script]]
id = "elsewhere"
command = "/bin/elsewhere"
hosts = ["h2"]
"#;

const A: AppIx = AppIx(0);
const P: PairIx = PairIx(0);
const H1: HostIx = HostIx(0);

struct H {
    core: AgentCore,
    now: Time,
    out: Vec<AgentAction>,
}

impl H {
    /// The agent of h1, connected and booted, with `a` running (mode none).
    fn new() -> H {
        let topo = Arc::new(config::parse(TOPO, "t.toml").expect("valid"));
        let mut h = H {
            core: AgentCore::new(topo, H1),
            now: Time::ZERO,
            out: Vec::new(),
        };
        h.input(AgentInput::NicObserved { nic: 0, up: true });
        h.input(AgentInput::NicObserved { nic: 1, up: true });
        h.input(AgentInput::Boot);
        assert!(h.take().contains(&AgentAction::Spawn { app: A }));
        h.input(AgentInput::Connected);
        h.input(AgentInput::Spawned { app: A });
        h.take();
        h
    }

    fn input(&mut self, i: AgentInput) {
        self.core.handle(self.now, i);
        self.core.drain_into(&mut self.out);
    }

    fn order(&mut self, c: Command) {
        self.input(AgentInput::Order(c));
    }

    /// Moves the clock to `t`, firing every deadline on the way.
    fn run_until(&mut self, t: Time) {
        while let Some(d) = self.core.next_timeout().filter(|d| *d <= t) {
            self.now = d;
            self.core.handle_timeout(d);
            self.core.drain_into(&mut self.out);
        }
        self.now = t;
    }

    fn advance(&mut self, by: Span) {
        let t = self.now + by;
        self.run_until(t);
    }

    fn take(&mut self) -> Vec<AgentAction> {
        std::mem::take(&mut self.out)
    }

    /// The app-state reports among the actions taken.
    fn app_reports(&mut self) -> Vec<AppReport> {
        self.take()
            .into_iter()
            .filter_map(|a| match a {
                AgentAction::Report(Input::AppState { report, .. }) => Some(report),
                _ => None,
            })
            .collect()
    }

    fn set_mode(&mut self, mode: Mode) {
        self.order(Command::SetMode {
            host: H1,
            app: A,
            mode,
            correlation: None,
        });
        assert!(self.out.contains(&AgentAction::RunModeHook { app: A, mode }));
        self.input(AgentInput::HookDone {
            app: A,
            mode,
            result: Ok(()),
        });
    }
}

fn stop(app: AppIx) -> Command {
    Command::Stop {
        host: H1,
        app,
        correlation: None,
    }
}

fn unavailable(r: &AppReport) -> bool {
    matches!(r, AppReport::ServiceUnavailable { .. })
}

#[test]
fn a_started_process_reports_mode_none_and_running_and_is_probed() {
    let topo = Arc::new(config::parse(TOPO, "t.toml").expect("valid"));
    let mut core = AgentCore::new(topo, H1);
    core.handle(Time::ZERO, AgentInput::Connected);
    core.handle(Time::ZERO, AgentInput::Boot);
    core.handle(Time(1500), AgentInput::Spawned { app: A });
    let out = core.drain();
    let mode = AgentAction::Report(Input::ModeReport {
        app: A,
        mode: Mode::None,
    });
    let running = AgentAction::Report(Input::AppState {
        app: A,
        report: AppReport::Running,
    });
    assert!(out.contains(&AgentAction::Spawn { app: A }));
    assert!(out.iter().position(|a| *a == mode) < out.iter().position(|a| *a == running));
    assert!(out.contains(&AgentAction::StartProbing { app: A }));
}

#[test]
fn a_crashed_process_is_restarted_after_its_restart_delay() {
    let mut h = H::new();
    h.run_until(Time(10_000));
    h.input(AgentInput::Exited {
        app: A,
        status: ExitStatus::Signal(9),
    });
    assert_eq!(h.app_reports(), vec![AppReport::Exited { code: 137 }]);
    h.run_until(Time(24_999));
    assert!(!h.take().contains(&AgentAction::Spawn { app: A }));
    h.run_until(Time(25_000));
    assert!(h.take().contains(&AgentAction::Spawn { app: A }));
}

#[test]
fn no_restart_after_stop_or_kill_until_started() {
    for kill in [false, true] {
        let mut h = H::new();
        let cmd = if kill {
            Command::Kill {
                host: H1,
                app: A,
                correlation: None,
            }
        } else {
            stop(A)
        };
        h.order(cmd);
        let signal = if kill { Signal::Kill } else { Signal::Term };
        assert!(h.take().contains(&AgentAction::Signal { app: A, signal }));
        h.input(AgentInput::Exited {
            app: A,
            status: ExitStatus::Signal(15),
        });
        assert_eq!(h.app_reports(), vec![AppReport::Exited { code: 143 }]);
        h.advance(Span::secs(120));
        assert!(!h.take().iter().any(|a| matches!(a, AgentAction::Spawn { .. })));
        h.order(Command::Start {
            host: H1,
            app: A,
            correlation: None,
        });
        assert!(h.take().contains(&AgentAction::Spawn { app: A }));
    }
}

#[test]
fn stop_escalates_to_kill_after_the_grace() {
    let mut h = H::new();
    h.order(stop(A));
    assert!(h.take().contains(&AgentAction::Signal {
        app: A,
        signal: Signal::Term
    }));
    h.advance(Span(STOP_GRACE.as_ms() - 1));
    assert!(!h.take().contains(&AgentAction::Signal {
        app: A,
        signal: Signal::Kill
    }));
    h.advance(Span(1));
    assert!(h.take().contains(&AgentAction::Signal {
        app: A,
        signal: Signal::Kill
    }));
    // Stopping an application that is already down answers with its exit at once.
    h.input(AgentInput::Exited {
        app: A,
        status: ExitStatus::Signal(9),
    });
    h.take();
    h.order(stop(A));
    assert_eq!(h.app_reports(), vec![AppReport::Exited { code: 137 }]);
}

#[test]
fn probe_failures_in_a_row_report_probe_failed_and_kill() {
    let mut h = H::new();
    for _ in 0..2 {
        h.input(AgentInput::Probe {
            app: A,
            outcome: ProbeOutcome::NoAnswer,
        });
    }
    h.input(AgentInput::Probe {
        app: A,
        outcome: ProbeOutcome::Ok,
    });
    for _ in 0..2 {
        h.input(AgentInput::Probe {
            app: A,
            outcome: ProbeOutcome::NoAnswer,
        });
    }
    assert!(h.take().is_empty(), "an answer in between resets the count");
    h.input(AgentInput::Probe {
        app: A,
        outcome: ProbeOutcome::NoAnswer,
    });
    let out = h.take();
    assert!(out.contains(&AgentAction::Report(Input::AppState {
        app: A,
        report: AppReport::ProbeFailed {
            detail: "no answer to 3 probes in a row".into()
        }
    })));
    assert!(out.contains(&AgentAction::Signal {
        app: A,
        signal: Signal::Kill
    }));
    // Its exit is not a controller's stop: it is restarted.
    h.input(AgentInput::Exited {
        app: A,
        status: ExitStatus::Signal(9),
    });
    h.advance(Span::secs(15));
    assert!(h.take().contains(&AgentAction::Spawn { app: A }));
}

#[test]
fn an_answer_of_unavailable_is_reported_and_cleared() {
    let mut h = H::new();
    h.input(AgentInput::Probe {
        app: A,
        outcome: ProbeOutcome::Unavailable("503".into()),
    });
    let r = h.app_reports();
    assert!(r.len() == 1 && unavailable(&r[0]));
    h.input(AgentInput::Probe {
        app: A,
        outcome: ProbeOutcome::Unavailable("503".into()),
    });
    assert!(h.app_reports().is_empty(), "reported once");
    h.input(AgentInput::Probe {
        app: A,
        outcome: ProbeOutcome::Ok,
    });
    assert_eq!(h.app_reports(), vec![AppReport::Running]);
}

#[test]
fn a_backup_reports_starting_then_running_after_passing_checks() {
    let mut h = H::new();
    h.set_mode(Mode::Backup);
    let out = h.take();
    assert!(out.contains(&AgentAction::StartupCheck { app: A }));
    assert!(out.contains(&AgentAction::Report(Input::AppState {
        app: A,
        report: AppReport::Starting
    })));
    assert!(!h.core.app_view(A).expect("app").ready);
    h.input(AgentInput::StartupCheck { app: A, result: Ok(()) });
    assert_eq!(h.app_reports(), vec![AppReport::Running]);
    assert!(h.core.app_view(A).expect("app").ready);
}

#[test]
fn a_backup_reports_unavailable_after_failing_checks_until_they_pass() {
    let mut h = H::new();
    h.set_mode(Mode::Backup);
    h.take();
    h.input(AgentInput::StartupCheck {
        app: A,
        result: Err("cannot open the service port".into()),
    });
    assert_eq!(
        h.app_reports(),
        vec![AppReport::ServiceUnavailable {
            detail: "cannot open the service port".into()
        }]
    );
    // A later verdict without being asked: the port can be opened now.
    h.input(AgentInput::StartupCheck { app: A, result: Ok(()) });
    assert_eq!(h.app_reports(), vec![AppReport::Running]);
    // Promoted while failing: the backup's checks no longer apply.
    h.set_mode(Mode::Backup);
    h.input(AgentInput::StartupCheck {
        app: A,
        result: Err("x".into()),
    });
    h.take();
    h.input(AgentInput::Traffic { app: A, flowing: true });
    h.set_mode(Mode::Primary);
    let r = h.app_reports();
    assert_eq!(r, vec![AppReport::Running]);
}

#[test]
fn a_primary_without_traffic_is_unavailable_after_the_timeout_and_back_with_traffic() {
    let mut h = H::new();
    h.set_mode(Mode::Primary);
    h.take();
    h.advance(Span(9_999));
    assert!(h.app_reports().is_empty());
    h.advance(Span(1));
    assert_eq!(
        h.app_reports(),
        vec![AppReport::ServiceUnavailable {
            detail: "no SIP traffic for 10s".into()
        }]
    );
    h.input(AgentInput::Traffic { app: A, flowing: true });
    assert_eq!(h.app_reports(), vec![AppReport::Running]);
    // Traffic that stops starts the watch again, from then.
    h.advance(Span::secs(30));
    h.input(AgentInput::Traffic { app: A, flowing: false });
    h.advance(Span::secs(9));
    assert!(h.app_reports().is_empty());
    h.advance(Span::secs(1));
    assert_eq!(h.app_reports().len(), 1);
    // A backup has no traffic watch.
    h.set_mode(Mode::Backup);
    h.input(AgentInput::StartupCheck { app: A, result: Ok(()) });
    h.take();
    h.advance(Span::secs(60));
    assert!(h.app_reports().is_empty());
}

#[test]
fn a_hung_mode_hook_is_cancelled_after_the_mode_timeout_without_a_report() {
    let mut h = H::new();
    h.order(Command::SetMode {
        host: H1,
        app: A,
        mode: Mode::Primary,
        correlation: None,
    });
    h.take();
    h.advance(Span::secs(10));
    let out = h.take();
    assert!(out.contains(&AgentAction::CancelModeHook { app: A }));
    assert!(
        !out.iter()
            .any(|a| matches!(a, AgentAction::Report(Input::ModeReport { .. })))
    );
    assert_eq!(h.core.app_view(A).expect("app").mode, Mode::None);
}

#[test]
fn resync_reports_the_full_state() {
    let mut h = H::new();
    h.input(AgentInput::Traffic { app: A, flowing: true });
    h.set_mode(Mode::Primary);
    h.input(AgentInput::VipApplied {
        pair: P,
        enable: true,
        result: Ok(()),
    });
    assert!(h.take().contains(&AgentAction::Garp { pair: P }));
    h.order(Command::Resync { host: H1 });
    let reports: Vec<Input> = h
        .take()
        .into_iter()
        .filter_map(|a| match a {
            AgentAction::Report(i) => Some(i),
            _ => None,
        })
        .collect();
    assert_eq!(
        reports,
        vec![
            Input::AppState {
                app: A,
                report: AppReport::Running
            },
            Input::ModeReport {
                app: A,
                mode: Mode::Primary
            },
            Input::Announced { app: A },
            Input::NicState {
                host: H1,
                nic: 0,
                up: true
            },
            Input::NicState {
                host: H1,
                nic: 1,
                up: true
            },
            Input::VipState {
                host: H1,
                pair: P,
                bound: true
            },
        ]
    );
}

#[test]
fn nothing_is_sent_while_the_link_is_down_and_everything_on_reconnect() {
    let mut h = H::new();
    h.input(AgentInput::LinkLost);
    h.input(AgentInput::NicObserved { nic: 1, up: false });
    h.advance(Span::secs(5));
    assert!(h.take().is_empty(), "no report, no heartbeat");
    h.input(AgentInput::Connected);
    let out = h.take();
    assert!(out.contains(&AgentAction::Report(Input::NicState {
        host: H1,
        nic: 1,
        up: false
    })));
    assert!(out.contains(&AgentAction::Report(Input::AppState {
        app: A,
        report: AppReport::Running
    })));
}

#[test]
fn a_script_that_runs_too_long_is_killed_and_reported_timed_out() {
    let mut h = H::new();
    h.order(Command::RunScript {
        run: 7,
        host: H1,
        script: ScriptIx(0),
        args: vec![],
        correlation: None,
    });
    assert!(h.take().contains(&AgentAction::RunScript {
        run: 7,
        script: ScriptIx(0),
        args: vec![],
        timeout: Span::secs(5)
    }));
    h.input(AgentInput::ScriptOutput {
        run: 7,
        line: "step 1".into(),
    });
    h.advance(Span::secs(5));
    let out = h.take();
    assert!(out.contains(&AgentAction::KillScript { run: 7 }));
    assert!(out.contains(&AgentAction::Report(Input::ScriptResult {
        run: 7,
        outcome: crate::engine::ScriptOutcome {
            exit_code: None,
            timed_out: true,
            duration: Span::secs(5),
            output_tail: "step 1".into()
        }
    })));
    // Its late end is ignored; a script not allowed here is refused at once.
    h.input(AgentInput::ScriptFinished {
        run: 7,
        exit_code: Some(0),
    });
    assert!(h.take().is_empty());
    h.order(Command::RunScript {
        run: 8,
        host: H1,
        script: ScriptIx(1),
        args: vec![],
        correlation: None,
    });
    let out = h.take();
    assert!(
        matches!(&out[..], [AgentAction::Report(Input::ScriptResult { run: 8, outcome })] if outcome.exit_code.is_none())
    );
}

#[test]
fn heartbeats_at_the_configured_interval() {
    let mut h = H::new();
    h.advance(Span::secs(5));
    let beats = h
        .take()
        .iter()
        .filter(|a| matches!(a, AgentAction::Report(Input::Heartbeat { host: H1 })))
        .count();
    assert_eq!(beats, 5);
}

#[test]
fn never_a_second_copy() {
    let mut h = H::new();
    h.input(AgentInput::ProcessFound {
        app: A,
        mode: Mode::None,
    });
    h.order(Command::Start {
        host: H1,
        app: A,
        correlation: None,
    });
    assert!(h.take().is_empty());
    // A restarted agent adopts what runs instead of starting it.
    let topo = Arc::new(config::parse(TOPO, "t.toml").expect("valid"));
    let mut core = AgentCore::new(topo, H1);
    core.handle(
        Time::ZERO,
        AgentInput::ProcessFound {
            app: A,
            mode: Mode::None,
        },
    );
    core.handle(Time::ZERO, AgentInput::Boot);
    assert!(!core.drain().contains(&AgentAction::Spawn { app: A }));
}

#[test]
fn inputs_about_other_hosts_or_unknown_things_are_ignored() {
    let mut h = H::new();
    let b = AppIx(1);
    h.input(AgentInput::Exited {
        app: b,
        status: ExitStatus::Code(1),
    });
    h.input(AgentInput::Exited {
        app: AppIx(99),
        status: ExitStatus::Code(1),
    });
    h.input(AgentInput::NicObserved { nic: 9, up: true });
    h.input(AgentInput::VipObserved {
        pair: PairIx(5),
        bound: true,
    });
    h.input(AgentInput::ScriptFinished {
        run: 1,
        exit_code: None,
    });
    h.order(stop(b));
    h.order(Command::Stop {
        host: HostIx(1),
        app: b,
        correlation: None,
    });
    assert!(h.take().is_empty());
    let topo = Arc::new(config::parse(TOPO, "t.toml").expect("valid"));
    let mut nowhere = AgentCore::new(topo, HostIx(42));
    nowhere.handle(Time::ZERO, AgentInput::Boot);
    nowhere.handle(Time::ZERO, AgentInput::Connected);
    nowhere.handle_timeout(Time(5_000));
}

#[test]
fn an_adopted_primary_is_reported_primary_never_none() {
    // A restarted agent on a primary's host: the controller must never see the primary
    // without its mode (it would start a switchover to the instance already serving).
    let topo = Arc::new(config::parse(TOPO, "t.toml").expect("valid"));
    let mut core = AgentCore::new(topo, H1);
    core.handle(
        Time::ZERO,
        AgentInput::ProcessFound {
            app: A,
            mode: Mode::Primary,
        },
    );
    core.handle(Time::ZERO, AgentInput::Boot);
    core.handle(Time::ZERO, AgentInput::Connected);
    let modes: Vec<Mode> = core
        .drain()
        .into_iter()
        .filter_map(|a| match a {
            AgentAction::Report(Input::ModeReport { app, mode }) if app == A => Some(mode),
            _ => None,
        })
        .collect();
    assert_eq!(modes, vec![Mode::Primary]);
}

#[test]
fn another_holder_of_a_vip_is_reported_only_while_bound_here_and_on_change() {
    let mut h = H::new();
    let elsewhere = |out: Vec<AgentAction>| -> Vec<Option<String>> {
        out.into_iter()
            .filter_map(|a| match a {
                AgentAction::Report(Input::VipElsewhere { pair: P, by, .. }) => Some(by),
                _ => None,
            })
            .collect()
    };
    let mac = || Some("02:00:00:00:00:07".to_string());
    // Not bound here: another holder is the normal state of a backup's host.
    h.input(AgentInput::VipElsewhere { pair: P, by: mac() });
    assert_eq!(elsewhere(h.take()), Vec::<Option<String>>::new());
    h.input(AgentInput::VipObserved { pair: P, bound: true });
    h.take();
    h.input(AgentInput::VipElsewhere { pair: P, by: mac() });
    h.input(AgentInput::VipElsewhere { pair: P, by: mac() });
    assert_eq!(elsewhere(h.take()), vec![mac()], "once, not at every probe");
    // A full state repeats it; losing the address clears it.
    h.order(Command::Resync { host: H1 });
    assert_eq!(elsewhere(h.take()), vec![mac()]);
    h.input(AgentInput::VipObserved { pair: P, bound: false });
    assert_eq!(elsewhere(h.take()), vec![None]);
    h.order(Command::Resync { host: H1 });
    assert_eq!(elsewhere(h.take()), Vec::<Option<String>>::new());
}
