//! Staff reach another region's personal data only through the gateway: a named purpose, the
//! policy's decision, pseudonyms where it says so, and a record of every decision.

mod common;

use axum::http::StatusCode;
use common::Env;
use foryou_server::{Limits, Platform};
use foryou_types::{Role, UserId};
use std::sync::Arc;

struct World {
    env: Env,
    p: Arc<Platform>,
}

impl World {
    /// Signs up `handle` in `country`, gives it `role`, and returns a token.
    async fn staff(&self, handle: &str, country: &str, role: Role) -> (String, UserId) {
        let token = self.env.user(handle, country).await;
        let (_, me) = self.env.call("GET", "/v1/me", Some(&token), None).await;
        let id = UserId(me["id"].as_str().expect("id").parse().expect("id"));
        self.p.set_role(id, role).expect("role");
        (token, id)
    }

    fn decisions(&self, region: &str) -> Vec<foryou_store::AccessRecord> {
        self.p
            .access_records(&foryou_types::Region::new(region).expect("region"), 1, 1000)
            .expect("records")
    }
}

#[tokio::test]
async fn staff_reach_other_regions_only_through_a_recorded_policy_decision() {
    let (env, p) = Env::with_platform("gateway", |c| c.limits = Limits::off());
    let w = World { env, p };
    let (us_admin, _) = w.staff("usadmin", "US", Role::Admin).await;
    let (row_mod, _) = w.staff("rowmod", "JP", Role::Moderator).await;
    let (eu_auditor, _) = w.staff("euauditor", "FR", Role::Auditor).await;
    let (creator, _) = w.staff("eucreator", "DE", Role::User).await;
    let (s, v) = w
        .env
        .upload(&creator, &common::clip(2.0), "mine", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();

    // An admin lists accounts: a purpose is required; support across regions is refused and
    // recorded; security across regions is pseudonymised; the own region is plain.
    let (s, v) = w
        .env
        .call("GET", "/v1/admin/users?region=eu", Some(&us_admin), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = w
        .env
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
        .env
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
        .env
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
    let (s, _) = w.env.call("DELETE", &del(""), Some(&row_mod), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = w
        .env
        .call("DELETE", &del("?purpose=support"), Some(&row_mod), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = w
        .env
        .call("GET", &format!("/v1/videos/{vid}"), None, None)
        .await;
    assert_eq!(s, StatusCode::OK, "a refused removal removes nothing");
    let (s, _) = w
        .env
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
        .env
        .call("GET", "/v1/admin/access?region=eu", Some(&eu_auditor), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["decisions"].as_array().map(Vec::len), Some(4));
    let (s, _) = w
        .env
        .call("GET", "/v1/admin/access?region=eu", Some(&creator), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = w
        .env
        .call("GET", "/v1/admin/policy", Some(&row_mod), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["rules"].as_array().is_some_and(|r| !r.is_empty()));
}
