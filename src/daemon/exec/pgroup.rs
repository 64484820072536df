//! Process groups and what /proc says about a process: signals to a whole group (never to
//! pid 0, 1 or -1), whether a pid is alive (an unreaped zombie is dead, although `kill -0`
//! still succeeds on it), its start time (which with the boot id names one process for
//! good, unlike a pid that the kernel reuses) and which living processes a group holds.

use std::io;
use std::time::Duration;

/// The fields of `/proc/PID/stat` the executors need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    /// `R`, `S`, `D`, `T`, `Z` (zombie), `X` (dead)...
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    /// Start time in clock ticks since boot.
    pub start_time: u64,
}

impl ProcStat {
    /// Running or able to run: neither a zombie nor dead.
    pub fn is_live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Parses the text of `/proc/PID/stat`. The command name may hold spaces and parentheses,
/// so the fields are counted after its last `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // After the name: state(3) ppid(4) pgrp(5) ... starttime(22), 1-based as in proc(5).
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// The process's stat, or `None` when there is no such process (or it cannot be read).
pub fn stat(pid: i32) -> Option<ProcStat> {
    if pid <= 0 {
        return None;
    }
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The process exists and is not a zombie.
pub fn is_alive(pid: i32) -> bool {
    stat(pid).is_some_and(|s| s.is_live())
}

/// The process's argv as the kernel shows it (the program may have rewritten it).
pub fn cmdline(pid: i32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
    )
}

/// This boot's id: start times count from boot, so a pid file names its process by
/// (boot id, pid, start time).
pub fn boot_id() -> Option<String> {
    Some(
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()?
            .trim()
            .to_string(),
    )
}

/// Living (not zombie) processes whose process group is `pgid`, found by scanning /proc.
/// `kill(-pgid, 0)` is not enough: it succeeds while an orphaned member waits, as a
/// zombie, for a parent that does not reap it.
pub fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| stat(*pid).is_some_and(|s| s.pgrp == pgid && s.is_live()))
        .collect()
}

/// Sends `sig` to every process of group `pgid`. A group that no longer exists is not an
/// error. Refuses pgid 0 and 1 (its own group, init) so that a wrong pid can never signal
/// the agent itself or the whole machine.
pub fn signal_group(pgid: i32, sig: i32) -> io::Result<()> {
    if pgid <= 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to signal process group {pgid}"),
        ));
    }
    // SAFETY: kill has no memory effects; the target is a process group id above 1.
    if unsafe { libc::kill(-pgid, sig) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(e)
    }
}

/// Waits until group `pgid` has no living member, polling /proc every 20 ms (bound it
/// with a timeout).
pub async fn wait_group_empty(pgid: i32) {
    while !group_members(pgid).is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The signal's short name for messages (`SIGTERM`), or its number.
pub fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGHUP => "SIGHUP".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGQUIT => "SIGQUIT".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGPIPE => "SIGPIPE".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGUSR1 => "SIGUSR1".into(),
        libc::SIGUSR2 => "SIGUSR2".into(),
        n => format!("signal {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_parentheses_and_spaces_in_the_name() {
        let line = "4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        let s = parse_stat(line).unwrap();
        assert_eq!(
            s,
            ProcStat {
                state: 'S',
                ppid: 1,
                pgrp: 4242,
                start_time: 987654
            }
        );
        assert!(s.is_live());
        let z = parse_stat("7 (x) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0").unwrap();
        assert!(!z.is_live());
    }

    #[test]
    fn short_or_garbled_stat_is_none() {
        for bad in ["", "12", "12 (x)", "12 (x) S 1 2", "12 (x) S a b c", "(((("] {
            assert_eq!(parse_stat(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn own_process_is_alive_and_its_group_is_not_signalled_by_mistake() {
        let me = std::process::id() as i32;
        assert!(is_alive(me));
        assert!(stat(me).unwrap().start_time > 0);
        assert!(!is_alive(0));
        assert!(!is_alive(-5));
        assert!(signal_group(0, 0).is_err());
        assert!(signal_group(1, 0).is_err());
        assert!(signal_group(-3, 0).is_err());
        assert!(boot_id().is_some_and(|b| !b.is_empty()));
    }
}
