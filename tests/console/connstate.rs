//! The header and the rows in each state of a connection, through a test source that
//! serves the drill's deployment as two controllers would: east connected, west
//! connected, reconnecting, stale, or never reached. Snapshots at 80x24 and 120x40; and
//! the rule that a site whose controller cannot be reached never shows as healthy.

use std::time::{Duration, Instant};

use hactl::console::source::{Ask, ConnState, Connection, Grant, Reply, ScriptChoice, ScriptRunView, Source};
use hactl::console::theme::{Depth, Theme};
use hactl::console::{Console, DrillSource};
use hactl::engine::config;
use hactl::wire::{EventRecord, RunId, Snapshot};

use super::support::{operator, press, render};

/// Two controllers' parts of the built-in deployment, their connections as set.
pub struct TwoSites {
    pub snapshot: Snapshot,
    pub conns: Vec<Connection>,
    pub grant: Grant,
    pub revision: u64,
}

impl Source for TwoSites {
    fn connections(&self) -> Vec<Connection> {
        self.conns.clone()
    }
    fn advance(&mut self, _: Instant) -> bool {
        false
    }
    fn next_change(&self, _: Instant) -> Option<Duration> {
        None
    }
    fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
    fn revision(&self) -> u64 {
        self.revision
    }
    fn take_events(&mut self, _: &mut Vec<EventRecord>) {}
    fn submit(&mut self, _: Ask) {}
    fn take_replies(&mut self, _: &mut Vec<Reply>) {}
    fn grant(&self) -> Grant {
        self.grant
    }
    fn operator(&self) -> Option<String> {
        Some("alice".into())
    }
    fn scripts(&self) -> Vec<ScriptChoice> {
        Vec::new()
    }
    fn script_run(&mut self, _: &RunId) -> Option<ScriptRunView> {
        None
    }
}

fn conn(site: &str, state: ConnState) -> Connection {
    let stale_ms = match state {
        ConnState::Connected | ConnState::Drill => None,
        ConnState::Reconnecting { .. } => Some(1_500),
        ConnState::Stale { age_secs } => Some(age_secs * 1000 + 300),
    };
    Connection {
        label: site.into(),
        state,
        sites: vec![site.into()],
        stale_ms,
        error: stale_ms.map(|_| format!("http://192.0.2.2:7400: cannot reach the controller: cannot connect: {site}")),
    }
}

/// A console over both sites, everything up 30 s into the drill; west in `west`.
pub fn console_with(west: Connection) -> Console<TwoSites> {
    let mut drill = DrillSource::new(config::builtin(), 1, 1.0, operator());
    drill.run_for(30_000);
    let mut snapshot = drill.snapshot().clone();
    if west.sites.is_empty() {
        // Never reached: nothing of west is known, not even its names.
        snapshot.sites.retain(|s| s.id != "west");
        snapshot.hosts.retain(|h| h.site != "west");
        snapshot.pairs.retain(|p| p.site != "west");
        snapshot.groups.retain(|g| g.site != "west");
        snapshot.endpoints.retain(|e| e.site != "west");
    }
    let src = TwoSites {
        snapshot,
        conns: vec![conn("east", ConnState::Connected), west],
        grant: Grant::Act,
        revision: 1,
    };
    let theme = Theme::load(None, Depth::Ansi16).unwrap();
    let mut c = Console::new(src, theme, false, "nobody".into());
    c.state.wall_clock = "12:00 UTC".into();
    c.state.wall_ms = 1_714_564_800_000;
    c
}

fn states() -> Vec<(&'static str, Connection)> {
    vec![
        ("connected", conn("west", ConnState::Connected)),
        ("reconnecting", conn("west", ConnState::Reconnecting { in_secs: 3 })),
        ("stale", conn("west", ConnState::Stale { age_secs: 42 })),
        (
            "never_reached",
            Connection {
                label: "http://192.0.2.9:7400".into(),
                state: ConnState::Reconnecting { in_secs: 2 },
                error: Some("http://192.0.2.9:7400: a valid bearer token is required (401 unauthorized)".into()),
                ..Connection::default()
            },
        ),
    ]
}

#[test]
fn header_and_rows_in_each_connection_state() {
    for (name, west) in states() {
        let mut c = console_with(west);
        for (view, keys) in [("pairs", ""), ("hosts", "2"), ("sites", "4")] {
            press(&mut c, keys);
            for (w, h) in [(80, 24), (120, 40)] {
                if view != "pairs" && (w, h) == (80, 24) {
                    continue;
                }
                insta::assert_snapshot!(format!("live_{name}_{view}_{w}x{h}"), render(&c, w, h));
            }
        }
    }
}

#[test]
fn a_site_that_cannot_be_reached_is_never_shown_healthy() {
    for (name, west) in states().into_iter().skip(1) {
        let c = console_with(west);
        let screen = render(&c, 120, 40);
        assert!(!screen.contains("all OK"), "{name}:\n{screen}");
        for line in screen.lines().filter(|l| l.contains("west-")) {
            let status = line.rsplit("  ").next().unwrap_or_default();
            assert!(
                !status.trim().ends_with("OK") || status.contains("was OK"),
                "{name}: {line}"
            );
            assert!(!line.contains(" on west-"), "{name}: a VIP shown as bound: {line}");
        }
        if name == "stale" {
            assert!(screen.contains("west: STALE 42s"), "{screen}");
            assert!(screen.contains("[?] STALE 42s, was OK"), "{screen}");
        }
        if name == "never_reached" {
            assert!(screen.contains("never reached"), "{screen}");
        }
        // The other site is still what its controller says.
        assert!(
            screen
                .lines()
                .any(|l| l.contains(" east-sip ") && l.trim_end().ends_with("OK")),
            "{screen}"
        );
    }
}

#[test]
fn a_viewer_token_gives_the_read_only_console() {
    let mut c = console_with(conn("west", ConnState::Connected));
    c.source.grant = Grant::View;
    c.source.revision += 1;
    c.refresh();
    let screen = render(&c, 120, 40);
    assert!(screen.contains("READ-ONLY"), "{screen}");
    assert!(!screen.contains("switchover"), "no dangerous key offered:\n{screen}");
    press(&mut c, "s");
    assert!(c.state.modal.is_none());
    let status = c.state.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(
        status.contains("viewer") && status.contains("not available"),
        "{status}"
    );
    // An operator token offers it; resetting anti-flap needs an admin's.
    c.source.grant = Grant::Act;
    c.source.revision += 1;
    c.refresh();
    press(&mut c, "R");
    let status = c.state.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(status.contains("needs an admin token"), "{status}");
    press(&mut c, "s");
    assert!(c.state.modal.is_some(), "an operator may switch over");
}
