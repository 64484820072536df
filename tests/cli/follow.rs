//! `hactl events --follow` across a kill -9 and restart of its controller: the follower
//! reconnects by itself and prints every journaled event exactly once, in order, from the
//! page before the stream to the events logged after the restart.

use hactl::wire::EventRecord;

use super::harness::*;
use super::ops::*;

fn seqs(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .map(|l| {
            serde_json::from_str::<EventRecord>(l)
                .unwrap_or_else(|e| panic!("{l}: {e}"))
                .seq
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_follow_has_no_gap_or_duplicate_across_a_controller_kill_and_restart() {
    let dir = Dir::new("cli-follow");
    let (_, viewer) = tokens(dir.path());
    let mut c = Controller::start(dir.path(), "127.0.0.1:0");
    let u = c.url.clone();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let (h1, _) = agent(&u, "h1", &["a"], None).await;
    let (h2, _) = agent(&u, "h2", &["b"], None).await;
    until(15, "pair p OK", || async { pair(&u, "p").await["redundancy"] == "ok" }).await;

    let env = [("HACTL_CONTROLLER", u.as_str()), ("HACTL_TOKEN_FILE", viewer.as_str())];
    let mut f = Follower::start(&["events", "--follow", "--json", "--since", "0"], &env);
    let n = all_events(&u).await.len();
    f.until(10, "the journal so far", |seen| seen.len() >= n);

    // Live events: a crash and its failover.
    h1.send(Ctl::Exit("a".into())).unwrap();
    until(15, "b primary", || async {
        pair(&u, "p").await["primary"]["app"] == "b"
    })
    .await;
    let n = all_events(&u).await.len();
    f.until(10, "the failover's events", |seen| seen.len() >= n);

    // kill -9; the restarted controller logs its start, the agents' return and a failover.
    c.kill9();
    drop((h1, h2));
    let c2 = Controller::start(dir.path(), &c.addr());
    until(10, "ready again", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let (h1, _) = agent(&u, "h1", &["a"], None).await;
    let (_h2, _) = agent(&u, "h2", &["b"], None).await;
    until(15, "the restarted controller knows the pair", || async {
        pair(&u, "p").await["primary"]["status"] == "up"
    })
    .await;
    h1.send(Ctl::Exit("a".into())).unwrap();
    let all = all_events(&u).await;
    f.until(20, "every event after the restart", |seen| seen.len() >= all.len());
    let got = seqs(&f.seen);
    assert_eq!(
        got,
        (1..=got.len() as u64).collect::<Vec<_>>(),
        "every event once, in order"
    );
    let journal = all_events(&u).await;
    for (line, rec) in f.seen.iter().zip(&journal) {
        let printed: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(&printed, rec, "printed as journaled");
    }
    assert_eq!(f.interrupt(), Some(0), "Ctrl-C ends --follow cleanly");
    drop(c2);
}
