//! Alarm conditions: a known event id, a source filter that resolves, and reactions that
//! can run (a script only on hosts its allow-list names).

use super::*;

/// Alarm conditions.
pub(super) fn alarms(ctx: &mut Ctx, raw: &RawFile, ids: &Ids, topo: &mut Topology, known: &PairHosts) {
    for a in &raw.alarm {
        let id = a.id.get_ref();
        let f = |k: &str| format!("alarm[{id}].{k}");
        let event = EventId::parse(a.event.get_ref()).unwrap_or_else(|| {
            ctx.err(
                a.event.span(),
                f("event"),
                format!(
                    "`{}` is not an event id of the catalog (docs/events.md)",
                    a.event.get_ref()
                ),
            );
            EventId::ModePrimary
        });
        let clear = a.clear_event.as_ref().and_then(|c| {
            let id = EventId::parse(c.get_ref());
            if id.is_none() {
                ctx.err(
                    c.span(),
                    f("clear-event"),
                    format!("`{}` is not an event id of the catalog", c.get_ref()),
                );
            }
            id
        });
        let filters = [&a.site, &a.host, &a.app, &a.pair, &a.group];
        let set: Vec<_> = filters.iter().filter_map(|x| x.as_ref()).collect();
        if set.len() > 1 {
            ctx.err(
                set[1].span(),
                f("source"),
                "name at most one of site, host, app, pair, group",
            );
        }
        let filter = if let Some(s) = &a.site {
            lookup(ctx, &ids.site, "site", s, f("site")).map_or(SourceFilter::Any, |i| SourceFilter::Site(SiteIx(i)))
        } else if let Some(s) = &a.host {
            lookup(ctx, &ids.host, "host", s, f("host")).map_or(SourceFilter::Any, |i| SourceFilter::Host(HostIx(i)))
        } else if let Some(s) = &a.app {
            lookup(ctx, &ids.app, "app", s, f("app")).map_or(SourceFilter::Any, |i| SourceFilter::App(AppIx(i)))
        } else if let Some(s) = &a.pair {
            lookup(ctx, &ids.pair, "pair", s, f("pair")).map_or(SourceFilter::Any, |i| SourceFilter::Pair(PairIx(i)))
        } else if let Some(s) = &a.group {
            lookup(ctx, &ids.group, "group", s, f("group"))
                .map_or(SourceFilter::Any, |i| SourceFilter::Group(GroupIx(i)))
        } else {
            SourceFilter::Any
        };
        let mut reactions = Vec::new();
        if a.reactions.get_ref().is_empty() {
            ctx.err(
                a.reactions.span(),
                f("reactions"),
                "an alarm condition needs at least one reaction",
            );
        }
        for (ri, r) in a.reactions.get_ref().iter().enumerate() {
            let rf = |k: &str| format!("alarm[{id}].reactions[{ri}].{k}");
            let kinds = [
                r.run_script.is_some(),
                r.switchover.is_some(),
                r.set_mode.is_some(),
                r.notify.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                ctx.err(
                    a.reactions.span(),
                    format!("alarm[{id}].reactions[{ri}]"),
                    "give exactly one of run-script, switchover, set-mode, notify",
                );
                continue;
            }
            if let Some(s) = &r.run_script {
                let Some(script) = lookup(ctx, &ids.script, "script", s, rf("run-script")) else {
                    continue;
                };
                let target = match r.on.as_ref().map(|o| (o, o.get_ref().as_str())) {
                    None | Some((_, "event-host")) => ScriptTarget::EventHost,
                    Some((_, "primary-host")) => ScriptTarget::PrimaryHost,
                    Some((o, name)) => match ids.host.get(name) {
                        Some(h) => ScriptTarget::Host(HostIx(*h)),
                        None => {
                            ctx.err(
                                o.span(),
                                rf("on"),
                                format!("`{name}` is neither event-host, primary-host nor a host id"),
                            );
                            ScriptTarget::EventHost
                        }
                    },
                };
                // Every host the reaction may run the script on must be on its allow-list.
                let on_hosts: Vec<HostIx> = match (target, filter) {
                    (ScriptTarget::Host(h), _) => vec![h],
                    (ScriptTarget::EventHost, SourceFilter::Host(h)) => vec![h],
                    (ScriptTarget::EventHost | ScriptTarget::PrimaryHost, SourceFilter::App(a)) => {
                        match topo.apps[a.ix()].pair {
                            Some(p) if target == ScriptTarget::PrimaryHost => pair_hosts(topo, p).to_vec(),
                            Some(_) => vec![topo.apps[a.ix()].host],
                            None => Vec::new(),
                        }
                    }
                    (ScriptTarget::EventHost | ScriptTarget::PrimaryHost, SourceFilter::Pair(p)) => {
                        known[p.ix()].map_or_else(Vec::new, |h| h.to_vec())
                    }
                    _ => Vec::new(),
                };
                let allowed = &topo.scripts[script as usize].hosts;
                if !allowed.is_empty()
                    && let Some(h) = on_hosts.iter().find(|h| !allowed.contains(h))
                {
                    ctx.err(
                        r.on.as_ref().map_or(s.span(), |o| o.span()),
                        rf("on"),
                        format!(
                            "script `{}` may run on host `{}`, which is not in its hosts allow-list",
                            s.get_ref(),
                            topo.hosts[h.ix()].id
                        ),
                    );
                }
                reactions.push(Reaction::RunScript {
                    script: ScriptIx(script),
                    target,
                });
            } else if let Some(s) = &r.switchover {
                if let Some(p) = lookup(ctx, &ids.pair, "pair", s, rf("switchover")) {
                    reactions.push(Reaction::Switchover(PairIx(p)));
                }
            } else if let Some(a) = &r.set_mode {
                let Some(app) = lookup(ctx, &ids.app, "app", a, rf("set-mode")) else {
                    continue;
                };
                let primary = match r.mode.as_ref().map(|m| (m, m.get_ref().as_str())) {
                    Some((_, "primary")) => true,
                    Some((_, "backup")) => false,
                    Some((m, other)) => {
                        ctx.err(m.span(), rf("mode"), format!("`{other}` is neither primary nor backup"));
                        continue;
                    }
                    None => {
                        ctx.err(a.span(), rf("mode"), "set-mode needs mode = \"primary\" or \"backup\"");
                        continue;
                    }
                };
                reactions.push(Reaction::SetMode {
                    app: AppIx(app),
                    primary,
                });
            } else if let Some(n) = &r.notify {
                ctx.text(n.span(), rf("notify"), n.get_ref());
                reactions.push(Reaction::Notify(n.get_ref().clone()));
            }
        }
        topo.alarms.push(Alarm {
            id: id.clone(),
            event,
            filter,
            reactions,
            clear,
        });
    }
}
