//! The deployment file as serde reads it: every table with `deny_unknown_fields` and the
//! spans of the values that later checks report on.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

/// A duration: `"30s"`, `"500ms"`, `"10m"`, or a bare number of seconds. Any scalar is
/// read, so that a wrong one is reported with the others by validation, not as the one
/// error that stops the parser.
#[derive(Clone, Debug)]
pub(super) enum RawSpan {
    Secs(i64),
    Text(String),
    /// A value of another type, named (`a fractional number`, `true`).
    Other(&'static str),
}

impl<'de> Deserialize<'de> for RawSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawSpan;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"30s\" or a whole number of seconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSpan, E> {
                Ok(RawSpan::Secs(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawSpan, E> {
                Ok(RawSpan::Secs(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawSpan, E> {
                Ok(RawSpan::Other("a fractional number"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawSpan, E> {
                Ok(RawSpan::Other("true or false"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSpan, E> {
                Ok(RawSpan::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

pub(super) type S<T> = Spanned<T>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawFile {
    pub(super) controller: Option<S<RawController>>,
    #[serde(default)]
    pub(super) site: Vec<RawSite>,
    #[serde(default)]
    pub(super) host: Vec<RawHost>,
    #[serde(default)]
    pub(super) app: Vec<RawApp>,
    #[serde(default)]
    pub(super) pair: Vec<RawPair>,
    #[serde(default)]
    pub(super) group: Vec<RawGroup>,
    #[serde(default)]
    pub(super) script: Vec<RawScript>,
    #[serde(default)]
    pub(super) alarm: Vec<RawAlarm>,
    #[serde(default)]
    pub(super) endpoints: Vec<RawPopulation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawController {
    pub(super) heartbeat_interval: Option<S<RawSpan>>,
    pub(super) heartbeat_timeout: Option<S<RawSpan>>,
    pub(super) mode_timeout: Option<S<RawSpan>>,
    pub(super) reconcile_interval: Option<S<RawSpan>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawSite {
    pub(super) id: S<String>,
    pub(super) peer: Option<S<String>>,
    pub(super) oos_check: Option<S<RawSpan>>,
    pub(super) oos_force: Option<S<RawSpan>>,
    pub(super) controller: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawHost {
    pub(super) id: S<String>,
    pub(super) site: S<String>,
    pub(super) nics: S<Vec<S<String>>>,
    pub(super) management_nic: Option<S<String>>,
    pub(super) interfaces: Option<S<std::collections::BTreeMap<String, S<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawProbe {
    pub(super) kind: S<String>,
    pub(super) port: Option<S<i64>>,
    pub(super) interval: Option<S<RawSpan>>,
    pub(super) timeout: Option<S<RawSpan>>,
    pub(super) failures: Option<S<i64>>,
    pub(super) command: Option<S<Vec<S<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawBackupCheck {
    pub(super) enabled: Option<bool>,
    pub(super) init_timeout: Option<S<RawSpan>>,
    pub(super) port_check: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawApp {
    pub(super) id: S<String>,
    pub(super) kind: S<String>,
    pub(super) host: S<String>,
    #[serde(default)]
    pub(super) start: Vec<S<String>>,
    #[serde(default)]
    pub(super) mode_hook: Vec<S<String>>,
    pub(super) restart_delay: Option<S<RawSpan>>,
    pub(super) announces_primary: Option<bool>,
    pub(super) traffic_timeout: Option<S<RawSpan>>,
    pub(super) traffic_nic: Option<S<String>>,
    pub(super) probe: Option<RawProbe>,
    pub(super) backup_check: Option<RawBackupCheck>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawVip {
    pub(super) address: S<String>,
    pub(super) nic: S<String>,
    pub(super) control: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawAntiFlap {
    pub(super) window: Option<S<RawSpan>>,
    pub(super) max_switchovers: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPair {
    pub(super) id: S<String>,
    pub(super) apps: S<Vec<S<String>>>,
    pub(super) vip: Option<RawVip>,
    pub(super) failover_on: Option<S<Vec<S<String>>>>,
    pub(super) anti_flap: Option<RawAntiFlap>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawGroup {
    pub(super) id: S<String>,
    pub(super) leader: S<String>,
    pub(super) members: S<Vec<S<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawScript {
    pub(super) id: S<String>,
    pub(super) command: S<String>,
    #[serde(default)]
    pub(super) args: Vec<S<String>>,
    pub(super) timeout: Option<S<RawSpan>>,
    pub(super) hosts: Option<S<Vec<S<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawReaction {
    pub(super) run_script: Option<S<String>>,
    pub(super) on: Option<S<String>>,
    pub(super) switchover: Option<S<String>>,
    pub(super) set_mode: Option<S<String>>,
    pub(super) mode: Option<S<String>>,
    pub(super) notify: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawAlarm {
    pub(super) id: S<String>,
    pub(super) event: S<String>,
    pub(super) site: Option<S<String>>,
    pub(super) host: Option<S<String>>,
    pub(super) app: Option<S<String>>,
    pub(super) pair: Option<S<String>>,
    pub(super) group: Option<S<String>>,
    pub(super) reactions: S<Vec<RawReaction>>,
    pub(super) clear_event: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPopulation {
    pub(super) id: S<String>,
    pub(super) site: S<String>,
    pub(super) count: S<i64>,
    pub(super) primary: S<String>,
    pub(super) backup: S<String>,
    pub(super) transport: Option<S<String>>,
    pub(super) ttl: Option<S<RawSpan>>,
    pub(super) retry_count: Option<S<i64>>,
    pub(super) retry_timeout: Option<S<RawSpan>>,
    pub(super) failback: Option<bool>,
    pub(super) failback_interval: Option<S<RawSpan>>,
    pub(super) t1: Option<S<RawSpan>>,
    pub(super) tcp_connect_timeout: Option<S<RawSpan>>,
    pub(super) dual_registration: Option<bool>,
    pub(super) call_interval: Option<S<RawSpan>>,
}
