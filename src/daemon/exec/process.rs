//! Supervised application processes. An application starts from its `start` argv without
//! a shell, as the leader of a new process group, stdin from /dev/null and its output in
//! a bounded log (`apps/APP.log`, see [`super::log`]). Its exit is noticed at once: a task
//! waits on the child. Stop sends SIGTERM to the whole group, then SIGKILL after a grace;
//! kill sends SIGKILL to the group.
//!
//! A pid file (`apps/APP.pid`: pid, process group, boot id, start time, argv) lets a
//! restarted agent adopt an application that still runs instead of starting a second copy.
//! The process is the same one only if it is alive (a zombie is dead) and its start time
//! and boot id match: a pid alone may have been reused, and the command line is not
//! compared because programs rewrite it. An adopted process is not our child, so its exit
//! is watched through a pidfd (readable when the process exits, no polling), or by
//! polling /proc every 100 ms on a kernel without pidfd; its exit status is unknown.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::command::Exit;
use super::{log, pgroup};

/// Default size bound of an application's log (and of its one older generation).
pub const LOG_LIMIT: u64 = 1 << 20;
/// How often the log's size is checked.
const LOG_CHECK: Duration = Duration::from_secs(1);
/// How long to wait for a group to go after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("app `{app}`: the id cannot name a file")]
    BadId { app: String },
    #[error("app `{app}`: no start command")]
    NoStart { app: String },
    #[error("app `{app}`: {what} {path}: {source}")]
    File {
        app: String,
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("app `{app}`: cannot start `{program}`: {source}")]
    Spawn {
        app: String,
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("app `{app}`: cannot send {signal} to process group {pgid}: {source}")]
    Signal {
        app: String,
        signal: String,
        pgid: i32,
        #[source]
        source: std::io::Error,
    },
    #[error("app `{app}`: process group {pgid} still has processes {pids:?} after SIGKILL")]
    Unkillable { app: String, pgid: i32, pids: Vec<i32> },
}

/// What a pid file says: enough to recognise the process after an agent restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidRecord {
    pub pid: i32,
    pub pgid: i32,
    pub boot_id: String,
    /// Clock ticks since boot, from /proc/PID/stat.
    pub start_time: u64,
    pub argv: Vec<String>,
}

impl PidRecord {
    /// The record of the running process `pid`, or `None` when it is not alive.
    pub fn of(pid: i32, argv: &[String]) -> Option<PidRecord> {
        let st = pgroup::stat(pid).filter(|s| s.is_live())?;
        Some(PidRecord {
            pid,
            pgid: st.pgrp,
            boot_id: pgroup::boot_id().unwrap_or_default(),
            start_time: st.start_time,
            argv: argv.to_vec(),
        })
    }

    /// The recorded process still runs: alive, not a zombie, same boot and start time.
    pub fn still_runs(&self) -> bool {
        let Some(st) = pgroup::stat(self.pid) else {
            return false;
        };
        st.is_live() && st.start_time == self.start_time && pgroup::boot_id().unwrap_or_default() == self.boot_id
    }
}

/// Starts, adopts and stops applications, keeping their pid files and logs in one
/// directory.
#[derive(Clone, Debug)]
pub struct Supervisor {
    dir: PathBuf,
    log_limit: u64,
}

impl Supervisor {
    /// Keeps pid files and logs in `DATA/apps`, created if missing.
    pub fn new(data_dir: &Path) -> Result<Supervisor, ProcessError> {
        let dir = data_dir.join("apps");
        std::fs::create_dir_all(&dir).map_err(|source| ProcessError::File {
            app: String::new(),
            what: "cannot create the directory",
            path: dir.clone(),
            source,
        })?;
        Ok(Supervisor {
            dir,
            log_limit: LOG_LIMIT,
        })
    }

    /// Bounds each log file to `bytes` (default [`LOG_LIMIT`]).
    pub fn with_log_limit(mut self, bytes: u64) -> Supervisor {
        self.log_limit = bytes.max(1);
        self
    }

    pub fn pid_path(&self, app: &str) -> PathBuf {
        self.dir.join(format!("{app}.pid"))
    }

    pub fn log_path(&self, app: &str) -> PathBuf {
        self.dir.join(format!("{app}.log"))
    }

    /// The instance a previous agent started, if its pid file names a process that still
    /// runs. A pid file of a dead process (or unreadable) is removed.
    pub async fn adopt(&self, app: &str) -> Result<Option<AppProcess>, ProcessError> {
        check_id(app)?;
        let path = self.pid_path(app);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(file_err(app, "cannot read the pid file", &path, source)),
        };
        let record = serde_json::from_str::<PidRecord>(&text).ok();
        // Open the pidfd before checking identity: once open it names this process even
        // if the pid is reused later.
        let pidfd = record.as_ref().and_then(|r| pidfd_open(r.pid));
        match record {
            Some(r) if r.still_runs() && r.pgid > 1 => {
                let (tx, rx) = watch::channel(None);
                tokio::spawn(watch_adopted(
                    r.clone(),
                    pidfd,
                    path,
                    self.log_path(app),
                    self.log_limit,
                    tx,
                ));
                Ok(Some(AppProcess {
                    app: app.to_string(),
                    pid: r.pid,
                    pgid: r.pgid,
                    adopted: true,
                    exit: rx,
                }))
            }
            _ => {
                let _ = std::fs::remove_file(&path);
                Ok(None)
            }
        }
    }

    /// Adopts the running instance if there is one, otherwise starts `argv`.
    pub async fn start(&self, app: &str, argv: &[String]) -> Result<AppProcess, ProcessError> {
        if let Some(p) = self.adopt(app).await? {
            return Ok(p);
        }
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| ProcessError::NoStart { app: app.to_string() })?;
        let log_path = self.log_path(app);
        let _ = log::rotate_if_needed(&log_path, self.log_limit);
        let out = log::open_append(&log_path).map_err(|e| file_err(app, "cannot open the log", &log_path, e))?;
        let err = out
            .try_clone()
            .map_err(|e| file_err(app, "cannot open the log", &log_path, e))?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0)
            .kill_on_drop(false);
        let mut child = cmd.spawn().map_err(|source| ProcessError::Spawn {
            app: app.to_string(),
            program: program.clone(),
            source,
        })?;
        let pid = child.id().map_or(0, |p| p as i32);
        let pid_path = self.pid_path(app);
        // A process that cannot be adopted after an agent restart would run twice: refuse.
        // One that already exited needs no pid file; the watcher reports its exit.
        if let Some(record) = PidRecord::of(pid, argv)
            && let Err(source) = write_pid_file(&pid_path, &record)
        {
            let _ = pgroup::signal_group(pid, libc::SIGKILL);
            let _ = child.wait().await;
            return Err(file_err(app, "cannot write the pid file", &pid_path, source));
        }
        let (tx, rx) = watch::channel(None);
        let limit = self.log_limit;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LOG_CHECK);
            let status = loop {
                tokio::select! {
                    st = child.wait() => break st,
                    _ = tick.tick() => { let _ = log::rotate_if_needed(&log_path, limit); }
                }
            };
            remove_pid_file_of(&pid_path, pid);
            let exit = status.map_or(Exit::Unknown, Exit::from);
            let _ = tx.send(Some(exit));
        });
        Ok(AppProcess {
            app: app.to_string(),
            pid,
            pgid: pid,
            adopted: false,
            exit: rx,
        })
    }
}

/// A running (or exited) application instance; clones watch the same process.
#[derive(Clone, Debug)]
pub struct AppProcess {
    app: String,
    pid: i32,
    pgid: i32,
    adopted: bool,
    exit: watch::Receiver<Option<Exit>>,
}

impl AppProcess {
    pub fn app(&self) -> &str {
        &self.app
    }
    pub fn pid(&self) -> i32 {
        self.pid
    }
    /// Found running by its pid file rather than started by this agent.
    pub fn adopted(&self) -> bool {
        self.adopted
    }
    /// How it ended, if it has.
    pub fn exited(&self) -> Option<Exit> {
        *self.exit.borrow()
    }

    /// Waits for the process to end.
    pub async fn wait(&self) -> Exit {
        let mut rx = self.exit.clone();
        match rx.wait_for(|e| e.is_some()).await {
            Ok(e) => e.unwrap_or(Exit::Unknown),
            // The watcher is gone (runtime shutting down): nothing more will be known.
            Err(_) => Exit::Unknown,
        }
    }

    /// SIGTERM to the group; SIGKILL to whatever is left of it after `grace`. Returns once
    /// the leader has exited and the group has no living process.
    pub async fn stop(&self, grace: Duration) -> Result<Exit, ProcessError> {
        if self.exited().is_some() && pgroup::group_members(self.pgid).is_empty() {
            return Ok(self.wait().await);
        }
        self.signal(libc::SIGTERM)?;
        if tokio::time::timeout(grace, self.gone()).await.is_err() {
            self.signal(libc::SIGKILL)?;
            if tokio::time::timeout(KILL_WAIT, self.gone()).await.is_err() {
                return Err(ProcessError::Unkillable {
                    app: self.app.clone(),
                    pgid: self.pgid,
                    pids: pgroup::group_members(self.pgid),
                });
            }
        }
        Ok(self.wait().await)
    }

    /// SIGTERM to the whole group, without waiting (the agent core escalates to SIGKILL
    /// after its grace); the exit is reported by [`AppProcess::wait`].
    pub fn terminate(&self) -> Result<(), ProcessError> {
        self.signal(libc::SIGTERM)
    }

    /// SIGKILL to the whole group; the exit is reported by [`AppProcess::wait`].
    pub fn kill(&self) -> Result<(), ProcessError> {
        self.signal(libc::SIGKILL)
    }

    fn signal(&self, sig: i32) -> Result<(), ProcessError> {
        pgroup::signal_group(self.pgid, sig).map_err(|source| ProcessError::Signal {
            app: self.app.clone(),
            signal: pgroup::signal_name(sig),
            pgid: self.pgid,
            source,
        })
    }

    async fn gone(&self) {
        self.wait().await;
        pgroup::wait_group_empty(self.pgid).await;
    }
}

async fn watch_adopted(
    r: PidRecord,
    pidfd: Option<OwnedFd>,
    pid_path: PathBuf,
    log_path: PathBuf,
    limit: u64,
    tx: watch::Sender<Option<Exit>>,
) {
    let mut tick = tokio::time::interval(LOG_CHECK);
    let fd = pidfd.and_then(|fd| {
        // SAFETY: the OwnedFd is moved into the AsyncFd, stays open and names the same
        // pidfd for its whole life.
        unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }.ok()
    });
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            ready = async { fd.as_ref()?.readable().await.ok().map(drop) }, if fd.is_some() => {
                if ready.is_some() { break; }
            }
            _ = poll.tick(), if fd.is_none() => {
                if !r.still_runs() { break; }
            }
            _ = tick.tick() => { let _ = log::rotate_if_needed(&log_path, limit); }
        }
    }
    remove_pid_file_of(&pid_path, r.pid);
    let _ = tx.send(Some(Exit::Unknown));
}

fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    if pid <= 0 {
        return None;
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the descriptor was just returned to us and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    debug_assert!(fd.as_raw_fd() >= 0);
    Some(fd)
}

fn write_pid_file(path: &Path, r: &PidRecord) -> std::io::Result<()> {
    let tmp = path.with_extension("pid.tmp");
    std::fs::write(&tmp, serde_json::to_vec(r).map_err(std::io::Error::other)?)?;
    std::fs::rename(&tmp, path)
}

/// Removes the pid file only if it still names `pid` (a newer instance may own it).
fn remove_pid_file_of(path: &Path, pid: i32) {
    let names_pid = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<PidRecord>(&t).ok())
        .is_some_and(|r| r.pid == pid);
    if names_pid {
        let _ = std::fs::remove_file(path);
    }
}

fn check_id(app: &str) -> Result<(), ProcessError> {
    let ok = !app.is_empty()
        && app.len() <= 64
        && app.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && app.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ProcessError::BadId {
            app: app.escape_debug().to_string(),
        })
    }
}

fn file_err(app: &str, what: &'static str, path: &Path, source: std::io::Error) -> ProcessError {
    ProcessError::File {
        app: app.to_string(),
        what,
        path: path.to_path_buf(),
        source,
    }
}
