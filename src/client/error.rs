//! Why a call to a controller did not work: [`ClientError`], one line naming the
//! controller's URL and the problem. A secret never appears in one: messages are built
//! from the URL (which may not carry credentials), the controller's JSON error and the
//! transport's reason, never from a request's headers.

use crate::engine::config::{clip, escape};

/// A call to a controller that did not work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No answer: the connection was refused, timed out, broke, or the TLS handshake failed.
    #[error("{url}: cannot reach the controller: {reason}")]
    Unreachable { url: String, reason: String },
    /// The controller answered with an error (`{"error", "detail"}` and its status).
    #[error("{url}: {detail} ({status} {error})")]
    Refused {
        url: String,
        status: u16,
        error: String,
        detail: String,
    },
    /// The answer is not what the API promises (not JSON, a missing field, a stream that
    /// is not Server-Sent Events).
    #[error("{url}: not a controller's answer: {detail}")]
    Protocol { url: String, detail: String },
    /// The client cannot be set up for this controller (a bad URL, an unreadable CA file,
    /// an `https://` URL without a CA).
    #[error("{url}: {detail}")]
    Setup { url: String, detail: String },
}

impl ClientError {
    pub fn url(&self) -> &str {
        match self {
            ClientError::Unreachable { url, .. }
            | ClientError::Refused { url, .. }
            | ClientError::Protocol { url, .. }
            | ClientError::Setup { url, .. } => url,
        }
    }

    /// The controller could not be reached (or stopped answering).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. })
    }

    /// The controller's error code (`forbidden`, `refused`, `unknown-pair`...), if it answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Refused { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn unreachable(url: &str, reason: impl AsRef<str>) -> ClientError {
        ClientError::Unreachable {
            url: url.to_string(),
            reason: one_line(reason.as_ref()),
        }
    }

    pub(crate) fn protocol(url: &str, detail: impl AsRef<str>) -> ClientError {
        ClientError::Protocol {
            url: url.to_string(),
            detail: one_line(detail.as_ref()),
        }
    }

    /// A transport error of reqwest, by its deepest cause (`Connection refused`), not
    /// reqwest's own wording, which repeats the URL.
    pub(crate) fn transport(url: &str, e: &reqwest::Error) -> ClientError {
        if e.is_timeout() {
            return ClientError::unreachable(url, "no answer in time (timed out)");
        }
        let mut cause: &dyn std::error::Error = e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        let reason = if e.is_connect() {
            format!("cannot connect: {cause}")
        } else if e.is_decode() || e.is_body() {
            format!("the answer broke off: {cause}")
        } else {
            cause.to_string()
        };
        ClientError::unreachable(url, reason)
    }
}

/// Text from elsewhere as one short, safe line.
pub(crate) fn one_line(s: &str) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    escape(&clip(&flat, 300)).into_owned()
}
