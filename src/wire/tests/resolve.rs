//! Resolution of names to indices, and every error with its status.

use super::topo;
use crate::drill::Drill;
use crate::engine::{Operator, OperatorCommand, Span, Time, config};
use crate::wire::{Command, ErrorBody, OpError, Request, resolve};

fn switchover(pair: &str, to: Option<&str>) -> Request {
    Request::new(Command::Switchover {
        pair: pair.into(),
        to: to.map(String::from),
        force: false,
        dry_run: false,
    })
}

#[test]
fn resolves_pairs_groups_instances_and_hosts() {
    let t = topo();
    let sip = t.pair_ix("east-sip").unwrap();
    let b = t.app_ix("east-sip-b").unwrap();
    let r = resolve(&t, &switchover("east-sip", None)).unwrap();
    assert_eq!(r.site, t.site_ix("east").unwrap());
    assert_eq!(
        r.command,
        OperatorCommand::Switchover {
            pair: sip,
            to: None,
            force: false
        }
    );
    // `to` names the instance or its host.
    for to in ["east-sip-b", "east-sip2"] {
        let r = resolve(&t, &switchover("east-sip", Some(to))).unwrap();
        assert_eq!(
            r.command,
            OperatorCommand::Switchover {
                pair: sip,
                to: Some(b),
                force: false
            }
        );
    }
    // A group's name is its leader.
    let g = t.group_ix("east-voicemail").unwrap();
    let r = resolve(&t, &switchover("east-voicemail", None)).unwrap();
    assert!(matches!(r.command, OperatorCommand::Switchover { pair, .. } if pair == t.group(g).leader));
    // West's pairs go to west's controller.
    let r = resolve(&t, &switchover("west-sip", None)).unwrap();
    assert_eq!(r.site, t.site_ix("west").unwrap());
}

#[test]
fn carries_force_dry_run_expiry_and_who_asks() {
    let t = topo();
    let mut req = Request::new(Command::Switchover {
        pair: "east-sip".into(),
        to: None,
        force: true,
        dry_run: true,
    });
    req.request_id = Some("r-1".into());
    req.reason = Some("patching".into());
    let r = resolve(&t, &req).unwrap();
    assert!(r.dry_run);
    assert!(matches!(r.command, OperatorCommand::Switchover { force: true, .. }));
    let op = Operator {
        name: "alice".into(),
        from: Some("192.0.2.7".into()),
    };
    let e = r.engine_request(op.clone(), &req);
    assert_eq!(e.operator, op);
    assert_eq!(e.request_id.as_deref(), Some("r-1"));
    assert_eq!(e.reason.as_deref(), Some("patching"));

    let m = Request::new(Command::Maintenance {
        pair: "west-sip".into(),
        on: true,
        expires: Some(Span::secs(3600)),
    });
    let r = resolve(&t, &m).unwrap();
    assert!(!r.dry_run);
    assert!(matches!(
        r.command,
        OperatorCommand::Maintenance { on: true, expires: Some(s), .. } if s == Span::secs(3600)
    ));
    let run = Request::new(Command::RunScript {
        script: "collect-diagnostics".into(),
        host: "west-vm1".into(),
    });
    let r = resolve(&t, &run).unwrap();
    assert_eq!(r.site, t.site_ix("west").unwrap());
    assert!(matches!(r.command, OperatorCommand::RunScript { .. }));
    let reset = Request::new(Command::ResetAntiFlap {
        pair: "east-sip".into(),
    });
    assert!(matches!(
        resolve(&t, &reset).unwrap().command,
        OperatorCommand::ResetAntiFlap { .. }
    ));
}

/// Each error, its status and its JSON code.
fn assert_error(got: Result<impl std::fmt::Debug, OpError>, want: OpError, status: u16, code: &str) {
    let e = got.expect_err("an error");
    assert_eq!(e, want);
    assert_eq!(e.status(), status, "{e}");
    assert_eq!(e.code(), code);
    assert_eq!(e.body(), ErrorBody::new(code, e.to_string()));
}

#[test]
fn unknown_names_are_404() {
    let t = topo();
    assert_error(
        resolve(&t, &switchover("east-sipp", None)),
        OpError::UnknownPair("east-sipp".into()),
        404,
        "unknown-pair",
    );
    let m = Request::new(Command::Maintenance {
        pair: "east-voicemail".into(),
        on: true,
        expires: None,
    });
    // Maintenance is per pair: a group's name is not one.
    assert_error(
        resolve(&t, &m),
        OpError::UnknownPair("east-voicemail".into()),
        404,
        "unknown-pair",
    );
    let reset = Request::new(Command::ResetAntiFlap { pair: String::new() });
    assert_error(
        resolve(&t, &reset),
        OpError::UnknownPair(String::new()),
        404,
        "unknown-pair",
    );
    assert_error(
        resolve(&t, &switchover("east-sip", Some("nowhere"))),
        OpError::UnknownApp("nowhere".into()),
        404,
        "unknown-app",
    );
    let run = |script: &str, host: &str| {
        Request::new(Command::RunScript {
            script: script.into(),
            host: host.into(),
        })
    };
    assert_error(
        resolve(&t, &run("rm-rf", "east-sip1")),
        OpError::UnknownScript("rm-rf".into()),
        404,
        "unknown-script",
    );
    assert_error(
        resolve(&t, &run("notify-oncall", "east-sip9")),
        OpError::UnknownHost("east-sip9".into()),
        404,
        "unknown-host",
    );
}

#[test]
fn an_instance_of_another_pair_is_invalid() {
    let t = topo();
    assert_error(
        resolve(&t, &switchover("east-sip", Some("west-sip-b"))),
        OpError::Invalid("`west-sip-b` is neither an instance nor a host of pair east-sip".into()),
        400,
        "invalid",
    );
    // A host of another pair, too.
    let e = resolve(&t, &switchover("east-sip", Some("east-vm1"))).unwrap_err();
    assert_eq!(e.status(), 400);
}

#[test]
fn another_sites_controller_is_409() {
    let t = topo();
    let east = t.site_ix("east").unwrap();
    let west = t.site_ix("west").unwrap();
    let r = resolve(&t, &switchover("west-sip", None)).unwrap();
    assert_eq!(r.clone().at_site(&t, west), Ok(r.clone()));
    assert_error(
        r.at_site(&t, east),
        OpError::WrongSite {
            what: "pair west-sip".into(),
            site: "west".into(),
        },
        409,
        "wrong-site",
    );
    let run = Request::new(Command::RunScript {
        script: "notify-oncall".into(),
        host: "east-sip1".into(),
    });
    let e = resolve(&t, &run).unwrap().at_site(&t, west).unwrap_err();
    assert_eq!(
        e.to_string(),
        "host east-sip1 is supervised by the controller of site east"
    );
}

#[test]
fn a_huge_name_stays_one_short_line() {
    let t = topo();
    let e = resolve(&t, &switchover(&"p".repeat(100_000), None)).unwrap_err();
    assert_eq!(e.code(), "unknown-pair");
    assert_eq!(e.to_string(), format!("unknown pair `{}…`", "p".repeat(64)));
    let e = resolve(&t, &switchover("east-sip", Some(&"é".repeat(70)))).unwrap_err();
    assert_eq!(e, OpError::UnknownApp(format!("{}…", "é".repeat(64))));
}

#[test]
fn refusals_conflicts_and_outages_have_their_statuses() {
    let refused = OpError::from(crate::engine::Refused("backup not ready".into()));
    assert_eq!(refused, OpError::Refused("backup not ready".into()));
    assert_eq!((refused.status(), refused.code()), (409, "refused"));
    let conflict = OpError::Conflict("request id r-1 was used for another request".into());
    assert_eq!((conflict.status(), conflict.code()), (409, "conflict"));
    let down = OpError::Unavailable("the controller of site east is down".into());
    assert_eq!((down.status(), down.code()), (503, "unavailable"));
    // The detail is one line whatever the refusal said.
    let multi = OpError::Refused("first\nsecond".into());
    assert_eq!(multi.body().detail, "first second");
}

#[test]
fn the_drill_answers_with_the_same_errors() {
    let mut d = Drill::new(config::builtin(), 1);
    d.run_until(Time(20_000));
    assert_eq!(
        d.operator(&switchover("nope", None)),
        Err(OpError::UnknownPair("nope".into()))
    );
    // The engine refuses (and logs) a script outside its allow-list.
    let run = Request::new(Command::RunScript {
        script: "flush-registrations".into(),
        host: "east-vm1".into(),
    });
    let e = d.operator(&run).unwrap_err();
    assert!(matches!(e, OpError::Refused(_)), "{e:?}");
    assert_eq!(e.status(), 409);
    let dry = Request::new(Command::Switchover {
        pair: "east-sip".into(),
        to: None,
        force: false,
        dry_run: true,
    });
    assert_eq!(d.operator(&dry).unwrap_err().status(), 400);
    assert!(d.plan("east-sip", None).is_ok());
    assert_eq!(d.plan("east-sip", Some("west-sip1")).unwrap_err().code(), "invalid");
    // A run started: its id names the site whose controller numbers it.
    let run = Request::new(Command::RunScript {
        script: "notify-oncall".into(),
        host: "west-vm1".into(),
    });
    let a = d.operator(&run).expect("accepted");
    let id = a.run.clone().expect("a run");
    assert_eq!(id.site, "west");
    assert!(a.correlation.starts_with("west-"), "{a:?}");
    assert_eq!(
        a.to_string(),
        format!("script run {} started ({})", id.n, a.correlation)
    );
}
