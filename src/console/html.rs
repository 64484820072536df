//! Renders a drawn screen (a ratatui [`Buffer`]) as a standalone HTML page, one `<span>`
//! per run of cells with the same style, so that a headless browser can turn real renders
//! of the console into the PNG screenshots of `screenshots/`. The 16 ANSI colours map to
//! a fixed xterm-like palette; indexed and true colours map exactly.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const BG: &str = "#1d1f21";
const FG: &str = "#d8d8d8";

fn rgb(c: Color, fg: bool) -> String {
    let named = |i: usize| {
        [
            "#1d1f21", "#cc3e3e", "#4fae4f", "#c8a828", "#3a6fcf", "#a640a6", "#2aa3a3", "#c8c8c8", "#707070",
            "#ff6060", "#7ce07c", "#f0e060", "#7aa6ff", "#ff80ff", "#70f0f0", "#ffffff",
        ][i]
            .to_string()
    };
    match c {
        Color::Reset => (if fg { FG } else { BG }).to_string(),
        Color::Black => named(0),
        Color::Red => named(1),
        Color::Green => named(2),
        Color::Yellow => named(3),
        Color::Blue => named(4),
        Color::Magenta => named(5),
        Color::Cyan => named(6),
        Color::Gray => named(7),
        Color::DarkGray => named(8),
        Color::LightRed => named(9),
        Color::LightGreen => named(10),
        Color::LightYellow => named(11),
        Color::LightBlue => named(12),
        Color::LightMagenta => named(13),
        Color::LightCyan => named(14),
        Color::White => named(15),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) if i < 16 => named(i as usize),
        Color::Indexed(i) if i < 232 => {
            let i = i - 16;
            let lvl = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            format!("#{:02x}{:02x}{:02x}", lvl(i / 36), lvl((i / 6) % 6), lvl(i % 6))
        }
        Color::Indexed(i) => {
            let g = 8 + (i - 232) * 10;
            format!("#{g:02x}{g:02x}{g:02x}")
        }
    }
}

fn escape(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            ' ' => out.push('\u{a0}'),
            c => out.push(c),
        }
    }
}

/// The page for `buf`, titled `title`.
pub fn page(buf: &Buffer, title: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title><style>\
         body{{margin:0;background:{BG};}}\
         pre{{margin:0;padding:8px;font:15px/1.25 'DejaVu Sans Mono','Liberation Mono',monospace;color:{FG};background:{BG};}}\
         span{{white-space:pre}}</style></head><body><pre>"
    );
    let area = buf.area;
    for y in area.top()..area.bottom() {
        let mut run = String::new();
        let mut style = None;
        for x in area.left()..area.right() {
            let cell = &buf[(x, y)];
            let s = cell.style();
            if style != Some(s) {
                flush(&mut out, &mut run, style);
                style = Some(s);
            }
            run.push_str(cell.symbol());
        }
        flush(&mut out, &mut run, style);
        out.push('\n');
    }
    out.push_str("</pre></body></html>\n");
    out
}

fn flush(out: &mut String, run: &mut String, style: Option<ratatui::style::Style>) {
    if run.is_empty() {
        return;
    }
    let s = style.unwrap_or_default();
    let (mut fg, mut bg) = (
        rgb(s.fg.unwrap_or(Color::Reset), true),
        rgb(s.bg.unwrap_or(Color::Reset), false),
    );
    if s.add_modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    let mut css = format!("color:{fg};background:{bg};");
    if s.add_modifier.contains(Modifier::BOLD) {
        css.push_str("font-weight:bold;");
    }
    if s.add_modifier.contains(Modifier::UNDERLINED) {
        css.push_str("text-decoration:underline;");
    }
    if s.add_modifier.contains(Modifier::DIM) {
        css.push_str("opacity:0.7;");
    }
    let _ = write!(out, "<span style=\"{css}\">");
    escape(run, out);
    out.push_str("</span>");
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn one_span_per_style_run_and_escaped_text() {
        let mut b = Buffer::empty(Rect::new(0, 0, 6, 1));
        b.set_string(0, 0, "<a>", Style::default().fg(Color::Red));
        b.set_string(3, 0, "&", Style::default());
        let html = page(&b, "t");
        assert!(
            html.contains("color:#cc3e3e;background:#1d1f21;\">&lt;a&gt;</span>"),
            "{html}"
        );
        assert!(html.contains("&amp;"));
    }
}
