//! Snapshots of every view and dialog at 80x24 and 120x40, rendered from the drill (text
//! only; styles are covered by the theme tests). Review changes with `cargo insta review`.

use hactl::console::source::DrillControls;
use hactl::console::source::DrillOp;

use super::support::{console, press, render, settle};

fn check(name: &str, keys: &str, prepare: impl Fn(&mut hactl::console::Console<hactl::console::DrillSource>)) {
    let mut c = console(false);
    prepare(&mut c);
    press(&mut c, keys);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&c, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

fn none(_: &mut hactl::console::Console<hactl::console::DrillSource>) {}

/// A deployment with something to see: a switchover done, a crash, a NIC down.
fn eventful(c: &mut hactl::console::Console<hactl::console::DrillSource>) {
    press(c, "s<Right><Enter>");
    settle(c, 20_000);
    for f in ["kill:west-sip-a", "nic-down:east-vm1/sip"] {
        c.source.drill_op(DrillOp::Inject(f.into())).unwrap();
    }
    settle(c, 8_000);
}

#[test]
fn pairs() {
    check("pairs", "", none);
    check("pairs_eventful", "", eventful);
}

#[test]
fn hosts() {
    check("hosts", "2", eventful);
}

#[test]
fn events() {
    check("events", "3", eventful);
    check("events_filtered", "3/vip<Enter>", eventful);
}

#[test]
fn sites() {
    check("sites", "4", none);
}

#[test]
fn drill() {
    check("drill", "5", eventful);
}

#[test]
fn detail() {
    check("detail", "<Enter>", eventful);
}

#[test]
fn pairs_filtered() {
    check("pairs_filtered", "/west<Enter>", eventful);
}

#[test]
fn host_detail() {
    check("host_detail", "2:east-vm1<Enter><Enter>", eventful);
    check("host_detail_lost", "2:east-vm1<Enter><Enter>", |c| {
        c.source.drill_op(DrillOp::Inject("host-down:east-vm1".into())).unwrap();
        settle(c, 20_000);
    });
}

#[test]
fn switchover_dialog() {
    check("switchover", "s", none);
    check("switchover_group", "<Down>s", none);
}

#[test]
fn dialogs() {
    check("maintenance", "m", none);
    check("script_pick", "r", none);
    check("script_host", "r<Enter>", none);
    check("fault_menu", "i", none);
    check("fault_targets", "i<Enter>", none);
    check("heal", "H", eventful);
    check("scenario_pick", "5p", none);
    check("help", "?", none);
    check("quit", "s<Right><Enter>q", none);
}

#[test]
fn script_output() {
    let mut c = console(false);
    press(&mut c, "r<Enter><Enter>");
    settle(&mut c, 60_000);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("script_output_{w}x{h}"), render(&c, w, h));
    }
}

#[test]
fn report() {
    let mut c = console(false);
    press(&mut c, "5p<Down><Enter><Right><Enter>");
    settle(&mut c, 400_000);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("report_{w}x{h}"), render(&c, w, h));
    }
}
