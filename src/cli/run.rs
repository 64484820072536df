//! `hactl run SCRIPT --host ID [--yes]`: an allow-listed script on a host, confirmed like
//! a switchover, its output printed as the controller receives it (polling
//! `/v1/runs/{n}`), then the script's own exit code. 124: it ran past its timeout and was
//! killed; 125: it ended by a signal; 2 unreachable; 3 no end seen within `--timeout`;
//! 4 refused; 130 Ctrl-C (the script goes on).

use std::process::ExitCode;
use std::time::Duration;

use super::live::{self, exit};
use crate::client::{ConnectArgs, new_request_id};
use crate::engine::config::escape;
use crate::wire::{Command, Request};

/// How often the run is polled.
const POLL: Duration = Duration::from_millis(200);

#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// The script, by its id in the deployment file's allow-list.
    pub script: String,
    /// The host to run it on.
    #[arg(long, value_name = "ID")]
    pub host: String,
    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Why, for the journal (recorded with your token's name).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// How long to wait for the script to end (1s to 24h).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = live::parse_wait)]
    pub timeout: Duration,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn run(args: RunArgs) -> color_eyre::Result<ExitCode> {
    live::check_reason(args.reason.as_deref())?;
    let rt = live::runtime()?;
    let client = match live::route(&rt, &args.connect, |dep| dep.for_host(&args.host))? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let question = escape(&format!("Run script {} on host {}?", args.script, args.host)).into_owned();
    if !live::confirm(&question, None, args.yes, "run the script")? {
        return live::fail("not confirmed: nothing was done", exit::FAILED);
    }
    let req = Request {
        request_id: Some(new_request_id()),
        reason: args.reason.clone(),
        command: Command::RunScript {
            script: args.script.clone(),
            host: args.host.clone(),
        },
    };
    rt.block_on(async {
        let accepted = match super::switchover::send(&client, &req).await {
            Ok(a) => a,
            Err(e) => return live::fail_call(&e),
        };
        let Some(run) = accepted.run.clone() else {
            return live::fail(
                &format!("{}: accepted without a run number ({accepted})", client.url()),
                exit::UNREACHABLE,
            );
        };
        live::note(&format!("{run} started ({})", accepted.correlation));
        let deadline = tokio::time::Instant::now() + args.timeout;
        let mut sigint = live::interrupts()?;
        let mut printed = 0usize;
        let mut dropped = 0u64;
        loop {
            let view = match client.run_status(&run).await {
                Ok(v) => v,
                Err(e) => return live::fail_call(&e),
            };
            let mut text = String::new();
            for line in view.lines.iter().skip(printed) {
                text.push_str(&escape(line));
                text.push('\n');
            }
            printed = printed.max(view.lines.len());
            super::emit(&text, ExitCode::SUCCESS)?;
            if view.dropped > dropped {
                live::note(&format!(
                    "{} more lines not kept by the controller",
                    view.dropped - dropped
                ));
                dropped = view.dropped;
            }
            if view.done {
                let secs = view.duration_ms.unwrap_or(0) as f64 / 1000.0;
                return Ok(ExitCode::from(match (view.timed_out, view.exit_code) {
                    (true, _) => {
                        live::note(&format!("{run}: timed out after {secs:.1}s and killed"));
                        exit::SCRIPT_TIMED_OUT
                    }
                    (false, Some(code)) => {
                        if code != 0 {
                            live::note(&format!("{run}: exit code {code} after {secs:.1}s"));
                        }
                        u8::try_from(code).unwrap_or(exit::FAILED)
                    }
                    (false, None) => {
                        live::note(&format!("{run}: ended by a signal after {secs:.1}s"));
                        exit::SCRIPT_KILLED
                    }
                }));
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = tokio::time::sleep_until(deadline) => {
                    return live::fail(
                        &format!("{run} did not end within {}s; it goes on", args.timeout.as_secs()),
                        exit::TIMED_OUT,
                    );
                }
                _ = sigint.recv() => {
                    return live::fail(&format!("stopped waiting; {run} goes on"), exit::INTERRUPTED);
                }
            }
        }
    })
}
