//! `hactl maintenance PAIR on|off [--for DURATION] [--reason TEXT]`: no automatic action
//! on a pair while it is on; `--for` ends it by itself. Exit 0 done, 2 unreachable, 4
//! refused.

use std::process::ExitCode;

use super::UsageError;
use super::live;
use crate::client::{ConnectArgs, new_request_id};
use crate::engine::config::{clip, escape};
use crate::engine::time::{Span, parse_span};
use crate::wire::{Command, MAX_MAINTENANCE, Request};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

#[derive(clap::Args, Debug, Clone)]
pub struct MaintenanceArgs {
    /// The pair.
    pub pair: String,
    /// Maintenance on or off.
    #[arg(value_enum)]
    pub state: OnOff,
    /// With `on`: end maintenance by itself after this long (90m, 4h; at most 30d).
    #[arg(long = "for", value_name = "DURATION")]
    pub for_: Option<String>,
    /// Why, for the journal (recorded with your token's name).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

fn expiry(args: &MaintenanceArgs) -> Result<Option<Span>, UsageError> {
    let Some(text) = &args.for_ else { return Ok(None) };
    if args.state == OnOff::Off {
        return Err(UsageError("--for goes with `on`".into()));
    }
    match parse_span(text) {
        Ok(s) if s > Span::ZERO && s <= MAX_MAINTENANCE && !text.trim().bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(s))
        }
        _ => Err(UsageError(format!(
            "--for: `{}` is not a duration from 1s to 30d (e.g. 90m, 4h)",
            escape(&clip(text, 40))
        ))),
    }
}

pub fn run(args: MaintenanceArgs) -> color_eyre::Result<ExitCode> {
    let expires = expiry(&args)?;
    live::check_reason(args.reason.as_deref())?;
    let rt = live::runtime()?;
    let client = match live::route(&rt, &args.connect, |dep| dep.for_pair(&args.pair))? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let on = args.state == OnOff::On;
    let req = Request {
        request_id: Some(new_request_id()),
        reason: args.reason.clone(),
        command: Command::Maintenance {
            pair: args.pair.clone(),
            on,
            expires,
        },
    };
    match rt.block_on(super::switchover::send(&client, &req)) {
        Ok(a) => {
            let line = format!(
                "maintenance {} for {}{} ({})",
                if on { "on" } else { "off" },
                args.pair,
                expires
                    .map(|s| format!(", ending by itself in {s}"))
                    .unwrap_or_default(),
                a.correlation
            );
            super::emit(&format!("{}\n", escape(&line)), ExitCode::SUCCESS)
        }
        Err(e) => live::fail_call(&e),
    }
}
