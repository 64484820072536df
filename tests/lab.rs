//! `hactl lab` end to end: `up --json` starts both sites' controllers, every agent and
//! every SIP server as real processes and every pair becomes OK; a controller killed with
//! kill -9 is brought back by the next `up`, which leaves the rest alone; `down` leaves no
//! process and no namespace. As root the lab runs in network namespaces and the test sends
//! SIP OPTIONS to a pair's VIP from a namespace of its own on the lab's bridge: after kill
//! -9 of the primary SIP server, the other host answers on the VIP, which is bound on
//! exactly one host; after kill -9 of the primary host's agent, the address it leaves bound
//! is found through ARP by the new holder (a duplicate-address alarm naming its MAC) and
//! removed once `up` brings the agent back. Without root the namespaced tests print why
//! they are skipped.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hactl::daemon::exec::sip::{Message, Transaction, options_request};
use serde_json::Value;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A lab directory, taken down and removed on drop (also when the test fails).
struct Lab(PathBuf);

impl Lab {
    fn new(name: &str) -> Lab {
        let d = std::env::temp_dir().join(format!("hactl-lab-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Lab(d)
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let o = Command::new(env!("CARGO_BIN_EXE_hactl"))
            .arg("lab")
            .args(args)
            .arg("--dir")
            .arg(&self.0)
            .output()
            .expect("run hactl lab");
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    fn up(&self, extra: &[&str]) -> Value {
        let mut args = vec!["up", "--json"];
        args.extend(extra);
        let (ok, out, err) = self.run(&args);
        assert!(ok, "lab up failed: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("lab up --json: {e}: {out}"))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.run(&["down"]);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn list(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_default()
}

/// Every pid the lab lists (controllers, agents, applications).
fn pids(v: &Value) -> Vec<i32> {
    ["controllers", "agents", "apps"]
        .iter()
        .flat_map(|k| list(v, k))
        .map(|p| p["pid"].as_i64().unwrap_or(0) as i32)
        .collect()
}

/// Alive and not a zombie.
fn alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
    pid > 0 && !matches!(state, None | Some('Z') | Some('X'))
}

/// Runs `f` on a thread inside network namespace `ns` (or on a plain thread).
fn in_netns<T: Send + 'static>(ns: Option<String>, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        if let Some(ns) = ns {
            let file = std::fs::File::open(format!("/run/netns/{ns}")).expect("namespace file");
            // SAFETY: setns on a valid descriptor changes only this thread's namespace.
            assert_eq!(
                unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) },
                0,
                "setns {ns}"
            );
        }
        f()
    })
    .join()
    .expect("namespace thread")
}

/// `GET path` on the controller of `site`, with the viewer token, from its namespace.
fn api_get(v: &Value, site: &str, path: &str) -> Value {
    let c = list(v, "controllers")
        .into_iter()
        .find(|c| c["site"] == site)
        .expect("controller");
    let url = format!("{}{path}", c["url"].as_str().expect("url"));
    let token_file = v["tokens"]["viewer"].as_str().expect("viewer token file").to_string();
    let token = std::fs::read_to_string(token_file).expect("viewer token");
    in_netns(c["netns"].as_str().map(String::from), move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let resp = reqwest::Client::new()
                .get(&url)
                .bearer_auth(token.trim())
                .timeout(Duration::from_secs(3))
                .send()
                .await
                .expect("GET");
            assert_eq!(resp.status().as_u16(), 200, "GET {url}");
            resp.json::<Value>().await.expect("JSON")
        })
    })
}

/// The controller of `site`'s snapshot.
fn snapshot(v: &Value, site: &str) -> Value {
    api_get(v, site, "/v1/snapshot")
}

/// The controller of `site`'s events (the first thousand).
fn events(v: &Value, site: &str) -> Vec<Value> {
    list(&api_get(v, site, "/v1/events?limit=1000"), "events")
}

fn pair(v: &Value, site: &str) -> Value {
    let snap = snapshot(v, site);
    list(&snap, "pairs")
        .into_iter()
        .find(|p| p["id"] == format!("{site}-sip"))
        .expect("the site's pair")
}

fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {secs} s waiting for {what}");
}

/// The namespace prefix of a namespaced lab (`hactl-ID-`), from an agent's namespace.
fn prefix(v: &Value) -> Option<String> {
    let a = list(v, "agents").into_iter().next()?;
    let ns = a["netns"].as_str()?;
    let host = a["host"].as_str()?;
    ns.strip_suffix(host).map(String::from)
}

fn namespaces(prefix: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(String::from)
        .collect()
}

fn up_restart_down(lab: &Lab, extra: &[&str]) {
    let started = Instant::now();
    let v = lab.up(extra);
    assert_eq!(list(&v, "controllers").len(), 2, "{v}");
    assert_eq!(list(&v, "agents").len(), 4, "{v}");
    assert_eq!(list(&v, "apps").len(), 4, "{v}");
    for p in pids(&v) {
        assert!(alive(p), "pid {p} of the lab is not alive: {v}");
    }
    for role in ["viewer", "operator", "admin"] {
        let f = v["tokens"][role].as_str().expect("token file");
        assert!(std::fs::read_to_string(f).expect("token").trim().len() >= 32);
    }
    // The console on both sites' controllers, each named by its URL.
    let console = v["console"].as_str().unwrap_or_default();
    assert!(console.contains("console --controller"), "{v}");
    for c in v["controllers"].as_array().unwrap() {
        let url = c["url"].as_str().unwrap();
        assert!(console.contains(&format!("--controller {url}")), "{console}");
    }
    for site in ["east", "west"] {
        assert_eq!(pair(&v, site)["redundancy"], "ok", "{site}");
    }

    // kill -9 of one controller: the next `up` starts only that one.
    let east = list(&v, "controllers")[0]["pid"].as_i64().expect("pid") as i32;
    // SAFETY: kill has no memory effects; the pid is the lab's controller.
    unsafe { libc::kill(east, libc::SIGKILL) };
    wait_for(5, "the killed controller gone", || !alive(east));
    let again = lab.up(extra);
    let before: Vec<i32> = pids(&v).into_iter().filter(|p| *p != east).collect();
    let after = pids(&again);
    assert!(!after.contains(&east), "{again}");
    for p in &before {
        assert!(after.contains(p), "pid {p} was replaced: {v} then {again}");
    }
    let new_east = list(&again, "controllers")[0]["pid"].as_i64().expect("pid") as i32;
    assert!(alive(new_east));
    assert_eq!(pair(&again, "east")["redundancy"], "ok");

    // `status --json` shows the same processes.
    let (ok, out, err) = lab.run(&["status", "--json"]);
    assert!(ok, "{err}");
    let st: Value = serde_json::from_str(&out).expect("status JSON");
    assert_eq!(pids(&st), after);

    let (ok, _, err) = lab.run(&["down"]);
    assert!(ok, "lab down: {err}");
    for p in pids(&again) {
        assert!(!alive(p), "pid {p} survived lab down");
    }
    if let Some(prefix) = prefix(&again) {
        assert!(namespaces(&prefix).is_empty(), "{:?} left", namespaces(&prefix));
    }
    let (ok, _, err) = lab.run(&["down"]);
    assert!(ok, "a second lab down: {err}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn loopback_lab_comes_up_heals_a_killed_controller_and_goes_down() {
    let lab = Lab::new("loopback");
    up_restart_down(&lab, &["--loopback"]);
}

#[test]
fn namespaced_lab_comes_up_heals_a_killed_controller_and_goes_down() {
    if !is_root() {
        eprintln!("skipped: needs root to create network namespaces");
        return;
    }
    let lab = Lab::new("netns");
    up_restart_down(&lab, &[]);
}

/// The `Server` header of the answer to one OPTIONS sent to `target` from namespace `ns`,
/// or `None` without an answer in 300 ms.
fn who_answers(ns: &str, target: &str) -> Option<String> {
    let target: std::net::SocketAddr = target.parse().expect("target");
    in_netns(Some(ns.to_string()), move || {
        let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
        sock.connect(target).ok()?;
        sock.set_read_timeout(Some(Duration::from_millis(300))).ok()?;
        let t = Transaction::new();
        let local = sock.local_addr().ok()?;
        sock.send(options_request(&t, local, target).as_bytes()).ok()?;
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).ok()?;
        let m = Message::parse(&buf[..n]).filter(|m| m.answers(&t))?;
        (m.status() == Some(200)).then(|| m.header("server").unwrap_or_default().to_string())
    })
}

fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().expect("ip");
    assert!(
        o.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn vip_holders(prefix: &str, vip: &str) -> Vec<String> {
    ["east-sip1", "east-sip2"]
        .iter()
        .filter(|h| {
            let o = Command::new("ip")
                .args(["-n", &format!("{prefix}{h}"), "-br", "addr", "show", "dev", "sip0"])
                .output()
                .expect("ip addr");
            String::from_utf8_lossy(&o.stdout).contains(&format!(" {vip}/"))
        })
        .map(|h| h.to_string())
        .collect()
}

fn app_pid(dir: &Path, host: &str) -> i32 {
    let f = dir.join("data").join(host).join("apps").join(format!("{host}-sip.pid"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).expect("pid file")).expect("pid JSON");
    v["pid"].as_i64().expect("pid") as i32
}

#[test]
fn the_vip_is_answered_by_the_new_primary_after_kill_9() {
    if !is_root() {
        eprintln!("skipped: needs root for network namespaces and VIPs");
        return;
    }
    let lab = Lab::new("vip");
    let v = lab.up(&[]);
    let prefix = prefix(&v).expect("a namespaced lab");
    let vip = "10.237.1.100";
    let target = format!("{vip}:5060");
    // A client of our own on the lab's bridge (inside the lab's prefix, so `down` removes
    // it too).
    let client = format!("{prefix}client");
    ip(&["netns", "add", &client]);
    let br = format!("{prefix}br");
    ip(&[
        "-n", &br, "link", "add", "vclient", "type", "veth", "peer", "name", "eth0", "netns", &client,
    ]);
    ip(&["-n", &br, "link", "set", "vclient", "master", "br0", "up"]);
    ip(&["-n", &client, "addr", "add", "10.237.9.1/16", "dev", "eth0"]);
    ip(&["-n", &client, "link", "set", "eth0", "up"]);

    let mut first = None;
    wait_for(10, "an answer on the VIP", || {
        first = who_answers(&client, &target);
        first.is_some()
    });
    let first = first.unwrap_or_default();
    assert!(first.ends_with("east-sip1"), "answered by `{first}`");
    assert_eq!(vip_holders(&prefix, vip), ["east-sip1"]);

    let killed = Instant::now();
    // SAFETY: kill has no memory effects; the pid is the lab's primary SIP server.
    unsafe { libc::kill(app_pid(&lab.0, "east-sip1"), libc::SIGKILL) };
    let mut now = String::new();
    wait_for(10, "east-sip2 answering on the VIP", || {
        now = who_answers(&client, &target).unwrap_or_default();
        now.ends_with("east-sip2")
    });
    eprintln!("the VIP was answered by {now} {:?} after kill -9", killed.elapsed());
    wait_for(5, "the VIP on exactly one host", || {
        vip_holders(&prefix, vip) == ["east-sip2"]
    });
    assert_eq!(pair(&v, "east")["primary"]["app"], "east-sip2-sip");

    let (ok, _, err) = lab.run(&["down"]);
    assert!(ok, "lab down: {err}");
    assert!(namespaces(&prefix).is_empty(), "{:?} left", namespaces(&prefix));
    for p in pids(&v) {
        assert!(!alive(p), "pid {p} survived lab down");
    }
}

/// The MAC of the lab host's interface `ifname`.
fn mac_of(prefix: &str, host: &str, ifname: &str) -> String {
    let o = Command::new("ip")
        .args(["-n", &format!("{prefix}{host}"), "-j", "link", "show", "dev", ifname])
        .output()
        .expect("ip link");
    let v: Value = serde_json::from_slice(&o.stdout).expect("ip -j link");
    v[0]["address"].as_str().expect("a MAC").to_string()
}

fn messages(v: &Value, site: &str, id: &str) -> Vec<String> {
    events(v, site)
        .into_iter()
        .filter(|e| e["id"] == id)
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_vip_left_by_a_killed_agent_is_found_by_arp_and_removed_when_it_returns() {
    if !is_root() {
        eprintln!("skipped: needs root for network namespaces and VIPs");
        return;
    }
    let lab = Lab::new("arp");
    let v = lab.up(&[]);
    let prefix = prefix(&v).expect("a namespaced lab");
    let vip = "10.237.1.100";
    wait_for(10, "the VIP on east-sip1", || {
        vip_holders(&prefix, vip) == ["east-sip1"]
    });
    let agent = list(&v, "agents")
        .into_iter()
        .find(|a| a["host"] == "east-sip1")
        .and_then(|a| a["pid"].as_i64())
        .expect("east-sip1's agent") as i32;
    // SAFETY: kill has no memory effects; the pid is the lab's agent of east-sip1.
    unsafe { libc::kill(agent, libc::SIGKILL) };
    // Its controller loses it, promotes east-sip2 and binds the VIP there; east-sip1's
    // kernel still has the address and answers ARP for it.
    wait_for(20, "the VIP bound on both hosts", || {
        vip_holders(&prefix, vip) == ["east-sip1", "east-sip2"]
    });
    let mac = mac_of(&prefix, "east-sip1", "sip0");
    let mut dup = Vec::new();
    wait_for(10, "a duplicate-address alarm", || {
        dup = messages(&v, "east", "HC-1204");
        !dup.is_empty()
    });
    assert!(
        dup[0].contains(&format!("answered by {mac}")) && dup[0].contains("east-sip1"),
        "{dup:?} (east-sip1's MAC {mac})"
    );
    assert_ne!(pair(&v, "east")["redundancy"], "ok", "a duplicate is not healthy");
    // The agent comes back: it reports the address bound, the controller removes it, the
    // new holder sees nobody else answer.
    lab.up(&[]);
    wait_for(20, "the VIP on east-sip2 only", || {
        vip_holders(&prefix, vip) == ["east-sip2"]
    });
    wait_for(10, "the duplicate resolved", || {
        !messages(&v, "east", "HC-1205").is_empty()
    });
}
