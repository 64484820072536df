//! The durable state: what a restarted controller takes back (maintenance and its expiry,
//! anti-flap history and hold, answered request ids, correlation numbers), and when the
//! engine hands out a new state to commit.

use super::*;

/// A controller restarted on the same topology with `state`, started, nobody heard yet.
fn fresh(h: &H, state: &Durable) -> H {
    let mut e = Engine::new(h.e.topology().clone(), SiteIx(0));
    e.restore(state);
    let mut r = H {
        e,
        now: h.now,
        log: Vec::new(),
        vip_ok: true,
        peer_answers: true,
        hung_hook: None,
    };
    r.input(Input::Start);
    r
}

/// A controller restarted on the same topology with `state`, its agents reporting again.
fn restarted(h: &H, state: &Durable) -> H {
    let mut r = fresh(h, state);
    for host in [H1, H2] {
        r.input(Input::Heartbeat { host });
        r.input(Input::NicState { host, nic: 1, up: true });
    }
    for app in [A, B] {
        let mode = h.e.app(app).mode;
        r.input(Input::ModeReport { app, mode });
        r.input(Input::AppState {
            app,
            report: AppReport::Running,
        });
    }
    r.advance(1);
    r
}

#[test]
fn a_restarted_controller_keeps_maintenance_and_its_expiry() {
    let mut h = H::new();
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: true,
            expires: Some(Span::secs(120)),
        },
        None,
    )
    .unwrap();
    h.advance(10);
    let state = h.e.durable();
    let mut r = restarted(&h, &state);
    assert!(r.e.pair(P).maintenance);
    assert_eq!(r.e.pair(P).redundancy, Redundancy::Maintenance);
    r.input(Input::AppState {
        app: A,
        report: AppReport::Exited { code: 1 },
    });
    r.advance(60);
    assert_eq!(r.primary(), None, "maintenance holds: {:?}", r.ids());
    r.advance(60);
    assert!(!r.e.pair(P).maintenance, "expired at the time set before the restart");
    assert_eq!(r.primary(), Some(B), "{:?}", r.ids());
}

#[test]
fn a_restarted_controller_numbers_incidents_after_the_last_one() {
    let mut h = H::new();
    h.switchover(false, None).unwrap();
    let before: Vec<u32> = h.log.iter().filter_map(|e| e.correlation).map(|c| c.n).collect();
    let max_before = *before.iter().max().unwrap();
    let r = restarted(&h, &h.e.durable());
    let after: Vec<u32> = r.log.iter().filter_map(|e| e.correlation).map(|c| c.n).collect();
    assert!(!after.is_empty());
    assert!(after.iter().all(|n| *n > max_before), "{before:?} then {after:?}");
}

#[test]
fn a_restarted_controller_answers_a_retried_request_as_before() {
    let mut h = H::new();
    let first = h.switchover(false, Some("req-9")).unwrap();
    let mut r = restarted(&h, &h.e.durable());
    let again = r.switchover(false, Some("req-9")).unwrap();
    assert_eq!(first, again);
    assert_eq!(r.primary(), Some(B), "not switched back");
    assert_eq!(r.count(EventId::SwitchoverRequested), 0);
}

#[test]
fn a_restarted_controller_keeps_the_anti_flap_hold() {
    let mut h = H::new();
    for dead in [A, B] {
        h.input(Input::AppState {
            app: dead,
            report: AppReport::Exited { code: 1 },
        });
        h.advance(3);
        h.input(Input::AppState {
            app: dead,
            report: AppReport::Running,
        });
        h.advance(3);
    }
    assert!(h.e.pair(P).flapping, "{:?}", h.ids());
    let state = h.e.durable();
    let mut r = restarted(&h, &state);
    assert!(r.e.pair(P).flapping);
    let p = r.primary().unwrap();
    r.input(Input::AppState {
        app: p,
        report: AppReport::Exited { code: 1 },
    });
    r.advance(2);
    assert_eq!(r.primary(), None, "held back after the restart too: {:?}", r.ids());
}

#[test]
fn the_durable_state_is_handed_out_only_when_it_changed() {
    let mut h = H::new();
    assert!(h.e.take_durable().is_some(), "the first call always gives it");
    assert!(h.e.take_durable().is_none());
    h.input(Input::Heartbeat { host: H1 });
    assert!(h.e.take_durable().is_none(), "a heartbeat changes nothing durable");
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: true,
            expires: None,
        },
        Some("m-1"),
    )
    .unwrap();
    let d = h.e.take_durable().expect("maintenance and the request id are durable");
    assert!(d.pairs.iter().any(|p| p.maintenance));
    assert!(d.requests.iter().any(|a| a.request_id == "m-1"));
}

#[test]
fn request_ids_are_remembered_up_to_a_bound() {
    let mut h = H::new();
    for i in 0..MAX_REMEMBERED_REQUESTS + 10 {
        h.op(OperatorCommand::ResetAntiFlap { pair: P }, Some(&format!("r-{i}")))
            .unwrap();
    }
    let d = h.e.durable();
    assert_eq!(d.requests.len(), MAX_REMEMBERED_REQUESTS);
    assert_eq!(d.requests[0].request_id, "r-10", "oldest forgotten first");
}

#[test]
fn a_durable_state_survives_json() {
    let mut h = H::new();
    h.op(
        OperatorCommand::Maintenance {
            pair: P,
            on: true,
            expires: Some(Span::secs(5)),
        },
        Some("x"),
    )
    .unwrap();
    let d = h.e.durable();
    let text = serde_json::to_string(&d).unwrap();
    assert_eq!(serde_json::from_str::<Durable>(&text).unwrap(), d);
}

#[test]
fn a_restarted_controller_does_not_fail_over_from_a_backup_it_took_for_the_primary() {
    // Regression (random seed 270): after a restart the pair's chosen side is a default;
    // the backup's SERVICE_UNAVAILABLE arrived before the primary's mode and started a
    // "switchover" to the instance already primary, which counted against anti-flap.
    let mut h = H::new();
    h.switchover(false, None).unwrap();
    assert_eq!(h.primary(), Some(B));
    let mut r = fresh(&h, &h.e.durable());
    for host in [H1, H2] {
        r.input(Input::Heartbeat { host });
    }
    r.input(Input::AppState {
        app: B,
        report: AppReport::Running,
    });
    r.input(Input::ModeReport {
        app: A,
        mode: Mode::Backup,
    });
    r.input(Input::AppState {
        app: A,
        report: AppReport::ServiceUnavailable {
            detail: "start-up check".into(),
        },
    });
    r.input(Input::ModeReport {
        app: B,
        mode: Mode::Primary,
    });
    r.advance(12);
    assert_eq!(r.primary(), Some(B));
    assert_eq!(r.count(EventId::SwitchoverRequested), 0, "{:?}", r.ids());
    assert!(r.e.pair(P).history.is_empty());
}
