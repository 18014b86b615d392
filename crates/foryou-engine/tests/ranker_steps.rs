//! How often the trained ranker steps: on one positive in `ranker_every` while it is new, on one
//! in `ranker_every_settled` once it has learned `ranker_settled_after` positives, so a busy
//! region's learner is not spent re-teaching a model that has settled, yet it keeps learning.

mod common;

use common::*;
use foryou_engine::EngineConfig;

/// Pairwise ranking examples the ranker has learned after `positives` likes by many people.
fn examples_after(config: EngineConfig, positives: u64) -> u64 {
    let mut e = world(N, config);
    let mut clock = Clock::new();
    for n in 0..positives {
        // Each person likes a handful of distinct videos.
        let user = 1 + n / 5;
        let video = 1 + (n * 7 + user * 13) % N;
        clock.like(&mut e, user, video);
    }
    e.state().heads.examples
}

const N: u64 = 300;

#[test]
fn the_ranker_steps_less_often_once_settled_and_never_stops() {
    let base = EngineConfig {
        ranker_every: 2,
        ranker_every_settled: 8,
        ..EngineConfig::default()
    };
    let never = EngineConfig {
        ranker_settled_after: u64::MAX,
        ..base.clone()
    };
    let early = EngineConfig {
        ranker_settled_after: 400,
        ..base
    };
    let before = examples_after(early.clone(), 400);
    let settled = examples_after(early, 2_000);
    let unsettled = examples_after(never.clone(), 2_000);
    assert_eq!(
        before,
        examples_after(never, 400),
        "nothing changes before it settles"
    );
    let (after, full) = (settled - before, unsettled - before);
    assert!(after > 0, "a settled ranker still learns");
    // One positive in 8 instead of 1 in 2 steps: about a quarter of the examples.
    assert!(
        after * 3 < full && after * 6 > full,
        "{after} examples once settled against {full}"
    );
}
