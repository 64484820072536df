//! The controller's engine loop, on a thread of its own: it owns the [`Engine`] and the
//! journal's writer. Inputs arrive on one channel (agent reports, peer probe answers,
//! operator requests); the loop sleeps until the next input or the engine's next deadline,
//! takes every input already queued (up to [`MAX_BATCH`]), then commits what those steps
//! produced (events, operator actions, the durable state) in one transaction (group
//! commit: one fsync per burst), and only then answers the requests, sends the orders to
//! the agents and publishes the events and the new snapshot. A journal that cannot be
//! written stops the controller: it never acts on what it could not record.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

use super::Shared;
use crate::daemon::journal::{ActionRecord, Batch, Journal};
use crate::daemon::link;
use crate::engine::{Accepted, Command, Engine, Event, Input, OperatorRequest, Plan, Refused, Time};
use crate::wire;

/// Most inputs folded into one commit.
pub const MAX_BATCH: usize = 256;

/// What the engine loop is asked to do.
pub enum CoreMsg {
    /// A report of a connected agent.
    Agent(Input),
    /// The answer (or not) of the peer site's controller.
    Peer { answered: bool },
    /// An operator request, with who asked (for the journal) and where to answer.
    Operator {
        req: OperatorRequest,
        role: &'static str,
        body: String,
        reply: oneshot::Sender<Result<Accepted, Refused>>,
    },
    /// A dry run: the plan of a switchover.
    Plan {
        pair: crate::engine::PairIx,
        to: Option<crate::engine::AppIx>,
        reply: oneshot::Sender<Result<Plan, Refused>>,
    },
    /// A graceful stop (SIGTERM): HC-2003/HC-2001, committed, then the loop ends.
    Stop { reply: oneshot::Sender<()> },
}

/// The controller's clock: wall-clock milliseconds at start, advanced by the monotonic
/// clock, so times in the journal and the durable state stay meaningful across restarts
/// and never go backwards while the process runs.
#[derive(Clone, Copy)]
pub struct Clock {
    anchor_ms: u64,
    started: Instant,
}

impl Clock {
    pub fn new() -> Clock {
        let anchor_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Clock {
            anchor_ms,
            started: Instant::now(),
        }
    }

    pub fn now(&self) -> Time {
        Time(self.anchor_ms + self.started.elapsed().as_millis() as u64)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

struct Loop {
    shared: Arc<Shared>,
    engine: Engine,
    journal: Journal,
    clock: Clock,
    next_seq: u64,
    commands: Vec<Command>,
    events: Vec<Event>,
    batch: Batch,
    replies: Vec<Box<dyn FnOnce() + Send>>,
}

/// Runs the engine loop until a [`CoreMsg::Stop`] (or until every sender is gone).
/// Returns an error when the journal cannot be written: the caller exits non-zero.
pub fn run(shared: Arc<Shared>, mut journal: Journal, rx: Receiver<CoreMsg>, clock: Clock) -> Result<(), String> {
    let mut engine = Engine::new(shared.topo.clone(), shared.site);
    if let Some(state) = journal.durable().map_err(|e| e.to_string())? {
        engine.restore(&state);
    }
    let next_seq = journal.last_seq().map_err(|e| e.to_string())? + 1;
    journal.prune(Some(clock.now().ms())).map_err(|e| e.to_string())?;
    let mut l = Loop {
        shared,
        engine,
        journal,
        clock,
        next_seq,
        commands: Vec::new(),
        events: Vec::new(),
        batch: Batch::default(),
        replies: Vec::new(),
    };
    let now = l.clock.now();
    l.engine.handle(now, Input::Start);
    l.collect();
    l.flush()?;
    l.shared.ready.store(true, std::sync::atomic::Ordering::SeqCst);
    loop {
        let now = l.clock.now();
        let wait = l
            .engine
            .next_timeout()
            .map_or(Duration::from_secs(1), |t| {
                Duration::from_millis(t.0.saturating_sub(now.0))
            })
            .min(Duration::from_secs(1));
        let first = match rx.recv_timeout(wait) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let mut stop = None;
        let mut msgs: Vec<CoreMsg> = first.into_iter().collect();
        while msgs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => msgs.push(m),
                Err(_) => break,
            }
        }
        for m in msgs {
            if let CoreMsg::Stop { reply } = m {
                stop = Some(reply);
                break;
            }
            l.take(m);
        }
        let now = l.clock.now();
        l.engine.handle_timeout(now);
        l.collect();
        if let Some(reply) = stop {
            let now = l.clock.now();
            l.engine.stop(now);
            l.collect();
            l.flush()?;
            let _ = reply.send(());
            return Ok(());
        }
        l.flush()?;
    }
}

impl Loop {
    fn take(&mut self, m: CoreMsg) {
        let now = self.clock.now();
        match m {
            CoreMsg::Agent(input) => self.engine.handle(now, input),
            CoreMsg::Peer { answered } => self.engine.handle(now, Input::PeerProbe { answered }),
            CoreMsg::Operator { req, role, body, reply } => {
                let operator = req.operator.clone();
                let request_id = req.request_id.clone();
                let reason = req.reason.clone();
                let result = self.engine.operator(now, req);
                let outcome = match &result {
                    Ok(a) => format!("accepted {}", self.shared.topo.correlation_label(a.correlation)),
                    Err(r) => format!("refused: {}", r.0),
                };
                self.batch.actions.push(ActionRecord {
                    t_ms: now.ms(),
                    operator: operator.name,
                    role: role.to_string(),
                    from: operator.from,
                    request_id,
                    reason,
                    command: body,
                    outcome,
                });
                self.replies.push(Box::new(move || {
                    let _ = reply.send(result);
                }));
            }
            CoreMsg::Plan { pair, to, reply } => {
                let _ = reply.send(self.engine.plan_switchover(pair, to));
            }
            CoreMsg::Stop { .. } => {}
        }
        self.collect();
    }

    /// Moves what the engine produced into the pending batch.
    fn collect(&mut self) {
        self.engine.drain_into(&mut self.commands, &mut self.events);
        for e in self.events.drain(..) {
            let rec = wire::event_record(&self.shared.topo, self.shared.site, self.next_seq, &e);
            self.next_seq += 1;
            self.batch.events.push(rec);
        }
    }

    /// Commits the batch, then answers, sends the orders and publishes.
    fn flush(&mut self) -> Result<(), String> {
        self.batch.durable = self.engine.take_durable();
        let batch = std::mem::take(&mut self.batch);
        if let Err(e) = self.journal.commit(&batch) {
            return Err(format!("cannot write the journal, stopping: {e}"));
        }
        self.shared.metrics.journal(&self.journal);
        // A run is known before its request is answered: the caller asks for it next.
        let topo = &self.shared.topo;
        for c in &self.commands {
            if let (Command::RunScript { run, script, .. }, Some(host)) = (c, c.host()) {
                self.shared
                    .runs
                    .started(*run, topo.script(*script).id.clone(), topo.host(host).id.clone());
            }
        }
        for reply in self.replies.drain(..) {
            reply();
        }
        for c in std::mem::take(&mut self.commands) {
            self.dispatch(c);
        }
        if !batch.events.is_empty() {
            self.shared.metrics.events(&batch.events);
            for rec in batch.events {
                // Nobody listening is fine: the journal has it.
                let _ = self.shared.events.send(rec);
            }
        }
        self.publish();
        Ok(())
    }

    fn dispatch(&mut self, c: Command) {
        let topo = &self.shared.topo;
        match &c {
            Command::ProbePeer { peer } => {
                let url = topo.site(*peer).controller.clone();
                let timeout = topo.site(self.shared.site).oos_check.as_ms().clamp(100, 2000);
                let tx = self.shared.core_tx.clone();
                let client = self.shared.http.clone();
                self.shared.runtime.spawn(async move {
                    let answered = match url {
                        Some(u) => client
                            .get(format!("{u}/healthz"))
                            .timeout(Duration::from_millis(timeout))
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success()),
                        None => false,
                    };
                    let _ = tx.send(CoreMsg::Peer { answered });
                });
            }
            Command::Notify { text, .. } => {
                eprintln!(
                    "hactl controller: notification: {}",
                    crate::engine::config::escape(text)
                );
            }
            _ => {
                let Some(host) = c.host() else { return };
                if let Some(msg) = link::from_command(topo, &c) {
                    // An order to an agent that is not connected is lost, as on a real
                    // network: the engine's timers notice and decide again.
                    self.shared.agents.send(host, msg);
                }
            }
        }
    }

    fn publish(&mut self) {
        let now = self.clock.now();
        // This controller knows its own site only; the console merges the sites.
        let snap = wire::site_snapshot(&self.shared.topo, &self.engine, now);
        self.shared.metrics.snapshot(&snap, &self.engine, now);
        if let Ok(mut s) = self.shared.snapshot.write() {
            *s = Arc::new(snap);
        }
    }
}
