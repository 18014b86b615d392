//! The engine's learning beyond the per-event learner: the trained ranker's pairwise steps
//! (`train_on_choice`), and the refits made from snapshots of the state, off the request path:
//! the batch item-to-item model and the ANN index. The impressions' labels are in
//! `impressions.rs`, the heads in `model.rs`, the batch model in `batch.rs`, the index in
//! `ann/`.

use crate::ann::{BuiltIndex, IndexJob};
use crate::{Engine, FeedRequest};
use foryou_types::{UserId, VideoId};
use rand::{Rng, SeedableRng};

/// Catalog items in the ranking steps' negative pool, and the positives learned between draws.
const NEGATIVE_POOL: usize = 512;
const NEGATIVE_POOL_PERIOD: u64 = 256;

impl Engine {
    /// Whether the ANN index lags the embeddings enough to be rebuilt.
    pub fn index_stale(&self) -> bool {
        let engaged = self.state.engaged;
        let learned = self.state.learned - self.indexed_at_learned;
        (self.index.is_none() && engaged > 0)
            || engaged > self.indexed_items + self.indexed_items / 10 + 16
            || learned as usize > 4 * engaged.max(1000)
    }

    /// A snapshot of what a new index is built from: the unit vector of every live item that
    /// someone engaged with (a vector learned from nothing is only its content centroid; such
    /// items reach feeds through the fresh, affinity and trending sources instead). Build it
    /// anywhere, e.g. on another thread, and hand the result to `install_index`.
    pub fn index_job(&self) -> IndexJob {
        let items = self
            .state
            .items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.live && it.engaged)
            .map(|(i, _)| {
                let mut v = self.state.embed.get(i as u32).to_vec();
                crate::embed::normalise(&mut v);
                (i as u32, v)
            })
            .collect();
        IndexJob {
            dim: self.state.embed.dim(),
            items,
            seed: self.config.seed,
            learned_at: self.state.learned,
        }
    }

    /// Installs an index built from an `index_job`.
    pub fn install_index(&mut self, built: BuiltIndex) {
        self.indexed_items = built.index.len();
        self.indexed_at_learned = built.learned_at;
        self.index = Some(built.index);
    }

    /// Builds the HNSW index from the current embeddings, in place.
    pub fn rebuild_index(&mut self) {
        let built = self.index_job().build();
        self.install_index(built);
    }

    /// Whether the batch model lags the learned state enough to be refit: none yet while
    /// there is something to fit, or a tenth more learned (at least 500 positives) since.
    pub fn batch_stale(&self) -> bool {
        if self.config.batch_items == 0 {
            return false;
        }
        match &self.batch {
            None => self.state.learned >= 100,
            Some(m) => {
                let since = self.state.learned.saturating_sub(m.learned_at);
                since >= 500 && since * 10 >= m.learned_at
            }
        }
    }

    /// A snapshot of what the batch model is fitted on; fit it anywhere (e.g. on another
    /// thread) and hand the result to [`Engine::install_batch`].
    pub fn batch_job(&self) -> crate::batch::BatchJob {
        crate::batch::BatchJob::new(
            &self.state,
            self.config.batch_items,
            self.config.batch_history,
            self.config.batch_lambda,
            self.config.batch_rank,
            self.config.seed,
        )
    }

    /// Puts a fitted batch model in service.
    pub fn install_batch(&mut self, model: crate::batch::ItemModel) {
        self.batch = Some(std::sync::Arc::new(model));
    }

    /// For benchmarks: the share of the batch model's exact top `k` for `user` that a feed's
    /// two-pass scan finds, and the seconds that scan took (`None` without a model or a
    /// modelled history).
    pub fn batch_scan_recall(&self, user: UserId, k: usize, now_ms: u64) -> Option<(f64, f64)> {
        let req = FeedRequest::new(user, k, now_ms);
        let q = self.user_query(&req);
        let (model, taste) = (q.batch?, q.batch_taste.as_ref()?);
        let t = std::time::Instant::now();
        let fast = model.top(taste, k);
        let seconds = t.elapsed().as_secs_f64();
        let exact = model.top_exact(taste, k);
        if exact.is_empty() {
            return None;
        }
        let fast: rustc_hash::FxHashSet<u32> = fast.iter().map(|x| x.0).collect();
        let kept = exact.iter().filter(|x| fast.contains(&x.0)).count();
        Some((kept as f64 / exact.len() as f64, seconds))
    }

    /// Refits the batch model in place.
    pub fn rebuild_batch(&mut self) {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let model = self.batch_job().fit(threads);
        self.install_batch(model);
    }

    /// Credits `user`'s open trials of the batch model's share with `chosen` (`blend.rs`) and,
    /// on the schedule of `blend_every`, opens a new one: the pages each strength would have
    /// made of the feed `user` would have been served just now, judged by this engagement and
    /// their next ones.
    fn batch_trial(&mut self, user: UserId, chosen: VideoId, now_ms: u64) {
        use crate::blend::{bucket, OpenTrial, MAX_OPEN};
        let slot = self.state.item_ids.get(&chosen);
        let mut busy = false;
        // The person's open trials are credited with this engagement first (an item the engine
        // has never heard of was on no page, but counts towards each trial's window).
        if let Some(open) = self.state.open_trials.get_mut(&user) {
            let blend = &mut self.state.heads.blend;
            open.retain_mut(|t| !t.engaged(slot.unwrap_or(u32::MAX), blend));
            busy = open.len() >= crate::blend::OPEN_PER_PERSON;
            if open.is_empty() {
                self.state.open_trials.remove(&user);
            }
        }
        if busy {
            return;
        }
        let every = if self.state.learned < self.config.ranker_settled_after {
            self.config.blend_every
        } else {
            self.config.blend_every_settled
        };
        if every == 0 || !self.state.learned.is_multiple_of(u64::from(every)) {
            return;
        }
        if self.state.open_trials.len() >= MAX_OPEN {
            // Trials of people who did not come back give way.
            let since = now_ms.saturating_sub(crate::blend::OPEN_FOR_MS);
            self.state.open_trials.retain(|_, ts| {
                ts.retain(|t| t.opened_ms >= since);
                !ts.is_empty()
            });
            if self.state.open_trials.len() >= MAX_OPEN {
                return;
            }
        }
        let Some(slot) = slot else {
            return;
        };
        if !self.state.users.contains_key(&user) {
            return;
        }
        let req = FeedRequest::new(user, 10, now_ms);
        let q = self.user_query(&req);
        if q.history.is_empty() {
            return;
        }
        let stage = bucket(q.history.len());
        let mut list = self.pipeline.scored(&q);
        // The ranker's own score (the request's may already hold the chosen shares).
        let w = &self.config.objectives;
        for c in list.iter_mut() {
            c.score = crate::rank::objective(w, &c.predictions);
        }
        let terms = crate::blend::terms(&crate::rank::blend_inputs(&q, &list, true));
        let items: Vec<u32> = list.iter().map(|c| c.item).collect();
        let mut open = OpenTrial::new(stage, &terms, &items, self.config.blend_window, now_ms);
        self.state.heads.blend.start(stage);
        if !open.engaged(slot, &mut self.state.heads.blend) {
            self.state.open_trials.entry(user).or_default().push(open);
        }
    }

    /// Redraws the pool of catalog items the ranking steps take negatives from when a new
    /// period of positives begins. Drawing a step's negatives from a few hundred items rather
    /// than from the whole catalog keeps them in the processor's caches (a draw from a 1M
    /// catalog is a cache miss for each feature); over many periods every live item is drawn
    /// alike, so the steps still contrast positives with the catalog at large.
    fn refresh_negative_pool(&mut self) {
        let period = self.state.learned / NEGATIVE_POOL_PERIOD;
        if period == self.state.negative_pool_period && !self.state.negative_pool.is_empty() {
            return;
        }
        let n = self.state.items.len() as u32;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(
            self.config.seed ^ period.wrapping_mul(0xA24B_AED4_963E_E407) ^ (1 << 62),
        );
        self.state.negative_pool.clear();
        for _ in 0..NEGATIVE_POOL.saturating_mul(2) {
            if self.state.negative_pool.len() >= NEGATIVE_POOL || n == 0 {
                break;
            }
            let i = rng.gen_range(0..n);
            if self.state.items[i as usize].live {
                self.state.negative_pool.push(i);
            }
        }
        self.state.negative_pool_period = period;
    }

    /// Trains the ranker on one observed choice, the way the offline tools replay a log of
    /// positives: just before `user` engages with `chosen`, it should rank above what else the
    /// catalog holds; `negatives` items drawn at random from it (none the person has seen) make
    /// the pairs of one ranking step (Bayesian personalised ranking on the shared relevance).
    /// Call it before [`Engine::observe_interaction`] learns the event.
    pub fn train_on_choice(
        &mut self,
        user: UserId,
        chosen: VideoId,
        now_ms: u64,
        negatives: usize,
    ) {
        self.batch_trial(user, chosen, now_ms);
        if self.config.ranker_rate <= 0.0 || self.state.items.len() < 2 || negatives == 0 {
            return;
        }
        // One positive in `ranker_every` makes a step, one in `ranker_every_settled` once the
        // ranker has settled (a function of the learned state, so a replay trains exactly as the
        // live engine did).
        let every = if self.state.learned < self.config.ranker_settled_after {
            self.config.ranker_every
        } else {
            self.config.ranker_every_settled
        };
        let every = u64::from(every.max(1));
        if !self.state.learned.is_multiple_of(every) {
            return;
        }
        self.refresh_negative_pool();
        let Some(seen) = self.state.users.get(&user).map(|u| &u.seen) else {
            return;
        };
        let Some(slot) = self.state.item_ids.get(&chosen) else {
            return;
        };
        let mut rng = rand::rngs::SmallRng::seed_from_u64(
            self.config.seed ^ now_ms ^ user.0.rotate_left(17) ^ u64::from(slot),
        );
        let pool = &self.state.negative_pool;
        let mut items = vec![slot];
        for _ in 0..negatives.saturating_mul(4) {
            if items.len() > negatives || pool.is_empty() {
                break;
            }
            let i = pool[rng.gen_range(0..pool.len())];
            if i != slot
                && self.state.items[i as usize].live
                && !seen.contains(&i)
                && !items.contains(&i)
            {
                items.push(i);
            }
        }
        let req = FeedRequest::new(user, negatives, now_ms);
        let weighed = {
            // The most recent engagements carry most of the recency-weighted history; weighing
            // against them alone keeps a step cheap on the learner's path.
            let cap = self.config.ranker_history;
            let q = self.user_query_within(&req, (cap > 0).then_some(cap));
            self.pipeline.weigh(&q, &items)
        };
        let (rate, l2) = (self.config.ranker_rate, self.config.ranker_l2);
        let pos = weighed[0].features;
        for c in &weighed[1..] {
            self.state.heads.learn_pair(&pos, &c.features, rate, l2);
        }
    }
}
