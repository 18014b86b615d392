//! How far the feed trusts the batch model and the crowd, learned by how much is known about
//! the person.
//!
//! The trained ranker's pairwise steps contrast each positive with items drawn from the whole
//! catalog; against such negatives every personal signal separates well, and so does popularity,
//! so the steps cannot tell which signal orders the *top* of a person's candidates best. The
//! batch item-to-item model often does that best for people with a long history; for people with
//! one or two known videos in a thin world, the crowd (what the region engages most) often does.
//! So the final score adds two shares to the ranker's: the batch model's score relative to the
//! best candidate's, at a strength `γ` from [`GRID`], and the candidate's popularity relative to
//! the most popular candidate's (log scale), at a strength `β` from [`CROWD`], both in units of
//! the spread of the request's scores; the pair is chosen for each stage of knowledge (how many
//! recent engagements the person has, [`bucket`]).
//!
//! Each pair is chosen by prequential trials: now and then, just before the engine learns a
//! positive, the feed the person would have been served is scored (every source, filter and
//! hydrator, as a request would run them) and the first [`CUTOFF`] items of the page each pair
//! would have made are kept ([`OpenTrial`]). That positive and the person's following ones, up
//! to `blend_window` engagements in all (50 by default), credit each page that held them with
//! the gain a top-K list scores (`1 / log2(place + 2)`): a page is judged by what it would have
//! given the person over a stretch, not by the next choice alone (which rewards whatever
//! follows the last video watched; measured in BENCHMARKS.md). Nothing leaks: the pages are made
//! before any of the engagements that judge them is learned. The gains decay slowly so the
//! choice follows the ranker as it learns. Until a stage has [`MIN_TRIALS`] trials it keeps the
//! ranker's score alone.
//!
//! The crowd's share is chosen for the first stage only (people with at most one known
//! engagement); later stages keep none. Measured (BENCHMARKS.md): on the sparse MovieLens split
//! trials of people with three to five known items chose a large crowd share that the held-out
//! test then scored worse than none (their trials are made while the region's models are young,
//! and judged by engagements that favour the crowd more than later ones do), while for people
//! with one known item the crowd's share moved them to popularity's figure. Where the trials
//! cannot tell two crowd shares apart (the best one's lead is within one standard error of the
//! difference, trial by trial), the larger is taken: with little evidence about a person the
//! feed leans on the crowd, and the trials must show that the person's own signals do better.
//!
//! Where the batch model has no column for a candidate (an item first engaged after its last
//! fit), [`stand_in`] gives it the batch score that keeps the ranker's order, so the newest
//! items do not sink as the share grows.

use serde::{Deserialize, Serialize};

/// The batch model's shares tried, in units of the spread of the request's scores.
pub const GRID: [f32; 8] = [0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0];
/// The crowd's shares tried, in the same units.
pub const CROWD: [f32; 8] = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];
/// Stages whose crowd share is chosen by trials (the later ones keep none).
pub const CROWD_STAGES: usize = 1;
/// Stages of knowledge: a person with `n` recent engagements is in the first stage whose bound
/// is at least `n`.
const BOUNDS: [usize; 6] = [1, 2, 5, 12, 25, 49];
/// Number of stages.
pub const STAGES: usize = BOUNDS.len() + 1;
/// Places of a trial's ranking that score a gain.
pub const CUTOFF: usize = 20;
/// Trials a stage needs before its choice counts.
pub const MIN_TRIALS: f64 = 50.0;
/// Each trial keeps this share of a stage's earlier gains.
const DECAY: f64 = 1.0 - 1.0 / 4096.0;
/// Candidates a trial keeps at most (those on the first places of any pair's page).
pub const MAX_KEPT: usize = 128;

/// The most recent engagements a person of stage `stage` has (`None` for the last stage, which
/// has no bound).
pub fn stage_bound(stage: usize) -> Option<usize> {
    BOUNDS.get(stage).copied()
}

/// The stage of knowledge of a person with `n` recent engagements.
pub fn bucket(n: usize) -> usize {
    BOUNDS.iter().position(|&b| n <= b).unwrap_or(BOUNDS.len())
}

/// The shares of one stage: the batch model's (`γ`) and the crowd's (`β`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Shares {
    pub batch: f32,
    pub crowd: f32,
}

impl Shares {
    /// The shares of grid point (`g`, `c`).
    pub fn at(g: usize, c: usize) -> Shares {
        Shares {
            batch: GRID[g],
            crowd: CROWD[c],
        }
    }

    /// Whether the ranker's score is used alone.
    pub fn is_none(&self) -> bool {
        self.batch <= 0.0 && self.crowd <= 0.0
    }
}

/// Gains of each pair of shares per stage, from the trials so far.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Blend {
    /// Per stage: the decayed gain of each pair, `[batch share][crowd share]`.
    pub gains: [[[f64; CROWD.len()]; GRID.len()]; STAGES],
    /// Per stage: the decayed number of trials.
    pub trials: [f64; STAGES],
    /// Per stage whose crowd share is chosen, per batch share, per two crowd shares: the
    /// decayed sum over trials of the squared difference of what each trial credited them —
    /// how far apart the two gains could fall by chance.
    #[serde(default)]
    pub crowd_spread: [[[[f64; CROWD.len()]; CROWD.len()]; GRID.len()]; CROWD_STAGES],
}

impl Blend {
    /// The shares chosen for stage `stage`: the pair with the most gain (on a tie the smaller
    /// batch share, then the smaller crowd share; past [`CROWD_STAGES`], among the pairs without
    /// a crowd share), or none while the stage has had too few trials. Where the crowd's share
    /// is chosen, the largest one whose gain falls short of the best by no more than one
    /// standard error of their difference is taken instead: with little evidence about a person
    /// the feed leans on the crowd unless the trials tell the shares apart.
    pub fn shares(&self, stage: usize) -> Shares {
        let Some(gains) = self.gains.get(stage) else {
            return Shares::default();
        };
        if !self.decided(stage) {
            return Shares::default();
        }
        let mut best = (0, 0);
        for (g, row) in gains.iter().enumerate() {
            for (c, &x) in row.iter().enumerate() {
                if (c == 0 || stage < CROWD_STAGES) && x > gains[best.0][best.1] {
                    best = (g, c);
                }
            }
        }
        let (g, c) = best;
        if let Some(spread) = self.crowd_spread.get(stage) {
            let within = |k: usize| gains[g][c] - gains[g][k] <= spread[g][c][k].sqrt();
            if let Some(k) = (c + 1..CROWD.len()).rev().find(|&k| within(k)) {
                return Shares::at(g, k);
            }
        }
        Shares::at(g, c)
    }

    /// Whether stage `stage` has had the trials its choice needs to count.
    pub fn decided(&self, stage: usize) -> bool {
        self.trials.get(stage).is_some_and(|&t| t >= MIN_TRIALS)
    }

    /// The shares chosen for every stage, for publishing.
    pub fn chosen(&self) -> [Shares; STAGES] {
        std::array::from_fn(|s| self.shares(s))
    }

    /// Starts a trial at `stage` (earlier trials' gains decay by one step).
    pub fn start(&mut self, stage: usize) {
        if stage >= STAGES {
            return;
        }
        self.trials[stage] = self.trials[stage] * DECAY + 1.0;
        for g in self.gains[stage].iter_mut().flatten() {
            *g *= DECAY;
        }
        if let Some(spread) = self.crowd_spread.get_mut(stage) {
            for x in spread.iter_mut().flatten().flatten() {
                *x *= DECAY;
            }
        }
    }

    /// Credits each pair (`GRID[g]`, `CROWD[c]`) at `stage` with `credits[g][c]`, what one
    /// engagement was worth on its page ([`gain`]); `earlier` holds what the same trial's
    /// earlier engagements credited (the trial, not the engagement, is the unit of chance:
    /// the engagements of one page rise and fall together).
    pub fn credit(&mut self, stage: usize, credits: &Credits, earlier: Option<&Credits>) {
        let Some(gains) = self.gains.get_mut(stage) else {
            return;
        };
        for (row, new) in gains.iter_mut().zip(credits) {
            for (x, y) in row.iter_mut().zip(new) {
                *x += y;
            }
        }
        if let Some(spread) = self.crowd_spread.get_mut(stage) {
            let none = Credits::default();
            let earlier = earlier.unwrap_or(&none);
            for ((square, new), old) in spread.iter_mut().zip(credits).zip(earlier) {
                for a in 0..CROWD.len() {
                    for b in a + 1..CROWD.len() {
                        // The trial's squared difference grows from (x)² to (x + y)².
                        let (x, y) = (old[a] - old[b], new[a] - new[b]);
                        let d = y * (2.0 * x + y);
                        square[a][b] += d;
                        square[b][a] += d;
                    }
                }
            }
        }
    }

    /// Records one trial at `stage` whose single engagement would have ranked at `ranks[g][c]`
    /// with the shares (`GRID[g]`, `CROWD[c]`).
    pub fn record(&mut self, stage: usize, ranks: &[[usize; CROWD.len()]; GRID.len()]) {
        self.start(stage);
        let credits = ranks.map(|row| row.map(gain));
        self.credit(stage, &credits, None);
    }
}

/// What one engagement gives each pair of shares: `[batch share][crowd share]`.
pub type Credits = [[f64; CROWD.len()]; GRID.len()];

/// The gain of an engagement at place `rank` of a page (0 = first): `1 / log2(rank + 2)`, none
/// past [`CUTOFF`].
pub fn gain(rank: usize) -> f64 {
    if rank < CUTOFF {
        1.0 / ((rank + 2) as f64).log2()
    } else {
        0.0
    }
}

/// People with trials waiting for their engagements, at most (8 trials of at most
/// [`MAX_KEPT`] candidates of 16 bytes each: about 34 MB at most).
pub const MAX_OPEN: usize = 2048;
/// Trials waiting for one person's engagements, at most.
pub const OPEN_PER_PERSON: usize = 8;
/// A trial whose person has not come back within this long (event time) gives way to new ones.
pub const OPEN_FOR_MS: u64 = 24 * 3600 * 1000;

/// A candidate's parts of the final score: the ranker's score, and the batch model's and the
/// crowd's terms at share 1 (see [`terms`]).
pub type Terms = [f32; 3];

/// The parts of the final score of each candidate of a request: `raw` holds each one's ranker
/// score, batch score and popularity relative to the most popular candidate's.
pub fn terms(raw: &[(f32, f32, f32)]) -> Vec<Terms> {
    let (top, spread) = relative(raw.iter().map(|r| (r.0, r.1)));
    raw.iter()
        .map(|&(s, b, p)| {
            let batch = if top > 0.0 {
                spread * (b.max(0.0) / top)
            } else {
                0.0
            };
            [s, batch, spread * p.max(0.0)]
        })
        .collect()
}

/// The final score of a candidate with parts `t` at shares `w`.
pub fn fused(t: &Terms, w: Shares) -> f32 {
    t[0] + w.batch * t[1] + w.crowd * t[2]
}

/// A trial waiting for the person's engagements: its stage, the candidates on the first
/// `depth` places of the page of any pair of shares (with their parts of the score, so each
/// page's order among them can be remade), how many engagements it still counts, and when it
/// was made. An engagement with a kept candidate is at the same place among the kept as on
/// the whole page whenever that place is below `depth` (everything above it is kept).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenTrial {
    pub stage: usize,
    pub kept: Vec<(u32, Terms)>,
    pub depth: u8,
    pub left: u32,
    pub opened_ms: u64,
    /// What the trial has credited each pair so far, where its stage's crowd share is chosen.
    #[serde(default)]
    pub credited: Option<Box<Credits>>,
}

/// How many of the crowd's shares (from the first) the trials of `stage` try.
fn crowds(stage: usize) -> usize {
    if stage < CROWD_STAGES {
        CROWD.len()
    } else {
        1
    }
}

/// Whether `a` comes before `b` on a page (higher score first, then the smaller item).
fn before(a: (f32, u32), b: (f32, u32)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
}

impl OpenTrial {
    /// A trial at `stage` over a request's candidates — `t[k]` the parts of the score of
    /// `items[k]` — keeping what the first [`CUTOFF`] places of each pair's page hold (fewer
    /// places where more than [`MAX_KEPT`] candidates would be kept); it counts `window`
    /// engagements.
    pub fn new(stage: usize, t: &[Terms], items: &[u32], window: u32, now_ms: u64) -> Self {
        let n = t.len().min(items.len());
        // Each candidate's best place over every pair's page.
        let mut best = vec![u8::MAX; n];
        let mut order: Vec<(f32, u32, usize)> = Vec::with_capacity(n);
        let top = n.min(CUTOFF);
        for g in 0..GRID.len() {
            for c in 0..crowds(stage) {
                let w = Shares::at(g, c);
                order.clear();
                order.extend((0..n).map(|k| (fused(&t[k], w), items[k], k)));
                let desc = |a: &(f32, u32, usize), b: &(f32, u32, usize)| {
                    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
                };
                if top > 0 && top < n {
                    order.select_nth_unstable_by(top - 1, desc);
                }
                order.truncate(top);
                order.sort_unstable_by(desc);
                for (place, &(_, _, k)) in order.iter().enumerate() {
                    best[k] = best[k].min(place as u8);
                }
            }
        }
        // As many places as keep at most `MAX_KEPT` candidates.
        let mut at = [0usize; CUTOFF];
        for &b in &best {
            if (b as usize) < CUTOFF {
                at[b as usize] += 1;
            }
        }
        let (mut depth, mut count) = (0, 0);
        while depth < top && count + at[depth] <= MAX_KEPT {
            count += at[depth];
            depth += 1;
        }
        let kept = (0..n)
            .filter(|&k| (best[k] as usize) < depth)
            .map(|k| (items[k], t[k]))
            .collect();
        OpenTrial {
            stage,
            kept,
            depth: depth as u8,
            left: window.max(1),
            opened_ms: now_ms,
            credited: (stage < CROWD_STAGES).then(Default::default),
        }
    }

    /// The place of kept candidate `k` on the page of shares `w`, if among the first `depth`.
    fn place(&self, k: usize, w: Shares) -> Option<usize> {
        let (item, t) = self.kept[k];
        let me = (fused(&t, w), item);
        let mut place = 0;
        for &(other, u) in &self.kept {
            if other != item && before((fused(&u, w), other), me) {
                place += 1;
                if place >= self.depth as usize {
                    return None;
                }
            }
        }
        Some(place)
    }

    /// Credits `item`, just engaged, to each page that held it; true once the trial is over.
    pub fn engaged(&mut self, item: u32, blend: &mut Blend) -> bool {
        if let Some(k) = self.kept.iter().position(|x| x.0 == item) {
            let mut credits: Credits = Default::default();
            for (g, row) in credits.iter_mut().enumerate() {
                for (c, x) in row.iter_mut().enumerate().take(crowds(self.stage)) {
                    *x = self.place(k, Shares::at(g, c)).map_or(0.0, gain);
                }
            }
            blend.credit(self.stage, &credits, self.credited.as_deref());
            if let Some(sum) = self.credited.as_deref_mut() {
                for (row, new) in sum.iter_mut().zip(&credits) {
                    for (x, y) in row.iter_mut().zip(new) {
                        *x += y;
                    }
                }
            }
        }
        self.left = self.left.saturating_sub(1);
        self.left == 0
    }
}

/// The batch model's best score among a request's candidates (0 where none is positive), and
/// the spread of their scores (`max − min`, 0 for fewer than two).
pub fn relative(scores: impl Iterator<Item = (f32, f32)>) -> (f32, f32) {
    let (mut lo, mut hi, mut top) = (f32::INFINITY, f32::NEG_INFINITY, 0.0f32);
    for (s, b) in scores {
        lo = lo.min(s);
        hi = hi.max(s);
        top = top.max(b);
    }
    let spread = if hi > lo { hi - lo } else { 0.0 };
    (top, spread)
}

/// Where the batch model has no column for a candidate (an item first engaged after its fit),
/// the batch score that keeps the place the ranker gives it: the modelled candidates' batch
/// score at the same quantile as its ranker score among theirs. Without it, the newest items,
/// which the per-event learner already knows, would sink as the batch model's share grows.
/// `raw` holds `(ranker score, batch score, popularity)`; `modelled(k)` says whether entry `k`
/// is modelled.
pub fn stand_in(raw: &mut [(f32, f32, f32)], modelled: impl Fn(usize) -> bool) {
    let (mut scores, mut batch) = (Vec::new(), Vec::new());
    for (k, &(s, b, _)) in raw.iter().enumerate() {
        if modelled(k) {
            scores.push(s);
            batch.push(b.max(0.0));
        }
    }
    let n = scores.len();
    if n == 0 || n == raw.len() {
        return;
    }
    scores.sort_unstable_by(f32::total_cmp);
    batch.sort_unstable_by(f32::total_cmp);
    for (k, e) in raw.iter_mut().enumerate() {
        if !modelled(k) {
            let below = scores.partition_point(|&x| x < e.0);
            let at = ((below * (n - 1) + n / 2) / n).min(n - 1);
            e.1 = batch[at];
        }
    }
}

#[cfg(test)]
mod tests;
