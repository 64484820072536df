//! Proof that the drill's checks can fail: each test breaks one engine behaviour through a
//! test-only switch ([`crate::engine::Sabotage`], absent from non-test builds) and asserts
//! that the matching check reports a failure, while the same scenario passes unbroken.

use super::random::RandomOptions;
use super::*;
use crate::engine::Sabotage;

fn run(name: &str, sabotage: Sabotage) -> Report {
    let s = scenario::build(name, 1, &RandomOptions::default()).expect("known scenario");
    let mut d = Drill::with_scenario(s, 1);
    for e in d.engines.iter_mut().flatten() {
        e.sabotage = sabotage;
    }
    d.run_to_end()
}

fn failed(r: &Report, check_prefix: &str) -> bool {
    let c = r
        .checks
        .iter()
        .find(|c| c.name.starts_with(check_prefix))
        .unwrap_or_else(|| panic!("no check named {check_prefix}"));
    !c.passed
}

fn assert_breaks(name: &str, sabotage: Sabotage, check_prefix: &str) {
    let clean = run(name, Sabotage::default());
    assert!(clean.passed, "{name} must pass unbroken:\n{}", clean.transcript());
    let broken = run(name, sabotage);
    assert!(
        failed(&broken, check_prefix),
        "{name} with {sabotage:?}: check `{check_prefix}` should fail:\n{}",
        broken.transcript()
    );
    assert!(!broken.passed);
}

#[test]
fn split_brain_left_alone_breaks_the_placement_invariant() {
    let s = Sabotage {
        leave_split_brain: true,
        ..Sabotage::default()
    };
    assert_breaks("primary-disconnected", s, "one primary, VIP on the primary's host");
}

#[test]
fn a_forgotten_restarted_backup_breaks_the_recovery_bound() {
    let s = Sabotage {
        forget_restarted_backup: true,
        ..Sabotage::default()
    };
    assert_breaks("primary-failure", s, "redundancy OK within");
}

#[test]
fn vip_control_per_member_breaks_the_group_invariant() {
    let s = Sabotage {
        vip_per_member: true,
        ..Sabotage::default()
    };
    assert_breaks(
        "group-member-failure",
        s,
        "group switchover runs VIP control once per host",
    );
}

#[test]
fn ignoring_readiness_breaks_the_readiness_invariant() {
    let s = Sabotage {
        ignore_readiness: true,
        ..Sabotage::default()
    };
    assert_breaks(
        "backup-not-ready",
        s,
        "no automatic switchover to a backup that is not ready",
    );
}

#[test]
fn a_fresh_correlation_on_vip_events_breaks_the_correlation_invariant() {
    let s = Sabotage {
        fresh_vip_correlation: true,
        ..Sabotage::default()
    };
    assert_breaks(
        "manual-switchover",
        s,
        "every event of an incident carries its correlation id",
    );
}

#[test]
fn a_slow_vip_retry_lets_the_nic_lost_drill_ping_pong() {
    let s = Sabotage {
        slow_vip_retry: true,
        ..Sabotage::default()
    };
    // The stale VIP draws the traffic back to host 1: the old platform's second switchover.
    assert_breaks("nic-lost", s, "1 switchover(s) of east-sip");
    assert_breaks("nic-lost", s, "one primary, VIP on the primary's host");
}
