//! The deployment's state as controllers report it: one [`Snapshot`] per controller (its
//! site's part, built by [`super::site_snapshot`]) and their merge, which is what a console
//! shows. A site whose controller cannot be reached stays in the merge with nothing known
//! about it (pairs `unknown`, never `ok`).

use serde::{Deserialize, Serialize};

use super::state::{AgentState, NicState, PeerLinkState, SiteMode, or_unknown};
use crate::engine::{AppStatus, Mode, Redundancy, Step, VipObs};

/// The deployment, or one controller's part of it, at one instant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub t_ms: u64,
    pub sites: Vec<SiteView>,
    pub hosts: Vec<HostView>,
    pub pairs: Vec<PairView>,
    pub groups: Vec<GroupView>,
    pub endpoints: Vec<EndpointView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteView {
    pub id: String,
    pub peer: Option<String>,
    /// Whether this site's controller runs and answers (in drill: the site is not failed).
    pub controller_up: bool,
    pub link: Option<PeerLinkView>,
    pub mode: SiteMode,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerLinkView {
    pub state: PeerLinkState,
    /// Time since the last probe answer, if any answer ever came.
    pub last_answer_age_ms: Option<u64>,
    pub oos_check_ms: u64,
    pub oos_force_ms: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostView {
    pub id: String,
    pub site: String,
    pub agent: AgentState,
    pub last_heard_age_ms: Option<u64>,
    pub nics: Vec<NicView>,
    pub apps: Vec<AppView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicView {
    pub name: String,
    pub state: NicState,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    pub id: String,
    pub kind: String,
    pub host: String,
    pub pair: Option<String>,
    pub status: AppStatus,
    /// With status `unknown`, the last known mode.
    pub mode: Mode,
    pub detail: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceView {
    pub app: String,
    pub host: String,
    pub status: AppStatus,
    pub mode: Mode,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VipView {
    pub address: String,
    pub nic: String,
    /// The host that should hold it (the primary's), when there is a primary.
    pub desired: Option<String>,
    /// Per host of the pair, what its agent reports (`unknown` when it cannot).
    pub hosts: Vec<VipHostView>,
    /// Hosts that report it bound.
    pub holders: Vec<String>,
    pub duplicate: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VipHostView {
    pub host: String,
    pub state: VipObs,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairView {
    pub id: String,
    pub site: String,
    pub group: Option<String>,
    pub leader: bool,
    /// The instance the controller wants primary, and the other.
    pub primary: InstanceView,
    pub backup: InstanceView,
    pub vip: Option<VipView>,
    /// `ok`, `maintenance`, `degraded`, `backup-not-ready`, `no-backup`, `no-primary`,
    /// `split-brain`, or `unknown` (`None`) when no controller can say.
    #[serde(default, with = "or_unknown")]
    pub redundancy: Option<Redundancy>,
    pub maintenance: bool,
    pub flapping: bool,
    /// The step of the switchover running, if one runs.
    pub switchover: Option<Step>,
    pub last_switchover_age_ms: Option<u64>,
    pub incident: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: String,
    pub site: String,
    pub leader: String,
    pub members: Vec<String>,
    /// The host the group runs primary on.
    pub primary_host: String,
    /// The worst of its members; `unknown` (`None`) when no controller can say.
    #[serde(default, with = "or_unknown")]
    pub redundancy: Option<Redundancy>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub population: String,
    pub site: String,
    pub total: u32,
    /// Registered endpoints per server (pair id), in priority order.
    pub registered: Vec<(String, u32)>,
    pub unregistered: u32,
}

/// One controller's part of the deployment, as a console holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Fresh from its controller.
    Live(Snapshot),
    /// The last part known of a controller that cannot be reached now (or its
    /// [`super::skeleton`] if none ever came): shown with nothing known.
    Unreachable(Snapshot),
}

impl Part {
    pub fn snapshot_mut(&mut self) -> &mut Snapshot {
        match self {
            Part::Live(s) | Part::Unreachable(s) => s,
        }
    }
}

impl Snapshot {
    /// Combines controllers' parts, in the order given (each site's items in their
    /// configured order). An unreachable controller's part is kept, with nothing known
    /// ([`Snapshot::unknown`]): its site stays visible, its pairs `unknown`, never `ok`.
    /// The merge's time is the latest part's.
    pub fn merge(parts: impl IntoIterator<Item = Part>) -> Snapshot {
        let mut out = Snapshot::default();
        for part in parts {
            let s = match part {
                Part::Live(s) => s,
                Part::Unreachable(s) => s.unknown(),
            };
            out.t_ms = out.t_ms.max(s.t_ms);
            out.sites.extend(s.sites);
            out.hosts.extend(s.hosts);
            out.pairs.extend(s.pairs);
            out.groups.extend(s.groups);
            out.endpoints.extend(s.endpoints);
        }
        out
    }

    /// The same part with nothing known about it: what a console shows of a controller it
    /// cannot reach. Names, placement and configuration stay; states become `unknown`; the
    /// mode of an application stays as its last known one (shown as such). Endpoint
    /// counts, which come from the endpoints rather than the controller, are kept.
    pub fn unknown(self) -> Snapshot {
        self.unknown_where(|_| true)
    }

    /// The same with nothing known about the sites named (their controllers cannot be
    /// reached); the other sites' parts stay as they are.
    pub fn unknown_sites(self, sites: &[String]) -> Snapshot {
        self.unknown_where(|s| sites.iter().any(|x| x == s))
    }

    fn unknown_where(mut self, site: impl Fn(&str) -> bool) -> Snapshot {
        for s in self.sites.iter_mut().filter(|s| site(&s.id)) {
            s.controller_up = false;
            s.link = None;
        }
        for h in self.hosts.iter_mut().filter(|h| site(&h.site)) {
            h.agent = AgentState::Unknown;
            h.last_heard_age_ms = None;
            for n in &mut h.nics {
                n.state = NicState::Unknown;
            }
            for a in &mut h.apps {
                a.status = AppStatus::Unknown;
                a.detail = "controller unreachable".into();
            }
        }
        for p in self.pairs.iter_mut().filter(|p| site(&p.site)) {
            p.primary.status = AppStatus::Unknown;
            p.backup.status = AppStatus::Unknown;
            p.redundancy = None;
            p.maintenance = false;
            p.flapping = false;
            p.switchover = None;
            p.last_switchover_age_ms = None;
            p.incident = None;
            if let Some(v) = &mut p.vip {
                v.desired = None;
                v.holders.clear();
                v.duplicate = false;
                for h in &mut v.hosts {
                    h.state = VipObs::Unknown;
                }
            }
        }
        for g in self.groups.iter_mut().filter(|g| site(&g.site)) {
            g.redundancy = None;
        }
        self
    }
}
