//! The neutral age gate: a child is refused without being told why or what would pass; the same
//! handle and the same browser stay refused for a day, whatever birthdate they send next; and
//! nothing of the child is stored anywhere (a scan of every file).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::Env;
use foryou_server::Limits;
use serde_json::{json, Value};

fn sign_up(handle: &str, birthdate: &str, password: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/v1/accounts").header("content-type", "application/json");
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    b.body(Body::from(
        json!({"handle": handle, "password": password, "birthdate": birthdate, "country": "US"})
            .to_string(),
    ))
    .expect("request")
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn a_child_is_refused_neutrally_stays_refused_and_leaves_nothing_behind() {
    let (env, _p) = Env::with_platform("agegate", |c| c.limits = Limits::off());
    let (child, secret, born) = ("kidmarkerzq", "childsecretmarker", "2015-03-07");
    let (s, h, body) = env.raw(sign_up(child, born, secret, None)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["error"]["code"], "not_eligible", "{v}");
    let msg = v["error"]["message"]
        .as_str()
        .expect("message")
        .to_lowercase();
    for hint in ["13", "age", "old", "birth", "year", "under", "minimum"] {
        assert!(
            !msg.contains(hint),
            "the refusal hints at the threshold ('{hint}'): {msg}"
        );
    }
    let cookie = h
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("fy_age_gate="))
        .expect("the refused browser gets the age-gate cookie")
        .to_string();
    assert!(
        cookie.contains("Max-Age=86400") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().expect("pair").to_string();

    // The same handle with an adult's birthdate, from a fresh browser: still refused, the same way.
    let (s, _, body) = env.raw(sign_up(child, "1990-01-01", secret, None)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(serde_json::from_slice::<Value>(&body).expect("json"), v);
    // The same browser with another handle and an adult's birthdate: refused too.
    let (s, _, body) = env
        .raw(sign_up(
            "anotherhandle",
            "1990-01-01",
            secret,
            Some(&cookie),
        ))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(serde_json::from_slice::<Value>(&body).expect("json"), v);
    // Someone else, elsewhere, is not affected.
    let (s, _, _) = env
        .raw(sign_up(
            "grownupfine",
            "1990-01-01",
            "a long password ok",
            None,
        ))
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // Nothing of the child is stored: no file holds the handle, the password or the birthdate.
    for f in files_under(&env.dir) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        for marker in [child, secret, born, "kidmarker"] {
            assert!(
                !bytes
                    .windows(marker.len())
                    .any(|w| w.eq_ignore_ascii_case(marker.as_bytes())),
                "{} holds '{marker}'",
                f.display()
            );
        }
    }
    assert!(_p.user_by_handle(child).expect("lookup").is_none());
}

#[tokio::test]
async fn the_block_survives_a_restart() {
    let dir = common::temp_dir("agegate-restart");
    {
        let env = Env::at(&dir, true);
        let (s, _, _) = env
            .raw(sign_up("tinytim", "2016-06-01", "childsecret2", None))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    {
        let env = Env::at(&dir, true);
        let (s, _, _) = env
            .raw(sign_up("tinytim", "1980-01-01", "childsecret2", None))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "a restart lifted the block");
    }
    // The node's own copy gone (another node taking the regions over has none): the block is
    // kept with the regions' records.
    std::fs::remove_dir_all(dir.join("agegate")).expect("the node's copy");
    let env = Env::at(&dir, false);
    let (s, _, _) = env
        .raw(sign_up("tinytim", "1980-01-01", "childsecret2", None))
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the block lived only on the node's disk"
    );
}

/// The browser the gate turned away keeps watching signed out, and its feed is the curated,
/// view-only one: nothing new and untested, nothing mature.
#[tokio::test]
async fn a_refused_browser_watches_a_curated_feed() {
    let (env, _p) = Env::with_platform("agegate-view-only", |c| c.limits = Limits::off());
    let maker = env.user("somegrownup", "DE").await;
    let (s, v) = env
        .upload(&maker, &common::clip(2.0), "brand new clip", None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    let feed = |cookie: Option<String>| {
        let mut b = Request::get("/v1/feed");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        b.body(Body::empty()).expect("request")
    };
    let (s, _, body) = env.raw(feed(None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains(&vid));
    let (s, h, _) = env
        .raw(sign_up("tooyoungone", "2016-05-05", "childsecret1", None))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let view_only = h
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("fy_view_only="))
        .expect("the view-only cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    let (s, _, body) = env.raw(feed(Some(view_only))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !String::from_utf8_lossy(&body).contains(&vid),
        "an untested video reached the view-only feed"
    );
}
