//! The trained ranker: one logistic head per objective (watch, like, share, follow, negative)
//! over features from every stage, learned online by stochastic gradient descent from what was
//! shown and what followed (impressions and their outcomes), so the next request sees the update.
//!
//! The features of a candidate ([`Feature`]): the item's smoothed regional rates (as logits), the
//! co-engagement with the person's recent and skipped videos, the embedding cosine, creator,
//! sound and hashtag affinities, following, the item's regional and worldwide popularity, its
//! freshness, how much is known about the person, popularity scaled by how little is known, and
//! the three personal signals (co-engagement, embedding, batch model) scaled by how much is. The
//! last four are how the engine learns to lean on the crowd for newcomers and on the person as
//! evidence grows, and how far to trust each personal signal at each stage, instead of a
//! hand-set fade. A position feature absorbs the bias of where an item was
//! shown while training and is zero when scoring.
//!
//! The heads start from the published hand-set model (each head's own rate shifted by the
//! weighted personal lift), so an untrained engine ranks as before, and move with evidence.

use serde::{Deserialize, Serialize};

/// Number of features.
pub const NF: usize = 23;
/// Number of heads: watch, like, share, follow, negative.
pub const HEADS: usize = 5;

/// The features, in vector order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Constant 1.
    Bias = 0,
    /// Logit of the item's smoothed regional watch ratio.
    RateWatch,
    /// … like rate.
    RateLike,
    /// … share rate.
    RateShare,
    /// … follow rate.
    RateFollow,
    /// … negative-feedback rate.
    RateNegative,
    /// Co-engagement with the person's recent videos (`ln(1 + 10·ĉ)`, times their trust in it).
    CoEngaged,
    /// Co-engagement with what they recently skipped or rejected.
    Disengaged,
    /// Cosine with their taste vector (positive part).
    Embedding,
    /// `tanh(a/2)` of the creator affinity.
    Creator,
    /// … sound affinity.
    Sound,
    /// … best hashtag affinity.
    Hashtag,
    /// They follow the creator.
    Following,
    /// The item's current regional popularity relative to the most popular candidate's (log scale).
    Popularity,
    /// Popularity in other regions (their private aggregates), relative.
    Worldwide,
    /// How much is known about the person: `ln(1 + n) / ln(51)` of their recent engagements.
    Known,
    /// `Popularity × (1 − Known)`: the crowd's weight for someone little known.
    PopularityUnknown,
    /// Freshness: `2^(−age / 24 h)`.
    Fresh,
    /// The batch item-to-item model's score for the person's recent items.
    Batch,
    /// Position on the page while training (`ln(1 + position)`); zero when scoring.
    Position,
    /// `CoEngaged × Known`: how the weight of co-engagement moves with what is known.
    CoEngagedKnown,
    /// `Embedding × Known`.
    EmbeddingKnown,
    /// `Batch × Known`.
    BatchKnown,
}

/// The ranker: a shared relevance score over every feature, and one logistic head per objective
/// on top of it. Head `k` predicts `σ(b_k + a_k·rate_k + s_k·r)`, where `r = w·x` is the shared
/// relevance, `rate_k` the logit of the item's own smoothed rate for that objective, and `s_k`
/// how much (and which way) relevance moves it. Every label teaches the shared part, so the
/// objectives seldom observed (shares, follows) still rank with what the others learned.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Heads {
    /// The shared relevance weights.
    pub shared: [f32; NF],
    /// Per head: bias `b`, weight of its own rate `a`, scale of the shared relevance `s`.
    pub head: [[f32; 3]; HEADS],
    /// Examples learned.
    pub examples: u64,
    /// How far the final score trusts the batch model and the crowd at each stage of
    /// knowledge, learned by prequential trials (`blend.rs`).
    #[serde(default)]
    pub blend: crate::blend::Blend,
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// What an example teaches each head: a label in `[0, 1]`, or nothing.
pub type Labels = [Option<f32>; HEADS];

impl Heads {
    /// The published hand-set model as a starting point: each head is its own rate shifted by
    /// the weighted personal lift (the negative head by minus it), with a popularity prior for
    /// the little known.
    pub fn initial(cfg: &crate::EngineConfig) -> Heads {
        use Feature as F;
        let l = &cfg.lift;
        let mut shared = [0.0f32; NF];
        shared[F::CoEngaged as usize] = l.coengaged;
        shared[F::Disengaged as usize] = -l.coengaged * l.skipped_share;
        shared[F::Embedding as usize] = l.embedding;
        shared[F::Creator as usize] = l.creator;
        shared[F::Sound as usize] = l.sound;
        shared[F::Hashtag as usize] = l.hashtag;
        shared[F::Following as usize] = l.following;
        shared[F::PopularityUnknown as usize] = 10.0 * cfg.popularity_weight;
        shared[F::Worldwide as usize] = 4.0 * cfg.popularity_weight;
        shared[F::Batch as usize] = 1.0;
        let mut head = [[0.0, 1.0, 1.0]; HEADS];
        head[4][2] = -1.0;
        Heads {
            shared,
            head,
            examples: 0,
            blend: crate::blend::Blend::default(),
        }
    }

    /// The shared relevance of a feature vector.
    pub fn relevance(&self, x: &[f32; NF]) -> f32 {
        self.shared.iter().zip(x).map(|(w, x)| w * x).sum()
    }

    /// The heads' predictions for one feature vector.
    pub fn predict(&self, x: &[f32; NF]) -> [f32; HEADS] {
        let r = self.relevance(x);
        let mut p = [0.0; HEADS];
        for (k, [b, a, s]) in self.head.iter().enumerate() {
            p[k] = sigmoid(b + a * x[Feature::RateWatch as usize + k] + s * r);
        }
        p
    }

    /// One step on a pair: `better` was chosen over `worse` (Bayesian personalised ranking on the
    /// shared relevance: the log loss of `σ(r_better − r_worse)`).
    pub fn learn_pair(&mut self, better: &[f32; NF], worse: &[f32; NF], rate: f32, l2: f32) {
        let d = self.relevance(better) - self.relevance(worse);
        let g = 1.0 - sigmoid(d);
        if !g.is_finite() {
            return;
        }
        for ((w, b), x) in self.shared.iter_mut().zip(better).zip(worse) {
            *w = (*w + rate * (g * (b - x) - l2 * *w)).clamp(-20.0, 20.0);
        }
        self.examples += 1;
    }

    /// One step of stochastic gradient descent on the log loss of each labelled head, with L2
    /// shrinkage of the shared weights towards zero; `weight` scales the step (e.g. an inverse
    /// propensity).
    pub fn learn(&mut self, x: &[f32; NF], labels: &Labels, rate: f32, l2: f32, weight: f32) {
        let r = self.relevance(x);
        let mut g_shared = 0.0f32;
        for (k, label) in labels.iter().enumerate() {
            let Some(y) = label else { continue };
            let [b, a, s] = self.head[k];
            let xk = x[Feature::RateWatch as usize + k];
            let p = sigmoid(b + a * xk + s * r);
            let g = (p - y.clamp(0.0, 1.0)) * weight;
            if !g.is_finite() {
                continue;
            }
            g_shared += g * s;
            let h = &mut self.head[k];
            h[0] = (h[0] - rate * g).clamp(-20.0, 20.0);
            h[1] = (h[1] - rate * g * xk).clamp(-20.0, 20.0);
            h[2] = (h[2] - rate * g * r).clamp(-20.0, 20.0);
        }
        if g_shared != 0.0 {
            for (w, xi) in self.shared.iter_mut().zip(x) {
                *w = (*w - rate * (g_shared * xi + l2 * *w)).clamp(-20.0, 20.0);
            }
        }
        self.examples += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded stream of numbers in `[0, 1)` (a linear congruential generator).
    fn uniform(seed: u64) -> impl FnMut() -> f32 {
        let mut rng = seed;
        move || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) as f32 / (1u64 << 31) as f32
        }
    }

    #[test]
    fn a_head_learns_what_predicts_its_label() {
        let mut h = Heads::initial(&crate::EngineConfig::default());
        let mut next = uniform(7);
        // The like label follows the creator feature alone.
        for _ in 0..20_000 {
            let mut x = [0.0f32; NF];
            x[Feature::Bias as usize] = 1.0;
            x[Feature::Creator as usize] = next();
            x[Feature::Popularity as usize] = next();
            let y = if next() < x[Feature::Creator as usize] {
                1.0
            } else {
                0.0
            };
            h.learn(&x, &[None, Some(y), None, None, None], 0.05, 1e-5, 1.0);
        }
        let at = |c: f32| {
            let mut x = [0.0f32; NF];
            x[Feature::Bias as usize] = 1.0;
            x[Feature::Creator as usize] = c;
            x[Feature::Popularity as usize] = 0.5;
            h.predict(&x)[1]
        };
        assert!(at(0.9) > at(0.1) + 0.4, "{} vs {}", at(0.9), at(0.1));
        assert!((at(0.5) - 0.5).abs() < 0.1, "{}", at(0.5));
        assert_eq!(h.examples, 20_000);
    }

    #[test]
    fn trust_in_a_personal_signal_is_learned_per_stage_of_knowledge() {
        // Co-engagement tells what a well-known person picks; for a newcomer it is noise and
        // popularity decides. The ranker should learn both from the same pairs.
        let mut h = Heads::initial(&crate::EngineConfig::default());
        let mut next = uniform(11);
        let item = |known: f32, co: f32, pop: f32| {
            let mut x = [0.0f32; NF];
            x[Feature::Bias as usize] = 1.0;
            x[Feature::Known as usize] = known;
            x[Feature::CoEngaged as usize] = co;
            x[Feature::CoEngagedKnown as usize] = co * known;
            x[Feature::Popularity as usize] = pop;
            x[Feature::PopularityUnknown as usize] = pop * (1.0 - known);
            x
        };
        for _ in 0..40_000 {
            let known = if next() < 0.5 { 0.0 } else { 1.0 };
            let (a, b) = (item(known, next(), next()), item(known, next(), next()));
            let deciding = if known > 0.5 {
                Feature::CoEngaged
            } else {
                Feature::Popularity
            };
            let (better, worse) = if a[deciding as usize] > b[deciding as usize] {
                (a, b)
            } else {
                (b, a)
            };
            h.learn_pair(&better, &worse, 0.05, 1e-5);
        }
        // What co-engagement adds between two equally popular videos.
        let lift =
            |known: f32| h.relevance(&item(known, 0.9, 0.5)) - h.relevance(&item(known, 0.1, 0.5));
        let (newcomer, well_known) = (lift(0.0), lift(1.0));
        assert!(
            well_known > 1.0,
            "the well known: co-engagement decides ({well_known})"
        );
        assert!(
            newcomer.abs() * 3.0 < well_known,
            "the newcomer: co-engagement is noise ({newcomer} against {well_known})"
        );
        // And popularity decides for the newcomer.
        let pop =
            |known: f32| h.relevance(&item(known, 0.5, 0.9)) - h.relevance(&item(known, 0.5, 0.1));
        assert!(pop(0.0) > 1.0, "{}", pop(0.0));
    }
}
