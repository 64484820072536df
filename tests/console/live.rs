//! The live console end to end: the real binary in tmux against real `hactl controller`
//! and `hactl agent` processes on loopback (two peered sites, a SIP pair each, the
//! built-in OPTIONS responder as the SIP servers). A switchover by keys lands in the
//! controller's journal with the operator's name; kill -9 of a controller turns its
//! header to RECONNECTING then STALE and its rows stale, and the console stays; the
//! restarted controller is CONNECTED again and the console's log holds every event of
//! both journals once (no gap, no duplicate); a controller stopped with SIGSTOP never
//! holds up a key. Every wait is bounded; processes are killed when a test fails too.
//! Skips with a message when tmux is not installed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::e2e::{Session, tmux, tmux_cmd, wait_for};
use super::harness::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn topology(east: u16, west: u16, sip: u16) -> String {
    let site = |id: &str, peer: &str, port: u16| {
        format!(
            "[[site]]\nid = \"{id}\"\npeer = \"{peer}\"\noos-check = \"1s\"\noos-force = \"4s\"\ncontroller = \"http://127.0.0.1:{port}\"\n\n"
        )
    };
    let host = |id: &str, site: &str| format!("[[host]]\nid = \"{id}\"\nsite = \"{site}\"\nnics = [\"lo\"]\n\n");
    let app = |id: &str, host: &str, ip: &str| sip_app(id, host, ip, sip, "");
    format!(
        "[controller]\nheartbeat-interval = \"200ms\"\nheartbeat-timeout = \"1s\"\nmode-timeout = \"3s\"\n\n{}{}{}{}{}{}{}{}{}{}[[pair]]\nid = \"pe\"\napps = [\"a1\", \"a2\"]\n\n[[pair]]\nid = \"pw\"\napps = [\"b1\", \"b2\"]\n\n[[script]]\nid = \"hello\"\ncommand = \"/bin/echo\"\nargs = [\"hello from\", \"{{host}}\"]\nhosts = [\"h3\"]\n",
        site("east", "west", east),
        site("west", "east", west),
        host("h1", "east"),
        host("h2", "east"),
        host("h3", "west"),
        host("h4", "west"),
        app("a1", "h1", "127.0.0.21"),
        app("a2", "h2", "127.0.0.22"),
        app("b1", "h3", "127.0.0.31"),
        app("b2", "h4", "127.0.0.32"),
    )
}

fn controller(dir: &Path, site: &str, port: u16) -> Controller {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hactl"));
    cmd.args(["controller", "--config"])
        .arg(dir.join("deploy.toml"))
        .args(["--site", site, "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.join(site))
        .arg("--tokens")
        .arg(dir.join("tokens.toml"));
    Controller::spawn(cmd)
}

/// The operator's token in a file only its owner may read, as the client demands.
fn token_file(dir: &Path, secret: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let f = dir.join("console.token");
    std::fs::write(&f, secret).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    f.display().to_string()
}

/// Starts the console in a tmux session of 120x40, in `dir` (where `e` exports).
fn console(session: &str, dir: &Path, urls: &[&str], token: &str) -> Session {
    let bin = env!("CARGO_BIN_EXE_hactl");
    let mut cmd = format!("cd '{}' && USER=e2e '{bin}' console", dir.display());
    for u in urls {
        cmd.push_str(&format!(" --controller {u}"));
    }
    cmd.push_str(&format!(" --token-file '{token}'; echo console-exited-$?; sleep 60"));
    let out = tmux_cmd()
        .args([
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "120",
            "-y",
            "40",
            "sh",
            "-c",
            &cmd,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = tmux(&["set-option", "-t", session, "status", "off"]);
    Session(session.to_string())
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

/// The row of pair `id` on the Pairs view.
fn row(screen: &str, id: &str) -> String {
    screen
        .lines()
        .find(|l| l.split_whitespace().next().is_some_and(|w| w == id) || l.starts_with(&format!("▶ {id} ")))
        .unwrap_or_default()
        .to_string()
}

/// The status cell of a pair's row (the last column).
fn status_of(row: &str) -> String {
    row.trim_end()
        .rsplit("  ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn no_tmux() -> bool {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed; the live console test needs it");
        return true;
    }
    false
}

/// Waits until `f` holds, or panics with `what` and the screen after `secs`.
fn until_screen(session: &str, secs: u64, what: &str, f: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = screen(session);
        if f(&s) {
            return s;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}; screen:\n{s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every `(site, seq)` a controller journaled.
async fn journal(url: &str) -> Vec<(String, u64)> {
    all_events(url)
        .await
        .iter()
        .map(|e| {
            (
                e["site"].as_str().unwrap_or("").to_string(),
                e["seq"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// Two peered sites on loopback: each controller with its two agents and their SIP
/// servers, every pair OK. Dropped (also when a test fails): agents, then the SIP
/// servers, then the controllers, then the directory.
struct TwoSites {
    _agents: Vec<AgentProc>,
    _leftovers: Leftovers,
    east: Controller,
    west: Controller,
    e: String,
    w: String,
    pe: u16,
    dir: Dir,
}

impl TwoSites {
    async fn start(name: &str) -> TwoSites {
        let (pe, pw, sip) = (free_port(), free_port(), free_port());
        let leftovers = Leftovers(format!(":{sip} --name"));
        let dir = Dir::with_topology(name, &topology(pe, pw, sip));
        let d = dir.path();
        let east = controller(d, "east", pe);
        let west = controller(d, "west", pw);
        let (e, w) = (east.url.clone(), west.url.clone());
        until(15, "both controllers ready", || async {
            get(&e, "/readyz", None).await.0 == 200 && get(&w, "/readyz", None).await.0 == 200
        })
        .await;
        let agents = vec![
            AgentProc::start(d, &e, "h1", "127.0.0.21"),
            AgentProc::start(d, &e, "h2", "127.0.0.22"),
            AgentProc::start(d, &w, "h3", "127.0.0.31"),
            AgentProc::start(d, &w, "h4", "127.0.0.32"),
        ];
        until(30, "both pairs OK", || async {
            pair(&e, "pe").await["redundancy"] == "ok" && pair(&w, "pw").await["redundancy"] == "ok"
        })
        .await;
        TwoSites {
            _agents: agents,
            _leftovers: leftovers,
            east,
            west,
            e,
            w,
            pe,
            dir,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_console_switches_over_outlives_a_killed_controller_and_resumes_its_stream() {
    if no_tmux() {
        return;
    }
    let mut sites = TwoSites::start("live-console").await;
    let (e, w, pe) = (sites.e.clone(), sites.w.clone(), sites.pe);
    let d = sites.dir.path().to_path_buf();
    let d = d.as_path();

    let session = format!("hactl-live-{}", std::process::id());
    let _s = console(&session, d, &[&e, &w], &token_file(d, OPERATOR));
    let s = until_screen(&session, 20, "both controllers connected", |s| {
        s.contains("east: CONNECTED") && s.contains("west: CONNECTED") && s.contains("all OK")
    });
    assert!(s.contains("op alice"), "the operator is the token's name:\n{s}");
    assert!(s.contains("read-write"), "{s}");

    // A switchover by keys: the plan, its checks, Cancel focused; then the journal has it
    // with the operator's name.
    tmux(&["send-keys", "-t", &session, "s"]);
    until_screen(&session, 10, "the plan", |s| {
        s.contains("Every check allows it") && s.contains(">[ Cancel ]<")
    });
    tmux(&["send-keys", "-t", &session, "Right", "Enter"]);
    let s = wait_for(&session, "switchover of pe completed", 20);
    assert!(row(&s, "pe").contains("a2"), "{s}");
    let (_, actions) = get(&e, "/v1/actions", Some(VIEWER)).await;
    let acts = actions["actions"].as_array().cloned().unwrap_or_default();
    let act = acts
        .iter()
        .find(|a| a["command"].as_str().is_some_and(|c| c.contains("\"pair\":\"pe\"")))
        .unwrap_or_else(|| panic!("no switchover in the journal's actions: {actions}"));
    assert_eq!(act["operator"].as_str(), Some("alice"), "{act}");
    assert!(
        act["outcome"].as_str().is_some_and(|o| o.starts_with("accepted")),
        "{act}"
    );
    assert!(
        act["request_id"].as_str().is_some_and(|r| r.starts_with("console-")),
        "{act}"
    );

    // A script of the allow-list, on a host of the other site: its output streams in.
    tmux(&["send-keys", "-t", &session, "r"]);
    wait_for(&session, "pick the script", 5);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    wait_for(&session, "pick the host", 5);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    let s = wait_for(&session, "hello from h3", 15);
    assert!(s.contains("OK: exit 0"), "{s}");
    tmux(&["send-keys", "-t", &session, "Escape"]);

    // kill -9 of east's controller: RECONNECTING, then STALE; its rows stale, never OK.
    sites.east.kill9();
    until_screen(&session, 10, "east RECONNECTING", |s| s.contains("east: RECONNECTING"));
    let s = until_screen(&session, 20, "east STALE", |s| s.contains("east: STALE"));
    let r = row(&s, "pe");
    assert!(status_of(&r).starts_with("[?] STALE"), "{s}");
    assert_eq!(status_of(&row(&s, "pw")), "OK", "west is still known:\n{s}");
    assert!(!s.contains("console-exited"), "the console stays:\n{s}");
    // West logs while east is away (its peer is lost); the console takes those in.
    until_screen(&session, 15, "west's events of the lost peer", |s| {
        s.contains("link west→east")
    });

    // Restarted on the same address and journal: CONNECTED, and the stream resumes.
    sites.east = controller(d, "east", pe);
    assert_eq!(sites.east.url, e);
    until_screen(&session, 20, "east CONNECTED again", |s| {
        s.contains("east: CONNECTED") && status_of(&row(s, "pe")) == "OK"
    });
    // Once both journals are quiet, the console's log holds each of their events once.
    let mut last = String::new();
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let mut want = journal(&e).await;
        want.extend(journal(&w).await);
        want.sort();
        tmux(&["send-keys", "-t", &session, "3", "e"]);
        let s = wait_for(&session, "exported", 10);
        let file = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|f| f.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .unwrap_or_else(|| panic!("no export file:\n{s}"));
        let text = std::fs::read_to_string(&file).unwrap();
        let _ = std::fs::remove_file(&file);
        let mut got: Vec<(String, u64)> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| {
                (
                    v["site"].as_str().unwrap_or("").to_string(),
                    v["seq"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        let n = got.len();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), n, "an event shown twice");
        if got == want {
            break;
        }
        last = format!("console {} events, journals {}: missing {:?}", got.len(), want.len(), {
            let mut m = want.clone();
            m.retain(|k| !got.contains(k));
            m
        });
        assert!(Instant::now() < end, "the console's log is not the journals': {last}");
        tmux(&["send-keys", "-t", &session, "Escape"]);
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = last;
    tmux(&["send-keys", "-t", &session, "q"]);
    wait_for(&session, "console-exited-0", 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_stopped_with_sigstop_never_holds_up_a_key() {
    if no_tmux() {
        return;
    }
    let dir = Dir::new("live-sigstop");
    let d = dir.path();
    let c = Controller::start(d, "127.0.0.1:0");
    let u = c.url.clone();
    until(10, "ready", || async { get(&u, "/readyz", None).await.0 == 200 }).await;
    let session = format!("hactl-live-stop-{}", std::process::id());
    let _s = console(&session, d, &[&u], &token_file(d, OPERATOR));
    until_screen(&session, 20, "connected", |s| s.contains("east: CONNECTED"));

    struct Resume(u32);
    impl Drop for Resume {
        fn drop(&mut self) {
            let _ = Command::new("kill").args(["-CONT", &self.0.to_string()]).status();
        }
    }
    let pid = c.child.id();
    let resume = Resume(pid);
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    // Keys keep being answered while every call to the controller hangs: views, the
    // switchover dialog (its plan is asked for and does not come), Esc.
    let views = [
        ("2", "[2 Hosts]"),
        ("3", "[3 Events]"),
        ("4", "[4 Sites]"),
        ("1", "[1 Pairs]"),
    ];
    let hung = Instant::now();
    while hung.elapsed() < Duration::from_secs(9) {
        for (key, shows) in views {
            tmux(&["send-keys", "-t", &session, key]);
            until_screen(
                &session,
                2,
                &format!("key {key} answered while the controller hangs"),
                |s| s.contains(shows),
            );
        }
        // No agent, no primary: pick the instance first (while the controller still
        // counts as connected), then the plan is asked for.
        tmux(&["send-keys", "-t", &session, "s"]);
        let s = until_screen(&session, 2, "a dialog at once", |s| {
            s.contains("promote which?") || s.contains("Switch over p")
        });
        if s.contains("promote which?") {
            tmux(&["send-keys", "-t", &session, "Enter"]);
        }
        until_screen(&session, 2, "the switchover dialog at once", |s| {
            s.contains("Switch over p")
        });
        tmux(&["send-keys", "-t", &session, "Escape"]);
        until_screen(&session, 2, "Esc answered", |s| !s.contains("Switch over p"));
    }
    let s = until_screen(&session, 15, "the hung controller shown lost", |s| {
        s.contains("east: RECONNECTING") || s.contains("east: STALE")
    });
    assert!(!s.contains("console-exited"), "{s}");
    drop(resume);
    until_screen(&session, 20, "connected again once it runs", |s| {
        s.contains("east: CONNECTED")
    });
    tmux(&["send-keys", "-t", &session, "q"]);
    wait_for(&session, "console-exited-0", 10);
}

/// The live console's screenshots (written where `HACTL_SCREENSHOTS` says, else into a
/// temporary directory and checked): a real render of the console on two sites' real
/// controllers, connected, then with west's controller killed: RECONNECTING, then STALE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_live_screenshot_pages() {
    use hactl::client::{Endpoint, Secret};
    use hactl::console::theme::{Depth, Theme};
    use hactl::console::{Console, LiveSource};

    let (dir, temporary) = match std::env::var("HACTL_SCREENSHOTS") {
        Ok(d) => (d, false),
        Err(_) => {
            let d = std::env::temp_dir().join(format!("hactl-live-screenshots-{}", std::process::id()));
            std::fs::create_dir_all(&d).unwrap();
            (d.display().to_string(), true)
        }
    };
    let mut sites = TwoSites::start("live-shots").await;
    let eps: Vec<Endpoint> = [&sites.e, &sites.w]
        .iter()
        .map(|u| Endpoint {
            token: Some(Secret::new(OPERATOR)),
            ..Endpoint::new(u).unwrap()
        })
        .collect();
    let src = LiveSource::start(&eps).unwrap();
    let mut c = Console::new(src, Theme::load(None, Depth::TrueColor).unwrap(), false, "alice".into());
    let shoot = |c: &mut Console<LiveSource>, name: &str, want: &[&str]| {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            c.tick(Instant::now());
            c.set_wall_clock(std::time::SystemTime::now());
            let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 36)).unwrap();
            t.draw(|f| c.render(f)).unwrap();
            let html = hactl::console::html::page(t.backend().buffer(), name);
            let text = html.replace('\u{a0}', " ");
            if want.iter().all(|w| text.contains(w)) {
                std::fs::write(format!("{dir}/{name}.html"), html).unwrap();
                std::fs::write(format!("{dir}/{name}.size"), "120 36\n").unwrap();
                return;
            }
            assert!(Instant::now() < end, "{name}: {want:?} never showed");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    shoot(
        &mut c,
        "live",
        &["east: CONNECTED", "west: CONNECTED", "all OK: 2 pairs redundant"],
    );
    sites.west.kill9();
    shoot(&mut c, "live-reconnecting", &["west: RECONNECTING", "STALE"]);
    shoot(&mut c, "live-stale", &["west: STALE", "[?] STALE"]);
    assert!(
        c.state.snapshot.pairs.iter().any(|p| p.site == "west"),
        "west's rows stay"
    );
    if temporary {
        std::fs::remove_dir_all(&dir).ok();
    }
}
