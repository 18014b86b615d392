//! Item-to-item co-engagement: a random-walk model over the user–item graph (RP3β).
//!
//! `W[i][j] = Σ_v 1/deg(v)` over users `v` who engaged both `i` and `j`, normalised by `deg(i)`
//! (the walk item → user → item) and damped by `deg(j)^β` so that popular items do not win every
//! walk. A user's score for `j` is `Σ_{i in history} W[i][j]`. Rows keep their `k` strongest
//! neighbours, so memory is `items × k`.

use std::collections::HashMap;

/// Settings, with defaults from the RP3β literature rather than tuned on one data set.
#[derive(Clone, Debug)]
pub struct CoocConfig {
    /// Popularity damping exponent β.
    pub beta: f32,
    /// Neighbours kept per item.
    pub neighbours: usize,
}

impl Default for CoocConfig {
    fn default() -> Self {
        CoocConfig {
            beta: 0.3,
            neighbours: 200,
        }
    }
}

/// A trained co-engagement model over dense item indices `0..n_items`.
pub struct CoocModel {
    rows: Vec<Vec<(u32, f32)>>,
}

impl CoocModel {
    /// Trains from each user's distinct items (dense indices below `n_items`).
    pub fn train(users: &[Vec<u32>], n_items: usize, config: &CoocConfig) -> CoocModel {
        let mut item_users: Vec<Vec<u32>> = vec![Vec::new(); n_items];
        for (u, items) in users.iter().enumerate() {
            for &i in items {
                item_users[i as usize].push(u as u32);
            }
        }
        let deg: Vec<f32> = item_users.iter().map(|v| v.len() as f32).collect();
        let damp: Vec<f32> = deg
            .iter()
            .map(|d| if *d > 0.0 { d.powf(-config.beta) } else { 0.0 })
            .collect();
        let mut acc = vec![0f32; n_items];
        let mut touched: Vec<u32> = Vec::new();
        let mut rows = Vec::with_capacity(n_items);
        for i in 0..n_items {
            for &v in &item_users[i] {
                let items = &users[v as usize];
                let w = 1.0 / items.len() as f32;
                for &j in items {
                    if j as usize == i {
                        continue;
                    }
                    if acc[j as usize] == 0.0 {
                        touched.push(j);
                    }
                    acc[j as usize] += w;
                }
            }
            let norm = if deg[i] > 0.0 { 1.0 / deg[i] } else { 0.0 };
            let mut row: Vec<(u32, f32)> = touched
                .iter()
                .map(|&j| (j, acc[j as usize] * norm * damp[j as usize]))
                .collect();
            for &j in &touched {
                acc[j as usize] = 0.0;
            }
            touched.clear();
            if row.len() > config.neighbours {
                row.select_nth_unstable_by(config.neighbours, |a, b| b.1.total_cmp(&a.1));
                row.truncate(config.neighbours);
            }
            rows.push(row);
        }
        CoocModel { rows }
    }

    /// The `k` best items for a history, excluding the history itself.
    pub fn recommend(&self, history: &[u32], k: usize) -> Vec<(u32, f32)> {
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for &i in history {
            for &(j, w) in self.rows.get(i as usize).map(Vec::as_slice).unwrap_or(&[]) {
                *scores.entry(j).or_default() += w;
            }
        }
        for i in history {
            scores.remove(i);
        }
        let mut out: Vec<(u32, f32)> = scores.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(k);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_engaged_items_are_recommended() {
        // Users 0-2 like items 0 and 1; users 3-4 like 2 and 3; item 4 is liked by everyone.
        let users = vec![
            vec![0, 1, 4],
            vec![0, 1, 4],
            vec![0, 1, 4],
            vec![2, 3, 4],
            vec![2, 3, 4],
        ];
        let m = CoocModel::train(&users, 5, &CoocConfig::default());
        let recs = m.recommend(&[0], 2);
        assert_eq!(recs[0].0, 1, "{recs:?}");
        let recs = m.recommend(&[2], 3);
        assert_eq!(recs[0].0, 3, "{recs:?}");
        assert!(recs.iter().all(|r| r.0 != 2));
    }
}
