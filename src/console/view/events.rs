//! The Events view: the live tail of the event log with follow or pause, scrollback, the
//! `/` text filter, a minimum severity, one correlation id, and the catalog ids operators
//! know. Severity reads as a tag (`WARN`, `ALRM`, `CRIT`), not only as a colour.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{at, fit, hms, select, severity, span, tail, window};
use crate::console::state::{SEVERITIES, State};
use crate::console::theme::{Role, Theme};

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let log = &state.log;
    let w = area.width as usize;
    // The count first, then the filters: a long filter is cut from the left so what is
    // being typed (and the cursor) stays on screen.
    let mut bar = vec![if log.follow {
        span("[FOLLOW ▼] ", theme, Role::Ok)
    } else {
        span("[PAUSED ‖] ", theme, Role::Warn)
    }];
    // What the window does not hold, and how to page it in.
    let mut dropped = match (log.dropped, log.older_exists()) {
        (0, true) => " (↑ at the top loads older)".to_string(),
        (n, true) => format!(" ({n} oldest dropped, ↑ at the top loads them)"),
        (n, false) if n > 0 => format!(" ({n} oldest dropped)"),
        _ => String::new(),
    };
    if !log.at_tail {
        dropped.push_str(" (not at the tail: ↓ at the end loads newer, f jumps there)");
    }
    match log.loading {
        Some(true) => dropped.push_str(" loading older…"),
        Some(false) => dropped.push_str(" loading newer…"),
        None => {}
    }
    bar.push(span(
        format!("{} of {} events{dropped} ", log.shown.len(), log.all.len()),
        theme,
        Role::Dim,
    ));
    if log.min_severity > 0 {
        bar.push(span(
            format!("severity ≥ {} ", SEVERITIES[log.min_severity].as_str()),
            theme,
            Role::Warn,
        ));
    }
    if let Some(c) = &log.correlation {
        bar.push(span(format!("incident {c} "), theme, Role::Warn));
    }
    if !log.filter.is_empty() || log.editing {
        let used: usize = bar.iter().map(|s| s.width()).sum::<usize>() + 8 + usize::from(log.editing);
        bar.push(span("filter /", theme, Role::Key));
        bar.push(span(
            format!(
                "{}{}",
                tail(&log.filter, w.saturating_sub(used)),
                if log.editing { "_" } else { "" }
            ),
            theme,
            Role::Input,
        ));
    }
    let src_w = if w >= 110 { 28 } else { 0 };
    let corr_w = if w >= 96 { 10 } else { 0 };
    let wall_w = if w >= 120 { 9 } else { 0 };
    let mut head = vec![span(fit("  TIME", 13), theme, Role::Title)];
    if wall_w > 0 {
        head.push(span(fit("WALL UTC", wall_w), theme, Role::Title));
    }
    head.extend([
        span(fit("SEV", 5), theme, Role::Title),
        span(fit("ID", 9), theme, Role::Title),
    ]);
    if src_w > 0 {
        head.push(span(fit("SOURCE", src_w), theme, Role::Title));
    }
    if corr_w > 0 {
        head.push(span(fit("INCIDENT", corr_w), theme, Role::Title));
    }
    head.push(span("MESSAGE", theme, Role::Title));
    let mut out = vec![Line::from(bar), Line::from(head)];
    // Scrolled back: the last two lines show the selected event in full.
    let detail = if log.follow { None } else { log.selected() };
    let h = (area.height as usize).saturating_sub(2 + if detail.is_some() { 2 } else { 0 });
    let first = if log.follow {
        log.shown.len().saturating_sub(h)
    } else {
        window(log.sel, log.shown.len(), h)
    };
    let msg_w = w.saturating_sub(13 + wall_w + 5 + 9 + src_w + corr_w);
    for (pos, &i) in log.shown.iter().enumerate().skip(first).take(h) {
        let e = &log.all[i];
        let selected = pos == log.sel && !log.follow;
        let (tag, role) = severity(e.severity);
        let t = at(state, e.t_ms);
        let mut spans = vec![span(
            format!("{}{}", if selected { "▶" } else { " " }, fit(&t, 12)),
            theme,
            Role::Dim,
        )];
        if wall_w > 0 {
            spans.push(span(
                fit(&hms(log.wall.get(i).copied().unwrap_or(0)), wall_w),
                theme,
                Role::Dim,
            ));
        }
        spans.extend([
            span(fit(tag, 5), theme, role),
            span(fit(e.id.code(), 9), theme, Role::Key),
        ]);
        if src_w > 0 {
            spans.push(span(fit(&e.source, src_w), theme, Role::Text));
        }
        let corr = e.correlation.clone().unwrap_or_default();
        if corr_w > 0 {
            spans.push(span(fit(&corr, corr_w), theme, Role::Dim));
            spans.push(span(fit(&e.message, msg_w), theme, Role::Text));
        } else {
            let m = if corr.is_empty() {
                e.message.clone()
            } else {
                format!("{} [{corr}]", e.message)
            };
            spans.push(span(fit(&m, msg_w), theme, Role::Text));
        }
        out.push(select(spans, selected, theme));
    }
    if log.shown.is_empty() {
        out.push(Line::from(span(
            if log.all.is_empty() {
                "no events yet"
            } else {
                "no event matches the filters (Esc clears them)"
            },
            theme,
            Role::Dim,
        )));
    }
    if let Some(e) = detail {
        let wall = log
            .selected_index()
            .and_then(|i| log.wall.get(i))
            .map(|ms| format!(" · received {} UTC", hms(*ms)))
            .unwrap_or_default();
        while out.len() < h + 2 {
            out.push(Line::raw(""));
        }
        out.push(Line::from(vec![
            span(format!("▶ {} {} ", e.id.code(), e.severity.as_str()), theme, Role::Key),
            span(
                format!(
                    "{} from {} about {}{}{wall}",
                    at(state, e.t_ms),
                    e.source,
                    e.subject,
                    e.correlation
                        .as_deref()
                        .map(|c| format!(" · incident {c}"))
                        .unwrap_or_default()
                ),
                theme,
                Role::Dim,
            ),
        ]));
        out.push(Line::from(span(format!("  {}", e.message), theme, Role::Text)));
    }
    f.render_widget(Paragraph::new(out), area);
}
