//! Key scripts against the drill source: the keys an operator presses, and what the
//! engine did about them.

use hactl::console::state::{EVENTS, Modal};

use super::support::{console, press, render, settle};

fn pair<'a>(c: &'a hactl::console::Console<hactl::console::DrillSource>, id: &str) -> &'a hactl::wire::PairView {
    c.state.snapshot.pairs.iter().find(|p| p.id == id).unwrap()
}

#[test]
fn switchover_with_keys_moves_the_primary_and_the_vip_and_logs_the_operator() {
    let mut c = console(false);
    assert_eq!(pair(&c, "east-sip").primary.app, "east-sip-a");
    press(&mut c, "s");
    assert!(matches!(c.state.modal, Some(Modal::Switchover(_))));
    let screen = render(&c, 80, 24);
    assert!(screen.contains("Demote   east-sip-a@east-sip1"), "{screen}");
    assert!(screen.contains(">[ Cancel ]<"), "Cancel is focused:\n{screen}");
    press(&mut c, "<Right><Enter>");
    assert!(c.state.modal.is_none());
    assert!(!c.state.inflight.is_empty(), "the switchover is in flight");
    assert!(render(&c, 80, 24).contains("IN PROGRESS: switchover of east-sip"));
    settle(&mut c, 10_000);
    let p = pair(&c, "east-sip");
    assert_eq!(p.primary.app, "east-sip-b");
    assert_eq!(p.vip.as_ref().unwrap().holders, vec!["east-sip2".to_string()]);
    assert!(c.state.inflight.is_empty());
    let pairs = render(&c, 80, 24);
    let row = pairs
        .lines()
        .find(|l| l.starts_with("▶ east-sip "))
        .expect("east-sip row");
    let words: Vec<&str> = row.split_whitespace().collect();
    let at = |w: &str| words.iter().position(|x| *x == w);
    assert!(
        at("east-sip-b").is_some() && at("east-sip-b") < at("east-sip-a"),
        "primary column first: {pairs}"
    );
    assert!(row.contains("on east-sip2"), "{pairs}");
    assert!(pairs.contains("switchover of east-sip completed"), "{pairs}");
    // The Events view shows the completion and the operator's command with their name.
    press(&mut c, "3");
    assert_eq!(c.state.view, EVENTS);
    let events = render(&c, 120, 40);
    assert!(events.contains("HC-1102"), "{events}");
    let op = c
        .state
        .log
        .all
        .iter()
        .find(|e| e.id.code() == "HC-1900")
        .expect("operator command logged");
    assert!(op.message.contains("alice") || op.source.contains("alice"), "{op:?}");
    assert!(
        op.message.contains("192.0.2.7")
            || op.source.contains("192.0.2.7")
            || op.attrs.values().any(|v| v.contains("192.0.2.7")),
        "{op:?}"
    );
}

#[test]
fn cancel_is_the_default_and_changes_nothing() {
    let mut c = console(false);
    press(&mut c, "s<Enter>");
    assert!(c.state.modal.is_none());
    settle(&mut c, 10_000);
    assert_eq!(pair(&c, "east-sip").primary.app, "east-sip-a");
    press(&mut c, "s<Esc>");
    assert!(c.state.modal.is_none());
    assert!(c.state.inflight.is_empty());
}

#[test]
fn read_only_refuses_and_hides_every_dangerous_key() {
    let mut c = console(true);
    for keys in ["s", "m", "r", "i", "H", "<Space>", "t"] {
        press(&mut c, keys);
        assert!(c.state.modal.is_none(), "{keys} opened a dialog in read-only mode");
        let status = c.state.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
        assert!(status.contains("read-only"), "{keys}: {status}");
    }
    settle(&mut c, 10_000);
    assert_eq!(pair(&c, "east-sip").primary.app, "east-sip-a");
    assert!(!c.state.drill.as_ref().unwrap().paused);
    let screen = render(&c, 120, 40);
    assert!(screen.contains("READ-ONLY"));
    assert!(
        !screen.contains("switchover"),
        "key bar shows no dangerous key:\n{screen}"
    );
    press(&mut c, "?");
    let help = render(&c, 120, 50);
    assert!(help.contains("follow the tail"), "{help}");
    assert!(!help.contains("switch the selected pair"), "{help}");
}

#[test]
fn a_forced_switchover_needs_the_pair_name_typed() {
    let mut c = console(false);
    // The backup fails its start-up checks: pick the fault from the menu.
    press(&mut c, "i");
    let kinds = c.state.fault_kinds.iter().position(|k| k.0 == "not-ready").unwrap();
    press(&mut c, &"<Down>".repeat(kinds));
    press(&mut c, "<Enter>");
    let Some(Modal::Faults(m)) = &c.state.modal else {
        panic!("fault menu closed")
    };
    let target = m
        .targets
        .as_ref()
        .unwrap()
        .iter()
        .position(|t| t == "not-ready:east-sip-b")
        .unwrap();
    press(&mut c, &"<Down>".repeat(target));
    press(&mut c, "<Enter>");
    assert_eq!(c.state.drill.as_ref().unwrap().faults.len(), 1);
    // The backup restarts; its start-up checks time out after a minute.
    settle(&mut c, 90_000);
    press(&mut c, "1s");
    let Some(Modal::Switchover(d)) = &c.state.modal else {
        panic!("no dialog")
    };
    assert!(d.needs_typing(), "{:?}", d.plan);
    let screen = render(&c, 80, 24);
    assert!(screen.contains("FORCE switchover"), "{screen}");
    // The button does nothing until the name is typed.
    press(&mut c, "<Right><Enter>");
    assert!(matches!(c.state.modal, Some(Modal::Switchover(_))));
    press(&mut c, "east-si<Enter>");
    assert!(matches!(c.state.modal, Some(Modal::Switchover(_))));
    press(&mut c, "p<Enter>");
    assert!(c.state.modal.is_none());
    settle(&mut c, 15_000);
    // The forced switchover was carried out: b was promoted. Forcing it did not make it
    // ready: as primary it reports SERVICE_UNAVAILABLE, so the controller gives the pair
    // back its healthy instance.
    assert!(
        c.state
            .log
            .all
            .iter()
            .any(|e| e.id.code() == "00-5150" && e.source == "app:east-sip-b@east-sip2"),
        "b was never promoted"
    );
    assert_eq!(pair(&c, "east-sip").primary.app, "east-sip-a");
}

#[test]
fn a_script_runs_on_a_host_and_its_output_streams() {
    let mut c = console(false);
    press(&mut c, "r<Enter>");
    let Some(Modal::ScriptPick(p)) = &c.state.modal else {
        panic!("no host step")
    };
    assert_eq!(p.step, 1);
    press(&mut c, "<Enter>");
    assert!(matches!(c.state.modal, Some(Modal::ScriptOutput { .. })));
    assert!(render(&c, 80, 24).contains("waiting for the agent"));
    settle(&mut c, 300);
    assert!(render(&c, 80, 24).contains("RUNNING"), "{}", render(&c, 80, 24));
    settle(&mut c, 60_000);
    let v = c.state.script_view.clone().expect("run shown");
    assert!(v.done.is_some());
    assert!(!v.lines.is_empty());
    let screen = render(&c, 100, 30);
    assert!(screen.contains("exit 0") || screen.contains("FAILED"), "{screen}");
    assert!(c.state.log.all.iter().any(|e| e.id.code() == "HC-1300"));
    press(&mut c, "<Esc>");
    assert!(c.state.modal.is_none());
}

#[test]
fn maintenance_toggles_with_a_confirmation() {
    let mut c = console(false);
    press(&mut c, "m<Right><Enter>");
    settle(&mut c, 2_000);
    assert!(pair(&c, "east-sip").maintenance);
    assert!(render(&c, 80, 24).contains("[M] MAINTENANCE"));
    press(&mut c, "m<Right><Enter>");
    settle(&mut c, 2_000);
    assert!(!pair(&c, "east-sip").maintenance);
}

#[test]
fn maintenance_takes_an_expiry_and_ends_by_itself() {
    let mut c = console(false);
    press(&mut c, "mforever<Right><Enter>");
    assert!(
        matches!(c.state.modal, Some(Modal::Confirm(_))),
        "a bad duration keeps the dialog"
    );
    let status = c.state.status.as_ref().unwrap().text.clone();
    assert!(status.contains("forever"), "{status}");
    press(&mut c, "<Esc>m90m");
    assert!(render(&c, 80, 24).contains("for: 90m_"));
    press(&mut c, "<Right><Enter>");
    settle(&mut c, 2_000);
    assert!(pair(&c, "east-sip").maintenance);
    let on = c
        .state
        .log
        .all
        .iter()
        .rev()
        .find(|e| e.id.code() == "HC-1600")
        .expect("maintenance on");
    assert!(
        on.message.contains("1h30m") || on.attrs.values().any(|v| v.contains("1h30m")),
        "{on:?}"
    );
    c.source.run_for(90 * 60_000);
    settle(&mut c, 1_000);
    assert!(!pair(&c, "east-sip").maintenance, "ended by itself");
    assert!(c.state.log.all.iter().any(|e| e.id.code() == "HC-1601"));
}

#[test]
fn the_last_actions_incident_is_one_key_away() {
    let mut c = console(false);
    press(&mut c, "I");
    assert!(c.state.status.as_ref().unwrap().text.contains("no action"));
    press(&mut c, "s<Right><Enter>");
    let corr = c.state.last_incident.clone().expect("accepted with a correlation id");
    assert!(render(&c, 120, 40).contains(&format!("[{corr}]")));
    settle(&mut c, 10_000);
    press(&mut c, "I");
    assert_eq!(c.state.view, EVENTS);
    assert!(c.state.log.follow);
    let shown: Vec<_> = c.state.log.shown.iter().map(|i| &c.state.log.all[*i]).collect();
    assert!(shown.len() >= 3, "{shown:?}");
    assert!(shown.iter().all(|e| e.correlation.as_deref() == Some(corr.as_str())));
    assert!(
        shown.iter().any(|e| e.id.code() == "HC-1102"),
        "the completion is among them"
    );
}

#[test]
fn events_filter_severity_and_incidents() {
    let mut c = console(false);
    press(&mut c, "s<Right><Enter>");
    settle(&mut c, 10_000);
    press(&mut c, "3/hc-1102<Enter>");
    assert!(!c.state.log.shown.is_empty());
    assert!(
        c.state
            .log
            .shown
            .iter()
            .all(|i| c.state.log.all[*i].id.code() == "HC-1102")
    );
    press(&mut c, "<Esc>");
    let all = c.state.log.shown.len();
    assert_eq!(all, c.state.log.all.len());
    press(&mut c, "v");
    assert!(c.state.log.shown.len() < all);
    press(&mut c, "<Esc>f");
    assert!(!c.state.log.follow);
    press(&mut c, "gn");
    let corr = c.state.log.selected().and_then(|e| e.correlation.clone());
    assert!(corr.is_some());
    press(&mut c, "c");
    assert!(
        c.state
            .log
            .shown
            .iter()
            .all(|i| c.state.log.all[*i].correlation == corr)
    );
}

#[test]
fn quit_asks_while_an_action_is_in_flight() {
    let mut c = console(false);
    press(&mut c, "s<Right><Enter>q");
    assert!(matches!(c.state.modal, Some(Modal::Quit { .. })));
    assert!(!c.quitting());
    press(&mut c, "<Enter>");
    assert!(!c.quitting(), "Stay is focused");
    settle(&mut c, 10_000);
    press(&mut c, "q");
    assert!(c.quitting());
}

#[test]
fn time_controls_and_faults_and_heal() {
    let mut c = console(false);
    press(&mut c, "<Space>");
    assert!(c.state.drill.as_ref().unwrap().paused);
    press(&mut c, "t");
    assert_eq!(c.state.drill.as_ref().unwrap().speed, 10.0);
    press(&mut c, "tt");
    assert_eq!(c.state.drill.as_ref().unwrap().speed, 1.0);
    press(&mut c, "i<Enter><Enter>");
    let d = c.state.drill.as_ref().unwrap();
    assert!(d.faults.is_empty(), "kill is one-shot");
    let kinds = c.state.fault_kinds.iter().position(|k| k.0 == "partition").unwrap();
    press(&mut c, "i");
    press(&mut c, &"<Down>".repeat(kinds));
    press(&mut c, "<Enter><Enter>");
    assert_eq!(c.state.drill.as_ref().unwrap().faults.len(), 1);
    press(&mut c, "5");
    assert!(render(&c, 80, 24).contains("partition"));
    press(&mut c, "H<Down><Enter>");
    assert!(c.state.drill.as_ref().unwrap().faults.is_empty());
}

#[test]
fn a_scenario_plays_to_its_report() {
    let mut c = console(false);
    press(&mut c, "5p<Down><Enter><Right><Enter>");
    let d = c.state.drill.clone().unwrap();
    assert_eq!(d.scenario.as_ref().unwrap().0, "manual-switchover");
    settle(&mut c, 60_000);
    assert!(render(&c, 80, 24).contains("%"), "progress gauge");
    settle(&mut c, 600_000);
    assert!(c.state.report.is_some());
    assert!(matches!(c.state.modal, Some(Modal::Report { .. })));
    let screen = render(&c, 120, 40);
    assert!(screen.contains("PASSED"), "{screen}");
    assert!(screen.contains("Operator actions (1)"), "{screen}");
    assert!(c.state.drill.as_ref().unwrap().finished);
}

#[test]
fn a_pair_detail_shows_its_incidents_and_timeline() {
    let mut c = console(false);
    press(&mut c, "s<Right><Enter>");
    settle(&mut c, 20_000);
    press(&mut c, "<Enter>");
    assert_eq!(c.state.detail.as_deref(), Some("east-sip"));
    let screen = render(&c, 120, 40);
    assert!(screen.contains("Timeline"), "{screen}");
    assert!(screen.contains("Recent incidents"), "{screen}");
    assert!(screen.contains("▸ east-"), "{screen}");
    press(&mut c, "<Esc>");
    assert!(c.state.detail.is_none());
}
