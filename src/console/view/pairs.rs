//! The Pairs view: one row per pair, groups with their members under them. It answers at a
//! glance which instance is primary, where each VIP really is (the host that reports it
//! bound, not the one that should), and what is not redundant — in words and marks, with
//! colour only as a second signal. Only the rows on screen are built, so a deployment of
//! thousands of pairs draws as fast as ten.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{age, fit, redundancy, span, window};
use crate::console::state::{PairRow, State};
use crate::console::theme::{Role, Theme};
use crate::wire::{InstanceView, PairView, VipView};

struct Cols {
    name: usize,
    inst: usize,
    vip: usize,
    red: usize,
    last: usize,
    site: usize,
    wide: bool,
}

fn cols(width: usize) -> Cols {
    let wide = width >= 130;
    let site = if width >= 110 { 6 } else { 0 };
    let last = if width >= 96 { 9 } else { 0 };
    let inst = if wide { 24 } else { 15 };
    let vip = if wide { 26 } else { 13 };
    let name = 15;
    let used = 2 + name + 2 * inst + vip + last + site;
    Cols {
        name,
        inst,
        vip,
        red: width.saturating_sub(used).max(4),
        last,
        site,
        wide,
    }
}

/// The instance cell: `app` (or `app@host` when wide) and what is wrong with it.
fn instance(i: &InstanceView, want: &str, c: &Cols) -> (String, Role) {
    let name = if c.wide {
        format!("{}@{}", i.app, i.host)
    } else {
        i.app.clone()
    };
    let (flag, role) = match (i.status.as_str(), i.mode.as_str()) {
        ("up", m) if m == want => ("", Role::Text),
        ("up", m) => (if m == "none" { " (no mode)" } else { " (wrong mode)" }, Role::Warn),
        ("down", _) => (" DOWN", Role::Alarm),
        ("unavailable", _) => (" UNAVAIL", Role::Alarm),
        _ => (" ?", Role::Warn),
    };
    (format!("{name}{flag}"), role)
}

/// Where the VIP really is.
fn vip(v: Option<&VipView>, c: &Cols) -> (String, Role) {
    let Some(v) = v else {
        return ("-".into(), Role::Dim);
    };
    let addr = if c.wide {
        format!("{} ", v.address.split('/').next().unwrap_or_default())
    } else {
        String::new()
    };
    match v.holders.as_slice() {
        [] if v.hosts.iter().any(|(_, s)| s == "unknown") => (format!("{addr}[?] unknown"), Role::Warn),
        [] => (format!("{addr}[!] unbound"), Role::Alarm),
        [h] if v.desired.as_ref().is_some_and(|d| d != h) => (format!("{addr}[!] on {h}"), Role::Alarm),
        [h] => (format!("{addr}on {h}"), Role::Ok),
        many => (format!("{addr}[!!] DUP {}", many.join(",")), Role::Critical),
    }
}

fn pair_line(p: &PairView, member: bool, selected: bool, c: &Cols, theme: &Theme) -> Line<'static> {
    let mut spans: Vec<Span> = Vec::new();
    spans.push(span(if selected { "▶ " } else { "  " }, theme, Role::Selected));
    let lead = if !member {
        ""
    } else if p.leader {
        "  * "
    } else {
        "  · "
    };
    spans.push(span(fit(&format!("{lead}{}", p.id), c.name), theme, Role::Text));
    if c.site > 0 {
        spans.push(span(fit(&p.site, c.site), theme, Role::Dim));
    }
    let (t, r) = instance(&p.primary, "primary", c);
    spans.push(span(fit(&t, c.inst), theme, r));
    let (t, r) = instance(&p.backup, "backup", c);
    spans.push(span(fit(&t, c.inst), theme, r));
    let (t, r) = vip(p.vip.as_ref(), c);
    spans.push(span(fit(&t, c.vip), theme, r));
    if c.last > 0 {
        let last = p.last_switchover_age_ms.map_or("never".to_string(), age);
        spans.push(span(fit(&last, c.last), theme, Role::Dim));
    }
    let (mut t, mut r) = redundancy(&p.redundancy);
    if let Some(step) = &p.switchover {
        t = format!("» SWITCHING ({step})");
        r = Role::Warn;
    }
    if p.flapping {
        t.push_str(" ~FLAPPING");
    }
    spans.push(span(fit(&t, c.red), theme, r));
    let mut line = Line::from(spans);
    if selected {
        line = line.style(theme.get(Role::Selected));
    }
    line
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let c = cols(area.width as usize);
    let s = &state.snapshot;
    let bad: Vec<String> = s
        .pairs
        .iter()
        .filter(|p| p.redundancy != "OK")
        .map(|p| format!("{} {}", p.id, p.redundancy))
        .collect();
    let summary = if s.pairs.is_empty() {
        span("no pairs (yet)", theme, Role::Dim)
    } else if bad.is_empty() {
        span(
            format!(
                "{} pairs, {} groups: every pair redundant",
                s.pairs.len(),
                s.groups.len()
            ),
            theme,
            Role::Ok,
        )
    } else {
        span(
            format!(
                "[!] {} of {} not redundant: {}",
                bad.len(),
                s.pairs.len(),
                bad.join(", ")
            ),
            theme,
            Role::Alarm,
        )
    };
    let mut head = vec![
        span("  ", theme, Role::Title),
        span(fit("PAIR", c.name), theme, Role::Title),
    ];
    if c.site > 0 {
        head.push(span(fit("SITE", c.site), theme, Role::Title));
    }
    head.push(span(fit("PRIMARY", c.inst), theme, Role::Title));
    head.push(span(fit("BACKUP", c.inst), theme, Role::Title));
    head.push(span(fit("VIP IS", c.vip), theme, Role::Title));
    if c.last > 0 {
        head.push(span(fit("LAST SW", c.last), theme, Role::Title));
    }
    head.push(span(fit("REDUNDANCY", c.red), theme, Role::Title));
    let mut out = vec![Line::from(summary), Line::from(head)];
    let h = (area.height as usize).saturating_sub(2);
    let first = window(state.pair_sel, state.rows.len(), h);
    for (i, r) in state.rows.iter().enumerate().skip(first).take(h) {
        let selected = i == state.pair_sel;
        match *r {
            PairRow::Pair(p, member) => {
                if let Some(p) = s.pairs.get(p) {
                    out.push(pair_line(p, member, selected, &c, theme));
                }
            }
            PairRow::Group(g) => {
                let Some(g) = s.groups.get(g) else { continue };
                let (red, role) = redundancy(&g.redundancy);
                let mut spans = vec![
                    span(if selected { "▶ " } else { "  " }, theme, Role::Selected),
                    span(fit(&format!("▾ {}", g.id), c.name + c.site + 1), theme, Role::Title),
                    span(
                        fit(&format!("group of {}, primary on", g.members.len()), 2 * c.inst - 1),
                        theme,
                        Role::Dim,
                    ),
                    span(fit(&g.primary_host, c.vip + c.last), theme, Role::Text),
                    span(fit(&red, c.red), theme, role),
                ];
                if selected {
                    for s in &mut spans {
                        s.style = s.style.patch(theme.get(Role::Selected));
                    }
                }
                out.push(Line::from(spans));
            }
        }
    }
    f.render_widget(Paragraph::new(out), area);
}
