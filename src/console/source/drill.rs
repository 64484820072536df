//! [`DrillSource`]: the console's source over a drill in this process. It maps wall-clock
//! time, scaled by the speed, onto the drill's virtual clock, and reads the drill as a
//! console reads live controllers: one snapshot per site's controller, merged, and one
//! event stream per site, merged by time ([`EventMerge`]). It keeps no copy of the log:
//! released events go to the console, and older or newer pages are read back from the
//! drill's own transcript by site and `seq`. Plans and requests are answered at once, through
//! the same submit-and-reply path a live source answers later.

use std::time::{Duration, Instant};

use super::{
    Ask, Clock, ConnState, Connection, DrillControls, DrillOp, DrillStatus, Grant, Page, PairConfig, Reply, ReportView,
    ScriptChoice, ScriptRunView, Source,
};
use crate::drill::random::RandomOptions;
use crate::drill::{Drill, Fault, scenario};
use crate::engine::{EventId, Operator, Severity, Time, Topology};
use crate::wire::{ErrorBody, EventMerge, EventRecord, RunId, Snapshot};

/// One site's events in the drill's transcript.
struct SiteLog {
    site: String,
    /// The index in the transcript of each event, in `seq` order (`seq` n is at n - 1).
    ixs: Vec<u32>,
    /// The last `seq` the console took: pages never hand out what it has not had yet.
    taken: u64,
}

/// A drill in this process, its clock driven by the wall clock times the speed.
pub struct DrillSource {
    drill: Drill,
    operator: Operator,
    topology: Topology,
    seed: u64,
    clock: Clock,
    /// Wall time and virtual time of the last clock change.
    anchor: Option<(Instant, u64)>,
    snapshot: Snapshot,
    snapshot_at: u64,
    /// The drill's per-site event streams, merged by time.
    merge: EventMerge,
    /// How many of the drill's events went into the merge.
    fed: usize,
    /// Released by the merge, not yet taken by the console.
    outbox: Vec<EventRecord>,
    /// Per site, where its events are in the drill's transcript: how pages are read back.
    by_site: Vec<SiteLog>,
    /// Answers not yet taken.
    replies: Vec<Reply>,
    report: Option<ReportView>,
    revision: u64,
}

impl DrillSource {
    /// Free play on `topology`.
    pub fn new(topology: Topology, seed: u64, speed: f64, operator: Operator) -> DrillSource {
        let mut drill = Drill::new(topology.clone(), seed);
        drill.set_operator(operator.clone());
        Self::wrap(drill, topology, seed, speed, operator)
    }

    /// A named scenario on its own topology.
    pub fn scenario(name: &str, seed: u64, speed: f64, operator: Operator) -> Result<DrillSource, String> {
        Self::scenario_with(name, seed, &RandomOptions::default(), speed, operator)
    }

    /// A named scenario, with the options of the `random` one.
    pub fn scenario_with(
        name: &str,
        seed: u64,
        random: &RandomOptions,
        speed: f64,
        operator: Operator,
    ) -> Result<DrillSource, String> {
        let s = scenario::build(name, seed, random)?;
        let topology = s.topology.clone();
        let mut drill = Drill::with_scenario(s, seed);
        drill.set_operator(operator.clone());
        Ok(Self::wrap(drill, topology, seed, speed, operator))
    }

    fn wrap(drill: Drill, topology: Topology, seed: u64, speed: f64, operator: Operator) -> DrillSource {
        let snapshot = drill.snapshot();
        let merge = EventMerge::new(drill.topology().sites.iter().map(|s| s.id.clone()));
        let mut src = DrillSource {
            snapshot_at: drill.now().ms(),
            drill,
            operator,
            topology,
            seed,
            clock: Clock { paused: false, speed },
            anchor: None,
            snapshot,
            merge,
            fed: 0,
            outbox: Vec::new(),
            by_site: Vec::new(),
            replies: Vec::new(),
            report: None,
            revision: 0,
        };
        src.feed_events();
        src
    }

    /// Hands the drill's new events to the merge, each in its site's stream, and takes
    /// what the merge releases: every site's controller has logged all it will up to the
    /// drill's clock.
    fn feed_events(&mut self) {
        for i in self.fed..self.drill.events().len() {
            let rec = self.drill.record(i);
            match self.by_site.iter_mut().find(|l| l.site == rec.site) {
                Some(l) => l.ixs.push(i as u32),
                None => self.by_site.push(SiteLog {
                    site: rec.site.clone(),
                    ixs: vec![i as u32],
                    taken: 0,
                }),
            }
            self.merge.push(rec);
        }
        self.fed = self.drill.events().len();
        let now = self.drill.now().ms();
        for s in &self.drill.topology().sites {
            self.merge.advance(&s.id, now);
        }
        self.merge.release(&mut self.outbox);
    }

    /// A page of the transcript: per site, `limit` events before `seq` (older) or after
    /// it (newer), of those the console already took.
    fn page(&self, cursors: &[(String, u64)], limit: usize, older: bool) -> Page {
        let mut page = Page::default();
        for (site, seq) in cursors {
            let Some(log) = self.by_site.iter().find(|l| l.site == *site) else {
                page.ends.push(site.clone());
                continue;
            };
            let (ixs, known) = (&log.ixs, (log.taken as usize).min(log.ixs.len()));
            let (lo, hi) = if older {
                let hi = (*seq as usize).saturating_sub(1).min(known);
                (hi.saturating_sub(limit), hi)
            } else {
                let lo = (*seq as usize).min(known);
                (lo, (lo + limit).min(known))
            };
            page.events
                .extend(ixs[lo..hi].iter().map(|i| self.drill.record(*i as usize)));
            if (older && lo == 0) || (!older && hi >= known) {
                page.ends.push(site.clone());
            }
        }
        page
    }

    pub fn sim(&self) -> &Drill {
        &self.drill
    }

    /// Advances virtual time by `ms` at once (tests and benchmarks).
    pub fn run_for(&mut self, ms: u64) {
        let t = self.drill.now().ms() + ms;
        self.run_to(t);
        if let Some((wall, _)) = self.anchor {
            self.anchor = Some((wall, self.drill.now().ms()));
        }
    }

    fn end_ms(&self) -> Option<u64> {
        self.drill.scenario().map(|s| s.duration.as_ms())
    }

    fn run_to(&mut self, mut t: u64) {
        if let Some(end) = self.end_ms() {
            t = t.min(end);
        }
        if t > self.drill.now().ms() {
            self.drill.run_until(Time(t));
        }
        if self.end_ms().is_some_and(|end| self.drill.now().ms() >= end) && self.report.is_none() {
            self.report = Some(report_view(&self.drill));
            self.clock.paused = true;
        }
        self.refresh();
    }

    fn refresh(&mut self) {
        self.revision += 1;
        self.feed_events();
        if self.snapshot_at != self.drill.now().ms() || self.snapshot.t_ms != self.drill.now().ms() {
            self.snapshot = self.drill.snapshot();
            self.snapshot_at = self.drill.now().ms();
        }
    }

    fn force_refresh(&mut self) {
        self.revision += 1;
        self.feed_events();
        self.snapshot = self.drill.snapshot();
        self.snapshot_at = self.drill.now().ms();
    }

    fn play(&mut self, name: Option<String>) -> Result<String, String> {
        let speed = self.clock.speed;
        let free = self.topology.clone();
        let mut next = match &name {
            Some(n) => DrillSource::scenario(n, self.seed, speed, self.operator.clone())?,
            None => DrillSource::new(free.clone(), self.seed, speed, self.operator.clone()),
        };
        next.topology = free;
        next.revision = self.revision + 1;
        *self = next;
        Ok(match name {
            Some(n) => format!("scenario {n} started"),
            None => "free play restarted".into(),
        })
    }
}

fn report_view(d: &Drill) -> ReportView {
    let r = d.report();
    let mut timeline: Vec<(u64, String)> = r.notes.iter().map(|(t, s)| (t.ms(), format!("-- {s}"))).collect();
    for e in &r.events {
        if e.severity != Severity::Info || crate::console::state::is_switchover_event(e.id) {
            timeline.push((e.t_ms, format!("{} {} {}", e.id.code(), e.source, e.message)));
        }
    }
    timeline.sort_by_key(|(t, _)| *t);
    let operator_actions = r
        .events
        .iter()
        .filter(|e| e.id == EventId::OperatorCommand)
        .map(|e| (e.t_ms, e.message.clone()))
        .collect();
    ReportView {
        scenario: r.scenario.clone(),
        passed: r.passed,
        checks: r
            .checks
            .iter()
            .map(|c| (c.name.clone(), c.passed, c.detail.clone()))
            .collect(),
        faults: r
            .metrics
            .faults
            .iter()
            .map(|f| (f.t_ms, f.detect_ms, f.restore_ms))
            .collect(),
        operator_actions,
        timeline,
        recovery_bound_ms: r.metrics.recovery_bound_ms,
    }
}

impl Source for DrillSource {
    fn connections(&self) -> Vec<Connection> {
        vec![Connection {
            label: "drill".into(),
            state: ConnState::Drill,
            ..Connection::default()
        }]
    }

    fn advance(&mut self, wall: Instant) -> bool {
        let before = (self.drill.now(), self.drill.events().len());
        match self.anchor {
            None => self.anchor = Some((wall, self.drill.now().ms())),
            Some((w0, v0)) if !self.clock.paused => {
                let elapsed = wall.saturating_duration_since(w0).as_secs_f64() * 1000.0 * self.clock.speed;
                self.run_to(v0 + elapsed as u64);
            }
            Some(_) => {}
        }
        (self.drill.now(), self.drill.events().len()) != before
    }

    fn next_change(&self, _wall: Instant) -> Option<Duration> {
        if self.clock.paused {
            None
        } else {
            Some(Duration::from_millis(100))
        }
    }

    fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    fn revision(&self) -> u64 {
        // A new drill (scenario) restarts the count; mix in its clock and log length.
        self.revision ^ (self.drill.now().ms() << 20) ^ (self.drill.events().len() as u64) << 44
    }

    fn take_events(&mut self, out: &mut Vec<EventRecord>) {
        for e in &self.outbox {
            if let Some(l) = self.by_site.iter_mut().find(|l| l.site == e.site) {
                l.taken = l.taken.max(e.seq);
            }
        }
        out.append(&mut self.outbox);
    }

    fn submit(&mut self, ask: Ask) {
        let reply = match ask {
            Ask::Plan { target, to } => {
                let result = self.drill.plan(&target, to.as_deref()).map_err(ErrorBody::from);
                Reply::Plan { target, to, result }
            }
            Ask::Request(req) => {
                let result = self.drill.operator(&req).map_err(ErrorBody::from);
                self.force_refresh();
                Reply::Requested { req, result }
            }
            Ask::Older { before, limit } => Reply::Older(self.page(&before, limit, true)),
            Ask::Newer { after, limit } => Reply::Newer(self.page(&after, limit, false)),
        };
        self.replies.push(reply);
    }

    fn take_replies(&mut self, out: &mut Vec<Reply>) {
        out.append(&mut self.replies);
    }

    fn grant(&self) -> Grant {
        Grant::Admin
    }

    fn scripts(&self) -> Vec<ScriptChoice> {
        let topo = self.drill.topology();
        topo.scripts
            .iter()
            .map(|s| ScriptChoice {
                id: s.id.clone(),
                command: std::iter::once(s.command.clone())
                    .chain(s.args.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(" "),
                hosts: topo
                    .host_ixs()
                    .filter(|h| s.allowed_on(*h))
                    .map(|h| topo.host(h).id.clone())
                    .collect(),
            })
            .collect()
    }

    fn script_run(&mut self, id: &RunId) -> Option<ScriptRunView> {
        let now = self.drill.now();
        let topo = self.drill.topology();
        let r = self
            .drill
            .script_runs()
            .iter()
            .find(|r| r.run == id.n && topo.site(r.site).id == id.site)?;
        Some(ScriptRunView {
            run: r.run,
            site: id.site.clone(),
            script: r.script.clone(),
            host: r.host.clone(),
            started_ms: r.started.ms(),
            lines: r
                .lines
                .iter()
                .filter(|(t, _)| *t <= now)
                .map(|(t, l)| (t.ms(), l.clone()))
                .collect(),
            done: r.done.filter(|(_, t)| *t <= now).map(|(c, t)| (c, t.ms())),
        })
    }

    fn pair_config(&self, pair: &str) -> Option<PairConfig> {
        let topo = self.drill.topology();
        let p = topo.pair_ix(pair)?;
        let cfg = topo.pair(p);
        let rt = self.drill.engine(cfg.site).map(|e| e.pair(p));
        let mut settings = vec![("site".to_string(), topo.site(cfg.site).id.clone())];
        for (i, a) in cfg.apps.iter().enumerate() {
            let app = topo.app(*a);
            settings.push((
                if i == 0 { "preferred" } else { "other" }.to_string(),
                format!("{} ({})", topo.app_label(*a), app.kind),
            ));
        }
        settings.push((
            "VIP".into(),
            cfg.vip
                .as_ref()
                .map_or("none".into(), |v| format!("{} on NIC {}", v.address, v.nic)),
        ));
        settings.push(("failover".into(), format!("{:?}", cfg.failover)));
        if let Some(g) = cfg.group {
            let g = topo.group(g);
            settings.push(("group".into(), format!("{} (leader {})", g.id, topo.pair(g.leader).id)));
        }
        settings.push((
            "anti-flap".into(),
            format!(
                "at most {} switchovers in {}",
                cfg.anti_flap.max_switchovers, cfg.anti_flap.window
            ),
        ));
        Some(PairConfig {
            pair: cfg.id.clone(),
            settings,
            flap_used: rt.map_or(0, |r| r.history.len() as u32),
            flap_max: cfg.anti_flap.max_switchovers,
            flap_window_ms: cfg.anti_flap.window.as_ms(),
            flapping: rt.is_some_and(|r| r.flapping),
        })
    }

    fn drill(&self) -> Option<&dyn DrillControls> {
        Some(self)
    }

    fn drill_mut(&mut self) -> Option<&mut dyn DrillControls> {
        Some(self)
    }
}

impl DrillControls for DrillSource {
    fn drill_status(&self) -> DrillStatus {
        DrillStatus {
            now_ms: self.drill.now().ms(),
            paused: self.clock.paused,
            speed: self.clock.speed,
            scenario: self
                .drill
                .scenario()
                .map(|s| (s.name.clone(), s.description.clone(), s.duration.as_ms())),
            faults: self
                .drill
                .faults()
                .iter()
                .map(|f| (f.id, f.label.clone(), f.since_ms))
                .collect(),
            finished: self.report.is_some(),
        }
    }

    fn fault_kinds(&self) -> Vec<(String, String)> {
        crate::drill::fault::KINDS
            .iter()
            .map(|(n, _, d)| (n.to_string(), d.to_string()))
            .collect()
    }

    fn fault_targets(&self, kind: &str) -> Vec<String> {
        Fault::targets(self.drill.topology(), kind)
    }

    fn scenarios(&self) -> Vec<(String, String)> {
        scenario::NAMES
            .iter()
            .filter(|n| n.0 != "random")
            .map(|(n, w, d)| (n.to_string(), format!("{w}: {d}")))
            .collect()
    }

    fn drill_op(&mut self, op: DrillOp) -> Result<String, String> {
        self.revision += 1;
        let r = match op {
            DrillOp::SetClock(c) => {
                if self.report.is_some() && !c.paused {
                    return Err("the scenario is over: play another or restart free play".into());
                }
                self.clock = c;
                self.anchor = None;
                Ok(if c.paused {
                    "paused".to_string()
                } else {
                    format!("running at {}x", c.speed)
                })
            }
            DrillOp::Inject(text) => {
                let f = Fault::parse(self.drill.topology(), &text)?;
                self.drill.inject(f)
            }
            DrillOp::Heal(id) => self.drill.heal(id),
            DrillOp::HealAll => {
                let n = self.drill.faults().len();
                self.drill.act(crate::drill::Action::HealAll).map(|_| match n {
                    0 => "no fault to heal".to_string(),
                    1 => "healed the one fault".to_string(),
                    n => format!("healed all {n} faults"),
                })
            }
            DrillOp::Play(name) => self.play(name),
        };
        self.force_refresh();
        r
    }

    fn report(&self) -> Option<ReportView> {
        self.report.clone()
    }
}
