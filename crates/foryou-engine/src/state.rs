//! The engine's learned state: catalog items with their engagement statistics, users with their
//! recent engagement and affinities, and the trending counter. Everything here is serialisable,
//! so a snapshot plus the log after it rebuilds the engine exactly.

use crate::cooc::CoEngagement;
use crate::embed::Embeddings;
use crate::intern::Interner;
use foryou_types::{SoundId, UserId, VideoId};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Engagement counts of one item in this region.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Times it was shown and watched or skipped.
    pub exposures: f32,
    /// Watch ratio summed over exposures, each capped at 1.
    pub watch: f32,
    /// Watched to the end.
    pub completions: f32,
    /// Likes (less unlikes).
    pub likes: f32,
    /// Shares.
    pub shares: f32,
    /// Comments.
    pub comments: f32,
    /// Follows of its creator from it.
    pub follows: f32,
    /// Skips, quick exits and "not interested".
    pub negatives: f32,
}

impl Stats {
    /// Engagements that count as "it worked" for exploration.
    pub fn good(&self) -> f32 {
        self.completions + self.likes + self.shares
    }
}

/// One catalog item.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Item {
    /// Its id.
    pub id: VideoId,
    /// Creator (interned), if the catalog has creators.
    pub creator: Option<u32>,
    /// Sound (interned), if any.
    pub sound: Option<u32>,
    /// Hashtags (interned).
    pub tags: Vec<u32>,
    /// Duration in ms (0 when unknown).
    pub duration_ms: u64,
    /// Upload time, Unix ms.
    pub created_ms: u64,
    /// False once removed from the catalog (or never described, for ids only seen in events).
    pub live: bool,
    /// Engagement counts.
    pub stats: Stats,
    /// Forward-decayed popularity: `Σ w·2^((t − t0)/half-life)`; comparable across items.
    pub pop: f64,
    /// The same, on the crowd's clock (`learn.rs`), which a quiet region does not run faster
    /// than its engagements: what the trending set and the crowd's share rank by.
    pub crowd: f64,
    /// Exploration stage of a new item; `None` once it left the pool.
    pub stage: Option<u8>,
    /// Whether it is in the trending set.
    pub trending: bool,
    /// Whether anyone engaged with it (its embedding is learned, so the ANN index holds it).
    pub engaged: bool,
}

/// Most items remembered as seen per person: past it the oldest may be shown again, so a
/// person's state stays bounded however much they watch.
pub const MAX_SEEN: usize = 20_000;

/// Items a person watched or skipped, the most recent [`MAX_SEEN`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Seen {
    set: FxHashSet<u32>,
    order: VecDeque<u32>,
}

impl Seen {
    /// Whether `i` was seen.
    pub fn contains(&self, i: &u32) -> bool {
        self.set.contains(i)
    }

    /// Notes `i` as seen, forgetting the oldest past [`MAX_SEEN`].
    pub fn insert(&mut self, i: u32) {
        if self.set.insert(i) {
            self.order.push_back(i);
            while self.order.len() > MAX_SEEN {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }

    /// How many are remembered.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// What the engine knows of one user.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserState {
    /// Recent positive engagements (item, strength), oldest first.
    pub recent: VecDeque<(u32, f32)>,
    /// Recent negative feedback (skips, quick exits, "not interested"), oldest first.
    pub negative: VecDeque<u32>,
    /// Items watched or skipped (never shown again), the most recent [`MAX_SEEN`].
    pub seen: Seen,
    /// "Not interested" items.
    pub blocked_items: FxHashSet<u32>,
    /// "Not interested" creators.
    pub blocked_creators: FxHashSet<u32>,
    /// "Not interested" sounds.
    pub blocked_sounds: FxHashSet<u32>,
    /// Baseline engagement (logit), so a user who finishes everything does not credit everything.
    pub bias: f32,
    /// How much this user's engagement follows co-engagement (learned; 1 to start).
    pub trust_coengaged: f32,
    /// Affinity per creator (logit scale, learned by `learn_affinity`).
    pub creators: FxHashMap<u32, f32>,
    /// Affinity per sound.
    pub sounds: FxHashMap<u32, f32>,
    /// Affinity per hashtag.
    pub tags: FxHashMap<u32, f32>,
    /// Views and skips so far (drives the cold-start mix).
    pub views: u32,
    /// Last event time, Unix ms (for expiry).
    pub last_ms: u64,
    /// Items of served pages waiting for their outcomes (see `impressions.rs`), oldest first.
    pub pending: VecDeque<crate::impressions::Pending>,
}

impl Default for UserState {
    fn default() -> Self {
        UserState {
            recent: VecDeque::new(),
            negative: VecDeque::new(),
            seen: Seen::default(),
            blocked_items: FxHashSet::default(),
            blocked_creators: FxHashSet::default(),
            blocked_sounds: FxHashSet::default(),
            bias: 0.0,
            trust_coengaged: 1.0,
            creators: FxHashMap::default(),
            sounds: FxHashMap::default(),
            tags: FxHashMap::default(),
            views: 0,
            last_ms: 0,
            pending: VecDeque::new(),
        }
    }
}

/// Region-wide means that smooth per-item rates.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Sum of every item's stats.
    pub sum: Stats,
}

/// The whole learned state of one region's engine.
#[derive(Serialize, Deserialize)]
pub struct State {
    /// Item ids → slots.
    pub item_ids: Interner<VideoId>,
    /// Items by slot.
    pub items: Vec<Item>,
    /// Creator ids → slots.
    pub creator_ids: Interner<UserId>,
    /// Sound ids → slots.
    pub sound_ids: Interner<SoundId>,
    /// Hashtags → slots.
    pub tag_ids: Interner<String>,
    /// Items per creator slot, in upload order.
    pub by_creator: Vec<Vec<u32>>,
    /// Items per sound slot.
    pub by_sound: Vec<Vec<u32>>,
    /// Items per hashtag slot.
    pub by_tag: Vec<Vec<u32>>,
    /// Users.
    pub users: FxHashMap<UserId, UserState>,
    /// Co-engagement.
    pub cooc: CoEngagement,
    /// Embeddings.
    pub embed: Embeddings,
    /// Items in the trending set (superset of the top, by `pop`).
    pub trending: Vec<u32>,
    /// Smallest `pop` that may enter the trending set.
    pub trending_floor: f64,
    /// New items being tried.
    pub fresh: Vec<u32>,
    /// Region-wide sums.
    pub totals: Totals,
    /// Time origin of the forward decay, Unix ms.
    pub pop_origin_ms: u64,
    /// The crowd's clock: its forward decay's exponent at the latest engagement, and when that
    /// was, Unix ms.
    pub crowd_exp: f64,
    pub crowd_last_ms: u64,
    /// Last log sequence number learned.
    pub last_seq: u64,
    /// Events learned since start (drives the index refresh).
    pub learned: u64,
    /// Items with at least one positive engagement (those the ANN index holds).
    pub engaged: usize,
    /// When the exploration pool was last swept of aged-out videos, Unix ms.
    pub swept_ms: u64,
    /// Latest time the engine has heard of (events, ticks), Unix ms.
    pub clock_ms: u64,
    /// The trained ranker's heads.
    pub heads: crate::model::Heads,
    /// The catalog draws the ranker's steps take their negatives from, and the period of
    /// positives they were drawn for (see `training.rs`).
    pub negative_pool: Vec<u32>,
    pub negative_pool_period: u64,
    /// Trials of the batch model's share waiting for people's engagements (`blend.rs`), kept in
    /// snapshots so a restored engine replaying the log judges them as the live one did.
    pub open_trials: FxHashMap<foryou_types::UserId, Vec<crate::blend::OpenTrial>>,
}

impl State {
    /// Starts loading item `i`'s entry and vector into the processor's caches (a hint).
    pub fn prefetch_item(&self, i: u32) {
        if let Some(it) = self.items.get(i as usize) {
            crate::prefetch::prefetch(std::slice::from_ref(it));
        }
        if (i as usize) < self.embed.len() {
            crate::prefetch::prefetch(self.embed.get(i));
        }
    }

    /// An empty state with embeddings of `dim` dimensions (and untrained heads; see
    /// [`State::for_config`]).
    pub fn new(dim: usize) -> Self {
        Self::with_heads(
            dim,
            crate::model::Heads::initial(&crate::EngineConfig::default()),
        )
    }

    /// An empty state for `config`: its embedding size, and heads that start from its weights.
    pub fn for_config(config: &crate::EngineConfig) -> Self {
        Self::with_heads(config.embed.dim, crate::model::Heads::initial(config))
    }

    fn with_heads(dim: usize, heads: crate::model::Heads) -> Self {
        State {
            item_ids: Interner::default(),
            items: Vec::new(),
            creator_ids: Interner::default(),
            sound_ids: Interner::default(),
            tag_ids: Interner::default(),
            by_creator: Vec::new(),
            by_sound: Vec::new(),
            by_tag: Vec::new(),
            users: FxHashMap::default(),
            cooc: CoEngagement::default(),
            embed: Embeddings::new(dim),
            trending: Vec::new(),
            trending_floor: 0.0,
            fresh: Vec::new(),
            totals: Totals::default(),
            pop_origin_ms: 0,
            crowd_exp: 0.0,
            crowd_last_ms: 0,
            last_seq: 0,
            learned: 0,
            clock_ms: 0,
            heads,
            negative_pool: Vec::new(),
            negative_pool_period: u64::MAX,
            open_trials: FxHashMap::default(),
            engaged: 0,
            swept_ms: 0,
        }
    }

    /// Rebuilds lookup tables after deserialising.
    pub fn reindex(&mut self) {
        self.item_ids.reindex();
        self.creator_ids.reindex();
        self.sound_ids.reindex();
        self.tag_ids.reindex();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seen_set_keeps_the_most_recent_and_stays_bounded() {
        let mut s = Seen::default();
        for i in 0..(MAX_SEEN as u32 + 500) {
            s.insert(i);
            s.insert(i);
        }
        assert_eq!(s.len(), MAX_SEEN);
        assert!(!s.contains(&0) && !s.contains(&499));
        assert!(s.contains(&500) && s.contains(&(MAX_SEEN as u32 + 499)));
    }
}
