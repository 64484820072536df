//! The command line (a stable contract: names and flags as in the product specification).
//! Parsing is clap's; this module turns flags into runs and every user mistake into a
//! one-line message and a non-zero exit code. The live commands, which talk to controllers
//! through [`crate::client`], are in the submodules ([`live`] has what they share).

mod events;
pub mod live;
mod maintenance;
mod run;
mod status;
mod switchover;

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::drill::random::RandomOptions;
use crate::drill::{Action, Drill, scenario};
use crate::engine::time::{Span, parse_span};
use crate::engine::{Topology, config};

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
    /// The operations console on live controllers: every site's state and events at once.
    Console(crate::console::ConsoleArgs),
    /// Run a site's controller: the engine on real hosts, the journal and the API.
    Controller(crate::daemon::controller::ControllerArgs),
    /// Run a host's agent: supervise its applications for the site's controller.
    Agent(crate::daemon::agent::AgentArgs),
    /// Answer SIP OPTIONS with 200 OK (a stand-in SIP server for labs and tests).
    #[command(hide = true)]
    SipResponder {
        /// Address to answer on (repeat it to answer on several, e.g. a host's and a VIP).
        #[arg(long, value_name = "ADDR", required = true)]
        listen: Vec<std::net::SocketAddr>,
        /// Name to put in the `Server` header.
        #[arg(long, value_name = "NAME", default_value = "hactl")]
        name: String,
    },
    /// A real deployment on this machine: both sites' controllers, every host's agent and
    /// SIP servers (network namespaces and moving VIPs as root, else on loopback).
    Lab {
        #[command(subcommand)]
        command: crate::daemon::lab::LabCommand,
    },
    /// Work with deployment files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Show every pair, host and site of the controllers (exit 0 all OK, 1 not, 2 unreachable).
    Status(status::StatusArgs),
    /// Switch a pair over: show the plan and its checks, confirm, carry it out, follow it.
    Switchover(switchover::SwitchoverArgs),
    /// Put a pair in maintenance (no automatic action) or take it out.
    Maintenance(maintenance::MaintenanceArgs),
    /// Print the journal's events (--follow: and new ones as they come).
    Events(events::EventsArgs),
    /// Run an allow-listed script on a host and print its output; exit with its exit code.
    Run(run::RunArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `hactl man | man -l -`.
    Man,
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
    /// Seed of every random choice, 0 to 18446744073709551615: same seed, same transcript.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = parse_seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Speed of virtual time in the console, from 0.1 to 10000 (1 = real time).
    #[arg(long, default_value_t = 1.0, value_name = "X", value_parser = parse_speed, allow_negative_numbers = true)]
    pub speed: f64,
    /// Console theme: default, dark, light, high-contrast, or a theme file.
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
    /// With --scenario random: generate a deployment of N pairs, 1 to 10000 (a run's time
    /// grows with its pairs: 10000 pairs over 24h take about a minute).
    #[arg(long, value_name = "N", value_parser = parse_pairs, allow_negative_numbers = true)]
    pub pairs: Option<usize>,
    /// With --scenario random: virtual time to cover, 10m to 7d (e.g. 30m, 24h); a run keeps
    /// every event of its transcript, about 25 MB per simulated day.
    #[arg(long, value_name = "DURATION", allow_negative_numbers = true)]
    pub duration: Option<String>,
    /// Print the event catalog (docs/events.md) and exit.
    #[arg(long)]
    pub catalog: bool,
}

/// The most pairs `--pairs` generates.
pub const MAX_PAIRS: usize = 10_000;
/// The shortest and the longest `--duration`.
pub const MIN_DURATION: Span = Span::secs(600);
pub const MAX_DURATION: Span = Span::secs(7 * 86_400);

fn parse_seed(s: &str) -> Result<u64, String> {
    s.parse()
        .map_err(|_| "a seed is a whole number from 0 to 18446744073709551615".to_string())
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.1..=10_000.0).contains(&x) => Ok(x),
        _ => Err("a speed is a number from 0.1 to 10000 (1 = real time)".to_string()),
    }
}

fn parse_pairs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_PAIRS).contains(&n) => Ok(n),
        _ => Err(format!("the number of pairs is a whole number from 1 to {MAX_PAIRS}")),
    }
}

/// A user mistake or an unusable input: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Writing the output failed for another reason than a reader that went away: reported
/// as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to {stream}: {error}")]
pub struct WriteError {
    pub stream: &'static str,
    pub error: io::Error,
}

/// Writes `text` to standard output. A closed pipe ends the command quietly (as `cat`
/// does, keeping `code`); any other failure is a [`WriteError`].
pub fn emit(text: &str, code: ExitCode) -> color_eyre::Result<ExitCode> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(code),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(code),
        Err(error) => Err(WriteError {
            stream: "stdout",
            error,
        }
        .into()),
    }
}

/// Writes `text` to standard error, as [`emit`] does to standard output.
pub fn emit_err(text: &str, code: ExitCode) -> color_eyre::Result<ExitCode> {
    let mut out = io::stderr().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(code),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(code),
        Err(error) => Err(WriteError {
            stream: "stderr",
            error,
        }
        .into()),
    }
}

/// A clap error (or help) as this command line reports it: help and version on standard
/// output; a mistake as one line, `hactl: what is wrong`, with clap's tip if it has one,
/// exit code 2.
pub fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let text = e.render().to_string();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            emit(&text, ExitCode::SUCCESS).unwrap_or(ExitCode::from(2))
        }
        _ => {
            let mut parts: Vec<&str> = Vec::new();
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information") {
                    continue;
                }
                parts.push(line.strip_prefix("error: ").unwrap_or(line));
            }
            let line = format!("hactl: {}\n", config::escape(&parts.join("; ")));
            let _ = emit_err(&line, ExitCode::from(2));
            ExitCode::from(2)
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> color_eyre::Result<ExitCode> {
    match cli.command {
        Command::Drill(args) => drill(args),
        Command::Console(args) => crate::console::run_live(args),
        Command::Controller(args) => controller(args),
        Command::Agent(args) => agent(args),
        Command::Lab { command } => Ok(crate::daemon::lab::run(command).map_err(UsageError)?),
        Command::SipResponder { listen, name } => {
            crate::daemon::exec::sip_responder::run_forever(&listen, &name).map_err(UsageError)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            command: ConfigCommand::Check { file },
        } => config_check(&file),
        Command::Status(args) => status::run(args),
        Command::Switchover(args) => switchover::run(args),
        Command::Maintenance(args) => maintenance::run(args),
        Command::Events(args) => events::run(args),
        Command::Run(args) => run::run(args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "hactl", &mut out);
            emit(&String::from_utf8_lossy(&out), ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|e| UsageError(format!("cannot render the manual page: {e}")))?;
            emit(&String::from_utf8_lossy(&out), ExitCode::SUCCESS)
        }
    }
}

fn agent(args: crate::daemon::agent::AgentArgs) -> color_eyre::Result<ExitCode> {
    let topology = checked_topology(&args.config)?;
    crate::daemon::agent::start(args, topology).map_err(UsageError)?;
    Ok(ExitCode::SUCCESS)
}

/// A deployment file for a daemon: the first problem (of all, `hactl config check` lists
/// them) as one line.
fn checked_topology(path: &Path) -> color_eyre::Result<Topology> {
    match read_topology(path).map_err(UsageError)? {
        Ok(t) => Ok(t),
        Err(e) => {
            let first = e.problems.first().map(|p| p.to_string()).unwrap_or_default();
            let more = e.problems.len().saturating_sub(1);
            let tail = if more > 0 {
                format!(" (and {more} more: hactl config check)")
            } else {
                String::new()
            };
            Err(UsageError(format!("{first}{tail}")).into())
        }
    }
}

fn controller(args: crate::daemon::controller::ControllerArgs) -> color_eyre::Result<ExitCode> {
    let topology = checked_topology(&args.config)?;
    crate::daemon::controller::start(args, topology).map_err(UsageError)?;
    Ok(ExitCode::SUCCESS)
}

/// Reads a deployment file (a regular file of at most [`config::MAX_FILE_BYTES`]) and
/// checks it.
pub fn read_topology(path: &Path) -> Result<Result<Topology, config::ConfigError>, String> {
    let name = path.display().to_string();
    let bytes = crate::input::read_file(path, config::MAX_FILE_BYTES).map_err(|e| format!("{name}: {e}"))?;
    Ok(config::parse_bytes(&bytes, &name))
}

fn config_check(file: &Path) -> color_eyre::Result<ExitCode> {
    let name = file.display().to_string();
    match read_topology(file).map_err(UsageError)? {
        Ok(topo) => emit(
            &format!("{}: OK: {}\n", config::escape(&name), config::summary(&topo)),
            ExitCode::SUCCESS,
        ),
        Err(e) => {
            let mut out = String::new();
            for p in &e.problems {
                let _ = writeln!(out, "{p}");
            }
            let n = e.problems.len();
            let _ = writeln!(
                out,
                "{}: {n} problem{}",
                config::escape(&name),
                if n == 1 { "" } else { "s" }
            );
            emit_err(&out, ExitCode::from(1))
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
        return emit(&crate::engine::event::catalog_markdown(), ExitCode::SUCCESS);
    }
    if args.list {
        let mut out = String::new();
        for (name, workflow, what) in scenario::NAMES {
            let _ = writeln!(out, "{name:<26} {workflow:<4} {what}");
        }
        return emit(&out, ExitCode::SUCCESS);
    }
    let plan = check_drill_args(&args)?;
    if !args.headless {
        return crate::console::run_drill(&args, plan);
    }
    let Some(name) = plan.scenario.clone() else {
        return Err(UsageError("--headless needs --scenario NAME (see hactl drill --list)".into()).into());
    };
    let s = build_scenario(&name, &plan)?;
    let mut d = Drill::with_scenario(s, plan.seed);
    let report = d.run_to_end();
    let code = if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json {
        emit(&(json_safe(&report.to_json()) + "\n"), code)
    } else {
        emit(&transcript_safe(&report.transcript()), code)
    }
}

/// The scenario a checked plan asks for: `random` is re-planned on `--topology`, and a
/// run that could inject no fault is refused rather than graded as passed.
pub fn build_scenario(name: &str, plan: &DrillPlan) -> Result<scenario::Scenario, UsageError> {
    let mut s = scenario::build(name, plan.seed, &plan.random).map_err(UsageError)?;
    if let Some((file, text)) = &plan.topology {
        if name != "random" {
            return Err(UsageError(format!(
                "--topology: scenario {name} is written for the built-in deployment; use it with --scenario random"
            )));
        }
        s.topology = config::parse(text, file).map_err(|e| topology_error(file, &e))?;
        s = crate::drill::random::reschedule(s, plan.seed);
    }
    if name == "random" && !s.schedule.iter().any(|(_, a)| matches!(a, Action::Inject(_))) {
        if s.topology.apps.is_empty() || s.topology.hosts.is_empty() {
            return Err(UsageError(
                "--topology: the deployment has no hosts or no apps: a drill has nothing to fault".into(),
            ));
        }
        let shortest = crate::drill::random::shortest_run(&s.topology).max(MIN_DURATION);
        return Err(UsageError(format!(
            "--duration: a run of {} injects no fault on this deployment: its recovery bound leaves no time for one (a run of at least {} would)",
            s.duration,
            Span(shortest.as_ms().div_ceil(60_000) * 60_000)
        )));
    }
    Ok(s)
}

/// A transcript with every untrusted character escaped: one event, one line.
pub fn transcript_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        out.push_str(&config::escape(body));
        out.push_str(nl);
    }
    out
}

/// JSON whose strings carry no character a terminal would act on (serde escapes the C0
/// controls; this escapes DEL, the C1 controls and the bidirectional controls too).
pub fn json_safe(json: &str) -> String {
    if !json
        .chars()
        .any(|c| config::is_unsafe_char(c) && !c.is_ascii_whitespace())
    {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if config::is_unsafe_char(c) && !c.is_ascii_whitespace() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// A deployment file's problems as one line: the first, and how many more.
fn topology_error(file: &str, e: &config::ConfigError) -> UsageError {
    let n = e.problems.len();
    let first = e.problems.first().map(ToString::to_string).unwrap_or_default();
    if n <= 1 {
        UsageError(format!("--topology: {first}"))
    } else {
        UsageError(format!(
            "--topology: {first} (1 of {n} problems: hactl config check {} lists them all)",
            config::escape(file)
        ))
    }
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
    if args.pairs.is_some() && args.topology.is_some() {
        return Err(UsageError(
            "--pairs generates a deployment and --topology gives one: use one or the other".into(),
        ));
    }
    if args.topology.is_some() && args.scenario.is_some() && !args.headless {
        return Err(UsageError(
            "--topology with --scenario runs headless only (add --headless); the console plays a scenario on the built-in deployment".into(),
        ));
    }
    if let Some(n) = args.pairs
        && !(1..=MAX_PAIRS).contains(&n)
    {
        return Err(UsageError(format!("--pairs: {n} is not from 1 to {MAX_PAIRS}")));
    }
    if !(0.1..=10_000.0).contains(&args.speed) {
        return Err(UsageError(format!(
            "--speed: {} is not a speed from 0.1 to 10000 (1 = real time)",
            args.speed
        )));
    }
    if let Some(name) = &args.scenario
        && !scenario::NAMES.iter().any(|n| n.0 == name)
    {
        let names: Vec<&str> = scenario::NAMES.iter().map(|n| n.0).collect();
        return Err(UsageError(format!(
            "--scenario: unknown scenario `{}` (known: {})",
            config::clip(name, 40),
            names.join(", ")
        )));
    }
    let mut opts = RandomOptions {
        pairs: args.pairs,
        ..RandomOptions::default()
    };
    if let Some(d) = &args.duration {
        opts.duration = parse_duration(d)?;
    }
    let topology = match &args.topology {
        None => None,
        Some(path) => {
            let name = path.display().to_string();
            let text = read_topology_text(path)?;
            config::parse(&text, &name).map_err(|e| topology_error(&name, &e))?;
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

/// `--duration`: 10m to 7d. The bound is memory: a run keeps its whole transcript.
fn parse_duration(d: &str) -> Result<Span, UsageError> {
    let span = parse_span(d).map_err(|_| {
        UsageError(format!(
            "--duration: `{}` is not a duration (examples: 30m, 24h, 7d)",
            config::clip(d, 40)
        ))
    })?;
    if span < MIN_DURATION {
        return Err(UsageError(
            "--duration: the random scenario needs at least 10m (a fault a minute, then time to recover)".into(),
        ));
    }
    if span > MAX_DURATION {
        return Err(UsageError(
            "--duration: at most 7d: a run keeps every event of its transcript in memory (about 25 MB per simulated day)"
                .into(),
        ));
    }
    Ok(span)
}

/// The text of `--topology FILE`, read as a deployment file is (bounded, UTF-8).
fn read_topology_text(path: &Path) -> Result<String, UsageError> {
    let name = path.display().to_string();
    let bytes = crate::input::read_file(path, config::MAX_FILE_BYTES)
        .map_err(|e| UsageError(format!("--topology {name}: {e}")))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => Err(topology_error(
            &name,
            &config::parse_bytes(e.as_bytes(), &name).expect_err("not UTF-8"),
        )),
    }
}
