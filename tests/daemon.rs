//! The daemons' tests, built as one binary: a real `hactl controller` process on loopback,
//! driven through its API and, for the agent side, scripted agent links (the real agent
//! has its own tests); kill -9 and restart of the controller; hostile requests.

#[path = "daemon/harness.rs"]
mod harness;

#[path = "daemon/api.rs"]
mod api;
#[path = "daemon/restart.rs"]
mod restart;
