//! `foryou bench`: the engine's speed on seeded synthetic data at stated sizes — learner
//! throughput on one core, feed latency percentiles in process, and ANN recall and query time
//! beside brute force. Prints one JSON object; BENCHMARKS.md quotes it.

use anyhow::Result;
use foryou_engine::ann::{
    recall_at, recall_with_ties, synthetic_vectors, BruteForce, Hnsw, HnswConfig, VectorIndex,
};
use foryou_engine::{Engine, EngineConfig, FeedMode, FeedRequest, ItemMeta};
use foryou_types::{EventKind, EventRecord, Region, SoundId, UserId, VideoId};
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// Sizes of one run.
pub struct BenchOptions {
    pub videos: usize,
    pub users: usize,
    pub events: usize,
    pub requests: usize,
    pub ann_vectors: usize,
    /// The engine's parameters (the serving defaults unless changed).
    pub engine: EngineConfig,
}

const TOPICS: usize = 200;
const DAY_MS: u64 = 86_400_000;

/// A skewed pick in `0..n` (a few are chosen often, most rarely).
fn skewed(rng: &mut impl Rng, n: usize) -> usize {
    let u: f64 = rng.gen_range(0.0..1.0);
    ((n as f64).powf(u) - 1.0) as usize % n.max(1)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs every measurement and returns the JSON report.
pub fn run(o: BenchOptions) -> Result<String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let now = 1_780_000_000_000u64;
    let region = Region::new("eu").map_err(|e| anyhow::anyhow!("{e}"))?;

    // Catalog: creators with many videos (skewed), sounds reused, two topics per video.
    let creators = (o.videos / 20).max(1);
    let sounds = (o.videos / 10).max(1);
    let mut by_topic: Vec<Vec<u64>> = vec![Vec::new(); TOPICS];
    let mut meta = Vec::with_capacity(o.videos);
    for v in 0..o.videos as u64 {
        let t1 = rng.gen_range(0..TOPICS);
        let t2 = (t1 + 1 + rng.gen_range(0..3)) % TOPICS;
        by_topic[t1].push(v);
        meta.push(ItemMeta {
            id: VideoId(v + 1),
            creator: Some(UserId(10_000_000 + skewed(&mut rng, creators) as u64)),
            sound: Some(SoundId(skewed(&mut rng, sounds) as u64 + 1)),
            hashtags: vec![format!("t{t1}"), format!("t{t2}")],
            duration_ms: rng.gen_range(15_000..60_000),
            created_ms: now - rng.gen_range(0..30 * DAY_MS),
        });
    }
    let mut engine = Engine::new(o.engine.clone());
    let t = Instant::now();
    for m in meta.iter().cloned() {
        engine.upsert_item(m);
    }
    let catalog_s = t.elapsed().as_secs_f64();

    // Events: each user has two favourite topics; they finish, replay and like those and skip
    // most of the rest.
    let tastes: Vec<[usize; 2]> = (0..o.users)
        .map(|_| [rng.gen_range(0..TOPICS), rng.gen_range(0..TOPICS)])
        .collect();
    let mut events = Vec::with_capacity(o.events);
    for n in 0..o.events {
        let u = skewed(&mut rng, o.users);
        let fav = rng.gen_bool(0.6);
        let v = if fav {
            let list = &by_topic[tastes[u][rng.gen_range(0..2)]];
            if list.is_empty() {
                continue;
            }
            list[skewed(&mut rng, list.len())]
        } else {
            rng.gen_range(0..o.videos as u64)
        };
        let dur = meta[v as usize].duration_ms;
        let watch = if fav {
            dur * rng.gen_range(8..25) / 10
        } else {
            dur * rng.gen_range(0..5) / 10
        };
        let like = fav && rng.gen_bool(0.3);
        events.push(EventRecord {
            seq: n as u64 + 1,
            video: Some(VideoId(v + 1)),
            duration_ms: Some(dur),
            watch_ms: (!like).then_some(watch),
            ..EventRecord::new(
                format!("e{n}"),
                UserId(u as u64 + 1),
                region.clone(),
                if like {
                    EventKind::Like
                } else {
                    EventKind::View
                },
                now + n as u64,
            )
        });
    }
    let t = Instant::now();
    for e in &events {
        engine.observe(e);
    }
    let learn_s = t.elapsed().as_secs_f64();
    let events_per_s = events.len() as f64 / learn_s.max(1e-9);
    drop(events);

    let job = engine.index_job();
    let index_dim = job.dim();
    let indexed = job.vectors().len();
    // Queries: 200 indexed items' own vectors, each looking for its 100 nearest.
    let index_queries: Vec<Vec<f32>> = (0..200.min(indexed))
        .map(|_| job.vectors()[rng.gen_range(0..indexed)].1.clone())
        .collect();
    let exact_index = BruteForce::new(index_dim, job.vectors().iter().cloned());
    let t = Instant::now();
    let built = job.build();
    let index_s = t.elapsed().as_secs_f64();
    let index_recall = recall_at(built.index(), &exact_index, &index_queries, 100);
    let index_recall_ties = recall_with_ties(built.index(), &exact_index, &index_queries, 100);
    drop(exact_index);
    engine.install_index(built);

    // The batch model over the most engaged items, fitted as serving fits it (off the request
    // path, here on every core), then in service for the feed requests below.
    let job = engine.batch_job();
    let t = Instant::now();
    let model = job.fit(std::thread::available_parallelism().map_or(1, |n| n.get()));
    let batch_fit_s = t.elapsed().as_secs_f64();
    let batch_items = model.len();
    engine.install_batch(model);

    // Feed latency: personalised pages of 10 for random users.
    let mut lat = Vec::with_capacity(o.requests);
    for r in 0..o.requests {
        let u = skewed(&mut rng, o.users) as u64 + 1;
        let mut req = FeedRequest::new(UserId(u), 10, now + o.events as u64);
        req.seed = r as u64;
        let t = Instant::now();
        let page = engine.recommend(&req);
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(!page.is_empty(), "the feed must never be empty");
    }
    lat.sort_by(f64::total_cmp);
    // How much of the batch model's exact top 200 the feed's two-pass scan finds.
    let per_source = engine.config().per_source;
    let scan: Vec<(f64, f64)> = (0..200)
        .filter_map(|_| {
            let u = skewed(&mut rng, o.users) as u64 + 1;
            engine.batch_scan_recall(UserId(u), per_source, now + o.events as u64)
        })
        .collect();
    let scan_recall = scan.iter().map(|s| s.0).sum::<f64>() / scan.len().max(1) as f64;
    // The two-pass scan's own time (the batch source's work in a feed), on the same people.
    let scan_ms = scan.iter().map(|s| s.1).sum::<f64>() * 1e3 / scan.len().max(1) as f64;
    let mut np = Vec::new();
    for r in 0..o.requests.min(500) {
        let mut req = FeedRequest::new(UserId(r as u64 + 1), 10, now + o.events as u64);
        req.mode = FeedMode::NonPersonalised;
        let t = Instant::now();
        engine.recommend(&req);
        np.push(t.elapsed().as_secs_f64() * 1e3);
    }
    np.sort_by(f64::total_cmp);

    // ANN beside brute force, on clustered unit vectors.
    let dim = 32;
    // Held-out queries drawn from the same clusters as the data.
    let mut data = synthetic_vectors(o.ann_vectors + 200, dim, 100, 11);
    let queries = data.split_off(o.ann_vectors);
    let items = || data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v));
    let t = Instant::now();
    let hnsw = Hnsw::build(dim, HnswConfig::default(), items());
    let ann_build_s = t.elapsed().as_secs_f64();
    let exact = BruteForce::new(dim, items());
    let recall = recall_at(&hnsw, &exact, &queries, 100);
    let time_per = |idx: &dyn VectorIndex| {
        let t = Instant::now();
        for q in &queries {
            std::hint::black_box(idx.search(q, 100));
        }
        t.elapsed().as_secs_f64() * 1e3 / queries.len() as f64
    };
    let (hnsw_ms, brute_ms) = (time_per(&hnsw), time_per(&exact));

    let report = serde_json::json!({
        "videos": o.videos, "users": o.users, "events": o.events,
        "heap_huge_pages": crate::alloc::heap_on_huge_pages(),
        "catalog_load_s": catalog_s,
        "learner": {"events_per_second": events_per_s, "seconds": learn_s, "cores": 1},
        "index_build_s": index_s, "index_vectors": indexed, "index_recall_at_100": index_recall, "index_recall_at_100_ties": index_recall_ties, "index_build_threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "feed_ms": {"requests": o.requests, "p50": percentile(&lat, 0.5), "p95": percentile(&lat, 0.95), "p99": percentile(&lat, 0.99), "max": lat.last().copied().unwrap_or(0.0)},
        "non_personalised_feed_ms": {"p50": percentile(&np, 0.5), "p99": percentile(&np, 0.99)},
        "ann": {"vectors": o.ann_vectors, "dim": dim, "k": 100, "recall": recall, "hnsw_query_ms": hnsw_ms, "brute_force_query_ms": brute_ms, "speedup": brute_ms / hnsw_ms.max(1e-9), "build_s": ann_build_s},
        "batch_model": {"items": batch_items, "rank": engine.config().batch_rank, "fit_s": batch_fit_s, "scan_recall": scan_recall, "scan_ms": scan_ms, "scan_users": scan.len()},
        "engine_users": engine.user_count(), "cooc_pairs": engine.state().cooc.pairs(),
    });
    Ok(serde_json::to_string_pretty(&report)?)
}
