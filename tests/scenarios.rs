//! One test per workflow scenario: the ordered events of the scenario's main incident
//! (every event sharing the correlation id of the first one after the fault or action),
//! with their sources, and the final state of the pairs of the site involved. Seed 1; the
//! drill is deterministic, so these sequences are exact. When a behaviour change moves
//! them, review the new sequence against docs/workflows before updating it.

mod common;

use common::{final_of, incident, run};

#[test]
fn manual_switchover() {
    let r = run("manual-switchover");
    assert!(r.passed, "manual-switchover failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("HC-1900", "operator:drill"),
        ("HC-1100", "pair:east-sip"),
        ("HC-1101", "pair:east-sip"),
        ("00-5151", "app:east-sip-a@east-sip1"),
        ("00-5150", "app:east-sip-b@east-sip2"),
        ("HC-1400", "app:east-sip-b@east-sip2"),
        ("HC-1300", "host:east-sip2"),
        ("4563", "app:east-sip-b@east-sip2"),
        ("HC-1102", "pair:east-sip"),
        ("HC-1201", "host:east-sip1"),
        ("HC-1200", "host:east-sip2"),
        ("HC-1301", "host:east-sip2"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-b@east-sip2"), Some("east-sip2"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
}

#[test]
fn primary_failure() {
    let r = run("primary-failure");
    assert!(r.passed, "primary-failure failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("5091", "app:east-sip-a@east-sip1"),
        ("5064", "app:east-sip-a@east-sip1"),
        ("HC-1100", "pair:east-sip"),
        ("HC-1101", "pair:east-sip"),
        ("00-5150", "app:east-sip-b@east-sip2"),
        ("HC-1400", "app:east-sip-b@east-sip2"),
        ("HC-1300", "host:east-sip2"),
        ("HC-1500", "pair:east-sip"),
        ("4563", "app:east-sip-b@east-sip2"),
        ("HC-1102", "pair:east-sip"),
        ("HC-1201", "host:east-sip1"),
        ("HC-1200", "host:east-sip2"),
        ("HC-1301", "host:east-sip2"),
        ("HC-1001", "app:east-sip-a@east-sip1"),
        ("00-5151", "app:east-sip-a@east-sip1"),
        ("HC-1501", "pair:east-sip"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-b@east-sip2"), Some("east-sip2"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
}

#[test]
fn primary_disconnected() {
    let r = run("primary-disconnected");
    assert!(r.passed, "primary-disconnected failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("00-04504", "host:east-sip1"),
        ("5091", "app:east-sip-a@east-sip1"),
        ("HC-1100", "pair:east-sip"),
        ("HC-1101", "pair:east-sip"),
        ("00-5150", "app:east-sip-b@east-sip2"),
        ("HC-1400", "app:east-sip-b@east-sip2"),
        ("HC-1300", "host:east-sip2"),
        ("HC-1500", "pair:east-sip"),
        ("4563", "app:east-sip-b@east-sip2"),
        ("HC-1102", "pair:east-sip"),
        ("HC-1203", "host:east-sip1"),
        ("HC-1200", "host:east-sip2"),
        ("HC-1204", "pair:east-sip"),
        ("HC-1301", "host:east-sip2"),
        ("00-04503", "host:east-sip1"),
        ("5091", "app:east-sip-a@east-sip1"),
        ("20622", "pair:east-sip"),
        ("HC-1400", "pair:east-sip"),
        ("HC-1201", "host:east-sip1"),
        ("HC-1205", "pair:east-sip"),
        ("HC-1200", "host:east-sip2"),
        ("00-5151", "app:east-sip-a@east-sip1"),
        ("20623", "pair:east-sip"),
        ("HC-1502", "app:east-sip-a@east-sip1"),
        ("HC-1401", "pair:east-sip"),
        ("HC-1002", "app:east-sip-a@east-sip1"),
        ("HC-1503", "app:east-sip-a@east-sip1"),
        ("HC-1501", "pair:east-sip"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-b@east-sip2"), Some("east-sip2"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
}

#[test]
fn nic_lost() {
    let r = run("nic-lost");
    assert!(r.passed, "nic-lost failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("5091", "app:east-sip-a@east-sip1"),
        ("HC-1100", "pair:east-sip"),
        ("HC-1101", "pair:east-sip"),
        ("00-5151", "app:east-sip-a@east-sip1"),
        ("00-5150", "app:east-sip-b@east-sip2"),
        ("HC-1400", "app:east-sip-b@east-sip2"),
        ("HC-1300", "host:east-sip2"),
        ("HC-1500", "pair:east-sip"),
        ("4563", "app:east-sip-b@east-sip2"),
        ("HC-1102", "pair:east-sip"),
        ("HC-1502", "app:east-sip-a@east-sip1"),
        ("HC-1202", "host:east-sip1"),
        ("HC-1200", "host:east-sip2"),
        ("HC-1204", "pair:east-sip"),
        ("HC-1202", "host:east-sip1"),
        ("HC-1301", "host:east-sip2"),
        ("HC-1202", "host:east-sip1"),
        ("HC-1202", "host:east-sip1"),
        ("HC-1202", "host:east-sip1"),
        ("HC-1201", "host:east-sip1"),
        ("HC-1205", "pair:east-sip"),
        ("HC-1200", "host:east-sip2"),
        ("HC-1002", "app:east-sip-a@east-sip1"),
        ("HC-1503", "app:east-sip-a@east-sip1"),
        ("HC-1501", "pair:east-sip"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-b@east-sip2"), Some("east-sip2"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
}

#[test]
fn group_member_failure() {
    let r = run("group-member-failure");
    assert!(r.passed, "group-member-failure failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("5091", "app:east-vms-a@east-vm1"),
        ("5064", "app:east-vms-a@east-vm1"),
        ("HC-1100", "pair:east-vmsip"),
        ("HC-1101", "pair:east-vmsip"),
        ("HC-1500", "pair:east-vms"),
        ("HC-1500", "group:east-voicemail"),
        ("00-5151", "app:east-vmsip-a@east-vm1"),
        ("00-5150", "app:east-vmsip-b@east-vm2"),
        ("4563", "app:east-vmsip-b@east-vm2"),
        ("HC-1102", "pair:east-vmsip"),
        ("20621", "pair:east-vms"),
        ("HC-1100", "pair:east-vms"),
        ("HC-1101", "pair:east-vms"),
        ("HC-1100", "pair:east-rm"),
        ("HC-1101", "pair:east-rm"),
        ("HC-1100", "pair:east-mcp"),
        ("HC-1101", "pair:east-mcp"),
        ("HC-1201", "host:east-vm1"),
        ("00-5150", "app:east-vms-b@east-vm2"),
        ("HC-1200", "host:east-vm2"),
        ("00-5151", "app:east-rm-a@east-vm1"),
        ("00-5151", "app:east-mcp-a@east-vm1"),
        ("00-5150", "app:east-rm-b@east-vm2"),
        ("00-5150", "app:east-mcp-b@east-vm2"),
        ("4563", "app:east-vms-b@east-vm2"),
        ("HC-1102", "pair:east-vms"),
        ("4563", "app:east-rm-b@east-vm2"),
        ("HC-1102", "pair:east-rm"),
        ("4563", "app:east-mcp-b@east-vm2"),
        ("HC-1102", "pair:east-mcp"),
        ("HC-1001", "app:east-vms-a@east-vm1"),
        ("00-5151", "app:east-vms-a@east-vm1"),
        ("20623", "pair:east-vms"),
        ("HC-1501", "pair:east-vms"),
        ("HC-1501", "group:east-voicemail"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-b@east-vm2"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-b@east-vm2"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-a@east-sip1"), Some("east-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-b@east-vm2"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-b@east-vm2"), Some("east-vm2"), "OK")
    );
}

#[test]
fn group_leader_failure() {
    let r = run("group-leader-failure");
    assert!(r.passed, "group-leader-failure failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("5091", "app:east-vmsip-a@east-vm1"),
        ("5064", "app:east-vmsip-a@east-vm1"),
        ("HC-1100", "pair:east-vmsip"),
        ("HC-1101", "pair:east-vmsip"),
        ("00-5150", "app:east-vmsip-b@east-vm2"),
        ("HC-1500", "pair:east-vmsip"),
        ("HC-1500", "group:east-voicemail"),
        ("4563", "app:east-vmsip-b@east-vm2"),
        ("HC-1102", "pair:east-vmsip"),
        ("HC-1100", "pair:east-vms"),
        ("HC-1101", "pair:east-vms"),
        ("HC-1100", "pair:east-rm"),
        ("HC-1101", "pair:east-rm"),
        ("HC-1100", "pair:east-mcp"),
        ("HC-1101", "pair:east-mcp"),
        ("HC-1201", "host:east-vm1"),
        ("HC-1200", "host:east-vm2"),
        ("00-5151", "app:east-vms-a@east-vm1"),
        ("00-5151", "app:east-rm-a@east-vm1"),
        ("00-5151", "app:east-mcp-a@east-vm1"),
        ("00-5150", "app:east-vms-b@east-vm2"),
        ("00-5150", "app:east-rm-b@east-vm2"),
        ("00-5150", "app:east-mcp-b@east-vm2"),
        ("4563", "app:east-vms-b@east-vm2"),
        ("HC-1102", "pair:east-vms"),
        ("4563", "app:east-rm-b@east-vm2"),
        ("HC-1102", "pair:east-rm"),
        ("4563", "app:east-mcp-b@east-vm2"),
        ("HC-1102", "pair:east-mcp"),
        ("HC-1001", "app:east-vmsip-a@east-vm1"),
        ("00-5151", "app:east-vmsip-a@east-vm1"),
        ("HC-1501", "pair:east-vmsip"),
        ("HC-1501", "group:east-voicemail"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-b@east-vm2"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-b@east-vm2"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-a@east-sip1"), Some("east-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-b@east-vm2"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-b@east-vm2"), Some("east-vm2"), "OK")
    );
}

#[test]
fn group_host_failure() {
    let r = run("group-host-failure");
    assert!(r.passed, "group-host-failure failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("00-04504", "host:east-vm1"),
        ("5091", "app:east-vmsip-a@east-vm1"),
        ("HC-1100", "pair:east-vmsip"),
        ("HC-1101", "pair:east-vmsip"),
        ("5091", "app:east-vms-a@east-vm1"),
        ("5091", "app:east-rm-a@east-vm1"),
        ("5091", "app:east-mcp-a@east-vm1"),
        ("HC-1500", "pair:east-vms"),
        ("HC-1500", "pair:east-rm"),
        ("HC-1500", "pair:east-mcp"),
        ("HC-1500", "group:east-voicemail"),
        ("00-5150", "app:east-vmsip-b@east-vm2"),
        ("HC-1500", "pair:east-vmsip"),
        ("4563", "app:east-vmsip-b@east-vm2"),
        ("HC-1102", "pair:east-vmsip"),
        ("HC-1203", "host:east-vm1"),
        ("HC-1100", "pair:east-vms"),
        ("HC-1101", "pair:east-vms"),
        ("HC-1100", "pair:east-rm"),
        ("HC-1101", "pair:east-rm"),
        ("HC-1100", "pair:east-mcp"),
        ("HC-1101", "pair:east-mcp"),
        ("HC-1200", "host:east-vm2"),
        ("HC-1204", "pair:east-vmsip"),
        ("00-5150", "app:east-vms-b@east-vm2"),
        ("00-5150", "app:east-rm-b@east-vm2"),
        ("00-5150", "app:east-mcp-b@east-vm2"),
        ("4563", "app:east-rm-b@east-vm2"),
        ("HC-1102", "pair:east-rm"),
        ("4563", "app:east-mcp-b@east-vm2"),
        ("HC-1102", "pair:east-mcp"),
        ("4563", "app:east-vms-b@east-vm2"),
        ("HC-1102", "pair:east-vms"),
        ("00-04503", "host:east-vm1"),
        ("HC-1201", "host:east-vm1"),
        ("HC-1205", "pair:east-vmsip"),
        ("HC-1200", "host:east-vm2"),
        ("00-5151", "app:east-vms-a@east-vm1"),
        ("HC-1501", "pair:east-vms"),
        ("00-5151", "app:east-mcp-a@east-vm1"),
        ("HC-1501", "pair:east-mcp"),
        ("00-5151", "app:east-vmsip-a@east-vm1"),
        ("HC-1501", "pair:east-vmsip"),
        ("00-5151", "app:east-rm-a@east-vm1"),
        ("HC-1501", "pair:east-rm"),
        ("HC-1501", "group:east-voicemail"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-b@east-vm2"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-b@east-vm2"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-a@east-sip1"), Some("east-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-b@east-vm2"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-b@east-vm2"), Some("east-vm2"), "OK")
    );
}

#[test]
fn group_backup_host_failure() {
    let r = run("group-backup-host-failure");
    assert!(r.passed, "group-backup-host-failure failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("5091", "app:east-rm-b@east-vm2"),
        ("5064", "app:east-rm-b@east-vm2"),
        ("HC-1500", "pair:east-rm"),
        ("HC-1500", "group:east-voicemail"),
        ("HC-1001", "app:east-rm-b@east-vm2"),
        ("00-5151", "app:east-rm-b@east-vm2"),
        ("HC-1501", "pair:east-rm"),
        ("HC-1501", "group:east-voicemail"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-a@east-sip1"), Some("east-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
}

#[test]
fn group_manual_switchover() {
    let r = run("group-manual-switchover");
    assert!(r.passed, "group-manual-switchover failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("HC-1900", "operator:drill"),
        ("HC-1100", "pair:east-vmsip"),
        ("HC-1101", "pair:east-vmsip"),
        ("00-5151", "app:east-vmsip-a@east-vm1"),
        ("00-5150", "app:east-vmsip-b@east-vm2"),
        ("4563", "app:east-vmsip-b@east-vm2"),
        ("HC-1102", "pair:east-vmsip"),
        ("HC-1100", "pair:east-vms"),
        ("HC-1101", "pair:east-vms"),
        ("HC-1100", "pair:east-rm"),
        ("HC-1101", "pair:east-rm"),
        ("HC-1100", "pair:east-mcp"),
        ("HC-1101", "pair:east-mcp"),
        ("HC-1201", "host:east-vm1"),
        ("HC-1200", "host:east-vm2"),
        ("00-5151", "app:east-vms-a@east-vm1"),
        ("00-5151", "app:east-rm-a@east-vm1"),
        ("00-5151", "app:east-mcp-a@east-vm1"),
        ("00-5150", "app:east-vms-b@east-vm2"),
        ("00-5150", "app:east-rm-b@east-vm2"),
        ("00-5150", "app:east-mcp-b@east-vm2"),
        ("4563", "app:east-vms-b@east-vm2"),
        ("HC-1102", "pair:east-vms"),
        ("4563", "app:east-mcp-b@east-vm2"),
        ("HC-1102", "pair:east-mcp"),
        ("4563", "app:east-rm-b@east-vm2"),
        ("HC-1102", "pair:east-rm"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-b@east-vm2"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-b@east-vm2"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-a@east-sip1"), Some("east-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-b@east-vm2"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-b@east-vm2"), Some("east-vm2"), "OK")
    );
}

#[test]
fn backup_not_ready() {
    let r = run("backup-not-ready");
    assert!(r.passed, "backup-not-ready failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("5091", "app:east-sip-b@east-sip2"),
        ("5064", "app:east-sip-b@east-sip2"),
        ("HC-1500", "pair:east-sip"),
        ("HC-1001", "app:east-sip-b@east-sip2"),
        ("00-5151", "app:east-sip-b@east-sip2"),
        ("HC-1501", "pair:east-sip"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-b@east-sip2"), Some("east-sip2"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
}

#[test]
fn site_failure() {
    let r = run("site-failure");
    assert!(r.passed, "site-failure failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("HC-1704", "site:west"),
        ("HC-1700", "site:west"),
        ("HC-1702", "site:west"),
        ("HC-1400", "site:west"),
        ("HC-1705", "site:west"),
        ("HC-1701", "site:west"),
        ("HC-1703", "site:west"),
        ("HC-1401", "site:west"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-a@east-sip1"), Some("east-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
    assert_eq!(final_of(&r, "west-mcp"), (Some("west-mcp-a@west-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "west-rm"), (Some("west-rm-a@west-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "west-sip"),
        (Some("west-sip-a@west-sip1"), Some("west-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "west-vms"), (Some("west-vms-a@west-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "west-vmsip"),
        (Some("west-vmsip-a@west-vm1"), Some("west-vm1"), "OK")
    );
}

#[test]
fn inter_site_partition() {
    let r = run("inter-site-partition");
    assert!(r.passed, "inter-site-partition failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("HC-1704", "site:west"),
        ("HC-1700", "site:west"),
        ("HC-1702", "site:west"),
        ("HC-1400", "site:west"),
        ("HC-1705", "site:west"),
        ("HC-1701", "site:west"),
        ("HC-1703", "site:west"),
        ("HC-1401", "site:west"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-a@east-sip1"), Some("east-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
    assert_eq!(final_of(&r, "west-mcp"), (Some("west-mcp-a@west-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "west-rm"), (Some("west-rm-a@west-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "west-sip"),
        (Some("west-sip-a@west-sip1"), Some("west-sip1"), "OK")
    );
    assert_eq!(final_of(&r, "west-vms"), (Some("west-vms-a@west-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "west-vmsip"),
        (Some("west-vmsip-a@west-vm1"), Some("west-vm1"), "OK")
    );
}

#[test]
fn endpoint_failover() {
    let r = run("endpoint-failover");
    assert!(r.passed, "endpoint-failover failed:\n{}", r.transcript());
    let expected: &[(&str, &str)] = &[
        ("5091", "app:east-sip-a@east-sip1"),
        ("5064", "app:east-sip-a@east-sip1"),
        ("HC-1100", "pair:east-sip"),
        ("HC-1101", "pair:east-sip"),
        ("5091", "app:east-sip-b@east-sip2"),
        ("5064", "app:east-sip-b@east-sip2"),
        ("HC-1103", "pair:east-sip"),
        ("20621", "pair:east-sip"),
        ("HC-1500", "pair:east-sip"),
        ("HC-1001", "app:east-sip-b@east-sip2"),
        ("HC-1100", "pair:east-sip"),
        ("HC-1101", "pair:east-sip"),
        ("00-5150", "app:east-sip-b@east-sip2"),
        ("HC-1400", "app:east-sip-b@east-sip2"),
        ("HC-1300", "host:east-sip2"),
        ("4563", "app:east-sip-b@east-sip2"),
        ("HC-1102", "pair:east-sip"),
        ("HC-1201", "host:east-sip1"),
        ("HC-1200", "host:east-sip2"),
        ("HC-1001", "app:east-sip-a@east-sip1"),
        ("00-5151", "app:east-sip-a@east-sip1"),
        ("20623", "pair:east-sip"),
        ("HC-1501", "pair:east-sip"),
        ("HC-1301", "host:east-sip2"),
    ];
    assert_eq!(incident(&r), expected);
    assert_eq!(final_of(&r, "east-mcp"), (Some("east-mcp-a@east-vm1"), None, "OK"));
    assert_eq!(final_of(&r, "east-rm"), (Some("east-rm-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-sip"),
        (Some("east-sip-b@east-sip2"), Some("east-sip2"), "OK")
    );
    assert_eq!(final_of(&r, "east-vms"), (Some("east-vms-a@east-vm1"), None, "OK"));
    assert_eq!(
        final_of(&r, "east-vmsip"),
        (Some("east-vmsip-a@east-vm1"), Some("east-vm1"), "OK")
    );
}
