//! The graded report of a drill: the transcript (catalog events and drill notes), the
//! invariant checks, the scenario's own checks, time to detect and to restore, the
//! operator's actions, and the final state of every pair. Printed as text or as the one
//! JSON object of the command-line contract.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::Drill;
use super::check::CheckResult;
use super::oracle::OracleMetrics;
use super::scenario::{Chain, Final};
use super::world::Proc;
use crate::engine::{Event, Mode, Redundancy, Span, Time};
use crate::wire::{EventRecord, redundancy_label};

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FinalPair {
    pub primary: Option<String>,
    pub backup: Option<String>,
    pub vip_holder: Option<String>,
    /// As its controller ends: `unknown` when that controller is down.
    #[serde(with = "crate::wire::or_unknown")]
    pub redundancy: Option<Redundancy>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    /// Per injected fault: virtual time, time to detect, time to restore redundancy.
    pub faults: Vec<FaultMetric>,
    pub operator_actions: usize,
    pub recovery_bound_ms: u64,
    /// The oracle's figures: what the simulated world did (see [`super::oracle`]).
    pub oracle: OracleMetrics,
}

#[derive(Clone, Debug, Serialize)]
pub struct FaultMetric {
    pub t_ms: u64,
    pub detect_ms: Option<u64>,
    pub restore_ms: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub passed: bool,
    pub events: Vec<EventRecord>,
    pub checks: Vec<CheckResult>,
    #[serde(rename = "final")]
    pub final_state: BTreeMap<String, FinalPair>,
    pub metrics: Metrics,
    #[serde(skip)]
    pub notes: Vec<(Time, String)>,
    #[serde(skip)]
    pub description: String,
}

fn matches(d: &Drill, e: &Event, x: &super::scenario::Expect) -> bool {
    let topo = d.topology();
    e.id == x.id
        && x.source.as_ref().is_none_or(|s| *s == topo.entity_label(&e.source))
        && x.subject.as_ref().is_none_or(|s| *s == topo.entity_label(&e.subject))
}

fn check_chain(d: &Drill, chain: &Chain, after: Time) -> CheckResult {
    let mut found: Vec<&Event> = Vec::new();
    let mut next = 0;
    for e in d.events().iter().filter(|e| e.t >= after) {
        if next < chain.events.len() && matches(d, e, &chain.events[next]) {
            if chain.same_correlation && next > 0 && e.correlation != found[0].correlation {
                continue;
            }
            found.push(e);
            next += 1;
        }
    }
    let passed = next == chain.events.len();
    let detail = if passed {
        let corr = found
            .first()
            .and_then(|e| e.correlation)
            .map(|c| d.topology().correlation_label(c))
            .unwrap_or_default();
        format!(
            "{} events in order from {} to {}{}",
            found.len(),
            found[0].t,
            found[found.len() - 1].t,
            if chain.same_correlation {
                format!(", all {corr}")
            } else {
                String::new()
            }
        )
    } else {
        format!(
            "missing {} (after {} of {} in order{})",
            chain.events[next].describe(),
            next,
            chain.events.len(),
            if chain.same_correlation {
                ", same correlation"
            } else {
                ""
            }
        )
    };
    CheckResult {
        name: chain.name.clone(),
        passed,
        detail,
    }
}

fn check_final(d: &Drill, f: &Final, first_action: Time) -> CheckResult {
    let topo = d.topology();
    let w = d.world();
    let (name, result): (String, Result<String, String>) = match f {
        Final::Primary { pair, app } => {
            let p = topo.pair_ix(pair).expect("scenario names a known pair");
            let prim: Vec<String> = w.primaries(topo, p).iter().map(|a| topo.app(*a).id.clone()).collect();
            (
                format!("{pair} ends with {app} primary"),
                if prim == [app.clone()] {
                    Ok(format!("primary: {app}"))
                } else {
                    Err(format!("primaries: [{}]", prim.join(", ")))
                },
            )
        }
        Final::VipOn { pair, host } => {
            let p = topo.pair_ix(pair).expect("scenario names a known pair");
            let holders: Vec<String> = w
                .vip_holders(topo, p)
                .iter()
                .map(|h| topo.host(*h).id.clone())
                .collect();
            (
                format!("{pair} VIP ends on {host} only"),
                if holders == [host.clone()] {
                    Ok(format!("bound on {host}"))
                } else {
                    Err(format!("bound on [{}]", holders.join(", ")))
                },
            )
        }
        Final::Switchovers { pairs, from, to, count } => {
            let n = d
                .events()
                .iter()
                .filter(|e| e.id == crate::engine::EventId::SwitchoverRequested && e.t >= *from && e.t < *to)
                .filter(|e| {
                    pairs.is_empty()
                        || pairs
                            .iter()
                            .any(|p| topo.entity_label(&e.subject) == format!("pair:{p}"))
                })
                .count();
            let scope = if pairs.is_empty() {
                "any pair".to_string()
            } else {
                pairs.join(", ")
            };
            let window = if to.ms() == u64::MAX {
                format!("after {from}")
            } else {
                format!("between {from} and {to}")
            };
            (
                format!("{count} switchover(s) of {scope} {window}"),
                if n == *count {
                    Ok(format!("{n} requested"))
                } else {
                    Err(format!("{n} requested"))
                },
            )
        }
        Final::NoEvent(id) => {
            let n = d.events().iter().filter(|e| e.id == *id && e.t >= first_action).count();
            (
                format!("no {} event", id.code()),
                if n == 0 {
                    Ok("none".into())
                } else {
                    Err(format!("{n} logged"))
                },
            )
        }
        Final::EndpointsOn {
            population,
            server,
            percent,
        } => {
            let snap = d.snapshot();
            let v = snap
                .endpoints
                .iter()
                .find(|e| e.population == *population)
                .expect("scenario names a known population");
            let n = v.registered.iter().find(|(s, _)| s == server).map_or(0, |(_, n)| *n);
            let ok = u64::from(n) * 100 >= u64::from(v.total) * u64::from(*percent);
            (
                format!("{population}: {percent}% or more registered to {server} at the end"),
                if ok {
                    Ok(format!("{n} of {}", v.total))
                } else {
                    Err(format!("{n} of {}", v.total))
                },
            )
        }
        Final::SiteMode { site, mode } => {
            let snap = d.snapshot();
            let got = snap.sites.iter().find(|s| s.id == *site).map(|s| s.mode);
            (
                format!("site {site} ends {}", mode.as_str()),
                match got {
                    Some(m) if m == *mode => Ok(m.as_str().to_string()),
                    other => Err(other.map_or("unknown", |m| m.as_str()).to_string()),
                },
            )
        }
    };
    match result {
        Ok(detail) => CheckResult {
            name,
            passed: true,
            detail,
        },
        Err(detail) => CheckResult {
            name,
            passed: false,
            detail,
        },
    }
}

pub(crate) fn build(d: &Drill) -> Report {
    let topo = d.topology();
    let first_action = d
        .scenario()
        .and_then(|s| s.schedule.first().map(|(t, _)| *t))
        .unwrap_or(Time::ZERO);
    let mut checks = Vec::new();
    if let Some(s) = d.scenario() {
        for c in &s.chains {
            checks.push(check_chain(d, c, first_action));
        }
        for f in &s.finals {
            checks.push(check_final(d, f, first_action));
        }
    }
    checks.extend(d.checker().results(topo, d.now()));
    checks.extend(d.oracle().results(topo, d.now()));
    let passed = checks.iter().all(|c| c.passed);
    let events = (0..d.events().len()).map(|i| d.record(i)).collect();
    let w = d.world();
    let mut final_state = BTreeMap::new();
    for p in topo.pair_ixs() {
        let pair = topo.pair(p);
        let label = |a: &crate::engine::AppIx| topo.app_label(*a);
        let primary = w.primaries(topo, p).first().map(label);
        let backup = pair
            .apps
            .iter()
            .find(|a| w.apps[a.ix()].proc == Proc::Running && w.apps[a.ix()].mode == Mode::Backup)
            .map(label);
        let holders: Vec<String> = w
            .vip_holders(topo, p)
            .iter()
            .map(|h| topo.host(*h).id.clone())
            .collect();
        let redundancy = d.engine(pair.site).map(|e| e.pair(p).redundancy);
        final_state.insert(
            pair.id.clone(),
            FinalPair {
                primary,
                backup,
                vip_holder: if holders.is_empty() {
                    None
                } else {
                    Some(holders.join(","))
                },
                redundancy,
            },
        );
    }
    let metrics = Metrics {
        faults: d
            .checker()
            .incidents
            .iter()
            .map(|i| FaultMetric {
                t_ms: i.at.ms(),
                detect_ms: i.detected.map(|t| t.since(i.at).as_ms()),
                restore_ms: i.restored.map(|t| t.since(i.at).as_ms()),
            })
            .collect(),
        operator_actions: d.checker().operator_actions.len(),
        recovery_bound_ms: d.checker().recovery_bound.as_ms(),
        oracle: d.oracle().metrics(topo, d.now()),
    };
    Report {
        scenario: d.scenario().map_or("free-play".into(), |s| s.name.clone()),
        seed: d.seed(),
        passed,
        events,
        checks,
        final_state,
        metrics,
        notes: d.notes().iter().map(|n| (n.t, n.text.clone())).collect(),
        description: d.scenario().map_or(String::new(), |s| s.description.clone()),
    }
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The readable transcript: events and notes in time order, then every check.
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "hactl drill: scenario {} (seed {})", self.scenario, self.seed);
        if !self.description.is_empty() {
            let _ = writeln!(out, "{}", self.description);
        }
        let _ = writeln!(
            out,
            "\n{:>12}  {:<9} {:<9} {:<32} message",
            "time", "id", "severity", "source"
        );
        let mut notes = self.notes.iter().peekable();
        for e in &self.events {
            while let Some((t, text)) = notes.peek() {
                if t.ms() > e.t_ms {
                    break;
                }
                let _ = writeln!(out, "{:>12}  -- {text}", t.to_string());
                notes.next();
            }
            let corr = e.correlation.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{:>12}  {:<9} {:<9} {:<32} {}{corr}",
                Time(e.t_ms).to_string(),
                e.id.code(),
                e.severity.as_str(),
                e.source,
                e.message
            );
        }
        for (t, text) in notes {
            let _ = writeln!(out, "{:>12}  -- {text}", t.to_string());
        }
        let _ = writeln!(out, "\nchecks:");
        for c in &self.checks {
            let _ = writeln!(
                out,
                "  {}  {}: {}",
                if c.passed { "PASS" } else { "FAIL" },
                c.name,
                c.detail
            );
        }
        let _ = writeln!(out, "\nmetrics:");
        for f in &self.metrics.faults {
            let show = |v: Option<u64>| v.map_or("never".to_string(), |ms| Span(ms).to_string());
            let _ = writeln!(
                out,
                "  fault at {}: detected after {}, redundancy restored after {}",
                Time(f.t_ms),
                show(f.detect_ms),
                show(f.restore_ms)
            );
        }
        let _ = writeln!(out, "  operator actions: {}", self.metrics.operator_actions);
        let o = &self.metrics.oracle;
        let _ = writeln!(out, "\noracle (from the simulated world):");
        let _ = writeln!(
            out,
            "  safety: two primaries {}, VIP on two hosts {} (settle bound {})",
            Span(o.two_primaries_ms),
            Span(o.dual_vip_ms),
            Span(o.bounds.settle_ms)
        );
        let _ = writeln!(
            out,
            "  liveness: no serving primary {} in all, avoidable {} (bound {} per run)",
            Span(o.no_primary_ms),
            Span(o.avoidable_no_primary_ms),
            Span(o.bounds.liveness_ms)
        );
        let _ = writeln!(
            out,
            "  economy: {} switchovers for {} faults ({:.2} per fault), {} ping-pong",
            o.switchovers, o.faults, o.switchovers_per_fault, o.ping_pongs
        );
        let _ = writeln!(
            out,
            "  coherence: group members split from their leader {} (bound {})",
            Span(o.group_split_ms),
            Span(o.bounds.coherence_ms)
        );
        let _ = writeln!(out, "\nfinal state:");
        for (pair, f) in &self.final_state {
            let _ = writeln!(
                out,
                "  {pair:<16} primary {:<26} backup {:<26} VIP {:<12} {}",
                f.primary.as_deref().unwrap_or("-"),
                f.backup.as_deref().unwrap_or("-"),
                f.vip_holder.as_deref().unwrap_or("-"),
                redundancy_label(f.redundancy)
            );
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        let _ = writeln!(
            out,
            "\n{}: {passed} of {} checks passed",
            if self.passed { "PASSED" } else { "FAILED" },
            self.checks.len()
        );
        out
    }
}
