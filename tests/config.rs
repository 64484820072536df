//! `hactl config check`: every kind of mistake is reported as `file:line: field: what is
//! wrong`, all of them at once, and a valid file prints a summary.

use hactl::engine::config::{self, BUILTIN, BUILTIN_NAME};

/// A small valid deployment; each test breaks one line of it.
const BASE: &str = r#"[controller]
heartbeat-timeout = "3s"

[[site]]
id = "east"
peer = "west"
oos-check = "5s"
oos-force = "20s"

[[site]]
id = "west"
peer = "east"

[[host]]
id = "h1"
site = "east"
nics = ["mgmt", "sip"]

[[host]]
id = "h2"
site = "east"
nics = ["mgmt", "sip"]

[[app]]
id = "a1"
kind = "sip-server"
host = "h1"
traffic-timeout = "10s"
traffic-nic = "sip"
probe = { kind = "sip-options", port = 5060 }
backup-check = { init-timeout = "60s" }

[[app]]
id = "a2"
kind = "sip-server"
host = "h2"

[[pair]]
id = "p1"
apps = ["a1", "a2"]
vip = { address = "10.0.0.10/24", nic = "sip" }

[[script]]
id = "notify"
command = "/usr/local/bin/notify"

[[alarm]]
id = "on-primary"
event = "00-5150"
pair = "p1"
reactions = [{ run-script = "notify" }]

[[endpoints]]
id = "phones"
site = "east"
count = 10
primary = "p1"
backup = "p1b"
"#;

fn with_backup_pair(text: &str) -> String {
    format!(
        "{text}\n[[host]]\nid = \"w1\"\nsite = \"west\"\nnics = [\"sip\"]\n\n[[host]]\nid = \"w2\"\nsite = \"west\"\nnics = [\"sip\"]\n\n[[app]]\nid = \"b1\"\nkind = \"sip-server\"\nhost = \"w1\"\n\n[[app]]\nid = \"b2\"\nkind = \"sip-server\"\nhost = \"w2\"\n\n[[pair]]\nid = \"p1b\"\napps = [\"b1\", \"b2\"]\nvip = {{ address = \"10.0.1.10\", nic = \"sip\" }}\n"
    )
}

/// Replaces the first occurrence of `from` (which must exist) and returns the problems.
fn problems(from: &str, to: &str) -> Vec<String> {
    let base = with_backup_pair(BASE);
    assert!(base.contains(from), "the base has no `{from}`");
    let text = base.replacen(from, to, 1);
    match config::parse(&text, "deploy.toml") {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
    }
}

fn assert_one(from: &str, to: &str, expected: &str) {
    let got = problems(from, to);
    assert_eq!(got, vec![expected.to_string()], "after replacing `{from}` with `{to}`");
}

#[test]
fn the_base_and_the_builtin_deployment_are_valid() {
    assert_eq!(problems("", ""), Vec::<String>::new());
    let topo = config::parse(BUILTIN, BUILTIN_NAME).expect("built-in deployment");
    assert_eq!(topo.sites.len(), 2);
    assert_eq!(topo.groups.len(), 2);
    assert!(config::summary(&topo).starts_with("2 sites, 8 hosts, 20 apps, 10 pairs"));
}

#[test]
fn syntax_error_names_the_line() {
    let got = problems("count = 10", "count = = 10");
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("deploy.toml:56: endpoints.count: "), "{}", got[0]);
    assert!(!got[0].contains('\n'), "one line: {}", got[0]);
}

#[test]
fn unknown_field_names_the_line_and_field() {
    let got = problems("nics = [\"mgmt\", \"sip\"]", "nicz = [\"mgmt\", \"sip\"]");
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("deploy.toml:17: host.nicz: unknown field `nicz`"),
        "{}",
        got[0]
    );
}

#[test]
fn wrong_type_names_the_line() {
    let got = problems("count = 10", "count = \"ten\"");
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("deploy.toml:56: endpoints.count: invalid type: string \"ten\", expected i64"),
        "{}",
        got[0]
    );
}

#[test]
fn missing_field_names_the_table() {
    let got = problems("kind = \"sip-server\"\nhost = \"h2\"", "host = \"h2\"");
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("missing field `kind`"), "{}", got[0]);
    assert!(got[0].starts_with("deploy.toml:"), "{}", got[0]);
}

#[test]
fn duplicate_ids() {
    // The second `h1` is reported, and so is the reference to the `h2` that is gone.
    assert_eq!(
        problems("id = \"h2\"", "id = \"h1\""),
        vec![
            "deploy.toml:20: host[h1].id: duplicate host id `h1`".to_string(),
            "deploy.toml:36: app[a2].host: unknown host `h2` (known: h1, w1, w2)".to_string()
        ]
    );
}

#[test]
fn unknown_references() {
    assert_one(
        "host = \"h2\"",
        "host = \"h9\"",
        "deploy.toml:36: app[a2].host: unknown host `h9` (known: h1, h2, w1, w2)",
    );
    assert_one(
        "site = \"east\"\nnics",
        "site = \"north\"\nnics",
        "deploy.toml:16: host[h1].site: unknown site `north` (known: east, west)",
    );
    assert_one(
        "event = \"00-5150\"",
        "event = \"99-9999\"",
        "deploy.toml:49: alarm[on-primary].event: `99-9999` is not an event id of the catalog (docs/events.md)",
    );
    assert_one(
        "run-script = \"notify\"",
        "run-script = \"page\"",
        "deploy.toml:51: alarm[on-primary].reactions[0].run-script: unknown script `page` (known: notify)",
    );
    assert_one(
        "backup = \"p1b\"",
        "backup = \"p9\"",
        "deploy.toml:58: endpoints[phones].backup: unknown pair `p9` (known: p1, p1b)",
    );
    assert_one(
        "apps = [\"a1\", \"a2\"]",
        "apps = [\"a1\", \"a3\"]",
        "deploy.toml:40: pair[p1].apps: unknown app `a3` (known: a1, a2, b1, b2)",
    );
}

#[test]
fn set_mode_reactions_need_a_mode() {
    assert_one(
        "run-script = \"notify\" }",
        "set-mode = \"a2\", mode = \"sideways\" }",
        "deploy.toml:51: alarm[on-primary].reactions[0].mode: `sideways` is neither primary nor backup",
    );
    assert_one(
        "run-script = \"notify\" }",
        "set-mode = \"a2\" }",
        "deploy.toml:51: alarm[on-primary].reactions[0].mode: set-mode needs mode = \"primary\" or \"backup\"",
    );
}

#[test]
fn pair_shape() {
    assert_one(
        "apps = [\"a1\", \"a2\"]",
        "apps = [\"a1\"]",
        "deploy.toml:40: pair[p1].apps: a pair has exactly two apps, not 1",
    );
    assert_one(
        "host = \"h2\"",
        "host = \"h1\"",
        "deploy.toml:40: pair[p1].apps: both apps run on the same host: a pair needs two hosts",
    );
}

#[test]
fn vip_problems() {
    assert_one(
        "address = \"10.0.0.10/24\"",
        "address = \"10.0.0.300/24\"",
        "deploy.toml:41: pair[p1].vip.address: `10.0.0.300/24` is not an IP address (with an optional /prefix)",
    );
    let got = problems("nic = \"sip\" }\n\n[[script]]", "nic = \"eth9\" }\n\n[[script]]");
    assert_eq!(
        got,
        vec![
            "deploy.toml:41: pair[p1].vip.nic: `eth9` is not a NIC of host `h1` (mgmt, sip)".to_string(),
            "deploy.toml:41: pair[p1].vip.nic: `eth9` is not a NIC of host `h2` (mgmt, sip)".to_string()
        ]
    );
    assert_one(
        "nic = \"sip\" }\n\n[[script]]",
        "nic = \"sip\", control = \"magic\" }\n\n[[script]]",
        "deploy.toml:41: pair[p1].vip.control: `magic` is neither `builtin` nor `script:ID`",
    );
}

#[test]
fn durations_and_ranges() {
    assert_one(
        "heartbeat-timeout = \"3s\"",
        "heartbeat-timeout = \"3 parsecs\"",
        "deploy.toml:2: controller.heartbeat-timeout: `3 parsecs` is not a duration (examples: 500ms, 30s, 10m, 24h)",
    );
    assert_one(
        "init-timeout = \"60s\"",
        "init-timeout = \"5s\"",
        "deploy.toml:31: app[a1].backup-check.init-timeout: 5s is shorter than the shortest allowed, 15s",
    );
    assert_one(
        "oos-force = \"20s\"",
        "oos-force = \"5s\"",
        "deploy.toml:8: site[east].oos-force: must be longer than oos-check (5s)",
    );
    assert_one(
        "count = 10",
        "count = 0",
        "deploy.toml:56: endpoints[phones].count: 0 is out of range (1..=1000000)",
    );
    assert_one(
        "port = 5060",
        "port = 70000",
        "deploy.toml:30: app[a1].probe.port: 70000 is out of range (1..=65535)",
    );
}

#[test]
fn peering_must_be_mutual() {
    let got = problems("id = \"west\"\npeer = \"east\"", "id = \"west\"");
    assert_eq!(
        got,
        vec![
            "deploy.toml:6: site[east].peer: site `west` does not name `east` as its peer: peering must be mutual"
                .to_string()
        ]
    );
}

#[test]
fn scripts_are_absolute_paths() {
    assert_one(
        "command = \"/usr/local/bin/notify\"",
        "command = \"notify.sh\"",
        "deploy.toml:45: script[notify].command: must be an absolute path (scripts never go through a shell or PATH)",
    );
}

#[test]
fn traffic_watch_needs_its_nic() {
    assert_one(
        "traffic-nic = \"sip\"",
        "traffic-nic = \"eth1\"",
        "deploy.toml:29: app[a1].traffic-nic: `eth1` is not a NIC of host `h1` (mgmt, sip)",
    );
}

#[test]
fn groups() {
    let group = "\n[[app]]\nid = \"c1\"\nkind = \"vm\"\nhost = \"h1\"\n\n[[app]]\nid = \"c2\"\nkind = \"vm\"\nhost = \"w1\"\n\n[[pair]]\nid = \"p2\"\napps = [\"c1\", \"c2\"]\n\n[[group]]\nid = \"g\"\nleader = \"p1\"\nmembers = [\"p1\", \"p2\"]\n";
    let text = with_backup_pair(BASE) + group;
    let e = config::parse(&text, "deploy.toml").expect_err("invalid");
    let lines: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        lines
            .iter()
            .any(|l| l
                .ends_with("pair[p2].apps: the two apps run on hosts of different sites: a pair lives in one site")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("group[g].members: pair `p2` does not run on the leader's two hosts")),
        "{lines:?}"
    );
    let text = with_backup_pair(BASE) + &group.replace("leader = \"p1\"", "leader = \"p1b\"");
    let e = config::parse(&text, "deploy.toml").expect_err("invalid");
    assert!(
        e.problems.iter().any(|p| p
            .to_string()
            .ends_with("group[g].leader: leader `p1b` is not one of the members")),
        "{e}"
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let base = with_backup_pair(BASE)
        .replacen("host = \"h2\"", "host = \"h9\"", 1)
        .replacen("count = 10", "count = 0", 1)
        .replacen("oos-force = \"20s\"", "oos-force = \"1s\"", 1);
    let e = config::parse(&base, "deploy.toml").expect_err("invalid");
    let lines: Vec<usize> = e.problems.iter().map(|p| p.line).collect();
    assert!(lines.len() >= 3, "{e}");
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn controller_urls_and_interface_names_are_checked() {
    assert_one(
        "oos-force = \"20s\"",
        "oos-force = \"20s\"\ncontroller = \"ftp://10.0.0.5:7400\"",
        "deploy.toml:9: site[east].controller: `ftp://10.0.0.5:7400` must start with http:// or https://",
    );
    assert_one(
        "oos-force = \"20s\"",
        "oos-force = \"20s\"\ncontroller = \"http://10.0.0.5\"",
        "deploy.toml:9: site[east].controller: `http://10.0.0.5` needs a port (1..=65535)",
    );
    assert_one(
        "oos-force = \"20s\"",
        "oos-force = \"20s\"\ncontroller = \"http://u:p@10.0.0.5:7400/x\"",
        "deploy.toml:9: site[east].controller: `http://u:p@10.0.0.5:7400/x` must be only a scheme, a host and a port (no path, query or credentials)",
    );
    let nics = "nics = [\"mgmt\", \"sip\"]";
    assert_one(
        nics,
        "nics = [\"mgmt\", \"sip\"]\ninterfaces = { sop = \"eth1\" }",
        "deploy.toml:18: host[h1].interfaces: `sop` is not one of this host's nics (mgmt, sip)",
    );
    assert_one(
        nics,
        "nics = [\"mgmt\", \"sip\"]\ninterfaces = { sip = \"eth 1\" }",
        "deploy.toml:18: host[h1].interfaces: interface name `eth 1` contains a space: an id uses only letters, digits, `.`, `_` and `-`",
    );
    let text = with_backup_pair(BASE).replacen(
        nics,
        "nics = [\"mgmt\", \"sip\"]\ninterfaces = { sip = \"veth-h1\" }",
        1,
    );
    let topo = config::parse(&text, "deploy.toml").expect("valid");
    assert_eq!(
        topo.hosts[0].interfaces,
        vec!["mgmt".to_string(), "veth-h1".to_string()]
    );
}

#[test]
fn exec_probes_need_a_command_and_only_they_have_one() {
    let exec = "probe = { kind = \"exec\", command = [\"/usr/local/bin/check\", \"a1\"] }";
    assert_eq!(
        problems("probe = { kind = \"sip-options\", port = 5060 }", exec),
        Vec::<String>::new()
    );
    let text = with_backup_pair(BASE).replacen("probe = { kind = \"sip-options\", port = 5060 }", exec, 1);
    let topo = config::parse(&text, "deploy.toml").unwrap();
    let probe = topo.apps[0].probe.as_ref().unwrap();
    assert_eq!(probe.command, vec!["/usr/local/bin/check", "a1"]);
    assert_one(
        "probe = { kind = \"sip-options\", port = 5060 }",
        "probe = { kind = \"exec\" }",
        "deploy.toml:30: app[a1].probe.command: an exec probe needs a command",
    );
    assert_one(
        "probe = { kind = \"sip-options\", port = 5060 }",
        "probe = { kind = \"tcp\", port = 80, command = [\"/bin/true\"] }",
        "deploy.toml:30: app[a1].probe.command: only an exec probe has a command",
    );
}
