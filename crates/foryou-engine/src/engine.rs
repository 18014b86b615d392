//! The engine: learns from a region's events one at a time and serves feed requests through the
//! pipeline (sources → hydration → filters → ranker → page).

use crate::ann::VectorIndex;
use crate::embed::Group;
use crate::explore;
use crate::learn::{add_stats, coengagement_feature, learn_affinity, signal, AFFINITY_CAP};
use crate::pipeline::Pipeline;
use crate::rerank::PagePlan;
use crate::state::{Item, State, Stats};
use crate::{EngineConfig, EngineError, FeedRequest, ItemMeta, Recommendation};
use foryou_types::{EventKind, EventRecord, NotInterestedTarget, UserId, VideoId};
use rand::SeedableRng;

/// One region's engine.
pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) state: State,
    pub(crate) pipeline: Pipeline,
    pub(crate) index: Option<Box<dyn VectorIndex>>,
    pub(crate) indexed_items: usize,
    pub(crate) indexed_at_learned: u64,
    /// The batch item-to-item model, refit now and then (not in snapshots: refit after a start).
    pub(crate) batch: Option<std::sync::Arc<crate::batch::ItemModel>>,
}

/// The random stream of one step, a function of the seed and a position that the learned state
/// itself records (an item's id, the count of positives learned): a restored engine that
/// replays the same events draws the same numbers as the live one did. A small, fast generator
/// (xoshiro), seeded per step on the learner's hot path; the streams are not secrets.
fn step_rng(seed: u64, position: u64) -> rand::rngs::SmallRng {
    rand::rngs::SmallRng::seed_from_u64(seed ^ position.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Bumped whenever the learned state's layout changes (snapshots are bincode, which has no
/// defaults for new fields): an older snapshot is refused and the log is replayed instead.
const SNAPSHOT_VERSION: u32 = 11;

impl Engine {
    /// An empty engine.
    pub fn new(config: EngineConfig) -> Self {
        let state = State::for_config(&config);
        Engine::with_state(config, state)
    }

    fn with_state(config: EngineConfig, state: State) -> Self {
        Engine {
            config,
            state,
            pipeline: Pipeline::default(),
            index: None,
            indexed_items: 0,
            indexed_at_learned: 0,
            batch: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    fn intern_item(&mut self, id: VideoId) -> u32 {
        let i = self.state.item_ids.intern(&id);
        if i as usize == self.state.items.len() {
            self.state.items.push(Item {
                id,
                creator: None,
                sound: None,
                tags: Vec::new(),
                duration_ms: 0,
                created_ms: 0,
                live: false,
                stats: Stats::default(),
                pop: 0.0,
                crowd: 0.0,
                stage: None,
                trending: false,
                engaged: false,
            });
            self.state.cooc.ensure(i as usize + 1);
            self.state
                .embed
                .add(i, &[], &mut step_rng(self.config.seed, id.0 ^ (1 << 63)));
        }
        i
    }

    fn groups(&self, i: u32) -> Vec<Group> {
        let it = &self.state.items[i as usize];
        let mut g: Vec<Group> = it.tags.iter().map(|&t| Group::Tag(t)).collect();
        g.extend(it.creator.map(Group::Creator));
        g.extend(it.sound.map(Group::Sound));
        g
    }

    /// Adds or updates a catalog item. A new item is placed by its creator, sound and hashtags
    /// and, when recent, enters the exploration pool.
    pub fn upsert_item(&mut self, meta: ItemMeta) {
        let known = self.state.item_ids.get(&meta.id).is_some();
        let i = self.intern_item(meta.id);
        let creator = meta.creator.map(|c| self.state.creator_ids.intern(&c));
        let sound = meta.sound.map(|s| self.state.sound_ids.intern(&s));
        let tags: Vec<u32> = meta
            .hashtags
            .iter()
            .map(|t| self.state.tag_ids.intern(t))
            .collect();
        let was_live = self.state.items[i as usize].live;
        {
            let it = &mut self.state.items[i as usize];
            it.creator = creator;
            it.sound = sound;
            it.tags = tags.clone();
            it.duration_ms = meta.duration_ms;
            it.created_ms = meta.created_ms;
            it.live = true;
        }
        if !was_live {
            let push = |lists: &mut Vec<Vec<u32>>, k: u32| {
                if lists.len() <= k as usize {
                    lists.resize_with(k as usize + 1, Vec::new);
                }
                lists[k as usize].push(i);
            };
            if let Some(c) = creator {
                push(&mut self.state.by_creator, c);
            }
            if let Some(s) = sound {
                push(&mut self.state.by_sound, s);
            }
            for &t in &tags {
                push(&mut self.state.by_tag, t);
            }
            if !known {
                // Placed by its content until engagement teaches it better.
                let groups = self.groups(i);
                let id = self.state.items[i as usize].id;
                self.state.embed.add(
                    i,
                    &groups,
                    &mut step_rng(self.config.seed, id.0 ^ (1 << 63)),
                );
            }
            let now = meta.created_ms.max(self.state.clock_ms);
            explore::admit(&mut self.state, i, now, &self.config);
        }
    }

    /// Tells the engine the current time so the exploration pool can drop videos that aged out.
    pub fn tick(&mut self, now_ms: u64) {
        self.state.clock_ms = self.state.clock_ms.max(now_ms);
        explore::expire(&mut self.state, now_ms, &self.config);
    }

    /// Takes an item out of the catalog (removed by its creator or a moderator).
    pub fn remove_item(&mut self, id: VideoId) {
        if let Some(i) = self.state.item_ids.get(&id) {
            let it = &mut self.state.items[i as usize];
            if it.live && it.engaged {
                self.state.engaged -= 1;
            }
            it.live = false;
            it.stage = None;
            let (c, s, tags) = (it.creator, it.sound, it.tags.clone());
            let drop = |lists: &mut Vec<Vec<u32>>, k: Option<u32>| {
                if let Some(l) = k.and_then(|k| lists.get_mut(k as usize)) {
                    l.retain(|&x| x != i);
                }
            };
            drop(&mut self.state.by_creator, c);
            drop(&mut self.state.by_sound, s);
            for t in tags {
                drop(&mut self.state.by_tag, Some(t));
            }
            self.state.fresh.retain(|&x| x != i);
            self.state.cooc.clear(i);
        }
    }

    /// Ids of the live catalog items.
    pub fn live_items(&self) -> Vec<VideoId> {
        self.state
            .items
            .iter()
            .filter(|i| i.live)
            .map(|i| i.id)
            .collect()
    }

    /// Number of live catalog items.
    pub fn item_count(&self) -> usize {
        self.state.items.iter().filter(|i| i.live).count()
    }

    /// Number of users with learned state.
    pub fn user_count(&self) -> usize {
        self.state.users.len()
    }

    /// The last event sequence number learned from.
    pub fn last_seq(&self) -> u64 {
        self.state.last_seq
    }

    /// Whether `user` has watched or skipped `video`.
    pub fn has_seen(&self, user: UserId, video: VideoId) -> bool {
        match (self.state.users.get(&user), self.state.item_ids.get(&video)) {
            (Some(u), Some(i)) => u.seen.contains(&i),
            _ => false,
        }
    }

    /// The region's trending items, best first, with the crowd's popularity of each now.
    pub fn trending(&self, n: usize) -> Vec<(VideoId, f64)> {
        let f = self.state.crowd_scale();
        self.state
            .top_trending(n)
            .into_iter()
            .map(|i| {
                let it = &self.state.items[i as usize];
                (it.id, it.crowd * f)
            })
            .collect()
    }

    /// Learns one event of this region's log. Events are applied once, in `seq` order.
    pub fn observe(&mut self, e: &EventRecord) {
        if e.seq != 0 && e.seq <= self.state.last_seq {
            return;
        }
        self.state.last_seq = self.state.last_seq.max(e.seq);
        if e.kind == EventKind::Erased {
            return;
        }
        self.advance_clock(e.ts_ms);
        // What was shown waits for what follows; what follows labels it.
        if e.kind == EventKind::Impression {
            crate::impressions::note(&mut self.state, &self.config, e);
            return;
        }
        crate::impressions::outcome(&mut self.state, &self.config, e);
        match (e.kind, e.video) {
            (EventKind::Refresh, _) => {
                self.forget_user(e.user);
                return;
            }
            // Catalog changes, at their place in the stream.
            (EventKind::Publish, Some(id)) => {
                self.upsert_item(ItemMeta {
                    id,
                    creator: e.creator,
                    sound: e.sound,
                    hashtags: e.tags.clone(),
                    duration_ms: e.duration_ms.unwrap_or(0),
                    created_ms: e.ts_ms,
                });
                return;
            }
            (EventKind::Unpublish, Some(id)) => {
                self.remove_item(id);
                return;
            }
            (EventKind::Publish | EventKind::Unpublish, None) => return,
            _ => {}
        }
        if e.kind == EventKind::UndoNotInterested {
            self.undo_not_interested(e);
            return;
        }
        // The person had personalisation off: nothing is learned from it, now or on replay.
        // Follower approvals are account settings, not taste.
        if e.not_learned
            || matches!(
                e.kind,
                EventKind::ApproveFollower | EventKind::DeclineFollower
            )
        {
            return;
        }
        let s = signal(e);
        // The ranker learns from the choice before the state learns the event (the features as
        // a request a moment ago would have seen them): the next request ranks with the update.
        if s >= 0.5 {
            if let Some(v) = e.video {
                self.train_on_choice(e.user, v, e.ts_ms, self.config.ranker_negatives);
            }
        }
        let item = e.video.and_then(|v| self.state.item_ids.get(&v));
        let (creator, sound) = match item {
            Some(i) => {
                let it = &self.state.items[i as usize];
                (it.creator, it.sound)
            }
            None => (
                e.creator.and_then(|c| self.state.creator_ids.get(&c)),
                e.sound.and_then(|c| self.state.sound_ids.get(&c)),
            ),
        };
        if let Some(i) = item {
            let st = &mut self.state.items[i as usize].stats;
            let mut d = Stats::default();
            match e.kind {
                EventKind::View | EventKind::Skip => {
                    d.exposures = 1.0;
                    let r = if e.kind == EventKind::Skip {
                        0.0
                    } else {
                        e.watch_ratio().unwrap_or(0.0).min(1.0) as f32
                    };
                    d.watch = r;
                    d.completions = f32::from(e.completed());
                    d.negatives = f32::from(e.kind == EventKind::Skip || r < 0.2);
                }
                EventKind::Like => d.likes = 1.0,
                EventKind::Unlike => d.likes = -1.0f32.max(-st.likes),
                EventKind::Share => d.shares = 1.0,
                EventKind::Comment => d.comments = 1.0,
                EventKind::Follow => d.follows = 1.0,
                EventKind::NotInterested => d.negatives = 1.0,
                EventKind::Unfollow
                | EventKind::Refresh
                | EventKind::Publish
                | EventKind::Unpublish
                | EventKind::ApproveFollower
                | EventKind::DeclineFollower
                | EventKind::UndoNotInterested
                | EventKind::Erased
                | EventKind::Impression
                | EventKind::Save
                | EventKind::Unsave
                | EventKind::LikeComment
                | EventKind::UnlikeComment => {}
            }
            add_stats(st, &d);
            add_stats(&mut self.state.totals.sum, &d);
            if d.exposures > 0.0 {
                explore::on_exposure(&mut self.state, i, &self.config);
            }
        }
        let u = self.state.users.entry(e.user).or_default();
        u.last_ms = u.last_ms.max(e.ts_ms);
        if let Some(i) = item {
            if matches!(e.kind, EventKind::View | EventKind::Skip) {
                u.seen.insert(i);
                u.views += 1;
            }
            if s < 0.0 && !u.negative.contains(&i) {
                u.negative.push_back(i);
                while u.negative.len() > self.config.history_len {
                    u.negative.pop_front();
                }
            }
        }
        if e.kind == EventKind::NotInterested {
            match e.not_interested.unwrap_or(NotInterestedTarget::Video) {
                NotInterestedTarget::Video => {
                    u.blocked_items.extend(item);
                }
                NotInterestedTarget::Creator => {
                    u.blocked_creators.extend(creator);
                }
                NotInterestedTarget::Sound => {
                    u.blocked_sounds.extend(sound);
                }
            }
        }
        if let Some(i) = item {
            // A lukewarm view (`0 ≤ s < 0.5`) teaches the affinities nothing: no need to weigh
            // its co-engagement (twenty row probes).
            if !(0.0..0.5).contains(&s) {
                let co = coengagement_feature(&self.state.cooc, u, i);
                let State { users, items, .. } = &mut self.state;
                let u = users.get_mut(&e.user).expect("entered above");
                let tags = &items[i as usize].tags;
                learn_affinity(u, creator, sound, tags, co, s, self.config.affinity_rate);
            }
        } else if let (Some(c), EventKind::Follow | EventKind::Unfollow) = (creator, e.kind) {
            // A follow or unfollow from a profile: evidence about the creator alone.
            let a = u.creators.entry(c).or_default();
            *a = (*a + 0.5 * s).clamp(-AFFINITY_CAP, AFFINITY_CAP);
        }
        if let Some(i) = item {
            if s >= 0.5 {
                self.learn_positive(e.user, i, s.min(3.0), e.ts_ms);
            }
        }
    }

    /// Moves the engine's clock forward; once a minute, new videos that aged out leave the pool.
    fn advance_clock(&mut self, ts_ms: u64) {
        self.state.clock_ms = self.state.clock_ms.max(ts_ms);
        if self.state.clock_ms > self.state.swept_ms + 60_000 {
            let now = self.state.clock_ms;
            self.state.swept_ms = now;
            explore::expire(&mut self.state, now, &self.config);
        }
    }

    /// Learns a positive interaction of `strength` from a plain interaction file (the offline
    /// tools): the same learner as `observe`, without the platform's event kinds.
    pub fn observe_interaction(&mut self, user: UserId, item: VideoId, ts_ms: u64, strength: f32) {
        self.advance_clock(ts_ms);
        self.train_on_choice(user, item, ts_ms, self.config.ranker_negatives);
        let i = self.intern_item(item);
        if !self.state.items[i as usize].live {
            self.state.items[i as usize].live = true;
            self.state.items[i as usize].created_ms = ts_ms;
        }
        let d = Stats {
            exposures: 1.0,
            likes: 1.0,
            ..Stats::default()
        };
        add_stats(&mut self.state.items[i as usize].stats, &d);
        add_stats(&mut self.state.totals.sum, &d);
        let State { users, items, .. } = &mut self.state;
        let it = &items[i as usize];
        let u = users.entry(user).or_default();
        u.last_ms = u.last_ms.max(ts_ms);
        u.seen.insert(i);
        u.views += 1;
        let s = strength.max(0.5);
        // Positives only carry no contrast for the user's trust in co-engagement: feature 0.
        let rate = self.config.affinity_rate;
        learn_affinity(u, it.creator, it.sound, &it.tags, 0.0, s, rate);
        self.learn_positive(user, i, s, ts_ms);
    }

    fn learn_positive(&mut self, user: UserId, i: u32, strength: f32, ts_ms: u64) {
        self.state.learned += 1;
        self.state.add_pop(i, strength as f64, ts_ms, &self.config);
        let groups = self.groups(i);
        let mut rng = step_rng(self.config.seed, self.state.learned);
        let State {
            users, cooc, embed, ..
        } = &mut self.state;
        let Some(u) = users.get_mut(&user) else {
            return;
        };
        if let Some(p) = u.recent.iter().position(|r| r.0 == i) {
            // A second engagement with the same item strengthens it; it pairs only once.
            u.recent[p].1 = (u.recent[p].1 + strength).min(3.0);
            return;
        }
        let recent = u.recent.make_contiguous();
        cooc.learn(i, strength, recent, &self.config.cooc);
        embed.learn(i, recent, &groups, &self.config.embed, &mut rng);
        u.recent.push_back((i, strength));
        let cap = self
            .config
            .history_len
            .max(self.config.cooc.window)
            .max(self.config.batch_history);
        while u.recent.len() > cap {
            u.recent.pop_front();
        }
    }

    /// Takes a "not interested" back: the video, its creator or its sound may return.
    fn undo_not_interested(&mut self, e: &EventRecord) {
        let item = e.video.and_then(|v| self.state.item_ids.get(&v));
        let (creator, sound) = match item {
            Some(i) => {
                let it = &self.state.items[i as usize];
                (it.creator, it.sound)
            }
            None => (
                e.creator.and_then(|c| self.state.creator_ids.get(&c)),
                e.sound.and_then(|c| self.state.sound_ids.get(&c)),
            ),
        };
        let Some(u) = self.state.users.get_mut(&e.user) else {
            return;
        };
        match e.not_interested.unwrap_or(NotInterestedTarget::Video) {
            NotInterestedTarget::Video => {
                if let Some(i) = item {
                    u.blocked_items.remove(&i);
                }
            }
            NotInterestedTarget::Creator => {
                if let Some(c) = creator {
                    u.blocked_creators.remove(&c);
                }
            }
            NotInterestedTarget::Sound => {
                if let Some(s) = sound {
                    u.blocked_sounds.remove(&s);
                }
            }
        }
    }

    /// Erases a person (when `user` is given) and videos: what was learned about them as a
    /// viewer goes, the videos leave the catalog and their ids the state, and the person's id as
    /// a creator is forgotten (the slots stay, naming no one, so others' learned state keeps its
    /// shape). Counts they added to others' videos stay as numbers.
    pub fn erase(&mut self, user: Option<UserId>, videos: &[VideoId]) {
        for &v in videos {
            self.remove_item(v);
            if let Some(i) = self.state.item_ids.forget(&v, VideoId(0)) {
                self.state.items[i as usize].id = VideoId(0);
            }
        }
        if let Some(u) = user {
            self.forget_user(u);
            self.state.creator_ids.forget(&u, UserId(0));
        }
        // The batch model was fitted on what was erased: it goes until the next refit.
        self.batch = None;
    }

    /// Forgets what was learned about `user` (the "refresh" of the feed), keeping nothing.
    pub fn forget_user(&mut self, user: UserId) {
        self.state.users.remove(&user);
        // The pages their open trials would have shown them go too.
        self.state.open_trials.remove(&user);
    }

    /// Drops the state of users idle since before `before_ms`, so memory stays bounded.
    /// Returns how many were dropped.
    pub fn expire_idle(&mut self, before_ms: u64) -> usize {
        let n = self.state.users.len();
        self.state.users.retain(|_, u| u.last_ms >= before_ms);
        n - self.state.users.len()
    }

    /// Ranks the catalog for a request.
    pub fn recommend(&self, req: &FeedRequest) -> Vec<Recommendation> {
        let q = self.user_query(req);
        let personal = q.user.is_some();
        let share = match q.user {
            Some(u) if self.config.explore_share > 0.0 => {
                let cold =
                    (1.0 - u.views as f64 / self.config.cold_start_views.max(1) as f64).max(0.0);
                self.config.explore_share
                    + (self.config.cold_start_share - self.config.explore_share).max(0.0) * cold
            }
            _ => 0.0,
        };
        // A page past the catalog's end is empty: the skip never grows the work or the page
        // beyond the catalog, whatever the caller asked.
        let catalog = self.state.items.len();
        let skip = if personal { 0 } else { req.skip.min(catalog) };
        let plan = PagePlan {
            limit: req.limit.min(catalog).saturating_add(skip),
            explore_share: share,
            max_neighbour_cosine: self.config.max_neighbour_cosine,
            diversify: self.config.diversify,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(q.seed);
        self.pipeline
            .run(&q, &plan, &mut rng)
            .into_iter()
            .skip(skip)
            .map(|c| Recommendation {
                video: self.state.items[c.item as usize].id,
                score: c.score as f64,
                predictions: c.predictions,
                reasons: crate::explain::reasons(&q, &c),
                sources: c.origins.iter().map(|o| o.name()).collect(),
                features: c.features,
                propensity: c.propensity,
            })
            .collect()
    }

    /// Serialises the learned state (not the index, which is rebuilt from it).
    pub fn snapshot(&self) -> Result<Vec<u8>, EngineError> {
        bincode::serialize(&(SNAPSHOT_VERSION, &self.state)).map_err(|e| EngineError::Snapshot {
            reason: e.to_string(),
        })
    }

    /// An engine from a snapshot; the ANN index is rebuilt.
    pub fn restore(config: EngineConfig, bytes: &[u8]) -> Result<Engine, EngineError> {
        let (version, mut state): (u32, State) =
            bincode::deserialize(bytes).map_err(|e| EngineError::Snapshot {
                reason: e.to_string(),
            })?;
        if version != SNAPSHOT_VERSION {
            return Err(EngineError::Snapshot {
                reason: format!("version {version}, expected {SNAPSHOT_VERSION}"),
            });
        }
        if state.embed.dim() != config.embed.dim {
            return Err(EngineError::Snapshot {
                reason: "embedding dimensions differ from the configuration".into(),
            });
        }
        state.reindex();
        let mut e = Engine::with_state(config, state);
        e.rebuild_index();
        Ok(e)
    }

    /// Read access to the state, for the offline tools and tests.
    pub fn state(&self) -> &State {
        &self.state
    }
}
