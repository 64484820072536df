//! Faults the drill can inject, and their names on the command line and in the console:
//! `kill:APP`, `stop:APP`, `hang:APP`, `unavailable:APP`, `not-ready:APP`,
//! `hang-hook:APP`, `disconnect:HOST`, `flaky-link:HOST`, `host-down:HOST`, `nic-down:HOST/NIC`,
//! `site-down:SITE`, `controller-crash:SITE`, `controller-stop:SITE`, `partition`. Every
//! fault can be healed.

use std::fmt;

use crate::engine::{AppIx, HostIx, SiteIx, Topology};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The process crashes; its agent restarts it after the app's restart-delay.
    KillApp(AppIx),
    /// The process crashes and stays down until healed.
    StopApp(AppIx),
    /// The process stops answering; its probe fails and its agent kills and restarts it.
    HangApp(AppIx),
    /// The application reports SERVICE_UNAVAILABLE until healed.
    Unavailable(AppIx),
    /// The application restarts and its backup start-up checks fail until healed (W6).
    NotReady(AppIx),
    /// The controller loses the host's agent (management network cut); the host runs on.
    Disconnect(HostIx),
    /// The host loses power: processes, VIPs and agent gone until healed.
    HostDown(HostIx),
    NicDown(HostIx, usize),
    /// The whole site fails: its controller and every host.
    SiteDown(SiteIx),
    /// The network between the sites fails; both sites live.
    Partition,
    /// The application's mode hook hangs: mode orders are never confirmed until healed.
    HookHang(AppIx),
    /// The host's agent link is flaky: heartbeats (datagrams) are lost or overtake each
    /// other, reports and commands (one TCP connection each way) arrive late, in order.
    FlakyLink(HostIx),
    /// The site's controller crashes alone (nothing logged); healing starts it again.
    ControllerCrash(SiteIx),
    /// The site's controller is stopped (it logs that it stops); healing starts it again.
    ControllerStop(SiteIx),
}

/// The kinds of fault, for menus: (name, what it targets, description).
pub const KINDS: &[(&str, &str, &str)] = &[
    ("kill", "app", "crash an application (its agent restarts it)"),
    ("stop", "app", "crash an application and keep it down"),
    ("hang", "app", "make an application stop answering its health probe"),
    ("unavailable", "app", "make an application report SERVICE_UNAVAILABLE"),
    (
        "not-ready",
        "app",
        "restart an application with failing backup start-up checks",
    ),
    ("hang-hook", "app", "make an application's mode hook hang"),
    ("disconnect", "host", "cut a host's agent off from its controller"),
    ("flaky-link", "host", "make a host's agent link lose heartbeats and lag"),
    ("host-down", "host", "power a host off"),
    ("nic-down", "nic", "take a host's NIC down"),
    ("site-down", "site", "fail a whole site"),
    ("controller-crash", "site", "crash a site's controller alone"),
    ("controller-stop", "site", "stop a site's controller"),
    ("partition", "none", "cut the network between the sites"),
];

impl Fault {
    /// Parses `kind:target` (see the module docs).
    pub fn parse(topo: &Topology, text: &str) -> Result<Fault, String> {
        let (kind, target) = text.split_once(':').unwrap_or((text, ""));
        let app = || {
            topo.app_ix(target)
                .ok_or_else(|| format!("fault `{text}`: unknown app `{target}`"))
        };
        let host = || {
            topo.host_ix(target)
                .ok_or_else(|| format!("fault `{text}`: unknown host `{target}`"))
        };
        Ok(match kind {
            "kill" => Fault::KillApp(app()?),
            "stop" => Fault::StopApp(app()?),
            "hang" => Fault::HangApp(app()?),
            "unavailable" => Fault::Unavailable(app()?),
            "not-ready" => Fault::NotReady(app()?),
            "disconnect" => Fault::Disconnect(host()?),
            "host-down" => Fault::HostDown(host()?),
            "nic-down" => {
                let (h, n) = target
                    .split_once('/')
                    .ok_or_else(|| format!("fault `{text}`: write nic-down:HOST/NIC"))?;
                let hix = topo
                    .host_ix(h)
                    .ok_or_else(|| format!("fault `{text}`: unknown host `{h}`"))?;
                let nic = topo
                    .host(hix)
                    .nic(n)
                    .ok_or_else(|| format!("fault `{text}`: host `{h}` has no NIC `{n}`"))?;
                Fault::NicDown(hix, nic)
            }
            "site-down" => Fault::SiteDown(
                topo.site_ix(target)
                    .ok_or_else(|| format!("fault `{text}`: unknown site `{target}`"))?,
            ),
            "partition" => Fault::Partition,
            "hang-hook" => Fault::HookHang(app()?),
            "flaky-link" => Fault::FlakyLink(host()?),
            "controller-crash" | "controller-stop" => {
                let s = topo
                    .site_ix(target)
                    .ok_or_else(|| format!("fault `{text}`: unknown site `{target}`"))?;
                if kind == "controller-crash" {
                    Fault::ControllerCrash(s)
                } else {
                    Fault::ControllerStop(s)
                }
            }
            _ => {
                let kinds: Vec<&str> = KINDS.iter().map(|k| k.0).collect();
                return Err(format!(
                    "unknown fault kind `{kind}` (expected one of: {})",
                    kinds.join(", ")
                ));
            }
        })
    }

    /// Every target a fault kind can hit, as `kind:target` strings.
    pub fn targets(topo: &Topology, kind: &str) -> Vec<String> {
        let target = KINDS.iter().find(|k| k.0 == kind).map_or("", |k| k.1);
        match target {
            "app" => topo.apps.iter().map(|a| format!("{kind}:{}", a.id)).collect(),
            "host" => topo.hosts.iter().map(|h| format!("{kind}:{}", h.id)).collect(),
            "nic" => topo
                .hosts
                .iter()
                .flat_map(|h| h.nics.iter().map(move |n| format!("{kind}:{}/{n}", h.id)))
                .collect(),
            "site" => topo.sites.iter().map(|s| format!("{kind}:{}", s.id)).collect(),
            "none" => vec![kind.to_string()],
            _ => Vec::new(),
        }
    }

    /// A fault that happens once and is over (the agent restarts the process): it is not
    /// kept in the list of active faults and needs no heal.
    pub fn is_one_shot(&self) -> bool {
        matches!(self, Fault::KillApp(_) | Fault::HangApp(_))
    }

    pub fn describe(&self, topo: &Topology) -> String {
        match self {
            Fault::KillApp(a) => format!("kill:{}", topo.app(*a).id),
            Fault::StopApp(a) => format!("stop:{}", topo.app(*a).id),
            Fault::HangApp(a) => format!("hang:{}", topo.app(*a).id),
            Fault::Unavailable(a) => format!("unavailable:{}", topo.app(*a).id),
            Fault::NotReady(a) => format!("not-ready:{}", topo.app(*a).id),
            Fault::Disconnect(h) => format!("disconnect:{}", topo.host(*h).id),
            Fault::HostDown(h) => format!("host-down:{}", topo.host(*h).id),
            Fault::NicDown(h, n) => format!("nic-down:{}/{}", topo.host(*h).id, topo.host(*h).nics[*n]),
            Fault::SiteDown(s) => format!("site-down:{}", topo.site(*s).id),
            Fault::Partition => "partition".to_string(),
            Fault::HookHang(a) => format!("hang-hook:{}", topo.app(*a).id),
            Fault::FlakyLink(h) => format!("flaky-link:{}", topo.host(*h).id),
            Fault::ControllerCrash(s) => format!("controller-crash:{}", topo.site(*s).id),
            Fault::ControllerStop(s) => format!("controller-stop:{}", topo.site(*s).id),
        }
    }
}

/// A fault in effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveFault {
    pub id: u32,
    pub fault: Fault,
    pub since_ms: u64,
    pub label: String,
}

impl fmt::Display for ActiveFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}", self.id, self.label)
    }
}
