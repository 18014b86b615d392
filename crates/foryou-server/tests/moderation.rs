//! Reports and the moderation queue: a report waits in the video's region with the reporter as
//! a pseudonym; a moderator takes the video down through the gateway, everywhere at once; its
//! creator sees the reason and appeals once; a granted appeal brings the video back.

mod common;

use axum::http::StatusCode;
use common::Env;
use foryou_server::Limits;
use foryou_types::{Region, Role, UserId};
use serde_json::json;

#[tokio::test]
async fn report_takedown_appeal_and_reversal() {
    let (env, p) = Env::with_platform("moderation", |c| c.limits = Limits::off());
    let creator = env.user("reportedmaker", "DE").await;
    let viewer = env.user("reporterzed", "US").await;
    let moderator = env.user("modeuone", "FR").await;
    let (_, me) = env.call("GET", "/v1/me", Some(&moderator), None).await;
    p.set_role(
        UserId(me["id"].as_str().expect("id").parse().expect("id")),
        Role::Moderator,
    )
    .expect("role");
    let (s, v) = env
        .upload(&creator, &common::clip(2.0), "questionable", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();

    let (s, _) = env
        .call(
            "POST",
            "/v1/reports",
            Some(&viewer),
            Some(json!({"video_id": vid, "reason": "rude"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, r1) = env
        .call(
            "POST",
            "/v1/reports",
            Some(&viewer),
            Some(json!({"video_id": vid, "reason": "spam", "note": "posted 40 times"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r1}");
    let (_, r2) = env
        .call(
            "POST",
            "/v1/reports",
            Some(&viewer),
            Some(json!({"video_id": vid, "reason": "spam"})),
        )
        .await;
    assert_eq!(
        r1["id"], r2["id"],
        "a second report by the same person is the first"
    );

    // The queue: staff only, with a purpose; the reporter is a pseudonym.
    let (s, _) = env
        .call(
            "GET",
            "/v1/admin/reports?purpose=moderation",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, q) = env
        .call(
            "GET",
            "/v1/admin/reports?region=eu&purpose=moderation",
            Some(&moderator),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{q}");
    let report = &q["reports"][0];
    assert_eq!(report["reason"], "spam");
    assert!(report["reporter"]
        .as_str()
        .expect("reporter")
        .starts_with("p-"));
    assert!(!q.to_string().contains("reporterzed"));
    let id = r1["id"].as_str().expect("id").to_string();

    // Taken down: gone for everyone at once.
    let (s, v) = env
        .call(
            "POST",
            &format!("/v1/admin/reports/{id}/resolve?region=eu&purpose=moderation"),
            Some(&moderator),
            Some(json!({"action": "remove", "reason": "spam ring, 40 copies"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for token in [&viewer, &creator] {
        let (s, _) = env
            .call("GET", &format!("/v1/videos/{vid}"), Some(token), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (_, f) = env
        .call(
            "GET",
            "/v1/feed?limit=50&personalized=false",
            Some(&viewer),
            None,
        )
        .await;
    assert!(f["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|i| i["id"] != vid.as_str()));
    let decisions = p
        .access_records(&Region::new("eu").expect("region"), 1, 100)
        .expect("records");
    assert!(decisions
        .iter()
        .any(|d| d.verb == "remove reported content" && d.allowed));

    // The creator sees why, and appeals once.
    let (_, mine) = env
        .call("GET", "/v1/me/moderation", Some(&creator), None)
        .await;
    assert_eq!(
        mine["decisions"][0]["decision"], "spam ring, 40 copies",
        "{mine}"
    );
    assert_eq!(mine["decisions"][0]["status"], "removed");
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/me/moderation/{id}/appeal"),
            Some(&viewer),
            Some(json!({"text": "not mine"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "someone else appealed");
    let (s, v) = env
        .call(
            "POST",
            &format!("/v1/me/moderation/{id}/appeal"),
            Some(&creator),
            Some(json!({"text": "each copy is a different edit"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/me/moderation/{id}/appeal"),
            Some(&creator),
            Some(json!({"text": "again"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "a second appeal");

    // The appeal reaches the queue; reversed, the video is back everywhere.
    let (_, q) = env
        .call(
            "GET",
            "/v1/admin/reports?region=eu&purpose=moderation",
            Some(&moderator),
            None,
        )
        .await;
    assert_eq!(q["reports"][0]["status"], "appealed");
    assert_eq!(q["reports"][0]["appeal"], "each copy is a different edit");
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/admin/reports/{id}/resolve?region=eu&purpose=moderation"),
            Some(&moderator),
            Some(json!({"action": "remove", "reason": "x"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "an appeal is upheld or reversed, not removed again"
    );
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/admin/reports/{id}/resolve?region=eu&purpose=moderation"),
            Some(&moderator),
            Some(json!({"action": "reverse", "reason": "distinct edits, fine"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .call("GET", &format!("/v1/videos/{vid}"), Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, f) = env
        .call(
            "GET",
            "/v1/feed?limit=50&personalized=false",
            Some(&viewer),
            None,
        )
        .await;
    assert!(
        f["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["id"] == vid.as_str()),
        "{f}"
    );
    let (s, _) = env
        .call(
            "GET",
            &format!("/v1/videos/{vid}/media"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "the media survived the takedown");
}

#[tokio::test]
async fn a_takedown_holds_across_a_restart() {
    let dir = common::temp_dir("moderation-restart");
    let vid;
    {
        let (env, p) = {
            let mut c = foryou_server::Config::new(&dir);
            c.limits = Limits::off();
            let p = std::sync::Arc::new(common::platform(c));
            let env = Env {
                dir: dir.clone(),
                app: foryou_server::router(std::sync::Arc::clone(&p)),
                keep_dir: true,
            };
            (env, p)
        };
        let creator = env.user("keptdown", "DE").await;
        let viewer = env.user("seesnothing", "DE").await;
        let moderator = env.user("modtwo", "DE").await;
        let (_, me) = env.call("GET", "/v1/me", Some(&moderator), None).await;
        p.set_role(
            UserId(me["id"].as_str().expect("id").parse().expect("id")),
            Role::Moderator,
        )
        .expect("role");
        let (_, v) = env
            .upload(&creator, &common::clip(2.0), "down it goes", None)
            .await;
        vid = v["id"].as_str().expect("id").to_string();
        let (_, r) = env
            .call(
                "POST",
                "/v1/reports",
                Some(&viewer),
                Some(json!({"video_id": vid, "reason": "violence"})),
            )
            .await;
        let id = r["id"].as_str().expect("id").to_string();
        let (s, _) = env
            .call(
                "POST",
                &format!("/v1/admin/reports/{id}/resolve?purpose=moderation"),
                Some(&moderator),
                Some(json!({"action": "remove", "reason": "graphic"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    let env = Env::at(&dir, false);
    let (s, _) = env
        .call("GET", &format!("/v1/videos/{vid}"), None, None)
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a restart brought a taken-down video back"
    );
    let (_, f) = env.call("GET", "/v1/feed?limit=50", None, None).await;
    assert!(f["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|i| i["id"] != vid.as_str()));
}

#[tokio::test]
async fn an_account_reported_as_under_13_is_locked_and_may_appeal() {
    let (env, p) = Env::with_platform("moderation-account", |c| c.limits = Limits::off());
    let kid = env.user("lookslikeakid", "DE").await;
    let reporter = env.user("concerned", "DE").await;
    let moderator = env.user("modthree", "DE").await;
    let (_, me) = env.call("GET", "/v1/me", Some(&moderator), None).await;
    p.set_role(
        UserId(me["id"].as_str().expect("id").parse().expect("id")),
        Role::Moderator,
    )
    .expect("role");
    let (_, kid_me) = env.call("GET", "/v1/me", Some(&kid), None).await;
    let kid_id = kid_me["id"].as_str().expect("id").to_string();
    let (s, v) = env.upload(&kid, &common::clip(2.0), "my cat", None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();

    let (s, _) = env
        .call(
            "POST",
            "/v1/reports",
            Some(&reporter),
            Some(json!({"reason": "under_13"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "a report names a video or an account"
    );
    let (s, r) = env
        .call("POST", "/v1/reports", Some(&reporter), Some(json!({"account": kid_id, "reason": "under_13", "note": "says they are in 5th grade"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().expect("id").to_string();
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/admin/reports/{id}/resolve?purpose=moderation"),
            Some(&moderator),
            Some(json!({"action": "remove", "reason": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "an account is locked, not removed");
    let (s, v) = env
        .call(
            "POST",
            &format!("/v1/admin/reports/{id}/resolve?purpose=moderation"),
            Some(&moderator),
            Some(json!({"action": "lock", "reason": "confirmed under 13"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Locked: only the decision, the appeal, the export and signing out.
    let (s, v) = env
        .call(
            "POST",
            "/v1/events",
            Some(&kid),
            Some(json!({"events": [{"id": "e1", "kind": "like", "video_id": vid}]})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "account_locked");
    let (s, _) = env.call("GET", "/v1/me", Some(&kid), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .call("GET", &format!("/v1/videos/{vid}"), Some(&reporter), None)
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a locked account's video is still shown"
    );
    let (_, mine) = env.call("GET", "/v1/me/moderation", Some(&kid), None).await;
    assert_eq!(mine["decisions"][0]["account"], true, "{mine}");
    assert_eq!(mine["decisions"][0]["decision"], "confirmed under 13");
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/me/moderation/{id}/appeal"),
            Some(&kid),
            Some(json!({"text": "I am 19; here is how to check"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/admin/reports/{id}/resolve?purpose=moderation"),
            Some(&moderator),
            Some(json!({"action": "reverse", "reason": "age verified"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&kid),
            Some(json!({"events": [{"id": "e2", "kind": "like", "video_id": vid}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "the unlocked account still cannot act");
    let (s, _) = env
        .call("GET", &format!("/v1/videos/{vid}"), Some(&reporter), None)
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_reported_comment_is_taken_down_and_can_come_back() {
    let (env, p) = Env::with_platform("moderation-comment", |c| c.limits = Limits::off());
    let creator = env.user("postsvideos", "DE").await;
    let troll = env.user("trollish", "US").await;
    let moderator = env.user("modusone", "US").await;
    let (_, me) = env.call("GET", "/v1/me", Some(&moderator), None).await;
    p.set_role(
        UserId(me["id"].as_str().expect("id").parse().expect("id")),
        Role::Moderator,
    )
    .expect("role");
    let (_, v) = env
        .upload(&creator, &common::clip(2.0), "hello", None)
        .await;
    let vid = v["id"].as_str().expect("id").to_string();
    let (s, r) = env
        .call("POST", "/v1/events", Some(&troll), Some(json!({"events": [{"id": "c1", "kind": "comment", "video_id": vid, "text": "a nasty remark"}]})))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let cid = r["results"][0]["comment_id"]
        .as_str()
        .expect("comment id")
        .to_string();
    let (s, rep) = env
        .call(
            "POST",
            "/v1/reports",
            Some(&creator),
            Some(json!({"comment_id": cid, "reason": "harassment"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{rep}");
    let id = rep["id"].as_str().expect("id").to_string();
    // The comment lives in its author's region (us): that is where the report waits.
    let (s, v) = env
        .call(
            "POST",
            &format!("/v1/admin/reports/{id}/resolve?region=us&purpose=moderation"),
            Some(&moderator),
            Some(json!({"action": "remove", "reason": "harassment"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, c) = env
        .call("GET", &format!("/v1/videos/{vid}/comments"), None, None)
        .await;
    assert_eq!(c["total"], 0, "{c}");
    let (_, mine) = env
        .call("GET", "/v1/me/moderation", Some(&troll), None)
        .await;
    assert_eq!(mine["decisions"][0]["comment_id"], cid.as_str(), "{mine}");
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/me/moderation/{id}/appeal"),
            Some(&troll),
            Some(json!({"text": "it was a joke"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/admin/reports/{id}/resolve?region=us&purpose=moderation"),
            Some(&moderator),
            Some(json!({"action": "reverse", "reason": "borderline, restored"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, c) = env
        .call("GET", &format!("/v1/videos/{vid}/comments"), None, None)
        .await;
    assert_eq!(c["comments"][0]["text"], "a nasty remark", "{c}");
}
