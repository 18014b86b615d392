//! Sign-up, log-in (a bearer token for API clients, an HttpOnly cookie for the web UI), log-out
//! and the signed-in account. Every password hash waits for a place at the hash gate and every
//! attempt counts against the rate limits first.

use super::extract::{csrf_for, ApiJson, ClientIp, CSRF_COOKIE, SESSION_COOKIE};
use super::views;
use super::{blocking, AppState};
use crate::error::ApiError;
use crate::limits::Guarded;
use crate::platform::Caller;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use foryou_types::Role;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// How long a log-in or sign-up waits for a place to hash before it is told to come back.
const HASH_WAIT: Duration = Duration::from_secs(10);

fn busy() -> ApiError {
    ApiError::busy(
        "the server is handling many sign-ins right now; try again in a few seconds",
        2,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAccount {
    handle: String,
    password: String,
    birthdate: String,
    country: String,
}

/// The cookie that keeps a browser the age gate refused from trying again for a day.
const AGE_GATE_COOKIE: &str = "fy_age_gate";
/// The cookie that keeps a refused browser's signed-out feed curated (the view-only experience
/// of a child): it says nothing else, and the server keeps nothing about it.
pub(crate) const VIEW_ONLY_COOKIE: &str = "fy_view_only";

pub(crate) async fn create_account(
    State(p): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewAccount>,
) -> Result<Response, ApiError> {
    // A browser the age gate refused gets the same neutral answer, whatever it sends now.
    let refused_before = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| crate::query::cookie_value(c, AGE_GATE_COOKIE).is_some());
    if refused_before {
        return Err(crate::platform::agegate::refusal().into());
    }
    p.check_sign_up_fields(&b.handle, &b.password, &b.birthdate, &b.country)?;
    p.limiters.check(Guarded::SignupClient, &ip, 1)?;
    let _place = p.hash_gate.enter(HASH_WAIT).await.ok_or_else(busy)?;
    let result = blocking(&p, move |p| {
        p.create_account(&b.handle, &b.password, &b.birthdate, &b.country, Role::User)
    })
    .await;
    match result {
        Ok(a) => Ok((
            StatusCode::CREATED,
            Json(json!({"id": a.id, "handle": a.handle, "region": a.region})),
        )
            .into_response()),
        Err(e) if e.code == "not_eligible" => {
            let mut res = e.into_response();
            let secure = if p.config().secure_cookies {
                "; Secure"
            } else {
                ""
            };
            set_cookie(
                &mut res,
                format!(
                    "{AGE_GATE_COOKIE}=1; Max-Age={}; Path=/v1/accounts; HttpOnly; SameSite=Strict{secure}",
                    crate::platform::agegate::BLOCK_MS / 1000
                ),
            );
            set_cookie(
                &mut res,
                format!(
                    "{VIEW_ONLY_COOKIE}=1; Max-Age=31536000; Path=/v1/feed; HttpOnly; SameSite=Strict{secure}"
                ),
            );
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Credentials {
    handle: String,
    password: String,
    /// `true` from the web UI: the session goes into an HttpOnly cookie, not the body.
    #[serde(default)]
    cookie: bool,
}

fn set_cookie(res: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub(crate) async fn create_session(
    State(p): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    if b.handle.len() > 64 || b.password.len() > 1024 {
        return Err(ApiError::unauthorized("wrong handle or password"));
    }
    p.limiters.check(Guarded::LoginClient, &ip, 1)?;
    p.limiters
        .check(Guarded::LoginHandle, &b.handle.to_ascii_lowercase(), 1)?;
    let _place = p.hash_gate.enter(HASH_WAIT).await.ok_or_else(busy)?;
    let cookie = b.cookie;
    let (token, user) = blocking(&p, move |p| p.login(&b.handle, &b.password)).await?;
    if !cookie {
        return Ok((
            StatusCode::CREATED,
            Json(json!({"token": token, "user_id": user})),
        )
            .into_response());
    }
    let csrf = csrf_for(&token);
    let max_age = p.config().token_ttl_ms / 1000;
    let secure = if p.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let mut res = (
        StatusCode::CREATED,
        Json(json!({"user_id": user, "csrf": csrf})),
    )
        .into_response();
    set_cookie(
        &mut res,
        format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"),
    );
    set_cookie(
        &mut res,
        format!("{CSRF_COOKIE}={csrf}; Path=/; Max-Age={max_age}; SameSite=Strict{secure}"),
    );
    Ok(res)
}

pub(crate) async fn delete_session(
    State(p): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    blocking(&p, move |p| p.logout(&caller)).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if headers.contains_key(header::COOKIE) {
        for name in [SESSION_COOKIE, CSRF_COOKIE] {
            set_cookie(
                &mut res,
                format!("{name}=; Path=/; Max-Age=0; SameSite=Strict"),
            );
        }
    }
    Ok(res)
}

/// What `DELETE /v1/me` takes: the current password, re-entered.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Erase {
    password: String,
}

/// `DELETE /v1/me`: erases the caller's account and everything of theirs from every region
/// (see `platform::erasure`), and answers with the receipt; the session cookies go too.
pub(crate) async fn delete_me(
    State(p): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(b): ApiJson<Erase>,
) -> Result<Response, ApiError> {
    if b.password.len() > 1024 {
        return Err(ApiError::unauthorized(
            "password: enter your current password to erase your account",
        ));
    }
    p.limiters.check(Guarded::LoginClient, &ip, 1)?;
    let _place = p.hash_gate.enter(HASH_WAIT).await.ok_or_else(busy)?;
    let receipt = blocking(&p, move |p| p.erase_me(&caller, &b.password)).await?;
    let mut res = (
        StatusCode::OK,
        Json(json!({"erased": true, "receipt": receipt})),
    )
        .into_response();
    if headers.contains_key(header::COOKIE) {
        for name in [SESSION_COOKIE, CSRF_COOKIE] {
            set_cookie(
                &mut res,
                format!("{name}=; Path=/; Max-Age=0; SameSite=Strict"),
            );
        }
    }
    Ok(res)
}

pub(crate) async fn me(State(p): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let profile = p.read_world(|w| views::profile(w, caller.user, Some(caller.user)))?;
    Ok(Json(
        json!({"id": caller.user, "handle": caller.handle, "region": caller.region, "role": caller.role, "profile": profile}),
    ))
}

/// `GET /v1/me/settings`: the settings in force and what the caller's age band allows.
pub(crate) async fn settings(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let (s, band, family) = p.my_settings(&caller)?;
    Ok(Json(settings_view(&s, band, family.as_ref())))
}

/// The settings in force and what the age band and a parent's controls allow.
fn settings_view(
    s: &foryou_store::Settings,
    band: crate::platform::settings::Band,
    family: Option<&foryou_store::Family>,
) -> Value {
    use crate::platform::settings::Band;
    use foryou_store::CommentPolicy;
    let adult = band == Band::Adult;
    json!({
        "settings": s,
        "band": band,
        "limits": {
            "may_be_public": matches!(band, Band::OlderTeen | Band::Adult)
                && family.is_none_or(|f| f.may_be_public),
            "comments_from_everyone": adult,
            "comments_from_followers": band != Band::Child
                && family.is_none_or(|f| f.comments != Some(CommentPolicy::Nobody)),
            "personalised": band != Band::Child,
            "downloads": adult,
        },
        "family": family,
    })
}

/// `PUT /v1/me/settings`: replaces the caller's settings; a change their age band does not allow
/// is refused with the rule (403), and nothing changes.
pub(crate) async fn put_settings(
    State(p): State<AppState>,
    caller: Caller,
    ApiJson(s): ApiJson<foryou_store::Settings>,
) -> Result<Json<Value>, ApiError> {
    let (s, band, family) = blocking(&p, move |p| {
        let s = p.set_my_settings(&caller, s)?;
        p.my_settings(&caller).map(|(_, b, f)| (s, b, f))
    })
    .await?;
    Ok(Json(settings_view(&s, band, family.as_ref())))
}

/// `GET /v1/me/follow-requests`: followers waiting for the caller's decision; approve or decline
/// with an `approve_follower` / `decline_follower` event naming them as `target`.
pub(crate) async fn follow_requests(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let list = p.follow_requests(&caller)?;
    Ok(Json(json!({
        "requests": list.into_iter().map(|(id, handle)| json!({"id": id, "handle": handle})).collect::<Vec<_>>(),
    })))
}

/// `GET /v1/me/not-interested`: what the caller said "not interested" to, each with a video to
/// name in an `undo_not_interested` event (`target`: video, creator or sound).
pub(crate) async fn not_interested(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let n = blocking(&p, move |p| p.not_interested(&caller)).await?;
    Ok(Json(json!({
        "videos": n.videos.into_iter().map(|(id, caption)| json!({"video_id": id, "caption": caption})).collect::<Vec<_>>(),
        "creators": n.creators.into_iter().map(|(id, handle, v)| json!({"id": id, "handle": handle, "video_id": v})).collect::<Vec<_>>(),
        "sounds": n.sounds.into_iter().map(|(id, title, v)| json!({"id": id, "title": title, "video_id": v})).collect::<Vec<_>>(),
    })))
}
