//! Name resolution, in one place for the drill and the API: a [`Request`] by names
//! becomes the engine's [`OperatorCommand`] by indices, with the site whose controller
//! must carry it out, or an [`OpError`] saying which name is wrong.

use super::{Command, OpError, Request};
use crate::engine::{AppIx, Operator, OperatorCommand, OperatorRequest, PairIx, SiteIx, Topology};

/// A request with its names resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The site whose controller carries it out.
    pub site: SiteIx,
    pub command: OperatorCommand,
    /// A switchover that only asks for its plan: `command` is what it would run.
    pub dry_run: bool,
}

impl Resolved {
    /// The engine's request: `operator` is who asks (from the API's token, or the
    /// console's operator), never from the request's body.
    pub fn engine_request(&self, operator: Operator, req: &Request) -> OperatorRequest {
        OperatorRequest {
            operator,
            request_id: req.request_id.clone(),
            reason: req.reason.clone(),
            command: self.command.clone(),
        }
    }

    /// Refuses, with [`OpError::WrongSite`], a request that another site's controller
    /// must carry out.
    pub fn at_site(self, topo: &Topology, site: SiteIx) -> Result<Resolved, OpError> {
        if self.site == site {
            return Ok(self);
        }
        let what = match &self.command {
            OperatorCommand::Switchover { pair, .. }
            | OperatorCommand::Maintenance { pair, .. }
            | OperatorCommand::ResetAntiFlap { pair } => format!("pair {}", topo.pair(*pair).id),
            OperatorCommand::RunScript { host, .. } => format!("host {}", topo.host(*host).id),
        };
        Err(OpError::WrongSite {
            what,
            site: topo.site(self.site).id.clone(),
        })
    }
}

/// A name as an error repeats it: at most 64 characters, so a huge one stays one line.
fn clip(name: &str) -> String {
    const MAX: usize = 64;
    match name.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &name[..i]),
        None => name.to_string(),
    }
}

fn pair(topo: &Topology, name: &str) -> Result<PairIx, OpError> {
    topo.pair_ix(name).ok_or_else(|| OpError::UnknownPair(clip(name)))
}

/// A switchover's target: a pair, or a group (its leader); and the instance to promote,
/// named by the application or by its host.
pub fn resolve_switchover(topo: &Topology, target: &str, to: Option<&str>) -> Result<(PairIx, Option<AppIx>), OpError> {
    let p = match (topo.pair_ix(target), topo.group_ix(target)) {
        (Some(p), _) => p,
        (None, Some(g)) => topo.group(g).leader,
        (None, None) => return Err(OpError::UnknownPair(clip(target))),
    };
    let Some(name) = to else { return Ok((p, None)) };
    let app = topo.app_ix(name);
    let host = topo.host_ix(name);
    if app.is_none() && host.is_none() {
        return Err(OpError::UnknownApp(clip(name)));
    }
    let by_app = app.filter(|a| topo.app(*a).pair == Some(p));
    let by_host = host.and_then(|h| topo.pair(p).apps.iter().copied().find(|a| topo.app_host(*a) == h));
    match by_app.or(by_host) {
        Some(a) => Ok((p, Some(a))),
        None => Err(OpError::Invalid(format!(
            "`{}` is neither an instance nor a host of pair {}",
            clip(name),
            topo.pair(p).id
        ))),
    }
}

/// Resolves every name of `req`.
pub fn resolve(topo: &Topology, req: &Request) -> Result<Resolved, OpError> {
    let (site, command) = match &req.command {
        Command::Switchover { pair, to, force, .. } => {
            let (p, to) = resolve_switchover(topo, pair, to.as_deref())?;
            (
                topo.pair(p).site,
                OperatorCommand::Switchover {
                    pair: p,
                    to,
                    force: *force,
                },
            )
        }
        Command::Maintenance {
            pair: name,
            on,
            expires,
        } => {
            let p = pair(topo, name)?;
            (
                topo.pair(p).site,
                OperatorCommand::Maintenance {
                    pair: p,
                    on: *on,
                    expires: *expires,
                },
            )
        }
        Command::RunScript { script, host } => {
            let s = topo
                .script_ix(script)
                .ok_or_else(|| OpError::UnknownScript(clip(script)))?;
            let h = topo.host_ix(host).ok_or_else(|| OpError::UnknownHost(clip(host)))?;
            (topo.host(h).site, OperatorCommand::RunScript { script: s, host: h })
        }
        Command::ResetAntiFlap { pair: name } => {
            let p = pair(topo, name)?;
            (topo.pair(p).site, OperatorCommand::ResetAntiFlap { pair: p })
        }
    };
    Ok(Resolved {
        site,
        command,
        dry_run: req.is_dry_run(),
    })
}
