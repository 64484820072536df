//! Console benchmarks (not tests: nothing here asserts a time). Prints one table of
//! measurements, each with the baseline it is compared to, measured in the same run:
//!
//! - frame render time, built-in deployment and 1,000 pairs with 100,000 events, against
//!   rendering an empty frame on the same backend;
//! - keystroke-to-frame latency (key handled, frame diffed and written), against writing
//!   an empty frame;
//! - CPU and bytes written per second by the real binary in tmux with the drill paused,
//!   against the same binary running the drill at 1x (skipped without tmux);
//! - the live console ([`live`]): keystroke-to-frame while it takes in 1,000 events a
//!   second, against the same on the drill; and the real binary's CPU and bytes on an idle
//!   real controller, against the paused and the running drill.
//!
//! Run: `cargo bench --bench console`.

use std::hint::black_box;
use std::io;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "console/live.rs"]
mod live;

use hactl::console::keys::Key;
use hactl::console::source::{Ask, ConnState, Connection, Grant, Reply, ScriptChoice, ScriptRunView};
use hactl::console::theme::{Depth, Theme};
use hactl::console::{Console, DrillSource, Source};
use hactl::engine::{Operator, config};
use hactl::wire::{EventRecord, RunId, Snapshot};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

/// Mean time of `f` over about `budget`, after a warm-up.
fn time(budget: Duration, mut f: impl FnMut()) -> Duration {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    start.elapsed() / n.max(1)
}

pub fn operator() -> Operator {
    Operator {
        name: "bench".into(),
        from: None,
    }
}

fn builtin() -> Console<DrillSource> {
    let mut src = DrillSource::new(config::builtin(), 1, 1.0, operator());
    src.run_for(60_000);
    Console::new(src, Theme::load(None, Depth::Ansi16).unwrap(), false, "bench".into())
}

/// A source that serves one fixed snapshot and hands over one event log (the benchmark's
/// large case).
struct Fixed {
    snapshot: Snapshot,
    events: Vec<EventRecord>,
}

impl Source for Fixed {
    fn connections(&self) -> Vec<Connection> {
        vec![Connection {
            label: "bench".into(),
            state: ConnState::Connected,
            ..Connection::default()
        }]
    }
    fn advance(&mut self, _: Instant) -> bool {
        false
    }
    fn next_change(&self, _: Instant) -> Option<Duration> {
        None
    }
    fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
    fn revision(&self) -> u64 {
        0
    }
    fn take_events(&mut self, out: &mut Vec<EventRecord>) {
        out.append(&mut self.events);
    }
    fn submit(&mut self, _: Ask) {}
    fn take_replies(&mut self, _: &mut Vec<Reply>) {}
    fn grant(&self) -> Grant {
        Grant::Act
    }
    fn scripts(&self) -> Vec<ScriptChoice> {
        Vec::new()
    }
    fn script_run(&mut self, _: &RunId) -> Option<ScriptRunView> {
        None
    }
}

/// 1,000 generated pairs booted in the drill, with the event log filled to 100,000
/// records (the drill's own records, repeated with new sequence numbers).
fn large() -> (Console<Fixed>, String) {
    let topo = hactl::drill::random::generate(1000).expect("a 1,000-pair deployment");
    let note = "1,000 generated pairs".to_string();
    let mut src = DrillSource::new(topo, 1, 1.0, operator());
    src.run_for(60_000);
    let snapshot = src.snapshot().clone();
    let mut real = Vec::new();
    src.take_events(&mut real);
    let mut events = Vec::with_capacity(100_000);
    while events.len() < 100_000 {
        for r in &real {
            let mut r = r.clone();
            r.seq = events.len() as u64;
            events.push(r);
            if events.len() >= 100_000 {
                break;
            }
        }
    }
    let note = format!("{note}, {} pairs, {} events", snapshot.pairs.len(), events.len());
    let c = Console::new(
        Fixed { snapshot, events },
        Theme::load(None, Depth::Ansi16).unwrap(),
        false,
        "bench".into(),
    );
    (c, note)
}

fn render_time<S: Source>(c: &Console<S>, w: u16, h: u16) -> Duration {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    time(Duration::from_millis(700), || {
        t.draw(|f| c.render(f)).unwrap();
    })
}

fn empty_render(w: u16, h: u16) -> Duration {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    time(Duration::from_millis(700), || {
        t.draw(|f| {
            black_box(f.area());
        })
        .unwrap();
    })
}

pub fn sink_terminal(w: u16, h: u16) -> Terminal<CrosstermBackend<io::Sink>> {
    Terminal::with_options(
        CrosstermBackend::new(io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )
    .unwrap()
}

/// A key pressed, the state updated, the frame drawn and written (synchronized update).
fn key_latency<S: Source>(c: &mut Console<S>, w: u16, h: u16) -> Duration {
    let mut t = sink_terminal(w, h);
    let mut down = true;
    time(Duration::from_millis(700), || {
        c.key(if down { Key::Down } else { Key::Up });
        down = !down;
        c.draw(&mut t).unwrap();
    })
}

fn empty_write(w: u16, h: u16) -> Duration {
    let mut t = sink_terminal(w, h);
    time(Duration::from_millis(700), || {
        t.draw(|_| {}).unwrap();
    })
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.1}x", a.as_secs_f64() / b.as_secs_f64().max(1e-12))
}

/// CPU seconds (user + system) of a process so far, from /proc.
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Runs the binary in tmux and measures CPU share and bytes written over `secs`,
/// paused or at 1x. `None` without tmux.
fn idle_run(paused: bool, secs: u64) -> Option<(f64, f64)> {
    Command::new("tmux").arg("-V").output().ok()?;
    let bin = env!("CARGO_BIN_EXE_hactl");
    let s = format!("hactl-bench-{}-{paused}", std::process::id());
    let out = std::env::temp_dir().join(format!("{s}.out"));
    let _ = std::fs::remove_file(&out);
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().ok();
    tmux(&["new-session", "-d", "-s", &s, "-x", "120", "-y", "40", bin, "drill"])?;
    std::thread::sleep(Duration::from_secs(3));
    if paused {
        tmux(&["send-keys", "-t", &s, "Space"]);
    }
    std::thread::sleep(Duration::from_secs(1));
    let measured = measure_pane(&s, secs, &out);
    tmux(&["kill-session", "-t", &s]);
    let _ = std::fs::remove_file(&out);
    measured
}

/// The CPU share of the process in tmux session `s` and the bytes it writes to its
/// terminal per second, over `secs` (the output piped to `out`).
pub fn measure_pane(s: &str, secs: u64, out: &std::path::Path) -> Option<(f64, f64)> {
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().ok();
    let pid = String::from_utf8(tmux(&["list-panes", "-t", s, "-F", "#{pane_pid}"])?.stdout).ok()?;
    let pid = pid.trim().to_string();
    tmux(&["pipe-pane", "-t", s, "-o", &format!("cat >> {}", out.display())]);
    let c0 = cpu_secs(&pid)?;
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let c1 = cpu_secs(&pid)?;
    let wall = t0.elapsed().as_secs_f64();
    tmux(&["pipe-pane", "-t", s]);
    let bytes = std::fs::metadata(out).map_or(0, |m| m.len()) as f64;
    Some(((c1 - c0) / wall * 100.0, bytes / wall))
}

fn main() {
    println!("console benchmarks (means; baselines measured in the same run)\n");
    let base = empty_render(120, 40);
    let base80 = empty_render(80, 24);
    let mut small = builtin();
    let (mut big, note) = large();
    println!("large case: {note}\n");
    println!("| measurement | value | baseline | ratio |\n|---|---|---|---|");
    let row = |name: &str, v: Duration, b: Duration, bname: &str| {
        println!("| {name} | {} | {bname} {} | {} |", us(v), us(b), ratio(v, b));
    };
    row(
        "frame, built-in, Pairs, 80x24",
        render_time(&small, 80, 24),
        base80,
        "empty frame 80x24",
    );
    row(
        "frame, built-in, Pairs, 120x40",
        render_time(&small, 120, 40),
        base,
        "empty frame 120x40",
    );
    small.key(Key::Char('3'));
    row(
        "frame, built-in, Events, 120x40",
        render_time(&small, 120, 40),
        base,
        "empty frame 120x40",
    );
    row(
        "frame, 1,000 pairs, Pairs, 120x40",
        render_time(&big, 120, 40),
        base,
        "empty frame 120x40",
    );
    big.key(Key::Char('3'));
    row(
        "frame, 100,000 events, Events (follow), 120x40",
        render_time(&big, 120, 40),
        base,
        "empty frame 120x40",
    );
    big.key(Key::Char('g'));
    row(
        "frame, 100,000 events, Events (scrolled back), 120x40",
        render_time(&big, 120, 40),
        base,
        "empty frame 120x40",
    );
    big.key(Key::Char('1'));
    small.key(Key::Char('1'));
    let wbase = empty_write(120, 40);
    row(
        "key to frame written, built-in, 120x40",
        key_latency(&mut small, 120, 40),
        wbase,
        "empty frame written",
    );
    row(
        "key to frame written, 1,000 pairs, 120x40",
        key_latency(&mut big, 120, 40),
        wbase,
        "empty frame written",
    );
    let filter_start = Instant::now();
    big.key(Key::Char('3'));
    for ch in "vip".chars() {
        big.key(Key::Char('/'));
        big.key(Key::Char(ch));
        big.key(Key::Enter);
    }
    let filter = filter_start.elapsed() / 3;
    println!(
        "| `/` filter keystroke over 100,000 events (refilter) | {} | | |",
        us(filter)
    );
    println!();
    let (url, sent) = live::stand_in(1000);
    let mut c = live::console(&url);
    c.key(Key::Char('3'));
    let sent0 = sent.load(std::sync::atomic::Ordering::Relaxed);
    let (mean, worst, took) = live::key_latency_streaming(&mut c, 50);
    let sent1 = sent.load(std::sync::atomic::Ordering::Relaxed);
    let drill = live::key_latency_drill(50);
    println!(
        "| key to frame written, live source taking in 1,000 events/s, Events view, 120x40 (mean of 50, one key per 100 ms turn) | {} | drill, same loop {} | {} |",
        us(mean),
        us(drill),
        ratio(mean, drill)
    );
    println!("| the same, worst of 50 | {} | | |", us(worst));
    println!(
        "| events the console took in during those keys / sent by the stand-in | {took} / {} | | |",
        sent1 - sent0
    );
    drop(c);
    println!();
    match (idle_run(true, 10), idle_run(false, 10), live::idle_run(10)) {
        (Some((cpu_p, bytes_p)), Some((cpu_r, bytes_r)), live) => {
            println!(
                "| real binary in tmux, 120x40, 10 s | drill paused | drill running 1x (baseline) | live, idle controller |\n|---|---|---|---|"
            );
            let (cpu_l, bytes_l) = live.map_or(("n/a".to_string(), "n/a".to_string()), |(c, b)| {
                (format!("{c:.2} %"), format!("{b:.0} B/s"))
            });
            println!("| CPU, % of one core | {cpu_p:.2} % | {cpu_r:.2} % | {cpu_l} |");
            println!("| bytes written to the terminal per second | {bytes_p:.0} B/s | {bytes_r:.0} B/s | {bytes_l} |");
        }
        _ => println!("(idle CPU and bytes skipped: tmux is not installed)"),
    }
}
