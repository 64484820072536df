//! Helpers of the live commands' tests: token files as an operator keeps them (mode 600),
//! `hactl` run with a clean environment (no config file, no HACTL_* of the machine) and a
//! bound on its time, and a follower process whose output lines are collected as they come.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::harness::{OPERATOR, VIEWER};

/// `DIR/NAME.token` holding `secret`, mode 600.
pub fn token_file(dir: &Path, name: &str, secret: &str) -> PathBuf {
    let p = dir.join(format!("{name}.token"));
    std::fs::write(&p, format!("{secret}\n")).expect("token file");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    p
}

/// The operator's and the viewer's token files.
pub fn tokens(dir: &Path) -> (String, String) {
    (
        token_file(dir, "operator", OPERATOR).display().to_string(),
        token_file(dir, "viewer", VIEWER).display().to_string(),
    )
}

/// `hactl ARGS` with only `env` (and a HOME without a configuration file).
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hactl"));
    cmd.args(args)
        .env_clear()
        .env("HOME", "/nonexistent-home-of-hactl-tests")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs a prepared command to its end, failing the test after `secs`.
pub fn output_within(cmd: Command, secs: u64) -> Output {
    output_with_input(cmd, secs, None)
}

/// The same, typing `input` on its standard input (kept open until it ends).
fn output_with_input(mut cmd: Command, secs: u64, input: Option<&str>) -> Output {
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hactl");
    let _stdin = input.map(|text| {
        let mut w = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut w, text.as_bytes()).expect("type");
        w
    });
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).ok();
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).ok();
        v
    });
    let end = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("hactl did not end within {secs}s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
    }
}

/// `hactl ARGS` with `env`, off the async runtime, bounded to 60 s.
pub async fn hactl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let cmd = command(args, env);
    tokio::task::spawn_blocking(move || output_within(cmd, 60))
        .await
        .expect("join")
}

/// `hactl ARGS` on a terminal (a pseudo-terminal of `script`), `input` typed; its output
/// (standard output and error, and the echo of what was typed) is the Output's stdout.
pub async fn in_terminal(args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    let line = std::iter::once(env!("CARGO_BIN_EXE_hactl"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("HOME", "/nonexistent-home-of-hactl-tests");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let input = input.to_string();
    tokio::task::spawn_blocking(move || output_with_input(cmd, 60, Some(&input)))
        .await
        .expect("join")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts the exit code, showing both outputs when it differs.
pub fn assert_code(o: &Output, code: i32, what: &str) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "{what}\nstdout:\n{}\nstderr:\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// Standard error is one line that contains `needle` (and no panic).
pub fn assert_one_line(o: &Output, needle: &str) {
    let err = text(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "`{needle}` not in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A running `hactl` whose standard output lines arrive on a channel.
pub struct Follower {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Follower {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Follower {
        let mut child = command(args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hactl");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Follower {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Collects lines until `done` holds for what was seen, or fails after `secs`.
    pub fn until(&mut self, secs: u64, what: &str, done: impl Fn(&[String]) -> bool) {
        tokio::task::block_in_place(|| self.wait_for(secs, what, done));
    }

    fn wait_for(&mut self, secs: u64, what: &str, done: impl Fn(&[String]) -> bool) {
        let end = Instant::now() + Duration::from_secs(secs);
        while !done(&self.seen) {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(l) => self.seen.push(l),
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < end => {}
                Err(_) => panic!("timed out waiting for {what}; seen:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Ctrl-C, then the exit code (failing after 10 s).
    pub fn interrupt(&mut self) -> Option<i32> {
        tokio::task::block_in_place(|| self.stop())
    }

    fn stop(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s.code();
            }
            assert!(Instant::now() < end, "hactl did not stop on Ctrl-C");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
