//! The detail of one host: its site, its agent connection and when it was last heard, its
//! NICs, every application on it with its pair, mode and status, the VIPs the engine
//! knows on it, and the recent events about the host or its applications, newest first.
//! Without its agent nothing on a host is current: NICs, modes and statuses read as the
//! last known ones, and its VIPs as unknown.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{age, fit, severity, span};
use crate::console::state::{State, host_sev};
use crate::console::theme::{Role, Theme};
use crate::engine::{AppStatus, Mode, VipObs};
use crate::wire::AgentState;
use crate::wire::{EventRecord, HostView};

/// Whether an event is about this host: the host itself or one of its applications.
fn concerns(e: &EventRecord, h: &HostView) -> bool {
    let host = format!("host:{}", h.id);
    let on_host = |s: &str| s == host || (s.starts_with("app:") && s.ends_with(&format!("@{}", h.id)));
    on_host(&e.source) || on_host(&e.subject)
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme, id: &str) {
    let Some(h) = state.snapshot.hosts.iter().find(|h| h.id == id) else {
        f.render_widget(Paragraph::new(format!("host {id} is gone")), area);
        return;
    };
    let w = area.width as usize;
    let connected = h.agent == AgentState::Connected;
    let heard = match h.last_heard_age_ms {
        Some(a) => format!("last heard {} ago", age(a)),
        None => "last heard unknown".to_string(),
    };
    let (agent, role) = match h.agent {
        AgentState::Connected => (format!("agent connected, {heard}"), Role::Ok),
        AgentState::Lost => (format!("[!] agent LOST, {heard}"), Role::Alarm),
        AgentState::Unknown => ("[?] agent unknown (controller unreachable)".to_string(), Role::Warn),
    };
    // What is wrong on the host, in words: the facts of the summary line, and the
    // applications that are not up.
    let mut wrong: Vec<String> = state
        .facts
        .iter()
        .filter(|x| x.subject == format!("host {}", h.id) && (connected || !x.text.starts_with("agent ")))
        .map(|x| format!("{} {}", x.sev.mark(), x.text))
        .collect();
    let down = h.apps.iter().filter(|a| a.status != AppStatus::Up).count();
    if connected && down > 0 {
        wrong.push(format!("[!] {down} app{} not up", if down == 1 { "" } else { "s" }));
    }
    let sev = host_sev(h);
    let mut out = vec![Line::from(vec![
        span(format!("Host {} ", h.id), theme, Role::Title),
        span(format!("site {} ", h.site), theme, Role::Dim),
        span(agent, theme, role),
        span(
            if wrong.is_empty() {
                String::new()
            } else {
                format!("  {}", wrong.join(", "))
            },
            theme,
            super::sev_role(sev),
        ),
    ])];
    if !connected {
        out.push(Line::from(span(
            "  [?] agent lost: NICs, modes, statuses and VIPs below are not current",
            theme,
            Role::Warn,
        )));
    }
    // NICs: their state, or with the agent lost the last known one, marked as such.
    let mut nics = vec![span(
        if connected {
            "  NICs    "
        } else {
            "  NICs    (last known) "
        },
        theme,
        Role::Dim,
    )];
    for n in &h.nics {
        let (t, r) = match n.state.as_str() {
            s if !connected => (format!("{} was {s}?  ", n.name), Role::Warn),
            "up" => (format!("{} up  ", n.name), Role::Ok),
            "down" => (format!("[!] {} DOWN  ", n.name), Role::Alarm),
            _ => (format!("{} ?  ", n.name), Role::Warn),
        };
        nics.push(span(t, theme, r));
    }
    out.push(Line::from(nics));

    // Applications with their pair, mode and status.
    out.push(Line::from(span(
        format!(
            "Applications ({}){}",
            h.apps.len(),
            if connected { "" } else { ", last known" }
        ),
        theme,
        Role::Title,
    )));
    let app_w = h.apps.iter().map(|a| a.id.chars().count()).max().unwrap_or(3).max(3) + 2;
    let pair_w = h
        .apps
        .iter()
        .map(|a| a.pair.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(4)
        .max(4)
        + 2;
    out.push(Line::from(vec![
        span(format!("  {}", fit("APP", app_w)), theme, Role::Title),
        span(fit("KIND", 17), theme, Role::Title),
        span(fit("PAIR", pair_w), theme, Role::Title),
        span(fit("MODE", 14), theme, Role::Title),
        span("STATUS", theme, Role::Title),
    ]));
    for a in &h.apps {
        let known = connected && a.status != AppStatus::Unknown;
        let mode = match (known, a.mode) {
            (false, Mode::Primary) => "was primary?",
            (false, Mode::Backup) => "was backup?",
            (false, Mode::None) => "?",
            (true, Mode::Primary) => "PRIMARY",
            (true, Mode::Backup) => "backup",
            (true, Mode::None) => "-",
        };
        let (st, r) = match a.status {
            AppStatus::Unknown => ("? unknown".to_string(), Role::Warn),
            s if !connected => (format!("? (last known {})", s.as_str()), Role::Warn),
            AppStatus::Up => ("up".to_string(), Role::Ok),
            other => (format!("[!] {}", other.as_str().to_uppercase()), Role::Alarm),
        };
        let detail = if a.detail.is_empty() {
            String::new()
        } else {
            format!("  {}", a.detail)
        };
        out.push(Line::from(vec![
            span(format!("  {}", fit(&a.id, app_w)), theme, Role::Text),
            span(fit(&a.kind, 17), theme, Role::Dim),
            span(fit(a.pair.as_deref().unwrap_or("-"), pair_w), theme, Role::Text),
            span(fit(mode, 14), theme, if known { Role::Text } else { Role::Dim }),
            span(st, theme, r),
            span(detail, theme, Role::Dim),
        ]));
    }

    // The VIPs of the pairs with an instance here, as the engine knows them on this host.
    let vips: Vec<_> = state
        .snapshot
        .pairs
        .iter()
        .filter_map(|p| p.vip.as_ref().map(|v| (p, v)))
        .filter(|(_, v)| v.hosts.iter().any(|x| x.host == h.id) || v.desired.as_ref() == Some(&h.id))
        .collect();
    out.push(Line::from(span(format!("VIPs ({})", vips.len()), theme, Role::Title)));
    for (p, v) in &vips {
        let here = v.hosts.iter().find(|x| x.host == h.id).map(|x| x.state);
        let should = v.desired.as_ref() == Some(&h.id);
        let (t, r) = match here {
            _ if !connected => ("[?] unknown (agent lost)".to_string(), Role::Warn),
            Some(VipObs::Bound) if should => ("bound here".to_string(), Role::Ok),
            Some(VipObs::Bound) => ("[!] bound here, should not be".to_string(), Role::Alarm),
            Some(VipObs::Unbound) if should => ("[!] NOT bound, should be here".to_string(), Role::Alarm),
            Some(VipObs::Unbound) => ("not bound here".to_string(), Role::Dim),
            Some(VipObs::Unknown) | None => ("[?] unknown".to_string(), Role::Warn),
        };
        out.push(Line::from(vec![
            span(format!("  {} on {} ", v.address, v.nic), theme, Role::Text),
            span(format!("pair {}: ", p.id), theme, Role::Dim),
            span(t, theme, r),
            span(if v.duplicate { "  [!!] DUPLICATE" } else { "" }, theme, Role::Critical),
        ]));
    }

    // The recent events about the host or its applications, newest first, as many as fit.
    let related: Vec<&EventRecord> = state.log.all.iter().rev().filter(|e| concerns(e, h)).collect();
    out.push(Line::from(span(
        format!("Recent events ({})", related.len()),
        theme,
        Role::Title,
    )));
    let room = (area.height as usize).saturating_sub(out.len());
    for e in related.iter().take(room) {
        let (tag, role) = severity(e.severity);
        out.push(Line::from(vec![
            span(format!("  {} ", super::at(state, e.t_ms)), theme, Role::Dim),
            span(format!("{tag} "), theme, role),
            span(format!("{} ", fit(e.id.code(), 8)), theme, Role::Key),
            span(fit(&e.message, w.saturating_sub(29)), theme, Role::Text),
        ]));
    }
    f.render_widget(Paragraph::new(out), area);
}
