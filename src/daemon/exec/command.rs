//! Running one command to completion: argv without a shell, in a process group of its own,
//! stdin from /dev/null, stdout and stderr into one pipe (as `2>&1`: the lines keep the
//! order they were written in, which two pipes would lose) read line by line (long lines
//! clipped), every line optionally streamed through a bounded channel and the last few
//! kept, and a timeout after which the whole group is killed. Hooks, scripts and `exec`
//! probes are all this with different reporting.

use std::collections::VecDeque;
use std::fmt;
use std::os::fd::OwnedFd;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::pgroup;

/// Longest line kept, in bytes; the rest of a longer line is dropped and the line marked.
pub const MAX_LINE: usize = 4096;

/// How long the output is still read after the command exited, in case a background
/// child of it holds the pipes open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// Only its parent could read its status (an adopted process).
    Unknown,
}

impl From<ExitStatus> for Exit {
    fn from(s: ExitStatus) -> Exit {
        use std::os::unix::process::ExitStatusExt;
        match (s.code(), s.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Unknown,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by {}", pgroup::signal_name(*s)),
            Exit::Unknown => f.write_str("exited (status unknown: not our child)"),
        }
    }
}

/// One line of output (stdout or stderr), without its line end, decoded lossily as UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// The line was longer than [`MAX_LINE`] bytes and was cut.
    pub clipped: bool,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Exited(Exit),
    /// Still running at the timeout: its process group was killed.
    TimedOut,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub duration: Duration,
    /// The last lines of output.
    pub tail: Vec<Line>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status == Status::Exited(Exit::Code(0))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("empty command")]
    Empty,
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot wait for `{program}`: {source}")]
    Wait {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// What to do with the output of a run.
#[derive(Debug, Default)]
pub struct Output {
    /// Every line is sent here; a full channel slows the command down (back-pressure), a
    /// closed one is ignored.
    pub lines: Option<mpsc::Sender<Line>>,
    /// How many of the last lines to keep in [`Outcome::tail`].
    pub tail: usize,
}

/// Runs `argv` (no shell, no `PATH` rules beyond the OS's own for a bare name) with
/// `extra_args` appended, kills its process group at `timeout`.
pub async fn run(
    argv: &[String],
    extra_args: &[String],
    timeout: Duration,
    out: Output,
) -> Result<Outcome, CommandError> {
    let (program, args) = argv.split_first().ok_or(CommandError::Empty)?;
    let spawn_err = |source| CommandError::Spawn {
        program: program.clone(),
        source,
    };
    let (reader, writer) = std::io::pipe().map_err(spawn_err)?;
    let writer2 = writer.try_clone().map_err(spawn_err)?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer2))
        .process_group(0)
        .kill_on_drop(true);
    let started = Instant::now();
    let spawned = cmd.spawn();
    // The command keeps our copies of the pipe's write end: drop them, or no end of
    // output would ever be seen.
    drop(cmd);
    let mut child = spawned.map_err(spawn_err)?;
    let pgid = child.id().map_or(0, |p| p as i32);
    let sink = Sink {
        tail: Mutex::new(VecDeque::new()),
        keep: out.tail,
    };
    let reader = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(reader)).ok();
    let readers = read_lines(reader, &sink, out.lines);
    let mut exited: Option<std::io::Result<ExitStatus>> = None;
    let work = async {
        tokio::pin!(readers);
        tokio::select! {
            st = child.wait() => {
                exited = Some(st);
                let _ = tokio::time::timeout(DRAIN_AFTER_EXIT, &mut readers).await;
            }
            _ = &mut readers => {
                exited = Some(child.wait().await);
            }
        }
    };
    let in_time = tokio::time::timeout(timeout, work).await.is_ok();
    let status = match exited {
        Some(Ok(st)) => Status::Exited(st.into()),
        Some(Err(source)) => {
            let _ = pgroup::signal_group(pgid, libc::SIGKILL);
            return Err(CommandError::Wait {
                program: program.clone(),
                source,
            });
        }
        None => {
            debug_assert!(!in_time);
            let _ = pgroup::signal_group(pgid, libc::SIGKILL);
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            Status::TimedOut
        }
    };
    let tail = sink.tail.into_inner().map(Vec::from).unwrap_or_default();
    Ok(Outcome {
        status,
        duration: started.elapsed(),
        tail,
    })
}

struct Sink {
    tail: Mutex<VecDeque<Line>>,
    keep: usize,
}

impl Sink {
    fn keep(&self, line: &Line) {
        if self.keep == 0 {
            return;
        }
        if let Ok(mut t) = self.tail.lock() {
            if t.len() == self.keep {
                t.pop_front();
            }
            t.push_back(line.clone());
        }
    }
}

async fn read_lines(r: Option<impl AsyncRead + Unpin>, sink: &Sink, mut tx: Option<mpsc::Sender<Line>>) {
    let Some(mut r) = r else { return };
    let mut buf = vec![0u8; 8192];
    let mut splitter = LineSplitter::default();
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for (text, clipped) in splitter.push(&buf[..n]) {
            emit(text, clipped, sink, &mut tx).await;
        }
    }
    if let Some((text, clipped)) = splitter.finish() {
        emit(text, clipped, sink, &mut tx).await;
    }
}

async fn emit(text: String, clipped: bool, sink: &Sink, tx: &mut Option<mpsc::Sender<Line>>) {
    let line = Line { text, clipped };
    sink.keep(&line);
    if let Some(s) = tx
        && s.send(line).await.is_err()
    {
        *tx = None;
    }
}

/// Splits bytes into lines of at most [`MAX_LINE`] bytes, dropping `\r` before `\n`.
#[derive(Default)]
pub(crate) struct LineSplitter {
    line: Vec<u8>,
    clipped: bool,
}

impl LineSplitter {
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<(String, bool)> {
        let mut done = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                done.push(self.take());
            } else if self.line.len() < MAX_LINE {
                self.line.push(b);
            } else {
                self.clipped = true;
            }
        }
        done
    }

    pub(crate) fn finish(&mut self) -> Option<(String, bool)> {
        (!self.line.is_empty() || self.clipped).then(|| self.take())
    }

    fn take(&mut self) -> (String, bool) {
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        let text = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        (text, std::mem::take(&mut self.clipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_clipped_and_the_last_one_kept() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"a\r\nb"), vec![("a".to_string(), false)]);
        let long = vec![b'x'; MAX_LINE + 10];
        let got = s.push(&long);
        assert!(got.is_empty());
        let got = s.push(b"\nend");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.len(), MAX_LINE);
        assert!(got[0].1);
        assert_eq!(s.finish(), Some(("end".to_string(), false)));
        assert_eq!(s.finish(), None);
    }

    #[tokio::test]
    async fn output_and_exit_code_are_reported() {
        let argv = ["/bin/sh", "-c", "echo one; echo two >&2; exit 3"].map(String::from);
        let o = run(&argv, &[], Duration::from_secs(5), Output { lines: None, tail: 10 })
            .await
            .unwrap();
        assert_eq!(o.status, Status::Exited(Exit::Code(3)));
        let texts: Vec<&str> = o.tail.iter().map(|l| l.text.as_str()).collect();
        assert!(texts.contains(&"one") && texts.contains(&"two"), "{texts:?}");
    }

    #[tokio::test]
    async fn a_missing_program_is_an_error_naming_it() {
        let e = run(
            &["/nonexistent/prog".to_string()],
            &[],
            Duration::from_secs(1),
            Output::default(),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/prog"), "{e}");
        assert!(matches!(
            run(&[], &[], Duration::from_secs(1), Output::default()).await,
            Err(CommandError::Empty)
        ));
    }
}
