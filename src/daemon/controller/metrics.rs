//! Prometheus metrics (`GET /metrics`, text exposition format 0.0.4): pairs by redundancy,
//! switchovers, agent connections and heartbeat age, events by id, journal commit latency
//! and API latency by route. Updated by the engine loop and the API as things happen;
//! rendered on request.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use crate::daemon::journal::Journal;
use crate::engine::{Engine, HostIx, Time};
use crate::wire::{EventRecord, Snapshot};

#[derive(Default)]
struct Inner {
    pairs_by_redundancy: BTreeMap<String, u64>,
    switchovers: u64,
    events_by_id: BTreeMap<String, u64>,
    agents: HashMap<HostIx, (bool, Option<Instant>)>,
    host_names: HashMap<HostIx, String>,
    commit_sum: f64,
    commit_count: u64,
    commit_max: f64,
    api: BTreeMap<(String, u16), (u64, f64)>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn journal(&self, j: &Journal) {
        if let Ok(mut m) = self.inner.lock() {
            m.commit_sum = j.commit_seconds_sum;
            m.commit_count = j.commit_count;
            m.commit_max = j.commit_seconds_max;
        }
    }

    pub fn events(&self, events: &[EventRecord]) {
        if let Ok(mut m) = self.inner.lock() {
            for e in events {
                *m.events_by_id.entry(e.id.code().to_string()).or_default() += 1;
                if e.id == crate::engine::EventId::SwitchoverCompleted {
                    m.switchovers += 1;
                }
            }
        }
    }

    pub fn snapshot(&self, snap: &Snapshot, engine: &Engine, _now: Time) {
        if let Ok(mut m) = self.inner.lock() {
            m.pairs_by_redundancy.clear();
            for p in &snap.pairs {
                *m.pairs_by_redundancy
                    .entry(crate::wire::redundancy_label(p.redundancy).to_string())
                    .or_default() += 1;
            }
            let topo = engine.topology();
            for h in topo.host_ixs().filter(|h| engine.owns_host(*h)) {
                m.host_names.entry(h).or_insert_with(|| topo.host(h).id.clone());
                m.agents.entry(h).or_insert((false, None));
            }
        }
    }

    pub fn agent_connected(&self, host: HostIx, up: bool) {
        if let Ok(mut m) = self.inner.lock() {
            m.agents.entry(host).or_insert((false, None)).0 = up;
        }
    }

    pub fn heartbeat(&self, host: HostIx) {
        if let Ok(mut m) = self.inner.lock() {
            m.agents.entry(host).or_insert((true, None)).1 = Some(Instant::now());
        }
    }

    pub fn api(&self, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.inner.lock() {
            let e = m.api.entry((route.to_string(), status)).or_default();
            e.0 += 1;
            e.1 += seconds;
        }
    }

    /// The exposition text.
    pub fn render(&self, site: &str) -> String {
        let Ok(m) = self.inner.lock() else {
            return String::new();
        };
        let mut o = String::new();
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let _ = writeln!(o, "# HELP hactl_pairs Pairs of this site by redundancy.");
        let _ = writeln!(o, "# TYPE hactl_pairs gauge");
        for (r, n) in &m.pairs_by_redundancy {
            let _ = writeln!(o, "hactl_pairs{{site=\"{}\",redundancy=\"{}\"}} {n}", esc(site), esc(r));
        }
        let _ = writeln!(o, "# HELP hactl_switchovers_total Switchovers completed (HC-1102).");
        let _ = writeln!(o, "# TYPE hactl_switchovers_total counter");
        let _ = writeln!(o, "hactl_switchovers_total{{site=\"{}\"}} {}", esc(site), m.switchovers);
        let _ = writeln!(o, "# HELP hactl_events_total Events journaled, by id.");
        let _ = writeln!(o, "# TYPE hactl_events_total counter");
        for (id, n) in &m.events_by_id {
            let _ = writeln!(o, "hactl_events_total{{site=\"{}\",id=\"{}\"}} {n}", esc(site), esc(id));
        }
        let _ = writeln!(o, "# HELP hactl_agent_connected Whether a host's agent link is up.");
        let _ = writeln!(o, "# TYPE hactl_agent_connected gauge");
        let mut hosts: Vec<_> = m.agents.iter().collect();
        hosts.sort_by_key(|(h, _)| **h);
        for (h, (up, _)) in &hosts {
            let name = m.host_names.get(h).cloned().unwrap_or_default();
            let _ = writeln!(o, "hactl_agent_connected{{host=\"{}\"}} {}", esc(&name), u8::from(*up));
        }
        let _ = writeln!(
            o,
            "# HELP hactl_agent_heartbeat_age_seconds Time since a host's last heartbeat."
        );
        let _ = writeln!(o, "# TYPE hactl_agent_heartbeat_age_seconds gauge");
        for (h, (_, last)) in &hosts {
            if let Some(t) = last {
                let name = m.host_names.get(h).cloned().unwrap_or_default();
                let _ = writeln!(
                    o,
                    "hactl_agent_heartbeat_age_seconds{{host=\"{}\"}} {:.3}",
                    esc(&name),
                    t.elapsed().as_secs_f64()
                );
            }
        }
        let _ = writeln!(o, "# HELP hactl_journal_commit_seconds Journal commit latency.");
        let _ = writeln!(o, "# TYPE hactl_journal_commit_seconds summary");
        let _ = writeln!(o, "hactl_journal_commit_seconds_sum {:.6}", m.commit_sum);
        let _ = writeln!(o, "hactl_journal_commit_seconds_count {}", m.commit_count);
        let _ = writeln!(o, "# HELP hactl_journal_commit_seconds_max Slowest journal commit.");
        let _ = writeln!(o, "# TYPE hactl_journal_commit_seconds_max gauge");
        let _ = writeln!(o, "hactl_journal_commit_seconds_max {:.6}", m.commit_max);
        let _ = writeln!(o, "# HELP hactl_api_request_seconds API latency by route and status.");
        let _ = writeln!(o, "# TYPE hactl_api_request_seconds summary");
        for ((route, status), (n, sum)) in &m.api {
            let _ = writeln!(
                o,
                "hactl_api_request_seconds_sum{{route=\"{}\",status=\"{status}\"}} {sum:.6}",
                esc(route)
            );
            let _ = writeln!(
                o,
                "hactl_api_request_seconds_count{{route=\"{}\",status=\"{status}\"}} {n}",
                esc(route)
            );
        }
        o
    }
}
