//! Probes against loopback: tcp up and down, sip-options against the built-in responder,
//! a silent socket (retransmitted per timer E, failing at the timeout), a responder that
//! only ever answers provisionally, a closed port, and exec probes.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hactl::daemon::exec::probe;
use hactl::daemon::exec::sip::Message;
use hactl::daemon::exec::sip_responder::SipResponder;
use hactl::engine::{Probe, ProbeKind, Span};

fn lo() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[tokio::test]
async fn tcp_is_alive_while_something_listens_and_dead_after() {
    let l = tokio::net::TcpListener::bind(lo()).await.unwrap();
    let addr = l.local_addr().unwrap();
    let r = probe::tcp(addr, Duration::from_secs(1)).await;
    assert!(r.alive, "{r:?}");
    drop(l);
    let r = probe::tcp(addr, Duration::from_secs(1)).await;
    assert!(!r.alive, "{r:?}");
    assert!(r.detail.contains(&addr.to_string()), "{}", r.detail);
}

#[tokio::test]
async fn sip_options_against_the_responder_is_alive_at_the_first_try() {
    let resp = SipResponder::bind(lo(), "host-a").await.unwrap();
    let probe = Probe {
        kind: ProbeKind::SipOptions,
        port: resp.local_addr().port(),
        command: vec![],
        interval: Span::secs(5),
        timeout: Span::secs(2),
        failures: 3,
    };
    let r = probe::run(&probe, resp.local_addr().ip()).await;
    assert!(r.alive, "{r:?}");
    assert_eq!(r.status, Some(200));
    assert_eq!(r.sent, 1);
    assert!(r.elapsed < Duration::from_millis(500));
}

/// A UDP socket that records every request and never answers.
async fn silent() -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let sock = tokio::net::UdpSocket::bind(lo()).await.unwrap();
    let addr = sock.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, _)) = sock.recv_from(&mut buf).await {
            s2.lock().unwrap().push(buf[..n].to_vec());
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn a_silent_server_fails_at_the_timeout_after_retransmissions() {
    let (addr, seen) = silent().await;
    let r = probe::sip_options(addr, Duration::from_millis(1700)).await;
    assert!(!r.alive, "{r:?}");
    assert!(
        r.elapsed >= Duration::from_millis(1700) && r.elapsed < Duration::from_millis(2500),
        "{r:?}"
    );
    // Timer E: sent at 0, 0.5 s and 1.5 s.
    assert_eq!(r.sent, 3, "{r:?}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let branches: HashSet<String> = seen
        .iter()
        .map(|d| Message::parse(d).unwrap().top_branch().unwrap().to_string())
        .collect();
    assert_eq!(branches.len(), 1, "retransmissions keep the transaction");
    assert!(branches.iter().all(|b| b.starts_with("z9hG4bK")));
}

#[tokio::test]
async fn a_provisional_answer_is_not_alive() {
    let resp = SipResponder::bind_with_status(lo(), "slow", 100).await.unwrap();
    let r = probe::sip_options(resp.local_addr(), Duration::from_millis(800)).await;
    assert!(!r.alive, "{r:?}");
    assert_eq!(r.status, Some(100));
    assert!(r.detail.contains("provisional"), "{}", r.detail);
}

#[tokio::test]
async fn any_final_answer_is_alive() {
    let resp = SipResponder::bind_with_status(lo(), "busy", 503).await.unwrap();
    let r = probe::sip_options(resp.local_addr(), Duration::from_secs(1)).await;
    assert!(r.alive, "{r:?}");
    assert_eq!(r.status, Some(503));
}

#[tokio::test]
async fn a_closed_udp_port_fails_before_the_timeout() {
    let addr = {
        let s = std::net::UdpSocket::bind(lo()).unwrap();
        s.local_addr().unwrap()
    };
    let r = probe::sip_options(addr, Duration::from_secs(3)).await;
    assert!(!r.alive);
    assert!(r.elapsed < Duration::from_secs(1), "{r:?}");
}

#[tokio::test]
async fn exec_probes_count_exit_zero_in_time() {
    let t = Duration::from_secs(2);
    assert!(probe::exec(&["true".to_string()], t).await.alive);
    let r = probe::exec(&["sh".into(), "-c".into(), "echo broken; exit 2".into()], t).await;
    assert!(!r.alive);
    assert!(
        r.detail.contains("exit code 2") && r.detail.contains("broken"),
        "{}",
        r.detail
    );
    let r = probe::exec(&["sleep".into(), "5".into()], Duration::from_millis(200)).await;
    assert!(!r.alive);
    assert!(r.elapsed < Duration::from_secs(2), "{r:?}");
}
