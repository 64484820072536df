//! The `random` scenario over many seeds: every invariant must hold for every seed. Seeds
//! that once failed are pinned as regression tests, named after what broke.

mod common;

use std::thread;

use common::run_seeded;
use hactl::drill::random::RandomOptions;
use hactl::engine::Span;

fn failures(seeds: std::ops::Range<u64>, opts: &RandomOptions) -> Vec<String> {
    let mut out = Vec::new();
    for seed in seeds {
        let r = run_seeded("random", seed, opts);
        if !r.passed {
            let why: Vec<String> = r
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| format!("{}: {}", c.name, c.detail))
                .collect();
            out.push(format!("seed {seed}: {}", why.join(" | ")));
        }
    }
    out
}

fn sweep(duration: Span) {
    let opts = RandomOptions { pairs: None, duration };
    let workers = thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4) as u64;
    let per = 1000 / workers;
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let opts = opts.clone();
            let end = if w + 1 == workers { 1000 } else { (w + 1) * per };
            thread::spawn(move || failures(w * per..end, &opts))
        })
        .collect();
    let failed: Vec<String> = handles.into_iter().flat_map(|h| h.join().expect("worker")).collect();
    assert!(
        failed.is_empty(),
        "{} seeds failed (pin each as a regression test):\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// 1,000 seeds of one virtual hour each (about 50 faults per seed), built-in deployment.
#[test]
fn a_thousand_seeds_of_an_hour_hold_every_invariant() {
    sweep(Span::secs(3600));
}

/// 1,000 seeds of 20 virtual minutes: the last faults fall closer to the end.
#[test]
fn a_thousand_seeds_of_twenty_minutes_hold_every_invariant() {
    sweep(Span::secs(20 * 60));
}

/// Generated deployments with solution groups on every fourth host pair.
#[test]
fn generated_deployments_hold_every_invariant() {
    let opts = RandomOptions {
        pairs: Some(60),
        duration: Span::secs(30 * 60),
    };
    let failed = failures(1..21, &opts);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

fn pinned(seed: u64) {
    let r = run_seeded("random", seed, &RandomOptions::default());
    assert!(r.passed, "seed {seed}:\n{}", r.transcript());
}

/// A power-cycled backup looked redundant before its agent reported its new mode.
#[test]
fn regression_seed_3_stale_mode_after_reconnect() {
    pinned(3);
}

/// A VIP retry that failed before the NIC came back pushed the next retry out by a backoff.
#[test]
fn regression_seed_6_stale_vip_failure_after_nic_up() {
    pinned(6);
}

/// Anti-flap "stable again" during a switchover carried no correlation.
#[test]
fn regression_seed_11_stable_event_correlation() {
    pinned(11);
}

/// A host lost during another switchover logged 5091 under the host's incident.
#[test]
fn regression_seed_19_host_loss_inside_a_switchover() {
    pinned(19);
}

/// A group member that deferred its repair while its leader switched was never revisited.
#[test]
fn regression_seed_9_member_waits_for_leader_then_repairs() {
    let r = run_seeded(
        "random",
        9,
        &RandomOptions {
            pairs: None,
            duration: Span::secs(20 * 60),
        },
    );
    assert!(r.passed, "{}", r.transcript());
}

/// Re-placing a VIP after its host rebooted counted as a second group VIP control.
#[test]
fn regression_seed_124_vip_replaced_after_host_reboot() {
    pinned(124);
}

/// Split brain in a group member resolved against the leader's side; orders crossed.
#[test]
fn regression_seed_137_member_split_brain_follows_leader() {
    pinned(137);
}

/// A member with no primary stayed down: anti-flap held back re-promoting its own side.
#[test]
fn regression_seed_149_restore_is_not_flapping() {
    pinned(149);
}

/// Agent replies overtook each other (the drill's links are FIFO now).
#[test]
fn regression_seed_200_agent_link_order() {
    pinned(200);
}

/// A group switched over while a member's backup had reported itself not ready.
#[test]
fn regression_seed_253_group_member_not_ready() {
    pinned(253);
}

/// A VIP expectation outlived a controller restart.
#[test]
fn regression_seed_363_controller_restart() {
    pinned(363);
}
