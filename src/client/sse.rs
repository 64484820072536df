//! The controller's live event stream (`GET /v1/events/stream`, Server-Sent Events) as a
//! `futures::Stream` of [`EventRecord`]s. [`SseParser`] reads the text format (fields,
//! comments, keep-alives, any line ending, events split across chunks at any byte);
//! [`EventStream`] drives one connection: it resumes after the `Last-Event-ID` given,
//! drops anything at or before the last `seq` it delivered, and ends with an
//! [`ClientError::Unreachable`] item when the connection breaks, the server closes it, or
//! nothing (not even a keep-alive) arrives within the idle limit. Reconnecting is the
//! caller's: open a new stream after [`EventStream::cursor`].

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};

use super::ClientError;
use crate::wire::EventRecord;

/// The longest event (all its lines) the parser holds.
const MAX_EVENT: usize = 1 << 20;

/// One dispatched Server-Sent Event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// An incremental Server-Sent Events parser (the WHATWG rules hactl's server uses:
/// `field: value` lines, `:` comments, a blank line dispatches; `\n`, `\r\n` or `\r` end
/// a line).
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The last byte was a `\r`: a `\n` right after it ends nothing more.
    after_cr: bool,
    event: String,
    id: Option<String>,
    data: String,
    has_data: bool,
    size: usize,
}

impl SseParser {
    /// Feeds bytes; returns the events they completed. An event larger than 1 MiB is an
    /// error.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, String> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr && b == b'\n' {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            if b == b'\n' || b == b'\r' {
                let line = std::mem::take(&mut self.line);
                self.line_done(&line, &mut out)?;
            } else {
                self.line.push(b);
                self.size += 1;
                if self.size > MAX_EVENT {
                    return Err(format!("an event longer than {} KiB", MAX_EVENT / 1024));
                }
            }
        }
        Ok(out)
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), String> {
        if line.is_empty() {
            if self.has_data {
                out.push(SseEvent {
                    event: std::mem::take(&mut self.event),
                    id: self.id.clone(),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            self.size = 0;
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let text = std::str::from_utf8(line).map_err(|_| "a line that is not UTF-8".to_string())?;
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (text, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {}
        }
        Ok(())
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>;

/// One connection's events, in order, each once.
pub struct EventStream {
    inner: Pin<Box<dyn Stream<Item = Result<EventRecord, ClientError>> + Send>>,
    shared: Arc<Shared>,
}

struct Shared {
    born: Instant,
    /// Milliseconds after `born` of the last bytes received (events or keep-alives).
    heard_ms: AtomicU64,
    /// The `seq` of the last record delivered (0: none).
    cursor: AtomicU64,
}

impl EventStream {
    /// Reads `resp` (a 200 answer of the stream endpoint) as events after `after`.
    pub(crate) fn new(url: String, resp: reqwest::Response, after: Option<u64>, idle: Duration) -> EventStream {
        let shared = Arc::new(Shared {
            born: Instant::now(),
            heard_ms: AtomicU64::new(0),
            cursor: AtomicU64::new(after.unwrap_or(0)),
        });
        let state = State {
            url,
            body: Some(Box::pin(resp.bytes_stream())),
            parser: SseParser::default(),
            pending: VecDeque::new(),
            idle,
            shared: shared.clone(),
        };
        let inner = futures_util::stream::unfold(state, |mut st| async move {
            let item = st.next().await?;
            Some((item, st))
        });
        EventStream {
            inner: Box::pin(inner),
            shared,
        }
    }

    /// The `seq` of the last event delivered (or the cursor it was opened after): where
    /// to resume.
    pub fn cursor(&self) -> Option<u64> {
        match self.shared.cursor.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n),
        }
    }

    /// When bytes last arrived (an event or a keep-alive): how fresh the connection is.
    pub fn last_heard(&self) -> Instant {
        self.shared.born + Duration::from_millis(self.shared.heard_ms.load(Ordering::SeqCst))
    }
}

impl Stream for EventStream {
    type Item = Result<EventRecord, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct State {
    url: String,
    /// None once the stream has ended (after its last item).
    body: Option<Body>,
    parser: SseParser,
    pending: VecDeque<EventRecord>,
    idle: Duration,
    shared: Arc<Shared>,
}

impl State {
    /// The next item, or None after the stream's end was reported.
    async fn next(&mut self) -> Option<Result<EventRecord, ClientError>> {
        loop {
            if let Some(rec) = self.pending.pop_front() {
                self.shared.cursor.store(rec.seq, Ordering::SeqCst);
                return Some(Ok(rec));
            }
            let body = self.body.as_mut()?;
            let chunk = match tokio::time::timeout(self.idle, body.next()).await {
                Err(_) => Err(ClientError::unreachable(
                    &self.url,
                    format!(
                        "the event stream went silent: nothing for {} s, not even a keep-alive",
                        self.idle.as_secs()
                    ),
                )),
                Ok(None) => Err(ClientError::unreachable(
                    &self.url,
                    "the controller closed the event stream",
                )),
                Ok(Some(Err(e))) => Err(ClientError::transport(&self.url, &e)),
                Ok(Some(Ok(bytes))) => {
                    let ms = self.shared.born.elapsed().as_millis() as u64;
                    self.shared.heard_ms.store(ms, Ordering::SeqCst);
                    self.take(&bytes)
                }
            };
            if let Err(e) = chunk {
                self.body = None;
                return Some(Err(e));
            }
        }
    }

    /// Parses a chunk into pending records, dropping any at or before the cursor.
    fn take(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let events = self
            .parser
            .feed(bytes)
            .map_err(|e| ClientError::protocol(&self.url, format!("event stream: {e}")))?;
        let mut last = self
            .pending
            .back()
            .map_or(self.shared.cursor.load(Ordering::SeqCst), |r| r.seq);
        for ev in events {
            if !(ev.event.is_empty() || ev.event == "event") {
                continue;
            }
            let rec: EventRecord = serde_json::from_str(&ev.data)
                .map_err(|e| ClientError::protocol(&self.url, format!("event stream: not an event record: {e}")))?;
            if rec.seq <= last {
                continue;
            }
            last = rec.seq;
            self.pending.push_back(rec);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_comments_and_line_endings_split_anywhere() {
        let text = ": keep-alive\n\nevent: event\r\nid: 7\r\ndata: {\"a\":1}\r\n\r\n:\n\nid: 8\rdata: x\rdata: y\r\rretry: 10\nignored\n\n";
        let want = vec![
            SseEvent {
                event: "event".into(),
                id: Some("7".into()),
                data: "{\"a\":1}".into(),
            },
            SseEvent {
                event: String::new(),
                id: Some("8".into()),
                data: "x\ny".into(),
            },
        ];
        // Whole, and byte by byte (every split point, the \r\n pairs included).
        let mut p = SseParser::default();
        assert_eq!(p.feed(text.as_bytes()).unwrap(), want);
        let mut p = SseParser::default();
        let mut got = Vec::new();
        for b in text.as_bytes() {
            got.extend(p.feed(&[*b]).unwrap());
        }
        assert_eq!(got, want);
    }

    #[test]
    fn an_endless_line_is_an_error_not_a_memory_leak() {
        let mut p = SseParser::default();
        let chunk = vec![b'x'; 64 * 1024];
        let mut err = None;
        for _ in 0..20 {
            if let Err(e) = p.feed(&chunk) {
                err = Some(e);
                break;
            }
        }
        assert!(err.unwrap().contains("longer than"));
    }
}
