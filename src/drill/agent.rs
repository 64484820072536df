//! Simulated agents and processes: how hosts carry out the controllers' commands (mode
//! changes, VIP control, scripts, resyncs), how processes start, crash, hang and get
//! restarted, how primaries notice missing traffic, how backups run their start-up checks,
//! and what each fault does to the world.

use super::world::Proc;
use super::*;
use crate::engine::{AppReport, Mode, PairIx, ScriptOutcome, VipControl};

/// How long an agent waits after SIGTERM before it sends SIGKILL.
const STOP_GRACE: Span = Span(2_000);

impl Drill {
    fn site_of_host(&self, h: HostIx) -> SiteIx {
        self.topo.host(h).site
    }

    /// An agent's report to its controller, after a small delay.
    fn agent_report(&mut self, host: HostIx, input: Input) {
        let delay = Span(self.rng.range(3, 15));
        let site = self.site_of_host(host);
        self.send_to_controller(site, Some(host), input, delay);
    }

    fn report_app(&mut self, app: AppIx) {
        let host = self.topo.app_host(app);
        let a = &self.world.apps[app.ix()];
        let report = match a.proc {
            Proc::Dead => AppReport::Exited { code: 137 },
            Proc::Starting => return,
            Proc::Hung => return,
            Proc::Running if a.checking => AppReport::Starting,
            Proc::Running => match self.su_reason(app) {
                Some(detail) => AppReport::ServiceUnavailable { detail },
                None => AppReport::Running,
            },
        };
        self.world.apps[app.ix()].reported_su = matches!(report, AppReport::ServiceUnavailable { .. });
        self.agent_report(host, Input::AppState { app, report });
    }

    fn su_reason(&self, app: AppIx) -> Option<String> {
        if self.fault_active(|f| *f == Fault::Unavailable(app)) {
            return Some("injected fault".into());
        }
        let a = &self.world.apps[app.ix()];
        if a.su_traffic {
            let t = self.topo.app(app).traffic.as_ref().map_or(Span::ZERO, |t| t.timeout);
            return Some(format!("no SIP traffic for {t}"));
        }
        a.su_backup_check.clone()
    }

    /// Re-reports the app's availability when its SERVICE_UNAVAILABLE state changed.
    fn refresh_su(&mut self, app: AppIx) {
        let a = &self.world.apps[app.ix()];
        if a.proc == Proc::Running && a.reported_su != self.su_reason(app).is_some() {
            self.report_app(app);
        }
    }

    pub(crate) fn agent_command(&mut self, site: SiteIx, cmd: Command) {
        if let Some(h) = cmd.host()
            && !self.world.agent_path(&self.topo, site, h)
        {
            return; // lost on the way; the controller's timers deal with it
        }
        match cmd {
            Command::SetMode { host, app, mode, .. } => self.set_mode(host, app, mode),
            Command::Start { app, .. } => self.order_start(app),
            Command::Stop { app, .. } => self.order_stop(app, false),
            Command::Kill { app, .. } => self.order_stop(app, true),
            Command::Vip { host, pair, enable, .. } => self.vip_control(host, pair, enable),
            Command::RunScript {
                run,
                host,
                script,
                args,
                ..
            } => self.run_script(site, run, host, script, args),
            Command::Resync { host } => self.resync(host),
            Command::SiteMode { app, single_site, .. } => self.world.apps[app.ix()].single_site = single_site,
            Command::ProbePeer { peer } => {
                let answered = self.world.sites_up[site.ix()]
                    && self.world.site_path(site, peer)
                    && self.engines[peer.ix()].is_some()
                    && !self.lost();
                let delay = if answered {
                    Span(self.rng.range(20, 40))
                } else {
                    Span::secs(2)
                };
                self.send_to_controller(site, None, Input::PeerProbe { answered }, delay);
            }
            Command::Notify { text, .. } => self.note(format!("notification: {text}")),
        }
    }

    fn set_mode(&mut self, host: HostIx, app: AppIx, mode: Mode) {
        let a = &self.world.apps[app.ix()];
        if a.proc != Proc::Running {
            return; // a hung or dead process does not answer
        }
        if self.world.apps[app.ix()].hook_hung {
            return; // the mode hook hangs: the process runs on in its old mode
        }
        let epoch = a.epoch;
        let delay = Span(self.rng.range(40, 160));
        self.world.apps[app.ix()].mode = mode;
        self.send_to_controller(
            self.site_of_host(host),
            Some(host),
            Input::ModeReport { app, mode },
            delay,
        );
        match mode {
            Mode::Primary => {
                // Forcing a backup whose components did not initialise does not make it
                // ready: it runs as primary and keeps reporting SERVICE_UNAVAILABLE.
                if !self.fault_active(|f| *f == Fault::NotReady(app)) {
                    self.world.apps[app.ix()].su_backup_check = None;
                }
                if std::mem::take(&mut self.world.apps[app.ix()].checking) {
                    // Promoted before its backup checks finished: they no longer apply.
                    self.send_to_controller(
                        self.site_of_host(host),
                        Some(host),
                        Input::AppState {
                            app,
                            report: match self.su_reason(app) {
                                Some(detail) => AppReport::ServiceUnavailable { detail },
                                None => AppReport::Running,
                            },
                        },
                        delay,
                    );
                }
                if self.topo.app(app).announces_primary {
                    let at = self.now + delay + Span(self.rng.range(60, 200));
                    self.push(at, Ev::Announce { app, epoch });
                }
            }
            Mode::Backup => {
                self.world.apps[app.ix()].su_traffic = false;
                let check = &self.topo.app(app).backup_check;
                let enabled = check.enabled;
                let wait = if enabled && self.fault_active(|f| *f == Fault::NotReady(app)) {
                    check.init_timeout
                } else {
                    Span::ms(300)
                };
                if enabled {
                    // Not ready until the start-up checks pass: say so at once.
                    self.world.apps[app.ix()].checking = true;
                    self.send_to_controller(
                        self.site_of_host(host),
                        Some(host),
                        Input::AppState {
                            app,
                            report: AppReport::Starting,
                        },
                        delay,
                    );
                }
                let at = self.now + delay + wait;
                self.push(at, Ev::BackupCheck { app, epoch });
            }
            Mode::None => {}
        }
        if let Some(p) = self.topo.app(app).pair {
            self.update_traffic(p);
        }
        if mode != Mode::Backup {
            // A new backup reports its availability after its start-up checks.
            self.refresh_su(app);
        }
    }

    pub(crate) fn app_announce(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        if a.epoch == epoch && a.proc == Proc::Running && a.mode == Mode::Primary {
            self.agent_report(self.topo.app_host(app), Input::Announced { app });
        }
    }

    /// W6: a backup checks that its components initialised and that it can open its port.
    pub(crate) fn backup_check(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        if a.epoch != epoch || a.proc != Proc::Running || a.mode != Mode::Backup {
            return;
        }
        let cfg = self.topo.app(app);
        let host = cfg.host;
        let reason = if !cfg.backup_check.enabled {
            None
        } else if self.fault_active(|f| *f == Fault::NotReady(app)) {
            Some(format!(
                "backup start-up check: components not initialised within {}",
                cfg.backup_check.init_timeout
            ))
        } else if let Some(t) = cfg.traffic.as_ref().filter(|_| cfg.backup_check.port_check)
            && !self.world.hosts[host.ix()].nics[t.nic]
        {
            Some(format!(
                "backup start-up check: cannot open the service port (NIC {} down)",
                self.topo.host(host).nics[t.nic]
            ))
        } else {
            None
        };
        let a = &mut self.world.apps[app.ix()];
        a.su_backup_check = reason;
        if std::mem::take(&mut a.checking) {
            self.report_app(app); // the verdict of the start-up checks, either way
        } else {
            self.refresh_su(app);
        }
    }

    fn vip_control(&mut self, host: HostIx, pair: PairIx, enable: bool) {
        let Some(vip) = self.topo.pair(pair).vip.clone() else {
            return;
        };
        let nic = self.topo.host(host).nic(&vip.nic).unwrap_or(0);
        let nic_up = self.world.hosts[host.ix()].nics[nic];
        let (ok, detail) = match (enable, nic_up) {
            (true, true) => {
                self.world.hosts[host.ix()].vips.insert(pair);
                self.world.announce(pair, host, self.now);
                (true, String::new())
            }
            (true, false) => (false, format!("NIC {} is down", vip.nic)),
            (false, true) => {
                self.world.hosts[host.ix()].vips.remove(&pair);
                (true, String::new())
            }
            (false, false) => (false, format!("NIC {} is down: the address stays bound", vip.nic)),
        };
        let delay = match vip.control {
            VipControl::Builtin => Span(self.rng.range(15, 60)),
            VipControl::Script(_) => Span(self.rng.range(300, 900)),
        };
        let site = self.site_of_host(host);
        self.send_to_controller(
            site,
            Some(host),
            Input::VipResult {
                host,
                pair,
                enable,
                ok,
                detail,
            },
            delay,
        );
        let bound = self.world.hosts[host.ix()].vips.contains(&pair);
        self.send_to_controller(site, Some(host), Input::VipState { host, pair, bound }, delay);
        self.update_traffic(pair);
    }

    fn run_script(&mut self, site: SiteIx, run: u64, host: HostIx, script: engine::ScriptIx, args: Vec<String>) {
        let s = self.topo.script(script).clone();
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
        let outcome = ScriptOutcome {
            exit_code: Some(code),
            timed_out: false,
            duration,
            output_tail: last,
        };
        self.push(
            self.now + duration,
            Ev::ScriptDone {
                site,
                host,
                run,
                outcome,
            },
        );
    }

    /// A (re)connected agent reports everything it knows.
    fn resync(&mut self, host: HostIx) {
        let apps = self.topo.host(host).apps.clone();
        for app in &apps {
            self.report_app(*app);
            let a = &self.world.apps[app.ix()];
            if a.proc == Proc::Running {
                let mode = a.mode;
                self.agent_report(host, Input::ModeReport { app: *app, mode });
                if mode == Mode::Primary && self.topo.app(*app).announces_primary {
                    self.agent_report(host, Input::Announced { app: *app });
                }
            }
        }
        let delay = Span(self.rng.range(3, 15));
        self.report_host_state(host, delay);
    }

    /// An agent reports its NICs and the VIPs of its pairs as they are.
    pub(crate) fn report_host_state(&mut self, host: HostIx, delay: Span) {
        let site = self.site_of_host(host);
        for (nic, up) in self.world.hosts[host.ix()].nics.clone().into_iter().enumerate() {
            self.send_to_controller(site, Some(host), Input::NicState { host, nic, up }, delay);
        }
        for pair in self.topo.vip_pairs_on_host(host) {
            let bound = self.world.hosts[host.ix()].vips.contains(&pair);
            self.send_to_controller(site, Some(host), Input::VipState { host, pair, bound }, delay);
        }
    }

    // ------------------------------------------------------------ processes

    pub(crate) fn app_started(&mut self, app: AppIx, epoch: u32) {
        let a = &mut self.world.apps[app.ix()];
        if a.epoch != epoch || a.proc != Proc::Starting {
            return;
        }
        if !self.world.hosts[self.topo.app_host(app).ix()].up {
            return;
        }
        a.proc = Proc::Running;
        a.mode = Mode::None;
        a.checking = false;
        a.su_traffic = false;
        a.su_backup_check = None;
        a.no_traffic_since = None;
        self.agent_report(self.topo.app_host(app), Input::ModeReport { app, mode: Mode::None });
        self.report_app(app);
    }

    /// The process dies: its agent notices at once and restarts it later (unless stopped).
    fn crash(&mut self, app: AppIx) {
        let a = &mut self.world.apps[app.ix()];
        if matches!(a.proc, Proc::Dead) {
            return;
        }
        a.proc = Proc::Dead;
        a.mode = Mode::None;
        a.checking = false;
        a.epoch += 1;
        let epoch = a.epoch;
        self.report_app(app);
        if let Some(p) = self.topo.app(app).pair {
            self.update_traffic(p);
        }
        let delay = self.topo.app(app).restart_delay;
        self.push(self.now + delay, Ev::Restart { app, epoch });
    }

    /// The controller orders the process stopped: SIGTERM (a hung process ignores it and
    /// is killed after the agent's grace), or SIGKILL at once. It stays down until started.
    fn order_stop(&mut self, app: AppIx, kill: bool) {
        let a = &mut self.world.apps[app.ix()];
        a.held = true;
        if a.proc == Proc::Dead {
            self.report_app(app);
            return;
        }
        let epoch = a.epoch;
        let delay = match (kill, a.proc) {
            (true, _) => Span(self.rng.range(5, 20)),
            (false, Proc::Hung) => STOP_GRACE,
            (false, _) => Span(self.rng.range(50, 300)),
        };
        self.push(self.now + delay, Ev::Stopped { app, epoch });
    }

    pub(crate) fn app_stopped(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        if a.epoch == epoch && a.proc != Proc::Dead {
            self.crash(app);
        }
    }

    /// The controller orders a stopped process started again.
    fn order_start(&mut self, app: AppIx) {
        let a = &mut self.world.apps[app.ix()];
        a.held = false;
        let host = self.topo.app_host(app);
        if a.proc == Proc::Dead && self.world.hosts[host.ix()].up && !self.fault_active(|f| *f == Fault::StopApp(app)) {
            self.start_process(app);
        }
    }

    pub(crate) fn app_restart(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        let host = self.topo.app_host(app);
        if a.epoch != epoch || a.proc != Proc::Dead || !self.world.hosts[host.ix()].up || a.held {
            return;
        }
        if self.fault_active(|f| *f == Fault::StopApp(app)) {
            return;
        }
        self.start_process(app);
    }

    fn start_process(&mut self, app: AppIx) {
        let a = &mut self.world.apps[app.ix()];
        a.epoch += 1;
        a.proc = Proc::Starting;
        a.mode = Mode::None;
        let epoch = a.epoch;
        let delay = Span(self.rng.range(1000, 3000));
        self.push(self.now + delay, Ev::Started { app, epoch });
    }

    pub(crate) fn app_probe_failed(&mut self, app: AppIx, epoch: u32) {
        let a = &self.world.apps[app.ix()];
        if a.epoch != epoch || a.proc != Proc::Hung {
            return;
        }
        let failures = self.topo.app(app).probe.as_ref().map_or(3, |p| p.failures);
        let host = self.topo.app_host(app);
        let detail = format!("no answer to {failures} probes in a row");
        self.agent_report(
            host,
            Input::AppState {
                app,
                report: AppReport::ProbeFailed { detail },
            },
        );
        // The agent then kills the hung process; its supervision restarts it.
        self.push(self.now + Span::ms(500), Ev::Killed { app, epoch });
    }

    pub(crate) fn app_killed(&mut self, app: AppIx, epoch: u32) {
        if self.world.apps[app.ix()].epoch == epoch && self.world.apps[app.ix()].proc == Proc::Hung {
            self.crash(app);
        }
    }

    // ------------------------------------------------------------ traffic

    /// Restarts or stops the no-traffic watch of the pair's primaries.
    pub(crate) fn update_traffic(&mut self, p: PairIx) {
        let target = self.world.traffic_host(&self.topo, p);
        for app in self.topo.pair(p).apps {
            let Some(t) = self.topo.app(app).traffic.clone() else {
                continue;
            };
            let receiving = target == Some(self.topo.app_host(app));
            let a = &mut self.world.apps[app.ix()];
            if a.proc != Proc::Running || a.mode != Mode::Primary {
                a.no_traffic_since = None;
                continue;
            }
            if receiving {
                a.no_traffic_since = None;
                if a.su_traffic {
                    a.su_traffic = false;
                    self.refresh_su(app);
                }
            } else if a.no_traffic_since.is_none() {
                a.no_traffic_since = Some(self.now);
                a.traffic_epoch += 1;
                let tepoch = a.traffic_epoch;
                self.push(self.now + t.timeout, Ev::TrafficCheck { app, tepoch });
            }
        }
    }

    pub(crate) fn traffic_check(&mut self, app: AppIx, tepoch: u32) {
        let a = &mut self.world.apps[app.ix()];
        if a.traffic_epoch != tepoch
            || a.no_traffic_since.is_none()
            || a.proc != Proc::Running
            || a.mode != Mode::Primary
        {
            return;
        }
        a.su_traffic = true;
        self.refresh_su(app);
    }

    // ------------------------------------------------------------ faults

    pub(crate) fn apply_fault(&mut self, fault: &Fault, on: bool) {
        match (fault, on) {
            (Fault::KillApp(a), true) => self.crash(*a),
            (Fault::KillApp(_), false) => {}
            (Fault::StopApp(a), true) => self.crash(*a),
            (Fault::StopApp(a), false) => {
                if self.world.apps[a.ix()].proc == Proc::Dead && self.world.hosts[self.topo.app_host(*a).ix()].up {
                    self.start_process(*a);
                }
            }
            (Fault::HangApp(a), true) => {
                let app = &mut self.world.apps[a.ix()];
                if app.proc == Proc::Running {
                    app.proc = Proc::Hung;
                    let epoch = app.epoch;
                    let detect = self
                        .topo
                        .app(*a)
                        .probe
                        .as_ref()
                        .map_or(Span::secs(15), |p| p.detection_time());
                    self.push(self.now + detect, Ev::ProbeFailed { app: *a, epoch });
                    if let Some(p) = self.topo.app(*a).pair {
                        self.update_traffic(p);
                    }
                }
            }
            (Fault::HangApp(_), false) => {}
            (Fault::Unavailable(a), _) => self.refresh_su(*a),
            (Fault::NotReady(a), true) => {
                // The application restarts and its start-up checks will fail.
                let app = &mut self.world.apps[a.ix()];
                if app.proc == Proc::Running {
                    self.crash(*a);
                    let epoch = self.world.apps[a.ix()].epoch;
                    self.push(self.now + Span::ms(200), Ev::Restart { app: *a, epoch });
                }
            }
            (Fault::NotReady(a), false) => {
                let app = &mut self.world.apps[a.ix()];
                if app.mode == Mode::Primary && app.proc == Proc::Running {
                    // Forced to primary while not ready: its components now initialise.
                    app.su_backup_check = None;
                    self.refresh_su(*a);
                } else if app.mode == Mode::Backup {
                    let epoch = app.epoch;
                    self.push(self.now + Span::ms(300), Ev::BackupCheck { app: *a, epoch });
                }
            }
            (Fault::Disconnect(h), _) => self.world.hosts[h.ix()].disconnected = on,
            (Fault::HostDown(h), true) => self.host_power(*h, false),
            (Fault::HostDown(h), false) => self.host_power(*h, true),
            (Fault::NicDown(h, n), _) => {
                self.world.hosts[h.ix()].nics[*n] = !on;
                if !on {
                    // A NIC that comes up announces the addresses bound on it (this is
                    // what makes traffic find a stale VIP).
                    let vips: Vec<PairIx> = self.world.hosts[h.ix()].vips.iter().copied().collect();
                    for p in vips {
                        self.world.announce(p, *h, self.now);
                    }
                }
                self.agent_report(
                    *h,
                    Input::NicState {
                        host: *h,
                        nic: *n,
                        up: !on,
                    },
                );
                for p in self.topo.pair_ixs() {
                    if self.topo.pair(p).apps.iter().any(|a| self.topo.app_host(*a) == *h) {
                        self.update_traffic(p);
                    }
                }
                if !on {
                    for app in self.topo.host(*h).apps.clone() {
                        let a = &self.world.apps[app.ix()];
                        if a.mode == Mode::Backup && a.proc == Proc::Running {
                            let epoch = a.epoch;
                            self.push(self.now + Span::ms(300), Ev::BackupCheck { app, epoch });
                        }
                    }
                }
            }
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
                self.update_all_traffic();
            }
            (Fault::Partition, _) => self.world.partitioned = on,
            (Fault::HookHang(a), _) => {
                let app = &mut self.world.apps[a.ix()];
                app.hook_hung = on;
                if !on {
                    app.hook_grace_until = self.now + self.topo.controller.mode_timeout;
                }
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

    fn update_all_traffic(&mut self) {
        for p in self.topo.pair_ixs() {
            self.update_traffic(p);
        }
    }

    fn host_power(&mut self, h: HostIx, up: bool) {
        self.world.hosts[h.ix()].up = up;
        if !up {
            self.world.hosts[h.ix()].vips.clear();
            for app in self.topo.host(h).apps.clone() {
                let a = &mut self.world.apps[app.ix()];
                a.proc = Proc::Dead;
                a.mode = Mode::None;
                a.checking = false;
                a.epoch += 1;
            }
        } else {
            for app in self.topo.host(h).apps.clone() {
                // A rebooted host's agent starts every application it supervises.
                self.world.apps[app.ix()].held = false;
                if !self.fault_active(|f| *f == Fault::StopApp(app)) {
                    self.start_process(app);
                }
            }
            self.report_host_state(h, Span::ms(5));
        }
        for p in self.topo.pair_ixs() {
            if self.topo.pair(p).apps.iter().any(|a| self.topo.app_host(*a) == h) {
                self.update_traffic(p);
            }
        }
    }
}
