//! The detail of one pair: both instances, the VIP on each host, redundancy, maintenance,
//! the switchover running; its state timeline over the last minutes (one glyph per time
//! slot, a different shape per state) with a sparkline of its event rate; and its recent
//! incidents, grouped by correlation id, newest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline};

use super::{age, ago, fit, row, sev_role, severity, span};
use crate::console::state::health;
use crate::console::state::{Mark, State};
use crate::console::theme::{Role, Theme};
use crate::wire::{EventRecord, PairView};

/// Whether an event is about this pair: the pair itself, one of its instances, or its
/// VIP on one of its hosts.
fn concerns(e: &EventRecord, p: &PairView) -> bool {
    let pair = format!("pair:{}", p.id);
    let apps = [format!("app:{}@", p.primary.app), format!("app:{}@", p.backup.app)];
    e.subject == pair
        || apps
            .iter()
            .any(|a| e.source.starts_with(a.as_str()) || e.subject.starts_with(a.as_str()))
        || (crate::console::state::is_vip_event(e.id) && p.vip.as_ref().is_some_and(|v| e.message.contains(&v.address)))
}

fn mark_role(m: Mark) -> Role {
    match m {
        Mark::Ok => Role::Ok,
        Mark::Degraded => Role::Alarm,
        Mark::Down => Role::Critical,
        Mark::Maintenance | Mark::Switching | Mark::Unknown => Role::Warn,
    }
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme, id: &str) {
    let Some(p) = state.snapshot.pairs.iter().find(|p| p.id == id) else {
        f.render_widget(Paragraph::new(format!("pair {id} is gone")), area);
        return;
    };
    let w = area.width as usize;
    let now = state.now_ms();
    let facts = state.pair_facts(p);
    let (red, rr) = (health::label(&facts), sev_role(health::worst(&facts)));
    let mut top = vec![
        Line::from(vec![
            span(format!("Pair {} ", p.id), theme, Role::Title),
            span(format!("site {} ", p.site), theme, Role::Dim),
            span(
                p.group
                    .as_ref()
                    .map(|g| format!("group {g}{} ", if p.leader { " (leader)" } else { "" }))
                    .unwrap_or_default(),
                theme,
                Role::Dim,
            ),
            span(red, theme, rr),
            span(
                if p.maintenance { "  [M] maintenance on" } else { "" },
                theme,
                Role::Warn,
            ),
            span(if p.flapping { "  ~FLAPPING" } else { "" }, theme, Role::Warn),
        ]),
        Line::from(vec![
            span("  PRIMARY ", theme, Role::Title),
            span(
                format!(
                    "{}@{}  {} / {}",
                    p.primary.app,
                    p.primary.host,
                    p.primary.status.as_str(),
                    p.primary.mode.as_str()
                ),
                theme,
                Role::Text,
            ),
        ]),
        Line::from(vec![
            span("  backup  ", theme, Role::Dim),
            span(
                format!(
                    "{}@{}  {} / {}",
                    p.backup.app,
                    p.backup.host,
                    p.backup.status.as_str(),
                    p.backup.mode.as_str()
                ),
                theme,
                Role::Text,
            ),
        ]),
    ];
    if let Some(v) = &p.vip {
        let hosts: Vec<String> = v
            .hosts
            .iter()
            .map(|h| format!("{} {}", h.host, h.state.as_str()))
            .collect();
        top.push(Line::from(vec![
            span("  VIP     ", theme, Role::Dim),
            span(
                format!(
                    "{} on {}: {}; should be on {}{}",
                    v.address,
                    v.nic,
                    hosts.join(", "),
                    v.desired.as_deref().unwrap_or("-"),
                    if v.duplicate { "  [!!] DUPLICATE" } else { "" }
                ),
                theme,
                Role::Text,
            ),
        ]));
    }
    top.push(Line::from(span(
        format!(
            "  switchover {} · last switchover {} · incident {}",
            p.switchover.map_or("none running", |s| s.as_str()),
            match state.last_switchover.get(&p.id) {
                Some(t) => ago(now.saturating_sub(*t)),
                None if p.redundancy.is_none() => "unknown".into(),
                None => "never".into(),
            },
            p.incident.as_deref().unwrap_or("none")
        ),
        theme,
        Role::Dim,
    )));
    let n = top.len() as u16;
    f.render_widget(
        Paragraph::new(top),
        Rect {
            height: n.min(area.height),
            ..area
        },
    );
    let mut y = n;

    // Timeline: the last `span_ms`, one slot per column.
    let slots = w.saturating_sub(12).max(1);
    let span_ms = 600_000u64.min(now.max(1));
    let slot_ms = (span_ms / slots as u64).max(1);
    let start = now.saturating_sub(slot_ms * slots as u64);
    let hist = state.history.get(&p.id).map(Vec::as_slice).unwrap_or(&[]);
    let mut cells = Vec::with_capacity(slots);
    let mut k = 0;
    for s in 0..slots {
        let t = start + slot_ms * (s as u64 + 1);
        while k + 1 < hist.len() && hist[k + 1].0 <= t {
            k += 1;
        }
        cells.push(hist.get(k).filter(|(t0, _)| *t0 <= t).map(|(_, m)| *m));
    }
    let mut spans = vec![span(fit(&format!("{} ago", age(now - start)), 12), theme, Role::Dim)];
    for c in &cells {
        match c {
            Some(m) => spans.push(span(m.glyph().to_string(), theme, mark_role(*m))),
            None => spans.push(span(" ", theme, Role::Dim)),
        }
    }
    f.render_widget(
        Paragraph::new(Line::from(span("Timeline", theme, Role::Title))),
        row(area, y),
    );
    f.render_widget(Paragraph::new(Line::from(spans)), row(area, y + 1));
    f.render_widget(
        Paragraph::new(Line::from(span(
            "            █ OK ▄ degraded ! down » switching M maint. ? unknown",
            theme,
            Role::Dim,
        ))),
        row(area, y + 2),
    );
    let related: Vec<&EventRecord> = state.log.all.iter().filter(|e| concerns(e, p)).collect();
    let mut counts = vec![0u64; slots];
    for e in &related {
        if e.t_ms > start {
            let i = ((e.t_ms - start - 1) / slot_ms) as usize;
            if let Some(c) = counts.get_mut(i) {
                *c += 1;
            }
        }
    }
    if area.height > y + 4 {
        f.render_widget(
            Paragraph::new(Line::from(span("events", theme, Role::Dim))),
            row(area, y + 3),
        );
        let r = row(area, y + 3);
        let spark = Rect {
            x: r.x + 12.min(r.width),
            width: r.width.saturating_sub(12),
            ..r
        };
        f.render_widget(Sparkline::default().data(&counts).style(theme.get(Role::Title)), spark);
    }
    y += 5;

    // Incidents, newest first.
    let mut groups: Vec<(String, Vec<&EventRecord>)> = Vec::new();
    for e in related.iter().rev() {
        let Some(c) = &e.correlation else { continue };
        match groups.iter_mut().find(|(k, _)| k == c) {
            Some((_, v)) => v.push(e),
            None => groups.push((c.clone(), vec![e])),
        }
    }
    let mut out = vec![Line::from(span(
        format!("Recent incidents ({} by correlation id)", groups.len()),
        theme,
        Role::Title,
    ))];
    for (c, evs) in groups.iter().take(6) {
        let first = evs.last().expect("a group has an event");
        let worst = evs
            .iter()
            .map(|e| crate::console::state::severity_rank(e.severity))
            .max()
            .unwrap_or(0);
        let (tag, role) = severity(crate::console::state::SEVERITIES[worst]);
        out.push(Line::from(vec![
            span(format!("▸ {c} "), theme, Role::Key),
            span(format!("{} ", super::at(state, first.t_ms)), theme, Role::Dim),
            span(format!("{tag} "), theme, role),
            span(format!("{} events: ", evs.len()), theme, Role::Dim),
            span(first.message.clone(), theme, Role::Text),
        ]));
        for e in evs.iter().rev().take(4) {
            out.push(Line::from(vec![
                span(format!("    {} ", fit(e.id.code(), 8)), theme, Role::Key),
                span(e.message.clone(), theme, Role::Text),
            ]));
        }
    }
    let rest = Rect {
        y: area.y + y.min(area.height),
        height: area.height.saturating_sub(y),
        ..area
    };
    f.render_widget(Paragraph::new(out), rest);
}
