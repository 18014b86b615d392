//! The multi-objective ranker: the trained heads of `model.rs` over each candidate's features.
//!
//! Each head predicts one objective — watch ratio, like, share, follow, negative feedback — from
//! the item's own smoothed rate for it in this region (`rates`: its counts smoothed towards the
//! region's mean by `prior_strength` pseudo-exposures) and the shared relevance the heads learn
//! from every stage's features. The score is `Σ weight_k·p_k − negative·p_neg` with the published
//! `ObjectiveWeights`: the trade-off between objectives is a published choice, the predictions
//! are learned. The hand-set `LiftWeights` are the heads' starting point, and still say which
//! personal signal counts most in "why this video".

use crate::model::{Feature, NF};
use crate::pipeline::{Candidate, Query, Scorer};
use crate::state::Stats;

/// Scale of the co-engagement feature: `ln(1 + 10·ĉ)` grows without saturating, slowly.
const COENGAGED_SCALE: f32 = 10.0;
/// Scale of the batch model's feature: its score per unit of history weight, times this.
const BATCH_SCALE: f32 = 10.0;

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-3, 1.0 - 1e-3);
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
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

/// Scores every candidate (hydrated) for the request: the trained heads over each candidate's
/// features, combined by the published objective weights.
pub fn score(q: &Query, cands: &mut [Candidate]) {
    let cfg = q.config;
    let w = &cfg.objectives;
    let now_factor = q.state.pop_scale(q.req.now_ms, cfg.popularity_half_life_h);
    let pops: Vec<f32> = cands
        .iter()
        .map(|c| ((1.0 + q.state.items[c.item as usize].pop * now_factor).ln()) as f32)
        .collect();
    // Relative to the most popular of what is being weighed: how popular it is among the
    // alternatives (on the log scale).
    let max_pop = pops.iter().copied().fold(0.0f32, f32::max).max(1e-6);
    // The non-personalised feed ranks by the published starting point alone (the items' rates
    // and popularity), nothing learned from people's choices.
    let published;
    let heads = if q.user.is_some() {
        &q.state.heads
    } else {
        published = crate::model::Heads::initial(cfg);
        &published
    };
    let person = Person::of(q);
    for (c, pop) in cands.iter_mut().zip(pops) {
        c.features = features(q, &person, c, pop / max_pop);

        lifts(q, c);
        let mut p = heads.predict(&c.features);
        // Nobody follows a creator twice.
        if c.following {
            p[3] = 0.0;
        }
        c.predictions = p;
        c.score = objective(w, &p);
    }
    // The batch model's and the crowd's shares of the final score, as far as the trials at
    // this stage of knowledge found them to help (`blend.rs`).
    let shares = if q.user.is_some() {
        heads.blend.shares(crate::blend::bucket(q.history.len()))
    } else {
        crate::blend::Shares::default()
    };
    if !shares.is_none() {
        // Without a batch share the stand-in's batch scores would be multiplied by 0.
        let raw = blend_inputs(q, cands, shares.batch > 0.0);
        for (c, t) in cands.iter_mut().zip(crate::blend::terms(&raw)) {
            c.score = crate::blend::fused(&t, shares);
        }
    }
}

/// What the blend of a scored request weighs for each candidate: its ranker score, its batch
/// score (with `stand_in`, a stand-in where the batch model has no column for it) and its
/// popularity relative to the most popular candidate's.
pub fn blend_inputs(q: &Query, cands: &[Candidate], stand_in: bool) -> Vec<(f32, f32, f32)> {
    // The crowd's term: each candidate's popularity on the crowd's clock relative to the most
    // popular candidate's, on the log scale (as the ranker's popularity feature is on the day's).
    let scale = q.state.crowd_scale();
    let crowd: Vec<f32> = cands
        .iter()
        .map(|c| (1.0 + q.state.items[c.item as usize].crowd * scale).ln() as f32)
        .collect();
    let top = crowd.iter().copied().fold(0.0f32, f32::max).max(1e-6);
    let mut raw: Vec<(f32, f32, f32)> = cands
        .iter()
        .zip(&crowd)
        .map(|(c, p)| (c.score, c.batch, p / top))
        .collect();
    if let (Some(m), true) = (q.batch, stand_in) {
        crate::blend::stand_in(&mut raw, |k| m.models(cands[k].item));
    }
    raw
}

/// The published trade-off between the heads' predictions.
pub fn objective(w: &crate::ObjectiveWeights, p: &[f32; crate::model::HEADS]) -> f32 {
    w.watch * p[0] + w.like * p[1] + w.share * p[2] + w.follow * p[3] - w.negative * p[4]
}

/// What each personal signal adds to the hand-set lift, for "why this video" (the reasons name
/// the signals that count most).
fn lifts(q: &Query, c: &mut Candidate) {
    if q.user.is_none() {
        return;
    }
    let l = &q.config.lift;
    let f = &c.features;
    use Feature as F;
    c.lifts = [
        l.coengaged * (f[F::CoEngaged as usize] - l.skipped_share * f[F::Disengaged as usize]),
        l.embedding * f[F::Embedding as usize],
        l.creator * f[F::Creator as usize],
        l.sound * f[F::Sound as usize],
        l.hashtag * f[F::Hashtag as usize],
        if c.following { l.following } else { 0.0 },
    ];
}

/// What the features read of the person, the same for every candidate of a request.
struct Person {
    /// How much is known about them (0..=1, by recent engagements).
    known: f32,
    /// The weights of their history and of their recent skips, summed.
    history_mass: f32,
    negative_mass: f32,
}

impl Person {
    fn of(q: &Query) -> Person {
        let known = if q.user.is_some() {
            ((q.history.len() as f32).ln_1p() / 51f32.ln()).min(1.0)
        } else {
            0.0
        };
        Person {
            known,
            history_mass: q.history.iter().map(|h| h.1).sum::<f32>().max(1e-6),
            negative_mass: q.negative.iter().map(|h| h.1).sum::<f32>().max(1e-6),
        }
    }
}

/// The trained ranker's features of a hydrated candidate (`pop`: its popularity relative to the
/// most popular candidate's, log scale).
fn features(q: &Query, person: &Person, c: &Candidate, pop: f32) -> [f32; NF] {
    use Feature as F;
    let cfg = q.config;
    let item = &q.state.items[c.item as usize];
    let r = rates(&item.stats, &q.state.totals.sum, cfg.prior_strength);
    let mut x = [0.0f32; NF];
    x[F::Bias as usize] = 1.0;
    for k in 0..5 {
        x[F::RateWatch as usize + k] = logit(r[k]);
    }
    let known = person.known;
    if let Some(u) = q.user {
        let (history_mass, negative_mass) = (person.history_mass, person.negative_mass);
        let trust = u.trust_coengaged;
        x[F::CoEngaged as usize] = trust * (COENGAGED_SCALE * c.coengaged / history_mass).ln_1p();
        x[F::Disengaged as usize] =
            trust * (COENGAGED_SCALE * c.disengaged / negative_mass).ln_1p();
        x[F::Embedding as usize] = c.embedding.max(0.0);
        x[F::Creator as usize] = (c.creator_aff / 2.0).tanh();
        x[F::Sound as usize] = (c.sound_aff / 2.0).tanh();
        x[F::Hashtag as usize] = (c.tag_aff.1 / 2.0).tanh();
        x[F::Following as usize] = f32::from(c.following);
    }
    x[F::Popularity as usize] = pop;
    x[F::Worldwide as usize] = c.worldwide;
    x[F::Known as usize] = known;
    x[F::PopularityUnknown as usize] = pop * (1.0 - known);
    let age_h = q.req.now_ms.saturating_sub(item.created_ms) as f64 / 3.6e6;
    x[F::Fresh as usize] = 0.5f64.powf(age_h / 24.0) as f32;
    if q.user.is_some() {
        x[F::Batch as usize] = BATCH_SCALE * c.batch / q.batch_mass.max(1e-6);
    }
    x[F::CoEngagedKnown as usize] = x[F::CoEngaged as usize] * known;
    x[F::EmbeddingKnown as usize] = x[F::Embedding as usize] * known;
    x[F::BatchKnown as usize] = x[F::Batch as usize] * known;
    x
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
