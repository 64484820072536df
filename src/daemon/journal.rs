//! The controller's journal: one SQLite database (WAL, `synchronous=FULL`) in the data
//! directory holding every event, every operator action and the engine's durable state.
//!
//! The controller commits one [`Batch`] per engine step (or per burst of steps: group
//! commit, one fsync for all of them) *before* it sends the commands the step produced and
//! before it answers the API call that caused it, so anything acknowledged survives
//! `kill -9` and power loss. Retention is bounded by a count of events and an age; the
//! durable state is one row, replaced.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::engine::Durable;
use crate::wire::EventRecord;

const SCHEMA_VERSION: i64 = 1;

/// How much history the journal keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// At most this many events (the oldest are pruned first).
    pub max_events: u64,
    /// Events and actions older than this many milliseconds are pruned.
    pub max_age_ms: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_events: 1_000_000,
            max_age_ms: 90 * 24 * 3600 * 1000,
        }
    }
}

/// One operator action: who, from where, what, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub t_ms: u64,
    pub operator: String,
    pub role: String,
    pub from: Option<String>,
    pub request_id: Option<String>,
    pub reason: Option<String>,
    /// The request as received (JSON).
    pub command: String,
    /// `accepted <correlation>`, `refused: <why>`, or `dry-run`.
    pub outcome: String,
}

/// What one commit writes, atomically.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub events: Vec<EventRecord>,
    pub actions: Vec<ActionRecord>,
    pub durable: Option<Durable>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.actions.is_empty() && self.durable.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("journal {path}: {detail}")]
    Invalid { path: String, detail: String },
    #[error("journal directory {path}: {source}")]
    Dir {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The writer's connection.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    retention: Retention,
    commits: u64,
    /// Sum and max of commit latencies, for `/metrics`.
    pub commit_seconds_sum: f64,
    pub commit_seconds_max: f64,
    pub commit_count: u64,
}

/// The database file for `site` in `dir`.
pub fn path_in(dir: &Path, site: &str) -> PathBuf {
    dir.join(format!("journal-{site}.sqlite"))
}

impl Journal {
    /// Opens (creating if needed) the journal of `site` in `dir`. Refuses a journal written
    /// for another site or by a newer schema.
    pub fn open(dir: &Path, site: &str, retention: Retention) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(|source| JournalError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
        let path = path_in(dir, site);
        let p = path.display().to_string();
        let sql = |source| JournalError::Sqlite {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS events (
                 seq INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL, id TEXT NOT NULL,
                 record TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS events_t ON events (t_ms);
             CREATE TABLE IF NOT EXISTS actions (
                 n INTEGER PRIMARY KEY AUTOINCREMENT, t_ms INTEGER NOT NULL,
                 operator TEXT NOT NULL, role TEXT NOT NULL, from_addr TEXT,
                 request_id TEXT, reason TEXT, command TEXT NOT NULL, outcome TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .map_err(sql)?;
        let get = |k: &str| -> Result<Option<String>, JournalError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()
                .map_err(sql)
        };
        match get("site")? {
            Some(s) if s != site => {
                return Err(JournalError::Invalid {
                    path: p,
                    detail: format!("written by the controller of site `{s}`, not `{site}`"),
                });
            }
            Some(_) => {}
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('site', ?1)", [site])
                    .map_err(sql)?;
            }
        }
        match get("schema")?.map(|v| v.parse::<i64>()) {
            Some(Ok(v)) if v > SCHEMA_VERSION => {
                return Err(JournalError::Invalid {
                    path: p,
                    detail: format!("schema {v} is newer than this hactl understands ({SCHEMA_VERSION})"),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(_)) => {
                return Err(JournalError::Invalid {
                    path: p,
                    detail: "its schema version is not a number".into(),
                });
            }
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )
                .map_err(sql)?;
            }
        }
        Ok(Journal {
            conn,
            path,
            retention,
            commits: 0,
            commit_seconds_sum: 0.0,
            commit_seconds_max: 0.0,
            commit_count: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// The highest event sequence number written, 0 for an empty journal.
    pub fn last_seq(&self) -> Result<u64, JournalError> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|v| v.max(0) as u64)
            .map_err(|e| self.sql(e))
    }

    /// The durable engine state last committed.
    pub fn durable(&self) -> Result<Option<Durable>, JournalError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM state WHERE key = 'engine'", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql(e))?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| JournalError::Invalid {
                path: self.path.display().to_string(),
                detail: format!("the engine state does not parse: {e}"),
            })
        })
        .transpose()
    }

    /// Writes a batch in one transaction, durably, and prunes by retention now and then.
    pub fn commit(&mut self, batch: &Batch) -> Result<(), JournalError> {
        if batch.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let tx = self.conn.transaction().map_err(|source| JournalError::Sqlite {
            path: self.path.display().to_string(),
            source,
        })?;
        let path = self.path.display().to_string();
        let sql = |source| JournalError::Sqlite {
            path: path.clone(),
            source,
        };
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO events (seq, t_ms, id, record) VALUES (?1, ?2, ?3, ?4)")
                .map_err(sql)?;
            for e in &batch.events {
                let json = serde_json::to_string(e).unwrap_or_default();
                ins.execute(params![e.seq as i64, e.t_ms as i64, e.id.code(), json])
                    .map_err(sql)?;
            }
            let mut act = tx
                .prepare_cached(
                    "INSERT INTO actions (t_ms, operator, role, from_addr, request_id, reason, command, outcome)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(sql)?;
            for a in &batch.actions {
                act.execute(params![
                    a.t_ms as i64,
                    a.operator,
                    a.role,
                    a.from,
                    a.request_id,
                    a.reason,
                    a.command,
                    a.outcome
                ])
                .map_err(sql)?;
            }
            if let Some(d) = &batch.durable {
                let json = serde_json::to_string(d).unwrap_or_default();
                tx.execute(
                    "INSERT INTO state (key, value) VALUES ('engine', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [json],
                )
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        let took = started.elapsed().as_secs_f64();
        self.commit_seconds_sum += took;
        self.commit_seconds_max = self.commit_seconds_max.max(took);
        self.commit_count += 1;
        self.commits += 1;
        if self.commits.is_multiple_of(256) {
            let now = batch.events.last().map(|e| e.t_ms);
            self.prune(now)?;
        }
        Ok(())
    }

    /// Drops what retention no longer keeps.
    pub fn prune(&mut self, now_ms: Option<u64>) -> Result<(), JournalError> {
        let r = self.retention;
        let last = self.last_seq()?;
        let keep_from = last.saturating_sub(r.max_events) as i64;
        self.conn
            .execute("DELETE FROM events WHERE seq <= ?1", [keep_from])
            .map_err(|e| self.sql(e))?;
        if let Some(now) = now_ms {
            let before = now.saturating_sub(r.max_age_ms) as i64;
            self.conn
                .execute("DELETE FROM events WHERE t_ms < ?1", [before])
                .map_err(|e| self.sql(e))?;
            self.conn
                .execute("DELETE FROM actions WHERE t_ms < ?1", [before])
                .map_err(|e| self.sql(e))?;
        }
        Ok(())
    }
}

/// A read-only view of a journal, for API reads (paging, stream backlog) concurrent with
/// the writer (WAL readers never block it).
pub struct Reader {
    conn: Connection,
    path: String,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader, JournalError> {
        let p = path.display().to_string();
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|source| JournalError::Sqlite {
                    path: p.clone(),
                    source,
                })?;
        let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
        Ok(Reader { conn, path: p })
    }

    fn sql(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Up to `limit` events with `seq > after`, oldest first.
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<EventRecord>, JournalError> {
        self.events_where(
            "SELECT record FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            after,
            limit,
        )
    }

    /// The newest `limit` events with `seq < before`, oldest first (paging back from
    /// the end: `before` past the last `seq` gives the last events).
    pub fn events_before(&self, before: u64, limit: usize) -> Result<Vec<EventRecord>, JournalError> {
        self.events_where(
            "SELECT record FROM (SELECT seq, record FROM events WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2) ORDER BY seq",
            before,
            limit,
        )
    }

    fn events_where(&self, sql: &str, cursor: u64, limit: usize) -> Result<Vec<EventRecord>, JournalError> {
        let mut st = self.conn.prepare_cached(sql).map_err(|e| self.sql(e))?;
        let rows = st
            .query_map(params![cursor.min(i64::MAX as u64) as i64, limit as i64], |r| {
                r.get::<_, String>(0)
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let text = row.map_err(|e| self.sql(e))?;
            match serde_json::from_str(&text) {
                Ok(rec) => out.push(rec),
                Err(e) => {
                    return Err(JournalError::Invalid {
                        path: self.path.clone(),
                        detail: format!("an event does not parse: {e}"),
                    });
                }
            }
        }
        Ok(out)
    }

    /// The oldest sequence number still kept (after pruning), if any.
    pub fn first_seq(&self) -> Result<Option<u64>, JournalError> {
        self.conn
            .query_row("SELECT MIN(seq) FROM events", [], |r| r.get::<_, Option<i64>>(0))
            .map(|v| v.map(|v| v.max(0) as u64))
            .map_err(|e| self.sql(e))
    }

    /// Operator actions, newest last.
    pub fn actions(&self, limit: usize) -> Result<Vec<ActionRecord>, JournalError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT t_ms, operator, role, from_addr, request_id, reason, command, outcome
                 FROM actions ORDER BY n DESC LIMIT ?1",
            )
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(ActionRecord {
                    t_ms: r.get::<_, i64>(0)?.max(0) as u64,
                    operator: r.get(1)?,
                    role: r.get(2)?,
                    from: r.get(3)?,
                    request_id: r.get(4)?,
                    reason: r.get(5)?,
                    command: r.get(6)?,
                    outcome: r.get(7)?,
                })
            })
            .map_err(|e| self.sql(e))?;
        let mut out: Vec<ActionRecord> = rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))?;
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64) -> EventRecord {
        EventRecord {
            site: "east".into(),
            seq,
            t_ms: 1000 + seq,
            id: crate::engine::EventId::SwitchoverRequested,
            severity: crate::engine::Severity::Info,
            source: "pair:p".into(),
            subject: "pair:p".into(),
            correlation: Some("east-1".into()),
            message: format!("event {seq}"),
            attrs: Default::default(),
        }
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hactl-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn events_actions_and_state_come_back_after_reopening() {
        let d = dir("reopen");
        let mut j = Journal::open(&d, "east", Retention::default()).unwrap();
        let durable = Durable {
            next_correlation: 7,
            ..Durable::default()
        };
        j.commit(&Batch {
            events: (1..=3).map(rec).collect(),
            actions: vec![ActionRecord {
                t_ms: 5,
                operator: "alice".into(),
                role: "operator".into(),
                from: Some("192.0.2.1".into()),
                request_id: Some("r1".into()),
                reason: None,
                command: "{}".into(),
                outcome: "accepted east-1".into(),
            }],
            durable: Some(durable.clone()),
        })
        .unwrap();
        drop(j);
        let j = Journal::open(&d, "east", Retention::default()).unwrap();
        assert_eq!(j.last_seq().unwrap(), 3);
        assert_eq!(j.durable().unwrap(), Some(durable));
        let r = Reader::open(j.path()).unwrap();
        assert_eq!(r.events_after(1, 10).unwrap(), vec![rec(2), rec(3)]);
        assert_eq!(r.actions(10).unwrap()[0].operator, "alice");
        drop(r);
        drop(j);
        // A journal file of another site, put in place by mistake, is refused.
        std::fs::rename(path_in(&d, "east"), path_in(&d, "west")).unwrap();
        let e = Journal::open(&d, "west", Retention::default()).err().unwrap();
        assert!(
            e.to_string().contains("written by the controller of site `east`"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn retention_keeps_the_newest_events() {
        let d = dir("retention");
        let mut j = Journal::open(
            &d,
            "east",
            Retention {
                max_events: 5,
                max_age_ms: u64::MAX,
            },
        )
        .unwrap();
        j.commit(&Batch {
            events: (1..=12).map(rec).collect(),
            ..Batch::default()
        })
        .unwrap();
        j.prune(None).unwrap();
        let r = Reader::open(j.path()).unwrap();
        assert_eq!(r.first_seq().unwrap(), Some(8));
        assert_eq!(r.events_after(0, 100).unwrap().len(), 5);
        let _ = std::fs::remove_dir_all(&d);
    }
}
