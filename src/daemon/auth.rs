//! Bearer tokens and roles. A controller reads its tokens from one TOML file:
//!
//! ```toml
//! [[token]]
//! name = "alice"          # who: written to the journal with every action
//! role = "operator"       # viewer | operator | admin | agent
//! secret = "..."          # at least 16 characters
//!
//! [[token]]
//! name = "agent-east-sip1"
//! role = "agent"
//! host = "east-sip1"      # an agent token speaks for this host only
//! secret = "..."
//! ```
//!
//! A presented token is compared with every secret in constant time. Secrets never appear
//! in errors, logs or the journal: only the token's name does.

use std::path::Path;

use serde::Deserialize;
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads: topology, snapshot, events, plans.
    Viewer,
    /// Also switchovers, maintenance, script runs.
    Operator,
    /// Everything an operator may, and resetting anti-flap counters.
    Admin,
    /// Only the agent link.
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    /// May read the deployment's state.
    pub fn may_view(self) -> bool {
        matches!(self, Role::Viewer | Role::Operator | Role::Admin)
    }

    /// May change it (switchover, maintenance, scripts).
    pub fn may_act(self) -> bool {
        matches!(self, Role::Operator | Role::Admin)
    }
}

/// One token's identity (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub role: Role,
    /// For an agent token bound to one host.
    pub host: Option<String>,
}

struct Entry {
    secret: Vec<u8>,
    identity: Identity,
}

/// The tokens a controller accepts.
pub struct Tokens {
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    token: Vec<RawToken>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    name: String,
    role: String,
    secret: String,
    host: Option<String>,
}

/// The shortest secret accepted.
pub const MIN_SECRET: usize = 16;

impl Tokens {
    /// Reads and checks a tokens file; the error names the file, the token and the problem
    /// (never a secret).
    pub fn load(path: &Path) -> Result<Tokens, String> {
        let text = crate::input::read_text(path, 1 << 20).map_err(|e| e.to_string())?;
        Tokens::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, file: &str) -> Result<Tokens, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            // toml's message may quote the offending value (a secret): keep only its first
            // line, which names the problem.
            let msg = e.message().lines().next().unwrap_or("invalid TOML").to_string();
            format!("{file}:{line}: {}", crate::engine::config::escape(&msg))
        })?;
        let mut entries = Vec::new();
        let mut names = std::collections::HashSet::new();
        for (i, t) in raw.token.into_iter().enumerate() {
            let at = format!("{file}: token[{i}]");
            if let Some(p) = crate::engine::config::id_problem(&t.name) {
                return Err(format!("{at}.name {p}"));
            }
            if !names.insert(t.name.clone()) {
                return Err(format!("{at}.name: `{}` is used twice", t.name));
            }
            let role = match t.role.as_str() {
                "viewer" => Role::Viewer,
                "operator" => Role::Operator,
                "admin" => Role::Admin,
                "agent" => Role::Agent,
                other => {
                    return Err(format!(
                        "{at}.role: `{}` is not viewer, operator, admin or agent",
                        crate::engine::config::escape(&crate::engine::config::clip(other, 40))
                    ));
                }
            };
            if t.secret.chars().count() < MIN_SECRET {
                return Err(format!(
                    "{at}.secret: shorter than {MIN_SECRET} characters (token `{}`)",
                    t.name
                ));
            }
            if t.secret.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(format!(
                    "{at}.secret: contains white space or control characters (token `{}`)",
                    t.name
                ));
            }
            if t.host.is_some() && role != Role::Agent {
                return Err(format!("{at}.host: only an agent token names a host"));
            }
            entries.push(Entry {
                secret: t.secret.into_bytes(),
                identity: Identity {
                    name: t.name,
                    role,
                    host: t.host,
                },
            });
        }
        if entries.is_empty() {
            return Err(format!("{file}: no [[token]]: nobody could use this controller"));
        }
        Ok(Tokens { entries })
    }

    /// The identity of a presented secret, comparing with every entry in constant time.
    pub fn identify(&self, presented: &str) -> Option<Identity> {
        let p = presented.as_bytes();
        let mut found: Option<&Identity> = None;
        for e in &self.entries {
            let same: bool = if e.secret.len() == p.len() {
                e.secret.as_slice().ct_eq(p).into()
            } else {
                // Compare anyway, so the time does not say which lengths exist.
                let _ = e.secret.as_slice().ct_eq(e.secret.as_slice());
                false
            };
            if same && found.is_none() {
                found = Some(&e.identity);
            }
        }
        found.cloned()
    }

    /// The identity of an `Authorization: Bearer ...` header value.
    pub fn from_header(&self, header: Option<&str>) -> Option<Identity> {
        let value = header?.trim();
        let secret = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))?;
        self.identify(secret.trim())
    }
}

/// Reads a file holding one secret (an agent's or the console's token file).
pub fn read_secret(path: &Path) -> Result<String, String> {
    let text = crate::input::read_text(path, 4096).map_err(|e| e.to_string())?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        return Err(format!("{}: the token file is empty", path.display()));
    }
    if secret.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "{}: the token file must hold one token on one line",
            path.display()
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[[token]]
name = "alice"
role = "operator"
secret = "alice-secret-0123456789"

[[token]]
name = "watcher"
role = "viewer"
secret = "viewer-secret-0123456789"
"#;

    #[test]
    fn tokens_identify_their_holder_and_nobody_else() {
        let t = Tokens::parse(FILE, "tokens.toml").unwrap();
        let alice = t.from_header(Some("Bearer alice-secret-0123456789")).unwrap();
        assert_eq!((alice.name.as_str(), alice.role), ("alice", Role::Operator));
        assert!(t.from_header(Some("Bearer alice-secret-012345678")).is_none());
        assert!(t.from_header(Some("alice-secret-0123456789")).is_none());
        assert!(t.from_header(None).is_none());
        assert!(!t.identify("viewer-secret-0123456789").unwrap().role.may_act());
    }

    #[test]
    fn a_bad_tokens_file_is_named_without_its_secrets() {
        let short = "[[token]]\nname = \"a\"\nrole = \"viewer\"\nsecret = \"s3cr3t\"\n";
        let e = Tokens::parse(short, "t.toml").err().unwrap();
        assert!(e.starts_with("t.toml: token[0].secret: shorter than 16"), "{e}");
        assert!(!e.contains("s3cr3t"));
        let role = "[[token]]\nname = \"a\"\nrole = \"root\"\nsecret = \"0123456789abcdefgh\"\n";
        let e = Tokens::parse(role, "t.toml").err().unwrap();
        assert!(e.contains("`root` is not viewer, operator, admin or agent"), "{e}");
        assert!(!e.contains("0123456789abcdefgh"));
        let e = Tokens::parse(
            "[[token]]\nname = \"a\"\nsecret = \"hunter2hunter2hunter2\"\n",
            "t.toml",
        )
        .err()
        .unwrap();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(Tokens::parse("", "t.toml").is_err(), "no token at all");
    }
}
