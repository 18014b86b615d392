//! A small deterministic world for engine tests: a catalog of creators, sounds and topics, and
//! helpers that turn "user u watched video v for r of its length" into events.

#![allow(dead_code)]

use foryou_engine::{Engine, EngineConfig, FeedMode, FeedRequest, ItemMeta, Recommendation};
use foryou_types::{EventKind, EventRecord, NotInterestedTarget, Region, SoundId, UserId, VideoId};

pub const NOW: u64 = 1_780_000_000_000;
pub const DAY: u64 = 86_400_000;

/// Video `v`'s creator, sound and topic in the test catalog.
pub fn creator_of(v: u64) -> u64 {
    1000 + v % 30
}
pub fn sound_of(v: u64) -> u64 {
    (v * 7 + v / 30) % 15
}
pub fn topic_of(v: u64) -> String {
    format!("topic{}", (v / 3) % 12)
}

pub fn meta(v: u64, created_ms: u64) -> ItemMeta {
    ItemMeta {
        id: VideoId(v),
        creator: Some(UserId(creator_of(v))),
        sound: Some(SoundId(sound_of(v))),
        hashtags: vec![topic_of(v)],
        duration_ms: 20_000,
        created_ms,
    }
}

/// An engine over videos `0..n`, all a week old.
pub fn world(n: u64, config: EngineConfig) -> Engine {
    let mut e = Engine::new(config);
    for v in 0..n {
        e.upsert_item(meta(v, NOW - 7 * DAY));
    }
    e
}

/// Feeds events into an engine with increasing sequence numbers and times.
pub struct Clock {
    pub seq: u64,
}

impl Clock {
    pub fn new() -> Self {
        Clock { seq: 0 }
    }

    pub fn event(
        &mut self,
        user: u64,
        kind: EventKind,
        video: u64,
        watch: Option<f64>,
    ) -> EventRecord {
        self.seq += 1;
        EventRecord {
            seq: self.seq,
            video: Some(VideoId(video)),
            creator: Some(UserId(creator_of(video))),
            sound: Some(SoundId(sound_of(video))),
            duration_ms: Some(20_000),
            watch_ms: watch.map(|r| (r * 20_000.0) as u64),
            ..EventRecord::new(
                format!("e{}", self.seq),
                UserId(user),
                Region::new("eu").expect("region"),
                kind,
                NOW + self.seq * 1000,
            )
        }
    }

    /// `user` watched `video` for `ratio` of its length.
    pub fn view(&mut self, e: &mut Engine, user: u64, video: u64, ratio: f64) {
        let ev = self.event(user, EventKind::View, video, Some(ratio));
        e.observe(&ev);
    }

    pub fn like(&mut self, e: &mut Engine, user: u64, video: u64) {
        let ev = self.event(user, EventKind::Like, video, None);
        e.observe(&ev);
    }

    pub fn not_interested(
        &mut self,
        e: &mut Engine,
        user: u64,
        video: u64,
        t: NotInterestedTarget,
    ) {
        let mut ev = self.event(user, EventKind::NotInterested, video, None);
        ev.not_interested = Some(t);
        e.observe(&ev);
    }

    pub fn refresh(&mut self, e: &mut Engine, user: u64) {
        let mut ev = self.event(user, EventKind::Refresh, 0, None);
        ev.video = None;
        ev.creator = None;
        ev.sound = None;
        e.observe(&ev);
    }

    pub fn now(&self) -> u64 {
        NOW + self.seq * 1000 + 1
    }
}

pub fn request(user: u64, limit: usize, now: u64, seed: u64) -> FeedRequest {
    let mut r = FeedRequest::new(UserId(user), limit, now);
    r.seed = seed;
    r
}

pub fn non_personal(user: u64, limit: usize, now: u64) -> FeedRequest {
    let mut r = request(user, limit, now, 0);
    r.mode = FeedMode::NonPersonalised;
    r
}

pub fn ids(page: &[Recommendation]) -> Vec<u64> {
    page.iter().map(|r| r.video.0).collect()
}

/// Background life: `users` viewers, each finishing the videos of one topic and skipping others.
pub fn background(e: &mut Engine, clock: &mut Clock, users: u64, n_videos: u64) {
    for u in 0..users {
        let topic = u % 12;
        for k in 0..25u64 {
            let v = (u * 31 + k * 17) % n_videos;
            let ratio = if (v / 3) % 12 == topic { 1.0 } else { 0.1 };
            clock.view(e, 10_000 + u, v, ratio);
        }
    }
}
