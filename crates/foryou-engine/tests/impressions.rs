//! The ranker learns from what was shown: an impression's items wait for their outcomes, and the
//! ones that drew any teach the heads; the ones never reached teach nothing.

mod common;

use common::*;
use foryou_engine::{EngineConfig, Recommendation};
use foryou_types::{EventKind, EventRecord, Impression, ShownItem, UserId};

fn impression(clock: &mut Clock, user: u64, page: &[Recommendation]) -> EventRecord {
    let mut e = clock.event(user, EventKind::Impression, 0, None);
    e.video = None;
    e.creator = None;
    e.sound = None;
    e.impression = Some(Impression {
        config: "test".into(),
        items: page
            .iter()
            .enumerate()
            .map(|(i, r)| ShownItem {
                video: r.video,
                position: i as u16,
                sources: r.sources.iter().map(|s| s.to_string()).collect(),
                score: r.score as f32,
                propensity: r.propensity,
                features: r.features.to_vec(),
            })
            .collect(),
    });
    e
}

#[test]
fn shown_items_teach_the_heads_once_their_outcomes_are_in() {
    let mut e = world(N, EngineConfig::default());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 30, N);
    let user = 4242;
    clock.view(&mut e, user, 1, 1.0);
    let page = e.recommend(&request(user, 10, clock.now(), 7));
    assert_eq!(page.len(), 10);
    assert!(
        page.iter().all(|r| r.features[0] == 1.0),
        "the bias feature is set"
    );
    let before = e.state().heads.clone();
    let examples = before.examples;
    let imp = impression(&mut clock, user, &page);
    e.observe(&imp);
    // The first three are reached: one finished and liked, two skipped; the rest never.
    clock.view(&mut e, user, page[0].video.0, 1.0);
    clock.like(&mut e, user, page[0].video.0);
    clock.view(&mut e, user, page[1].video.0, 0.05);
    clock.view(&mut e, user, page[2].video.0, 0.05);
    // The next page closes the first: three examples learned (plus the choices' ranking steps).
    let next = e.recommend(&request(user, 10, clock.now(), 8));
    let imp2 = impression(&mut clock, user, &next);
    let ranking_steps = e.state().heads.examples - examples;
    e.observe(&imp2);
    let learned = e.state().heads.examples - examples - ranking_steps;
    assert_eq!(
        learned, 3,
        "the three reached items teach, the seven never reached do not"
    );
    // The like head moved towards liking what was liked: its bias and scale changed.
    assert_ne!(e.state().heads.head[1], before.head[1]);
    let pending = e
        .state()
        .users
        .get(&UserId(user))
        .map(|u| u.pending.len())
        .unwrap_or(0);
    assert!(pending <= 10 + 7, "{pending} waiting");
}

const N: u64 = 300;
