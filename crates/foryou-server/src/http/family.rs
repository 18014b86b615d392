//! Parental consent and Family Pairing over HTTP (see `platform::consent` and
//! `platform::family`).

use super::extract::{ApiJson, ClientIp};
use super::{blocking, parse_id, AppState};
use crate::error::ApiError;
use crate::limits::Guarded;
use crate::platform::consent::SupervisedAccount;
use crate::platform::family::Controls;
use crate::platform::Caller;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use foryou_types::UserId;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// How long a password check waits for a place before the caller is told to come back.
const HASH_WAIT: Duration = Duration::from_secs(10);

fn busy() -> ApiError {
    ApiError::busy("the server is busy; try again in a few seconds", 2)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsentBody {
    parent_email: String,
}

/// `POST /v1/consent/requests`: sends a parent the link to consent to a supervised account.
/// Nothing about the child is asked or kept.
pub(crate) async fn request_consent(
    State(p): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<ConsentBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    p.limiters.check(Guarded::SignupClient, &ip, 1)?;
    blocking(&p, move |p| p.request_consent(&b.parent_email)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"sent": true, "message": "we sent your parent a link; they can set up your account from it"}),
        ),
    ))
}

/// `GET /v1/consent/{token}`: what a consent link is about.
pub(crate) async fn consent_request(
    State(p): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let r = blocking(&p, move |p| p.consent_request(&token)).await?;
    Ok(Json(json!(r)))
}

/// `POST /v1/consent/{token}`: the signed-in parent makes the supervised account.
pub(crate) async fn confirm_consent(
    State(p): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    ApiJson(b): ApiJson<SupervisedAccount>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    p.limiters.check(Guarded::SignupClient, &ip, 1)?;
    let _place = p.hash_gate.enter(HASH_WAIT).await.ok_or_else(busy)?;
    let a = blocking(&p, move |p| p.confirm_consent(&caller, &token, b)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": a.id, "handle": a.handle, "region": a.region, "supervised": true})),
    ))
}

/// `POST /v1/family/invitations`: a parent's code for their teen to enter (valid an hour).
pub(crate) async fn invite(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (code, expires_ms) = blocking(&p, move |p| p.family_invite(&caller)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"code": code, "expires_ms": expires_ms})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JoinBody {
    code: String,
}

/// `POST /v1/family/links`: the teen enters their parent's code.
pub(crate) async fn join(
    State(p): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<JoinBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let parent = blocking(&p, move |p| p.family_join(&caller, &b.code)).await?;
    Ok((StatusCode::CREATED, Json(json!({"parent": parent}))))
}

/// `GET /v1/family`: the caller's linked children (settings and controls only), or their parent.
pub(crate) async fn view(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let f = blocking(&p, move |p| p.family(&caller)).await?;
    Ok(Json(json!({
        "children": f.children,
        "parent": f.parent.map(|(id, handle)| json!({"id": id, "handle": handle})),
        "controls": f.controls,
    })))
}

/// `PUT /v1/family/{child}`: the parent's controls.
pub(crate) async fn set(
    State(p): State<AppState>,
    caller: Caller,
    Path(child): Path<String>,
    ApiJson(c): ApiJson<Controls>,
) -> Result<Json<Value>, ApiError> {
    let child: UserId = parse_id("user", &child)?;
    let f = blocking(&p, move |p| p.family_set(&caller, child, c)).await?;
    Ok(Json(json!(f)))
}

/// `DELETE /v1/family/{child}`: the parent ends a teen's link.
pub(crate) async fn unlink_child(
    State(p): State<AppState>,
    caller: Caller,
    Path(child): Path<String>,
) -> Result<Response, ApiError> {
    let child: UserId = parse_id("user", &child)?;
    blocking(&p, move |p| p.family_unlink(&caller, Some(child))).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /v1/family`: a teen ends their own link.
pub(crate) async fn unlink_self(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    blocking(&p, move |p| p.family_unlink(&caller, None)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    password: String,
}

/// `DELETE /v1/family/{child}/account`: the parent erases the supervised account they made.
pub(crate) async fn erase_child(
    State(p): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    Path(child): Path<String>,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<Json<Value>, ApiError> {
    let child: UserId = parse_id("user", &child)?;
    if b.password.len() > 1024 {
        return Err(ApiError::forbidden(
            "password: that is not your current password",
        ));
    }
    p.limiters.check(Guarded::LoginClient, &ip, 1)?;
    let _place = p.hash_gate.enter(HASH_WAIT).await.ok_or_else(busy)?;
    let r = blocking(&p, move |p| {
        p.family_erase_child(&caller, child, &b.password)
    })
    .await?;
    Ok(Json(json!({"erased": true, "receipt": r})))
}
