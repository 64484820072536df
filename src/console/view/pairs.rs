//! The Pairs view: one row per pair, groups with their members under them. It answers at a
//! glance which instance is primary, where each VIP really is (the host that reports it
//! bound, not the one that should), and what is not redundant — in words and marks, with
//! colour only as a second signal. Only the rows on screen are built, so a deployment of
//! thousands of pairs draws as fast as ten.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ago, fit, marker, select, sev_role, span, window};

/// A column cell: cut or padded to `w - 1`, then one space so cells never touch.
fn col(s: &str, w: usize) -> String {
    let mut out = fit(s, w.saturating_sub(1));
    out.push(' ');
    out
}
use crate::console::state::health::{self, Sev};
use crate::console::state::{Order, PairRow, State};
use crate::console::theme::{Role, Theme};
use crate::engine::{AppStatus, Mode, VipObs};
use crate::wire::{InstanceView, PairView, VipView};

struct Cols {
    name: usize,
    primary: usize,
    backup: usize,
    vip: usize,
    red: usize,
    last: usize,
    site: usize,
    wide: bool,
}

/// Column widths for the rows on screen: each as wide as its longest cell (plus a space),
/// the optional columns (site, last switchover) only when they fit, and the instance
/// columns cut first when the terminal is narrow.
fn cols(width: usize, rows: &[&PairView], state: &State) -> Cols {
    let wide = width >= 130;
    let mut c = Cols {
        name: 5,
        primary: 8,
        backup: 7,
        vip: 7,
        red: 10,
        last: 0,
        site: 0,
        wide,
    };
    let len = |s: &str| s.chars().count() + 1;
    for p in rows {
        c.name = c.name.max(len(&p.id) + 3);
        c.primary = c.primary.max(len(&instance(&p.primary, Mode::Primary, &c).0));
        c.backup = c.backup.max(len(&instance(&p.backup, Mode::Backup, &c).0));
        c.vip = c.vip.max(len(&vip(p.vip.as_ref(), &c).0));
        c.red = c.red.max(len(&red_text(p, state).0));
    }
    let fixed = |c: &Cols| 2 + c.name + c.primary + c.backup + c.vip + c.red + c.site + c.last;
    for (min, (a, b)) in [(13, (true, false)), (13, (false, true))] {
        let over = fixed(&c).saturating_sub(width);
        if a {
            c.primary = c.primary.saturating_sub(over).max(min);
        }
        if b {
            c.backup = c.backup.saturating_sub(over).max(min);
        }
    }
    if fixed(&c) + 7 <= width {
        c.site = 7;
    }
    if fixed(&c) + 11 <= width {
        c.last = 11;
    }
    c.red = width.saturating_sub(fixed(&c) - c.red).max(4);
    c
}

/// The status cell: the worst fact's mark, then every fact (`[!!] VIP DUP a,b, NO BACKUP`).
fn red_text(p: &PairView, state: &State) -> (String, Role) {
    let facts = state.pair_facts(p);
    let w = health::worst(&facts);
    let mut t = health::label(&facts);
    if p.maintenance {
        t = t.replacen("[~] MAINTENANCE", "[M] MAINTENANCE", 1);
    }
    if let Some(step) = &p.switchover
        && w <= Sev::Warning
    {
        t = format!("» SWITCHING ({})", step.as_str());
    }
    (t, sev_role(w))
}

/// The instance cell: `app` (or `app@host` when wide) and what is wrong with it.
fn instance(i: &InstanceView, want: Mode, c: &Cols) -> (String, Role) {
    let name = if c.wide {
        format!("{}@{}", i.app, i.host)
    } else {
        i.app.clone()
    };
    let (flag, role) = match (i.status, i.mode) {
        (AppStatus::Up, m) if m == want => ("", Role::Text),
        (AppStatus::Up, Mode::None) => (" (no mode)", Role::Warn),
        (AppStatus::Up, _) => (" (wrong mode)", Role::Warn),
        (AppStatus::Down, _) => (" DOWN", Role::Alarm),
        (AppStatus::Unavailable, _) => (" UNAVAIL", Role::Alarm),
        (AppStatus::Unknown | AppStatus::Starting, _) => (" ?", Role::Warn),
    };
    (format!("{name}{flag}"), role)
}

/// Where the VIP really is. Nothing known (no controller, no report from a host) reads
/// `unknown`, never `unbound`.
fn vip(v: Option<&VipView>, c: &Cols) -> (String, Role) {
    let Some(v) = v else {
        return ("-".into(), Role::Dim);
    };
    let unknown: Vec<&str> = v
        .hosts
        .iter()
        .filter(|h| h.state == VipObs::Unknown)
        .map(|h| h.host.as_str())
        .collect();
    let addr = if c.wide {
        format!("{} ", v.address.split('/').next().unwrap_or_default())
    } else {
        String::new()
    };
    match v.holders.as_slice() {
        [] if v.hosts.is_empty() || !unknown.is_empty() => (format!("{addr}[?] unknown"), Role::Warn),
        [] => (format!("{addr}[!] unbound"), Role::Alarm),
        [h] if v.desired.as_ref().is_some_and(|d| d != h) => (format!("{addr}[!] on {h}"), Role::Alarm),
        [h] if !unknown.is_empty() => (format!("{addr}[?] on {h}, {} ?", unknown.join(",")), Role::Warn),
        [h] => (format!("{addr}on {h}"), Role::Ok),
        many => (format!("{addr}[!!] DUP {}", many.join(",")), Role::Critical),
    }
}

/// When the pair last switched over, as far as this console knows: `12s ago`, `never`,
/// or `?` when its controller cannot say and the console never saw one.
fn last_switchover(p: &PairView, state: &State) -> String {
    match state.last_switchover.get(&p.id) {
        Some(t) => ago(state.now_ms().saturating_sub(*t)),
        None if p.redundancy.is_none() => "?".into(),
        None => "never".into(),
    }
}

fn pair_line(p: &PairView, member: bool, selected: bool, c: &Cols, state: &State, theme: &Theme) -> Line<'static> {
    let mut spans: Vec<Span> = Vec::new();
    spans.push(marker(selected, theme));
    let lead = if !member {
        ""
    } else if p.leader {
        " * "
    } else {
        " · "
    };
    spans.push(span(col(&format!("{lead}{}", p.id), c.name), theme, Role::Text));
    if c.site > 0 {
        spans.push(span(col(&p.site, c.site), theme, Role::Dim));
    }
    let (t, r) = instance(&p.primary, Mode::Primary, c);
    spans.push(span(col(&t, c.primary), theme, r));
    let (t, r) = instance(&p.backup, Mode::Backup, c);
    spans.push(span(col(&t, c.backup), theme, r));
    let (t, r) = vip(p.vip.as_ref(), c);
    spans.push(span(col(&t, c.vip), theme, r));
    if c.last > 0 {
        spans.push(span(col(&last_switchover(p, state), c.last), theme, Role::Dim));
    }
    let (t, r) = red_text(p, state);
    spans.push(span(fit(&t, c.red), theme, r));
    select(spans, selected, theme)
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let s = &state.snapshot;
    let (shown, hidden_bad) = state.pairs_shown();
    let bar = super::list_bar(
        state,
        theme,
        &state.pair_list,
        "pairs",
        (shown, s.pairs.len(), hidden_bad),
        area.width as usize,
    );
    let h = (area.height as usize).saturating_sub(2 + usize::from(bar.is_some()));
    let first = window(state.pair_sel, state.rows.len(), h);
    let visible: Vec<&PairView> = state
        .rows
        .iter()
        .skip(first)
        .take(h)
        .filter_map(|r| match r {
            PairRow::Pair(p, _) => s.pairs.get(*p),
            PairRow::Group(_) => None,
        })
        .collect();
    let c = cols(area.width as usize, &visible, state);
    let summary = if s.pairs.is_empty() {
        span("no pairs (yet)", theme, Role::Dim)
    } else {
        super::health_line(state, theme)
    };
    // The column the rows are ordered by is marked `▼`.
    let order = state.pair_list.order;
    let title = |t: &str, o: Order| if o == order { format!("{t} ▼") } else { t.to_string() };
    let mut head = vec![
        span("  ", theme, Role::Title),
        span(col(&title("PAIR", Order::Name), c.name), theme, Role::Title),
    ];
    if c.site > 0 {
        head.push(span(col(&title("SITE", Order::Site), c.site), theme, Role::Title));
    }
    head.push(span(col("PRIMARY", c.primary), theme, Role::Title));
    head.push(span(col("BACKUP", c.backup), theme, Role::Title));
    head.push(span(col("VIP IS", c.vip), theme, Role::Title));
    if c.last > 0 {
        head.push(span(
            col(&title("LAST SW", Order::LastSwitchover), c.last),
            theme,
            Role::Title,
        ));
    }
    head.push(span(
        fit(&title("REDUNDANCY", Order::Severity), c.red),
        theme,
        Role::Title,
    ));
    let mut out = vec![Line::from(summary)];
    out.extend(bar);
    out.push(Line::from(head));
    if state.rows.is_empty() && !s.pairs.is_empty() {
        out.push(Line::from(span(
            "  no pair matches the filter (Esc clears it)",
            theme,
            Role::Dim,
        )));
    }
    for (i, r) in state.rows.iter().enumerate().skip(first).take(h) {
        let selected = i == state.pair_sel;
        match *r {
            PairRow::Pair(p, member) => {
                if let Some(p) = s.pairs.get(p) {
                    out.push(pair_line(p, member, selected, &c, state, theme));
                }
            }
            PairRow::Group(g) => {
                let Some(g) = s.groups.get(g) else { continue };
                let facts = health::group_facts(g, s, &state.fresh);
                let (red, role) = (health::label(&facts), sev_role(health::worst(&facts)));
                let primary = if health::group_primary_known(g, s) {
                    format!("primary {}", g.primary_host)
                } else {
                    format!("primary ? (was {})", g.primary_host)
                };
                let spans = vec![
                    marker(selected, theme),
                    span(
                        col(&format!("▾ {}", g.id), c.name + c.site + c.primary),
                        theme,
                        Role::Title,
                    ),
                    span(
                        col(
                            &format!("{} pairs, {primary}", g.members.len()),
                            c.backup + c.vip + c.last,
                        ),
                        theme,
                        Role::Text,
                    ),
                    span(fit(&red, c.red), theme, role),
                ];
                out.push(select(spans, selected, theme));
            }
        }
    }
    f.render_widget(Paragraph::new(out), area);
}
