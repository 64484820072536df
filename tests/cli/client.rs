//! The API client against a real controller: every answer typed, idempotent requests, the
//! event stream, and errors that name the controller and never a token; a stream that goes
//! silent or breaks ends with an error instead of hanging.

use std::time::Duration;

use futures_util::StreamExt;
use hactl::client::{Client, ClientError, Endpoint, Options, Secret, new_request_id};
use hactl::engine::{EventId, Redundancy};
use hactl::wire::{Command, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::harness::*;

fn endpoint(url: &str, token: Option<&str>) -> Endpoint {
    Endpoint {
        token: token.map(Secret::new),
        ..Endpoint::new(url).expect("url")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reads_every_answer_typed_and_names_the_controller_in_errors() {
    let dir = Dir::new("client");
    let c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.clone();
    let op = Client::new(&endpoint(&u, Some(OPERATOR))).unwrap();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    op.healthz().await.unwrap();
    let topo = op.topology().await.unwrap();
    assert_eq!(topo.site, "east");
    assert_eq!(topo.site_of_pair("p"), Some("east"));
    assert_eq!(topo.pairs[0].apps, ["a", "b"]);
    assert_eq!(topo.scripts[0].id, "hello");

    let (_h1, _) = agent(&u, "h1", &["a"], None).await;
    let (_h2, _) = agent(&u, "h2", &["b"], None).await;
    until(15, "pair p OK", || async {
        op.snapshot()
            .await
            .is_ok_and(|s| s.pairs[0].redundancy == Some(Redundancy::Ok))
    })
    .await;
    let plan = op.plan("p", None).await.unwrap();
    assert_eq!((plan.pair.as_str(), plan.allowed), ("p", true), "{plan:?}");
    assert!(!plan.checks.is_empty());

    let before = op.events(None, 1000).await.unwrap();
    let cursor = before.events.last().map(|e| e.seq);
    assert_eq!(before.next, cursor.unwrap_or(0));
    let mut stream = op.stream(cursor).await.unwrap();
    let id = new_request_id();
    let req = Request {
        request_id: Some(id.clone()),
        reason: Some("client test".into()),
        command: Command::Switchover {
            pair: "p".into(),
            to: None,
            force: false,
            dry_run: false,
        },
    };
    let accepted = op.request(&req).await.unwrap();
    assert!(accepted.switchover.is_some(), "{accepted:?}");
    assert_eq!(
        op.request(&req).await.unwrap(),
        accepted,
        "same request id, same answer"
    );
    let mut seen = Vec::new();
    let done = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(item) = stream.next().await {
            let rec = item.expect("an event");
            seen.push(rec.clone());
            if rec.id == EventId::SwitchoverCompleted && rec.correlation.as_deref() == Some(&accepted.correlation) {
                return;
            }
        }
    })
    .await;
    assert!(done.is_ok(), "no HC-1102 on the stream: {seen:?}");
    let seqs: Vec<u64> = seen.iter().map(|e| e.seq).collect();
    let first = cursor.unwrap_or(0) + 1;
    assert_eq!(
        seqs,
        (first..first + seqs.len() as u64).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert_eq!(stream.cursor(), seqs.last().copied());
    let page = op.events(cursor, seqs.len()).await.unwrap();
    assert_eq!(page.events, seen, "the page and the stream agree");

    // Refusals name the controller and the reason, never the token.
    let viewer = Client::new(&endpoint(&u, Some(VIEWER))).unwrap();
    let maint = Request::new(Command::Maintenance {
        pair: "p".into(),
        on: true,
        expires: None,
    });
    let e = viewer.request(&maint).await.unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(403), Some("forbidden")), "{e}");
    let line = e.to_string();
    assert!(
        line.starts_with(&format!("{u}: token `watcher` (viewer) may not do this")),
        "{line}"
    );
    assert!(!line.contains(VIEWER) && !format!("{e:?}").contains(VIEWER), "{line}");
    let e = Client::new(&endpoint(&u, None)).unwrap().snapshot().await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert!(e.to_string().contains("no token given: --token-file FILE"), "{e}");
    let e = op.plan("nope", None).await.unwrap_err();
    assert_eq!(e.code(), Some("unknown-pair"), "{e}");
    let dry = Request::new(Command::Switchover {
        pair: "p".into(),
        to: None,
        force: false,
        dry_run: true,
    });
    let e = op.request(&dry).await;
    assert!(matches!(e, Err(ClientError::Protocol { .. })), "a dry run is a plan");

    // Nobody listening, and an https URL without a CA.
    drop(c);
    let e = op.snapshot().await.unwrap_err();
    assert!(e.is_unreachable(), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("{u}: cannot reach the controller: ")),
        "{e}"
    );
    let e = Client::new(&endpoint("https://127.0.0.1:1", Some(OPERATOR))).unwrap_err();
    assert!(e.to_string().contains("needs the CA"), "{e}");
}

/// A server that answers the stream request with a keep-alive and events, then keeps the
/// connection open in silence (`close: false`) or closes it.
async fn fake_stream(close: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let rec = |seq: u64| {
            format!(
                r#"{{"site":"east","seq":{seq},"t_ms":1,"id":"HC-2000","severity":"info","source":"controller:east","subject":"site:east","correlation":null,"message":"m{seq}"}}"#
            )
        };
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        let body = format!(
            ":\n\nid: 2\nevent: event\ndata: {}\n\nid: 3\r\nevent: event\r\ndata: {}\r\n\r\n",
            rec(2),
            rec(3)
        );
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(body.as_bytes()).await.unwrap();
        if close {
            drop(sock);
        } else {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_is_detected_and_a_closed_one_ends_with_an_error() {
    let opts = Options {
        stream_idle: Duration::from_millis(400),
        ..Options::default()
    };
    for close in [false, true] {
        let url = fake_stream(close).await;
        let client = Client::with_options(&endpoint(&url, Some(OPERATOR)), opts).unwrap();
        let mut s = client.stream(Some(2)).await.unwrap();
        let items: Vec<_> = tokio::time::timeout(Duration::from_secs(5), async {
            let mut v = Vec::new();
            while let Some(i) = s.next().await {
                v.push(i);
            }
            v
        })
        .await
        .expect("the stream ends by itself");
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].as_ref().map(|r| r.seq), Ok(3), "2 is at the cursor: dropped");
        let e = items[1].as_ref().unwrap_err();
        let want = if close {
            "closed the event stream"
        } else {
            "went silent"
        };
        assert!(e.is_unreachable() && e.to_string().contains(want), "{e}");
        assert_eq!(s.cursor(), Some(3));
    }
}
