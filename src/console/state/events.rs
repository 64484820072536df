//! The event log as the Events view sees it: every record received so far, the subset
//! that passes the filters (text, minimum severity, one correlation id), the selection,
//! and whether the view follows the tail. Filtering is incremental: new records are tested
//! once as they arrive; the whole log is scanned again only when a filter changes.
//! The log is bounded: past [`EventLog::cap`] records the oldest are dropped (and counted),
//! so a console left running for weeks does not grow without end; the filter text is
//! bounded too ([`FILTER_MAX`]), so a huge paste cannot stall the console.

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
}

impl EventLog {
    pub fn new() -> EventLog {
        EventLog {
            follow: true,
            cap: DEFAULT_CAP,
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

    /// Appends records that reached the console at `wall_ms`.
    pub fn push(&mut self, records: Vec<EventRecord>, wall_ms: u64) {
        let f = self.filter.to_lowercase();
        self.received += records.len();
        for r in records {
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
    }

    /// Moves the selection by `delta` rows. Moving pauses the tail, and it stays paused on
    /// the newest row too (so its full text stays shown); only `f` follows again.
    pub fn scroll(&mut self, delta: isize) {
        let last = self.shown.len().saturating_sub(1);
        let next = (self.sel as isize + delta).clamp(0, last as isize) as usize;
        self.follow = false;
        self.sel = next;
    }

    pub fn set_follow(&mut self, on: bool) {
        self.follow = on;
        if on {
            self.sel = self.shown.len().saturating_sub(1);
        }
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

/// `2024-05-01T12:00:00.000Z`: a wall-clock time in ms since the Unix epoch, in UTC.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn formats_wall_clock_times() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::rfc3339(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
