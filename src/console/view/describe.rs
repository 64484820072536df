//! The describe view of a pair (k9s' describe, crm_mon's failcount): its configuration
//! and its anti-flap counter, live, with the key that resets the counter when it exists
//! in this console (read-only hides it).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{age, dialog_box, lines, span};
use crate::console::keys::{Action, BINDINGS, visible};
use crate::console::state::State;
use crate::console::theme::{Role, Theme};

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme, pair: &str, scroll: usize) {
    let inner = dialog_box(f, area, 90, 20, &format!("Describe {pair} (Esc closes)"), theme);
    let mut out: Vec<Line> = Vec::new();
    match &state.pair_config {
        None => out.push(Line::from(span(
            "the configuration is not known (its controller cannot say)",
            theme,
            Role::Warn,
        ))),
        Some(c) => {
            for (k, v) in &c.settings {
                out.push(Line::from(vec![
                    span(format!("{k:<11}"), theme, Role::Title),
                    span(v.clone(), theme, Role::Text),
                ]));
            }
            let (text, role) = if c.flapping {
                (
                    format!(
                        "[~] FLAPPING: {} switchovers in the last {}; automatic ones held back",
                        c.flap_used,
                        age(c.flap_window_ms)
                    ),
                    Role::Warn,
                )
            } else {
                (
                    format!(
                        "{} switchover{} in the last {} (held back from {})",
                        c.flap_used,
                        if c.flap_used == 1 { "" } else { "s" },
                        age(c.flap_window_ms),
                        c.flap_max
                    ),
                    Role::Text,
                )
            };
            out.push(Line::from(vec![
                span(format!("{:<11}", "counter"), theme, Role::Title),
                span(text, theme, role),
            ]));
            if let Some(b) = BINDINGS
                .iter()
                .find(|b| b.action == Action::ResetAntiFlap && visible(b, state.grant(), true))
            {
                out.push(Line::from(span(
                    format!(
                        "{} in Pairs resets the counter (asks first; logged with your name)",
                        b.shown
                    ),
                    theme,
                    Role::Dim,
                )));
            }
        }
    }
    state
        .scroll_max
        .set(lines(f, inner, out, scroll, theme.get(Role::Dialog)));
}
