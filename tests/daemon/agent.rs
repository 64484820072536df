//! Real processes on loopback: a controller, two `hactl agent`s, and their applications (the
//! built-in SIP responder, probed with SIP OPTIONS). kill -9 of the primary application
//! gives a switchover whose events arrive over the API; kill -9 of an agent gives
//! host-lost after the heartbeat timeout and a failover; the restarted agent adopts the
//! application that still runs instead of starting a second copy.

use std::time::{Duration, Instant};

use super::harness::*;

/// h1 and h2 with a SIP responder each on 127.0.0.11 and 127.0.0.12.
pub fn topology(port: u16) -> String {
    agents_topology(port, ["127.0.0.11", "127.0.0.12"], "", "")
}

async fn ids_after(url: &str, after: usize) -> Vec<String> {
    all_events(url).await[after..]
        .iter()
        .filter_map(|e| e["id"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_agents_fail_over_a_killed_application_and_a_killed_agent() {
    let port = 20_000 + (std::process::id() % 20_000) as u16;
    let needle = format!(":{port} --name");
    let _leftovers = Leftovers(needle.clone());
    let dir = Dir::with_topology("agents", &topology(port));
    let c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.clone();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let mut a1 = AgentProc::start(dir.path(), &u, "h1", "127.0.0.11");
    let mut a2 = AgentProc::start(dir.path(), &u, "h2", "127.0.0.12");
    until(20, "pair p OK with a primary on h1", || async {
        let p = pair(&u, "p").await;
        p["redundancy"] == "ok" && p["primary"]["app"] == "a"
    })
    .await;

    // kill -9 of the primary application.
    let before = all_events(&u).await.len();
    let pid = app_pid(dir.path(), "h1", "a").expect("pid file of a");
    let killed = Instant::now();
    kill9(pid);
    until(10, "b primary after a was killed", || async {
        pair(&u, "p").await["primary"]["app"] == "b"
    })
    .await;
    let took = killed.elapsed();
    let ids = ids_after(&u, before).await;
    for id in ["5064", "HC-1100", "00-5150", "HC-1102"] {
        assert!(ids.iter().any(|i| i == id), "{id} missing: {ids:?}");
    }
    assert!(took < Duration::from_secs(5), "failover took {took:?}");
    until(15, "a restarted as backup: OK again", || async {
        pair(&u, "p").await["redundancy"] == "ok"
    })
    .await;
    assert_eq!(processes_with(&needle).len(), 2, "one copy of each application");
    let (_, m) = get(&u, "/metrics", None).await;
    let m = m.as_str().unwrap_or_default().to_string();
    assert!(m.contains("hactl_switchovers_total{site=\"east\"} 1"), "{m}");
    assert!(m.contains("hactl_agent_connected{host=\"h1\"} 1"), "{m}");
    assert!(m.contains("hactl_events_total{site=\"east\",id=\"5064\"} 1"), "{m}");
    assert!(m.contains("hactl_journal_commit_seconds_count"), "{m}");

    // kill -9 of the primary's agent: host lost after the heartbeat timeout, failover.
    let before = all_events(&u).await.len();
    a2.kill9();
    until(10, "a primary again after h2's agent was lost", || async {
        pair(&u, "p").await["primary"]["app"] == "a"
    })
    .await;
    let ids = ids_after(&u, before).await;
    assert!(ids.iter().any(|i| i == "00-04504"), "{ids:?}");

    // The agent comes back and adopts b, which never stopped: no second copy.
    let b_pid = app_pid(dir.path(), "h2", "b").expect("pid file of b");
    let _a2 = AgentProc::start(dir.path(), &u, "h2", "127.0.0.12");
    until(15, "OK again with h2 back", || async {
        pair(&u, "p").await["redundancy"] == "ok"
    })
    .await;
    assert_eq!(app_pid(dir.path(), "h2", "b"), Some(b_pid), "adopted, not restarted");
    assert_eq!(processes_with(&needle).len(), 2, "no second copy of b");

    // The primary's agent restarts within the heartbeat timeout (an upgrade): it takes
    // the adopted primary's mode back, so nothing fails over and nothing is re-promoted.
    until(5, "a primary", || async {
        pair(&u, "p").await["primary"]["app"] == "a"
    })
    .await;
    let before = all_events(&u).await.len();
    a1.kill9();
    let _a1 = AgentProc::start(dir.path(), &u, "h1", "127.0.0.11");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ids = ids_after(&u, before).await;
    for id in ["HC-1100", "20621", "00-5150", "00-04504"] {
        assert!(
            !ids.iter().any(|i| i == id),
            "{id} after a quick agent restart: {ids:?}"
        );
    }
    assert_eq!(pair(&u, "p").await["redundancy"], "ok");
}

fn kill9(pid: i32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}
