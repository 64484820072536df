//! The event catalog and the event record. Ids are a contract with operators, alarm
//! conditions and scripts: an id never changes meaning once released. `docs/events.md` is
//! generated from [`EventId::ALL`] (`hactl drill --catalog`), and a test keeps the two equal.

use serde::{Deserialize, Serialize};

use super::time::Time;
use super::topology::{AppIx, GroupIx, HostIx, PairIx, SiteIx};

/// How bad an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Alarm,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Alarm => "alarm",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "alarm" => Some(Severity::Alarm),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

macro_rules! catalog {
    ($( $variant:ident = $code:literal, $sev:ident, $meaning:literal; )*) => {
        /// Every event id hactl writes. On the wire as its code (`HC-1102`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum EventId { $( #[serde(rename = $code)] $variant, )* }

        impl EventId {
            /// Every id, in catalog order.
            pub const ALL: &'static [EventId] = &[ $( EventId::$variant, )* ];

            /// The stable id operators match on.
            pub fn code(self) -> &'static str {
                match self { $( EventId::$variant => $code, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( EventId::$variant => Severity::$sev, )* }
            }

            /// One line: what the event means.
            pub fn meaning(self) -> &'static str {
                match self { $( EventId::$variant => $meaning, )* }
            }
        }
    };
}

catalog! {
    ModePrimary = "00-5150", Info, "an application changed to primary mode (logged by the controller)";
    ModeBackup = "00-5151", Info, "an application changed to backup mode (logged by the controller)";
    AnnouncedPrimary = "4563", Info, "an application announces that it now runs as primary (reported by the application, through its agent)";
    AppTerminated = "5064", Alarm, "an application terminated unexpectedly (failure)";
    AppUnavailable = "5091", Alarm, "an application became unavailable (connection to it lost, or it reported SERVICE_UNAVAILABLE)";
    AgentLost = "00-04504", Alarm, "connection to a host's agent lost";
    AgentRestored = "00-04503", Info, "connection to a host's agent restored";
    NoBrain = "20621", Critical, "a pair has no primary (\"no-brain\")";
    SplitBrain = "20622", Critical, "a pair has two primaries (split brain)";
    PairNormal = "20623", Info, "a pair is back to normal (one primary, one backup)";
    Flapping = "10327", Warning, "mode flapping detected (too many switchovers in the window; automatic ones held back)";
    Stable = "10328", Info, "mode stable again";
    AppStarted = "HC-1001", Info, "an application (re)started and reported to its agent";
    AppRecovered = "HC-1002", Info, "an application is available again after being unavailable";
    AppStopped = "HC-1003", Warning, "an application stopped on the controller's order (a primary fenced because it did not demote)";
    SwitchoverRequested = "HC-1100", Info, "a switchover was requested (by an operator, a failure, a group or an alarm reaction)";
    SwitchoverPlanned = "HC-1101", Info, "a switchover's plan is being carried out (an operator's passed its pre-flight checks; an automatic one passed its gates)";
    SwitchoverCompleted = "HC-1102", Info, "a switchover completed: the new primary confirmed its mode and the VIP is bound on its host";
    SwitchoverFailed = "HC-1103", Alarm, "a switchover failed (an order was not confirmed in time)";
    SwitchoverRefused = "HC-1104", Warning, "a switchover was refused; the reason is in the message";
    PrimaryFenced = "HC-1105", Alarm, "a primary did not confirm backup mode in time: the controller stops it (then kills it) before promoting the other instance";
    VipEnabled = "HC-1200", Info, "a virtual IP was enabled on a host";
    VipDisabled = "HC-1201", Info, "a virtual IP was disabled on a host";
    VipControlFailed = "HC-1202", Alarm, "a VIP control action failed on a host (it is retried while the placement is wrong)";
    VipStateUnknown = "HC-1203", Alarm, "the VIP state on a host is unknown (its agent is unreachable): possible address conflict";
    VipDuplicate = "HC-1204", Critical, "duplicate address: the VIP is bound on more than one host (both agents say so, or its holder hears another machine answer ARP for it: field `answered-by`)";
    VipDuplicateResolved = "HC-1205", Info, "the VIP is bound on one host only again";
    ScriptStarted = "HC-1300", Info, "a control script started on a host";
    ScriptSucceeded = "HC-1301", Info, "a control script exited 0";
    ScriptFailed = "HC-1302", Alarm, "a control script exited non-zero (exit code, duration, tail of output)";
    ScriptTimedOut = "HC-1303", Alarm, "a control script ran past its timeout and was killed";
    AlarmActivated = "HC-1400", Warning, "an alarm condition matched an event; its reactions run";
    AlarmCleared = "HC-1401", Info, "an alarm condition was cleared by its clearing event";
    RedundancyLost = "HC-1500", Alarm, "a pair or group lost redundancy (no usable backup, no primary or two primaries)";
    RedundancyRestored = "HC-1501", Info, "a pair or group is redundant again";
    BackupNotReady = "HC-1502", Alarm, "a backup is not ready: no automatic failover to it, manual switchover only when forced";
    BackupReady = "HC-1503", Info, "a backup is ready again";
    MaintenanceOn = "HC-1600", Warning, "maintenance on: no automatic action on the pair";
    MaintenanceOff = "HC-1601", Info, "maintenance off: automatic actions resume";
    PeerLinkOutOfService = "HC-1700", Alarm, "the inter-site link is out of service (no probe answer for oos-force)";
    PeerLinkInService = "HC-1701", Info, "the inter-site link is in service again";
    SingleSiteEntered = "HC-1702", Warning, "single-site mode entered: no forwarding to the peer, no forced logout";
    SingleSiteLeft = "HC-1703", Info, "single-site mode left: peered mode again";
    PeerUnreachable = "HC-1704", Warning, "a probe of the peer site went unanswered";
    PeerReachable = "HC-1705", Info, "the peer site answers probes again";
    EndpointsMoved = "HC-1800", Info, "an endpoint population moved to another server (drill)";
    OperatorCommand = "HC-1900", Info, "an operator command was received (who, from where, what, why)";
    ControllerStarted = "HC-2000", Info, "a controller started";
    ControllerStopped = "HC-2001", Info, "a controller stopped";
    LeadershipGained = "HC-2002", Info, "a controller became the active controller of its site";
    LeadershipLost = "HC-2003", Warning, "a controller stopped being the active controller of its site";
}

impl EventId {
    pub fn parse(code: &str) -> Option<EventId> {
        EventId::ALL.iter().copied().find(|id| id.code() == code)
    }
}

/// What an event comes from or is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    Controller(SiteIx),
    Site(SiteIx),
    Host(HostIx),
    App(AppIx),
    Pair(PairIx),
    Group(GroupIx),
    Operator(String),
    /// The drill itself (endpoint populations, injected faults).
    Drill,
}

/// A correlation id: every event one incident or one operator action caused shares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Correlation {
    pub site: SiteIx,
    pub n: u32,
}

/// One logged event, as the engine emits it (names are resolved by [`super::Topology`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub t: Time,
    pub id: EventId,
    pub source: Entity,
    pub subject: Entity,
    pub correlation: Option<Correlation>,
    pub message: String,
    pub attrs: Vec<(&'static str, String)>,
}

impl Event {
    pub fn severity(&self) -> Severity {
        self.id.severity()
    }

    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

/// The catalog as a Markdown table (the body of `docs/events.md`).
pub fn catalog_markdown() -> String {
    let mut out = String::from(
        "# Event catalog\n\n\
         Generated from `src/engine/event.rs` by `hactl drill --catalog`; a test fails when the\n\
         two differ. Ids never change meaning once released. `00-*`, `4563`, `5064`, `5091`,\n\
         `2062x` and `1032x` keep the meaning operators of the SIP platform know; `HC-*` ids are\n\
         hactl's own.\n\n\
         | id | severity | meaning |\n|---|---|---|\n",
    );
    for id in EventId::ALL {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            id.code(),
            id.severity().as_str(),
            id.meaning()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_and_parse_back() {
        let codes: BTreeSet<_> = EventId::ALL.iter().map(|id| id.code()).collect();
        assert_eq!(codes.len(), EventId::ALL.len());
        for id in EventId::ALL {
            assert_eq!(EventId::parse(id.code()), Some(*id));
        }
    }

    #[test]
    fn platform_ids_keep_their_meaning() {
        assert_eq!(EventId::ModePrimary.code(), "00-5150");
        assert_eq!(EventId::ModeBackup.code(), "00-5151");
        assert_eq!(EventId::AnnouncedPrimary.code(), "4563");
        assert_eq!(EventId::AppTerminated.code(), "5064");
        assert_eq!(EventId::AppUnavailable.code(), "5091");
        assert_eq!(EventId::AgentLost.code(), "00-04504");
        assert_eq!(EventId::AgentRestored.code(), "00-04503");
        assert_eq!(EventId::NoBrain.code(), "20621");
        assert_eq!(EventId::SplitBrain.code(), "20622");
        assert_eq!(EventId::PairNormal.code(), "20623");
        assert_eq!(EventId::Flapping.code(), "10327");
        assert_eq!(EventId::Stable.code(), "10328");
    }

    #[test]
    fn docs_catalog_matches_code() {
        let doc = include_str!("../../docs/events.md");
        assert_eq!(
            doc,
            catalog_markdown(),
            "docs/events.md is out of date: run `cargo run -- drill --catalog > docs/events.md`"
        );
    }
}
