//! The console (placeholder until the dashboard lands): runs the drill headless and prints
//! its transcript, so `hactl drill` does something useful from the first commit.

use std::process::ExitCode;

use crate::cli::{DrillArgs, DrillPlan};

pub fn run_drill(_args: &DrillArgs, plan: DrillPlan) -> color_eyre::Result<ExitCode> {
    let name = plan.scenario.unwrap_or_else(|| "manual-switchover".to_string());
    let s = crate::drill::scenario::build(&name, plan.seed, &plan.random).map_err(crate::cli::UsageError)?;
    let mut d = crate::drill::Drill::with_scenario(s, plan.seed);
    let report = d.run_to_end();
    print!("{}", report.transcript());
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
