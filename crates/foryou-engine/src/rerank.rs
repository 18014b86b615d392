//! Page assembly: exploration slots, then diversity. The page never places two items from the
//! same creator or with the same sound next to each other while any other candidate is left, and
//! passes over an item too close (embedding cosine) to the two before it when another is at hand.

use crate::pipeline::{Candidate, Selector};
use crate::state::State;
use rand::Rng;

/// Settings of the re-ranker.
pub struct PagePlan {
    /// Items wanted (including those skipped for paging).
    pub limit: usize,
    /// Share of slots for exploration candidates.
    pub explore_share: f64,
    /// Cosine above which two neighbours count as near-duplicates.
    pub max_neighbour_cosine: f32,
    /// Whether the diversity rules apply.
    pub diversify: bool,
}

fn clash(s: &State, a: u32, b: u32) -> bool {
    let (x, y) = (&s.items[a as usize], &s.items[b as usize]);
    (x.creator.is_some() && x.creator == y.creator) || (x.sound.is_some() && x.sound == y.sound)
}

fn cosine(s: &State, a: u32, b: u32) -> f32 {
    if (a as usize) >= s.embed.len() || (b as usize) >= s.embed.len() {
        return 0.0;
    }
    let (x, y) = (s.embed.get(a), s.embed.get(b));
    crate::embed::dot(x, y)
        / (crate::embed::dot(x, x) * crate::embed::dot(y, y))
            .sqrt()
            .max(1e-6)
}

/// Exploration slots, then the diversity rules.
pub struct DiversePage;

impl Selector for DiversePage {
    fn name(&self) -> &'static str {
        "diverse_page"
    }
    fn select(
        &self,
        s: &State,
        cands: Vec<Candidate>,
        plan: &PagePlan,
        rng: &mut rand::rngs::StdRng,
    ) -> Vec<Candidate> {
        page(s, cands, plan, rng)
    }
}

/// Orders `cands` (already filtered and scored) into a page of at most `plan.limit` items.
pub fn page(
    s: &State,
    cands: Vec<Candidate>,
    plan: &PagePlan,
    rng: &mut impl Rng,
) -> Vec<Candidate> {
    let (mut explore, mut exploit): (Vec<Candidate>, Vec<Candidate>) =
        cands.into_iter().partition(|c| c.is_exploration());
    exploit.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    explore.sort_by(|a, b| {
        b.explore_draw
            .total_cmp(&a.explore_draw)
            .then(a.item.cmp(&b.item))
    });
    let want = plan.limit as f64 * plan.explore_share;
    let mut n_explore =
        want.floor() as usize + usize::from(rng.gen_bool(want.fract().clamp(0.0, 1.0)));
    n_explore = n_explore.min(explore.len());
    // Each exploration candidate's chance of a slot (they fill the slots in draw order, so
    // this is the share the policy gives them, not any one's exact chance).
    let explore_propensity = if explore.is_empty() {
        1.0
    } else {
        (n_explore as f32 / explore.len() as f32).clamp(0.01, 1.0)
    };
    for c in explore.iter_mut() {
        c.propensity = explore_propensity;
    }
    // Exploration slots are spread evenly over the page (a page of one may be one).
    let slots: Vec<usize> = (0..n_explore)
        .map(|k| ((k as f64 + 0.5) * plan.limit as f64 / n_explore as f64) as usize)
        .collect();
    let mut queues = [
        exploit.into_iter().peekable(),
        explore.into_iter().peekable(),
    ];
    let mut pending: [Vec<Candidate>; 2] = [Vec::new(), Vec::new()];
    let mut out: Vec<Candidate> = Vec::with_capacity(plan.limit);
    while out.len() < plan.limit {
        let q = usize::from(
            slots.contains(&out.len()) && (queues[1].peek().is_some() || !pending[1].is_empty()),
        );
        // A fitting item from the slot's queue, else a fitting one from the other, else (the
        // rules give way rather than end the feed) the best left.
        let [a, b] = &mut queues;
        let (qs, qo) = if q == 0 { (a, b) } else { (b, a) };
        let [pa, pb] = &mut pending;
        let (ps, po) = if q == 0 { (pa, pb) } else { (pb, pa) };
        let pick = next(s, qs, ps, &out, plan, true)
            .or_else(|| next(s, qo, po, &out, plan, true))
            .or_else(|| next(s, qs, ps, &out, plan, false))
            .or_else(|| next(s, qo, po, &out, plan, false));
        match pick {
            Some(c) => out.push(c),
            None => break,
        }
    }
    out
}

/// The next item of one queue that fits after `out`, looking ahead a little. With `strict`,
/// `None` when no item of the queue fits; without, the best left.
fn next(
    s: &State,
    queue: &mut std::iter::Peekable<std::vec::IntoIter<Candidate>>,
    pending: &mut Vec<Candidate>,
    out: &[Candidate],
    plan: &PagePlan,
    strict: bool,
) -> Option<Candidate> {
    const LOOKAHEAD: usize = 64;
    if !plan.diversify || !strict {
        return if pending.is_empty() {
            queue.next()
        } else {
            Some(pending.remove(0))
        };
    }
    let last = out.last().map(|c| c.item);
    let recent: Vec<u32> = out.iter().rev().take(2).map(|c| c.item).collect();
    let hard_ok = |c: &Candidate| last.is_none_or(|l| !clash(s, l, c.item));
    let soft_ok = |c: &Candidate| {
        recent
            .iter()
            .all(|&r| cosine(s, r, c.item) < plan.max_neighbour_cosine)
    };
    while pending.len() < LOOKAHEAD {
        match queue.next() {
            Some(c) => pending.push(c),
            None => break,
        }
    }
    let pos = pending
        .iter()
        .position(|c| hard_ok(c) && soft_ok(c))
        .or_else(|| pending.iter().position(hard_ok));
    if let Some(p) = pos {
        return Some(pending.remove(p));
    }
    // Every candidate in the look-ahead clashes: look further for one that does not.
    for c in queue.by_ref() {
        if hard_ok(&c) {
            return Some(c);
        }
        pending.push(c);
    }
    None
}
