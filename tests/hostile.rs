//! Hostile input: one regression test per way an attacker or a careless operator broke
//! hactl (a panic, unbounded memory or time, an invalid file accepted, forged output, an
//! unclear message), each named after what broke.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hactl::engine::config::{self, BUILTIN};

fn hactl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hactl"))
        .args(args)
        .output()
        .expect("run hactl")
}

/// Runs hactl, killing it (and failing) if it takes longer than `limit`.
fn hactl_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hactl"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hactl");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("hactl {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hactl-hostile-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(name: &str, text: &str) -> String {
    let path = temp_dir(name).join("deploy.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A usage error: exit 2, one line, no panic, containing `needle`.
fn assert_refused(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "wanted `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn problems(text: &str) -> Vec<String> {
    match config::parse(text, "deploy.toml") {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

/// Two sites' worth of a valid file with one pair `p` on hosts `h1`, `h2`.
const SMALL: &str = r#"[[site]]
id = "s"

[[host]]
id = "h1"
site = "s"
nics = ["sip"]

[[host]]
id = "h2"
site = "s"
nics = ["sip"]

[[app]]
id = "a"
kind = "app"
host = "h1"

[[app]]
id = "b"
kind = "app"
host = "h2"

[[pair]]
id = "p"
apps = ["a", "b"]
vip = { address = "10.1.0.10/24", nic = "sip" }
"#;

// ---------------------------------------------------------------- 1. panics

#[test]
fn group_of_pairs_without_any_app_does_not_panic() {
    let text = "[[pair]]\nid = \"p\"\napps = []\n[[group]]\nid = \"g\"\nleader = \"p\"\nmembers = [\"p\", \"p\"]\n";
    let got = problems(text);
    assert!(got.iter().any(|p| p.contains("pair `p` is listed twice")), "{got:?}");
    let o = hactl(&["config", "check", &write("group-no-app", text)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

// ---------------------------------------------------------------- 2. no pairs

#[test]
fn random_drill_on_a_topology_without_pairs_does_not_divide_by_zero() {
    let file = write("no-pairs", "[[site]]\nid = \"s\"\n");
    let o = hactl(&["drill", "--headless", "--scenario", "random", "--topology", &file]);
    assert_refused(&o, "no hosts or no apps: a drill has nothing to fault");
    // The planner itself copes, whatever the command line does.
    let topo = config::parse("[[site]]\nid = \"s\"\n", "t.toml").unwrap();
    let mut s = hactl::drill::scenario::build("random", 1, &Default::default()).unwrap();
    s.topology = topo;
    let s = hactl::drill::random::reschedule(s, 1);
    assert!(s.description.starts_with("0 faults"), "{}", s.description);
}

// ---------------------------------------------------------------- 3. closed pipes, full disks

#[test]
fn closed_pipe_ends_quietly() {
    for args in [
        &["drill", "--headless", "--scenario", "random"][..],
        &["drill", "--headless", "--scenario", "random", "--json"],
        &["drill", "--catalog"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hactl"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader is gone: the pipe is closed.
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = child.wait().unwrap();
        assert!(!first.is_empty());
        assert_eq!(err, "", "{args:?}: quiet");
        assert_ne!(status.code(), Some(101), "{args:?}: no panic");
    }
}

#[test]
fn full_disk_is_one_line_and_a_non_zero_exit() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    for args in [
        &["drill", "--list"][..],
        &["drill", "--catalog"],
        &["config", "check", "topologies/builtin.toml"],
        &["drill", "--headless", "--scenario", "manual-switchover"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_hactl"))
            .args(args)
            .stdout(full())
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err, "hactl: cannot write to stdout: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
    // Problems go to standard error; when that is full too the exit code still tells.
    let bad = write("full-stderr", "[[site]]\nid = \"\"\n");
    let o = Command::new(env!("CARGO_BIN_EXE_hactl"))
        .args(["config", "check", &bad])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

// ---------------------------------------------------------------- 4. unbounded reads

#[test]
fn reads_refuse_devices_fifos_and_huge_files() {
    let limit = Duration::from_secs(10);
    let o = hactl_within(&["config", "check", "/dev/zero"], limit);
    assert_refused(&o, "/dev/zero: cannot read: a character device, not a regular file");
    let o = hactl_within(
        &["drill", "--headless", "--scenario", "random", "--topology", "/dev/zero"],
        limit,
    );
    assert_refused(&o, "not a regular file");
    let o = hactl_within(&["drill", "--theme", "/dev/zero"], limit);
    assert_refused(&o, "not a regular file");

    let dir = temp_dir("reads");
    let fifo = dir.join("fifo");
    if Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        let o = hactl_within(&["config", "check", fifo.to_str().unwrap()], limit);
        assert_refused(&o, "a FIFO, not a regular file");
    }
    let huge = dir.join("huge.toml");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(config::MAX_FILE_BYTES + 1).unwrap(); // sparse: costs no disk
    let o = hactl_within(&["config", "check", huge.to_str().unwrap()], limit);
    assert_refused(&o, "larger than the limit of 16 MiB");
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------- 5. quadratic validation

#[test]
fn shared_vip_is_reported_once_per_later_pair_in_linear_time() {
    let mut text = String::from(SMALL.split("[[app]]").next().unwrap());
    for i in 0..2000 {
        text += &format!(
            "[[app]]\nid = \"a{i}\"\nkind = \"app\"\nhost = \"h1\"\n[[app]]\nid = \"b{i}\"\nkind = \"app\"\nhost = \"h2\"\n[[pair]]\nid = \"p{i}\"\napps = [\"a{i}\", \"b{i}\"]\nvip = {{ address = \"10.0.0.10/24\", nic = \"sip\" }}\n"
        );
    }
    let start = Instant::now();
    let got = problems(&text);
    let took = start.elapsed();
    assert_eq!(got.len(), 1999, "each later pair once");
    assert!(got[0].ends_with("address 10.0.0.10 is already the VIP of pair `p0` (written `10.0.0.10/24` there)"));
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn many_problems_in_a_large_file_take_linear_time() {
    let mut text = String::from("[[site]]\nid = \"s\"\n");
    for i in 0..100_000 {
        text += &format!("[[host]]\nid = \"h{i}\"\nsite = \"x\"\nnics = [\"mgmt\", \"sip\"]\n");
    }
    let start = Instant::now();
    let got = problems(&text);
    let took = start.elapsed();
    assert_eq!(got.len(), 100_000);
    assert!(
        got[99_999].starts_with("deploy.toml:400001: host[h99999].site: unknown site `x`"),
        "{}",
        got[99_999]
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

// ---------------------------------------------------------------- 6. flags without bounds

#[test]
fn duration_and_pairs_have_upper_bounds() {
    let random = ["drill", "--headless", "--scenario", "random"];
    for d in ["18446744073709551615ms", "100000h", "30d", "213503982334d"] {
        let o = hactl(&[&random[..], &["--duration", d]].concat());
        assert_refused(&o, "--duration: at most 7d: a run keeps every event of its transcript");
    }
    let o = hactl(&[&random[..], &["--duration", "99999999999999999999999d"]].concat());
    assert_refused(&o, "is not a duration");
    for n in ["18446744073709551615", "10001", "0", "-1"] {
        let o = hactl(&[&random[..], &["--pairs", n]].concat());
        assert_refused(&o, "the number of pairs is a whole number from 1 to 10000");
    }
    let help = String::from_utf8(hactl(&["drill", "--help"]).stdout).unwrap();
    assert!(help.contains("1 to 10000") && help.contains("10m to 7d"), "{help}");
}

#[test]
fn pairs_one_runs_one_pair() {
    let o = hactl(&["drill", "--headless", "--scenario", "random", "--pairs", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", stderr(&o)));
    assert_eq!(v["final"].as_object().unwrap().len(), 1);
}

// ---------------------------------------------------------------- 8. the same VIP written another way

#[test]
fn same_vip_written_another_way_is_a_duplicate() {
    for other in [
        "10.1.0.10",
        "10.1.0.10/16",
        "10.1.0.10/32",
        "::ffff:10.1.0.10",
        "::ffff:10.1.0.10/120",
    ] {
        let text = format!(
            "{SMALL}\n[[app]]\nid = \"c\"\nkind = \"app\"\nhost = \"h1\"\n\n[[app]]\nid = \"d\"\nkind = \"app\"\nhost = \"h2\"\n\n[[pair]]\nid = \"q\"\napps = [\"c\", \"d\"]\nvip = {{ address = \"{other}\", nic = \"sip\" }}\n"
        );
        let got = problems(&text);
        assert_eq!(
            got,
            vec![format!(
                "deploy.toml:42: pair[q].vip.address: address 10.1.0.10 is already the VIP of pair `p` (written `10.1.0.10/24` there)"
            )],
            "{other}"
        );
    }
}

#[test]
fn malformed_vip_prefix_is_rejected() {
    for bad in [
        "10.1.0.10/+24",
        "10.1.0.10/",
        "10.1.0.10/33",
        "10.1.0.10/ 24",
        "10.1.0.10/0024",
        "0.0.0.0",
        "224.0.0.1",
    ] {
        let got = problems(&SMALL.replace("10.1.0.10/24", bad));
        assert_eq!(got.len(), 1, "{bad}: {got:?}");
        assert!(
            got[0].starts_with("deploy.toml:27: pair[p].vip.address: `"),
            "{bad}: {got:?}"
        );
    }
}

// ---------------------------------------------------------------- 9. wrapping durations

#[test]
fn bare_number_durations_do_not_wrap() {
    let with = |k: &str, v: &str| problems(&format!("[[site]]\nid = \"s\"\n{k} = {v}\n"));
    assert_eq!(
        with("oos-check", "18446744073709552"),
        vec!["deploy.toml:3: site[s].oos-check: 18446744073709552 seconds is longer than the longest allowed, 5m"]
    );
    assert_eq!(
        with("oos-check", "\"18446744073709551615ms\""),
        vec!["deploy.toml:3: site[s].oos-check: 18446744073709551615ms is longer than the longest allowed, 5m"]
    );
    assert_eq!(
        with("oos-check", "-5"),
        vec![
            "deploy.toml:3: site[s].oos-check: -5 is negative: a duration is a whole number of seconds or has a unit (500ms, 30s, 10m, 24h)"
        ]
    );
    let got = problems("[controller]\nheartbeat-interval = 18446744073709552\n[[site]]\nid = \"s\"\n");
    assert_eq!(
        got,
        vec![
            "deploy.toml:2: controller.heartbeat-interval: 18446744073709552 seconds is longer than the longest allowed, 1500ms"
        ]
    );
    assert!(with("oos-check", "1.5")[0].contains("a fractional number is not a duration"));
    assert!(with("oos-check", "\"+5s\"")[0].contains("`+5s` is not a duration"));
}

// ---------------------------------------------------------------- 10. scripts outside their allow-list

#[test]
fn alarm_script_on_a_host_outside_its_allow_list_is_refused() {
    let base = format!(
        "{SMALL}\n[[script]]\nid = \"fix\"\ncommand = \"/usr/local/bin/fix\"\nhosts = [\"h1\"]\n\n[[alarm]]\nid = \"x\"\nevent = \"00-5150\"\n"
    );
    let on_host = format!("{base}reactions = [{{ run-script = \"fix\", on = \"h2\" }}]\n");
    assert_eq!(
        problems(&on_host),
        vec![
            "deploy.toml:37: alarm[x].reactions[0].on: script `fix` may run on host `h2`, which is not in its hosts allow-list"
        ]
    );
    let on_pair = format!("{base}pair = \"p\"\nreactions = [{{ run-script = \"fix\", on = \"primary-host\" }}]\n");
    assert_eq!(problems(&on_pair).len(), 1, "{:?}", problems(&on_pair));
    let allowed = format!("{base}reactions = [{{ run-script = \"fix\", on = \"h1\" }}]\n");
    assert_eq!(problems(&allowed), Vec::<String>::new());
}

// ---------------------------------------------------------------- 11. ids

#[test]
fn ids_with_control_characters_are_refused() {
    for (id, what) in [
        ("a\\u0000b", "contains `\\u{0}`"),
        ("a\\nb", "contains `\\n`"),
        ("a\\u001b[31m", "contains `\\u{1b}`"),
        ("a\\u202eb", "contains `\\u{202e}`"),
        ("a b", "contains a space"),
        ("-a", "must start with a letter or a digit"),
    ] {
        let got = problems(&format!("[[site]]\nid = \"{id}\"\n"));
        assert_eq!(got.len(), 1, "{id}: {got:?}");
        assert!(got[0].starts_with("deploy.toml:2: site[0].id: "), "{got:?}");
        assert!(got[0].contains(what), "{id}: {got:?}");
        assert!(!got[0].chars().any(config::is_unsafe_char), "{got:?}");
    }
    let long = "a".repeat(65);
    assert!(problems(&format!("[[site]]\nid = \"{long}\"\n"))[0].contains("at most 64"));
}

// ---------------------------------------------------------------- 12. forged output

#[test]
fn control_characters_never_reach_the_terminal() {
    let text = "[[site]]\nid = \"s\"\npeer = \"\\u001b]0;pwned\\u0007\\ns.toml:1: forged: problem\"\n";
    let o = hactl(&["config", "check", &write("forged", text)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert_eq!(err.lines().count(), 2, "one problem, one summary: {err}");
    assert!(
        err.contains("unknown site `\\u{1b}]0;pwned\\u{7}\\ns.toml:1: forged: problem`"),
        "{err}"
    );
    // The transcript and the JSON are escaped on the way out, whatever they carry.
    assert_eq!(
        hactl::cli::transcript_safe("a\u{1b}]0;x\u{7}b\nc\u{202e}d\n"),
        "a\\u{1b}]0;x\\u{7}b\nc\\u{202e}d\n"
    );
    assert_eq!(hactl::cli::json_safe("{\"m\": \"a\u{9b}b\"}"), "{\"m\": \"a\\u009bb\"}");
}

// ---------------------------------------------------------------- 13. clearer messages

#[test]
fn invalid_utf8_names_its_line() {
    let e = config::parse_bytes(b"[[site]]\nid = \"s\xff\"\n", "deploy.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "deploy.toml:2: (file): column 8: not UTF-8 text (a deployment file is UTF-8)"
    );
}

#[test]
fn one_unknown_host_is_reported_once() {
    let mut text = SMALL.replace("host = \"h2\"", "host = \"h9\"");
    text += "\n[[app]]\nid = \"c\"\nkind = \"app\"\nhost = \"h1\"\n[[app]]\nid = \"d\"\nkind = \"app\"\nhost = \"h2\"\n[[pair]]\nid = \"q\"\napps = [\"c\", \"d\"]\n";
    text += "[[group]]\nid = \"g\"\nleader = \"p\"\nmembers = [\"p\", \"q\"]\n";
    assert_eq!(
        problems(&text),
        vec!["deploy.toml:22: app[b].host: unknown host `h9` (known: h1, h2)"]
    );
}

#[test]
fn bad_element_of_a_multi_line_array_is_pointed_at() {
    let text = SMALL.replace("apps = [\"a\", \"b\"]", "apps = [\n  \"a\",\n  \"zz\",\n]");
    assert_eq!(
        problems(&text),
        vec!["deploy.toml:28: pair[p].apps: unknown app `zz` (known: a, b)"]
    );
}

#[test]
fn pair_listing_the_same_app_twice_says_so() {
    assert_eq!(
        problems(&SMALL.replace("apps = [\"a\", \"b\"]", "apps = [\"a\", \"a\"]")),
        vec!["deploy.toml:26: pair[p].apps: lists app `a` twice: a pair is two different apps"]
    );
}

#[test]
fn toml_syntax_error_is_one_readable_line() {
    let got = problems("[[site]]\nid = = \"s\"\n");
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("deploy.toml:2: site.id: "), "{got:?}");
    assert!(!got[0].contains('^') && !got[0].contains('|'), "no diagram: {got:?}");
}

// ---------------------------------------------------------------- 14. flags that ignored each other

#[test]
fn topology_and_pairs_are_refused_together() {
    let o = hactl(&[
        "drill",
        "--headless",
        "--scenario",
        "random",
        "--pairs",
        "3",
        "--topology",
        "topologies/builtin.toml",
    ]);
    assert_refused(&o, "--pairs generates a deployment and --topology gives one");
}

#[test]
fn console_refuses_a_topology_with_a_scenario_it_would_ignore() {
    let o = hactl(&["drill", "--scenario", "random", "--topology", "topologies/builtin.toml"]);
    assert_refused(&o, "--topology with --scenario runs headless only");
}

#[test]
fn header_says_what_a_run_on_a_topology_injects() {
    let file = write("header", SMALL);
    let o = hactl(&["drill", "--headless", "--scenario", "random", "--topology", &file]);
    let out = String::from_utf8(o.stdout).unwrap();
    let header = out.lines().nth(1).unwrap();
    assert!(header.ends_with("on 1 pairs (seed 1)"), "{header}");
    let faults: usize = header.split_whitespace().next().unwrap().parse().unwrap();
    let injected = out
        .lines()
        .filter(|l| l.contains("fault injected") || l.contains("inject"))
        .count();
    assert!(faults > 0 && injected > 0, "{header}");
}

#[test]
fn restart_delay_longer_than_the_run_is_refused_not_passed() {
    let file = write(
        "restart",
        &SMALL.replace("host = \"h1\"\n", "host = \"h1\"\nrestart-delay = \"10m\"\n"),
    );
    let o = hactl(&[
        "drill",
        "--headless",
        "--scenario",
        "random",
        "--topology",
        &file,
        "--duration",
        "10m",
    ]);
    assert_refused(&o, "--duration: a run of 10m00s injects no fault on this deployment");
    assert!(stderr(&o).contains("a run of at least 18m00s would"), "{}", stderr(&o));
    let o = hactl(&[
        "drill",
        "--headless",
        "--scenario",
        "random",
        "--topology",
        &file,
        "--duration",
        "18m",
    ]);
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
}

// ---------------------------------------------------------------- 15. settings the drill fails on

#[test]
fn settings_past_the_drills_bounds_are_refused_with_the_reason() {
    let set = |from: &str, to: &str| problems(&BUILTIN.replacen(from, to, 1));
    assert_eq!(
        set("heartbeat-timeout = \"3s\"", "heartbeat-timeout = \"10m\""),
        vec!["deploy.toml:9: controller.heartbeat-timeout: 10m is longer than the longest allowed, 10s"]
    );
    assert_eq!(
        set("reconcile-interval = \"2s\"", "reconcile-interval = \"1ms\""),
        vec!["deploy.toml:11: controller.reconcile-interval: 1ms is shorter than the shortest allowed, 2s"]
    );
    assert!(
        set("heartbeat-timeout = \"3s\"", "heartbeat-timeout = \"1500ms\"")[0]
            .ends_with("must be at least twice heartbeat-interval (1s): one late heartbeat must not lose an agent")
    );
}

// ---------------------------------------------------------------- 16. flag messages

#[test]
fn negative_numbers_and_zero_speed_get_their_own_message() {
    let o = hactl(&["drill", "--headless", "--scenario", "random", "--seed", "-1"]);
    assert_refused(&o, "a seed is a whole number from 0 to 18446744073709551615");
    let o = hactl(&["drill", "--speed", "0"]);
    assert_refused(&o, "a speed is a number from 0.1 to 10000 (1 = real time)");
    let o = hactl(&["drill", "--speed", "-5"]);
    assert_refused(&o, "a speed is a number from 0.1 to 10000");
    let o = hactl(&["drill", "--theme", "nope"]);
    assert_refused(
        &o,
        "theme nope: no such built-in theme (built-in: default, dark, light, high-contrast",
    );
    let o = hactl(&["drill", "--no-such-flag"]);
    assert_refused(&o, "unexpected argument '--no-such-flag'");
}
