//! Duplicate addresses known from ARP: an agent that holds a VIP says when another machine
//! answers for it; the harness is the parent module's.

use super::*;

/// The message of the last event with `id`.
fn last_message(h: &H, id: EventId) -> String {
    h.log
        .iter()
        .rev()
        .find(|e| e.id == id)
        .map(|e| e.message.clone())
        .unwrap_or_default()
}

#[test]
fn a_duplicate_on_a_host_nobody_can_ask_is_known_from_arp_and_resolved_when_it_stops() {
    let mut h = H::new();
    h.advance_with(3, &[H2]);
    assert_eq!(h.primary(), Some(B));
    assert_eq!(h.count(EventId::VipDuplicate), 0, "unknown is not a duplicate");
    // The new holder sees h1 still answer ARP for the address.
    h.log.clear();
    h.input(Input::VipElsewhere {
        host: H2,
        pair: P,
        by: Some("02:00:00:00:00:01".into()),
    });
    assert_eq!(h.count(EventId::VipDuplicate), 1);
    let msg = last_message(&h, EventId::VipDuplicate);
    assert!(
        msg.contains("answered by 02:00:00:00:00:01") && msg.contains("probably h1"),
        "{msg}"
    );
    assert!(
        h.log
            .iter()
            .any(|e| e.id == EventId::VipEnabled && e.message.contains("re-announced")),
        "the holder announces the address again at once: {:?}",
        h.ids()
    );
    assert_ne!(h.e.pair(P).redundancy, Redundancy::Ok, "a duplicate is never OK");
    // Saying it again changes nothing; nobody answering any more resolves it, although
    // h1's agent still cannot say.
    h.input(Input::VipElsewhere {
        host: H2,
        pair: P,
        by: Some("02:00:00:00:00:01".into()),
    });
    assert_eq!(h.count(EventId::VipDuplicate), 1);
    h.input(Input::VipElsewhere {
        host: H2,
        pair: P,
        by: None,
    });
    assert_eq!(h.count(EventId::VipDuplicateResolved), 1, "{:?}", h.ids());
    let corr = |id| h.log.iter().find(|e| e.id == id).and_then(|e| e.correlation);
    assert!(corr(EventId::VipDuplicateResolved).is_some());
    assert_eq!(corr(EventId::VipDuplicate), corr(EventId::VipDuplicateResolved));
}

#[test]
fn a_machine_outside_the_pair_answering_for_the_vip_is_a_duplicate_until_it_stops() {
    let mut h = H::new();
    assert_eq!(h.e.pair(P).redundancy, Redundancy::Ok);
    h.input(Input::VipElsewhere {
        host: H1,
        pair: P,
        by: Some("52:54:00:aa:bb:cc".into()),
    });
    assert_eq!(h.count(EventId::VipDuplicate), 1);
    let msg = last_message(&h, EventId::VipDuplicate);
    assert!(msg.contains("a machine outside the pair"), "{msg}");
    h.advance(30);
    assert_ne!(h.e.pair(P).redundancy, Redundancy::Ok, "stays DEGRADED while it lasts");
    assert_eq!(h.primary(), Some(A), "no switchover for an address conflict");
    // The backup's host seeing another holder is normal (it does not hold the address).
    h.input(Input::VipElsewhere {
        host: H2,
        pair: P,
        by: Some("52:54:00:aa:bb:cc".into()),
    });
    assert_eq!(h.count(EventId::VipDuplicate), 1);
    h.input(Input::VipElsewhere {
        host: H1,
        pair: P,
        by: None,
    });
    assert_eq!(h.count(EventId::VipDuplicateResolved), 1);
    h.advance(1);
    assert_eq!(h.e.pair(P).redundancy, Redundancy::Ok);
}

#[test]
fn an_arp_answer_heard_just_before_the_other_host_let_go_is_not_a_new_duplicate() {
    let mut h = H::new();
    let mac = || Some("02:00:00:00:00:02".to_string());
    // h2 binds the address by mistake; h1 hears it answer; the controller removes it.
    h.input(Input::VipState {
        host: H2,
        pair: P,
        bound: true,
    });
    h.input(Input::VipElsewhere {
        host: H1,
        pair: P,
        by: mac(),
    });
    assert_eq!(h.count(EventId::VipDuplicate), 1);
    assert_eq!(h.e.pair(P).vip.obs, [VipObs::Bound, VipObs::Unbound], "removed from h2");
    assert_eq!(h.count(EventId::VipDuplicateResolved), 1, "{:?}", h.ids());
    // h1's next probe, within a second, hears nobody: no alarm about a stranger.
    h.advance(1);
    h.input(Input::VipElsewhere {
        host: H1,
        pair: P,
        by: None,
    });
    h.advance(5);
    assert_eq!(h.count(EventId::VipDuplicate), 1, "{:?}", h.ids());
    // Had it still heard an answer after the settle time, that would be another machine.
    h.input(Input::VipElsewhere {
        host: H1,
        pair: P,
        by: mac(),
    });
    assert_eq!(h.count(EventId::VipDuplicate), 2);
    assert!(last_message(&h, EventId::VipDuplicate).contains("outside the pair"));
}

#[test]
fn a_stale_arp_answer_that_stays_counts_once_the_settle_time_is_over() {
    let mut h = H::new();
    h.input(Input::VipState {
        host: H2,
        pair: P,
        bound: true,
    });
    assert_eq!(h.e.pair(P).vip.obs[1], VipObs::Unbound, "removed from h2");
    // Heard right after h2 let go: not yet believed; still heard after the settle time (the
    // agent says it only once): a machine outside the pair.
    h.input(Input::VipElsewhere {
        host: H1,
        pair: P,
        by: Some("52:54:00:00:00:09".into()),
    });
    let before = h.count(EventId::VipDuplicate);
    h.advance(1);
    assert_eq!(h.count(EventId::VipDuplicate), before, "not within the settle time");
    h.advance(2);
    assert_eq!(h.count(EventId::VipDuplicate), before + 1, "{:?}", h.ids());
    assert!(last_message(&h, EventId::VipDuplicate).contains("outside the pair"));
}
