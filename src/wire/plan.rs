//! A switchover plan as the confirmation dialog, `--dry-run` and the API show it: what is
//! demoted and promoted, where the VIP goes, which group members follow, which alarm
//! reactions run, and every pre-flight check.

use serde::{Deserialize, Serialize};

use crate::engine::{self, CheckStatus, Topology};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub pair: String,
    pub requested: String,
    pub group: Option<String>,
    pub from: String,
    pub to: String,
    pub steps: Vec<String>,
    pub vip: Option<String>,
    pub reactions: Vec<String>,
    pub members: Vec<String>,
    pub checks: Vec<CheckView>,
    /// Runs without force.
    pub allowed: bool,
    /// Runs only with force (typing the pair's name in the console).
    pub needs_force: bool,
    /// Cannot run even forced.
    pub blocked: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
    pub forcible: bool,
}

pub fn plan_view(topo: &Topology, p: &engine::Plan) -> PlanView {
    PlanView {
        pair: topo.pair(p.pair).id.clone(),
        requested: topo.pair(p.requested).id.clone(),
        group: p.group.map(|g| topo.group(g).id.clone()),
        from: topo.app_label(p.from),
        to: topo.app_label(p.to),
        steps: p.steps.clone(),
        vip: p
            .vip
            .as_ref()
            .map(|(a, f, t)| format!("{a}: {} -> {}", topo.host(*f).id, topo.host(*t).id)),
        reactions: p.reactions.clone(),
        members: p
            .members
            .iter()
            .map(|(m, f, t)| format!("{}: {} -> {}", topo.pair(*m).id, topo.app_label(*f), topo.app_label(*t)))
            .collect(),
        checks: p
            .checks
            .iter()
            .map(|c| CheckView {
                name: c.name.to_string(),
                status: c.status,
                detail: c.detail.clone(),
                forcible: c.forcible,
            })
            .collect(),
        allowed: p.allowed(false),
        needs_force: p.needs_force() && !p.blocked(),
        blocked: p.blocked(),
    }
}
