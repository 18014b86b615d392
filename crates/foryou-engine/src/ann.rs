//! Nearest-neighbour search over item vectors (inner product on unit vectors).
//!
//! `VectorIndex` is the slot; `BruteForce` is the exact oracle and `Hnsw` (Malkov & Yashunin's
//! hierarchical navigable small-world graph) the approximate index the engine serves from. Tests
//! hold HNSW's recall against brute force.

use crate::embed::dot;
use rand::{Rng, SeedableRng};
use rustc_hash::FxHashSet;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};

/// An index of unit vectors, searched by inner product.
pub trait VectorIndex: Send + Sync {
    /// The `k` ids most similar to `query`, best first, with their similarity.
    fn search(&self, query: &[f32], k: usize) -> Vec<(u32, f32)>;
    /// Number of vectors held.
    fn len(&self) -> usize;
    /// Whether the index is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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
        let mut all: Vec<(u32, f32)> = self
            .ids
            .iter()
            .zip(self.vecs.chunks_exact(self.dim))
            .map(|(&id, v)| (id, dot(query, v)))
            .collect();
        let k = k.min(all.len());
        if k == 0 {
            return Vec::new();
        }
        all.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        all.truncate(k);
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Settings of the HNSW graph.
#[derive(Clone, Debug)]
pub struct HnswConfig {
    /// Links per node on upper layers (twice that on layer 0).
    pub m: usize,
    /// Beam width while building.
    pub ef_construction: usize,
    /// Beam width while searching (at least `k`).
    pub ef_search: usize,
    /// Seed of the level draw.
    pub seed: u64,
}

impl Default for HnswConfig {
    fn default() -> Self {
        HnswConfig {
            m: 16,
            ef_construction: 100,
            ef_search: 256,
            seed: 42,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
struct Near(f32, u32);
impl Eq for Near {}
impl PartialOrd for Near {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Near {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

/// A hierarchical navigable small-world graph.
pub struct Hnsw {
    cfg: HnswConfig,
    dim: usize,
    ids: Vec<u32>,
    vecs: Vec<f32>,
    /// `links[node][level]`.
    links: Vec<Vec<Vec<u32>>>,
    entry: Option<u32>,
    rng: rand::rngs::StdRng,
}

impl Hnsw {
    /// An empty graph for vectors of `dim` dimensions.
    pub fn new(dim: usize, cfg: HnswConfig) -> Self {
        let rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
        Hnsw {
            cfg,
            dim,
            ids: Vec::new(),
            vecs: Vec::new(),
            links: Vec::new(),
            entry: None,
            rng,
        }
    }

    /// Builds a graph over `(id, unit vector)` pairs.
    pub fn build(
        dim: usize,
        cfg: HnswConfig,
        items: impl IntoIterator<Item = (u32, Vec<f32>)>,
    ) -> Self {
        let mut h = Hnsw::new(dim, cfg);
        for (id, v) in items {
            h.insert(id, &v);
        }
        h
    }

    fn vec(&self, n: u32) -> &[f32] {
        let s = n as usize * self.dim;
        &self.vecs[s..s + self.dim]
    }

    fn sim(&self, q: &[f32], n: u32) -> f32 {
        dot(q, self.vec(n))
    }

    fn top_level(&self, n: u32) -> usize {
        self.links[n as usize].len() - 1
    }

    /// The `ef` nodes nearest `q` on `level`, starting from `entry`, best first.
    fn search_level(&self, q: &[f32], entry: &[u32], ef: usize, level: usize) -> Vec<Near> {
        let mut visited: FxHashSet<u32> = FxHashSet::default();
        visited.reserve(ef * 8);
        visited.extend(entry.iter().copied());
        let mut frontier: BinaryHeap<Near> = BinaryHeap::new();
        // Worst-first heap of the best `ef` found so far.
        let mut found: BinaryHeap<std::cmp::Reverse<Near>> = BinaryHeap::new();
        for &e in entry {
            let n = Near(self.sim(q, e), e);
            frontier.push(n);
            found.push(std::cmp::Reverse(n));
        }
        while let Some(c) = frontier.pop() {
            let worst = found.peek().map(|w| w.0 .0).unwrap_or(f32::MIN);
            if c.0 < worst && found.len() >= ef {
                break;
            }
            for &nb in &self.links[c.1 as usize][level] {
                if !visited.insert(nb) {
                    continue;
                }
                let s = self.sim(q, nb);
                let worst = found.peek().map(|w| w.0 .0).unwrap_or(f32::MIN);
                if found.len() < ef || s > worst {
                    frontier.push(Near(s, nb));
                    found.push(std::cmp::Reverse(Near(s, nb)));
                    if found.len() > ef {
                        found.pop();
                    }
                }
            }
        }
        let mut out: Vec<Near> = found.into_iter().map(|r| r.0).collect();
        out.sort_by(|a, b| b.cmp(a));
        out
    }

    /// Keeps up to `m` candidates that are nearer the new node than to any already kept
    /// (the HNSW heuristic, which keeps links spread across clusters).
    fn select(&self, candidates: &[Near], m: usize) -> Vec<u32> {
        let mut kept: Vec<u32> = Vec::with_capacity(m);
        for c in candidates {
            if kept.len() >= m {
                break;
            }
            let v = self.vec(c.1);
            if kept.iter().all(|&k| dot(v, self.vec(k)) < c.0) {
                kept.push(c.1);
            }
        }
        for c in candidates {
            if kept.len() >= m {
                break;
            }
            if !kept.contains(&c.1) {
                kept.push(c.1);
            }
        }
        kept
    }

    /// Adds one vector.
    pub fn insert(&mut self, id: u32, v: &[f32]) {
        let node = self.ids.len() as u32;
        self.ids.push(id);
        self.vecs.extend_from_slice(v);
        let ml = 1.0 / (self.cfg.m.max(2) as f64).ln();
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        let level = ((-u.ln() * ml) as usize).min(16);
        self.links.push(vec![Vec::new(); level + 1]);
        let Some(mut ep) = self.entry else {
            self.entry = Some(node);
            return;
        };
        let q = v.to_vec();
        let top = self.top_level(ep);
        for l in (level + 1..=top).rev() {
            ep = self.search_level(&q, &[ep], 1, l)[0].1;
        }
        let mut eps = vec![ep];
        for l in (0..=level.min(top)).rev() {
            let found = self.search_level(&q, &eps, self.cfg.ef_construction, l);
            let cap = if l == 0 { 2 * self.cfg.m } else { self.cfg.m };
            let chosen = self.select(&found, self.cfg.m);
            for &nb in &chosen {
                self.links[nb as usize][l].push(node);
                if self.links[nb as usize][l].len() > cap {
                    // Over capacity: drop the link farthest from the neighbour (cheap, and the
                    // heuristic already spread the links when they were chosen).
                    let nv = self.vec(nb);
                    let (far, _) = self.links[nb as usize][l]
                        .iter()
                        .enumerate()
                        .map(|(k, &x)| (k, dot(nv, self.vec(x))))
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .expect("over capacity, so not empty");
                    self.links[nb as usize][l].swap_remove(far);
                }
            }
            self.links[node as usize][l] = chosen;
            eps = found.iter().map(|n| n.1).collect();
        }
        if level > top {
            self.entry = Some(node);
        }
    }
}

impl VectorIndex for Hnsw {
    fn search(&self, query: &[f32], k: usize) -> Vec<(u32, f32)> {
        let Some(mut ep) = self.entry else {
            return Vec::new();
        };
        for l in (1..=self.top_level(ep)).rev() {
            ep = self.search_level(query, &[ep], 1, l)[0].1;
        }
        let mut found = self.search_level(query, &[ep], self.cfg.ef_search.max(k), 0);
        found.truncate(k);
        found
            .into_iter()
            .map(|n| (self.ids[n.1 as usize], n.0))
            .collect()
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

/// Mean recall@k of `index` against `oracle` over `queries`.
pub fn recall_at(
    index: &dyn VectorIndex,
    oracle: &dyn VectorIndex,
    queries: &[Vec<f32>],
    k: usize,
) -> f64 {
    let mut sum = 0.0;
    for q in queries {
        let truth: HashSet<u32> = oracle.search(q, k).into_iter().map(|x| x.0).collect();
        let got = index
            .search(q, k)
            .into_iter()
            .filter(|x| truth.contains(&x.0))
            .count();
        sum += got as f64 / truth.len().max(1) as f64;
    }
    sum / queries.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hnsw_finds_what_brute_force_finds() {
        let dim = 16;
        let data = synthetic_vectors(3000, dim, 30, 1);
        // Held-out queries from the same distribution (the same seed draws the same clusters).
        let items = || data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v));
        let exact = BruteForce::new(dim, items());
        let hnsw = Hnsw::build(dim, HnswConfig::default(), items());
        let queries: Vec<Vec<f32>> = synthetic_vectors(3050, dim, 30, 1).split_off(3000);
        let r = recall_at(&hnsw, &exact, &queries, 100);
        assert!(r >= 0.95, "recall@100 {r}");
        // An indexed vector is its own nearest neighbour.
        assert_eq!(hnsw.search(&data[17], 1)[0].0, 17);
        assert_eq!(exact.search(&data[17], 1)[0].0, 17);
    }

    #[test]
    fn empty_and_tiny_indexes_answer() {
        let h = Hnsw::new(4, HnswConfig::default());
        assert!(h.search(&[1.0, 0.0, 0.0, 0.0], 5).is_empty());
        let b = BruteForce::new(4, vec![(9, vec![1.0, 0.0, 0.0, 0.0])]);
        assert_eq!(b.search(&[1.0, 0.0, 0.0, 0.0], 5), vec![(9, 1.0)]);
    }
}
