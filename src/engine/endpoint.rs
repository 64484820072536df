//! The endpoint model (W9): how a SIP endpoint with a primary and a backup server
//! registers, fails over and fails back. Pure: the caller says what a request to a server
//! would get ([`Outcome`]) and when; the endpoint says where it is registered and when it
//! acts next. The drill runs populations of these; the same timers (T1, 64*T1) define
//! hactl's SIP OPTIONS probe.

use super::time::{Span, Time};
use super::topology::{EndpointSettings, Transport};

/// What a request to one server gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A final answer other than 500/503.
    Ok,
    /// 500 or 503, or ICMP unreachable (UDP): known at once.
    Unavailable,
    /// No answer at all: known only when the transaction (or TCP connect) times out.
    NoAnswer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Registered (or not) and idle until the next refresh, call or failback probe.
    Idle,
    /// Sending a REGISTER to `server`, try number `attempt` (from 0).
    Trying { server: u8, attempt: u8 },
    /// While on the backup: a separate REGISTER to the primary.
    FailbackProbe,
}

/// One endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The server it sends requests to: 0 primary, 1 backup, none while unregistered.
    pub active: Option<u8>,
    /// Next time it acts.
    pub next: Time,
    /// Next refresh of the registration.
    refresh_at: Time,
    /// Next failback probe while on the backup.
    failback_at: Time,
    /// Next call, for populations that place calls.
    call_at: Time,
    phase: Phase,
}

/// Servers an endpoint knows, in priority order.
pub const SERVERS: u8 = 2;

impl Endpoint {
    /// An endpoint that sends its first REGISTER at `start`; `first_call` is its first call.
    pub fn new(start: Time, first_call: Option<Time>) -> Endpoint {
        Endpoint {
            active: None,
            next: start,
            refresh_at: start,
            failback_at: Time(u64::MAX),
            call_at: first_call.unwrap_or(Time(u64::MAX)),
            phase: Phase::Trying { server: 0, attempt: 0 },
        }
    }

    /// How long a request to `server` that gets no answer takes to fail.
    fn no_answer_cost(s: &EndpointSettings, server: u8) -> Span {
        let last = server + 1 == SERVERS;
        match (last, s.transport) {
            (false, _) => s.retry_timeout,
            (true, Transport::Udp) => s.transaction_timeout(),
            (true, _) => s.tcp_connect_timeout.max(s.retry_timeout),
        }
    }

    fn cost(s: &EndpointSettings, server: u8, o: Outcome) -> Span {
        match o {
            Outcome::Ok | Outcome::Unavailable => Span::ms(20),
            Outcome::NoAnswer => Self::no_answer_cost(s, server),
        }
    }

    /// Acts at `self.next`. `reach(server)` tells what a request to that server gets now;
    /// `call_gap` is the gap to the following call, if this endpoint places calls. Returns
    /// the active server before and after when it changed.
    pub fn step(
        &mut self,
        s: &EndpointSettings,
        reach: impl Fn(u8) -> Outcome,
        call_gap: Option<Span>,
    ) -> Option<(Option<u8>, Option<u8>)> {
        let now = self.next;
        let before = self.active;
        let refresh = Span(s.ttl.as_ms() * 9 / 10);
        let changed = |e: &Endpoint| (before != e.active).then_some((before, e.active));
        loop {
            match self.phase {
                Phase::Idle => {
                    if now >= self.call_at {
                        self.call_at = call_gap.map_or(Time(u64::MAX), |gap| now + gap);
                        // INVITE to the active server; a failure fails over like a REGISTER
                        // (register on the backup first).
                        let server = self.active.unwrap_or(0);
                        if reach(server) != Outcome::Ok {
                            self.phase = Phase::Trying { server, attempt: 0 };
                            continue;
                        }
                    } else if now >= self.failback_at && self.active == Some(1) {
                        self.phase = Phase::FailbackProbe;
                        continue;
                    } else if now >= self.refresh_at {
                        self.phase = Phase::Trying {
                            server: self.active.unwrap_or(0),
                            attempt: 0,
                        };
                        continue;
                    }
                }
                Phase::FailbackProbe => {
                    self.phase = Phase::Idle;
                    if reach(0) == Outcome::Ok {
                        self.active = Some(0);
                        self.failback_at = Time(u64::MAX);
                        self.refresh_at = now + refresh;
                    } else {
                        self.failback_at = now + s.failback_interval;
                    }
                }
                Phase::Trying { server, attempt } => {
                    let o = reach(server);
                    if o == Outcome::Ok {
                        self.active = Some(server);
                        self.phase = Phase::Idle;
                        self.refresh_at = now + refresh;
                        if server == 1 && s.failback {
                            self.failback_at = self.failback_at.min(now + s.failback_interval);
                        }
                    } else {
                        let cost = Self::cost(s, server, o);
                        // Dual-registered endpoints are already registered on the backup:
                        // they switch at once instead of retrying the primary.
                        // The last server is tried once, with the full transaction
                        // timeout: then the request fails (W9).
                        let last = server + 1 == SERVERS;
                        let retries = if s.dual_registration || last {
                            1
                        } else {
                            s.retry_count.max(1)
                        };
                        let (next_server, next_attempt) = if u32::from(attempt) + 1 < retries {
                            (server, attempt + 1)
                        } else {
                            (server + 1, 0)
                        };
                        if next_server >= SERVERS {
                            // Every server failed: unregistered, start over from the primary.
                            self.active = None;
                            self.phase = Phase::Trying { server: 0, attempt: 0 };
                        } else if s.dual_registration && next_server == 1 && reach(1) == Outcome::Ok {
                            self.active = Some(1);
                            self.phase = Phase::Idle;
                            self.refresh_at = now + refresh;
                            if s.failback {
                                self.failback_at = now + s.failback_interval;
                            }
                            self.next = self.wake_time();
                            return changed(self);
                        } else {
                            self.phase = Phase::Trying {
                                server: next_server,
                                attempt: next_attempt,
                            };
                        }
                        self.next = now + cost;
                        return changed(self);
                    }
                }
            }
            break;
        }
        self.next = self.wake_time();
        changed(self)
    }

    fn wake_time(&self) -> Time {
        let failback = if self.active == Some(1) {
            self.failback_at
        } else {
            Time(u64::MAX)
        };
        self.refresh_at.min(self.call_at).min(failback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(transport: Transport) -> EndpointSettings {
        EndpointSettings {
            transport,
            ttl: Span::secs(300),
            retry_count: 3,
            retry_timeout: Span::secs(2),
            failback: true,
            failback_interval: Span::secs(1800),
            t1: Span::ms(500),
            tcp_connect_timeout: Span::secs(10),
            dual_registration: false,
            call_interval: None,
        }
    }

    fn run_until(e: &mut Endpoint, s: &EndpointSettings, until: Time, reach: impl Fn(Time, u8) -> Outcome) {
        while e.next <= until {
            let t = e.next;
            e.step(s, |srv| reach(t, srv), None);
        }
    }

    #[test]
    fn registers_on_the_primary_and_refreshes() {
        let s = settings(Transport::Udp);
        let mut e = Endpoint::new(Time(0), None);
        e.step(&s, |_| Outcome::Ok, None);
        assert_eq!(e.active, Some(0));
        assert_eq!(e.next, Time(270_000), "refresh at 90% of the TTL");
    }

    #[test]
    fn retries_the_primary_retry_count_times_then_uses_the_backup() {
        let s = settings(Transport::Udp);
        let mut e = Endpoint::new(Time(0), None);
        e.step(&s, |_| Outcome::Ok, None);
        // Primary gone silent from t=100s: the refresh at 270s tries it 3 times (2s each).
        run_until(&mut e, &s, Time(300_000), |_, srv| {
            if srv == 0 { Outcome::NoAnswer } else { Outcome::Ok }
        });
        assert_eq!(e.active, Some(1));
        assert_eq!(e.refresh_at, Time(276_000) + Span(270_000), "moved at 270s + 3 x 2s");
    }

    #[test]
    fn every_server_down_uses_the_full_transaction_timeout_on_the_last() {
        let s = settings(Transport::Udp);
        let mut e = Endpoint::new(Time(0), None);
        e.step(&s, |_| Outcome::NoAnswer, None);
        e.step(&s, |_| Outcome::NoAnswer, None);
        e.step(&s, |_| Outcome::NoAnswer, None);
        assert_eq!(e.next, Time(6_000));
        e.step(&s, |_| Outcome::NoAnswer, None);
        assert_eq!(e.next, Time(6_000 + 32_000), "64*T1 = 32s on the last server");
        assert_eq!(e.active, None);
        // Regression: the last server was tried retry-count times (96 s). After its one
        // 32 s try the request failed; the next one starts over from the primary (2 s).
        e.step(&s, |_| Outcome::NoAnswer, None);
        assert_eq!(e.next, Time(38_000 + 2_000), "back to the primary after one try");
    }

    #[test]
    fn unavailable_answers_fail_over_without_waiting() {
        let s = settings(Transport::Udp);
        let mut e = Endpoint::new(Time(0), None);
        run_until(&mut e, &s, Time(1_000), |_, srv| {
            if srv == 0 { Outcome::Unavailable } else { Outcome::Ok }
        });
        assert_eq!(e.active, Some(1));
        assert!(e.refresh_at < Time(300_000));
    }

    #[test]
    fn fails_back_after_the_failback_interval() {
        let s = settings(Transport::Tcp);
        let mut e = Endpoint::new(Time(0), None);
        run_until(&mut e, &s, Time(1_000_000), |t, srv| {
            if srv == 0 && t < Time(1_000_000) {
                Outcome::NoAnswer
            } else {
                Outcome::Ok
            }
        });
        assert_eq!(e.active, Some(1));
        run_until(&mut e, &s, Time(2_000_000), |_, _| Outcome::Ok);
        assert_eq!(e.active, Some(0), "back on the primary once a failback probe got 200");
    }

    #[test]
    fn dual_registered_endpoints_switch_at_once() {
        let mut s = settings(Transport::Tls);
        s.dual_registration = true;
        let mut e = Endpoint::new(Time(0), None);
        e.step(&s, |_| Outcome::Ok, None);
        run_until(&mut e, &s, Time(271_000), |_, srv| {
            if srv == 0 { Outcome::NoAnswer } else { Outcome::Ok }
        });
        assert_eq!(e.active, Some(1));
    }
}
