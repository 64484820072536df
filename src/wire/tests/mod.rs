//! Tests of the wire contract: name resolution and its errors ([`resolve`]), the JSON
//! forms of requests, answers and snapshots ([`serde`]), and the merges of per-site
//! snapshots and event streams ([`merge`]).

mod merge;
mod resolve;
mod serde;

use crate::engine::{Topology, config};

fn topo() -> Topology {
    config::builtin()
}
