//! What each fault does to the simulated world when injected and when healed: processes
//! crash, hang or are kept down, applications answer unavailable, hooks hang, links and
//! NICs fail, hosts, sites and controllers go down and come back. The agents see the
//! consequences only through what their hosts observe.

use super::world::{Answer, Proc};
use super::*;
use crate::agent::AgentInput;
use crate::engine::{Mode, PairIx};

/// The signal number of SIGKILL: how a crashed process shows.
const CRASH_SIGNAL: i32 = 9;

impl Drill {
    pub(crate) fn apply_fault(&mut self, fault: &Fault, on: bool) {
        match (fault, on) {
            (Fault::KillApp(a), true) | (Fault::StopApp(a), true) => self.exit(*a, CRASH_SIGNAL),
            (Fault::KillApp(_), false) => {}
            (Fault::StopApp(a), false) => {
                let host = self.topo.app_host(*a);
                if self.world.apps[a.ix()].spawn_pending && self.world.hosts[host.ix()].up {
                    self.start_process(*a, false);
                }
            }
            (Fault::HangApp(a), true) => self.hang(*a),
            (Fault::HangApp(_), false) => {}
            (Fault::Unavailable(a), _) => self.refresh_answer(*a),
            (Fault::NotReady(a), true) => {
                // The application restarts by itself and its start-up checks will fail.
                if self.world.apps[a.ix()].proc == Proc::Running {
                    self.exit(*a, CRASH_SIGNAL);
                    let epoch = self.world.apps[a.ix()].epoch;
                    self.push(self.now + Span::ms(200), Ev::SelfRestart { app: *a, epoch });
                }
            }
            (Fault::NotReady(a), false) => {
                // Its components initialise now: as a primary it answers available again,
                // as a backup its checks pass.
                self.refresh_answer(*a);
                self.recheck_backup(*a);
            }
            (Fault::Disconnect(h), _) => self.world.hosts[h.ix()].disconnected = on,
            (Fault::HostDown(h), _) => self.host_power(*h, !on),
            (Fault::NicDown(h, n), _) => self.nic_power(*h, *n, !on),
            (Fault::SiteDown(s), _) => {
                self.world.sites_up[s.ix()] = !on;
                for h in self
                    .topo
                    .host_ixs()
                    .filter(|h| self.topo.host(*h).site == *s)
                    .collect::<Vec<_>>()
                {
                    if !self.fault_active(|f| *f == Fault::HostDown(h)) {
                        self.host_power(h, !on);
                    }
                }
                let controller_down =
                    self.fault_active(|f| matches!(f, Fault::ControllerCrash(x) | Fault::ControllerStop(x) if x == s));
                if on {
                    self.controller_power(*s, false);
                } else if !controller_down {
                    self.controller_power(*s, true);
                }
                for p in self.topo.pair_ixs() {
                    self.update_traffic(p);
                }
            }
            (Fault::Partition, _) => self.world.partitioned = on,
            (Fault::HookHang(a), _) => {
                let app = &mut self.world.apps[a.ix()];
                app.hook_hung = on;
                if !on {
                    app.hook_grace_until = self.now + self.topo.controller.mode_timeout;
                }
                self.touch_app(*a);
            }
            (Fault::FlakyLink(h), _) => self.world.hosts[h.ix()].flaky = on,
            (Fault::ControllerCrash(s), true) => self.controller_power(*s, false),
            (Fault::ControllerStop(s), true) => {
                self.with_engine(*s, |e, now| e.stop(now));
                self.controller_power(*s, false);
            }
            (Fault::ControllerCrash(s) | Fault::ControllerStop(s), false) => {
                if self.world.sites_up[s.ix()] && self.engines[s.ix()].is_none() {
                    self.controller_power(*s, true);
                }
            }
        }
    }

    /// A NIC goes down or comes up; its agent sees it at once. A NIC that comes up
    /// announces the addresses bound on it (this is what makes traffic find a stale VIP),
    /// and the host's backups look at their start-up checks again.
    fn nic_power(&mut self, h: HostIx, nic: usize, up: bool) {
        self.world.hosts[h.ix()].nics[nic] = up;
        if up {
            let vips: Vec<PairIx> = self.world.hosts[h.ix()].vips.iter().copied().collect();
            for p in vips {
                self.world.announce(p, h, self.now);
            }
        }
        self.feed(h, AgentInput::NicObserved { nic, up });
        for p in self.topo.vip_pairs_on_host(h) {
            self.arp_changed(p);
        }
        self.oracle.touch_host(&self.topo, h);
        self.update_host_traffic(h);
        if up {
            for app in self.topo.host(h).apps.clone() {
                self.recheck_backup(app);
            }
        }
    }

    /// Stops a site's controller process, or starts a new one that restores the durable
    /// state its predecessor committed. A daemon commits that state after every step, so
    /// taking it at the instant of the crash is the same as taking the last commit.
    fn controller_power(&mut self, s: SiteIx, up: bool) {
        self.world.controllers_up[s.ix()] = up;
        if up {
            let mut e = Engine::new(self.topo.clone(), s);
            #[cfg(test)]
            {
                e.sabotage = self.sabotage;
            }
            if let Some(state) = &self.journal[s.ix()] {
                e.restore(state);
            }
            self.engines[s.ix()] = Some(e);
            self.with_engine(s, |e, now| e.handle(now, Input::Start));
        } else if let Some(e) = self.engines[s.ix()].take() {
            self.journal[s.ix()] = Some(e.durable());
        }
    }

    /// A host loses power (processes, VIPs and agent gone) or comes back (a new agent
    /// starts every application it supervises).
    fn host_power(&mut self, h: HostIx, up: bool) {
        self.world.hosts[h.ix()].up = up;
        if !up {
            self.world.hosts[h.ix()].vips.clear();
            for app in self.topo.host(h).apps.clone() {
                let a = &mut self.world.apps[app.ix()];
                a.proc = Proc::Dead;
                a.mode = Mode::None;
                a.epoch += 1;
                a.spawn_pending = false;
                a.probing = false;
                a.answer = Answer::Ok;
                a.flowing = false;
            }
            self.agent_gone(h);
            for p in self.topo.vip_pairs_on_host(h) {
                self.arp_changed(p);
            }
        } else {
            self.boot_agent(h);
        }
        self.oracle.touch_host(&self.topo, h);
        for app in self.topo.host(h).apps.clone() {
            self.touch_app(app);
        }
        self.update_host_traffic(h);
    }
}
