//! How far the feed trusts the batch model, learned by how much is known about the person.
//!
//! The trained ranker's pairwise steps contrast each positive with items drawn from the whole
//! catalog; against such negatives every personal signal separates well, so the steps cannot
//! tell which signal orders the *top* of a person's candidates best. The batch item-to-item model
//! often does that best for people with a long history and worst for people with one or two
//! known videos in a thin world. So the final score adds the batch model's score, relative to the
//! best candidate's, at a strength `γ` chosen from [`GRID`] for each stage of knowledge (how many
//! recent engagements the person has, [`bucket`]).
//!
//! Each `γ` is chosen by prequential trials: now and then, just before the engine learns a
//! positive, the feed the person would have been served is scored (every source, filter and
//! hydrator, as a request would run them) and the first [`CUTOFF`] items of the page each `γ`
//! would have made are kept ([`OpenTrial`]). That positive and the person's following ones, up
//! to `blend_window` engagements in all (50 by default), credit each page that held them with
//! the gain a top-K list scores (`1 / log2(place + 2)`): a page is judged by what it would have
//! given the person over a stretch, not by the next choice alone (which rewards whatever
//! follows the last video watched; measured in BENCHMARKS.md). Nothing leaks: the pages are made
//! before any of the engagements that judge them is learned. The gains decay slowly so the
//! choice follows the ranker as it learns. Until a stage has [`MIN_TRIALS`] trials its `γ` is 0:
//! the ranker's score alone.
//!
//! Where the batch model has no column for a candidate (an item first engaged after its last
//! fit), [`stand_in`] gives it the batch score that keeps the ranker's order, so the newest
//! items do not sink as the share grows.

use serde::{Deserialize, Serialize};

/// The strengths tried: the batch model's share of the score, in units of the spread of the
/// request's scores.
pub const GRID: [f32; 8] = [0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0];
/// Stages of knowledge: a person with `n` recent engagements is in the first stage whose bound
/// is at least `n`.
const BOUNDS: [usize; 5] = [2, 5, 12, 25, 49];
/// Number of stages.
pub const STAGES: usize = BOUNDS.len() + 1;
/// Places of a trial's ranking that score a gain.
pub const CUTOFF: usize = 20;
/// Trials a stage needs before its choice counts.
pub const MIN_TRIALS: f64 = 50.0;
/// Each trial keeps this share of a stage's earlier gains.
const DECAY: f64 = 1.0 - 1.0 / 4096.0;

/// The stage of knowledge of a person with `n` recent engagements.
pub fn bucket(n: usize) -> usize {
    BOUNDS.iter().position(|&b| n <= b).unwrap_or(BOUNDS.len())
}

/// Gains of each strength per stage, from the trials so far.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BatchTrust {
    /// Per stage: the decayed gain of each strength in [`GRID`].
    pub gains: [[f64; GRID.len()]; STAGES],
    /// Per stage: the decayed number of trials.
    pub trials: [f64; STAGES],
}

impl BatchTrust {
    /// The strength chosen for stage `stage`: the one with the most gain (the smaller on a tie),
    /// or 0 while the stage has had too few trials.
    pub fn gamma(&self, stage: usize) -> f32 {
        let Some(gains) = self.gains.get(stage) else {
            return 0.0;
        };
        if self.trials[stage] < MIN_TRIALS {
            return 0.0;
        }
        let mut best = 0;
        for (k, g) in gains.iter().enumerate() {
            if *g > gains[best] {
                best = k;
            }
        }
        GRID[best]
    }

    /// The strengths chosen for every stage, for publishing.
    pub fn chosen(&self) -> [f32; STAGES] {
        std::array::from_fn(|s| self.gamma(s))
    }

    /// Starts a trial at `stage` (earlier trials' gains decay by one step).
    pub fn start(&mut self, stage: usize) {
        if stage >= STAGES {
            return;
        }
        self.trials[stage] = self.trials[stage] * DECAY + 1.0;
        for g in &mut self.gains[stage] {
            *g *= DECAY;
        }
    }

    /// Credits strength `GRID[k]` at `stage` with an engagement its page would have shown at
    /// place `rank` (0 = first).
    pub fn credit(&mut self, stage: usize, k: usize, rank: usize) {
        if stage < STAGES && k < GRID.len() && rank < CUTOFF {
            self.gains[stage][k] += 1.0 / ((rank + 2) as f64).log2();
        }
    }

    /// Records one trial at `stage` whose single engagement would have ranked at `ranks[k]`
    /// with strength `GRID[k]`.
    pub fn record(&mut self, stage: usize, ranks: &[usize; GRID.len()]) {
        self.start(stage);
        for (k, &r) in ranks.iter().enumerate() {
            self.credit(stage, k, r);
        }
    }
}

/// People with trials waiting for their engagements, at most (8 trials of 8 pages of 20 items
/// each: about 30 MB at most).
pub const MAX_OPEN: usize = 4096;
/// Trials waiting for one person's engagements, at most.
pub const OPEN_PER_PERSON: usize = 8;
/// A trial whose person has not come back within this long (event time) gives way to new ones.
pub const OPEN_FOR_MS: u64 = 24 * 3600 * 1000;

/// A trial waiting for the person's engagements: its stage, the first [`CUTOFF`] items of the
/// page at each strength, how many engagements it still counts, and when it was made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenTrial {
    pub stage: usize,
    pub pages: [Vec<u32>; GRID.len()],
    pub left: u32,
    pub opened_ms: u64,
}

impl OpenTrial {
    /// A trial at `stage` over a request's candidates — `raw[k]` the ranker and batch scores of
    /// `items[k]` — keeping the first [`CUTOFF`] of the page each strength would make; it counts
    /// `window` engagements.
    pub fn new(stage: usize, raw: &[(f32, f32)], items: &[u32], window: u32, now_ms: u64) -> Self {
        let (top, spread) = relative(raw.iter().copied());
        let pages = GRID.map(|g| {
            let mut order: Vec<(f32, u32)> = raw
                .iter()
                .zip(items)
                .map(|(&(s, b), &item)| (fused(s, b, top, spread, g), item))
                .collect();
            let n = order.len().min(CUTOFF);
            if n > 0 && n < order.len() {
                order.select_nth_unstable_by(n - 1, |a, b| b.0.total_cmp(&a.0));
            }
            order.truncate(n);
            order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            order.into_iter().map(|x| x.1).collect()
        });
        OpenTrial {
            stage,
            pages,
            left: window.max(1),
            opened_ms: now_ms,
        }
    }

    /// Credits `item`, just engaged, to each page that held it; true once the trial is over.
    pub fn engaged(&mut self, item: u32, trust: &mut BatchTrust) -> bool {
        for (k, page) in self.pages.iter().enumerate() {
            if let Some(r) = page.iter().position(|&i| i == item) {
                trust.credit(self.stage, k, r);
            }
        }
        self.left = self.left.saturating_sub(1);
        self.left == 0
    }
}

/// The batch model's score of each candidate relative to the best one's (0 for a negative or
/// missing score), and the spread of the scores (`max − min`, 0 for fewer than two).
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
/// `raw` holds `(ranker score, batch score)`; `modelled(k)` says whether entry `k` is modelled.
pub fn stand_in(raw: &mut [(f32, f32)], modelled: impl Fn(usize) -> bool) {
    let (mut scores, mut batch) = (Vec::new(), Vec::new());
    for (k, &(s, b)) in raw.iter().enumerate() {
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

/// The final score of a candidate with ranker score `score` and batch score `batch`, given the
/// request's best batch score `top`, score spread and strength `gamma`.
pub fn fused(score: f32, batch: f32, top: f32, spread: f32, gamma: f32) -> f32 {
    if gamma <= 0.0 || top <= 0.0 {
        return score;
    }
    score + gamma * spread * (batch.max(0.0) / top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_how_much_is_known() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(2), 0);
        assert_eq!(bucket(3), 1);
        assert_eq!(bucket(49), 4);
        assert_eq!(bucket(50), 5);
        assert_eq!(bucket(10_000), 5);
    }

    #[test]
    fn each_stage_picks_the_strength_that_ranked_its_choices_best() {
        let mut t = BatchTrust::default();
        // Too few trials: the ranker alone.
        t.record(5, &[30, 30, 30, 30, 30, 2, 0, 0]);
        assert_eq!(t.gamma(5), 0.0);
        for k in 0..200 {
            // The well known: the stronger the batch model, the higher their choice.
            t.record(5, &[25, 20, 12, 8, 4, 2, 0, 0]);
            // Newcomers: the batch model pushes their choice down.
            t.record(0, &[1, 1, 3, 9, 15, 40, 60, 60]);
            // A stage whose trials tie everywhere keeps the ranker alone.
            t.record(3, &[k % 7; GRID.len()]);
        }
        assert_eq!(t.gamma(5), 4.0, "the smaller of the tied best");
        assert_eq!(t.gamma(0), 0.0);
        assert_eq!(t.gamma(3), 0.0);
        assert_eq!(t.gamma(STAGES + 3), 0.0);
        assert_eq!(t.chosen()[5], 4.0);
    }

    #[test]
    fn an_open_trial_credits_each_page_that_held_the_engagement() {
        let mut t = BatchTrust::default();
        t.start(2);
        let mut open = OpenTrial {
            stage: 2,
            pages: std::array::from_fn(|k| if k < 4 { vec![7, 8, 9] } else { vec![9, 7] }),
            left: 2,
            opened_ms: 0,
        };
        assert!(!open.engaged(9, &mut t));
        // Third place on the first four pages, first on the others.
        assert!((t.gains[2][0] - 1.0 / 4f64.log2()).abs() < 1e-12);
        assert!((t.gains[2][7] - 1.0).abs() < 1e-12);
        assert!(open.engaged(42, &mut t), "the window is over");
        assert_eq!(t.trials[2], 1.0);
    }

    /// In an engine whose people choose what the batch model expects, trials are made on the
    /// schedule and credit the strengths; with trials off, none.
    #[test]
    fn the_engine_runs_trials_on_its_schedule() {
        use crate::{Engine, EngineConfig};
        use foryou_types::{UserId, VideoId};
        let run = |every: u32| {
            let mut e = Engine::new(EngineConfig {
                blend_every: every,
                ..EngineConfig::offline()
            });
            let mut ts = 1_000;
            for round in 0..2 {
                for u in 0..80u64 {
                    for k in 0..12u64 {
                        ts += 1;
                        // Two tastes, each a run of related items.
                        let v = VideoId(1 + (u % 2) * 50 + (k + u + round * 12) % 40);
                        e.observe_interaction(UserId(u), v, ts, 1.0);
                    }
                }
                e.rebuild_batch();
            }
            // Each person's trials waiting for their engagements stay bounded.
            assert!(e
                .state()
                .open_trials
                .values()
                .all(|t| !t.is_empty() && t.len() <= OPEN_PER_PERSON));
            // Erasing a person takes the pages their trials kept with them.
            let had = e.state().open_trials.contains_key(&UserId(0));
            assert_eq!(had, every > 0);
            e.forget_user(UserId(0));
            assert!(!e.state().open_trials.contains_key(&UserId(0)));
            e.state().heads.batch_trust.clone()
        };
        let on = run(1);
        assert!(on.trials.iter().sum::<f64>() > 100.0, "{:?}", on.trials);
        assert!(on.gains.iter().flatten().sum::<f64>() > 0.0);
        let off = run(0);
        assert_eq!(off.trials.iter().sum::<f64>(), 0.0);
    }

    #[test]
    fn a_trials_pages_move_from_the_rankers_order_to_the_batch_models() {
        let raw = [(3.0, 0.0), (2.0, 0.5), (1.0, 1.0)];
        let t = OpenTrial::new(1, &raw, &[10, 11, 12], 50, 7);
        assert_eq!(t.pages[0], vec![10, 11, 12]);
        assert_eq!(t.pages[GRID.len() - 1], vec![12, 11, 10]);
        assert_eq!((t.stage, t.left, t.opened_ms), (1, 50, 7));
        // A page keeps its first places only.
        let many: Vec<(f32, f32)> = (0..100).map(|k| (k as f32, 0.0)).collect();
        let items: Vec<u32> = (0..100).collect();
        let t = OpenTrial::new(0, &many, &items, 0, 0);
        assert_eq!(t.pages[0].len(), CUTOFF);
        assert_eq!(t.pages[0][0], 99);
        assert_eq!(
            t.left, 1,
            "a trial counts at least the engagement it was made for"
        );
    }

    /// An item the batch model does not know keeps its place among the ones it knows, at every
    /// strength, where a zero batch score would sink it.
    #[test]
    fn the_newest_items_keep_the_rankers_place() {
        // Ranker and batch model agree on the modelled items; item 3 is new.
        let mut raw = vec![(1.0, 0.1), (2.0, 0.2), (3.0, 0.3), (2.5, 0.0)];
        let modelled = |k: usize| k != 3;
        let place = |raw: &[(f32, f32)], g: f32| {
            let (top, spread) = relative(raw.iter().copied());
            let s: Vec<f32> = raw
                .iter()
                .map(|&(s, b)| fused(s, b, top, spread, g))
                .collect();
            s.iter().filter(|&&x| x > s[3]).count()
        };
        assert_eq!(place(&raw, 8.0), 3, "sunk without a stand-in");
        stand_in(&mut raw, modelled);
        assert!((raw[3].1 - 0.2).abs() < 1e-6, "{:?}", raw[3]);
        assert_eq!(&raw[..3], &[(1.0, 0.1), (2.0, 0.2), (3.0, 0.3)]);
        for g in GRID {
            assert_eq!(place(&raw, g), 1, "strength {g}");
        }
        // Nothing modelled, or everything: nothing to stand in for.
        let mut none = vec![(1.0, 0.0), (2.0, 0.0)];
        stand_in(&mut none, |_| false);
        assert_eq!(none, vec![(1.0, 0.0), (2.0, 0.0)]);
    }

    #[test]
    fn fusing_keeps_the_order_without_batch_evidence() {
        assert_eq!(fused(1.5, 0.3, 0.0, 2.0, 4.0), 1.5);
        assert_eq!(fused(1.5, 0.3, 0.6, 2.0, 0.0), 1.5);
        // Half the best batch score at strength 1 adds half the spread.
        assert!((fused(1.5, 0.3, 0.6, 2.0, 1.0) - 2.5).abs() < 1e-6);
        assert!((fused(1.5, -0.3, 0.6, 2.0, 1.0) - 1.5).abs() < 1e-6);
    }
}
