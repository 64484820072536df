//! Proof that the drill's checks can fail: each test breaks one engine behaviour through a
//! test-only switch ([`crate::engine::Sabotage`], absent from non-test builds) and asserts
//! that the matching check reports a failure, while the same scenario passes unbroken.

use super::random::RandomOptions;
use super::*;
use crate::engine::{Sabotage, Span, Time};

fn run(name: &str, sabotage: Sabotage) -> Report {
    let s = scenario::build(name, 1, &RandomOptions::default()).expect("known scenario");
    let mut d = Drill::with_scenario(s, 1);
    d.sabotage = sabotage;
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
fn an_engine_deaf_to_arp_leaves_a_duplicate_on_a_cut_off_host_unalarmed() {
    // The cut-off host keeps the address while its pair's backup takes it over: only the
    // new holder's ARP probe can tell, and the check judges from the world's bindings.
    let s = Sabotage {
        deaf_to_arp: true,
        ..Sabotage::default()
    };
    assert_breaks(
        "primary-disconnected",
        s,
        "oracle: a duplicate address on the network is alarmed",
    );
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

// ------------------------------------------------------------ the oracle bites
//
// Each broken engine below is caught by the oracle, which reads only the simulated world:
// on at least one of the first 50 random seeds (the check fails broken and holds on the
// same seed unbroken) and on a named scenario.

const ORACLE_SEEDS: std::ops::Range<u64> = 0..50;

fn run_scenario(s: Scenario, sabotage: Sabotage) -> Report {
    let seed = 1;
    let mut d = Drill::with_scenario(s, seed);
    d.sabotage = sabotage;
    for e in d.engines.iter_mut().flatten() {
        e.sabotage = sabotage;
    }
    d.run_to_end()
}

fn random_run(seed: u64, topo: Option<&str>, extra: &[(Time, Action)], sabotage: Sabotage) -> Report {
    let mut s = random::scenario(seed, &RandomOptions::default()).expect("random");
    if let Some(text) = topo {
        s.topology = crate::engine::config::parse(text, "test.toml").expect("valid topology");
        s = random::reschedule(s, seed);
    }
    s.schedule.extend(extra.iter().cloned());
    s.schedule.sort_by_key(|(t, _)| *t);
    let mut d = Drill::with_scenario(s, seed);
    d.sabotage = sabotage;
    for e in d.engines.iter_mut().flatten() {
        e.sabotage = sabotage;
    }
    d.run_to_end()
}

/// The first seed where `check` fails broken and holds unbroken.
fn caught_in_random(sabotage: Sabotage, check: &str, topo: Option<&str>, extra: &[(Time, Action)]) -> u64 {
    let seed = ORACLE_SEEDS
        .clone()
        .find(|seed| {
            failed(&random_run(*seed, topo, extra, sabotage), check)
                && !failed(&random_run(*seed, topo, extra, Sabotage::default()), check)
        })
        .unwrap_or_else(|| panic!("{sabotage:?}: `{check}` never failed in seeds {ORACLE_SEEDS:?}"));
    eprintln!("`{check}` caught on random seed {seed}");
    seed
}

fn caught_in_scenario(name: &str, sabotage: Sabotage, check: &str) {
    let s = scenario::build(name, 1, &RandomOptions::default()).expect("known scenario");
    let clean = run_scenario(s.clone(), Sabotage::default());
    assert!(!failed(&clean, check), "{name} unbroken:\n{}", clean.transcript());
    let broken = run_scenario(s, sabotage);
    assert!(
        failed(&broken, check),
        "{name} with {sabotage:?}: `{check}` should fail:\n{}",
        broken.transcript()
    );
}

#[test]
fn the_oracle_catches_a_vip_enabled_before_it_is_removed() {
    let s = Sabotage {
        vip_enable_first: true,
        ..Sabotage::default()
    };
    let check = "oracle: VIP bound on one host at a time";
    caught_in_scenario("manual-switchover", s, check);
    caught_in_random(s, check, None, &[]);
}

#[test]
fn the_oracle_catches_a_promotion_before_the_demotion() {
    let s = Sabotage {
        promote_before_demotion: true,
        ..Sabotage::default()
    };
    let check = "oracle: at most one primary per pair";
    caught_in_scenario("manual-switchover", s, check);
    caught_in_random(s, check, None, &[]);
}

#[test]
fn the_oracle_catches_a_forgotten_restarted_backup_reported_ok() {
    let s = Sabotage {
        forget_restarted_backup: true,
        report_backup_ok: true,
        ..Sabotage::default()
    };
    let check = "oracle: every pair redundant in the world";
    caught_in_scenario("primary-failure", s, check);
    caught_in_random(s, check, None, &[]);
}

#[test]
fn the_oracle_catches_members_deciding_alone() {
    let s = Sabotage {
        members_decide_alone: true,
        ..Sabotage::default()
    };
    let check = "oracle: group members on the leader's side";
    caught_in_scenario("group-member-failure", s, check);
    caught_in_random(s, check, None, &[]);
}

/// A backup refused while not ready becomes ready again while the primary is still down:
/// the controller must then promote it.
fn retry_scenario() -> Scenario {
    let topo = crate::engine::config::builtin();
    let app = |n: &str| topo.app_ix(n).expect("known app");
    let (a, b) = (app("east-sip-a"), app("east-sip-b"));
    Scenario {
        name: "retry-after-refusal".into(),
        workflow: "W6",
        description: "east-sip-b not ready, east-sip-a stopped; then b is ready again".into(),
        topology: topo,
        schedule: vec![
            (Time(60_000), Action::Inject(Fault::NotReady(b))),
            (Time(80_000), Action::Inject(Fault::StopApp(a))),
            (Time(120_000), Action::Heal(Fault::NotReady(b))),
            (Time(240_000), Action::HealAll),
        ],
        duration: Span::secs(420),
        chains: Vec::new(),
        finals: Vec::new(),
        loss: 0.0,
        script_failure: 0.0,
    }
}

#[test]
fn the_oracle_catches_no_retry_after_a_refusal() {
    let s = Sabotage {
        no_retry_after_refusal: true,
        ..Sabotage::default()
    };
    let check = "oracle: no avoidable time without a serving primary";
    let clean = run_scenario(retry_scenario(), Sabotage::default());
    assert!(clean.passed, "{}", clean.transcript());
    let broken = run_scenario(retry_scenario(), s);
    assert!(failed(&broken, check), "{}", broken.transcript());
    caught_in_random(s, check, None, &[]);
}

/// The built-in deployment with a set-mode reaction: when east-sip-a terminates, set
/// east-sip-b primary.
fn set_mode_topology() -> String {
    format!(
        "{}\n[[alarm]]\nid = \"promote-b\"\nevent = \"5064\"\npair = \"east-sip\"\nreactions = [{{ set-mode = \"east-sip-b\", mode = \"primary\" }}]\n",
        crate::engine::config::BUILTIN
    )
}

#[test]
fn the_oracle_catches_set_mode_reactions_in_maintenance() {
    let s = Sabotage {
        set_mode_ignores_maintenance: true,
        ..Sabotage::default()
    };
    let check = "oracle: no automatic mode change in maintenance";
    let text = set_mode_topology();
    let maintenance = (
        Time(30_000),
        Action::Operator(wire::Request::new(wire::Command::Maintenance {
            pair: "east-sip".into(),
            on: true,
            expires: None,
        })),
    );
    let topo = crate::engine::config::parse(&text, "test.toml").expect("valid topology");
    let a = topo.app_ix("east-sip-a").expect("known app");
    let named = Scenario {
        name: "set-mode-in-maintenance".into(),
        workflow: "W1",
        description: "east-sip in maintenance; east-sip-a killed; a set-mode reaction".into(),
        topology: topo,
        schedule: vec![maintenance.clone(), (Time(60_000), Action::Inject(Fault::KillApp(a)))],
        duration: Span::secs(180),
        chains: Vec::new(),
        finals: Vec::new(),
        loss: 0.0,
        script_failure: 0.0,
    };
    // Set-mode reactions ignore maintenance in the current engine (a known defect): only
    // the broken run is asserted until the engine respects it.
    let broken = run_scenario(named, s);
    assert!(failed(&broken, check), "{}", broken.transcript());
    let seed = ORACLE_SEEDS.clone().find(|seed| {
        failed(
            &random_run(*seed, Some(&text), std::slice::from_ref(&maintenance), s),
            check,
        )
    });
    eprintln!("`{check}` caught on random seed {seed:?} (set-mode reaction, maintenance on east-sip)");
    assert!(seed.is_some());
}

#[test]
fn a_restarted_controller_that_reuses_correlation_ids_fails_the_reuse_check() {
    let s = Sabotage {
        forget_correlation_counter: true,
        ..Sabotage::default()
    };
    assert_breaks("site-failure", s, "no correlation id reused after a controller restart");
}
