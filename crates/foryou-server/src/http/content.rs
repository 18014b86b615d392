//! Public content: videos, profiles, sounds (lists paged), and the admin's user list.

use super::extract::{ApiJson, MaybeCaller};
use super::views;
use super::{blocking, parse_id, AppState};
use crate::error::ApiError;
use crate::platform::Caller;
use crate::query::{page_query, PageQuery};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use foryou_types::{Role, SoundId, UserId, VideoId};
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) fn require(caller: &Caller, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&caller.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this needs the role {}",
            roles
                .iter()
                .map(|r| format!("{r:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(" or ")
        )))
    }
}

/// One page of `items` and the cursor of the next, if any.
pub(super) fn page<T>(items: impl Iterator<Item = T>, q: PageQuery) -> (Vec<T>, Option<String>) {
    let mut out: Vec<T> = items.skip(q.cursor).take(q.limit + 1).collect();
    let more = out.len() > q.limit;
    out.truncate(q.limit);
    let next = more.then(|| (q.cursor + q.limit).to_string());
    (out, next)
}

pub(crate) async fn video(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
) -> Result<Json<views::VideoView>, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    let viewer = c.map(|c| c.user);
    if !p.may_see_video(viewer, id) {
        return Err(ApiError::not_found(format!("no video with id {id}")));
    }
    p.read_world(|w| views::video(w, id, viewer))?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no video with id {id}")))
}

/// Decoded query parameters.
type Params = Vec<(String, String)>;

/// The `purpose` a staff request names (`?purpose=moderation`), if any, and every parameter.
pub(super) fn purpose_of(
    raw: Option<&str>,
    extra: &[&str],
) -> Result<(Option<String>, Params), ApiError> {
    let mut allowed = vec!["purpose"];
    allowed.extend_from_slice(extra);
    let pairs = crate::query::pairs(raw.unwrap_or(""), &allowed)?;
    let purpose = pairs
        .iter()
        .find(|(k, _)| k == "purpose")
        .map(|(_, v)| v.clone());
    Ok((purpose, pairs))
}

pub(crate) async fn delete_video(
    State(p): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    let (purpose, _) = purpose_of(raw.as_deref(), &[])?;
    blocking(&p, move |p| p.delete_video(&caller, id, purpose.as_deref())).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatureBody {
    mature: bool,
}

/// `PUT /v1/videos/{id}/mature[?purpose=P]`: the creator, or staff through the gateway, marks a
/// video mature (never in the feeds of people under 18) or not.
pub(crate) async fn set_mature(
    State(p): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    ApiJson(b): ApiJson<MatureBody>,
) -> Result<StatusCode, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    let (purpose, _) = purpose_of(raw.as_deref(), &[])?;
    blocking(&p, move |p| {
        p.set_mature(&caller, id, b.mature, purpose.as_deref())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn by_handle(p: &AppState, handle: &str) -> Result<UserId, ApiError> {
    p.user_by_handle(handle)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "no user '@{}'",
            handle.chars().take(40).collect::<String>()
        ))
    })
}

fn profile_of(p: &AppState, id: UserId, viewer: Option<UserId>) -> Result<Json<Value>, ApiError> {
    let exists = p.read_world(|w| p.findable(w, id, viewer))?;
    if !exists {
        return Err(ApiError::not_found(format!("no user with id {id}")));
    }
    Ok(Json(p.read_world(|w| views::profile(w, id, viewer))?))
}

/// `GET /v1/users/{handle}`: handles only (ids have their own route, so neither passes for the other).
pub(crate) async fn profile(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(h): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = by_handle(&p, &h)?;
    profile_of(&p, id, c.map(|c| c.user))
}

/// `GET /v1/users/by-id/{id}`.
pub(crate) async fn profile_by_id(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: UserId = parse_id("user", &id)?;
    profile_of(&p, id, c.map(|c| c.user))
}

pub(super) fn newest_first(ids: Option<&Vec<VideoId>>) -> Vec<VideoId> {
    let mut ids = ids.cloned().unwrap_or_default();
    ids.reverse();
    ids
}

pub(crate) async fn user_videos(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(h): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = page_query(raw.as_deref().unwrap_or(""), 60)?;
    let id = by_handle(&p, &h)?;
    let viewer = c.map(|c| c.user);
    if !p.read_world(|w| p.findable(w, id, viewer))? {
        return Err(ApiError::not_found(format!("no user with id {id}")));
    }
    let (list, next, private) = p.read_world(|w| {
        // A private account's videos are listed to its followers (and itself) only.
        if !p.may_see(w, viewer, id) {
            return (Vec::new(), None, true);
        }
        let ids = newest_first(w.by_creator.get(&id));
        let (list, next) = page(
            ids.into_iter().filter_map(|v| views::video(w, v, viewer)),
            q,
        );
        (list, next, false)
    })?;
    Ok(Json(
        json!({"videos": list, "next_cursor": next, "private": private}),
    ))
}

pub(crate) async fn sound(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = page_query(raw.as_deref().unwrap_or(""), 60)?;
    let id: SoundId = parse_id("sound", &id)?;
    let viewer = c.map(|c| c.user);
    let out = p.read_world(|w| {
        let s = w.sounds.get(&id)?;
        let audible = w
            .videos
            .get(&s.origin)
            .is_some_and(|v| v.video.audio_codec.is_some());
        let ids = newest_first(w.by_sound.get(&id));
        let count = ids.len();
        let (videos, next) = page(
            ids.into_iter().filter_map(|v| views::video(w, v, viewer)),
            q,
        );
        Some(json!({
            "id": s.id, "title": s.title, "origin_video": s.origin,
            "creator": {"id": s.creator, "handle": views::handle_of(w, s.creator)},
            "video_count": count, "videos": videos, "next_cursor": next,
            "audio_url": audible.then(|| format!("/v1/sounds/{id}/audio")),
        }))
    })?;
    out.map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no sound with id {id}")))
}

/// `GET /v1/admin/users?region=R&purpose=P&limit&cursor`: one region's accounts, through the
/// staff gateway (your own region when none is named).
pub(crate) async fn admin_users(
    State(p): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    require(&caller, &[Role::Admin, Role::Moderator, Role::Auditor])?;
    let (purpose, pairs) = purpose_of(raw.as_deref(), &["region", "limit", "cursor"])?;
    let get = |k: &str| pairs.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let region = match get("region") {
        Some(r) => foryou_types::Region::new(r)
            .map_err(|_| ApiError::bad_request(format!("region: '{r}' is not a region")))?,
        None => caller.region.clone(),
    };
    let number = |k: &str, default: usize, max: usize| -> Result<usize, ApiError> {
        match get(k) {
            None => Ok(default),
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("{k}: '{s}' is not a number up to {max}"))
                }),
        }
    };
    let (limit, cursor) = (
        number("limit", 100, 100)?.max(1),
        number("cursor", 0, usize::MAX)?,
    );
    let purpose = purpose.ok_or_else(|| {
        ApiError::bad_request(format!(
            "purpose: say why you need these accounts (?purpose=support), one of {}",
            crate::gateway::PURPOSES.join(", ")
        ))
    })?;
    let (users, total) = blocking(&p, move |p| {
        p.staff_accounts(&caller, &region, &purpose, cursor, limit)
    })
    .await?;
    let next = (cursor + users.len() < total).then(|| (cursor + users.len()).to_string());
    Ok(Json(
        json!({"users": users, "total": total, "next_cursor": next}),
    ))
}

/// `GET /v1/admin/access?region=R&cursor&limit`: the gateway's decisions about a region's data,
/// for auditors and admins of any region. Auditors see them as the public log has them: staff
/// as pseudonyms, actions without ids.
pub(crate) async fn admin_access(
    State(p): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    require(&caller, &[Role::Auditor, Role::Admin])?;
    let pairs = crate::query::pairs(raw.as_deref().unwrap_or(""), &["region", "limit", "cursor"])?;
    let get = |k: &str| pairs.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let region = match get("region") {
        Some(r) => foryou_types::Region::new(r)
            .map_err(|_| ApiError::bad_request(format!("region: '{r}' is not a region")))?,
        None => caller.region.clone(),
    };
    let q = crate::query::page_query(
        &pairs
            .iter()
            .filter(|(k, _)| k != "region")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&"),
        100,
    )?;
    let from = (q.cursor as u64).saturating_add(1);
    let records = blocking(&p, move |p| p.access_records(&region, from, q.limit)).await?;
    let next = records.last().map(|r| r.seq.to_string());
    if caller.role == Role::Auditor {
        let public: Vec<Value> = records
            .iter()
            .map(|r| {
                json!({
                    "seq": r.seq, "ts_ms": r.ts_ms, "actor": p.pseudonym(r.actor),
                    "role": r.role, "actor_region": r.actor_region, "target_region": r.target_region,
                    "purpose": r.purpose, "category": r.category, "action": r.verb,
                    "subject": r.subject, "records": r.records, "allowed": r.allowed,
                    "pseudonymised": r.pseudonymised, "rule": r.rule,
                })
            })
            .collect();
        return Ok(Json(json!({"decisions": public, "next_cursor": next})));
    }
    Ok(Json(json!({"decisions": records, "next_cursor": next})))
}

/// `GET /v1/admin/policy`: the access policy in force, for every staff role.
pub(crate) async fn admin_policy(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Json<crate::gateway::Policy>, ApiError> {
    require(&caller, &[Role::Admin, Role::Moderator, Role::Auditor])?;
    Ok(Json(p.config().access_policy.clone()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleBody {
    role: Role,
}

pub(crate) async fn admin_set_role(
    State(p): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    ApiJson(b): ApiJson<RoleBody>,
) -> Result<StatusCode, ApiError> {
    require(&caller, &[Role::Admin])?;
    let id: UserId = parse_id("user", &id)?;
    if id == caller.user && b.role != Role::Admin {
        return Err(ApiError::unprocessable(
            "invalid",
            "you cannot take your own admin role; ask another admin",
        ));
    }
    let (purpose, _) = purpose_of(raw.as_deref(), &[])?;
    let purpose = purpose.ok_or_else(|| {
        ApiError::bad_request("purpose: say why you change this role (?purpose=security)")
    })?;
    blocking(&p, move |p| p.staff_set_role(&caller, id, b.role, &purpose)).await?;
    Ok(StatusCode::NO_CONTENT)
}
