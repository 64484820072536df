//! The API as clients meet it: tokens and roles, hostile bodies and queries (always a 4xx
//! JSON error, never a 500), a failover whose events arrive over the stream, resuming
//! the stream from `Last-Event-ID` with no gap and no duplicate, and agents refused for
//! another deployment file.

use futures_util::StreamExt;
use hactl::daemon::link::ControllerMsg;

use super::harness::*;

/// The SSE ids of the first `want` events of the stream resumed after `cursor`.
async fn stream_ids(u: &str, cursor: u64, want: u64) -> Vec<u64> {
    let resp = client()
        .get(format!("{u}/v1/events/stream"))
        .bearer_auth(VIEWER)
        .header("Last-Event-ID", cursor.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let mut body = resp.bytes_stream();
    let mut text = String::new();
    let mut seqs: Vec<u64> = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while (seqs.len() as u64) < want {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("stream stalled");
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
        seqs = text
            .lines()
            .filter_map(|l| l.strip_prefix("id: "))
            .filter_map(|n| n.trim().parse().ok())
            .collect();
    }
    seqs
}

fn is_error(v: &serde_json::Value) -> bool {
    v["error"].is_string() && v["detail"].is_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_roles_and_hostile_requests_get_4xx_json() {
    let dir = Dir::new("hostile");
    let c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.as_str();
    until(10, "ready", || async { get(u, "/readyz", None).await.0 == 200 }).await;

    assert_eq!(get(u, "/healthz", None).await.0, 200);
    let (s, v) = get(u, "/v1/snapshot", None).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("unauthorized")), "{v}");
    let (s, v) = get(u, "/v1/snapshot", Some("not-a-token-at-all")).await;
    assert_eq!(s, 401, "{v}");
    let (s, v) = post(u, "/v1/maintenance", Some(VIEWER), r#"{"pair":"p","on":true}"#).await;
    assert_eq!((s, v["error"].as_str()), (403, Some("forbidden")), "{v}");
    let (s, _) = post(u, "/v1/anti-flap/reset", Some(OPERATOR), r#"{"pair":"p"}"#).await;
    assert_eq!(s, 403, "resetting anti-flap needs an admin");
    assert!(!v.to_string().contains(VIEWER), "a token never shows in an error");
    // Who a token is, never its secret: what a console offers follows the role.
    for (token, name, role) in [
        (VIEWER, "watcher", "viewer"),
        (OPERATOR, "alice", "operator"),
        (ADMIN, "root", "admin"),
    ] {
        let (s, v) = get(u, "/v1/whoami", Some(token)).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            (v["name"].as_str(), v["role"].as_str(), v["site"].as_str()),
            (Some(name), Some(role), Some("east"))
        );
        assert!(!v.to_string().contains(token));
    }
    assert_eq!(get(u, "/v1/whoami", None).await.0, 401);
    assert_eq!(get(u, "/v1/whoami", Some(AGENT)).await.0, 403);

    let cases: Vec<(&str, String, u16)> = vec![
        ("/v1/switchover", "{\"pair\":".into(), 400),
        ("/v1/switchover", "[1,2,3]".into(), 400),
        ("/v1/switchover", "\u{0}\u{1}binary".into(), 400),
        ("/v1/switchover", r#"{"pair":"p","bogus":1}"#.into(), 400),
        ("/v1/switchover", r#"{"pair":"nope"}"#.into(), 404),
        ("/v1/switchover", r#"{"pair":"p","to":"h9"}"#.into(), 404),
        (
            "/v1/switchover",
            format!(r#"{{"pair":"p","reason":"{}"}}"#, "x".repeat(600)),
            400,
        ),
        (
            "/v1/switchover",
            format!(r#"{{"pair":"{}"}}"#, "p".repeat(100_000)),
            413,
        ),
        (
            "/v1/maintenance",
            r#"{"pair":"p","on":true,"for":"forever"}"#.into(),
            400,
        ),
        (
            "/v1/maintenance",
            r#"{"pair":"p","on":true,"for":"99999d"}"#.into(),
            400,
        ),
        ("/v1/maintenance", r#"{"pair":"p","on":false,"for":"1h"}"#.into(), 400),
        ("/v1/maintenance", r#"{"pair":"p","on":"yes"}"#.into(), 400),
        ("/v1/runs", r#"{"script":"rm-rf","host":"h1"}"#.into(), 404),
        ("/v1/runs", r#"{"script":"hello","host":"h9"}"#.into(), 404),
    ];
    for (path, body, want) in cases {
        let (s, v) = post(u, path, Some(OPERATOR), body.clone()).await;
        assert_eq!(s, want, "{path} {}: {v}", &body[..body.len().min(60)]);
        assert!(is_error(&v), "{path}: not a JSON error: {v}");
    }
    for (path, want) in [
        ("/v1/events?after=abc", 400),
        ("/v1/events?after=-1", 400),
        ("/v1/events?limit=0", 400),
        ("/v1/events?limit=100000", 400),
        ("/v1/events?colour=red", 400),
        ("/v1/events?after=99999999999999999999999", 400),
        ("/v1/events?after=1&before=5", 400),
        ("/v1/events?before=start", 400),
        ("/v1/runs/abc", 400),
        ("/v1/runs/77", 404),
        ("/v1/nothing", 404),
    ] {
        let (s, v) = get(u, path, Some(VIEWER)).await;
        assert_eq!(s, want, "{path}: {v}");
        assert!(is_error(&v), "{path}: {v}");
    }
    let resp = client()
        .delete(format!("{u}/v1/snapshot"))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    // Still alive and serving after all that.
    assert_eq!(get(u, "/v1/topology", Some(VIEWER)).await.0, 200);
    let (_, m) = get(u, "/metrics", None).await;
    let m = m.as_str().unwrap_or_default().to_string();
    assert!(
        m.contains("hactl_api_request_seconds_count{route=\"/v1/switchover\",status=\"400\"}"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_fails_over_and_the_stream_resumes_without_gap_or_duplicate() {
    let dir = Dir::new("failover");
    let c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.clone();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let (h1, w1) = agent(&u, "h1", &["a"], None).await;
    let (_h2, w2) = agent(&u, "h2", &["b"], None).await;
    assert!(matches!(w1, ControllerMsg::Welcome { .. }), "{w1:?}");
    assert!(matches!(w2, ControllerMsg::Welcome { .. }), "{w2:?}");
    until(15, "pair p OK with a primary", || async {
        let p = pair(&u, "p").await;
        p["redundancy"] == "ok" && p["primary"]["app"] == "a"
    })
    .await;
    let before = all_events(&u).await.len() as u64;

    h1.send(Ctl::Exit("a".into())).unwrap();
    until(15, "b primary after a crashed", || async {
        pair(&u, "p").await["primary"]["app"] == "b"
    })
    .await;
    let events = all_events(&u).await;
    let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert!(ids.contains(&"5064") && ids.contains(&"HC-1102"), "{ids:?}");
    // Paging back from the end: the newest events, oldest first, then the ones before.
    let seqs = |v: &serde_json::Value| -> Vec<u64> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["seq"].as_u64())
            .collect()
    };
    let n = events.len() as u64;
    let (s, v) = get(&u, "/v1/events?before=end&limit=3", Some(VIEWER)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(seqs(&v), vec![n - 2, n - 1, n]);
    let (_, v) = get(&u, &format!("/v1/events?before={}&limit=2", n - 2), Some(VIEWER)).await;
    assert_eq!(seqs(&v), vec![n - 4, n - 3]);
    let (_, v) = get(&u, "/v1/events?before=3&limit=10", Some(VIEWER)).await;
    assert_eq!(seqs(&v), vec![1, 2]);
    let (_, v) = get(&u, "/v1/events?before=1", Some(VIEWER)).await;
    assert_eq!(
        (seqs(&v), v["next"].as_u64()),
        (vec![], Some(0)),
        "nothing before the first"
    );

    // The stream from the middle: exactly the events after the cursor, in order.
    let cursor = before;
    let seqs = stream_ids(&u, cursor, events.len() as u64 - cursor).await;
    let expected: Vec<u64> = (cursor + 1..=events.len() as u64).collect();
    assert_eq!(&seqs[..expected.len()], &expected[..], "no gap, no duplicate");

    // New events while nobody listens, then resume from the last id seen.
    let last = *seqs.last().unwrap();
    h1.send(Ctl::Run("a".into())).unwrap();
    until(15, "a back as backup", || async {
        pair(&u, "p").await["redundancy"] == "ok"
    })
    .await;
    let all = all_events(&u).await;
    let seqs = stream_ids(&u, last, all.len() as u64 - last).await;
    assert_eq!(seqs[0], last + 1, "resumes right after the last id seen");
    let mut sorted = seqs.clone();
    sorted.dedup();
    assert_eq!(sorted, seqs, "no duplicate");
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "no gap: {seqs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_another_deployment_file_is_refused_with_the_difference() {
    let dir = Dir::new("mismatch");
    let c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.clone();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let topo = hactl::engine::config::parse(TOPOLOGY, "deploy.toml").unwrap();
    let mut summary = hactl::daemon::link::topology_summary(&topo);
    for l in &mut summary {
        if l.starts_with("host h1 ") {
            *l = l.replace("nics=mgmt", "nics=mgmt,sip");
        }
    }
    let (_, answer) = agent(&u, "h1", &["a"], Some(summary)).await;
    match answer {
        ControllerMsg::Refused { error, detail } => {
            assert_eq!(error, "topology-mismatch");
            assert!(detail.contains("host h1 site=east nics=mgmt"), "{detail}");
        }
        other => panic!("not refused: {other:?}"),
    }
    let (_, answer) = agent(&u, "h7", &[], None).await;
    assert!(
        matches!(answer, ControllerMsg::Refused { ref error, .. } if error == "unknown-host"),
        "{answer:?}"
    );
}
