//! The runtime: one [`Console`] owns the state, the source and the theme, and one loop
//! drives it. Each turn brings the source up to now, draws if anything changed (inside a
//! synchronized update, so the terminal never shows half a frame), then waits for a key
//! no longer than the next thing worth showing: a drill step while time runs, the wall
//! clock's next minute when paused. Effects that `update` asks for are handed to the
//! source here, and its answers, whenever they come, fed back as messages: nothing in the
//! loop waits for the network.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::time::{Duration, Instant, SystemTime};

use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{self, Event};
use ratatui::crossterm::queue;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::{Frame, Terminal};

use super::keys::Key;
use super::source::{Ask, Reply, Source};
use super::state::{Effect, Msg, State, update};
use super::term;
use super::theme::Theme;
use super::view;

/// Longest wait for input: how late a signal may be noticed.
const MAX_WAIT: Duration = Duration::from_millis(250);

pub struct Console<S: Source> {
    pub state: State,
    pub source: S,
    pub theme: Theme,
    clear: bool,
    /// Requests sent so far: part of each request's id.
    requests: u64,
}

impl<S: Source> Console<S> {
    pub fn new(source: S, theme: Theme, read_only: bool, operator: String) -> Console<S> {
        let mut c = Console {
            state: State::new(read_only, operator),
            source,
            theme,
            clear: false,
            requests: 0,
        };
        c.refresh();
        c
    }

    /// Brings the source and the state up to `wall`.
    pub fn tick(&mut self, wall: Instant) {
        self.source.advance(wall);
        self.refresh();
    }

    /// Reads the source, and feeds every answer that arrived back as a message, until
    /// nothing more is waiting.
    pub fn refresh(&mut self) {
        let mut replies = Vec::new();
        loop {
            self.state.sync(&mut self.source);
            self.source.take_replies(&mut replies);
            if replies.is_empty() {
                return;
            }
            for r in replies.drain(..) {
                let msg = match r {
                    Reply::Plan { target, result, .. } => Msg::PlanLoaded(target, result.map_err(|e| e.to_string())),
                    Reply::Requested { req, result } => Msg::Requested(req, result),
                    Reply::Older(page) => Msg::Page { older: true, page },
                    Reply::Newer(page) => Msg::Page { older: false, page },
                };
                self.handle(msg);
            }
        }
    }

    /// Sets the header's wall clock (`HH:MM UTC`, minute resolution: no redraw each second).
    pub fn set_wall_clock(&mut self, now: SystemTime) {
        let ms = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.state.wall_ms = ms;
        let secs = ms / 1000;
        let s = format!("{:02}:{:02} UTC", (secs / 3600) % 24, (secs / 60) % 60);
        if s != self.state.wall_clock {
            self.state.wall_clock = s;
            self.state.dirty = true;
        }
    }

    /// A key press.
    pub fn key(&mut self, key: Key) {
        if let Some(msg) = super::state::key_msg(&self.state, key) {
            self.dispatch(msg);
        }
    }

    /// Runs a message and every effect it causes, then reads the source again.
    pub fn dispatch(&mut self, msg: Msg) {
        self.handle(msg);
        self.refresh();
    }

    /// Runs a message and every effect it causes.
    fn handle(&mut self, msg: Msg) {
        let mut queue = VecDeque::from([msg]);
        while let Some(m) = queue.pop_front() {
            for effect in update(&mut self.state, m) {
                if let Some(result) = self.run(effect) {
                    queue.push_back(result);
                }
            }
        }
    }

    fn run(&mut self, effect: Effect) -> Option<Msg> {
        const NO_DRILL: &str = "drill controls exist only in a drill";
        match effect {
            Effect::LoadPlan(target, to) => {
                self.source.submit(Ask::Plan { target, to });
                None
            }
            Effect::Request(mut req) => {
                // Idempotent: the controller carries a request out once, whatever happens
                // to its answer on the way.
                if req.request_id.is_none() {
                    self.requests += 1;
                    req.request_id = Some(format!(
                        "console-{}-{}-{}",
                        std::process::id(),
                        self.state.wall_ms,
                        self.requests
                    ));
                }
                self.source.submit(Ask::Request(req));
                None
            }
            Effect::LoadEvents(ask) => {
                self.source.submit(ask);
                None
            }
            Effect::Drill(op) => Some(Msg::DrillDone(match self.source.drill_mut() {
                Some(d) => d.drill_op(op),
                None => Err(NO_DRILL.into()),
            })),
            Effect::LoadFaultTargets(kind) => Some(Msg::FaultTargets(
                self.source.drill().map(|d| d.fault_targets(&kind)).unwrap_or_default(),
            )),
            Effect::ExportEvents => Some(Msg::Exported(export_events(&self.state))),
            Effect::Redraw => {
                self.clear = true;
                None
            }
            Effect::Quit => None,
        }
    }

    /// Draws the console into a frame (tests and benchmarks call this directly).
    pub fn render(&self, f: &mut Frame) {
        view::draw(f, &self.state, &self.theme);
    }

    /// Draws one frame inside a synchronized update.
    pub fn draw<W: Write>(&mut self, terminal: &mut Terminal<CrosstermBackend<W>>) -> io::Result<()> {
        queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
        if std::mem::take(&mut self.clear) {
            terminal.clear()?;
        }
        terminal.draw(|f| view::draw(f, &self.state, &self.theme))?;
        queue!(terminal.backend_mut(), EndSynchronizedUpdate)?;
        Backend::flush(terminal.backend_mut())?;
        self.state.dirty = false;
        Ok(())
    }

    /// How long the loop may wait for input.
    pub fn timeout(&self, wall: Instant) -> Duration {
        self.source.next_change(wall).unwrap_or(MAX_WAIT).min(MAX_WAIT)
    }

    pub fn quitting(&self) -> bool {
        self.state.quit
    }
}

/// Writes the events shown in the Events view (filters applied), one JSON object a line,
/// each with the wall-clock time it reached the console (`wall`), to a new file in the
/// export directory. Returns the path and the count.
pub fn export_events(state: &State) -> Result<(String, usize), String> {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        wall: String,
        #[serde(flatten)]
        event: &'a crate::wire::EventRecord,
    }
    let stamp = super::state::rfc3339(state.wall_ms).replace([':', '.'], "");
    let mut n = 0;
    let mut path = state.export_dir.join(format!("hactl-events-{stamp}.jsonl"));
    while path.exists() {
        n += 1;
        path = state.export_dir.join(format!("hactl-events-{stamp}-{n}.jsonl"));
    }
    let mut out = Vec::new();
    for &i in &state.log.shown {
        let line = Line {
            wall: super::state::rfc3339(state.log.wall.get(i).copied().unwrap_or(0)),
            event: &state.log.all[i],
        };
        serde_json::to_writer(&mut out, &line).map_err(|e| e.to_string())?;
        out.push(b'\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(&out).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path.display().to_string(), state.log.shown.len()))
}

/// Most keys handled before the screen is drawn again: a paste arrives as a burst of keys,
/// and drawing after each one would hold the console for as long as the paste is long.
const KEYS_PER_FRAME: usize = 4096;

/// Runs the console on the terminal until the operator quits, a signal arrives or the
/// terminal goes away. The terminal is restored on every one of those paths. Returns the
/// signal that stopped it, if one did (the caller exits with 128 + its number).
pub fn run<S: Source>(mut console: Console<S>) -> io::Result<Option<i32>> {
    let stop = term::stop_signals()?;
    term::install_panic_hook();
    term::spawn_watchdog(stop.clone());
    let _guard = term::Guard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    loop {
        if term::stopped(&stop) || console.quitting() {
            break;
        }
        let now = Instant::now();
        // The wall clock first: events taken in this turn arrived now.
        console.set_wall_clock(SystemTime::now());
        console.tick(now);
        if console.state.dirty && console.draw(&mut terminal).is_err() {
            break; // the terminal is gone
        }
        let mut wait = console.timeout(now);
        let mut handled = 0;
        // Every event already waiting is handled before the next frame.
        loop {
            match event::poll(wait) {
                Ok(false) => break,
                Ok(true) => match event::read() {
                    Ok(Event::Key(k)) => {
                        if let Some(key) = Key::from_event(&k) {
                            console.key(key);
                        }
                    }
                    Ok(Event::Resize(..)) => {
                        if terminal.autoresize().is_err() {
                            return Ok(term::stop_signal(&stop));
                        }
                        console.state.dirty = true;
                    }
                    Ok(Event::FocusGained) => console.state.dirty = true,
                    Ok(_) => {}
                    Err(_) => return Ok(term::stop_signal(&stop)),
                },
                Err(_) => return Ok(term::stop_signal(&stop)),
            }
            handled += 1;
            if handled >= KEYS_PER_FRAME || console.quitting() || term::stopped(&stop) {
                break;
            }
            wait = Duration::ZERO;
        }
    }
    Ok(term::stop_signal(&stop))
}
