//! With the drill paused the console writes (almost) nothing: it draws only when
//! something changed. Runs the event loop's steps on a simulated clock for a simulated
//! minute over a writer that counts bytes.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::support::{console, press};

#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Write for Counter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(b.len(), Ordering::Relaxed);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_paused_drill_writes_almost_nothing() {
    let mut c = console(false);
    let counter = Counter::default();
    let mut t = Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .unwrap();
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(12 * 3600);
    let start = Instant::now();
    c.tick(start);
    c.set_wall_clock(wall);
    press(&mut c, "<Space>");
    assert!(c.state.drill.as_ref().unwrap().paused);
    c.draw(&mut t).unwrap();
    let first = counter.0.load(Ordering::Relaxed);
    assert!(first > 500, "the first frame is drawn ({first} bytes)");
    // One simulated minute, waking up as the loop would.
    let mut now = start;
    let mut frames = 0;
    while now < start + Duration::from_secs(59) {
        now += c.timeout(now);
        c.tick(now);
        c.set_wall_clock(wall + (now - start));
        if c.state.dirty {
            c.draw(&mut t).unwrap();
            frames += 1;
        }
    }
    let idle = counter.0.load(Ordering::Relaxed) - first;
    assert_eq!(frames, 0, "no frame drawn while paused");
    assert!(idle < 64, "{idle} bytes written in a paused minute");
    // Running again, frames follow the clock.
    press(&mut c, "<Space>");
    for _ in 0..20 {
        now += c.timeout(now);
        c.tick(now);
        if c.state.dirty {
            c.draw(&mut t).unwrap();
            frames += 1;
        }
    }
    assert!(frames > 0, "a running drill redraws");
}
