//! What the agent does for the host as a whole: NIC link states and VIPs as observed
//! (reported when they change), VIP control on the controller's order (the result, the
//! observed binding, and a gratuitous ARP after an address is added), and allow-listed
//! script runs with their timeout.

use super::*;
use crate::engine::ScriptOutcome;

impl AgentCore {
    /// Whether `pair`'s VIP is bound here, as last observed.
    pub fn vip_bound(&self, pair: PairIx) -> bool {
        self.vips.iter().any(|(p, b)| *p == pair && *b)
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
        let Some(k) = self.vips.iter().position(|(p, _)| *p == pair) else {
            return;
        };
        if self.vips[k].1 != bound {
            self.vips[k].1 = bound;
            self.report(Input::VipState {
                host: self.host,
                pair,
                bound,
            });
        }
    }

    pub(super) fn order_vip(&mut self, pair: PairIx, enable: bool) {
        if !self.vips.iter().any(|(p, _)| *p == pair) {
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
        let Some(k) = self.vips.iter().position(|(p, _)| *p == pair) else {
            return;
        };
        let ok = result.is_ok();
        if ok {
            self.vips[k].1 = enable;
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
        let bound = self.vips[k].1;
        self.report(Input::VipState {
            host: self.host,
            pair,
            bound,
        });
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
