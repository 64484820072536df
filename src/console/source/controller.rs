//! The network side of the live source: one tokio task per controller and one per
//! question asked. A controller's task says who the token is, reads the topology, the
//! snapshot and the last page of events, then follows the event stream from the last
//! `seq` seen while it asks for the snapshot every second; when anything fails or stays
//! unanswered past a short timeout it reports the controller lost and tries again after
//! a backoff that starts at 250 ms and doubles to 5 s. Everything it learns goes to the
//! console as a [`Note`] on one bounded channel, which the console drains without waiting.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{Page, Reply};
use crate::client::{Client, ClientError};
use crate::wire::{ErrorBody, EventRecord, RunId, RunView, Snapshot, TopologyView, Whoami};

/// The first wait before trying a lost controller again, and the longest.
pub const BACKOFF_FIRST: Duration = Duration::from_millis(250);
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How often a connected controller's snapshot is read (its state is not in the stream).
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);
/// How many events the console reads when it first reaches a controller.
pub const FIRST_PAGE: usize = 500;

/// What a controller's task (or a question's) tells the console.
#[derive(Debug)]
pub enum Note {
    /// An attempt to reach controller `ctl` is under way.
    Trying {
        ctl: usize,
    },
    /// Reached: who the token is there, and the deployment.
    Up {
        ctl: usize,
        who: Whoami,
        topology: Box<TopologyView>,
    },
    Snapshot {
        ctl: usize,
        snapshot: Box<Snapshot>,
    },
    /// Events of the controller's log, in `seq` order, none twice.
    Events {
        ctl: usize,
        events: Vec<EventRecord>,
    },
    /// Lost (or not reached): why, and when the next attempt starts.
    Down {
        ctl: usize,
        error: String,
        retry_at: Instant,
    },
    /// The answer to a question.
    Reply(Reply),
    /// A script run as far as it has gone, or why it could not be read.
    Run {
        run: RunId,
        view: Result<RunView, String>,
    },
}

/// A client error as the console shows a refusal: the controller's own code and reason
/// when it answered, else why it could not be asked (an action that got no answer may
/// still have been carried out; its request id makes sending it again safe).
pub fn error_body(e: &ClientError) -> ErrorBody {
    match e {
        ClientError::Refused { error, detail, .. } => ErrorBody::new(error.clone(), detail.clone()),
        other if other.is_unreachable() => ErrorBody::new("unreachable", other.to_string()),
        other => ErrorBody::new("invalid", other.to_string()),
    }
}

/// Follows controller `ctl` for as long as the console runs: connects, streams, and
/// reconnects with a backoff, resuming the stream after the last event it delivered.
pub async fn follow(ctl: usize, client: Client, tx: mpsc::Sender<Note>) {
    let mut cursor: Option<u64> = None;
    let mut backoff = BACKOFF_FIRST;
    loop {
        if tx.send(Note::Trying { ctl }).await.is_err() {
            return;
        }
        let (reached, err) = session(ctl, &client, &tx, &mut cursor).await;
        if tx.is_closed() {
            return;
        }
        if reached {
            backoff = BACKOFF_FIRST;
        }
        let note = Note::Down {
            ctl,
            error: err.to_string(),
            retry_at: Instant::now() + backoff,
        };
        if tx.send(note).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One connection, until it fails: whether it was reached, and why it ended.
async fn session(
    ctl: usize,
    client: &Client,
    tx: &mpsc::Sender<Note>,
    cursor: &mut Option<u64>,
) -> (bool, ClientError) {
    let who = match client.whoami().await {
        Ok(w) => w,
        Err(e) => return (false, e),
    };
    let topology = match client.topology().await {
        Ok(t) => t,
        Err(e) => return (false, e),
    };
    let snapshot = match client.snapshot().await {
        Ok(s) => s,
        Err(e) => return (false, e),
    };
    // The first time, the last page of the log; after that the stream resumes after the
    // last event delivered, so nothing is missed and nothing comes twice.
    let mut first = Vec::new();
    if cursor.is_none() {
        match client.events_before(None, FIRST_PAGE).await {
            Ok(page) => {
                *cursor = Some(page.events.last().map_or(0, |e| e.seq));
                first = page.events;
            }
            Err(e) => return (false, e),
        }
    }
    let stream = match client.stream(*cursor).await {
        Ok(s) => s,
        Err(e) => return (false, e),
    };
    for note in [
        Note::Up {
            ctl,
            who,
            topology: Box::new(topology),
        },
        Note::Snapshot {
            ctl,
            snapshot: Box::new(snapshot),
        },
        Note::Events { ctl, events: first },
    ] {
        if tx.send(note).await.is_err() {
            return (true, ClientError::unreachable(client.url(), "the console is closing"));
        }
    }
    // Whatever is ready is sent at once, up to 256 events a note.
    let mut stream = stream.ready_chunks(256);
    let mut poll = tokio::time::interval(SNAPSHOT_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.tick().await;
    loop {
        let note = tokio::select! {
            batch = stream.next() => {
                let Some(batch) = batch else {
                    return (true, ClientError::unreachable(client.url(), "the event stream ended"));
                };
                let mut events = Vec::with_capacity(batch.len());
                let mut failed = None;
                for item in batch {
                    match item {
                        Ok(rec) => events.push(rec),
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                if let Some(last) = events.last() {
                    *cursor = Some(last.seq);
                }
                if !events.is_empty() && tx.send(Note::Events { ctl, events }).await.is_err() {
                    return (true, ClientError::unreachable(client.url(), "the console is closing"));
                }
                match failed {
                    Some(e) => return (true, e),
                    None => continue,
                }
            }
            _ = poll.tick() => match client.snapshot().await {
                Ok(s) => Note::Snapshot { ctl, snapshot: Box::new(s) },
                Err(e) => return (true, e),
            },
        };
        if tx.send(note).await.is_err() {
            return (true, ClientError::unreachable(client.url(), "the console is closing"));
        }
    }
}

/// Reads a page of the log of each site from its controller, all at once.
pub async fn page(asks: Vec<(String, u64, Option<Client>)>, limit: usize, older: bool) -> Page {
    let fetches = asks.into_iter().map(|(site, seq, client)| async move {
        let Some(client) = client else {
            return (site, Err("its controller cannot be reached now".to_string()));
        };
        let r = if older {
            client.events_before(Some(seq), limit).await
        } else {
            client.events(Some(seq), limit).await
        };
        (site, r.map_err(|e| e.to_string()))
    });
    let mut page = Page::default();
    for (site, r) in futures_util::future::join_all(fetches).await {
        match r {
            Ok(p) => {
                // Fewer than asked: nothing further that way (the log's start, or its
                // end when it was read).
                if p.events.len() < limit || (older && p.events.first().is_some_and(|e| e.seq <= 1)) {
                    page.ends.push(site.clone());
                }
                page.events.extend(p.events.into_iter().filter(|e| e.site == site));
            }
            Err(e) => page.failed.push((site, e)),
        }
    }
    page
}
