//! Export: one archive with everything held about the caller (account, videos and their files,
//! comments, likes, follows, log records, what the engine learned, staff decisions and log
//! entries naming them), and nothing of anyone else.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::Env;
use foryou_server::Limits;
use serde_json::{json, Value};

#[tokio::test]
async fn the_export_holds_everything_about_the_caller_and_nothing_else() {
    let (env, _p) = Env::with_platform("export", |c| c.limits = Limits::off());
    let me = env.user("exporter", "DE").await;
    let other = env.user("otherperson", "DE").await;
    let clip = common::clip(2.0);
    let (s, mine) = env.upload(&me, &clip, "my clip #exportme", None).await;
    assert_eq!(s, StatusCode::CREATED, "{mine}");
    let (s, theirs) = env
        .upload(&other, &common::clip(2.5), "their clip", None)
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (vid, their_vid) = (
        mine["id"].as_str().expect("id").to_string(),
        theirs["id"].as_str().expect("id").to_string(),
    );
    let their_creator = theirs["creator"]["id"]
        .as_str()
        .expect("creator")
        .to_string();
    let (s, v) = env
        .call("POST", "/v1/events", Some(&me), Some(json!({"events": [
            {"id": "x1", "kind": "view", "video_id": their_vid, "watch_ms": 2500},
            {"id": "x2", "kind": "like", "video_id": their_vid},
            {"id": "x3", "kind": "comment", "video_id": their_vid, "text": "my exported comment"},
            {"id": "x4", "kind": "follow", "target": their_creator},
        ]})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&other),
            Some(json!({"events": [
                {"id": "o1", "kind": "comment", "video_id": vid, "text": "someone else's words"},
            ]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let (s, _) = env.call("GET", "/v1/me/export", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, h, body) = env
        .raw(
            Request::get("/v1/me/export")
                .header("authorization", format!("Bearer {me}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "application/x-tar");
    let files = common::export_files(&body);
    let json = |name: &str| -> Value {
        serde_json::from_slice(
            files
                .get(name)
                .unwrap_or_else(|| panic!("no {name}: {:?}", files.keys())),
        )
        .expect("json")
    };
    assert_eq!(json("account.json")["handle"], "exporter");
    assert_eq!(json("videos.json")[0]["id"], vid.as_str());
    let media = files
        .iter()
        .find(|(k, _)| k.starts_with("media/"))
        .map(|(_, v)| v.clone())
        .expect("the video file is in the archive");
    assert_eq!(media, clip);
    assert_eq!(json("comments.json")[0]["text"], "my exported comment");
    assert_eq!(json("likes.json")[0], their_vid.as_str());
    assert_eq!(json("follows.json")["following"][0], their_creator.as_str());
    let events = String::from_utf8(files["events.jsonl"].clone()).expect("utf8");
    for id in ["\"x1\"", "\"x2\"", "\"x3\"", "\"x4\""] {
        assert!(events.contains(id), "{id} missing from {events}");
    }
    assert!(
        !events.contains("\"o1\""),
        "another person's event is in the export"
    );
    let interests = json("interests.json");
    assert!(interests["views"].as_u64().unwrap_or(0) >= 1, "{interests}");
    assert!(json("transparency.json").is_array());
    assert!(json("staff-access.json").is_array());
    let everything: Vec<u8> = files.values().flatten().copied().collect();
    assert!(
        !everything
            .windows(b"someone else's words".len())
            .any(|w| w == b"someone else's words"),
        "another person's comment is in the export"
    );
    // The archive is removed once sent: nothing is left in the region's temporary directory.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let left = std::fs::read_dir(env.dir.join("regions/eu/tmp"))
        .expect("tmp")
        .count();
    assert_eq!(left, 0, "the export archive stayed on disk");
}

/// A personalised page served is an impression in the person's own log (and in their export),
/// appended before the events that follow it; the non-personalised feed records none.
#[tokio::test]
async fn served_pages_are_impressions_in_the_persons_log() {
    let (env, _p) = Env::with_platform("impressions", |c| c.limits = Limits::off());
    let me = env.user("pagewatcher", "DE").await;
    let maker = env.user("pagemaker", "DE").await;
    for k in 0..3 {
        let (s, _) = env
            .upload(&maker, &common::clip(2.0 + k as f64 * 0.5), "a clip", None)
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, f) = env.call("GET", "/v1/feed?limit=5", Some(&me), None).await;
    assert_eq!(s, StatusCode::OK);
    let first = f["items"][0]["id"].as_str().expect("an item").to_string();
    let (s, _) = env
        .call(
            "GET",
            "/v1/feed?limit=5&personalized=false",
            Some(&me),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&me),
            Some(json!({"events": [
                {"id": "w1", "kind": "view", "video_id": first, "watch_ms": 2000},
            ]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let files = common::export(&env, &me).await;
    let events = String::from_utf8(files["events.jsonl"].clone()).expect("utf-8");
    let kinds: Vec<String> = events
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kinds, ["impression", "view"], "{events}");
    let imp: Value = serde_json::from_str(events.lines().next().expect("line")).expect("json");
    let items = imp["impression"]["items"].as_array().expect("items");
    assert_eq!(items[0]["video"], first.as_str());
    assert_eq!(items[0]["position"], 0);
    assert!(!items[0]["sources"].as_array().expect("sources").is_empty());
    assert!(items[0]["features"].as_array().expect("features").len() >= 19);
}
