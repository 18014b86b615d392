//! `foryou bench-reach`: how long a new upload waits for its first audience in a busy region.
//! A world the size of the demo (old videos, thousands of unwatched recent ones waiting in the
//! pool of new videos, viewers with a watched history) receives live For You traffic; a new
//! creator uploads, and the run counts the pages the region serves until each upload has had its
//! first-stage audience (20 exposures by default). Prints one JSON object; BENCHMARKS.md quotes
//! it.

use anyhow::Result;
use foryou_engine::{Engine, EngineConfig, FeedRequest, ItemMeta};
use foryou_types::{EventKind, EventRecord, Region, SoundId, UserId, VideoId};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// Sizes of one run.
pub struct ReachOptions {
    /// Videos in the catalog, the waiting ones included.
    pub videos: usize,
    /// Of those, uploaded in the last two days and never shown.
    pub waiting: usize,
    /// Viewers sending the traffic.
    pub viewers: usize,
    /// The new creator's uploads.
    pub uploads: usize,
    /// For You pages served per second in the region.
    pub pages_per_second: f64,
    /// Items per page.
    pub page: usize,
    /// The engine's parameters.
    pub engine: EngineConfig,
}

const TOPICS: usize = 40;
const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;
/// The run gives up after this many pages.
const MAX_PAGES: usize = 200_000;

struct World {
    engine: Engine,
    topic: Vec<usize>,
    duration: HashMap<VideoId, u64>,
    seq: u64,
    region: Region,
}

impl World {
    /// A view by `user` of `video`: finished and replayed when it is their topic, mostly
    /// skipped otherwise.
    fn watch(
        &mut self,
        user: UserId,
        video: VideoId,
        loves: &[usize; 2],
        ts: u64,
        rng: &mut impl Rng,
    ) {
        let dur = self.duration.get(&video).copied().unwrap_or(15_000);
        let t = self
            .topic
            .get(video.0 as usize)
            .copied()
            .unwrap_or(usize::MAX);
        let fan = loves.contains(&t);
        let ratio: f64 = if fan {
            rng.gen_range(0.85..2.0)
        } else {
            rng.gen_range(0.0..0.4)
        };
        self.seq += 1;
        let kind = if ratio < 0.1 {
            EventKind::Skip
        } else {
            EventKind::View
        };
        let rec = EventRecord {
            video: Some(video),
            duration_ms: Some(dur),
            watch_ms: Some((dur as f64 * ratio) as u64),
            seq: self.seq,
            ..EventRecord::new(
                format!("r{}", self.seq),
                user,
                self.region.clone(),
                kind,
                ts,
            )
        };
        self.engine.observe(&rec);
    }
}

/// Runs the measurement and returns the JSON report.
pub fn run(o: ReachOptions) -> Result<String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let t0 = 1_780_000_000_000u64;
    let region = Region::new("eu").map_err(|e| anyhow::anyhow!("{e}"))?;
    let waiting = o.waiting.min(o.videos);
    let mut w = World {
        engine: Engine::new(o.engine.clone()),
        topic: Vec::with_capacity(o.videos + o.uploads + 1),
        duration: HashMap::new(),
        seq: 0,
        region,
    };
    w.topic.push(usize::MAX); // ids start at 1
    let add =
        |w: &mut World, id: u64, topic: usize, created_ms: u64, rng: &mut rand::rngs::StdRng| {
            let dur = rng.gen_range(15_000..60_000);
            w.topic.push(topic);
            w.duration.insert(VideoId(id), dur);
            w.engine.upsert_item(ItemMeta {
                id: VideoId(id),
                creator: Some(UserId(1_000_000 + id % 500)),
                sound: Some(SoundId(id % 700 + 1)),
                hashtags: vec![format!("topic{topic}")],
                duration_ms: dur,
                created_ms,
            });
        };
    // The older catalog, then a day of history: each viewer watched 40 videos.
    let old = o.videos - waiting;
    for id in 1..=old as u64 {
        let created = t0 - rng.gen_range(3 * DAY_MS..30 * DAY_MS);
        add(&mut w, id, rng.gen_range(0..TOPICS), created, &mut rng);
    }
    let tastes: Vec<[usize; 2]> = (0..o.viewers)
        .map(|_| [rng.gen_range(0..TOPICS), rng.gen_range(0..TOPICS)])
        .collect();
    if old > 0 {
        for (u, loves) in tastes.iter().enumerate() {
            for k in 0..40u64 {
                let v = rng.gen_range(1..=old as u64);
                let ts = t0 - DAY_MS + (u as u64 * 40 + k) * 1_000;
                w.watch(UserId(u as u64 + 1), VideoId(v), loves, ts, &mut rng);
            }
        }
    }
    // Recent uploads nobody has seen yet wait in the pool of new videos.
    for id in old as u64 + 1..=o.videos as u64 {
        let created = t0 - rng.gen_range(HOUR_MS..2 * DAY_MS);
        add(&mut w, id, rng.gen_range(0..TOPICS), created, &mut rng);
    }
    w.engine.tick(t0);
    let pool_before = w.engine.state().fresh.len();
    // The new creator's uploads, on one topic.
    let first_new = o.videos as u64 + 1;
    let new_ids: Vec<VideoId> = (0..o.uploads as u64)
        .map(|k| VideoId(first_new + k))
        .collect();
    for v in &new_ids {
        add(&mut w, v.0, 0, t0, &mut rng);
    }
    let goal = o.engine.first_pool.max(1.0) as u64;
    let mut exposures: HashMap<VideoId, u64> = new_ids.iter().map(|v| (*v, 0)).collect();
    let mut reached: HashMap<VideoId, usize> = HashMap::new();
    let step_ms = (1_000.0 / o.pages_per_second.max(1e-3)) as u64;
    let mut pages = 0usize;
    while reached.len() < new_ids.len() && pages < MAX_PAGES {
        pages += 1;
        let now = t0 + pages as u64 * step_ms.max(1);
        let u = rng.gen_range(0..o.viewers.max(1));
        let user = UserId(u as u64 + 1);
        let mut req = FeedRequest::new(user, o.page, now);
        req.seed = pages as u64;
        let shown: Vec<VideoId> = w.engine.recommend(&req).iter().map(|r| r.video).collect();
        for v in shown {
            if let Some(n) = exposures.get_mut(&v) {
                *n += 1;
                if *n >= goal {
                    reached.entry(v).or_insert(pages);
                }
            }
            w.watch(user, v, &tastes[u], now, &mut rng);
        }
    }
    let mut at: Vec<usize> = reached.values().copied().collect();
    at.sort_unstable();
    let pick = |q: f64| {
        at.get(((at.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
    };
    let secs = |p: Option<usize>| p.map(|p| p as f64 / o.pages_per_second);
    let report = serde_json::json!({
        "videos": o.videos, "waiting_unwatched": waiting, "pool_at_upload": pool_before,
        "viewers": o.viewers, "uploads": o.uploads, "page": o.page,
        "pages_per_second": o.pages_per_second, "exposures_goal": goal,
        "uploads_reaching_goal": reached.len(),
        "pages_to_goal": {"median": pick(0.5), "max": at.last()},
        "seconds_to_goal": {"median": secs(pick(0.5)), "max": secs(at.last().copied())},
        "pages_served": pages,
    });
    Ok(serde_json::to_string_pretty(&report)?)
}
