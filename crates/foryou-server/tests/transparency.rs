//! The transparency log through the API: what an auditor may read (the log, the private
//! releases, staff decisions in public form) and may not (anyone's personal data); a
//! suppression that takes a video out of feeds; a moderator bound to their own region.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::Env;
use foryou_server::Limits;
use foryou_types::{Role, UserId};

#[tokio::test]
async fn an_auditor_reads_the_log_and_the_private_aggregates_and_nothing_personal() {
    let (env, p) = Env::with_platform("transparency-auditor", |c| c.limits = Limits::off());
    let staff = |handle: &'static str, country: &'static str, role: Role| {
        let (env, p) = (&env, &p);
        async move {
            let token = env.user(handle, country).await;
            let (_, me) = env.call("GET", "/v1/me", Some(&token), None).await;
            let id = UserId(me["id"].as_str().expect("id").parse().expect("id"));
            p.set_role(id, role).expect("role");
            (token, id)
        }
    };
    let (auditor, _) = staff("auditorann", "FR", Role::Auditor).await;
    let (admin, admin_id) = staff("adminbea", "FR", Role::Admin).await;
    let (moderator, _) = staff("modcarl", "FR", Role::Moderator).await;
    let creator = env.user("creatordee", "DE").await;
    let (s, v) = env
        .upload(&creator, &common::clip(2.0), "hello #eu", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    // Something on record: an admin lists accounts in their own region.
    let (s, _) = env
        .call("GET", "/v1/admin/users?purpose=support", Some(&admin), None)
        .await;
    assert_eq!(s, StatusCode::OK);

    // The log is public; the auditor needs no account for it.
    let (s, _, cp) = env
        .raw(
            Request::get("/log/checkpoint")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, _, key) = env
        .raw(Request::get("/log/key").body(Body::empty()).expect("req"))
        .await;
    let key = String::from_utf8(key).expect("utf8");
    let opened =
        foryou_tlog::note::open_checkpoint(&cp, key.trim(), &[]).expect("signed by its key");
    assert!(
        opened.checkpoint.size() >= 3,
        "config, policy, role grants, the access: {}",
        opened.checkpoint.size()
    );
    let (s, h, _) = env
        .raw(
            Request::get("/log/tile/entries/000.p/1")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["cache-control"]
        .to_str()
        .expect("header")
        .contains("immutable"));
    for bad in [
        "/log/tile/0/5",
        "/log/tile/x000/005",
        "/log/tile/entries/999",
    ] {
        let (s, _, _) = env
            .raw(Request::get(bad).body(Body::empty()).expect("req"))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }

    // The auditor: the private releases and the policy, yes.
    let (s, v) = env
        .call("GET", "/v1/audit/releases", Some(&auditor), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["parameters"]["epsilon"].is_number(), "{v}");
    let (s, _) = env
        .call("GET", "/v1/admin/policy", Some(&auditor), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    // Staff decisions in public form: no staff id, no handle.
    let (s, v) = env
        .call("GET", "/v1/admin/access?region=eu", Some(&auditor), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let text = v.to_string();
    assert!(
        !v["decisions"].as_array().expect("decisions").is_empty(),
        "{v}"
    );
    assert!(
        !text.contains(&admin_id.0.to_string()) && !text.contains("adminbea"),
        "{text}"
    );
    assert!(text.contains("\"actor\":\"p-"), "{text}");
    // Accounts, for any purpose: refused, and recorded.
    for purpose in ["support", "security", "legal", "moderation"] {
        let (s, _) = env
            .call(
                "GET",
                &format!("/v1/admin/users?region=eu&purpose={purpose}"),
                Some(&auditor),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{purpose}");
    }
    // Boosting is not theirs either.
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/admin/videos/{vid}/boost"),
            Some(&auditor),
            Some(serde_json::json!({"action": "boost", "reason": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A moderator suppresses the video in their own region: it leaves that region's feeds.
    let viewer = env.user("viewereve", "FR").await;
    let in_feed = |token: String| {
        let env = &env;
        let vid = vid.clone();
        async move {
            let (s, f) = env
                .call(
                    "GET",
                    "/v1/feed?limit=20&personalized=false",
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK);
            f["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|i| i["id"] == vid.as_str())
        }
    };
    assert!(in_feed(viewer.clone()).await);
    let (s, _) = env
        .call(
            "POST",
            &format!("/v1/admin/videos/{vid}/boost"),
            Some(&moderator),
            Some(serde_json::json!({"action": "suppress", "reason": "spam", "regions": ["us"]})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a moderator acts on their own region only"
    );
    let (s, v) = env
        .call(
            "POST",
            &format!("/v1/admin/videos/{vid}/boost"),
            Some(&moderator),
            Some(serde_json::json!({"action": "suppress", "reason": "spam ring, report 42"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(!in_feed(viewer).await, "a suppressed video is in the feed");
    let us_viewer = env.user("viewerfrank", "US").await;
    assert!(
        in_feed(us_viewer).await,
        "the suppression reached another region"
    );
    let _ = p;
}

/// Each region's trained ranker is published as a version: its parameters are served under
/// their SHA-256 and the publication is in the log, beside the engine configuration.
#[tokio::test]
async fn trained_ranker_versions_are_published_and_logged() {
    let (env, p) = common::Env::with_platform("ranker-versions", |c| {
        c.limits = foryou_server::Limits::off()
    });
    let me = env.user("rankedone", "DE").await;
    let maker = env.user("rankmaker", "DE").await;
    let (_, v) = env.upload(&maker, &common::clip(2.0), "a clip", None).await;
    let vid = v["id"].as_str().expect("id").to_string();
    let (s, _) = env
        .call(
            "POST",
            "/v1/events",
            Some(&me),
            Some(serde_json::json!({"events": [
                {"id": "a", "kind": "view", "video_id": vid, "watch_ms": 2000},
                {"id": "b", "kind": "like", "video_id": vid},
            ]})),
        )
        .await;
    assert_eq!(s, axum::http::StatusCode::OK);
    p.snapshot_engines().expect("snapshots");
    let (s, r) = env.call("GET", "/v1/recommender", None, None).await;
    assert_eq!(s, axum::http::StatusCode::OK);
    let ranker = r["activations"]
        .as_array()
        .expect("activations")
        .iter()
        .find(|a| a["component"] == "ranker/eu")
        .cloned()
        .expect("the eu ranker is published");
    let version = ranker["version"].as_str().expect("version");
    let (s, _, body) = env
        .raw(
            axum::http::Request::get(format!("/v1/recommender/{version}"))
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(s, axum::http::StatusCode::OK);
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, version, "the served parameters hash to the version");
    let heads: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert!(heads["shared"].as_array().is_some_and(|w| w.len() >= 19));
    // The engine configuration is still the one the log activated last for the engine.
    assert_eq!(
        r["activations"]
            .as_array()
            .expect("activations")
            .iter()
            .rfind(|a| a["component"] == "engine")
            .expect("engine")["version"],
        r["version"]
    );
}
