//! The console: a terminal UI over a deployment, built on ratatui. It reads everything
//! through one [`source::Source`] (a drill in this process, or live controllers),
//! keeps a model ([`state`]), draws it with pure view functions ([`view`]), takes keys
//! from one table ([`keys`]), styles by role ([`theme`]) and owns the terminal only
//! through a guard that always restores it ([`term`]). [`app`] is the event loop.

pub mod app;
pub mod html;
pub mod keys;
pub mod source;
pub mod state;
pub mod term;
pub mod theme;
pub mod view;

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{DrillArgs, DrillPlan, UsageError};
use crate::engine::{Operator, config};

pub use app::Console;
pub use source::{DrillSource, LiveSource, Source};

/// `hactl console`: the console on live controllers.
#[derive(clap::Args, Debug, Clone)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub connect: crate::client::ConnectArgs,
    /// Offer no action that changes the deployment (a viewer's token gives this anyway).
    #[arg(long)]
    pub read_only: bool,
    /// Console theme: default, dark, light, high-contrast, or a theme file (default: the
    /// context's theme).
    #[arg(long, value_name = "NAME|FILE")]
    pub theme: Option<String>,
}

/// What the console runs with, besides its source.
#[derive(Clone, Debug)]
pub struct Options {
    pub theme: theme::Theme,
    /// Hide and refuse every action that changes the deployment.
    pub read_only: bool,
    pub operator: Operator,
    /// How many events the console keeps.
    pub event_cap: usize,
}

/// The operator as the event log names them: `$USER`, and the address of the SSH client
/// when there is one.
pub fn operator_from_env() -> Operator {
    let name = ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "operator".into());
    let from = ["SSH_CLIENT", "SSH_CONNECTION"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .and_then(|v| v.split_whitespace().next().map(String::from));
    Operator { name, from }
}

/// `HACTL_READ_ONLY` set to anything but empty, `0`, `false`, `no` or `off` starts the
/// console read-only: a value the console does not understand must not give read-write.
pub fn read_only_from_env() -> bool {
    read_only_value(
        &std::env::var_os("HACTL_READ_ONLY")
            .unwrap_or_default()
            .to_string_lossy(),
    )
}

/// Whether a value of `HACTL_READ_ONLY` means read-only.
pub fn read_only_value(v: &str) -> bool {
    !matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no" | "off"
    )
}

/// `HACTL_CONSOLE_EVENTS=N`: how many events the console keeps (the oldest are dropped
/// past it); the default is [`state::DEFAULT_CAP`]. A value that is not a number above
/// zero keeps the default.
pub fn event_cap_from_env() -> usize {
    std::env::var("HACTL_CONSOLE_EVENTS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(state::DEFAULT_CAP)
}

/// Builds the drill source a command line asks for.
pub fn drill_source(args: &DrillArgs, plan: &DrillPlan, operator: Operator) -> Result<DrillSource, UsageError> {
    let topology = match &plan.topology {
        Some((name, text)) => config::parse(text, name).map_err(|e| UsageError(e.to_string()))?,
        None => config::builtin(),
    };
    match &plan.scenario {
        None => Ok(DrillSource::new(topology, plan.seed, args.speed, operator)),
        Some(name) => {
            if plan.topology.is_some() && name != "random" {
                return Err(UsageError(format!(
                    "--topology: scenario {name} is written for the built-in deployment; use it with --scenario random"
                )));
            }
            DrillSource::scenario_with(name, plan.seed, &plan.random, args.speed, operator).map_err(UsageError)
        }
    }
}

/// `hactl drill` without `--headless`: the console over a drill, live in real time.
pub fn run_drill(args: &DrillArgs, plan: DrillPlan) -> color_eyre::Result<ExitCode> {
    let theme =
        theme::Theme::load(args.theme.as_deref(), theme::Depth::detect()).map_err(|e| UsageError(e.to_string()))?;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(UsageError(
            "the console needs a terminal; without one, run hactl drill --headless --scenario NAME".into(),
        )
        .into());
    }
    let operator = operator_from_env();
    let source = drill_source(args, &plan, operator.clone())?;
    let opts = Options {
        theme,
        read_only: read_only_from_env(),
        operator,
        event_cap: event_cap_from_env(),
    };
    Ok(match run(source, opts)? {
        Some(sig) => ExitCode::from(term::signal_exit_code(sig)),
        None => ExitCode::SUCCESS,
    })
}

/// `hactl console`: the console on the controllers the flags, the environment or the
/// context name. Every mistake is one line before the terminal is touched; a controller
/// that does not answer is not one (the console starts, shows it RECONNECTING and keeps
/// trying).
pub fn run_live(args: ConsoleArgs) -> color_eyre::Result<ExitCode> {
    let target = args.connect.resolve().map_err(UsageError)?;
    if target.endpoints.iter().any(|e| e.token.is_none()) {
        return Err(UsageError(
            "no token: give --token-file FILE (or HACTL_TOKEN_FILE, or token-file in the context); a controller answers nothing without one".into(),
        )
        .into());
    }
    let theme = theme::Theme::load(
        args.theme.as_deref().or(target.theme.as_deref()),
        theme::Depth::detect(),
    )
    .map_err(|e| UsageError(e.to_string()))?;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(UsageError(
            "the console needs a terminal; without one, use hactl status, hactl events or the API".into(),
        )
        .into());
    }
    let source = LiveSource::start(&target.endpoints).map_err(UsageError)?;
    let opts = Options {
        theme,
        read_only: args.read_only || read_only_from_env(),
        operator: operator_from_env(),
        event_cap: event_cap_from_env(),
    };
    Ok(match run(source, opts)? {
        Some(sig) => ExitCode::from(term::signal_exit_code(sig)),
        None => ExitCode::SUCCESS,
    })
}

/// Runs the console over any source until the operator quits or a signal stops it (which
/// it returns: SIGTERM, SIGHUP or SIGINT).
pub fn run<S: Source>(source: S, opts: Options) -> std::io::Result<Option<i32>> {
    let mut console = Console::new(source, opts.theme, opts.read_only, opts.operator.label());
    console.state.log.cap = opts.event_cap;
    app::run(console)
}
