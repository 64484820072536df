//! The console never shows as healthy what is not known to be healthy, and never shows
//! one thing as another: one test per defect found by trying the drill console as a new
//! operator would (key scripts against the drill, screens at 80x24 and 120x40).

use std::time::Instant;

use hactl::console::keys::Key;
use hactl::console::source::DrillControls;
use hactl::console::source::DrillOp;
use hactl::console::state::{FILTER_MAX, Modal};

use super::support::{console, console_at, line_of, press, render, settle};

type C = hactl::console::Console<hactl::console::DrillSource>;

fn inject(c: &mut C, fault: &str) {
    c.source.drill_op(DrillOp::Inject(fault.into())).unwrap();
    c.refresh();
}

fn heal_all(c: &mut C) {
    c.source.drill_op(DrillOp::HealAll).unwrap();
    c.refresh();
}

/// Line 4 of the screen: the health summary of the Pairs view.
fn summary(screen: &str) -> &str {
    screen.lines().nth(3).unwrap()
}

/// Line 3: the tabs with the short health.
fn tabs(screen: &str) -> &str {
    screen.lines().nth(2).unwrap()
}

#[test]
fn a_script_pane_shows_the_run_of_its_own_site() {
    let mut c = console(false);
    // An east switchover runs notify-oncall on east (run 2 of site east)...
    press(&mut c, "s<Right><Enter>");
    settle(&mut c, 10_000);
    // ...then flush-registrations on west-sip2 is run 2 of site west.
    let script = c
        .state
        .scripts
        .iter()
        .position(|s| s.id == "flush-registrations")
        .unwrap();
    press(&mut c, "r");
    press(&mut c, &"<Down>".repeat(script));
    press(&mut c, "<Enter>");
    let host = c.state.scripts[script]
        .hosts
        .iter()
        .position(|h| h == "west-sip2")
        .unwrap();
    let Some(Modal::ScriptPick(p)) = &c.state.modal else {
        panic!("no host step")
    };
    let at = p.host;
    let keys = if host >= at {
        "<Down>".repeat(host - at)
    } else {
        "<Up>".repeat(at - host)
    };
    press(&mut c, &keys);
    press(&mut c, "<Enter>");
    settle(&mut c, 1_000);
    let screen = render(&c, 120, 40);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("Script flush-registrations on west-sip2 (run ") && l.contains(" of site west)")),
        "{screen}"
    );
    assert!(!screen.contains("notify-oncall on east"), "{screen}");
    let v = c.state.script_view.as_ref().expect("the run is shown");
    assert_eq!(
        (v.script.as_str(), v.host.as_str()),
        ("flush-registrations", "west-sip2")
    );
}

/// Disconnects east-sip1's agent, then heals: for a moment the VIP is bound on both hosts.
fn duplicate_vip(c: &mut C) {
    inject(c, "disconnect:east-sip1");
    settle(c, 20_000);
    heal_all(c);
    // The duplicate lasts from the agent's resync to the removal's report: tens of ms.
    for _ in 0..400 {
        settle(c, 10);
        let dup = c
            .state
            .snapshot
            .pairs
            .iter()
            .any(|p| p.vip.as_ref().is_some_and(|v| v.holders.len() > 1));
        if dup {
            return;
        }
    }
    panic!("no duplicate VIP came up");
}

#[test]
fn a_duplicate_vip_escalates_the_pair_everywhere() {
    let mut c = console(false);
    duplicate_vip(&mut c);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&c, w, h);
        let row = line_of(&screen, "east-sip ");
        assert!(row.contains("[!!]"), "the pair's status is critical:\n{screen}");
        assert!(summary(&screen).starts_with("[!!]"), "{screen}");
        assert!(tabs(&screen).contains("[!!]"), "{screen}");
    }
    press(&mut c, "<Enter>");
    let screen = render(&c, 120, 40);
    let header = line_of(&screen, "Pair east-sip");
    assert!(header.contains("[!!]") && header.contains("VIP DUP"), "{screen}");
}

#[test]
fn no_primary_dup_and_no_backup_have_different_marks() {
    let mut c = console(false);
    duplicate_vip(&mut c);
    let screen = render(&c, 120, 40);
    // NO BACKUP alone is an alarm; with the duplicate VIP the pair is critical.
    let row = line_of(&screen, "east-sip ");
    assert!(
        row.contains("[!!]") && row.contains("VIP DUP east-sip1,east-sip2"),
        "{screen}"
    );
    let mut c = console(false);
    inject(&mut c, "stop:west-sip-b");
    settle(&mut c, 10_000);
    let screen = render(&c, 120, 40);
    assert!(line_of(&screen, "west-sip ").contains("[!] NO BACKUP"), "{screen}");
    assert!(!line_of(&screen, "west-sip ").contains("[!!]"), "{screen}");
}

#[test]
fn a_partition_shows_in_the_summary_from_every_view() {
    let mut c = console(false);
    inject(&mut c, "partition");
    settle(&mut c, 40_000);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&c, w, h);
        assert!(!screen.contains("pairs redundant"), "{screen}");
        assert!(!tabs(&screen).contains("all OK"), "{screen}");
        assert!(summary(&screen).starts_with("[!]"), "{screen}");
    }
    let screen = render(&c, 200, 40);
    assert!(summary(&screen).contains("SINGLE-SITE"), "{screen}");
    assert!(summary(&screen).contains("OUT-OF-SERVICE"), "{screen}");
    press(&mut c, "2");
    assert!(tabs(&render(&c, 80, 24)).contains("[!]"));
}

#[test]
fn site_down_shows_unknown_not_never_unbound_or_a_dead_primary() {
    let mut c = console(false);
    press(&mut c, "s<Right><Enter>");
    settle(&mut c, 10_000);
    inject(&mut c, "site-down:east");
    settle(&mut c, 20_000);
    let screen = render(&c, 120, 40);
    let row = line_of(&screen, "east-sip ");
    assert!(
        row.contains("[?] unknown"),
        "the VIP is unknown, not unbound:\n{screen}"
    );
    assert!(!row.contains("unbound"), "{screen}");
    assert!(!row.contains("never"), "LAST SW is remembered:\n{screen}");
    assert!(row.contains("ago"), "{screen}");
    let group = line_of(&screen, "▾ east-voicemail");
    assert!(group.contains("primary ? (was east-vm1)"), "{screen}");
    press(&mut c, "4");
    let sites = render(&c, 120, 40);
    let phones = line_of(&sites, "east-phones");
    assert!(
        phones.contains("[?] east-sip") && phones.contains("(server unknown)"),
        "{sites}"
    );
    press(&mut c, "1");
    heal_all(&mut c);
    settle(&mut c, 30_000);
    let screen = render(&c, 120, 40);
    let row = line_of(&screen, "east-sip ");
    assert!(
        row.contains("ago") && !row.contains("never"),
        "LAST SW after healing:\n{screen}"
    );
}

#[test]
fn host_down_marks_the_last_known_mode_and_unknown_nics() {
    let mut c = console(false);
    inject(&mut c, "host-down:east-sip1");
    settle(&mut c, 20_000);
    press(&mut c, "2");
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&c, w, h);
        let host = line_of(&screen, "east-sip1");
        assert!(host.contains("agent LOST"), "{screen}");
        assert!(
            !host.contains("agomgmt") && host.contains("ago  "),
            "words apart:\n{screen}"
        );
        assert!(!host.contains(" up"), "a lost host's NICs are not known up:\n{screen}");
        let a = line_of(&screen, "east-sip-a");
        assert!(a.contains("was primary?") && !a.contains("PRIMARY"), "{screen}");
        assert!(line_of(&screen, "east-sip-b").contains("PRIMARY"), "{screen}");
    }
}

#[test]
fn a_blocked_switchover_dialog_refreshes() {
    let mut c = console(false);
    inject(&mut c, "stop:east-sip-b");
    settle(&mut c, 10_000);
    press(&mut c, "s");
    let Some(Modal::Switchover(d)) = &c.state.modal else {
        panic!("no dialog")
    };
    let blocked = d.plan().is_some_and(|p| !p.allowed);
    assert!(blocked, "{:?}", d.plan);
    heal_all(&mut c);
    settle(&mut c, 20_000);
    let Some(Modal::Switchover(d)) = &c.state.modal else {
        panic!("dialog closed")
    };
    assert!(d.plan().is_some_and(|p| p.allowed), "the plan is live: {:?}", d.plan);
    assert!(render(&c, 120, 40).contains("Every check allows it."));
}

#[test]
fn the_quit_dialog_closes_when_nothing_is_in_flight_and_tells_the_truth() {
    let mut c = console(false);
    press(&mut c, "s<Right><Enter>q");
    let screen = render(&c, 80, 24);
    assert!(screen.contains("Quitting ends the drill"), "{screen}");
    assert!(!screen.contains("does not stop it"), "{screen}");
    settle(&mut c, 10_000);
    assert!(c.state.modal.is_none(), "no empty quit dialog");
    assert!(!render(&c, 80, 24).contains("still in flight"));
}

#[test]
fn startup_shows_starting_not_no_primary() {
    let mut c = console_at(false, 300);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&c, w, h);
        assert!(!screen.contains("NO PRIMARY"), "{screen}");
        assert!(line_of(&screen, "east-sip ").contains("[?] STARTING"), "{screen}");
        assert!(!screen.contains("all OK"), "{screen}");
    }
    settle(&mut c, 10_000);
    let screen = render(&c, 80, 24);
    assert!(!screen.contains("STARTING"), "{screen}");
    assert!(line_of(&screen, "east-sip ").contains("OK"), "{screen}");
}

#[test]
fn read_only_takes_any_value_but_the_off_ones() {
    use hactl::console::read_only_value;
    for v in ["1", "on", "y", "true", "yes", "YES", "anything"] {
        assert!(read_only_value(v), "{v}");
    }
    for v in ["", "0", "false", "no", "off", "Off"] {
        assert!(!read_only_value(v), "{v:?}");
    }
    let mut c = console(true);
    press(&mut c, "5");
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&c, w, h);
        assert!(screen.contains("READ-ONLY"), "{screen}");
        for refused in ["Space pause", "t speed", "i fault", "H heal", "p scenario"] {
            assert!(!screen.contains(refused), "{refused} advertised read-only:\n{screen}");
        }
    }
}

#[test]
fn long_modals_scroll_to_their_end() {
    let mut c = console(false);
    press(&mut c, "?<End>");
    let screen = render(&c, 80, 24);
    assert!(screen.contains("cancel and close"), "the help's last line:\n{screen}");
    press(&mut c, "<Home>");
    assert!(!render(&c, 80, 24).contains("cancel and close"));
    press(&mut c, &"<PgDn>".repeat(6));
    assert!(render(&c, 80, 24).contains("cancel and close"));
    press(&mut c, "<Esc><Down>s<End>");
    let screen = render(&c, 80, 24);
    let Some(Modal::Switchover(d)) = &c.state.modal else {
        panic!("no dialog")
    };
    let last = d.plan().unwrap().steps.len();
    assert!(
        screen.contains(&format!("│  {last}. ")),
        "the plan's last step:\n{screen}"
    );
}

#[test]
fn the_report_scrolls_to_its_end_at_80x24() {
    let mut c = console(false);
    press(&mut c, "5p<Down><Enter><Right><Enter>");
    settle(&mut c, 400_000);
    assert!(matches!(c.state.modal, Some(Modal::Report { .. })));
    let last = c.state.report.as_ref().unwrap().timeline.last().unwrap().1.clone();
    let tail: String = last.chars().rev().take(12).collect::<String>().chars().rev().collect();
    assert!(!render(&c, 80, 24).contains(&tail));
    press(&mut c, "G");
    let screen = render(&c, 80, 24);
    assert!(screen.contains(&tail), "`{tail}` at the end:\n{screen}");
}

#[test]
fn events_stay_paused_on_the_newest_row_and_a_long_filter_keeps_its_cursor() {
    let mut c = console(false);
    press(&mut c, "3<Up><Down>");
    assert!(!c.state.log.follow, "moving does not follow again");
    let newest = c.state.log.all.last().unwrap().clone();
    assert_eq!(c.state.log.selected(), Some(&newest));
    let screen = render(&c, 120, 40);
    assert!(screen.contains("[PAUSED"), "{screen}");
    assert!(
        screen.contains(&format!("  {}", newest.message)),
        "full text shown:\n{screen}"
    );
    press(&mut c, "f");
    assert!(c.state.log.follow);
    press(&mut c, "/");
    press(&mut c, &"x".repeat(150));
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&c, w, h);
        let bar = line_of(&screen, "[FOLLOW");
        assert!(bar.contains("0 of "), "the count stays:\n{screen}");
        assert!(bar.ends_with("x_"), "the cursor stays:\n{screen}");
    }
}

#[test]
fn wordings_say_what_they_mean() {
    let mut c = console(false);
    press(&mut c, "s<Right><Enter>");
    settle(&mut c, 5_000);
    let row = line_of(&render(&c, 120, 40), "east-sip ").to_string();
    assert!(row.contains("s ago"), "LAST SW is an age: {row}");
    press(&mut c, "m<Right><Enter>");
    let status = c.state.status.as_ref().unwrap().text.clone();
    assert!(status.starts_with("maintenance on for east-sip"), "{status}");
    press(&mut c, "H");
    assert!(render(&c, 80, 24).contains("nothing to heal"));
    press(&mut c, "<Esc>");
    inject(&mut c, "partition");
    press(&mut c, "H<Down><Enter>");
    let status = c.state.status.as_ref().unwrap().text.clone();
    assert_eq!(status, "drill: healed the one fault");
    press(&mut c, "s");
    let screen = render(&c, 120, 40);
    let dialog: Vec<&str> = screen.lines().filter(|l| l.contains('│')).collect();
    assert!(dialog.iter().all(|l| !l.contains('→')), "one arrow style:\n{screen}");
    assert!(screen.contains("(primary -> backup)"), "{screen}");
}

#[test]
fn the_key_bar_at_80x24_ends_with_help_for_the_rest() {
    let mut c = console(false);
    for view in ["1", "2", "3", "4", "5"] {
        press(&mut c, view);
        let screen = render(&c, 80, 24);
        let bar = screen.lines().last().unwrap();
        assert!(!bar.contains('…'), "{bar}");
        assert!(bar.ends_with("? more keys") || bar.ends_with("? help"), "{bar}");
    }
}

#[test]
fn playing_a_scenario_asks_before_clearing_the_log() {
    let mut c = console(false);
    press(&mut c, "s<Right><Enter>");
    settle(&mut c, 5_000);
    let n = c.state.log.all.len();
    press(&mut c, "5p<Down><Enter>");
    let screen = render(&c, 120, 40);
    assert!(screen.contains("the 1 operator audit line (HC-1900)"), "{screen}");
    assert!(screen.contains(">[ Cancel ]<"), "{screen}");
    press(&mut c, "<Enter>");
    assert_eq!(c.state.log.all.len(), n, "Cancel keeps the log");
    assert!(c.state.drill.as_ref().unwrap().scenario.is_none());
}

#[test]
fn the_event_log_is_bounded() {
    let mut c = console(false);
    c.state.log.cap = 50;
    press(&mut c, "s<Right><Enter>");
    settle(&mut c, 60_000);
    inject(&mut c, "kill:west-sip-a");
    settle(&mut c, 20_000);
    let total = c.source.sim().events().len();
    assert!(total > 60);
    assert!(c.state.log.all.len() <= 55, "{}", c.state.log.all.len());
    assert_eq!(c.state.log.received, total);
    assert_eq!(c.state.log.dropped + c.state.log.all.len(), total);
    assert!(render(&c, 120, 40).contains("Pairs"));
    press(&mut c, "3");
    assert!(render(&c, 120, 40).contains("oldest dropped"));
    // Scrolling above the first row pages older events back in from the drill, within
    // the cap; every event once, in time order; `f` returns to the tail.
    let first = c.state.log.all[0].t_ms;
    for _ in 0..3 {
        press(&mut c, "g<Up>");
    }
    let log = &c.state.log;
    assert!(log.all[0].t_ms < first, "older events came in");
    assert!(log.all.len() <= 55, "{}", log.all.len());
    assert!(log.all.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
    let mut seen: Vec<(String, u64)> = log.all.iter().map(|e| (e.site.clone(), e.seq)).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), log.all.len(), "no event twice");
    assert!(!log.at_tail);
    press(&mut c, "f");
    settle(&mut c, 100);
    let log = &c.state.log;
    assert!(log.at_tail && log.follow);
    let drill = c.source.sim();
    let newest = (0..drill.events().len()).map(|i| drill.record(i).t_ms).max();
    assert_eq!(log.all.last().map(|e| e.t_ms), newest, "back at the tail");
    assert!(log.all.len() >= 50, "the page before the tail is in: {}", log.all.len());
}

#[test]
fn a_huge_paste_into_the_filter_neither_stalls_nor_grows() {
    let mut c = console(false);
    press(&mut c, "3/");
    let t = Instant::now();
    for _ in 0..40_000 {
        c.key(Key::Char('a'));
    }
    for _ in 0..100_000 {
        c.key(Key::Char('界'));
    }
    let took = t.elapsed();
    assert!(took.as_secs_f64() < 3.0, "took {took:?}");
    assert_eq!(c.state.log.filter.chars().count(), FILTER_MAX);
    let screen = render(&c, 80, 24);
    assert!(screen.contains("at most"), "{screen}");
    // Keys still work at once.
    press(&mut c, "<Esc>");
    assert!(c.state.log.filter.is_empty());
}

#[test]
fn a_manual_script_run_fills_its_placeholders() {
    let mut c = console(false);
    let script = c.state.scripts.iter().position(|s| s.id == "notify-oncall").unwrap();
    press(&mut c, "r");
    press(&mut c, &"<Down>".repeat(script));
    press(&mut c, "<Enter><Enter>");
    settle(&mut c, 5_000);
    let v = c.state.script_view.as_ref().expect("the run is shown");
    let command = &v.lines[0].1;
    assert!(
        !command.contains("{event}") && !command.contains("{subject}"),
        "{command}"
    );
    assert!(command.contains("--event HC-1900"), "{command}");
}

#[test]
fn describe_shows_the_anti_flap_counter_and_an_operator_resets_it() {
    let mut c = console(false);
    // Three automatic failovers (an operator's switchovers never count against anti-flap).
    for _ in 0..3 {
        let primary = c.state.snapshot.pairs[0].primary.app.clone();
        inject(&mut c, &format!("kill:{primary}"));
        settle(&mut c, 40_000);
    }
    assert!(c.state.snapshot.pairs[0].flapping, "three failovers make it flap");
    press(&mut c, "d");
    let screen = render(&c, 120, 40);
    assert!(screen.contains("FLAPPING: 3 switchovers"), "{screen}");
    assert!(screen.contains("at most 3 switchovers in 10m"), "{screen}");
    press(&mut c, "<Esc>R");
    assert!(render(&c, 80, 24).contains(">[ Cancel ]<"), "asks first");
    press(&mut c, "<Right><Enter>");
    settle(&mut c, 1_000);
    assert!(!c.state.snapshot.pairs[0].flapping);
    let audit = c
        .state
        .log
        .all
        .iter()
        .find(|e| e.id.code() == "HC-1900" && e.message.contains("reset the anti-flap counter of east-sip"))
        .expect("the reset is audited");
    assert!(audit.message.contains("alice from 192.0.2.7"), "{audit:?}");
    press(&mut c, "d");
    assert!(render(&c, 120, 40).contains("0 switchovers in the last 10m"));
    // Read-only: refused, and not advertised.
    let mut c = console(true);
    press(&mut c, "R");
    assert!(c.state.modal.is_none());
    press(&mut c, "d");
    assert!(!render(&c, 120, 40).contains("resets the counter"));
}

#[test]
fn a_pair_without_a_primary_asks_which_instance_to_promote() {
    let mut c = console(false);
    inject(&mut c, "stop:east-sip-a");
    inject(&mut c, "stop:east-sip-b");
    settle(&mut c, 15_000);
    assert_eq!(
        c.state.snapshot.pairs[0].redundancy,
        Some(hactl::engine::Redundancy::NoPrimary)
    );
    press(&mut c, "s");
    let screen = render(&c, 80, 24);
    assert!(screen.contains("east-sip has no primary: promote which?"), "{screen}");
    press(&mut c, "<Down><Enter>");
    let Some(Modal::Switchover(d)) = &c.state.modal else {
        panic!("no plan")
    };
    assert_eq!(d.to.as_deref(), Some("east-sip-b"));
    assert!(d.plan.is_some());
    assert!(render(&c, 120, 40).contains("promote east-sip-b"));
}
