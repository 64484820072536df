//! Allow-listed scripts: only a `[[script]]` entry of the deployment can be run, by its
//! absolute command path (never a shell, never `PATH`), with the arguments the caller has
//! filled in from the entry's templates, on a host of its allow-list. Output is streamed
//! line by line through a bounded channel (long lines clipped); the result is the exit,
//! or a timeout after which the script's whole process group was killed, and the duration.

use std::time::Duration;

use tokio::sync::mpsc;

use super::command::{self, CommandError, Line, Output, Status};
use crate::engine::{HostIx, Script};

/// Lines kept in the outcome besides those streamed.
pub const TAIL_LINES: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOutcome {
    pub status: Status,
    pub duration: Duration,
    /// The last lines of output, for a report that missed the stream.
    pub tail: Vec<Line>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("script `{script}` may not run on this host (not in its `hosts`)")]
    NotAllowedHere { script: String },
    #[error("script `{script}`: command `{command}` is not an absolute path")]
    NotAbsolute { script: String, command: String },
    #[error("script `{script}`: {source}")]
    Command {
        script: String,
        #[source]
        source: CommandError,
    },
}

/// Runs `script` on `host` with `args` (its `args` with the placeholders filled in), for
/// at most `timeout`, sending every line of output to `lines`.
pub async fn run_script(
    script: &Script,
    host: HostIx,
    args: &[String],
    timeout: Duration,
    lines: mpsc::Sender<Line>,
) -> Result<ScriptOutcome, ScriptError> {
    if !script.allowed_on(host) {
        return Err(ScriptError::NotAllowedHere {
            script: script.id.clone(),
        });
    }
    if !script.command.starts_with('/') {
        return Err(ScriptError::NotAbsolute {
            script: script.id.clone(),
            command: script.command.clone(),
        });
    }
    let out = command::run(
        std::slice::from_ref(&script.command),
        args,
        timeout,
        Output {
            lines: Some(lines),
            tail: TAIL_LINES,
        },
    )
    .await
    .map_err(|source| ScriptError::Command {
        script: script.id.clone(),
        source,
    })?;
    Ok(ScriptOutcome {
        status: out.status,
        duration: out.duration,
        tail: out.tail,
    })
}
