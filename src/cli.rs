//! The command line (a stable contract: names and flags as in the product specification).
//! Parsing is clap's; this module turns flags into runs and every user mistake into a
//! one-line message and a non-zero exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::drill::random::RandomOptions;
use crate::drill::{Drill, scenario};
use crate::engine::config;
use crate::engine::time::parse_span;

#[derive(Parser, Debug)]
#[command(
    name = "hactl",
    version,
    about = "HA operations console for SIP server deployments",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Rehearse failures on a simulated deployment (the console, or headless with --headless).
    Drill(DrillArgs),
    /// Work with deployment files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Check a deployment file; report every problem as file:line: field: what is wrong.
    Check { file: PathBuf },
}

#[derive(clap::Args, Debug, Clone)]
pub struct DrillArgs {
    /// Deployment file to simulate (default: the built-in two-site deployment).
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,
    /// Scenario to play (see --list).
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Seed of every random choice: same seed, same transcript.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// Speed of virtual time in the console (1 = real time).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,
    /// Console theme: a name from themes/ or a theme file.
    #[arg(long, value_name = "NAME|FILE")]
    pub theme: Option<String>,
    /// List the scenarios and exit.
    #[arg(long)]
    pub list: bool,
    /// Run the scenario in virtual time without a terminal; exit 0 when every check holds.
    #[arg(long)]
    pub headless: bool,
    /// With --headless: print one JSON object instead of the transcript.
    #[arg(long)]
    pub json: bool,
    /// With --scenario random: generate a deployment of N pairs.
    #[arg(long, value_name = "N")]
    pub pairs: Option<usize>,
    /// With --scenario random: virtual time to cover (e.g. 30m, 24h).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Print the event catalog (docs/events.md) and exit.
    #[arg(long)]
    pub catalog: bool,
}

/// A user mistake or an unusable input: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs a parsed command line.
pub fn run(cli: Cli) -> color_eyre::Result<ExitCode> {
    match cli.command {
        Command::Drill(args) => drill(args),
        Command::Config {
            command: ConfigCommand::Check { file },
        } => config_check(&file),
    }
}

fn config_check(file: &std::path::Path) -> color_eyre::Result<ExitCode> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| UsageError(format!("{name}: cannot read: {e}")))?;
    match config::parse(&text, &name) {
        Ok(topo) => {
            println!("{name}: OK: {}", config::summary(&topo));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for p in &e.problems {
                eprintln!("{p}");
            }
            eprintln!(
                "{name}: {} problem{}",
                e.problems.len(),
                if e.problems.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// Options of a drill run, checked.
pub struct DrillPlan {
    pub topology: Option<(String, String)>,
    pub scenario: Option<String>,
    pub seed: u64,
    pub random: RandomOptions,
}

fn drill(args: DrillArgs) -> color_eyre::Result<ExitCode> {
    if args.catalog {
        print!("{}", crate::engine::event::catalog_markdown());
        return Ok(ExitCode::SUCCESS);
    }
    if args.list {
        for (name, workflow, what) in scenario::NAMES {
            println!("{name:<26} {workflow:<4} {what}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let plan = check_drill_args(&args)?;
    if !args.headless {
        return crate::console::run_drill(&args, plan);
    }
    let Some(name) = plan.scenario.clone() else {
        return Err(UsageError("--headless needs --scenario NAME (see hactl drill --list)".into()).into());
    };
    let mut s = scenario::build(&name, plan.seed, &plan.random).map_err(UsageError)?;
    if let Some((file, text)) = &plan.topology {
        if name != "random" {
            return Err(UsageError(format!(
                "--topology: scenario {name} is written for the built-in deployment; use it with --scenario random"
            ))
            .into());
        }
        s.topology = config::parse(text, file).map_err(|e| UsageError(e.to_string()))?;
        s = crate::drill::random::reschedule(s, plan.seed);
    }
    let mut d = Drill::with_scenario(s, plan.seed);
    let report = d.run_to_end();
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.transcript());
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Checks the drill flags against each other and reads the topology file.
pub fn check_drill_args(args: &DrillArgs) -> Result<DrillPlan, UsageError> {
    if args.json && !args.headless {
        return Err(UsageError("--json goes with --headless".into()));
    }
    let random = args.scenario.as_deref() == Some("random");
    if args.pairs.is_some() && !random {
        return Err(UsageError("--pairs goes with --scenario random".into()));
    }
    if args.duration.is_some() && !random {
        return Err(UsageError("--duration goes with --scenario random".into()));
    }
    if args.pairs == Some(0) {
        return Err(UsageError("--pairs: must be at least 1".into()));
    }
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 10_000.0) {
        return Err(UsageError(format!(
            "--speed: {} is not a speed between 0 and 10000",
            args.speed
        )));
    }
    if let Some(name) = &args.scenario
        && !scenario::NAMES.iter().any(|n| n.0 == name)
    {
        let names: Vec<&str> = scenario::NAMES.iter().map(|n| n.0).collect();
        return Err(UsageError(format!(
            "--scenario: unknown scenario `{name}` (known: {})",
            names.join(", ")
        )));
    }
    let mut opts = RandomOptions {
        pairs: args.pairs,
        ..RandomOptions::default()
    };
    if let Some(d) = &args.duration {
        opts.duration = parse_span(d).map_err(|e| UsageError(format!("--duration: {e}")))?;
        if opts.duration.as_ms() < 600_000 {
            return Err(UsageError("--duration: the random scenario needs at least 10m".into()));
        }
    }
    let topology = match &args.topology {
        None => None,
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| UsageError(format!("--topology {name}: cannot read: {e}")))?;
            config::parse(&text, &name).map_err(|e| UsageError(e.to_string()))?;
            Some((name, text))
        }
    };
    Ok(DrillPlan {
        topology,
        scenario: args.scenario.clone(),
        seed: args.seed,
        random: opts,
    })
}
