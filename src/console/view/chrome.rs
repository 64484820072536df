//! The frame around every view: the header (the DRILL banner that cannot be taken for
//! production, the source and its connection state, the operator, the read-only flag, the
//! clocks), the view tabs with a count of what is not redundant, the status line (actions
//! in flight and their results) and the key bar generated from the key table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fit, row, span};
use crate::console::keys::{self, Scope};
use crate::console::source::ConnState;
use crate::console::state::health::{self, Sev};
use crate::console::state::{Level, State, VIEWS};
use crate::console::theme::{Role, Theme};
use crate::engine::Time;

/// The banner text: repeated across the line in a drill.
fn banner(state: &State, width: usize) -> String {
    if state.is_drill() {
        let unit = " DRILL ▒ SIMULATED DEPLOYMENT ▒ NOT PRODUCTION ▒";
        let mut s = String::new();
        while s.chars().count() < width {
            s.push_str(unit);
        }
        fit(&s, width)
    } else {
        fit(" LIVE ▒ PRODUCTION CONTROLLERS", width)
    }
}

/// The virtual clock and the speed: `T+0:03:12 ▶ 10x` or `T+0:03:12 ⏸ PAUSED`.
pub(crate) fn clock(state: &State) -> String {
    match &state.drill {
        Some(d) => {
            let t = Time(d.now_ms).to_string();
            let t = t.split('.').next().unwrap_or_default().to_string();
            if d.finished {
                format!("T+{t} ■ ENDED")
            } else if d.paused {
                format!("T+{t} ⏸ PAUSED")
            } else {
                format!("T+{t} ▶ {}x", d.speed)
            }
        }
        None => String::new(),
    }
}

pub fn header(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let w = area.width as usize;
    f.render_widget(
        Paragraph::new(Line::from(span(banner(state, w), theme, Role::Banner))),
        row(area, 0),
    );
    let read_only = state.grant() == keys::Grant::View;
    let mut spans = Vec::new();
    let clock = clock(state);
    if !clock.is_empty() {
        spans.push(span(format!(" {clock} "), theme, Role::Header));
        spans.push(span("│", theme, Role::Header));
    }
    spans.extend([
        span(
            if read_only { " READ-ONLY " } else { " read-write " },
            theme,
            if read_only { Role::Warn } else { Role::Header },
        ),
        span("│", theme, Role::Header),
        span(format!(" op {} ", state.operator), theme, Role::Header),
        span("│", theme, Role::Header),
        span(" src ", theme, Role::Header),
    ]);
    // Each connection with its own state: a lost one stands out, in words first.
    for (i, c) in state.connections.iter().enumerate() {
        let role = match c.state {
            ConnState::Drill | ConnState::Connected => Role::Header,
            ConnState::Reconnecting { .. } => Role::Warn,
            ConnState::Stale { .. } => Role::Alarm,
        };
        let sep = if i + 1 < state.connections.len() { "," } else { "" };
        spans.push(span(format!("{}: {}", c.label, c.state.label()), theme, role));
        spans.push(span(format!("{sep} "), theme, Role::Header));
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let wall = format!(" {} ", state.wall_clock);
    let pad = w.saturating_sub(used + wall.chars().count());
    spans.push(span(" ".repeat(pad), theme, Role::Header));
    if used + wall.chars().count() <= w {
        spans.push(span(wall, theme, Role::Header));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), row(area, 1));
}

pub fn tabs(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut spans = Vec::new();
    for (i, name) in VIEWS.iter().enumerate() {
        if i == 4 && !state.is_drill() {
            continue;
        }
        if i == state.view && state.detail.is_none() && state.host_detail.is_none() {
            spans.push(span(format!("[{} {name}]", i + 1), theme, Role::TabActive));
        } else {
            spans.push(span(format!(" {} {name} ", i + 1), theme, Role::Tab));
        }
        spans.push(Span::raw(" "));
    }
    if let Some(p) = state.detail.as_ref().or(state.host_detail.as_ref()) {
        spans.push(span(format!("[detail {p}]"), theme, Role::TabActive));
        spans.push(Span::raw(" "));
    }
    // The worst fact anywhere, with the count per severity: seen from every view.
    let (w, _) = health::summary(&state.facts);
    if w == health::Sev::Ok {
        spans.push(span("all OK", theme, Role::Ok));
    } else {
        let mut counts = Vec::new();
        for s in [Sev::Critical, Sev::Alarm, Sev::Warning, Sev::Unknown] {
            let n = state.facts.iter().filter(|f| f.sev == s).count();
            if n > 0 {
                counts.push(format!("{n} {}", s.word()));
            }
        }
        spans.push(span(
            format!("{} {}", w.mark(), counts.join(", ")),
            theme,
            super::sev_role(w),
        ));
    }
    if let Some(d) = &state.drill
        && !d.faults.is_empty()
    {
        spans.push(span(format!("  faults: {}", d.faults.len()), theme, Role::Warn));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn status(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let line = if let Some(fl) = state.inflight.last() {
        let step = match &fl.flight {
            crate::console::state::Flight::Switchover { pair } => state
                .snapshot
                .pairs
                .iter()
                .find(|p| &p.id == pair || p.group.as_ref() == Some(pair) && p.leader)
                .and_then(|p| p.switchover)
                .map_or("waiting for confirmation", |s| s.as_str()),
            crate::console::state::Flight::Script { .. } => "running",
            crate::console::state::Flight::Maintenance => "applying",
        };
        let took = super::age(state.now_ms().saturating_sub(fl.started_ms));
        let corr = fl.correlation.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
        let more = if state.inflight.len() > 1 {
            format!(" (+{} more)", state.inflight.len() - 1)
        } else {
            String::new()
        };
        Line::from(span(
            format!("… IN PROGRESS: {} — {step}, {took}{corr}{more}", fl.what),
            theme,
            Role::Warn,
        ))
    } else if state.log.editing {
        let w = (area.width as usize).saturating_sub(8 + 1 + 48);
        Line::from(vec![
            span("filter /", theme, Role::Key),
            span(format!("{}_", super::tail(&state.log.filter, w)), theme, Role::Input),
            span(
                if state.log.filter.chars().count() >= crate::console::state::FILTER_MAX {
                    format!(
                        "  at most {} characters · Enter keep · Esc clear",
                        crate::console::state::FILTER_MAX
                    )
                } else {
                    "  Enter keep · Esc clear".to_string()
                },
                theme,
                Role::Dim,
            ),
        ])
    } else if let Some(s) = &state.status {
        let (mark, role) = match s.level {
            Level::Info => ("i", Role::Status),
            Level::Progress => ("…", Role::Warn),
            Level::Success => ("OK", Role::Ok),
            Level::Error => ("ERROR", Role::Alarm),
        };
        Line::from(span(format!("{mark}: {}", s.text), theme, role))
    } else {
        Line::from(span("ready", theme, Role::Dim))
    };
    f.render_widget(Paragraph::new(line), area);
}

pub fn keybar(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let scope = if state.modal.is_some() {
        Scope::Dialog
    } else {
        state.scope()
    };
    // In the table's order (the view's own keys first) as far as they fit, whole; `?`
    // always shows last, and says so when it holds keys the bar had no room for.
    let w = area.width as usize;
    let all = keys::bar(scope, state.grant(), state.is_drill());
    let help = all.iter().find(|b| b.action == keys::Action::Help).copied();
    let item = |shown: &str, label: &str| shown.chars().count() + label.chars().count() + 3;
    let reserve = help.map_or(0, |_| item("?", "more keys"));
    let mut spans = Vec::new();
    let mut used = 0;
    let mut cut = false;
    for b in all.iter().filter(|b| b.action != keys::Action::Help) {
        let n = item(b.shown, b.label);
        if cut || used + n + reserve > w {
            cut = true;
            continue;
        }
        used += n;
        spans.push(span(b.shown, theme, Role::Key));
        spans.push(span(format!(" {}  ", b.label), theme, Role::KeyBar));
    }
    if let Some(h) = help {
        spans.push(span(h.shown, theme, Role::Key));
        spans.push(span(
            format!(" {}", if cut { "more keys" } else { h.label }),
            theme,
            Role::KeyBar,
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Too small for the console: the banner and a note, as far as they fit.
pub fn tiny(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let w = area.width as usize;
    let mut lines = vec![Line::from(span(banner(state, w), theme, Role::Banner))];
    if area.height > 1 {
        lines.push(Line::from(span(
            fit(&format!("{} {}", clock(state), state.operator), w),
            theme,
            Role::Header,
        )));
    }
    if area.height > 2 {
        lines.push(Line::from(span(
            fit(
                &format!("terminal too small ({}x{}): need 30x8", area.width, area.height),
                w,
            ),
            theme,
            Role::Warn,
        )));
    }
    f.render_widget(Paragraph::new(lines), area);
}
