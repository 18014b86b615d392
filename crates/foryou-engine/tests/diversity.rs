//! The re-ranking rules as properties: over random catalogs and histories, a page never puts
//! two videos of one creator, or with one sound, next to each other, never repeats a video and
//! never shows what the user watched or rejected.

mod common;

use common::*;
use foryou_engine::{Engine, EngineConfig, ItemMeta};
use foryou_types::{NotInterestedTarget, SoundId, UserId, VideoId};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn pages_keep_the_diversity_rules(
        creators in 3u64..8,
        sounds in 3u64..8,
        n in 60u64..200,
        views in proptest::collection::vec((0u64..200, 0.0f64..2.0), 0..40),
        limit in 1usize..20,
        seed in 0u64..1000,
        explore in proptest::bool::ANY,
    ) {
        let config = if explore { EngineConfig::default() } else { EngineConfig { diversify: true, ..EngineConfig::offline() } };
        let mut e = Engine::new(config);
        let mut of: HashMap<u64, (u64, u64)> = HashMap::new();
        for v in 0..n {
            let (c, s) = ((v * 13 + seed) % creators, (v * 7 + v / 5) % sounds);
            of.insert(v, (c, s));
            e.upsert_item(ItemMeta {
                id: VideoId(v),
                creator: Some(UserId(100 + c)),
                sound: Some(SoundId(s)),
                hashtags: vec![],
                duration_ms: 10_000,
                created_ms: NOW - DAY,
            });
        }
        let mut clock = Clock::new();
        let mut seen = HashSet::new();
        for (v, ratio) in &views {
            let v = v % n;
            clock.view(&mut e, 1, v, *ratio);
            seen.insert(v);
        }
        clock.not_interested(&mut e, 1, n - 1, NotInterestedTarget::Video);
        seen.insert(n - 1);
        let page = e.recommend(&request(1, limit, clock.now(), seed));
        let got = ids(&page);
        // With at least three creators and sounds and a short page, an alternative always exists.
        for w in got.windows(2) {
            prop_assert_ne!(of[&w[0]].0, of[&w[1]].0, "same creator in a row: {:?}", got);
            prop_assert_ne!(of[&w[0]].1, of[&w[1]].1, "same sound in a row: {:?}", got);
        }
        let distinct: HashSet<_> = got.iter().collect();
        prop_assert_eq!(distinct.len(), got.len());
        prop_assert!(got.iter().all(|v| !seen.contains(v)), "shown again: {:?}", got);
        prop_assert!(got.len() <= limit);
        prop_assert!(!got.is_empty());
    }
}

/// When only one creator is left, the rule gives way rather than end the feed.
#[test]
fn the_rule_yields_when_nothing_else_is_left() {
    let mut e = Engine::new(EngineConfig::default());
    for v in 0..5 {
        e.upsert_item(ItemMeta {
            id: VideoId(v),
            creator: Some(UserId(1)),
            sound: Some(SoundId(1)),
            hashtags: vec![],
            duration_ms: 10_000,
            created_ms: NOW,
        });
    }
    assert_eq!(e.recommend(&request(9, 10, NOW, 1)).len(), 5);
}
