//! [`LiveSource`]: the console's source over live controllers. It owns a small tokio
//! runtime (one worker thread) on which one task follows each controller
//! ([`super::controller::follow`]) and one task answers each question; the console's
//! thread only drains what they reported ([`Source::advance`] never waits). It keeps each
//! controller's last part of the deployment and merges them (a lost controller's part
//! stays, and the console marks it stale), merges the controllers' event streams by
//! time, each event keeping its site, and reports each connection: `CONNECTED`,
//! `RECONNECTING in Ns` for the first seconds after a loss (or while never reached), then
//! `STALE Ns` with the age of what is known. It never gives up on a controller.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::controller::{self, Note, error_body};
use super::{Ask, ConnState, Connection, Grant, PairConfig, Reply, ScriptChoice, ScriptRunView, Source};
use crate::client::{Client, Endpoint, Options};
use crate::wire::{Command, ErrorBody, EventMerge, EventRecord, Part, RunId, RunView, Snapshot, TopologyView};

/// After a loss, how long the header says RECONNECTING before it says STALE.
pub const STALE_AFTER: Duration = Duration::from_secs(5);
/// The longest silence of a connected controller (it answers a snapshot every second, or
/// its task reports it lost within the 3 s timeout): past it, it is not shown connected.
const CONTACT_MAX: Duration = Duration::from_secs(6);
/// How often the console looks for what arrived (it draws only when something did).
const LOOK_EVERY: Duration = Duration::from_millis(100);
/// The most notes taken in one turn of the console's loop, so one turn stays short.
const NOTES_PER_TURN: usize = 4096;
/// How often an open script run's output is read again while it runs.
const RUN_EVERY: Duration = Duration::from_millis(300);

/// The client timeouts of the console: a controller that does not answer within them is
/// lost (and its state shown stale), whatever the reason.
pub fn client_options() -> Options {
    Options {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(3),
        ..Options::default()
    }
}

/// What the console knows of one controller.
struct Ctl {
    client: Client,
    /// The task following it.
    task: Option<tokio::task::JoinHandle<()>>,
    /// Its site, once it said.
    site: Option<String>,
    role: Option<Grant>,
    name: Option<String>,
    topology: Option<TopologyView>,
    /// Its last part of the deployment.
    part: Option<Snapshot>,
    connected: bool,
    /// When it last answered.
    contact: Option<Instant>,
    /// When the next attempt starts (none: one is under way).
    retry_at: Option<Instant>,
    error: Option<String>,
}

impl Ctl {
    /// A controller nothing is known of yet.
    fn new(client: Client, task: Option<tokio::task::JoinHandle<()>>) -> Ctl {
        Ctl {
            client,
            task,
            site: None,
            role: None,
            name: None,
            topology: None,
            part: None,
            connected: false,
            contact: None,
            retry_at: None,
            error: None,
        }
    }
}

/// A script run being watched.
struct Watch {
    run: RunId,
    view: Option<ScriptRunView>,
    asked: Option<Instant>,
    /// The time of the data when the run was first seen (its start, near enough).
    seen_ms: u64,
}

pub struct LiveSource {
    rt: Option<tokio::runtime::Runtime>,
    ctls: Vec<Ctl>,
    tx: mpsc::Sender<Note>,
    rx: mpsc::Receiver<Note>,
    merge: EventMerge,
    outbox: Vec<EventRecord>,
    replies: Vec<Reply>,
    snapshot: Snapshot,
    revision: u64,
    now: Instant,
    /// The connections as last reported, to notice a change (an age ticking over).
    shown: Vec<Connection>,
    watch: Option<Watch>,
}

impl LiveSource {
    /// Starts following every controller. Fails only when the runtime or a client cannot
    /// be set up (a bad URL, an unreadable CA): not when a controller does not answer.
    pub fn start(endpoints: &[Endpoint]) -> Result<LiveSource, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("hactl-console-net")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network runtime: {e}"))?;
        let (tx, rx) = mpsc::channel(1024);
        let mut ctls = Vec::new();
        for (i, ep) in endpoints.iter().enumerate() {
            let client = Client::with_options(ep, client_options()).map_err(|e| e.to_string())?;
            let task = rt.spawn(controller::follow(i, client.clone(), tx.clone()));
            ctls.push(Ctl::new(client, Some(task)));
        }
        Ok(LiveSource {
            rt: Some(rt),
            ctls,
            tx,
            rx,
            merge: EventMerge::default(),
            outbox: Vec::new(),
            replies: Vec::new(),
            snapshot: Snapshot::default(),
            revision: 1,
            now: Instant::now(),
            shown: Vec::new(),
            watch: None,
        })
    }

    fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(&self, f: F) {
        if let Some(rt) = &self.rt {
            rt.spawn(f);
        }
    }

    /// The connected controller of `site`, if any.
    fn client_of(&self, site: &str) -> Option<Client> {
        self.ctls
            .iter()
            .find(|c| c.connected && c.site.as_deref() == Some(site))
            .map(|c| c.client.clone())
    }

    /// The site that carries out a request, as the topology says.
    fn site_of(&self, command: &Command) -> Option<String> {
        self.ctls.iter().filter_map(|c| c.topology.as_ref()).find_map(|t| {
            match command {
                Command::Switchover { pair, .. }
                | Command::Maintenance { pair, .. }
                | Command::ResetAntiFlap { pair } => t.site_of_pair(pair),
                Command::RunScript { host, .. } => t.site_of_host(host),
            }
            .map(String::from)
        })
    }

    /// The client a request about `command` goes to, or why there is none.
    fn route(&self, command: &Command) -> Result<Client, ErrorBody> {
        match self.site_of(command) {
            Some(site) => self.client_of(&site).ok_or_else(|| {
                ErrorBody::new(
                    "unavailable",
                    format!("the controller of site {site} cannot be reached now"),
                )
            }),
            // Not a name any controller knows: the first one reached says so.
            None => self
                .ctls
                .iter()
                .find(|c| c.connected)
                .map(|c| c.client.clone())
                .ok_or_else(|| ErrorBody::new("unavailable", "no controller can be reached now")),
        }
    }

    fn take(&mut self, note: Note) {
        let now = self.now;
        match note {
            Note::Trying { ctl } => {
                if let Some(c) = self.ctls.get_mut(ctl) {
                    c.retry_at = None;
                }
            }
            Note::Up { ctl, who, topology } => {
                if let Some(c) = self.ctls.get_mut(ctl) {
                    c.site = Some(who.site.clone());
                    c.role = match who.role.as_str() {
                        "admin" => Some(Grant::Admin),
                        "operator" => Some(Grant::Act),
                        _ => Some(Grant::View),
                    };
                    c.name = Some(who.name);
                    c.topology = Some(*topology);
                    c.connected = true;
                    c.contact = Some(now);
                    c.error = None;
                    self.merge.set_live(&who.site, true);
                }
            }
            Note::Snapshot { ctl, snapshot } => {
                if let Some(c) = self.ctls.get_mut(ctl) {
                    c.contact = Some(now);
                    if let Some(site) = &c.site {
                        self.merge.advance(site, snapshot.t_ms);
                    }
                    c.part = Some(*snapshot);
                }
                self.snapshot = Snapshot::merge(self.ctls.iter().filter_map(|c| c.part.clone()).map(Part::Live));
            }
            Note::Events { ctl, events } => {
                if let Some(c) = self.ctls.get_mut(ctl) {
                    c.contact = Some(now);
                }
                for e in events {
                    self.merge.push(e);
                }
            }
            Note::Down { ctl, error, retry_at } => {
                if let Some(c) = self.ctls.get_mut(ctl) {
                    c.connected = false;
                    c.retry_at = Some(retry_at);
                    c.error = Some(error);
                    if let Some(site) = &c.site {
                        // A lost controller holds nobody's events back.
                        self.merge.set_live(site, false);
                    }
                }
            }
            Note::Reply(r) => self.replies.push(r),
            Note::Run { run, view } => {
                let t = self.snapshot.t_ms;
                if let Some(w) = self.watch.as_mut().filter(|w| w.run == run) {
                    w.asked = Some(now);
                    if let Ok(v) = view {
                        w.view = Some(run_view(&run, &v, w.seen_ms, t));
                    }
                }
            }
        }
    }

    /// Asks each site's controller for its page of the log; the answer is one page.
    fn page(&self, cursors: Vec<(String, u64)>, limit: usize, older: bool) {
        let asks = cursors
            .into_iter()
            .map(|(site, seq)| {
                let c = self.client_of(&site);
                (site, seq, c)
            })
            .collect();
        let tx = self.tx.clone();
        self.spawn(async move {
            let page = controller::page(asks, limit, older).await;
            let reply = if older { Reply::Older(page) } else { Reply::Newer(page) };
            let _ = tx.send(Note::Reply(reply)).await;
        });
    }

    /// A task that ended (it follows its controller for as long as the console runs, so
    /// only a bug ends it) is started again, its controller shown lost meanwhile.
    fn restart_tasks(&mut self) {
        let Some(rt) = &self.rt else { return };
        for (i, c) in self.ctls.iter_mut().enumerate() {
            if c.task.as_ref().is_some_and(|t| t.is_finished()) {
                c.connected = false;
                c.error = Some("the console's task for this controller stopped; started again".into());
                c.task = Some(rt.spawn(controller::follow(i, c.client.clone(), self.tx.clone())));
            }
        }
    }

    /// Reads the watched script run again when it is due.
    fn poll_run(&mut self) {
        let Some(w) = self.watch.as_mut() else { return };
        let done = w.view.as_ref().is_some_and(|v| v.done.is_some());
        let due = w
            .asked
            .is_none_or(|t| self.now.saturating_duration_since(t) >= RUN_EVERY);
        if done || !due {
            return;
        }
        // Not again until this one is answered (or the wait is over).
        w.asked = Some(self.now + Duration::from_secs(3));
        let run = w.run.clone();
        let Some(client) = self.client_of(&run.site) else {
            return;
        };
        let tx = self.tx.clone();
        self.spawn(async move {
            let view = client.run_status(&run).await.map_err(|e| e.to_string());
            let _ = tx.send(Note::Run { run, view }).await;
        });
    }
}

/// A script run as the console's output pane shows it.
fn run_view(run: &RunId, v: &RunView, seen_ms: u64, now_ms: u64) -> ScriptRunView {
    ScriptRunView {
        run: v.run,
        site: run.site.clone(),
        script: v.script.clone(),
        host: v.host.clone(),
        started_ms: seen_ms,
        lines: v.lines.iter().map(|l| (now_ms, l.clone())).collect(),
        done: v.done.then(|| {
            (
                v.exit_code,
                seen_ms + v.duration_ms.unwrap_or(now_ms.saturating_sub(seen_ms)),
            )
        }),
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        // Never wait for a controller that hangs: the tasks are dropped where they are.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Source for LiveSource {
    fn connections(&self) -> Vec<Connection> {
        let now = self.now;
        self.ctls
            .iter()
            .map(|c| {
                let age = c.contact.map(|t| now.saturating_duration_since(t));
                let retry = c.retry_at.map_or(0, |t| {
                    t.saturating_duration_since(now).as_millis().div_ceil(1000) as u64
                });
                let connected = c.connected && age.is_some_and(|a| a < CONTACT_MAX);
                let state = match (connected, age) {
                    (true, _) => ConnState::Connected,
                    (false, Some(a)) if a >= STALE_AFTER => ConnState::Stale { age_secs: a.as_secs() },
                    (false, _) => ConnState::Reconnecting { in_secs: retry },
                };
                Connection {
                    label: c.site.clone().unwrap_or_else(|| c.client.url().to_string()),
                    state,
                    sites: c.site.iter().cloned().collect(),
                    stale_ms: age.filter(|_| !connected).map(|a| a.as_millis() as u64),
                    error: c.error.clone().filter(|_| !connected),
                }
            })
            .collect()
    }

    fn advance(&mut self, wall: Instant) -> bool {
        self.now = wall;
        let mut changed = false;
        for _ in 0..NOTES_PER_TURN {
            match self.rx.try_recv() {
                Ok(note) => {
                    self.take(note);
                    changed = true;
                }
                Err(_) => break,
            }
        }
        if self.merge.release(&mut self.outbox) > 0 {
            changed = true;
        }
        self.poll_run();
        self.restart_tasks();
        let conns = self.connections();
        if conns != self.shown {
            self.shown = conns;
            changed = true;
        }
        if changed {
            self.revision += 1;
        }
        changed
    }

    fn next_change(&self, _wall: Instant) -> Option<Duration> {
        Some(LOOK_EVERY)
    }

    fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    fn revision(&self) -> u64 {
        self.revision
    }

    fn take_events(&mut self, out: &mut Vec<EventRecord>) {
        out.append(&mut self.outbox);
    }

    fn submit(&mut self, ask: Ask) {
        let tx = self.tx.clone();
        match ask {
            Ask::Plan { target, to } => {
                let cmd = Command::Switchover {
                    pair: target.clone(),
                    to: to.clone(),
                    force: false,
                    dry_run: true,
                };
                match self.route(&cmd) {
                    Ok(client) => self.spawn(async move {
                        let result = client.plan(&target, to.as_deref()).await.map_err(|e| error_body(&e));
                        let _ = tx.send(Note::Reply(Reply::Plan { target, to, result })).await;
                    }),
                    Err(e) => self.replies.push(Reply::Plan {
                        target,
                        to,
                        result: Err(e),
                    }),
                }
            }
            Ask::Request(req) => match self.route(&req.command) {
                Ok(client) => self.spawn(async move {
                    let result = client.request(&req).await.map_err(|e| error_body(&e));
                    let _ = tx.send(Note::Reply(Reply::Requested { req, result })).await;
                }),
                Err(e) => self.replies.push(Reply::Requested { req, result: Err(e) }),
            },
            Ask::Older { before, limit } => self.page(before, limit, true),
            Ask::Newer { after, limit } => self.page(after, limit, false),
        }
    }

    fn take_replies(&mut self, out: &mut Vec<Reply>) {
        out.append(&mut self.replies);
    }

    fn grant(&self) -> Grant {
        self.ctls.iter().filter_map(|c| c.role).max().unwrap_or(Grant::View)
    }

    fn operator(&self) -> Option<String> {
        self.ctls.iter().find_map(|c| c.name.clone())
    }

    fn scripts(&self) -> Vec<ScriptChoice> {
        let mut out: Vec<ScriptChoice> = Vec::new();
        for t in self.ctls.iter().filter_map(|c| c.topology.as_ref()) {
            for s in &t.scripts {
                if !out.iter().any(|x| x.id == s.id) {
                    out.push(ScriptChoice {
                        id: s.id.clone(),
                        command: "(the controller's allow-list)".into(),
                        hosts: s.hosts.clone(),
                    });
                }
            }
        }
        out
    }

    fn script_run(&mut self, run: &RunId) -> Option<ScriptRunView> {
        if self.watch.as_ref().is_none_or(|w| w.run != *run) {
            self.watch = Some(Watch {
                run: run.clone(),
                view: None,
                asked: None,
                seen_ms: self.snapshot.t_ms,
            });
            self.poll_run();
        }
        self.watch.as_ref().and_then(|w| w.view.clone())
    }

    fn pair_config(&self, _pair: &str) -> Option<PairConfig> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Request, SiteView, Whoami};

    /// A live source with one controller and no task: notes are fed by the test.
    fn source() -> LiveSource {
        let mut src = LiveSource::start(&[]).unwrap();
        let ep = Endpoint::new("http://192.0.2.1:7400").unwrap();
        src.ctls
            .push(Ctl::new(Client::with_options(&ep, client_options()).unwrap(), None));
        src
    }

    fn feed(src: &mut LiveSource, at: Instant, note: Note) -> Connection {
        src.now = at;
        src.take(note);
        src.advance(at);
        src.connections().remove(0)
    }

    #[test]
    fn a_lost_controller_is_reconnecting_then_stale_and_never_connected_when_silent() {
        let mut src = source();
        let t0 = Instant::now();
        let c = feed(&mut src, t0, Note::Trying { ctl: 0 });
        assert_eq!(
            (c.state, c.sites.len(), c.label.as_str()),
            (ConnState::Reconnecting { in_secs: 0 }, 0, "http://192.0.2.1:7400")
        );
        let who = Whoami {
            name: "alice".into(),
            role: "viewer".into(),
            site: "east".into(),
        };
        let c = feed(
            &mut src,
            t0,
            Note::Up {
                ctl: 0,
                who,
                topology: Box::default(),
            },
        );
        assert_eq!(
            (c.state, c.label.as_str(), c.sites),
            (ConnState::Connected, "east", vec!["east".to_string()])
        );
        assert_eq!(
            src.grant(),
            Grant::View,
            "a viewer's token offers nothing that changes anything"
        );
        let snap = Snapshot {
            t_ms: 1000,
            sites: vec![SiteView {
                id: "east".into(),
                controller_up: true,
                ..Default::default()
            }],
            ..Default::default()
        };
        feed(
            &mut src,
            t0,
            Note::Snapshot {
                ctl: 0,
                snapshot: Box::new(snap),
            },
        );
        let lost = Note::Down {
            ctl: 0,
            error: "http://192.0.2.1:7400: cannot reach the controller: cannot connect".into(),
            retry_at: t0 + Duration::from_millis(1500),
        };
        let c = feed(&mut src, t0 + Duration::from_millis(200), lost);
        assert_eq!(c.state, ConnState::Reconnecting { in_secs: 2 });
        assert_eq!(c.stale_ms, Some(200));
        assert!(c.error.is_some_and(|e| e.contains("cannot connect")));
        src.advance(t0 + Duration::from_secs(7));
        let c = src.connections().remove(0);
        assert_eq!(c.state, ConnState::Stale { age_secs: 7 });
        assert_eq!(src.snapshot().sites.len(), 1, "the last part stays");
        // Back, then silent past the longest gap between answers: not shown connected.
        let who = Whoami {
            name: "alice".into(),
            role: "operator".into(),
            site: "east".into(),
        };
        let t1 = t0 + Duration::from_secs(8);
        assert_eq!(
            feed(
                &mut src,
                t1,
                Note::Up {
                    ctl: 0,
                    who,
                    topology: Box::default()
                }
            )
            .state,
            ConnState::Connected
        );
        assert_eq!(src.grant(), Grant::Act);
        src.advance(t1 + Duration::from_secs(7));
        assert_eq!(src.connections().remove(0).state, ConnState::Stale { age_secs: 7 });
    }

    #[test]
    fn a_request_with_no_controller_to_take_it_is_answered_at_once() {
        let mut src = source();
        let req = Request::new(Command::Maintenance {
            pair: "p".into(),
            on: true,
            expires: None,
        });
        src.submit(Ask::Request(req));
        let mut out = Vec::new();
        src.take_replies(&mut out);
        match out.as_slice() {
            [Reply::Requested { result: Err(e), .. }] => assert_eq!(e.error, "unavailable"),
            other => panic!("{other:?}"),
        }
    }
}
