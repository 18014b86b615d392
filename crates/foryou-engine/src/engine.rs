//! Engine state and ranking.

use crate::Reason;
use foryou_types::{EventKind, EventRecord, NotInterestedTarget, SoundId, UserId, VideoId};
use std::collections::{HashMap, HashSet};

/// What the engine knows of a catalog item (a video, or a shop's product).
#[derive(Clone, Debug)]
pub struct ItemMeta {
    /// The item.
    pub id: VideoId,
    /// Its creator.
    pub creator: UserId,
    /// Its sound.
    pub sound: SoundId,
    /// Its hashtags.
    pub hashtags: Vec<String>,
    /// Duration in ms.
    pub duration_ms: u64,
    /// Upload time, Unix ms.
    pub created_ms: u64,
}

/// Tunables, with published defaults.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Half-life of popularity, in hours.
    pub popularity_half_life_h: f64,
    /// Videos younger than this count as new, in hours.
    pub new_video_window_h: f64,
    /// Weight of personal affinity against popularity.
    pub affinity_weight: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            popularity_half_life_h: 24.0,
            new_video_window_h: 48.0,
            affinity_weight: 1.0,
        }
    }
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
}

/// One ranked item.
#[derive(Clone, Debug)]
pub struct Recommendation {
    /// The item.
    pub video: VideoId,
    /// Its score (higher first).
    pub score: f64,
    /// Why it was chosen.
    pub reasons: Vec<Reason>,
}

#[derive(Default)]
struct ItemState {
    meta: Option<ItemMeta>,
    /// Engagement, decayed to `pop_at_ms`.
    pop: f64,
    pop_at_ms: u64,
}

#[derive(Default)]
struct UserState {
    seen: HashSet<VideoId>,
    blocked_videos: HashSet<VideoId>,
    blocked_creators: HashSet<UserId>,
    blocked_sounds: HashSet<SoundId>,
    creators: HashMap<UserId, f64>,
    sounds: HashMap<SoundId, f64>,
    tags: HashMap<String, f64>,
}

/// One region's engine.
pub struct Engine {
    config: EngineConfig,
    items: HashMap<VideoId, ItemState>,
    users: HashMap<UserId, UserState>,
    last_seq: u64,
}

/// How much an event says the user liked the video (negative: disliked).
fn signal(e: &EventRecord) -> f64 {
    match e.kind {
        EventKind::View => {
            let r = e.watch_ratio().unwrap_or(0.0);
            if e.completed() {
                1.0 + 0.5 * e.replays().min(4) as f64
            } else if r < 0.2 {
                -0.3
            } else {
                r - 0.2
            }
        }
        EventKind::Skip => -0.5,
        EventKind::Like => 2.0,
        EventKind::Unlike => -2.0,
        EventKind::Share => 3.0,
        EventKind::Comment => 1.5,
        EventKind::Follow => 3.0,
        EventKind::Unfollow => -3.0,
        EventKind::NotInterested => -5.0,
    }
}

impl Engine {
    /// An empty engine.
    pub fn new(config: EngineConfig) -> Self {
        Engine {
            config,
            items: HashMap::new(),
            users: HashMap::new(),
            last_seq: 0,
        }
    }

    /// Adds or updates a catalog item.
    pub fn upsert_item(&mut self, meta: ItemMeta) {
        let st = self.items.entry(meta.id).or_default();
        st.pop_at_ms = st.pop_at_ms.max(meta.created_ms);
        st.meta = Some(meta);
    }

    /// Takes an item out of the catalog (removed by its creator or a moderator).
    pub fn remove_item(&mut self, id: VideoId) {
        self.items.remove(&id);
    }

    /// Number of catalog items.
    pub fn item_count(&self) -> usize {
        self.items.values().filter(|i| i.meta.is_some()).count()
    }

    /// The last event sequence number learned from.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    fn decay(&self, value: f64, from_ms: u64, to_ms: u64) -> f64 {
        let h = to_ms.saturating_sub(from_ms) as f64 / 3.6e6;
        value * 0.5f64.powf(h / self.config.popularity_half_life_h)
    }

    /// Learns one event of this region's log. Events are applied once, in `seq` order.
    pub fn observe(&mut self, e: &EventRecord) {
        if e.seq != 0 && e.seq <= self.last_seq {
            return;
        }
        self.last_seq = self.last_seq.max(e.seq);
        let s = signal(e);
        let (creator, sound, tags) = match e
            .video
            .and_then(|v| self.items.get(&v))
            .and_then(|i| i.meta.as_ref())
        {
            Some(m) => (Some(m.creator), Some(m.sound), m.hashtags.clone()),
            None => (e.creator, e.sound, Vec::new()),
        };
        if let Some(v) = e.video {
            let decayed = self
                .items
                .get(&v)
                .map(|st| self.decay(st.pop, st.pop_at_ms, e.ts_ms));
            if let (Some(d), Some(st)) = (decayed, self.items.get_mut(&v)) {
                st.pop = d + s.max(-1.0);
                st.pop_at_ms = st.pop_at_ms.max(e.ts_ms);
            }
        }
        let u = self.users.entry(e.user).or_default();
        if let Some(v) = e.video {
            if matches!(e.kind, EventKind::View | EventKind::Skip) {
                u.seen.insert(v);
            }
        }
        if e.kind == EventKind::NotInterested {
            match e.not_interested.unwrap_or(NotInterestedTarget::Video) {
                NotInterestedTarget::Video => {
                    if let Some(v) = e.video {
                        u.blocked_videos.insert(v);
                    }
                }
                NotInterestedTarget::Creator => {
                    if let Some(c) = creator {
                        u.blocked_creators.insert(c);
                    }
                }
                NotInterestedTarget::Sound => {
                    if let Some(x) = sound {
                        u.blocked_sounds.insert(x);
                    }
                }
            }
        }
        if let Some(c) = creator {
            *u.creators.entry(c).or_default() += s;
        }
        if let Some(x) = sound {
            *u.sounds.entry(x).or_default() += s * 0.7;
        }
        for t in tags {
            *u.tags.entry(t).or_default() += s * 0.4;
        }
    }

    /// Forgets what was learned about `user` (the "refresh" of the feed), keeping nothing.
    pub fn forget_user(&mut self, user: UserId) {
        self.users.remove(&user);
    }

    /// Whether `user` has watched `video`.
    pub fn has_seen(&self, user: UserId, video: VideoId) -> bool {
        self.users
            .get(&user)
            .is_some_and(|u| u.seen.contains(&video))
    }

    /// Ranks the catalog for a request.
    pub fn recommend(&self, req: &FeedRequest) -> Vec<Recommendation> {
        let empty = UserState::default();
        let personal = req.mode == FeedMode::Personalised;
        let u = if personal {
            self.users.get(&req.user).unwrap_or(&empty)
        } else {
            &empty
        };
        let following: HashSet<UserId> = if personal {
            req.following.iter().copied().collect()
        } else {
            HashSet::new()
        };
        let new_window_ms = (self.config.new_video_window_h * 3.6e6) as u64;
        let mut scored: Vec<(f64, &ItemMeta, Vec<Reason>)> = Vec::new();
        for st in self.items.values() {
            let Some(m) = st.meta.as_ref() else { continue };
            if u.seen.contains(&m.id)
                || u.blocked_videos.contains(&m.id)
                || u.blocked_creators.contains(&m.creator)
                || u.blocked_sounds.contains(&m.sound)
            {
                continue;
            }
            let pop = self.decay(st.pop, st.pop_at_ms, req.now_ms).max(0.0);
            let mut score = (1.0 + pop).ln();
            let mut reasons = Vec::new();
            if personal {
                let c = u.creators.get(&m.creator).copied().unwrap_or(0.0);
                let s = u.sounds.get(&m.sound).copied().unwrap_or(0.0);
                let (tag, t) = m
                    .hashtags
                    .iter()
                    .map(|x| (x, u.tags.get(x).copied().unwrap_or(0.0)))
                    .fold(
                        (None, 0.0),
                        |best, (x, v)| if v > best.1 { (Some(x), v) } else { best },
                    );
                let aff = c.clamp(-5.0, 8.0) + s.clamp(-5.0, 6.0) + t.clamp(-3.0, 4.0);
                score += self.config.affinity_weight * aff;
                if following.contains(&m.creator) {
                    score += 1.5;
                    reasons.push(Reason::FollowedCreator { creator: m.creator });
                }
                if c > 0.8 && !following.contains(&m.creator) {
                    reasons.push(Reason::EngagedCreator { creator: m.creator });
                }
                if s > 0.6 {
                    reasons.push(Reason::LikedSound { sound: m.sound });
                }
                if let (Some(tag), true) = (tag, t > 0.4) {
                    reasons.push(Reason::Hashtag { tag: tag.clone() });
                }
            }
            let age = req.now_ms.saturating_sub(m.created_ms);
            if age < new_window_ms && pop < 3.0 {
                score += 0.5;
                reasons.push(Reason::NewVideo);
            }
            if pop >= 1.0 && reasons.is_empty() {
                reasons.push(Reason::PopularInRegion);
            }
            if !personal {
                reasons.insert(0, Reason::NotPersonalised);
            }
            if reasons.is_empty() {
                reasons.push(Reason::PopularInRegion);
            }
            // A deterministic tie-break so equal scores do not depend on hash order.
            let salt = if personal {
                req.user.0.rotate_left(17)
            } else {
                0
            };
            let tie =
                ((m.id.0 ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64 / 16_777_216.0;
            scored.push((score + tie * if personal { 0.3 } else { 1e-6 }, m, reasons));
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        let skip = if personal { 0 } else { req.skip };
        diversify(scored, req.limit + skip)
            .into_iter()
            .skip(skip)
            .collect()
    }
}

/// Takes the best items in order, never placing two from the same creator or sound in a row
/// while any other item is left.
fn diversify(scored: Vec<(f64, &ItemMeta, Vec<Reason>)>, limit: usize) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = Vec::with_capacity(limit);
    let mut pending: Vec<(f64, &ItemMeta, Vec<Reason>)> = Vec::new();
    let mut last: Option<(UserId, SoundId)> = None;
    let mut iter = scored.into_iter();
    while out.len() < limit {
        let clash = |m: &ItemMeta, last: Option<(UserId, SoundId)>| {
            last.is_some_and(|(c, s)| c == m.creator || s == m.sound)
        };
        let pos = pending.iter().position(|(_, m, _)| !clash(m, last));
        let next = match pos {
            Some(p) => Some(pending.remove(p)),
            None => loop {
                match iter.next() {
                    Some(x) if clash(x.1, last) => pending.push(x),
                    other => break other,
                }
            },
        };
        // When only clashing items are left, the rule gives way rather than end the feed.
        let next = next.or_else(|| (!pending.is_empty()).then(|| pending.remove(0)));
        let Some((score, m, reasons)) = next else {
            break;
        };
        last = Some((m.creator, m.sound));
        out.push(Recommendation {
            video: m.id,
            score,
            reasons,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use foryou_types::Region;

    fn item(id: u64, creator: u64, sound: u64) -> ItemMeta {
        ItemMeta {
            id: VideoId(id),
            creator: UserId(creator),
            sound: SoundId(sound),
            hashtags: vec![],
            duration_ms: 10_000,
            created_ms: 0,
        }
    }

    fn view(seq: u64, user: u64, video: u64, watch_ms: u64) -> EventRecord {
        EventRecord {
            seq,
            id: format!("e{seq}"),
            user: UserId(user),
            region: Region::new("eu").expect("region"),
            kind: EventKind::View,
            ts_ms: 1_000 * seq,
            video: Some(VideoId(video)),
            creator: None,
            sound: None,
            duration_ms: Some(10_000),
            watch_ms: Some(watch_ms),
            not_interested: None,
            text: None,
            comment: None,
        }
    }

    fn req(user: u64, mode: FeedMode) -> FeedRequest {
        FeedRequest {
            user: UserId(user),
            limit: 10,
            mode,
            now_ms: 1_000_000,
            following: vec![],
            skip: 0,
        }
    }

    #[test]
    fn seen_videos_leave_the_feed_and_taste_moves_it() {
        let mut e = Engine::new(EngineConfig::default());
        for i in 0..40 {
            e.upsert_item(item(i, i % 8, 100 + i % 5));
        }
        e.observe(&view(1, 1, 3, 10_000));
        e.observe(&view(2, 1, 11, 10_000));
        let feed = e.recommend(&req(1, FeedMode::Personalised));
        assert!(feed
            .iter()
            .all(|r| r.video != VideoId(3) && r.video != VideoId(11)));
        assert_eq!(feed.len(), 10);
        let from_creator_3 = feed.iter().filter(|r| r.video.0 % 8 == 3).count();
        assert!(from_creator_3 >= 2, "{feed:?}");
        for w in feed.windows(2) {
            assert_ne!(
                w[0].video.0 % 8,
                w[1].video.0 % 8,
                "same creator twice in a row"
            );
        }
    }

    #[test]
    fn non_personalised_feed_ignores_history() {
        let mut e = Engine::new(EngineConfig::default());
        for i in 0..30 {
            e.upsert_item(item(i, i % 6, i % 4));
        }
        for (s, v) in [(1, 1), (2, 2), (3, 7)] {
            e.observe(&view(s, 1, v, 10_000));
        }
        for (s, v) in [(4, 13), (5, 14)] {
            e.observe(&view(s, 2, v, 500));
        }
        let a: Vec<VideoId> = e
            .recommend(&req(1, FeedMode::NonPersonalised))
            .iter()
            .map(|r| r.video)
            .collect();
        let b: Vec<VideoId> = e
            .recommend(&req(2, FeedMode::NonPersonalised))
            .iter()
            .map(|r| r.video)
            .collect();
        assert_eq!(a, b);
    }
}
