//! Drawing: one function per view or dialog, all pure functions of the [`State`] and the
//! [`Theme`]. This file lays out the screen (header, tabs, body, status line, key bar),
//! picks the body and the dialog on top, and holds the small helpers every view uses.
//! Every width is computed with saturating arithmetic, so any size from 1x1 up draws.

mod chrome;
mod describe;
mod detail;
mod dialogs;
mod drill;
mod events;
mod help;
mod hostdetail;
mod hosts;
mod pairs;
mod report;
mod sites;
mod switchover;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::state::health::Sev;
use super::state::{DRILL, EVENTS, HOSTS, Modal, PAIRS, SITES, State};
use super::theme::{Role, Theme};
use crate::engine::Severity;

/// Draws the whole console.
pub fn draw(f: &mut Frame, state: &State, theme: &Theme) {
    let area = f.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    if area.width < 30 || area.height < 8 {
        chrome::tiny(f, area, state, theme);
        return;
    }
    let header = Rect { height: 2, ..area };
    let tabs = row(area, 2);
    let keybar = row(area, area.height - 1);
    let status = row(area, area.height - 2);
    let body = Rect {
        x: area.x,
        y: area.y + 3,
        width: area.width,
        height: area.height.saturating_sub(5),
    };
    chrome::header(f, header, state, theme);
    chrome::tabs(f, tabs, state, theme);
    match (state.view, &state.detail) {
        (_, Some(pair)) => detail::draw(f, body, state, theme, pair),
        (HOSTS, None) if state.host_detail.is_some() => {
            hostdetail::draw(f, body, state, theme, state.host_detail.as_deref().unwrap_or_default())
        }
        (PAIRS, _) => pairs::draw(f, body, state, theme),
        (HOSTS, _) => hosts::draw(f, body, state, theme),
        (EVENTS, _) => events::draw(f, body, state, theme),
        (SITES, _) => sites::draw(f, body, state, theme),
        (DRILL, _) => drill::draw(f, body, state, theme),
        _ => {}
    }
    chrome::status(f, status, state, theme);
    chrome::keybar(f, keybar, state, theme);
    // Dialogs leave the header (banner, clock) and the key bar visible.
    let area = Rect {
        y: area.y + 2,
        height: area.height.saturating_sub(3),
        ..area
    };
    if let Some(m) = &state.modal {
        match m {
            Modal::Help { scroll } => help::draw(f, area, state, theme, *scroll),
            Modal::Switchover(d) => switchover::draw(f, area, state, theme, d),
            Modal::Report { scroll } => report::draw(f, area, state, theme, *scroll),
            Modal::Describe { pair, scroll } => describe::draw(f, area, state, theme, pair, *scroll),
            other => dialogs::draw(f, area, state, theme, other),
        }
    }
}

/// The one-line rect at `y` (relative to `area`), clipped to it.
pub(crate) fn row(area: Rect, y: u16) -> Rect {
    Rect {
        x: area.x,
        y: area.y.saturating_add(y.min(area.height.saturating_sub(1))),
        width: area.width,
        height: u16::from(area.height > y),
    }
}

/// `s` cut or padded to exactly `w` columns (an ellipsis marks a cut).
pub(crate) fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        let mut out = String::with_capacity(w);
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', w - n));
        out
    } else if w == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(w - 1).collect();
        out.push('…');
        out
    }
}

pub(crate) fn span(s: impl Into<String>, theme: &Theme, role: Role) -> Span<'static> {
    Span::styled(s.into(), theme.get(role))
}

/// A centred box of at most `w` x `h` inside `area`, cleared, with a titled border.
pub(crate) fn dialog_box(f: &mut Frame, area: Rect, w: u16, h: u16, title: &str, theme: &Theme) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(area.width.min(10));
    let h = h.min(area.height.saturating_sub(2)).max(area.height.min(3));
    let r = Rect {
        x: area.x + area.width.saturating_sub(w) / 2,
        y: area.y + area.height.saturating_sub(h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.get(Role::Dialog))
        .style(theme.get(Role::Dialog))
        .title(Span::styled(format!(" {title} "), theme.get(Role::Title)));
    let inner = block.inner(r);
    f.render_widget(block, r);
    inner
}

/// Display columns of one character.
fn char_width(c: char) -> usize {
    let mut b = [0u8; 4];
    Span::raw(&*c.encode_utf8(&mut b)).width()
}

/// Display columns of a string.
pub(crate) fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// The end of `s` that fits in `w` columns, with `…` in front when cut (a long filter
/// shows what is being typed).
pub(crate) fn tail(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut used = 1;
    let mut out: Vec<char> = Vec::new();
    for c in s.chars().rev() {
        let cw = char_width(c);
        if used + cw > w {
            break;
        }
        used += cw;
        out.push(c);
    }
    std::iter::once('…').chain(out.into_iter().rev()).collect()
}

/// Lines wrapped to `w` columns (at a space when there is one on the line, otherwise
/// anywhere), keeping each piece's style. Scrolling counts these lines, not the unwrapped
/// ones, so the end of a long text can always be reached.
pub(crate) fn wrap(lines: Vec<Line<'static>>, w: usize) -> Vec<Line<'static>> {
    let w = w.max(1);
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.width() <= w {
            out.push(line);
            continue;
        }
        // Characters with their style, then cut into rows.
        let chars: Vec<(char, Style)> = line
            .spans
            .iter()
            .flat_map(|sp| sp.content.chars().map(move |c| (c, sp.style)))
            .collect();
        let mut start = 0;
        while start < chars.len() {
            let mut used = 0;
            let mut end = start;
            let mut last_space = None;
            while end < chars.len() && used + char_width(chars[end].0) <= w {
                used += char_width(chars[end].0);
                if chars[end].0 == ' ' {
                    last_space = Some(end);
                }
                end += 1;
            }
            if end == start {
                end = start + 1; // a character wider than the area
            } else if end < chars.len()
                && let Some(sp) = last_space.filter(|sp| *sp > start)
            {
                end = sp + 1;
            }
            let mut spans: Vec<Span<'static>> = Vec::new();
            for &(c, st) in &chars[start..end] {
                match spans.last_mut() {
                    Some(last) if last.style == st => last.content.to_mut().push(c),
                    _ => spans.push(Span::styled(c.to_string(), st)),
                }
            }
            out.push(Line::from(spans).style(line.style));
            start = end;
        }
    }
    out
}

/// Draws `lines` wrapped, scrolled so that line `scroll` is first (clamped to the
/// content). Returns how far it can scroll.
pub(crate) fn lines(f: &mut Frame, area: Rect, lines: Vec<Line<'static>>, scroll: usize, style: Style) -> usize {
    let lines = wrap(lines, area.width as usize);
    let max = lines.len().saturating_sub(area.height as usize);
    let skip = scroll.min(max);
    let shown: Vec<Line> = lines.into_iter().skip(skip).take(area.height as usize).collect();
    f.render_widget(Paragraph::new(shown).style(style), area);
    max
}

/// The first row to show so that `sel` is visible in `height` rows.
pub(crate) fn window(sel: usize, len: usize, height: usize) -> usize {
    if height == 0 || len <= height {
        0
    } else {
        sel.saturating_sub(height / 2).min(len - height)
    }
}

/// Buttons in a row: `[ Cancel ]  [ Switch over ]`, the focused one marked `> <`.
pub(crate) fn buttons(labels: &[&str], focus: usize, enabled: &[bool], theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw("  ")];
    for (i, l) in labels.iter().enumerate() {
        let on = enabled.get(i).copied().unwrap_or(true);
        let (text, role) = if i == focus {
            (format!(">[ {l} ]<"), Role::ButtonFocused)
        } else {
            (format!(" [ {l} ] "), Role::Button)
        };
        let text = if on { text } else { format!("{text} (disabled)") };
        spans.push(span(text, theme, if on { role } else { Role::Dim }));
        spans.push(Span::raw("   "));
    }
    Line::from(spans)
}

/// `12.5s`, `3m20s`: an age or a duration in ms.
pub(crate) fn age(ms: u64) -> String {
    crate::engine::Span(ms).to_string()
}

/// `12:00:07`: the time of day (UTC) of a wall-clock time in ms since the epoch.
pub(crate) fn hms(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

/// When something happened, as this console's data counts time: the drill's virtual
/// time (`1:02.350`), or a live controller's wall clock in UTC (`12:00:07.350`).
pub(crate) fn at(state: &State, t_ms: u64) -> String {
    if state.is_drill() {
        crate::engine::Time(t_ms).to_string()
    } else {
        format!("{}.{:03}", hms(t_ms), t_ms % 1000)
    }
}

/// `79ms ago`, `3m20s ago`: an age that cannot be read as a duration.
pub(crate) fn ago(ms: u64) -> String {
    format!("{} ago", age(ms))
}

/// The role of a severity.
pub(crate) fn sev_role(s: Sev) -> Role {
    match s {
        Sev::Ok => Role::Ok,
        Sev::Unknown | Sev::Warning => Role::Warn,
        Sev::Alarm => Role::Alarm,
        Sev::Critical => Role::Critical,
    }
}

/// The one-line health summary of the whole deployment (pairs, VIPs, hosts, sites,
/// links, endpoints), escalating to the worst fact: `[!!] 1 critical, 2 alarm: ...`.
pub(crate) fn health_line(state: &State, theme: &Theme) -> Span<'static> {
    let s = &state.snapshot;
    let (w, text) = super::state::health::summary(&state.facts);
    if w == Sev::Ok {
        span(
            format!(
                "all OK: {} pairs redundant; {} agents, {} sites, links up",
                s.pairs.len(),
                s.hosts.len(),
                s.sites.len()
            ),
            theme,
            Role::Ok,
        )
    } else {
        span(text, theme, sev_role(w))
    }
}

/// The role of an event severity, and its four-letter tag.
pub(crate) fn severity(sev: Severity) -> (&'static str, Role) {
    match sev {
        Severity::Warning => ("WARN", Role::Warn),
        Severity::Alarm => ("ALRM", Role::Alarm),
        Severity::Critical => ("CRIT", Role::Critical),
        Severity::Info => ("info", Role::Dim),
    }
}

/// The selection marker of a row: `▶` on the selected one (so the selection shows
/// without colour), blank elsewhere.
pub(crate) fn marker(selected: bool, theme: &Theme) -> Span<'static> {
    if selected {
        span("▶ ", theme, Role::Selected)
    } else {
        Span::raw("  ")
    }
}

/// A row, drawn in the selection style as a whole when selected.
pub(crate) fn select(spans: Vec<Span<'static>>, selected: bool, theme: &Theme) -> Line<'static> {
    if !selected {
        return Line::from(spans);
    }
    let s = theme.get(Role::Selected);
    Line::from(spans.into_iter().map(|sp| sp.style(s)).collect::<Vec<_>>())
}

/// The line above a Pairs or Hosts table when it is filtered, ordered or a prompt is
/// open: `order: severity · filter /sip_ · 3 of 10 pairs, 1 not OK hidden`. The count of
/// hidden rows that are not healthy keeps a filter from hiding trouble silently.
pub(crate) fn list_bar(
    state: &State,
    theme: &Theme,
    list: &super::state::ListView,
    noun: &str,
    (shown, total, hidden_bad): (usize, usize, usize),
    w: usize,
) -> Option<Line<'static>> {
    use super::state::{Order, Prompt};
    let prompt = state
        .prompt
        .as_ref()
        .filter(|_| state.view == PAIRS || state.view == HOSTS);
    if !list.narrowed_or_sorted() && prompt.is_none() {
        return None;
    }
    let mut spans = Vec::new();
    if list.order != Order::Config {
        spans.push(span(format!("order: {} ▼ ", list.order.word()), theme, Role::Title));
    }
    let mut count = format!("{shown} of {total} {noun}");
    if hidden_bad > 0 {
        count.push_str(&format!(", {hidden_bad} not OK hidden"));
    }
    count.push(' ');
    spans.push(span(count, theme, if hidden_bad > 0 { Role::Warn } else { Role::Dim }));
    let editing = prompt == Some(&Prompt::Filter);
    if !list.filter.is_empty() || editing {
        let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + 10 + usize::from(editing);
        spans.push(span("· filter /", theme, Role::Key));
        spans.push(span(
            format!(
                "{}{} ",
                tail(&list.filter, w.saturating_sub(used)),
                if editing { "_" } else { "" }
            ),
            theme,
            Role::Input,
        ));
    }
    if let Some(Prompt::Jump { text, .. }) = prompt {
        let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + 9;
        spans.push(span("· jump :", theme, Role::Key));
        spans.push(span(
            format!("{}_", tail(text, w.saturating_sub(used))),
            theme,
            Role::Input,
        ));
    }
    Some(Line::from(spans))
}
