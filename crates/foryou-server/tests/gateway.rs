//! Staff reach another region's personal data only through the gateway: a named purpose, the
//! policy's decision, pseudonyms where it says so, and a record of every decision.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use foryou_server::{router, Config, Limits, Platform};
use foryou_types::{Role, UserId};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

struct World {
    p: Arc<Platform>,
    app: axum::Router,
    dir: std::path::PathBuf,
}

impl World {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .expect("request");
        let res = self.app.clone().oneshot(req).await.expect("response");
        let s = res.status();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (s, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Signs up `handle` in `country`, gives it `role`, and returns a token.
    async fn staff(&self, handle: &str, country: &str, role: Role) -> (String, UserId) {
        let (s, v) = self
            .call("POST", "/v1/accounts", None, Some(json!({"handle": handle, "password": "long enough pw", "birthdate": "1990-01-01", "country": country})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = UserId(v["id"].as_str().expect("id").parse().expect("id"));
        self.p.set_role(id, role).expect("role");
        let (_, v) = self
            .call(
                "POST",
                "/v1/sessions",
                None,
                Some(json!({"handle": handle, "password": "long enough pw"})),
            )
            .await;
        (v["token"].as_str().expect("token").to_string(), id)
    }

    fn decisions(&self, region: &str) -> Vec<foryou_store::AccessRecord> {
        self.p
            .access_records(&foryou_types::Region::new(region).expect("region"), 1, 1000)
            .expect("records")
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn staff_reach_other_regions_only_through_a_recorded_policy_decision() {
    let dir = common::temp_dir("gateway");
    let mut c = Config::new(&dir);
    c.limits = Limits::off();
    let p = Arc::new(Platform::open(c).expect("open"));
    let w = World {
        app: router(Arc::clone(&p)),
        p,
        dir,
    };
    let (us_admin, _) = w.staff("usadmin", "US", Role::Admin).await;
    let (row_mod, _) = w.staff("rowmod", "JP", Role::Moderator).await;
    let (eu_auditor, _) = w.staff("euauditor", "FR", Role::Auditor).await;
    let (creator, _) = w.staff("eucreator", "DE", Role::User).await;
    let (s, v) = w.upload_clip(&creator).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();

    // An admin lists accounts: a purpose is required; support across regions is refused and
    // recorded; security across regions is pseudonymised; the own region is plain.
    let (s, v) = w
        .call("GET", "/v1/admin/users?region=eu", Some(&us_admin), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = w
        .call(
            "GET",
            "/v1/admin/users?region=eu&purpose=support",
            Some(&us_admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("rule"),
        "{v}"
    );
    let (s, v) = w
        .call(
            "GET",
            "/v1/admin/users?region=eu&purpose=security",
            Some(&us_admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let listed = v["users"].as_array().expect("users");
    assert_eq!(listed.len(), 2, "{v}");
    assert!(
        listed
            .iter()
            .all(|u| u.get("handle").is_none() && u["pseudonym"].is_string()),
        "{v}"
    );
    let (s, v) = w
        .call(
            "GET",
            "/v1/admin/users?purpose=support",
            Some(&us_admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["users"][0]["handle"], "usadmin");

    // A row moderator removes an eu creator's video only for moderation.
    let del = |purpose: &str| format!("/v1/videos/{vid}{purpose}");
    let (s, _) = w.call("DELETE", &del(""), Some(&row_mod), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = w
        .call("DELETE", &del("?purpose=support"), Some(&row_mod), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = w
        .call("GET", &format!("/v1/videos/{vid}"), None, None)
        .await;
    assert_eq!(s, StatusCode::OK, "a refused removal removes nothing");
    let (s, _) = w
        .call("DELETE", &del("?purpose=moderation"), Some(&row_mod), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Every decision about eu data is recorded once, in eu's own store, in order.
    let eu = w.decisions("eu");
    let summary: Vec<(String, String, bool, u64)> = eu
        .iter()
        .map(|d| {
            (
                d.actor_region.to_string(),
                d.purpose.clone(),
                d.allowed,
                d.records,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("us".into(), "support".into(), false, 0),
            ("us".into(), "security".into(), true, 2),
            ("row".into(), "support".into(), false, 0),
            ("row".into(), "moderation".into(), true, 1),
        ]
    );
    assert!(eu[1].pseudonymised && eu[3].pseudonymised);
    assert!(eu.iter().all(|d| !d.rule.is_empty()));
    assert_eq!(
        w.decisions("us").len(),
        1,
        "the us admin's own-region listing"
    );
    assert!(w.decisions("row").is_empty());

    // The eu auditor reads eu's decisions; a user cannot; the policy is readable by staff.
    let (s, v) = w
        .call("GET", "/v1/admin/access?region=eu", Some(&eu_auditor), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["decisions"].as_array().map(Vec::len), Some(4));
    let (s, _) = w
        .call("GET", "/v1/admin/access?region=eu", Some(&creator), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = w
        .call("GET", "/v1/admin/policy", Some(&row_mod), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["rules"].as_array().is_some_and(|r| !r.is_empty()));
}

impl World {
    async fn upload_clip(&self, token: &str) -> (StatusCode, Value) {
        let clip = foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec {
            seconds: 2.0,
            ..Default::default()
        });
        let b = "GaTeWaY";
        let mut body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.mp4\"\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&clip);
        body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        let req = Request::post("/v1/videos")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", format!("multipart/form-data; boundary={b}"))
            .body(Body::from(body))
            .expect("request");
        let res = self.app.clone().oneshot(req).await.expect("response");
        let s = res.status();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (s, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}
