//! End to end: the real binary inside tmux at 80x24. Switches a pair over with keys,
//! checks the screen, quits, and checks that the shell is usable again (echo and canonical
//! mode restored, the alternate screen left). Skips with a message when tmux is absent.

use std::process::Command;
use std::time::{Duration, Instant};

/// `tmux ARGS`, with a usable TERM even where the test runner has none (CI).
pub fn tmux_cmd() -> Command {
    let mut c = Command::new("tmux");
    if std::env::var("TERM").map_or(true, |t| t.is_empty() || t == "dumb") {
        c.env("TERM", "xterm-256color");
    }
    c
}

pub fn tmux(args: &[&str]) -> String {
    let out = tmux_cmd().args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn wait_for(session: &str, what: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session]);
        if screen.contains(what) {
            return screen;
        }
        if Instant::now() > deadline {
            let _ = tmux(&["kill-session", "-t", session]);
            panic!("`{what}` did not appear within {secs}s; screen:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub struct Session(pub String);
impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux_cmd().args(["kill-session", "-t", &self.0]).output();
    }
}

#[test]
fn the_binary_switches_a_pair_over_in_tmux_and_restores_the_shell() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed; the end-to-end console test needs it");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_hactl");
    let session = format!("hactl-e2e-{}", std::process::id());
    let _s = Session(session.clone());
    let out = tmux_cmd()
        .args(["new-session", "-d", "-s", &session, "-x", "80", "-y", "24", "sh"])
        .env("PS1", "$ ")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = tmux(&["set-option", "-t", &session, "status", "off"]);
    let _ = tmux(&[
        "send-keys",
        "-t",
        &session,
        &format!("USER=e2e {bin} drill --speed 10"),
        "Enter",
    ]);
    wait_for(&session, "pairs redundant", 40);
    let screen = wait_for(&session, "DRILL", 5);
    assert!(screen.contains("op e2e"), "{screen}");
    let _ = tmux(&["send-keys", "-t", &session, "s"]);
    wait_for(&session, ">[ Cancel ]<", 15);
    let _ = tmux(&["send-keys", "-t", &session, "Right"]);
    let _ = tmux(&["send-keys", "-t", &session, "Enter"]);
    // The status line, not the plan's text (which also says `on east-sip2`).
    wait_for(&session, "switchover of east-sip completed", 40);
    let screen = wait_for(&session, "on east-sip2", 10);
    let row = screen.lines().find(|l| l.contains(" east-sip ")).unwrap_or_default();
    let words: Vec<&str> = row.split_whitespace().collect();
    let at = |w: &str| words.iter().position(|x| *x == w);
    assert!(
        at("east-sip-b").is_some() && at("east-sip-b") < at("east-sip-a"),
        "primary is east-sip-b:\n{screen}"
    );
    let _ = tmux(&["send-keys", "-t", &session, "q"]);
    // Wait until the console has left the alternate screen, or the keys below would
    // reach it instead of the shell.
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux(&["capture-pane", "-p", "-t", &session]).contains("DRILL ▒") {
        assert!(Instant::now() < deadline, "the console did not quit on q");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = tmux(&[
        "send-keys",
        "-t",
        &session,
        "stty -a | tr ' ' '\\n' | grep -xE -- '-?(echo|icanon)' | tr '\\n' ' '; echo; echo shell-ok-$((40+2))",
        "Enter",
    ]);
    let screen = wait_for(&session, "shell-ok-42", 20);
    assert!(!screen.contains("DRILL ▒"), "left the alternate screen:\n{screen}");
    assert!(
        screen.contains("echo") && !screen.contains("-echo"),
        "echo restored:\n{screen}"
    );
    assert!(
        screen.contains("icanon") && !screen.contains("-icanon"),
        "canonical mode restored:\n{screen}"
    );
}

/// Regression: a read on a hung-up terminal kept the input reader spinning, so consoles
/// whose tmux session was killed ran on forever at full speed. And a console stopped by a
/// signal exits with the conventional 128 + the signal's number (143 for SIGTERM), not 0.
#[test]
fn the_console_exits_when_its_terminal_goes_away_or_on_sigterm() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed; the end-to-end console test needs it");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_hactl");
    let gone = |pid: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.contains(") Z ") {
                break; // exited, not yet reaped
            }
            if Instant::now() > deadline {
                let _ = Command::new("kill").args(["-9", pid]).output();
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        true
    };
    for how in ["hangup", "sigterm", "sighup"] {
        let session = format!("hactl-e2e-{how}-{}", std::process::id());
        let mut s = Some(Session(session.clone()));
        // A shell runs the console in the foreground and writes its exit status to a file.
        let status_file = std::env::temp_dir().join(format!("{session}.status"));
        let _ = std::fs::remove_file(&status_file);
        let script = format!("\"$0\" drill; echo $? > '{}'", status_file.display());
        tmux(&[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "80",
            "-y",
            "24",
            "sh",
            "-c",
            &script,
            bin,
        ]);
        wait_for(&session, "DRILL", 20);
        let shell = tmux(&["list-panes", "-t", &session, "-F", "#{pane_pid}"])
            .trim()
            .to_string();
        let pid = String::from_utf8_lossy(&Command::new("pgrep").args(["-P", &shell]).output().unwrap().stdout)
            .trim()
            .to_string();
        assert!(!pid.is_empty() && !pid.contains('\n'), "the console's pid: {pid:?}");
        match how {
            "hangup" => drop(s.take()),
            "sigterm" => drop(Command::new("kill").args(["-TERM", &pid]).output()),
            _ => drop(Command::new("kill").args(["-HUP", &pid]).output()),
        }
        assert!(gone(&pid), "the console kept running after {how}");
        if how == "hangup" {
            continue;
        }
        let want = if how == "sigterm" { "143" } else { "129" };
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            let st = std::fs::read_to_string(&status_file).unwrap_or_default();
            if !st.trim().is_empty() || Instant::now() > deadline {
                break st;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let _ = std::fs::remove_file(&status_file);
        assert_eq!(status.trim(), want, "exit status after {how}");
        drop(s);
    }
}
