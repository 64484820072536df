//! hactl: a terminal operations console for high-availability deployments of SIP servers
//! and the applications around them, on top of an embedded HA engine.
//!
//! - [`engine`]: the pure HA state machine (inputs and `now` in; commands and events out).
//! - [`agent`]: the pure agent core of one host (its inputs and `now` in; actions and
//!   reports out), shared by the drill's simulated hosts and the real agent.
//! - [`drill`]: a simulated deployment driving the engine in virtual time, with named
//!   scenarios, invariant checks and graded reports.
//! - [`daemon`]: the controller and agent daemons, and the agent's executors that act on a host.
//! - [`wire`]: the typed contract of the JSON outputs, the console and the API: per-site
//!   snapshots and their merge, events, requests by names and their resolution, answers.
//! - [`client`]: the typed async client of a controller's API (the CLI's and the live
//!   console's), and the connection settings (flags, environment, contexts).
//! - [`cli`]: the command line; [`input`]: reading the files it names, bounded.

pub mod agent;
pub mod cli;
pub mod client;
pub mod console;
pub mod daemon;
pub mod drill;
pub mod engine;
pub mod input;
pub mod wire;
