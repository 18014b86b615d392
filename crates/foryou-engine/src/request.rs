//! What the engine is told and what it answers: catalog items, feed requests, recommendations
//! and its errors.

use crate::Reason;
use foryou_types::{SoundId, UserId, VideoId};

/// What the engine knows of a catalog item (a video, or a shop's product).
#[derive(Clone, Debug)]
pub struct ItemMeta {
    /// The item.
    pub id: VideoId,
    /// Its creator (a shop: the brand), if any.
    pub creator: Option<UserId>,
    /// Its sound, if any.
    pub sound: Option<SoundId>,
    /// Its hashtags (a shop: categories).
    pub hashtags: Vec<String>,
    /// Duration in ms (0 when it has none).
    pub duration_ms: u64,
    /// Upload time, Unix ms.
    pub created_ms: u64,
}

/// Which For You the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedMode {
    /// Ranked from the user's own history.
    Personalised,
    /// Popular in the region and worldwide; reads no personal history.
    NonPersonalised,
}

/// A request for one page of the feed.
#[derive(Clone, Debug)]
pub struct FeedRequest {
    /// Who asks.
    pub user: UserId,
    /// How many items.
    pub limit: usize,
    /// Personalised or not.
    pub mode: FeedMode,
    /// Request time, Unix ms.
    pub now_ms: u64,
    /// Creators the user follows (held by the platform, passed in).
    pub following: Vec<UserId>,
    /// Items to pass over first (paging through the non-personalised feed, which keeps no history).
    pub skip: usize,
    /// Popularity in all regions (aggregate counts), for the worldwide source; may be empty.
    pub worldwide: Vec<(VideoId, f64)>,
    /// Seed of this request's random draws (exploration).
    pub seed: u64,
    /// Videos staff boosted for this region, first first: one takes a labelled slot on a page
    /// the user has not seen it on.
    pub boosted: Vec<VideoId>,
    /// Videos staff suppressed for this region: never on the page.
    pub suppressed: Vec<VideoId>,
}

impl FeedRequest {
    /// A personalised request with no follows, no worldwide list and seed 0.
    pub fn new(user: UserId, limit: usize, now_ms: u64) -> Self {
        FeedRequest {
            user,
            limit,
            mode: FeedMode::Personalised,
            now_ms,
            following: Vec::new(),
            skip: 0,
            worldwide: Vec::new(),
            seed: 0,
            boosted: Vec::new(),
            suppressed: Vec::new(),
        }
    }
}

/// One ranked item.
#[derive(Clone, Debug)]
pub struct Recommendation {
    /// The item.
    pub video: VideoId,
    /// Its score (higher first, except exploration slots).
    pub score: f64,
    /// Per-objective predictions: watch, like, share, follow, negative.
    pub predictions: [f32; 5],
    /// Why it was chosen.
    pub reasons: Vec<Reason>,
    /// The sources that proposed it.
    pub sources: Vec<&'static str>,
    /// The ranker's features of it, as scored.
    pub features: [f32; crate::model::NF],
    /// The chance the page's policy had of showing it there.
    pub propensity: f32,
}

/// What can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A snapshot could not be read or written.
    #[error("engine snapshot: {reason}")]
    Snapshot {
        /// What failed.
        reason: String,
    },
}
