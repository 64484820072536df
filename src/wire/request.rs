//! Operator requests by names, as the console, the drill's scenarios and the API's bodies
//! give them ([`Request`]), and what an accepted one started ([`Accepted`]). Who asks is
//! not part of a request: the API takes it from the caller's token, the drill and the
//! console from their operator. Names become indices in [`super::resolve`].
//!
//! On the wire a request is one flat object whose `kind` says what it asks
//! (`{"kind": "switchover", "pair": "east-sip", "force": false, "dry_run": true,
//! "request_id": "r-1", "reason": "patching"}`); the API's bodies are the same objects
//! without `kind`, which their path gives ([`Request::from_body`]). Unknown fields are
//! errors, so a misspelt `dry_run` never starts a real switchover.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::OpError;
use crate::engine::{self, Span, Topology};

/// The longest request id, reason and name a request may carry, in characters.
pub const MAX_REQUEST_ID: usize = 128;
pub const MAX_REASON: usize = 512;
pub const MAX_NAME: usize = 256;

/// The longest maintenance a request may ask for at once.
pub const MAX_MAINTENANCE: Span = Span(30 * 24 * 3600 * 1000);

/// An operator request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Body", into = "Body")]
pub struct Request {
    /// Makes the request idempotent: the same id gets the same answer, carried out once.
    pub request_id: Option<String>,
    /// Why, for the log.
    pub reason: Option<String>,
    pub command: Command,
}

/// What a request asks, by names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Switch a pair (or a group, by its name: its leader, the members following) over,
    /// to the instance named by `to` (an application or its host) or to the other one.
    Switchover {
        pair: String,
        to: Option<String>,
        force: bool,
        /// Only the plan and its pre-flight checks: nothing is carried out.
        dry_run: bool,
    },
    /// Maintenance on or off; on for a limited time when `expires` is given.
    Maintenance {
        pair: String,
        on: bool,
        expires: Option<Span>,
    },
    RunScript {
        script: String,
        host: String,
    },
    /// Forget the pair's recent switchovers so automatic ones are no longer held back.
    ResetAntiFlap {
        pair: String,
    },
}

/// The kinds of request, as the API's paths name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandKind {
    Switchover,
    Maintenance,
    RunScript,
    ResetAntiFlap,
}

impl CommandKind {
    /// The `kind` of the flat JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Switchover => "switchover",
            CommandKind::Maintenance => "maintenance",
            CommandKind::RunScript => "run-script",
            CommandKind::ResetAntiFlap => "reset-anti-flap",
        }
    }
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Switchover { .. } => CommandKind::Switchover,
            Command::Maintenance { .. } => CommandKind::Maintenance,
            Command::RunScript { .. } => CommandKind::RunScript,
            Command::ResetAntiFlap { .. } => CommandKind::ResetAntiFlap,
        }
    }

    /// A few words for status lines and notes: `switchover of east-sip`.
    pub fn describe(&self) -> String {
        match self {
            Command::Switchover { pair, .. } => format!("switchover of {pair}"),
            Command::Maintenance { pair, on, .. } => {
                format!("maintenance {} for {pair}", if *on { "on" } else { "off" })
            }
            Command::RunScript { script, host } => format!("script {script} on {host}"),
            Command::ResetAntiFlap { pair } => format!("reset of the anti-flap counter of {pair}"),
        }
    }
}

impl Request {
    /// A request with no id and no reason.
    pub fn new(command: Command) -> Request {
        Request {
            request_id: None,
            reason: None,
            command,
        }
    }

    pub fn with_reason(mut self, reason: Option<String>) -> Request {
        self.reason = reason;
        self
    }

    /// A switchover that only asks for its plan.
    pub fn is_dry_run(&self) -> bool {
        matches!(self.command, Command::Switchover { dry_run: true, .. })
    }

    /// Reads an API body: the flat object of `kind`, without `kind` (the path says it).
    /// Anything else (not JSON, not an object, an unknown or missing field, a bad value)
    /// is [`OpError::Invalid`], saying what.
    pub fn from_body(kind: CommandKind, body: &[u8]) -> Result<Request, OpError> {
        let mut v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| OpError::Invalid(format!("the body is not JSON: {}", inert(e))))?;
        let obj = v
            .as_object_mut()
            .ok_or_else(|| OpError::Invalid("the body must be a JSON object".into()))?;
        if obj.contains_key("kind") {
            return Err(OpError::Invalid(
                "unknown field `kind`: the path says what is asked".into(),
            ));
        }
        obj.insert("kind".into(), kind.as_str().into());
        serde_json::from_value(v).map_err(|e| OpError::Invalid(inert(e)))
    }
}

/// A parser's message, which may quote the peer's text: one inert line.
fn inert(e: serde_json::Error) -> String {
    engine::config::inert(&e.to_string(), 400)
}

/// A duration as JSON: milliseconds, or text such as `"90s"` or `"1h"`. Written as
/// milliseconds.
mod span_ms {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::engine::Span;
    use crate::engine::time::parse_span;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Ms(u64),
        Text(String),
    }

    pub fn serialize<S: Serializer>(v: &Option<Span>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(span) => s.serialize_u64(span.as_ms()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Span>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::Ms(ms)) => Ok(Some(Span(ms))),
            Some(Raw::Text(t)) => parse_span(&t).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

/// The flat JSON form (private: [`Request`] is the type to use).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum Body {
    Switchover {
        pair: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        #[serde(default)]
        force: bool,
        #[serde(default)]
        dry_run: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Maintenance {
        pair: String,
        on: bool,
        #[serde(rename = "for", default, skip_serializing_if = "Option::is_none", with = "span_ms")]
        expires: Option<Span>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    RunScript {
        script: String,
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    ResetAntiFlap {
        pair: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

fn bounded(field: &str, v: &str, max: usize) -> Result<(), String> {
    if v.chars().count() > max {
        return Err(format!("`{field}` is longer than {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("`{field}` holds a control character"));
    }
    Ok(())
}

impl TryFrom<Body> for Request {
    type Error = String;

    fn try_from(b: Body) -> Result<Request, String> {
        let (request_id, reason, command) = match b {
            Body::Switchover {
                pair,
                to,
                force,
                dry_run,
                request_id,
                reason,
            } => (
                request_id,
                reason,
                Command::Switchover {
                    pair,
                    to,
                    force,
                    dry_run,
                },
            ),
            Body::Maintenance {
                pair,
                on,
                expires,
                request_id,
                reason,
            } => {
                match expires {
                    Some(_) if !on => return Err("`for` goes with `\"on\": true`".into()),
                    Some(s) if s == Span::ZERO || s > MAX_MAINTENANCE => {
                        return Err(format!("`for` must be longer than 0 and at most {MAX_MAINTENANCE}"));
                    }
                    _ => {}
                }
                (request_id, reason, Command::Maintenance { pair, on, expires })
            }
            Body::RunScript {
                script,
                host,
                request_id,
                reason,
            } => (request_id, reason, Command::RunScript { script, host }),
            Body::ResetAntiFlap {
                pair,
                request_id,
                reason,
            } => (request_id, reason, Command::ResetAntiFlap { pair }),
        };
        let names: Vec<(&str, &str)> = match &command {
            Command::Switchover { pair, to, .. } => {
                let mut v = vec![("pair", pair.as_str())];
                v.extend(to.as_deref().map(|t| ("to", t)));
                v
            }
            Command::Maintenance { pair, .. } | Command::ResetAntiFlap { pair } => vec![("pair", pair.as_str())],
            Command::RunScript { script, host } => vec![("script", script.as_str()), ("host", host.as_str())],
        };
        for (field, name) in names {
            bounded(field, name, MAX_NAME)?;
        }
        if let Some(id) = &request_id {
            bounded("request_id", id, MAX_REQUEST_ID)?;
            if id.is_empty() {
                return Err("`request_id` is empty".into());
            }
        }
        if let Some(r) = &reason {
            bounded("reason", r, MAX_REASON)?;
        }
        Ok(Request {
            request_id,
            reason,
            command,
        })
    }
}

impl From<Request> for Body {
    fn from(r: Request) -> Body {
        let (request_id, reason) = (r.request_id, r.reason);
        match r.command {
            Command::Switchover {
                pair,
                to,
                force,
                dry_run,
            } => Body::Switchover {
                pair,
                to,
                force,
                dry_run,
                request_id,
                reason,
            },
            Command::Maintenance { pair, on, expires } => Body::Maintenance {
                pair,
                on,
                expires,
                request_id,
                reason,
            },
            Command::RunScript { script, host } => Body::RunScript {
                script,
                host,
                request_id,
                reason,
            },
            Command::ResetAntiFlap { pair } => Body::ResetAntiFlap {
                pair,
                request_id,
                reason,
            },
        }
    }
}

/// A script run. Each site's controller numbers its own runs, so a run is named by both.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunId {
    pub site: String,
    pub n: u64,
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {} of site {}", self.n, self.site)
    }
}

/// What an accepted request started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The correlation id every event of this action carries (`east-4`).
    pub correlation: String,
    /// The switchover it started, numbered by its site's controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchover: Option<u64>,
    /// The script run it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunId>,
}

impl Accepted {
    /// The engine's answer, named: runs belong to the site of the controller that
    /// accepted them (the site of the correlation).
    pub fn new(topo: &Topology, a: &engine::Accepted) -> Accepted {
        let site = topo.site(a.correlation.site).id.clone();
        Accepted {
            correlation: topo.correlation_label(a.correlation),
            switchover: a.switchover,
            run: a.run.map(|n| RunId { site, n }),
        }
    }
}

/// `switchover 3 started (east-4)`, `script run 2 started (east-5)`, `done (east-6)`.
impl fmt::Display for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.switchover, &self.run) {
            (Some(id), _) => write!(f, "switchover {id} started ({})", self.correlation),
            (_, Some(run)) => write!(f, "script run {} started ({})", run.n, self.correlation),
            _ => write!(f, "done ({})", self.correlation),
        }
    }
}
