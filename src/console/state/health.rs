//! Health as the console judges it: every fact about a pair, a host, a site, its link and
//! the endpoint populations that is not known to be healthy, with its severity. The pair
//! rows, the group rows, a pair's detail, the tab line and the summary line all read these
//! facts, so a duplicate VIP or a partition shows the same severity wherever it appears.
//! The rule: what is not known to be healthy is never shown as healthy (`[?]` at least).
//! A site whose controller cannot be reached is `[?]` with the age of what is shown of it
//! (`STALE 42s, was OK`), never `OK`.

use std::collections::{HashMap, HashSet};

use crate::engine::{AppStatus, Mode, Redundancy, VipObs};
use crate::wire::{AgentState, GroupView, NicState, PairView, PeerLinkState, SiteMode, Snapshot};

/// How bad a fact is, in escalating order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sev {
    Ok,
    /// Not known: starting, unreachable, controller down.
    Unknown,
    Warning,
    Alarm,
    Critical,
}

impl Sev {
    /// The mark shown before the text, so severity reads without colour.
    pub fn mark(self) -> &'static str {
        match self {
            Sev::Ok => "OK",
            Sev::Unknown => "[?]",
            Sev::Warning => "[~]",
            Sev::Alarm => "[!]",
            Sev::Critical => "[!!]",
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            Sev::Ok => "ok",
            Sev::Unknown => "unknown",
            Sev::Warning => "warning",
            Sev::Alarm => "alarm",
            Sev::Critical => "critical",
        }
    }
}

/// One thing that is not healthy, about one subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub sev: Sev,
    /// What it is about: a pair, `host east-sip1`, `site east`, ...
    pub subject: String,
    pub text: String,
}

fn fact(sev: Sev, subject: &str, text: impl Into<String>) -> Fact {
    Fact {
        sev,
        subject: subject.to_string(),
        text: text.into(),
    }
}

/// What the console knows of how fresh the state is: pairs still starting, sites whose
/// controller cannot be reached, controllers never reached.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Freshness {
    /// Pairs whose controller started and has not decided on them yet.
    pub starting: HashSet<String>,
    /// Sites whose controller cannot be reached, with the age of what is known of them.
    pub stale: HashMap<String, u64>,
    /// The redundancy last known of those sites' pairs (and groups).
    pub was: HashMap<String, Option<Redundancy>>,
    /// Controllers never reached (no site known): their label and state.
    pub unreached: Vec<(String, String)>,
}

impl Freshness {
    /// What is known of one pair.
    pub fn of(&self, p: &PairView) -> Known {
        Known {
            starting: self.starting.contains(&p.id),
            stale: self.stale.get(&p.site).map(|age| Stale {
                age_ms: *age,
                was: self.was.get(&p.id).copied().flatten(),
            }),
        }
    }
}

/// What the console knows of a pair besides its view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Its controller has not decided on the pair yet since it started.
    pub starting: bool,
    /// Its controller cannot be reached.
    pub stale: Option<Stale>,
}

/// The state of a pair whose controller cannot be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stale {
    /// How old what is known is.
    pub age_ms: u64,
    /// Its redundancy then, if known.
    pub was: Option<Redundancy>,
}

impl Stale {
    /// `STALE 42s, was OK`.
    pub fn text(self) -> String {
        let mut t = stale_text(self.age_ms);
        if let Some(r) = self.was {
            t.push_str(&format!(", was {}", r.label()));
        }
        t
    }
}

/// `STALE 42s`: the age of what is shown of a site whose controller cannot be reached.
pub fn stale_text(age_ms: u64) -> String {
    format!("STALE {}s", age_ms / 1000)
}

/// The facts about one pair, worst first.
pub fn pair_facts(p: &PairView, known: Known) -> Vec<Fact> {
    let mut out = Vec::new();
    let id = p.id.as_str();
    if let Some(st) = known.stale {
        out.push(fact(Sev::Unknown, id, st.text()));
        return out;
    }
    let starting = known.starting;
    let red = p.redundancy;
    if starting && is_undecided(red) {
        out.push(fact(Sev::Unknown, id, "STARTING"));
    } else {
        match red {
            Some(Redundancy::Ok) => {}
            Some(Redundancy::Maintenance) => out.push(fact(Sev::Warning, id, "MAINTENANCE")),
            None => out.push(fact(Sev::Unknown, id, "UNKNOWN")),
            Some(r @ (Redundancy::NoPrimary | Redundancy::SplitBrain)) => out.push(fact(Sev::Critical, id, r.label())),
            Some(r @ (Redundancy::Degraded | Redundancy::BackupNotReady | Redundancy::NoBackup)) => {
                out.push(fact(Sev::Alarm, id, r.label()))
            }
        }
    }
    let known = red.is_some() && !starting;
    if let Some(v) = &p.vip
        && known
    {
        let unknown: Vec<&str> = v
            .hosts
            .iter()
            .filter(|h| h.state == VipObs::Unknown)
            .map(|h| h.host.as_str())
            .collect();
        match v.holders.as_slice() {
            _ if v.duplicate || v.holders.len() > 1 => {
                out.push(fact(Sev::Critical, id, format!("VIP DUP {}", v.holders.join(","))))
            }
            [] if v.hosts.is_empty() || !unknown.is_empty() => out.push(fact(Sev::Unknown, id, "VIP unknown")),
            [] => out.push(fact(Sev::Alarm, id, "VIP unbound")),
            [h] if v.desired.as_ref().is_some_and(|d| d != h) => {
                out.push(fact(Sev::Alarm, id, format!("VIP on wrong host {h}")))
            }
            [_] if !unknown.is_empty() => out.push(fact(
                Sev::Unknown,
                id,
                format!("VIP state unknown on {}", unknown.join(",")),
            )),
            _ => {}
        }
    }
    if known {
        for (inst, role) in [(&p.primary, "primary"), (&p.backup, "backup")] {
            if inst.status == AppStatus::Unknown {
                out.push(fact(Sev::Unknown, id, format!("{role} {} unreachable", inst.app)));
            }
        }
    }
    if p.flapping {
        out.push(fact(Sev::Warning, id, "FLAPPING"));
    }
    if let Some(step) = &p.switchover {
        out.push(fact(Sev::Warning, id, format!("SWITCHING ({})", step.as_str())));
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.sev));
    out
}

/// A redundancy a controller that just started reports before it has decided on the pair.
pub fn is_undecided(r: Option<Redundancy>) -> bool {
    matches!(
        r,
        Some(Redundancy::NoPrimary | Redundancy::NoBackup | Redundancy::Degraded)
    )
}

/// The worst severity of some facts (`Ok` when there are none).
pub fn worst(facts: &[Fact]) -> Sev {
    facts.iter().map(|f| f.sev).max().unwrap_or(Sev::Ok)
}

/// `[!!] VIP DUP a,b, NO BACKUP`: the worst mark, then every fact's text; `OK` if none.
pub fn label(facts: &[Fact]) -> String {
    if facts.is_empty() {
        return "OK".into();
    }
    let texts: Vec<&str> = facts.iter().map(|f| f.text.as_str()).collect();
    format!("{} {}", worst(facts).mark(), texts.join(", "))
}

/// The facts of a group row: its own redundancy, then the worst member, named.
pub fn group_facts(g: &GroupView, snap: &Snapshot, fresh: &Freshness) -> Vec<Fact> {
    let mut out = Vec::new();
    if let Some(age) = fresh.stale.get(&g.site) {
        let st = Stale {
            age_ms: *age,
            was: fresh.was.get(&g.id).copied().flatten(),
        };
        out.push(fact(Sev::Unknown, &g.id, st.text()));
        return out;
    }
    let lead_starting = fresh.starting.contains(&g.leader);
    match g.redundancy {
        Some(Redundancy::Ok) => {}
        _ if lead_starting => out.push(fact(Sev::Unknown, &g.id, "STARTING")),
        None => out.push(fact(Sev::Unknown, &g.id, "UNKNOWN")),
        Some(Redundancy::Maintenance) => out.push(fact(Sev::Warning, &g.id, "MAINTENANCE")),
        Some(r @ (Redundancy::NoPrimary | Redundancy::SplitBrain)) => out.push(fact(Sev::Critical, &g.id, r.label())),
        Some(r @ (Redundancy::Degraded | Redundancy::BackupNotReady | Redundancy::NoBackup)) => {
            out.push(fact(Sev::Alarm, &g.id, r.label()))
        }
    }
    let own = worst(&out);
    let members = snap.pairs.iter().filter(|p| g.members.contains(&p.id));
    if let Some((p, facts)) = members
        .map(|p| (p, pair_facts(p, fresh.of(p))))
        .filter(|(_, f)| !f.is_empty())
        .max_by_key(|(_, f)| worst(f))
        && worst(&facts) > own
    {
        out.insert(
            0,
            fact(worst(&facts), &g.id, format!("member {}: {}", p.id, facts[0].text)),
        );
    }
    out
}

/// Whether the primary host a group row names is known: the leader's primary is up and
/// its agent answers.
pub fn group_primary_known(g: &GroupView, snap: &Snapshot) -> bool {
    snap.pairs
        .iter()
        .find(|p| p.id == g.leader)
        .is_some_and(|p| p.primary.status == AppStatus::Up && p.primary.mode == Mode::Primary)
        && g.redundancy.is_some()
}

/// Every fact of the deployment, worst first: controllers never reached, pairs, hosts,
/// sites, links, endpoints.
pub fn deployment_facts(snap: &Snapshot, fresh: &Freshness) -> Vec<Fact> {
    let mut out = Vec::new();
    for (label, state) in &fresh.unreached {
        out.push(fact(
            Sev::Unknown,
            &format!("controller {label}"),
            format!("never reached, {state}"),
        ));
    }
    for p in &snap.pairs {
        let facts = pair_facts(p, fresh.of(p));
        if !facts.is_empty() {
            out.push(fact(worst(&facts), &p.id, label_text(&facts)));
        }
    }
    for h in &snap.hosts {
        let subject = format!("host {}", h.id);
        if fresh.stale.contains_key(&h.site) {
            out.push(fact(Sev::Unknown, &subject, "agent unknown (controller unreachable)"));
            continue;
        }
        match h.agent {
            AgentState::Connected => {}
            AgentState::Lost => {
                out.push(fact(Sev::Alarm, &subject, "agent LOST"));
                continue;
            }
            AgentState::Unknown => {
                out.push(fact(Sev::Unknown, &subject, "agent unknown"));
                continue;
            }
        }
        for n in &h.nics {
            match n.state {
                NicState::Up => {}
                NicState::Down => out.push(fact(Sev::Alarm, &subject, format!("NIC {} DOWN", n.name))),
                NicState::Unknown => out.push(fact(Sev::Unknown, &subject, format!("NIC {} unknown", n.name))),
            }
        }
    }
    for s in &snap.sites {
        let subject = format!("site {}", s.id);
        if let Some(age) = fresh.stale.get(&s.id) {
            let text = format!("controller unreachable, {}", stale_text(*age));
            out.push(fact(Sev::Unknown, &subject, text));
            continue;
        }
        if !s.controller_up {
            out.push(fact(Sev::Critical, &subject, "controller DOWN"));
            continue;
        }
        if s.peer.is_some() && s.mode != SiteMode::Peered {
            out.push(fact(Sev::Alarm, &subject, "SINGLE-SITE"));
        }
        match (&s.peer, &s.link) {
            (Some(peer), Some(l)) => {
                let subject = format!("link {}→{peer}", s.id);
                match l.state {
                    PeerLinkState::InService => {}
                    PeerLinkState::Unreachable => out.push(fact(Sev::Warning, &subject, l.state.label())),
                    PeerLinkState::OutOfService => out.push(fact(Sev::Alarm, &subject, l.state.label())),
                }
            }
            (Some(peer), None) => out.push(fact(Sev::Unknown, &format!("link {}→{peer}", s.id), "unknown")),
            _ => {}
        }
    }
    for e in &snap.endpoints {
        if e.unregistered > 0 {
            out.push(fact(
                Sev::Warning,
                &format!("endpoints {}", e.population),
                format!("{} unregistered", e.unregistered),
            ));
        }
        for (srv, n) in &e.registered {
            if *n > 0 && server_state(snap, srv) != Sev::Ok {
                out.push(fact(
                    server_state(snap, srv).max(Sev::Unknown),
                    &format!("endpoints {}", e.population),
                    format!("{n} registered to {srv}, which is not known up"),
                ));
            }
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.sev));
    out
}

fn label_text(facts: &[Fact]) -> String {
    facts.iter().map(|f| f.text.as_str()).collect::<Vec<_>>().join(", ")
}

/// Whether a server (a pair) that endpoints register to is known to serve: its primary is
/// up and known primary. `Alarm` when it is known down, `Unknown` when not known.
pub fn server_state(snap: &Snapshot, pair: &str) -> Sev {
    match snap.pairs.iter().find(|p| p.id == pair) {
        None => Sev::Unknown,
        Some(p) => match (p.primary.status, p.primary.mode) {
            (AppStatus::Up, Mode::Primary) => Sev::Ok,
            (AppStatus::Unknown, _) => Sev::Unknown,
            _ if p.redundancy.is_none() => Sev::Unknown,
            _ => Sev::Alarm,
        },
    }
}

/// The one-line summary: counts per severity and the facts, worst first.
pub fn summary(facts: &[Fact]) -> (Sev, String) {
    let w = worst(facts);
    if facts.is_empty() {
        return (Sev::Ok, String::new());
    }
    let mut counts = Vec::new();
    for s in [Sev::Critical, Sev::Alarm, Sev::Warning, Sev::Unknown] {
        let n = facts.iter().filter(|f| f.sev == s).count();
        if n > 0 {
            counts.push(format!("{n} {}", s.word()));
        }
    }
    let list: Vec<String> = facts.iter().map(|f| format!("{} {}", f.subject, f.text)).collect();
    (w, format!("{} {}: {}", w.mark(), counts.join(", "), list.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{InstanceView, VipHostView, VipView};

    fn up(app: &str, host: &str, mode: Mode) -> InstanceView {
        InstanceView {
            app: app.into(),
            host: host.into(),
            status: AppStatus::Up,
            mode,
        }
    }

    fn vip_host(host: &str, state: VipObs) -> VipHostView {
        VipHostView {
            host: host.into(),
            state,
        }
    }

    fn pair(red: Option<Redundancy>, holders: &[&str]) -> PairView {
        PairView {
            id: "p".into(),
            primary: up("a", "h1", Mode::Primary),
            backup: up("b", "h2", Mode::Backup),
            redundancy: red,
            vip: Some(VipView {
                desired: Some("h1".into()),
                hosts: vec![vip_host("h1", VipObs::Bound), vip_host("h2", VipObs::Unbound)],
                holders: holders.iter().map(|h| h.to_string()).collect(),
                duplicate: holders.len() > 1,
                ..VipView::default()
            }),
            ..PairView::default()
        }
    }

    #[test]
    fn a_duplicate_vip_escalates_past_no_backup() {
        let f = pair_facts(&pair(Some(Redundancy::NoBackup), &["h1", "h2"]), Known::default());
        assert_eq!(worst(&f), Sev::Critical);
        assert!(label(&f).starts_with("[!!] VIP DUP h1,h2"), "{}", label(&f));
        assert_eq!(
            worst(&pair_facts(
                &pair(Some(Redundancy::NoBackup), &["h1"]),
                Known::default()
            )),
            Sev::Alarm
        );
        assert_eq!(
            worst(&pair_facts(&pair(Some(Redundancy::Ok), &["h1"]), Known::default())),
            Sev::Ok
        );
    }

    #[test]
    fn severities_have_distinct_marks() {
        let marks: HashSet<&str> = [Sev::Ok, Sev::Unknown, Sev::Warning, Sev::Alarm, Sev::Critical]
            .iter()
            .map(|s| s.mark())
            .collect();
        assert_eq!(marks.len(), 5);
    }

    #[test]
    fn an_unknown_vip_host_is_not_healthy() {
        let mut p = pair(Some(Redundancy::Ok), &["h1"]);
        p.vip.as_mut().unwrap().hosts[1].state = VipObs::Unknown;
        assert_eq!(worst(&pair_facts(&p, Known::default())), Sev::Unknown);
        let mut p = pair(None, &[]);
        p.vip.as_mut().unwrap().hosts.clear();
        assert_eq!(worst(&pair_facts(&p, Known::default())), Sev::Unknown);
    }

    #[test]
    fn a_stale_pair_is_unknown_with_its_age_and_what_it_was() {
        let stale = Known {
            starting: false,
            stale: Some(Stale {
                age_ms: 42_500,
                was: Some(Redundancy::Ok),
            }),
        };
        let f = pair_facts(&pair(Some(Redundancy::Ok), &["h1"]), stale);
        assert_eq!(label(&f), "[?] STALE 42s, was OK");
        let mut fresh = Freshness::default();
        fresh.stale.insert("east".into(), 3_000);
        let mut snap = Snapshot::default();
        snap.sites.push(crate::wire::SiteView {
            id: "east".into(),
            controller_up: false,
            ..Default::default()
        });
        let facts = deployment_facts(&snap, &fresh);
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].sev, Sev::Unknown);
        assert_eq!(facts[0].text, "controller unreachable, STALE 3s");
    }

    #[test]
    fn starting_is_unknown_not_no_primary() {
        let starting = Known {
            starting: true,
            stale: None,
        };
        let f = pair_facts(&pair(Some(Redundancy::NoPrimary), &[]), starting);
        assert_eq!(label(&f), "[?] STARTING");
    }
}
