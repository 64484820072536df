//! Workflow details the ordered-incident tests do not show: refusals and their reasons
//! (W6), endpoint populations moving and failing back (W7, W9).

mod common;

use common::{final_of, run};

/// W6 in detail: with the backup not ready, the primary's failure is not failed over, the
/// pair reports no-brain, an unforced manual switchover is refused with the reason, and a
/// forced one promotes the backup.
#[test]
fn backup_not_ready_refuses_until_forced() {
    let r = run("backup-not-ready");
    let after = |t: u64| r.events.iter().filter(move |e| e.t_ms >= t * 1000);
    let refused: Vec<_> = after(150)
        .filter(|e| e.id.code() == "HC-1104" && e.t_ms < 190_000)
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused[0].starts_with(
            "automatic switchover of east-sip to east-sip-b@east-sip2 refused: backup east-sip-b@east-sip2 is not ready"
        ),
        "{}",
        refused[0]
    );
    assert!(
        refused[1].contains("backup ready: east-sip-b@east-sip2 is not ready") && refused[1].contains("--force"),
        "{}",
        refused[1]
    );
    assert!(after(150).any(|e| e.id.code() == "20621" && e.subject == "pair:east-sip"));
    let forced = after(190)
        .find(|e| e.id.code() == "HC-1100")
        .expect("the forced switchover");
    assert!(forced.message.contains("requested by drill"), "{}", forced.message);
    assert_eq!(final_of(&r, "east-sip").0, Some("east-sip-b@east-sip2"));
}

/// W7/W9: endpoints of the failed site end up on the other site's server, then fail back.
#[test]
fn endpoints_move_and_fail_back() {
    for name in ["site-failure", "endpoint-failover"] {
        let r = run(name);
        let moved: Vec<_> = r
            .events
            .iter()
            .filter(|e| e.id.code() == "HC-1800" && e.message.contains("east-phones"))
            .collect();
        assert!(moved.len() >= 2, "{name}: {moved:?}");
        assert!(
            moved[0].message.contains("now registered to west-sip"),
            "{}",
            moved[0].message
        );
        assert!(
            moved.last().unwrap().message.contains("now registered to east-sip"),
            "{}",
            moved.last().unwrap().message
        );
    }
}
