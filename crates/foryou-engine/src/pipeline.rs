//! The stages of a feed request and the types they share. A request flows
//! sources → filters → hydrators → scorer → selector; each stage is a small trait
//! (`CandidateSource`, `Filter`, `Hydrator`, `Scorer`, `Selector`) and `Pipeline` holds one list
//! of each, so a new candidate source is a new file in `source/`, not an edit across the engine.

use crate::ann::VectorIndex;
use crate::rerank::PagePlan;
use crate::state::{State, UserState};
use crate::{EngineConfig, FeedRequest};
use rustc_hash::{FxHashMap, FxHashSet};

/// Which source first found a candidate (reasons and exploration read it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Item-to-item co-engagement with the user's recent items.
    CoEngaged,
    /// Embedding retrieval (ANN).
    Embedding,
    /// The batch item-to-item model's best for the user's recent items.
    Batch,
    /// A followed creator's videos.
    Following,
    /// Videos of creators, sounds and hashtags the user engages with.
    Affinity,
    /// Trending in the region.
    Trending,
    /// Popular in all regions (aggregates handed in by the caller).
    Worldwide,
    /// New videos being tried (exploration pool).
    Fresh,
    /// A random sample of the catalog (cold-start exploration).
    Explore,
    /// The newest unseen items, when every other source found too few.
    Backfill,
    /// Boosted by staff (every boost is in the transparency log; the page labels it).
    Boosted,
}

/// One candidate and what the stages learned about it.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Item slot.
    pub item: u32,
    /// Sources that found it.
    pub origins: Origins,
    /// Co-engagement score with the user's recent items.
    pub coengaged: f32,
    /// Co-engagement with what the user recently skipped or rejected.
    pub disengaged: f32,
    /// The user's item that contributed most to `coengaged`.
    pub because: Option<u32>,
    /// Cosine of the item with the user's vector.
    pub embedding: f32,
    /// The batch item-to-item model's score for the user's recent items.
    pub batch: f32,
    /// Affinity with the creator, the sound and the best hashtag (slot, affinity).
    pub creator_aff: f32,
    /// Sound affinity.
    pub sound_aff: f32,
    /// Best hashtag and its affinity.
    pub tag_aff: (Option<u32>, f32),
    /// The user follows the creator.
    pub following: bool,
    /// Popularity elsewhere (worldwide list), when handed in.
    pub worldwide: f32,
    /// A Thompson sample of its engagement rate (fresh videos).
    pub explore_draw: f32,
    /// Final score.
    pub score: f32,
    /// Per-objective predictions: watch, like, share, follow, negative.
    pub predictions: [f32; 5],
    /// What each personal signal added to the lift `z` (see `Lift`), for "why this video".
    pub lifts: [f32; Lift::COUNT],
    /// The trained ranker's features (see `model::Feature`).
    pub features: [f32; crate::model::NF],
    /// The chance the page's policy had of showing it where it is (1 for a ranked slot).
    pub propensity: f32,
}

/// The personal signals of the ranker's lift, in `Candidate::lifts` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lift {
    /// Co-engagement with recent videos (less that with skipped ones).
    CoEngaged = 0,
    /// Cosine with the taste vector.
    Embedding = 1,
    /// Creator affinity.
    Creator = 2,
    /// Sound affinity.
    Sound = 3,
    /// Hashtag affinity.
    Hashtag = 4,
    /// Following the creator.
    Following = 5,
}

impl Origin {
    /// The source's name, as impressions record it.
    pub fn name(self) -> &'static str {
        match self {
            Origin::CoEngaged => "coengaged",
            Origin::Embedding => "embedding",
            Origin::Batch => "batch",
            Origin::Following => "following",
            Origin::Affinity => "affinity",
            Origin::Trending => "trending",
            Origin::Worldwide => "worldwide",
            Origin::Fresh => "fresh",
            Origin::Explore => "explore",
            Origin::Backfill => "backfill",
            Origin::Boosted => "boosted",
        }
    }
}

/// The sources that found a candidate, in the order they found it, each once: held inline
/// rather than in a heap vector, since a feed makes hundreds of candidates per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origins {
    list: [Origin; Origins::MAX],
    len: u8,
}

impl Origins {
    /// Kinds of source.
    const MAX: usize = 11;

    /// Found by `first`.
    pub fn new(first: Origin) -> Self {
        Origins {
            list: [first; Origins::MAX],
            len: 1,
        }
    }

    /// Notes that `o` found it too (once).
    pub fn push(&mut self, o: Origin) {
        if !self.contains(&o) && usize::from(self.len) < Origins::MAX {
            self.list[usize::from(self.len)] = o;
            self.len += 1;
        }
    }
}

impl std::ops::Deref for Origins {
    type Target = [Origin];
    fn deref(&self) -> &[Origin] {
        &self.list[..usize::from(self.len)]
    }
}

impl Lift {
    /// Number of signals.
    pub const COUNT: usize = 6;
}

impl Candidate {
    /// A candidate with nothing known yet.
    pub fn new(item: u32, origin: Origin) -> Self {
        Candidate {
            item,
            origins: Origins::new(origin),
            coengaged: 0.0,
            disengaged: 0.0,
            because: None,
            embedding: 0.0,
            batch: 0.0,
            creator_aff: 0.0,
            sound_aff: 0.0,
            tag_aff: (None, 0.0),
            following: false,
            worldwide: 0.0,
            explore_draw: 0.0,
            score: 0.0,
            predictions: [0.0; 5],
            lifts: [0.0; Lift::COUNT],
            features: [0.0; crate::model::NF],
            propensity: 1.0,
        }
    }

    /// Whether only exploration sources found it.
    pub fn is_exploration(&self) -> bool {
        self.origins
            .iter()
            .all(|o| matches!(o, Origin::Fresh | Origin::Explore))
    }
}

/// The candidate set of one request, keyed by item slot.
#[derive(Default)]
pub struct Candidates {
    /// Candidates by item.
    pub map: FxHashMap<u32, Candidate>,
}

impl Candidates {
    /// Adds `item` from `origin` (or notes the extra origin) and returns it for the source to fill.
    pub fn add(&mut self, item: u32, origin: Origin) -> &mut Candidate {
        let c = self
            .map
            .entry(item)
            .or_insert_with(|| Candidate::new(item, origin));
        c.origins.push(origin);
        c
    }
}

/// Everything a stage may read for one request.
pub struct Query<'a> {
    /// The request.
    pub req: &'a FeedRequest,
    /// The engine's settings.
    pub config: &'a EngineConfig,
    /// The learned state.
    pub state: &'a State,
    /// The ANN index, once built.
    pub index: Option<&'a dyn VectorIndex>,
    /// The batch item-to-item model, once fitted.
    pub batch: Option<&'a crate::batch::ItemModel>,
    /// The user's state; `None` in the non-personalised mode, which reads no history.
    pub user: Option<&'a UserState>,
    /// Recent engagements with recency weights, newest first.
    pub history: Vec<(u32, f32)>,
    /// The person in the batch model's space (their latest `batch_history` engagements with
    /// `batch_half_life` recency weights), when the model covers any of them.
    pub batch_taste: Option<crate::batch::Taste>,
    /// The total weight of that history (the batch feature's scale).
    pub batch_mass: f32,
    /// Recent negative feedback with recency weights, newest first.
    pub negative: Vec<(u32, f32)>,
    /// The user's taste vector.
    pub vector: Option<Vec<f32>>,
    /// Followed creators (slots).
    pub following: FxHashSet<u32>,
    /// Seed for this request's random draws.
    pub seed: u64,
    /// Every item co-engaged with the history: (score, the history item that gave most, what
    /// it gave); spread once per request on first use, shared by the source and the hydrator.
    pub spread: std::sync::OnceLock<FxHashMap<u32, (f32, u32, f32)>>,
}

impl Query<'_> {
    /// Every item co-engaged with the person's recency-weighted history, each with its summed
    /// similarity and the history item that contributed most (computed on first use).
    pub fn coengagement(&self) -> &FxHashMap<u32, (f32, u32, f32)> {
        self.spread
            .get_or_init(|| self.state.cooc.spread_all(&self.history))
    }
}

/// A stage that proposes candidates.
pub trait CandidateSource: Send + Sync {
    /// The source's name (for metrics and docs).
    fn name(&self) -> &'static str;
    /// Whether it applies to this request (e.g. personal sources skip the non-personalised mode).
    fn enabled(&self, q: &Query) -> bool;
    /// Adds up to `q.config.per_source` candidates.
    fn fetch(&self, q: &Query, out: &mut Candidates);
}

/// A stage that fills features of a candidate.
pub trait Hydrator: Send + Sync {
    /// The hydrator's name.
    fn name(&self) -> &'static str;
    /// Fills what it knows about `c`.
    fn hydrate(&self, q: &Query, c: &mut Candidate);
    /// Fills what it knows about every candidate of a request; a hydrator that can share work
    /// across candidates does it here (the result must equal `hydrate` on each).
    fn hydrate_all(&self, q: &Query, list: &mut [Candidate]) {
        for c in list {
            self.hydrate(q, c);
        }
    }
}

/// A stage that removes candidates that must not be shown.
pub trait Filter: Send + Sync {
    /// The filter's name.
    fn name(&self) -> &'static str;
    /// Whether `c` may be shown.
    fn keep(&self, q: &Query, c: &Candidate) -> bool;
}

/// The stage that scores hydrated candidates.
pub trait Scorer: Send + Sync {
    /// The scorer's name.
    fn name(&self) -> &'static str;
    /// Sets `score` (and `predictions`, `lifts`) of every candidate.
    fn score(&self, q: &Query, cands: &mut [Candidate]);
}

/// The stage that turns scored candidates into the page.
pub trait Selector: Send + Sync {
    /// The selector's name.
    fn name(&self) -> &'static str;
    /// Orders and cuts the page.
    fn select(
        &self,
        s: &State,
        cands: Vec<Candidate>,
        plan: &PagePlan,
        rng: &mut rand::rngs::StdRng,
    ) -> Vec<Candidate>;
}

/// The stages of a feed request, in order.
pub struct Pipeline {
    /// Candidate sources.
    pub sources: Vec<Box<dyn CandidateSource>>,
    /// Filters, applied before hydration (cheap first).
    pub filters: Vec<Box<dyn Filter>>,
    /// Hydrators.
    pub hydrators: Vec<Box<dyn Hydrator>>,
    /// The scorer.
    pub scorer: Box<dyn Scorer>,
    /// The selector.
    pub selector: Box<dyn Selector>,
}

impl Default for Pipeline {
    /// Foryou's pipeline: every source, the three filters, the three hydrators, the
    /// multi-objective ranker and the diverse page.
    fn default() -> Self {
        use crate::{filter, hydrate, rank, rerank, source};
        Pipeline {
            sources: source::default_sources(),
            filters: vec![
                Box::new(filter::LiveOnly),
                Box::new(filter::NotSeen),
                Box::new(filter::NotRejected),
                Box::new(filter::NotSuppressed),
            ],
            hydrators: vec![
                Box::new(hydrate::CoEngagementFeatures),
                Box::new(hydrate::EmbeddingFeatures),
                Box::new(hydrate::AffinityFeatures),
                Box::new(hydrate::BatchFeatures),
            ],
            scorer: Box::new(rank::MultiObjective),
            selector: Box::new(rerank::DiversePage),
        }
    }
}

impl Pipeline {
    /// Every candidate of one request that passed the filters, hydrated and scored, before the
    /// page is made.
    pub fn scored(&self, q: &Query) -> Vec<Candidate> {
        let mut found = Candidates::default();
        for s in &self.sources {
            if s.enabled(q) {
                s.fetch(q, &mut found);
            }
        }
        let list: Vec<Candidate> = found
            .map
            .into_values()
            .filter(|c| self.filters.iter().all(|f| f.keep(q, c)))
            .collect();
        self.hydrate_and_score(q, list)
    }

    /// The given items as scored candidates of one request (hydrated and scored, no source or
    /// filter run): what the ranker would weigh them at, for learning.
    pub fn weigh(&self, q: &Query, items: &[u32]) -> Vec<Candidate> {
        let list = items
            .iter()
            .map(|&i| Candidate::new(i, Origin::Backfill))
            .collect();
        self.hydrate_and_score(q, list)
    }

    fn hydrate_and_score(&self, q: &Query, mut list: Vec<Candidate>) -> Vec<Candidate> {
        // Each candidate's catalog entry and vector (a cache miss each in a large catalog)
        // start loading together, before the stages read them one candidate at a time.
        for c in &list {
            q.state.prefetch_item(c.item);
        }
        for h in &self.hydrators {
            h.hydrate_all(q, &mut list);
        }
        self.scorer.score(q, &mut list);
        list
    }

    /// Runs every stage for one request.
    pub fn run(&self, q: &Query, plan: &PagePlan, rng: &mut rand::rngs::StdRng) -> Vec<Candidate> {
        let list = self.scored(q);
        // A staff boost takes one labelled slot (the third) rather than competing on score;
        // the others wait for later pages.
        let (boosted, list): (Vec<Candidate>, Vec<Candidate>) = list
            .into_iter()
            .partition(|c| c.origins.contains(&Origin::Boosted));
        let mut page = self.selector.select(q.state, list, plan, rng);
        let first = q.req.boosted.iter().find_map(|v| {
            let slot = q.state.item_ids.get(v)?;
            boosted.iter().find(|c| c.item == slot)
        });
        if let Some(b) = first {
            page.insert(page.len().min(2), b.clone());
            page.truncate(plan.limit);
        }
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_keep_the_order_sources_found_a_candidate_in_each_once() {
        let mut found = Candidates::default();
        found.add(7, Origin::Batch);
        found.add(7, Origin::CoEngaged);
        found.add(7, Origin::Batch);
        found.add(7, Origin::Fresh);
        let c = &found.map[&7];
        assert_eq!(
            &c.origins[..],
            &[Origin::Batch, Origin::CoEngaged, Origin::Fresh]
        );
        assert!(!c.is_exploration());
        let mut all = Origins::new(Origin::Boosted);
        for o in [
            Origin::CoEngaged,
            Origin::Embedding,
            Origin::Batch,
            Origin::Following,
            Origin::Affinity,
            Origin::Trending,
            Origin::Worldwide,
            Origin::Fresh,
            Origin::Explore,
            Origin::Backfill,
            Origin::Boosted,
        ] {
            all.push(o);
        }
        assert_eq!(all.len(), 11);
    }
}
