//! The exact oracle that HNSW is held to, and the seeded data and recall measures that tests and
//! benchmarks hold it with.

use super::VectorIndex;
use crate::embed::dot;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

/// Exact search by scanning every vector.
pub struct BruteForce {
    dim: usize,
    ids: Vec<u32>,
    vecs: Vec<f32>,
}

impl BruteForce {
    /// Holds `(id, vector)` pairs of `dim` dimensions.
    pub fn new(dim: usize, items: impl IntoIterator<Item = (u32, Vec<f32>)>) -> Self {
        let mut b = BruteForce {
            dim,
            ids: Vec::new(),
            vecs: Vec::new(),
        };
        for (id, v) in items {
            debug_assert_eq!(v.len(), dim);
            b.ids.push(id);
            b.vecs.extend_from_slice(&v);
        }
        b
    }
}

impl VectorIndex for BruteForce {
    fn search(&self, query: &[f32], k: usize) -> Vec<(u32, f32)> {
        let all: Vec<(u32, f32)> = self
            .ids
            .iter()
            .zip(self.vecs.chunks_exact(self.dim))
            .map(|(&id, v)| (id, dot(query, v)))
            .collect();
        crate::topk::best_k(all, k)
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Seeded clustered unit vectors, for tests and benchmarks.
pub fn synthetic_vectors(n: usize, dim: usize, clusters: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> = (0..clusters.max(1))
        .map(|_| (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect())
        .collect();
    (0..n)
        .map(|_| {
            let c = &centres[rng.gen_range(0..centres.len())];
            let mut v: Vec<f32> = c.iter().map(|x| x + rng.gen_range(-0.6..0.6)).collect();
            crate::embed::normalise(&mut v);
            v
        })
        .collect()
}

/// Mean recall@k of `index` against `oracle` over `queries`, where a result counts when it is
/// as similar to the query as the oracle's k-th (to 1e-5): among items tied at the boundary,
/// any is a right answer. (`recall_at` counts the oracle's own ids only.)
pub fn recall_with_ties(
    index: &dyn VectorIndex,
    oracle: &dyn VectorIndex,
    queries: &[Vec<f32>],
    k: usize,
) -> f64 {
    mean_over(queries, |q| {
        let truth = oracle.search(q, k);
        let Some(kth) = truth.last().map(|t| t.1) else {
            return 0.0;
        };
        let got = index
            .search(q, k)
            .into_iter()
            .filter(|x| x.1 >= kth - 1e-5)
            .count();
        got as f64 / truth.len() as f64
    })
}

/// Mean recall@k of `index` against `oracle` over `queries`.
pub fn recall_at(
    index: &dyn VectorIndex,
    oracle: &dyn VectorIndex,
    queries: &[Vec<f32>],
    k: usize,
) -> f64 {
    mean_over(queries, |q| {
        let truth: HashSet<u32> = oracle.search(q, k).into_iter().map(|x| x.0).collect();
        let got = index
            .search(q, k)
            .into_iter()
            .filter(|x| truth.contains(&x.0))
            .count();
        got as f64 / truth.len().max(1) as f64
    })
}

/// The mean of `per_query` over `queries` (0 for none).
fn mean_over(queries: &[Vec<f32>], per_query: impl Fn(&[f32]) -> f64) -> f64 {
    let sum: f64 = queries.iter().map(|q| per_query(q)).sum();
    sum / queries.len().max(1) as f64
}
