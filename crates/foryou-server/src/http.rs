//! Routes, extractors and the request middleware (metrics, structured request logs).

use crate::error::ApiError;
use crate::platform::{upload_too_large, Caller, FeedKind, Platform, UploadInput};
use crate::views;
use axum::body::Bytes;
use axum::extract::{
    DefaultBodyLimit, FromRequestParts, MatchedPath, Multipart, Path, Query, Request, State,
};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use foryou_types::{EventInput, Role, SoundId, UserId, VideoId};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;

type AppState = Arc<Platform>;

/// Runs blocking platform work (fsync, argon2, ranking) off the async workers.
async fn blocking<T: Send + 'static>(
    p: &AppState,
    f: impl FnOnce(&Platform) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let p = p.clone();
    tokio::task::spawn_blocking(move || f(&p))
        .await
        .map_err(ApiError::internal)?
}

/// A JSON body whose syntax errors become 400s that say where the problem is.
struct ApiJson<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "bad_request", e.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request(format!("the JSON body is not valid: {e}")))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, p: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)
            .ok_or_else(|| {
                ApiError::unauthorized("sign in and send 'Authorization: Bearer TOKEN'")
            })?
            .to_string();
        blocking(p, move |p| p.authenticate(&token))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("the token is invalid, expired or revoked; sign in again")
            })
    }
}

/// The caller when a token is sent; anonymous otherwise. A bad token is still a 401.
struct MaybeCaller(Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, p: &AppState) -> Result<Self, ApiError> {
        if bearer(parts).is_none() {
            return Ok(MaybeCaller(None));
        }
        Caller::from_request_parts(parts, p)
            .await
            .map(|c| MaybeCaller(Some(c)))
    }
}

fn require(caller: &Caller, roles: &[Role]) -> Result<(), ApiError> {
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

fn parse_id<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no {what} with id '{s}'")))
}

/// The API router with every route, the web UI, and the middleware.
pub fn router(platform: Arc<Platform>) -> Router {
    let upload_limit = platform.config().max_upload_bytes as usize + (4 << 20);
    Router::new()
        .route("/", get(crate::web::index))
        .route("/app.js", get(crate::web::script))
        .route("/app.css", get(crate::web::style))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
        .route("/v1/accounts", post(create_account))
        .route("/v1/sessions", post(create_session).delete(delete_session))
        .route("/v1/me", get(me))
        .route(
            "/v1/videos",
            post(upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/v1/videos/{id}", get(video).delete(delete_video))
        .route("/v1/videos/{id}/media", get(media))
        .route("/v1/videos/{id}/poster", get(poster))
        .route("/v1/videos/{id}/comments", get(comments))
        .route("/v1/events", post(events))
        .route("/v1/feed", get(feed))
        .route("/v1/feed/refresh", post(refresh))
        .route("/v1/users/{handle}", get(profile))
        .route("/v1/users/{handle}/videos", get(user_videos))
        .route("/v1/sounds/{id}", get(sound))
        .route("/v1/admin/users", get(admin_users))
        .route("/v1/admin/users/{id}/role", put(admin_set_role))
        .fallback(|| async { ApiError::not_found("no such route; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method; see /openapi.json",
            )
        })
        .layer(middleware::from_fn_with_state(platform.clone(), observe))
        .with_state(platform)
}

async fn observe(State(p): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let res = next.run(req).await;
    let secs = started.elapsed().as_secs_f64();
    p.metrics
        .request(&route, &method, res.status().as_u16(), secs);
    tracing::info!(target: "foryou::http", method = %method, route = %route, status = res.status().as_u16(), ms = secs * 1000.0, "request");
    res
}

/// Serves until `shutdown` resolves, then stops taking connections and finishes those in flight.
pub async fn serve(
    platform: Arc<Platform>,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    axum::serve(listener, router(platform))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn metrics(State(p): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        p.metrics.render(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    handle: String,
    password: String,
    birthdate: String,
    country: String,
}

async fn create_account(
    State(p): State<AppState>,
    ApiJson(b): ApiJson<NewAccount>,
) -> Result<impl IntoResponse, ApiError> {
    let a = blocking(&p, move |p| {
        p.create_account(&b.handle, &b.password, &b.birthdate, &b.country, Role::User)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": a.id, "handle": a.handle, "region": a.region})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    handle: String,
    password: String,
}

async fn create_session(
    State(p): State<AppState>,
    ApiJson(b): ApiJson<Credentials>,
) -> Result<impl IntoResponse, ApiError> {
    let (token, user) = blocking(&p, move |p| p.login(&b.handle, &b.password)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "user_id": user})),
    ))
}

async fn delete_session(State(p): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    blocking(&p, move |p| p.logout(&caller)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(p): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let profile = p.read_world(|w| views::profile(w, caller.user, Some(caller.user)))?;
    Ok(Json(
        json!({"id": caller.user, "handle": caller.handle, "region": caller.region, "role": caller.role, "profile": profile}),
    ))
}

/// Deletes a partly received upload unless it was handed over.
struct TempFile(Option<std::path::PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError, max: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        upload_too_large(max)
    } else {
        ApiError::bad_request(format!(
            "the multipart body could not be read: {}",
            e.body_text()
        ))
    }
}

async fn upload(
    State(p): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let max = p.config().max_upload_bytes;
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > max + (4 << 20) {
            return Err(upload_too_large(max));
        }
    }
    let mut mp = mp.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!(
                "send multipart/form-data with a 'file' part: {}",
                e.body_text()
            ),
        )
    })?;
    let mut file = TempFile(None);
    let (mut caption, mut sound_id, mut poster, mut sound_title) =
        (String::new(), None, None, None);
    while let Some(mut field) = mp.next_field().await.map_err(|e| multipart_error(e, max))? {
        match field.name().unwrap_or("") {
            "file" => {
                let path = p.tmp_dir().join(format!("upload-{:016x}.part", rand_u64()));
                file.0 = Some(path.clone());
                let mut f = tokio::fs::File::create(&path)
                    .await
                    .map_err(ApiError::internal)?;
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, max))? {
                    size += chunk.len() as u64;
                    if size > max {
                        return Err(upload_too_large(max));
                    }
                    f.write_all(&chunk).await.map_err(ApiError::internal)?;
                }
                f.flush().await.map_err(ApiError::internal)?;
            }
            "caption" => caption = field.text().await.map_err(|e| multipart_error(e, max))?,
            "sound_id" => {
                let t = field.text().await.map_err(|e| multipart_error(e, max))?;
                if !t.trim().is_empty() {
                    sound_id = Some(t.trim().parse::<SoundId>().map_err(|_| {
                        ApiError::bad_request(format!("sound_id: '{t}' is not a sound id"))
                    })?);
                }
            }
            "sound_title" => {
                sound_title = Some(field.text().await.map_err(|e| multipart_error(e, max))?)
            }
            "poster" => {
                poster = Some(
                    field
                        .bytes()
                        .await
                        .map_err(|e| multipart_error(e, max))?
                        .to_vec(),
                )
            }
            other => {
                return Err(ApiError::bad_request(format!(
                "unknown form field '{other}'; send file, caption, sound_id, sound_title, poster"
            )))
            }
        }
    }
    let path = file.0.clone().ok_or_else(|| {
        ApiError::bad_request("the form has no 'file' part; attach the video as 'file'")
    })?;
    let input = UploadInput {
        file: path,
        caption,
        sound_id,
        poster,
        sound_title,
    };
    let view = blocking(&p, move |p| p.upload(&caller, input)).await?;
    file.0 = None;
    Ok((StatusCode::CREATED, Json(view)))
}

fn rand_u64() -> u64 {
    use rand::Rng;
    rand::thread_rng().gen()
}

async fn video(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
) -> Result<Json<views::VideoView>, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    Ok(Json(p.video_view(id, c.map(|c| c.user))?))
}

async fn delete_video(
    State(p): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    blocking(&p, move |p| p.delete_video(&caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Parses a single `bytes=` range against `size`: `Ok(None)` for no header, `Err` for 416.
fn parse_range(h: Option<&HeaderValue>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    const MAX_CHUNK: u64 = 4 << 20;
    let Some(v) = h.and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    let first = spec.split(',').next().unwrap_or("").trim();
    let (a, b) = first.split_once('-').ok_or(())?;
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size.saturating_sub(1))
    } else {
        let s: u64 = a.parse().map_err(|_| ())?;
        let e = if b.is_empty() {
            s.saturating_add(MAX_CHUNK - 1)
        } else {
            b.parse().map_err(|_| ())?
        };
        (s, e.min(size.saturating_sub(1)))
    };
    if start >= size || start > end {
        return Err(());
    }
    Ok(Some((start, end)))
}

async fn media(
    State(p): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    let size = blocking(&p, move |p| p.media_size(id)).await?;
    let range = match parse_range(headers.get(header::RANGE), size) {
        Ok(r) => r,
        Err(()) => {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "bad_range",
                format!("the range is outside the file of {size} bytes"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    let (mime, total, bytes) = blocking(&p, move |p| p.read_media(id, false, range)).await?;
    let mut res = Response::new(axum::body::Body::from(bytes));
    let h = res.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some((s, e)) = range {
        *res.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {s}-{e}/{total}")) {
            res.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(res)
}

async fn poster(State(p): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    let (mime, _, bytes) = blocking(&p, move |p| p.read_media(id, true, None)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=86400".into()),
        ],
        bytes,
    )
        .into_response())
}

async fn comments(
    State(p): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    let list = p.read_world(|w| {
        w.videos.contains_key(&id).then(|| {
            w.comments
                .get(&id)
                .into_iter()
                .flatten()
                .map(|c| json!({"id": c.id, "author": {"id": c.author, "handle": views::handle_of(w, c.author)}, "text": c.text, "created_ms": c.created_ms}))
                .collect::<Vec<_>>()
        })
    })?;
    let list = list.ok_or_else(|| ApiError::not_found(format!("no video with id {id}")))?;
    Ok(Json(json!({"comments": list})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBatch {
    events: Vec<EventInput>,
}

async fn events(
    State(p): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let batch: EventBatch = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the event batch is not valid: {e}")))?;
    let results = blocking(&p, move |p| p.record_events(&caller, &batch.events)).await?;
    let accepted = results.iter().filter(|r| !r.duplicate).count();
    Ok(Json(
        json!({"accepted": accepted, "duplicates": results.len() - accepted, "results": results}),
    ))
}

async fn feed(
    State(p): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = match q.get("limit") {
        None => 10,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit: '{s}' is not a number from 1 to 50"
                )))
            }
        },
    };
    let cursor = match q.get("cursor") {
        None => 0,
        Some(s) => s.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!(
                "cursor: '{s}' is not a cursor from an earlier page"
            ))
        })?,
    };
    let personalised = match q.get("personalized").map(String::as_str) {
        None | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "personalized: '{o}' is not true or false"
            )))
        }
    };
    let kind = match q.get("mode").map(String::as_str) {
        None | Some("foryou") => FeedKind::ForYou { personalised },
        Some("following") => FeedKind::Following,
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "mode: '{o}' is not foryou or following"
            )))
        }
    };
    let items = blocking(&p, move |p| p.feed(&caller, kind, limit, cursor)).await?;
    let paged = !matches!(kind, FeedKind::ForYou { personalised: true });
    let next = if paged && items.len() == limit {
        Some((cursor + limit).to_string())
    } else {
        None
    };
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

async fn refresh(State(p): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    blocking(&p, move |p| p.refresh_interests(&caller)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn resolve_user(p: &Platform, handle_or_id: &str) -> Result<UserId, ApiError> {
    if let Some(id) = p.user_by_handle(handle_or_id)? {
        return Ok(id);
    }
    let id: Option<UserId> = handle_or_id.parse().ok();
    match id {
        Some(id) if p.read_world(|w| w.users.contains_key(&id))? => Ok(id),
        _ => Err(ApiError::not_found(format!("no user '{handle_or_id}'"))),
    }
}

async fn profile(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(h): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = resolve_user(&p, &h)?;
    Ok(Json(p.read_world(|w| {
        views::profile(w, id, c.map(|c| c.user))
    })?))
}

async fn user_videos(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(h): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = resolve_user(&p, &h)?;
    let viewer = c.map(|c| c.user);
    let list = p.read_world(|w| {
        let mut ids = w.by_creator.get(&id).cloned().unwrap_or_default();
        ids.reverse();
        ids.into_iter()
            .filter_map(|v| views::video(w, v, viewer))
            .collect::<Vec<_>>()
    })?;
    Ok(Json(json!({"videos": list})))
}

async fn sound(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: SoundId = parse_id("sound", &id)?;
    let viewer = c.map(|c| c.user);
    let out = p.read_world(|w| {
        let s = w.sounds.get(&id)?;
        let mut ids = w.by_sound.get(&id).cloned().unwrap_or_default();
        ids.reverse();
        let videos: Vec<_> = ids
            .into_iter()
            .filter_map(|v| views::video(w, v, viewer))
            .collect();
        Some(json!({
            "id": s.id, "title": s.title, "origin_video": s.origin,
            "creator": {"id": s.creator, "handle": views::handle_of(w, s.creator)},
            "video_count": videos.len(), "videos": videos
        }))
    })?;
    out.map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no sound with id {id}")))
}

async fn admin_users(State(p): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    require(&caller, &[Role::Admin])?;
    let users = p.read_world(|w| {
        let mut v: Vec<Value> = w.users.iter().map(|(id, u)| json!({"id": id, "handle": u.handle, "region": u.region, "role": u.role, "created_ms": u.created_ms})).collect();
        v.sort_by(|a, b| a["handle"].as_str().cmp(&b["handle"].as_str()));
        v
    })?;
    Ok(Json(json!({"users": users})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: Role,
}

async fn admin_set_role(
    State(p): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
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
    blocking(&p, move |p| p.set_role(id, b.role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::parse_range;
    use axum::http::HeaderValue;

    fn check(h: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
        parse_range(Some(&HeaderValue::from_str(h).expect("header")), size)
    }

    #[test]
    fn ranges() {
        assert_eq!(check("bytes=0-99", 1000), Ok(Some((0, 99))));
        assert_eq!(check("bytes=900-", 1000), Ok(Some((900, 999))));
        assert_eq!(check("bytes=-100", 1000), Ok(Some((900, 999))));
        assert_eq!(check("bytes=0-5000", 1000), Ok(Some((0, 999))));
        assert_eq!(check("bytes=1000-", 1000), Err(()));
        assert_eq!(check("bytes=5-1", 1000), Err(()));
        assert_eq!(check("items=0-1", 1000), Ok(None));
    }
}
