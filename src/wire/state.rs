//! The states a snapshot reports that the engine has no enum for (an agent's connection, a
//! NIC, the inter-site link, a site's mode), and how "nobody can say" travels: as the
//! value `unknown`, never as a missing field or an empty string. Each enum is kebab case on
//! the wire (`out-of-service`); [`label`](AgentState::label)-style methods give the words
//! the console shows.

use serde::{Deserialize, Serialize};

use crate::engine::Redundancy;

/// Whether a host's agent is connected to its site's controller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentState {
    Connected,
    /// The controller runs and does not hear the agent.
    Lost,
    /// No controller can say (the site's controller is down or unreachable).
    #[default]
    Unknown,
}

impl AgentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Connected => "connected",
            AgentState::Lost => "lost",
            AgentState::Unknown => "unknown",
        }
    }
}

/// A NIC's link, as the host's agent last reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NicState {
    Up,
    Down,
    #[default]
    Unknown,
}

impl NicState {
    pub fn from_report(up: Option<bool>) -> NicState {
        match up {
            Some(true) => NicState::Up,
            Some(false) => NicState::Down,
            None => NicState::Unknown,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            NicState::Up => "up",
            NicState::Down => "down",
            NicState::Unknown => "unknown",
        }
    }
}

/// The inter-site link as one site's controller probes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerLinkState {
    #[default]
    InService,
    /// A probe went unanswered; not out of service yet.
    Unreachable,
    /// No answer for `oos-force`.
    OutOfService,
}

impl PeerLinkState {
    /// The words the console shows.
    pub fn label(self) -> &'static str {
        match self {
            PeerLinkState::InService => "in service",
            PeerLinkState::Unreachable => "UNREACHABLE",
            PeerLinkState::OutOfService => "OUT-OF-SERVICE",
        }
    }
}

/// Whether a site works with its peer or alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteMode {
    #[default]
    Peered,
    SingleSite,
}

impl SiteMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteMode::Peered => "peered",
            SiteMode::SingleSite => "single-site",
        }
    }
}

/// A pair's or group's redundancy as the console shows it: `UNKNOWN` when no controller
/// can say.
pub fn redundancy_label(r: Option<Redundancy>) -> &'static str {
    r.map_or("UNKNOWN", Redundancy::label)
}

/// Serde for an `Option` whose `None` means "nobody can say": written as the string
/// `unknown` next to the values of `T` (`"redundancy": "unknown"` rather than `null`), and
/// read back from it, from `null` or from a missing field (with `#[serde(default)]`).
pub mod or_unknown {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    const UNKNOWN: &str = "unknown";

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => v.serialize(s),
            None => s.serialize_str(UNKNOWN),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<T> {
        Known(T),
        Other(Option<String>),
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        match Either::<T>::deserialize(d)? {
            Either::Known(v) => Ok(Some(v)),
            Either::Other(None) => Ok(None),
            Either::Other(Some(s)) if s == UNKNOWN => Ok(None),
            Either::Other(Some(s)) => Err(serde::de::Error::custom(format!("unexpected value `{s}`"))),
        }
    }
}
