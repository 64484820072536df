//! `hactl`: parse the command line, run it, turn errors into one line and an exit code.

use std::process::ExitCode;

use clap::Parser;
use hactl::cli::{self, Cli, UsageError, WriteError};
use hactl::engine::config::escape;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::clap_exit(e),
    };
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let line = match (e.downcast_ref::<UsageError>(), e.downcast_ref::<WriteError>()) {
                (Some(u), _) => u.to_string(),
                (None, Some(w)) => w.to_string(),
                (None, None) => format!("{e:#}"),
            };
            // If standard error cannot be written either, the exit code still tells.
            let _ = cli::emit_err(&format!("hactl: {}\n", escape(&line)), ExitCode::from(2));
            ExitCode::from(2)
        }
    }
}
