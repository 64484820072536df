//! The `random` scenario: a seeded schedule of faults and heals, a fault per virtual
//! minute, each healed after 10 s to 5 min, everything healed before the end so recovery is
//! graded. `--pairs N` runs it on a generated deployment of N pairs; `--duration` sets the
//! virtual time it covers.

use std::fmt::Write as _;

use crate::engine::{Span, Time, Topology, config};

use super::Action;
use super::fault::Fault;
use super::rng::Rng;
use super::scenario::Scenario;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RandomOptions {
    /// Generate a deployment of this many pairs instead of the built-in one.
    pub pairs: Option<usize>,
    pub duration: Span,
}

impl Default for RandomOptions {
    fn default() -> Self {
        RandomOptions {
            pairs: None,
            duration: Span::secs(3600),
        }
    }
}

/// A deployment of `pairs` pairs over two sites: hosts in twos, ten pairs per host pair,
/// every fourth host pair running a four-pair solution group; SIP servers with a VIP and a
/// traffic watch; one endpoint population per site.
pub fn generate(pairs: usize) -> Result<Topology, String> {
    let mut t = String::from(
        "[controller]\nheartbeat-interval = \"1s\"\nheartbeat-timeout = \"3s\"\nmode-timeout = \"10s\"\nreconcile-interval = \"2s\"\n",
    );
    let sites = ["east", "west"];
    for (i, s) in sites.iter().enumerate() {
        let _ = write!(
            t,
            "\n[[site]]\nid = \"{s}\"\npeer = \"{}\"\noos-check = \"5s\"\noos-force = \"20s\"\n",
            sites[1 - i]
        );
    }
    t.push_str("\n[[script]]\nid = \"notify-oncall\"\ncommand = \"/usr/local/lib/hactl/notify-oncall\"\nargs = [\"{event}\", \"{subject}\"]\ntimeout = \"20s\"\n");
    let mut first_sip = [String::new(), String::new()];
    for (si, s) in sites.iter().enumerate() {
        let n = pairs / 2 + if si == 0 { pairs % 2 } else { 0 };
        let host_pairs = n.div_ceil(10);
        let mut made = 0;
        for hp in 0..host_pairs {
            let hosts = [format!("{s}-h{hp}a"), format!("{s}-h{hp}b")];
            for h in &hosts {
                let _ = write!(
                    t,
                    "\n[[host]]\nid = \"{h}\"\nsite = \"{s}\"\nnics = [\"mgmt\", \"sip\"]\n"
                );
            }
            let in_this = (n - made).min(10);
            let grouped = hp % 4 == 3 && in_this >= 4;
            let mut members = Vec::new();
            for k in 0..in_this {
                let id = format!("{s}-p{hp}-{k}");
                let sip = k == 0 || grouped && k < 4;
                for (side, h) in ["a", "b"].iter().zip(&hosts) {
                    let _ = write!(
                        t,
                        "\n[[app]]\nid = \"{id}-{side}\"\nkind = \"{}\"\nhost = \"{h}\"\nrestart-delay = \"15s\"\n",
                        if sip { "sip-server" } else { "app" }
                    );
                    if k == 0 && !grouped {
                        t.push_str("traffic-timeout = \"10s\"\ntraffic-nic = \"sip\"\n");
                    }
                    t.push_str("probe = { kind = \"sip-options\", port = 5060, interval = \"2s\", timeout = \"1s\", failures = 3 }\n");
                }
                let _ = write!(t, "\n[[pair]]\nid = \"{id}\"\napps = [\"{id}-a\", \"{id}-b\"]\n");
                let vip = !grouped || k == 0;
                if vip {
                    let _ = writeln!(
                        t,
                        "vip = {{ address = \"10.{}.{}.{}/24\", nic = \"sip\" }}",
                        si + 1 + 2 * (hp / 250),
                        hp % 250,
                        k + 1
                    );
                }
                if grouped && k < 4 {
                    members.push(id.clone());
                }
                if made == 0 && k == 0 {
                    first_sip[si] = id.clone();
                }
            }
            if grouped {
                let list: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
                let _ = write!(
                    t,
                    "\n[[group]]\nid = \"{s}-g{hp}\"\nleader = \"{}\"\nmembers = [{}]\n",
                    members[0],
                    list.join(", ")
                );
            }
            made += in_this;
        }
    }
    t.push_str("\n[[alarm]]\nid = \"split-brain\"\nevent = \"20622\"\nreactions = [{ notify = \"split brain\" }]\nclear-event = \"20623\"\n");
    for (si, s) in sites.iter().enumerate() {
        if !first_sip[si].is_empty() && !first_sip[1 - si].is_empty() {
            let _ = write!(
                t,
                "\n[[endpoints]]\nid = \"{s}-phones\"\nsite = \"{s}\"\ncount = 100\nprimary = \"{}\"\nbackup = \"{}\"\ntransport = \"udp\"\nttl = \"300s\"\ncall-interval = \"10m\"\n",
                first_sip[si],
                first_sip[1 - si]
            );
        }
    }
    config::parse(&t, "generated.toml").map_err(|e| format!("generated topology is invalid (a bug): {e}"))
}

/// The random scenario for `seed`.
pub fn scenario(seed: u64, opts: &RandomOptions) -> Result<Scenario, String> {
    let topo = match opts.pairs {
        Some(n) => generate(n)?,
        None => config::builtin(),
    };
    let duration = opts.duration.max(Span::secs(600));
    let schedule = plan(&topo, seed, duration);
    Ok(Scenario {
        name: "random".into(),
        workflow: "all",
        description: describe(&topo, &schedule, duration, seed),
        topology: topo,
        schedule,
        duration,
        chains: Vec::new(),
        finals: Vec::new(),
        loss: 0.02,
        script_failure: 0.05,
    })
}

/// The header of a run: the faults it really injects.
fn describe(topo: &Topology, schedule: &[(Time, Action)], duration: Span, seed: u64) -> String {
    let faults = schedule.iter().filter(|(_, a)| matches!(a, Action::Inject(_))).count();
    format!(
        "{faults} faults over {duration} on {} pairs (seed {seed})",
        topo.pairs.len()
    )
}

/// A fault whose target is not already faulted (and no second site-wide fault at once).
/// None when the deployment has nothing of the kind rolled (no apps, no hosts).
fn pick(topo: &Topology, rng: &mut Rng, active: &[(Time, Fault)]) -> Option<Fault> {
    if topo.apps.is_empty() || topo.hosts.is_empty() || topo.sites.is_empty() {
        return None;
    }
    for _ in 0..8 {
        let roll = rng.range(0, 99);
        let app = crate::engine::AppIx(rng.range(0, topo.apps.len() as u64 - 1) as u32);
        let host = crate::engine::HostIx(rng.range(0, topo.hosts.len() as u64 - 1) as u32);
        let f = match roll {
            0..=24 => Fault::KillApp(app),
            25..=34 => Fault::HangApp(app),
            35..=42 => Fault::Unavailable(app),
            43..=49 => Fault::NotReady(app),
            50..=54 => Fault::StopApp(app),
            55..=69 => Fault::Disconnect(host),
            70..=79 => Fault::HostDown(host),
            80..=89 => Fault::NicDown(
                host,
                rng.range(0, (topo.host(host).nics.len() as u64).saturating_sub(1)) as usize,
            ),
            90..=94 => Fault::Partition,
            _ => Fault::SiteDown(crate::engine::SiteIx(rng.range(0, topo.sites.len() as u64 - 1) as u32)),
        };
        if !active.iter().any(|(_, a)| conflicts(topo, a, &f)) {
            return Some(f);
        }
    }
    None
}

/// One fault of the later kinds.
fn pick_chaos(topo: &Topology, rng: &mut Rng) -> Option<Fault> {
    let app = crate::engine::AppIx(rng.range(0, topo.apps.len().checked_sub(1)? as u64) as u32);
    let host = crate::engine::HostIx(rng.range(0, topo.hosts.len().checked_sub(1)? as u64) as u32);
    let site = crate::engine::SiteIx(rng.range(0, topo.sites.len().checked_sub(1)? as u64) as u32);
    Some(match rng.range(0, 99) {
        0..=34 => Fault::HookHang(app),
        35..=69 => Fault::FlakyLink(host),
        70..=84 => Fault::ControllerCrash(site),
        _ => Fault::ControllerStop(site),
    })
}

fn conflicts(topo: &Topology, a: &Fault, b: &Fault) -> bool {
    use Fault::*;
    let host_of = |f: &Fault| match f {
        KillApp(x) | StopApp(x) | HangApp(x) | Unavailable(x) | NotReady(x) | HookHang(x) => Some(topo.app_host(*x)),
        Disconnect(h) | HostDown(h) | NicDown(h, _) | FlakyLink(h) => Some(*h),
        SiteDown(_) | Partition | ControllerCrash(_) | ControllerStop(_) => None,
    };
    match (a, b) {
        (SiteDown(_), _) | (_, SiteDown(_)) => true,
        (ControllerCrash(_) | ControllerStop(_), ControllerCrash(_) | ControllerStop(_)) => true,
        (Partition, Partition) => true,
        _ => host_of(a).is_some() && host_of(a) == host_of(b),
    }
}

/// The seeded schedule: a fault a minute on an unfaulted target, each healed after 10 s to
/// 5 min, the last ones early enough for recovery to be graded, everything healed at the end.
fn plan(topo: &Topology, seed: u64, duration: Span) -> Vec<(Time, Action)> {
    let quiet = quiet_time(topo);
    let mut rng = Rng::new(seed ^ 0x5EED_F00D);
    let mut schedule = Vec::new();
    let last_fault = Time(duration.as_ms().saturating_sub(quiet.as_ms() + 300_000));
    let mut active: Vec<(Time, Fault)> = Vec::new();
    // Faults of the kinds added later (hung mode hooks, flaky agent links, controllers
    // crashing or stopping alone) come from a stream of their own, half a minute after
    // each slot, so the schedule of the other kinds stays what it was for every seed.
    let mut chaos_rng = Rng::new(seed ^ 0xC4A0_5EED);
    let mut chaos: Vec<(Time, Fault)> = Vec::new();
    let mut t = Time(60_000);
    while t <= last_fault {
        active.retain(|(until, _)| *until > t);
        if let Some(f) = pick(topo, &mut rng, &active) {
            let heal = t + Span(rng.range(10_000, 300_000));
            schedule.push((t, Action::Inject(f.clone())));
            schedule.push((heal, Action::Heal(f.clone())));
            active.push((heal, f));
        }
        let at = t + Span::secs(30);
        chaos.retain(|(until, _)| *until > at);
        if chaos_rng.chance(0.25)
            && let Some(f) = pick_chaos(topo, &mut chaos_rng)
            && !active
                .iter()
                .chain(&chaos)
                .any(|(until, a)| *until > at && conflicts(topo, a, &f))
        {
            let heal = at + Span(chaos_rng.range(10_000, 120_000));
            schedule.push((at, Action::Inject(f.clone())));
            schedule.push((heal, Action::Heal(f.clone())));
            chaos.push((heal, f));
        }
        t = t + Span::secs(60);
    }
    schedule.push((Time(duration.as_ms().saturating_sub(quiet.as_ms())), Action::HealAll));
    schedule.sort_by_key(|(t, _)| *t);
    schedule
}

/// The time left at the end of a run for recovery to be graded.
fn quiet_time(topo: &Topology) -> Span {
    super::check::Checker::new(topo).recovery_bound + Span::secs(60)
}

/// The shortest run that has time for one fault on `topo` (its first fault comes at one
/// minute, healed within five, then the recovery bound).
pub fn shortest_run(topo: &Topology) -> Span {
    quiet_time(topo) + Span::secs(60 + 300)
}

/// Re-plans a random scenario for another topology (`--topology` with `random`).
pub fn reschedule(mut s: Scenario, seed: u64) -> Scenario {
    s.schedule = plan(&s.topology, seed, s.duration);
    s.description = describe(&s.topology, &s.schedule, s.duration, seed);
    s
}
