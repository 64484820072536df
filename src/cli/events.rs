//! `hactl events`: the journal's events, paged from `/v1/events` and, with `--follow`,
//! continued on the live stream from the last cursor paged, so nothing is missed or
//! printed twice at the handover or across reconnects (each stream resumes after the
//! last `seq` it delivered). Several controllers are merged by time (`wire::EventMerge`);
//! while following, a connected controller that is quiet is taken to have sent everything
//! older than two seconds ago, so one quiet site does not hold the others back.

use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::UsageError;
use super::live::{self, Deployment, exit};
use crate::client::{Client, ClientError, ConnectArgs};
use crate::engine::EventId;
use crate::engine::config::{clip, escape};
use crate::engine::time::{Span, parse_span};
use crate::wire::{EventMerge, EventRecord, TopologyView};

/// Events per page.
const PAGE: usize = 1000;
/// Events shown by default, per controller.
const TAIL: u64 = 20;
/// How far a quiet connected controller's clock may be behind: its events older than
/// now minus this are taken to have arrived.
const SKEW_MS: u64 = 2000;

#[derive(clap::Args, Debug, Clone)]
pub struct EventsArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// After the events, print new ones as they come, until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Start after a cursor (SEQ; with several controllers SITE:SEQ,SITE:SEQ) or a span of
    /// time back (30s, 10m, 2h, 7d); default: the last 20 events of each controller.
    #[arg(long, value_name = "CURSOR|DURATION")]
    pub since: Option<String>,
    /// Only events with this catalog id (HC-1102) or this correlation id (east-7).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Only events about this pair (or group) and its applications.
    #[arg(long, value_name = "PAIR")]
    pub pair: Option<String>,
    /// One JSON object per line: the event record, whose site and seq are its cursor.
    #[arg(long)]
    pub json: bool,
}

/// Where to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Since {
    /// The last N events of each controller.
    Last(u64),
    /// After these cursors: one for the only controller (`None`), or per site.
    Cursors(Vec<(Option<String>, u64)>),
    /// Events of the last span of time.
    Ago(Span),
}

pub fn parse_since(s: &str) -> Result<Since, UsageError> {
    let bad = || {
        UsageError(format!(
            "--since: `{}` is neither a cursor (SEQ, or SITE:SEQ,SITE:SEQ) nor a duration (30s, 10m, 2h, 7d)",
            escape(&clip(s, 60))
        ))
    };
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map(|n| Since::Cursors(vec![(None, n)])).map_err(|_| bad());
    }
    if t.contains(':') {
        let mut out = Vec::new();
        for part in t.split(',') {
            let (site, seq) = part.trim().split_once(':').ok_or_else(bad)?;
            let seq: u64 = seq.trim().parse().map_err(|_| bad())?;
            if site.trim().is_empty() {
                return Err(bad());
            }
            out.push((Some(site.trim().to_string()), seq));
        }
        return Ok(Since::Cursors(out));
    }
    match parse_span(t) {
        Ok(span) if span > Span::ZERO => Ok(Since::Ago(span)),
        _ => Err(bad()),
    }
}

/// Which events to print.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    id: Option<EventId>,
    correlation: Option<String>,
    /// Subjects and sources that concern the pair.
    labels: Option<Vec<String>>,
}

impl Filter {
    pub fn new(id: Option<&str>, pair: Option<&str>, topo: Option<&TopologyView>) -> Result<Filter, UsageError> {
        let mut f = Filter::default();
        if let Some(id) = id {
            let id = id.trim();
            if let Some(e) = EventId::ALL.iter().find(|e| e.code().eq_ignore_ascii_case(id)) {
                f.id = Some(*e);
            } else if id.rsplit_once('-').is_some_and(|(s, n)| {
                n.parse::<u64>().is_ok() && topo.is_none_or(|t| t.sites.iter().any(|x| x.id == s))
            }) {
                f.correlation = Some(id.to_string());
            } else {
                return Err(UsageError(format!(
                    "--id: `{}` is neither an event id of the catalog (HC-1102, 5064; see docs/events.md) nor a correlation id of a site (east-7)",
                    escape(&clip(id, 60))
                )));
            }
        }
        if let Some(p) = pair {
            let topo = topo.ok_or_else(|| UsageError("--pair: no controller answered with the deployment".into()))?;
            f.labels = Some(pair_labels(topo, p)?);
        }
        Ok(f)
    }

    pub fn matches(&self, e: &EventRecord) -> bool {
        self.id.is_none_or(|id| e.id == id)
            && self
                .correlation
                .as_ref()
                .is_none_or(|c| e.correlation.as_deref() == Some(c))
            && self
                .labels
                .as_ref()
                .is_none_or(|l| l.iter().any(|x| *x == e.subject || *x == e.source))
    }
}

/// `pair:P`, `app:A@H` of its applications; for a group, the same for every member.
fn pair_labels(topo: &TopologyView, name: &str) -> Result<Vec<String>, UsageError> {
    let pairs: Vec<&str> = match topo.groups.iter().find(|g| g.id == name) {
        Some(g) => g.members.iter().map(String::as_str).collect(),
        None if topo.pairs.iter().any(|p| p.id == name) => vec![name],
        None => {
            let known: Vec<&str> = topo.pairs.iter().map(|p| p.id.as_str()).take(20).collect();
            return Err(UsageError(format!(
                "--pair: no pair or group `{}` in the deployment (pairs: {})",
                escape(&clip(name, 60)),
                known.join(", ")
            )));
        }
    };
    let mut out = vec![format!("group:{name}")];
    for p in topo.pairs.iter().filter(|p| pairs.contains(&p.id.as_str())) {
        out.push(format!("pair:{}", p.id));
        for a in topo.apps.iter().filter(|a| a.pair.as_deref() == Some(&p.id)) {
            out.push(format!("app:{}@{}", a.id, a.host));
        }
    }
    Ok(out)
}

/// What the stream tasks report.
pub enum Feed {
    Event(usize, EventRecord),
    /// Client i's stream is open.
    Up(usize),
    /// Client i's stream ended or could not open; it is retried.
    Down(usize, ClientError),
    /// Client i refused the stream (a token that may not read it): not retried.
    Refused(usize, ClientError),
}

/// One task per client that follows its event stream from its cursor and, when the
/// stream breaks, opens it again after the last event delivered (after 0.2 s, doubling to
/// 5 s). The tasks end when the receiver is dropped.
pub fn spawn_streams(clients: &[Client], cursors: &[Option<u64>]) -> mpsc::Receiver<Feed> {
    let (tx, rx) = mpsc::channel(1024);
    for (i, (c, cursor)) in clients.iter().zip(cursors).enumerate() {
        let (c, tx, mut cursor) = (c.clone(), tx.clone(), *cursor);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(200);
            loop {
                match c.stream(cursor).await {
                    Ok(mut s) => {
                        backoff = Duration::from_millis(200);
                        if tx.send(Feed::Up(i)).await.is_err() {
                            return;
                        }
                        while let Some(item) = s.next().await {
                            let feed = match item {
                                Ok(rec) => {
                                    cursor = Some(rec.seq);
                                    Feed::Event(i, rec)
                                }
                                Err(e) => Feed::Down(i, e),
                            };
                            if tx.send(feed).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e @ ClientError::Refused { status: 400..=499, .. }) => {
                        let _ = tx.send(Feed::Refused(i, e)).await;
                        return;
                    }
                    Err(e) => {
                        if tx.send(Feed::Down(i, e)).await.is_err() {
                            return;
                        }
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
    }
    rx
}

pub fn run(args: EventsArgs) -> color_eyre::Result<ExitCode> {
    let since = args
        .since
        .as_deref()
        .map(parse_since)
        .transpose()?
        .unwrap_or(Since::Last(TAIL));
    let (_, clients) = live::clients(&args.connect)?;
    if let Since::Cursors(c) = &since
        && clients.len() > 1
        && c.iter().any(|(site, _)| site.is_none())
    {
        return Err(UsageError(
            "--since: with several controllers give each site's cursor: --since east:42,west:17".into(),
        )
        .into());
    }
    let rt = live::runtime()?;
    rt.block_on(async move {
        let dep = Deployment::connect(clients).await;
        let filter = Filter::new(args.id.as_deref(), args.pair.as_deref(), dep.topology.as_ref())?;
        let mut code = exit::OK;
        for e in dep.sites.iter().filter_map(|s| s.as_ref().err()) {
            if !args.follow {
                live::note(&e.to_string());
            }
            code = code.max(live::code_of(e));
        }
        let mut out = Printer {
            filter,
            json: args.json,
        };
        let mut merge = EventMerge::new(dep.sites.iter().filter_map(|s| s.as_ref().ok().cloned()));
        let mut cursors: Vec<Option<u64>> = vec![None; dep.clients.len()];
        let mut pending: Vec<usize> = Vec::new();
        for (i, c) in dep.clients.iter().enumerate() {
            let Ok(site) = &dep.sites[i] else { continue };
            match start(c, site, &since).await {
                Ok(cur) => {
                    cursors[i] = Some(cur);
                    pending.push(i);
                }
                Err(e) => {
                    live::note(&e.to_string());
                    code = code.max(live::code_of(&e));
                    merge.set_live(site, false);
                }
            }
        }
        // Pages, a page of each controller at a time, merged by time.
        while !pending.is_empty() {
            let mut next = Vec::new();
            for i in pending {
                let (c, site) = (&dep.clients[i], dep.sites[i].as_ref().map_or("", String::as_str));
                match c.events(cursors[i], PAGE).await {
                    Ok(page) => {
                        let full = page.events.len() >= PAGE;
                        cursors[i] = Some(page.next);
                        for rec in page.events {
                            merge.push(rec);
                        }
                        if full {
                            next.push(i);
                        } else {
                            merge.set_live(site, false);
                        }
                    }
                    Err(e) => {
                        live::note(&e.to_string());
                        code = code.max(live::code_of(&e));
                        merge.set_live(site, false);
                    }
                }
            }
            out.release(&mut merge)?;
            pending = next;
        }
        if !args.follow {
            return Ok(ExitCode::from(code));
        }
        follow(&dep, merge, cursors, &mut out).await
    })
}

/// The cursor `since` means for one controller.
async fn start(c: &Client, site: &str, since: &Since) -> Result<u64, ClientError> {
    match since {
        Since::Last(n) => Ok(live::tail(c).await?.saturating_sub(*n)),
        Since::Cursors(list) => Ok(list
            .iter()
            .find(|(s, _)| s.as_deref().is_none_or(|s| s == site))
            .map_or(0, |(_, n)| *n)),
        Since::Ago(span) => live::cursor_at(c, live::now_ms().saturating_sub(span.as_ms())).await,
    }
}

struct Printer {
    filter: Filter,
    json: bool,
}

impl Printer {
    fn release(&mut self, merge: &mut EventMerge) -> color_eyre::Result<()> {
        let mut out = Vec::new();
        merge.release(&mut out);
        let mut text = String::new();
        for e in out.iter().filter(|e| self.filter.matches(e)) {
            text.push_str(&if self.json {
                live::event_json(e)
            } else {
                live::event_line(e)
            });
            text.push('\n');
        }
        if !text.is_empty() {
            super::emit(&text, ExitCode::SUCCESS)?;
        }
        Ok(())
    }
}

/// Follows every controller's stream from its cursor until Ctrl-C; controllers that
/// could not be reached are tried again and again.
async fn follow(
    dep: &Deployment,
    mut merge: EventMerge,
    cursors: Vec<Option<u64>>,
    out: &mut Printer,
) -> color_eyre::Result<ExitCode> {
    let mut site: Vec<Option<String>> = dep.sites.iter().map(|s| s.as_ref().ok().cloned()).collect();
    let mut up = vec![false; dep.clients.len()];
    let mut said_down = vec![false; dep.clients.len()];
    for s in site.iter().flatten() {
        merge.set_live(s, false);
    }
    let mut rx = spawn_streams(&dep.clients, &cursors);
    let mut sigint = live::interrupts()?;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut code = exit::OK;
    loop {
        tokio::select! {
            feed = rx.recv() => match feed {
                None => return Ok(ExitCode::from(code)),
                Some(Feed::Event(i, rec)) => {
                    site[i] = Some(rec.site.clone());
                    merge.push(rec);
                }
                Some(Feed::Up(i)) => {
                    up[i] = true;
                    if std::mem::take(&mut said_down[i]) {
                        live::note(&format!("{}: event stream back", dep.clients[i].url()));
                    }
                    if let Some(s) = &site[i] {
                        merge.set_live(s, true);
                    }
                }
                Some(Feed::Down(i, e)) => {
                    up[i] = false;
                    if !std::mem::replace(&mut said_down[i], true) {
                        live::note(&format!("{e}; trying again"));
                    }
                    if let Some(s) = &site[i] {
                        merge.set_live(s, false);
                    }
                }
                Some(Feed::Refused(i, e)) => {
                    up[i] = false;
                    live::note(&e.to_string());
                    code = code.max(live::code_of(&e));
                    if let Some(s) = &site[i] {
                        merge.set_live(s, false);
                    }
                    if up.iter().all(|u| !u) && said_down.iter().all(|d| !d) {
                        out.release(&mut merge)?;
                        return Ok(ExitCode::from(code));
                    }
                }
            },
            _ = tick.tick() => {
                let now = live::now_ms().saturating_sub(SKEW_MS);
                for (i, s) in site.iter().enumerate() {
                    if let (true, Some(s)) = (up[i], s) {
                        merge.advance(s, now);
                    }
                }
            }
            _ = sigint.recv() => {
                for s in site.iter().flatten() {
                    merge.set_live(s, false);
                }
                out.release(&mut merge)?;
                return Ok(ExitCode::from(code));
            }
        }
        out.release(&mut merge)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_cursor_or_a_span() {
        assert_eq!(parse_since("42").unwrap(), Since::Cursors(vec![(None, 42)]));
        assert_eq!(
            parse_since("east:4, west:17").unwrap(),
            Since::Cursors(vec![(Some("east".into()), 4), (Some("west".into()), 17)])
        );
        assert_eq!(parse_since("10m").unwrap(), Since::Ago(Span::secs(600)));
        for bad in ["", "soon", "east:", ":4", "east:x", "-3", "0s"] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }
}
