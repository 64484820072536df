//! The daemons' tests, built as one binary: a real `hactl controller` process on loopback,
//! driven through its API; scripted agent links for the API's own tests and real `hactl agent`
//! processes supervising real applications; kill -9 of applications, agents and the
//! controller; hostile requests.

#[path = "daemon/harness.rs"]
mod harness;

#[path = "daemon/agent.rs"]
mod agent;
#[path = "daemon/api.rs"]
mod api;
#[path = "daemon/flags.rs"]
mod flags;
#[path = "daemon/peer.rs"]
mod peer;
#[path = "daemon/restart.rs"]
mod restart;
#[path = "daemon/tls.rs"]
mod tls;
