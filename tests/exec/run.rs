//! Mode hooks and allow-listed scripts: the mode as the last argument, failures with their
//! last lines, timeouts that kill the whole group, output streamed line by line.

use std::time::{Duration, Instant};

use hactl::daemon::exec::command::{Exit, Status};
use hactl::daemon::exec::hook::{HookOutcome, run_mode_hook};
use hactl::daemon::exec::script::{ScriptError, run_script};
use hactl::engine::{HostIx, Mode, Script, Span};
use tokio::sync::mpsc;

use super::harness::{TempDir, group_alive};

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn the_hook_gets_the_mode_as_its_last_argument() {
    let hook = argv(&["sh", "-c", "test \"$0\" = primary"]);
    let o = run_mode_hook("sip-a", &hook, Mode::Primary, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(matches!(o, HookOutcome::Ok { .. }), "{o:?}");
    let o = run_mode_hook("sip-a", &hook, Mode::Backup, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        matches!(
            o,
            HookOutcome::Failed {
                exit: Exit::Code(1),
                ..
            }
        ),
        "{o:?}"
    );
    let o = run_mode_hook("sip-a", &[], Mode::Backup, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(o, HookOutcome::NoHook);
    assert!(o.ok());
}

#[tokio::test]
async fn a_failed_hook_reports_its_last_lines() {
    let hook = argv(&[
        "sh",
        "-c",
        "for i in $(seq 1 30); do echo line $i; done; echo cannot reload >&2; exit 4",
    ]);
    let o = run_mode_hook("sip-a", &hook, Mode::Primary, Duration::from_secs(5))
        .await
        .unwrap();
    let HookOutcome::Failed { exit, tail } = o else {
        panic!("{o:?}")
    };
    assert_eq!(exit, Exit::Code(4));
    assert!(tail.len() <= 10);
    assert!(tail.iter().any(|l| l.text == "cannot reload"), "{tail:?}");
    assert!(tail.iter().any(|l| l.text == "line 30"), "{tail:?}");
    assert!(!tail.iter().any(|l| l.text == "line 1"));
}

#[tokio::test]
async fn a_hook_past_its_timeout_is_killed_with_its_group() {
    let dir = TempDir::new();
    let pidfile = dir.path().join("pgid");
    let script = format!("echo $$ > {}; sleep 30 & sleep 30", pidfile.display());
    let t = Instant::now();
    let o = run_mode_hook(
        "sip-a",
        &argv(&["sh", "-c", &script]),
        Mode::Primary,
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    assert!(matches!(o, HookOutcome::TimedOut { .. }), "{o:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let pgid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(group_alive(pgid).is_empty(), "{:?}", group_alive(pgid));
}

fn script(command: &str, args: &[&str], hosts: Vec<HostIx>) -> Script {
    Script {
        id: "collect".into(),
        command: command.into(),
        args: argv(args),
        timeout: Span::secs(30),
        hosts,
    }
}

#[tokio::test]
async fn script_output_is_streamed_line_by_line() {
    let s = script("/bin/sh", &[], vec![]);
    let args = argv(&[
        "-c",
        "echo first; sleep 1; echo second >&2; head -c 10000 /dev/zero | tr '\\0' x; echo",
    ]);
    let (tx, mut rx) = mpsc::channel(4);
    let run = tokio::spawn(async move { run_script(&s, HostIx(0), &args, Duration::from_secs(5), tx).await });
    let t = Instant::now();
    let first = rx.recv().await.unwrap();
    assert_eq!(first.text, "first");
    assert!(
        t.elapsed() < Duration::from_millis(800),
        "streamed before the script ends"
    );
    let second = rx.recv().await.unwrap();
    assert_eq!(second.text, "second");
    let long = rx.recv().await.unwrap();
    assert!(long.clipped && long.text.len() == 4096);
    assert!(rx.recv().await.is_none());
    let o = run.await.unwrap().unwrap();
    assert_eq!(o.status, Status::Exited(Exit::Code(0)));
    assert!(o.duration >= Duration::from_secs(1), "{:?}", o.duration);
}

#[tokio::test]
async fn a_script_past_its_timeout_is_killed() {
    let s = script("/bin/sleep", &[], vec![]);
    let (tx, _rx) = mpsc::channel(4);
    let t = Instant::now();
    let o = run_script(&s, HostIx(0), &argv(&["30"]), Duration::from_millis(300), tx)
        .await
        .unwrap();
    assert_eq!(o.status, Status::TimedOut);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn scripts_run_only_where_allowed_and_by_absolute_path() {
    let (tx, _rx) = mpsc::channel(4);
    let e = run_script(
        &script("/bin/true", &[], vec![HostIx(1)]),
        HostIx(0),
        &[],
        Duration::from_secs(1),
        tx.clone(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ScriptError::NotAllowedHere { .. }), "{e}");
    let e = run_script(&script("true", &[], vec![]), HostIx(0), &[], Duration::from_secs(1), tx)
        .await
        .unwrap_err();
    assert!(matches!(e, ScriptError::NotAbsolute { .. }), "{e}");
    assert!(e.to_string().contains("collect"));
}
