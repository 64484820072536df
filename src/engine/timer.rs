//! Timers as plain data: a table of deadlines keyed by what they are for, ordered by time.
//! The engine (and the agent core, with keys of its own) asks for one with `set`, drops it
//! with `cancel`, and the driver learns the earliest with `next`; nothing here knows what
//! time it is.

use std::collections::{BTreeMap, BTreeSet};

use super::time::Time;
use super::topology::{AppIx, HostIx, PairIx};

/// What a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKey {
    /// Check that a host's agent is still heard from.
    Heartbeat(HostIx),
    /// The current step of a pair's switchover must be confirmed by then.
    Switchover(PairIx),
    /// A mode order to an application must be confirmed by then.
    ModeOrder(AppIx),
    /// Retry the VIP placement of a pair.
    Vip(PairIx),
    /// Look at a pair again (a grace period ended).
    Recheck(PairIx),
    /// The oldest switchover of a flapping pair leaves the window.
    AntiFlap(PairIx),
    /// A pair's maintenance expires.
    Maintenance(PairIx),
    /// Send the next inter-site probe.
    PeerProbe,
    /// The inter-site link goes out of service unless an answer arrives.
    PeerOos,
    /// A script run must have reported by then.
    Script(u64),
}

/// Deadlines keyed by `K` (the engine's [`TimerKey`] unless told otherwise).
#[derive(Debug, Clone)]
pub struct Timers<K = TimerKey> {
    by_key: BTreeMap<K, Time>,
    by_time: BTreeSet<(Time, K)>,
}

impl<K> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            by_key: BTreeMap::new(),
            by_time: BTreeSet::new(),
        }
    }
}

impl<K: Copy + Ord> Timers<K> {
    /// Arms `key` at `at`, replacing any earlier deadline for it.
    pub fn set(&mut self, key: K, at: Time) {
        if let Some(old) = self.by_key.insert(key, at) {
            self.by_time.remove(&(old, key));
        }
        self.by_time.insert((at, key));
    }

    /// Arms `key` at `at` unless it is already armed earlier.
    pub fn set_earliest(&mut self, key: K, at: Time) {
        match self.by_key.get(&key) {
            Some(old) if *old <= at => {}
            _ => self.set(key, at),
        }
    }

    pub fn cancel(&mut self, key: K) {
        if let Some(old) = self.by_key.remove(&key) {
            self.by_time.remove(&(old, key));
        }
    }

    pub fn get(&self, key: K) -> Option<Time> {
        self.by_key.get(&key).copied()
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Time> {
        self.by_time.first().map(|(t, _)| *t)
    }

    /// Removes and returns the earliest timer that is due at `now`.
    pub fn pop_due(&mut self, now: Time) -> Option<K> {
        let (at, key) = *self.by_time.first()?;
        if at > now {
            return None;
        }
        self.by_time.remove(&(at, key));
        self.by_key.remove(&key);
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_replaces() {
        let mut t: Timers = Timers::default();
        t.set(TimerKey::PeerProbe, Time(50));
        t.set(TimerKey::PeerOos, Time(10));
        t.set(TimerKey::PeerProbe, Time(5));
        t.set_earliest(TimerKey::PeerOos, Time(20));
        assert_eq!(t.next(), Some(Time(5)));
        assert_eq!(t.pop_due(Time(9)), Some(TimerKey::PeerProbe));
        assert_eq!(t.pop_due(Time(9)), None);
        t.cancel(TimerKey::PeerOos);
        assert_eq!(t.next(), None);
    }
}
