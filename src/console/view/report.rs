//! The report at the end of a scenario: the verdict, time to detect and time to restore
//! redundancy for each fault, the operator's actions, every check, and the timeline of
//! faults, heals and alarms.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{age, dialog_box, lines, span};
use crate::console::state::State;
use crate::console::theme::{Role, Theme};
use crate::engine::Time;

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme, scroll: usize) {
    let Some(r) = &state.report else { return };
    let inner = dialog_box(
        f,
        area,
        110,
        50,
        &format!("Report: {} (↑↓ PgUp PgDn G scroll, Esc closes)", r.scenario),
        theme,
    );
    let passed = r.checks.iter().filter(|c| c.1).count();
    let mut out = vec![Line::from(span(
        format!(
            "{}: {passed} of {} checks passed",
            if r.passed { "PASSED" } else { "[!] FAILED" },
            r.checks.len()
        ),
        theme,
        if r.passed { Role::Ok } else { Role::Alarm },
    ))];
    out.push(Line::from(span(
        "Faults: time to detect, time to restore redundancy",
        theme,
        Role::Title,
    )));
    if r.faults.is_empty() {
        out.push(Line::from(span("  no fault", theme, Role::Dim)));
    }
    let show = |v: Option<u64>| v.map_or("never".to_string(), age);
    for (t, d, rs) in &r.faults {
        let late = rs.is_none_or(|x| x > r.recovery_bound_ms);
        out.push(Line::from(vec![
            span(format!("  fault at {}: ", Time(*t)), theme, Role::Text),
            span(format!("detected after {}", show(*d)), theme, Role::Text),
            span(
                format!(", redundancy restored after {}", show(*rs)),
                theme,
                if late { Role::Warn } else { Role::Ok },
            ),
        ]));
    }
    out.push(Line::from(span(
        format!("Operator actions ({})", r.operator_actions.len()),
        theme,
        Role::Title,
    )));
    for (t, a) in &r.operator_actions {
        out.push(Line::from(span(format!("  {} {a}", Time(*t)), theme, Role::Text)));
    }
    out.push(Line::from(span("Checks", theme, Role::Title)));
    for (name, ok, detail) in &r.checks {
        out.push(Line::from(vec![
            span(
                if *ok { "  [PASS] " } else { "  [FAIL] " },
                theme,
                if *ok { Role::Ok } else { Role::Alarm },
            ),
            span(format!("{name}: "), theme, Role::Text),
            span(detail.clone(), theme, Role::Dim),
        ]));
    }
    out.push(Line::from(span("Timeline", theme, Role::Title)));
    for (t, text) in &r.timeline {
        out.push(Line::from(span(format!("  {} {text}", Time(*t)), theme, Role::Text)));
    }
    state
        .scroll_max
        .set(lines(f, inner, out, scroll, theme.get(Role::Dialog)));
}
