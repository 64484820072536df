//! The checked deployment: sites, hosts, applications, pairs, groups, scripts, alarm
//! conditions and endpoint populations, cross-referenced by typed indices. Built only by
//! [`super::config::parse`], so every reference in it is known to be valid.

use super::event::EventId;
use super::time::Span;

macro_rules! index {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn ix(self) -> usize { self.0 as usize }
        }
    )*};
}
index!(SiteIx, HostIx, AppIx, PairIx, GroupIx, ScriptIx, AlarmIx, PopulationIx);

/// Settings of the controllers (one per site).
#[derive(Clone, Debug, PartialEq)]
pub struct ControllerSettings {
    /// Agents send a heartbeat this often.
    pub heartbeat_interval: Span,
    /// An agent is lost after this long without a heartbeat.
    pub heartbeat_timeout: Span,
    /// How long an agent may take to confirm a mode change before a switchover fails.
    pub mode_timeout: Span,
    /// How long a VIP placement may stay wrong before the invariants count it as a fault;
    /// also the longest wait between two VIP retries.
    pub reconcile_interval: Span,
}

impl Default for ControllerSettings {
    fn default() -> Self {
        ControllerSettings {
            heartbeat_interval: Span::secs(1),
            heartbeat_timeout: Span::secs(3),
            mode_timeout: Span::secs(10),
            reconcile_interval: Span::secs(2),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub id: String,
    pub peer: Option<SiteIx>,
    /// Inter-site probe period.
    pub oos_check: Span,
    /// The link is out of service after this long without a probe answer.
    pub oos_force: Span,
    /// The base URL of the site's controller API (`http://10.0.0.5:7400`): where its
    /// agents connect and what the peer site's controller probes.
    pub controller: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Host {
    pub id: String,
    pub site: SiteIx,
    pub nics: Vec<String>,
    /// Index into `nics` of the NIC the agent talks to the controller through.
    pub management_nic: usize,
    /// Per NIC (same order as `nics`), the kernel interface the agent acts on.
    pub interfaces: Vec<String>,
    pub apps: Vec<AppIx>,
}

impl Host {
    pub fn nic(&self, name: &str) -> Option<usize> {
        self.nics.iter().position(|n| n == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// SIP OPTIONS; 200 (or any final answer but 500/503) is healthy.
    SipOptions,
    /// A TCP connect to the port.
    Tcp,
    /// The probe's `command` (argv, no shell) run by the agent; exit 0 is healthy.
    Exec,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub kind: ProbeKind,
    pub port: u16,
    /// The argv of an `exec` probe; empty for the other kinds.
    pub command: Vec<String>,
    pub interval: Span,
    pub timeout: Span,
    /// Consecutive failures before the application counts as failed.
    pub failures: u32,
}

impl Probe {
    /// Worst-case time from a hang to its detection.
    pub fn detection_time(&self) -> Span {
        Span(self.interval.0 * u64::from(self.failures) + self.timeout.0)
    }
}

/// W6: what a backup checks while it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct BackupCheck {
    pub enabled: bool,
    pub init_timeout: Span,
    /// Check that the service port can be opened (off when the application owns the VIP).
    pub port_check: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    /// SERVICE_UNAVAILABLE after this long without traffic while primary.
    pub timeout: Span,
    /// Index into the host's NICs.
    pub nic: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct App {
    pub id: String,
    pub kind: String,
    pub host: HostIx,
    pub pair: Option<PairIx>,
    pub start: Vec<String>,
    pub mode_hook: Vec<String>,
    pub restart_delay: Span,
    pub announces_primary: bool,
    pub traffic: Option<Traffic>,
    pub probe: Option<Probe>,
    pub backup_check: BackupCheck,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VipControl {
    /// `ip addr add/del` and a gratuitous ARP, by the agent.
    Builtin,
    /// An allow-listed script run with `enable|disable ADDRESS NIC`.
    Script(ScriptIx),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Vip {
    pub address: String,
    pub nic: String,
    pub control: VipControl,
}

/// Which failures switch a pair over automatically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Triggers {
    pub exit: bool,
    pub probe: bool,
    pub host_lost: bool,
    pub service_unavailable: bool,
}

impl Triggers {
    pub const ALL: Triggers = Triggers {
        exit: true,
        probe: true,
        host_lost: true,
        service_unavailable: true,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AntiFlap {
    pub window: Span,
    pub max_switchovers: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub id: String,
    /// `apps[0]` is the preferred primary.
    pub apps: [AppIx; 2],
    pub site: SiteIx,
    pub vip: Option<Vip>,
    pub failover: Triggers,
    pub anti_flap: AntiFlap,
    pub group: Option<GroupIx>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub id: String,
    pub leader: PairIx,
    /// Every member, the leader first.
    pub members: Vec<PairIx>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    pub id: String,
    pub command: String,
    pub args: Vec<String>,
    pub timeout: Span,
    /// Hosts the script may run on; empty means every host.
    pub hosts: Vec<HostIx>,
}

impl Script {
    pub fn allowed_on(&self, host: HostIx) -> bool {
        self.hosts.is_empty() || self.hosts.contains(&host)
    }
}

/// What an alarm condition's source filter matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFilter {
    Any,
    Site(SiteIx),
    Host(HostIx),
    App(AppIx),
    Pair(PairIx),
    Group(GroupIx),
}

/// Where a reaction's script runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptTarget {
    Host(HostIx),
    /// The host the matching event came from.
    EventHost,
    /// The host of the current primary of the event's pair.
    PrimaryHost,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Reaction {
    RunScript {
        script: ScriptIx,
        target: ScriptTarget,
    },
    Switchover(PairIx),
    /// Order one application into a mode (`primary` or `backup`).
    SetMode {
        app: AppIx,
        primary: bool,
    },
    Notify(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub id: String,
    pub event: EventId,
    pub filter: SourceFilter,
    pub reactions: Vec<Reaction>,
    pub clear: Option<EventId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

/// W9: how one population of endpoints registers and fails over.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointSettings {
    pub transport: Transport,
    pub ttl: Span,
    pub retry_count: u32,
    /// Per-try timeout on every server but the last.
    pub retry_timeout: Span,
    pub failback: bool,
    pub failback_interval: Span,
    pub t1: Span,
    pub tcp_connect_timeout: Span,
    pub dual_registration: bool,
    /// Mean time between two calls of one endpoint; none for register-only populations.
    pub call_interval: Option<Span>,
}

impl EndpointSettings {
    /// RFC 3261 transaction timeout: 64*T1.
    pub fn transaction_timeout(&self) -> Span {
        self.t1.times(64)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    pub id: String,
    pub site: SiteIx,
    pub count: u32,
    /// Servers in priority order (pairs whose VIP the endpoints use).
    pub servers: [PairIx; 2],
    pub settings: EndpointSettings,
}

/// The whole checked deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    pub controller: ControllerSettings,
    pub sites: Vec<Site>,
    pub hosts: Vec<Host>,
    pub apps: Vec<App>,
    pub pairs: Vec<Pair>,
    pub groups: Vec<Group>,
    pub scripts: Vec<Script>,
    pub alarms: Vec<Alarm>,
    pub populations: Vec<Population>,
}

impl Topology {
    pub fn site(&self, ix: SiteIx) -> &Site {
        &self.sites[ix.ix()]
    }
    pub fn host(&self, ix: HostIx) -> &Host {
        &self.hosts[ix.ix()]
    }
    pub fn app(&self, ix: AppIx) -> &App {
        &self.apps[ix.ix()]
    }
    pub fn pair(&self, ix: PairIx) -> &Pair {
        &self.pairs[ix.ix()]
    }
    pub fn group(&self, ix: GroupIx) -> &Group {
        &self.groups[ix.ix()]
    }
    pub fn script(&self, ix: ScriptIx) -> &Script {
        &self.scripts[ix.ix()]
    }

    pub fn site_ix(&self, id: &str) -> Option<SiteIx> {
        self.sites.iter().position(|s| s.id == id).map(|i| SiteIx(i as u32))
    }
    pub fn host_ix(&self, id: &str) -> Option<HostIx> {
        self.hosts.iter().position(|s| s.id == id).map(|i| HostIx(i as u32))
    }
    pub fn app_ix(&self, id: &str) -> Option<AppIx> {
        self.apps.iter().position(|s| s.id == id).map(|i| AppIx(i as u32))
    }
    pub fn pair_ix(&self, id: &str) -> Option<PairIx> {
        self.pairs.iter().position(|s| s.id == id).map(|i| PairIx(i as u32))
    }
    pub fn group_ix(&self, id: &str) -> Option<GroupIx> {
        self.groups.iter().position(|s| s.id == id).map(|i| GroupIx(i as u32))
    }
    pub fn script_ix(&self, id: &str) -> Option<ScriptIx> {
        self.scripts.iter().position(|s| s.id == id).map(|i| ScriptIx(i as u32))
    }

    pub fn site_ixs(&self) -> impl Iterator<Item = SiteIx> + use<> {
        (0..self.sites.len() as u32).map(SiteIx)
    }
    pub fn host_ixs(&self) -> impl Iterator<Item = HostIx> + use<> {
        (0..self.hosts.len() as u32).map(HostIx)
    }
    pub fn app_ixs(&self) -> impl Iterator<Item = AppIx> + use<> {
        (0..self.apps.len() as u32).map(AppIx)
    }
    pub fn pair_ixs(&self) -> impl Iterator<Item = PairIx> + use<> {
        (0..self.pairs.len() as u32).map(PairIx)
    }

    pub fn app_host(&self, app: AppIx) -> HostIx {
        self.app(app).host
    }

    /// `app@host`, the way the console and the transcript name an instance.
    pub fn app_label(&self, app: AppIx) -> String {
        format!("{}@{}", self.app(app).id, self.host(self.app(app).host).id)
    }

    /// Pairs with a VIP that one of their instances runs on `host`.
    pub fn vip_pairs_on_host(&self, host: HostIx) -> Vec<PairIx> {
        self.pair_ixs()
            .filter(|p| self.pair(*p).vip.is_some() && self.pair(*p).apps.iter().any(|a| self.app_host(*a) == host))
            .collect()
    }

    /// The other instance of `app`'s pair.
    pub fn peer_app(&self, app: AppIx) -> Option<AppIx> {
        let pair = self.pair(self.app(app).pair?);
        Some(if pair.apps[0] == app {
            pair.apps[1]
        } else {
            pair.apps[0]
        })
    }

    pub fn side_of(&self, pair: PairIx, app: AppIx) -> usize {
        usize::from(self.pair(pair).apps[1] == app)
    }
}

impl Topology {
    /// A short name for an event's source or subject: `app@host`, a pair id, `site:x`...
    pub fn entity_label(&self, e: &super::event::Entity) -> String {
        use super::event::Entity;
        match e {
            Entity::Controller(s) => format!("controller:{}", self.site(*s).id),
            Entity::Site(s) => format!("site:{}", self.site(*s).id),
            Entity::Host(h) => format!("host:{}", self.host(*h).id),
            Entity::App(a) => format!("app:{}", self.app_label(*a)),
            Entity::Pair(p) => format!("pair:{}", self.pair(*p).id),
            Entity::Group(g) => format!("group:{}", self.group(*g).id),
            Entity::Operator(o) => format!("operator:{o}"),
            Entity::Drill => "drill".to_string(),
        }
    }

    /// `site-n`, the printed form of a correlation id.
    pub fn correlation_label(&self, c: super::event::Correlation) -> String {
        format!("{}-{}", self.site(c.site).id, c.n)
    }
}
