//! The help screen, generated from the key table: every binding that exists in this
//! console (read-only mode and live sources hide what they cannot do), grouped by where it
//! applies.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{dialog_box, fit, lines, span};
use crate::console::keys::{BINDINGS, Grant, Scope, visible};
use crate::console::state::State;
use crate::console::theme::{Role, Theme};

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme, scroll: usize) {
    let inner = dialog_box(f, area, 90, 44, "Help: keys (↑↓ PgUp PgDn G scroll, Esc closes)", theme);
    let mut out: Vec<Line> = Vec::new();
    if state.grant() == Grant::View {
        out.push(Line::from(span(
            "READ-ONLY: actions that change the deployment are hidden and refused.",
            theme,
            Role::Warn,
        )));
    }
    for scope in [
        Scope::Global,
        Scope::Pairs,
        Scope::Hosts,
        Scope::Events,
        Scope::Drill,
        Scope::Dialog,
    ] {
        let bs: Vec<_> = BINDINGS
            .iter()
            .filter(|b| b.scope == scope && visible(b, state.grant(), state.is_drill()))
            .collect();
        if bs.is_empty() {
            continue;
        }
        out.push(Line::from(span(scope.title(), theme, Role::Title)));
        for b in bs {
            out.push(Line::from(vec![
                span(format!("  {}", fit(b.shown, 10)), theme, Role::Key),
                span(b.help, theme, Role::Text),
                span(
                    if b.dangerous { "  (changes the deployment)" } else { "" },
                    theme,
                    Role::Dim,
                ),
            ]));
        }
    }
    state
        .scroll_max
        .set(lines(f, inner, out, scroll, theme.get(Role::Dialog)));
}
