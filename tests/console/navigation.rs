//! Operator navigation in Pairs and Hosts: the `/` filter, the `o` order, the `:` jump,
//! and the host detail (Enter), against the drill.

use hactl::console::source::DrillControls;
use hactl::console::source::DrillOp;
use hactl::console::state::{FILTER_MAX, HOSTS, Order, Prompt};

use super::support::{console, line_of, press, render, settle};

/// The pair or group names of the Pairs rows, in order.
fn pair_rows(c: &hactl::console::Console<hactl::console::DrillSource>) -> Vec<String> {
    use hactl::console::state::PairRow;
    let s = &c.state.snapshot;
    c.state
        .rows
        .iter()
        .map(|r| match r {
            PairRow::Group(g) => s.groups[*g].id.clone(),
            PairRow::Pair(p, _) => s.pairs[*p].id.clone(),
        })
        .collect()
}

fn host_rows(c: &hactl::console::Console<hactl::console::DrillSource>) -> Vec<String> {
    c.state
        .host_rows
        .iter()
        .map(|i| c.state.snapshot.hosts[*i].id.clone())
        .collect()
}

#[test]
fn pairs_filter_narrows_and_esc_restores() {
    let mut c = console(false);
    let all = pair_rows(&c);
    press(&mut c, "/WEST");
    assert_eq!(c.state.prompt, Some(Prompt::Filter));
    let rows = pair_rows(&c);
    assert!(rows.iter().all(|r| r.starts_with("west")), "{rows:?}");
    assert_eq!(
        rows.len(),
        6,
        "west-sip and the west-voicemail group with its 4 members"
    );
    let screen = render(&c, 80, 24);
    assert!(screen.contains("5 of 10 pairs"), "{screen}");
    assert!(screen.contains("· filter /WEST_"), "{screen}");
    assert!(!screen.contains("east-sip "), "{screen}");
    // The summary line still counts every pair.
    assert!(screen.contains("all OK: 10 pairs redundant"), "{screen}");
    // Enter keeps the filter, Esc then clears it.
    press(&mut c, "<Enter>");
    assert_eq!(c.state.prompt, None);
    assert_eq!(pair_rows(&c).len(), 6);
    press(&mut c, "<Esc>");
    assert_eq!(pair_rows(&c), all);
    assert!(!render(&c, 80, 24).contains("of 10 pairs"));
    // Esc in the prompt clears at once; so does erasing every character.
    press(&mut c, "/sip<Esc>");
    assert_eq!(pair_rows(&c), all);
    press(&mut c, "/xy<BS><BS>");
    assert_eq!(pair_rows(&c), all);
    press(&mut c, "<Esc>");
    // By instance and by redundancy word.
    press(&mut c, "/east-rm-b<Enter>");
    assert_eq!(pair_rows(&c), ["east-voicemail", "east-rm"]);
    press(&mut c, "<Esc>/ok<Enter>");
    assert_eq!(pair_rows(&c).len(), all.len(), "every pair is OK");
}

#[test]
fn a_filter_never_hides_an_unhealthy_pair_silently() {
    let mut c = console(false);
    c.source.drill_op(DrillOp::Inject("kill:west-sip-a".into())).unwrap();
    settle(&mut c, 8_000);
    press(&mut c, "/east<Enter>");
    let screen = render(&c, 120, 40);
    assert!(screen.contains("5 of 10 pairs, 1 not OK hidden"), "{screen}");
    // The summary line keeps naming the hidden pair.
    assert!(screen.lines().nth(3).unwrap().contains("west-sip"), "{screen}");
    // The redundancy word finds it.
    press(&mut c, "<Esc>/no backup<Enter>");
    assert_eq!(pair_rows(&c), ["west-sip"]);
}

#[test]
fn the_filter_is_bounded_like_the_events_filter() {
    let mut c = console(false);
    press(&mut c, "2/");
    press(&mut c, &"x".repeat(FILTER_MAX + 5));
    assert_eq!(c.state.host_list.filter.chars().count(), FILTER_MAX);
    let status = c.state.status.as_ref().unwrap().text.clone();
    assert!(status.contains("at most 200 characters"), "{status}");
    let screen = render(&c, 80, 24);
    assert!(screen.contains("0 of 8 hosts"), "{screen}");
    assert!(screen.contains("no host matches"), "{screen}");
    press(&mut c, "<Esc>");
    assert_eq!(host_rows(&c).len(), 8);
}

#[test]
fn hosts_filter_by_site_and_agent_state() {
    let mut c = console(false);
    press(&mut c, "2/west<Enter>");
    let rows = host_rows(&c);
    assert_eq!(rows, ["west-sip1", "west-sip2", "west-vm1", "west-vm2"]);
    assert!(render(&c, 80, 24).contains("4 of 8 hosts"));
    press(&mut c, "<Esc>");
    c.source.drill_op(DrillOp::Inject("host-down:east-vm2".into())).unwrap();
    settle(&mut c, 20_000);
    press(&mut c, "/lost<Enter>");
    assert_eq!(host_rows(&c), ["east-vm2"]);
    press(&mut c, "<Esc>/west<Enter>");
    let screen = render(&c, 80, 24);
    assert!(screen.contains("4 of 8 hosts, 1 not OK hidden"), "{screen}");
}

#[test]
fn sort_cycles_the_order_and_shows_it() {
    let mut c = console(false);
    let config = pair_rows(&c);
    press(&mut c, "o");
    assert_eq!(c.state.pair_list.order, Order::Name);
    let rows = pair_rows(&c);
    let mut sorted = rows.clone();
    sorted.sort();
    assert_eq!(rows, sorted);
    assert_eq!(rows.len(), 10, "sorted, the pairs stand alone, without group rows");
    let screen = render(&c, 80, 24);
    assert!(screen.contains("order: name ▼"), "{screen}");
    assert!(line_of(&screen, "PAIR ▼").contains("REDUNDANCY"), "{screen}");
    // Severity, worst first: the crashed pair comes to the top.
    c.source.drill_op(DrillOp::Inject("kill:west-vms-b".into())).unwrap();
    settle(&mut c, 8_000);
    press(&mut c, "o");
    assert_eq!(c.state.pair_list.order, Order::Severity);
    assert_eq!(pair_rows(&c)[0], "west-vms");
    assert!(render(&c, 80, 24).contains("order: severity, worst first ▼"));
    press(&mut c, "o");
    assert_eq!(c.state.pair_list.order, Order::Site);
    let sites: Vec<String> = pair_rows(&c)
        .iter()
        .map(|id| {
            c.state
                .snapshot
                .pairs
                .iter()
                .find(|p| &p.id == id)
                .unwrap()
                .site
                .clone()
        })
        .collect();
    assert!(sites.windows(2).all(|w| w[0] <= w[1]), "{sites:?}");
    press(&mut c, "o");
    assert_eq!(c.state.pair_list.order, Order::LastSwitchover);
    assert!(render(&c, 120, 40).contains("LAST SW ▼"));
    press(&mut c, "o");
    assert_eq!(c.state.pair_list.order, Order::Config);
    assert_eq!(pair_rows(&c), config);
    // The cursor stays on the same pair when the order changes.
    press(&mut c, ":west-r<Enter>");
    press(&mut c, "o");
    assert_eq!(c.state.selected_target().as_deref(), Some("west-rm"));
    // Hosts: severity puts the host with a NIC down first.
    c.source
        .drill_op(DrillOp::Inject("nic-down:west-vm2/sip".into()))
        .unwrap();
    settle(&mut c, 5_000);
    press(&mut c, "2oo");
    assert_eq!(c.state.host_list.order, Order::Severity);
    assert_eq!(host_rows(&c)[0], "west-vm2");
    assert!(render(&c, 80, 24).contains("order: severity"));
    press(&mut c, "oo");
    assert_eq!(c.state.host_list.order, Order::Config, "hosts have no switchover order");
}

#[test]
fn jump_moves_the_cursor_and_keeps_the_list() {
    let mut c = console(false);
    let all = pair_rows(&c);
    press(&mut c, ":west-r");
    assert_eq!(c.state.selected_target().as_deref(), Some("west-rm"));
    assert!(render(&c, 80, 24).contains("jump :west-r_"));
    assert_eq!(pair_rows(&c), all, "the list is not narrowed");
    press(&mut c, "<Enter>");
    assert_eq!(c.state.prompt, None);
    assert_eq!(c.state.selected_target().as_deref(), Some("west-rm"));
    // Esc puts the cursor back where it was.
    press(&mut c, ":EAST-V<Esc>");
    assert_eq!(c.state.selected_target().as_deref(), Some("west-rm"));
    // No match: the cursor stays and the status says so.
    press(&mut c, ":zz<Enter>");
    assert_eq!(c.state.selected_target().as_deref(), Some("west-rm"));
    assert!(c.state.status.as_ref().unwrap().text.contains("no name starts with"));
    // In Hosts.
    press(&mut c, "2:east-vm2<Enter>");
    assert_eq!(c.state.selected_host().unwrap().id, "east-vm2");
}

#[test]
fn enter_on_a_host_opens_its_detail() {
    let mut c = console(false);
    press(&mut c, "2:east-vm1<Enter><Enter>");
    assert_eq!(c.state.host_detail.as_deref(), Some("east-vm1"));
    let screen = render(&c, 120, 40);
    assert!(screen.contains("[detail east-vm1]"), "{screen}");
    assert!(
        line_of(&screen, "Host east-vm1").contains("agent connected, last heard"),
        "{screen}"
    );
    assert!(line_of(&screen, "NICs").contains("sip up"), "{screen}");
    let app = line_of(&screen, "east-vms-a");
    assert!(
        app.contains("east-vms") && app.contains("PRIMARY") && app.contains("up"),
        "{screen}"
    );
    assert!(line_of(&screen, "VIPs").contains("(1)"), "{screen}");
    assert!(screen.contains("pair east-vmsip: bound here"), "{screen}");
    assert!(screen.contains("Recent events"), "{screen}");
    // `r` runs a script on this host.
    press(&mut c, "r<Enter>");
    let screen = render(&c, 120, 40);
    assert!(screen.contains("east-vm1"), "{screen}");
    press(&mut c, "<Esc><Esc>");
    press(&mut c, "<Esc>");
    assert_eq!(c.state.host_detail, None);
    assert_eq!(c.state.view, HOSTS);
    assert_eq!(c.state.selected_host().unwrap().id, "east-vm1");
}

#[test]
fn a_lost_host_shows_its_agent_lost_and_only_last_known_state() {
    let mut c = console(false);
    c.source.drill_op(DrillOp::Inject("host-down:east-vm1".into())).unwrap();
    settle(&mut c, 20_000);
    press(&mut c, "2:east-vm1<Enter><Enter>");
    let screen = render(&c, 120, 40);
    assert!(
        line_of(&screen, "Host east-vm1").contains("[!] agent LOST, last heard"),
        "{screen}"
    );
    let nics = line_of(&screen, "NICs");
    assert!(nics.contains("last known") && !nics.contains("sip up "), "{screen}");
    assert!(screen.contains("Applications (4), last known"), "{screen}");
    let app = line_of(&screen, "east-vms-a");
    assert!(
        !app.contains("PRIMARY") && app.contains("?"),
        "a lost mode is not current: {screen}"
    );
    assert!(screen.contains("[?] unknown (agent lost)"), "{screen}");
    assert!(!screen.contains("bound here"), "{screen}");
    // The events about the host are there.
    assert!(
        c.state
            .log
            .all
            .iter()
            .any(|e| e.subject == "host:east-vm1" || e.source == "host:east-vm1")
    );
}
