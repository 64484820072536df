//! kill -9 of the controller: everything acknowledged before survives (events, operator
//! actions, maintenance with its expiry, the anti-flap hold), and the restarted controller
//! hands out no correlation id again.

use std::collections::HashSet;

use super::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_restart_keeps_what_was_acknowledged_and_reuses_no_correlation() {
    let dir = Dir::new("restart");
    let mut c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.clone();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let (h1, _) = agent(&u, "h1", &["a"], None).await;
    let (h2, _) = agent(&u, "h2", &["b"], None).await;
    until(15, "pair p OK", || async { pair(&u, "p").await["redundancy"] == "ok" }).await;

    // Two automatic switchovers: the anti-flap hold (2 in 10m) is on.
    h1.send(Ctl::Exit("a".into())).unwrap();
    until(15, "b primary", || async {
        pair(&u, "p").await["primary"]["app"] == "b"
    })
    .await;
    h1.send(Ctl::Run("a".into())).unwrap();
    until(15, "OK again", || async { pair(&u, "p").await["redundancy"] == "ok" }).await;
    h2.send(Ctl::Exit("b".into())).unwrap();
    until(15, "a primary", || async {
        pair(&u, "p").await["primary"]["app"] == "a"
    })
    .await;
    h2.send(Ctl::Run("b".into())).unwrap();
    until(15, "OK again", || async { pair(&u, "p").await["redundancy"] == "ok" }).await;
    assert_eq!(pair(&u, "p").await["flapping"], true);

    let (s, v) = post(
        &u,
        "/v1/maintenance",
        Some(OPERATOR),
        r#"{"pair":"p","on":true,"for":"2h","reason":"before the crash","request_id":"m-1"}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let acknowledged = all_events(&u).await;
    let corr_before: HashSet<String> = acknowledged
        .iter()
        .filter_map(|e| e["correlation"].as_str().map(String::from))
        .collect();

    c.kill9();
    drop((h1, h2));
    let c2 = Controller::start(dir.path(), &c.addr());
    let u = c2.url.clone();
    until(10, "ready again", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let (_h1, _) = agent(&u, "h1", &["a"], None).await;
    let (_h2, _) = agent(&u, "h2", &["b"], None).await;
    until(15, "the restarted controller learned the pair", || async {
        pair(&u, "p").await["primary"]["status"] == "up"
    })
    .await;

    let after = all_events(&u).await;
    assert!(after.len() > acknowledged.len());
    assert_eq!(
        &after[..acknowledged.len()],
        &acknowledged[..],
        "every acknowledged event kept"
    );
    let (_, actions) = get(&u, "/v1/actions", Some(VIEWER)).await;
    let list = actions["actions"].as_array().unwrap();
    assert!(
        list.iter().any(|a| a["operator"] == "alice"
            && a["request_id"] == "m-1"
            && a["from"] == "127.0.0.1"
            && a["reason"] == "before the crash"),
        "{actions}"
    );
    let p = pair(&u, "p").await;
    assert_eq!(p["maintenance"], true, "{p}");
    assert_eq!(p["flapping"], true, "{p}");
    // The same request again: the same answer, not a second action.
    let (s, v) = post(
        &u,
        "/v1/maintenance",
        Some(OPERATOR),
        r#"{"pair":"p","on":true,"for":"2h","request_id":"m-1"}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    for e in &after[acknowledged.len()..] {
        if let Some(c) = e["correlation"].as_str() {
            assert!(!corr_before.contains(c), "{c} reused after the restart: {e}");
        }
    }
}
