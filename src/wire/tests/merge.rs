//! Merging per-controller snapshots (a down site stays visible, unknown) and event
//! streams (time order, each event's site kept, nothing twice).

use super::topo;
use crate::drill::{Drill, Fault};
use crate::engine::{AppStatus, EventId, Severity, Time, VipObs};
use crate::wire::{AgentState, EventMerge, EventRecord, NicState, Part, Snapshot, site_snapshot, skeleton};

#[test]
fn a_down_sites_part_stays_visible_and_unknown() {
    let t = topo();
    let mut d = Drill::new(t.clone(), 1);
    d.run_until(Time(60_000));
    let east = t.site_ix("east").unwrap();
    let west = t.site_ix("west").unwrap();
    let e = site_snapshot(&t, d.engine(east).unwrap(), d.now());
    let w = site_snapshot(&t, d.engine(west).unwrap(), d.now());
    // Each part holds its own site only.
    assert!(e.pairs.iter().all(|p| p.site == "east") && !e.pairs.is_empty());
    assert!(e.hosts.iter().all(|h| h.site == "east") && e.sites.len() == 1);
    assert!(w.groups.iter().all(|g| g.site == "west") && !w.groups.is_empty());
    assert!(w.pairs.iter().all(|p| p.redundancy.is_some()));

    let both = Snapshot::merge([Part::Live(e.clone()), Part::Live(w.clone())]);
    assert_eq!(both.pairs.len(), t.pairs.len());
    assert_eq!(both.hosts.len(), t.hosts.len());

    // West's controller cannot be reached: its last known part stays, with nothing known.
    let later = Snapshot {
        t_ms: e.t_ms + 5_000,
        ..e.clone()
    };
    let merged = Snapshot::merge([Part::Live(later), Part::Unreachable(w.clone())]);
    assert_eq!(merged.t_ms, e.t_ms + 5_000);
    assert_eq!(merged.sites.len(), 2);
    let ws = merged.sites.iter().find(|s| s.id == "west").unwrap();
    assert!(!ws.controller_up && ws.link.is_none());
    let west_pairs: Vec<_> = merged.pairs.iter().filter(|p| p.site == "west").collect();
    assert_eq!(west_pairs.len(), w.pairs.len());
    for p in west_pairs {
        assert_eq!(p.redundancy, None, "{} never OK when nobody can say", p.id);
        assert_eq!(p.primary.status, AppStatus::Unknown);
        assert!(p.switchover.is_none() && !p.maintenance);
        if let Some(v) = &p.vip {
            assert!(v.holders.is_empty() && v.desired.is_none());
            assert!(v.hosts.iter().all(|h| h.state == VipObs::Unknown));
        }
    }
    for h in merged.hosts.iter().filter(|h| h.site == "west") {
        assert_eq!(h.agent, AgentState::Unknown);
        assert!(h.nics.iter().all(|n| n.state == NicState::Unknown));
        assert!(h.apps.iter().all(|a| a.status == AppStatus::Unknown));
    }
    assert!(
        merged
            .groups
            .iter()
            .filter(|g| g.site == "west")
            .all(|g| g.redundancy.is_none())
    );
    // East is as its controller said.
    let east_pairs: Vec<_> = merged.pairs.iter().filter(|p| p.site == "east").cloned().collect();
    assert_eq!(east_pairs, e.pairs);
    // Nothing known twice over is still nothing known.
    let sk = skeleton(&t, west, d.now());
    assert_eq!(sk.clone().unknown(), sk);
    assert!(sk.pairs.iter().all(|p| p.redundancy.is_none()));
}

#[test]
fn the_drill_shows_a_failed_site_as_unknown() {
    let t = topo();
    let mut d = Drill::new(t.clone(), 2);
    d.run_until(Time(30_000));
    d.inject(Fault::parse(&t, "site-down:west").unwrap()).unwrap();
    d.run_until(Time(40_000));
    let snap = d.snapshot();
    assert!(snap.sites.iter().any(|s| s.id == "west" && !s.controller_up));
    for p in snap.pairs.iter().filter(|p| p.site == "west") {
        assert_eq!(p.redundancy, None);
    }
    assert!(
        snap.pairs
            .iter()
            .filter(|p| p.site == "east")
            .all(|p| p.redundancy.is_some())
    );
    // Endpoint counts come from the endpoints, not the controller: still there.
    assert!(snap.endpoints.iter().any(|e| e.site == "west"));
    let west = t.site_ix("west").unwrap();
    let req = crate::wire::Request::new(crate::wire::Command::ResetAntiFlap {
        pair: "west-sip".into(),
    });
    let e = d.operator(&req).unwrap_err();
    assert_eq!((e.status(), e.code()), (503, "unavailable"));
    assert!(matches!(d.site_part(west), Part::Unreachable(_)));
}

fn rec(site: &str, seq: u64, t_ms: u64) -> EventRecord {
    EventRecord {
        site: site.into(),
        seq,
        t_ms,
        id: EventId::AgentLost,
        severity: Severity::Alarm,
        source: "controller:x".into(),
        subject: "host:x".into(),
        correlation: None,
        message: format!("{site} {seq}"),
        attrs: Default::default(),
    }
}

fn keys(out: &[EventRecord]) -> Vec<(String, u64)> {
    out.iter().map(|r| (r.site.clone(), r.seq)).collect()
}

fn k(site: &str, seq: u64) -> (String, u64) {
    (site.to_string(), seq)
}

#[test]
fn events_merge_by_time_keeping_their_site() {
    let mut m = EventMerge::new(["east", "west"]);
    let mut out = Vec::new();
    for r in [rec("east", 1, 10), rec("east", 2, 30), rec("east", 3, 50)] {
        assert!(m.push(r));
    }
    // West has said nothing yet: nothing after its time 0 can go.
    assert_eq!(m.release(&mut out), 0);
    for r in [rec("west", 1, 20), rec("west", 2, 30)] {
        m.push(r);
    }
    m.release(&mut out);
    // Up to 30 both have delivered everything; ties in the sites' order.
    assert_eq!(keys(&out), [k("east", 1), k("west", 1), k("east", 2), k("west", 2)]);
    m.advance("west", 60);
    m.release(&mut out);
    assert_eq!(out.last().map(|r| (r.site.as_str(), r.seq)), Some(("east", 3)));
    assert!(out.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
    assert_eq!(m.pending(), 0);
    assert_eq!(
        (m.cursor("east"), m.cursor("west"), m.cursor("north")),
        (Some(3), Some(2), None)
    );
}

#[test]
fn a_resumed_stream_delivers_nothing_twice() {
    let mut m = EventMerge::new(["east"]);
    let mut out = Vec::new();
    for s in 1..=3 {
        m.push(rec("east", s, s * 10));
    }
    m.release(&mut out);
    // Resuming from an older cursor sends 2 and 3 again, then 4.
    assert!(!m.push(rec("east", 2, 20)));
    assert!(!m.push(rec("east", 3, 30)));
    assert!(m.push(rec("east", 4, 40)));
    m.release(&mut out);
    assert_eq!(keys(&out), [k("east", 1), k("east", 2), k("east", 3), k("east", 4)]);
}

#[test]
fn an_unreachable_controller_holds_nothing_back() {
    let mut m = EventMerge::new(["east", "west"]);
    let mut out = Vec::new();
    m.push(rec("east", 1, 100));
    assert_eq!(m.release(&mut out), 0);
    m.set_live("west", false);
    assert_eq!(m.release(&mut out), 1);
    // West comes back with older events: released as they arrive, their site kept.
    m.set_live("west", true);
    m.push(rec("west", 1, 50));
    m.advance("west", 200);
    m.push(rec("east", 2, 150));
    m.release(&mut out);
    assert_eq!(keys(&out), [k("east", 1), k("west", 1), k("east", 2)]);
    // A site not named at first gets a stream of its own.
    m.push(rec("north", 1, 210));
    m.advance("east", 300);
    m.advance("west", 300);
    m.release(&mut out);
    assert_eq!(out.last().unwrap().site, "north");
}

#[test]
fn the_drills_streams_merge_into_its_log() {
    let t = topo();
    let mut d = Drill::new(t.clone(), 5);
    d.inject(Fault::parse(&t, "kill:east-sip-a").unwrap()).unwrap();
    d.run_until(Time(90_000));
    let all: Vec<EventRecord> = (0..d.events().len()).map(|i| d.record(i)).collect();
    // Each site numbers its own log from 1, without gaps.
    for s in &t.sites {
        let seqs: Vec<u64> = all.iter().filter(|r| r.site == s.id).map(|r| r.seq).collect();
        assert!(!seqs.is_empty());
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "site {}", s.id);
    }
    // Fed in two halves, each stream in its order, with a resend.
    let mut m = EventMerge::new(t.sites.iter().map(|s| s.id.clone()));
    let mut out = Vec::new();
    let half = all.len() / 2;
    for r in &all[..half] {
        m.push(r.clone());
    }
    for r in &all[half / 2..] {
        m.push(r.clone());
    }
    for s in &t.sites {
        m.advance(&s.id, d.now().ms());
    }
    m.release(&mut out);
    assert_eq!(out.len(), all.len(), "every event once");
    assert!(out.windows(2).all(|w| w[0].t_ms <= w[1].t_ms), "time order");
    let mut sorted = all.clone();
    sorted.sort_by_key(|r| r.t_ms);
    let mut a = keys(&out);
    let mut b = keys(&sorted);
    a.sort();
    b.sort();
    assert_eq!(a, b);
}
