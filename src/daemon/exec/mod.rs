//! The agent's I/O building blocks: each carries out one kind of action of the agent core
//! on a real Linux host, or observes the host, behind a small async API. The agent daemon
//! glues them to the core; none of them decides anything.
//!
//! - [`process`]: start an application without a shell in its own process group, keep its
//!   output in a bounded log, notice its exit at once, stop it (SIGTERM, then SIGKILL after
//!   a grace), and adopt it again after an agent restart through its pid file.
//! - [`hook`]: run an application's mode hook with a timeout.
//! - [`probe`]: `tcp`, `sip-options` (RFC 3261 over UDP, with retransmission) and `exec`
//!   health probes; [`sip_responder`] is a tiny OPTIONS answerer for labs and tests.
//! - [`net`]: link state and receive counters of interfaces, VIPs added, removed and
//!   observed, gratuitous ARP; optionally inside a network namespace.
//! - [`script`]: allow-listed scripts with a timeout, output streamed line by line.
//!
//! [`command`] (run once, bounded output, timeout) and [`pgroup`] (signals to process
//! groups, what /proc says about a process) are shared by the others.

pub mod command;
pub mod hook;
pub mod net;
pub mod pgroup;
pub mod probe;
pub mod process;
pub mod script;
pub mod sip;
pub mod sip_responder;

mod garp;
mod log;
