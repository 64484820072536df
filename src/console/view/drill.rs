//! The Drill view: the virtual clock and its speed, the scenario playing with a progress
//! gauge, the verdict once it ends, and the faults in effect (inject with `i`, heal with
//! `H`). Shown only when the source is a drill.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Gauge, Paragraph};

use super::{age, chrome, marker, row, select, span};
use crate::console::keys::{Action, BINDINGS, visible};
use crate::console::state::State;
use crate::console::theme::{Role, Theme};

/// `   Space pause · t speed`: the keys of these actions that exist here (read-only
/// hides the dangerous ones), from the key table.
fn hints(state: &State, actions: &[Action]) -> String {
    let shown: Vec<String> = actions
        .iter()
        .filter_map(|a| {
            BINDINGS
                .iter()
                .find(|b| b.action == *a && visible(b, state.grant(), state.is_drill()))
        })
        .map(|b| format!("{} {}", b.shown, b.label))
        .collect();
    if shown.is_empty() {
        String::new()
    } else {
        format!("   {}", shown.join(" · "))
    }
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(d) = &state.drill else {
        f.render_widget(Paragraph::new(span("not a drill", theme, Role::Dim)), area);
        return;
    };
    let mut top = vec![Line::from(vec![
        span("Time  ", theme, Role::Title),
        span(
            chrome::clock(state),
            theme,
            if d.paused { Role::Warn } else { Role::Ok },
        ),
        span(hints(state, &[Action::Pause, Action::Speed]), theme, Role::Dim),
    ])];
    match &d.scenario {
        Some((name, desc, _)) => {
            top.push(Line::from(vec![
                span("Scenario  ", theme, Role::Title),
                span(name.clone(), theme, Role::Text),
                span(format!(" — {desc}"), theme, Role::Dim),
            ]));
        }
        None => top.push(Line::from(vec![
            span("Scenario  ", theme, Role::Title),
            span(
                format!("free play{}", hints(state, &[Action::PlayScenario])),
                theme,
                Role::Dim,
            ),
        ])),
    }
    let n = top.len() as u16;
    f.render_widget(
        Paragraph::new(top),
        Rect {
            height: n.min(area.height),
            ..area
        },
    );
    let mut y = n;
    if let Some((_, _, dur)) = &d.scenario {
        let ratio = if *dur == 0 {
            1.0
        } else {
            (d.now_ms as f64 / *dur as f64).clamp(0.0, 1.0)
        };
        let g = Gauge::default()
            .ratio(ratio)
            .label(format!("{:.0}%  {} of {}", ratio * 100.0, age(d.now_ms), age(*dur)))
            .gauge_style(theme.get(Role::Title))
            .style(theme.get(Role::Text));
        f.render_widget(g, row(area, y));
        y += 1;
    }
    let mut out = Vec::new();
    if let Some(r) = &state.report {
        let passed = r.checks.iter().filter(|c| c.1).count();
        out.push(Line::from(vec![
            span("Result  ", theme, Role::Title),
            span(
                format!(
                    "{} {passed} of {} checks",
                    if r.passed { "PASSED" } else { "[!] FAILED" },
                    r.checks.len()
                ),
                theme,
                if r.passed { Role::Ok } else { Role::Alarm },
            ),
            span("   Enter shows the report", theme, Role::Dim),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::from(span(
        format!(
            "Faults in effect ({}){}",
            d.faults.len(),
            hints(state, &[Action::InjectFault, Action::Heal])
        ),
        theme,
        Role::Title,
    )));
    if d.faults.is_empty() {
        out.push(Line::from(span("  none", theme, Role::Dim)));
    }
    for (i, (id, label, since)) in d.faults.iter().enumerate() {
        let sel = i == state.drill_sel;
        let l = select(
            vec![
                marker(sel, theme),
                span(format!("#{id} "), theme, Role::Key),
                span(label.clone(), theme, Role::Warn),
                span(
                    format!("  for {}", age(d.now_ms.saturating_sub(*since))),
                    theme,
                    Role::Dim,
                ),
            ],
            sel,
            theme,
        );
        out.push(l);
    }
    let rest = Rect {
        y: area.y + y.min(area.height),
        height: area.height.saturating_sub(y),
        ..area
    };
    f.render_widget(Paragraph::new(out), rest);
}
