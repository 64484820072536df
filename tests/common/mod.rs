//! Shared helpers of the integration tests.
#![allow(dead_code)]

use hactl::drill::random::RandomOptions;
use hactl::drill::{Drill, Report, scenario};
use hactl::engine::Redundancy;

/// Runs a named scenario with seed 1 to its end.
pub fn run(name: &str) -> Report {
    run_seeded(name, 1, &RandomOptions::default())
}

pub fn run_seeded(name: &str, seed: u64, opts: &RandomOptions) -> Report {
    let s = scenario::build(name, seed, opts).expect("known scenario");
    Drill::with_scenario(s, seed).run_to_end()
}

/// The events of the main incident: those sharing the correlation id of the first event
/// logged at or after the first scheduled action (60 s), as (id, source).
pub fn incident(r: &Report) -> Vec<(&str, &str)> {
    let after: Vec<_> = r.events.iter().filter(|e| e.t_ms >= 60_000).collect();
    let corr = after.iter().find_map(|e| e.correlation.clone()).expect("an incident");
    after
        .iter()
        .filter(|e| e.correlation.as_deref() == Some(corr.as_str()))
        .map(|e| (e.id.code(), e.source.as_str()))
        .collect()
}

/// A pair's final primary, VIP holder and redundancy.
pub fn final_of<'a>(r: &'a Report, pair: &str) -> (Option<&'a str>, Option<&'a str>, Option<Redundancy>) {
    let f = &r.final_state[pair];
    (f.primary.as_deref(), f.vip_holder.as_deref(), f.redundancy)
}
