//! What the agent does for the host as a whole: NIC link states and VIPs as observed
//! (reported when they change), VIP control on the controller's order (the result, the
//! observed binding, and a gratuitous ARP after an address is added), and allow-listed
//! script runs with their timeout.

use super::*;
use crate::engine::ScriptOutcome;

/// A VIP this host may hold, as the agent sees it.
#[derive(Clone, Debug)]
pub(super) struct VipSlot {
    pub pair: PairIx,
    pub bound: bool,
    /// Another machine that answers ARP for the address while it is bound here.
    pub elsewhere: Option<String>,
}

impl VipSlot {
    pub(super) fn new(pair: PairIx) -> VipSlot {
        VipSlot {
            pair,
            bound: false,
            elsewhere: None,
        }
    }
}

impl AgentCore {
    /// Whether `pair`'s VIP is bound here, as last observed.
    pub fn vip_bound(&self, pair: PairIx) -> bool {
        self.vips.iter().any(|v| v.pair == pair && v.bound)
    }

    fn vip_slot(&self, pair: PairIx) -> Option<usize> {
        self.vips.iter().position(|v| v.pair == pair)
    }

    pub(super) fn on_nic(&mut self, nic: usize, up: bool) {
        let Some(slot) = self.nics.get_mut(nic) else { return };
        if *slot == Some(up) {
            return;
        }
        *slot = Some(up);
        self.report(Input::NicState {
            host: self.host,
            nic,
            up,
        });
    }

    pub(super) fn on_vip_observed(&mut self, pair: PairIx, bound: bool) {
        let Some(k) = self.vip_slot(pair) else { return };
        if self.vips[k].bound != bound {
            self.vips[k].bound = bound;
            self.report(Input::VipState {
                host: self.host,
                pair,
                bound,
            });
        }
        if !bound {
            // Who else answers matters only for an address held here.
            self.set_elsewhere(k, None);
        }
    }

    /// Another machine answers ARP for the address (or no longer does): reported when it
    /// changes, and only while the address is bound here.
    pub(super) fn on_vip_elsewhere(&mut self, pair: PairIx, by: Option<String>) {
        let Some(k) = self.vip_slot(pair) else { return };
        if self.vips[k].bound {
            self.set_elsewhere(k, by);
        }
    }

    fn set_elsewhere(&mut self, k: usize, by: Option<String>) {
        if self.vips[k].elsewhere == by {
            return;
        }
        self.vips[k].elsewhere = by.clone();
        self.report(Input::VipElsewhere {
            host: self.host,
            pair: self.vips[k].pair,
            by,
        });
    }

    pub(super) fn order_vip(&mut self, pair: PairIx, enable: bool) {
        if self.vip_slot(pair).is_none() {
            self.report(Input::VipResult {
                host: self.host,
                pair,
                enable,
                ok: false,
                detail: "no VIP of this pair on this host".into(),
            });
            return;
        }
        self.act(if enable {
            AgentAction::VipAdd { pair }
        } else {
            AgentAction::VipDel { pair }
        });
    }

    /// A VIP change is done: report the result and the binding as it now is, and announce
    /// an added address.
    pub(super) fn on_vip_applied(&mut self, pair: PairIx, enable: bool, result: Result<(), String>) {
        let Some(k) = self.vip_slot(pair) else { return };
        let ok = result.is_ok();
        if ok {
            self.vips[k].bound = enable;
            if enable {
                self.act(AgentAction::Garp { pair });
            }
        }
        self.report(Input::VipResult {
            host: self.host,
            pair,
            enable,
            ok,
            detail: result.err().unwrap_or_default(),
        });
        let bound = self.vips[k].bound;
        self.report(Input::VipState {
            host: self.host,
            pair,
            bound,
        });
        if !bound {
            self.set_elsewhere(k, None);
        }
    }

    // ----------------------------------------------------------------- scripts

    pub(super) fn order_script(&mut self, run: u64, script: ScriptIx, args: Vec<String>) {
        let Some(s) = self.topo.scripts.get(script.ix()) else {
            return self.script_refused(run, "unknown script".into());
        };
        if !s.allowed_on(self.host) {
            let detail = format!("script {} is not allowed on this host", s.id);
            return self.script_refused(run, detail);
        }
        if self.runs.contains_key(&run) {
            return; // the same order again: the run is under way
        }
        let timeout = s.timeout;
        self.runs.insert(
            run,
            Run {
                started: self.now,
                tail: String::new(),
            },
        );
        self.timers.set(AgentTimer::Script(run), self.now + timeout);
        self.act(AgentAction::RunScript {
            run,
            script,
            args,
            timeout,
        });
    }

    fn script_refused(&mut self, run: u64, detail: String) {
        self.report(Input::ScriptResult {
            run,
            outcome: ScriptOutcome {
                exit_code: None,
                timed_out: false,
                duration: Span::ZERO,
                output_tail: detail,
            },
        });
    }

    pub(super) fn on_script_output(&mut self, run: u64, line: String) {
        let Some(r) = self.runs.get_mut(&run) else { return };
        r.tail.clone_from(&line);
        self.act(AgentAction::ScriptLine { run, line });
    }

    pub(super) fn on_script_finished(&mut self, run: u64, exit_code: Option<i32>) {
        let Some(r) = self.runs.remove(&run) else { return };
        self.timers.cancel(AgentTimer::Script(run));
        self.report(Input::ScriptResult {
            run,
            outcome: ScriptOutcome {
                exit_code,
                timed_out: false,
                duration: self.now.since(r.started),
                output_tail: r.tail,
            },
        });
    }

    pub(super) fn on_script_timer(&mut self, run: u64) {
        let Some(r) = self.runs.remove(&run) else { return };
        self.act(AgentAction::KillScript { run });
        self.report(Input::ScriptResult {
            run,
            outcome: ScriptOutcome {
                exit_code: None,
                timed_out: true,
                duration: self.now.since(r.started),
                output_tail: r.tail,
            },
        });
    }
}
