//! Item-to-item co-engagement, learned one event at a time.
//!
//! When a user engages item `i`, every item `j` among their last `window` engagements gains
//! `sqrt(s_i·s_j)·2^(-d/h)` in both `C[i][j]` and `C[j][i]`, where `d` is how many engagements
//! apart the two were: things watched in one sitting say more about each other than things watched
//! months apart. Similarity is the cosine `C[i][j] / sqrt(m_i·m_j)` over each item's engagement
//! mass `m`. Rows are pruned to their strongest `max_neighbours` when they grow past twice that, so
//! memory stays bounded however long the stream runs. A row is a table of its own (`row.rs`) so
//! that the learner can ask for the fifty it is about to write before writing any.

mod row;

use row::Row;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Settings of the co-engagement model (defaults are the published ones, not tuned per data set).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CoocConfig {
    /// How many of a user's previous engagements a new one is paired with.
    pub window: usize,
    /// Distance, in engagements, at which a pair counts half.
    pub pair_half_life: f32,
    /// Neighbours kept per item after pruning.
    pub max_neighbours: usize,
}

impl Default for CoocConfig {
    fn default() -> Self {
        CoocConfig {
            window: 50,
            pair_half_life: 50.0,
            max_neighbours: 1000,
        }
    }
}

/// The co-engagement matrix, one sparse row per item.
#[derive(Default, Serialize, Deserialize)]
pub struct CoEngagement {
    rows: Vec<Row>,
    mass: Vec<f32>,
}

impl CoEngagement {
    /// Makes room for items `0..n`.
    pub fn ensure(&mut self, n: usize) {
        // Item numbers stay below the rows' empty-slot key.
        assert!(n <= row::EMPTY as usize, "item numbers fit below u32::MAX");
        if self.rows.len() < n {
            self.rows.resize_with(n, Row::default);
            self.mass.resize(n, 0.0);
        }
    }

    /// Learns that `item` was engaged with `strength` after `recent` (oldest first).
    pub fn learn(&mut self, item: u32, strength: f32, recent: &[(u32, f32)], cfg: &CoocConfig) {
        self.ensure(item as usize + 1);
        self.mass[item as usize] += strength;
        let decay = 0.5f32.powf(1.0 / cfg.pair_half_life.max(1e-3));
        let window = || recent.iter().rev().take(cfg.window).map(|r| r.0);
        // The rows about to be written start loading together, then, as each arrives, the slot
        // where `item` lives or will go in it: two waits for memory instead of two per row.
        for j in window() {
            if let Some(row) = self.rows.get(j as usize) {
                crate::prefetch::prefetch(std::slice::from_ref(row));
            }
        }
        for j in window() {
            if let Some(row) = self.rows.get(j as usize) {
                row.prefetch_slot(item);
            }
        }
        self.rows[item as usize].reserve(recent.len().min(cfg.window));
        let mut w_pos = 1.0f32;
        for &(j, sj) in recent.iter().rev().take(cfg.window) {
            if j != item && (j as usize) < self.rows.len() {
                let w = (strength * sj).sqrt() * w_pos;
                self.rows[item as usize].add(j, w);
                self.rows[j as usize].add(item, w);
                self.prune(j, cfg.max_neighbours);
            }
            w_pos *= decay;
        }
        self.prune(item, cfg.max_neighbours);
    }

    fn prune(&mut self, i: u32, max: usize) {
        let row = &mut self.rows[i as usize];
        if row.len() > 2 * max.max(1) {
            row.keep_strongest(max);
        }
    }

    /// Cosine similarity of two items' engagement.
    pub fn similarity(&self, a: u32, b: u32) -> f32 {
        let Some(row) = self.rows.get(a as usize) else {
            return 0.0;
        };
        row.get(b).map_or(0.0, |c| self.cosine(c, a, b))
    }

    /// Starts loading the slot where `b` would be in `a`'s row, which
    /// [`CoEngagement::similarity`]`(a, b)` reads (a hint; a loop that asks for its next
    /// several pairs before reading the current one overlaps their waits for memory).
    #[inline]
    pub fn prefetch_slot(&self, a: u32, b: u32) {
        if let Some(row) = self.rows.get(a as usize) {
            row.prefetch_slot(b);
        }
    }

    /// Starts loading `b`'s engagement mass, which every similarity with `b` reads.
    #[inline]
    pub fn prefetch_mass(&self, b: u32) {
        if let Some(m) = self.mass.get(b as usize) {
            crate::prefetch::prefetch(std::slice::from_ref(m));
        }
    }

    /// The cosine of a pair whose co-engagement is `c`.
    fn cosine(&self, c: f32, a: u32, b: u32) -> f32 {
        c / (self.mass[a as usize] * self.mass[b as usize])
            .sqrt()
            .max(1e-6)
    }

    /// How many neighbours item `a` keeps.
    pub fn row_len(&self, a: u32) -> usize {
        self.rows.get(a as usize).map_or(0, |r| r.len())
    }

    /// Calls `f(k, similarity(a, j))` for every neighbour `j` of `a` that `find` maps to some
    /// `k` (e.g. its place in a candidate list), in the row's order. The similarity is computed
    /// only for those, so a scan reads the neighbours' masses (a cache miss each in a large
    /// catalog) only where they are wanted.
    pub fn for_each_similar_in<K>(
        &self,
        a: u32,
        find: impl Fn(u32) -> Option<K>,
        mut f: impl FnMut(K, f32),
    ) {
        let Some(row) = self.rows.get(a as usize) else {
            return;
        };
        for (j, c) in row.iter() {
            if let Some(k) = find(j) {
                f(k, self.cosine(c, a, j));
            }
        }
    }

    /// Spreads a weighted history over the rows of its items: for every neighbour `j` of any of
    /// them, `Σ_h weight_h · similarity(h, j)`, the `h` that gave the most, and that most.
    pub fn spread_all(&self, history: &[(u32, f32)]) -> FxHashMap<u32, (f32, u32, f32)> {
        let bound: usize = history.iter().map(|&(h, _)| self.row_len(h)).sum();
        let mut scores = FxHashMap::default();
        // Room for a quarter of the row entries: the rows of one person's history share most of
        // their neighbours (about 6,000 distinct among 20,000 entries in the bench's world), and
        // a table sized for every entry is three times as large and sparse, so more of its
        // lookups miss the cache (measured: the spread took twice as long).
        scores.reserve(bound.min(1 << 17) / 4);
        for &(h, w) in history {
            self.spread(h, w, &mut scores);
        }
        // `similarity(h, j)` divides by `√m_j`, the same for every `h`: once per neighbour here
        // rather than once per row entry (each a cache miss in a large catalog).
        for (&j, e) in scores.iter_mut() {
            let inv = 1.0 / self.mass[j as usize].sqrt().max(1e-3);
            e.0 *= inv;
            e.2 *= inv;
        }
        scores
    }

    /// Adds `weight · similarity(h, j) · √m_j` to `scores[j]` for every neighbour `j` of `h`.
    fn spread(&self, h: u32, weight: f32, scores: &mut FxHashMap<u32, (f32, u32, f32)>) {
        let Some(row) = self.rows.get(h as usize) else {
            return;
        };
        let scale = weight / self.mass[h as usize].sqrt().max(1e-3);
        for (j, c) in row.iter() {
            let s = scale * c;
            let e = scores.entry(j).or_insert_with(|| {
                // The neighbour's mass is read once every row is summed; its load starts now.
                crate::prefetch::prefetch(&self.mass[j as usize..j as usize + 1]);
                (0.0, h, 0.0)
            });
            e.0 += s;
            if s > e.2 {
                e.1 = h;
                e.2 = s;
            }
        }
    }

    /// Drops an item's row (the item left the catalog).
    pub fn clear(&mut self, item: u32) {
        if let Some(r) = self.rows.get_mut(item as usize) {
            *r = Row::default();
        }
    }

    /// Total stored pairs (for memory reports).
    pub fn pairs(&self) -> usize {
        self.rows.iter().map(|r| r.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_engaged_together_are_similar_and_near_pairs_count_more() {
        let cfg = CoocConfig::default();
        let mut c = CoEngagement::default();
        // Users engage 0 then 1 then 2; the pair (0, 1) is adjacent, (0, 2) two apart.
        for _ in 0..5 {
            c.learn(0, 1.0, &[], &cfg);
            c.learn(1, 1.0, &[(0, 1.0)], &cfg);
            c.learn(2, 1.0, &[(0, 1.0), (1, 1.0)], &cfg);
        }
        c.learn(3, 1.0, &[], &cfg);
        assert!(c.similarity(0, 1) > c.similarity(0, 2));
        assert!(c.similarity(0, 2) > 0.0);
        assert_eq!(c.similarity(0, 3), 0.0);
        assert!((c.similarity(0, 1) - c.similarity(1, 0)).abs() < 1e-6);
    }

    #[test]
    fn rows_stay_bounded() {
        let cfg = CoocConfig {
            max_neighbours: 10,
            ..CoocConfig::default()
        };
        let mut c = CoEngagement::default();
        c.ensure(500);
        for i in 1..500u32 {
            c.learn(i, 1.0, &[(0, 1.0)], &cfg);
        }
        assert!(c.rows[0].len() <= 20, "{}", c.rows[0].len());
    }
}
