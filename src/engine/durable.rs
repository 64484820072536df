//! What must survive a controller restart, as data: maintenance with its expiry, the
//! anti-flap history and holds, the answers to operator requests (idempotency by request
//! id), and the counters of correlation, switchover and run ids.
//!
//! Like raft-rs's `HardState`, the driver persists it before it carries out the commands
//! of the same step: after each `handle`/`handle_timeout`/`operator` call it asks
//! [`Engine::take_durable`], and when that returns a new state it commits it to its
//! journal first. A restarted controller passes the last committed state to
//! [`Engine::restore`]. Times are the engine's own clock; a daemon whose clock is
//! wall-clock milliseconds (as hactl's is) can restore them as they are. Pairs are kept by
//! name, so a state written for an older topology restores what still matches.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::timer::TimerKey;
use super::{Accepted, Correlation, Engine, Refused, SiteIx, Time};

/// How many answered request ids the engine remembers (oldest forgotten first). A retry
/// of a request older than this is treated as new; clients retry within seconds.
pub const MAX_REMEMBERED_REQUESTS: usize = 4096;

/// The engine's durable state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durable {
    /// The next correlation number this site hands out: never reused after a restart.
    pub next_correlation: u32,
    pub next_switchover: u64,
    pub next_run: u64,
    /// Pairs with anything worth keeping, by pair id.
    pub pairs: Vec<DurablePair>,
    /// Answered requests, oldest first.
    pub requests: Vec<DurableAnswer>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurablePair {
    pub pair: String,
    pub maintenance: bool,
    /// Engine time (ms) when a limited maintenance ends.
    pub maintenance_until_ms: Option<u64>,
    /// Engine times (ms) of the automatic switchovers inside the anti-flap window.
    pub history_ms: Vec<u64>,
    pub flapping: bool,
    pub last_switchover_ms: Option<u64>,
}

/// The answer given to one request id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableAnswer {
    pub request_id: String,
    /// `Ok`: the correlation number, and the switchover / run started.
    pub accepted: Option<(u32, Option<u64>, Option<u64>)>,
    /// `Err`: the refusal.
    pub refused: Option<String>,
}

/// Answered request ids in the order they were answered, bounded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Requests {
    order: VecDeque<String>,
    answers: std::collections::HashMap<String, Result<Accepted, Refused>>,
}

impl Requests {
    pub(crate) fn get(&self, id: &str) -> Option<&Result<Accepted, Refused>> {
        self.answers.get(id)
    }

    pub(crate) fn insert(&mut self, id: String, answer: Result<Accepted, Refused>) {
        if self.answers.insert(id.clone(), answer).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > MAX_REMEMBERED_REQUESTS {
            if let Some(old) = self.order.pop_front() {
                self.answers.remove(&old);
            }
        }
    }

    fn export(&self) -> Vec<DurableAnswer> {
        self.order
            .iter()
            .filter_map(|id| {
                let a = self.answers.get(id)?;
                Some(match a {
                    Ok(acc) => DurableAnswer {
                        request_id: id.clone(),
                        accepted: Some((acc.correlation.n, acc.switchover, acc.run)),
                        refused: None,
                    },
                    Err(r) => DurableAnswer {
                        request_id: id.clone(),
                        accepted: None,
                        refused: Some(r.0.clone()),
                    },
                })
            })
            .collect()
    }
}

impl Engine {
    /// The durable state as it is now.
    pub fn durable(&self) -> Durable {
        let pairs = self
            .own_pairs()
            .filter_map(|p| {
                let pr = &self.pairs[p.ix()];
                let keep = pr.maintenance || !pr.history.is_empty() || pr.flapping || pr.last_switchover.is_some();
                keep.then(|| DurablePair {
                    pair: self.topo.pair(p).id.clone(),
                    maintenance: pr.maintenance,
                    maintenance_until_ms: pr.maintenance_until.map(Time::ms),
                    history_ms: pr.history.iter().map(|t| t.ms()).collect(),
                    flapping: pr.flapping,
                    last_switchover_ms: pr.last_switchover.map(Time::ms),
                })
            })
            .collect();
        Durable {
            next_correlation: self.next_correlation,
            next_switchover: self.next_switchover,
            next_run: self.next_run,
            pairs,
            requests: self.requests.export(),
        }
    }

    /// The durable state, when it changed since the last call (the first call always
    /// returns it). The driver commits it before carrying out this step's commands.
    pub fn take_durable(&mut self) -> Option<Durable> {
        let now = self.durable();
        if self.last_durable.as_ref() == Some(&now) {
            return None;
        }
        self.last_durable = Some(now.clone());
        Some(now)
    }

    /// Takes back the state a previous run of this site's controller persisted. Call it
    /// right after [`Engine::new`], before [`super::Input::Start`]. Pairs no longer in the
    /// topology are skipped; a maintenance whose expiry has passed ends at the first
    /// [`Engine::handle_timeout`] (with HC-1601).
    pub fn restore(&mut self, state: &Durable) {
        self.next_correlation = self.next_correlation.max(state.next_correlation);
        #[cfg(test)]
        if self.sabotage.forget_correlation_counter {
            self.next_correlation = 1;
        }
        self.next_switchover = self.next_switchover.max(state.next_switchover);
        self.next_run = self.next_run.max(state.next_run);
        for dp in &state.pairs {
            let Some(p) = self.topo.pair_ix(&dp.pair) else {
                continue;
            };
            if !self.owns_pair(p) {
                continue;
            }
            let af = self.topo.pair(p).anti_flap;
            let pr = &mut self.pairs[p.ix()];
            pr.maintenance = dp.maintenance;
            pr.maintenance_until = dp.maintenance_until_ms.filter(|_| dp.maintenance).map(Time);
            pr.history = dp.history_ms.iter().map(|t| Time(*t)).collect();
            pr.flapping = dp.flapping;
            pr.last_switchover = dp.last_switchover_ms.map(Time);
            if let Some(at) = pr.maintenance_until {
                self.timers.set(TimerKey::Maintenance(p), at);
            }
            self.mark_pair(p);
            let pr = &mut self.pairs[p.ix()];
            if pr.flapping {
                // Re-armed from the history: stable again once the oldest leaves the window.
                let until = pr.history.first().map_or(Time(0), |t| *t + af.window);
                self.timers.set(TimerKey::AntiFlap(p), until);
            }
        }
        let site: SiteIx = self.site;
        for a in &state.requests {
            let answer = match (&a.accepted, &a.refused) {
                (Some((n, switchover, run)), _) => Ok(Accepted {
                    correlation: Correlation { site, n: *n },
                    switchover: *switchover,
                    run: *run,
                }),
                (None, Some(r)) => Err(Refused(r.clone())),
                (None, None) => continue,
            };
            self.requests.insert(a.request_id.clone(), answer);
        }
        self.last_durable = Some(self.durable());
    }
}
