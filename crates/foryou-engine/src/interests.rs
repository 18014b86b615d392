//! What the engine has learned about one person, in readable form: the creators, sounds and
//! hashtags it weighs for them (strongest first), what they said "not interested" to, and how
//! much it has seen of them. For export (GDPR Art. 15/20) and for the person's own settings page.

use crate::Engine;
use foryou_types::{SoundId, UserId, VideoId};
use serde::Serialize;

/// One learned weight.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Weighted<T> {
    /// What it is about.
    pub key: T,
    /// The learned affinity (logit scale; above 0 draws the person, below 0 pushes away).
    pub weight: f32,
}

/// Everything the engine holds about one person.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interests {
    /// Creators by learned affinity.
    pub creators: Vec<Weighted<UserId>>,
    /// Sounds by learned affinity.
    pub sounds: Vec<Weighted<SoundId>>,
    /// Hashtags by learned affinity.
    pub hashtags: Vec<Weighted<String>>,
    /// Videos, creators and sounds they said "not interested" to.
    pub not_interested_videos: Vec<VideoId>,
    /// Creators they said "not interested" to.
    pub not_interested_creators: Vec<UserId>,
    /// Sounds they said "not interested" to.
    pub not_interested_sounds: Vec<SoundId>,
    /// Recent engagements the feed builds on, oldest first.
    pub recent_videos: Vec<VideoId>,
    /// Videos watched or skipped (never shown again).
    pub seen_videos: usize,
    /// Views and skips learned.
    pub views: u32,
    /// When the engine last heard from them, Unix ms.
    pub last_ms: u64,
}

/// The engine's learned state about `user`, up to `n` entries per list (`None` when it holds
/// nothing about them).
pub fn interests(engine: &Engine, user: UserId, n: usize) -> Option<Interests> {
    let s = engine.state();
    let u = s.users.get(&user)?;
    fn top<K: Clone>(
        m: impl Iterator<Item = (K, f32)>,
        n: usize,
        order: impl Fn(&K, &K) -> std::cmp::Ordering,
    ) -> Vec<Weighted<K>> {
        let mut v: Vec<Weighted<K>> = m.map(|(key, weight)| Weighted { key, weight }).collect();
        v.sort_by(|a, b| {
            b.weight
                .abs()
                .total_cmp(&a.weight.abs())
                .then_with(|| order(&a.key, &b.key))
        });
        v.truncate(n);
        v
    }
    let item = |i: u32| s.items.get(i as usize).map(|it| it.id);
    let mut nv: Vec<VideoId> = u.blocked_items.iter().filter_map(|&i| item(i)).collect();
    nv.sort();
    let mut nc: Vec<UserId> = u
        .blocked_creators
        .iter()
        .map(|&c| *s.creator_ids.key(c))
        .collect();
    nc.sort();
    let mut ns: Vec<SoundId> = u
        .blocked_sounds
        .iter()
        .map(|&c| *s.sound_ids.key(c))
        .collect();
    ns.sort();
    Some(Interests {
        creators: top(
            u.creators.iter().map(|(&k, &w)| (*s.creator_ids.key(k), w)),
            n,
            |a, b| a.cmp(b),
        ),
        sounds: top(
            u.sounds.iter().map(|(&k, &w)| (*s.sound_ids.key(k), w)),
            n,
            |a, b| a.cmp(b),
        ),
        hashtags: top(
            u.tags.iter().map(|(&k, &w)| (s.tag_ids.key(k).clone(), w)),
            n,
            |a, b| a.cmp(b),
        ),
        not_interested_videos: nv,
        not_interested_creators: nc,
        not_interested_sounds: ns,
        recent_videos: u.recent.iter().filter_map(|&(i, _)| item(i)).collect(),
        seen_videos: u.seen.len(),
        views: u.views,
        last_ms: u.last_ms,
    })
}
