//! The transparency routes: the log exactly as C2SP tlog-tiles names it (`/log/checkpoint`,
//! `/log/key`, `/log/tile/...`), public and cacheable; the recommender's parameters
//! (`/v1/recommender`, each activated version kept); staff boosts; and the private releases an
//! auditor may read.

use super::content::require;
use super::extract::ApiJson;
use super::{blocking, parse_id, AppState};
use crate::error::ApiError;
use crate::platform::Caller;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use foryou_tlog::paths::TilePath;
use foryou_types::{Role, VideoId};
use serde::Deserialize;
use serde_json::{json, Value};

fn body(bytes: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

/// `GET /log/checkpoint`: the latest signed checkpoint, with the witness's cosignature once it
/// has cosigned.
pub(crate) async fn checkpoint(State(p): State<AppState>) -> Result<Response, ApiError> {
    let note = blocking(&p, |p| p.log_checkpoint()).await?;
    Ok(body(note, "text/plain; charset=utf-8", "no-cache"))
}

/// `GET /log/key`: the log's verifier key (signed-note vkey), to pin.
pub(crate) async fn key(State(p): State<AppState>) -> Result<Response, ApiError> {
    let k = blocking(&p, |p| p.log_key()).await?;
    Ok(body(
        format!("{k}\n").into_bytes(),
        "text/plain; charset=utf-8",
        "public, max-age=3600",
    ))
}

/// `GET /log/tile/<L>/<N>[.p/<W>]` and `GET /log/tile/entries/<N>[.p/<W>]`. A tile never
/// changes once the log has it, so every tile may be cached for good.
pub(crate) async fn tile(
    State(p): State<AppState>,
    Path(rest): Path<String>,
) -> Result<Response, ApiError> {
    let path = TilePath::parse(&format!("tile/{rest}")).map_err(|e| {
        ApiError::not_found(format!(
            "{e}; see https://c2sp.org/tlog-tiles for the layout"
        ))
    })?;
    let bytes = blocking(&p, move |p| p.log_tile(&path)).await?;
    match bytes {
        Some(b) => Ok(body(
            b,
            "application/octet-stream",
            "public, max-age=31536000, immutable",
        )),
        None => Err(ApiError::not_found(
            "the log has no such tile (yet): fetch /log/checkpoint for its size",
        )),
    }
}

/// `GET /v1/recommender`: the ranking configuration in force (every parameter and weight), its
/// version (the hash the transparency log records), and every version activated before.
pub(crate) async fn recommender(State(p): State<AppState>) -> Result<Json<Value>, ApiError> {
    let version = p.ranking_version().to_string();
    let params = p
        .recommender(&version)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .ok_or_else(|| ApiError::internal("the configuration in force is not stored"))?;
    let history = blocking(&p, |p| p.recommender_history()).await?;
    Ok(Json(json!({
        "version": version,
        "version_is": "SHA-256 of the parameters' JSON as served at /v1/recommender/{version}",
        "parameters": params,
        "activations": history.into_iter().map(|(ts, c, v)| json!({"ts_ms": ts, "component": c, "version": v})).collect::<Vec<_>>(),
        "log": "/log/checkpoint",
    })))
}

/// `GET /v1/recommender/{version}`: one activated configuration, byte for byte as hashed.
pub(crate) async fn recommender_version(
    State(p): State<AppState>,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    let b = p.recommender(&version).ok_or_else(|| {
        ApiError::not_found("no configuration with that version; see /v1/recommender")
    })?;
    Ok(body(
        b,
        "application/json",
        "public, max-age=31536000, immutable",
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoostBody {
    action: String,
    reason: String,
    #[serde(default)]
    regions: Vec<String>,
}

/// `POST /v1/admin/videos/{id}/boost`: boost, suppress or clear a video in For You feeds, with
/// a reason; logged before it takes effect.
pub(crate) async fn boost(
    State(p): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BoostBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require(&caller, &[Role::Admin, Role::Moderator])?;
    let id: VideoId = parse_id("video", &id)?;
    if b.regions.len() > 16 {
        return Err(ApiError::bad_request("regions: name at most 16"));
    }
    let action = b.action.clone();
    let index = blocking(&p, move |p| {
        p.boost(&caller, id, &b.action, &b.reason, &b.regions)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"video": id, "action": action, "log_index": index})),
    ))
}

/// `GET /v1/audit/releases`: each region's latest differentially private release (noisy counts
/// of distinct engaged people per video) as the other regions import it; for auditors and
/// admins.
pub(crate) async fn releases(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    require(&caller, &[Role::Auditor, Role::Admin])?;
    let rel = blocking(&p, |p| p.latest_releases()).await?;
    Ok(Json(json!({
        "parameters": p.config().release,
        "releases": rel.into_iter().map(|(r, rel)| json!({"region": r, "release": rel})).collect::<Vec<_>>(),
    })))
}
