//! The batch model beside the per-event learner: an item-to-item model of the EASE family
//! (Steck, 2019), `B = −P / diag(P)` with `P = (XᵀX + λI)⁻¹` and a zero diagonal, over the most
//! engaged items (at most `batch_items`, so its memory is `batch_items²` and its time
//! `batch_items³`), with each person's recent engagements as the rows of `X` and their strengths
//! (play counts where the data has them) as weights. It is refit from a snapshot of the state on
//! a background thread ([`BatchJob`]) and served with the per-event updates: it adds a candidate
//! source and a feature the trained ranker weighs.

use crate::state::State;
use rustc_hash::FxHashMap;

/// What a fit reads, taken from the state under its lock; [`BatchJob::fit`] runs anywhere.
pub struct BatchJob {
    /// The modelled item slots.
    items: Vec<u32>,
    /// Rows of `X`: per person, (column, weight).
    rows: Vec<Vec<(u32, f32)>>,
    lambda: f64,
    /// The state's `learned` counter when the job was taken.
    pub learned_at: u64,
}

/// A fitted item-to-item model.
pub struct ItemModel {
    /// Column → item slot.
    slots: Vec<u32>,
    /// Item slot → column.
    index: FxHashMap<u32, u32>,
    /// `B`, row-major: `b[i·n + j]` is how much engaging with `i` says about `j`.
    b: Vec<f32>,
    /// The state's `learned` counter of the data it was fitted on.
    pub learned_at: u64,
}

impl BatchJob {
    /// The job for `state`: its `max_items` most engaged live items, each person's recent
    /// engagements among them.
    pub fn new(state: &State, max_items: usize, lambda: f64) -> BatchJob {
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        for u in state.users.values() {
            for &(i, _) in &u.recent {
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
            for &(i, w) in &u.recent {
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
            learned_at: state.learned,
        }
    }

    /// Fits the model (`O(n³)` for `n` items, `8·n²` bytes), splitting the elimination over
    /// `threads`.
    pub fn fit(self, threads: usize) -> ItemModel {
        let n = self.items.len();
        let mut g = vec![0.0f64; n * n];
        for row in &self.rows {
            for &(i, wi) in row {
                for &(j, wj) in row {
                    g[i as usize * n + j as usize] += f64::from(wi) * f64::from(wj);
                }
            }
        }
        for i in 0..n {
            g[i * n + i] += self.lambda;
        }
        invert_spd(&mut g, n, threads.max(1));
        let mut b = vec![0.0f32; n * n];
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    let d = g[j * n + j];
                    b[i * n + j] = if d.abs() > 1e-12 {
                        (-g[i * n + j] / d) as f32
                    } else {
                        0.0
                    };
                }
            }
        }
        let index = self
            .items
            .iter()
            .enumerate()
            .map(|(c, &i)| (i, c as u32))
            .collect();
        ItemModel {
            slots: self.items,
            index,
            b,
            learned_at: self.learned_at,
        }
    }
}

/// Inverts a symmetric positive definite matrix in place by Gauss-Jordan elimination without
/// pivoting (safe for such matrices), each step's row updates split over `threads`.
fn invert_spd(a: &mut [f64], n: usize, threads: usize) {
    for k in 0..n {
        let pivot = a[k * n + k];
        if pivot.abs() < 1e-12 {
            continue;
        }
        let inv = 1.0 / pivot;
        // Row k scaled, with its own column set to the inverse's.
        let mut row_k: Vec<f64> = a[k * n..(k + 1) * n].iter().map(|x| x * inv).collect();
        row_k[k] = inv;
        let update = |rows: &mut [f64], first: usize| {
            for (r, row) in rows.chunks_mut(n).enumerate() {
                let i = first + r;
                if i == k {
                    continue;
                }
                let f = row[k];
                if f == 0.0 {
                    continue;
                }
                for (x, y) in row.iter_mut().zip(&row_k) {
                    *x -= f * y;
                }
                row[k] = -f * inv;
            }
        };
        let per = n.div_ceil(threads).max(1);
        if threads == 1 || n < 256 {
            update(a, 0);
        } else {
            std::thread::scope(|s| {
                for (t, chunk) in a.chunks_mut(per * n).enumerate() {
                    let update = &update;
                    s.spawn(move || update(chunk, t * per));
                }
            });
        }
        a[k * n..(k + 1) * n].copy_from_slice(&row_k);
    }
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

    /// The score of `item` for a person with this weighted history.
    pub fn score(&self, history: &[(u32, f32)], item: u32) -> f32 {
        let Some(&j) = self.index.get(&item) else {
            return 0.0;
        };
        let n = self.slots.len();
        history
            .iter()
            .filter_map(|&(h, w)| {
                self.index
                    .get(&h)
                    .map(|&i| w * self.b[i as usize * n + j as usize])
            })
            .sum()
    }

    /// The `k` best-scored items for a weighted history, best first.
    pub fn top(&self, history: &[(u32, f32)], k: usize) -> Vec<(u32, f32)> {
        let n = self.slots.len();
        let mut acc = vec![0.0f32; n];
        let mut any = false;
        for &(h, w) in history {
            if let Some(&i) = self.index.get(&h) {
                any = true;
                let row = &self.b[i as usize * n..(i as usize + 1) * n];
                for (a, b) in acc.iter_mut().zip(row) {
                    *a += w * b;
                }
            }
        }
        if !any {
            return Vec::new();
        }
        let mut out: Vec<(u32, f32)> = acc
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(c, s)| (self.slots[c], s))
            .collect();
        let k = k.min(out.len());
        if k == 0 {
            return Vec::new();
        }
        out.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        out.truncate(k);
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_is_an_inverse() {
        let n = 300;
        // A random SPD matrix: MᵀM + n·I.
        let mut s = 11u64;
        let mut m = vec![0.0f64; n * n];
        for x in m.iter_mut() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            *x = ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5;
        }
        let mut a = vec![0.0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| m[k * n + i] * m[k * n + j]).sum::<f64>();
            }
            a[i * n + i] += n as f64 / 10.0;
        }
        let orig = a.clone();
        invert_spd(&mut a, n, 2);
        for i in (0..n).step_by(37) {
            for j in (0..n).step_by(29) {
                let v: f64 = (0..n).map(|k| orig[i * n + k] * a[k * n + j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-8, "({i},{j}) {v}");
            }
        }
    }
}
