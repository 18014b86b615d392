//! The attacks that took `main` down or wore it out, replayed through the router: each must get
//! a 4xx with a JSON body that says what to change, and leave nothing behind.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{clip, error_code, Env};
use foryou_server::Limits;
use serde_json::{json, Value};

#[tokio::test]
async fn a_huge_feed_cursor_is_refused_and_anyone_can_read_the_feed() {
    let env = Env::new("cursor");
    let t = env.user("cursorer", "DE").await;
    let (s, _) = env.upload(&t, &clip(2.0), "first #one", None).await;
    assert_eq!(s, StatusCode::CREATED);
    for path in [
        "/v1/feed?mode=foryou&personalized=false&cursor=1000000000000",
        "/v1/feed?cursor=18446744073709551615",
        "/v1/feed?limit=100000",
        "/v1/feed?nonsense=1",
    ] {
        let (s, v) = env.call("GET", path, Some(&t), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    // Signed out: the non-personalised For You feed, with next pages.
    let (s, v) = env.call("GET", "/v1/feed?limit=1", None, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
    assert!(v["items"][0]["liked"].is_boolean() || v["items"][0]["liked"].is_null());
    let (s, v) = env.call("GET", "/v1/feed?cursor=10000", None, None).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the last cursor allowed is an empty page: {v}"
    );
}

#[tokio::test]
async fn password_guessing_meets_a_429_even_with_the_right_password() {
    let env = Env::new("guess");
    env.user("target", "US").await;
    let mut limited = None;
    for i in 0..20 {
        let (s, v) = env
            .call(
                "POST",
                "/v1/sessions",
                None,
                Some(json!({"handle": "target", "password": format!("wrong guess {i}")})),
            )
            .await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((i, v));
            break;
        }
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (i, v) = limited.expect("guessing is limited");
    assert!(i <= 10, "limited after {i} guesses");
    assert_eq!(error_code(&v), "rate_limited");
    let req = Request::post("/v1/sessions")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"handle": "target", "password": "long enough pw"}).to_string(),
        ))
        .expect("request");
    let (s, headers, _) = env.raw(req).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits too"
    );
    let wait: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=3600).contains(&wait));
}

#[tokio::test]
async fn comment_floods_are_limited() {
    let env = Env::new("flood");
    let t = env.user("flooder", "FR").await;
    let (_, v) = env.upload(&t, &clip(2.0), "target #x", None).await;
    let vid = v["id"].as_str().expect("id").to_string();
    let mut accepted = 0;
    for i in 0..100 {
        let events: Vec<Value> = (0..10)
            .map(|j| json!({"id": format!("c{i}-{j}"), "kind": "comment", "video_id": vid, "text": "spam"}))
            .collect();
        let (s, v) = env
            .call(
                "POST",
                "/v1/events",
                Some(&t),
                Some(json!({ "events": events })),
            )
            .await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(error_code(&v), "rate_limited");
            break;
        }
        assert_eq!(s, StatusCode::OK, "{v}");
        accepted += 10;
    }
    assert!(accepted <= 30, "{accepted} comments went through");
    // Comments come back a page at a time.
    let (s, v) = env
        .call(
            "GET",
            &format!("/v1/videos/{vid}/comments?limit=20"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["comments"].as_array().map(Vec::len), Some(20));
    assert_eq!(v["total"].as_u64(), Some(accepted as u64));
    assert_eq!(v["next_cursor"], "20");
    let (s, _) = env
        .call(
            "GET",
            &format!("/v1/videos/{vid}/comments?limit=100000"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sign_up_refuses_weak_and_confusable_input() {
    let env = Env::with("fields", |c| c.limits = Limits::off());
    let mk = |handle: &str, pw: &str, birth: &str, country: &str| json!({"handle": handle, "password": pw, "birthdate": birth, "country": country});
    for (body, why) in [
        (mk("lena", "password", "2000-01-01", "DE"), "short password"),
        (mk("lena", "12345678", "2000-01-01", "DE"), "digits"),
        (mk("lena", "        ", "2000-01-01", "DE"), "spaces"),
        (mk("lena", "1234567890", "2000-01-01", "DE"), "common"),
        (
            mk("admin", "a long password", "2000-01-01", "DE"),
            "reserved",
        ),
        (
            mk("4503599627370", "a long password", "2000-01-01", "DE"),
            "id-like",
        ),
        (mk("lena", "a long password", "2000-+1-+1", "DE"), "date"),
        (
            mk("lena", "a long password", "2000-01-01", "XX"),
            "country XX",
        ),
        (
            mk("lena", "a long password", "2000-01-01", "ZZ"),
            "country ZZ",
        ),
    ] {
        let (s, v) = env.call("POST", "/v1/accounts", None, Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    // Ids and handles are never confused: /v1/users/{handle} takes handles, by-id takes ids.
    let t = env.user("realname", "DE").await;
    let (_, me) = env.call("GET", "/v1/me", Some(&t), None).await;
    let id = me["id"].as_str().expect("id").to_string();
    let (s, _) = env
        .call("GET", &format!("/v1/users/{id}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = env
        .call("GET", &format!("/v1/users/by-id/{id}"), None, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = env.call("GET", "/v1/users/realname", None, None).await;
    assert_eq!((s, v["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
}

fn multipart(parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "XfOrYoUbOuNdArY";
    let mut body = Vec::new();
    for (name, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"x.bin\"\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(env: &Env, token: &str, parts: &[(&str, &[u8])]) -> (StatusCode, Value) {
    let (ct, body) = multipart(parts);
    let req = Request::post("/v1/videos")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", ct)
        .body(Body::from(body))
        .expect("request");
    let (s, _, b) = env.raw(req).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

#[tokio::test]
async fn hostile_uploads_are_refused_and_leave_nothing() {
    let env = Env::with("uploads", |c| c.limits = Limits::off());
    let t = env.user("uploader", "DE").await;
    // A second 'file' part.
    let big = vec![7u8; 1 << 20];
    let (s, v) = post_form(&env, &t, &[("file", &big), ("file", &big), ("file", &big)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // 12,000 nested unknown-size WebM elements.
    let webm = foryou_media::samples::nested_webm(12_000);
    let (s, v) = post_form(&env, &t, &[("file", &webm)]).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::BAD_REQUEST, "corrupt_video"),
        "{v}"
    );
    // A 21-byte WebM and a 148-byte MP4 claiming a box of 2^64-1 bytes.
    let (s, _) = post_form(&env, &t, &[("file", &foryou_media::samples::tiny_webm())]).await;
    assert!(s.is_client_error(), "{s}");
    let mp4 = foryou_media::samples::mp4_box_size_all_ones();
    let (s, v) = post_form(&env, &t, &[("file", &mp4)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // An oversized caption part.
    let long = vec![b'a'; 64 * 1024];
    let (s, _) = post_form(&env, &t, &[("caption", &long), ("file", &clip(2.0))]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(env.media_files(), 0, "nothing is left behind");
}

#[tokio::test]
async fn the_upload_quota_holds() {
    let env = Env::with("quota", |c| c.max_uploads_per_day = 2);
    let t = env.user("prolific", "US").await;
    for i in 0..2 {
        let (s, v) = env.upload(&t, &clip(2.0), &format!("n{i}"), None).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = env.upload(&t, &clip(2.0), "one too many", None).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "upload_quota"),
        "{v}"
    );
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let env = Env::new("headers");
    for path in ["/", "/app.js", "/v1/feed", "/nope", "/healthz"] {
        let (_, h, _) = env
            .raw(Request::get(path).body(Body::empty()).expect("request"))
            .await;
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert!(h.contains_key("referrer-policy"), "{path}");
    }
    let (_, _, page) = env
        .raw(Request::get("/").body(Body::empty()).expect("request"))
        .await;
    let page = String::from_utf8_lossy(&page);
    assert!(
        !page.contains("<script>") && !page.contains(" style="),
        "no inline script or style"
    );
}

#[tokio::test]
async fn the_web_session_is_an_http_only_cookie_guarded_against_csrf() {
    let env = Env::new("cookie");
    env.user("webuser", "IE").await;
    let req = Request::post("/v1/sessions")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"handle": "webuser", "password": "long enough pw", "cookie": true}).to_string(),
        ))
        .expect("request");
    let (s, h, body) = env.raw(req).await;
    assert_eq!(s, StatusCode::CREATED);
    let body: Value = serde_json::from_slice(&body).expect("json");
    assert!(
        body.get("token").is_none(),
        "the token stays out of reach of scripts"
    );
    let cookies: Vec<String> = h
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("fy_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let pair = |c: &str| c.split(';').next().unwrap_or("").to_string();
    let jar = cookies
        .iter()
        .map(|c| pair(c))
        .collect::<Vec<_>>()
        .join("; ");
    let csrf = body["csrf"].as_str().expect("csrf").to_string();
    let get = Request::get("/v1/me")
        .header("cookie", &jar)
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        env.raw(get).await.0,
        StatusCode::OK,
        "reads need no CSRF token"
    );
    let refresh = |token: Option<&str>| {
        let mut b = Request::post("/v1/feed/refresh").header("cookie", &jar);
        if let Some(t) = token {
            b = b.header("x-csrf-token", t);
        }
        b.body(Body::empty()).expect("request")
    };
    assert_eq!(env.raw(refresh(None)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        env.raw(refresh(Some("00ff"))).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        env.raw(refresh(Some(&csrf))).await.0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn junk_methods_share_one_metrics_series() {
    let env = Env::new("metrics");
    for i in 0..50 {
        let m = format!("JUNK{i}");
        let req = Request::builder()
            .method(m.as_str())
            .uri("/v1/feed")
            .body(Body::empty())
            .expect("request");
        let _ = env.raw(req).await;
    }
    let (_, _, text) = env
        .raw(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    let text = String::from_utf8_lossy(&text);
    assert!(
        !text.contains("JUNK"),
        "method names from clients never become labels"
    );
    assert!(text.contains("method=\"other\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_in_flood_queues_then_is_told_to_come_back() {
    let env = Env::with("flood-login", |c| {
        c.limits = Limits::off();
        c.max_concurrent_hashes = 1;
        c.max_queued_hashes = 4;
    });
    env.user("victim", "DE").await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let app = env.app.clone();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let req = Request::post("/v1/sessions")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"handle": "victim", "password": format!("wrong password {i}")})
                        .to_string(),
                ))
                .expect("request");
            let res = app.oneshot(req).await.expect("response");
            (res.status(), res.headers().contains_key("retry-after"))
        }));
    }
    let mut busy = 0;
    for t in tasks {
        let (s, retry) = t.await.expect("task");
        match s {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(retry, "a 503 says when to come back");
                busy += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        busy > 0,
        "64 log-ins at once with one hash slot and a queue of 4 must turn some away"
    );
}

#[tokio::test]
async fn framework_refusals_are_json_too() {
    let env = Env::new("jsonerr");
    let t = env.user("jsonuser", "DE").await;
    for (method, path, body) in [
        ("GET", "/v1/videos/%FF%FE/media", Body::empty()),
        ("POST", "/v1/events", Body::from(vec![b' '; 3 << 20])),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {t}"))
            .header("content-type", "application/json")
            .body(body)
            .expect("request");
        let (s, h, b) = env.raw(req).await;
        assert!(s.is_client_error(), "{path}: {s}");
        assert!(
            h.get("content-type")
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json")),
            "{path}"
        );
        let v: Value = serde_json::from_slice(&b).expect("a JSON body");
        assert!(!error_code(&v).is_empty(), "{path}: {v}");
    }
}

#[tokio::test]
async fn long_media_is_streamed_whole_and_in_ranges() {
    let env = Env::new("stream");
    let t = env.user("streamer", "DE").await;
    // A real clip padded with a 'free' box to 1.3 MiB: five chunks and a bit.
    let mut file = clip(2.0);
    let pad = 1_300_000usize;
    file.extend_from_slice(&((pad + 8) as u32).to_be_bytes());
    file.extend_from_slice(b"free");
    file.extend((0..pad).map(|i| (i % 251) as u8));
    let (s, v) = env.upload(&t, &file, "long #file", None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let url = v["media_url"].as_str().expect("media url").to_string();
    let (s, h, body) = env
        .raw(Request::get(&url).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        h.get("content-length").and_then(|v| v.to_str().ok()),
        Some(file.len().to_string().as_str())
    );
    assert!(body == file, "the streamed bytes differ from the upload");
    for (a, b) in [(0usize, 9usize), (262_140, 262_150), (300_000, 1_000_000)] {
        let req = Request::get(&url)
            .header("range", format!("bytes={a}-{b}"))
            .body(Body::empty())
            .expect("request");
        let (s, h, body) = env.raw(req).await;
        assert_eq!(s, StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            h.get("content-range").and_then(|v| v.to_str().ok()),
            Some(format!("bytes {a}-{b}/{}", file.len()).as_str())
        );
        assert!(body == file[a..=b], "range {a}-{b}");
    }
}

#[tokio::test]
async fn mistyped_sign_up_forms_do_not_use_up_the_sign_up_limit() {
    let env = Env::with("typos", |c| {
        c.limits = Limits::parse("signup_per_client=2/1h").expect("limits");
    });
    for i in 0..10 {
        let (s, _) = env
            .call("POST", "/v1/accounts", None, Some(json!({"handle": format!("typo{i}"), "password": "short", "birthdate": "2000-01-01", "country": "DE"})))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
    env.user("finally", "DE").await;
    env.user("secondacct", "DE").await;
    let (s, v) = env
        .call("POST", "/v1/accounts", None, Some(json!({"handle": "thirdacct", "password": "a long password", "birthdate": "2000-01-01", "country": "DE"})))
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "{v}"
    );
}

#[tokio::test]
async fn uploads_are_received_inside_their_own_region() {
    let env = Env::new("regiontmp");
    assert!(
        !env.dir.join("tmp").exists(),
        "no directory shared by every region"
    );
    for r in ["eu", "us", "row"] {
        assert!(env.dir.join("regions").join(r).join("tmp").is_dir(), "{r}");
    }
    let t = env.user("regionuser", "US").await;
    let (s, _) = env.upload(&t, &clip(2.0), "in us", None).await;
    assert_eq!(s, StatusCode::CREATED);
    for r in ["eu", "row"] {
        let media = env.dir.join("regions").join(r).join("media");
        let files = std::fs::read_dir(&media).map(|d| d.count()).unwrap_or(0);
        assert_eq!(files, 0, "a us upload left something under {r}");
    }
}
