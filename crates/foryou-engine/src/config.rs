//! The engine's tunables and published weights, with their defaults.

use crate::cooc::CoocConfig;
use crate::embed::EmbedConfig;
use serde::{Deserialize, Serialize};

/// Weights of the objectives in the final score (published; see ARCHITECTURE.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObjectiveWeights {
    /// Expected watch ratio.
    pub watch: f32,
    /// Probability of a like.
    pub like: f32,
    /// Probability of a share.
    pub share: f32,
    /// Probability of following the creator.
    pub follow: f32,
    /// Probability of negative feedback (skip, quick exit, not interested), subtracted.
    pub negative: f32,
}

/// Weights of the personal signals in the lift `z` (published; see `rank.rs`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LiftWeights {
    /// Co-engagement with recent items (`ĉ`: the recency-weighted mean cosine with them).
    pub coengaged: f32,
    /// Cosine with the user's taste vector.
    pub embedding: f32,
    /// Creator affinity.
    pub creator: f32,
    /// Sound affinity.
    pub sound: f32,
    /// Hashtag affinity.
    pub hashtag: f32,
    /// Following the creator.
    pub following: f32,
    /// How much co-engagement with skipped videos counts against (`s`, relative to `coengaged`).
    pub skipped_share: f32,
}

/// Tunables, with published defaults.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Seed of the learner's own draws (negative sampling, index levels).
    pub seed: u64,
    /// Half-life of trending popularity, in hours…
    pub popularity_half_life_h: f64,
    /// … and, for the crowd (the trending set, the crowd's share of newcomers' feeds), at
    /// least this many of the region's engagements.
    #[serde(default = "default_popularity_half_life_events")]
    pub popularity_half_life_events: f64,
    /// Videos younger than this may enter the exploration pool, in hours.
    pub new_video_window_h: f64,
    /// Exposures of a new video's first audience.
    pub first_pool: f32,
    /// Items the batch model covers, the most engaged first (0: no batch model); its memory is
    /// `batch_items × batch_rank` numbers and a feed scans them once.
    #[serde(default = "default_batch_items")]
    pub batch_items: usize,
    /// The batch model's regularisation (λ of EASE).
    #[serde(default = "default_batch_lambda")]
    pub batch_lambda: f64,
    /// Rank of the batch model: EASE exactly while it covers at most this many items (plus 32),
    /// its strongest `batch_rank` directions beyond.
    #[serde(default = "default_batch_rank")]
    pub batch_rank: usize,
    /// Engagements per person the batch model is fitted on and scores from, the latest first;
    /// the learner keeps this many per person (so it bounds per-user memory too).
    #[serde(default = "default_batch_history")]
    pub batch_history: usize,
    /// Recency half-life over those engagements when the batch model scores, in engagements.
    #[serde(default = "default_batch_half_life")]
    pub batch_half_life: f32,
    /// Step size of the trained ranker's online learning (0: the heads stay as they start).
    #[serde(default = "default_ranker_rate")]
    pub ranker_rate: f32,
    /// Items drawn from the catalog against each positive in one ranking step of the ranker.
    #[serde(default = "default_ranker_negatives")]
    pub ranker_negatives: usize,
    /// The ranker takes a step on one positive in this many (the learner's speed against how
    /// much the ranker sees).
    #[serde(default = "default_ranker_every")]
    pub ranker_every: u32,
    /// Positives learned after which the ranker has settled: from then on it steps on one
    /// positive in `ranker_every_settled` (its few dozen weights have seen tens of thousands of
    /// steps; later ones track drift, and a busy region still gives thousands a minute).
    #[serde(default = "default_ranker_settled_after")]
    pub ranker_settled_after: u64,
    /// The ranker steps on one positive in this many once settled.
    #[serde(default = "default_ranker_every_settled")]
    pub ranker_every_settled: u32,
    /// Recent engagements a ranking step weighs its items against (0: all the history keeps).
    #[serde(default = "default_ranker_history")]
    pub ranker_history: usize,
    /// One positive in this many makes a trial of how far to trust the batch model (a whole
    /// feed scored, see `blend.rs`); 0: no trials, the ranker's score alone.
    #[serde(default = "default_blend_every")]
    pub blend_every: u32,
    /// … once the ranker has settled (`ranker_settled_after`).
    #[serde(default = "default_blend_every_settled")]
    pub blend_every_settled: u32,
    /// The person's engagements a trial's pages are judged by, the first being the one it was
    /// made for (1: the next choice alone; more: what the page gives over a longer stretch).
    #[serde(default = "default_blend_window")]
    pub blend_window: u32,
    /// L2 shrinkage of the trained ranker's weights per step.
    #[serde(default = "default_ranker_l2")]
    pub ranker_l2: f32,
    /// Half-life of a new video's priority for its audience, in hours: the newest uploads with
    /// their audience still to come are proposed first.
    #[serde(default = "default_fresh_half_life_h")]
    pub fresh_half_life_h: f64,
    /// How much each later stage widens the audience.
    pub widen: f32,
    /// Stages before a new video graduates.
    pub stages: u8,
    /// Step size of the per-user affinity learner (creators, sounds, hashtags).
    pub affinity_rate: f32,
    /// Recent engagements kept per user.
    pub history_len: usize,
    /// Recency half-life over the user's history, in engagements.
    pub history_half_life: f32,
    /// Co-engagement settings.
    pub cooc: CoocConfig,
    /// Embedding settings.
    pub embed: EmbedConfig,
    /// Objective weights.
    pub objectives: ObjectiveWeights,
    /// Personal lift weights.
    pub lift: LiftWeights,
    /// Weight of regional (and worldwide) popularity.
    pub popularity_weight: f32,
    /// Pseudo-exposures that smooth an item's rates towards the region's mean.
    pub prior_strength: f32,
    /// Share of feed slots for exploration once the user is known (0 turns exploration off).
    pub explore_share: f64,
    /// Share of slots for exploration for a brand-new user, falling to `explore_share`.
    pub cold_start_share: f64,
    /// Views over which the cold-start share falls.
    pub cold_start_views: u32,
    /// Candidates per source.
    pub per_source: usize,
    /// Whether the diversity rules apply.
    pub diversify: bool,
    /// Cosine above which two neighbouring items count as near-duplicates.
    pub max_neighbour_cosine: f32,
    /// Trending set size.
    pub trending_size: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            seed: 1,
            popularity_half_life_h: 24.0,
            popularity_half_life_events: default_popularity_half_life_events(),
            new_video_window_h: 48.0,
            first_pool: 20.0,
            fresh_half_life_h: default_fresh_half_life_h(),
            ranker_rate: default_ranker_rate(),
            batch_items: default_batch_items(),
            batch_lambda: default_batch_lambda(),
            batch_rank: default_batch_rank(),
            batch_history: default_batch_history(),
            batch_half_life: default_batch_half_life(),
            ranker_l2: default_ranker_l2(),
            ranker_negatives: default_ranker_negatives(),
            ranker_every: default_ranker_every(),
            ranker_settled_after: default_ranker_settled_after(),
            ranker_every_settled: default_ranker_every_settled(),
            ranker_history: default_ranker_history(),
            blend_every: default_blend_every(),
            blend_every_settled: default_blend_every_settled(),
            blend_window: default_blend_window(),
            widen: 5.0,
            stages: 3,
            affinity_rate: 0.5,
            history_len: 50,
            history_half_life: 10.0,
            cooc: CoocConfig::default(),
            embed: EmbedConfig::default(),
            objectives: ObjectiveWeights {
                watch: 1.0,
                like: 2.0,
                share: 3.0,
                follow: 4.0,
                negative: 3.0,
            },
            lift: LiftWeights {
                coengaged: 1.5,
                embedding: 0.5,
                creator: 3.0,
                sound: 2.5,
                hashtag: 1.0,
                following: 1.5,
                skipped_share: 1.0,
            },
            popularity_weight: 0.1,
            prior_strength: 20.0,
            explore_share: 0.15,
            cold_start_share: 0.5,
            cold_start_views: 20,
            per_source: 200,
            diversify: true,
            max_neighbour_cosine: 0.95,
            trending_size: 500,
        }
    }
}

/// A recency half-life, in engagements, under which no engagement counts less for its place:
/// the weight kept per step, `0.5^(1 / NO_RECENCY)`, is exactly 1 in `f32`.
pub const NO_RECENCY: f32 = 1e9;

impl EngineConfig {
    /// The configuration of the offline tools (`eval`, `replay`): the same learner and ranker with
    /// exploration and diversity off, so the figures measure relevance alone.
    pub fn offline() -> Self {
        EngineConfig {
            explore_share: 0.0,
            cold_start_share: 0.0,
            diversify: false,
            ..EngineConfig::default()
        }
    }

    /// The offline configuration for a log without timestamps: the order of a person's
    /// engagements in it says nothing about which came last, so the person's history and the
    /// batch model's view of it weigh every engagement alike ([`NO_RECENCY`]) instead of
    /// favouring the later ones. Everything else is [`EngineConfig::offline`].
    pub fn offline_unordered() -> Self {
        EngineConfig {
            history_half_life: NO_RECENCY,
            batch_half_life: NO_RECENCY,
            ..EngineConfig::offline()
        }
    }
}

fn default_popularity_half_life_events() -> f64 {
    10_000.0
}

fn default_fresh_half_life_h() -> f64 {
    2.0
}

fn default_ranker_rate() -> f32 {
    0.02
}

fn default_ranker_l2() -> f32 {
    1e-5
}

fn default_batch_items() -> usize {
    20_000
}

fn default_batch_lambda() -> f64 {
    200.0
}

fn default_batch_rank() -> usize {
    256
}

fn default_batch_history() -> usize {
    200
}

fn default_batch_half_life() -> f32 {
    50.0
}

fn default_ranker_negatives() -> usize {
    20
}

fn default_ranker_every() -> u32 {
    2
}

fn default_ranker_settled_after() -> u64 {
    50_000
}

fn default_ranker_every_settled() -> u32 {
    8
}

fn default_blend_every() -> u32 {
    4
}

fn default_blend_every_settled() -> u32 {
    4096
}

fn default_blend_window() -> u32 {
    50
}

fn default_ranker_history() -> usize {
    10
}
