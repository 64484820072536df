//! The oracle's verdicts: figures per pair and in all, the `metrics.oracle` object and
//! one check per property, each with its bound and the first offending intervals.

use super::*;

impl Oracle {
    /// The figures as of `now`, open intervals closed at `now`.
    pub(super) fn figures(
        &self,
        topo: &Topology,
        now: Time,
    ) -> (Vec<PairFigures>, Findings, Findings, Findings, Findings) {
        let mut two = Findings::default();
        let mut dual = Findings::default();
        let mut avoid = Findings::default();
        let mut split = Findings::default();
        let figs = self
            .pairs
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let mut f = st.fig.clone();
                let id = &topo.pairs[i].id;
                let settled_at = st.ctl_since.map(|t| t + self.settle);
                let open = |since: Option<Time>, total: &mut u64, fi: &mut Findings, what: &str| {
                    if let Some(t) = since {
                        *total += now.since(t).as_ms();
                        if settled_at.is_some_and(|s| now > s) {
                            fi.note(format!("{id}: {what} since {t}"));
                        }
                    }
                };
                open(st.two_prim_since, &mut f.two_primaries_ms, &mut two, "two primaries");
                open(st.dual_vip_since, &mut f.dual_vip_ms, &mut dual, "VIP bound on both hosts");
                if let Some(t) = st.no_serving_since {
                    f.no_primary_ms += now.since(t).as_ms();
                }
                if let Some(t) = st.avoid_from {
                    let len = now.since(t);
                    f.avoidable_no_primary_ms += len.as_ms();
                    if len > self.liveness[i] {
                        avoid.note(format!(
                            "{id}: no serving primary since {t} ({len}, bound {}) although a usable backup could be promoted",
                            self.liveness[i]
                        ));
                    }
                }
                if let Some(t) = st.split_since {
                    let len = now.since(t);
                    f.group_split_ms += len.as_ms();
                    if len > self.coherence {
                        split.note(format!("{id}: on the other side than its leader since {t}"));
                    }
                }
                f
            })
            .collect();
        (figs, two, dual, avoid, split)
    }

    pub fn metrics(&self, topo: &Topology, now: Time) -> OracleMetrics {
        let (figs, ..) = self.figures(topo, now);
        let sum = |f: fn(&PairFigures) -> u64| figs.iter().map(f).sum::<u64>();
        let switchovers = sum(|f| f.switchovers);
        OracleMetrics {
            bounds: self.bounds.clone(),
            two_primaries_ms: sum(|f| f.two_primaries_ms),
            dual_vip_ms: sum(|f| f.dual_vip_ms),
            no_primary_ms: sum(|f| f.no_primary_ms),
            avoidable_no_primary_ms: sum(|f| f.avoidable_no_primary_ms),
            faults: self.faults,
            switchovers,
            switchovers_per_fault: if self.faults == 0 {
                0.0
            } else {
                switchovers as f64 / self.faults as f64
            },
            ping_pongs: sum(|f| f.ping_pongs),
            group_split_ms: sum(|f| f.group_split_ms),
            pairs: figs
                .into_iter()
                .enumerate()
                .filter(|(_, f)| !f.is_zero())
                .map(|(i, f)| (topo.pairs[i].id.clone(), f))
                .collect(),
        }
    }

    pub fn results(&self, topo: &Topology, now: Time) -> Vec<CheckResult> {
        let (_, two, dual, avoid, split) = self.figures(topo, now);
        let merged = |a: &Findings, b: &Findings| {
            let mut f = Findings {
                list: a.list.clone(),
                count: a.count,
            };
            for x in &b.list {
                f.note(x.clone());
            }
            f.count = a.count + b.count;
            f
        };
        let check = |name: &str, f: Findings, held: String| CheckResult {
            name: name.to_string(),
            passed: f.count == 0,
            detail: if f.count == 0 { held } else { f.detail() },
        };
        let settle = self.settle;
        vec![
            check(
                "oracle: at most one primary per pair",
                merged(&self.two_primaries, &two),
                format!("held whenever both hosts were controllable (settle bound {settle} after they came back)"),
            ),
            check(
                "oracle: VIP bound on one host at a time",
                merged(&self.dual_vip, &dual),
                format!("held whenever both hosts were controllable (settle bound {settle} after they came back)"),
            ),
            check(
                "oracle: the demoted primary stops before the VIP moves",
                merged(&self.vip_before_demotion, &Findings::default()),
                "held".into(),
            ),
            check(
                "oracle: no avoidable time without a serving primary",
                merged(&self.avoidable, &avoid),
                format!(
                    "held (bound {} for the slowest pair: detection + mode timeout + reconcile interval)",
                    Span(self.bounds.liveness_ms)
                ),
            ),
            check(
                "oracle: no ping-pong",
                merged(&self.ping_pong, &Findings::default()),
                "no pair switched back inside its anti-flap window without a new fault".into(),
            ),
            check(
                "oracle: group members on the leader's side",
                merged(&self.coherence_f, &split),
                format!("held (bound {})", self.coherence),
            ),
            check(
                "oracle: no automatic mode change in maintenance",
                merged(&self.maintenance_f, &Findings::default()),
                "held".into(),
            ),
            check(
                "oracle: a duplicate address on the network is alarmed",
                merged(&self.unalarmed_f, &self.unalarmed_open(topo, now)),
                format!(
                    "held (bound {}: ARP probe period + heartbeat interval + reconcile interval)",
                    self.duplicate_alarm
                ),
            ),
            self.redundancy_result(topo, now),
        ]
    }

    /// Duplicates still unalarmed at `now`, past the bound.
    fn unalarmed_open(&self, topo: &Topology, now: Time) -> Findings {
        let mut f = Findings::default();
        for (i, st) in self.pairs.iter().enumerate() {
            if let Some(t) = st.dup_unalarmed_since
                && now.since(t) > self.duplicate_alarm
            {
                f.note(format!(
                    "{}: VIP answered by both hosts since {t} with no duplicate-address alarm",
                    topo.pairs[i].id
                ));
            }
        }
        f
    }

    pub(super) fn redundancy_result(&self, topo: &Topology, now: Time) -> CheckResult {
        let name = format!(
            "oracle: every pair redundant in the world within {} of the last fault or action",
            self.recovery
        );
        let na = |detail: String| CheckResult {
            name: name.clone(),
            passed: true,
            detail,
        };
        if self.active_faults > 0 {
            return na(format!("not applicable: {} faults still active", self.active_faults));
        }
        let deadline = self.last_action.unwrap_or(Time::ZERO) + self.recovery;
        if now < deadline {
            return na(format!("not applicable yet: the bound ends at {deadline}"));
        }
        let late: Vec<String> = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(_, st)| st.redundant_since.is_none_or(|t| t > deadline))
            .map(|(i, st)| match st.redundant_since {
                Some(t) => format!("{} redundant only at {t}", topo.pairs[i].id),
                None => format!("{} not redundant", topo.pairs[i].id),
            })
            .collect();
        CheckResult {
            name,
            passed: late.is_empty(),
            detail: if late.is_empty() {
                "every pair has a serving primary, a ready backup and its VIP on one host".into()
            } else {
                let n = late.len();
                let mut s = late.into_iter().take(MAX_NOTED).collect::<Vec<_>>().join("; ");
                if n > MAX_NOTED {
                    s.push_str(&format!("; and {} more", n - MAX_NOTED));
                }
                s
            },
        }
    }
}
