//! A new creator's work reaches people in a busy world, through the API: 3,000 videos of the
//! last two days wait in the catalog's pool of new videos, most of them unwatched, while viewers
//! watch some (as in the demo world); a new creator uploads, and a new viewer in the same region meets the uploads
//! within a few pages of For You.

mod common;

use axum::http::StatusCode;
use common::Env;
use foryou_server::Limits;
use foryou_store::{Account, Sound, Video};
use foryou_types::{parse_date, Region, Role, SoundId, UserId, VideoId};
use serde_json::{json, Value};

#[tokio::test]
async fn a_new_creators_uploads_reach_a_new_viewer_within_a_few_pages() {
    let (env, p) = Env::with_platform("reach", |c| c.limits = Limits::off());
    let eu = Region::new("eu").expect("region");
    let now = foryou_server::now_ms();
    let accounts: Vec<Account> = (0..100u64)
        .map(|k| Account {
            id: UserId(1_000_000 + k),
            handle: format!("catalogmaker{k}"),
            password_hash: "!".into(),
            birthdate: parse_date("1990-01-01").expect("date"),
            country: "DE".into(),
            region: eu.clone(),
            role: Role::User,
            created_ms: now,
            locked: false,
        })
        .collect();
    let sounds: Vec<Sound> = (0..100u64)
        .map(|k| Sound {
            id: SoundId(2_000_000 + k),
            title: format!("sound {k}"),
            creator: UserId(1_000_000 + k),
            region: eu.clone(),
            origin: VideoId(3_000_000 + k),
            created_ms: now,
        })
        .collect();
    let videos: Vec<(Video, Vec<u8>, Vec<u8>)> = (0..3_000u64)
        .map(|k| {
            let id = 3_000_000 + k;
            (
                Video {
                    id: VideoId(id),
                    creator: UserId(1_000_000 + k % 100),
                    region: eu.clone(),
                    caption: format!("waiting clip {k} #topic{}", k % 20),
                    hashtags: vec![format!("topic{}", k % 20)],
                    sound: SoundId(2_000_000 + k % 100),
                    duration_ms: 4_000,
                    width: 144,
                    height: 256,
                    mime: "video/mp4".into(),
                    video_codec: "h264".into(),
                    audio_codec: None,
                    media_key: format!("videos/{id}.mp4"),
                    poster_key: format!("posters/{id}.png"),
                    poster_mime: "image/png".into(),
                    mature: false,
                    effects: Vec::new(),
                    removed: false,
                    size_bytes: 4,
                    created_ms: now - (1 + k % 47) * 3_600_000,
                },
                b"clip".to_vec(),
                b"png".to_vec(),
            )
        })
        .collect();
    p.import(accounts, sounds, videos).expect("import");
    // The world is busy: 60 viewers have watched some of the catalog (each a topic they finish),
    // so trending, co-engagement and taste fill their feeds, as in the demo world.
    for u in 0..60u64 {
        let events: Vec<foryou_types::EventInput> = (0..30u64)
            .map(|k| {
                let v = 3_000_000 + (u * 37 + k * 20) % 3_000;
                let fan = (v - 3_000_000) % 20 == u % 20;
                serde_json::from_value(json!({
                    "id": format!("bg{u}-{k}"),
                    "kind": if fan { "view" } else { "skip" },
                    "video_id": v.to_string(),
                    "watch_ms": if fan { 4000 } else { 300 },
                }))
                .expect("event")
            })
            .collect();
        p.record_events_as(UserId(1_000_000 + u % 100), &events)
            .expect("background events");
    }

    let creator = env.user("brandnewcreator", "DE").await;
    let viewer = env.user("brandnewviewer", "DE").await;
    let mut mine = Vec::new();
    for k in 0..8 {
        let (s, v) = env
            .upload(
                &creator,
                &common::clip(2.0 + f64::from(k) * 0.25),
                "my first clips",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        mine.push(v["id"].as_str().expect("id").to_string());
    }
    let mut met = 0;
    for page in 0..3 {
        let (s, f) = env
            .call("GET", "/v1/feed?limit=10", Some(&viewer), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{f}");
        let mut events: Vec<Value> = Vec::new();
        for (n, item) in f["items"].as_array().expect("items").iter().enumerate() {
            let id = item["id"].as_str().expect("id").to_string();
            if mine.contains(&id) {
                met += 1;
                events.push(json!({"id": format!("v{page}-{n}"), "kind": "view", "video_id": id, "watch_ms": 4000}));
                events.push(json!({"id": format!("l{page}-{n}"), "kind": "like", "video_id": id}));
            } else {
                events.push(json!({"id": format!("s{page}-{n}"), "kind": "skip", "video_id": id, "watch_ms": 300}));
            }
        }
        let (s, v) = env
            .call(
                "POST",
                "/v1/events",
                Some(&viewer),
                Some(json!({"events": events})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    assert!(
        met >= 4,
        "the viewer met {met} of the 8 new uploads in 3 pages"
    );
}
