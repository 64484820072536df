//! What a key does while a dialog is open: confirmations, prompts, the switchover and
//! maintenance dialogs, the script and fault menus, the drill's scenario list. Called by
//! [`super::update`], which owns the rest of the console's logic.

use super::update::{Effect, PAGE, check_expiry, move_sel, scroll_by, status};
use super::{Confirm, DRILL, Level, Modal, State, SwitchoverDialog};
use crate::console::keys::Action;
use crate::console::source::DrillOp;
use crate::engine::time::parse_span;
use crate::wire::{Command, Request};

pub(super) fn modal_key(state: &mut State, a: Action) -> Vec<Effect> {
    let Some(modal) = state.modal.as_mut() else {
        return vec![];
    };
    let close = matches!(a, Action::Back);
    let mut effects = Vec::new();
    let mut keep = !close;
    match modal {
        Modal::Help { scroll } | Modal::Report { scroll } => {
            scroll_by(scroll, state.scroll_max.get(), a);
            keep &= a != Action::Open;
        }
        Modal::ScriptOutput { .. } => keep &= a != Action::Open,
        Modal::Describe { scroll, .. } => {
            scroll_by(scroll, state.scroll_max.get(), a);
            keep &= a != Action::Open;
        }
        Modal::Promote { pair, choices, sel } => match a {
            Action::Open => {
                let target = pair.clone();
                let to = choices
                    .get(*sel)
                    .map(|c| c.0.split('@').next().unwrap_or_default().to_string());
                let mut d = SwitchoverDialog::new(target.clone());
                d.to = to.clone();
                state.modal = Some(Modal::Switchover(d));
                return vec![Effect::LoadPlan(target, to)];
            }
            _ => move_sel(sel, choices.len(), a, PAGE),
        },
        Modal::Quit { focus } => match a {
            Action::Left | Action::Right => *focus = 1 - *focus,
            Action::Quit => {
                state.quit = true;
                return vec![Effect::Quit];
            }
            Action::Open if *focus == 1 => {
                state.quit = true;
                return vec![Effect::Quit];
            }
            Action::Open => keep = false,
            _ => {}
        },
        Modal::Switchover(d) => match a {
            Action::Left | Action::Right => d.focus = 1 - d.focus,
            Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
                scroll_by(&mut d.scroll, state.scroll_max.get(), a)
            }
            Action::Open if d.focus == 0 => keep = false,
            Action::Open => {
                if d.can_confirm() {
                    let force = d.needs_typing();
                    effects.push(Effect::Request(Request::new(Command::Switchover {
                        pair: d.target.clone(),
                        to: d.to.clone(),
                        force,
                        dry_run: false,
                    })));
                    keep = false;
                } else if d.needs_typing() {
                    let t = d.target.clone();
                    status(state, Level::Error, format!("type `{t}` to force this switchover"));
                    return vec![];
                } else {
                    status(state, Level::Error, "this switchover cannot run now: see the checks");
                    return vec![];
                }
            }
            _ => {}
        },
        Modal::Confirm(c) => match a {
            Action::Left | Action::Right => c.focus = 1 - c.focus,
            Action::Open if c.focus == 1 => {
                if matches!(c.effect, Effect::Drill(DrillOp::Play(_))) {
                    state.view = DRILL;
                }
                let mut effect = c.effect.clone();
                if let (Some(text), Effect::Request(req)) = (&c.expiry, &mut effect)
                    && let Command::Maintenance { expires, .. } = &mut req.command
                    && !text.trim().is_empty()
                {
                    match parse_span(text).and_then(|s| check_expiry(s, text)) {
                        Ok(span) => *expires = Some(span),
                        Err(e) => {
                            let text = format!("maintenance for `{}`: {e}", text.trim());
                            status(state, Level::Error, text);
                            return vec![];
                        }
                    }
                }
                effects.push(effect);
                keep = false;
            }
            Action::Open => keep = false,
            _ => {}
        },
        Modal::ScriptPick(p) => {
            let scripts = &state.scripts;
            match (a, p.step) {
                (Action::Back, 1) => {
                    p.step = 0;
                    keep = true;
                }
                (Action::Open, 0) => {
                    p.step = 1;
                    let hosts = scripts.get(p.script).map(|s| s.hosts.clone()).unwrap_or_default();
                    p.host = p
                        .preferred
                        .as_ref()
                        .and_then(|h| hosts.iter().position(|x| x == h))
                        .unwrap_or(0);
                }
                (Action::Open, _) => {
                    if let Some(s) = scripts.get(p.script)
                        && let Some(h) = s.hosts.get(p.host)
                    {
                        effects.push(Effect::Request(Request::new(Command::RunScript {
                            script: s.id.clone(),
                            host: h.clone(),
                        })));
                    }
                    keep = false;
                }
                (_, 0) => move_sel(&mut p.script, scripts.len(), a, PAGE),
                (_, _) => {
                    let n = scripts.get(p.script).map_or(0, |s| s.hosts.len());
                    move_sel(&mut p.host, n, a, PAGE);
                }
            }
        }
        Modal::Faults(f) => match (a, &f.targets) {
            (Action::Back, Some(_)) => {
                f.targets = None;
                keep = true;
            }
            (Action::Open, None) => {
                if let Some((kind, _)) = state.fault_kinds.get(f.kind) {
                    effects.push(Effect::LoadFaultTargets(kind.clone()));
                }
            }
            (Action::Open, Some(t)) => {
                if let Some(target) = t.get(f.target) {
                    effects.push(Effect::Drill(DrillOp::Inject(target.clone())));
                }
                keep = false;
            }
            (_, None) => move_sel(&mut f.kind, state.fault_kinds.len(), a, PAGE),
            (_, Some(t)) => move_sel(&mut f.target, t.len(), a, PAGE),
        },
        Modal::Heal { sel } => {
            let faults: Vec<u32> = state
                .drill
                .as_ref()
                .map_or(vec![], |d| d.faults.iter().map(|f| f.0).collect());
            match a {
                Action::Open if faults.is_empty() => keep = false,
                Action::Open => {
                    effects.push(Effect::Drill(match faults.get(*sel) {
                        Some(id) => DrillOp::Heal(*id),
                        None => DrillOp::HealAll,
                    }));
                    keep = false;
                }
                _ => move_sel(sel, faults.len() + 1, a, PAGE),
            }
        }
        Modal::Scenario { sel } => match a {
            Action::Open => {
                // Restarting the drill starts a new event log: ask first, and say what goes.
                let name = if *sel == 0 {
                    None
                } else {
                    state.scenarios.get(*sel - 1).map(|s| s.0.clone())
                };
                let ops = state
                    .log
                    .all
                    .iter()
                    .filter(|e| e.id == crate::engine::EventId::OperatorCommand)
                    .count();
                let what = name
                    .clone()
                    .map_or("free play".to_string(), |n| format!("scenario {n}"));
                state.modal = Some(Modal::Confirm(Confirm {
                    title: format!("Restart the drill with {what}?"),
                    lines: vec![
                        "The drill restarts from T+0 and the event log starts empty:".into(),
                        format!(
                            "its {} events go, the {ops} operator audit line{} (HC-1900) included.",
                            state.log.all.len(),
                            if ops == 1 { "" } else { "s" }
                        ),
                        "To keep them, Cancel and export the log first (e in Events).".into(),
                    ],
                    button: format!("Play {what}"),
                    effect: Effect::Drill(DrillOp::Play(name)),
                    focus: 0,
                    expiry: None,
                }));
                return effects;
            }
            _ => move_sel(sel, state.scenarios.len() + 1, a, PAGE),
        },
    }
    if !keep {
        state.modal = None;
    }
    effects
}
