//! What the live commands (`status`, `switchover`, `maintenance`, `events`, `run`) share:
//! their exit codes, connecting to every controller named and routing a request to the
//! controller of the site that carries it out, the confirmation prompt, finding a cursor
//! in a controller's journal, and printing an event as one line.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use futures_util::future::join_all;

use super::UsageError;
use crate::client::{Client, ClientError, ConnectArgs, Target};
use crate::engine::config::{clip, escape};
use crate::wire::{EventRecord, TopologyView};

/// Exit codes of the live commands (docs/cli.md).
pub mod exit {
    /// Done: every pair OK, the switchover completed, the checks pass.
    pub const OK: u8 = 0;
    /// Not done: a pair is not OK, the switchover failed, the operator said no.
    pub const FAILED: u8 = 1;
    /// A controller could not be reached (or answered nonsense), or a usage mistake.
    pub const UNREACHABLE: u8 = 2;
    /// The action was accepted but its end was not seen in time; it may still complete.
    pub const TIMED_OUT: u8 = 3;
    /// Refused: by the pre-flight checks, the token's role, or the controller.
    pub const REFUSED: u8 = 4;
    /// `run`: the script ran past its timeout and was killed.
    pub const SCRIPT_TIMED_OUT: u8 = 124;
    /// `run`: the script ended without an exit code (a signal).
    pub const SCRIPT_KILLED: u8 = 125;
    /// Interrupted (Ctrl-C) while waiting for the end of an action.
    pub const INTERRUPTED: u8 = 130;
}

/// The exit code of a failed call.
pub fn code_of(e: &ClientError) -> u8 {
    match e {
        ClientError::Refused { status: 503, .. } => exit::UNREACHABLE,
        ClientError::Refused { .. } => exit::REFUSED,
        _ => exit::UNREACHABLE,
    }
}

/// Prints `hactl: LINE` on standard error and returns `code`.
pub fn fail(line: &str, code: u8) -> color_eyre::Result<ExitCode> {
    super::emit_err(&format!("hactl: {}\n", escape(line)), ExitCode::from(code))
}

/// Prints a failed call and returns its exit code.
pub fn fail_call(e: &ClientError) -> color_eyre::Result<ExitCode> {
    fail(&e.to_string(), code_of(e))
}

/// A note on standard error (progress, a lost connection), not a failure.
pub fn note(line: &str) {
    let _ = super::emit_err(&format!("hactl: {}\n", escape(line)), ExitCode::SUCCESS);
}

/// The runtime of one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, UsageError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the I/O runtime: {e}")))
}

/// Ctrl-C (SIGINT), caught from now on: a signal that comes while nobody waits for it is
/// kept for the next wait.
pub fn interrupts() -> Result<tokio::signal::unix::Signal, UsageError> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| UsageError(format!("cannot catch Ctrl-C: {e}")))
}

/// The clients of every controller the flags, environment or context name.
pub fn clients(args: &ConnectArgs) -> Result<(Target, Vec<Client>), UsageError> {
    let target = args.resolve().map_err(UsageError)?;
    let clients = target
        .endpoints
        .iter()
        .map(Client::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| UsageError(e.to_string()))?;
    Ok((target, clients))
}

/// Connects to every controller named and returns the one `pick` routes the action to;
/// when there is none, reports why and returns the exit code instead.
pub fn route(
    rt: &tokio::runtime::Runtime,
    args: &ConnectArgs,
    pick: impl FnOnce(&Deployment) -> Result<&Client, RouteError>,
) -> color_eyre::Result<Result<Client, ExitCode>> {
    let (_, clients) = clients(args)?;
    let dep = rt.block_on(Deployment::connect(clients));
    Ok(match pick(&dep) {
        Ok(c) => Ok(c.clone()),
        Err(e) => Err(e.report()?),
    })
}

/// Every controller named, with the deployment as the first one that answered sees it
/// and which site each runs.
pub struct Deployment {
    pub clients: Vec<Client>,
    /// Per client: the site it runs, or why it could not say.
    pub sites: Vec<Result<String, ClientError>>,
    pub topology: Option<TopologyView>,
}

impl Deployment {
    /// Asks every controller for its topology, at once.
    pub async fn connect(clients: Vec<Client>) -> Deployment {
        let answers = join_all(clients.iter().map(|c| c.topology())).await;
        let topology = answers.iter().find_map(|a| a.as_ref().ok()).cloned();
        let sites = answers.into_iter().map(|a| a.map(|t| t.site)).collect();
        Deployment {
            clients,
            sites,
            topology,
        }
    }

    /// The client of the controller that runs `site`. When none of those named does:
    /// its error when it could not be reached, else a message naming its URL.
    pub fn for_site(&self, site: &str, what: &str) -> Result<&Client, RouteError> {
        if let Some(i) = self.sites.iter().position(|s| s.as_deref().ok() == Some(site)) {
            return Ok(&self.clients[i]);
        }
        let url = self
            .topology
            .as_ref()
            .and_then(|t| t.sites.iter().find(|s| s.id == site))
            .and_then(|s| s.controller.clone());
        if let Some(u) = &url
            && let Some(i) = self.clients.iter().position(|c| c.url() == u.trim_end_matches('/'))
            && let Err(e) = &self.sites[i]
        {
            return Err(RouteError::Call(e.clone()));
        }
        Err(RouteError::Usage(format!(
            "{what} is carried out by the controller of site {site}, which is not among the controllers named{}",
            match url {
                Some(u) => format!(": add --controller {}", escape(&u)),
                None => " (add its --controller URL)".into(),
            }
        )))
    }

    /// The client for an action on `pair` (or a group): its site's controller; the first
    /// that answered when no controller knows the name (it then answers `unknown-pair`).
    pub fn for_pair(&self, pair: &str) -> Result<&Client, RouteError> {
        let topo = self.topology.as_ref().ok_or_else(|| self.unreachable())?;
        match topo.site_of_pair(pair) {
            Some(site) => self.for_site(site, &format!("pair {}", escape(&clip(pair, 60)))),
            None => self.first_up(),
        }
    }

    /// The client for an action on a host: its site's controller.
    pub fn for_host(&self, host: &str) -> Result<&Client, RouteError> {
        let topo = self.topology.as_ref().ok_or_else(|| self.unreachable())?;
        match topo.site_of_host(host) {
            Some(site) => self.for_site(site, &format!("host {}", escape(&clip(host, 60)))),
            None => self.first_up(),
        }
    }

    fn first_up(&self) -> Result<&Client, RouteError> {
        self.sites
            .iter()
            .position(Result::is_ok)
            .map(|i| &self.clients[i])
            .ok_or_else(|| self.unreachable())
    }

    /// Why no controller could be asked: the first one's error.
    fn unreachable(&self) -> RouteError {
        match self.sites.iter().find_map(|s| s.as_ref().err()) {
            Some(e) => RouteError::Call(e.clone()),
            None => RouteError::Usage("no controller named".into()),
        }
    }
}

/// Why an action has no controller to go to.
pub enum RouteError {
    Call(ClientError),
    Usage(String),
}

impl RouteError {
    pub fn report(&self) -> color_eyre::Result<ExitCode> {
        match self {
            RouteError::Call(e) => fail_call(e),
            RouteError::Usage(m) => fail(m, exit::UNREACHABLE),
        }
    }
}

/// Asks the operator on the terminal before an action: `y` (or, when `must_type` is given,
/// that exact text) goes on. With `yes`, goes on without asking; without a terminal and
/// without `yes`, refuses (`what` says what `--yes` would do).
pub fn confirm(question: &str, must_type: Option<&str>, yes: bool, what: &str) -> Result<bool, UsageError> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(format!(
            "standard input is not a terminal, so nobody can confirm: add --yes to {what} without confirming"
        )));
    }
    let prompt = match must_type {
        Some(word) => format!("{question}\nType `{}` to go on: ", escape(word)),
        None => format!("{question} [y/N] "),
    };
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(prompt.as_bytes()).and_then(|()| err.flush());
    drop(err);
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return Ok(false);
    }
    Ok(accepts(&answer, must_type))
}

/// Whether an answer to [`confirm`]'s prompt goes on.
pub fn accepts(answer: &str, must_type: Option<&str>) -> bool {
    let a = answer.trim();
    match must_type {
        Some(word) => a == word,
        None => a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes"),
    }
}

/// The `seq` of the last event of a controller's journal (0 when empty), found by
/// bisection with one-event pages: about twice log2(events) small requests.
pub async fn tail(c: &Client) -> Result<u64, ClientError> {
    let first_after = |x: u64| async move { Ok::<_, ClientError>(c.events(Some(x), 1).await?.events.first().cloned()) };
    let Some(first) = first_after(0).await? else {
        return Ok(0);
    };
    // `lo` has an event after it; find a `hi` that has none.
    let mut lo = first.seq;
    let mut step = 1u64;
    let mut hi = loop {
        let probe = lo.saturating_add(step);
        match first_after(probe).await? {
            Some(e) => {
                lo = e.seq;
                step = step.saturating_mul(2);
            }
            None => break probe,
        }
    };
    // Now the last seq is in [lo, hi].
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match first_after(mid).await? {
            Some(e) => lo = e.seq,
            None => hi = mid,
        }
    }
    Ok(lo)
}

/// The cursor before the first event logged at or after `t_ms` (by bisection; the journal
/// is in time order).
pub async fn cursor_at(c: &Client, t_ms: u64) -> Result<u64, ClientError> {
    let (mut lo, mut hi) = (0u64, tail(c).await?);
    // Invariant: every event up to `lo` is older than t_ms; the first after `hi` is not.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match c.events(Some(mid), 1).await?.events.first() {
            Some(e) if e.t_ms < t_ms => lo = e.seq,
            _ => hi = mid,
        }
    }
    Ok(lo)
}

/// `--timeout`: how long to wait for an action's end, 1s to 24h.
pub fn parse_wait(s: &str) -> Result<std::time::Duration, String> {
    match crate::engine::time::parse_span(s) {
        Ok(span) if (1000..=86_400_000).contains(&span.as_ms()) => Ok(std::time::Duration::from_millis(span.as_ms())),
        _ => Err("a time from 1s to 24h (e.g. 90s, 5m)".into()),
    }
}

/// `--reason`: at most [`crate::wire::MAX_REASON`] characters, no control character.
pub fn check_reason(reason: Option<&str>) -> Result<(), UsageError> {
    let Some(r) = reason else { return Ok(()) };
    if r.chars().count() > crate::wire::MAX_REASON {
        return Err(UsageError(format!(
            "--reason: longer than {} characters",
            crate::wire::MAX_REASON
        )));
    }
    if r.chars().any(char::is_control) {
        return Err(UsageError(
            "--reason: holds a control character (one line of text)".into(),
        ));
    }
    Ok(())
}

/// Now, in wall-clock milliseconds (the journal's times).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// An event as one line: time, site and seq, severity, id, subject, message, correlation.
pub fn event_line(e: &EventRecord) -> String {
    let corr = e.correlation.as_deref().map(|c| format!("  [{c}]")).unwrap_or_default();
    escape(&format!(
        "{}  {}:{}  {:<8}  {:<8}  {}  {}{corr}",
        crate::console::state::rfc3339(e.t_ms),
        e.site,
        e.seq,
        e.severity.as_str(),
        e.id.code(),
        e.subject,
        e.message,
    ))
    .into_owned()
}

/// An event as one JSON line (the `EventRecord`, whose `site` and `seq` are its cursor).
pub fn event_json(e: &EventRecord) -> String {
    super::json_safe(&serde_json::to_string(e).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_clear_yes_or_the_exact_name_goes_on() {
        for yes in ["y\n", "Y", " yes \n", "YES"] {
            assert!(accepts(yes, None), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yy", "sure"] {
            assert!(!accepts(no, None), "{no:?}");
        }
        assert!(accepts("east-sip\n", Some("east-sip")));
        assert!(!accepts("y", Some("east-sip")));
        assert!(!accepts("east-si", Some("east-sip")));
    }
}
