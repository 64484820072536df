//! The dialogs and menus the console can open over a view, with their own small state:
//! focus (Cancel is focused first wherever something would change), the list position,
//! and the text typed into a field. Only the model: `view/` draws them, `update` moves them.

use super::Effect;
use crate::wire::PlanView;
use crate::wire::RunId;

#[derive(Clone, Debug, PartialEq)]
pub enum Modal {
    Help {
        scroll: usize,
    },
    /// Quit while an action is in flight? Focus 0 stays, 1 quits.
    Quit {
        focus: usize,
    },
    Switchover(SwitchoverDialog),
    Confirm(Confirm),
    ScriptPick(ScriptPick),
    /// The output pane of a script run.
    ScriptOutput {
        run: RunId,
    },
    Faults(FaultMenu),
    Heal {
        sel: usize,
    },
    Scenario {
        sel: usize,
    },
    Report {
        scroll: usize,
    },
    /// A pair's configuration and its anti-flap counter.
    Describe {
        pair: String,
        scroll: usize,
    },
    /// A pair without a primary: which instance to promote.
    Promote {
        pair: String,
        /// `app@host` and its status, per instance.
        choices: Vec<(String, String)>,
        sel: usize,
    },
}

impl Modal {
    /// Whether printable keys go into a text field.
    pub fn wants_text(&self) -> bool {
        match self {
            Modal::Switchover(d) => d.needs_typing(),
            Modal::Confirm(c) => c.expiry.is_some(),
            _ => false,
        }
    }
}

/// The switchover dialog: the plan, its pre-flight checks, Cancel focused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchoverDialog {
    /// The pair or group as the operator selected it (what must be typed to force).
    pub target: String,
    /// The instance (or host) to promote, when the operator chose one.
    pub to: Option<String>,
    /// `None` while the plan loads.
    pub plan: Option<Result<PlanView, String>>,
    /// 0: Cancel, 1: the switchover button.
    pub focus: usize,
    pub typed: String,
    pub scroll: usize,
    /// A plan was asked for and has not come back yet.
    pub asking: bool,
    /// The deployment changed while it was asked for: ask again once it is in.
    pub again: bool,
}

impl SwitchoverDialog {
    pub fn new(target: String) -> SwitchoverDialog {
        SwitchoverDialog {
            target,
            to: None,
            plan: None,
            focus: 0,
            typed: String::new(),
            scroll: 0,
            asking: true,
            again: false,
        }
    }

    pub fn plan(&self) -> Option<&PlanView> {
        self.plan.as_ref().and_then(|p| p.as_ref().ok())
    }

    /// The plan runs only when forced: the operator types the name.
    pub fn needs_typing(&self) -> bool {
        self.plan().is_some_and(|p| !p.allowed && p.needs_force && !p.blocked)
    }

    /// Whether the switchover button may be pressed now.
    pub fn can_confirm(&self) -> bool {
        match self.plan() {
            Some(p) if p.blocked => false,
            Some(p) if p.allowed => true,
            Some(p) if p.needs_force => self.typed == self.target,
            _ => false,
        }
    }

    pub fn button(&self) -> &'static str {
        if self.needs_typing() {
            "FORCE switchover"
        } else {
            "Switch over"
        }
    }
}

/// A yes/no confirmation of one effect (maintenance, restarting the drill), Cancel
/// focused.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub button: String,
    /// What the confirm button does.
    pub effect: Effect,
    pub focus: usize,
    /// Maintenance on: how long, as typed (`90m`, `4h`; empty: until turned off).
    pub expiry: Option<String>,
}

/// Picking a script of the allow-list, then the host to run it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptPick {
    /// 0: the script; 1: the host.
    pub step: usize,
    pub script: usize,
    pub host: usize,
    /// The host to preselect (the selected host or the pair's primary host).
    pub preferred: Option<String>,
}

/// The fault menu: the kind, then the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultMenu {
    pub kind: usize,
    /// Loaded once a kind is chosen.
    pub targets: Option<Vec<String>>,
    pub target: usize,
}
