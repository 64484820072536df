//! The event log as the Events view sees it: every record received so far, the subset
//! that passes the filters (text, minimum severity, one correlation id), the selection,
//! and whether the view follows the tail. Filtering is incremental: new records are tested
//! once as they arrive; the whole log is scanned again only when a filter changes.

use crate::wire::EventRecord;

pub const SEVERITIES: [&str; 4] = ["info", "warning", "alarm", "critical"];

pub fn severity_rank(s: &str) -> usize {
    SEVERITIES.iter().position(|x| *x == s).unwrap_or(0)
}

#[derive(Clone, Debug, Default)]
pub struct EventLog {
    pub all: Vec<EventRecord>,
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
}

impl EventLog {
    pub fn new() -> EventLog {
        EventLog {
            follow: true,
            ..EventLog::default()
        }
    }

    fn haystack(e: &EventRecord) -> String {
        let mut h = String::with_capacity(e.message.len() + e.source.len() + e.subject.len() + 24);
        for part in [&e.id, &e.message, &e.source, &e.subject] {
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
        if severity_rank(&e.severity) < self.min_severity {
            return false;
        }
        if let Some(c) = &self.correlation
            && e.correlation.as_ref() != Some(c)
        {
            return false;
        }
        lower_filter.is_empty() || self.haystack[i].contains(lower_filter)
    }

    pub fn push(&mut self, records: Vec<EventRecord>) {
        let f = self.filter.to_lowercase();
        for r in records {
            let ix = self.all.len();
            self.haystack.push(Self::haystack(&r));
            self.all.push(r);
            if self.passes(ix, &f) {
                self.shown.push(ix);
            }
        }
        if self.follow {
            self.sel = self.shown.len().saturating_sub(1);
        }
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

    pub fn clear(&mut self) {
        self.all.clear();
        self.haystack.clear();
        self.shown.clear();
        self.sel = 0;
    }

    /// Moves the selection by `delta` rows; moving stops following the tail, reaching
    /// the last row with a downward move follows it again.
    pub fn scroll(&mut self, delta: isize) {
        let last = self.shown.len().saturating_sub(1);
        let next = (self.sel as isize + delta).clamp(0, last as isize) as usize;
        self.follow = delta > 0 && next == last;
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

    fn rec(seq: u64, sev: &str, corr: Option<&str>, msg: &str) -> EventRecord {
        EventRecord {
            seq,
            t_ms: seq * 1000,
            id: "HC-1100".into(),
            severity: sev.into(),
            source: "pair:east-sip".into(),
            subject: "pair:east-sip".into(),
            correlation: corr.map(String::from),
            message: msg.into(),
            attrs: Default::default(),
        }
    }

    fn log() -> EventLog {
        let mut l = EventLog::new();
        l.push(vec![
            rec(0, "info", None, "boot"),
            rec(1, "alarm", Some("east-1"), "crash"),
            rec(2, "info", Some("east-1"), "switch"),
            rec(3, "warning", Some("east-2"), "maintenance"),
            rec(4, "info", Some("east-2"), "done"),
        ]);
        l
    }

    #[test]
    fn follows_the_tail_until_scrolled_back() {
        let mut l = log();
        assert_eq!(l.sel, 4);
        l.scroll(-2);
        assert!(!l.follow);
        l.push(vec![rec(5, "info", None, "new")]);
        assert_eq!(l.sel, 2);
        l.scroll(10);
        assert!(l.follow);
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
