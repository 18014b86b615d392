//! Reports and the moderation queue over HTTP: anyone signed in reports a video; moderators
//! read a region's queue and decide through the staff gateway; creators see the decisions on
//! their videos and appeal a takedown once.

use super::content::{purpose_of, require};
use super::extract::ApiJson;
use super::{blocking, parse_id, AppState};
use crate::error::ApiError;
use crate::platform::Caller;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use foryou_types::{Role, VideoId};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportBody {
    #[serde(default)]
    video_id: Option<VideoId>,
    #[serde(default)]
    account: Option<foryou_types::UserId>,
    #[serde(default)]
    comment_id: Option<foryou_types::CommentId>,
    reason: String,
    #[serde(default)]
    note: String,
}

/// `POST /v1/reports`: report a video to its region's moderators.
pub(crate) async fn report(
    State(p): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ReportBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = match (b.video_id, b.account, b.comment_id) {
        (Some(v), None, None) => {
            blocking(&p, move |p| p.report_video(&caller, v, &b.reason, &b.note)).await?
        }
        (None, Some(a), None) => {
            blocking(&p, move |p| {
                p.report_account(&caller, a, &b.reason, &b.note)
            })
            .await?
        }
        (None, None, Some(c)) => {
            blocking(&p, move |p| {
                p.report_comment(&caller, c, &b.reason, &b.note)
            })
            .await?
        }
        _ => return Err(ApiError::bad_request(
            "report one thing: a video (video_id), a comment (comment_id) or an account (account)",
        )),
    };
    Ok((StatusCode::CREATED, Json(json!({"id": id.to_string()}))))
}

fn region_param(
    caller: &Caller,
    pairs: &[(String, String)],
) -> Result<foryou_types::Region, ApiError> {
    match pairs.iter().find(|(k, _)| k == "region") {
        Some((_, r)) => foryou_types::Region::new(r)
            .map_err(|_| ApiError::bad_request(format!("region: '{r}' is not a region"))),
        None => Ok(caller.region.clone()),
    }
}

/// `GET /v1/admin/reports?region=R&purpose=moderation`: a region's open reports and appeals.
pub(crate) async fn admin_reports(
    State(p): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    require(&caller, &[Role::Admin, Role::Moderator])?;
    let (purpose, pairs) = purpose_of(raw.as_deref(), &["region"])?;
    let region = region_param(&caller, &pairs)?;
    let purpose = purpose.ok_or_else(|| {
        ApiError::bad_request("purpose: name why you read the queue (?purpose=moderation)")
    })?;
    let list = blocking(&p, move |p| p.moderation_queue(&caller, &region, &purpose)).await?;
    Ok(Json(json!({"reports": list})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveBody {
    action: String,
    reason: String,
}

/// `POST /v1/admin/reports/{id}/resolve?region=R&purpose=moderation`: `remove` or `dismiss` an
/// open report, `uphold` or `reverse` an appeal, with a reason the creator is shown.
pub(crate) async fn resolve_report(
    State(p): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    ApiJson(b): ApiJson<ResolveBody>,
) -> Result<Json<Value>, ApiError> {
    require(&caller, &[Role::Admin, Role::Moderator])?;
    let id: u64 = parse_id("report", &id)?;
    let (purpose, pairs) = purpose_of(raw.as_deref(), &["region"])?;
    let region = region_param(&caller, &pairs)?;
    let purpose = purpose.ok_or_else(|| {
        ApiError::bad_request("purpose: name why you decide (?purpose=moderation)")
    })?;
    let r = blocking(&p, move |p| {
        p.resolve_report(&caller, &region, id, &b.action, &b.reason, &purpose)
    })
    .await?;
    Ok(Json(json!({"report": r})))
}

/// `GET /v1/me/moderation`: moderators' decisions on the caller's videos, with their reasons.
pub(crate) async fn my_moderation(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let list = blocking(&p, move |p| p.my_moderation(&caller)).await?;
    let view: Vec<Value> = list
        .iter()
        .map(|r| json!({"id": r.id.to_string(), "video_id": r.video, "comment_id": r.comment, "account": r.video.is_none(), "reason": r.reason, "status": r.status, "decision": r.decision, "appeal": r.appeal, "decided_ms": r.decided_ms}))
        .collect();
    Ok(Json(json!({"decisions": view})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppealBody {
    text: String,
}

/// `POST /v1/me/moderation/{id}/appeal`: appeal a takedown of one of the caller's videos, once.
pub(crate) async fn appeal(
    State(p): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AppealBody>,
) -> Result<Json<Value>, ApiError> {
    let id: u64 = parse_id("decision", &id)?;
    let r = blocking(&p, move |p| p.appeal(&caller, id, &b.text)).await?;
    Ok(Json(json!({"id": r.id.to_string(), "status": r.status})))
}
