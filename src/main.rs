//! `hactl`: parse the command line, run it, turn errors into one line and an exit code.

use std::process::ExitCode;

use clap::Parser;
use hactl::cli::{self, Cli, UsageError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            match e.downcast_ref::<UsageError>() {
                Some(u) => eprintln!("hactl: {u}"),
                None => eprintln!("hactl: {e:#}"),
            }
            ExitCode::from(2)
        }
    }
}
