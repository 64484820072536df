//! The rows of the Pairs and Hosts views as the operator asked for them: narrowed by the
//! `/` filter (case-insensitive, on the words the row shows), in the order `o` picked,
//! and the `:` jump to a name. The rows are rebuilt when the data, the filter or the
//! order change; the cursor stays on the same pair, group or host while it is shown.
//! Filtering never changes what the summary lines count: they read every pair and host.

use super::health::{self, Sev};
use super::{PairRow, State};
use crate::engine::AppStatus;
use crate::wire::{AgentState, HostView, NicState, PairView};

/// The order of the rows of the Pairs or Hosts view (`o` cycles it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// As configured: pairs with their group, hosts as listed.
    #[default]
    Config,
    Name,
    /// Worst first.
    Severity,
    Site,
    /// Most recent first, then the pairs never switched over (Pairs only).
    LastSwitchover,
}

impl Order {
    pub fn word(self) -> &'static str {
        match self {
            Order::Config => "as configured",
            Order::Name => "name",
            Order::Severity => "severity, worst first",
            Order::Site => "site",
            Order::LastSwitchover => "last switchover, newest first",
        }
    }

    /// The next order: the Hosts view has no switchovers to sort by.
    pub fn next(self, pairs: bool) -> Order {
        match self {
            Order::Config => Order::Name,
            Order::Name => Order::Severity,
            Order::Severity => Order::Site,
            Order::Site if pairs => Order::LastSwitchover,
            Order::Site | Order::LastSwitchover => Order::Config,
        }
    }
}

/// The `/` filter and the order of one list view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListView {
    pub filter: String,
    pub order: Order,
}

impl ListView {
    /// Whether the rows differ from the plain list (the view then says how).
    pub fn narrowed_or_sorted(&self) -> bool {
        !self.filter.is_empty() || self.order != Order::Config
    }
}

/// The prompt open in the Pairs or Hosts view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// `/`: typing narrows the rows (the text is the view's filter).
    Filter,
    /// `:`: typing moves the cursor to the first name starting with the text; Esc puts
    /// it back where it was.
    Jump { text: String, from: usize },
}

/// The words the `/` filter searches in a pair: its name, site, instances, group and
/// what its redundancy column says.
fn pair_matches(p: &PairView, known: health::Known, f: &str) -> bool {
    if f.is_empty() {
        return true;
    }
    let facts = health::pair_facts(p, known);
    [
        p.id.as_str(),
        p.site.as_str(),
        p.primary.app.as_str(),
        p.primary.host.as_str(),
        p.backup.app.as_str(),
        p.backup.host.as_str(),
        crate::wire::redundancy_label(p.redundancy),
        p.group.as_deref().unwrap_or_default(),
        &health::label(&facts),
        if p.maintenance { "maintenance" } else { "" },
    ]
    .iter()
    .any(|w| w.to_lowercase().contains(f))
}

/// The words the `/` filter searches in a host: its name, site and agent state.
fn host_matches(h: &HostView, f: &str) -> bool {
    f.is_empty()
        || [h.id.as_str(), h.site.as_str(), h.agent.as_str()]
            .iter()
            .any(|w| w.to_lowercase().contains(f))
}

/// How bad a host is: its agent, NICs and applications (what the Hosts view marks).
pub fn host_sev(h: &HostView) -> Sev {
    match h.agent {
        AgentState::Connected => {}
        AgentState::Lost => return Sev::Alarm,
        AgentState::Unknown => return Sev::Unknown,
    }
    let nics = h.nics.iter().map(|n| match n.state {
        NicState::Up => Sev::Ok,
        NicState::Down => Sev::Alarm,
        NicState::Unknown => Sev::Unknown,
    });
    let apps = h.apps.iter().map(|a| match a.status {
        AppStatus::Up => Sev::Ok,
        AppStatus::Unknown => Sev::Unknown,
        AppStatus::Unavailable | AppStatus::Down | AppStatus::Starting => Sev::Alarm,
    });
    nics.chain(apps).max().unwrap_or(Sev::Ok)
}

/// What the cursor is on, to find it again after a rebuild.
#[derive(PartialEq)]
enum Cursor {
    Group(String),
    Pair(String),
}

impl State {
    /// The rows of both list views again, from the data, filters and orders.
    pub(super) fn rebuild_lists(&mut self) {
        self.rebuild_rows();
        self.rebuild_host_rows();
    }

    fn cursor(&self) -> Option<Cursor> {
        match self.rows.get(self.pair_sel)? {
            PairRow::Group(g) => Some(Cursor::Group(self.snapshot.groups.get(*g)?.id.clone())),
            PairRow::Pair(p, _) => Some(Cursor::Pair(self.snapshot.pairs.get(*p)?.id.clone())),
        }
    }

    pub(super) fn rebuild_rows(&mut self) {
        let keep = self.cursor();
        let s = &self.snapshot;
        let f = self.pair_list.filter.to_lowercase();
        let matches = |i: usize| pair_matches(&s.pairs[i], self.fresh.of(&s.pairs[i]), &f);
        let mut rows = Vec::with_capacity(s.pairs.len() + s.groups.len());
        if self.pair_list.order == Order::Config {
            let mut seen_group = vec![false; s.groups.len()];
            for (i, p) in s.pairs.iter().enumerate() {
                match p.group.as_ref().and_then(|g| s.groups.iter().position(|x| &x.id == g)) {
                    None if matches(i) => rows.push(PairRow::Pair(i, false)),
                    None => {}
                    Some(g) if !seen_group[g] => {
                        seen_group[g] = true;
                        // A group shows when its name matches (all its members) or with
                        // the members that match.
                        let whole = !f.is_empty() && s.groups[g].id.to_lowercase().contains(&f);
                        let members: Vec<usize> = s.groups[g]
                            .members
                            .iter()
                            .filter_map(|m| s.pairs.iter().position(|x| &x.id == m))
                            .filter(|pi| whole || matches(*pi))
                            .collect();
                        if whole || !members.is_empty() {
                            rows.push(PairRow::Group(g));
                            rows.extend(members.into_iter().map(|pi| PairRow::Pair(pi, true)));
                        }
                    }
                    Some(_) => {}
                }
            }
        } else {
            let mut idx: Vec<usize> = (0..s.pairs.len()).filter(|i| matches(*i)).collect();
            let sev = |i: usize| {
                let p = &s.pairs[i];
                health::worst(&self.pair_facts(p))
            };
            match self.pair_list.order {
                Order::Name => idx.sort_by(|a, b| s.pairs[*a].id.cmp(&s.pairs[*b].id)),
                Order::Severity => idx.sort_by_key(|i| std::cmp::Reverse(sev(*i))),
                Order::Site => idx.sort_by(|a, b| s.pairs[*a].site.cmp(&s.pairs[*b].site)),
                Order::LastSwitchover => {
                    idx.sort_by_key(|i| std::cmp::Reverse(self.last_switchover.get(&s.pairs[*i].id).copied()))
                }
                Order::Config => {}
            }
            rows.extend(idx.into_iter().map(|i| PairRow::Pair(i, false)));
        }
        self.rows = rows;
        let found = keep.and_then(|k| {
            self.rows.iter().position(|r| match (r, &k) {
                (PairRow::Group(g), Cursor::Group(id)) => self.snapshot.groups.get(*g).is_some_and(|x| &x.id == id),
                (PairRow::Pair(p, _), Cursor::Pair(id)) => self.snapshot.pairs.get(*p).is_some_and(|x| &x.id == id),
                _ => false,
            })
        });
        self.pair_sel = found.unwrap_or(self.pair_sel).min(self.rows.len().saturating_sub(1));
    }

    fn rebuild_host_rows(&mut self) {
        let keep = self.selected_host().map(|h| h.id.clone());
        let hosts = &self.snapshot.hosts;
        let f = self.host_list.filter.to_lowercase();
        let mut idx: Vec<usize> = (0..hosts.len()).filter(|i| host_matches(&hosts[*i], &f)).collect();
        match self.host_list.order {
            Order::Name => idx.sort_by(|a, b| hosts[*a].id.cmp(&hosts[*b].id)),
            Order::Severity => idx.sort_by_key(|i| std::cmp::Reverse(host_sev(&hosts[*i]))),
            Order::Site => idx.sort_by(|a, b| hosts[*a].site.cmp(&hosts[*b].site)),
            Order::Config | Order::LastSwitchover => {}
        }
        let found = keep.and_then(|k| idx.iter().position(|i| hosts[*i].id == k));
        self.host_rows = idx;
        self.host_sel = found
            .unwrap_or(self.host_sel)
            .min(self.host_rows.len().saturating_sub(1));
    }

    /// The host under the cursor of the Hosts view.
    pub fn selected_host(&self) -> Option<&HostView> {
        self.snapshot.hosts.get(*self.host_rows.get(self.host_sel)?)
    }

    /// The pairs shown by the Pairs view (each once) and how many of the hidden ones are
    /// not healthy.
    pub fn pairs_shown(&self) -> (usize, usize) {
        let mut shown = vec![false; self.snapshot.pairs.len()];
        for r in &self.rows {
            if let PairRow::Pair(p, _) = r
                && let Some(s) = shown.get_mut(*p)
            {
                *s = true;
            }
        }
        let hidden_bad = self
            .snapshot
            .pairs
            .iter()
            .zip(&shown)
            .filter(|(p, s)| !**s && health::worst(&self.pair_facts(p)) > Sev::Ok)
            .count();
        (shown.iter().filter(|s| **s).count(), hidden_bad)
    }

    /// The hosts shown by the Hosts view and how many of the hidden ones are not healthy.
    pub fn hosts_shown(&self) -> (usize, usize) {
        let hidden_bad = self
            .snapshot
            .hosts
            .iter()
            .enumerate()
            .filter(|(i, h)| !self.host_rows.contains(i) && host_sev(h) > Sev::Ok)
            .count();
        (self.host_rows.len(), hidden_bad)
    }

    /// The list view the `/`, `o` and `:` keys act on, if the current view is one.
    pub fn list_mut(&mut self) -> Option<&mut ListView> {
        match self.view {
            super::PAIRS => Some(&mut self.pair_list),
            super::HOSTS => Some(&mut self.host_list),
            _ => None,
        }
    }

    /// The names of the rows of the current list view, in order.
    fn row_names(&self) -> Vec<String> {
        match self.view {
            super::PAIRS => self
                .rows
                .iter()
                .map(|r| match r {
                    PairRow::Group(g) => self.snapshot.groups.get(*g).map(|g| g.id.clone()),
                    PairRow::Pair(p, _) => self.snapshot.pairs.get(*p).map(|p| p.id.clone()),
                })
                .map(Option::unwrap_or_default)
                .collect(),
            super::HOSTS => self
                .host_rows
                .iter()
                .map(|i| self.snapshot.hosts.get(*i).map(|h| h.id.clone()).unwrap_or_default())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Moves the cursor to the first row whose name starts with `text` (case-insensitive).
    /// Returns whether there is one.
    pub fn jump_to(&mut self, text: &str) -> bool {
        let t = text.to_lowercase();
        let Some(i) = self.row_names().iter().position(|n| n.to_lowercase().starts_with(&t)) else {
            return false;
        };
        match self.view {
            super::PAIRS => self.pair_sel = i,
            super::HOSTS => self.host_sel = i,
            _ => return false,
        }
        true
    }

    /// The cursor of the current list view.
    pub fn list_sel(&self) -> usize {
        if self.view == super::HOSTS {
            self.host_sel
        } else {
            self.pair_sel
        }
    }

    pub fn set_list_sel(&mut self, sel: usize) {
        match self.view {
            super::PAIRS => self.pair_sel = sel.min(self.rows.len().saturating_sub(1)),
            super::HOSTS => self.host_sel = sel.min(self.host_rows.len().saturating_sub(1)),
            _ => {}
        }
    }
}
