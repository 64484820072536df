//! Supervised applications: the whole process group stops, a SIGTERM-ignoring app is
//! killed after the grace, exits are seen at once with their code, logs stay bounded, and
//! a restarted agent adopts what still runs but not a dead or zombie process.

use std::time::{Duration, Instant};

use hactl::daemon::exec::command::Exit;
use hactl::daemon::exec::pgroup;
use hactl::daemon::exec::process::{PidRecord, Supervisor};

use super::harness::{TempDir, group_alive};

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Waits until the group has at least `n` living members.
async fn members_at_least(pgid: i32, n: usize) {
    for _ in 0..200 {
        if group_alive(pgid).len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("group {pgid} never had {n} members: {:?}", group_alive(pgid));
}

#[tokio::test]
async fn stop_ends_every_process_of_the_group() {
    let dir = TempDir::new();
    let sup = Supervisor::new(dir.path()).unwrap();
    let p = sup
        .start("sip-a", &argv(&["sh", "-c", "sleep 100 & sleep 100"]))
        .await
        .unwrap();
    assert!(!p.adopted());
    assert_eq!(pgroup::stat(p.pid()).unwrap().pgrp, p.pid(), "leads its own group");
    members_at_least(p.pid(), 3).await;
    assert!(sup.pid_path("sip-a").exists());
    let exit = p.stop(Duration::from_secs(5)).await.unwrap();
    assert_eq!(exit, Exit::Signal(libc::SIGTERM));
    assert!(group_alive(p.pid()).is_empty(), "{:?}", group_alive(p.pid()));
    assert!(!sup.pid_path("sip-a").exists(), "the pid file goes with the process");
}

#[tokio::test]
async fn an_app_ignoring_sigterm_is_killed_after_the_grace() {
    let dir = TempDir::new();
    let sup = Supervisor::new(dir.path()).unwrap();
    let p = sup
        .start(
            "stubborn",
            &argv(&["sh", "-c", "trap '' TERM; sleep 100 & wait; sleep 100"]),
        )
        .await
        .unwrap();
    members_at_least(p.pid(), 2).await;
    let t = Instant::now();
    let exit = p.stop(Duration::from_millis(400)).await.unwrap();
    let took = t.elapsed();
    assert_eq!(exit, Exit::Signal(libc::SIGKILL));
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(group_alive(p.pid()).is_empty());
}

#[tokio::test]
async fn kill_sends_sigkill_to_the_group_and_the_exit_is_seen_at_once() {
    let dir = TempDir::new();
    let sup = Supervisor::new(dir.path()).unwrap();
    let p = sup
        .start("k", &argv(&["sh", "-c", "sleep 100 & sleep 100"]))
        .await
        .unwrap();
    members_at_least(p.pid(), 3).await;
    let t = Instant::now();
    p.kill().unwrap();
    assert_eq!(p.wait().await, Exit::Signal(libc::SIGKILL));
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    tokio::time::timeout(Duration::from_secs(2), async {
        while !group_alive(p.pid()).is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the whole group is gone");
}

#[tokio::test]
async fn an_exit_code_and_the_output_reach_the_report_and_the_log() {
    let dir = TempDir::new();
    let sup = Supervisor::new(dir.path()).unwrap();
    let p = sup
        .start("crashy", &argv(&["sh", "-c", "echo started; echo oops >&2; exit 7"]))
        .await
        .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(2), p.wait()).await.unwrap();
    assert_eq!(exit, Exit::Code(7));
    assert_eq!(p.exited(), Some(Exit::Code(7)));
    let log = std::fs::read_to_string(sup.log_path("crashy")).unwrap();
    assert!(log.contains("started") && log.contains("oops"), "{log}");
    // A stop after the exit returns at once.
    assert_eq!(p.stop(Duration::from_secs(5)).await.unwrap(), Exit::Code(7));
}

#[tokio::test]
async fn a_missing_program_is_an_error_naming_the_app_and_the_program() {
    let dir = TempDir::new();
    let sup = Supervisor::new(dir.path()).unwrap();
    let e = sup.start("ghost", &argv(&["/nonexistent/sipd"])).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("ghost") && msg.contains("/nonexistent/sipd"), "{msg}");
    assert!(sup.start("ghost", &[]).await.is_err());
    assert!(sup.start("../evil", &argv(&["true"])).await.is_err());
}

#[tokio::test]
async fn the_log_is_bounded() {
    let dir = TempDir::new();
    let limit = 64 * 1024;
    let sup = Supervisor::new(dir.path()).unwrap().with_log_limit(limit);
    let p = sup
        .start("chatty", &argv(&["sh", "-c", "head -c 300000 /dev/zero; sleep 100"]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let cur = std::fs::metadata(sup.log_path("chatty")).unwrap().len();
    let old = std::fs::metadata(dir.path().join("apps/chatty.log.1")).unwrap().len();
    assert!(cur <= limit && old <= limit, "{cur} {old}");
    assert_eq!(old, limit);
    p.kill().unwrap();
    p.wait().await;
}

#[tokio::test]
async fn a_restarted_agent_adopts_the_running_app_instead_of_starting_another() {
    let dir = TempDir::new();
    let first = Supervisor::new(dir.path()).unwrap();
    let argv = argv(&["sleep", "100"]);
    let p = first.start("sip-a", &argv).await.unwrap();
    // The agent restarts: a new supervisor on the same data directory.
    let second = Supervisor::new(dir.path()).unwrap();
    let q = second.start("sip-a", &argv).await.unwrap();
    assert!(q.adopted());
    assert_eq!(q.pid(), p.pid());
    assert_eq!(group_alive(p.pid()), vec![p.pid()], "no second copy");
    // The adopted process's exit is seen at once (pidfd), its status unknown.
    let t = Instant::now();
    let exit = q.stop(Duration::from_secs(5)).await.unwrap();
    assert_eq!(exit, Exit::Unknown);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(!second.pid_path("sip-a").exists());
    assert_eq!(p.wait().await, Exit::Signal(libc::SIGTERM));
}

#[tokio::test]
async fn a_stale_or_garbled_pid_file_is_ignored() {
    let dir = TempDir::new();
    let sup = Supervisor::new(dir.path()).unwrap();
    // A process that ran and is gone.
    let mut done = std::process::Command::new("true").spawn().unwrap();
    let dead = done.id() as i32;
    let _ = done.wait();
    let record = PidRecord {
        pid: dead,
        pgid: dead,
        boot_id: pgroup::boot_id().unwrap(),
        start_time: 1,
        argv: vec!["true".into()],
    };
    std::fs::write(sup.pid_path("a"), serde_json::to_vec(&record).unwrap()).unwrap();
    assert!(sup.adopt("a").await.unwrap().is_none());
    assert!(!sup.pid_path("a").exists(), "the stale file is removed");
    // Our own pid with a wrong start time: a reused pid, not the app.
    let me = std::process::id() as i32;
    let reused = PidRecord {
        pid: me,
        pgid: me,
        start_time: pgroup::stat(me).unwrap().start_time + 1,
        ..record.clone()
    };
    std::fs::write(sup.pid_path("b"), serde_json::to_vec(&reused).unwrap()).unwrap();
    assert!(sup.adopt("b").await.unwrap().is_none());
    std::fs::write(sup.pid_path("c"), b"\x00not json{").unwrap();
    let p = sup.start("c", &["sleep".to_string(), "100".to_string()]).await.unwrap();
    assert!(!p.adopted());
    p.kill().unwrap();
    p.wait().await;
}

#[tokio::test]
async fn a_zombie_counts_as_dead() {
    let dir = TempDir::new();
    let sup = Supervisor::new(dir.path()).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id() as i32;
    // Not reaped: it stays a zombie, which `kill -0` would call alive.
    let mut st = None;
    for _ in 0..200 {
        st = pgroup::stat(pid);
        if st.is_some_and(|s| s.state == 'Z') {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let st = st.expect("the zombie is still listed");
    assert_eq!(st.state, 'Z');
    // SAFETY: kill with signal 0 only checks existence.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0, "kill -0 still succeeds on a zombie");
    assert!(!pgroup::is_alive(pid));
    let record = PidRecord {
        pid,
        pgid: pid,
        boot_id: pgroup::boot_id().unwrap(),
        start_time: st.start_time,
        argv: vec!["true".into()],
    };
    assert!(!record.still_runs());
    std::fs::write(sup.pid_path("z"), serde_json::to_vec(&record).unwrap()).unwrap();
    assert!(sup.adopt("z").await.unwrap().is_none());
    let _ = child.wait();
}
