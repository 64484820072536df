//! Solution groups: a leader among members that exist, each in one group only, running on
//! the leader's two hosts, with a VIP on the leader only.

use super::*;

/// Groups.
pub(super) fn groups(ctx: &mut Ctx, raw: &RawFile, ids: &Ids, topo: &mut Topology, known: &PairHosts) {
    for g in &raw.group {
        let id = g.id.get_ref();
        let f = |k: &str| format!("group[{id}].{k}");
        let mut members = Vec::new();
        let mut seen = HashSet::new();
        let mut all_whole = true;
        for name in g.members.get_ref() {
            let Some(ix) = lookup(ctx, &ids.pair, "pair", name, f("members")) else {
                all_whole = false;
                continue;
            };
            let pix = PairIx(ix);
            if !seen.insert(pix) {
                ctx.err(
                    name.span(),
                    f("members"),
                    format!("pair `{}` is listed twice", name.get_ref()),
                );
            } else if let Some(other) = topo.pairs[pix.ix()].group {
                ctx.err(
                    name.span(),
                    f("members"),
                    format!(
                        "pair `{}` is already in group `{}`",
                        name.get_ref(),
                        topo.groups[other.ix()].id
                    ),
                );
            } else {
                all_whole &= known[pix.ix()].is_some();
                members.push((pix, name.span()));
            }
        }
        if g.members.get_ref().len() < 2 {
            ctx.err(g.members.span(), f("members"), "a group has at least two pairs");
        }
        let Some(leader) = lookup(ctx, &ids.pair, "pair", &g.leader, f("leader")).map(PairIx) else {
            continue;
        };
        let Some(at) = members.iter().position(|m| m.0 == leader) else {
            if !g.members.get_ref().iter().any(|m| m.get_ref() == g.leader.get_ref()) {
                ctx.err(
                    g.leader.span(),
                    f("leader"),
                    format!("leader `{}` is not one of the members", g.leader.get_ref()),
                );
            }
            continue;
        };
        let lead = members.remove(at);
        members.insert(0, lead);
        let host_set = |p: PairIx| {
            known[p.ix()].map(|mut h| {
                h.sort();
                h
            })
        };
        let lead_hosts = host_set(leader);
        for (m, span) in &members[1..] {
            if let (Some(lead_hosts), Some(hosts)) = (lead_hosts, host_set(*m))
                && hosts != lead_hosts
            {
                ctx.err(
                    span.clone(),
                    f("members"),
                    format!(
                        "pair `{}` does not run on the leader's two hosts",
                        topo.pairs[m.ix()].id
                    ),
                );
            }
            if topo.pairs[m.ix()].vip.is_some() {
                ctx.err(
                    span.clone(),
                    f("members"),
                    format!(
                        "pair `{}` has a VIP: in a group only the leader has one",
                        topo.pairs[m.ix()].id
                    ),
                );
            }
        }
        if !all_whole {
            continue;
        }
        for (m, _) in &members {
            topo.pairs[m.ix()].group = Some(GroupIx(topo.groups.len() as u32));
        }
        topo.groups.push(Group {
            id: id.clone(),
            leader,
            members: members.into_iter().map(|m| m.0).collect(),
        });
    }
}
