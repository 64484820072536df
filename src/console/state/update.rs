//! `update(&mut State, Msg) -> Vec<Effect>`: the console's logic in one place. Keys arrive
//! as actions (see `keys.rs`), results of effects come back as messages; nothing here
//! blocks or talks to the source directly, which is what makes key scripts testable.

use super::modal::modal_key;
use super::{
    Confirm, DRILL, EVENTS, FILTER_MAX, FaultMenu, HOSTS, Level, Modal, PAIRS, Prompt, SITES, ScriptPick, State,
    Status, SwitchoverDialog, VIEWS, push_bounded,
};
use crate::console::keys::{self, Action, Grant, Key, Lookup, Scope};
use crate::console::source::{Ask, Clock, DrillOp, Page};
use crate::engine::time::Span;
use crate::wire::{Accepted, Command, ErrorBody, MAX_MAINTENANCE, PlanView, Request};

/// A maintenance expiry the controller takes: more than nothing, at most 30 days.
pub(super) fn check_expiry(s: Span, text: &str) -> Result<Span, String> {
    if s.as_ms() == 0 || s > MAX_MAINTENANCE {
        Err(format!("`{}` is not from 1s to 30d", text.trim()))
    } else {
        Ok(s)
    }
}

/// What happened: a key, or the result of an effect.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    Key(Action),
    /// A key the grant does not offer (its label, and what it needs).
    Refused(&'static str, Grant),
    Type(char),
    Backspace,
    /// Enter or Esc in the filter prompt.
    FilterDone(bool),
    PlanLoaded(String, Result<PlanView, String>),
    Requested(Request, Result<Accepted, ErrorBody>),
    /// A page of the event log came back: older (scrolled back) or newer.
    Page {
        older: bool,
        page: Page,
    },
    DrillDone(Result<String, String>),
    FaultTargets(Vec<String>),
    /// The file the events went to, and how many, or why not.
    Exported(Result<(String, usize), String>),
    Resize,
}

/// What the runtime must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// The plan of a switchover of a pair or group, to an instance or host if given.
    LoadPlan(String, Option<String>),
    /// An operator request (a forced switchover says so in its command).
    Request(Request),
    /// A page of the event log ([`Ask::Older`] or [`Ask::Newer`]).
    LoadEvents(Ask),
    Drill(DrillOp),
    LoadFaultTargets(String),
    /// Write the events shown (filters applied) to a JSON-lines file.
    ExportEvents,
    Redraw,
    Quit,
}

/// The message a key means in the current state, if any.
pub fn key_msg(state: &State, key: Key) -> Option<Msg> {
    if state.log.editing || state.prompt.is_some() {
        return match key {
            Key::Enter => Some(Msg::FilterDone(true)),
            Key::Esc => Some(Msg::FilterDone(false)),
            Key::Backspace => Some(Msg::Backspace),
            Key::Char(c) => Some(Msg::Type(c)),
            _ => None,
        };
    }
    if let Some(m) = &state.modal {
        if m.wants_text() {
            match key {
                Key::Char(c) => return Some(Msg::Type(c)),
                Key::Backspace => return Some(Msg::Backspace),
                _ => {}
            }
        }
        match (m, key) {
            (
                Modal::Help { .. } | Modal::Report { .. } | Modal::ScriptOutput { .. } | Modal::Describe { .. },
                Key::Char('q' | '?'),
            ) => {
                return Some(Msg::Key(Action::Back));
            }
            (Modal::Quit { .. }, Key::Char('q' | 'y')) => return Some(Msg::Key(Action::Quit)),
            (_, Key::Ctrl('c')) => return Some(Msg::Key(Action::Quit)),
            _ => {}
        }
        return match keys::lookup(Scope::Dialog, key, state.grant()) {
            Lookup::Do(a) => Some(Msg::Key(a)),
            _ => None,
        };
    }
    match keys::lookup(state.scope(), key, state.grant()) {
        Lookup::Do(a) => Some(Msg::Key(a)),
        Lookup::Refused(label, needs) => Some(Msg::Refused(label, needs)),
        Lookup::Nothing => None,
    }
}

pub(super) fn status(state: &mut State, level: Level, text: impl Into<String>) {
    state.status = Some(Status {
        level,
        text: text.into(),
    });
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    state.dirty = true;
    match msg {
        Msg::Key(a) if state.modal.is_some() => modal_key(state, a),
        Msg::Key(a) => view_key(state, a),
        Msg::Refused(label, needs) => {
            let why = match (state.read_only, state.source_grant) {
                (true, _) => "read-only".to_string(),
                (false, Grant::View) if !state.is_drill() => {
                    "read-only: the token is a viewer's, or no controller has said what it may".to_string()
                }
                (false, Grant::View) => "read-only".to_string(),
                (false, _) => format!("needs an {} token", needs.word()),
            };
            status(state, Level::Error, format!("{why}: `{label}` is not available"));
            vec![]
        }
        Msg::Type(c) if state.prompt.is_some() => {
            prompt_edit(state, Some(c));
            vec![]
        }
        Msg::Backspace if state.prompt.is_some() => {
            prompt_edit(state, None);
            vec![]
        }
        Msg::FilterDone(keep) if state.prompt.is_some() => {
            match state.prompt.take() {
                Some(Prompt::Filter) if !keep => {
                    if let Some(l) = state.list_mut() {
                        l.filter.clear();
                    }
                    state.rebuild_lists();
                }
                Some(Prompt::Jump { from, .. }) if !keep => state.set_list_sel(from),
                _ => {}
            }
            vec![]
        }
        Msg::Type(c) => {
            if state.log.editing {
                if !state.log.type_char(c) {
                    status(
                        state,
                        Level::Error,
                        format!("the filter takes at most {FILTER_MAX} characters"),
                    );
                }
            } else if let Some(Modal::Switchover(d)) = &mut state.modal
                && d.typed.chars().count() < FILTER_MAX
            {
                d.typed.push(c);
            } else if let Some(Modal::Confirm(Confirm { expiry: Some(t), .. })) = &mut state.modal
                && t.chars().count() < 16
            {
                t.push(c);
            }
            vec![]
        }
        Msg::Backspace => {
            if state.log.editing {
                state.log.filter.pop();
                state.log.refilter();
            } else if let Some(Modal::Switchover(d)) = &mut state.modal {
                d.typed.pop();
            } else if let Some(Modal::Confirm(Confirm { expiry: Some(t), .. })) = &mut state.modal {
                t.pop();
            }
            vec![]
        }
        Msg::FilterDone(keep) => {
            state.log.editing = false;
            if !keep {
                state.log.filter.clear();
                state.log.refilter();
            }
            vec![]
        }
        Msg::PlanLoaded(target, plan) => {
            if let Some(Modal::Switchover(d)) = &mut state.modal
                && d.target == target
            {
                d.asking = false;
                if d.plan.as_ref() != Some(&plan) {
                    d.plan = Some(plan);
                    if !d.can_confirm() && !d.needs_typing() {
                        d.focus = 0;
                    }
                }
                if std::mem::take(&mut d.again) {
                    d.asking = true;
                    return vec![Effect::LoadPlan(d.target.clone(), d.to.clone())];
                }
            }
            vec![]
        }
        Msg::Page { older, page } => {
            for (site, why) in &page.failed {
                status(state, Level::Error, format!("events of {site}: {why}"));
            }
            if older {
                state.log.insert_older(page, state.wall_ms);
            } else {
                state.log.insert_newer(page, state.wall_ms);
            }
            state.log.page_effect().map(Effect::LoadEvents).into_iter().collect()
        }
        Msg::Requested(req, result) => {
            match result {
                Ok(acc) => {
                    state.start_flight(&req, &acc);
                    if let Some(run) = acc.run {
                        state.script_view = None;
                        state.modal = Some(Modal::ScriptOutput { run });
                    }
                }
                // No answer is not a refusal: it may have been carried out.
                Err(e) if e.error == "unreachable" => status(
                    state,
                    Level::Error,
                    format!(
                        "{}: no answer ({}); it may have been carried out (request id {}): see the Events view",
                        req.command.describe(),
                        e.detail,
                        req.request_id.as_deref().unwrap_or("none")
                    ),
                ),
                Err(e) => status(state, Level::Error, format!("{} refused: {e}", req.command.describe())),
            }
            vec![]
        }
        Msg::DrillDone(r) => {
            match r {
                Ok(m) => status(state, Level::Info, format!("drill: {m}")),
                Err(e) => status(state, Level::Error, format!("drill: {e}")),
            }
            vec![]
        }
        Msg::FaultTargets(t) => {
            if let Some(Modal::Faults(f)) = &mut state.modal {
                f.targets = Some(t);
                f.target = 0;
            }
            vec![]
        }
        Msg::Exported(r) => {
            match r {
                Ok((path, n)) => {
                    let filtered = if state.log.shown.len() < state.log.all.len() {
                        " (as filtered)"
                    } else {
                        ""
                    };
                    status(
                        state,
                        Level::Success,
                        format!("exported {n} events{filtered} to {path}"),
                    )
                }
                Err(e) => status(state, Level::Error, format!("export failed: {e}")),
            }
            vec![]
        }
        Msg::Resize => vec![Effect::Redraw],
    }
}

/// A character typed (or, `None`, erased) in the `/` or `:` prompt of Pairs or Hosts.
fn prompt_edit(state: &mut State, c: Option<char>) {
    let full = || format!("the filter takes at most {FILTER_MAX} characters");
    match &mut state.prompt {
        Some(Prompt::Filter) => {
            let Some(l) = state.list_mut() else { return };
            match c {
                Some(c) if !push_bounded(&mut l.filter, c) => {
                    status(state, Level::Error, full());
                    return;
                }
                Some(_) => {}
                None => {
                    l.filter.pop();
                }
            }
            state.rebuild_lists();
        }
        Some(Prompt::Jump { text, from }) => {
            let from = *from;
            match c {
                Some(c) if !push_bounded(text, c) => {
                    status(state, Level::Error, full());
                    return;
                }
                Some(_) => {}
                None => {
                    text.pop();
                }
            }
            let text = text.clone();
            if text.is_empty() {
                state.set_list_sel(from);
            } else if !state.jump_to(&text) {
                status(state, Level::Info, format!("no name starts with `{text}`"));
            }
        }
        None => {}
    }
}

pub(super) fn move_sel(sel: &mut usize, len: usize, a: Action, page: usize) {
    let last = len.saturating_sub(1);
    *sel = match a {
        Action::Up => sel.saturating_sub(1),
        Action::Down => (*sel + 1).min(last),
        Action::PageUp => sel.saturating_sub(page),
        Action::PageDown => (*sel + page).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => *sel,
    };
}

pub(super) const PAGE: usize = 10;

/// Scrolls a dialog's text. `max` is how far it could scroll when last drawn; the end
/// is kept as "the end" (the view clamps it), so it holds even before the next drawing.
pub(super) fn scroll_by(scroll: &mut usize, max: usize, a: Action) {
    if a == Action::Bottom {
        *scroll = usize::MAX;
        return;
    }
    *scroll = (*scroll).min(max);
    move_sel(scroll, max + 1, a, PAGE);
}

fn view_key(state: &mut State, a: Action) -> Vec<Effect> {
    match a {
        Action::Quit => {
            if state.inflight.is_empty() {
                state.quit = true;
                return vec![Effect::Quit];
            }
            state.modal = Some(Modal::Quit { focus: 0 });
        }
        Action::Help => state.modal = Some(Modal::Help { scroll: 0 }),
        Action::NextView | Action::PrevView | Action::View(_) => {
            let n = VIEWS.len();
            state.view = match a {
                Action::NextView => (state.view + 1) % n,
                Action::PrevView => (state.view + n - 1) % n,
                Action::View(i) => i.min(n - 1),
                _ => state.view,
            };
            state.detail = None;
            state.host_detail = None;
        }
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
            match state.view {
                _ if state.detail.is_some() || state.host_detail.is_some() => {}
                PAIRS => move_sel(&mut state.pair_sel, state.rows.len(), a, PAGE),
                HOSTS => move_sel(&mut state.host_sel, state.host_rows.len(), a, PAGE),
                EVENTS => {
                    let ask = match a {
                        Action::Up => state.log.scroll(-1),
                        Action::Down => state.log.scroll(1),
                        Action::PageUp => state.log.scroll(-(PAGE as isize)),
                        Action::PageDown => state.log.scroll(PAGE as isize),
                        Action::Top => state.log.scroll(-(state.log.shown.len() as isize).max(1)),
                        // The newest row, paused (its full text shows); `f` follows again.
                        _ if !state.log.follow => state.log.scroll((state.log.shown.len() as isize).max(1)),
                        _ => None,
                    };
                    return ask.map(Effect::LoadEvents).into_iter().collect();
                }
                SITES => move_sel(&mut state.site_scroll, 200, a, PAGE),
                DRILL => move_sel(
                    &mut state.drill_sel,
                    state.drill.as_ref().map_or(0, |d| d.faults.len()),
                    a,
                    PAGE,
                ),
                _ => {}
            }
        }
        Action::Open | Action::Right if state.view == PAIRS => {
            state.detail = state.selected_pair().map(|p| p.id.clone());
        }
        Action::Open | Action::Right if state.view == HOSTS && state.host_detail.is_none() => {
            state.host_detail = state.selected_host().map(|h| h.id.clone());
        }
        Action::Back if state.detail.is_some() || state.host_detail.is_some() => {
            state.detail = None;
            state.host_detail = None;
        }
        Action::Back if state.view == EVENTS => {
            state.log.correlation = None;
            state.log.filter.clear();
            state.log.min_severity = 0;
            state.log.refilter();
        }
        // Esc in Pairs or Hosts clears the filter (the order stays).
        Action::Back => {
            if let Some(l) = state.list_mut()
                && !l.filter.is_empty()
            {
                l.filter.clear();
                state.rebuild_lists();
            }
        }
        Action::Filter | Action::Sort | Action::Jump if state.detail.is_some() || state.host_detail.is_some() => {}
        Action::Filter if matches!(state.view, PAIRS | HOSTS) => state.prompt = Some(Prompt::Filter),
        Action::Jump if matches!(state.view, PAIRS | HOSTS) => {
            state.prompt = Some(Prompt::Jump {
                text: String::new(),
                from: state.list_sel(),
            })
        }
        Action::Sort => {
            let pairs = state.view == PAIRS;
            if let Some(l) = state.list_mut() {
                l.order = l.order.next(pairs);
                let word = l.order.word();
                state.rebuild_lists();
                status(state, Level::Info, format!("order: {word}"));
            }
        }
        Action::Switchover => {
            let target = if state.detail.is_some() {
                state.detail.clone()
            } else {
                state.selected_target()
            };
            // A pair without a primary: the operator chooses which instance to promote.
            let no_primary = target
                .as_ref()
                .and_then(|t| state.snapshot.pairs.iter().find(|p| &p.id == t))
                .filter(|p| p.redundancy == Some(crate::engine::Redundancy::NoPrimary));
            if let Some(p) = no_primary {
                let choices = [&p.primary, &p.backup]
                    .iter()
                    .map(|i| {
                        (
                            format!("{}@{}", i.app, i.host),
                            format!("{} / {}", i.status.as_str(), i.mode.as_str()),
                        )
                    })
                    .collect();
                state.modal = Some(Modal::Promote {
                    pair: p.id.clone(),
                    choices,
                    sel: 0,
                });
                return vec![];
            }
            if let Some(t) = target {
                state.modal = Some(Modal::Switchover(SwitchoverDialog::new(t.clone())));
                return vec![Effect::LoadPlan(t, None)];
            }
        }
        Action::Maintenance => {
            let pair = match &state.detail {
                Some(d) => state.snapshot.pairs.iter().find(|p| &p.id == d),
                None => state.selected_pair(),
            };
            if let Some(p) = pair {
                let on = !p.maintenance;
                state.modal = Some(Modal::Confirm(Confirm {
                    title: format!("Maintenance {} for {}", if on { "ON" } else { "OFF" }, p.id),
                    lines: if on {
                        vec![
                            format!("Pair {} goes into maintenance:", p.id),
                            "no automatic switchover or restart action on it".into(),
                            "until maintenance is turned off again.".into(),
                        ]
                    } else {
                        vec![
                            format!("Pair {} leaves maintenance:", p.id),
                            "automatic actions resume.".into(),
                        ]
                    },
                    button: format!("Maintenance {}", if on { "on" } else { "off" }),
                    effect: Effect::Request(Request::new(Command::Maintenance {
                        pair: p.id.clone(),
                        on,
                        expires: None,
                    })),
                    focus: 0,
                    expiry: on.then(String::new),
                }));
            }
        }
        Action::RunScript => {
            if state.scripts.is_empty() {
                status(state, Level::Error, "no script in the allow-list");
                return vec![];
            }
            let preferred = match state.view {
                HOSTS => match &state.host_detail {
                    Some(h) => Some(h.clone()),
                    None => state.selected_host().map(|h| h.id.clone()),
                },
                _ => state.selected_pair().map(|p| p.primary.host.clone()),
            };
            state.modal = Some(Modal::ScriptPick(ScriptPick {
                step: 0,
                script: 0,
                host: 0,
                preferred,
            }));
        }
        Action::Filter => {
            state.view = EVENTS;
            state.log.editing = true;
        }
        Action::Follow => {
            let on = !state.log.follow;
            return state.log.set_follow(on).map(Effect::LoadEvents).into_iter().collect();
        }
        Action::Severity => {
            state.log.min_severity = (state.log.min_severity + 1) % 4;
            state.log.refilter();
        }
        Action::NextIncident | Action::PrevIncident if !state.log.jump_incident(a == Action::NextIncident) => {
            status(state, Level::Info, "no further incident in that direction");
        }
        Action::Correlation => {
            state.log.correlation = match state.log.correlation.take() {
                Some(_) => None,
                None => state.log.selected().and_then(|e| e.correlation.clone()),
            };
            state.log.refilter();
        }
        Action::InjectFault | Action::Heal | Action::Pause | Action::Speed | Action::PlayScenario
            if !state.is_drill() =>
        {
            status(state, Level::Error, "drill controls exist only in a drill");
        }
        Action::InjectFault => {
            state.modal = Some(Modal::Faults(FaultMenu {
                kind: 0,
                targets: None,
                target: 0,
            }))
        }
        Action::Heal => state.modal = Some(Modal::Heal { sel: 0 }),
        Action::Pause | Action::Speed => {
            let d = state.drill.as_ref().expect("checked above");
            let clock = if a == Action::Pause {
                Clock {
                    paused: !d.paused,
                    speed: d.speed,
                }
            } else {
                let speeds = [1.0, 10.0, 60.0];
                let next = speeds.iter().copied().find(|s| *s > d.speed + 0.001).unwrap_or(1.0);
                Clock {
                    paused: d.paused,
                    speed: next,
                }
            };
            return vec![Effect::Drill(DrillOp::SetClock(clock))];
        }
        Action::PlayScenario => state.modal = Some(Modal::Scenario { sel: 0 }),
        Action::Report | Action::Open if state.view == DRILL => {
            if state.report.is_some() {
                state.modal = Some(Modal::Report { scroll: 0 });
            } else {
                status(state, Level::Info, "no report yet: play a scenario to its end (p)");
            }
        }
        Action::Describe => {
            let pair = match &state.detail {
                Some(d) => Some(d.clone()),
                None => state.selected_pair().map(|p| p.id.clone()),
            };
            if let Some(pair) = pair {
                state.pair_config = None;
                state.modal = Some(Modal::Describe { pair, scroll: 0 });
            }
        }
        Action::ResetAntiFlap => {
            let pair = match &state.detail {
                Some(d) => Some(d.clone()),
                None => state.selected_pair().map(|p| p.id.clone()),
            };
            if let Some(pair) = pair {
                state.modal = Some(Modal::Confirm(Confirm {
                    title: format!("Reset the anti-flap counter of {pair}"),
                    lines: vec![
                        format!("The switchovers of {pair} inside the anti-flap window are forgotten:"),
                        "automatic switchovers are no longer held back.".into(),
                        "The reset is logged with your name (HC-1900).".into(),
                    ],
                    button: "Reset counter".into(),
                    effect: Effect::Request(Request::new(Command::ResetAntiFlap { pair })),
                    focus: 0,
                    expiry: None,
                }));
            }
        }
        Action::Incident => match state.last_incident.clone() {
            Some(c) => {
                state.view = EVENTS;
                state.detail = None;
                state.host_detail = None;
                state.log.correlation = Some(c.clone());
                state.log.refilter();
                status(
                    state,
                    Level::Info,
                    format!("the events of incident {c}, followed (Esc shows all)"),
                );
                return state.log.set_follow(true).map(Effect::LoadEvents).into_iter().collect();
            }
            None => status(state, Level::Info, "no action of yours accepted yet in this console"),
        },
        Action::Redraw => return vec![Effect::Redraw],
        Action::Export => return vec![Effect::ExportEvents],
        _ => {}
    }
    vec![]
}
