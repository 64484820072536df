//! The lab's processes: controllers and agents started detached (a session of their own,
//! stdin from /dev/null, stdout and stderr appended to a log), recognised later by pid and
//! start time (a pid alone may have been reused; a zombie counts as dead), and stopped by
//! process group. The agents' applications are found through the agents' pid files.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::daemon::exec::pgroup;
use crate::daemon::exec::process::PidRecord;

/// A process the lab started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proc {
    pub pid: i32,
    /// Clock ticks since boot, from /proc/PID/stat.
    pub start_time: u64,
}

impl Proc {
    /// Still the process the lab started: alive, not a zombie, same start time.
    pub fn alive(&self) -> bool {
        pgroup::stat(self.pid).is_some_and(|s| s.is_live() && s.start_time == self.start_time)
    }

    /// Signals its whole process group (it leads a session of its own) when it still runs.
    pub fn signal(&self, sig: i32) {
        if self.alive() {
            let _ = pgroup::signal_group(self.pid, sig);
        }
    }
}

/// Starts `argv` detached, its output appended to `log`.
pub fn spawn(argv: &[String], log: &Path) -> Result<Proc, String> {
    let (program, args) = argv.split_first().ok_or("nothing to start")?;
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open {}: {e}", log.display()))
    };
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(open()?).stderr(open()?);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e} (see {})", log.display()))?;
    let pid = child.id() as i32;
    let start_time = pgroup::stat(pid).map(|s| s.start_time).unwrap_or_default();
    Ok(Proc { pid, start_time })
}

/// The applications an agent with data directory `data` runs: (app, record).
pub fn apps(data: &Path) -> Vec<(String, PidRecord)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(data.join("apps")) else {
        return out;
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(app) = name.strip_suffix(".pid") else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        if let Ok(rec) = serde_json::from_str::<PidRecord>(&text) {
            out.push((app.to_string(), rec));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Waits up to `limit` until `done` holds; whether it did.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
