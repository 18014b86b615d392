//! The batch model beside the per-event learner: EASE (Steck, 2019), the item-to-item model
//! `B = I − P·diag(P)⁻¹` with `P = (XᵀX + λI)⁻¹`, computed through the top `rank` eigenpairs of
//! the Gram matrix `G = XᵀX`, so it holds `n·rank` numbers rather than `n²` and fits in
//! `O(nnz·rank + n·rank²)` rather than `O(n³)`. With `G ≈ V·diag(σ)·Vᵀ`,
//! `P ≈ I/λ − V·diag(c)·Vᵀ` where `c_k = σ_k / (λ(σ_k + λ))`, and an item `j` outside the
//! history `x` scores `(x·V·diag(c)·V_jᵀ) / P_jj`. When the modelled items number at most the
//! rank plus the oversampling, the eigenbasis is complete and the model is EASE exactly (a test
//! holds it to a dense inverse); beyond, it is EASE restricted to the catalog's strongest
//! directions, which is what makes it a low-rank model for large catalogs.
//!
//! The rows of `X` are each person's recent engagements (at most `batch_history`) with their
//! strengths (play counts where the data has them) as weights, over the `batch_items` most engaged
//! items. The eigenpairs come from randomised subspace iteration (Halko, Martinsson & Tropp, 2011)
//! with a Rayleigh-Ritz step solved by Jacobi rotations, all in this file. It is refit from a
//! snapshot of the state on a background thread ([`BatchJob`]) and served with the per-event
//! updates: it adds a candidate source and a feature the trained ranker weighs.

use crate::linalg;
use crate::state::State;
use rand::{Rng, SeedableRng};
use rustc_hash::FxHashMap;

/// Columns beyond the rank that the subspace iteration carries (they make the top `rank`
/// directions converge in a few rounds).
const OVERSAMPLE: usize = 32;
/// Rounds of subspace iteration.
const ROUNDS: usize = 3;
/// Directions a feed's first pass over the items reads (see [`ItemModel::top`]).
const SCAN_DIMS: usize = 64;
/// Items the first pass keeps per item asked for, and at least.
const SHORTLIST_PER_ITEM: usize = 8;
const SHORTLIST_MIN: usize = 1000;
/// Rows of the shortlist whose loads the exact pass starts ahead of the one it scores.
const AHEAD: usize = 4;

/// What a fit reads, taken from the state under its lock; [`BatchJob::fit`] runs anywhere.
pub struct BatchJob {
    /// The modelled item slots.
    items: Vec<u32>,
    /// Rows of `X`: per person, (column, weight).
    rows: Vec<Vec<(u32, f32)>>,
    lambda: f64,
    rank: usize,
    seed: u64,
    /// The state's `learned` counter when the job was taken.
    pub learned_at: u64,
}

/// A fitted model.
pub struct ItemModel {
    /// Column → item slot.
    slots: Vec<u32>,
    /// Item slot → column.
    index: FxHashMap<u32, u32>,
    /// Columns of `V` kept.
    rank: usize,
    /// `V`, row-major `n × rank`.
    v: Vec<f32>,
    /// `c_k`.
    c: Vec<f32>,
    /// `1 / P_jj`.
    inv_diag: Vec<f32>,
    /// The first pass's copy of `V`'s leading [`SCAN_DIMS`] columns, row-major, each row
    /// scaled by `1 / P_jj` and stored as 8-bit steps of `head_step[j]`: contiguous, so the pass
    /// streams 64 bytes per item (one cache line) instead of touching a 1 KB row of `V` (empty
    /// when the model is scanned whole). The pass only shortlists; the second scores exactly.
    head: Vec<i8>,
    /// Per item, the size of one step of its `head` row.
    head_step: Vec<f32>,
    /// The state's `learned` counter of the data it was fitted on.
    pub learned_at: u64,
}

/// A person's position in the model's space, `x·V·diag(c)`, and the columns of their history.
pub struct Taste {
    y: Vec<f32>,
    own: Vec<u32>,
}

impl BatchJob {
    /// The job for `state`: its `max_items` most engaged live items, each person's latest
    /// `history` engagements among them.
    pub fn new(
        state: &State,
        max_items: usize,
        history: usize,
        lambda: f64,
        rank: usize,
        seed: u64,
    ) -> BatchJob {
        let latest = |r: &std::collections::VecDeque<(u32, f32)>| {
            r.iter().rev().take(history).copied().collect::<Vec<_>>()
        };
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        for u in state.users.values() {
            for (i, _) in latest(&u.recent) {
                if state.items.get(i as usize).is_some_and(|it| it.live) {
                    *counts.entry(i).or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(u32, u32)> = counts.into_iter().filter(|(_, c)| *c >= 2).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(max_items);
        let items: Vec<u32> = ranked.into_iter().map(|(i, _)| i).collect();
        let index: FxHashMap<u32, u32> = items
            .iter()
            .enumerate()
            .map(|(c, &i)| (i, c as u32))
            .collect();
        let mut rows = Vec::new();
        for u in state.users.values() {
            let mut row: Vec<(u32, f32)> = Vec::new();
            for (i, w) in latest(&u.recent) {
                if let Some(&c) = index.get(&i) {
                    match row.iter_mut().find(|(x, _)| *x == c) {
                        Some(e) => e.1 = e.1.max(w),
                        None => row.push((c, w.clamp(0.0, 10.0))),
                    }
                }
            }
            if row.len() >= 2 {
                rows.push(row);
            }
        }
        BatchJob {
            items,
            rows,
            lambda,
            rank,
            seed,
            learned_at: state.learned,
        }
    }

    /// Fits the model, the heavy products split over `threads`.
    pub fn fit(self, threads: usize) -> ItemModel {
        let n = self.items.len();
        let threads = threads.max(1);
        let m = (self.rank + OVERSAMPLE).min(n);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(self.seed ^ self.learned_at);
        // Q: column-major n × m, orthonormal.
        let mut q: Vec<f64> = (0..n * m).map(|_| rng.gen::<f64>() - 0.5).collect();
        linalg::orthonormalise(&mut q, n, m, &mut rng);
        for _ in 0..ROUNDS {
            q = gram_times(&self.rows, &q, n, m, threads);
            linalg::orthonormalise(&mut q, n, m, &mut rng);
        }
        // Rayleigh-Ritz: T = Qᵀ G Q, its eigenpairs W, and V = Q W.
        let z = gram_times(&self.rows, &q, n, m, threads);
        let t = linalg::cross(&q, &z, n, m);
        let (sigma, w) = linalg::symmetric_eigen(t, m);
        let rank = self.rank.min(m);
        let order: Vec<usize> = {
            let mut o: Vec<usize> = (0..m).collect();
            o.sort_by(|&a, &b| sigma[b].total_cmp(&sigma[a]));
            o.truncate(rank);
            o
        };
        let lambda = self.lambda.max(1e-6);
        let s: Vec<f64> = order.iter().map(|&col| sigma[col].max(0.0)).collect();
        let c: Vec<f32> = s
            .iter()
            .map(|s| (s / (lambda * (s + lambda))) as f32)
            .collect();
        // Wᵀ of the kept eigenvectors (rank × m, rows contiguous) and Q row by row.
        let mut wt = vec![0.0f64; rank * m];
        for (k, &col) in order.iter().enumerate() {
            for l in 0..m {
                wt[k * m + l] = w[l * m + col];
            }
        }
        let qr = linalg::transpose(&q, m, n);
        drop(q);
        let mut v = vec![0.0f32; n * rank];
        let mut inv_diag = vec![0.0f32; n];
        let rows_of = |first: usize, v: &mut [f32], inv_diag: &mut [f32]| {
            for (r, (vj, dj)) in v
                .chunks_mut(rank.max(1))
                .zip(inv_diag.iter_mut())
                .enumerate()
            {
                let j = first + r;
                let qj = &qr[j * m..(j + 1) * m];
                let (mut norm, mut diag) = (0.0f64, 0.0f64);
                for k in 0..rank {
                    let x = linalg::dot(qj, &wt[k * m..(k + 1) * m]);
                    vj[k] = x as f32;
                    norm += x * x;
                    diag += x * x / (s[k] + lambda);
                }
                // P_jj = (1 − ‖V_j‖²)/λ + Σ_k V_jk² / (σ_k + λ), always positive.
                let d = (1.0 - norm).max(0.0) / lambda + diag;
                *dj = if d > 0.0 { (1.0 / d) as f32 } else { 0.0 };
            }
        };
        if rank > 0 {
            let per = n.div_ceil(threads).max(1);
            std::thread::scope(|sc| {
                for (t, (vc, dc)) in v
                    .chunks_mut(per * rank)
                    .zip(inv_diag.chunks_mut(per))
                    .enumerate()
                {
                    let rows_of = &rows_of;
                    sc.spawn(move || rows_of(t * per, vc, dc));
                }
            });
        }
        ItemModel::new(self.items, rank, v, c, inv_diag, self.learned_at)
    }
}

impl ItemModel {
    /// The model of columns `slots` from `V` (row-major, `rank` wide), `c` and `1 / P_jj`,
    /// with the first pass's copy of `V`'s leading columns.
    fn new(
        slots: Vec<u32>,
        rank: usize,
        v: Vec<f32>,
        c: Vec<f32>,
        inv_diag: Vec<f32>,
        learned_at: u64,
    ) -> ItemModel {
        let index = slots
            .iter()
            .enumerate()
            .map(|(c, &i)| (i, c as u32))
            .collect();
        let (head, head_step) = if rank >= 2 * SCAN_DIMS {
            let mut head = Vec::with_capacity(slots.len() * SCAN_DIMS);
            let mut steps = Vec::with_capacity(slots.len());
            for (row, d) in v.chunks_exact(rank).zip(&inv_diag) {
                steps.push(quantise(&row[..SCAN_DIMS], *d, &mut head));
            }
            (head, steps)
        } else {
            (Vec::new(), Vec::new())
        };
        ItemModel {
            slots,
            index,
            rank,
            v,
            c,
            inv_diag,
            head,
            head_step,
            learned_at,
        }
    }
}

/// Appends `row · scale` to `out` as 8-bit steps and returns the size of one step (0 for a zero
/// row): each entry is within half a step of its value.
fn quantise(row: &[f32], scale: f32, out: &mut Vec<i8>) -> f32 {
    let (step, steps) = in_steps(row, scale, 127.0);
    out.extend(steps.map(|x| x as i8));
    step
}

/// `y` as steps of one common size, its largest entry at ±16,383 (so that a sum of 64 products
/// with 8-bit entries stays far inside `i32`): the scores it gives differ from the true ones by
/// that common factor, so they order items alike.
fn quantise_query(y: &[f32]) -> Vec<i16> {
    in_steps(y, 1.0, 16_383.0).1.map(|x| x as i16).collect()
}

/// `row · scale` in whole steps, its largest entry at ±`limit` steps: the size of one step and
/// the steps (a zero or non-finite row: step 0, every entry 0).
fn in_steps(row: &[f32], scale: f32, limit: f32) -> (f32, impl Iterator<Item = f32> + '_) {
    let top = row.iter().fold(0.0f32, |m, x| m.max((x * scale).abs()));
    let (step, inv) = if top > 0.0 && top.is_finite() {
        (top / limit, limit / top)
    } else {
        (0.0, 0.0)
    };
    let steps = row
        .iter()
        .map(move |x| (x * scale * inv).round().clamp(-limit, limit));
    (step, steps)
}

/// `Σ a_k · b_k` in integers, sixteen running sums (the compiler keeps them in vector
/// registers and pairs the products as the processor's multiply-add instructions do).
fn dot_i8(a: &[i8], b: &[i16]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: i32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..16 {
            acc[k] += i32::from(x[k]) * i32::from(y[k]);
        }
    }
    acc.iter().sum::<i32>() + tail
}

/// `G·Q = Xᵀ(X·Q)` for `Q` column-major `n × m`, without forming `G`: per row of `X`, the row's
/// combination of `Q`'s rows, spread back over the row's columns. Returns column-major.
fn gram_times(rows: &[Vec<(u32, f32)>], q: &[f64], n: usize, m: usize, threads: usize) -> Vec<f64> {
    let qr = linalg::transpose(q, m, n); // row-major n × m
    let part = |rows: &[Vec<(u32, f32)>]| {
        let mut z = vec![0.0f64; n * m];
        let mut t = vec![0.0f64; m];
        for row in rows {
            t.iter_mut().for_each(|x| *x = 0.0);
            for &(i, w) in row {
                let src = &qr[i as usize * m..(i as usize + 1) * m];
                let w = f64::from(w);
                t.iter_mut().zip(src).for_each(|(a, b)| *a += w * b);
            }
            for &(j, w) in row {
                let dst = &mut z[j as usize * m..(j as usize + 1) * m];
                let w = f64::from(w);
                dst.iter_mut().zip(&t).for_each(|(a, b)| *a += w * b);
            }
        }
        z
    };
    let z = if threads == 1 || rows.len() < 1024 {
        part(rows)
    } else {
        let per = rows.len().div_ceil(threads);
        let parts: Vec<Vec<f64>> = std::thread::scope(|s| {
            let handles: Vec<_> = rows
                .chunks(per)
                .map(|chunk| s.spawn(move || part(chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a fit thread panicked"))
                .collect()
        });
        let mut parts = parts.into_iter();
        let mut z = parts.next().unwrap_or_else(|| vec![0.0; n * m]);
        for p in parts {
            z.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
        }
        z
    };
    linalg::transpose(&z, n, m)
}

impl ItemModel {
    /// Number of modelled items.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether it models nothing.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The person with this weighted history in the model's space; `None` when no item of the
    /// history is modelled.
    pub fn taste(&self, history: &[(u32, f32)]) -> Option<Taste> {
        let r = self.rank;
        let mut y = vec![0.0f32; r];
        let mut own = Vec::new();
        for &(h, w) in history {
            if let Some(&i) = self.index.get(&h) {
                own.push(i);
                let row = &self.v[i as usize * r..(i as usize + 1) * r];
                y.iter_mut().zip(row).for_each(|(a, b)| *a += w * b);
            }
        }
        if own.is_empty() {
            return None;
        }
        // Sorted, so that a feed's hundreds of lookups are binary searches.
        own.sort_unstable();
        own.dedup();
        y.iter_mut().zip(&self.c).for_each(|(a, c)| *a *= c);
        Some(Taste { y, own })
    }

    fn column_score(&self, t: &Taste, j: usize) -> f32 {
        let r = self.rank;
        let row = &self.v[j * r..(j + 1) * r];
        crate::embed::dot(row, &t.y) * self.inv_diag[j]
    }

    /// Whether the model has a column for `item` (one engaged before it was fitted).
    pub fn models(&self, item: u32) -> bool {
        self.index.contains_key(&item)
    }

    /// The score of `item` for a person in the model's space (0 for an item it does not model
    /// or one of their own).
    pub fn score(&self, t: &Taste, item: u32) -> f32 {
        match self.index.get(&item) {
            Some(&j) if t.own.binary_search(&j).is_err() => self.column_score(t, j as usize),
            _ => 0.0,
        }
    }

    /// The `k` best-scored items for a person, best first, none of their own. Over many items
    /// the scan is in two passes: every item scored on the model's strongest [`SCAN_DIMS`]
    /// directions, then the best [`SHORTLIST_PER_ITEM`]` · k` of those scored exactly, so a
    /// feed reads a fraction of the model (the returned scores are always exact).
    pub fn top(&self, t: &Taste, k: usize) -> Vec<(u32, f32)> {
        let n = self.slots.len();
        let shortlist = k.saturating_mul(SHORTLIST_PER_ITEM).max(SHORTLIST_MIN);
        if self.head.is_empty() || n <= 2 * shortlist {
            return self.top_exact(t, k);
        }
        // The person's leading coordinates as 15-bit steps: the pass is integer
        // multiply-adds, which processors do on twice as many lanes as float ones.
        let y = quantise_query(&t.y[..SCAN_DIMS]);
        let mut rough: Vec<(u32, f32)> = self
            .head
            .chunks_exact(SCAN_DIMS)
            .zip(&self.head_step)
            .enumerate()
            .map(|(j, (row, step))| (j as u32, step * dot_i8(row, &y) as f32))
            .collect();
        rough.select_nth_unstable_by(shortlist - 1, |a, b| b.1.total_cmp(&a.1));
        rough.truncate(shortlist);
        // The shortlist is scored exactly from the rows of `V`, each row's load started a few
        // rows ahead (they lie at random in the model, each a wait for memory).
        let r = self.rank;
        let row = |j: u32| &self.v[j as usize * r..(j as usize + 1) * r];
        for &(j, _) in rough.iter().take(AHEAD) {
            crate::prefetch::prefetch(row(j));
        }
        let scored = rough.iter().enumerate().map(|(at, &(j, _))| {
            if let Some(&(next, _)) = rough.get(at + AHEAD) {
                crate::prefetch::prefetch(row(next));
            }
            (j as usize, self.column_score(t, j as usize))
        });
        self.top_of(t, k, scored)
    }

    /// The `k` best of every modelled item scored exactly (what [`ItemModel::top`]'s first
    /// pass approximates; benchmarks measure how much of it the first pass keeps).
    pub fn top_exact(&self, t: &Taste, k: usize) -> Vec<(u32, f32)> {
        let all = (0..self.slots.len()).map(|j| (j, self.column_score(t, j)));
        self.top_of(t, k, all)
    }

    /// The `k` best of `(column, score)` pairs, none of the person's own, best first.
    fn top_of(
        &self,
        t: &Taste,
        k: usize,
        scored: impl Iterator<Item = (usize, f32)>,
    ) -> Vec<(u32, f32)> {
        let out: Vec<(u32, f32)> = scored
            .filter(|(j, s)| *s > 0.0 && t.own.binary_search(&(*j as u32)).is_err())
            .map(|(j, s)| (self.slots[j], s))
            .collect();
        crate::topk::best_k(out, k)
    }
}

#[cfg(test)]
mod tests;
