//! Logged events as operators, scripts and consoles read them, and the merge of several
//! controllers' streams into one. Each controller numbers its own log (`seq`, the cursor
//! of `events?after=`); a record carries the site that logged it, so merged streams keep
//! where each event came from.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::engine::{Event, EventId, Severity, SiteIx, Topology};

/// One logged event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The site whose controller logged it.
    pub site: String,
    /// Its position in that controller's log: stable, increasing, from 1 (the cursor of
    /// `events?after=`; `0` is before the first).
    pub seq: u64,
    pub t_ms: u64,
    pub id: EventId,
    pub severity: Severity,
    pub source: String,
    pub subject: String,
    pub correlation: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// Renders an engine event that the controller of `site` logged as number `seq`.
pub fn event_record(topo: &Topology, site: SiteIx, seq: u64, e: &Event) -> EventRecord {
    EventRecord {
        site: topo.site(site).id.clone(),
        seq,
        t_ms: e.t.ms(),
        id: e.id,
        severity: e.severity(),
        source: topo.entity_label(&e.source),
        subject: topo.entity_label(&e.subject),
        correlation: e.correlation.map(|c| topo.correlation_label(c)),
        message: e.message.clone(),
        attrs: e.attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    }
}

/// One controller's stream, as far as it has come.
#[derive(Clone, Debug)]
struct Stream {
    site: String,
    /// Received, not released yet, in the stream's order.
    pending: VecDeque<EventRecord>,
    /// The `seq` of the last record received: where to resume.
    cursor: Option<u64>,
    /// The stream has delivered everything logged up to this time.
    through_ms: u64,
    /// A live stream holds back the others' later events until it has caught up.
    live: bool,
}

/// Several controllers' event streams merged into one log in time order, each record
/// keeping its site. A record is released once every live stream has delivered
/// everything up to its time (an event of one site can then no longer be preceded by one
/// still to come from another), ties in the order the sites were given. Records at or
/// before a stream's cursor (a resumed stream sending again what it already sent) are
/// dropped. A stream marked not live (its controller unreachable) holds nothing back; what
/// it sends after it comes back is released as it arrives, even if older than records
/// already released.
#[derive(Clone, Debug, Default)]
pub struct EventMerge {
    streams: Vec<Stream>,
}

impl EventMerge {
    /// A merge of the streams of `sites`, in this order; each starts live, at time 0.
    pub fn new<S: Into<String>>(sites: impl IntoIterator<Item = S>) -> EventMerge {
        EventMerge {
            streams: sites
                .into_iter()
                .map(|s| Stream {
                    site: s.into(),
                    pending: VecDeque::new(),
                    cursor: None,
                    through_ms: 0,
                    live: true,
                })
                .collect(),
        }
    }

    fn stream(&mut self, site: &str) -> &mut Stream {
        let i = match self.streams.iter().position(|s| s.site == site) {
            Some(i) => i,
            None => {
                self.streams.push(Stream {
                    site: site.to_string(),
                    pending: VecDeque::new(),
                    cursor: None,
                    through_ms: 0,
                    live: true,
                });
                self.streams.len() - 1
            }
        };
        &mut self.streams[i]
    }

    /// Where to resume `site`'s stream: the `seq` of the last record received from it.
    pub fn cursor(&self, site: &str) -> Option<u64> {
        self.streams.iter().find(|s| s.site == site).and_then(|s| s.cursor)
    }

    /// Takes one record of its site's stream (a site not given yet gets a stream). Returns
    /// false, dropping it, when the stream already delivered it.
    pub fn push(&mut self, rec: EventRecord) -> bool {
        let s = self.stream(&rec.site);
        if s.cursor.is_some_and(|c| rec.seq <= c) {
            return false;
        }
        s.cursor = Some(rec.seq);
        s.through_ms = s.through_ms.max(rec.t_ms);
        s.pending.push_back(rec);
        true
    }

    /// `site`'s controller has delivered everything it logged up to `t_ms` (the time of
    /// its snapshot, or a keep-alive of its stream).
    pub fn advance(&mut self, site: &str, t_ms: u64) {
        let s = self.stream(site);
        s.through_ms = s.through_ms.max(t_ms);
    }

    /// Whether `site`'s stream holds the others back: false while its controller cannot
    /// be reached, so the other sites' events keep flowing.
    pub fn set_live(&mut self, site: &str, live: bool) {
        self.stream(site).live = live;
    }

    /// Records received and not released yet.
    pub fn pending(&self) -> usize {
        self.streams.iter().map(|s| s.pending.len()).sum()
    }

    /// Appends to `out`, in time order, every record no live stream can precede any more.
    /// Returns how many.
    pub fn release(&mut self, out: &mut Vec<EventRecord>) -> usize {
        let bound = self
            .streams
            .iter()
            .filter(|s| s.live)
            .map(|s| s.through_ms)
            .min()
            .unwrap_or(u64::MAX);
        let mut n = 0;
        loop {
            let next = self
                .streams
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.pending.front().map(|r| (r.t_ms, i)))
                .filter(|(t, _)| *t <= bound)
                .min();
            let Some((_, i)) = next else { break };
            out.extend(self.streams[i].pending.pop_front());
            n += 1;
        }
        n
    }
}
