//! Keys as data. [`BINDINGS`] is the one list of what every key does, in which part of
//! the console, and whether it changes the deployment (`dangerous`). Key lookup, the key
//! bar and the help screen are all generated from it, so they cannot disagree; read-only
//! mode hides dangerous bindings and refuses their keys by construction.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A key as the bindings name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
}

impl Key {
    /// The key of a terminal event (`None` for releases and keys the console ignores).
    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        if e.kind == KeyEventKind::Release {
            return None;
        }
        Some(match e.code {
            KeyCode::Char(c) if e.modifiers.contains(KeyModifiers::CONTROL) => Key::Ctrl(c.to_ascii_lowercase()),
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::Backspace => Key::Backspace,
            _ => return None,
        })
    }
}

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere outside dialogs.
    Global,
    Pairs,
    Hosts,
    Events,
    Drill,
    /// Inside dialogs and menus.
    Dialog,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Pairs => "Pairs",
            Scope::Hosts => "Hosts",
            Scope::Events => "Events",
            Scope::Drill => "Drill",
            Scope::Dialog => "Dialogs and menus",
        }
    }
}

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextView,
    PrevView,
    View(usize),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Switchover,
    RunScript,
    Maintenance,
    Filter,
    /// Cycle the order of the rows.
    Sort,
    /// Move the cursor to a name typed.
    Jump,
    Follow,
    Severity,
    NextIncident,
    PrevIncident,
    Correlation,
    InjectFault,
    Heal,
    Pause,
    Speed,
    PlayScenario,
    Report,
    Redraw,
    Export,
    Describe,
    ResetAntiFlap,
    /// The events of the incident of the operator's last action.
    Incident,
}

/// What the operator may do, least first: look only (read-only, or a viewer token);
/// act (switchover, maintenance, scripts; in a drill also its controls); administer (also
/// reset anti-flap counters). A live console takes it from its token's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    View,
    Act,
    Admin,
}

impl Grant {
    /// How the header and a refusal name it.
    pub fn word(self) -> &'static str {
        match self {
            Grant::View => "read-only",
            Grant::Act => "operator",
            Grant::Admin => "admin",
        }
    }
}

pub struct Binding {
    pub keys: &'static [Key],
    /// How the key is written in the bar and the help.
    pub shown: &'static str,
    /// One word for the key bar.
    pub label: &'static str,
    pub help: &'static str,
    pub action: Action,
    pub scope: Scope,
    /// Changes the deployment: hidden and refused in read-only mode.
    pub dangerous: bool,
    /// Shown in the key bar.
    pub bar: bool,
}

impl Binding {
    /// The least grant that offers this binding.
    pub fn needs(&self) -> Grant {
        match (self.dangerous, self.action) {
            (false, _) => Grant::View,
            (true, Action::ResetAntiFlap) => Grant::Admin,
            (true, _) => Grant::Act,
        }
    }
}

macro_rules! b {
    ($scope:ident, [$($k:expr),+], $shown:literal, $label:literal, $action:expr, $danger:literal, $bar:literal, $help:literal) => {
        Binding { keys: &[$($k),+], shown: $shown, label: $label, help: $help, action: $action,
                  scope: Scope::$scope, dangerous: $danger, bar: $bar }
    };
}

use Key::*;

/// Every key of the console.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    b!(Global, [Char('?')], "?", "help", Action::Help, false, true, "show this help"),
    b!(Global, [Char('q'), Ctrl('c')], "q", "quit", Action::Quit, false, true, "quit (asks first while an action is in flight)"),
    b!(Global, [Tab], "Tab", "view", Action::NextView, false, false, "next view"),
    b!(Global, [BackTab], "S-Tab", "view", Action::PrevView, false, false, "previous view"),
    b!(Global, [Char('1')], "1", "pairs", Action::View(0), false, false, "Pairs view"),
    b!(Global, [Char('2')], "2", "hosts", Action::View(1), false, false, "Hosts view"),
    b!(Global, [Char('3')], "3", "events", Action::View(2), false, false, "Events view"),
    b!(Global, [Char('4')], "4", "sites", Action::View(3), false, false, "Sites view"),
    b!(Global, [Char('5')], "5", "drill", Action::View(4), false, false, "Drill view: faults, time, scenarios"),
    b!(Global, [Up, Char('k')], "↑/k", "up", Action::Up, false, false, "move up"),
    b!(Global, [Down, Char('j')], "↓/j", "down", Action::Down, false, false, "move down"),
    b!(Global, [PageUp, Ctrl('b')], "PgUp", "page up", Action::PageUp, false, false, "page up"),
    b!(Global, [PageDown, Ctrl('f')], "PgDn", "page down", Action::PageDown, false, false, "page down"),
    b!(Global, [Home, Char('g')], "g/Home", "top", Action::Top, false, false, "first row"),
    b!(Global, [End, Char('G')], "G/End", "bottom", Action::Bottom, false, false, "last row"),
    b!(Global, [Esc], "Esc", "back", Action::Back, false, false, "close the detail view or dialog"),
    b!(Global, [Ctrl('l')], "C-l", "redraw", Action::Redraw, false, false, "redraw the whole screen"),
    b!(Global, [Char('I')], "I", "incident", Action::Incident, false, false, "the events of your last action's incident, followed"),
    b!(Global, [Char(' ')], "Space", "pause", Action::Pause, true, true, "drill: pause or resume virtual time"),
    b!(Global, [Char('t')], "t", "speed", Action::Speed, true, true, "drill: speed 1x, 10x, 60x"),
    b!(Global, [Char('i')], "i", "fault", Action::InjectFault, true, true, "drill: inject a fault (pick the kind, then the target)"),
    b!(Global, [Char('H')], "H", "heal", Action::Heal, true, true, "drill: heal one fault or all"),
    b!(Pairs, [Enter, Char('l')], "Enter", "detail", Action::Open, false, true, "details of the pair: incidents, timeline"),
    b!(Pairs, [Char('s')], "s", "switchover", Action::Switchover, true, true, "switch the selected pair or group over (plan, checks, confirm)"),
    b!(Pairs, [Char('m')], "m", "maint", Action::Maintenance, true, true, "maintenance on or off for the selected pair"),
    b!(Pairs, [Char('r')], "r", "script", Action::RunScript, true, true, "run a script of the allow-list (output streamed)"),
    b!(Pairs, [Char('d')], "d", "describe", Action::Describe, false, true, "describe the pair: its configuration and anti-flap counter"),
    b!(Pairs, [Char('R')], "R", "reset flap", Action::ResetAntiFlap, true, false, "reset the pair's anti-flap counter (confirmation; audited)"),
    b!(Pairs, [Char('/')], "/", "filter", Action::Filter, false, true, "filter: name, site, instance, redundancy word (Esc clears)"),
    b!(Pairs, [Char('o')], "o", "sort", Action::Sort, false, true, "order: configured, name, severity, site, last switchover"),
    b!(Pairs, [Char(':')], ":", "jump", Action::Jump, false, false, "jump to the first name starting with the text typed"),
    b!(Hosts, [Enter, Char('l')], "Enter", "detail", Action::Open, false, true, "details of the host: agent, NICs, apps, VIPs, events"),
    b!(Hosts, [Char('r')], "r", "script", Action::RunScript, true, true, "run a script on the selected host"),
    b!(Hosts, [Char('/')], "/", "filter", Action::Filter, false, true, "filter: name, site or agent state (Esc clears)"),
    b!(Hosts, [Char('o')], "o", "sort", Action::Sort, false, true, "order: configured, name, severity, site"),
    b!(Hosts, [Char(':')], ":", "jump", Action::Jump, false, false, "jump to the first name starting with the text typed"),
    b!(Events, [Char('f')], "f", "follow", Action::Follow, false, true, "follow the tail or pause it (scroll back)"),
    b!(Events, [Char('/')], "/", "filter", Action::Filter, false, true, "filter by id, text or source (Enter keeps, Esc clears)"),
    b!(Events, [Char('v')], "v", "severity", Action::Severity, false, true, "minimum severity: all, warning, alarm, critical"),
    b!(Events, [Char('n')], "n", "next inc", Action::NextIncident, false, true, "jump to the next incident (correlation id)"),
    b!(Events, [Char('N')], "N", "prev inc", Action::PrevIncident, false, false, "jump to the previous incident"),
    b!(Events, [Char('c')], "c", "correl.", Action::Correlation, false, true, "show only the selected event's correlation id"),
    b!(Events, [Char('e')], "e", "export", Action::Export, false, true, "export the events shown to a JSON-lines file"),
    b!(Drill, [Char('p')], "p", "scenario", Action::PlayScenario, true, true, "play a named scenario (or restart free play)"),
    b!(Drill, [Enter], "Enter", "report", Action::Report, false, true, "the report of the finished scenario"),
    b!(Dialog, [Tab, Left, Right, Char('h'), Char('l')], "Tab ←→", "focus", Action::Right, false, true, "move between buttons"),
    b!(Dialog, [Up, Char('k'), Down, Char('j')], "↑↓", "pick", Action::Down, false, true, "move in a list"),
    b!(Dialog, [PageUp, Ctrl('b')], "PgUp", "page up", Action::PageUp, false, false, "scroll a page up"),
    b!(Dialog, [PageDown, Ctrl('f')], "PgDn", "page down", Action::PageDown, false, false, "scroll a page down"),
    b!(Dialog, [Home, Char('g')], "g/Home", "top", Action::Top, false, false, "to the top"),
    b!(Dialog, [End, Char('G')], "G/End", "end", Action::Bottom, false, false, "to the end"),
    b!(Dialog, [Enter], "Enter", "choose", Action::Open, false, true, "press the focused button or choose the item"),
    b!(Dialog, [Esc], "Esc", "cancel", Action::Back, false, true, "cancel and close"),
];

/// The scope of each view, in view order.
pub const VIEW_SCOPES: [Scope; 5] = [Scope::Pairs, Scope::Hosts, Scope::Events, Scope::Global, Scope::Drill];

/// What `key` does in `scope` (view bindings first, then global ones).
pub enum Lookup {
    Do(Action),
    /// A key the grant does not offer: refused, with its label and what it needs.
    Refused(&'static str, Grant),
    Nothing,
}

pub fn lookup(scope: Scope, key: Key, grant: Grant) -> Lookup {
    let scopes: &[Scope] = if scope == Scope::Dialog {
        &[Scope::Dialog]
    } else {
        &[scope, Scope::Global]
    };
    for s in scopes {
        if let Some(b) = BINDINGS.iter().find(|b| b.scope == *s && b.keys.contains(&key)) {
            if b.needs() > grant {
                return Lookup::Refused(b.label, b.needs());
            }
            // Inside dialogs the navigation keys keep their own meaning.
            let action = match (b.scope, key) {
                (Scope::Dialog, Up | Char('k')) => Action::Up,
                (Scope::Dialog, Down | Char('j')) => Action::Down,
                (Scope::Dialog, Left | Char('h') | BackTab) => Action::Left,
                _ => b.action,
            };
            return Lookup::Do(action);
        }
    }
    Lookup::Nothing
}

/// The bindings shown in the key bar of a scope, in order.
pub fn bar(scope: Scope, grant: Grant, drill: bool) -> Vec<&'static Binding> {
    let scopes: Vec<Scope> = if scope == Scope::Dialog || scope == Scope::Global {
        vec![scope]
    } else {
        vec![scope, Scope::Global]
    };
    scopes
        .iter()
        .flat_map(|s| BINDINGS.iter().filter(move |b| b.scope == *s))
        .filter(|b| b.bar && visible(b, grant, drill))
        .collect()
}

/// Whether a binding exists in this console (the grant hides what it does not offer;
/// drill-only keys exist only on a drill).
pub fn visible(b: &Binding, grant: Grant, drill: bool) -> bool {
    b.needs() <= grant && (drill || !(b.help.starts_with("drill:") || b.scope == Scope::Drill))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                let overlap = a.scope == b.scope && a.keys.iter().any(|k| b.keys.contains(k));
                let shadow = a.scope != Scope::Dialog
                    && b.scope != Scope::Dialog
                    && (a.scope == Scope::Global || b.scope == Scope::Global)
                    && a.scope != b.scope
                    && a.keys.iter().any(|k| b.keys.contains(k))
                    && !matches!(a.action, Action::Up | Action::Down);
                assert!(!overlap, "{} and {} share a key in {:?}", a.label, b.label, a.scope);
                let _ = shadow;
            }
        }
    }

    #[test]
    fn read_only_refuses_every_dangerous_key() {
        for b in BINDINGS.iter().filter(|b| b.dangerous) {
            for k in b.keys {
                assert!(
                    matches!(lookup(b.scope, *k, Grant::View), Lookup::Refused(..)),
                    "{}",
                    b.label
                );
            }
        }
    }

    #[test]
    fn an_operator_is_not_offered_what_needs_an_admin() {
        let reset = BINDINGS.iter().find(|b| b.action == Action::ResetAntiFlap).unwrap();
        assert!(matches!(
            lookup(reset.scope, reset.keys[0], Grant::Act),
            Lookup::Refused(_, Grant::Admin)
        ));
        assert!(matches!(
            lookup(reset.scope, reset.keys[0], Grant::Admin),
            Lookup::Do(_)
        ));
        let s = BINDINGS.iter().find(|b| b.action == Action::Switchover).unwrap();
        assert!(matches!(lookup(s.scope, s.keys[0], Grant::Act), Lookup::Do(_)));
        assert!(!visible(reset, Grant::Act, true) && visible(s, Grant::Act, true));
    }
}
