//! Item embeddings learned online from engagement sequences (skip-gram with negative sampling, as
//! in item2vec): items engaged close together are pulled together, random items pushed apart.
//! A user's vector is the recency-weighted mean of their recent items' vectors, so it moves with
//! every event. A new item starts at the centroid of its creator, sound and hashtags, which places
//! it before anyone has watched it.

use rand::Rng;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Settings of the embedding learner.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmbedConfig {
    /// Dimensions.
    pub dim: usize,
    /// Previous engagements each new one is paired with.
    pub window: usize,
    /// Random negatives per engagement.
    pub negatives: usize,
    /// SGD step.
    pub learning_rate: f32,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        EmbedConfig {
            dim: 32,
            window: 5,
            negatives: 5,
            learning_rate: 0.05,
        }
    }
}

/// Content groups whose centroid places a new item: creator, sound, hashtag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Group {
    /// A creator (interned index).
    Creator(u32),
    /// A sound.
    Sound(u32),
    /// A hashtag.
    Tag(u32),
}

/// The embedding table.
#[derive(Serialize, Deserialize)]
pub struct Embeddings {
    dim: usize,
    vecs: Vec<f32>,
    centroids: FxHashMap<Group, Vec<f32>>,
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-30.0, 30.0)).exp())
}

/// Dot product.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight running sums, so the compiler can keep them in one vector register.
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalise(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 1e-9 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

impl Embeddings {
    /// An empty table of `dim` dimensions.
    pub fn new(dim: usize) -> Self {
        Embeddings {
            dim: dim.max(1),
            vecs: Vec::new(),
            centroids: FxHashMap::default(),
        }
    }

    /// Dimensions.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of items with a vector.
    pub fn len(&self) -> usize {
        self.vecs.len() / self.dim
    }

    /// Whether no item has a vector.
    pub fn is_empty(&self) -> bool {
        self.vecs.is_empty()
    }

    /// The vector of item `i`.
    pub fn get(&self, i: u32) -> &[f32] {
        let s = i as usize * self.dim;
        &self.vecs[s..s + self.dim]
    }

    /// Gives item `i` (the next slot) its first vector: its groups' centroid plus a little noise.
    pub fn add(&mut self, i: u32, groups: &[Group], rng: &mut impl Rng) {
        let d = self.dim;
        let start = i as usize * d;
        if self.vecs.len() < start + d {
            self.vecs.resize(start + d, 0.0);
        }
        let mut v = vec![0f32; d];
        let mut n = 0;
        for g in groups {
            if let Some(c) = self.centroids.get(g) {
                v.iter_mut().zip(c).for_each(|(a, b)| *a += b);
                n += 1;
            }
        }
        let noise = 0.5 / (d as f32).sqrt();
        for x in &mut v {
            *x = if n > 0 { *x / n as f32 } else { 0.0 } + rng.gen_range(-noise..noise) * 0.5;
        }
        self.vecs[start..start + d].copy_from_slice(&v);
    }

    fn pair(&mut self, a: u32, b: u32, label: f32, lr: f32) {
        if a == b {
            return;
        }
        let d = self.dim;
        let (sa, sb) = (a as usize * d, b as usize * d);
        let g = (label - sigmoid(dot(&self.vecs[sa..sa + d], &self.vecs[sb..sb + d]))) * lr;
        for k in 0..d {
            let (x, y) = (self.vecs[sa + k], self.vecs[sb + k]);
            self.vecs[sa + k] += g * y;
            self.vecs[sb + k] += g * x;
        }
    }

    /// Learns that `item` was engaged after `recent` (oldest first), and moves its groups' centroids.
    pub fn learn(
        &mut self,
        item: u32,
        recent: &[(u32, f32)],
        groups: &[Group],
        cfg: &EmbedConfig,
        rng: &mut impl Rng,
    ) {
        let n = self.len() as u32;
        if item >= n {
            return;
        }
        // The negatives are drawn first, so every vector the steps read (each a cache miss in a
        // large catalog) starts loading before the first step waits for one.
        let negatives: Vec<u32> = if recent.is_empty() {
            Vec::new()
        } else {
            (0..cfg.negatives).map(|_| rng.gen_range(0..n)).collect()
        };
        let d = self.dim;
        let window = recent.iter().rev().take(cfg.window).map(|r| r.0);
        for j in window.clone().chain(negatives.iter().copied()) {
            if j < n {
                crate::prefetch::prefetch(&self.vecs[j as usize * d..(j as usize + 1) * d]);
            }
        }
        for j in window {
            if j < n {
                self.pair(item, j, 1.0, cfg.learning_rate);
            }
        }
        for &r in &negatives {
            self.pair(item, r, 0.0, cfg.learning_rate);
        }
        let s = item as usize * d;
        for g in groups {
            let c = self.centroids.entry(*g).or_insert_with(|| vec![0.0; d]);
            for (ck, vk) in c.iter_mut().zip(&self.vecs[s..s + d]) {
                *ck += 0.1 * (vk - *ck);
            }
        }
    }

    /// The weighted mean of items' vectors, unit length; `None` when there is nothing to average.
    pub fn mean(&self, items: &[(u32, f32)]) -> Option<Vec<f32>> {
        let mut v = vec![0f32; self.dim];
        let mut any = false;
        for &(i, w) in items {
            if (i as usize) < self.len() {
                v.iter_mut().zip(self.get(i)).for_each(|(a, b)| *a += w * b);
                any = true;
            }
        }
        normalise(&mut v);
        (any && dot(&v, &v) > 0.5).then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn items_engaged_together_move_closer_than_random_ones() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut e = Embeddings::new(16);
        for i in 0..200 {
            e.add(i, &[], &mut rng);
        }
        let cfg = EmbedConfig::default();
        // Two tight groups engaged in sequences: 0..10 and 10..20.
        for _ in 0..300 {
            for base in [0u32, 10] {
                let mut recent = Vec::new();
                for k in 0..10 {
                    let i = base + (k * 3 + rng.gen_range(0..10)) % 10;
                    e.learn(i, &recent, &[], &cfg, &mut rng);
                    recent.push((i, 1.0));
                }
            }
        }
        let cos = |a: u32, b: u32| {
            let (x, y) = (e.get(a), e.get(b));
            dot(x, y) / (dot(x, x).sqrt() * dot(y, y).sqrt())
        };
        assert!(cos(1, 2) > cos(1, 12) + 0.3, "{} {}", cos(1, 2), cos(1, 12));
    }
}
