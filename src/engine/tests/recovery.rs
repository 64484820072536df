//! Regression tests of the engine's recovery: level-triggered retries after a refusal,
//! readiness, unhealthy primaries, fencing, VIP truth, operator actions and anti-flap,
//! start-up. Each is named after what broke; the harness is the parent module's.

use super::*;

#[test]
fn a_failover_refused_by_an_anti_flap_hold_happens_when_the_hold_ends() {
    // Regression (random seed 16): the hold ended, the pair stayed without a primary.
    let mut h = H::new();
    for _ in 0..2 {
        let p = h.primary().unwrap();
        h.input(Input::AppState {
            app: p,
            report: AppReport::Exited { code: 1 },
        });
        h.input(Input::ModeReport {
            app: p,
            mode: Mode::None,
        });
        h.input(Input::AppState {
            app: p,
            report: AppReport::Running,
        });
        h.advance(1);
    }
    assert_eq!(h.count(EventId::Flapping), 1, "{:?}", h.ids());
    let primary = h.primary().unwrap();
    // The primary's host is lost while the hold is on: refused, and said so.
    let lost_host = if primary == A { H1 } else { H2 };
    let other_host = if primary == A { H2 } else { H1 };
    h.advance_with(4, &[other_host]);
    assert_eq!(h.primary(), None);
    assert!(
        h.log
            .iter()
            .any(|e| e.id == EventId::SwitchoverRefused && e.message.contains("anti-flap"))
    );
    assert_eq!(h.e.pair(P).redundancy, Redundancy::NoPrimary);
    // When the hold ends (10 minutes after the first switchover), the other instance is
    // promoted without any new input about the pair.
    h.advance_with(600, &[other_host]);
    assert_ne!(h.primary(), None, "{:?}", h.ids());
    assert_eq!(h.e.pair(P).redundancy, Redundancy::NoBackup);
    let _ = lost_host;
}

#[test]
fn a_failover_refused_because_the_backup_was_not_ready_happens_once_it_is() {
    let mut h = H::new();
    h.input(Input::AppState {
        app: B,
        report: AppReport::ServiceUnavailable { detail: "init".into() },
    });
    h.input(Input::AppState {
        app: A,
        report: AppReport::Exited { code: 1 },
    });
    assert_eq!(h.primary(), None);
    assert!(
        h.log
            .iter()
            .any(|e| e.id == EventId::SwitchoverRefused && e.message.contains("not ready"))
    );
    h.input(Input::AppState {
        app: B,
        report: AppReport::Running,
    });
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
}

#[test]
fn a_failover_refused_because_the_backup_agent_was_unreachable_happens_when_it_is_back() {
    let mut h = H::new();
    h.advance_with(4, &[H1]);
    assert!(!h.e.host_connected(H2));
    h.input(Input::AppState {
        app: A,
        report: AppReport::Exited { code: 1 },
    });
    assert_eq!(h.primary(), None);
    h.input(Input::Heartbeat { host: H2 });
    h.input(Input::ModeReport {
        app: B,
        mode: Mode::Backup,
    });
    h.input(Input::AppState {
        app: B,
        report: AppReport::Running,
    });
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
}

#[test]
fn redundancy_is_restored_only_once_the_new_backup_passed_its_start_up_checks() {
    // Regression (primary-failure): 00-5151 and HC-1501 in the same millisecond.
    let mut h = H::new();
    h.input(Input::AppState {
        app: A,
        report: AppReport::Exited { code: 1 },
    });
    assert_eq!(h.primary(), Some(B));
    // The restarted instance is ordered to backup; its agent confirms the mode, but the
    // start-up checks' verdict has not come yet.
    h.e.handle(
        h.now,
        Input::ModeReport {
            app: A,
            mode: Mode::None,
        },
    );
    h.e.handle(
        h.now,
        Input::AppState {
            app: A,
            report: AppReport::Running,
        },
    );
    let (cmds, evs) = h.e.drain();
    h.log.extend(evs);
    assert!(cmds.iter().any(|c| matches!(
        c,
        Command::SetMode {
            app: A,
            mode: Mode::Backup,
            ..
        }
    )));
    h.e.handle(
        h.now,
        Input::ModeReport {
            app: A,
            mode: Mode::Backup,
        },
    );
    let (_, evs) = h.e.drain();
    h.log.extend(evs);
    assert_eq!(h.e.app(A).status, AppStatus::Starting);
    assert_ne!(h.e.pair(P).redundancy, Redundancy::Ok);
    assert_eq!(h.count(EventId::RedundancyRestored), 0, "{:?}", h.ids());
    h.input(Input::AppState {
        app: A,
        report: AppReport::Running,
    });
    assert_eq!(h.e.pair(P).redundancy, Redundancy::Ok);
    assert_eq!(h.count(EventId::RedundancyRestored), 1);
}

#[test]
fn an_unavailable_primary_that_cannot_fail_over_is_not_ok() {
    // Regression: a primary reporting SERVICE_UNAVAILABLE with no usable backup showed OK.
    let mut h = H::new();
    h.input(Input::AppState {
        app: B,
        report: AppReport::Exited { code: 1 },
    });
    h.input(Input::AppState {
        app: A,
        report: AppReport::ServiceUnavailable {
            detail: "no traffic".into(),
        },
    });
    assert_eq!(h.primary(), Some(A));
    assert_eq!(h.e.pair(P).redundancy, Redundancy::NoPrimary);
    // The backup comes back: the unhealthy primary is replaced.
    h.input(Input::ModeReport {
        app: B,
        mode: Mode::None,
    });
    h.input(Input::AppState {
        app: B,
        report: AppReport::Running,
    });
    h.advance(1);
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
}

#[test]
fn a_primary_whose_mode_hook_hangs_is_stopped_before_the_other_is_promoted_then_restarted() {
    // Regression: a demotion that timed out left the switchover failed forever.
    let mut h = H::new();
    h.hung_hook = Some(A);
    h.switchover(false, None).unwrap();
    assert_eq!(h.primary(), Some(A), "demotion pending");
    h.advance(10);
    assert!(h.ids().contains(&"HC-1105"), "{:?}", h.ids());
    assert!(h.ids().contains(&"HC-1003"), "{:?}", h.ids());
    assert!(!h.ids().contains(&"5064"), "a fenced exit is no failure: {:?}", h.ids());
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
    let ids = h.ids();
    let pos = |id: &str| ids.iter().position(|x| *x == id).unwrap();
    assert!(pos("HC-1003") < pos("00-5150"), "stopped before the promotion: {ids:?}");
    // Then the stopped instance is started again and becomes the backup.
    h.advance(2);
    assert_eq!(h.e.app(A).mode, Mode::Backup, "{:?}", h.ids());
    assert_eq!(h.e.pair(P).redundancy, Redundancy::Ok);
}

#[test]
fn a_lost_agent_vip_is_unknown_not_a_duplicate() {
    // Regression (group-host-failure): HC-1204 while the old host was powered off.
    let mut h = H::new();
    h.advance_with(4, &[H2]);
    assert_eq!(h.primary(), Some(B));
    assert!(h.ids().contains(&"HC-1203"), "{:?}", h.ids());
    assert!(!h.ids().contains(&"HC-1204"), "{:?}", h.ids());
    assert_eq!(h.e.pair(P).vip.obs[0], VipObs::Unknown);
}

#[test]
fn an_operator_switchover_in_maintenance_moves_the_vip() {
    // Regression: the VIP stayed on the old host and the new primary went unavailable.
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
    h.switchover(false, None).unwrap();
    assert_eq!(h.primary(), Some(B));
    assert_eq!(h.e.pair(P).vip.obs, [VipObs::Unbound, VipObs::Bound], "{:?}", h.ids());
    assert!(h.ids().contains(&"HC-1102"));
}

#[test]
fn operator_switchovers_never_hold_back_automatic_recovery() {
    // Regression: six manual switchovers, then host-down: NO PRIMARY for minutes, silently.
    let mut h = H::new();
    for _ in 0..6 {
        h.switchover(false, None).unwrap();
        h.advance(1);
    }
    assert_eq!(h.count(EventId::Flapping), 0);
    let primary = h.primary().unwrap();
    let other_host = if primary == A { H2 } else { H1 };
    h.advance_with(4, &[other_host]);
    assert_ne!(h.primary(), Some(primary));
    assert!(h.primary().is_some(), "{:?}", h.ids());
}

#[test]
fn a_controller_that_stops_says_so() {
    let mut h = H::new();
    h.e.stop(h.now);
    h.pump();
    let ids = h.ids();
    assert_eq!(ids[ids.len() - 2..], ["HC-2003", "HC-2001"]);
}

#[test]
fn a_primary_whose_vip_nic_is_down_is_not_ok_and_fails_over() {
    // Regression (console screenshot): east-vm1's VIP NIC down, its pair shown OK, its VIP
    // "on east-vm1" although no client could reach it. Without a traffic watch, the NIC
    // state is what tells.
    let mut h = H::new();
    h.e.handle(
        h.now,
        Input::NicState {
            host: H1,
            nic: 1,
            up: false,
        },
    );
    // Not OK at once: a switchover starts in the same step.
    assert_eq!(h.e.pair(P).redundancy, Redundancy::Degraded);
    h.pump();
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
    let req = h.log.iter().find(|e| e.id == EventId::SwitchoverRequested).unwrap();
    assert!(
        req.message.contains("the VIP NIC sip of a@h1 is down"),
        "{}",
        req.message
    );
}

#[test]
fn a_promotion_lost_once_is_retried_at_once() {
    // The promotion of b hangs (its mode hook) and the hook recovers meanwhile: the failed
    // attempt is retried as soon as it times out, not a backoff later.
    let mut h = H::new();
    h.hung_hook = Some(B);
    h.input(Input::AppState {
        app: A,
        report: AppReport::Exited { code: 1 },
    });
    h.advance(5);
    h.hung_hook = None;
    assert_eq!(h.primary(), None);
    h.advance(6);
    assert!(h.ids().contains(&"HC-1103"), "{:?}", h.ids());
    assert_eq!(h.primary(), Some(B), "{:?}", h.ids());
}
