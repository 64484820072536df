//! The Sites view: each site's controller, its mode (peered or single-site), the link to
//! the peer site with the age of the last probe answer against the out-of-service
//! thresholds, and the endpoint registrations per population and server.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{age, fit, lines, span};
use crate::console::state::State;
use crate::console::state::health::{self, Sev, stale_text};
use crate::console::theme::{Role, Theme};
use crate::wire::{PeerLinkState, SiteMode};

/// `[####......]`: how far `v` has gone towards `max`.
fn bar(v: u64, max: u64, width: usize) -> String {
    let filled = (v.min(max) * width as u64)
        .checked_div(max)
        .map_or(width, |n| n as usize);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut out: Vec<Line> = Vec::new();
    for s in &state.snapshot.sites {
        let stale = state.fresh.stale.get(&s.id);
        let (ctl, r) = match stale {
            Some(age) => (format!("[?] unreachable, {}", stale_text(*age)), Role::Warn),
            None if s.controller_up => ("controller up".to_string(), Role::Ok),
            None => ("[!!] controller DOWN".to_string(), Role::Critical),
        };
        let (mode, mr) = if !s.controller_up {
            (format!("? (last known {})", s.mode.as_str()), Role::Warn)
        } else if s.mode == SiteMode::Peered {
            ("peered".to_string(), Role::Ok)
        } else if s.peer.is_some() {
            ("[!] SINGLE-SITE".to_string(), Role::Warn)
        } else {
            ("single-site (no peer)".to_string(), Role::Text)
        };
        out.push(Line::from(vec![
            span(fit(&format!("site {}", s.id), 14), theme, Role::Title),
            span(fit(&ctl, 22.max(ctl.chars().count() + 1)), theme, r),
            span(format!("mode: {mode}"), theme, mr),
        ]));
        if stale.is_some()
            && let Some(err) = state
                .connections
                .iter()
                .find(|c| c.sites.contains(&s.id))
                .and_then(|c| c.error.as_ref())
        {
            out.push(Line::from(span(format!("  last attempt: {err}"), theme, Role::Dim)));
        }
        match (&s.peer, &s.link) {
            (Some(peer), Some(l)) => {
                let (st, r) = match l.state {
                    PeerLinkState::InService => (l.state.label().to_string(), Role::Ok),
                    PeerLinkState::Unreachable => (format!("[!] {}", l.state.label()), Role::Warn),
                    PeerLinkState::OutOfService => (format!("[!!] {}", l.state.label()), Role::Alarm),
                };
                out.push(Line::from(vec![
                    span(format!("  link to {peer}: "), theme, Role::Text),
                    span(st, theme, r),
                ]));
                let a = l.last_answer_age_ms;
                out.push(Line::from(vec![
                    span("  last probe answer ", theme, Role::Dim),
                    span(
                        a.map_or("never".into(), |a| format!("{} ago", age(a))),
                        theme,
                        Role::Text,
                    ),
                    span(
                        format!(
                            "  {} check {} · out of service after {}",
                            bar(a.unwrap_or(l.oos_force_ms), l.oos_force_ms, 10),
                            age(l.oos_check_ms),
                            age(l.oos_force_ms)
                        ),
                        theme,
                        Role::Dim,
                    ),
                ]));
            }
            (Some(peer), None) => out.push(Line::from(span(
                format!(
                    "  link to {peer}: unknown (controller {})",
                    if stale.is_some() { "unreachable" } else { "down" }
                ),
                theme,
                Role::Warn,
            ))),
            _ => {}
        }
        out.push(Line::raw(""));
    }
    // Controllers never reached: no site known yet, only why.
    for c in state
        .connections
        .iter()
        .filter(|c| c.sites.is_empty() && !c.state.healthy())
    {
        out.push(Line::from(vec![
            span(format!("controller {}", c.label), theme, Role::Title),
            span(format!(" [?] never reached, {}", c.state.label()), theme, Role::Warn),
        ]));
        if let Some(err) = &c.error {
            out.push(Line::from(span(format!("  last attempt: {err}"), theme, Role::Dim)));
        }
        out.push(Line::raw(""));
    }
    out.push(Line::from(vec![
        span(fit("ENDPOINTS", 18), theme, Role::Title),
        span(fit("SITE", 6), theme, Role::Title),
        span(fit("TOTAL", 7), theme, Role::Title),
        span("REGISTERED PER SERVER", theme, Role::Title),
    ]));
    for e in &state.snapshot.endpoints {
        let mut spans = vec![
            span(fit(&e.population, 18), theme, Role::Text),
            span(fit(&e.site, 6), theme, Role::Dim),
            span(fit(&e.total.to_string(), 7), theme, Role::Text),
        ];
        for (srv, n) in &e.registered {
            // Endpoints registered to a server that is not known up are not served.
            match health::server_state(&state.snapshot, srv) {
                Sev::Ok => spans.push(span(format!("{srv} {n}  "), theme, Role::Text)),
                _ if *n == 0 => spans.push(span(format!("{srv} {n}  "), theme, Role::Dim)),
                Sev::Alarm => spans.push(span(format!("[!] {srv} {n} (server down)  "), theme, Role::Alarm)),
                _ => spans.push(span(format!("[?] {srv} {n} (server unknown)  "), theme, Role::Warn)),
            }
        }
        if e.unregistered > 0 {
            spans.push(span(format!("[!] {} unregistered", e.unregistered), theme, Role::Alarm));
        }
        out.push(Line::from(spans));
    }
    lines(f, area, out, state.site_scroll, theme.get(Role::Text));
}
