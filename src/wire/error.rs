//! Why an operator request was not carried out: [`OpError`], one variant per cause, each
//! with its HTTP status, and [`ErrorBody`], its JSON form (`{"error": "<code>", "detail":
//! "<one line>"}`) as the API answers it and as clients read it back.

use serde::{Deserialize, Serialize};

/// Why a request was not carried out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(into = "ErrorBody")]
pub enum OpError {
    /// No pair (or, for a switchover, group) of that name.
    #[error("unknown pair `{0}`")]
    UnknownPair(String),
    /// No instance or host of that name (a switchover's `to`).
    #[error("unknown instance or host `{0}`")]
    UnknownApp(String),
    #[error("unknown host `{0}`")]
    UnknownHost(String),
    #[error("unknown script `{0}`")]
    UnknownScript(String),
    /// The request is for another site's controller.
    #[error("{what} is supervised by the controller of site {site}")]
    WrongSite { what: String, site: String },
    /// The request cannot mean anything: a malformed body, a field out of range, an
    /// instance of another pair.
    #[error("{0}")]
    Invalid(String),
    /// The engine refused it (and logged why): a failed pre-flight check, a host that
    /// cannot be reached, a script not allowed there.
    #[error("{0}")]
    Refused(String),
    /// It contradicts an earlier request, e.g. a request id used again for another command.
    #[error("{0}")]
    Conflict(String),
    /// Nobody can carry it out now: the site's controller is down.
    #[error("{0}")]
    Unavailable(String),
}

impl OpError {
    /// The HTTP status it is answered with.
    pub fn status(&self) -> u16 {
        match self {
            OpError::UnknownPair(_) | OpError::UnknownApp(_) | OpError::UnknownHost(_) | OpError::UnknownScript(_) => {
                404
            }
            OpError::Invalid(_) => 400,
            // A request for another site's controller conflicts with which site this one runs.
            OpError::Refused(_) | OpError::Conflict(_) | OpError::WrongSite { .. } => 409,
            OpError::Unavailable(_) => 503,
        }
    }

    /// The stable code of the JSON answer's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            OpError::UnknownPair(_) => "unknown-pair",
            OpError::UnknownApp(_) => "unknown-app",
            OpError::UnknownHost(_) => "unknown-host",
            OpError::UnknownScript(_) => "unknown-script",
            OpError::WrongSite { .. } => "wrong-site",
            OpError::Invalid(_) => "invalid",
            OpError::Refused(_) => "refused",
            OpError::Conflict(_) => "conflict",
            OpError::Unavailable(_) => "unavailable",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody::from(self)
    }
}

impl From<crate::engine::Refused> for OpError {
    fn from(r: crate::engine::Refused) -> OpError {
        OpError::Refused(r.0)
    }
}

/// An error as JSON: `{"error": "unknown-pair", "detail": "unknown pair `east-sipp`"}`.
/// `error` is [`OpError::code`] (or an HTTP-level code such as `unauthorized` from the
/// API itself); `detail` is one line for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{detail}")]
pub struct ErrorBody {
    pub error: String,
    pub detail: String,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>, detail: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: error.into(),
            detail: detail.into(),
        }
    }
}

impl From<&OpError> for ErrorBody {
    fn from(e: &OpError) -> ErrorBody {
        // One line, whatever a name or a refusal carried.
        let detail = e.to_string().replace(['\n', '\r'], " ");
        ErrorBody::new(e.code(), detail)
    }
}

impl From<OpError> for ErrorBody {
    fn from(e: OpError) -> ErrorBody {
        ErrorBody::from(&e)
    }
}
