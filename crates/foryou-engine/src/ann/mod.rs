//! Nearest-neighbour search over item vectors (inner product on unit vectors).
//!
//! `VectorIndex` is the slot; `BruteForce` is the exact oracle and `Hnsw` (Malkov & Yashunin's
//! hierarchical navigable small-world graph) the approximate index the engine serves from. Tests
//! hold HNSW's recall against brute force.

mod beam;
mod job;
mod layout;
mod oracle;
mod store;

pub use job::{BuiltIndex, IndexJob};
use layout::{locality_order, on_threads};
pub use oracle::{recall_at, recall_with_ties, synthetic_vectors, BruteForce};

use crate::embed::dot;
use crate::prefetch::prefetch;
use rand::{Rng, SeedableRng};
use std::cmp::Ordering;

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
    /// 16 links with a build beam of 48: against 12 links with a beam of 100, the engine's
    /// learned vectors (the harder case: near-ties, less clustered) come out at a higher recall
    /// and both they and a million synthetic vectors build faster (BENCHMARKS.md, "The settings
    /// chosen again"); each search weighs a third more links.
    fn default() -> Self {
        HnswConfig {
            m: 16,
            ef_construction: 48,
            ef_search: 512,
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

/// Which nodes a search has reached: a bit per node (a million nodes in 125 KiB, which stays in
/// the processor's nearest caches while a search reads them at random), and the words it set,
/// so the next search clears only those. One per thread, grown to the largest graph it has
/// searched.
struct Visited {
    bits: Vec<u64>,
    touched: Vec<u32>,
}

impl Visited {
    fn start(&mut self, nodes: usize) {
        for &w in &self.touched {
            self.bits[w as usize] = 0;
        }
        self.touched.clear();
        let words = nodes.div_ceil(64);
        if self.bits.len() < words {
            self.bits.resize(words, 0);
        }
    }

    /// Marks `n`; whether it was unmarked.
    fn insert(&mut self, n: u32) -> bool {
        let (w, bit) = ((n >> 6) as usize, 1u64 << (n & 63));
        let word = &mut self.bits[w];
        if *word & bit != 0 {
            return false;
        }
        if *word == 0 {
            self.touched.push(w as u32);
        }
        *word |= bit;
        true
    }
}

thread_local! {
    static VISITED: std::cell::RefCell<Visited> =
        const { std::cell::RefCell::new(Visited { bits: Vec::new(), touched: Vec::new() }) };
}

/// Where a new node goes: its links on each of its levels, chosen against the graph as it was.
struct Placement {
    node: u32,
    /// `links[level]`, level 0 first.
    links: Vec<Vec<u32>>,
}

/// Where a new node's search for its links starts, and the nodes its descent passed on levels
/// 3, 2 and 1 (`u32::MAX` where it did not pass): nodes with the same passes lie in one region.
struct Route {
    node: u32,
    start: Option<u32>,
    region: [u32; 3],
}

/// The largest `m` a graph accepts, and the most links a node then holds on one level
/// (`room(0)`).
const MAX_M: usize = 48;
const MAX_LINKS: usize = 2 * MAX_M + 2 * MAX_M / 3;

/// A hierarchical navigable small-world graph.
pub struct Hnsw {
    cfg: HnswConfig,
    ids: Vec<u32>,
    vecs: store::Vectors,
    /// Layer 0, flat: `1 + room(0)` words per node, a count and then the links.
    layer0: Vec<u32>,
    /// `upper[node][level - 1]`: the links above layer 0 (empty for most nodes).
    upper: Vec<Vec<Vec<u32>>>,
    entry: Option<u32>,
    rng: rand::rngs::StdRng,
}

/// Nodes placed one at a time before the build goes parallel, and the most placed against one
/// frozen graph at once (a small share of it, so the new nodes miss few of each other's links).
const SERIAL_PREFIX: usize = 2_000;
const MAX_BATCH: usize = 16_384;

impl Hnsw {
    /// An empty graph for vectors of `dim` dimensions (`m` is held to 2..=48).
    pub fn new(dim: usize, mut cfg: HnswConfig) -> Self {
        cfg.m = cfg.m.clamp(2, MAX_M);
        let rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
        Hnsw {
            cfg,
            ids: Vec::new(),
            vecs: store::Vectors::new(dim),
            layer0: Vec::new(),
            upper: Vec::new(),
            entry: None,
            rng,
        }
    }

    /// Builds a graph over `(id, unit vector)` pairs on every core this process may use. The
    /// graph depends on the seed and the items only, never on the number of threads: after a
    /// serial start, nodes are placed in batches, each searched in parallel against the graph
    /// as it stood before the batch and then linked in order.
    pub fn build(
        dim: usize,
        cfg: HnswConfig,
        items: impl IntoIterator<Item = (u32, Vec<f32>)>,
    ) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Hnsw::build_with_threads(dim, cfg, items, threads)
    }

    /// As `build`, on `threads` threads.
    pub fn build_with_threads(
        dim: usize,
        cfg: HnswConfig,
        items: impl IntoIterator<Item = (u32, Vec<f32>)>,
        threads: usize,
    ) -> Self {
        let mut h = Hnsw::new(dim, cfg);
        let items: Vec<(u32, Vec<f32>)> = items.into_iter().collect();
        debug_assert!(items.iter().all(|(_, v)| v.len() == dim));
        // Stored so that near vectors lie near in memory; inserted in the order given.
        // Levels are drawn in the order given, so the graph is the one that order would build.
        let levels: Vec<usize> = items.iter().map(|_| h.draw_level()).collect();
        let order = locality_order(&items, threads.max(1));
        let mut node_of = vec![0u32; items.len()];
        for &i in &order {
            let (id, v) = &items[i as usize];
            node_of[i as usize] = h.push_node_at(*id, v, levels[i as usize]);
        }
        drop(items);
        let mut pending: Vec<u32> = Vec::new();
        for (i, &node) in node_of.iter().enumerate() {
            if i <= SERIAL_PREFIX {
                h.link(node);
            } else {
                pending.push(node);
            }
        }
        let mut next = 0;
        while next < pending.len() {
            let placed = SERIAL_PREFIX + 1 + next;
            let batch = (placed / 8).clamp(1, MAX_BATCH).min(pending.len() - next);
            let nodes = &pending[next..next + batch];
            let placements = h.place_parallel(nodes, threads.max(1));
            for p in placements {
                h.apply(p);
            }
            next += batch;
        }
        h
    }

    fn stride(&self) -> usize {
        1 + self.room(0)
    }

    /// Links a node keeps on `level` after its list is chosen again.
    fn cap(&self, level: usize) -> usize {
        if level == 0 {
            2 * self.cfg.m
        } else {
            self.cfg.m
        }
    }

    /// Links a node may hold on `level` before its list is chosen again: a third more than
    /// `cap`, so the heuristic re-choice (quadratic in the links) runs once per several new
    /// links rather than on each.
    fn room(&self, level: usize) -> usize {
        let cap = self.cap(level);
        cap + cap / 3
    }

    fn vec(&self, n: u32) -> &[f32] {
        self.vecs.get(n)
    }

    fn sim(&self, q: &[f32], n: u32) -> f32 {
        dot(q, self.vec(n))
    }

    fn top_level(&self, n: u32) -> usize {
        self.upper[n as usize].len()
    }

    fn neighbours(&self, n: u32, level: usize) -> &[u32] {
        if level == 0 {
            let s = n as usize * self.stride();
            let count = self.layer0[s] as usize;
            &self.layer0[s + 1..s + 1 + count]
        } else {
            &self.upper[n as usize][level - 1]
        }
    }

    /// The memory holding a node's links on `level` (for prefetching).
    fn neighbour_row(&self, n: u32, level: usize) -> &[u32] {
        if level == 0 {
            let s = n as usize * self.stride();
            &self.layer0[s..s + self.stride()]
        } else {
            &self.upper[n as usize][level - 1]
        }
    }

    fn set_neighbours(&mut self, n: u32, level: usize, links: &[u32]) {
        if level == 0 {
            let s = n as usize * self.stride();
            let count = links.len().min(self.room(0));
            self.layer0[s] = count as u32;
            self.layer0[s + 1..s + 1 + count].copy_from_slice(&links[..count]);
        } else {
            self.upper[n as usize][level - 1] = links.to_vec();
        }
    }

    /// Stores a vector and draws its level; it is not linked yet.
    fn push_node(&mut self, id: u32, v: &[f32]) -> u32 {
        let level = self.draw_level();
        self.push_node_at(id, v, level)
    }

    /// A new node's top level: geometric, a node in `m` reaching each next level.
    fn draw_level(&mut self) -> usize {
        let ml = 1.0 / (self.cfg.m.max(2) as f64).ln();
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        ((-u.ln() * ml) as usize).min(16)
    }

    /// Stores a vector with the given top level; it is not linked yet.
    fn push_node_at(&mut self, id: u32, v: &[f32], level: usize) -> u32 {
        // A 2^31-node graph would need a quarter of a terabyte for 32-d vectors alone.
        assert!(
            self.ids.len() < beam::MAX_NODES,
            "an index holds fewer than 2^31 vectors"
        );
        let node = self.ids.len() as u32;
        self.ids.push(id);
        self.vecs.push(v);
        let stride = self.stride();
        self.layer0.resize(self.layer0.len() + stride, 0);
        self.upper.push(vec![Vec::new(); level]);
        node
    }

    /// The `ef` nodes nearest `q` on `level`, starting from `entry`, best first.
    fn search_level(&self, q: &[f32], entry: &[u32], ef: usize, level: usize) -> Vec<Near> {
        VISITED.with(|visited| {
            let mut visited = visited.borrow_mut();
            visited.start(self.ids.len());
            let mut beam = beam::Beam::new(ef);
            for &e in entry {
                if visited.insert(e) {
                    beam.insert(Near(self.sim(q, e), e));
                }
            }
            while let Some(c) = beam.expand_next() {
                // The next candidate's links load while this one's neighbours are weighed.
                if let Some(next) = beam.peek_next() {
                    prefetch(self.neighbour_row(next.1, level));
                }
                // The unvisited neighbours first, each vector's fetch from memory started,
                // so the waits overlap instead of following one another.
                let mut fresh = [0u32; MAX_LINKS];
                let mut n_fresh = 0;
                for &nb in self.neighbours(c.1, level) {
                    if visited.insert(nb) && n_fresh < MAX_LINKS {
                        prefetch(self.vec(nb));
                        fresh[n_fresh] = nb;
                        n_fresh += 1;
                    }
                }
                for &nb in &fresh[..n_fresh] {
                    let s = self.sim(q, nb);
                    if beam.admits(s) {
                        beam.insert(Near(s, nb));
                    }
                }
            }
            beam.into_sorted()
        })
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

    /// Chooses a pushed node's links against the graph as it is (reads only).
    fn place(&self, node: u32) -> Placement {
        self.place_from(&self.route(node))
    }

    /// The greedy descent of a pushed node from the top of the graph to its own levels.
    fn route(&self, node: u32) -> Route {
        let mut region = [u32::MAX; 3];
        let Some(mut ep) = self.entry else {
            return Route {
                node,
                start: None,
                region,
            };
        };
        let levels = self.top_level(node) + 1;
        let q = self.vec(node);
        for l in (levels..=self.top_level(ep)).rev() {
            ep = self.search_level(q, &[ep], 1, l)[0].1;
            if (1..=3).contains(&l) {
                region[3 - l] = ep;
            }
        }
        Route {
            node,
            start: Some(ep),
            region,
        }
    }

    /// Chooses a node's links from where its route ends (reads only).
    fn place_from(&self, route: &Route) -> Placement {
        let node = route.node;
        let levels = self.top_level(node) + 1;
        let mut links = vec![Vec::new(); levels];
        let (Some(ep), Some(entry)) = (route.start, self.entry) else {
            return Placement { node, links };
        };
        let q = self.vec(node);
        let top = self.top_level(entry);
        let mut eps = vec![ep];
        for l in (0..levels.min(top + 1)).rev() {
            let found = self.search_level(q, &eps, self.cfg.ef_construction, l);
            links[l] = self.select(&found, self.cfg.m);
            eps = found.iter().map(|n| n.1).collect();
        }
        Placement { node, links }
    }

    /// Places `nodes` against the current graph, split over `threads`; the result is in the
    /// nodes' order. Each node's links depend only on the graph as it stood, so the nodes are
    /// placed in whatever order is fastest: grouped by the region of the graph their descent
    /// reached, so that consecutive searches read the vectors and links the previous ones left
    /// in the processor's caches (a search is bound by the wait for each neighbour's vector).
    fn place_parallel(&self, nodes: &[u32], threads: usize) -> Vec<Placement> {
        if nodes.len() < 64 {
            return nodes.iter().map(|&n| self.place(n)).collect();
        }
        let mut routes: Vec<(usize, Route)> = on_threads(
            &nodes.iter().enumerate().collect::<Vec<_>>(),
            threads,
            |&(k, &n)| (k, self.route(n)),
        );
        routes.sort_unstable_by_key(|(k, r)| (r.region, *k));
        let mut placed: Vec<(usize, Placement)> =
            on_threads(&routes, threads, |(k, r)| (*k, self.place_from(r)));
        placed.sort_unstable_by_key(|(k, _)| *k);
        placed.into_iter().map(|(_, p)| p).collect()
    }

    /// Links a placed node into the graph, pruning neighbours that go over capacity.
    fn apply(&mut self, p: Placement) {
        let node = p.node;
        for (l, chosen) in p.links.iter().enumerate() {
            let (cap, room) = (self.cap(l), self.room(l));
            // Every neighbour's links load at once rather than one after another.
            for &nb in chosen {
                prefetch(self.neighbour_row(nb, l));
            }
            for &nb in chosen {
                let mut theirs = self.neighbours(nb, l).to_vec();
                theirs.push(node);
                if theirs.len() > room {
                    // Over capacity: the neighbour's links are chosen again by the same
                    // heuristic, so they stay spread across clusters rather than all pointing
                    // into the nearest one.
                    let nv = self.vec(nb);
                    for &x in &theirs {
                        prefetch(self.vec(x));
                    }
                    let mut near: Vec<Near> = theirs
                        .iter()
                        .map(|&x| Near(dot(nv, self.vec(x)), x))
                        .collect();
                    near.sort_by(|a, b| b.cmp(a));
                    theirs = self.select(&near, cap);
                }
                self.set_neighbours(nb, l, &theirs);
            }
            self.set_neighbours(node, l, chosen);
        }
        let level = self.top_level(node);
        match self.entry {
            Some(ep) if self.top_level(ep) >= level => {}
            _ => self.entry = Some(node),
        }
    }

    fn link(&mut self, node: u32) {
        let p = self.place(node);
        self.apply(p);
    }

    /// Adds one vector, linked at once (an index kept current between builds).
    pub fn insert(&mut self, id: u32, v: &[f32]) {
        let node = self.push_node(id, v);
        self.link(node);
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

#[cfg(test)]
mod tests;
