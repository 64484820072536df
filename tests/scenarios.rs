//! One test per workflow scenario, read as its specification: the whole transcript of the
//! scenario with seed 1 (every event in order with its source, message and correlation id,
//! the checks and their details, the figures and the final state) is an `insta` snapshot
//! in `tests/snapshots/`. The drill is deterministic, so the transcript is exact; after a
//! deliberate behaviour change, run `INSTA_UPDATE=always cargo test --release --test
//! scenarios` (or `cargo insta review`) and read the diff against docs/drill.md.

mod common;

use common::run;

fn spec(name: &str) {
    let r = run(name);
    assert!(r.passed, "{name} failed:\n{}", r.transcript());
    insta::assert_snapshot!(name, r.transcript());
}

#[test]
fn manual_switchover() {
    spec("manual-switchover");
}

#[test]
fn primary_failure() {
    spec("primary-failure");
}

#[test]
fn primary_disconnected() {
    spec("primary-disconnected");
}

#[test]
fn nic_lost() {
    spec("nic-lost");
}

#[test]
fn group_member_failure() {
    spec("group-member-failure");
}

#[test]
fn group_leader_failure() {
    spec("group-leader-failure");
}

#[test]
fn group_host_failure() {
    spec("group-host-failure");
}

#[test]
fn group_backup_host_failure() {
    spec("group-backup-host-failure");
}

#[test]
fn group_manual_switchover() {
    spec("group-manual-switchover");
}

#[test]
fn backup_not_ready() {
    spec("backup-not-ready");
}

#[test]
fn site_failure() {
    spec("site-failure");
}

#[test]
fn inter_site_partition() {
    spec("inter-site-partition");
}

#[test]
fn endpoint_failover() {
    spec("endpoint-failover");
}
