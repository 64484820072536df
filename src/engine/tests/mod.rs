//! Engine unit tests, driven directly: a tiny harness plays an obliging agent (every mode
//! order confirmed and announced, every VIP action done) so each test can focus on one
//! rule. The drill's scenario tests cover the workflows end to end.

use std::sync::Arc;

use super::*;

const TOPO: &str = r#"
[controller]
heartbeat-interval = "1s"
heartbeat-timeout = "3s"
mode-timeout = "10s"

[[site]]
id = "s1"
peer = "s2"
oos-check = "5s"
oos-force = "20s"

[[site]]
id = "s2"
peer = "s1"

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

[[app]]
id = "b"
kind = "sip-server"
host = "h2"

[[pair]]
id = "p"
apps = ["a", "b"]
vip = { address = "10.0.0.1/24", nic = "sip" }
anti-flap = { window = "10m", max-switchovers = 2 }

[[script]]
id = "notify"
command = "/bin/notify"
args = ["{event}", "{subject}"]

[[alarm]]
id = "on-primary"
event = "00-5150"
pair = "p"
reactions = [{ run-script = "notify" }]
"#;

struct H {
    e: Engine,
    now: Time,
    log: Vec<Event>,
    /// When false, the fake agent leaves VIP actions unanswered (and NIC `sip` of h1 "down").
    vip_ok: bool,
    peer_answers: bool,
    /// An application whose mode hook hangs: its mode orders go unanswered.
    hung_hook: Option<AppIx>,
}

const A: AppIx = AppIx(0);
const B: AppIx = AppIx(1);
const P: PairIx = PairIx(0);
const H1: HostIx = HostIx(0);
const H2: HostIx = HostIx(1);

impl H {
    /// A started controller with both agents connected and `a` primary, `b` backup.
    fn new() -> H {
        H::with_topology(TOPO)
    }

    /// The same start on another topology (a variant of [`TOPO`]).
    fn with_topology(text: &str) -> H {
        let topo = Arc::new(config::parse(text, "t.toml").expect("valid"));
        let mut h = H {
            e: Engine::new(topo, SiteIx(0)),
            now: Time::ZERO,
            log: Vec::new(),
            vip_ok: true,
            peer_answers: true,
            hung_hook: None,
        };
        h.input(Input::Start);
        for host in [H1, H2] {
            h.input(Input::Heartbeat { host });
            h.input(Input::NicState { host, nic: 1, up: true });
            h.input(Input::VipState {
                host,
                pair: P,
                bound: false,
            });
        }
        for app in [A, B] {
            h.input(Input::ModeReport { app, mode: Mode::None });
            h.input(Input::AppState {
                app,
                report: AppReport::Running,
            });
        }
        h.advance(5);
        assert_eq!(h.primary(), Some(A));
        h.log.clear();
        h
    }

    fn input(&mut self, i: Input) {
        self.e.handle(self.now, i);
        self.pump();
    }

    /// An operator switchover of the pair to its other instance.
    fn switchover(&mut self, force: bool, id: Option<&str>) -> Result<Accepted, Refused> {
        self.op(
            OperatorCommand::Switchover {
                pair: P,
                to: None,
                force,
            },
            id,
        )
    }

    fn op(&mut self, command: OperatorCommand, id: Option<&str>) -> Result<Accepted, Refused> {
        let req = OperatorRequest {
            operator: Operator {
                name: "alice".into(),
                from: Some("192.0.2.7".into()),
            },
            request_id: id.map(String::from),
            reason: Some("test".into()),
            command,
        };
        let r = self.e.operator(self.now, req);
        self.pump();
        r
    }

    /// The fake agent: answers every command at once.
    fn pump(&mut self) {
        for _ in 0..100 {
            let (cmds, evs) = self.e.drain();
            self.log.extend(evs);
            if cmds.is_empty() {
                return;
            }
            for c in cmds {
                let reply = match c {
                    Command::SetMode { app, .. } if self.hung_hook == Some(app) => vec![],
                    Command::SetMode { app, mode, .. } => {
                        let mut v = vec![Input::ModeReport { app, mode }];
                        match mode {
                            Mode::Primary => v.push(Input::Announced { app }),
                            // A new backup's start-up checks pass at once.
                            Mode::Backup => v.push(Input::AppState {
                                app,
                                report: AppReport::Running,
                            }),
                            Mode::None => {}
                        }
                        v
                    }
                    Command::Vip { host, pair, enable, .. } => {
                        let ok = self.vip_ok || host != H1;
                        let bound = if ok { enable } else { true };
                        vec![
                            Input::VipResult {
                                host,
                                pair,
                                enable,
                                ok,
                                detail: if ok { String::new() } else { "NIC sip is down".into() },
                            },
                            Input::VipState { host, pair, bound },
                        ]
                    }
                    Command::RunScript { run, .. } => vec![Input::ScriptResult {
                        run,
                        outcome: ScriptOutcome {
                            exit_code: Some(0),
                            timed_out: false,
                            duration: Span::ms(300),
                            output_tail: "ok".into(),
                        },
                    }],
                    Command::Start { app, .. } => vec![
                        Input::ModeReport { app, mode: Mode::None },
                        Input::AppState {
                            app,
                            report: AppReport::Running,
                        },
                    ],
                    Command::Stop { app, .. } | Command::Kill { app, .. } => {
                        if self.hung_hook == Some(app) {
                            self.hung_hook = None; // a stopped process takes its hook with it
                        }
                        vec![Input::AppState {
                            app,
                            report: AppReport::Exited { code: 143 },
                        }]
                    }
                    Command::ProbePeer { .. } => vec![Input::PeerProbe {
                        answered: self.peer_answers,
                    }],
                    Command::Resync { .. } | Command::SiteMode { .. } | Command::Notify { .. } => vec![],
                };
                for i in reply {
                    self.e.handle(self.now, i);
                }
            }
        }
        panic!("the engine never went quiet");
    }

    /// Moves time forward second by second, with heartbeats from `beating` hosts.
    fn advance_with(&mut self, secs: u64, beating: &[HostIx]) {
        for _ in 0..secs {
            self.now = self.now + Span::secs(1);
            for h in beating {
                self.e.handle(self.now, Input::Heartbeat { host: *h });
            }
            self.e.handle_timeout(self.now);
            self.pump();
        }
    }

    fn advance(&mut self, secs: u64) {
        self.advance_with(secs, &[H1, H2]);
    }

    fn primary(&self) -> Option<AppIx> {
        [A, B].into_iter().find(|a| self.e.app(*a).is_known_primary())
    }

    fn ids(&self) -> Vec<&'static str> {
        self.log.iter().map(|e| e.id.code()).collect()
    }

    fn count(&self, id: EventId) -> usize {
        self.log.iter().filter(|e| e.id == id).count()
    }
}

fn check<'a>(plan: &'a Plan, name: &str) -> &'a Check {
    plan.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"))
}

#[test]
fn a_plan_lists_steps_vip_move_reactions_and_checks() {
    let h = H::new();
    let plan = h.e.plan_switchover(P, None).expect("plan");
    assert_eq!((plan.from, plan.to), (A, B));
    assert!(
        plan.steps[0].starts_with("order a@h1 into backup mode"),
        "{:?}",
        plan.steps
    );
    assert_eq!(plan.vip, Some(("10.0.0.1/24".to_string(), H1, H2)));
    assert_eq!(
        plan.reactions,
        vec!["alarm on-primary (00-5150): run notify on h2".to_string()]
    );
    assert!(plan.allowed(false));
    assert_eq!(
        check(&plan, "anti-flap budget").detail,
        "0 automatic switchover(s) in the last 10m00s, limit 2"
    );
}

#[test]
fn a_backup_that_is_not_ready_needs_force_and_an_unreachable_one_cannot_be_forced() {
    let mut h = H::new();
    h.input(Input::AppState {
        app: B,
        report: AppReport::ServiceUnavailable { detail: "init".into() },
    });
    assert!(h.ids().contains(&"HC-1502"), "{:?}", h.ids());
    let plan = h.e.plan_switchover(P, None).unwrap();
    assert_eq!(check(&plan, "backup ready").status, CheckStatus::Fail);
    assert!(!plan.allowed(false) && plan.allowed(true));
    let refused = h.switchover(false, None).unwrap_err();
    assert!(
        refused.0.contains("backup ready") && refused.0.contains("--force"),
        "{refused}"
    );
    assert_eq!(h.primary(), Some(A));

    h.advance_with(5, &[H1]);
    let plan = h.e.plan_switchover(P, None).unwrap();
    assert!(plan.blocked(), "{:?}", plan.checks);
    assert!(h.switchover(true, None).is_err());
}

#[test]
fn an_operator_request_id_is_carried_out_once() {
    let mut h = H::new();
    let first = h.switchover(false, Some("req-1")).unwrap();
    assert_eq!(h.primary(), Some(B));
    let again = h.switchover(false, Some("req-1")).unwrap();
    assert_eq!(first, again);
    assert_eq!(h.primary(), Some(B), "not switched back");
    assert_eq!(h.count(EventId::SwitchoverRequested), 1);
    let op = h.log.iter().find(|e| e.id == EventId::OperatorCommand).unwrap();
    assert_eq!(op.message, "alice from 192.0.2.7 asked: switchover p: test");
}

#[test]
fn a_manual_switchover_demotes_first_and_moves_the_vip_with_one_correlation() {
    let mut h = H::new();
    h.switchover(false, None).unwrap();
    let ids = h.ids();
    let pos = |id: &str| {
        ids.iter()
            .position(|x| *x == id)
            .unwrap_or_else(|| panic!("{id} missing: {ids:?}"))
    };
    assert!(pos("00-5151") < pos("00-5150") && pos("00-5150") < pos("4563") && pos("4563") < pos("HC-1201"));
    // Completion includes the VIP: removed from the old host, bound on the new one.
    assert!(pos("HC-1201") < pos("HC-1200") && pos("HC-1200") < pos("HC-1102"));
    let corr = h.log[0].correlation;
    assert!(h.log.iter().all(|e| e.correlation == corr), "{:?}", h.log);
    assert_eq!(h.e.pair(P).redundancy, Redundancy::Ok);
}

#[test]
fn maintenance_holds_back_automatic_failover_until_it_ends() {
    let mut h = H::new();
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: true,
            expires: None,
        },
        None,
    )
    .unwrap();
    h.input(Input::AppState {
        app: A,
        report: AppReport::Exited { code: 1 },
    });
    assert_eq!(h.primary(), None);
    assert_eq!(h.e.pair(P).redundancy, Redundancy::Maintenance);
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: false,
            expires: None,
        },
        None,
    )
    .unwrap();
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
}

#[test]
fn limited_maintenance_expires_by_itself_and_failover_follows() {
    let mut h = H::new();
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: true,
            expires: Some(Span::secs(60)),
        },
        None,
    )
    .unwrap();
    h.input(Input::AppState {
        app: A,
        report: AppReport::Exited { code: 1 },
    });
    h.advance(30);
    assert_eq!(h.primary(), None, "still in maintenance: {:?}", h.ids());
    h.advance(31);
    assert!(!h.e.pair(P).maintenance);
    assert!(h.ids().contains(&"HC-1601"), "{:?}", h.ids());
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
}

#[test]
fn anti_flap_holds_back_automatic_switchovers_but_not_manual_ones() {
    let mut h = H::new();
    for (dead, back) in [(A, B), (B, A)] {
        h.input(Input::AppState {
            app: dead,
            report: AppReport::Exited { code: 1 },
        });
        assert_eq!(h.primary(), Some(back));
        h.input(Input::ModeReport {
            app: dead,
            mode: Mode::None,
        });
        h.input(Input::AppState {
            app: dead,
            report: AppReport::Running,
        });
        h.advance(1);
    }
    assert_eq!(h.count(EventId::Flapping), 1, "{:?}", h.ids());
    h.input(Input::AppState {
        app: A,
        report: AppReport::Exited { code: 1 },
    });
    assert!(
        h.log
            .iter()
            .any(|e| e.id == EventId::SwitchoverRefused && e.message.contains("anti-flap"))
    );
    assert_eq!(h.primary(), None);
    // A manual switchover is never held back (the check only warns).
    h.input(Input::ModeReport {
        app: A,
        mode: Mode::None,
    });
    h.input(Input::AppState {
        app: A,
        report: AppReport::Running,
    });
    h.advance(11);
    let plan = h.e.plan_switchover(P, Some(B)).unwrap();
    assert_eq!(check(&plan, "anti-flap budget").status, CheckStatus::Warn);
    h.advance(600);
    assert_eq!(h.count(EventId::Stable), 1);
}

#[test]
fn a_lost_agent_is_declared_after_the_heartbeat_timeout_and_fails_over() {
    let mut h = H::new();
    h.advance_with(2, &[H2]);
    assert_eq!(h.count(EventId::AgentLost), 0);
    h.advance_with(1, &[H2]);
    assert_eq!(h.count(EventId::AgentLost), 1, "lost 3s after the last heartbeat");
    assert_eq!(h.primary(), Some(B));
    assert!(h.log.iter().any(|e| e.id == EventId::VipStateUnknown));
    // Back: its stale primary is demoted (split brain), the stale VIP removed.
    h.input(Input::Heartbeat { host: H1 });
    h.input(Input::ModeReport {
        app: A,
        mode: Mode::Primary,
    });
    h.input(Input::AppState {
        app: A,
        report: AppReport::Running,
    });
    h.input(Input::VipState {
        host: H1,
        pair: P,
        bound: true,
    });
    assert!(
        h.ids().contains(&"20622") && h.ids().contains(&"20623"),
        "{:?}",
        h.ids()
    );
    assert_eq!(h.primary(), Some(B));
    assert_eq!(h.e.pair(P).vip.obs, [VipObs::Unbound, VipObs::Bound]);
}

#[test]
fn the_peer_site_goes_out_of_service_after_oos_force_and_comes_back() {
    let mut h = H::new();
    h.peer_answers = false;
    let last_answer = h.e.peer().unwrap().last_answer.expect("answered while starting");
    while h.count(EventId::PeerLinkOutOfService) == 0 {
        assert!(h.now.since(last_answer) < Span::secs(30), "never went out of service");
        h.advance(1);
    }
    assert_eq!(
        h.now.since(last_answer),
        Span::secs(20),
        "out of service exactly oos-force after the last answer"
    );
    assert_eq!(h.count(EventId::PeerUnreachable), 1);
    assert_eq!(h.count(EventId::SingleSiteEntered), 1);
    assert!(h.e.peer().unwrap().single_site());
    h.peer_answers = true;
    h.advance(5);
    assert_eq!(h.count(EventId::SingleSiteLeft), 1);
    let corr = h
        .log
        .iter()
        .find(|e| e.id == EventId::PeerUnreachable)
        .unwrap()
        .correlation;
    assert!(h.log.iter().all(|e| e.correlation == corr), "{:?}", h.log);
}

#[test]
fn an_alarm_condition_runs_its_script_on_the_event_host() {
    let mut h = H::new();
    h.switchover(false, None).unwrap();
    let started = h
        .log
        .iter()
        .find(|e| e.id == EventId::ScriptStarted)
        .expect("script started");
    assert_eq!(started.source, Entity::Host(H2));
    assert_eq!(started.attr("args"), Some("00-5150 pair:p"));
    assert!(h.ids().contains(&"HC-1400") && h.ids().contains(&"HC-1301"));
}

/// A harness whose alarm condition `on-primary` is replaced by `alarm` (TOML body after the
/// `id` line).
fn with_alarm(alarm: &str) -> H {
    H::with_topology(&TOPO.replace(
        "event = \"00-5150\"\npair = \"p\"\nreactions = [{ run-script = \"notify\" }]",
        alarm,
    ))
}

#[test]
fn a_set_mode_reaction_is_a_switchover_with_its_gates() {
    let h = with_alarm("event = \"HC-1601\"\npair = \"p\"\nreactions = [{ set-mode = \"b\", mode = \"primary\" }]");
    assert_eq!(
        h.e.topology().alarms[0].reactions,
        vec![Reaction::SetMode { app: B, primary: true }]
    );
    let mut h = h;
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: true,
            expires: None,
        },
        None,
    )
    .unwrap();
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: false,
            expires: None,
        },
        None,
    )
    .unwrap();
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
    let req = h.log.iter().find(|e| e.id == EventId::SwitchoverRequested).unwrap();
    assert!(
        req.message.contains("alarm condition set b@h2 to primary on HC-1601"),
        "{}",
        req.message
    );
}

#[test]
fn a_set_mode_reaction_is_refused_in_maintenance() {
    // Regression: the reaction ordered the mode directly, bypassing maintenance.
    let mut h = with_alarm("event = \"HC-1600\"\npair = \"p\"\nreactions = [{ set-mode = \"b\", mode = \"primary\" }]");
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: true,
            expires: None,
        },
        None,
    )
    .unwrap();
    assert!(h.ids().contains(&"HC-1400"), "{:?}", h.ids());
    assert_eq!(h.primary(), Some(A), "{:?}", h.ids());
    let refused = h.log.iter().find(|e| e.id == EventId::SwitchoverRefused).unwrap();
    assert!(refused.message.contains("maintenance"), "{}", refused.message);
}

#[test]
fn a_set_mode_reaction_never_leaves_a_pair_without_a_primary() {
    // The reaction demotes `a` on every 5150; with `b` down it is refused, `a` stays.
    let mut h = with_alarm("event = \"00-5150\"\npair = \"p\"\nreactions = [{ set-mode = \"a\", mode = \"backup\" }]");
    h.switchover(false, None).unwrap();
    assert_eq!(h.primary(), Some(B));
    h.input(Input::AppState {
        app: B,
        report: AppReport::Exited { code: 1 },
    });
    h.advance(15);
    assert_eq!(h.primary(), Some(A), "{:?}", h.ids());
    assert!(h.count(EventId::SwitchoverRefused) >= 1, "{:?}", h.ids());
    assert!(h.count(EventId::SwitchoverRequested) <= 3, "{:?}", h.ids());
}

#[test]
fn the_start_up_assignment_pages_nobody() {
    // Regression: the first 5150 fired the `*-switched` alarm and ran notify-oncall.
    let topo = Arc::new(config::parse(TOPO, "t.toml").expect("valid"));
    let mut e = Engine::new(topo, SiteIx(0));
    e.handle(Time(0), Input::Start);
    for host in [H1, H2] {
        e.handle(Time(1), Input::Heartbeat { host });
    }
    for app in [A, B] {
        e.handle(Time(2), Input::ModeReport { app, mode: Mode::None });
        e.handle(
            Time(2),
            Input::AppState {
                app,
                report: AppReport::Running,
            },
        );
    }
    e.handle(
        Time(3),
        Input::ModeReport {
            app: A,
            mode: Mode::Primary,
        },
    );
    let (_, evs) = e.drain();
    let primary = evs.iter().find(|e| e.id == EventId::ModePrimary).expect("5150 logged");
    assert_eq!(primary.attr("assignment"), Some("start-up"));
    assert!(!evs.iter().any(|e| e.id == EventId::AlarmActivated), "{evs:?}");
}

#[test]
fn a_failed_vip_removal_is_retried_and_redone_at_once_when_the_nic_returns() {
    let mut h = H::new();
    h.vip_ok = false;
    h.input(Input::AppState {
        app: A,
        report: AppReport::ServiceUnavailable {
            detail: "no traffic".into(),
        },
    });
    assert_eq!(h.primary(), Some(B));
    assert!(
        h.ids().contains(&"HC-1202") && h.ids().contains(&"HC-1204"),
        "{:?}",
        h.ids()
    );
    h.advance(10);
    let retries = h.count(EventId::VipControlFailed);
    assert!(retries >= 2, "retried and logged on powers of two: {retries}");
    h.vip_ok = true;
    h.input(Input::NicState {
        host: H1,
        nic: 1,
        up: false,
    });
    h.input(Input::NicState {
        host: H1,
        nic: 1,
        up: true,
    });
    assert_eq!(h.log.last().map(|e| e.id), Some(EventId::VipEnabled), "{:?}", h.ids());
    assert!(h.ids().contains(&"HC-1205"));
    assert_eq!(h.e.pair(P).vip.obs, [VipObs::Unbound, VipObs::Bound]);
}

#[test]
fn at_start_the_preferred_instance_gets_time_to_report() {
    let topo = Arc::new(config::parse(TOPO, "t.toml").unwrap());
    let mut e = Engine::new(topo, SiteIx(0));
    e.handle(Time(0), Input::Start);
    e.handle(Time(10), Input::Heartbeat { host: H2 });
    e.handle(
        Time(20),
        Input::ModeReport {
            app: B,
            mode: Mode::None,
        },
    );
    e.handle(
        Time(20),
        Input::AppState {
            app: B,
            report: AppReport::Running,
        },
    );
    let (cmds, _) = e.drain();
    assert!(
        !cmds.iter().any(|c| matches!(
            c,
            Command::SetMode {
                mode: Mode::Primary,
                ..
            }
        )),
        "{cmds:?}"
    );
    e.handle(Time(900), Input::Heartbeat { host: H1 });
    e.handle(
        Time(950),
        Input::ModeReport {
            app: A,
            mode: Mode::None,
        },
    );
    e.handle(
        Time(950),
        Input::AppState {
            app: A,
            report: AppReport::Running,
        },
    );
    let (cmds, _) = e.drain();
    assert!(
        cmds.contains(&Command::SetMode {
            host: H1,
            app: A,
            mode: Mode::Primary,
            correlation: cmds.iter().find_map(|c| match c {
                Command::SetMode { correlation, .. } => *correlation,
                _ => None,
            })
        }),
        "{cmds:?}"
    );
}

mod arp;
mod durable;
mod recovery;
