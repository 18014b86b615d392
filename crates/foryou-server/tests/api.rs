//! The HTTP API as a client sees it, in process: validation errors, no partial writes,
//! range requests, idempotent events, feeds and persistence across a restart.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{clip, error_code, temp_dir, Env};
use foryou_server::{router, Config};
use serde_json::json;
use serde_json::Value;
use std::sync::Arc;

#[tokio::test]
async fn sign_up_validates_and_fixes_the_home_region() {
    let env = Env::new("signup");
    let mk = |handle: &str, pw: &str, birth: &str, country: &str| json!({"handle": handle, "password": pw, "birthdate": birth, "country": country});
    let (s, v) = env
        .call(
            "POST",
            "/v1/accounts",
            None,
            Some(mk("Lena_B", "long enough pw", "2000-01-31", "de")),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["region"], "eu");
    let (s, v) = env
        .call(
            "POST",
            "/v1/accounts",
            None,
            Some(mk("lena_b", "long enough pw", "2000-01-31", "US")),
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::CONFLICT, "handle_taken"),
        "handles are unique case-insensitively across regions"
    );
    for (body, status, needle) in [
        (
            mk("ab", "long enough pw", "2000-01-01", "US"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "handle",
        ),
        (
            mk("has space", "long enough pw", "2000-01-01", "US"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "handle",
        ),
        (
            mk("okname", "short", "2000-01-01", "US"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            mk("okname", "long enough pw", "2000-02-30", "US"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "birthdate",
        ),
        (
            mk("okname", "long enough pw", "2000-01-01", "USA"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "country",
        ),
        (
            mk("littleone", "long enough pw", "2020-01-01", "US"),
            StatusCode::FORBIDDEN,
            "can't create a Foryou account",
        ),
        (
            json!({"handle": "okname"}),
            StatusCode::BAD_REQUEST,
            "password",
        ),
    ] {
        let (s, v) = env
            .call("POST", "/v1/accounts", None, Some(body.clone()))
            .await;
        assert_eq!(s, status, "{body} -> {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{v}"
        );
    }
    let (s, v) = env
        .call(
            "POST",
            "/v1/accounts",
            None,
            Some(mk("us_user", "long enough pw", "1990-05-05", "US")),
        )
        .await;
    assert_eq!((s, v["region"].as_str()), (StatusCode::CREATED, Some("us")));
    let (_, v) = env
        .call(
            "POST",
            "/v1/accounts",
            None,
            Some(mk("jp_user", "long enough pw", "1990-05-05", "JP")),
        )
        .await;
    assert_eq!(v["region"], "row");
}

#[tokio::test]
async fn sessions_open_and_revoke() {
    let env = Env::new("sessions");
    let token = env.user("sam", "FR").await;
    assert!(token.starts_with("fy_eu_"));
    let (s, v) = env.call("GET", "/v1/me", Some(&token), None).await;
    assert_eq!((s, v["handle"].as_str()), (StatusCode::OK, Some("sam")));
    let (s, v) = env
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"handle": "sam", "password": "wrong password"})),
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (s, _) = env
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"handle": "nobody", "password": "whatever12"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = env.call("DELETE", "/v1/sessions", Some(&token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = env.call("GET", "/v1/me", Some(&token), None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a revoked token no longer works"
    );
    let (s, _) = env.call("GET", "/v1/feed?mode=following", None, None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the Following feed needs an account"
    );
    let (s, _) = env
        .call(
            "GET",
            "/v1/admin/users",
            Some(&env.user("eve", "US").await),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "users cannot reach admin routes");
}

#[tokio::test]
async fn uploads_are_checked_and_refusals_leave_nothing() {
    let env = Env::with("upload", |c| {
        c.max_video_ms = 4_000;
        c.max_upload_bytes = 200_000;
    });
    let token = env.user("maker", "US").await;
    let good = clip(3.0);
    let (s, v) = env
        .upload(&token, &good, "hello #Sunset #sunset world", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (
            v["duration_ms"].as_u64(),
            v["width"].as_u64(),
            v["height"].as_u64()
        ),
        (Some(3000), Some(144), Some(256))
    );
    assert_eq!(v["hashtags"], json!(["sunset"]));
    assert!(
        v["media_url"].as_str().is_some()
            && v["poster_url"].as_str().is_some()
            && v["sound_id"].as_str().is_some()
    );
    let files_after_good = env.media_files();
    assert_eq!(files_after_good, 2, "one media file and one poster");

    let mut big = clip(3.0);
    big.resize(260_000, 0);
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (
            good[..good.len() / 2].to_vec(),
            StatusCode::BAD_REQUEST,
            "corrupt_video",
        ),
        (
            b"just some text, not a video at all".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_video",
        ),
        (
            clip(6.0),
            StatusCode::UNPROCESSABLE_ENTITY,
            "video_too_long",
        ),
        (big, StatusCode::PAYLOAD_TOO_LARGE, "video_too_large"),
    ];
    for (bytes, status, code) in cases {
        let (s, v) = env.upload(&token, &bytes, "x", None).await;
        assert_eq!((s, error_code(&v)), (status, code), "{v}");
        assert!(!v["error"]["message"].as_str().unwrap_or("").is_empty());
        assert_eq!(
            env.media_files(),
            files_after_good,
            "a refused upload left a file behind ({code})"
        );
    }
    let (s, v) = env.upload(&token, &good, &"a".repeat(2201), None).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );
    let (_, v) = env.call("GET", "/v1/users/maker/videos", None, None).await;
    assert_eq!(
        v["videos"].as_array().map(Vec::len),
        Some(1),
        "no refused upload became a video"
    );
}

#[tokio::test]
async fn media_is_served_with_ranges() {
    let env = Env::new("media");
    let token = env.user("ranger", "BR").await;
    let bytes = clip(2.0);
    let (_, v) = env.upload(&token, &bytes, "r", None).await;
    let url = v["media_url"].as_str().expect("media url").to_string();
    let (s, h, body) = env
        .raw(
            Request::get(&url)
                .header("range", "bytes=10-19")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, bytes[10..20].to_vec());
    assert_eq!(
        h["content-range"],
        format!("bytes 10-19/{}", bytes.len()).as_str()
    );
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["content-type"], "video/mp4");
    let (s, _, body) = env
        .raw(Request::get(&url).body(Body::empty()).expect("req"))
        .await;
    assert_eq!((s, body.len()), (StatusCode::OK, bytes.len()));
    let (s, h, _) = env
        .raw(
            Request::get(&url)
                .header("range", format!("bytes={}-", bytes.len() + 5))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        h["content-range"],
        format!("bytes */{}", bytes.len()).as_str()
    );
    let (s, h, body) = env
        .raw(
            Request::get(v["poster_url"].as_str().expect("poster"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(
        (s, h["content-type"].to_str().unwrap_or("")),
        (StatusCode::OK, "image/png")
    );
    assert!(body.starts_with(b"\x89PNG"));
}

#[tokio::test]
async fn events_are_validated_whole_idempotent_and_counted() {
    let env = Env::new("events");
    let creator = env.user("creator", "US").await;
    let fan = env.user("fan", "DE").await;
    let (_, v) = env.upload(&creator, &clip(2.0), "c", None).await;
    let vid = v["id"].as_str().expect("id").to_string();
    let creator_id = v["creator"]["id"].as_str().expect("creator").to_string();

    // One bad item refuses the whole batch, naming it; nothing is applied.
    let bad = json!({"events": [
        {"id": "e1", "kind": "like", "video_id": vid},
        {"id": "e2", "kind": "view", "video_id": vid, "watch_ms": -5}
    ]});
    let (s, v) = env.call("POST", "/v1/events", Some(&fan), Some(bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("events[1].watch_ms"),
        "{v}"
    );
    let (_, v) = env
        .call("GET", &format!("/v1/videos/{vid}"), None, None)
        .await;
    assert_eq!(v["counts"]["likes"], 0, "a refused batch applied nothing");
    for (body, status, needle) in [
        (
            json!({"events": [{"id": "x", "kind": "view", "video_id": "123", "watch_ms": 5}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "events[0].video_id",
        ),
        (
            json!({"events": [{"id": "x", "kind": "view", "video_id": vid, "watch_ms": 999_999_999}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "events[0].watch_ms",
        ),
        (
            json!({"events": [{"id": "x", "kind": "dance", "video_id": vid}]}),
            StatusCode::BAD_REQUEST,
            "dance",
        ),
        (
            json!({"events": [{"id": "x", "kind": "comment", "video_id": vid, "text": "  "}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "events[0].text",
        ),
        (
            json!({"events": []}),
            StatusCode::BAD_REQUEST,
            "at least one",
        ),
    ] {
        let (s, v) = env
            .call("POST", "/v1/events", Some(&fan), Some(body.clone()))
            .await;
        assert_eq!(s, status, "{body} -> {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{v}"
        );
    }
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"id": format!("m{i}"), "kind": "share", "video_id": vid}))
        .collect();
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&fan),
            Some(json!({"events": many})),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    let good = json!({"events": [
        {"id": "g1", "kind": "view", "video_id": vid, "watch_ms": 4100},
        {"id": "g2", "kind": "like", "video_id": vid},
        {"id": "g3", "kind": "comment", "video_id": vid, "text": "nice one"},
        {"id": "g4", "kind": "follow", "target": creator_id}
    ]});
    let (s, v) = env
        .call("POST", "/v1/events", Some(&fan), Some(good.clone()))
        .await;
    assert_eq!(
        (s, v["accepted"].as_u64()),
        (StatusCode::OK, Some(4)),
        "{v}"
    );
    let (_, again) = env.call("POST", "/v1/events", Some(&fan), Some(good)).await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(4)),
        "resent ids are no-ops"
    );
    let (_, v) = env
        .call("GET", &format!("/v1/videos/{vid}"), Some(&fan), None)
        .await;
    assert_eq!(
        v["counts"],
        json!({"likes": 1, "saves": 0, "comments": 1, "shares": 0, "views": 1})
    );
    assert_eq!(
        (v["liked"].as_bool(), v["following"].as_bool()),
        (Some(true), Some(true))
    );
    let (_, v) = env
        .call("GET", &format!("/v1/videos/{vid}/comments"), None, None)
        .await;
    assert_eq!(v["comments"][0]["text"], "nice one");
    assert_eq!(v["comments"][0]["author"]["handle"], "fan");
    let (_, v) = env.call("GET", "/v1/users/creator", None, None).await;
    assert_eq!(v["followers"], 1);
    let (_, v) = env
        .call("GET", "/v1/feed?mode=following", Some(&fan), None)
        .await;
    assert_eq!(v["items"][0]["id"].as_str(), Some(vid.as_str()));
    let (_, v) = env
        .call("GET", "/v1/feed?mode=foryou", Some(&fan), None)
        .await;
    assert!(
        v["items"]
            .as_array()
            .is_some_and(|a| a.iter().all(|i| i["id"].as_str() != Some(vid.as_str()))),
        "a watched video is not served again"
    );
}

#[tokio::test]
async fn search_finds_creators_hashtags_sounds_and_captions_and_a_hashtag_page_lists_its_videos() {
    let env = Env::new("search");
    let a = env.user("kitten_fan", "US").await;
    let b = env.user("chef_ana", "IE").await;
    let (_, v1) = env
        .upload(&a, &clip(2.0), "my cat naps #pets #cats", None)
        .await;
    env.upload(&b, &clip(2.0), "pasta night #food", None).await;
    env.upload(&b, &clip(2.0), "the cat stole my pasta #pets", None)
        .await;
    let (s, v) = env.call("GET", "/v1/search?q=kitten", None, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["creators"][0]["handle"], "kitten_fan");
    let (_, v) = env.call("GET", "/v1/search?q=%23pet", None, None).await;
    assert_eq!(v["hashtags"][0]["tag"], "pets");
    assert_eq!(v["hashtags"][0]["video_count"], 2);
    let (_, v) = env.call("GET", "/v1/search?q=pasta", None, None).await;
    let captions: Vec<&str> = v["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .filter_map(|x| x["caption"].as_str())
        .collect();
    assert_eq!(
        captions,
        ["the cat stole my pasta #pets", "pasta night #food"]
    );
    let (_, v) = env
        .call(
            "GET",
            "/v1/search?q=original%20sound%20-%20chef",
            None,
            None,
        )
        .await;
    assert_eq!(v["sounds"].as_array().map(Vec::len), Some(2));
    // A hashtag page, newest first; a deleted video leaves it.
    let (s, v) = env
        .call("GET", "/v1/hashtags/pets?limit=1", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (
            v["video_count"].as_u64(),
            v["videos"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    assert_eq!(v["videos"][0]["caption"], "the cat stole my pasta #pets");
    let id = v1["id"].as_str().expect("id");
    let (s, _) = env
        .call("DELETE", &format!("/v1/videos/{id}"), Some(&a), None)
        .await;
    assert!(s.is_success(), "{s}");
    let (_, v) = env.call("GET", "/v1/hashtags/pets", None, None).await;
    assert_eq!(v["video_count"], 1);
    let (_, v) = env.call("GET", "/v1/hashtags/cats", None, None).await;
    assert_eq!(v["video_count"], 0);
    // Hostile input gets a 400 that says what to change.
    for bad in [
        "/v1/search",
        "/v1/search?q=",
        "/v1/search?q=x&limit=500",
        "/v1/search?q=x&page=2",
    ] {
        let (s, v) = env.call("GET", bad, None, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    let long = "x".repeat(65);
    let (s, _) = env
        .call("GET", &format!("/v1/search?q={long}"), None, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = env
        .call("GET", "/v1/hashtags/not%20a%20tag", None, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn trending_sounds_are_per_region_and_reuse_ranks_a_sound_up() {
    let env = Env::new("trending");
    let us1 = env.user("us_one", "US").await;
    let us2 = env.user("us_two", "US").await;
    let eu = env.user("eu_one", "IE").await;
    let (_, a) = env.upload(&us1, &clip(2.0), "a", None).await;
    let (_, _b) = env.upload(&us1, &clip(2.0), "b", None).await;
    let popular = a["sound_id"].as_str().expect("sound").to_string();
    env.upload(&us2, &clip(2.0), "reuse", Some(&popular)).await;
    let (_, e) = env.upload(&eu, &clip(2.0), "eu", None).await;
    let (s, v) = env
        .call("GET", "/v1/sounds/trending", Some(&us2), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["region"], "us");
    let ids: Vec<&str> = v["sounds"]
        .as_array()
        .expect("sounds")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{v}");
    assert_eq!(ids[0], popular);
    assert!(!ids.contains(&e["sound_id"].as_str().expect("sound")));
    let (_, v) = env
        .call("GET", "/v1/sounds/trending?region=eu", None, None)
        .await;
    assert_eq!(v["sounds"][0]["id"], e["sound_id"]);
    let (s, _) = env
        .call("GET", "/v1/sounds/trending?limit=0", None, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn videos_record_their_effects_and_an_effect_page_lists_them() {
    let env = Env::new("effects");
    let a = env.user("editor", "US").await;
    let (s, v) = env
        .upload_form(&a, &clip(2.0), &[("effects", "mono, text,mono")])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, video) = env
        .call(
            "GET",
            &format!("/v1/videos/{}", v["id"].as_str().expect("id")),
            None,
            None,
        )
        .await;
    assert_eq!(video["effects"], json!(["mono", "text"]));
    let (s, page) = env.call("GET", "/v1/effects/mono", None, None).await;
    assert_eq!((s, page["video_count"].as_u64()), (StatusCode::OK, Some(1)));
    let (_, page) = env.call("GET", "/v1/effects/sepia", None, None).await;
    assert_eq!(page["video_count"], 0);
    let (s, _) = env.call("GET", "/v1/effects/glitter", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An unknown effect is refused and leaves nothing behind.
    let before = env.media_files();
    let (s, v) = env
        .upload_form(&a, &clip(2.0), &[("effects", "mono,glitter")])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("glitter"));
    assert_eq!(env.media_files(), before);
}

#[tokio::test]
async fn a_bio_set_in_settings_shows_on_the_profile() {
    let env = Env::new("bio");
    let a = env.user("with_bio", "US").await;
    let (s, v) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&a),
            Some(json!({"bio": "  I film my cat.  "})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, p) = env.call("GET", "/v1/users/with_bio", None, None).await;
    assert_eq!(p["bio"], "I film my cat.");
    let long = "x".repeat(81);
    let (s, v) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&a),
            Some(json!({"bio": long})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("bio"));
    let (_, p) = env.call("GET", "/v1/users/with_bio", None, None).await;
    assert_eq!(
        p["bio"], "I film my cat.",
        "a refused change leaves the bio as it was"
    );
}

#[tokio::test]
async fn a_sound_can_be_heard_from_the_video_it_came_from() {
    let env = Env::new("sound-audio");
    let a = env.user("musician", "US").await;
    let music = foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec {
        seconds: 4.0,
        seed: 9,
        music: Some(3),
        ..foryou_media::synth::ClipSpec::default()
    });
    let (s, v) = env.upload(&a, &music, "with music #song", None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sound = v["sound_id"].as_str().expect("sound").to_string();
    let (_, video) = env
        .call(
            "GET",
            &format!("/v1/videos/{}", v["id"].as_str().expect("id")),
            None,
            None,
        )
        .await;
    assert_eq!(video["audio_codec"], "flac");
    let (_, page) = env
        .call("GET", &format!("/v1/sounds/{sound}"), None, None)
        .await;
    let url = page["audio_url"]
        .as_str()
        .expect("an audible sound has an audio_url");
    let req = axum::http::Request::get(url)
        .header("range", "bytes=0-99")
        .body(axum::body::Body::empty())
        .expect("request");
    let (s, _, body) = env.raw(req).await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, music[..100].to_vec());
    // A silent video's sound has nothing to play, and says so.
    let (_, v) = env.upload(&a, &clip(2.0), "silent", None).await;
    let silent = v["sound_id"].as_str().expect("sound").to_string();
    let (_, page) = env
        .call("GET", &format!("/v1/sounds/{silent}"), None, None)
        .await;
    assert!(page["audio_url"].is_null());
    let (s, v) = env
        .call("GET", &format!("/v1/sounds/{silent}/audio"), None, None)
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{v}"
    );
}

#[tokio::test]
async fn sounds_are_shared_and_the_feed_explains_itself() {
    let env = Env::new("sounds");
    let a = env.user("first", "US").await;
    let b = env.user("second", "IE").await;
    let (_, v1) = env.upload(&a, &clip(2.0), "original", None).await;
    let sound = v1["sound_id"].as_str().expect("sound").to_string();
    let (s, v2) = env.upload(&b, &clip(2.5), "same sound", Some(&sound)).await;
    assert_eq!(
        (s, v2["sound_id"].as_str()),
        (StatusCode::CREATED, Some(sound.as_str()))
    );
    let (s, v) = env.upload(&b, &clip(2.5), "x", Some("424242")).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_sound")
    );
    let (_, v) = env
        .call("GET", &format!("/v1/sounds/{sound}"), None, None)
        .await;
    assert_eq!(v["video_count"], 2);
    assert_eq!(v["title"], "original sound - first");
    let viewer = env.user("viewer", "US").await;
    let (s, v) = env
        .call("GET", "/v1/feed?mode=foryou&limit=5", Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let items = v["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["reasons"]
        .as_array()
        .is_some_and(|r| !r.is_empty() && r[0]["text"].as_str().is_some())));
    let (s, v) = env
        .call("GET", "/v1/feed?mode=sideways", Some(&viewer), None)
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let (s, _) = env
        .call("GET", "/v1/feed?limit=500", Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = temp_dir("restart");
    let (vid, token) = {
        let env = Env::at(&dir, true);
        let t = env.user("keeper", "NO").await;
        let (_, v) = env.upload(&t, &clip(2.0), "keep #me", None).await;
        let vid = v["id"].as_str().expect("id").to_string();
        let (s, _) = env
            .call("POST", "/v1/events", Some(&t), Some(json!({"events": [{"id": "k1", "kind": "like", "video_id": vid}, {"id": "k2", "kind": "comment", "video_id": vid, "text": "still here"}]})))
            .await;
        assert_eq!(s, StatusCode::OK);
        drop(env);
        (vid, t)
    };
    let env = Env::at(&dir, false);
    let (s, v) = env
        .call("GET", &format!("/v1/videos/{vid}"), Some(&token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "the session and video survive");
    assert_eq!(
        (
            v["counts"]["likes"].as_u64(),
            v["counts"]["comments"].as_u64(),
            v["liked"].as_bool()
        ),
        (Some(1), Some(1), Some(true))
    );
    let (s, h, _) = env
        .raw(
            Request::get(format!("/v1/videos/{vid}/media"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(
        (s, h["content-type"].to_str().unwrap_or("")),
        (StatusCode::OK, "video/mp4")
    );
}

#[tokio::test]
async fn ops_endpoints_answer() {
    let env = Env::new("ops");
    let (s, v) = env.call("GET", "/healthz", None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, v) = env.call("GET", "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/v1/accounts",
        "/v1/sessions",
        "/v1/videos",
        "/v1/videos/{id}",
        "/v1/events",
        "/v1/feed",
    ] {
        assert!(v["paths"][path].is_object(), "openapi misses {path}");
    }
    let _ = env.call("GET", "/v1/nowhere", None, None).await;
    let (s, _, body) = env
        .raw(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(s, StatusCode::OK);
    assert!(
        text.contains(
            "foryou_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("foryou_http_request_duration_seconds_bucket{route=\"/openapi.json\""));
    assert!(text.contains("foryou_events_total{kind=\"view\"} 0"));
}

#[tokio::test]
async fn only_creators_and_moderators_remove_videos() {
    let env = Env::new("moderation");
    let owner = env.user("owner", "US").await;
    let other = env.user("other", "US").await;
    let (_, v) = env.upload(&owner, &clip(2.0), "mine", None).await;
    let vid = v["id"].as_str().expect("id").to_string();
    let (s, _) = env
        .call("DELETE", &format!("/v1/videos/{vid}"), Some(&other), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, v) = env.upload(&owner, &clip(2.0), "second", None).await;
    let vid2 = v["id"].as_str().expect("id").to_string();
    let (s, _) = env
        .call("DELETE", &format!("/v1/videos/{vid}"), Some(&owner), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = env
        .call("GET", &format!("/v1/videos/{vid}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        env.media_files(),
        2,
        "the removed video's files are gone, the other's stay"
    );
    let (_, v) = env.call("GET", "/v1/feed", Some(&other), None).await;
    assert_eq!(
        v["items"].as_array().map(|a| a
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()),
        Some(vec![vid2])
    );
}

/// The For You feed learns from events at once, "refresh" forgets it, and both the learned
/// state and the refresh survive a restart (the engine snapshot and the log).
#[tokio::test]
async fn the_feed_learns_forgets_and_remembers_across_restarts() {
    let dir = temp_dir("learn");
    let platform = Arc::new(common::platform(Config::new(&dir)));
    let env = Env {
        dir: dir.clone(),
        app: router(Arc::clone(&platform)),
        keep_dir: true,
    };
    let cats = env.user("catperson", "FR").await;
    let cars = env.user("carperson", "FR").await;
    let mut cat_videos = Vec::new();
    for k in 0..4 {
        let (_, v) = env
            .upload(&cats, &clip(2.0), &format!("cat {k} #cats"), None)
            .await;
        cat_videos.push(v["id"].as_str().expect("id").to_string());
        env.upload(&cars, &clip(2.0), &format!("car {k} #cars"), None)
            .await;
    }
    let viewer = env.user("watcher", "DE").await;
    let codes = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|i| i["reasons"].as_array().cloned().unwrap_or_default())
            .filter_map(|r| r["code"].as_str().map(str::to_string))
            .collect()
    };
    let (_, before) = env
        .call("GET", "/v1/feed?limit=6", Some(&viewer), None)
        .await;
    assert!(!codes(&before).contains(&"engaged_creator".to_string()));
    // Watch a cat video to the end, twice over, and like it.
    let (s, v) = env
        .call(
            "POST",
            "/v1/events",
            Some(&viewer),
            Some(json!({"events": [
            {"id": "w1", "kind": "view", "video_id": cat_videos[0], "watch_ms": 4000},
            {"id": "w2", "kind": "like", "video_id": cat_videos[0]}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, after) = env
        .call("GET", "/v1/feed?limit=6", Some(&viewer), None)
        .await;
    let first = &after["items"][0];
    assert_eq!(first["creator"]["handle"], "catperson", "{after}");
    assert!(
        codes(&after).contains(&"engaged_creator".to_string()),
        "{after}"
    );
    assert!(
        after["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["id"] != cat_videos[0].as_str()),
        "a watched video is not shown again"
    );
    // A refresh cannot be smuggled in as an event.
    let (s, v) = env
        .call(
            "POST",
            "/v1/events",
            Some(&viewer),
            Some(json!({"events": [{"id": "r", "kind": "refresh"}]})),
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::BAD_REQUEST, "bad_request"),
        "{v}"
    );
    // Restart with a snapshot: what was learned is still there.
    platform.snapshot_engines().expect("snapshot");
    assert!(dir.join("regions/eu/engine.snapshot").exists());
    drop(env);
    drop(platform);
    let env = Env::at(&dir, true);
    let (_, again) = env
        .call("GET", "/v1/feed?limit=6", Some(&viewer), None)
        .await;
    assert!(
        codes(&again).contains(&"engaged_creator".to_string()),
        "{again}"
    );
    // Refresh forgets; a restart (replaying the log after the snapshot) does not bring it back.
    let (s, _) = env
        .call("POST", "/v1/feed/refresh", Some(&viewer), None)
        .await;
    assert!(s.is_success());
    let (_, fresh) = env
        .call("GET", "/v1/feed?limit=6", Some(&viewer), None)
        .await;
    assert!(
        !codes(&fresh).contains(&"engaged_creator".to_string()),
        "{fresh}"
    );
    drop(env);
    let env = Env::at(&dir, false);
    let (_, restarted) = env
        .call("GET", "/v1/feed?limit=6", Some(&viewer), None)
        .await;
    assert!(
        !codes(&restarted).contains(&"engaged_creator".to_string()),
        "{restarted}"
    );
}
