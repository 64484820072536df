//! Property tests of everything a peer can send hactl, with `proptest`: the API's request
//! bodies (and their resolution against the deployment), the agent link's messages both
//! ways, and the SIP responses the `sip-options` probe parses. For every generated case:
//! no panic, and every refusal is a 4xx error whose message is one line with no raw control
//! character (it goes into logs, the journal and terminals).
//!
//! Each target runs 3,000 cases in `cargo test`; `HACTL_PROP_CASES=100000 cargo test
//! --release --test properties` is the long run (see docs/daemons.md for its figures).
//! The deployment file has its own seeded fuzzer (`tests/fuzz.rs`), and the API's query
//! strings, bodies over HTTP and tokens are tried against a real controller in
//! `tests/daemon/api.rs`.

use std::sync::Arc;

use hactl::daemon::exec::sip::{Message, Transaction, options_request};
use hactl::daemon::link;
use hactl::engine::config::{self, BUILTIN};
use hactl::engine::{HostIx, Topology};
use hactl::wire::{CommandKind, OpError, Request, resolve};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// Cases per target: `HACTL_PROP_CASES`, else 3,000.
fn cases() -> u32 {
    std::env::var("HACTL_PROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

fn topo() -> Arc<Topology> {
    Arc::new(config::parse(BUILTIN, "builtin.toml").expect("the built-in deployment is valid"))
}

/// A message fit for a log line: one line, no raw control character, bounded.
fn assert_one_line(what: &str, msg: &str) {
    assert!(!msg.is_empty(), "{what}: empty message");
    assert!(
        !msg.chars().any(char::is_control),
        "{what}: control character in {msg:?}"
    );
    assert!(msg.len() <= 2_048, "{what}: {} bytes: {msg:.200}", msg.len());
}

/// Field names the peers use, so that generated objects often hit real fields.
const NAMES: &[&str] = &[
    "pair",
    "to",
    "force",
    "dry_run",
    "reason",
    "request_id",
    "on",
    "expires",
    "for",
    "script",
    "host",
    "args",
    "kind",
    "type",
    "app",
    "mode",
    "up",
    "bound",
    "by",
    "nic",
    "report",
    "state",
    "code",
    "detail",
    "version",
    "topology",
    "enable",
    "ok",
    "run",
    "line",
    "exit_code",
    "timed_out",
    "duration_ms",
    "output_tail",
    "correlation",
    "single_site",
    "reannounce",
    "site",
    "heartbeat_interval_ms",
    "error",
    "east-sip",
    "east-sip1",
    "east-sip-a",
    "notify-oncall",
    "primary",
    "backup",
    "none",
    "running",
    "exited",
    "hello",
    "heartbeat",
    "vip",
    "vip-elsewhere",
    "set-mode",
    "\u{0}",
    "\n",
    "\u{1b}[2J",
    "é",
    "",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// Any JSON value, with keys and strings drawn mostly from [`NAMES`].
fn json_value() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(str::to_string),
        1 => any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        name.clone().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((name.clone(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An edit of a byte string: (position, what, byte).
type Edit = (usize, u8, u8);

fn apply(base: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = base.to_vec();
    for &(at, op, byte) in edits {
        let i = if b.is_empty() { 0 } else { at % (b.len() + 1) };
        match op % 5 {
            0 => {
                b.insert(i, byte);
            }
            1 if i < b.len() => {
                b.remove(i);
            }
            2 if i < b.len() => b[i] = byte,
            3 => b.truncate(i),
            _ => {
                // Repeat a slice: long values, nested duplicates.
                let end = (i + usize::from(byte)).min(b.len());
                let piece = b[i..end].to_vec();
                b.splice(i..i, piece);
            }
        }
    }
    b
}

/// Bytes of one of `valid`, edited a little; or raw bytes; or a generated JSON value.
fn hostile(valid: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6);
    prop_oneof![
        3 => (prop::sample::select(valid), edits).prop_map(|(v, e)| apply(v.as_bytes(), &e)),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
    ]
}

fn check_refusal(what: &str, e: &OpError) {
    assert!(
        (400..500).contains(&e.status()),
        "{what}: status {} for {e}",
        e.status()
    );
    assert_one_line(what, &e.to_string());
}

#[test]
fn request_bodies_are_read_or_refused_with_a_clear_4xx() {
    let topo = topo();
    let valid = vec![
        r#"{"pair": "east-sip", "to": "east-sip2", "force": false, "dry_run": true, "request_id": "r-1", "reason": "patch"}"#.to_string(),
        r#"{"pair": "east-sip", "on": true, "expires": "1h", "reason": "kernel"}"#.to_string(),
        r#"{"script": "notify-oncall", "host": "east-sip1", "request_id": "r-2"}"#.to_string(),
        r#"{"pair": "west-vmsip"}"#.to_string(),
    ];
    let kinds = [
        CommandKind::Switchover,
        CommandKind::Maintenance,
        CommandKind::RunScript,
        CommandKind::ResetAntiFlap,
    ];
    runner()
        .run(
            &(hostile(valid), prop::sample::select(kinds.to_vec())),
            |(body, kind)| {
                match Request::from_body(kind, &body) {
                    Ok(req) => {
                        // What was read resolves against the deployment, or is refused clearly.
                        if let Err(e) = resolve(&topo, &req) {
                            check_refusal("resolve", &e);
                        }
                        // And it survives its own wire form.
                        let back: Request = serde_json::from_value(serde_json::to_value(&req).expect("serialise"))
                            .expect("a request read back from its own form");
                        prop_assert_eq!(back, req);
                    }
                    Err(e) => check_refusal("from_body", &e),
                }
                Ok(())
            },
        )
        .unwrap();
}

/// Hostile text frames of the agent link, each read by `read` (which returns the refusal,
/// if any): no panic, every refusal one inert line.
fn check_frames(valid: &[Value], read: impl Fn(&str) -> Option<String>) {
    let valid = valid.iter().map(Value::to_string).collect();
    runner()
        .run(&hostile(valid), |bytes| {
            // A text frame is UTF-8 by construction: other bytes never reach the parser.
            if let Ok(text) = std::str::from_utf8(&bytes)
                && let Some(refusal) = read(text)
            {
                assert_one_line("link", &refusal);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn agent_messages_become_inputs_or_clear_errors() {
    let topo = topo();
    let host = topo.host_ixs().next().expect("a host");
    let valid = [
        json!({"type": "hello", "version": link::LINK_VERSION, "host": "east-sip1", "topology": ["pair east-sip"]}),
        json!({"type": "heartbeat"}),
        json!({"type": "app", "app": "east-sip-a", "report": {"state": "exited", "code": 9}}),
        json!({"type": "mode", "app": "east-sip-a", "mode": "primary"}),
        json!({"type": "nic", "nic": "sip", "up": false}),
        json!({"type": "vip", "pair": "east-sip", "bound": true}),
        json!({"type": "vip-elsewhere", "pair": "east-sip", "by": "02:00:00:00:00:01"}),
        json!({"type": "vip-result", "pair": "east-sip", "enable": true, "ok": false, "detail": "NIC down"}),
        json!({"type": "script-result", "run": 3, "exit_code": 1, "timed_out": false, "duration_ms": 10, "output_tail": "x"}),
    ];
    check_frames(&valid, |text| match link::parse_agent(text) {
        Ok(msg) => link::to_input(&topo, host, &msg).err().map(|e| e.to_string()),
        Err(e) => Some(e.to_string()),
    });
}

#[test]
fn controller_messages_become_orders_or_clear_errors() {
    let topo = topo();
    let host = HostIx(0);
    let valid = [
        json!({"type": "welcome", "version": link::LINK_VERSION, "site": "east", "heartbeat_interval_ms": 1000}),
        json!({"type": "refused", "error": "version", "detail": "x"}),
        json!({"type": "set-mode", "app": "east-sip-a", "mode": "backup", "correlation": "east-1"}),
        json!({"type": "vip", "pair": "east-sip", "enable": true, "reannounce": false}),
        json!({"type": "run-script", "run": 1, "script": "notify-oncall", "args": ["a"]}),
        json!({"type": "resync"}),
    ];
    check_frames(&valid, |text| match link::parse_controller(text) {
        Ok(msg) => link::to_command(&topo, host, &msg).err().map(|e| e.to_string()),
        Err(e) => Some(e.to_string()),
    });
}

#[test]
fn sip_responses_parse_or_are_ignored_and_never_match_a_stranger() {
    let t = Transaction::new();
    let local: std::net::SocketAddr = "127.0.0.1:5070".parse().unwrap();
    let target: std::net::SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let request = options_request(&t, local, target);
    let answer = |status: &str| {
        let m = Message::parse(request.as_bytes()).expect("our own request parses");
        let mut out = format!("SIP/2.0 {status}\r\n");
        for (n, v) in &m.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out + "Server: kamailio\r\nContent-Length: 0\r\n\r\n"
    };
    let valid = vec![
        answer("200 OK"),
        answer("503 Service Unavailable"),
        answer("100 Trying"),
        request.clone(),
    ];
    let ours = answer("200 OK");
    assert!(Message::parse(ours.as_bytes()).is_some_and(|m| m.answers(&t)));
    runner()
        .run(&hostile(valid), |bytes| {
            if let Some(m) = Message::parse(&bytes) {
                let _ = (m.status(), m.method(), m.top_branch(), m.header("server"));
                if m.answers(&t) {
                    // Only an answer carrying our transaction's identifiers matches.
                    prop_assert!(m.status().is_some_and(|s| (100..700).contains(&s)));
                    prop_assert_eq!(m.header("call-id"), Some(t.call_id.as_str()));
                }
                // A different transaction never matches.
                prop_assert!(!m.answers(&Transaction::new()));
            }
            Ok(())
        })
        .unwrap();
}
