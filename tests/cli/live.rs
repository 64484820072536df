//! `hactl status`, `switchover`, `maintenance` and `events` against a real controller with
//! scripted agents: every exit code of status, the JSON shapes, a refusal for want of a
//! terminal, a viewer refused with the controller's reason, a switchover followed to its
//! end and journaled with the operator's name and reason.

use hactl::wire::EventRecord;

use super::harness::*;
use super::ops::*;

fn lines(o: &std::process::Output) -> Vec<String> {
    text(&o.stdout).lines().map(String::from).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_switchover_maintenance_and_events_against_a_controller() {
    let dir = Dir::new("cli-live");
    let (op, viewer) = tokens(dir.path());
    let c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.clone();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let as_op = [("HACTL_CONTROLLER", u.as_str()), ("HACTL_TOKEN_FILE", op.as_str())];
    let as_viewer = [("HACTL_CONTROLLER", u.as_str()), ("HACTL_TOKEN_FILE", viewer.as_str())];

    // No agent yet: the pair has no primary.
    let o = hactl(&["status"], &as_viewer).await;
    assert_code(&o, 1, "no agents: not OK");
    assert!(text(&o.stdout).contains("NO PRIMARY"), "{}", text(&o.stdout));

    let (_h1, _) = agent(&u, "h1", &["a"], None).await;
    let (_h2, _) = agent(&u, "h2", &["b"], None).await;
    until(15, "pair p OK", || async { pair(&u, "p").await["redundancy"] == "ok" }).await;

    let o = hactl(&["status"], &as_viewer).await;
    assert_code(&o, 0, "every pair OK");
    let out = lines(&o);
    let row = out.iter().find(|l| l.starts_with("p ")).expect("a row for p");
    assert!(
        row.contains("OK") && row.contains("a@h1 up primary") && row.contains("b@h2 up backup"),
        "{row}"
    );
    assert!(
        out.iter().any(|l| l.starts_with("h1 ") && l.contains("connected")),
        "{out:?}"
    );

    let o = hactl(&["status", "--json"], &as_viewer).await;
    assert_code(&o, 0, "--json");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["ok"], true);
    assert_eq!(v["controllers"][0]["url"], u.as_str());
    assert_eq!(v["controllers"][0]["site"], "east");
    assert_eq!(v["controllers"][0]["reachable"], true);
    assert_eq!(v["snapshot"]["pairs"][0]["redundancy"], "ok");
    assert_eq!(v["snapshot"]["hosts"][0]["agent"], "connected");

    // One controller of two cannot be reached: exit 2, the other's state still shown.
    let o = hactl(
        &[
            "status",
            "--controller",
            &u,
            "--controller",
            "http://127.0.0.1:1",
            "--json",
        ],
        &[("HACTL_TOKEN_FILE", op.as_str())],
    )
    .await;
    assert_code(&o, 2, "an unreachable controller");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["controllers"][1]["reachable"], false);
    assert!(
        v["controllers"][1]["error"].as_str().unwrap().contains("cannot reach"),
        "{v}"
    );
    assert_eq!(v["snapshot"]["pairs"][0]["redundancy"], "ok");

    // --watch: a block per round, Ctrl-C ends it with the last round's code.
    let mut w = Follower::start(&["status", "--watch", "1"], &as_viewer);
    w.until(10, "two rounds", |seen| {
        seen.iter().filter(|l| l.starts_with("CONTROLLER")).count() >= 2
    });
    assert_eq!(w.interrupt(), Some(0));

    // No terminal and no --yes: refused, nothing done.
    let o = hactl(&["switchover", "p"], &as_op).await;
    assert_code(&o, 2, "no terminal");
    assert_one_line(&o, "standard input is not a terminal");
    assert!(
        text(&o.stdout).contains("switchover of p: a@h1 -> b@h2"),
        "the plan is shown"
    );
    assert_eq!(pair(&u, "p").await["primary"]["app"], "a");

    // On a terminal: anything but yes declines; forced, only the pair's name goes on.
    let o = in_terminal(&["switchover", "p"], &as_op, "n\n").await;
    assert_code(&o, 1, "declined");
    let out = text(&o.stdout);
    assert!(
        out.contains("from a@h1 to b@h2? [y/N]") && out.contains("not confirmed: nothing was done"),
        "{out}"
    );
    let o = in_terminal(&["switchover", "p", "--force"], &as_op, "y\n").await;
    assert_code(&o, 1, "forced needs the name");
    assert!(text(&o.stdout).contains("Type `p` to go on"), "{}", text(&o.stdout));
    assert_eq!(pair(&u, "p").await["primary"]["app"], "a", "nothing was done");

    let o = hactl(&["switchover", "p", "--dry-run"], &as_viewer).await;
    assert_code(&o, 0, "a dry run whose checks pass");
    assert!(
        text(&o.stdout).contains("dry run: the checks pass"),
        "{}",
        text(&o.stdout)
    );

    let o = hactl(&["switchover", "p", "--yes"], &as_viewer).await;
    assert_code(&o, 4, "a viewer may not switch over");
    assert_one_line(&o, "token `watcher` (viewer) may not do this (403 forbidden)");
    assert!(!text(&o.stderr).contains(VIEWER));

    let o = hactl(&["switchover", "nope", "--yes"], &as_op).await;
    assert_code(&o, 4, "an unknown pair");
    assert_one_line(&o, "unknown pair `nope`");

    let o = hactl(&["switchover", "p", "--yes", "--reason", "cli test"], &as_op).await;
    assert_code(&o, 0, "a switchover followed to its end");
    let out = text(&o.stdout);
    assert!(
        out.contains("HC-1102") && out.contains("switchover 1 completed"),
        "{out}"
    );
    assert!(
        lines(&o)
            .iter()
            .filter(|l| l.contains("HC-"))
            .all(|l| l.contains("[east-")),
        "only the incident's events: {out}"
    );
    assert_eq!(pair(&u, "p").await["primary"]["app"], "b");
    let (_, actions) = get(&u, "/v1/actions", Some(VIEWER)).await;
    let last = actions["actions"].as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last["operator"], "alice", "{last}");
    assert_eq!(last["reason"], "cli test", "{last}");
    assert!(last["request_id"].as_str().unwrap().starts_with("cli-"), "{last}");

    // The pre-flight checks refuse a switchover to the instance that is primary already.
    until(15, "OK again", || async { pair(&u, "p").await["redundancy"] == "ok" }).await;
    let o = hactl(&["switchover", "p", "--to", "b", "--dry-run"], &as_op).await;
    assert_code(&o, 4, "refused by the checks");
    assert_one_line(&o, "switchover of p ");
    assert!(
        text(&o.stdout).contains("[FAIL] target is not already primary"),
        "{}",
        text(&o.stdout)
    );

    // Maintenance: on for an hour (status is then not OK), off again; not for a viewer.
    let o = hactl(
        &["maintenance", "p", "on", "--for", "1h", "--reason", "patching"],
        &as_op,
    )
    .await;
    assert_code(&o, 0, "maintenance on");
    let out = lines(&o);
    assert!(
        out.len() == 1 && out[0].starts_with("maintenance on for p, ending by itself in 1h00m (east-"),
        "{out:?}"
    );
    assert_eq!(pair(&u, "p").await["maintenance"], true);
    assert_code(&hactl(&["status"], &as_viewer).await, 1, "maintenance is not OK");
    let o = hactl(&["maintenance", "p", "off"], &as_viewer).await;
    assert_code(&o, 4, "a viewer may not");
    assert_one_line(&o, "(403 forbidden)");
    let o = hactl(&["maintenance", "p", "off", "--for", "1h"], &as_op).await;
    assert_code(&o, 2, "--for with off");
    assert_one_line(&o, "--for goes with `on`");
    assert_code(&hactl(&["maintenance", "p", "off"], &as_op).await, 0, "maintenance off");
    assert_eq!(pair(&u, "p").await["maintenance"], false);

    // Events: JSON lines of records whose seq resumes with --since; filters.
    let all = all_events(&u).await;
    let o = hactl(&["events", "--json", "--since", "0"], &as_viewer).await;
    assert_code(&o, 0, "events");
    let recs: Vec<EventRecord> = lines(&o)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(recs.len(), all.len());
    assert_eq!(
        serde_json::to_value(&recs).unwrap(),
        serde_json::Value::Array(all.clone())
    );
    let o = hactl(&["events", "--json", "--since", "5"], &as_viewer).await;
    let first: EventRecord = serde_json::from_str(&lines(&o)[0]).unwrap();
    assert_eq!(
        (first.seq, lines(&o).len()),
        (6, all.len() - 5),
        "resumes after the cursor"
    );
    let o = hactl(&["events", "--json", "--since", "east:5"], &as_viewer).await;
    assert_eq!(lines(&o).len(), all.len() - 5, "a site's cursor");
    let o = hactl(&["events"], &as_viewer).await;
    assert_eq!(lines(&o).len(), all.len().min(20), "the last 20 by default");
    let o = hactl(&["events", "--since", "10m", "--id", "HC-1102"], &as_viewer).await;
    assert_code(&o, 0, "filtered");
    let out = lines(&o);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0].contains("east:") && out[0].contains("HC-1102") && out[0].contains("pair:p"),
        "{out:?}"
    );
    let o = hactl(&["events", "--since", "0", "--id", "east-1"], &as_viewer).await;
    assert!(lines(&o).iter().all(|l| l.ends_with("[east-1]")) && !lines(&o).is_empty());
    let o = hactl(&["events", "--since", "0", "--pair", "p", "--json"], &as_viewer).await;
    let about_p = lines(&o);
    assert!(!about_p.is_empty() && about_p.len() < all.len(), "{}", about_p.len());
    for (args, needle) in [
        (vec!["events", "--id", "HC-99"], "--id: `HC-99` is neither an event id"),
        (vec!["events", "--pair", "q"], "--pair: no pair or group `q`"),
        (vec!["events", "--since", "soon"], "--since: `soon` is neither a cursor"),
    ] {
        let o = hactl(&args, &as_viewer).await;
        assert_code(&o, 2, needle);
        assert_one_line(&o, needle);
    }
}
