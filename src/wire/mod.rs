//! The typed contract between hactl's parts: what the JSON outputs (`--json`), the
//! console and the controller's HTTP API exchange. Enums travel as kebab-case strings
//! (`no-primary`), never matched as literals; names are resolved to indices here, in one
//! place, so these types travel without the topology.
//!
//! - [`Snapshot`]: one controller's part ([`site_snapshot`]) and their [`Snapshot::merge`].
//! - [`EventRecord`]: a logged event, numbered per controller; [`EventMerge`] merges
//!   several controllers' streams by time.
//! - [`Request`] / [`Command`]: an operator request by names; [`resolve`] turns it into
//!   the engine's command; [`Accepted`] or [`OpError`] (as JSON, [`ErrorBody`]) answers it.
//! - [`PlanView`]: a switchover's plan and pre-flight checks.
//! - [`TopologyView`], [`EventPage`], [`PlanAnswer`], [`RunView`]: the API's other answers.

mod api;
mod build;
mod error;
mod event;
mod plan;
mod request;
mod resolve;
mod snapshot;
mod state;

pub use api::{
    EventPage, PlanAnswer, RunView, TopoApp, TopoGroup, TopoHost, TopoPair, TopoScript, TopoSite, TopoVip, TopologyView,
};
pub use build::{site_snapshot, skeleton};
pub use error::{ErrorBody, OpError};
pub use event::{EventMerge, EventRecord, event_record};
pub use plan::{CheckView, PlanView, plan_view};
pub use request::{
    Accepted, Command, CommandKind, MAX_MAINTENANCE, MAX_NAME, MAX_REASON, MAX_REQUEST_ID, Request, RunId,
};
pub use resolve::{Resolved, resolve, resolve_switchover};
pub use snapshot::{
    AppView, EndpointView, GroupView, HostView, InstanceView, NicView, PairView, Part, PeerLinkView, SiteView,
    Snapshot, VipHostView, VipView,
};
pub use state::{AgentState, NicState, PeerLinkState, SiteMode, or_unknown, redundancy_label};

#[cfg(test)]
mod tests;
