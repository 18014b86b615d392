//! Candidate sources: each file is one way of proposing videos for a request.

mod affinity;
mod backfill;
mod batch;
mod coengaged;
mod embedding;
mod explore;
mod following;
mod fresh;
mod trending;

pub use affinity::Affinity;
pub use backfill::Backfill;
pub use batch::BatchModel;
pub use coengaged::CoEngaged;
pub use embedding::EmbeddingRetrieval;
pub use explore::CatalogSample;
pub use following::Following;
pub use fresh::FreshPool;
pub use trending::{Boosted, Trending, Worldwide};

use crate::pipeline::CandidateSource;

/// The sources the engine runs, in order.
pub fn default_sources() -> Vec<Box<dyn CandidateSource>> {
    vec![
        Box::new(CoEngaged),
        Box::new(EmbeddingRetrieval),
        Box::new(BatchModel),
        Box::new(Following),
        Box::new(Affinity),
        Box::new(Trending),
        Box::new(Worldwide),
        Box::new(FreshPool),
        Box::new(CatalogSample),
        Box::new(Backfill),
        Box::new(Boosted),
    ]
}

#[cfg(test)]
mod tests {
    //! Each source on its own, over one small world.

    use super::*;
    use crate::pipeline::{Candidates, Origin};
    use crate::{Engine, EngineConfig, FeedRequest, ItemMeta};
    use foryou_types::{SoundId, UserId, VideoId};

    const NOW: u64 = 1_780_000_000_000;

    /// 60 videos: creator `v % 6`, sound `v % 5`, tag `t{v % 4}`; videos 50.. are new.
    /// Users 100..120 finish videos 0, 6, 12 (creator 0) in sequence, then 1; user 1 finished 0.
    fn world() -> Engine {
        let mut e = Engine::new(EngineConfig::default());
        for v in 0..60u64 {
            let old = if v >= 50 { 0 } else { 7 * 86_400_000 };
            e.upsert_item(ItemMeta {
                id: VideoId(v),
                creator: Some(UserId(1000 + v % 6)),
                sound: Some(SoundId(v % 5)),
                hashtags: vec![format!("t{}", v % 4)],
                duration_ms: 10_000,
                created_ms: NOW - old,
            });
        }
        let mut t = NOW;
        for u in 100..120u64 {
            for v in [0u64, 6, 12, 1] {
                t += 1000;
                e.observe_interaction(UserId(u), VideoId(v), t, 1.0);
            }
        }
        e.observe_interaction(UserId(1), VideoId(0), t + 1000, 2.0);
        e.rebuild_index();
        e
    }

    fn fetch(e: &Engine, req: &FeedRequest, source: &dyn CandidateSource) -> Vec<(u64, Origin)> {
        let q = e.user_query(req);
        let mut out = Candidates::default();
        if source.enabled(&q) {
            source.fetch(&q, &mut out);
        }
        let mut v: Vec<(u64, Origin)> = out
            .map
            .values()
            .map(|c| (e.state().items[c.item as usize].id.0, c.origins[0]))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    }

    /// Videos `0..n` with nothing but an id, published now.
    fn plain_videos(e: &mut Engine, n: u64) {
        for v in 0..n {
            e.upsert_item(ItemMeta {
                id: VideoId(v),
                creator: None,
                sound: None,
                hashtags: Vec::new(),
                duration_ms: 10_000,
                created_ms: NOW,
            });
        }
    }

    fn ids(v: &[(u64, Origin)]) -> Vec<u64> {
        v.iter().map(|x| x.0).collect()
    }

    #[test]
    fn coengaged_finds_what_others_watched_next() {
        let e = world();
        let got = ids(&fetch(
            &e,
            &FeedRequest::new(UserId(1), 10, NOW),
            &CoEngaged,
        ));
        assert_eq!(got, vec![1, 6, 12]);
        // A user with no history gets nothing from it.
        assert!(fetch(&e, &FeedRequest::new(UserId(9), 10, NOW), &CoEngaged).is_empty());
    }

    #[test]
    fn following_brings_the_newest_of_followed_creators() {
        let e = world();
        let mut req = FeedRequest::new(UserId(1), 10, NOW);
        req.following = vec![UserId(1003)];
        let got = ids(&fetch(&e, &req, &Following));
        assert!(!got.is_empty() && got.iter().all(|v| v % 6 == 3), "{got:?}");
        assert!(got.contains(&57), "the newest first: {got:?}");
    }

    #[test]
    fn affinity_brings_the_users_creators_sounds_and_tags() {
        let e = world();
        let got = ids(&fetch(
            &e,
            &FeedRequest::new(UserId(100), 10, NOW),
            &Affinity,
        ));
        assert!(
            got.iter().any(|v| v % 6 == 0 && *v != 0),
            "creator 0's other videos: {got:?}"
        );
    }

    #[test]
    fn trending_lists_the_most_engaged_first() {
        let e = world();
        let top = e.state().top_trending(2);
        let top: Vec<u64> = top
            .iter()
            .map(|&i| e.state().items[i as usize].id.0)
            .collect();
        assert_eq!(top[0], 0, "video 0 has the most engagement");
        let got = ids(&fetch(&e, &FeedRequest::new(UserId(7), 10, NOW), &Trending));
        assert_eq!(got, vec![0, 1, 6, 12]);
    }

    /// The crowd forgets by the hours only as fast as engagements replace what it knew: a
    /// region where a few people come by a month later still knows what was loved before, a
    /// busy one moves on.
    #[test]
    fn a_quiet_regions_crowd_keeps_its_evidence_a_busy_ones_moves_on() {
        const HOUR: u64 = 3_600_000;
        let run = |half_life_events: f64| {
            let mut e = Engine::new(EngineConfig {
                popularity_half_life_events: half_life_events,
                ..EngineConfig::default()
            });
            plain_videos(&mut e, 3);
            // Video 0 is loved on the first day; then, for thirty days, ten engagements an hour
            // with video 2; then three with video 1.
            for k in 0..100 {
                e.observe_interaction(UserId(k), VideoId(0), NOW + k, 1.0);
            }
            for h in 1..=30 * 24 {
                for k in 0..10 {
                    e.observe_interaction(UserId(1_000 + k), VideoId(2), NOW + h * HOUR, 1.0);
                }
            }
            for k in 0..3 {
                e.observe_interaction(UserId(k), VideoId(1), NOW + 721 * HOUR, 1.0);
            }
            let top = e.state().top_trending(3);
            let place = |v: u64| {
                top.iter()
                    .position(|&i| e.state().items[i as usize].id.0 == v)
            };
            (place(0), place(1))
        };
        // 240 engagements a day against a half-life of 10,000: quiet; video 0 stays ahead of 1.
        let (loved, late) = run(10_000.0);
        assert!(loved < late, "{loved:?} {late:?}");
        // Against a half-life of 100 engagements the same traffic is busy: the day's clock
        // rules, thirty days halve video 0 thirty times, and three engagements beat it.
        let (loved, late) = run(100.0);
        assert!(late < loved, "{loved:?} {late:?}");
    }

    #[test]
    fn trending_is_the_live_set_in_order_of_popularity_then_id() {
        // An oracle: the whole set sorted, cut at `n`, for every `n` (ties included: equal
        // engagement at one instant gives equal popularity).
        let mut e = Engine::new(EngineConfig {
            trending_size: 10,
            ..EngineConfig::default()
        });
        plain_videos(&mut e, 300);
        for k in 0..2_000u64 {
            let v = (k * 7919 + k * k) % 300;
            e.observe_interaction(UserId(k % 40), VideoId(v), NOW, 1.0 + (k % 3) as f32);
        }
        for v in (0..300u64).step_by(13) {
            e.remove_item(VideoId(v));
        }
        let s = e.state();
        let mut all: Vec<u32> = s
            .trending
            .iter()
            .copied()
            .filter(|&i| s.items[i as usize].live)
            .collect();
        all.sort_by(|a, b| {
            let (pa, pb) = (s.items[*a as usize].crowd, s.items[*b as usize].crowd);
            pb.total_cmp(&pa).then(a.cmp(b))
        });
        assert!(all.len() > 20, "{}", all.len());
        let ties = all
            .windows(2)
            .filter(|w| s.items[w[0] as usize].crowd == s.items[w[1] as usize].crowd)
            .count();
        assert!(ties > 0, "the check needs ties");
        for n in 0..all.len() + 3 {
            assert_eq!(
                s.top_trending(n),
                all[..n.min(all.len())].to_vec(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn worldwide_takes_the_handed_in_list_of_known_videos() {
        let e = world();
        let mut req = FeedRequest::new(UserId(7), 10, NOW);
        req.worldwide = vec![(VideoId(33), 5.0), (VideoId(9999), 9.0)];
        assert_eq!(fetch(&e, &req, &Worldwide), vec![(33, Origin::Worldwide)]);
    }

    #[test]
    fn the_fresh_pool_holds_only_new_videos() {
        let e = world();
        let got = ids(&fetch(
            &e,
            &FeedRequest::new(UserId(7), 10, NOW),
            &FreshPool,
        ));
        assert!(!got.is_empty() && got.iter().all(|&v| v >= 50), "{got:?}");
    }

    #[test]
    fn embedding_retrieval_finds_the_users_neighbourhood() {
        let e = world();
        let got = fetch(
            &e,
            &FeedRequest::new(UserId(100), 10, NOW),
            &EmbeddingRetrieval,
        );
        assert!(got.len() >= 4, "{got:?}");
        assert!(got.iter().all(|x| x.1 == Origin::Embedding));
        // No history, no vector, no retrieval.
        assert!(fetch(
            &e,
            &FeedRequest::new(UserId(9), 10, NOW),
            &EmbeddingRetrieval
        )
        .is_empty());
    }

    #[test]
    fn the_catalog_sample_and_backfill_fill_a_thin_candidate_set() {
        let e = world();
        let sample = fetch(&e, &FeedRequest::new(UserId(9), 10, NOW), &CatalogSample);
        assert!(!sample.is_empty());
        let all = ids(&fetch(&e, &FeedRequest::new(UserId(1), 10, NOW), &Backfill));
        assert_eq!(all.len(), 59, "every video but the one watched");
        assert!(!all.contains(&0));
    }
}
