//! Favourites, comment threads and comment likes, through the API as the app uses them: saved
//! videos are private to the person who saved them, replies join the thread of the comment they
//! answer, likes of comments count once per person, and all of it survives a restart and shows
//! in the export.

mod common;

use axum::http::StatusCode;
use common::Env;
use foryou_server::Limits;
use serde_json::{json, Value};

async fn events(env: &Env, token: &str, events: Value) -> (StatusCode, Value) {
    env.call(
        "POST",
        "/v1/events",
        Some(token),
        Some(json!({ "events": events })),
    )
    .await
}

fn str_of(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

#[tokio::test]
async fn favourites_threads_and_comment_likes() {
    let dir = common::temp_dir("social");
    let (first, second, third, video, other_video, root);
    {
        let (env, _p) = Env::with_platform_at(&dir, |c| c.limits = Limits::off());
        first = env.user("firstfan", "DE").await;
        second = env.user("secondfan", "US").await;
        third = env.user("thirdfan", "FR").await;
        let (s, v) = env
            .upload(&first, &common::clip(2.0), "a clip #saved", None)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        video = str_of(&v["id"]);
        let (s, v) = env
            .upload(&second, &common::clip(2.5), "another", None)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        other_video = str_of(&v["id"]);

        // Favourites: saving twice counts once; only the saver sees the list.
        let (s, v) = events(
            &env,
            &second,
            json!([
                {"id": "s1", "kind": "save", "video_id": other_video},
                {"id": "s2", "kind": "save", "video_id": video},
                {"id": "s3", "kind": "save", "video_id": video},
            ]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, v) = env
            .call("GET", &format!("/v1/videos/{video}"), Some(&second), None)
            .await;
        assert_eq!(v["counts"]["saves"], 1, "{v}");
        assert_eq!(v["saved"], true);
        let (_, v) = env
            .call("GET", &format!("/v1/videos/{video}"), Some(&third), None)
            .await;
        assert_eq!(v["saved"], false, "{v}");
        let (s, v) = env
            .call("GET", "/v1/me/favorites", Some(&second), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let ids: Vec<String> = v["videos"]
            .as_array()
            .expect("list")
            .iter()
            .map(|x| str_of(&x["id"]))
            .collect();
        assert_eq!(
            ids,
            [video.clone(), other_video.clone()],
            "last saved first"
        );
        let (_, v) = env
            .call("GET", "/v1/me/favorites", Some(&third), None)
            .await;
        assert_eq!(
            v["videos"],
            json!([]),
            "someone else's favourites are not yours"
        );
        let (s, _) = env.call("GET", "/v1/me/favorites", None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, v) = env
            .call("GET", "/v1/me/favorites?limit=0", Some(&second), None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        let (s, v) = events(
            &env,
            &second,
            json!([{"id": "s4", "kind": "unsave", "video_id": other_video}]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, v) = env
            .call("GET", "/v1/me/favorites", Some(&second), None)
            .await;
        assert_eq!(v["videos"].as_array().expect("list").len(), 1, "{v}");
        let (s, v) = events(&env, &second, json!([{"id": "s5", "kind": "save"}])).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "a save names its video: {v}");

        // A thread: a comment, a reply, and a reply to the reply, which joins the same thread.
        let (s, v) = events(
            &env,
            &first,
            json!([
                {"id": "c1", "kind": "comment", "video_id": video, "text": "first!"},
            ]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        root = str_of(&v["results"][0]["comment_id"]);
        let (s, v) = events(&env, &second, json!([
            {"id": "c2", "kind": "comment", "video_id": video, "target": root, "text": "a reply"},
        ]))
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let reply = str_of(&v["results"][0]["comment_id"]);
        let (s, v) = events(&env, &third, json!([
            {"id": "c3", "kind": "comment", "video_id": video, "target": reply, "text": "@secondfan agreed"},
            {"id": "c4", "kind": "comment", "video_id": video, "text": "a second thread"},
        ]))
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // Bad references change nothing.
        for (ev, code) in [
            (
                json!({"id": "b1", "kind": "comment", "video_id": other_video, "target": root, "text": "wrong video"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"id": "b2", "kind": "comment", "video_id": video, "target": "123456", "text": "no such"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"id": "b3", "kind": "comment", "video_id": video, "target": "nope", "text": "not an id"}),
                StatusCode::BAD_REQUEST,
            ),
            (
                json!({"id": "b4", "kind": "like_comment"}),
                StatusCode::BAD_REQUEST,
            ),
            (
                json!({"id": "b5", "kind": "like_comment", "target": "98765"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"id": "b6", "kind": "like_comment", "target": root, "video_id": other_video}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            let (s, v) = events(&env, &third, json!([ev])).await;
            assert_eq!(s, code, "{ev}: {v}");
            assert!(
                v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("events[0]")),
                "{v}"
            );
        }
        let (_, v) = env
            .call("GET", &format!("/v1/videos/{video}"), None, None)
            .await;
        assert_eq!(v["counts"]["comments"], 4, "two threads, two replies: {v}");

        // Comment likes: once per person, taken back with unlike_comment.
        let (s, v) = events(
            &env,
            &second,
            json!([
                {"id": "l1", "kind": "like_comment", "target": root},
                {"id": "l2", "kind": "like_comment", "target": root},
                {"id": "l3", "kind": "like_comment", "target": reply},
            ]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = events(
            &env,
            &third,
            json!([
                {"id": "l4", "kind": "like_comment", "target": root},
                {"id": "l5", "kind": "unlike_comment", "target": root},
                {"id": "l6", "kind": "like_comment", "target": reply, "video_id": video},
            ]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, v) = env
            .call("GET", &format!("/v1/videos/{video}"), None, None)
            .await;
        assert_eq!(
            v["counts"]["likes"], 0,
            "a comment like is not a video like: {v}"
        );
    }
    // Everything holds across a restart (the projection is rebuilt from every region's store).
    let env = Env::at(&dir, false);
    let (s, v) = env
        .call(
            "GET",
            &format!("/v1/videos/{video}/comments"),
            Some(&second),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 2, "two threads: {v}");
    let top = &v["comments"][0];
    assert_eq!(top["id"], root.as_str());
    assert_eq!(top["text"], "first!");
    assert_eq!(top["likes"], 1, "{v}");
    assert_eq!(top["liked"], true, "{v}");
    assert_eq!(top["reply_count"], 2, "{v}");
    assert_eq!(v["comments"][1]["reply_count"], 0, "{v}");
    let (s, v) = env
        .call(
            "GET",
            &format!("/v1/comments/{root}/replies"),
            Some(&third),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let texts: Vec<&str> = v["replies"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["text"].as_str().expect("text"))
        .collect();
    assert_eq!(
        texts,
        ["a reply", "@secondfan agreed"],
        "oldest first, one thread"
    );
    // A reply to a reply is later than what it answers, even when both were posted within one
    // millisecond (from two regions here, so the logs' order cannot tell).
    let at = |k: usize| v["replies"][k]["created_ms"].as_u64().expect("created_ms");
    assert!(at(1) > at(0), "{v}");
    assert!(v["replies"]
        .as_array()
        .expect("list")
        .iter()
        .all(|r| r["reply_to"] == root.as_str()));
    assert_eq!(v["replies"][0]["likes"], 2, "{v}");
    assert_eq!(v["replies"][0]["liked"], true, "{v}");
    let (s, v) = env
        .call(
            "GET",
            &format!("/v1/comments/{root}/replies?limit=1"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["replies"].as_array().expect("list").len(), 1);
    assert_eq!(v["replies"][0]["liked"], false, "signed out");
    assert!(v["next_cursor"].is_string(), "{v}");
    let reply = str_of(&v["replies"][0]["id"]);
    let (s, _) = env
        .call("GET", &format!("/v1/comments/{reply}/replies"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a reply has no thread of its own");
    let (s, _) = env.call("GET", "/v1/comments/42/replies", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = env.call("GET", "/v1/comments/x/replies", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "as for any id in a path: {v}");
    let (_, v) = env
        .call("GET", "/v1/me/favorites", Some(&second), None)
        .await;
    assert_eq!(v["videos"][0]["id"], video.as_str(), "{v}");
    assert_eq!(v["videos"][0]["counts"]["saves"], 1, "{v}");

    // The export holds favourites, comment likes and replies.
    let files = common::export(&env, &second).await;
    let read = |name: &str| -> Value { serde_json::from_slice(&files[name]).expect("json") };
    assert_eq!(read("favourites.json")[0]["video"], video.as_str());
    assert!(read("favourites.json")[0]["saved_ms"].as_u64().is_some());
    assert_eq!(
        read("comment-likes.json").as_array().expect("list").len(),
        2
    );
    assert_eq!(read("comments.json")[0]["reply_to"], root.as_str());
    let _ = (first, other_video);
}
