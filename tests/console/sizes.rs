//! Every terminal size from 1x1 to 200x60 draws without a panic, with and without a
//! dialog open, in every view (a host's detail and a filtered Pairs view included).

use super::support::{console, press};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[test]
fn every_size_draws() {
    let mut c = console(false);
    let mut t = Terminal::new(TestBackend::new(1, 1)).unwrap();
    // Then a dialog, Events, Drill, a host's detail, and Pairs ordered with the filter
    // prompt open.
    let states: [&str; 6] = ["", "s", "<Esc>3", "<Esc>5", "<Esc>2<Enter>", "<Esc>1o/we"];
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

/// With NO_COLOR (depth none) no cell carries a colour, and the state is still readable:
/// the selection marker, the banner in reverse video, the redundancy words.
#[test]
fn no_color_draws_without_colour_and_keeps_the_marks() {
    use hactl::console::theme::{Depth, Theme};
    use ratatui::style::{Color, Modifier};
    let mut c = console(false);
    c.theme = Theme::load(Some("dark"), Depth::None).unwrap();
    let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
    t.draw(|f| c.render(f)).unwrap();
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert!(cell.fg == Color::Reset && cell.bg == Color::Reset, "{cell:?}");
    }
    assert!(buf[(1, 0)].modifier.contains(Modifier::REVERSED), "banner stands out");
    let text: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("▶ east-sip") && text.contains("OK") && text.contains("DRILL"));
}
