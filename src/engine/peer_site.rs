//! Peer-site watch (W7, W8): a probe over the inter-site trunk every `oos-check`; no
//! answer for `oos-force` puts the link out of service and the site into single-site mode
//! (no forwarding to the peer, no forced logout), told to the site's SIP servers. The first
//! answer brings peered mode back. Nothing else depends on the peer, so a partition cannot
//! cause a split brain.

use super::timer::TimerKey;
use super::*;

/// What this controller knows of its peer site.
#[derive(Clone, Debug)]
pub struct PeerRt {
    pub peer: SiteIx,
    pub last_answer: Option<Time>,
    pub unreachable: bool,
    pub out_of_service: bool,
    pub incident: Option<Correlation>,
}

impl PeerRt {
    pub fn new(peer: SiteIx) -> PeerRt {
        PeerRt {
            peer,
            last_answer: None,
            unreachable: false,
            out_of_service: false,
            incident: None,
        }
    }

    pub fn single_site(&self) -> bool {
        self.out_of_service
    }
}

impl Engine {
    pub(crate) fn start_peer_probing(&mut self) {
        if self.peer.is_none() {
            return;
        }
        let site = self.topo.site(self.site);
        self.timers.set(TimerKey::PeerProbe, self.now);
        self.timers.set(TimerKey::PeerOos, self.now + site.oos_force);
    }

    pub(crate) fn on_peer_probe_timer(&mut self) {
        let Some(peer) = &self.peer else { return };
        let peer = peer.peer;
        self.command(Command::ProbePeer { peer });
        self.timers
            .set(TimerKey::PeerProbe, self.now + self.topo.site(self.site).oos_check);
    }

    pub(crate) fn on_peer_probe(&mut self, answered: bool) {
        let now = self.now;
        let oos_force = self.topo.site(self.site).oos_force;
        let Some(pr) = self.peer.as_mut() else { return };
        let peer_name = self.topo.site(pr.peer).id.clone();
        if !answered {
            if !pr.unreachable {
                pr.unreachable = true;
                let corr = *pr.incident.get_or_insert(Correlation {
                    site: self.site,
                    n: self.next_correlation,
                });
                if corr.n == self.next_correlation {
                    self.next_correlation += 1;
                }
                self.emit(
                    EventId::PeerUnreachable,
                    Entity::Site(self.site),
                    Entity::Site(self.peer_ix()),
                    Some(corr),
                    format!("peer site {peer_name} did not answer a probe"),
                );
            }
            return;
        }
        pr.last_answer = Some(now);
        let was_unreachable = std::mem::take(&mut pr.unreachable);
        let was_oos = std::mem::take(&mut pr.out_of_service);
        let corr = pr.incident.take();
        self.timers.set(TimerKey::PeerOos, now + oos_force);
        let (me, peer) = (self.site, self.peer_ix());
        if was_unreachable || was_oos {
            self.emit(
                EventId::PeerReachable,
                Entity::Site(me),
                Entity::Site(peer),
                corr,
                format!("peer site {peer_name} answers probes again"),
            );
        }
        if was_oos {
            self.emit(
                EventId::PeerLinkInService,
                Entity::Site(me),
                Entity::Site(peer),
                corr,
                format!("inter-site link to {peer_name} in service"),
            );
            self.emit(
                EventId::SingleSiteLeft,
                Entity::Site(me),
                Entity::Site(me),
                corr,
                format!("site {} back in peered mode with {peer_name}", self.topo.site(me).id),
            );
            self.tell_site_mode(false);
        }
    }

    fn peer_ix(&self) -> SiteIx {
        self.peer.as_ref().map_or(self.site, |p| p.peer)
    }

    pub(crate) fn on_peer_oos_timer(&mut self) {
        let oos_force = self.topo.site(self.site).oos_force;
        let next = self.next_correlation;
        let Some(pr) = self.peer.as_mut() else { return };
        if pr.out_of_service {
            return;
        }
        pr.out_of_service = true;
        let corr = *pr.incident.get_or_insert(Correlation {
            site: self.site,
            n: next,
        });
        if corr.n == next {
            self.next_correlation += 1;
        }
        let (me, peer) = (self.site, self.peer_ix());
        let peer_name = self.topo.site(peer).id.clone();
        self.emit_with(
            EventId::PeerLinkOutOfService,
            Entity::Site(me),
            Entity::Site(peer),
            Some(corr),
            format!("inter-site link to {peer_name} out of service: no probe answer for {oos_force}"),
            vec![("oos_force_ms", oos_force.as_ms().to_string())],
        );
        self.emit(
            EventId::SingleSiteEntered,
            Entity::Site(me),
            Entity::Site(me),
            Some(corr),
            format!("site {} in single-site mode: no forwarding to {peer_name}, agents log in regardless of endpoint state, no forced logout", self.topo.site(me).id),
        );
        self.tell_site_mode(true);
    }

    fn tell_site_mode(&mut self, single_site: bool) {
        let apps: Vec<AppIx> = self
            .topo
            .app_ixs()
            .filter(|a| self.topo.app(*a).kind == "sip-server" && self.owns_host(self.topo.app_host(*a)))
            .collect();
        for app in apps {
            let host = self.topo.app_host(app);
            if self.hosts[host.ix()].connected {
                self.command(Command::SiteMode { host, app, single_site });
            }
        }
    }
}
