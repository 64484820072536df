//! How the simulated hosts answer their agents: processes start after a second or two,
//! exit on signals (a hung one ignores SIGTERM and takes long to die), leave probes
//! unanswered when hung or answer unavailable under a fault, run mode hooks (or hang in
//! them), reach the verdict of a backup's start-up checks, bind VIPs and run scripts after
//! realistic delays; traffic follows the VIP to whichever host announced it last. Every
//! answer goes back to the host's agent core, which decides what to do with it.

use super::world::{Answer, Proc};
use super::*;
use crate::agent::{AgentInput, ExitStatus, ProbeOutcome, Signal};
use crate::engine::{Mode, PairIx, ScriptIx, VipControl};

const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

impl Drill {
    // ------------------------------------------------------------ processes

    pub(crate) fn sim_spawn(&mut self, app: AppIx) {
        let host = self.topo.app_host(app);
        let a = &self.world.apps[app.ix()];
        if !self.world.hosts[host.ix()].up || a.proc != Proc::Dead {
            return; // never a second copy
        }
        if self.fault_active(|f| *f == Fault::StopApp(app)) {
            // Something keeps it from starting: it starts once the fault heals.
            self.world.apps[app.ix()].spawn_pending = true;
            return;
        }
        self.start_process(app, false);
    }

    /// The process starts; it is up after a second or two.
    pub(crate) fn start_process(&mut self, app: AppIx, found: bool) {
        let a = &mut self.world.apps[app.ix()];
        a.spawn_pending = false;
        a.epoch += 1;
        a.proc = Proc::Starting;
        a.mode = Mode::None;
        a.not_initialised = false;
        let epoch = a.epoch;
        self.touch_app(app);
        let delay = Span(self.rng.range(1000, 3000));
        self.push(self.now + delay, Ev::Started { app, epoch, found });
    }

    pub(crate) fn app_started(&mut self, app: AppIx, epoch: u32, found: bool) {
        let host = self.topo.app_host(app);
        let a = &mut self.world.apps[app.ix()];
        if a.epoch != epoch || a.proc != Proc::Starting || !self.world.hosts[host.ix()].up {
            return;
        }
        a.proc = Proc::Running;
        a.mode = Mode::None;
        a.answer = Answer::Ok;
        self.touch_app(app);
        // What its first probe will see, before the agent reports it up.
        self.refresh_answer(app);
        let input = if found {
            // A process that restarted by itself comes up with no mode.
            AgentInput::ProcessFound { app, mode: Mode::None }
        } else {
            AgentInput::Spawned { app }
        };
        self.feed(host, input);
    }

    /// The application restarts itself (its components failed to initialise).
    pub(crate) fn app_self_restart(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        if a.epoch == epoch && a.proc == Proc::Dead && self.world.hosts[self.topo.app_host(app).ix()].up {
            self.start_process(app, true);
        }
    }

    /// The process dies; its agent sees the exit at once.
    pub(crate) fn exit(&mut self, app: AppIx, signal: i32) {
        let a = &mut self.world.apps[app.ix()];
        if a.proc == Proc::Dead {
            return;
        }
        a.proc = Proc::Dead;
        a.mode = Mode::None;
        a.epoch += 1;
        self.touch_app(app);
        let host = self.topo.app_host(app);
        self.feed(
            host,
            AgentInput::Exited {
                app,
                status: ExitStatus::Signal(signal),
            },
        );
    }

    /// A signal from the agent: SIGTERM stops a healthy process within a few hundred ms
    /// and is ignored by a hung one; SIGKILL ends any (a hung one takes half a second).
    pub(crate) fn sim_signal(&mut self, app: AppIx, signal: Signal) {
        let a = &mut self.world.apps[app.ix()];
        let number = match signal {
            Signal::Term => SIGTERM,
            Signal::Kill => SIGKILL,
        };
        if std::mem::take(&mut a.spawn_pending) {
            // Never started: the agent's spawn ends with the signal.
            let host = self.topo.app_host(app);
            let status = ExitStatus::Signal(number);
            self.feed(host, AgentInput::Exited { app, status });
            return;
        }
        let epoch = a.epoch;
        let delay = match (a.proc, signal) {
            (Proc::Dead, _) | (Proc::Hung, Signal::Term) => return,
            (Proc::Hung, Signal::Kill) => Span::ms(500),
            (_, Signal::Kill) => Span(self.rng.range(5, 20)),
            (_, Signal::Term) => Span(self.rng.range(50, 300)),
        };
        self.push(
            self.now + delay,
            Ev::Stopped {
                app,
                epoch,
                signal: number,
            },
        );
    }

    pub(crate) fn app_stopped(&mut self, app: AppIx, epoch: u32, signal: i32) {
        if self.world.apps[app.ix()].epoch == epoch {
            self.exit(app, signal);
        }
    }

    /// The process stops answering: each probe its agent makes goes unanswered.
    pub(crate) fn hang(&mut self, app: AppIx) {
        let a = &mut self.world.apps[app.ix()];
        if a.proc != Proc::Running {
            return;
        }
        a.proc = Proc::Hung;
        let epoch = a.epoch;
        self.touch_app(app);
        if let Some(p) = self.topo.app(app).probe.clone() {
            for k in 1..=u64::from(p.failures.max(1)) {
                let at = self.now + p.interval.times(k) + p.timeout;
                self.push(at, Ev::ProbeNoAnswer { app, epoch });
            }
        }
    }

    pub(crate) fn probe_no_answer(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        if a.epoch == epoch && a.proc == Proc::Hung && a.probing {
            let outcome = ProbeOutcome::NoAnswer;
            self.feed(self.topo.app_host(app), AgentInput::Probe { app, outcome });
        }
    }

    /// What a probe of the application sees now, fed to its agent when that changes.
    pub(crate) fn refresh_answer(&mut self, app: AppIx) {
        if self.world.apps[app.ix()].proc != Proc::Running {
            return; // a hung or dead process answers nothing
        }
        let answer = if self.fault_active(|f| *f == Fault::Unavailable(app)) {
            Answer::Unavailable("injected fault".into())
        } else if self.world.apps[app.ix()].mode == Mode::Primary
            && self.world.apps[app.ix()].not_initialised
            && self.fault_active(|f| *f == Fault::NotReady(app))
        {
            // Forced to primary after its components were found not initialised: not ready.
            Answer::Unavailable(format!(
                "backup start-up check: components not initialised within {}",
                self.topo.app(app).backup_check.init_timeout
            ))
        } else {
            Answer::Ok
        };
        if self.world.apps[app.ix()].answer == answer {
            return;
        }
        self.world.apps[app.ix()].answer = answer.clone();
        let outcome = match answer {
            Answer::Ok => ProbeOutcome::Ok,
            Answer::Unavailable(d) => ProbeOutcome::Unavailable(d),
        };
        self.feed(self.topo.app_host(app), AgentInput::Probe { app, outcome });
    }

    // ------------------------------------------------------------ modes

    pub(crate) fn sim_hook(&mut self, app: AppIx, mode: Mode) {
        let a = &self.world.apps[app.ix()];
        if a.proc != Proc::Running || a.hook_hung {
            return; // a hung process or hook never answers
        }
        let epoch = a.epoch;
        let delay = Span(self.rng.range(40, 160));
        self.push(self.now + delay, Ev::HookDone { app, epoch, mode });
    }

    pub(crate) fn hook_done(&mut self, app: AppIx, epoch: u32, mode: Mode) {
        let a = &mut self.world.apps[app.ix()];
        if a.epoch != epoch || a.proc != Proc::Running {
            return;
        }
        a.mode = mode;
        self.touch_app(app);
        if mode == Mode::Primary && self.topo.app(app).announces_primary {
            let at = self.now + Span(self.rng.range(60, 200));
            self.push(at, Ev::Announce { app, epoch });
        }
        self.refresh_answer(app);
        let result = Ok(());
        self.feed(self.topo.app_host(app), AgentInput::HookDone { app, mode, result });
    }

    pub(crate) fn app_announce(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        if a.epoch == epoch && a.proc == Proc::Running && a.mode == Mode::Primary {
            self.feed(self.topo.app_host(app), AgentInput::Announced { app });
        }
    }

    /// W6: the checks take a moment, or the whole init-timeout when the components never
    /// initialise.
    pub(crate) fn sim_startup_check(&mut self, app: AppIx) {
        let check = &self.topo.app(app).backup_check;
        let wait = if self.fault_active(|f| *f == Fault::NotReady(app)) {
            check.init_timeout
        } else {
            Span::ms(300)
        };
        let epoch = self.world.apps[app.ix()].epoch;
        self.push(self.now + wait, Ev::BackupCheck { app, epoch });
    }

    /// The verdict of a backup's start-up checks: its components initialised and it can
    /// open its service port.
    pub(crate) fn backup_check(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        if a.epoch != epoch || a.proc != Proc::Running || a.mode != Mode::Backup {
            return;
        }
        let cfg = self.topo.app(app);
        let host = cfg.host;
        let not_ready = self.fault_active(|f| *f == Fault::NotReady(app));
        self.world.apps[app.ix()].not_initialised = not_ready;
        let result = if not_ready {
            Err(format!(
                "backup start-up check: components not initialised within {}",
                cfg.backup_check.init_timeout
            ))
        } else if let Some(t) = cfg.traffic.as_ref().filter(|_| cfg.backup_check.port_check)
            && !self.world.hosts[host.ix()].nics[t.nic]
        {
            Err(format!(
                "backup start-up check: cannot open the service port (NIC {} down)",
                self.topo.host(host).nics[t.nic]
            ))
        } else {
            Ok(())
        };
        self.feed(host, AgentInput::StartupCheck { app, result });
    }

    /// A backup whose checks may pass now looks again in a moment.
    pub(crate) fn recheck_backup(&mut self, app: AppIx) {
        let a = &self.world.apps[app.ix()];
        if a.mode == Mode::Backup && a.proc == Proc::Running && self.topo.app(app).backup_check.enabled {
            let epoch = a.epoch;
            self.push(self.now + Span::ms(300), Ev::BackupCheck { app, epoch });
        }
    }

    // ------------------------------------------------------------ VIPs and traffic

    /// VIP control: the address is bound (and announced) or removed at once, as `ip addr`
    /// and arping do; the agent learns the result after the control's delay.
    pub(crate) fn sim_vip(&mut self, host: HostIx, pair: PairIx, enable: bool) {
        let Some(vip) = self.topo.pair(pair).vip.clone() else {
            return;
        };
        let nic = self.topo.host(host).nic(&vip.nic).unwrap_or(0);
        let result = match (enable, self.world.hosts[host.ix()].nics[nic]) {
            (true, true) => {
                self.world.hosts[host.ix()].vips.insert(pair);
                self.world.announce(pair, host, self.now);
                Ok(())
            }
            (true, false) => Err(format!("NIC {} is down", vip.nic)),
            (false, true) => {
                self.world.hosts[host.ix()].vips.remove(&pair);
                Ok(())
            }
            (false, false) => Err(format!("NIC {} is down: the address stays bound", vip.nic)),
        };
        self.touch_pair(pair);
        self.update_traffic(pair);
        self.arp_changed(pair);
        let delay = match vip.control {
            VipControl::Builtin => Span(self.rng.range(15, 60)),
            VipControl::Script(_) => Span(self.rng.range(300, 900)),
        };
        let incarnation = self.world.incarnation[host.ix()];
        self.push(
            self.now + delay,
            Ev::VipDone {
                host,
                incarnation,
                pair,
                enable,
                result,
            },
        );
    }

    /// Who holds the pair's VIP may have changed: the agents that hold it see another
    /// holder answer ARP (or stop answering) at their next probe, within a second.
    pub(crate) fn arp_changed(&mut self, pair: PairIx) {
        if self.topo.pair(pair).vip.is_none() || std::mem::replace(&mut self.arp_due[pair.ix()], true) {
            return;
        }
        self.push(self.now + crate::engine::ARP_PROBE_PERIOD, Ev::ArpProbe { pair });
    }

    /// Each host that holds the pair's VIP on an up NIC asks who else has it; another
    /// holder answers when its NIC is up too (a powered-off host holds nothing).
    pub(crate) fn arp_probe(&mut self, pair: PairIx) {
        self.arp_due[pair.ix()] = false;
        let Some(vip) = self.topo.pair(pair).vip.clone() else {
            return;
        };
        let answering: Vec<HostIx> = self
            .topo
            .pair(pair)
            .apps
            .iter()
            .map(|a| self.topo.app_host(*a))
            .filter(|h| {
                let sh = &self.world.hosts[h.ix()];
                sh.up && sh.vips.contains(&pair) && self.topo.host(*h).nic(&vip.nic).is_some_and(|n| sh.nics[n])
            })
            .collect();
        for &h in &answering {
            let by = answering.iter().find(|o| **o != h).map(|o| sim_mac(*o));
            self.feed(h, AgentInput::VipElsewhere { pair, by });
        }
    }

    pub(crate) fn vip_done(
        &mut self,
        host: HostIx,
        incarnation: u32,
        pair: PairIx,
        enable: bool,
        result: Result<(), String>,
    ) {
        if incarnation == self.world.incarnation[host.ix()] {
            self.feed(host, AgentInput::VipApplied { pair, enable, result });
        }
    }

    /// Tells the agents of the pair's instances whether its traffic reaches them now.
    pub(crate) fn update_traffic(&mut self, p: PairIx) {
        let target = self.world.traffic_host(&self.topo, p);
        for app in self.topo.pair(p).apps {
            if self.topo.app(app).traffic.is_none() {
                continue;
            }
            let host = self.topo.app_host(app);
            let flowing = target == Some(host);
            if self.world.apps[app.ix()].flowing != flowing {
                self.world.apps[app.ix()].flowing = flowing;
                self.feed(host, AgentInput::Traffic { app, flowing });
            }
        }
    }

    pub(crate) fn update_host_traffic(&mut self, h: HostIx) {
        for p in self.topo.pair_ixs() {
            if self.topo.pair(p).apps.iter().any(|a| self.topo.app_host(*a) == h) {
                self.update_traffic(p);
            }
        }
    }

    // ------------------------------------------------------------ scripts

    pub(crate) fn sim_script(&mut self, host: HostIx, run: u64, script: ScriptIx, args: Vec<String>) {
        let s = self.topo.script(script).clone();
        let site = self.topo.host(host).site;
        let duration = Span(self.rng.range(300, 2500));
        let fails = self.script_failure > 0.0 && self.rng.chance(self.script_failure);
        let code = if fails { 1 } else { 0 };
        let started = self.now;
        let mut lines = vec![(started, format!("$ {} {}", s.command, args.join(" ")))];
        let steps = self.rng.range(2, 4);
        for i in 1..=steps {
            let t = started + Span(duration.as_ms() * i / (steps + 1));
            lines.push((t, format!("[{}] step {i}/{steps} on {}", s.id, self.topo.host(host).id)));
        }
        let last = if fails {
            format!("[{}] error: step failed", s.id)
        } else {
            format!("[{}] done", s.id)
        };
        lines.push((started + duration, last.clone()));
        self.scripts.push(ScriptRun {
            run,
            site,
            script: s.id.clone(),
            host: self.topo.host(host).id.clone(),
            started,
            lines,
            done: Some((Some(code), started + duration)),
        });
        let incarnation = self.world.incarnation[host.ix()];
        self.push(
            started + duration,
            Ev::ScriptDone {
                host,
                incarnation,
                run,
                exit_code: code,
                last,
            },
        );
    }

    pub(crate) fn script_done(&mut self, host: HostIx, incarnation: u32, run: u64, exit_code: i32, last: String) {
        if incarnation != self.world.incarnation[host.ix()] {
            return; // the host went down meanwhile: the run died with it
        }
        self.feed(host, AgentInput::ScriptOutput { run, line: last });
        let exit_code = Some(exit_code);
        self.feed(host, AgentInput::ScriptFinished { run, exit_code });
    }

    /// The agent killed a run that took too long: its record ends now.
    pub(crate) fn sim_kill_script(&mut self, run: u64) {
        let now = self.now;
        if let Some(r) = self.scripts.iter_mut().rev().find(|r| r.run == run) {
            r.lines.retain(|(t, _)| *t <= now);
            r.done = Some((None, now));
        }
    }
}

/// The hardware address a simulated host answers ARP with.
fn sim_mac(h: HostIx) -> String {
    let [hi, lo] = (h.ix() as u16).to_be_bytes();
    format!("02:00:00:00:{hi:02x}:{lo:02x}")
}
