//! The multi-objective ranker.
//!
//! Each objective's prediction starts from the item's own rate in this region, smoothed towards
//! the region's mean (`prior_strength` pseudo-exposures), and is shifted on the logit scale by the
//! user's personal lift `z`:
//!
//! `p_k = σ(logit(rate_k) + z)` for watch ratio, like, share and follow; `p_neg = σ(logit(rate_neg) − z)`;
//!
//! `z = coengaged·t·(ln(1 + 10·ĉ) − s·ln(1 + 10·ŝ)) + embedding·max(e, 0) + creator·tanh(a_c/2)
//!      + sound·tanh(a_s/2) + hashtag·tanh(a_t/2) + following·f`,
//!
//! where `ĉ` is the recency-weighted mean co-engagement cosine with the user's recent videos,
//! `ŝ` the same with what they recently skipped or rejected (the neighbours of a skipped video sink
//! with it), `t` the user's learned trust in co-engagement (see `learn_affinity`), `e` the cosine with the user's taste vector and `a_*` the learned affinities.
//!
//! The score is `Σ weight_k·p_k − negative·p_neg + popularity·(1 − n/5)⁺·π`, where `π` is the
//! item's current regional popularity relative to the best candidate's and `n` the number of the
//! user's recent engagements: popularity is the prior that personal evidence replaces. The weights
//! are `ObjectiveWeights` and `LiftWeights`, published in the config and in ARCHITECTURE.md.

use crate::pipeline::{Candidate, Query, Scorer};
use crate::state::Stats;

/// Scale of the co-engagement feature: `ln(1 + 10·ĉ)` grows without saturating, slowly.
const COENGAGED_SCALE: f32 = 10.0;

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-3, 1.0 - 1e-3);
    (p / (1.0 - p)).ln()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Smoothed rates of one item: watch, like, share, follow, negative.
pub fn rates(st: &Stats, totals: &Stats, prior_strength: f32) -> [f32; 5] {
    let e = totals.exposures.max(1.0);
    let means = [
        totals.watch / e,
        totals.likes / e,
        totals.shares / e,
        totals.follows / e,
        totals.negatives / e,
    ];
    let own = [st.watch, st.likes, st.shares, st.follows, st.negatives];
    let mut out = [0.0; 5];
    for k in 0..5 {
        let mean = means[k].clamp(0.0, 1.0);
        out[k] = (own[k].max(0.0) + prior_strength * mean) / (st.exposures + prior_strength);
    }
    out
}

/// The published multi-objective score (see the module documentation).
pub struct MultiObjective;

impl Scorer for MultiObjective {
    fn name(&self) -> &'static str {
        "multi_objective"
    }
    fn score(&self, q: &Query, cands: &mut [Candidate]) {
        score(q, cands)
    }
}

/// Scores every candidate (hydrated) for the request.
pub fn score(q: &Query, cands: &mut [Candidate]) {
    let cfg = q.config;
    let w = &cfg.objectives;
    let l = &cfg.lift;
    // Co-engagement as the recency-weighted mean cosine to the user's history.
    let history_mass: f32 = q.history.iter().map(|h| h.1).sum::<f32>().max(1e-6);
    let negative_mass: f32 = q.negative.iter().map(|h| h.1).sum::<f32>().max(1e-6);
    let now_factor = q.state.pop_scale(q.req.now_ms, cfg.popularity_half_life_h);
    let pops: Vec<f32> = cands
        .iter()
        .map(|c| ((1.0 + q.state.items[c.item as usize].pop * now_factor).ln()) as f32)
        .collect();
    let max_pop = pops.iter().copied().fold(0.0f32, f32::max).max(1e-6);
    let personal = q.user.is_some();
    // Popularity is the prior that personal evidence replaces: full weight for a user with no
    // history, none from five recent engagements on.
    let pop_weight = cfg.popularity_weight * (1.0 - q.history.len() as f32 / 5.0).max(0.0);
    let pop_weight = if personal {
        pop_weight
    } else {
        cfg.popularity_weight
    };
    for (c, pop) in cands.iter_mut().zip(pops) {
        let st = &q.state.items[c.item as usize].stats;
        let r = rates(st, &q.state.totals.sum, cfg.prior_strength);
        if personal {
            let co = (COENGAGED_SCALE * c.coengaged / history_mass).ln_1p();
            let anti = (COENGAGED_SCALE * c.disengaged / negative_mass).ln_1p();
            let trust = q.user.map_or(1.0, |u| u.trust_coengaged);
            c.lifts = [
                l.coengaged * trust * (co - l.skipped_share * anti),
                l.embedding * c.embedding.max(0.0),
                l.creator * (c.creator_aff / 2.0).tanh(),
                l.sound * (c.sound_aff / 2.0).tanh(),
                l.hashtag * (c.tag_aff.1 / 2.0).tanh(),
                if c.following { l.following } else { 0.0 },
            ];
        }
        let z: f32 = c.lifts.iter().sum();
        let p = [
            sigmoid(logit(r[0]) + z),
            sigmoid(logit(r[1]) + z),
            sigmoid(logit(r[2]) + z),
            if c.following {
                0.0
            } else {
                sigmoid(logit(r[3]) + z)
            },
            sigmoid(logit(r[4]) - z),
        ];
        c.predictions = p;
        c.score = w.watch * p[0] + w.like * p[1] + w.share * p[2] + w.follow * p[3]
            - w.negative * p[4]
            + pop_weight * (pop / max_pop)
            + pop_weight * c.worldwide;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_smoothed_towards_the_region() {
        let region = Stats {
            exposures: 1000.0,
            likes: 100.0,
            ..Stats::default()
        };
        // An unseen item gets the region's rate; one like in one view is not a 100% rate.
        assert!((rates(&Stats::default(), &region, 20.0)[1] - 0.1).abs() < 1e-6);
        let lucky = Stats {
            exposures: 1.0,
            likes: 1.0,
            ..Stats::default()
        };
        let r = rates(&lucky, &region, 20.0)[1];
        assert!(r > 0.1 && r < 0.2, "{r}");
        // Evidence wins in the end.
        let proven = Stats {
            exposures: 2000.0,
            likes: 1000.0,
            ..Stats::default()
        };
        assert!(rates(&proven, &region, 20.0)[1] > 0.49);
    }

    #[test]
    fn predictions_move_with_the_lift() {
        let (low, high) = (sigmoid(logit(0.1) + 0.0), sigmoid(logit(0.1) + 2.0));
        assert!((low - 0.1).abs() < 1e-5);
        assert!(high > 0.4);
        assert!(logit(0.0).is_finite() && logit(1.0).is_finite());
    }
}
