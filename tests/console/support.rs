//! Shared harness: a console over the built-in drill with a fixed operator and clock,
//! key scripts written as text (`s<Right><Enter>`), and renders to plain text.

use hactl::console::keys::Key;
use hactl::console::theme::{Depth, Theme};
use hactl::console::{Console, DrillSource, Source};
use hactl::engine::{Operator, config};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn operator() -> Operator {
    Operator {
        name: "alice".into(),
        from: Some("192.0.2.7".into()),
    }
}

/// A console over the built-in deployment, 30 s into the drill (everything up).
pub fn console(read_only: bool) -> Console<DrillSource> {
    console_at(read_only, 30_000)
}

/// A console over the built-in deployment, `ms` into the drill.
pub fn console_at(read_only: bool, ms: u64) -> Console<DrillSource> {
    let src = DrillSource::new(config::builtin(), 1, 1.0, operator());
    let theme = Theme::load(None, Depth::Ansi16).unwrap();
    let mut c = Console::new(src, theme, read_only, operator().label());
    c.state.wall_clock = "12:00 UTC".into();
    c.state.wall_ms = 1_714_564_800_000; // 2024-05-01 12:00:00 UTC
    settle(&mut c, ms);
    c
}

/// The row of the screen that starts with `prefix` (after the selection marker).
pub fn line_of<'a>(screen: &'a str, prefix: &str) -> &'a str {
    screen
        .lines()
        .find(|l| {
            let rest = l.strip_prefix("▶ ").or_else(|| l.strip_prefix("  ")).unwrap_or(l);
            rest.trim_start().starts_with(prefix) || l.starts_with(prefix)
        })
        .unwrap_or_else(|| panic!("no line starting with `{prefix}`:\n{screen}"))
}

/// Lets `ms` of virtual time pass, reading the source every 100 ms as the event loop
/// does (so state timelines are sampled as finely as on a real terminal).
pub fn settle(c: &mut Console<DrillSource>, ms: u64) {
    let mut left = ms;
    while left > 0 {
        let step = left.min(100);
        c.source.run_for(step);
        c.refresh();
        left -= step;
    }
}

/// Presses keys: plain characters, or names in angle brackets (`<Enter>`, `<Esc>`,
/// `<Right>`, `<Left>`, `<Up>`, `<Down>`, `<Tab>`, `<Space>`, `<BS>`).
pub fn press<S: Source>(c: &mut Console<S>, script: &str) {
    let mut chars = script.chars();
    while let Some(ch) = chars.next() {
        let key = if ch == '<' {
            let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
            match name.as_str() {
                "Enter" => Key::Enter,
                "Esc" => Key::Esc,
                "Right" => Key::Right,
                "Left" => Key::Left,
                "Up" => Key::Up,
                "Down" => Key::Down,
                "Tab" => Key::Tab,
                "Space" => Key::Char(' '),
                "BS" => Key::Backspace,
                "PgDn" => Key::PageDown,
                "PgUp" => Key::PageUp,
                "End" => Key::End,
                "Home" => Key::Home,
                other => panic!("unknown key <{other}>"),
            }
        } else {
            Key::Char(ch)
        };
        c.key(key);
    }
}

/// The screen as text, one line per row, trailing spaces trimmed.
pub fn render<S: Source>(c: &Console<S>, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| c.render(f)).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
