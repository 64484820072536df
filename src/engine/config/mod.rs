//! The deployment file: one TOML document, read in two stages (raw serde structs with
//! `deny_unknown_fields`, then validation into a checked [`Topology`]). Every problem is
//! reported, not just the first, each as `file:line: field: what is wrong`.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

mod raw;
mod validate;

use raw::{RawFile, RawSpan, S};

use super::time::{Span, parse_span};
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file, self.line, self.field, self.message)
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

/// Collects problems with their line numbers.
struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Ctx<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text[..end].bytes().filter(|b| *b == b'\n').count() + 1
    }

    fn err(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let line = self.line(&span);
        self.problems.push(Problem {
            file: self.file.to_string(),
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    fn span_of(&mut self, raw: &Option<S<RawSpan>>, field: &str, default: Span) -> Span {
        let Some(raw) = raw else { return default };
        let parsed = match raw.get_ref() {
            RawSpan::Secs(s) => Ok(Span::secs(*s)),
            RawSpan::Text(t) => parse_span(t),
        };
        match parsed {
            Ok(Span(0)) => {
                self.err(raw.span(), field, "must be longer than zero");
                default
            }
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
}

/// An index of ids of one kind, reporting duplicates.
fn index_ids<'a>(ctx: &mut Ctx, kind: &str, ids: impl Iterator<Item = &'a S<String>>) -> HashMap<String, u32> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        let name = id.get_ref();
        if name.is_empty() {
            ctx.err(id.span(), format!("{kind}[{i}].id"), "must not be empty");
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
            let mut known: Vec<&str> = map.keys().map(String::as_str).collect();
            known.sort_unstable();
            let hint = if known.is_empty() {
                format!("no {kind} is defined")
            } else if known.len() <= 6 {
                format!("known: {}", known.join(", "))
            } else {
                format!("{} {kind}s are defined", known.len())
            };
            ctx.err(r.span(), field, format!("unknown {kind} `{}` ({hint})", r.get_ref()));
            None
        }
    }
}

/// Parses and checks a deployment file. `file` names it in error messages.
pub fn parse(text: &str, file: &str) -> Result<Topology, ConfigError> {
    let mut ctx = Ctx {
        file,
        text,
        problems: Vec::new(),
    };
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let field = field_at(text, span.clone());
            ctx.err(span, field, e.message().trim().to_string());
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
fn field_at(text: &str, span: Range<usize>) -> String {
    let start = span.start.min(text.len());
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
    match (table.is_empty(), key.is_empty()) {
        (true, true) => "(top level)".to_string(),
        (true, false) => key.to_string(),
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

fn valid_address(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    match prefix {
        None => true,
        Some(p) => p.parse::<u8>().is_ok_and(|p| p <= if ip.is_ipv4() { 32 } else { 128 }),
    }
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
