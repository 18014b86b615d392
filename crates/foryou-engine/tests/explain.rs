//! "Why this video": the reasons of a fixed scenario, as snapshots.

mod common;

use common::*;
use expect_test::expect;
use foryou_engine::{EngineConfig, Recommendation};
use foryou_types::UserId;

fn render(page: &[Recommendation]) -> String {
    page.iter()
        .map(|r| {
            format!(
                "{} {}",
                r.video.0,
                serde_json::to_string(&r.reasons).expect("json")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn reasons_name_the_stage_that_chose_each_video() {
    // No exploration slots, so the page is deterministic; diversity stays on.
    let config = EngineConfig {
        explore_share: 0.0,
        cold_start_share: 0.0,
        ..EngineConfig::default()
    };
    let mut e = world(120, config);
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 40, 120);
    // The user finishes and likes creator 1003's videos (3, 33) and follows creator 1005.
    for v in [3u64, 33] {
        clock.view(&mut e, 1, v, 1.0);
        clock.like(&mut e, 1, v);
    }
    let mut req = request(1, 6, clock.now(), 1);
    req.following = vec![UserId(1005)];
    expect![[r#"
        35 [{"code":"followed_creator","creator":"1005"},{"code":"liked_sound","sound":"6"}]
        93 [{"code":"engaged_creator","creator":"1003"}]
        5 [{"code":"followed_creator","creator":"1005"}]
        63 [{"code":"engaged_creator","creator":"1003"}]
        65 [{"code":"followed_creator","creator":"1005"}]
        113 [{"code":"newest"}]"#]]
    .assert_eq(&render(&e.recommend(&req)));
    expect![[r#"
        3 [{"code":"not_personalised"},{"code":"popular_in_region"}]
        44 [{"code":"not_personalised"},{"code":"popular_in_region"}]"#]]
    .assert_eq(&render(&e.recommend(&non_personal(1, 2, clock.now()))));
}

#[test]
fn nothing_unwatched_is_called_popular() {
    // A catalog nobody has watched: no page may claim popularity for any of it.
    let config = EngineConfig {
        explore_share: 0.0,
        cold_start_share: 0.0,
        ..EngineConfig::default()
    };
    let e = world(60, config);
    let clock = Clock::new();
    for page in [
        e.recommend(&non_personal(1, 10, clock.now())),
        e.recommend(&request(1, 10, clock.now(), 3)),
    ] {
        assert!(!page.is_empty());
        for r in &page {
            let codes = serde_json::to_string(&r.reasons).expect("json");
            assert!(
                !codes.contains("popular"),
                "video {} with no views is called popular: {codes}",
                r.video.0
            );
        }
    }
}
