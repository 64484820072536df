//! `hactl switchover PAIR`: the controller's plan and pre-flight checks, a confirmation
//! (on a terminal `y`, for a forced one the pair's name typed; elsewhere `--yes`), the
//! request with a fresh request id, then the incident's events as they come until the
//! switchover completes or fails. Exit 0 completed, 1 failed or declined, 2 unreachable,
//! 3 no end seen within `--timeout`, 4 refused (checks, role, controller), 130 Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::mpsc;

use super::events::{Feed, spawn_streams};
use super::live::{self, exit};
use crate::client::{Client, ClientError, ConnectArgs, new_request_id};
use crate::engine::config::escape;
use crate::engine::{CheckStatus, EventId};
use crate::wire::{Accepted, Command, PlanView, Request};

#[derive(clap::Args, Debug, Clone)]
pub struct SwitchoverArgs {
    /// The pair (or group) to switch over.
    pub pair: String,
    /// The instance to promote, or its host (default: the other instance).
    #[arg(long, value_name = "APP|HOST")]
    pub to: Option<String>,
    /// Print the plan and its pre-flight checks only; exit 0 when they pass, 4 otherwise.
    #[arg(long)]
    pub dry_run: bool,
    /// Go past failed checks that force may override (confirmed by typing the pair's name).
    #[arg(long)]
    pub force: bool,
    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Why, for the journal (recorded with your token's name).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// How long to wait for the switchover to complete (1s to 24h).
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = live::parse_wait)]
    pub timeout: Duration,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// The plan as text: what moves, the steps, every check, the verdict.
pub fn render_plan(p: &PlanView) -> String {
    let mut out = format!("switchover of {}: {} -> {}\n", p.pair, p.from, p.to);
    if let Some(g) = &p.group {
        out.push_str(&format!("  group {g} (requested as {})\n", p.requested));
    }
    for (i, s) in p.steps.iter().enumerate() {
        out.push_str(&format!("  {}. {s}\n", i + 1));
    }
    if let Some(v) = &p.vip {
        out.push_str(&format!("  VIP {v}\n"));
    }
    for m in &p.members {
        out.push_str(&format!("  member {m}\n"));
    }
    for r in &p.reactions {
        out.push_str(&format!("  reaction: {r}\n"));
    }
    out.push_str("pre-flight checks:\n");
    for c in &p.checks {
        let mark = match c.status {
            CheckStatus::Pass => "[ok]  ",
            CheckStatus::Warn => "[warn]",
            CheckStatus::Fail => "[FAIL]",
        };
        let force = if c.status == CheckStatus::Fail && c.forcible {
            " (--force overrides)"
        } else {
            ""
        };
        out.push_str(&format!("  {mark} {}: {}{force}\n", c.name, c.detail));
    }
    let verdict = if p.blocked {
        "cannot run, even forced"
    } else if p.needs_force {
        "runs only with --force"
    } else {
        "runs"
    };
    out.push_str(&format!("verdict: {verdict}\n"));
    super::transcript_safe(&out)
}

/// The failed checks as one line.
fn failed(p: &PlanView, forced: bool) -> String {
    p.checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail && (!c.forcible || !forced))
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn run(args: SwitchoverArgs) -> color_eyre::Result<ExitCode> {
    live::check_reason(args.reason.as_deref())?;
    let rt = live::runtime()?;
    let client = match live::route(&rt, &args.connect, |dep| dep.for_pair(&args.pair))? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let plan = match rt.block_on(client.plan(&args.pair, args.to.as_deref())) {
        Ok(p) => p,
        Err(e) => return live::fail_call(&e),
    };
    super::emit(&render_plan(&plan), ExitCode::SUCCESS)?;
    let runnable = plan.allowed || (args.force && !plan.blocked);
    if !runnable {
        let why = if plan.blocked {
            format!(
                "switchover of {} cannot run, even forced: {}",
                plan.pair,
                failed(&plan, true)
            )
        } else {
            format!(
                "switchover of {} refused by its pre-flight checks: {} (--force overrides them)",
                plan.pair,
                failed(&plan, false)
            )
        };
        return live::fail(&why, exit::REFUSED);
    }
    if args.dry_run {
        let how = if plan.allowed { "" } else { " with --force" };
        return super::emit(
            &format!("dry run: the checks pass{how}; nothing was done\n"),
            ExitCode::SUCCESS,
        );
    }
    let question = format!("Switch {} over from {} to {}?", plan.pair, plan.from, plan.to);
    let must_type = args.force.then_some(args.pair.as_str());
    if !live::confirm(&escape(&question), must_type, args.yes, "switch over")? {
        return live::fail("not confirmed: nothing was done", exit::FAILED);
    }
    let req = Request {
        request_id: Some(new_request_id()),
        reason: args.reason.clone(),
        command: Command::Switchover {
            pair: args.pair.clone(),
            to: args.to.clone(),
            force: args.force,
            dry_run: false,
        },
    };
    rt.block_on(carry_out(&client, &req, args.timeout))
}

/// Sends a request with a request id, sending it once more if the first answer was lost
/// (the id makes that safe).
pub async fn send(client: &Client, req: &Request) -> Result<Accepted, ClientError> {
    match client.request(req).await {
        Err(e) if e.is_unreachable() => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            client.request(req).await
        }
        other => other,
    }
}

async fn carry_out(client: &Client, req: &Request, timeout: Duration) -> color_eyre::Result<ExitCode> {
    let cursor = match live::tail(client).await {
        Ok(c) => c,
        Err(e) => return live::fail_call(&e),
    };
    // Follow from before the request: the incident's first events are never missed.
    let rx = spawn_streams(std::slice::from_ref(client), &[Some(cursor)]);
    let accepted = match send(client, req).await {
        Ok(a) => a,
        Err(e) => return live::fail_call(&e),
    };
    let Some(n) = accepted.switchover else {
        return live::fail(
            &format!("{}: accepted without a switchover number ({accepted})", client.url()),
            exit::UNREACHABLE,
        );
    };
    live::note(&format!(
        "switchover {n} started ({}); waiting for it to complete",
        accepted.correlation
    ));
    wait(rx, &accepted.correlation, n, timeout).await
}

/// Prints the incident's events until its switchover `n` completes or fails.
async fn wait(mut rx: mpsc::Receiver<Feed>, corr: &str, n: u64, timeout: Duration) -> color_eyre::Result<ExitCode> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut sigint = live::interrupts()?;
    let ours = |e: &crate::wire::EventRecord| e.attrs.get("switchover").is_some_and(|s| *s == n.to_string());
    let mut lost = false;
    loop {
        tokio::select! {
            feed = rx.recv() => match feed {
                Some(Feed::Event(_, e)) if e.correlation.as_deref() == Some(corr) => {
                    super::emit(&format!("{}\n", live::event_line(&e)), ExitCode::SUCCESS)?;
                    match e.id {
                        EventId::SwitchoverCompleted if ours(&e) => {
                            return super::emit(&format!("switchover {n} completed\n"), ExitCode::SUCCESS);
                        }
                        EventId::SwitchoverFailed if ours(&e) => {
                            return live::fail(&format!("switchover {n} failed: {}", e.message), exit::FAILED);
                        }
                        EventId::SwitchoverRefused => {
                            return live::fail(&format!("switchover {n} refused: {}", e.message), exit::REFUSED);
                        }
                        _ => {}
                    }
                }
                Some(Feed::Event(..)) => {}
                Some(Feed::Up(_)) => {
                    if std::mem::take(&mut lost) {
                        live::note("event stream back");
                    }
                }
                Some(Feed::Down(_, e)) => {
                    if !std::mem::replace(&mut lost, true) {
                        live::note(&format!("{e}; trying again"));
                    }
                }
                Some(Feed::Refused(_, e)) => return live::fail_call(&e),
                None => return live::fail("the event stream stopped", exit::UNREACHABLE),
            },
            _ = tokio::time::sleep_until(deadline) => {
                return live::fail(
                    &format!(
                        "switchover {n} ({corr}) did not complete within {}s; it may still: hactl events --id {corr} --follow",
                        timeout.as_secs()
                    ),
                    exit::TIMED_OUT,
                );
            }
            _ = sigint.recv() => {
                return live::fail(
                    &format!("stopped waiting; switchover {n} ({corr}) goes on: hactl events --id {corr} --follow"),
                    exit::INTERRUPTED,
                );
            }
        }
    }
}
