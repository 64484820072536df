//! The agent's executors against the real OS: process groups started, stopped, killed and
//! adopted after an agent restart; probes against loopback listeners and the built-in SIP
//! responder; hooks and scripts with their output and timeouts; link state, VIPs and a
//! gratuitous ARP inside network namespaces the tests create (and always remove). Tests
//! that need root or a missing tool print why they are skipped.

mod harness;
mod net;
mod probe;
mod process;
mod run;
