//! Nearest-neighbour search over item vectors (inner product on unit vectors).
//!
//! `VectorIndex` is the slot; `BruteForce` is the exact oracle and `Hnsw` (Malkov & Yashunin's
//! hierarchical navigable small-world graph) the approximate index the engine serves from. Tests
//! hold HNSW's recall against brute force.

mod oracle;

pub use oracle::{recall_at, recall_with_ties, synthetic_vectors, BruteForce};

use crate::embed::dot;
use crate::prefetch::prefetch;
use rand::{Rng, SeedableRng};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

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
    fn default() -> Self {
        HnswConfig {
            m: 12,
            ef_construction: 100,
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

/// `f` over `items` on up to `threads` threads, the results in the items' order.
fn on_threads<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if threads <= 1 || items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("an index build worker panicked"))
            .collect()
    })
}

/// The largest `m` a graph accepts, and the most links a node then holds on one level
/// (`room(0)`).
const MAX_M: usize = 48;
const MAX_LINKS: usize = 2 * MAX_M + 2 * MAX_M / 3;

/// A hierarchical navigable small-world graph.
pub struct Hnsw {
    cfg: HnswConfig,
    dim: usize,
    ids: Vec<u32>,
    vecs: Vec<f32>,
    /// Layer 0, flat: `1 + 2m` words per node, a count and then the links.
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
            dim,
            ids: Vec::new(),
            vecs: Vec::new(),
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
        let mut pending: Vec<u32> = Vec::new();
        for (id, v) in items {
            debug_assert_eq!(v.len(), dim);
            let node = h.push_node(id, &v);
            if node as usize <= SERIAL_PREFIX {
                h.link(node);
            } else {
                pending.push(node);
            }
        }
        let mut next = 0;
        while next < pending.len() {
            let placed = pending[0].saturating_add(next as u32) as usize;
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
        let s = n as usize * self.dim;
        &self.vecs[s..s + self.dim]
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
        let node = self.ids.len() as u32;
        self.ids.push(id);
        self.vecs.extend_from_slice(v);
        let ml = 1.0 / (self.cfg.m.max(2) as f64).ln();
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        let level = ((-u.ln() * ml) as usize).min(16);
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
            let mut frontier: BinaryHeap<Near> = BinaryHeap::with_capacity(ef * 2);
            // Worst-first heap of the best `ef` found so far.
            let mut found: BinaryHeap<std::cmp::Reverse<Near>> = BinaryHeap::with_capacity(ef + 1);
            for &e in entry {
                if !visited.insert(e) {
                    continue;
                }
                let n = Near(self.sim(q, e), e);
                frontier.push(n);
                found.push(std::cmp::Reverse(n));
                if found.len() > ef {
                    found.pop();
                }
            }
            while let Some(c) = frontier.pop() {
                let worst = found.peek().map(|w| w.0 .0).unwrap_or(f32::MIN);
                if c.0 < worst && found.len() >= ef {
                    break;
                }
                // The next candidate's links load while this one's neighbours are weighed.
                if let Some(next) = frontier.peek() {
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

    /// Places `nodes` (ascending) against the current graph, split over `threads`; the result
    /// is in order. Each node's links depend only on the graph as it stood, so the nodes are
    /// placed in whatever order is fastest: grouped by the region of the graph their descent
    /// reached, so that consecutive searches read the vectors and links the previous ones left
    /// in the processor's caches (a search is bound by the wait for each neighbour's vector).
    fn place_parallel(&self, nodes: &[u32], threads: usize) -> Vec<Placement> {
        debug_assert!(nodes.windows(2).all(|w| w[0] < w[1]));
        if nodes.len() < 64 {
            return nodes.iter().map(|&n| self.place(n)).collect();
        }
        let mut routes = on_threads(nodes, threads, |&n| self.route(n));
        routes.sort_unstable_by_key(|r| (r.region, r.node));
        let mut placed = on_threads(&routes, threads, |r| self.place_from(r));
        placed.sort_unstable_by_key(|p| p.node);
        placed
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
mod tests {
    use super::*;

    /// A graph over `data`, each vector's id its place in it.
    fn built_over(dim: usize, data: &[Vec<f32>]) -> Hnsw {
        let items = data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v));
        Hnsw::build(dim, HnswConfig::default(), items)
    }

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
    fn a_parallel_build_is_the_serial_build_and_keeps_recall() {
        let dim = 16;
        // Past the serial start, so several batches are placed in parallel.
        let data = synthetic_vectors(9000, dim, 40, 3);
        let items = || data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v));
        let one = Hnsw::build_with_threads(dim, HnswConfig::default(), items(), 1);
        let four = Hnsw::build_with_threads(dim, HnswConfig::default(), items(), 4);
        assert_eq!(one.layer0, four.layer0, "thread count changed the graph");
        assert_eq!(one.upper, four.upper);
        let exact = BruteForce::new(dim, items());
        let queries: Vec<Vec<f32>> = synthetic_vectors(9100, dim, 40, 3).split_off(9000);
        let r = recall_at(&four, &exact, &queries, 100);
        assert!(r >= 0.95, "recall@100 {r}");
    }

    #[test]
    fn placing_a_batch_by_region_gives_each_node_the_links_it_gets_alone() {
        let dim = 16;
        let data = synthetic_vectors(6000, dim, 30, 8);
        let mut h = built_over(dim, &data[..5000]);
        let nodes: Vec<u32> = data[5000..]
            .iter()
            .enumerate()
            .map(|(i, v)| h.push_node(5000 + i as u32, v))
            .collect();
        let alone: Vec<Vec<Vec<u32>>> = nodes.iter().map(|&n| h.place(n).links).collect();
        for threads in [1, 3] {
            let batch = h.place_parallel(&nodes, threads);
            let got: Vec<u32> = batch.iter().map(|p| p.node).collect();
            assert_eq!(got, nodes, "placements come back in the nodes' order");
            let links: Vec<Vec<Vec<u32>>> = batch.into_iter().map(|p| p.links).collect();
            assert_eq!(links, alone);
        }
    }

    #[test]
    fn inserts_after_a_build_are_found() {
        let dim = 16;
        let data = synthetic_vectors(4000, dim, 20, 5);
        let mut h = built_over(dim, &data[..3000]);
        for (i, v) in data.iter().enumerate().skip(3000) {
            h.insert(i as u32, v);
        }
        assert_eq!(h.len(), 4000);
        let exact = BruteForce::new(
            dim,
            data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v)),
        );
        let queries: Vec<Vec<f32>> = data[3000..3100].to_vec();
        assert!(recall_at(&h, &exact, &queries, 50) >= 0.95);
        assert_eq!(h.search(&data[3999], 1)[0].0, 3999);
    }

    #[test]
    fn empty_and_tiny_indexes_answer() {
        let h = Hnsw::new(4, HnswConfig::default());
        assert!(h.search(&[1.0, 0.0, 0.0, 0.0], 5).is_empty());
        let b = BruteForce::new(4, vec![(9, vec![1.0, 0.0, 0.0, 0.0])]);
        assert_eq!(b.search(&[1.0, 0.0, 0.0, 0.0], 5), vec![(9, 1.0)]);
    }
}
