//! The switchover dialog: what is demoted, what is promoted, where the VIP goes, which
//! scripts the alarm reactions will run, which group members follow, the steps, and every
//! pre-flight check with its verdict. Cancel is focused; a plan that runs only when forced
//! asks for the pair's name to be typed; a blocked plan offers Cancel alone.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{buttons, dialog_box, lines, row, span};
use crate::console::state::{State, SwitchoverDialog};
use crate::console::theme::{Role, Theme};
use crate::engine::CheckStatus;

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme, d: &SwitchoverDialog) {
    let title = match &d.to {
        Some(to) => format!("Switch over {}: promote {to}", d.target),
        None => format!("Switch over {}", d.target),
    };
    let inner = dialog_box(f, area, 100, 40, &title, theme);
    let mut out: Vec<Line> = Vec::new();
    let kv = |k: &str, v: String, role: Role| {
        Line::from(vec![span(format!("{k:<9}"), theme, Role::Title), span(v, theme, role)])
    };
    match &d.plan {
        None => out.push(Line::from(span("loading the plan…", theme, Role::Dim))),
        Some(Err(e)) => {
            out.push(Line::from(span("No switchover possible:", theme, Role::Alarm)));
            out.push(Line::from(span(e.clone(), theme, Role::Text)));
        }
        Some(Ok(p)) => {
            if let Some(g) = &p.group {
                out.push(kv(
                    "Group",
                    format!("{g}: the whole group switches with {}", p.pair),
                    Role::Text,
                ));
            }
            out.push(kv("Demote", format!("{}  (primary -> backup)", p.from), Role::Text));
            out.push(kv("Promote", format!("{}  (backup -> primary)", p.to), Role::Text));
            out.push(kv(
                "VIP",
                p.vip.clone().unwrap_or_else(|| "no VIP on this pair".into()),
                Role::Text,
            ));
            if p.reactions.is_empty() {
                out.push(kv("Scripts", "none".into(), Role::Dim));
            }
            for (i, r) in p.reactions.iter().enumerate() {
                out.push(kv(if i == 0 { "Scripts" } else { "" }, r.clone(), Role::Text));
            }
            for (i, m) in p.members.iter().enumerate() {
                out.push(kv(if i == 0 { "Follow" } else { "" }, m.clone(), Role::Text));
            }
            out.push(Line::from(span("Pre-flight checks", theme, Role::Title)));
            // Failing and warning checks first: they are what the operator must read.
            let mut checks: Vec<_> = p.checks.iter().collect();
            checks.sort_by_key(|c| match c.status {
                CheckStatus::Fail => 0,
                CheckStatus::Warn => 1,
                CheckStatus::Pass => 2,
            });
            for c in checks {
                let (tag, role) = match c.status {
                    CheckStatus::Pass => ("[PASS]", Role::Ok),
                    CheckStatus::Warn => ("[WARN]", Role::Warn),
                    CheckStatus::Fail => ("[FAIL]", Role::Alarm),
                };
                out.push(Line::from(vec![
                    span(format!("  {tag} "), theme, role),
                    span(format!("{}: ", c.name), theme, Role::Text),
                    span(
                        format!(
                            "{}{}",
                            c.detail,
                            if c.status == CheckStatus::Fail && c.forcible {
                                " (forcible)"
                            } else {
                                ""
                            }
                        ),
                        theme,
                        Role::Dim,
                    ),
                ]));
            }
            let (verdict, role) = if p.blocked {
                (
                    "BLOCKED: a check fails that even force cannot override.".to_string(),
                    Role::Alarm,
                )
            } else if p.allowed {
                ("Every check allows it.".to_string(), Role::Ok)
            } else {
                (
                    format!("Runs only FORCED: type `{}` below to enable the button.", d.target),
                    Role::Alarm,
                )
            };
            out.push(Line::from(span(verdict, theme, role)));
            out.push(Line::from(span("Steps (↑↓ PgUp PgDn scroll)", theme, Role::Title)));
            for (i, s) in p.steps.iter().enumerate() {
                out.push(Line::from(span(format!("  {}. {s}", i + 1), theme, Role::Text)));
            }
        }
    }
    // Fixed bottom: the typing field (when forced) and the buttons.
    let typing = d.needs_typing();
    let bottom = if typing { 3 } else { 2 };
    let body = Rect {
        height: inner.height.saturating_sub(bottom),
        ..inner
    };
    state
        .scroll_max
        .set(lines(f, body, out, d.scroll, theme.get(Role::Dialog)));
    let by = inner.height.saturating_sub(bottom);
    if typing {
        let ok = d.can_confirm();
        f.render_widget(
            ratatui::widgets::Paragraph::new(Line::from(vec![
                span(format!("Type {} to force: ", d.target), theme, Role::Title),
                span(format!("{}_", d.typed), theme, Role::Input),
                span(if ok { "  ✓ matches" } else { "" }, theme, Role::Ok),
            ])),
            row(inner, by + 1),
        );
    }
    let enabled = d.can_confirm();
    f.render_widget(
        ratatui::widgets::Paragraph::new(buttons(&["Cancel", d.button()], d.focus, &[true, enabled], theme)),
        row(inner, inner.height.saturating_sub(1)),
    );
}
