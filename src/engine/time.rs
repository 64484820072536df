//! Time as plain data. The engine never reads a clock: every call carries `now`, and every
//! deadline it asks for is a [`Time`]. Drivers map it to wall time (daemons) or to a
//! virtual clock (drill).

use std::fmt;
use std::ops::{Add, Sub};

/// A point in time, in milliseconds since the driver's epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub u64);

/// A span of time in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(pub u64);

impl Time {
    pub const ZERO: Time = Time(0);

    pub fn ms(self) -> u64 {
        self.0
    }

    /// Time elapsed since `earlier`, zero if `earlier` is in the future.
    pub fn since(self, earlier: Time) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }
}

impl Span {
    pub const ZERO: Span = Span(0);

    pub const fn ms(ms: u64) -> Span {
        Span(ms)
    }

    pub const fn secs(s: u64) -> Span {
        Span(s * 1000)
    }

    pub const fn as_ms(self) -> u64 {
        self.0
    }

    pub fn times(self, n: u64) -> Span {
        Span(self.0.saturating_mul(n))
    }
}

impl Add<Span> for Time {
    type Output = Time;
    fn add(self, rhs: Span) -> Time {
        Time(self.0.saturating_add(rhs.0))
    }
}

impl Add<Span> for Span {
    type Output = Span;
    fn add(self, rhs: Span) -> Span {
        Span(self.0.saturating_add(rhs.0))
    }
}

impl Sub<Time> for Time {
    type Output = Span;
    fn sub(self, rhs: Time) -> Span {
        self.since(rhs)
    }
}

impl fmt::Display for Time {
    /// `H:MM:SS.mmm` since the epoch: the transcript's virtual-time column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 % 1000;
        let s = self.0 / 1000;
        write!(f, "{}:{:02}:{:02}.{:03}", s / 3600, (s / 60) % 60, s % 60, ms)
    }
}

impl fmt::Display for Span {
    /// Short human form: `350ms`, `12.5s`, `3m20s`, `2h05m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms < 1000 {
            write!(f, "{ms}ms")
        } else if ms < 60_000 {
            if ms.is_multiple_of(1000) {
                write!(f, "{}s", ms / 1000)
            } else {
                write!(f, "{}.{}s", ms / 1000, (ms % 1000) / 100)
            }
        } else if ms < 3_600_000 {
            write!(f, "{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
        } else {
            write!(f, "{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
        }
    }
}

/// Parses a duration written as `500ms`, `30s`, `10m`, `24h` or a bare number of seconds.
pub fn parse_span(text: &str) -> Result<Span, String> {
    let t = text.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3_600_000)
    } else if let Some(n) = t.strip_suffix('d') {
        (n, 86_400_000)
    } else {
        (t, 1000)
    };
    let value: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (examples: 500ms, 30s, 10m, 24h)"))?;
    value
        .checked_mul(mult)
        .map(Span)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_span("500ms"), Ok(Span(500)));
        assert_eq!(parse_span("30s"), Ok(Span(30_000)));
        assert_eq!(parse_span("10m"), Ok(Span(600_000)));
        assert_eq!(parse_span("24h"), Ok(Span(86_400_000)));
        assert_eq!(parse_span("7"), Ok(Span(7_000)));
        assert!(parse_span("ten").is_err());
        assert!(parse_span("-1s").is_err());
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Time(3_723_004).to_string(), "1:02:03.004");
        assert_eq!(Span(350).to_string(), "350ms");
        assert_eq!(Span(12_500).to_string(), "12.5s");
        assert_eq!(Span(200_000).to_string(), "3m20s");
    }
}
