//! Endpoint populations (W9) in the drill: every endpoint runs the engine's endpoint model
//! against the simulated servers; the drill counts where they are registered and logs a
//! population's move when the server holding most of it changes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::rng::Rng;
use super::world::Proc;
use super::*;
use crate::engine::endpoint::{Endpoint, Outcome};
use crate::engine::{Mode, PairIx, Transport};

pub(crate) struct Pop {
    endpoints: Vec<Endpoint>,
    /// Registered endpoints per server, and unregistered ones.
    counts: [u32; 2],
    unregistered: u32,
    majority: Option<u8>,
}

pub(crate) struct Populations {
    pops: Vec<Pop>,
    due: BinaryHeap<Reverse<(Time, u32, u32)>>,
    rng: Rng,
}

impl Populations {
    pub fn new(topo: &Topology, seed: u64) -> Populations {
        let mut rng = Rng::new(seed ^ 0xE11D_9017);
        let mut due = BinaryHeap::new();
        let pops = topo
            .populations
            .iter()
            .enumerate()
            .map(|(pi, p)| {
                let endpoints: Vec<Endpoint> = (0..p.count)
                    .map(|i| {
                        let start = Time(rng.range(5_000, 30_000));
                        let call = p.settings.call_interval.map(|c| start + Span(rng.exp(c.as_ms())));
                        due.push(Reverse((start, pi as u32, i)));
                        Endpoint::new(start, call)
                    })
                    .collect();
                Pop {
                    endpoints,
                    counts: [0, 0],
                    unregistered: p.count,
                    majority: None,
                }
            })
            .collect();
        Populations { pops, due, rng }
    }

    pub fn next(&self) -> Option<Time> {
        self.due.peek().map(|Reverse((t, _, _))| *t)
    }

    /// The populations (of one site, if given) and where they are registered.
    pub fn views(&self, topo: &Topology, site: Option<SiteIx>) -> Vec<wire::EndpointView> {
        self.pops
            .iter()
            .zip(&topo.populations)
            .filter(|(_, cfg)| site.is_none_or(|s| cfg.site == s))
            .map(|(p, cfg)| wire::EndpointView {
                population: cfg.id.clone(),
                site: topo.site(cfg.site).id.clone(),
                total: cfg.count,
                registered: (0..2)
                    .map(|s| (topo.pair(cfg.servers[s]).id.clone(), p.counts[s]))
                    .collect(),
                unregistered: p.unregistered,
            })
            .collect()
    }
}

impl Drill {
    /// What a request from `site` to the server behind `pair`'s VIP gets right now.
    fn server_outcome(&self, site: SiteIx, pair: PairIx) -> Outcome {
        let topo = &self.topo;
        if !self.world.site_path(site, topo.pair(pair).site) {
            return Outcome::NoAnswer;
        }
        let Some(h) = self.world.traffic_host(topo, pair) else {
            return Outcome::NoAnswer;
        };
        let Some(app) = topo.pair(pair).apps.iter().copied().find(|a| topo.app_host(*a) == h) else {
            return Outcome::NoAnswer;
        };
        let a = &self.world.apps[app.ix()];
        match a.proc {
            Proc::Hung => Outcome::NoAnswer,
            Proc::Running
                if a.mode == Mode::Primary
                    && !self.world.agent_view(topo, app).is_some_and(|v| v.reported_unavailable) =>
            {
                Outcome::Ok
            }
            _ => Outcome::Unavailable,
        }
    }

    pub(crate) fn step_endpoints(&mut self) {
        let now = self.now;
        while let Some(Reverse((t, pi, ei))) = self.populations.due.peek().copied() {
            if t > now {
                break;
            }
            self.populations.due.pop();
            let cfg = self.topo.populations[pi as usize].clone();
            let mut outcomes = [
                self.server_outcome(cfg.site, cfg.servers[0]),
                self.server_outcome(cfg.site, cfg.servers[1]),
            ];
            if cfg.settings.transport == Transport::Udp && self.loss > 0.0 {
                for o in outcomes.iter_mut() {
                    if self.populations.rng.chance(self.loss) {
                        *o = Outcome::NoAnswer;
                    }
                }
            }
            let gap = cfg
                .settings
                .call_interval
                .map(|c| Span(self.populations.rng.exp(c.as_ms()).max(1000)));
            let pop = &mut self.populations.pops[pi as usize];
            let e = &mut pop.endpoints[ei as usize];
            if let Some((before, after)) = e.step(&cfg.settings, |s| outcomes[s as usize], gap) {
                match before {
                    Some(s) => pop.counts[s as usize] -= 1,
                    None => pop.unregistered -= 1,
                }
                match after {
                    Some(s) => pop.counts[s as usize] += 1,
                    None => pop.unregistered += 1,
                }
            }
            let next = e.next.max(now + Span(1));
            self.populations.due.push(Reverse((next, pi, ei)));
            self.check_majority(pi as usize);
        }
    }

    fn check_majority(&mut self, pi: usize) {
        let cfg = &self.topo.populations[pi];
        let pop = &self.populations.pops[pi];
        let half = cfg.count / 2;
        let majority = (0..2u8).find(|s| pop.counts[*s as usize] > half);
        if majority.is_none() || majority == pop.majority {
            return;
        }
        let before = pop.majority;
        self.populations.pops[pi].majority = majority;
        let Some(m) = majority else { return };
        if before.is_none() && m == 0 {
            return; // the initial registration on the primary is not a move
        }
        let server = cfg.servers[m as usize];
        let count = self.populations.pops[pi].counts[m as usize];
        let from = before.map_or("nowhere".to_string(), |b| {
            self.topo.pair(cfg.servers[b as usize]).id.clone()
        });
        self.drill_event(
            cfg.site,
            EventId::EndpointsMoved,
            Entity::Pair(server),
            format!(
                "{count} of {} endpoints of {} now registered to {} (was {from})",
                cfg.count,
                cfg.id,
                self.topo.pair(server).id
            ),
            vec![
                ("population", cfg.id.clone()),
                ("server", self.topo.pair(server).id.clone()),
                ("count", count.to_string()),
            ],
        );
    }
}
