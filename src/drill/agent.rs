//! How the drill drives each host's [`AgentCore`]: the controllers' orders and what the
//! simulated world observes go in; the core's actions come out and are carried out by the
//! simulated host ([`super::hosts`]) or, for reports, sent over the agent's link to its
//! controller. Nothing about how an agent behaves is decided here.

use std::collections::{BTreeMap, VecDeque};

use super::*;
use crate::agent::{AgentAction, AgentCore, AgentInput};

/// The agents' deadlines and inbox. Deadlines are kept in buckets by time: every host's
/// heartbeat falls due at the same instants, so a bucket is one map entry per beat.
pub(crate) struct Pump {
    due: BTreeMap<Time, Vec<HostIx>>,
    /// Per host: the deadline it is filed under (entries at other times are stale).
    armed: Vec<Option<Time>>,
    /// Deadlines armed but not filed in `due` yet (filed together: most share a time).
    staged: Vec<(Time, HostIx)>,
    /// An emptied bucket, reused for the next one.
    spare: Vec<HostIx>,
    /// Heartbeats due at a controller now, handed over together once the agents due have run.
    beats: Vec<(SiteIx, HostIx)>,
    /// Inputs waiting for their agent, in the order they happened.
    inbox: VecDeque<(HostIx, AgentInput)>,
    pumping: bool,
    actions: Vec<AgentAction>,
}

impl Pump {
    pub fn new(hosts: usize) -> Pump {
        Pump {
            due: BTreeMap::new(),
            armed: vec![None; hosts],
            staged: Vec::new(),
            spare: Vec::new(),
            beats: Vec::new(),
            inbox: VecDeque::new(),
            pumping: false,
            actions: Vec::new(),
        }
    }

    /// The earliest agent deadline.
    pub fn next(&self) -> Option<Time> {
        self.due.first_key_value().map(|(t, _)| *t)
    }

    fn arm(&mut self, h: HostIx, at: Option<Time>) {
        if self.armed[h.ix()] == at {
            return;
        }
        self.armed[h.ix()] = at;
        if let Some(t) = at {
            self.staged.push((t, h));
        }
    }

    /// Files the staged deadlines, one map lookup per run of equal times.
    fn file(&mut self) {
        let mut staged = std::mem::take(&mut self.staged);
        let mut i = 0;
        while i < staged.len() {
            let t = staged[i].0;
            let spare = &mut self.spare;
            let bucket = self.due.entry(t).or_insert_with(|| std::mem::take(spare));
            while i < staged.len() && staged[i].0 == t {
                bucket.push(staged[i].1);
                i += 1;
            }
        }
        staged.clear();
        self.staged = staged;
    }
}

impl Drill {
    /// A host's agent starts: it learns its NICs, starts its applications and connects.
    pub(crate) fn boot_agent(&mut self, h: HostIx) {
        for (nic, up) in self.world.hosts[h.ix()].nics.clone().into_iter().enumerate() {
            self.feed(h, AgentInput::NicObserved { nic, up });
        }
        self.feed(h, AgentInput::Boot);
        self.feed(h, AgentInput::Connected);
    }

    /// The host's agent dies with its host: the next one starts from nothing.
    pub(crate) fn agent_gone(&mut self, h: HostIx) {
        self.world.agents[h.ix()] = AgentCore::new(self.topo.clone(), h);
        self.world.incarnation[h.ix()] += 1;
        self.agents.arm(h, None);
        self.agents.inbox.retain(|(x, _)| *x != h);
    }

    /// Gives `input` to the agent of `h` (after whatever it was given before).
    pub(crate) fn feed(&mut self, h: HostIx, input: AgentInput) {
        self.agents.inbox.push_back((h, input));
        if !self.agents.pumping {
            self.pump();
        }
    }

    fn pump(&mut self) {
        self.agents.pumping = true;
        while let Some((h, input)) = self.agents.inbox.pop_front() {
            if !self.world.hosts[h.ix()].up {
                continue; // a powered-off host has no agent
            }
            self.touch_input(&input);
            self.world.agents[h.ix()].handle(self.now, input);
            self.agent_ran(h);
        }
        self.agents.file();
        self.agents.pumping = false;
        self.deliver_heartbeats();
    }

    /// Fires the deadlines of every agent due now.
    pub(crate) fn agent_deadlines(&mut self) {
        let Some((t, hosts)) = self.agents.due.pop_first() else {
            return;
        };
        self.agents.pumping = true;
        for &h in &hosts {
            if self.agents.armed[h.ix()] != Some(t) {
                continue; // filed again elsewhere since
            }
            self.agents.armed[h.ix()] = None;
            self.world.agents[h.ix()].handle_timeout(self.now);
            self.agent_ran(h);
        }
        let mut hosts = hosts;
        hosts.clear();
        if hosts.capacity() > self.agents.spare.capacity() {
            self.agents.spare = hosts;
        }
        self.pump();
    }

    /// Carries out what the agent of `h` asked for and files its next deadline.
    fn agent_ran(&mut self, h: HostIx) {
        let mut actions = std::mem::take(&mut self.agents.actions);
        self.world.agents[h.ix()].drain_into(&mut actions);
        let next = self.world.agents[h.ix()].next_timeout();
        self.agents.arm(h, next);
        for a in actions.drain(..) {
            self.carry_out(h, a);
        }
        self.agents.actions = actions;
    }

    fn carry_out(&mut self, h: HostIx, action: AgentAction) {
        match action {
            AgentAction::Report(Input::Heartbeat { .. }) => self.heartbeat(h),
            AgentAction::Report(input) => {
                if let Input::AppState { app, .. } | Input::ModeReport { app, .. } = &input {
                    self.touch_app(*app);
                }
                let delay = Span(self.rng.range(3, 15));
                let site = self.topo.host(h).site;
                self.send_to_controller(site, Some(h), input, delay);
            }
            AgentAction::Spawn { app } => self.sim_spawn(app),
            AgentAction::Signal { app, signal } => self.sim_signal(app, signal),
            AgentAction::RunModeHook { app, mode } => self.sim_hook(app, mode),
            // A hung hook killed: the process runs on in its old mode.
            AgentAction::CancelModeHook { app } => self.touch_app(app),
            AgentAction::StartProbing { app } => self.world.apps[app.ix()].probing = true,
            AgentAction::StopProbing { app } => self.world.apps[app.ix()].probing = false,
            AgentAction::StartupCheck { app } => self.sim_startup_check(app),
            AgentAction::SiteMode { app, single_site } => self.world.apps[app.ix()].single_site = single_site,
            AgentAction::VipAdd { pair } => self.sim_vip(h, pair, true),
            AgentAction::VipDel { pair } => self.sim_vip(h, pair, false),
            AgentAction::Garp { pair } => {
                self.world.announce(pair, h, self.now);
                self.touch_pair(pair);
                self.update_traffic(pair);
            }
            AgentAction::RunScript { run, script, args, .. } => self.sim_script(h, run, script, args),
            AgentAction::KillScript { run } => self.sim_kill_script(run),
            // The run's lines are already in its transcript record.
            AgentAction::ScriptLine { .. } => {}
        }
    }

    /// A heartbeat on its way. Heartbeats of flaky links travel as datagrams: some are
    /// lost, the others arrive late and may overtake the reports sent before them. The
    /// others reach a running controller at once.
    fn heartbeat(&mut self, h: HostIx) {
        let site = self.topo.host(h).site;
        if !self.world.agent_path(&self.topo, site, h) {
            return;
        }
        if self.flaky(h) {
            if self.rng.chance(FLAKY_HEARTBEAT_LOSS) {
                return;
            }
            let at = self.now + Span(self.rng.range(1, FLAKY_LAG_MS));
            let input = Input::Heartbeat { host: h };
            self.push(
                at,
                Ev::ToController {
                    site,
                    from: Some(h),
                    input,
                },
            );
        } else if self.engines[site.ix()].is_some() {
            self.agents.beats.push((site, h));
        }
    }

    /// Hands the heartbeats due now to their controllers, one batch per site.
    fn deliver_heartbeats(&mut self) {
        if self.agents.beats.is_empty() {
            return;
        }
        let mut beats = std::mem::take(&mut self.agents.beats);
        for s in self.topo.site_ixs() {
            if !beats.iter().any(|(x, _)| *x == s) {
                continue;
            }
            if self.recording.is_some() {
                for (_, h) in beats.iter().filter(|(x, _)| *x == s) {
                    self.record_call(s, Recorded::Input(Input::Heartbeat { host: *h }));
                }
            }
            self.with_engine(s, |e, now| {
                for (_, h) in beats.iter().filter(|(x, _)| *x == s) {
                    e.handle(now, Input::Heartbeat { host: *h });
                }
            });
        }
        beats.clear();
        self.agents.beats = beats;
    }

    /// A controller's command reaches its destination: an agent's order, or what the
    /// controller does itself (probe its peer, notify).
    pub(crate) fn agent_command(&mut self, site: SiteIx, cmd: Command) {
        if let Some(h) = cmd.host() {
            if self.world.agent_path(&self.topo, site, h) {
                self.feed(h, AgentInput::Order(cmd));
            } // else lost on the way; the controller's timers deal with it
            return;
        }
        match cmd {
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
            _ => {}
        }
    }

    // ------------------------------------------------------------ checker and oracle

    /// Marks for the checker and the oracle the pair of an application whose world or
    /// agent changes.
    pub(crate) fn touch_app(&mut self, app: AppIx) {
        if let Some(p) = self.topo.app(app).pair {
            self.touch_pair(p);
        }
    }

    pub(crate) fn touch_pair(&mut self, p: engine::PairIx) {
        self.checker.touch_pair(p);
        self.oracle.touch(&self.topo, p);
    }

    fn touch_input(&mut self, input: &AgentInput) {
        let app = match input {
            AgentInput::Order(c) => match c {
                Command::SetMode { app, .. }
                | Command::Start { app, .. }
                | Command::Stop { app, .. }
                | Command::Kill { app, .. } => Some(*app),
                Command::Vip { pair, .. } => {
                    self.touch_pair(*pair);
                    None
                }
                _ => None,
            },
            AgentInput::ProcessFound { app, .. }
            | AgentInput::Spawned { app }
            | AgentInput::Exited { app, .. }
            | AgentInput::Probe { app, .. }
            | AgentInput::HookDone { app, .. }
            | AgentInput::StartupCheck { app, .. }
            | AgentInput::Traffic { app, .. } => Some(*app),
            _ => None,
        };
        if let Some(app) = app {
            self.touch_app(app);
        }
    }
}
