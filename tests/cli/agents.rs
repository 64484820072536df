//! `hactl run` and a switchover's wait with real `hactl agent`s and real applications:
//! a script's output and exit code, a script killed at its timeout, a script refused on a
//! host outside its allow-list, and a switchover slower than `--timeout` (exit 3) that
//! then completes on its own.

use super::harness::*;
use super::ops::*;

/// h1 and h2 with a SIP responder each whose mode hook takes 1.5 s, and two scripts:
/// `greet` (on h1 only) prints two lines and exits 3; `slow` outlives its 1 s timeout.
fn topology(port: u16) -> String {
    agents_topology(
        port,
        ["127.0.0.41", "127.0.0.42"],
        r#"mode-hook = ["/bin/sh", "-c", "sleep 1.5", "hook"]"#,
        r#"
[[script]]
id = "greet"
command = "/bin/sh"
args = ["-c", "echo hello from {host}; echo second line; exit 3"]
hosts = ["h1"]

[[script]]
id = "slow"
command = "/bin/sleep"
args = ["30"]
timeout = "1s"
"#,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_run_with_their_exit_codes_and_a_slow_switchover_times_out_then_completes() {
    let port = 20_000 + (std::process::id() % 20_000) as u16 + 3;
    let _leftovers = Leftovers(format!(":{port} --name"));
    let dir = Dir::with_topology("cli-agents", &topology(port));
    let (op, _) = tokens(dir.path());
    let c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.clone();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let _a1 = AgentProc::start(dir.path(), &u, "h1", "127.0.0.41");
    let _a2 = AgentProc::start(dir.path(), &u, "h2", "127.0.0.42");
    until(25, "pair p OK with a primary", || async {
        let p = pair(&u, "p").await;
        p["redundancy"] == "ok" && p["primary"]["app"] == "a"
    })
    .await;
    let env = [("HACTL_CONTROLLER", u.as_str()), ("HACTL_TOKEN_FILE", op.as_str())];

    let o = hactl(&["run", "greet", "--host", "h1", "--yes", "--reason", "cli test"], &env).await;
    assert_code(&o, 3, "the script's exit code");
    assert_eq!(text(&o.stdout), "hello from h1\nsecond line\n");
    assert!(text(&o.stderr).contains("exit code 3"), "{}", text(&o.stderr));

    let o = hactl(&["run", "greet", "--host", "h2", "--yes"], &env).await;
    assert_code(&o, 4, "not on the allow-list's hosts");
    assert_one_line(&o, "(409 refused)");

    let o = hactl(&["run", "greet", "--host", "h1"], &env).await;
    assert_code(&o, 2, "no terminal, no --yes");
    assert_one_line(&o, "add --yes to run the script without confirming");

    let o = hactl(&["run", "slow", "--host", "h1", "--yes"], &env).await;
    assert_code(&o, 124, "killed at its timeout");
    assert!(text(&o.stderr).contains("timed out after"), "{}", text(&o.stderr));

    // Demoting and promoting take 1.5 s each: a 1 s wait ends first (exit 3), the
    // switchover completes all the same.
    let o = hactl(&["switchover", "p", "--yes", "--timeout", "1s"], &env).await;
    assert_code(&o, 3, "no end within --timeout");
    let err = text(&o.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("did not complete within 1s; it may still: hactl events --id east-"),
        "{err}"
    );
    until(15, "b primary, OK", || async {
        let p = pair(&u, "p").await;
        p["redundancy"] == "ok" && p["primary"]["app"] == "b"
    })
    .await;
    let o = hactl(&["switchover", "p", "--yes", "--to", "h1"], &env).await;
    assert_code(&o, 0, "completed");
    let out = text(&o.stdout);
    for id in ["HC-1100", "HC-1101", "00-5151", "00-5150", "HC-1102"] {
        assert!(out.contains(id), "{id} missing:\n{out}");
    }
    assert_eq!(pair(&u, "p").await["primary"]["app"], "a");
}
