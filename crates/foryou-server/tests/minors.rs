//! Teen defaults the server enforces, whatever a client sends: private accounts, comments only
//! from followers, not suggested to strangers; a 16–17-year-old may go public but not open
//! comments to everyone; and an adult's own controls (personalisation off means nothing is
//! learned; filter words keep videos out of the feed).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{id_of, person, Env};
use foryou_server::Limits;
use serde_json::{json, Value};

async fn feed_ids(env: &Env, token: &str, personalized: bool) -> Vec<String> {
    let (s, f) = env
        .call(
            "GET",
            &format!("/v1/feed?limit=50&personalized={personalized}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    f["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn comment(env: &Env, token: &str, video: &str, n: u32) -> (StatusCode, Value) {
    env.call("POST", "/v1/events", Some(token), Some(json!({"events": [{"id": format!("c{n}"), "kind": "comment", "video_id": video, "text": "hi"}]})))
        .await
}

#[tokio::test]
async fn a_young_teen_stays_private_and_only_followers_comment() {
    let env = Env::with("minors-teen", |c| c.limits = Limits::off());
    let teen = person(&env, "teenager", 14).await;
    let stranger = person(&env, "stranger", 35).await;
    let friend = person(&env, "friendly", 15).await;
    let (s, v) = env.upload(&teen, &common::clip(2.0), "my clip", None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    let (s, v) = env
        .upload(&stranger, &common::clip(2.5), "grown-up clip", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    let (s, v) = env.call("GET", "/v1/me/settings", Some(&teen), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["band"], "young_teen");
    assert_eq!(v["settings"]["private"], true, "{v}");
    assert_eq!(v["settings"]["comments"], "followers");
    // No client can weaken it.
    for weaker in [
        json!({"private": false}),
        json!({"private": true, "comments": "everyone"}),
        json!({"private": false, "comments": "everyone", "personalised": true}),
    ] {
        let (s, v) = env
            .call("PUT", "/v1/me/settings", Some(&teen), Some(weaker.clone()))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{weaker} -> {v}");
    }
    let (_, v) = env.call("GET", "/v1/me/settings", Some(&teen), None).await;
    assert_eq!(v["settings"]["private"], true);
    assert_eq!(v["settings"]["comments"], "followers");

    // Not suggested to a stranger; not listed to them; they may not comment.
    assert!(!feed_ids(&env, &stranger, true).await.contains(&vid));
    assert!(!feed_ids(&env, &stranger, false).await.contains(&vid));
    let (_, list) = env
        .call("GET", "/v1/users/teenager/videos", Some(&stranger), None)
        .await;
    assert_eq!(list["private"], true);
    assert!(list["videos"].as_array().expect("videos").is_empty());
    let (_, list) = env
        .call("GET", "/v1/users/teenager/videos", None, None)
        .await;
    assert!(
        list["videos"].as_array().expect("videos").is_empty(),
        "signed out sees a private account's videos"
    );
    // Nor may they open it by its link, play it, read its comments or act on it.
    for path in [
        format!("/v1/videos/{vid}"),
        format!("/v1/videos/{vid}/media"),
        format!("/v1/videos/{vid}/poster"),
        format!("/v1/videos/{vid}/comments"),
    ] {
        let (s, _) = env.call("GET", &path, Some(&stranger), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        let (s, _) = env.call("GET", &path, None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path} signed out");
    }
    let (s, v) = comment(&env, &stranger, &vid, 1).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "unknown_video");

    // A follower sees the videos and may comment.
    let teen_id = id_of(&env, &teen).await;
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&friend),
            Some(json!({"events": [{"id": "f1", "kind": "follow", "target": teen_id}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Following is a request until the teen approves it.
    let (_, list) = env
        .call("GET", "/v1/users/teenager/videos", Some(&friend), None)
        .await;
    assert!(
        list["videos"].as_array().expect("videos").is_empty(),
        "{list}"
    );
    let (s, v) = comment(&env, &friend, &vid, 9).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, req) = env
        .call("GET", "/v1/me/follow-requests", Some(&teen), None)
        .await;
    assert_eq!(req["requests"][0]["handle"], "friendly", "{req}");
    let friend_id = req["requests"][0]["id"].as_str().expect("id").to_string();
    let (s, v) = env
        .call(
            "POST",
            "/v1/events",
            Some(&teen),
            Some(
                json!({"events": [{"id": "a1", "kind": "approve_follower", "target": friend_id}]}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, req) = env
        .call("GET", "/v1/me/follow-requests", Some(&teen), None)
        .await;
    assert!(req["requests"].as_array().expect("requests").is_empty());
    let stranger_id = id_of(&env, &stranger).await;
    let (s, _) = env
        .call("POST", "/v1/events", Some(&teen), Some(json!({"events": [{"id": "a2", "kind": "approve_follower", "target": stranger_id}]})))
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "approving someone who does not follow"
    );
    let (_, list) = env
        .call("GET", "/v1/users/teenager/videos", Some(&friend), None)
        .await;
    assert_eq!(list["videos"][0]["id"], vid.as_str());
    let (s, _) = env
        .call(
            "GET",
            &format!("/v1/videos/{vid}/media"),
            Some(&friend),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "a follower cannot play it");
    let (s, v) = comment(&env, &friend, &vid, 2).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The teen may close comments altogether.
    let (s, _) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&teen),
            Some(json!({"private": true, "comments": "nobody"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = comment(&env, &friend, &vid, 3).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_older_teen_may_go_public_but_not_open_comments_to_everyone() {
    let env = Env::with("minors-older", |c| c.limits = Limits::off());
    let teen = person(&env, "seventeen", 17).await;
    let (_, v) = env.call("GET", "/v1/me/settings", Some(&teen), None).await;
    assert_eq!(
        (v["band"].as_str(), v["settings"]["private"].as_bool()),
        (Some("older_teen"), Some(true))
    );
    let (s, v) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&teen),
            Some(json!({"private": false, "comments": "followers"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["settings"]["private"], false);
    let (s, _) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&teen),
            Some(json!({"private": false, "comments": "everyone"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Unknown fields are refused rather than ignored.
    let (s, _) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&teen),
            Some(json!({"private": false, "adult_mode": true})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn personalisation_off_learns_nothing_and_filters_keep_videos_out() {
    let (env, _p) = Env::with_platform("minors-controls", |c| c.limits = Limits::off());
    let me = person(&env, "grownup", 30).await;
    let maker = person(&env, "makerone", 30).await;
    let mut vids = Vec::new();
    for (k, caption) in ["cute #cats", "fast #cars", "more #cats"]
        .iter()
        .enumerate()
    {
        let (s, v) = env
            .upload(&maker, &common::clip(2.0 + k as f64 * 0.5), caption, None)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        vids.push(v["id"].as_str().expect("id").to_string());
    }
    let (s, _) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&me),
            Some(json!({"personalised": false, "filters": ["#Cats"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, f) = env.call("GET", "/v1/feed?limit=20", Some(&me), None).await;
    let items = f["items"].as_array().expect("items");
    assert!(!items.is_empty());
    assert!(
        items.iter().all(|i| i["reasons"]
            .as_array()
            .expect("r")
            .iter()
            .any(|r| r["code"] == "not_personalised")),
        "{f}"
    );
    assert!(
        items
            .iter()
            .all(|i| i["id"] != vids[0].as_str() && i["id"] != vids[2].as_str()),
        "a filtered video is in the feed: {f}"
    );
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&me),
            Some(json!({"events": [
                {"id": "v1", "kind": "view", "video_id": vids[1], "watch_ms": 3000},
                {"id": "l1", "kind": "like", "video_id": vids[1]},
            ]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // The like counts, but the engine learned nothing about them.
    let (_, v) = env
        .call("GET", &format!("/v1/videos/{}", vids[1]), None, None)
        .await;
    assert_eq!(v["counts"]["likes"], 1);
    let files = common::export(&env, &me).await;
    let interests = String::from_utf8(files["interests.json"].clone()).expect("utf-8");
    assert_eq!(
        interests.trim(),
        "null",
        "the engine learned about someone with personalisation off"
    );
}

#[tokio::test]
async fn a_teen_is_reminded_after_an_hour_today_and_an_adult_is_not() {
    let env = Env::with("minors-screen", |c| c.limits = Limits::off());
    let teen = person(&env, "watcher", 15).await;
    let adult = person(&env, "bigwatcher", 40).await;
    let maker = person(&env, "clipmaker", 30).await;
    let (s, v) = env.upload(&maker, &common::clip(2.0), "a clip", None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    for (who, token) in [("teen", &teen), ("adult", &adult)] {
        let (_, f) = env.call("GET", "/v1/feed?limit=5", Some(token), None).await;
        assert!(
            f.get("screen_time_reminder").is_none(),
            "{who} reminded before watching: {f}"
        );
        // Sixty minutes of watching (one minute per event, the most a 2-second clip allows).
        let events: Vec<Value> = (0..60)
            .map(|i| json!({"id": format!("w{i}"), "kind": "view", "video_id": vid, "watch_ms": 60_000}))
            .collect();
        let (s, v) = env
            .call(
                "POST",
                "/v1/events",
                Some(token),
                Some(json!({"events": events})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (_, f) = env.call("GET", "/v1/feed?limit=5", Some(&teen), None).await;
    assert!(
        f["screen_time_reminder"]
            .as_str()
            .unwrap_or("")
            .contains("60 minutes"),
        "{f}"
    );
    let (_, f) = env
        .call("GET", "/v1/feed?limit=5", Some(&adult), None)
        .await;
    assert!(f.get("screen_time_reminder").is_none(), "{f}");
}

#[tokio::test]
async fn mature_videos_never_reach_teens_or_signed_out_visitors() {
    let (env, p) = Env::with_platform("minors-mature", |c| c.limits = Limits::off());
    let teen = person(&env, "youngone", 16).await;
    let adult = person(&env, "olderone", 30).await;
    let maker = person(&env, "edgymaker", 30).await;
    let moderator = person(&env, "modfrank", 40).await;
    let mod_id = id_of(&env, &moderator).await;
    p.set_role(
        foryou_types::UserId(mod_id.parse().expect("id")),
        foryou_types::Role::Moderator,
    )
    .expect("role");
    let mut vids = Vec::new();
    for k in 0..3 {
        let (s, v) = env
            .upload(
                &maker,
                &common::clip(2.0 + f64::from(k) * 0.5),
                "clip",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        vids.push(v["id"].as_str().expect("id").to_string());
    }
    // The creator marks one; a moderator marks another (through the gateway, with a purpose).
    let (s, _) = env
        .call(
            "PUT",
            &format!("/v1/videos/{}/mature", vids[0]),
            Some(&maker),
            Some(json!({"mature": true})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = env
        .call(
            "PUT",
            &format!("/v1/videos/{}/mature", vids[1]),
            Some(&adult),
            Some(json!({"mature": true})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "anyone may mark others' videos");
    let (s, _) = env
        .call(
            "PUT",
            &format!("/v1/videos/{}/mature", vids[1]),
            Some(&moderator),
            Some(json!({"mature": true})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "staff must name a purpose");
    let (s, v) = env
        .call(
            "PUT",
            &format!("/v1/videos/{}/mature?purpose=moderation", vids[1]),
            Some(&moderator),
            Some(json!({"mature": true})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let decisions = p
        .access_records(&foryou_types::Region::new("us").expect("region"), 1, 100)
        .expect("records");
    assert!(decisions
        .iter()
        .any(|d| d.verb == "mark video mature" && d.allowed));

    let teen_feed = feed_ids(&env, &teen, false).await;
    assert!(
        !teen_feed.contains(&vids[0]) && !teen_feed.contains(&vids[1]),
        "{teen_feed:?}"
    );
    assert!(teen_feed.contains(&vids[2]));
    let adult_feed = feed_ids(&env, &adult, false).await;
    assert!(
        adult_feed.contains(&vids[0]) && adult_feed.contains(&vids[1]),
        "{adult_feed:?}"
    );
    let (_, f) = env.call("GET", "/v1/feed?limit=50", None, None).await;
    let anon: Vec<&str> = f["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(
        !anon.contains(&vids[0].as_str()) && !anon.contains(&vids[1].as_str()),
        "{anon:?}"
    );
    let (_, v) = env
        .call("GET", &format!("/v1/videos/{}", vids[0]), None, None)
        .await;
    assert_eq!(v["mature"], true);
}

#[tokio::test]
async fn not_interested_choices_are_listed_and_can_be_undone() {
    let env = Env::with("controls-nope", |c| c.limits = Limits::off());
    let me = person(&env, "chooser", 30).await;
    let maker = person(&env, "boringmaker", 30).await;
    let other = person(&env, "finemaker", 30).await;
    let (s, v) = env.upload(&maker, &common::clip(2.0), "meh", None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    let (s, _) = env.upload(&other, &common::clip(2.5), "fine", None).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = env
        .call("POST", "/v1/events", Some(&me), Some(json!({"events": [{"id": "n1", "kind": "not_interested", "video_id": vid, "target": "creator"}]})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, n) = env
        .call("GET", "/v1/me/not-interested", Some(&me), None)
        .await;
    assert_eq!(n["creators"][0]["handle"], "boringmaker", "{n}");
    assert!(!feed_ids(&env, &me, true).await.contains(&vid));
    let (s, v) = env
        .call("POST", "/v1/events", Some(&me), Some(json!({"events": [{"id": "u1", "kind": "undo_not_interested", "video_id": n["creators"][0]["video_id"], "target": "creator"}]})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, n) = env
        .call("GET", "/v1/me/not-interested", Some(&me), None)
        .await;
    assert!(
        n["creators"].as_array().expect("creators").is_empty(),
        "{n}"
    );
    assert!(
        feed_ids(&env, &me, true).await.contains(&vid),
        "the creator did not come back"
    );
}

/// The learned interests in a person's export (`null` when the engine knows nothing of them).
async fn exported_interests(env: &Env, token: &str) -> Value {
    serde_json::from_slice(&common::export(env, token).await["interests.json"]).expect("json")
}

#[tokio::test]
async fn nobody_downloads_a_minors_videos_and_adults_choose() {
    let env = Env::with("minors-download", |c| c.limits = Limits::off());
    let teen = person(&env, "teencreator", 17).await;
    let adult = person(&env, "adultcreator", 30).await;
    let (_, t) = env
        .upload(&teen, &common::clip(2.0), "teen clip", None)
        .await;
    let (_, a) = env
        .upload(&adult, &common::clip(2.0), "adult clip", None)
        .await;
    let (tv, av) = (t["id"].as_str().expect("id"), a["id"].as_str().expect("id"));
    // The teen goes public, and even asks for downloads: their videos stay undownloadable.
    let (s, v) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&teen),
            Some(json!({"private": false, "comments": "followers", "downloads": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["settings"]["downloads"], false, "{v}");
    let (s, v) = env
        .call("GET", &format!("/v1/videos/{tv}"), Some(&adult), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v.get("download_url").is_none(), "{v}");
    let (s, _, _) = env
        .raw(
            Request::get(format!("/v1/videos/{tv}/download"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // An adult's video downloads as a file, until they turn downloads off.
    let (s, h, body) = env
        .raw(
            Request::get(format!("/v1/videos/{av}/download"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["content-disposition"]
        .to_str()
        .expect("ascii")
        .starts_with("attachment"));
    assert!(body.len() > 100);
    let (s, _) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&adult),
            Some(json!({"downloads": false})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = env
        .raw(
            Request::get(format!("/v1/videos/{av}/download"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn with_watch_history_off_only_deliberate_actions_are_learned() {
    let env = Env::with("data-categories", |c| c.limits = Limits::off());
    let me = person(&env, "carefulone", 30).await;
    let maker = person(&env, "somecreator", 30).await;
    let (_, a) = env
        .upload(&maker, &common::clip(2.0), "one #dogs", None)
        .await;
    let (_, b) = env
        .upload(&maker, &common::clip(2.5), "two #cats", None)
        .await;
    let (s, v) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&me),
            Some(json!({"watch_history": false, "shared_statistics": false})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["settings"]["watch_history"], false);
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&me),
            Some(json!({"events": [
                {"id": "w1", "kind": "view", "video_id": a["id"], "watch_ms": 6000},
            ]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        exported_interests(&env, &me).await,
        Value::Null,
        "a view was learned with watch history off"
    );
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&me),
            Some(json!({"events": [
                {"id": "l1", "kind": "like", "video_id": b["id"]},
            ]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let learned = exported_interests(&env, &me).await;
    assert!(learned.to_string().contains("cats"), "{learned}");
    assert!(!learned.to_string().contains("dogs"), "{learned}");
}
