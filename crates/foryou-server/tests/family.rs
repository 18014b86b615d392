//! Parental consent for an under-13 account and Family Pairing for teens, as users would try
//! them through the API: nothing about a child is stored before the parent confirms; a
//! supervised account is private, unfindable, unable to comment or be followed, and erasable by
//! its parent; a parent's controls hold whatever the teen sends, and the parent never sees what
//! the teen watched.

mod common;

use axum::http::StatusCode;
use common::{born, id_of, login, person, Env};
use foryou_server::Limits;
use serde_json::{json, Value};
use std::path::Path;

/// The messages in the outbox, oldest first.
fn outbox(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir.join("outbox"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("message"))
        .collect()
}

fn every_file_contains(dir: &Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
            {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_parent_consents_to_a_supervised_account_and_can_erase_it() {
    let (env, _p) = Env::with_platform("consent", |c| c.limits = Limits::off());
    let (s, v) = env
        .call(
            "POST",
            "/v1/consent/requests",
            None,
            Some(json!({"parent_email": "not an address"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = env
        .call(
            "POST",
            "/v1/consent/requests",
            None,
            Some(json!({"parent_email": "mum@example.org"})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let mail = outbox(&env.dir);
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].starts_with("To: mum@example.org\r\n"),
        "{}",
        mail[0]
    );
    let token = mail[0]
        .split("/#/consent/")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("link in the message")
        .to_string();
    assert_eq!(token.len(), 64);
    // Until the parent confirms, the address and a hash of the token are all that is kept.
    let pending = std::fs::read_to_string(env.dir.join("consent/pending")).expect("pending");
    assert!(pending.contains("mum@example.org") && !pending.contains(&token));
    let (s, v) = env
        .call("GET", &format!("/v1/consent/{token}"), None, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["sent_to"], "m…@example.org");

    let child = json!({"handle": "littleone", "password": "child password 1", "birthdate": born(9), "country": "US"});
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/consent/{token}"),
            None,
            Some(child.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the parent signs in first");
    let teen = person(&env, "olderkid", 15).await;
    let (s, v) = env
        .call(
            "POST",
            &format!("/v1/consent/{token}"),
            Some(&teen),
            Some(child.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a teen cannot consent: {v}");
    let parent = person(&env, "parentone", 40).await;
    let (s, v) = env
        .call(
            "POST",
            &format!("/v1/consent/{token}"),
            Some(&parent),
            Some(json!({"handle": "teenish", "password": "child password 1", "birthdate": born(14), "country": "US"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "supervised is under 13 only: {v}"
    );
    let (s, v) = env
        .call(
            "POST",
            &format!("/v1/consent/{token}"),
            Some(&parent),
            Some(child),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let child_id = v["id"].as_str().expect("id").to_string();
    assert!(
        every_file_contains(&env.dir, "mum@example.org")
            .iter()
            .all(|f| f.contains("outbox")),
        "the address leaves the pending record once used"
    );
    let (s, _) = env
        .call("GET", &format!("/v1/consent/{token}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a link works once");

    // The supervised account: private, no comments, not personalised, and it cannot be loosened.
    let kid = login(&env, "littleone", "child password 1").await;
    let (s, v) = env.call("GET", "/v1/me/settings", Some(&kid), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["band"], "child");
    assert_eq!(v["settings"]["private"], true);
    assert_eq!(v["settings"]["comments"], "nobody");
    assert_eq!(v["settings"]["personalised"], false);
    for weaker in [
        json!({"private": false, "comments": "nobody", "personalised": false}),
        json!({"private": true, "comments": "followers", "personalised": false}),
        json!({"private": true, "comments": "nobody", "personalised": true}),
    ] {
        let (s, v) = env
            .call("PUT", "/v1/me/settings", Some(&kid), Some(weaker))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    // It cannot be found or followed by strangers, and it cannot comment.
    let stranger = person(&env, "strangerdanger", 35).await;
    let (s, _) = env
        .call("GET", "/v1/users/littleone", Some(&stranger), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env.call("GET", "/v1/users/littleone", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env
        .call("GET", "/v1/users/littleone", Some(&parent), None)
        .await;
    assert_eq!(s, StatusCode::OK, "the parent finds their child");
    let (s, v) = env
        .call(
            "POST",
            "/v1/events",
            Some(&stranger),
            Some(json!({"events": [{"id": "f", "kind": "follow", "target": child_id}]})),
        )
        .await;
    assert!(s.is_client_error(), "{s} {v}");
    let (s, up) = env
        .upload(&stranger, &common::clip(2.0), "a clip", None)
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let sv = up["id"].as_str().expect("id");
    let (s, v) = env
        .call(
            "POST",
            "/v1/events",
            Some(&kid),
            Some(json!({"events": [{"id": "c", "kind": "comment", "video_id": sv, "text": "hi"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // What the child posts, only the child and the parent see.
    let (s, kv) = env
        .upload(&kid, &common::clip(2.0), "my drawing", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{kv}");
    let kvid = kv["id"].as_str().expect("id");
    for (who, want) in [
        (Some(&stranger), StatusCode::NOT_FOUND),
        (None, StatusCode::NOT_FOUND),
        (Some(&parent), StatusCode::OK),
        (Some(&kid), StatusCode::OK),
    ] {
        let (s, _) = env
            .call(
                "GET",
                &format!("/v1/videos/{kvid}"),
                who.map(|t| t.as_str()),
                None,
            )
            .await;
        assert_eq!(s, want);
    }
    // The parent sees the child's settings and controls, nothing they watched.
    let (s, v) = env.call("GET", "/v1/family", Some(&parent), None).await;
    assert_eq!(s, StatusCode::OK);
    let c = &v["children"][0];
    assert_eq!(c["handle"], "littleone");
    assert_eq!(c["supervised"], true);
    assert_eq!(c["restricted"], true);
    assert_eq!(c["daily_limit_min"], 60);
    let keys: Vec<&String> = c.as_object().expect("object").keys().collect();
    assert!(
        !keys
            .iter()
            .any(|k| k.contains("watch") || k.contains("history") || k.contains("comment_texts")),
        "{keys:?}"
    );
    // The child cannot leave the link; the parent erases the account.
    let (s, _) = env.call("DELETE", "/v1/family", Some(&kid), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = env
        .call(
            "DELETE",
            &format!("/v1/family/{child_id}/account"),
            Some(&stranger),
            Some(json!({"password": "long enough pw"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "only the parent");
    let (s, v) = env
        .call(
            "DELETE",
            &format!("/v1/family/{child_id}/account"),
            Some(&parent),
            Some(json!({"password": "long enough pw"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["receipt"]["receipt"].as_str().is_some());
    let (s, _) = env
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"handle": "littleone", "password": "child password 1"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(every_file_contains(&env.dir, "my drawing").is_empty());
}

#[tokio::test]
async fn family_pairing_controls_hold_whatever_the_teen_sends() {
    let (env, _p) = Env::with_platform("pairing", |c| c.limits = Limits::off());
    let parent = person(&env, "pairparent", 45).await;
    let teen = person(&env, "pairteen", 16).await;
    let young = person(&env, "pairyoung", 14).await;
    let (s, _) = env
        .call("POST", "/v1/family/invitations", Some(&teen), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a teen cannot be the parent");
    let (s, v) = env
        .call("POST", "/v1/family/invitations", Some(&parent), None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let code = v["code"].as_str().expect("code").to_string();
    let (s, _) = env
        .call(
            "POST",
            "/v1/family/links",
            Some(&teen),
            Some(json!({"code": "WRONGCODE1"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = env
        .call(
            "POST",
            "/v1/family/links",
            Some(&teen),
            Some(json!({"code": code.to_lowercase()})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = env
        .call(
            "POST",
            "/v1/family/links",
            Some(&young),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a code works once");
    let teen_id = id_of(&env, &teen).await;
    let (s, v) = env.call("GET", "/v1/family", Some(&teen), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["parent"]["handle"], "pairparent");

    // A new clip reaches the teen's feed, until restricted mode keeps unvetted videos out.
    let creator = person(&env, "longclips", 30).await;
    let (_, up) = env
        .upload(&creator, &common::clip(2.5), "a clip", None)
        .await;
    let vid = up["id"].as_str().expect("id").to_string();
    let (s, v) = env.call("GET", "/v1/feed", Some(&teen), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v.to_string().contains(&vid), "{v}");

    // The 16-year-old goes public; the parent keeps the account private and comments off.
    let (s, v) = env
        .call(
            "PUT",
            "/v1/me/settings",
            Some(&teen),
            Some(json!({"private": false, "comments": "followers"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = env
        .call("PUT", &format!("/v1/family/{teen_id}"), Some(&parent), Some(json!({"may_be_public": false, "comments": "nobody", "restricted": true, "daily_limit_min": 15})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = env.call("GET", "/v1/me/settings", Some(&teen), None).await;
    assert_eq!(v["settings"]["private"], true, "{v}");
    assert_eq!(v["settings"]["comments"], "nobody", "{v}");
    for weaker in [
        json!({"private": false, "comments": "nobody"}),
        json!({"private": true, "comments": "followers"}),
    ] {
        let (s, v) = env
            .call("PUT", "/v1/me/settings", Some(&teen), Some(weaker))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    // Controls stay within the band, and only the parent sets them.
    let (s, _) = env
        .call(
            "PUT",
            &format!("/v1/family/{teen_id}"),
            Some(&parent),
            Some(json!({"comments": "everyone"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = env
        .call(
            "PUT",
            &format!("/v1/family/{teen_id}"),
            Some(&teen),
            Some(json!({"may_be_public": true})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env
        .call(
            "PUT",
            &format!("/v1/family/{teen_id}"),
            Some(&parent),
            Some(json!({"daily_limit_min": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, v) = env.call("GET", "/v1/feed", Some(&teen), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!v.to_string().contains(&vid), "restricted mode: {v}");
    // The daily limit: once reached, the feed stops for the day.
    let vid = vid.as_str();
    let views: Vec<Value> = (0..20)
        .map(
            |i| json!({"id": format!("v{i}"), "kind": "view", "video_id": vid, "watch_ms": 50_000}),
        )
        .collect();
    let (s, v) = env
        .call(
            "POST",
            "/v1/events",
            Some(&teen),
            Some(json!({"events": views})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = env.call("GET", "/v1/feed", Some(&teen), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "daily_limit", "{v}");
    // The parent sees minutes and settings, not what was watched.
    let (_, v) = env.call("GET", "/v1/family", Some(&parent), None).await;
    assert!(v["children"][0]["minutes_today"].as_u64().expect("minutes") >= 15);
    assert!(
        !v.to_string().contains(vid),
        "the parent sees no watch history: {v}"
    );

    // A 14-year-old's account cannot be made public by the parent either.
    let (_, v) = env
        .call("POST", "/v1/family/invitations", Some(&parent), None)
        .await;
    let (s, _) = env
        .call(
            "POST",
            "/v1/family/links",
            Some(&young),
            Some(json!({"code": v["code"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let young_id = id_of(&env, &young).await;
    let (s, _) = env
        .call(
            "PUT",
            &format!("/v1/family/{young_id}"),
            Some(&parent),
            Some(json!({"may_be_public": true})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The teen may end the link; then the parent's controls are gone.
    let (s, _) = env.call("DELETE", "/v1/family", Some(&teen), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = env.call("GET", "/v1/feed", Some(&teen), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .call(
            "PUT",
            &format!("/v1/family/{teen_id}"),
            Some(&parent),
            Some(json!({"restricted": true})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
