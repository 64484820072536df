//! The deployment file: one TOML document, read in two stages (raw serde structs with
//! `deny_unknown_fields`, then validation into a checked [`Topology`]). Every problem is
//! reported, not just the first, each as `file:line: field: what is wrong`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;

mod raw;
mod validate;

use raw::{RawFile, RawSpan, S};

use super::time::Span;
use super::topology::*;

/// One problem found in a deployment file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    /// `file:line: field: what is wrong`, one line: every character that could move the
    /// cursor, change the terminal or forge a line is written as an escape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            escape(&self.file),
            self.line,
            escape(&self.field),
            escape(&self.message)
        )
    }
}

/// Every problem found in a deployment file, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// The largest deployment file read, in bytes (a 10,000-pair deployment is about 4 MB).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// True for a character that must not reach a terminal raw: C0 and C1 controls, DEL, the
/// line and paragraph separators and the bidirectional controls (which reorder what is
/// shown).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every unsafe character (see [`is_unsafe_char`]) written as an escape (`\n`,
/// `\t`, `\u{1b}`), so that an untrusted string prints as one inert line.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` cut to at most `max` characters and escaped: an untrusted text (a peer's field name,
/// a parser's message quoting it) fit for one line of a log, a terminal or the journal.
pub fn inert(s: &str, max: usize) -> String {
    escape(&clip(s, max)).into_owned()
}

/// `s` cut to at most `max` characters (with `…` when cut), for echoing a value in a message.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((at, _)) => Cow::Owned(format!("{}…", &s[..at])),
    }
}

/// The longest field and message kept in a problem: a value echoed from a huge file
/// cannot make one line huge.
const MAX_FIELD: usize = 120;
const MAX_MESSAGE: usize = 400;

/// Collects problems with their line numbers.
struct Ctx<'a> {
    file: &'a str,
    /// Byte offset of the start of every line, to turn a parser span into a line number
    /// by binary search (never by rescanning the text).
    line_starts: Vec<usize>,
    problems: Vec<Problem>,
}

impl<'a> Ctx<'a> {
    fn new(file: &'a str, text: &str) -> Ctx<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Ctx {
            file,
            line_starts,
            problems: Vec::new(),
        }
    }

    fn line(&self, span: &Range<usize>) -> usize {
        self.line_starts.partition_point(|s| *s <= span.start).max(1)
    }

    fn err(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let line = self.line(&span);
        let (field, message) = (field.into(), message.into());
        self.problems.push(Problem {
            file: self.file.to_string(),
            line,
            field: clip(&field, MAX_FIELD).into_owned(),
            message: clip(&message, MAX_MESSAGE).into_owned(),
        });
    }

    /// A duration, checked against `limits` (the default when absent or wrong).
    fn span_of(&mut self, raw: &Option<S<RawSpan>>, field: &str, default: Span) -> Span {
        self.span_in(raw, field, default, Limits::ANY)
    }

    fn span_in(&mut self, raw: &Option<S<RawSpan>>, field: &str, default: Span, limits: Limits) -> Span {
        let Some(raw) = raw else { return default };
        match span_value(raw.get_ref(), limits.max).and_then(|s| limits.check(s)) {
            Ok(s) => s,
            Err(e) => {
                self.err(raw.span(), field, e);
                default
            }
        }
    }

    fn count_of(&mut self, raw: &Option<S<i64>>, field: &str, range: Range<i64>, default: u32) -> u32 {
        let Some(raw) = raw else { return default };
        let v = *raw.get_ref();
        if range.contains(&v) {
            v as u32
        } else {
            self.err(
                raw.span(),
                field,
                format!("{v} is out of range ({}..={})", range.start, range.end - 1),
            );
            default
        }
    }

    /// A free-text value (a command, an argument, a kind, a notification): any printable
    /// text, but no control characters.
    fn text(&mut self, span: Range<usize>, field: impl Into<String>, value: &str) {
        if let Some(c) = value.chars().find(|c| is_unsafe_char(*c)) {
            self.err(
                span,
                field,
                format!("contains the control character {}", escape(&c.to_string())),
            );
        }
    }
}

/// The range a duration must fall in.
#[derive(Clone, Copy)]
struct Limits {
    min: Span,
    max: Span,
}

impl Limits {
    /// Any duration from 1 ms to 30 days.
    const ANY: Limits = Limits {
        min: Span(1),
        max: MAX_SPAN,
    };

    const fn new(min: Span, max: Span) -> Limits {
        Limits { min, max }
    }

    fn check(self, s: Span) -> Result<Span, String> {
        if s < self.min {
            if self.min == Span(1) {
                Err("must be longer than zero".to_string())
            } else {
                Err(format!(
                    "{} is shorter than the shortest allowed, {}",
                    show(s),
                    show(self.min)
                ))
            }
        } else if s > self.max {
            Err(format!(
                "{} is longer than the longest allowed, {}",
                show(s),
                show(self.max)
            ))
        } else {
            Ok(s)
        }
    }
}

/// The longest duration of any setting: 30 days.
pub const MAX_SPAN: Span = Span(30 * 86_400_000);

/// A duration as written in the docs: `500ms`, `30s`, `10m`, `24h`, `30d`.
fn show(s: Span) -> String {
    let ms = s.as_ms();
    for (unit, n) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] {
        if ms >= n && ms.is_multiple_of(n) {
            return format!("{}{unit}", ms / n);
        }
    }
    format!("{ms}ms")
}

/// Reads a duration: a whole number with a unit (`500ms`, `30s`, `10m`, `24h`, `2d`) or a
/// bare whole number of seconds. Never wraps: a value past what a `u64` of milliseconds
/// holds is an error naming `max`, the largest the field allows.
fn span_value(raw: &RawSpan, max: Span) -> Result<Span, String> {
    let too_long = || format!("is longer than the longest allowed, {}", show(max));
    match raw {
        RawSpan::Secs(n) if *n < 0 => Err(format!(
            "{n} is negative: a duration is a whole number of seconds or has a unit (500ms, 30s, 10m, 24h)"
        )),
        RawSpan::Secs(n) => match (*n as u64).checked_mul(1000) {
            Some(ms) => Ok(Span(ms)),
            None => Err(format!("{n} seconds {}", too_long())),
        },
        RawSpan::Other(what) => Err(format!(
            "{what} is not a duration (examples: 500ms, 30s, 10m, 24h, or a whole number of seconds)"
        )),
        RawSpan::Text(t) => {
            let not = || format!("`{}` is not a duration (examples: 500ms, 30s, 10m, 24h)", clip(t, 40));
            let digits = t.bytes().take_while(u8::is_ascii_digit).count();
            let (num, unit) = t.split_at(digits);
            let mult: u64 = match unit {
                "ms" => 1,
                "s" | "" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(not()),
            };
            if num.is_empty() {
                return Err(not());
            }
            match num.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)) {
                Some(ms) => Ok(Span(ms)),
                None => Err(format!("`{}` {}", clip(t, 40), too_long())),
            }
        }
    }
}

/// The characters of an id: letters, digits, `.`, `_` and `-`, starting with a letter or a
/// digit, at most [`MAX_ID`] of them.
pub const MAX_ID: usize = 64;

/// Why `id` is not a valid id, if it is not.
pub fn id_problem(id: &str) -> Option<String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if id.is_empty() {
        Some("must not be empty".into())
    } else if id.len() > MAX_ID {
        Some(format!(
            "is {} characters long: an id has at most {MAX_ID}",
            id.chars().count()
        ))
    } else if let Some(c) = id.chars().find(|c| !ok_char(*c)) {
        Some(format!(
            "`{}` contains {}: an id uses only letters, digits, `.`, `_` and `-`",
            id,
            if c == ' ' {
                "a space".to_string()
            } else {
                format!("`{}`", escape(&c.to_string()))
            }
        ))
    } else if !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some(format!("`{id}` must start with a letter or a digit"))
    } else {
        None
    }
}

/// A NIC name: the id character set, at most 15 characters (as Linux allows).
pub const MAX_NIC: usize = 15;

fn nic_problem(nic: &str) -> Option<String> {
    if nic.len() > MAX_NIC {
        return Some(format!("`{}` is longer than {MAX_NIC} characters", clip(nic, 40)));
    }
    id_problem(nic)
}

/// An index of ids of one kind, reporting bad and duplicate ids.
fn index_ids<'a>(ctx: &mut Ctx, kind: &str, ids: impl Iterator<Item = &'a S<String>>) -> HashMap<String, u32> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        let name = id.get_ref();
        if let Some(problem) = id_problem(name) {
            ctx.err(id.span(), format!("{kind}[{i}].id"), problem);
        } else if map.insert(name.clone(), i as u32).is_some() {
            ctx.err(
                id.span(),
                format!("{kind}[{name}].id"),
                format!("duplicate {kind} id `{name}`"),
            );
        }
    }
    map
}

fn lookup(ctx: &mut Ctx, map: &HashMap<String, u32>, kind: &str, r: &S<String>, field: String) -> Option<u32> {
    match map.get(r.get_ref()) {
        Some(i) => Some(*i),
        None => {
            let hint = if map.is_empty() {
                format!("no {kind} is defined")
            } else if map.len() <= 6 {
                let mut known: Vec<&str> = map.keys().map(String::as_str).collect();
                known.sort_unstable();
                format!("known: {}", known.join(", "))
            } else {
                format!("{} {kind}s are defined", map.len())
            };
            ctx.err(
                r.span(),
                field,
                format!("unknown {kind} `{}` ({hint})", clip(r.get_ref(), 64)),
            );
            None
        }
    }
}

/// A list for a message: at most six items, then how many more.
fn list(items: &[String]) -> String {
    if items.len() <= 6 {
        items.join(", ")
    } else {
        format!("{}, and {} more", items[..6].join(", "), items.len() - 6)
    }
}

/// Decodes and checks a deployment file read as bytes: text that is not UTF-8 is reported
/// with its line.
pub fn parse_bytes(bytes: &[u8], file: &str) -> Result<Topology, ConfigError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text, file),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let col = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
            Err(ConfigError {
                problems: vec![Problem {
                    file: file.to_string(),
                    line,
                    field: "(file)".into(),
                    message: format!("column {col}: not UTF-8 text (a deployment file is UTF-8)"),
                }],
            })
        }
    }
}

/// Parses and checks a deployment file. `file` names it in error messages.
pub fn parse(text: &str, file: &str) -> Result<Topology, ConfigError> {
    let mut ctx = Ctx::new(file, text);
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let field = field_at(text, span.clone());
            let message = e.message().trim().lines().collect::<Vec<_>>().join("; ");
            ctx.err(span, field, message);
            return Err(ConfigError { problems: ctx.problems });
        }
    };
    let topo = validate::validate(&mut ctx, raw);
    if ctx.problems.is_empty() {
        Ok(topo)
    } else {
        ctx.problems.sort_by_key(|p| p.line);
        Err(ConfigError { problems: ctx.problems })
    }
}

/// Names the table (and key) at a byte offset, for syntax and type errors.
pub fn field_at(text: &str, span: Range<usize>) -> String {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let table = text[..start]
        .lines()
        .rev()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("[[")
                .and_then(|l| l.strip_suffix("]]"))
                .or_else(|| l.strip_prefix('[').and_then(|l| l.strip_suffix(']')))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('['))
        .unwrap_or("");
    let (table, key) = (clip(&table, 60), clip(key, 60));
    match (table.is_empty(), key.is_empty()) {
        (true, true) => "(top level)".to_string(),
        (true, false) => key.to_string(),
        (false, true) => table.to_string(),
        (false, false) => format!("{table}.{key}"),
    }
}

/// A VIP address: an IP address with an optional `/prefix` of plain digits. Returns the
/// address, as an address (an IPv4-mapped IPv6 address is its IPv4 address), to compare
/// VIPs written in different ways.
fn vip_address(s: &str) -> Result<IpAddr, String> {
    let bad = || format!("`{}` is not an IP address (with an optional /prefix)", clip(s, 60));
    let addr: IpAddr = match s.split_once('/') {
        None => s.parse().map_err(|_| bad())?,
        Some((_, p)) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 3 => {
            return Err(bad());
        }
        Some(_) => s.parse::<IpNet>().map_err(|_| bad())?.addr(),
    };
    let addr = addr.to_canonical();
    if addr.is_unspecified() || addr.is_multicast() {
        return Err(format!("`{}` is not a unicast address", clip(s, 60)));
    }
    Ok(addr)
}

/// A one-paragraph summary of a valid deployment, for `hactl config check`.
pub fn summary(topo: &Topology) -> String {
    let vips = topo.pairs.iter().filter(|p| p.vip.is_some()).count();
    let endpoints: u32 = topo.populations.iter().map(|p| p.count).sum();
    format!(
        "{} sites, {} hosts, {} apps, {} pairs ({} with a VIP), {} groups, {} scripts, {} alarm conditions, {} endpoint populations ({} endpoints)",
        topo.sites.len(),
        topo.hosts.len(),
        topo.apps.len(),
        topo.pairs.len(),
        vips,
        topo.groups.len(),
        topo.scripts.len(),
        topo.alarms.len(),
        topo.populations.len(),
        endpoints
    )
}

/// The built-in two-site deployment used by `hactl drill` when no `--topology` is given.
pub const BUILTIN_NAME: &str = "topologies/builtin.toml";
pub const BUILTIN: &str = include_str!("../../../topologies/builtin.toml");

/// The built-in deployment, checked.
pub fn builtin() -> Topology {
    parse(BUILTIN, BUILTIN_NAME).expect("the built-in topology is valid (tested)")
}
