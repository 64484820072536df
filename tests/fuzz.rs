//! Seeded fuzzing of the deployment file: mutations of the built-in deployment and small
//! deployments generated from scratch. For every case: no panic, no hang, every problem
//! one line of the form `file:line: field: what is wrong` with no raw control character,
//! and every accepted file runs a short drill without panic.
//!
//! `cargo test --release --test fuzz` runs 5,000 cases; `HACTL_FUZZ_CASES=100000` runs
//! more (see docs/config.md for figures), `HACTL_FUZZ_SEED` starts elsewhere.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hactl::drill::{Drill, random, scenario};
use hactl::engine::Span;
use hactl::engine::config::{self, BUILTIN};

/// A small, fast, seeded generator (xorshift64*), independent of the crate's own.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Values an attacker or a careless operator writes.
const HOSTILE: &[&str] = &[
    "\"\"",
    "\"\\u001b]0;pwned\\u0007\"",
    "\"a\\nfuzz.toml:1: forged: line\"",
    "\"\\u202eevil\"",
    "\"\\u0000\"",
    "18446744073709552",
    "9223372036854775807",
    "-1",
    "0",
    "1.5",
    "true",
    "[]",
    "[\"x\", \"x\"]",
    "{}",
    "\"0s\"",
    "\"1ms\"",
    "\"99999999999999999999d\"",
    "\"18446744073709551615ms\"",
    "\"10m\"",
    "\"30d\"",
    "\"10.1.0.10\"",
    "\"::ffff:10.1.0.10\"",
    "\"10.1.0.10/+24\"",
    "\"10.1.0.10/33\"",
    "\"east\"",
    "\"west\"",
    "\"east-sip1\"",
    "\"east-sip\"",
    "\"east-sip-a\"",
    "\"notify-oncall\"",
    "\"script:notify-oncall\"",
    "\"primary-host\"",
    "\"nope\"",
];

/// Byte sequences inserted anywhere.
const NOISE: &[&[u8]] = &[
    b"\x00",
    b"\x1b[2J",
    b"\n",
    b"\xff\xfe",
    b"\"",
    b"[",
    b"]]",
    b"=",
    b"\r\n",
    b"[[pair]]\n",
    b"[[group]]\nid = \"g\"\nleader = \"east-sip\"\nmembers = [\"east-sip\", \"east-sip\"]\n",
    b"\xe2\x80\xae",
];

/// The built-in deployment with one to three mutations.
fn mutate(rng: &mut Rng) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = BUILTIN.lines().map(|l| l.as_bytes().to_vec()).collect();
    let n = if rng.chance(60) { 1 } else { 2 + rng.below(2) };
    for _ in 0..n {
        let n = lines.len();
        let i = rng.below(n);
        match rng.below(8) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(rng.below(n), l);
            }
            2 => lines.swap(i, rng.below(n)),
            3..=5 => {
                // A value replaced.
                if let Some(eq) = lines[i].iter().position(|b| *b == b'=') {
                    let mut l = lines[i][..eq + 1].to_vec();
                    l.push(b' ');
                    l.extend_from_slice(rng.pick(HOSTILE).as_bytes());
                    lines[i] = l;
                }
            }
            6 => {
                let at = rng.below(lines[i].len() + 1);
                let noise = rng.pick(NOISE);
                lines[i].splice(at..at, noise.iter().copied());
            }
            _ => {
                // An id replaced by another one (duplicates, wrong kinds).
                let ids: Vec<Vec<u8>> = lines.iter().filter(|l| l.starts_with(b"id = ")).cloned().collect();
                if lines[i].starts_with(b"id = ") || rng.chance(30) {
                    lines[i] = rng.pick(&ids).clone();
                }
            }
        }
    }
    let mut out = lines.join(&b'\n');
    out.push(b'\n');
    if rng.chance(3) {
        out.truncate(rng.below(out.len()));
    }
    out
}

/// A small deployment from scratch: random counts, references drawn from small pools so
/// that they sometimes match and sometimes do not.
fn generate(rng: &mut Rng) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut t = String::new();
    let sites = ["s0", "s1", "s2"];
    let hosts = ["h0", "h1", "h2", "h3", "h4"];
    let apps = ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"];
    let pairs = ["p0", "p1", "p2", "p3"];
    let dur = [
        "\"1s\"",
        "\"3s\"",
        "\"10s\"",
        "\"2s\"",
        "\"500ms\"",
        "5",
        "\"1m\"",
        "\"10m\"",
    ];
    if rng.chance(50) {
        let _ = writeln!(
            t,
            "[controller]\nheartbeat-interval = {}\nheartbeat-timeout = {}\nreconcile-interval = {}\nmode-timeout = {}",
            rng.pick(&dur),
            rng.pick(&dur),
            rng.pick(&dur),
            rng.pick(&dur)
        );
    }
    let n_sites = rng.below(3) + usize::from(rng.chance(90));
    for s in &sites[..n_sites] {
        let _ = writeln!(t, "[[site]]\nid = \"{s}\"");
        if rng.chance(15) {
            let _ = writeln!(t, "peer = \"{}\"", rng.pick(&sites));
        }
        if rng.chance(30) {
            let _ = writeln!(t, "oos-check = {}\noos-force = {}", rng.pick(&dur), rng.pick(&dur));
        }
    }
    let n_hosts = rng.below(hosts.len() + 1);
    for h in &hosts[..n_hosts] {
        let nics = rng.pick(&[
            "[\"sip\"]",
            "[\"mgmt\", \"sip\"]",
            "[\"mgmt\", \"sip\"]",
            "[\"sip\"]",
            "[]",
            "[\"sip\", \"sip\"]",
        ]);
        let site = if rng.chance(80) { sites[0] } else { *rng.pick(&sites) };
        let _ = writeln!(t, "[[host]]\nid = \"{h}\"\nsite = \"{site}\"\nnics = {nics}");
    }
    let n_apps = rng.below(apps.len() + 1);
    for (i, a) in apps[..n_apps].iter().enumerate() {
        let host = if rng.chance(70) && n_hosts > 0 {
            hosts[i % n_hosts]
        } else {
            *rng.pick(&hosts)
        };
        let _ = writeln!(
            t,
            "[[app]]\nid = \"{a}\"\nkind = \"{}\"\nhost = \"{host}\"",
            rng.pick(&["sip-server", "app"]),
        );
        if rng.chance(30) {
            let _ = writeln!(t, "restart-delay = {}", rng.pick(&dur));
        }
        if rng.chance(20) {
            let _ = writeln!(t, "traffic-timeout = {}\ntraffic-nic = \"sip\"", rng.pick(&dur));
        }
        if rng.chance(20) {
            let _ = writeln!(
                t,
                "probe = {{ kind = \"tcp\", port = 5060, interval = {} }}",
                rng.pick(&dur)
            );
        }
    }
    let n_pairs = rng.below(pairs.len() + 1);
    for (i, p) in pairs[..n_pairs].iter().enumerate() {
        let (x, y) = if rng.chance(70) {
            (apps[2 * i], apps[2 * i + 1])
        } else {
            (*rng.pick(&apps), *rng.pick(&apps))
        };
        let _ = writeln!(t, "[[pair]]\nid = \"{p}\"\napps = [\"{x}\", \"{y}\"]");
        if rng.chance(40) {
            let _ = writeln!(
                t,
                "vip = {{ address = \"{}\", nic = \"sip\" }}",
                rng.pick(&[
                    "10.0.0.1/24",
                    "10.0.0.2/24",
                    "10.0.0.1",
                    "::ffff:10.0.0.2",
                    "fd00::1/64"
                ])
            );
        }
    }
    if n_pairs >= 2 && rng.chance(40) {
        let _ = writeln!(
            t,
            "[[group]]\nid = \"g\"\nleader = \"{}\"\nmembers = [\"{}\", \"{}\"]",
            rng.pick(&pairs),
            rng.pick(&pairs),
            rng.pick(&pairs)
        );
    }
    if rng.chance(40) {
        let _ = writeln!(
            t,
            "[[script]]\nid = \"fix\"\ncommand = \"/bin/fix\"\nhosts = [\"{}\"]",
            rng.pick(&hosts)
        );
        let on = rng.pick(&["\"event-host\"", "\"primary-host\"", "\"h0\"", "\"h1\""]);
        let _ = writeln!(
            t,
            "[[alarm]]\nid = \"al\"\nevent = \"00-5150\"\npair = \"{}\"\nreactions = [{{ run-script = \"fix\", on = {on} }}]",
            rng.pick(&pairs)
        );
    }
    if n_pairs >= 2 && rng.chance(30) {
        let _ = writeln!(
            t,
            "[[endpoints]]\nid = \"e\"\nsite = \"{}\"\ncount = {}\nprimary = \"{}\"\nbackup = \"{}\"",
            rng.pick(&sites),
            rng.pick(&["10", "0", "1000000"]),
            rng.pick(&pairs),
            rng.pick(&pairs)
        );
    }
    t.into_bytes()
}

/// `file:line: field: what is wrong`, one line, nothing a terminal would act on.
fn check_problem(line: &str) -> Result<(), String> {
    let rest = line.strip_prefix("fuzz.toml:").ok_or("does not start with the file")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &rest[digits..];
    if digits == 0 || !rest.starts_with(": ") {
        return Err("no line number".into());
    }
    let (field, what) = rest[2..].split_once(": ").ok_or("no field")?;
    if field.is_empty() || what.is_empty() {
        return Err("empty field or message".into());
    }
    if line.chars().any(config::is_unsafe_char) {
        return Err("a raw control character".into());
    }
    Ok(())
}

/// One case: its problems well formed, or a short drill on it without panic.
fn run_case(bytes: &[u8], seed: u64) -> Result<bool, String> {
    match config::parse_bytes(bytes, "fuzz.toml") {
        Err(e) => {
            if e.problems.is_empty() {
                return Err("rejected without a problem".into());
            }
            for p in &e.problems {
                let line = p.to_string();
                check_problem(&line).map_err(|why| format!("{why}: {line:?}"))?;
            }
            Ok(false)
        }
        Ok(topo) => {
            let opts = random::RandomOptions {
                pairs: None,
                duration: Span::secs(600),
            };
            let mut s = scenario::build("random", seed, &opts).map_err(|e| e.to_string())?;
            s.topology = topo;
            let s = random::reschedule(s, seed);
            let report = Drill::with_scenario(s, seed).run_to_end();
            let text = hactl::cli::transcript_safe(&report.transcript());
            if text.chars().any(|c| c != '\n' && config::is_unsafe_char(c)) {
                return Err("a raw control character in the transcript".into());
            }
            Ok(true)
        }
    }
}

#[test]
fn hostile_deployment_files_never_panic_hang_or_forge_output() {
    let cases: u64 = std::env::var("HACTL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let first: u64 = std::env::var("HACTL_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // A case that takes longer than this is a hang.
    let stall = Duration::from_secs(30);
    let progress = Arc::new(AtomicU64::new(0));
    let worker = {
        let progress = Arc::clone(&progress);
        std::thread::spawn(move || {
            let (mut accepted, mut drilled_ms) = (0u64, 0u128);
            let start = Instant::now();
            for case in first..first + cases {
                let mut rng = Rng::new(case);
                let bytes = if case % 2 == 0 {
                    mutate(&mut rng)
                } else {
                    generate(&mut rng)
                };
                let t = Instant::now();
                let result = catch_unwind(AssertUnwindSafe(|| run_case(&bytes, case)));
                let text = String::from_utf8_lossy(&bytes);
                match result {
                    Ok(Ok(true)) => {
                        accepted += 1;
                        drilled_ms += t.elapsed().as_millis();
                    }
                    Ok(Ok(false)) => {}
                    Ok(Err(why)) => panic!("case {case}: {why}\n--- file ---\n{text}"),
                    Err(_) => panic!("case {case} panicked (message above)\n--- file ---\n{text}"),
                }
                progress.store(case - first + 1, Ordering::Relaxed);
            }
            eprintln!(
                "fuzz: {cases} cases from seed {first} in {:.1?}: {accepted} accepted and drilled ({drilled_ms} ms drilling)",
                start.elapsed()
            );
        })
    };
    let (mut last, mut since) = (0, Instant::now());
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        let now = progress.load(Ordering::Relaxed);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() > stall {
            panic!("case {} has run for more than {stall:?}: a hang", first + now);
        }
    }
    if let Err(e) = worker.join() {
        std::panic::resume_unwind(e);
    }
}
