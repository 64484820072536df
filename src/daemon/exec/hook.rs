//! An application's mode hook: the configured `mode-hook` argv with the new mode
//! (`primary` or `backup`) appended as its last argument, run without a shell in its own
//! process group with a timeout. The result says whether the application took the mode:
//! exit 0; anything else with its exit and last lines of output; or a timeout, after which
//! the hook's whole group has been killed.

use std::time::Duration;

use super::command::{self, CommandError, Exit, Line, Output, Status};
use crate::engine::Mode;

/// Lines of output kept for a failed hook's report.
pub const TAIL_LINES: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookOutcome {
    /// The application has no mode hook: the mode is taken at once.
    NoHook,
    Ok {
        duration: Duration,
    },
    Failed {
        exit: Exit,
        tail: Vec<Line>,
    },
    TimedOut {
        timeout: Duration,
        tail: Vec<Line>,
    },
}

impl HookOutcome {
    pub fn ok(&self) -> bool {
        matches!(self, HookOutcome::NoHook | HookOutcome::Ok { .. })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("mode hook of `{app}` (to {mode}): {source}")]
pub struct HookError {
    pub app: String,
    pub mode: &'static str,
    #[source]
    pub source: CommandError,
}

/// Runs `hook` (the app's `mode-hook` argv) with `mode` appended.
pub async fn run_mode_hook(
    app: &str,
    hook: &[String],
    mode: Mode,
    timeout: Duration,
) -> Result<HookOutcome, HookError> {
    if hook.is_empty() {
        return Ok(HookOutcome::NoHook);
    }
    let out = command::run(
        hook,
        &[mode.as_str().to_string()],
        timeout,
        Output {
            lines: None,
            tail: TAIL_LINES,
        },
    )
    .await
    .map_err(|source| HookError {
        app: app.to_string(),
        mode: mode.as_str(),
        source,
    })?;
    Ok(match out.status {
        Status::Exited(Exit::Code(0)) => HookOutcome::Ok { duration: out.duration },
        Status::Exited(exit) => HookOutcome::Failed { exit, tail: out.tail },
        Status::TimedOut => HookOutcome::TimedOut {
            timeout,
            tail: out.tail,
        },
    })
}
