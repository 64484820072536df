//! Every terminal size from 1x1 to 200x60 draws without a panic, with and without a
//! dialog open, in every view.

use super::support::{console, press};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[test]
fn every_size_draws() {
    let mut c = console(false);
    let mut t = Terminal::new(TestBackend::new(1, 1)).unwrap();
    let states: [&str; 4] = ["", "s", "<Esc>3", "<Esc>5"];
    for (i, keys) in states.iter().enumerate() {
        press(&mut c, keys);
        // The first state sweeps every size; the others every third one.
        let step = if i == 0 { 1 } else { 3 };
        for w in (1..=200u16).step_by(step) {
            for h in (1..=60u16).step_by(step) {
                t.backend_mut().resize(w, h);
                t.resize(ratatui::layout::Rect::new(0, 0, w, h)).unwrap();
                t.draw(|f| c.render(f)).unwrap();
            }
        }
    }
}
