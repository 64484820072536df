//! Validation of a deployment file, table by table: every reference resolved, every range
//! and shape rule checked, every problem recorded with its line. A reference that is already
//! wrong is reported once, not again by every check that builds on it.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::raw::*;
use super::{Ctx, Limits, clip, escape, index_ids, list, lookup, nic_problem, vip_address};
use crate::engine::event::EventId;
use crate::engine::time::Span;
use crate::engine::topology::*;

mod alarms;
mod groups;

use alarms::alarms;
use groups::groups;

/// Checks the raw file table by table into a topology (complete only when `ctx` has no
/// problems).
pub(super) fn validate(ctx: &mut Ctx, raw: RawFile) -> Topology {
    let mut topo = Topology {
        controller: ControllerSettings::default(),
        sites: Vec::new(),
        hosts: Vec::new(),
        apps: Vec::new(),
        pairs: Vec::new(),
        groups: Vec::new(),
        scripts: Vec::new(),
        alarms: Vec::new(),
        populations: Vec::new(),
    };
    if let Some(c) = &raw.controller {
        let d = ControllerSettings::default();
        let c_ref = c.get_ref();
        topo.controller = ControllerSettings {
            heartbeat_interval: ctx.span_in(
                &c_ref.heartbeat_interval,
                "controller.heartbeat-interval",
                d.heartbeat_interval,
                HEARTBEAT_INTERVAL,
            ),
            heartbeat_timeout: ctx.span_in(
                &c_ref.heartbeat_timeout,
                "controller.heartbeat-timeout",
                d.heartbeat_timeout,
                HEARTBEAT_TIMEOUT,
            ),
            mode_timeout: ctx.span_in(
                &c_ref.mode_timeout,
                "controller.mode-timeout",
                d.mode_timeout,
                MODE_TIMEOUT,
            ),
            reconcile_interval: ctx.span_in(
                &c_ref.reconcile_interval,
                "controller.reconcile-interval",
                d.reconcile_interval,
                RECONCILE_INTERVAL,
            ),
        };
        if topo.controller.heartbeat_timeout < topo.controller.heartbeat_interval.times(2) {
            let span = c_ref.heartbeat_timeout.as_ref().map_or(c.span(), |s| s.span());
            ctx.err(
                span,
                "controller.heartbeat-timeout",
                format!(
                    "must be at least twice heartbeat-interval ({}): one late heartbeat must not lose an agent",
                    topo.controller.heartbeat_interval
                ),
            );
        }
    }

    let ids = Ids {
        site: index_ids(ctx, "site", raw.site.iter().map(|s| &s.id)),
        host: index_ids(ctx, "host", raw.host.iter().map(|h| &h.id)),
        app: index_ids(ctx, "app", raw.app.iter().map(|a| &a.id)),
        pair: index_ids(ctx, "pair", raw.pair.iter().map(|p| &p.id)),
        group: index_ids(ctx, "group", raw.group.iter().map(|g| &g.id)),
        script: index_ids(ctx, "script", raw.script.iter().map(|s| &s.id)),
    };
    index_ids(ctx, "alarm", raw.alarm.iter().map(|a| &a.id));
    index_ids(ctx, "endpoints", raw.endpoints.iter().map(|p| &p.id));

    if raw.site.is_empty() {
        ctx.err(0..0, "site", "at least one [[site]] is required");
    }

    sites(ctx, &raw, &ids, &mut topo);
    hosts(ctx, &raw, &ids, &mut topo);
    scripts(ctx, &raw, &ids, &mut topo);
    let app_host_known = apps(ctx, &raw, &ids, &mut topo);
    let known = pairs(ctx, &raw, &ids, &mut topo, &app_host_known);
    groups(ctx, &raw, &ids, &mut topo, &known);
    alarms(ctx, &raw, &ids, &mut topo, &known);
    endpoints(ctx, &raw, &ids, &mut topo);
    topo
}

/// The ranges of the settings the engine's guarantees depend on (see docs/config.md):
/// past them, the drill's own invariants fail on a healthy deployment. A heartbeat slower
/// than 1.5 s or a loss noticed later than 10 s leaves the VIP on a lost host, or an
/// incident's events without their correlation, for longer than an operator would accept;
/// a reconcile interval under 2 s retries a VIP move before an agent can have done it.
const HEARTBEAT_INTERVAL: Limits = Limits::new(Span(100), Span(1500));
const HEARTBEAT_TIMEOUT: Limits = Limits::new(Span(200), Span::secs(10));
const MODE_TIMEOUT: Limits = Limits::new(Span::secs(1), Span::secs(300));
const RECONCILE_INTERVAL: Limits = Limits::new(Span::secs(2), Span::secs(60));
const OOS_CHECK: Limits = Limits::new(Span(100), Span::secs(300));
const OOS_FORCE: Limits = Limits::new(Span(200), Span::secs(3600));
const RESTART_DELAY: Limits = Limits::new(Span(1), Span::secs(600));
const INIT_TIMEOUT: Limits = Limits::new(Span::secs(15), Span::secs(3600));

/// Ids of every kind, to their index.
struct Ids {
    site: HashMap<String, u32>,
    host: HashMap<String, u32>,
    app: HashMap<String, u32>,
    pair: HashMap<String, u32>,
    group: HashMap<String, u32>,
    script: HashMap<String, u32>,
}

/// Sites.
fn sites(ctx: &mut Ctx, raw: &RawFile, ids: &Ids, topo: &mut Topology) {
    for s in &raw.site {
        let id = s.id.get_ref();
        let f = |k: &str| format!("site[{id}].{k}");
        let peer = s.peer.as_ref().and_then(|p| {
            let ix = lookup(ctx, &ids.site, "site", p, f("peer"))?;
            if p.get_ref() == id {
                ctx.err(p.span(), f("peer"), "a site cannot be its own peer");
                return None;
            }
            Some(SiteIx(ix))
        });
        let oos_check = ctx.span_in(&s.oos_check, &f("oos-check"), Span::secs(5), OOS_CHECK);
        let oos_force = ctx.span_in(&s.oos_force, &f("oos-force"), Span::secs(30), OOS_FORCE);
        if oos_force <= oos_check {
            let span = s.oos_force.as_ref().map_or(s.id.span(), |x| x.span());
            ctx.err(
                span,
                f("oos-force"),
                format!("must be longer than oos-check ({oos_check})"),
            );
        }
        let controller = s.controller.as_ref().and_then(|u| match url_problem(u.get_ref()) {
            Some(problem) => {
                ctx.err(u.span(), f("controller"), problem);
                None
            }
            None => Some(u.get_ref().trim_end_matches('/').to_string()),
        });
        topo.sites.push(Site {
            id: id.clone(),
            peer,
            oos_check,
            oos_force,
            controller,
        });
    }
    for (i, s) in raw.site.iter().enumerate() {
        if let (Some(p), Some(peer)) = (&s.peer, topo.sites[i].peer)
            && topo.sites[peer.ix()].peer != Some(SiteIx(i as u32))
        {
            ctx.err(
                p.span(),
                format!("site[{}].peer", s.id.get_ref()),
                format!(
                    "site `{}` does not name `{}` as its peer: peering must be mutual",
                    p.get_ref(),
                    s.id.get_ref()
                ),
            );
        }
    }
}

/// Hosts.
fn hosts(ctx: &mut Ctx, raw: &RawFile, ids: &Ids, topo: &mut Topology) {
    for h in &raw.host {
        let id = h.id.get_ref();
        let f = |k: &str| format!("host[{id}].{k}");
        let site = lookup(ctx, &ids.site, "site", &h.site, f("site")).map_or(SiteIx(0), SiteIx);
        let nics: Vec<String> = h.nics.get_ref().iter().map(|n| n.get_ref().clone()).collect();
        if nics.is_empty() {
            ctx.err(h.nics.span(), f("nics"), "a host needs at least one NIC");
        }
        let mut seen = HashSet::new();
        for n in h.nics.get_ref() {
            if let Some(problem) = nic_problem(n.get_ref()) {
                ctx.err(n.span(), f("nics"), format!("NIC name {problem}"));
            } else if !seen.insert(n.get_ref().as_str()) {
                ctx.err(n.span(), f("nics"), format!("NIC `{}` is listed twice", n.get_ref()));
            }
        }
        let management_nic = match &h.management_nic {
            Some(m) => nics.iter().position(|n| n == m.get_ref()).unwrap_or_else(|| {
                ctx.err(
                    m.span(),
                    f("management-nic"),
                    format!("`{}` is not one of this host's nics ({})", m.get_ref(), list(&nics)),
                );
                0
            }),
            None => 0,
        };
        let mut interfaces = nics.clone();
        if let Some(map) = &h.interfaces {
            for (nic, iface) in map.get_ref() {
                match nics.iter().position(|n| n == nic) {
                    None => ctx.err(
                        map.span(),
                        f("interfaces"),
                        format!("`{}` is not one of this host's nics ({})", escape(nic), list(&nics)),
                    ),
                    Some(i) => match nic_problem(iface.get_ref()) {
                        Some(problem) => ctx.err(iface.span(), f("interfaces"), format!("interface name {problem}")),
                        None => interfaces[i] = iface.get_ref().clone(),
                    },
                }
            }
        }
        topo.hosts.push(Host {
            id: id.clone(),
            site,
            nics,
            management_nic,
            interfaces,
            apps: Vec::new(),
        });
    }
}

/// Scripts (before apps and pairs, which may name them).
fn scripts(ctx: &mut Ctx, raw: &RawFile, ids: &Ids, topo: &mut Topology) {
    for s in &raw.script {
        let id = s.id.get_ref();
        let f = |k: &str| format!("script[{id}].{k}");
        if s.command.get_ref().trim().is_empty() {
            ctx.err(s.command.span(), f("command"), "must not be empty");
        } else if !s.command.get_ref().starts_with('/') {
            ctx.err(
                s.command.span(),
                f("command"),
                "must be an absolute path (scripts never go through a shell or PATH)",
            );
        }
        ctx.text(s.command.span(), f("command"), s.command.get_ref());
        for a in &s.args {
            ctx.text(a.span(), f("args"), a.get_ref());
        }
        let timeout = ctx.span_of(&s.timeout, &f("timeout"), Span::secs(30));
        let hosts = s.hosts.as_ref().map_or_else(Vec::new, |hs| {
            let mut out = Vec::new();
            for name in hs.get_ref() {
                if let Some(h) = lookup(ctx, &ids.host, "host", name, f("hosts")) {
                    out.push(HostIx(h));
                }
            }
            out
        });
        topo.scripts.push(Script {
            id: id.clone(),
            command: s.command.get_ref().clone(),
            args: s.args.iter().map(|a| a.get_ref().clone()).collect(),
            timeout,
            hosts,
        });
    }
}

/// Applications (and which of them name a host that exists, so that a bad reference is
/// reported once, not again by every check that builds on it).
fn apps(ctx: &mut Ctx, raw: &RawFile, ids: &Ids, topo: &mut Topology) -> Vec<bool> {
    let mut app_host_known = Vec::new();
    for a in &raw.app {
        let id = a.id.get_ref();
        let f = |k: &str| format!("app[{id}].{k}");
        let host_found = lookup(ctx, &ids.host, "host", &a.host, f("host"));
        app_host_known.push(host_found.is_some());
        let host = host_found.map_or(HostIx(0), HostIx);
        if a.kind.get_ref().trim().is_empty() {
            ctx.err(a.kind.span(), f("kind"), "must not be empty");
        }
        ctx.text(a.kind.span(), f("kind"), a.kind.get_ref());
        for c in &a.start {
            ctx.text(c.span(), f("start"), c.get_ref());
        }
        for c in &a.mode_hook {
            ctx.text(c.span(), f("mode-hook"), c.get_ref());
        }
        let nics = topo.hosts.get(host.ix()).map(|h| h.nics.clone()).unwrap_or_default();
        let traffic = match (&a.traffic_timeout, &a.traffic_nic) {
            (None, None) => None,
            (Some(t), nic) => {
                let timeout = ctx.span_of(&Some(t.clone()), &f("traffic-timeout"), Span::secs(10));
                let nic = match nic {
                    Some(n) => nics.iter().position(|x| x == n.get_ref()).unwrap_or_else(|| {
                        ctx.err(
                            n.span(),
                            f("traffic-nic"),
                            format!(
                                "`{}` is not a NIC of host `{}` ({})",
                                n.get_ref(),
                                a.host.get_ref(),
                                list(&nics)
                            ),
                        );
                        0
                    }),
                    None => {
                        ctx.err(
                            t.span(),
                            f("traffic-nic"),
                            "traffic-timeout needs traffic-nic (the NIC whose traffic is watched)",
                        );
                        0
                    }
                };
                Some(Traffic { timeout, nic })
            }
            (None, Some(n)) => {
                ctx.err(
                    n.span(),
                    f("traffic-timeout"),
                    "traffic-nic is set but traffic-timeout is missing",
                );
                None
            }
        };
        let probe = a.probe.as_ref().map(|p| {
            let kind = match p.kind.get_ref().as_str() {
                "sip-options" => ProbeKind::SipOptions,
                "tcp" => ProbeKind::Tcp,
                "exec" => ProbeKind::Exec,
                other => {
                    ctx.err(
                        p.kind.span(),
                        f("probe.kind"),
                        format!("unknown probe kind `{other}` (expected sip-options, tcp or exec)"),
                    );
                    ProbeKind::Tcp
                }
            };
            let port = match &p.port {
                Some(port) => ctx.count_of(&Some(port.clone()), &f("probe.port"), 1..65536, 5060) as u16,
                None => {
                    if kind == ProbeKind::Tcp {
                        ctx.err(p.kind.span(), f("probe.port"), "a tcp probe needs a port");
                    }
                    5060
                }
            };
            let command: Vec<String> = match &p.command {
                Some(c) => {
                    for part in c.get_ref() {
                        ctx.text(part.span(), f("probe.command"), part.get_ref());
                    }
                    if kind != ProbeKind::Exec {
                        ctx.err(c.span(), f("probe.command"), "only an exec probe has a command");
                    } else if c.get_ref().is_empty() {
                        ctx.err(c.span(), f("probe.command"), "an exec probe needs a command");
                    }
                    c.get_ref().iter().map(|s| s.get_ref().clone()).collect()
                }
                None => {
                    if kind == ProbeKind::Exec {
                        ctx.err(p.kind.span(), f("probe.command"), "an exec probe needs a command");
                    }
                    Vec::new()
                }
            };
            Probe {
                kind,
                port,
                command,
                interval: ctx.span_of(&p.interval, &f("probe.interval"), Span::secs(5)),
                timeout: ctx.span_of(&p.timeout, &f("probe.timeout"), Span::secs(2)),
                failures: ctx.count_of(&p.failures, &f("probe.failures"), 1..101, 3),
            }
        });
        let backup_check = match &a.backup_check {
            None => BackupCheck {
                enabled: true,
                init_timeout: Span::secs(60),
                port_check: true,
            },
            Some(b) => {
                let init_timeout = ctx.span_in(
                    &b.init_timeout,
                    &f("backup-check.init-timeout"),
                    Span::secs(60),
                    INIT_TIMEOUT,
                );
                BackupCheck {
                    enabled: b.enabled.unwrap_or(true),
                    init_timeout,
                    port_check: b.port_check.unwrap_or(true),
                }
            }
        };
        if let Some(h) = topo.hosts.get_mut(host.ix()) {
            h.apps.push(AppIx(topo.apps.len() as u32));
        }
        topo.apps.push(App {
            id: id.clone(),
            kind: a.kind.get_ref().clone(),
            host,
            pair: None,
            start: a.start.iter().map(|c| c.get_ref().clone()).collect(),
            mode_hook: a.mode_hook.iter().map(|c| c.get_ref().clone()).collect(),
            restart_delay: ctx.span_in(&a.restart_delay, &f("restart-delay"), Span::secs(10), RESTART_DELAY),
            announces_primary: a.announces_primary.unwrap_or(true),
            traffic,
            probe,
            backup_check,
        });
    }
    app_host_known
}

/// The two hosts of each pair, when both of its apps and their hosts are known: later
/// checks build only on those, so that a bad reference is reported once.
type PairHosts = Vec<Option<[HostIx; 2]>>;

/// Pairs.
fn pairs(ctx: &mut Ctx, raw: &RawFile, ids: &Ids, topo: &mut Topology, app_host_known: &[bool]) -> PairHosts {
    let mut known = Vec::with_capacity(raw.pair.len());
    // The first pair to use each VIP address, compared as addresses.
    let mut vips: HashMap<IpAddr, usize> = HashMap::new();
    for (pi, p) in raw.pair.iter().enumerate() {
        let id = p.id.get_ref();
        let f = |k: &str| format!("pair[{id}].{k}");
        let names = p.apps.get_ref();
        let mut apps = [AppIx(0), AppIx(0)];
        let mut ok = names.len() == 2;
        let mut resolved = ok;
        if !ok {
            ctx.err(
                p.apps.span(),
                f("apps"),
                format!("a pair has exactly two apps, not {}", names.len()),
            );
        }
        if ok && names[0].get_ref() == names[1].get_ref() {
            ok = false;
            ctx.err(
                names[1].span(),
                f("apps"),
                format!("lists app `{}` twice: a pair is two different apps", names[1].get_ref()),
            );
        }
        for (i, name) in names.iter().take(2).enumerate() {
            if !ok && names.len() == 2 && i == 1 && names[0].get_ref() == name.get_ref() {
                break;
            }
            match lookup(ctx, &ids.app, "app", name, f("apps")) {
                Some(ix) if !app_host_known[ix as usize] => {
                    ok = false;
                    resolved = false;
                    apps[i] = AppIx(ix);
                }
                Some(ix) => {
                    apps[i] = AppIx(ix);
                    if let Some(other) = topo.apps[ix as usize].pair {
                        ok = false;
                        ctx.err(
                            name.span(),
                            f("apps"),
                            format!(
                                "app `{}` is already in pair `{}`",
                                name.get_ref(),
                                topo.pairs[other.ix()].id
                            ),
                        );
                    }
                }
                None => {
                    ok = false;
                    resolved = false;
                }
            }
        }
        let hosts = ok.then(|| [topo.apps[apps[0].ix()].host, topo.apps[apps[1].ix()].host]);
        known.push(resolved.then(|| [topo.apps[apps[0].ix()].host, topo.apps[apps[1].ix()].host]));
        if let Some([h0, h1]) = hosts
            && h0 == h1
        {
            ok = false;
            ctx.err(
                p.apps.span(),
                f("apps"),
                "both apps run on the same host: a pair needs two hosts",
            );
        }
        let site = hosts.map_or(SiteIx(0), |h| topo.hosts[h[0].ix()].site);
        if ok
            && let Some([_, h1]) = hosts
            && topo.hosts[h1.ix()].site != site
        {
            ok = false;
            ctx.err(
                p.apps.span(),
                f("apps"),
                "the two apps run on hosts of different sites: a pair lives in one site",
            );
        }
        if ok {
            for a in apps {
                topo.apps[a.ix()].pair = Some(PairIx(pi as u32));
            }
        }
        let vip = p.vip.as_ref().map(|v| {
            match vip_address(v.address.get_ref()) {
                Err(e) => ctx.err(v.address.span(), f("vip.address"), e),
                Ok(addr) => {
                    if let Some(first) = vips.get(&addr) {
                        let q = &raw.pair[*first];
                        let written = q.vip.as_ref().map_or("", |w| w.address.get_ref().as_str());
                        ctx.err(
                            v.address.span(),
                            f("vip.address"),
                            format!(
                                "address {addr} is already the VIP of pair `{}` (written `{written}` there)",
                                q.id.get_ref()
                            ),
                        );
                    } else {
                        vips.insert(addr, pi);
                    }
                }
            }
            if let (true, Some(hosts)) = (ok, hosts) {
                for h in hosts {
                    let host = &topo.hosts[h.ix()];
                    if host.nic(v.nic.get_ref()).is_none() {
                        ctx.err(
                            v.nic.span(),
                            f("vip.nic"),
                            format!(
                                "`{}` is not a NIC of host `{}` ({})",
                                v.nic.get_ref(),
                                host.id,
                                list(&host.nics)
                            ),
                        );
                    }
                }
            }
            let control = match v.control.as_ref().map(|c| (c, c.get_ref().as_str())) {
                None | Some((_, "builtin")) => VipControl::Builtin,
                Some((c, s)) => match s.strip_prefix("script:") {
                    Some(name) => match ids.script.get(name) {
                        Some(ix) => VipControl::Script(ScriptIx(*ix)),
                        None => {
                            ctx.err(c.span(), f("vip.control"), format!("unknown script `{name}`"));
                            VipControl::Builtin
                        }
                    },
                    None => {
                        ctx.err(
                            c.span(),
                            f("vip.control"),
                            format!("`{s}` is neither `builtin` nor `script:ID`"),
                        );
                        VipControl::Builtin
                    }
                },
            };
            Vip {
                address: v.address.get_ref().clone(),
                nic: v.nic.get_ref().clone(),
                control,
            }
        });
        let failover = match &p.failover_on {
            None => Triggers::ALL,
            Some(list) => {
                let mut t = Triggers {
                    exit: false,
                    probe: false,
                    host_lost: false,
                    service_unavailable: false,
                };
                for item in list.get_ref() {
                    match item.get_ref().as_str() {
                        "exit" => t.exit = true,
                        "probe" => t.probe = true,
                        "host-lost" => t.host_lost = true,
                        "service-unavailable" => t.service_unavailable = true,
                        other => ctx.err(
                            item.span(),
                            f("failover-on"),
                            format!("unknown trigger `{other}` (expected exit, probe, host-lost, service-unavailable)"),
                        ),
                    }
                }
                t
            }
        };
        let anti_flap = match &p.anti_flap {
            None => AntiFlap {
                window: Span::secs(600),
                max_switchovers: 3,
            },
            Some(a) => AntiFlap {
                window: ctx.span_of(&a.window, &f("anti-flap.window"), Span::secs(600)),
                max_switchovers: ctx.count_of(&a.max_switchovers, &f("anti-flap.max-switchovers"), 1..1001, 3),
            },
        };
        topo.pairs.push(Pair {
            id: id.clone(),
            apps,
            site,
            vip,
            failover,
            anti_flap,
            group: None,
        });
    }
    known
}

/// The two hosts of a whole pair.
fn pair_hosts(topo: &Topology, p: PairIx) -> [HostIx; 2] {
    topo.pairs[p.ix()].apps.map(|a| topo.apps[a.ix()].host)
}

/// Endpoint populations.
fn endpoints(ctx: &mut Ctx, raw: &RawFile, ids: &Ids, topo: &mut Topology) {
    for p in &raw.endpoints {
        let id = p.id.get_ref();
        let f = |k: &str| format!("endpoints[{id}].{k}");
        let site = lookup(ctx, &ids.site, "site", &p.site, f("site")).map_or(SiteIx(0), SiteIx);
        let primary = lookup(ctx, &ids.pair, "pair", &p.primary, f("primary")).map(PairIx);
        let backup = lookup(ctx, &ids.pair, "pair", &p.backup, f("backup")).map(PairIx);
        for (which, raw_ref, pix) in [("primary", &p.primary, primary), ("backup", &p.backup, backup)] {
            if let Some(pix) = pix
                && topo.pairs[pix.ix()].vip.is_none()
            {
                ctx.err(
                    raw_ref.span(),
                    f(which),
                    format!("pair `{}` has no VIP for endpoints to register to", raw_ref.get_ref()),
                );
            }
        }
        if primary.is_some() && primary == backup {
            ctx.err(
                p.backup.span(),
                f("backup"),
                "the backup server must differ from the primary",
            );
        }
        let transport = match p.transport.as_ref().map(|t| (t, t.get_ref().as_str())) {
            None | Some((_, "udp")) => Transport::Udp,
            Some((_, "tcp")) => Transport::Tcp,
            Some((_, "tls")) => Transport::Tls,
            Some((t, other)) => {
                ctx.err(
                    t.span(),
                    f("transport"),
                    format!("unknown transport `{other}` (expected udp, tcp or tls)"),
                );
                Transport::Udp
            }
        };
        let count = ctx.count_of(&Some(p.count.clone()), &f("count"), 1..1_000_001, 1);
        let settings = EndpointSettings {
            transport,
            ttl: ctx.span_of(&p.ttl, &f("ttl"), Span::secs(3600)),
            retry_count: ctx.count_of(&p.retry_count, &f("retry-count"), 1..21, 3),
            retry_timeout: ctx.span_of(&p.retry_timeout, &f("retry-timeout"), Span::secs(2)),
            failback: p.failback.unwrap_or(true),
            failback_interval: ctx.span_of(&p.failback_interval, &f("failback-interval"), Span::secs(1800)),
            t1: ctx.span_of(&p.t1, &f("t1"), Span::ms(500)),
            tcp_connect_timeout: ctx.span_of(&p.tcp_connect_timeout, &f("tcp-connect-timeout"), Span::secs(10)),
            dual_registration: p.dual_registration.unwrap_or(false),
            call_interval: p
                .call_interval
                .as_ref()
                .map(|c| ctx.span_of(&Some(c.clone()), &f("call-interval"), Span::secs(600))),
        };
        topo.populations.push(Population {
            id: id.clone(),
            site,
            count,
            servers: [primary.unwrap_or(PairIx(0)), backup.unwrap_or(PairIx(0))],
            settings,
        });
    }
}

/// Why `url` is not a controller base URL (`http://HOST:PORT` or `https://HOST:PORT`, no
/// path, query or credentials), if it is not.
fn url_problem(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    let Some(rest) = rest else {
        return Some(format!(
            "`{}` must start with http:// or https://",
            escape(&clip(url, 60))
        ));
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || url.len() > 256 {
        return Some(format!("`{}` needs a host and a port", escape(&clip(url, 60))));
    }
    if authority
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '?' | '#' | '@'))
    {
        return Some(format!(
            "`{}` must be only a scheme, a host and a port (no path, query or credentials)",
            escape(&clip(url, 60))
        ));
    }
    let port = authority.rsplit_once(':').map(|(_, p)| p);
    match port.map(|p| p.parse::<u16>()) {
        Some(Ok(p)) if p > 0 => None,
        _ => Some(format!("`{}` needs a port (1..=65535)", escape(&clip(url, 60)))),
    }
}
