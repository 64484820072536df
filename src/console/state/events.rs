//! The event log as the Events view sees it: every record received so far, the subset
//! that passes the filters (text, minimum severity, one correlation id), the selection,
//! and whether the view follows the tail. Filtering is incremental: new records are tested
//! once as they arrive; the whole log is scanned again only when a filter changes.
//! The log is bounded: past [`EventLog::cap`] records the oldest are dropped (and counted),
//! so a console left running for weeks does not grow without end; the filter text is
//! bounded too ([`FILTER_MAX`]), so a huge paste cannot stall the console.
//!
//! The log is a window onto every site's log: per site it holds every event between two
//! `seq`s. Scrolling above its first row asks the source for the page before it
//! ([`Ask::Older`]); to stay within the cap, the newest events then leave the window and
//! it no longer ends at the live tail: scrolling below its last row pages newer events
//! back in ([`Ask::Newer`]) until it reaches the tail again, and `f` jumps there at once.
//! Pages of several sites are cut at a common time, so the merged order holds.

use crate::console::source::{Ask, Page};
use crate::engine::{EventId, Severity};
use crate::wire::EventRecord;

/// How many events the console keeps by default (`HACTL_CONSOLE_EVENTS` changes it).
pub const DEFAULT_CAP: usize = 20_000;

/// The longest filter text, in characters.
pub const FILTER_MAX: usize = 200;

/// Adds `c` to a filter or prompt text unless it already holds [`FILTER_MAX`]
/// characters. Returns whether it was added.
pub fn push_bounded(text: &mut String, c: char) -> bool {
    if text.chars().count() >= FILTER_MAX {
        return false;
    }
    text.push(c);
    true
}

/// The severities, least first: the minimum-severity filter steps through them.
pub const SEVERITIES: [Severity; 4] = [Severity::Info, Severity::Warning, Severity::Alarm, Severity::Critical];

pub fn severity_rank(s: Severity) -> usize {
    SEVERITIES.iter().position(|x| *x == s).unwrap_or(0)
}

/// An event of the switchover family (HC-1100..HC-1105).
pub fn is_switchover_event(id: EventId) -> bool {
    matches!(
        id,
        EventId::SwitchoverRequested
            | EventId::SwitchoverPlanned
            | EventId::SwitchoverCompleted
            | EventId::SwitchoverFailed
            | EventId::SwitchoverRefused
            | EventId::PrimaryFenced
    )
}

/// An event of the VIP family (HC-1200..HC-1205).
pub fn is_vip_event(id: EventId) -> bool {
    matches!(
        id,
        EventId::VipEnabled
            | EventId::VipDisabled
            | EventId::VipControlFailed
            | EventId::VipStateUnknown
            | EventId::VipDuplicate
            | EventId::VipDuplicateResolved
    )
}

/// How many events a page asks for, per site.
pub const PAGE_EVENTS: usize = 500;

/// What the log holds of one site's events: every one with `lo <= seq < end` (none when
/// `lo == end`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct SiteSpan {
    site: String,
    lo: u64,
    end: u64,
    /// Just past the newest `seq` delivered live, kept or not.
    tail: u64,
    /// Nothing older than `lo` exists.
    first: bool,
}

#[derive(Clone, Debug, Default)]
pub struct EventLog {
    pub all: Vec<EventRecord>,
    /// Per record: the wall clock (ms since the Unix epoch) when it reached the console.
    pub wall: Vec<u64>,
    /// Per record: its id, message, source, subject and correlation in lower case, the
    /// text the `/` filter searches (built once per record).
    haystack: Vec<String>,
    /// The filter `shown` was computed with (a longer filter only narrows it).
    applied: (String, usize, Option<String>),
    /// Indices into `all` of the records that pass the filters.
    pub shown: Vec<usize>,
    pub filter: String,
    /// The `/` prompt is open.
    pub editing: bool,
    /// 0: everything; 1: warning and worse; 2: alarm and worse; 3: critical.
    pub min_severity: usize,
    pub correlation: Option<String>,
    pub follow: bool,
    /// Position in `shown`.
    pub sel: usize,
    /// Most records kept; older ones are dropped.
    pub cap: usize,
    /// Records received from the source so far (its position, dropped ones included).
    pub received: usize,
    /// Records dropped because of the cap.
    pub dropped: usize,
    spans: Vec<SiteSpan>,
    /// The window ends at the live tail: events that arrive are appended (otherwise they
    /// are counted in the tail and paged in when the window gets there).
    pub at_tail: bool,
    /// A page asked for and not back yet: `Some(true)` older, `Some(false)` newer.
    pub loading: Option<bool>,
}

impl EventLog {
    pub fn new() -> EventLog {
        EventLog {
            follow: true,
            cap: DEFAULT_CAP,
            at_tail: true,
            ..EventLog::default()
        }
    }

    /// Adds one character to the filter, unless it is full. Returns whether it was added.
    pub fn type_char(&mut self, c: char) -> bool {
        if !push_bounded(&mut self.filter, c) {
            return false;
        }
        self.refilter();
        true
    }

    fn haystack(e: &EventRecord) -> String {
        let mut h = String::with_capacity(e.message.len() + e.source.len() + e.subject.len() + 24);
        for part in [e.id.code(), &e.message, &e.source, &e.subject] {
            h.push_str(&part.to_lowercase());
            h.push('\u{1}');
        }
        if let Some(c) = &e.correlation {
            h.push_str(&c.to_lowercase());
        }
        h
    }

    fn passes(&self, i: usize, lower_filter: &str) -> bool {
        let e = &self.all[i];
        if severity_rank(e.severity) < self.min_severity {
            return false;
        }
        if let Some(c) = &self.correlation
            && e.correlation.as_ref() != Some(c)
        {
            return false;
        }
        lower_filter.is_empty() || self.haystack[i].contains(lower_filter)
    }

    fn span(&mut self, site: &str, seq: u64) -> &mut SiteSpan {
        let i = match self.spans.iter().position(|s| s.site == site) {
            Some(i) => i,
            None => {
                self.spans.push(SiteSpan {
                    site: site.to_string(),
                    lo: seq,
                    end: seq,
                    tail: seq,
                    first: seq <= 1,
                });
                self.spans.len() - 1
            }
        };
        &mut self.spans[i]
    }

    /// Appends records that arrived live at `wall_ms` (kept while the window ends at the
    /// tail; a record the window already holds is not kept twice).
    pub fn push(&mut self, records: Vec<EventRecord>, wall_ms: u64) {
        let f = self.filter.to_lowercase();
        self.received += records.len();
        let at_tail = self.at_tail;
        for r in records {
            let span = self.span(&r.site, r.seq);
            span.tail = span.tail.max(r.seq + 1);
            if !at_tail || r.seq < span.end {
                continue;
            }
            span.end = r.seq + 1;
            let ix = self.all.len();
            self.wall.push(wall_ms);
            self.haystack.push(Self::haystack(&r));
            self.all.push(r);
            if self.passes(ix, &f) {
                self.shown.push(ix);
            }
        }
        if self.follow {
            self.sel = self.shown.len().saturating_sub(1);
        }
        self.trim();
    }

    /// Drops the oldest records past the cap (a tenth more at once, so trimming is rare).
    fn trim(&mut self) {
        let cap = self.cap.max(1);
        if self.all.len() <= cap + cap / 10 {
            return;
        }
        let k = self.all.len() - cap;
        for e in &self.all[..k] {
            if let Some(s) = self.spans.iter_mut().find(|s| s.site == e.site) {
                s.lo = s.lo.max(e.seq + 1);
                s.first = false;
            }
        }
        self.all.drain(..k);
        self.wall.drain(..k);
        self.haystack.drain(..k);
        let gone = self.shown.partition_point(|i| *i < k);
        self.shown.drain(..gone);
        for i in &mut self.shown {
            *i -= k;
        }
        self.sel = self.sel.saturating_sub(gone).min(self.shown.len().saturating_sub(1));
        self.dropped += k;
    }

    /// Applies changed filters to the whole log, keeping the selected record if it passes.
    pub fn refilter(&mut self) {
        let keep = self.selected_index();
        let f = self.filter.to_lowercase();
        let now = (f.clone(), self.min_severity, self.correlation.clone());
        // Typing one more character only narrows what is shown: test just those.
        let narrowing = now.0.starts_with(&self.applied.0) && now.1 == self.applied.1 && now.2 == self.applied.2;
        self.shown = if narrowing {
            let shown = std::mem::take(&mut self.shown);
            shown.into_iter().filter(|i| self.passes(*i, &f)).collect()
        } else {
            (0..self.all.len()).filter(|i| self.passes(*i, &f)).collect()
        };
        self.applied = now;
        self.sel = match keep {
            Some(k) if !self.follow => self.shown.partition_point(|i| *i < k),
            _ => self.shown.len().saturating_sub(1),
        }
        .min(self.shown.len().saturating_sub(1));
    }

    pub fn selected_index(&self) -> Option<usize> {
        self.shown.get(self.sel).copied()
    }

    pub fn selected(&self) -> Option<&EventRecord> {
        self.selected_index().map(|i| &self.all[i])
    }

    /// Forgets every record (a new drill starts a new log).
    pub fn clear(&mut self) {
        self.all.clear();
        self.wall.clear();
        self.haystack.clear();
        self.shown.clear();
        self.sel = 0;
        self.received = 0;
        self.dropped = 0;
        self.spans.clear();
        self.at_tail = true;
        self.loading = None;
    }

    /// Moves the selection by `delta` rows. Moving pauses the tail, and it stays paused on
    /// the newest row too (so its full text stays shown); only `f` follows again. Moving
    /// up from the first row asks for the page before it, down from the last row (while
    /// the window is not at the tail) for the page after it.
    pub fn scroll(&mut self, delta: isize) -> Option<Ask> {
        let last = self.shown.len().saturating_sub(1);
        let was = self.sel;
        let next = (self.sel as isize + delta).clamp(0, last as isize) as usize;
        self.follow = false;
        self.sel = next;
        match delta {
            d if d < 0 && was == 0 => self.ask_older(),
            d if d > 0 && was >= last => self.ask_newer(),
            _ => None,
        }
    }

    /// Follows the tail (or pauses it). A window paged back into the past jumps to the
    /// tail: it starts again from the newest events and asks for the page before them.
    pub fn set_follow(&mut self, on: bool) -> Option<Ask> {
        self.follow = on;
        if on && !self.at_tail {
            self.all.clear();
            self.wall.clear();
            self.haystack.clear();
            self.shown.clear();
            for s in &mut self.spans {
                s.lo = s.tail;
                s.end = s.tail;
                s.first = s.tail <= 1;
            }
            self.at_tail = true;
            self.loading = None;
            self.sel = 0;
            return self.ask_older();
        }
        if on {
            self.sel = self.shown.len().saturating_sub(1);
        }
        None
    }

    /// Whether older events than the first one held may exist.
    pub fn older_exists(&self) -> bool {
        self.spans.iter().any(|s| !s.first)
    }

    /// The page before the window, unless one is on its way or none exists.
    pub fn ask_older(&mut self) -> Option<Ask> {
        if self.loading.is_some() || !self.older_exists() {
            return None;
        }
        self.loading = Some(true);
        Some(Ask::Older {
            before: self
                .spans
                .iter()
                .filter(|s| !s.first)
                .map(|s| (s.site.clone(), s.lo))
                .collect(),
            limit: PAGE_EVENTS,
        })
    }

    /// The page after the window, while it does not end at the tail.
    pub fn ask_newer(&mut self) -> Option<Ask> {
        if self.loading.is_some() || self.at_tail {
            return None;
        }
        self.loading = Some(false);
        Some(Ask::Newer {
            after: self
                .spans
                .iter()
                .filter(|s| s.end < s.tail)
                .map(|s| (s.site.clone(), s.end.saturating_sub(1)))
                .collect(),
            limit: PAGE_EVENTS,
        })
    }

    /// What to ask next after a page came in: while the selection sits on the last row of
    /// a window short of the tail, the next newer page.
    pub fn page_effect(&mut self) -> Option<Ask> {
        if !self.at_tail && self.sel + 1 >= self.shown.len() {
            self.ask_newer()
        } else {
            None
        }
    }

    /// Puts a page of older events before the window. Sites that returned a page and have
    /// more are cut at the latest of their oldest times, so no site's older events are
    /// missing between the first row and the rows held; past the cap, the newest events
    /// leave the window.
    pub fn insert_older(&mut self, page: Page, wall_ms: u64) {
        self.loading = None;
        let recs = self.fresh(page.events, true);
        let cut = self.cut(&recs, &page.ends, true);
        let (keep, gone): (Vec<_>, Vec<_>) = recs.into_iter().partition(|e| e.t_ms >= cut);
        for s in &mut self.spans {
            let cut_here = gone.iter().any(|e| e.site == s.site);
            if let Some(lo) = keep.iter().filter(|e| e.site == s.site).map(|e| e.seq).min() {
                s.lo = lo;
            }
            if page.ends.contains(&s.site) && !cut_here {
                s.first = true;
            }
        }
        self.merge_in(keep, wall_ms);
        // Within the cap: the newest events go, and the window leaves the tail.
        let cap = self.cap.max(1);
        if self.all.len() > cap + cap / 10 {
            for e in &self.all[cap..] {
                if let Some(s) = self.spans.iter_mut().find(|s| s.site == e.site) {
                    s.end = s.end.min(e.seq);
                }
            }
            self.all.truncate(cap);
            self.wall.truncate(cap);
            self.haystack.truncate(cap);
            self.shown.retain(|i| *i < cap);
            self.sel = self.sel.min(self.shown.len().saturating_sub(1));
            self.at_tail = false;
        }
    }

    /// Puts a page of newer events after the window (cut at the earliest of the newest
    /// times of the sites that have more), and notes when the window reached the tail.
    pub fn insert_newer(&mut self, page: Page, wall_ms: u64) {
        self.loading = None;
        let recs = self.fresh(page.events, false);
        let cut = self.cut(&recs, &page.ends, false);
        let keep: Vec<EventRecord> = recs.into_iter().filter(|e| e.t_ms <= cut).collect();
        for s in &mut self.spans {
            if let Some(hi) = keep.iter().filter(|e| e.site == s.site).map(|e| e.seq).max() {
                s.end = hi + 1;
            }
        }
        self.merge_in(keep, wall_ms);
        self.at_tail = self.spans.iter().all(|s| s.end >= s.tail);
        if self.at_tail && self.follow {
            self.sel = self.shown.len().saturating_sub(1);
        }
        self.trim();
    }

    /// The records of a page the window does not hold yet, of sites it knows.
    fn fresh(&self, events: Vec<EventRecord>, older: bool) -> Vec<EventRecord> {
        events
            .into_iter()
            .filter(|e| {
                self.spans
                    .iter()
                    .find(|s| s.site == e.site)
                    .is_some_and(|s| if older { e.seq < s.lo } else { e.seq >= s.end })
            })
            .collect()
    }

    /// The time a page is cut at: for older pages the latest oldest time, for newer ones
    /// the earliest newest time, of the sites that returned events and have more.
    fn cut(&self, recs: &[EventRecord], ends: &[String], older: bool) -> u64 {
        let mut cut: Option<u64> = None;
        for s in self.spans.iter().filter(|s| !ends.contains(&s.site)) {
            let times = recs.iter().filter(|e| e.site == s.site).map(|e| e.t_ms);
            let edge = if older { times.min() } else { times.max() };
            if let Some(t) = edge {
                cut = Some(match cut {
                    None => t,
                    Some(c) if older => c.max(t),
                    Some(c) => c.min(t),
                });
            }
        }
        cut.unwrap_or(if older { 0 } else { u64::MAX })
    }

    /// Merges records into the window in time order, keeping the selected record selected.
    fn merge_in(&mut self, mut recs: Vec<EventRecord>, wall_ms: u64) {
        if recs.is_empty() {
            return;
        }
        recs.sort_by_key(|e| e.t_ms);
        let keep = self.selected().map(|e| (e.site.clone(), e.seq));
        let old_all = std::mem::take(&mut self.all);
        let old_wall = std::mem::take(&mut self.wall);
        let old_hay = std::mem::take(&mut self.haystack);
        let n = old_all.len() + recs.len();
        self.all.reserve(n);
        self.wall.reserve(n);
        self.haystack.reserve(n);
        let mut new = recs.into_iter().peekable();
        for ((e, w), h) in old_all.into_iter().zip(old_wall).zip(old_hay) {
            while let Some(r) = new.next_if(|r| r.t_ms <= e.t_ms) {
                self.haystack.push(Self::haystack(&r));
                self.wall.push(wall_ms);
                self.all.push(r);
            }
            self.all.push(e);
            self.wall.push(w);
            self.haystack.push(h);
        }
        for r in new {
            self.haystack.push(Self::haystack(&r));
            self.wall.push(wall_ms);
            self.all.push(r);
        }
        let f = self.filter.to_lowercase();
        self.shown = (0..self.all.len()).filter(|i| self.passes(*i, &f)).collect();
        self.sel = match keep {
            Some((site, seq)) if !self.follow => self
                .shown
                .iter()
                .position(|i| self.all[*i].site == site && self.all[*i].seq == seq)
                .unwrap_or(0),
            _ => self.shown.len().saturating_sub(1),
        };
    }

    /// The next (or previous) shown record that starts a different incident: its
    /// correlation id differs from the selected one's.
    pub fn jump_incident(&mut self, forward: bool) -> bool {
        let cur = self.selected().and_then(|e| e.correlation.clone());
        let differs = |i: usize| {
            let c = &self.all[self.shown[i]].correlation;
            c.is_some() && *c != cur
        };
        let found = if forward {
            (self.sel + 1..self.shown.len()).find(|i| differs(*i))
        } else {
            // Back to the first record of the previous incident.
            let prev = (0..self.sel).rev().find(|i| differs(*i));
            prev.map(|p| {
                let c = self.all[self.shown[p]].correlation.clone();
                (0..=p)
                    .rev()
                    .take_while(|i| {
                        self.all[self.shown[*i]].correlation == c || self.all[self.shown[*i]].correlation.is_none()
                    })
                    .filter(|i| self.all[self.shown[*i]].correlation == c)
                    .last()
                    .unwrap_or(p)
            })
        };
        match found {
            Some(i) => {
                self.sel = i;
                self.follow = false;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64, severity: Severity, corr: Option<&str>, msg: &str) -> EventRecord {
        EventRecord {
            site: "east".into(),
            seq,
            t_ms: seq * 1000,
            id: EventId::SwitchoverRequested,
            severity,
            source: "pair:east-sip".into(),
            subject: "pair:east-sip".into(),
            correlation: corr.map(String::from),
            message: msg.into(),
            attrs: Default::default(),
        }
    }

    fn log() -> EventLog {
        let mut l = EventLog::new();
        l.push(
            vec![
                rec(0, Severity::Info, None, "boot"),
                rec(1, Severity::Alarm, Some("east-1"), "crash"),
                rec(2, Severity::Info, Some("east-1"), "switch"),
                rec(3, Severity::Warning, Some("east-2"), "maintenance"),
                rec(4, Severity::Info, Some("east-2"), "done"),
            ],
            0,
        );
        l
    }

    #[test]
    fn follows_the_tail_until_scrolled_back() {
        let mut l = log();
        assert_eq!(l.sel, 4);
        l.scroll(-2);
        assert!(!l.follow);
        l.push(vec![rec(5, Severity::Info, None, "new")], 0);
        assert_eq!(l.sel, 2);
        l.scroll(10);
        assert_eq!(l.sel, 5);
        assert!(!l.follow, "the newest row stays selected, paused");
        l.set_follow(true);
        assert!(l.follow);
    }

    #[test]
    fn the_log_is_bounded_and_keeps_the_selection() {
        let mut l = EventLog::new();
        l.cap = 100;
        l.push((0..100).map(|i| rec(i, Severity::Info, None, "x")).collect(), 0);
        l.scroll(-10);
        let selected = l.selected().unwrap().seq;
        l.push((100..120).map(|i| rec(i, Severity::Info, None, "x")).collect(), 0);
        assert_eq!(l.all.len(), 100);
        assert_eq!(l.dropped, 20);
        assert_eq!(l.received, 120);
        assert_eq!(l.all[0].seq, 20);
        assert_eq!(l.selected().unwrap().seq, selected);
        assert!(l.shown.iter().all(|i| *i < l.all.len()));
        assert_eq!(l.wall.len(), l.all.len());
    }

    fn at(site: &str, seq: u64, t_ms: u64) -> EventRecord {
        EventRecord {
            site: site.into(),
            t_ms,
            ..rec(seq, Severity::Info, None, "x")
        }
    }

    /// Two sites' logs: east every second, west every 3 s, `n` seconds of them.
    fn two_sites(from_s: u64, to_s: u64) -> Vec<EventRecord> {
        let mut v = Vec::new();
        for s in from_s..to_s {
            v.push(at("east", s + 1, s * 1000));
            if s % 3 == 0 {
                v.push(at("west", s / 3 + 1, s * 1000 + 1));
            }
        }
        v
    }

    fn keys(l: &EventLog) -> Vec<(String, u64)> {
        l.all.iter().map(|e| (e.site.clone(), e.seq)).collect()
    }

    fn assert_ordered_once(l: &EventLog) {
        assert!(l.all.windows(2).all(|w| w[0].t_ms <= w[1].t_ms), "time order");
        let mut k = keys(l);
        k.sort();
        k.dedup();
        assert_eq!(k.len(), l.all.len(), "no event twice");
    }

    /// A page as a source answers it, from the whole log `full`.
    fn answer(full: &[EventRecord], ask: Ask) -> (bool, Page) {
        let mut page = Page::default();
        let (older, cursors, limit) = match ask {
            Ask::Older { before, limit } => (true, before, limit),
            Ask::Newer { after, limit } => (false, after, limit),
            other => panic!("not a page: {other:?}"),
        };
        for (site, seq) in cursors {
            let mine: Vec<&EventRecord> = full.iter().filter(|e| e.site == site).collect();
            let sel: Vec<EventRecord> = if older {
                let v: Vec<_> = mine.iter().filter(|e| e.seq < seq).cloned().cloned().collect();
                v[v.len().saturating_sub(limit)..].to_vec()
            } else {
                mine.iter()
                    .filter(|e| e.seq > seq)
                    .take(limit)
                    .cloned()
                    .cloned()
                    .collect()
            };
            let end = if older {
                sel.first().is_none_or(|e| e.seq == 1)
            } else {
                sel.last().is_none_or(|e| e.seq == mine.last().unwrap().seq)
            };
            if end {
                page.ends.push(site);
            }
            page.events.extend(sel);
        }
        (older, page)
    }

    #[test]
    fn scrolling_back_pages_older_events_in_and_back_out_within_the_cap() {
        let full = two_sites(0, 3000);
        let mut l = EventLog::new();
        l.cap = 1000;
        l.push(full.clone(), 0);
        assert!(l.all.len() <= 1100 && l.at_tail && l.older_exists());
        // To the first row, then once more: the page before it is asked for.
        assert!(l.scroll(-100_000).is_none());
        let ask = l.scroll(-1).expect("older page asked");
        assert!(l.scroll(-1).is_none(), "one page at a time");
        let first_before = l.all[0].clone();
        let (_, page) = answer(&full, ask);
        l.insert_older(page, 0);
        assert_ordered_once(&l);
        assert!(l.all[0].t_ms < first_before.t_ms, "older events came in");
        assert!(l.all.len() <= 1100, "bounded: {}", l.all.len());
        assert!(!l.at_tail, "the newest went to make room");
        assert_eq!(
            l.selected().map(|e| (e.site.clone(), e.seq)),
            Some((first_before.site, first_before.seq))
        );
        // Live events meanwhile are not kept, but the tail moves.
        let more = two_sites(3000, 3010);
        l.push(more.clone(), 0);
        assert!(l.all.iter().all(|e| e.t_ms < 3_000_000));
        // Back down, page by page, to the tail: every event once, in order.
        let full: Vec<EventRecord> = full.into_iter().chain(more).collect();
        let mut pages = 0;
        let mut ask = l.scroll(100_000).or_else(|| l.scroll(1));
        while let Some(a) = ask {
            let (_, page) = answer(&full, a);
            l.insert_newer(page, 0);
            assert_ordered_once(&l);
            pages += 1;
            assert!(pages < 50, "reaches the tail");
            ask = l.page_effect().or_else(|| l.scroll(100_000)).or_else(|| l.scroll(1));
        }
        assert!(l.at_tail);
        assert_eq!(l.all.last().map(|e| e.t_ms), Some(3_009_001));
        assert!(l.all.len() <= 1100);
        // `f` from far back jumps to the tail and pages in what is before it.
        while let Some(a) = l.scroll(-100_000).or_else(|| l.scroll(-1)) {
            let (_, page) = answer(&full, a);
            l.insert_older(page, 0);
        }
        assert!(!l.at_tail && l.all[0].seq <= 2);
        let ask = l.set_follow(true).expect("the last page is asked for");
        let (_, page) = answer(&full, ask);
        l.insert_older(page, 0);
        assert!(l.at_tail && l.follow);
        assert_eq!(l.all.last().map(|e| e.t_ms), Some(3_009_001));
        assert_ordered_once(&l);
        l.push(vec![at("east", 3011, 3_010_000)], 0);
        assert_eq!(l.all.last().map(|e| e.seq), Some(3011), "live again");
    }

    #[test]
    fn an_older_page_is_cut_where_a_site_with_more_ends() {
        let mut l = EventLog::new();
        l.push(vec![at("east", 10, 10_000), at("west", 5, 10_001)], 0);
        // east goes back to 7 s, west (with more still) only to 9 s: east's 7 and 8 wait.
        let page = Page {
            events: vec![
                at("east", 7, 7_000),
                at("east", 8, 8_000),
                at("east", 9, 9_500),
                at("west", 4, 9_000),
            ],
            ends: vec![],
            failed: vec![],
        };
        l.insert_older(page, 0);
        assert_eq!(
            keys(&l),
            vec![
                ("west".into(), 4),
                ("east".into(), 9),
                ("east".into(), 10),
                ("west".into(), 5)
            ]
        );
        match l.ask_older() {
            Some(Ask::Older { before, .. }) => {
                assert_eq!(before, vec![("east".to_string(), 9), ("west".to_string(), 4)])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_filter_is_bounded() {
        let mut l = log();
        for _ in 0..10 * FILTER_MAX {
            l.type_char('界');
        }
        assert_eq!(l.filter.chars().count(), FILTER_MAX);
    }

    #[test]
    fn filters_by_text_and_severity() {
        let mut l = log();
        l.filter = "MAINT".into();
        l.refilter();
        assert_eq!(l.shown, vec![3]);
        l.filter.clear();
        l.min_severity = 1;
        l.refilter();
        assert_eq!(l.shown, vec![1, 3]);
    }

    #[test]
    fn jumps_between_incidents() {
        let mut l = log();
        l.sel = 0;
        assert!(l.jump_incident(true));
        assert_eq!(l.sel, 1);
        assert!(l.jump_incident(true));
        assert_eq!(l.sel, 3);
        assert!(!l.jump_incident(true));
        assert!(l.jump_incident(false));
        assert_eq!(l.sel, 1);
    }
}
