//! Switchover plans: what a switchover will do (demote, promote, VIP move, group members,
//! alarm reactions) and its pre-flight checks, computed without changing anything, so the
//! console, the CLI's `--dry-run` and the API can show it before anyone confirms.

use serde::{Deserialize, Serialize};

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

/// One pre-flight check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: CheckStatus,
    pub detail: String,
    /// A failed check that `--force` (or typing the pair's name) may override.
    pub forcible: bool,
}

/// What a switchover would do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The pair that is switched first (the group leader when the pair is in a group).
    pub pair: PairIx,
    /// The pair the operator named.
    pub requested: PairIx,
    pub group: Option<GroupIx>,
    pub from: AppIx,
    pub to: AppIx,
    pub to_side: usize,
    /// Human steps, in order.
    pub steps: Vec<String>,
    /// The VIP move: address, from host, to host.
    pub vip: Option<(String, HostIx, HostIx)>,
    /// Alarm reactions the switchover's events will trigger.
    pub reactions: Vec<String>,
    /// Group members that follow: pair, from app, to app.
    pub members: Vec<(PairIx, AppIx, AppIx)>,
    pub checks: Vec<Check>,
}

impl Plan {
    /// A failed check that force cannot override.
    pub fn blocked(&self) -> bool {
        self.checks.iter().any(|c| c.status == CheckStatus::Fail && !c.forcible)
    }

    /// A failed check that only force overrides.
    pub fn needs_force(&self) -> bool {
        self.checks.iter().any(|c| c.status == CheckStatus::Fail && c.forcible)
    }

    pub fn allowed(&self, force: bool) -> bool {
        !self.blocked() && (force || !self.needs_force())
    }

    /// Why the plan may not run, from its failed checks.
    pub fn refusal(&self, force: bool) -> String {
        let failed: Vec<String> = self
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail && (!c.forcible || !force))
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        let mut s = failed.join("; ");
        if !self.blocked() && self.needs_force() && !force {
            s.push_str(" (use --force to override)");
        }
        s
    }
}

fn check(name: &'static str, status: CheckStatus, detail: String, forcible: bool) -> Check {
    Check {
        name,
        status,
        detail,
        forcible,
    }
}

impl Engine {
    /// Plans a switchover of `pair` (to `to`, default: the other instance). For a pair in a
    /// group the leader switches first and the other members follow.
    pub fn plan_switchover(&self, pair: PairIx, to: Option<AppIx>) -> Result<Plan, Refused> {
        let topo = &*self.topo;
        if !self.owns_pair(pair) {
            return Err(Refused(format!(
                "pair {} belongs to another site's controller",
                topo.pair(pair).id
            )));
        }
        let requested_side = match to {
            Some(app) if topo.app(app).pair == Some(pair) => topo.side_of(pair, app),
            Some(app) => {
                return Err(Refused(format!(
                    "{} is not an instance of pair {}",
                    topo.app_label(app),
                    topo.pair(pair).id
                )));
            }
            None => 1 - self.pairs[pair.ix()].active,
        };
        let group = topo.pair(pair).group;
        // A member switches by switching its group: the leader moves to the host the
        // requested member moves to.
        let (lead, to_side) = match group {
            Some(g) => {
                let leader = topo.group(g).leader;
                let host = topo.app_host(topo.pair(pair).apps[requested_side]);
                let side = if topo.app_host(topo.pair(leader).apps[0]) == host {
                    0
                } else {
                    1
                };
                (leader, side)
            }
            None => (pair, requested_side),
        };
        let pr = &self.pairs[lead.ix()];
        let from_side = 1 - to_side;
        let (from, target) = (self.side_app(lead, from_side), self.side_app(lead, to_side));
        let (f, t) = (&self.apps[from.ix()], &self.apps[target.ix()]);
        let (fh, th) = (topo.app_host(from), topo.app_host(target));
        let mut checks = Vec::new();

        checks.push(match &pr.switchover {
            Some(sw) => check(
                "no switchover in progress",
                CheckStatus::Fail,
                format!("switchover {} is {}", sw.id, sw.step.as_str()),
                false,
            ),
            None => check("no switchover in progress", CheckStatus::Pass, "idle".into(), false),
        });
        checks.push(if t.is_known_primary() && !f.is_known_primary() {
            check(
                "target is not already primary",
                CheckStatus::Fail,
                format!("{} is already primary", topo.app_label(target)),
                false,
            )
        } else {
            check(
                "target is not already primary",
                CheckStatus::Pass,
                format!("{} runs as {}", topo.app_label(target), t.mode.as_str()),
                false,
            )
        });
        checks.push(if self.hosts[th.ix()].connected {
            check(
                "target host reachable",
                CheckStatus::Pass,
                format!("agent of {} connected", topo.host(th).id),
                false,
            )
        } else {
            check(
                "target host reachable",
                CheckStatus::Fail,
                format!("agent of {} unreachable", topo.host(th).id),
                false,
            )
        });
        checks.push(match t.status {
            AppStatus::Up => check(
                "backup ready",
                CheckStatus::Pass,
                format!("{} is up", topo.app_label(target)),
                true,
            ),
            AppStatus::Unavailable => check(
                "backup ready",
                CheckStatus::Fail,
                format!("{} is not ready: {}", topo.app_label(target), t.detail),
                true,
            ),
            AppStatus::Starting => check(
                "backup ready",
                CheckStatus::Fail,
                format!(
                    "{} is still starting (start-up checks in progress)",
                    topo.app_label(target)
                ),
                true,
            ),
            s => check(
                "backup ready",
                CheckStatus::Fail,
                format!("{} is {}", topo.app_label(target), s.as_str()),
                false,
            ),
        });
        let af = topo.pair(lead).anti_flap;
        let used = pr.history.iter().filter(|at| self.now.since(**at) < af.window).count();
        checks.push(if pr.flapping || used as u32 >= af.max_switchovers {
            check(
                "anti-flap budget",
                CheckStatus::Warn,
                format!(
                    "{used} automatic switchover(s) in the last {}, limit {}: automatic ones are held back, manual ones are not",
                    af.window, af.max_switchovers
                ),
                true,
            )
        } else {
            check(
                "anti-flap budget",
                CheckStatus::Pass,
                format!(
                    "{used} automatic switchover(s) in the last {}, limit {}",
                    af.window, af.max_switchovers
                ),
                true,
            )
        });
        checks.push(if pr.maintenance {
            check(
                "maintenance",
                CheckStatus::Warn,
                "pair in maintenance: nothing automatic will follow up".into(),
                true,
            )
        } else {
            check("maintenance", CheckStatus::Pass, "off".into(), true)
        });
        checks.push(if f.status.is_known() && self.hosts[fh.ix()].connected {
            check(
                "current primary reachable",
                CheckStatus::Pass,
                format!("{} is {}", topo.app_label(from), f.status.as_str()),
                true,
            )
        } else {
            check(
                "current primary reachable",
                CheckStatus::Warn,
                format!(
                    "{} cannot be demoted now; it will be when its agent is back",
                    topo.app_label(from)
                ),
                true,
            )
        });
        let mut vip = None;
        if let Some(v) = &topo.pair(lead).vip {
            let nic = topo.host(th).nic(&v.nic);
            let nic_up = nic.and_then(|n| self.hosts[th.ix()].nics[n]);
            checks.push(match nic_up {
                Some(false) => check(
                    "VIP NIC up on target",
                    CheckStatus::Fail,
                    format!("NIC {} of {} is down", v.nic, topo.host(th).id),
                    true,
                ),
                _ => check(
                    "VIP NIC up on target",
                    CheckStatus::Pass,
                    format!("NIC {} of {}", v.nic, topo.host(th).id),
                    true,
                ),
            });
            vip = Some((v.address.clone(), fh, th));
        }
        let mut members = Vec::new();
        if let Some(g) = group {
            for m in topo.group(g).members.iter().skip(1) {
                let (mf, mt) = (self.side_app(*m, from_side), self.side_app(*m, to_side));
                members.push((*m, mf, mt));
                let s = self.apps[mt.ix()].status;
                if s != AppStatus::Up {
                    checks.push(check(
                        "group member ready",
                        CheckStatus::Fail,
                        format!("{} is {}", topo.app_label(mt), s.as_str()),
                        true,
                    ));
                }
            }
        }

        let mut steps = Vec::new();
        if f.is_known_primary() && self.hosts[fh.ix()].connected {
            steps.push(format!(
                "order {} into backup mode (agent of {})",
                topo.app_label(from),
                topo.host(fh).id
            ));
        } else {
            steps.push(format!(
                "skip demotion of {} ({})",
                topo.app_label(from),
                if self.hosts[fh.ix()].connected {
                    f.status.as_str()
                } else {
                    "unreachable"
                }
            ));
        }
        steps.push(format!(
            "order {} into primary mode (agent of {})",
            topo.app_label(target),
            topo.host(th).id
        ));
        steps.push(format!(
            "wait for 00-5150{} from {}",
            if topo.app(target).announces_primary {
                " and 4563"
            } else {
                ""
            },
            topo.app_label(target)
        ));
        if let Some((addr, a, b)) = &vip {
            let how = match &topo.pair(lead).vip.as_ref().map(|v| &v.control) {
                Some(VipControl::Script(s)) => format!("script {}", topo.script(*s).id),
                _ => "ip addr + gratuitous ARP".to_string(),
            };
            steps.push(format!(
                "move VIP {addr}: disable on {}, enable on {} ({how})",
                topo.host(*a).id,
                topo.host(*b).id
            ));
        }
        for (m, mf, mt) in &members {
            steps.push(format!(
                "then {}: {} -> {}",
                topo.pair(*m).id,
                topo.app_label(*mf),
                topo.app_label(*mt)
            ));
        }
        let reactions = self.planned_reactions(lead, from, target);
        Ok(Plan {
            pair: lead,
            requested: pair,
            group,
            from,
            to: target,
            to_side,
            steps,
            vip,
            reactions,
            members,
            checks,
        })
    }
}
