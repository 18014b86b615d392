//! What crosses regions: only differentially private counts, never one person's doing, and
//! nothing at all into a region-only region.

mod common;

use axum::http::StatusCode;
use foryou_engine::release::ReleaseConfig;
use foryou_server::{Caller, Config, EventResult, FeedKind, Limits, Platform};
use foryou_store::{Account, RegionStore};
use foryou_types::{Date, EventInput, EventKind, Region, Role, UserId, VideoId};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Releases at every look, a threshold of about 3 people (ε 10, one video per user, δ 1e-9).
fn config(dir: &std::path::Path, region_only: &[&str]) -> Config {
    let mut c = Config::new(dir);
    c.limits = Limits::off();
    c.release = ReleaseConfig {
        epsilon: 10.0,
        delta: 1e-9,
        max_videos_per_user: 1,
        daily_epsilon: 1e9,
        window_ms: 0,
    };
    c.region_only = region_only
        .iter()
        .map(|r| region(r))
        .collect::<BTreeSet<_>>();
    c
}

fn region(r: &str) -> Region {
    Region::new(r).expect("region")
}

fn viewer(id: u64, region_name: &str, country: &str) -> Account {
    Account {
        id: UserId(id),
        handle: format!("viewer{id}"),
        password_hash: "!".into(),
        locked: false,
        birthdate: Date::from_unix_ms(0),
        country: country.into(),
        region: region(region_name),
        role: Role::User,
        created_ms: 0,
    }
}

async fn upload_as_creator(env: &common::Env) -> Vec<VideoId> {
    let token = env.user("maker", "JP").await;
    let mut ids = Vec::new();
    for k in 0..3 {
        let (s, v) = env
            .upload(&token, &common::clip(2.0 + f64::from(k)), "a clip", None)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(VideoId(v["id"].as_str().expect("id").parse().expect("id")));
    }
    ids
}

fn like(p: &Platform, user: u64, video: VideoId) -> Vec<EventResult> {
    let e: EventInput = serde_json::from_value(serde_json::json!({
        "id": format!("like-{user}-{}", video.0), "kind": "like", "video_id": video.0.to_string()
    }))
    .expect("event");
    assert_eq!(e.kind, EventKind::Like);
    p.record_events_as(UserId(user), &[e]).expect("recorded")
}

/// The imported viewer `id` as the platform knows them.
fn caller(p: &Platform, id: u64) -> Caller {
    p.act_as(UserId(id)).expect("a viewer")
}

fn reasons_of(p: &Platform, c: &Caller, video: VideoId) -> Vec<String> {
    p.feed(
        Some(c),
        FeedKind::ForYou {
            personalised: false,
        },
        50,
        0,
    )
    .expect("feed")
    .into_iter()
    .filter(|s| s.video == video)
    .flat_map(|s| s.reasons)
    .map(|r| {
        serde_json::to_value(&r).expect("reason")["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    })
    .collect()
}

#[tokio::test]
async fn one_person_moves_nothing_elsewhere_a_crowd_does_and_region_only_imports_nothing() {
    let (mut env, p) = common::Env::with_platform("sovereignty", |c| {
        *c = config(&c.data_dir, &[]);
    });
    let dir = env.dir.clone();
    let videos = upload_as_creator(&env).await;
    let target = videos[0];
    let mut accounts: Vec<Account> = (1..=40).map(|i| viewer(i, "eu", "DE")).collect();
    accounts.push(viewer(100, "us", "US"));
    p.import(accounts, Vec::new(), Vec::new()).expect("import");
    let us = region("us");
    assert!(p.imports(&us).expect("imports").is_empty());

    // One eu person likes the video: us imports nothing new, and no us page calls it popular.
    like(&p, 1, target);
    assert!(
        p.imports(&us).expect("imports").is_empty(),
        "one person crossed regions"
    );
    assert!(!reasons_of(&p, &caller(&p, 100), target).contains(&"popular_worldwide".to_string()));

    // Forty eu people like it (each once: repeats do not count twice): the next release carries it.
    for u in 1..=40 {
        like(&p, u, target);
    }
    like(&p, 40, target);
    let imported = p.imports(&us).expect("imports");
    assert_eq!(imported.len(), 1, "{imported:?}");
    assert_eq!(imported[0].0, target);
    assert!((imported[0].1 - 39.0).abs() < 5.0, "{imported:?}");
    assert!(reasons_of(&p, &caller(&p, 100), target).contains(&"popular_worldwide".to_string()));
    // The eu region does not import its own counts.
    assert!(p
        .imports(&region("eu"))
        .expect("imports")
        .iter()
        .all(|(v, _)| *v != target));
    env.keep_dir = true;
    drop(env);
    drop(p);

    // The eu budget spent on those releases is in the region's store, where a node that takes
    // the region over reads it (it cannot be spent twice).
    let store =
        foryou_store::EmbeddedStore::open(region("eu"), &dir.join("regions").join("eu"), 1 << 20)
            .expect("the eu store");
    let budget = store
        .state("privacy-budget")
        .expect("read")
        .expect("the spent budget is not in the region's store");
    let budget: serde_json::Value = serde_json::from_slice(&budget).expect("json");
    assert!(budget["spent"].as_f64().unwrap_or(0.0) >= 10.0, "{budget}");
    drop(store);

    // The same world with us region-only: us imports nothing, row still does.
    let p = Arc::new(common::platform(config(&dir, &["us"])));
    for u in 1..=40 {
        let e: EventInput = serde_json::from_value(serde_json::json!({
            "id": format!("share-{u}"), "kind": "share", "video_id": target.0.to_string()
        }))
        .expect("event");
        p.record_events_as(UserId(u), &[e]).expect("recorded");
    }
    assert!(p
        .imports(&region("row"))
        .expect("imports")
        .iter()
        .any(|(v, _)| *v == target));
    assert!(
        p.imports(&us).expect("imports").is_empty(),
        "a region-only region imported"
    );
    assert!(!reasons_of(&p, &caller(&p, 100), target).contains(&"popular_worldwide".to_string()));
    let _ = std::fs::remove_dir_all(&dir);
}
