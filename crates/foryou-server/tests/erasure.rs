//! Erasure: `DELETE /v1/me` removes a person from every store, catalog, engine, snapshot and
//! event log of every region. The test scans every file of the data directory for their markers
//! (handle, id in any encoding, their words, their video's id and caption), finds none in clear,
//! restarts, and finds none again; what others did stays, minus what was attached to them.

mod common;

use axum::http::StatusCode;
use common::Env;
use foryou_server::Limits;
use serde_json::{json, Value};
use std::path::Path;

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p.display().to_string(), b));
            }
        }
    }
    out
}

/// Where each marker still appears in clear.
fn findings(dir: &Path, markers: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, bytes) in files(dir) {
        for (name, m) in markers {
            if bytes.windows(m.len()).any(|w| w == m.as_slice()) {
                found.push(format!("{name} in {path}"));
            }
        }
    }
    found
}

/// A person's markers in every encoding a file might hold them.
fn markers(id: u64, handle: &str, texts: &[&str], video: u64) -> Vec<(String, Vec<u8>)> {
    let mut m = vec![
        ("handle".to_string(), handle.as_bytes().to_vec()),
        (
            "handle, upper case".into(),
            handle.to_uppercase().into_bytes(),
        ),
        ("id, decimal".into(), id.to_string().into_bytes()),
        ("id, hex".into(), format!("{id:x}").into_bytes()),
        ("id, little-endian".into(), id.to_le_bytes().to_vec()),
        ("id, big-endian".into(), id.to_be_bytes().to_vec()),
        ("video id, decimal".into(), video.to_string().into_bytes()),
        (
            "video id, little-endian".into(),
            video.to_le_bytes().to_vec(),
        ),
        ("video id, big-endian".into(), video.to_be_bytes().to_vec()),
    ];
    for t in texts {
        m.push((format!("text '{t}'"), t.as_bytes().to_vec()));
    }
    m
}

#[tokio::test]
async fn an_erased_person_leaves_nothing_findable_anywhere_restart_included() {
    let dir = common::temp_dir("erasure");
    let (gone_id, their_video, stays_video, stays_token, gone_texts);
    {
        let (env, p) = Env::with_platform_at(&dir, |c| c.limits = Limits::off());
        let gone = env.user("Zyxquillian", "DE").await;
        let stays = env.user("steadfastone", "US").await;
        let (s, me) = env.call("GET", "/v1/me", Some(&gone), None).await;
        assert_eq!(s, StatusCode::OK);
        gone_id = me["id"].as_str().expect("id").parse::<u64>().expect("u64");
        let (s, v) = env
            .upload(
                &gone,
                &common::clip(2.0),
                "vorpalsnicker caption #erasetest",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        their_video = v["id"].as_str().expect("id").to_string();
        let (s, v) = env
            .upload(&stays, &common::clip(2.5), "a clip that stays", None)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        stays_video = v["id"].as_str().expect("id").to_string();
        let stays_id = v["creator"]["id"].as_str().expect("creator").to_string();
        gone_texts = ["bandersnatch-words-on-your-clip", "frumious reply here"];
        let (s, v) = env
            .call(
                "POST",
                "/v1/events",
                Some(&gone),
                Some(json!({"events": [
                    {"id": "g1", "kind": "view", "video_id": stays_video, "watch_ms": 2500},
                    {"id": "g2", "kind": "like", "video_id": stays_video},
                    {"id": "g3", "kind": "comment", "video_id": stays_video, "text": gone_texts[0]},
                    {"id": "g4", "kind": "follow", "target": stays_id},
                    {"id": "g5", "kind": "comment", "video_id": their_video, "text": gone_texts[1]},
                ]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let their_comment = v["results"][2]["comment_id"]
            .as_str()
            .expect("comment id")
            .to_string();
        let (s, v) = env
            .call("POST", "/v1/events", Some(&stays), Some(json!({"events": [
                {"id": "s1", "kind": "view", "video_id": their_video, "watch_ms": 2000},
                {"id": "s2", "kind": "like", "video_id": their_video},
                {"id": "s3", "kind": "comment", "video_id": their_video, "text": "a stranger's note"},
                {"id": "s4", "kind": "follow", "target": gone_id.to_string()},
                {"id": "s5", "kind": "comment", "video_id": stays_video, "text": "my own words stay"},
                {"id": "s6", "kind": "save", "video_id": their_video},
                {"id": "s7", "kind": "like_comment", "target": their_comment},
                {"id": "s8", "kind": "comment", "video_id": stays_video, "target": their_comment, "text": "a reply in their thread"},
            ]})))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let stays_comment = v["results"][4]["comment_id"]
            .as_str()
            .expect("comment id")
            .to_string();
        let (s, v) = env
            .call(
                "POST",
                "/v1/events",
                Some(&gone),
                Some(json!({"events": [
                    {"id": "g6", "kind": "save", "video_id": stays_video},
                    {"id": "g7", "kind": "like_comment", "target": stays_comment},
                ]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, v) = env
            .call("GET", &format!("/v1/videos/{stays_video}"), None, None)
            .await;
        assert_eq!(v["counts"]["saves"], 1, "{v}");
        assert_eq!(v["counts"]["comments"], 3, "two comments and a reply: {v}");
        // Snapshots exist before the erasure, so it must rewrite them.
        p.snapshot_engines().expect("snapshots");
        let markers = markers(
            gone_id,
            "zyxquillian",
            &[gone_texts[0], gone_texts[1], "vorpalsnicker"],
            their_video.parse().expect("u64"),
        );
        assert!(
            !findings(&dir, &markers).is_empty(),
            "before the erasure the scan finds them (the scan works)"
        );

        // A wrong password erases nothing.
        let (s, v) = env
            .call(
                "DELETE",
                "/v1/me",
                Some(&gone),
                Some(json!({"password": "not it"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        let (s, _) = env.call("DELETE", "/v1/me", Some(&gone), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "the password is required");
        let (s, v) = env
            .call(
                "DELETE",
                "/v1/me",
                Some(&gone),
                Some(json!({"password": "long enough pw"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let receipt = &v["receipt"];
        assert_eq!(receipt["videos"], 1, "{v}");
        assert_eq!(
            receipt["comments"], 3,
            "their two, and a stranger's on their video: {v}"
        );
        assert!(receipt["keys_destroyed"]
            .as_array()
            .expect("regions")
            .iter()
            .any(|r| r == "eu"));
        {
            use sha2::{Digest, Sha256};
            let secret = receipt["receipt"].as_str().expect("receipt");
            let hex: String = Sha256::digest(secret.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(receipt["commitment"], hex.as_str());
        }

        // Gone from the API.
        let (s, _) = env.call("GET", "/v1/me", Some(&gone), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "their session ended");
        let (s, _) = env
            .call("GET", &format!("/v1/users/by-id/{gone_id}"), None, None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = env
            .call("GET", &format!("/v1/videos/{their_video}"), None, None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = env
            .call(
                "POST",
                "/v1/sessions",
                None,
                Some(json!({"handle": "Zyxquillian", "password": "long enough pw"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, v) = env
            .call("GET", &format!("/v1/videos/{stays_video}"), None, None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["counts"]["likes"], 0, "their like went with them: {v}");
        assert_eq!(v["counts"]["saves"], 0, "their save went with them: {v}");
        assert_eq!(
            v["counts"]["comments"], 1,
            "their comment went with the reply in its thread, the creator's stays: {v}"
        );
        let (_, v) = env
            .call(
                "GET",
                &format!("/v1/videos/{stays_video}/comments"),
                None,
                None,
            )
            .await;
        assert_eq!(v["comments"][0]["likes"], 0, "their comment like went: {v}");
        let (_, v) = env
            .call("GET", "/v1/me/favorites", Some(&stays), None)
            .await;
        assert_eq!(
            v["videos"],
            json!([]),
            "the erased video left favourites: {v}"
        );
        let files = common::export(&env, &stays).await;
        let read = |name: &str| -> Value { serde_json::from_slice(&files[name]).expect("json") };
        assert_eq!(read("favourites.json"), json!([]));
        assert_eq!(
            read("comment-likes.json"),
            json!([]),
            "their like of an erased comment went"
        );

        let found = findings(&dir, &markers);
        assert!(found.is_empty(), "found after erasure: {found:#?}");
        stays_token = stays;
        drop(env);
        drop(p);
    }
    // A restart replays the logs and the snapshots: nothing comes back.
    let env = Env::at(&dir, false);
    let markers = markers(
        gone_id,
        "zyxquillian",
        &[gone_texts[0], gone_texts[1], "vorpalsnicker"],
        their_video.parse().expect("u64"),
    );
    let found = findings(&dir, &markers);
    assert!(found.is_empty(), "found after a restart: {found:#?}");
    let (s, _) = env
        .call("GET", &format!("/v1/users/by-id/{gone_id}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = env
        .call(
            "GET",
            &format!("/v1/videos/{stays_video}/comments"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let texts: Vec<&str> = v["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    assert_eq!(texts, ["my own words stay"]);
    // The other person carries on, and their feed never offers the erased video.
    let (s, v) = env
        .call("GET", "/v1/feed?limit=50", Some(&stays_token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ids: Vec<&Value> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert!(!ids.iter().any(|i| **i == their_video.as_str()));
}

/// What a person's export says they liked and wrote.
async fn liked_and_written(env: &Env, token: &str) -> (Value, Value) {
    let files = common::export(env, token).await;
    let json = |name: &str| serde_json::from_slice(&files[name]).expect("json");
    (json("likes.json"), json("comments.json"))
}

/// A deleted video takes its likes and comments with it from every region's store, and leaves
/// every engine.
#[tokio::test]
async fn a_deleted_video_takes_its_likes_and_comments_from_every_region() {
    let dir = common::temp_dir("erase-video");
    let (env, p) = Env::with_platform_at(&dir, |c| c.limits = Limits::off());
    let creator = env.user("cliprunner", "DE").await;
    let fan = env.user("faraway", "US").await;
    let (s, v) = env
        .upload(&creator, &common::clip(2.0), "short-lived clip", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    let (s, v) = env
        .call(
            "POST",
            "/v1/events",
            Some(&fan),
            Some(json!({"events": [
                {"id": "f1", "kind": "view", "video_id": vid, "watch_ms": 2000},
                {"id": "f2", "kind": "like", "video_id": vid},
                {"id": "f3", "kind": "comment", "video_id": vid, "text": "nice one"},
            ]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (likes, comments) = liked_and_written(&env, &fan).await;
    assert_eq!(likes.as_array().map(Vec::len), Some(1));
    assert_eq!(comments.as_array().map(Vec::len), Some(1));
    let (s, v) = env
        .call("DELETE", &format!("/v1/videos/{vid}"), Some(&creator), None)
        .await;
    assert!(s.is_success(), "{s} {v}");
    let (likes, comments) = liked_and_written(&env, &fan).await;
    assert_eq!(likes, json!([]), "the fan's like in the us store went");
    assert_eq!(
        comments,
        json!([]),
        "the fan's comment in the us store went"
    );
    let (s, v) = env.call("GET", "/v1/feed?limit=50", Some(&fan), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!v["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|i| i["id"] == vid.as_str()));
    // After a restart, which rebuilds everything from the stores, they are still gone.
    drop((env, p));
    let env = Env::at(&dir, false);
    let (_, v) = env
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"handle": "faraway", "password": "long enough pw"})),
        )
        .await;
    let fan = v["token"].as_str().expect("token").to_string();
    let (likes, comments) = liked_and_written(&env, &fan).await;
    assert_eq!(likes, json!([]), "the like is gone from the us store");
    assert_eq!(comments, json!([]), "the comment is gone from the us store");
}
