//! The JSON forms: requests (flat, with `kind`) and the API's bodies (without it),
//! answers, errors, snapshots and event records, each read back to what was written.

use serde_json::json;

use super::topo;
use crate::drill::Drill;
use crate::engine::{self, Correlation, EventId, Redundancy, Severity, Span, Time};
use crate::wire::{
    Accepted, AgentState, Command, CommandKind, ErrorBody, EventRecord, OpError, Request, RunId, Snapshot,
};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) -> String {
    let text = serde_json::to_string(v).expect("serializes");
    let back: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(&back, v, "{text}");
    text
}

fn body(kind: CommandKind, v: serde_json::Value) -> Result<Request, OpError> {
    Request::from_body(kind, v.to_string().as_bytes())
}

#[test]
fn requests_round_trip_flat_with_their_kind() {
    let all = [
        Request {
            request_id: Some("r-1".into()),
            reason: Some("patching east-sip1".into()),
            command: Command::Switchover {
                pair: "east-sip".into(),
                to: Some("east-sip2".into()),
                force: true,
                dry_run: false,
            },
        },
        Request::new(Command::Maintenance {
            pair: "east-sip".into(),
            on: true,
            expires: Some(Span::secs(3600)),
        }),
        Request::new(Command::Maintenance {
            pair: "east-sip".into(),
            on: false,
            expires: None,
        }),
        Request::new(Command::RunScript {
            script: "collect-diagnostics".into(),
            host: "east-sip1".into(),
        }),
        Request::new(Command::ResetAntiFlap {
            pair: "east-sip".into(),
        }),
    ];
    for r in &all {
        round_trip(r);
    }
    let v = serde_json::to_value(&all[0]).unwrap();
    assert_eq!(
        v,
        json!({"kind": "switchover", "pair": "east-sip", "to": "east-sip2", "force": true,
               "dry_run": false, "request_id": "r-1", "reason": "patching east-sip1"})
    );
    let v = serde_json::to_value(&all[1]).unwrap();
    assert_eq!(
        v,
        json!({"kind": "maintenance", "pair": "east-sip", "on": true, "for": 3_600_000})
    );
    assert_eq!(serde_json::to_value(&all[3]).unwrap()["kind"], "run-script");
    assert_eq!(serde_json::to_value(&all[4]).unwrap()["kind"], "reset-anti-flap");
}

#[test]
fn reads_the_apis_bodies() {
    let r = body(
        CommandKind::Switchover,
        json!({"pair": "east-sip", "to": "east-sip-b", "force": false, "dry_run": true,
               "request_id": "r-7", "reason": "kernel update"}),
    )
    .unwrap();
    assert!(r.is_dry_run());
    assert_eq!(r.request_id.as_deref(), Some("r-7"));
    assert_eq!(r.reason.as_deref(), Some("kernel update"));
    // Only the pair is needed.
    let r = body(CommandKind::Switchover, json!({"pair": "east-sip"})).unwrap();
    assert_eq!(
        r,
        Request::new(Command::Switchover {
            pair: "east-sip".into(),
            to: None,
            force: false,
            dry_run: false
        })
    );
    // `for`: text or milliseconds.
    for f in [json!("1h"), json!(3_600_000), json!("60m")] {
        let r = body(
            CommandKind::Maintenance,
            json!({"pair": "east-sip", "on": true, "for": f, "reason": "r", "request_id": "m"}),
        )
        .unwrap();
        assert!(matches!(r.command, Command::Maintenance { expires: Some(s), .. } if s == Span::secs(3600)));
    }
    let r = body(CommandKind::Maintenance, json!({"pair": "east-sip", "on": false})).unwrap();
    assert!(matches!(
        r.command,
        Command::Maintenance {
            on: false,
            expires: None,
            ..
        }
    ));
    let r = body(
        CommandKind::RunScript,
        json!({"script": "notify-oncall", "host": "east-sip1"}),
    )
    .unwrap();
    assert_eq!(
        r.command,
        Command::RunScript {
            script: "notify-oncall".into(),
            host: "east-sip1".into()
        }
    );
    let r = body(CommandKind::ResetAntiFlap, json!({"pair": "east-sip"})).unwrap();
    assert_eq!(r.command.kind(), CommandKind::ResetAntiFlap);
}

#[test]
fn bad_bodies_are_invalid_and_say_why() {
    let bad = |kind: CommandKind, text: &str, says: &str| {
        let e = Request::from_body(kind, text.as_bytes()).expect_err(text);
        assert!(matches!(e, OpError::Invalid(_)), "{text}: {e:?}");
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains(says), "{text}: {e}");
    };
    use CommandKind::*;
    bad(Switchover, "", "not JSON");
    bad(Switchover, "{\"pair\": ", "not JSON");
    bad(Switchover, "[1, 2]", "JSON object");
    bad(Switchover, "\"east-sip\"", "JSON object");
    bad(Switchover, "{}", "missing field `pair`");
    // A misspelt dry_run never starts a real switchover.
    bad(
        Switchover,
        r#"{"pair": "east-sip", "dryrun": true}"#,
        "unknown field `dryrun`",
    );
    bad(
        Switchover,
        r#"{"pair": "east-sip", "kind": "maintenance"}"#,
        "unknown field `kind`",
    );
    bad(Switchover, r#"{"pair": "east-sip", "force": "yes"}"#, "invalid type");
    bad(Switchover, r#"{"pair": 7}"#, "invalid type");
    bad(Maintenance, r#"{"pair": "east-sip"}"#, "missing field `on`");
    bad(
        Maintenance,
        r#"{"pair": "east-sip", "on": false, "for": "1h"}"#,
        "`for` goes with",
    );
    bad(
        Maintenance,
        r#"{"pair": "east-sip", "on": true, "for": "0s"}"#,
        "longer than 0",
    );
    bad(
        Maintenance,
        r#"{"pair": "east-sip", "on": true, "for": "31d"}"#,
        "at most",
    );
    bad(
        Maintenance,
        r#"{"pair": "east-sip", "on": true, "for": "soon"}"#,
        "not a duration",
    );
    bad(Maintenance, r#"{"pair": "east-sip", "on": true, "for": -5}"#, "");
    bad(RunScript, r#"{"script": "notify-oncall"}"#, "missing field `host`");
    bad(
        RunScript,
        r#"{"script": "notify-oncall", "host": "h", "dry_run": true}"#,
        "unknown field",
    );
    let long = "x".repeat(crate::wire::MAX_REASON + 1);
    bad(
        ResetAntiFlap,
        &json!({"pair": "east-sip", "reason": long}).to_string(),
        "`reason` is longer",
    );
    bad(
        ResetAntiFlap,
        &json!({"pair": "east-sip", "request_id": "a\nb"}).to_string(),
        "control character",
    );
    bad(
        ResetAntiFlap,
        r#"{"pair": "east-sip", "request_id": ""}"#,
        "`request_id` is empty",
    );
    bad(
        Switchover,
        &json!({"pair": "p".repeat(10_000)}).to_string(),
        "`pair` is longer",
    );
}

#[test]
fn accepted_is_built_from_the_engines_answer() {
    let t = topo();
    let west = t.site_ix("west").unwrap();
    let a = Accepted::new(
        &t,
        &engine::Accepted {
            correlation: Correlation { site: west, n: 4 },
            switchover: None,
            run: Some(2),
        },
    );
    assert_eq!(
        a,
        Accepted {
            correlation: "west-4".into(),
            switchover: None,
            run: Some(RunId {
                site: "west".into(),
                n: 2
            }),
        }
    );
    assert_eq!(a.to_string(), "script run 2 started (west-4)");
    let text = round_trip(&a);
    assert_eq!(text, r#"{"correlation":"west-4","run":{"site":"west","n":2}}"#);
    let s = Accepted {
        correlation: "east-7".into(),
        switchover: Some(3),
        run: None,
    };
    round_trip(&s);
    assert_eq!(s.to_string(), "switchover 3 started (east-7)");
    let done = Accepted {
        correlation: "east-8".into(),
        switchover: None,
        run: None,
    };
    assert_eq!(done.to_string(), "done (east-8)");
}

#[test]
fn errors_travel_as_error_and_detail() {
    let e = OpError::UnknownPair("east-sipp".into());
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(
        v,
        json!({"error": "unknown-pair", "detail": "unknown pair `east-sipp`"})
    );
    let b: ErrorBody = serde_json::from_value(v).unwrap();
    assert_eq!(b, e.body());
    assert_eq!(b.to_string(), "unknown pair `east-sipp`");
    round_trip(&ErrorBody::new("unauthorized", "no token"));
}

#[test]
fn snapshots_round_trip_with_kebab_case_states() {
    let mut d = Drill::new(topo(), 3);
    d.run_until(Time(60_000));
    let snap = d.snapshot();
    let text = round_trip(&snap);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sip = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "east-sip")
        .unwrap();
    assert_eq!(sip["redundancy"], "ok");
    assert_eq!(sip["primary"]["status"], "up");
    assert_eq!(sip["primary"]["mode"], "primary");
    assert_eq!(sip["vip"]["hosts"][0]["state"], "bound");
    assert_eq!(v["hosts"][0]["agent"], "connected");
    assert_eq!(v["hosts"][0]["nics"][0]["state"], "up");
    assert_eq!(v["sites"][0]["mode"], "peered");
    assert_eq!(v["sites"][0]["link"]["state"], "in-service");

    // What nobody knows is `unknown`, and reads back as such.
    let mut unknown = snap.clone().unknown();
    let text = round_trip(&unknown);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["pairs"][0]["redundancy"], "unknown");
    assert_eq!(v["groups"][0]["redundancy"], "unknown");
    assert_eq!(v["hosts"][0]["agent"], "unknown");
    assert_eq!(v["hosts"][0]["apps"][0]["status"], "unknown");
    // A missing or null redundancy reads as unknown; a word nobody wrote does not read.
    let mut p = serde_json::to_value(&unknown.pairs[0]).unwrap();
    p.as_object_mut().unwrap().remove("redundancy");
    assert_eq!(
        serde_json::from_value::<crate::wire::PairView>(p.clone())
            .unwrap()
            .redundancy,
        None
    );
    p["redundancy"] = json!(null);
    assert_eq!(
        serde_json::from_value::<crate::wire::PairView>(p.clone())
            .unwrap()
            .redundancy,
        None
    );
    p["redundancy"] = json!("NO PRIMARY");
    assert!(serde_json::from_value::<crate::wire::PairView>(p.clone()).is_err());
    p["redundancy"] = json!("no-primary");
    assert_eq!(
        serde_json::from_value::<crate::wire::PairView>(p).unwrap().redundancy,
        Some(Redundancy::NoPrimary)
    );
    unknown.hosts[0].agent = AgentState::Lost;
    round_trip(&unknown);
    assert_eq!(
        serde_json::from_str::<Snapshot>("{}").ok(),
        None,
        "every list is required"
    );
}

#[test]
fn a_running_switchover_reports_its_step() {
    let mut d = Drill::new(topo(), 1);
    d.run_until(Time(30_000));
    let req = Request::new(Command::Switchover {
        pair: "east-sip".into(),
        to: None,
        force: false,
        dry_run: false,
    });
    d.operator(&req).expect("accepted");
    let snap = d.snapshot();
    let p = snap.pairs.iter().find(|p| p.id == "east-sip").unwrap();
    let step = p.switchover.expect("running");
    let v = serde_json::to_value(p).unwrap();
    assert_eq!(v["switchover"], serde_json::to_value(step).unwrap());
    assert!(
        v["switchover"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
    );
    round_trip(&snap);
}

#[test]
fn event_records_keep_codes_severities_and_sites() {
    let mut d = Drill::new(topo(), 1);
    d.run_until(Time(10_000));
    let r = d.record(0);
    assert_eq!(r.site, "east");
    assert_eq!(r.seq, 1);
    assert_eq!((r.id, r.severity), (EventId::ControllerStarted, Severity::Info));
    let text = round_trip(&r);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["id"], "HC-2000");
    assert_eq!(v["severity"], "info");
    assert_eq!(v["site"], "east");
    for i in 0..d.events().len() {
        round_trip(&d.record(i));
    }
    let unknown = text.replace("HC-2000", "HC-9999");
    assert!(serde_json::from_str::<EventRecord>(&unknown).is_err());
}
