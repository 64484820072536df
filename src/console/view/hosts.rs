//! The Hosts view: per host its agent connection (and when it was last heard), its NICs up
//! or down, and under it every application with its status and mode.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{age, fit, marker, select, sev_role, span, window};
use crate::console::state::State;
use crate::console::state::health::{self, stale_text};
use crate::console::theme::{Role, Theme};
use crate::engine::{AppStatus, Mode};
use crate::wire::{AgentState, NicState};

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let w = area.width as usize;
    let hosts = &state.snapshot.hosts;
    // What is wrong with hosts (agents, NICs), worst first, or that nothing is.
    let facts: Vec<_> = state
        .facts
        .iter()
        .filter(|f| f.subject.starts_with("host "))
        .cloned()
        .collect();
    let mut out = vec![if facts.is_empty() {
        Line::from(span(
            format!("{} hosts: every agent connected, every NIC up", hosts.len()),
            theme,
            Role::Ok,
        ))
    } else {
        let (w, text) = health::summary(&facts);
        let lost = hosts.iter().any(|h| h.agent != AgentState::Connected);
        let note = if lost {
            " (a lost agent's applications, NICs and VIPs are not known)"
        } else {
            ""
        };
        Line::from(span(format!("{text}{note}"), theme, sev_role(w)))
    }];
    let (shown, hidden_bad) = state.hosts_shown();
    if let Some(bar) = super::list_bar(
        state,
        theme,
        &state.host_list,
        "hosts",
        (shown, hosts.len(), hidden_bad),
        w,
    ) {
        out.push(bar);
    }
    if state.host_rows.is_empty() && !hosts.is_empty() {
        out.push(Line::from(span(
            "  no host matches the filter (Esc clears it)",
            theme,
            Role::Dim,
        )));
    }
    let rows: Vec<&crate::wire::HostView> = state.host_rows.iter().filter_map(|i| hosts.get(*i)).collect();
    // Each host takes 1 + its apps lines; keep the selected host on screen.
    let mut starts = Vec::with_capacity(rows.len());
    let mut n = 0;
    for h in &rows {
        starts.push(n);
        n += 1 + h.apps.len();
    }
    let top = out.len();
    let h = (area.height as usize).saturating_sub(top);
    let sel_line = starts.get(state.host_sel).copied().unwrap_or(0);
    let first = window(sel_line, n, h);
    let h = h + top - 1;
    let mut line = 0;
    for (i, host) in rows.iter().enumerate() {
        if line + 1 + host.apps.len() <= first {
            line += 1 + host.apps.len();
            continue;
        }
        if out.len() > h {
            break;
        }
        let selected = i == state.host_sel;
        let (agent, role) = match host.agent {
            AgentState::Connected => ("agent connected".to_string(), Role::Ok),
            AgentState::Lost => (
                format!(
                    "[!] agent LOST{}",
                    host.last_heard_age_ms
                        .map(|a| format!(" {} ago", age(a)))
                        .unwrap_or_default()
                ),
                Role::Alarm,
            ),
            AgentState::Unknown => match state.fresh.stale.get(&host.site) {
                Some(age) => (format!("[?] {}", stale_text(*age)), Role::Warn),
                None => ("[?] agent unknown".to_string(), Role::Warn),
            },
        };
        let connected = host.agent == AgentState::Connected;
        let mut spans = vec![
            marker(selected, theme),
            span(fit(&host.id, 11), theme, Role::Title),
            span(fit(&host.site, 6), theme, Role::Dim),
            span(format!("{} ", fit(&agent, 27)), theme, role),
        ];
        for nic in &host.nics {
            // Without its agent nothing is known of a host's NICs: `?`, not the last state.
            let (t, r) = match nic.state {
                _ if !connected => (format!("{} ? ", nic.name), Role::Warn),
                NicState::Up => (format!("{} up ", nic.name), Role::Ok),
                NicState::Down => (format!("[!] {} DOWN ", nic.name), Role::Alarm),
                NicState::Unknown => (format!("{} ? ", nic.name), Role::Warn),
            };
            spans.push(span(t, theme, r));
        }
        let l = select(spans, selected, theme);
        if line >= first {
            out.push(l);
        }
        line += 1;
        for a in &host.apps {
            if line >= first && out.len() <= h {
                let (st, r) = match a.status {
                    AppStatus::Up => ("up".to_string(), Role::Ok),
                    AppStatus::Unknown => ("? unknown".to_string(), Role::Warn),
                    other => (format!("[!] {}", other.as_str().to_uppercase()), Role::Alarm),
                };
                // The mode of an unreachable application is only its last known one.
                let mode = match (a.status, a.mode) {
                    (AppStatus::Unknown, Mode::Primary) => "was primary?",
                    (AppStatus::Unknown, Mode::Backup) => "was backup?",
                    (AppStatus::Unknown, Mode::None) => "?",
                    (_, Mode::Primary) => "PRIMARY",
                    (_, Mode::Backup) => "backup",
                    (_, Mode::None) => "-",
                };
                out.push(Line::from(vec![
                    span(format!("    {}", fit(&a.id, 14)), theme, Role::Text),
                    span(fit(&a.kind, 17), theme, Role::Dim),
                    span(fit(&st, 14), theme, r),
                    span(
                        fit(mode, 13),
                        theme,
                        match mode {
                            "PRIMARY" => Role::Title,
                            "backup" | "-" => Role::Text,
                            _ => Role::Dim,
                        },
                    ),
                    span(fit(&a.detail, w.saturating_sub(62)), theme, Role::Dim),
                ]));
            }
            line += 1;
        }
    }
    f.render_widget(Paragraph::new(out), area);
}
