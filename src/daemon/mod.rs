//! The daemons: `hactl controller` (one per site) and `hactl agent` (one per host), two
//! drivers of the same engine the drill runs. [`link`] is the agent link's protocol,
//! [`journal`] the controller's durable record, [`auth`] its tokens and roles, [`exec`]
//! the agent's building blocks that act on the host (processes, hooks, probes, scripts,
//! NICs and VIPs) and observe it.

pub mod agent;
pub mod auth;
pub mod controller;
pub mod exec;
pub mod journal;
pub mod lab;
pub mod link;
pub mod tls;
