//! The small dialogs and menus: quit while something is in flight, confirm maintenance,
//! pick a script and its host, the script's streamed output with its exit code and
//! duration, the fault menu (kind, then target), heal, and the scenario picker.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{age, buttons, dialog_box, fit, lines, marker, row, select, span, window};
use crate::console::state::{Modal, State};
use crate::console::theme::{Role, Theme};
use crate::engine::Time;

/// A list with a selection marker, scrolled to keep it visible.
fn list(f: &mut Frame, area: Rect, items: Vec<(String, String)>, sel: usize, theme: &Theme) {
    let h = area.height as usize;
    let first = window(sel, items.len(), h);
    let w = area.width as usize;
    let name_w = items.iter().map(|i| i.0.chars().count()).max().unwrap_or(0).min(w / 2) + 2;
    let out: Vec<Line> = items
        .iter()
        .enumerate()
        .skip(first)
        .take(h)
        .map(|(i, (name, desc))| {
            let sel = i == sel;
            select(
                vec![
                    marker(sel, theme),
                    span(fit(name, name_w), theme, Role::Text),
                    span(desc.clone(), theme, Role::Dim),
                ],
                sel,
                theme,
            )
        })
        .collect();
    f.render_widget(Paragraph::new(out).style(theme.get(Role::Dialog)), area);
}

fn with_hint(f: &mut Frame, inner: Rect, hint: &str, theme: &Theme) -> Rect {
    f.render_widget(
        Paragraph::new(span(hint.to_string(), theme, Role::Dim)),
        row(inner, inner.height.saturating_sub(1)),
    );
    Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    }
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme, m: &Modal) {
    match m {
        Modal::Quit { focus } => {
            let inner = dialog_box(f, area, 60, 8, "Quit?", theme);
            let n = state.inflight.len();
            let mut out: Vec<Line> = vec![Line::from(span(
                if n == 1 {
                    "An action is still in flight:".to_string()
                } else {
                    format!("{n} actions are still in flight:")
                },
                theme,
                Role::Warn,
            ))];
            for fl in &state.inflight {
                let took = age(state.now_ms().saturating_sub(fl.started_ms));
                out.push(Line::from(span(
                    format!("  {} (for {took})", fl.what),
                    theme,
                    Role::Text,
                )));
            }
            // In a drill the deployment lives in this process: quitting ends it.
            out.push(Line::from(span(
                if state.is_drill() {
                    "Quitting ends the drill, and the action with it."
                } else {
                    "Quitting does not stop it; its result will land in the controller's event log."
                },
                theme,
                Role::Dim,
            )));
            lines(f, inner, out, 0, theme.get(Role::Dialog));
            f.render_widget(
                Paragraph::new(buttons(&["Stay", "Quit"], *focus, &[true, true], theme)),
                row(inner, inner.height.saturating_sub(1)),
            );
        }
        Modal::Confirm(c) => {
            let extra = if c.expiry.is_some() { 2 } else { 0 };
            let inner = dialog_box(f, area, 64, c.lines.len() as u16 + 5 + extra, &c.title, theme);
            let mut out: Vec<Line> = c
                .lines
                .iter()
                .map(|l| Line::from(span(l.clone(), theme, Role::Text)))
                .collect();
            if let Some(t) = &c.expiry {
                out.push(Line::raw(""));
                out.push(Line::from(vec![
                    span("for: ", theme, Role::Key),
                    span(format!("{t}_"), theme, Role::Input),
                    span("  (e.g. 90m, 4h; empty: until turned off)", theme, Role::Dim),
                ]));
            }
            lines(f, inner, out, 0, theme.get(Role::Dialog));
            f.render_widget(
                Paragraph::new(buttons(&["Cancel", &c.button], c.focus, &[true, true], theme)),
                row(inner, inner.height.saturating_sub(1)),
            );
        }
        Modal::ScriptPick(p) => {
            let title = if p.step == 0 {
                "Run a script: pick the script".to_string()
            } else {
                format!(
                    "Run {}: pick the host",
                    state.scripts.get(p.script).map_or("", |s| s.id.as_str())
                )
            };
            let inner = dialog_box(f, area, 90, 16, &title, theme);
            let inner = with_hint(f, inner, "↑↓ pick · Enter choose · Esc back", theme);
            if p.step == 0 {
                let items = state
                    .scripts
                    .iter()
                    .map(|s| (s.id.clone(), s.command.clone()))
                    .collect();
                list(f, inner, items, p.script, theme);
            } else {
                let hosts = state.scripts.get(p.script).map(|s| s.hosts.clone()).unwrap_or_default();
                let items = hosts
                    .into_iter()
                    .map(|h| {
                        let site = state
                            .snapshot
                            .hosts
                            .iter()
                            .find(|x| x.id == h)
                            .map(|x| format!("site {}, agent {}", x.site, x.agent.as_str()))
                            .unwrap_or_default();
                        (h, site)
                    })
                    .collect();
                list(f, inner, items, p.host, theme);
            }
        }
        Modal::ScriptOutput { run } => {
            let v = state.script_view.as_ref();
            let title = v.map_or(format!("Script, {run}"), |v| {
                format!("Script {} on {} ({run})", v.script, v.host)
            });
            let inner = dialog_box(f, area, 100, 20, &title, theme);
            let inner = with_hint(f, inner, "Esc closes (the script keeps running)", theme);
            let (state_line, role) = match v {
                None => ("waiting for the agent…".to_string(), Role::Dim),
                Some(v) => match v.done {
                    None => (
                        format!("RUNNING for {}", age(state.now_ms().saturating_sub(v.started_ms))),
                        Role::Warn,
                    ),
                    Some((Some(0), end)) => (format!("OK: exit 0 after {}", age(end - v.started_ms)), Role::Ok),
                    Some((Some(c), end)) => (
                        format!("[!] FAILED: exit {c} after {}", age(end - v.started_ms)),
                        Role::Alarm,
                    ),
                    Some((None, end)) => (
                        format!("[!] KILLED (timeout) after {}", age(end - v.started_ms)),
                        Role::Alarm,
                    ),
                },
            };
            f.render_widget(
                Paragraph::new(span(state_line, theme, role)),
                row(inner, inner.height.saturating_sub(1)),
            );
            let body = Rect {
                height: inner.height.saturating_sub(1),
                ..inner
            };
            let out: Vec<Line> = v
                .map(|v| {
                    v.lines
                        .iter()
                        .map(|(t, l)| {
                            Line::from(vec![
                                span(format!("{} ", super::at(state, *t)), theme, Role::Dim),
                                span(l.clone(), theme, Role::Text),
                            ])
                        })
                        .collect()
                })
                .unwrap_or_default();
            let n = out.len();
            lines(f, body, out, n, theme.get(Role::Dialog));
        }
        Modal::Faults(m) => {
            let title = match &m.targets {
                None => "Inject a fault: pick the kind".to_string(),
                Some(_) => format!(
                    "Inject {}: pick the target",
                    state.fault_kinds.get(m.kind).map_or("", |k| k.0.as_str())
                ),
            };
            let inner = dialog_box(f, area, 80, 18, &title, theme);
            let inner = with_hint(f, inner, "↑↓ pick · Enter choose · Esc back", theme);
            match &m.targets {
                None => list(f, inner, state.fault_kinds.clone(), m.kind, theme),
                Some(t) => list(
                    f,
                    inner,
                    t.iter().map(|t| (t.clone(), String::new())).collect(),
                    m.target,
                    theme,
                ),
            }
        }
        Modal::Heal { sel } => {
            let inner = dialog_box(f, area, 70, 14, "Heal a fault", theme);
            let inner = with_hint(f, inner, "↑↓ pick · Enter heal · Esc cancel", theme);
            let mut items: Vec<(String, String)> = state
                .drill
                .as_ref()
                .map(|d| {
                    d.faults
                        .iter()
                        .map(|(id, l, since)| (format!("#{id} {l}"), format!("since {}", Time(*since))))
                        .collect()
                })
                .unwrap_or_default();
            match items.len() {
                0 => items.push(("nothing to heal".into(), "no fault is in effect".into())),
                1 => items.push(("heal all".into(), "the one fault above".into())),
                n => items.push(("heal all".into(), format!("all {n} faults above"))),
            }
            list(f, inner, items, *sel, theme);
        }
        Modal::Scenario { sel } => {
            let inner = dialog_box(f, area, 110, 20, "Play a scenario", theme);
            let inner = with_hint(
                f,
                inner,
                "Enter restarts the drill with it · speed with t · Esc cancel",
                theme,
            );
            let mut items = vec![(
                "free play".to_string(),
                "restart the built-in deployment, nothing scheduled".to_string(),
            )];
            items.extend(state.scenarios.iter().cloned());
            list(f, inner, items, *sel, theme);
        }
        Modal::Promote { pair, choices, sel } => {
            let inner = dialog_box(f, area, 80, 8, &format!("{pair} has no primary: promote which?"), theme);
            let inner = with_hint(f, inner, "↑↓ pick · Enter shows the plan · Esc cancel", theme);
            list(f, inner, choices.clone(), *sel, theme);
        }
        Modal::Help { .. } | Modal::Switchover(_) | Modal::Report { .. } | Modal::Describe { .. } => {}
    }
}
